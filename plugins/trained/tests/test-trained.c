/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The trained classifier on real medical transcriptions (mtsamples
 * excerpts, CC0, made by make-fixtures.py): the text model, its blob, the
 * archive's model versions, the `trained` stage loading from a reopened
 * archive file, and `chartdesk classify train/evaluate`.
 */
#include "cd-engine.h"
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

static CdRegistry *registry;

typedef struct {
  GPtrArray *texts;
  GPtrArray *labels;
} Labelled;

static void
labelled_free(Labelled *l)
{
  g_ptr_array_unref(l->texts);
  g_ptr_array_unref(l->labels);
  g_free(l);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Labelled, labelled_free)

/* Reads a fixture of JSON lines {"label": …, "text": …}. */
static Labelled *
load_fixture(const gchar *name)
{
  g_autofree gchar *path = g_build_filename(g_getenv("CD_TRAINED_FIXTURES"), name, NULL);
  g_autofree gchar *data = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  Labelled *l = g_new0(Labelled, 1);

  l->texts = g_ptr_array_new_with_free_func(g_free);
  l->labels = g_ptr_array_new_with_free_func(g_free);
  g_file_get_contents(path, &data, NULL, &error);
  g_assert_no_error(error);
  lines = g_strsplit(data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr(JsonNode) node = NULL;
    JsonObject *obj;
    if (lines[i][0] == '\0')
      continue;
    node = json_from_string(lines[i], &error);
    g_assert_no_error(error);
    obj = json_node_get_object(node);
    g_ptr_array_add(l->labels, g_strdup(json_object_get_string_member(obj, "label")));
    g_ptr_array_add(l->texts, g_strdup(json_object_get_string_member(obj, "text")));
  }
  g_assert_cmpuint(l->texts->len, >, 0);
  return l;
}

static CdTextModel *
train_fixture(void)
{
  g_autoptr(Labelled) train = load_fixture("train.jsonl");
  g_autoptr(CdTextModel) model = cd_text_model_new();
  g_autoptr(GError) error = NULL;

  g_assert_true(cd_text_model_train(model, train->texts, train->labels, NULL, &error));
  g_assert_no_error(error);
  return g_steal_pointer(&model);
}

static const gchar *
top_label(CdTextModel *model, const gchar *text)
{
  g_autoptr(GPtrArray) scores = cd_text_model_predict(model, text);
  static gchar label[64];
  if (scores->len == 0)
    return NULL;
  g_strlcpy(label, ((CdLabelScore *) g_ptr_array_index(scores, 0))->label, sizeof(label));
  return label;
}

static guint
count_correct(CdTextModel *model, Labelled *test)
{
  guint correct = 0;
  for (guint i = 0; i < test->texts->len; i++) {
    if (g_strcmp0(top_label(model, g_ptr_array_index(test->texts, i)), g_ptr_array_index(test->labels, i)) == 0)
      correct++;
  }
  return correct;
}

/* Trained on 60 real reports, the model types at least 70% of unseen ones
 * right (progress notes read like consultations at this size),
 * with probabilities that are sorted and sum to 1. */
static void
test_model_real_text(void)
{
  g_autoptr(CdTextModel) model = train_fixture();
  g_autoptr(Labelled) test = load_fixture("test.jsonl");
  g_autoptr(GPtrArray) scores = cd_text_model_predict(model, g_ptr_array_index(test->texts, 0));
  guint correct = count_correct(model, test);
  gdouble sum = 0;

  g_test_message("%u of %u held-out reports typed right", correct, test->texts->len);
  g_assert_cmpuint(correct * 100, >=, test->texts->len * 70);
  g_assert_cmpuint(scores->len, ==, 6);
  for (guint i = 0; i < scores->len; i++) {
    CdLabelScore *s = g_ptr_array_index(scores, i);
    sum += s->score;
    if (i > 0)
      g_assert_cmpfloat(s->score, <=, ((CdLabelScore *) g_ptr_array_index(scores, i - 1))->score);
  }
  g_assert_cmpfloat_with_epsilon(sum, 1.0, 1e-6);
  g_assert_cmpuint(cd_text_model_get_n_trained(model), ==, 60);
}

/* Letters OCR misreads as digits, and words it breaks, do not change the
 * type of a report; text without words gets no scores at all. */
static void
test_model_ocr_noise(void)
{
  g_autoptr(CdTextModel) model = train_fixture();
  const gchar *clean = "OPERATIVE REPORT. PREOPERATIVE DIAGNOSIS: Cholelithiasis. POSTOPERATIVE DIAGNOSIS: "
                       "Cholelithiasis. PROCEDURE PERFORMED: Laparoscopic cholecystectomy. ANESTHESIA: General "
                       "endotracheal. The patient was taken to the operating room and placed supine. The abdomen "
                       "was prepped and draped in the usual sterile fashion. Estimated blood loss minimal.";
  const gchar *noisy = "0PERATIVE REP0RT. PRE0PERATIVE D1AGN0SIS: Cho1e1ithiasis. P0ST0PERATIVE DIAGNOS1S: "
                       "Cholelith iasis. PR0CEDURE PERF0RMED: Laparosc0pic cho1ecystect0my. ANESTHES1A: Genera1 "
                       "end0tracheal. The pat ient was taken t0 the 0perating r0om and p1aced sup1ne. The abd0men "
                       "was prepp ed and draped in the usua1 steri1e fashi0n. Est1mated b1ood 1oss minimal.";
  g_autoptr(GPtrArray) none = cd_text_model_predict(model, "12/04/1998 0800 -- 120/80 ### ,,, 37.2");

  g_assert_cmpstr(top_label(model, clean), ==, "operative-report");
  g_assert_cmpstr(top_label(model, noisy), ==, "operative-report");
  g_assert_cmpuint(none->len, ==, 0);
}

