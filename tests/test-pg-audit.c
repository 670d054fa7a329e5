/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The PostgreSQL archive's audit log (issue 18, part 2) on a real cluster
 * started for this binary (tests/cd-pg-cluster.c): reads on the server
 * keyed and verified, the plain entries of a server without a key sealed,
 * entries altered or deleted behind the library's back (libpq, the
 * append-only triggers disabled as a database owner would) caught and
 * named, the auditor's listing and export (and a non-auditor refused),
 * two stations' delivered chains verified with their keys, and the
 * command line's `audit verify|list|export postgresql://…`.
 */
#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <string.h>

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-pg-archive.h"
#include "cd-pg-cluster.h"
#include "cd-pg-schema.h"
#include "cd-test-util.h"

static CdPgCluster *cluster;

typedef CdPgTestDb Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  cd_pg_test_db_set_up(f, cluster, "a");
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  cd_pg_test_db_tear_down(f);
}

/* A change as the database's owner makes it: past the append-only triggers. */
static void
raw_tamper(Fixture *f, const gchar *sql)
{
  g_autofree gchar *all = g_strdup_printf("ALTER TABLE audit DISABLE TRIGGER USER; %s; "
                                          "ALTER TABLE audit ENABLE TRIGGER USER",
                                          sql);
  PGresult *res = PQexec(f->raw, all);

  if (PQresultStatus(res) != PGRES_COMMAND_OK)
    g_test_message("%s: %s", sql, PQresultErrorMessage(res));
  g_assert_cmpint(PQresultStatus(res), ==, PGRES_COMMAND_OK);
  PQclear(res);
}

/* A key file of 32 random bytes, 0600, and its bytes in @key. */
static gchar *
write_key(Fixture *f, const gchar *name, GBytes **key)
{
  g_autoptr(GError) error = NULL;
  gchar *path = g_build_filename(f->dir, name, NULL);
  guint8 bytes[32];

  for (guint i = 0; i < sizeof(bytes); i++)
    bytes[i] = (guint8) g_random_int_range(0, 256);
  g_assert_true(g_file_set_contents(path, (const gchar *) bytes, sizeof(bytes), &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_chmod(path, 0600), ==, 0);
  if (key != NULL)
    *key = g_bytes_new(bytes, sizeof(bytes));
  return path;
}

static CdPage *
make_page(const gchar *sha, gint index, const gchar *text)
{
  g_autoptr(GError) error = NULL;
  CdPage *page = cd_page_new("box1/scan.tif", index, sha);
  PIX *pix = pixCreate(64, 48, 1);

  pixRasterop(pix, 10, 10, 20 + index % 30, 4 + index % 7, PIX_SET, NULL, 0, 0);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, 300, 300);
  cd_page_set_text(page, text);
  cd_page_set_confidence(page, 90.0);
  g_assert_true(cd_page_encode_image(page, &error));
  g_assert_no_error(error);
  return page;
}

/* A station's spool sealed with @key: two documents of one page each,
 * of patients MRN100 and MRN200, from the scanned file @sha. */
static CdArchive *
make_spool(Fixture *f, const gchar *name, const gchar *sha, GBytes *key)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *path = g_build_filename(f->dir, name, NULL);
  g_autoptr(CdArchive) spool = cd_archive_open(path, CD_ARCHIVE_FLAG_CREATE | CD_ARCHIVE_FLAG_WRITER, &error);
  g_autoptr(GPtrArray) patients = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  const gchar *inputs[] = { "box1/", NULL };
  const gchar *mrns[] = { "MRN100", "MRN200" };
  gint64 batch;

  g_assert_no_error(error);
  g_assert_true(cd_archive_set_audit_key(spool, key, &error));
  g_assert_no_error(error);
  for (guint i = 0; i < G_N_ELEMENTS(mrns); i++) {
    CdPatient *p = cd_patient_new(mrns[i]);
    p->family = g_strdup("TESTER");
    p->given = g_strdup(i == 0 ? "Ann" : "Bob");
    g_ptr_array_add(patients, p);
  }
  g_assert_true(cd_archive_import_patients(spool, patients, "csv", NULL, &error));
  g_assert_no_error(error);
  batch = cd_archive_begin_batch(spool, "test", inputs, &error);
  g_assert_no_error(error);
  for (guint d = 0; d < G_N_ELEMENTS(mrns); d++) {
    g_autoptr(CdDocument) doc = cd_document_new();
    cd_document_set_patient_mrn(doc, mrns[d]);
    cd_document_set_doc_type(doc, "progress-note", 0.9);
    cd_document_set_date(doc, "2024-05-01");
    cd_document_set_title(doc, "TEST");
    cd_document_add_page(doc, make_page(sha, (gint) d,
                                        d == 0 ? "Hypertension follow up, metoprolol continued."
                                               : "Pneumonia treated with azithromycin."));
    g_assert_true(cd_archive_commit_document(spool, batch, doc, &error));
    g_assert_no_error(error);
  }
  g_assert_true(cd_archive_commit_file(spool, batch, sha, "box1/scan.tif", 1234, 2, &error));
  g_assert_no_error(error);
  /* a read at the station: a station entry naming the station's document 1 */
  {
    g_autoptr(JsonNode) doc = cd_archive_get_document(spool, 1, &error);
    g_assert_no_error(error);
    g_assert_nonnull(doc);
  }
  return g_steal_pointer(&spool);
}

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static CdPgArchive *
open_server(Fixture *f, GBytes *key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPgArchive) server = cd_pg_archive_open(f->uri, CD_ARCHIVE_FLAG_CREATE, &error);

  g_assert_no_error(error);
  g_assert_nonnull(server);
  if (key != NULL) {
    g_assert_true(cd_pg_archive_set_audit_key(server, key, &error));
    g_assert_no_error(error);
  }
  return g_steal_pointer(&server);
}

