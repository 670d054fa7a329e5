/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SQLite archive, ingest: batches begun and ended, files and pages
 * already archived, and documents, pages and input files committed whole
 * or not at all.
 */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "cd-archive-private.h"
#include "cd-util-private.h"

/**
 * cd_archive_begin_batch:
 * @self: a #CdArchive opened as writer
 * @workflow: the workflow's name
 * @inputs: (array zero-terminated=1): what the user asked to ingest
 * @error: return location for a #GError
 *
 * Returns: the new batch's id, or 0 with @error set
 *
 * Since: 0.1
 */
gint64
cd_archive_begin_batch(CdArchive *self, const gchar *workflow, const gchar *const *inputs, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) inputs_node = NULL;
  g_autofree gchar *inputs_json = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  g_autofree gchar *object = NULL;
  gint64 id;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), 0);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RUN_BATCHES, "run batches", "archive", error))
    return 0;
  if (!cd_archive_require_writer(self, error))
    return 0;

  inputs_node = cd_json_strv_new(inputs);
  inputs_json = cd_json_to_string(inputs_node);

  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return 0;
  stmt = cd_archive_prepare(self, "INSERT INTO batches (started, actor, workflow, inputs) VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return 0;
  cd_bind_text(stmt, 1, ts);
  cd_bind_text(stmt, 2, cd_archive_get_actor(self));
  cd_bind_text(stmt, 3, workflow);
  cd_bind_text(stmt, 4, inputs_json);
  if (!cd_archive_step_done(self, stmt, error))
    return 0;
  id = sqlite3_last_insert_rowid(cd_archive_get_db(self));
  object = g_strdup_printf("batch:%" G_GINT64_FORMAT, id);
  if (!cd_archive_audit_locked(self, "ingest-start", object, inputs_node, error) ||
      !cd_archive_audit_anchor_batch(self, id, error))
    return 0;
  if (!cd_archive_txn_commit(txn, error))
    return 0;
  return id;
}

