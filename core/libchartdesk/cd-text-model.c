/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cd-classifier.h"
#include "cd-error.h"
#include "cd-text-model.h"

/**
 * CdTextModel:
 *
 * A statistical text classifier for OCR'd documents: multinomial logistic
 * regression over hashed word unigrams, word bigrams and character 3- to
 * 5-grams, trained by stochastic gradient descent.
 *
 * Text is normalised to be forgiving of OCR: lowercased, digits and
 * punctuation dropped, and `0`, `1`, `5`, `|` read as `o`, `l`, `s`, `l`
 * inside words that also hold letters. Character n-grams keep a word that
 * OCR broke or misread partly recognisable. Features are hashed into
 * 2^#CdTextModel:hash-bits buckets (the hashing trick), so the model has a
 * fixed size whatever the vocabulary.
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

#define CD_TEXT_MODEL_MAGIC "chartdesk-text-model"
#define CD_TEXT_MODEL_VARIANT_TYPE "(sua{sv}asaday)"
#define MAX_TEXT_BYTES (512 * 1024) /* a longer document is classified by its start */
#define MAX_WORD_BYTES 48
#define MAX_LABELS 256
#define CHAR_NGRAM_MIN 3
#define CHAR_NGRAM_MAX 5
#define COUNT_SHIFT 24 /* packed feature: bucket in the low 24 bits, count above */

#define DEFAULT_HASH_BITS 18
#define DEFAULT_EPOCHS 8
#define DEFAULT_L2 1e-6
#define DEFAULT_LEARNING_RATE 1.5
#define DEFAULT_BALANCED TRUE
#define DEFAULT_SEED 1

struct _CdTextModel {
  GObject parent_instance;
  guint hash_bits;
  guint epochs;
  gdouble l2;
  gdouble learning_rate;
  gboolean balanced;
  guint seed;
  /* the trained model; weights are feature-major: w[bucket * n_labels + k] */
  GStrv labels;
  guint n_labels;
  guint *label_counts;
  guint n_trained;
  gfloat *weights;
  gdouble *bias;
  guint8 *known; /* bitmap: buckets some training document has */
};

G_DEFINE_FINAL_TYPE(CdTextModel, cd_text_model, G_TYPE_OBJECT)

enum { PROP_0, PROP_HASH_BITS, PROP_EPOCHS, PROP_L2, PROP_LEARNING_RATE, PROP_BALANCED, PROP_SEED, N_PROPS };

static GParamSpec *props[N_PROPS];

