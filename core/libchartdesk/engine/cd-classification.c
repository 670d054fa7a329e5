/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-classification-private.h"
#include "cd-classifier.h"

/*
 * The engine's combination of classifiers' answers for one document, the
 * rule the README documents:
 *
 * 1. A classifier's labels are mapped through the taxonomy (aliases and
 *    former names lead to the type); unknown and retired labels are
 *    dropped with a note. A type named twice keeps its best score.
 * 2. Its scores are divided by their sum when the sum exceeds 1, so that
 *    each classifier brings at most one unit of belief and what it leaves
 *    unassigned is "don't know".
 * 3. The combined score of a type is the weighted mean of those shares over
 *    the classifiers that answered (weight > 0, at least one known label).
 *    A classifier that failed or answered nothing does not count.
 * 4. The winner is the type with the highest combined score (the first in
 *    the taxonomy on a tie) and its confidence is that score. Without any
 *    answer the winner is the taxonomy's fallback (`other`) at 0.
 */
struct _CdClassification {
  CdTaxonomy *taxonomy;
  GHashTable *sums; /* type → gdouble*: Σ weight × share */
  gdouble total_weight;
  GPtrArray *names;        /* of gchar*: classifiers in the order they ran */
  GHashTable *classifiers; /* name → GVariant: a{sd} of its shares, or s: failure */
  GPtrArray *notes;        /* of gchar*: labels dropped */
};

CdClassification *
cd_classification_new(CdTaxonomy *taxonomy)
{
  CdClassification *self = g_new0(CdClassification, 1);

  self->taxonomy = g_object_ref(taxonomy);
  self->sums = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  self->names = g_ptr_array_new_with_free_func(g_free);
  self->classifiers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_variant_unref);
  self->notes = g_ptr_array_new_with_free_func(g_free);
  return self;
}

void
cd_classification_free(CdClassification *self)
{
  if (self == NULL)
    return;
  g_object_unref(self->taxonomy);
  g_hash_table_unref(self->sums);
  g_ptr_array_unref(self->names);
  g_hash_table_unref(self->classifiers);
  g_ptr_array_unref(self->notes);
  g_free(self);
}

static void
cd_classification_record(CdClassification *self, const gchar *classifier, GVariant *value)
{
  if (!g_hash_table_contains(self->classifiers, classifier))
    g_ptr_array_add(self->names, g_strdup(classifier));
  g_hash_table_replace(self->classifiers, g_strdup(classifier), g_variant_ref_sink(value));
}

/* Adds one classifier's answer (an array of CdLabelScore). */
void
cd_classification_add(CdClassification *self, const gchar *classifier, gdouble weight, GPtrArray *scores)
{
  g_autoptr(GHashTable) best = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  GVariantBuilder shares;
  GHashTableIter iter;
  gpointer key, value;
  gdouble sum = 0;

  for (guint i = 0; i < scores->len; i++) {
    CdLabelScore *score = g_ptr_array_index(scores, i);
    const gchar *type = cd_taxonomy_lookup(self->taxonomy, score->label);
    gdouble *v;
    if (type == NULL || cd_taxonomy_is_retired(self->taxonomy, type)) {
      g_autofree gchar *note =
          g_strdup_printf("%s: label '%s' ignored: %s", classifier, score->label,
                          type == NULL ? "not a document type of the taxonomy" : "the type is retired");
      if (!g_ptr_array_find_with_equal_func(self->notes, note, g_str_equal, NULL))
        g_ptr_array_add(self->notes, g_steal_pointer(&note));
      continue;
    }
    v = g_hash_table_lookup(best, type);
    if (v == NULL) {
      v = g_new0(gdouble, 1);
      g_hash_table_insert(best, (gpointer) type, v);
    }
    *v = MAX(*v, score->score);
  }
  g_hash_table_iter_init(&iter, best);
  while (g_hash_table_iter_next(&iter, &key, &value))
    sum += *(gdouble *) value;

  g_variant_builder_init(&shares, G_VARIANT_TYPE("a{sd}"));
  g_hash_table_iter_init(&iter, best);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    gdouble share = *(gdouble *) value / MAX(1.0, sum);
    gdouble *total;
    g_variant_builder_add(&shares, "{sd}", (const gchar *) key, share);
    if (weight <= 0)
      continue;
    total = g_hash_table_lookup(self->sums, key);
    if (total == NULL) {
      total = g_new0(gdouble, 1);
      g_hash_table_insert(self->sums, key, total);
    }
    *total += weight * share;
  }
  cd_classification_record(self, classifier, g_variant_builder_end(&shares));
  if (sum > 0 && weight > 0)
    self->total_weight += weight;
}

