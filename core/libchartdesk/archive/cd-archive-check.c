/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SQLite archive, check: stored images against their hashes, orphans,
 * the full-text index against the pages, and the audit chain.
 */
#include "config.h"

#include <sqlite3.h>

#include "cd-archive-private.h"
#include "cd-util-private.h"

static void cd_archive_check_retention(CdArchive *self, GPtrArray *problems);
typedef struct _CdCheckState CdCheckState;
static gboolean cd_archive_check_steps(CdArchive *self, sqlite3 *check_db, CdCheckState *state, GPtrArray *found,
                                       GError **error);

/* The steps, in the order they run; CdCheckProgressInfo.index is the place
 * in this list. */
enum {
  CD_CHECK_STEP_DB_PAGES,
  CD_CHECK_STEP_DB_INDEXES,
  CD_CHECK_STEP_IMAGES,
  CD_CHECK_STEP_ORPHANS,
  CD_CHECK_STEP_DOCUMENTS,
  CD_CHECK_STEP_DESTROYED,
  CD_CHECK_STEP_FTS,
  CD_CHECK_STEP_AUDIT,
  CD_CHECK_N_STEPS
};

static const struct {
  const gchar *name;
  CdCheckUnit unit;
} cd_check_steps[CD_CHECK_N_STEPS] = {
  { "database pages", CD_CHECK_UNIT_BYTES },     { "database indexes", CD_CHECK_UNIT_BYTES },
  { "image checksums", CD_CHECK_UNIT_ITEMS },    { "orphans and missing images", CD_CHECK_UNIT_NONE },
  { "documents and pages", CD_CHECK_UNIT_NONE }, { "destroyed documents", CD_CHECK_UNIT_NONE },
  { "full-text index", CD_CHECK_UNIT_BYTES },    { "audit chain", CD_CHECK_UNIT_NONE },
};

/* reads of the archive file between two reports of a counted step */
#define CD_CHECK_REPORT_BYTES (1 << 20)
/* SQLite statement steps between two progress handler calls */
#define CD_CHECK_TICK_STEPS 100000

struct _CdCheckState {
  CdCheckProgress func; /* NULL: nobody listens */
  gpointer data;
  CdCheckProgressInfo info;
  guint64 reported; /* info.done at the last report */
};

static void
cd_archive_check_report(CdCheckState *state)
{
  state->reported = state->info.done;
  if (state->func != NULL)
    state->func(&state->info, state->data);
}

/* Ends the step being run (reported with how far it went, when it counts)
 * and begins step @index (reported with @done 0), the one after it. */
static void
cd_archive_check_step(CdCheckState *state, guint index, guint64 total)
{
  g_return_if_fail(index < CD_CHECK_N_STEPS && (state->info.step == NULL || index == state->info.index + 1));
  if (state->info.step != NULL && state->info.unit != CD_CHECK_UNIT_NONE) {
    if (state->info.total > 0)
      state->info.done = MIN(state->info.done, state->info.total);
    cd_archive_check_report(state);
  }
  state->info.step = cd_check_steps[index].name;
  state->info.unit = cd_check_steps[index].unit;
  state->info.index = index;
  state->info.done = 0;
  state->info.total = total;
  cd_archive_check_report(state);
}

/* SQLite calls it every CD_CHECK_TICK_STEPS steps of a statement. The
 * database check is one statement in two passes: first every b-tree page
 * in a single statement step (no calls here: the bytes read tell how far it
 * is), then table rows against their indexes and constraints, statement
 * steps that call here. The first call therefore marks the second pass. */
static gint
cd_archive_check_tick(gpointer data)
{
  CdCheckState *state = data;

  if (state->info.index == CD_CHECK_STEP_DB_PAGES)
    cd_archive_check_step(state, CD_CHECK_STEP_DB_INDEXES, 0);
  else
    cd_archive_check_report(state);
  return 0;
}

/* The check's own connection goes through the counting VFS
 * (cd-archive-vfs.c), so that a step SQLite runs as one long call (its
 * b-tree walk, FTS5's index check) still says how far it is: the bytes
 * read of the database file and of its WAL (the pages committed since the
 * last checkpoint). It reads without a memory map, each page an xRead().
 * Its POSIX locks stay those of the default VFS, which shares them with
 * the archive's own connection. */
static void
cd_archive_check_read(gint bytes, gpointer data)
{
  CdCheckState *state = data;

  state->info.done += bytes;
  if (state->info.done - state->reported >= CD_CHECK_REPORT_BYTES) {
    if (state->info.total > 0)
      state->info.done = MIN(state->info.done, state->info.total);
    cd_archive_check_report(state);
  }
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3, sqlite3_close_v2)

/* A second connection to the archive, through the counting VFS, for the
 * steps that SQLite runs as one long call; @state counts its reads. */
