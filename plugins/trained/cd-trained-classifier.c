/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `trained` classifier scores document types with a model learnt from
 * labelled documents (`chartdesk classify train`) and kept in the archive.
 */
#include "config.h"

#include <string.h>

#include "cd-trained-classifier.h"

#define DEFAULT_MODEL_NAME "trained"
#define DEFAULT_MODEL_VERSION 0
#define DEFAULT_MAX_LABELS 0
#define DEFAULT_MIN_CHARACTERS 20
#define DEFAULT_PAGES 1

struct _CdTrainedClassifier {
  CdClassifier parent_instance;
  gchar *model_name;
  gint model_version;   /* 0: the latest */
  guint max_labels;     /* 0: every type */
  guint min_characters; /* less text than this: don't know */
  guint pages;          /* read the first N pages; 0: all */
  CdTextModel *model;   /* loaded by start() */
};

G_DEFINE_FINAL_TYPE(CdTrainedClassifier, cd_trained_classifier, CD_TYPE_CLASSIFIER)

enum { PROP_0, PROP_MODEL_NAME, PROP_MODEL_VERSION, PROP_MAX_LABELS, PROP_MIN_CHARACTERS, PROP_PAGES, N_PROPS };

static GParamSpec *props[N_PROPS];

/* Loads the model named by the options from the stage's archive. Every way
 * this can fail names the archive and the model, and what to do. */
static gboolean
cd_trained_classifier_start(CdStage *stage, GError **error)
{
  CdTrainedClassifier *self = CD_TRAINED_CLASSIFIER(stage);
  CdArchive *archive = cd_stage_get_archive(stage);
  g_autoptr(GBytes) blob = NULL;
  gint version = 0;

  if (archive == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_FAILED,
                        "no archive: the trained classifier loads its model from the archive");
    return FALSE;
  }
  blob = cd_archive_load_model(archive, self->model_name, self->model_version, &version, error);
  if (blob == NULL)
    return FALSE;
  g_clear_object(&self->model);
  self->model = cd_text_model_new_from_bytes(blob, error);
  if (self->model == NULL) {
    g_prefix_error(error, "%s: model '%s' version %d cannot be used: ", cd_archive_get_path(archive), self->model_name,
                   version);
    return FALSE;
  }
  g_info("model '%s' version %d: %u types, trained on %u documents", self->model_name, version,
         g_strv_length((gchar **) cd_text_model_get_labels(self->model)), cd_text_model_get_n_trained(self->model));
  return TRUE;
}

static void
cd_trained_classifier_stop(CdStage *stage)
{
  CdTrainedClassifier *self = CD_TRAINED_CLASSIFIER(stage);
  g_clear_object(&self->model);
}

static gboolean
cd_trained_classifier_classify(CdClassifier *classifier, CdDocument *document, GPtrArray *scores,
                               GCancellable *cancellable, GError **error)
{
  CdTrainedClassifier *self = CD_TRAINED_CLASSIFIER(classifier);
  g_autofree gchar *text = cd_document_dup_text(document);
  g_autoptr(GPtrArray) predicted = NULL;
  gchar *end = text;
  guint n_letters = 0;

  if (self->model == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INTERNAL, "classify called before start");
    return FALSE;
  }
  /* the first pages only: cd_document_dup_text() separates pages with form
   * feeds, which OCR text never holds */
  for (guint i = 0; self->pages > 0 && end != NULL && i < self->pages; i++) {
    end = strchr(end, '\f');
    if (end != NULL && i + 1 < self->pages)
      end++;
  }
  if (self->pages > 0 && end != NULL)
    *end = '\0';
  /* a page of noise or a blank form: say nothing rather than guess */
  for (const gchar *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char(p)) {
    if (g_unichar_isalpha(g_utf8_get_char(p)))
      n_letters++;
  }
  if (n_letters < self->min_characters)
    return TRUE;
  predicted = cd_text_model_predict(self->model, text);
  for (guint i = 0; i < predicted->len && (self->max_labels == 0 || i < self->max_labels); i++)
    g_ptr_array_add(scores, cd_label_score_copy(g_ptr_array_index(predicted, i)));
  return TRUE;
}

static void
cd_trained_classifier_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdTrainedClassifier *self = CD_TRAINED_CLASSIFIER(object);

  switch (prop_id) {
  case PROP_MODEL_NAME:
    g_value_set_string(value, self->model_name);
    break;
  case PROP_MODEL_VERSION:
    g_value_set_int(value, self->model_version);
    break;
  case PROP_MAX_LABELS:
    g_value_set_uint(value, self->max_labels);
    break;
  case PROP_MIN_CHARACTERS:
    g_value_set_uint(value, self->min_characters);
    break;
  case PROP_PAGES:
    g_value_set_uint(value, self->pages);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_trained_classifier_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdTrainedClassifier *self = CD_TRAINED_CLASSIFIER(object);

  switch (prop_id) {
  case PROP_MODEL_NAME:
    g_free(self->model_name);
    self->model_name = g_value_dup_string(value);
    break;
  case PROP_MODEL_VERSION:
    self->model_version = g_value_get_int(value);
    break;
  case PROP_MAX_LABELS:
    self->max_labels = g_value_get_uint(value);
    break;
  case PROP_MIN_CHARACTERS:
    self->min_characters = g_value_get_uint(value);
    break;
  case PROP_PAGES:
    self->pages = g_value_get_uint(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_trained_classifier_finalize(GObject *object)
{
  CdTrainedClassifier *self = CD_TRAINED_CLASSIFIER(object);
  g_free(self->model_name);
  g_clear_object(&self->model);
  G_OBJECT_CLASS(cd_trained_classifier_parent_class)->finalize(object);
}

static void
cd_trained_classifier_class_init(CdTrainedClassifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdClassifierClass *classifier_class = CD_CLASSIFIER_CLASS(klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS;

  object_class->get_property = cd_trained_classifier_get_property;
  object_class->set_property = cd_trained_classifier_set_property;
  object_class->finalize = cd_trained_classifier_finalize;
  stage_class->start = cd_trained_classifier_start;
  stage_class->stop = cd_trained_classifier_stop;
  classifier_class->classify = cd_trained_classifier_classify;

  props[PROP_MODEL_NAME] = g_param_spec_string(
      "model-name", "Model name", "The model in the archive to load, as saved by `chartdesk classify train --name`",
      DEFAULT_MODEL_NAME, flags);
  props[PROP_MODEL_VERSION] =
      g_param_spec_int("model-version", "Model version", "The model version to load; 0 loads the latest", 0, G_MAXINT,
                       DEFAULT_MODEL_VERSION, flags);
  props[PROP_MAX_LABELS] =
      g_param_spec_uint("max-labels", "Most types reported",
                        "Report only the best N types with their probabilities; 0 reports every type", 0, 1000,
                        DEFAULT_MAX_LABELS, flags);
  props[PROP_MIN_CHARACTERS] = g_param_spec_uint(
      "min-characters", "Least text", "A document with fewer letters than this gets no scores (\"don't know\")", 0,
      100000, DEFAULT_MIN_CHARACTERS, flags);
  props[PROP_PAGES] = g_param_spec_uint(
      "pages", "Pages read", "Read only the document's first N pages (1: the page with its title); 0 reads them all", 0,
      10000, DEFAULT_PAGES, flags);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "trained",
                              "Scores document types with a model learnt from labelled documents "
                              "(`chartdesk classify train`), loaded from the archive");
}

static void
cd_trained_classifier_init(CdTrainedClassifier *self)
{
}
