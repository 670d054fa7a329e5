/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The archive on real SQLite files: schema migrations, whole-or-nothing
 * documents, de-duplication, full-text search, the audit chain, the single
 * writer, durability settings and the errors a user sees.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-test-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3, sqlite3_close)

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

/* Every table, index, trigger and virtual table migration 1 creates. */
static const gchar *const schema_names[] = {
  "meta",
  "batches",
  "files",
  "patients",
  "documents",
  "images",
  "pages",
  "pages_fts",
  "review",
  "audit",
  "pages_source",
  "pages_document",
  "documents_type",
  "documents_date",
  "documents_patient",
  "review_open",
  "pages_fts_insert",
  "pages_fts_delete",
  "pages_fts_update",
  "audit_no_update",
  "audit_no_delete",
};

typedef struct {
  gchar *dir;
  gchar *path;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp("cd-archive-XXXXXX", &error);
  g_assert_no_error(error);
  f->path = g_build_filename(f->dir, "test.archive", NULL);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  g_chmod(f->dir, 0755);
  cd_test_rm_rf(f->dir);
  g_free(f->dir);
  g_free(f->path);
}

/* A second, raw connection to the file: what anybody with the sqlite3 shell
 * can do behind Chartdesk's back. */
static sqlite3 *
raw_open(const gchar *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

static void
raw_exec(sqlite3 *db, const gchar *sql)
{
  gchar *msg = NULL;
  gint rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

  if (rc != SQLITE_OK)
    g_test_message("%s: %s", sql, msg);
  sqlite3_free(msg);
  g_assert_cmpint(rc, ==, SQLITE_OK);
}

static gint64
raw_int(sqlite3 *db, const gchar *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return value;
}

static gchar *
raw_text(sqlite3 *db, const gchar *sql)
{
  sqlite3_stmt *stmt = NULL;
  gchar *value;

  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  value = g_strdup((const gchar *) sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  return value;
}

/* The same query on the archive's own connection (the database as the
 * library sees it, per-connection pragmas included). */
static gint64
archive_int(CdArchive *archive, const gchar *sql)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = cd_archive_prepare(archive, sql, &error);
  gint64 value;

  g_assert_no_error(error);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return value;
}

static CdArchive *
open_writer(const gchar *path)
{
  g_autoptr(GError) error = NULL;
  CdArchive *archive = cd_archive_open(path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);

  g_assert_no_error(error);
  g_assert_nonnull(archive);
  return archive;
}

static gint64
begin_batch(CdArchive *archive)
{
  g_autoptr(GError) error = NULL;
  const gchar *inputs[] = { "box12/", NULL };
  gint64 id = cd_archive_begin_batch(archive, "test", inputs, &error);

  g_assert_no_error(error);
  g_assert_cmpint(id, >, 0);
  return id;
}

/* A content page with text and a small bilevel image; @mark changes the
 * image content, so pages with the same mark share one stored image. */
static CdPage *
make_page(const gchar *sha, gint index, const gchar *text, gint mark)
{
  g_autoptr(GError) error = NULL;
  CdPage *page = cd_page_new("box12/scan.tif", index, sha);
  PIX *pix = pixCreate(64, 48, 1);

  pixSetPixel(pix, 3 + mark, 5, 1);
  pixRasterop(pix, 10, 10, 20 + mark, 4, PIX_SET, NULL, 0, 0);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, 300, 300);
  cd_page_set_text(page, text);
  cd_page_set_confidence(page, 90.0);
  g_assert_true(cd_page_encode_image(page, &error));
  g_assert_no_error(error);
  return page;
}

static CdDocument *
make_document(const gchar *mrn, const gchar *type, const gchar *date)
{
  CdDocument *doc = cd_document_new();

  cd_document_set_patient_mrn(doc, mrn);
  cd_document_set_doc_type(doc, type, 0.9);
  cd_document_set_date(doc, date);
  cd_document_set_title(doc, "TEST");
  return doc;
}

static void
commit(CdArchive *archive, gint64 batch, CdDocument *doc)
{
  g_autoptr(GError) error = NULL;

  g_assert_true(cd_archive_commit_document(archive, batch, doc, &error));
  g_assert_no_error(error);
  g_assert_cmpint(cd_document_get_id(doc), >, 0);
}

/* An empty database at user_version 0 is migrated to the latest schema, with
 * every table, index and trigger, and marked as a Chartdesk archive. */
static void
test_archive_migrate_from_zero(Fixture *f, gconstpointer data)
{
  g_autoptr(sqlite3) raw = raw_open(f->path);
  g_autoptr(CdArchive) archive = NULL;

  g_assert_cmpint(raw_int(raw, "PRAGMA user_version"), ==, 0);
  g_clear_pointer(&raw, sqlite3_close);

  archive = open_writer(f->path);
  g_assert_cmpint(cd_archive_get_schema_version(archive), ==, CD_ARCHIVE_SCHEMA_VERSION);
  g_clear_object(&archive);

  raw = raw_open(f->path);
  g_assert_cmpint(raw_int(raw, "PRAGMA user_version"), ==, CD_ARCHIVE_SCHEMA_VERSION);
  g_assert_cmpint(raw_int(raw, "PRAGMA application_id"), ==, 0x43484454);
  for (guint i = 0; i < G_N_ELEMENTS(schema_names); i++) {
    g_autofree gchar *sql = g_strdup_printf("SELECT count(*) FROM sqlite_schema WHERE name = '%s'", schema_names[i]);
    if (raw_int(raw, sql) != 1)
      g_test_message("missing from the schema: %s", schema_names[i]);
    g_assert_cmpint(raw_int(raw, sql), ==, 1);
  }

  /* opening again is not a second migration */
  archive = open_writer(f->path);
  g_assert_cmpint(cd_archive_get_schema_version(archive), ==, CD_ARCHIVE_SCHEMA_VERSION);
}

/* An archive written by a newer Chartdesk is refused with a message that
 * names the file and both versions, and is left untouched. */
static void
test_archive_newer_version(Fixture *f, gconstpointer data)
{
  g_autoptr(sqlite3) raw = raw_open(f->path);
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *bump = g_strdup_printf("PRAGMA user_version = %d", CD_ARCHIVE_SCHEMA_VERSION + 1);
  g_autofree gchar *expected = g_strdup_printf("schema version %d is newer than this Chartdesk understands (%d)",
                                               CD_ARCHIVE_SCHEMA_VERSION + 1, CD_ARCHIVE_SCHEMA_VERSION);

  raw_exec(raw, "CREATE TABLE future (x); PRAGMA application_id = 1128809556");
  raw_exec(raw, bump);
  g_clear_pointer(&raw, sqlite3_close);

  archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_null(archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, f->path));
  g_assert_nonnull(strstr(error->message, expected));
  g_assert_nonnull(strstr(error->message, "upgrade Chartdesk"));

  raw = raw_open(f->path);
  g_assert_cmpint(raw_int(raw, "PRAGMA user_version"), ==, CD_ARCHIVE_SCHEMA_VERSION + 1);
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM sqlite_schema WHERE name = 'pages'"), ==, 0);
}

/* A migration that fails midway (a table it creates already exists) rolls
 * back entirely: user_version is unchanged and nothing it created before the
 * failure is left behind. */
static void
test_archive_migration_fails(Fixture *f, gconstpointer data)
{
  g_autoptr(sqlite3) raw = raw_open(f->path);
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GError) error = NULL;

  /* marked as ours at version 0, with a table in the way of migration 1 */
  raw_exec(raw, "PRAGMA application_id = 1128809556; CREATE TABLE review (conflict)");
  g_clear_pointer(&raw, sqlite3_close);

  archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_null(archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, "migration to schema 1"));
  g_assert_nonnull(strstr(error->message, "table review already exists"));

  raw = raw_open(f->path);
  g_assert_cmpint(raw_int(raw, "PRAGMA user_version"), ==, 0);
  /* meta, batches, ... come before review in migration 1 */
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM sqlite_schema WHERE name IN ('meta', 'batches', 'pages')"), ==, 0);

  /* once the obstacle is gone the same file migrates */
  raw_exec(raw, "DROP TABLE review");
  g_clear_pointer(&raw, sqlite3_close);
  archive = open_writer(f->path);
  g_assert_cmpint(cd_archive_get_schema_version(archive), ==, CD_ARCHIVE_SCHEMA_VERSION);
}

/* A database that is not ours (tables, no application id) is refused, not
 * migrated into. */
static void
test_archive_foreign_database(Fixture *f, gconstpointer data)
{
  g_autoptr(sqlite3) raw = raw_open(f->path);
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GError) error = NULL;

  raw_exec(raw, "CREATE TABLE contacts (name)");
  g_clear_pointer(&raw, sqlite3_close);

  archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_null(archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, "not a Chartdesk archive"));
  raw = raw_open(f->path);
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM sqlite_schema"), ==, 1);
}

/* Asserts that nothing of a failed document reached the archive. */
static void
assert_no_document_rows(CdArchive *archive)
{
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM documents"), ==, 0);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM pages"), ==, 0);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM images"), ==, 0);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM review"), ==, 0);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM pages_fts WHERE pages_fts MATCH 'progress'"), ==, 0);
}

/* A document is committed whole or not at all: when its third page fails to
 * insert (a trigger raises on it), no document, page, image, review or
 * index row remains; the same document commits once the fault is gone. */
static void
test_archive_document_atomic(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(CdDocument) doc = make_document(NULL, "progress-note", "1998-03-02");
  g_autoptr(GError) error = NULL;
  gint64 batch = begin_batch(archive);

  for (gint i = 0; i < 3; i++) {
    g_autoptr(CdPage) page = make_page(SHA_A, i, "progress note page", i);
    cd_document_add_page(doc, page);
  }
  /* a fault on the Nth page insert; TEMP so only this connection sees it */
  g_assert_true(cd_archive_exec(archive,
                                "CREATE TEMP TRIGGER fail_third_page BEFORE INSERT ON main.pages "
                                "WHEN (SELECT count(*) FROM main.pages WHERE document_id = new.document_id) >= 2 "
                                "BEGIN SELECT RAISE (ABORT, 'injected fault'); END",
                                &error));
  g_assert_no_error(error);

  g_assert_false(cd_archive_commit_document(archive, batch, doc, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, "injected fault"));
  g_assert_nonnull(strstr(error->message, "box12/scan.tif page 3"));
  g_clear_error(&error);
  g_assert_cmpint(cd_document_get_id(doc), ==, 0);
  assert_no_document_rows(archive);
  /* the connection is usable and not stuck in a transaction */
  g_assert_cmpint(sqlite3_get_autocommit(cd_archive_get_db(archive)), !=, 0);

  g_assert_true(cd_archive_exec(archive, "DROP TRIGGER temp.fail_third_page", &error));
  commit(archive, batch, doc);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM documents"), ==, 1);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM pages"), ==, 3);
  /* no patient: the document waits for review */
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM review"), ==, 1);
}

/* Page data that violates a constraint (the same source page twice in one
 * document) also leaves nothing behind. */
static void
test_archive_document_constraint(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(CdDocument) doc = make_document("00482913", "progress-note", "1998-03-02");
  g_autoptr(CdPage) first = make_page(SHA_A, 0, "progress note one", 0);
  g_autoptr(CdPage) again = make_page(SHA_A, 0, "progress note two", 1);
  g_autoptr(GError) error = NULL;
  gint64 batch = begin_batch(archive);

  cd_document_add_page(doc, first);
  cd_document_add_page(doc, again);
  g_assert_false(cd_archive_commit_document(archive, batch, doc, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, "UNIQUE constraint failed"));
  g_assert_nonnull(strstr(error->message, "page 1"));
  assert_no_document_rows(archive);
}

/* De-duplication: a file recorded as archived is found by its SHA-256 with
 * its batch; (file, page) pairs are found once committed; identical page
 * images are stored once and shared. */
static void
test_archive_dedup(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(CdDocument) doc = make_document("00482913", "consultation", "2001-05-06");
  g_autoptr(CdPage) p0 = make_page(SHA_A, 0, "first page", 7);
  g_autoptr(CdPage) p1 = make_page(SHA_A, 1, "second page, same picture", 7);
  g_autoptr(CdPage) p2 = make_page(SHA_A, 2, "third page", 8);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) image = NULL;
  g_autofree gchar *format = NULL;
  g_autofree gchar *image_sha = NULL;
  gint64 batch = begin_batch(archive);
  gint64 found_batch = 0;

  g_assert_false(cd_archive_find_file(archive, SHA_A, &found_batch, &error));
  g_assert_no_error(error);
  g_assert_false(cd_archive_has_page(archive, SHA_A, 0, &error));
  g_assert_no_error(error);

  cd_document_add_page(doc, p0);
  cd_document_add_page(doc, p1);
  cd_document_add_page(doc, p2);
  commit(archive, batch, doc);
  g_assert_true(cd_archive_has_page(archive, SHA_A, 0, &error));
  g_assert_true(cd_archive_has_page(archive, SHA_A, 2, &error));
  g_assert_false(cd_archive_has_page(archive, SHA_A, 3, &error));
  g_assert_false(cd_archive_has_page(archive, SHA_B, 0, &error));
  g_assert_false(cd_archive_has_page(archive, NULL, 0, &error));
  g_assert_no_error(error);

  /* the file is "archived" only once it is marked so, after its last page */
  g_assert_false(cd_archive_find_file(archive, SHA_A, NULL, &error));
  g_assert_true(cd_archive_commit_file(archive, batch, SHA_A, "box12/scan.tif", 1234, 3, &error));
  g_assert_no_error(error);
  g_assert_true(cd_archive_find_file(archive, SHA_A, &found_batch, &error));
  g_assert_no_error(error);
  g_assert_cmpint(found_batch, ==, batch);
  g_assert_false(cd_archive_find_file(archive, SHA_C, NULL, &error));
  g_assert_no_error(error);

  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM pages"), ==, 3);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM images"), ==, 2);
  g_assert_cmpint(archive_int(archive, "SELECT count(DISTINCT image_sha256) FROM pages"), ==, 2);
  g_assert_cmpstr(cd_page_get_image_sha256(p0), ==, cd_page_get_image_sha256(p1));
  g_assert_cmpstr(cd_page_get_image_sha256(p0), !=, cd_page_get_image_sha256(p2));

  /* the stored blob is what its address says */
  image = cd_archive_get_page_image(archive, cd_page_get_id(p1), &format, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(format, ==, "tiff-g4");
  image_sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, image);
  g_assert_cmpstr(image_sha, ==, cd_page_get_image_sha256(p1));
}

/* Three documents of two patients, types and dates, for the search tests. */
static void
fill_for_search(CdArchive *archive)
{
  g_autoptr(CdDocument) d1 = make_document("00482913", "discharge-summary", "1998-03-02");
  g_autoptr(CdDocument) d2 = make_document("00700001", "radiology-report", "2004-11-20");
  g_autoptr(CdDocument) d3 = make_document("00700001", "progress-note", "2010-01-15");
  g_autoptr(CdPage) p1 = make_page(SHA_A, 0, "Admitted with CHEST pain. Café au lait spots noted.", 0);
  g_autoptr(CdPage) p2 = make_page(SHA_B, 0, "Chest film: no acute disease. Seen by Dr. O'Brien.", 1);
  g_autoptr(CdPage) p3 = make_page(SHA_C, 0, "Follow-up visit; chest pain resolved. Déjà vu reported.", 2);
  gint64 batch = begin_batch(archive);

  cd_document_add_page(d1, p1);
  cd_document_add_page(d2, p2);
  cd_document_add_page(d3, p3);
  commit(archive, batch, d1);
  commit(archive, batch, d2);
  commit(archive, batch, d3);
}

static GPtrArray *
search(CdArchive *archive, const CdSearchQuery *query)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *hits = cd_archive_search(archive, query, &error);

  g_assert_no_error(error);
  g_assert_nonnull(hits);
  return hits;
}

static CdSearchHit *
hit(GPtrArray *hits, guint i)
{
  g_assert_cmpuint(i, <, hits->len);
  return g_ptr_array_index(hits, i);
}

