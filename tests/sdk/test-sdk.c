/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The plugin SDK as a third party meets it, out of tree.
 *
 * Installs this build into a temporary folder (meson install --destdir),
 * compiles tests/sdk/hello-stage.c against the installed headers alone with
 * `cc $(pkg-config --cflags --libs chartdesk-1)` and the project's warnings
 * as errors, then runs the *installed* chartdesk: `chartdesk plugins --json`
 * must list the new plugin with its options, and a workflow using its stage
 * must archive pages carrying the facts the stage wrote.
 *
 * The installed chartdesk-1.pc names the configured prefix (/usr/local by
 * default), which is not where a --destdir install put the files. The test
 * copies it with its `prefix=` line pointing into the destdir; every other
 * path in it is relative to ${prefix}. (PKG_CONFIG_SYSROOT_DIR would also
 * prefix the system packages chartdesk-1 requires, and --define-prefix
 * guesses the prefix from the folder, which fails for multiarch libdirs like
 * lib/x86_64-linux-gnu.)
 *
 * meson sets CD_MESON, CD_CC, CD_PKG_CONFIG, CD_BUILD_ROOT, CD_PREFIX,
 * CD_LIBDIR and CD_BINDIR (as for plugins/example-classifier's out-of-tree
 * test); G_TEST_SRCDIR is the source root.
 *
 * The install and the build are made once, on first use, in a temporary
 * folder removed when the program ends normally. A failed assertion aborts
 * the program and leaves the folder behind for inspection (about 2 MB); its
 * path is on stderr.
 */
#include <chartdesk.h>
#include <glib/gstdio.h>
#include <string.h>

/* One finished command: what ran, how it ended, what it printed. */
typedef struct {
  gchar *line; /* the command line, for failure reports */
  gint status; /* exit status; -1 if it did not start or was killed */
  gchar *out;  /* stdout */
  gchar *err;  /* stderr, or why it did not start */
} Run;

static void
run_free(Run *run)
{
  if (run == NULL)
    return;
  g_free(run->line);
  g_free(run->out);
  g_free(run->err);
  g_free(run);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Run, run_free)

/* The install and the plugin build every case shares, made once on first
 * use (so a single case runs alone with -p) and removed at exit. A step
 * that fails leaves the later ones NULL; the case about that step reports
 * it, the cases that need it fail on it. */
typedef struct {
  gchar *tmp;        /* everything below; removed at exit */
  gchar *dest;       /* the DESTDIR */
  gchar *root;       /* where the configured prefix landed in it */
  gchar *libdir;     /* the installed libdir */
  gchar *exe;        /* the installed chartdesk */
  gchar *pc;         /* the installed chartdesk-1.pc */
  gchar *pcdir;      /* the relocated copy's folder, for PKG_CONFIG_PATH */
  gchar *plugins;    /* CHARTDESK_PLUGIN_PATH of the installed chartdesk */
  gchar *module;     /* hello-stage.c built there */
  gchar **cflags;    /* pkg-config --cflags, split */
  Run *install;      /* meson install */
  Run *pc_cflags;    /* pkg-config --cflags */
  Run *pc_libs;      /* pkg-config --libs */
  Run *pc_plugindir; /* pkg-config --variable=plugindir */
  Run *compile;      /* cc … hello-stage.c */
} Sdk;

static Sdk *sdk;

static const gchar *
env(const gchar *name)
{
  const gchar *value = g_getenv(name);
  g_assert_nonnull(value);
  return value;
}

/* @dir (an install directory of the project) inside the DESTDIR. */
static gchar *
installed(const gchar *dest, const gchar *dir)
{
  if (g_path_is_absolute(dir))
    return g_build_filename(dest, dir, NULL);
  return g_build_filename(dest, env("CD_PREFIX"), dir, NULL);
}

/* Runs @argv (NULL-terminated, searched in PATH) in @cwd with @envp (NULL:
 * ours) to the end; never fails, the outcome is in the Run. */
static Run *
run(const gchar *const *argv, gchar **envp, const gchar *cwd)
{
  g_autoptr(GError) error = NULL;
  Run *r = g_new0(Run, 1);
  gint wait_status = 0;

  r->line = g_strjoinv(" ", (gchar **) argv);
  if (!g_spawn_sync(cwd, (gchar **) argv, envp, G_SPAWN_SEARCH_PATH, NULL, NULL, &r->out, &r->err, &wait_status,
                    &error)) {
    r->status = -1;
    r->err = g_strdup(error->message);
    r->out = g_strdup("");
    return r;
  }
  if (g_spawn_check_wait_status(wait_status, &error))
    r->status = 0;
  else if (error->domain == G_SPAWN_EXIT_ERROR)
    r->status = error->code;
  else
    r->status = -1;
  return r;
}

