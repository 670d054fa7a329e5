/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The PostgreSQL archive against a real cluster started for this binary
 * (tests/cd-pg-cluster.c): SQLite spools built with the engine, delivered
 * exactly once (retried, interrupted, from two stations, from two threads),
 * searched on the server as on SQLite, and copied back to SQLite.
 */
#include <libpq-fe.h>
#include <string.h>

#include "cd-archive-private.h"
#include "cd-archive-spool.h"
#include "cd-error.h"
#include "cd-pg-archive.h"
#include "cd-pg-cluster.h"
#include "cd-taxonomy.h"
#include "engine/cd-retention-policy.h"
#include "cd-test-util.h"

static CdPgCluster *cluster;

typedef CdPgTestDb Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  cd_pg_test_db_set_up(f, cluster, "t");
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  cd_pg_test_db_tear_down(f);
}

static gchar *
raw_text(Fixture *f, const gchar *sql)
{
  PGresult *res = PQexec(f->raw, sql);
  gchar *value;

  g_assert_cmpint(PQresultStatus(res), ==, PGRES_TUPLES_OK);
  g_assert_cmpint(PQntuples(res), ==, 1);
  value = g_strdup(PQgetvalue(res, 0, 0));
  PQclear(res);
  return value;
}

static gint64
spool_int(CdArchive *spool, const gchar *sql)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(spool, sql, &error);

  g_assert_no_error(error);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  return sqlite3_column_int64(stmt, 0);
}

static CdPgArchive *
open_server(Fixture *f)
{
  g_autoptr(GError) error = NULL;
  CdPgArchive *server = cd_pg_archive_open(f->uri, CD_ARCHIVE_FLAG_CREATE, &error);

  g_assert_no_error(error);
  g_assert_nonnull(server);
  return server;
}

/* The words of the test pages: none of them is an English stop word or
 * has another form on any page, so the English configuration's stemming
 * finds what the SQLite index finds. */
static const gchar *const texts[] = {
  "Patient seen for hypertension follow up. Metoprolol continued. Chest pain denied.",
  "Discharge summary: pneumonia treated with azithromycin. Chest radiograph clear.",
  "Laboratory panel: glucose elevated, diabetes suspected. Metformin started.",
  "Progress note: hypertension controlled, aspirin daily. Chest pain resolved.",
  "Consultation for arrhythmia. Echocardiogram ordered. Metoprolol increased.",
};
static const gchar *const types[] = { "progress-note", "discharge-summary", "laboratory-report", "consultation" };
static const gchar *const mrns[] = { "MRN001", "MRN002", "MRN003" };

static CdPage *
make_page(const gchar *path, const gchar *sha, gint index, const gchar *text, gint mark)
{
  g_autoptr(GError) error = NULL;
  CdPage *page = cd_page_new(path, index, sha);
  PIX *pix = pixCreate(64, 48, 1);

  pixSetPixel(pix, 3 + mark % 40, 5, 1);
  pixRasterop(pix, 10, 10, 20 + mark % 30, 4 + mark % 7, PIX_SET, NULL, 0, 0);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, 300, 300);
  cd_page_set_text(page, text);
  cd_page_set_confidence(page, 90.0);
  g_assert_true(cd_page_encode_image(page, &error));
  g_assert_no_error(error);
  return page;
}

/* A station's spool: @n_docs documents of two pages each from one scanned
 * file (@file_sha), document 2 waiting for review, a blank page and an
 * unreadable one set aside, three patients. @restricted: document 3 is of
 * type `psychotherapy-note`. */
static CdArchive *
make_spool(const gchar *path, const gchar *file_sha, guint n_docs, gboolean restricted)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) spool = cd_archive_open(path, CD_ARCHIVE_FLAG_CREATE | CD_ARCHIVE_FLAG_WRITER, &error);
  g_autoptr(GPtrArray) patients = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  const gchar *inputs[] = { "box7/", NULL };
  const gchar *given[] = { "Ann", "Bob", "Cid" };
  gint64 batch;
  guint page = 0;

  g_assert_no_error(error);
  for (guint i = 0; i < G_N_ELEMENTS(mrns); i++) {
    CdPatient *p = cd_patient_new(mrns[i]);
    p->family = g_strdup("TESTER");
    p->given = g_strdup(given[i]);
    p->dob = g_strdup_printf("1950-01-0%u", i + 1);
    g_ptr_array_add(patients, p);
  }
  g_assert_true(cd_archive_import_patients(spool, patients, "csv", NULL, &error));
  g_assert_no_error(error);
  batch = cd_archive_begin_batch(spool, "test", inputs, &error);
  g_assert_no_error(error);
  for (guint d = 0; d < n_docs; d++) {
    g_autoptr(CdDocument) doc = cd_document_new();
    g_autofree gchar *date = g_strdup_printf("20%02u-0%u-1%u", 20 + d % 5, 1 + d % 9, d % 10);
    cd_document_set_patient_mrn(doc, mrns[d % G_N_ELEMENTS(mrns)]);
    cd_document_set_doc_type(doc, restricted && d == 3 ? "psychotherapy-note" : types[d % G_N_ELEMENTS(types)], 0.9);
    cd_document_set_date(doc, date);
    cd_document_set_title(doc, "TEST");
    if (d == 2)
      cd_document_add_problem(doc, "type confidence below threshold");
    for (guint k = 0; k < 2; k++) {
      g_autofree gchar *text = g_strdup_printf("%s Visit %u.", texts[(d + k) % G_N_ELEMENTS(texts)], d);
      cd_document_add_page(doc, make_page("box7/scan.tif", file_sha, page, text, page));
      page++;
    }
    g_assert_true(cd_archive_commit_document(spool, batch, doc, &error));
    g_assert_no_error(error);
  }
  {
    g_autoptr(CdPage) blank = make_page("box7/scan.tif", file_sha, page++, NULL, 0);
    g_autoptr(CdPage) failed = cd_page_new("box7/bad.tif", -1, NULL);
    cd_page_set_kind(blank, CD_PAGE_KIND_BLANK, "blank page");
    cd_page_set_kind(failed, CD_PAGE_KIND_FAILED, "cannot read box7/bad.tif: not a TIFF file");
    g_assert_true(cd_archive_commit_page(spool, batch, blank, &error));
    g_assert_no_error(error);
    g_assert_true(cd_archive_commit_page(spool, batch, failed, &error));
    g_assert_no_error(error);
  }
  g_assert_true(cd_archive_commit_file(spool, batch, file_sha, "box7/scan.tif", 1234, page, &error));
  g_assert_no_error(error);
  return g_steal_pointer(&spool);
}

static gint
cd_test_strcmp_p(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static CdArchive *
fixture_spool(Fixture *f, const gchar *name, const gchar *sha, guint n_docs, gboolean restricted)
{
  g_autofree gchar *path = g_build_filename(f->dir, name, NULL);
  return make_spool(path, sha, n_docs, restricted);
}

/* The schema is created once, at the version this library writes; opening
 * without CREATE needs it; a newer server schema is refused by name. */
static void
test_pg_schema(Fixture *f, gconstpointer data)
{
  g_autoptr(CdPgArchive) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *expected = NULL;

  server = cd_pg_archive_open(f->uri, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_null(server);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, "not a Chartdesk archive"));
  g_clear_error(&error);

  server = open_server(f);
  g_assert_cmpint(cd_pg_archive_get_schema_version(server), ==, CD_PG_ARCHIVE_SCHEMA_VERSION);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT value::int FROM meta WHERE key = 'schema_version'"), ==,
                  CD_PG_ARCHIVE_SCHEMA_VERSION);
  g_assert_cmpint(cd_pg_test_db_int(f,
                                    "SELECT count(*) FROM pg_indexes WHERE indexname IN ('pages_tsv_keys', "
                                    "'pages_source', 'documents_patient', 'documents_type', 'documents_date')"),
                  ==, 5);
  /* schema 7: the pages' GIN index holds their id ranges and types
   * beside the words, in place of the one-column index */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pg_indexes WHERE indexname = 'pages_tsv'"), ==, 0);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pg_indexes WHERE indexname = 'pages_tsv_keys' AND "
                                       "indexdef LIKE '%USING gin (tsv, (ARRAY[((id / 1024))::text, (''t:''::text "
                                       "|| doc_type)]))'"),
                  ==, 1);
  /* schema 5: retention on the server */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pg_tables WHERE tablename IN ('legal_holds', "
                                       "'tombstones')"),
                  ==, 2);
  g_clear_pointer(&server, cd_pg_archive_free);
  server = cd_pg_archive_open(f->uri, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  g_clear_pointer(&server, cd_pg_archive_free);

  PQclear(PQexec(f->raw, "UPDATE meta SET value = '99' WHERE key = 'schema_version'"));
  server = cd_pg_archive_open(f->uri, CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_null(server);
  expected =
      g_strdup_printf("schema version 99 is newer than this Chartdesk understands (%d)", CD_PG_ARCHIVE_SCHEMA_VERSION);
  g_assert_nonnull(strstr(error->message, expected));
  g_clear_error(&error);

  /* a server that is not there: named, its password never */
  server =
      cd_pg_archive_open("postgresql://chartdesk:s3cret@/nothere?host=/nonexistent-dir", CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_null(server);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, "cannot connect"));
  g_assert_nonnull(strstr(error->message, "nothere"));
  g_assert_null(strstr(error->message, "s3cret"));
}

/* Everything of the spool arrives: documents with their pages, the pages
 * set aside, the review item, the patients, the batch, the file and the
 * station's audit chain verbatim; delivering again stores nothing more. */
static void
test_pg_deliver(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) spool = fixture_spool(f, "station1.archive", SHA_A, 4, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(GError) error = NULL;
  CdDeliverStats stats = { 0 };
  g_autofree gchar *spool_chain = NULL;
  g_autofree gchar *server_chain = NULL;

  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents, ==, 4);
  g_assert_cmpuint(stats.pages, ==, 8);
  g_assert_cmpuint(stats.set_aside, ==, 2);
  g_assert_cmpuint(stats.already, ==, 0);
  g_assert_cmpuint(stats.duplicates, ==, 0);
  g_assert_cmpuint(stats.audit_entries, ==, (guint64) spool_int(spool, "SELECT count(*) FROM audit"));

  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents"), ==, 4);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages"), ==, 10);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages WHERE document_id IS NULL"), ==, 2);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages WHERE kind = 'failed' AND source_page = -1"), ==, 1);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM images"), ==,
                  spool_int(spool, "SELECT count(*) FROM images"));
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM review r JOIN documents d ON d.id = r.document_id "
                                       "WHERE d.status = 'review'"),
                  ==, spool_int(spool, "SELECT count(*) FROM review WHERE document_id IS NOT NULL"));
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM review"), ==,
                  spool_int(spool, "SELECT count(*) FROM review"));
  g_assert_cmpint(spool_int(spool, "SELECT count(*) FROM review"), >=, 1);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM patients"), ==, 3);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM batches WHERE station = 'station1'"), ==, 1);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM files"), ==, 1);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM deliveries WHERE outcome = 'stored'"), ==, 4);
  /* the text index holds what the pages say */
  g_assert_cmpint(
      cd_pg_test_db_int(f, "SELECT count(*) FROM pages WHERE tsv @@ websearch_to_tsquery('english', 'metoprolol')"), ==,
      spool_int(spool, "SELECT count(*) FROM pages_fts WHERE pages_fts MATCH 'metoprolol'"));

  /* the station's chain, field for field */
  {
    g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(
        spool,
        "SELECT group_concat(id || ts || actor || action || object || detail || prev_hash || hash, '|') "
        "FROM (SELECT * FROM audit ORDER BY id)",
        &error);
    g_assert_no_error(error);
    g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
    spool_chain = g_strdup((const gchar *) sqlite3_column_text(stmt, 0));
  }
  server_chain = raw_text(f, "SELECT string_agg(source_id || ts || actor || action || object || detail || prev_hash "
                             "|| hash, '|' ORDER BY source_id) FROM audit WHERE station = 'station1'");
  g_assert_cmpstr(server_chain, ==, spool_chain);

  /* a retry: nothing new, every document "already" */
  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents, ==, 0);
  g_assert_cmpuint(stats.already, ==, 4);
  g_assert_cmpuint(stats.set_aside, ==, 0);
  g_assert_cmpuint(stats.audit_entries, ==, 0);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents"), ==, 4);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages"), ==, 10);
  /* the delivery that stored something is in the server's own chain */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND action = 'deliver' "
                                       "AND object = 'station:station1'"),
                  ==, 1);

  /* another spool under the same station name is refused: its document
   * ids would be taken for these */
  {
    g_autoptr(CdArchive) other = fixture_spool(f, "other.archive", SHA_B, 1, FALSE);
    g_assert_false(cd_pg_archive_deliver(server, other, "station1", &stats, NULL, &error));
    g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "station 'station1' delivers from another spool"));
    g_clear_error(&error);
    g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents"), ==, 4);
  }

  /* delivering is running batches: an archivist may not */
  {
    g_autoptr(CdPrincipal) alice = cd_principal_new_user("alice", (const gchar *const[]){ "archivist", NULL });
    cd_pg_archive_set_principal(server, alice);
    g_assert_false(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
    g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  }
}

typedef struct {
  GCancellable *cancellable;
  guint after;
} CancelAfter;

static void
cancel_after(const CdDeliverStats *stats, gpointer user_data)
{
  CancelAfter *c = user_data;
  if (stats->documents >= c->after)
    g_cancellable_cancel(c->cancellable);
}

