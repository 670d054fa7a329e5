/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The PostgreSQL archive, what the web workstation reads beyond search,
 * documents and page images (issue 18, part 2): the patient finder, a
 * patient's chart, one page with its words, and the server's audit chain
 * as a listing. Each answers in the shape of its SQLite namesake in
 * cd-archive-web.c and cd-archive-records.c, checks the principal before a
 * row is read, keeps restricted types out in SQL, and audits the read on
 * the server as the principal.
 */
#include "config.h"

#include <string.h>

#include "cd-pg-private.h"
#include "cd-util-private.h"

/* ---- for callers outside the library's files: the web workstation ---- */

/**
 * cd_pg_archive_audit:
 * @self: the server
 * @actor: (nullable): who, as the log names them; %NULL for the principal
 * @action: what happened
 * @object: what it happened to
 * @detail: (nullable): a JSON object
 * @error: return location for a #GError
 *
 * Appends an entry to the server's own audit chain: what a caller records
 * itself (the web workstation's logins and logouts, under `web:LOGIN`).
 *
 * Returns: %TRUE if the entry was written
 */
gboolean
cd_pg_archive_audit(CdPgArchive *self, const gchar *actor, const gchar *action, const gchar *object, JsonNode *detail,
                    GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;
  g_autoptr(CdPrincipal) saved = NULL;
  g_autofree gchar *saved_purpose = NULL;
  gboolean ok;

  g_return_val_if_fail(self != NULL, FALSE);
  g_return_val_if_fail(action != NULL && object != NULL, FALSE);
  held = g_rec_mutex_locker_new(&self->mutex);
  if (actor == NULL)
    return cd_pg_audit(self, action, object, detail, error);
  /* an entry under another name: a principal of that name without any
   * permission, and no purpose of the last reader's */
  saved = g_steal_pointer(&self->principal);
  saved_purpose = g_steal_pointer(&self->purpose);
  self->principal = cd_principal_new_user(actor, (const gchar *const[]){ NULL });
  ok = cd_pg_audit(self, action, object, detail, error);
  g_object_unref(self->principal);
  self->principal = g_steal_pointer(&saved);
  self->purpose = g_steal_pointer(&saved_purpose);
  return ok;
}

/**
 * cd_pg_archive_require:
 * @self: the server
 * @permission: what the principal needs
 * @what: the operation, for the message (`see batches`)
 * @object: (nullable): what it is about, for the audit entry
 * @error: return location for a #GError
 *
 * The principal's permission checked as the library's own reads check it;
 * a refusal is audited on the server (`denied`).
 *
 * Returns: %TRUE if the principal has @permission
 */
gboolean
cd_pg_archive_require(CdPgArchive *self, CdPermission permission, const gchar *what, const gchar *object,
                      GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;

  g_return_val_if_fail(self != NULL, FALSE);
  held = g_rec_mutex_locker_new(&self->mutex);
  return cd_pg_require(self, permission, what, object, error);
}

/**
 * cd_pg_archive_type_is_restricted:
 * @self: the server
 * @type: (nullable): a document type name
 *
 * Returns: whether @type is one of the restricted types (read from the
 *   taxonomy at open, or set with cd_pg_archive_set_restricted_types())
 */
gboolean
cd_pg_archive_type_is_restricted(CdPgArchive *self, const gchar *type)
{
  g_autoptr(GRecMutexLocker) held = NULL;

  g_return_val_if_fail(self != NULL, FALSE);
  held = g_rec_mutex_locker_new(&self->mutex);
  return type != NULL && self->restricted != NULL && g_strv_contains((const gchar *const *) self->restricted, type);
}

const gchar *
cd_pg_archive_get_location(CdPgArchive *self)
{
  g_return_val_if_fail(self != NULL, NULL);
  return self->where;
}

/**
 * cd_pg_archive_is_connected:
 * @self: the server
 *
 * Returns: whether the connection is up as far as libpq knows (it learns
 *   that the server went away when a statement fails)
 */
