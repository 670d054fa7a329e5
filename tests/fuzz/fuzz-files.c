/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The files source on raw bytes: the input is written to a file named with
 * CD_FUZZ_SUFFIX (.tif, .png, .jpg, .pdf; one target per format so each has
 * its own corpus and time) and read page by page as a batch would, every
 * page then encoded for the archive. The source tells formats by content,
 * not by name, so a mutation that turns a PNG into a TIFF is followed too.
 *
 * Pages are capped at 1 megapixel and PDFs rendered at 72 dpi: a fuzzed
 * header may claim any size, and the point is to reach every decoder path,
 * not to allocate what the default 150-megapixel limit allows on each run.
 */
#include "cd-fuzz.h"

#ifndef CD_FUZZ_SUFFIX
#error "CD_FUZZ_SUFFIX names the input's file suffix"
#endif

static CdRegistry *registry;
static GType files_type;
static gchar *input_path;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;

  cd_fuzz_init_logging();
  registry = cd_fuzz_registry((const gchar *const[]){ "files", NULL });
  files_type = cd_registry_find_stage(registry, "files", &error);
  if (files_type == G_TYPE_INVALID) {
    g_printerr("%s\n", error->message);
    return 1;
  }
  input_path = g_build_filename(cd_fuzz_tmpdir(), "input" CD_FUZZ_SUFFIX, NULL);
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdSource) source = NULL;
  const gchar *inputs[] = { input_path, NULL };
  CdPage *next;

  if (!g_file_set_contents_full(input_path, (const gchar *) data, size, G_FILE_SET_CONTENTS_NONE, 0600, &error)) {
    g_printerr("%s: %s\n", input_path, error->message);
    return 0;
  }
  source = g_object_new(files_type, "max-megapixels", 1.0, "resolution", 72, NULL);
  if (!cd_stage_start(CD_STAGE(source), &error) || !cd_source_open(source, inputs, &error)) {
    g_printerr("%s\n", error->message);
    return 0;
  }
  while ((next = cd_source_next(source, NULL, &error)) != NULL) {
    g_autoptr(CdPage) page = next;
    if (cd_page_get_kind(page) == CD_PAGE_KIND_PAGE && cd_page_get_pix(page) != NULL)
      cd_page_encode_image(page, NULL);
  }
  cd_stage_stop(CD_STAGE(source));
  return 0;
}
