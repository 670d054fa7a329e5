/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SQLite archive, what the web workstation reads beyond search and
 * records: patients with their document counts, a patient's chart, the
 * audit log as a filtered listing, and each user's saved searches. Every
 * entry point checks the principal's permission before a row is read, keeps
 * restricted types out in SQL, and audits the read as the principal.
 */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "cd-archive-private.h"
#include "cd-util-private.h"

static gboolean
cd_audit_simple(CdArchive *self, const gchar *action, const gchar *object, const gchar *key, const gchar *value,
                const gchar *count_key, gint64 count, GError **error)
{
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;

  if (key != NULL)
    json_object_set_string_member(obj, key, value);
  if (count_key != NULL)
    json_object_set_int_member(obj, count_key, count);
  detail = json_node_init_object(json_node_alloc(), obj);
  return cd_archive_audit(self, action, object, detail, error);
}

/**
 * cd_archive_type_is_restricted:
 * @self: a #CdArchive
 * @type: a document type name
 *
 * Returns: whether @type is one of the archive's restricted types (read
 *   from the taxonomy at open, or set with cd_archive_set_restricted_types())
 *
 * Since: 0.4
 */
gboolean
cd_archive_type_is_restricted(CdArchive *self, const gchar *type)
{
  CdArchiveAccess *access;
  g_autoptr(JsonParser) parser = NULL;
  JsonArray *array;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  access = cd_archive_get_access(self);
  if (access->restricted_json == NULL || type == NULL)
    return FALSE;
  parser = json_parser_new();
  if (!json_parser_load_from_data(parser, access->restricted_json, -1, NULL))
    return FALSE;
  array = json_node_get_array(json_parser_get_root(parser));
  for (guint i = 0; i < json_array_get_length(array); i++) {
    if (g_strcmp0(json_array_get_string_element(array, i), type) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Appends the first @len bytes of @text (all of it when -1) to @out as a
 * LIKE pattern for what starts with them: the wildcards and the escape
 * character in @text match themselves (ESCAPE '\\'). */
void
cd_archive_like_prefix(GString *out, const gchar *text, gssize len)
{
  for (const gchar *p = text; *p != '\0' && (len < 0 || p < text + len); p++) {
    if (*p == '%' || *p == '_' || *p == '\\')
      g_string_append_c(out, '\\');
    g_string_append_c(out, *p);
  }
  g_string_append_c(out, '%');
}

/**
 * cd_archive_find_patients_json:
 * @self: a #CdArchive
 * @q: an MRN, a date of birth (`YYYY-MM-DD`), or the start of a name
 *   (`FAMILY`, `FAMILY, Given` or `Given Family`), in any case
 * @limit: the most patients to return, 0 for 50
 * @error: return location for a #GError
 *
 * The patient finder of the web workstation: index entries matching @q,
 * merged ones included (with `merged_into`), each with the number of
 * documents filed to it that the principal may see. Needs
 * %CD_PERMISSION_READ_CHARTS; audited as `patient-search`.
 *
 * Returns: (transfer full): a JSON array of `{"mrn", "family", "given",
 *   "dob", "sex", "merged_into", "documents"}`, or %NULL with @error set
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_find_patients_json(CdArchive *self, const gchar *q, guint limit, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree gchar *stripped = NULL;
  g_autoptr(GString) pattern = g_string_new(NULL);
  g_autoptr(GString) family_prefix = NULL;
  g_autoptr(GString) first_word = NULL;
  const gchar *comma;
  guint n = 0;
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  stripped = g_strstrip(g_strdup(q != NULL ? q : ""));
  if (stripped[0] == '\0' || !g_utf8_validate(stripped, -1, NULL)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                        "q: give an MRN, a date of birth (YYYY-MM-DD) or a name");
    return NULL;
  }
  /* LIKE's wildcards in what was typed match themselves */
  cd_archive_like_prefix(pattern, stripped, -1);
  /* the candidates come from the patients indexes: "FAMILY, Given" is a
   * family name that starts with what comes before the comma, and
   * "Given Family" a given name that starts with the first word */
  comma = strchr(stripped, ',');
  if (comma != NULL && comma > stripped) {
    family_prefix = g_string_new(NULL);
    cd_archive_like_prefix(family_prefix, stripped, comma - stripped);
  }
  first_word = g_string_new(NULL);
  cd_archive_like_prefix(first_word, stripped, strcspn(stripped, " \t"));
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_CHARTS, "find patients", "mpi", error))
    return NULL;
  stmt = cd_archive_prepare(self, CD_FIND_PATIENTS_SQL, error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, stripped);
  cd_bind_text(stmt, 2, pattern->str);
  cd_bind_text(stmt, 3, cd_archive_hidden_types(self));
  sqlite3_bind_int(stmt, 4, limit > 0 ? limit : 50);
  cd_bind_text(stmt, 5, family_prefix != NULL ? family_prefix->str : NULL);
  cd_bind_text(stmt, 6, first_word->str);
  json_builder_begin_array(b);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    json_builder_begin_object(b);
    cd_json_add_string_or_null(b, "mrn", cd_column_text(stmt, 0));
    cd_json_add_string_or_null(b, "family", cd_column_text(stmt, 1));
    cd_json_add_string_or_null(b, "given", cd_column_text(stmt, 2));
    cd_json_add_string_or_null(b, "dob", cd_column_text(stmt, 3));
    cd_json_add_string_or_null(b, "sex", cd_column_text(stmt, 4));
    cd_json_add_string_or_null(b, "merged_into", cd_column_text(stmt, 5));
    json_builder_set_member_name(b, "documents");
    json_builder_add_int_value(b, sqlite3_column_int64(stmt, 6));
    json_builder_end_object(b);
    n++;
  }
  json_builder_end_array(b);
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read the patient index");
    return NULL;
  }
  if (!cd_audit_simple(self, "patient-search", "mpi", "query", stripped, "patients", n, error))
    return NULL;
  return json_builder_get_root(b);
}

