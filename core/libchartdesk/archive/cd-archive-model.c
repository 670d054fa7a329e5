/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Trained classifier models inside the archive, and the labelled documents
 * they are trained from.
 */
#include "config.h"

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-util-private.h"

/**
 * cd_model_info_free:
 * @info: (nullable): a #CdModelInfo
 *
 * Since: 0.1
 */
void
cd_model_info_free(CdModelInfo *info)
{
  if (info == NULL)
    return;
  g_free(info->name);
  g_free(info->created);
  g_free(info->actor);
  g_free(info->params);
  g_free(info->metrics);
  g_free(info);
}

static gboolean
cd_model_name_valid(const gchar *name)
{
  if (name == NULL || name[0] == '\0' || strlen(name) > 64)
    return FALSE;
  for (const gchar *p = name; *p != '\0'; p++) {
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  }
  return TRUE;
}

/**
 * cd_archive_save_model:
 * @self: a #CdArchive
 * @name: the model's name: letters, digits, `-`, `_`, `.`
 * @data: the serialised model
 * @params: (nullable): its parameters, a JSON object
 * @metrics: (nullable): its evaluation figures, a JSON object
 * @version: (out) (optional): the version it was saved as
 * @error: return location for a #GError
 *
 * Saves a model as the next version under @name (1 for the first), in one
 * transaction with an audit entry. Versions are never overwritten, so a
 * classifier pinned to a version keeps working after retraining. Saving
 * does not need the batch writer: a running batch keeps the model it
 * loaded when it started.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_save_model(CdArchive *self, const gchar *name, GBytes *data, JsonNode *params, JsonNode *metrics,
                      gint *version, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) next = NULL;
  g_autoptr(sqlite3_stmt) ins = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *params_str = NULL;
  g_autofree gchar *metrics_str = NULL;
  g_autofree gchar *created = cd_now_iso8601();
  g_autofree gchar *object = NULL;
  gconstpointer blob;
  gsize size;
  gint v;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(data != NULL, FALSE);

  if (!cd_model_name_valid(name)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "model name '%s' is not valid: use letters, digits, '-', '_' and '.'", name != NULL ? name : "");
    return FALSE;
  }
  blob = g_bytes_get_data(data, &size);
  if (size == 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "a model cannot be empty");
    return FALSE;
  }
  params_str = params != NULL ? cd_json_to_string(params) : g_strdup("{}");
  metrics_str = metrics != NULL ? cd_json_to_string(metrics) : NULL;

  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_CONFIGURE, "save classifier models", "models", error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  next = cd_archive_prepare(self, "SELECT coalesce(max(version), 0) + 1 FROM models WHERE name = ?", error);
  if (next == NULL)
    return FALSE;
  sqlite3_bind_text(next, 1, name, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(next) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot number the model", cd_archive_get_path(self));
    return FALSE;
  }
  v = sqlite3_column_int(next, 0);
  ins = cd_archive_prepare(self,
                           "INSERT INTO models (name, version, created, actor, params, metrics, data) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           error);
  if (ins == NULL)
    return FALSE;
  sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(ins, 2, v);
  sqlite3_bind_text(ins, 3, created, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(ins, 4, cd_archive_get_actor(self), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(ins, 5, params_str, -1, SQLITE_TRANSIENT);
  if (metrics_str != NULL)
    sqlite3_bind_text(ins, 6, metrics_str, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(ins, 6);
  sqlite3_bind_blob64(ins, 7, blob, size, SQLITE_STATIC);
  if (!cd_archive_step_done(self, ins, error))
    return FALSE;

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "bytes");
  json_builder_add_int_value(b, (gint64) size);
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  object = g_strdup_printf("model:%s:%d", name, v);
  if (!cd_archive_audit_locked(self, "model-save", object, detail, error))
    return FALSE;
  if (!cd_archive_txn_commit(txn, error))
    return FALSE;
  if (version != NULL)
    *version = v;
  return TRUE;
}

/* CdArchive.load_model: the newest version, or the one asked for. */ GBytes *
cd_sqlite_archive_load_model(CdArchive *self, const gchar *name, gint version, gint *loaded_version, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(name != NULL, NULL);

  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (version > 0)
    stmt = cd_archive_prepare(self, "SELECT version, data FROM models WHERE name = ?1 AND version = ?2", error);
  else
    stmt = cd_archive_prepare(self, "SELECT version, data FROM models WHERE name = ?1 ORDER BY version DESC LIMIT 1",
                              error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
  if (version > 0)
    sqlite3_bind_int(stmt, 2, version);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) {
    if (version > 0)
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: has no version %d of model '%s'", cd_archive_get_path(self),
                  version, name);
    else
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND,
                  "%s: has no model '%s'; train one with `chartdesk classify train`", cd_archive_get_path(self), name);
    return NULL;
  }
  if (rc != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot read model '%s': %s", cd_archive_get_path(self), name,
                sqlite3_errmsg(cd_archive_get_db(self)));
    return NULL;
  }
  if (loaded_version != NULL)
    *loaded_version = sqlite3_column_int(stmt, 0);
  return g_bytes_new(sqlite3_column_blob(stmt, 1), sqlite3_column_bytes(stmt, 1));
}

