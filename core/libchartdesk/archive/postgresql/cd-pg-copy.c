/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The PostgreSQL archive back into SQLite: a new archive made by the
 * engine (cd_archive_open()), its rows inserted with the server's ids in
 * chunks (each one SQLite transaction), resumed from the copy's highest
 * key of each table, then verified by counts and content hashes.
 */
#include "config.h"

#include <string.h>

#include "cd-error.h"
#include "cd-pg-private.h"
#include "cd-util-private.h"

#define CD_PG_COPY_CHUNK 500

/* One table as it is copied: the columns both sides share (the server's
 * station columns stay on the server), the key the copy resumes by, and
 * which column (if any) is binary. */
typedef struct {
  const gchar *table;
  const gchar *columns;
  guint n_columns;
  const gchar *key; /* ordered by it; the first column */
  gboolean text_key;
  gint blob_column; /* -1: none */
} CdCopyTable;

static const CdCopyTable cd_copy_tables[] = {
  /* a batch's audit anchor seals its station's chain, not the copy's: it
   * stays on the server */
  { "batches", "id, started, finished, actor, workflow, inputs, status, report, workflow_origin, options", 10, "id",
    FALSE, -1 },
  { "patients", "id, mrn, family, given, middle, dob, sex, merged_into, source, updated", 10, "id", FALSE, -1 },
  { "images", "sha256, format, width, height, depth, xres, yres, data", 8, "sha256", TRUE, 7 },
  { "documents", "id, batch_id, patient_mrn, status, type, type_confidence, date, title, created", 9, "id", FALSE, -1 },
  { "pages",
    "id, batch_id, document_id, seq, kind, reason, source_path, source_page, source_sha256, xres, yres, "
    "image_sha256, rotation, skew, text, words, confidence, problems, facts, created",
    20, "id", FALSE, -1 },
  { "files", "sha256, path, size, pages, batch_id, added", 6, "sha256", TRUE, -1 },
  { "review", "id, document_id, page_id, reason, created, resolved, resolved_by, resolution, assignee, assigned", 10,
    "id", FALSE, -1 },
};

void
cd_pg_archive_set_copy_progress(CdPgArchive *self, CdCopyProgress progress, gpointer user_data)
{
  self->copy_progress = progress;
  self->copy_progress_data = user_data;
}

/* Rows of @sql streamed one at a time (single-row mode), so a summary of
 * ten million pages never holds them all. */
typedef gboolean (*CdPgRowFunc)(PGresult *row, gpointer user_data);

static gboolean
cd_pg_stream(CdPgArchive *self, const gchar *sql, CdPgRowFunc func, gpointer user_data, GError **error)
{
  PGresult *res;
  gboolean ok = TRUE;

  if (!PQsendQueryParams(self->conn, sql, 0, NULL, NULL, NULL, NULL, 0) || !PQsetSingleRowMode(self->conn)) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot read: %s", self->where, PQerrorMessage(self->conn));
    while ((res = PQgetResult(self->conn)) != NULL)
      PQclear(res);
    return FALSE;
  }
  while ((res = PQgetResult(self->conn)) != NULL) {
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_SINGLE_TUPLE && ok) {
      ok = func(res, user_data);
    } else if (status != PGRES_TUPLES_OK && status != PGRES_SINGLE_TUPLE && ok) {
      g_autofree gchar *msg = g_strstrip(g_strdup(PQresultErrorMessage(res)));
      g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot read: %s", self->where, msg);
      ok = FALSE;
    }
    PQclear(res);
  }
  return ok;
}

/* The summary's content hashes: image hashes in order, page texts in page
 * order (a NULL text hashes apart from an empty one). */
static void
cd_summary_add_text(GChecksum *sum, const gchar *text)
{
  if (text == NULL) {
    g_checksum_update(sum, (const guchar *) "\x1f", 1);
    return;
  }
  g_checksum_update(sum, (const guchar *) text, strlen(text));
  g_checksum_update(sum, (const guchar *) "\x1e", 1);
}

