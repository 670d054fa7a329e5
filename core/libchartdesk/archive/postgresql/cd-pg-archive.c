/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The PostgreSQL archive: the connection, the schema, the server's audit
 * chain and the delivery of a station's spool (see cd-pg-archive.h).
 */
#include "config.h"

#include <string.h>

#include "cd-error.h"
#include "cd-pg-private.h"
#include "cd-pg-schema.h"
#include "cd-util-private.h"

gboolean
cd_archive_location_is_server(const gchar *location)
{
  return location != NULL && (g_str_has_prefix(location, "postgresql://") || g_str_has_prefix(location, "postgres://"));
}

CdPgParams *
cd_pg_params_new(void)
{
  CdPgParams *p = g_new0(CdPgParams, 1);
  p->values = g_ptr_array_new_with_free_func(g_free);
  p->lengths = g_array_new(FALSE, TRUE, sizeof(gint));
  p->formats = g_array_new(FALSE, TRUE, sizeof(gint));
  return p;
}

void
cd_pg_params_free(CdPgParams *p)
{
  if (p == NULL)
    return;
  g_ptr_array_unref(p->values);
  g_array_unref(p->lengths);
  g_array_unref(p->formats);
  g_free(p);
}

guint
cd_pg_params_add(CdPgParams *p, const gchar *value)
{
  gint zero = 0;
  g_ptr_array_add(p->values, g_strdup(value));
  g_array_append_val(p->lengths, zero);
  g_array_append_val(p->formats, zero);
  return p->values->len;
}

guint
cd_pg_params_add_int(CdPgParams *p, gint64 value)
{
  g_autofree gchar *s = g_strdup_printf("%" G_GINT64_FORMAT, value);
  return cd_pg_params_add(p, s);
}

guint
cd_pg_params_add_binary(CdPgParams *p, gconstpointer data, gsize len)
{
  gint one = 1;
  gint l = (gint) len;
  g_ptr_array_add(p->values, g_memdup2(data != NULL ? data : "", MAX(len, 1)));
  g_array_append_val(p->lengths, l);
  g_array_append_val(p->formats, one);
  return p->values->len;
}

gchar *
cd_pg_array_literal(const gchar *const *values)
{
  GString *s = g_string_new("{");

  for (guint i = 0; values != NULL && values[i] != NULL; i++) {
    if (i > 0)
      g_string_append_c(s, ',');
    g_string_append_c(s, '"');
    for (const gchar *c = values[i]; *c != '\0'; c++) {
      if (*c == '"' || *c == '\\')
        g_string_append_c(s, '\\');
      g_string_append_c(s, *c);
    }
    g_string_append_c(s, '"');
  }
  g_string_append_c(s, '}');
  return g_string_free(s, FALSE);
}

static void
cd_pg_set_error(CdPgArchive *self, GError **error, const gchar *what, PGresult *res)
{
  const gchar *msg = res != NULL ? PQresultErrorMessage(res) : NULL;
  g_autofree gchar *clean = NULL;

  if (msg == NULL || msg[0] == '\0')
    msg = PQerrorMessage(self->conn);
  clean = g_strstrip(g_strdup(msg));
  g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: %s: %s", self->where, what, clean);
}

PGresult *
cd_pg_exec(CdPgArchive *self, const gchar *sql, CdPgParams *params, const gchar *what, GError **error)
{
  PGresult *res;
  ExecStatusType status;

  if (params != NULL)
    res = PQexecParams(self->conn, sql, (gint) params->values->len, NULL, (const gchar *const *) params->values->pdata,
                       (const gint *) params->lengths->data, (const gint *) params->formats->data, 0);
  else
    res = PQexecParams(self->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
  status = PQresultStatus(res);
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
    return res;
  cd_pg_set_error(self, error, what, res);
  PQclear(res);
  return NULL;
}

gboolean
cd_pg_exec_ok(CdPgArchive *self, const gchar *sql, CdPgParams *params, const gchar *what, GError **error)
{
  g_autoptr(PGresult) res = cd_pg_exec(self, sql, params, what, error);
  return res != NULL;
}

gboolean
cd_pg_begin(CdPgArchive *self, GError **error)
{
  return cd_pg_exec_ok(self, "BEGIN", NULL, "cannot begin a transaction", error);
}

gboolean
cd_pg_commit(CdPgArchive *self, GError **error)
{
  return cd_pg_exec_ok(self, "COMMIT", NULL, "cannot commit", error);
}

void
cd_pg_rollback(CdPgArchive *self)
{
  if (PQtransactionStatus(self->conn) != PQTRANS_IDLE)
    PQclear(PQexec(self->conn, "ROLLBACK"));
}

CdPgTxn *
cd_pg_txn_begin(CdPgArchive *self, GError **error)
{
  CdPgTxn *txn;

  if (!cd_pg_begin(self, error))
    return NULL;
  txn = g_new0(CdPgTxn, 1);
  txn->self = self;
  return txn;
}

gboolean
cd_pg_txn_commit(CdPgTxn *txn, GError **error)
{
  txn->done = cd_pg_commit(txn->self, error);
  return txn->done;
}

void
cd_pg_txn_free(CdPgTxn *txn)
{
  if (txn == NULL)
    return;
  if (!txn->done)
    cd_pg_rollback(txn->self);
  g_free(txn);
}

const gchar *
cd_pg_value(PGresult *res, gint row, gint col)
{
  if (PQgetisnull(res, row, col))
    return NULL;
  return PQgetvalue(res, row, col);
}

/* A column as an integer, 0 for NULL. */
gint64
cd_pg_int(PGresult *res, gint row, gint col)
{
  const gchar *v = cd_pg_value(res, row, col);
  return v != NULL ? g_ascii_strtoll(v, NULL, 10) : 0;
}

/* @member set to a column's text read as an integer, null for NULL. */
void
cd_pg_add_int_or_null(JsonBuilder *b, const gchar *member, const gchar *value)
{
  json_builder_set_member_name(b, member);
  if (value != NULL)
    json_builder_add_int_value(b, g_ascii_strtoll(value, NULL, 10));
  else
    json_builder_add_null_value(b);
}

/* @member set to a column's text read as a number, null for NULL. */
void
cd_pg_add_double_or_null(JsonBuilder *b, const gchar *member, const gchar *value)
{
  json_builder_set_member_name(b, member);
  if (value != NULL)
    json_builder_add_double_value(b, g_ascii_strtod(value, NULL));
  else
    json_builder_add_null_value(b);
}

/* @conninfo as a message may name it: its user, host, port and database,
 * never its password. */
static gchar *
cd_pg_safe_name(const gchar *conninfo)
{
  PQconninfoOption *options = PQconninfoParse(conninfo, NULL);
  const gchar *host = NULL, *port = NULL, *db = NULL, *user = NULL;
  gchar *name;

  if (options == NULL)
    return g_strdup("the PostgreSQL server (a connection URI that cannot be parsed)");
  for (PQconninfoOption *o = options; o->keyword != NULL; o++) {
    if (o->val == NULL)
      continue;
    if (g_strcmp0(o->keyword, "host") == 0)
      host = o->val;
    else if (g_strcmp0(o->keyword, "port") == 0)
      port = o->val;
    else if (g_strcmp0(o->keyword, "dbname") == 0)
      db = o->val;
    else if (g_strcmp0(o->keyword, "user") == 0)
      user = o->val;
  }
  name = g_strdup_printf("postgresql://%s%s%s%s%s/%s", user != NULL ? user : "", user != NULL ? "@" : "",
                         host != NULL ? host : "", port != NULL ? ":" : "", port != NULL ? port : "",
                         db != NULL ? db : "");
  PQconninfoFree(options);
  return name;
}

/* The server as messages name it: user@host-or-socket/database. */
static gchar *
cd_pg_describe(PGconn *conn, const gchar *conninfo)
{
  const gchar *host = PQhost(conn);
  const gchar *db = PQdb(conn);

  if (host == NULL || db == NULL)
    return cd_pg_safe_name(conninfo);
  return g_strdup_printf("postgresql://%s/%s", host, db);
}

/* Migrates the schema to CD_PG_ARCHIVE_SCHEMA_VERSION, each step in one
 * transaction; an advisory lock keeps two stations from migrating at once. */
static gboolean
cd_pg_migrate(CdPgArchive *self, gboolean create, GError **error)
{
  for (;;) {
    g_autoptr(PGresult) res = NULL;
    gint version = 0;

    if (!cd_pg_begin(self, error))
      return FALSE;
    if (create &&
        !cd_pg_exec_ok(self, "SELECT pg_advisory_xact_lock(4348445400)", NULL, "cannot lock the schema", error)) {
      cd_pg_rollback(self);
      return FALSE;
    }
    res = cd_pg_exec(self, "SELECT to_regclass('meta') IS NOT NULL", NULL, "cannot read the schema version", error);
    if (res != NULL && g_strcmp0(cd_pg_value(res, 0, 0), "t") == 0) {
      PQclear(res);
      res = cd_pg_exec(self, "SELECT value FROM meta WHERE key = 'schema_version' UNION ALL SELECT '0' LIMIT 1", NULL,
                       "cannot read the schema version", error);
    } else if (res != NULL) {
      PQclear(res);
      res = cd_pg_exec(self, "SELECT NULL::text", NULL, "cannot read the schema version", error);
    }
    if (res == NULL) {
      cd_pg_rollback(self);
      return FALSE;
    }
    if (cd_pg_value(res, 0, 0) != NULL)
      version = (gint) cd_pg_int(res, 0, 0);
    else if (!create) {
      cd_pg_rollback(self);
      g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE,
                  "%s: not a Chartdesk archive (no schema): create it with `chartdesk archive init`", self->where);
      return FALSE;
    }
    if (version > CD_PG_ARCHIVE_SCHEMA_VERSION) {
      cd_pg_rollback(self);
      g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE,
                  "%s: schema version %d is newer than this Chartdesk understands (%d): upgrade Chartdesk", self->where,
                  version, CD_PG_ARCHIVE_SCHEMA_VERSION);
      return FALSE;
    }
    if (version == CD_PG_ARCHIVE_SCHEMA_VERSION) {
      self->schema_version = version;
      cd_pg_rollback(self);
      return TRUE;
    }
    if (!create) {
      cd_pg_rollback(self);
      g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: schema version %d needs migrating to %d (open it to create)",
                  self->where, version, CD_PG_ARCHIVE_SCHEMA_VERSION);
      return FALSE;
    }
    {
      g_autoptr(CdPgParams) p = cd_pg_params_new();
      g_autofree gchar *what = g_strdup_printf("migration to schema %d", version + 1);
      cd_pg_params_add_int(p, version + 1);
      /* a multi-statement string runs through the simple protocol */
      res = PQexec(self->conn, cd_pg_migrations[version]);
      if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        cd_pg_set_error(self, error, what, res);
        cd_pg_rollback(self);
        return FALSE;
      }
      if (!cd_pg_exec_ok(self,
                         "INSERT INTO meta (key, value) VALUES ('schema_version', $1) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                         p, what, error) ||
          !cd_pg_commit(self, error)) {
        cd_pg_rollback(self);
        return FALSE;
      }
    }
  }
}

