/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SQLite archive, records: documents and pages as JSON, stored page
 * images, and the whole archive exported as JSON Lines.
 */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "cd-archive-private.h"
#include "cd-util-private.h"

static void
cd_json_add_parsed(JsonBuilder *b, const gchar *member, const gchar *json, gboolean array)
{
  g_autoptr(JsonParser) parser = json_parser_new();

  json_builder_set_member_name(b, member);
  if (json != NULL && json_parser_load_from_data(parser, json, -1, NULL)) {
    json_builder_add_value(b, json_node_copy(json_parser_get_root(parser)));
    return;
  }
  if (array) {
    json_builder_begin_array(b);
    json_builder_end_array(b);
  } else {
    json_builder_begin_object(b);
    json_builder_end_object(b);
  }
}

/* Writes the members of one page row selected with PAGE_COLUMNS. The member
 * names are the stable export interface documented in the README. */
static void
cd_archive_page_json(JsonBuilder *b, sqlite3_stmt *stmt, gboolean in_document, gboolean with_words)
{
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, sqlite3_column_int64(stmt, 0));
  if (!in_document) {
    cd_json_add_string_or_null(b, "kind", cd_column_text(stmt, 3));
    cd_json_add_string_or_null(b, "reason", cd_column_text(stmt, 4));
    json_builder_set_member_name(b, "batch");
    json_builder_add_int_value(b, sqlite3_column_int64(stmt, 18));
  }
  json_builder_set_member_name(b, "source");
  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "path", cd_column_text(stmt, 5));
  json_builder_set_member_name(b, "page");
  if (sqlite3_column_int(stmt, 6) >= 0)
    json_builder_add_int_value(b, sqlite3_column_int(stmt, 6));
  else
    json_builder_add_null_value(b);
  cd_json_add_string_or_null(b, "sha256", cd_column_text(stmt, 7));
  json_builder_end_object(b);
  json_builder_set_member_name(b, "resolution");
  if (sqlite3_column_type(stmt, 8) != SQLITE_NULL) {
    json_builder_begin_array(b);
    json_builder_add_int_value(b, sqlite3_column_int(stmt, 8));
    json_builder_add_int_value(b, sqlite3_column_int(stmt, 9));
    json_builder_end_array(b);
  } else {
    json_builder_add_null_value(b);
  }
  json_builder_set_member_name(b, "image");
  if (sqlite3_column_type(stmt, 10) != SQLITE_NULL) {
    json_builder_begin_object(b);
    cd_json_add_string_or_null(b, "sha256", cd_column_text(stmt, 10));
    cd_json_add_string_or_null(b, "format", cd_column_text(stmt, 19));
    json_builder_set_member_name(b, "width");
    json_builder_add_int_value(b, sqlite3_column_int(stmt, 20));
    json_builder_set_member_name(b, "height");
    json_builder_add_int_value(b, sqlite3_column_int(stmt, 21));
    json_builder_end_object(b);
  } else {
    json_builder_add_null_value(b);
  }
  json_builder_set_member_name(b, "rotation");
  json_builder_add_int_value(b, sqlite3_column_int(stmt, 11));
  json_builder_set_member_name(b, "skew");
  json_builder_add_double_value(b, sqlite3_column_double(stmt, 12));
  cd_json_add_string_or_null(b, "text", cd_column_text(stmt, 13));
  json_builder_set_member_name(b, "confidence");
  if (sqlite3_column_type(stmt, 15) != SQLITE_NULL)
    json_builder_add_double_value(b, sqlite3_column_double(stmt, 15));
  else
    json_builder_add_null_value(b);
  if (with_words)
    cd_json_add_parsed(b, "words", cd_column_text(stmt, 14), TRUE);
  cd_json_add_parsed(b, "problems", cd_column_text(stmt, 16), TRUE);
  cd_json_add_parsed(b, "facts", cd_column_text(stmt, 17), FALSE);
}

static void
cd_archive_patient_json(CdArchive *self, JsonBuilder *b, const gchar *mrn)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  json_builder_set_member_name(b, "patient");
  if (mrn == NULL) {
    json_builder_add_null_value(b);
    return;
  }
  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "mrn", mrn);
  stmt = cd_archive_prepare(self, "SELECT family, given, middle, dob, sex FROM patients WHERE mrn = ?", NULL);
  if (stmt != NULL) {
    cd_bind_text(stmt, 1, mrn);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      cd_json_add_string_or_null(b, "family", cd_column_text(stmt, 0));
      cd_json_add_string_or_null(b, "given", cd_column_text(stmt, 1));
      cd_json_add_string_or_null(b, "middle", cd_column_text(stmt, 2));
      cd_json_add_string_or_null(b, "dob", cd_column_text(stmt, 3));
      cd_json_add_string_or_null(b, "sex", cd_column_text(stmt, 4));
    }
  }
  json_builder_end_object(b);
}

