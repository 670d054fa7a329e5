/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-util-private.h"

/*
 * Access control of the archive: the principal acting, the permission each
 * operation needs, and the document types it may not see.
 *
 * Every engine entry point that reads or writes patient data calls
 * cd_archive_require() (or cd_archive_require_document()) before touching
 * a row; a refusal fails with %CD_ERROR_PERMISSION_DENIED and is itself
 * audited (action `denied`). Restricted types are kept out by the queries
 * themselves — each one binds cd_archive_hidden_types() and excludes those
 * types in SQL — so a search, listing, export or count never holds a
 * restricted row for a principal without %CD_PERMISSION_RESTRICTED, and no
 * caller can forget to filter.
 *
 * An archive opened without a principal is in the administrator's
 * direct-file mode: every permission, recorded as `admin-mode:LOGIN`.
 */

void
cd_archive_access_init(CdArchiveAccess *access)
{
  access->principal = cd_principal_new_admin_mode(g_get_user_name(), NULL);
}

void
cd_archive_access_clear(CdArchiveAccess *access)
{
  g_clear_object(&access->principal);
  g_slist_free_full(g_steal_pointer(&access->pushed), g_object_unref);
  g_clear_pointer(&access->restricted_json, g_free);
}

/* Called by cd_archive_push_actor(), the archive's mutex held: saves the
 * principal so cd_archive_pop_actor() restores it. */
void
cd_archive_access_push(CdArchive *self)
{
  CdArchiveAccess *access = cd_archive_get_access(self);
  access->pushed = g_slist_prepend(access->pushed, g_object_ref(access->principal));
}

void
cd_archive_access_pop(CdArchive *self)
{
  CdArchiveAccess *access = cd_archive_get_access(self);

  if (access->pushed == NULL)
    return;
  g_object_unref(access->principal);
  access->principal = access->pushed->data;
  access->pushed = g_slist_delete_link(access->pushed, access->pushed);
}

/* "break-glass: REASON", with the caller's purpose after it: the reason is
 * recorded in every audit entry written under the grant. */
static gchar *
cd_archive_effective_purpose(CdPrincipal *principal, const gchar *purpose)
{
  const gchar *glass = cd_principal_get_break_glass(principal, NULL);

  if (glass == NULL)
    return g_strdup(purpose);
  if (purpose == NULL)
    return g_strdup_printf("break-glass: %s", glass);
  return g_strdup_printf("break-glass: %s; %s", glass, purpose);
}

/**
 * cd_archive_set_principal:
 * @self: a #CdArchive
 * @principal: who acts from now on
 *
 * Attaches a principal to the archive: every later call is checked
 * against its permissions and recorded under its name (its login, or
 * `admin-mode:LOGIN`). A principal under break-the-glass has
 * `break-glass: REASON` recorded as the purpose of every entry.
 *
 * Since: 0.3
 */
void
cd_archive_set_principal(CdArchive *self, CdPrincipal *principal)
{
  CdArchiveAccess *access;
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autofree gchar *purpose = NULL;

  g_return_if_fail(CD_IS_ARCHIVE(self));
  g_return_if_fail(CD_IS_PRINCIPAL(principal));
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  access = cd_archive_get_access(self);
  g_set_object(&access->principal, principal);
  cd_archive_set_actor(self, cd_principal_get_audit_name(principal));
  purpose = cd_archive_effective_purpose(principal, NULL);
  if (purpose != NULL)
    cd_archive_set_purpose(self, purpose);
}

/**
 * cd_archive_get_principal:
 * @self: a #CdArchive
 *
 * Returns: (transfer none): who acts now
 *
 * Since: 0.3
 */
CdPrincipal *
cd_archive_get_principal(CdArchive *self)
{
  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  return cd_archive_get_access(self)->principal;
}

