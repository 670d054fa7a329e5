/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Release of information: a request for a patient's records to go to an
 * outside party, the documents it names and the redactions it makes, the
 * packet released for it, and the accounting of disclosures (45 CFR
 * 164.528) that every release adds to.
 *
 * A request moves draft → approved → released, or to cancelled (with
 * why) before it is released. Everything needs %CD_PERMISSION_RELEASE (the
 * roi role); when the archive setting `roi.two-person` is true, the person
 * who approves must not be the one who prepared it. Every step is audited;
 * a release writes its packet's manifest, the disclosure and the audit
 * entry in one transaction. The packet itself (a PDF) is made by the
 * engine (cd-roi-packet.c) from what cd_archive_roi_prepare_release()
 * returns, so that the same manifest makes the same bytes again.
 */
#include "config.h"

#include <string.h>

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-util-private.h"

/* ------------------------------------------------------------ settings */

static const struct {
  const gchar *key;
  const gchar *fallback;
  gboolean boolean;
} cd_settings[] = {
  { CD_SETTING_ROI_TWO_PERSON, "false", TRUE },
  { CD_SETTING_ROI_BATES_PREFIX, "ROI${request}-", FALSE },
};

/**
 * cd_archive_setting_keys:
 *
 * Returns: (transfer none) (array zero-terminated=1): the names of the
 *   settings an archive keeps
 *
 * Since: 0.4
 */
const gchar *const *
cd_archive_setting_keys(void)
{
  static const gchar *keys[G_N_ELEMENTS(cd_settings) + 1];
  static gsize done = 0;

  if (g_once_init_enter(&done)) {
    for (guint i = 0; i < G_N_ELEMENTS(cd_settings); i++)
      keys[i] = cd_settings[i].key;
    g_once_init_leave(&done, 1);
  }
  return keys;
}

static gint
cd_setting_index(const gchar *key, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS(cd_settings); i++) {
    if (g_strcmp0(cd_settings[i].key, key) == 0)
      return i;
  }
  g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "'%s' is not an archive setting (known: %s, %s)", key,
              cd_settings[0].key, cd_settings[1].key);
  return -1;
}

/**
 * cd_archive_get_setting:
 * @self: a #CdArchive
 * @key: a setting's name, one of cd_archive_setting_keys()
 * @error: return location for a #GError
 *
 * Settings are kept in the archive (so a copied archive keeps its rules);
 * reading one needs no permission, since none says anything of a patient.
 *
 * Returns: (transfer full): its value, or its default when never set;
 *   %NULL with %CD_ERROR_INVALID_ARGUMENT for an unknown key
 *
 * Since: 0.4
 */
gchar *
cd_archive_get_setting(CdArchive *self, const gchar *key, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint idx;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  idx = cd_setting_index(key, error);
  if (idx < 0)
    return NULL;
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  stmt = cd_archive_prepare(self, "SELECT value FROM meta WHERE key = ?", error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, key);
  if (sqlite3_step(stmt) == SQLITE_ROW)
    return cd_column_dup(stmt, 0);
  return g_strdup(cd_settings[idx].fallback);
}

/**
 * cd_archive_set_setting:
 * @self: a #CdArchive
 * @key: a setting's name
 * @value: its new value (`true` or `false` for a yes-or-no setting)
 * @error: return location for a #GError
 *
 * Needs %CD_PERMISSION_CONFIGURE; audited (`setting`) with the old and the
 * new value.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_archive_set_setting(CdArchive *self, const gchar *key, const gchar *value, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *old = NULL;
  g_autofree gchar *object = NULL;
  gint idx;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(value != NULL, FALSE);
  idx = cd_setting_index(key, error);
  if (idx < 0)
    return FALSE;
  if (cd_settings[idx].boolean && g_strcmp0(value, "true") != 0 && g_strcmp0(value, "false") != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s is true or false, not '%s'", key, value);
    return FALSE;
  }
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  object = g_strdup_printf("setting:%s", key);
  if (!cd_archive_require(self, CD_PERMISSION_CONFIGURE, "change archive settings", object, error))
    return FALSE;
  old = cd_archive_get_setting(self, key, error);
  if (old == NULL)
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  stmt = cd_archive_prepare(self,
                            "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, key);
  cd_bind_text(stmt, 2, value);
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  json_object_set_string_member(obj, "old", old);
  json_object_set_string_member(obj, "new", value);
  detail = json_node_init_object(json_node_alloc(), obj);
  if (!cd_archive_audit(self, "setting", object, detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/* ------------------------------------------------------------ helpers */

/* The person behind an audit name, for the two-person rule: a user's
 * login; in the administrator's mode the user named with --user
 * (`admin-mode:root for alice` is alice), else the administrator. So
 * alice through the service and an administrator acting for alice are one
 * person, and cannot approve what the other prepared. */
static gchar *
cd_roi_person(const gchar *audit_name)
{
  const gchar *on_behalf;

  if (!g_str_has_prefix(audit_name, "admin-mode:"))
    return g_strdup(audit_name);
  on_behalf = strstr(audit_name, " for ");
  if (on_behalf != NULL)
    return g_strdup(on_behalf + 5);
  return g_strdup(audit_name);
}

static gboolean
cd_roi_check_date(const gchar *date, const gchar *what, GError **error)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autofree gchar *iso = NULL;

  if (date == NULL)
    return TRUE;
  if (g_regex_match_simple("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", date, 0, 0)) {
    iso = g_strdup_printf("%sT00:00:00Z", date);
    dt = g_date_time_new_from_iso8601(iso, NULL);
  }
  if (dt == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s must be a date as YYYY-MM-DD (got '%s')", what, date);
    return FALSE;
  }
  return TRUE;
}

static gboolean
cd_roi_require_text(const gchar *value, const gchar *what, GError **error)
{
  g_autofree gchar *stripped = value != NULL ? g_strstrip(g_strdup(value)) : NULL;

  if (stripped == NULL || stripped[0] == '\0') {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "a release-of-information request needs %s", what);
    return FALSE;
  }
  return TRUE;
}

/* Now by the principal's clock (tests set one), as ISO 8601 UTC. */
static gchar *
cd_roi_now(CdArchive *self)
{
  gint64 us = cd_principal_now(cd_archive_get_principal(self));
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);

  return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

static gchar *
cd_roi_object(gint64 id)
{
  return g_strdup_printf("roi:%" G_GINT64_FORMAT, id);
}

/* Reads a request's status and patient. FALSE with "no request N" when
 * there is none. */
static gboolean
cd_roi_load(CdArchive *self, gint64 id, gchar **status, gchar **mrn, gchar **created_by, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt =
      cd_archive_prepare(self, "SELECT status, patient_mrn, created_by FROM roi_requests WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, id);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no release-of-information request %" G_GINT64_FORMAT,
                cd_archive_get_path(self), id);
    return FALSE;
  }
  if (status != NULL)
    *status = cd_column_dup(stmt, 0);
  if (mrn != NULL)
    *mrn = cd_column_dup(stmt, 1);
  if (created_by != NULL)
    *created_by = cd_column_dup(stmt, 2);
  return TRUE;
}

/* A request that must be in @wanted to be changed by @what. */
static gboolean
cd_roi_load_in(CdArchive *self, gint64 id, const gchar *wanted, const gchar *what, gchar **mrn, GError **error)
{
  g_autofree gchar *status = NULL;

  if (!cd_roi_load(self, id, &status, mrn, NULL, error))
    return FALSE;
  if (g_strcmp0(status, wanted) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "request %" G_GINT64_FORMAT " is %s: only a %s request can %s", id, status, wanted, what);
    return FALSE;
  }
  return TRUE;
}

static JsonNode *cd_roi_detail(const gchar *first_key, ...) G_GNUC_NULL_TERMINATED;

/* A detail object of string members: key, value, ..., NULL. */
static JsonNode *
cd_roi_detail(const gchar *first_key, ...)
{
  g_autoptr(JsonObject) obj = json_object_new();
  va_list ap;

  va_start(ap, first_key);
  for (const gchar *key = first_key; key != NULL; key = va_arg(ap, const gchar *)) {
    const gchar *value = va_arg(ap, const gchar *);
    json_object_set_string_member(obj, key, value);
  }
  va_end(ap);
  return json_node_init_object(json_node_alloc(), obj);
}

/* ------------------------------------------------------------ requests */

/**
 * cd_archive_roi_new:
 * @self: a #CdArchive
 * @spec: what the request says
 * @error: return location for a #GError
 *
 * Records a new request, in draft. The patient must be in the patient
 * index under this MRN (not merged into another: the survivor is named).
 * Needs %CD_PERMISSION_RELEASE; audited (`roi-new`).
 *
 * Returns: the request's number, or 0 with @error set
 *
 * Since: 0.4
 */
