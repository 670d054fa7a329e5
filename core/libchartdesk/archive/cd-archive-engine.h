/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

/* The archive's full API, for the engine, the command line and the
 * service; plugins see only <chartdesk.h>'s CdArchive. */
#include <chartdesk.h>
#include <json-glib/json-glib.h>

#include "cd-batch.h"
#include "cd-principal.h"
#include "cd-archive-roi.h"

G_BEGIN_DECLS

/**
 * CdArchiveFlags:
 * @CD_ARCHIVE_FLAG_NONE: open an existing archive to read it (searches,
 *   views and exports still append to its audit log)
 * @CD_ARCHIVE_FLAG_WRITER: become the archive's one batch writer; a second
 *   writer is refused with %CD_ERROR_BUSY
 * @CD_ARCHIVE_FLAG_CREATE: create the archive if it does not exist
 *
 * Since: 0.1
 */
typedef enum {
  CD_ARCHIVE_FLAG_NONE = 0,
  CD_ARCHIVE_FLAG_WRITER = 1 << 0,
  CD_ARCHIVE_FLAG_CREATE = 1 << 1,
} CdArchiveFlags;

/**
 * CD_ARCHIVE_SCHEMA_VERSION:
 *
 * The schema version this library writes, kept in `PRAGMA user_version`.
 *
 * Since: 0.1
 */
#define CD_ARCHIVE_SCHEMA_VERSION 13

/* The archive in one SQLite file: the embedded store. */
#define CD_TYPE_SQLITE_ARCHIVE (cd_sqlite_archive_get_type())
G_DECLARE_FINAL_TYPE(CdSqliteArchive, cd_sqlite_archive, CD, SQLITE_ARCHIVE, CdArchive)

/**
 * CdSearchQuery:
 * @text: (nullable): words, or an FTS5 query; %NULL to search by filters only
 * @plain: treat @text as plain words even if it looks like FTS5 syntax
 * @mrn: (nullable): only documents filed to this patient
 * @doc_type: (nullable): only documents of this type
 * @date_from: (nullable): only documents dated on or after, `YYYY-MM-DD`
 * @date_to: (nullable): only documents dated on or before, `YYYY-MM-DD`
 * @limit: the most hits to return
 * @offset: hits to skip, for paging
 * @doc_types: (nullable) (array zero-terminated=1): only documents of one
 *   of these types (a type's current and former names, as
 *   cd_taxonomy_resolve_search() gives them); when set, @doc_type only
 *   names what was asked for in the audit log
 * @status: (nullable): only documents of this status, `filed` or `review`
 *   (since 0.2)
 *
 * Since: 0.1
 */
typedef struct {
  const gchar *text;
  gboolean plain;
  const gchar *mrn;
  const gchar *doc_type;
  const gchar *date_from;
  const gchar *date_to;
  guint limit;
  guint offset;
  const gchar *const *doc_types;
  const gchar *status;
} CdSearchQuery;

/**
 * CdSearchSpan:
 * @start: byte offset of a matched word in the hit's @snippet_text
 * @length: its length in bytes
 *
 * Since: 0.2
 */
typedef struct {
  guint start;
  guint length;
} CdSearchSpan;

/**
 * CdSearchHit:
 * @page_id: the page that matched
 * @document_id: its document, 0 when the page is kept out of documents
 * @patient_mrn: (nullable): the document's patient
 * @doc_type: (nullable): the document's type
 * @date: (nullable): the document's date
 * @status: `filed` or `review`
 * @source_path: the page's source file
 * @source_page: its 0-based index there
 * @score: relevance, higher is better
 * @snippet: (nullable): matching text with hits in `[` `]`
 * @seq: the page's 0-based position in its document, -1 outside documents
 *   (since 0.2)
 * @patient_name: (nullable): the patient as `FAMILY, Given`, when the
 *   patient index knows the MRN (since 0.2)
 * @title: (nullable): the document's title (since 0.2)
 * @snippet_text: (nullable): the snippet as plain text, no markers
 *   (since 0.2)
 * @spans: (nullable) (element-type CdSearchSpan): where the matched words
 *   are in @snippet_text, in order, not overlapping (since 0.2)
 *
 * Since: 0.1
 */
typedef struct {
  gint64 page_id;
  gint64 document_id;
  gchar *patient_mrn;
  gchar *doc_type;
  gchar *date;
  gchar *status;
  gchar *source_path;
  gint source_page;
  gdouble score;
  gchar *snippet;
  gint seq;
  gchar *patient_name;
  gchar *title;
  gchar *snippet_text;
  GArray *spans;
} CdSearchHit;

