/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the test programs of core/libchartdesk/tests, tests/ and each plugin.
 */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdarg.h>

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

/* What a run of the command line printed, and how it ended. */
typedef struct {
  gint status; /* the exit status */
  gchar *out;  /* standard output */
  gchar *err;  /* standard error */
} CdTestRun;

static inline void
cd_test_run_clear(CdTestRun *r)
{
  g_clear_pointer(&r->out, g_free);
  g_clear_pointer(&r->err, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CdTestRun, cd_test_run_clear)

/* Runs the build tree's `chartdesk` with @args (NULL-terminated), @input
 * (or nothing) on its standard input, and collects its output; a failing
 * run is described in the test log. */
static inline void
cd_test_chartdesk_stdin(CdTestRun *r, const gchar *input, const gchar *const *args)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  GSubprocess *proc;
  GError *error = NULL;

  g_ptr_array_add(argv, g_test_build_filename(G_TEST_BUILT, "core", "cli", "chartdesk", NULL));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, g_strdup(args[i]));
  g_ptr_array_add(argv, NULL);
  proc = g_subprocess_newv(
      (const gchar *const *) argv->pdata,
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error(error);
  g_subprocess_communicate_utf8(proc, input, NULL, &r->out, &r->err, &error);
  g_assert_no_error(error);
  r->status = g_subprocess_get_exit_status(proc);
  if (r->status != 0)
    g_test_message("chartdesk %s: status %d: %s%s", args[0] != NULL ? args[0] : "", r->status, r->out, r->err);
  g_object_unref(proc);
  g_ptr_array_unref(argv);
}

/* cd_test_chartdesk_stdin() with nothing on standard input. */
static inline void
cd_test_chartdesk_v(CdTestRun *r, const gchar *const *args)
{
  cd_test_chartdesk_stdin(r, NULL, args);
}

/* cd_test_chartdesk_v() with the arguments as a NULL-terminated list. */
static inline void G_GNUC_NULL_TERMINATED
cd_test_chartdesk(CdTestRun *r, const gchar *first, ...)
{
  GPtrArray *args = g_ptr_array_new();
  va_list ap;

  va_start(ap, first);
  for (const gchar *a = first; a != NULL; a = va_arg(ap, const gchar *))
    g_ptr_array_add(args, (gpointer) a);
  va_end(ap);
  g_ptr_array_add(args, NULL);
  cd_test_chartdesk_v(r, (const gchar *const *) args->pdata);
  g_ptr_array_unref(args);
}