/* Reads on the server as alice (a coder): a search, a document, a page image. */
static void
read_as_alice(CdPgArchive *server)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPrincipal) alice = cd_principal_new_user("alice", (const gchar *const[]){ "coder", NULL });
  CdSearchQuery query = { .text = "metoprolol", .limit = 10 };
  CdSearchResult *result;
  g_autoptr(JsonNode) doc = NULL;
  g_autoptr(GBytes) image = NULL;
  g_autofree gchar *format = NULL;

  cd_pg_archive_set_principal(server, alice);
  result = cd_pg_archive_search(server, &query, &error);
  g_assert_no_error(error);
  g_assert_nonnull(result);
  cd_search_result_free(result);
  doc = cd_pg_archive_get_document(server, 1, &error);
  g_assert_no_error(error);
  g_assert_nonnull(doc);
  image = cd_pg_archive_get_page_image(server, 1, &format, &error);
  g_assert_no_error(error);
  g_assert_nonnull(image);
}

/* The report's server chain and whether the whole report is intact. */
static JsonObject *
report_server(JsonNode *report)
{
  return json_object_get_object_member(json_node_get_object(report), "server");
}

static JsonObject *
report_station(JsonNode *report, const gchar *station)
{
  JsonArray *stations = json_object_get_array_member(json_node_get_object(report), "stations");

  for (guint i = 0; i < json_array_get_length(stations); i++) {
    JsonObject *st = json_array_get_object_element(stations, i);
    if (g_strcmp0(json_object_get_string_member(st, "station"), station) == 0)
      return st;
  }
  g_assert_not_reached();
  return NULL;
}

static gboolean
verify_ok(CdPgArchive *server, gint64 *bad, GError **error)
{
  g_autoptr(CdPrincipal) auditor = cd_principal_new_user("olga", (const gchar *const[]){ "auditor", NULL });

  cd_pg_archive_set_principal(server, auditor);
  return cd_pg_archive_verify_audit(server, bad, error);
}

static JsonNode *
verify(CdPgArchive *server)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPrincipal) auditor = cd_principal_new_user("olga", (const gchar *const[]){ "auditor", NULL });
  JsonNode *report;

  cd_pg_archive_set_principal(server, auditor);
  report = cd_pg_archive_verify_audit_report(server, &error);

  g_assert_no_error(error);
  g_assert_nonnull(report);
  {
    g_autofree gchar *text = json_to_string(report, TRUE);
    g_test_message("%s", text);
  }
  return report;
}

/* Reads on a server with a key write keyed entries that verify; a server
 * that had plain entries has them sealed by the first keyed one; a
 * process without the key, or with another, can no longer write. */