/**
 * cd_archive_end_batch:
 * @self: a #CdArchive opened as writer
 * @batch: the batch's tally
 * @status: `finished`, `cancelled` or `failed`
 * @error: return location for a #GError
 *
 * Stores the batch report and audits the ingest.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_end_batch(CdArchive *self, CdBatch *batch, const gchar *status, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) report = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) summary = NULL;
  g_autofree gchar *report_json = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  g_autofree gchar *object = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(CD_IS_BATCH(batch), FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require_writer(self, error))
    return FALSE;

  report = cd_batch_to_json(batch);
  report_json = cd_json_to_string(report);
  /* the audit entry keeps the counts, not the whole item list */
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "status");
  json_builder_add_string_value(b, status);
  json_builder_set_member_name(b, "pages_in");
  json_builder_add_int_value(b, cd_batch_get_pages_in(batch));
  for (guint i = 0; i < CD_BATCH_OUTCOME_LAST; i++) {
    json_builder_set_member_name(b, cd_batch_outcome_to_string(i));
    json_builder_add_int_value(b, cd_batch_get_count(batch, i));
  }
  json_builder_end_object(b);
  summary = json_builder_get_root(b);

  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  stmt = cd_archive_prepare(self, "UPDATE batches SET finished = ?, status = ?, report = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, ts);
  cd_bind_text(stmt, 2, status);
  cd_bind_text(stmt, 3, report_json);
  sqlite3_bind_int64(stmt, 4, cd_batch_get_id(batch));
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  object = g_strdup_printf("batch:%" G_GINT64_FORMAT, cd_batch_get_id(batch));
  if (!cd_archive_audit_locked(self, "ingest", object, summary, error) ||
      !cd_archive_audit_anchor_batch(self, cd_batch_get_id(batch), error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/**
 * cd_archive_find_file:
 * @self: a #CdArchive
 * @sha256: a file's SHA-256
 * @batch_id: (out) (optional): the batch that archived it
 * @error: return location for a #GError
 *
 * Returns: %TRUE if every page of a file with this content is archived;
 *   %FALSE if not, or on error (with @error set)
 *
 * Since: 0.1
 */
gboolean
cd_archive_find_file(CdArchive *self, const gchar *sha256, gint64 *batch_id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  stmt = cd_archive_prepare(self, "SELECT batch_id FROM files WHERE sha256 = ?", error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, sha256);
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return FALSE;
  if (batch_id != NULL)
    *batch_id = sqlite3_column_int64(stmt, 0);
  return TRUE;
}

/**
 * cd_archive_has_page:
 * @self: a #CdArchive
 * @sha256: the source file's SHA-256
 * @page: the 0-based page index
 * @error: return location for a #GError
 *
 * Returns: %TRUE if that page of that file is already recorded
 *
 * Since: 0.1
 */
gboolean
cd_archive_has_page(CdArchive *self, const gchar *sha256, gint page, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  if (sha256 == NULL || page < 0)
    return FALSE;
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  stmt = cd_archive_prepare(self, "SELECT 1 FROM pages WHERE source_sha256 = ? AND source_page = ?", error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, sha256);
  sqlite3_bind_int(stmt, 2, page);
  return sqlite3_step(stmt) == SQLITE_ROW;
}

/**
 * cd_archived_page_free:
 * @page: (nullable): a #CdArchivedPage
 *
 * Since: 0.1
 */
void
cd_archived_page_free(CdArchivedPage *page)
{
  if (page == NULL)
    return;
  g_free(page->source_path);
  g_free(page->reason);
  g_free(page);
}

/**
 * cd_archive_find_pages:
 * @self: a #CdArchive
 * @sha256: the source file's SHA-256
 * @page: a 0-based page index, or -1 for every page of the file
 * @error: return location for a #GError
 *
 * Says where archived input pages ended, and which batch archived them: a
 * page in a document is filed or in review (with the document's open
 * review reasons), a page kept out of documents is set aside or failed
 * (with its own reason). Whole-file failure records (page -1) are not
 * pages of the file and are never listed.
 *
 * Returns: (transfer container) (element-type CdArchivedPage): the pages
 *   found, in page order (empty when none is archived), or %NULL with
 *   @error set
 *
 * Since: 0.1
 */
GPtrArray *
cd_archive_find_pages(CdArchive *self, const gchar *sha256, gint page, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) pages = g_ptr_array_new_with_free_func((GDestroyNotify) cd_archived_page_free);
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  if (sha256 == NULL)
    return g_steal_pointer(&pages);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  stmt = cd_archive_prepare(self,
                            "SELECT p.id, p.batch_id, p.source_path, p.source_page, p.kind, p.reason, p.document_id, "
                            "d.status, (SELECT group_concat(r.reason, '; ') FROM review r "
                            "WHERE r.document_id = p.document_id AND r.resolved IS NULL) "
                            "FROM pages p LEFT JOIN documents d ON d.id = p.document_id "
                            "WHERE p.source_sha256 = ?1 AND p.source_page >= 0 AND (?2 < 0 OR p.source_page = ?2) "
                            "ORDER BY p.source_page",
                            error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, sha256);
  sqlite3_bind_int(stmt, 2, page);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    CdArchivedPage *p = g_new0(CdArchivedPage, 1);
    const gchar *kind = cd_column_text(stmt, 4);
    p->page_id = sqlite3_column_int64(stmt, 0);
    p->batch_id = sqlite3_column_int64(stmt, 1);
    p->source_path = g_strdup(cd_column_text(stmt, 2));
    p->source_page = sqlite3_column_int(stmt, 3);
    p->document_id = sqlite3_column_int64(stmt, 6);
    if (p->document_id > 0 && g_strcmp0(cd_column_text(stmt, 7), "review") == 0) {
      p->outcome = CD_BATCH_OUTCOME_REVIEW;
      p->reason = g_strdup(cd_column_text(stmt, 8) != NULL ? cd_column_text(stmt, 8) : "waiting for review");
    } else if (p->document_id > 0) {
      p->outcome = CD_BATCH_OUTCOME_FILED;
    } else {
      p->outcome = g_strcmp0(kind, "failed") == 0 ? CD_BATCH_OUTCOME_FAILED : CD_BATCH_OUTCOME_SET_ASIDE;
      p->reason = g_strdup(cd_column_text(stmt, 5));
    }
    g_ptr_array_add(pages, p);
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read archived pages");
    return NULL;
  }
  return g_steal_pointer(&pages);
}

static gchar *
cd_strv_ptr_array_to_json(GPtrArray *array)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;

  if (array == NULL || array->len == 0)
    return NULL;
  json_builder_begin_array(b);
  for (guint i = 0; i < array->len; i++)
    json_builder_add_string_value(b, g_ptr_array_index(array, i));
  json_builder_end_array(b);
  node = json_builder_get_root(b);
  return cd_json_to_string(node);
}