/**
 * cd_archive_push_principal:
 * @self: a #CdArchive
 * @principal: who acts for this call
 * @purpose: (nullable): why
 *
 * As cd_archive_push_actor(), with @principal's name and permissions: the
 * archive is held for the calling thread until cd_archive_pop_actor()
 * restores the principal, actor and purpose from before. chartdeskd pushes
 * the authenticated caller around each call.
 *
 * Since: 0.3
 */
void
cd_archive_push_principal(CdArchive *self, CdPrincipal *principal, const gchar *purpose)
{
  g_autofree gchar *effective = NULL;

  g_return_if_fail(CD_IS_ARCHIVE(self));
  g_return_if_fail(CD_IS_PRINCIPAL(principal));
  effective = cd_archive_effective_purpose(principal, purpose);
  cd_archive_push_actor(self, cd_principal_get_audit_name(principal), effective);
  /* the push saved the principal before; this one acts until the pop */
  g_set_object(&cd_archive_get_access(self)->principal, principal);
}

/**
 * cd_archive_set_restricted_types:
 * @self: a #CdArchive
 * @types: (nullable) (array zero-terminated=1): the restricted type names,
 *   former names included; %NULL or empty for none
 *
 * Replaces the restricted types read from the taxonomy at open.
 *
 * Since: 0.3
 */
void
cd_archive_set_restricted_types(CdArchive *self, const gchar *const *types)
{
  CdArchiveAccess *access;
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;

  g_return_if_fail(CD_IS_ARCHIVE(self));
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  access = cd_archive_get_access(self);
  g_clear_pointer(&access->restricted_json, g_free);
  if (types == NULL || types[0] == NULL)
    return;
  json_builder_begin_array(b);
  for (guint i = 0; types[i] != NULL; i++)
    json_builder_add_string_value(b, types[i]);
  json_builder_end_array(b);
  node = json_builder_get_root(b);
  access->restricted_json = cd_json_to_string(node);
}

/**
 * cd_taxonomy_file_get_restricted:
 * @path: a taxonomy file
 * @error: return location for a #GError
 *
 * Reads the types marked `restricted=true` in a taxonomy, with their
 * former names (`renamed-from`), since documents keep the name they were
 * archived under.
 *
 * Returns: (transfer full): the names, possibly none; %NULL with
 *   %CD_ERROR_INVALID_DATA for a `restricted` that is not true or false
 *
 * Since: 0.3
 */
gchar **
cd_taxonomy_file_get_restricted(const gchar *path, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GStrvBuilder) names = g_strv_builder_new();
  g_autoptr(GError) error_local = NULL;
  g_auto(GStrv) groups = NULL;

  if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: %s", path, error_local->message);
    return NULL;
  }
  groups = g_key_file_get_groups(kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++) {
    g_auto(GStrv) former = NULL;
    gboolean restricted;

    if (g_strcmp0(groups[i], "taxonomy") == 0 || !g_key_file_has_key(kf, groups[i], "restricted", NULL))
      continue;
    restricted = g_key_file_get_boolean(kf, groups[i], "restricted", &error_local);
    if (error_local != NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: [%s] restricted: not true or false", path, groups[i]);
      return NULL;
    }
    if (!restricted)
      continue;
    g_strv_builder_add(names, groups[i]);
    former = g_key_file_get_string_list(kf, groups[i], "renamed-from", NULL, NULL);
    for (guint j = 0; former != NULL && former[j] != NULL; j++)
      g_strv_builder_add(names, g_strstrip(former[j]));
  }
  return g_strv_builder_end(names);
}

/* At open: the restricted types of the taxonomy in use. Where no taxonomy
 * is found there are none; a taxonomy whose `restricted` cannot be read
 * fails the open (fail closed: a typo must not show what it meant to hide). */
gboolean
cd_archive_access_load_restricted(CdArchive *self, GError **error)
{
  g_autofree gchar *path = cd_taxonomy_find(NULL);
  g_auto(GStrv) types = NULL;

  if (path == NULL)
    return TRUE;
  types = cd_taxonomy_file_get_restricted(path, error);
  if (types == NULL)
    return FALSE;
  cd_archive_set_restricted_types(self, (const gchar *const *) types);
  return TRUE;
}