static void
test_pg_audit_keyed(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) station_key = NULL;
  g_autoptr(GBytes) server_key = NULL;
  g_autoptr(GBytes) other_key = NULL;
  g_autofree gchar *station_path = write_key(f, "station.key", &station_key);
  g_autofree gchar *server_path = write_key(f, "server.key", &server_key);
  g_autofree gchar *other_path = write_key(f, "other.key", &other_key);
  g_autoptr(CdArchive) spool = make_spool(f, "s1.archive", SHA_A, station_key);
  g_autoptr(JsonNode) report = NULL;
  gint64 plain;

  /* a server without a key: plain entries, verified, said to be plain */
  {
    g_autoptr(CdPgArchive) server = open_server(f, NULL);
    g_assert_true(cd_pg_archive_deliver(server, spool, "s1", NULL, NULL, &error));
    g_assert_no_error(error);
    read_as_alice(server);
    report = verify(server);
    g_assert_true(json_object_get_boolean_member(json_node_get_object(report), "intact"));
    g_assert_cmpint(json_object_get_int_member(report_server(report), "keyed_entries"), ==, 0);
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(report_server(report), "warnings")), ==, 1);
    g_clear_pointer(&report, json_node_unref);
  }
  plain = cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL");
  g_assert_cmpint(plain, ==, 4); /* deliver, search, view, view-image */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND scheme = 0"), ==, plain);

  /* with the key: the seal first, then keyed reads, and the anchor */
  {
    g_autoptr(CdPgArchive) server = open_server(f, server_key);
    read_as_alice(server);
    g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND scheme = 1"), ==, 4);
    g_assert_cmpint(
        cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND scheme = 1 AND action = "
                             "'audit-seal' AND id = (SELECT min(id) FROM audit WHERE station IS NULL AND scheme = 1)"),
        ==, 1);
    g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM meta WHERE key IN ('server-audit-key-id', "
                                         "'server-audit-anchor')"),
                    ==, 2);
    g_assert_cmpint(
        cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND scheme = 1 AND actor = 'alice' "
                             "AND action IN ('search', 'view', 'view-image')"),
        ==, 3);
    report = verify(server);
    g_assert_true(json_object_get_boolean_member(json_node_get_object(report), "intact"));
    g_assert_cmpint(json_object_get_int_member(report_server(report), "keyed_entries"), ==, 4);
    g_assert_cmpint(json_object_get_int_member(report_server(report), "legacy_entries"), ==, plain);
    g_assert_cmpint(json_object_get_int_member(report_server(report), "seal_entry"), >, 0);
    g_assert_true(g_bytes_equal(server_key, server_key));
    g_clear_pointer(&report, json_node_unref);
    g_assert_true(verify_ok(server, NULL, &error));
    g_assert_no_error(error);
  }

  /* no key now: reads are refused, since they could not be recorded; the
   * chain's links are checked but it is not called intact */
  {
    g_autoptr(CdPgArchive) server = open_server(f, NULL);
    CdSearchQuery query = { .text = "metoprolol", .limit = 10 };
    CdSearchResult *result = cd_pg_archive_search(server, &query, &error);
    g_assert_null(result);
    g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "the server's audit chain is keyed"));
    g_clear_error(&error);
    /* a station without the key delivers nothing: it could not record it */
    {
      g_autoptr(CdArchive) spool2 = make_spool(f, "s2.archive", SHA_B, station_key);
      g_autoptr(CdPrincipal) admin = cd_principal_new_admin_mode("scanner", NULL);
      cd_pg_archive_set_principal(server, admin);
      g_assert_false(cd_pg_archive_deliver(server, spool2, "s2", NULL, NULL, &error));
      g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
      g_assert_nonnull(strstr(error->message, "server-audit-key"));
      g_clear_error(&error);
      g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents"), ==, 2);
      g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM stations WHERE name = 's2'"), ==, 0);
    }
    report = verify(server);
    g_assert_false(json_object_get_boolean_member(report_server(report), "intact"));
    g_assert_nonnull(strstr(json_object_get_string_member(report_server(report), "problem"), "without its key"));
    g_clear_pointer(&report, json_node_unref);
  }
  /* another key: refused by its key id */
  {
    g_autoptr(CdPgArchive) server = open_server(f, other_key);
    g_autoptr(JsonNode) doc = cd_pg_archive_get_document(server, 1, &error);
    g_assert_null(doc);
    g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
    g_assert_nonnull(strstr(error->message, "sealed with another key"));
    g_clear_error(&error);
  }
  /* the key from a file, as CHARTDESK_SERVER_AUDIT_KEY gives it */
  {
    g_autoptr(CdPgArchive) server = NULL;
    g_setenv("CHARTDESK_SERVER_AUDIT_KEY", server_path, TRUE);
    server = open_server(f, NULL);
    g_unsetenv("CHARTDESK_SERVER_AUDIT_KEY");
    read_as_alice(server);
    g_assert_true(verify_ok(server, NULL, &error));
    g_assert_no_error(error);
    /* a key file others may read is refused */
    g_assert_cmpint(g_chmod(other_path, 0644), ==, 0);
    g_assert_false(cd_pg_archive_set_audit_key_file(server, other_path, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
  }
}

/* The first entry that does not verify, from the report's server chain. */
static gint64
first_bad(JsonObject *chain)
{
  JsonNode *bad = json_object_get_member(chain, "first_bad_entry");
  g_assert_false(JSON_NODE_HOLDS_NULL(bad));
  return json_node_get_int(bad);
}

/* A keyed server with a delivered station and reads: entries of the
 * server chain as ids in chain order in @ids. */
static CdPgArchive *
keyed_server_with_reads(Fixture *f, GBytes *server_key, GBytes *station_key, CdArchive **spool_out)
{
  g_autoptr(GError) error = NULL;
  CdArchive *spool = make_spool(f, "s1.archive", SHA_A, station_key);
  CdPgArchive *server = open_server(f, server_key);

  g_assert_true(cd_pg_archive_deliver(server, spool, "s1", NULL, NULL, &error));
  g_assert_no_error(error);
  read_as_alice(server);
  read_as_alice(server);
  *spool_out = spool;
  return server;
}

/* An entry altered in the database is caught and named: in the server's
 * chain (a detail, a time), and in a station's (with its key). */
static void
test_pg_audit_altered(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) server_key = NULL;
  g_autoptr(GBytes) station_key = NULL;
  g_autofree gchar *p1 = write_key(f, "server.key", &server_key);
  g_autofree gchar *p2 = write_key(f, "station.key", &station_key);
  g_autoptr(CdArchive) spool = NULL;
  g_autoptr(CdPgArchive) server = keyed_server_with_reads(f, server_key, station_key, &spool);
  g_autoptr(JsonNode) report = NULL;
  g_autofree gchar *sql = NULL;
  gint64 victim, bad = 0;

  report = verify(server);
  g_assert_true(json_object_get_boolean_member(json_node_get_object(report), "intact"));
  g_clear_pointer(&report, json_node_unref);

  /* alice's first view, made to look like another document's */
  victim = cd_pg_test_db_int(f, "SELECT min(id) FROM audit WHERE station IS NULL AND action = 'view'");
  sql = g_strdup_printf("UPDATE audit SET object = 'document:2' WHERE id = %" G_GINT64_FORMAT, victim);
  raw_tamper(f, sql);
  report = verify(server);
  g_assert_false(json_object_get_boolean_member(json_node_get_object(report), "intact"));
  g_assert_cmpint(first_bad(report_server(report)), ==, victim);
  g_assert_nonnull(strstr(json_object_get_string_member(report_server(report), "problem"), "altered"));
  g_clear_pointer(&report, json_node_unref);
  g_assert_false(verify_ok(server, &bad, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_assert_cmpint(bad, ==, victim);
  {
    g_autofree gchar *named = g_strdup_printf("entry %" G_GINT64_FORMAT " ", victim);
    g_assert_nonnull(strstr(error->message, named));
  }
  g_clear_error(&error);
  g_free(sql);
  sql = g_strdup_printf("UPDATE audit SET object = 'document:1' WHERE id = %" G_GINT64_FORMAT, victim);
  raw_tamper(f, sql);
  g_assert_true(verify_ok(server, NULL, &error));
  g_assert_no_error(error);

  /* a station entry's detail: caught with the station's key, named by
   * the station's own id; without it the chain is checked for structure
   * only and says so */
  raw_tamper(f, "UPDATE audit SET actor = 'mallory' WHERE station = 's1' AND source_id = 2");
  report = verify(server);
  g_assert_true(json_object_get_boolean_member(report_station(report, "s1"), "intact"));
  g_assert_cmpstr(json_object_get_string_member(report_station(report, "s1"), "verified"), ==, "structure");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(report_station(report, "s1"), "warnings")), ==,
                   1);
  g_clear_pointer(&report, json_node_unref);
  g_assert_true(cd_pg_archive_set_station_audit_key(server, "s1", station_key, &error));
  g_assert_no_error(error);
  report = verify(server);
  g_assert_cmpstr(json_object_get_string_member(report_station(report, "s1"), "verified"), ==, "key");
  g_assert_false(json_object_get_boolean_member(report_station(report, "s1"), "intact"));
  g_assert_cmpint(first_bad(report_station(report, "s1")), ==, 2);
  g_assert_false(json_object_get_boolean_member(json_node_get_object(report), "intact"));
  g_assert_true(json_object_get_boolean_member(report_server(report), "intact"));
  g_clear_pointer(&report, json_node_unref);
}