gboolean
cd_pg_archive_is_connected(CdPgArchive *self)
{
  g_autoptr(GRecMutexLocker) held = NULL;

  g_return_val_if_fail(self != NULL, FALSE);
  held = g_rec_mutex_locker_new(&self->mutex);
  return PQstatus(self->conn) == CONNECTION_OK;
}

/**
 * cd_pg_archive_reconnect:
 * @self: the server
 *
 * When the connection was lost (the server restarted, or failed over to
 * another host of the connection URI), makes it again with the same
 * connection URI. A reader that gets an error and then %TRUE here may run
 * its read once more.
 *
 * Returns: %TRUE if the connection had been lost and is back
 */
gboolean
cd_pg_archive_reconnect(CdPgArchive *self)
{
  g_autoptr(GRecMutexLocker) held = NULL;

  g_return_val_if_fail(self != NULL, FALSE);
  held = g_rec_mutex_locker_new(&self->mutex);
  if (PQstatus(self->conn) == CONNECTION_OK)
    return FALSE;
  PQreset(self->conn);
  if (PQstatus(self->conn) != CONNECTION_OK)
    return FALSE;
  g_message("%s: connected again", self->where);
  return cd_pg_exec_ok(self, "SET client_min_messages = warning", NULL, "cannot set up the session", NULL);
}

/* ---- reading ---- */

static gboolean
cd_pg_audit_simple(CdPgArchive *self, const gchar *action, const gchar *object, const gchar *key, const gchar *value,
                   const gchar *count_key, gint64 count, GError **error)
{
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;

  json_object_set_string_member(obj, key, value);
  json_object_set_int_member(obj, count_key, count);
  detail = json_node_init_object(json_node_alloc(), obj);
  return cd_pg_audit(self, action, object, detail, error);
}

/**
 * cd_pg_archive_find_patients_json:
 * @self: the server
 * @q: an MRN, a date of birth (`YYYY-MM-DD`), or the start of a name
 *   (`FAMILY`, `FAMILY, Given` or `Given Family`), in any case
 * @limit: the most patients to return, 0 for 50
 * @error: return location for a #GError
 *
 * As cd_archive_find_patients_json(): the index entries matching @q, each
 * with the number of documents filed to it that the principal may see, in
 * the same order (the exact MRN first, then by name, binary order as
 * SQLite's). Needs %CD_PERMISSION_READ_CHARTS; audited as `patient-search`.
 *
 * Returns: (transfer full): a JSON array of `{"mrn", "family", "given",
 *   "dob", "sex", "merged_into", "documents"}`, or %NULL with @error set
 */