static void
cd_text_model_clear(CdTextModel *self)
{
  g_clear_pointer(&self->labels, g_strfreev);
  g_clear_pointer(&self->label_counts, g_free);
  g_clear_pointer(&self->weights, g_free);
  g_clear_pointer(&self->bias, g_free);
  g_clear_pointer(&self->known, g_free);
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

/* ------------------------------------------------------------ features */

#define FNV_OFFSET G_GUINT64_CONSTANT(14695981039346656037)
#define FNV_PRIME G_GUINT64_CONSTANT(1099511628211)

static inline guint64
cd_fnv(guint64 h, const guint8 *data, gsize len)
{
  for (gsize i = 0; i < len; i++) {
    h ^= data[i];
    h *= FNV_PRIME;
  }
  return h;
}

/* murmur3's finaliser: spreads FNV's weak low bits over the whole word */
static inline guint64
cd_mix(guint64 h)
{
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT(0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= G_GUINT64_CONSTANT(0xc4ceb9fe1a85ec53);
  h ^= h >> 33;
  return h;
}

/* Lowercase letters separated by single spaces. Digits and punctuation
 * separate words, except the digits OCR reads for letters inside a word
 * that has letters ("c0nsent" is "consent"). */
static GString *
cd_text_normalise(const gchar *text)
{
  GString *out = g_string_sized_new(1024);
  const gchar *p = text;
  const gchar *end = text + strnlen(text, MAX_TEXT_BYTES);

  while (p < end) {
    const gchar *q;
    gboolean has_letter = FALSE;

    while (p < end && (g_ascii_isspace(*p) || *p == '\0'))
      p++;
    if (p >= end)
      break;
    for (q = p; q < end && !g_ascii_isspace(*q);) {
      gunichar c = g_utf8_get_char_validated(q, end - q);
      if (c == (gunichar) -1 || c == (gunichar) -2) {
        q++;
        continue;
      }
      if (g_unichar_isalpha(c))
        has_letter = TRUE;
      q = g_utf8_next_char(q);
    }
    while (p < q) {
      gunichar c = g_utf8_get_char_validated(p, q - p);
      if (c == (gunichar) -1 || c == (gunichar) -2) {
        g_string_append_c(out, ' ');
        p++;
        continue;
      }
      p = g_utf8_next_char(p);
      c = g_unichar_tolower(c);
      if (g_unichar_isalpha(c)) {
        g_string_append_unichar(out, c);
        continue;
      }
      if (has_letter && (c == '0' || c == '1' || c == '5' || c == '|')) {
        g_string_append_c(out, c == '0' ? 'o' : c == '5' ? 's' : 'l');
        continue;
      }
      if (out->len > 0 && out->str[out->len - 1] != ' ')
        g_string_append_c(out, ' ');
    }
    if (out->len > 0 && out->str[out->len - 1] != ' ')
      g_string_append_c(out, ' ');
  }
  return out;
}

/* Sorts bucket numbers below 2^24 in three passes of a byte each (LSD radix
 * sort): a document has thousands of them, and qsort was half of training. */
static void
cd_sort_buckets(guint32 *a, gsize n)
{
  g_autofree guint32 *tmp = g_new(guint32, n);
  guint32 *from = a, *to = tmp;

  for (guint shift = 0; shift < 24; shift += 8) {
    gsize count[257] = { 0 };
    guint32 *swap;
    for (gsize i = 0; i < n; i++)
      count[((from[i] >> shift) & 0xff) + 1]++;
    for (guint b = 0; b < 256; b++)
      count[b + 1] += count[b];
    for (gsize i = 0; i < n; i++)
      to[count[(from[i] >> shift) & 0xff]++] = from[i];
    swap = from;
    from = to;
    to = swap;
  }
  if (from != a)
    memcpy(a, from, n * sizeof(guint32));
}

static gfloat count_weight[256]; /* 1 + log(count), filled once */

#define CD_KNOWN(known, bucket) ((known)[(bucket) >> 3] & (1u << ((bucket) &7)))

/* The weight of a packed feature before normalisation: 1 + log count, or 0
 * for a bucket no training document had (@known NULL: all count). */
static inline gdouble
cd_feature_value(guint32 f, const guint8 *known)
{
  guint32 bucket = f & 0xffffff;
  if (known != NULL && !CD_KNOWN(known, bucket))
    return 0;
  return count_weight[f >> COUNT_SHIFT];
}

/* 1 over the L2 norm of a document's feature values, 0 when it has none. */
static gfloat
cd_features_inv_norm(const guint32 *f, gsize n, const guint8 *known)
{
  gdouble sum = 0;
  for (gsize j = 0; j < n; j++) {
    gdouble x = cd_feature_value(f[j], known);
    sum += x * x;
  }
  return sum > 0 ? (gfloat) (1.0 / sqrt(sum)) : 0;
}

/*
 * The features of @text as packed (bucket | count << 24) values, sorted by
 * bucket, each bucket once. Words of one letter carry no word feature (OCR
 * sprinkles them) but take part in nothing else either.
 */
static void
cd_text_model_features(CdTextModel *self, const gchar *text, GArray *packed)
{
  g_autoptr(GString) norm = cd_text_normalise(text);
  g_autoptr(GArray) hashes = g_array_sized_new(FALSE, FALSE, sizeof(guint32), 1024);
  guint32 mask = (1u << self->hash_bits) - 1;
  guint64 prev = 0;
  const gchar *p = norm->str;

  g_array_set_size(packed, 0);
  while (*p != '\0') {
    const gchar *e = strchr(p, ' ');
    gsize len = e != NULL ? (gsize) (e - p) : strlen(p);
    guint8 buf[MAX_WORD_BYTES + 2];
    guint64 word;
    guint32 bucket;

    if (len < 2) {
      p += len + (e != NULL ? 1 : 0);
      continue;
    }
    len = MIN(len, MAX_WORD_BYTES);
    word = cd_fnv(FNV_OFFSET ^ 'W', (const guint8 *) p, len);
    bucket = (guint32) cd_mix(word) & mask;
    g_array_append_val(hashes, bucket);
    if (prev != 0) {
      bucket = (guint32) cd_mix(prev * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15) ^ word ^ 'B') & mask;
      g_array_append_val(hashes, bucket);
    }
    prev = word;
    buf[0] = '<';
    memcpy(buf + 1, p, len);
    buf[len + 1] = '>';
    /* the n-grams starting at each position, by extending one hash */
    for (gsize i = 0; i + CHAR_NGRAM_MIN <= len + 2; i++) {
      guint64 h = cd_fnv(FNV_OFFSET ^ 'C', buf + i, CHAR_NGRAM_MIN - 1);
      for (guint n = CHAR_NGRAM_MIN; n <= CHAR_NGRAM_MAX && i + n <= len + 2; n++) {
        h = cd_fnv(h, buf + i + n - 1, 1);
        bucket = (guint32) cd_mix(h + n) & mask;
        g_array_append_val(hashes, bucket);
      }
    }
    p += (e != NULL ? (gsize) (e - p) + 1 : strlen(p));
  }
  if (hashes->len == 0)
    return;
  cd_sort_buckets((guint32 *) hashes->data, hashes->len);
  for (guint i = 0; i < hashes->len;) {
    guint32 b = g_array_index(hashes, guint32, i);
    guint j = i + 1;
    guint32 v;
    while (j < hashes->len && g_array_index(hashes, guint32, j) == b)
      j++;
    v = b | (MIN(j - i, 255u) << COUNT_SHIFT);
    g_array_append_val(packed, v);
    i = j;
  }
}

static void
cd_text_model_init_tables(void)
{
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    for (guint i = 1; i < 256; i++)
      count_weight[i] = (gfloat) (1.0 + log((gdouble) i));
    g_once_init_leave(&done, 1);
  }
}

