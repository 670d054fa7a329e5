/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-batch.h"

/**
 * CdBatch:
 *
 * The tally of one run of a workflow: where every input page ended, and why
 * when it is not simply filed. Pages are counted once each; the report lists
 * each page set aside, failed or skipped, and each document sent to review,
 * so its size follows the problems, not the batch.
 *
 * Since: 0.1
 */
struct _CdBatch {
  GObject parent_instance;
  gint64 id;
  guint counts[CD_BATCH_OUTCOME_LAST];
  guint documents;
  GPtrArray *items;               /* of CdBatchItem */
  GHashTable *archived_documents; /* ids of documents an earlier run of this batch committed */
  gdouble elapsed;                /* seconds */
  gchar *status;                  /* running, finished, cancelled, failed */
};

G_DEFINE_TYPE(CdBatch, cd_batch, G_TYPE_OBJECT)

static const gchar *outcome_names[] = {
  [CD_BATCH_OUTCOME_FILED] = "filed",         [CD_BATCH_OUTCOME_REVIEW] = "review",
  [CD_BATCH_OUTCOME_SET_ASIDE] = "set-aside", [CD_BATCH_OUTCOME_FAILED] = "failed",
  [CD_BATCH_OUTCOME_DUPLICATE] = "duplicate",
};

static void
cd_batch_item_free(CdBatchItem *item)
{
  g_free(item->path);
  g_free(item->reason);
  g_free(item->sha256);
  g_free(item);
}

static void
cd_batch_finalize(GObject *object)
{
  CdBatch *self = CD_BATCH(object);
  g_ptr_array_unref(self->items);
  g_hash_table_unref(self->archived_documents);
  g_free(self->status);
  G_OBJECT_CLASS(cd_batch_parent_class)->finalize(object);
}

static void
cd_batch_class_init(CdBatchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->finalize = cd_batch_finalize;
}

static void
cd_batch_init(CdBatch *self)
{
  self->items = g_ptr_array_new_with_free_func((GDestroyNotify) cd_batch_item_free);
  self->archived_documents = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  self->status = g_strdup("running");
}

/**
 * cd_batch_new:
 *
 * Returns: (transfer full): an empty tally
 *
 * Since: 0.1
 */
CdBatch *
cd_batch_new(void)
{
  return g_object_new(CD_TYPE_BATCH, NULL);
}

/**
 * cd_batch_get_id:
 * @self: a #CdBatch
 *
 * Returns: the archive's batch id, 0 before the batch started
 *
 * Since: 0.1
 */
gint64
cd_batch_get_id(CdBatch *self)
{
  g_return_val_if_fail(CD_IS_BATCH(self), 0);
  return self->id;
}

/**
 * cd_batch_set_id:
 * @self: a #CdBatch
 * @id: the archive's batch id
 *
 * Since: 0.1
 */
void
cd_batch_set_id(CdBatch *self, gint64 id)
{
  g_return_if_fail(CD_IS_BATCH(self));
  self->id = id;
}

/**
 * cd_batch_outcome_to_string:
 * @outcome: a #CdBatchOutcome
 *
 * Returns: the outcome's name in reports and JSON
 *
 * Since: 0.1
 */
const gchar *
cd_batch_outcome_to_string(CdBatchOutcome outcome)
{
  g_return_val_if_fail(outcome < CD_BATCH_OUTCOME_LAST, NULL);
  return outcome_names[outcome];
}

/**
 * cd_batch_get_pages_in:
 * @self: a #CdBatch
 *
 * Returns: how many input pages (or unreadable files) were seen
 *
 * Since: 0.1
 */
guint
cd_batch_get_pages_in(CdBatch *self)
{
  guint total = 0;

  g_return_val_if_fail(CD_IS_BATCH(self), 0);
  for (guint i = 0; i < CD_BATCH_OUTCOME_LAST; i++)
    total += self->counts[i];
  return total;
}

/**
 * cd_batch_get_count:
 * @self: a #CdBatch
 * @outcome: an outcome
 *
 * Returns: how many pages ended with @outcome
 *
 * Since: 0.1
 */
guint
cd_batch_get_count(CdBatch *self, CdBatchOutcome outcome)
{
  g_return_val_if_fail(CD_IS_BATCH(self), 0);
  g_return_val_if_fail(outcome < CD_BATCH_OUTCOME_LAST, 0);
  return self->counts[outcome];
}

/**
 * cd_batch_get_documents:
 * @self: a #CdBatch
 *
 * Returns: how many documents were committed
 *
 * Since: 0.1
 */
guint
cd_batch_get_documents(CdBatch *self)
{
  g_return_val_if_fail(CD_IS_BATCH(self), 0);
  return self->documents;
}

static CdBatchItem *
cd_batch_add_item(CdBatch *self, const gchar *path, gint page, CdBatchOutcome outcome, const gchar *reason,
                  gint64 document_id)
{
  CdBatchItem *item = g_new0(CdBatchItem, 1);
  item->path = g_strdup(path);
  item->page = page;
  item->outcome = outcome;
  item->reason = g_strdup(reason);
  item->document_id = document_id;
  g_ptr_array_add(self->items, item);
  return item;
}