/* Search matches whole words case- and accent-insensitively, with snippets
 * marking the matches. */
static void
test_archive_search_words(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(GPtrArray) chest = NULL;
  g_autoptr(GPtrArray) cafe = NULL;
  g_autoptr(GPtrArray) deja = NULL;
  g_autoptr(GPtrArray) both = NULL;
  g_autoptr(GPtrArray) obrien = NULL;
  g_autoptr(GPtrArray) partial = NULL;

  fill_for_search(archive);
  chest = search(archive, &(CdSearchQuery){ .text = "chest" });
  g_assert_cmpuint(chest->len, ==, 3);
  cafe = search(archive, &(CdSearchQuery){ .text = "CAFE" });
  g_assert_cmpuint(cafe->len, ==, 1);
  g_assert_cmpstr(hit(cafe, 0)->patient_mrn, ==, "00482913");
  g_assert_cmpstr(hit(cafe, 0)->doc_type, ==, "discharge-summary");
  g_assert_cmpstr(hit(cafe, 0)->status, ==, "filed");
  g_assert_cmpstr(hit(cafe, 0)->source_path, ==, "box12/scan.tif");
  g_assert_nonnull(strstr(hit(cafe, 0)->snippet, "[Café]"));
  deja = search(archive, &(CdSearchQuery){ .text = "deja" });
  g_assert_cmpuint(deja->len, ==, 1);
  g_assert_cmpstr(hit(deja, 0)->date, ==, "2010-01-15");

  /* every plain word must appear */
  both = search(archive, &(CdSearchQuery){ .text = "Chest PAIN" });
  g_assert_cmpuint(both->len, ==, 2);
  for (guint i = 0; i < both->len; i++) {
    g_assert_nonnull(strstr(hit(both, i)->snippet, "]"));
    g_assert_true(strstr(hit(both, i)->snippet, "[CHEST]") != NULL || strstr(hit(both, i)->snippet, "[chest]"));
    g_assert_nonnull(strstr(hit(both, i)->snippet, "[pain]"));
    g_assert_cmpfloat(hit(both, i)->score, >, 0);
  }
  /* punctuation inside a plain word is harmless */
  obrien = search(archive, &(CdSearchQuery){ .text = "o'brien" });
  g_assert_cmpuint(obrien->len, ==, 1);
  /* words are whole: "ches" is not "chest" */
  partial = search(archive, &(CdSearchQuery){ .text = "ches" });
  g_assert_cmpuint(partial->len, ==, 0);
}

/* FTS5 syntax is honoured, and a malformed query is refused with
 * CD_ERROR_QUERY and the reason, audited nowhere. */
static void
test_archive_search_syntax(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(GPtrArray) phrase = NULL;
  g_autoptr(GPtrArray) prefix = NULL;
  g_autoptr(GPtrArray) or = NULL;
  g_autoptr(GPtrArray) plain = NULL;
  g_autoptr(GPtrArray) bad = NULL;
  g_autoptr(GError) error = NULL;
  gint64 audits;

  fill_for_search(archive);
  phrase = search(archive, &(CdSearchQuery){ .text = "\"chest pain\"" });
  g_assert_cmpuint(phrase->len, ==, 2);
  prefix = search(archive, &(CdSearchQuery){ .text = "dise*" });
  g_assert_cmpuint(prefix->len, ==, 1);
  or = search(archive, &(CdSearchQuery){ .text = "cafe OR deja" });
  g_assert_cmpuint(or->len, ==, 2);
  /* the same text searched as plain words: "OR" becomes a word */
  plain = search(archive, &(CdSearchQuery){ .text = "cafe OR deja", .plain = TRUE });
  g_assert_cmpuint(plain->len, ==, 0);

  audits = archive_int(archive, "SELECT count(*) FROM audit");
  bad = cd_archive_search(archive, &(CdSearchQuery){ .text = "\"chest pain" }, &error);
  g_assert_null(bad);
  g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
  g_assert_nonnull(strstr(error->message, "malformed query '\"chest pain'"));
  g_assert_nonnull(strstr(error->message, "a double quote is not closed"));
  g_clear_error(&error);

  bad = cd_archive_search(archive, &(CdSearchQuery){ .text = "chest AND" }, &error);
  g_assert_null(bad);
  g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
  g_assert_nonnull(strstr(error->message, "AND needs a word or phrase on each side"));
  g_clear_error(&error);

  bad = cd_archive_search(archive, &(CdSearchQuery){ .text = "!!!" }, &error);
  g_assert_null(bad);
  g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
  g_assert_nonnull(strstr(error->message, "no words"));
  g_clear_error(&error);

  bad = cd_archive_search(archive, &(CdSearchQuery){ .text = "chest", .date_from = "2004-13-01" }, &error);
  g_assert_null(bad);
  g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
  g_assert_nonnull(strstr(error->message, "YYYY-MM-DD"));
  g_clear_error(&error);

  bad = cd_archive_search(archive, &(CdSearchQuery){ 0 }, &error);
  g_assert_null(bad);
  g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM audit"), ==, audits);
}

/* The patient, type and date filters narrow text searches, and list
 * documents newest first without words. */
static void
test_archive_search_filters(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(GPtrArray) by_mrn = NULL;
  g_autoptr(GPtrArray) by_type = NULL;
  g_autoptr(GPtrArray) by_date = NULL;
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(GPtrArray) none = NULL;
  g_autoptr(GPtrArray) paged = NULL;

  fill_for_search(archive);
  by_mrn = search(archive, &(CdSearchQuery){ .text = "chest", .mrn = "00700001" });
  g_assert_cmpuint(by_mrn->len, ==, 2);
  for (guint i = 0; i < by_mrn->len; i++)
    g_assert_cmpstr(hit(by_mrn, i)->patient_mrn, ==, "00700001");

  by_type = search(archive, &(CdSearchQuery){ .text = "chest", .doc_type = "radiology-report" });
  g_assert_cmpuint(by_type->len, ==, 1);
  g_assert_cmpstr(hit(by_type, 0)->date, ==, "2004-11-20");

  by_date = search(archive, &(CdSearchQuery){ .text = "chest", .date_from = "2000-01-01", .date_to = "2009-12-31" });
  g_assert_cmpuint(by_date->len, ==, 1);
  g_assert_cmpstr(hit(by_date, 0)->doc_type, ==, "radiology-report");

  listed = search(archive, &(CdSearchQuery){ .mrn = "00700001" });
  g_assert_cmpuint(listed->len, ==, 2);
  g_assert_cmpstr(hit(listed, 0)->date, ==, "2010-01-15");
  g_assert_cmpstr(hit(listed, 1)->date, ==, "2004-11-20");
  g_assert_null(hit(listed, 0)->snippet);

  none = search(archive, &(CdSearchQuery){ .text = "cafe", .mrn = "00700001" });
  g_assert_cmpuint(none->len, ==, 0);

  paged = search(archive, &(CdSearchQuery){ .text = "chest", .limit = 1, .offset = 1 });
  g_assert_cmpuint(paged->len, ==, 1);
}

static CdSearchResult *
search_ex(CdArchive *archive, const CdSearchQuery *query)
{
  g_autoptr(GError) error = NULL;
  CdSearchResult *result = cd_archive_search_ex(archive, query, &error);

  g_assert_no_error(error);
  g_assert_nonnull(result);
  return result;
}

static guint64
facet(GPtrArray *facets, const gchar *value)
{
  for (guint i = 0; i < facets->len; i++) {
    CdSearchFacet *f = g_ptr_array_index(facets, i);
    if (g_strcmp0(f->value, value) == 0)
      return f->count;
  }
  return 0;
}

/* cd_archive_search_ex(): exact totals, facets by type and year, the
 * status filter, paging, what a hit shows (patient name, title, position
 * in the document) and the snippet's matched words as spans. */
static void
test_archive_search_ex(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(CdSearchResult) chest = NULL;
  g_autoptr(CdSearchResult) cafe = NULL;
  g_autoptr(CdSearchResult) review = NULL;
  g_autoptr(CdSearchResult) filed = NULL;
  g_autoptr(CdSearchResult) listed = NULL;
  g_autoptr(CdSearchResult) paged = NULL;
  g_autoptr(CdSearchResult) syntax = NULL;
  g_autoptr(CdSearchResult) bad = NULL;
  g_autoptr(JsonNode) json = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *text = NULL;
  CdSearchHit *h;
  CdSearchSpan *span;

  fill_for_search(archive);
  g_assert_true(cd_archive_exec(archive,
                                "INSERT INTO patients (mrn, family, given, updated) "
                                "VALUES ('00482913', 'DOE', 'JANE', '2026-01-01')",
                                &error));
  g_assert_no_error(error);

  chest = search_ex(archive, &(CdSearchQuery){ .text = "Chest" });
  g_assert_cmpuint(chest->hits->len, ==, 3);
  g_assert_cmpuint(chest->total, ==, 3);
  g_assert_false(chest->total_is_estimate);
  g_assert_false(chest->facets_partial);
  g_assert_cmpint(chest->order, ==, CD_SEARCH_ORDER_RANK);
  g_assert_cmpstr(chest->plan, ==, "text-first");
  g_assert_cmpstrv(chest->terms, ((const gchar *[]){ "chest", NULL }));
  g_assert_cmpuint(chest->type_facets->len, ==, 3);
  g_assert_cmpuint(facet(chest->type_facets, "radiology-report"), ==, 1);
  g_assert_cmpuint(chest->year_facets->len, ==, 3);
  g_assert_cmpstr(((CdSearchFacet *) g_ptr_array_index(chest->year_facets, 0))->value, ==, "2010");
  g_assert_cmpstr(((CdSearchFacet *) g_ptr_array_index(chest->year_facets, 2))->value, ==, "1998");

  cafe = search_ex(archive, &(CdSearchQuery){ .text = "CAFÉ" });
  g_assert_cmpuint(cafe->total, ==, 1);
  g_assert_cmpstrv(cafe->terms, ((const gchar *[]){ "cafe", NULL }));
  h = g_ptr_array_index(cafe->hits, 0);
  g_assert_cmpstr(h->patient_name, ==, "DOE, JANE");
  g_assert_cmpstr(h->title, ==, "TEST");
  g_assert_cmpint(h->seq, ==, 0);
  g_assert_cmpint(h->document_id, >, 0);
  g_assert_nonnull(h->snippet_text);
  g_assert_null(strchr(h->snippet_text, '['));
  g_assert_cmpuint(h->spans->len, ==, 1);
  span = &g_array_index(h->spans, CdSearchSpan, 0);
  g_assert_cmpint(strncmp(h->snippet_text + span->start, "Café", span->length), ==, 0);
  g_assert_cmpuint(span->length, ==, strlen("Café"));

  /* the web API's JSON: the snippet in runs, the matched word flagged */
  json = cd_search_result_to_json(cafe, &(CdSearchQuery){ .text = "CAFÉ" });
  text = json_to_string(json, FALSE);
  g_assert_nonnull(strstr(text, "{\"text\":\"Café\",\"hit\":true}"));
  g_assert_nonnull(strstr(text, "\"total\":1,\"total_is_estimate\":false"));
  g_assert_nonnull(strstr(text, "\"patient\":\"DOE, JANE\""));
  g_assert_nonnull(strstr(text, "\"facets\":{\"type\":{\"discharge-summary\":1},\"year\":{\"1998\":1}}"));

  review = search_ex(archive, &(CdSearchQuery){ .text = "chest", .status = "review" });
  g_assert_cmpuint(review->total, ==, 0);
  g_assert_cmpuint(review->hits->len, ==, 0);
  g_assert_cmpuint(review->type_facets->len, ==, 0);
  filed = search_ex(archive, &(CdSearchQuery){ .status = "filed" });
  g_assert_cmpuint(filed->total, ==, 3);
  g_assert_cmpint(filed->order, ==, CD_SEARCH_ORDER_DATE);

  listed = search_ex(archive, &(CdSearchQuery){ .mrn = "00700001" });
  g_assert_cmpuint(listed->total, ==, 2);
  g_assert_cmpstr(listed->plan, ==, "filters");
  g_assert_cmpstr(((CdSearchHit *) g_ptr_array_index(listed->hits, 0))->date, ==, "2010-01-15");

  paged = search_ex(archive, &(CdSearchQuery){ .text = "chest", .limit = 1, .offset = 2 });
  g_assert_cmpuint(paged->hits->len, ==, 1);
  g_assert_cmpuint(paged->total, ==, 3);

  /* operators and syntax are not words to highlight */
  syntax = search_ex(archive, &(CdSearchQuery){ .text = "cafe OR deja*" });
  g_assert_cmpuint(syntax->total, ==, 2);
  g_assert_cmpstrv(syntax->terms, ((const gchar *[]){ "cafe", "deja", NULL }));

  bad = cd_archive_search_ex(archive, &(CdSearchQuery){ .text = "chest", .status = "lost" }, &error);
  g_assert_null(bad);
  g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
  g_assert_nonnull(strstr(error->message, "'lost'"));
}

/* Many pages at once, straight into the tables (the triggers index them):
 * @docs documents of @type, @per pages each, all with @text. */
static void
bulk_insert(CdArchive *archive, gint64 batch, guint docs, guint per, const gchar *mrn, const gchar *type,
            const gchar *date, const gchar *text)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *sql = g_strdup_printf(
      "BEGIN;"
      "CREATE TEMP TABLE IF NOT EXISTS n (i INTEGER PRIMARY KEY);"
      "DELETE FROM temp.n;"
      "WITH RECURSIVE c (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < %u) "
      "INSERT INTO temp.n SELECT i FROM c;"
      "CREATE TEMP TABLE IF NOT EXISTS base (id INTEGER);"
      "DELETE FROM temp.base;"
      "INSERT INTO temp.base SELECT coalesce(max(id), 0) FROM documents;"
      "INSERT INTO documents (id, batch_id, patient_mrn, status, type, date, title, created) "
      "SELECT (SELECT id FROM temp.base) + 1 + i, %" G_GINT64_FORMAT ", '%s', 'filed', '%s', "
      "date('%s', '+' || (i %% 28) || ' days'), 'BULK', '2026-01-01' FROM temp.n WHERE i < %u;"
      "INSERT INTO pages (batch_id, document_id, seq, kind, source_path, source_page, text, created) "
      "SELECT %" G_GINT64_FORMAT ", (SELECT id FROM temp.base) + 1 + i / %u, i %% %u, 'page', 'bulk.tif', i, '%s', "
      "'2026-01-01' FROM temp.n WHERE i < %u;"
      "COMMIT;",
      docs * per, batch, mrn, type, date, docs, batch, per, per, text, docs * per);

  g_assert_true(cd_archive_exec(archive, sql, &error));
  g_assert_no_error(error);
}

static gboolean
hits_have_type(GPtrArray *hits, const gchar *type)
{
  for (guint i = 0; i < hits->len; i++) {
    if (g_strcmp0(((CdSearchHit *) g_ptr_array_index(hits, i))->doc_type, type) != 0)
      return FALSE;
  }
  return TRUE;
}

/* A filter never drops matches, however many better-ranked matches of other
 * documents there are (a filtered search used to rank a window of 20,000
 * text matches first and find nothing beyond it); a broad word is ranked in
 * a recent window, and paging goes on past it through every match; a total
 * past the counting limit is a lower bound, flagged. */
