/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `page-type` page stage: scores each page alone with the `rules`
 * classifier and records its best type and score as page facts. The `chart`
 * splitter weighs a confident change of type between neighbouring pages as
 * evidence of a new document; documents are still typed as a whole by the
 * workflow's classifiers.
 */
#include "config.h"

#include "cd-page-type-stage.h"
#include "cd-rules-classifier.h"

struct _CdPageTypeStage {
  CdPageStage parent_instance;
  gchar *rules;             /* the rules file, "" for the shipped one */
  CdClassifier *classifier; /* once started */
};

G_DEFINE_FINAL_TYPE(CdPageTypeStage, cd_page_type_stage, CD_TYPE_PAGE_STAGE)

enum {
  PROP_0,
  PROP_RULES,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

static gboolean
cd_page_type_stage_start(CdStage *stage, GError **error)
{
  CdPageTypeStage *self = CD_PAGE_TYPE_STAGE(stage);
  g_autoptr(CdClassifier) classifier =
      g_object_new(CD_TYPE_RULES_CLASSIFIER, "rules", self->rules != NULL ? self->rules : "", "timeout", 0.0, NULL);

  if (!cd_stage_start(CD_STAGE(classifier), error))
    return FALSE;
  self->classifier = g_steal_pointer(&classifier);
  return TRUE;
}

static void
cd_page_type_stage_stop(CdStage *stage)
{
  CdPageTypeStage *self = CD_PAGE_TYPE_STAGE(stage);

  if (self->classifier != NULL)
    cd_stage_stop(CD_STAGE(self->classifier));
  g_clear_object(&self->classifier);
}

/* The rules read only immutable state once started, so pages of several
 * workers are scored at once without a lock. */
static gboolean
cd_page_type_stage_process(CdPageStage *stage, CdPage *page, GCancellable *cancellable, GError **error)
{
  CdPageTypeStage *self = CD_PAGE_TYPE_STAGE(stage);
  g_autoptr(CdDocument) alone = NULL;
  g_autoptr(GPtrArray) scores = NULL;
  const CdLabelScore *best = NULL;

  if (cd_page_get_text(page) == NULL || *cd_page_get_text(page) == '\0')
    return TRUE;
  alone = cd_document_new();
  cd_document_add_page(alone, page);
  scores = cd_classifier_classify(self->classifier, alone, cancellable, error);
  if (scores == NULL)
    return FALSE;
  for (guint i = 0; i < scores->len; i++) {
    const CdLabelScore *s = g_ptr_array_index(scores, i);
    if (best == NULL || s->score > best->score)
      best = s;
  }
  if (best != NULL && best->score > 0) {
    cd_page_set_fact(page, CD_FACT_PAGE_TYPE, g_variant_new_string(best->label));
    cd_page_set_fact(page, CD_FACT_PAGE_TYPE_SCORE, g_variant_new_double(best->score));
  }
  return TRUE;
}

static void
cd_page_type_stage_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdPageTypeStage *self = CD_PAGE_TYPE_STAGE(object);

  switch (prop_id) {
  case PROP_RULES:
    g_value_set_string(value, self->rules);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_page_type_stage_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdPageTypeStage *self = CD_PAGE_TYPE_STAGE(object);

  switch (prop_id) {
  case PROP_RULES:
    g_free(self->rules);
    self->rules = g_value_dup_string(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_page_type_stage_finalize(GObject *object)
{
  CdPageTypeStage *self = CD_PAGE_TYPE_STAGE(object);

  g_clear_object(&self->classifier);
  g_free(self->rules);
  G_OBJECT_CLASS(cd_page_type_stage_parent_class)->finalize(object);
}

static void
cd_page_type_stage_class_init(CdPageTypeStageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);

  object_class->finalize = cd_page_type_stage_finalize;
  object_class->get_property = cd_page_type_stage_get_property;
  object_class->set_property = cd_page_type_stage_set_property;
  stage_class->start = cd_page_type_stage_start;
  stage_class->stop = cd_page_type_stage_stop;
  CD_PAGE_STAGE_CLASS(klass)->process = cd_page_type_stage_process;

  props[PROP_RULES] =
      g_param_spec_string("rules", "Rules file", "The rules classifier's keyfile; empty for the shipped rules", "",
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_CONSTRUCT);
  g_object_class_install_properties(object_class, N_PROPS, props);
  cd_stage_class_set_metadata(stage_class, "page-type",
                              "Scores every page alone with the rules classifier, for the splitter to see changes "
                              "of type");
}

static void
cd_page_type_stage_init(CdPageTypeStage *self)
{
}
