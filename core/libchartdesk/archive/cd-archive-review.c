/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The review queue: what the machine could not prove, and the decisions
 * people take on it. Every decision is audited with who and why.
 */
#include "config.h"

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-util-private.h"

/**
 * cd_review_item_free:
 * @item: (nullable): a #CdReviewItem
 *
 * Since: 0.1
 */
void
cd_review_item_free(CdReviewItem *item)
{
  if (item == NULL)
    return;
  g_free(item->reason);
  g_free(item->created);
  g_free(item->resolved);
  g_free(item->resolved_by);
  g_free(item->resolution);
  g_free(item->assignee);
  g_free(item->assigned);
  g_free(item);
}

/**
 * cd_archive_list_review:
 * @self: a #CdArchive
 * @include_resolved: also list decided items
 * @error: return location for a #GError
 *
 * Audited (`review-list`): the reasons name patients.
 *
 * Returns: (transfer container) (element-type CdReviewItem): the queue,
 *   oldest first
 *
 * Since: 0.1
 */
GPtrArray *
cd_archive_list_review(CdArchive *self, gboolean include_resolved, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify) cd_review_item_free);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_REVIEW, "list the review queue", "review", error))
    return NULL;
  stmt = cd_archive_prepare(self,
                            "SELECT id, document_id, page_id, reason, created, resolved, resolved_by, resolution, "
                            "assignee, assigned FROM review WHERE (?1 OR resolved IS NULL) AND (?2 IS NULL OR document_id IS NULL OR "
                            "document_id NOT IN (SELECT id FROM documents WHERE type IN (SELECT value FROM "
                            "json_each(?2)))) ORDER BY id",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int(stmt, 1, include_resolved);
  /* restricted documents stay out of the listing itself */
  cd_bind_text(stmt, 2, cd_archive_hidden_types(self));
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    CdReviewItem *item = g_new0(CdReviewItem, 1);
    item->id = sqlite3_column_int64(stmt, 0);
    item->document_id = sqlite3_column_int64(stmt, 1);
    item->page_id = sqlite3_column_int64(stmt, 2);
    item->reason = cd_column_dup(stmt, 3);
    item->created = cd_column_dup(stmt, 4);
    item->resolved = cd_column_dup(stmt, 5);
    item->resolved_by = cd_column_dup(stmt, 6);
    item->resolution = cd_column_dup(stmt, 7);
    item->assignee = cd_column_dup(stmt, 8);
    item->assigned = cd_column_dup(stmt, 9);
    g_ptr_array_add(items, item);
  }
  /* the reasons name patients and MRNs: reading the queue is a read of
   * patient data like any other */
  {
    g_autoptr(JsonObject) obj = json_object_new();
    g_autoptr(JsonNode) detail = NULL;
    json_object_set_int_member(obj, "items", items->len);
    json_object_set_boolean_member(obj, "all", include_resolved);
    detail = json_node_init_object(json_node_alloc(), obj);
    if (!cd_archive_audit(self, "review-list", "review", detail, error))
      return NULL;
  }
  return g_steal_pointer(&items);
}

static gboolean
cd_require_why(const gchar *why, GError **error)
{
  g_autofree gchar *stripped = why != NULL ? g_strstrip(g_strdup(why)) : NULL;
  if (stripped == NULL || stripped[0] == '\0') {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                        "a review decision needs a reason (why), for the audit log");
    return FALSE;
  }
  return TRUE;
}

/* The document's current patient, or NULL; FALSE if there is no such
 * document. */
static gboolean
cd_archive_document_patient(CdArchive *self, gint64 id, gchar **mrn, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, "SELECT patient_mrn FROM documents WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, id);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, cd_archive_get_path(self),
                id);
    return FALSE;
  }
  *mrn = cd_column_dup(stmt, 0);
  return TRUE;
}

/* Closes the document's open review items with @resolution. */
static gboolean
cd_archive_resolve_document_items(CdArchive *self, gint64 document_id, const gchar *resolution, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *ts = cd_now_iso8601();

  stmt = cd_archive_prepare(self,
                            "UPDATE review SET resolved = ?2, resolved_by = ?3, resolution = ?4 "
                            "WHERE document_id = ?1 AND resolved IS NULL",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, document_id);
  cd_bind_text(stmt, 2, ts);
  cd_bind_text(stmt, 3, cd_archive_get_actor(self));
  cd_bind_text(stmt, 4, resolution);
  return cd_archive_step_done(self, stmt, error);
}

