/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The text model's learners (issue 12, point 5): class balancing on a
 * corpus where a rare type is recovered only when every type weighs the
 * same, and the L-BFGS learner beside SGD: what it learns, that it does
 * not depend on the order of the documents, and that it is recorded in
 * the stored model.
 */
#include "cd-engine.h"
#include "cd-test-util.h"
#include <glib/gstdio.h>
#include <string.h>

/* Words every document draws from, words only the common type has, and
 * the rare type's marks. Made-up words, so nothing here depends on the
 * taxonomy's vocabulary. */
static const gchar *const shared_words[] = {
  "patient", "reports", "today",   "seen",  "noted",  "stable", "plan",  "review", "history", "pain",
  "follow",  "visit",   "normal",  "given", "advise", "return", "weeks", "daily",  "dose",    "left",
  "right",   "mild",    "changes", "clear", "denies", "fever",  "cough", "chest",  "walking", "sleep",
};
static const gchar *const common_words[] = { "vorlane", "quessit", "brimmel", "tadorin", "wexpoll", "gantrey" };
static const gchar *const rare_words[] = { "zephlor", "mirquon" };

/* A document of 20 shared words and @n_marks words from @marks. */
static gchar *
make_document(GRand *rand, const gchar *const *marks, guint n_mark_words, guint n_marks)
{
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < 20; i++)
    g_string_append_printf(s, "%s ", shared_words[g_rand_int_range(rand, 0, G_N_ELEMENTS(shared_words))]);
  for (guint i = 0; i < n_marks; i++)
    g_string_append_printf(s, "%s ", marks[g_rand_int_range(rand, 0, n_mark_words)]);
  return g_string_free(s, FALSE);
}

typedef struct {
  GPtrArray *texts;
  GPtrArray *labels;
} Corpus;

static void
corpus_free(Corpus *c)
{
  g_ptr_array_unref(c->texts);
  g_ptr_array_unref(c->labels);
  g_free(c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Corpus, corpus_free)

/* @n_rare letters, then @n_common progress notes; a letter carries six
 * of its marks, a note three of its own. */
static Corpus *
make_corpus(guint seed, guint n_common, guint n_rare)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
  Corpus *c = g_new0(Corpus, 1);

  c->texts = g_ptr_array_new_with_free_func(g_free);
  c->labels = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < n_common + n_rare; i++) {
    if (i < n_rare) {
      g_ptr_array_add(c->texts, make_document(rand, rare_words, G_N_ELEMENTS(rare_words), 6));
      g_ptr_array_add(c->labels, g_strdup("correspondence"));
    } else {
      g_ptr_array_add(c->texts, make_document(rand, common_words, G_N_ELEMENTS(common_words), 3));
      g_ptr_array_add(c->labels, g_strdup("progress-note"));
    }
  }
  return c;
}

static CdTextModel *
train_with(Corpus *c, const gchar *first_property, ...)
{
  g_autoptr(CdTextModel) model = NULL;
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start(args, first_property);
  model = CD_TEXT_MODEL(g_object_new_valist(CD_TYPE_TEXT_MODEL, first_property, args));
  va_end(args);
  g_assert_true(cd_text_model_train(model, c->texts, c->labels, NULL, &error));
  g_assert_no_error(error);
  return g_steal_pointer(&model);
}

static const gchar *
top_label(CdTextModel *model, const gchar *text)
{
  g_autoptr(GPtrArray) scores = cd_text_model_predict(model, text);
  static gchar label[64];
  g_assert_cmpuint(scores->len, >, 0);
  g_strlcpy(label, ((CdLabelScore *) g_ptr_array_index(scores, 0))->label, sizeof label);
  return label;
}

