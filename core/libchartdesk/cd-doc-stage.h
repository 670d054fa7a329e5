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

#define CD_TYPE_DOC_STAGE (cd_doc_stage_get_type())
G_DECLARE_DERIVABLE_TYPE(CdDocStage, cd_doc_stage, CD, DOC_STAGE, CdStage)

/**
 * CdDocStageClass:
 * @parent_class: the parent class
 * @process: work on a whole document: link the patient, find its date
 *
 * Document stages run in scan order on one thread, after the splitter has
 * closed a document and before it is committed. A stage that cannot do its
 * work returns %FALSE with an error; the engine adds the error to the
 * document's problems (sending it to review) and goes on.
 *
 * Since: 0.1
 */
struct _CdDocStageClass {
  CdStageClass parent_class;

  gboolean (*process)(CdDocStage *self, CdDocument *document, GCancellable *cancellable, GError **error);

  /*< private >*/
  gpointer padding[15];
};

gboolean cd_doc_stage_process(CdDocStage *self, CdDocument *document, GCancellable *cancellable, GError **error);

G_END_DECLS