gint64
cd_archive_roi_new(CdArchive *self, const CdRoiRequestSpec *spec, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(CdPatient) patient = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *now = NULL;
  g_autofree gchar *object = NULL;
  gint64 id;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), 0);
  g_return_val_if_fail(spec != NULL, 0);
  if (!cd_roi_require_text(spec->mrn, "a patient (MRN)", error) ||
      !cd_roi_require_text(spec->requester, "a requester", error) ||
      !cd_roi_require_text(spec->recipient_name, "a recipient", error) ||
      !cd_roi_require_text(spec->purpose, "a purpose", error) ||
      !cd_roi_require_text(spec->authorisation, "an authorisation reference or the legal basis", error) ||
      !cd_roi_check_date(spec->requested_by, "the requested-by date", error))
    return 0;
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "create release-of-information requests", "roi", error))
    return 0;
  patient = cd_archive_lookup_patient(self, spec->mrn, error);
  if (patient == NULL)
    return 0;
  if (patient->merged_into != NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "MRN %s was merged into MRN %s; ask for MRN %s", spec->mrn,
                patient->merged_into, patient->merged_into);
    return 0;
  }
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return 0;
  now = cd_roi_now(self);
  stmt = cd_archive_prepare(self,
                            "INSERT INTO roi_requests (patient_mrn, requester, recipient_name, recipient_address, "
                            "purpose, authorisation, requested_by, created, created_by) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            error);
  if (stmt == NULL)
    return 0;
  cd_bind_text(stmt, 1, spec->mrn);
  cd_bind_text(stmt, 2, spec->requester);
  cd_bind_text(stmt, 3, spec->recipient_name);
  cd_bind_text(stmt, 4, spec->recipient_address);
  cd_bind_text(stmt, 5, spec->purpose);
  cd_bind_text(stmt, 6, spec->authorisation);
  cd_bind_text(stmt, 7, spec->requested_by);
  cd_bind_text(stmt, 8, now);
  cd_bind_text(stmt, 9, cd_archive_get_actor(self));
  if (!cd_archive_step_done(self, stmt, error))
    return 0;
  id = sqlite3_last_insert_rowid(cd_archive_get_db(self));
  object = cd_roi_object(id);
  detail = cd_roi_detail("mrn", spec->mrn, "requester", spec->requester, "recipient", spec->recipient_name, "purpose",
                         spec->purpose, "authorisation", spec->authorisation, NULL);
  if (!cd_archive_audit(self, "roi-new", object, detail, error))
    return 0;
  if (!cd_archive_txn_commit(txn, error))
    return 0;
  return id;
}

/* Appends one document to a draft request; FALSE with @error when it may
 * not be released for this patient, TRUE with *added FALSE when it is in
 * the request already. */
static gboolean
cd_roi_add_one(CdArchive *self, gint64 request_id, const gchar *mrn, gint64 document_id, JsonNode *selection,
               gboolean *added, GError **error)
{
  g_autoptr(sqlite3_stmt) doc = NULL;
  g_autoptr(sqlite3_stmt) ins = NULL;
  g_autofree gchar *now = cd_roi_now(self);
  g_autofree gchar *sel = cd_json_to_string(selection);

  *added = FALSE;
  if (!cd_archive_require_visible(self, document_id, error))
    return FALSE;
  doc = cd_archive_prepare(self,
                           "SELECT patient_mrn, status, EXISTS (SELECT 1 FROM roi_request_documents WHERE "
                           "request_id = ?2 AND document_id = ?1) FROM documents WHERE id = ?1",
                           error);
  if (doc == NULL)
    return FALSE;
  sqlite3_bind_int64(doc, 1, document_id);
  sqlite3_bind_int64(doc, 2, request_id);
  if (sqlite3_step(doc) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, cd_archive_get_path(self),
                document_id);
    return FALSE;
  }
  if (g_strcmp0(cd_column_text(doc, 0), mrn) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "document %" G_GINT64_FORMAT " is not filed to patient MRN %s, the request's patient", document_id,
                mrn);
    return FALSE;
  }
  if (g_strcmp0(cd_column_text(doc, 1), "filed") != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "document %" G_GINT64_FORMAT " waits in the review queue; it can be released once it is filed",
                document_id);
    return FALSE;
  }
  if (sqlite3_column_int(doc, 2) != 0)
    return TRUE;
  ins = cd_archive_prepare(self,
                           "INSERT INTO roi_request_documents (request_id, document_id, seq, selection, added, "
                           "added_by) VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM roi_request_documents "
                           "WHERE request_id = ?1), ?3, ?4, ?5)",
                           error);
  if (ins == NULL)
    return FALSE;
  sqlite3_bind_int64(ins, 1, request_id);
  sqlite3_bind_int64(ins, 2, document_id);
  cd_bind_text(ins, 3, sel);
  cd_bind_text(ins, 4, now);
  cd_bind_text(ins, 5, cd_archive_get_actor(self));
  if (!cd_archive_step_done(self, ins, error))
    return FALSE;
  *added = TRUE;
  return TRUE;
}

/* Adds @ids in order (those in the request already are skipped), then
 * audits what was added and how it was picked (`roi-add`); the caller's
 * transaction holds it all. */
static gboolean
cd_roi_add_all(CdArchive *self, gint64 request_id, const gchar *mrn, const gint64 *ids, guint n_ids,
               JsonNode *selection, guint *n_added, GError **error)
{
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonArray) arr = json_array_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *object = cd_roi_object(request_id);

  for (guint i = 0; i < n_ids; i++) {
    gboolean added;
    if (!cd_roi_add_one(self, request_id, mrn, ids[i], selection, &added, error))
      return FALSE;
    if (added)
      json_array_add_int_element(arr, ids[i]);
  }
  if (n_added != NULL)
    *n_added = json_array_get_length(arr);
  json_object_set_array_member(obj, "documents", g_steal_pointer(&arr));
  json_object_set_member(obj, "selection", json_node_copy(selection));
  detail = json_node_init_object(json_node_alloc(), obj);
  return cd_archive_audit(self, "roi-add", object, detail, error);
}

/**
 * cd_archive_roi_add_documents:
 * @self: a #CdArchive
 * @request_id: a draft request
 * @ids: (array length=n_ids): documents to add, in packet order
 * @n_ids: how many
 * @n_added: (out) (optional): how many were not in the request already
 * @error: return location for a #GError
 *
 * Adds documents picked by id. Each must be filed (not in review) to the
 * request's patient; one that fails refuses them all. A document of a type
 * hidden from the principal is "no document N". Audited (`roi-add`).
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_archive_roi_add_documents(CdArchive *self, gint64 request_id, const gint64 *ids, guint n_ids, guint *n_added,
                             GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  guint added = 0;
  g_autoptr(JsonNode) selection = NULL;
  g_autofree gchar *mrn = NULL;
  g_autofree gchar *object = cd_roi_object(request_id);

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "add documents to release requests", object, error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  if (!cd_roi_load_in(self, request_id, "draft", "have documents added", &mrn, error))
    return FALSE;
  selection = cd_roi_detail("picked", "by id", NULL);
  if (!cd_roi_add_all(self, request_id, mrn, ids, n_ids, selection, &added, error))
    return FALSE;
  if (!cd_archive_txn_commit(txn, error))
    return FALSE;
  if (n_added != NULL)
    *n_added = added;
  return TRUE;
}

/**
 * cd_archive_roi_add_selection:
 * @self: a #CdArchive
 * @request_id: a draft request
 * @doc_type: (nullable): only documents of this type
 * @date_from: (nullable): only documents dated on or after, `YYYY-MM-DD`
 * @date_to: (nullable): only documents dated on or before
 * @n_added: (out) (optional): how many were added
 * @error: return location for a #GError
 *
 * Adds the patient's filed documents that match, by date then id,
 * resolved now: a document filed later is not added by this selection. The
 * selection is recorded with each document it added. Audited (`roi-add`).
 *
 * Returns: %TRUE on success (none matching is not an error)
 *
 * Since: 0.4
 */
gboolean
cd_archive_roi_add_selection(CdArchive *self, gint64 request_id, const gchar *doc_type, const gchar *date_from,
                             const gchar *date_to, guint *n_added, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(gint64));
  guint added = 0;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) selection = NULL;
  g_autofree gchar *mrn = NULL;
  g_autofree gchar *object = cd_roi_object(request_id);

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  if (!cd_roi_check_date(date_from, "--from", error) || !cd_roi_check_date(date_to, "--to", error))
    return FALSE;
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "add documents to release requests", object, error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  if (!cd_roi_load_in(self, request_id, "draft", "have documents added", &mrn, error))
    return FALSE;
  /* hidden types are left out by the query: a restricted document is
   * neither added nor counted */
  stmt = cd_archive_prepare(self,
                            "SELECT id FROM documents WHERE patient_mrn = ?1 AND status = 'filed' "
                            "AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR date >= ?3) "
                            "AND (?4 IS NULL OR date <= ?4) AND (?5 IS NULL OR type IS NULL OR type NOT IN "
                            "(SELECT value FROM json_each(?5))) ORDER BY date, id",
                            error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, mrn);
  cd_bind_text(stmt, 2, doc_type);
  cd_bind_text(stmt, 3, date_from);
  cd_bind_text(stmt, 4, date_to);
  cd_bind_text(stmt, 5, cd_archive_hidden_types(self));
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(stmt, 0);
    g_array_append_val(found, id);
  }
  {
    g_autoptr(JsonObject) obj = json_object_new();
    json_object_set_string_member(obj, "type", doc_type);
    json_object_set_string_member(obj, "from", date_from);
    json_object_set_string_member(obj, "to", date_to);
    selection = json_node_init_object(json_node_alloc(), obj);
  }
  if (!cd_roi_add_all(self, request_id, mrn, (const gint64 *) found->data, found->len, selection, &added, error))
    return FALSE;
  if (!cd_archive_txn_commit(txn, error))
    return FALSE;
  if (n_added != NULL)
    *n_added = added;
  return TRUE;
}

