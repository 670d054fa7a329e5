/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * chartdeskd stations delivering to one PostgreSQL archive (issue 18,
 * part 2), for real: a PostgreSQL 15 cluster started by the test (initdb
 * in a temporary folder, Unix socket only), a private dbus-daemon per
 * station, the built chartdeskd on each, batches of generated G4 TIFFs
 * through the OCR-free tests/service workflow. What the server holds is
 * counted with psql, by source file hash and page.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <leptonica/allheaders.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/prctl.h>

#include "cd-engine.h"
#include "cd-pg-cluster-ctl.h"
#include "cd-service-common.h"
#include "cd-test-tiff.h"
#include "cd-test-util.h"

static CdPgCluster *cluster; /* one for the binary; each test its own database */

#define N_STATIONS 3

typedef struct {
  gchar *name;
  gchar *archive;
  gchar *config;
  gchar *log;
  GTestDBus *bus;
  GDBusConnection *connection;
  CdDBusChartdesk1 *proxy;
  GSubprocess *daemon;
} Station;

typedef struct {
  gchar *dir;
  gchar *database;
  gchar *uri;
  Station stations[N_STATIONS];
} Fixture;

static guint database_counter;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp("cd-pg-service-XXXXXX", &error);
  g_assert_no_error(error);
  f->database = g_strdup_printf("stations%u", ++database_counter);
  if (cluster != NULL) {
    f->uri = cd_pg_cluster_create_database(cluster, f->database, &error);
    g_assert_no_error(error);
  }
}

static void
station_stop(Station *s, gint sig)
{
  if (s->daemon == NULL)
    return;
  g_subprocess_send_signal(s->daemon, sig);
  g_subprocess_wait(s->daemon, NULL, NULL);
  g_clear_object(&s->daemon);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < N_STATIONS; i++) {
    Station *s = &f->stations[i];
    station_stop(s, SIGKILL);
    g_clear_object(&s->proxy);
    if (s->connection != NULL)
      g_dbus_connection_close_sync(s->connection, NULL, NULL);
    g_clear_object(&s->connection);
    if (s->bus != NULL)
      g_test_dbus_down(s->bus);
    g_clear_object(&s->bus);
    g_free(s->name);
    g_free(s->archive);
    g_free(s->config);
    g_free(s->log);
  }
  cd_test_rm_rf(f->dir);
  g_free(f->dir);
  g_free(f->database);
  g_free(f->uri);
}

static guint64
server_count(Fixture *f, const gchar *sql)
{
  gint64 v = cd_pg_cluster_count(cluster, f->database, sql);
  g_assert_cmpint(v, >=, 0);
  return (guint64) v;
}

static gchar *
make_inputs(Fixture *f, const gchar *name, guint n_files, guint n_pages, guint32 seed)
{
  return cd_test_make_inputs(f->dir, name, n_files, n_pages, seed);
}

/* Station @i: its own bus, spool and configuration delivering to the
 * test's database every second. */
static Station *
station_init(Fixture *f, guint i, const gchar *server)
{
  Station *s = &f->stations[i];
  g_autofree gchar *workflows = g_test_build_filename(G_TEST_DIST, "tests", "service", NULL);
  g_autofree gchar *text = NULL;
  g_autofree gchar *key = NULL;
  g_autoptr(GError) error = NULL;

  s->name = g_strdup_printf("station-%u", i + 1);
  s->archive = g_strdup_printf("%s/%s.archive", f->dir, s->name);
  s->config = g_strdup_printf("%s/%s.conf", f->dir, s->name);
  s->log = g_strdup_printf("%s/%s.log", f->dir, s->name);
  /* one key of the server's audit chain for every station */
  key = g_strdup_printf("%s/server-audit.key", f->dir);
  if (!g_file_test(key, G_FILE_TEST_EXISTS)) {
    g_file_set_contents(key, "0123456789abcdef0123456789abcdef", 32, &error);
    g_assert_no_error(error);
    g_assert_cmpint(g_chmod(key, 0600), ==, 0);
  }
  text = g_strdup_printf("[service]\narchive=%s\nworkflow=service-test\nworkflow-path=%s\nstate-dir=%s/%s-state\n"
                         "workers=2\n\n[archive]\nserver=%s\nstation=%s\ndeliver-interval=1\nserver-audit-key=%s\n",
                         s->archive, workflows, f->dir, s->name, server != NULL ? server : f->uri, s->name, key);
  g_file_set_contents(s->config, text, -1, &error);
  g_assert_no_error(error);
  s->bus = g_test_dbus_new(G_TEST_DBUS_NONE);
  g_test_dbus_up(s->bus);
  s->connection = g_dbus_connection_new_for_address_sync(g_test_dbus_get_bus_address(s->bus),
                                                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                             G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                         NULL, NULL, &error);
  g_assert_no_error(error);
  return s;
}