/* Prints @r to stderr (meson --print-errorlogs shows it): the GLib of our
 * minimum version prints g_test_message only with --verbose or --tap. */
static void
describe(const Run *r)
{
  if (r == NULL) {
    g_printerr("(not run: an earlier step failed)\n");
    return;
  }
  g_printerr("$ %s\nstatus %d\n--- stdout\n%s\n--- stderr\n%s\n", r->line, r->status, r->out, r->err);
}

/* Asserts @r ran and exited with @status, describing it if not. */
static void
assert_status(const Run *r, gint status)
{
  if (r == NULL || r->status != status)
    describe(r);
  g_assert_nonnull(r);
  g_assert_cmpint(r->status, ==, status);
}

static gboolean
contains(const gchar *haystack, const gchar *needle)
{
  return haystack != NULL && strstr(haystack, needle) != NULL;
}

/* Installs, relocates the .pc, asks pkg-config, builds the plugin and
 * writes the workflow using it; stops at the first step that fails. */
static void
sdk_setup(Sdk *s)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *bindir = NULL;
  g_autofree gchar *pc_text = NULL;
  g_autofree gchar *prefix_line = NULL;
  g_autofree gchar *relocated = NULL;
  g_autofree gchar *mypc = NULL;
  g_autofree gchar *workflow = NULL;
  g_autoptr(GRegex) prefix_re = g_regex_new("^prefix=.*$", G_REGEX_MULTILINE, 0, NULL);
  g_auto(GStrv) build_envp = NULL;
  g_auto(GStrv) cc = NULL;
  g_auto(GStrv) libs = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_autofree gchar *hello_dir = NULL;
  /* the warnings the project builds itself with (meson.build), as errors */
  static const gchar *const warnings[] = { "-std=gnu11",
                                           "-Wall",
                                           "-Wextra",
                                           "-Wno-unused-parameter",
                                           "-Wno-missing-field-initializers",
                                           "-Wmissing-prototypes",
                                           "-Wstrict-prototypes",
                                           "-Wshadow",
                                           "-Wformat=2",
                                           "-Wimplicit-fallthrough",
                                           "-Wnull-dereference",
                                           "-Werror",
                                           NULL };

  s->tmp = g_dir_make_tmp("cd-sdk-XXXXXX", &error);
  g_assert_no_error(error);
  /* on stderr, which meson shows when the test fails */
  g_printerr("working in %s (removed at the end; a failed assertion aborts and leaves it to inspect)\n", s->tmp);
  s->dest = g_build_filename(s->tmp, "dest", NULL);
  s->root = installed(s->dest, env("CD_PREFIX"));
  s->libdir = installed(s->dest, env("CD_LIBDIR"));
  bindir = installed(s->dest, env("CD_BINDIR"));
  s->exe = g_build_filename(bindir, "chartdesk", NULL);
  s->pc = g_build_filename(s->libdir, "pkgconfig", "chartdesk-1.pc", NULL);
  s->pcdir = g_build_filename(s->tmp, "pkgconfig", NULL);
  s->plugins = g_build_filename(s->tmp, "plugins", NULL);
  hello_dir = g_build_filename(s->plugins, "hello", NULL);
  s->module = g_build_filename(hello_dir, "cd-plugin-hello.so", NULL);

  {
    const gchar *argv_install[] = { env("CD_MESON"), "install", "-C", env("CD_BUILD_ROOT"), "--no-rebuild", "--quiet",
                                    "--destdir",     s->dest,   NULL };
    s->install = run(argv_install, NULL, NULL);
  }
  if (s->install->status != 0 || !g_file_get_contents(s->pc, &pc_text, NULL, NULL))
    return;

  /* the installed .pc says prefix=PREFIX; a copy says where DESTDIR put it */
  prefix_line = g_strdup_printf("prefix=%s", s->root);
  relocated = g_regex_replace_literal(prefix_re, pc_text, -1, 0, prefix_line, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpint(g_mkdir_with_parents(s->pcdir, 0700), ==, 0);
  mypc = g_build_filename(s->pcdir, "chartdesk-1.pc", NULL);
  g_assert_true(g_file_set_contents(mypc, relocated, -1, &error));
  g_assert_no_error(error);

  build_envp = g_environ_setenv(g_get_environ(), "PKG_CONFIG_PATH", s->pcdir, TRUE);
  {
    const gchar *cflags[] = { env("CD_PKG_CONFIG"), "--cflags", "chartdesk-1", NULL };
    const gchar *lflags[] = { env("CD_PKG_CONFIG"), "--libs", "chartdesk-1", NULL };
    const gchar *plugindir[] = { env("CD_PKG_CONFIG"), "--variable=plugindir", "chartdesk-1", NULL };
    s->pc_cflags = run(cflags, build_envp, NULL);
    s->pc_libs = run(lflags, build_envp, NULL);
    s->pc_plugindir = run(plugindir, build_envp, NULL);
  }
  if (s->pc_cflags->status != 0)
    return;
  g_assert_true(g_shell_parse_argv(g_strstrip(s->pc_cflags->out), NULL, &s->cflags, &error));
  g_assert_no_error(error);
  if (s->pc_libs->status != 0)
    return;
  g_assert_true(g_shell_parse_argv(g_strstrip(s->pc_libs->out), NULL, &libs, &error));
  g_assert_no_error(error);

  /* a plugin including only <chartdesk.h>, as its author would build it */
  g_assert_true(g_shell_parse_argv(env("CD_CC"), NULL, &cc, &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_mkdir_with_parents(hello_dir, 0700), ==, 0);
  for (guint i = 0; cc[i] != NULL; i++)
    g_ptr_array_add(argv, cc[i]);
  for (guint i = 0; warnings[i] != NULL; i++)
    g_ptr_array_add(argv, (gpointer) warnings[i]);
  g_ptr_array_add(argv, "-shared");
  g_ptr_array_add(argv, "-fPIC");
  g_ptr_array_add(argv, "-o");
  g_ptr_array_add(argv, s->module);
  g_ptr_array_add(argv, (gpointer) g_test_get_filename(G_TEST_DIST, "tests", "sdk", "hello-stage.c", NULL));
  for (guint i = 0; s->cflags[i] != NULL; i++)
    g_ptr_array_add(argv, s->cflags[i]);
  for (guint i = 0; libs[i] != NULL; i++)
    g_ptr_array_add(argv, libs[i]);
  g_ptr_array_add(argv, NULL);
  s->compile = run((const gchar *const *) argv->pdata, build_envp, s->tmp);

  /* a workflow using its stage, found through CHARTDESK_WORKFLOW_PATH */
  workflow = g_build_filename(s->tmp, "hello.workflow", NULL);
  g_assert_true(g_file_set_contents(workflow,
                                    "[workflow]\nname=hello\nsource=files\npage-stages=hello\nworkers=1\n\n"
                                    "[hello]\ngreeting=good morning\nshout=true\n",
                                    -1, &error));
  g_assert_no_error(error);
}

static Sdk *
sdk_get(void)
{
  if (sdk == NULL) {
    sdk = g_new0(Sdk, 1);
    sdk_setup(sdk);
  }
  return sdk;
}

/* The shared setup for the cases that run the installed chartdesk with the
 * plugin: it must have installed and built. */
static Sdk *
sdk_get_built(void)
{
  Sdk *s = sdk_get();

  assert_status(s->install, 0);
  assert_status(s->compile, 0);
  return s;
}

static void
rm_rf(const gchar *path)
{
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const gchar *name;

  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree gchar *child = g_build_filename(path, name, NULL);
    if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
      rm_rf(child);
    else
      g_unlink(child);
  }
  g_rmdir(path);
}

