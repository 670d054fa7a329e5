/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SQLite archive, exports: which documents a selection names, and one
 * document read back whole (pages, stored images, word boxes, patient) for
 * an exporter, authorised and audited as the acting user.
 */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "cd-archive-private.h"
#include "cd-util-private.h"

/**
 * cd_archive_find_export_documents:
 * @self: a #CdArchive
 * @query: the selection: @mrn, @doc_type or @doc_types, @date_from and
 *   @date_to are used (the words, paging and limit are not)
 * @error: return location for a #GError
 *
 * Lists the filed documents a selection names, oldest first, for
 * `chartdesk export`. Documents still waiting in review are left out (an
 * export sends what the archive vouches for), and so are restricted types
 * for a user without the grant. Needs the export permission.
 *
 * Returns: (transfer full) (element-type gint64): the document ids
 *
 * Since: 0.4
 */
GArray *
cd_archive_find_export_documents(CdArchive *self, const CdSearchQuery *query, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autofree gchar *types_json = NULL;
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(query != NULL, NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_EXPORT, "export documents", "archive", error))
    return NULL;
  if (query->doc_types != NULL) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) node = NULL;
    json_builder_begin_array(b);
    for (guint i = 0; query->doc_types[i] != NULL; i++)
      json_builder_add_string_value(b, query->doc_types[i]);
    json_builder_end_array(b);
    node = json_builder_get_root(b);
    types_json = cd_json_to_string(node);
  } else if (query->doc_type != NULL) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) node = NULL;
    json_builder_begin_array(b);
    json_builder_add_string_value(b, query->doc_type);
    json_builder_end_array(b);
    node = json_builder_get_root(b);
    types_json = cd_json_to_string(node);
  }
  stmt = cd_archive_prepare(self,
                            "SELECT d.id FROM documents d WHERE d.status = 'filed' "
                            "AND (?1 IS NULL OR d.patient_mrn = ?1) "
                            "AND (?2 IS NULL OR d.type IN (SELECT value FROM json_each(?2))) "
                            "AND (?3 IS NULL OR d.date >= ?3) AND (?4 IS NULL OR d.date <= ?4) "
                            "AND (?5 IS NULL OR d.type IS NULL OR d.type NOT IN (SELECT value FROM json_each(?5))) "
                            "ORDER BY d.date, d.id",
                            error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, query->mrn);
  cd_bind_text(stmt, 2, types_json);
  cd_bind_text(stmt, 3, query->date_from);
  cd_bind_text(stmt, 4, query->date_to);
  cd_bind_text(stmt, 5, cd_archive_hidden_types(self));
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(stmt, 0);
    g_array_append_val(ids, id);
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot list documents");
    return NULL;
  }
  return g_steal_pointer(&ids);
}

/* The word boxes as cd-archive-ingest.c stores them: [x, y, w, h,
 * confidence, line, text] each. */
static gboolean
cd_archive_add_words(CdPage *page, const gchar *json, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonArray *words;

  if (json == NULL)
    return TRUE;
  if (!json_parser_load_from_data(parser, json, -1, error))
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY(json_parser_get_root(parser))) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the word boxes are not an array");
    return FALSE;
  }
  words = json_node_get_array(json_parser_get_root(parser));
  for (guint i = 0; i < json_array_get_length(words); i++) {
    JsonNode *node = json_array_get_element(words, i);
    JsonArray *w = JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
    if (w == NULL || json_array_get_length(w) < 7) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "word box %u is not [x, y, w, h, confidence, line, text]", i);
      return FALSE;
    }
    cd_page_add_word(page, cd_word_new(json_array_get_string_element(w, 6), json_array_get_int_element(w, 0),
                                       json_array_get_int_element(w, 1), json_array_get_int_element(w, 2),
                                       json_array_get_int_element(w, 3), json_array_get_double_element(w, 4),
                                       json_array_get_int_element(w, 5)));
  }
  return TRUE;
}

static CdPatient *
cd_archive_export_patient(CdArchive *self, const gchar *mrn, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(CdPatient) patient = NULL;

  if (mrn == NULL)
    return NULL;
  stmt = cd_archive_prepare(self, "SELECT family, given, middle, dob, sex, merged_into FROM patients WHERE mrn = ?",
                            error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, mrn);
  patient = cd_patient_new(mrn);
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    patient->family = g_strdup(cd_column_text(stmt, 0));
    patient->given = g_strdup(cd_column_text(stmt, 1));
    patient->middle = g_strdup(cd_column_text(stmt, 2));
    patient->dob = g_strdup(cd_column_text(stmt, 3));
    patient->sex = g_strdup(cd_column_text(stmt, 4));
    patient->merged_into = g_strdup(cd_column_text(stmt, 5));
  }
  return g_steal_pointer(&patient);
}