/* A deleted entry is caught: one inside the chain names the entry after
 * the gap; the newest one, the anchor's. */
static void
test_pg_audit_deleted(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) server_key = NULL;
  g_autoptr(GBytes) station_key = NULL;
  g_autofree gchar *p1 = write_key(f, "server.key", &server_key);
  g_autofree gchar *p2 = write_key(f, "station.key", &station_key);
  g_autoptr(CdArchive) spool = NULL;
  g_autoptr(CdPgArchive) server = keyed_server_with_reads(f, server_key, station_key, &spool);
  g_autoptr(JsonNode) report = NULL;
  g_autofree gchar *sql = NULL;
  gint64 victim, next, newest;

  /* the newest entry: the anchor still names it */
  newest = cd_pg_test_db_int(f, "SELECT max(id) FROM audit WHERE station IS NULL");
  sql = g_strdup_printf("DELETE FROM audit WHERE id = %" G_GINT64_FORMAT, newest);
  raw_tamper(f, sql);
  report = verify(server);
  g_assert_false(json_object_get_boolean_member(report_server(report), "intact"));
  g_assert_cmpint(first_bad(report_server(report)), ==, newest);
  g_assert_nonnull(strstr(json_object_get_string_member(report_server(report), "problem"), "removed"));
  g_clear_pointer(&report, json_node_unref);

  /* the next entry written says the anchor no longer named the newest
   * entry (kept as a warning: what was removed cannot be ruled out) */
  read_as_alice(server);
  report = verify(server);
  g_assert_true(json_object_get_boolean_member(report_server(report), "intact"));
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(report_server(report), "warnings")), ==, 1);
  g_assert_cmpint(
      cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND action = 'audit-anchor-missing'"), ==,
      1);
  g_clear_pointer(&report, json_node_unref);

  /* an entry inside the chain: the one after the gap is named */
  victim = cd_pg_test_db_int(f, "SELECT min(id) FROM audit WHERE station IS NULL AND action = 'view-image'");
  next = cd_pg_test_db_int(f, "SELECT min(id) FROM audit WHERE station IS NULL AND id > "
                              "(SELECT min(id) FROM audit WHERE station IS NULL AND action = 'view-image')");
  g_free(sql);
  sql = g_strdup_printf("DELETE FROM audit WHERE id = %" G_GINT64_FORMAT, victim);
  raw_tamper(f, sql);
  report = verify(server);
  g_assert_false(json_object_get_boolean_member(report_server(report), "intact"));
  g_assert_cmpint(first_bad(report_server(report)), ==, next);
  g_assert_nonnull(strstr(json_object_get_string_member(report_server(report), "problem"), "deleted"));
  g_clear_pointer(&report, json_node_unref);

  /* a station's entry deleted: the links of the one after it show it, key or not */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT max(source_id) FROM audit WHERE station = 's1'"), >=, 3);
  raw_tamper(f, "DELETE FROM audit WHERE station = 's1' AND source_id = 2");
  report = verify(server);
  g_assert_false(json_object_get_boolean_member(report_station(report, "s1"), "intact"));
  g_assert_cmpint(first_bad(report_station(report, "s1")), ==, 3);
  g_clear_pointer(&report, json_node_unref);
}

/* Who saw what: the auditor lists the server's and the stations' entries
 * by user, patient and day, and exports them; a coder is refused, and the
 * refusal is on the record. */
