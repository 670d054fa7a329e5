/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include "cd-page.h"
#include "cd-stage.h"

G_BEGIN_DECLS

#define CD_TYPE_PAGE_STAGE (cd_page_stage_get_type())
G_DECLARE_DERIVABLE_TYPE(CdPageStage, cd_page_stage, CD, PAGE_STAGE, CdStage)

/**
 * CdPageStageClass:
 * @parent_class: the parent class
 * @process: work on one page: transform its image, record findings
 *
 * Page stages run in parallel. The engine makes one instance of each page
 * stage per worker thread, sets the workflow's options on it, starts it on
 * that thread and only ever calls it from that thread, so an instance may
 * keep per-thread state (a Tesseract handle) without locking.
 *
 * @process is only called for pages of kind %CD_PAGE_KIND_PAGE. A stage that
 * cannot do its work on a page returns %FALSE with an error: the engine
 * records the error as a problem of the page, which is then archived and
 * sent to review, and the remaining stages still run. A stage may change a
 * page's kind (a blank-page detector marks %CD_PAGE_KIND_BLANK).
 *
 * Since: 0.1
 */
struct _CdPageStageClass {
  CdStageClass parent_class;

  gboolean (*process)(CdPageStage *self, CdPage *page, GCancellable *cancellable, GError **error);

  /*< private >*/
  gpointer padding[15];
};

gboolean cd_page_stage_process(CdPageStage *self, CdPage *page, GCancellable *cancellable, GError **error);

G_END_DECLS