static gboolean
station_has_name(Station *s)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
      s->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
      g_variant_new("(s)", CD_SERVICE_BUS_NAME), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean owned = FALSE;
  if (reply != NULL)
    g_variant_get(reply, "(b)", &owned);
  return owned;
}

/* A station's chartdeskd dies with the test, even when the test aborts
 * before its teardown. */
static void
station_child_setup(gpointer data)
{
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Starts the station's chartdeskd (its log in s->log) and waits for its name. */
static void
station_start(Station *s)
{
  g_autofree gchar *exe = g_test_build_filename(G_TEST_BUILT, "core", "service", "chartdeskd", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;

  g_assert_null(s->daemon);
  g_subprocess_launcher_setenv(launcher, "DBUS_SESSION_BUS_ADDRESS", g_test_dbus_get_bus_address(s->bus), TRUE);
  g_subprocess_launcher_setenv(launcher, "G_MESSAGES_DEBUG", "", TRUE);
  g_subprocess_launcher_set_stderr_file_path(launcher, s->log);
  g_subprocess_launcher_set_child_setup(launcher, station_child_setup, NULL, NULL);
  s->daemon = g_subprocess_launcher_spawn(launcher, &error, exe, "--config", s->config, NULL);
  g_assert_no_error(error);
  while (!station_has_name(s)) {
    g_assert_nonnull(g_subprocess_get_identifier(s->daemon));
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(10000);
  }
  if (s->proxy == NULL) {
    s->proxy = cd_dbus_chartdesk1_proxy_new_sync(s->connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                 CD_SERVICE_BUS_NAME, CD_SERVICE_OBJECT_PATH, NULL, &error);
    g_assert_no_error(error);
  }
}

static guint
station_batch(Station *s, const gchar *source, gboolean paused)
{
  const gchar *sources[] = { source, NULL };
  g_autoptr(GVariantBuilder) options = g_variant_builder_new(G_VARIANT_TYPE("a{sv}"));
  g_autoptr(GError) error = NULL;
  guint id = 0;

  if (paused)
    g_variant_builder_add(options, "{sv}", "paused", g_variant_new_boolean(TRUE));
  cd_dbus_chartdesk1_call_start_batch_sync(s->proxy, "", sources, s->archive, g_variant_builder_end(options), &id, NULL,
                                           &error);
  g_assert_no_error(error);
  g_assert_cmpuint(id, >, 0);
  return id;
}

/* The batch's state from ListBatches. */
static gchar *
station_batch_state(Station *s, guint id)
{
  g_autoptr(GVariant) batches = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  GVariant *item;
  gchar *state = NULL;

  cd_dbus_chartdesk1_call_list_batches_sync(s->proxy, &batches, NULL, &error);
  g_assert_no_error(error);
  g_variant_iter_init(&iter, batches);
  while ((item = g_variant_iter_next_value(&iter)) != NULL) {
    guint32 item_id = 0;
    g_variant_lookup(item, "id", "u", &item_id);
    if (item_id == id)
      g_variant_lookup(item, "state", "s", &state);
    g_variant_unref(item);
  }
  g_assert_nonnull(state);
  return state;
}

/* The pages the batch has archived so far (ListBatches' pages-done). */
static guint
station_batch_pages(Station *s, guint id)
{
  g_autoptr(GVariant) batches = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  GVariant *item;
  guint32 pages = 0;

  cd_dbus_chartdesk1_call_list_batches_sync(s->proxy, &batches, NULL, &error);
  g_assert_no_error(error);
  g_variant_iter_init(&iter, batches);
  while ((item = g_variant_iter_next_value(&iter)) != NULL) {
    guint32 item_id = 0;
    g_variant_lookup(item, "id", "u", &item_id);
    if (item_id == id)
      g_variant_lookup(item, "pages-done", "u", &pages);
    g_variant_unref(item);
  }
  return pages;
}

static void
station_wait_batch(Station *s, guint id, const gchar *expected, guint seconds)
{
  gint64 deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
  for (;;) {
    g_autofree gchar *state = station_batch_state(s, id);
    if (g_strcmp0(state, "finished") == 0 || g_strcmp0(state, "failed") == 0 || g_strcmp0(state, "cancelled") == 0) {
      g_assert_cmpstr(state, ==, expected);
      return;
    }
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(20000);
  }
}

/* The Delivery property, read fresh (not the proxy's cache). */
static GVariant *
station_delivery(Station *s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
      s->connection, CD_SERVICE_BUS_NAME, CD_SERVICE_OBJECT_PATH, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new("(ss)", "org.chartdesk.Chartdesk1", "Delivery"), G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, -1,
      NULL, &error);
  GVariant *value = NULL;

  g_assert_no_error(error);
  g_variant_get(reply, "(v)", &value);
  return value;
}

static guint64
delivery_u64(GVariant *delivery, const gchar *key)
{
  guint64 v = 0;
  g_assert_true(g_variant_lookup(delivery, key, "t", &v));
  return v;
}

static gchar *
delivery_str(GVariant *delivery, const gchar *key)
{
  gchar *v = NULL;
  g_assert_true(g_variant_lookup(delivery, key, "s", &v));
  return v;
}

/* Waits until the station says nothing is pending and its last pass
 * worked; returns the property then. */
static GVariant *
station_wait_delivered(Station *s, guint64 at_least, guint seconds)
{
  gint64 deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
  for (;;) {
    g_autoptr(GVariant) d = station_delivery(s);
    g_autofree gchar *state = delivery_str(d, "state");
    g_autofree gchar *last_error = delivery_str(d, "last-error");
    guint64 last_pass = 0;
    g_variant_lookup(d, "last-pass", "x", &last_pass);
    /* a pass may have run before the batch's documents were committed: the
     * station has also handled @at_least documents (stored or duplicates) */
    if (delivery_u64(d, "pending-documents") == 0 && g_strcmp0(state, "idle") == 0 && last_error[0] == '\0' &&
        last_pass > 0 && delivery_u64(d, "delivered-documents") + delivery_u64(d, "duplicate-documents") >= at_least)
      return g_steal_pointer(&d);
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(50000);
  }
}

/* How often @needle is in the station's log. */
static guint
log_count(Station *s, const gchar *needle)
{
  g_autofree gchar *text = NULL;
  guint n = 0;

  if (!g_file_get_contents(s->log, &text, NULL, NULL))
    return 0;
  for (const gchar *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* Every page on the server once: as many rows as distinct (source file
 * hash, page), and @expected of them. */
static void
assert_server_pages_once(Fixture *f, guint64 expected)
{
  guint64 rows = server_count(f, "SELECT count(*) FROM pages WHERE kind = 'page'");
  guint64 distinct = server_count(
      f, "SELECT count(*) FROM (SELECT DISTINCT source_sha256, source_page FROM pages WHERE kind = 'page') AS d");
  g_assert_cmpuint(rows, ==, expected);
  g_assert_cmpuint(distinct, ==, expected);
}

/* The pages the server holds from @station. */
static guint64
server_station_pages(Fixture *f, const gchar *station)
{
  g_autofree gchar *sql = g_strdup_printf(
      "SELECT count(*) FROM pages p JOIN batches b ON b.id = p.batch_id WHERE b.station = '%s' AND p.kind = 'page'",
      station);
  return server_count(f, sql);
}

static guint64
server_station_documents(Fixture *f, const gchar *station)
{
  g_autofree gchar *sql = g_strdup_printf(
      "SELECT count(*) FROM documents d JOIN batches b ON b.id = d.batch_id WHERE b.station = '%s'", station);
  return server_count(f, sql);
}

/* Three stations scan at once into their own spools and deliver into one
 * server: every page is there exactly once, each station's own pages under
 * its name, and a file scanned at all three is stored once (the two later
 * deliveries counted as duplicates). */
static void
test_pg_service_three_stations(Fixture *f, gconstpointer data)
{
  const guint n_files = 15, n_pages = 3;
  guint ids[N_STATIONS];
  guint64 duplicates = 0, delivered = 0;

  if (cluster == NULL) {
    g_test_skip(cd_pg_cluster_missing());
    return;
  }
  for (guint i = 0; i < N_STATIONS; i++) {
    Station *s = station_init(f, i, NULL);
    g_autofree gchar *name = g_strdup_printf("in-%u", i + 1);
    g_autofree gchar *in = make_inputs(f, name, n_files, n_pages, i + 1);
    /* the same file scanned at every station */
    g_autofree gchar *shared = g_build_filename(in, "shared.tif", NULL);
    cd_test_make_tiff(shared, n_pages, 4242);
    station_start(s);
    ids[i] = station_batch(s, in, FALSE);
  }
  for (guint i = 0; i < N_STATIONS; i++)
    station_wait_batch(&f->stations[i], ids[i], "finished", 120);
  for (guint i = 0; i < N_STATIONS; i++) {
    g_autoptr(GVariant) d = station_wait_delivered(&f->stations[i], n_files + 1, 120);
    g_autofree gchar *station = delivery_str(d, "station");
    g_assert_cmpstr(station, ==, f->stations[i].name);
    delivered += delivery_u64(d, "delivered-documents");
    duplicates += delivery_u64(d, "duplicate-documents");
    /* its own files at least; the shared one if it was first */
    g_assert_cmpuint(server_station_pages(f, f->stations[i].name), >=, n_files * n_pages);
    g_assert_cmpuint(server_station_pages(f, f->stations[i].name), <=, (n_files + 1) * n_pages);
  }
  assert_server_pages_once(f, (N_STATIONS * n_files + 1) * n_pages);
  g_assert_cmpuint(server_count(f, "SELECT count(*) FROM documents"), ==, N_STATIONS * n_files + 1);
  g_assert_cmpuint(delivered, ==, N_STATIONS * n_files + 1);
  g_assert_cmpuint(duplicates, ==, N_STATIONS - 1);
  /* each station's delivery keys: one per spool document */
  for (guint i = 0; i < N_STATIONS; i++) {
    g_autofree gchar *sql =
        g_strdup_printf("SELECT count(*) FROM deliveries WHERE station = '%s'", f->stations[i].name);
    g_assert_cmpuint(server_count(f, sql), ==, n_files + 1);
  }
  /* their deliveries in the server's chain, keyed with [archive] server-audit-key */
  g_assert_cmpuint(server_count(f, "SELECT count(*) FROM audit WHERE station IS NULL AND action = 'deliver' "
                                   "AND scheme = 1"),
                   >=, N_STATIONS);
  g_assert_cmpuint(server_count(f, "SELECT count(*) FROM audit WHERE station IS NULL AND scheme <> 1"), ==, 0);
}

/* The server stopped in the middle of a batch: the batch finishes into the
 * spool, the station says the server is away (logged once, not once a
 * retry), and once the server is started again everything is delivered,
 * exactly once. */
static void
test_pg_service_server_away(Fixture *f, gconstpointer data)
{
  const guint n_first = 5, n_files = 300, n_pages = 2;
  g_autofree gchar *first = NULL;
  g_autofree gchar *in = NULL;
  Station *s;
  guint id;
  gint64 deadline;
  GError *error = NULL;

  if (cluster == NULL) {
    g_test_skip(cd_pg_cluster_missing());
    return;
  }
  s = station_init(f, 0, NULL);
  first = make_inputs(f, "first", n_first, n_pages, 7);
  in = make_inputs(f, "in", n_files, n_pages, 8);
  station_start(s);
  /* a first batch, delivered: the server and the station work */
  id = station_batch(s, first, FALSE);
  station_wait_batch(s, id, "finished", 60);
  g_variant_unref(station_wait_delivered(s, n_first, 60));
  g_assert_cmpuint(server_station_documents(f, s->name), ==, n_first);

  /* the big batch is held as soon as it has archived a page, its first
   * documents are delivered while it waits, and the server goes away
   * under it */
  id = station_batch(s, in, FALSE);
  deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (station_batch_pages(s, id) == 0) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(1000);
  }
  cd_dbus_chartdesk1_call_pause_sync(s->proxy, id, NULL, &error);
  g_assert_no_error(error);
  for (;;) {
    g_autoptr(GVariant) d = station_delivery(s);
    if (delivery_u64(d, "delivered-documents") > n_first)
      break;
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(5000);
  }
  {
    g_autofree gchar *state = station_batch_state(s, id);
    g_assert_cmpstr(state, ==, "paused");
    g_assert_cmpuint(station_batch_pages(s, id), <, n_files * n_pages);
  }
  cd_pg_cluster_ctl_stop(cluster);
  cd_dbus_chartdesk1_call_resume_sync(s->proxy, id, NULL, &error);
  g_assert_no_error(error);
  station_wait_batch(s, id, "finished", 120);

  /* the spool has everything; the station knows the server is away */
  deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  for (;;) {
    g_autoptr(GVariant) d = station_delivery(s);
    g_autofree gchar *state = delivery_str(d, "state");
    g_autofree gchar *last_error = delivery_str(d, "last-error");
    guint32 failures = 0;
    g_variant_lookup(d, "failures", "u", &failures);
    if (g_strcmp0(state, "server-away") == 0 && failures >= 2) {
      g_assert_cmpstr(last_error, !=, "");
      g_assert_cmpuint(delivery_u64(d, "pending-documents"), >, 0);
      break;
    }
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(50000);
  }
  /* said once, however many retries */
  g_assert_cmpuint(log_count(s, "failed: "), ==, 1);

  cd_pg_cluster_ctl_start(cluster);
  {
    g_autoptr(GVariant) d = station_wait_delivered(s, n_first + n_files, 120);
    g_assert_cmpuint(delivery_u64(d, "delivered-documents"), ==, n_first + n_files);
    g_assert_cmpuint(delivery_u64(d, "duplicate-documents"), ==, 0);
  }
  g_assert_cmpuint(log_count(s, "works again"), ==, 1);
  g_assert_cmpuint(server_station_documents(f, s->name), ==, n_first + n_files);
  g_assert_cmpuint(server_station_pages(f, s->name), ==, (n_first + n_files) * n_pages);
  assert_server_pages_once(f, (n_first + n_files) * n_pages);

  /* restarted, the station finds nothing more to deliver */
  station_stop(s, SIGTERM);
  station_start(s);
  {
    g_autoptr(GVariant) d = station_wait_delivered(s, 0, 60);
    g_assert_cmpuint(delivery_u64(d, "delivered-documents"), ==, 0);
  }
  assert_server_pages_once(f, (n_first + n_files) * n_pages);
}

/* A configuration the service cannot deliver with is refused at start-up,
 * naming the key: a bad URI, a bad station name, a hot folder writing to
 * an archive that would never be delivered. */
static void
test_pg_service_config(Fixture *f, gconstpointer data)
{
  g_autofree gchar *exe = g_test_build_filename(G_TEST_BUILT, "core", "service", "chartdeskd", NULL);
  g_autofree gchar *folder = g_build_filename(f->dir, "hot", NULL);
  const struct {
    const gchar *archive_group;
    const gchar *extra;
    const gchar *expected;
  } cases[] = {
    { "server=mysql://db/charts\n", "", "is not a postgresql:// or postgres:// URI" },
    { "server=postgresql://db/charts\nstation=ward 7\n", "", "[archive] station: 'ward 7' is not a station name" },
    { "server=postgresql://db/charts\ndeliver-interval=0\n", "", "deliver-interval: '0' is not a number" },
    { "station=ward-7\n", "", "[archive] server: missing" },
    { "server=postgresql://db/charts\nport=5432\n", "", "[archive] has no key 'port'" },
    { "server=postgresql://db/charts\nserver-audit-key=keys/server.key\n", "",
      "[archive] server-audit-key: 'keys/server.key' is not an absolute path" },
    { "server=postgresql://db/charts\n", "[hot-folder other]\npath=HOT\narchive=/tmp/other.archive\n",
      "is not delivered to [archive] server" },
  };

  g_assert_cmpint(g_mkdir_with_parents(folder, 0755), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *config = g_build_filename(f->dir, "bad.conf", NULL);
    g_auto(GStrv) parts = g_strsplit(cases[i].extra, "HOT", -1);
    g_autofree gchar *extra = g_strjoinv(folder, parts);
    g_autofree gchar *text = g_strdup_printf("[service]\narchive=%s/spool.archive\nstate-dir=%s/state\n\n"
                                             "[archive]\n%s\n%s",
                                             f->dir, f->dir, cases[i].archive_group, extra);
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree gchar *out = NULL;
    g_autofree gchar *err = NULL;

    g_file_set_contents(config, text, -1, &error);
    g_assert_no_error(error);
    proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, exe, "--check",
                            "--config", config, NULL);
    g_assert_no_error(error);
    g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error);
    g_assert_no_error(error);
    if (strstr(err, cases[i].expected) == NULL)
      g_printerr("case %u: %s\n", i, err);
    g_assert_nonnull(strstr(err, cases[i].expected));
    g_assert_false(g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0);
  }
}