/**
 * CdSearchOrder:
 * @CD_SEARCH_ORDER_RANK: best matches first (BM25) over every match
 * @CD_SEARCH_ORDER_DATE: newest documents first (a search without words)
 * @CD_SEARCH_ORDER_RECENT_RANK: a broad search: the most recently archived
 *   #CdSearchResult.window matches, best first, then the older matches
 *   newest first, unranked
 *
 * How a result's hits are ordered; see cd_archive_search_ex().
 *
 * Since: 0.2
 */
typedef enum {
  CD_SEARCH_ORDER_RANK,
  CD_SEARCH_ORDER_DATE,
  CD_SEARCH_ORDER_RECENT_RANK,
} CdSearchOrder;

/**
 * CdSearchFacet:
 * @value: a document type's name, or a year `YYYY`
 * @count: how many of the counted hits have it
 *
 * Since: 0.2
 */
typedef struct {
  gchar *value;
  guint64 count;
} CdSearchFacet;

/**
 * CdSearchResult:
 * @hits: (element-type CdSearchHit): the page of hits asked for
 * @total: how many hits the search has in all; exact unless
 *   @total_is_estimate
 * @total_is_estimate: %TRUE when counting every match would cost seconds:
 *   @total is then a lower bound (there are at least that many)
 * @type_facets: (element-type CdSearchFacet): hits per document type,
 *   most first; pages outside documents and documents without a type are
 *   not in any
 * @year_facets: (element-type CdSearchFacet): hits per year of the
 *   document's date, newest year first; undated ones are not in any
 * @facets_partial: %TRUE when the facets count only some of the matches:
 *   the #CD_SEARCH_COUNT_LIMIT most recently archived
 * @terms: (array zero-terminated=1): the query's words, lower case, to
 *   highlight (operators and syntax left out)
 * @order: how @hits are ordered
 * @window: for %CD_SEARCH_ORDER_RECENT_RANK, how many recent matches are
 *   ranked; 0 otherwise
 * @plan: which plan ran, for benchmarks and logs: `filters`, `text-first`,
 *   `filter-first`, `recent-window`
 *
 * Since: 0.2
 */
typedef struct {
  GPtrArray *hits;
  guint64 total;
  gboolean total_is_estimate;
  GPtrArray *type_facets;
  GPtrArray *year_facets;
  gboolean facets_partial;
  gchar **terms;
  CdSearchOrder order;
  guint window;
  const gchar *plan;
} CdSearchResult;

/**
 * CD_SEARCH_COUNT_LIMIT:
 *
 * The most matches cd_archive_search_ex() reads one by one for the facets,
 * and for the total of a filtered search; beyond, the total is a lower
 * bound.
 *
 * Since: 0.2
 */
#define CD_SEARCH_COUNT_LIMIT 1000

/**
 * CD_SEARCH_TEXT_COUNT_LIMIT:
 *
 * The most matches cd_archive_search_ex() counts on the full-text index
 * alone for the total of a search without filters.
 *
 * Since: 0.2
 */
#define CD_SEARCH_TEXT_COUNT_LIMIT 20000

/**
 * CD_SEARCH_RANK_WINDOW:
 *
 * How many of the most recently archived matches a broad search ranks
 * (%CD_SEARCH_ORDER_RECENT_RANK).
 *
 * Since: 0.2
 */
#define CD_SEARCH_RANK_WINDOW 2000

/**
 * CdImportStats:
 * @created: entries added
 * @updated: entries whose details changed
 * @unchanged: entries already as imported
 * @merged: MRNs marked as merged into another
 * @refiled: documents moved to a surviving MRN by merges
 *
 * Since: 0.1
 */
typedef struct {
  guint created;
  guint updated;
  guint unchanged;
  guint merged;
  guint refiled;
} CdImportStats;

/**
 * CdReviewItem:
 * @id: the item
 * @document_id: the document waiting, 0 for a page outside documents
 * @page_id: the page waiting (an unreadable one), 0 for a document
 * @reason: why it waits
 * @created: when it was queued
 * @resolved: (nullable): when it was decided
 * @resolved_by: (nullable): who decided
 * @resolution: (nullable): what was decided and why
 * @assignee: (nullable): who is working the item (cd_archive_review_claim())
 * @assigned: (nullable): since when
 *
 * Since: 0.1
 */
