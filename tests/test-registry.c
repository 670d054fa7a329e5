/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "cd-engine.h"
#include <glib/gstdio.h>

static CdRegistry *registry_for(const gchar *first, ...) G_GNUC_NULL_TERMINATED;

/* A registry over the given build-tree folders only. */
static CdRegistry *
registry_for(const gchar *first, ...)
{
  CdRegistry *registry = cd_registry_new();
  va_list args;

  va_start(args, first);
  for (const gchar *dir = first; dir != NULL; dir = va_arg(args, const gchar *)) {
    g_autofree gchar *path = g_test_build_filename(G_TEST_BUILT, dir, NULL);
    cd_registry_add_search_path(registry, path);
  }
  va_end(args);
  cd_registry_scan(registry);
  return registry;
}

static const gchar *
failure_for(CdRegistry *registry, const gchar *module)
{
  GPtrArray *failed = cd_registry_get_failed(registry);
  for (guint i = 0; i < failed->len; i++) {
    CdPlugin *plugin = g_ptr_array_index(failed, i);
    if (g_str_has_suffix(cd_plugin_get_filename(plugin), module))
      return cd_plugin_get_error(plugin)->message;
  }
  return NULL;
}

/* The in-tree plugins load through the default paths as third-party ones do. */
static void
test_registry_default_paths(void)
{
  g_autoptr(CdRegistry) registry = cd_registry_new();
  g_autoptr(GError) error = NULL;
  GType type;

  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);
  g_assert_cmpuint(cd_registry_get_failed(registry)->len, ==, 0);
  type = cd_registry_find_stage(registry, "files", &error);
  g_assert_no_error(error);
  g_assert_true(g_type_is_a(type, CD_TYPE_SOURCE));
  g_assert_cmpint(cd_stage_type_get_kind(type), ==, CD_STAGE_KIND_SOURCE);
  type = cd_registry_find_stage(registry, "tesseract", &error);
  g_assert_no_error(error);
  g_assert_cmpint(cd_stage_type_get_kind(type), ==, CD_STAGE_KIND_PAGE);
  g_assert_cmpstr(cd_plugin_get_name(cd_registry_get_stage_plugin(registry, "tesseract")), ==, "tesseract");
}

/* Asking for a stage nobody provides is a NOT_FOUND error naming it. */
static void
test_registry_unknown_stage(void)
{
  g_autoptr(CdRegistry) registry = registry_for("tests/plugins", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint(cd_registry_find_stage(registry, "no-such-stage", &error), ==, G_TYPE_INVALID);
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "'no-such-stage'"));
}

/* Every broken module is refused with its file and the exact reason, and the
 * good plugins beside them still load. */
static void
test_registry_broken(void)
{
  g_autoptr(CdRegistry) registry = registry_for("tests/plugins", "tests/broken-plugins", NULL);
  const gchar *msg;

  g_assert_cmpuint(cd_registry_find_stage(registry, "test-source", NULL), !=, G_TYPE_INVALID);
  g_assert_cmpuint(cd_registry_get_failed(registry)->len, ==, 8);

  msg = failure_for(registry, "cd-plugin-broken-abi-major.so");
  g_assert_nonnull(msg);
  g_assert_nonnull(strstr(msg, "cd-plugin-broken-abi-major.so: built for plugin ABI 2.0, this Chartdesk provides 1.0"));
  msg = failure_for(registry, "cd-plugin-broken-abi-minor.so");
  g_assert_nonnull(strstr(msg, "built for plugin ABI 1.1, newer than this Chartdesk's 1.0"));
  msg = failure_for(registry, "cd-plugin-broken-no-license.so");
  g_assert_nonnull(strstr(msg, "descriptor lacks a name, description, version, licence or init function"));
  msg = failure_for(registry, "cd-plugin-broken-bad-name.so");
  g_assert_nonnull(strstr(msg, "plugin name 'Broken Name' is not of the form [a-z0-9-]+"));
  msg = failure_for(registry, "cd-plugin-broken-init.so");
  g_assert_nonnull(strstr(msg, "plugin 'broken-init' failed to initialise: deliberately fails to initialise"));
  msg = failure_for(registry, "cd-plugin-broken-empty.so");
  g_assert_nonnull(strstr(msg, "plugin 'broken-empty' registered no stages"));
  msg = failure_for(registry, "cd-plugin-broken-clash.so");
  g_assert_nonnull(strstr(msg, "stage 'test-mark' is already provided by plugin 'testing'"));
  msg = failure_for(registry, "cd-plugin-broken-no-symbol.so");
  g_assert_nonnull(strstr(msg, "not a Chartdesk plugin: it does not export cd_plugin_desc"));
}

/* A file that is not a shared object at all is refused with the loader's
 * reason; loading it directly returns the same error. */
