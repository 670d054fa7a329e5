/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine's classification step: the testing plugin's classifiers
 * (configured answers, failures, hangs) through the real pipeline and a
 * real archive, with the shipped taxonomy.
 */
#include "cd-engine.h"
#include <glib/gstdio.h>

typedef struct {
  gchar *dir;
  CdRegistry *registry;
  CdArchive *archive;
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
  g_autofree gchar *testing = g_test_build_filename(G_TEST_BUILT, "tests", "plugins", NULL);
  g_autofree gchar *path = NULL;
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp("cd-classify-XXXXXX", NULL);
  path = g_build_filename(fx->dir, "test.archive", NULL);
  fx->registry = cd_registry_new();
  cd_registry_add_search_path(fx->registry, testing);
  cd_registry_add_default_paths(fx->registry);
  cd_registry_scan(fx->registry);
  fx->archive = cd_archive_open(path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
  g_autoptr(GDir) d = NULL;
  const gchar *name;

  g_clear_object(&fx->archive);
  g_clear_object(&fx->registry);
  d = g_dir_open(fx->dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
    g_autofree gchar *path = g_build_filename(fx->dir, name, NULL);
    g_unlink(path);
  }
  g_rmdir(fx->dir);
  g_free(fx->dir);
}

/* Runs a workflow of synthetic pages filed to one patient (so only the
 * type can send a document to review) with the given classifiers. */
static CdBatch *run_with(Fixture *fx, CdTaxonomy *taxonomy, const gchar *extra, GError **error);

static CdBatch *
run(Fixture *fx, const gchar *extra, GError **error)
{
  return run_with(fx, NULL, extra, error);
}

/* The same with a taxonomy of the test's own (NULL: the shipped one). */
static CdBatch *
run_with(Fixture *fx, CdTaxonomy *taxonomy, const gchar *extra, GError **error)
{
  g_autofree gchar *data = g_strdup_printf("[workflow]\nname=test\nsource=test-source\ndocument-stages=test-link\n%s\n"
                                           "[test-link]\nmrn=00482913\n",
                                           extra);
  g_autoptr(CdWorkflow) wf = NULL;
  g_autoptr(CdPipeline) pipeline = NULL;
  const gchar *inputs[] = { "synthetic", NULL };

  wf = cd_workflow_new_from_data(fx->registry, data, "test.workflow", error);
  if (wf == NULL)
    return NULL;
  pipeline = cd_pipeline_new(wf, fx->archive);
  cd_pipeline_set_taxonomy(pipeline, taxonomy);
  return cd_pipeline_run(pipeline, inputs, NULL, error);
}

/* The archive's documents, as exported. */
static GPtrArray *
documents(Fixture *fx)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *docs = g_ptr_array_new_with_free_func((GDestroyNotify) json_node_unref);

  g_assert_true(cd_archive_export_jsonl(fx->archive, out, FALSE, NULL, &error));
  g_output_stream_write_all(out, "", 1, NULL, NULL, NULL);
  g_output_stream_close(out, NULL, NULL);
  lines = g_strsplit(g_memory_output_stream_get_data(G_MEMORY_OUTPUT_STREAM(out)), "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    JsonNode *node;
    if (lines[i][0] == '\0')
      continue;
    node = json_from_string(lines[i], &error);
    g_assert_no_error(error);
    if (json_object_has_member(json_node_get_object(node), "pages"))
      g_ptr_array_add(docs, node);
    else
      json_node_unref(node);
  }
  return docs;
}

static JsonObject *
doc(GPtrArray *docs, guint i)
{
  g_assert_cmpuint(i, <, docs->len);
  return json_node_get_object(g_ptr_array_index(docs, i));
}

/* The review reasons of a document, joined by "; ". */
static gchar *
review_of(JsonObject *obj)
{
  JsonArray *review = json_object_get_array_member(obj, "review");
  g_autoptr(GString) str = g_string_new(NULL);
  for (guint i = 0; i < json_array_get_length(review); i++)
    g_string_append_printf(str, "%s%s", i > 0 ? "; " : "", json_array_get_string_element(review, i));
  return g_strdup(str->str);
}

/* The first page's `classify` fact. */
static JsonObject *
classify_fact(JsonObject *obj)
{
  JsonObject *page = json_array_get_object_element(json_object_get_array_member(obj, "pages"), 0);
  JsonObject *facts = json_object_get_object_member(page, "facts");
  g_assert_true(json_object_has_member(facts, "classify"));
  return json_object_get_object_member(facts, "classify");
}