static void
sdk_free(Sdk *s)
{
  if (s == NULL)
    return;
  if (s->tmp != NULL)
    rm_rf(s->tmp);
  g_free(s->tmp);
  g_free(s->dest);
  g_free(s->root);
  g_free(s->libdir);
  g_free(s->exe);
  g_free(s->pc);
  g_free(s->pcdir);
  g_free(s->plugins);
  g_free(s->module);
  g_strfreev(s->cflags);
  run_free(s->install);
  run_free(s->pc_cflags);
  run_free(s->pc_libs);
  run_free(s->pc_plugindir);
  run_free(s->compile);
  g_free(s);
}

/* The environment of the installed chartdesk: its library, its plugins and
 * ours, no workflow or plugin from the build tree. */
static gchar **
installed_environ(const Sdk *s)
{
  g_auto(GStrv) ours = g_get_environ();
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  g_autofree gchar *system_plugins = g_build_filename(s->libdir, "chartdesk-1", "plugins", NULL);
  g_autofree gchar *ld = g_strconcat("LD_LIBRARY_PATH=", s->libdir, NULL);
  g_autofree gchar *path = g_strconcat("CHARTDESK_PLUGIN_PATH=", s->plugins, NULL);
  g_autofree gchar *system_path = g_strconcat("CHARTDESK_PLUGIN_SYSTEM_PATH=", system_plugins, NULL);
  g_autofree gchar *workflows = g_strconcat("CHARTDESK_WORKFLOW_PATH=", s->tmp, NULL);

  for (guint i = 0; ours[i] != NULL; i++)
    if (!g_str_has_prefix(ours[i], "CHARTDESK_") && !g_str_has_prefix(ours[i], "LD_LIBRARY_PATH=") &&
        !g_str_has_prefix(ours[i], "OMP_THREAD_LIMIT="))
      g_strv_builder_add(b, ours[i]);
  g_strv_builder_add_many(b, ld, path, system_path, workflows, "OMP_THREAD_LIMIT=1", NULL);
  return g_strv_builder_end(b);
}