/* The page's image size and words, if it belongs to a document of the
 * request; "page N is not in request R" otherwise. */
static gboolean
cd_roi_request_page(CdArchive *self, gint64 request_id, gint64 page_id, gint *width, gint *height, gchar **words,
                    GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = cd_archive_prepare(self,
                            "SELECT i.width, i.height, p.words FROM pages p JOIN roi_request_documents rd ON "
                            "rd.document_id = p.document_id AND rd.request_id = ?1 LEFT JOIN images i ON "
                            "i.sha256 = p.image_sha256 WHERE p.id = ?2",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, request_id);
  sqlite3_bind_int64(stmt, 2, page_id);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND,
                "page %" G_GINT64_FORMAT " is not in a document of request %" G_GINT64_FORMAT, page_id, request_id);
    return FALSE;
  }
  if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "page %" G_GINT64_FORMAT " has no stored image", page_id);
    return FALSE;
  }
  *width = sqlite3_column_int(stmt, 0);
  *height = sqlite3_column_int(stmt, 1);
  if (words != NULL)
    *words = cd_column_dup(stmt, 2);
  return TRUE;
}

/* Records one redaction; takes @rects. */
static gint64
cd_roi_insert_redaction(CdArchive *self, gint64 request_id, gint64 page_id, const gchar *kind, const gchar *pattern,
                        JsonArray *rects, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
  g_autofree gchar *text = NULL;
  g_autofree gchar *now = cd_roi_now(self);

  json_node_take_array(node, rects);
  text = cd_json_to_string(node);
  stmt = cd_archive_prepare(self,
                            "INSERT INTO roi_redactions (request_id, page_id, kind, pattern, rects, created, "
                            "created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64(stmt, 1, request_id);
  sqlite3_bind_int64(stmt, 2, page_id);
  cd_bind_text(stmt, 3, kind);
  cd_bind_text(stmt, 4, pattern);
  cd_bind_text(stmt, 5, text);
  cd_bind_text(stmt, 6, now);
  cd_bind_text(stmt, 7, cd_archive_get_actor(self));
  if (!cd_archive_step_done(self, stmt, error))
    return 0;
  return sqlite3_last_insert_rowid(cd_archive_get_db(self));
}

static JsonArray *
cd_roi_rect_array(gint x, gint y, gint w, gint h)
{
  JsonArray *rect = json_array_new();

  json_array_add_int_element(rect, x);
  json_array_add_int_element(rect, y);
  json_array_add_int_element(rect, w);
  json_array_add_int_element(rect, h);
  return rect;
}

/**
 * cd_archive_roi_redact_rect:
 * @self: a #CdArchive
 * @request_id: a draft request
 * @page_id: a page of one of its documents
 * @x: left edge, in the stored image's pixels
 * @y: top edge
 * @width: width, more than 0
 * @height: height, more than 0
 * @error: return location for a #GError
 *
 * Records a rectangle to black out on that page of the packet (clipped to
 * the image); the words it touches leave the text layer too. Audited
 * (`roi-redact`).
 *
 * Returns: the redaction's id, or 0 with @error set
 *
 * Since: 0.4
 */
gint64
cd_archive_roi_redact_rect(CdArchive *self, gint64 request_id, gint64 page_id, gint x, gint y, gint width, gint height,
                           GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(JsonArray) rects = json_array_new();
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *object = cd_roi_object(request_id);
  gint img_w, img_h, x1, y1;
  gint64 id;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), 0);
  if (width <= 0 || height <= 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "a redaction rectangle needs a width and height above 0");
    return 0;
  }
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "redact release packets", object, error))
    return 0;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return 0;
  if (!cd_roi_load_in(self, request_id, "draft", "be redacted", NULL, error) ||
      !cd_roi_request_page(self, request_id, page_id, &img_w, &img_h, NULL, error))
    return 0;
  x1 = MIN((gint64) x + width, img_w);
  y1 = MIN((gint64) y + height, img_h);
  x = MAX(x, 0);
  y = MAX(y, 0);
  if (x1 <= x || y1 <= y) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "the rectangle is outside page %" G_GINT64_FORMAT " (its image is %d×%d pixels)", page_id, img_w,
                img_h);
    return 0;
  }
  json_array_add_array_element(rects, cd_roi_rect_array(x, y, x1 - x, y1 - y));
  id = cd_roi_insert_redaction(self, request_id, page_id, "rect", NULL, json_array_ref(rects), error);
  if (id == 0)
    return 0;
  json_object_set_int_member(obj, "page", page_id);
  json_object_set_string_member(obj, "kind", "rect");
  json_object_set_array_member(obj, "rects", g_steal_pointer(&rects));
  detail = json_node_init_object(json_node_alloc(), obj);
  if (!cd_archive_audit(self, "roi-redact", object, detail, error))
    return 0;
  if (!cd_archive_txn_commit(txn, error))
    return 0;
  return id;
}

/* A word as compared with a pattern: without the punctuation around it. */
static gchar *
cd_roi_word_core(const gchar *text)
{
  const gchar *start = text;
  const gchar *end = text + strlen(text);

  while (start < end && !g_unichar_isalnum(g_utf8_get_char(start)))
    start = g_utf8_next_char(start);
  while (end > start) {
    const gchar *prev = g_utf8_prev_char(end);
    if (g_unichar_isalnum(g_utf8_get_char(prev)))
      break;
    end = prev;
  }
  return g_strndup(start, end - start);
}

/* Boxes of the words of one page (words JSON as stored) that @regex
 * matches whole, with or without their punctuation. */
static JsonArray *
cd_roi_match_words(const gchar *words_json, GRegex *regex, guint *n_words)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonArray *rects = json_array_new();
  JsonArray *words;

  *n_words = 0;
  if (words_json == NULL || !json_parser_load_from_data(parser, words_json, -1, NULL) ||
      !JSON_NODE_HOLDS_ARRAY(json_parser_get_root(parser)))
    return rects;
  words = json_node_get_array(json_parser_get_root(parser));
  for (guint i = 0; i < json_array_get_length(words); i++) {
    JsonArray *w = json_array_get_array_element(words, i);
    const gchar *text;
    g_autofree gchar *core = NULL;

    if (w == NULL || json_array_get_length(w) < 7)
      continue;
    text = json_array_get_string_element(w, 6);
    if (text == NULL)
      continue;
    core = cd_roi_word_core(text);
    if (!g_regex_match(regex, text, 0, NULL) && !(core[0] != '\0' && g_regex_match(regex, core, 0, NULL)))
      continue;
    json_array_add_array_element(rects,
                                 cd_roi_rect_array(json_array_get_int_element(w, 0), json_array_get_int_element(w, 1),
                                                   json_array_get_int_element(w, 2), json_array_get_int_element(w, 3)));
    (*n_words)++;
  }
  return rects;
}

