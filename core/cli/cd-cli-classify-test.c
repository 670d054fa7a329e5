/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk classify test`: the plugin author's harness. Runs one
 * classifier on labelled samples and reports its scores, accuracy, and
 * per-type precision and recall, deciding each sample exactly as the
 * engine would (the same combination rule and taxonomy thresholds).
 */
#include "config.h"

#include <stdio.h>

#include "cd-classification-private.h"
#include "cd-cli-classify-test-private.h"
#include "cd-cli-private.h"
#include "cd-param-private.h"
#include "cd-util-private.h"

typedef struct {
  gchar *name;     /* what to call it: folder/file.txt, or file.csv:LINE */
  gchar *expected; /* a taxonomy type */
  gchar *text;     /* pages separated by form feeds */
} CdSample;

typedef struct {
  guint samples;   /* labelled with the type */
  guint predicted; /* given the type */
  guint right;     /* both */
} CdTypeTally;

static void
cd_sample_free(CdSample *sample)
{
  g_free(sample->name);
  g_free(sample->expected);
  g_free(sample->text);
  g_free(sample);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdSample, cd_sample_free)

/* Labels are read through the taxonomy; a label that names no type is
 * reported once and its samples left out. */
static const gchar *
cd_classify_test_resolve(CdTaxonomy *taxonomy, const gchar *label, GHashTable *unknown)
{
  const gchar *type = cd_taxonomy_lookup(taxonomy, label);
  if (type != NULL && !cd_taxonomy_is_retired(taxonomy, type))
    return type;
  if (g_hash_table_add(unknown, g_strdup(label)))
    fprintf(stderr, "chartdesk: label '%s' is not a document type in use in %s: its samples are left out\n", label,
            cd_taxonomy_get_origin(taxonomy));
  return NULL;
}

/* Labelled samples from a folder of TYPE/NAME.txt or a CSV; labels are
 * read through the taxonomy, and one that names no type in use is
 * reported once and its samples left out. */
static gboolean
cd_classify_test_read(const gchar *path, const gchar *label_column, const gchar *text_column, CdTaxonomy *taxonomy,
                      GPtrArray *samples, GError **error)
{
  g_autoptr(CdLabelled) labelled = cd_labelled_new();
  g_autoptr(GHashTable) unknown = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

  if (!cd_labelled_add_path(labelled, path, label_column, text_column, error))
    return FALSE;
  for (guint i = 0; i < labelled->texts->len; i++) {
    const gchar *type = cd_classify_test_resolve(taxonomy, g_ptr_array_index(labelled->labels, i), unknown);
    CdSample *sample;
    if (type == NULL)
      continue;
    sample = g_new0(CdSample, 1);
    sample->name = g_strdup(g_ptr_array_index(labelled->names, i));
    sample->expected = g_strdup(type);
    sample->text = g_strdup(g_ptr_array_index(labelled->texts, i));
    g_ptr_array_add(samples, sample);
  }
  return TRUE;
}

/* A document of the sample's pages (form feeds separate them). */
static CdDocument *
cd_classify_test_document(CdSample *sample)
{
  CdDocument *document = cd_document_new();
  g_auto(GStrv) pages = g_strsplit(sample->text, "\f", -1);
  g_autofree gchar *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, sample->name, -1);

  for (guint i = 0; pages[i] != NULL; i++) {
    g_autoptr(CdPage) page = cd_page_new(sample->name, i, sha);
    cd_page_set_text(page, pages[i]);
    cd_document_add_page(document, page);
  }
  return document;
}

/* Makes the classifier with --set options, validated as workflows are. */
static CdClassifier *
cd_classify_test_make(CdRegistry *registry, const gchar *name, gchar **sets, GError **error)
{
  GType type = cd_registry_find_stage(registry, name, error);
  g_autoptr(GTypeClass) klass = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) values = g_array_new(FALSE, TRUE, sizeof(GValue));

  if (type == G_TYPE_INVALID)
    return NULL;
  if (!g_type_is_a(type, CD_TYPE_CLASSIFIER)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "stage '%s' is a %s stage, not a classifier", name,
                cd_stage_kind_to_string(cd_stage_type_get_kind(type)));
    return NULL;
  }
  g_array_set_clear_func(values, (GDestroyNotify) g_value_unset);
  klass = g_type_class_ref(type);
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++) {
    g_auto(GStrv) kv = g_strsplit(sets[i], "=", 2);
    GParamSpec *pspec = kv[1] != NULL ? g_object_class_find_property(G_OBJECT_CLASS(klass), kv[0]) : NULL;
    GValue value = G_VALUE_INIT;
    g_autoptr(GError) error_local = NULL;
    if (kv[1] == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "--set %s: not OPTION=VALUE", sets[i]);
      return NULL;
    }
    if (pspec == NULL || (pspec->flags & G_PARAM_WRITABLE) == 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "classifier '%s' has no option '%s'", name, kv[0]);
      return NULL;
    }
    if (!cd_param_value_from_string(pspec, kv[1], &value, &error_local)) {
      g_value_unset(&value);
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "--set %s: %s", sets[i], error_local->message);
      return NULL;
    }
    g_ptr_array_add(names, g_strdup(pspec->name));
    g_array_append_val(values, value);
  }
  return CD_CLASSIFIER(
      g_object_new_with_properties(type, names->len, (const gchar **) names->pdata, (const GValue *) values->data));
}

static gchar *
cd_percent(guint part, guint whole)
{
  if (whole == 0)
    return g_strdup("-");
  return g_strdup_printf("%.1f%%", 100.0 * part / whole);
}

gint
cd_cli_classify_test(gint argc, gchar **argv)
{
  g_autofree gchar *opt_classifier = NULL;
  g_auto(GStrv) opt_set = NULL;
  g_autofree gchar *opt_label_column = g_strdup("label");
  g_autofree gchar *opt_text_column = g_strdup("text");
  g_autofree gchar *opt_archive = NULL;
  gboolean opt_json = FALSE;
  gint opt_limit = 0;
  const GOptionEntry entries[] = {
    { "classifier", 'c', 0, G_OPTION_ARG_STRING, &opt_classifier, "The classifier stage to test", "NAME" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &opt_set, "Set one of its options", "OPTION=VALUE" },
    { "label-column", 0, 0, G_OPTION_ARG_STRING, &opt_label_column, "CSV column of the type (default: label)", "NAME" },
    { "text-column", 0, 0, G_OPTION_ARG_STRING, &opt_text_column, "CSV column of the text (default: text)", "NAME" },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &opt_limit, "At most this many samples of each type", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the results as JSON", NULL },
    { "archive", 'a', 0, G_OPTION_ARG_FILENAME, &opt_archive,
      "The archive the classifier sees (the trained classifier loads its model from it)", "ARCHIVE" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("LABELLED — run a classifier on labelled samples");
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdRegistry) registry = NULL;
  g_autoptr(CdTaxonomy) taxonomy = NULL;
  g_autoptr(CdClassifier) classifier = NULL;
  g_autoptr(GPtrArray) samples = g_ptr_array_new_with_free_func((GDestroyNotify) cd_sample_free);
  g_autoptr(GHashTable) tallies = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GHashTable) per_type = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(GPtrArray) types = NULL;
  guint right = 0, errors = 0, accepted = 0, accepted_right = 0, n = 0;
  gint64 started;
  gdouble elapsed;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "LABELLED is a folder of TYPE/NAME.txt files (form feeds separate pages) or a "
                                    "CSV file with a header\nline and label and text columns. Each sample is "
                                    "classified as the engine would, with the taxonomy's\nreview thresholds; the "
                                    "report gives every sample's scores, the accuracy, and each type's\nprecision "
                                    "and recall.");
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "chartdesk: %s\n", error->message);
    return CD_EXIT_USAGE;
  }
  if (opt_classifier == NULL || argc != 2) {
    g_autofree gchar *help = g_option_context_get_help(ctx, TRUE, NULL);
    fprintf(stderr, "chartdesk: classify test needs --classifier NAME and one LABELLED folder or CSV file\n\n%s", help);
    return CD_EXIT_USAGE;
  }

  taxonomy = cd_taxonomy_new_default(&error);
  if (taxonomy == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (!cd_classify_test_read(argv[1], opt_label_column, opt_text_column, taxonomy, samples, &error)) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (samples->len == 0) {
    fprintf(stderr, "chartdesk: %s: no labelled samples\n", argv[1]);
    return CD_EXIT_FAILED;
  }

  registry = cd_cli_load_registry();
  classifier = cd_classify_test_make(registry, opt_classifier, opt_set, &error);
  if (classifier == NULL) {
    cd_cli_print_error(error);
    return error->code == CD_ERROR_INVALID_ARGUMENT ? 2 : 1;
  }
  cd_classifier_set_taxonomy(classifier, taxonomy);
  if (opt_archive != NULL) {
    archive = cd_cli_open_archive(opt_archive, CD_ARCHIVE_FLAG_NONE, &error);
    if (archive == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    cd_stage_set_archive(CD_STAGE(classifier), archive);
  }
  if (!cd_stage_start(CD_STAGE(classifier), &error)) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }

  types = cd_taxonomy_get_types(taxonomy, FALSE);
  for (guint i = 0; i < types->len; i++)
    g_hash_table_insert(tallies, g_ptr_array_index(types, i), g_new0(CdTypeTally, 1));

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "classifier");
  json_builder_add_string_value(b, opt_classifier);
  json_builder_set_member_name(b, "samples");
  json_builder_begin_array(b);
  if (!opt_json)
    g_print("%-40s %-18s %-18s %6s  %s\n", "sample", "expected", "predicted", "conf", "scores");
  started = g_get_monotonic_time();
  for (guint i = 0; i < samples->len; i++) {
    CdSample *sample = g_ptr_array_index(samples, i);
    g_autoptr(CdDocument) document = NULL;
    g_autoptr(GPtrArray) scores = NULL;
    g_autoptr(GError) error_local = NULL;
    g_autoptr(CdClassification) verdict = cd_classification_new(taxonomy);
    g_autoptr(GPtrArray) ranking = NULL;
    g_autoptr(GString) shown = g_string_new(NULL);
    CdTypeTally *tally;
    const gchar *predicted;
    gdouble confidence = 0;
    gboolean review;
    guint seen = GPOINTER_TO_UINT(g_hash_table_lookup(per_type, sample->expected));

    if (opt_limit > 0 && seen >= (guint) opt_limit)
      continue;
    g_hash_table_insert(per_type, sample->expected, GUINT_TO_POINTER(seen + 1));
    n++;
    document = cd_classify_test_document(sample);
    scores = cd_classifier_classify(classifier, document, NULL, &error_local);
    if (scores == NULL)
      errors++;
    else
      cd_classification_add(verdict, opt_classifier, 1.0, scores);
    predicted = cd_classification_decide(verdict, &confidence);
    review = scores == NULL || confidence < cd_taxonomy_get_threshold(taxonomy, predicted);
    ranking = cd_classification_get_ranking(verdict);

    tally = g_hash_table_lookup(tallies, sample->expected);
    tally->samples++;
    tally = g_hash_table_lookup(tallies, predicted);
    if (tally != NULL)
      tally->predicted++;
    if (g_strcmp0(predicted, sample->expected) == 0) {
      right++;
      ((CdTypeTally *) g_hash_table_lookup(tallies, predicted))->right++;
    }
    if (!review) {
      accepted++;
      if (g_strcmp0(predicted, sample->expected) == 0)
        accepted_right++;
    }

    for (guint r = 0; r < ranking->len && r < 3; r++) {
      CdLabelScore *s = g_ptr_array_index(ranking, r);
      g_string_append_printf(shown, "%s%s %.2f", r > 0 ? ", " : "", s->label, s->score);
    }
    if (!opt_json) {
      g_print("%-40s %-18s %-18s %6.2f  %s%s%s%s\n", sample->name, sample->expected, predicted, confidence,
              g_strcmp0(predicted, sample->expected) == 0 ? "" : "WRONG ", review ? "(review) " : "",
              error_local != NULL ? error_local->message : "", shown->str);
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "sample");
    json_builder_add_string_value(b, sample->name);
    json_builder_set_member_name(b, "expected");
    json_builder_add_string_value(b, sample->expected);
    json_builder_set_member_name(b, "predicted");
    json_builder_add_string_value(b, predicted);
    json_builder_set_member_name(b, "confidence");
    json_builder_add_double_value(b, confidence);
    json_builder_set_member_name(b, "review");
    json_builder_add_boolean_value(b, review);
    json_builder_set_member_name(b, "scores");
    json_builder_begin_object(b);
    for (guint r = 0; r < ranking->len; r++) {
      CdLabelScore *s = g_ptr_array_index(ranking, r);
      json_builder_set_member_name(b, s->label);
      json_builder_add_double_value(b, s->score);
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "error");
    if (error_local != NULL)
      json_builder_add_string_value(b, error_local->message);
    else
      json_builder_add_null_value(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  elapsed = (g_get_monotonic_time() - started) / (gdouble) G_USEC_PER_SEC;

  json_builder_set_member_name(b, "count");
  json_builder_add_int_value(b, n);
  json_builder_set_member_name(b, "right");
  json_builder_add_int_value(b, right);
  json_builder_set_member_name(b, "accuracy");
  json_builder_add_double_value(b, n > 0 ? (gdouble) right / n : 0);
  json_builder_set_member_name(b, "errors");
  json_builder_add_int_value(b, errors);
  json_builder_set_member_name(b, "accepted");
  json_builder_add_int_value(b, accepted);
  json_builder_set_member_name(b, "accepted_right");
  json_builder_add_int_value(b, accepted_right);
  json_builder_set_member_name(b, "seconds");
  json_builder_add_double_value(b, elapsed);
  json_builder_set_member_name(b, "types");
  json_builder_begin_object(b);
  if (!opt_json) {
    g_autofree gchar *acc = cd_percent(right, n);
    g_autofree gchar *acc_accepted = cd_percent(accepted_right, accepted);
    g_print("\n%u samples, %u right: accuracy %s; %u errors; %.2f s (%.1f ms a sample)\n", n, right, acc, errors,
            elapsed, n > 0 ? 1000 * elapsed / n : 0.0);
    g_print("%u above their type's review threshold, %u of them right (%s): the rest would go to review\n\n", accepted,
            accepted_right, acc_accepted);
    g_print("%-20s %8s %10s %6s %10s %8s\n", "type", "samples", "predicted", "right", "precision", "recall");
  }
  for (guint i = 0; i < types->len; i++) {
    const gchar *type = g_ptr_array_index(types, i);
    CdTypeTally *tally = g_hash_table_lookup(tallies, type);
    if (tally->samples == 0 && tally->predicted == 0)
      continue;
    if (!opt_json) {
      g_autofree gchar *precision = cd_percent(tally->right, tally->predicted);
      g_autofree gchar *recall = cd_percent(tally->right, tally->samples);
      g_print("%-20s %8u %10u %6u %10s %8s\n", type, tally->samples, tally->predicted, tally->right, precision, recall);
    }
    json_builder_set_member_name(b, type);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "samples");
    json_builder_add_int_value(b, tally->samples);
    json_builder_set_member_name(b, "predicted");
    json_builder_add_int_value(b, tally->predicted);
    json_builder_set_member_name(b, "right");
    json_builder_add_int_value(b, tally->right);
    json_builder_set_member_name(b, "precision");
    if (tally->predicted > 0)
      json_builder_add_double_value(b, (gdouble) tally->right / tally->predicted);
    else
      json_builder_add_null_value(b);
    json_builder_set_member_name(b, "recall");
    if (tally->samples > 0)
      json_builder_add_double_value(b, (gdouble) tally->right / tally->samples);
    else
      json_builder_add_null_value(b);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
  if (opt_json) {
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree gchar *out = json_to_string(root, TRUE);
    g_print("%s\n", out);
  }
  return CD_EXIT_OK;
}