/**
 * cd_archive_hidden_types: (skip)
 * @self: a #CdArchive
 *
 * Returns: (nullable): the JSON array of type names the principal acting may
 *   not see, to bind in a query (`d.type NOT IN (SELECT value FROM
 *   json_each(?))`); %NULL when it may see every type
 */
const gchar *
cd_archive_hidden_types(CdArchive *self)
{
  CdArchiveAccess *access = cd_archive_get_access(self);

  if (access->restricted_json == NULL || cd_principal_has(access->principal, CD_PERMISSION_RESTRICTED))
    return NULL;
  return access->restricted_json;
}

static void
cd_archive_audit_denied(CdArchive *self, CdPermission permission, const gchar *what, const gchar *object)
{
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autoptr(GError) error = NULL;

  json_object_set_string_member(obj, "permission", cd_permission_to_string(permission));
  json_object_set_string_member(obj, "operation", what);
  detail = json_node_init_object(json_node_alloc(), obj);
  /* the refusal stands even if it cannot be recorded */
  if (!cd_archive_audit(self, "denied", object != NULL ? object : "archive", detail, &error))
    g_warning("%s", error->message);
}

/**
 * cd_archive_require: (skip)
 * @self: a #CdArchive
 * @permission: what the operation needs
 * @what: the operation, as a verb phrase for the message
 * @object: (nullable): what it was attempted on, for the audit log
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the principal acting holds @permission; otherwise
 *   %FALSE with %CD_ERROR_PERMISSION_DENIED, the refusal audited
 */
gboolean
cd_archive_require(CdArchive *self, CdPermission permission, const gchar *what, const gchar *object, GError **error)
{
  CdArchiveAccess *access = cd_archive_get_access(self);

  if (cd_principal_check(access->principal, permission, what, error))
    return TRUE;
  cd_archive_audit_denied(self, permission, what, object);
  return FALSE;
}

/**
 * cd_archive_require_document: (skip)
 * @self: a #CdArchive
 * @document_id: the document about to be read
 * @what: the operation, for the message
 * @error: return location for a #GError
 *
 * Reading a document needs %CD_PERMISSION_READ_CHARTS, or
 * %CD_PERMISSION_REVIEW while it waits in the review queue. A document of a
 * type hidden from the principal does not exist for it: %CD_ERROR_NOT_FOUND
 * with the message a missing document gives (the attempt is audited).
 *
 * Returns: %TRUE if the principal may read it
 */
gboolean
cd_archive_require_document(CdArchive *self, gint64 document_id, const gchar *what, GError **error)
{
  CdArchiveAccess *access = cd_archive_get_access(self);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *object = g_strdup_printf("document:%" G_GINT64_FORMAT, document_id);
  const gchar *hidden = cd_archive_hidden_types(self);
  gboolean in_review;

  stmt =
      cd_archive_prepare(self,
                         "SELECT (?2 IS NOT NULL AND type IS NOT NULL AND type IN (SELECT value FROM json_each(?2))), "
                         "EXISTS (SELECT 1 FROM review r WHERE r.document_id = d.id AND r.resolved IS NULL) "
                         "FROM documents d WHERE id = ?1",
                         error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, document_id);
  cd_bind_text(stmt, 2, hidden);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    /* the caller reports the missing document, to those who may read some */
    if (cd_principal_has(access->principal, CD_PERMISSION_REVIEW))
      return TRUE;
    return cd_archive_require(self, CD_PERMISSION_READ_CHARTS, what, object, error);
  }
  in_review = sqlite3_column_int(stmt, 1) != 0;
  if (!cd_principal_has(access->principal, CD_PERMISSION_READ_CHARTS) &&
      !(in_review && cd_principal_has(access->principal, CD_PERMISSION_REVIEW)))
    return cd_archive_require(self, CD_PERMISSION_READ_CHARTS, what, object, error);
  if (sqlite3_column_int(stmt, 0) != 0) {
    cd_archive_audit_denied(self, CD_PERMISSION_RESTRICTED, what, object);
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, cd_archive_get_path(self),
                document_id);
    return FALSE;
  }
  return TRUE;
}

