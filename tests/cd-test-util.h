/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the test programs of core/libchartdesk/tests, tests/ and each plugin.
 */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

/* Removes @path and everything below it; a symbolic link is removed, never
 * followed, so a test cannot delete outside its own temporary folder.
 * Returns whether @path itself is gone. */
static inline gboolean
cd_test_rm_rf(const gchar *path)
{
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const gchar *name;

  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree gchar *child = g_build_filename(path, name, NULL);
    if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
      cd_test_rm_rf(child);
    else
      g_unlink(child);
  }
  return g_rmdir(path) == 0;
}

/* The public test material (/work/shared/data, see its MANIFEST.md):
 * $CD_SHARED_DATA (set by meson for every test), else beside the source
 * tree (a clone at X has it at X/../shared, a worktree at X/../../shared).
 * Returns the path of @relative, or %NULL after marking the running test
 * skipped with a message naming what is missing — a clone outside this
 * workspace has no shared data, and its tests skip rather than fail. */
static inline gchar *
cd_test_shared_data(const gchar *relative)
{
  const gchar *env = g_getenv("CD_SHARED_DATA");
  const gchar *src = g_getenv("G_TEST_SRCDIR");
  gchar *roots[4] = { NULL };
  guint n = 0;
  gchar *found = NULL;

  if (env != NULL && env[0] != '\0')
    roots[n++] = g_strdup(env);
  if (src != NULL) {
    roots[n++] = g_build_filename(src, "..", "shared", "data", NULL);
    roots[n++] = g_build_filename(src, "..", "..", "shared", "data", NULL);
  }
  for (guint i = 0; i < n; i++) {
    gchar *path = g_build_filename(roots[i], relative, NULL);
    if (found == NULL && g_file_test(path, G_FILE_TEST_EXISTS))
      found = path;
    else
      g_free(path);
    g_free(roots[i]);
  }
  if (found == NULL) {
    gchar *message =
        g_strdup_printf("public test data %s not found (set CD_SHARED_DATA to the shared/data folder)", relative);
    g_test_skip(message);
    g_free(message);
  }
  return found;
}
