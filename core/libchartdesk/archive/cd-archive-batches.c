/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The batch journal: batches recorded before they run, so that a service
 * killed in the middle of one finds it again at start-up and resumes it.
 * The pages themselves are journalled by their commits; this only says
 * which batches are unfinished and how to run them again.
 */
#include "config.h"

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-util-private.h"

#define BATCH_COLUMNS "id, status, workflow, workflow_origin, options, inputs, actor, started, finished, report"

/**
 * cd_batch_record_free:
 * @record: (nullable): a #CdBatchRecord
 *
 * Since: 0.1
 */
void
cd_batch_record_free(CdBatchRecord *record)
{
  if (record == NULL)
    return;
  g_free(record->status);
  g_free(record->workflow);
  g_free(record->workflow_origin);
  g_free(record->options);
  g_strfreev(record->inputs);
  g_free(record->actor);
  g_free(record->started);
  g_free(record->finished);
  g_free(record->report);
  g_free(record);
}

/* The inputs column is a JSON array of strings; anything else reads as none. */
static gchar **
inputs_from_json(const gchar *json)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
  JsonNode *root;

  if (json != NULL && json_parser_load_from_data(parser, json, -1, NULL)) {
    root = json_parser_get_root(parser);
    if (JSON_NODE_HOLDS_ARRAY(root)) {
      JsonArray *array = json_node_get_array(root);
      for (guint i = 0; i < json_array_get_length(array); i++) {
        const gchar *s = json_array_get_string_element(array, i);
        if (s != NULL)
          g_strv_builder_add(builder, s);
      }
    }
  }
  return g_strv_builder_end(builder);
}

static CdBatchRecord *
record_from_row(sqlite3_stmt *stmt)
{
  CdBatchRecord *record = g_new0(CdBatchRecord, 1);

  record->id = sqlite3_column_int64(stmt, 0);
  record->status = cd_column_dup(stmt, 1);
  record->workflow = cd_column_dup(stmt, 2);
  record->workflow_origin = cd_column_dup(stmt, 3);
  record->options = cd_column_dup(stmt, 4);
  record->inputs = inputs_from_json((const gchar *) sqlite3_column_text(stmt, 5));
  record->actor = cd_column_dup(stmt, 6);
  record->started = cd_column_dup(stmt, 7);
  record->finished = cd_column_dup(stmt, 8);
  record->report = cd_column_dup(stmt, 9);
  return record;
}

/**
 * cd_archive_queue_batch:
 * @self: a #CdArchive
 * @workflow: the workflow's name
 * @workflow_origin: the workflow file, read again to resume the batch
 * @options: (nullable): JSON overrides to run it with
 * @inputs: (array zero-terminated=1): absolute paths of what to read
 * @error: return location for a #GError
 *
 * Records a batch with status `queued` before any of it runs, durably: once
 * this returns the batch will be run, or resumed, whatever happens to the
 * process. Run it with cd_pipeline_set_batch_id(). Any process may queue
 * (the row is written in its own short transaction), so a service can
 * accept a batch while another process holds the writer lock.
 *
 * Returns: the batch's id, or 0 with @error set
 *
 * Since: 0.1
 */
gint64
cd_archive_queue_batch(CdArchive *self, const gchar *workflow, const gchar *workflow_origin, const gchar *options,
                       const gchar *const *inputs, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) inputs_node = NULL;
  g_autofree gchar *inputs_json = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  g_autofree gchar *object = NULL;
  sqlite3 *db;
  gint64 id;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), 0);
  g_return_val_if_fail(workflow != NULL, 0);
  g_return_val_if_fail(workflow_origin != NULL, 0);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RUN_BATCHES, "run batches", "archive", error))
    return 0;
  db = cd_archive_get_db(self);

  inputs_node = cd_json_strv_new(inputs);
  inputs_json = cd_json_to_string(inputs_node);

  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return 0;
  stmt = cd_archive_prepare(self,
                            "INSERT INTO batches (started, actor, workflow, workflow_origin, options, inputs, status) "
                            "VALUES (?, ?, ?, ?, ?, ?, 'queued')",
                            error);
  if (stmt == NULL)
    return 0;
  cd_bind_text(stmt, 1, ts);
  cd_bind_text(stmt, 2, cd_archive_get_actor(self));
  cd_bind_text(stmt, 3, workflow);
  cd_bind_text(stmt, 4, workflow_origin);
  cd_bind_text(stmt, 5, options);
  cd_bind_text(stmt, 6, inputs_json);
  if (!cd_archive_step_done(self, stmt, error))
    return 0;
  id = sqlite3_last_insert_rowid(db);
  object = g_strdup_printf("batch:%" G_GINT64_FORMAT, id);
  if (!cd_archive_audit_locked(self, "ingest-queue", object, inputs_node, error) ||
      !cd_archive_audit_anchor_batch(self, id, error))
    return 0;
  if (!cd_archive_txn_commit(txn, error))
    return 0;
  return id;
}

/* Moves batch @batch_id to @status when its current status satisfies
 * @condition (an SQL expression on `status`, or NULL for any), and audits
 * the change. A batch whose status does not qualify is left alone, without
 * an error; an unknown batch is %CD_ERROR_NOT_FOUND. */
