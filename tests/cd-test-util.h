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