/**
 * cd_archive_require_page: (skip)
 * @self: a #CdArchive
 * @page_id: the page about to be read
 * @what: the operation, for the message
 * @error: return location for a #GError
 *
 * A page in a document is read as its document is
 * (cd_archive_require_document()); one kept out of documents needs
 * %CD_PERMISSION_READ_CHARTS, or %CD_PERMISSION_REVIEW while it waits in the
 * review queue.
 *
 * Returns: %TRUE if the principal may read it
 */
gboolean
cd_archive_require_page(CdArchive *self, gint64 page_id, const gchar *what, GError **error)
{
  CdArchiveAccess *access = cd_archive_get_access(self);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *object = g_strdup_printf("page:%" G_GINT64_FORMAT, page_id);

  stmt = cd_archive_prepare(self,
                            "SELECT p.document_id, EXISTS (SELECT 1 FROM review r WHERE r.page_id = p.id AND "
                            "r.resolved IS NULL) FROM pages p WHERE p.id = ?",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, page_id);
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return cd_archive_require(self, CD_PERMISSION_READ_CHARTS, what, object, error);
  if (sqlite3_column_type(stmt, 0) != SQLITE_NULL && sqlite3_column_int64(stmt, 0) > 0)
    return cd_archive_require_document(self, sqlite3_column_int64(stmt, 0), what, error);
  if (sqlite3_column_int(stmt, 1) != 0 && cd_principal_has(access->principal, CD_PERMISSION_REVIEW))
    return TRUE;
  return cd_archive_require(self, CD_PERMISSION_READ_CHARTS, what, object, error);
}

/* One section of the access report: audit entries matching @where. */
static gboolean
cd_archive_report_section(CdArchive *self, JsonBuilder *b, const gchar *name, const gchar *where, const gchar *user,
                          const gchar *mrn, const gchar *from, const gchar *to, GError **error)
{
  g_autofree gchar *sql = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint rc;

  /* the patient of a read: its document's, its page's document's, or
   * the one a search asked for */
  sql = g_strdup_printf(
      "SELECT a.ts, a.actor, a.action, a.object, coalesce(d.patient_mrn, CASE WHEN json_valid(a.detail) THEN "
      "coalesce(json_extract(a.detail, '$.mrn'), json_extract(a.detail, '$.detail.mrn')) END), "
      "CASE WHEN json_valid(a.detail) THEN json_extract(a.detail, '$.purpose') END AS purpose, a.detail "
      "FROM audit a LEFT JOIN documents d ON d.id = CASE "
      "WHEN a.object LIKE 'document:%%' THEN CAST(substr(a.object, 10) AS INTEGER) "
      "WHEN a.object LIKE 'page:%%' THEN (SELECT document_id FROM pages WHERE id = CAST(substr(a.object, 6) AS "
      "INTEGER)) END "
      "WHERE (%s) AND (?1 IS NULL OR a.actor = ?1 OR a.actor LIKE ?1 || ' (%%' OR a.actor LIKE '%% for ' || ?1) "
      "AND (?2 IS NULL OR d.patient_mrn = ?2 OR (json_valid(a.detail) AND (json_extract(a.detail, '$.mrn') = ?2 "
      "OR json_extract(a.detail, '$.detail.mrn') = ?2))) "
      "AND (?3 IS NULL OR a.ts >= ?3) AND (?4 IS NULL OR a.ts < date(?4, '+1 day')) ORDER BY a.id",
      where);
  stmt = cd_archive_prepare(self, sql, error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, user);
  cd_bind_text(stmt, 2, mrn);
  cd_bind_text(stmt, 3, from);
  cd_bind_text(stmt, 4, to);
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const gchar *keys[] = { "ts", "actor", "action", "object", "mrn", "purpose", "detail" };
    json_builder_begin_object(b);
    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
      json_builder_set_member_name(b, keys[i]);
      json_builder_add_string_value(b, (const gchar *) sqlite3_column_text(stmt, i));
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  if (rc != SQLITE_DONE) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot read the audit log: %s", cd_archive_get_path(self),
                sqlite3_errmsg(cd_archive_get_db(self)));
    return FALSE;
  }
  return TRUE;
}