static void
test_pg_audit_list(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) server_key = NULL;
  g_autoptr(GBytes) station_key = NULL;
  g_autofree gchar *p1 = write_key(f, "server.key", &server_key);
  g_autofree gchar *p2 = write_key(f, "station.key", &station_key);
  g_autoptr(CdArchive) spool = NULL;
  g_autoptr(CdPgArchive) server = keyed_server_with_reads(f, server_key, station_key, &spool);
  g_autoptr(CdPrincipal) auditor = cd_principal_new_user("olga", (const gchar *const[]){ "auditor", NULL });
  g_autoptr(CdPrincipal) coder = cd_principal_new_user("carl", (const gchar *const[]){ "coder", NULL });
  g_autoptr(JsonNode) rows = NULL;
  g_autofree gchar *today = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  JsonArray *array;
  gint64 total = 0;
  guint views = 0;

  /* a coder reads charts, not the log */
  cd_pg_archive_set_principal(server, coder);
  rows = cd_pg_archive_list_audit(server, NULL, NULL, NULL, NULL, 0, 0, &total, &error);
  g_assert_null(rows);
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);
  {
    g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
    g_assert_false(cd_pg_archive_export_audit(server, NULL, NULL, NULL, NULL, "csv", out, NULL, NULL, &error));
    g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
    g_clear_error(&error);
  }
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'carl' AND "
                                       "action = 'denied' AND scheme = 1"),
                  ==, 2);

  cd_pg_archive_set_principal(server, auditor);
  /* alice's reads of MRN100's document: two views of server document 1
   * (its patient from the server's documents) */
  rows = cd_pg_archive_list_audit(server, "alice", "MRN100", NULL, NULL, 0, 0, &total, &error);
  g_assert_no_error(error);
  array = json_node_get_array(rows);
  for (guint i = 0; i < json_array_get_length(array); i++) {
    JsonObject *row = json_array_get_object_element(array, i);
    g_assert_cmpstr(json_object_get_string_member(row, "user"), ==, "alice");
    g_assert_cmpstr(json_object_get_string_member(row, "mrn"), ==, "MRN100");
    g_assert_true(json_object_get_null_member(row, "station"));
    if (g_strcmp0(json_object_get_string_member(row, "action"), "view") == 0)
      views++;
  }
  g_assert_cmpuint(views, ==, 2);
  g_assert_cmpint(total, ==, json_array_get_length(array));
  g_clear_pointer(&rows, json_node_unref);

  /* the station's read of its own document 1 is MRN100's too, found
   * through the delivery (server document 1, the same document here) */
  rows = cd_pg_archive_list_audit(server, NULL, "MRN100", NULL, NULL, 0, 0, &total, &error);
  g_assert_no_error(error);
  array = json_node_get_array(rows);
  views = 0;
  for (guint i = 0; i < json_array_get_length(array); i++) {
    JsonObject *row = json_array_get_object_element(array, i);
    if (g_strcmp0(json_object_get_string_member_with_default(row, "station", NULL), "s1") == 0 &&
        g_strcmp0(json_object_get_string_member(row, "action"), "view") == 0)
      views++;
  }
  g_assert_cmpuint(views, ==, 1);
  g_clear_pointer(&rows, json_node_unref);

  /* nobody read MRN200's document on the server */
  rows = cd_pg_archive_list_audit(server, "alice", "MRN200", NULL, NULL, 0, 0, &total, &error);
  g_assert_no_error(error);
  g_assert_cmpint(total, ==, 0);
  g_clear_pointer(&rows, json_node_unref);

  /* by day: today's entries, none before 2001 */
  today = g_date_time_format(now, "%Y-%m-%d");
  rows = cd_pg_archive_list_audit(server, NULL, NULL, today, today, 1000, 0, &total, &error);
  g_assert_no_error(error);
  g_assert_cmpint(total, >=, 6);
  g_clear_pointer(&rows, json_node_unref);
  rows = cd_pg_archive_list_audit(server, NULL, NULL, NULL, "2000-12-31", 0, 0, &total, &error);
  g_assert_no_error(error);
  g_assert_cmpint(total, ==, 0);
  g_clear_pointer(&rows, json_node_unref);
  g_assert_null(cd_pg_archive_list_audit(server, NULL, NULL, "yesterday", NULL, 0, 0, NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'olga' AND "
                                       "action = 'audit-list'"),
                  ==, 5);

  /* the export: every entry of alice's, CSV with a header, and JSON */
  {
    g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
    g_autoptr(GBytes) bytes = NULL;
    g_auto(GStrv) lines = NULL;
    guint64 n = 0;
    gint64 alice = cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE actor = 'alice'");
    g_assert_true(cd_pg_archive_export_audit(server, "alice", NULL, NULL, NULL, "csv", out, &n, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_output_stream_close(out, NULL, &error));
    bytes = g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(out));
    lines = g_strsplit(g_bytes_get_data(bytes, NULL) != NULL ? g_bytes_get_data(bytes, NULL) : "", "\r\n", -1);
    g_assert_cmpint(n, ==, alice);
    g_assert_cmpstr(lines[0], ==,
                    "id,station,source_id,time,user,action,object,mrn,document,purpose,break_glass,"
                    "detail");
    g_assert_cmpuint(g_strv_length(lines), ==, n + 2); /* the header, the rows, the empty piece after the last */
    g_assert_nonnull(strstr(lines[1], ",alice,"));
  }
  {
    g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    guint64 n = 0;
    g_assert_true(cd_pg_archive_export_audit(server, NULL, "MRN100", NULL, NULL, "json", out, &n, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_output_stream_close(out, NULL, &error));
    bytes = g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(out));
    g_assert_true(json_parser_load_from_data(parser, g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), &error));
    g_assert_no_error(error);
    g_assert_cmpuint(json_array_get_length(json_node_get_array(json_parser_get_root(parser))), ==, n);
    g_assert_cmpuint(n, >=, 3);
  }
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'olga' AND "
                                       "action = 'audit-export'"),
                  ==, 2);
  /* the auditor verifies; a coder may not */
  g_assert_true(verify_ok(server, NULL, &error));
  g_assert_no_error(error);
  cd_pg_archive_set_principal(server, coder);
  g_assert_false(cd_pg_archive_verify_audit(server, NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);
}

/* Two stations, each sealed with a key of its own, deliver; both chains
 * verify with their keys; a wrong key is caught for its station only. */
