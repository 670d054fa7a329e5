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

#define CD_TYPE_SOURCE (cd_source_get_type())
G_DECLARE_DERIVABLE_TYPE(CdSource, cd_source, CD, SOURCE, CdStage)

/**
 * CdSourceFileCheck:
 * @source: the source asking
 * @path: the file about to be read
 * @sha256: its SHA-256, lowercase hex
 * @reason: (out) (transfer full): why it must be skipped
 * @user_data: data given to cd_source_set_file_check()
 *
 * Asks the engine whether a file should be read at all.
 *
 * Returns: %TRUE to read the file, %FALSE to skip it (already archived)
 *
 * Since: 0.1
 */
typedef gboolean (*CdSourceFileCheck)(CdSource *source, const gchar *path, const gchar *sha256, gchar **reason,
                                      gpointer user_data);

/**
 * CdSourceClass:
 * @parent_class: the parent class
 * @open: take the list of inputs (paths, device names); check what can be
 *   checked without reading pages
 * @next: return the next page in scan order
 *
 * A source produces pages one at a time, so a batch of any length needs only
 * a few pages in memory.
 *
 * @next returns a new page, or %NULL without an error at the end. A file
 * that cannot be read is not an error of the source: it comes back as a page
 * of kind %CD_PAGE_KIND_FAILED naming the file (and page) and the reason, and
 * the source goes on with the next file. %NULL with an error means the source
 * as a whole cannot go on (a scanner unplugged).
 *
 * Before decoding a file, a source hashes it and calls
 * cd_source_check_file(); when that says no, it returns one page of kind
 * %CD_PAGE_KIND_DUPLICATE with page index -1 for the file instead.
 *
 * Since: 0.1
 */
struct _CdSourceClass {
  CdStageClass parent_class;

  gboolean (*open)(CdSource *self, const gchar *const *inputs, GError **error);
  CdPage *(*next)(CdSource *self, GCancellable *cancellable, GError **error);

  /*< private >*/
  gpointer padding[14];
};

void cd_source_set_file_check(CdSource *self, CdSourceFileCheck func, gpointer user_data);
gboolean cd_source_check_file(CdSource *self, const gchar *path, const gchar *sha256, gchar **reason);
void cd_source_set_n_inputs(CdSource *self, guint n_inputs);
guint cd_source_get_n_inputs(CdSource *self);

gchar *cd_source_hash_file(const gchar *path, guint64 *size, GError **error);

gboolean cd_source_open(CdSource *self, const gchar *const *inputs, GError **error);
CdPage *cd_source_next(CdSource *self, GCancellable *cancellable, GError **error);

G_END_DECLS