static JsonNode *
cd_review_detail(const gchar *why, const gchar *key, const gchar *value, const gchar *key2, gint64 value2)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "why");
  json_builder_add_string_value(b, why);
  if (key != NULL) {
    json_builder_set_member_name(b, key);
    json_builder_add_string_value(b, value);
  }
  if (key2 != NULL) {
    json_builder_set_member_name(b, key2);
    json_builder_add_int_value(b, value2);
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/**
 * cd_archive_review_assign:
 * @self: a #CdArchive
 * @document_id: a document
 * @mrn: the patient a person has established it belongs to
 * @why: the reason, for the audit log
 * @error: return location for a #GError
 *
 * Files a document to a patient by a person's decision: the MRN must be in
 * the patient index (a merged MRN files to its survivor), the document's
 * open review items are closed, and the decision is audited with who, why
 * and the previous patient.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_review_assign(CdArchive *self, gint64 document_id, const gchar *mrn, const gchar *why, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(CdPatient) patient = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *previous = NULL;
  g_autofree gchar *object = NULL;
  g_autofree gchar *resolution = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(mrn != NULL, FALSE);
  if (!cd_require_why(why, error))
    return FALSE;
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_REVIEW, "assign documents in review", "review", error))
    return FALSE;
  if (!cd_archive_require_visible(self, document_id, error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  if (!cd_archive_document_patient(self, document_id, &previous, error))
    return FALSE;
  patient = cd_archive_resolve_patient(self, mrn, error);
  if (patient == NULL)
    return FALSE;
  stmt = cd_archive_prepare(self, "UPDATE documents SET patient_mrn = ?2, status = 'filed' WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, document_id);
  cd_bind_text(stmt, 2, patient->mrn);
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  resolution = g_strdup_printf("assigned to MRN %s: %s", patient->mrn, why);
  if (!cd_archive_resolve_document_items(self, document_id, resolution, error))
    return FALSE;
  object = g_strdup_printf("document:%" G_GINT64_FORMAT, document_id);
  detail = cd_review_detail(why, "mrn", patient->mrn, NULL, 0);
  if (previous != NULL)
    json_object_set_string_member(json_node_get_object(detail), "previous", previous);
  if (!cd_archive_audit_locked(self, "review-assign", object, detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/**
 * cd_archive_review_split:
 * @self: a #CdArchive
 * @document_id: a document
 * @at: 1-based position of the first page of the new document (2 or more)
 * @why: the reason, for the audit log
 * @error: return location for a #GError
 *
 * Splits a document in two where a separator was missed. The new document
 * keeps the batch, type and date but not the patient: its identity is
 * unproven until a person proves it, so it enters the review queue.
 *
 * Returns: the new document's id, or 0 with @error set
 *
 * Since: 0.1
 */
gint64
cd_archive_review_split(CdArchive *self, gint64 document_id, guint at, const gchar *why, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) count = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  g_autoptr(sqlite3_stmt) move = NULL;
  g_autoptr(sqlite3_stmt) queue = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *previous = NULL;
  g_autofree gchar *object = NULL;
  g_autofree gchar *reason = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  gint n_pages;
  gint64 new_id;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), 0);
  if (!cd_require_why(why, error))
    return 0;
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_REVIEW, "split documents in review", "review", error))
    return 0;
  if (!cd_archive_require_visible(self, document_id, error))
    return 0;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return 0;
  if (!cd_archive_document_patient(self, document_id, &previous, error))
    return 0;
  count = cd_archive_prepare(self, "SELECT count(*) FROM pages WHERE document_id = ?", error);
  if (count == NULL)
    return 0;
  sqlite3_bind_int64(count, 1, document_id);
  n_pages = sqlite3_step(count) == SQLITE_ROW ? sqlite3_column_int(count, 0) : 0;
  if (at < 2 || (gint) at > n_pages) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "document %" G_GINT64_FORMAT " has %d pages: the new document must start at page 2 to %d", document_id,
                n_pages, n_pages);
    return 0;
  }

  insert = cd_archive_prepare(self,
                              "INSERT INTO documents (batch_id, patient_mrn, status, type, type_confidence, date, "
                              "title, created) SELECT batch_id, NULL, 'review', type, type_confidence, date, NULL, ?2 "
                              "FROM documents WHERE id = ?1",
                              error);
  if (insert == NULL)
    return 0;
  sqlite3_bind_int64(insert, 1, document_id);
  cd_bind_text(insert, 2, ts);
  if (!cd_archive_step_done(self, insert, error))
    return 0;
  new_id = sqlite3_last_insert_rowid(cd_archive_get_db(self));

  /* seq counts from 0, so page `at` (1-based) has seq at - 1 */
  move = cd_archive_prepare(
      self, "UPDATE pages SET document_id = ?2, seq = seq - ?3 WHERE document_id = ?1 AND seq >= ?3", error);
  if (move == NULL)
    return 0;
  sqlite3_bind_int64(move, 1, document_id);
  sqlite3_bind_int64(move, 2, new_id);
  sqlite3_bind_int(move, 3, at - 1);
  if (!cd_archive_step_done(self, move, error))
    return 0;

  reason = g_strdup_printf("split from document %" G_GINT64_FORMAT " by %s: %s", document_id,
                           cd_archive_get_actor(self), why);
  queue = cd_archive_prepare(self, "INSERT INTO review (document_id, reason, created) VALUES (?1, ?2, ?3)", error);
  if (queue == NULL)
    return 0;
  sqlite3_bind_int64(queue, 1, new_id);
  cd_bind_text(queue, 2, reason);
  cd_bind_text(queue, 3, ts);
  if (!cd_archive_step_done(self, queue, error))
    return 0;

  object = g_strdup_printf("document:%" G_GINT64_FORMAT, document_id);
  detail = cd_review_detail(why, NULL, NULL, "new_document", new_id);
  json_object_set_int_member(json_node_get_object(detail), "at_page", at);
  if (!cd_archive_audit_locked(self, "review-split", object, detail, error))
    return 0;
  if (!cd_archive_txn_commit(txn, error))
    return 0;
  return new_id;
}