/* A delivery cancelled after two documents keeps those two; resumed, it
 * delivers the rest, and every document is on the server exactly once. */
static void
test_pg_deliver_interrupted(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) spool = fixture_spool(f, "station1.archive", SHA_A, 6, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(GError) error = NULL;
  CancelAfter c = { cancellable, 2 };
  CdDeliverStats stats = { 0 };

  cd_pg_archive_set_deliver_progress(server, cancel_after, &c);
  g_assert_false(cd_pg_archive_deliver(server, spool, "station1", &stats, cancellable, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error(&error);
  g_assert_cmpuint(stats.documents, ==, 2);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents"), ==, 2);
  /* a file is listed only once all its pages are there */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM files"), ==, 0);

  cd_pg_archive_set_deliver_progress(server, NULL, NULL);
  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents, ==, 4);
  g_assert_cmpuint(stats.already, ==, 2);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents"), ==, 6);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM (SELECT source_sha256, source_page FROM pages "
                                       "WHERE source_page >= 0 GROUP BY 1, 2 HAVING count(*) > 1) x"),
                  ==, 0);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages"), ==, 14);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM files"), ==, 1);
}

/* Two stations scanned the same file: the second's documents are
 * duplicates, recorded against the first's, not stored twice. */
static void
test_pg_deliver_two_stations(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) one = fixture_spool(f, "station1.archive", SHA_A, 3, FALSE);
  g_autoptr(CdArchive) two = fixture_spool(f, "station2.archive", SHA_A, 3, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(GError) error = NULL;
  CdDeliverStats stats = { 0 };

  g_assert_true(cd_pg_archive_deliver(server, one, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents, ==, 3);
  g_assert_true(cd_pg_archive_deliver(server, two, "station2", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents, ==, 0);
  g_assert_cmpuint(stats.duplicates, ==, 3);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents"), ==, 3);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages"), ==, 6 + 2 + 1);
  g_assert_cmpint(
      cd_pg_test_db_int(f, "SELECT count(*) FROM deliveries d JOIN deliveries o ON o.document_id = d.document_id "
                           "WHERE d.station = 'station2' AND d.outcome = 'duplicate' AND o.station = 'station1'"),
      ==, 3);
  /* both stations' audit chains are kept, side by side */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(DISTINCT station) FROM audit"), ==, 2);
}

typedef struct {
  const gchar *uri;
  CdArchive *spool;
  CdDeliverStats stats;
  gboolean ok;
  gchar *message;
} DeliverThread;

static gpointer
deliver_thread(gpointer data)
{
  DeliverThread *t = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPgArchive) server = cd_pg_archive_open(t->uri, CD_ARCHIVE_FLAG_NONE, &error);

  if (server != NULL)
    t->ok = cd_pg_archive_deliver(server, t->spool, "station1", &t->stats, NULL, &error);
  if (error != NULL)
    t->message = g_strdup(error->message);
  return NULL;
}

/* Two deliverers on the same spool at once store every document once:
 * what one stored the other counts as already there. */
static void
test_pg_deliver_concurrent(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) spool = fixture_spool(f, "station1.archive", SHA_A, 16, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  DeliverThread t[2] = { { f->uri, spool }, { f->uri, spool } };
  GThread *threads[2];

  for (guint i = 0; i < 2; i++)
    threads[i] = g_thread_new("deliver", deliver_thread, &t[i]);
  for (guint i = 0; i < 2; i++)
    g_thread_join(threads[i]);
  for (guint i = 0; i < 2; i++) {
    g_assert_cmpstr(t[i].message, ==, NULL);
    g_assert_true(t[i].ok);
  }
  g_test_message("thread 1: %" G_GUINT64_FORMAT " stored, thread 2: %" G_GUINT64_FORMAT " stored", t[0].stats.documents,
                 t[1].stats.documents);
  g_assert_cmpuint(t[0].stats.documents + t[1].stats.documents, ==, 16);
  g_assert_cmpuint(t[0].stats.already + t[1].stats.already, ==, 16);
  g_assert_cmpuint(t[0].stats.set_aside + t[1].stats.set_aside, ==, 2);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents"), ==, 16);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages"), ==, 34);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station = 'station1'"), ==,
                  spool_int(spool, "SELECT count(*) FROM audit"));
}

/* ---- changes after delivery ---- */

/* Each document of the spool as "id:status:patient:type:pages in order:
 * open review items", and the same of the server's documents delivered
 * for it, by their delivery key: equal when the server matches the spool. */
static gchar *
spool_state(CdArchive *spool)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(
      spool,
      "SELECT group_concat(s, ' / ') FROM (SELECT d.id || ':' || d.status || ':' || coalesce(d.patient_mrn, '-') || "
      "':' || coalesce(d.type, '-') || ':' || (SELECT group_concat(source_page, ',') FROM (SELECT source_page FROM "
      "pages WHERE document_id = d.id ORDER BY seq)) || ':' || (SELECT count(*) FROM review WHERE document_id = d.id "
      "AND resolved IS NULL) AS s FROM documents d ORDER BY d.id)",
      &error);

  g_assert_no_error(error);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  return g_strdup((const gchar *) sqlite3_column_text(stmt, 0));
}

static gchar *
server_state(Fixture *f, const gchar *station)
{
  g_autofree gchar *sql = g_strdup_printf(
      "SELECT string_agg(s, ' / ' ORDER BY k) FROM (SELECT v.source_document_id AS k, v.source_document_id || ':' || "
      "d.status || ':' || coalesce(d.patient_mrn, '-') || ':' || coalesce(d.type, '-') || ':' || (SELECT "
      "string_agg(source_page::text, ',' ORDER BY seq) FROM pages WHERE document_id = d.id) || ':' || (SELECT "
      "count(*) FROM review WHERE document_id = d.id AND resolved IS NULL) AS s FROM deliveries v JOIN documents d "
      "ON d.id = v.document_id WHERE v.station = '%s' AND v.outcome IN ('stored', 'partial')) x",
      station);
  return raw_text(f, sql);
}

/* Everything the server holds of one station, to see that a delivery
 * with nothing new changes nothing. */
static gchar *
server_snapshot(Fixture *f)
{
  return raw_text(f, "SELECT md5(coalesce((SELECT string_agg(d::text, '|' ORDER BY id) FROM documents d), '') || "
                     "coalesce((SELECT string_agg(p.id || ':' || coalesce(p.document_id, 0) || ':' || coalesce(p.seq, "
                     "-1), '|' ORDER BY id) FROM pages p), '') || coalesce((SELECT string_agg(r::text, '|' ORDER BY "
                     "id) FROM review r), '') || coalesce((SELECT string_agg(v::text, '|' ORDER BY station, "
                     "source_document_id) FROM deliveries v), ''))");
}

/* The server matches the spool, and every page of the spool is on the
 * server exactly once. */
static void
assert_server_matches(Fixture *f, CdArchive *spool)
{
  g_autofree gchar *a = spool_state(spool);
  g_autofree gchar *b = server_state(f, "station1");

  g_assert_cmpstr(b, ==, a);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents"), ==,
                  spool_int(spool, "SELECT count(*) FROM documents"));
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages"), ==,
                  spool_int(spool, "SELECT count(*) FROM pages"));
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM (SELECT source_sha256, source_page FROM pages "
                                       "WHERE source_page >= 0 GROUP BY 1, 2 HAVING count(*) > 1) x"),
                  ==, 0);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages WHERE document_id IS NULL"), ==,
                  spool_int(spool, "SELECT count(*) FROM pages WHERE document_id IS NULL"));
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM review"), ==,
                  spool_int(spool, "SELECT count(*) FROM review"));
  /* the items of pages set aside too (an unreadable page rescanned) */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM review WHERE resolved IS NULL"), ==,
                  spool_int(spool, "SELECT count(*) FROM review WHERE resolved IS NULL"));
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM review WHERE resolved IS NULL AND document_id IS NULL"),
                  ==, spool_int(spool, "SELECT count(*) FROM review WHERE resolved IS NULL AND document_id IS NULL"));
}

static void
count_writes(CdArchive *archive, gpointer user_data)
{
  (*(guint *) user_data)++;
}

static void
cancel_after_changes(const CdDeliverStats *stats, gpointer user_data)
{
  CancelAfter *c = user_data;
  if (stats->changes >= c->after)
    g_cancellable_cancel(c->cancellable);
}

/* Deliver; then on the station resolve a document in review (patient and
 * type), split one, merge two: the next delivery brings the server to the
 * spool's state (the split's new document under its own key with the
 * pages moved, the merged one removed), a further delivery changes
 * nothing; a delivery of changes interrupted leaves the server whole and
 * the next completes it; two deliverers at once deliver each change once. */
static void
test_pg_deliver_changes(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) spool = fixture_spool(f, "station1.archive", SHA_A, 6, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(GError) error = NULL;
  CancelAfter c = { cancellable, 1 };
  CdDeliverStats stats = { 0 };
  g_autofree gchar *before = NULL;
  g_autofree gchar *after = NULL;
  g_autofree gchar *state = NULL;
  gint64 split, split2, item;
  guint writes = 0;

  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents, ==, 6);
  g_assert_cmpuint(stats.changes, ==, 0);
  assert_server_matches(f, spool);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents WHERE status = 'review'"), ==, 1);

  /* document 3 was in review: a person files it, with its type (each
   * decision announced to the archive's write notify, which chartdeskd
   * uses to wake its delivery; a read is not) */
  cd_archive_set_write_notify(spool, count_writes, &writes);
  g_assert_true(cd_archive_review_assign(spool, 3, "MRN002", "identity checked on the form", &error));
  g_assert_no_error(error);
  g_assert_cmpuint(writes, ==, 1);
  {
    g_autoptr(CdArchiveTxn) read = cd_archive_txn_begin_read(spool, &error);
    g_assert_no_error(error);
    g_assert_true(cd_archive_txn_commit(read, &error));
    g_assert_no_error(error);
  }
  g_assert_cmpuint(writes, ==, 1);
  cd_archive_set_write_notify(spool, NULL, NULL);
  g_assert_true(cd_archive_review_set_type(spool, 3, "consultation", "read the letterhead", &error));
  g_assert_no_error(error);
  /* document 1 held two: split; document 4 continues document 1 (both MRN001) */
  split = cd_archive_review_split(spool, 1, 2, "missed separator", &error);
  g_assert_no_error(error);
  g_assert_cmpint(split, ==, 7);
  g_assert_true(cd_archive_review_merge(spool, 1, 4, "one letter", &error));
  g_assert_no_error(error);
  state = spool_state(spool);
  g_test_message("spool: %s", state);

  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents, ==, 1); /* the split's new document */
  g_assert_cmpuint(stats.pages, ==, 1);     /* its page, moved */
  g_assert_cmpuint(stats.duplicates, ==, 0);
  g_assert_cmpuint(stats.changes, >=, 3);
  assert_server_matches(f, spool);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents WHERE status = 'review'"), ==,
                  1); /* the split's */
  g_assert_cmpint(
      cd_pg_test_db_int(f, "SELECT count(*) FROM deliveries WHERE source_document_id = 3 AND document_id IN "
                           "(SELECT id FROM documents WHERE patient_mrn = 'MRN002' AND type = 'consultation' AND "
                           "status = 'filed')"),
      ==, 1);
  g_assert_cmpint(
      cd_pg_test_db_int(f, "SELECT count(*) FROM deliveries WHERE source_document_id = 4 AND outcome = 'merged' "
                           "AND document_id IS NULL"),
      ==, 1);
  g_assert_cmpint(
      cd_pg_test_db_int(f, "SELECT count(*) FROM deliveries WHERE source_document_id = 7 AND outcome = 'stored'"), ==,
      1);
  g_assert_cmpint(
      cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND action = 'deliver-change'"), >=, 2);
  g_assert_cmpint(
      cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND action = 'deliver-removal'"), ==, 1);

  /* again: nothing more */
  before = server_snapshot(f);
  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents + stats.changes + stats.duplicates + stats.set_aside, ==, 0);
  after = server_snapshot(f);
  g_assert_cmpstr(after, ==, before);

  /* more changes, the delivery cancelled after the first: the server is
   * whole (every page once), and the next delivery completes it */
  g_assert_true(cd_archive_review_assign(spool, 7, "MRN001", "same letter, second sheet", &error));
  g_assert_no_error(error);
  split2 = cd_archive_review_split(spool, 1, 3, "the appended letter had its own date", &error);
  g_assert_no_error(error);
  g_assert_true(cd_archive_review_merge(spool, 6, 2, "same visit", &error) ||
                (g_clear_error(&error), cd_archive_review_set_type(spool, 6, "discharge-summary", "re-read", &error)));
  g_assert_no_error(error);
  cd_pg_archive_set_deliver_progress(server, cancel_after_changes, &c);
  g_assert_false(cd_pg_archive_deliver(server, spool, "station1", &stats, cancellable, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error(&error);
  g_assert_cmpuint(stats.changes, ==, 1);
  g_assert_cmpuint(stats.documents, ==, 1); /* new documents go first: the second split's */
  g_assert_cmpint(split2, >, 0);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages"), ==,
                  spool_int(spool, "SELECT count(*) FROM pages"));
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM (SELECT source_sha256, source_page FROM pages "
                                       "WHERE source_page >= 0 GROUP BY 1, 2 HAVING count(*) > 1) x"),
                  ==, 0);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages WHERE document_id IS NULL"), ==, 2);
  cd_pg_archive_set_deliver_progress(server, NULL, NULL);
  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents, ==, 0);
  g_assert_cmpuint(stats.changes, >=, 1);
  assert_server_matches(f, spool);

  /* the unreadable page's item closed (rescanned), a type changed, a
   * split, then two deliverers at once */
  item = spool_int(spool, "SELECT id FROM review WHERE resolved IS NULL AND document_id IS NULL");
  g_assert_true(cd_archive_review_resolve(spool, item, "checked", &error));
  g_assert_no_error(error);
  g_assert_true(cd_archive_review_set_type(spool, 5, "laboratory-report", "re-read", &error));
  g_assert_no_error(error);
  g_assert_cmpint(cd_archive_review_split(spool, 5, 2, "two reports", &error), >, 0);
  g_assert_no_error(error);
  {
    DeliverThread t[2] = { { f->uri, spool }, { f->uri, spool } };
    GThread *threads[2];
    for (guint i = 0; i < 2; i++)
      threads[i] = g_thread_new("deliver", deliver_thread, &t[i]);
    for (guint i = 0; i < 2; i++)
      g_thread_join(threads[i]);
    for (guint i = 0; i < 2; i++) {
      g_assert_cmpstr(t[i].message, ==, NULL);
      g_assert_true(t[i].ok);
    }
    g_test_message("thread 1: %" G_GUINT64_FORMAT " changes, thread 2: %" G_GUINT64_FORMAT, t[0].stats.changes,
                   t[1].stats.changes);
    g_assert_cmpuint(t[0].stats.documents + t[1].stats.documents, ==, 1);
    /* each change delivered once: the page's item, and document 5 (its
     * type and its split, one revision) */
    g_assert_cmpuint(t[0].stats.changes + t[1].stats.changes, ==, 2);
  }
  assert_server_matches(f, spool);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM files"), ==, 1);
}

