/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * CdBatchOutcome:
 * @CD_BATCH_OUTCOME_FILED: archived in a document filed to a proven patient
 * @CD_BATCH_OUTCOME_REVIEW: archived in a document that waits in the review queue
 * @CD_BATCH_OUTCOME_SET_ASIDE: archived outside documents: blank page, cover sheet, separator
 * @CD_BATCH_OUTCOME_FAILED: could not be read; recorded with the reason and queued for review
 * @CD_BATCH_OUTCOME_DUPLICATE: the file was already archived; nothing stored again
 *
 * Where an input page ended. The batch report counts each page once.
 *
 * Since: 0.1
 */
typedef enum {
  CD_BATCH_OUTCOME_FILED,
  CD_BATCH_OUTCOME_REVIEW,
  CD_BATCH_OUTCOME_SET_ASIDE,
  CD_BATCH_OUTCOME_FAILED,
  CD_BATCH_OUTCOME_DUPLICATE,
  CD_BATCH_OUTCOME_LAST,
} CdBatchOutcome;

#define CD_TYPE_BATCH (cd_batch_get_type())
G_DECLARE_FINAL_TYPE(CdBatch, cd_batch, CD, BATCH, GObject)

CdBatch *cd_batch_new(void);
gint64 cd_batch_get_id(CdBatch *self);
void cd_batch_set_id(CdBatch *self, gint64 id);
guint cd_batch_get_pages_in(CdBatch *self);
guint cd_batch_get_count(CdBatch *self, CdBatchOutcome outcome);
guint cd_batch_get_documents(CdBatch *self);
void cd_batch_add_page(CdBatch *self, CdPage *page, CdBatchOutcome outcome, const gchar *reason);
void cd_batch_add_document(CdBatch *self, CdDocument *document);
void cd_batch_add_archived_page(CdBatch *self, const gchar *path, gint page, CdBatchOutcome outcome,
                                const gchar *reason, gint64 document_id);
GPtrArray *cd_batch_get_items(CdBatch *self);
gdouble cd_batch_get_elapsed(CdBatch *self);
const gchar *cd_batch_get_status(CdBatch *self);
void cd_batch_set_status(CdBatch *self, const gchar *status);
void cd_batch_set_elapsed(CdBatch *self, gdouble seconds);
const gchar *cd_batch_outcome_to_string(CdBatchOutcome outcome);
JsonNode *cd_batch_to_json(CdBatch *self);
gchar *cd_batch_to_text(CdBatch *self);

/**
 * CdBatchItem:
 * @path: the source file
 * @page: 0-based page index, -1 for a whole file
 * @outcome: where the page ended
 * @reason: why, for every outcome but %CD_BATCH_OUTCOME_FILED
 * @document_id: the archive document holding the page, 0 if none
 * @sha256: (nullable): SHA-256 of the source file, when it could be read
 *   (Since: 0.2)
 *
 * One line of the batch report.
 *
 * Since: 0.1
 */
typedef struct {
  gchar *path;
  gint page;
  CdBatchOutcome outcome;
  gchar *reason;
  gint64 document_id;
  gchar *sha256;
} CdBatchItem;

G_END_DECLS