/**
 * cd_batch_add_page:
 * @self: a #CdBatch
 * @page: a page that is not part of a document
 * @outcome: where it ended
 * @reason: (nullable): why
 *
 * Counts a page set aside, failed or skipped, and lists it in the report.
 *
 * Since: 0.1
 */
void
cd_batch_add_page(CdBatch *self, CdPage *page, CdBatchOutcome outcome, const gchar *reason)
{
  g_return_if_fail(CD_IS_BATCH(self));
  g_return_if_fail(outcome < CD_BATCH_OUTCOME_LAST);
  self->counts[outcome]++;
  cd_batch_add_item(self, cd_page_get_source_path(page), cd_page_get_source_page(page), outcome, reason, 0)->sha256 =
      g_strdup(cd_page_get_source_sha256(page));
}

/**
 * cd_batch_add_document:
 * @self: a #CdBatch
 * @document: a committed document
 *
 * Counts the document's pages as filed or in review; a document in review
 * is listed in the report with its reasons.
 *
 * Since: 0.1
 */
void
cd_batch_add_document(CdBatch *self, CdDocument *document)
{
  GPtrArray *pages = cd_document_get_pages(document);
  CdBatchOutcome outcome = cd_document_needs_review(document) ? CD_BATCH_OUTCOME_REVIEW : CD_BATCH_OUTCOME_FILED;

  g_return_if_fail(CD_IS_BATCH(self));
  self->documents++;
  self->counts[outcome] += pages->len;
  if (outcome == CD_BATCH_OUTCOME_REVIEW && pages->len > 0) {
    CdPage *first = g_ptr_array_index(pages, 0);
    g_autoptr(GString) reason = g_string_new(NULL);
    GPtrArray *problems = cd_document_get_problems(document);
    for (guint i = 0; i < problems->len; i++)
      g_string_append_printf(reason, "%s%s", reason->len > 0 ? "; " : "", (gchar *) g_ptr_array_index(problems, i));
    for (guint i = 0; i < pages->len; i++) {
      CdPage *page = g_ptr_array_index(pages, i);
      GPtrArray *page_problems = cd_page_get_problems(page);
      for (guint j = 0; j < page_problems->len; j++)
        g_string_append_printf(reason, "%spage %d: %s", reason->len > 0 ? "; " : "", cd_page_get_source_page(page),
                               (gchar *) g_ptr_array_index(page_problems, j));
    }
    cd_batch_add_item(self, cd_page_get_source_path(first), cd_page_get_source_page(first), outcome, reason->str,
                      cd_document_get_id(document))
        ->sha256 = g_strdup(cd_page_get_source_sha256(first));
  }
}

/**
 * cd_batch_add_archived_page:
 * @self: a #CdBatch
 * @path: the page's source file
 * @page: its 0-based index there
 * @outcome: where it ended when it was archived
 * @reason: (nullable): why, for every outcome but %CD_BATCH_OUTCOME_FILED
 * @document_id: the document holding it, 0 if none
 *
 * Counts a page that an earlier run of this same batch archived (a batch
 * resumed after a crash or a restart), with the outcome it had then, so
 * that the report of the run that finishes the batch accounts for every
 * page of the batch. A document is counted, and listed when in review,
 * once however many of its pages are added.
 *
 * Since: 0.1
 */
void
cd_batch_add_archived_page(CdBatch *self, const gchar *path, gint page, CdBatchOutcome outcome, const gchar *reason,
                           gint64 document_id)
{
  gboolean new_document = FALSE;

  g_return_if_fail(CD_IS_BATCH(self));
  g_return_if_fail(outcome < CD_BATCH_OUTCOME_LAST);
  self->counts[outcome]++;
  if (document_id > 0 && !g_hash_table_contains(self->archived_documents, &document_id)) {
    g_hash_table_add(self->archived_documents, g_memdup2(&document_id, sizeof document_id));
    self->documents++;
    new_document = TRUE;
  }
  if (outcome == CD_BATCH_OUTCOME_FILED || (outcome == CD_BATCH_OUTCOME_REVIEW && document_id > 0 && !new_document))
    return;
  cd_batch_add_item(self, path, page, outcome, reason, document_id);
}

/**
 * cd_batch_get_items:
 * @self: a #CdBatch
 *
 * Returns: (transfer none) (element-type CdBatchItem): the report's lines
 *
 * Since: 0.1
 */
GPtrArray *
cd_batch_get_items(CdBatch *self)
{
  g_return_val_if_fail(CD_IS_BATCH(self), NULL);
  return self->items;
}

/**
 * cd_batch_get_elapsed:
 * @self: a #CdBatch
 *
 * Returns: wall-clock seconds the batch took
 *
 * Since: 0.1
 */
gdouble
cd_batch_get_elapsed(CdBatch *self)
{
  g_return_val_if_fail(CD_IS_BATCH(self), 0);
  return self->elapsed;
}

/**
 * cd_batch_set_elapsed:
 * @self: a #CdBatch
 * @seconds: wall-clock seconds
 *
 * Since: 0.1
 */
