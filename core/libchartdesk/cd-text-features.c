/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * CdTextModel's features: OCR-tolerant normalisation, hashed word and
 * character n-grams packed with their counts, and the softmax.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cd-classifier.h"
#include "cd-error.h"
#include "cd-text-model-private.h"

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

gfloat cd_text_count_weight[256]; /* 1 + log(count), filled once */
/* How much a heading weighs against a word or n-gram of the body: 6,
 * chosen by 5-fold cross-validation on the training 80% of mtsamples
 * (docs/decisions.md, issue 12); 1 and 10 did worse. */
const gdouble cd_text_heading_weight = 6.0;

/* 1 over the L2 norm of a document's feature values, 0 when it has none. */
gfloat
cd_features_inv_norm(const guint32 *f, gsize n, const guint8 *known, const gfloat *idf)
{
  gdouble sum = 0;
  for (gsize j = 0; j < n; j++) {
    gdouble x = cd_feature_value(f[j], known, idf);
    sum += x * x;
  }
  return sum > 0 ? (gfloat) (1.0 / sqrt(sum)) : 0;
}

/* Appends the buckets of @text's section headings: a run of capitalised
 * words ending at a colon ("HISTORY OF PRESENT ILLNESS:", "EXAM:") or
 * making up a whole line ("DISCHARGE SUMMARY"). A heading names the kind of
 * document far more surely than any word of its body, and the same words
 * in running text ("history of the present illness") say less; so a heading
 * is one feature of its own, its words lowercased and joined, and each of
 * its words is a heading word as well (a heading "FINAL DIAGNOSIS" shares
 * "diagnosis" with "DIAGNOSIS"). */
static void
cd_text_heading_features(const gchar *text, guint32 mask, GArray *hashes)
{
  const gchar *end = text + strnlen(text, MAX_TEXT_BYTES);
  const gchar *line = text;

  for (const gchar *p = text; p <= end; p++) {
    const gchar *from, *to;
    guint n_letters = 0;
    gboolean lower = FALSE;
    guint8 buf[MAX_HEADING_BYTES];
    gsize len = 0;

    if (p < end && *p != ':' && *p != '\n')
      continue;
    to = p;
    if (p == end || *p == '\n') {
      /* a whole line: every letter of it a capital */
      from = line;
      line = p + 1;
    } else {
      /* back from the colon over capitals, spaces and joining marks */
      from = p;
      while (from > line &&
             (g_ascii_isupper(from[-1]) || from[-1] == ' ' || from[-1] == '/' || from[-1] == '&' || from[-1] == '-'))
        from--;
    }
    if (to - from > MAX_HEADING_BYTES * 2)
      continue;
    for (const gchar *q = from; q < to; q++) {
      if (g_ascii_islower(*q) || (guchar) *q >= 0x80)
        lower = TRUE;
      else if (g_ascii_isupper(*q))
        n_letters++;
    }
    if (lower || n_letters < 3)
      continue;
    for (const gchar *q = from; q <= to && len < sizeof buf; q++) {
      gboolean letter = q < to && g_ascii_isupper(*q);
      if (letter) {
        buf[len++] = (guint8) g_ascii_tolower(*q);
        continue;
      }
      /* a word of the heading ends */
      if (len > 0 && buf[len - 1] != ' ') {
        gsize w = len;
        while (w > 0 && buf[w - 1] != ' ')
          w--;
        if (len - w >= 2) {
          guint32 bucket = ((guint32) cd_mix(cd_fnv(FNV_OFFSET ^ 'h', buf + w, len - w)) & mask) | CD_HEADING_FLAG;
          g_array_append_val(hashes, bucket);
        }
        if (q < to)
          buf[len++] = ' ';
      }
    }
    while (len > 0 && buf[len - 1] == ' ')
      len--;
    if (len >= 3) {
      guint32 bucket = ((guint32) cd_mix(cd_fnv(FNV_OFFSET ^ 'H', buf, len)) & mask) | CD_HEADING_FLAG;
      g_array_append_val(hashes, bucket);
    }
  }
}