JsonNode *
cd_pg_archive_find_patients_json(CdPgArchive *self, const gchar *q, guint limit, GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(GString) pattern = g_string_new(NULL);
  g_autoptr(GString) family_prefix = NULL;
  g_autoptr(GString) first_word = g_string_new(NULL);
  g_autofree gchar *stripped = NULL;
  g_autofree gchar *hidden = NULL;
  const gchar *comma;

  g_return_val_if_fail(self != NULL, NULL);
  stripped = g_strstrip(g_strdup(q != NULL ? q : ""));
  if (stripped[0] == '\0' || !g_utf8_validate(stripped, -1, NULL)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                        "q: give an MRN, a date of birth (YYYY-MM-DD) or a name");
    return NULL;
  }
  cd_archive_like_prefix(pattern, stripped, -1);
  /* the candidates come from the patients' indexes (schema 3): "FAMILY,
   * Given" is a family name that starts with what comes before the comma,
   * "Given Family" a given name that starts with the first word */
  comma = strchr(stripped, ',');
  if (comma != NULL && comma > stripped) {
    family_prefix = g_string_new(NULL);
    cd_archive_like_prefix(family_prefix, stripped, comma - stripped);
  }
  cd_archive_like_prefix(first_word, stripped, strcspn(stripped, " \t"));
  held = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_pg_require(self, CD_PERMISSION_READ_CHARTS, "find patients", "mpi", error))
    return NULL;
  hidden = cd_pg_hidden_types(self);
  cd_pg_params_add(p, stripped);
  cd_pg_params_add(p, pattern->str);
  cd_pg_params_add(p, hidden);
  cd_pg_params_add_int(p, limit > 0 ? limit : 50);
  cd_pg_params_add(p, family_prefix != NULL ? family_prefix->str : NULL);
  cd_pg_params_add(p, first_word->str);
  /* SQLite's LIKE ignores ASCII case (ILIKE), its ORDER BY is binary
   * (COLLATE "C") and puts NULL first */
  res = cd_pg_exec(self,
                   "SELECT p.mrn, p.family, p.given, p.dob, p.sex, p.merged_into, "
                   "(SELECT count(*) FROM documents d WHERE d.patient_mrn = p.mrn AND ($3::text[] IS NULL OR "
                   "d.type IS NULL OR NOT d.type = ANY ($3::text[]))) FROM patients p "
                   "WHERE p.id IN (SELECT id FROM patients WHERE lower(mrn) = lower($1) "
                   "UNION ALL SELECT id FROM patients WHERE dob = $1 "
                   "UNION ALL SELECT id FROM patients WHERE lower(family) LIKE lower($2) "
                   "UNION ALL SELECT id FROM patients WHERE lower(family) LIKE lower($5) "
                   "UNION ALL SELECT id FROM patients WHERE lower(given) LIKE lower($6)) "
                   "AND (lower(p.mrn) = lower($1) OR p.dob = $1 OR p.family ILIKE $2 "
                   "OR (p.family || ', ' || coalesce(p.given, '')) ILIKE $2 "
                   "OR (coalesce(p.given, '') || ' ' || p.family) ILIKE $2) "
                   "ORDER BY lower(p.mrn) <> lower($1), p.family COLLATE \"C\" NULLS FIRST, "
                   "p.given COLLATE \"C\" NULLS FIRST, p.dob COLLATE \"C\" NULLS FIRST, p.mrn COLLATE \"C\" LIMIT $4",
                   p, "cannot read the patient index", error);
  if (res == NULL)
    return NULL;
  json_builder_begin_array(b);
  for (gint i = 0; i < PQntuples(res); i++) {
    json_builder_begin_object(b);
    cd_json_add_string_or_null(b, "mrn", cd_pg_value(res, i, 0));
    cd_json_add_string_or_null(b, "family", cd_pg_value(res, i, 1));
    cd_json_add_string_or_null(b, "given", cd_pg_value(res, i, 2));
    cd_json_add_string_or_null(b, "dob", cd_pg_value(res, i, 3));
    cd_json_add_string_or_null(b, "sex", cd_pg_value(res, i, 4));
    cd_json_add_string_or_null(b, "merged_into", cd_pg_value(res, i, 5));
    json_builder_set_member_name(b, "documents");
    json_builder_add_int_value(b, cd_pg_int(res, i, 6));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  if (!cd_pg_audit_simple(self, "patient-search", "mpi", "query", stripped, "patients", PQntuples(res), error))
    return NULL;
  return json_builder_get_root(b);
}

/**
 * cd_pg_archive_get_chart:
 * @self: the server
 * @mrn: a patient's MRN
 * @error: return location for a #GError
 *
 * As cd_archive_get_chart(): the index entry, the MRNs merged into it, and
 * the documents filed to it that the principal may see, by date (undated
 * ones last). Needs %CD_PERMISSION_READ_CHARTS; audited as a `view` of
 * `patient:MRN`. An unknown MRN fails with %CD_ERROR_NOT_FOUND. The
 * chart lists no legal holds (a document's JSON has the server's holds
 * covering it and its tombstone, cd-pg-retention.c).
 *
 * Returns: (transfer full): `{"mrn", "family", "given", "middle", "dob",
 *   "sex", "merged_into", "merged_mrns": [...], "documents": [{"id",
 *   "type", "date", "title", "status", "pages"}]}`, or %NULL with @error set
 */
