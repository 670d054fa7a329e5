/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The workflow parser on raw bytes, with the stages of the plugins that do
 * not link Tesseract loaded (files, identity, classify, trained, barcode),
 * so stage names, kinds and option values are checked against real
 * GParamSpecs. A workflow that loads is then asked what the engine asks.
 * Stages are not created: options name files (models, commands) that a
 * parser test has no business opening.
 */
#include "cd-fuzz.h"

static CdRegistry *registry;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  cd_fuzz_init_logging();
  registry = cd_fuzz_registry((const gchar *const[]){ "files", "identity", "classify", "trained",
#ifdef CD_FUZZ_HAVE_BARCODE
                                                      "barcode",
#endif
                                                      NULL });
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *text = g_malloc(size + 1);
  g_autoptr(CdWorkflow) workflow = NULL;
  GPtrArray *thresholds;
  const CdStageKind kinds[] = { CD_STAGE_KIND_SOURCE,   CD_STAGE_KIND_PAGE,       CD_STAGE_KIND_SPLITTER,
                                CD_STAGE_KIND_DOCUMENT, CD_STAGE_KIND_CLASSIFIER, CD_STAGE_KIND_SINK };

  memcpy(text, data, size);
  text[size] = '\0';
  workflow = cd_workflow_new_from_data(registry, text, "fuzz-input", &error);
  if (workflow == NULL) {
    g_assert_nonnull(error);
    return 0;
  }
  g_assert_nonnull(cd_workflow_get_name(workflow));
  cd_workflow_get_description(workflow);
  cd_workflow_get_workers(workflow);
  for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
    g_autoptr(GPtrArray) names = cd_workflow_get_stage_names(workflow, kinds[i]);
    for (guint j = 0; names != NULL && j < names->len; j++)
      g_assert_true(cd_registry_find_stage(registry, g_ptr_array_index(names, j), NULL) != G_TYPE_INVALID);
  }
  thresholds = cd_workflow_get_type_threshold_names(workflow);
  for (guint i = 0; thresholds != NULL && i < thresholds->len; i++) {
    gdouble t = -1;
    g_assert_true(cd_workflow_get_type_threshold(workflow, g_ptr_array_index(thresholds, i), &t));
    g_assert_true(t >= 0.0 && t <= 1.0);
  }
  return 0;
}
