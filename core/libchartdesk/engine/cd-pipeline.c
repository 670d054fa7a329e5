/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>

#include "cd-classification-private.h"
#include "cd-classifier.h"
#include "cd-doc-stage.h"
#include "cd-error.h"
#include "cd-page-stage.h"
#include "cd-pipeline.h"

/**
 * CdPipeline:
 *
 * Runs a workflow over a set of inputs into an archive.
 *
 * Three kinds of thread share the work. A feeder thread pulls pages from
 * the source. Worker threads, each with its own instances of the page stages
 * (so one Tesseract handle per worker, made once), process pages in
 * parallel and encode the result for storage. The calling thread puts pages
 * back in scan order, runs the splitter and document stages, and commits
 * each document in one transaction: the archive has one writer.
 *
 * At most a fixed number of pages (a few per worker) are anywhere in the
 * pipeline at once; the feeder waits for the writer. Memory therefore stays
 * flat however long the batch, apart from the encoded pages of the document
 * being assembled.
 *
 * Since: 0.1
 */
struct _CdPipeline {
  GObject parent_instance;
  CdWorkflow *workflow;
  CdArchive *archive;
  CdTaxonomy *taxonomy; /* NULL: the default one, loaded per run */
  guint n_workers;
  CdProgressFunc progress_func;
  gpointer progress_data;
  gint64 batch_id;    /* a journalled batch to run, 0 to begin a new one */
  gint paused;        /* atomic: the feeder takes no new page while set */
  GMutex run_lock;    /* guards run, for cd_pipeline_set_paused() */
  struct _CdRun *run; /* the run in progress, or NULL */
};

G_DEFINE_TYPE(CdPipeline, cd_pipeline, G_TYPE_OBJECT)

/* Pages in flight per worker: enough to keep every worker busy while the
 * writer commits, few enough that memory does not grow with the batch. */
#define CD_PIPELINE_PAGES_PER_WORKER 3

static gchar cd_end_marker;
#define CD_END_MARK ((gpointer) &cd_end_marker)

typedef struct _CdRun {
  CdPipeline *self;
  CdSource *source;
  const gchar *const *inputs;
  GAsyncQueue *work;    /* CdPage to workers, then one end mark per worker */
  GAsyncQueue *results; /* processed CdPage to the writer, then one end mark */
  GCancellable *cancel; /* internal: user cancel, or a fatal error */
  GMutex lock;
  GCond cond;
  guint in_flight; /* pages taken from the source, not yet consumed */
  guint capacity;
  guint64 n_sent;      /* pages the feeder sent; final once it ends */
  GError *fatal;       /* the first error that stops the batch */
  GHashTable *seen;    /* sha256 → path of files read in this batch (feeder) */
  GHashTable *resumed; /* sha256 of files an earlier run of this batch archived whole (lock) */
  gint64 batch_id;
  CdBatch *batch;
  /* writer-side state */
  CdSplitter *splitter;
  GPtrArray *doc_stages;
  GPtrArray *classifiers;
  CdTaxonomy *taxonomy;
  GHashTable *notes;    /* classifier notes already logged in this run */
  CdDocument *document; /* being assembled */
  gchar *file_path;     /* file of the last page consumed */
  gchar *file_sha;
  guint file_pages;
  gboolean file_whole; /* every page of the file recorded so far */
  guint inputs_done;
  gint64 started;
} CdRun;

static void
cd_pipeline_finalize(GObject *object)
{
  CdPipeline *self = CD_PIPELINE(object);

  g_object_unref(self->workflow);
  g_object_unref(self->archive);
  g_clear_object(&self->taxonomy);
  g_mutex_clear(&self->run_lock);

  G_OBJECT_CLASS(cd_pipeline_parent_class)->finalize(object);
}

static void
cd_pipeline_class_init(CdPipelineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->finalize = cd_pipeline_finalize;
}

static void
cd_pipeline_init(CdPipeline *self)
{
  g_mutex_init(&self->run_lock);
}

/**
 * cd_pipeline_new:
 * @workflow: what to run
 * @archive: an archive opened with %CD_ARCHIVE_FLAG_WRITER
 *
 * Returns: (transfer full): a pipeline
 *
 * Since: 0.1
 */
CdPipeline *
cd_pipeline_new(CdWorkflow *workflow, CdArchive *archive)
{
  CdPipeline *self;

  g_return_val_if_fail(CD_IS_WORKFLOW(workflow), NULL);
  g_return_val_if_fail(CD_IS_ARCHIVE(archive), NULL);

  self = g_object_new(CD_TYPE_PIPELINE, NULL);
  self->workflow = g_object_ref(workflow);
  self->archive = g_object_ref(archive);
  self->n_workers = cd_workflow_get_workers(workflow);
  if (self->n_workers == 0)
    self->n_workers = MAX(1, g_get_num_processors());
  return self;
}

