/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Training a CdTextModel: balanced multinomial logistic regression by
 * stochastic gradient descent over the hashed features; optionally
 * complement naive Bayes beside it, and a calibration of both by
 * cross-validation on the training documents.
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

/* The training documents' features, extracted once. */
typedef struct {
  GArray *feats;   /* guint32 packed features of every document, in order */
  GArray *offsets; /* gsize: document d's features are [offsets[d], offsets[d + 1]) */
  GArray *ys;      /* guint: document d's type */
  guint n_labels;
  gsize n_buckets;
} CdDocs;

#define CD_DOC_FEATURES(docs, d) (&g_array_index((docs)->feats, guint32, g_array_index((docs)->offsets, gsize, (d))))
#define CD_DOC_N(docs, d) (g_array_index((docs)->offsets, gsize, (d) + 1) - g_array_index((docs)->offsets, gsize, (d)))

/* The buckets the documents in @subset have, and with @idf_out their
 * inverse document frequencies: log((1 + n) / (1 + df)) + 1, 0 where no
 * document has the bucket. */
static void
cd_docs_stats(CdDocs *docs, const guint *subset, guint n, guint8 **known_out, gfloat **idf_out)
{
  guint8 *known = g_malloc0(docs->n_buckets / 8);
  g_autofree guint32 *df = idf_out != NULL ? g_new0(guint32, docs->n_buckets) : NULL;

  for (guint i = 0; i < n; i++) {
    const guint32 *f = CD_DOC_FEATURES(docs, subset[i]);
    gsize m = CD_DOC_N(docs, subset[i]);
    for (gsize j = 0; j < m; j++) {
      guint32 bucket = CD_FEATURE_BUCKET(f[j]);
      known[bucket >> 3] |= 1u << (bucket & 7);
      if (df != NULL)
        df[bucket]++; /* a document has each bucket once */
    }
  }
  *known_out = known;
  if (idf_out != NULL) {
    gfloat *idf = g_new0(gfloat, docs->n_buckets);
    for (gsize b = 0; b < docs->n_buckets; b++)
      idf[b] = df[b] > 0 ? (gfloat) (log((1.0 + n) / (1.0 + df[b])) + 1.0) : 0.0f;
    *idf_out = idf;
  }
}

/* Balanced multinomial logistic regression on the documents in @subset:
 * SGD on the L2-regularised log-loss; the weights are kept as scale * w
 * so that the decay of every weight costs one multiplication (Bottou). */
