/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cd-classifier.h"
#include "cd-error.h"
#include "cd-text-model-private.h"

/**
 * CdTextModel:
 *
 * A statistical text classifier for OCR'd documents: multinomial logistic
 * regression over hashed word unigrams, word bigrams, character 3- to
 * 5-grams and optionally section headings, trained by stochastic gradient descent.
 *
 * Text is normalised to be forgiving of OCR: lowercased, digits and
 * punctuation dropped, and `0`, `1`, `5`, `|` read as `o`, `l`, `s`, `l`
 * inside words that also hold letters. Character n-grams keep a word that
 * OCR broke or misread partly recognisable. Features are hashed into
 * 2^#CdTextModel:hash-bits buckets (the hashing trick), so the model has a
 * fixed size whatever the vocabulary. With #CdTextModel:headings a section
 * heading (capitals ending at a colon, or a line of capitals: "FINDINGS:",
 * "DISCHARGE SUMMARY") is a feature of its own, weighted above the words of
 * the body.
 *
 * Scores are softmax probabilities of a model trained on log-loss, so they
 * sum to 1 and behave roughly like probabilities: a per-type threshold of
 * 0.6 means about what it says. With #CdTextModel:balanced (the default)
 * every type weighs the same in training however rare it is, which favours
 * recall on rare types.
 *
 * A model serialises to a versioned, compressed blob
 * (cd_text_model_to_bytes()) that cd_text_model_new_from_bytes() checks
 * before trusting.
 *
 * Since: 0.1
 */

