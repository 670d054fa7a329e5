/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The taxonomy parser on raw bytes, as a hospital's edited taxonomy.conf,
 * then every question the rest of Chartdesk asks of a taxonomy, about each
 * type it read and about labels that name none.
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
  g_autoptr(CdTaxonomy) taxonomy = NULL;
  g_autoptr(GPtrArray) types = NULL;
  const gchar *labels[] = { "Discharge Summary", "letter", "", "-", "other", NULL };

  memcpy(text, data, size);
  text[size] = '\0';
  taxonomy = cd_taxonomy_new_from_data(text, "fuzz-input", &error);
  if (taxonomy == NULL) {
    g_assert_nonnull(error);
    return 0;
  }
  types = cd_taxonomy_get_types(taxonomy, TRUE);
  g_assert_nonnull(cd_taxonomy_get_fallback(taxonomy));
  for (guint i = 0; i < types->len; i++) {
    const gchar *name = g_ptr_array_index(types, i);
    g_autofree gchar *upper = g_ascii_strup(name, -1);
    g_auto(GStrv) search = NULL;
    g_autoptr(GError) search_error = NULL;
    /* a type's own name, in any case, means that type */
    g_assert_cmpstr(cd_taxonomy_lookup(taxonomy, upper), ==, name);
    g_assert_nonnull(cd_taxonomy_get_display_name(taxonomy, name));
    cd_taxonomy_get_loinc(taxonomy, name);
    cd_taxonomy_get_description(taxonomy, name);
    cd_taxonomy_get_former_names(taxonomy, name);
    cd_taxonomy_is_retired(taxonomy, name);
    g_assert_true(cd_taxonomy_get_threshold(taxonomy, name) >= 0.0);
    search = cd_taxonomy_resolve_search(taxonomy, name, &search_error);
    g_assert_nonnull(search);
    g_assert_cmpstr(search[0], ==, name);
  }
  for (guint i = 0; labels[i] != NULL; i++) {
    g_auto(GStrv) search = NULL;
    g_autoptr(GError) search_error = NULL;
    cd_taxonomy_lookup(taxonomy, labels[i]);
    search = cd_taxonomy_resolve_search(taxonomy, labels[i], &search_error);
    g_assert_true((search == NULL) != (search_error == NULL));
  }
  return 0;
}