/* Two classifiers combine by the documented rule: each one's scores are
 * divided by their sum when it exceeds 1, then averaged with the weights;
 * the winner's combined score is the confidence, and the scores of each
 * classifier are kept in the first page's facts. */
static void
test_classify_combine(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = run(fx,
                                 "classifiers=test-classifier;test-classifier-b\n"
                                 "[test-source]\npages=2\npages-per-file=1\n"
                                 "[test-classifier]\nscores=discharge-summary:0.9;progress-note:0.3\n"
                                 "[test-classifier-b]\nscores=progress-note:0.8\n",
                                 &error);
  g_autoptr(GPtrArray) docs = NULL;
  JsonObject *fact;

  g_assert_no_error(error);
  g_assert_cmpuint(cd_batch_get_count(batch, CD_BATCH_OUTCOME_FILED), ==, 2);
  docs = documents(fx);
  g_assert_cmpuint(docs->len, ==, 2);
  /* a: 0.75 / 0.25 (sum 1.2), b: 0.8; progress-note (0.25 + 0.8) / 2 */
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "type"), ==, "progress-note");
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(doc(docs, 0), "type_confidence"), 0.525, 1e-9);
  fact = classify_fact(doc(docs, 0));
  g_assert_cmpstr(json_object_get_string_member(fact, "type"), ==, "progress-note");
  g_assert_cmpfloat_with_epsilon(
      json_object_get_double_member(json_object_get_object_member(fact, "scores"), "discharge-summary"), 0.375, 1e-9);
  g_assert_cmpfloat_with_epsilon(
      json_object_get_double_member(
          json_object_get_object_member(json_object_get_object_member(fact, "classifiers"), "test-classifier"),
          "discharge-summary"),
      0.75, 1e-9);
}

/* Weights count: the same answers with the first classifier weighted 3
 * turn the verdict to its type. */
static void
test_classify_weights(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = run(fx,
                                 "classifiers=test-classifier;test-classifier-b\n"
                                 "[test-source]\npages=1\npages-per-file=1\n"
                                 "[test-classifier]\nweight=3\nscores=discharge-summary:0.9;progress-note:0.3\n"
                                 "[test-classifier-b]\nscores=progress-note:0.8\n",
                                 &error);
  g_autoptr(GPtrArray) docs = NULL;

  g_assert_no_error(error);
  docs = documents(fx);
  /* discharge 3 × 0.75 / 4, progress (3 × 0.25 + 0.8) / 4 */
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "type"), ==, "discharge-summary");
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(doc(docs, 0), "type_confidence"), 0.5625, 1e-9);
}

/* A confidence below the type's threshold sends the document to review
 * with the type, its confidence and the threshold in the reason; the
 * workflow's type-thresholds override the taxonomy's. */
static void
test_classify_threshold(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) low = NULL;
  g_autoptr(GPtrArray) docs = NULL;
  g_autofree gchar *reason = NULL;

  /* the shipped taxonomy holds consent forms to 0.70 */
  low = run(fx,
            "classifiers=test-classifier\n[test-source]\npages=1\npages-per-file=1\n"
            "[test-classifier]\nscores=consent-form:0.65\n",
            &error);
  g_assert_no_error(error);
  g_assert_cmpuint(cd_batch_get_count(low, CD_BATCH_OUTCOME_REVIEW), ==, 1);
  docs = documents(fx);
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "status"), ==, "review");
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "type"), ==, "consent-form");
  reason = review_of(doc(docs, 0));
  g_assert_cmpstr(reason, ==, "low-confidence type (consent-form 0.65 < 0.70)");
}

/* The workflow's default threshold applies to every type it does not
 * name, over the taxonomy's. */
static void
test_classify_threshold_default(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = run(fx,
                                 "classifiers=test-classifier\ntype-thresholds=default:0.9;consent:0.6\n"
                                 "[test-source]\npages=1\npages-per-file=1\n"
                                 "[test-classifier]\nscores=progress-note:0.8\n",
                                 &error);
  g_autoptr(GPtrArray) docs = NULL;
  g_autofree gchar *reason = NULL;

  g_assert_no_error(error);
  docs = documents(fx);
  reason = review_of(doc(docs, 0));
  g_assert_cmpstr(reason, ==, "low-confidence type (progress-note 0.80 < 0.90)");
}