CdPgArchive *
cd_pg_archive_open(const gchar *conninfo, CdArchiveFlags flags, GError **error)
{
  g_autoptr(CdPgArchive) self = g_new0(CdPgArchive, 1);
  g_autofree gchar *taxonomy = NULL;

  g_return_val_if_fail(conninfo != NULL, NULL);
  g_rec_mutex_init(&self->mutex);
  self->principal = cd_principal_new_admin_mode(g_get_user_name(), NULL);
  self->conn = PQconnectdb(conninfo);
  if (PQstatus(self->conn) != CONNECTION_OK) {
    g_autofree gchar *msg = g_strstrip(g_strdup(PQerrorMessage(self->conn)));
    g_autofree gchar *name = cd_pg_safe_name(conninfo);
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot connect: %s", name, msg);
    return NULL;
  }
  self->where = cd_pg_describe(self->conn, conninfo);
  if (!cd_pg_exec_ok(self, "SET client_min_messages = warning", NULL, "cannot set up the session", error))
    return NULL;
  if (!cd_pg_migrate(self, (flags & CD_ARCHIVE_FLAG_CREATE) != 0, error))
    return NULL;
  if (!cd_pg_audit_init(self, error) || !cd_pg_search_prepare(self, (flags & CD_ARCHIVE_FLAG_CREATE) != 0, error))
    return NULL;
  /* restricted types as the SQLite archive reads them: fail closed */
  taxonomy = cd_taxonomy_find(NULL);
  if (taxonomy != NULL) {
    g_auto(GStrv) types = cd_taxonomy_file_get_restricted(taxonomy, error);
    if (types == NULL)
      return NULL;
    cd_pg_archive_set_restricted_types(self, (const gchar *const *) types);
  }
  return g_steal_pointer(&self);
}

void
cd_pg_archive_free(CdPgArchive *self)
{
  if (self == NULL)
    return;
  if (self->conn != NULL)
    PQfinish(self->conn);
  g_free(self->where);
  g_free(self->purpose);
  g_clear_object(&self->principal);
  g_strfreev(self->restricted);
  cd_pg_audit_clear(self);
  g_rec_mutex_clear(&self->mutex);
  g_free(self);
}

/**
 * cd_pg_archive_set_purpose:
 * @purpose: (nullable): why the reads that follow are made (a request
 *   number), recorded in their audit entries; %NULL for none
 */
void
cd_pg_archive_set_purpose(CdPgArchive *self, const gchar *purpose)
{
  g_return_if_fail(self != NULL);
  g_rec_mutex_lock(&self->mutex);
  g_free(self->purpose);
  self->purpose = purpose != NULL && purpose[0] != '\0' ? g_strdup(purpose) : NULL;
  g_rec_mutex_unlock(&self->mutex);
}

gint
cd_pg_archive_get_schema_version(CdPgArchive *self)
{
  return self->schema_version;
}

void
cd_pg_archive_set_principal(CdPgArchive *self, CdPrincipal *principal)
{
  g_autoptr(GRecMutexLocker) held = NULL;

  g_return_if_fail(CD_IS_PRINCIPAL(principal));
  held = g_rec_mutex_locker_new(&self->mutex);
  g_set_object(&self->principal, principal);
}

void
cd_pg_archive_set_restricted_types(CdPgArchive *self, const gchar *const *types)
{
  g_autoptr(GRecMutexLocker) held = g_rec_mutex_locker_new(&self->mutex);

  g_strfreev(self->restricted);
  self->restricted = types != NULL && types[0] != NULL ? g_strdupv((gchar **) types) : NULL;
}

void
cd_pg_archive_set_deliver_progress(CdPgArchive *self, CdDeliverProgress progress, gpointer user_data)
{
  self->progress = progress;
  self->progress_data = user_data;
}

const gchar *
cd_pg_actor(CdPgArchive *self)
{
  return cd_principal_get_audit_name(self->principal);
}

gchar *
cd_pg_hidden_types(CdPgArchive *self)
{
  if (self->restricted == NULL || cd_principal_has(self->principal, CD_PERMISSION_RESTRICTED))
    return NULL;
  return cd_pg_array_literal((const gchar *const *) self->restricted);
}

/* cd_pg_audit(), the server's own chain: cd-pg-audit.c */

gboolean
cd_pg_require(CdPgArchive *self, CdPermission permission, const gchar *what, const gchar *object, GError **error)
{
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autoptr(GError) audit_error = NULL;

  if (cd_principal_check(self->principal, permission, what, error))
    return TRUE;
  obj = json_object_new();
  json_object_set_string_member(obj, "permission", cd_permission_to_string(permission));
  json_object_set_string_member(obj, "operation", what);
  detail = json_node_init_object(json_node_alloc(), obj);
  if (!cd_pg_audit(self, "denied", object != NULL ? object : "archive", detail, &audit_error))
    g_warning("%s", audit_error->message);
  return FALSE;
}

/* ---- delivery ---- */

/* One delivery run: the spool, the station, and what the server knows of
 * it (the spool's batch ids mapped to the server's). */
typedef struct {
  CdPgArchive *self;
  CdArchive *spool;
  const gchar *station;
  CdDeliverStats *stats;
  GHashTable *batches; /* spool batch id → server batch id (gint64 in pointers via g_int64_hash) */
  gboolean changes;    /* the spool numbers its changes (document_changes) */
} CdDelivery;

/* The text of column @i, as SQLite gives it (numbers in decimal). */
static const gchar *
cd_col(sqlite3_stmt *stmt, gint i)
{
  return (const gchar *) sqlite3_column_text(stmt, i);
}

/* The spool batch's row on the server, created or brought up to date;
 * inside the caller's transaction. */
static gint64
cd_deliver_batch(CdDelivery *d, gint64 spool_batch, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  gint64 *cached = g_hash_table_lookup(d->batches, &spool_batch);
  gint64 *key, *value;

  if (cached != NULL)
    return *cached;
  stmt = cd_archive_prepare(d->spool,
                            "SELECT started, finished, actor, workflow, inputs, status, report, workflow_origin, "
                            "options, audit_anchor FROM batches WHERE id = ?",
                            error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64(stmt, 1, spool_batch);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: batch %" G_GINT64_FORMAT " is missing from the spool",
                cd_archive_get_path(d->spool), spool_batch);
    return 0;
  }
  cd_pg_params_add(p, d->station);
  cd_pg_params_add_int(p, spool_batch);
  for (gint i = 0; i < 10; i++)
    cd_pg_params_add(p, cd_col(stmt, i));
  res = cd_pg_exec(d->self,
                   "INSERT INTO batches (station, source_batch_id, started, finished, actor, workflow, inputs, status, "
                   "report, workflow_origin, options, audit_anchor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                   "$11, $12) ON CONFLICT (station, source_batch_id) DO UPDATE SET finished = excluded.finished, "
                   "status = excluded.status, report = excluded.report, audit_anchor = excluded.audit_anchor "
                   "RETURNING id",
                   p, "cannot deliver a batch", error);
  if (res == NULL)
    return 0;
  key = g_new(gint64, 1);
  value = g_new(gint64, 1);
  *key = spool_batch;
  *value = cd_pg_int(res, 0, 0);
  g_hash_table_insert(d->batches, key, value);
  return *value;
}

/* Sends the image unless the server has it (from any station). */
static gboolean
cd_deliver_image(CdDelivery *d, const gchar *sha256, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  cd_pg_params_add(p, sha256);
  res = cd_pg_exec(d->self, "SELECT 1 FROM images WHERE sha256 = $1", p, "cannot deliver an image", error);
  if (res == NULL)
    return FALSE;
  if (PQntuples(res) > 0)
    return TRUE;
  stmt = cd_archive_prepare(
      d->spool, "SELECT format, width, height, depth, xres, yres, data FROM images WHERE sha256 = ?", error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, sha256);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: image %s is missing from the spool",
                cd_archive_get_path(d->spool), sha256);
    return FALSE;
  }
  g_clear_pointer(&p, cd_pg_params_free);
  p = cd_pg_params_new();
  cd_pg_params_add(p, sha256);
  for (gint i = 0; i < 6; i++)
    cd_pg_params_add(p, cd_col(stmt, i));
  cd_pg_params_add_binary(p, sqlite3_column_blob(stmt, 6), sqlite3_column_bytes(stmt, 6));
  return cd_pg_exec_ok(
      d->self,
      "INSERT INTO images (sha256, format, width, height, depth, xres, yres, data) VALUES ($1, $2, $3, "
      "$4, $5, $6, $7, $8) ON CONFLICT (sha256) DO NOTHING",
      p, "cannot deliver an image", error);
}

#define SPOOL_PAGE_COLUMNS                                                                                             \
  "id, batch_id, seq, kind, reason, source_path, source_page, source_sha256, xres, yres, image_sha256, rotation, "     \
  "skew, text, words, confidence, problems, facts, created"

/* Inserts one spool page (a row of SPOOL_PAGE_COLUMNS) under @document_id
 * (0: outside documents). Returns the server's page id, 0 when the server
 * already had this page of this file (another station's), -1 on error. */