static void
test_pg_audit_two_stations(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) server_key = NULL;
  g_autoptr(GBytes) key1 = NULL;
  g_autoptr(GBytes) key2 = NULL;
  g_autofree gchar *p0 = write_key(f, "server.key", &server_key);
  g_autofree gchar *p1 = write_key(f, "s1.key", &key1);
  g_autofree gchar *p2 = write_key(f, "s2.key", &key2);
  g_autoptr(CdArchive) spool1 = make_spool(f, "s1.archive", SHA_A, key1);
  g_autoptr(CdArchive) spool2 = make_spool(f, "s2.archive", SHA_B, key2);
  g_autoptr(CdPgArchive) server = open_server(f, server_key);
  g_autoptr(JsonNode) report = NULL;

  g_assert_true(cd_pg_archive_deliver(server, spool1, "ward-1", NULL, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(cd_pg_archive_deliver(server, spool2, "ward-2", NULL, NULL, &error));
  g_assert_no_error(error);
  /* more at a station after its first delivery, then delivered again */
  {
    g_autoptr(JsonNode) doc = cd_archive_get_document(spool1, 2, &error);
    g_assert_no_error(error);
  }
  g_assert_true(cd_pg_archive_deliver(server, spool1, "ward-1", NULL, NULL, &error));
  g_assert_no_error(error);
  read_as_alice(server);

  g_assert_true(cd_pg_archive_set_station_audit_key(server, "ward-1", key1, &error));
  g_assert_true(cd_pg_archive_set_station_audit_key(server, "ward-2", key2, &error));
  g_assert_no_error(error);
  report = verify(server);
  g_assert_true(json_object_get_boolean_member(json_node_get_object(report), "intact"));
  g_assert_cmpstr(json_object_get_string_member(report_station(report, "ward-1"), "verified"), ==, "key");
  g_assert_cmpstr(json_object_get_string_member(report_station(report, "ward-2"), "verified"), ==, "key");
  g_assert_cmpint(json_object_get_int_member(report_station(report, "ward-1"), "entries"), ==,
                  cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station = 'ward-1'"));
  g_assert_cmpint(json_object_get_int_member(report_station(report, "ward-1"), "keyed_entries"), >, 3);
  g_assert_cmpint(json_object_get_int_member(report_station(report, "ward-2"), "keyed_entries"), ==, 3);
  /* the batches' journal anchors, delivered with them, were checked too */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM batches WHERE audit_anchor IS NOT NULL"), ==, 2);
  g_clear_pointer(&report, json_node_unref);

  /* ward-2's key given for ward-1: ward-1 fails at its first entry */
  g_assert_true(cd_pg_archive_set_station_audit_key(server, "ward-1", key2, &error));
  report = verify(server);
  g_assert_false(json_object_get_boolean_member(json_node_get_object(report), "intact"));
  g_assert_false(json_object_get_boolean_member(report_station(report, "ward-1"), "intact"));
  g_assert_cmpint(first_bad(report_station(report, "ward-1")), ==, 1);
  g_assert_true(json_object_get_boolean_member(report_station(report, "ward-2"), "intact"));
  g_assert_true(json_object_get_boolean_member(report_server(report), "intact"));
  g_clear_pointer(&report, json_node_unref);
}

/* The command line: `audit verify` (and `check`) with the server's and a
 * station's key, a tampered entry named with exit status 1, `audit list`
 * and `audit export` as the administrator's mode. */
static void
test_pg_audit_cli(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) server_key = NULL;
  g_autoptr(GBytes) station_key = NULL;
  g_autofree gchar *server_path = write_key(f, "server.key", &server_key);
  g_autofree gchar *station_path = write_key(f, "station.key", &station_key);
  g_autofree gchar *station_arg = g_strdup_printf("s1=%s", station_path);
  g_autofree gchar *csv = g_build_filename(f->dir, "audit.csv", NULL);
  g_autoptr(CdArchive) spool = NULL;
  g_autoptr(CdPgArchive) server = keyed_server_with_reads(f, server_key, station_key, &spool);
  g_auto(CdTestRun) r1 = { 0 };
  g_auto(CdTestRun) r2 = { 0 };
  g_auto(CdTestRun) r3 = { 0 };
  g_auto(CdTestRun) r4 = { 0 };
  g_auto(CdTestRun) r5 = { 0 };
  g_auto(CdTestRun) r6 = { 0 };
  g_autofree gchar *contents = NULL;
  g_autofree gchar *sql = NULL;
  g_autofree gchar *named = NULL;
  gint64 victim;

  cd_test_chartdesk(&r1, "audit", "verify", f->uri, "--audit-key", server_path, "--station-key", station_arg, NULL);
  g_assert_cmpint(r1.status, ==, 0);
  g_assert_nonnull(strstr(r1.out, "the server's chain: intact"));
  g_assert_nonnull(strstr(r1.out, "station s1: intact (verified with its key)"));

  /* without keys: the server's keyed chain cannot be called intact */
  cd_test_chartdesk(&r2, "check", f->uri, NULL);
  g_assert_cmpint(r2.status, ==, 1);
  g_assert_nonnull(strstr(r2.out, "without its key"));
  g_assert_nonnull(strstr(r2.out, "station s1: intact (links and plain hashes only: no key)"));

  victim = cd_pg_test_db_int(f, "SELECT max(id) FROM audit WHERE station IS NULL AND action = 'search'");
  sql = g_strdup_printf("UPDATE audit SET detail = '{}' WHERE id = %" G_GINT64_FORMAT, victim);
  raw_tamper(f, sql);
  cd_test_chartdesk(&r3, "audit", "verify", f->uri, "--audit-key", server_path, NULL);
  g_assert_cmpint(r3.status, ==, 1);
  named = g_strdup_printf("first bad entry: %" G_GINT64_FORMAT "\n", victim);
  g_assert_nonnull(strstr(r3.out, named));

  cd_test_chartdesk(&r4, "audit", "list", f->uri, "--audit-key", server_path, "--user", "alice", "--json", NULL);
  g_assert_cmpint(r4.status, ==, 0);
  {
    g_autoptr(JsonParser) parser = json_parser_new();
    g_assert_true(json_parser_load_from_data(parser, r4.out, -1, &error));
    g_assert_no_error(error);
    g_assert_cmpint(json_object_get_int_member(json_node_get_object(json_parser_get_root(parser)), "total"), ==,
                    cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE actor = 'alice'"));
  }
  cd_test_chartdesk(&r5, "audit", "export", f->uri, "--audit-key", server_path, "--mrn", "MRN100", "-o", csv, NULL);
  g_assert_cmpint(r5.status, ==, 0);
  g_assert_true(g_file_get_contents(csv, &contents, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(g_str_has_prefix(contents, "id,station,source_id,time,user,action,object,mrn,"));
  g_assert_nonnull(strstr(contents, ",MRN100,"));
  /* the listing was recorded as the login in the administrator's mode */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND action IN ('audit-list', "
                                       "'audit-export') AND actor LIKE 'admin-mode:%'"),
                  ==, 2);
  /* without the key a listing cannot be recorded: refused */
  cd_test_chartdesk(&r6, "audit", "list", f->uri, NULL);
  g_assert_cmpint(r6.status, ==, 1);
  g_assert_nonnull(strstr(r6.err, "keyed"));
}

/* The listing's statements as the library plans them, with sequential
 * scans disabled for the session (PGOPTIONS): any "Seq Scan on audit" left
 * means no index could answer the filter. */
static gchar *
audit_plan(CdPgArchive *server, const gchar *user, const gchar *mrn, const gchar *from, const gchar *to)
{
  g_autoptr(GError) error = NULL;
  gchar *plan = cd_pg_archive_explain_list_audit(server, user, mrn, from, to, &error);

  g_assert_no_error(error);
  g_test_message("user %s, mrn %s, %s to %s:\n%s", user, mrn, from, to, plan);
  g_assert_null(strstr(plan, "Seq Scan on audit"));
  return plan;
}

static gint64
listed_total(CdPgArchive *server, const gchar *user, const gchar *mrn, const gchar *from, const gchar *to)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) rows = NULL;
  gint64 total = -1;

  rows = cd_pg_archive_list_audit(server, user, mrn, from, to, 10, 0, &total, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(json_node_get_array(rows)), ==, MIN(total, 10));
  return total;
}

/* The audit listing's filters read indexes (schema 4) on a log of 30,000
 * entries: the user (as the actor, `USER (…`, `… for USER`), the patient
 * (the MRN in an entry's detail, or its document or page), the days, and
 * the newest-first paging; and the totals are what the conditions mean,
 * a user's name matched literally (`_` is no wildcard). */
static void
test_pg_audit_indexed(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) server_key = NULL;
  g_autoptr(GBytes) station_key = NULL;
  g_autofree gchar *p1 = write_key(f, "server.key", &server_key);
  g_autofree gchar *p2 = write_key(f, "station.key", &station_key);
  g_autoptr(CdArchive) spool = NULL;
  g_autoptr(CdPgArchive) server = NULL;
  g_autoptr(CdPgArchive) planned = NULL;
  g_autoptr(CdPrincipal) auditor = cd_principal_new_user("olga", (const gchar *const[]){ "auditor", NULL });
  g_autofree gchar *plan = NULL;
  gint64 expected;
  PGresult *res;

  /* the reads of keyed_server_with_reads (alice's views of MRN100's
   * document, the station's own), then 30,000 entries more */
  server = keyed_server_with_reads(f, server_key, station_key, &spool);
  res = PQexec(f->raw,
               "INSERT INTO audit (ts, actor, action, object, detail, prev_hash, hash) "
               "SELECT to_char(timestamp '2020-01-01' + i * interval '97 minutes', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
               "CASE i % 3 WHEN 0 THEN 'user' || (i % 200) WHEN 1 THEN 'user' || (i % 200) || ' (break-glass)' "
               "ELSE 'svc for user' || (i % 200) END, CASE i % 4 WHEN 0 THEN 'view' ELSE 'search' END, "
               "CASE i % 5 WHEN 0 THEN 'document:' || (100000 + i) ELSE 'archive' END, "
               "CASE i % 2 WHEN 0 THEN json_build_object('mrn', 'B' || (i % 1000))::text "
               "ELSE json_build_object('purpose', 'care', 'detail', json_build_object('mrn', 'B' || (i % 997)))::text "
               "END, 'x', 'x' FROM generate_series(1, 30000) i;"
               "INSERT INTO audit (ts, actor, action, object, detail, prev_hash, hash) VALUES "
               "('2026-01-01T00:00:00Z', 'userx1', 'view', 'archive', 'not json', 'x', 'x');"
               "ANALYZE audit");
  g_assert_cmpint(PQresultStatus(res), ==, PGRES_COMMAND_OK);
  PQclear(res);

  /* the plans, on a connection of their own without sequential scans */
  g_setenv("PGOPTIONS", "-c enable_seqscan=off", TRUE);
  planned = cd_pg_archive_open(f->uri, CD_ARCHIVE_FLAG_NONE, &error);
  g_unsetenv("PGOPTIONS");
  g_assert_no_error(error);
  g_assert_true(cd_pg_archive_set_audit_key(planned, server_key, &error));
  g_assert_no_error(error);
  plan = audit_plan(planned, "user7", NULL, NULL, NULL);
  g_assert_nonnull(strstr(plan, "audit_actor "));
  g_assert_nonnull(strstr(plan, "audit_actor_reversed"));
  g_clear_pointer(&plan, g_free);
  plan = audit_plan(planned, NULL, "B42", NULL, NULL);
  g_assert_nonnull(strstr(plan, "audit_mrns"));
  g_assert_nonnull(strstr(plan, "audit_object"));
  g_clear_pointer(&plan, g_free);
  plan = audit_plan(planned, NULL, NULL, "2023-05-01", "2023-05-31");
  g_assert_nonnull(strstr(plan, "audit_ts"));
  g_clear_pointer(&plan, g_free);
  plan = audit_plan(planned, "alice", "MRN100", "2020-01-01", NULL);
  g_clear_pointer(&plan, g_free);
  {
    /* no filter: the first page newest first, from the index's end */
    g_autofree gchar *all = cd_pg_archive_explain_list_audit(planned, NULL, NULL, NULL, NULL, &error);
    const gchar *listing;
    g_assert_no_error(error);
    listing = strstr(all, "\n\n");
    g_assert_nonnull(listing);
    g_test_message("no filter:\n%s", all);
    g_assert_nonnull(strstr(listing, "Index Scan Backward using audit_ts"));
  }

  /* what they answer: what the conditions mean */
  cd_pg_archive_set_principal(server, auditor);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE actor IN ('user7', 'user7 (break-glass)', "
                                       "'svc for user7')"),
                  ==, 150);
  g_assert_cmpint(listed_total(server, "user7", NULL, NULL, NULL), ==, 150);
  g_assert_cmpint(listed_total(server, "user_1", NULL, NULL, NULL), ==, 0);
  g_assert_cmpint(listed_total(server, "userx1", NULL, NULL, NULL), ==, 1);
  /* (each listing adds its own audit-list entry, naming the filters:
   * counted first) */
  expected = cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE detail LIKE '%\"B42\"%'");
  g_assert_cmpint(expected, >, 0);
  g_assert_cmpint(listed_total(server, NULL, "B42", NULL, NULL), ==, expected);
  expected = cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE ts >= '2023-05-01' AND ts < '2023-06-01'");
  g_assert_cmpint(expected, >, 0);
  g_assert_cmpint(listed_total(server, NULL, NULL, "2023-05-01", "2023-05-31"), ==, expected);
  /* MRN100's entries through its documents, as before the indexes */
  g_assert_cmpint(listed_total(server, "alice", "MRN100", NULL, NULL), >=, 2);
  g_assert_cmpint(listed_total(server, NULL, "MRN100", NULL, NULL), >=, 3);
}

