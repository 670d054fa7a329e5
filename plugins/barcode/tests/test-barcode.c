/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The barcode stage on the real cover sheet of samples/, as scanned,
 * turned, in grey at 200 dpi, and on a page without barcodes.
 */
#include <chartdesk.h>

static CdRegistry *registry;

static CdPageStage *
make_stage(void)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "barcode", &error);
  CdPageStage *stage;

  g_assert_no_error(error);
  stage = g_object_new(type, NULL);
  g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_no_error(error);
  return stage;
}

static CdPage *
sample_page(const gchar *name, gint index, gint dpi)
{
  g_autofree gchar *path = g_test_build_filename(G_TEST_DIST, "samples", name, NULL);
  CdPage *page = cd_page_new(path, index, NULL);
  PIX *pix = pixReadTiff(path, index);

  g_assert_nonnull(pix);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, dpi, dpi);
  return page;
}

/* The payload of the only barcode found, or NULL if none. */
static gchar *
decode(CdPageStage *stage, CdPage *page, gchar **symbology)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) symbols = NULL;
  g_autoptr(GVariant) first = NULL;
  gchar *payload = NULL;

  g_assert_true(cd_page_stage_process(stage, page, NULL, &error));
  g_assert_no_error(error);
  symbols = cd_page_get_fact(page, "barcode.symbols");
  if (symbols == NULL)
    return NULL;
  g_assert_cmpuint(g_variant_n_children(symbols), ==, 1);
  first = g_variant_get_child_value(symbols, 0);
  g_assert_true(g_variant_lookup(first, "payload", "s", &payload));
  if (symbology != NULL)
    g_assert_true(g_variant_lookup(first, "symbology", "s", symbology));
  return payload;
}

static gchar *
cover_mrn(void)
{
  g_autofree gchar *truth = g_test_build_filename(G_TEST_DIST, "samples", "ground-truth.jsonl", NULL);
  g_autofree gchar *text = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_true(g_file_get_contents(truth, &text, NULL, NULL));
  lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr(JsonNode) node = json_from_string(lines[i], NULL);
    JsonObject *o = node != NULL ? json_node_get_object(node) : NULL;
    if (o != NULL && g_strcmp0(json_object_get_string_member(o, "kind"), "cover") == 0)
      return g_strdup_printf("MRN%s", json_object_get_string_member(o, "patient_mrn"));
  }
  g_assert_not_reached();
}

static void
test_barcode_cover_sheet(void)
{
  g_autoptr(CdPageStage) stage = make_stage();
  g_autoptr(CdPage) page = sample_page("02-cover-operative.tif", 0, 300);
  g_autofree gchar *want = cover_mrn();
  g_autofree gchar *symbology = NULL;
  g_autofree gchar *payload = decode(stage, page, &symbology);

  g_assert_cmpstr(payload, ==, want);
  g_assert_cmpstr(symbology, ==, "CODE-39");
}

/* Turned a quarter, and in grey at 200 dpi: still read. */
static void
test_barcode_turned_and_grey(void)
{
  g_autoptr(CdPageStage) stage = make_stage();
  g_autoptr(CdPage) page = sample_page("02-cover-operative.tif", 0, 300);
  g_autoptr(CdPage) turned = cd_page_new("x", 0, NULL);
  g_autoptr(CdPage) grey = cd_page_new("x", 0, NULL);
  g_autofree gchar *want = cover_mrn();
  g_autofree gchar *a = NULL;
  g_autofree gchar *b = NULL;

  cd_page_set_pix(turned, pixRotate90(cd_page_get_pix(page), 1));
  cd_page_set_resolution(turned, 300, 300);
  a = decode(stage, turned, NULL);
  g_assert_cmpstr(a, ==, want);
  cd_page_set_pix(grey, pixScaleToGray(cd_page_get_pix(page), 2.0f / 3.0f));
  cd_page_set_resolution(grey, 200, 200);
  b = decode(stage, grey, NULL);
  g_assert_cmpstr(b, ==, want);
}

static void
test_barcode_none(void)
{
  g_autoptr(CdPageStage) stage = make_stage();
  g_autoptr(CdPage) page = sample_page("01-discharge-progress.tif", 0, 300);
  g_autofree gchar *payload = decode(stage, page, NULL);

  g_assert_null(payload);
}

static void
test_barcode_bad_symbology(void)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "barcode", &error);
  g_autoptr(CdStage) stage = g_object_new(type, "symbologies", (const gchar *const[]){ "code39", "morse", NULL }, NULL);

  g_assert_false(cd_stage_start(stage, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_WORKFLOW);
  g_assert_nonnull(strstr(error->message, "'morse' is not one of"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);
  g_test_add_func("/barcode/cover-sheet", test_barcode_cover_sheet);
  g_test_add_func("/barcode/turned-and-grey", test_barcode_turned_and_grey);
  g_test_add_func("/barcode/none", test_barcode_none);
  g_test_add_func("/barcode/bad-symbology", test_barcode_bad_symbology);
  return g_test_run();
}