/* A station whose document was a duplicate of another station's changes
 * it: the other station's document is not refiled by it; an open review
 * item on it says what this station reads, once. */
static void
test_pg_deliver_changes_duplicate(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) one = fixture_spool(f, "station1.archive", SHA_A, 3, FALSE);
  g_autoptr(CdArchive) two = fixture_spool(f, "station2.archive", SHA_A, 3, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(GError) error = NULL;
  CdDeliverStats stats = { 0 };
  g_autofree gchar *state = NULL;
  g_autofree gchar *state_after = NULL;

  g_assert_true(cd_pg_archive_deliver(server, one, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(cd_pg_archive_deliver(server, two, "station2", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.duplicates, ==, 3);
  state = server_state(f, "station1");

  g_assert_true(cd_archive_review_assign(two, 3, "MRN001", "station 2's reading", &error));
  g_assert_no_error(error);
  g_assert_true(cd_pg_archive_deliver(server, two, "station2", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.changes, ==, 1);
  /* station 1's document is as station 1 delivered it, plus one open item */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents WHERE patient_mrn = 'MRN001'"), ==, 1);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM review WHERE resolved IS NULL AND reason LIKE "
                                       "'station station2''s copy (its document 3) now reads patient MRN001%'"),
                  ==, 1);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE action = 'deliver-change-disputed'"), ==, 1);
  /* a second change of the same reading adds no second item */
  g_assert_true(cd_archive_review_set_type(two, 3, types[2], "same type", &error));
  g_assert_no_error(error);
  g_assert_true(cd_pg_archive_deliver(server, two, "station2", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM review WHERE reason LIKE 'station station2''s copy%'"), ==,
                  1);
  state_after = server_state(f, "station1");
  /* station 1's documents otherwise unchanged (one open item more on document 3) */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents"), ==, 3);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages"), ==, 9);
  g_assert_cmpstr(state_after, !=, state);
}

/* Every page of the scanned file as "page:text:image:words", on the
 * spool and on the server: equal when the server has the spool's
 * content. */
static gchar *
spool_pages_state(CdArchive *spool)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(
      spool,
      "SELECT group_concat(s, ' / ') FROM (SELECT source_page || ':' || coalesce(text, '-') || ':' || "
      "coalesce(image_sha256, '-') || ':' || coalesce(words, '-') AS s FROM pages WHERE source_sha256 IS NOT NULL "
      "ORDER BY source_page)",
      &error);

  g_assert_no_error(error);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  return g_strdup((const gchar *) sqlite3_column_text(stmt, 0));
}

static gchar *
server_pages_state(Fixture *f)
{
  return raw_text(f, "SELECT string_agg(source_page || ':' || coalesce(text, '-') || ':' || coalesce(image_sha256, "
                     "'-') || ':' || coalesce(words, '-'), ' / ' ORDER BY source_page) FROM pages WHERE "
                     "source_sha256 IS NOT NULL");
}

/* The stored images, by hash, on both sides. */
static gchar *
spool_images(CdArchive *spool)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(
      spool, "SELECT group_concat(sha256, ' ') FROM (SELECT sha256 FROM images ORDER BY sha256)", &error);

  g_assert_no_error(error);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  return g_strdup((const gchar *) sqlite3_column_text(stmt, 0));
}

/* The server's hits for @word as "document id" strings, and whether
 * @server_doc is among them. */
static gboolean
server_finds(CdPgArchive *server, const gchar *word, gint64 server_doc, guint *n_hits)
{
  g_autoptr(GError) error = NULL;
  const CdSearchQuery q = { .text = word, .limit = 100 };
  g_autoptr(CdSearchResult) r = cd_pg_archive_search(server, &q, &error);
  gboolean found = FALSE;

  g_assert_no_error(error);
  for (guint i = 0; i < r->hits->len; i++)
    found |= ((CdSearchHit *) g_ptr_array_index(r->hits, i))->document_id == server_doc;
  if (n_hits != NULL)
    *n_hits = r->hits->len;
  return found;
}

static const gchar delta_policy[] = "[policy]\n"
                                    "years=1\n"
                                    "majority-age=18\n"
                                    "minor-years=1\n"
                                    "floor-years=1\n"
                                    "facility=Test General Hospital HIM\n";

/* The server document a station's document @spool_doc was delivered as. */
static gint64
server_doc_of(Fixture *f, gint64 spool_doc)
{
  g_autofree gchar *sql =
      g_strdup_printf("SELECT document_id FROM deliveries WHERE source_document_id = %" G_GINT64_FORMAT, spool_doc);
  return cd_pg_test_db_int(f, sql);
}

/* Page text and images changed on the station after delivery reach the
 * server once, by the same change counter: retention destroying
 * documents (their pages' text, words and images emptied), then writers
 * straight into the spool's tables (a page's text, words and image
 * replaced, as a rescan or a redaction would; a page set aside given
 * text): the server's search no longer finds what was removed and finds
 * what was added, its pages' content and its images are the spool's,
 * each change has its audit entry, and a further delivery changes
 * nothing. */
static void
test_pg_deliver_page_content(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) spool = fixture_spool(f, "station1.archive", SHA_A, 6, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_default(&error);
  g_autoptr(CdRetentionPolicy) policy = NULL;
  g_autoptr(JsonNode) plan = NULL;
  g_autoptr(JsonNode) run = NULL;
  g_autofree gchar *plan_text = NULL;
  g_autofree gchar *a = NULL;
  g_autofree gchar *b = NULL;
  g_autofree gchar *before = NULL;
  g_autofree gchar *after = NULL;
  CdDeliverStats stats = { 0 };
  JsonArray *destroyed;
  gint64 victim, victim_server;
  guint n_hits = 0;

  g_assert_no_error(error);
  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents, ==, 6);
  /* document 1's first page reads "… metoprolol …": found on the server */
  victim_server = server_doc_of(f, 1);
  g_assert_true(server_finds(server, "metoprolol", victim_server, NULL));

  /* the station destroys what retention makes due (every filed
   * document: their dates are years old) */
  policy = cd_retention_policy_new_from_data(delta_policy, "delta.policy", taxonomy, &error);
  g_assert_no_error(error);
  plan = cd_archive_retention_plan(spool, policy, NULL, &error);
  g_assert_no_error(error);
  plan_text = json_to_string(plan, TRUE);
  run = cd_archive_retention_destroy(spool, plan_text, &error);
  g_assert_no_error(error);
  destroyed = json_object_get_array_member(json_node_get_object(run), "destroyed");
  g_assert_cmpuint(json_array_get_length(destroyed), >, 0);
  victim = json_array_get_int_element(destroyed, 0);
  victim_server = server_doc_of(f, victim);
  g_test_message("destroyed %u documents, the first spool %" G_GINT64_FORMAT " (server %" G_GINT64_FORMAT ")",
                 json_array_get_length(destroyed), victim, victim_server);
  g_assert_true(
      server_finds(server, "chest", victim_server, NULL) || server_finds(server, "metoprolol", victim_server, NULL) ||
      server_finds(server, "glucose", victim_server, NULL) || server_finds(server, "arrhythmia", victim_server, NULL));
  a = spool_pages_state(spool);
  b = server_pages_state(f);
  g_assert_cmpstr(b, !=, a);

  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents, ==, 0);
  g_assert_cmpuint(stats.changes, ==, json_array_get_length(destroyed));
  g_clear_pointer(&a, g_free);
  g_clear_pointer(&b, g_free);
  a = spool_pages_state(spool);
  b = server_pages_state(f);
  g_assert_cmpstr(b, ==, a);
  assert_server_matches(f, spool);
  /* the destroyed text is not found on the server any more, by the
   * search or its stored tsvector; the images no page uses are gone */
  for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
    g_auto(GStrv) words = g_strsplit_set(texts[i], " .,:", -1);
    for (guint w = 0; words[w] != NULL; w++) {
      if (strlen(words[w]) > 6)
        g_assert_false(server_finds(server, words[w], victim_server, NULL));
    }
  }
  {
    g_autofree gchar *sql = g_strdup_printf("SELECT count(*) FROM pages WHERE document_id = %" G_GINT64_FORMAT
                                            " AND (text IS NOT NULL OR words IS NOT NULL OR image_sha256 IS NOT NULL "
                                            "OR tsv <> ''::tsvector)",
                                            victim_server);
    g_assert_cmpint(cd_pg_test_db_int(f, sql), ==, 0);
  }
  g_clear_pointer(&a, g_free);
  g_clear_pointer(&b, g_free);
  a = spool_images(spool);
  b = raw_text(f, "SELECT string_agg(sha256, ' ' ORDER BY sha256) FROM images");
  g_assert_cmpstr(b, ==, a);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND action = "
                                       "'deliver-destruction' AND (detail::json ->> 'pages_updated')::int = 2"),
                  ==, json_array_get_length(destroyed));

  /* again: nothing more */
  before = server_snapshot(f);
  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents + stats.changes + stats.duplicates + stats.set_aside, ==, 0);
  after = server_snapshot(f);
  g_assert_cmpstr(after, ==, before);

  /* other writers: a page of the document in review (never due) rescanned
   * (a new image, text and word boxes), the old image dropped from the
   * spool; the blank page set aside given text */
  {
    g_autofree gchar *sql = NULL;
    gint64 page = spool_int(spool, "SELECT id FROM pages WHERE document_id = 3 AND seq = 0");
    gint64 blank = spool_int(spool, "SELECT id FROM pages WHERE kind = 'blank'");
    const gchar *new_sha = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
    sql = g_strdup_printf(
        "INSERT INTO images (sha256, format, width, height, depth, xres, yres, data) SELECT '%s', format, width, "
        "height, depth, xres, yres, data || x'00' FROM images WHERE sha256 = (SELECT image_sha256 FROM pages WHERE "
        "id = %" G_GINT64_FORMAT ");"
        "CREATE TEMP TABLE old_image AS SELECT image_sha256 FROM pages WHERE id = %" G_GINT64_FORMAT ";"
        "UPDATE pages SET image_sha256 = '%s', text = 'Rescanned: bronchoscopy findings.', "
        "words = '[[1,2,3,4,90,0,\"bronchoscopy\"]]' WHERE id = %" G_GINT64_FORMAT ";"
        "DELETE FROM images WHERE sha256 IN (SELECT image_sha256 FROM old_image) AND NOT EXISTS (SELECT 1 FROM "
        "pages WHERE image_sha256 = images.sha256);"
        "UPDATE pages SET text = 'bronchoscopy scheduled' WHERE id = %" G_GINT64_FORMAT ";",
        new_sha, page, page, new_sha, page, blank);
    g_assert_true(cd_archive_exec(spool, sql, &error));
    g_assert_no_error(error);
  }
  g_assert_false(server_finds(server, "bronchoscopy", 0, &n_hits));
  g_assert_cmpuint(n_hits, ==, 0);
  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.changes, ==, 2); /* document 3, and the blank page (-its id) */
  server_finds(server, "bronchoscopy", 0, &n_hits);
  g_assert_cmpuint(n_hits, ==, 2);
  g_clear_pointer(&a, g_free);
  g_clear_pointer(&b, g_free);
  a = spool_pages_state(spool);
  b = server_pages_state(f);
  g_assert_cmpstr(b, ==, a);
  g_clear_pointer(&a, g_free);
  g_clear_pointer(&b, g_free);
  a = spool_images(spool);
  b = raw_text(f, "SELECT string_agg(sha256, ' ' ORDER BY sha256) FROM images");
  g_assert_cmpstr(b, ==, a);
  assert_server_matches(f, spool);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND action = "
                                       "'deliver-change' AND detail::json ->> 'source_page_id' IS NOT NULL AND "
                                       "(detail::json ->> 'pages_updated')::int = 1"),
                  ==, 1);
}