/**
 * cd_archive_roi_redact_words:
 * @self: a #CdArchive
 * @request_id: a draft request
 * @page_id: a page of one of its documents, or 0 for every page of the request
 * @pattern: a word, or a regular expression a whole word must match
 *   (case-insensitive; punctuation around a word is ignored)
 * @n_words: (out) (optional): how many words matched
 * @error: return location for a #GError
 *
 * Finds the matching words now, from the pages' word boxes, and records
 * their boxes as rectangles to black out: the packet burns them into the
 * image and leaves the words out of its text layer. A pattern no word
 * matches is an error (%CD_ERROR_NOT_FOUND): nothing would be hidden.
 * Audited (`roi-redact`).
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_archive_roi_redact_words(CdArchive *self, gint64 request_id, gint64 page_id, const gchar *pattern, guint *n_words,
                            GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(GRegex) regex = NULL;
  g_autoptr(GError) regex_error = NULL;
  g_autoptr(GArray) pages = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(JsonArray) touched = json_array_new();
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *anchored = NULL;
  g_autofree gchar *object = cd_roi_object(request_id);
  guint total = 0;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  if (!cd_roi_require_text(pattern, "a word or pattern to redact", error))
    return FALSE;
  anchored = g_strdup_printf("^(?:%s)$", pattern);
  regex = g_regex_new(anchored, G_REGEX_CASELESS, 0, &regex_error);
  if (regex == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "'%s' is not a regular expression: %s", pattern,
                regex_error->message);
    return FALSE;
  }
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "redact release packets", object, error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  if (!cd_roi_load_in(self, request_id, "draft", "be redacted", NULL, error))
    return FALSE;
  if (page_id != 0) {
    g_array_append_val(pages, page_id);
  } else {
    g_autoptr(sqlite3_stmt) stmt =
        cd_archive_prepare(self,
                           "SELECT p.id FROM roi_request_documents rd JOIN pages p ON p.document_id = rd.document_id "
                           "WHERE rd.request_id = ? ORDER BY rd.seq, p.seq",
                           error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, request_id);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      gint64 id = sqlite3_column_int64(stmt, 0);
      g_array_append_val(pages, id);
    }
  }
  for (guint i = 0; i < pages->len; i++) {
    gint64 id = g_array_index(pages, gint64, i);
    g_autofree gchar *words = NULL;
    JsonArray *rects;
    guint n = 0;
    gint w, h;

    if (!cd_roi_request_page(self, request_id, id, &w, &h, &words, error))
      return FALSE;
    rects = cd_roi_match_words(words, regex, &n);
    if (n == 0) {
      json_array_unref(rects);
      continue;
    }
    if (cd_roi_insert_redaction(self, request_id, id, "words", pattern, rects, error) == 0)
      return FALSE;
    json_array_add_int_element(touched, id);
    total += n;
  }
  if (total == 0) {
    if (page_id != 0)
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no word of page %" G_GINT64_FORMAT " matches '%s'", page_id,
                  pattern);
    else
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no word of request %" G_GINT64_FORMAT " matches '%s'",
                  request_id, pattern);
    return FALSE;
  }
  json_object_set_string_member(obj, "kind", "words");
  json_object_set_string_member(obj, "pattern", pattern);
  json_object_set_int_member(obj, "words", total);
  json_object_set_array_member(obj, "pages", g_steal_pointer(&touched));
  detail = json_node_init_object(json_node_alloc(), obj);
  if (!cd_archive_audit(self, "roi-redact", object, detail, error))
    return FALSE;
  if (!cd_archive_txn_commit(txn, error))
    return FALSE;
  if (n_words != NULL)
    *n_words = total;
  return TRUE;
}

/**
 * cd_archive_roi_approve:
 * @self: a #CdArchive
 * @request_id: a draft request with documents
 * @error: return location for a #GError
 *
 * Approves the request for release. With the setting `roi.two-person`
 * true, the approver must be another person than the one who created it
 * (%CD_ERROR_PERMISSION_DENIED otherwise, audited). Audited (`roi-approve`).
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_archive_roi_approve(CdArchive *self, gint64 request_id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) count = NULL;
  g_autoptr(sqlite3_stmt) upd = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *status = NULL;
  g_autofree gchar *created_by = NULL;
  g_autofree gchar *two_person = NULL;
  g_autofree gchar *creator = NULL;
  g_autofree gchar *approver = NULL;
  g_autofree gchar *now = NULL;
  g_autofree gchar *object = cd_roi_object(request_id);

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "approve release requests", object, error))
    return FALSE;
  two_person = cd_archive_get_setting(self, CD_SETTING_ROI_TWO_PERSON, error);
  if (two_person == NULL)
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  if (!cd_roi_load(self, request_id, &status, NULL, &created_by, error))
    return FALSE;
  if (g_strcmp0(status, "draft") != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "request %" G_GINT64_FORMAT " is %s: only a draft request can be approved", request_id, status);
    return FALSE;
  }
  creator = cd_roi_person(created_by);
  approver = cd_roi_person(cd_archive_get_actor(self));
  if (g_strcmp0(two_person, "true") == 0 && g_strcmp0(creator, approver) == 0) {
    g_clear_pointer(&txn, cd_archive_txn_free);
    detail = cd_roi_detail("operation", "approve a request one prepared", "rule", CD_SETTING_ROI_TWO_PERSON, NULL);
    if (!cd_archive_audit(self, "denied", object, detail, error))
      return FALSE;
    g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED,
                "request %" G_GINT64_FORMAT " was prepared by %s: with %s on, another user with the roi role must "
                "approve it",
                request_id, creator, CD_SETTING_ROI_TWO_PERSON);
    return FALSE;
  }
  count = cd_archive_prepare(self, "SELECT count(*) FROM roi_request_documents WHERE request_id = ?", error);
  if (count == NULL)
    return FALSE;
  sqlite3_bind_int64(count, 1, request_id);
  if (sqlite3_step(count) != SQLITE_ROW || sqlite3_column_int(count, 0) == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "request %" G_GINT64_FORMAT " has no documents: add some before approving it", request_id);
    return FALSE;
  }
  now = cd_roi_now(self);
  upd = cd_archive_prepare(
      self, "UPDATE roi_requests SET status = 'approved', approved = ?2, approved_by = ?3 WHERE id = ?1", error);
  if (upd == NULL)
    return FALSE;
  sqlite3_bind_int64(upd, 1, request_id);
  cd_bind_text(upd, 2, now);
  cd_bind_text(upd, 3, cd_archive_get_actor(self));
  if (!cd_archive_step_done(self, upd, error))
    return FALSE;
  g_clear_pointer(&detail, json_node_unref);
  detail = cd_roi_detail("two_person", two_person, "prepared_by", created_by, NULL);
  if (!cd_archive_audit(self, "roi-approve", object, detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/**
 * cd_archive_roi_cancel:
 * @self: a #CdArchive
 * @request_id: a request not released yet
 * @why: the reason, kept with the request and in the audit log
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_archive_roi_cancel(CdArchive *self, gint64 request_id, const gchar *why, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) upd = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *status = NULL;
  g_autofree gchar *now = NULL;
  g_autofree gchar *object = cd_roi_object(request_id);

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  if (!cd_roi_require_text(why, "a reason (why) to be cancelled", error))
    return FALSE;
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "cancel release requests", object, error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  if (!cd_roi_load(self, request_id, &status, NULL, NULL, error))
    return FALSE;
  if (g_strcmp0(status, "draft") != 0 && g_strcmp0(status, "approved") != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "request %" G_GINT64_FORMAT " is %s: only a draft or approved request can be cancelled", request_id,
                status);
    return FALSE;
  }
  now = cd_roi_now(self);
  upd = cd_archive_prepare(self,
                           "UPDATE roi_requests SET status = 'cancelled', cancel_reason = ?2, cancelled = ?3, "
                           "cancelled_by = ?4 WHERE id = ?1",
                           error);
  if (upd == NULL)
    return FALSE;
  sqlite3_bind_int64(upd, 1, request_id);
  cd_bind_text(upd, 2, why);
  cd_bind_text(upd, 3, now);
  cd_bind_text(upd, 4, cd_archive_get_actor(self));
  if (!cd_archive_step_done(self, upd, error))
    return FALSE;
  detail = cd_roi_detail("why", why, "was", status, NULL);
  if (!cd_archive_audit(self, "roi-cancel", object, detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/* ------------------------------------------------------------ reading */

static void
cd_roi_add_parsed(JsonBuilder *b, const gchar *member, const gchar *json)
{
  g_autoptr(JsonParser) parser = json_parser_new();

  json_builder_set_member_name(b, member);
  if (json != NULL && json_parser_load_from_data(parser, json, -1, NULL))
    json_builder_add_value(b, json_node_copy(json_parser_get_root(parser)));
  else
    json_builder_add_null_value(b);
}

#define CD_ROI_COLUMNS                                                                                                 \
  "r.id, r.status, r.patient_mrn, r.requester, r.recipient_name, r.recipient_address, r.purpose, r.authorisation, "    \
  "r.requested_by, r.cancel_reason, r.created, r.created_by, r.approved, r.approved_by, r.released, "                  \
  "r.released_by, r.cancelled, r.cancelled_by, pt.family, pt.given, pt.dob, "                                          \
  "(SELECT count(*) FROM roi_request_documents rd WHERE rd.request_id = r.id) "
#define CD_ROI_FROM " FROM roi_requests r LEFT JOIN patients pt ON pt.mrn = r.patient_mrn "

/* The members of one request row selected with CD_ROI_COLUMNS. */
static void
cd_roi_row_json(JsonBuilder *b, sqlite3_stmt *stmt)
{
  static const gchar *const names[] = {
    NULL,       "status",        NULL,           "requester",     NULL,        NULL,
    "purpose",  "authorisation", "requested_by", "cancel_reason", "created",   "created_by",
    "approved", "approved_by",   "released",     "released_by",   "cancelled", "cancelled_by"
  };

  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, sqlite3_column_int64(stmt, 0));
  for (guint i = 1; i < G_N_ELEMENTS(names); i++) {
    if (names[i] != NULL)
      cd_json_add_string_or_null(b, names[i], cd_column_text(stmt, i));
  }
  json_builder_set_member_name(b, "patient");
  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "mrn", cd_column_text(stmt, 2));
  cd_json_add_string_or_null(b, "family", cd_column_text(stmt, 18));
  cd_json_add_string_or_null(b, "given", cd_column_text(stmt, 19));
  cd_json_add_string_or_null(b, "dob", cd_column_text(stmt, 20));
  json_builder_end_object(b);
  json_builder_set_member_name(b, "recipient");
  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "name", cd_column_text(stmt, 4));
  cd_json_add_string_or_null(b, "address", cd_column_text(stmt, 5));
  json_builder_end_object(b);
  json_builder_set_member_name(b, "n_documents");
  json_builder_add_int_value(b, sqlite3_column_int64(stmt, 21));
}