typedef struct {
  gint64 id;
  gint64 document_id;
  gint64 page_id;
  gchar *reason;
  gchar *created;
  gchar *resolved;
  gchar *resolved_by;
  gchar *resolution;
  gchar *assignee;
  gchar *assigned;
} CdReviewItem;

/**
 * CdBatchRecord:
 * @id: the batch
 * @status: `queued`, `running`, `paused`, `finished`, `cancelled` or `failed`
 * @workflow: the workflow's name
 * @workflow_origin: (nullable): the workflow file, for batches queued to be
 *   resumed (chartdeskd); %NULL for batches run by the command line
 * @options: (nullable): JSON overrides the batch runs with
 * @inputs: what the batch reads, as named when it was started
 * @actor: who started it
 * @started: when it was recorded
 * @finished: (nullable): when it ended
 * @report: (nullable): the JSON batch report, once it ended
 *
 * One row of the archive's batch journal.
 *
 * Since: 0.1
 */
typedef struct {
  gint64 id;
  gchar *status;
  gchar *workflow;
  gchar *workflow_origin;
  gchar *options;
  gchar **inputs;
  gchar *actor;
  gchar *started;
  gchar *finished;
  gchar *report;
} CdBatchRecord;

/**
 * CdArchivedPage:
 * @page_id: the page's row
 * @batch_id: the batch that archived it
 * @source_path: its source file
 * @source_page: its 0-based index there
 * @outcome: where it ended: %CD_BATCH_OUTCOME_FILED or
 *   %CD_BATCH_OUTCOME_REVIEW (in a document), %CD_BATCH_OUTCOME_SET_ASIDE or
 *   %CD_BATCH_OUTCOME_FAILED (a record of its own)
 * @reason: (nullable): why: the page's own reason, or its document's open
 *   review reasons
 * @document_id: its document, 0 outside documents
 *
 * What the archive knows of one archived input page, so that a batch
 * resumed after a crash can report the pages it archived before it.
 *
 * Since: 0.1
 */
typedef struct {
  gint64 page_id;
  gint64 batch_id;
  gchar *source_path;
  gint source_page;
  CdBatchOutcome outcome;
  gchar *reason;
  gint64 document_id;
} CdArchivedPage;

void cd_archived_page_free(CdArchivedPage *page);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdArchivedPage, cd_archived_page_free)

void cd_batch_record_free(CdBatchRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdBatchRecord, cd_batch_record_free)

void cd_review_item_free(CdReviewItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdReviewItem, cd_review_item_free)

void cd_search_hit_free(CdSearchHit *hit);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdSearchHit, cd_search_hit_free)
JsonNode *cd_search_hits_to_json(GPtrArray *hits, const gchar *text);
void cd_search_result_free(CdSearchResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdSearchResult, cd_search_result_free)
JsonNode *cd_search_result_to_json(const CdSearchResult *result, const CdSearchQuery *query);
JsonNode *cd_search_result_to_hits_json(const CdSearchResult *result, const CdSearchQuery *query);

CdArchive *cd_archive_open(const gchar *path, CdArchiveFlags flags, GError **error);
gint cd_archive_get_schema_version(CdArchive *self);
void cd_archive_set_actor(CdArchive *self, const gchar *actor);
const gchar *cd_archive_get_actor(CdArchive *self);
void cd_archive_set_purpose(CdArchive *self, const gchar *purpose);
void cd_archive_push_actor(CdArchive *self, const gchar *actor, const gchar *purpose);
void cd_archive_pop_actor(CdArchive *self);
void cd_archive_set_principal(CdArchive *self, CdPrincipal *principal);
CdPrincipal *cd_archive_get_principal(CdArchive *self);
void cd_archive_push_principal(CdArchive *self, CdPrincipal *principal, const gchar *purpose);
void cd_archive_set_restricted_types(CdArchive *self, const gchar *const *types);
gchar **cd_taxonomy_file_get_restricted(const gchar *path, GError **error);
JsonNode *cd_archive_access_report(CdArchive *self, const gchar *user, const gchar *mrn, const gchar *from,
                                   const gchar *to, GError **error);
gboolean cd_archive_acquire_writer(CdArchive *self, GError **error);
void cd_archive_release_writer(CdArchive *self);
void cd_archive_close_without_checkpoint(CdArchive *self);
void cd_archive_keep_pages(CdArchive *self);

