/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The document taxonomy: the shipped file, and a hospital's edits to it.
 */
#include "cd-engine.h"

/* The shipped taxonomy has the fourteen types of the design, in order,
 * with LOINC document codes where one fits and `other` as the fallback. */
static void
test_taxonomy_shipped(void)
{
  const gchar *expect[] = { "discharge-summary", "history-physical",
                            "progress-note",     "operative-report",
                            "consultation",      "radiology-report",
                            "laboratory-report", "pathology-report",
                            "emergency-record",  "nursing-note",
                            "medication-record", "consent-form",
                            "correspondence",    "other" };
  g_autoptr(GError) error = NULL;
  g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_default(&error);
  g_autoptr(GPtrArray) types = NULL;

  g_assert_no_error(error);
  types = cd_taxonomy_get_types(taxonomy, FALSE);
  g_assert_cmpuint(types->len, ==, G_N_ELEMENTS(expect));
  for (guint i = 0; i < types->len; i++)
    g_assert_cmpstr(g_ptr_array_index(types, i), ==, expect[i]);
  g_assert_cmpstr(cd_taxonomy_get_loinc(taxonomy, "discharge-summary"), ==, "18842-5");
  g_assert_cmpstr(cd_taxonomy_get_loinc(taxonomy, "consent-form"), ==, "59284-0");
  g_assert_null(cd_taxonomy_get_loinc(taxonomy, "other"));
  g_assert_cmpstr(cd_taxonomy_get_display_name(taxonomy, "history-physical"), ==, "History and physical");
  g_assert_cmpstr(cd_taxonomy_get_fallback(taxonomy), ==, "other");
  g_assert_cmpfloat(cd_taxonomy_get_threshold(taxonomy, "consent-form"), ==, 0.7);
  g_assert_cmpfloat(cd_taxonomy_get_threshold(taxonomy, "progress-note"), ==, 0.5);
  g_assert_cmpstr(cd_taxonomy_lookup(taxonomy, "H&P"), ==, "history-physical");
  g_assert_cmpstr(cd_taxonomy_lookup(taxonomy, "Discharge  Summary"), ==, "discharge-summary");
  g_assert_cmpstr(cd_taxonomy_lookup(taxonomy, "laboratory_report"), ==, "laboratory-report");
  g_assert_null(cd_taxonomy_lookup(taxonomy, "invoice"));
}

/* A hospital adds a type, renames one (the old name leads to the new)
 * and retires one (still known, never assigned), without code. */
static void
test_taxonomy_edits(void)
{
  const gchar *data = "[taxonomy]\ndefault-threshold=0.4\nfallback=misc\n"
                      "[anaesthesia-record]\nname=Anaesthesia record\nloinc=11485-0\nthreshold=0.8\n"
                      "[discharge-letter]\nrenamed-from=discharge-summary;discharge\n"
                      "[nursing-note]\nretired=true\n"
                      "[misc]\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_from_data(data, "hospital.conf", &error);
  g_autoptr(GPtrArray) active = NULL;
  g_autoptr(GPtrArray) all = NULL;

  g_assert_no_error(error);
  active = cd_taxonomy_get_types(taxonomy, FALSE);
  all = cd_taxonomy_get_types(taxonomy, TRUE);
  g_assert_cmpuint(active->len, ==, 3);
  g_assert_cmpuint(all->len, ==, 4);
  g_assert_cmpstr(cd_taxonomy_lookup(taxonomy, "discharge-summary"), ==, "discharge-letter");
  g_assert_cmpstr(cd_taxonomy_lookup(taxonomy, "Discharge"), ==, "discharge-letter");
  g_assert_cmpstr(cd_taxonomy_lookup(taxonomy, "nursing-note"), ==, "nursing-note");
  g_assert_true(cd_taxonomy_is_retired(taxonomy, "nursing-note"));
  g_assert_false(cd_taxonomy_is_retired(taxonomy, "misc"));
  g_assert_cmpfloat(cd_taxonomy_get_threshold(taxonomy, "anaesthesia-record"), ==, 0.8);
  g_assert_cmpfloat(cd_taxonomy_get_threshold(taxonomy, "misc"), ==, 0.4);
  g_assert_cmpstr(cd_taxonomy_get_display_name(taxonomy, "misc"), ==, "misc");
  g_assert_cmpstr(cd_taxonomy_get_fallback(taxonomy), ==, "misc");
}