#define REVIEWER_PASSWORD "review-wakes-delivery"

/* POST or GET @path on the station's web workstation as @cookie (NULL:
 * none) with @csrf; the reply's JSON, NULL when it has none. */
static JsonNode *
web_call(SoupSession *session, const gchar *url, const gchar *method, const gchar *path, const gchar *cookie,
         const gchar *csrf, const gchar *body, guint *status, gchar **set_cookie)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *uri = g_strconcat(url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new(method, uri);
  g_autoptr(GBytes) reply = NULL;
  g_autoptr(JsonParser) parser = json_parser_new();

  g_assert_nonnull(msg);
  if (cookie != NULL) {
    g_autofree gchar *header = g_strdup_printf("cd_session=%s", cookie);
    soup_message_headers_replace(soup_message_get_request_headers(msg), "Cookie", header);
    soup_message_headers_replace(soup_message_get_request_headers(msg), "X-CSRF-Token", csrf);
  }
  if (body != NULL) {
    g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
    soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
  }
  reply = soup_session_send_and_read(session, msg, NULL, &error);
  g_assert_no_error(error);
  *status = soup_message_get_status(msg);
  if (set_cookie != NULL) {
    const gchar *h = soup_message_headers_get_one(soup_message_get_response_headers(msg), "Set-Cookie");
    const gchar *start = h != NULL ? strstr(h, "cd_session=") : NULL;
    g_assert_nonnull(start);
    start += strlen("cd_session=");
    *set_cookie = g_strndup(start, strcspn(start, ";"));
  }
  if (!json_parser_load_from_data(parser, g_bytes_get_data(reply, NULL), g_bytes_get_size(reply), NULL))
    return NULL;
  return json_node_copy(json_parser_get_root(parser));
}

