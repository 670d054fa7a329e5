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
typedef struct {
  CdCheckProgress func;
  gpointer data;
  const gchar *step;
} CdCheckState;

/* SQLite calls it every so many steps of a long statement (the integrity
 * checks, the audit walk), so that the caller hears of a step in progress. */
static gint
cd_archive_check_tick(gpointer data)
{
  CdCheckState *state = data;
  state->func(state->step, 0, 0, state->data);
  return 0;
}

static void
cd_archive_check_step(CdCheckState *state, const gchar *step, guint64 done, guint64 total)
{
  state->step = step;
  if (state->func != NULL)
    state->func(step, done, total, state->data);
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
 * The sanity check behind `chartdesk check`: SQLite's integrity check, the
 * checksum of every stored image, images no page uses, documents without
 * pages, content pages without text, the full-text index against the pages,
 * destroyed documents (no image or text left, nothing held destroyed) and
 * the audit chain. Each pass reads the archive once (linear in its
 * size).
 *
 * @progress is called when each step starts (with @done 0 and, where known,
 * @total), every 1,000 images while checksumming (@done of @total), and
 * every million SQLite steps within a long statement (@done and @total
 * 0: the step is still running). It must be quick; rate-limit printing.
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
  g_autoptr(sqlite3_stmt) integrity = NULL;
  g_autoptr(sqlite3_stmt) images = NULL;
  g_autoptr(GError) audit_error = NULL;
  CdCheckState state = { progress, user_data, NULL };
  sqlite3 *db;
  gint64 bad_entry = 0;
  guint64 n_images = 0, done = 0;
  gboolean ok = FALSE;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(problems != NULL, FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_CONFIGURE, "check the archive", "archive", error))
    return FALSE;
  db = cd_archive_get_db(self);
  if (progress != NULL)
    sqlite3_progress_handler(db, 1000000, cd_archive_check_tick, &state);

  cd_archive_check_step(&state, "database integrity", 0, 0);
  integrity = cd_archive_prepare(self, "PRAGMA integrity_check", error);
  if (integrity == NULL)
    goto out;
  while (sqlite3_step(integrity) == SQLITE_ROW) {
    const gchar *msg = cd_column_text(integrity, 0);
    if (g_strcmp0(msg, "ok") != 0)
      g_ptr_array_add(found, g_strdup_printf("database: %s", msg));
  }

  {
    g_autoptr(sqlite3_stmt) count = cd_archive_prepare(self, "SELECT count(*) FROM images", NULL);
    if (count != NULL && sqlite3_step(count) == SQLITE_ROW)
      n_images = sqlite3_column_int64(count, 0);
  }
  cd_archive_check_step(&state, "image checksums", 0, n_images);
  images = cd_archive_prepare(self, "SELECT sha256, data FROM images", error);
  if (images == NULL)
    goto out;
  while (sqlite3_step(images) == SQLITE_ROW) {
    const gchar *key = cd_column_text(images, 0);
    g_autofree gchar *sum =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, sqlite3_column_blob(images, 1), sqlite3_column_bytes(images, 1));
    if (g_strcmp0(key, sum) != 0)
      g_ptr_array_add(found, g_strdup_printf("image %s: stored bytes hash to %s (corrupted)", key, sum));
    if (++done % 1000 == 0 && progress != NULL)
      progress("image checksums", done, MAX(done, n_images), user_data);
  }
  cd_archive_check_step(&state, "orphans and missing images", 0, 0);
  cd_archive_check_count(self, found,
                         "SELECT count(*) FROM images WHERE sha256 NOT IN (SELECT image_sha256 FROM pages "
                         "WHERE image_sha256 IS NOT NULL)",
                         "stored images belong to no page (orphans)");
  cd_archive_check_count(self, found,
                         "SELECT count(*) FROM pages WHERE image_sha256 IS NOT NULL AND image_sha256 NOT IN "
                         "(SELECT sha256 FROM images)",
                         "pages point at a missing image");
  cd_archive_check_step(&state, "documents and pages", 0, 0);
  cd_archive_check_count(self, found,
                         "SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM pages p WHERE "
                         "p.document_id = d.id)",
                         "documents have no pages");
  cd_archive_check_count(self, found,
                         "SELECT count(*) FROM pages WHERE kind = 'page' AND text IS NULL AND (document_id IS NULL "
                         "OR document_id NOT IN (SELECT document_id FROM tombstones))",
                         "content pages have no text (not recognised)");
  cd_archive_check_step(&state, "destroyed documents", 0, 0);
  cd_archive_check_retention(self, found);
  cd_archive_check_step(&state, "full-text index", 0, 0);
  if (sqlite3_exec(db, "INSERT INTO pages_fts (pages_fts, rank) VALUES ('integrity-check', 1)", NULL, NULL, NULL) !=
      SQLITE_OK)
    g_ptr_array_add(found, g_strdup_printf("full-text index does not match the pages: %s", sqlite3_errmsg(db)));
  cd_archive_check_step(&state, "audit chain", 0, 0);
  if (!cd_archive_verify_audit(self, &bad_entry, &audit_error)) {
    if (bad_entry > 0)
      g_ptr_array_add(
          found, g_strdup_printf("%s (first bad audit entry: %" G_GINT64_FORMAT ")", audit_error->message, bad_entry));
    else
      g_ptr_array_add(found, g_strdup(audit_error->message));
  }

  *problems = g_steal_pointer(&found);
  ok = TRUE;
out:
  if (progress != NULL)
    sqlite3_progress_handler(db, 0, NULL, NULL);
  return ok;
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