static void
test_archive_search_complete(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(CdSearchResult) typed = NULL;
  g_autoptr(CdSearchResult) dated = NULL;
  g_autoptr(CdSearchResult) chart = NULL;
  g_autoptr(CdSearchResult) broad = NULL;
  g_autoptr(CdSearchResult) edge = NULL;
  g_autoptr(CdSearchResult) common = NULL;
  g_autoptr(CdSearchResult) two = NULL;
  g_autoptr(CdSearchResult) listed = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new(g_int64_hash, g_int64_equal);
  gint64 batch = begin_batch(archive);
  const gchar *radiology[] = { "radiology-report", NULL };
  guint64 all = 25000 + 10;

  /* 25,000 pages where "fever" ranks high, then 10 where it ranks lower */
  bulk_insert(archive, batch, 500, 50, "00100100", "progress-note", "2001-01-01", "fever fever fever ward round");
  bulk_insert(archive, batch, 10, 1, "00900900", "radiology-report", "2005-06-01",
              "a fever was once noted in passing on this film today");

  typed = search_ex(archive, &(CdSearchQuery){ .text = "fever", .doc_types = radiology, .limit = 50 });
  g_assert_cmpuint(typed->hits->len, ==, 10);
  g_assert_cmpuint(typed->total, ==, 10);
  g_assert_false(typed->total_is_estimate);
  g_assert_true(hits_have_type(typed->hits, "radiology-report"));
  g_assert_cmpstr(typed->plan, ==, "filter-first");
  g_assert_cmpuint(facet(typed->type_facets, "radiology-report"), ==, 10);
  g_assert_cmpuint(facet(typed->year_facets, "2005"), ==, 10);

  dated = search_ex(archive, &(CdSearchQuery){ .text = "fever", .doc_types = radiology, .date_from = "2005-06-01",
                                               .date_to = "2005-06-05" });
  g_assert_cmpuint(dated->total, ==, 5);
  g_assert_cmpuint(dated->hits->len, ==, 5);

  chart = search_ex(archive, &(CdSearchQuery){ .text = "fever", .mrn = "00900900", .limit = 3 });
  g_assert_cmpuint(chart->total, ==, 10);
  g_assert_cmpuint(chart->hits->len, ==, 3);
  g_assert_cmpstr(chart->plan, ==, "filter-first");

  /* a word on every page: ranked in the recent window; past the index
   * count's limit the total is a lower bound */
  broad = search_ex(archive, &(CdSearchQuery){ .text = "fever" });
  g_assert_cmpstr(broad->plan, ==, "recent-window");
  g_assert_cmpint(broad->order, ==, CD_SEARCH_ORDER_RECENT_RANK);
  g_assert_cmpuint(broad->window, ==, CD_SEARCH_RANK_WINDOW);
  g_assert_cmpuint(broad->total, ==, CD_SEARCH_TEXT_COUNT_LIMIT);
  g_assert_true(broad->total_is_estimate);
  g_assert_true(broad->facets_partial);
  g_assert_cmpuint(broad->hits->len, ==, 20);

  /* paging across the end of the window: no page twice, none skipped */
  for (guint offset = CD_SEARCH_RANK_WINDOW - 30; offset < CD_SEARCH_RANK_WINDOW + 30; offset += 20) {
    g_autoptr(CdSearchResult) page = search_ex(archive, &(CdSearchQuery){ .text = "fever", .offset = offset });
    g_assert_cmpuint(page->hits->len, ==, 20);
    for (guint i = 0; i < page->hits->len; i++) {
      CdSearchHit *h = g_ptr_array_index(page->hits, i);
      g_assert_false(g_hash_table_contains(seen, &h->page_id));
      g_hash_table_add(seen, &h->page_id);
    }
    g_hash_table_steal_all(seen); /* the keys die with the page */
    for (guint i = 0; i < page->hits->len; i++)
      g_assert_cmpint(((CdSearchHit *) g_ptr_array_index(page->hits, i))->page_id, >, 0);
  }
  {
    /* the same pages in one request and in pages of 20 */
    g_autoptr(CdSearchResult) whole = search_ex(
        archive, &(CdSearchQuery){ .text = "fever", .offset = CD_SEARCH_RANK_WINDOW - 30, .limit = 60 });
    g_autoptr(GPtrArray) ids = g_ptr_array_new();
    g_assert_cmpuint(whole->hits->len, ==, 60);
    for (guint offset = 0; offset < 60; offset += 20) {
      g_autoptr(CdSearchResult) page = search_ex(
          archive, &(CdSearchQuery){ .text = "fever", .offset = CD_SEARCH_RANK_WINDOW - 30 + offset });
      for (guint i = 0; i < page->hits->len; i++)
        g_assert_cmpint(((CdSearchHit *) g_ptr_array_index(page->hits, i))->page_id, ==,
                        ((CdSearchHit *) g_ptr_array_index(whole->hits, offset + i))->page_id);
    }
  }
  /* the last match of all is reachable */
  edge = search_ex(archive, &(CdSearchQuery){ .text = "fever", .offset = all - 1 });
  g_assert_cmpuint(edge->hits->len, ==, 1);

  /* a broad word within a broad type: a lower bound, flagged; the type's
   * pages too many for a set (enough matches pass the filters soon) */
  common = search_ex(archive, &(CdSearchQuery){ .text = "fever", .doc_type = "progress-note" });
  g_assert_true(common->total_is_estimate);
  g_assert_cmpuint(common->total, ==, CD_SEARCH_COUNT_LIMIT);
  g_assert_cmpstr(common->plan, ==, "recent-window");
  g_assert_true(hits_have_type(common->hits, "progress-note"));
  /* two words and no filter: counted on the index alone */
  two = search_ex(archive, &(CdSearchQuery){ .text = "ward fever" });
  g_assert_true(two->total_is_estimate);
  g_assert_cmpuint(two->total, ==, CD_SEARCH_TEXT_COUNT_LIMIT);
  g_assert_true(two->facets_partial);
  /* under the limit, exact */
  {
    g_autoptr(CdSearchResult) once = search_ex(archive, &(CdSearchQuery){ .text = "once" });
    g_assert_false(once->total_is_estimate);
    g_assert_cmpuint(once->total, ==, 10);
  }

  listed = search_ex(archive, &(CdSearchQuery){ .doc_types = radiology });
  g_assert_cmpuint(listed->total, ==, 10);
  g_assert_cmpuint(listed->hits->len, ==, 10);
}

/* The query plan SQLite chooses for each statement a search runs: the
 * "detail" lines of EXPLAIN QUERY PLAN, one text per statement; each must
 * hold @expect, and each that reads pages @expect_also. */
static void
assert_plan(CdArchive *archive, const CdSearchQuery *query, const gchar *expect_plan, const gchar *expect,
            const gchar *expect_also)
{
  g_autoptr(GError) error = NULL;
  const gchar *plan = NULL;
  g_autoptr(GPtrArray) statements = cd_archive_search_statements(archive, query, &plan, &error);

  g_assert_no_error(error);
  g_assert_cmpstr(plan, ==, expect_plan);
  g_assert_cmpuint(statements->len, >=, 2);
  for (guint i = 0; i < statements->len; i++) {
    g_autofree gchar *sql = g_strdup_printf("EXPLAIN QUERY PLAN %s", (gchar *) g_ptr_array_index(statements, i));
    g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(archive, sql, &error);
    g_autoptr(GString) out = g_string_new(NULL);
    g_assert_no_error(error);
    while (sqlite3_step(stmt) == SQLITE_ROW)
      g_string_append_printf(out, "%s\n", sqlite3_column_text(stmt, 3));
    g_test_message("%s\n%s", (gchar *) g_ptr_array_index(statements, i), out->str);
    g_assert_nonnull(strstr(out->str, expect));
    /* a statement of documents alone (how many pages the filters leave,
     * from the documents index, schema 13) reads no page */
    if (strstr(g_ptr_array_index(statements, i), " pages") != NULL)
      g_assert_nonnull(strstr(out->str, expect_also));
    else
      g_assert_null(strstr(out->str, " pages"));
    /* never a full scan of documents or pages */
    g_assert_null(strstr(out->str, "SCAN d\n"));
    g_assert_null(strstr(out->str, "SCAN p\n"));
  }
}

static void
test_archive_search_plans(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  gint64 batch = begin_batch(archive);
  const gchar *radiology[] = { "radiology-report", NULL };

  bulk_insert(archive, batch, 4000, 5, "00100100", "progress-note", "2001-01-01", "fever ward round");
  bulk_insert(archive, batch, 10, 2, "00900900", "radiology-report", "2005-06-01", "fever film");
  g_assert_true(cd_archive_exec(archive, "ANALYZE", NULL));

  /* a chart against a word on every page: each document's range of page
   * ids (from the documents index, schema 13) checked against the words
   * in one FTS5 lookup, the rowid bounds handed to FTS5 ("><") */
  assert_plan(archive, &(CdSearchQuery){ .text = "fever", .mrn = "00900900" }, "filter-first",
              "COVERING INDEX documents_patient (patient_mrn=?)", "SCAN f VIRTUAL TABLE INDEX 0:M1><");
  assert_plan(archive,
              &(CdSearchQuery){ .text = "fever", .doc_types = radiology, .date_from = "2005-01-01",
                                .date_to = "2005-12-31" },
              "filter-first", "COVERING INDEX documents_type (type=? AND date>? AND date<?)",
              "SCAN f VIRTUAL TABLE INDEX 0:M1><");
  assert_plan(archive, &(CdSearchQuery){ .text = "fever", .date_from = "2005-06-01", .date_to = "2005-06-30" },
              "filter-first", "COVERING INDEX documents_date (date>? AND date<?)", "SCAN f VIRTUAL TABLE INDEX 0:M1><");
  /* a word on many pages, a type and a day: the index's matches walked
   * against the set of the day's pages */
  assert_plan(archive,
              &(CdSearchQuery){ .text = "fever", .doc_type = "progress-note", .date_from = "2001-01-05",
                                .date_to = "2001-01-05" },
              "filter-set", "INDEX documents_type (type=? AND date>? AND date<?)", "INDEX pages_document (document_id=?)");
  /* rare words: the index's matches, each page's document from the index
   * of page ids and documents, never from the page row (migration 10) */
  assert_plan(archive, &(CdSearchQuery){ .text = "film", .date_from = "2005-01-01", .date_to = "2005-12-31" },
              "text-first",
              "SCAN f VIRTUAL TABLE INDEX", "SEARCH p USING COVERING INDEX pages_document_of (id=?)\n"
              "SEARCH d USING INTEGER PRIMARY KEY (rowid=?)");

  /* no words: 4,010 documents counted exactly (from the documents index
   * alone; up to CD_SEARCH_TEXT_COUNT_LIMIT), the newest first */
  {
    g_autoptr(CdSearchResult) all = search_ex(archive, &(CdSearchQuery){ .date_from = "2001-01-01" });
    g_assert_cmpuint(all->total, ==, 4010);
    g_assert_false(all->total_is_estimate);
    g_assert_false(all->facets_partial);
    g_assert_cmpuint(all->hits->len, ==, 20);
    g_assert_cmpstr(((CdSearchHit *) g_ptr_array_index(all->hits, 0))->date, ==, "2005-06-10");
  }
  /* no words: the page of documents is chosen from the documents index
   * (the co-routine), and only its documents' first pages are read after
   * it; the count reads the documents index alone */
  assert_plan(archive, &(CdSearchQuery){ .mrn = "00900900" }, "filters", "INDEX documents_patient (patient_mrn=?)",
              "CO-ROUTINE s");
  assert_plan(archive, &(CdSearchQuery){ .doc_types = radiology, .date_from = "2005-01-01" }, "filters",
              "INDEX documents_type (type=? AND date>?)", "CO-ROUTINE s");
}

/* The documents in review are read from their own partial index (schema
 * 13), with dates, a type or words, and nothing else is: the hits and the
 * totals are those of a plain count; `filed` still finds the rest. */
static void
test_archive_search_review_status(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(CdSearchResult) review = NULL;
  g_autoptr(CdSearchResult) review_words = NULL;
  g_autoptr(CdSearchResult) filed = NULL;
  gint64 batch = begin_batch(archive);
  const gchar *notes[] = { "progress-note", NULL };

  bulk_insert(archive, batch, 3000, 2, "00100100", "progress-note", "2001-01-01", "fever ward round");
  bulk_insert(archive, batch, 1000, 2, "00200200", "progress-note", "2002-01-01", "fever ward round");
  /* every 50th document in review: 60 of 2001, 20 of 2002 */
  g_assert_true(cd_archive_exec(archive, "UPDATE documents SET status = 'review' WHERE id % 50 = 0; ANALYZE", NULL));

  assert_plan(archive, &(CdSearchQuery){ .status = "review", .date_from = "2001-01-01", .date_to = "2001-12-31" },
              "filters", "INDEX documents_review (date>? AND date<?)", "CO-ROUTINE s");
  assert_plan(archive, &(CdSearchQuery){ .status = "review", .doc_types = notes, .date_from = "2002-01-01" },
              "filters", "INDEX documents_review (date>?)", "CO-ROUTINE s");
  assert_plan(archive, &(CdSearchQuery){ .text = "fever", .status = "review" }, "filter-set",
              "INDEX documents_review", "INDEX pages_document (document_id=?)");

  review = search_ex(archive, &(CdSearchQuery){ .status = "review", .date_from = "2001-01-01", .date_to = "2001-12-31" });
  g_assert_cmpuint(review->total, ==, 60);
  g_assert_false(review->total_is_estimate);
  for (guint i = 0; i < review->hits->len; i++)
    g_assert_cmpstr(((CdSearchHit *) g_ptr_array_index(review->hits, i))->status, ==, "review");
  review_words = search_ex(archive, &(CdSearchQuery){ .text = "fever", .status = "review" });
  g_assert_cmpuint(review_words->total, ==, 80 * 2);
  filed = search_ex(archive, &(CdSearchQuery){ .status = "filed", .date_from = "2002-01-01" });
  g_assert_cmpuint(filed->total, ==, 1000 - 20);
}

/* A word on many pages and filters leaving many (neither side narrow): the
 * filters' pages go into a set first and the index's matches are checked
 * against it (text-set); the hits, all of them paged through, are the
 * pages a plain join finds, best first, and the total is exact. */
