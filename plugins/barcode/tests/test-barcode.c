/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The barcode stage on the real cover sheet of samples/, as scanned,
 * turned, in grey at 200 dpi, and on a page without barcodes; Kodak patch
 * codes drawn at test time and on the paperless-ngx separator sheets.
 */
#include <chartdesk.h>

#include "cd-test-util.h"

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

/* Every symbol of @symbology found on @page, as payloads. */
static GPtrArray *
symbols_of(CdPage *page, const gchar *symbology, gint *orientation)
{
  g_autoptr(GVariant) symbols = cd_page_get_fact(page, "barcode.symbols");
  GPtrArray *found = g_ptr_array_new_with_free_func(g_free);

  for (gsize i = 0; symbols != NULL && i < g_variant_n_children(symbols); i++) {
    g_autoptr(GVariant) symbol = g_variant_get_child_value(symbols, i);
    const gchar *sym = NULL, *payload = NULL;
    g_assert_true(g_variant_lookup(symbol, "symbology", "&s", &sym));
    g_assert_true(g_variant_lookup(symbol, "payload", "&s", &payload));
    if (g_strcmp0(sym, symbology) != 0)
      continue;
    g_ptr_array_add(found, g_strdup(payload));
    if (orientation != NULL)
      g_assert_true(g_variant_lookup(symbol, "orientation", "i", orientation));
  }
  return found;
}

/* Draws a patch code's bars (W 5.1 mm, N 2.0 mm, spaces 2.0 mm), upright,
 * 2 inches long, from (@x, @y) on a 1-bit page at @dpi. */
static void
draw_patch(PIX *pix, const gchar *pattern, gint x, gint y, gint dpi)
{
  gdouble ppmm = dpi / 25.4;

  for (const gchar *p = pattern; *p != '\0'; p++) {
    gint w = (gint) ((*p == 'W' ? 5.1 : 2.0) * ppmm + 0.5);
    pixRasterop(pix, x, y, w, 2 * dpi, PIX_SET, NULL, 0, 0);
    x += w + (gint) (2.0 * ppmm + 0.5);
  }
}

static CdPage *
page_of(PIX *pix, gint dpi)
{
  CdPage *page = cd_page_new("drawn", 0, NULL);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, dpi, dpi);
  return page;
}

static const struct {
  const gchar *pattern;
  const gchar *payload;
} patches[] = {
  { "WWNN", "PATCH1" }, { "WNNW", "PATCH2" }, { "WNWN", "PATCH3" },
  { "NWWN", "PATCH4" }, { "NNWW", "PATCH6" }, { "NWNW", "PATCHT" },
};

/* Each of the six patch codes, drawn in the left margin of a real chart
 * page, is read with its payload and position; upside down (read from the
 * nearer edge, as a sheet fed the other way), turned a quarter, in grey at
 * 200 dpi and 2.5° askew it reads the same. */