/* The workflow's own threshold for a type files a document that the
 * taxonomy's threshold would send to review. */
static void
test_classify_threshold_override(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = run(fx,
                                 "classifiers=test-classifier\ntype-thresholds=consent:0.6\n"
                                 "[test-source]\npages=1\npages-per-file=1\n"
                                 "[test-classifier]\nscores=consent-form:0.65\n",
                                 &error);
  g_autoptr(GPtrArray) docs = NULL;

  g_assert_no_error(error);
  g_assert_cmpuint(cd_batch_get_count(batch, CD_BATCH_OUTCOME_FILED), ==, 1);
  docs = documents(fx);
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "status"), ==, "filed");
}

/* With no opinion from any classifier (an empty answer, or only labels
 * the taxonomy does not know) the document is `other` at 0 and waits for
 * review. */
static void
test_classify_no_opinion(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = run(fx,
                                 "classifiers=test-classifier;test-classifier-b\n"
                                 "[test-source]\npages=1\npages-per-file=1\n"
                                 "[test-classifier]\nscores=invoice:0.9\n[test-classifier-b]\nscores=\n",
                                 &error);
  g_autoptr(GPtrArray) docs = NULL;
  g_autofree gchar *reason = NULL;

  g_assert_no_error(error);
  docs = documents(fx);
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "type"), ==, "other");
  g_assert_cmpfloat(json_object_get_double_member(doc(docs, 0), "type_confidence"), ==, 0.0);
  reason = review_of(doc(docs, 0));
  g_assert_cmpstr(reason, ==, "document type not recognised (other 0.00 < 0.50)");
}

/* Labels are read through the taxonomy: an alias or a spaced, capitalised
 * name counts for its type (the best score of a type counts once), and an
 * unknown label is dropped. */
static void
test_classify_aliases(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = run(fx,
                                 "classifiers=test-classifier\n[test-source]\npages=1\npages-per-file=1\n"
                                 "[test-classifier]\nscores=invoice:0.9;Discharge Summary:0.4;discharge-note:0.7\n",
                                 &error);
  g_autoptr(GPtrArray) docs = NULL;

  g_assert_no_error(error);
  docs = documents(fx);
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "type"), ==, "discharge-summary");
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(doc(docs, 0), "type_confidence"), 0.7, 1e-9);
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "status"), ==, "filed");
}

/* A classifier that fails is a problem of the document, which goes to
 * review naming it; the other classifier still decides the type and the
 * batch goes on through every document. */
static void
test_classify_failure(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = run(fx,
                                 "classifiers=test-classifier;test-classifier-b\n"
                                 "[test-source]\npages=3\npages-per-file=1\n"
                                 "[test-classifier]\nfail=true\n[test-classifier-b]\nscores=radiology-report:0.9\n",
                                 &error);
  g_autoptr(GPtrArray) docs = NULL;

  g_assert_no_error(error);
  g_assert_cmpstr(cd_batch_get_status(batch), ==, "finished");
  g_assert_cmpuint(cd_batch_get_count(batch, CD_BATCH_OUTCOME_REVIEW), ==, 3);
  docs = documents(fx);
  g_assert_cmpuint(docs->len, ==, 3);
  for (guint i = 0; i < docs->len; i++) {
    g_autofree gchar *reason = review_of(doc(docs, i));
    g_assert_cmpstr(json_object_get_string_member(doc(docs, i), "type"), ==, "radiology-report");
    g_assert_cmpstr(reason, ==, "classifier test-classifier: deliberate failure");
  }
}

/* A classifier over its time limit is cancelled, and the document goes to
 * review saying so. */
static void
test_classify_timeout(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) polite = NULL;
  g_autoptr(GPtrArray) docs = NULL;
  g_autofree gchar *first = NULL;

  polite = run(fx,
               "classifiers=test-classifier\n[test-source]\npages=1\npages-per-file=1\n"
               "[test-classifier]\ntimeout=0.2\ndelay=30\nscores=other:1\n",
               &error);
  g_assert_no_error(error);
  docs = documents(fx);
  first = review_of(doc(docs, 0));
  g_assert_true(g_str_has_prefix(first, "classifier test-classifier: timed out after 0.2 s"));
}

/* A classifier that ignores the cancellation is abandoned after a grace
 * second and not called again, so a hung plugin costs the batch a second
 * or so, not forever; the other classifier still types the documents. */
