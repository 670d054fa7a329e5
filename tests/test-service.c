/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * chartdeskd for real: each test starts a private dbus-daemon (GTestDBus),
 * runs the built chartdeskd as a subprocess on it, and talks to it through
 * the generated proxy, as `chartdesk` does. Pages are generated G4 TIFFs
 * and the workflow (tests/service/service-test.workflow) has no OCR, so a
 * batch runs at hundreds of pages a second.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <leptonica/allheaders.h>
#include <signal.h>
#include <sqlite3.h>

#include "cd-engine.h"
#include "cd-service-common.h"
#include "cd-test-tiff.h"
#include "cd-test-util.h"

typedef struct {
  gchar *dir;
  gchar *archive;
  gchar *config;
  GDBusConnection *connection;
  GSubprocess *daemon;
  CdDBusChartdesk1 *proxy;
  /* signals seen */
  GPtrArray *progress; /* of GVariant a{sv} */
  guint finished_id;
  gchar *finished_status;
  gchar *finished_report;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp("cd-service-XXXXXX", &error);
  g_assert_no_error(error);
  f->archive = g_build_filename(f->dir, "test.archive", NULL);
  f->config = g_build_filename(f->dir, "chartdeskd.conf", NULL);
  f->progress = g_ptr_array_new_with_free_func((GDestroyNotify) g_variant_unref);
  f->connection = g_dbus_connection_new_for_address_sync(g_getenv("DBUS_SESSION_BUS_ADDRESS"),
                                                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                             G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                         NULL, NULL, &error);
  g_assert_no_error(error);
}

static void
daemon_kill(Fixture *f, gint sig)
{
  if (f->daemon == NULL)
    return;
  g_subprocess_send_signal(f->daemon, sig);
  g_subprocess_wait(f->daemon, NULL, NULL);
  g_clear_object(&f->daemon);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  daemon_kill(f, SIGKILL);
  g_clear_object(&f->proxy);
  g_dbus_connection_close_sync(f->connection, NULL, NULL);
  g_clear_object(&f->connection);
  g_ptr_array_unref(f->progress);
  g_free(f->finished_status);
  g_free(f->finished_report);
  cd_test_rm_rf(f->dir);
  g_free(f->dir);
  g_free(f->archive);
  g_free(f->config);
}

/* Writes the configuration: the test archive, the OCR-free workflow, and @extra groups. */
static void
write_config(Fixture *f, const gchar *extra)
{
  g_autofree gchar *workflows = g_test_build_filename(G_TEST_DIST, "tests", "service", NULL);
  g_autofree gchar *text = g_strdup_printf("[service]\narchive=%s\nworkflow=service-test\nworkflow-path=%s\n"
                                           "state-dir=%s/state\nworkers=2\n\n%s",
                                           f->archive, workflows, f->dir, extra != NULL ? extra : "");
  g_autoptr(GError) error = NULL;
  g_file_set_contents(f->config, text, -1, &error);
  g_assert_no_error(error);
}

static void
pump(guint ms)
{
  gint64 end = g_get_monotonic_time() + ms * 1000;
  while (g_get_monotonic_time() < end) {
    while (g_main_context_iteration(NULL, FALSE))
      ;
    g_usleep(2000);
  }
}

static gboolean
name_has_owner(Fixture *f)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
      f->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
      g_variant_new("(s)", CD_SERVICE_BUS_NAME), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean owned = FALSE;
  if (reply != NULL)
    g_variant_get(reply, "(b)", &owned);
  return owned;
}

static void
on_progress(CdDBusChartdesk1 *proxy, guint id, GVariant *progress, Fixture *f)
{
  g_ptr_array_add(f->progress, g_variant_ref(progress));
}

static void
on_batch_finished(CdDBusChartdesk1 *proxy, guint id, const gchar *status, const gchar *report, Fixture *f)
{
  f->finished_id = id;
  g_free(f->finished_status);
  f->finished_status = g_strdup(status);
  g_free(f->finished_report);
  f->finished_report = g_strdup(report);
}

/* Starts chartdeskd and waits until it owns its name. */
static void
daemon_start(Fixture *f)
{
  g_autofree gchar *exe = g_test_build_filename(G_TEST_BUILT, "core", "service", "chartdeskd", NULL);
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;

  g_assert_null(f->daemon);
  f->daemon = g_subprocess_new(G_SUBPROCESS_FLAGS_NONE, &error, exe, "--config", f->config, NULL);
  g_assert_no_error(error);
  while (!name_has_owner(f)) {
    g_assert_nonnull(g_subprocess_get_identifier(f->daemon));
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(10000);
  }
  if (f->proxy == NULL) {
    f->proxy = cd_dbus_chartdesk1_proxy_new_sync(f->connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                 CD_SERVICE_BUS_NAME, CD_SERVICE_OBJECT_PATH, NULL, &error);
    g_assert_no_error(error);
    g_signal_connect(f->proxy, "progress", G_CALLBACK(on_progress), f);
    g_signal_connect(f->proxy, "batch-finished", G_CALLBACK(on_batch_finished), f);
  }
}

static gchar *
make_inputs(Fixture *f, const gchar *name, guint n_files, guint n_pages, guint32 seed)
{
  return cd_test_make_inputs(f->dir, name, n_files, n_pages, seed);
}

static guint
start_batch(Fixture *f, const gchar *source)
{
  const gchar *sources[] = { source, NULL };
  g_autoptr(GError) error = NULL;
  guint id = 0;

  cd_dbus_chartdesk1_call_start_batch_sync(f->proxy, "", sources, f->archive,
                                           g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0), &id, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(id, >, 0);
  return id;
}

/* Queues a batch of @source held paused (the "paused" option): it reads no
 * page until Resume, so a test does not race the batch. */
static guint
start_batch_paused(Fixture *f, const gchar *source)
{
  const gchar *sources[] = { source, NULL };
  g_autoptr(GVariantBuilder) options = g_variant_builder_new(G_VARIANT_TYPE("a{sv}"));
  g_autoptr(GError) error = NULL;
  guint id = 0;

  g_variant_builder_add(options, "{sv}", "paused", g_variant_new_boolean(TRUE));
  cd_dbus_chartdesk1_call_start_batch_sync(f->proxy, "", sources, f->archive, g_variant_builder_end(options), &id, NULL,
                                           &error);
  g_assert_no_error(error);
  g_assert_cmpuint(id, >, 0);
  return id;
}

/* The batch's members from ListBatches. */
static GVariant *
batch_info(Fixture *f, guint id)
{
  g_autoptr(GVariant) batches = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  GVariant *item;

  cd_dbus_chartdesk1_call_list_batches_sync(f->proxy, &batches, NULL, &error);
  g_assert_no_error(error);
  g_variant_iter_init(&iter, batches);
  while ((item = g_variant_iter_next_value(&iter)) != NULL) {
    guint32 item_id = 0;
    g_variant_lookup(item, "id", "u", &item_id);
    if (item_id == id)
      return item;
    g_variant_unref(item);
  }
  return NULL;
}

static guint
info_uint(GVariant *info, const gchar *key)
{
  guint32 v = 0;
  g_assert_true(g_variant_lookup(info, key, "u", &v));
  return v;
}

static gchar *
info_state(Fixture *f, guint id)
{
  g_autoptr(GVariant) info = batch_info(f, id);
  gchar *state = NULL;
  g_assert_nonnull(info);
  g_variant_lookup(info, "state", "s", &state);
  return state;
}

static void
wait_finished(Fixture *f, guint id, guint seconds)
{
  gint64 deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
  while (f->finished_id != id) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    pump(10);
  }
}

/* The archive's journal status of a batch. */
static gchar *
archive_batch_status(const gchar *archive_path, gint64 batch_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = cd_archive_open(archive_path, CD_ARCHIVE_FLAG_NONE, &error);
  g_autoptr(CdBatchRecord) record = NULL;

  if (archive == NULL)
    return g_strdup("none");
  record = cd_archive_get_batch(archive, batch_id, &error);
  if (record == NULL)
    return g_strdup("none");
  return g_strdup(record->status);
}

/* Rows in the archive's pages table, read beside the writer (WAL). */
static guint
archived_pages(const gchar *archive_path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  guint n = 0;

  if (sqlite3_open_v2(archive_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_busy_timeout(db, 10000) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT count(*) FROM pages", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    n = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

typedef struct {
  GHashTable *pages;     /* "basename#page" → times seen */
  GHashTable *documents; /* "basename" → pages in its document */
  guint n_documents;
  guint n_failed;
} Export;

static void
export_clear(Export *e)
{
  g_clear_pointer(&e->pages, g_hash_table_unref);
  g_clear_pointer(&e->documents, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Export, export_clear)

static void
export_add_page(Export *e, JsonObject *page)
{
  JsonObject *source = json_object_get_object_member(page, "source");
  g_autofree gchar *base = g_path_get_basename(json_object_get_string_member(source, "path"));
  JsonNode *index = json_object_get_member(source, "page");
  g_autofree gchar *key = NULL;

  if (JSON_NODE_HOLDS_NULL(index)) {
    e->n_failed++;
    return;
  }
  key = g_strdup_printf("%s#%" G_GINT64_FORMAT, base, json_node_get_int(index));
  g_hash_table_insert(e->pages, g_strdup(key),
                      GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(e->pages, key)) + 1));
}

/* Reads the archive through the stable export format: every page once,
 * inside its document or as a record of its own. */
static void
export_archive(const gchar *archive_path, Export *e)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = cd_archive_open(archive_path, CD_ARCHIVE_FLAG_NONE, &error);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
  g_auto(GStrv) lines = NULL;

  g_assert_no_error(error);
  e->pages = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  e->documents = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_assert_true(cd_archive_export_jsonl(archive, out, FALSE, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(g_output_stream_write_all(out, "", 1, NULL, NULL, NULL));
  g_output_stream_close(out, NULL, NULL);
  lines = g_strsplit(g_memory_output_stream_get_data(G_MEMORY_OUTPUT_STREAM(out)), "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonObject *obj;
    if (lines[i][0] == '\0')
      continue;
    g_assert_true(json_parser_load_from_data(parser, lines[i], -1, &error));
    obj = json_node_get_object(json_parser_get_root(parser));
    if (json_object_has_member(obj, "pages")) {
      JsonArray *pages = json_object_get_array_member(obj, "pages");
      JsonObject *first = json_array_get_object_element(pages, 0);
      g_autofree gchar *base =
          g_path_get_basename(json_object_get_string_member(json_object_get_object_member(first, "source"), "path"));
      e->n_documents++;
      /* one document per file in this workflow: a second one would be half a document */
      g_assert_false(g_hash_table_contains(e->documents, base));
      g_hash_table_insert(e->documents, g_strdup(base), GUINT_TO_POINTER(json_array_get_length(pages)));
      for (guint p = 0; p < json_array_get_length(pages); p++)
        export_add_page(e, json_array_get_object_element(pages, p));
    } else {
      export_add_page(e, obj);
    }
  }
}

/* Every page of @n_files files of @n_pages pages is archived exactly once,
 * each file whole in one document. */
static void
assert_exactly_once(const gchar *archive, guint n_files, guint n_pages)
{
  g_auto(Export) e = { 0 };

  export_archive(archive, &e);
  g_assert_cmpuint(g_hash_table_size(e.pages), ==, n_files * n_pages);
  for (guint i = 0; i < n_files; i++) {
    g_autofree gchar *base = g_strdup_printf("scan-%04u.tif", i);
    g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(e.documents, base)), ==, n_pages);
    for (guint p = 0; p < n_pages; p++) {
      g_autofree gchar *key = g_strdup_printf("%s#%u", base, p);
      g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(e.pages, key)), ==, 1);
    }
  }
  g_assert_cmpuint(e.n_documents, ==, n_files);
}

/* The journalled report of a batch that was interrupted and resumed says
 * what happened to every page of the batch, once: no page the batch itself
 * archived before an interruption is called a duplicate, and the counts
 * add up to the pages in. */
static void
assert_whole_report(CdArchive *archive, gint64 batch_id, guint n_pages)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatchRecord) record = cd_archive_get_batch(archive, batch_id, &error);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GHashTable) listed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  const gchar *outcomes[] = { "filed", "review", "set-aside", "failed" };
  JsonObject *report;
  JsonArray *items;
  gint64 sum = 0;

  g_assert_no_error(error);
  g_assert_nonnull(record->report);
  g_assert_true(json_parser_load_from_data(parser, record->report, -1, &error));
  report = json_node_get_object(json_parser_get_root(parser));
  g_assert_cmpstr(json_object_get_string_member(report, "status"), ==, "finished");
  g_assert_cmpint(json_object_get_int_member(report, "pages_in"), ==, n_pages);
  g_assert_cmpint(json_object_get_int_member(report, "duplicate"), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS(outcomes); i++)
    sum += json_object_get_int_member(report, outcomes[i]);
  g_assert_cmpint(sum, ==, n_pages);
  items = json_object_get_array_member(report, "items");
  for (guint i = 0; i < json_array_get_length(items); i++) {
    JsonObject *item = json_array_get_object_element(items, i);
    JsonNode *page = json_object_get_member(item, "page");
    g_autofree gchar *key = g_strdup_printf("%s#%" G_GINT64_FORMAT, json_object_get_string_member(item, "path"),
                                            JSON_NODE_HOLDS_NULL(page) ? -1 : json_node_get_int(page));
    g_assert_cmpstr(json_object_get_string_member(item, "outcome"), !=, "duplicate");
    g_assert_true(g_hash_table_add(listed, g_steal_pointer(&key)));
  }
}