/* A server of schema 3 with audit entries migrates to schema 4: the
 * indexes are built over the entries already there, and the listing
 * finds them by patient and user as before. */
static void
test_pg_audit_migrated(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPgArchive) server = NULL;
  PGresult *res;

  for (guint v = 0; v < 3; v++) {
    res = PQexec(f->raw, cd_pg_migrations[v]);
    g_assert_cmpint(PQresultStatus(res), ==, PGRES_COMMAND_OK);
    PQclear(res);
  }
  res = PQexec(f->raw, "INSERT INTO meta (key, value) VALUES ('schema_version', '3');"
                       "INSERT INTO audit (ts, actor, action, object, detail, prev_hash, hash) VALUES "
                       "('2025-01-01T00:00:00Z', 'dora (break-glass)', 'view', 'archive', '{\"mrn\": \"OLD1\"}', 'x', "
                       "'x'), ('2025-01-02T00:00:00Z', 'svc for dora', 'search', 'archive', "
                       "'{\"purpose\": \"care\", \"detail\": {\"mrn\": \"OLD1\"}}', 'x', 'x'), "
                       "('2025-01-03T00:00:00Z', 'ed', 'search', 'archive', 'not json', 'x', 'x')");
  g_assert_cmpint(PQresultStatus(res), ==, PGRES_COMMAND_OK);
  PQclear(res);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pg_indexes WHERE indexname IN ('audit_ts', "
                                       "'audit_actor', 'audit_actor_reversed', 'audit_object', 'audit_mrns')"),
                  ==, 0);

  server = cd_pg_archive_open(f->uri, CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  g_assert_cmpint(cd_pg_archive_get_schema_version(server), ==, CD_PG_ARCHIVE_SCHEMA_VERSION);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT value::int FROM meta WHERE key = 'schema_version'"), ==,
                  CD_PG_ARCHIVE_SCHEMA_VERSION);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pg_indexes WHERE indexname IN ('audit_ts', "
                                       "'audit_actor', 'audit_actor_reversed', 'audit_object', 'audit_mrns')"),
                  ==, 5);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE cd_audit_mrns(detail) @> ARRAY['OLD1']"), ==,
                  2);
  g_assert_cmpint(listed_total(server, NULL, "OLD1", NULL, NULL), ==, 2);
  g_assert_cmpint(listed_total(server, "dora", NULL, NULL, NULL), ==, 2);
  g_assert_cmpint(listed_total(server, "ed", NULL, "2025-01-03", "2025-01-03"), ==, 1);
  /* a new entry whose detail is not JSON is written, and names no MRN */
  res = PQexec(f->raw, "INSERT INTO audit (ts, actor, action, object, detail, prev_hash, hash) VALUES "
                       "('2025-01-04T00:00:00Z', 'ed', 'search', 'archive', '{broken', 'x', 'x')");
  g_assert_cmpint(PQresultStatus(res), ==, PGRES_COMMAND_OK);
  PQclear(res);
  g_assert_cmpint(listed_total(server, "ed", NULL, NULL, NULL), ==, 2);
}