static gboolean
cd_summary_row(PGresult *row, gpointer user_data)
{
  cd_summary_add_text(user_data, cd_pg_value(row, 0, 0));
  return TRUE;
}

/* The page texts by what was scanned, (file hash, page) order: the same on
 * both sides of a delivery whatever ids the server gave the pages (a
 * delivery stores a batch's set-aside pages after its documents). Each
 * page's file hash and page number are hashed with its text, so a text
 * moved to another page differs too. */
static gboolean
cd_summary_source_row(PGresult *row, gpointer user_data)
{
  for (gint i = 0; i < 3; i++)
    cd_summary_add_text(user_data, cd_pg_value(row, 0, i));
  return TRUE;
}

static JsonNode *
cd_summary_build(const gchar *const *tables, const gint64 *counts, guint n, GChecksum *images, GChecksum *texts,
                 GChecksum *source_texts, gint64 audit)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "counts");
  json_builder_begin_object(b);
  for (guint i = 0; i < n; i++) {
    json_builder_set_member_name(b, tables[i]);
    json_builder_add_int_value(b, counts[i]);
  }
  json_builder_end_object(b);
  json_builder_set_member_name(b, "images_sha256");
  json_builder_add_string_value(b, g_checksum_get_string(images));
  json_builder_set_member_name(b, "page_texts_sha256");
  json_builder_add_string_value(b, g_checksum_get_string(texts));
  json_builder_set_member_name(b, "source_texts_sha256");
  json_builder_add_string_value(b, g_checksum_get_string(source_texts));
  /* not compared: each side's log also holds its own entries */
  json_builder_set_member_name(b, "audit_entries");
  json_builder_add_int_value(b, audit);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

JsonNode *
cd_pg_archive_summary(CdPgArchive *self, GError **error)
{
  const gchar *tables[G_N_ELEMENTS(cd_copy_tables)];
  gint64 counts[G_N_ELEMENTS(cd_copy_tables)];
  g_autoptr(GChecksum) images = g_checksum_new(G_CHECKSUM_SHA256);
  g_autoptr(GChecksum) texts = g_checksum_new(G_CHECKSUM_SHA256);
  g_autoptr(GChecksum) source_texts = g_checksum_new(G_CHECKSUM_SHA256);
  g_autoptr(PGresult) audit = NULL;

  g_return_val_if_fail(self != NULL, NULL);
  g_autoptr(GRecMutexLocker) held = g_rec_mutex_locker_new(&self->mutex);
  for (guint i = 0; i < G_N_ELEMENTS(cd_copy_tables); i++) {
    g_autofree gchar *sql = g_strdup_printf("SELECT count(*) FROM %s", cd_copy_tables[i].table);
    g_autoptr(PGresult) res = cd_pg_exec(self, sql, NULL, "cannot count rows", error);
    if (res == NULL)
      return NULL;
    tables[i] = cd_copy_tables[i].table;
    counts[i] = cd_pg_int(res, 0, 0);
  }
  if (!cd_pg_stream(self, "SELECT sha256 FROM images ORDER BY sha256 COLLATE \"C\"", cd_summary_row, images, error) ||
      !cd_pg_stream(self, "SELECT text FROM pages ORDER BY id", cd_summary_row, texts, error) ||
      !cd_pg_stream(self,
                    "SELECT source_sha256, source_page::text, text FROM pages WHERE source_sha256 IS NOT NULL AND "
                    "source_page >= 0 ORDER BY pages.source_sha256 COLLATE \"C\", pages.source_page",
                    cd_summary_source_row, source_texts, error))
    return NULL;
  audit = cd_pg_exec(self, "SELECT count(*) FROM audit", NULL, "cannot count rows", error);
  if (audit == NULL)
    return NULL;
  return cd_summary_build(tables, counts, G_N_ELEMENTS(cd_copy_tables), images, texts, source_texts,
                          cd_pg_int(audit, 0, 0));
}