static void
test_classify_hung(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) hung = NULL;
  g_autoptr(GPtrArray) docs = NULL;
  gint64 started = g_get_monotonic_time();
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;

  hung = run(fx,
             "classifiers=test-classifier;test-classifier-b\n[test-source]\npages=4\npages-per-file=2\n"
             "[test-classifier]\ntimeout=0.2\ndelay=4\nignore-cancel=true\n"
             "[test-classifier-b]\nscores=nursing-note:0.9\n",
             &error);
  g_assert_no_error(error);
  /* 0.2 s + the grace second once, then no more waiting (4 s would be a hang) */
  g_assert_cmpint(g_get_monotonic_time() - started, <, 3 * G_USEC_PER_SEC);
  g_assert_cmpuint(cd_batch_get_documents(hung), ==, 2);
  docs = documents(fx);
  g_assert_cmpuint(docs->len, ==, 2);
  first = review_of(doc(docs, 0));
  second = review_of(doc(docs, 1));
  g_assert_cmpstr(
      first, ==,
      "classifier test-classifier: timed out after 0.2 s and did not stop when cancelled (not called again)");
  g_assert_cmpstr(second, ==, "classifier test-classifier: not run: an earlier document ran over its time limit");
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 1), "type"), ==, "nursing-note");
}

/* A type-thresholds entry naming no type of the taxonomy stops the batch
 * before any page is read, naming the type and the taxonomy. */
static void
test_classify_bad_threshold(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = run(fx,
                                 "classifiers=test-classifier\ntype-thresholds=invoice:0.5\n"
                                 "[test-source]\npages=1\n",
                                 &error);
  g_autoptr(GPtrArray) docs = NULL;

  g_assert_null(batch);
  g_assert_error(error, CD_ERROR, CD_ERROR_WORKFLOW);
  g_assert_nonnull(strstr(error->message, "type-thresholds: 'invoice' is not a document type of"));
  docs = documents(fx);
  g_assert_cmpuint(docs->len, ==, 0);
}

/* Malformed type-thresholds are refused when the workflow is read. */
static void
test_classify_threshold_syntax(Fixture *fx, gconstpointer data)
{
  const gchar *bad[] = { "consent-form", "consent-form:1.5", "consent-form:x", ":0.5", "a:0.1;a:0.2" };

  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree gchar *text = g_strdup_printf(
        "[workflow]\nname=t\nsource=test-source\nclassifiers=test-classifier\ntype-thresholds=%s\n", bad[i]);
    g_autoptr(GError) error = NULL;
    g_autoptr(CdWorkflow) wf = cd_workflow_new_from_data(fx->registry, text, "t.workflow", &error);
    g_assert_null(wf);
    g_assert_error(error, CD_ERROR, CD_ERROR_WORKFLOW);
    g_assert_nonnull(strstr(error->message, "t.workflow: [workflow] type-thresholds: "));
  }
}

/* The shipped rules classifier through the pipeline on real text: a clear
 * discharge summary is filed with its type; a note with barely any
 * evidence gets a type with low confidence and goes to review. */
static void
test_classify_rules_review(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) clear = run(fx,
                                 "classifiers=rules\n[test-source]\npages=1\npages-per-file=1\n"
                                 "text=VALLEY REGIONAL MEDICAL CENTER\\nDISCHARGE SUMMARY\\nMRN: 08570054\\n"
                                 "ADMISSION DIAGNOSIS\\nThe patient was admitted with chronic obstructive pulmonary "
                                 "disease.\\nHOSPITAL COURSE\\nThe patient remained afebrile.\\nDISCHARGE "
                                 "MEDICATIONS\\nMetoprolol 25 mg twice daily.\\n",
                                 &error);
  g_autoptr(GPtrArray) docs = NULL;

  g_assert_no_error(error);
  g_assert_cmpuint(cd_batch_get_count(clear, CD_BATCH_OUTCOME_FILED), ==, 1);
  docs = documents(fx);
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "type"), ==, "discharge-summary");
  g_assert_cmpfloat(json_object_get_double_member(doc(docs, 0), "type_confidence"), >=, 0.9);
}

/* A note with barely any evidence gets its likeliest type with low
 * confidence, and waits for review saying so. */