/* The full request: its row, documents (those hidden from the principal
 * left out), redactions and packet. */
static JsonNode *
cd_roi_request_json(CdArchive *self, gint64 id, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(sqlite3_stmt) req = NULL;
  g_autoptr(sqlite3_stmt) docs = NULL;
  g_autoptr(sqlite3_stmt) reds = NULL;
  g_autoptr(sqlite3_stmt) packet = NULL;

  req = cd_archive_prepare(self, "SELECT " CD_ROI_COLUMNS CD_ROI_FROM "WHERE r.id = ?", error);
  if (req == NULL)
    return NULL;
  sqlite3_bind_int64(req, 1, id);
  if (sqlite3_step(req) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no release-of-information request %" G_GINT64_FORMAT,
                cd_archive_get_path(self), id);
    return NULL;
  }
  json_builder_begin_object(b);
  cd_roi_row_json(b, req);

  docs = cd_archive_prepare(self,
                            "SELECT rd.document_id, d.type, d.date, d.title, rd.selection, rd.added_by, "
                            "(SELECT count(*) FROM pages p WHERE p.document_id = rd.document_id), d.id IS NULL "
                            "FROM roi_request_documents rd LEFT JOIN documents d ON d.id = rd.document_id "
                            "WHERE rd.request_id = ?1 AND (?2 IS NULL OR d.type IS NULL OR d.type NOT IN "
                            "(SELECT value FROM json_each(?2))) ORDER BY rd.seq",
                            error);
  if (docs == NULL)
    return NULL;
  sqlite3_bind_int64(docs, 1, id);
  cd_bind_text(docs, 2, cd_archive_hidden_types(self));
  json_builder_set_member_name(b, "documents");
  json_builder_begin_array(b);
  while (sqlite3_step(docs) == SQLITE_ROW) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, sqlite3_column_int64(docs, 0));
    cd_json_add_string_or_null(b, "type", cd_column_text(docs, 1));
    cd_json_add_string_or_null(b, "date", cd_column_text(docs, 2));
    cd_json_add_string_or_null(b, "title", cd_column_text(docs, 3));
    json_builder_set_member_name(b, "pages");
    json_builder_add_int_value(b, sqlite3_column_int(docs, 6));
    cd_roi_add_parsed(b, "selection", cd_column_text(docs, 4));
    cd_json_add_string_or_null(b, "added_by", cd_column_text(docs, 5));
    json_builder_set_member_name(b, "missing");
    json_builder_add_boolean_value(b, sqlite3_column_int(docs, 7) != 0);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);

  reds = cd_archive_prepare(self,
                            "SELECT id, page_id, kind, pattern, rects, created, created_by FROM roi_redactions "
                            "WHERE request_id = ?1 AND (?2 IS NULL OR page_id NOT IN (SELECT p.id FROM pages p "
                            "JOIN documents d ON d.id = p.document_id WHERE d.type IN (SELECT value FROM "
                            "json_each(?2)))) ORDER BY id",
                            error);
  if (reds == NULL)
    return NULL;
  sqlite3_bind_int64(reds, 1, id);
  cd_bind_text(reds, 2, cd_archive_hidden_types(self));
  json_builder_set_member_name(b, "redactions");
  json_builder_begin_array(b);
  while (sqlite3_step(reds) == SQLITE_ROW) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, sqlite3_column_int64(reds, 0));
    json_builder_set_member_name(b, "page");
    json_builder_add_int_value(b, sqlite3_column_int64(reds, 1));
    cd_json_add_string_or_null(b, "kind", cd_column_text(reds, 2));
    cd_json_add_string_or_null(b, "pattern", cd_column_text(reds, 3));
    cd_roi_add_parsed(b, "rects", cd_column_text(reds, 4));
    cd_json_add_string_or_null(b, "created", cd_column_text(reds, 5));
    cd_json_add_string_or_null(b, "created_by", cd_column_text(reds, 6));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);

  packet = cd_archive_prepare(self,
                              "SELECT pdf_sha256, pages, bates_first, bates_last, created FROM roi_packets WHERE "
                              "request_id = ?",
                              error);
  if (packet == NULL)
    return NULL;
  sqlite3_bind_int64(packet, 1, id);
  json_builder_set_member_name(b, "packet");
  if (sqlite3_step(packet) == SQLITE_ROW) {
    json_builder_begin_object(b);
    cd_json_add_string_or_null(b, "sha256", cd_column_text(packet, 0));
    json_builder_set_member_name(b, "pages");
    json_builder_add_int_value(b, sqlite3_column_int(packet, 1));
    cd_json_add_string_or_null(b, "bates_first", cd_column_text(packet, 2));
    cd_json_add_string_or_null(b, "bates_last", cd_column_text(packet, 3));
    cd_json_add_string_or_null(b, "created", cd_column_text(packet, 4));
    json_builder_end_object(b);
  } else {
    json_builder_add_null_value(b);
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/**
 * cd_archive_roi_get:
 * @self: a #CdArchive
 * @request_id: a request
 * @error: return location for a #GError
 *
 * Needs %CD_PERMISSION_RELEASE; audited (`roi-show`).
 *
 * Returns: (transfer full): the request as JSON, its documents,
 *   redactions and packet included
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_roi_get(CdArchive *self, gint64 request_id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *object = cd_roi_object(request_id);

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "read release requests", object, error))
    return NULL;
  node = cd_roi_request_json(self, request_id, error);
  if (node == NULL)
    return NULL;
  if (!cd_archive_audit(self, "roi-show", object, NULL, error))
    return NULL;
  return g_steal_pointer(&node);
}

/**
 * cd_archive_roi_list:
 * @self: a #CdArchive
 * @status: (nullable): only requests in this status
 * @mrn: (nullable): only this patient's requests
 * @error: return location for a #GError
 *
 * Needs %CD_PERMISSION_RELEASE; audited (`roi-list`).
 *
 * Returns: (transfer full): a JSON array of requests (without their
 *   documents), newest first
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_roi_list(CdArchive *self, const gchar *status, const gchar *mrn, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) detail = NULL;
  guint n = 0;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  if (status != NULL &&
      !g_strv_contains((const gchar *const[]){ "draft", "approved", "released", "cancelled", NULL }, status)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "'%s' is not a request status (draft, approved, released or cancelled)", status);
    return NULL;
  }
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "list release requests", "roi", error))
    return NULL;
  stmt = cd_archive_prepare(self,
                            "SELECT " CD_ROI_COLUMNS CD_ROI_FROM
                            "WHERE (?1 IS NULL OR r.status = ?1) AND (?2 IS NULL OR r.patient_mrn = ?2) "
                            "ORDER BY r.id DESC",
                            error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, status);
  cd_bind_text(stmt, 2, mrn);
  json_builder_begin_array(b);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    json_builder_begin_object(b);
    cd_roi_row_json(b, stmt);
    json_builder_end_object(b);
    n++;
  }
  json_builder_end_array(b);
  root = json_builder_get_root(b);
  {
    g_autoptr(JsonObject) obj = json_object_new();
    json_object_set_string_member(obj, "status", status);
    json_object_set_string_member(obj, "mrn", mrn);
    json_object_set_int_member(obj, "requests", n);
    detail = json_node_init_object(json_node_alloc(), obj);
  }
  if (!cd_archive_audit(self, "roi-list", "roi", detail, error))
    return NULL;
  return g_steal_pointer(&root);
}

/* ------------------------------------------------------------ release */

/* The words of a page as stored and their SHA-256 (of the stored text,
 * the empty string for none): what a packet's text layer is made from. */
static gboolean
cd_roi_page_words(CdArchive *self, gint64 page_id, JsonNode **words, gchar **sha256, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, "SELECT words FROM pages WHERE id = ?", error);
  g_autoptr(JsonParser) parser = json_parser_new();
  const gchar *text;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, page_id);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no page %" G_GINT64_FORMAT, cd_archive_get_path(self),
                page_id);
    return FALSE;
  }
  text = cd_column_text(stmt, 0);
  *sha256 = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text != NULL ? text : "", -1);
  if (text != NULL && json_parser_load_from_data(parser, text, -1, NULL) &&
      JSON_NODE_HOLDS_ARRAY(json_parser_get_root(parser)))
    *words = json_node_copy(json_parser_get_root(parser));
  else {
    *words = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(*words, json_array_new());
  }
  return TRUE;
}