static void
test_barcode_patch_codes(void)
{
  g_autoptr(CdPageStage) stage = make_stage();

  for (guint i = 0; i < G_N_ELEMENTS(patches); i++) {
    g_autoptr(CdPage) text = sample_page("01-discharge-progress.tif", 0, 300);
    PIX *pix = pixCopy(NULL, cd_page_get_pix(text));
    g_autoptr(CdPage) page = NULL;
    g_autoptr(CdPage) upside = NULL;
    g_autoptr(CdPage) turned = NULL;
    g_autoptr(CdPage) grey = NULL;
    g_autoptr(CdPage) skewed = NULL;
    g_autoptr(GPtrArray) found = NULL;
    g_autoptr(GVariant) symbols = NULL;
    g_autoptr(GVariant) first = NULL;
    gint x = 0, width = 0, orientation = -1;

    g_test_message("%s", patches[i].payload);
    draw_patch(pix, patches[i].pattern, 40, 900, 300);
    page = page_of(pix, 300);
    upside = page_of(pixRotate180(NULL, pix), 300);
    turned = page_of(pixRotate90(pix, 1), 300);
    grey = page_of(pixScaleToGray(pix, 2.0f / 3.0f), 200);
    /* fed 2.5° askew */
    skewed = page_of(pixRotate(pix, 2.5f * 3.14159265f / 180.0f, L_ROTATE_SAMPLING, L_BRING_IN_WHITE, 0, 0), 300);

    g_assert_true(cd_page_stage_process(stage, page, NULL, NULL));
    found = symbols_of(page, "patch", &orientation);
    g_assert_cmpuint(found->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(found, 0), ==, patches[i].payload);
    g_assert_cmpint(orientation, ==, 0);
    symbols = cd_page_get_fact(page, "barcode.symbols");
    first = g_variant_get_child_value(symbols, 0);
    g_assert_true(g_variant_lookup(first, "x", "i", &x));
    g_assert_true(g_variant_lookup(first, "width", "i", &width));
    g_assert_cmpint(ABS(x - 40), <=, 3);
    g_assert_cmpint(ABS(width - 240), <=, 6);
    g_clear_pointer(&found, g_ptr_array_unref);

    g_assert_true(cd_page_stage_process(stage, upside, NULL, NULL));
    found = symbols_of(upside, "patch", &orientation);
    g_assert_cmpuint(found->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(found, 0), ==, patches[i].payload);
    g_assert_cmpint(orientation, ==, 180);
    g_clear_pointer(&found, g_ptr_array_unref);

    g_assert_true(cd_page_stage_process(stage, turned, NULL, NULL));
    found = symbols_of(turned, "patch", &orientation);
    g_assert_cmpuint(found->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(found, 0), ==, patches[i].payload);
    g_assert_cmpint(orientation, ==, 90);
    g_clear_pointer(&found, g_ptr_array_unref);

    g_assert_true(cd_page_stage_process(stage, grey, NULL, NULL));
    found = symbols_of(grey, "patch", NULL);
    g_assert_cmpuint(found->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(found, 0), ==, patches[i].payload);
    g_clear_pointer(&found, g_ptr_array_unref);

    g_assert_true(cd_page_stage_process(stage, skewed, NULL, NULL));
    found = symbols_of(skewed, "patch", NULL);
    g_assert_cmpuint(found->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(found, 0), ==, patches[i].payload);
  }
}

/* A fax at 200 × 98 dpi (pixels twice as tall as wide) reads patch 2 with
 * bars along and across the feed: the page is made square first. */
static void
test_barcode_patch_fax(void)
{
  g_autoptr(CdPageStage) stage = make_stage();

  for (guint turn = 0; turn < 2; turn++) {
    g_autoptr(PIX) square = pixCreate(1700, 2200, 1);
    g_autoptr(PIX) drawn = NULL;
    g_autoptr(CdPage) page = NULL;
    g_autoptr(GPtrArray) found = NULL;
    gint orientation = -1;

    draw_patch(square, "WNNW", 30, 600, 200);
    drawn = turn == 0 ? pixClone(square) : pixRotate90(square, 1);
    page = cd_page_new("fax", 0, NULL);
    cd_page_set_pix(page, pixScale(drawn, 1.0f, 98.0f / 200.0f));
    cd_page_set_resolution(page, 200, 98);
    g_assert_true(cd_page_stage_process(stage, page, NULL, NULL));
    found = symbols_of(page, "patch", &orientation);
    g_assert_cmpuint(found->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(found, 0), ==, "PATCH2");
    g_assert_cmpint(orientation, ==, turn == 0 ? 0 : 90);
  }
}

/* Look-alikes are not patch codes: five bars in a row, bars too short, all
 * bars the same width; and patch-codes=false turns the detector off. */