/**
 * cd_archive_get_chart:
 * @self: a #CdArchive
 * @mrn: a patient's MRN
 * @error: return location for a #GError
 *
 * A patient's chart: the index entry, the MRNs merged into it, and the
 * documents filed to it that the principal may see, by date (undated ones
 * last). Needs %CD_PERMISSION_READ_CHARTS; audited as a `view` of
 * `patient:MRN`. An unknown MRN fails with %CD_ERROR_NOT_FOUND.
 *
 * Returns: (transfer full): `{"mrn", "family", "given", "middle", "dob",
 *   "sex", "merged_into", "merged_mrns": [...], "documents": [{"id", "type",
 *   "date", "title", "pages", "status"}]}`, or %NULL with @error set
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_get_chart(CdArchive *self, const gchar *mrn, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) pat = NULL;
  g_autoptr(sqlite3_stmt) merged = NULL;
  g_autoptr(sqlite3_stmt) docs = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree gchar *object = NULL;
  guint n = 0;
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(mrn != NULL, NULL);
  object = g_strdup_printf("patient:%s", mrn);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_CHARTS, "read charts", object, error))
    return NULL;
  pat = cd_archive_prepare(self, "SELECT mrn, family, given, middle, dob, sex, merged_into FROM patients WHERE mrn = ?",
                           error);
  if (pat == NULL)
    return NULL;
  cd_bind_text(pat, 1, mrn);
  if (sqlite3_step(pat) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no patient with MRN %s", cd_archive_get_path(self), mrn);
    return NULL;
  }
  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "mrn", cd_column_text(pat, 0));
  cd_json_add_string_or_null(b, "family", cd_column_text(pat, 1));
  cd_json_add_string_or_null(b, "given", cd_column_text(pat, 2));
  cd_json_add_string_or_null(b, "middle", cd_column_text(pat, 3));
  cd_json_add_string_or_null(b, "dob", cd_column_text(pat, 4));
  cd_json_add_string_or_null(b, "sex", cd_column_text(pat, 5));
  cd_json_add_string_or_null(b, "merged_into", cd_column_text(pat, 6));

  merged = cd_archive_prepare(self, "SELECT mrn FROM patients WHERE merged_into = ? ORDER BY mrn", error);
  if (merged == NULL)
    return NULL;
  cd_bind_text(merged, 1, mrn);
  json_builder_set_member_name(b, "merged_mrns");
  json_builder_begin_array(b);
  while (sqlite3_step(merged) == SQLITE_ROW)
    json_builder_add_string_value(b, cd_column_text(merged, 0));
  json_builder_end_array(b);

  docs = cd_archive_prepare(self,
                            "SELECT d.id, d.type, d.date, d.title, d.status, "
                            "(SELECT count(*) FROM pages p WHERE p.document_id = d.id) "
                            "FROM documents d WHERE d.patient_mrn = ?1 AND (?2 IS NULL OR d.type IS NULL OR "
                            "d.type NOT IN (SELECT value FROM json_each(?2))) "
                            "ORDER BY d.date IS NULL, d.date, d.id",
                            error);
  if (docs == NULL)
    return NULL;
  cd_bind_text(docs, 1, mrn);
  cd_bind_text(docs, 2, cd_archive_hidden_types(self));
  json_builder_set_member_name(b, "documents");
  json_builder_begin_array(b);
  while ((rc = sqlite3_step(docs)) == SQLITE_ROW) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, sqlite3_column_int64(docs, 0));
    cd_json_add_string_or_null(b, "type", cd_column_text(docs, 1));
    cd_json_add_string_or_null(b, "date", cd_column_text(docs, 2));
    cd_json_add_string_or_null(b, "title", cd_column_text(docs, 3));
    cd_json_add_string_or_null(b, "status", cd_column_text(docs, 4));
    json_builder_set_member_name(b, "pages");
    json_builder_add_int_value(b, sqlite3_column_int64(docs, 5));
    json_builder_end_object(b);
    n++;
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read the chart's documents");
    return NULL;
  }
  if (!cd_audit_simple(self, "view", object, "mrn", mrn, "documents", n, error))
    return NULL;
  return json_builder_get_root(b);
}

static gboolean
cd_valid_day(const gchar *date)
{
  return date == NULL || g_regex_match_simple("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", date, 0, 0);
}

/* The audit listing's WHERE clause, shared by its count and its page: the
 * patient of an entry is its document's, its page's document's, or the one
 * its detail names (a search by MRN, a chart view). */