static void
test_archive_search_text_set(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) want = g_hash_table_new(g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_int64_hash, g_int64_equal);
  g_autoptr(GArray) want_ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GPtrArray) statements = NULL;
  g_autoptr(CdSearchResult) first = NULL;
  gint64 batch = begin_batch(archive);
  const gchar *lab[] = { "laboratory-report", NULL };
  CdSearchQuery query = { .text = "monitor", .doc_types = lab, .date_from = "2003-01-01", .date_to = "2003-12-31" };
  const gchar *plan = NULL;
  gdouble last = G_MAXDOUBLE;
  gboolean moved_looked_up = FALSE;
  guint got = 0;

  /* in the filters, with the word: the answer */
  bulk_insert(archive, batch, 500, 5, "00100100", "laboratory-report", "2003-03-01", "monitor ward heart");
  /* the word, outside the filters: another year, another type */
  bulk_insert(archive, batch, 600, 5, "00100100", "laboratory-report", "2010-01-01", "monitor ward");
  bulk_insert(archive, batch, 600, 5, "00200200", "progress-note", "2003-03-01", "monitor ward");
  /* in the filters, without the word */
  bulk_insert(archive, batch, 800, 5, "00300300", "laboratory-report", "2003-06-01", "quiet ward");
  /* in the filters and the word once more, with more of it: ranked first */
  bulk_insert(archive, batch, 1, 2, "00300300", "laboratory-report", "2003-12-01", "monitor monitor monitor film");
  /* a page with the word moved from outside the filters into the last
   * document of 2003 (as a review merge does): that document's pages are
   * no longer consecutive ids, and the set still holds exactly its pages */
  g_assert_true(cd_archive_exec(archive,
                                "UPDATE pages SET document_id = (SELECT max(id) FROM documents), seq = 2 "
                                "WHERE id = (SELECT min(p.id) FROM pages p JOIN documents d ON d.id = p.document_id "
                                "WHERE d.date >= '2010-01-01')",
                                NULL));
  g_assert_true(cd_archive_exec(archive, "ANALYZE", NULL));

  {
    g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(
        archive,
        "SELECT p.id FROM pages_fts f JOIN pages p ON p.id = f.rowid JOIN documents d ON d.id = p.document_id "
        "WHERE pages_fts MATCH 'monitor' AND d.type = 'laboratory-report' AND d.date BETWEEN '2003-01-01' AND "
        "'2003-12-31'",
        &error);
    g_assert_no_error(error);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      gint64 id = sqlite3_column_int64(stmt, 0);
      g_array_append_val(want_ids, id);
    }
    for (guint i = 0; i < want_ids->len; i++)
      g_hash_table_add(want, &g_array_index(want_ids, gint64, i));
  }
  g_assert_cmpuint(g_hash_table_size(want), ==, 2503);

  statements = cd_archive_search_statements(archive, &query, &plan, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(plan, ==, "text-set");
  for (guint i = 0; i < statements->len; i++) {
    const gchar *sql = g_ptr_array_index(statements, i);
    g_autofree gchar *explain = g_strdup_printf("EXPLAIN QUERY PLAN %s", sql);
    g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(archive, explain, &error);
    g_autoptr(GString) out = g_string_new(NULL);
    g_assert_no_error(error);
    while (sqlite3_step(stmt) == SQLITE_ROW)
      g_string_append_printf(out, "%s\n", sqlite3_column_text(stmt, 3));
    g_test_message("%s\n%s", sql, out->str);
    if (strstr(sql, "WHERE p.document_id = ?1") != NULL) {
      /* the pages of a document whose page ids are not consecutive */
      g_assert_nonnull(strstr(out->str, "SEARCH p USING COVERING INDEX pages_document (document_id=?)"));
      moved_looked_up = TRUE;
    } else if (strstr(sql, "WHERE p.id = ?1") != NULL) {
      /* a match's document read for the facets: the keyed set has them */
      g_assert_not_reached();
    } else if (strstr(sql, "pages_fts MATCH") != NULL && strstr(sql, ":pageset") == NULL) {
      /* the filters' share of a sample of the matches, each checked */
      g_assert_nonnull(strstr(out->str, "COVERING INDEX pages_document_of (id=?)"));
      g_assert_nonnull(strstr(out->str, "SEARCH d USING INTEGER PRIMARY KEY (rowid=?)"));
    } else if (strstr(sql, "pages_fts MATCH") != NULL) {
      /* the words drive, checked against the set */
      g_assert_nonnull(strstr(out->str, "VIRTUAL TABLE INDEX"));
      /* no filter of its own: those are in the set */
      g_assert_null(strstr(sql, ":types"));
    } else {
      /* the filters' documents and pages, from the indexes alone */
      g_assert_nonnull(strstr(out->str, "COVERING INDEX documents_type (type=? AND date>? AND date<?)"));
      if (strstr(sql, "pages p") != NULL)
        g_assert_nonnull(strstr(out->str, "COVERING INDEX pages_document (document_id=?)"));
    }
    g_assert_null(strstr(out->str, "SCAN d\n"));
    g_assert_null(strstr(out->str, "SCAN p\n"));
  }

  g_assert_true(moved_looked_up);

  first = search_ex(archive, &query);
  g_assert_cmpstr(first->plan, ==, "text-set");
  /* more answers than the recent window holds, and all of them ranked */
  g_assert_cmpuint(2503, >, CD_SEARCH_RANK_WINDOW);
  g_assert_cmpint(first->order, ==, CD_SEARCH_ORDER_RANK);
  g_assert_false(first->total_is_estimate);
  g_assert_cmpuint(first->total, ==, 2503);
  g_assert_cmpuint(first->hits->len, ==, 20);
  g_assert_cmpstr(((CdSearchHit *) g_ptr_array_index(first->hits, 0))->date, ==, "2003-12-01");
  /* the facets of every answer, from the set built a type and year at a
   * time (the moved page counts under the document it is in now), where
   * those of the 1,000 most recent were read */
  g_assert_false(first->facets_partial);
  g_assert_cmpuint(first->type_facets->len, ==, 1);
  g_assert_cmpuint(facet(first->type_facets, "laboratory-report"), ==, 2503);
  g_assert_cmpuint(first->year_facets->len, ==, 1);
  g_assert_cmpuint(facet(first->year_facets, "2003"), ==, 2503);
  /* over two years: each match under its own */
  {
    CdSearchQuery two = query;
    g_autoptr(CdSearchResult) both = NULL;
    two.date_from = "2002-06-01";
    two.date_to = "2010-01-15";
    both = search_ex(archive, &two);
    g_assert_cmpstr(both->plan, ==, "text-set");
    g_assert_false(both->facets_partial);
    g_assert_cmpuint(facet(both->year_facets, "2003"), ==, 2503);
    /* as a plain count has them (the moved page is in 2003 now) */
    g_assert_cmpuint(facet(both->year_facets, "2010"), ==,
                     archive_int(archive, "SELECT count(*) FROM pages_fts f JOIN pages p ON p.id = f.rowid JOIN "
                                          "documents d ON d.id = p.document_id WHERE pages_fts MATCH 'monitor' AND "
                                          "d.type = 'laboratory-report' AND d.date BETWEEN '2010-01-01' AND "
                                          "'2010-01-15'"));
    g_assert_cmpuint(facet(both->year_facets, "2010"), >, 0);
    g_assert_cmpuint(both->total, ==, 2503 + facet(both->year_facets, "2010"));
  }
  for (guint offset = 0; offset < 2503; offset += 100) {
    g_autoptr(CdSearchResult) page = NULL;
    query.offset = offset;
    query.limit = 100;
    page = search_ex(archive, &query);
    g_assert_cmpuint(page->total, ==, 2503);
    for (guint i = 0; i < page->hits->len; i++) {
      CdSearchHit *hit = g_ptr_array_index(page->hits, i);
      g_assert_false(g_hash_table_contains(seen, &hit->page_id));
      gpointer key = NULL;
      g_assert_true(g_hash_table_lookup_extended(want, &hit->page_id, &key, NULL));
      g_hash_table_add(seen, key); /* the answer's key: the hit dies with its page */
      g_assert_cmpstr(hit->doc_type, ==, "laboratory-report");
      g_assert_cmpfloat(hit->score, <=, last);
      g_assert_cmpfloat(hit->score, >, 0); /* ranked, none "newest first" */
      last = hit->score;
      got++;
    }
  }
  g_assert_cmpuint(got, ==, 2503);
  g_assert_cmpuint(g_hash_table_size(seen), ==, 2503);

  /* the same filters with a rare word: its few matches checked one by one */
  {
    g_autoptr(CdSearchResult) rare = search_ex(
        archive,
        &(CdSearchQuery){ .text = "film", .doc_types = lab, .date_from = "2003-01-01", .date_to = "2003-12-31" });
    g_assert_cmpstr(rare->plan, ==, "text-first");
    g_assert_cmpuint(rare->total, ==, 2);
  }
}

/* The MRNs of cd_archive_find_patients_json()'s answer, in order, joined by spaces. */
static gchar *
found_mrns(CdArchive *archive, const gchar *q, guint limit)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = cd_archive_find_patients_json(archive, q, limit, &error);
  g_autoptr(GString) out = g_string_new(NULL);
  JsonArray *array;

  g_assert_no_error(error);
  array = json_node_get_array(node);
  for (guint i = 0; i < json_array_get_length(array); i++)
    g_string_append_printf(out, "%s%s", i > 0 ? " " : "",
                           json_object_get_string_member(json_array_get_object_element(array, i), "mrn"));
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Finding patients by MRN (any case), date of birth, the start of a family
 * or given name, "FAMILY, Given" and "Given Family", with LIKE's wildcards
 * taken literally; every candidate from an index, never a scan of the
 * patient index (the web workstation asks on every short search). */
static void
test_archive_find_patients(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(GError) error = NULL;
  struct {
    const gchar *q;
    const gchar *mrns;
  } cases[] = {
    { "ab12c", "AB12C" },
    { "1970-05-06", "00000003" },
    { "smi", "00000010 00000009 00000002 00000001" }, /* BERG Smilla (a given name), SMIRNOV, the SMITHs */
    { "Smith, Jo", "00000001" },             /* family SMITH, given John */
    { "john smi", "00000001" },              /* given John, family SMITH */
    { "Mary Ann Le", "00000004" },           /* a given name with a space */
    { "smilla", "00000010" },                /* a given name alone */
    { "100%", "00000005" },                  /* a literal %, not a wildcard */
    { "o_b", "" },                           /* a literal _: O'BRIEN is not O_B */
    { "O'B", "00000006" },
    { "nobody", "" },
  };

  g_assert_true(
      cd_archive_exec(archive,
                      "INSERT INTO patients (mrn, family, given, dob, updated) VALUES "
                      "('00000001', 'SMITH', 'John', '1950-01-01', 'x'),"
                      "('00000002', 'SMITH', 'Jane', '1951-01-01', 'x'),"
                      "('00000003', 'DOE', 'Jim', '1970-05-06', 'x'),"
                      "('00000004', 'LEE', 'Mary Ann', '1980-02-02', 'x'),"
                      "('00000005', '100%SURE', 'Test', '1990-03-03', 'x'),"
                      "('00000006', 'O''BRIEN', 'Pat', '1960-04-04', 'x'),"
                      "('00000007', '1000', 'Other', '1961-04-04', 'x'),"
                      "('00000009', 'SMIRNOV', 'Ivan', '1962-04-04', 'x'),"
                      "('00000010', 'BERG', 'Smilla', '1963-04-04', 'x'),"
                      "('AB12C', 'ZED', 'Zoe', '1964-04-04', 'x');"
                      "WITH RECURSIVE c (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 4999) "
                      "INSERT INTO patients (mrn, family, given, dob, updated) "
                      "SELECT printf('9%07d', i), printf('FAM%d', i), printf('GIV%d', i), '2000-01-01', 'x' FROM c;"
                      "ANALYZE;",
                      &error));
  g_assert_no_error(error);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *got = found_mrns(archive, cases[i].q, 10);
    g_test_message("%s → %s", cases[i].q, got);
    g_assert_cmpstr(got, ==, cases[i].mrns);
  }
  /* in name order, and the limit holds */
  {
    g_autofree gchar *fam = found_mrns(archive, "fam1", 5);
    g_assert_cmpstr(fam, ==, "90000001 90000010 90000100 90001000 90001001");
  }
  /* the plan: indexes only, and documents counted for the answer only;
   * with a comma ("FAMILY, Given") and without (one word: no family
   * prefix, ?5 NULL, which a LIKE cannot take to the index: it scanned
   * every patient, 35 ms at 250,000) */
  for (guint with_comma = 0; with_comma < 2; with_comma++) {
    g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(archive, "EXPLAIN QUERY PLAN " CD_FIND_PATIENTS_SQL, &error);
    g_autoptr(GString) plan = g_string_new(NULL);
    g_assert_no_error(error);
    sqlite3_bind_text(stmt, 1, with_comma ? "Smith, Jo" : "Smith", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, with_comma ? "Smith, Jo%" : "Smith%", -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 4, 10);
    if (with_comma)
      sqlite3_bind_text(stmt, 5, "Smith%", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 6, with_comma ? "Smith,%" : "Smith%", -1, SQLITE_STATIC);
    while (sqlite3_step(stmt) == SQLITE_ROW)
      g_string_append_printf(plan, "%s\n", sqlite3_column_text(stmt, 3));
    g_test_message("%s", plan->str);
    g_assert_nonnull(strstr(plan->str, "patients_mrn_nocase"));
    g_assert_nonnull(strstr(plan->str, "patients_dob"));
    g_assert_nonnull(strstr(plan->str, "patients_family"));
    g_assert_nonnull(strstr(plan->str, "patients_given"));
    /* the only scan is of the answer, at most the limit's rows */
    if (with_comma)
      g_assert_null(strstr(plan->str, "SCAN patients"));
    g_assert_null(strstr(plan->str, "SCAN p\n"));
    g_assert_nonnull(strstr(plan->str, "SEARCH p USING INTEGER PRIMARY KEY"));
  }
  {
    /* without a comma the family-prefix branch is planned as a scan (a
     * LIKE with a NULL pattern cannot use the index) but must not run:
     * no step of a full scan for one word against 5,011 patients */
    g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(archive, CD_FIND_PATIENTS_SQL, &error);
    guint rows = 0;
    g_assert_no_error(error);
    sqlite3_bind_text(stmt, 1, "Smith", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, "Smith%", -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 4, 10);
    sqlite3_bind_text(stmt, 6, "Smith%", -1, SQLITE_STATIC);
    while (sqlite3_step(stmt) == SQLITE_ROW)
      rows++;
    g_assert_cmpuint(rows, >, 0);
    g_assert_cmpint(sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_FULLSCAN_STEP, FALSE), <, 100);
  }
}

static gint64
count_audit(CdArchive *archive, const gchar *action)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = cd_archive_prepare(archive, "SELECT count(*) FROM audit WHERE action = ?", &error);
  gint64 n;

  g_assert_no_error(error);
  sqlite3_bind_text(stmt, 1, action, -1, SQLITE_STATIC);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return n;
}

/* Every search, view and image view appends one chained entry naming the
 * actor and, when given, the purpose; an export two (start and end). */