static gboolean
cd_sqlite_hash_column(CdArchive *archive, const gchar *sql, GChecksum *sum, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(archive, sql, error);
  gint rc;

  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    for (gint i = 0; i < sqlite3_column_count(stmt); i++)
      cd_summary_add_text(sum, cd_column_text(stmt, i));
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(archive, error, "cannot read");
    return FALSE;
  }
  return TRUE;
}

JsonNode *
cd_pg_archive_sqlite_summary(CdArchive *archive, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  const gchar *tables[G_N_ELEMENTS(cd_copy_tables)];
  gint64 counts[G_N_ELEMENTS(cd_copy_tables) + 1];
  g_autoptr(GChecksum) images = g_checksum_new(G_CHECKSUM_SHA256);
  g_autoptr(GChecksum) texts = g_checksum_new(G_CHECKSUM_SHA256);
  g_autoptr(GChecksum) source_texts = g_checksum_new(G_CHECKSUM_SHA256);

  g_return_val_if_fail(CD_IS_ARCHIVE(archive), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(archive));
  txn = cd_archive_txn_begin_read(archive, error); /* one snapshot */
  if (txn == NULL)
    return NULL;
  for (guint i = 0; i <= G_N_ELEMENTS(cd_copy_tables); i++) {
    const gchar *table = i < G_N_ELEMENTS(cd_copy_tables) ? cd_copy_tables[i].table : "audit";
    g_autofree gchar *sql = g_strdup_printf("SELECT count(*) FROM %s", table);
    g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(archive, sql, error);
    if (stmt == NULL)
      return NULL;
    if (sqlite3_step(stmt) != SQLITE_ROW) {
      cd_archive_set_error(archive, error, "cannot count rows");
      return NULL;
    }
    if (i < G_N_ELEMENTS(cd_copy_tables))
      tables[i] = table;
    counts[i] = sqlite3_column_int64(stmt, 0);
  }
  if (!cd_sqlite_hash_column(archive, "SELECT sha256 FROM images ORDER BY sha256", images, error) ||
      !cd_sqlite_hash_column(archive, "SELECT text FROM pages ORDER BY id", texts, error) ||
      !cd_sqlite_hash_column(archive,
                             "SELECT source_sha256, source_page, text FROM pages WHERE source_sha256 IS NOT NULL AND "
                             "source_page >= 0 ORDER BY source_sha256, source_page",
                             source_texts, error))
    return NULL;
  return cd_summary_build(tables, counts, G_N_ELEMENTS(cd_copy_tables), images, texts, source_texts,
                          counts[G_N_ELEMENTS(cd_copy_tables)]);
}

gboolean
cd_pg_archive_summary_equal(JsonNode *a, JsonNode *b, GError **error)
{
  JsonObject *oa = json_node_get_object(a);
  JsonObject *ob = json_node_get_object(b);
  JsonObject *ca = json_object_get_object_member(oa, "counts");
  JsonObject *cb = json_object_get_object_member(ob, "counts");
  const gchar *hashes[] = { "images_sha256", "page_texts_sha256", "source_texts_sha256" };

  for (guint i = 0; i < G_N_ELEMENTS(cd_copy_tables); i++) {
    const gchar *t = cd_copy_tables[i].table;
    gint64 na = json_object_get_int_member_with_default(ca, t, -1);
    gint64 nb = json_object_get_int_member_with_default(cb, t, -1);
    if (na != nb) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                  "%s: %" G_GINT64_FORMAT " rows on one side, %" G_GINT64_FORMAT " on the other", t, na, nb);
      return FALSE;
    }
  }
  for (guint i = 0; i < G_N_ELEMENTS(hashes); i++) {
    if (g_strcmp0(json_object_get_string_member(oa, hashes[i]), json_object_get_string_member(ob, hashes[i])) != 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s differs: %s, %s", hashes[i],
                  json_object_get_string_member(oa, hashes[i]), json_object_get_string_member(ob, hashes[i]));
      return FALSE;
    }
  }
  return TRUE;
}