static gboolean
cd_archive_update_batch_status(CdArchive *self, gint64 batch_id, const gchar *status, const gchar *condition,
                               GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *object = NULL;
  g_autofree gchar *sql = NULL;

  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  sql = g_strdup_printf("UPDATE batches SET status = ? WHERE id = ? AND (%s)", condition != NULL ? condition : "1");
  stmt = cd_archive_prepare(self, sql, error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, status);
  sqlite3_bind_int64(stmt, 2, batch_id);
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  if (sqlite3_changes(cd_archive_get_db(self)) == 0) {
    g_autoptr(sqlite3_stmt) exists = cd_archive_prepare(self, "SELECT 1 FROM batches WHERE id = ?", error);
    if (exists == NULL)
      return FALSE;
    sqlite3_bind_int64(exists, 1, batch_id);
    if (sqlite3_step(exists) == SQLITE_ROW)
      return TRUE;
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no batch %" G_GINT64_FORMAT, cd_archive_get_path(self),
                batch_id);
    return FALSE;
  }
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "status");
  json_builder_add_string_value(b, status);
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  object = g_strdup_printf("batch:%" G_GINT64_FORMAT, batch_id);
  if (!cd_archive_audit_locked(self, "ingest-state", object, detail, error) ||
      !cd_archive_audit_anchor_batch(self, batch_id, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/**
 * cd_archive_set_batch_status:
 * @self: a #CdArchive
 * @batch_id: a batch
 * @status: `queued`, `running`, `paused`, `finished`, `cancelled` or `failed`
 * @error: return location for a #GError
 *
 * Moves a journalled batch to another state and audits the change (who
 * paused, cancelled or resumed what matters as much as who ingested it).
 * `running` never replaces `paused`: a batch paused just as its run began
 * stays paused in the journal, whichever of the two was written first.
 *
 * Returns: %TRUE on success; %CD_ERROR_NOT_FOUND for an unknown batch
 *
 * Since: 0.1
 */
gboolean
cd_archive_set_batch_status(CdArchive *self, gint64 batch_id, const gchar *status, GError **error)
{
  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(status != NULL, FALSE);
  return cd_archive_update_batch_status(self, batch_id, status,
                                        g_strcmp0(status, "running") == 0 ? "status <> 'paused'" : NULL, error);
}

/**
 * cd_archive_set_batch_paused:
 * @self: a #CdArchive
 * @batch_id: a batch
 * @paused: whether the batch is paused
 * @error: return location for a #GError
 *
 * Journals a pause, so that a batch paused when its service stops or dies
 * is still paused when the service starts again: an unfinished batch
 * (`queued` or `running`) becomes `paused`, and a `paused` one becomes
 * `queued` again. A batch that has ended is left as it is.
 *
 * Returns: %TRUE on success; %CD_ERROR_NOT_FOUND for an unknown batch
 *
 * Since: 0.1
 */
gboolean
cd_archive_set_batch_paused(CdArchive *self, gint64 batch_id, gboolean paused, GError **error)
{
  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  if (paused)
    return cd_archive_update_batch_status(self, batch_id, "paused", "status IN ('queued', 'running')", error);
  return cd_archive_update_batch_status(self, batch_id, "queued", "status = 'paused'", error);
}

/**
 * cd_archive_get_batch:
 * @self: a #CdArchive
 * @batch_id: a batch
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the batch's journal row, or %NULL with @error
 *   set (%CD_ERROR_NOT_FOUND for an unknown batch)
 *
 * Since: 0.1
 */
CdBatchRecord *
cd_archive_get_batch(CdArchive *self, gint64 batch_id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_BATCHES, "see batches", "archive", error))
    return NULL;
  stmt = cd_archive_prepare(self, "SELECT " BATCH_COLUMNS " FROM batches WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, batch_id);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW)
    return record_from_row(stmt);
  if (rc == SQLITE_DONE)
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no batch %" G_GINT64_FORMAT, cd_archive_get_path(self),
                batch_id);
  else
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot read batch %" G_GINT64_FORMAT ": %s",
                cd_archive_get_path(self), batch_id, sqlite3_errmsg(cd_archive_get_db(self)));
  return NULL;
}

/**
 * cd_archive_list_batches:
 * @self: a #CdArchive
 * @statuses: (nullable) (array zero-terminated=1): only batches in one of
 *   these states; %NULL for all
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type CdBatchRecord): the batches,
 *   oldest first, or %NULL with @error set
 *
 * Since: 0.1
 */
GPtrArray *
cd_archive_list_batches(CdArchive *self, const gchar *const *statuses, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func((GDestroyNotify) cd_batch_record_free);
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_BATCHES, "see batches", "archive", error))
    return NULL;
  stmt = cd_archive_prepare(self, "SELECT " BATCH_COLUMNS " FROM batches ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const gchar *status = (const gchar *) sqlite3_column_text(stmt, 1);
    if (statuses != NULL && !g_strv_contains(statuses, status))
      continue;
    g_ptr_array_add(records, record_from_row(stmt));
  }
  if (rc != SQLITE_DONE) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot list batches: %s", cd_archive_get_path(self),
                sqlite3_errmsg(cd_archive_get_db(self)));
    return NULL;
  }
  return g_steal_pointer(&records);
}