static sqlite3 *
cd_archive_check_connect(CdArchive *self, CdCheckState *state, GError **error)
{
  const gchar *path = cd_archive_get_path(self);
  const gchar *vfs = cd_archive_vfs_counting();
  g_autoptr(sqlite3) db = NULL;

  if (vfs == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot check the database: SQLite's file layer is too old",
                path);
    return NULL;
  }
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, vfs) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA mmap_size = 0", NULL, NULL, NULL) != SQLITE_OK ||
      !cd_archive_vfs_count_reads(db, FALSE, cd_archive_check_read, state)) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot open the archive to check it: %s", path,
                db != NULL ? sqlite3_errmsg(db) : "out of memory");
    return NULL;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 30000);
  sqlite3_progress_handler(db, CD_CHECK_TICK_STEPS, cd_archive_check_tick, state);
  return g_steal_pointer(&db);
}

static gint64
cd_check_db_int(sqlite3 *db, const gchar *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW)
    return 0;
  return sqlite3_column_int64(stmt, 0);
}

/* SQLite's integrity check of the whole file, in one statement (see
 * docs/decisions.md, "chartdesk check at scale"): every b-tree page, the
 * free list and pages used twice or never, then every row against its
 * indexes and constraints. */
static gboolean
cd_archive_check_database(CdArchive *self, sqlite3 *db, CdCheckState *state, GPtrArray *found, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint rc;
  gint64 size = cd_check_db_int(db, "PRAGMA page_count") * cd_check_db_int(db, "PRAGMA page_size");

  /* pages committed since the last checkpoint are read from the WAL, which
   * is open once the connection has read */
  cd_archive_vfs_count_reads(db, TRUE, cd_archive_check_read, state);
  cd_archive_check_step(state, CD_CHECK_STEP_DB_PAGES, size);
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL) != SQLITE_OK) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot check the database: %s", cd_archive_get_path(self),
                sqlite3_errmsg(db));
    return FALSE;
  }
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const gchar *msg = (const gchar *) sqlite3_column_text(stmt, 0);
    if (g_strcmp0(msg, "ok") != 0)
      g_ptr_array_add(found, g_strdup_printf("database: %s", msg));
  }
  if (rc != SQLITE_DONE)
    g_ptr_array_add(found, g_strdup_printf("database: the check stopped: %s", sqlite3_errmsg(db)));
  /* a small archive's second pass may have been too short to be heard */
  if (state->info.index == CD_CHECK_STEP_DB_PAGES)
    cd_archive_check_step(state, CD_CHECK_STEP_DB_INDEXES, 0);
  return TRUE;
}

static void
cd_archive_check_count(CdArchive *self, GPtrArray *problems, const gchar *sql, const gchar *what)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, sql, NULL);
  if (stmt == NULL) {
    g_ptr_array_add(problems, g_strdup_printf("cannot run check: %s", sqlite3_errmsg(cd_archive_get_db(self))));
    return;
  }
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int64(stmt, 0) > 0)
    g_ptr_array_add(problems, g_strdup_printf("%" G_GINT64_FORMAT " %s", (gint64) sqlite3_column_int64(stmt, 0), what));
}

/**
 * cd_archive_check:
 * @self: a #CdArchive
 * @problems: (out) (transfer container) (element-type utf8): what is wrong
 * @error: return location for a #GError
 *
 * cd_archive_check_with_progress() without progress.
 *
 * Returns: %TRUE if the checks ran (see @problems for their findings)
 *
 * Since: 0.1
 */
gboolean
cd_archive_check(CdArchive *self, GPtrArray **problems, GError **error)
{
  return cd_archive_check_with_progress(self, NULL, NULL, problems, error);
}

/**
 * cd_archive_check_with_progress:
 * @self: a #CdArchive
 * @progress: (nullable) (scope call): called as the check goes
 * @user_data: for @progress
 * @problems: (out) (transfer container) (element-type utf8): what is wrong
 * @error: return location for a #GError
 *
 * The sanity check behind `chartdesk check`: SQLite's integrity check (every
 * b-tree page, then every row against its indexes), the checksum of every
 * stored image, images no page uses, documents without pages, content pages
 * without text, destroyed documents (no image or text left, nothing held
 * destroyed), the full-text index against the pages, and the audit chain.
 * Each step reads the archive once or walks an index per row: linear, or
 * n log n, in its size.
 *
 * @progress is called as each step begins (@done 0), in order, every step
 * once; as a counted step ends (its last @done); within a step, every 1,000 images, every MiB read of the file by
 * the steps counted in bytes, and every 100,000 SQLite statement steps, so
 * that no step goes long unheard. It runs in the calling thread and must be
 * quick; rate-limit printing.
 *
 * Returns: %TRUE if the checks ran (see @problems for their findings)
 *
 * Since: 0.2
 */