/**
 * cd_pipeline_set_progress_func:
 * @self: a #CdPipeline
 * @func: (nullable): called after each page
 * @user_data: data for @func
 *
 * Since: 0.1
 */
void
cd_pipeline_set_progress_func(CdPipeline *self, CdProgressFunc func, gpointer user_data)
{
  g_return_if_fail(CD_IS_PIPELINE(self));
  self->progress_func = func;
  self->progress_data = user_data;
}

/**
 * cd_pipeline_set_taxonomy:
 * @self: a #CdPipeline
 * @taxonomy: (nullable): the document types classifiers may assign, or
 *   %NULL for the one cd_taxonomy_find() finds
 *
 * Since: 0.1
 */
void
cd_pipeline_set_taxonomy(CdPipeline *self, CdTaxonomy *taxonomy)
{
  g_return_if_fail(CD_IS_PIPELINE(self));
  g_set_object(&self->taxonomy, taxonomy);
}

/**
 * cd_pipeline_get_n_workers:
 * @self: a #CdPipeline
 *
 * Returns: the number of worker threads a run uses
 *
 * Since: 0.1
 */
guint
cd_pipeline_get_n_workers(CdPipeline *self)
{
  g_return_val_if_fail(CD_IS_PIPELINE(self), 0);
  return self->n_workers;
}

/**
 * cd_pipeline_set_batch_id:
 * @self: a #CdPipeline
 * @batch_id: a batch recorded with cd_archive_queue_batch(), or 0
 *
 * Makes the next run carry on that journalled batch instead of beginning a
 * new one. With the same inputs, a batch interrupted at any point resumes:
 * what is archived is skipped, the rest is done, and the batch's status is
 * that of the run that finishes it. Its report covers the whole batch:
 * pages an earlier run of the batch archived are counted once each with
 * the outcome they had (filed, review with the reason, set aside, failed),
 * never as duplicates; only content another batch archived is a duplicate.
 *
 * Since: 0.1
 */
void
cd_pipeline_set_batch_id(CdPipeline *self, gint64 batch_id)
{
  g_return_if_fail(CD_IS_PIPELINE(self));
  self->batch_id = batch_id;
}

/**
 * cd_pipeline_set_paused:
 * @self: a #CdPipeline
 * @paused: whether to stop taking pages from the source
 *
 * Pauses or resumes a run from any thread. A paused run reads no new page;
 * the pages already read are finished and archived, so nothing is lost and
 * the run continues where it stopped. A paused run can still be cancelled.
 *
 * Since: 0.1
 */
void
cd_pipeline_set_paused(CdPipeline *self, gboolean paused)
{
  g_return_if_fail(CD_IS_PIPELINE(self));
  g_atomic_int_set(&self->paused, paused ? 1 : 0);
  g_mutex_lock(&self->run_lock);
  if (self->run != NULL) {
    g_mutex_lock(&self->run->lock);
    g_cond_broadcast(&self->run->cond);
    g_mutex_unlock(&self->run->lock);
  }
  g_mutex_unlock(&self->run_lock);
}

/**
 * cd_pipeline_get_paused:
 * @self: a #CdPipeline
 *
 * Returns: whether the pipeline is paused
 *
 * Since: 0.1
 */
gboolean
cd_pipeline_get_paused(CdPipeline *self)
{
  g_return_val_if_fail(CD_IS_PIPELINE(self), FALSE);
  return g_atomic_int_get(&self->paused) != 0;
}

/* Keeps the first fatal error and stops the run. */
static void
cd_run_fail(CdRun *run, GError *error)
{
  g_mutex_lock(&run->lock);
  if (run->fatal == NULL)
    run->fatal = error;
  else
    g_error_free(error);
  g_mutex_unlock(&run->lock);
  g_cancellable_cancel(run->cancel);
}

static void
cd_run_wake(GCancellable *cancellable, CdRun *run)
{
  g_mutex_lock(&run->lock);
  g_cond_broadcast(&run->cond);
  g_mutex_unlock(&run->lock);
}

static void
cd_run_forward_cancel(GCancellable *user, GCancellable *internal)
{
  g_cancellable_cancel(internal);
}

/* The engine's answer to a source asking whether to read a file: not if its
 * content is already archived, or was already read earlier in this batch. */