static gint64
cd_deliver_page(CdDelivery *d, sqlite3_stmt *row, gint64 server_batch, gint64 document_id, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;

  if (cd_col(row, 10) != NULL && !cd_deliver_image(d, cd_col(row, 10), error))
    return -1;
  cd_pg_params_add_int(p, server_batch);
  if (document_id > 0)
    cd_pg_params_add_int(p, document_id);
  else
    cd_pg_params_add(p, NULL);
  for (gint i = 2; i < 19; i++)
    cd_pg_params_add(p, cd_col(row, i));
  res = cd_pg_exec(d->self,
                   "INSERT INTO pages (batch_id, document_id, seq, kind, reason, source_path, source_page, "
                   "source_sha256, xres, yres, image_sha256, rotation, skew, text, words, confidence, problems, facts, "
                   "created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
                   "$19) ON CONFLICT (source_sha256, source_page) WHERE source_sha256 IS NOT NULL AND source_page >= 0 "
                   "DO NOTHING RETURNING id",
                   p, "cannot deliver a page", error);
  if (res == NULL)
    return -1;
  return PQntuples(res) > 0 ? cd_pg_int(res, 0, 0) : 0;
}

/* The spool's review items of a document or of a page set aside. */
static gboolean
cd_deliver_review(CdDelivery *d, const gchar *where, gint64 spool_id, gint64 document_id, GHashTable *page_map,
                  GError **error)
{
  g_autofree gchar *sql = g_strdup_printf("SELECT page_id, reason, created, resolved, resolved_by, resolution, "
                                          "assignee, assigned FROM review WHERE %s = ? ORDER BY id",
                                          where);
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(d->spool, sql, error);
  gint rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, spool_id);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    g_autoptr(CdPgParams) p = cd_pg_params_new();
    gint64 spool_page = sqlite3_column_int64(stmt, 0);
    gint64 *page = spool_page > 0 ? g_hash_table_lookup(page_map, &spool_page) : NULL;

    if (document_id > 0)
      cd_pg_params_add_int(p, document_id);
    else
      cd_pg_params_add(p, NULL);
    if (page != NULL && *page > 0)
      cd_pg_params_add_int(p, *page);
    else
      cd_pg_params_add(p, NULL);
    for (gint i = 1; i < 8; i++)
      cd_pg_params_add(p, cd_col(stmt, i));
    if (!cd_pg_exec_ok(d->self,
                       "INSERT INTO review (document_id, page_id, reason, created, resolved, resolved_by, resolution, "
                       "assignee, assigned) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                       p, "cannot deliver a review item", error))
      return FALSE;
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(d->spool, error, "cannot read the review queue");
    return FALSE;
  }
  return TRUE;
}

/* A delivery key: TRUE in *@fresh when this call took it (the server did
 * not have the document from this station). Concurrent deliverers of the
 * same key wait here for the first to commit or roll back. */
static gboolean
cd_deliver_key(CdDelivery *d, const gchar *table, const gchar *column, gint64 spool_id, gboolean *fresh, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autofree gchar *now = cd_now_iso8601();
  g_autofree gchar *sql = g_strdup_printf("INSERT INTO %s (station, %s, outcome, delivered) VALUES ($1, $2, 'stored', "
                                          "$3) ON CONFLICT DO NOTHING RETURNING 1",
                                          table, column);

  cd_pg_params_add(p, d->station);
  cd_pg_params_add_int(p, spool_id);
  cd_pg_params_add(p, now);
  res = cd_pg_exec(d->self, sql, p, "cannot record a delivery", error);
  if (res == NULL)
    return FALSE;
  *fresh = PQntuples(res) > 0;
  return TRUE;
}

static gboolean
cd_deliver_set_outcome(CdDelivery *d, const gchar *table, const gchar *key_column, const gchar *id_column,
                       gint64 spool_id, gint64 server_id, const gchar *outcome, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autofree gchar *sql = g_strdup_printf("UPDATE %s SET %s = $3, outcome = $4 WHERE station = $1 AND %s = $2", table,
                                          id_column, key_column);

  cd_pg_params_add(p, d->station);
  cd_pg_params_add_int(p, spool_id);
  if (server_id > 0)
    cd_pg_params_add_int(p, server_id);
  else
    cd_pg_params_add(p, NULL);
  cd_pg_params_add(p, outcome);
  return cd_pg_exec_ok(d->self, sql, p, "cannot record a delivery", error);
}

/* The server's document holding this page of this file, 0 if none. */
static gint64
cd_deliver_find_page_document(CdDelivery *d, const gchar *sha256, const gchar *page, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;

  cd_pg_params_add(p, sha256);
  cd_pg_params_add(p, page);
  res = cd_pg_exec(d->self,
                   "SELECT coalesce(document_id, 0), id FROM pages WHERE source_sha256 = $1 AND source_page = $2", p,
                   "cannot look a page up", error);
  if (res == NULL)
    return -1;
  return PQntuples(res) > 0 ? cd_pg_int(res, 0, 0) : 0;
}

/* ---- changes after delivery (see docs/decisions.md, "Changes after
 * delivery") ---- */

/* The spool's change number of a document (document_changes), 0 when it
 * never changed or the spool has no such table. */
static gboolean
cd_deliver_spool_revision(CdDelivery *d, gint64 spool_doc, gint64 *revision, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  *revision = 0;
  if (!d->changes)
    return TRUE;
  stmt = cd_archive_prepare(d->spool, "SELECT seq FROM document_changes WHERE document_id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, spool_doc);
  if (sqlite3_step(stmt) == SQLITE_ROW)
    *revision = sqlite3_column_int64(stmt, 0);
  return TRUE;
}

/* @spool_id: a spool document, or minus a spool page set aside */
static gboolean
cd_deliver_set_revision(CdDelivery *d, gint64 spool_id, gint64 revision, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();

  cd_pg_params_add(p, d->station);
  cd_pg_params_add_int(p, ABS(spool_id));
  cd_pg_params_add_int(p, revision);
  return cd_pg_exec_ok(d->self,
                       spool_id > 0 ? "UPDATE deliveries SET revision = greatest(revision, $3::bigint) WHERE station = "
                                      "$1 AND source_document_id = $2"
                                    : "UPDATE page_deliveries SET revision = greatest(revision, $3::bigint) WHERE "
                                      "station = $1 AND source_page_id = $2",
                       p, "cannot record a delivery", error);
}

/* The content of a page this station delivered (a row of
 * SPOOL_PAGE_COLUMNS) made the spool's: its text (the stored tsvector
 * follows it), word boxes, facts, problems, confidence, image, rotation
 * and skew; inside the caller's transaction. The image is sent unless the
 * server has it by its hash; an image no page uses any more (a page's
 * image destroyed or replaced) is removed. *@updated: whether anything
 * differed. */
static gboolean
cd_deliver_page_content(CdDelivery *d, sqlite3_stmt *row, gint64 page_id, gboolean *updated, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  const gchar *image = cd_col(row, 10), *old_image;

  *updated = FALSE;
  if (image != NULL && !cd_deliver_image(d, image, error))
    return FALSE;
  cd_pg_params_add_int(p, page_id);
  for (gint i = 10; i < 18; i++)
    cd_pg_params_add(p, cd_col(row, i));
  res = cd_pg_exec(d->self,
                   "WITH old AS (SELECT id, image_sha256 FROM pages WHERE id = $1 FOR UPDATE) "
                   "UPDATE pages p SET image_sha256 = $2, rotation = $3::integer, skew = $4::double precision, "
                   "text = $5, words = $6, confidence = $7::double precision, problems = $8, facts = $9 FROM old "
                   "WHERE p.id = old.id AND (p.image_sha256 IS DISTINCT FROM $2 OR p.rotation IS DISTINCT FROM "
                   "$3::integer OR p.skew IS DISTINCT FROM $4::double precision OR p.text IS DISTINCT FROM $5 OR "
                   "p.words IS DISTINCT FROM $6 OR p.confidence IS DISTINCT FROM $7::double precision OR p.problems "
                   "IS DISTINCT FROM $8 OR p.facts IS DISTINCT FROM $9) RETURNING old.image_sha256",
                   p, "cannot deliver a page's change", error);
  if (res == NULL)
    return FALSE;
  if (PQntuples(res) == 0)
    return TRUE;
  *updated = TRUE;
  old_image = cd_pg_value(res, 0, 0);
  if (old_image != NULL && g_strcmp0(old_image, image) != 0) {
    g_autoptr(CdPgParams) del = cd_pg_params_new();
    cd_pg_params_add(del, old_image);
    if (!cd_pg_exec_ok(d->self,
                       "DELETE FROM images WHERE sha256 = $1 AND NOT EXISTS (SELECT 1 FROM pages WHERE "
                       "image_sha256 = $1)",
                       del, "cannot remove an image no page uses", error))
      return FALSE;
  }
  return TRUE;
}

/* A page set aside whose review items changed (an unreadable page
 * rescanned, its item resolved): the server's items of that page replaced
 * by the spool's, with its revision and an audit entry, in one
 * transaction. */
static gboolean
cd_deliver_page_change(CdDelivery *d, gint64 spool_page, gint64 revision, GError **error)
{
  g_autoptr(CdPgTxn) txn = NULL;
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) key = NULL;
  g_autoptr(GHashTable) page_map = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *object = NULL;
  gint64 page_id, current = revision;
  gint64 *k, *v;

  txn = cd_pg_txn_begin(d->self, error);
  if (txn == NULL)
    return FALSE;
  cd_pg_params_add(p, d->station);
  cd_pg_params_add_int(p, spool_page);
  key = cd_pg_exec(d->self,
                   "SELECT coalesce(page_id, 0), outcome, revision FROM page_deliveries WHERE station = $1 AND "
                   "source_page_id = $2 FOR UPDATE",
                   p, "cannot read what was delivered", error);
  if (key == NULL)
    return FALSE;
  if (PQntuples(key) == 0 || cd_pg_int(key, 0, 2) >= revision)
    return TRUE;
  page_id = cd_pg_int(key, 0, 0);
  if (!cd_deliver_spool_revision(d, -spool_page, &current, error))
    return FALSE;
  current = MAX(current, revision);
  if (g_strcmp0(cd_pg_value(key, 0, 1), "stored") == 0 && page_id > 0) {
    g_autoptr(CdPgParams) rp = cd_pg_params_new();
    g_autoptr(sqlite3_stmt) row =
        cd_archive_prepare(d->spool, "SELECT " SPOOL_PAGE_COLUMNS " FROM pages WHERE id = ?", error);
    gboolean updated = FALSE;
    if (row == NULL)
      return FALSE;
    sqlite3_bind_int64(row, 1, spool_page);
    if (sqlite3_step(row) == SQLITE_ROW && !cd_deliver_page_content(d, row, page_id, &updated, error))
      return FALSE;
    json_object_set_int_member(obj, "pages_updated", updated);
    cd_pg_params_add_int(rp, page_id);
    k = g_new(gint64, 1);
    v = g_new(gint64, 1);
    *k = spool_page;
    *v = page_id;
    g_hash_table_insert(page_map, k, v);
    if (!cd_pg_exec_ok(d->self, "DELETE FROM review WHERE page_id = $1 AND document_id IS NULL", rp,
                       "cannot deliver a change", error) ||
        !cd_deliver_review(d, "document_id IS NULL AND page_id", spool_page, 0, page_map, error))
      return FALSE;
  }
  if (!cd_deliver_set_revision(d, -spool_page, current, error))
    return FALSE;
  object = g_strdup_printf("page:%" G_GINT64_FORMAT, page_id);
  json_object_set_string_member(obj, "station", d->station);
  json_object_set_int_member(obj, "source_page_id", spool_page);
  json_object_set_int_member(obj, "revision", current);
  detail = json_node_init_object(json_node_alloc(), g_steal_pointer(&obj));
  if (!cd_pg_audit(d->self, "deliver-change", object, detail, error) || !cd_pg_txn_commit(txn, error))
    return FALSE;
  d->stats->changes++;
  return TRUE;
}