/* Softmax of @z in place, stable against overflow. */
static void
cd_softmax(gdouble *z, guint n)
{
  gdouble max = z[0];
  gdouble sum = 0;
  for (guint k = 1; k < n; k++)
    max = MAX(max, z[k]);
  for (guint k = 0; k < n; k++) {
    z[k] = exp(z[k] - max);
    sum += z[k];
  }
  for (guint k = 0; k < n; k++)
    z[k] /= sum;
}

/* ------------------------------------------------------------ training */

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
    guint32 bucket = g_array_index(feats, guint32, i) & 0xffffff;
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
        const gfloat *row = w + (gsize) (f[j] & 0xffffff) * n_labels;
        gdouble x = count_weight[f[j] >> COUNT_SHIFT] * inv_norm;
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
        gfloat *row = w + (gsize) (f[j] & 0xffffff) * n_labels;
        gdouble x = count_weight[f[j] >> COUNT_SHIFT] * inv_norm * step;
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
  g_autofree gdouble *z = NULL;
  gfloat inv_norm;

  g_return_val_if_fail(CD_IS_TEXT_MODEL(self), NULL);

  if (self->weights == NULL || text == NULL)
    return g_steal_pointer(&scores);
  cd_text_model_init_tables();
  cd_text_model_features(self, text, packed);
  if (packed->len == 0)
    return g_steal_pointer(&scores);
  inv_norm = cd_features_inv_norm(&g_array_index(packed, guint32, 0), packed->len, self->known);
  if (inv_norm == 0)
    return g_steal_pointer(&scores);
  z = g_new0(gdouble, self->n_labels);
  for (guint j = 0; j < packed->len; j++) {
    guint32 f = g_array_index(packed, guint32, j);
    const gfloat *row = self->weights + (gsize) (f & 0xffffff) * self->n_labels;
    gdouble x = cd_feature_value(f, self->known) * inv_norm;
    for (guint k = 0; k < self->n_labels; k++)
      z[k] += x * row[k];
  }
  for (guint k = 0; k < self->n_labels; k++)
    z[k] += self->bias[k];
  cd_softmax(z, self->n_labels);
  for (guint k = 0; k < self->n_labels; k++)
    g_ptr_array_add(scores, cd_label_score_new(self->labels[k], z[k]));
  g_ptr_array_sort(scores, cd_label_score_cmp);
  return g_steal_pointer(&scores);
}

/* ------------------------------------------------------- serialisation */

/* Inflates exactly @expected bytes, refusing more: a corrupt or hostile
 * blob cannot make us allocate beyond what its header declared. */