/* ------------------------------------------------------------------ tests */

/* The service starts on a private bus, owns its versioned name, says its
 * version, and a second instance is refused while the first runs. */
static void
test_service_start(Fixture *f, gconstpointer data)
{
  g_autofree gchar *exe = g_test_build_filename(G_TEST_BUILT, "core", "service", "chartdeskd", NULL);
  g_autoptr(GSubprocess) second = NULL;
  g_autoptr(GVariant) batches = NULL;
  g_autoptr(GError) error = NULL;

  write_config(f, NULL);
  daemon_start(f);
  g_assert_cmpstr(cd_dbus_chartdesk1_get_version(f->proxy), ==, PACKAGE_VERSION);
  g_assert_cmpstr(cd_dbus_chartdesk1_get_default_archive(f->proxy), ==, f->archive);
  cd_dbus_chartdesk1_call_list_batches_sync(f->proxy, &batches, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_variant_n_children(batches), ==, 0);

  second = g_subprocess_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, exe, "--config", f->config, NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_wait(second, NULL, &error));
  g_assert_false(g_subprocess_get_successful(second));
  g_assert_true(name_has_owner(f));
}

static gint
run_check(const gchar *config, gboolean all_plugins, gchar **err)
{
  g_autofree gchar *exe = g_test_build_filename(G_TEST_BUILT, "core", "service", "chartdeskd", NULL);
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;

  if (all_plugins)
    g_subprocess_launcher_unsetenv(launcher, "CHARTDESK_PLUGIN_ALLOWLIST");
  proc = g_subprocess_launcher_spawn(launcher, &error, exe, "--check", "--config", config, NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, NULL, err, &error));
  return g_subprocess_get_exit_status(proc);
}

/* `chartdeskd --check` accepts the shipped example (its folders made) and
 * refuses a mistyped key, a relative path and a hot folder whose workflow
 * does not load, naming the group and key. */
static void
test_service_config(Fixture *f, gconstpointer data)
{
  g_autofree gchar *example = g_test_build_filename(G_TEST_DIST, "data", "chartdeskd.conf", NULL);
  g_autofree gchar *contents = NULL;
  g_autofree gchar *adapted_file = g_build_filename(f->dir, "example.conf", NULL);
  g_autofree gchar *hot = g_build_filename(f->dir, "hot", NULL);
  g_autofree gchar *err = NULL;
  g_autoptr(GString) adapted = NULL;

  g_assert_true(g_file_get_contents(example, &contents, NULL, NULL));
  adapted = g_string_new(contents);
  g_assert_cmpuint(g_string_replace(adapted, "~/charts/main.archive", f->archive, 0), ==, 1);
  g_assert_cmpuint(g_string_replace(adapted, "~/scans/incoming", hot, 0), >=, 1);
  g_assert_true(g_file_set_contents(adapted_file, adapted->str, -1, NULL));
  g_assert_cmpint(g_mkdir(hot, 0755), ==, 0);
  g_assert_cmpint(run_check(adapted_file, TRUE, &err), ==, 0);
  g_clear_pointer(&err, g_free);

  write_config(f, "[hot-folder x]\npath=/tmp\nworkflow=no-such-workflow\n");
  g_assert_cmpint(run_check(f->config, FALSE, &err), ==, 1);
  g_assert_nonnull(strstr(err, "hot folder x: no workflow named 'no-such-workflow'"));
  g_clear_pointer(&err, g_free);

  g_assert_true(g_file_set_contents(f->config, "[service]\narchvie=/tmp/a.archive\n", -1, NULL));
  g_assert_cmpint(run_check(f->config, FALSE, &err), ==, 1);
  g_assert_nonnull(strstr(err, "[service] has no key 'archvie'"));
  g_clear_pointer(&err, g_free);

  g_assert_true(g_file_set_contents(f->config, "[service]\narchive=a.archive\n", -1, NULL));
  g_assert_cmpint(run_check(f->config, FALSE, &err), ==, 1);
  g_assert_nonnull(strstr(err, "[service] archive: 'a.archive' is not an absolute path"));
  g_clear_pointer(&err, g_free);

  g_assert_true(g_file_set_contents(f->config, "[service]\npam-service=/etc/pam.d/chartdesk\n", -1, NULL));
  g_assert_cmpint(run_check(f->config, FALSE, &err), ==, 1);
  g_assert_nonnull(strstr(err, "[service] pam-service: a PAM service name (a file of /etc/pam.d), not"));
  g_clear_pointer(&err, g_free);

  g_assert_true(g_file_set_contents(f->config, "[service]\nindex-merge-time=24:00\n", -1, NULL));
  g_assert_cmpint(run_check(f->config, FALSE, &err), ==, 1);
  g_assert_nonnull(strstr(err, "[service] index-merge-time: '24:00' is not a time of day (HH:MM or HH:MM:SS) or never"));
}

/* A batch runs on the service: Progress signals as it goes, BatchFinished
 * with the report, every page archived once; a bad request is refused with
 * the reason. */
static void
test_service_batch(Fixture *f, gconstpointer data)
{
  g_autofree gchar *in = make_inputs(f, "in", 20, 3, 1);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  g_autofree gchar *report = NULL;
  const gchar *relative[] = { "in", NULL };
  const gchar *sources[] = { in, NULL };
  JsonObject *obj;
  guint last = 0;
  guint id;

  write_config(f, NULL);
  daemon_start(f);
  id = start_batch(f, in);
  wait_finished(f, id, 30);
  g_assert_cmpstr(f->finished_status, ==, "finished");
  g_assert_true(json_parser_load_from_data(parser, f->finished_report, -1, &error));
  obj = json_node_get_object(json_parser_get_root(parser));
  g_assert_cmpint(json_object_get_int_member(obj, "pages_in"), ==, 60);
  g_assert_cmpint(json_object_get_int_member(obj, "filed") + json_object_get_int_member(obj, "review"), ==, 60);

  /* progress came while it ran, counting up */
  g_assert_cmpuint(f->progress->len, >=, 1);
  for (guint i = 0; i < f->progress->len; i++) {
    GVariant *p = g_ptr_array_index(f->progress, i);
    guint done = info_uint(p, "pages-done");
    g_assert_cmpuint(done, >=, last);
    g_assert_cmpuint(done, <=, 60);
    last = done;
  }
  /* the broadcast summary names no page; the report, audited, has the items */
  g_assert_false(json_object_has_member(obj, "items"));
  cd_dbus_chartdesk1_call_get_report_sync(f->proxy, id, &report, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(report, "\"items\""));
  g_assert_nonnull(strstr(report, "\"pages_in\":60"));
  assert_exactly_once(f->archive, 20, 3);

  /* relative paths mean nothing to a service: refused */
  cd_dbus_chartdesk1_call_start_batch_sync(f->proxy, "", relative, f->archive,
                                           g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0), &id, NULL, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  /* an unknown workflow is refused before anything is journalled */
  cd_dbus_chartdesk1_call_start_batch_sync(f->proxy, "no-such-workflow", sources, f->archive,
                                           g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0), &id, NULL, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
}

/* Pause stops feeding pages without losing any, Resume finishes the batch;
 * Cancel ends a batch as cancelled, journalled so in the archive. */
static void
test_service_pause_cancel(Fixture *f, gconstpointer data)
{
  /* big enough that Pause and Cancel arrive mid-batch however fast it runs */
  g_autofree gchar *in = make_inputs(f, "in", 100, 4, 2);
  g_autofree gchar *in2 = make_inputs(f, "in2", 100, 4, 3);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) info = NULL;
  g_autofree gchar *state = NULL;
  g_autofree gchar *status = NULL;
  guint before, after;
  guint id;

  write_config(f, NULL);
  daemon_start(f);
  /* queued paused: however fast or slow the machine, no page is read */
  id = start_batch_paused(f, in);
  pump(400);
  info = batch_info(f, id);
  before = info_uint(info, "pages-done");
  g_clear_pointer(&info, g_variant_unref);
  pump(400);
  info = batch_info(f, id);
  after = info_uint(info, "pages-done");
  state = info_state(f, id);
  g_assert_cmpstr(state, ==, "paused");
  g_assert_cmpuint(after, ==, before);
  g_assert_cmpuint(after, <, 400);
  cd_dbus_chartdesk1_call_resume_sync(f->proxy, id, NULL, &error);
  g_assert_no_error(error);
  wait_finished(f, id, 30);
  g_assert_cmpstr(f->finished_status, ==, "finished");
  assert_exactly_once(f->archive, 100, 4);

  id = start_batch_paused(f, in2);
  cd_dbus_chartdesk1_call_cancel_sync(f->proxy, id, NULL, &error);
  g_assert_no_error(error);
  wait_finished(f, id, 30);
  g_assert_cmpstr(f->finished_status, ==, "cancelled");
  g_clear_pointer(&info, g_variant_unref);
  info = batch_info(f, id);
  g_assert_cmpuint(info_uint(info, "pages-done"), <, 400);
  status = archive_batch_status(f->archive, 2);
  g_assert_cmpstr(status, ==, "cancelled");

  cd_dbus_chartdesk1_call_pause_sync(f->proxy, 999, NULL, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
}

/* A paused batch stays paused across a restart of the service, clean
 * (SIGTERM) or not (SIGKILL): it is journalled `paused`, comes back paused
 * and reads no page until Resume, then finishes with every page once. */
static void
test_service_pause_restart(Fixture *f, gconstpointer data)
{
  g_autofree gchar *in = make_inputs(f, "in", 100, 4, 11);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  GSubprocess *daemon;
  guint archived;
  guint id;

  write_config(f, NULL);
  daemon_start(f);
  id = start_batch_paused(f, in);
  g_assert_cmpuint(id, ==, 1);
  pump(300);
  archived = archived_pages(f->archive);
  g_assert_cmpuint(archived, ==, 0);
  {
    g_autofree gchar *status = archive_batch_status(f->archive, 1);
    g_assert_cmpstr(status, ==, "paused");
  }

  /* a clean stop keeps the pause */
  daemon = g_steal_pointer(&f->daemon);
  g_subprocess_send_signal(daemon, SIGTERM);
  g_assert_true(g_subprocess_wait(daemon, NULL, &error));
  g_assert_cmpint(g_subprocess_get_exit_status(daemon), ==, 0);
  g_object_unref(daemon);
  {
    g_autofree gchar *status = archive_batch_status(f->archive, 1);
    g_assert_cmpstr(status, ==, "paused");
  }
  daemon_start(f);
  pump(500);
  {
    g_autofree gchar *state = info_state(f, 1); /* the service's first batch again */
    g_assert_cmpstr(state, ==, "paused");
  }
  g_assert_cmpuint(archived_pages(f->archive), ==, archived);

  /* so does a crash */
  daemon_kill(f, SIGKILL);
  daemon_start(f);
  pump(500);
  {
    g_autofree gchar *state = info_state(f, 1);
    g_autofree gchar *status = archive_batch_status(f->archive, 1);
    g_assert_cmpstr(state, ==, "paused");
    g_assert_cmpstr(status, ==, "paused");
  }
  g_assert_cmpuint(archived_pages(f->archive), ==, archived);

  f->finished_id = 0;
  cd_dbus_chartdesk1_call_resume_sync(f->proxy, 1, NULL, &error);
  g_assert_no_error(error);
  wait_finished(f, 1, 30);
  g_assert_cmpstr(f->finished_status, ==, "finished");
  daemon_kill(f, SIGTERM);
  assert_exactly_once(f->archive, 100, 4);
  archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  assert_whole_report(archive, 1, 400);
}

/* Searches and document fetches through the service are written to the
 * audit log under the caller's identity from the bus (uid and pid), with
 * the purpose given. */
