/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by cd-archive*.c only: the files allowed to speak SQL.
 */
#pragma once

#include <sqlite3.h>

#include "cd-archive-engine.h"
#include "cd-archive-retention.h"
#include "cd-principal.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

typedef struct _CdArchiveTxn CdArchiveTxn;

CdArchiveTxn *cd_archive_txn_begin(CdArchive *self, GError **error);
CdArchiveTxn *cd_archive_txn_begin_read(CdArchive *self, GError **error);
gboolean cd_archive_txn_commit(CdArchiveTxn *txn, GError **error);
void cd_archive_txn_free(CdArchiveTxn *txn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdArchiveTxn, cd_archive_txn_free)

gboolean cd_archive_exec(CdArchive *self, const gchar *sql, GError **error);
sqlite3_stmt *cd_archive_prepare(CdArchive *self, const gchar *sql, GError **error);
gboolean cd_archive_step_done(CdArchive *self, sqlite3_stmt *stmt, GError **error);
gboolean cd_archive_audit_locked(CdArchive *self, const gchar *action, const gchar *object, JsonNode *detail,
                                 GError **error);
gchar *cd_query_plain_to_fts(const gchar *text);
GPtrArray *cd_archive_search_statements(CdArchive *self, const CdSearchQuery *query, const gchar **plan,
                                        GError **error);
gboolean cd_query_text_to_match(const gchar *text, gboolean plain, gchar **match, GError **error);
/* search facets, for both archive backends (cd-archive-search.c) */
void cd_search_facet_add(GHashTable *table, const gchar *value, guint64 count);
GPtrArray *cd_search_facets_by_count(GHashTable *table);
GPtrArray *cd_search_facets_by_year(GHashTable *table);
/* a set of page ids in memory, and cd_page_in_set() (cd-archive-pageset.c) */
typedef struct _CdPageSet CdPageSet;
CdPageSet *cd_page_set_new(gint64 max_id);
void cd_page_set_free(CdPageSet *set);
void cd_page_set_add(CdPageSet *set, gint64 id);
void cd_page_set_add_range(CdPageSet *set, gint64 first, gint64 last);
gboolean cd_page_set_contains(const CdPageSet *set, gint64 id);
gint64 cd_page_set_count(const CdPageSet *set);
void cd_page_set_set_key(CdPageSet *set, const gchar *type, const gchar *year);
gboolean cd_page_set_is_keyed(const CdPageSet *set);
gboolean cd_page_set_lookup(CdPageSet *set, gint64 id, const gchar **type, const gchar **year);
gboolean cd_page_set_register(sqlite3 *db);
gint cd_page_set_bind(sqlite3_stmt *stmt, gint idx, CdPageSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdPageSet, cd_page_set_free)
/* the archive's file layer (cd-archive-vfs.c) */
typedef void (*CdVfsReadFunc)(gint bytes, gpointer data);
const gchar *cd_archive_vfs_mapped(void);
const gchar *cd_archive_vfs_counting(void);
gboolean cd_archive_vfs_count_reads(sqlite3 *db, gboolean wal, CdVfsReadFunc func, gpointer data);
gboolean cd_archive_vfs_map_whole(sqlite3 *db);
guint64 cd_archive_vfs_mapped_reads(sqlite3 *db);
GRecMutex *cd_archive_get_mutex(CdArchive *self);
sqlite3 *cd_archive_get_db(CdArchive *self);
const gchar *cd_archive_get_purpose(CdArchive *self);

/* the audit log's keyed chain and anchor (cd-archive-audit.c) */
typedef struct _CdAuditState CdAuditState;
void cd_audit_state_free(CdAuditState *state);
CdAuditState **cd_archive_get_audit_state(CdArchive *self);
void cd_archive_audit_committed(CdArchive *self);
void cd_archive_audit_rolled_back(CdArchive *self);
gboolean cd_archive_audit_anchor_batch(CdArchive *self, gint64 batch_id, GError **error);
/* the MACs and hashes of a chain, also for the PostgreSQL archive's chains (cd-pg-audit.c) */
gchar *cd_audit_entry_mac(GBytes *key, const gchar *archive_id, gint64 id, const gchar *prev, const gchar *ts,
                          const gchar *actor, const gchar *action, const gchar *object, const gchar *detail);