static void
test_barcode_patch_lookalikes(void)
{
  g_autoptr(CdPageStage) stage = make_stage();
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "barcode", &error);
  g_autoptr(CdPageStage) off = g_object_new(type, "patch-codes", FALSE, NULL);
  const gchar *lookalikes[] = { "NWNWN", "NNNN", "WWWW", NULL };
  g_autoptr(PIX) shortbars = pixCreate(2550, 3300, 1);
  g_autoptr(CdPage) page = NULL;
  g_autoptr(GPtrArray) found = NULL;

  for (guint i = 0; lookalikes[i] != NULL; i++) {
    PIX *pix = pixCreate(2550, 3300, 1);
    g_autoptr(CdPage) drawn = NULL;
    g_autoptr(GPtrArray) none = NULL;
    draw_patch(pix, lookalikes[i], 40, 900, 300);
    drawn = page_of(pix, 300);
    g_assert_true(cd_page_stage_process(stage, drawn, NULL, NULL));
    none = symbols_of(drawn, "patch", NULL);
    g_assert_cmpuint(none->len, ==, 0);
  }

  /* bars 10 mm long: a table or a logo, not a patch */
  {
    gdouble ppmm = 300 / 25.4;
    gint x = 40;
    for (const gchar *p = "NWNW"; *p != '\0'; p++) {
      gint w = (gint) ((*p == 'W' ? 5.1 : 2.0) * ppmm + 0.5);
      pixRasterop(shortbars, x, 900, w, (gint) (10 * ppmm), PIX_SET, NULL, 0, 0);
      x += w + (gint) (2.0 * ppmm + 0.5);
    }
  }
  page = page_of(pixClone(shortbars), 300);
  g_assert_true(cd_page_stage_process(stage, page, NULL, NULL));
  found = symbols_of(page, "patch", NULL);
  g_assert_cmpuint(found->len, ==, 0);
  g_clear_pointer(&found, g_ptr_array_unref);
  g_clear_object(&page);

  draw_patch(shortbars, "NWNW", 40, 1500, 300);
  page = page_of(pixClone(shortbars), 300);
  g_assert_true(cd_stage_start(CD_STAGE(off), &error));
  g_assert_true(cd_page_stage_process(off, page, NULL, NULL));
  found = symbols_of(page, "patch", NULL);
  g_assert_cmpuint(found->len, ==, 0);
  g_clear_pointer(&found, g_ptr_array_unref);
  g_assert_true(cd_page_stage_process(stage, page, NULL, NULL));
  found = symbols_of(page, "patch", NULL);
  g_assert_cmpuint(found->len, ==, 1);
}

/* Page @index of a PDF, as the files source renders it (300 dpi). */
static CdPage *
pdf_page(const gchar *path, gint index)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "files", &error);
  g_autoptr(CdSource) source = g_object_new(type, NULL);
  const gchar *inputs[] = { path, NULL };
  CdPage *page = NULL;

  g_assert_true(cd_source_open(source, inputs, &error));
  for (gint i = 0; i <= index; i++) {
    g_clear_object(&page);
    page = cd_source_next(source, NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(page);
  }
  cd_stage_stop(CD_STAGE(source));
  return page;
}

/* The real Kodak patch T sheet (paperless-ngx samples: as printed, and
 * faxed in G4) is read as PATCHT on all four sides, with zbar's Code 39
 * turned off so that only the bars speak. */
static void
test_barcode_patch_sheets(void)
{
  const struct {
    const gchar *file;
    gint page;
  } sheets[] = { { "patch-code-t.pdf", 0 }, { "barcode-fax-image.pdf", 1 }, { "patch-code-t-middle.tiff", 1 } };
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "barcode", &error);
  g_autoptr(CdPageStage) stage = g_object_new(type, "symbologies", (const gchar *const[]){ "ean13", NULL }, NULL);

  g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
  for (guint i = 0; i < G_N_ELEMENTS(sheets); i++) {
    g_autofree gchar *rel = g_build_filename("paperless-ngx", "barcodes", sheets[i].file, NULL);
    g_autofree gchar *path = cd_test_shared_data(rel);
    g_autoptr(CdPage) page = NULL;
    g_autoptr(GPtrArray) found = NULL;

    if (path == NULL)
      return;
    page = pdf_page(path, sheets[i].page);
    g_assert_true(cd_page_stage_process(stage, page, NULL, &error));
    g_assert_no_error(error);
    found = symbols_of(page, "patch", NULL);
    g_test_message("%s: %u patch codes", sheets[i].file, found->len);
    g_assert_cmpuint(found->len, ==, 4);
    for (guint k = 0; k < found->len; k++)
      g_assert_cmpstr(g_ptr_array_index(found, k), ==, "PATCHT");
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);
  g_test_add_func("/chartdesk/barcode/cover-sheet", test_barcode_cover_sheet);
  g_test_add_func("/chartdesk/barcode/turned-and-grey", test_barcode_turned_and_grey);
  g_test_add_func("/chartdesk/barcode/none", test_barcode_none);
  g_test_add_func("/chartdesk/barcode/bad-symbology", test_barcode_bad_symbology);
  g_test_add_func("/chartdesk/barcode/patch-codes", test_barcode_patch_codes);
  g_test_add_func("/chartdesk/barcode/patch-fax", test_barcode_patch_fax);
  g_test_add_func("/chartdesk/barcode/patch-lookalikes", test_barcode_patch_lookalikes);
  g_test_add_func("/chartdesk/barcode/patch-sheets", test_barcode_patch_sheets);
  return g_test_run();
}