#define CD_AUDIT_LIST_FROM                                                                                             \
  "FROM audit a LEFT JOIN documents d ON d.id = CASE "                                                                 \
  "WHEN a.object LIKE 'document:%' THEN CAST(substr(a.object, 10) AS INTEGER) "                                        \
  "WHEN a.object LIKE 'page:%' THEN (SELECT document_id FROM pages WHERE id = CAST(substr(a.object, 6) AS "            \
  "INTEGER)) END "                                                                                                     \
  "WHERE (?1 IS NULL OR a.actor = ?1 OR a.actor LIKE ?1 || ' (%' OR a.actor LIKE '% for ' || ?1) "                     \
  "AND (?2 IS NULL OR d.patient_mrn = ?2 OR (json_valid(a.detail) AND (json_extract(a.detail, '$.mrn') = ?2 "          \
  "OR json_extract(a.detail, '$.detail.mrn') = ?2))) "                                                                 \
  "AND (?3 IS NULL OR a.ts >= ?3) AND (?4 IS NULL OR a.ts < date(?4, '+1 day')) "

/**
 * cd_archive_list_audit:
 * @self: a #CdArchive
 * @user: (nullable): only this user's entries
 * @mrn: (nullable): only entries about this patient
 * @from: (nullable): only entries on or after this day, `YYYY-MM-DD`
 * @to: (nullable): only entries on or before this day
 * @limit: the most entries to return, 0 for 100
 * @offset: entries to skip, for paging
 * @total: (out) (optional): how many entries match
 * @error: return location for a #GError
 *
 * The audit log as the web workstation's auditors page through it, newest
 * first. Needs %CD_PERMISSION_READ_AUDIT; audited itself (`audit-list`).
 *
 * Returns: (transfer full): a JSON array of `{"id", "time", "user",
 *   "action", "object", "mrn", "document", "purpose", "break_glass",
 *   "detail"}`, or %NULL with @error set
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_list_audit(CdArchive *self, const gchar *user, const gchar *mrn, const gchar *from, const gchar *to,
                      guint limit, guint offset, gint64 *total, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) count = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;
  gint64 n_total = 0;
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  if (!cd_valid_day(from) || !cd_valid_day(to)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: dates must be given as YYYY-MM-DD (got '%s')",
                cd_valid_day(from) ? "to" : "from", cd_valid_day(from) ? to : from);
    return NULL;
  }
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_AUDIT, "read the audit log", "audit", error))
    return NULL;
  count = cd_archive_prepare(self, "SELECT count(*) " CD_AUDIT_LIST_FROM, error);
  stmt = cd_archive_prepare(self,
                            "SELECT a.id, a.ts, a.actor, a.action, a.object, coalesce(d.patient_mrn, CASE WHEN "
                            "json_valid(a.detail) THEN coalesce(json_extract(a.detail, '$.mrn'), "
                            "json_extract(a.detail, '$.detail.mrn')) END), d.id, "
                            "CASE WHEN json_valid(a.detail) THEN json_extract(a.detail, '$.purpose') END, "
                            "a.detail " CD_AUDIT_LIST_FROM "ORDER BY a.id DESC LIMIT ?5 OFFSET ?6",
                            error);
  if (count == NULL || stmt == NULL)
    return NULL;
  for (guint i = 0; i < 2; i++) {
    sqlite3_stmt *s = i == 0 ? count : stmt;
    cd_bind_text(s, 1, user);
    cd_bind_text(s, 2, mrn);
    cd_bind_text(s, 3, from);
    cd_bind_text(s, 4, to);
  }
  sqlite3_bind_int(stmt, 5, limit > 0 ? limit : 100);
  sqlite3_bind_int(stmt, 6, offset);
  if (sqlite3_step(count) == SQLITE_ROW)
    n_total = sqlite3_column_int64(count, 0);
  json_builder_begin_array(b);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    g_autoptr(JsonParser) parser = json_parser_new();
    const gchar *purpose = cd_column_text(stmt, 7);
    const gchar *text = cd_column_text(stmt, 8);
    JsonNode *inner = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, sqlite3_column_int64(stmt, 0));
    cd_json_add_string_or_null(b, "time", cd_column_text(stmt, 1));
    cd_json_add_string_or_null(b, "user", cd_column_text(stmt, 2));
    cd_json_add_string_or_null(b, "action", cd_column_text(stmt, 3));
    cd_json_add_string_or_null(b, "object", cd_column_text(stmt, 4));
    cd_json_add_string_or_null(b, "mrn", cd_column_text(stmt, 5));
    json_builder_set_member_name(b, "document");
    if (sqlite3_column_type(stmt, 6) != SQLITE_NULL)
      json_builder_add_int_value(b, sqlite3_column_int64(stmt, 6));
    else
      json_builder_add_null_value(b);
    cd_json_add_string_or_null(b, "purpose", purpose);
    json_builder_set_member_name(b, "break_glass");
    json_builder_add_boolean_value(b, purpose != NULL && g_str_has_prefix(purpose, "break-glass:"));
    /* the entry's own detail, without the purpose wrapper */
    json_builder_set_member_name(b, "detail");
    if (text != NULL && json_parser_load_from_data(parser, text, -1, NULL)) {
      JsonNode *root = json_parser_get_root(parser);
      inner = root;
      if (purpose != NULL && JSON_NODE_HOLDS_OBJECT(root))
        inner = json_object_get_member(json_node_get_object(root), "detail");
    }
    if (inner != NULL)
      json_builder_add_value(b, json_node_copy(inner));
    else
      json_builder_add_null_value(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read the audit log");
    return NULL;
  }
  json_object_set_string_member(obj, "user", user);
  json_object_set_string_member(obj, "mrn", mrn);
  json_object_set_string_member(obj, "from", from);
  json_object_set_string_member(obj, "to", to);
  detail = json_node_init_object(json_node_alloc(), obj);
  if (!cd_archive_audit(self, "audit-list", "audit", detail, error))
    return NULL;
  if (total != NULL)
    *total = n_total;
  return json_builder_get_root(b);
}

