/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include "cd-document.h"
#include "cd-stage.h"

G_BEGIN_DECLS

/**
 * CdSplitDecision:
 * @CD_SPLIT_CONTINUE: the page continues the current document
 * @CD_SPLIT_NEW_DOCUMENT: the page starts a new document
 *
 * Since: 0.1
 */
typedef enum {
  CD_SPLIT_CONTINUE,
  CD_SPLIT_NEW_DOCUMENT,
} CdSplitDecision;

#define CD_TYPE_SPLITTER (cd_splitter_get_type())
G_DECLARE_DERIVABLE_TYPE(CdSplitter, cd_splitter, CD, SPLITTER, CdStage)

/**
 * CdSplitterClass:
 * @parent_class: the parent class
 * @decide: look at the next page in scan order and say whether it starts a
 *   new document; may turn the page into a cover sheet or separator with
 *   cd_page_set_kind(), which keeps it out of documents
 *
 * The splitter sees every page of the batch once, in scan order, on one
 * thread, including blank and failed ones (it may use them as hints). The
 * engine always starts a new document at a new source file; @current is the
 * document being assembled, or %NULL when none is open.
 *
 * Since: 0.1
 */
struct _CdSplitterClass {
  CdStageClass parent_class;

  gboolean (*decide)(CdSplitter *self, CdPage *page, CdDocument *current, CdSplitDecision *decision, GError **error);

  /*< private >*/
  gpointer padding[15];
};

gboolean cd_splitter_decide(CdSplitter *self, CdPage *page, CdDocument *current, CdSplitDecision *decision,
                            GError **error);

G_END_DECLS