/* A hit as both sides can name it: the page of the scanned file. */
static gboolean compare_by_id = FALSE;

static gchar *
hit_key(const CdSearchHit *hit)
{
  if (compare_by_id)
    return g_strdup_printf("%" G_GINT64_FORMAT, hit->page_id);
  return g_strdup_printf("%s#%d", hit->source_path, hit->source_page);
}

static gchar *
facets_string(GPtrArray *facets)
{
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < facets->len; i++) {
    CdSearchFacet *facet = g_ptr_array_index(facets, i);
    g_string_append_printf(s, "%s=%" G_GUINT64_FORMAT ";", facet->value, facet->count);
  }
  return g_string_free(s, FALSE);
}

/* The hits' keys, sorted unless @ordered (a ranked result is compared as
 * a set: BM25 and ts_rank_cd may order ties and near-ties differently). */
static gchar *
hits_string(GPtrArray *hits, gboolean ordered)
{
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GString) s = g_string_new(NULL);

  for (guint i = 0; i < hits->len; i++)
    g_ptr_array_add(keys, hit_key(g_ptr_array_index(hits, i)));
  if (!ordered)
    g_ptr_array_sort(keys, (GCompareFunc) cd_test_strcmp_p);
  for (guint i = 0; i < keys->len; i++)
    g_string_append_printf(s, "%s ", (const gchar *) g_ptr_array_index(keys, i));
  return g_string_free(g_steal_pointer(&s), FALSE);
}

/* Asserts the server answers @query as the SQLite spool does: the same
 * hits, the exact same total and facets. */
static void
assert_same_search(CdArchive *spool, CdPgArchive *server, const CdSearchQuery *query)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdSearchResult) a = cd_archive_search_ex(spool, query, &error);
  g_autoptr(CdSearchResult) b = NULL;
  g_autofree gchar *ha = NULL, *hb = NULL, *ta = NULL, *tb = NULL, *ya = NULL, *yb = NULL;
  gboolean ordered = query->text == NULL;

  g_assert_no_error(error);
  b = cd_pg_archive_search(server, query, &error);
  g_assert_no_error(error);
  ha = hits_string(a->hits, ordered);
  hb = hits_string(b->hits, ordered);
  g_test_message("query '%s' mrn %s type %s status %s: sqlite %" G_GUINT64_FORMAT " [%s], server %" G_GUINT64_FORMAT
                 " [%s]",
                 query->text, query->mrn, query->doc_type, query->status, a->total, ha, b->total, hb);
  g_assert_cmpuint(a->hits->len, >, 0);
  g_assert_cmpstr(ha, ==, hb);
  g_assert_false(a->total_is_estimate);
  g_assert_false(b->total_is_estimate);
  g_assert_cmpuint(a->total, ==, b->total);
  ta = facets_string(a->type_facets);
  tb = facets_string(b->type_facets);
  g_assert_cmpstr(ta, ==, tb);
  ya = facets_string(a->year_facets);
  yb = facets_string(b->year_facets);
  g_assert_cmpstr(ya, ==, yb);
  for (guint i = 0; i < b->hits->len; i++) {
    CdSearchHit *hit = g_ptr_array_index(b->hits, i);
    g_assert_cmpint(hit->page_id, >, 0);
    g_assert_nonnull(hit->source_path);
    if (query->text != NULL) {
      g_assert_nonnull(hit->snippet);
      g_assert_nonnull(strchr(hit->snippet, '['));
      g_assert_cmpuint(hit->spans->len, >, 0);
    }
    if (hit->document_id > 0) {
      g_assert_nonnull(hit->status);
      g_assert_cmpstr(hit->patient_name, !=, NULL);
    }
  }
}

/* The server finds what the SQLite spool finds, for words, a phrase, a
 * patient, a type with dates, a status and filters without words: the
 * same pages, the exact totals and the same facets; snippets mark the
 * matched words. */
static void
test_pg_search(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) spool = fixture_spool(f, "station1.archive", SHA_A, 12, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(GError) error = NULL;
  /* `gin`: the same answers without the RUM index (meta search-index) */
  gboolean gin = g_strcmp0(data, "gin") == 0;
  const gchar *progress[] = { "progress-note", "consultation", NULL };
  const CdSearchQuery queries[] = {
    { .text = "metoprolol", .limit = 100 },
    { .text = "\"chest pain\"", .limit = 100 },
    { .text = "chest radiograph", .limit = 100 },
    { .text = "hypertension", .mrn = "MRN001", .limit = 100 },
    { .text = "chest", .doc_type = "progress-note", .date_from = "2021-01-01", .date_to = "2023-12-31", .limit = 100 },
    { .text = "chest", .doc_types = progress, .limit = 100 },
    { .text = "visit", .status = "review", .limit = 100 },
    { .mrn = "MRN002", .limit = 100 },
    { .doc_type = "laboratory-report", .date_from = "2020-01-01", .limit = 100 },
    { .status = "filed", .limit = 5, .offset = 2 },
  };

  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", NULL, NULL, &error));
  g_assert_no_error(error);
  if (gin) {
    PQclear(PQexec(f->raw, "INSERT INTO meta (key, value) VALUES ('search-index', 'gin')"));
    g_clear_pointer(&server, cd_pg_archive_free);
    server = open_server(f);
    g_assert_false(cd_pg_archive_has_rum(server));
  }
  for (guint i = 0; i < G_N_ELEMENTS(queries); i++)
    assert_same_search(spool, server, &queries[i]);

  /* a snippet's span is the matched word, as the page wrote it */
  {
    const CdSearchQuery q = { .text = "metoprolol", .limit = 1 };
    g_autoptr(CdSearchResult) r = cd_pg_archive_search(server, &q, &error);
    CdSearchHit *hit;
    CdSearchSpan *span;
    g_assert_no_error(error);
    hit = g_ptr_array_index(r->hits, 0);
    span = &g_array_index(hit->spans, CdSearchSpan, 0);
    g_assert_cmpint(strncmp(hit->snippet_text + span->start, "Metoprolol", span->length), ==, 0);
    g_assert_nonnull(strstr(hit->snippet, "[Metoprolol]"));
    g_assert_cmpstr(r->terms[0], ==, "metoprolol");
    g_assert_true(r->order == CD_SEARCH_ORDER_RANK);
    /* the plan the index allows: every match ranked in the RUM index, or
     * on the GIN index the exact ranked plan */
    g_assert_cmpstr(r->plan, ==, cd_pg_archive_has_rum(server) ? "rum-rank" : "text-first");
  }
  /* bad input fails as on SQLite */
  {
    const CdSearchQuery bad_date = { .text = "chest", .date_from = "2021-13-01" };
    const CdSearchQuery nothing = { .limit = 10 };
    const CdSearchQuery bad_fts = { .text = "chest AND" };
    g_assert_null(cd_pg_archive_search(server, &bad_date, &error));
    g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
    g_clear_error(&error);
    g_assert_null(cd_pg_archive_search(server, &nothing, &error));
    g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
    g_clear_error(&error);
    g_assert_null(cd_pg_archive_search(server, &bad_fts, &error));
    g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
    g_clear_error(&error);
  }
}

/* A restricted type is invisible to a role without the grant: not in the
 * hits, the total or the facets, and its document does not exist for it;
 * every search and read is audited on the server as the principal. */
static void
test_pg_restricted_and_audited(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) spool = fixture_spool(f, "station1.archive", SHA_A, 6, TRUE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(CdPrincipal) alice = cd_principal_new_user("alice", (const gchar *const[]){ "archivist", NULL });
  g_autoptr(CdPrincipal) indexer = cd_principal_new_user("ivan", (const gchar *const[]){ "indexer", NULL });
  g_autoptr(GError) error = NULL;
  const gchar *restricted[] = { "psychotherapy-note", NULL };
  const CdSearchQuery by_type = { .doc_type = "psychotherapy-note", .limit = 10 };
  const CdSearchQuery words = { .text = "visit", .limit = 100 };
  g_autoptr(CdSearchResult) admin_words = NULL;
  g_autoptr(CdSearchResult) alice_words = NULL;
  g_autoptr(CdSearchResult) r = NULL;
  g_autoptr(JsonNode) doc = NULL;
  g_autoptr(GBytes) image = NULL;
  g_autofree gchar *format = NULL;
  gint64 hidden_id, page_id;

  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", NULL, NULL, &error));
  g_assert_no_error(error);
  cd_pg_archive_set_restricted_types(server, restricted);
  hidden_id = cd_pg_test_db_int(f, "SELECT id FROM documents WHERE type = 'psychotherapy-note'");

  /* the administrator's direct mode sees it */
  r = cd_pg_archive_search(server, &by_type, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(r->total, ==, 1);
  g_clear_pointer(&r, cd_search_result_free);
  admin_words = cd_pg_archive_search(server, &words, &error);
  g_assert_no_error(error);

  cd_pg_archive_set_principal(server, alice);
  r = cd_pg_archive_search(server, &by_type, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(r->total, ==, 0);
  g_assert_cmpuint(r->hits->len, ==, 0);
  alice_words = cd_pg_archive_search(server, &words, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(alice_words->total, ==, admin_words->total - 2);
  for (guint i = 0; i < alice_words->hits->len; i++)
    g_assert_cmpint(((CdSearchHit *) g_ptr_array_index(alice_words->hits, i))->document_id, !=, hidden_id);
  for (guint i = 0; i < alice_words->type_facets->len; i++)
    g_assert_cmpstr(((CdSearchFacet *) g_ptr_array_index(alice_words->type_facets, i))->value, !=,
                    "psychotherapy-note");
  g_assert_null(cd_pg_archive_get_document(server, hidden_id, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_clear_error(&error);

  /* a visible one reads as on SQLite, and its image */
  doc = cd_pg_archive_get_document(server, hidden_id - 1, &error);
  g_assert_no_error(error);
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(json_node_get_object(doc), "pages")), ==, 2);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(doc), "station"), ==, "station1");
  page_id = json_object_get_int_member(
      json_array_get_object_element(json_object_get_array_member(json_node_get_object(doc), "pages"), 0), "id");
  image = cd_pg_archive_get_page_image(server, page_id, &format, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(format, ==, "tiff-g4");
  g_assert_cmpuint(g_bytes_get_size(image), >, 0);
  {
    g_autofree gchar *sql = g_strdup_printf("SELECT count(*) FROM images i JOIN pages p ON p.image_sha256 = i.sha256 "
                                            "WHERE p.id = %" G_GINT64_FORMAT " AND length(i.data) = %" G_GSIZE_FORMAT,
                                            page_id, g_bytes_get_size(image));
    g_assert_cmpint(cd_pg_test_db_int(f, sql), ==, 1);
  }

  /* an indexer may not search charts: refused, and the refusal audited */
  cd_pg_archive_set_principal(server, indexer);
  g_assert_null(cd_pg_archive_search(server, &words, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);

  /* the server's own chain: alice's searches and reads, ivan's refusal */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'alice' "
                                       "AND action = 'search'"),
                  ==, 2);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'alice' "
                                       "AND action = 'view'"),
                  ==, 1);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'alice' "
                                       "AND action = 'view-image'"),
                  ==, 1);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'alice' "
                                       "AND action = 'denied'"),
                  ==, 1);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'ivan' "
                                       "AND action = 'denied'"),
                  ==, 1);
  /* chained: each entry names the hash of the one before */
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit a JOIN LATERAL (SELECT hash FROM audit b WHERE "
                                       "b.station IS NULL AND b.id < a.id ORDER BY b.id DESC LIMIT 1) prev ON true "
                                       "WHERE a.station IS NULL AND a.prev_hash <> prev.hash"),
                  ==, 0);
}

typedef struct {
  GCancellable *cancellable;
  const gchar *after_table;
} CancelCopy;

static void
cancel_copy(const gchar *table, guint64 rows, gpointer user_data)
{
  CancelCopy *c = user_data;
  if (g_strcmp0(table, c->after_table) == 0)
    g_cancellable_cancel(c->cancellable);
}

/* The server back into a new SQLite archive: stopped midway and resumed,
 * the copy has the server's counts and content hashes, passes the
 * archive check, and its search gives the server's hits. */