static gboolean
cd_run_check_file(CdSource *source, const gchar *path, const gchar *sha256, gchar **reason, gpointer user_data)
{
  CdRun *run = user_data;
  const gchar *earlier = g_hash_table_lookup(run->seen, sha256);
  gint64 batch_id = 0;

  if (earlier != NULL) {
    *reason = g_strdup_printf("same content as %s, earlier in this batch", earlier);
    return FALSE;
  }
  if (cd_archive_find_file(run->self->archive, sha256, &batch_id, NULL)) {
    *reason = g_strdup_printf("already archived (batch %" G_GINT64_FORMAT ")", batch_id);
    if (batch_id == run->batch_id) {
      /* archived by an earlier run of this very batch: the writer reports
       * its pages as they ended, once; the same content again is a
       * duplicate within the batch */
      g_hash_table_insert(run->seen, g_strdup(sha256), g_strdup(path));
      g_mutex_lock(&run->lock);
      g_hash_table_add(run->resumed, g_strdup(sha256));
      g_mutex_unlock(&run->lock);
    }
    return FALSE;
  }
  g_hash_table_insert(run->seen, g_strdup(sha256), g_strdup(path));
  return TRUE;
}

/* Takes a slot for one more page in flight, waiting while the pipeline is
 * full or paused; FALSE once the run is cancelled. */
static gboolean
cd_run_take_slot(CdRun *run)
{
  gboolean ok;

  g_mutex_lock(&run->lock);
  while ((run->in_flight >= run->capacity || g_atomic_int_get(&run->self->paused) != 0) &&
         !g_cancellable_is_cancelled(run->cancel))
    g_cond_wait(&run->cond, &run->lock);
  ok = !g_cancellable_is_cancelled(run->cancel);
  if (ok)
    run->in_flight++;
  g_mutex_unlock(&run->lock);
  return ok;
}

static void
cd_run_release_slot(CdRun *run)
{
  g_mutex_lock(&run->lock);
  run->in_flight--;
  g_cond_signal(&run->cond);
  g_mutex_unlock(&run->lock);
}

static gpointer
cd_run_feeder(gpointer data)
{
  CdRun *run = data;
  g_autoptr(GError) error = NULL;

  if (!cd_stage_start(CD_STAGE(run->source), &error) || !cd_source_open(run->source, run->inputs, &error))
    cd_run_fail(run, g_steal_pointer(&error));
  while (!g_cancellable_is_cancelled(run->cancel) && cd_run_take_slot(run)) {
    CdPage *page = cd_source_next(run->source, run->cancel, &error);
    if (page == NULL) {
      cd_run_release_slot(run);
      if (error != NULL && !g_cancellable_is_cancelled(run->cancel))
        cd_run_fail(run, g_steal_pointer(&error));
      break;
    }
    g_mutex_lock(&run->lock);
    cd_page_set_sequence(page, run->n_sent++);
    g_mutex_unlock(&run->lock);
    g_async_queue_push(run->work, page);
  }
  cd_stage_stop(CD_STAGE(run->source));

  for (guint i = 0; i < run->self->n_workers; i++)
    g_async_queue_push(run->work, CD_END_MARK);
  g_async_queue_push(run->results, CD_END_MARK);
  return NULL;
}

/* Runs every page stage on @page. A stage error is a problem of the page,
 * which is archived and reviewed, never a reason to lose it. */
static void
cd_run_process_page(CdRun *run, GPtrArray *stages, CdPage *page)
{
  g_autoptr(GError) error_local = NULL;

  for (guint i = 0; i < stages->len; i++) {
    g_autoptr(GError) error = NULL;
    if (g_cancellable_is_cancelled(run->cancel))
      return;
    if (!cd_page_stage_process(g_ptr_array_index(stages, i), page, run->cancel, &error)) {
      if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_message("%s page %d: %s", cd_page_get_source_path(page), cd_page_get_source_page(page) + 1, error->message);
      cd_page_add_problem(page, error->message);
    }
  }
  if (!cd_page_encode_image(page, &error_local))
    cd_page_add_problem(page, error_local->message);
}