/* Runs the installed chartdesk with @args (NULL-terminated). */
static Run *
chartdesk(const Sdk *s, const gchar *const *args)
{
  g_auto(GStrv) envp = installed_environ(s);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();

  g_ptr_array_add(argv, s->exe);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, (gpointer) args[i]);
  g_ptr_array_add(argv, NULL);
  return run((const gchar *const *) argv->pdata, envp, s->tmp);
}

static JsonNode *
parse(const Run *r)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string(r->out, &error);

  if (error != NULL)
    describe(r);
  g_assert_no_error(error);
  g_assert_nonnull(node);
  return node;
}

/* meson install puts headers, pkg-config file, library, program and
 * plugins under the DESTDIR. */
static void
test_install(void)
{
  Sdk *s = sdk_get();
  g_autofree gchar *header = g_build_filename(s->root, "include", "chartdesk-1", "chartdesk.h", NULL);
  g_autofree gchar *files = g_build_filename(s->libdir, "chartdesk-1", "plugins", "cd-plugin-files.so", NULL);
  g_autofree gchar *library = g_build_filename(s->libdir, "libchartdesk-1.so", NULL);

  assert_status(s->install, 0);
  g_assert_true(g_file_test(header, G_FILE_TEST_IS_REGULAR));
  g_assert_true(g_file_test(s->pc, G_FILE_TEST_IS_REGULAR));
  g_assert_true(g_file_test(library, G_FILE_TEST_EXISTS));
  g_assert_true(g_file_test(s->exe, G_FILE_TEST_IS_EXECUTABLE));
  g_assert_true(g_file_test(files, G_FILE_TEST_IS_REGULAR));
}

/* pkg-config answers from the relocated installed .pc alone: the installed
 * headers, library and plugin folder, nothing from the source tree. */
static void
test_pkg_config(void)
{
  Sdk *s = sdk_get();
  g_autofree gchar *include = g_strdup_printf("-I%s/include/chartdesk-1", s->root);
  g_autofree gchar *libflag = g_strdup_printf("-L%s", s->libdir);
  g_autofree gchar *plugindir = g_build_filename(s->libdir, "chartdesk-1", "plugins", NULL);
  const gchar *source = g_test_get_dir(G_TEST_DIST);

  assert_status(s->pc_cflags, 0);
  assert_status(s->pc_libs, 0);
  assert_status(s->pc_plugindir, 0);
  g_assert_true(g_strv_contains((const gchar *const *) s->cflags, include));
  g_assert_false(contains(s->pc_cflags->out, source));
  g_assert_true(contains(s->pc_libs->out, libflag));
  g_assert_true(contains(s->pc_libs->out, "-lchartdesk-1"));
  g_assert_cmpstr(g_strstrip(s->pc_plugindir->out), ==, plugindir);
}

/* A plugin including only <chartdesk.h> builds out of tree with the
 * project's warnings as errors. */
static void
test_build_plugin(void)
{
  Sdk *s = sdk_get();

  assert_status(s->compile, 0);
  g_assert_true(g_file_test(s->module, G_FILE_TEST_IS_REGULAR));
}