static void
test_pg_copy_to_sqlite(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) one = fixture_spool(f, "station1.archive", SHA_A, 8, FALSE);
  g_autoptr(CdArchive) two = fixture_spool(f, "station2.archive", SHA_B, 5, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) copy = NULL;
  g_autoptr(JsonNode) server_summary = NULL;
  g_autoptr(JsonNode) copy_summary = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autofree gchar *path = g_build_filename(f->dir, "copy.archive", NULL);
  g_autofree gchar *other = g_build_filename(f->dir, "station1.archive", NULL);
  CancelCopy c = { cancellable, "documents" };
  const CdSearchQuery queries[] = {
    { .text = "metoprolol", .limit = 100 },
    { .text = "\"chest pain\"", .mrn = "MRN001", .limit = 100 },
    { .doc_type = "consultation", .limit = 100 },
  };

  g_assert_true(cd_pg_archive_deliver(server, one, "station1", NULL, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(cd_pg_archive_deliver(server, two, "station2", NULL, NULL, &error));
  g_assert_no_error(error);

  cd_pg_archive_set_copy_progress(server, cancel_copy, &c);
  g_assert_false(cd_pg_archive_copy_to_sqlite(server, path, cancellable, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error(&error);
  copy = cd_archive_open(path, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  g_assert_cmpint(spool_int(copy, "SELECT count(*) FROM documents"), ==, 13);
  g_assert_cmpint(spool_int(copy, "SELECT count(*) FROM pages"), ==, 0);
  g_clear_object(&copy);

  cd_pg_archive_set_copy_progress(server, NULL, NULL);
  g_assert_true(cd_pg_archive_copy_to_sqlite(server, path, NULL, &error));
  g_assert_no_error(error);

  copy = cd_archive_open(path, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  server_summary = cd_pg_archive_summary(server, &error);
  g_assert_no_error(error);
  copy_summary = cd_pg_archive_sqlite_summary(copy, &error);
  g_assert_no_error(error);
  g_assert_true(cd_pg_archive_summary_equal(server_summary, copy_summary, &error));
  g_assert_no_error(error);
  g_assert_cmpint(
      json_object_get_int_member(json_object_get_object_member(json_node_get_object(copy_summary), "counts"), "pages"),
      ==, 13 * 2 + 4);
  /* the server's audit entries are in the copy's chain */
  g_assert_cmpint(spool_int(copy, "SELECT count(*) FROM audit WHERE detail LIKE '%\"server_entry\"%'"), >=,
                  cd_pg_test_db_int(f, "SELECT count(*) FROM audit") - 1);

  g_assert_true(cd_archive_check(copy, &problems, &error));
  g_assert_no_error(error);
  for (guint i = 0; problems != NULL && i < problems->len; i++)
    g_test_message("check: %s", (const gchar *) g_ptr_array_index(problems, i));
  g_assert_true(problems == NULL || problems->len == 0);

  compare_by_id = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS(queries); i++)
    assert_same_search(copy, server, &queries[i]);
  compare_by_id = FALSE;

  /* an archive that is not an unfinished copy of this server is refused */
  g_assert_false(cd_pg_archive_copy_to_sqlite(server, other, NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "give a path that does not exist yet"));
}

/* The bulk pages of test_pg_search_broad(): 8,000 pages set aside (no
 * document) with the word, every 97th saying it three times. */
#define BULK_PAGES 8000

/* The `rum-rank` plans of @q (cd_pg_archive_explain_search()): the hits
 * from the RUM index's ordered scan, its index condition holding each of
 * @conditions (NULL-terminated); then the total and facets from a sample
 * of at most CD_SEARCH_COUNT_LIMIT + 1 matches, not in the index's order
 * (each row read in that order costs a recheck on its tsvector). */
static void
assert_rum_plans(CdPgArchive *server, const CdSearchQuery *q, const gchar *const *conditions)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *plans = NULL;
  g_autofree gchar *plan = NULL;
  g_autofree gchar *sample_limit = g_strdup_printf("rows=%u", CD_SEARCH_COUNT_LIMIT + 1);
  g_auto(GStrv) statements = NULL;
  g_auto(GStrv) lines = NULL;
  const gchar *cond = NULL;

  plans = cd_pg_archive_explain_search(server, q, &plan, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(plan, ==, "rum-rank");
  statements = g_strsplit(plans, "--\n", -1);
  g_assert_cmpuint(g_strv_length(statements), ==, 3);
  g_assert_nonnull(strstr(statements[0], "Index Scan using pages_rum_filters on pages"));
  g_assert_nonnull(strstr(statements[0], "Order By: (tsv <=> "));
  g_assert_null(strstr(statements[0], "Seq Scan on pages"));
  if (q->date_from == NULL && q->date_to == NULL)
    g_assert_null(strstr(statements[0], "Filter:"));
  else
    /* the dates are checked on the rows of the type, in rank order */
    g_assert_nonnull(strstr(statements[0], "Filter: ((doc_date >= "));
  lines = g_strsplit(statements[0], "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    if (strstr(lines[i], "Index Cond: ") != NULL)
      cond = lines[i];
  }
  g_assert_nonnull(cond);
  g_assert_nonnull(strstr(cond, "tsv @@ "));
  for (guint i = 0; conditions[i] != NULL; i++)
    g_assert_nonnull(strstr(cond, conditions[i]));
  /* no document read for the type and dates: the pages' copies */
  g_assert_null(strstr(statements[0], "documents"));
  g_assert_nonnull(strstr(statements[1], "Limit  (cost="));
  g_assert_nonnull(strstr(statements[1], sample_limit));
  g_assert_null(strstr(statements[1], "Order By: (tsv <=> "));
  g_assert_null(strstr(statements[1], "documents"));
}

/* With the RUM index (`rum-rank`): every match ranked in the index, so
 * the pages that say the word three times come first wherever they are in
 * the archive, older ones included; paging through the first 100 hits
 * repeats and loses none; the total is CD_SEARCH_COUNT_LIMIT, flagged a
 * lower bound; the plan is the RUM index's ordered scan. */
static void
assert_broad_rum(CdPgArchive *server, gint64 low)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new(g_int64_hash, g_int64_equal);
  const CdSearchQuery q = { .text = "bulkword", .limit = 20 };
  gboolean older_first = FALSE;
  guint thrice = 0;

  assert_rum_plans(server, &q, (const gchar *const[]){ NULL });
  for (guint offset = 0; offset < 100; offset += 20) {
    const CdSearchQuery page = { .text = "bulkword", .limit = 20, .offset = offset };
    g_autoptr(CdSearchResult) r = cd_pg_archive_search(server, &page, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(r->plan, ==, "rum-rank");
    g_assert_true(r->order == CD_SEARCH_ORDER_RANK);
    g_assert_true(r->total_is_estimate);
    g_assert_cmpuint(r->total, ==, CD_SEARCH_COUNT_LIMIT);
    g_assert_true(r->facets_partial);
    g_assert_cmpuint(r->hits->len, ==, 20);
    for (guint i = 0; i < r->hits->len; i++) {
      CdSearchHit *hit = g_ptr_array_index(r->hits, i);
      g_assert_false(g_hash_table_contains(seen, &hit->page_id));
      g_hash_table_add(seen, &hit->page_id);
      g_assert_nonnull(strstr(hit->snippet, "[bulkword]"));
      if (i > 0)
        g_assert_cmpfloat(hit->score, <=, ((CdSearchHit *) g_ptr_array_index(r->hits, i - 1))->score);
      if (hit->source_page % 97 == 0) {
        thrice++;
        /* only the pages saying it three times come before the others */
        g_assert_cmpuint(offset + i, <, BULK_PAGES / 97);
        older_first |= hit->page_id < low;
      } else {
        g_assert_cmpuint(offset + i, >=, BULK_PAGES / 97);
      }
    }
  }
  g_assert_cmpuint(thrice, ==, BULK_PAGES / 97);
  /* a rank over every match, not over a recent window */
  g_assert_true(older_first);
}

/* Without it (GIN, `recent-window`): the most recent CD_SEARCH_RANK_WINDOW
 * matches ranked, the older ones newest first; the total is the window,
 * flagged; paging crosses from the window to the older matches without
 * losing or repeating one; the plan walks the pages from the newest. */
static void
assert_broad_window(CdPgArchive *server, gint64 low, gint64 max_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdSearchResult) first = NULL;
  g_autoptr(CdSearchResult) across = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new(g_int64_hash, g_int64_equal);
  g_autofree gchar *plans = NULL;
  g_autofree gchar *plan = NULL;
  const CdSearchQuery q = { .text = "bulkword", .limit = 20 };
  const CdSearchQuery q_across = { .text = "bulkword", .limit = 20, .offset = CD_SEARCH_RANK_WINDOW - 10 };
  g_auto(GStrv) statements = NULL;

  plans = cd_pg_archive_explain_search(server, &q, &plan, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(plan, ==, "recent-window");
  /* the matches counted on the newest id ranges (schema 7), then one
   * statement finds, ranks, counts and facets the window (at this size
   * the planner reads the table, rightly) */
  g_assert_null(strstr(plans, "pages_rum"));
  statements = g_strsplit(plans, "--\n", -1);
  g_assert_cmpuint(g_strv_length(statements), ==, 3);
  g_assert_nonnull(strstr(statements[0], "Aggregate"));
  g_assert_nonnull(strstr(statements[1], "CTE w\n"));
  g_assert_nonnull(strstr(statements[1], "Limit  (cost="));

  first = cd_pg_archive_search(server, &q, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(first->plan, ==, "recent-window");
  g_assert_true(first->order == CD_SEARCH_ORDER_RECENT_RANK);
  g_assert_cmpuint(first->window, ==, CD_SEARCH_RANK_WINDOW);
  g_assert_true(first->total_is_estimate);
  g_assert_cmpuint(first->total, ==, CD_SEARCH_RANK_WINDOW);
  g_assert_true(first->facets_partial);
  g_assert_cmpuint(first->hits->len, ==, 20);
  for (guint i = 0; i < first->hits->len; i++) {
    CdSearchHit *hit = g_ptr_array_index(first->hits, i);
    g_assert_cmpint(hit->page_id, >=, low);
    g_assert_cmpint(hit->page_id, <=, max_id);
    if (i > 0)
      g_assert_cmpfloat(hit->score, <=, ((CdSearchHit *) g_ptr_array_index(first->hits, i - 1))->score);
    g_assert_nonnull(strstr(hit->snippet, "[bulkword]"));
  }
  /* the pages that say it three times rank first */
  g_assert_cmpint(((CdSearchHit *) g_ptr_array_index(first->hits, 0))->source_page % 97, ==, 0);

  across = cd_pg_archive_search(server, &q_across, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(across->hits->len, ==, 20);
  for (guint i = 0; i < 20; i++) {
    CdSearchHit *hit = g_ptr_array_index(across->hits, i);
    g_assert_false(g_hash_table_contains(seen, &hit->page_id));
    g_hash_table_add(seen, &hit->page_id);
    if (i < 10) {
      g_assert_cmpint(hit->page_id, >=, low);
    } else {
      /* past the window: older, newest first */
      g_assert_cmpint(hit->page_id, <, low);
      g_assert_cmpint(hit->page_id, ==, low - (i - 9));
    }
  }
}

/* A type or dates that still leave many matches (the pages' copies of
 * the type and date, issue 18) take @plan over the filtered matches; a
 * type that leaves none is exact; a chart (MRN) is exact. */
static void
assert_broad_filtered(CdPgArchive *server, const gchar *plan, gint64 low)
{
  g_autoptr(GError) error = NULL;
  const CdSearchQuery typed = { .text = "bulkword", .doc_type = "progress-note", .limit = 20 };
  const CdSearchQuery dated = {
    .text = "bulkword", .doc_type = "progress-note", .date_from = "2024-01-01", .date_to = "2024-12-31", .limit = 20
  };
  const CdSearchQuery other = { .text = "bulkword", .doc_type = "consultation", .limit = 20 };
  const CdSearchQuery narrow = { .text = "bulkword", .mrn = "MRN001", .limit = 20 };
  const CdSearchQuery *windows[] = { &typed, &dated };
  g_autoptr(CdSearchResult) none = NULL;
  g_autoptr(CdSearchResult) chart = NULL;

  if (g_strcmp0(plan, "rum-rank") == 0) {
    /* the type is the RUM index's own condition (schema 6), not a filter
     * on its rank order */
    assert_rum_plans(server, &typed, (const gchar *const[]){ "doc_type = ", NULL });
    assert_rum_plans(server, &dated, (const gchar *const[]){ "doc_type = ", NULL });
  }
  for (guint w = 0; w < G_N_ELEMENTS(windows); w++) {
    g_autoptr(CdSearchResult) r = cd_pg_archive_search(server, windows[w], &error);
    g_assert_no_error(error);
    g_assert_cmpstr(r->plan, ==, plan);
    g_assert_true(r->total_is_estimate);
    g_assert_cmpuint(r->total, ==, g_strcmp0(plan, "rum-rank") == 0 ? CD_SEARCH_COUNT_LIMIT : CD_SEARCH_RANK_WINDOW);
    g_assert_cmpuint(r->hits->len, ==, 20);
    for (guint i = 0; i < r->hits->len; i++) {
      CdSearchHit *hit = g_ptr_array_index(r->hits, i);
      g_assert_cmpstr(hit->doc_type, ==, "progress-note");
      if (g_strcmp0(plan, "recent-window") == 0)
        g_assert_cmpint(hit->page_id, >=, low);
    }
    g_assert_cmpint(((CdSearchHit *) g_ptr_array_index(r->hits, 0))->source_page % 97, ==, 0);
  }
  none = cd_pg_archive_search(server, &other, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(none->plan, ==, "text-first");
  g_assert_false(none->total_is_estimate);
  g_assert_cmpuint(none->total, ==, 0);
  chart = cd_pg_archive_search(server, &narrow, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(chart->plan, ==, "text-first");
  g_assert_false(chart->total_is_estimate);
  g_assert_cmpuint(chart->total, ==, 0);
}

static gchar *
spool_text(CdArchive *spool, const gchar *sql)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(spool, sql, &error);

  g_assert_no_error(error);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  return g_strdup((const gchar *) sqlite3_column_text(stmt, 0));
}

/* Retention on the server (schema 5). Holds are placed on the server by
 * whoever SQLite lets place them (configure or release; an archivist is
 * refused and the refusal audited), need a reason, are released once, and
 * show on the document they cover. A station's destruction, delivered:
 * each document no server hold covers is emptied on the server and keeps
 * a tombstone naming the station's run, who approved and who planned it,
 * the policy's checksum and the document's rule, shown as the document's
 * `destroyed` and audited as `deliver-destruction`; each document a hold
 * covers (a document hold; a patient hold placed under an MRN since
 * merged into the document's) keeps its text on the server, with an open
 * review item naming the hold and a `deliver-destruction-refused` entry.
 * Tombstones cannot be changed, a destroyed document cannot be deleted, a
 * destroyed page stays empty, and delivering again changes nothing. */
static void
test_pg_retention(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) spool = fixture_spool(f, "station1.archive", SHA_A, 6, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_default(&error);
  g_autoptr(CdRetentionPolicy) policy = NULL;
  g_autoptr(JsonNode) plan = NULL;
  g_autoptr(JsonNode) run = NULL;
  g_autoptr(GHashTable) held = g_hash_table_new(g_int64_hash, g_int64_equal);
  g_autoptr(CdPrincipal) alice = cd_principal_new_user("alice", (const gchar *const[]){ "archivist", NULL });
  g_autoptr(CdPrincipal) admin = cd_principal_new_admin_mode("him-admin", NULL);
  g_autofree gchar *plan_text = NULL;
  g_autofree gchar *approver = NULL;
  g_autofree gchar *policy_sha = NULL;
  g_autofree gchar *before = NULL;
  g_autofree gchar *after = NULL;
  g_autofree gchar *merge_sql = NULL;
  CdDeliverStats stats = { 0 };
  JsonArray *due;
  JsonArray *destroyed;
  gint64 doc_hold_on, patient_hold_doc, hold_doc, hold_patient, hold_spare, run_id;
  const gchar *patient_mrn;
  guint n_held = 0;

  g_assert_no_error(error);
  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  policy = cd_retention_policy_new_from_data(delta_policy, "delta.policy", taxonomy, &error);
  g_assert_no_error(error);
  plan = cd_archive_retention_plan(spool, policy, NULL, &error);
  g_assert_no_error(error);
  due = json_object_get_array_member(json_node_get_object(plan), "due");
  g_assert_cmpuint(json_array_get_length(due), >=, 3);
  doc_hold_on = server_doc_of(f, json_object_get_int_member(json_array_get_object_element(due, 0), "document"));
  patient_hold_doc = server_doc_of(f, json_object_get_int_member(json_array_get_object_element(due, 1), "document"));
  patient_mrn = json_object_get_string_member(json_array_get_object_element(due, 1), "mrn");
  g_assert_nonnull(patient_mrn);

  /* an archivist places no holds; a hold needs a reason */
  cd_pg_archive_set_principal(server, alice);
  g_assert_cmpint(cd_pg_archive_place_hold(server, CD_HOLD_DOCUMENT, NULL, doc_hold_on, "subpoena", NULL, &error), ==,
                  0);
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE action = 'denied' AND actor = 'alice'"), ==,
                  1);
  cd_pg_archive_set_principal(server, admin);
  g_assert_cmpint(cd_pg_archive_place_hold(server, CD_HOLD_DOCUMENT, NULL, doc_hold_on, "", NULL, &error), ==, 0);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_cmpint(cd_pg_archive_place_hold(server, CD_HOLD_PATIENT, "NOSUCHMRN", 0, "letter", NULL, &error), ==, 0);
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_clear_error(&error);

  hold_doc = cd_pg_archive_place_hold(server, CD_HOLD_DOCUMENT, NULL, doc_hold_on, "subpoena 26-114", "Doe v. General",
                                      &error);
  g_assert_no_error(error);
  /* a patient hold under an MRN merged into the patient's since: it
   * follows the merge, as on SQLite */
  PQclear(
      PQexec(f->raw, "INSERT INTO patients (mrn, family, given, updated) VALUES ('OLDMRN', 'X', 'Y', '2020-01-01')"));
  hold_patient = cd_pg_archive_place_hold(server, CD_HOLD_PATIENT, "OLDMRN", 0, "preservation letter", NULL, &error);
  g_assert_no_error(error);
  merge_sql = g_strdup_printf("UPDATE patients SET merged_into = '%s' WHERE mrn = 'OLDMRN'", patient_mrn);
  PQclear(PQexec(f->raw, merge_sql));
  /* released holds cover nothing, and are released once */
  hold_spare = cd_pg_archive_place_hold(server, CD_HOLD_PATIENT, "OLDMRN", 0, "mistaken", NULL, &error);
  g_assert_no_error(error);
  g_assert_true(cd_pg_archive_release_hold(server, hold_spare, "placed in error", &error));
  g_assert_no_error(error);
  g_assert_false(cd_pg_archive_release_hold(server, hold_spare, "again", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "already released"));
  g_clear_error(&error);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE action IN ('hold-place', 'hold-release')"), ==,
                  4);
  {
    g_autoptr(JsonNode) list = cd_pg_archive_list_holds(server, patient_mrn, 0, FALSE, &error);
    g_assert_no_error(error);
    /* the patient hold (merged MRN followed), and the document hold when
     * that document is the same patient's */
    g_assert_cmpuint(json_array_get_length(json_node_get_array(list)), >=, 1);
  }
  {
    g_autoptr(JsonNode) doc = cd_pg_archive_get_document(server, doc_hold_on, &error);
    JsonArray *holds;
    g_assert_no_error(error);
    holds = json_object_get_array_member(json_node_get_object(doc), "holds");
    g_assert_cmpuint(json_array_get_length(holds), >=, 1);
    g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(holds, 0), "id"), ==,
                    MIN(hold_doc, hold_patient));
    g_assert_true(json_node_is_null(json_object_get_member(json_node_get_object(doc), "destroyed")));
  }

  /* the station destroys what is due */
  plan_text = json_to_string(plan, TRUE);
  run = cd_archive_retention_destroy(spool, plan_text, &error);
  g_assert_no_error(error);
  destroyed = json_object_get_array_member(json_node_get_object(run), "destroyed");
  g_assert_cmpuint(json_array_get_length(destroyed), >=, 3);
  run_id = spool_int(spool, "SELECT max(id) FROM retention_runs");
  approver = spool_text(spool, "SELECT approved_by FROM retention_runs ORDER BY id DESC LIMIT 1");
  policy_sha = spool_text(spool, "SELECT policy_sha256 FROM retention_runs ORDER BY id DESC LIMIT 1");
  for (guint i = 0; i < json_array_get_length(destroyed); i++) {
    gint64 server_doc = server_doc_of(f, json_array_get_int_element(destroyed, i));
    g_autofree gchar *sql = g_strdup_printf("SELECT count(*) FROM documents WHERE id = %" G_GINT64_FORMAT
                                            " AND (id = %" G_GINT64_FORMAT " OR cd_mrn_survivor(patient_mrn) = "
                                            "cd_mrn_survivor('%s'))",
                                            server_doc, doc_hold_on, patient_mrn);
    if (cd_pg_test_db_int(f, sql) > 0) {
      gint64 *k = g_new(gint64, 1);
      *k = server_doc;
      g_hash_table_add(held, k);
      n_held++;
    }
  }
  g_test_message("the station destroys %u documents; server holds cover %u of them", json_array_get_length(destroyed),
                 n_held);
  g_assert_cmpuint(n_held, >=, 2);
  g_assert_cmpuint(n_held, <, json_array_get_length(destroyed));
  g_assert_true(g_hash_table_contains(held, &doc_hold_on));
  g_assert_true(g_hash_table_contains(held, &patient_hold_doc));

  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.changes, ==, json_array_get_length(destroyed));
  for (guint i = 0; i < json_array_get_length(destroyed); i++) {
    gint64 spool_doc = json_array_get_int_element(destroyed, i);
    gint64 server_doc = server_doc_of(f, spool_doc);
    g_autofree gchar *text_sql = g_strdup_printf(
        "SELECT count(*) FROM pages WHERE document_id = %" G_GINT64_FORMAT " AND text IS NOT NULL", server_doc);
    g_autofree gchar *tomb_sql =
        g_strdup_printf("SELECT count(*) FROM tombstones WHERE document_id = %" G_GINT64_FORMAT, server_doc);
    g_autofree gchar *review_sql = g_strdup_printf("SELECT count(*) FROM review WHERE document_id = %" G_GINT64_FORMAT
                                                   " AND resolved IS NULL AND reason LIKE '%%legal hold %%covers it'",
                                                   server_doc);
    g_autoptr(JsonNode) doc = cd_pg_archive_get_document(server, server_doc, &error);
    JsonObject *obj;
    g_assert_no_error(error);
    obj = json_node_get_object(doc);
    if (g_hash_table_contains(held, &server_doc)) {
      /* kept whole on the server */
      g_assert_cmpint(cd_pg_test_db_int(f, text_sql), >, 0);
      g_assert_cmpint(cd_pg_test_db_int(f, tomb_sql), ==, 0);
      g_assert_cmpint(cd_pg_test_db_int(f, review_sql), ==, 1);
      g_assert_true(json_node_is_null(json_object_get_member(obj, "destroyed")));
      g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj, "holds")), >=, 1);
    } else {
      JsonObject *tomb;
      g_assert_cmpint(cd_pg_test_db_int(f, text_sql), ==, 0);
      g_assert_cmpint(cd_pg_test_db_int(f, tomb_sql), ==, 1);
      g_assert_false(json_node_is_null(json_object_get_member(obj, "destroyed")));
      tomb = json_object_get_object_member(obj, "destroyed");
      g_assert_cmpint(json_object_get_int_member(tomb, "run"), ==, run_id);
      g_assert_cmpint(json_object_get_int_member(tomb, "source_document"), ==, spool_doc);
      g_assert_cmpstr(json_object_get_string_member(tomb, "station"), ==, "station1");
      g_assert_cmpstr(json_object_get_string_member(tomb, "destroyed_by"), ==, approver);
      g_assert_cmpstr(json_object_get_string_member(tomb, "policy_sha256"), ==, policy_sha);
      g_assert_nonnull(json_object_get_string_member(tomb, "rule"));
      g_assert_nonnull(json_object_get_string_member(tomb, "at"));
      g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj, "holds")), ==, 0);
    }
  }
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND action = "
                                       "'deliver-destruction-refused' AND detail::json -> 'holds' IS NOT NULL"),
                  ==, n_held);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM audit WHERE station IS NULL AND action = "
                                       "'deliver-destruction' AND (detail::json ->> 'run')::bigint IS NOT NULL"),
                  ==, json_array_get_length(destroyed) - n_held);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM tombstones"), ==,
                  json_array_get_length(destroyed) - n_held);
  /* the auditor's listing by patient shows them, as SQLite's shows its
   * `destroy` entries: the entries name the destroyed documents */
  {
    g_autofree gchar *mrn_sql = NULL;
    g_autofree gchar *mrn = NULL;
    g_autoptr(JsonNode) rows = NULL;
    gint64 total = 0, victim = 0;
    guint found = 0;
    victim = cd_pg_test_db_int(f, "SELECT min(document_id) FROM tombstones");
    mrn_sql = g_strdup_printf("SELECT patient_mrn FROM documents WHERE id = %" G_GINT64_FORMAT, victim);
    mrn = raw_text(f, mrn_sql);
    rows = cd_pg_archive_list_audit(server, NULL, mrn, NULL, NULL, 0, 0, &total, &error);
    g_assert_no_error(error);
    for (guint i = 0; i < json_array_get_length(json_node_get_array(rows)); i++) {
      JsonObject *row = json_array_get_object_element(json_node_get_array(rows), i);
      g_autofree gchar *object = g_strdup_printf("document:%" G_GINT64_FORMAT, victim);
      found += g_strcmp0(json_object_get_string_member(row, "action"), "deliver-destruction") == 0 &&
               g_strcmp0(json_object_get_string_member(row, "object"), object) == 0;
    }
    g_assert_cmpuint(found, ==, 1);
  }

  /* what triggers guard */
  {
    const gchar *refused[] = {
      "UPDATE tombstones SET rule = 'x'",
      "DELETE FROM tombstones",
      "DELETE FROM documents WHERE id IN (SELECT document_id FROM tombstones)",
      "UPDATE pages SET text = 'back' WHERE document_id IN (SELECT document_id FROM tombstones)",
      "DELETE FROM legal_holds",
      "UPDATE legal_holds SET reason = 'other'",
    };
    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
      PGresult *res = PQexec(f->raw, refused[i]);
      g_assert_cmpint(PQresultStatus(res), ==, PGRES_FATAL_ERROR);
      PQclear(res);
    }
  }

  /* again: nothing more */
  before = server_snapshot(f);
  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", &stats, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.documents + stats.changes + stats.duplicates + stats.set_aside, ==, 0);
  after = server_snapshot(f);
  g_assert_cmpstr(after, ==, before);
}