/* How many of @test's documents of type @label the model types right. */
static guint
recalled(CdTextModel *model, Corpus *test, const gchar *label)
{
  guint n = 0;
  for (guint i = 0; i < test->texts->len; i++) {
    if (g_strcmp0(g_ptr_array_index(test->labels, i), label) == 0 &&
        g_strcmp0(top_label(model, g_ptr_array_index(test->texts, i)), label) == 0)
      n++;
  }
  return n;
}

static guint
count_label(Corpus *c, const gchar *label)
{
  guint n = 0;
  for (guint i = 0; i < c->labels->len; i++)
    n += g_strcmp0(g_ptr_array_index(c->labels, i), label) == 0;
  return n;
}

/* A rare type (5 letters against 160 notes) whose documents differ from
 * the common one's by a few words: trained unbalanced, SGD reads the
 * held-out letters as the common type; balanced (the default), it
 * recovers most of them, and still types the common documents right. The
 * corpora are seeded: the counts are the same on every run. */
static void
test_balancing_recovers_rare_type(void)
{
  g_autoptr(Corpus) train = make_corpus(7, 160, 5);
  g_autoptr(Corpus) test = make_corpus(8, 40, 20);
  const gchar *const learners[] = { "sgd", "lbfgs" };
  guint n_rare = count_label(test, "correspondence"), n_common = count_label(test, "progress-note");

  g_assert_cmpuint(n_rare, ==, 20);
  for (guint i = 0; i < G_N_ELEMENTS(learners); i++) {
    g_autoptr(CdTextModel) flat = train_with(train, "learner", learners[i], "balanced", FALSE, NULL);
    g_autoptr(CdTextModel) balanced = train_with(train, "learner", learners[i], NULL);
    guint flat_rare = recalled(flat, test, "correspondence"),
          balanced_rare = recalled(balanced, test, "correspondence");
    gboolean is_balanced = FALSE;

    g_object_get(balanced, "balanced", &is_balanced, NULL);
    g_assert_true(is_balanced);
    g_test_message("%s: rare type recalled %u of %u unbalanced, %u balanced", learners[i], flat_rare, n_rare,
                   balanced_rare);
    if (i == 0) {
      /* the default learner: from none to most */
      g_assert_cmpuint(flat_rare, <=, n_rare / 10);
      g_assert_cmpuint(balanced_rare, >=, n_rare * 7 / 10);
    } else {
      /* converged with almost no L2, unbalanced L-BFGS already fits the
       * five letters; balancing still recovers far more of the unseen ones */
      g_assert_cmpuint(balanced_rare, >=, flat_rare + n_rare / 4);
    }
    g_assert_cmpuint(recalled(balanced, test, "progress-note"), >=, n_common * 9 / 10);
  }
}

/* L-BFGS minimises the same loss to convergence, so the model depends on
 * the documents and #CdTextModel:l2, not on the seed of SGD's order: two
 * seeds give the same probabilities (up to float rounding), where SGD's
 * differ. */
static void
test_lbfgs_independent_of_order(void)
{
  g_autoptr(Corpus) train = make_corpus(11, 60, 20);
  g_autoptr(Corpus) test = make_corpus(12, 20, 10);
  g_autoptr(CdTextModel) a = train_with(train, "learner", "lbfgs", "seed", 1, NULL);
  g_autoptr(CdTextModel) b = train_with(train, "learner", "lbfgs", "seed", 2, NULL);
  g_autoptr(CdTextModel) sa = train_with(train, "learner", "sgd", "seed", 1, NULL);
  g_autoptr(CdTextModel) sb = train_with(train, "learner", "sgd", "seed", 2, NULL);
  gdouble lbfgs_diff = 0, sgd_diff = 0;

  for (guint i = 0; i < test->texts->len; i++) {
    const gchar *text = g_ptr_array_index(test->texts, i);
    g_autoptr(GPtrArray) pa = cd_text_model_predict(a, text);
    g_autoptr(GPtrArray) pb = cd_text_model_predict(b, text);
    g_autoptr(GPtrArray) qa = cd_text_model_predict(sa, text);
    g_autoptr(GPtrArray) qb = cd_text_model_predict(sb, text);
    CdLabelScore *x = g_ptr_array_index(pa, 0), *y = g_ptr_array_index(pb, 0);
    CdLabelScore *u = g_ptr_array_index(qa, 0), *v = g_ptr_array_index(qb, 0);
    g_assert_cmpstr(x->label, ==, y->label);
    g_assert_cmpstr(x->label, ==, g_ptr_array_index(test->labels, i));
    lbfgs_diff = MAX(lbfgs_diff, ABS(x->score - y->score));
    if (g_strcmp0(u->label, v->label) == 0)
      sgd_diff = MAX(sgd_diff, ABS(u->score - v->score));
  }
  g_test_message("largest difference of the top score between seeds: lbfgs %.2g, sgd %.2g", lbfgs_diff, sgd_diff);
  g_assert_cmpfloat(lbfgs_diff, <, 1e-4);
  g_assert_cmpfloat(sgd_diff, >, 1e-3);
}

