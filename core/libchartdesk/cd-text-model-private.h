/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the parts of CdTextModel share: the instance, the limits, and the
 * hashed features (cd-text-features.c) that training
 * (cd-text-model-train.c), prediction (cd-text-model.c) and the stored
 * form (cd-text-model-io.c) are made of.
 */
#pragma once

#include "cd-text-model.h"

G_BEGIN_DECLS

#define CD_TEXT_MODEL_MAGIC "chartdesk-text-model"
#define CD_TEXT_MODEL_VARIANT_TYPE "(sua{sv}asaday)"
#define MAX_TEXT_BYTES (512 * 1024) /* a longer document is classified by its start */
#define MAX_WORD_BYTES 48
#define MAX_HEADING_BYTES 64
#define MAX_LABELS 256
#define CHAR_NGRAM_MIN 3
#define CHAR_NGRAM_MAX 5
#define COUNT_SHIFT 24             /* packed feature: bucket in the low 24 bits, count above */
#define CD_HEADING_FLAG (1u << 23) /* packed feature: a section heading's (bucket below 2^22) */
#define CD_FEATURE_BUCKET(f) ((f) &0x3fffff)

#define DEFAULT_HASH_BITS 18
#define DEFAULT_EPOCHS 8
#define DEFAULT_L2 1e-6
#define DEFAULT_LEARNING_RATE 1.5
#define DEFAULT_BALANCED TRUE
#define DEFAULT_SEED 1
/* the feature set: 1 words and characters, 2 also section headings */
#define CD_TEXT_FEATURES_LATEST 2
/* section headings and the first 16 words as features of their own: chosen
 * by 5-fold cross-validation on the training 80% of mtsamples, three fold
 * seeds (docs/trained-classifier.md, issue 12) */
#define DEFAULT_HEADINGS TRUE
#define DEFAULT_LEAD 16

/* how the linear model is fitted; the stored model is the same either way */
typedef enum {
  CD_TEXT_LEARNER_SGD,   /* stochastic gradient descent, self->epochs passes */
  CD_TEXT_LEARNER_LBFGS, /* L-BFGS on the whole training set, to convergence */
} CdTextLearner;
#define DEFAULT_LEARNER CD_TEXT_LEARNER_SGD

struct _CdTextModel {
  GObject parent_instance;
  guint hash_bits;
  guint epochs;
  gdouble l2;
  gdouble learning_rate;
  gboolean balanced;
  guint seed;
  guint features; /* which feature set: 1 (format 1 models) or 2 */
  CdTextLearner learner;
  /* the trained model; weights are feature-major: w[bucket * n_labels + k] */
  GStrv labels;
  guint n_labels;
  guint *label_counts;
  guint n_trained;
  gfloat *weights;
  gdouble *bias;
  guint8 *known; /* bitmap: buckets some training document has */
  /* format 3: all optional */
  gboolean tfidf;
  guint lead;         /* the first this many words are also features of their own; 0: off */
  gfloat *idf;        /* per bucket with tfidf, else NULL */
  gdouble nb_alpha;   /* complement naive Bayes beside the linear model; 0: none */
  gfloat *nb_weights; /* like weights: nb_weights[bucket * n_labels + k] */
  guint calibrate;    /* inner folds that calibrated the scores; 0: not calibrated */
  gdouble lr_scale;   /* the linear model's logits are multiplied by this (1 uncalibrated) */
  gdouble nb_scale;   /* and naive Bayes' scores by this */
  gdouble *offsets;   /* per type, added to the log of the combined probability; NULL: none */
};

/* whether a model needs format 3 to be stored */
#define CD_TEXT_MODEL_NEEDS_FORMAT_3(self)                                                                             \
  ((self)->tfidf || (self)->lead > 0 || (self)->nb_alpha > 0 || (self)->calibrate > 0)

void cd_text_model_clear(CdTextModel *self);
const gchar *cd_text_learner_name(CdTextLearner learner);
gboolean cd_text_learner_from_name(const gchar *name, CdTextLearner *learner);

extern gfloat cd_text_count_weight[256];
extern const gdouble cd_text_heading_weight;
void cd_text_model_init_tables(void);
void cd_text_model_features(CdTextModel *self, const gchar *text, GArray *packed);
gfloat cd_features_inv_norm(const guint32 *f, gsize n, const guint8 *known, const gfloat *idf);

/* What scores a document: the trained model's parts, or a fold's during
 * calibration. */
typedef struct {
  guint n_labels;
  const gfloat *weights;
  const gdouble *bias;
  const gfloat *nb_weights; /* NULL: no naive Bayes */
  const guint8 *known;
  const gfloat *idf;
} CdScorer;

gboolean cd_scorer_raw(const CdScorer *s, const guint32 *f, gsize n, gdouble *lr, gdouble *nb);
void cd_scores_mix(guint n_labels, gdouble *lr, const gdouble *nb, gdouble lr_scale, gdouble nb_scale,
                   const gdouble *offsets);
void cd_softmax(gdouble *z, guint n);

#define CD_KNOWN(known, bucket) ((known)[(bucket) >> 3] & (1u << ((bucket) &7)))

/* The weight of a packed feature before normalisation: 1 + log count,
 * times the bucket's inverse document frequency with @idf, or 0 for a
 * bucket no training document had (@known NULL: all count). */
static inline gdouble
cd_feature_value(guint32 f, const guint8 *known, const gfloat *idf)
{
  guint32 bucket = CD_FEATURE_BUCKET(f);
  gdouble v;
  if (known != NULL && !CD_KNOWN(known, bucket))
    return 0;
  v = cd_text_count_weight[f >> COUNT_SHIFT] * ((f & CD_HEADING_FLAG) != 0 ? cd_text_heading_weight : 1.0);
  return idf != NULL ? v * idf[bucket] : v;
}

G_END_DECLS