/* The login whose saved searches these are. */
static const gchar *
cd_archive_owner(CdArchive *self)
{
  return cd_principal_get_login(cd_archive_get_access(self)->principal);
}

/**
 * cd_archive_list_saved_searches:
 * @self: a #CdArchive
 * @error: return location for a #GError
 *
 * The principal's own saved searches, by name. Needs
 * %CD_PERMISSION_READ_CHARTS.
 *
 * Returns: (transfer full): a JSON array of `{"id", "name", "query",
 *   "created"}`, or %NULL with @error set
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_list_saved_searches(CdArchive *self, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_CHARTS, "use saved searches", "saved-searches", error))
    return NULL;
  stmt = cd_archive_prepare(
      self, "SELECT id, name, query, created FROM saved_searches WHERE owner = ? ORDER BY name, id", error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, cd_archive_owner(self));
  json_builder_begin_array(b);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    g_autoptr(JsonParser) parser = json_parser_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, sqlite3_column_int64(stmt, 0));
    cd_json_add_string_or_null(b, "name", cd_column_text(stmt, 1));
    json_builder_set_member_name(b, "query");
    if (json_parser_load_from_data(parser, cd_column_text(stmt, 2), -1, NULL))
      json_builder_add_value(b, json_node_copy(json_parser_get_root(parser)));
    else
      json_builder_add_null_value(b);
    cd_json_add_string_or_null(b, "created", cd_column_text(stmt, 3));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read saved searches");
    return NULL;
  }
  return json_builder_get_root(b);
}

/**
 * cd_archive_add_saved_search:
 * @self: a #CdArchive
 * @name: what the user calls it
 * @query: the search, a JSON object
 * @error: return location for a #GError
 *
 * Saves a search for the principal. A name the principal already uses fails
 * with %CD_ERROR_BUSY. Needs %CD_PERMISSION_READ_CHARTS.
 *
 * Returns: the saved search's id, or 0 with @error set
 *
 * Since: 0.4
 */