/* A word on more pages than CD_PG_SEARCH_BROAD, on both of the server's
 * plans: with the RUM index (made at open when the server offers the
 * extension) and without it (meta `search-index` = `gin`: the GIN index's
 * recent window), each asserted by its statements' plans and its answers. */
static void
test_pg_search_broad(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) spool = fixture_spool(f, "station1.archive", SHA_A, 2, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(CdPgArchive) gin = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *bulk = NULL;
  gint64 max_id, low;
  gboolean rum = cd_pg_archive_has_rum(server);

  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", NULL, NULL, &error));
  g_assert_no_error(error);
  bulk = g_strdup_printf("INSERT INTO pages (batch_id, kind, source_path, source_page, text, created) "
                         "SELECT (SELECT min(id) FROM batches), 'page', 'bulk.tif', g, 'bulkword page ' || g || "
                         "CASE WHEN g %% 97 = 0 THEN ' bulkword bulkword' ELSE '' END, 'x' "
                         "FROM generate_series(1, %d) g",
                         BULK_PAGES);
  PQclear(PQexec(f->raw, bulk));
  PQclear(PQexec(f->raw, "ANALYZE pages"));
  max_id = cd_pg_test_db_int(f, "SELECT max(id) FROM pages");
  low = cd_pg_test_db_int(f, "SELECT min(id) FROM (SELECT id FROM pages WHERE text LIKE '%bulkword%' ORDER BY id DESC "
                             "LIMIT 2000) w");

  if (rum)
    assert_broad_rum(server, low);
  else
    g_test_message("the server offers no rum extension (postgresql-15-rum): its plan is not tested");
  PQclear(PQexec(f->raw, "INSERT INTO meta (key, value) VALUES ('search-index', 'gin')"));
  gin = open_server(f);
  g_assert_false(cd_pg_archive_has_rum(gin));
  assert_broad_window(gin, low, max_id);

  /* the pages in one document */
  PQclear(PQexec(f->raw, "INSERT INTO documents (batch_id, status, type, date, title, created) SELECT min(id), "
                         "'filed', 'progress-note', '2024-02-02', 'BULK', 'x' FROM batches"));
  PQclear(PQexec(f->raw, "UPDATE pages SET document_id = (SELECT max(id) FROM documents) WHERE source_path = "
                         "'bulk.tif'"));
  PQclear(PQexec(f->raw, "ANALYZE pages"));
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages WHERE doc_type = 'progress-note' AND doc_date = "
                                       "'2024-02-02'"),
                  ==, BULK_PAGES);
  assert_broad_filtered(gin, "recent-window", low);
  if (rum)
    assert_broad_filtered(server, "rum-rank", low);
}