static void
test_service_audit(Fixture *f, gconstpointer data)
{
  g_autofree gchar *in = make_inputs(f, "in", 2, 1, 4);
  g_autoptr(GVariantDict) query = g_variant_dict_new(NULL);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *hits = NULL;
  g_autofree gchar *document = NULL;
  g_autofree gchar *uid = g_strdup_printf("(uid %u,", getuid());
  g_autoptr(GBytes) image = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  guint n_search = 0, n_view = 0;
  guint id;

  write_config(f, NULL);
  daemon_start(f);
  id = start_batch(f, in);
  wait_finished(f, id, 30);

  g_variant_dict_insert(query, "text", "s", "anything");
  g_variant_dict_insert(query, "purpose", "s", "ROI-4711");
  cd_dbus_chartdesk1_call_search_sync(f->proxy, "", g_variant_dict_end(query), &hits, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(hits, "\"hits\""));
  cd_dbus_chartdesk1_call_get_document_sync(f->proxy, "", 1, "ROI-4711", &document, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(document, "\"pages\""));
  {
    g_autoptr(GVariant) bytes = NULL;
    g_autofree gchar *format = NULL;
    cd_dbus_chartdesk1_call_get_page_image_sync(f->proxy, "", 1, "ROI-4711", &bytes, &format, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(format, ==, "tiff-g4");
    g_assert_cmpuint(g_variant_n_children(bytes), >, 8);
  }
  /* a malformed query keeps its error code across the bus */
  g_clear_pointer(&hits, g_free);
  g_variant_dict_unref(query);
  query = g_variant_dict_new(NULL);
  g_variant_dict_insert(query, "text", "s", "\"unbalanced");
  cd_dbus_chartdesk1_call_search_sync(f->proxy, "", g_variant_dict_end(query), &hits, NULL, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);

  g_assert_cmpint(sqlite3_open_v2(f->archive, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  g_assert_cmpint(sqlite3_prepare_v2(db, "SELECT action, actor, detail FROM audit", -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const gchar *action = (const gchar *) sqlite3_column_text(stmt, 0);
    const gchar *actor = (const gchar *) sqlite3_column_text(stmt, 1);
    const gchar *detail = (const gchar *) sqlite3_column_text(stmt, 2);
    if (g_strcmp0(action, "search") != 0 && !g_str_has_prefix(action, "view"))
      continue;
    g_assert_nonnull(strstr(actor, uid));
    g_assert_nonnull(strstr(actor, "pid "));
    g_assert_nonnull(strstr(detail, "ROI-4711"));
    if (g_strcmp0(action, "search") == 0)
      n_search++;
    else
      n_view++;
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  g_assert_cmpuint(n_search, ==, 1);
  g_assert_cmpuint(n_view, ==, 2); /* the document and the page image */
}

/* Writes @data the way a scanner does: open, write in two parts, close. */
static void
write_slowly(const gchar *path, const gchar *data, gsize len)
{
  FILE *fp = fopen(path, "wb");
  g_assert_nonnull(fp);
  g_assert_cmpuint(fwrite(data, 1, len / 2, fp), ==, len / 2);
  fflush(fp);
  g_assert_cmpuint(fwrite(data + len / 2, 1, len - len / 2, fp), ==, len - len / 2);
  g_assert_cmpint(fclose(fp), ==, 0);
}

static guint
count_dir(const gchar *path, const gchar *suffix)
{
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const gchar *name;
  guint n = 0;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    if (suffix == NULL || g_str_has_suffix(name, suffix))
      n++;
  }
  return n;
}

/* A hot folder takes files already there at start-up, files written in
 * place (close-write), files renamed in, hundreds at once: each is archived
 * once and moved to done/; an unreadable one goes to failed/ with a reason
 * file; a writer's temporary file is left alone. */
static void
test_service_hot_folder(Fixture *f, gconstpointer data)
{
  g_autofree gchar *hot = g_build_filename(f->dir, "hot", NULL);
  g_autofree gchar *done = g_build_filename(hot, "done", NULL);
  g_autofree gchar *failed = g_build_filename(hot, "failed", NULL);
  g_autofree gchar *stage = make_inputs(f, "stage", 320, 1, 5);
  g_autofree gchar *extra = g_strdup_printf("[hot-folder inbox]\npath=%s\nstable-seconds=0.4\npoll-seconds=0.1\n"
                                            "max-files=64\n",
                                            hot);
  g_autofree gchar *reason = NULL;
  g_autofree gchar *part = g_build_filename(hot, "scan-9999.tif.part", NULL);
  g_autofree gchar *bad = g_build_filename(hot, "bad.tif", NULL);
  g_autofree gchar *bad_reason = g_build_filename(failed, "bad.tif.reason", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) batches = NULL;
  g_auto(Export) e = { 0 };
  gint64 deadline;
  const guint n = 320;

  g_assert_cmpint(g_mkdir(hot, 0755), ==, 0);
  write_config(f, extra);
  /* already there before the service starts */
  for (guint i = 0; i < 10; i++) {
    g_autofree gchar *base = g_strdup_printf("scan-%04u.tif", i);
    g_autofree gchar *from = g_build_filename(stage, base, NULL);
    g_autofree gchar *to = g_build_filename(hot, base, NULL);
    g_assert_cmpint(g_rename(from, to), ==, 0);
  }
  daemon_start(f);
  g_assert_true(g_file_set_contents(part, "half a scan", -1, NULL));
  for (guint i = 10; i < n; i++) {
    g_autofree gchar *base = g_strdup_printf("scan-%04u.tif", i);
    g_autofree gchar *from = g_build_filename(stage, base, NULL);
    g_autofree gchar *to = g_build_filename(hot, base, NULL);
    if (i % 10 == 0) { /* renamed in, complete */
      g_assert_cmpint(g_rename(from, to), ==, 0);
    } else { /* written in place */
      g_autofree gchar *contents = NULL;
      gsize len = 0;
      g_assert_true(g_file_get_contents(from, &contents, &len, NULL));
      write_slowly(to, contents, len);
    }
  }
  write_slowly(bad, "II*\0 this is no image", 20);

  deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (count_dir(done, ".tif") < n || !g_file_test(bad_reason, G_FILE_TEST_EXISTS)) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    pump(50);
  }
  pump(500); /* nothing more happens */
  g_assert_cmpuint(count_dir(done, NULL), ==, n);
  g_assert_cmpuint(count_dir(done, "-1.tif"), ==, 0); /* no file moved there twice */
  g_assert_cmpuint(count_dir(failed, NULL), ==, 2);
  g_assert_true(g_file_get_contents(bad_reason, &reason, NULL, NULL));
  g_assert_cmpuint(strlen(reason), >, 0);
  g_assert_true(g_file_test(part, G_FILE_TEST_EXISTS));
  g_assert_cmpuint(count_dir(hot, NULL), ==, 3); /* done/, failed/, the .part file */

  export_archive(f->archive, &e);
  g_assert_cmpuint(g_hash_table_size(e.pages), ==, n);
  for (guint i = 0; i < n; i++) {
    g_autofree gchar *key = g_strdup_printf("scan-%04u.tif#0", i);
    g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(e.pages, key)), ==, 1);
  }
  g_assert_cmpuint(e.n_failed, ==, 1);
  cd_dbus_chartdesk1_call_list_batches_sync(f->proxy, &batches, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_variant_n_children(batches), >=, n / 64);
}

/* SIGKILL at random moments of a batch, restart, again and again: the batch
 * resumes each time, and in the end every page is archived exactly once,
 * no document is partial, and the archive checks clean. The seed is printed;
 * CHARTDESK_TEST_SEED replays a run. */
static void
test_service_kill_resume(Fixture *f, gconstpointer data)
{
  const guint n_files = 150, n_pages = 4;
  g_autofree gchar *in = make_inputs(f, "in", n_files, n_pages, 6);
  const gchar *env_seed = g_getenv("CHARTDESK_TEST_SEED");
  guint32 seed = env_seed != NULL ? (guint32) g_ascii_strtoull(env_seed, NULL, 10) : (guint32) g_test_rand_int();
  g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
  g_autoptr(GVariant) info = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *status = NULL;
  guint interrupted = 0;
  gint64 batch_id = 0;
  gint64 deadline;

  g_printerr("# kill-and-resume seed %u (CHARTDESK_TEST_SEED=%u replays it)\n", seed, seed);
  write_config(f, NULL);
  daemon_start(f);
  info = batch_info(f, start_batch(f, in));
  g_assert_true(g_variant_lookup(info, "batch", "x", &batch_id));
  for (guint round = 0; round < 8; round++) {
    /* A moment of the batch, whatever the machine's speed (hundreds to
     * thousands of pages a second): mostly once a random number of pages
     * is archived, plus up to 3 ms; sometimes a few ms after start-up,
     * while the service reads its journal. */
    guint have = archived_pages(f->archive);
    guint target = have + g_rand_int_range(rand, 1, MAX(2, (n_files * n_pages - have) / 2));
    gboolean early = round > 0 && g_rand_int_range(rand, 0, 4) == 0;
    if (early) {
      g_usleep(g_rand_int_range(rand, 1000, 40000));
    } else {
      gint64 wait_until = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
      while (archived_pages(f->archive) < target && g_get_monotonic_time() < wait_until)
        g_usleep(500);
      g_usleep(g_rand_int_range(rand, 0, 3000));
    }
    daemon_kill(f, SIGKILL);
    g_free(status);
    status = archive_batch_status(f->archive, batch_id);
    g_printerr("# round %u: killed %s, %u pages archived, batch %s\n", round, early ? "during start-up" : "mid-batch",
               archived_pages(f->archive), status);
    if (g_strcmp0(status, "finished") == 0)
      break;
    interrupted++;
    daemon_start(f);
  }
  if (f->daemon == NULL)
    daemon_start(f);
  deadline = g_get_monotonic_time() + 40 * G_USEC_PER_SEC;
  for (;;) {
    g_free(status);
    status = archive_batch_status(f->archive, batch_id);
    if (g_strcmp0(status, "finished") == 0)
      break;
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(50000);
  }
  daemon_kill(f, SIGTERM);
  g_assert_cmpuint(interrupted, >=, 1);
  assert_exactly_once(f->archive, n_files, n_pages);
  archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  assert_whole_report(archive, batch_id, n_files * n_pages);
  g_assert_true(cd_archive_check(archive, &problems, &error));
  g_assert_no_error(error);
  /* the test workflow has no OCR: pages without text are expected, nothing else */
  for (guint i = 0; i < problems->len; i++)
    g_assert_nonnull(strstr(g_ptr_array_index(problems, i), "have no text"));
}

/* A hot folder survives SIGKILL too: files in flight belong to journalled
 * batches that resume (the folder's listing does not queue them again),
 * files already archived but not yet moved are moved on, and in the end
 * every file is in done/ once and every page in the archive once. */
static void
test_service_hot_folder_kill(Fixture *f, gconstpointer data)
{
  const guint n = 200;
  g_autofree gchar *hot = g_build_filename(f->dir, "hot", NULL);
  g_autofree gchar *done = g_build_filename(hot, "done", NULL);
  g_autofree gchar *stage = make_inputs(f, "stage", n, 2, 10);
  g_autofree gchar *extra = g_strdup_printf("[hot-folder inbox]\npath=%s\nstable-seconds=0.2\npoll-seconds=0.1\n"
                                            "max-files=40\n",
                                            hot);
  const gchar *env_seed = g_getenv("CHARTDESK_TEST_SEED");
  guint32 seed = env_seed != NULL ? (guint32) g_ascii_strtoull(env_seed, NULL, 10) : (guint32) g_test_rand_int();
  g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
  g_auto(Export) e = { 0 };
  gint64 deadline;

  g_printerr("# hot folder kill seed %u\n", seed);
  g_assert_cmpint(g_mkdir(hot, 0755), ==, 0);
  write_config(f, extra);
  daemon_start(f);
  for (guint i = 0; i < n; i++) {
    g_autofree gchar *base = g_strdup_printf("scan-%04u.tif", i);
    g_autofree gchar *from = g_build_filename(stage, base, NULL);
    g_autofree gchar *to = g_build_filename(hot, base, NULL);
    g_assert_cmpint(g_rename(from, to), ==, 0);
  }
  for (guint round = 0; round < 4; round++) {
    guint ms = g_rand_int_range(rand, 50, 400);
    g_usleep(ms * 1000);
    daemon_kill(f, SIGKILL);
    g_printerr("# round %u: killed after %u ms, %u files done\n", round, ms, count_dir(done, NULL));
    daemon_start(f);
  }
  deadline = g_get_monotonic_time() + 40 * G_USEC_PER_SEC;
  while (count_dir(done, NULL) < n || count_dir(hot, NULL) > 2) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    pump(50);
  }
  pump(500);
  g_assert_cmpuint(count_dir(done, NULL), ==, n);
  g_assert_cmpuint(count_dir(done, "-1.tif"), ==, 0);
  g_assert_cmpuint(count_dir(hot, NULL), ==, 2); /* done/ and failed/ */
  export_archive(f->archive, &e);
  g_assert_cmpuint(g_hash_table_size(e.pages), ==, n * 2);
  for (guint i = 0; i < n; i++) {
    g_autofree gchar *base = g_strdup_printf("scan-%04u.tif", i);
    g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(e.documents, base)), ==, 2);
    for (guint p = 0; p < 2; p++) {
      g_autofree gchar *key = g_strdup_printf("%s#%u", base, p);
      g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(e.pages, key)), ==, 1);
    }
  }
}