/* The umbrella header also compiles as C++ (G_BEGIN_DECLS everywhere). */
static void
test_cxx_header(void)
{
  Sdk *s = sdk_get();
  const gchar *cxx_name = g_getenv("CXX") != NULL ? g_getenv("CXX") : "c++";
  g_autofree gchar *cxx = g_find_program_in_path(cxx_name);
  g_autofree gchar *source = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_autoptr(GError) error = NULL;
  g_autoptr(Run) r = NULL;

  if (cxx == NULL) {
    g_test_skip("no C++ compiler");
    return;
  }
  assert_status(s->pc_cflags, 0);
  source = g_build_filename(s->tmp, "header.cpp", NULL);
  g_assert_true(
      g_file_set_contents(source, "#include <chartdesk.h>\nint main() { return CD_ERROR_FAILED; }\n", -1, &error));
  g_assert_no_error(error);
  g_ptr_array_add(argv, cxx);
  g_ptr_array_add(argv, "-Wall");
  g_ptr_array_add(argv, "-Werror");
  g_ptr_array_add(argv, "-fsyntax-only");
  g_ptr_array_add(argv, source);
  for (guint i = 0; s->cflags[i] != NULL; i++)
    g_ptr_array_add(argv, s->cflags[i]);
  g_ptr_array_add(argv, NULL);
  r = run((const gchar *const *) argv->pdata, NULL, s->tmp);
  assert_status(r, 0);
}

/* The installed `chartdesk plugins --json` lists the plugin from its own
 * folder, its page stage and its options with their defaults, beside the
 * installed plugins, and nothing failed to load. */
static void
test_plugins_json(void)
{
  Sdk *s = sdk_get_built();
  const gchar *args[] = { "plugins", "--json", NULL };
  g_autoptr(Run) r = chartdesk(s, args);
  g_autoptr(JsonNode) node = NULL;
  JsonObject *listing;
  JsonArray *plugins;
  JsonObject *hello = NULL;
  JsonObject *stage;
  JsonArray *options;
  gboolean greeting = FALSE, shout = FALSE, files = FALSE;

  assert_status(r, 0);
  node = parse(r);
  listing = json_node_get_object(node);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(listing, "failed")), ==, 0);
  plugins = json_object_get_array_member(listing, "plugins");
  for (guint i = 0; i < json_array_get_length(plugins); i++) {
    JsonObject *p = json_array_get_object_element(plugins, i);
    const gchar *name = json_object_get_string_member(p, "name");
    if (g_strcmp0(name, "hello") == 0)
      hello = p;
    /* the installed plugins, not the build tree's */
    if (g_strcmp0(name, "files") == 0)
      files = g_str_has_prefix(json_object_get_string_member(p, "file"), s->dest);
  }
  g_assert_true(files);
  g_assert_nonnull(hello);
  g_assert_cmpstr(json_object_get_string_member(hello, "file"), ==, s->module);
  g_assert_cmpstr(json_object_get_string_member(hello, "version"), ==, "0.1");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(hello, "stages")), ==, 1);
  stage = json_array_get_object_element(json_object_get_array_member(hello, "stages"), 0);
  g_assert_cmpstr(json_object_get_string_member(stage, "name"), ==, "hello");
  g_assert_cmpstr(json_object_get_string_member(stage, "kind"), ==, "page");
  options = json_object_get_array_member(stage, "options");
  for (guint i = 0; i < json_array_get_length(options); i++) {
    JsonObject *o = json_array_get_object_element(options, i);
    const gchar *name = json_object_get_string_member(o, "name");
    if (g_strcmp0(name, "greeting") == 0) {
      g_assert_cmpstr(json_object_get_string_member(o, "type"), ==, "string");
      g_assert_cmpstr(json_object_get_string_member(o, "default"), ==, "hello");
      greeting = TRUE;
    } else if (g_strcmp0(name, "shout") == 0) {
      g_assert_cmpstr(json_object_get_string_member(o, "type"), ==, "boolean");
      g_assert_cmpstr(json_object_get_string_member(o, "default"), ==, "false");
      shout = TRUE;
    }
  }
  g_assert_true(greeting);
  g_assert_true(shout);
}

/* A workflow using the stage runs in the installed chartdesk, and every
 * page of the three-page sample is archived with the facts the stage wrote
 * (its options applied, its pixel count read from the image). */