static guint8 *
cd_inflate(const guint8 *data, gsize len, gsize expected, GError **error)
{
  g_autoptr(GZlibDecompressor) dec = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_ZLIB);
  g_autofree guint8 *out = g_malloc(MAX(expected, 1));
  gsize in_off = 0, out_off = 0;

  for (;;) {
    gsize read = 0, written = 0;
    g_autoptr(GError) error_local = NULL;
    GConverterResult res =
        g_converter_convert(G_CONVERTER(dec), data + in_off, len - in_off, out + out_off, expected - out_off,
                            G_CONVERTER_INPUT_AT_END, &read, &written, &error_local);
    if (res == G_CONVERTER_ERROR) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "model weights are corrupt: %s", error_local->message);
      return NULL;
    }
    in_off += read;
    out_off += written;
    if (res == G_CONVERTER_FINISHED)
      break;
    if (read == 0 && written == 0) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "model weights are truncated");
      return NULL;
    }
  }
  if (out_off != expected) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "model weights hold %" G_GSIZE_FORMAT " bytes, expected %" G_GSIZE_FORMAT, out_off, expected);
    return NULL;
  }
  return g_steal_pointer(&out);
}

static GBytes *
cd_deflate(const guint8 *data, gsize len, GError **error)
{
  g_autoptr(GZlibCompressor) comp = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 6);
  g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable();
  g_autoptr(GOutputStream) out = g_converter_output_stream_new(mem, G_CONVERTER(comp));

  if (!g_output_stream_write_all(out, data, len, NULL, NULL, error) || !g_output_stream_close(out, NULL, error))
    return NULL;
  return g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(mem));
}

/**
 * cd_text_model_to_bytes:
 * @self: a trained #CdTextModel
 * @error: return location for a #GError
 *
 * Serialises the model: a #GVariant holding a magic string, the format
 * version (%CD_TEXT_MODEL_FORMAT_VERSION), the parameters, the types, and
 * the weights quantised to 16 bits and zlib-compressed.
 *
 * Returns: (transfer full): the blob, or %NULL with @error set
 *
 * Since: 0.1
 */
GBytes *
cd_text_model_to_bytes(CdTextModel *self, GError **error)
{
  gsize n = ((gsize) 1 << self->hash_bits) * self->n_labels;
  g_autofree gint16 *q = NULL;
  g_autoptr(GBytes) packed = NULL;
  g_autoptr(GBytes) known_packed = NULL;
  g_autoptr(GVariant) variant = NULL;
  g_auto(GVariantBuilder) params = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
  gdouble max = 0, unit;

  g_return_val_if_fail(CD_IS_TEXT_MODEL(self), NULL);
  if (self->weights == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "the model is not trained");
    return NULL;
  }
  for (gsize i = 0; i < n; i++)
    max = MAX(max, fabs(self->weights[i]));
  unit = max > 0 ? max / 32767.0 : 1.0;
  q = g_new(gint16, n);
  for (gsize i = 0; i < n; i++)
    q[i] = GINT16_TO_LE((gint16) lrint(self->weights[i] / unit));
  packed = cd_deflate((const guint8 *) q, n * sizeof(gint16), error);
  if (packed == NULL)
    return NULL;
  if (self->known != NULL) {
    gsize n_buckets = (gsize) 1 << self->hash_bits;
    known_packed = cd_deflate(self->known, n_buckets / 8, error);
    if (known_packed == NULL)
      return NULL;
  }

  g_variant_builder_add(&params, "{sv}", "hash-bits", g_variant_new_uint32(self->hash_bits));
  g_variant_builder_add(&params, "{sv}", "char-min", g_variant_new_uint32(CHAR_NGRAM_MIN));
  g_variant_builder_add(&params, "{sv}", "char-max", g_variant_new_uint32(CHAR_NGRAM_MAX));
  g_variant_builder_add(&params, "{sv}", "epochs", g_variant_new_uint32(self->epochs));
  g_variant_builder_add(&params, "{sv}", "l2", g_variant_new_double(self->l2));
  g_variant_builder_add(&params, "{sv}", "learning-rate", g_variant_new_double(self->learning_rate));
  g_variant_builder_add(&params, "{sv}", "balanced", g_variant_new_boolean(self->balanced));
  g_variant_builder_add(&params, "{sv}", "seed", g_variant_new_uint32(self->seed));
  g_variant_builder_add(&params, "{sv}", "trained-documents", g_variant_new_uint32(self->n_trained));
  g_variant_builder_add(
      &params, "{sv}", "label-counts",
      g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, self->label_counts, self->n_labels, sizeof(guint32)));
  g_variant_builder_add(&params, "{sv}", "weight-unit", g_variant_new_double(unit));
  if (known_packed != NULL)
    g_variant_builder_add(&params, "{sv}", "known",
                          g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, known_packed, TRUE));
  variant = g_variant_ref_sink(
      g_variant_new("(su@a{sv}^as@ad@ay)", CD_TEXT_MODEL_MAGIC, (guint32) CD_TEXT_MODEL_FORMAT_VERSION,
                    g_variant_builder_end(&params), self->labels,
                    g_variant_new_fixed_array(G_VARIANT_TYPE_DOUBLE, self->bias, self->n_labels, sizeof(gdouble)),
                    g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, packed, TRUE)));
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN) {
    g_autoptr(GVariant) swapped = g_variant_byteswap(variant);
    return g_variant_get_data_as_bytes(swapped);
  }
  return g_variant_get_data_as_bytes(variant);
}

