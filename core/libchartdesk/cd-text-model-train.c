/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Training a CdTextModel: balanced multinomial logistic regression by
 * stochastic gradient descent over the hashed features.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cd-classifier.h"
#include "cd-error.h"
#include "cd-text-model-private.h"

static gint
cd_strcmp_indirect(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

/**
 * cd_text_model_train:
 * @self: a #CdTextModel
 * @texts: (element-type utf8): the documents' text
 * @labels: (element-type utf8): each document's type, in the same order
 * @cancellable: (nullable): a #GCancellable, checked between passes
 * @error: return location for a #GError
 *
 * Trains the model from scratch on labelled text, replacing what it knew.
 * The same documents, parameters and #CdTextModel:seed give the same model.
 * Documents without a word of text are skipped. At least two types are
 * needed; a type of few documents is learnt, but poorly.
 *
 * Returns: %TRUE on success; %CD_ERROR_INVALID_ARGUMENT for unusable input
 *
 * Since: 0.1
 */
gboolean
cd_text_model_train(CdTextModel *self, GPtrArray *texts, GPtrArray *labels, GCancellable *cancellable, GError **error)
{
  g_autoptr(GHashTable) index = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) names = g_ptr_array_new();
  g_autoptr(GArray) feats = g_array_new(FALSE, FALSE, sizeof(guint32));
  g_autoptr(GArray) offsets = g_array_new(FALSE, FALSE, sizeof(gsize));
  g_autoptr(GArray) norms = g_array_new(FALSE, FALSE, sizeof(gfloat));
  g_autoptr(GArray) ys = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autoptr(GArray) packed = g_array_new(FALSE, FALSE, sizeof(guint32));
  g_autoptr(GRand) rand = NULL;
  g_autofree guint *order = NULL;
  g_autofree guint *counts = NULL;
  g_autofree gdouble *class_weight = NULL;
  g_autofree gdouble *z = NULL;
  g_autofree gfloat *w = NULL;
  g_autofree guint8 *known = NULL;
  g_autofree gdouble *b = NULL;
  gsize n_buckets = (gsize) 1 << self->hash_bits;
  gsize zero = 0;
  guint n_docs, n_labels;
  gdouble scale = 1.0;
  guint64 t = 0;

  g_return_val_if_fail(CD_IS_TEXT_MODEL(self), FALSE);
  g_return_val_if_fail(texts != NULL && labels != NULL, FALSE);

  if (texts->len != labels->len) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%u texts but %u labels", texts->len, labels->len);
    return FALSE;
  }
  for (guint i = 0; i < labels->len; i++) {
    const gchar *label = g_ptr_array_index(labels, i);
    if (label == NULL || label[0] == '\0' || !g_utf8_validate(label, -1, NULL)) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "document %u has no valid label", i + 1);
      return FALSE;
    }
    if (!g_hash_table_contains(index, label)) {
      g_hash_table_add(index, (gpointer) label);
      g_ptr_array_add(names, (gpointer) label);
    }
  }
  if (names->len < 2) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "training needs documents of at least two types, got %u",
                names->len);
    return FALSE;
  }
  if (names->len > MAX_LABELS) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "too many types (%u, at most %u)", names->len, MAX_LABELS);
    return FALSE;
  }
  g_ptr_array_sort(names, cd_strcmp_indirect);
  g_hash_table_remove_all(index);
  for (guint k = 0; k < names->len; k++)
    g_hash_table_insert(index, g_ptr_array_index(names, k), GUINT_TO_POINTER(k));
  n_labels = names->len;

  cd_text_model_init_tables();
  g_array_append_val(offsets, zero);
  counts = g_new0(guint, n_labels);
  for (guint i = 0; i < texts->len; i++) {
    const gchar *text = g_ptr_array_index(texts, i);
    guint y = GPOINTER_TO_UINT(g_hash_table_lookup(index, g_ptr_array_index(labels, i)));
    gsize end;

    if (text == NULL)
      continue;
    cd_text_model_features(self, text, packed);
    if (packed->len == 0)
      continue;
    g_array_append_vals(feats, packed->data, packed->len);
    end = feats->len;
    g_array_append_val(offsets, end);
    g_array_append_val(ys, y);
    counts[y]++;
    if (i % 256 == 0 && g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
  }
  n_docs = ys->len;
  if (n_docs == 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "no training document has any text");
    return FALSE;
  }

  /* n-grams no training document has (OCR garbage, names never seen)
   * carry nothing the model learnt: they are left out of a document's norm,
   * where they would only dilute what the model knows */
  known = g_malloc0(n_buckets / 8);
  for (guint i = 0; i < feats->len; i++) {
    guint32 bucket = CD_FEATURE_BUCKET(g_array_index(feats, guint32, i));
    known[bucket >> 3] |= 1u << (bucket & 7);
  }
  g_array_set_size(norms, n_docs);
  for (guint d = 0; d < n_docs; d++) {
    gsize from = g_array_index(offsets, gsize, d);
    gsize to = g_array_index(offsets, gsize, d + 1);
    g_array_index(norms, gfloat, d) = cd_features_inv_norm(&g_array_index(feats, guint32, from), to - from, known);
  }

  class_weight = g_new0(gdouble, n_labels);
  for (guint k = 0; k < n_labels; k++)
    class_weight[k] = !self->balanced || counts[k] == 0 ? 1.0 : (gdouble) n_docs / (n_labels * (gdouble) counts[k]);

  /* SGD on the L2-regularised log-loss; the weights are kept as scale * w
   * so that the decay of every weight costs one multiplication (Bottou) */
  w = g_new0(gfloat, n_buckets * n_labels);
  b = g_new0(gdouble, n_labels);
  z = g_new0(gdouble, n_labels);
  order = g_new(guint, n_docs);
  for (guint i = 0; i < n_docs; i++)
    order[i] = i;
  rand = g_rand_new_with_seed(self->seed);
  for (guint epoch = 0; epoch < self->epochs; epoch++) {
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    for (guint i = n_docs - 1; i > 0; i--) {
      guint j = g_rand_int_range(rand, 0, i + 1);
      guint tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    for (guint o = 0; o < n_docs; o++) {
      guint d = order[o];
      guint y = g_array_index(ys, guint, d);
      gsize from = g_array_index(offsets, gsize, d);
      gsize to = g_array_index(offsets, gsize, d + 1);
      const guint32 *f = &g_array_index(feats, guint32, 0);
      gfloat inv_norm = g_array_index(norms, gfloat, d);
      gdouble lr = self->learning_rate / (1.0 + self->learning_rate * self->l2 * (gdouble) t++);
      gdouble step;

      for (guint k = 0; k < n_labels; k++)
        z[k] = 0;
      for (gsize j = from; j < to; j++) {
        const gfloat *row = w + (gsize) CD_FEATURE_BUCKET(f[j]) * n_labels;
        gdouble x = cd_feature_value(f[j], NULL) * inv_norm;
        for (guint k = 0; k < n_labels; k++)
          z[k] += x * row[k];
      }
      for (guint k = 0; k < n_labels; k++)
        z[k] = z[k] * scale + b[k];
      cd_softmax(z, n_labels);
      for (guint k = 0; k < n_labels; k++)
        z[k] = (z[k] - (k == y ? 1.0 : 0.0)) * class_weight[y];

      scale *= 1.0 - lr * self->l2;
      if (scale < 1e-6) {
        for (gsize j = 0; j < n_buckets * n_labels; j++)
          w[j] = (gfloat) (w[j] * scale);
        scale = 1.0;
      }
      step = lr / scale;
      for (gsize j = from; j < to; j++) {
        gfloat *row = w + (gsize) CD_FEATURE_BUCKET(f[j]) * n_labels;
        gdouble x = cd_feature_value(f[j], NULL) * inv_norm * step;
        for (guint k = 0; k < n_labels; k++)
          row[k] -= (gfloat) (x * z[k]);
      }
      for (guint k = 0; k < n_labels; k++)
        b[k] -= lr * z[k];
    }
  }
  for (gsize j = 0; j < n_buckets * n_labels; j++)
    w[j] = (gfloat) (w[j] * scale);

  cd_text_model_clear(self);
  self->labels = g_new0(gchar *, n_labels + 1);
  for (guint k = 0; k < n_labels; k++)
    self->labels[k] = g_strdup(g_ptr_array_index(names, k));
  self->n_labels = n_labels;
  self->label_counts = g_steal_pointer(&counts);
  self->n_trained = n_docs;
  self->weights = g_steal_pointer(&w);
  self->bias = g_steal_pointer(&b);
  self->known = g_steal_pointer(&known);
  return TRUE;
}