void
cd_batch_set_elapsed(CdBatch *self, gdouble seconds)
{
  g_return_if_fail(CD_IS_BATCH(self));
  self->elapsed = seconds;
}

/**
 * cd_batch_get_status:
 * @self: a #CdBatch
 *
 * Returns: `running`, `finished`, `cancelled` or `failed`
 *
 * Since: 0.1
 */
const gchar *
cd_batch_get_status(CdBatch *self)
{
  g_return_val_if_fail(CD_IS_BATCH(self), NULL);
  return self->status;
}

/**
 * cd_batch_set_status:
 * @self: a #CdBatch
 * @status: the batch's state
 *
 * Since: 0.1
 */
void
cd_batch_set_status(CdBatch *self, const gchar *status)
{
  g_return_if_fail(CD_IS_BATCH(self));
  g_free(self->status);
  self->status = g_strdup(status);
}

/**
 * cd_batch_to_json:
 * @self: a #CdBatch
 *
 * Returns: (transfer full): the report as a JSON object: `batch`,
 *   `pages_in`, one count per outcome, `documents`, `seconds`, and `items`
 *
 * Since: 0.1
 */
JsonNode *
cd_batch_to_json(CdBatch *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  g_return_val_if_fail(CD_IS_BATCH(self), NULL);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "batch");
  json_builder_add_int_value(b, self->id);
  json_builder_set_member_name(b, "status");
  json_builder_add_string_value(b, self->status);
  json_builder_set_member_name(b, "pages_in");
  json_builder_add_int_value(b, cd_batch_get_pages_in(self));
  for (guint i = 0; i < CD_BATCH_OUTCOME_LAST; i++) {
    json_builder_set_member_name(b, outcome_names[i]);
    json_builder_add_int_value(b, self->counts[i]);
  }
  json_builder_set_member_name(b, "documents");
  json_builder_add_int_value(b, self->documents);
  json_builder_set_member_name(b, "seconds");
  json_builder_add_double_value(b, self->elapsed);
  json_builder_set_member_name(b, "items");
  json_builder_begin_array(b);
  for (guint i = 0; i < self->items->len; i++) {
    CdBatchItem *item = g_ptr_array_index(self->items, i);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, item->path);
    json_builder_set_member_name(b, "page");
    if (item->page >= 0)
      json_builder_add_int_value(b, item->page);
    else
      json_builder_add_null_value(b);
    json_builder_set_member_name(b, "outcome");
    json_builder_add_string_value(b, outcome_names[item->outcome]);
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, item->reason);
    if (item->sha256 != NULL) {
      json_builder_set_member_name(b, "sha256");
      json_builder_add_string_value(b, item->sha256);
    }
    if (item->document_id > 0) {
      json_builder_set_member_name(b, "document");
      json_builder_add_int_value(b, item->document_id);
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/**
 * cd_batch_to_text:
 * @self: a #CdBatch
 *
 * Returns: (transfer full): the report for a person at a terminal
 *
 * Since: 0.1
 */
gchar *
cd_batch_to_text(CdBatch *self)
{
  GString *str = g_string_new(NULL);
  guint pages_in = cd_batch_get_pages_in(self);

  g_return_val_if_fail(CD_IS_BATCH(self), NULL);
  g_string_append_printf(str, "Batch %" G_GINT64_FORMAT " %s: %u page%s in, %u document%s, %.1f s", self->id,
                         self->status, pages_in, pages_in == 1 ? "" : "s", self->documents,
                         self->documents == 1 ? "" : "s", self->elapsed);
  if (self->elapsed > 0 && pages_in > 0)
    g_string_append_printf(str, " (%.1f pages/min)", 60.0 * pages_in / self->elapsed);
  g_string_append_c(str, '\n');
  g_string_append_printf(str, "  filed      %6u\n", self->counts[CD_BATCH_OUTCOME_FILED]);
  g_string_append_printf(str, "  review     %6u\n", self->counts[CD_BATCH_OUTCOME_REVIEW]);
  g_string_append_printf(str, "  set aside  %6u\n", self->counts[CD_BATCH_OUTCOME_SET_ASIDE]);
  g_string_append_printf(str, "  failed     %6u\n", self->counts[CD_BATCH_OUTCOME_FAILED]);
  g_string_append_printf(str, "  duplicate  %6u\n", self->counts[CD_BATCH_OUTCOME_DUPLICATE]);
  for (guint i = 0; i < self->items->len; i++) {
    CdBatchItem *item = g_ptr_array_index(self->items, i);
    if (item->page >= 0)
      g_string_append_printf(str, "  %-9s %s page %d", outcome_names[item->outcome], item->path, item->page + 1);
    else
      g_string_append_printf(str, "  %-9s %s", outcome_names[item->outcome], item->path);
    if (item->document_id > 0)
      g_string_append_printf(str, " (document %" G_GINT64_FORMAT ")", item->document_id);
    if (item->reason != NULL)
      g_string_append_printf(str, ": %s", item->reason);
    g_string_append_c(str, '\n');
  }
  return g_string_free(str, FALSE);
}