/* The serialised model predicts what the trained one did, to the
 * precision of its 16-bit weights. */
static void
test_model_round_trip(void)
{
  g_autoptr(CdTextModel) model = train_fixture();
  g_autoptr(Labelled) test = load_fixture("test.jsonl");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = cd_text_model_to_bytes(model, &error);
  g_autoptr(CdTextModel) loaded = NULL;

  g_assert_no_error(error);
  loaded = cd_text_model_new_from_bytes(blob, &error);
  g_assert_no_error(error);
  g_assert_cmpstrv(cd_text_model_get_labels(loaded), cd_text_model_get_labels(model));
  g_assert_cmpuint(cd_text_model_get_n_trained(loaded), ==, 60);
  for (guint i = 0; i < test->texts->len; i++) {
    g_autoptr(GPtrArray) a = cd_text_model_predict(model, g_ptr_array_index(test->texts, i));
    g_autoptr(GPtrArray) b = cd_text_model_predict(loaded, g_ptr_array_index(test->texts, i));
    g_assert_cmpuint(a->len, ==, b->len);
    g_assert_cmpstr(((CdLabelScore *) g_ptr_array_index(a, 0))->label, ==,
                    ((CdLabelScore *) g_ptr_array_index(b, 0))->label);
    g_assert_cmpfloat_with_epsilon(((CdLabelScore *) g_ptr_array_index(a, 0))->score,
                                   ((CdLabelScore *) g_ptr_array_index(b, 0))->score, 1e-3);
  }
}

static gdouble
score_of(CdTextModel *model, const gchar *text, const gchar *label)
{
  g_autoptr(GPtrArray) scores = cd_text_model_predict(model, text);
  for (guint i = 0; i < scores->len; i++) {
    CdLabelScore *s = g_ptr_array_index(scores, i);
    if (g_strcmp0(s->label, label) == 0)
      return s->score;
  }
  g_assert_not_reached();
}

static gint64
params_format(CdTextModel *model)
{
  g_autoptr(JsonNode) params = cd_text_model_get_params(model);
  return json_object_get_int_member(json_node_get_object(params), "format");
}

static CdTextModel *
train_fixture_with(const gchar *first_property, ...)
{
  g_autoptr(Labelled) train = load_fixture("train.jsonl");
  g_autoptr(CdTextModel) model = NULL;
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start(args, first_property);
  model = CD_TEXT_MODEL(g_object_new_valist(CD_TYPE_TEXT_MODEL, first_property, args));
  va_end(args);
  g_assert_true(cd_text_model_train(model, train->texts, train->labels, NULL, &error));
  g_assert_no_error(error);
  return g_steal_pointer(&model);
}

/* With headings, capitals ending at a colon are features of their own: the
 * same words in lower case score differently, where a model without
 * headings or lead words (case-blind) scores them alike. A model with
 * headings alone is saved in format 2 and keeps its feature set when
 * loaded; one with neither stays format 1; the default (headings and lead
 * words) is format 3. */
static void
test_model_headings(void)
{
  g_autoptr(Labelled) test = load_fixture("test.jsonl");
  g_autoptr(CdTextModel) plain = train_fixture_with("headings", FALSE, "lead", 0, NULL);
  g_autoptr(CdTextModel) model = train_fixture_with("headings", TRUE, "lead", 0, NULL);
  g_autoptr(CdTextModel) defaults = train_fixture();
  g_autoptr(CdTextModel) loaded = NULL;
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(GError) error = NULL;
  const gchar *upper = "PREOPERATIVE DIAGNOSIS: cholelithiasis. PROCEDURE: laparoscopic cholecystectomy.";
  const gchar *lower = "preoperative diagnosis: cholelithiasis. procedure: laparoscopic cholecystectomy.";
  gboolean headings = FALSE;
  guint lead = 99;
  guint correct;

  correct = count_correct(model, test);
  g_test_message("with headings: %u of %u held-out reports typed right", correct, test->texts->len);
  g_assert_cmpuint(correct * 100, >=, test->texts->len * 70);
  g_assert_cmpfloat(ABS(score_of(plain, upper, "operative-report") - score_of(plain, lower, "operative-report")), <,
                    1e-9);
  g_assert_cmpfloat(ABS(score_of(model, upper, "operative-report") - score_of(model, lower, "operative-report")), >,
                    1e-4);
  g_assert_cmpint(params_format(plain), ==, 1);
  g_assert_cmpint(params_format(model), ==, 2);
  g_assert_cmpint(params_format(defaults), ==, 3);
  g_object_get(defaults, "headings", &headings, "lead", &lead, NULL);
  g_assert_true(headings);
  g_assert_cmpuint(lead, ==, 16);

  blob = cd_text_model_to_bytes(model, &error);
  g_assert_no_error(error);
  loaded = cd_text_model_new_from_bytes(blob, &error);
  g_assert_no_error(error);
  g_object_get(loaded, "headings", &headings, "lead", &lead, NULL);
  g_assert_true(headings);
  g_assert_cmpuint(lead, ==, 0);
  g_assert_cmpfloat_with_epsilon(score_of(loaded, upper, "operative-report"),
                                 score_of(model, upper, "operative-report"), 1e-3);
}

/* The document's first words are features of their own: the same words
 * at the start and further down score differently with lead words, alike
 * (to rounding) without. */