/* A search by type finds the type under its current and former names,
 * whichever of its names is asked for; a label that means no type is a
 * query error listing every known type, retired ones included. */
static void
test_taxonomy_search(void)
{
  const gchar *data = "[discharge-letter]\naliases=dl\nrenamed-from=discharge-summary;Discharge\n"
                      "[nursing-note]\nretired=true\n[other]\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_from_data(data, "hospital.conf", &error);
  g_auto(GStrv) by_alias = NULL;
  g_auto(GStrv) by_former = NULL;
  g_auto(GStrv) retired = NULL;
  g_auto(GStrv) unknown = NULL;
  const gchar *expect[] = { "discharge-letter", "discharge-summary", "discharge", NULL };

  g_assert_no_error(error);
  g_assert_cmpstrv(cd_taxonomy_get_former_names(taxonomy, "discharge-letter"), expect + 1);
  g_assert_null(cd_taxonomy_get_former_names(taxonomy, "dl"));
  by_alias = cd_taxonomy_resolve_search(taxonomy, "DL", &error);
  g_assert_no_error(error);
  g_assert_cmpstrv(by_alias, expect);
  by_former = cd_taxonomy_resolve_search(taxonomy, "discharge summary", &error);
  g_assert_no_error(error);
  g_assert_cmpstrv(by_former, expect);
  retired = cd_taxonomy_resolve_search(taxonomy, "nursing-note", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(retired[0], ==, "nursing-note");
  g_assert_null(retired[1]);
  unknown = cd_taxonomy_resolve_search(taxonomy, "memo", &error);
  g_assert_null(unknown);
  g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
  g_assert_cmpstr(error->message, ==,
                  "unknown document type 'memo' (known types: discharge-letter, nursing-note, other)");
}

/* Mistakes in a taxonomy file are refused with the file, group and key. */
static void
test_taxonomy_bad(void)
{
  const struct {
    const gchar *data;
    const gchar *message;
  } cases[] = {
    { "[a]\naliases=x\n[b]\naliases=x\n[other]\n", "t.conf: [b] aliases: 'x' already means 'a'" },
    { "[a]\n[b]\nrenamed-from=a\n[other]\n", "t.conf: [b] renamed-from: 'a' already means 'a'" },
    { "[Big Type]\n[other]\n",
      "t.conf: [Big Type]: a type's name is lowercase letters and digits, words joined by single hyphens" },
    /* found by fuzzing: `HISTORY-` did not find the type `history-` */
    { "[history-]\n[other]\n",
      "t.conf: [history-]: a type's name is lowercase letters and digits, words joined by single hyphens" },
    { "[x--ray]\n[other]\n",
      "t.conf: [x--ray]: a type's name is lowercase letters and digits, words joined by single hyphens" },
    { "[a]\n", "t.conf: [taxonomy] fallback: 'other' is not a type of the taxonomy in use" },
    { "[a]\n[other]\nretired=true\n", "t.conf: [taxonomy] fallback: 'other' is not a type of the taxonomy in use" },
    { "[a]\nthreshold=1.5\n[other]\n", "t.conf: [a] threshold: '1.5' is not a number from 0 to 1" },
    { "[taxonomy]\nfallback=x\n", "t.conf: no document types" },
    { "[a]\nretired=maybe\n[other]\n", "t.conf: [a] retired: not true or false" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_from_data(cases[i].data, "t.conf", &error);
    g_assert_null(taxonomy);
    g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
    g_assert_cmpstr(error->message, ==, cases[i].message);
  }
}

/* CHARTDESK_TAXONOMY names the file in use; a missing one is an error. */
static void
test_taxonomy_find(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *path = NULL;

  g_setenv("CHARTDESK_TAXONOMY", "/nonexistent/taxonomy.conf", TRUE);
  path = cd_taxonomy_find(&error);
  g_assert_null(path);
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "/nonexistent/taxonomy.conf (CHARTDESK_TAXONOMY): no such file");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chartdesk/taxonomy/shipped", test_taxonomy_shipped);
  g_test_add_func("/chartdesk/taxonomy/edits", test_taxonomy_edits);
  g_test_add_func("/chartdesk/taxonomy/search", test_taxonomy_search);
  g_test_add_func("/chartdesk/taxonomy/bad", test_taxonomy_bad);
  g_test_add_func("/chartdesk/taxonomy/find", test_taxonomy_find);
  return g_test_run();
}