gint64
cd_archive_add_saved_search(CdArchive *self, const gchar *name, JsonNode *query, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *now = NULL;
  g_autofree gchar *stripped = NULL;
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), 0);
  g_return_val_if_fail(query != NULL, 0);
  stripped = g_strstrip(g_strdup(name != NULL ? name : ""));
  if (stripped[0] == '\0' || strlen(stripped) > 200 || !g_utf8_validate(stripped, -1, NULL)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "name: give a name of 1 to 200 characters");
    return 0;
  }
  if (!JSON_NODE_HOLDS_OBJECT(query)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "query: must be an object");
    return 0;
  }
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_CHARTS, "save searches", "saved-searches", error))
    return 0;
  text = cd_json_to_string(query);
  now = cd_now_iso8601();
  stmt =
      cd_archive_prepare(self, "INSERT INTO saved_searches (owner, name, query, created) VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return 0;
  cd_bind_text(stmt, 1, cd_archive_owner(self));
  cd_bind_text(stmt, 2, stripped);
  cd_bind_text(stmt, 3, text);
  cd_bind_text(stmt, 4, now);
  rc = sqlite3_step(stmt);
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    g_set_error(error, CD_ERROR, CD_ERROR_BUSY, "name: you already have a saved search called '%s'", stripped);
    return 0;
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot save the search");
    return 0;
  }
  return sqlite3_last_insert_rowid(cd_archive_get_db(self));
}

