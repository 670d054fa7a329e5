/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include "cd-document.h"
#include "cd-stage.h"
#include "cd-taxonomy.h"

G_BEGIN_DECLS

/**
 * CdLabelScore:
 * @label: a document type of the taxonomy (`discharge-summary`, …)
 * @score: how strongly the classifier believes in @label, 0 to 1
 *
 * One scored label. Scores of one classifier need not sum to 1; the engine
 * normalises them before combining classifiers.
 *
 * Since: 0.1
 */
typedef struct {
  gchar *label;
  gdouble score;
} CdLabelScore;

#define CD_TYPE_LABEL_SCORE (cd_label_score_get_type())
GType cd_label_score_get_type(void) G_GNUC_CONST;
CdLabelScore *cd_label_score_new(const gchar *label, gdouble score);
CdLabelScore *cd_label_score_copy(const CdLabelScore *score);
void cd_label_score_free(CdLabelScore *score);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdLabelScore, cd_label_score_free)

#define CD_TYPE_CLASSIFIER (cd_classifier_get_type())
G_DECLARE_DERIVABLE_TYPE(CdClassifier, cd_classifier, CD, CLASSIFIER, CdStage)

/**
 * CdClassifierClass:
 * @parent_class: the parent class
 * @classify: score document types for a whole document: append
 *   #CdLabelScore items to @scores (an array that frees its items); leaving
 *   it empty means "don't know"
 *
 * Classifiers run after the document stages, on every document, one
 * document at a time. The engine combines the scores of all enabled
 * classifiers, stores the winning type and its confidence, and sends the
 * document to review when the confidence is below the type's threshold. A
 * classifier that fails returns %FALSE with an error: the engine records it
 * as a problem of the document and the batch goes on.
 *
 * When the classifier's `timeout` is not 0, @classify runs on a helper
 * thread (never two calls at once) and @cancellable is cancelled when the
 * time is up; a classifier that does a long computation should check it. A
 * classifier that does not return within a second of being cancelled is
 * abandoned and not called again in this process.
 *
 * Labels should be names of the taxonomy (cd_classifier_get_taxonomy()).
 *
 * Since: 0.1
 */
struct _CdClassifierClass {
  CdStageClass parent_class;

  gboolean (*classify)(CdClassifier *self, CdDocument *document, GPtrArray *scores, GCancellable *cancellable,
                       GError **error);

  /*< private >*/
  gpointer padding[15];
};

gdouble cd_classifier_get_weight(CdClassifier *self);
gdouble cd_classifier_get_timeout(CdClassifier *self);
CdTaxonomy *cd_classifier_get_taxonomy(CdClassifier *self);
void cd_classifier_set_taxonomy(CdClassifier *self, CdTaxonomy *taxonomy);
GPtrArray *cd_classifier_classify(CdClassifier *self, CdDocument *document, GCancellable *cancellable, GError **error);

G_END_DECLS