static gpointer
cd_run_worker(gpointer data)
{
  CdRun *run = data;
  g_autoptr(GPtrArray) stages = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ready = TRUE;

  stages = cd_workflow_create_stages(run->self->workflow, CD_STAGE_KIND_PAGE, &error);
  for (guint i = 0; i < stages->len; i++) {
    CdStage *stage = g_ptr_array_index(stages, i);
    cd_stage_set_archive(stage, run->self->archive);
    if (!cd_stage_start(stage, &error)) {
      cd_run_fail(run, g_steal_pointer(&error));
      ready = FALSE;
      break;
    }
  }
  for (;;) {
    CdPage *page = g_async_queue_pop(run->work);
    if (page == CD_END_MARK)
      break;
    if (ready && !g_cancellable_is_cancelled(run->cancel))
      cd_run_process_page(run, stages, page);
    g_async_queue_push(run->results, page);
  }
  /* the stages are disposed here, so each stops on the thread it started on */
  return NULL;
}

static void
cd_run_report_progress(CdRun *run, const gchar *path)
{
  CdProgress progress = { 0 };

  if (run->self->progress_func == NULL)
    return;
  progress.pages_done = cd_batch_get_pages_in(run->batch);
  progress.inputs_done = run->inputs_done;
  progress.inputs_total = cd_source_get_n_inputs(run->source);
  progress.path = path;
  progress.elapsed = (g_get_monotonic_time() - run->started) / (gdouble) G_USEC_PER_SEC;
  run->self->progress_func(&progress, run->self->progress_data);
}

/* The review threshold of @type: the workflow's own for the type, else the
 * workflow's default, else the taxonomy's for the type, else its default.
 * The workflow's names were checked against the taxonomy at start. */
static gdouble
cd_run_threshold(CdRun *run, const gchar *type)
{
  CdWorkflow *workflow = run->self->workflow;
  GPtrArray *names = cd_workflow_get_type_threshold_names(workflow);
  gdouble threshold;

  for (guint i = 0; i < names->len; i++) {
    const gchar *name = g_ptr_array_index(names, i);
    if (g_strcmp0(cd_taxonomy_lookup(run->taxonomy, name), type) == 0 &&
        cd_workflow_get_type_threshold(workflow, name, &threshold))
      return threshold;
  }
  if (cd_workflow_get_type_threshold(workflow, "default", &threshold))
    return threshold;
  return cd_taxonomy_get_threshold(run->taxonomy, type);
}

/* Runs every classifier on @document and stores the combined verdict: the
 * type, its confidence, the scores in the first page's facts, and a review
 * reason when the confidence is below the type's threshold. A classifier
 * that fails or runs over its time is a problem of the document; the
 * other classifiers still count. */
static void
cd_run_classify(CdRun *run, CdDocument *document)
{
  g_autoptr(CdClassification) verdict = NULL;
  GPtrArray *notes;
  const gchar *type;
  gdouble confidence = 0;
  gdouble threshold;

  if (run->classifiers == NULL || run->classifiers->len == 0)
    return;
  verdict = cd_classification_new(run->taxonomy);
  for (guint i = 0; i < run->classifiers->len; i++) {
    CdClassifier *classifier = g_ptr_array_index(run->classifiers, i);
    const gchar *name = cd_stage_get_name(CD_STAGE(classifier));
    g_autoptr(GPtrArray) scores = NULL;
    g_autoptr(GError) error = NULL;

    if (!cd_stage_get_enabled(CD_STAGE(classifier)))
      continue;
    scores = cd_classifier_classify(classifier, document, run->cancel, &error);
    if (scores == NULL) {
      g_autofree gchar *problem = NULL;
      if (g_cancellable_is_cancelled(run->cancel))
        return;
      problem = g_strdup_printf("classifier %s", error->message);
      g_message("%s: %s", cd_page_get_source_path(g_ptr_array_index(cd_document_get_pages(document), 0)), problem);
      cd_document_add_problem(document, problem);
      cd_classification_add_failure(verdict, name, error->message);
      continue;
    }
    cd_classification_add(verdict, name, cd_classifier_get_weight(classifier), scores);
  }
  notes = cd_classification_get_notes(verdict);
  for (guint i = 0; i < notes->len; i++) {
    const gchar *note = g_ptr_array_index(notes, i);
    if (g_hash_table_add(run->notes, g_strdup(note)))
      g_message("%s", note);
  }

  type = cd_classification_decide(verdict, &confidence);
  cd_document_set_doc_type(document, type, confidence);
  cd_page_set_fact(g_ptr_array_index(cd_document_get_pages(document), 0), "classify",
                   cd_classification_to_variant(verdict));
  threshold = cd_run_threshold(run, type);
  if (confidence < threshold) {
    g_autofree gchar *problem = NULL;
    gchar conf_str[G_ASCII_DTOSTR_BUF_SIZE];
    gchar threshold_str[G_ASCII_DTOSTR_BUF_SIZE];
    /* rounded down, so that 0.499 never reads "0.50 < 0.50"; C locale, as
     * the reason is stored */
    g_ascii_formatd(conf_str, sizeof conf_str, "%.2f", floor(confidence * 100 + 1e-9) / 100);
    g_ascii_formatd(threshold_str, sizeof threshold_str, "%.2f", threshold);
    if (confidence <= 0)
      problem = g_strdup_printf("document type not recognised (%s %s < %s)", type, conf_str, threshold_str);
    else
      problem = g_strdup_printf("low-confidence type (%s %s < %s)", type, conf_str, threshold_str);
    cd_document_add_problem(document, problem);
  }
}