/* The learner is kept in the stored model and its parameters; the stored
 * form is the one every reader applies, so a model without the key (all
 * older ones) reads as SGD's. An unknown learner is refused by the CLI's
 * validation, and a wrong value set on the property keeps the old one. */
static void
test_learner_recorded(void)
{
  g_autoptr(Corpus) train = make_corpus(13, 30, 10);
  g_autoptr(CdTextModel) model = train_with(train, "learner", "lbfgs", NULL);
  g_autoptr(CdTextModel) fresh = cd_text_model_new();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = cd_text_model_to_bytes(model, &error);
  g_autoptr(CdTextModel) loaded = NULL;
  g_autoptr(JsonNode) params = NULL;
  g_autofree gchar *learner = NULL, *default_learner = NULL;

  g_assert_no_error(error);
  loaded = cd_text_model_new_from_bytes(blob, &error);
  g_assert_no_error(error);
  g_object_get(loaded, "learner", &learner, NULL);
  g_assert_cmpstr(learner, ==, "lbfgs");
  params = cd_text_model_get_params(loaded);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(params), "learner"), ==, "lbfgs");
  g_object_get(fresh, "learner", &default_learner, NULL);
  g_assert_cmpstr(default_learner, ==, "sgd");
  for (guint i = 0; i < train->texts->len; i++) {
    const gchar *text = g_ptr_array_index(train->texts, i);
    g_autoptr(GPtrArray) p = cd_text_model_predict(model, text);
    g_autoptr(GPtrArray) q = cd_text_model_predict(loaded, text);
    g_assert_cmpstr(((CdLabelScore *) g_ptr_array_index(p, 0))->label, ==,
                    ((CdLabelScore *) g_ptr_array_index(q, 0))->label);
    g_assert_cmpfloat(
        ABS(((CdLabelScore *) g_ptr_array_index(p, 0))->score - ((CdLabelScore *) g_ptr_array_index(q, 0))->score), <,
        1e-3);
  }
}

