/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-classifier.h"
#include "cd-error.h"

/**
 * CdClassifier:
 *
 * The base type of document classifiers: given a document, scored labels.
 *
 * Since: 0.1
 */

G_DEFINE_BOXED_TYPE(CdLabelScore, cd_label_score, cd_label_score_copy, cd_label_score_free)

/**
 * cd_label_score_new:
 * @label: a document type
 * @score: its score, 0 to 1
 *
 * Returns: (transfer full): a new scored label
 *
 * Since: 0.1
 */
CdLabelScore *
cd_label_score_new(const gchar *label, gdouble score)
{
  CdLabelScore *self;

  g_return_val_if_fail(label != NULL, NULL);

  self = g_new0(CdLabelScore, 1);
  self->label = g_strdup(label);
  self->score = score;
  return self;
}

/**
 * cd_label_score_copy:
 * @score: a #CdLabelScore
 *
 * Returns: (transfer full): a copy of @score
 *
 * Since: 0.1
 */
CdLabelScore *
cd_label_score_copy(const CdLabelScore *score)
{
  g_return_val_if_fail(score != NULL, NULL);
  return cd_label_score_new(score->label, score->score);
}

/**
 * cd_label_score_free:
 * @score: (nullable): a #CdLabelScore
 *
 * Since: 0.1
 */
void
cd_label_score_free(CdLabelScore *score)
{
  if (score == NULL)
    return;
  g_free(score->label);
  g_free(score);
}

typedef struct {
  gdouble weight;
  gdouble timeout;      /* seconds, 0: no limit */
  CdTaxonomy *taxonomy; /* set by the engine before start */
  gboolean abandoned;   /* a call ran over its time and never returned */
  GThread *thread;      /* runs time-limited calls, made on first use */
  GAsyncQueue *jobs;    /* CdClassifyJob to @thread, then the stop mark */
} CdClassifierPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE(CdClassifier, cd_classifier, CD_TYPE_STAGE)

enum {
  PROP_0,
  PROP_WEIGHT,
  PROP_TIMEOUT,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

#define DEFAULT_WEIGHT 1.0
#define DEFAULT_TIMEOUT 30.0

/* How long a classifier may take to return once its time is up and it has
 * been cancelled, before it is abandoned. */
#define CD_CLASSIFIER_GRACE_USEC (1 * G_USEC_PER_SEC)

static void
cd_classifier_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdClassifierPrivate *priv = cd_classifier_get_instance_private(CD_CLASSIFIER(object));