/* Puts a page the server already has (a row of SPOOL_PAGE_COLUMNS, found
 * by its file's hash and page) into the server document @document_id at
 * the spool's place: its place updated when that document holds it,
 * moved when another document this station delivered holds it (a split
 * or merge on the station). Returns the page's server id; 0 when the
 * server does not have it (*@missing set), when another station's
 * document or no document holds it (left where it is: a page is never
 * taken from another station's document), or when the page has no file
 * hash (found by nothing but its first delivery); -1 on error. *@from is
 * the server document it was moved out of, 0 for none. */
static gint64
cd_deliver_place_page(CdDelivery *d, sqlite3_stmt *row, gint64 document_id, gint64 *from, gboolean *missing,
                      GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autoptr(CdPgParams) up = NULL;
  gint64 page_id, holder;

  *from = 0;
  *missing = FALSE;
  if (cd_col(row, 7) == NULL || sqlite3_column_int64(row, 6) < 0)
    return 0;
  cd_pg_params_add(p, cd_col(row, 7));
  cd_pg_params_add(p, cd_col(row, 6));
  cd_pg_params_add(p, d->station);
  res = cd_pg_exec(d->self,
                   "SELECT p.id, coalesce(p.document_id, 0), EXISTS (SELECT 1 FROM deliveries v WHERE v.station = $3 "
                   "AND v.document_id = p.document_id AND v.outcome IN ('stored', 'partial')) FROM pages p "
                   "WHERE p.source_sha256 = $1 AND p.source_page = $2::integer FOR UPDATE OF p",
                   p, "cannot look a page up", error);
  if (res == NULL)
    return -1;
  if (PQntuples(res) == 0) {
    *missing = TRUE;
    return 0;
  }
  page_id = cd_pg_int(res, 0, 0);
  holder = cd_pg_int(res, 0, 1);
  if (holder != document_id && (holder == 0 || g_strcmp0(cd_pg_value(res, 0, 2), "t") != 0))
    return 0;
  up = cd_pg_params_new();
  cd_pg_params_add_int(up, page_id);
  cd_pg_params_add_int(up, document_id);
  cd_pg_params_add(up, cd_col(row, 2));
  if (!cd_pg_exec_ok(d->self, "UPDATE pages SET document_id = $2, seq = $3::integer WHERE id = $1", up,
                     "cannot move a page", error))
    return -1;
  if (holder != document_id)
    *from = holder;
  return page_id;
}

/* A server document this station delivered, left without pages by a
 * merge on the station: removed once the spool no longer has its
 * document, its delivery recorded as `merged`; other stations' duplicates
 * of it follow its pages to @into. */
static gboolean
cd_deliver_drop_emptied(CdDelivery *d, gint64 server_doc, gint64 into, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 source;

  cd_pg_params_add(p, d->station);
  cd_pg_params_add_int(p, server_doc);
  res = cd_pg_exec(d->self,
                   "SELECT v.source_document_id FROM deliveries v WHERE v.station = $1 AND v.document_id = $2 "
                   "AND v.outcome IN ('stored', 'partial') AND NOT EXISTS (SELECT 1 FROM pages WHERE document_id = $2)",
                   p, "cannot read what was delivered", error);
  if (res == NULL)
    return FALSE;
  if (PQntuples(res) == 0)
    return TRUE; /* not this station's, or it still holds pages */
  source = cd_pg_int(res, 0, 0);
  stmt = cd_archive_prepare(d->spool, "SELECT 1 FROM documents WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, source);
  if (sqlite3_step(stmt) == SQLITE_ROW)
    return TRUE; /* still a document of the spool: its own change brings its pages back */
  {
    g_autoptr(CdPgParams) dup = cd_pg_params_new();
    g_autoptr(CdPgParams) key = cd_pg_params_new();
    g_autoptr(CdPgParams) doc = cd_pg_params_new();
    cd_pg_params_add_int(dup, server_doc);
    if (into > 0)
      cd_pg_params_add_int(dup, into);
    else
      cd_pg_params_add(dup, NULL);
    cd_pg_params_add(key, d->station);
    cd_pg_params_add_int(key, source);
    cd_pg_params_add_int(doc, server_doc);
    return cd_pg_exec_ok(
               d->self,
               "UPDATE deliveries SET document_id = $2::bigint WHERE document_id = $1 AND outcome = 'duplicate'", dup,
               "cannot record a merge", error) &&
           cd_pg_exec_ok(d->self,
                         "UPDATE deliveries SET document_id = NULL, outcome = 'merged' WHERE station = $1 AND "
                         "source_document_id = $2",
                         key, "cannot record a merge", error) &&
           cd_pg_exec_ok(d->self, "DELETE FROM review WHERE document_id = $1", doc, "cannot remove a merged document",
                         error) &&
           cd_pg_exec_ok(d->self, "DELETE FROM documents WHERE id = $1", doc, "cannot remove a merged document", error);
  }
}

/* The spool's document differs from the other station's server document
 * its pages are on: the server keeps that station's, and an open review
 * item on it says what this station's copy reads, for a person to settle.
 * Nothing of it is filed by this station. */

/* Opens a review item on server document @doc for @reason, unless one for
 * the same reason is open already (a delivery run again). */
static gboolean
cd_pg_open_review_item(CdPgArchive *self, gint64 doc, const gchar *reason, const gchar *now, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();

  cd_pg_params_add_int(p, doc);
  cd_pg_params_add(p, reason);
  cd_pg_params_add(p, now);
  return cd_pg_exec_ok(self,
                       "INSERT INTO review (document_id, reason, created) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 "
                       "FROM review WHERE document_id = $1 AND reason = $2 AND resolved IS NULL)",
                       p, "cannot deliver a review item", error);
}

static gboolean
cd_deliver_flag_duplicate(CdDelivery *d, sqlite3_stmt *doc, gint64 spool_doc, gint64 server_doc, gboolean *flagged,
                          GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autofree gchar *now = cd_now_iso8601();
  g_autofree gchar *reason = NULL;
  const gchar *mrn = cd_col(doc, 1), *status = cd_col(doc, 2), *type = cd_col(doc, 3);

  *flagged = FALSE;
  if (server_doc <= 0)
    return TRUE;
  cd_pg_params_add_int(p, server_doc);
  res = cd_pg_exec(d->self,
                   "SELECT patient_mrn, status, type, (SELECT station FROM deliveries WHERE document_id = $1 AND "
                   "outcome IN ('stored', 'partial') LIMIT 1) FROM documents WHERE id = $1",
                   p, "cannot read a document", error);
  if (res == NULL)
    return FALSE;
  if (PQntuples(res) == 0 ||
      (g_strcmp0(cd_pg_value(res, 0, 0), mrn) == 0 && g_strcmp0(cd_pg_value(res, 0, 1), status) == 0 &&
       g_strcmp0(cd_pg_value(res, 0, 2), type) == 0))
    return TRUE;
  reason = g_strdup_printf("station %s's copy (its document %" G_GINT64_FORMAT ") now reads patient %s, type %s, %s; "
                           "the server keeps station %s's: settle which is right",
                           d->station, spool_doc, mrn != NULL ? mrn : "none", type != NULL ? type : "none", status,
                           cd_pg_value(res, 0, 3) != NULL ? cd_pg_value(res, 0, 3) : "another");
  if (!cd_pg_open_review_item(d->self, server_doc, reason, now, error))
    return FALSE;
  *flagged = TRUE;
  return TRUE;
}

/* The spool's tombstone of @spool_doc with its retention run, stepped to
 * its row; NULL without @error set when the station has not destroyed it
 * (or its spool predates retention). */
static sqlite3_stmt *
cd_deliver_spool_tombstone(CdDelivery *d, gint64 spool_doc, GError **error)
{
  g_autoptr(sqlite3_stmt) any =
      cd_archive_prepare(d->spool, "SELECT 1 FROM sqlite_master WHERE name = 'tombstones'", error);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint rc;

  if (any == NULL || sqlite3_step(any) != SQLITE_ROW)
    return NULL;
  stmt = cd_archive_prepare(d->spool,
                            "SELECT t.run_id, t.patient_mrn, t.type, t.date, t.last_service, t.keep_until, t.rule, "
                            "t.pages, t.created, t.destroyed_at, r.approved_by, r.made_by, r.two_person, r.method, "
                            "r.plan_sha256, r.policy_sha256, r.certificate_sha256 FROM tombstones t "
                            "JOIN retention_runs r ON r.id = t.run_id WHERE t.document_id = ?",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, spool_doc);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW)
    return g_steal_pointer(&stmt);
  if (rc != SQLITE_DONE)
    cd_archive_set_error(d->spool, error, "cannot read a tombstone");
  return NULL;
}