G_DEFINE_FINAL_TYPE(CdTextModel, cd_text_model, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_HASH_BITS,
  PROP_EPOCHS,
  PROP_L2,
  PROP_LEARNING_RATE,
  PROP_BALANCED,
  PROP_SEED,
  PROP_HEADINGS,
  PROP_TFIDF,
  PROP_LEAD,
  PROP_NB_ALPHA,
  PROP_CALIBRATE,
  PROP_LEARNER,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

const gchar *
cd_text_learner_name(CdTextLearner learner)
{
  return learner == CD_TEXT_LEARNER_LBFGS ? "lbfgs" : "sgd";
}

gboolean
cd_text_learner_from_name(const gchar *name, CdTextLearner *learner)
{
  if (g_strcmp0(name, "sgd") == 0)
    *learner = CD_TEXT_LEARNER_SGD;
  else if (g_strcmp0(name, "lbfgs") == 0)
    *learner = CD_TEXT_LEARNER_LBFGS;
  else
    return FALSE;
  return TRUE;
}

void
cd_text_model_clear(CdTextModel *self)
{
  g_clear_pointer(&self->labels, g_strfreev);
  g_clear_pointer(&self->label_counts, g_free);
  g_clear_pointer(&self->weights, g_free);
  g_clear_pointer(&self->bias, g_free);
  g_clear_pointer(&self->known, g_free);
  g_clear_pointer(&self->idf, g_free);
  g_clear_pointer(&self->nb_weights, g_free);
  g_clear_pointer(&self->offsets, g_free);
  self->lr_scale = 1.0;
  self->nb_scale = 1.0;
  self->n_labels = 0;
  self->n_trained = 0;
}

static void
cd_text_model_finalize(GObject *object)
{
  cd_text_model_clear(CD_TEXT_MODEL(object));
  G_OBJECT_CLASS(cd_text_model_parent_class)->finalize(object);
}

static void
cd_text_model_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdTextModel *self = CD_TEXT_MODEL(object);

  switch (prop_id) {
  case PROP_HASH_BITS:
    g_value_set_uint(value, self->hash_bits);
    break;
  case PROP_EPOCHS:
    g_value_set_uint(value, self->epochs);
    break;
  case PROP_L2:
    g_value_set_double(value, self->l2);
    break;
  case PROP_LEARNING_RATE:
    g_value_set_double(value, self->learning_rate);
    break;
  case PROP_BALANCED:
    g_value_set_boolean(value, self->balanced);
    break;
  case PROP_SEED:
    g_value_set_uint(value, self->seed);
    break;
  case PROP_HEADINGS:
    g_value_set_boolean(value, self->features >= 2);
    break;
  case PROP_TFIDF:
    g_value_set_boolean(value, self->tfidf);
    break;
  case PROP_LEAD:
    g_value_set_uint(value, self->lead);
    break;
  case PROP_NB_ALPHA:
    g_value_set_double(value, self->nb_alpha);
    break;
  case PROP_CALIBRATE:
    g_value_set_uint(value, self->calibrate);
    break;
  case PROP_LEARNER:
    g_value_set_string(value, cd_text_learner_name(self->learner));
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_text_model_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdTextModel *self = CD_TEXT_MODEL(object);

  switch (prop_id) {
  case PROP_HASH_BITS:
    self->hash_bits = g_value_get_uint(value);
    break;
  case PROP_EPOCHS:
    self->epochs = g_value_get_uint(value);
    break;
  case PROP_L2:
    self->l2 = g_value_get_double(value);
    break;
  case PROP_LEARNING_RATE:
    self->learning_rate = g_value_get_double(value);
    break;
  case PROP_BALANCED:
    self->balanced = g_value_get_boolean(value);
    break;
  case PROP_SEED:
    self->seed = g_value_get_uint(value);
    break;
  case PROP_HEADINGS:
    self->features = g_value_get_boolean(value) ? 2 : 1;
    break;
  case PROP_TFIDF:
    self->tfidf = g_value_get_boolean(value);
    break;
  case PROP_LEAD:
    self->lead = g_value_get_uint(value);
    break;
  case PROP_NB_ALPHA:
    self->nb_alpha = g_value_get_double(value);
    break;
  case PROP_CALIBRATE:
    self->calibrate = g_value_get_uint(value);
    break;
  case PROP_LEARNER: {
    const gchar *name = g_value_get_string(value);
    if (!cd_text_learner_from_name(name, &self->learner))
      g_warning("CdTextModel: unknown learner '%s' (sgd or lbfgs); keeping '%s'", name != NULL ? name : "(null)",
                cd_text_learner_name(self->learner));
    break;
  }
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_text_model_class_init(CdTextModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->finalize = cd_text_model_finalize;
  object_class->get_property = cd_text_model_get_property;
  object_class->set_property = cd_text_model_set_property;

  /**
   * CdTextModel:hash-bits:
   *
   * Features are hashed into 2^hash-bits buckets per type.
   *
   * Since: 0.1
   */
  props[PROP_HASH_BITS] = g_param_spec_uint("hash-bits", "Hash bits",
                                            "Features are hashed into 2^hash-bits buckets; more means fewer "
                                            "collisions and a larger model",
                                            12, 22, DEFAULT_HASH_BITS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * CdTextModel:epochs:
   *
   * Passes of stochastic gradient descent over the training documents.
   *
   * Since: 0.1
   */
  props[PROP_EPOCHS] = g_param_spec_uint("epochs", "Epochs", "Passes over the training documents", 1, 100,
                                         DEFAULT_EPOCHS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * CdTextModel:l2:
   *
   * The L2 regularisation strength.
   *
   * Since: 0.1
   */
  props[PROP_L2] = g_param_spec_double("l2", "L2", "L2 regularisation strength; larger gives softer probabilities", 0.0,
                                       1.0, DEFAULT_L2, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * CdTextModel:learning-rate:
   *
   * The initial step size of gradient descent.
   *
   * Since: 0.1
   */
  props[PROP_LEARNING_RATE] =
      g_param_spec_double("learning-rate", "Learning rate", "Initial step size of gradient descent", 1e-4, 10.0,
                          DEFAULT_LEARNING_RATE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * CdTextModel:balanced:
   *
   * Weigh each type equally in training however many examples it has.
   *
   * Since: 0.1
   */
  props[PROP_BALANCED] =
      g_param_spec_boolean("balanced", "Balanced", "Weigh every type equally in training, however rare",
                           DEFAULT_BALANCED, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * CdTextModel:seed:
   *
   * Seed of the training order; the same data and seed give the same model.
   *
   * Since: 0.1
   */
  props[PROP_SEED] = g_param_spec_uint("seed", "Seed", "Seed of the training order, for reproducible models", 0,
                                       G_MAXUINT, DEFAULT_SEED, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * CdTextModel:headings:
   *
   * Also learn from section headings: a run of capitals ending at a colon
   * or making up a line ("FINDINGS:", "DISCHARGE SUMMARY") is a feature of
   * its own, weighted above the words of the body, and each of its words a
   * heading word. A model trained with headings is saved in format 2 (3
   * with #CdTextModel:lead), which a Chartdesk that reads only format 1
   * refuses. On by default since, together with #CdTextModel:lead, it
   * gained 0.029 macro-F1 in cross-validation on the mtsamples training
   * portion (docs/trained-classifier.md, issue 12).
   *
   * Since: 0.1
   */
  props[PROP_HEADINGS] =
      g_param_spec_boolean("headings", "Headings", "Also learn from section headings (capitals ending at a colon)",
                           DEFAULT_HEADINGS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * CdTextModel:tfidf:
   *
   * Weigh each feature by its inverse document frequency in the training
   * documents (log((1 + N) / (1 + df)) + 1) before normalising, so that
   * n-grams every document has say less. The frequencies are stored with
   * the model (format 3).
   *
   * Since: 0.1
   */
  props[PROP_TFIDF] = g_param_spec_boolean("tfidf", "TF-IDF", "Weigh features by inverse document frequency", FALSE,
                                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * CdTextModel:lead:
   *
   * The document's first this many words (where a title or the first
   * heading is) are also features of their own, words and word pairs,
   * weighted like headings. 0: off. Stored in format 3. 16 by default
   * (cross-validated: 4, 8, 12, 24, 32 and 64 did worse).
   *
   * Since: 0.1
   */
  props[PROP_LEAD] =
      g_param_spec_uint("lead", "Lead words", "The first this many words are also features of their own; 0: off", 0, 64,
                        DEFAULT_LEAD, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * CdTextModel:nb-alpha:
   *
   * When above 0, a complement naive Bayes model over the same features
   * (with this additive smoothing) is trained beside the linear model and
   * their probabilities averaged. Stored in format 3; doubles the model's
   * size.
   *
   * Since: 0.1
   */
  props[PROP_NB_ALPHA] = g_param_spec_double(
      "nb-alpha", "Naive Bayes smoothing", "Also train complement naive Bayes with this smoothing and average; 0: off",
      0.0, 100.0, 0.0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * CdTextModel:calibrate:
   *
   * When 2 or more, training also cross-validates the model over this many
   * folds of its own training documents and, from the held-out scores,
   * fits a scale for each model's scores (log-loss) and a per-type prior
   * correction that maximises macro-F1. Costs that many extra trainings.
   * Stored in format 3.
   *
   * Since: 0.1
   */
  props[PROP_CALIBRATE] =
      g_param_spec_uint("calibrate", "Calibration folds",
                        "Calibrate scores and per-type priors by cross-validation over this many folds; 0: off", 0, 20,
                        0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * CdTextModel:learner:
   *
   * How the linear model is fitted: `sgd`, stochastic gradient descent
   * for #CdTextModel:epochs passes (stopped early: #CdTextModel:l2 is
   * nearly 0), or `lbfgs`, the same balanced, L2-regularised log-loss
   * minimised to convergence on the whole training set by L-BFGS (at most
   * 25 × #CdTextModel:epochs iterations), which depends on the data and
   * #CdTextModel:l2 only. The trained model is stored and applied the same
   * way whichever learner made it.
   *
   * Since: 0.1
   */
  props[PROP_LEARNER] =
      g_param_spec_string("learner", "Learner", "How the linear model is fitted: sgd or lbfgs",
                          cd_text_learner_name(DEFAULT_LEARNER), G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
cd_text_model_init(CdTextModel *self)
{
  self->hash_bits = DEFAULT_HASH_BITS;
  self->epochs = DEFAULT_EPOCHS;
  self->l2 = DEFAULT_L2;
  self->learning_rate = DEFAULT_LEARNING_RATE;
  self->balanced = DEFAULT_BALANCED;
  self->seed = DEFAULT_SEED;
  self->features = DEFAULT_HEADINGS ? 2 : 1;
  self->lead = DEFAULT_LEAD;
  self->learner = DEFAULT_LEARNER;
  self->nb_alpha = 0;
  self->calibrate = 0;
  self->lr_scale = 1.0;
  self->nb_scale = 1.0;
}

/**
 * cd_text_model_new:
 *
 * Returns: (transfer full): an untrained model with default parameters
 *
 * Since: 0.1
 */
CdTextModel *
cd_text_model_new(void)
{
  return g_object_new(CD_TYPE_TEXT_MODEL, NULL);
}

/**
 * cd_text_model_is_trained:
 * @self: a #CdTextModel
 *
 * Returns: whether the model was trained or loaded
 *
 * Since: 0.1
 */
gboolean
cd_text_model_is_trained(CdTextModel *self)
{
  g_return_val_if_fail(CD_IS_TEXT_MODEL(self), FALSE);
  return self->weights != NULL;
}

/**
 * cd_text_model_get_labels:
 * @self: a #CdTextModel
 *
 * Returns: (transfer none) (nullable): the types the model knows, sorted;
 *   %NULL before training
 *
 * Since: 0.1
 */
const gchar *const *
cd_text_model_get_labels(CdTextModel *self)
{
  g_return_val_if_fail(CD_IS_TEXT_MODEL(self), NULL);
  return (const gchar *const *) self->labels;
}

/**
 * cd_text_model_get_n_trained:
 * @self: a #CdTextModel
 *
 * Returns: how many documents the model was trained on
 *
 * Since: 0.1
 */
guint
cd_text_model_get_n_trained(CdTextModel *self)
{
  g_return_val_if_fail(CD_IS_TEXT_MODEL(self), 0);
  return self->n_trained;
}

static gint
cd_label_score_cmp(gconstpointer a, gconstpointer b)
{
  const CdLabelScore *x = *(CdLabelScore *const *) a;
  const CdLabelScore *y = *(CdLabelScore *const *) b;
  if (x->score != y->score)
    return x->score > y->score ? -1 : 1;
  return g_strcmp0(x->label, y->label);
}

/**
 * cd_text_model_predict:
 * @self: a trained #CdTextModel
 * @text: a document's text
 *
 * Scores every type the model knows for @text: probabilities that sum to
 * 1, best first. Text without a word the model can read (empty, or only
 * digits and punctuation) gets no scores at all: "don't know".
 *
 * Returns: (transfer container) (element-type CdLabelScore): the scores
 *
 * Since: 0.1
 */
GPtrArray *
cd_text_model_predict(CdTextModel *self, const gchar *text)
{
  g_autoptr(GPtrArray) scores = g_ptr_array_new_with_free_func((GDestroyNotify) cd_label_score_free);
  g_autoptr(GArray) packed = g_array_new(FALSE, FALSE, sizeof(guint32));
  gdouble z[MAX_LABELS], nb[MAX_LABELS];
  CdScorer scorer = { self->n_labels, self->weights, self->bias, self->nb_weights, self->known, self->idf };

  g_return_val_if_fail(CD_IS_TEXT_MODEL(self), NULL);

  if (self->weights == NULL || text == NULL)
    return g_steal_pointer(&scores);
  cd_text_model_init_tables();
  cd_text_model_features(self, text, packed);
  if (packed->len == 0)
    return g_steal_pointer(&scores);
  if (!cd_scorer_raw(&scorer, &g_array_index(packed, guint32, 0), packed->len, z, nb))
    return g_steal_pointer(&scores);
  cd_scores_mix(self->n_labels, z, self->nb_weights != NULL ? nb : NULL, self->lr_scale, self->nb_scale, self->offsets);
  for (guint k = 0; k < self->n_labels; k++)
    g_ptr_array_add(scores, cd_label_score_new(self->labels[k], z[k]));
  g_ptr_array_sort(scores, cd_label_score_cmp);
  return g_steal_pointer(&scores);
}