/* The rectangles of every redaction of a page in a request, in order. */
static JsonNode *
cd_roi_page_redactions(CdArchive *self, gint64 request_id, gint64 page_id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonArray) all = json_array_new();

  stmt = cd_archive_prepare(self, "SELECT rects FROM roi_redactions WHERE request_id = ? AND page_id = ? ORDER BY id",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, request_id);
  sqlite3_bind_int64(stmt, 2, page_id);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonArray *rects;
    if (!json_parser_load_from_data(parser, cd_column_text(stmt, 0), -1, NULL) ||
        !JSON_NODE_HOLDS_ARRAY(json_parser_get_root(parser)))
      continue;
    rects = json_node_get_array(json_parser_get_root(parser));
    for (guint i = 0; i < json_array_get_length(rects); i++)
      json_array_add_element(all, json_node_copy(json_array_get_element(rects, i)));
  }
  return json_node_init_array(json_node_alloc(), all);
}

/* One document of a packet: its details and pages, each with its image's
 * hash and size, its words and their hash, and its redactions. */
static gboolean
cd_roi_document_plan(CdArchive *self, gint64 request_id, gint64 document_id, const gchar *mrn, JsonBuilder *b,
                     GError **error)
{
  g_autoptr(sqlite3_stmt) doc = NULL;
  g_autoptr(sqlite3_stmt) pages = NULL;

  if (!cd_archive_require_visible(self, document_id, error))
    return FALSE;
  doc = cd_archive_prepare(self, "SELECT patient_mrn, status, type, date, title FROM documents WHERE id = ?", error);
  if (doc == NULL)
    return FALSE;
  sqlite3_bind_int64(doc, 1, document_id);
  if (sqlite3_step(doc) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND,
                "%s: no document %" G_GINT64_FORMAT " (request %" G_GINT64_FORMAT ")", cd_archive_get_path(self),
                document_id, request_id);
    return FALSE;
  }
  /* refiled or sent back to review since it was added */
  if (g_strcmp0(cd_column_text(doc, 0), mrn) != 0 || g_strcmp0(cd_column_text(doc, 1), "filed") != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "document %" G_GINT64_FORMAT " is no longer filed to patient MRN %s; cancel request %" G_GINT64_FORMAT
                " and make a new one",
                document_id, mrn, request_id);
    return FALSE;
  }
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, document_id);
  cd_json_add_string_or_null(b, "type", cd_column_text(doc, 2));
  cd_json_add_string_or_null(b, "date", cd_column_text(doc, 3));
  cd_json_add_string_or_null(b, "title", cd_column_text(doc, 4));
  pages = cd_archive_prepare(self,
                             "SELECT p.id, p.image_sha256, i.width, i.height, coalesce(p.xres, i.xres), "
                             "coalesce(p.yres, i.yres), i.format FROM pages p LEFT JOIN images i ON i.sha256 = "
                             "p.image_sha256 WHERE p.document_id = ? ORDER BY p.seq",
                             error);
  if (pages == NULL)
    return FALSE;
  sqlite3_bind_int64(pages, 1, document_id);
  json_builder_set_member_name(b, "pages");
  json_builder_begin_array(b);
  while (sqlite3_step(pages) == SQLITE_ROW) {
    gint64 page_id = sqlite3_column_int64(pages, 0);
    g_autoptr(JsonNode) words = NULL;
    g_autoptr(JsonNode) redactions = NULL;
    g_autofree gchar *words_sha = NULL;

    if (sqlite3_column_type(pages, 1) == SQLITE_NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND,
                  "page %" G_GINT64_FORMAT " of document %" G_GINT64_FORMAT " has no stored image", page_id,
                  document_id);
      return FALSE;
    }
    if (!cd_roi_page_words(self, page_id, &words, &words_sha, error))
      return FALSE;
    redactions = cd_roi_page_redactions(self, request_id, page_id, error);
    if (redactions == NULL)
      return FALSE;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, page_id);
    cd_json_add_string_or_null(b, "image_sha256", cd_column_text(pages, 1));
    cd_json_add_string_or_null(b, "format", cd_column_text(pages, 6));
    json_builder_set_member_name(b, "width");
    json_builder_add_int_value(b, sqlite3_column_int(pages, 2));
    json_builder_set_member_name(b, "height");
    json_builder_add_int_value(b, sqlite3_column_int(pages, 3));
    json_builder_set_member_name(b, "xres");
    json_builder_add_int_value(b, sqlite3_column_int(pages, 4));
    json_builder_set_member_name(b, "yres");
    json_builder_add_int_value(b, sqlite3_column_int(pages, 5));
    cd_json_add_string_or_null(b, "words_sha256", words_sha);
    json_builder_set_member_name(b, "redactions");
    json_builder_add_value(b, g_steal_pointer(&redactions));
    json_builder_set_member_name(b, "words");
    json_builder_add_value(b, g_steal_pointer(&words));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return TRUE;
}

/**
 * cd_archive_roi_prepare_release:
 * @self: a #CdArchive
 * @request_id: an approved request
 * @error: return location for a #GError
 *
 * What the packet of an approved request is made of, as the manifest that
 * will be stored with it: the request (patient, requester, recipient,
 * purpose, authorisation), the release time and who releases (the PDF's
 * dates come from it), the Bates prefix, and each document with its pages —
 * image hash and size, words (the text layer) and their hash, and the
 * redaction rectangles. Every document must still be filed to the
 * request's patient. Needs %CD_PERMISSION_RELEASE; audited (`roi-prepare`).
 *
 * Returns: (transfer full): the manifest, or %NULL with @error set
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_roi_prepare_release(CdArchive *self, gint64 request_id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) request = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(sqlite3_stmt) docs = NULL;
  g_autoptr(GString) prefix = NULL;
  g_autofree gchar *mrn = NULL;
  g_autofree gchar *prefix_setting = NULL;
  g_autofree gchar *number = NULL;
  g_autofree gchar *now = NULL;
  g_autofree gchar *object = cd_roi_object(request_id);
  JsonObject *req;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "release information", object, error))
    return NULL;
  prefix_setting = cd_archive_get_setting(self, CD_SETTING_ROI_BATES_PREFIX, error);
  if (prefix_setting == NULL)
    return NULL;
  /* one snapshot: the pages listed are the pages read */
  txn = cd_archive_txn_begin_read(self, error);
  if (txn == NULL)
    return NULL;
  if (!cd_roi_load_in(self, request_id, "approved", "be released", &mrn, error))
    return NULL;
  request = cd_roi_request_json(self, request_id, error);
  if (request == NULL)
    return NULL;
  req = json_node_get_object(request);
  prefix = g_string_new(prefix_setting);
  number = g_strdup_printf("%" G_GINT64_FORMAT, request_id);
  g_string_replace(prefix, "${request}", number, 0);
  now = cd_roi_now(self);

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "manifest_version");
  json_builder_add_int_value(b, 1);
  json_builder_set_member_name(b, "request");
  json_builder_add_int_value(b, request_id);
  json_builder_set_member_name(b, "patient");
  json_builder_add_value(b, json_node_copy(json_object_get_member(req, "patient")));
  cd_json_add_string_or_null(b, "requester", json_object_get_string_member(req, "requester"));
  json_builder_set_member_name(b, "recipient");
  json_builder_add_value(b, json_node_copy(json_object_get_member(req, "recipient")));
  cd_json_add_string_or_null(b, "purpose", json_object_get_string_member(req, "purpose"));
  cd_json_add_string_or_null(b, "authorisation", json_object_get_string_member(req, "authorisation"));
  cd_json_add_string_or_null(b, "approved_by", json_object_get_string_member(req, "approved_by"));
  cd_json_add_string_or_null(b, "released", now);
  cd_json_add_string_or_null(b, "released_by", cd_archive_get_actor(self));
  cd_json_add_string_or_null(b, "bates_prefix", prefix->str);

  docs = cd_archive_prepare(self, "SELECT document_id FROM roi_request_documents WHERE request_id = ? ORDER BY seq",
                            error);
  if (docs == NULL)
    return NULL;
  sqlite3_bind_int64(docs, 1, request_id);
  json_builder_set_member_name(b, "documents");
  json_builder_begin_array(b);
  while (sqlite3_step(docs) == SQLITE_ROW) {
    if (!cd_roi_document_plan(self, request_id, sqlite3_column_int64(docs, 0), mrn, b, error))
      return NULL;
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  root = json_builder_get_root(b);
  g_clear_pointer(&txn, cd_archive_txn_free);
  if (!cd_archive_audit(self, "roi-prepare", object, NULL, error))
    return NULL;
  return g_steal_pointer(&root);
}

