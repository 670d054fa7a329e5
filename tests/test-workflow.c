/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "cd-engine.h"

static CdRegistry *
test_registry(void)
{
  CdRegistry *registry = cd_registry_new();
  g_autofree gchar *testing = g_test_build_filename(G_TEST_BUILT, "tests", "plugins", NULL);
  g_autofree gchar *plugins = g_test_build_filename(G_TEST_BUILT, "plugins", NULL);

  cd_registry_add_search_path(registry, testing);
  cd_registry_add_search_path(registry, plugins);
  cd_registry_scan(registry);
  return registry;
}

#define GOOD_WORKFLOW                                                                                                  \
  "[workflow]\n"                                                                                                       \
  "name=good\n"                                                                                                        \
  "description=for tests\n"                                                                                            \
  "source=test-source\n"                                                                                               \
  "page-stages=test-mark\n"                                                                                            \
  "splitter=test-split\n"                                                                                              \
  "document-stages=test-link\n"                                                                                        \
  "workers=3\n"                                                                                                        \
  "[test-source]\n"                                                                                                    \
  "pages=7\n"                                                                                                          \
  "[test-mark]\n"                                                                                                      \
  "fail-page=2\n"                                                                                                      \
  "enabled=true\n"                                                                                                     \
  "[test-link]\n"                                                                                                      \
  "mrn=00482913\n"

/* A valid workflow yields its stages in order, of the right kinds, with the
 * options applied to every fresh instance. */
static void
test_workflow_good(void)
{
  g_autoptr(CdRegistry) registry = test_registry();
  g_autoptr(GError) error = NULL;
  g_autoptr(CdWorkflow) wf = cd_workflow_new_from_data(registry, GOOD_WORKFLOW, "good.workflow", &error);
  g_autoptr(GPtrArray) pages = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(CdSource) source = NULL;
  g_autoptr(CdSplitter) splitter = NULL;
  g_autoptr(GPtrArray) names = NULL;
  guint n = 0;
  gint fail_page = 0;

  g_assert_no_error(error);
  g_assert_cmpstr(cd_workflow_get_name(wf), ==, "good");
  g_assert_cmpstr(cd_workflow_get_description(wf), ==, "for tests");
  g_assert_cmpuint(cd_workflow_get_workers(wf), ==, 3);

  source = cd_workflow_create_source(wf, &error);
  g_assert_no_error(error);
  g_object_get(source, "pages", &n, NULL);
  g_assert_cmpuint(n, ==, 7);

  pages = cd_workflow_create_stages(wf, CD_STAGE_KIND_PAGE, &error);
  again = cd_workflow_create_stages(wf, CD_STAGE_KIND_PAGE, &error);
  g_assert_cmpuint(pages->len, ==, 1);
  g_assert_true(g_ptr_array_index(pages, 0) != g_ptr_array_index(again, 0));
  g_object_get(g_ptr_array_index(again, 0), "fail-page", &fail_page, NULL);
  g_assert_cmpint(fail_page, ==, 2);

  splitter = cd_workflow_create_splitter(wf, &error);
  g_assert_nonnull(splitter);
  names = cd_workflow_get_stage_names(wf, CD_STAGE_KIND_DOCUMENT);
  g_assert_cmpuint(names->len, ==, 1);
  g_assert_cmpstr(g_ptr_array_index(names, 0), ==, "test-link");
}

