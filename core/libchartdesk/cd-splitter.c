/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-error.h"
#include "cd-splitter.h"

/**
 * CdSplitter:
 *
 * The base type of stages that decide where documents begin.
 *
 * Since: 0.1
 */

G_DEFINE_ABSTRACT_TYPE(CdSplitter, cd_splitter, CD_TYPE_STAGE)

static void
cd_splitter_class_init(CdSplitterClass *klass)
{
}

static void
cd_splitter_init(CdSplitter *self)
{
}

/**
 * cd_splitter_decide:
 * @self: a #CdSplitter
 * @page: the next page in scan order
 * @current: (nullable): the document being assembled
 * @decision: (out): where @page goes
 * @error: return location for a #GError
 *
 * The engine's entry to #CdSplitterClass.decide. A disabled splitter always
 * continues the current document.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_splitter_decide(CdSplitter *self, CdPage *page, CdDocument *current, CdSplitDecision *decision, GError **error)
{
  CdSplitterClass *klass = CD_SPLITTER_GET_CLASS(self);
  g_autoptr(GError) error_local = NULL;

  g_return_val_if_fail(CD_IS_SPLITTER(self), FALSE);
  g_return_val_if_fail(decision != NULL, FALSE);

  *decision = CD_SPLIT_CONTINUE;
  if (!cd_stage_get_enabled(CD_STAGE(self)) || klass->decide == NULL)
    return TRUE;
  if (!klass->decide(self, page, current, decision, &error_local)) {
    if (error_local == NULL)
      g_set_error_literal(&error_local, CD_ERROR, CD_ERROR_INTERNAL, "failed without an error");
    g_propagate_prefixed_error(error, g_steal_pointer(&error_local), "%s: ", cd_stage_get_name(CD_STAGE(self)));
    return FALSE;
  }
  return TRUE;
}