static void
test_learner_unknown_warns(void)
{
  if (g_test_subprocess()) {
    g_autoptr(CdTextModel) model = cd_text_model_new();
    g_autofree gchar *learner = NULL;
    g_object_set(model, "learner", "newton", NULL);
    g_object_get(model, "learner", &learner, NULL);
    g_print("learner after: %s\n", learner);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_stderr("*unknown learner 'newton'*");
}

/* `classify evaluate` reports the top score's calibration, consistent with
 * its own counts: the bins hold every document, their right answers are
 * the accuracy, and the calibration error and log-loss are in range;
 * `--learner` is passed through, and an unknown learner is refused. */
static void
test_cli_calibration_and_learner(void)
{
  g_autoptr(Corpus) corpus = make_corpus(17, 60, 15);
  g_autofree gchar *dir = g_dir_make_tmp("cd-text-learner-XXXXXX", NULL);
  g_autofree gchar *csv = g_build_filename(dir, "train.csv", NULL);
  g_autoptr(GString) s = g_string_new("label,text\n");
  g_autoptr(GError) error = NULL;
  const gchar *const learners[] = { "sgd", "lbfgs" };

  for (guint i = 0; i < corpus->texts->len; i++)
    g_string_append_printf(s, "%s,%s\n", (gchar *) g_ptr_array_index(corpus->labels, i),
                           (gchar *) g_ptr_array_index(corpus->texts, i));
  g_assert_true(g_file_set_contents(csv, s->str, s->len, &error));
  g_assert_no_error(error);
  for (guint l = 0; l < G_N_ELEMENTS(learners); l++) {
    g_auto(CdTestRun) run = { 0 };
    g_autoptr(JsonNode) node = NULL;
    JsonObject *r;
    JsonArray *bins;
    gint64 documents, in_bins = 0, right = 0;
    gdouble ece, log_loss;

    cd_test_chartdesk(&run, "classify", "evaluate", "--csv", csv, "--folds", "3", "--learner", learners[l], "--json",
                      NULL);
    g_assert_cmpint(run.status, ==, 0);
    node = json_from_string(run.out, &error);
    g_assert_no_error(error);
    r = json_node_get_object(node);
    documents = json_object_get_int_member(r, "documents");
    g_assert_cmpint(documents, ==, 75);
    bins = json_object_get_array_member(r, "calibration");
    g_assert_nonnull(bins);
    g_assert_cmpuint(json_array_get_length(bins), ==, 10);
    for (guint k = 0; k < 10; k++) {
      JsonObject *bin = json_array_get_object_element(bins, k);
      gint64 n = json_object_get_int_member(bin, "documents");
      gdouble mean = json_object_get_double_member(bin, "mean-confidence");
      in_bins += n;
      right += json_object_get_int_member(bin, "right");
      g_assert_cmpint(json_object_get_int_member(bin, "right"), <=, n);
      if (n > 0) {
        /* a bin's documents have confidences inside it */
        g_assert_cmpfloat(mean, >=, k / 10.0 - 1e-9);
        g_assert_cmpfloat(mean, <=, (k + 1) / 10.0 + 1e-9);
      }
    }
    g_assert_cmpint(in_bins, ==, documents);
    g_assert_cmpfloat(ABS((gdouble) right / documents - json_object_get_double_member(r, "accuracy")), <, 1e-9);
    ece = json_object_get_double_member(r, "expected-calibration-error");
    log_loss = json_object_get_double_member(r, "log-loss");
    g_test_message("%s: accuracy %.3f, expected calibration error %.3f, log-loss %.3f", learners[l],
                   json_object_get_double_member(r, "accuracy"), ece, log_loss);
    g_assert_cmpfloat(ece, >=, 0);
    g_assert_cmpfloat(ece, <=, 1);
    g_assert_cmpfloat(log_loss, >, 0);
  }
  {
    g_auto(CdTestRun) run = { 0 };
    cd_test_chartdesk(&run, "classify", "evaluate", "--csv", csv, "--folds", "3", "--learner", "newton", NULL);
    g_assert_cmpint(run.status, !=, 0);
    g_assert_nonnull(strstr(run.err, "--learner must be sgd or lbfgs"));
  }
  g_unlink(csv);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chartdesk/text-model/learner/balancing", test_balancing_recovers_rare_type);
  g_test_add_func("/chartdesk/text-model/learner/lbfgs-order", test_lbfgs_independent_of_order);
  g_test_add_func("/chartdesk/text-model/learner/recorded", test_learner_recorded);
  g_test_add_func("/chartdesk/text-model/learner/unknown", test_learner_unknown_warns);
  g_test_add_func("/chartdesk/text-model/learner/cli-calibration", test_cli_calibration_and_learner);
  return g_test_run();
}