static void
test_workflow(void)
{
  Sdk *s = sdk_get_built();
  g_autofree gchar *archive = g_build_filename(s->tmp, "hello.archive", NULL);
  const gchar *sample = g_test_get_filename(G_TEST_DIST, "samples", "01-discharge-progress.tif", NULL);
  const gchar *ingest_args[] = { "ingest", "--quiet", "--workflow", "hello", archive, sample, NULL };
  const gchar *export_args[] = { "export", "--json", archive, NULL };
  g_autoptr(Run) ingest = chartdesk(s, ingest_args);
  g_autoptr(Run) export = NULL;
  g_auto(GStrv) lines = NULL;
  guint pages = 0;
  gint64 dark = 0;

  assert_status(ingest, 0);
  export = chartdesk(s, export_args);
  assert_status(export, 0);
  lines = g_strsplit(g_strstrip(export->out), "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = json_from_string(lines[i], &error);
    JsonObject *record;
    g_autoptr(JsonArray) records = json_array_new();

    g_assert_no_error(error);
    record = json_node_get_object(node);
    /* a document's pages, or a page outside documents */
    if (json_object_has_member(record, "pages")) {
      JsonArray *doc_pages = json_object_get_array_member(record, "pages");
      for (guint j = 0; j < json_array_get_length(doc_pages); j++)
        json_array_add_element(records, json_node_copy(json_array_get_element(doc_pages, j)));
    } else {
      json_array_add_object_element(records, json_object_ref(record));
    }
    for (guint j = 0; j < json_array_get_length(records); j++) {
      JsonObject *facts = json_object_get_object_member(json_array_get_object_element(records, j), "facts");
      JsonNode *count;

      g_assert_nonnull(facts);
      g_assert_cmpstr(json_object_get_string_member(facts, "hello"), ==, "GOOD MORNING");
      count = json_object_get_member(facts, "hello-dark-pixels");
      g_assert_nonnull(count);
      g_assert_cmpint(json_node_get_value_type(count), ==, G_TYPE_INT64);
      g_assert_cmpint(json_node_get_int(count), >=, 0);
      dark += json_node_get_int(count);
      pages++;
    }
  }
  g_assert_cmpuint(pages, ==, 3);
  g_assert_cmpint(dark, >, 0);
}

/* The plugin's options are validated like any stage's before a page is
 * read: an unknown one is a usage error (status 2) naming it, and no
 * archive is made. */
static void
test_unknown_option(void)
{
  Sdk *s = sdk_get_built();
  g_autofree gchar *archive = g_build_filename(s->tmp, "other.archive", NULL);
  const gchar *sample = g_test_get_filename(G_TEST_DIST, "samples", "01-discharge-progress.tif", NULL);
  const gchar *args[] = {
    "ingest", "--quiet", "--workflow", "hello", "--set", "hello.volume=11", archive, sample, NULL
  };
  g_autoptr(Run) r = chartdesk(s, args);

  assert_status(r, 2);
  g_assert_true(contains(r->err, "stage 'hello' has no option 'volume'"));
  g_assert_false(g_file_test(archive, G_FILE_TEST_EXISTS));
}

/* An error from the plugin's start reaches the user, prefixed with the
 * stage's name, and the run fails. */
static void
test_start_error(void)
{
  Sdk *s = sdk_get_built();
  g_autofree gchar *archive = g_build_filename(s->tmp, "third.archive", NULL);
  const gchar *sample = g_test_get_filename(G_TEST_DIST, "samples", "01-discharge-progress.tif", NULL);
  const gchar *args[] = {
    "ingest", "--quiet", "--workflow", "hello", "--set", "hello.greeting=", archive, sample, NULL
  };
  g_autoptr(Run) r = chartdesk(s, args);

  assert_status(r, 1);
  g_assert_true(contains(r->err, "hello: the greeting must not be empty"));
}

int
main(int argc, char **argv)
{
  gint rc;

  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chartdesk/sdk/install", test_install);
  g_test_add_func("/chartdesk/sdk/pkg-config", test_pkg_config);
  g_test_add_func("/chartdesk/sdk/build-plugin", test_build_plugin);
  g_test_add_func("/chartdesk/sdk/cxx-header", test_cxx_header);
  g_test_add_func("/chartdesk/sdk/plugins-json", test_plugins_json);
  g_test_add_func("/chartdesk/sdk/workflow", test_workflow);
  g_test_add_func("/chartdesk/sdk/unknown-option", test_unknown_option);
  g_test_add_func("/chartdesk/sdk/start-error", test_start_error);
  rc = g_test_run();
  sdk_free(g_steal_pointer(&sdk));
  return rc;
}