static void
test_model_lead(void)
{
  g_autoptr(CdTextModel) lead = train_fixture_with("headings", FALSE, "lead", 16, NULL);
  g_autoptr(CdTextModel) plain = train_fixture_with("headings", FALSE, "lead", 0, NULL);
  const gchar *first = "discharge summary the patient was admitted and treated and was sent home in good condition "
                       "with follow up in two weeks";
  const gchar *later = "the patient was admitted and treated and was sent home in good condition with follow up in "
                       "two weeks discharge summary";
  g_autoptr(Labelled) test = load_fixture("test.jsonl");
  guint correct = count_correct(lead, test);

  g_test_message("with lead words: %u of %u held-out reports typed right", correct, test->texts->len);
  g_assert_cmpuint(correct * 100, >=, test->texts->len * 70);
  g_assert_cmpfloat(ABS(score_of(lead, first, "discharge-summary") - score_of(lead, later, "discharge-summary")), >,
                    1e-4);
  /* without lead words only the two word pairs at the seam differ */
  g_assert_cmpfloat(ABS(score_of(plain, first, "discharge-summary") - score_of(plain, later, "discharge-summary")), <,
                    ABS(score_of(lead, first, "discharge-summary") - score_of(lead, later, "discharge-summary")));
}

/* Format 3 with every optional part (tf-idf, lead words, naive Bayes,
 * calibration) survives the round trip: same types, same scores to the
 * precision of 16-bit storage, same parameters; its parameters are
 * reported; and its corrupt forms are refused. */
static void
test_model_format_3(void)
{
  g_autoptr(CdTextModel) model = train_fixture_with("tfidf", TRUE, "lead", 8, "nb-alpha", 0.01, "calibrate", 3, NULL);
  g_autoptr(Labelled) test = load_fixture("test.jsonl");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = cd_text_model_to_bytes(model, &error);
  g_autoptr(CdTextModel) loaded = NULL;
  g_autoptr(JsonNode) params = NULL;
  JsonObject *p;
  gboolean tfidf = FALSE;
  gdouble alpha = 0;
  guint calibrate = 0, lead = 0;
  guint correct = count_correct(model, test);

  g_test_message("tf-idf, lead, naive Bayes, calibrated: %u of %u held-out reports typed right", correct,
                 test->texts->len);
  g_assert_cmpuint(correct * 100, >=, test->texts->len * 60);
  g_assert_no_error(error);
  loaded = cd_text_model_new_from_bytes(blob, &error);
  g_assert_no_error(error);
  g_object_get(loaded, "tfidf", &tfidf, "nb-alpha", &alpha, "calibrate", &calibrate, "lead", &lead, NULL);
  g_assert_true(tfidf);
  g_assert_cmpfloat(alpha, ==, 0.01);
  g_assert_cmpuint(calibrate, ==, 3);
  g_assert_cmpuint(lead, ==, 8);
  for (guint i = 0; i < test->texts->len; i++) {
    g_autoptr(GPtrArray) a = cd_text_model_predict(model, g_ptr_array_index(test->texts, i));
    g_autoptr(GPtrArray) b = cd_text_model_predict(loaded, g_ptr_array_index(test->texts, i));
    gdouble sum = 0;
    g_assert_cmpuint(a->len, ==, b->len);
    for (guint k = 0; k < b->len; k++)
      sum += ((CdLabelScore *) g_ptr_array_index(b, k))->score;
    g_assert_cmpfloat_with_epsilon(sum, 1.0, 1e-6);
    g_assert_cmpstr(((CdLabelScore *) g_ptr_array_index(a, 0))->label, ==,
                    ((CdLabelScore *) g_ptr_array_index(b, 0))->label);
    g_assert_cmpfloat_with_epsilon(((CdLabelScore *) g_ptr_array_index(a, 0))->score,
                                   ((CdLabelScore *) g_ptr_array_index(b, 0))->score, 2e-3);
  }
  params = cd_text_model_get_params(loaded);
  p = json_node_get_object(params);
  g_assert_cmpint(json_object_get_int_member(p, "format"), ==, 3);
  g_assert_cmpstr(json_object_get_string_member(p, "algorithm"), ==, "logistic-regression + complement-naive-bayes");
  g_assert_true(json_object_has_member(p, "offsets"));
  g_assert_cmpint(json_object_get_int_member(p, "lead"), ==, 8);
}

/* Models saved by Chartdesk before format 3 (commit 1ff1067: format 1,
 * and format 2 with headings; 2^12 buckets, trained on train.jsonl) load
 * and predict what they predicted then: the type and its score, recorded
 * in old-models.txt when they were made. */
static void
test_model_older_formats(void)
{
  g_autoptr(Labelled) test = load_fixture("test.jsonl");
  g_autofree gchar *expected_path = g_build_filename(g_getenv("CD_TRAINED_FIXTURES"), "old-models.txt", NULL);
  g_autofree gchar *expected = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  guint checked = 0;

  g_file_get_contents(expected_path, &expected, NULL, &error);
  g_assert_no_error(error);
  lines = g_strsplit(expected, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_auto(GStrv) fields = g_strsplit(lines[i], "\t", -1);
    g_autofree gchar *blob_path = NULL;
    g_autofree gchar *data = NULL;
    g_autoptr(GBytes) blob = NULL;
    g_autoptr(CdTextModel) model = NULL;
    g_autoptr(GPtrArray) scores = NULL;
    gsize len = 0;
    guint doc;
    gboolean headings;
    guint lead = 99;

    /* file, format, document number, type, score */
    if (lines[i][0] == '\0' || lines[i][0] == '#')
      continue;
    g_assert_cmpuint(g_strv_length(fields), ==, 5);
    blob_path = g_build_filename(g_getenv("CD_TRAINED_FIXTURES"), fields[0], NULL);
    g_file_get_contents(blob_path, &data, &len, &error);
    g_assert_no_error(error);
    blob = g_bytes_new_take(g_steal_pointer(&data), len);
    model = cd_text_model_new_from_bytes(blob, &error);
    g_assert_no_error(error);
    g_assert_cmpint(params_format(model), ==, atoi(fields[1]));
    g_object_get(model, "headings", &headings, "lead", &lead, NULL);
    g_assert_cmpint(headings, ==, atoi(fields[1]) >= 2);
    g_assert_cmpuint(lead, ==, 0);
    doc = (guint) atoi(fields[2]);
    g_assert_cmpuint(doc, <, test->texts->len);
    scores = cd_text_model_predict(model, g_ptr_array_index(test->texts, doc));
    g_assert_cmpuint(scores->len, >, 0);
    g_assert_cmpstr(((CdLabelScore *) g_ptr_array_index(scores, 0))->label, ==, fields[3]);
    g_assert_cmpfloat_with_epsilon(((CdLabelScore *) g_ptr_array_index(scores, 0))->score,
                                   g_ascii_strtod(fields[4], NULL), 2e-3);
    checked++;
  }
  g_assert_cmpuint(checked, >=, 2 * test->texts->len);
}