static void
skip_all(gconstpointer data)
{
  g_test_skip(cd_pg_cluster_missing());
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  const struct {
    const gchar *path;
    void (*func)(Fixture *, gconstpointer);
  } tests[] = {
    { "/chartdesk/pg-audit/keyed", test_pg_audit_keyed },
    { "/chartdesk/pg-audit/altered", test_pg_audit_altered },
    { "/chartdesk/pg-audit/deleted", test_pg_audit_deleted },
    { "/chartdesk/pg-audit/list", test_pg_audit_list },
    { "/chartdesk/pg-audit/two-stations", test_pg_audit_two_stations },
    { "/chartdesk/pg-audit/cli", test_pg_audit_cli },
    { "/chartdesk/pg-audit/indexed", test_pg_audit_indexed },
    { "/chartdesk/pg-audit/migrated", test_pg_audit_migrated },
  };
  gint rc;

  g_test_init(&argc, &argv, NULL);
  g_test_summary("The PostgreSQL archive's audit chains on a cluster of the test's own");
  g_unsetenv("CHARTDESK_SERVER_AUDIT_KEY");
  cluster = cd_pg_cluster_start(&error);
  g_assert_no_error(error);
  for (guint i = 0; i < G_N_ELEMENTS(tests); i++) {
    if (cluster == NULL)
      g_test_add_data_func(tests[i].path, NULL, skip_all);
    else
      g_test_add(tests[i].path, Fixture, NULL, fixture_set_up, tests[i].func, fixture_tear_down);
  }
  rc = g_test_run();
  cd_pg_cluster_stop(cluster);
  return rc;
}