/* The server's record of a station's destruction of @server_doc (its
 * content already emptied in this transaction): the spool's tombstone
 * (@tomb) and run, once. */
static gboolean
cd_deliver_tombstone(CdDelivery *d, sqlite3_stmt *tomb, gint64 spool_doc, gint64 server_doc, JsonObject *detail,
                     GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autofree gchar *now = cd_now_iso8601();

  cd_pg_params_add_int(p, server_doc);
  cd_pg_params_add(p, d->station);
  cd_pg_params_add_int(p, spool_doc);
  for (gint i = 0; i < 17; i++) {
    if (i == 12)
      cd_pg_params_add(p, sqlite3_column_int(tomb, i) != 0 ? "t" : "f");
    else
      cd_pg_params_add(p, cd_col(tomb, i));
  }
  cd_pg_params_add(p, now);
  if (!cd_pg_exec_ok(d->self,
                     "INSERT INTO tombstones (document_id, station, source_document_id, source_run_id, patient_mrn, "
                     "type, date, last_service, keep_until, rule, pages, created, destroyed_at, destroyed_by, "
                     "planned_by, two_person, method, plan_sha256, policy_sha256, certificate_sha256, delivered) "
                     "VALUES ($1, $2, $3, $4::bigint, $5, $6, $7, $8, $9, $10, $11::integer, $12, $13, $14, $15, "
                     "$16::boolean, $17, $18, $19, $20, $21) ON CONFLICT (document_id) DO NOTHING",
                     p, "cannot deliver a tombstone", error))
    return FALSE;
  json_object_set_int_member(detail, "run", sqlite3_column_int64(tomb, 0));
  json_object_set_string_member(detail, "destroyed_at", cd_col(tomb, 9));
  json_object_set_string_member(detail, "destroyed_by", cd_col(tomb, 10));
  json_object_set_string_member(detail, "planned_by", cd_col(tomb, 11));
  json_object_set_string_member(detail, "policy_sha256", cd_col(tomb, 15));
  if (cd_col(tomb, 6) != NULL)
    json_object_set_string_member(detail, "rule", cd_col(tomb, 6));
  return TRUE;
}

/* A station's destruction of a document one of the server's legal holds
 * covers: the server keeps its copy whole, and says so on the document
 * (an open review item, once) and in the audit entry's detail. */
static gboolean
cd_deliver_destruction_refused(CdDelivery *d, sqlite3_stmt *tomb, gint64 spool_doc, gint64 server_doc, PGresult *holds,
                               JsonObject *detail, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(GString) ids = g_string_new(NULL);
  g_autofree gchar *now = cd_now_iso8601();
  g_autofree gchar *reason = NULL;
  JsonArray *held = json_array_new();

  for (gint i = 0; i < PQntuples(holds); i++) {
    g_string_append_printf(ids, "%s%s (%s)", i > 0 ? ", " : "", PQgetvalue(holds, i, 0), PQgetvalue(holds, i, 4));
    json_array_add_int_element(held, cd_pg_int(holds, i, 0));
  }
  reason = g_strdup_printf("station %s destroyed its copy (its document %" G_GINT64_FORMAT ") in retention run %s "
                           "on %s, approved by %s; the server keeps this document: legal hold %s covers it",
                           d->station, spool_doc, cd_col(tomb, 0), cd_col(tomb, 9), cd_col(tomb, 10), ids->str);
  if (!cd_pg_open_review_item(d->self, server_doc, reason, now, error))
    return FALSE;
  json_object_set_int_member(detail, "run", sqlite3_column_int64(tomb, 0));
  json_object_set_string_member(detail, "destroyed_at", cd_col(tomb, 9));
  json_object_set_string_member(detail, "destroyed_by", cd_col(tomb, 10));
  json_object_set_array_member(detail, "holds", held);
  return TRUE;
}

/* The server's active legal holds covering @server_doc (as filed on the
 * server, merges followed). */
static PGresult *
cd_deliver_server_holds(CdDelivery *d, gint64 server_doc, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) doc = NULL;

  cd_pg_params_add_int(p, server_doc);
  /* the document's row and its surviving patient's locked against a hold
   * being placed meanwhile (cd_pg_archive_place_hold() locks them too):
   * the hold committed first is seen here, or waits for this delivery */
  doc = cd_pg_exec(d->self, "SELECT d.patient_mrn FROM documents d WHERE d.id = $1 FOR UPDATE OF d", p,
                   "cannot read a document", error);
  if (doc == NULL)
    return NULL;
  if (PQntuples(doc) > 0 && cd_pg_value(doc, 0, 0) != NULL) {
    g_autoptr(CdPgParams) pp = cd_pg_params_new();
    g_autoptr(PGresult) patient = NULL;
    cd_pg_params_add(pp, cd_pg_value(doc, 0, 0));
    patient = cd_pg_exec(d->self, "SELECT 1 FROM patients WHERE mrn = cd_mrn_survivor($1) FOR SHARE", pp,
                         "cannot read the patient index", error);
    if (patient == NULL)
      return NULL;
  }
  return cd_pg_holds_covering(d->self, server_doc, PQntuples(doc) > 0 ? cd_pg_value(doc, 0, 0) : NULL, error);
}

/* One changed spool document: its server document brought to the spool's
 * state (status, patient, type, date, title, its pages and their order,
 * its review items) in one server transaction with its new revision and
 * an audit entry. A deliverer that finds the revision delivered (a retry,
 * a concurrent deliverer: the delivery row is locked first) does nothing. */
static gboolean
cd_deliver_change(CdDelivery *d, gint64 spool_doc, gint64 revision, GError **error)
{
  g_autoptr(CdPgTxn) txn = NULL;
  g_autoptr(CdArchiveTxn) snapshot = NULL;
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) key = NULL;
  g_autoptr(sqlite3_stmt) doc = NULL;
  g_autoptr(sqlite3_stmt) pages = NULL;
  g_autoptr(GHashTable) page_map = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  g_autoptr(GArray) sources = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *object = NULL;
  g_autofree gchar *outcome = NULL;
  g_autoptr(sqlite3_stmt) tomb = NULL;
  g_autoptr(PGresult) holds = NULL;
  g_autoptr(GError) local = NULL;
  const gchar *action = "deliver-change";
  gint64 server_doc, current = revision, server_batch;
  guint moved = 0, added = 0, content = 0;
  gint rc;

  txn = cd_pg_txn_begin(d->self, error);
  if (txn == NULL)
    return FALSE;
  cd_pg_params_add(p, d->station);
  cd_pg_params_add_int(p, spool_doc);
  key = cd_pg_exec(d->self,
                   "SELECT coalesce(document_id, 0), outcome, revision FROM deliveries WHERE station = $1 AND "
                   "source_document_id = $2 FOR UPDATE",
                   p, "cannot read what was delivered", error);
  if (key == NULL)
    return FALSE;
  if (PQntuples(key) == 0 || cd_pg_int(key, 0, 2) >= revision)
    return TRUE; /* never delivered (delivered as new), or delivered already */
  server_doc = cd_pg_int(key, 0, 0);
  outcome = g_strdup(cd_pg_value(key, 0, 1));

  /* one snapshot of the spool, and its revision now (read first: a change
   * made meanwhile is newer than the state read, and sent again) */
  snapshot = cd_archive_txn_begin_read(d->spool, error);
  if (snapshot == NULL || !cd_deliver_spool_revision(d, spool_doc, &current, error))
    return FALSE;
  current = MAX(current, revision);
  doc = cd_archive_prepare(d->spool,
                           "SELECT batch_id, patient_mrn, status, type, type_confidence, date, title FROM documents "
                           "WHERE id = ?",
                           error);
  if (doc == NULL)
    return FALSE;
  sqlite3_bind_int64(doc, 1, spool_doc);
  rc = sqlite3_step(doc);

  if (g_strcmp0(outcome, "merged") == 0) {
    /* removed from the server already (by the change of the document
     * that took its pages) */
    action = "deliver-removal";
  } else if (rc != SQLITE_ROW) {
    /* merged into another document on the station: removed here once the
     * document that took its pages has them (now, or with its change) */
    action = "deliver-removal";
    if (!cd_deliver_drop_emptied(d, server_doc, 0, error))
      return FALSE;
  } else if (g_strcmp0(outcome, "duplicate") == 0) {
    gboolean flagged = FALSE;
    if (!cd_deliver_flag_duplicate(d, doc, spool_doc, server_doc, &flagged, error))
      return FALSE;
    action = flagged ? "deliver-change-disputed" : "deliver-change";
  } else if ((tomb = cd_deliver_spool_tombstone(d, spool_doc, &local)) == NULL && local != NULL) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  } else if (tomb != NULL && (holds = cd_deliver_server_holds(d, server_doc, error)) == NULL) {
    return FALSE;
  } else if (tomb != NULL && PQntuples(holds) > 0) {
    /* destroyed on the station, held on the server: kept whole here */
    action = "deliver-destruction-refused";
    if (!cd_deliver_destruction_refused(d, tomb, spool_doc, server_doc, holds, obj, error))
      return FALSE;
  } else {
    g_autoptr(CdPgParams) up = cd_pg_params_new();
    server_batch = cd_deliver_batch(d, sqlite3_column_int64(doc, 0), error);
    if (server_batch == 0)
      return FALSE;
    cd_pg_params_add_int(up, server_doc);
    for (gint i = 1; i < 7; i++)
      cd_pg_params_add(up, cd_col(doc, i));
    if (!cd_pg_exec_ok(
            d->self,
            "UPDATE documents SET patient_mrn = $2, status = $3, type = $4, type_confidence = $5, date = $6, "
            "title = $7 WHERE id = $1",
            up, "cannot deliver a change", error))
      return FALSE;
    pages = cd_archive_prepare(d->spool, "SELECT " SPOOL_PAGE_COLUMNS " FROM pages WHERE document_id = ? ORDER BY seq",
                               error);
    if (pages == NULL)
      return FALSE;
    sqlite3_bind_int64(pages, 1, spool_doc);
    while ((rc = sqlite3_step(pages)) == SQLITE_ROW) {
      gint64 from = 0, page_id;
      gboolean missing = FALSE;
      gint64 *k, *v;
      page_id = cd_deliver_place_page(d, pages, server_doc, &from, &missing, error);
      if (page_id < 0)
        return FALSE;
      if (missing) {
        /* not on the server at all (never delivered): delivered now */
        page_id = cd_deliver_page(d, pages, server_batch, server_doc, error);
        if (page_id < 0)
          return FALSE;
        added += page_id > 0;
      } else if (page_id > 0) {
        /* this station's page: its text and image as the spool's now */
        gboolean updated = FALSE;
        if (!cd_deliver_page_content(d, pages, page_id, &updated, error))
          return FALSE;
        content += updated;
      }
      if (from > 0) {
        moved++;
        g_array_append_val(sources, from);
      }
      k = g_new(gint64, 1);
      v = g_new(gint64, 1);
      *k = sqlite3_column_int64(pages, 0);
      *v = page_id;
      g_hash_table_insert(page_map, k, v);
    }
    if (rc != SQLITE_DONE) {
      cd_archive_set_error(d->spool, error, "cannot read a document's pages");
      return FALSE;
    }
    /* the review items as the spool has them now */
    {
      g_autoptr(CdPgParams) rp = cd_pg_params_new();
      cd_pg_params_add_int(rp, server_doc);
      if (!cd_pg_exec_ok(d->self, "DELETE FROM review WHERE document_id = $1", rp, "cannot deliver a change", error) ||
          !cd_deliver_review(d, "document_id", spool_doc, server_doc, page_map, error))
        return FALSE;
    }
    for (guint i = 0; i < sources->len; i++) {
      if (!cd_deliver_drop_emptied(d, g_array_index(sources, gint64, i), server_doc, error))
        return FALSE;
    }
    /* destroyed on the station: emptied here too, and its tombstone kept */
    if (tomb != NULL) {
      action = "deliver-destruction";
      if (!cd_deliver_tombstone(d, tomb, spool_doc, server_doc, obj, error))
        return FALSE;
    }
  }
  if (!cd_deliver_set_revision(d, spool_doc, current, error))
    return FALSE;
  object = server_doc > 0 ? g_strdup_printf("document:%" G_GINT64_FORMAT, server_doc)
                          : g_strdup_printf("station:%s", d->station);
  json_object_set_string_member(obj, "station", d->station);
  json_object_set_int_member(obj, "source_document_id", spool_doc);
  json_object_set_int_member(obj, "revision", current);
  json_object_set_int_member(obj, "pages_moved", moved);
  json_object_set_int_member(obj, "pages_added", added);
  json_object_set_int_member(obj, "pages_updated", content);
  detail = json_node_init_object(json_node_alloc(), g_steal_pointer(&obj));
  if (!cd_pg_audit(d->self, action, object, detail, error) || !cd_pg_txn_commit(txn, error))
    return FALSE;
  d->stats->changes++;
  return TRUE;
}