/**
 * cd_archive_list_models:
 * @self: a #CdArchive
 * @name: (nullable): only versions of this model
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type CdModelInfo): the models'
 *   versions by name and version, or %NULL with @error set
 *
 * Since: 0.1
 */
GPtrArray *
cd_archive_list_models(CdArchive *self, const gchar *name, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) cd_model_info_free);
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);

  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_CONFIGURE, "list classifier models", "models", error))
    return NULL;
  stmt = cd_archive_prepare(self,
                            "SELECT name, version, created, actor, params, metrics, length(data) FROM models "
                            "WHERE ?1 IS NULL OR name = ?1 ORDER BY name, version",
                            error);
  if (stmt == NULL)
    return NULL;
  if (name != NULL)
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    CdModelInfo *info = g_new0(CdModelInfo, 1);
    info->name = g_strdup((const gchar *) sqlite3_column_text(stmt, 0));
    info->version = sqlite3_column_int(stmt, 1);
    info->created = g_strdup((const gchar *) sqlite3_column_text(stmt, 2));
    info->actor = g_strdup((const gchar *) sqlite3_column_text(stmt, 3));
    info->params = g_strdup((const gchar *) sqlite3_column_text(stmt, 4));
    info->metrics = g_strdup((const gchar *) sqlite3_column_text(stmt, 5));
    info->size = (gsize) sqlite3_column_int64(stmt, 6);
    g_ptr_array_add(out, info);
  }
  if (rc != SQLITE_DONE) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot list models: %s", cd_archive_get_path(self),
                sqlite3_errmsg(cd_archive_get_db(self)));
    return NULL;
  }
  return g_steal_pointer(&out);
}

/**
 * cd_archive_get_labelled_documents:
 * @self: a #CdArchive
 * @reviewed_only: only documents whose type a person set in review
 *   (cd_archive_review_set_type(), audited as `review-type`)
 * @texts: (out) (transfer container) (element-type utf8): each document's text
 * @labels: (out) (transfer container) (element-type utf8): each document's type
 * @error: return location for a #GError
 *
 * The training data an archive holds: every filed document with a type,
 * its pages' text in order (cover sheets, separators and blank pages left
 * out). Filed means its patient was proven or a person decided it in
 * review; documents still waiting in review are left out. Their types were
 * set by classifiers or by people; @reviewed_only keeps those a person set.
 * The read is audited, as every read of patient text is.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_get_labelled_documents(CdArchive *self, gboolean reviewed_only, GPtrArray **texts, GPtrArray **labels,
                                  GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) t = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) l = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(texts != NULL && labels != NULL, FALSE);

  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_CHARTS, "read documents to train on", "archive", error))
    return FALSE;
  stmt = cd_archive_prepare(self,
                            "SELECT d.type, (SELECT group_concat(text, char(10)) FROM (SELECT text FROM pages "
                            "  WHERE document_id = d.id AND kind = 'page' AND text IS NOT NULL ORDER BY seq)) "
                            "FROM documents d WHERE d.status = 'filed' AND d.type IS NOT NULL AND d.type != '' "
                            "AND (?1 = 0 OR EXISTS (SELECT 1 FROM audit a WHERE a.action = 'review-type' "
                            "  AND a.object = 'document:' || d.id)) "
                            "AND (?2 IS NULL OR d.type NOT IN (SELECT value FROM json_each(?2))) "
                            "ORDER BY d.id",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int(stmt, 1, reviewed_only ? 1 : 0);
  cd_bind_text(stmt, 2, cd_archive_hidden_types(self));
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const gchar *text = (const gchar *) sqlite3_column_text(stmt, 1);
    if (text == NULL || text[0] == '\0')
      continue;
    g_ptr_array_add(l, g_strdup((const gchar *) sqlite3_column_text(stmt, 0)));
    g_ptr_array_add(t, g_strdup(text));
  }
  if (rc != SQLITE_DONE) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot read documents: %s", cd_archive_get_path(self),
                sqlite3_errmsg(cd_archive_get_db(self)));
    return FALSE;
  }
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "documents");
  json_builder_add_int_value(b, t->len);
  json_builder_set_member_name(b, "reviewed-only");
  json_builder_add_boolean_value(b, reviewed_only);
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  if (!cd_archive_audit(self, "read-for-training", "archive", detail, error))
    return FALSE;
  *texts = g_steal_pointer(&t);
  *labels = g_steal_pointer(&l);
  return TRUE;
}
