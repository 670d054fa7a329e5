/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine end to end without OCR: the testing plugin's synthetic source
 * and stages through a real archive.
 */
#include "cd-engine.h"
#include <glib/gstdio.h>

typedef struct {
  gchar *dir;
  gchar *archive_path;
  CdRegistry *registry;
  CdArchive *archive;
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
  g_autofree gchar *testing = g_test_build_filename(G_TEST_BUILT, "tests", "plugins", NULL);
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp("cd-pipeline-XXXXXX", NULL);
  fx->archive_path = g_build_filename(fx->dir, "test.archive", NULL);
  fx->registry = cd_registry_new();
  cd_registry_add_search_path(fx->registry, testing);
  cd_registry_scan(fx->registry);
  fx->archive = cd_archive_open(fx->archive_path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
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
  g_free(fx->archive_path);
}

static CdWorkflow *
workflow(Fixture *fx, const gchar *extra)
{
  g_autofree gchar *data = g_strdup_printf("[workflow]\nname=test\nsource=test-source\npage-stages=test-mark\n"
                                           "document-stages=test-link\n%s",
                                           extra);
  g_autoptr(GError) error = NULL;
  CdWorkflow *wf = cd_workflow_new_from_data(fx->registry, data, "test.workflow", &error);
  g_assert_no_error(error);
  return wf;
}

static CdBatch *
run(Fixture *fx, CdWorkflow *wf, GCancellable *cancellable, GError **error)
{
  g_autoptr(CdPipeline) pipeline = cd_pipeline_new(wf, fx->archive);
  const gchar *inputs[] = { "synthetic", NULL };
  return cd_pipeline_run(pipeline, inputs, cancellable, error);
}

/* Reads the archive's export back as a list of JSON objects. */
static GPtrArray *
export_lines(Fixture *fx)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *objects = g_ptr_array_new_with_free_func((GDestroyNotify) json_node_unref);

  g_assert_true(cd_archive_export_jsonl(fx->archive, out, FALSE, NULL, &error));
  g_assert_no_error(error);
  g_output_stream_write_all(out, "", 1, NULL, NULL, NULL);
  g_output_stream_close(out, NULL, NULL);
  lines = g_strsplit(g_memory_output_stream_get_data(G_MEMORY_OUTPUT_STREAM(out)), "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    if (lines[i][0] == '\0')
      continue;
    g_ptr_array_add(objects, json_from_string(lines[i], &error));
    g_assert_no_error(error);
  }
  return objects;
}

/* Collects "path#page" of every page in export order, documents expanded. */
static GPtrArray *
exported_pages(GPtrArray *objects)
{
  GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < objects->len; i++) {
    JsonObject *obj = json_node_get_object(g_ptr_array_index(objects, i));
    if (json_object_has_member(obj, "pages")) {
      JsonArray *pages = json_object_get_array_member(obj, "pages");
      for (guint j = 0; j < json_array_get_length(pages); j++) {
        JsonObject *src = json_object_get_object_member(json_array_get_object_element(pages, j), "source");
        g_ptr_array_add(keys, g_strdup_printf("%s#%" G_GINT64_FORMAT, json_object_get_string_member(src, "path"),
                                              json_object_get_int_member(src, "page")));
      }
    } else {
      JsonObject *src = json_object_get_object_member(obj, "source");
      g_ptr_array_add(keys, g_strdup_printf("%s#%" G_GINT64_FORMAT, json_object_get_string_member(src, "path"),
                                            json_object_get_int_member(src, "page")));
    }
  }
  return keys;
}

/* With many workers finishing out of order, pages reach the archive in scan
 * order, each exactly once, one document per file. */
static void
test_pipeline_order(Fixture *fx, gconstpointer data)
{
  g_autoptr(CdWorkflow) wf = workflow(fx, "workers=4\n[test-source]\npages=40\npages-per-file=5\n"
                                          "[test-mark]\nmax-delay=15\n[test-link]\nmrn=00482913\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = run(fx, wf, NULL, &error);
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GPtrArray) keys = NULL;

  g_assert_no_error(error);
  g_assert_cmpstr(cd_batch_get_status(batch), ==, "finished");
  g_assert_cmpuint(cd_batch_get_pages_in(batch), ==, 40);
  g_assert_cmpuint(cd_batch_get_count(batch, CD_BATCH_OUTCOME_FILED), ==, 40);
  g_assert_cmpuint(cd_batch_get_documents(batch), ==, 8);

  objects = export_lines(fx);
  g_assert_cmpuint(objects->len, ==, 8);
  keys = exported_pages(objects);
  g_assert_cmpuint(keys->len, ==, 40);
  for (guint i = 0; i < keys->len; i++) {
    g_autofree gchar *expect = g_strdup_printf("test://file-%04u#%u", i / 5, i % 5);
    g_assert_cmpstr(g_ptr_array_index(keys, i), ==, expect);
  }
}