/* SIGTERM stops the service cleanly in the middle of a batch: it exits 0,
 * the batch is journalled to resume, and the next start finishes it. */
static void
test_service_sigterm(Fixture *f, gconstpointer data)
{
  /* large enough that the batch is still running when SIGTERM lands, even
   * on a loaded machine (hundreds of pages a second) */
  g_autofree gchar *in = make_inputs(f, "in", 400, 4, 7);
  g_autofree gchar *status = NULL;
  g_autoptr(GError) error = NULL;
  GSubprocess *daemon;
  gint64 deadline;
  guint id;

  write_config(f, NULL);
  daemon_start(f);
  id = start_batch(f, in);
  deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
  while (archived_pages(f->archive) < 40) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(500);
  }
  daemon = g_steal_pointer(&f->daemon);
  g_subprocess_send_signal(daemon, SIGTERM);
  g_assert_true(g_subprocess_wait(daemon, NULL, &error));
  g_assert_true(g_subprocess_get_if_exited(daemon));
  g_assert_cmpint(g_subprocess_get_exit_status(daemon), ==, 0);
  g_object_unref(daemon);
  status = archive_batch_status(f->archive, 1);
  g_assert_cmpstr(status, ==, "queued");
  g_assert_false(f->finished_id == id);

  f->finished_id = 0;
  daemon_start(f);
  wait_finished(f, 1, 30); /* the resumed batch is the new run's batch 1 */
  g_assert_cmpstr(f->finished_status, ==, "finished");
  assert_exactly_once(f->archive, 400, 4);
}

/* Archives one filed single-page document of each of @types, through the library. */
static void
archive_typed_documents(const gchar *path, const gchar *const *types)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = cd_archive_open(path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  const gchar *inputs[] = { "typed", NULL };
  gint64 batch;

  g_assert_no_error(error);
  batch = cd_archive_begin_batch(archive, "test", inputs, &error);
  g_assert_no_error(error);
  for (guint i = 0; types[i] != NULL; i++) {
    g_autofree gchar *source = g_strdup_printf("typed-%u.tif", i);
    g_autofree gchar *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, source, -1);
    g_autoptr(CdPage) page = cd_page_new(source, 0, sha);
    g_autoptr(CdDocument) document = cd_document_new();
    cd_page_set_text(page, "typed page");
    cd_document_add_page(document, page);
    cd_document_set_patient_mrn(document, "00000001");
    cd_document_set_doc_type(document, types[i], 1.0);
    g_assert_true(cd_archive_commit_document(archive, batch, document, &error));
    g_assert_no_error(error);
  }
}

/* The service's Search reads `type` through the taxonomy as the command
 * line does: an alias or a former name finds documents stored under the
 * current and the former name, and an unknown type is a query error that
 * names it and lists the known types (`chartdesk search` exits 2). */
static void
test_service_search_type(Fixture *f, gconstpointer data)
{
  g_autofree gchar *cli = g_test_build_filename(G_TEST_BUILT, "core", "cli", "chartdesk", NULL);
  g_autofree gchar *taxonomy = g_build_filename(f->dir, "taxonomy.conf", NULL);
  g_autofree gchar *saved = g_strdup(g_getenv("CHARTDESK_TAXONOMY"));
  const gchar *types[] = { "clinic-letter", "correspondence", "discharge-summary", NULL };
  g_autoptr(GVariantDict) query = g_variant_dict_new(NULL);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *hits = NULL;
  g_autofree gchar *err = NULL;
  gboolean seen_current = FALSE, seen_former = FALSE;
  JsonArray *array;

  g_assert_true(g_file_set_contents(taxonomy,
                                    "[taxonomy]\nfallback=other\n[clinic-letter]\naliases=letter\n"
                                    "renamed-from=correspondence\n[discharge-summary]\n[other]\n",
                                    -1, NULL));
  g_setenv("CHARTDESK_TAXONOMY", taxonomy, TRUE); /* the service inherits it */
  archive_typed_documents(f->archive, types);
  write_config(f, NULL);
  daemon_start(f);

  g_variant_dict_insert(query, "type", "s", "Letter");
  cd_dbus_chartdesk1_call_search_sync(f->proxy, "", g_variant_dict_end(query), &hits, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(json_parser_load_from_data(parser, hits, -1, &error));
  array = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)), "hits");
  g_assert_cmpuint(json_array_get_length(array), ==, 2);
  for (guint i = 0; i < json_array_get_length(array); i++) {
    const gchar *type = json_object_get_string_member(json_array_get_object_element(array, i), "type");
    seen_current |= g_strcmp0(type, "clinic-letter") == 0;
    seen_former |= g_strcmp0(type, "correspondence") == 0;
  }
  g_assert_true(seen_current && seen_former);

  g_variant_dict_unref(query);
  query = g_variant_dict_new(NULL);
  g_variant_dict_insert(query, "type", "s", "memo");
  g_clear_pointer(&hits, g_free);
  cd_dbus_chartdesk1_call_search_sync(f->proxy, "", g_variant_dict_end(query), &hits, NULL, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
  g_assert_nonnull(strstr(error->message, "unknown document type 'memo' (known types: clinic-letter, "
                                          "discharge-summary, other)"));

  g_clear_error(&error);
  proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, cli, "search",
                          "--service", "--type", "memo", f->archive, NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, NULL, &err, &error));
  g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 2);
  g_assert_nonnull(strstr(err, "unknown document type 'memo'"));

  if (saved != NULL)
    g_setenv("CHARTDESK_TAXONOMY", saved, TRUE);
  else
    g_unsetenv("CHARTDESK_TAXONOMY");
}

/* `chartdesk ingest` finds the running service and submits the batch there
 * (--service insists on it), following its progress; `chartdesk search
 * --service` searches through it. */
static void
test_service_cli(Fixture *f, gconstpointer data)
{
  g_autofree gchar *cli = g_test_build_filename(G_TEST_BUILT, "core", "cli", "chartdesk", NULL);
  g_autofree gchar *in = make_inputs(f, "in", 5, 2, 8);
  g_autofree gchar *in2 = make_inputs(f, "in2", 3, 1, 9);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autoptr(GVariant) batches = NULL;

  write_config(f, NULL);
  daemon_start(f);
  proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, cli, "ingest",
                          "--service", "--json", "--workflow", "service-test", f->archive, in, NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error));
  g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
  g_assert_nonnull(strstr(out, "\"pages_in\" : 10"));
  g_clear_object(&proc);
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);

  /* without --service, found by its name */
  proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, cli, "ingest",
                          "--workflow", "service-test", f->archive, in2, NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error));
  g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
  g_clear_object(&proc);
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);

  cd_dbus_chartdesk1_call_list_batches_sync(f->proxy, &batches, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_variant_n_children(batches), ==, 2);

  /* --no-service runs here, beside the idle service (which holds no lock) */
  {
    g_autofree gchar *in3 = make_inputs(f, "in3", 2, 1, 11);
    g_autoptr(GSubprocess) standalone = NULL;
    g_autoptr(GVariant) after = NULL;
    g_autofree gchar *workflow = g_test_build_filename(G_TEST_DIST, "tests", "service", "service-test.workflow", NULL);
    standalone = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, cli, "ingest", "--no-service", "--quiet",
                                  "--workflow", workflow, f->archive, in3, NULL);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_wait(standalone, NULL, &error));
    g_assert_cmpint(g_subprocess_get_exit_status(standalone), ==, 0);
    cd_dbus_chartdesk1_call_list_batches_sync(f->proxy, &after, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_variant_n_children(after), ==, 2);
    g_assert_cmpuint(archived_pages(f->archive), ==, 10 + 3 + 2);
  }

  proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, cli, "search",
                          "--service", "--json", f->archive, "nothing", NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error));
  g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
  g_assert_nonnull(strstr(out, "\"hits\""));

  {
    /* through the service or here, the same answer: hits, the total and
     * the facets (the client used to keep only the hits) */
    const gchar *modes[] = { "--service", "--no-service" };
    JsonNode *answers[2] = { NULL, NULL };
    for (guint m = 0; m < 2; m++) {
      g_autoptr(GSubprocess) p = NULL;
      g_autofree gchar *o = NULL;
      g_autofree gchar *e = NULL;
      p = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, cli, "search",
                           modes[m], "--json", "--status", "review", f->archive, NULL);
      g_assert_no_error(error);
      g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, &o, &e, &error));
      g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);
      answers[m] = json_from_string(o, &error);
      g_assert_no_error(error);
      g_assert_true(json_object_has_member(json_node_get_object(answers[m]), "total"));
      g_assert_true(json_object_has_member(json_node_get_object(answers[m]), "facets"));
    }
    g_assert_cmpint(json_object_get_int_member(json_node_get_object(answers[0]), "total"), ==,
                    json_object_get_int_member(json_node_get_object(answers[1]), "total"));
    g_assert_cmpint(json_object_get_int_member(json_node_get_object(answers[0]), "total"), >, 0);
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(json_node_get_object(answers[0]), "hits")), ==,
                     json_array_get_length(json_object_get_array_member(json_node_get_object(answers[1]), "hits")));
    json_node_unref(answers[0]);
    json_node_unref(answers[1]);
  }
}