/**
 * cd_archive_review_merge:
 * @self: a #CdArchive
 * @into_id: the document that continues
 * @from_id: the document whose pages are appended to it, then removed
 * @why: the reason, for the audit log
 * @error: return location for a #GError
 *
 * Joins two documents that are one. Documents filed to different patients
 * are never merged. The result keeps @into_id's patient (or takes
 * @from_id's when it has none) and its open review items; those of
 * @from_id are closed as merged.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_review_merge(CdArchive *self, gint64 into_id, gint64 from_id, const gchar *why, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) move = NULL;
  g_autoptr(sqlite3_stmt) drop = NULL;
  g_autoptr(sqlite3_stmt) adopt = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *into_mrn = NULL;
  g_autofree gchar *from_mrn = NULL;
  g_autofree gchar *object = NULL;
  g_autofree gchar *resolution = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  if (!cd_require_why(why, error))
    return FALSE;
  if (into_id == from_id) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "a document cannot be merged into itself");
    return FALSE;
  }
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_REVIEW, "merge documents in review", "review", error))
    return FALSE;
  if (!cd_archive_require_visible(self, into_id, error))
    return FALSE;
  if (!cd_archive_require_visible(self, from_id, error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  if (!cd_archive_document_patient(self, into_id, &into_mrn, error) ||
      !cd_archive_document_patient(self, from_id, &from_mrn, error))
    return FALSE;
  if (into_mrn != NULL && from_mrn != NULL && g_strcmp0(into_mrn, from_mrn) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "documents %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT
                " belong to different patients (%s, %s): assign one first",
                into_id, from_id, into_mrn, from_mrn);
    return FALSE;
  }
  move = cd_archive_prepare(self,
                            "UPDATE pages SET document_id = ?1, seq = seq + (SELECT count(*) FROM pages "
                            "WHERE document_id = ?1) WHERE document_id = ?2",
                            error);
  if (move == NULL)
    return FALSE;
  sqlite3_bind_int64(move, 1, into_id);
  sqlite3_bind_int64(move, 2, from_id);
  if (!cd_archive_step_done(self, move, error))
    return FALSE;
  if (into_mrn == NULL && from_mrn != NULL) {
    adopt = cd_archive_prepare(self, "UPDATE documents SET patient_mrn = ?2 WHERE id = ?1", error);
    if (adopt == NULL)
      return FALSE;
    sqlite3_bind_int64(adopt, 1, into_id);
    cd_bind_text(adopt, 2, from_mrn);
    if (!cd_archive_step_done(self, adopt, error))
      return FALSE;
  }
  resolution = g_strdup_printf("merged into document %" G_GINT64_FORMAT ": %s", into_id, why);
  if (!cd_archive_resolve_document_items(self, from_id, resolution, error))
    return FALSE;
  drop = cd_archive_prepare(self, "UPDATE review SET document_id = ?1 WHERE document_id = ?2; ", error);
  if (drop == NULL)
    return FALSE;
  sqlite3_bind_int64(drop, 1, into_id);
  sqlite3_bind_int64(drop, 2, from_id);
  if (!cd_archive_step_done(self, drop, error))
    return FALSE;
  g_clear_pointer(&drop, sqlite3_finalize);
  drop = cd_archive_prepare(self, "DELETE FROM documents WHERE id = ?", error);
  if (drop == NULL)
    return FALSE;
  sqlite3_bind_int64(drop, 1, from_id);
  if (!cd_archive_step_done(self, drop, error))
    return FALSE;
  object = g_strdup_printf("document:%" G_GINT64_FORMAT, into_id);
  detail = cd_review_detail(why, NULL, NULL, "merged_document", from_id);
  if (!cd_archive_audit_locked(self, "review-merge", object, detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/**
 * cd_archive_review_resolve:
 * @self: a #CdArchive
 * @item_id: a review item
 * @why: what was done, for the audit log (`rescanned as batch 12`)
 * @error: return location for a #GError
 *
 * Closes one review item without filing anything: an unreadable page that
 * was rescanned, a document confirmed as it is.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_review_resolve(CdArchive *self, gint64 item_id, const gchar *why, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  g_autofree gchar *object = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  if (!cd_require_why(why, error))
    return FALSE;
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_REVIEW, "resolve review items", "review", error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  stmt = cd_archive_prepare(self,
                            "UPDATE review SET resolved = ?2, resolved_by = ?3, resolution = ?4 "
                            "WHERE id = ?1 AND resolved IS NULL",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, item_id);
  cd_bind_text(stmt, 2, ts);
  cd_bind_text(stmt, 3, cd_archive_get_actor(self));
  cd_bind_text(stmt, 4, why);
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  if (sqlite3_changes(cd_archive_get_db(self)) == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no open review item %" G_GINT64_FORMAT, item_id);
    return FALSE;
  }
  object = g_strdup_printf("review:%" G_GINT64_FORMAT, item_id);
  detail = cd_review_detail(why, NULL, NULL, NULL, 0);
  if (!cd_archive_audit_locked(self, "review-resolve", object, detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/**
 * cd_archive_review_claim:
 * @self: a #CdArchive
 * @item_id: an open review item
 * @release: %TRUE to give the item back to the queue
 * @error: return location for a #GError
 *
 * Marks who is working an open item: the acting principal takes it (from
 * whoever had it: a supervisor reassigns by taking it over), or with
 * @release gives it back. Needs no reason — it decides nothing — but is
 * audited (`review-claim`, `review-release`, naming who had it before).
 * Resolving an item leaves its assignee as the record of who worked it.
 *
 * Returns: %TRUE on success; %CD_ERROR_NOT_FOUND for no open item
 *
 * Since: 0.4
 */