/* A review decision made on a station's web workstation reaches the
 * server at once: chartdeskd's delivery wakes for it as for a commit. The
 * interval is an hour, so nothing but that wake can deliver it. */
static void
test_pg_service_review_wakes(Fixture *f, gconstpointer data)
{
  Station *s = NULL;
  g_autofree gchar *users = g_build_filename(f->dir, "users.conf", NULL);
  g_autofree gchar *text = NULL;
  g_autofree gchar *inputs = NULL;
  g_autofree gchar *log = NULL;
  g_autofree gchar *url = NULL;
  g_autofree gchar *cookie = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *body = NULL;
  g_autoptr(GVariant) delivered = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupSession) session = soup_session_new();
  g_autoptr(JsonNode) login = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(JsonNode) done = NULL;
  g_autofree gchar *csrf = NULL;
  const gchar *at;
  guint status = 0;
  guint64 open_before, changes_before;
  gint64 item, deadline;
  guint id;

  if (cluster == NULL) {
    g_test_skip(cd_pg_cluster_missing());
    return;
  }
  {
    g_autoptr(CdUserDirectory) dir = cd_user_directory_open(users, TRUE, &error);
    const gchar *roles[] = { "indexer", NULL };
    g_assert_no_error(error);
    cd_user_directory_set_pwhash_limits(dir, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
    const gchar *scanner[] = { "scanner", NULL };
    g_assert_true(cd_user_directory_add(dir, "ind", "Test Indexer", roles, NULL, REVIEWER_PASSWORD, &error));
    g_assert_no_error(error);
    /* the test itself starts the batch over D-Bus, as its Unix account */
    g_assert_true(cd_user_directory_add(dir, "scan", "Test Scanner", scanner, g_get_user_name(), NULL, &error));
    g_assert_no_error(error);
  }
  s = station_init(f, 0, NULL);
  g_file_get_contents(s->config, &text, NULL, &error);
  g_assert_no_error(error);
  {
    g_auto(GStrv) a = g_strsplit(text, "[service]\n", 2);
    g_autofree gchar *with_users = g_strdup_printf("%s[service]\nusers=%s\n%s", a[0], users, a[1]);
    g_auto(GStrv) b = g_strsplit(with_users, "deliver-interval=1\n", 2);
    g_autofree gchar *final = g_strdup_printf("%sdeliver-interval=3600\n%s\n[web]\nlisten=127.0.0.1:0\n", b[0], b[1]);
    g_file_set_contents(s->config, final, -1, &error);
    g_assert_no_error(error);
  }
  {
    /* the web workstation serves an archive that exists */
    g_autoptr(CdArchive) spool = cd_archive_open(s->archive, CD_ARCHIVE_FLAG_CREATE | CD_ARCHIVE_FLAG_WRITER, &error);
    g_assert_no_error(error);
  }
  station_start(s);
  inputs = make_inputs(f, "in", 3, 2, 11);
  id = station_batch(s, inputs, FALSE);
  station_wait_batch(s, id, "finished", 120);
  delivered = station_wait_delivered(s, 3, 120);
  open_before = server_count(f, "SELECT count(*) FROM review WHERE resolved IS NULL");
  changes_before = server_count(f, "SELECT count(*) FROM audit WHERE action = 'deliver-change'");
  g_test_message("open review items on the server: %" G_GUINT64_FORMAT, open_before);
  g_assert_cmpuint(open_before, >=, 1);

  /* the workstation's address, from the station's log */
  g_assert_true(g_file_get_contents(s->log, &log, NULL, NULL));
  at = strstr(log, "web workstation at ");
  g_assert_nonnull(at);
  at += strlen("web workstation at ");
  url = g_strndup(at, strcspn(at, " \n"));
  if (g_str_has_suffix(url, "/"))
    url[strlen(url) - 1] = '\0';

  body = g_strdup_printf("{\"user\": \"ind\", \"password\": \"%s\"}", REVIEWER_PASSWORD);
  login = web_call(session, url, "POST", "/api/v1/session", NULL, NULL, body, &status, &cookie);
  g_assert_cmpuint(status, ==, 200);
  csrf = g_strdup(json_object_get_string_member(json_node_get_object(login), "csrf"));
  list = web_call(session, url, "GET", "/api/v1/review", cookie, csrf, NULL, &status, NULL);
  g_assert_cmpuint(status, ==, 200);
  item = json_object_get_int_member(
      json_array_get_object_element(json_object_get_array_member(json_node_get_object(list), "items"), 0), "id");
  path = g_strdup_printf("/api/v1/review/%" G_GINT64_FORMAT "/resolve", item);
  done = web_call(session, url, "POST", path, cookie, csrf, "{\"why\": \"checked against the paper\"}", &status, NULL);
  g_assert_cmpuint(status, ==, 200);

  /* on the server soon: well inside the hour of the interval */
  deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (server_count(f, "SELECT count(*) FROM review WHERE resolved IS NULL") != open_before - 1) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(50000);
  }
  g_assert_cmpuint(server_count(f, "SELECT count(*) FROM audit WHERE action = 'deliver-change'"), ==,
                   changes_before + 1);
  g_assert_cmpuint(server_count(f, "SELECT count(*) FROM review WHERE resolution = 'checked against the paper'"), ==,
                   1);
}

