/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The text model's stored form on raw bytes, as read from an archive's
 * models table: a blob is refused with an error, or it loads, scores text
 * with probabilities that sum to 1, and saves to a blob that loads again.
 */
#include "cd-fuzz.h"

#include <math.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  cd_fuzz_init_logging();
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) bytes = g_bytes_new(data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdTextModel) model = cd_text_model_new_from_bytes(bytes, &error);
  g_autoptr(GPtrArray) scores = NULL;
  g_autoptr(GBytes) saved = NULL;
  g_autoptr(CdTextModel) again = NULL;
  g_autoptr(JsonNode) params = NULL;
  gdouble sum = 0;

  if (model == NULL) {
    g_assert_nonnull(error);
    return 0;
  }
  scores = cd_text_model_predict(model, "DISCHARGE SUMMARY: the patient was admitted with chest pain.");
  for (guint i = 0; i < scores->len; i++) {
    gdouble s = ((CdLabelScore *) g_ptr_array_index(scores, i))->score;
    g_assert_true(s >= 0 && s <= 1);
    sum += s;
  }
  g_assert_true(scores->len == 0 || fabs(sum - 1) < 1e-6);
  params = cd_text_model_get_params(model);
  g_assert_nonnull(params);
  saved = cd_text_model_to_bytes(model, &error);
  g_assert_no_error(error);
  again = cd_text_model_new_from_bytes(saved, &error);
  g_assert_no_error(error);
  g_assert_nonnull(again);
  return 0;
}