static gchar *
cd_copy_meta(CdArchive *copy, const gchar *key, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(copy, "SELECT value FROM meta WHERE key = ?", error);

  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, key);
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return NULL;
  return cd_column_dup(stmt, 0);
}

static gboolean
cd_copy_set_meta(CdArchive *copy, const gchar *key, const gchar *value, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt =
      cd_archive_prepare(copy, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, key);
  cd_bind_text(stmt, 2, value);
  return cd_archive_step_done(copy, stmt, error);
}

/* Where the copy of @t stopped: its highest key, NULL when it has none. */
static gchar *
cd_copy_resume_key(CdArchive *copy, const CdCopyTable *t, GError **error)
{
  g_autofree gchar *sql = g_strdup_printf("SELECT max(%s) FROM %s", t->key, t->table);
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(copy, sql, error);

  if (stmt == NULL || sqlite3_step(stmt) != SQLITE_ROW)
    return NULL;
  return cd_column_dup(stmt, 0);
}

/* Inserts one chunk of server rows in one SQLite transaction. The
 * archive's own triggers keep its full-text index in step with pages. */
static gboolean
cd_copy_chunk(CdArchive *copy, const CdCopyTable *t, PGresult *res, GError **error)
{
  g_autoptr(CdArchiveTxn) txn = cd_archive_txn_begin(copy, error);
  g_autoptr(GString) sql = g_string_new(NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (txn == NULL)
    return FALSE;
  g_string_printf(sql, "INSERT INTO %s (%s) VALUES (", t->table, t->columns);
  for (guint c = 0; c < t->n_columns; c++)
    g_string_append(sql, c == 0 ? "?" : ", ?");
  g_string_append_c(sql, ')');
  stmt = cd_archive_prepare(copy, sql->str, error);
  if (stmt == NULL)
    return FALSE;
  for (gint r = 0; r < PQntuples(res); r++) {
    sqlite3_reset(stmt);
    for (guint c = 0; c < t->n_columns; c++) {
      const gchar *v = cd_pg_value(res, r, (gint) c);
      if (v == NULL) {
        sqlite3_bind_null(stmt, c + 1);
      } else if ((gint) c == t->blob_column) {
        size_t len = 0;
        guchar *data = PQunescapeBytea((const guchar *) v, &len);
        if (data == NULL) {
          g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot decode %s", t->table, t->columns);
          return FALSE;
        }
        sqlite3_bind_blob(stmt, c + 1, data, (gint) len, SQLITE_TRANSIENT);
        PQfreemem(data);
      } else {
        sqlite3_bind_text(stmt, c + 1, v, -1, SQLITE_TRANSIENT);
      }
    }
    if (!cd_archive_step_done(copy, stmt, error)) {
      g_prefix_error(error, "copying %s: ", t->table);
      return FALSE;
    }
  }
  return cd_archive_txn_commit(txn, error);
}

static gboolean
cd_copy_table(CdPgArchive *self, CdArchive *copy, const CdCopyTable *t, GCancellable *cancellable, GError **error)
{
  g_autofree gchar *after = cd_copy_resume_key(copy, t, NULL);
  g_autofree gchar *sql =
      g_strdup_printf("SELECT %s FROM %s WHERE ($1::text IS NULL OR %s %s) ORDER BY %s%s LIMIT %u", t->columns,
                      t->table, t->key, t->text_key ? "COLLATE \"C\" > $1::text" : "> $1::bigint", t->key,
                      t->text_key ? " COLLATE \"C\"" : "", CD_PG_COPY_CHUNK);
  guint64 rows = 0;

  for (;;) {
    g_autoptr(CdPgParams) p = cd_pg_params_new();
    g_autoptr(PGresult) res = NULL;
    gint n;

    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    cd_pg_params_add(p, after);
    res = cd_pg_exec(self, sql, p, "cannot read for the copy", error);
    if (res == NULL)
      return FALSE;
    n = PQntuples(res);
    if (n == 0)
      break;
    if (!cd_copy_chunk(copy, t, res, error))
      return FALSE;
    rows += n;
    g_free(after);
    after = g_strdup(PQgetvalue(res, n - 1, 0));
    if (self->copy_progress != NULL)
      self->copy_progress(t->table, rows, self->copy_progress_data);
    if (n < CD_PG_COPY_CHUNK)
      break;
  }
  return TRUE;
}

/* The server's audit log into the copy's own keyed chain: each server
 * entry (the stations' and the server's) becomes an entry of the copy
 * under the same actor, action and object, its original time, station,
 * id and hash kept in the detail, so that the copy's chain verifies and
 * nothing of the server's log is left out. Resumed by the server id of
 * the last entry copied (meta `copy-audit-last`, in the same transaction). */
static gboolean
cd_copy_audit(CdPgArchive *self, CdArchive *copy, GCancellable *cancellable, GError **error)
{
  for (;;) {
    g_autofree gchar *last = cd_copy_meta(copy, "copy-audit-last", NULL);
    g_autoptr(CdPgParams) p = cd_pg_params_new();
    g_autoptr(PGresult) res = NULL;
    g_autoptr(CdArchiveTxn) txn = NULL;
    gint n;

    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    cd_pg_params_add(p, last != NULL ? last : "0");
    res = cd_pg_exec(self,
                     "SELECT id, station, source_id, ts, actor, action, object, detail, prev_hash, hash, scheme "
                     "FROM audit WHERE id > $1::bigint ORDER BY id LIMIT 500",
                     p, "cannot read the audit log", error);
    if (res == NULL)
      return FALSE;
    n = PQntuples(res);
    if (n == 0)
      return TRUE;
    txn = cd_archive_txn_begin(copy, error);
    if (txn == NULL)
      return FALSE;
    for (gint r = 0; r < n; r++) {
      g_autoptr(JsonObject) obj = json_object_new();
      g_autoptr(JsonNode) detail = NULL;
      g_autoptr(JsonParser) parser = json_parser_new();
      gboolean ok;
      json_object_set_int_member(obj, "server_entry", cd_pg_int(res, r, 0));
      json_object_set_string_member(obj, "station", cd_pg_value(res, r, 1));
      if (cd_pg_value(res, r, 2) != NULL)
        json_object_set_int_member(obj, "station_entry", cd_pg_int(res, r, 2));
      json_object_set_string_member(obj, "ts", PQgetvalue(res, r, 3));
      json_object_set_string_member(obj, "prev_hash", PQgetvalue(res, r, 8));
      json_object_set_string_member(obj, "hash", PQgetvalue(res, r, 9));
      json_object_set_int_member(obj, "scheme", cd_pg_int(res, r, 10));
      if (json_parser_load_from_data(parser, PQgetvalue(res, r, 7), -1, NULL) && json_parser_get_root(parser) != NULL)
        json_object_set_member(obj, "detail", json_node_copy(json_parser_get_root(parser)));
      else
        json_object_set_string_member(obj, "detail", PQgetvalue(res, r, 7));
      detail = json_node_init_object(json_node_alloc(), g_steal_pointer(&obj));
      cd_archive_push_actor(copy, PQgetvalue(res, r, 4), NULL);
      ok = cd_archive_audit(copy, PQgetvalue(res, r, 5), PQgetvalue(res, r, 6), detail, error);
      cd_archive_pop_actor(copy);
      if (!ok)
        return FALSE;
    }
    if (!cd_copy_set_meta(copy, "copy-audit-last", PQgetvalue(res, n - 1, 0), error) ||
        !cd_archive_txn_commit(txn, error))
      return FALSE;
  }
}

static gchar *
cd_pg_archive_id(CdPgArchive *self, GError **error)
{
  g_autoptr(PGresult) res =
      cd_pg_exec(self, "SELECT value FROM meta WHERE key = 'archive-id'", NULL, "cannot read the archive id", error);
  if (res == NULL)
    return NULL;
  return g_strdup(PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
}

gboolean
cd_pg_archive_copy_to_sqlite(CdPgArchive *self, const gchar *path, GCancellable *cancellable, GError **error)
{
  g_autoptr(CdArchive) copy = NULL;
  g_autoptr(JsonNode) ours = NULL;
  g_autoptr(JsonNode) theirs = NULL;
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *server_id = NULL;
  g_autofree gchar *copied_from = NULL;
  g_autofree gchar *now = NULL;
  gboolean exists;

  g_return_val_if_fail(self != NULL, FALSE);
  g_return_val_if_fail(path != NULL, FALSE);
  g_autoptr(GRecMutexLocker) held = g_rec_mutex_locker_new(&self->mutex);
  /* the whole archive, every patient's: the administrator's to take */
  if (!cd_pg_require(self, CD_PERMISSION_CONFIGURE, "copy the archive", "archive", error))
    return FALSE;
  server_id = cd_pg_archive_id(self, error);
  if (server_id == NULL)
    return FALSE;
  exists = g_file_test(path, G_FILE_TEST_EXISTS);
  if (exists) {
    /* only an unfinished copy of this server is continued; anything else
     * is refused before it is written to */
    g_autoptr(CdArchive) existing = cd_archive_open(path, CD_ARCHIVE_FLAG_NONE, NULL);
    copied_from = existing != NULL ? cd_copy_meta(existing, "copied-from", NULL) : NULL;
    if (g_strcmp0(copied_from, server_id) != 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                  "%s: exists and is not an unfinished copy of %s: give a path that does not exist yet", path,
                  self->where);
      return FALSE;
    }
  }
  copy = cd_archive_open(path, CD_ARCHIVE_FLAG_CREATE | CD_ARCHIVE_FLAG_WRITER, error);
  if (copy == NULL)
    return FALSE;
  cd_archive_set_actor(copy, cd_pg_actor(self));
  if (copied_from == NULL) {
    g_autoptr(CdArchiveTxn) txn = cd_archive_txn_begin(copy, error);
    if (txn == NULL || !cd_copy_set_meta(copy, "copied-from", server_id, error) || !cd_archive_txn_commit(txn, error))
      return FALSE;
  }
  for (guint i = 0; i < G_N_ELEMENTS(cd_copy_tables); i++) {
    if (!cd_copy_table(self, copy, &cd_copy_tables[i], cancellable, error)) {
      g_prefix_error(error, "%s → %s: ", self->where, path);
      return FALSE;
    }
  }
  if (!cd_copy_audit(self, copy, cancellable, error))
    return FALSE;

  ours = cd_pg_archive_sqlite_summary(copy, error);
  if (ours == NULL)
    return FALSE;
  theirs = cd_pg_archive_summary(self, error);
  if (theirs == NULL)
    return FALSE;
  if (!cd_pg_archive_summary_equal(theirs, ours, error)) {
    g_prefix_error(error, "%s → %s: the copy does not match the server: ", self->where, path);
    return FALSE;
  }
  now = cd_now_iso8601();
  {
    g_autoptr(CdArchiveTxn) txn = cd_archive_txn_begin(copy, error);
    if (txn == NULL || !cd_copy_set_meta(copy, "copy-verified", now, error) || !cd_archive_txn_commit(txn, error))
      return FALSE;
  }
  obj = json_object_new();
  json_object_set_string_member(obj, "to", path);
  json_object_set_member(obj, "summary", json_node_copy(theirs));
  detail = json_node_init_object(json_node_alloc(), g_steal_pointer(&obj));
  return cd_pg_audit(self, "archive-copy", "archive", detail, error);
}