/* Records that @classifier failed on this document (it does not count). */
void
cd_classification_add_failure(CdClassification *self, const gchar *classifier, const gchar *message)
{
  cd_classification_record(self, classifier, g_variant_new_string(message));
}

/* The combined score of @type, 0 to 1. */
gdouble
cd_classification_get_score(CdClassification *self, const gchar *type)
{
  gdouble *sum = g_hash_table_lookup(self->sums, type);
  if (sum == NULL || self->total_weight <= 0)
    return 0;
  return *sum / self->total_weight;
}

/* The winning type and its confidence (rule 4 above). */
const gchar *
cd_classification_decide(CdClassification *self, gdouble *confidence)
{
  g_autoptr(GPtrArray) types = cd_taxonomy_get_types(self->taxonomy, FALSE);
  const gchar *winner = NULL;
  gdouble best = 0;

  for (guint i = 0; i < types->len; i++) {
    const gchar *type = g_ptr_array_index(types, i);
    gdouble score = cd_classification_get_score(self, type);
    if (score > best) {
      best = score;
      winner = type;
    }
  }
  if (winner == NULL) {
    winner = cd_taxonomy_get_fallback(self->taxonomy);
    best = 0;
  }
  if (confidence != NULL)
    *confidence = best;
  return winner;
}

static gint
cd_classification_cmp_score(gconstpointer a, gconstpointer b)
{
  const CdLabelScore *sa = *(CdLabelScore *const *) a;
  const CdLabelScore *sb = *(CdLabelScore *const *) b;
  return sa->score < sb->score ? 1 : sa->score > sb->score ? -1 : 0;
}

/* Every type with a combined score above 0, best first (taxonomy order on
 * ties): an array of CdLabelScore. */
GPtrArray *
cd_classification_get_ranking(CdClassification *self)
{
  g_autoptr(GPtrArray) types = cd_taxonomy_get_types(self->taxonomy, FALSE);
  GPtrArray *ranking = g_ptr_array_new_with_free_func((GDestroyNotify) cd_label_score_free);

  for (guint i = 0; i < types->len; i++) {
    gdouble score = cd_classification_get_score(self, g_ptr_array_index(types, i));
    if (score > 0)
      g_ptr_array_add(ranking, cd_label_score_new(g_ptr_array_index(types, i), score));
  }
  /* g_ptr_array_sort is a merge sort in GLib: stable, so ties keep order */
  g_ptr_array_sort(ranking, cd_classification_cmp_score);
  return ranking;
}

/* Labels dropped, one note each ("rules: label 'x' ignored: …"). */
GPtrArray *
cd_classification_get_notes(CdClassification *self)
{
  return self->notes;
}

/* What the archive keeps in the first page's facts under `classify`:
 * {type, confidence, scores: {type: combined}, classifiers: {name: {type:
 * share} or "failure message"}}. */
GVariant *
cd_classification_to_variant(CdClassification *self)
{
  g_autoptr(GPtrArray) ranking = cd_classification_get_ranking(self);
  GVariantDict dict;
  GVariantBuilder scores;
  gdouble confidence = 0;
  const gchar *winner = cd_classification_decide(self, &confidence);
  GVariantDict classifiers;

  g_variant_dict_init(&dict, NULL);
  g_variant_dict_insert(&dict, "type", "s", winner);
  g_variant_dict_insert(&dict, "confidence", "d", confidence);
  g_variant_builder_init(&scores, G_VARIANT_TYPE("a{sd}"));
  for (guint i = 0; i < ranking->len; i++) {
    CdLabelScore *score = g_ptr_array_index(ranking, i);
    g_variant_builder_add(&scores, "{sd}", score->label, score->score);
  }
  g_variant_dict_insert_value(&dict, "scores", g_variant_builder_end(&scores));
  g_variant_dict_init(&classifiers, NULL);
  for (guint i = 0; i < self->names->len; i++) {
    const gchar *name = g_ptr_array_index(self->names, i);
    g_variant_dict_insert_value(&classifiers, name, g_hash_table_lookup(self->classifiers, name));
  }
  g_variant_dict_insert_value(&dict, "classifiers", g_variant_dict_end(&classifiers));
  return g_variant_dict_end(&dict);
}