/* Counts input pages that are already archived, page @index of the file
 * @sha (or, with @whole_file, all its pages), as where they ended: with
 * their real outcome when an earlier run of this same batch archived them
 * (a batch resumed after a crash), as duplicates when another batch did.
 * @n_found says how many were archived. */
static gboolean
cd_run_report_archived(CdRun *run, const gchar *path, const gchar *sha, gint index, gboolean whole_file, guint *n_found,
                       GError **error)
{
  g_autoptr(GPtrArray) archived = NULL;

  *n_found = 0;
  if (sha == NULL || (!whole_file && index < 0))
    return TRUE;
  archived = cd_archive_find_pages(run->self->archive, sha, whole_file ? -1 : index, error);
  if (archived == NULL) {
    g_prefix_error(error, "%s: ", path);
    return FALSE;
  }
  for (guint i = 0; i < archived->len; i++) {
    CdArchivedPage *p = g_ptr_array_index(archived, i);
    if (p->batch_id == run->batch_id) {
      cd_batch_add_archived_page(run->batch, path, p->source_page, p->outcome, p->reason, p->document_id);
    } else {
      g_autofree gchar *reason = g_strdup_printf("page already archived (batch %" G_GINT64_FORMAT ")", p->batch_id);
      cd_batch_add_archived_page(run->batch, path, p->source_page, CD_BATCH_OUTCOME_DUPLICATE, reason, 0);
    }
  }
  *n_found = archived->len;
  return TRUE;
}

/* Closes the document being assembled: document stages, then one
 * transaction. Pages already in the archive (a batch resumed after a crash)
 * are reported where they ended and not written twice; should the resumed
 * run have grouped pages otherwise, those not yet archived still make a
 * document. */
