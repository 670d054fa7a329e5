/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-error.h"
#include "cd-page-stage.h"

/**
 * CdPageStage:
 *
 * The base type of stages that work on one page at a time.
 *
 * Since: 0.1
 */

G_DEFINE_ABSTRACT_TYPE(CdPageStage, cd_page_stage, CD_TYPE_STAGE)

static void
cd_page_stage_class_init(CdPageStageClass *klass)
{
}

static void
cd_page_stage_init(CdPageStage *self)
{
}

/**
 * cd_page_stage_process:
 * @self: a #CdPageStage
 * @page: the page
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The engine's entry to #CdPageStageClass.process: skips a disabled stage and
 * pages that are not content pages, honours @cancellable, and prefixes every
 * error with the stage's name.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_page_stage_process(CdPageStage *self, CdPage *page, GCancellable *cancellable, GError **error)
{
  CdPageStageClass *klass = CD_PAGE_STAGE_GET_CLASS(self);
  g_autoptr(GError) error_local = NULL;

  g_return_val_if_fail(CD_IS_PAGE_STAGE(self), FALSE);
  g_return_val_if_fail(CD_IS_PAGE(page), FALSE);

  if (!cd_stage_get_enabled(CD_STAGE(self)) || klass->process == NULL)
    return TRUE;
  if (cd_page_get_kind(page) != CD_PAGE_KIND_PAGE)
    return TRUE;
  if (g_cancellable_set_error_if_cancelled(cancellable, error))
    return FALSE;
  if (!klass->process(self, page, cancellable, &error_local)) {
    if (error_local == NULL)
      g_set_error_literal(&error_local, CD_ERROR, CD_ERROR_INTERNAL, "failed without an error");
    g_propagate_prefixed_error(error, g_steal_pointer(&error_local), "%s: ", cd_stage_get_name(CD_STAGE(self)));
    return FALSE;
  }
  return TRUE;
}
