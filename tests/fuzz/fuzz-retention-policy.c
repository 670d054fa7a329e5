/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The retention policy parser on raw bytes, as an administrator's edited
 * policy file (`chartdesk retention check`, `plan`, and the policy text a
 * plan carries to `destroy`), then the rules applied to documents of
 * adults, minors and a patient of unknown birth.
 */
#include "cd-fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  cd_fuzz_init_logging();
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *text = g_malloc(size + 1);
  g_autoptr(CdRetentionPolicy) policy = NULL;
  g_autoptr(GPtrArray) rules = NULL;
  const gchar *const types[] = { "progress-note", "operative-report", "consent-form", "discharge", NULL };
  const gchar *const dobs[] = { "1950-06-01", "2004-02-29", NULL };

  memcpy(text, data, size);
  text[size] = '\0';
  policy = cd_retention_policy_new_from_data(text, "fuzz-input", NULL, &error);
  if (policy == NULL) {
    /* every refusal names the file, and a line when it has one */
    g_assert_nonnull(error);
    g_assert_true(g_str_has_prefix(error->message, "fuzz-input:"));
    return 0;
  }
  rules = cd_retention_policy_describe(policy);
  g_assert_cmpuint(rules->len, >=, 1);
  g_assert_cmpuint(cd_retention_policy_get_majority_age(policy), >=, 1);
  g_assert_nonnull(cd_retention_policy_get_method(policy));
  for (guint t = 0; t < G_N_ELEMENTS(types); t++) {
    for (guint d = 0; d < G_N_ELEMENTS(dobs); d++) {
      g_auto(CdRetentionVerdict) v = { 0 };
      g_autoptr(GError) eval_error = NULL;
      GDate service;
      g_assert_true(
          cd_retention_policy_evaluate(policy, types[t], "2010-03-15", "2012-07-01", dobs[d], &v, &eval_error));
      g_assert_nonnull(v.why);
      if (v.permanent)
        continue;
      /* never destroyed before the last date of service */
      g_assert_true(g_date_valid(&v.keep_until));
      g_assert_true(cd_date_parse_iso("2012-07-01", &service));
      g_assert_cmpint(g_date_compare(&v.keep_until, &service), >=, 0);
    }
  }
  return 0;
}