static gboolean
cd_run_close_document(CdRun *run, GError **error)
{
  g_autoptr(CdDocument) document = g_steal_pointer(&run->document);
  g_autoptr(CdDocument) rest = NULL;
  GPtrArray *pages;
  CdPage *first;
  guint n_archived = 0;

  if (document == NULL)
    return TRUE;
  pages = cd_document_get_pages(document);
  rest = cd_document_new();
  for (guint i = 0; i < pages->len; i++) {
    CdPage *page = g_ptr_array_index(pages, i);
    guint found = 0;
    if (!cd_run_report_archived(run, cd_page_get_source_path(page), cd_page_get_source_sha256(page),
                                cd_page_get_source_page(page), FALSE, &found, error))
      return FALSE;
    if (found == 0)
      cd_document_add_page(rest, page);
    n_archived += found > 0 ? 1 : 0;
  }
  if (n_archived == pages->len)
    return TRUE;
  if (n_archived > 0) {
    g_object_unref(document);
    document = g_steal_pointer(&rest);
    pages = cd_document_get_pages(document);
  }
  first = g_ptr_array_index(pages, 0);
  for (guint i = 0; i < run->doc_stages->len; i++) {
    g_autoptr(GError) error_local = NULL;
    if (!cd_doc_stage_process(g_ptr_array_index(run->doc_stages, i), document, run->cancel, &error_local)) {
      if (g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return TRUE;
      cd_document_add_problem(document, error_local->message);
    }
  }
  /* the identity stages say why when they could not prove a patient */
  if (cd_document_get_patient_mrn(document) == NULL && cd_document_get_problems(document)->len == 0)
    cd_document_add_problem(document, "no patient identified");
  cd_run_classify(run, document);
  if (g_cancellable_is_cancelled(run->cancel))
    return TRUE;
  if (!cd_archive_commit_document(run->self->archive, run->batch_id, document, error)) {
    g_prefix_error(error, "%s: cannot archive document: ", cd_page_get_source_path(first));
    return FALSE;
  }
  cd_batch_add_document(run->batch, document);
  return TRUE;
}

/* Called when the pages of one file are all consumed: records the file as
 * archived so that ingesting it again is skipped. */
static gboolean
cd_run_finish_file(CdRun *run, GError **error)
{
  if (!cd_run_close_document(run, error))
    return FALSE;
  if (run->file_path != NULL)
    run->inputs_done++;
  if (run->file_sha != NULL && run->file_pages > 0 && run->file_whole && !g_cancellable_is_cancelled(run->cancel)) {
    GStatBuf st = { 0 };
    if (g_stat(run->file_path, &st) != 0)
      st.st_size = 0;
    if (!cd_archive_commit_file(run->self->archive, run->batch_id, run->file_sha, run->file_path, st.st_size,
                                run->file_pages, error))
      return FALSE;
  }
  g_clear_pointer(&run->file_path, g_free);
  g_clear_pointer(&run->file_sha, g_free);
  run->file_pages = 0;
  run->file_whole = TRUE;
  return TRUE;
}

static CdBatchOutcome
cd_run_outcome_for_kind(CdPageKind kind)
{
  switch (kind) {
  case CD_PAGE_KIND_FAILED:
    return CD_BATCH_OUTCOME_FAILED;
  case CD_PAGE_KIND_DUPLICATE:
    return CD_BATCH_OUTCOME_DUPLICATE;
  default:
    return CD_BATCH_OUTCOME_SET_ASIDE;
  }
}

/* Takes one page in scan order: file boundaries, the splitter, and either
 * the current document or a record of its own. */
static gboolean
cd_run_consume(CdRun *run, CdPage *page, GError **error)
{
  const gchar *path = cd_page_get_source_path(page);
  const gchar *sha = cd_page_get_source_sha256(page);
  gint index = cd_page_get_source_page(page);
  CdSplitDecision decision = CD_SPLIT_CONTINUE;
  CdPageKind kind;

  /* a new file always starts a new document */
  if (g_strcmp0(path, run->file_path) != 0 || g_strcmp0(sha, run->file_sha) != 0) {
    if (!cd_run_finish_file(run, error))
      return FALSE;
    run->file_path = g_strdup(path);
    run->file_sha = g_strdup(sha);
  }

  if (run->splitter != NULL && cd_page_get_kind(page) != CD_PAGE_KIND_DUPLICATE) {
    g_autoptr(GError) error_local = NULL;
    if (!cd_splitter_decide(run->splitter, page, run->document, &decision, &error_local))
      cd_page_add_problem(page, error_local->message);
  }

  kind = cd_page_get_kind(page);
  if (kind == CD_PAGE_KIND_DUPLICATE) {
    gboolean resumed;
    guint found = 0;
    run->file_whole = FALSE;
    g_mutex_lock(&run->lock);
    resumed = sha != NULL && g_hash_table_remove(run->resumed, sha);
    g_mutex_unlock(&run->lock);
    if (resumed && !cd_run_report_archived(run, path, sha, -1, TRUE, &found, error))
      return FALSE;
    if (found == 0)
      cd_batch_add_page(run->batch, page, CD_BATCH_OUTCOME_DUPLICATE, cd_page_get_reason(page));
    return TRUE;
  }
  if (index < 0)
    run->file_whole = FALSE; /* a whole-file failure: try the file again next time */
  else
    run->file_pages++;

  if (kind != CD_PAGE_KIND_PAGE) {
    guint found = 0;
    if (!cd_run_report_archived(run, path, sha, index, FALSE, &found, error))
      return FALSE;
    if (found > 0)
      return TRUE;
    if (!cd_archive_commit_page(run->self->archive, run->batch_id, page, error)) {
      g_prefix_error(error, "%s page %d: cannot archive: ", path, index + 1);
      return FALSE;
    }
    cd_batch_add_page(run->batch, page, cd_run_outcome_for_kind(kind), cd_page_get_reason(page));
    return TRUE;
  }

  if (run->document != NULL && decision == CD_SPLIT_NEW_DOCUMENT) {
    if (!cd_run_close_document(run, error))
      return FALSE;
  }
  if (run->document == NULL)
    run->document = cd_document_new();
  cd_document_add_page(run->document, page);
  return TRUE;
}

static void
cd_run_clear(CdRun *run)
{
  g_clear_object(&run->source);
  g_clear_pointer(&run->work, g_async_queue_unref);
  g_clear_pointer(&run->results, g_async_queue_unref);
  g_clear_object(&run->cancel);
  g_mutex_clear(&run->lock);
  g_cond_clear(&run->cond);
  g_clear_error(&run->fatal);
  g_clear_pointer(&run->seen, g_hash_table_unref);
  g_clear_pointer(&run->resumed, g_hash_table_unref);
  g_clear_object(&run->batch);
  g_clear_object(&run->splitter);
  g_clear_pointer(&run->doc_stages, g_ptr_array_unref);
  g_clear_pointer(&run->classifiers, g_ptr_array_unref);
  g_clear_object(&run->taxonomy);
  g_clear_pointer(&run->notes, g_hash_table_unref);
  g_clear_object(&run->document);
  g_clear_pointer(&run->file_path, g_free);
  g_clear_pointer(&run->file_sha, g_free);
}

/* Loads the taxonomy (when there are classifiers), checks the workflow's
 * type-thresholds against it and starts the classifiers: all before any
 * page is read, so a configuration mistake costs nothing. */
static gboolean
cd_run_start_classifiers(CdRun *run, GError **error)
{
  CdPipeline *self = run->self;
  GPtrArray *names = cd_workflow_get_type_threshold_names(self->workflow);

  run->notes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  run->classifiers = cd_workflow_create_stages(self->workflow, CD_STAGE_KIND_CLASSIFIER, NULL);
  if (run->classifiers->len == 0)
    return TRUE;
  run->taxonomy = self->taxonomy != NULL ? g_object_ref(self->taxonomy) : cd_taxonomy_new_default(error);
  if (run->taxonomy == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++) {
    const gchar *name = g_ptr_array_index(names, i);
    if (g_strcmp0(name, "default") != 0 && cd_taxonomy_lookup(run->taxonomy, name) == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW,
                  "%s: [workflow] type-thresholds: '%s' is not a document type of %s",
                  cd_workflow_get_origin(self->workflow), name, cd_taxonomy_get_origin(run->taxonomy));
      return FALSE;
    }
  }
  for (guint i = 0; i < run->classifiers->len; i++) {
    CdStage *stage = g_ptr_array_index(run->classifiers, i);
    cd_stage_set_archive(stage, self->archive);
    cd_classifier_set_taxonomy(CD_CLASSIFIER(stage), run->taxonomy);
    if (!cd_stage_start(stage, error))
      return FALSE;
  }
  return TRUE;
}