gchar *cd_audit_anchor_mac(GBytes *key, const gchar *archive_id, gint64 id, const gchar *mac);
gchar *cd_audit_legacy_hash(const gchar *prev, const gchar *ts, const gchar *actor, const gchar *action,
                            const gchar *object, const gchar *detail);
gchar *cd_audit_key_fingerprint(GBytes *key);
/* @text's first @len bytes (all when -1) as a LIKE pattern for what starts
 * with them, the wildcards and '\\' escaped (cd-archive-web.c; the
 * PostgreSQL archive's patient finder too) */
void cd_archive_like_prefix(GString *out, const gchar *text, gssize len);
/* an audit anchor: the newest entry's id and MAC under a MAC of its own */
typedef struct {
  gchar *archive_id;
  gint64 entry;
  gchar *mac;
  gchar *anchor_mac;
} CdAuditAnchor;
void cd_audit_anchor_free(CdAuditAnchor *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdAuditAnchor, cd_audit_anchor_free)
CdAuditAnchor *cd_audit_anchor_parse(const gchar *text);
gboolean cd_audit_anchor_is_ours(CdAuditAnchor *a, GBytes *key, const gchar *archive_id);
gchar *cd_audit_anchor_to_json(GBytes *key, const gchar *archive_id, gint64 entry, const gchar *mac);

/* CdSqliteArchive's implementations of the SDK's CdArchive methods, in
 * cd-archive-mpi.c and cd-archive-model.c */
CdPatient *cd_sqlite_archive_lookup_patient(CdArchive *self, const gchar *mrn, GError **error);
CdPatient *cd_sqlite_archive_resolve_patient(CdArchive *self, const gchar *mrn, GError **error);
GPtrArray *cd_sqlite_archive_find_patients(CdArchive *self, const gchar *family, const gchar *given, const gchar *dob,
                                           GError **error);
GBytes *cd_sqlite_archive_load_model(CdArchive *self, const gchar *name, gint version, gint *loaded_version,
                                     GError **error);

/* Shared by the parts of CdSqliteArchive (cd-sqlite-archive.c: the
 * connection; cd-archive-ingest.c, -search.c, -records.c, -check.c, ...) */
void cd_archive_set_error(CdArchive *self, GError **error, const gchar *what);
gboolean cd_archive_require_writer(CdArchive *self, GError **error);
JsonNode *cd_archive_document_json(CdArchive *self, gint64 id, gboolean with_words, GError **error);
/* the document's legal holds and, once destroyed, its tombstone (cd-archive-retention.c) */
gboolean cd_archive_retention_document_json(CdArchive *self, JsonBuilder *b, gint64 id, GError **error);

/* Columns every page query selects, in this order, for cd_archive_page_json() in cd-archive-records.c. */
#define PAGE_COLUMNS                                                                                                   \
  "p.id, p.document_id, p.seq, p.kind, p.reason, p.source_path, p.source_page, p.source_sha256, p.xres, p.yres, "      \
  "p.image_sha256, p.rotation, p.skew, p.text, p.words, p.confidence, p.problems, p.facts, p.batch_id, "               \
  "i.format, i.width, i.height"
#define PAGE_FROM " FROM pages p LEFT JOIN images i ON i.sha256 = p.image_sha256 "
/* cd_archive_find_patients_json()'s statement, here for the test that
 * checks its plan: ?1 what was typed, ?2 it as a LIKE prefix, ?3 hidden
 * types (JSON), ?4 the limit, ?5 the family name before a comma as a
 * prefix (or NULL), ?6 the first word as a prefix. The candidates come
 * from the patients indexes alone, the documents are counted for the
 * patients returned only. A LIKE takes the index only with a text
 * pattern: ?5 NULL (no comma) must skip its branch, not scan every
 * patient's name for it. */
