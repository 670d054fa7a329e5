/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The plugin author's path, end to end: install Chartdesk into a
 * temporary folder, build the example classifier there with nothing but
 * the installed chartdesk-1.pc and headers, and run it with the installed
 * `chartdesk` through CHARTDESK_PLUGIN_PATH.
 */
#include <chartdesk.h>
#include <glib/gstdio.h>
#include <string.h>
#include "cd-test-util.h"

static gchar *root; /* the temporary install, DESTDIR */

static const gchar *
env(const gchar *name)
{
  const gchar *value = g_getenv(name);
  g_assert_nonnull(value);
  return value;
}

/* The installed path of @dir (an install directory of the project). */
static gchar *
installed(const gchar *dir)
{
  if (g_path_is_absolute(dir))
    return g_build_filename(root, dir, NULL);
  return g_build_filename(root, env("CD_PREFIX"), dir, NULL);
}

/* Runs @argv (NULL-terminated) with @envp; asserts it exits 0 unless
 * @status is given. */
static void
run(const gchar *const *argv, gchar **envp, gchar **out, gint *status)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *err = NULL;
  gint wait_status = 0;

  g_assert_true(
      g_spawn_sync(NULL, (gchar **) argv, envp, G_SPAWN_SEARCH_PATH, NULL, NULL, out, &err, &wait_status, &error));
  g_assert_no_error(error);
  if (status != NULL) {
    *status = wait_status;
    return;
  }
  if (!g_spawn_check_wait_status(wait_status, &error))
    g_test_message("%s failed: %s", argv[0], err);
  g_assert_no_error(error);
}

/* The example classifier, compiled against the installed SDK found by
 * pkg-config alone, loads in the installed chartdesk and classifies:
 * a letter as correspondence, anything else "don't know". */