static void
test_classify_rules_low(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) weak = run(fx,
                                "classifiers=rules\n[test-source]\npages=1\npages-per-file=1\n"
                                "text=Patient doing well.\\nWill see again in two weeks.\\n",
                                &error);
  g_autoptr(GPtrArray) docs = NULL;
  g_autofree gchar *reason = NULL;

  g_assert_no_error(error);
  g_assert_cmpuint(cd_batch_get_count(weak, CD_BATCH_OUTCOME_REVIEW), ==, 1);
  docs = documents(fx);
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "type"), ==, "progress-note");
  reason = review_of(doc(docs, 0));
  g_assert_cmpstr(reason, ==, "low-confidence type (progress-note 0.25 < 0.50)");
}

/* A failing external program beside the rules classifier: the rules still
 * type the document, the document goes to review naming the program and
 * its exit status, and the batch finishes every document. */
static void
test_classify_external_failing(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = run(fx,
                                 "classifiers=rules;external\n[test-source]\npages=2\npages-per-file=1\n"
                                 "text=RADIOLOGY REPORT\\nEXAM: CT abdomen with contrast\\nFINDINGS: normal\\n"
                                 "IMPRESSION: no acute disease\\n\n"
                                 "[external]\ncommand=sh -c 'cat >/dev/null; echo model missing >&2; exit 3'\n",
                                 &error);
  g_autoptr(GPtrArray) docs = NULL;

  g_assert_no_error(error);
  g_assert_cmpstr(cd_batch_get_status(batch), ==, "finished");
  g_assert_cmpuint(cd_batch_get_count(batch, CD_BATCH_OUTCOME_REVIEW), ==, 2);
  docs = documents(fx);
  g_assert_cmpuint(docs->len, ==, 2);
  for (guint i = 0; i < docs->len; i++) {
    g_autofree gchar *reason = review_of(doc(docs, i));
    g_assert_cmpstr(json_object_get_string_member(doc(docs, i), "type"), ==, "radiology-report");
    g_assert_cmpstr(reason, ==,
                    "classifier external: 'sh -c 'cat >/dev/null; echo model missing >&2; exit 3'' exited with "
                    "status 3: model missing");
  }
}

/* A hospital's taxonomy, edited without code: a classifier answering a
 * renamed type's old name gives the new type, a retired type's label is
 * dropped, and the hospital's own threshold applies. */
static void
test_classify_hospital_taxonomy(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdTaxonomy) taxonomy =
      cd_taxonomy_new_from_data("[taxonomy]\nfallback=misc\n"
                                "[discharge-letter]\nrenamed-from=discharge-summary\nthreshold=0.95\n"
                                "[nursing-note]\nretired=true\n[misc]\n",
                                "hospital.conf", &error);
  g_autoptr(CdBatch) batch = NULL;
  g_autoptr(GPtrArray) docs = NULL;
  g_autofree gchar *reason = NULL;

  g_assert_no_error(error);
  batch = run_with(fx, taxonomy,
                   "classifiers=test-classifier\n[test-source]\npages=1\npages-per-file=1\n"
                   "[test-classifier]\nscores=nursing-note:1.0;discharge-summary:0.9\n",
                   &error);
  g_assert_no_error(error);
  docs = documents(fx);
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "type"), ==, "discharge-letter");
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(doc(docs, 0), "type_confidence"), 0.9, 1e-9);
  reason = review_of(doc(docs, 0));
  g_assert_cmpstr(reason, ==, "low-confidence type (discharge-letter 0.90 < 0.95)");
}

/* A person sets the type of a document in review for its type: it is
 * filed with that type at confidence 1. A document that also lacks a
 * patient keeps that reason open and stays in review. */