static gboolean
cd_lr_fit(CdTextModel *self, CdDocs *docs, const guint *subset, guint n, const gfloat *idf, gfloat **w_out,
          gdouble **b_out, GCancellable *cancellable, GError **error)
{
  guint n_labels = docs->n_labels;
  g_autofree gfloat *norms = g_new(gfloat, n);
  g_autofree guint *counts = g_new0(guint, n_labels);
  g_autofree gdouble *class_weight = g_new0(gdouble, n_labels);
  g_autofree gdouble *z = g_new0(gdouble, n_labels);
  g_autofree guint *order = g_new(guint, n);
  g_autofree gfloat *w = g_new0(gfloat, docs->n_buckets * n_labels);
  g_autofree gdouble *b = g_new0(gdouble, n_labels);
  g_autoptr(GRand) rand = g_rand_new_with_seed(self->seed);
  gdouble scale = 1.0;
  guint64 t = 0;

  for (guint i = 0; i < n; i++) {
    counts[g_array_index(docs->ys, guint, subset[i])]++;
    norms[i] = cd_features_inv_norm(CD_DOC_FEATURES(docs, subset[i]), CD_DOC_N(docs, subset[i]), NULL, idf);
    order[i] = i;
  }
  for (guint k = 0; k < n_labels; k++)
    class_weight[k] = !self->balanced || counts[k] == 0 ? 1.0 : (gdouble) n / (n_labels * (gdouble) counts[k]);

  for (guint epoch = 0; epoch < self->epochs; epoch++) {
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    for (guint i = n - 1; i > 0; i--) {
      guint j = g_rand_int_range(rand, 0, i + 1);
      guint tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    for (guint o = 0; o < n; o++) {
      guint d = subset[order[o]];
      guint y = g_array_index(docs->ys, guint, d);
      const guint32 *f = CD_DOC_FEATURES(docs, d);
      gsize m = CD_DOC_N(docs, d);
      gfloat inv_norm = norms[order[o]];
      gdouble lr = self->learning_rate / (1.0 + self->learning_rate * self->l2 * (gdouble) t++);
      gdouble step;

      for (guint k = 0; k < n_labels; k++)
        z[k] = 0;
      for (gsize j = 0; j < m; j++) {
        const gfloat *row = w + (gsize) CD_FEATURE_BUCKET(f[j]) * n_labels;
        gdouble x = cd_feature_value(f[j], NULL, idf) * inv_norm;
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
        for (gsize j = 0; j < docs->n_buckets * n_labels; j++)
          w[j] = (gfloat) (w[j] * scale);
        scale = 1.0;
      }
      step = lr / scale;
      for (gsize j = 0; j < m; j++) {
        gfloat *row = w + (gsize) CD_FEATURE_BUCKET(f[j]) * n_labels;
        gdouble x = cd_feature_value(f[j], NULL, idf) * inv_norm * step;
        for (guint k = 0; k < n_labels; k++)
          row[k] -= (gfloat) (x * z[k]);
      }
      for (guint k = 0; k < n_labels; k++)
        b[k] -= lr * z[k];
    }
  }
  for (gsize j = 0; j < docs->n_buckets * n_labels; j++)
    w[j] = (gfloat) (w[j] * scale);
  *w_out = g_steal_pointer(&w);
  *b_out = g_steal_pointer(&b);
  return TRUE;
}

/* The balanced, L2-regularised log-loss of the documents in @subset and
 * its gradient, for L-BFGS: @theta is the weights (feature-major, as in
 * the model) followed by the biases; @x holds each feature's value (the
 * same as SGD sees) in the order of docs->feats. Returns the loss. */
static gdouble
cd_lr_loss(CdDocs *docs, const guint *subset, guint n, const gfloat *x, const gdouble *class_weight, gdouble l2,
           const gdouble *theta, gdouble *grad)
{
  guint n_labels = docs->n_labels;
  gsize n_w = docs->n_buckets * n_labels;
  const gdouble *bias = theta + n_w;
  gdouble *gbias = grad + n_w;
  gdouble loss = 0, reg = 0;
  gdouble z[MAX_LABELS];

  memset(grad, 0, (n_w + n_labels) * sizeof(gdouble));
  for (guint i = 0; i < n; i++) {
    guint d = subset[i];
    guint y = g_array_index(docs->ys, guint, d);
    gsize from = g_array_index(docs->offsets, gsize, d);
    const guint32 *f = CD_DOC_FEATURES(docs, d);
    gsize m = CD_DOC_N(docs, d);
    gdouble c = class_weight[y] / n;

    for (guint k = 0; k < n_labels; k++)
      z[k] = bias[k];
    for (gsize j = 0; j < m; j++) {
      const gdouble *row = theta + (gsize) CD_FEATURE_BUCKET(f[j]) * n_labels;
      gdouble v = x[from + j];
      for (guint k = 0; k < n_labels; k++)
        z[k] += v * row[k];
    }
    cd_softmax(z, n_labels);
    loss -= c * log(MAX(z[y], 1e-300));
    for (guint k = 0; k < n_labels; k++)
      z[k] = c * (z[k] - (k == y ? 1.0 : 0.0));
    for (gsize j = 0; j < m; j++) {
      gdouble *row = grad + (gsize) CD_FEATURE_BUCKET(f[j]) * n_labels;
      gdouble v = x[from + j];
      for (guint k = 0; k < n_labels; k++)
        row[k] += v * z[k];
    }
    for (guint k = 0; k < n_labels; k++)
      gbias[k] += z[k];
  }
  for (gsize j = 0; j < n_w; j++) {
    reg += theta[j] * theta[j];
    grad[j] += l2 * theta[j];
  }
  return loss + 0.5 * l2 * reg;
}

static gdouble
cd_dot(const gdouble *a, const gdouble *b, gsize n)
{
  gdouble s = 0;
  for (gsize i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static gdouble
cd_dot_f(const gfloat *a, const gdouble *b, gsize n)
{
  gdouble s = 0;
  for (gsize i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

#define CD_LBFGS_MEMORY 6

/* The same balanced multinomial logistic regression as cd_lr_fit(), but
 * minimised to convergence by L-BFGS (Nocedal 1980: the two-loop
 * recursion over the last CD_LBFGS_MEMORY steps, backtracking line search
 * on the Armijo condition), so that the result depends on the data and
 * self->l2 only, not on the order of the documents or the number of
 * passes. self->epochs bounds the iterations (times 25). */
static gboolean
cd_lr_fit_lbfgs(CdTextModel *self, CdDocs *docs, const guint *subset, guint n, const gfloat *idf, gfloat **w_out,
                gdouble **b_out, GCancellable *cancellable, GError **error)
{
  guint n_labels = docs->n_labels;
  gsize n_w = docs->n_buckets * n_labels, dim = n_w + n_labels;
  g_autofree gfloat *x = g_new0(gfloat, docs->feats->len);
  g_autofree guint *counts = g_new0(guint, n_labels);
  g_autofree gdouble *class_weight = g_new0(gdouble, n_labels);
  g_autofree gdouble *theta = g_new0(gdouble, dim);
  g_autofree gdouble *grad = g_new(gdouble, dim);
  g_autofree gdouble *next = g_new(gdouble, dim);
  g_autofree gdouble *next_grad = g_new(gdouble, dim);
  g_autofree gdouble *dir = g_new(gdouble, dim);
  g_autofree gfloat *s = g_new(gfloat, dim * CD_LBFGS_MEMORY);
  g_autofree gfloat *yv = g_new(gfloat, dim * CD_LBFGS_MEMORY);
  gdouble rho[CD_LBFGS_MEMORY], alpha[CD_LBFGS_MEMORY];
  guint max_iterations = self->epochs * 25, n_pairs = 0, newest = 0;
  gdouble loss;

  for (guint i = 0; i < n; i++) {
    guint d = subset[i];
    const guint32 *f = CD_DOC_FEATURES(docs, d);
    gsize m = CD_DOC_N(docs, d), from = g_array_index(docs->offsets, gsize, d);
    gfloat inv_norm = cd_features_inv_norm(f, m, NULL, idf);
    for (gsize j = 0; j < m; j++)
      x[from + j] = (gfloat) (cd_feature_value(f[j], NULL, idf) * inv_norm);
    counts[g_array_index(docs->ys, guint, d)]++;
  }
  for (guint k = 0; k < n_labels; k++)
    class_weight[k] = !self->balanced || counts[k] == 0 ? 1.0 : (gdouble) n / (n_labels * (gdouble) counts[k]);

  loss = cd_lr_loss(docs, subset, n, x, class_weight, self->l2, theta, grad);
  for (guint iter = 0; iter < max_iterations; iter++) {
    gdouble gd, step, next_loss = 0, sy;
    gboolean accepted = FALSE;

    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    /* the two-loop recursion: dir = -H grad */
    for (gsize j = 0; j < dim; j++)
      dir[j] = -grad[j];
    for (guint p = 0; p < n_pairs; p++) {
      guint q = (newest + CD_LBFGS_MEMORY - p) % CD_LBFGS_MEMORY;
      alpha[q] = rho[q] * cd_dot_f(s + q * dim, dir, dim);
      for (gsize j = 0; j < dim; j++)
        dir[j] -= alpha[q] * yv[q * dim + j];
    }
    if (n_pairs > 0) {
      const gfloat *sq = s + newest * dim, *yq = yv + newest * dim;
      gdouble yy = 0, sy0 = 0;
      for (gsize j = 0; j < dim; j++) {
        yy += (gdouble) yq[j] * yq[j];
        sy0 += (gdouble) sq[j] * yq[j];
      }
      for (gsize j = 0; j < dim; j++)
        dir[j] *= sy0 / yy;
    }
    for (guint p = n_pairs; p-- > 0;) {
      guint q = (newest + CD_LBFGS_MEMORY - p) % CD_LBFGS_MEMORY;
      gdouble beta = rho[q] * cd_dot_f(yv + q * dim, dir, dim);
      for (gsize j = 0; j < dim; j++)
        dir[j] += (alpha[q] - beta) * s[q * dim + j];
    }
    gd = cd_dot(grad, dir, dim);
    if (!(gd < 0)) {
      /* not a descent direction: start again from steepest descent */
      for (gsize j = 0; j < dim; j++)
        dir[j] = -grad[j];
      gd = cd_dot(grad, dir, dim);
      n_pairs = 0;
    }
    if (gd > -1e-12)
      break;
    step = n_pairs == 0 ? 1.0 / sqrt(-gd) : 1.0;
    for (guint tries = 0; tries < 30; tries++, step *= 0.5) {
      for (gsize j = 0; j < dim; j++)
        next[j] = theta[j] + step * dir[j];
      next_loss = cd_lr_loss(docs, subset, n, x, class_weight, self->l2, next, next_grad);
      if (next_loss <= loss + 1e-4 * step * gd) {
        accepted = TRUE;
        break;
      }
    }
    if (!accepted)
      break;
    newest = n_pairs == 0 ? 0 : (newest + 1) % CD_LBFGS_MEMORY;
    sy = 0;
    for (gsize j = 0; j < dim; j++) {
      gfloat sj = (gfloat) (next[j] - theta[j]), yj = (gfloat) (next_grad[j] - grad[j]);
      s[newest * dim + j] = sj;
      yv[newest * dim + j] = yj;
      sy += (gdouble) sj * yj;
    }
    if (sy > 1e-20) {
      rho[newest] = 1.0 / sy;
      n_pairs = MIN(n_pairs + 1, CD_LBFGS_MEMORY);
    } else {
      n_pairs = 0; /* no curvature to learn from: steepest descent again */
    }
    {
      gdouble *tmp = theta;
      theta = next;
      next = tmp;
      tmp = grad;
      grad = next_grad;
      next_grad = tmp;
    }
    if (loss - next_loss < 1e-7 * MAX(1.0, fabs(next_loss))) {
      loss = next_loss;
      break;
    }
    loss = next_loss;
  }
  {
    gfloat *w = g_new(gfloat, n_w);
    for (gsize j = 0; j < n_w; j++)
      w[j] = (gfloat) theta[j];
    *w_out = w;
    *b_out = g_memdup2(theta + n_w, n_labels * sizeof(gdouble));
  }
  return TRUE;
}

/* The linear model by the learner configured. */
static gboolean
cd_lr_fit_any(CdTextModel *self, CdDocs *docs, const guint *subset, guint n, const gfloat *idf, gfloat **w_out,
              gdouble **b_out, GCancellable *cancellable, GError **error)
{
  if (self->learner == CD_TEXT_LEARNER_LBFGS)
    return cd_lr_fit_lbfgs(self, docs, subset, n, idf, w_out, b_out, cancellable, error);
  return cd_lr_fit(self, docs, subset, n, idf, w_out, b_out, cancellable, error);
}

/* Complement naive Bayes (Rennie et al., 2003) on the same normalised
 * feature values: a type's weight for a bucket is minus the log of the
 * bucket's smoothed share of the feature mass of every *other* type's
 * documents, so a document scores high for a type when its features are
 * rare outside it. Buckets no document in @subset has weigh 0. */
static gfloat *
cd_nb_fit(CdTextModel *self, CdDocs *docs, const guint *subset, guint n, const guint8 *known, const gfloat *idf)
{
  guint n_labels = docs->n_labels;
  g_autofree gdouble *mass = g_new0(gdouble, docs->n_buckets * n_labels);
  g_autofree gdouble *all = g_new0(gdouble, docs->n_buckets);
  g_autofree gdouble *label_total = g_new0(gdouble, n_labels);
  gfloat *nbw = g_new0(gfloat, docs->n_buckets * n_labels);
  gdouble total = 0, vocabulary = 0;

  for (guint i = 0; i < n; i++) {
    guint d = subset[i];
    guint y = g_array_index(docs->ys, guint, d);
    const guint32 *f = CD_DOC_FEATURES(docs, d);
    gsize m = CD_DOC_N(docs, d);
    gfloat inv_norm = cd_features_inv_norm(f, m, NULL, idf);
    for (gsize j = 0; j < m; j++) {
      guint32 bucket = CD_FEATURE_BUCKET(f[j]);
      gdouble x = cd_feature_value(f[j], NULL, idf) * inv_norm;
      mass[(gsize) bucket * n_labels + y] += x;
      all[bucket] += x;
      label_total[y] += x;
      total += x;
    }
  }
  for (gsize b = 0; b < docs->n_buckets; b++)
    vocabulary += CD_KNOWN(known, b) ? 1 : 0;
  for (gsize b = 0; b < docs->n_buckets; b++) {
    if (!CD_KNOWN(known, b))
      continue;
    for (guint k = 0; k < n_labels; k++) {
      gdouble complement = all[b] - mass[b * n_labels + k];
      gdouble complement_total = total - label_total[k];
      nbw[b * n_labels + k] =
          (gfloat) -log((self->nb_alpha + MAX(complement, 0)) / (self->nb_alpha * vocabulary + complement_total));
    }
  }
  /* weight normalisation (Rennie's WCNB): every type's weights have the
   * same total magnitude (10^4, to stay well inside 16-bit quantisation),
   * else the types with the most mass outside them win too often */
  {
    g_autofree gdouble *l1 = g_new0(gdouble, n_labels);
    for (gsize b = 0; b < docs->n_buckets; b++) {
      for (guint k = 0; k < n_labels; k++)
        l1[k] += fabs(nbw[b * n_labels + k]);
    }
    for (gsize b = 0; b < docs->n_buckets; b++) {
      for (guint k = 0; k < n_labels; k++)
        nbw[b * n_labels + k] = (gfloat) (nbw[b * n_labels + k] * 1e4 / MAX(l1[k], 1e-300));
    }
  }
  return nbw;
}

/* Stratified folds of @n documents: each type's documents, in a seeded
 * shuffle, dealt to the folds in turn. */
static guint *
cd_docs_folds(CdDocs *docs, guint n, guint k, guint seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
  guint *fold = g_new0(guint, n);
  guint next = 0;

  for (guint label = 0; label < docs->n_labels; label++) {
    g_autoptr(GArray) members = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint d = 0; d < n; d++) {
      if (g_array_index(docs->ys, guint, d) == label)
        g_array_append_val(members, d);
    }
    for (guint i = members->len; i > 1; i--) {
      guint j = g_rand_int_range(rand, 0, i);
      guint tmp = g_array_index(members, guint, i - 1);
      g_array_index(members, guint, i - 1) = g_array_index(members, guint, j);
      g_array_index(members, guint, j) = tmp;
    }
    for (guint i = 0; i < members->len; i++)
      fold[g_array_index(members, guint, i)] = next++ % k;
  }
  return fold;
}

/* The mean log-loss of raw scores @z (n rows of @n_labels) at @scale. */
static gdouble
cd_log_loss(const gdouble *z, const guint *ys, const gboolean *valid, guint n, guint n_labels, gdouble scale)
{
  gdouble loss = 0;
  guint m = 0;
  for (guint d = 0; d < n; d++) {
    gdouble row[MAX_LABELS];
    if (!valid[d])
      continue;
    for (guint k = 0; k < n_labels; k++)
      row[k] = z[(gsize) d * n_labels + k] * scale;
    cd_softmax(row, n_labels);
    loss -= log(MAX(row[ys[d]], 1e-12));
    m++;
  }
  return m > 0 ? loss / m : 0;
}

/* The scale in [1/64, 64] that minimises the log-loss: golden-section
 * search on its logarithm (the loss is unimodal in practice). */
static gdouble
cd_fit_scale(const gdouble *z, const guint *ys, const gboolean *valid, guint n, guint n_labels)
{
  const gdouble phi = (sqrt(5.0) - 1) / 2;
  gdouble lo = log(1.0 / 64), hi = log(64.0);
  gdouble a = hi - phi * (hi - lo), c = lo + phi * (hi - lo);
  gdouble fa = cd_log_loss(z, ys, valid, n, n_labels, exp(a));
  gdouble fc = cd_log_loss(z, ys, valid, n, n_labels, exp(c));

  for (guint i = 0; i < 40; i++) {
    if (fa < fc) {
      hi = c;
      c = a;
      fc = fa;
      a = hi - phi * (hi - lo);
      fa = cd_log_loss(z, ys, valid, n, n_labels, exp(a));
    } else {
      lo = a;
      a = c;
      fa = fc;
      c = lo + phi * (hi - lo);
      fc = cd_log_loss(z, ys, valid, n, n_labels, exp(c));
    }
  }
  return exp((lo + hi) / 2);
}

/* Macro-F1 of argmax(log p + offsets) over the valid rows of @p. */
static gdouble
cd_macro_f1(const gdouble *logp, const guint *ys, const gboolean *valid, guint n, guint n_labels,
            const gdouble *offsets)
{
  guint tp[MAX_LABELS] = { 0 }, predicted[MAX_LABELS] = { 0 }, support[MAX_LABELS] = { 0 };
  gdouble macro = 0;
  guint with_support = 0;

  for (guint d = 0; d < n; d++) {
    guint best = 0;
    if (!valid[d])
      continue;
    for (guint k = 1; k < n_labels; k++) {
      if (logp[(gsize) d * n_labels + k] + offsets[k] > logp[(gsize) d * n_labels + best] + offsets[best])
        best = k;
    }
    predicted[best]++;
    support[ys[d]]++;
    if (best == ys[d])
      tp[best]++;
  }
  for (guint k = 0; k < n_labels; k++) {
    if (support[k] == 0)
      continue;
    with_support++;
    if (tp[k] > 0)
      macro += 2.0 * tp[k] / (predicted[k] + support[k]);
  }
  return with_support > 0 ? macro / with_support : 0;
}

/* Per-type prior corrections that maximise macro-F1 on held-out log
 * probabilities: coordinate ascent over a grid of offsets in [-2, 2],
 * three rounds; among equal F1s the offset nearest 0 wins, so a type
 * moves only when it gains. */
static gdouble *
cd_fit_offsets(const gdouble *logp, const guint *ys, const gboolean *valid, guint n, guint n_labels)
{
  gdouble *offsets = g_new0(gdouble, n_labels);
  gdouble best_f1 = cd_macro_f1(logp, ys, valid, n, n_labels, offsets);

  for (guint round = 0; round < 3; round++) {
    gboolean moved = FALSE;
    for (guint k = 0; k < n_labels; k++) {
      gdouble keep = offsets[k], best = keep;
      for (gint step = -20; step <= 20; step++) {
        gdouble f1;
        offsets[k] = step / 10.0;
        f1 = cd_macro_f1(logp, ys, valid, n, n_labels, offsets);
        if (f1 > best_f1 + 1e-9 || (f1 > best_f1 - 1e-9 && fabs(offsets[k]) < fabs(best))) {
          moved = moved || f1 > best_f1 + 1e-9;
          best_f1 = MAX(f1, best_f1);
          best = offsets[k];
        }
      }
      offsets[k] = best;
    }
    if (!moved)
      break;
  }
  return offsets;
}

/* Cross-validates the configured model over self->calibrate folds of the
 * training documents and fits the scales and per-type offsets to the
 * held-out scores. */
static gboolean
cd_calibrate(CdTextModel *self, CdDocs *docs, guint n_docs, gdouble *lr_scale, gdouble *nb_scale, gdouble **offsets_out,
             GCancellable *cancellable, GError **error)
{
  guint n_labels = docs->n_labels, k = self->calibrate;
  g_autofree guint *fold = cd_docs_folds(docs, n_docs, k, self->seed);
  g_autofree gdouble *lr = g_new0(gdouble, (gsize) n_docs * n_labels);
  g_autofree gdouble *nb = self->nb_alpha > 0 ? g_new0(gdouble, (gsize) n_docs * n_labels) : NULL;
  g_autofree gboolean *valid = g_new0(gboolean, n_docs);
  g_autofree guint *subset = g_new(guint, n_docs);
  const guint *ys = &g_array_index(docs->ys, guint, 0);

  for (guint f = 0; f < k; f++) {
    g_autofree guint8 *known = NULL;
    g_autofree gfloat *idf = NULL;
    g_autofree gfloat *w = NULL;
    g_autofree gdouble *b = NULL;
    g_autofree gfloat *nbw = NULL;
    CdScorer scorer = { 0 };
    guint n = 0;

    for (guint d = 0; d < n_docs; d++) {
      if (fold[d] != f)
        subset[n++] = d;
    }
    if (n == n_docs || n == 0)
      continue;
    cd_docs_stats(docs, subset, n, &known, self->tfidf ? &idf : NULL);
    if (!cd_lr_fit_any(self, docs, subset, n, idf, &w, &b, cancellable, error))
      return FALSE;
    if (nb != NULL)
      nbw = cd_nb_fit(self, docs, subset, n, known, idf);
    scorer = (CdScorer){ n_labels, w, b, nbw, known, idf };
    for (guint d = 0; d < n_docs; d++) {
      if (fold[d] == f)
        valid[d] = cd_scorer_raw(&scorer, CD_DOC_FEATURES(docs, d), CD_DOC_N(docs, d), lr + (gsize) d * n_labels,
                                 nb != NULL ? nb + (gsize) d * n_labels : NULL);
    }
  }
  *lr_scale = cd_fit_scale(lr, ys, valid, n_docs, n_labels);
  *nb_scale = nb != NULL ? cd_fit_scale(nb, ys, valid, n_docs, n_labels) : 1.0;
  for (guint d = 0; d < n_docs; d++) {
    gdouble *row = lr + (gsize) d * n_labels;
    if (!valid[d])
      continue;
    cd_scores_mix(n_labels, row, nb != NULL ? nb + (gsize) d * n_labels : NULL, *lr_scale, *nb_scale, NULL);
    for (guint l = 0; l < n_labels; l++)
      row[l] = log(MAX(row[l], 1e-300));
  }
  *offsets_out = cd_fit_offsets(lr, ys, valid, n_docs, n_labels);
  return TRUE;
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
  g_autoptr(GArray) ys = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autoptr(GArray) packed = g_array_new(FALSE, FALSE, sizeof(guint32));
  g_autofree guint *counts = NULL;
  g_autofree guint *all = NULL;
  g_autofree gfloat *w = NULL;
  g_autofree gdouble *b = NULL;
  g_autofree guint8 *known = NULL;
  g_autofree gfloat *idf = NULL;
  g_autofree gfloat *nbw = NULL;
  g_autofree gdouble *calibrated = NULL;
  gdouble lr_scale = 1.0, nb_scale = 1.0;
  gsize zero = 0;
  guint n_docs, n_labels;
  CdDocs docs;

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
  docs = (CdDocs){ feats, offsets, ys, n_labels, (gsize) 1 << self->hash_bits };

  /* the calibration first: its scales and offsets are the model's,
   * trained on everything below */
  if (self->calibrate >= 2 && n_docs >= self->calibrate &&
      !cd_calibrate(self, &docs, n_docs, &lr_scale, &nb_scale, &calibrated, cancellable, error))
    return FALSE;

  /* n-grams no training document has (OCR garbage, names never seen)
   * carry nothing the model learnt: they are left out of a document's norm,
   * where they would only dilute what the model knows */
  all = g_new(guint, n_docs);
  for (guint d = 0; d < n_docs; d++)
    all[d] = d;
  cd_docs_stats(&docs, all, n_docs, &known, self->tfidf ? &idf : NULL);
  if (!cd_lr_fit_any(self, &docs, all, n_docs, idf, &w, &b, cancellable, error))
    return FALSE;
  if (self->nb_alpha > 0)
    nbw = cd_nb_fit(self, &docs, all, n_docs, known, idf);

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
  self->idf = g_steal_pointer(&idf);
  self->nb_weights = g_steal_pointer(&nbw);
  self->lr_scale = lr_scale;
  self->nb_scale = nb_scale;
  self->offsets = g_steal_pointer(&calibrated);
  return TRUE;
}