gboolean cd_archive_audit(CdArchive *self, const gchar *action, const gchar *object, JsonNode *detail, GError **error);
gboolean cd_archive_verify_audit(CdArchive *self, gint64 *bad_entry, GError **error);
JsonNode *cd_archive_verify_audit_report(CdArchive *self, GError **error);
gboolean cd_archive_set_audit_key(CdArchive *self, GBytes *key, GError **error);
gboolean cd_archive_set_audit_key_file(CdArchive *self, const gchar *path, GError **error);
void cd_archive_set_audit_anchor(CdArchive *self, const gchar *path);
gchar *cd_audit_key_get_default_path(void);
GBytes *cd_audit_key_load(const gchar *path, gboolean create, GError **error);
gboolean cd_audit_key_set_default(const gchar *path, GError **error);
gboolean cd_archive_check(CdArchive *self, GPtrArray **problems, GError **error);

/**
 * CdCheckUnit:
 * @CD_CHECK_UNIT_NONE: the step is not counted (@done and @total are 0)
 * @CD_CHECK_UNIT_ITEMS: @done and @total count things (stored images)
 * @CD_CHECK_UNIT_BYTES: @done counts bytes of the archive file read, of
 *   @total (its size) when the step reads each page once, else 0
 *
 * What #CdCheckProgressInfo's @done and @total count.
 *
 * Since: 0.3
 */
typedef enum {
  CD_CHECK_UNIT_NONE,
  CD_CHECK_UNIT_ITEMS,
  CD_CHECK_UNIT_BYTES,
} CdCheckUnit;

/**
 * CdCheckProgressInfo:
 * @step: what the check is doing (`database pages`, `image checksums`, ...)
 * @index: the step's place, from 0; steps come in order and none is skipped
 * @n_steps: how many steps the check has
 * @done: how far it is in @step (see @unit)
 * @total: how far it goes, 0 when not known
 * @unit: what @done and @total count
 *
 * Where cd_archive_check_with_progress() is.
 *
 * Since: 0.3
 */
typedef struct {
  const gchar *step;
  guint index;
  guint n_steps;
  guint64 done;
  guint64 total;
  CdCheckUnit unit;
} CdCheckProgressInfo;

/**
 * CdCheckProgress:
 * @info: where the check is
 * @user_data: the data given with the function
 *
 * See cd_archive_check_with_progress().
 *
 * Since: 0.2
 */
typedef void (*CdCheckProgress)(const CdCheckProgressInfo *info, gpointer user_data);
gboolean cd_archive_check_with_progress(CdArchive *self, CdCheckProgress progress, gpointer user_data,
                                        GPtrArray **problems, GError **error);

gint64 cd_archive_begin_batch(CdArchive *self, const gchar *workflow, const gchar *const *inputs, GError **error);
gboolean cd_archive_end_batch(CdArchive *self, CdBatch *batch, const gchar *status, GError **error);
gint64 cd_archive_queue_batch(CdArchive *self, const gchar *workflow, const gchar *workflow_origin,
                              const gchar *options, const gchar *const *inputs, GError **error);
gboolean cd_archive_set_batch_status(CdArchive *self, gint64 batch_id, const gchar *status, GError **error);
CdBatchRecord *cd_archive_get_batch(CdArchive *self, gint64 batch_id, GError **error);
GPtrArray *cd_archive_list_batches(CdArchive *self, const gchar *const *statuses, GError **error);
gboolean cd_archive_find_file(CdArchive *self, const gchar *sha256, gint64 *batch_id, GError **error);
gboolean cd_archive_has_page(CdArchive *self, const gchar *sha256, gint page, GError **error);
GPtrArray *cd_archive_find_pages(CdArchive *self, const gchar *sha256, gint page, GError **error);
gboolean cd_archive_set_batch_paused(CdArchive *self, gint64 batch_id, gboolean paused, GError **error);
gboolean cd_archive_commit_document(CdArchive *self, gint64 batch_id, CdDocument *document, GError **error);
gboolean cd_archive_commit_page(CdArchive *self, gint64 batch_id, CdPage *page, GError **error);
gboolean cd_archive_commit_file(CdArchive *self, gint64 batch_id, const gchar *sha256, const gchar *path, guint64 size,
                                guint n_pages, GError **error);