/**
 * cd_pipeline_run:
 * @self: a #CdPipeline
 * @inputs: (array zero-terminated=1): files and folders, or device names
 * @cancellable: (nullable): cancels the batch; committed documents stay
 * @error: return location for a #GError
 *
 * Runs one batch. Bad inputs do not fail the batch: they are recorded as
 * failed pages with the reason and the batch goes on. The batch fails only
 * when it cannot go on at all (the archive cannot be written, a stage cannot
 * start, the source broke); documents committed before that stay, whole.
 *
 * Every document is classified by the workflow's classifiers after the
 * document stages; see cd_classifier_classify() for what a failing
 * classifier does. A cancelled batch returns its report with the status
 * `cancelled`.
 *
 * Returns: (transfer full): the batch report, or %NULL with @error set
 *
 * Since: 0.1
 */
CdBatch *
cd_pipeline_run(CdPipeline *self, const gchar *const *inputs, GCancellable *cancellable, GError **error)
{
  CdRun run = { 0 };
  g_autoptr(GPtrArray) workers = g_ptr_array_new();
  g_autoptr(GError) error_local = NULL;
  GThread *feeder;
  gulong user_cancel_id = 0;
  gulong wake_id;
  guint64 next = 0;
  gboolean feeder_done = FALSE;
  CdPage **reorder;
  const gchar *status;

  g_return_val_if_fail(CD_IS_PIPELINE(self), NULL);

  run.self = self;
  run.inputs = inputs;
  run.work = g_async_queue_new();
  run.results = g_async_queue_new();
  run.cancel = g_cancellable_new();
  g_mutex_init(&run.lock);
  g_cond_init(&run.cond);
  run.capacity = self->n_workers * CD_PIPELINE_PAGES_PER_WORKER;
  run.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  run.resumed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  run.batch = cd_batch_new();
  run.file_whole = TRUE;
  run.started = g_get_monotonic_time();

  run.source = cd_workflow_create_source(self->workflow, &error_local);
  if (run.source == NULL) {
    g_propagate_error(error, g_steal_pointer(&error_local));
    cd_run_clear(&run);
    return NULL;
  }
  cd_stage_set_archive(CD_STAGE(run.source), self->archive);
  cd_source_set_file_check(run.source, cd_run_check_file, &run);
  run.splitter = cd_workflow_create_splitter(self->workflow, NULL);
  run.doc_stages = cd_workflow_create_stages(self->workflow, CD_STAGE_KIND_DOCUMENT, NULL);
  if (run.splitter != NULL) {
    cd_stage_set_archive(CD_STAGE(run.splitter), self->archive);
    if (!cd_stage_start(CD_STAGE(run.splitter), &error_local)) {
      g_propagate_error(error, g_steal_pointer(&error_local));
      cd_run_clear(&run);
      return NULL;
    }
  }
  for (guint i = 0; i < run.doc_stages->len; i++) {
    CdStage *stage = g_ptr_array_index(run.doc_stages, i);
    cd_stage_set_archive(stage, self->archive);
    if (!cd_stage_start(stage, &error_local)) {
      g_propagate_error(error, g_steal_pointer(&error_local));
      cd_run_clear(&run);
      return NULL;
    }
  }

  if (!cd_run_start_classifiers(&run, error)) {
    cd_run_clear(&run);
    return NULL;
  }

  if (self->batch_id != 0)
    run.batch_id = self->batch_id;
  else
    run.batch_id = cd_archive_begin_batch(self->archive, cd_workflow_get_name(self->workflow), inputs, error);
  if (run.batch_id == 0) {
    cd_run_clear(&run);
    return NULL;
  }
  cd_batch_set_id(run.batch, run.batch_id);

  wake_id = g_cancellable_connect(run.cancel, G_CALLBACK(cd_run_wake), &run, NULL);
  if (cancellable != NULL)
    user_cancel_id = g_cancellable_connect(cancellable, G_CALLBACK(cd_run_forward_cancel), run.cancel, NULL);

  for (guint i = 0; i < self->n_workers; i++) {
    g_autofree gchar *name = g_strdup_printf("cd-worker-%u", i);
    g_ptr_array_add(workers, g_thread_new(name, cd_run_worker, &run));
  }
  g_mutex_lock(&self->run_lock);
  self->run = &run;
  g_mutex_unlock(&self->run_lock);
  feeder = g_thread_new("cd-feeder", cd_run_feeder, &run);

  /* the writer: put pages back in scan order and commit them. A page's
   * slot is released only here, so no page in flight has a sequence number
   * beyond next + capacity, and a ring of that size reorders them. */
  reorder = g_new0(CdPage *, run.capacity);
  for (;;) {
    CdPage *page;
    guint64 total;

    g_mutex_lock(&run.lock);
    total = run.n_sent;
    g_mutex_unlock(&run.lock);
    if (feeder_done && next == total)
      break;
    page = g_async_queue_pop(run.results);
    if (page == CD_END_MARK) {
      feeder_done = TRUE;
      continue;
    }
    reorder[cd_page_get_sequence(page) % run.capacity] = page;
    while ((page = reorder[next % run.capacity]) != NULL && cd_page_get_sequence(page) == next) {
      reorder[next % run.capacity] = NULL;
      if (!g_cancellable_is_cancelled(run.cancel)) {
        if (!cd_run_consume(&run, page, &error_local))
          cd_run_fail(&run, g_steal_pointer(&error_local));
        else
          cd_run_report_progress(&run, cd_page_get_source_path(page));
      }
      g_object_unref(page);
      next++;
      cd_run_release_slot(&run);
    }
  }
  g_thread_join(feeder);
  for (guint i = 0; i < workers->len; i++)
    g_thread_join(g_ptr_array_index(workers, i));
  g_mutex_lock(&self->run_lock);
  self->run = NULL;
  g_mutex_unlock(&self->run_lock);
  g_free(reorder);

  /* the last file's last document */
  if (!g_cancellable_is_cancelled(run.cancel) && !cd_run_finish_file(&run, &error_local))
    cd_run_fail(&run, g_steal_pointer(&error_local));

  if (cancellable != NULL)
    g_cancellable_disconnect(cancellable, user_cancel_id);
  g_cancellable_disconnect(run.cancel, wake_id);

  cd_batch_set_elapsed(run.batch, (g_get_monotonic_time() - run.started) / (gdouble) G_USEC_PER_SEC);
  if (run.fatal != NULL)
    status = "failed";
  else if (g_cancellable_is_cancelled(run.cancel))
    status = "cancelled";
  else
    status = "finished";
  cd_batch_set_status(run.batch, status);
  if (!cd_archive_end_batch(self->archive, run.batch, status, &error_local) && run.fatal == NULL)
    run.fatal = g_steal_pointer(&error_local);

  if (run.fatal != NULL) {
    g_propagate_error(error, g_steal_pointer(&run.fatal));
    cd_run_clear(&run);
    return NULL;
  }
  {
    CdBatch *batch = g_steal_pointer(&run.batch);
    cd_run_clear(&run);
    return batch;
  }
}