static void
test_classify_review_type(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdWorkflow) wf = cd_workflow_new_from_data(fx->registry,
                                                       "[workflow]\nname=t\nsource=test-source\n"
                                                       "document-stages=test-link\nclassifiers=test-classifier\n"
                                                       "[test-source]\npages=2\npages-per-file=1\n"
                                                       "[test-link]\nmrn=\n"
                                                       "[test-classifier]\nscores=consent-form:0.65\n",
                                                       "t.workflow", &error);
  g_autoptr(CdBatch) with_patient = NULL;
  g_autoptr(CdPipeline) pipeline = NULL;
  g_autoptr(CdBatch) without = NULL;
  g_autoptr(GPtrArray) docs = NULL;
  g_autofree gchar *left = NULL;
  const gchar *inputs[] = { "synthetic", NULL };
  gint64 filed_id, open_id;

  g_assert_no_error(error);
  /* one document with a patient (through the usual helper), then two without */
  with_patient = run(fx,
                     "classifiers=test-classifier\n[test-source]\npages=1\npages-per-file=1\n"
                     "[test-classifier]\nscores=consent-form:0.65\n",
                     &error);
  g_assert_no_error(error);
  pipeline = cd_pipeline_new(wf, fx->archive);
  without = cd_pipeline_run(pipeline, inputs, NULL, &error);
  g_assert_no_error(error);
  docs = documents(fx);
  g_assert_cmpuint(docs->len, ==, 2);
  filed_id = json_object_get_int_member(doc(docs, 0), "id");
  open_id = json_object_get_int_member(doc(docs, 1), "id");
  g_clear_pointer(&docs, g_ptr_array_unref);

  g_assert_true(cd_archive_review_set_type(fx->archive, filed_id, "consent-form", "signed consent, checked", &error));
  g_assert_no_error(error);
  g_assert_true(cd_archive_review_set_type(fx->archive, open_id, "correspondence", "a letter", &error));
  g_assert_no_error(error);
  g_assert_false(cd_archive_review_set_type(fx->archive, open_id, "correspondence", "  ", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_false(cd_archive_review_set_type(fx->archive, 999, "correspondence", "why", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_clear_error(&error);

  docs = documents(fx);
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "status"), ==, "filed");
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 0), "type"), ==, "consent-form");
  g_assert_cmpfloat(json_object_get_double_member(doc(docs, 0), "type_confidence"), ==, 1.0);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(doc(docs, 0), "review")), ==, 0);
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 1), "status"), ==, "review");
  g_assert_cmpstr(json_object_get_string_member(doc(docs, 1), "type"), ==, "correspondence");
  left = review_of(doc(docs, 1));
  g_assert_cmpstr(left, ==, "no patient identified");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add("/chartdesk/classify-engine/combine", Fixture, NULL, fixture_setup, test_classify_combine,
             fixture_teardown);
  g_test_add("/chartdesk/classify-engine/weights", Fixture, NULL, fixture_setup, test_classify_weights,
             fixture_teardown);
  g_test_add("/chartdesk/classify-engine/threshold", Fixture, NULL, fixture_setup, test_classify_threshold,
             fixture_teardown);
  g_test_add("/chartdesk/classify-engine/threshold-default", Fixture, NULL, fixture_setup,
             test_classify_threshold_default, fixture_teardown);
  g_test_add("/chartdesk/classify-engine/threshold-override", Fixture, NULL, fixture_setup,
             test_classify_threshold_override, fixture_teardown);
  g_test_add("/chartdesk/classify-engine/no-opinion", Fixture, NULL, fixture_setup, test_classify_no_opinion,
             fixture_teardown);
  g_test_add("/chartdesk/classify-engine/aliases", Fixture, NULL, fixture_setup, test_classify_aliases,
             fixture_teardown);
  g_test_add("/chartdesk/classify-engine/failure", Fixture, NULL, fixture_setup, test_classify_failure,
             fixture_teardown);
  g_test_add("/chartdesk/classify-engine/timeout", Fixture, NULL, fixture_setup, test_classify_timeout,
             fixture_teardown);
  g_test_add("/chartdesk/classify-engine/hung", Fixture, NULL, fixture_setup, test_classify_hung, fixture_teardown);
  g_test_add("/chartdesk/classify-engine/bad-threshold", Fixture, NULL, fixture_setup, test_classify_bad_threshold,
             fixture_teardown);
  g_test_add("/chartdesk/classify-engine/threshold-syntax", Fixture, NULL, fixture_setup,
             test_classify_threshold_syntax, fixture_teardown);
  g_test_add("/chartdesk/classify-engine/rules-review", Fixture, NULL, fixture_setup, test_classify_rules_review,
             fixture_teardown);
  g_test_add("/chartdesk/classify-engine/rules-low", Fixture, NULL, fixture_setup, test_classify_rules_low,
             fixture_teardown);
  g_test_add("/chartdesk/classify-engine/external-failing", Fixture, NULL, fixture_setup,
             test_classify_external_failing, fixture_teardown);
  g_test_add("/chartdesk/classify-engine/hospital-taxonomy", Fixture, NULL, fixture_setup,
             test_classify_hospital_taxonomy, fixture_teardown);
  g_test_add("/chartdesk/classify-engine/review-type", Fixture, NULL, fixture_setup, test_classify_review_type,
             fixture_teardown);
  return g_test_run();
}