static void
skip_all(gconstpointer data)
{
  g_test_skip(cd_pg_cluster_missing());
}
static void
raw_exec(Fixture *f, const gchar *sql)
{
  PGresult *res = PQexec(f->raw, sql);

  if (PQresultStatus(res) != PGRES_COMMAND_OK)
    g_test_message("%s: %s", sql, PQresultErrorMessage(res));
  g_assert_cmpint(PQresultStatus(res), ==, PGRES_COMMAND_OK);
  PQclear(res);
}

/* Marks the server as schema @version left it (its indexes put back by the
 * caller), notes its pages and documents, and checks that a plain open
 * refuses it, naming the migration it needs. */
static void
assert_old_schema_refused(Fixture *f, gint version, gint64 *pages, gint64 *documents)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPgArchive) refused = NULL;
  g_autofree gchar *update = g_strdup_printf("UPDATE meta SET value = '%d' WHERE key = 'schema_version'", version);
  g_autofree gchar *expect =
      g_strdup_printf("schema version %d needs migrating to " G_STRINGIFY(CD_PG_ARCHIVE_SCHEMA_VERSION), version);

  raw_exec(f, update);
  *pages = cd_pg_test_db_int(f, "SELECT count(*) FROM pages");
  *documents = cd_pg_test_db_int(f, "SELECT count(*) FROM documents");
  refused = cd_pg_archive_open(f->uri, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_null(refused);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, expect));
}

static void
spool_exec(CdArchive *spool, const gchar *sql)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(spool, sql, &error);

  g_assert_no_error(error);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_DONE);
}

static gint
compare_int64(gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

/* A result in a form two runs of the same search can be compared by:
 * plan, total (flagged or not) and the hits' page ids, sorted (rows the
 * index ranks equal may come in another order once the index is built
 * again). */
static gchar *
result_key(CdPgArchive *server, const CdSearchQuery *q)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdSearchResult) r = cd_pg_archive_search(server, q, &error);
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  GString *key;

  g_assert_no_error(error);
  for (guint i = 0; i < r->hits->len; i++)
    g_array_append_val(ids, ((CdSearchHit *) g_ptr_array_index(r->hits, i))->page_id);
  g_array_sort(ids, compare_int64);
  key = g_string_new(NULL);
  g_string_append_printf(key, "%s %s%" G_GUINT64_FORMAT ":", r->plan, r->total_is_estimate ? ">=" : "",
                         (guint64) r->total);
  for (guint i = 0; i < ids->len; i++)
    g_string_append_printf(key, " %" G_GINT64_FORMAT, g_array_index(ids, gint64, i));
  return g_string_free(key, FALSE);
}

/* A server of schema 5 with its one-column RUM index (`pages_rum`) is
 * refused until it is opened to migrate; migration 6 puts the index with
 * the pages' type (`pages_rum_filters`) in its place, leaves
 * the rows as they were, and the searches answer as before: the same
 * plan, total and hits (the 82 pages that say the word three times
 * outrank the others, so the first 82 hits are one set). */
static void
test_pg_search_migrated(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) spool = fixture_spool(f, "station1.archive", SHA_A, 2, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(CdPgArchive) migrated = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) before = g_ptr_array_new_with_free_func(g_free);
  g_autofree gchar *bulk = NULL;
  const CdSearchQuery queries[] = {
    { .text = "bulkword", .limit = BULK_PAGES / 97 },
    { .text = "bulkword", .doc_type = "progress-note", .limit = BULK_PAGES / 97 },
    { .text = "bulkword",
      .doc_type = "progress-note",
      .date_from = "2024-01-01",
      .date_to = "2024-12-31",
      .limit = BULK_PAGES / 97 },
    { .text = "thriceword", .limit = 100 },
    { .text = "bulkword", .doc_type = "consultation", .limit = 20 },
  };
  gint64 pages, documents;

  if (!cd_pg_archive_has_rum(server)) {
    g_test_skip("the server offers no rum extension (postgresql-15-rum): nothing to migrate");
    return;
  }
  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", NULL, NULL, &error));
  g_assert_no_error(error);
  raw_exec(f, "INSERT INTO documents (batch_id, status, type, date, title, created) SELECT min(id), 'filed', "
              "'progress-note', '2024-02-02', 'BULK', 'x' FROM batches");
  bulk = g_strdup_printf("INSERT INTO pages (batch_id, document_id, seq, kind, source_path, source_page, text, "
                         "created) SELECT (SELECT min(id) FROM batches), (SELECT max(id) FROM documents), g, 'page', "
                         "'bulk.tif', g, 'bulkword page ' || g || CASE WHEN g %% 97 = 0 THEN ' bulkword bulkword "
                         "thriceword' ELSE '' END, 'x' FROM generate_series(1, %d) g",
                         BULK_PAGES);
  raw_exec(f, bulk);
  raw_exec(f, "ANALYZE pages");
  for (guint i = 0; i < G_N_ELEMENTS(queries); i++)
    g_ptr_array_add(before, result_key(server, &queries[i]));
  g_assert_true(g_str_has_prefix(g_ptr_array_index(before, 0), "rum-rank >=1000:"));
  g_assert_true(g_str_has_prefix(g_ptr_array_index(before, 3), "rum-rank 82:"));
  g_clear_pointer(&server, cd_pg_archive_free);

  /* the server as schema 5 left it */
  raw_exec(f, "DROP INDEX pages_rum_filters");
  raw_exec(f, "CREATE INDEX pages_rum ON pages USING rum (tsv rum_tsvector_ops)");
  raw_exec(f, "DROP INDEX pages_tsv_keys");
  raw_exec(f, "CREATE INDEX pages_tsv ON pages USING gin (tsv)");
  assert_old_schema_refused(f, 5, &pages, &documents);

  migrated = open_server(f);
  g_assert_cmpint(cd_pg_archive_get_schema_version(migrated), ==, CD_PG_ARCHIVE_SCHEMA_VERSION);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT value::int FROM meta WHERE key = 'schema_version'"), ==,
                  CD_PG_ARCHIVE_SCHEMA_VERSION);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pg_indexes WHERE indexname = 'pages_rum'"), ==, 0);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pg_indexes WHERE indexname = 'pages_rum_filters' AND "
                                       "indexdef LIKE '%USING rum (tsv, doc_type)'"),
                  ==, 1);
  g_assert_true(cd_pg_archive_has_rum(migrated));
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages"), ==, pages);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents"), ==, documents);
  for (guint i = 0; i < G_N_ELEMENTS(queries); i++) {
    g_autofree gchar *after = result_key(migrated, &queries[i]);
    g_assert_cmpstr(after, ==, g_ptr_array_index(before, i));
  }
}

/* The plain answer of a recent window (the newest CD_SEARCH_RANK_WINDOW
 * pages matching @word, and @type when not NULL, ranked by ts_rank_cd,
 * ties by page), as page ids separated by spaces. */
static gchar *
plain_window(Fixture *f, const gchar *word, const gchar *type, guint limit)
{
  g_autofree gchar *filter = type != NULL ? g_strdup_printf(" AND doc_type = '%s'", type) : g_strdup("");
  g_autofree gchar *sql = g_strdup_printf(
      "SELECT string_agg(id::text, ' ' ORDER BY r DESC, id) FROM (SELECT id, r FROM (SELECT id, "
      "ts_rank_cd(tsv, websearch_to_tsquery('english', '%s')) r FROM (SELECT id, tsv FROM pages WHERE "
      "tsv @@ websearch_to_tsquery('english', '%s')%s ORDER BY id DESC LIMIT %u) n) w ORDER BY r DESC, id LIMIT %u) t",
      word, word, filter, CD_SEARCH_RANK_WINDOW, limit);
  PGresult *res = PQexec(f->raw, sql);
  gchar *ids;

  g_assert_cmpint(PQresultStatus(res), ==, PGRES_TUPLES_OK);
  ids = g_strdup(PQgetvalue(res, 0, 0));
  PQclear(res);
  return ids;
}

/* How many times @plan's conditions ask the pages' keys for id ranges
 * (an array of range numbers, where the types' keys start with `t:`). */
static guint
ranges_asked(const gchar *plan)
{
  static const gchar cond[] = "doc_type)] && '{";
  guint n = 0;

  for (const gchar *at = plan; (at = strstr(at, cond)) != NULL; at++)
    n += g_ascii_isdigit(at[sizeof cond - 1]);
  return n;
}

/* 40,000 pages for the recent window's tests (test_pg_search_window_bounded()
 * says what each word is on), in two documents (every third page a
 * progress note, the others a laboratory report), on a server searched by
 * its GIN index (meta search-index=gin, the RUM index dropped). */
static void
insert_window_pages(Fixture *f)
{
  g_autoptr(CdPgArchive) server = open_server(f);

  raw_exec(f, "INSERT INTO meta (key, value) VALUES ('search-index', 'gin')");
  raw_exec(f, "DROP INDEX IF EXISTS pages_rum_filters");
  raw_exec(f, "INSERT INTO stations (name, first_delivery) VALUES ('bulk', 'x')");
  raw_exec(f, "INSERT INTO batches (station, source_batch_id, started, actor, workflow, inputs) VALUES "
              "('bulk', 1, 'x', 'x', 'x', 'x')");
  raw_exec(f, "INSERT INTO documents (batch_id, status, type, date, title, created) SELECT min(id), 'filed', "
              "'progress-note', '2024-02-02', 'A', 'x' FROM batches");
  raw_exec(f, "INSERT INTO documents (batch_id, status, type, date, title, created) SELECT min(id), 'filed', "
              "'laboratory-report', '2024-02-03', 'B', 'x' FROM batches");
  raw_exec(f, "INSERT INTO pages (batch_id, document_id, kind, source_path, source_page, text, created) SELECT "
              "(SELECT min(id) FROM batches), (SELECT CASE WHEN g % 3 = 0 THEN min(id) ELSE max(id) END FROM "
              "documents), 'page', 'bulk.tif', g, 'fillword ' || g || CASE WHEN g % 4 = 0 THEN ' spreadword' "
              "ELSE '' END || CASE WHEN g <= 6000 THEN ' sparseword' ELSE '' END || CASE WHEN g > 39000 OR "
              "(g <= 30000 AND g % 2 = 0) THEN ' steepword' ELSE '' END || CASE WHEN g % 3 = 0 THEN ' alpha beta' "
              "ELSE ' beta alpha' END, 'x' FROM generate_series(1, 40000) g");
  raw_exec(f, "ANALYZE pages");
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT max(id) FROM pages"), ==, 40000);
}

/* The GIN plan's recent window, collected from the index, is bounded to
 * the newest id ranges that should hold it (schema 7: the ranges are
 * keys in the pages' GIN index, sized by the matches' density on the
 * newest ranges), and answers as the plain query does:
 * - a word on every fourth of 40,000 pages is found in the ranges;
 * - a word on every page of the newest 1,000, none of the 9,000 before,
 *   and every second one older: the ranges the newest pages' density
 *   asks for hold too few, four times as many hold enough;
 * - a word on the oldest 12,000 only is not on the newest ranges (their
 *   density is none, the estimate sizes them), nor on four times as
 *   many: the statement runs again unbounded;
 * - a phrase on every third page, its words on every page;
 * - a word with a type (the type a key of the index, not the pages'
 *   b-tree): the newest pages of that type.
 * Every one equals the plain query's window. */