static void
test_example_out_of_tree(void)
{
  g_autofree gchar *destdir = g_build_filename(root, NULL);
  const gchar *install[] = { env("CD_MESON"), "install", "-C", env("CD_BUILD_ROOT"), "--no-rebuild", "--quiet",
                             "--destdir",     destdir,   NULL };
  g_autofree gchar *libdir = installed(env("CD_LIBDIR"));
  g_autofree gchar *pcdir = g_build_filename(libdir, "pkgconfig", NULL);
  g_autofree gchar *pc = g_build_filename(pcdir, "chartdesk-1.pc", NULL);
  g_autofree gchar *pc_text = NULL;
  g_autofree gchar *mypc_dir = g_build_filename(root, "pkgconfig", NULL);
  g_autofree gchar *mypc = g_build_filename(mypc_dir, "chartdesk-1.pc", NULL);
  g_autofree gchar *prefix = installed(env("CD_PREFIX"));
  g_autoptr(GRegex) prefix_line = g_regex_new("^prefix=.*$", G_REGEX_MULTILINE, 0, NULL);
  g_autofree gchar *relocated = NULL;
  g_autofree gchar *replacement = NULL;
  g_autofree gchar *flags = NULL;
  g_auto(GStrv) flag_argv = NULL;
  g_auto(GStrv) cc_argv = NULL;
  g_autofree gchar *plugins = g_build_filename(root, "plugins", NULL);
  g_autofree gchar *module = g_build_filename(plugins, "cd-plugin-example-classifier.so", NULL);
  g_autoptr(GPtrArray) cc = g_ptr_array_new();
  g_autofree gchar *bindir = installed(env("CD_BINDIR"));
  g_autofree gchar *exe = g_build_filename(bindir, "chartdesk", NULL);
  g_autofree gchar *datadir = installed(env("CD_DATADIR"));
  g_autofree gchar *taxonomy = g_build_filename(datadir, "chartdesk", "taxonomy.conf", NULL);
  g_autofree gchar *samples = g_build_filename(root, "samples", NULL);
  g_autofree gchar *letters = g_build_filename(samples, "correspondence", NULL);
  g_autofree gchar *notes = g_build_filename(samples, "progress-note", NULL);
  g_autofree gchar *letter = g_build_filename(letters, "referral.txt", NULL);
  g_autofree gchar *note = g_build_filename(notes, "visit.txt", NULL);
  g_autofree gchar *out = NULL;
  g_autofree gchar *listing = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) envp = g_get_environ();
  g_auto(GStrv) build_envp = g_get_environ();
  JsonArray *results;
  JsonObject *first, *second;

  /* install the whole project into the temporary DESTDIR */
  run(install, NULL, NULL, NULL);
  g_assert_true(g_file_test(pc, G_FILE_TEST_IS_REGULAR));
  g_assert_true(g_file_test(taxonomy, G_FILE_TEST_IS_REGULAR));

  /* the installed .pc says prefix=PREFIX; a copy says where DESTDIR put it */
  g_assert_true(g_file_get_contents(pc, &pc_text, NULL, &error));
  replacement = g_strdup_printf("prefix=%s", prefix);
  relocated = g_regex_replace_literal(prefix_line, pc_text, -1, 0, replacement, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpint(g_mkdir_with_parents(mypc_dir, 0700), ==, 0);
  g_assert_true(g_file_set_contents(mypc, relocated, -1, &error));

  /* build the example against it, as a plugin author would */
  build_envp = g_environ_setenv(g_steal_pointer(&build_envp), "PKG_CONFIG_PATH", mypc_dir, TRUE);
  {
    const gchar *pkgconfig[] = { env("CD_PKG_CONFIG"), "--cflags", "--libs", "chartdesk-1", NULL };
    run(pkgconfig, build_envp, &flags, NULL);
  }
  g_assert_nonnull(strstr(flags, root));
  g_assert_true(g_shell_parse_argv(g_strstrip(flags), NULL, &flag_argv, &error));
  g_assert_cmpint(g_mkdir_with_parents(plugins, 0700), ==, 0);
  /* the compiler command may be several words ("ccache cc") */
  g_assert_true(g_shell_parse_argv(env("CD_CC"), NULL, &cc_argv, &error));
  g_assert_no_error(error);
  for (guint i = 0; cc_argv[i] != NULL; i++)
    g_ptr_array_add(cc, cc_argv[i]);
  g_ptr_array_add(cc, "-shared");
  g_ptr_array_add(cc, "-fPIC");
  g_ptr_array_add(cc, "-Wall");
  g_ptr_array_add(cc, "-Werror");
  g_ptr_array_add(cc, "-o");
  g_ptr_array_add(cc, module);
  g_ptr_array_add(cc, (gpointer) env("CD_EXAMPLE_SOURCE"));
  for (guint i = 0; flag_argv[i] != NULL; i++)
    g_ptr_array_add(cc, flag_argv[i]);
  g_ptr_array_add(cc, NULL);
  run((const gchar *const *) cc->pdata, build_envp, NULL, NULL);
  g_assert_true(g_file_test(module, G_FILE_TEST_IS_REGULAR));

  /* labelled samples for the harness */
  g_assert_cmpint(g_mkdir_with_parents(letters, 0700), ==, 0);
  g_assert_cmpint(g_mkdir_with_parents(notes, 0700), ==, 0);
  g_assert_true(g_file_set_contents(letter,
                                    "RIVERSIDE CLINIC\n\nDear Dr. Brown,\n\nThank you for seeing Mrs. Green.\n\n"
                                    "Sincerely,\nA. White, MD\n",
                                    -1, &error));
  g_assert_true(g_file_set_contents(note, "PROGRESS NOTE\nSubjective: doing well.\n", -1, &error));

  /* run it in the installed chartdesk, loaded from CHARTDESK_PLUGIN_PATH only */
  envp = g_environ_setenv(g_steal_pointer(&envp), "LD_LIBRARY_PATH", libdir, TRUE);
  envp = g_environ_setenv(g_steal_pointer(&envp), "CHARTDESK_PLUGIN_PATH", plugins, TRUE);
  envp = g_environ_setenv(g_steal_pointer(&envp), "CHARTDESK_PLUGIN_SYSTEM_PATH", "", TRUE);
  envp = g_environ_setenv(g_steal_pointer(&envp), "CHARTDESK_TAXONOMY", taxonomy, TRUE);
  {
    const gchar *list[] = { exe, "plugins", NULL };
    run(list, envp, &listing, NULL);
  }
  g_assert_nonnull(strstr(listing, "example-classifier 1.0"));
  g_assert_nonnull(strstr(listing, module));
  g_assert_nonnull(strstr(listing, "letter  [classifier stage]"));
  {
    const gchar *harness[] = { exe, "classify", "test", "--classifier", "letter", "--json", samples, NULL };
    run(harness, envp, &out, NULL);
  }
  node = json_from_string(out, &error);
  g_assert_no_error(error);
  results = json_object_get_array_member(json_node_get_object(node), "samples");
  g_assert_cmpuint(json_array_get_length(results), ==, 2);
  first = json_array_get_object_element(results, 0);
  second = json_array_get_object_element(results, 1);
  g_assert_cmpstr(json_object_get_string_member(first, "predicted"), ==, "correspondence");
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(first, "confidence"), 0.9, 1e-9);
  g_assert_false(json_object_get_boolean_member(first, "review"));
  /* no opinion: the fallback type at 0, for review */
  g_assert_cmpstr(json_object_get_string_member(second, "predicted"), ==, "other");
  g_assert_true(json_object_get_boolean_member(second, "review"));
}

int
main(int argc, char **argv)
{
  gint rc;

  g_test_init(&argc, &argv, NULL);
  root = g_dir_make_tmp("cd-out-of-tree-XXXXXX", NULL);
  g_test_add_func("/chartdesk/example-classifier/out-of-tree", test_example_out_of_tree);
  rc = g_test_run();
  cd_test_rm_rf(root);
  g_free(root);
  return rc;
}