static void
test_archive_audit_every_read(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(JsonNode) doc = NULL;
  g_autoptr(JsonNode) page = NULL;
  g_autoptr(GBytes) image = NULL;
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
  g_autoptr(GError) error = NULL;
  g_autofree gchar *last_actor = NULL;
  g_autofree gchar *last_detail = NULL;
  gint64 before, bad = 0;

  fill_for_search(archive);
  before = archive_int(archive, "SELECT count(*) FROM audit");
  g_assert_cmpint(count_audit(archive, "ingest-start"), ==, 1);

  cd_archive_set_actor(archive, "hjones");
  cd_archive_set_purpose(archive, "ROI-2026-0117");
  hits = search(archive, &(CdSearchQuery){ .text = "chest" });
  g_assert_cmpint(count_audit(archive, "search"), ==, 1);
  doc = cd_archive_get_document(archive, hit(hits, 0)->document_id, &error);
  g_assert_no_error(error);
  page = cd_archive_get_page(archive, hit(hits, 0)->page_id, &error);
  g_assert_no_error(error);
  g_assert_cmpint(count_audit(archive, "view"), ==, 2);
  image = cd_archive_get_page_image(archive, hit(hits, 0)->page_id, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(count_audit(archive, "view-image"), ==, 1);
  g_assert_true(cd_archive_export_jsonl(archive, out, FALSE, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(count_audit(archive, "export-start"), ==, 1);
  g_assert_cmpint(count_audit(archive, "export"), ==, 1);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM audit"), ==, before + 6);

  /* a view of something that does not exist is an error, not an entry */
  g_assert_null(cd_archive_get_document(archive, 999, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM audit"), ==, before + 6);

  {
    sqlite3 *db = cd_archive_get_db(archive);
    last_actor = raw_text(db, "SELECT actor FROM audit ORDER BY id DESC LIMIT 1");
    last_detail = raw_text(db, "SELECT detail FROM audit ORDER BY id DESC LIMIT 1");
  }
  g_assert_cmpstr(last_actor, ==, "hjones");
  g_assert_nonnull(strstr(last_detail, "ROI-2026-0117"));
  g_assert_true(cd_archive_verify_audit(archive, &bad, &error));
  g_assert_no_error(error);
  g_assert_cmpint(bad, ==, 0);
}

/* Appends a few audit entries so that a middle one can be tampered with. */
static void
fill_audit(CdArchive *archive)
{
  g_autoptr(GError) error = NULL;

  for (gint i = 0; i < 5; i++) {
    g_autofree gchar *object = g_strdup_printf("document:%d", i + 1);
    g_assert_true(cd_archive_audit(archive, "view", object, NULL, &error));
    g_assert_no_error(error);
  }
}

/* With the triggers in place the log refuses UPDATE and DELETE from any
 * connection. */
static void
test_archive_audit_append_only(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(sqlite3) raw = NULL;
  g_autoptr(GError) error = NULL;

  fill_audit(archive);
  raw = raw_open(f->path);
  g_assert_cmpint(sqlite3_exec(raw, "UPDATE audit SET actor = 'mallory' WHERE id = 3", NULL, NULL, NULL), ==,
                  SQLITE_CONSTRAINT);
  g_assert_cmpstr(sqlite3_errmsg(raw), ==, "the audit log is append-only");
  g_assert_cmpint(sqlite3_exec(raw, "DELETE FROM audit WHERE id = 3", NULL, NULL, NULL), ==, SQLITE_CONSTRAINT);
  g_assert_cmpstr(sqlite3_errmsg(raw), ==, "the audit log is append-only");
  /* through the library's own connection too */
  g_assert_false(cd_archive_exec(archive, "DELETE FROM audit", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, "append-only"));
  g_clear_error(&error);
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM audit"), ==, 5);
  g_assert_true(cd_archive_verify_audit(archive, NULL, &error));
  g_assert_no_error(error);
}

/* An entry edited behind Chartdesk's back (triggers dropped in a raw
 * connection) is detected, and the first bad entry is named. */
static void
test_archive_audit_edited(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(sqlite3) raw = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  gint64 bad = 0;
  gboolean found = FALSE;

  fill_audit(archive);
  raw = raw_open(f->path);
  raw_exec(raw, "DROP TRIGGER audit_no_update; UPDATE audit SET object = 'document:99' WHERE id = 3");

  g_assert_false(cd_archive_verify_audit(archive, &bad, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_assert_cmpint(bad, ==, 3);
  g_assert_nonnull(strstr(error->message, "audit log entry 3 does not match"));
  g_assert_nonnull(strstr(error->message, f->path));

  /* chartdesk check reports it too */
  g_assert_true(cd_archive_check(archive, &problems, NULL));
  for (guint i = 0; i < problems->len; i++)
    found |= strstr(g_ptr_array_index(problems, i), "audit log entry 3") != NULL;
  g_assert_true(found);
}

typedef struct {
  GPtrArray *steps;       /* "NAME TOTAL" of each step as it began */
  GArray *last;           /* the last CdCheckProgressInfo seen of each step */
  guint n_steps;
} CheckSeen;

static void
record_progress(const CdCheckProgressInfo *info, gpointer user_data)
{
  CheckSeen *seen = user_data;

  g_assert_nonnull(info->step);
  g_assert_cmpuint(info->n_steps, >, 0);
  g_assert_cmpuint(info->index, <, info->n_steps);
  if (info->total > 0)
    g_assert_cmpuint(info->done, <=, info->total);
  if (info->unit == CD_CHECK_UNIT_NONE)
    g_assert_cmpuint(info->done, ==, 0);
  seen->n_steps = info->n_steps;
  if (seen->steps->len == 0 || info->index != seen->last->len - 1) {
    /* the next step, never one skipped or one seen again, begun at 0 */
    g_assert_cmpuint(info->index, ==, seen->steps->len);
    g_assert_cmpuint(info->done, ==, 0);
    g_ptr_array_add(seen->steps, g_strdup_printf("%s %" G_GUINT64_FORMAT, info->step, info->total));
    g_array_append_val(seen->last, *info);
    return;
  }
  /* within a step: it only goes forward */
  g_assert_cmpstr(info->step, ==, g_array_index(seen->last, CdCheckProgressInfo, info->index).step);
  g_assert_cmpuint(info->done, >=, g_array_index(seen->last, CdCheckProgressInfo, info->index).done);
  g_array_index(seen->last, CdCheckProgressInfo, info->index) = *info;
}

/* chartdesk check says what it is doing: each step once, in order, none
 * skipped, each begun at 0 and only going forward; the database pass counted
 * in bytes of the file (read, and no more than its size), the images by
 * their count; a clean archive checks clean. */
static void
test_archive_check_progress(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(GPtrArray) steps = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) last = g_array_new(FALSE, TRUE, sizeof(CdCheckProgressInfo));
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *images = NULL;
  g_autofree gchar *pages = NULL;
  CheckSeen seen = { steps, last, 0 };
  gint64 n_images, file_size;

  fill_for_search(archive);
  n_images = archive_int(archive, "SELECT count(*) FROM images");
  file_size = archive_int(archive, "PRAGMA page_count") * archive_int(archive, "PRAGMA page_size");
  images = g_strdup_printf("image checksums %" G_GINT64_FORMAT, n_images);
  pages = g_strdup_printf("database pages %" G_GINT64_FORMAT, file_size);
  g_assert_true(cd_archive_check_with_progress(archive, record_progress, &seen, &problems, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(problems->len, ==, 0);
  g_assert_cmpuint(steps->len, ==, 8);
  g_assert_cmpuint(seen.n_steps, ==, 8);
  g_assert_cmpstr(g_ptr_array_index(steps, 0), ==, pages);
  g_assert_cmpstr(g_ptr_array_index(steps, 1), ==, "database indexes 0");
  g_assert_cmpstr(g_ptr_array_index(steps, 2), ==, images);
  g_assert_cmpstr(g_ptr_array_index(steps, 3), ==, "orphans and missing images 0");
  g_assert_cmpstr(g_ptr_array_index(steps, 4), ==, "documents and pages 0");
  g_assert_cmpstr(g_ptr_array_index(steps, 5), ==, "destroyed documents 0");
  g_assert_cmpstr(g_ptr_array_index(steps, 6), ==, "full-text index 0");
  g_assert_cmpstr(g_ptr_array_index(steps, 7), ==, "audit chain 0");
  /* the b-tree walk read the file's pages, each at most once */
  g_assert_cmpint(g_array_index(last, CdCheckProgressInfo, 0).unit, ==, CD_CHECK_UNIT_BYTES);
  g_assert_cmpuint(g_array_index(last, CdCheckProgressInfo, 0).done, >, 0);
  g_assert_cmpuint(g_array_index(last, CdCheckProgressInfo, 0).done, <=, file_size);
  /* every image checksummed; FTS5's check counted in bytes (here its
   * index is still in the page cache of the database pass: none read) */
  g_assert_cmpuint(g_array_index(last, CdCheckProgressInfo, 2).done, ==, n_images);
  g_assert_cmpint(g_array_index(last, CdCheckProgressInfo, 6).unit, ==, CD_CHECK_UNIT_BYTES);

  /* the same steps without a listener find the same */
  g_clear_pointer(&problems, g_ptr_array_unref);
  g_assert_true(cd_archive_check(archive, &problems, &error));
  g_assert_cmpuint(problems->len, ==, 0);
}

static gboolean
problems_mention(GPtrArray *problems, const gchar *what)
{
  for (guint i = 0; i < problems->len; i++)
    if (strstr(g_ptr_array_index(problems, i), what) != NULL)
      return TRUE;
  return FALSE;
}

/* A corrupted index is reported by check: an index whose entries no longer
 * follow its rows (SQLite's second pass, rows against indexes), and an
 * index page scribbled over in the file (its first pass, the b-tree walk);
 * both named "database: ...", and the check still runs its other steps. */
static void
test_archive_check_corrupt(Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *index = NULL;
  g_autofree gchar *index_sql = NULL;
  g_autofree gchar *sql = NULL;
  gint64 root, page_size;

  {
    g_autoptr(CdArchive) archive = open_writer(f->path);
    fill_for_search(archive);
  }
  {
    /* the index on the pages' documents now claims to index their seq:
     * its entries are those of document_id, so rows are missing from it */
    g_autoptr(sqlite3) raw = raw_open(f->path);
    index = raw_text(raw, "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'pages' "
                          "AND sql LIKE '%(document_id%' ORDER BY name LIMIT 1");
    index_sql = raw_text(raw, "SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'pages' "
                              "AND sql LIKE '%(document_id%' ORDER BY name LIMIT 1");
    sql = g_strdup_printf("PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE INDEX %s ON "
                          "pages(seq, id)' WHERE name = '%s'; PRAGMA writable_schema = OFF",
                          index, index);
    raw_exec(raw, sql);
  }
  {
    g_autoptr(CdArchive) archive = open_writer(f->path);
    g_assert_true(cd_archive_check(archive, &problems, &error));
    g_assert_no_error(error);
    g_assert_true(problems_mention(problems, "database: "));
    g_assert_true(problems_mention(problems, index));
  }
  g_clear_pointer(&problems, g_ptr_array_unref);
  {
    g_autoptr(sqlite3) raw = raw_open(f->path);
    g_autofree gchar *restore = g_strdup_printf("PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = "
                                                "'%s' WHERE name = '%s'; PRAGMA writable_schema = OFF",
                                                index_sql, index);
    raw_exec(raw, restore);
    g_free(sql);
    sql = g_strdup_printf("SELECT rootpage FROM sqlite_schema WHERE name = '%s'", index);
    root = raw_int(raw, sql);
    page_size = raw_int(raw, "PRAGMA page_size");
    /* everything in the main file, nothing left in the WAL */
    raw_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE)");
  }
  {
    g_autoptr(CdArchive) archive = open_writer(f->path);
    g_assert_true(cd_archive_check(archive, &problems, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(problems->len, ==, 0);
  }
  g_clear_pointer(&problems, g_ptr_array_unref);
  {
    /* the b-tree page header of the index's root: a page type that is none */
    FILE *file = fopen(f->path, "r+b");
    static const guint8 garbage[8] = { 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };
    g_assert_nonnull(file);
    g_assert_cmpint(fseek(file, (root - 1) * page_size, SEEK_SET), ==, 0);
    g_assert_cmpuint(fwrite(garbage, 1, sizeof(garbage), file), ==, sizeof(garbage));
    g_assert_cmpint(fclose(file), ==, 0);
  }
  {
    g_autoptr(CdArchive) archive = open_writer(f->path);
    g_assert_true(cd_archive_check(archive, &problems, &error));
    g_assert_no_error(error);
    g_assert_true(problems_mention(problems, "database: "));
  }
}

/* An entry deleted from the middle of the log breaks the chain at the entry
 * after it. A hash recomputed by the forger is caught the same way. */
static void
test_archive_audit_deleted(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(sqlite3) raw = NULL;
  g_autoptr(GError) error = NULL;
  gint64 bad = 0;

  fill_audit(archive);
  raw = raw_open(f->path);
  raw_exec(raw, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id = 2");

  g_assert_false(cd_archive_verify_audit(archive, &bad, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_assert_cmpint(bad, ==, 3);
  g_clear_error(&error);

  /* rewriting entry 3's prev_hash to skip the gap changes its own hash */
  raw_exec(raw, "DROP TRIGGER audit_no_update; "
                "UPDATE audit SET prev_hash = (SELECT hash FROM audit WHERE id = 1) WHERE id = 3");
  bad = 0;
  g_assert_false(cd_archive_verify_audit(archive, &bad, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_assert_cmpint(bad, ==, 3);
}

/* One writer at a time: a second writer is refused with CD_ERROR_BUSY and
 * a message naming the file, while readers still open and search; the lock
 * goes with the first writer. */
static void
test_archive_writer_lock(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) first = open_writer(f->path);
  g_autoptr(CdArchive) second = NULL;
  g_autoptr(CdArchive) reader = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GError) error = NULL;

  fill_for_search(first);
  second = cd_archive_open(f->path, CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_null(second);
  g_assert_error(error, CD_ERROR, CD_ERROR_BUSY);
  g_assert_nonnull(strstr(error->message, f->path));
  g_assert_nonnull(strstr(error->message, "another process is writing to this archive"));
  g_clear_error(&error);

  reader = cd_archive_open(f->path, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  hits = search(reader, &(CdSearchQuery){ .text = "chest" });
  g_assert_cmpuint(hits->len, ==, 3);
  /* a reader cannot write batches */
  g_assert_cmpint(cd_archive_begin_batch(reader, "test", NULL, &error), ==, 0);
  g_assert_error(error, CD_ERROR, CD_ERROR_INTERNAL);
  g_clear_error(&error);

  g_clear_object(&first);
  second = cd_archive_open(f->path, CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_no_error(error);
  g_assert_nonnull(second);
}

/* The archive runs in WAL mode with synchronous=FULL and foreign keys on,
 * on the library's connection. */
static void
test_archive_durability(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(CdArchive) reader = NULL;
  g_autoptr(sqlite3) raw = NULL;
  g_autofree gchar *mode = NULL;
  g_autofree gchar *persisted = NULL;
  g_autoptr(GError) error = NULL;

  mode = raw_text(cd_archive_get_db(archive), "PRAGMA journal_mode");
  g_assert_cmpstr(mode, ==, "wal");
  g_assert_cmpint(archive_int(archive, "PRAGMA synchronous"), ==, 2); /* FULL */
  g_assert_cmpint(archive_int(archive, "PRAGMA foreign_keys"), ==, 1);

  /* readers get the same settings */
  reader = cd_archive_open(f->path, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  g_assert_cmpint(archive_int(reader, "PRAGMA synchronous"), ==, 2);

  /* WAL is a property of the file, seen by any connection */
  raw = raw_open(f->path);
  persisted = raw_text(raw, "PRAGMA journal_mode");
  g_assert_cmpstr(persisted, ==, "wal");
}

/* A long-lived connection (cd_archive_keep_pages()) reads the file
 * through one map of the whole of it (cd-archive-vfs.c): it reads what
 * another connection commits after it opened, the pages that file grew
 * by included, and a file shrunk under it by VACUUM, every page right
 * and none past the end. A connection that searches once does not map. */
static void
test_archive_mapped_reads(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) writer = open_writer(f->path);
  g_autoptr(CdArchive) reader = NULL;
  g_autoptr(CdArchive) once = NULL;
  g_autoptr(GError) error = NULL;
  gint64 batch = begin_batch(writer);
  guint64 before;
  GStatBuf grown, shrunk;
  sqlite3 *db;

  bulk_insert(writer, batch, 200, 5, "MAP1", "progress-note", "2001-01-01", "alpha words on a page");
  /* pages in the WAL are read from it: these from the file */
  g_assert_true(cd_archive_exec(writer, "PRAGMA wal_checkpoint(TRUNCATE)", &error));
  g_assert_no_error(error);
  reader = cd_archive_open(f->path, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  cd_archive_keep_pages(reader);
  db = cd_archive_get_db(reader);
  g_assert_cmpint(archive_int(reader, "SELECT count(*) FROM pages_fts WHERE pages_fts MATCH 'alpha'"), ==, 1000);
  before = cd_archive_vfs_mapped_reads(db);
  g_assert_cmpuint(before, >, 0);

  /* another connection commits: the file grows past what was mapped */
  bulk_insert(writer, batch, 2000, 5, "MAP2", "progress-note", "2002-01-01", "beta words on another page");
  g_assert_true(cd_archive_exec(writer, "PRAGMA wal_checkpoint(TRUNCATE)", &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_stat(f->path, &grown), ==, 0);
  g_assert_cmpint(archive_int(reader, "SELECT count(*) FROM pages_fts WHERE pages_fts MATCH 'beta'"), ==, 10000);
  g_assert_cmpint(archive_int(reader, "SELECT count(*) FROM pages WHERE text LIKE 'beta%'"), ==, 10000);
  g_assert_cmpuint(cd_archive_vfs_mapped_reads(db), >, before);

  /* the file shrinks under the reader */
  g_assert_true(cd_archive_exec(writer,
                                "DELETE FROM pages WHERE text LIKE 'beta%'; DELETE FROM documents WHERE "
                                "patient_mrn = 'MAP2'; VACUUM; PRAGMA wal_checkpoint(TRUNCATE)",
                                &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_stat(f->path, &shrunk), ==, 0);
  g_assert_cmpint(shrunk.st_size, <, grown.st_size / 2);
  g_assert_cmpint(archive_int(reader, "SELECT count(*) FROM pages_fts WHERE pages_fts MATCH 'beta'"), ==, 0);
  g_assert_cmpint(archive_int(reader, "SELECT count(*) FROM pages"), ==, 1000);
  g_assert_cmpint(archive_int(reader, "SELECT sum(length(text)) FROM pages"), ==,
                  archive_int(writer, "SELECT sum(length(text)) FROM pages"));
  g_assert_cmpint(archive_int(reader, "SELECT count(*) FROM pragma_quick_check WHERE quick_check != 'ok'"), ==, 0);

  /* a connection for one search reads as SQLite does by itself */
  once = cd_archive_open(f->path, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  g_assert_cmpint(archive_int(once, "SELECT count(*) FROM pages_fts WHERE pages_fts MATCH 'alpha'"), ==, 1000);
  g_assert_cmpuint(cd_archive_vfs_mapped_reads(cd_archive_get_db(once)), ==, 0);
}

/* Paths that cannot hold an archive are refused with the path in the
 * message: a missing archive, a parent that is a file, a folder given as the
 * archive, a folder that cannot be written to, a read-only archive file. */
static void
test_archive_bad_paths(Fixture *f, gconstpointer data)
{
  g_autofree gchar *file = g_build_filename(f->dir, "plain-file", NULL);
  g_autofree gchar *under_file = g_build_filename(file, "x.archive", NULL);
  g_autofree gchar *locked_dir = g_build_filename(f->dir, "locked", NULL);
  g_autofree gchar *in_locked = g_build_filename(locked_dir, "x.archive", NULL);
  g_autofree gchar *proc_path = g_strdup_printf("/proc/self/chartdesk-%d.archive", (gint) getpid());
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *contents = NULL;
  gsize len = 0;

  archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_null(archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, f->path));
  g_clear_error(&error);

  g_assert_true(g_file_set_contents(file, "x", -1, NULL));
  archive = cd_archive_open(under_file, CD_ARCHIVE_FLAG_CREATE | CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_null(archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, under_file));
  g_assert_nonnull(strstr(error->message, "is not a folder"));
  g_clear_error(&error);

  archive = cd_archive_open(f->dir, CD_ARCHIVE_FLAG_CREATE | CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_null(archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, "is a folder"));
  g_clear_error(&error);

  /* a small file named by mistake is refused, not replaced by an archive
   * (SQLite alone would take a file this short for an empty database) */
  archive = cd_archive_open(file, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_null(archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, file));
  g_assert_nonnull(strstr(error->message, "not a Chartdesk archive"));
  g_clear_error(&error);
  g_assert_true(g_file_get_contents(file, &contents, &len, NULL));
  g_assert_cmpmem(contents, len, "x", 1);

  /* a place nobody can create files in, root included */
  archive = cd_archive_open(proc_path, CD_ARCHIVE_FLAG_CREATE | CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_null(archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, proc_path));
  g_clear_error(&error);

  /* permissions do not stop root, so these only run as a user */
  if (geteuid() == 0) {
    g_test_message("running as root: folder and file permissions not checked");
    return;
  }
  g_assert_cmpint(g_mkdir(locked_dir, 0555), ==, 0);
  archive = cd_archive_open(in_locked, CD_ARCHIVE_FLAG_CREATE | CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_null(archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, in_locked));
  g_assert_nonnull(strstr(error->message, "is not writable"));
  g_clear_error(&error);

  archive = open_writer(f->path);
  g_clear_object(&archive);
  g_assert_cmpint(g_chmod(f->path, 0444), ==, 0);
  archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_null(archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, f->path));
  g_assert_nonnull(strstr(error->message, "not writable"));
}

/* ---------------------------------------------------------------- the keyed audit chain */

#include "cd-archive-schema.h"

#define CD_TEST_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* What verification says: the first bad entry (0 for none) and the message. */
static gint64
verify_bad(CdArchive *archive, gchar **message)
{
  g_autoptr(GError) error = NULL;
  gint64 bad = -1;

  if (cd_archive_verify_audit(archive, &bad, &error)) {
    g_assert_cmpint(bad, ==, 0);
    if (message != NULL)
      *message = NULL;
    return 0;
  }
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_test_message("verify: %s", error->message);
  if (message != NULL)
    *message = g_strdup(error->message);
  return bad;
}

/* The chain value an attacker without the key can compute: plain SHA-256 of
 * the fields, as the log was chained before schema 4. */
static gchar *
plain_hash(const gchar *prev, const gchar *ts, const gchar *actor, const gchar *action, const gchar *object,
           const gchar *detail)
{
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  const gchar *parts[] = { prev, ts, actor, action, object, detail };

  for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
    g_checksum_update(sum, (const guchar *) parts[i], strlen(parts[i]));
    g_checksum_update(sum, (const guchar *) "\n", 1);
  }
  return g_strdup(g_checksum_get_string(sum));
}

/* Rewrites every entry of the log consistently as an attacker with SQL but
 * without the key would: plain SHA-256 chain (@scheme 0), or the same chain
 * marked keyed (@scheme 1), with entry @edit_id's actor changed. */
static void
rewrite_plain(sqlite3 *raw, gint scheme, gint64 edit_id)
{
  sqlite3_stmt *rows = NULL;
  g_autoptr(GPtrArray) sql = g_ptr_array_new_with_free_func(g_free);
  g_autofree gchar *prev = g_strdup("0000000000000000000000000000000000000000000000000000000000000000");

  raw_exec(raw, "DROP TRIGGER IF EXISTS audit_no_update");
  g_assert_cmpint(
      sqlite3_prepare_v2(raw, "SELECT id, ts, actor, action, object, detail FROM audit ORDER BY id", -1, &rows, NULL),
      ==, SQLITE_OK);
  while (sqlite3_step(rows) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(rows, 0);
    const gchar *actor = id == edit_id ? "mallory" : (const gchar *) sqlite3_column_text(rows, 2);
    g_autofree gchar *hash = plain_hash(
        prev, (const gchar *) sqlite3_column_text(rows, 1), actor, (const gchar *) sqlite3_column_text(rows, 3),
        (const gchar *) sqlite3_column_text(rows, 4), (const gchar *) sqlite3_column_text(rows, 5));
    g_ptr_array_add(sql, sqlite3_mprintf("UPDATE audit SET actor = %Q, prev_hash = %Q, hash = %Q, scheme = %d "
                                         "WHERE id = %lld",
                                         actor, prev, hash, scheme, (long long) id));
    g_free(prev);
    prev = g_steal_pointer(&hash);
  }
  sqlite3_finalize(rows);
  for (guint i = 0; i < sql->len; i++) {
    raw_exec(raw, g_ptr_array_index(sql, i));
    sqlite3_free(g_ptr_array_index(sql, i));
    sql->pdata[i] = NULL;
  }
}

static GBytes *
other_key(void)
{
  return g_bytes_new_static("another key, not the archive's", 30);
}

/* Entries are keyed: scheme 1, the documented HMAC (not the plain SHA-256
 * of the fields), the archive's random id in meta, the key's fingerprint recorded;
 * an anchor beside the archive, mode 0600, names the newest entry; a batch's
 * journal row holds an anchor too. */
static void
test_archive_audit_keyed(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autofree gchar *anchor_path = g_strdup_printf("%s.audit-anchor", f->path);
  g_autofree gchar *anchor = NULL;
  g_autofree gchar *hash = NULL;
  g_autofree gchar *plain = NULL;
  g_autofree gchar *ts = NULL;
  g_autofree gchar *archive_id = NULL;
  g_autofree gchar *admin = NULL;
  g_autoptr(JsonNode) report = NULL;
  g_autoptr(GError) error = NULL;
  sqlite3 *db;
  GStatBuf st;
  gint64 batch;

  fill_audit(archive);
  db = cd_archive_get_db(archive);
  g_assert_cmpint(raw_int(db, "SELECT count(*) FROM audit WHERE scheme = 1"), ==, 5);
  archive_id = raw_text(db, "SELECT value FROM meta WHERE key = 'archive-id'");
  g_assert_cmpuint(strlen(archive_id), ==, 32);
  g_assert_cmpint(raw_int(db, "SELECT count(*) FROM meta WHERE key = 'audit-key-id'"), ==, 1);
  g_assert_cmpint(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'audit_no_replace'"), ==, 1);
  hash = raw_text(db, "SELECT hash FROM audit WHERE id = 1");
  ts = raw_text(db, "SELECT ts FROM audit WHERE id = 1");
  /* an archive opened directly records the administrator's mode (issue 14) */
  admin = g_strdup_printf("admin-mode:%s", g_get_user_name());
  plain = plain_hash("0000000000000000000000000000000000000000000000000000000000000000", ts, admin, "view",
                     "document:1", "{}");
  g_assert_cmpstr(hash, !=, plain);
  /* and it is the documented MAC, computed here from the key file alone */
  {
    g_autofree gchar *key = NULL;
    gsize key_len = 0;
    g_autoptr(GHmac) hmac = NULL;
    const gchar *fields[] = { "chartdesk-audit-1", archive_id, "1", CD_TEST_GENESIS, ts, admin, "view",
                              "document:1",        "{}" };
    g_assert_true(g_file_get_contents(g_getenv("CHARTDESK_AUDIT_KEY"), &key, &key_len, NULL));
    hmac = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *) key, key_len);
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
      guint64 be = GUINT64_TO_BE((guint64) strlen(fields[i]));
      g_hmac_update(hmac, (const guchar *) &be, sizeof(be));
      g_hmac_update(hmac, (const guchar *) fields[i], strlen(fields[i]));
    }
    g_assert_cmpstr(hash, ==, g_hmac_get_string(hmac));
  }

  g_assert_true(g_file_get_contents(anchor_path, &anchor, NULL, NULL));
  g_assert_nonnull(strstr(anchor, "\"entry\":5"));
  g_assert_nonnull(strstr(anchor, archive_id));
  g_assert_cmpint(g_stat(anchor_path, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0600);

  batch = begin_batch(archive);
  g_assert_cmpint(raw_int(db, "SELECT count(*) FROM batches WHERE audit_anchor LIKE '%\"entry\":6%'"), ==, 1);
  g_assert_cmpint(batch, >, 0);

  g_assert_cmpint(verify_bad(archive, NULL), ==, 0);
  report = cd_archive_verify_audit_report(archive, &error);
  g_assert_no_error(error);
  g_assert_true(json_object_get_boolean_member(json_node_get_object(report), "intact"));
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(report), "keyed_entries"), ==, 6);
}

/* An entry edited and its hash recomputed (plain SHA-256, as the old chain
 * allowed) is detected at that entry: the forger has no key. */
static void
test_archive_audit_edit_rehashed(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(sqlite3) raw = NULL;
  g_autofree gchar *message = NULL;

  fill_audit(archive);
  raw = raw_open(f->path);
  rewrite_plain(raw, 1, 3);
  g_assert_cmpint(verify_bad(archive, &message), ==, 1);
  g_assert_nonnull(strstr(message, "audit log entry 1 does not match"));
}

/* INSERT OR REPLACE of an old entry is refused by a trigger; with the
 * trigger dropped, the replaced entry is detected and named. */
static void
test_archive_audit_replace(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(sqlite3) raw = NULL;
  const gchar *replace =
      "INSERT OR REPLACE INTO audit (id, ts, actor, action, object, detail, prev_hash, hash, scheme) "
      "SELECT id, ts, 'mallory', action, object, detail, prev_hash, hash, scheme FROM audit "
      "WHERE id = 3";

  fill_audit(archive);
  raw = raw_open(f->path);
  g_assert_cmpint(sqlite3_exec(raw, replace, NULL, NULL, NULL), ==, SQLITE_CONSTRAINT);
  g_assert_cmpstr(sqlite3_errmsg(raw), ==, "the audit log is append-only");
  g_assert_cmpint(verify_bad(archive, NULL), ==, 0);

  raw_exec(raw, "DROP TRIGGER audit_no_replace");
  raw_exec(raw, replace);
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM audit WHERE actor = 'mallory' AND id = 3"), ==, 1);
  g_assert_cmpint(verify_bad(archive, NULL), ==, 3);
}

/* Dropping the newest entries leaves a chain that verifies by itself; the
 * anchor names the entry that is gone, and the first missing id is reported. */
static void
test_archive_audit_truncated(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(sqlite3) raw = NULL;
  g_autofree gchar *message = NULL;

  fill_audit(archive);
  raw = raw_open(f->path);
  raw_exec(raw, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id >= 4");
  g_assert_cmpint(verify_bad(archive, &message), ==, 4);
  g_assert_nonnull(strstr(message, "the log ends at entry 3 but the anchor names entry 5"));
  g_assert_nonnull(strstr(message, f->path));
}

/* The whole log rewritten consistently without the key: as a plain SHA-256
 * chain (entries "from before schema 4") it verifies by itself, but the
 * anchor's entry is not what it recorded; marked keyed, the first entry's
 * MAC fails. */
static void
test_archive_audit_rewritten(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(sqlite3) raw = NULL;
  g_autofree gchar *message = NULL;

  fill_audit(archive);
  raw = raw_open(f->path);
  rewrite_plain(raw, 0, 2);
  g_assert_cmpint(verify_bad(archive, &message), ==, 5);
  g_assert_nonnull(strstr(message, "entry 5 is not the entry the anchor recorded"));
  g_clear_pointer(&message, g_free);

  rewrite_plain(raw, 1, 2);
  g_assert_cmpint(verify_bad(archive, &message), ==, 1);
  g_assert_nonnull(strstr(message, "keyed chain"));
}

/* The log rewritten with another key (the key-id record deleted so that
 * the other key may write): verification with the archive's key reports
 * the other key, at the first entry; with the key id put back, the MAC
 * of the first entry fails. */
static void
test_archive_audit_wrong_key(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(CdArchive) forger = NULL;
  g_autoptr(sqlite3) raw = NULL;
  g_autoptr(GBytes) key = other_key();
  g_autoptr(GError) error = NULL;
  g_autofree gchar *message = NULL;
  g_autofree gchar *key_id = NULL;
  g_autofree gchar *restore = NULL;

  fill_audit(archive);
  raw = raw_open(f->path);
  key_id = raw_text(raw, "SELECT value FROM meta WHERE key = 'audit-key-id'");
  raw_exec(raw, "DROP TRIGGER audit_no_delete; DELETE FROM audit; DELETE FROM meta WHERE key = 'audit-key-id'");
  forger = cd_archive_open(f->path, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_archive_set_audit_key(forger, key, &error));
  fill_audit(forger);
  g_clear_object(&forger);

  g_assert_cmpint(verify_bad(archive, &message), ==, 1);
  g_assert_nonnull(strstr(message, "sealed with another key"));
  g_clear_pointer(&message, g_free);

  restore = g_strdup_printf("UPDATE meta SET value = '%s' WHERE key = 'audit-key-id'", key_id);
  raw_exec(raw, restore);
  g_assert_cmpint(verify_bad(archive, &message), ==, 1);
  g_assert_nonnull(strstr(message, "audit log entry 1 does not match the keyed chain"));
}

/* A process holding another key is refused before it writes: the log is
 * reported as sealed with another key, never re-keyed, and the read that
 * needed the entry fails. */
static void
test_archive_audit_other_key_refused(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(CdArchive) other = NULL;
  g_autoptr(GBytes) key = other_key();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) hits = NULL;

  fill_for_search(archive);
  other = cd_archive_open(f->path, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_archive_set_audit_key(other, key, &error));
  g_assert_false(cd_archive_audit(other, "view", "document:1", NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_assert_nonnull(strstr(error->message, "sealed with another key"));
  g_clear_error(&error);
  hits = cd_archive_search(other, &(CdSearchQuery){ .text = "chest", .limit = 10 }, &error);
  g_assert_null(hits);
  g_assert_error(error, CD_ERROR, CD_ERROR_ARCHIVE);
  g_clear_error(&error);
  g_assert_cmpint(verify_bad(archive, NULL), ==, 0);
  /* verification with the other key says so too */
  g_assert_cmpint(verify_bad(other, NULL), ==, 1);
}

/* A deleted anchor is reported; the next entry records that it was missing
 * and writes a new one, so the loss stays on the record. */
static void
test_archive_audit_anchor_lost(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autofree gchar *anchor_path = g_strdup_printf("%s.audit-anchor", f->path);
  g_autofree gchar *message = NULL;
  g_autoptr(JsonNode) report = NULL;
  g_autoptr(GError) error = NULL;

  fill_audit(archive);
  g_assert_cmpint(g_unlink(anchor_path), ==, 0);
  g_assert_cmpint(verify_bad(archive, &message), ==, 0);
  g_assert_nonnull(message);
  g_assert_nonnull(strstr(message, "the audit anchor is missing"));

  g_assert_true(cd_archive_audit(archive, "view", "document:9", NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM audit WHERE action = 'audit-anchor-missing'"), ==, 1);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM audit"), ==, 7);
  g_assert_true(g_file_test(anchor_path, G_FILE_TEST_EXISTS));
  report = cd_archive_verify_audit_report(archive, &error);
  g_assert_no_error(error);
  g_assert_true(json_object_get_boolean_member(json_node_get_object(report), "intact"));
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(json_node_get_object(report), "warnings")), ==,
                   1);
}

/* An anchor copied from another archive sealed with the same key is not
 * taken as this archive's, and replacing it is on the record. */
static void
test_archive_audit_foreign_anchor(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(CdArchive) second = NULL;
  g_autofree gchar *second_path = g_build_filename(f->dir, "second.archive", NULL);
  g_autofree gchar *second_anchor = g_strdup_printf("%s.audit-anchor", second_path);
  g_autofree gchar *anchor_path = g_strdup_printf("%s.audit-anchor", f->path);
  g_autofree gchar *contents = NULL;
  g_autofree gchar *message = NULL;
  g_autofree gchar *detail = NULL;
  g_autoptr(GError) error = NULL;

  fill_audit(archive);
  second = open_writer(second_path);
  fill_audit(second);
  g_assert_true(g_file_get_contents(second_anchor, &contents, NULL, NULL));
  g_assert_true(g_file_set_contents(anchor_path, contents, -1, NULL));
  g_assert_cmpint(verify_bad(archive, &message), ==, 0);
  g_assert_nonnull(message);
  g_assert_nonnull(strstr(message, "not written for this archive"));

  /* the next entry records that the anchor could not vouch for the log
   * before it writes a new one */
  g_assert_true(cd_archive_audit(archive, "view", "document:9", NULL, &error));
  g_assert_no_error(error);
  detail = raw_text(cd_archive_get_db(archive), "SELECT detail FROM audit WHERE action = 'audit-anchor-missing'");
  g_assert_nonnull(strstr(detail, "not written for this archive with this key"));
  g_assert_cmpint(verify_bad(archive, NULL), ==, 0);
}

/* An archive of schema 9 with pages migrates to schema 10: the index of
 * page ids and their documents is built over the pages already there, and a
 * filtered search whose words drive finds the same pages through it. */
static void
test_archive_migrated_page_documents(Fixture *f, gconstpointer data)
{
  g_autoptr(sqlite3) raw = raw_open(f->path);
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdSearchResult) found = NULL;
  g_autoptr(GPtrArray) statements = NULL;
  const gchar *plan = NULL;

  for (guint v = 0; v < 9; v++)
    raw_exec(raw, cd_archive_migrations[v]);
  raw_exec(raw, "PRAGMA user_version = 9; PRAGMA application_id = 1128809556;"
                "INSERT INTO batches (id, started, actor, workflow, inputs) VALUES (1, 'x', 'old', 'w', '[]');"
                "INSERT INTO documents (id, batch_id, patient_mrn, status, type, date, created) VALUES "
                "(1, 1, '00000001', 'filed', 'radiology-report', '2005-06-01', 'x'),"
                "(2, 1, '00000001', 'filed', 'progress-note', '2005-06-01', 'x'),"
                "(3, 1, '00000002', 'filed', 'radiology-report', '1999-06-01', 'x');"
                "INSERT INTO pages (id, batch_id, document_id, seq, kind, source_path, source_page, text, created) "
                "VALUES (1, 1, 1, 0, 'page', 'a.tif', 0, 'chest film clear', 'x'),"
                "(2, 1, 1, 1, 'page', 'a.tif', 1, 'film two', 'x'),"
                "(3, 1, 2, 0, 'page', 'b.tif', 0, 'film noted in passing', 'x'),"
                "(4, 1, 3, 0, 'page', 'c.tif', 0, 'old film', 'x');");
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM sqlite_schema WHERE name = 'pages_document_of'"), ==, 0);
  g_clear_pointer(&raw, sqlite3_close);

  archive = open_writer(f->path);
  g_assert_cmpint(cd_archive_get_schema_version(archive), ==, CD_ARCHIVE_SCHEMA_VERSION);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM sqlite_schema WHERE name = 'pages_document_of'"), ==, 1);
  /* the index holds every page, with its document */
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM pages INDEXED BY pages_document_of WHERE id > 0"), ==, 4);
  g_assert_cmpint(archive_int(archive, "SELECT sum(document_id) FROM pages INDEXED BY pages_document_of WHERE id > 0"),
                  ==, 1 + 1 + 2 + 3);

  {
    const gchar *radiology[] = { "radiology-report", NULL };
    CdSearchQuery query = { .text = "film", .doc_types = radiology, .date_from = "2005-01-01" };
    found = cd_archive_search_ex(archive, &query, &error);
    g_assert_no_error(error);
    g_assert_false(found->total_is_estimate);
    g_assert_cmpuint(found->total, ==, 2);
    g_assert_cmpuint(found->hits->len, ==, 2);
    for (guint i = 0; i < found->hits->len; i++)
      g_assert_cmpint(((CdSearchHit *) g_ptr_array_index(found->hits, i))->document_id, ==, 1);
    statements = cd_archive_search_statements(archive, &query, &plan, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(plan, ==, "text-first");
    g_assert_nonnull(strstr(g_ptr_array_index(statements, 0), "INDEXED BY pages_document_of"));
  }
}

/* An archive of schema 11 migrates to schema 12: a change of a page's
 * content (text, word boxes, image, …) by any writer, here a raw
 * connection, numbers its document as changed (or minus the page's id for
 * a page set aside); a write that changes nothing, or another column,
 * does not; the moves counted since schema 11 still are. */
static void
test_archive_migrated_page_changes(Fixture *f, gconstpointer data)
{
  g_autoptr(sqlite3) raw = raw_open(f->path);
  g_autoptr(CdArchive) archive = NULL;

  for (guint v = 0; v < 11; v++)
    raw_exec(raw, cd_archive_migrations[v]);
  raw_exec(raw, "PRAGMA user_version = 11; PRAGMA application_id = 1128809556;"
                "INSERT INTO batches (id, started, actor, workflow, inputs) VALUES (1, 'x', 'old', 'w', '[]');"
                "INSERT INTO documents (id, batch_id, patient_mrn, status, type, date, created) VALUES "
                "(1, 1, '00000001', 'filed', 'radiology-report', '2005-06-01', 'x'),"
                "(2, 1, '00000002', 'filed', 'progress-note', '2005-06-01', 'x');"
                "INSERT INTO pages (id, batch_id, document_id, seq, kind, source_path, source_page, text, created) "
                "VALUES (1, 1, 1, 0, 'page', 'a.tif', 0, 'chest film clear', 'x'),"
                "(2, 1, 2, 0, 'page', 'b.tif', 0, 'film two', 'x'),"
                "(3, 1, NULL, NULL, 'blank', 'a.tif', 1, NULL, 'x');");
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM sqlite_schema WHERE name = 'document_changes_page_content'"), ==,
                  0);
  g_clear_pointer(&raw, sqlite3_close);

  archive = open_writer(f->path);
  g_assert_cmpint(cd_archive_get_schema_version(archive), ==, CD_ARCHIVE_SCHEMA_VERSION);
  g_clear_object(&archive);

  raw = raw_open(f->path);
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM document_changes"), ==, 0);
  raw_exec(raw, "UPDATE pages SET text = 'film two' WHERE id = 2;" /* the same text */
                "UPDATE pages SET reason = 'looked at' WHERE id = 1;"); /* not content */
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM document_changes"), ==, 0);
  raw_exec(raw, "UPDATE pages SET text = NULL, words = NULL WHERE id = 1");
  g_assert_cmpint(raw_int(raw, "SELECT seq FROM document_changes WHERE document_id = 1"), ==, 1);
  raw_exec(raw, "UPDATE pages SET text = 'late text' WHERE id = 3");
  g_assert_cmpint(raw_int(raw, "SELECT seq FROM document_changes WHERE document_id = -3"), ==, 2);
  raw_exec(raw, "UPDATE pages SET rotation = 90 WHERE id = 2");
  g_assert_cmpint(raw_int(raw, "SELECT seq FROM document_changes WHERE document_id = 2"), ==, 3);
  raw_exec(raw, "UPDATE pages SET image_sha256 = NULL, confidence = 50 WHERE id = 1");
  g_assert_cmpint(raw_int(raw, "SELECT seq FROM document_changes WHERE document_id = 1"), ==, 4);
  /* a move is counted as before (schema 11) */
  raw_exec(raw, "UPDATE pages SET document_id = 1, seq = 1 WHERE id = 2");
  g_assert_cmpint(raw_int(raw, "SELECT seq FROM document_changes WHERE document_id = 2"), ==, 5);
  g_assert_cmpint(raw_int(raw, "SELECT seq FROM document_changes WHERE document_id = 1"), ==, 6);
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM document_changes"), ==, 3);
}

/* A page set's ranges, set a word at a time, against one bit at a time:
 * the same members and count, across word edges, overlaps and growth. */
static void
test_archive_page_set_ranges(void)
{
  g_autoptr(CdPageSet) ranges = cd_page_set_new(100);
  g_autoptr(CdPageSet) bits = cd_page_set_new(100);
  g_autoptr(GRand) rand = g_rand_new_with_seed(13);

  for (guint i = 0; i < 400; i++) {
    gint64 first = g_rand_int_range(rand, -3, 5000);
    gint64 last = first + g_rand_int_range(rand, -2, i % 7 == 0 ? 300 : 70);
    cd_page_set_add_range(ranges, first, last);
    for (gint64 id = first; id <= last; id++)
      cd_page_set_add(bits, id);
    g_assert_cmpint(cd_page_set_count(ranges), ==, cd_page_set_count(bits));
  }
  for (gint64 id = -2; id < 5400; id++)
    g_assert_cmpint(cd_page_set_contains(ranges, id), ==, cd_page_set_contains(bits, id));
  cd_page_set_add_range(ranges, 64, 127); /* exactly one word */
  g_assert_true(cd_page_set_contains(ranges, 64) && cd_page_set_contains(ranges, 127));
}

/* The index merged a step at a time (chartdeskd's night work): several
 * steps of one page each end at one segment, a search finds the same
 * pages before and after, and only the writer may merge. */
static void
test_archive_merge_search_index_steps(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(CdArchive) reader = NULL;
  g_autoptr(GError) error = NULL;
  gint64 batch = begin_batch(archive);
  CdSearchQuery query = { .text = "lantern", .limit = 100 };
  guint before, steps = 0;
  gboolean more = TRUE;

  /* eight bulk transactions: eight segments of a few leaf pages each */
  for (guint i = 0; i < 8; i++) {
    g_autofree gchar *text = g_strdup_printf("lantern %u harbour tide%u keel%u mast%u rope%u", i, i, i * 7, i * 13, i);
    bulk_insert(archive, batch, 60, 5, "00000001", "progress-note", "2005-01-01", text);
  }
  g_assert_cmpint(cd_archive_search_index_segments(archive), >, 1);
  {
    g_autoptr(CdSearchResult) result = cd_archive_search_ex(archive, &query, &error);
    g_assert_no_error(error);
    before = result->total;
  }
  g_assert_cmpuint(before, ==, 8 * 60 * 5);

  reader = cd_archive_open(f->path, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  g_assert_false(cd_archive_merge_search_index_step(reader, 1, &more, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INTERNAL);
  g_clear_error(&error);

  while (more) {
    g_assert_true(cd_archive_merge_search_index_step(archive, 1, &more, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(++steps, <, 10000);
  }
  g_assert_cmpuint(steps, >, 1);
  g_assert_cmpint(cd_archive_search_index_segments(archive), ==, 1);
  {
    g_autoptr(CdSearchResult) result = cd_archive_search_ex(archive, &query, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(result->total, ==, before);
  }
  /* one segment: nothing to do */
  g_assert_true(cd_archive_merge_search_index_step(archive, 1, &more, &error));
  g_assert_false(more);
}

/* Schema 13: each document's range of page ids and its number of pages,
 * filled in by the migration and kept by trigger through inserts, moves
 * and deletes by any writer (here raw connections); keeping them is not a
 * change of the document for delivery, while a real edit still is. */
static void
test_archive_document_page_ranges(Fixture *f, gconstpointer data)
{
  g_autoptr(sqlite3) raw = raw_open(f->path);
  g_autoptr(CdArchive) archive = NULL;

  for (guint v = 0; v < 12; v++)
    raw_exec(raw, cd_archive_migrations[v]);
  raw_exec(raw, "PRAGMA user_version = 12; PRAGMA application_id = 1128809556;"
                "INSERT INTO batches (id, started, actor, workflow, inputs) VALUES (1, 'x', 'old', 'w', '[]');"
                "INSERT INTO documents (id, batch_id, patient_mrn, status, type, date, created) VALUES "
                "(1, 1, '00000001', 'filed', 'radiology-report', '2005-06-01', 'x'),"
                "(2, 1, '00000002', 'filed', 'progress-note', '2005-06-01', 'x'),"
                "(3, 1, '00000002', 'filed', 'progress-note', '2005-06-02', 'x');"
                "INSERT INTO pages (id, batch_id, document_id, seq, kind, source_path, source_page, text, created) "
                "VALUES (1, 1, 1, 0, 'page', 'a.tif', 0, 'one', 'x'), (2, 1, 1, 1, 'page', 'a.tif', 1, 'two', 'x'),"
                "(3, 1, 2, 0, 'page', 'a.tif', 2, 'three', 'x'), (4, 1, NULL, NULL, 'blank', 'a.tif', 3, NULL, 'x'),"
                "(5, 1, 2, 1, 'page', 'a.tif', 4, 'five', 'x');");
  g_clear_pointer(&raw, sqlite3_close);
  archive = open_writer(f->path);
  g_assert_cmpint(cd_archive_get_schema_version(archive), ==, CD_ARCHIVE_SCHEMA_VERSION);
  g_clear_object(&archive);

  raw = raw_open(f->path);
  /* filled in by the migration: document 2's pages are not consecutive */
  g_assert_cmpint(raw_int(raw, "SELECT first_page * 100 + last_page * 10 + n_pages FROM documents WHERE id = 1"), ==,
                  122);
  g_assert_cmpint(raw_int(raw, "SELECT first_page * 100 + last_page * 10 + n_pages FROM documents WHERE id = 2"), ==,
                  352);
  g_assert_cmpint(raw_int(raw, "SELECT n_pages FROM documents WHERE id = 3"), ==, 0);
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM documents WHERE id = 3 AND first_page IS NULL"), ==, 1);
  /* a new document's pages: counted, and no change for delivery */
  raw_exec(raw, "INSERT INTO pages (id, batch_id, document_id, seq, kind, source_path, source_page, text, created) "
                "VALUES (6, 1, 3, 0, 'page', 'b.tif', 0, 'six', 'x'), (7, 1, 3, 1, 'page', 'b.tif', 1, 'seven', 'x')");
  g_assert_cmpint(raw_int(raw, "SELECT first_page * 100 + last_page * 10 + n_pages FROM documents WHERE id = 3"), ==,
                  672);
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM document_changes"), ==, 0);
  /* a page moved: both documents again (a move is a change of both) */
  raw_exec(raw, "UPDATE pages SET document_id = 1, seq = 2 WHERE id = 7");
  g_assert_cmpint(raw_int(raw, "SELECT first_page * 100 + last_page * 10 + n_pages FROM documents WHERE id = 1"), ==,
                  173);
  g_assert_cmpint(raw_int(raw, "SELECT first_page * 100 + last_page * 10 + n_pages FROM documents WHERE id = 3"), ==,
                  661);
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM document_changes"), ==, 2);
  /* a page set aside joins a document; a page deleted leaves it */
  raw_exec(raw, "UPDATE pages SET document_id = 2, seq = 2 WHERE id = 4");
  g_assert_cmpint(raw_int(raw, "SELECT first_page * 100 + last_page * 10 + n_pages FROM documents WHERE id = 2"), ==,
                  353);
  raw_exec(raw, "DELETE FROM pages WHERE id = 6");
  g_assert_cmpint(raw_int(raw, "SELECT n_pages FROM documents WHERE id = 3"), ==, 0);
  g_assert_cmpint(raw_int(raw, "SELECT count(*) FROM documents WHERE id = 3 AND first_page IS NULL"), ==, 1);
  /* an edit of the document itself is still a change */
  raw_exec(raw, "DELETE FROM document_changes; UPDATE documents SET type = 'consultation' WHERE id = 3");
  g_assert_cmpint(raw_int(raw, "SELECT document_id FROM document_changes"), ==, 3);

  /* check finds ranges a writer set around the triggers */
  raw_exec(raw, "UPDATE documents SET n_pages = 9 WHERE id = 1");
  g_clear_pointer(&raw, sqlite3_close);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    g_autofree gchar *joined = NULL;
    archive = open_writer(f->path);
    g_assert_true(cd_archive_check(archive, &problems, &error));
    g_assert_no_error(error);
    g_ptr_array_add(problems, NULL);
    joined = g_strjoinv("\n", (gchar **) problems->pdata);
    g_assert_nonnull(strstr(joined, "1 documents' page ranges (first_page, last_page, n_pages) disagree"));
  }
}

/* An archive of schema 3 with a plain SHA-256 log migrates to schema 4: its
 * old entries verify under the old rule, the first new entry is preceded by
 * an `audit-seal` entry whose MAC covers the last old hash, and an old
 * entry edited afterwards is still detected at its id. */
static void
test_archive_audit_migrated(Fixture *f, gconstpointer data)
{
  g_autoptr(sqlite3) raw = raw_open(f->path);
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *prev = g_strdup("0000000000000000000000000000000000000000000000000000000000000000");
  g_autofree gchar *last_hash = NULL;
  g_autofree gchar *seal = NULL;
  g_autofree gchar *message = NULL;
  g_autoptr(JsonNode) report = NULL;

  for (guint v = 0; v < 3; v++)
    raw_exec(raw, cd_archive_migrations[v]);
  raw_exec(raw, "PRAGMA user_version = 3; PRAGMA application_id = 1128809556");
  for (gint i = 1; i <= 3; i++) {
    g_autofree gchar *ts = g_strdup_printf("2026-11-0%dT10:00:00.000Z", i);
    g_autofree gchar *object = g_strdup_printf("document:%d", i);
    g_autofree gchar *hash = plain_hash(prev, ts, "olduser", "view", object, "{}");
    g_autofree gchar *sql = g_strdup_printf("INSERT INTO audit (ts, actor, action, object, detail, prev_hash, hash) "
                                            "VALUES ('%s', 'olduser', 'view', '%s', '{}', '%s', '%s')",
                                            ts, object, prev, hash);
    raw_exec(raw, sql);
    g_free(prev);
    prev = g_steal_pointer(&hash);
  }
  last_hash = g_strdup(prev);
  g_clear_pointer(&raw, sqlite3_close);

  archive = open_writer(f->path);
  g_assert_cmpint(cd_archive_get_schema_version(archive), ==, CD_ARCHIVE_SCHEMA_VERSION);
  report = cd_archive_verify_audit_report(archive, &error);
  g_assert_no_error(error);
  g_assert_true(json_object_get_boolean_member(json_node_get_object(report), "intact"));
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(report), "legacy_entries"), ==, 3);

  g_assert_true(cd_archive_audit(archive, "view", "document:4", NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(archive_int(archive, "SELECT count(*) FROM audit"), ==, 5);
  seal = raw_text(cd_archive_get_db(archive), "SELECT detail FROM audit WHERE id = 4 AND action = 'audit-seal'");
  g_assert_nonnull(strstr(seal, last_hash));
  g_assert_nonnull(strstr(seal, "\"legacy_chain_intact\":true"));
  g_assert_cmpint(verify_bad(archive, NULL), ==, 0);

  raw = raw_open(f->path);
  raw_exec(raw, "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE id = 2");
  g_assert_cmpint(verify_bad(archive, &message), ==, 2);
  g_assert_nonnull(strstr(message, "audit log entry 2 does not match the hash chain"));
}

/* A key file others may read is refused; a missing default key file is
 * created with mode 0600 and 32 random bytes; an explicit key file that does
 * not exist is an error, not a new key. */
static void
test_archive_audit_key_file(Fixture *f, gconstpointer data)
{
  g_autofree gchar *key_path = g_build_filename(f->dir, "sub", "audit.key", NULL);
  g_autofree gchar *loose = g_build_filename(f->dir, "loose.key", NULL);
  g_autoptr(GBytes) key = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = open_writer(f->path);
  GStatBuf st;

  key = cd_audit_key_load(key_path, FALSE, &error);
  g_assert_null(key);
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(cd_archive_set_audit_key_file(archive, key_path, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_clear_error(&error);

  key = cd_audit_key_load(key_path, TRUE, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_bytes_get_size(key), ==, 32);
  g_assert_cmpint(g_stat(key_path, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0600);
  again = cd_audit_key_load(key_path, TRUE, &error);
  g_assert_no_error(error);
  g_assert_true(g_bytes_equal(key, again));

  g_assert_true(g_file_set_contents(loose, "0123456789abcdef0123", -1, NULL));
  g_assert_cmpint(g_chmod(loose, 0644), ==, 0);
  g_clear_pointer(&again, g_bytes_unref);
  again = cd_audit_key_load(loose, FALSE, &error);
  g_assert_null(again);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "mode 0644"));
}

/* An old copy of the anchor put back after the newest entries were dropped
 * hides nothing from the batch journal's anchor, which names a later entry;
 * a queued batch's row gets an anchor too. */
static void
test_archive_audit_journal_anchor(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(sqlite3) raw = NULL;
  g_autofree gchar *anchor_path = g_strdup_printf("%s.audit-anchor", f->path);
  g_autofree gchar *saved = NULL;
  g_autofree gchar *message = NULL;

  fill_audit(archive);
  g_assert_true(g_file_get_contents(anchor_path, &saved, NULL, NULL));
  begin_batch(archive);
  fill_audit(archive);
  g_assert_cmpint(verify_bad(archive, NULL), ==, 0);

  raw = raw_open(f->path);
  raw_exec(raw, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id > 5");
  g_assert_true(g_file_set_contents(anchor_path, saved, -1, NULL));
  g_assert_cmpint(verify_bad(archive, &message), ==, 6);
  g_assert_nonnull(strstr(message, "batch 1's journal names entry 6"));

  /* a queued batch (the service's journal) is anchored as well */
  {
    g_autoptr(GError) error = NULL;
    const gchar *inputs[] = { "box13/", NULL };
    gint64 queued = cd_archive_queue_batch(archive, "test", "/w/test.workflow", NULL, inputs, &error);
    g_autofree gchar *sql = g_strdup_printf(
        "SELECT count(*) FROM batches WHERE id = %" G_GINT64_FORMAT " AND audit_anchor IS NOT NULL", queued);
    g_assert_no_error(error);
    g_assert_cmpint(archive_int(archive, sql), ==, 1);
  }
}

/* ------------------------------------------- connections sharing a file */

static const gchar *self_exe; /* this test binary, run again as another process */

/* The other process: opens the archive as `chartdesk search --no-service`
 * does (a read that audits), counts its pages, closes, and says the count. */
static gint
child_count_pages(const gchar *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = cd_archive_open(path, CD_ARCHIVE_FLAG_NONE, &error);
  g_autoptr(GPtrArray) hits = NULL;

  if (archive == NULL) {
    g_printerr("%s\n", error->message);
    return 1;
  }
  hits = cd_archive_search(archive, &(CdSearchQuery){ .text = "kept", .limit = 100 }, &error);
  if (hits == NULL) {
    g_printerr("%s\n", error->message);
    return 1;
  }
  g_print("%" G_GINT64_FORMAT "\n", archive_int(archive, "SELECT count(*) FROM pages"));
  return 0;
}

/* The pages another process sees in the archive now. */
static guint
pages_seen_elsewhere(const gchar *path)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *out = NULL;

  proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, self_exe, "--count-pages", path, NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &out, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_successful(proc));
  return (guint) g_ascii_strtoull(out, NULL, 10);
}

static void
commit_one(CdArchive *archive, gint64 batch, const gchar *sha, gint mark)
{
  g_autoptr(CdDocument) doc = make_document("00000001", "lab", "2024-01-02");
  g_autoptr(CdPage) page = make_page(sha, 0, "kept page", mark);

  cd_document_add_page(doc, page);
  commit(archive, batch, doc);
}

/* A reader opened and closed in the writer's own process, then a reader in
 * another process, leave the writer's WAL alone: the writer's next commit
 * lands in the archive's -wal (not an unlinked one) and a fresh process
 * sees every committed page. Before the archive read its header through
 * SQLite, the reader's close() dropped the writer's locks and the other
 * process deleted the WAL. */
static void
test_archive_wal_kept(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) writer = open_writer(f->path);
  g_autofree gchar *wal = g_strdup_printf("%s-wal", f->path);
  g_autoptr(GError) error = NULL;
  gint64 batch = begin_batch(writer);

  commit_one(writer, batch, SHA_A, 1);
  for (guint round = 0; round < 3; round++) {
    g_autoptr(CdArchive) reader = cd_archive_open(f->path, CD_ARCHIVE_FLAG_NONE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(cd_archive_get_schema_version(reader), ==, CD_ARCHIVE_SCHEMA_VERSION);
  }
  g_assert_cmpuint(pages_seen_elsewhere(f->path), ==, 1);
  g_assert_true(g_file_test(wal, G_FILE_TEST_EXISTS));

  commit_one(writer, batch, SHA_B, 2);
  g_assert_true(g_file_test(wal, G_FILE_TEST_EXISTS));
  g_assert_cmpuint(pages_seen_elsewhere(f->path), ==, 2);
  commit_one(writer, batch, SHA_C, 3);
  g_assert_cmpuint(pages_seen_elsewhere(f->path), ==, 3);
  g_clear_object(&writer);
  g_assert_cmpuint(pages_seen_elsewhere(f->path), ==, 3);
}

/* The writer's lock is ARCHIVE.lock, not the database file: a second writer
 * is refused while the first holds it, also when the first took it on an
 * open reader (cd_archive_acquire_writer()), and a released lock can be
 * taken again. */
static void
test_archive_lock_file(Fixture *f, gconstpointer data)
{
  g_autofree gchar *lock = g_strdup_printf("%s.lock", f->path);
  g_autoptr(CdArchive) shared = NULL;
  g_autoptr(CdArchive) other = NULL;
  g_autoptr(GError) error = NULL;

  g_clear_object(&other);
  shared = cd_archive_open(f->path, CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_archive_acquire_writer(shared, &error));
  g_assert_no_error(error);
  g_assert_true(g_file_test(lock, G_FILE_TEST_IS_REGULAR));
  other = cd_archive_open(f->path, CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_null(other);
  g_assert_error(error, CD_ERROR, CD_ERROR_BUSY);
  g_clear_error(&error);
  /* taken twice on one connection is a mistake, said so */
  g_assert_false(cd_archive_acquire_writer(shared, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_BUSY);
  g_clear_error(&error);
  g_assert_cmpint(begin_batch(shared), >, 0);

  cd_archive_release_writer(shared);
  g_assert_cmpint(cd_archive_begin_batch(shared, "test", NULL, &error), ==, 0);
  g_assert_error(error, CD_ERROR, CD_ERROR_INTERNAL);
  g_clear_error(&error);
  other = cd_archive_open(f->path, CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_no_error(error);
  g_assert_nonnull(other);
}

/* An archive, its -wal and its lock file are created mode 0600 even under
 * a umask that lets everyone read. */
static void
test_archive_private_files(Fixture *f, gconstpointer data)
{
  const gchar *suffixes[] = { "", "-wal", "-shm", ".lock" };
  mode_t saved = umask(0);
  g_autoptr(CdArchive) archive = open_writer(f->path);

  umask(saved);
  begin_batch(archive);
  for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
    g_autofree gchar *path = g_strdup_printf("%s%s", f->path, suffixes[i]);
    GStatBuf st;
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    g_test_message("%s: %o", path, (guint) (st.st_mode & 0777));
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
  }
}

/* An actor pushed by one thread is the one its audit entries name, and the
 * actor from before comes back when it is popped. */
static void
test_archive_push_actor(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_writer(f->path);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *actor = NULL;
  g_autofree gchar *detail = NULL;

  cd_archive_set_actor(archive, "batch owner");
  cd_archive_push_actor(archive, "dbus caller", "request 7");
  g_assert_true(cd_archive_audit(archive, "view", "archive", NULL, &error));
  g_assert_no_error(error);
  cd_archive_pop_actor(archive);
  g_assert_cmpstr(cd_archive_get_actor(archive), ==, "batch owner");
  {
    sqlite3_stmt *stmt =
        cd_archive_prepare(archive, "SELECT actor, detail FROM audit ORDER BY id DESC LIMIT 1", &error);
    g_assert_no_error(error);
    g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
    actor = g_strdup((const gchar *) sqlite3_column_text(stmt, 0));
    detail = g_strdup((const gchar *) sqlite3_column_text(stmt, 1));
    sqlite3_finalize(stmt);
  }
  g_assert_cmpstr(actor, ==, "dbus caller");
  g_assert_nonnull(strstr(detail, "request 7"));
}

int
main(int argc, char **argv)
{
  if (argc == 3 && g_strcmp0(argv[1], "--count-pages") == 0)
    return child_count_pages(argv[2]);
  self_exe = argv[0];
  g_test_init(&argc, &argv, NULL);
  g_test_summary("CdArchive on real SQLite files, through its public and private API.");

#define ADD(name, func) g_test_add("/chartdesk/archive/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD("migrate-from-zero", test_archive_migrate_from_zero);
  ADD("newer-version", test_archive_newer_version);
  ADD("migration-fails", test_archive_migration_fails);
  ADD("foreign-database", test_archive_foreign_database);
  ADD("document-atomic", test_archive_document_atomic);
  ADD("document-constraint", test_archive_document_constraint);
  ADD("dedup", test_archive_dedup);
  ADD("search-words", test_archive_search_words);
  ADD("search-syntax", test_archive_search_syntax);
  ADD("search-filters", test_archive_search_filters);
  ADD("search-ex", test_archive_search_ex);
  ADD("search-complete", test_archive_search_complete);
  ADD("search-plans", test_archive_search_plans);
  ADD("search-review-status", test_archive_search_review_status);
  ADD("document-page-ranges", test_archive_document_page_ranges);
  ADD("merge-search-index-steps", test_archive_merge_search_index_steps);
  g_test_add_func("/chartdesk/archive/page-set-ranges", test_archive_page_set_ranges);
  ADD("search-text-set", test_archive_search_text_set);
  ADD("find-patients", test_archive_find_patients);
  ADD("check-progress", test_archive_check_progress);
  ADD("check-corrupt", test_archive_check_corrupt);
  ADD("audit-every-read", test_archive_audit_every_read);
  ADD("audit-append-only", test_archive_audit_append_only);
  ADD("audit-edited", test_archive_audit_edited);
  ADD("audit-deleted", test_archive_audit_deleted);
  ADD("writer-lock", test_archive_writer_lock);
  ADD("durability", test_archive_durability);
  ADD("mapped-reads", test_archive_mapped_reads);
  ADD("bad-paths", test_archive_bad_paths);
  ADD("audit-keyed", test_archive_audit_keyed);
  ADD("audit-edit-rehashed", test_archive_audit_edit_rehashed);
  ADD("audit-replace", test_archive_audit_replace);
  ADD("audit-truncated", test_archive_audit_truncated);
  ADD("audit-rewritten", test_archive_audit_rewritten);
  ADD("audit-wrong-key", test_archive_audit_wrong_key);
  ADD("audit-other-key-refused", test_archive_audit_other_key_refused);
  ADD("audit-anchor-lost", test_archive_audit_anchor_lost);
  ADD("audit-foreign-anchor", test_archive_audit_foreign_anchor);
  ADD("audit-migrated", test_archive_audit_migrated);
  ADD("migrated-page-documents", test_archive_migrated_page_documents);
  ADD("migrated-page-changes", test_archive_migrated_page_changes);
  ADD("audit-key-file", test_archive_audit_key_file);
  ADD("audit-journal-anchor", test_archive_audit_journal_anchor);
  ADD("wal-kept", test_archive_wal_kept);
  ADD("lock-file", test_archive_lock_file);
  ADD("private-files", test_archive_private_files);
  ADD("push-actor", test_archive_push_actor);
#undef ADD
  return g_test_run();
}