#define CD_FIND_PATIENTS_SQL                                                                                           \
  "SELECT found.mrn, found.family, found.given, found.dob, found.sex, found.merged_into, "                             \
  "(SELECT count(*) FROM documents d WHERE d.patient_mrn = found.mrn AND (?3 IS NULL OR d.type IS NULL OR "            \
  "d.type NOT IN (SELECT value FROM json_each(?3)))) "                                                                 \
  "FROM (SELECT * FROM patients p WHERE p.id IN ("                                                                     \
  "SELECT id FROM patients WHERE mrn = ?1 COLLATE NOCASE "                                                             \
  "UNION ALL SELECT id FROM patients WHERE dob = ?1 "                                                                  \
  "UNION ALL SELECT id FROM patients WHERE family LIKE ?2 ESCAPE '\\' "                                                \
  "UNION ALL SELECT id FROM patients WHERE ?5 IS NOT NULL AND family LIKE ?5 ESCAPE '\\' "                           \
  "UNION ALL SELECT id FROM patients WHERE given LIKE ?6 ESCAPE '\\') "                                                \
  "AND (p.mrn = ?1 COLLATE NOCASE OR p.dob = ?1 "                                                                      \
  "OR p.family LIKE ?2 ESCAPE '\\' OR (p.family || ', ' || coalesce(p.given, '')) LIKE ?2 ESCAPE '\\' "                \
  "OR (coalesce(p.given, '') || ' ' || p.family) LIKE ?2 ESCAPE '\\') "                                                \
  "ORDER BY p.mrn <> ?1 COLLATE NOCASE, p.family, p.given, p.dob, p.mrn LIMIT ?4) found "                              \
  "ORDER BY found.mrn <> ?1 COLLATE NOCASE, found.family, found.given, found.dob, found.mrn"
/* Who acts on the archive and what they may not see (cd-archive-access.c);
 * one per CdSqliteArchive. */
typedef struct {
  CdPrincipal *principal; /* never NULL: the administrator's direct-file mode by default */
  GSList *pushed;         /* principals saved by cd_archive_push_actor(), newest first */
  gchar *restricted_json; /* JSON array of restricted type names (and former names), NULL if none */
} CdArchiveAccess;

CdArchiveAccess *cd_archive_get_access(CdArchive *self);
void cd_archive_access_init(CdArchiveAccess *access);
void cd_archive_access_clear(CdArchiveAccess *access);
void cd_archive_access_push(CdArchive *self);
void cd_archive_access_pop(CdArchive *self);
gboolean cd_archive_access_load_restricted(CdArchive *self, GError **error);
gboolean cd_archive_require(CdArchive *self, CdPermission permission, const gchar *what, const gchar *object,
                            GError **error);
gboolean cd_archive_require_document(CdArchive *self, gint64 document_id, const gchar *what, GError **error);
gboolean cd_archive_require_page(CdArchive *self, gint64 page_id, const gchar *what, GError **error);
gboolean cd_archive_require_visible(CdArchive *self, gint64 document_id, GError **error);
const gchar *cd_archive_hidden_types(CdArchive *self);

/* NULL binds SQL NULL; the text is copied, so a temporary may be bound */
static inline void
cd_bind_text(sqlite3_stmt *stmt, gint idx, const gchar *text)
{
  if (text == NULL)
    sqlite3_bind_null(stmt, idx);
  else
    sqlite3_bind_text(stmt, idx, text, -1, SQLITE_TRANSIENT);
}

/* a text column, borrowed until the next step; NULL for SQL NULL */
static inline const gchar *
cd_column_text(sqlite3_stmt *stmt, gint idx)
{
  return (const gchar *) sqlite3_column_text(stmt, idx);
}

/* a text column as a new string, NULL for SQL NULL */
static inline gchar *
cd_column_dup(sqlite3_stmt *stmt, gint idx)
{
  return g_strdup((const gchar *) sqlite3_column_text(stmt, idx));
}

G_END_DECLS