/* A blob that is empty, truncated, bit-flipped or not a model is refused
 * with INVALID_DATA, never trusted. */
static void
check_corrupt_refused(CdTextModel *model)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = cd_text_model_to_bytes(model, &error);
  gsize len;
  const guint8 *data = g_bytes_get_data(blob, &len);
  g_autofree guint8 *flipped = g_memdup2(data, len);
  struct {
    const gchar *what;
    GBytes *bytes;
  } cases[] = {
    { "empty", g_bytes_new_static("", 0) },
    { "truncated", g_bytes_new(data, len / 2) },
    { "flipped", NULL },
    { "text", g_bytes_new_static("not a model at all", 18) },
  };

  g_assert_no_error(error);
  for (gsize i = len / 3; i < len / 3 + 64; i++)
    flipped[i] ^= 0x5a;
  cases[2].bytes = g_bytes_new(flipped, len);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(CdTextModel) loaded = cd_text_model_new_from_bytes(cases[i].bytes, &error);
    g_test_message("%s: %s", cases[i].what, error != NULL ? error->message : "(loaded)");
    g_assert_null(loaded);
    g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
    g_clear_error(&error);
    g_bytes_unref(cases[i].bytes);
  }
}

/* A blob that is empty, truncated, bit-flipped or not a model is refused,
 * in every format (1, 2, and 3 with and without its optional parts); the
 * model with headings too (its flipped bytes, once, inflated to more
 * weights than it declared: refused, where GIO was asked to write into no
 * room). */
static void
test_model_corrupt(void)
{
  g_autoptr(CdTextModel) model = train_fixture();
  g_autoptr(CdTextModel) plain = train_fixture_with("headings", FALSE, "lead", 0, NULL);
  g_autoptr(CdTextModel) headings = train_fixture_with("headings", TRUE, "lead", 0, NULL);
  g_autoptr(CdTextModel) full = train_fixture_with("tfidf", TRUE, "nb-alpha", 0.01, "calibrate", 2, NULL);

  check_corrupt_refused(model);
  check_corrupt_refused(plain);
  check_corrupt_refused(headings);
  check_corrupt_refused(full);
}

/* Training refuses data it cannot learn from, with the reason. */
static void
test_model_bad_input(void)
{
  g_autoptr(CdTextModel) model = cd_text_model_new();
  g_autoptr(GPtrArray) texts = g_ptr_array_new();
  g_autoptr(GPtrArray) labels = g_ptr_array_new();
  g_autoptr(GError) error = NULL;

  g_ptr_array_add(texts, "discharge summary text");
  g_ptr_array_add(labels, "discharge-summary");
  g_assert_false(cd_text_model_train(model, texts, labels, NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);

  g_ptr_array_add(texts, "1234 5678");
  g_ptr_array_add(labels, "laboratory-report");
  g_ptr_array_index(texts, 0) = "...";
  g_assert_false(cd_text_model_train(model, texts, labels, NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_assert_false(cd_text_model_is_trained(model));
}

/* ------------------------------------------------------------ archive */

typedef struct {
  gchar *dir;
  gchar *path;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp("cd-trained-XXXXXX", &error);
  g_assert_no_error(error);
  f->path = g_build_filename(f->dir, "test.archive", NULL);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
  const gchar *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree gchar *p = g_build_filename(f->dir, name, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_DIR)) {
      g_autofree gchar *cmd = g_strdup_printf("rm -rf '%s'", p);
      g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
    } else {
      g_unlink(p);
    }
  }
  g_rmdir(f->dir);
  g_free(f->dir);
  g_free(f->path);
}

static CdClassifier *
make_classifier(CdArchive *archive)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "trained", &error);
  CdClassifier *stage;

  g_assert_no_error(error);
  stage = g_object_new(type, NULL);
  cd_stage_set_archive(CD_STAGE(stage), archive);
  return stage;
}

static CdDocument *
document_of(const gchar *text)
{
  CdDocument *doc = cd_document_new();
  gsize len = strlen(text);
  /* two pages, as a scanned report would be */
  for (guint i = 0; i < 2; i++) {
    g_autoptr(CdPage) page = cd_page_new("scan.tif", (gint) i, NULL);
    g_autofree gchar *half = i == 0 ? g_strndup(text, len / 2) : g_strdup(text + len / 2);
    cd_page_set_text(page, half);
    cd_document_add_page(doc, page);
  }
  return doc;
}

/* Train, save twice (versions 1 and 2), close the archive file, reopen
 * it: the stage loads the latest version, or the one pinned, and types a
 * held-out report given as a two-page document. */