/**
 * cd_archive_access_report:
 * @self: a #CdArchive
 * @user: (nullable): only this user's entries
 * @mrn: (nullable): only entries about this patient
 * @from: (nullable): only entries on or after this day, `YYYY-MM-DD`
 * @to: (nullable): only entries on or before this day
 * @error: return location for a #GError
 *
 * The auditor's report from the audit log: who read which patient's
 * documents (`reads`: views, images, searches, exports), the entries made
 * under break-the-glass (`break_glass`, with the reason), and the refused
 * attempts (`denied`). Needs %CD_PERMISSION_READ_AUDIT; audited itself.
 *
 * Returns: (transfer full): the report as JSON, or %NULL with @error set
 *
 * Since: 0.3
 */
JsonNode *
cd_archive_access_report(CdArchive *self, const gchar *user, const gchar *mrn, const gchar *from, const gchar *to,
                         GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonObject) detail = json_object_new();
  g_autoptr(JsonNode) detail_node = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  for (guint i = 0; i < 2; i++) {
    const gchar *date = i == 0 ? from : to;
    if (date != NULL && !g_regex_match_simple("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", date, 0, 0)) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "dates must be given as YYYY-MM-DD (got '%s')", date);
      return NULL;
    }
  }
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_AUDIT, "read the access report", "audit", error))
    return NULL;
  json_builder_begin_object(b);
  if (!cd_archive_report_section(self, b, "reads", "a.action IN ('view', 'view-image', 'search', 'export')", user, mrn,
                                 from, to, error) ||
      !cd_archive_report_section(self, b, "break_glass",
                                 "a.action = 'break-glass' OR (json_valid(a.detail) AND json_extract(a.detail, "
                                 "'$.purpose') LIKE 'break-glass:%')",
                                 user, mrn, from, to, error) ||
      !cd_archive_report_section(self, b, "denied", "a.action IN ('denied', 'dbus-denied')", user, mrn, from, to,
                                 error))
    return NULL;
  json_builder_end_object(b);
  root = json_builder_get_root(b);

  json_object_set_string_member(detail, "user", user);
  json_object_set_string_member(detail, "mrn", mrn);
  json_object_set_string_member(detail, "from", from);
  json_object_set_string_member(detail, "to", to);
  detail_node = json_node_init_object(json_node_alloc(), detail);
  if (!cd_archive_audit(self, "access-report", "audit", detail_node, error))
    return NULL;
  return g_steal_pointer(&root);
}

/**
 * cd_archive_require_visible: (skip)
 * @self: a #CdArchive
 * @document_id: a document about to be changed
 * @error: return location for a #GError
 *
 * Returns: %FALSE with %CD_ERROR_NOT_FOUND ("no document N") when the
 *   document is of a type hidden from the principal, as if it did not exist
 */
gboolean
cd_archive_require_visible(CdArchive *self, gint64 document_id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const gchar *hidden = cd_archive_hidden_types(self);

  if (hidden == NULL)
    return TRUE;
  stmt = cd_archive_prepare(self, "SELECT 1 FROM documents WHERE id = ?1 AND type IN (SELECT value FROM json_each(?2))",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, document_id);
  cd_bind_text(stmt, 2, hidden);
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return TRUE;
  g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, cd_archive_get_path(self),
              document_id);
  return FALSE;
}