/* The spool's changes past the station's `changes_delivered`, in their
 * order, each brought to the server; then the mark moved past them. */
static gboolean
cd_deliver_changes(CdDelivery *d, GCancellable *cancellable, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autoptr(GArray) docs = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GArray) seqs = g_array_new(FALSE, FALSE, sizeof(gint64));
  gint64 after, highest = 0;

  if (!d->changes)
    return TRUE;
  cd_pg_params_add(p, d->station);
  res = cd_pg_exec(d->self, "SELECT changes_delivered FROM stations WHERE name = $1", p, "cannot read the station",
                   error);
  if (res == NULL)
    return FALSE;
  after = PQntuples(res) > 0 ? cd_pg_int(res, 0, 0) : 0;
  {
    g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new(cd_archive_get_mutex(d->spool));
    g_autoptr(sqlite3_stmt) stmt =
        cd_archive_prepare(d->spool, "SELECT document_id, seq FROM document_changes WHERE seq > ? ORDER BY seq", error);
    gint rc;
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, after);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      gint64 id = sqlite3_column_int64(stmt, 0), seq = sqlite3_column_int64(stmt, 1);
      g_array_append_val(docs, id);
      g_array_append_val(seqs, seq);
    }
    if (rc != SQLITE_DONE) {
      cd_archive_set_error(d->spool, error, "cannot read the spool's changes");
      return FALSE;
    }
  }
  for (guint i = 0; i < docs->len; i++) {
    g_autoptr(GRecMutexLocker) locker = NULL;
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    locker = g_rec_mutex_locker_new(cd_archive_get_mutex(d->spool));
    if (g_array_index(docs, gint64, i) > 0
            ? !cd_deliver_change(d, g_array_index(docs, gint64, i), g_array_index(seqs, gint64, i), error)
            : !cd_deliver_page_change(d, -g_array_index(docs, gint64, i), g_array_index(seqs, gint64, i), error))
      return FALSE;
    g_clear_pointer(&locker, g_rec_mutex_locker_free);
    highest = g_array_index(seqs, gint64, i);
    if (d->self->progress != NULL)
      d->self->progress(d->stats, d->self->progress_data);
  }
  if (highest == 0)
    return TRUE;
  g_clear_pointer(&p, cd_pg_params_free);
  p = cd_pg_params_new();
  cd_pg_params_add(p, d->station);
  cd_pg_params_add_int(p, highest);
  return cd_pg_exec_ok(
      d->self, "UPDATE stations SET changes_delivered = greatest(changes_delivered, $2::bigint) WHERE name = $1", p,
      "cannot record a delivery", error);
}

/* One spool document, its pages and its review items, in one server
 * transaction with its delivery key. */