/**
 * cd_text_model_new_from_bytes:
 * @bytes: a blob from cd_text_model_to_bytes()
 * @error: return location for a #GError
 *
 * Loads a serialised model, checking every part before use: a blob that is
 * not a model, is truncated or corrupt, or comes from a newer Chartdesk
 * fails with %CD_ERROR_INVALID_DATA or %CD_ERROR_NOT_SUPPORTED.
 *
 * Returns: (transfer full): the model, or %NULL with @error set
 *
 * Since: 0.1
 */
CdTextModel *
cd_text_model_new_from_bytes(GBytes *bytes, GError **error)
{
  g_autoptr(CdTextModel) self = cd_text_model_new();
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GVariant) params = NULL;
  g_autoptr(GVariant) bias = NULL;
  g_autoptr(GVariant) weights = NULL;
  g_autoptr(GVariant) counts = NULL;
  g_autoptr(GVariant) known = NULL;
  g_autofree const gchar **labels = NULL;
  g_autofree gint16 *q = NULL;
  const gchar *magic = NULL;
  guint32 version = 0, hash_bits = 0, char_min = 0, char_max = 0;
  gdouble unit = 0;
  gsize n_labels = 0, n_bias = 0, n_packed = 0, n_counts = 0, n;
  const gdouble *bias_data;
  const guint8 *packed_data;
  const guint32 *count_data;

  g_return_val_if_fail(bytes != NULL, NULL);

  variant = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE(CD_TEXT_MODEL_VARIANT_TYPE), bytes, FALSE));
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN) {
    GVariant *swapped = g_variant_byteswap(variant);
    g_variant_unref(variant);
    variant = swapped;
  }
  if (!g_variant_is_normal_form(variant)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "not a Chartdesk text model (malformed data)");
    return NULL;
  }
  g_variant_get(variant, "(&su@a{sv}^a&s@ad@ay)", &magic, &version, &params, &labels, &bias, &weights);
  if (g_strcmp0(magic, CD_TEXT_MODEL_MAGIC) != 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "not a Chartdesk text model");
    return NULL;
  }
  if (version == 0 || version > CD_TEXT_MODEL_FORMAT_VERSION) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED,
                "text model format %u is newer than this Chartdesk reads (%u); upgrade Chartdesk", version,
                (guint) CD_TEXT_MODEL_FORMAT_VERSION);
    return NULL;
  }
  if (!g_variant_lookup(params, "hash-bits", "u", &hash_bits) ||
      !g_variant_lookup(params, "char-min", "u", &char_min) || !g_variant_lookup(params, "char-max", "u", &char_max) ||
      !g_variant_lookup(params, "weight-unit", "d", &unit)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model parameters are missing");
    return NULL;
  }
  if (hash_bits < 12 || hash_bits > 22 || char_min != CHAR_NGRAM_MIN || char_max != CHAR_NGRAM_MAX || !(unit > 0) ||
      !isfinite(unit)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model parameters are out of range");
    return NULL;
  }
  n_labels = g_strv_length((gchar **) labels);
  bias_data = g_variant_get_fixed_array(bias, &n_bias, sizeof(gdouble));
  if (n_labels < 2 || n_labels > MAX_LABELS || n_bias != n_labels) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model types and weights disagree");
    return NULL;
  }
  for (gsize k = 0; k < n_labels; k++) {
    if (!isfinite(bias_data[k]) || labels[k][0] == '\0') {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model types or weights are invalid");
      return NULL;
    }
  }
  packed_data = g_variant_get_fixed_array(weights, &n_packed, 1);
  n = ((gsize) 1 << hash_bits) * n_labels;
  q = (gint16 *) cd_inflate(packed_data, n_packed, n * sizeof(gint16), error);
  if (q == NULL)
    return NULL;
  known = g_variant_lookup_value(params, "known", G_VARIANT_TYPE_BYTESTRING);
  if (known != NULL) {
    gsize n_known = 0;
    const guint8 *known_data = g_variant_get_fixed_array(known, &n_known, 1);
    self->known = cd_inflate(known_data, n_known, ((gsize) 1 << hash_bits) / 8, error);
    if (self->known == NULL)
      return NULL;
  }

  self->hash_bits = hash_bits;
  g_variant_lookup(params, "epochs", "u", &self->epochs);
  g_variant_lookup(params, "l2", "d", &self->l2);
  g_variant_lookup(params, "learning-rate", "d", &self->learning_rate);
  g_variant_lookup(params, "balanced", "b", &self->balanced);
  g_variant_lookup(params, "seed", "u", &self->seed);
  g_variant_lookup(params, "trained-documents", "u", &self->n_trained);
  self->label_counts = g_new0(guint, n_labels);
  counts = g_variant_lookup_value(params, "label-counts", G_VARIANT_TYPE("au"));
  if (counts != NULL) {
    count_data = g_variant_get_fixed_array(counts, &n_counts, sizeof(guint32));
    for (gsize k = 0; k < MIN(n_counts, n_labels); k++)
      self->label_counts[k] = count_data[k];
  }
  self->n_labels = n_labels;
  self->labels = g_new0(gchar *, n_labels + 1);
  for (gsize k = 0; k < n_labels; k++)
    self->labels[k] = g_strdup(labels[k]);
  self->bias = g_memdup2(bias_data, n_labels * sizeof(gdouble));
  self->weights = g_new(gfloat, n);
  for (gsize i = 0; i < n; i++)
    self->weights[i] = (gfloat) (GINT16_FROM_LE(q[i]) * unit);
  return g_steal_pointer(&self);
}

