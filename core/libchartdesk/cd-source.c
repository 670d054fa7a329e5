/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-error.h"
#include "cd-source.h"
#include "cd-util-private.h"

/**
 * CdSource:
 *
 * The base type of stages that produce pages.
 *
 * Since: 0.1
 */

typedef struct {
  CdSourceFileCheck check_func;
  gpointer check_data;
  guint n_inputs;
} CdSourcePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE(CdSource, cd_source, CD_TYPE_STAGE)

static void
cd_source_class_init(CdSourceClass *klass)
{
}

static void
cd_source_init(CdSource *self)
{
}

/**
 * cd_source_set_file_check:
 * @self: a #CdSource
 * @func: (nullable) (scope forever): the engine's check
 * @user_data: data for @func
 *
 * Sets the check a source calls on each input file before reading it
 * (cd_source_check_file()): the engine answers whether the file was
 * archived already, so a source skips it. @user_data must outlive the
 * source.
 *
 * Since: 0.1
 */
void
cd_source_set_file_check(CdSource *self, CdSourceFileCheck func, gpointer user_data)
{
  CdSourcePrivate *priv = cd_source_get_instance_private(self);

  g_return_if_fail(CD_IS_SOURCE(self));
  priv->check_func = func;
  priv->check_data = user_data;
}

/**
 * cd_source_check_file:
 * @self: a #CdSource
 * @path: the file about to be read
 * @sha256: its SHA-256
 * @reason: (out) (optional) (transfer full): why it is skipped
 *
 * Returns: %TRUE if the file should be read
 *
 * Since: 0.1
 */
gboolean
cd_source_check_file(CdSource *self, const gchar *path, const gchar *sha256, gchar **reason)
{
  CdSourcePrivate *priv = cd_source_get_instance_private(self);
  g_autofree gchar *reason_local = NULL;

  g_return_val_if_fail(CD_IS_SOURCE(self), TRUE);
  if (priv->check_func == NULL)
    return TRUE;
  if (priv->check_func(self, path, sha256, &reason_local, priv->check_data))
    return TRUE;
  if (reason != NULL)
    *reason = g_steal_pointer(&reason_local);
  return FALSE;
}

/**
 * cd_source_set_n_inputs:
 * @self: a #CdSource
 * @n_inputs: how many files (or sheets) the source expects to read
 *
 * Sources that know their size up front say so, for the progress bar.
 *
 * Since: 0.1
 */
void
cd_source_set_n_inputs(CdSource *self, guint n_inputs)
{
  CdSourcePrivate *priv = cd_source_get_instance_private(self);
  g_return_if_fail(CD_IS_SOURCE(self));
  priv->n_inputs = n_inputs;
}

/**
 * cd_source_get_n_inputs:
 * @self: a #CdSource
 *
 * Returns: the expected number of inputs, 0 if unknown
 *
 * Since: 0.1
 */
guint
cd_source_get_n_inputs(CdSource *self)
{
  CdSourcePrivate *priv = cd_source_get_instance_private(self);
  g_return_val_if_fail(CD_IS_SOURCE(self), 0);
  return priv->n_inputs;
}

/**
 * cd_source_open:
 * @self: a #CdSource
 * @inputs: (array zero-terminated=1): paths or device names
 * @error: return location for a #GError
 *
 * The engine's entry to #CdSourceClass.open; errors are prefixed with the
 * source's name.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_source_open(CdSource *self, const gchar *const *inputs, GError **error)
{
  CdSourceClass *klass = CD_SOURCE_GET_CLASS(self);
  g_autoptr(GError) error_local = NULL;

  g_return_val_if_fail(CD_IS_SOURCE(self), FALSE);
  if (klass->open == NULL)
    return TRUE;
  if (!klass->open(self, inputs, &error_local)) {
    if (error_local == NULL)
      g_set_error(&error_local, CD_ERROR, CD_ERROR_INTERNAL, "open failed without an error");
    g_propagate_prefixed_error(error, g_steal_pointer(&error_local), "%s: ", cd_stage_get_name(CD_STAGE(self)));
    return FALSE;
  }
  return TRUE;
}

/**
 * cd_source_next:
 * @self: a #CdSource
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The engine's entry to #CdSourceClass.next.
 *
 * Returns: (transfer full) (nullable): the next page, %NULL at the end or
 *   on error
 *
 * Since: 0.1
 */
CdPage *
cd_source_next(CdSource *self, GCancellable *cancellable, GError **error)
{
  CdSourceClass *klass = CD_SOURCE_GET_CLASS(self);
  g_autoptr(GError) error_local = NULL;
  CdPage *page;

  g_return_val_if_fail(CD_IS_SOURCE(self), NULL);
  if (g_cancellable_set_error_if_cancelled(cancellable, error))
    return NULL;
  if (klass->next == NULL)
    return NULL;
  page = klass->next(self, cancellable, &error_local);
  if (error_local != NULL) {
    g_clear_object(&page);
    g_propagate_prefixed_error(error, g_steal_pointer(&error_local), "%s: ", cd_stage_get_name(CD_STAGE(self)));
    return NULL;
  }
  return page;
}

/**
 * cd_source_hash_file:
 * @path: a file
 * @size: (out) (optional): its size in bytes
 * @error: return location for a #GError
 *
 * Computes a file's SHA-256, its identity in the archive, reading it in
 * small blocks.
 *
 * Returns: (transfer full): lowercase hex, or %NULL with @error set
 *
 * Since: 0.1
 */
gchar *
cd_source_hash_file(const gchar *path, guint64 *size, GError **error)
{
  g_return_val_if_fail(path != NULL, NULL);
  return cd_file_sha256(path, size, error);
}