/*
 * The features of @text as packed (bucket | count << 24) values, sorted by
 * bucket, each bucket once. Words of one letter carry no word feature (OCR
 * sprinkles them) but take part in nothing else either.
 */
void
cd_text_model_features(CdTextModel *self, const gchar *text, GArray *packed)
{
  g_autoptr(GString) norm = cd_text_normalise(text);
  g_autoptr(GArray) hashes = g_array_sized_new(FALSE, FALSE, sizeof(guint32), 1024);
  guint32 mask = (1u << self->hash_bits) - 1;
  guint64 prev = 0;
  guint n_words = 0;
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
    if (n_words < self->lead) {
      /* the document's first words, also as features of their own: where a
       * title or the first heading is */
      guint32 flag = CD_HEADING_FLAG;
      bucket = ((guint32) cd_mix(word ^ G_GUINT64_CONSTANT(0x4c4541444c454144)) & mask) | flag;
      g_array_append_val(hashes, bucket);
      if (prev != 0) {
        bucket = ((guint32) cd_mix(prev * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15) ^ word ^ 'L') & mask) | flag;
        g_array_append_val(hashes, bucket);
      }
    }
    n_words++;
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
  if (self->features >= 2)
    cd_text_heading_features(text, mask, hashes);
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

void
cd_text_model_init_tables(void)
{
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    for (guint i = 1; i < 256; i++)
      cd_text_count_weight[i] = (gfloat) (1.0 + log((gdouble) i));
    g_once_init_leave(&done, 1);
  }
}

/* Softmax of @z in place, stable against overflow. */
void
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

/* The raw scores of a document's features: the linear model's logits in
 * @lr and, with naive Bayes, its scores in @nb (each n_labels long).
 * Returns FALSE when no feature is known: nothing to score. */
gboolean
cd_scorer_raw(const CdScorer *s, const guint32 *f, gsize n, gdouble *lr, gdouble *nb)
{
  gfloat inv_norm = cd_features_inv_norm(f, n, s->known, s->idf);

  if (inv_norm == 0)
    return FALSE;
  for (guint k = 0; k < s->n_labels; k++) {
    lr[k] = s->bias[k];
    if (nb != NULL)
      nb[k] = 0;
  }
  for (gsize j = 0; j < n; j++) {
    gsize row = (gsize) CD_FEATURE_BUCKET(f[j]) * s->n_labels;
    gdouble x = cd_feature_value(f[j], s->known, s->idf) * inv_norm;
    if (x == 0)
      continue;
    for (guint k = 0; k < s->n_labels; k++)
      lr[k] += x * s->weights[row + k];
    if (nb != NULL && s->nb_weights != NULL) {
      for (guint k = 0; k < s->n_labels; k++)
        nb[k] += x * s->nb_weights[row + k];
    }
  }
  return TRUE;
}

/* Turns raw scores into probabilities in @lr: the linear model's softmax
 * at @lr_scale, averaged with naive Bayes' at @nb_scale when @nb is given,
 * then each type's probability multiplied by exp(@offsets[k]) (a prior
 * correction) and the whole renormalised. */
void
cd_scores_mix(guint n_labels, gdouble *lr, const gdouble *nb, gdouble lr_scale, gdouble nb_scale,
              const gdouble *offsets)
{
  gdouble sum = 0;

  for (guint k = 0; k < n_labels; k++)
    lr[k] *= lr_scale;
  cd_softmax(lr, n_labels);
  if (nb != NULL) {
    gdouble q[MAX_LABELS];
    for (guint k = 0; k < n_labels; k++)
      q[k] = nb[k] * nb_scale;
    cd_softmax(q, n_labels);
    for (guint k = 0; k < n_labels; k++)
      lr[k] = 0.5 * (lr[k] + q[k]);
  }
  if (offsets == NULL)
    return;
  for (guint k = 0; k < n_labels; k++) {
    lr[k] *= exp(offsets[k]);
    sum += lr[k];
  }
  for (guint k = 0; k < n_labels; k++)
    lr[k] /= sum;
}