/* Builds the JSON object of one document, pages included. */
JsonNode *
cd_archive_document_json(CdArchive *self, gint64 id, gboolean with_words, GError **error)
{
  g_autoptr(sqlite3_stmt) doc = NULL;
  g_autoptr(sqlite3_stmt) pages = NULL;
  g_autoptr(sqlite3_stmt) review = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  gint rc;

  doc = cd_archive_prepare(self,
                           "SELECT id, batch_id, patient_mrn, status, type, type_confidence, date, title, created "
                           "FROM documents WHERE id = ?",
                           error);
  if (doc == NULL)
    return NULL;
  sqlite3_bind_int64(doc, 1, id);
  if (sqlite3_step(doc) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, cd_archive_get_path(self),
                id);
    return NULL;
  }
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, id);
  json_builder_set_member_name(b, "batch");
  json_builder_add_int_value(b, sqlite3_column_int64(doc, 1));
  cd_archive_patient_json(self, b, cd_column_text(doc, 2));
  cd_json_add_string_or_null(b, "status", cd_column_text(doc, 3));
  cd_json_add_string_or_null(b, "type", cd_column_text(doc, 4));
  json_builder_set_member_name(b, "type_confidence");
  if (sqlite3_column_type(doc, 5) != SQLITE_NULL)
    json_builder_add_double_value(b, sqlite3_column_double(doc, 5));
  else
    json_builder_add_null_value(b);
  cd_json_add_string_or_null(b, "date", cd_column_text(doc, 6));
  cd_json_add_string_or_null(b, "title", cd_column_text(doc, 7));
  cd_json_add_string_or_null(b, "created", cd_column_text(doc, 8));

  review = cd_archive_prepare(self, "SELECT reason FROM review WHERE document_id = ? AND resolved IS NULL ORDER BY id",
                              error);
  if (review == NULL)
    return NULL;
  sqlite3_bind_int64(review, 1, id);
  json_builder_set_member_name(b, "review");
  json_builder_begin_array(b);
  while (sqlite3_step(review) == SQLITE_ROW)
    json_builder_add_string_value(b, cd_column_text(review, 0));
  json_builder_end_array(b);

  pages = cd_archive_prepare(self, "SELECT " PAGE_COLUMNS PAGE_FROM "WHERE p.document_id = ? ORDER BY p.seq", error);
  if (pages == NULL)
    return NULL;
  sqlite3_bind_int64(pages, 1, id);
  json_builder_set_member_name(b, "pages");
  json_builder_begin_array(b);
  while ((rc = sqlite3_step(pages)) == SQLITE_ROW) {
    json_builder_begin_object(b);
    cd_archive_page_json(b, pages, TRUE, with_words);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read pages");
    return NULL;
  }
  /* legal holds, shown on the chart; a destroyed document's tombstone */
  if (!cd_archive_retention_document_json(self, b, id, error))
    return NULL;
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static JsonNode *
cd_archive_page_record_json(CdArchive *self, sqlite3_stmt *stmt, gboolean with_words)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  cd_archive_page_json(b, stmt, FALSE, with_words);
  if (sqlite3_column_type(stmt, 1) != SQLITE_NULL) {
    json_builder_set_member_name(b, "document");
    json_builder_add_int_value(b, sqlite3_column_int64(stmt, 1));
    json_builder_set_member_name(b, "seq");
    json_builder_add_int_value(b, sqlite3_column_int(stmt, 2));
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/**
 * cd_archive_get_document:
 * @self: a #CdArchive
 * @id: a document id
 * @error: return location for a #GError
 *
 * Returns the document as the export prints it, words included. Audited as
 * a view.
 *
 * Returns: (transfer full): the document as JSON, or %NULL with @error set
 *
 * Since: 0.1
 */
JsonNode *
cd_archive_get_document(CdArchive *self, gint64 id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *object = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require_document(self, id, "read documents", error))
    return NULL;
  node = cd_archive_document_json(self, id, TRUE, error);
  if (node == NULL)
    return NULL;
  object = g_strdup_printf("document:%" G_GINT64_FORMAT, id);
  if (!cd_archive_audit(self, "view", object, NULL, error))
    return NULL;
  return g_steal_pointer(&node);
}

/**
 * cd_archive_get_page:
 * @self: a #CdArchive
 * @id: a page id
 * @error: return location for a #GError
 *
 * Returns one page record with words, its document id and position. Audited
 * as a view.
 *
 * Returns: (transfer full): the page as JSON, or %NULL with @error set
 *
 * Since: 0.1
 */