static void
test_stage_archive_round_trip(Fixture *f, gconstpointer data)
{
  g_autoptr(CdTextModel) model = train_fixture();
  g_autoptr(Labelled) test = load_fixture("test.jsonl");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = cd_text_model_to_bytes(model, &error);
  g_autoptr(JsonNode) params = cd_text_model_get_params(model);
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(CdClassifier) stage = NULL;
  g_autoptr(GPtrArray) models = NULL;
  guint correct = 0;
  gint version = 0;

  g_assert_no_error(error);
  archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  g_assert_cmpint(cd_archive_get_schema_version(archive), ==, CD_ARCHIVE_SCHEMA_VERSION);
  /* version 1 knows two types, version 2 all six */
  {
    g_autoptr(Labelled) train = load_fixture("train.jsonl");
    g_autoptr(GPtrArray) texts = g_ptr_array_new();
    g_autoptr(GPtrArray) labels = g_ptr_array_new();
    g_autoptr(CdTextModel) small = cd_text_model_new();
    g_autoptr(GBytes) small_blob = NULL;
    for (guint i = 0; i < train->texts->len; i++) {
      const gchar *label = g_ptr_array_index(train->labels, i);
      if (g_strcmp0(label, "operative-report") == 0 || g_strcmp0(label, "radiology-report") == 0) {
        g_ptr_array_add(texts, g_ptr_array_index(train->texts, i));
        g_ptr_array_add(labels, (gpointer) label);
      }
    }
    g_assert_true(cd_text_model_train(small, texts, labels, NULL, &error));
    small_blob = cd_text_model_to_bytes(small, &error);
    g_assert_no_error(error);
    g_assert_true(cd_archive_save_model(archive, "trained", small_blob, NULL, NULL, &version, &error));
  }
  g_assert_no_error(error);
  g_assert_cmpint(version, ==, 1);
  g_assert_true(cd_archive_save_model(archive, "trained", blob, params, NULL, &version, &error));
  g_assert_cmpint(version, ==, 2);
  g_clear_object(&archive);

  archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  models = cd_archive_list_models(archive, "trained", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(models->len, ==, 2);
  g_assert_cmpint(((CdModelInfo *) g_ptr_array_index(models, 1))->version, ==, 2);
  g_assert_cmpuint(((CdModelInfo *) g_ptr_array_index(models, 1))->size, ==, g_bytes_get_size(blob));
  g_assert_nonnull(strstr(((CdModelInfo *) g_ptr_array_index(models, 1))->params, "logistic-regression"));

  stage = make_classifier(archive);
  /* the report is cut in two pages here: read both (the default reads the
   * first page only, test_stage_first_pages) */
  g_object_set(stage, "pages", 0, NULL);
  g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_no_error(error);
  for (guint i = 0; i < test->texts->len; i++) {
    g_autoptr(CdDocument) doc = document_of(g_ptr_array_index(test->texts, i));
    g_autoptr(GPtrArray) scores = cd_classifier_classify(stage, doc, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(scores->len, ==, 6);
    if (g_strcmp0(((CdLabelScore *) g_ptr_array_index(scores, 0))->label, g_ptr_array_index(test->labels, i)) == 0)
      correct++;
  }
  g_assert_cmpuint(correct * 100, >=, test->texts->len * 70);
  cd_stage_stop(CD_STAGE(stage));
  g_clear_object(&stage);

  stage = make_classifier(archive);
  g_object_set(stage, "model-version", 1, NULL);
  g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_no_error(error);
  {
    g_autoptr(CdDocument) doc = document_of(g_ptr_array_index(test->texts, 0));
    g_autoptr(GPtrArray) scores = cd_classifier_classify(stage, doc, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(scores->len, ==, 2); /* the pinned version 1 */
  }
  cd_stage_stop(CD_STAGE(stage));
  g_object_set(stage, "model-version", 0, "max-labels", 2, NULL);
  g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_no_error(error);
  {
    g_autoptr(CdDocument) doc = document_of(g_ptr_array_index(test->texts, 0));
    g_autoptr(CdDocument) blank = document_of("   --  12/03 ");
    g_autoptr(GPtrArray) scores = cd_classifier_classify(stage, doc, NULL, &error);
    g_autoptr(GPtrArray) none = cd_classifier_classify(stage, blank, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(scores->len, ==, 2);
    g_assert_cmpuint(none->len, ==, 0);
  }
  cd_stage_stop(CD_STAGE(stage));
}

/* A document of pages of the given texts. */
static CdDocument *
document_of_pages(const gchar *const *texts)
{
  CdDocument *doc = cd_document_new();
  for (guint i = 0; texts[i] != NULL; i++) {
    g_autoptr(CdPage) page = cd_page_new("scan.tif", (gint) i, NULL);
    cd_page_set_text(page, texts[i]);
    cd_document_add_page(doc, page);
  }
  return doc;
}

/* The top label and its score for @doc. */
static gdouble
top_score(CdClassifier *stage, CdDocument *doc, gchar **label)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) scores = cd_classifier_classify(stage, doc, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(scores->len, >, 0);
  g_free(*label);
  *label = g_strdup(((CdLabelScore *) g_ptr_array_index(scores, 0))->label);
  return ((CdLabelScore *) g_ptr_array_index(scores, 0))->score;
}

/* `pages=N` reads only the first N pages: a three-page document then
 * scores exactly as the document of its first N pages, and not as the
 * whole; 0 reads every page. The default is 1, the page with the title
 * (chosen on the tuning charts, docs/decisions.md 2026-12-03). */
static void
test_stage_first_pages(Fixture *f, gconstpointer data)
{
  g_autoptr(CdTextModel) model = train_fixture();
  g_autoptr(Labelled) test = load_fixture("test.jsonl");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = cd_text_model_to_bytes(model, &error);
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(CdClassifier) stage = NULL;
  const gchar *first = NULL, *other = NULL;
  g_autofree gchar *label = NULL;
  g_autofree gchar *label_whole = NULL;
  guint pages = 7;
  gint version = 0;

  g_assert_no_error(error);
  archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_archive_save_model(archive, "trained", blob, NULL, NULL, &version, &error));
  g_assert_no_error(error);
  /* two held-out reports of different types */
  for (guint i = 0; i < test->texts->len && other == NULL; i++) {
    if (first == NULL)
      first = g_ptr_array_index(test->texts, i);
    else if (g_strcmp0(g_ptr_array_index(test->labels, i), g_ptr_array_index(test->labels, 0)) != 0)
      other = g_ptr_array_index(test->texts, i);
  }
  g_assert_nonnull(other);
  {
    const gchar *whole[] = { first, other, other, NULL };
    const gchar *one[] = { first, NULL };
    const gchar *two[] = { first, other, NULL };
    g_autoptr(CdDocument) doc = document_of_pages(whole);
    g_autoptr(CdDocument) doc_one = document_of_pages(one);
    g_autoptr(CdDocument) doc_two = document_of_pages(two);
    gdouble s_whole, s_one, s_two;

    stage = make_classifier(archive);
    g_object_get(stage, "pages", &pages, NULL);
    g_assert_cmpuint(pages, ==, 1);
    /* the default reads the first page only */
    g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
    g_assert_no_error(error);
    s_one = top_score(stage, doc_one, &label);
    {
      g_autofree gchar *l0 = NULL;
      g_assert_cmpfloat(top_score(stage, doc, &l0), ==, s_one);
      g_assert_cmpstr(l0, ==, label);
    }
    g_clear_pointer(&label, g_free);
    cd_stage_stop(CD_STAGE(stage));

    g_object_set(stage, "pages", 0, NULL);
    g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
    g_assert_no_error(error);
    s_whole = top_score(stage, doc, &label_whole);
    s_one = top_score(stage, doc_one, &label);
    g_assert_true(s_whole != s_one || g_strcmp0(label, label_whole) != 0);
    s_two = top_score(stage, doc_two, &label);
    cd_stage_stop(CD_STAGE(stage));

    g_object_set(stage, "pages", 1, NULL);
    g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
    g_assert_no_error(error);
    {
      g_autofree gchar *l1 = NULL;
      g_autofree gchar *l2 = NULL;
      g_assert_cmpfloat(top_score(stage, doc, &l1), ==, s_one);
      g_assert_cmpstr(l1, ==, g_ptr_array_index(test->labels, 0));
      cd_stage_stop(CD_STAGE(stage));
      g_object_set(stage, "pages", 2, NULL);
      g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
      g_assert_cmpfloat(top_score(stage, doc, &l2), ==, s_two);
      g_assert_cmpstr(l2, ==, label);
      cd_stage_stop(CD_STAGE(stage));
      /* more pages than the document has: all of them */
      g_object_set(stage, "pages", 5, NULL);
      g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
      g_assert_cmpfloat(top_score(stage, doc, &l2), ==, s_whole);
      cd_stage_stop(CD_STAGE(stage));
    }
  }
}

/* An archive without the model, a version that does not exist, or a
 * corrupt model blob stops the stage at start with an error that says
 * what is wrong and what to do. */
static void
test_stage_missing_or_corrupt(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_CREATE, &error);
  g_autoptr(CdClassifier) stage = NULL;
  g_autoptr(GBytes) junk = g_bytes_new_static("definitely not a model", 22);

  g_assert_no_error(error);
  stage = make_classifier(archive);
  g_assert_false(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "chartdesk classify train"));
  g_clear_error(&error);

  g_assert_true(cd_archive_save_model(archive, "trained", junk, NULL, NULL, NULL, &error));
  g_assert_no_error(error);
  g_assert_false(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_assert_nonnull(strstr(error->message, "version 1"));
  g_clear_error(&error);

  g_object_set(stage, "model-version", 7, NULL);
  g_assert_false(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_clear_error(&error);

  g_clear_object(&stage);
  stage = make_classifier(NULL);
  g_assert_false(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_FAILED);
}

/* The archive's training data is its filed documents with a type: not
 * those waiting in review, not those without a type; with reviewed_only,
 * only those a person typed in review. The reads are audited. */
static void
test_archive_labelled_documents(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  const gchar *inputs[] = { "test", NULL };
  g_autoptr(GPtrArray) texts = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  gint64 batch;
  gint64 bad = -1;
  struct {
    const gchar *type;
    const gchar *mrn;
    gboolean problem;
    const gchar *text;
  } docs[] = {
    { "discharge-summary", "00000001", FALSE, "Discharge summary of the stay" },
    { "radiology-report", "00000002", TRUE, "Chest radiograph in review" },
    { NULL, "00000003", FALSE, "A letter without a type" },
    { "operative-report", "00000004", FALSE, "Operative report" },
  };

  g_assert_no_error(error);
  batch = cd_archive_begin_batch(archive, "test", inputs, &error);
  g_assert_no_error(error);
  for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
    g_autoptr(CdDocument) doc = document_of(docs[i].text);
    cd_document_set_patient_mrn(doc, docs[i].mrn);
    if (docs[i].type != NULL)
      cd_document_set_doc_type(doc, docs[i].type, 0.9);
    if (docs[i].problem)
      cd_document_add_problem(doc, "unknown MRN");
    g_assert_true(cd_archive_commit_document(archive, batch, doc, &error));
    g_assert_no_error(error);
  }
  g_assert_true(cd_archive_get_labelled_documents(archive, FALSE, &texts, &labels, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(labels->len, ==, 2);
  g_assert_cmpstr(g_ptr_array_index(labels, 0), ==, "discharge-summary");
  g_assert_cmpstr(g_ptr_array_index(labels, 1), ==, "operative-report");
  /* the pages in order, joined */
  g_assert_cmpstr(g_ptr_array_index(texts, 0), ==, "Discharge summ\nary of the stay");
  g_clear_pointer(&texts, g_ptr_array_unref);
  g_clear_pointer(&labels, g_ptr_array_unref);

  /* a person types the letter: with reviewed_only it is the only one */
  g_assert_true(cd_archive_review_set_type(archive, 3, "correspondence", "read it", &error));
  g_assert_no_error(error);
  g_assert_true(cd_archive_get_labelled_documents(archive, TRUE, &texts, &labels, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(labels->len, ==, 1);
  g_assert_cmpstr(g_ptr_array_index(labels, 0), ==, "correspondence");
  g_assert_cmpstr(g_ptr_array_index(texts, 0), ==, "A letter wi\nthout a type");
  g_assert_true(cd_archive_verify_audit(archive, &bad, &error));
  g_assert_no_error(error);
}

/* A batch through the engine: a two-page document whose text is a
 * held-out operative report is filed as `operative-report` by the trained
 * classifier, with the model it loaded from the batch's own archive. */
static void
test_pipeline_types_document(Fixture *f, gconstpointer data)
{
  g_autoptr(CdTextModel) model = train_fixture();
  g_autoptr(Labelled) test = load_fixture("test.jsonl");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = cd_text_model_to_bytes(model, &error);
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(CdWorkflow) wf = NULL;
  g_autoptr(CdPipeline) pipeline = NULL;
  g_autoptr(CdBatch) batch = NULL;
  g_autoptr(JsonNode) doc = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *workflow = NULL;
  const gchar *inputs[] = { "synthetic", NULL };
  GType source = cd_registry_find_stage(registry, "test-source", NULL);

  if (source == G_TYPE_INVALID) {
    g_test_skip("the testing plugin (tests/plugins) is not built");
    return;
  }
  for (guint i = 0; i < test->texts->len && text == NULL; i++) {
    if (g_strcmp0(g_ptr_array_index(test->labels, i), "discharge-summary") == 0)
      text = g_strdup(g_ptr_array_index(test->texts, i));
  }
  g_assert_nonnull(text);
  g_strdelimit(text, "\n\r\\", ' '); /* one workflow line, no escapes */
  archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_archive_save_model(archive, "trained", blob, NULL, NULL, NULL, &error));
  g_assert_no_error(error);

  workflow = g_strdup_printf("[workflow]\nname=test\nsource=test-source\ndocument-stages=test-link\n"
                             "classifiers=trained\ntype-thresholds=default:0.3\n"
                             "[test-source]\npages=2\npages-per-file=2\ntext=%s\n[test-link]\nmrn=00482913\n",
                             text);
  wf = cd_workflow_new_from_data(registry, workflow, "test.workflow", &error);
  g_assert_no_error(error);
  pipeline = cd_pipeline_new(wf, archive);
  batch = cd_pipeline_run(pipeline, inputs, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(batch);
  doc = cd_archive_get_document(archive, 1, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(doc), "type"), ==, "discharge-summary");
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(doc), "status"), ==, "filed");
}

/* ---------------------------------------------------------------- CLI */

static gint
run_cli(gchar **out, const gchar *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_autoptr(GError) error = NULL;
  g_autofree gchar *err = NULL;
  const gchar *arg;
  gint status = -1;
  va_list ap;

  g_ptr_array_add(argv, (gpointer) g_getenv("CD_CHARTDESK"));
  va_start(ap, first);
  for (arg = first; arg != NULL; arg = va_arg(ap, const gchar *))
    g_ptr_array_add(argv, (gpointer) arg);
  va_end(ap);
  g_ptr_array_add(argv, NULL);
  g_spawn_sync(NULL, (gchar **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, &err, &status, &error);
  g_assert_no_error(error);
  if (err != NULL && err[0] != '\0')
    g_test_message("stderr: %s", err);
  if (out != NULL && *out != NULL) {
    /* stderr too, for the checks on error messages */
    gchar *both = g_strconcat(*out, err, NULL);
    g_free(*out);
    *out = both;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Writes a fixture as FOLDER/TYPE/N.txt. */
static void
write_folder(Labelled *l, const gchar *folder)
{
  for (guint i = 0; i < l->texts->len; i++) {
    g_autofree gchar *dir = g_build_filename(folder, g_ptr_array_index(l->labels, i), NULL);
    g_autofree gchar *name = g_strdup_printf("%03u.txt", i);
    g_autofree gchar *file = g_build_filename(dir, name, NULL);
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_file_set_contents(file, g_ptr_array_index(l->texts, i), -1, &error);
    g_assert_no_error(error);
  }
}

/* `classify train` saves version 1 then 2 from a folder; `evaluate` of
 * the saved model on held-out text prints macro-F1 and a confusion matrix;
 * cross-validation and a CSV with quoted, multi-line fields and a type's
 * alias work; a label outside the taxonomy and a broken CSV fail, naming
 * the label or the line. */
static void
test_cli_train_evaluate(Fixture *f, gconstpointer data)
{
  g_autoptr(Labelled) train = load_fixture("train.jsonl");
  g_autoptr(Labelled) test = load_fixture("test.jsonl");
  g_autofree gchar *train_dir = g_build_filename(f->dir, "train", NULL);
  g_autofree gchar *test_dir = g_build_filename(f->dir, "test", NULL);
  g_autofree gchar *csv = g_build_filename(f->dir, "small.csv", NULL);
  g_autofree gchar *bad = g_build_filename(f->dir, "bad.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) report = NULL;
  gchar *out = NULL;

  write_folder(train, train_dir);
  write_folder(test, test_dir);

  g_assert_cmpint(run_cli(&out, "classify", "train", f->path, "--folder", train_dir, NULL), ==, 0);
  g_assert_nonnull(strstr(out, "version 1 on 60 documents of 6 types"));
  g_clear_pointer(&out, g_free);
  g_assert_cmpint(run_cli(&out, "classify", "train", f->path, "--folder", train_dir, NULL), ==, 0);
  g_assert_nonnull(strstr(out, "version 2"));
  g_clear_pointer(&out, g_free);

  g_assert_cmpint(run_cli(&out, "classify", "evaluate", f->path, "--test", test_dir, "--json", NULL), ==, 0);
  report = json_from_string(out, &error);
  g_assert_no_error(error);
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(report), "documents"), ==, 18);
  g_assert_cmpfloat(json_object_get_double_member(json_node_get_object(report), "macro-f1"), >=, 0.7);
  g_assert_nonnull(strstr(json_object_get_string_member(json_node_get_object(report), "method"), "version 2"));
  g_clear_pointer(&out, g_free);

  g_assert_cmpint(run_cli(&out, "classify", "evaluate", "--folder", train_dir, "--folds", "3", NULL), ==, 0);
  g_assert_nonnull(strstr(out, "3-fold cross-validation, 60 documents"));
  g_assert_nonnull(strstr(out, "macro-F1"));
  g_assert_nonnull(strstr(out, "confusion matrix"));
  g_assert_nonnull(strstr(out, "ms per document"));
  g_clear_pointer(&out, g_free);

  g_file_set_contents(csv,
                      "id,label,text\r\n"
                      "1,operative-report,\"PROCEDURE: appendectomy, laparoscopic.\nThe patient was prepped and "
                      "draped, \"\"sterile\"\" fashion.\"\r\n"
                      "2,radiology-report,\"CHEST X-RAY, two views. IMPRESSION: no acute disease.\"\r\n"
                      "3,operative-report,Incision was closed with staples. Estimated blood loss 20 mL.\n"
                      "4,Radiology,CT of the abdomen with contrast: findings unremarkable\n",
                      -1, &error);
  g_assert_no_error(error);
  g_assert_cmpint(run_cli(&out, "classify", "train", f->path, "--csv", csv, "--name", "small", NULL), ==, 0);
  g_assert_nonnull(strstr(out, "model 'small' version 1 on 4 documents of 2 types"));
  g_clear_pointer(&out, g_free);

  g_assert_cmpint(run_cli(&out, "classify", "models", f->path, "--json", NULL), ==, 0);
  g_assert_nonnull(strstr(out, "\"radiology-report\" : 2")); /* the alias was read as its type */
  g_clear_pointer(&out, g_free);

  g_file_set_contents(bad, "label,text\nconsultaton,a typo in the label\nprogress-note,text\n", -1, &error);
  g_assert_no_error(error);
  g_assert_cmpint(run_cli(&out, "classify", "train", f->path, "--csv", bad, NULL), ==, 1);
  g_assert_nonnull(strstr(out, "'consultaton' is not a type of the taxonomy"));
  g_clear_pointer(&out, g_free);

  g_file_set_contents(bad, "label,text\nconsultation,\"never closed\n", -1, &error);
  g_assert_no_error(error);
  g_assert_cmpint(run_cli(&out, "classify", "train", f->path, "--csv", bad, NULL), ==, 1);
  g_assert_nonnull(strstr(out, "line 2: a quoted field is never closed"));
  g_clear_pointer(&out, g_free);

  g_assert_cmpint(run_cli(&out, "classify", "models", f->path, NULL), ==, 0);
  g_assert_nonnull(strstr(out, "small        version 1"));
  g_assert_nonnull(strstr(out, "trained      version 2"));
  g_clear_pointer(&out, g_free);
}

int
main(int argc, char **argv)
{
  gint rc;

  g_test_init(&argc, &argv, NULL);
  registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  {
    /* the testing plugin's synthetic source, for a batch through the engine */
    g_autofree gchar *testing = g_test_build_filename(G_TEST_BUILT, "tests", "plugins", NULL);
    cd_registry_add_search_path(registry, testing);
  }
  cd_registry_scan(registry);

  g_test_add_func("/chartdesk/trained/model/real-text", test_model_real_text);
  g_test_add_func("/chartdesk/trained/model/ocr-noise", test_model_ocr_noise);
  g_test_add_func("/chartdesk/trained/model/round-trip", test_model_round_trip);
  g_test_add_func("/chartdesk/trained/model/headings", test_model_headings);
  g_test_add_func("/chartdesk/trained/model/lead", test_model_lead);
  g_test_add_func("/chartdesk/trained/model/format-3", test_model_format_3);
  g_test_add_func("/chartdesk/trained/model/older-formats", test_model_older_formats);
  g_test_add_func("/chartdesk/trained/model/corrupt", test_model_corrupt);
  g_test_add_func("/chartdesk/trained/model/bad-input", test_model_bad_input);
  g_test_add("/chartdesk/trained/stage/archive-round-trip", Fixture, NULL, fixture_set_up,
             test_stage_archive_round_trip, fixture_tear_down);
  g_test_add("/chartdesk/trained/stage/first-pages", Fixture, NULL, fixture_set_up, test_stage_first_pages,
             fixture_tear_down);
  g_test_add("/chartdesk/trained/stage/missing-or-corrupt", Fixture, NULL, fixture_set_up,
             test_stage_missing_or_corrupt, fixture_tear_down);
  g_test_add("/chartdesk/trained/archive/labelled-documents", Fixture, NULL, fixture_set_up,
             test_archive_labelled_documents, fixture_tear_down);
  g_test_add("/chartdesk/trained/pipeline/types-document", Fixture, NULL, fixture_set_up, test_pipeline_types_document,
             fixture_tear_down);
  g_test_add("/chartdesk/trained/cli/train-evaluate", Fixture, NULL, fixture_set_up, test_cli_train_evaluate,
             fixture_tear_down);
  rc = g_test_run();
  g_object_unref(registry);
  return rc;
}
