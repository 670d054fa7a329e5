/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the PostgreSQL archive's files (cd-pg-*.c) only.
 */
#pragma once

#include <libpq-fe.h>

#include "cd-archive-private.h"
#include "cd-pg-archive.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGresult, PQclear)

struct _CdPgArchive {
  GRecMutex mutex; /* one connection: one call at a time (chartdeskd's threads share it) */
  PGconn *conn;
  gchar *where; /* the server as messages name it: host/socket and database, no password */
  gint schema_version;
  gboolean page_filters;  /* pages.doc_type/doc_date kept by triggers (cd_pg_search_prepare()) */
  gboolean rum;           /* the pages' RUM index (postgresql-15-rum) is there to rank from */
  gboolean page_keys;     /* the pages' GIN index holds their id ranges and types (schema 7) */
  GString *search_plans;  /* cd_pg_archive_explain_search(): the plans of the search's statements */
  CdPrincipal *principal; /* never NULL: the administrator's direct mode by default */
  gchar *purpose;         /* why, for the audit log (a request number); NULL for none */
  gchar **restricted;     /* restricted type names (and former names); NULL for none */
  CdDeliverProgress progress;
  gpointer progress_data;
  CdCopyProgress copy_progress;
  gpointer copy_progress_data;
  GBytes *audit_key;        /* the server chain's key (cd-pg-audit.c); NULL: none given */
  gchar *audit_key_id;      /* its fingerprint */
  GHashTable *station_keys; /* station name → GBytes, for verification */
};

/* Parameters of one statement, all passed as text (binary where a length is given). */
typedef struct {
  GPtrArray *values; /* gchar*, owned; NULL for SQL NULL */
  GArray *lengths;   /* gint */
  GArray *formats;   /* gint: 0 text, 1 binary */
} CdPgParams;

CdPgParams *cd_pg_params_new(void);
void cd_pg_params_free(CdPgParams *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdPgParams, cd_pg_params_free)
/* adds a text parameter (NULL: SQL NULL); returns its number, for "$N" */
guint cd_pg_params_add(CdPgParams *p, const gchar *value);
guint cd_pg_params_add_int(CdPgParams *p, gint64 value);
guint cd_pg_params_add_binary(CdPgParams *p, gconstpointer data, gsize len);
/* a text[] literal of @values */
gchar *cd_pg_array_literal(const gchar *const *values);

/* runs @sql; NULL with @error set (naming the server and @what) unless it
 * returned tuples or completed */
PGresult *cd_pg_exec(CdPgArchive *self, const gchar *sql, CdPgParams *params, const gchar *what, GError **error);
gboolean cd_pg_exec_ok(CdPgArchive *self, const gchar *sql, CdPgParams *params, const gchar *what, GError **error);
gboolean cd_pg_begin(CdPgArchive *self, GError **error);
gboolean cd_pg_commit(CdPgArchive *self, GError **error);
void cd_pg_rollback(CdPgArchive *self);
/* A transaction rolled back when it goes out of scope uncommitted (as
 * CdArchiveTxn for SQLite). */
typedef struct {
  CdPgArchive *self;
  gboolean done;
} CdPgTxn;
CdPgTxn *cd_pg_txn_begin(CdPgArchive *self, GError **error);
gboolean cd_pg_txn_commit(CdPgTxn *txn, GError **error);
void cd_pg_txn_free(CdPgTxn *txn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdPgTxn, cd_pg_txn_free)

/* a value, NULL for SQL NULL */
const gchar *cd_pg_value(PGresult *res, gint row, gint col);
gint64 cd_pg_int(PGresult *res, gint row, gint col);
void cd_pg_add_int_or_null(JsonBuilder *b, const gchar *member, const gchar *value);
void cd_pg_add_double_or_null(JsonBuilder *b, const gchar *member, const gchar *value);

/* appends an entry to the server's own audit chain, as the principal,
 * inside the caller's transaction or in one of its own */
/* Makes (with @create) or finds the pages' copies of their document's type
 * and date that filtered searches use; see cd-pg-search.c. */
gboolean cd_pg_search_prepare(CdPgArchive *self, gboolean create, GError **error);
gboolean cd_pg_audit(CdPgArchive *self, const gchar *action, const gchar *object, JsonNode *detail, GError **error);
/* cd-pg-audit.c: the key of CHARTDESK_SERVER_AUDIT_KEY at open; freed with the archive */
gboolean cd_pg_audit_init(CdPgArchive *self, GError **error);
void cd_pg_audit_clear(CdPgArchive *self);
/* whether this process can write the server's chain (its key, or none
 * while the chain is unkeyed), checked before work that ends with an entry */
gboolean cd_pg_audit_check_key(CdPgArchive *self, GError **error);
const gchar *cd_pg_actor(CdPgArchive *self);
gboolean cd_pg_require(CdPgArchive *self, CdPermission permission, const gchar *what, const gchar *object,
                       GError **error);
/* the restricted types hidden from the principal, as a text[] literal; NULL when none is */
gchar *cd_pg_hidden_types(CdPgArchive *self);
/* read-charts (or review while it waits there) for document @id; a type
 * hidden from the principal is not found, the refusal audited (cd-pg-search.c) */
gboolean cd_pg_require_document(CdPgArchive *self, gint64 id, const gchar *what, GError **error);

/* cd-pg-retention.c: the active holds covering a server document (filed
 * under @mrn), cd_pg_archive_list_holds()'s columns; and the document
 * JSON's `holds` and `destroyed` */
PGresult *cd_pg_holds_covering(CdPgArchive *self, gint64 document_id, const gchar *mrn, GError **error);
gboolean cd_pg_retention_document_json(CdPgArchive *self, JsonBuilder *b, gint64 id, const gchar *mrn, GError **error);

G_END_DECLS
