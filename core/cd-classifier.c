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

G_DEFINE_ABSTRACT_TYPE(CdClassifier, cd_classifier, CD_TYPE_STAGE)

static void
cd_classifier_class_init(CdClassifierClass *klass)
{
}

static void
cd_classifier_init(CdClassifier *self)
{
}

/**
 * cd_classifier_classify:
 * @self: a #CdClassifier
 * @document: the document to classify
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The engine's entry to #CdClassifierClass.classify. A disabled classifier
 * returns an empty array. Scores are clamped to 0…1 and labels that are not
 * valid UTF-8 are dropped, so a careless plugin cannot poison the combined
 * result.
 *
 * Returns: (transfer container) (element-type CdLabelScore): the scores, or
 *   %NULL with @error set
 *
 * Since: 0.1
 */
GPtrArray *
cd_classifier_classify(CdClassifier *self, CdDocument *document, GCancellable *cancellable, GError **error)
{
  CdClassifierClass *klass = CD_CLASSIFIER_GET_CLASS(self);
  g_autoptr(GPtrArray) scores = g_ptr_array_new_with_free_func((GDestroyNotify) cd_label_score_free);
  g_autoptr(GError) error_local = NULL;

  g_return_val_if_fail(CD_IS_CLASSIFIER(self), NULL);
  g_return_val_if_fail(CD_IS_DOCUMENT(document), NULL);

  if (!cd_stage_get_enabled(CD_STAGE(self)) || klass->classify == NULL)
    return g_steal_pointer(&scores);
  if (g_cancellable_set_error_if_cancelled(cancellable, error))
    return NULL;
  if (!klass->classify(self, document, scores, cancellable, &error_local)) {
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
