/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk classify test`, the plugin author's harness, run as a user
 * runs it: on a folder of labelled texts and on a CSV file.
 */
#include "cd-engine.h"

#include "cd-test-util.h"
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

static gchar **extra_env; /* the environment for chartdesk, NULL: ours */

/* Runs chartdesk with @args; returns the exit status. */
static gint
chartdesk(const gchar *const *args, gchar **out, gchar **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  gint status = 0;

  g_ptr_array_add(argv, g_test_build_filename(G_TEST_BUILT, "core", "cli", "chartdesk", NULL));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, g_strdup(args[i]));
  g_ptr_array_add(argv, NULL);
  g_assert_true(
      g_spawn_sync(NULL, (gchar **) argv->pdata, extra_env, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status, &error));
  g_assert_no_error(error);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Writes the sample charts' ground truth as TYPE/N.txt, one document a
 * file, its pages separated by form feeds; returns the number written. */
static guint
write_ground_truth(const gchar *dir)
{
  g_autofree gchar *path = g_test_build_filename(G_TEST_DIST, "samples", "ground-truth.jsonl", NULL);
  g_autofree gchar *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) texts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) types = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer key, value;
  guint n = 0;

  g_assert_true(g_file_get_contents(path, &contents, NULL, &error));
  lines = g_strsplit(contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr(JsonNode) node = NULL;
    JsonObject *obj;
    g_autofree gchar *doc = NULL;
    if (lines[i][0] == '\0')
      continue;
    node = json_from_string(lines[i], &error);
    g_assert_no_error(error);
    obj = json_node_get_object(node);
    if (json_object_get_null_member(obj, "doc_type"))
      continue;
    doc = g_strdup_printf("%" G_GINT64_FORMAT, json_object_get_int_member(obj, "doc_index"));
    if (g_hash_table_contains(texts, doc)) {
      g_hash_table_replace(texts, g_strdup(doc),
                           g_strdup_printf("%s\f%s", (gchar *) g_hash_table_lookup(texts, doc),
                                           json_object_get_string_member(obj, "text")));
    } else {
      g_hash_table_insert(texts, g_strdup(doc), g_strdup(json_object_get_string_member(obj, "text")));
      g_hash_table_insert(types, g_strdup(doc), g_strdup(json_object_get_string_member(obj, "doc_type")));
    }
  }
  g_hash_table_iter_init(&iter, texts);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    g_autofree gchar *folder = g_build_filename(dir, (gchar *) g_hash_table_lookup(types, key), NULL);
    g_autofree gchar *name = g_strdup_printf("%s.txt", (gchar *) key);
    g_autofree gchar *file = g_build_filename(folder, name, NULL);
    g_mkdir_with_parents(folder, 0700);
    g_assert_true(g_file_set_contents(file, value, -1, &error));
    n++;
  }
  return n;
}

/* On a folder of labelled texts the harness reports every sample and the
 * summary; the shipped rules get the sample charts all right. */
static void
test_classify_cli_folder(void)
{
  g_autofree gchar *dir = g_dir_make_tmp("cd-classify-cli-XXXXXX", NULL);
  guint n = write_ground_truth(dir);
  const gchar *args[] = { "classify", "test", "--classifier", "rules", "--json", dir, NULL };
  const gchar *text_args[] = { "classify", "test", "-c", "rules", dir, NULL };
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *obj;
  JsonObject *discharge;

  g_assert_cmpint(chartdesk(args, &out, &err), ==, 0);
  root = json_from_string(out, &error);
  g_assert_no_error(error);
  obj = json_node_get_object(root);
  g_assert_cmpint(json_object_get_int_member(obj, "count"), ==, n);
  g_assert_cmpint(json_object_get_int_member(obj, "right"), ==, n);
  g_assert_cmpfloat(json_object_get_double_member(obj, "accuracy"), ==, 1.0);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj, "samples")), ==, n);
  discharge = json_object_get_object_member(json_object_get_object_member(obj, "types"), "discharge-summary");
  g_assert_cmpint(json_object_get_int_member(discharge, "samples"), ==, 1);
  g_assert_cmpfloat(json_object_get_double_member(discharge, "precision"), ==, 1.0);

  g_assert_cmpint(chartdesk(text_args, &text, NULL), ==, 0);
  g_assert_nonnull(strstr(text, "discharge-summary/1.txt"));
  g_assert_nonnull(strstr(text, "10 samples, 10 right: accuracy 100.0%"));
  cd_test_rm_rf(dir);
}

/* A CSV file with quoted, multi-line texts: labels are read through the
 * taxonomy (an alias counts), a label that is no type is reported and
 * left out, and a sample the classifier gets wrong is counted wrong. */
static void
test_classify_cli_csv(void)
{
  g_autofree gchar *dir = g_dir_make_tmp("cd-classify-cli-XXXXXX", NULL);
  g_autofree gchar *csv = g_build_filename(dir, "samples.csv", NULL);
  const gchar *data = "id,label,text\n"
                      "1,letter,\"Dear Dr. Smith,\nThank you for referring Mrs. Jones.\nSincerely,\nA. Jones, MD\"\n"
                      "2,invoice,\"Amount due: $40\"\n"
                      "3,Radiology Report,\"EXAM: CT abdomen\nTECHNIQUE: axial images with contrast.\nFINDINGS: "
                      "normal.\nIMPRESSION: no acute disease.\"\n"
                      "4,consent-form,\"PROGRESS NOTE\nSubjective: doing well. Objective: stable.\"\n";
  const gchar *args[] = { "classify", "test", "--classifier", "rules", "--json", csv, NULL };
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *obj;
  JsonArray *samples;

  g_assert_true(g_file_set_contents(csv, data, -1, &error));
  g_assert_cmpint(chartdesk(args, &out, &err), ==, 0);
  g_assert_nonnull(strstr(err, "label 'invoice' is not a document type in use"));
  root = json_from_string(out, &error);
  g_assert_no_error(error);
  obj = json_node_get_object(root);
  g_assert_cmpint(json_object_get_int_member(obj, "count"), ==, 3);
  g_assert_cmpint(json_object_get_int_member(obj, "right"), ==, 2);
  samples = json_object_get_array_member(obj, "samples");
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(samples, 0), "expected"), ==,
                  "correspondence");
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(samples, 1), "predicted"), ==,
                  "radiology-report");
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(samples, 2), "predicted"), ==,
                  "progress-note");
  g_assert_true(g_str_has_suffix(json_object_get_string_member(json_array_get_object_element(samples, 2), "sample"),
                                 "samples.csv:11"));
  g_unlink(csv);
  g_rmdir(dir);
}

/* Mistakes of use are refused with the reason: no classifier, a stage
 * that is not a classifier, an unknown option, no samples. */
static void
test_classify_cli_errors(void)
{
  const struct {
    const gchar *args[8];
    gint status;
    const gchar *message;
  } cases[] = {
    { { "classify", "test", "/tmp", NULL }, 2, "needs --classifier NAME" },
    { { "classify", "test", "-c", "files", "/tmp", NULL }, 2, "stage 'files' is a source stage, not a classifier" },
    { { "classify", "test", "-c", "rules", "--set", "colour=red", "/tmp", NULL },
      2,
      "classifier 'rules' has no option 'colour'" },
    { { "classify", "test", "-c", "rules", "--set", "evidence=lots", "/tmp", NULL }, 2, "'lots' is not a number" },
    { { "classify", "test", "-c", "no-such", "/nonexistent.csv", NULL }, 1, "/nonexistent.csv" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *err = NULL;
    g_autofree gchar *dir = NULL;
    const gchar *args[8];
    /* an empty folder has no samples: use one with a sample where needed */
    memcpy(args, cases[i].args, sizeof args);
    if (cases[i].status == 2 && i > 0) {
      g_autofree gchar *sub = NULL;
      g_autofree gchar *file = NULL;
      dir = g_dir_make_tmp("cd-classify-cli-XXXXXX", NULL);
      sub = g_build_filename(dir, "correspondence", NULL);
      file = g_build_filename(sub, "a.txt", NULL);
      g_mkdir(sub, 0700);
      g_assert_true(g_file_set_contents(file, "Dear Sir", -1, NULL));
      for (guint j = 0; args[j] != NULL; j++) {
        if (g_strcmp0(args[j], "/tmp") == 0)
          args[j] = dir;
      }
    }
    g_assert_cmpint(chartdesk(args, NULL, &err), ==, cases[i].status);
    g_test_message("%s", err);
    g_assert_nonnull(strstr(err, cases[i].message));
    if (dir != NULL)
      cd_test_rm_rf(dir);
  }
}

/* A truncated CSV (a quote never closed) is refused by both the trainer and
 * the test harness, naming the file and the line the quote opened on. */
static void
test_classify_cli_bad_csv(void)
{
  g_autofree gchar *dir = g_dir_make_tmp("cd-classify-cli-XXXXXX", NULL);
  g_autofree gchar *csv = g_build_filename(dir, "labelled.csv", NULL);
  g_autofree gchar *archive = g_build_filename(dir, "m.archive", NULL);
  g_autofree gchar *want = g_strdup_printf("%s: line 3: a quoted field is never closed", csv);

  g_assert_true(
      g_file_set_contents(csv, "label,text\ncorrespondence,Dear Sir\nprogress-note,\"Seen today\n", -1, NULL));
  {
    const gchar *args[] = { "classify", "test", "-c", "rules", csv, NULL };
    g_autofree gchar *err = NULL;
    g_assert_cmpint(chartdesk(args, NULL, &err), ==, 1);
    g_assert_nonnull(strstr(err, want));
  }
  {
    const gchar *args[] = { "classify", "train", archive, "--csv", csv, NULL };
    g_autofree gchar *err = NULL;
    g_assert_cmpint(chartdesk(args, NULL, &err), ==, 1);
    g_assert_nonnull(strstr(err, want));
  }
  cd_test_rm_rf(dir);
}

/* `chartdesk review type` sets the type of a document in review for its
 * type and files it; a name that is no type of the taxonomy is refused. */
static void
test_classify_cli_review_type(void)
{
  g_autofree gchar *dir = g_dir_make_tmp("cd-classify-cli-XXXXXX", NULL);
  g_autofree gchar *wf = g_build_filename(dir, "t.workflow", NULL);
  g_autofree gchar *archive = g_build_filename(dir, "t.archive", NULL);
  g_autofree gchar *testing = g_test_build_filename(G_TEST_BUILT, "tests", "plugins", NULL);
  g_autofree gchar *plugin_path = g_strdup_printf("%s:%s", g_getenv("CHARTDESK_PLUGIN_PATH"), testing);
  const gchar *ingest[] = { "ingest", "-q", "--workflow", wf, archive, "synthetic", NULL };
  const gchar *bad[] = { "review", "type", archive, "document:1", "--type", "invoice", "--why", "x", NULL };
  const gchar *good[] = { "review", "type", archive, "document:1", "--type", "Consent", "--why", "signed", NULL };
  const gchar *show[] = { "show", "--json", archive, "document:1", NULL };
  g_autofree gchar *err = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *shown = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true(g_file_set_contents(wf,
                                    "[workflow]\nname=t\nsource=test-source\ndocument-stages=test-link\n"
                                    "classifiers=test-classifier\n[test-source]\npages=1\n[test-link]\nmrn=00482913\n"
                                    "[test-classifier]\nscores=consent-form:0.65\n",
                                    -1, &error));
  extra_env = g_environ_setenv(g_get_environ(), "CHARTDESK_PLUGIN_PATH", plugin_path, TRUE);
  {
    g_autofree gchar *ingest_err = NULL;
    gint status = chartdesk(ingest, NULL, &ingest_err);
    g_test_message("%s", ingest_err);
    g_assert_cmpint(status, ==, 0);
  }
  g_assert_cmpint(chartdesk(bad, NULL, &err), ==, 2);
  g_assert_nonnull(strstr(err, "'invoice' is not a document type in use"));
  g_assert_cmpint(chartdesk(good, &out, NULL), ==, 0);
  g_assert_cmpstr(out, ==, "document 1 is a consent-form\n");
  g_assert_cmpint(chartdesk(show, &shown, NULL), ==, 0);
  node = json_from_string(shown, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "status"), ==, "filed");
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "type"), ==, "consent-form");
  g_clear_pointer(&extra_env, g_strfreev);
  cd_test_rm_rf(dir);
}

/* `classify test --archive` gives the stage the archive, so the trained
 * classifier can load the model saved there; without it the trained
 * classifier cannot start, and an archive that does not exist is refused. */
static void
test_classify_cli_test_archive(void)
{
  g_autofree gchar *dir = g_dir_make_tmp("cd-classify-cli-XXXXXX", NULL);
  g_autofree gchar *csv = g_build_filename(dir, "train.csv", NULL);
  g_autofree gchar *samples = g_build_filename(dir, "samples.csv", NULL);
  g_autofree gchar *archive = g_build_filename(dir, "m.archive", NULL);
  g_autofree gchar *missing = g_build_filename(dir, "none.archive", NULL);
  g_autoptr(GString) data = g_string_new("label,text\n");
  const gchar *train[] = { "classify", "train", archive, "--csv", csv, NULL };
  const gchar *with[] = { "classify", "test", "-c", "trained", "--archive", archive, "--json", samples, NULL };
  const gchar *without[] = { "classify", "test", "-c", "trained", samples, NULL };
  const gchar *absent[] = { "classify", "test", "-c", "trained", "--archive", missing, samples, NULL };
  g_autofree gchar *out = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *results;

  for (guint i = 0; i < 12; i++) {
    g_string_append_printf(data,
                           "correspondence,\"Dear Dr. Wells, thank you for referring patient %u to our clinic. "
                           "Sincerely yours\"\n"
                           "radiology-report,\"EXAM: chest radiograph %u views. FINDINGS: lungs clear. "
                           "IMPRESSION: no acute disease\"\n",
                           i, i % 3 + 1);
  }
  g_assert_true(g_file_set_contents(csv, data->str, -1, &error));
  g_assert_true(g_file_set_contents(samples,
                                    "label,text\ncorrespondence,\"Dear Dr. Hale, thank you for referring this "
                                    "patient. Sincerely\"\nradiology-report,\"EXAM: chest radiograph. FINDINGS: "
                                    "clear. IMPRESSION: no acute disease\"\n",
                                    -1, &error));
  g_assert_cmpint(chartdesk(train, NULL, NULL), ==, 0);

  g_assert_cmpint(chartdesk(with, &out, NULL), ==, 0);
  root = json_from_string(out, &error);
  g_assert_no_error(error);
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(root), "right"), ==, 2);
  results = json_object_get_array_member(json_node_get_object(root), "samples");
  g_assert_cmpuint(json_array_get_length(results), ==, 2);
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(results, 0), "predicted"), ==,
                  "correspondence");
  g_assert_cmpfloat(json_object_get_double_member(json_array_get_object_element(results, 1), "confidence"), >, 0.5);
  {
    g_autofree gchar *err = NULL;
    g_assert_cmpint(chartdesk(without, NULL, &err), ==, 1);
    g_assert_nonnull(strstr(err, "no archive"));
  }
  {
    g_autofree gchar *err = NULL;
    g_assert_cmpint(chartdesk(absent, NULL, &err), ==, 1);
    g_assert_nonnull(strstr(err, missing));
  }
  cd_test_rm_rf(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chartdesk/classify-cli/folder", test_classify_cli_folder);
  g_test_add_func("/chartdesk/classify-cli/csv", test_classify_cli_csv);
  g_test_add_func("/chartdesk/classify-cli/errors", test_classify_cli_errors);
  g_test_add_func("/chartdesk/classify-cli/bad-csv", test_classify_cli_bad_csv);
  g_test_add_func("/chartdesk/classify-cli/review-type", test_classify_cli_review_type);
  g_test_add_func("/chartdesk/classify-cli/test-archive", test_classify_cli_test_archive);
  return g_test_run();
}
