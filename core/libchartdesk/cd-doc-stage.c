/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-doc-stage.h"
#include "cd-error.h"

/**
 * CdDocStage:
 *
 * The base type of stages that work on whole documents.
 *
 * Since: 0.1
 */

G_DEFINE_ABSTRACT_TYPE(CdDocStage, cd_doc_stage, CD_TYPE_STAGE)

static void
cd_doc_stage_class_init(CdDocStageClass *klass)
{
}

static void
cd_doc_stage_init(CdDocStage *self)
{
}

/**
 * cd_doc_stage_process:
 * @self: a #CdDocStage
 * @document: the document
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The engine's entry to #CdDocStageClass.process.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_doc_stage_process(CdDocStage *self, CdDocument *document, GCancellable *cancellable, GError **error)
{
  CdDocStageClass *klass = CD_DOC_STAGE_GET_CLASS(self);
  g_autoptr(GError) error_local = NULL;

  g_return_val_if_fail(CD_IS_DOC_STAGE(self), FALSE);
  g_return_val_if_fail(CD_IS_DOCUMENT(document), FALSE);

  if (!cd_stage_get_enabled(CD_STAGE(self)) || klass->process == NULL)
    return TRUE;
  if (g_cancellable_set_error_if_cancelled(cancellable, error))
    return FALSE;
  if (!klass->process(self, document, cancellable, &error_local)) {
    if (error_local == NULL)
      g_set_error_literal(&error_local, CD_ERROR, CD_ERROR_INTERNAL, "failed without an error");
    g_propagate_prefixed_error(error, g_steal_pointer(&error_local), "%s: ", cd_stage_get_name(CD_STAGE(self)));
    return FALSE;
  }
  return TRUE;
}