/**
 * cd_archive_delete_saved_search:
 * @self: a #CdArchive
 * @id: a saved search of the principal's
 * @error: return location for a #GError
 *
 * Another user's saved search does not exist for the principal:
 * %CD_ERROR_NOT_FOUND, as for one that never existed.
 *
 * Returns: %TRUE if it was deleted
 *
 * Since: 0.4
 */
gboolean
cd_archive_delete_saved_search(CdArchive *self, gint64 id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_CHARTS, "delete saved searches", "saved-searches", error))
    return FALSE;
  stmt = cd_archive_prepare(self, "DELETE FROM saved_searches WHERE id = ? AND owner = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, id);
  cd_bind_text(stmt, 2, cd_archive_owner(self));
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  if (sqlite3_changes(cd_archive_get_db(self)) == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no saved search %" G_GINT64_FORMAT, id);
    return FALSE;
  }
  return TRUE;
}

/**
 * cd_archive_count_batch_pages:
 * @self: a #CdArchive
 * @batch_id: a batch
 * @error: return location for a #GError
 *
 * How many pages a batch has archived so far: its progress while it runs,
 * as a reader of the archive sees it. Needs %CD_PERMISSION_READ_BATCHES.
 *
 * Returns: the number of pages, or -1 with @error set
 *
 * Since: 0.4
 */
gint64
cd_archive_count_batch_pages(CdArchive *self, gint64 batch_id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), -1);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_BATCHES, "see batches", "archive", error))
    return -1;
  stmt = cd_archive_prepare(self, "SELECT count(*) FROM pages WHERE batch_id = ?", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64(stmt, 1, batch_id);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    cd_archive_set_error(self, error, "cannot count a batch's pages");
    return -1;
  }
  return sqlite3_column_int64(stmt, 0);
}

/**
 * cd_archive_describe_pages:
 * @self: a #CdArchive
 * @ids: (array length=n_ids): page ids, from a search the principal ran
 * @n_ids: how many
 * @error: return location for a #GError
 *
 * Where each page sits, for a search result: its position in its document
 * and the document's title. Pages of types hidden from the principal are
 * left out. Needs %CD_PERMISSION_READ_CHARTS; not audited again (the search
 * that found the pages was).
 *
 * Returns: (transfer full): a JSON object from page id (as text) to
 *   `{"seq", "title"}`, or %NULL with @error set
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_describe_pages(CdArchive *self, const gint64 *ids, guint n_ids, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_CHARTS, "search the archive", "archive", error))
    return NULL;
  stmt = cd_archive_prepare(self,
                            "SELECT p.seq, d.title FROM pages p LEFT JOIN documents d ON d.id = p.document_id "
                            "WHERE p.id = ?1 AND (?2 IS NULL OR d.type IS NULL OR d.type NOT IN "
                            "(SELECT value FROM json_each(?2)))",
                            error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 2, cd_archive_hidden_types(self));
  json_builder_begin_object(b);
  for (guint i = 0; i < n_ids; i++) {
    g_autofree gchar *key = g_strdup_printf("%" G_GINT64_FORMAT, ids[i]);
    sqlite3_reset(stmt);
    sqlite3_bind_int64(stmt, 1, ids[i]);
    if (sqlite3_step(stmt) != SQLITE_ROW)
      continue;
    json_builder_set_member_name(b, key);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "seq");
    if (sqlite3_column_type(stmt, 0) != SQLITE_NULL)
      json_builder_add_int_value(b, sqlite3_column_int(stmt, 0));
    else
      json_builder_add_null_value(b);
    cd_json_add_string_or_null(b, "title", cd_column_text(stmt, 1));
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