/* PRAGMA integrity_check of the archive, from this process. */
static gchar *
archive_integrity(const gchar *archive_path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gchar *result = NULL;

  if (sqlite3_open_v2(archive_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_busy_timeout(db, 10000) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    result = g_strdup((const gchar *) sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result != NULL ? result : g_strdup("cannot run");
}

/* The issue 11 scenario, three rounds: while a batch runs, the service
 * reads the same archive for callers (Search, GetReport) and another
 * process reads it (`chartdesk search --no-service`); a fresh connection
 * in this process never sees fewer pages than before, sees every page once
 * the batch ended, the file passes integrity_check, and the service stops
 * with status 0 on SIGTERM. Before the service shared one connection per
 * archive and the archive stopped opening its own file, the other
 * process deleted the WAL under the service: 0 pages seen, then SIGSEGV. */
static void
test_service_concurrent_reads(Fixture *f, gconstpointer data)
{
  g_autofree gchar *cli = g_test_build_filename(G_TEST_BUILT, "core", "cli", "chartdesk", NULL);
  g_autofree gchar *first = make_inputs(f, "first", 2, 1, 21);
  g_autoptr(GError) error = NULL;
  guint total = 2;
  guint report_id;
  GSubprocess *daemon;

  write_config(f, NULL);
  daemon_start(f);
  /* a finished batch, for GetReport during the next ones */
  report_id = start_batch(f, first);
  wait_finished(f, report_id, 30);
  for (guint round = 0; round < 3; round++) {
    g_autofree gchar *name = g_strdup_printf("round%u", round);
    g_autofree gchar *in = make_inputs(f, name, 150, 2, 30 + round);
    g_autofree gchar *integrity = NULL;
    guint seen = archived_pages(f->archive);
    guint reads = 0;
    guint id = start_batch(f, in);
    gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;

    total += 300;
    while (f->finished_id != id) {
      g_autoptr(GVariantBuilder) query = g_variant_builder_new(G_VARIANT_TYPE("a{sv}"));
      g_autoptr(GSubprocess) other = NULL;
      g_autofree gchar *hits = NULL;
      g_autofree gchar *report = NULL;
      guint now;

      g_assert_cmpint(g_get_monotonic_time(), <, deadline);
      g_variant_builder_add(query, "{sv}", "text", g_variant_new_string("patient"));
      cd_dbus_chartdesk1_call_search_sync(f->proxy, f->archive, g_variant_builder_end(query), &hits, NULL, &error);
      g_assert_no_error(error);
      cd_dbus_chartdesk1_call_get_report_sync(f->proxy, report_id, &report, NULL, &error);
      g_assert_no_error(error);
      other = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, cli, "search", "--no-service", f->archive,
                               "patient", NULL);
      g_assert_no_error(error);
      g_assert_true(g_subprocess_wait(other, NULL, &error));
      g_assert_cmpint(g_subprocess_get_exit_status(other), ==, 0);
      now = archived_pages(f->archive);
      g_assert_cmpuint(now, >=, seen);
      seen = now;
      reads++;
      pump(20);
    }
    g_test_message("round %u: %u reads of each kind during the batch", round, reads);
    g_assert_cmpstr(f->finished_status, ==, "finished");
    g_assert_cmpuint(archived_pages(f->archive), ==, total);
    integrity = archive_integrity(f->archive);
    g_assert_cmpstr(integrity, ==, "ok");
  }
  daemon = g_steal_pointer(&f->daemon);
  g_subprocess_send_signal(daemon, SIGTERM);
  g_assert_true(g_subprocess_wait(daemon, NULL, &error));
  g_assert_true(g_subprocess_get_if_exited(daemon));
  g_assert_cmpint(g_subprocess_get_exit_status(daemon), ==, 0);
  g_object_unref(daemon);
  g_assert_cmpuint(archived_pages(f->archive), ==, total);
}

/* The daemon's descriptors open on @path (its links in /proc, a removed
 * file's ending in " (deleted)"): @deleted counts those. */
static guint
daemon_open_files(Fixture *f, const gchar *path, guint *deleted)
{
  g_autofree gchar *fds = g_strdup_printf("/proc/%s/fd", g_subprocess_get_identifier(f->daemon));
  g_autofree gchar *gone = g_strdup_printf("%s (deleted)", path);
  g_autoptr(GDir) dir = g_dir_open(fds, 0, NULL);
  const gchar *name;
  guint n = 0;

  *deleted = 0;
  g_assert_nonnull(dir);
  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree gchar *link = g_build_filename(fds, name, NULL);
    g_autofree gchar *target = g_file_read_link(link, NULL);
    if (g_strcmp0(target, path) == 0)
      n++;
    else if (g_strcmp0(target, gone) == 0)
      (*deleted)++;
  }
  return n;
}

/* The total of a D-Bus Search for the documents in review (these
 * workflows read no text, and find no patient). */
static gint64
service_review_total(Fixture *f)
{
  g_autoptr(GVariantBuilder) query = g_variant_builder_new(G_VARIANT_TYPE("a{sv}"));
  g_autoptr(GError) error = NULL;
  g_autofree gchar *hits = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_variant_builder_add(query, "{sv}", "status", g_variant_new_string("review"));
  cd_dbus_chartdesk1_call_search_sync(f->proxy, f->archive, g_variant_builder_end(query), &hits, NULL, &error);
  g_assert_no_error(error);
  node = json_from_string(hits, &error);
  g_assert_no_error(error);
  return json_object_get_int_member(json_node_get_object(node), "total");
}

/* Between reads the service keeps the archive open (a warm page cache for
 * the next search), but never answers for a file that is no longer at the
 * path: a copy put in its place is opened anew, and the old connection
 * closes without touching the new file's -wal and -shm. With a short
 * archive-idle-seconds an unused archive is closed. */
static void
test_service_archive_idle(Fixture *f, gconstpointer data)
{
  g_autofree gchar *cli = g_test_build_filename(G_TEST_BUILT, "core", "cli", "chartdesk", NULL);
  g_autofree gchar *workflow = g_test_build_filename(G_TEST_DIST, "tests", "service", "service-test.workflow", NULL);
  g_autofree gchar *first = make_inputs(f, "first", 2, 1, 41);
  g_autofree gchar *more = make_inputs(f, "more", 5, 1, 42);
  g_autofree gchar *copy = g_build_filename(f->dir, "restored.archive", NULL);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *integrity = NULL;
  gint64 before, after, deadline;
  guint id, deleted = 0;

  write_config(f, NULL); /* the default: 600 s */
  daemon_start(f);
  id = start_batch(f, first);
  wait_finished(f, id, 30);
  before = service_review_total(f);
  g_assert_cmpint(before, ==, 2);
  g_assert_cmpuint(daemon_open_files(f, f->archive, &deleted), >=, 1);

  /* a restored copy with other pages, made by another process, put in
   * the archive's place as an administrator would: the old -wal and -shm
   * removed with the file */
  proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, cli, "ingest", "--no-service", "--quiet",
                          "--workflow", workflow, copy, more, NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_wait(proc, NULL, &error));
  g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
  g_assert_cmpuint(archived_pages(copy), ==, 5);
  for (guint i = 0; i < 2; i++) {
    g_autofree gchar *side = g_strconcat(f->archive, i == 0 ? "-wal" : "-shm", NULL);
    g_unlink(side);
  }
  g_assert_cmpint(g_rename(copy, f->archive), ==, 0);
  after = service_review_total(f);
  g_assert_cmpint(after, ==, 5);
  g_assert_cmpuint(daemon_open_files(f, f->archive, &deleted), >=, 1);
  g_assert_cmpuint(deleted, ==, 0); /* the old file's connection is closed */
  g_assert_cmpuint(archived_pages(f->archive), ==, 5);
  integrity = archive_integrity(f->archive);
  g_assert_cmpstr(integrity, ==, "ok");

  /* archive-idle-seconds=1: closed once unused (the deadline only ends a hang) */
  daemon_kill(f, SIGTERM);
  g_clear_object(&f->proxy); /* bound to the old daemon's unique name */
  write_config(f, "archive-idle-seconds=1\n");
  daemon_start(f);
  g_assert_cmpint(service_review_total(f), ==, 5);
  deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (daemon_open_files(f, f->archive, &deleted) > 0) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    pump(100);
  }
  /* and opened again for the next read */
  g_assert_cmpint(service_review_total(f), ==, 5);
}

/* Commits @n one-page documents whose text names @word, each in a
 * transaction of its own: each adds a segment to the search index. */
static void
archive_text_documents(const gchar *path, guint n, const gchar *word)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = cd_archive_open(path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  const gchar *inputs[] = { "text", NULL };
  gint64 batch;

  g_assert_no_error(error);
  batch = cd_archive_begin_batch(archive, "test", inputs, &error);
  g_assert_no_error(error);
  for (guint i = 0; i < n; i++) {
    g_autofree gchar *source = g_strdup_printf("text-%u.tif", i);
    g_autofree gchar *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, source, -1);
    g_autofree gchar *text = g_strdup_printf("%s page %u of the night", word, i);
    g_autoptr(CdPage) page = cd_page_new(source, 0, sha);
    g_autoptr(CdDocument) document = cd_document_new();
    cd_page_set_text(page, text);
    cd_document_add_page(document, page);
    g_assert_true(cd_archive_commit_document(archive, batch, document, &error));
    g_assert_no_error(error);
  }
}

static gint
archive_index_segments(const gchar *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = cd_archive_open(path, CD_ARCHIVE_FLAG_NONE, &error);

  g_assert_no_error(error);
  return cd_archive_search_index_segments(archive);
}

/* Starts chartdeskd to merge the search indexes a few seconds from now:
 * far enough ahead for its start-up (slow under a sanitizer), and again
 * further ahead when it was up too late to have armed the merge in time
 * (the time has whole seconds: up to one earlier than asked). */
static void
daemon_start_merging_soon(Fixture *f)
{
  const gint ahead[] = { 4, 10, 30 };

  for (guint i = 0; i < G_N_ELEMENTS(ahead); i++) {
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autoptr(GDateTime) soon = g_date_time_add_seconds(now, ahead[i]);
    g_autofree gchar *extra = g_date_time_format(soon, "index-merge-time=%H:%M:%S\n");
    gint64 up_by = g_get_monotonic_time() + (ahead[i] - 2) * G_USEC_PER_SEC;

    write_config(f, extra);
    daemon_start(f);
    if (g_get_monotonic_time() < up_by)
      return;
    daemon_kill(f, SIGTERM);
    g_clear_object(&f->proxy);
  }
  g_assert_not_reached();
}

/* At [service] index-merge-time the service merges the search index of
 * its archive into one segment, a step at a time, and audits it once; the
 * same documents are found after. */
static void
test_service_index_merge(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(JsonNode) entries = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *hits = NULL;
  g_autoptr(GVariantBuilder) query = g_variant_builder_new(G_VARIANT_TYPE("a{sv}"));
  gint64 deadline;

  archive_text_documents(f->archive, 6, "nocturne");
  g_assert_cmpint(archive_index_segments(f->archive), >, 1);
  daemon_start_merging_soon(f);
  deadline = g_get_monotonic_time() + 90 * G_USEC_PER_SEC;
  while (archive_index_segments(f->archive) > 1) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline); /* only ends a hang */
    pump(100);
  }
  g_assert_cmpint(archive_index_segments(f->archive), ==, 1);
  /* its audit entry follows the last step: wait for it too */
  archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  for (;;) {
    g_clear_pointer(&entries, json_node_unref);
    g_clear_pointer(&text, g_free);
    entries = cd_archive_list_audit(archive, NULL, NULL, NULL, NULL, 50, 0, NULL, &error);
    g_assert_no_error(error);
    text = json_to_string(entries, FALSE);
    if (strstr(text, "merge-search-index") != NULL)
      break;
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    pump(100);
  }
  g_assert_nonnull(strstr(text, "\"segments_after\":1"));
  g_variant_builder_add(query, "{sv}", "text", g_variant_new_string("nocturne"));
  cd_dbus_chartdesk1_call_search_sync(f->proxy, f->archive, g_variant_builder_end(query), &hits, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(hits, "\"total\":6"));
}

/* Another process holds the archive's writer lock at index-merge-time:
 * the service does not wait for it or take it, ends the night's merge
 * with the reason in its audit entry, and leaves the index as it was. */
static void
test_service_index_merge_busy(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) writer = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autofree gchar *text = NULL;
  gint segments;
  gint64 deadline;

  archive_text_documents(f->archive, 6, "nocturne");
  segments = archive_index_segments(f->archive);
  g_assert_cmpint(segments, >, 1);
  writer = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_no_error(error);
  daemon_start_merging_soon(f);
  deadline = g_get_monotonic_time() + 90 * G_USEC_PER_SEC;
  archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  for (;;) {
    g_autoptr(JsonNode) entries = cd_archive_list_audit(archive, NULL, NULL, NULL, NULL, 50, 0, NULL, &error);
    g_assert_no_error(error);
    g_free(text);
    text = json_to_string(entries, FALSE);
    if (strstr(text, "merge-search-index") != NULL)
      break;
    g_assert_cmpint(g_get_monotonic_time(), <, deadline); /* only ends a hang */
    pump(100);
  }
  g_assert_nonnull(strstr(text, "\"steps\":0"));
  g_assert_nonnull(strstr(text, "another process is writing to this archive"));
  g_assert_cmpint(archive_index_segments(f->archive), ==, segments);
}

static gchar *activation_dir; /* XDG_CONFIG_HOME and the bus's service folder */

/* The installed D-Bus activation file, pointed at the built chartdeskd:
 * the first call to the name starts the service, which reads the user's
 * configuration file. */
