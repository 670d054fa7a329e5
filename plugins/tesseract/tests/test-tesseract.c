/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <chartdesk.h>
#include <glib/gstdio.h>

#include "cd-test-util.h"

static CdRegistry *registry;

static CdPageStage *
make_stage(const gchar *first_prop, ...)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "tesseract", &error);
  CdPageStage *stage;
  va_list args;

  g_assert_no_error(error);
  va_start(args, first_prop);
  stage = CD_PAGE_STAGE(g_object_new_valist(type, first_prop, args));
  va_end(args);
  return stage;
}

/* A page of the public test material at @dpi, or %NULL (the test is then
 * skipped) in a clone without it. */
static CdPage *
load_page(const gchar *relative, gint dpi)
{
  g_autofree gchar *path = cd_test_shared_data(relative);
  CdPage *page;
  PIX *pix;

  if (path == NULL)
    return NULL;
  page = cd_page_new(path, 0, NULL);
  pix = pixRead(path);
  g_assert_nonnull(pix);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, dpi, dpi);
  return page;
}

static gboolean
has_word(CdPage *page, const gchar *text)
{
  GPtrArray *words = cd_page_get_words(page);
  for (guint i = 0; i < words->len; i++) {
    CdWord *w = g_ptr_array_index(words, i);
    if (g_strcmp0(w->text, text) == 0)
      return TRUE;
  }
  return FALSE;
}

/* A clean page is read with its words, boxes on the page, confidences and
 * line numbers, and a high mean confidence. */
static void
test_tesseract_phototest(void)
{
  g_autoptr(CdPageStage) stage = make_stage(NULL, NULL);
  g_autoptr(CdPage) page = load_page("tesseract-ocr-test/testing/phototest.tif", 200);
  g_autoptr(GError) error = NULL;
  GPtrArray *words;
  PIX *pix;
  guint last_line = 0;

  if (page == NULL)
    return;
  pix = cd_page_get_pix(page);
  g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_no_error(error);
  g_assert_true(cd_page_stage_process(stage, page, NULL, &error));
  g_assert_no_error(error);
  g_assert_nonnull(strstr(cd_page_get_text(page), "The quick brown dog jumped"));
  g_assert_cmpfloat(cd_page_get_confidence(page), >, 85);
  words = cd_page_get_words(page);
  g_assert_cmpuint(words->len, >, 50);
  g_assert_true(has_word(page, "quick"));
  for (guint i = 0; i < words->len; i++) {
    CdWord *w = g_ptr_array_index(words, i);
    g_assert_cmpint(w->x, >=, 0);
    g_assert_cmpint(w->y, >=, 0);
    g_assert_cmpint(w->x + w->width, <=, pixGetWidth(pix));
    g_assert_cmpint(w->y + w->height, <=, pixGetHeight(pix));
    g_assert_cmpfloat(w->confidence, >=, 0);
    g_assert_cmpfloat(w->confidence, <=, 100);
    g_assert_cmpuint(w->line, >=, last_line);
    last_line = w->line;
  }
  g_assert_cmpuint(last_line, >=, 5);
}

/* One engine serves page after page (the per-worker handle is reused), and
 * the second page's words do not carry over the first's. */
static void
test_tesseract_reuse(void)
{
  g_autoptr(CdPageStage) stage = make_stage(NULL, NULL);
  g_autoptr(CdPage) first = load_page("tesseract-ocr-test/testing/phototest.tif", 200);
  g_autoptr(CdPage) second = load_page("tesseract-ocr-test/testing/eurotext.tif", 300);
  g_autoptr(GError) error = NULL;

  if (first == NULL || second == NULL)
    return;
  g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_true(cd_page_stage_process(stage, first, NULL, &error));
  g_assert_true(cd_page_stage_process(stage, second, NULL, &error));
  g_assert_no_error(error);
  g_assert_false(has_word(second, "quick") && has_word(second, "dog") && has_word(second, "12"));
  g_assert_nonnull(strstr(cd_page_get_text(second), "(quick) [brown] {fox} jumps!"));
}

/* A page finer than max-dpi is recognised downsampled, and its word boxes
 * are scaled back onto the stored image. */