/* `chartdesk review ACTION SPOOL …` in a process of its own, as an
 * indexer at the station would run it; asserts it worked. */
static void
cli_review(Station *s, const gchar *action, gint64 id, const gchar *option, const gchar *value)
{
  g_autofree gchar *exe = g_test_build_filename(G_TEST_BUILT, "core", "cli", "chartdesk", NULL);
  g_autofree gchar *ref = g_strdup_printf("%" G_GINT64_FORMAT, id);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;

  proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, exe, "review",
                          action, s->archive, ref, "--why", "decided at the station's terminal", option, value, NULL);
  g_assert_no_error(error);
  g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error(error);
  if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0)
    g_printerr("chartdesk review %s: %s%s\n", action, out, err);
  g_assert_true(g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0);
}

/* `chartdesk status` on the station's bus: its output. */
static gchar *
cli_status(Station *s, const gchar *option)
{
  g_autofree gchar *exe = g_test_build_filename(G_TEST_BUILT, "core", "cli", "chartdesk", NULL);
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  gchar *out = NULL;
  g_autofree gchar *err = NULL;

  g_subprocess_launcher_setenv(launcher, "DBUS_SESSION_BUS_ADDRESS", g_test_dbus_get_bus_address(s->bus), TRUE);
  proc = g_subprocess_launcher_spawn(launcher, &error, exe, "status", option, NULL);
  g_assert_no_error(error);
  g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error(error);
  g_test_message("chartdesk status: %s%s", out, err);
  g_assert_true(g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0);
  return out;
}