gboolean
cd_archive_check_with_progress(CdArchive *self, CdCheckProgress progress, gpointer user_data, GPtrArray **problems,
                               GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(sqlite3) check_db = NULL;
  CdCheckState state = { progress, user_data, { NULL, 0, CD_CHECK_N_STEPS, 0, 0, CD_CHECK_UNIT_NONE }, 0 };
  sqlite3 *db;
  gboolean ok;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(problems != NULL, FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_CONFIGURE, "check the archive", "archive", error))
    return FALSE;
  db = cd_archive_get_db(self);
  check_db = cd_archive_check_connect(self, &state, error);
  if (check_db == NULL)
    return FALSE;
  /* the steps on the archive's own connection are heard the same way (the
   * handler is taken off again whichever way this returns) */
  if (progress != NULL)
    sqlite3_progress_handler(db, CD_CHECK_TICK_STEPS, cd_archive_check_tick, &state);
  ok = cd_archive_check_steps(self, check_db, &state, found, error);
  if (progress != NULL)
    sqlite3_progress_handler(db, 0, NULL, NULL);
  if (!ok)
    return FALSE;
  *problems = g_steal_pointer(&found);
  return TRUE;
}

/* The steps of cd_archive_check_with_progress(), in order; %FALSE when one
 * could not run (its findings are in @found either way). */
static gboolean
cd_archive_check_steps(CdArchive *self, sqlite3 *check_db, CdCheckState *state, GPtrArray *found, GError **error)
{
  g_autoptr(sqlite3_stmt) images = NULL;
  g_autoptr(GError) audit_error = NULL;
  sqlite3 *db = cd_archive_get_db(self);
  gint64 bad_entry = 0;

  if (!cd_archive_check_database(self, check_db, state, found, error))
    return FALSE;

  cd_archive_check_step(state, CD_CHECK_STEP_IMAGES, cd_check_db_int(db, "SELECT count(*) FROM images"));
  images = cd_archive_prepare(self, "SELECT sha256, data FROM images", error);
  if (images == NULL)
    return FALSE;
  while (sqlite3_step(images) == SQLITE_ROW) {
    const gchar *key = cd_column_text(images, 0);
    g_autofree gchar *sum =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, sqlite3_column_blob(images, 1), sqlite3_column_bytes(images, 1));
    if (g_strcmp0(key, sum) != 0)
      g_ptr_array_add(found, g_strdup_printf("image %s: stored bytes hash to %s (corrupted)", key, sum));
    state->info.done++;
    state->info.total = MAX(state->info.total, state->info.done);
    if (state->info.done % 1000 == 0)
      cd_archive_check_report(state);
  }
  cd_archive_check_step(state, CD_CHECK_STEP_ORPHANS, 0);
  cd_archive_check_count(self, found,
                         "SELECT count(*) FROM images WHERE sha256 NOT IN (SELECT image_sha256 FROM pages "
                         "WHERE image_sha256 IS NOT NULL)",
                         "stored images belong to no page (orphans)");
  cd_archive_check_count(self, found,
                         "SELECT count(*) FROM pages WHERE image_sha256 IS NOT NULL AND image_sha256 NOT IN "
                         "(SELECT sha256 FROM images)",
                         "pages point at a missing image");
  cd_archive_check_step(state, CD_CHECK_STEP_DOCUMENTS, 0);
  cd_archive_check_count(self, found,
                         "SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM pages p WHERE "
                         "p.document_id = d.id)",
                         "documents have no pages");
  /* searches read a document's pages as its range of page ids (schema
   * 13): kept by trigger, so a mismatch means a writer went around them */
  cd_archive_check_count(self, found,
                         "SELECT count(*) FROM documents d WHERE (d.first_page, d.last_page, d.n_pages) IS NOT "
                         "(SELECT min(p.id), max(p.id), count(*) FROM pages p WHERE p.document_id = d.id)",
                         "documents' page ranges (first_page, last_page, n_pages) disagree with their pages");
  cd_archive_check_count(self, found,
                         "SELECT count(*) FROM pages WHERE kind = 'page' AND text IS NULL AND (document_id IS NULL "
                         "OR document_id NOT IN (SELECT document_id FROM tombstones))",
                         "content pages have no text (not recognised)");
  cd_archive_check_step(state, CD_CHECK_STEP_DESTROYED, 0);
  cd_archive_check_retention(self, found);
  /* FTS5 reads its index with blob reads, which the progress handler does
   * not hear: on the counting connection, its bytes read are */
  cd_archive_check_step(state, CD_CHECK_STEP_FTS, 0);
  if (sqlite3_exec(check_db, "INSERT INTO pages_fts (pages_fts, rank) VALUES ('integrity-check', 1)", NULL, NULL,
                   NULL) != SQLITE_OK)
    g_ptr_array_add(found, g_strdup_printf("full-text index does not match the pages: %s", sqlite3_errmsg(check_db)));

  cd_archive_check_step(state, CD_CHECK_STEP_AUDIT, 0);
  if (!cd_archive_verify_audit(self, &bad_entry, &audit_error)) {
    if (bad_entry > 0)
      g_ptr_array_add(
          found, g_strdup_printf("%s (first bad audit entry: %" G_GINT64_FORMAT ")", audit_error->message, bad_entry));
    else
      g_ptr_array_add(found, g_strdup(audit_error->message));
  }
  return TRUE;
}