static void
test_tesseract_max_dpi(void)
{
  g_autoptr(CdPageStage) stage = make_stage("max-dpi", 200, NULL);
  g_autoptr(CdPage) page = load_page("tesseract-ocr-test/testing/phototest.tif", 200);
  g_autoptr(GError) error = NULL;
  PIX *big;
  gint max_right = 0;
  GPtrArray *words;

  if (page == NULL)
    return;
  big = pixScale(cd_page_get_pix(page), 2.0, 2.0);
  cd_page_set_pix(page, big);
  cd_page_set_resolution(page, 400, 400);
  g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_true(cd_page_stage_process(stage, page, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(has_word(page, "quick"));
  words = cd_page_get_words(page);
  for (guint i = 0; i < words->len; i++) {
    CdWord *w = g_ptr_array_index(words, i);
    max_right = MAX(max_right, w->x + w->width);
  }
  /* the text spans most of the doubled page, not just its left half */
  g_assert_cmpint(max_right, >, pixGetWidth(big) * 3 / 4);
  g_assert_cmpint(max_right, <=, pixGetWidth(big));
}

/* A language whose data is not installed stops the stage at start, with a
 * message that says what to install. */
static void
test_tesseract_missing_language(void)
{
  g_autoptr(CdPageStage) stage = make_stage("language", "xyz", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "cannot load Tesseract language 'xyz'"));
  g_assert_nonnull(strstr(error->message, "tesseract-ocr-xyz"));
}

/* A page as the files source reads it from @path. */
static CdPage *
file_page(const gchar *path)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "files", &error);
  g_autoptr(CdSource) source = NULL;
  const gchar *inputs[] = { path, NULL };
  CdPage *page;

  g_assert_no_error(error);
  source = CD_SOURCE(g_object_new(type, NULL));
  g_assert_true(cd_stage_start(CD_STAGE(source), &error));
  g_assert_true(cd_source_open(source, inputs, &error));
  g_assert_no_error(error);
  page = cd_source_next(source, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(page);
  return page;
}

/* A page without a resolution tag is read at the resolution its letters'
 * height gives, recorded on the page, not at an assumed 300 dpi: the
 * 200 dpi laboratory fax of the samples saved untagged, and a real FUNSD
 * form (about 100 dpi, shipped untagged). */
static void
test_tesseract_untagged_resolution(void)
{
  g_autoptr(CdPageStage) stage = make_stage(NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *sample = g_test_build_filename(G_TEST_DIST, "samples", "05-lab-fax-200dpi.tif", NULL);
  g_autofree gchar *dir = g_dir_make_tmp("cd-tesseract-XXXXXX", &error);
  g_autofree gchar *untagged = g_build_filename(dir, "lab.png", NULL);
  const gchar *root = g_getenv("CD_SHARED_DATA");
  g_autofree gchar *form = root != NULL ? g_build_filename(root, "funsd/testing_data/images/82092117.png", NULL) : NULL;
  g_autoptr(PIX) pix = pixReadTiff(sample, 0);
  g_autoptr(CdPage) page = NULL;
  g_autoptr(GVariant) estimated = NULL;
  gint xres = 0, yres = 0;

  g_assert_no_error(error);
  g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_nonnull(pix);
  pixSetXRes(pix, 0); /* pixSetResolution() leaves a 0 unset */
  pixSetYRes(pix, 0);
  g_assert_cmpint(pixWrite(untagged, pix, IFF_PNG), ==, 0);
  page = file_page(untagged);
  g_assert_true(cd_page_stage_process(stage, page, NULL, &error));
  g_assert_no_error(error);
  cd_page_get_resolution(page, &xres, &yres);
  g_test_message("200 dpi fax saved untagged: read at %d dpi", xres);
  g_assert_cmpint(xres, >=, 160);
  g_assert_cmpint(xres, <=, 240);
  estimated = cd_page_get_fact(page, "resolution.estimated");
  g_assert_nonnull(estimated);
  g_assert_cmpint(g_variant_get_int32(estimated), ==, xres);
  g_assert_true(has_word(page, "LABORATORY") || has_word(page, "Laboratory"));
  g_unlink(untagged);
  g_rmdir(dir);

  if (form == NULL || !g_file_test(form, G_FILE_TEST_EXISTS)) {
    g_test_skip("FUNSD (../shared/data/funsd) not found: the real form is not read");
    return;
  }
  {
    g_autoptr(CdPage) real = file_page(form);
    g_assert_true(cd_page_stage_process(stage, real, NULL, &error));
    g_assert_no_error(error);
    cd_page_get_resolution(real, &xres, &yres);
    g_test_message("FUNSD form 82092117: read at %d dpi", xres);
    g_assert_cmpint(xres, >=, 60);
    g_assert_cmpint(xres, <=, 150);
  }
}

/* A cancelled batch stops recognition and says so. */
static void
test_tesseract_cancelled(void)
{
  g_autoptr(CdPageStage) stage = make_stage(NULL, NULL);
  g_autoptr(CdPage) page = load_page("tesseract-ocr-test/testing/phototest.tif", 200);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(GError) error = NULL;

  if (page == NULL)
    return;
  g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
  g_cancellable_cancel(cancellable);
  g_assert_false(cd_page_stage_process(stage, page, cancellable, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null(cd_page_get_text(page));
}

int
main(int argc, char **argv)
{
  gint rc;

  g_test_init(&argc, &argv, NULL);
  registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);
  g_test_add_func("/chartdesk/tesseract/phototest", test_tesseract_phototest);
  g_test_add_func("/chartdesk/tesseract/reuse", test_tesseract_reuse);
  g_test_add_func("/chartdesk/tesseract/max-dpi", test_tesseract_max_dpi);
  g_test_add_func("/chartdesk/tesseract/missing-language", test_tesseract_missing_language);
  g_test_add_func("/chartdesk/tesseract/cancelled", test_tesseract_cancelled);
  g_test_add_func("/chartdesk/tesseract/untagged-resolution", test_tesseract_untagged_resolution);
  rc = g_test_run();
  g_object_unref(registry);
  return rc;
}