static void
test_registry_not_a_module(void)
{
  g_autofree gchar *dir = g_dir_make_tmp("cd-registry-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename(dir, "cd-plugin-garbage.so", NULL);
  g_autoptr(CdRegistry) registry = cd_registry_new();
  g_autoptr(GError) error = NULL;

  g_assert_true(g_file_set_contents(path, "this is not ELF", -1, NULL));
  g_assert_null(cd_registry_load_file(registry, path, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PLUGIN);
  g_assert_true(g_str_has_prefix(error->message, path));
  g_assert_nonnull(strstr(error->message, "cannot load module"));
  g_assert_cmpuint(cd_registry_get_failed(registry)->len, ==, 1);
  g_unlink(path);
  g_rmdir(dir);
}

/* CHARTDESK_PLUGIN_ALLOWLIST keeps every other plugin out, silently. */
static void
test_registry_allowlist(void)
{
  g_autoptr(CdRegistry) registry = NULL;

  g_setenv("CHARTDESK_PLUGIN_ALLOWLIST", "testing", TRUE);
  registry = registry_for("tests/plugins", "tests/broken-plugins", "plugins", NULL);
  g_unsetenv("CHARTDESK_PLUGIN_ALLOWLIST");
  g_assert_cmpuint(cd_registry_get_plugins(registry)->len, ==, 1);
  g_assert_cmpuint(cd_registry_get_failed(registry)->len, ==, 0);
  g_assert_cmpuint(cd_registry_find_stage(registry, "files", NULL), ==, G_TYPE_INVALID);
  g_assert_cmpuint(cd_registry_find_stage(registry, "test-mark", NULL), !=, G_TYPE_INVALID);
}

/* The same plugin found in two folders is taken from the first only. */
static void
test_registry_first_wins(void)
{
  g_autoptr(CdRegistry) registry = registry_for("tests/plugins", "tests/plugins", NULL);
  g_autofree gchar *twice = g_test_build_filename(G_TEST_BUILT, "tests", "plugins", "cd-plugin-testing.so", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint(cd_registry_get_plugins(registry)->len, ==, 1);
  g_assert_null(cd_registry_load_file(registry, twice, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "already loaded"));
}

/* Scanning sets OMP_THREAD_LIMIT=1 before Tesseract can load, unless the
 * user chose a limit. */
static void
test_registry_omp_limit(void)
{
  g_autoptr(CdRegistry) registry = cd_registry_new();

  g_unsetenv("OMP_THREAD_LIMIT");
  cd_registry_scan(registry);
  g_assert_cmpstr(g_getenv("OMP_THREAD_LIMIT"), ==, "1");
  g_setenv("OMP_THREAD_LIMIT", "2", TRUE);
  cd_registry_scan(registry);
  g_assert_cmpstr(g_getenv("OMP_THREAD_LIMIT"), ==, "2");
  g_setenv("OMP_THREAD_LIMIT", "1", TRUE);
}

/* Drops the members that depend on where the tree was built. */
static void
strip_files(JsonNode *root)
{
  JsonArray *plugins = json_object_get_array_member(json_node_get_object(root), "plugins");
  for (guint i = 0; i < json_array_get_length(plugins); i++)
    json_object_remove_member(json_array_get_object_element(plugins, i), "file");
}

/* The description of every shipped plugin, stage and option matches the
 * golden copy, so any change of an option shows in review. Regenerate with
 * CHARTDESK_UPDATE_GOLDEN=1. */
static void
test_registry_golden(void)
{
  g_autoptr(CdRegistry) registry = cd_registry_new();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autofree gchar *golden = g_test_build_filename(G_TEST_DIST, "tests", "plugins.golden.json", NULL);
  g_autofree gchar *actual = NULL;
  g_autofree gchar *expected = NULL;
  g_autoptr(GError) error = NULL;

  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);
  root = cd_registry_to_json(registry);
  strip_files(root);
  actual = json_to_string(root, TRUE);
  if (g_getenv("CHARTDESK_UPDATE_GOLDEN") != NULL) {
    g_autofree gchar *with_nl = g_strconcat(actual, "\n", NULL);
    g_assert_true(g_file_set_contents(golden, with_nl, -1, NULL));
  }
  g_assert_true(g_file_get_contents(golden, &expected, NULL, &error));
  g_assert_no_error(error);
  g_strchomp(expected);
  g_assert_cmpstr(actual, ==, expected);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chartdesk/registry/default-paths", test_registry_default_paths);
  g_test_add_func("/chartdesk/registry/unknown-stage", test_registry_unknown_stage);
  g_test_add_func("/chartdesk/registry/broken", test_registry_broken);
  g_test_add_func("/chartdesk/registry/not-a-module", test_registry_not_a_module);
  g_test_add_func("/chartdesk/registry/allowlist", test_registry_allowlist);
  g_test_add_func("/chartdesk/registry/first-wins", test_registry_first_wins);
  g_test_add_func("/chartdesk/registry/omp-limit", test_registry_omp_limit);
  g_test_add_func("/chartdesk/registry/golden", test_registry_golden);
  return g_test_run();
}
