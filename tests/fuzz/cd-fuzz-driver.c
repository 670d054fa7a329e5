/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The ordinary suite's way into a fuzz target, without libFuzzer: every
 * file of the folders named on the command line (the target's seed corpus
 * and its regression inputs, the crashes fuzzing found) becomes a GTest
 * case that feeds the file to LLVMFuzzerTestOneInput(), built with gcc as
 * the rest of the suite is (and with ASan/UBSan under scripts/test-asan).
 * A crash, a sanitizer report or a failed check in the target fails the
 * case named after its input.
 */
#include "cd-fuzz.h"

#ifndef CD_FUZZ_TARGET
#error "CD_FUZZ_TARGET names the target"
#endif

static guint n_inputs;

static void
cd_fuzz_run_input(gconstpointer data)
{
  const gchar *path = data;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *contents = NULL;
  g_autofree gchar *exact = NULL;
  gsize len = 0;

  g_assert_true(g_file_get_contents(path, &contents, &len, &error));
  g_assert_no_error(error);
  /* exactly the file's bytes, without the NUL g_file_get_contents() adds,
   * as libFuzzer passes them: a read past the end is then seen by ASan */
  exact = g_memdup2(contents, len);
  g_assert_cmpint(LLVMFuzzerTestOneInput((const uint8_t *) exact, len), ==, 0);
}

/* A corpus that went missing would make every case pass by running none. */
static void
cd_fuzz_has_inputs(void)
{
  g_assert_cmpuint(n_inputs, >, 0);
}

static gint
cd_fuzz_compare(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

/* Adds a case for each file of @dir, in name order; a folder that does not
 * exist (a target with no regression yet) adds none. */
static void
cd_fuzz_add_folder(const gchar *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  g_autofree gchar *parent = g_path_get_dirname(dir);
  g_autofree gchar *parent_base = g_path_get_basename(parent);
  const gchar *name;

  while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
    if (name[0] != '.')
      g_ptr_array_add(names, g_strdup(name));
  }
  g_ptr_array_sort(names, cd_fuzz_compare);
  for (guint i = 0; i < names->len; i++) {
    const gchar *base = g_ptr_array_index(names, i);
    g_autofree gchar *test = g_strdup_printf("/chartdesk/fuzz/%s/%s/%s", CD_FUZZ_TARGET, parent_base, base);
    g_test_add_data_func_full(test, g_build_filename(dir, base, NULL), cd_fuzz_run_input, g_free);
    n_inputs++;
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_summary("Runs the seed corpus and the regression inputs of the fuzz target " CD_FUZZ_TARGET
                 " through it, outside libFuzzer.");
  if (LLVMFuzzerInitialize(&argc, &argv) != 0)
    return 1;
  for (gint i = 1; i < argc; i++)
    cd_fuzz_add_folder(argv[i]);
  g_test_add_func("/chartdesk/fuzz/" CD_FUZZ_TARGET "/has-inputs", cd_fuzz_has_inputs);
  return g_test_run();
}