static gboolean
cd_deliver_document(CdDelivery *d, gint64 spool_doc, GError **error)
{
  g_autoptr(CdPgTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) doc = NULL;
  g_autoptr(sqlite3_stmt) pages = NULL;
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autoptr(GHashTable) page_map = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  g_autofree gchar *first_sha = NULL;
  g_autofree gchar *first_page = NULL;
  g_autoptr(CdArchiveTxn) snapshot = NULL;
  g_autoptr(GArray) sources = g_array_new(FALSE, FALSE, sizeof(gint64));
  gboolean fresh = FALSE;
  gint64 server_batch, document_id, revision = 0;
  guint n_pages = 0, stored = 0;
  gint rc;

  /* one snapshot of the spool; its revision read before its state, so a
   * change made meanwhile is sent as a change */
  snapshot = cd_archive_txn_begin_read(d->spool, error);
  if (snapshot == NULL || !cd_deliver_spool_revision(d, spool_doc, &revision, error))
    return FALSE;
  doc = cd_archive_prepare(d->spool,
                           "SELECT batch_id, patient_mrn, status, type, type_confidence, date, title, created "
                           "FROM documents WHERE id = ?",
                           error);
  if (doc == NULL)
    return FALSE;
  sqlite3_bind_int64(doc, 1, spool_doc);
  if (sqlite3_step(doc) != SQLITE_ROW)
    return TRUE; /* gone from the spool (merged in review) */

  txn = cd_pg_txn_begin(d->self, error);
  if (txn == NULL)
    return FALSE;
  if (!cd_deliver_key(d, "deliveries", "source_document_id", spool_doc, &fresh, error))
    return FALSE;
  if (!fresh) {
    d->stats->already++;
    return TRUE; /* rolled back */
  }
  server_batch = cd_deliver_batch(d, sqlite3_column_int64(doc, 0), error);
  if (server_batch == 0)
    return FALSE;
  cd_pg_params_add_int(p, server_batch);
  for (gint i = 1; i < 8; i++)
    cd_pg_params_add(p, cd_col(doc, i));
  res = cd_pg_exec(d->self,
                   "INSERT INTO documents (batch_id, patient_mrn, status, type, type_confidence, date, title, created) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                   p, "cannot deliver a document", error);
  if (res == NULL)
    return FALSE;
  document_id = cd_pg_int(res, 0, 0);

  pages = cd_archive_prepare(d->spool, "SELECT " SPOOL_PAGE_COLUMNS " FROM pages WHERE document_id = ? ORDER BY seq",
                             error);
  if (pages == NULL)
    return FALSE;
  sqlite3_bind_int64(pages, 1, spool_doc);
  while ((rc = sqlite3_step(pages)) == SQLITE_ROW) {
    gint64 page_id = cd_deliver_page(d, pages, server_batch, document_id, error);
    gint64 *key, *value;
    if (page_id == 0) {
      /* on the server already: in a document of this station's that a
       * split on the station took it from, it moves here */
      gint64 from = 0;
      gboolean missing = FALSE;
      page_id = cd_deliver_place_page(d, pages, document_id, &from, &missing, error);
      if (from > 0)
        g_array_append_val(sources, from);
    }
    if (page_id < 0)
      return FALSE;
    if (n_pages++ == 0) {
      first_sha = g_strdup(cd_col(pages, 7));
      first_page = g_strdup(cd_col(pages, 6));
    }
    if (page_id > 0)
      stored++;
    key = g_new(gint64, 1);
    value = g_new(gint64, 1);
    *key = sqlite3_column_int64(pages, 0);
    *value = page_id;
    g_hash_table_insert(page_map, key, value);
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(d->spool, error, "cannot read a document's pages");
    return FALSE;
  }
  if (n_pages > 0 && stored == 0) {
    /* every page is on the server already, from another station */
    g_autoptr(CdPgParams) del = cd_pg_params_new();
    gint64 existing = cd_deliver_find_page_document(d, first_sha, first_page, error);
    if (existing < 0)
      return FALSE;
    cd_pg_params_add_int(del, document_id);
    if (!cd_pg_exec_ok(d->self, "DELETE FROM documents WHERE id = $1", del, "cannot deliver a document", error) ||
        !cd_deliver_set_outcome(d, "deliveries", "source_document_id", "document_id", spool_doc, existing, "duplicate",
                                error) ||
        !cd_deliver_set_revision(d, spool_doc, revision, error) || !cd_pg_txn_commit(txn, error))
      return FALSE;
    d->stats->duplicates++;
    return TRUE;
  }
  if (!cd_deliver_review(d, "document_id", spool_doc, document_id, page_map, error) ||
      !cd_deliver_set_outcome(d, "deliveries", "source_document_id", "document_id", spool_doc, document_id,
                              stored < n_pages ? "partial" : "stored", error) ||
      !cd_deliver_set_revision(d, spool_doc, revision, error))
    return FALSE;
  for (guint i = 0; i < sources->len; i++) {
    if (!cd_deliver_drop_emptied(d, g_array_index(sources, gint64, i), document_id, error))
      return FALSE;
  }
  if (!cd_pg_txn_commit(txn, error))
    return FALSE;
  d->stats->documents++;
  d->stats->pages += stored;
  return TRUE;
}

/* A page kept out of documents (blank, separator, failed), with its
 * review items, in one transaction with its key: never lose a page. */
static gboolean
cd_deliver_set_aside(CdDelivery *d, sqlite3_stmt *row, GError **error)
{
  g_autoptr(CdPgTxn) txn = NULL;
  g_autoptr(GHashTable) page_map = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  gint64 spool_page = sqlite3_column_int64(row, 0);
  gboolean fresh = FALSE;
  gint64 server_batch, page_id, revision = 0;
  gint64 *key, *value;

  if (!cd_deliver_spool_revision(d, -spool_page, &revision, error))
    return FALSE;
  txn = cd_pg_txn_begin(d->self, error);
  if (txn == NULL)
    return FALSE;
  if (!cd_deliver_key(d, "page_deliveries", "source_page_id", spool_page, &fresh, error))
    return FALSE;
  if (!fresh)
    return TRUE; /* rolled back */
  server_batch = cd_deliver_batch(d, sqlite3_column_int64(row, 1), error);
  if (server_batch == 0)
    return FALSE;
  page_id = cd_deliver_page(d, row, server_batch, 0, error);
  if (page_id < 0)
    return FALSE;
  key = g_new(gint64, 1);
  value = g_new(gint64, 1);
  *key = spool_page;
  *value = page_id;
  g_hash_table_insert(page_map, key, value);
  if (page_id == 0) {
    if (!cd_deliver_set_outcome(d, "page_deliveries", "source_page_id", "page_id", spool_page, 0, "duplicate", error))
      return FALSE;
  } else if (!cd_deliver_review(d, "page_id", spool_page, 0, page_map, error) ||
             !cd_deliver_set_outcome(d, "page_deliveries", "source_page_id", "page_id", spool_page, page_id, "stored",
                                     error)) {
    return FALSE;
  }
  if (!cd_deliver_set_revision(d, -spool_page, revision, error) || !cd_pg_txn_commit(txn, error))
    return FALSE;
  if (page_id > 0)
    d->stats->set_aside++;
  return TRUE;
}

/* The highest spool id of @column delivered by the station. */
static gboolean
cd_deliver_high_water(CdDelivery *d, const gchar *sql, gint64 *out, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;

  cd_pg_params_add(p, d->station);
  res = cd_pg_exec(d->self, sql, p, "cannot read what was delivered", error);
  if (res == NULL)
    return FALSE;
  *out = cd_pg_int(res, 0, 0);
  return TRUE;
}

/* The spool document ids the server has from the station. */
static GHashTable *
cd_deliver_delivered(CdDelivery *d, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  GHashTable *set = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);

  cd_pg_params_add(p, d->station);
  res = cd_pg_exec(d->self, "SELECT source_document_id FROM deliveries WHERE station = $1", p,
                   "cannot read what was delivered", error);
  if (res == NULL) {
    g_hash_table_unref(set);
    return NULL;
  }
  for (gint i = 0; i < PQntuples(res); i++) {
    gint64 *id = g_new(gint64, 1);
    *id = cd_pg_int(res, i, 0);
    g_hash_table_add(set, id);
  }
  return set;
}

/* Spool ids from @sql (one integer column, bound to @after), in order. */
static GArray *
cd_deliver_list(CdDelivery *d, const gchar *sql, gint64 after, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new(cd_archive_get_mutex(d->spool));
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(d->spool, sql, error);
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  gint rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, after);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(stmt, 0);
    g_array_append_val(ids, id);
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(d->spool, error, "cannot read the spool");
    return NULL;
  }
  return g_steal_pointer(&ids);
}

/* The MPI: the spool's patients changed since the last delivery, upserted
 * by MRN, the newer `updated` winning. */
static gboolean
cd_deliver_patients(CdDelivery *d, GError **error)
{
  g_autoptr(CdPgTxn) txn = NULL;
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new(cd_archive_get_mutex(d->spool));
  g_autoptr(CdPgParams) wp = cd_pg_params_new();
  g_autoptr(PGresult) water = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *newest = NULL;
  gint rc;

  cd_pg_params_add(wp, d->station);
  water = cd_pg_exec(d->self, "SELECT coalesce(patients_updated, '') FROM stations WHERE name = $1", wp,
                     "cannot read the station", error);
  if (water == NULL)
    return FALSE;
  stmt = cd_archive_prepare(d->spool,
                            "SELECT mrn, family, given, middle, dob, sex, merged_into, source, updated FROM patients "
                            "WHERE updated >= ? ORDER BY updated",
                            error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, PQntuples(water) > 0 ? cd_pg_value(water, 0, 0) : "");
  txn = cd_pg_txn_begin(d->self, error);
  if (txn == NULL)
    return FALSE;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    g_autoptr(CdPgParams) p = cd_pg_params_new();
    for (gint i = 0; i < 9; i++)
      cd_pg_params_add(p, cd_col(stmt, i));
    g_free(newest);
    newest = g_strdup(cd_col(stmt, 8));
    if (!cd_pg_exec_ok(
            d->self,
            "INSERT INTO patients (mrn, family, given, middle, dob, sex, merged_into, source, updated) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (mrn) DO UPDATE SET "
            "family = excluded.family, given = excluded.given, middle = excluded.middle, dob = excluded.dob, "
            "sex = excluded.sex, merged_into = excluded.merged_into, source = excluded.source, "
            "updated = excluded.updated WHERE patients.updated < excluded.updated",
            p, "cannot deliver a patient", error))
      return FALSE;
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(d->spool, error, "cannot read the patient index");
    return FALSE;
  }
  if (newest != NULL) {
    g_autoptr(CdPgParams) p = cd_pg_params_new();
    cd_pg_params_add(p, d->station);
    cd_pg_params_add(p, newest);
    if (!cd_pg_exec_ok(d->self,
                       "UPDATE stations SET patients_updated = $2 WHERE name = $1 AND "
                       "(patients_updated IS NULL OR patients_updated < $2)",
                       p, "cannot record a delivery", error))
      return FALSE;
  }
  return cd_pg_txn_commit(txn, error);
}

/* Batches (their status and report change after their documents were
 * delivered) and the files whose pages are all on the server now. */
static gboolean
cd_deliver_batches_and_files(CdDelivery *d, GError **error)
{
  g_autoptr(CdPgTxn) txn = NULL;
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new(cd_archive_get_mutex(d->spool));
  g_autoptr(sqlite3_stmt) batches = NULL;
  g_autoptr(sqlite3_stmt) files = NULL;
  gint rc;

  batches = cd_archive_prepare(d->spool, "SELECT id FROM batches ORDER BY id", error);
  if (batches == NULL)
    return FALSE;
  txn = cd_pg_txn_begin(d->self, error);
  if (txn == NULL)
    return FALSE;
  g_hash_table_remove_all(d->batches); /* brought up to date once more */
  while ((rc = sqlite3_step(batches)) == SQLITE_ROW) {
    if (cd_deliver_batch(d, sqlite3_column_int64(batches, 0), error) == 0)
      return FALSE;
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(d->spool, error, "cannot read the batch journal");
    return FALSE;
  }
  files = cd_archive_prepare(d->spool,
                             "SELECT f.sha256, f.path, f.size, f.pages, f.batch_id, f.added, "
                             "(SELECT count(*) FROM pages p WHERE p.source_sha256 = f.sha256) FROM files f",
                             error);
  if (files == NULL)
    return FALSE;
  while ((rc = sqlite3_step(files)) == SQLITE_ROW) {
    g_autoptr(CdPgParams) p = cd_pg_params_new();
    gint64 batch = cd_deliver_batch(d, sqlite3_column_int64(files, 4), error);
    if (batch == 0)
      return FALSE;
    for (gint i = 0; i < 4; i++)
      cd_pg_params_add(p, cd_col(files, i));
    cd_pg_params_add_int(p, batch);
    cd_pg_params_add(p, cd_col(files, 5));
    cd_pg_params_add(p, cd_col(files, 6));
    /* listed once all its pages are on the server, as in the spool */
    if (!cd_pg_exec_ok(d->self,
                       "INSERT INTO files (sha256, path, size, pages, batch_id, added) SELECT $1, $2, $3, $4, $5, $6 "
                       "WHERE (SELECT count(*) FROM pages WHERE source_sha256 = $1) >= $7::bigint "
                       "ON CONFLICT (sha256) DO NOTHING",
                       p, "cannot deliver a file", error))
      return FALSE;
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(d->spool, error, "cannot read the files");
    return FALSE;
  }
  return cd_pg_txn_commit(txn, error);
}

/* The spool's audit entries after the last one delivered, verbatim, so
 * the station's chain still verifies on the server. */