static void
test_pg_search_window_bounded(Fixture *f, gconstpointer data)
{
  g_autoptr(CdPgArchive) server = NULL;
  const struct {
    const gchar *words;
    const gchar *type;
    guint windows;  /* window statements run */
    guint bounded;  /* of them, asking the index for id ranges */
  } cases[] = {
    { "spreadword", NULL, 1, 1 },
    { "steepword", NULL, 2, 2 },
    { "sparseword", NULL, 2, 1 },
    { "\"alpha beta\"", NULL, 1, 1 },
    { "fillword", "progress-note", 1, 1 },
  };

  insert_window_pages(f);
  server = open_server(f);
  g_assert_false(cd_pg_archive_has_rum(server));
  for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
    g_autoptr(GError) error = NULL;
    g_autofree gchar *plan = NULL;
    g_autofree gchar *plans = NULL;
    g_autofree gchar *expected = plain_window(f, cases[c].words, cases[c].type, 20);
    g_autoptr(CdSearchResult) r = NULL;
    g_autoptr(GString) got = g_string_new(NULL);
    g_auto(GStrv) statements = NULL;
    const CdSearchQuery q = { .text = cases[c].words, .doc_type = cases[c].type, .limit = 20 };

    g_test_message("%s%s%s", cases[c].words, cases[c].type != NULL ? " --type " : "",
                   cases[c].type != NULL ? cases[c].type : "");
    plans = cd_pg_archive_explain_search(server, &q, &plan, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(plan, ==, "recent-window");
    statements = g_strsplit(plans, "--\n", -1);
    /* the density on the newest ranges, then the window's statements */
    g_assert_cmpuint(g_strv_length(statements), ==, 2 + cases[c].windows);
    g_assert_nonnull(strstr(statements[0], "Aggregate"));
    g_assert_cmpuint(ranges_asked(statements[0]), >, 0);
    for (guint i = 1; i <= cases[c].windows; i++) {
      g_assert_nonnull(strstr(statements[i], "CTE w\n"));
      /* (an index's condition shows twice: the index's and the recheck's) */
      if (i <= cases[c].bounded)
        g_assert_cmpuint(ranges_asked(statements[i]), >, 0);
      else
        g_assert_cmpuint(ranges_asked(statements[i]), ==, 0);
      /* a type is a key of the index, the pages' own columns not asked */
      if (cases[c].type != NULL) {
        g_assert_nonnull(strstr(statements[i], "'{t:progress-note}'::text[]"));
        g_assert_null(strstr(statements[i], "(doc_type = "));
      }
    }
    r = cd_pg_archive_search(server, &q, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(r->plan, ==, "recent-window");
    g_assert_true(r->total_is_estimate);
    g_assert_cmpuint(r->total, ==, CD_SEARCH_RANK_WINDOW);
    for (guint i = 0; i < r->hits->len; i++)
      g_string_append_printf(got, "%s%" G_GINT64_FORMAT, i > 0 ? " " : "",
                             ((CdSearchHit *) g_ptr_array_index(r->hits, i))->page_id);
    g_assert_cmpstr(got->str, ==, expected);
  }
}

/* A server of schema 6 (the one-column GIN index `pages_tsv`) is refused
 * until it is opened to migrate; migration 7 puts `pages_tsv_keys` (the
 * words, each page's id range and type) in its place, leaves the rows as
 * they were, and the searches answer as before: the same plan, total and
 * hits, the windows as the plain query's. */
static void
test_pg_search_migrated_keys(Fixture *f, gconstpointer data)
{
  g_autoptr(CdPgArchive) server = NULL;
  g_autoptr(CdPgArchive) migrated = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) before = g_ptr_array_new_with_free_func(g_free);
  const CdSearchQuery queries[] = {
    { .text = "spreadword", .limit = 20 },
    { .text = "steepword", .limit = 20 },
    { .text = "sparseword", .limit = 20 },
    { .text = "\"alpha beta\"", .limit = 20 },
    { .text = "fillword", .doc_type = "progress-note", .limit = 20 },
    { .text = "\"fillword 123\"", .limit = 20 },
    { .text = "spreadword", .doc_type = "laboratory-report", .date_from = "2024-02-03", .limit = 20 },
  };
  gint64 pages, documents;

  insert_window_pages(f);
  server = open_server(f);
  for (guint i = 0; i < G_N_ELEMENTS(queries); i++)
    g_ptr_array_add(before, result_key(server, &queries[i]));
  g_assert_true(g_str_has_prefix(g_ptr_array_index(before, 0), "recent-window >=2000:"));
  g_assert_true(g_str_has_prefix(g_ptr_array_index(before, 5), "text-first 1:"));
  g_clear_pointer(&server, cd_pg_archive_free);

  /* the server as schema 6 left it */
  raw_exec(f, "DROP INDEX pages_tsv_keys");
  raw_exec(f, "CREATE INDEX pages_tsv ON pages USING gin (tsv)");
  assert_old_schema_refused(f, 6, &pages, &documents);

  migrated = open_server(f);
  g_assert_cmpint(cd_pg_archive_get_schema_version(migrated), ==, 7);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT value::int FROM meta WHERE key = 'schema_version'"), ==, 7);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pg_indexes WHERE indexname = 'pages_tsv'"), ==, 0);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pg_indexes WHERE indexname = 'pages_tsv_keys'"), ==, 1);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages"), ==, pages);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM documents"), ==, documents);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages p JOIN documents d ON d.id = p.document_id WHERE "
                                       "p.doc_type IS DISTINCT FROM d.type"),
                  ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS(queries); i++) {
    g_autofree gchar *after = result_key(migrated, &queries[i]);
    g_assert_cmpstr(after, ==, g_ptr_array_index(before, i));
  }
  for (guint i = 0; i < 5; i++) {
    g_autoptr(CdSearchResult) r = cd_pg_archive_search(migrated, &queries[i], &error);
    g_autofree gchar *expected = plain_window(f, queries[i].text, queries[i].doc_type, 20);
    g_autoptr(GString) got = g_string_new(NULL);

    g_assert_no_error(error);
    g_assert_cmpstr(r->plan, ==, "recent-window");
    for (guint h = 0; h < r->hits->len; h++)
      g_string_append_printf(got, "%s%" G_GINT64_FORMAT, h > 0 ? " " : "",
                             ((CdSearchHit *) g_ptr_array_index(r->hits, h))->page_id);
    g_assert_cmpstr(got->str, ==, expected);
  }
}

/* pages whose copy of their document's type and date is not the document's */
#define STALE_PAGES                                                                                                    \
  "SELECT count(*) FROM pages p LEFT JOIN documents d ON d.id = p.document_id WHERE p.doc_type IS DISTINCT FROM "      \
  "d.type OR p.doc_date IS DISTINCT FROM d.date"

/* Words with a type or dates search the pages' copies of their document's
 * type and date (issue 18): made at open, backfilled, kept exact by the
 * triggers when a document is re-typed or re-dated and when a page moves;
 * the answers stay SQLite's; a server without them (never opened to
 * create since) is searched as before, and gets them when next opened to
 * create. */
static void
test_pg_search_page_filters(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) spool = fixture_spool(f, "station1.archive", SHA_A, 12, FALSE);
  g_autoptr(CdPgArchive) server = open_server(f);
  g_autoptr(GError) error = NULL;
  const gchar *two[] = { "progress-note", "laboratory-report", NULL };
  const CdSearchQuery queries[] = {
    { .text = "chest", .doc_type = "progress-note", .date_from = "2021-01-01", .date_to = "2023-12-31", .limit = 100 },
    { .text = "metoprolol", .date_from = "2022-01-01", .limit = 100 },
    { .text = "visit", .date_to = "2021-12-31", .limit = 100 },
    { .text = "visit", .doc_types = two, .date_from = "2020-03-01", .date_to = "2024-06-30", .limit = 100 },
    { .text = "\"chest pain\"", .doc_type = "progress-note", .limit = 100 },
    { .text = "hypertension", .mrn = "MRN001", .date_from = "2020-01-01", .limit = 100 },
    { .text = "visit",
      .doc_type = "radiology-report",
      .date_from = "2019-01-01",
      .date_to = "2019-12-31",
      .limit = 100 },
  };

  g_assert_true(cd_pg_archive_deliver(server, spool, "station1", NULL, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(
      cd_pg_test_db_int(f, "SELECT count(*) FROM pages WHERE doc_type IS NOT NULL AND doc_date IS NOT NULL"), ==, 24);
  g_assert_cmpint(cd_pg_test_db_int(f, STALE_PAGES), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS(queries) - 1; i++)
    assert_same_search(spool, server, &queries[i]);

  /* a document re-typed and re-dated on both sides: its pages follow */
  spool_exec(spool, "UPDATE documents SET type = 'radiology-report', date = '2019-05-05' WHERE id = 1");
  raw_exec(f, "UPDATE documents SET type = 'radiology-report', date = '2019-05-05' WHERE id = (SELECT document_id "
              "FROM deliveries WHERE station = 'station1' AND source_document_id = 1)");
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pages WHERE doc_type = 'radiology-report' AND doc_date = "
                                       "'2019-05-05'"),
                  ==, 2);
  g_assert_cmpint(cd_pg_test_db_int(f, STALE_PAGES), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS(queries); i++)
    assert_same_search(spool, server, &queries[i]);

  /* a page cannot be given another type than its document's, and takes
   * its new document's when it moves */
  raw_exec(f, "UPDATE pages SET doc_type = 'consultation' WHERE id = (SELECT min(id) FROM pages)");
  raw_exec(f, "UPDATE pages SET document_id = (SELECT max(id) FROM documents) WHERE id = (SELECT min(id) + 1 FROM "
              "pages WHERE document_id IS NOT NULL)");
  raw_exec(f, "UPDATE pages SET document_id = NULL WHERE id = (SELECT min(id) + 2 FROM pages)");
  g_assert_cmpint(cd_pg_test_db_int(f, STALE_PAGES), ==, 0);

  /* a server without the copies: searched by the documents' columns */
  g_clear_pointer(&server, cd_pg_archive_free);
  raw_exec(f, "DROP TRIGGER pages_document_columns ON pages; DROP TRIGGER documents_page_columns ON documents; "
              "ALTER TABLE pages DROP COLUMN doc_type, DROP COLUMN doc_date");
  server = cd_pg_archive_open(f->uri, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  g_assert_cmpint(
      cd_pg_test_db_int(f, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'pages'::regclass AND attname = "
                           "'doc_type' AND NOT attisdropped"),
      ==, 0);
  /* (the moved pages back where they were, as on the spool) */
  raw_exec(f, "UPDATE pages SET document_id = (SELECT document_id FROM deliveries WHERE station = 'station1' AND "
              "source_document_id = 1) WHERE id = (SELECT min(id) + 1 FROM pages)");
  raw_exec(f, "UPDATE pages SET document_id = (SELECT document_id FROM deliveries WHERE station = 'station1' AND "
              "source_document_id = 2) WHERE id = (SELECT min(id) + 2 FROM pages)");
  for (guint i = 0; i < G_N_ELEMENTS(queries); i++)
    assert_same_search(spool, server, &queries[i]);
  g_clear_pointer(&server, cd_pg_archive_free);
  server = open_server(f);
  g_assert_cmpint(cd_pg_test_db_int(f, STALE_PAGES), ==, 0);
  g_assert_cmpint(cd_pg_test_db_int(f, "SELECT count(*) FROM pg_trigger WHERE tgname IN ('pages_document_columns', "
                                       "'documents_page_columns')"),
                  ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS(queries); i++)
    assert_same_search(spool, server, &queries[i]);
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  const struct {
    const gchar *path;
    void (*func)(Fixture *, gconstpointer);
    const gchar *data;
  } tests[] = {
    { "/chartdesk/pg-archive/schema", test_pg_schema },
    { "/chartdesk/pg-archive/deliver", test_pg_deliver },
    { "/chartdesk/pg-archive/deliver-interrupted", test_pg_deliver_interrupted },
    { "/chartdesk/pg-archive/deliver-two-stations", test_pg_deliver_two_stations },
    { "/chartdesk/pg-archive/deliver-concurrent", test_pg_deliver_concurrent },
    { "/chartdesk/pg-archive/deliver-changes", test_pg_deliver_changes },
    { "/chartdesk/pg-archive/deliver-changes-duplicate", test_pg_deliver_changes_duplicate },
    { "/chartdesk/pg-archive/deliver-page-content", test_pg_deliver_page_content },
    { "/chartdesk/pg-archive/retention", test_pg_retention },
    { "/chartdesk/pg-archive/search", test_pg_search },
    { "/chartdesk/pg-archive/search-gin", test_pg_search, "gin" },
    { "/chartdesk/pg-archive/restricted-and-audited", test_pg_restricted_and_audited },
    { "/chartdesk/pg-archive/search-broad", test_pg_search_broad },
    { "/chartdesk/pg-archive/search-migrated", test_pg_search_migrated },
    { "/chartdesk/pg-archive/search-window-bounded", test_pg_search_window_bounded },
    { "/chartdesk/pg-archive/search-migrated-keys", test_pg_search_migrated_keys },
    { "/chartdesk/pg-archive/search-page-filters", test_pg_search_page_filters },
    { "/chartdesk/pg-archive/copy-to-sqlite", test_pg_copy_to_sqlite },
  };
  gint rc;

  g_test_init(&argc, &argv, NULL);
  g_test_summary("The PostgreSQL archive on a cluster of the test's own");
  cluster = cd_pg_cluster_start(&error);
  g_assert_no_error(error);
  for (guint i = 0; i < G_N_ELEMENTS(tests); i++) {
    if (cluster == NULL)
      g_test_add_data_func(tests[i].path, NULL, skip_all);
    else
      g_test_add(tests[i].path, Fixture, tests[i].data, fixture_set_up, tests[i].func, fixture_tear_down);
  }
  rc = g_test_run();
  cd_pg_cluster_stop(cluster);
  return rc;
}