static void
test_service_activation(Fixture *f, gconstpointer data)
{
  g_autofree gchar *user_config = g_build_filename(activation_dir, "config", "chartdesk", "chartdeskd.conf", NULL);
  g_autoptr(CdDBusChartdesk1) proxy = NULL;
  g_autoptr(GVariant) batches = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *contents = NULL;
  guint32 pid = 0;
  gint64 deadline;

  write_config(f, NULL);
  g_assert_true(g_file_get_contents(f->config, &contents, NULL, NULL));
  g_assert_true(g_file_set_contents(user_config, contents, -1, NULL));
  g_assert_false(name_has_owner(f));
  proxy = cd_dbus_chartdesk1_proxy_new_sync(f->connection, G_DBUS_PROXY_FLAGS_NONE, CD_SERVICE_BUS_NAME,
                                            CD_SERVICE_OBJECT_PATH, NULL, &error);
  g_assert_no_error(error);
  cd_dbus_chartdesk1_call_list_batches_sync(proxy, &batches, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(name_has_owner(f));

  /* it is the configured service: its default archive is ours */
  reply = g_dbus_connection_call_sync(f->connection, CD_SERVICE_BUS_NAME, CD_SERVICE_OBJECT_PATH,
                                      "org.freedesktop.DBus.Properties", "Get",
                                      g_variant_new("(ss)", CD_SERVICE_BUS_NAME, "DefaultArchive"),
                                      G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error(error);
  {
    g_autoptr(GVariant) v = NULL;
    g_variant_get(reply, "(v)", &v);
    g_assert_cmpstr(g_variant_get_string(v, NULL), ==, f->archive);
  }
  g_clear_pointer(&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync(f->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                      g_variant_new("(s)", CD_SERVICE_BUS_NAME), G_VARIANT_TYPE("(u)"),
                                      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error(error);
  g_variant_get(reply, "(u)", &pid);
  g_assert_cmpint(kill(pid, SIGTERM), ==, 0);
  deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (name_has_owner(f)) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(10000);
  }
  g_unlink(user_config);
}

/* Starts a dbus-daemon that lets any user connect, as a system bus does. */
static GSubprocess *
start_open_bus(Fixture *f, gchar **address)
{
  g_autofree gchar *conf = g_build_filename(f->dir, "bus.conf", NULL);
  g_autofree gchar *text =
      g_strdup_printf("<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                      " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                      "<busconfig><type>session</type><listen>unix:dir=%s</listen><auth>EXTERNAL</auth>"
                      "<policy context=\"default\"><allow user=\"*\"/><allow own=\"*\"/><allow eavesdrop=\"true\"/>"
                      "<allow send_destination=\"*\" eavesdrop=\"true\"/></policy></busconfig>\n",
                      f->dir);
  g_autoptr(GError) error = NULL;
  GSubprocess *bus;
  GInputStream *out;
  gchar buf[512] = { 0 };
  gsize len = 0;

  g_assert_true(g_file_set_contents(conf, text, -1, NULL));
  g_assert_cmpint(g_chmod(f->dir, 0755), ==, 0);
  bus = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "dbus-daemon", "--nofork", "--print-address",
                         "--config-file", conf, NULL);
  g_assert_no_error(error);
  out = g_subprocess_get_stdout_pipe(bus);
  while (len < sizeof buf - 1 && strchr(buf, '\n') == NULL) {
    gssize n = g_input_stream_read(out, buf + len, 1, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(n, ==, 1);
    len++;
  }
  *address = g_strndup(buf, strcspn(buf, "\n"));
  return bus;
}

/* A ListBatches call from another user, through setpriv: its error. */
static gchar *
call_as_nobody(const gchar *address)
{
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  gchar *out = NULL;

  g_subprocess_launcher_setenv(launcher, "DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  proc = g_subprocess_launcher_spawn(launcher, &error, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                     "gdbus", "call", "--session", "--dest", CD_SERVICE_BUS_NAME, "--object-path",
                                     CD_SERVICE_OBJECT_PATH, "--method", CD_SERVICE_BUS_NAME ".ListBatches", NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &out, NULL, &error));
  g_assert_no_error(error);
  return out;
}

/* Only the service's own user may call it on the session bus; on the
 * system bus also the members of allowed-group. Needs root (to call as
 * another user). */
static void
test_service_access(Fixture *f, gconstpointer data)
{
  g_autofree gchar *address = NULL;
  g_autoptr(GSubprocess) bus = NULL;
  g_autofree gchar *refused = NULL;
  g_autofree gchar *saved = g_strdup(g_getenv("DBUS_SESSION_BUS_ADDRESS"));
  g_autofree gchar *exe = g_test_build_filename(G_TEST_BUILT, "core", "service", "chartdeskd", NULL);
  g_autofree gchar *setpriv = g_find_program_in_path("setpriv");
  g_autofree gchar *gdbus = g_find_program_in_path("gdbus");
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  struct group *nogroup = getgrgid(65534);

  if (getuid() != 0 || setpriv == NULL || gdbus == NULL || nogroup == NULL) {
    g_test_skip("needs root, setpriv, gdbus and group 65534 to call as another user");
    return;
  }
  bus = start_open_bus(f, &address);

  /* the session bus: another user is refused */
  write_config(f, NULL);
  g_setenv("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  g_clear_object(&f->connection);
  f->connection = g_dbus_connection_new_for_address_sync(
      address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
      NULL, &error);
  g_assert_no_error(error);
  daemon_start(f);
  refused = call_as_nobody(address);
  g_assert_nonnull(strstr(refused, "AccessDenied"));
  g_assert_nonnull(strstr(refused, "uid 65534"));
  daemon_kill(f, SIGTERM);
  g_clear_object(&f->proxy);

  /* the system bus: members of allowed-group may call, others not */
  launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
  for (guint round = 0; round < 2; round++) {
    g_autofree gchar *contents = NULL;
    g_autofree gchar *more = NULL;
    g_autofree gchar *answer = NULL;
    gint64 deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    write_config(f, NULL);
    g_assert_true(g_file_get_contents(f->config, &contents, NULL, NULL));
    /* appended to [service], the only group written */
    more = g_strdup_printf("%sbus=system\nallowed-group=%s\n", contents, round == 0 ? "root" : nogroup->gr_name);
    g_assert_true(g_file_set_contents(f->config, more, -1, NULL));
    f->daemon = g_subprocess_launcher_spawn(launcher, &error, exe, "--config", f->config, NULL);
    g_assert_no_error(error);
    while (!name_has_owner(f)) {
      g_assert_cmpint(g_get_monotonic_time(), <, deadline);
      g_usleep(10000);
    }
    answer = call_as_nobody(address);
    if (round == 0) {
      g_assert_nonnull(strstr(answer, "AccessDenied"));
    } else {
      g_assert_null(strstr(answer, "Error"));
      g_assert_nonnull(strstr(answer, "[]"));
    }
    daemon_kill(f, SIGTERM);
    while (name_has_owner(f))
      g_usleep(10000);
  }

  g_setenv("DBUS_SESSION_BUS_ADDRESS", saved, TRUE);
  g_subprocess_send_signal(bus, SIGTERM);
  g_subprocess_wait(bus, NULL, NULL);
}

/* A D-Bus call made by another user through setpriv and gdbus, on the
 * system bus at @address: its output (the reply, or the error). */
static gchar *
call_as_user(const gchar *address, guint uid, guint gid, const gchar *method, const gchar *const *args)
{
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
  gchar *out = NULL;

  g_ptr_array_add(argv, g_strdup("setpriv"));
  g_ptr_array_add(argv, g_strdup_printf("--reuid=%u", uid));
  g_ptr_array_add(argv, g_strdup_printf("--regid=%u", gid));
  g_ptr_array_add(argv, g_strdup("--clear-groups"));
  g_ptr_array_add(argv, g_strdup("gdbus"));
  g_ptr_array_add(argv, g_strdup("call"));
  g_ptr_array_add(argv, g_strdup("--system"));
  g_ptr_array_add(argv, g_strdup("--dest"));
  g_ptr_array_add(argv, g_strdup(CD_SERVICE_BUS_NAME));
  g_ptr_array_add(argv, g_strdup("--object-path"));
  g_ptr_array_add(argv, g_strdup(CD_SERVICE_OBJECT_PATH));
  g_ptr_array_add(argv, g_strdup("--method"));
  g_ptr_array_add(argv, g_strdup(method));
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add(argv, g_strdup(args[i]));
  g_ptr_array_add(argv, NULL);
  g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
  proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *) argv->pdata, &error);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &out, NULL, &error));
  g_assert_no_error(error);
  return out;
}

/* StartBatch as root (allowed on the system bus) with @workflow, @source,
 * @archive and one "set" option or "workers" (NULL for none): the error. */
static GError *
start_batch_error(Fixture *f, const gchar *workflow, const gchar *source, const gchar *archive, const gchar *set,
                  guint workers)
{
  const gchar *sources[] = { source, NULL };
  g_autoptr(GVariantBuilder) options = g_variant_builder_new(G_VARIANT_TYPE("a{sv}"));
  GError *error = NULL;
  guint id = 0;

  if (set != NULL) {
    const gchar *sets[] = { set, NULL };
    g_variant_builder_add(options, "{sv}", "set", g_variant_new_strv(sets, -1));
  }
  if (workers > 0)
    g_variant_builder_add(options, "{sv}", "workers", g_variant_new_uint32(workers));
  cd_dbus_chartdesk1_call_start_batch_sync(f->proxy, workflow, sources, archive, g_variant_builder_end(options), &id,
                                           NULL, &error);
  g_assert_cmpuint(id, ==, 0);
  return error;
}

static GError *
search_error(Fixture *f, const gchar *archive, const gchar *key, guint value)
{
  g_autoptr(GVariantBuilder) query = g_variant_builder_new(G_VARIANT_TYPE("a{sv}"));
  g_autofree gchar *hits = NULL;
  GError *error = NULL;

  g_variant_builder_add(query, "{sv}", "text", g_variant_new_string("patient"));
  if (key != NULL)
    g_variant_builder_add(query, "{sv}", key, g_variant_new_uint32(value));
  cd_dbus_chartdesk1_call_search_sync(f->proxy, archive, g_variant_builder_end(query), &hits, NULL, &error);
  return error;
}

static void
assert_refused(GError *error, GQuark domain, gint code, const gchar *words)
{
  g_assert_nonnull(error);
  g_test_message("refused: %s", error->message);
  g_assert_error(error, domain, code);
  g_assert_nonnull(strstr(error->message, words));
  g_error_free(error);
}

/* Rows of the archive's audit log with @action whose actor and detail
 * contain @actor and @detail. */