/**
 * cd_text_model_get_params:
 * @self: a #CdTextModel
 *
 * The parameters and training counts, for the archive's record of a model
 * version and for people: `{"algorithm": …, "hash-bits": …, "labels":
 * {"type": documents, …}, …}`.
 *
 * Returns: (transfer full): a JSON object
 *
 * Since: 0.1
 */
JsonNode *
cd_text_model_get_params(CdTextModel *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  g_return_val_if_fail(CD_IS_TEXT_MODEL(self), NULL);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "algorithm");
  json_builder_add_string_value(b, "logistic-regression");
  json_builder_set_member_name(b, "features");
  json_builder_add_string_value(b, "hashed word 1-2-grams and character 3-5-grams");
  json_builder_set_member_name(b, "format");
  json_builder_add_int_value(b, CD_TEXT_MODEL_FORMAT_VERSION);
  json_builder_set_member_name(b, "hash-bits");
  json_builder_add_int_value(b, self->hash_bits);
  json_builder_set_member_name(b, "epochs");
  json_builder_add_int_value(b, self->epochs);
  json_builder_set_member_name(b, "l2");
  json_builder_add_double_value(b, self->l2);
  json_builder_set_member_name(b, "learning-rate");
  json_builder_add_double_value(b, self->learning_rate);
  json_builder_set_member_name(b, "balanced");
  json_builder_add_boolean_value(b, self->balanced);
  json_builder_set_member_name(b, "seed");
  json_builder_add_int_value(b, self->seed);
  json_builder_set_member_name(b, "trained-documents");
  json_builder_add_int_value(b, self->n_trained);
  json_builder_set_member_name(b, "labels");
  json_builder_begin_object(b);
  for (guint k = 0; k < self->n_labels; k++) {
    json_builder_set_member_name(b, self->labels[k]);
    json_builder_add_int_value(b, self->label_counts != NULL ? self->label_counts[k] : 0);
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