/**
 * cd_archive_roi_get_page_image:
 * @self: a #CdArchive
 * @request_id: an approved or released request
 * @page_id: a page of one of its documents
 * @sha256: (nullable): the image hash the manifest names; another image
 *   fails with %CD_ERROR_INVALID_DATA
 * @format: (out) (optional) (transfer full): `tiff-g4` or `jpeg`
 * @error: return location for a #GError
 *
 * A page image for the packet being made. Reads are recorded by the
 * `roi-prepare` and `roi-reproduce` entries that list the packet's pages,
 * not one entry a page; this is why only the pages of a request being
 * released (or released) are given.
 *
 * Returns: (transfer full): the stored image, or %NULL with @error set
 *
 * Since: 0.4
 */
GBytes *
cd_archive_roi_get_page_image(CdArchive *self, gint64 request_id, gint64 page_id, const gchar *sha256, gchar **format,
                              GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *status = NULL;
  g_autofree gchar *object = cd_roi_object(request_id);
  gint w, h;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "release information", object, error))
    return NULL;
  if (!cd_roi_load(self, request_id, &status, NULL, NULL, error))
    return NULL;
  if (g_strcmp0(status, "approved") != 0 && g_strcmp0(status, "released") != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "request %" G_GINT64_FORMAT " is %s: its pages are read for a packet once it is approved", request_id,
                status);
    return NULL;
  }
  if (!cd_roi_request_page(self, request_id, page_id, &w, &h, NULL, error))
    return NULL;
  stmt = cd_archive_prepare(self,
                            "SELECT i.format, i.data, i.sha256 FROM pages p JOIN images i ON i.sha256 = "
                            "p.image_sha256 WHERE p.id = ?",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, page_id);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "page %" G_GINT64_FORMAT " has no stored image", page_id);
    return NULL;
  }
  if (sha256 != NULL && g_strcmp0(sha256, cd_column_text(stmt, 2)) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "page %" G_GINT64_FORMAT ": its image is %s, not %s as the packet's manifest says", page_id,
                cd_column_text(stmt, 2), sha256);
    return NULL;
  }
  /* the stored hash names the bytes: check them, this copy leaves the archive */
  {
    g_autofree gchar *actual =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, sqlite3_column_blob(stmt, 1), sqlite3_column_bytes(stmt, 1));
    if (g_strcmp0(actual, cd_column_text(stmt, 2)) != 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                  "page %" G_GINT64_FORMAT ": the stored image does not match its hash %s (run chartdesk check)",
                  page_id, cd_column_text(stmt, 2));
      return NULL;
    }
  }
  if (format != NULL)
    *format = cd_column_dup(stmt, 0);
  return g_bytes_new(sqlite3_column_blob(stmt, 1), sqlite3_column_bytes(stmt, 1));
}

/* The manifest as stored: without the words (their hash stays), which the
 * archive keeps and cd_archive_roi_get_packet() attaches again. */
static JsonNode *
cd_roi_manifest_for_storage(JsonNode *manifest)
{
  JsonNode *copy = json_node_copy(manifest);
  JsonArray *docs = json_object_get_array_member(json_node_get_object(copy), "documents");

  for (guint i = 0; docs != NULL && i < json_array_get_length(docs); i++) {
    JsonArray *pages = json_object_get_array_member(json_array_get_object_element(docs, i), "pages");
    for (guint j = 0; pages != NULL && j < json_array_get_length(pages); j++)
      json_object_remove_member(json_array_get_object_element(pages, j), "words");
  }
  return copy;
}

/* The accounting's "brief description of the protected health information
 * disclosed": documents, pages, Bates range, and each document's type and
 * date. */
static gchar *
cd_roi_describe(JsonObject *manifest, guint *n_pages)
{
  JsonArray *docs = json_object_get_array_member(manifest, "documents");
  g_autoptr(GString) list = g_string_new(NULL);
  guint n_docs = json_array_get_length(docs);

  *n_pages = 0;
  for (guint i = 0; i < n_docs; i++) {
    JsonObject *doc = json_array_get_object_element(docs, i);
    const gchar *type = json_object_get_string_member_with_default(doc, "type", NULL);
    const gchar *date = json_object_get_string_member_with_default(doc, "date", NULL);
    *n_pages += json_array_get_length(json_object_get_array_member(doc, "pages"));
    if (i > 0)
      g_string_append(list, "; ");
    g_string_append(list, type != NULL ? type : "untyped document");
    if (date != NULL)
      g_string_append_printf(list, " of %s", date);
  }
  return g_strdup_printf("%u document%s (%s), Bates %s to %s", n_docs, n_docs == 1 ? "" : "s", list->str,
                         json_object_get_string_member_with_default(manifest, "bates_first", "?"),
                         json_object_get_string_member_with_default(manifest, "bates_last", "?"));
}

/**
 * cd_archive_roi_record_release:
 * @self: a #CdArchive
 * @request_id: the approved request the packet was made for
 * @manifest: what cd_archive_roi_prepare_release() gave, completed by the
 *   packet maker (`pages`, `bates_first`, `bates_last`, `cover`)
 * @pdf_sha256: the packet PDF's SHA-256, hex
 * @error: return location for a #GError
 *
 * Records the release in one transaction: the packet (manifest and hash),
 * the request released, the disclosure for the accounting, and the audit
 * entry (`disclosure`). Nothing is recorded if any of it fails.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_archive_roi_record_release(CdArchive *self, gint64 request_id, JsonNode *manifest, const gchar *pdf_sha256,
                              GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(JsonNode) stored = NULL;
  g_autoptr(sqlite3_stmt) pkt = NULL;
  g_autoptr(sqlite3_stmt) upd = NULL;
  g_autoptr(sqlite3_stmt) dis = NULL;
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *mrn = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *description = NULL;
  g_autofree gchar *object = cd_roi_object(request_id);
  JsonObject *m, *recipient;
  const gchar *released;
  guint n_pages = 0;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(manifest != NULL && JSON_NODE_HOLDS_OBJECT(manifest), FALSE);
  g_return_val_if_fail(pdf_sha256 != NULL, FALSE);
  m = json_node_get_object(manifest);
  released = json_object_get_string_member_with_default(m, "released", NULL);
  recipient = json_object_get_object_member(m, "recipient");
  if (json_object_get_int_member_with_default(m, "request", 0) != request_id || released == NULL || recipient == NULL ||
      !json_object_has_member(m, "bates_first") || !json_object_has_member(m, "pages")) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "the manifest is not one of request %" G_GINT64_FORMAT "'s packet", request_id);
    return FALSE;
  }
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "release information", object, error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  if (!cd_roi_load_in(self, request_id, "approved", "be released", &mrn, error))
    return FALSE;
  stored = cd_roi_manifest_for_storage(manifest);
  text = cd_json_to_string(stored);
  pkt = cd_archive_prepare(self,
                           "INSERT INTO roi_packets (request_id, created, manifest, pdf_sha256, pages, bates_first, "
                           "bates_last) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           error);
  if (pkt == NULL)
    return FALSE;
  sqlite3_bind_int64(pkt, 1, request_id);
  cd_bind_text(pkt, 2, released);
  cd_bind_text(pkt, 3, text);
  cd_bind_text(pkt, 4, pdf_sha256);
  sqlite3_bind_int64(pkt, 5, json_object_get_int_member(m, "pages"));
  cd_bind_text(pkt, 6, json_object_get_string_member(m, "bates_first"));
  cd_bind_text(pkt, 7, json_object_get_string_member_with_default(m, "bates_last", ""));
  if (!cd_archive_step_done(self, pkt, error))
    return FALSE;
  upd = cd_archive_prepare(
      self, "UPDATE roi_requests SET status = 'released', released = ?2, released_by = ?3 WHERE id = ?1", error);
  if (upd == NULL)
    return FALSE;
  sqlite3_bind_int64(upd, 1, request_id);
  cd_bind_text(upd, 2, released);
  cd_bind_text(upd, 3, cd_archive_get_actor(self));
  if (!cd_archive_step_done(self, upd, error))
    return FALSE;
  description = cd_roi_describe(m, &n_pages);
  dis = cd_archive_prepare(self,
                           "INSERT INTO disclosures (patient_mrn, disclosed, recipient_name, recipient_address, "
                           "description, purpose, authorisation, request_id, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           error);
  if (dis == NULL)
    return FALSE;
  cd_bind_text(dis, 1, mrn);
  cd_bind_text(dis, 2, released);
  cd_bind_text(dis, 3, json_object_get_string_member_with_default(recipient, "name", ""));
  cd_bind_text(dis, 4, json_object_get_string_member_with_default(recipient, "address", NULL));
  cd_bind_text(dis, 5, description);
  cd_bind_text(dis, 6, json_object_get_string_member_with_default(m, "purpose", ""));
  cd_bind_text(dis, 7, json_object_get_string_member_with_default(m, "authorisation", NULL));
  sqlite3_bind_int64(dis, 8, request_id);
  cd_bind_text(dis, 9, cd_archive_get_actor(self));
  if (!cd_archive_step_done(self, dis, error))
    return FALSE;
  json_object_set_string_member(obj, "mrn", mrn);
  json_object_set_string_member(obj, "recipient", json_object_get_string_member_with_default(recipient, "name", ""));
  json_object_set_string_member(obj, "purpose", json_object_get_string_member_with_default(m, "purpose", ""));
  json_object_set_string_member(obj, "description", description);
  json_object_set_string_member(obj, "pdf_sha256", pdf_sha256);
  json_object_set_int_member(obj, "disclosure", sqlite3_last_insert_rowid(cd_archive_get_db(self)));
  json_object_set_int_member(obj, "document_pages", n_pages);
  detail = json_node_init_object(json_node_alloc(), obj);
  if (!cd_archive_audit(self, "disclosure", object, detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/**
 * cd_archive_roi_get_packet:
 * @self: a #CdArchive
 * @request_id: a released request
 * @error: return location for a #GError
 *
 * The stored manifest of a released packet, with each page's words
 * attached again from the archive (their hash checked against the
 * manifest's), and `pdf_sha256`, the hash of the PDF released: what
 * making the packet again needs, and what it must come to. Needs
 * %CD_PERMISSION_RELEASE; audited (`roi-reproduce`).
 *
 * Returns: (transfer full): the manifest, or %NULL with @error set
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_roi_get_packet(CdArchive *self, gint64 request_id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(JsonNode) root = NULL;
  g_autofree gchar *object = cd_roi_object(request_id);
  JsonArray *docs;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_RELEASE, "reproduce released packets", object, error))
    return NULL;
  if (!cd_roi_load_in(self, request_id, "released", "have its packet made again", NULL, error))
    return NULL;
  stmt = cd_archive_prepare(self, "SELECT manifest, pdf_sha256 FROM roi_packets WHERE request_id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, request_id);
  if (sqlite3_step(stmt) != SQLITE_ROW || !json_parser_load_from_data(parser, cd_column_text(stmt, 0), -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "%s: request %" G_GINT64_FORMAT " has no readable packet manifest", cd_archive_get_path(self),
                request_id);
    return NULL;
  }
  root = json_node_copy(json_parser_get_root(parser));
  json_object_set_string_member(json_node_get_object(root), "pdf_sha256", cd_column_text(stmt, 1));
  docs = json_object_get_array_member(json_node_get_object(root), "documents");
  for (guint i = 0; docs != NULL && i < json_array_get_length(docs); i++) {
    JsonObject *doc = json_array_get_object_element(docs, i);
    JsonArray *pages = json_object_get_array_member(doc, "pages");
    if (!cd_archive_require_visible(self, json_object_get_int_member(doc, "id"), error))
      return NULL;
    for (guint j = 0; pages != NULL && j < json_array_get_length(pages); j++) {
      JsonObject *page = json_array_get_object_element(pages, j);
      gint64 page_id = json_object_get_int_member(page, "id");
      g_autoptr(JsonNode) words = NULL;
      g_autofree gchar *sha = NULL;
      if (!cd_roi_page_words(self, page_id, &words, &sha, error))
        return NULL;
      if (g_strcmp0(sha, json_object_get_string_member_with_default(page, "words_sha256", "")) != 0) {
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                    "page %" G_GINT64_FORMAT ": its words changed since the packet was released (SHA-256 %s, the "
                    "manifest says %s)",
                    page_id, sha, json_object_get_string_member_with_default(page, "words_sha256", ""));
        return NULL;
      }
      json_object_set_member(page, "words", g_steal_pointer(&words));
    }
  }
  if (!cd_archive_audit(self, "roi-reproduce", object, NULL, error))
    return NULL;
  return g_steal_pointer(&root);
}

/* ------------------------------------------------------------ accounting */