/* Retention (issue 17): a destroyed document keeps nothing but its
 * tombstone — no image, text, word boxes or facts on its pages, no term of
 * theirs in the full-text index, no stored image that only it used — and
 * nothing under a hold in force at the time was destroyed. */
static void
cd_archive_check_retention(CdArchive *self, GPtrArray *problems)
{
  g_autoptr(sqlite3_stmt) tombs = NULL;
  g_autoptr(sqlite3_stmt) any = NULL;
  g_autoptr(GError) error = NULL;

  /* nothing destroyed, nothing to check: the vocabulary scan below reads
   * every term instance of the index (its cost grows with the whole
   * archive, not with what was destroyed) and would find nothing */
  any = cd_archive_prepare(self, "SELECT 1 FROM tombstones LIMIT 1", NULL);
  if (any != NULL && sqlite3_step(any) == SQLITE_DONE)
    return;
  cd_archive_check_count(self, problems,
                         "SELECT count(*) FROM pages p JOIN tombstones t ON t.document_id = p.document_id "
                         "WHERE p.text IS NOT NULL OR p.words IS NOT NULL OR p.image_sha256 IS NOT NULL "
                         "OR p.facts IS NOT NULL",
                         "pages of destroyed documents still hold an image or text");
  cd_archive_check_count(self, problems,
                         "SELECT count(*) FROM tombstones t, json_each(t.image_sha256) h JOIN images i "
                         "ON i.sha256 = h.value WHERE NOT EXISTS (SELECT 1 FROM pages p WHERE p.image_sha256 = "
                         "h.value)",
                         "images of destroyed documents are still stored");
  if (cd_archive_exec(self,
                      "CREATE VIRTUAL TABLE IF NOT EXISTS temp.cd_check_vocab USING fts5vocab(main, pages_fts, "
                      "'instance')",
                      &error)) {
    cd_archive_check_count(self, problems,
                           "SELECT count(*) FROM temp.cd_check_vocab v WHERE v.doc IN (SELECT p.id FROM pages p "
                           "JOIN tombstones t ON t.document_id = p.document_id)",
                           "terms of destroyed pages are still in the full-text index");
    cd_archive_exec(self, "DROP TABLE IF EXISTS temp.cd_check_vocab", NULL);
  } else {
    g_ptr_array_add(problems, g_strdup_printf("cannot read the full-text vocabulary: %s", error->message));
  }
  /* a hold placed before the destruction and not released before it */
  tombs =
      cd_archive_prepare(self,
                         "SELECT t.document_id, h.id FROM tombstones t JOIN legal_holds h "
                         "ON h.placed_at < t.destroyed_at AND (h.released_at IS NULL OR h.released_at > "
                         "t.destroyed_at) AND ((h.kind = 'document' AND h.document_id = t.document_id) "
                         "OR (h.kind = 'patient' AND h.mrn = t.patient_mrn) "
                         "OR (h.kind = 'search' AND json_valid(h.query) AND json_extract(h.query, '$.text') IS NULL "
                         "AND (json_extract(h.query, '$.mrn') IS NULL OR json_extract(h.query, '$.mrn') = "
                         "t.patient_mrn) AND (json_extract(h.query, '$.types') IS NULL OR t.type IN "
                         "(SELECT value FROM json_each(h.query, '$.types'))) AND (json_extract(h.query, '$.from') "
                         "IS NULL OR t.date >= json_extract(h.query, '$.from')) AND (json_extract(h.query, '$.to') "
                         "IS NULL OR t.date <= json_extract(h.query, '$.to')))) ORDER BY t.document_id, h.id",
                         NULL);
  if (tombs == NULL) {
    g_ptr_array_add(problems, g_strdup_printf("cannot check tombstones against legal holds: %s",
                                              sqlite3_errmsg(cd_archive_get_db(self))));
    return;
  }
  while (sqlite3_step(tombs) == SQLITE_ROW)
    g_ptr_array_add(problems,
                    g_strdup_printf("document %" G_GINT64_FORMAT " was destroyed under legal hold %" G_GINT64_FORMAT,
                                    (gint64) sqlite3_column_int64(tombs, 0), (gint64) sqlite3_column_int64(tombs, 1)));
}
