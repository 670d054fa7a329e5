/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>

#include "cd-fuzz.h"
#include "cd-test-util.h"

static gchar *tmpdir;

static void
cd_fuzz_remove_tmpdir(void)
{
  if (tmpdir != NULL)
    cd_test_rm_rf(tmpdir);
  g_clear_pointer(&tmpdir, g_free);
}

const gchar *
cd_fuzz_tmpdir(void)
{
  g_autoptr(GError) error = NULL;

  if (tmpdir != NULL)
    return tmpdir;
  tmpdir = g_dir_make_tmp("chartdesk-fuzz-XXXXXX", &error);
  if (tmpdir == NULL) {
    g_printerr("cannot make a temporary folder: %s\n", error->message);
    exit(1);
  }
  atexit(cd_fuzz_remove_tmpdir);
  return tmpdir;
}

/* A plugin that does not load is a broken build, not an input to survive:
 * stop at once with the reason. */
CdRegistry *
cd_fuzz_registry(const gchar *const *plugins)
{
  g_autoptr(CdRegistry) registry = cd_registry_new();

  for (guint i = 0; plugins[i] != NULL; i++) {
    g_autoptr(GError) error = NULL;
    g_autofree gchar *module = g_strdup_printf("cd-plugin-%s.%s", plugins[i], G_MODULE_SUFFIX);
    g_autofree gchar *path = g_build_filename(CD_BUILD_ROOT, "plugins", plugins[i], module, NULL);
    if (cd_registry_load_file(registry, path, &error) == NULL) {
      g_printerr("%s: %s\n", path, error->message);
      exit(1);
    }
  }
  return g_steal_pointer(&registry);
}

/* A critical is written out, then the process aborts: SIGABRT is what
 * libFuzzer catches to save the input (GLib's own fatal path may end in
 * SIGTRAP, which it does not). */
static GLogWriterOutput
cd_fuzz_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
    return G_LOG_WRITER_HANDLED;
  g_log_writer_default(level, fields, n_fields, user_data);
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
    abort();
  return G_LOG_WRITER_HANDLED;
}

void
cd_fuzz_init_logging(void)
{
  g_log_set_writer_func(cd_fuzz_log_writer, NULL, NULL);
}