gboolean
cd_archive_review_claim(CdArchive *self, gint64 item_id, gboolean release, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) before = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  g_autofree gchar *object = NULL;
  g_autofree gchar *previous = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_REVIEW, "take review items", "review", error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  before = cd_archive_prepare(self, "SELECT assignee FROM review WHERE id = ?1 AND resolved IS NULL", error);
  if (before == NULL)
    return FALSE;
  sqlite3_bind_int64(before, 1, item_id);
  if (sqlite3_step(before) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no open review item %" G_GINT64_FORMAT, item_id);
    return FALSE;
  }
  previous = cd_column_dup(before, 0);
  stmt = cd_archive_prepare(self, "UPDATE review SET assignee = ?2, assigned = ?3 WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, item_id);
  cd_bind_text(stmt, 2, release ? NULL : cd_archive_get_actor(self));
  cd_bind_text(stmt, 3, release ? NULL : ts);
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  object = g_strdup_printf("review:%" G_GINT64_FORMAT, item_id);
  json_object_set_string_member(obj, "previous", previous);
  detail = json_node_init_object(json_node_alloc(), obj);
  if (!cd_archive_audit_locked(self, release ? "review-release" : "review-claim", object, detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/* Whether one review reason is about the document's type: the engine's
 * threshold and failure reasons, which a person's choice of type answers. */
static gboolean
cd_review_reason_is_type(const gchar *reason)
{
  return g_str_has_prefix(reason, "low-confidence type (") ||
         g_str_has_prefix(reason, "document type not recognised") || g_str_has_prefix(reason, "classifier ");
}

/**
 * cd_archive_review_set_type:
 * @self: a #CdArchive
 * @document_id: a document
 * @type: the document type a person has established, a name of the
 *   taxonomy (the caller checks it against the taxonomy in use)
 * @why: the reason, for the audit log
 * @error: return location for a #GError
 *
 * Sets a document's type by a person's decision, with confidence 1. The
 * reasons its review items give about the type (low confidence, not
 * recognised, a classifier that failed) are answered: an item left with no
 * other reason is closed, and a document with a proven patient and nothing
 * else open is filed. Other reasons (no patient) stay open. The decision is
 * audited with who, why and the previous type.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_review_set_type(CdArchive *self, gint64 document_id, const gchar *type, const gchar *why, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) doc = NULL;
  g_autoptr(sqlite3_stmt) update = NULL;
  g_autoptr(sqlite3_stmt) items = NULL;
  g_autoptr(sqlite3_stmt) open_left = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func(g_free);
  g_autofree gchar *previous = NULL;
  g_autofree gchar *object = NULL;
  g_autofree gchar *resolution = NULL;
  g_autofree gchar *ts = cd_now_iso8601();

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(type != NULL, FALSE);
  if (!cd_require_why(why, error))
    return FALSE;
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_REVIEW, "set document types in review", "review", error))
    return FALSE;
  if (!cd_archive_require_visible(self, document_id, error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  doc = cd_archive_prepare(self, "SELECT type FROM documents WHERE id = ?", error);
  if (doc == NULL)
    return FALSE;
  sqlite3_bind_int64(doc, 1, document_id);
  if (sqlite3_step(doc) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, cd_archive_get_path(self),
                document_id);
    return FALSE;
  }
  previous = cd_column_dup(doc, 0);

  update = cd_archive_prepare(self, "UPDATE documents SET type = ?2, type_confidence = 1.0 WHERE id = ?1", error);
  if (update == NULL)
    return FALSE;
  sqlite3_bind_int64(update, 1, document_id);
  cd_bind_text(update, 2, type);
  if (!cd_archive_step_done(self, update, error))
    return FALSE;

  /* answer the type reasons of the open items, keep the others */
  items = cd_archive_prepare(self, "SELECT id, reason FROM review WHERE document_id = ? AND resolved IS NULL", error);
  if (items == NULL)
    return FALSE;
  sqlite3_bind_int64(items, 1, document_id);
  while (sqlite3_step(items) == SQLITE_ROW) {
    gint64 item_id = sqlite3_column_int64(items, 0);
    g_array_append_val(ids, item_id);
    g_ptr_array_add(reasons, cd_column_dup(items, 1));
  }
  resolution = g_strdup_printf("type set to %s: %s", type, why);
  for (guint i = 0; i < ids->len; i++) {
    g_auto(GStrv) parts =
        g_strsplit(g_ptr_array_index(reasons, i) != NULL ? g_ptr_array_index(reasons, i) : "", "; ", -1);
    g_autoptr(GPtrArray) kept = g_ptr_array_new();
    g_autoptr(sqlite3_stmt) stmt = NULL;
    for (guint p = 0; parts[p] != NULL; p++) {
      if (!cd_review_reason_is_type(parts[p]))
        g_ptr_array_add(kept, parts[p]);
    }
    if (kept->len == g_strv_length(parts))
      continue;
    if (kept->len == 0) {
      stmt = cd_archive_prepare(
          self, "UPDATE review SET resolved = ?2, resolved_by = ?3, resolution = ?4 WHERE id = ?1", error);
      if (stmt == NULL)
        return FALSE;
      cd_bind_text(stmt, 2, ts);
      cd_bind_text(stmt, 3, cd_archive_get_actor(self));
      cd_bind_text(stmt, 4, resolution);
    } else {
      g_autofree gchar *left = NULL;
      g_ptr_array_add(kept, NULL);
      left = g_strjoinv("; ", (gchar **) kept->pdata);
      stmt = cd_archive_prepare(self, "UPDATE review SET reason = ?2 WHERE id = ?1", error);
      if (stmt == NULL)
        return FALSE;
      cd_bind_text(stmt, 2, left);
    }
    sqlite3_bind_int64(stmt, 1, g_array_index(ids, gint64, i));
    if (!cd_archive_step_done(self, stmt, error))
      return FALSE;
  }

  /* nothing else in doubt and a proven patient: filed */
  open_left = cd_archive_prepare(self,
                                 "UPDATE documents SET status = 'filed' WHERE id = ?1 AND patient_mrn IS NOT NULL "
                                 "AND NOT EXISTS (SELECT 1 FROM review WHERE document_id = ?1 AND resolved IS NULL)",
                                 error);
  if (open_left == NULL)
    return FALSE;
  sqlite3_bind_int64(open_left, 1, document_id);
  if (!cd_archive_step_done(self, open_left, error))
    return FALSE;

  object = g_strdup_printf("document:%" G_GINT64_FORMAT, document_id);
  detail = cd_review_detail(why, "type", type, NULL, 0);
  if (previous != NULL)
    json_object_set_string_member(json_node_get_object(detail), "previous", previous);
  if (!cd_archive_audit_locked(self, "review-type", object, detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}