/* Waits until the Delivery property shows @changes pending in @state. */
static void
station_wait_changes(Station *s, const gchar *state, guint64 changes, guint seconds)
{
  gint64 deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
  for (;;) {
    g_autoptr(GVariant) d = station_delivery(s);
    g_autofree gchar *now = delivery_str(d, "state");
    if (g_strcmp0(now, state) == 0 && delivery_u64(d, "pending-changes") == changes)
      return;
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(50000);
  }
}

/* Review decisions made with `chartdesk review` in another process (no
 * write notify reaches chartdeskd): the delivery sees them on the spool
 * (PRAGMA data_version) and delivers them at once, well inside an
 * interval of an hour; while the server is away the Delivery property
 * counts them as pending changes, and once it is back they are
 * delivered and the count is 0. */
static void
test_pg_service_cli_review(Fixture *f, gconstpointer data)
{
  Station *s = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *inputs = NULL;
  g_autoptr(GVariant) delivered = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autofree gchar *resolved_sql = NULL;
  g_autofree gchar *typed_sql = NULL;
  CdReviewItem *first = NULL;
  gint64 document = 0, deadline;
  guint64 changes_before;
  guint id;

  if (cluster == NULL) {
    g_test_skip(cd_pg_cluster_missing());
    return;
  }
  s = station_init(f, 0, NULL);
  g_file_get_contents(s->config, &text, NULL, &error);
  g_assert_no_error(error);
  {
    g_auto(GStrv) b = g_strsplit(text, "deliver-interval=1\n", 2);
    g_autofree gchar *final = g_strdup_printf("%sdeliver-interval=3600\n%s", b[0], b[1]);
    g_file_set_contents(s->config, final, -1, &error);
    g_assert_no_error(error);
  }
  station_start(s);
  inputs = make_inputs(f, "in", 3, 2, 11);
  id = station_batch(s, inputs, FALSE);
  station_wait_batch(s, id, "finished", 120);
  delivered = station_wait_delivered(s, 3, 120);
  g_assert_cmpuint(delivery_u64(delivered, "pending-changes"), ==, 0);
  {
    g_autoptr(CdArchive) spool = cd_archive_open(s->archive, CD_ARCHIVE_FLAG_NONE, &error);
    g_assert_no_error(error);
    items = cd_archive_list_review(spool, FALSE, &error);
    g_assert_no_error(error);
  }
  for (guint i = 0; i < items->len; i++) {
    CdReviewItem *item = g_ptr_array_index(items, i);
    if (first == NULL)
      first = item;
    if (item->document_id > 0 && (document == 0 || item->document_id != first->document_id))
      document = item->document_id;
  }
  g_assert_nonnull(first);
  g_assert_cmpint(document, >, 0);
  changes_before = server_count(f, "SELECT count(*) FROM audit WHERE action = 'deliver-change'");

  /* the server away: two decisions at the terminal are counted as
   * pending changes (the first wakes a pass, which fails; the second is
   * counted by a retry) */
  cd_pg_cluster_ctl_stop(cluster);
  cli_review(s, "resolve", first->id, NULL, NULL);
  station_wait_changes(s, "server-away", 1, 60);
  cli_review(s, "type", document, "--type", "consultation");
  station_wait_changes(s, "server-away", first->document_id == document ? 1 : 2, 120);
  {
    /* what the operator sees */
    g_autofree gchar *out = cli_status(s, NULL);
    g_autofree gchar *json = cli_status(s, "--json");
    g_assert_nonnull(strstr(out, first->document_id == document ? "waiting in the spool: 1 change\n"
                                                                : "waiting in the spool: 2 changes\n"));
    g_assert_nonnull(strstr(out, "server-away"));
    g_assert_nonnull(strstr(json, first->document_id == document ? "\"pending-changes\" : 1"
                                                                 : "\"pending-changes\" : 2"));
  }

  /* back: delivered, nothing pending */
  cd_pg_cluster_ctl_start(cluster);
  station_wait_changes(s, "idle", 0, 120);
  {
    g_autofree gchar *out = cli_status(s, NULL);
    g_assert_nonnull(strstr(out, "waiting in the spool: nothing\n"));
  }
  resolved_sql = g_strdup_printf("SELECT count(*) FROM review WHERE resolution = 'decided at the station''s terminal'");
  g_assert_cmpuint(server_count(f, resolved_sql), ==, 1);
  typed_sql =
      g_strdup_printf("SELECT count(*) FROM deliveries v JOIN documents d ON d.id = v.document_id WHERE "
                      "v.station = '%s' AND v.source_document_id = %" G_GINT64_FORMAT " AND d.type = 'consultation'",
                      s->name, document);
  g_assert_cmpuint(server_count(f, typed_sql), ==, 1);
  g_assert_cmpuint(server_count(f, "SELECT count(*) FROM audit WHERE action = 'deliver-change'"), ==,
                   changes_before + (first->document_id == document ? 1 : 2));

  /* the server up: a decision at the terminal is on the server soon, not
   * after the hour of the interval */
  cli_review(s, "type", document, "--type", "progress-note");
  g_clear_pointer(&typed_sql, g_free);
  typed_sql =
      g_strdup_printf("SELECT count(*) FROM deliveries v JOIN documents d ON d.id = v.document_id WHERE "
                      "v.station = '%s' AND v.source_document_id = %" G_GINT64_FORMAT " AND d.type = 'progress-note'",
                      s->name, document);
  deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (server_count(f, typed_sql) != 1) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(50000);
  }
  station_wait_changes(s, "idle", 0, 60);
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  gint status;

  g_test_init(&argc, &argv, NULL);
  cd_service_register_errors();
  /* the services load only what these tests need */
  g_setenv("CHARTDESK_PLUGIN_ALLOWLIST", "files", TRUE);
  cluster = cd_pg_cluster_start(&error);
  /* installed but not starting is a failure, not a skip */
  g_assert_no_error(error);
  g_test_add("/chartdesk/pg-service/config", Fixture, NULL, fixture_setup, test_pg_service_config, fixture_teardown);
  g_test_add("/chartdesk/pg-service/three-stations", Fixture, NULL, fixture_setup, test_pg_service_three_stations,
             fixture_teardown);
  g_test_add("/chartdesk/pg-service/server-away", Fixture, NULL, fixture_setup, test_pg_service_server_away,
             fixture_teardown);
  g_test_add("/chartdesk/pg-service/review-wakes", Fixture, NULL, fixture_setup, test_pg_service_review_wakes,
             fixture_teardown);
  g_test_add("/chartdesk/pg-service/cli-review", Fixture, NULL, fixture_setup, test_pg_service_cli_review,
             fixture_teardown);
  status = g_test_run();
  g_clear_pointer(&cluster, cd_pg_cluster_stop);
  return status;
}