JsonNode *
cd_pg_archive_get_chart(CdPgArchive *self, const gchar *mrn, GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(CdPgParams) pd = cd_pg_params_new();
  g_autoptr(PGresult) pat = NULL;
  g_autoptr(PGresult) merged = NULL;
  g_autoptr(PGresult) docs = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree gchar *object = NULL;
  g_autofree gchar *hidden = NULL;
  static const gchar *const keys[] = { "mrn", "family", "given", "middle", "dob", "sex", "merged_into" };

  g_return_val_if_fail(self != NULL, NULL);
  g_return_val_if_fail(mrn != NULL, NULL);
  object = g_strdup_printf("patient:%s", mrn);
  held = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_pg_require(self, CD_PERMISSION_READ_CHARTS, "read charts", object, error))
    return NULL;
  cd_pg_params_add(p, mrn);
  pat = cd_pg_exec(self, "SELECT mrn, family, given, middle, dob, sex, merged_into FROM patients WHERE mrn = $1", p,
                   "cannot read the patient index", error);
  if (pat == NULL)
    return NULL;
  if (PQntuples(pat) == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no patient with MRN %s", self->where, mrn);
    return NULL;
  }
  merged = cd_pg_exec(self, "SELECT mrn FROM patients WHERE merged_into = $1 ORDER BY mrn COLLATE \"C\"", p,
                      "cannot read the patient index", error);
  if (merged == NULL)
    return NULL;
  hidden = cd_pg_hidden_types(self);
  cd_pg_params_add(pd, mrn);
  cd_pg_params_add(pd, hidden);
  docs =
      cd_pg_exec(self,
                 "SELECT d.id, d.type, d.date, d.title, d.status, "
                 "(SELECT count(*) FROM pages p WHERE p.document_id = d.id) FROM documents d "
                 "WHERE d.patient_mrn = $1 AND ($2::text[] IS NULL OR d.type IS NULL OR NOT d.type = ANY ($2::text[])) "
                 "ORDER BY d.date IS NULL, d.date COLLATE \"C\", d.id",
                 pd, "cannot read the chart's documents", error);
  if (docs == NULL)
    return NULL;

  json_builder_begin_object(b);
  for (guint k = 0; k < G_N_ELEMENTS(keys); k++)
    cd_json_add_string_or_null(b, keys[k], cd_pg_value(pat, 0, (gint) k));
  json_builder_set_member_name(b, "merged_mrns");
  json_builder_begin_array(b);
  for (gint i = 0; i < PQntuples(merged); i++)
    json_builder_add_string_value(b, PQgetvalue(merged, i, 0));
  json_builder_end_array(b);
  json_builder_set_member_name(b, "documents");
  json_builder_begin_array(b);
  for (gint i = 0; i < PQntuples(docs); i++) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, cd_pg_int(docs, i, 0));
    cd_json_add_string_or_null(b, "type", cd_pg_value(docs, i, 1));
    cd_json_add_string_or_null(b, "date", cd_pg_value(docs, i, 2));
    cd_json_add_string_or_null(b, "title", cd_pg_value(docs, i, 3));
    cd_json_add_string_or_null(b, "status", cd_pg_value(docs, i, 4));
    json_builder_set_member_name(b, "pages");
    json_builder_add_int_value(b, cd_pg_int(docs, i, 5));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  if (!cd_pg_audit_simple(self, "view", object, "mrn", mrn, "documents", PQntuples(docs), error))
    return NULL;
  return json_builder_get_root(b);
}

/**
 * cd_pg_archive_get_page:
 * @self: the server
 * @page_id: a page id
 * @error: return location for a #GError
 *
 * One page with its text and word boxes (delivered with the page, as the
 * station's OCR found them), its document and position: the reading side
 * of cd_archive_get_page(). Needs what its document needs
 * (cd_pg_archive_get_document()); a page set aside, read-charts or review
 * while it waits there. Audited as a `view` of `page:ID`.
 *
 * Returns: (transfer full): `{"id", "document", "seq", "source": {"path",
 *   "page"}, "image": {"sha256", "format", "width", "height"}, "text",
 *   "confidence", "words": [[x, y, w, h, conf, line, text], ...]}`, or
 *   %NULL with @error set
 */