static gchar *
cd_words_to_json(GPtrArray *words)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;

  if (words->len == 0)
    return NULL;
  json_builder_begin_array(b);
  for (guint i = 0; i < words->len; i++) {
    CdWord *w = g_ptr_array_index(words, i);
    json_builder_begin_array(b);
    json_builder_add_int_value(b, w->x);
    json_builder_add_int_value(b, w->y);
    json_builder_add_int_value(b, w->width);
    json_builder_add_int_value(b, w->height);
    /* one decimal is all a confidence carries */
    json_builder_add_double_value(b, (gint) (w->confidence * 10 + 0.5) / 10.0);
    json_builder_add_int_value(b, w->line);
    json_builder_add_string_value(b, w->text);
    json_builder_end_array(b);
  }
  json_builder_end_array(b);
  node = json_builder_get_root(b);
  return cd_json_to_string(node);
}

static gchar *
cd_facts_to_json(CdPage *page)
{
  g_autoptr(GVariant) facts = cd_page_get_facts(page);
  g_autoptr(JsonNode) node = NULL;

  if (g_variant_n_children(facts) == 0)
    return NULL;
  node = json_gvariant_serialize(facts);
  return cd_json_to_string(node);
}

static gboolean
cd_archive_insert_image(CdArchive *self, CdPage *page, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GBytes *bytes = cd_page_get_image_bytes(page);
  gint width, height, depth, xres, yres;
  gsize size;
  gconstpointer data;

  if (bytes == NULL)
    return TRUE;
  stmt = cd_archive_prepare(self,
                            "INSERT OR IGNORE INTO images (sha256, format, width, height, depth, xres, yres, data) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            error);
  if (stmt == NULL)
    return FALSE;
  cd_page_get_image_info(page, &width, &height, &depth);
  cd_page_get_resolution(page, &xres, &yres);
  data = g_bytes_get_data(bytes, &size);
  cd_bind_text(stmt, 1, cd_page_get_image_sha256(page));
  cd_bind_text(stmt, 2, cd_page_get_image_format(page));
  sqlite3_bind_int(stmt, 3, width);
  sqlite3_bind_int(stmt, 4, height);
  sqlite3_bind_int(stmt, 5, depth);
  sqlite3_bind_int(stmt, 6, xres);
  sqlite3_bind_int(stmt, 7, yres);
  sqlite3_bind_blob64(stmt, 8, data, size, SQLITE_STATIC);
  return cd_archive_step_done(self, stmt, error);
}

/* Inserts one page row; the caller holds the transaction. */
static gboolean
cd_archive_insert_page(CdArchive *self, gint64 batch_id, gint64 document_id, gint seq, CdPage *page, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *words = NULL;
  g_autofree gchar *problems = NULL;
  g_autofree gchar *facts = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  gint xres, yres;

  if (!cd_archive_insert_image(self, page, error))
    return FALSE;
  stmt =
      cd_archive_prepare(self,
                         "INSERT INTO pages (batch_id, document_id, seq, kind, reason, source_path, source_page, "
                         "source_sha256, xres, yres, image_sha256, rotation, skew, text, words, confidence, "
                         "problems, facts, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         error);
  if (stmt == NULL)
    return FALSE;
  words = cd_words_to_json(cd_page_get_words(page));
  problems = cd_strv_ptr_array_to_json(cd_page_get_problems(page));
  facts = cd_facts_to_json(page);
  cd_page_get_resolution(page, &xres, &yres);

  sqlite3_bind_int64(stmt, 1, batch_id);
  if (document_id > 0) {
    sqlite3_bind_int64(stmt, 2, document_id);
    sqlite3_bind_int(stmt, 3, seq);
  }
  cd_bind_text(stmt, 4, cd_page_kind_to_string(cd_page_get_kind(page)));
  cd_bind_text(stmt, 5, cd_page_get_reason(page));
  cd_bind_text(stmt, 6, cd_page_get_source_path(page));
  sqlite3_bind_int(stmt, 7, cd_page_get_source_page(page));
  cd_bind_text(stmt, 8, cd_page_get_source_sha256(page));
  if (xres > 0)
    sqlite3_bind_int(stmt, 9, xres);
  if (yres > 0)
    sqlite3_bind_int(stmt, 10, yres);
  cd_bind_text(stmt, 11, cd_page_get_image_sha256(page));
  sqlite3_bind_int(stmt, 12, cd_page_get_rotation(page));
  sqlite3_bind_double(stmt, 13, cd_page_get_skew(page));
  cd_bind_text(stmt, 14, cd_page_get_text(page));
  cd_bind_text(stmt, 15, words);
  if (cd_page_get_confidence(page) >= 0)
    sqlite3_bind_double(stmt, 16, cd_page_get_confidence(page));
  cd_bind_text(stmt, 17, problems);
  cd_bind_text(stmt, 18, facts);
  cd_bind_text(stmt, 19, ts);
  if (!cd_archive_step_done(self, stmt, error)) {
    g_prefix_error(error, "%s page %d: ", cd_page_get_source_path(page), cd_page_get_source_page(page) + 1);
    return FALSE;
  }
  cd_page_set_id(page, sqlite3_last_insert_rowid(cd_archive_get_db(self)));
  return TRUE;
}

static gboolean
cd_archive_insert_review(CdArchive *self, gint64 document_id, gint64 page_id, const gchar *reason, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *ts = cd_now_iso8601();

  stmt =
      cd_archive_prepare(self, "INSERT INTO review (document_id, page_id, reason, created) VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  if (document_id > 0)
    sqlite3_bind_int64(stmt, 1, document_id);
  if (page_id > 0)
    sqlite3_bind_int64(stmt, 2, page_id);
  cd_bind_text(stmt, 3, reason);
  cd_bind_text(stmt, 4, ts);
  return cd_archive_step_done(self, stmt, error);
}

/**
 * cd_archive_commit_document:
 * @self: a #CdArchive opened as writer
 * @batch_id: the running batch
 * @document: the document with its pages
 * @error: return location for a #GError
 *
 * Stores the document, its pages, images and text, and its review entry if
 * it needs one, in one transaction: after a crash it is there whole or not
 * at all. On success the document and its pages carry their ids.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_commit_document(CdArchive *self, gint64 batch_id, CdDocument *document, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  GPtrArray *pages = cd_document_get_pages(document);
  gboolean review = cd_document_needs_review(document);
  gint64 doc_id;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(CD_IS_DOCUMENT(document), FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require_writer(self, error))
    return FALSE;

  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  stmt = cd_archive_prepare(self,
                            "INSERT INTO documents (batch_id, patient_mrn, status, type, type_confidence, date, title, "
                            "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, batch_id);
  cd_bind_text(stmt, 2, cd_document_get_patient_mrn(document));
  cd_bind_text(stmt, 3, review ? "review" : "filed");
  cd_bind_text(stmt, 4, cd_document_get_doc_type(document));
  if (cd_document_get_doc_type(document) != NULL)
    sqlite3_bind_double(stmt, 5, cd_document_get_type_confidence(document));
  cd_bind_text(stmt, 6, cd_document_get_date(document));
  cd_bind_text(stmt, 7, cd_document_get_title(document));
  cd_bind_text(stmt, 8, ts);
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  doc_id = sqlite3_last_insert_rowid(cd_archive_get_db(self));

  for (guint i = 0; i < pages->len; i++) {
    if (!cd_archive_insert_page(self, batch_id, doc_id, i, g_ptr_array_index(pages, i), error))
      return FALSE;
  }
  if (review) {
    g_autoptr(GString) reason = g_string_new(NULL);
    GPtrArray *problems = cd_document_get_problems(document);
    for (guint i = 0; i < problems->len; i++)
      g_string_append_printf(reason, "%s%s", reason->len > 0 ? "; " : "", (gchar *) g_ptr_array_index(problems, i));
    for (guint i = 0; i < pages->len; i++) {
      GPtrArray *pp = cd_page_get_problems(g_ptr_array_index(pages, i));
      for (guint j = 0; j < pp->len; j++)
        g_string_append_printf(reason, "%spage %u: %s", reason->len > 0 ? "; " : "", i + 1,
                               (gchar *) g_ptr_array_index(pp, j));
    }
    if (reason->len == 0)
      g_string_append(reason, "no patient identified");
    if (!cd_archive_insert_review(self, doc_id, 0, reason->str, error))
      return FALSE;
  }
  if (!cd_archive_txn_commit(txn, error))
    return FALSE;
  cd_document_set_id(document, doc_id);
  return TRUE;
}

/**
 * cd_archive_commit_page:
 * @self: a #CdArchive opened as writer
 * @batch_id: the running batch
 * @page: a page kept out of documents: blank, cover, separator or failed
 * @error: return location for a #GError
 *
 * Records a page that is not part of a document, so that every input page
 * is accounted for. A failed page also enters the review queue. A failure
 * record for a file replaces earlier failure records of the same file and
 * page, so retrying a bad file does not pile up entries.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_commit_page(CdArchive *self, gint64 batch_id, CdPage *page, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  CdPageKind kind = cd_page_get_kind(page);

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(CD_IS_PAGE(page), FALSE);
  g_return_val_if_fail(kind != CD_PAGE_KIND_PAGE && kind != CD_PAGE_KIND_DUPLICATE, FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require_writer(self, error))
    return FALSE;

  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  if (kind == CD_PAGE_KIND_FAILED) {
    g_autoptr(sqlite3_stmt) del_review = NULL;
    g_autoptr(sqlite3_stmt) del = NULL;
    const gchar *where = "kind = 'failed' AND source_path = ?1 AND source_page = ?2";
    g_autofree gchar *sql1 =
        g_strdup_printf("DELETE FROM review WHERE page_id IN (SELECT id FROM pages WHERE %s)", where);
    g_autofree gchar *sql2 = g_strdup_printf("DELETE FROM pages WHERE %s", where);
    del_review = cd_archive_prepare(self, sql1, error);
    del = cd_archive_prepare(self, sql2, error);
    if (del_review == NULL || del == NULL)
      return FALSE;
    cd_bind_text(del_review, 1, cd_page_get_source_path(page));
    sqlite3_bind_int(del_review, 2, cd_page_get_source_page(page));
    cd_bind_text(del, 1, cd_page_get_source_path(page));
    sqlite3_bind_int(del, 2, cd_page_get_source_page(page));
    if (!cd_archive_step_done(self, del_review, error) || !cd_archive_step_done(self, del, error))
      return FALSE;
  }
  if (!cd_archive_insert_page(self, batch_id, 0, 0, page, error))
    return FALSE;
  if (kind == CD_PAGE_KIND_FAILED &&
      !cd_archive_insert_review(self, 0, cd_page_get_id(page), cd_page_get_reason(page), error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/**
 * cd_archive_commit_file:
 * @self: a #CdArchive opened as writer
 * @batch_id: the running batch
 * @sha256: the file's SHA-256
 * @path: the file as named
 * @size: its size in bytes
 * @n_pages: how many pages it had
 * @error: return location for a #GError
 *
 * Marks a file as wholly recorded, after the last of its pages was
 * committed. Ingesting the same content again is then skipped up front.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_commit_file(CdArchive *self, gint64 batch_id, const gchar *sha256, const gchar *path, guint64 size,
                       guint n_pages, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *ts = cd_now_iso8601();

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require_writer(self, error))
    return FALSE;
  stmt = cd_archive_prepare(self,
                            "INSERT OR IGNORE INTO files (sha256, path, size, pages, batch_id, added) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, sha256);
  cd_bind_text(stmt, 2, path);
  sqlite3_bind_int64(stmt, 3, (sqlite3_int64) size);
  sqlite3_bind_int(stmt, 4, n_pages);
  sqlite3_bind_int64(stmt, 5, batch_id);
  cd_bind_text(stmt, 6, ts);
  return cd_archive_step_done(self, stmt, error);
}

/**
 * cd_search_hit_free:
 * @hit: (nullable): a #CdSearchHit
 *
 * Since: 0.1
 */
void
cd_search_hit_free(CdSearchHit *hit)
{
  if (hit == NULL)
    return;
  g_free(hit->patient_mrn);
  g_free(hit->doc_type);
  g_free(hit->date);
  g_free(hit->status);
  g_free(hit->source_path);
  g_free(hit->snippet);
  g_free(hit->patient_name);
  g_free(hit->title);
  g_free(hit->snippet_text);
  if (hit->spans != NULL)
    g_array_unref(hit->spans);
  g_free(hit);
}