/**
 * cd_archive_disclosures:
 * @self: a #CdArchive
 * @mrn: a patient's MRN (MRNs merged into it count as it)
 * @from: (nullable): from this day, `YYYY-MM-DD`; by default six years
 *   before today (45 CFR 164.528(a))
 * @error: return location for a #GError
 *
 * The patient's accounting of disclosures: `disclosures`, each with its
 * date, recipient name and address, description, purpose and authorisation
 * (oldest first), and `summary`, one entry per recipient and purpose with
 * the first disclosure, the count and the date of the last (the summary
 * 164.528(b)(3) allows for repeated disclosures). Needs
 * %CD_PERMISSION_RELEASE or %CD_PERMISSION_READ_AUDIT; audited
 * (`disclosures`).
 *
 * Returns: (transfer full): the accounting as JSON, or %NULL with @error set
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_disclosures(CdArchive *self, const gchar *mrn, const gchar *from, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autoptr(GDateTime) now_dt = NULL;
  g_autoptr(GDateTime) start_dt = NULL;
  g_autoptr(GHashTable) groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func((GDestroyNotify) json_object_unref);
  g_autofree gchar *default_from = NULL;
  g_autofree gchar *to = NULL;
  g_autofree gchar *object = NULL;
  CdPrincipal *principal;
  guint n = 0;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(mrn != NULL, NULL);
  if (!cd_roi_check_date(from, "--from", error))
    return NULL;
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  object = g_strdup_printf("patient:%s", mrn);
  principal = cd_archive_get_principal(self);
  if (!cd_principal_has(principal, CD_PERMISSION_READ_AUDIT) &&
      !cd_archive_require(self, CD_PERMISSION_RELEASE, "read the accounting of disclosures", object, error))
    return NULL;
  now_dt = g_date_time_new_from_unix_utc(cd_principal_now(principal) / G_USEC_PER_SEC);
  start_dt = g_date_time_add_years(now_dt, -6);
  default_from = g_date_time_format(start_dt, "%Y-%m-%d");
  to = g_date_time_format(now_dt, "%Y-%m-%d");
  if (from == NULL)
    from = default_from;
  stmt = cd_archive_prepare(self,
                            "SELECT disclosed, recipient_name, recipient_address, description, purpose, "
                            "authorisation, request_id, patient_mrn FROM disclosures WHERE (patient_mrn = ?1 OR "
                            "patient_mrn IN (SELECT mrn FROM patients WHERE merged_into = ?1)) AND disclosed >= ?2 "
                            "ORDER BY disclosed, id",
                            error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, mrn);
  cd_bind_text(stmt, 2, from);
  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "mrn", mrn);
  cd_json_add_string_or_null(b, "from", from);
  cd_json_add_string_or_null(b, "to", to);
  json_builder_set_member_name(b, "disclosures");
  json_builder_begin_array(b);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const gchar *date = cd_column_text(stmt, 0);
    g_autofree gchar *key =
        g_strdup_printf("%s\x1f%s\x1f%s", cd_column_text(stmt, 1),
                        cd_column_text(stmt, 2) != NULL ? cd_column_text(stmt, 2) : "", cd_column_text(stmt, 4));
    JsonObject *group;

    json_builder_begin_object(b);
    cd_json_add_string_or_null(b, "date", date);
    json_builder_set_member_name(b, "recipient");
    json_builder_begin_object(b);
    cd_json_add_string_or_null(b, "name", cd_column_text(stmt, 1));
    cd_json_add_string_or_null(b, "address", cd_column_text(stmt, 2));
    json_builder_end_object(b);
    cd_json_add_string_or_null(b, "description", cd_column_text(stmt, 3));
    cd_json_add_string_or_null(b, "purpose", cd_column_text(stmt, 4));
    cd_json_add_string_or_null(b, "authorisation", cd_column_text(stmt, 5));
    json_builder_set_member_name(b, "request");
    json_builder_add_int_value(b, sqlite3_column_int64(stmt, 6));
    cd_json_add_string_or_null(b, "mrn", cd_column_text(stmt, 7));
    json_builder_end_object(b);
    n++;

    group = g_hash_table_lookup(groups, key);
    if (group == NULL) {
      group = json_object_new();
      json_object_set_string_member(group, "recipient", cd_column_text(stmt, 1));
      json_object_set_string_member(group, "address", cd_column_text(stmt, 2));
      json_object_set_string_member(group, "purpose", cd_column_text(stmt, 4));
      json_object_set_string_member(group, "first", date);
      json_object_set_string_member(group, "first_description", cd_column_text(stmt, 3));
      json_object_set_int_member(group, "count", 0);
      g_hash_table_insert(groups, g_steal_pointer(&key), group);
      g_ptr_array_add(order, group);
    }
    json_object_set_int_member(group, "count", json_object_get_int_member(group, "count") + 1);
    json_object_set_string_member(group, "last", date);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "summary");
  json_builder_begin_array(b);
  for (guint i = 0; i < order->len; i++) {
    JsonNode *node = json_node_init_object(json_node_alloc(), g_ptr_array_index(order, i));
    json_builder_add_value(b, node);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  root = json_builder_get_root(b);
  {
    g_autoptr(JsonObject) obj = json_object_new();
    json_object_set_string_member(obj, "mrn", mrn);
    json_object_set_string_member(obj, "from", from);
    json_object_set_int_member(obj, "entries", n);
    detail = json_node_init_object(json_node_alloc(), obj);
  }
  if (!cd_archive_audit(self, "disclosures", object, detail, error))
    return NULL;
  return g_steal_pointer(&root);
}