static guint
audit_count(const gchar *archive_path, const gchar *action, const gchar *actor, const gchar *detail)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  g_autofree gchar *actor_like = g_strdup_printf("%%%s%%", actor);
  g_autofree gchar *detail_like = g_strdup_printf("%%%s%%", detail);
  guint n = 0;

  g_assert_cmpint(sqlite3_open_v2(archive_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  g_assert_cmpint(sqlite3_prepare_v2(db,
                                     "SELECT count(*) FROM audit WHERE action = ? AND actor LIKE ? AND detail LIKE ?",
                                     -1, &stmt, NULL),
                  ==, SQLITE_OK);
  sqlite3_bind_text(stmt, 1, action, -1, SQLITE_STATIC);
  sqlite3_bind_text(stmt, 2, actor_like, -1, SQLITE_STATIC);
  sqlite3_bind_text(stmt, 3, detail_like, -1, SQLITE_STATIC);
  if (sqlite3_step(stmt) == SQLITE_ROW)
    n = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

/* On the system bus (a private bus any user may connect to), chartdeskd
 * serves root and the members of allowed-group, and even they choose
 * workflows by name from folders only root or the service's user can
 * write, archives and sources under the configured roots (`..` and
 * symlinks resolved), no text option, bounded paging; each refusal has
 * its error. Another user (daemon, uid 1) is refused every method and
 * reads no archive path from the properties; the refusal and ListBatches
 * are in the audit log; Progress signals carry no archive or owner;
 * archives are created 0640 with the group under umask 0; and a batch
 * journalled with an untrusted workflow is not resumed at start-up. */
static void
test_service_system_bus(Fixture *f, gconstpointer data)
{
  g_autofree gchar *address = NULL;
  g_autoptr(GSubprocess) bus = NULL;
  g_autofree gchar *saved = g_strdup(g_getenv("DBUS_SESSION_BUS_ADDRESS"));
  g_autofree gchar *exe = g_test_build_filename(G_TEST_BUILT, "core", "service", "chartdeskd", NULL);
  g_autofree gchar *trusted = g_test_build_filename(G_TEST_DIST, "tests", "service", NULL);
  g_autofree gchar *trusted_file = g_build_filename(trusted, "service-test.workflow", NULL);
  g_autofree gchar *setpriv = g_find_program_in_path("setpriv");
  g_autofree gchar *gdbus = g_find_program_in_path("gdbus");
  g_autofree gchar *untrusted = g_build_filename(f->dir, "open-workflows", NULL);
  g_autofree gchar *evil = g_build_filename(untrusted, "evil.workflow", NULL);
  g_autofree gchar *archive_root = g_build_filename(f->dir, "archives", NULL);
  g_autofree gchar *source_root = g_build_filename(f->dir, "sources", NULL);
  g_autofree gchar *outside = g_build_filename(f->dir, "outside", NULL);
  g_autofree gchar *rooted_archive = g_build_filename(archive_root, "ward.archive", NULL);
  g_autofree gchar *outside_archive = g_build_filename(outside, "x.archive", NULL);
  g_autofree gchar *escape = g_build_filename(source_root, "..", "outside", NULL);
  g_autofree gchar *link = g_build_filename(source_root, "link", NULL);
  g_autofree gchar *contents = NULL;
  g_autofree gchar *config = NULL;
  g_autofree gchar *in = NULL;
  g_autofree gchar *answer = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  struct group *nogroup = getgrgid(65534);
  const gchar *get_args[] = { CD_SERVICE_BUS_NAME, "DefaultArchive", NULL };
  GStatBuf st;
  mode_t umask_saved;
  guint id;
  gint64 deadline;
  gint64 journalled;

  if (getuid() != 0 || setpriv == NULL || gdbus == NULL || nogroup == NULL || getpwuid(1) == NULL) {
    g_test_skip("needs root, setpriv, gdbus, group 65534 and uid 1 to call as other users");
    return;
  }
  bus = start_open_bus(f, &address);
  g_setenv("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  g_clear_object(&f->connection);
  f->connection = g_dbus_connection_new_for_address_sync(
      address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
      NULL, &error);
  g_assert_no_error(error);

  g_assert_cmpint(g_mkdir_with_parents(untrusted, 0755), ==, 0);
  g_assert_cmpint(g_chmod(untrusted, 0777), ==, 0);
  g_assert_true(g_file_get_contents(trusted_file, &contents, NULL, NULL));
  g_assert_true(g_file_set_contents(evil, contents, -1, NULL));
  g_assert_cmpint(g_mkdir_with_parents(archive_root, 0755), ==, 0);
  g_assert_cmpint(g_mkdir_with_parents(outside, 0755), ==, 0);
  g_free(in);
  in = make_inputs(f, "sources/in", 3, 1, 41);
  g_clear_pointer(&in, g_free);
  in = make_inputs(f, "outside/in", 1, 1, 42);
  g_clear_pointer(&in, g_free);
  g_assert_cmpint(symlink(outside, link), ==, 0);
  in = g_build_filename(source_root, "in", NULL);
  config = g_strdup_printf("[service]\narchive=%s\nworkflow=service-test\nworkflow-path=%s;%s\n"
                           "state-dir=%s/state\nworkers=2\nbus=system\nallowed-group=%s\n"
                           "archive-roots=%s\nsource-roots=%s\n",
                           f->archive, trusted, untrusted, f->dir, nogroup->gr_name, archive_root, source_root);
  g_assert_true(g_file_set_contents(f->config, config, -1, NULL));

  launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
  g_subprocess_launcher_setenv(launcher, "CHARTDESK_PLUGIN_ALLOWLIST", "files,classify", TRUE);
  /* whatever the umask, archives are the service's and its group's */
  umask_saved = umask(0);
  f->daemon = g_subprocess_launcher_spawn(launcher, &error, exe, "--config", f->config, NULL);
  umask(umask_saved);
  g_assert_no_error(error);
  deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
  while (!name_has_owner(f)) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(10000);
  }
  f->proxy = cd_dbus_chartdesk1_proxy_new_sync(f->connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, CD_SERVICE_BUS_NAME,
                                               CD_SERVICE_OBJECT_PATH, NULL, &error);
  g_assert_no_error(error);
  g_signal_connect(f->proxy, "progress", G_CALLBACK(on_progress), f);
  g_signal_connect(f->proxy, "batch-finished", G_CALLBACK(on_batch_finished), f);

  /* workflows: by name, from folders nobody else can write */
  assert_refused(start_batch_error(f, trusted_file, in, "", NULL, 0), CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                 "workflows are chosen by name");
  assert_refused(start_batch_error(f, "evil", in, "", NULL, 0), CD_ERROR, CD_ERROR_WORKFLOW,
                 "writable by its group or by others");
  assert_refused(start_batch_error(f, "../evil", in, "", NULL, 0), CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                 "chosen by name");
  /* archives: the configured ones and those under archive-roots */
  assert_refused(start_batch_error(f, "", in, outside_archive, NULL, 0), G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                 "not an archive of this service");
  /* sources: under source-roots or a hot folder, .. and symlinks resolved */
  {
    g_autofree gchar *outside_in = g_build_filename(outside, "in", NULL);
    g_autofree gchar *escape_in = g_build_filename(escape, "in", NULL);
    g_autofree gchar *link_in = g_build_filename(link, "in", NULL);
    assert_refused(start_batch_error(f, "", outside_in, "", NULL, 0), G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                   "not under a folder this service reads from");
    assert_refused(start_batch_error(f, "", escape_in, "", NULL, 0), G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                   "not under a folder this service reads from");
    assert_refused(start_batch_error(f, "", link_in, "", NULL, 0), G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                   "not under a folder this service reads from");
  }
  /* options: no command, file or pattern from a caller; sane workers */
  assert_refused(start_batch_error(f, "", in, "", "external.command=/bin/sh -c id", 0), CD_ERROR,
                 CD_ERROR_INVALID_ARGUMENT, "text option");
  assert_refused(start_batch_error(f, "", in, "", NULL, 100000), CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                 "workers: 100000 is not from 1 to 256");
  /* reads: allowed archives only, bounded paging */
  assert_refused(search_error(f, outside_archive, NULL, 0), G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                 "not an archive of this service");
  assert_refused(search_error(f, "", "limit", 0), CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "limit must be from 1 to 1000");
  assert_refused(search_error(f, "", "limit", 5000), CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "limit must be from 1");
  assert_refused(search_error(f, "", "offset", 2000000), CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "offset from 0 to 1000000");
  g_assert_true(g_file_test(outside_archive, G_FILE_TEST_EXISTS) == FALSE);

  /* what is allowed runs: into the default archive and one under a root */
  id = start_batch(f, in);
  wait_finished(f, id, 30);
  g_assert_cmpstr(f->finished_status, ==, "finished");
  {
    const gchar *sources[] = { in, NULL };
    cd_dbus_chartdesk1_call_start_batch_sync(f->proxy, "service-test", sources, rooted_archive,
                                             g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0), &id, NULL, &error);
    g_assert_no_error(error);
    wait_finished(f, id, 30);
    g_assert_cmpstr(f->finished_status, ==, "finished");
  }
  g_assert_cmpuint(archived_pages(rooted_archive), ==, 3);
  g_assert_cmpuint(archived_pages(f->archive), ==, 3);
  g_assert_cmpint(g_stat(f->archive, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0640);
  g_assert_cmpint(st.st_gid, ==, nogroup->gr_gid);
  g_assert_cmpint(g_stat(rooted_archive, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0640);
  g_assert_cmpuint(f->progress->len, >, 0);
  for (guint i = 0; i < f->progress->len; i++) {
    GVariant *progress = g_ptr_array_index(f->progress, i);
    g_assert_false(g_variant_lookup(progress, "archive", "&s", NULL));
    g_assert_false(g_variant_lookup(progress, "owner", "&s", NULL));
    g_assert_true(g_variant_lookup(progress, "state", "&s", NULL));
  }

  /* another user: refused every method, told no path, and audited */
  answer = call_as_user(address, 1, 1, CD_SERVICE_BUS_NAME ".ListBatches", NULL);
  g_assert_nonnull(strstr(answer, "AccessDenied"));
  g_assert_null(strstr(answer, f->archive));
  g_clear_pointer(&answer, g_free);
  answer = call_as_user(address, 1, 1, "org.freedesktop.DBus.Properties.Get", get_args);
  g_test_message("DefaultArchive as uid 1: %s", answer);
  g_assert_null(strstr(answer, f->archive));
  g_clear_pointer(&answer, g_free);
  g_assert_cmpuint(audit_count(f->archive, "dbus-denied", "uid 1,", "ListBatches"), ==, 1);
  /* a member of allowed-group lists the batches, and that is audited too */
  answer = call_as_user(address, 65534, 65534, CD_SERVICE_BUS_NAME ".ListBatches", NULL);
  g_assert_null(strstr(answer, "Error"));
  g_assert_nonnull(strstr(answer, "finished"));
  g_assert_cmpuint(audit_count(f->archive, "list-batches", "uid 65534,", "batches"), ==, 1);
  g_assert_cmpuint(audit_count(rooted_archive, "list-batches", "uid 65534,", "batches"), ==, 1);
  daemon_kill(f, SIGTERM);

  /* a journal naming an untrusted workflow is not resumed */
  {
    g_autoptr(CdArchive) archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_NONE, &error);
    const gchar *inputs[] = { in, NULL };
    g_autofree gchar *status = NULL;
    g_autoptr(GVariant) batches = NULL;
    g_assert_no_error(error);
    journalled = cd_archive_queue_batch(archive, "service-test", evil, NULL, inputs, &error);
    g_assert_no_error(error);
    g_clear_object(&archive);
    f->daemon = g_subprocess_launcher_spawn(launcher, &error, exe, "--config", f->config, NULL);
    g_assert_no_error(error);
    deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    while (!name_has_owner(f)) {
      g_assert_cmpint(g_get_monotonic_time(), <, deadline);
      g_usleep(10000);
    }
    g_clear_object(&f->proxy);
    f->proxy = cd_dbus_chartdesk1_proxy_new_sync(f->connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                 CD_SERVICE_BUS_NAME, CD_SERVICE_OBJECT_PATH, NULL, &error);
    g_assert_no_error(error);
    /* the service looks at journals once it owns its name */
    deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    while (g_strcmp0(status = archive_batch_status(f->archive, journalled), "queued") == 0) {
      g_assert_cmpint(g_get_monotonic_time(), <, deadline);
      g_clear_pointer(&status, g_free);
      g_usleep(10000);
    }
    g_assert_cmpstr(status, ==, "failed");
    cd_dbus_chartdesk1_call_list_batches_sync(f->proxy, &batches, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_variant_n_children(batches), ==, 0);
  }
  daemon_kill(f, SIGTERM);
  g_setenv("DBUS_SESSION_BUS_ADDRESS", saved, TRUE);
  g_subprocess_send_signal(bus, SIGTERM);
  g_subprocess_wait(bus, NULL, NULL);
}

/* On the session bus the caller is the service's own user and may give a
 * workflow file, but not a relative one, and not one in a folder others
 * can write (the service would run what they put there); a good one runs. */
static void
test_service_workflow_trust(Fixture *f, gconstpointer data)
{
  g_autofree gchar *trusted_file = g_test_build_filename(G_TEST_DIST, "tests", "service", "service-test.workflow", NULL);
  g_autofree gchar *open_dir = g_build_filename(f->dir, "open", NULL);
  g_autofree gchar *open_file = g_build_filename(open_dir, "copy.workflow", NULL);
  g_autofree gchar *in = make_inputs(f, "in", 2, 1, 51);
  g_autofree gchar *contents = NULL;
  const gchar *sources[] = { in, NULL };
  g_autoptr(GError) error = NULL;
  guint id = 0;

  g_assert_true(g_file_get_contents(trusted_file, &contents, NULL, NULL));
  g_assert_cmpint(g_mkdir_with_parents(open_dir, 0755), ==, 0);
  g_assert_true(g_file_set_contents(open_file, contents, -1, NULL));
  g_assert_cmpint(g_chmod(open_dir, 0777), ==, 0);
  write_config(f, NULL);
  daemon_start(f);
  assert_refused(start_batch_error(f, open_file, in, "", NULL, 0), CD_ERROR, CD_ERROR_WORKFLOW,
                 "its folder is writable by its group or by others (mode 0777)");
  g_assert_cmpint(g_chmod(open_dir, 0755), ==, 0);
  g_assert_cmpint(g_chmod(open_file, 0666), ==, 0);
  assert_refused(start_batch_error(f, open_file, in, "", NULL, 0), CD_ERROR, CD_ERROR_WORKFLOW,
                 "the workflow is writable by its group or by others (mode 0666)");
  assert_refused(start_batch_error(f, "tests/service/service-test.workflow", in, "", NULL, 0), CD_ERROR,
                 CD_ERROR_INVALID_ARGUMENT, "workflows are chosen by name");
  g_assert_cmpint(g_chmod(open_file, 0644), ==, 0);
  cd_dbus_chartdesk1_call_start_batch_sync(f->proxy, open_file, sources, "",
                                           g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0), &id, NULL, &error);
  g_assert_no_error(error);
  wait_finished(f, id, 30);
  g_assert_cmpstr(f->finished_status, ==, "finished");
}

/* [service] audit-key: the key file is created at start (mode 0600) when
 * absent, and the service's entries verify under that key, not under
 * another (the tests' default key), which is told the log is sealed with
 * another key. */
static void
test_service_audit_key(Fixture *f, gconstpointer data)
{
  g_autofree gchar *in = make_inputs(f, "in", 1, 1, 5);
  g_autofree gchar *key = g_build_filename(f->dir, "keys", "service.key", NULL);
  g_autofree gchar *extra = g_strdup_printf("audit-key=%s\n", key);
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GError) error = NULL;
  GStatBuf st;
  guint id;

  write_config(f, extra);
  daemon_start(f);
  id = start_batch(f, in);
  wait_finished(f, id, 30);
  g_assert_cmpint(g_stat(key, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0600);
  g_assert_cmpint(st.st_size, ==, 32);

  archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  g_assert_false(cd_archive_verify_audit(archive, NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_assert_nonnull(strstr(error->message, "sealed with another key"));
  g_clear_error(&error);
  g_clear_object(&archive);

  archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_archive_set_audit_key_file(archive, key, &error));
  g_assert_true(cd_archive_verify_audit(archive, NULL, &error));
  g_assert_no_error(error);
}

/* Makes a real Unix account for the test (useradd); its uid, or 0 if it
 * cannot be made. One left by an aborted run is reused. */
static guint
make_unix_user(const gchar *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  struct passwd *pw;

  if ((pw = getpwnam(name)) != NULL)
    return pw->pw_uid;
  proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, "useradd",
                          "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name, NULL);
  if (proc == NULL || !g_subprocess_wait_check(proc, NULL, NULL))
    return 0;
  pw = getpwnam(name);
  return pw != NULL ? pw->pw_uid : 0;
}

static void
remove_unix_user(const gchar *name)
{
  g_autoptr(GSubprocess) proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                                 NULL, "userdel", name, NULL);
  if (proc != NULL)
    g_subprocess_wait(proc, NULL, NULL);
}

/* Rows of the audit log with @action by exactly @actor. */
static gint
audit_count_exact(const gchar *archive_path, const gchar *action, const gchar *actor)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint n;

  g_assert_cmpint(sqlite3_open_v2(archive_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  g_assert_cmpint(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit WHERE action = ? AND actor = ?", -1, &stmt, NULL),
                  ==, SQLITE_OK);
  sqlite3_bind_text(stmt, 1, action, -1, SQLITE_STATIC);
  sqlite3_bind_text(stmt, 2, actor, -1, SQLITE_STATIC);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

/* The service as gatekeeper, with real Unix users made for the test calling
 * over a bus: each caller is mapped to their user in the directory; an
 * archivist searches (restricted types left out) and is named in the audit
 * log, a scanner is refused with the missing permission, an account mapped
 * to nobody is refused, and a user disabled is refused on the next call. */
static void
test_service_users(Fixture *f, gconstpointer data)
{
  g_autofree gchar *address = NULL;
  g_autoptr(GSubprocess) bus = NULL;
  g_autofree gchar *exe = g_test_build_filename(G_TEST_BUILT, "core", "service", "chartdeskd", NULL);
  g_autofree gchar *setpriv = g_find_program_in_path("setpriv");
  g_autofree gchar *gdbus = g_find_program_in_path("gdbus");
  g_autofree gchar *useradd = g_find_program_in_path("useradd");
  g_autofree gchar *users = g_build_filename(f->dir, "state", "users.conf", NULL);
  g_autofree gchar *taxonomy = g_build_filename(f->dir, "taxonomy.conf", NULL);
  const gchar *arch = "cdtest-archivist";
  const gchar *scan = "cdtest-scanner";
  const gchar *stranger = "cdtest-stranger";
  g_autofree gchar *contents = NULL;
  g_autofree gchar *more = NULL;
  g_autofree gchar *found = NULL;
  g_autofree gchar *denied = NULL;
  g_autofree gchar *unknown = NULL;
  g_autofree gchar *disabled = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(CdUserDirectory) directory = NULL;
  g_autoptr(GError) error = NULL;
  const gchar *types[] = { "progress-note", "psychotherapy-note", "consultation", NULL };
  const gchar *archivist[] = { "archivist", NULL };
  const gchar *scanner[] = { "scanner", NULL };
  const gchar *search[] = { "", "{'text': <'typed'>}", NULL };
  guint arch_uid, scan_uid, stranger_uid;
  gint64 deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;

  if (getuid() != 0 || setpriv == NULL || gdbus == NULL || useradd == NULL) {
    g_test_skip("needs root, useradd, setpriv and gdbus to call as real users made for the test");
    return;
  }
  arch_uid = make_unix_user(arch);
  scan_uid = make_unix_user(scan);
  stranger_uid = make_unix_user(stranger);
  if (arch_uid == 0 || scan_uid == 0 || stranger_uid == 0) {
    remove_unix_user(arch);
    remove_unix_user(scan);
    remove_unix_user(stranger);
    g_test_skip("useradd could not make the test's Unix users");
    return;
  }

  g_assert_true(g_file_set_contents(taxonomy,
                                    "[taxonomy]\nfallback=other\n[progress-note]\n[consultation]\n"
                                    "[psychotherapy-note]\nrestricted=true\n[other]\n",
                                    -1, NULL));
  archive_typed_documents(f->archive, types);
  directory = cd_user_directory_open(users, TRUE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_user_directory_add(directory, "alice", "Alice Archivist", archivist, arch, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(cd_user_directory_add(directory, "sam", "Sam Scanner", scanner, scan, NULL, &error));
  g_assert_no_error(error);

  bus = start_open_bus(f, &address);
  write_config(f, NULL);
  g_assert_true(g_file_get_contents(f->config, &contents, NULL, NULL));
  more = g_strdup_printf("%sbus=system\nusers=%s\n", contents, users);
  g_assert_true(g_file_set_contents(f->config, more, -1, NULL));
  launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_setenv(launcher, "DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
  g_subprocess_launcher_setenv(launcher, "CHARTDESK_TAXONOMY", taxonomy, TRUE);
  f->daemon = g_subprocess_launcher_spawn(launcher, &error, exe, "--config", f->config, NULL);
  g_assert_no_error(error);
  g_clear_object(&f->connection);
  f->connection = g_dbus_connection_new_for_address_sync(
      address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
      NULL, &error);
  g_assert_no_error(error);
  while (!name_has_owner(f)) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(10000);
  }

  found = call_as_user(address, arch_uid, arch_uid, CD_SERVICE_BUS_NAME ".Search", search);
  g_test_message("archivist: %s", found);
  g_assert_null(strstr(found, "Error"));
  g_assert_nonnull(strstr(found, "progress-note"));
  g_assert_nonnull(strstr(found, "consultation"));
  g_assert_null(strstr(found, "psychotherapy-note"));
  g_assert_cmpint(audit_count_exact(f->archive, "search", "alice"), ==, 1);

  denied = call_as_user(address, scan_uid, scan_uid, CD_SERVICE_BUS_NAME ".Search", search);
  g_test_message("scanner: %s", denied);
  g_assert_nonnull(strstr(denied, "PermissionDenied"));
  g_assert_nonnull(strstr(denied, "user sam (scanner) may not search the archive: needs read-charts"));
  g_assert_cmpint(audit_count_exact(f->archive, "denied", "sam"), ==, 1);

  /* the batch list is the scanner's, not the archivist's */
  {
    g_autofree gchar *listed = call_as_user(address, scan_uid, scan_uid, CD_SERVICE_BUS_NAME ".ListBatches", NULL);
    g_autofree gchar *hidden = call_as_user(address, arch_uid, arch_uid, CD_SERVICE_BUS_NAME ".ListBatches", NULL);
    g_assert_null(strstr(listed, "Error"));
    g_assert_nonnull(strstr(hidden, "user alice (archivist) may not see batches: needs read-batches"));
  }

  unknown = call_as_user(address, stranger_uid, stranger_uid, CD_SERVICE_BUS_NAME ".Search", search);
  g_assert_nonnull(strstr(unknown, "PermissionDenied"));
  g_assert_nonnull(strstr(unknown, "is not mapped to a Chartdesk user"));

  /* break-the-glass: the scanner, with a reason, may read until it ends */
  {
    const gchar *no_reason[] = { "", NULL };
    const gchar *reason[] = { "ED patient unconscious", NULL };
    g_autofree gchar *refused = call_as_user(address, scan_uid, scan_uid, CD_SERVICE_BUS_NAME ".BreakGlass", no_reason);
    g_autofree gchar *granted = call_as_user(address, scan_uid, scan_uid, CD_SERVICE_BUS_NAME ".BreakGlass", reason);
    g_autofree gchar *glass = NULL;

    g_assert_nonnull(strstr(refused, "InvalidArgument"));
    g_assert_null(strstr(granted, "Error"));
    g_assert_cmpint(audit_count_exact(f->archive, "break-glass", "sam"), ==, 1);
    glass = call_as_user(address, scan_uid, scan_uid, CD_SERVICE_BUS_NAME ".Search", search);
    g_assert_null(strstr(glass, "Error"));
    /* restricted documents too: emergency access is to the whole chart */
    g_assert_nonnull(strstr(glass, "psychotherapy-note"));
    g_assert_cmpint(audit_count(f->archive, "search", "sam", "break-glass: ED patient unconscious"), ==, 1);
  }

  g_assert_true(cd_user_directory_set_active(directory, "alice", FALSE, &error));
  g_assert_no_error(error);
  disabled = call_as_user(address, arch_uid, arch_uid, CD_SERVICE_BUS_NAME ".Search", search);
  g_assert_nonnull(strstr(disabled, "PermissionDenied"));
  g_assert_nonnull(strstr(disabled, "user alice is disabled"));
  g_assert_cmpint(audit_count_exact(f->archive, "search", "alice"), ==, 1);

  daemon_kill(f, SIGTERM);
  g_subprocess_send_signal(bus, SIGTERM);
  g_subprocess_wait(bus, NULL, NULL);
  remove_unix_user(arch);
  remove_unix_user(scan);
  remove_unix_user(stranger);
}

int
main(int argc, char **argv)
{
  g_autoptr(GTestDBus) bus = NULL;
  gint status;

  g_test_init(&argc, &argv, NULL);
  cd_service_register_errors();
  /* the service loads only what these tests need */
  g_setenv("CHARTDESK_PLUGIN_ALLOWLIST", "files", TRUE);
  g_test_add("/chartdesk/service/start", Fixture, NULL, fixture_setup, test_service_start, fixture_teardown);
  g_test_add("/chartdesk/service/config", Fixture, NULL, fixture_setup, test_service_config, fixture_teardown);
  g_test_add("/chartdesk/service/batch", Fixture, NULL, fixture_setup, test_service_batch, fixture_teardown);
  g_test_add("/chartdesk/service/pause-cancel", Fixture, NULL, fixture_setup, test_service_pause_cancel,
             fixture_teardown);
  g_test_add("/chartdesk/service/pause-restart", Fixture, NULL, fixture_setup, test_service_pause_restart,
             fixture_teardown);
  g_test_add("/chartdesk/service/audit", Fixture, NULL, fixture_setup, test_service_audit, fixture_teardown);
  g_test_add("/chartdesk/service/hot-folder", Fixture, NULL, fixture_setup, test_service_hot_folder, fixture_teardown);
  g_test_add("/chartdesk/service/kill-resume", Fixture, NULL, fixture_setup, test_service_kill_resume,
             fixture_teardown);
  g_test_add("/chartdesk/service/hot-folder-kill", Fixture, NULL, fixture_setup, test_service_hot_folder_kill,
             fixture_teardown);
  g_test_add("/chartdesk/service/sigterm", Fixture, NULL, fixture_setup, test_service_sigterm, fixture_teardown);
  g_test_add("/chartdesk/service/activation", Fixture, NULL, fixture_setup, test_service_activation, fixture_teardown);
  g_test_add("/chartdesk/service/access", Fixture, NULL, fixture_setup, test_service_access, fixture_teardown);
  g_test_add("/chartdesk/service/users", Fixture, NULL, fixture_setup, test_service_users, fixture_teardown);
  g_test_add("/chartdesk/service/cli", Fixture, NULL, fixture_setup, test_service_cli, fixture_teardown);
  g_test_add("/chartdesk/service/search-type", Fixture, NULL, fixture_setup, test_service_search_type,
             fixture_teardown);
  g_test_add("/chartdesk/service/workflow-trust", Fixture, NULL, fixture_setup, test_service_workflow_trust,
             fixture_teardown);
  g_test_add("/chartdesk/service/system-bus", Fixture, NULL, fixture_setup, test_service_system_bus, fixture_teardown);
  g_test_add("/chartdesk/service/index-merge", Fixture, NULL, fixture_setup, test_service_index_merge,
             fixture_teardown);
  g_test_add("/chartdesk/service/index-merge-busy", Fixture, NULL, fixture_setup, test_service_index_merge_busy,
             fixture_teardown);
  g_test_add("/chartdesk/service/archive-idle", Fixture, NULL, fixture_setup, test_service_archive_idle,
             fixture_teardown);
  g_test_add("/chartdesk/service/concurrent-reads", Fixture, NULL, fixture_setup, test_service_concurrent_reads,
             fixture_teardown);
  g_test_add("/chartdesk/service/audit-key", Fixture, NULL, fixture_setup, test_service_audit_key, fixture_teardown);
  /* one private dbus-daemon for all the tests; each test's service leaves
   * the name free when it is killed at its end */
  bus = g_test_dbus_new(G_TEST_DBUS_NONE);
  {
    g_autofree gchar *template =
        g_test_build_filename(G_TEST_DIST, "data", "org.chartdesk.Chartdesk1.service.in", NULL);
    g_autofree gchar *bindir = g_test_build_filename(G_TEST_BUILT, "core", "service", NULL);
    g_autofree gchar *services = NULL;
    g_autofree gchar *user_config = NULL;
    g_autofree gchar *contents = NULL;
    g_autofree gchar *service_file = NULL;
    g_auto(GStrv) parts = NULL;
    g_autofree gchar *joined = NULL;

    activation_dir = g_dir_make_tmp("cd-activation-XXXXXX", NULL);
    services = g_build_filename(activation_dir, "services", NULL);
    user_config = g_build_filename(activation_dir, "config", "chartdesk", NULL);
    g_mkdir_with_parents(services, 0755);
    g_mkdir_with_parents(user_config, 0755);
    if (!g_file_get_contents(template, &contents, NULL, NULL))
      g_error("cannot read %s", template);
    parts = g_strsplit(contents, "@bindir@", -1);
    joined = g_strjoinv(bindir, parts);
    service_file = g_build_filename(services, "org.chartdesk.Chartdesk1.service", NULL);
    g_file_set_contents(service_file, joined, -1, NULL);
    g_test_dbus_add_service_dir(bus, services);
    /* the bus, and so an activated chartdeskd, inherits this */
    g_free(user_config);
    user_config = g_build_filename(activation_dir, "config", NULL);
    g_setenv("XDG_CONFIG_HOME", user_config, TRUE);
  }
  g_test_dbus_up(bus);
  status = g_test_run();
  g_test_dbus_down(bus);
  cd_test_rm_rf(activation_dir);
  return status;
}
