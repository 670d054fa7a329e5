/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk classify train|evaluate|models`: the trained classifier's
 * model, made from labelled documents and measured on them.
 */
#include "config.h"

#include <math.h>

#include <stdio.h>
#include <string.h>

#include "cd-cli-private.h"
#include "cd-util-private.h"

#define DEFAULT_MODEL_NAME "trained"
#define DEFAULT_FOLDS 5

/* ------------------------------------------------------ labelled data */

/* A label is a taxonomy name: lowercase letters, digits and '-'. Anything
 * else in a CSV is most likely a shifted column. */
static gboolean
cd_label_valid(const gchar *label)
{
  if (label == NULL || label[0] == '\0' || strlen(label) > 64)
    return FALSE;
  for (const gchar *p = label; *p != '\0'; p++) {
    if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-' && *p != '_')
      return FALSE;
  }
  return TRUE;
}

static gboolean
cd_labelled_add_archive(CdLabelled *self, CdArchive *archive, gboolean reviewed_only, GError **error)
{
  g_autoptr(GPtrArray) texts = NULL;
  g_autoptr(GPtrArray) labels = NULL;

  if (!cd_archive_get_labelled_documents(archive, reviewed_only, &texts, &labels, error))
    return FALSE;
  for (guint i = 0; i < texts->len; i++) {
    g_ptr_array_add(self->names, g_strdup_printf("%s: document %u", cd_archive_get_path(archive), i + 1));
    g_ptr_array_add(self->texts, g_strdup(g_ptr_array_index(texts, i)));
    g_ptr_array_add(self->labels, g_strdup(g_ptr_array_index(labels, i)));
  }
  return TRUE;
}

/*
 * Turns every label into the taxonomy's type name (aliases and former names
 * are accepted, in any case), so a model only ever learns and is scored on
 * types the engine knows. A label the taxonomy does not know is an error
 * naming it: training on a typo would create a type nobody can search for.
 * Without a taxonomy file, labels must look like type names.
 */
static gboolean
cd_labelled_canonicalise(CdLabelled *self, CdTaxonomy *taxonomy, const gchar *origin, GError **error)
{
  for (guint i = 0; i < self->labels->len; i++) {
    const gchar *label = g_ptr_array_index(self->labels, i);
    const gchar *type = taxonomy != NULL ? cd_taxonomy_lookup(taxonomy, label) : label;
    if (type == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: document %u: '%s' is not a type of the taxonomy (%s)",
                  origin, i + 1, label, cd_taxonomy_get_origin(taxonomy));
      return FALSE;
    }
    if (taxonomy == NULL && !cd_label_valid(type)) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                  "%s: document %u: '%s' is not a document type (lowercase letters, digits and '-')", origin, i + 1,
                  label);
      return FALSE;
    }
    if (type != label) {
      g_free(g_ptr_array_index(self->labels, i));
      g_ptr_array_index(self->labels, i) = g_strdup(type);
    }
  }
  return TRUE;
}

static CdTaxonomy *
cd_cli_taxonomy(void)
{
  g_autoptr(GError) error = NULL;
  CdTaxonomy *taxonomy = cd_taxonomy_new_default(&error);
  if (taxonomy == NULL)
    g_warning("labels are not checked against a taxonomy: %s", error->message);
  return taxonomy;
}

/* --------------------------------------------------------- options */

typedef struct {
  gboolean from_archive;
  gboolean reviewed_only;
  gchar *csv;
  gchar *folder;
  gchar *label_column;
  gchar *text_column;
  gchar *name;
  gint epochs;
  gint hash_bits;
  gdouble l2;
  gboolean headings;
  gboolean no_headings;
  gboolean tfidf;
  gint lead;
  gdouble nb_alpha;
  gint calibrate;
  gchar *learner;
  gboolean json;
  gchar *user;
} CdTrainOptions;

static void
cd_train_options_clear(CdTrainOptions *o)
{
  g_free(o->csv);
  g_free(o->folder);
  g_free(o->label_column);
  g_free(o->text_column);
  g_free(o->name);
  g_free(o->user);
  g_free(o->learner);
}

static GOptionGroup *
cd_train_option_group(CdTrainOptions *o)
{
  const GOptionEntry entries[] = {
    { "from-archive", 0, 0, G_OPTION_ARG_NONE, &o->from_archive,
      "Learn from the archive's filed documents that have a type (the default)", NULL },
    { "reviewed-only", 0, 0, G_OPTION_ARG_NONE, &o->reviewed_only,
      "From the archive: only documents whose type a person set (chartdesk review type)", NULL },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &o->csv, "Learn from a CSV with a header row and label, text columns",
      "FILE" },
    { "folder", 0, 0, G_OPTION_ARG_FILENAME, &o->folder, "Learn from FOLDER/TYPE/*.txt", "FOLDER" },
    { "label-column", 0, 0, G_OPTION_ARG_STRING, &o->label_column, "The CSV's label column (default label)", "NAME" },
    { "text-column", 0, 0, G_OPTION_ARG_STRING, &o->text_column, "The CSV's text column (default text)", "NAME" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &o->name, "The model's name in the archive (default trained)", "NAME" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &o->epochs, "Passes over the data (default 8)", "N" },
    { "hash-bits", 0, 0, G_OPTION_ARG_INT, &o->hash_bits, "Feature buckets per type, as a power of 2 (default 18)",
      "BITS" },
    { "l2", 0, 0, G_OPTION_ARG_DOUBLE, &o->l2, "L2 regularisation strength (default 1e-6; larger gives softer scores)",
      "L2" },
    { "headings", 0, 0, G_OPTION_ARG_NONE, &o->headings,
      "Also learn from section headings (capitals ending at a colon; the default)", NULL },
    { "no-headings", 0, 0, G_OPTION_ARG_NONE, &o->no_headings, "Do not learn from section headings", NULL },
    { "tfidf", 0, 0, G_OPTION_ARG_NONE, &o->tfidf, "Weigh features by inverse document frequency", NULL },
    { "lead", 0, 0, G_OPTION_ARG_INT, &o->lead,
      "The first N words are also features of their own, where the title is (default 16; 0: off)", "N" },
    { "nb", 0, 0, G_OPTION_ARG_DOUBLE, &o->nb_alpha,
      "Also train complement naive Bayes with this smoothing (e.g. 0.1) and average the two", "ALPHA" },
    { "calibrate", 0, 0, G_OPTION_ARG_INT, &o->calibrate,
      "Calibrate the scores and per-type priors by K-fold cross-validation inside the training data", "K" },
    { "learner", 0, 0, G_OPTION_ARG_STRING, &o->learner,
      "How the linear model is fitted: sgd (passes of stochastic gradient descent) or lbfgs (to convergence)", "NAME" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o->json, "Print JSON", NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &o->user, "Who to record in the audit log", "NAME" },
    { NULL },
  };
  GOptionGroup *group = g_option_group_new("train", "Training data and model", "Training options", NULL, NULL);
  g_option_group_add_entries(group, entries);
  return group;
}

static CdTextModel *
cd_cli_new_model(CdTrainOptions *o, GError **error)
{
  g_autoptr(CdTextModel) model = cd_text_model_new();

  if (o->epochs != 0) {
    if (o->epochs < 1 || o->epochs > 100) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "--epochs must be 1 to 100");
      return NULL;
    }
    g_object_set(model, "epochs", (guint) o->epochs, NULL);
  }
  if (o->hash_bits != 0) {
    if (o->hash_bits < 12 || o->hash_bits > 22) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "--hash-bits must be 12 to 22");
      return NULL;
    }
    g_object_set(model, "hash-bits", (guint) o->hash_bits, NULL);
  }
  if (o->l2 != 0) {
    if (!(o->l2 > 0 && o->l2 <= 1)) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "--l2 must be above 0 and at most 1");
      return NULL;
    }
    g_object_set(model, "l2", o->l2, NULL);
  }
  if (o->headings && o->no_headings) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "--headings and --no-headings contradict");
    return NULL;
  }
  if (o->headings || o->no_headings)
    g_object_set(model, "headings", o->headings, NULL);
  if (o->tfidf)
    g_object_set(model, "tfidf", TRUE, NULL);
  if (o->lead != -1) {
    if (o->lead < 0 || o->lead > 64) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "--lead must be 0 to 64");
      return NULL;
    }
    g_object_set(model, "lead", (guint) o->lead, NULL);
  }
  if (o->nb_alpha != 0) {
    if (!(o->nb_alpha > 0 && o->nb_alpha <= 100)) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "--nb must be above 0 and at most 100");
      return NULL;
    }
    g_object_set(model, "nb-alpha", o->nb_alpha, NULL);
  }
  if (o->calibrate != 0) {
    if (o->calibrate < 2 || o->calibrate > 20) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "--calibrate must be 2 to 20");
      return NULL;
    }
    g_object_set(model, "calibrate", (guint) o->calibrate, NULL);
  }
  if (o->learner != NULL) {
    if (g_strcmp0(o->learner, "sgd") != 0 && g_strcmp0(o->learner, "lbfgs") != 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "--learner must be sgd or lbfgs, not '%s'", o->learner);
      return NULL;
    }
    g_object_set(model, "learner", o->learner, NULL);
  }
  return g_steal_pointer(&model);
}

/* The training data the options name; @archive may be NULL when the
 * options name a file. */
static CdLabelled *
cd_cli_load_labelled(CdTrainOptions *o, CdArchive *archive, CdTaxonomy *taxonomy, GError **error)
{
  g_autoptr(CdLabelled) data = cd_labelled_new();
  const gchar *label_col = o->label_column != NULL ? o->label_column : "label";
  const gchar *text_col = o->text_column != NULL ? o->text_column : "text";

  if (o->csv != NULL && !cd_labelled_add_csv(data, o->csv, label_col, text_col, error))
    return NULL;
  if (o->folder != NULL && !cd_labelled_add_folder(data, o->folder, error))
    return NULL;
  if ((o->from_archive || o->reviewed_only || (o->csv == NULL && o->folder == NULL)) && archive != NULL &&
      !cd_labelled_add_archive(data, archive, o->reviewed_only, error))
    return NULL;
  if (data->texts->len == 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_NOT_FOUND,
                        "no labelled documents: the archive has no filed documents with a type");
    return NULL;
  }
  if (!cd_labelled_canonicalise(data, taxonomy,
                                o->csv != NULL      ? o->csv
                                : o->folder != NULL ? o->folder
                                                    : "the archive",
                                error))
    return NULL;
  return g_steal_pointer(&data);
}

static gdouble
cd_elapsed(gint64 since)
{
  return (g_get_monotonic_time() - since) / (gdouble) G_USEC_PER_SEC;
}

/* ------------------------------------------------------------ train */

static gint
cd_cli_classify_train(gint argc, gchar **argv)
{
  CdTrainOptions o = { .lead = -1 };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE — train the trained classifier's model");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(CdLabelled) data = NULL;
  g_autoptr(CdTextModel) model = NULL;
  g_autoptr(CdTaxonomy) taxonomy = NULL;
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(JsonNode) params = NULL;
  g_autoptr(JsonNode) metrics = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  const gchar *name;
  const gchar *const *labels;
  gint64 start;
  gdouble seconds = 0;
  gint version = 0;
  gint status = 0;

  g_option_context_set_main_group(ctx, cd_train_option_group(&o));
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Learns document types from labelled text and saves the model as a new "
                                    "version in the archive, where the `trained` classifier loads it. "
                                    "Without --csv or --folder it learns from the archive's filed documents "
                                    "that have a type.");
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "chartdesk: %s\n", error->message);
    cd_train_options_clear(&o);
    return CD_EXIT_USAGE;
  }
  if (argc != 2) {
    g_autofree gchar *help = g_option_context_get_help(ctx, TRUE, NULL);
    fprintf(stderr, "chartdesk: train needs one archive\n\n%s", help);
    cd_train_options_clear(&o);
    return CD_EXIT_USAGE;
  }
  name = o.name != NULL ? o.name : DEFAULT_MODEL_NAME;
  taxonomy = cd_cli_taxonomy();
  /* a model may be made before anything is ingested, from files */
  archive = cd_cli_open_archive(
      argv[1], o.csv != NULL || o.folder != NULL ? CD_ARCHIVE_FLAG_CREATE : CD_ARCHIVE_FLAG_NONE, &error);
  if (archive != NULL && o.user != NULL)
    cd_cli_set_user(archive, o.user);
  if (archive != NULL)
    model = cd_cli_new_model(&o, &error);
  if (model != NULL)
    data = cd_cli_load_labelled(&o, archive, taxonomy, &error);
  start = g_get_monotonic_time();
  if (data != NULL && cd_text_model_train(model, data->texts, data->labels, NULL, &error)) {
    seconds = cd_elapsed(start);
    blob = cd_text_model_to_bytes(model, &error);
  }
  if (blob != NULL) {
    params = cd_text_model_get_params(model);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "train-seconds");
    json_builder_add_double_value(b, seconds);
    json_builder_end_object(b);
    metrics = json_builder_get_root(b);
    if (!cd_archive_save_model(archive, name, blob, params, metrics, &version, &error))
      g_clear_pointer(&blob, g_bytes_unref);
  }
  if (blob == NULL) {
    cd_cli_print_error(error);
    cd_train_options_clear(&o);
    return CD_EXIT_FAILED;
  }

  labels = cd_text_model_get_labels(model);
  if (o.json) {
    JsonObject *obj = json_node_get_object(params);
    g_autofree gchar *out = NULL;
    json_object_set_string_member(obj, "name", name);
    json_object_set_int_member(obj, "version", version);
    json_object_set_double_member(obj, "train-seconds", seconds);
    json_object_set_int_member(obj, "bytes", (gint64) g_bytes_get_size(blob));
    out = json_to_string(params, TRUE);
    g_print("%s\n", out);
  } else {
    JsonObject *counts = json_object_get_object_member(json_node_get_object(params), "labels");
    g_print("trained model '%s' version %d on %u documents of %u types in %.2f s\n", name, version,
            cd_text_model_get_n_trained(model), g_strv_length((gchar **) labels), seconds);
    for (guint k = 0; labels[k] != NULL; k++)
      g_print("  %-22s %5" G_GINT64_FORMAT "\n", labels[k], json_object_get_int_member(counts, labels[k]));
    if (cd_text_model_get_n_trained(model) < data->texts->len)
      g_print("%u documents without any text were left out\n", data->texts->len - cd_text_model_get_n_trained(model));
    g_print("saved in %s (%.1f MB)\n", argv[1], g_bytes_get_size(blob) / 1e6);
  }
  cd_train_options_clear(&o);
  return status;
}

/* ---------------------------------------------------------- evaluate */

typedef struct {
  GPtrArray *names;      /* every type seen, true or predicted, sorted */
  GHashTable *index;     /* name → position + 1 */
  GArray *truth;         /* guint, per test document */
  GArray *predicted;     /* guint, per test document; G_MAXUINT for none */
  GArray *confidence;    /* gdouble, per test document: the top score, 0 for none */
  GArray *p_true;        /* gdouble, per test document: the score of its true type */
  gdouble train_seconds; /* summed over folds */
  guint train_runs;
  guint train_documents; /* summed over folds */
  gdouble predict_seconds;
} CdEvaluation;

static void
cd_evaluation_free(CdEvaluation *self)
{
  g_ptr_array_unref(self->names);
  g_hash_table_unref(self->index);
  g_array_unref(self->truth);
  g_array_unref(self->predicted);
  g_array_unref(self->confidence);
  g_array_unref(self->p_true);
  g_free(self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdEvaluation, cd_evaluation_free)

static CdEvaluation *
cd_evaluation_new(void)
{
  CdEvaluation *self = g_new0(CdEvaluation, 1);
  self->names = g_ptr_array_new_with_free_func(g_free);
  self->index = g_hash_table_new(g_str_hash, g_str_equal);
  self->truth = g_array_new(FALSE, FALSE, sizeof(guint));
  self->predicted = g_array_new(FALSE, FALSE, sizeof(guint));
  self->confidence = g_array_new(FALSE, FALSE, sizeof(gdouble));
  self->p_true = g_array_new(FALSE, FALSE, sizeof(gdouble));
  return self;
}

static guint
cd_evaluation_label(CdEvaluation *self, const gchar *name)
{
  gpointer found = g_hash_table_lookup(self->index, name);
  gchar *copy;
  if (found != NULL)
    return GPOINTER_TO_UINT(found) - 1;
  copy = g_strdup(name);
  g_ptr_array_add(self->names, copy);
  g_hash_table_insert(self->index, copy, GUINT_TO_POINTER(self->names->len));
  return self->names->len - 1;
}

/* Classifies @test's documents in @indices (all when NULL) and records the
 * outcome; an empty prediction counts as wrong for every type. */
static void
cd_evaluation_run(CdEvaluation *self, CdTextModel *model, CdLabelled *test, GArray *indices)
{
  guint n = indices != NULL ? indices->len : test->texts->len;
  gint64 start = g_get_monotonic_time();

  for (guint i = 0; i < n; i++) {
    guint d = indices != NULL ? g_array_index(indices, guint, i) : i;
    g_autoptr(GPtrArray) scores = cd_text_model_predict(model, g_ptr_array_index(test->texts, d));
    guint t = cd_evaluation_label(self, g_ptr_array_index(test->labels, d));
    guint p = G_MAXUINT;
    gdouble top = 0, truth = 0;
    if (scores->len > 0) {
      p = cd_evaluation_label(self, ((CdLabelScore *) g_ptr_array_index(scores, 0))->label);
      top = ((CdLabelScore *) g_ptr_array_index(scores, 0))->score;
    }
    for (guint k = 0; k < scores->len; k++) {
      CdLabelScore *s = g_ptr_array_index(scores, k);
      if (g_strcmp0(s->label, g_ptr_array_index(test->labels, d)) == 0)
        truth = s->score;
    }
    g_array_append_val(self->truth, t);
    g_array_append_val(self->predicted, p);
    g_array_append_val(self->confidence, top);
    g_array_append_val(self->p_true, truth);
  }
  self->predict_seconds += cd_elapsed(start);
}

static gboolean
cd_evaluation_train(CdEvaluation *self, CdTextModel *model, CdLabelled *data, GArray *indices, GError **error)
{
  g_autoptr(GPtrArray) texts = g_ptr_array_new();
  g_autoptr(GPtrArray) labels = g_ptr_array_new();
  gint64 start;

  for (guint i = 0; i < indices->len; i++) {
    guint d = g_array_index(indices, guint, i);
    g_ptr_array_add(texts, g_ptr_array_index(data->texts, d));
    g_ptr_array_add(labels, g_ptr_array_index(data->labels, d));
  }
  start = g_get_monotonic_time();
  if (!cd_text_model_train(model, texts, labels, NULL, error))
    return FALSE;
  self->train_seconds += cd_elapsed(start);
  self->train_runs++;
  self->train_documents += cd_text_model_get_n_trained(model);
  return TRUE;
}

/* Stratified folds: each type's documents, in a seeded shuffle, dealt to
 * the folds in turn, so a rare type is in as many folds as it can be. */
static guint *
cd_folds_assign(CdLabelled *data, guint k, guint seed)
{
  g_autoptr(GHashTable) by_label = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_array_unref);
  g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
  g_autoptr(GPtrArray) keys = g_ptr_array_new();
  guint *fold = g_new0(guint, data->texts->len);
  guint next = 0;

  for (guint i = 0; i < data->labels->len; i++) {
    const gchar *label = g_ptr_array_index(data->labels, i);
    GArray *members = g_hash_table_lookup(by_label, label);
    if (members == NULL) {
      members = g_array_new(FALSE, FALSE, sizeof(guint));
      g_hash_table_insert(by_label, (gpointer) label, members);
      g_ptr_array_add(keys, (gpointer) label);
    }
    g_array_append_val(members, i);
  }
  cd_ptr_array_sort_strings(keys);
  for (guint l = 0; l < keys->len; l++) {
    GArray *members = g_hash_table_lookup(by_label, g_ptr_array_index(keys, l));
    for (guint i = members->len - 1; i > 0; i--) {
      guint j = g_rand_int_range(rand, 0, i + 1);
      guint tmp = g_array_index(members, guint, i);
      g_array_index(members, guint, i) = g_array_index(members, guint, j);
      g_array_index(members, guint, j) = tmp;
    }
    for (guint i = 0; i < members->len; i++)
      fold[g_array_index(members, guint, i)] = next++ % k;
  }
  return fold;
}

/* The report: per-type precision, recall, F1 and support, macro-F1 over
 * the types that occur in the test data, accuracy, confusion matrix. */
static JsonNode *
cd_evaluation_to_json(CdEvaluation *self, const gchar *method)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(GPtrArray) sorted = g_ptr_array_new();
  g_autofree guint *order = NULL;
  guint n = self->names->len;
  g_autofree guint *conf = g_new0(guint, n * (n + 1));
  guint correct = 0, with_support = 0;
  gdouble macro = 0;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add(sorted, g_ptr_array_index(self->names, i));
  cd_ptr_array_sort_strings(sorted);
  order = g_new0(guint, n); /* sorted position → index */
  for (guint i = 0; i < n; i++)
    order[i] = GPOINTER_TO_UINT(g_hash_table_lookup(self->index, g_ptr_array_index(sorted, i))) - 1;
  for (guint i = 0; i < self->truth->len; i++) {
    guint t = g_array_index(self->truth, guint, i);
    guint p = g_array_index(self->predicted, guint, i);
    conf[t * (n + 1) + (p == G_MAXUINT ? n : p)]++;
    if (t == p)
      correct++;
  }

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "method");
  json_builder_add_string_value(b, method);
  json_builder_set_member_name(b, "documents");
  json_builder_add_int_value(b, self->truth->len);
  json_builder_set_member_name(b, "types");
  json_builder_begin_array(b);
  for (guint i = 0; i < n; i++) {
    guint c = order[i];
    guint tp = conf[c * (n + 1) + c], support = 0, predicted = 0;
    gdouble precision, recall, f1;
    for (guint j = 0; j <= n; j++)
      support += conf[c * (n + 1) + j];
    for (guint j = 0; j < n; j++)
      predicted += conf[j * (n + 1) + c];
    precision = predicted > 0 ? (gdouble) tp / predicted : 0;
    recall = support > 0 ? (gdouble) tp / support : 0;
    f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
    if (support > 0) {
      macro += f1;
      with_support++;
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, g_ptr_array_index(self->names, c));
    json_builder_set_member_name(b, "precision");
    json_builder_add_double_value(b, precision);
    json_builder_set_member_name(b, "recall");
    json_builder_add_double_value(b, recall);
    json_builder_set_member_name(b, "f1");
    json_builder_add_double_value(b, f1);
    json_builder_set_member_name(b, "support");
    json_builder_add_int_value(b, support);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "macro-f1");
  json_builder_add_double_value(b, with_support > 0 ? macro / with_support : 0);
  json_builder_set_member_name(b, "accuracy");
  json_builder_add_double_value(b, self->truth->len > 0 ? (gdouble) correct / self->truth->len : 0);
  /* rows: true type; columns: predicted type in the same order, then none */
  json_builder_set_member_name(b, "confusion");
  json_builder_begin_array(b);
  for (guint i = 0; i < n; i++) {
    json_builder_begin_array(b);
    for (guint j = 0; j < n; j++)
      json_builder_add_int_value(b, conf[order[i] * (n + 1) + order[j]]);
    json_builder_add_int_value(b, conf[order[i] * (n + 1) + n]);
    json_builder_end_array(b);
  }
  json_builder_end_array(b);
  /* calibration of the top score, which the review thresholds compare:
   * ten bins of confidence, how many documents and how many right in
   * each; the expected calibration error (the bins' |accuracy −
   * confidence| weighted by their share) and the mean log-loss of the
   * true type (probability floored at 1e-6) */
  {
    guint bin_n[10] = { 0 }, bin_right[10] = { 0 };
    gdouble bin_conf[10] = { 0 }, ece = 0, log_loss = 0;
    guint m = self->truth->len;
    for (guint i = 0; i < m; i++) {
      gdouble c = g_array_index(self->confidence, gdouble, i);
      guint bin = MIN((guint) (c * 10), 9u);
      bin_n[bin]++;
      bin_conf[bin] += c;
      bin_right[bin] += g_array_index(self->truth, guint, i) == g_array_index(self->predicted, guint, i);
      log_loss -= log(MAX(g_array_index(self->p_true, gdouble, i), 1e-6));
    }
    json_builder_set_member_name(b, "calibration");
    json_builder_begin_array(b);
    for (guint k = 0; k < 10; k++) {
      if (bin_n[k] > 0)
        ece += fabs((gdouble) bin_right[k] - bin_conf[k]) / m;
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "from");
      json_builder_add_double_value(b, k / 10.0);
      json_builder_set_member_name(b, "documents");
      json_builder_add_int_value(b, bin_n[k]);
      json_builder_set_member_name(b, "right");
      json_builder_add_int_value(b, bin_right[k]);
      json_builder_set_member_name(b, "mean-confidence");
      json_builder_add_double_value(b, bin_n[k] > 0 ? bin_conf[k] / bin_n[k] : 0);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "expected-calibration-error");
    json_builder_add_double_value(b, ece);
    json_builder_set_member_name(b, "log-loss");
    json_builder_add_double_value(b, m > 0 ? log_loss / m : 0);
  }
  json_builder_set_member_name(b, "train-runs");
  json_builder_add_int_value(b, self->train_runs);
  json_builder_set_member_name(b, "train-documents");
  json_builder_add_int_value(b, self->train_runs > 0 ? self->train_documents / self->train_runs : 0);
  json_builder_set_member_name(b, "train-seconds");
  json_builder_add_double_value(b, self->train_runs > 0 ? self->train_seconds / self->train_runs : 0);
  json_builder_set_member_name(b, "ms-per-document");
  json_builder_add_double_value(b, self->truth->len > 0 ? 1000.0 * self->predict_seconds / self->truth->len : 0);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static void
cd_evaluation_print(JsonNode *report)
{
  JsonObject *r = json_node_get_object(report);
  JsonArray *types = json_object_get_array_member(r, "types");
  JsonArray *conf = json_object_get_array_member(r, "confusion");
  guint n = json_array_get_length(types);

  g_print("%s, %" G_GINT64_FORMAT " documents\n\n", json_object_get_string_member(r, "method"),
          json_object_get_int_member(r, "documents"));
  g_print("    %-22s %9s %9s %9s %8s\n", "type", "precision", "recall", "F1", "support");
  for (guint i = 0; i < n; i++) {
    JsonObject *t = json_array_get_object_element(types, i);
    g_print("%2u  %-22s %9.3f %9.3f %9.3f %8" G_GINT64_FORMAT "\n", i + 1, json_object_get_string_member(t, "type"),
            json_object_get_double_member(t, "precision"), json_object_get_double_member(t, "recall"),
            json_object_get_double_member(t, "f1"), json_object_get_int_member(t, "support"));
  }
  g_print("\nmacro-F1 %.3f   accuracy %.3f\n\n", json_object_get_double_member(r, "macro-f1"),
          json_object_get_double_member(r, "accuracy"));
  g_print("confusion matrix (rows: true type, columns: predicted, by number above; ? = no answer)\n    ");
  for (guint j = 0; j < n; j++)
    g_print("%5u", j + 1);
  g_print("%5s\n", "?");
  for (guint i = 0; i < n; i++) {
    JsonArray *row = json_array_get_array_element(conf, i);
    g_print("%2u  ", i + 1);
    for (guint j = 0; j <= n; j++) {
      gint64 v = json_array_get_int_element(row, j);
      if (v == 0)
        g_print("%5s", ".");
      else
        g_print("%5" G_GINT64_FORMAT, v);
    }
    g_print("\n");
  }
  {
    JsonArray *bins = json_object_get_array_member(r, "calibration");
    g_print("\ncalibration of the top score (confidence from: right / documents)\n   ");
    for (guint k = 0; bins != NULL && k < json_array_get_length(bins); k++) {
      JsonObject *bin = json_array_get_object_element(bins, k);
      if (json_object_get_int_member(bin, "documents") == 0)
        continue;
      g_print(" %.1f: %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, json_object_get_double_member(bin, "from"),
              json_object_get_int_member(bin, "right"), json_object_get_int_member(bin, "documents"));
    }
    g_print("\n    expected calibration error %.3f   log-loss %.3f\n",
            json_object_get_double_member(r, "expected-calibration-error"),
            json_object_get_double_member(r, "log-loss"));
  }
  if (json_object_get_int_member(r, "train-runs") > 0)
    g_print("\ntraining: %.2f s on %" G_GINT64_FORMAT " documents%s\n",
            json_object_get_double_member(r, "train-seconds"), json_object_get_int_member(r, "train-documents"),
            json_object_get_int_member(r, "train-runs") > 1 ? " (mean of the folds)" : "");
  g_print("classifying: %.3f ms per document\n", json_object_get_double_member(r, "ms-per-document"));
}

static gint
cd_cli_classify_evaluate(gint argc, gchar **argv)
{
  CdTrainOptions o = { .lead = -1 };
  gint opt_folds = 0;
  gint opt_fold_seed = 42;
  gint opt_version = 0;
  g_autofree gchar *opt_test = NULL;
  const GOptionEntry entries[] = {
    { "folds", 'k', 0, G_OPTION_ARG_INT, &opt_folds, "Cross-validate over K folds (default 5)", "K" },
    { "fold-seed", 0, 0, G_OPTION_ARG_INT, &opt_fold_seed,
      "Seed of the stratified fold assignment (default 42), to repeat cross-validation on other splits", "N" },
    { "test", 0, 0, G_OPTION_ARG_FILENAME, &opt_test,
      "Measure on this held-out CSV or FOLDER/TYPE/*.txt instead of cross-validating", "PATH" },
    { "model-version", 0, 0, G_OPTION_ARG_INT, &opt_version,
      "With ARCHIVE and --test alone: measure this saved version (default the latest)", "N" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("[ARCHIVE] — measure the trained classifier");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(CdLabelled) data = NULL;
  g_autoptr(CdLabelled) test = NULL;
  g_autoptr(CdTaxonomy) taxonomy = NULL;
  g_autoptr(CdEvaluation) eval = cd_evaluation_new();
  g_autoptr(JsonNode) report = NULL;
  g_autofree gchar *method = NULL;
  gboolean have_source;
  gboolean ok = TRUE;
  gint status = 0;

  g_option_context_set_main_group(ctx, cd_train_option_group(&o));
  cd_cli_add_archive_options(ctx);
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_set_summary(ctx,
                               "Prints per-type precision, recall and F1, macro-F1, a confusion matrix, the "
                               "training time and the time to classify a document.\n\n"
                               "  evaluate --csv FILE [--folds K]       cross-validate on labelled data\n"
                               "  evaluate --csv FILE --test PATH       train on FILE, measure on PATH\n"
                               "  evaluate ARCHIVE [--folds K]          cross-validate on the archive's documents\n"
                               "  evaluate ARCHIVE --test PATH          measure the archive's saved model");
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "chartdesk: %s\n", error->message);
    cd_train_options_clear(&o);
    return CD_EXIT_USAGE;
  }
  have_source = o.csv != NULL || o.folder != NULL || o.from_archive || o.reviewed_only;
  if (argc > 2 || (argc < 2 && !have_source) || opt_folds < 0 || opt_folds == 1 || (opt_folds > 0 && opt_test)) {
    g_autofree gchar *help = g_option_context_get_help(ctx, TRUE, NULL);
    fprintf(stderr,
            "chartdesk: give labelled data (ARCHIVE, --csv or --folder) and --folds K (2 or more) or "
            "--test PATH\n\n%s",
            help);
    cd_train_options_clear(&o);
    return CD_EXIT_USAGE;
  }
  taxonomy = cd_cli_taxonomy();
  if (argc == 2) {
    archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_NONE, &error);
    if (archive != NULL && o.user != NULL)
      cd_cli_set_user(archive, o.user);
    ok = archive != NULL;
  }
  if (ok && opt_test != NULL) {
    test = cd_labelled_new();
    ok = cd_labelled_add_path(test, opt_test, o.label_column != NULL ? o.label_column : "label",
                              o.text_column != NULL ? o.text_column : "text", &error) &&
         cd_labelled_canonicalise(test, taxonomy, opt_test, &error);
  }

  if (ok && archive != NULL && opt_test != NULL && !have_source) {
    /* the saved model, as the classifier would load it */
    const gchar *name = o.name != NULL ? o.name : DEFAULT_MODEL_NAME;
    gint version = 0;
    g_autoptr(GBytes) blob = cd_archive_load_model(archive, name, opt_version, &version, &error);
    g_autoptr(CdTextModel) model = blob != NULL ? cd_text_model_new_from_bytes(blob, &error) : NULL;
    if (blob != NULL && model == NULL)
      g_prefix_error(&error, "model '%s' version %d: ", name, version);
    ok = model != NULL;
    if (ok) {
      cd_evaluation_run(eval, model, test, NULL);
      method = g_strdup_printf("model '%s' version %d on %s", name, version, opt_test);
    }
  } else if (ok) {
    g_autoptr(CdTextModel) model = cd_cli_new_model(&o, &error);
    ok = model != NULL;
    if (ok)
      data = cd_cli_load_labelled(&o, archive, taxonomy, &error);
    ok = ok && data != NULL;
    if (ok && test != NULL) {
      g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(guint));
      for (guint i = 0; i < data->texts->len; i++)
        g_array_append_val(all, i);
      ok = cd_evaluation_train(eval, model, data, all, &error);
      if (ok)
        cd_evaluation_run(eval, model, test, NULL);
      method = g_strdup_printf("trained on %u documents, tested on %s", data->texts->len, opt_test);
    } else if (ok) {
      guint k = opt_folds > 0 ? (guint) opt_folds : DEFAULT_FOLDS;
      g_autofree guint *fold = NULL;
      if (k > data->texts->len) {
        g_set_error(&error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%u folds need at least %u documents, got %u", k, k,
                    data->texts->len);
        ok = FALSE;
      }
      fold = ok ? cd_folds_assign(data, k, (guint) opt_fold_seed) : NULL;
      for (guint f = 0; ok && f < k; f++) {
        g_autoptr(GArray) train = g_array_new(FALSE, FALSE, sizeof(guint));
        g_autoptr(GArray) held = g_array_new(FALSE, FALSE, sizeof(guint));
        for (guint i = 0; i < data->texts->len; i++)
          g_array_append_val(fold[i] == f ? held : train, i);
        ok = cd_evaluation_train(eval, model, data, train, &error);
        if (ok)
          cd_evaluation_run(eval, model, data, held);
      }
      method = opt_fold_seed == 42 ? g_strdup_printf("%u-fold cross-validation", k)
                                   : g_strdup_printf("%u-fold cross-validation (fold seed %d)", k, opt_fold_seed);
    }
  }
  if (!ok) {
    cd_cli_print_error(error);
    cd_train_options_clear(&o);
    return CD_EXIT_FAILED;
  }
  report = cd_evaluation_to_json(eval, method);
  if (o.json) {
    g_autofree gchar *out = json_to_string(report, TRUE);
    g_print("%s\n", out);
  } else {
    cd_evaluation_print(report);
  }
  cd_train_options_clear(&o);
  return status;
}

/* ------------------------------------------------------------ models */

static gint
cd_cli_classify_models(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE — list the trained models and their versions");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GPtrArray) models = NULL;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "chartdesk: %s\n", error->message);
    return CD_EXIT_USAGE;
  }
  if (argc != 2) {
    fprintf(stderr, "chartdesk: models needs one archive\n");
    return CD_EXIT_USAGE;
  }
  archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_NONE, &error);
  if (archive != NULL)
    models = cd_archive_list_models(archive, NULL, &error);
  if (models == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (opt_json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree gchar *out = NULL;
    json_builder_begin_array(b);
    for (guint i = 0; i < models->len; i++) {
      CdModelInfo *m = g_ptr_array_index(models, i);
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "name");
      json_builder_add_string_value(b, m->name);
      json_builder_set_member_name(b, "version");
      json_builder_add_int_value(b, m->version);
      json_builder_set_member_name(b, "created");
      json_builder_add_string_value(b, m->created);
      json_builder_set_member_name(b, "actor");
      json_builder_add_string_value(b, m->actor);
      json_builder_set_member_name(b, "bytes");
      json_builder_add_int_value(b, (gint64) m->size);
      json_builder_set_member_name(b, "params");
      json_builder_add_value(b, m->params != NULL ? json_from_string(m->params, NULL) : json_node_new(JSON_NODE_NULL));
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    root = json_builder_get_root(b);
    out = json_to_string(root, TRUE);
    g_print("%s\n", out);
    return CD_EXIT_OK;
  }
  for (guint i = 0; i < models->len; i++) {
    CdModelInfo *m = g_ptr_array_index(models, i);
    g_print("%-12s version %-3d %s  %-12s %.1f MB\n", m->name, m->version, m->created, m->actor, m->size / 1e6);
  }
  if (models->len == 0)
    g_print("no models; train one with `chartdesk classify train`\n");
  return CD_EXIT_OK;
}

static void
cd_cli_classify_usage(FILE *out)
{
  fprintf(out, "Usage: chartdesk classify ACTION …\n\n"
               "Actions:\n"
               "  train      Learn document types from labelled text; save the model in an archive\n"
               "  evaluate   Precision, recall, F1 and confusion matrix by cross-validation or a test set\n"
               "  models     List the models an archive holds\n"
               "  test       Run one classifier on labelled samples and report its scores\n\n"
               "Run `chartdesk classify ACTION --help` for an action's options.\n");
}

gint
cd_cli_classify(gint argc, gchar **argv)
{
  static const struct {
    const gchar *name;
    gint (*func)(gint argc, gchar **argv);
  } actions[] = {
    { "train", cd_cli_classify_train },
    { "evaluate", cd_cli_classify_evaluate },
    { "models", cd_cli_classify_models },
  };

  if (argc < 2) {
    cd_cli_classify_usage(stderr);
    return CD_EXIT_USAGE;
  }
  if (g_strcmp0(argv[1], "--help") == 0 || g_strcmp0(argv[1], "-h") == 0) {
    cd_cli_classify_usage(stdout);
    return CD_EXIT_OK;
  }
  for (guint i = 0; i < G_N_ELEMENTS(actions); i++) {
    if (g_strcmp0(argv[1], actions[i].name) == 0) {
      g_autofree gchar *prgname = g_strdup_printf("chartdesk classify %s", actions[i].name);
      g_set_prgname(prgname);
      return actions[i].func(argc - 1, argv + 1);
    }
  }
  fprintf(stderr, "chartdesk: unknown classify action '%s'\n\n", argv[1]);
  cd_cli_classify_usage(stderr);
  return CD_EXIT_USAGE;
}