  switch (prop_id) {
  case PROP_WEIGHT:
    g_value_set_double(value, priv->weight);
    break;
  case PROP_TIMEOUT:
    g_value_set_double(value, priv->timeout);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_classifier_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdClassifierPrivate *priv = cd_classifier_get_instance_private(CD_CLASSIFIER(object));

  switch (prop_id) {
  case PROP_WEIGHT:
    priv->weight = g_value_get_double(value);
    break;
  case PROP_TIMEOUT:
    priv->timeout = g_value_get_double(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static gchar cd_classifier_stop_mark;

static void
cd_classifier_finalize(GObject *object)
{
  CdClassifierPrivate *priv = cd_classifier_get_instance_private(CD_CLASSIFIER(object));

  /* an abandoned classifier holds a reference on itself, so the helper
   * thread here is idle and ends at the stop mark */
  if (priv->thread != NULL) {
    g_async_queue_push(priv->jobs, &cd_classifier_stop_mark);
    g_thread_join(priv->thread);
  }
  g_clear_pointer(&priv->jobs, g_async_queue_unref);
  g_clear_object(&priv->taxonomy);
  G_OBJECT_CLASS(cd_classifier_parent_class)->finalize(object);
}

static void
cd_classifier_class_init(CdClassifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->get_property = cd_classifier_get_property;
  object_class->set_property = cd_classifier_set_property;
  object_class->finalize = cd_classifier_finalize;

  props[PROP_WEIGHT] = g_param_spec_double(
      "weight", "Weight", "How much this classifier counts when the engine combines classifiers' scores", 0.0, 1000.0,
      DEFAULT_WEIGHT, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_TIMEOUT] = g_param_spec_double(
      "timeout", "Time limit", "Seconds a document may take; over it is an error (0: no limit)", 0.0, 86400.0,
      DEFAULT_TIMEOUT, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
cd_classifier_init(CdClassifier *self)
{
}

/**
 * cd_classifier_get_weight:
 * @self: a #CdClassifier
 *
 * Returns: the classifier's weight in the engine's combination
 *
 * Since: 0.1
 */
gdouble
cd_classifier_get_weight(CdClassifier *self)
{
  CdClassifierPrivate *priv;
  g_return_val_if_fail(CD_IS_CLASSIFIER(self), 0);
  priv = cd_classifier_get_instance_private(self);
  return priv->weight;
}

/**
 * cd_classifier_get_timeout:
 * @self: a #CdClassifier
 *
 * Returns: seconds one document may take, 0 for no limit
 *
 * Since: 0.1
 */
gdouble
cd_classifier_get_timeout(CdClassifier *self)
{
  CdClassifierPrivate *priv;
  g_return_val_if_fail(CD_IS_CLASSIFIER(self), 0);
  priv = cd_classifier_get_instance_private(self);
  return priv->timeout;
}

/**
 * cd_classifier_get_taxonomy:
 * @self: a #CdClassifier
 *
 * The document types the engine accepts. The engine sets it before
 * cd_stage_start(), so a classifier can check its configuration against it
 * when it starts.
 *
 * Returns: (transfer none) (nullable): the taxonomy in use
 *
 * Since: 0.1
 */
CdTaxonomy *
cd_classifier_get_taxonomy(CdClassifier *self)
{
  CdClassifierPrivate *priv;
  g_return_val_if_fail(CD_IS_CLASSIFIER(self), NULL);
  priv = cd_classifier_get_instance_private(self);
  return priv->taxonomy;
}

/**
 * cd_classifier_set_taxonomy:
 * @self: a #CdClassifier
 * @taxonomy: (nullable): the taxonomy in use
 *
 * Called by the engine and by test harnesses before cd_stage_start().
 *
 * Since: 0.1
 */
void
cd_classifier_set_taxonomy(CdClassifier *self, CdTaxonomy *taxonomy)
{
  CdClassifierPrivate *priv;
  g_return_if_fail(CD_IS_CLASSIFIER(self));
  priv = cd_classifier_get_instance_private(self);
  g_set_object(&priv->taxonomy, taxonomy);
}

/* One call of the classify vfunc on the helper thread. Shared by the caller
 * and the thread, so that a caller that gives up can leave it behind. It
 * holds no reference on the classifier: the classifier outlives its thread
 * (finalize joins it; an abandoned classifier is never finalized). */
typedef struct {
  gint refs;
  CdClassifier *self;
  CdDocument *document;
  GCancellable *cancellable;
  GMutex lock;
  GCond cond;
  gboolean done;
  gboolean ok;
  GPtrArray *scores;
  GError *error;
} CdClassifyJob;

static void
cd_classify_job_unref(CdClassifyJob *job)
{
  if (!g_atomic_int_dec_and_test(&job->refs))
    return;
  g_object_unref(job->document);
  g_object_unref(job->cancellable);
  g_mutex_clear(&job->lock);
  g_cond_clear(&job->cond);
  g_ptr_array_unref(job->scores);
  g_clear_error(&job->error);
  g_free(job);
}

/* The helper thread: one per classifier for its whole life, so a batch of
 * thousands of documents does not make thousands of threads. */
static gpointer
cd_classifier_thread(gpointer data)
{
  GAsyncQueue *jobs = data;

  for (;;) {
    CdClassifyJob *job = g_async_queue_pop(jobs);
    gboolean ok;
    GError *error = NULL;

    if (job == (gpointer) &cd_classifier_stop_mark)
      break;
    ok = CD_CLASSIFIER_GET_CLASS(job->self)->classify(job->self, job->document, job->scores, job->cancellable, &error);
    g_mutex_lock(&job->lock);
    job->ok = ok;
    job->error = error;
    job->done = TRUE;
    g_cond_signal(&job->cond);
    g_mutex_unlock(&job->lock);
    cd_classify_job_unref(job);
  }
  g_async_queue_unref(jobs);
  return NULL;
}

static void
cd_classify_job_forward_cancel(GCancellable *outer, GCancellable *inner)
{
  g_cancellable_cancel(inner);
}

/* Runs the vfunc on the helper thread and waits for it at most the time
 * limit, then cancels it and waits a grace second more; a call still
 * running then is left behind and the classifier is marked abandoned (and
 * kept alive for the thread's sake), so a hung plugin costs one thread,
 * never the batch. */
static gboolean
cd_classifier_run_limited(CdClassifier *self, CdDocument *document, GPtrArray *scores, GCancellable *cancellable,
                          GError **error)
{
  CdClassifierPrivate *priv = cd_classifier_get_instance_private(self);
  CdClassifyJob *job;
  gint64 deadline = g_get_monotonic_time() + (gint64) (priv->timeout * G_USEC_PER_SEC);
  gulong cancel_id = 0;
  gboolean timed_out = FALSE;
  gboolean ok;
  gchar limit[G_ASCII_DTOSTR_BUF_SIZE]; /* in messages, C locale */

  if (priv->thread == NULL) {
    priv->jobs = g_async_queue_new();
    priv->thread = g_thread_try_new("cd-classify", cd_classifier_thread, g_async_queue_ref(priv->jobs), error);
    if (priv->thread == NULL) {
      g_async_queue_unref(priv->jobs); /* the thread's reference */
      g_clear_pointer(&priv->jobs, g_async_queue_unref);
      return FALSE;
    }
  }

  g_ascii_formatd(limit, sizeof limit, "%g", priv->timeout);
  job = g_new0(CdClassifyJob, 1);
  job->refs = 2;
  job->self = self;
  job->document = g_object_ref(document);
  job->cancellable = g_cancellable_new();
  job->scores = g_ptr_array_new_with_free_func((GDestroyNotify) cd_label_score_free);
  g_mutex_init(&job->lock);
  g_cond_init(&job->cond);
  if (cancellable != NULL)
    cancel_id = g_cancellable_connect(cancellable, G_CALLBACK(cd_classify_job_forward_cancel), job->cancellable, NULL);

  g_async_queue_push(priv->jobs, job);
  g_mutex_lock(&job->lock);
  while (!job->done) {
    if (!g_cond_wait_until(&job->cond, &job->lock, deadline) && !job->done) {
      if (timed_out)
        break;
      timed_out = TRUE;
      g_cancellable_cancel(job->cancellable);
      deadline = g_get_monotonic_time() + CD_CLASSIFIER_GRACE_USEC;
    }
  }
  ok = job->done;
  g_mutex_unlock(&job->lock);
  if (cancellable != NULL)
    g_cancellable_disconnect(cancellable, cancel_id);

  if (!ok) {
    priv->abandoned = TRUE;
    g_object_ref(self); /* never released: the hung thread still uses it */
    cd_classify_job_unref(job);
    g_set_error(error, CD_ERROR, CD_ERROR_TIMEOUT,
                "timed out after %s s and did not stop when cancelled (not called again)", limit);
    return FALSE;
  }
  if (timed_out && !(cancellable != NULL && g_cancellable_is_cancelled(cancellable))) {
    /* what the classifier said when stopped, unless it only said so */
    if (!job->ok && job->error != NULL && !g_error_matches(job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_set_error(error, CD_ERROR, CD_ERROR_TIMEOUT, "timed out after %s s: %s", limit, job->error->message);
    else
      g_set_error(error, CD_ERROR, CD_ERROR_TIMEOUT, "timed out after %s s", limit);
    cd_classify_job_unref(job);
    return FALSE;
  }
  if (!job->ok) {
    if (job->error != NULL)
      g_propagate_error(error, g_steal_pointer(&job->error));
    cd_classify_job_unref(job);
    return FALSE;
  }
  for (guint i = 0; i < job->scores->len; i++)
    g_ptr_array_add(scores, g_steal_pointer(&job->scores->pdata[i]));
  g_ptr_array_set_size(job->scores, 0);
  cd_classify_job_unref(job);
  return TRUE;
}

/**
 * cd_classifier_classify:
 * @self: a #CdClassifier
 * @document: the document to classify
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The engine's entry to #CdClassifierClass.classify. A disabled classifier
 * returns an empty array. The call is held to the classifier's `timeout`
 * (%CD_ERROR_TIMEOUT past it). Scores are clamped to 0…1 and labels that
 * are empty or not valid UTF-8 are dropped, so a careless plugin cannot
 * poison the combined result. Errors are prefixed with the stage name.
 *
 * Returns: (transfer container) (element-type CdLabelScore): the scores, or
 *   %NULL with @error set
 *
 * Since: 0.1
 */
GPtrArray *
cd_classifier_classify(CdClassifier *self, CdDocument *document, GCancellable *cancellable, GError **error)
{
  CdClassifierClass *klass;
  CdClassifierPrivate *priv;
  g_autoptr(GPtrArray) scores = g_ptr_array_new_with_free_func((GDestroyNotify) cd_label_score_free);
  g_autoptr(GError) error_local = NULL;
  gboolean ok;

  g_return_val_if_fail(CD_IS_CLASSIFIER(self), NULL);
  g_return_val_if_fail(CD_IS_DOCUMENT(document), NULL);
  klass = CD_CLASSIFIER_GET_CLASS(self);
  priv = cd_classifier_get_instance_private(self);

  if (!cd_stage_get_enabled(CD_STAGE(self)) || klass->classify == NULL)
    return g_steal_pointer(&scores);
  if (g_cancellable_set_error_if_cancelled(cancellable, error))
    return NULL;
  if (priv->abandoned) {
    g_set_error(error, CD_ERROR, CD_ERROR_TIMEOUT, "%s: not run: an earlier document ran over its time limit",
                cd_stage_get_name(CD_STAGE(self)));
    return NULL;
  }
  if (priv->timeout > 0)
    ok = cd_classifier_run_limited(self, document, scores, cancellable, &error_local);
  else
    ok = klass->classify(self, document, scores, cancellable, &error_local);
  if (!ok) {
    if (error_local == NULL)
      g_set_error_literal(&error_local, CD_ERROR, CD_ERROR_INTERNAL, "failed without an error");
    g_propagate_prefixed_error(error, g_steal_pointer(&error_local), "%s: ", cd_stage_get_name(CD_STAGE(self)));
    return NULL;
  }
  for (guint i = 0; i < scores->len;) {
    CdLabelScore *score = g_ptr_array_index(scores, i);
    if (score->label == NULL || !g_utf8_validate(score->label, -1, NULL) || score->label[0] == '\0' ||
        score->score != score->score) {
      g_ptr_array_remove_index(scores, i);
      continue;
    }
    score->score = CLAMP(score->score, 0.0, 1.0);
    i++;
  }
  return g_steal_pointer(&scores);
}