GPtrArray *cd_archive_search(CdArchive *self, const CdSearchQuery *query, GError **error);
CdSearchResult *cd_archive_search_ex(CdArchive *self, const CdSearchQuery *query, GError **error);
gint cd_archive_search_index_segments(CdArchive *self);
gboolean cd_archive_optimize_search_index(CdArchive *self, gint *before, gint *after, GError **error);
gboolean cd_archive_merge_search_index_step(CdArchive *self, guint pages, gboolean *more, GError **error);
JsonNode *cd_archive_get_document(CdArchive *self, gint64 id, GError **error);
JsonNode *cd_archive_get_page(CdArchive *self, gint64 id, GError **error);
GBytes *cd_archive_get_page_image(CdArchive *self, gint64 page_id, gchar **format, GError **error);
gboolean cd_archive_export_jsonl(CdArchive *self, GOutputStream *out, gboolean with_words, GCancellable *cancellable,
                                 GError **error);

gboolean cd_archive_import_patients(CdArchive *self, GPtrArray *patients, const gchar *source, CdImportStats *stats,
                                    GError **error);

GPtrArray *cd_archive_list_review(CdArchive *self, gboolean include_resolved, GError **error);
gboolean cd_archive_review_assign(CdArchive *self, gint64 document_id, const gchar *mrn, const gchar *why,
                                  GError **error);
gint64 cd_archive_review_split(CdArchive *self, gint64 document_id, guint at, const gchar *why, GError **error);
gboolean cd_archive_review_merge(CdArchive *self, gint64 into_id, gint64 from_id, const gchar *why, GError **error);
gboolean cd_archive_review_resolve(CdArchive *self, gint64 item_id, const gchar *why, GError **error);
gboolean cd_archive_review_claim(CdArchive *self, gint64 item_id, gboolean release, GError **error);
gboolean cd_archive_review_set_type(CdArchive *self, gint64 document_id, const gchar *type, const gchar *why,
                                    GError **error);

/* the web workstation's reads (cd-archive-web.c, issue 15) */
gboolean cd_archive_type_is_restricted(CdArchive *self, const gchar *type);
JsonNode *cd_archive_find_patients_json(CdArchive *self, const gchar *q, guint limit, GError **error);
JsonNode *cd_archive_get_chart(CdArchive *self, const gchar *mrn, GError **error);
JsonNode *cd_archive_list_audit(CdArchive *self, const gchar *user, const gchar *mrn, const gchar *from,
                                const gchar *to, guint limit, guint offset, gint64 *total, GError **error);
JsonNode *cd_archive_list_saved_searches(CdArchive *self, GError **error);
gint64 cd_archive_add_saved_search(CdArchive *self, const gchar *name, JsonNode *query, GError **error);
gboolean cd_archive_delete_saved_search(CdArchive *self, gint64 id, GError **error);
gint64 cd_archive_count_batch_pages(CdArchive *self, gint64 batch_id, GError **error);
JsonNode *cd_archive_describe_pages(CdArchive *self, const gint64 *ids, guint n_ids, GError **error);

/**
 * CdModelInfo:
 * @name: the model's name (a classifier's `model-name`)
 * @version: its version, from 1, one more for each model saved under @name
 * @created: when it was saved, ISO 8601
 * @actor: who saved it
 * @params: (nullable): its parameters and training counts, JSON text
 * @metrics: (nullable): its evaluation figures, JSON text
 * @size: the size of its data in bytes
 *
 * Since: 0.1
 */
typedef struct {
  gchar *name;
  gint version;
  gchar *created;
  gchar *actor;
  gchar *params;
  gchar *metrics;
  gsize size;
} CdModelInfo;

void cd_model_info_free(CdModelInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdModelInfo, cd_model_info_free)

gboolean cd_archive_save_model(CdArchive *self, const gchar *name, GBytes *data, JsonNode *params, JsonNode *metrics,
                               gint *version, GError **error);
GPtrArray *cd_archive_list_models(CdArchive *self, const gchar *name, GError **error);
gboolean cd_archive_get_labelled_documents(CdArchive *self, gboolean reviewed_only, GPtrArray **texts,
                                           GPtrArray **labels, GError **error);

/* exports (issue 16): cd-archive-export.c */
GArray *cd_archive_find_export_documents(CdArchive *self, const CdSearchQuery *query, GError **error);
CdDocument *cd_archive_export_document(CdArchive *self,
                                       gint64 id,
                                       const gchar *format,
                                       const gchar *destination,
                                       CdPatient **patient,
                                       GError **error);

G_END_DECLS