/**
 * cd_archive_export_document:
 * @self: a #CdArchive
 * @id: a document id
 * @format: what it is exported as (the exporter's name: `pdf`, `fhir`, …)
 * @destination: (nullable): where it goes (a file, a folder, a host), for
 *   the audit log
 * @patient: (out) (optional) (transfer full) (nullable): the document's
 *   patient from the patient index, %NULL when it has none
 * @error: return location for a #GError
 *
 * Reads one document back whole for an exporter: its pages in order, each
 * with its stored image (cd_page_get_image_bytes()), resolution, text and
 * word boxes, and its patient. Needs the export permission and the right
 * to read the document; a restricted type is %CD_ERROR_NOT_FOUND to a user
 * without the grant, as if it did not exist. The export is audited (action
 * `export`, with @format and @destination) before the document is handed
 * over, so a copy that leaves is on the record even if sending it fails.
 *
 * Returns: (transfer full): the document, or %NULL with @error set
 *
 * Since: 0.4
 */
CdDocument *
cd_archive_export_document(CdArchive *self, gint64 id, const gchar *format, const gchar *destination,
                           CdPatient **patient, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) doc = NULL;
  g_autoptr(sqlite3_stmt) pages = NULL;
  g_autoptr(CdDocument) document = cd_document_new();
  g_autoptr(CdPatient) who = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *object = g_strdup_printf("document:%" G_GINT64_FORMAT, id);
  guint n_pages = 0;
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(format != NULL, NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_EXPORT, "export documents", object, error) ||
      !cd_archive_require_document(self, id, "export documents", error))
    return NULL;

  /* one snapshot: a document refiled or reviewed meanwhile is read whole */
  txn = cd_archive_txn_begin_read(self, error);
  if (txn == NULL)
    return NULL;
  doc = cd_archive_prepare(self,
                           "SELECT patient_mrn, status, type, type_confidence, date, title FROM documents "
                           "WHERE id = ?",
                           error);
  if (doc == NULL)
    return NULL;
  sqlite3_bind_int64(doc, 1, id);
  if (sqlite3_step(doc) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, cd_archive_get_path(self),
                id);
    return NULL;
  }
  cd_document_set_id(document, id);
  cd_document_set_patient_mrn(document, cd_column_text(doc, 0));
  if (g_strcmp0(cd_column_text(doc, 1), "review") == 0)
    cd_document_add_problem(document, "waiting in review");
  cd_document_set_doc_type(document, cd_column_text(doc, 2), sqlite3_column_double(doc, 3));
  cd_document_set_date(document, cd_column_text(doc, 4));
  cd_document_set_title(document, cd_column_text(doc, 5));

  pages = cd_archive_prepare(self,
                             "SELECT p.id, p.kind, p.source_path, p.source_page, p.source_sha256, p.xres, p.yres, "
                             "p.text, p.words, p.confidence, p.rotation, i.format, i.width, i.height, i.depth, i.data "
                             "FROM pages p LEFT JOIN images i ON i.sha256 = p.image_sha256 "
                             "WHERE p.document_id = ? ORDER BY p.seq",
                             error);
  if (pages == NULL)
    return NULL;
  sqlite3_bind_int64(pages, 1, id);
  while ((rc = sqlite3_step(pages)) == SQLITE_ROW) {
    g_autoptr(CdPage) page =
        cd_page_new(cd_column_text(pages, 2), sqlite3_column_int(pages, 3), cd_column_text(pages, 4));
    g_autoptr(GError) error_local = NULL;
    CdPageKind kind = CD_PAGE_KIND_PAGE;

    cd_page_set_id(page, sqlite3_column_int64(pages, 0));
    if (cd_page_kind_from_string(cd_column_text(pages, 1), &kind))
      cd_page_set_kind(page, kind, NULL);
    cd_page_set_resolution(page, sqlite3_column_int(pages, 5), sqlite3_column_int(pages, 6));
    cd_page_set_text(page, cd_column_text(pages, 7));
    if (!cd_archive_add_words(page, cd_column_text(pages, 8), &error_local)) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: page %" G_GINT64_FORMAT ": %s",
                  cd_archive_get_path(self), cd_page_get_id(page), error_local->message);
      return NULL;
    }
    cd_page_set_confidence(page, sqlite3_column_double(pages, 9));
    cd_page_set_rotation(page, sqlite3_column_int(pages, 10));
    if (sqlite3_column_type(pages, 15) != SQLITE_NULL) {
      g_autoptr(GBytes) image = g_bytes_new(sqlite3_column_blob(pages, 15), sqlite3_column_bytes(pages, 15));
      cd_page_set_image_bytes(page, image, cd_column_text(pages, 11));
      cd_page_set_image_info(page, sqlite3_column_int(pages, 12), sqlite3_column_int(pages, 13),
                             sqlite3_column_int(pages, 14));
    }
    cd_document_add_page(document, page);
    n_pages++;
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read pages");
    return NULL;
  }
  who = cd_archive_export_patient(self, cd_document_get_patient_mrn(document), error);
  if (who == NULL && cd_document_get_patient_mrn(document) != NULL)
    return NULL;
  g_clear_pointer(&txn, cd_archive_txn_free);

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "format");
  json_builder_add_string_value(b, format);
  json_builder_set_member_name(b, "destination");
  if (destination != NULL)
    json_builder_add_string_value(b, destination);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "pages");
  json_builder_add_int_value(b, n_pages);
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  if (!cd_archive_audit(self, "export", object, detail, error))
    return NULL;
  if (patient != NULL)
    *patient = g_steal_pointer(&who);
  return g_steal_pointer(&document);
}
