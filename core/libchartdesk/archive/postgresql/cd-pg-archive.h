/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The hospital's archive on a PostgreSQL server (issue 18, part 2).
 *
 * Stations keep capturing into their own SQLite archive, which is their
 * spool: a batch never waits for the network. Each committed document is
 * then delivered to the server in one server transaction together with its
 * delivery key (station, the spool's document id), so a delivery that is
 * interrupted, retried or run by two processes at once stores every
 * document exactly once. Readers (search, documents, page images) read
 * the server. See docs/decisions.md, "One archive for many stations".
 */
#pragma once

#include "cd-archive-engine.h"
#include "cd-archive-retention.h"

G_BEGIN_DECLS

/* One connection to the server. Calls from several threads are taken one
 * at a time; open one per thread for calls in parallel. */
typedef struct _CdPgArchive CdPgArchive;

/**
 * cd_archive_location_is_server:
 * @location: an archive path or URI
 *
 * Returns: %TRUE when @location names a PostgreSQL archive
 *   (`postgresql://…` or `postgres://…`)
 */
gboolean cd_archive_location_is_server(const gchar *location);

/**
 * cd_pg_archive_open:
 * @conninfo: a libpq connection URI, `postgresql://…`
 * @flags: %CD_ARCHIVE_FLAG_CREATE creates (or migrates) the schema
 *
 * Connects and checks the schema version. Errors name the server and
 * what failed (connection refused, authentication, schema too new).
 */
CdPgArchive *cd_pg_archive_open(const gchar *conninfo, CdArchiveFlags flags, GError **error);
void cd_pg_archive_free(CdPgArchive *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdPgArchive, cd_pg_archive_free)

/* who reads: every read of patient data is audited on the server as them */
void cd_pg_archive_set_principal(CdPgArchive *self, CdPrincipal *principal);
/* why they read (a request number), in the audit entries of their reads */
void cd_pg_archive_set_purpose(CdPgArchive *self, const gchar *purpose);

/**
 * CdDeliverStats:
 * @documents: documents stored on the server by this call
 * @pages: their pages
 * @already: documents the server already had from this station (a retry)
 * @duplicates: documents whose pages another station had already
 *   delivered (same source file hash and page): recorded, not stored twice
 * @audit_entries: spool audit entries delivered
 * @set_aside: pages kept out of documents (blank, separator, failed)
 *   stored on the server by this call
 * @changes: delivered documents brought to the spool's state by this call
 *   (a review decision, split, merge, type or patient changed after
 *   delivery), one server transaction each
 */
typedef struct {
  guint64 documents;
  guint64 pages;
  guint64 already;
  guint64 duplicates;
  guint64 audit_entries;
  guint64 set_aside;
  guint64 changes;
} CdDeliverStats;

/**
 * cd_pg_archive_deliver:
 * @self: the server
 * @spool: the station's SQLite archive
 * @station: the station's name, unique in the hospital
 * @stats: (out) (optional): what was delivered
 *
 * Delivers every document of @spool the server does not have from
 * @station yet, oldest first, one server transaction each. Safe to call
 * again at any time; stops at the first error (the server went away)
 * leaving what was delivered delivered.
 */
gboolean cd_pg_archive_deliver(CdPgArchive *self, CdArchive *spool, const gchar *station, CdDeliverStats *stats,
                               GCancellable *cancellable, GError **error);

/**
 * cd_pg_archive_get_changes_delivered:
 * @station: a station's name
 *
 * The spool change number (`document_changes.seq`) up to which every
 * change of @station's spool is on the server: the spool's changes past
 * it are pending (cd_archive_count_changes_after()). A number, nothing
 * about patients: no permission needed, not audited.
 *
 * Returns: the number (0 for a station that never delivered), -1 with
 *   @error set
 */
gint64 cd_pg_archive_get_changes_delivered(CdPgArchive *self, const gchar *station, GError **error);

/* the same result as cd_archive_search_ex() on SQLite, from the server */
CdSearchResult *cd_pg_archive_search(CdPgArchive *self, const CdSearchQuery *query, GError **error);
JsonNode *cd_pg_archive_get_document(CdPgArchive *self, gint64 id, GError **error);
GBytes *cd_pg_archive_get_page_image(CdPgArchive *self, gint64 page_id, gchar **format, GError **error);

/**
 * cd_pg_archive_copy_to_sqlite:
 * @path: a SQLite archive that does not exist yet
 *
 * Copies the server's archive into a new SQLite archive, then verifies it
 * (row counts, image hashes, page text hashes). Resumable: a copy that
 * stopped is continued from where it stopped.
 */
gboolean cd_pg_archive_copy_to_sqlite(CdPgArchive *self, const gchar *path, GCancellable *cancellable, GError **error);

/* counts and content hashes for `archive copy`'s verification */
JsonNode *cd_pg_archive_summary(CdPgArchive *self, GError **error);

/* Added with the implementation (issue 18, part 2) */

/**
 * CD_PG_ARCHIVE_SCHEMA_VERSION:
 *
 * The server schema this library writes, kept in the server's `meta`
 * table as `schema_version`. It mirrors the SQLite archive's schema
 * (CD_ARCHIVE_SCHEMA_VERSION 8) plus the stations and their deliveries;
 * version 2 adds the revisions of delivered documents (changes after
 * delivery); version 6 puts the pages' type in the optional RUM index
 * (`pages_rum_filters`, cd-pg-search.c); version 7 puts each page's id
 * range and type in its GIN index beside the words (`pages_tsv_keys`).
 */
#define CD_PG_ARCHIVE_SCHEMA_VERSION 7

/* Legal holds on the server (cd-pg-retention.c, schema 5): patient and
 * document holds, as cd_archive_place_hold() and its kin; a station's
 * delivered destruction of a document they cover is not carried out on
 * the server. */
gint64 cd_pg_archive_place_hold(CdPgArchive *self, CdHoldKind kind, const gchar *mrn, gint64 document_id,
                                const gchar *reason, const gchar *matter, GError **error);
gboolean cd_pg_archive_release_hold(CdPgArchive *self, gint64 hold_id, const gchar *reason, GError **error);
JsonNode *cd_pg_archive_list_holds(CdPgArchive *self, const gchar *mrn, gint64 document_id, gboolean include_released,
                                   GError **error);

/* The plans of the statements cd_pg_archive_search() runs for @query
 * (it runs them: checked and audited as a search), each ended by a `--`
 * line; *@plan: the search's plan (`rum-rank`, `recent-window`,
 * `text-first`, `filters`). For tests and `EXPLAIN`-minded
 * administrators. */
gchar *cd_pg_archive_explain_search(CdPgArchive *self, const CdSearchQuery *query, gchar **plan, GError **error);
/* whether the server has the pages' RUM index and ranks from it */
gboolean cd_pg_archive_has_rum(CdPgArchive *self);

/* the server's schema version, as read at open */
gint cd_pg_archive_get_schema_version(CdPgArchive *self);

/* Replaces the restricted types read from the taxonomy at open (the
 * names and former names a principal without the `restricted`
 * permission may not see), as cd_archive_set_restricted_types(). */
void cd_pg_archive_set_restricted_types(CdPgArchive *self, const gchar *const *types);

/**
 * CdDeliverProgress:
 * @stats: what this call has delivered so far
 * @user_data: the data given with the function
 *
 * Called after each document (and each page set aside) is committed on
 * the server, from the delivering thread; cancel the delivery's
 * #GCancellable here to stop after the current one.
 */
typedef void (*CdDeliverProgress)(const CdDeliverStats *stats, gpointer user_data);
void cd_pg_archive_set_deliver_progress(CdPgArchive *self, CdDeliverProgress progress, gpointer user_data);

/**
 * CdCopyProgress:
 * @table: the table being copied
 * @rows: its rows copied so far by this call
 * @user_data: the data given with the function
 *
 * Called by cd_pg_archive_copy_to_sqlite() after each chunk of rows is
 * committed in the copy; cancel the copy's #GCancellable here to stop it
 * (a later call resumes where it stopped).
 */
typedef void (*CdCopyProgress)(const gchar *table, guint64 rows, gpointer user_data);
void cd_pg_archive_set_copy_progress(CdPgArchive *self, CdCopyProgress progress, gpointer user_data);

/* counts and content hashes of a SQLite archive, in the shape of
 * cd_pg_archive_summary(), to compare the two sides of a copy */
JsonNode *cd_pg_archive_sqlite_summary(CdArchive *archive, GError **error);

/* whether two summaries agree; @error names the first difference */
gboolean cd_pg_archive_summary_equal(JsonNode *a, JsonNode *b, GError **error);

/* The server's audit chain, keyed; its verification and the auditor's
 * listing (cd-pg-audit.c; issue 18, part 2: "The server's audit chain") */
gboolean cd_pg_archive_set_audit_key(CdPgArchive *self, GBytes *key, GError **error);
gboolean cd_pg_archive_set_audit_key_file(CdPgArchive *self, const gchar *path, GError **error);
gboolean cd_pg_archive_set_station_audit_key(CdPgArchive *self, const gchar *station, GBytes *key, GError **error);
JsonNode *cd_pg_archive_verify_audit_report(CdPgArchive *self, GError **error);
gboolean cd_pg_archive_verify_audit(CdPgArchive *self, gint64 *bad_entry, GError **error);
JsonNode *cd_pg_archive_list_audit(CdPgArchive *self, const gchar *user, const gchar *mrn, const gchar *from,
                                   const gchar *to, guint limit, guint offset, gint64 *total, GError **error);
gchar *cd_pg_archive_explain_list_audit(CdPgArchive *self, const gchar *user, const gchar *mrn, const gchar *from,
                                        const gchar *to, GError **error);
gboolean cd_pg_archive_export_audit(CdPgArchive *self, const gchar *user, const gchar *mrn, const gchar *from,
                                    const gchar *to, const gchar *format, GOutputStream *out, guint64 *n_entries,
                                    GCancellable *cancellable, GError **error);
/* What the web workstation reads on the server (cd-pg-read.c; issue 18,
 * part 2), each in the shape of its SQLite namesake, authorised and
 * audited on the server as the principal. */
gboolean cd_pg_archive_audit(CdPgArchive *self, const gchar *actor, const gchar *action, const gchar *object,
                             JsonNode *detail, GError **error);
gboolean cd_pg_archive_require(CdPgArchive *self, CdPermission permission, const gchar *what, const gchar *object,
                               GError **error);
gboolean cd_pg_archive_type_is_restricted(CdPgArchive *self, const gchar *type);
/* whether the connection is up; making it again once it was lost */
gboolean cd_pg_archive_is_connected(CdPgArchive *self);
gboolean cd_pg_archive_reconnect(CdPgArchive *self);
/* the server as messages name it (host or socket, and database; no password) */
const gchar *cd_pg_archive_get_location(CdPgArchive *self);
JsonNode *cd_pg_archive_find_patients_json(CdPgArchive *self, const gchar *q, guint limit, GError **error);
JsonNode *cd_pg_archive_get_chart(CdPgArchive *self, const gchar *mrn, GError **error);
JsonNode *cd_pg_archive_get_page(CdPgArchive *self, gint64 page_id, GError **error);

G_END_DECLS