/* Options can be overridden as `--set stage.option=value`, validated alike. */
static void
test_workflow_set_option(void)
{
  g_autoptr(CdRegistry) registry = test_registry();
  g_autoptr(GError) error = NULL;
  g_autoptr(CdWorkflow) wf = cd_workflow_new_from_data(registry, GOOD_WORKFLOW, "good.workflow", &error);
  g_autoptr(CdSource) source = NULL;
  guint n = 0;

  g_assert_true(cd_workflow_set_option(wf, "test-source", "pages", "12", &error));
  g_assert_no_error(error);
  source = cd_workflow_create_source(wf, NULL);
  g_object_get(source, "pages", &n, NULL);
  g_assert_cmpuint(n, ==, 12);
  g_assert_false(cd_workflow_set_option(wf, "test-source", "pages", "-1", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_false(cd_workflow_set_option(wf, "nope", "pages", "1", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_WORKFLOW);
}

typedef struct {
  const gchar *name;
  const gchar *data;
  const gchar *message; /* the exact error */
} BadWorkflow;

static const BadWorkflow bad_workflows[] = {
  { "syntax", "[workflow\nname=x\n", NULL },
  { "no-group", "[other]\nname=x\n", "bad.workflow: no [workflow] group" },
  { "no-name", "[workflow]\nsource=test-source\n", "bad.workflow: [workflow] name: missing" },
  { "no-source", "[workflow]\nname=x\npage-stages=test-mark\n", "bad.workflow: [workflow] source: missing" },
  { "unknown-key", "[workflow]\nname=x\nsource=test-source\nstages=a\n",
    "bad.workflow: [workflow] stages: unknown key (known: name, description, workers, source, page-stages, splitter, "
    "document-stages, classifiers, type-thresholds, sinks)" },
  { "unknown-stage", "[workflow]\nname=x\nsource=test-source\npage-stages=test-mark;deskwe\n",
    "bad.workflow: [workflow] page-stages: unknown stage 'deskwe' (see `chartdesk plugins`)" },
  { "wrong-kind", "[workflow]\nname=x\nsource=test-mark\n",
    "bad.workflow: [workflow] source: stage 'test-mark' is a page stage, not a source stage" },
  { "two-sources", "[workflow]\nname=x\nsource=test-source;files\n",
    "bad.workflow: [workflow] source: takes one stage, not 2" },
  { "twice", "[workflow]\nname=x\nsource=test-source\npage-stages=test-mark;test-mark\n",
    "bad.workflow: [workflow] page-stages: stage 'test-mark' is listed twice" },
  { "bad-workers", "[workflow]\nname=x\nsource=test-source\nworkers=lots\n",
    "bad.workflow: [workflow] workers: 'lots' is not a number of workers from 0 (one per core) to 256" },
  { "stray-group", "[workflow]\nname=x\nsource=test-source\n[test-mark]\nfail-page=1\n",
    "bad.workflow: [test-mark]: not a stage of this workflow (add it to [workflow])" },
  { "unknown-option", "[workflow]\nname=x\nsource=test-source\n[test-source]\npagez=3\n",
    "bad.workflow: [test-source] pagez: stage 'test-source' has no option 'pagez' (its options: enabled, pages, "
    "pages-per-file, text)" },
  { "read-only-option", "[workflow]\nname=x\nsource=test-source\n[test-source]\nmax-alive=3\n",
    "bad.workflow: [test-source] max-alive: stage 'test-source' has no option 'max-alive' (its options: enabled, "
    "pages, pages-per-file, text)" },
  { "not-integer", "[workflow]\nname=x\nsource=test-source\n[test-source]\npages=many\n",
    "bad.workflow: [test-source] pages: 'many' is not a non-negative integer" },
  { "out-of-range", "[workflow]\nname=x\nsource=test-source\n[test-source]\npages-per-file=0\n",
    "bad.workflow: [test-source] pages-per-file: 0 is out of range: allowed 1 to 4294967295" },
  { "not-boolean", "[workflow]\nname=x\nsource=test-source\n[test-source]\nenabled=maybe\n",
    "bad.workflow: [test-source] enabled: 'maybe' is not a boolean (true or false)" },
  { "not-number", "[workflow]\nname=x\nsource=files\n[files]\nmax-megapixels=1e\n",
    "bad.workflow: [files] max-megapixels: '1e' is not a number" },
  { "double-range", "[workflow]\nname=x\nsource=files\n[files]\nmax-megapixels=0.5\n",
    "bad.workflow: [files] max-megapixels: 0.5 is out of range: allowed 1 to 2000" },
};

/* Every kind of bad workflow is refused before any page is touched, with the
 * file, the group and the key in the message. */
static void
test_workflow_bad(gconstpointer data)
{
  const BadWorkflow *bad = data;
  g_autoptr(CdRegistry) registry = test_registry();
  g_autoptr(GError) error = NULL;
  g_autoptr(CdWorkflow) wf = cd_workflow_new_from_data(registry, bad->data, "bad.workflow", &error);

  g_assert_null(wf);
  g_assert_error(error, CD_ERROR, CD_ERROR_WORKFLOW);
  if (bad->message != NULL)
    g_assert_cmpstr(error->message, ==, bad->message);
  else
    g_assert_true(g_str_has_prefix(error->message, "bad.workflow: "));
}

/* Workflows are found by name on the workflow path, and the shipped default
 * is valid against the shipped plugins. */
static void
test_workflow_find_default(void)
{
  g_autoptr(CdRegistry) registry = test_registry();
  g_autoptr(GError) error = NULL;
  g_autofree gchar *path = cd_workflow_find("chart-intake", &error);
  g_autoptr(CdWorkflow) wf = NULL;

  g_assert_no_error(error);
  g_assert_true(g_str_has_suffix(path, "workflows/chart-intake.workflow"));
  wf = cd_workflow_new_from_file(registry, path, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(cd_workflow_get_name(wf), ==, "chart-intake");
  g_assert_null(cd_workflow_find("no-such-workflow", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_null(cd_workflow_new_from_file(registry, "/nonexistent/x.workflow", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_WORKFLOW);
  g_assert_true(g_str_has_prefix(error->message, "/nonexistent/x.workflow: cannot read workflow"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chartdesk/workflow/good", test_workflow_good);
  g_test_add_func("/chartdesk/workflow/set-option", test_workflow_set_option);
  g_test_add_func("/chartdesk/workflow/find-default", test_workflow_find_default);
  for (guint i = 0; i < G_N_ELEMENTS(bad_workflows); i++) {
    g_autofree gchar *path = g_strdup_printf("/chartdesk/workflow/bad/%s", bad_workflows[i].name);
    g_test_add_data_func(path, &bad_workflows[i], test_workflow_bad);
  }
  return g_test_run();
}