JsonNode *
cd_archive_get_page(CdArchive *self, gint64 id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *object = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require_page(self, id, "read pages", error))
    return NULL;
  stmt = cd_archive_prepare(self, "SELECT " PAGE_COLUMNS PAGE_FROM "WHERE p.id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, id);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no page %" G_GINT64_FORMAT, cd_archive_get_path(self), id);
    return NULL;
  }
  node = cd_archive_page_record_json(self, stmt, TRUE);
  object = g_strdup_printf("page:%" G_GINT64_FORMAT, id);
  if (!cd_archive_audit(self, "view", object, NULL, error))
    return NULL;
  return g_steal_pointer(&node);
}

/**
 * cd_archive_get_page_image:
 * @self: a #CdArchive
 * @page_id: a page id
 * @format: (out) (optional) (transfer full): `tiff-g4` or `jpeg`
 * @error: return location for a #GError
 *
 * Returns the stored page image as it was archived. Audited.
 *
 * Returns: (transfer full): the encoded image, or %NULL with @error set
 *
 * Since: 0.1
 */
GBytes *
cd_archive_get_page_image(CdArchive *self, gint64 page_id, gchar **format, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree gchar *object = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require_page(self, page_id, "read page images", error))
    return NULL;
  stmt = cd_archive_prepare(self,
                            "SELECT i.format, i.data FROM pages p JOIN images i ON i.sha256 = p.image_sha256 "
                            "WHERE p.id = ?",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, page_id);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: page %" G_GINT64_FORMAT " has no stored image",
                cd_archive_get_path(self), page_id);
    return NULL;
  }
  bytes = g_bytes_new(sqlite3_column_blob(stmt, 1), sqlite3_column_bytes(stmt, 1));
  if (format != NULL)
    *format = g_strdup(cd_column_text(stmt, 0));
  object = g_strdup_printf("page:%" G_GINT64_FORMAT, page_id);
  if (!cd_archive_audit(self, "view-image", object, NULL, error))
    return NULL;
  return g_steal_pointer(&bytes);
}

static gboolean
cd_write_json_line(GOutputStream *out, JsonNode *node, GCancellable *cancellable, GError **error)
{
  g_autofree gchar *line = cd_json_to_string(node);
  if (!g_output_stream_write_all(out, line, strlen(line), NULL, cancellable, error))
    return FALSE;
  return g_output_stream_write_all(out, "\n", 1, NULL, cancellable, error);
}

/**
 * cd_archive_export_jsonl:
 * @self: a #CdArchive
 * @out: where to write
 * @with_words: include each page's word boxes
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Writes the archive as JSON Lines in the order pages were archived: one
 * object per document (at the place of its first page) and one per page kept
 * out of documents. Every archived input page appears exactly once. The
 * format is documented in the README as a stable interface. Audited.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_export_jsonl(CdArchive *self, GOutputStream *out, gboolean with_words, GCancellable *cancellable,
                        GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  gint64 last_doc = 0;
  guint n_docs = 0, n_pages = 0;
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(G_IS_OUTPUT_STREAM(out), FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_EXPORT, "export the archive", "archive", error))
    return FALSE;

  /* committed before the first record leaves: an export cut short (a reader
   * that stops after one line) is still on the record */
  if (!cd_archive_audit(self, "export-start", "archive", NULL, error))
    return FALSE;
  /* one read transaction: a consistent snapshot while a batch writes */
  txn = cd_archive_txn_begin_read(self, error);
  if (txn == NULL)
    return FALSE;
  /* restricted documents are left out by the query, not skipped after */
  stmt = cd_archive_prepare(self,
                            "SELECT " PAGE_COLUMNS PAGE_FROM
                            "LEFT JOIN documents xd ON xd.id = p.document_id WHERE ?1 IS NULL OR xd.type IS NULL "
                            "OR xd.type NOT IN (SELECT value FROM json_each(?1)) ORDER BY p.id",
                            error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, cd_archive_hidden_types(self));
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    g_autoptr(JsonNode) node = NULL;
    gint64 doc_id = sqlite3_column_int64(stmt, 1);

    if (doc_id > 0) {
      /* a document's pages are committed together, so they are adjacent */
      if (doc_id == last_doc)
        continue;
      last_doc = doc_id;
      node = cd_archive_document_json(self, doc_id, with_words, error);
      if (node == NULL)
        return FALSE;
      n_docs++;
    } else {
      node = cd_archive_page_record_json(self, stmt, with_words);
      n_pages++;
    }
    if (!cd_write_json_line(out, node, cancellable, error))
      return FALSE;
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read pages");
    return FALSE;
  }
  g_clear_pointer(&txn, cd_archive_txn_free);

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "documents");
  json_builder_add_int_value(b, n_docs);
  json_builder_set_member_name(b, "pages_outside_documents");
  json_builder_add_int_value(b, n_pages);
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  return cd_archive_audit(self, "export", "archive", detail, error);
}