static gboolean
cd_deliver_audit(CdDelivery *d, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new(cd_archive_get_mutex(d->spool));
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(CdPgTxn) txn = NULL;
  gint64 after = 0;
  guint in_txn = 0;
  gint rc;

  if (!cd_deliver_high_water(d, "SELECT coalesce(max(source_id), 0) FROM audit WHERE station = $1", &after, error))
    return FALSE;
  stmt = cd_archive_prepare(d->spool,
                            "SELECT id, ts, actor, action, object, detail, prev_hash, hash, scheme FROM audit "
                            "WHERE id > ? ORDER BY id",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, after);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    g_autoptr(CdPgParams) p = cd_pg_params_new();
    g_autoptr(PGresult) res = NULL;
    if (txn == NULL && (txn = cd_pg_txn_begin(d->self, error)) == NULL)
      return FALSE;
    cd_pg_params_add(p, d->station);
    for (gint i = 0; i < 9; i++)
      cd_pg_params_add(p, cd_col(stmt, i));
    res = cd_pg_exec(d->self,
                     "INSERT INTO audit (station, source_id, ts, actor, action, object, detail, prev_hash, hash, "
                     "scheme) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 "
                     "ON CONFLICT (station, source_id) DO NOTHING RETURNING 1",
                     p, "cannot deliver the audit log", error);
    if (res == NULL)
      return FALSE;
    d->stats->audit_entries += PQntuples(res);
    /* committed 500 at a time: a long log is not one transaction */
    if (++in_txn == 500) {
      if (!cd_pg_txn_commit(txn, error))
        return FALSE;
      g_clear_pointer(&txn, cd_pg_txn_free);
      in_txn = 0;
    }
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(d->spool, error, "cannot read the audit log");
    return FALSE;
  }
  return txn == NULL || cd_pg_txn_commit(txn, error);
}

/* The station's row, tied to its spool's archive id: a spool's document
 * ids are the delivery keys, so a station name delivering from another
 * spool (recreated, or another machine's) would have its new documents
 * taken for ones already delivered. That is refused by name. */
static gboolean
cd_deliver_station(CdDelivery *d, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *now = cd_now_iso8601();
  g_autofree gchar *spool_id = NULL;

  {
    g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new(cd_archive_get_mutex(d->spool));
    stmt = cd_archive_prepare(d->spool, "SELECT value FROM meta WHERE key = 'archive-id'", error);
    if (stmt == NULL)
      return FALSE;
    if (sqlite3_step(stmt) == SQLITE_ROW)
      spool_id = cd_column_dup(stmt, 0);
  }
  cd_pg_params_add(p, d->station);
  cd_pg_params_add(p, now);
  cd_pg_params_add(p, spool_id);
  res = cd_pg_exec(d->self,
                   "INSERT INTO stations (name, first_delivery, last_delivery, spool_archive_id) VALUES ($1, $2, $2, "
                   "$3) ON CONFLICT (name) DO UPDATE SET last_delivery = excluded.last_delivery, spool_archive_id = "
                   "coalesce(stations.spool_archive_id, excluded.spool_archive_id) RETURNING spool_archive_id",
                   p, "cannot record the station", error);
  if (res == NULL)
    return FALSE;
  if (spool_id != NULL && g_strcmp0(cd_pg_value(res, 0, 0), spool_id) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "%s: station '%s' delivers from another spool (archive id %s, not %s's %s): give this spool a "
                "station name of its own",
                d->self->where, d->station, cd_pg_value(res, 0, 0), cd_archive_get_path(d->spool), spool_id);
    return FALSE;
  }
  return TRUE;
}

static gboolean
cd_deliver_cancelled(GCancellable *cancellable, GError **error)
{
  return g_cancellable_set_error_if_cancelled(cancellable, error);
}

gint64
cd_pg_archive_get_changes_delivered(CdPgArchive *self, const gchar *station, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;

  g_return_val_if_fail(self != NULL, -1);
  g_return_val_if_fail(station != NULL, -1);
  g_autoptr(GRecMutexLocker) held = g_rec_mutex_locker_new(&self->mutex);
  cd_pg_params_add(p, station);
  res = cd_pg_exec(self, "SELECT changes_delivered FROM stations WHERE name = $1", p, "cannot read the station", error);
  if (res == NULL)
    return -1;
  return PQntuples(res) > 0 ? cd_pg_int(res, 0, 0) : 0;
}

gboolean
cd_pg_archive_deliver(CdPgArchive *self, CdArchive *spool, const gchar *station, CdDeliverStats *stats,
                      GCancellable *cancellable, GError **error)
{
  CdDeliverStats local = { 0 };
  g_autoptr(GHashTable) batches = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  CdDelivery d = { self, spool, station, stats != NULL ? stats : &local, batches };
  g_autoptr(GArray) docs = NULL;
  g_autoptr(GArray) set_aside = NULL;
  g_autoptr(GHashTable) delivered = NULL;
  gint64 after = 0;

  g_return_val_if_fail(self != NULL, FALSE);
  g_return_val_if_fail(CD_IS_ARCHIVE(spool), FALSE);
  g_return_val_if_fail(station != NULL && station[0] != '\0', FALSE);
  g_autoptr(GRecMutexLocker) held = g_rec_mutex_locker_new(&self->mutex);
  memset(d.stats, 0, sizeof(*d.stats));

  /* a station's service delivers as the principal it runs batches as */
  if (!cd_pg_require(self, CD_PERMISSION_RUN_BATCHES, "deliver to the archive", "archive", error) ||
      !cd_pg_audit_check_key(self, error))
    return FALSE;
  if (!cd_deliver_station(&d, error) || !cd_deliver_patients(&d, error))
    return FALSE;
  {
    g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new(cd_archive_get_mutex(spool));
    g_autoptr(sqlite3_stmt) stmt =
        cd_archive_prepare(spool, "SELECT 1 FROM sqlite_schema WHERE name = 'document_changes'", error);
    if (stmt == NULL)
      return FALSE;
    d.changes = sqlite3_step(stmt) == SQLITE_ROW;
  }

  /* documents oldest first; those the server has from this station are
   * counted as already there without a transaction each, and the keys
   * catch what a concurrent deliverer does meanwhile */
  delivered = cd_deliver_delivered(&d, error);
  if (delivered == NULL)
    return FALSE;
  docs = cd_deliver_list(&d, "SELECT id FROM documents WHERE id > ? ORDER BY id", 0, error);
  if (docs == NULL)
    return FALSE;
  for (guint i = 0; i < docs->len; i++) {
    g_autoptr(GRecMutexLocker) locker = NULL;
    if (cd_deliver_cancelled(cancellable, error))
      return FALSE;
    if (g_hash_table_contains(delivered, &g_array_index(docs, gint64, i))) {
      d.stats->already++;
      continue;
    }
    locker = g_rec_mutex_locker_new(cd_archive_get_mutex(spool));
    if (!cd_deliver_document(&d, g_array_index(docs, gint64, i), error))
      return FALSE;
    g_clear_pointer(&locker, g_rec_mutex_locker_free);
    if (self->progress != NULL)
      self->progress(d.stats, self->progress_data);
  }

  /* then the changes made to delivered documents, in the spool's order */
  if (!cd_deliver_changes(&d, cancellable, error))
    return FALSE;

  if (!cd_deliver_high_water(&d, "SELECT coalesce(max(source_page_id), 0) FROM page_deliveries WHERE station = $1",
                             &after, error))
    return FALSE;
  set_aside =
      cd_deliver_list(&d, "SELECT id FROM pages WHERE document_id IS NULL AND id > ? ORDER BY id", after, error);
  if (set_aside == NULL)
    return FALSE;
  for (guint i = 0; i < set_aside->len; i++) {
    g_autoptr(GRecMutexLocker) locker = NULL;
    g_autoptr(sqlite3_stmt) row = NULL;
    if (cd_deliver_cancelled(cancellable, error))
      return FALSE;
    locker = g_rec_mutex_locker_new(cd_archive_get_mutex(spool));
    row = cd_archive_prepare(spool, "SELECT " SPOOL_PAGE_COLUMNS " FROM pages WHERE id = ?", error);
    if (row == NULL)
      return FALSE;
    sqlite3_bind_int64(row, 1, g_array_index(set_aside, gint64, i));
    if (sqlite3_step(row) == SQLITE_ROW && !cd_deliver_set_aside(&d, row, error))
      return FALSE;
    g_clear_pointer(&locker, g_rec_mutex_locker_free);
    if (self->progress != NULL)
      self->progress(d.stats, self->progress_data);
  }

  if (cd_deliver_cancelled(cancellable, error))
    return FALSE;
  if (!cd_deliver_batches_and_files(&d, error) || !cd_deliver_audit(&d, error))
    return FALSE;
  /* recorded on the server when it stored anything */
  if (d.stats->documents + d.stats->duplicates + d.stats->set_aside + d.stats->changes > 0) {
    g_autoptr(JsonObject) obj = json_object_new();
    g_autoptr(JsonNode) detail = NULL;
    g_autofree gchar *object = g_strdup_printf("station:%s", station);
    json_object_set_int_member(obj, "documents", (gint64) d.stats->documents);
    json_object_set_int_member(obj, "pages", (gint64) d.stats->pages);
    json_object_set_int_member(obj, "duplicates", (gint64) d.stats->duplicates);
    json_object_set_int_member(obj, "set_aside", (gint64) d.stats->set_aside);
    json_object_set_int_member(obj, "audit_entries", (gint64) d.stats->audit_entries);
    json_object_set_int_member(obj, "changes", (gint64) d.stats->changes);
    json_object_set_string_member(obj, "spool", cd_archive_get_path(spool));
    detail = json_node_init_object(json_node_alloc(), g_steal_pointer(&obj));
    if (!cd_pg_audit(self, "deliver", object, detail, error))
      return FALSE;
  }
  g_debug("%s: %s delivered %" G_GUINT64_FORMAT " documents (%" G_GUINT64_FORMAT " already, %" G_GUINT64_FORMAT
          " duplicates), %" G_GUINT64_FORMAT " pages set aside, %" G_GUINT64_FORMAT " audit entries",
          self->where, station, d.stats->documents, d.stats->already, d.stats->duplicates, d.stats->set_aside,
          d.stats->audit_entries);
  return TRUE;
}