JsonNode *
cd_pg_archive_get_page(CdPgArchive *self, gint64 page_id, GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autofree gchar *object = g_strdup_printf("page:%" G_GINT64_FORMAT, page_id);
  const gchar *words;
  gint64 document_id;
  gboolean in_review;

  g_return_val_if_fail(self != NULL, NULL);
  held = g_rec_mutex_locker_new(&self->mutex);
  cd_pg_params_add_int(p, page_id);
  res = cd_pg_exec(self,
                   "SELECT coalesce(p.document_id, 0), EXISTS (SELECT 1 FROM review r WHERE r.page_id = p.id AND "
                   "r.resolved IS NULL), p.seq, p.source_path, p.source_page, p.image_sha256, i.format, i.width, "
                   "i.height, p.text, p.confidence, p.words FROM pages p "
                   "LEFT JOIN images i ON i.sha256 = p.image_sha256 WHERE p.id = $1",
                   p, "cannot read a page", error);
  if (res == NULL)
    return NULL;
  if (PQntuples(res) == 0) {
    if (!cd_pg_require(self, CD_PERMISSION_READ_CHARTS, "read pages", object, error))
      return NULL;
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no page %" G_GINT64_FORMAT, self->where, page_id);
    return NULL;
  }
  document_id = cd_pg_int(res, 0, 0);
  in_review = g_strcmp0(PQgetvalue(res, 0, 1), "t") == 0;
  if (document_id > 0) {
    if (!cd_pg_require_document(self, document_id, "read pages", error))
      return NULL;
  } else if (!(in_review && cd_principal_has(self->principal, CD_PERMISSION_REVIEW)) &&
             !cd_pg_require(self, CD_PERMISSION_READ_CHARTS, "read pages", object, error)) {
    return NULL;
  }

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, page_id);
  if (document_id > 0) {
    json_builder_set_member_name(b, "document");
    json_builder_add_int_value(b, document_id);
    cd_pg_add_int_or_null(b, "seq", cd_pg_value(res, 0, 2));
  }
  json_builder_set_member_name(b, "source");
  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "path", cd_pg_value(res, 0, 3));
  json_builder_set_member_name(b, "page");
  if (cd_pg_int(res, 0, 4) >= 0)
    json_builder_add_int_value(b, cd_pg_int(res, 0, 4));
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "image");
  if (cd_pg_value(res, 0, 5) != NULL) {
    json_builder_begin_object(b);
    cd_json_add_string_or_null(b, "sha256", cd_pg_value(res, 0, 5));
    cd_json_add_string_or_null(b, "format", cd_pg_value(res, 0, 6));
    cd_pg_add_int_or_null(b, "width", cd_pg_value(res, 0, 7));
    cd_pg_add_int_or_null(b, "height", cd_pg_value(res, 0, 8));
    json_builder_end_object(b);
  } else {
    json_builder_add_null_value(b);
  }
  cd_json_add_string_or_null(b, "text", cd_pg_value(res, 0, 9));
  cd_pg_add_double_or_null(b, "confidence", cd_pg_value(res, 0, 10));
  /* the words column holds the spool's JSON verbatim */
  words = cd_pg_value(res, 0, 11);
  json_builder_set_member_name(b, "words");
  if (words != NULL && json_parser_load_from_data(parser, words, -1, NULL) &&
      JSON_NODE_HOLDS_ARRAY(json_parser_get_root(parser))) {
    json_builder_add_value(b, json_node_copy(json_parser_get_root(parser)));
  } else {
    json_builder_begin_array(b);
    json_builder_end_array(b);
  }
  json_builder_end_object(b);
  if (!cd_pg_audit(self, "view", object, NULL, error))
    return NULL;
  return json_builder_get_root(b);
}