/* The splitter's decisions start new documents within a file. */
static void
test_pipeline_splitter(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdWorkflow) wf = cd_workflow_new_from_data(fx->registry,
                                                       "[workflow]\nname=t\nsource=test-source\nsplitter=test-split\n"
                                                       "[test-source]\npages=10\npages-per-file=5\n[test-split]\n"
                                                       "every=2\n",
                                                       "t.workflow", &error);
  g_autoptr(CdBatch) batch = NULL;

  g_assert_no_error(error);
  batch = run(fx, wf, NULL, &error);
  g_assert_no_error(error);
  /* pages 0-1, 2-3, 4 of each of two files */
  g_assert_cmpuint(cd_batch_get_documents(batch), ==, 6);
  /* no document stage linked a patient: everything waits for review */
  g_assert_cmpuint(cd_batch_get_count(batch, CD_BATCH_OUTCOME_REVIEW), ==, 10);
}

/* A stage that fails on one page does not lose it: the page is archived,
 * its document goes to review naming the stage and the reason, and the
 * batch goes on. A blank page is set aside as its own record. */
static void
test_pipeline_stage_errors(Fixture *fx, gconstpointer data)
{
  g_autoptr(CdWorkflow) wf = workflow(fx, "[test-source]\npages=10\npages-per-file=5\n"
                                          "[test-mark]\nfail-page=2\nblank-page=4\n[test-link]\nmrn=00482913\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = run(fx, wf, NULL, &error);
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  GPtrArray *items;
  gboolean saw_review = FALSE;

  g_assert_no_error(error);
  g_assert_cmpuint(cd_batch_get_pages_in(batch), ==, 10);
  g_assert_cmpuint(cd_batch_get_count(batch, CD_BATCH_OUTCOME_SET_ASIDE), ==, 2);
  g_assert_cmpuint(cd_batch_get_count(batch, CD_BATCH_OUTCOME_REVIEW), ==, 8);
  items = cd_batch_get_items(batch);
  for (guint i = 0; i < items->len; i++) {
    CdBatchItem *item = g_ptr_array_index(items, i);
    if (item->outcome == CD_BATCH_OUTCOME_REVIEW) {
      g_assert_nonnull(strstr(item->reason, "page 2: test-mark: deliberate failure on page 3"));
      saw_review = TRUE;
    }
    if (item->outcome == CD_BATCH_OUTCOME_SET_ASIDE)
      g_assert_cmpstr(item->reason, ==, "blank: deliberately");
  }
  g_assert_true(saw_review);

  objects = export_lines(fx);
  keys = exported_pages(objects);
  g_assert_cmpuint(keys->len, ==, 10);
}

/* A stage that cannot start fails the batch before any page is archived,
 * with the stage's name in the error, and the batch is recorded as failed. */
static void
test_pipeline_start_failure(Fixture *fx, gconstpointer data)
{
  g_autoptr(CdWorkflow) wf = workflow(fx, "[test-source]\npages=10\n[test-mark]\nfail-start=true\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = run(fx, wf, NULL, &error);
  g_autoptr(GPtrArray) objects = NULL;

  g_assert_null(batch);
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "test-mark: deliberately cannot start");
  objects = export_lines(fx);
  g_assert_cmpuint(objects->len, ==, 0);
}

/* However long the batch, only a few pages are alive at once: the ones in
 * flight (three per worker) and those of the document being assembled. */
static void
test_pipeline_bounded_memory(Fixture *fx, gconstpointer data)
{
  g_autoptr(CdWorkflow) wf = workflow(fx, "workers=2\n[test-source]\npages=1000\npages-per-file=5\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) batch = NULL;
  g_autoptr(CdSource) probe = NULL;
  gint max_alive = 0;

  batch = run(fx, wf, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(cd_batch_get_pages_in(batch), ==, 1000);
  probe = cd_workflow_create_source(wf, NULL);
  g_object_get(probe, "max-alive", &max_alive, NULL);
  g_assert_cmpint(max_alive, >, 0);
  g_assert_cmpint(max_alive, <=, 2 * 3 + 5 + 1);
}

/* Running the same pages again archives nothing twice: every page is
 * reported as already archived (the crash-resume path). */
static void
test_pipeline_rerun(Fixture *fx, gconstpointer data)
{
  g_autoptr(CdWorkflow) wf = workflow(fx, "[test-source]\npages=12\npages-per-file=4\n[test-link]\nmrn=1\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) first = run(fx, wf, NULL, &error);
  g_autoptr(CdBatch) second = NULL;
  g_autoptr(GPtrArray) objects = NULL;

  g_assert_no_error(error);
  g_assert_cmpuint(cd_batch_get_count(first, CD_BATCH_OUTCOME_FILED), ==, 12);
  second = run(fx, wf, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(cd_batch_get_pages_in(second), ==, 12);
  g_assert_cmpuint(cd_batch_get_count(second, CD_BATCH_OUTCOME_DUPLICATE), ==, 12);
  g_assert_cmpuint(cd_batch_get_documents(second), ==, 0);
  objects = export_lines(fx);
  g_assert_cmpuint(objects->len, ==, 3);
}

typedef struct {
  GCancellable *cancellable;
  guint cancel_at;
  guint last_pages;
  guint calls;
} CancelState;

static void
cancel_progress(const CdProgress *p, gpointer user_data)
{
  CancelState *state = user_data;
  g_assert_cmpuint(p->pages_done, >=, state->last_pages);
  state->last_pages = p->pages_done;
  state->calls++;
  if (p->pages_done >= state->cancel_at)
    g_cancellable_cancel(state->cancellable);
}

/* A batch cancelled midway keeps whole documents only; running it again
 * completes the rest, and every page is in the archive exactly once. */
static void
test_pipeline_cancel_resume(Fixture *fx, gconstpointer data)
{
  g_autoptr(CdWorkflow) wf = workflow(fx, "workers=2\n[test-source]\npages=60\npages-per-file=6\n"
                                          "[test-mark]\nmax-delay=3\n[test-link]\nmrn=1\n");
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(CdPipeline) pipeline = cd_pipeline_new(wf, fx->archive);
  const gchar *inputs[] = { "synthetic", NULL };
  CancelState state = { cancellable, 20, 0, 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) first = NULL;
  g_autoptr(CdBatch) second = NULL;
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

  cd_pipeline_set_progress_func(pipeline, cancel_progress, &state);
  first = cd_pipeline_run(pipeline, inputs, cancellable, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(cd_batch_get_status(first), ==, "cancelled");
  g_assert_cmpuint(cd_batch_get_pages_in(first), <, 60);
  g_assert_cmpuint(state.calls, >, 0);

  second = run(fx, wf, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(cd_batch_get_status(second), ==, "finished");
  objects = export_lines(fx);
  keys = exported_pages(objects);
  g_assert_cmpuint(keys->len, ==, 60);
  for (guint i = 0; i < keys->len; i++)
    g_assert_true(g_hash_table_add(seen, g_ptr_array_index(keys, i)));
  g_assert_cmpuint(objects->len, ==, 10);
}

/* A batch cancelled midway and resumed under the same batch id reports
 * every page of the batch once with its real outcome: pages the first run
 * archived are filed, in review with the reason, or set aside, never
 * duplicates, and the counts add up to the pages in. */
static void
test_pipeline_resume_report(Fixture *fx, gconstpointer data)
{
  g_autoptr(CdWorkflow) wf = workflow(fx, "workers=2\nsplitter=test-split\n[test-source]\npages=60\n"
                                          "pages-per-file=6\n[test-split]\nevery=2\n[test-mark]\nmax-delay=2\n"
                                          "fail-page=2\nblank-page=5\n[test-link]\nmrn=1\n");
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(CdPipeline) pipeline = cd_pipeline_new(wf, fx->archive);
  g_autoptr(CdPipeline) resumed = cd_pipeline_new(wf, fx->archive);
  const gchar *inputs[] = { "synthetic", NULL };
  CancelState state = { cancellable, 20, 0, 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(CdBatch) first = NULL;
  g_autoptr(CdBatch) second = NULL;
  g_autoptr(GHashTable) listed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  guint counted = 0;
  guint n_review = 0, n_set_aside = 0;
  GPtrArray *items;

  cd_pipeline_set_progress_func(pipeline, cancel_progress, &state);
  first = cd_pipeline_run(pipeline, inputs, cancellable, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(cd_batch_get_status(first), ==, "cancelled");
  g_assert_cmpuint(cd_batch_get_documents(first), >, 0);
  g_assert_cmpuint(cd_batch_get_pages_in(first), <, 60);

  cd_pipeline_set_batch_id(resumed, cd_batch_get_id(first));
  second = cd_pipeline_run(resumed, inputs, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(cd_batch_get_status(second), ==, "finished");
  g_assert_cmpint(cd_batch_get_id(second), ==, cd_batch_get_id(first));
  /* per file: pages 0-1 and 4 filed, 2-3 in review (page 2 failed a stage), 5 blank */
  g_assert_cmpuint(cd_batch_get_pages_in(second), ==, 60);
  g_assert_cmpuint(cd_batch_get_count(second, CD_BATCH_OUTCOME_DUPLICATE), ==, 0);
  g_assert_cmpuint(cd_batch_get_count(second, CD_BATCH_OUTCOME_FILED), ==, 30);
  g_assert_cmpuint(cd_batch_get_count(second, CD_BATCH_OUTCOME_REVIEW), ==, 20);
  g_assert_cmpuint(cd_batch_get_count(second, CD_BATCH_OUTCOME_SET_ASIDE), ==, 10);
  g_assert_cmpuint(cd_batch_get_count(second, CD_BATCH_OUTCOME_FAILED), ==, 0);
  for (guint i = 0; i < CD_BATCH_OUTCOME_LAST; i++)
    counted += cd_batch_get_count(second, i);
  g_assert_cmpuint(counted, ==, cd_batch_get_pages_in(second));
  g_assert_cmpuint(cd_batch_get_documents(second), ==, 30);

  /* each document in review and each page set aside is listed once, with its reason */
  items = cd_batch_get_items(second);
  for (guint i = 0; i < items->len; i++) {
    CdBatchItem *item = g_ptr_array_index(items, i);
    g_autofree gchar *key = g_strdup_printf("%s#%d", item->path, item->page);
    g_assert_cmpint(item->outcome, !=, CD_BATCH_OUTCOME_DUPLICATE);
    g_assert_true(g_hash_table_add(listed, g_steal_pointer(&key)));
    if (item->outcome == CD_BATCH_OUTCOME_REVIEW) {
      g_assert_cmpint(item->page, ==, 2);
      g_assert_cmpint(item->document_id, >, 0);
      g_assert_nonnull(strstr(item->reason, "deliberate failure on page 3"));
      n_review++;
    } else {
      g_assert_cmpint(item->outcome, ==, CD_BATCH_OUTCOME_SET_ASIDE);
      g_assert_cmpint(item->page, ==, 5);
      g_assert_cmpstr(item->reason, ==, "blank: deliberately");
      n_set_aside++;
    }
  }
  g_assert_cmpuint(n_review, ==, 10);
  g_assert_cmpuint(n_set_aside, ==, 10);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add("/chartdesk/pipeline/order", Fixture, NULL, fixture_setup, test_pipeline_order, fixture_teardown);
  g_test_add("/chartdesk/pipeline/splitter", Fixture, NULL, fixture_setup, test_pipeline_splitter, fixture_teardown);
  g_test_add("/chartdesk/pipeline/stage-errors", Fixture, NULL, fixture_setup, test_pipeline_stage_errors,
             fixture_teardown);
  g_test_add("/chartdesk/pipeline/start-failure", Fixture, NULL, fixture_setup, test_pipeline_start_failure,
             fixture_teardown);
  g_test_add("/chartdesk/pipeline/bounded-memory", Fixture, NULL, fixture_setup, test_pipeline_bounded_memory,
             fixture_teardown);
  g_test_add("/chartdesk/pipeline/rerun", Fixture, NULL, fixture_setup, test_pipeline_rerun, fixture_teardown);
  g_test_add("/chartdesk/pipeline/cancel-resume", Fixture, NULL, fixture_setup, test_pipeline_cancel_resume,
             fixture_teardown);
  g_test_add("/chartdesk/pipeline/resume-report", Fixture, NULL, fixture_setup, test_pipeline_resume_report,
             fixture_teardown);
  return g_test_run();
}
