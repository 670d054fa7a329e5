/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * CdPdfWriter: the files it writes, read back by qpdf and poppler's tools.
 */
#include "config.h"

#include <chartdesk.h>
#include <string.h>

#include "cd-test-util.h"

/* Runs @argv and returns its standard output; the test fails if it does not
 * exit 0. */
static gchar *
run_tool(const gchar *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  gint status = 0;

  g_spawn_sync(NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error(error);
  if (!g_spawn_check_wait_status(status, NULL))
    g_test_message("%s: %s%s", argv[0], out, err);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  return g_steal_pointer(&out);
}

/* Whether @needle occurs in the binary @data. */
static gboolean
has_bytes(const gchar *data, gsize len, const gchar *needle)
{
  gsize n = strlen(needle);
  for (gsize i = 0; i + n <= len; i++) {
    if (memcmp(data + i, needle, n) == 0)
      return TRUE;
  }
  return FALSE;
}

static gboolean
have_tools(void)
{
  static const gchar *const tools[] = { "qpdf", "pdftotext", "pdfinfo", "pdftoppm", NULL };
  for (guint i = 0; tools[i] != NULL; i++) {
    g_autofree gchar *path = g_find_program_in_path(tools[i]);
    if (path == NULL) {
      g_autofree gchar *msg =
          g_strdup_printf("%s not installed (scripts/install-deps installs qpdf and poppler-utils)", tools[i]);
      g_test_skip(msg);
      return FALSE;
    }
  }
  return TRUE;
}

/* A white page of @w×@h pixels at @depth bits (1 or 8), encoded as the
 * archive stores it (TIFF G4 or JPEG). */
static GBytes *
blank_image(gint w, gint h, gint depth, gint dpi)
{
  g_autoptr(PIX) pix = pixCreate(w, h, depth);
  l_uint8 *data = NULL;
  size_t size = 0;

  if (depth == 8)
    pixSetAllArbitrary(pix, 255);
  /* some ink, so the image is not empty */
  pixRasterop(pix, 50, 50, 200, 10, depth == 1 ? PIX_SET : PIX_CLR, NULL, 0, 0);
  pixSetResolution(pix, dpi, dpi);
  if (depth == 1)
    g_assert_cmpint(pixWriteMemTiff(&data, &size, pix, IFF_TIFF_G4), ==, 0);
  else
    g_assert_cmpint(pixWriteMemJpeg(&data, &size, pix, 85, 0), ==, 0);
  return g_bytes_new_with_free_func(data, size, (GDestroyNotify) lept_free, data);
}

static GPtrArray *
make_words(void)
{
  GPtrArray *words = g_ptr_array_new_with_free_func((GDestroyNotify) cd_word_free);
  g_ptr_array_add(words, cd_word_new("Discharge", 100, 100, 180, 30, 95, 0));
  g_ptr_array_add(words, cd_word_new("summary", 300, 100, 150, 30, 95, 0));
  g_ptr_array_add(words, cd_word_new("Bérénice", 100, 200, 170, 30, 95, 1));
  g_ptr_array_add(words, cd_word_new("Zanzibarite", 300, 200, 200, 30, 95, 1));
  g_ptr_array_add(words, cd_word_new("follow-up", 100, 300, 180, 30, 95, 2));
  return words;
}

static void
box_unref(BOX *box)
{
  boxDestroy(&box);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BOX, box_unref)

/* Mean grey (0 black … 255 white) of a rectangle of page @page of @pdf
 * rendered at @dpi. */
static gdouble
rendered_mean(const gchar *dir, const gchar *pdf, gint page, gint dpi, gint x, gint y, gint w, gint h)
{
  g_autofree gchar *prefix = g_build_filename(dir, "render", NULL);
  g_autofree gchar *pg = g_strdup_printf("%d", page);
  g_autofree gchar *res = g_strdup_printf("%d", dpi);
  const gchar *argv[] = { "pdftoppm", "-gray", "-r", res, "-f", pg, "-l", pg, "-singlefile", pdf, prefix, NULL };
  g_autofree gchar *out = run_tool(argv);
  g_autofree gchar *pgm = g_strconcat(prefix, ".pgm", NULL);
  g_autoptr(PIX) pix = pixRead(pgm);
  g_autoptr(BOX) box = boxCreate(x, y, w, h);
  g_autoptr(PIX) clip = NULL;
  l_float32 mean = -1;

  g_assert_nonnull(pix);
  clip = pixClipRectangle(pix, box, NULL);
  g_assert_nonnull(clip);
  g_assert_cmpint(pixGetAverageMasked(clip, NULL, 0, 0, 1, L_MEAN_ABSVAL, &mean), ==, 0);
  g_unlink(pgm);
  return mean;
}

/* A bilevel page and a JPEG page with word boxes make a PDF that qpdf
 * finds sound, that declares PDF/A-2b in its XMP, whose pages have the
 * images' size at their dpi, whose text pdftotext finds, and whose images
 * stayed CCITT G4 and JPEG. */
static void
test_pdf_writer_image_pages(void)
{
  g_autofree gchar *dir = g_dir_make_tmp("cd-pdf-XXXXXX", NULL);
  g_autofree gchar *pdf = g_build_filename(dir, "out.pdf", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPdfWriter) writer = NULL;
  g_autoptr(GBytes) g4 = blank_image(850, 1100, 1, 100);
  g_autoptr(GBytes) jpeg = blank_image(1275, 1650, 8, 150);
  g_autoptr(GPtrArray) words = make_words();
  g_autoptr(GDateTime) when = g_date_time_new_utc(2026, 12, 2, 10, 30, 0);
  g_autofree gchar *check = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *info = NULL;
  g_autofree gchar *meta = NULL;
  g_autofree gchar *raw = NULL;
  gsize raw_len = 0;

  if (!have_tools())
    return;
  writer = cd_pdf_writer_new(&error);
  g_assert_no_error(error);
  cd_pdf_writer_set_title(writer, "Discharge summary — Bérénice Ng");
  cd_pdf_writer_set_subject(writer, "MRN 100234; discharge-summary;\x01 2026-11-30");
  cd_pdf_writer_set_keywords(writer, "discharge-summary, 100234");
  cd_pdf_writer_set_creation_date(writer, when);
  g_assert_true(cd_pdf_writer_add_image_page(writer, g4, 0, 0, words, NULL, 0, &error));
  g_assert_no_error(error);
  g_assert_true(cd_pdf_writer_add_image_page(writer, jpeg, 150, 150, words, NULL, 0, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(cd_pdf_writer_get_n_pages(writer), ==, 2);
  g_assert_true(cd_pdf_writer_save(writer, pdf, &error));
  g_assert_no_error(error);

  {
    const gchar *argv[] = { "qpdf", "--check", pdf, NULL };
    check = run_tool(argv);
    g_assert_nonnull(strstr(check, "No syntax or stream encoding errors"));
  }
  {
    const gchar *argv[] = { "pdftotext", "-layout", pdf, "-", NULL };
    text = run_tool(argv);
    g_assert_nonnull(strstr(text, "Discharge"));
    g_assert_nonnull(strstr(text, "summary"));
    g_assert_nonnull(strstr(text, "Bérénice"));
    g_assert_nonnull(strstr(text, "Zanzibarite"));
    g_assert_nonnull(strstr(text, "follow-up"));
  }
  {
    const gchar *argv[] = { "pdfinfo", "-f", "1", "-l", "2", pdf, NULL };
    info = run_tool(argv);
    g_assert_nonnull(strstr(info, "Pages:           2"));
    /* 850×1100 at 100 dpi and 1275×1650 at 150 dpi: US Letter both */
    g_assert_nonnull(strstr(info, "Page    1 size:  612 x 792 pts"));
    g_assert_nonnull(strstr(info, "Page    2 size:  612 x 792 pts"));
    g_assert_nonnull(strstr(info, "Title:           Discharge summary ? Bérénice Ng"));
    /* a control character (OCR noise) is a space in both */
    g_assert_nonnull(strstr(info, "Subject:         MRN 100234; discharge-summary;  2026-11-30"));
  }
  {
    const gchar *argv[] = { "pdfinfo", "-meta", pdf, NULL };
    meta = run_tool(argv);
    g_assert_nonnull(strstr(meta, "<pdfaid:part>2</pdfaid:part>"));
    g_assert_nonnull(strstr(meta, "<pdfaid:conformance>B</pdfaid:conformance>"));
    g_assert_nonnull(strstr(meta, "<xmp:CreateDate>2026-12-02T10:30:00+00:00</xmp:CreateDate>"));
    g_assert_nonnull(strstr(meta, "discharge-summary;  2026-11-30</rdf:li>"));
  }
  g_assert_true(g_file_get_contents(pdf, &raw, &raw_len, NULL));
  g_assert_true(has_bytes(raw, raw_len, "/CCITTFaxDecode"));
  g_assert_true(has_bytes(raw, raw_len, "/DCTDecode"));
  g_assert_true(has_bytes(raw, raw_len, "/GTS_PDFA1"));
  g_assert_true(has_bytes(raw, raw_len, "/FontFile2"));
  g_assert_true(cd_test_rm_rf(dir));
}

/* A redacted word is gone from the text layer and its rectangle is black
 * in the rendered page, on a bilevel page and on a grey one; the words
 * beside it stay. */
static void
test_pdf_writer_redaction(void)
{
  g_autofree gchar *dir = g_dir_make_tmp("cd-pdf-XXXXXX", NULL);
  g_autofree gchar *pdf = g_build_filename(dir, "redacted.pdf", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPdfWriter) writer = NULL;
  g_autoptr(GBytes) g4 = blank_image(850, 1100, 1, 100);
  g_autoptr(GBytes) jpeg = blank_image(850, 1100, 8, 100);
  g_autoptr(GPtrArray) words = make_words();
  const CdPdfRect cover[] = { { 295, 195, 210, 40 } }; /* "Zanzibarite" */
  g_autofree gchar *text = NULL;
  g_autofree gchar *raw = NULL;
  gsize raw_len = 0;

  if (!have_tools())
    return;
  writer = cd_pdf_writer_new(&error);
  g_assert_no_error(error);
  g_assert_true(cd_pdf_writer_add_image_page(writer, g4, 100, 100, words, cover, 1, &error));
  g_assert_no_error(error);
  g_assert_true(cd_pdf_writer_add_image_page(writer, jpeg, 100, 100, words, cover, 1, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(cd_pdf_writer_get_n_words_redacted(writer), ==, 2);
  g_assert_true(cd_pdf_writer_save(writer, pdf, &error));
  g_assert_no_error(error);

  {
    const gchar *argv[] = { "pdftotext", pdf, "-", NULL };
    text = run_tool(argv);
    g_assert_null(strstr(text, "Zanzibarite"));
    g_assert_nonnull(strstr(text, "Discharge"));
    g_assert_nonnull(strstr(text, "follow-up"));
  }
  /* rendered at the images' 100 dpi, pixels line up with the rectangle */
  g_assert_cmpfloat(rendered_mean(dir, pdf, 1, 100, 300, 200, 200, 30), <, 5.0);
  g_assert_cmpfloat(rendered_mean(dir, pdf, 2, 100, 300, 200, 200, 30), <, 5.0);
  /* and beside it the page is white still */
  g_assert_cmpfloat(rendered_mean(dir, pdf, 1, 100, 300, 400, 200, 30), >, 250.0);
  g_assert_cmpfloat(rendered_mean(dir, pdf, 2, 100, 300, 400, 200, 30), >, 250.0);
  /* the redacted grey page is lossless, not a second JPEG generation */
  g_assert_true(g_file_get_contents(pdf, &raw, &raw_len, NULL));
  g_assert_false(has_bytes(raw, raw_len, "/DCTDecode"));
  {
    const gchar *argv[] = { "qpdf", "--check", pdf, NULL };
    g_autofree gchar *check = run_tool(argv);
  }
  g_assert_true(cd_test_rm_rf(dir));
}

/* Text pages flow a long body over more than one page; every page, image
 * or text, carries a running Bates number and the footer; the last
 * number is reported. */
static void
test_pdf_writer_text_and_stamps(void)
{
  g_autofree gchar *dir = g_dir_make_tmp("cd-pdf-XXXXXX", NULL);
  g_autofree gchar *pdf = g_build_filename(dir, "packet.pdf", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPdfWriter) writer = NULL;
  g_autoptr(GBytes) g4 = blank_image(850, 1100, 1, 100);
  g_autoptr(GString) body = g_string_new(NULL);
  g_autofree gchar *last = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *info = NULL;
  guint n;

  if (!have_tools())
    return;
  for (guint i = 0; i < 80; i++)
    g_string_append_printf(body,
                           "Line %u of the inventory: a document of several words that wraps at the margin, being "
                           "longer than the width of the page allows.\n",
                           i);
  writer = cd_pdf_writer_new(&error);
  g_assert_no_error(error);
  cd_pdf_writer_set_bates(writer, "ROI", 41, 6);
  cd_pdf_writer_set_footer(writer, "Released to Example Law LLP on 2026-12-02 — request 7");
  g_assert_true(cd_pdf_writer_add_text_page(writer, "Inventory", body->str, &error));
  g_assert_no_error(error);
  n = cd_pdf_writer_get_n_pages(writer);
  g_assert_cmpuint(n, >=, 3);
  g_assert_true(cd_pdf_writer_add_image_page(writer, g4, 100, 100, NULL, NULL, 0, &error));
  g_assert_no_error(error);
  last = cd_pdf_writer_dup_last_bates(writer);
  {
    g_autofree gchar *expect = g_strdup_printf("ROI%06u", 41 + n);
    g_assert_cmpstr(last, ==, expect);
  }
  g_assert_true(cd_pdf_writer_save(writer, pdf, &error));
  g_assert_no_error(error);
  /* saving twice is refused */
  g_assert_null(cd_pdf_writer_save_to_bytes(writer, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);

  {
    const gchar *argv[] = { "pdftotext", pdf, "-", NULL };
    text = run_tool(argv);
    g_assert_nonnull(strstr(text, "Inventory"));
    g_assert_nonnull(strstr(text, "Line 0 of the inventory"));
    g_assert_nonnull(strstr(text, "Line 79 of the inventory"));
    g_assert_nonnull(strstr(text, "the page allows."));
    g_assert_nonnull(strstr(text, "ROI000041"));
    g_assert_nonnull(strstr(text, last));
    g_assert_nonnull(strstr(text, "Released to Example Law LLP on 2026-12-02"));
  }
  {
    const gchar *argv[] = { "pdfinfo", pdf, NULL };
    g_autofree gchar *expect = g_strdup_printf("Pages:           %u\n", n + 1);
    info = run_tool(argv);
    g_assert_nonnull(strstr(info, expect));
  }
  g_assert_true(cd_test_rm_rf(dir));
}

/* The same input and date give the same bytes (a released packet can be
 * produced again and compared); an empty document or a corrupt image is
 * an error that says so. */
static void
test_pdf_writer_reproducible(void)
{
  g_autoptr(GBytes) g4 = blank_image(850, 1100, 1, 100);
  g_autoptr(GPtrArray) words = make_words();
  g_autoptr(GDateTime) when = g_date_time_new_utc(2026, 1, 2, 3, 4, 5);
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) second = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) junk = g_bytes_new_static("not an image", 12);

  for (guint round = 0; round < 2; round++) {
    g_autoptr(CdPdfWriter) writer = cd_pdf_writer_new(&error);
    g_assert_no_error(error);
    cd_pdf_writer_set_title(writer, "Same");
    cd_pdf_writer_set_creation_date(writer, when);
    g_assert_true(cd_pdf_writer_add_image_page(writer, g4, 0, 0, words, NULL, 0, &error));
    g_assert_no_error(error);
    if (round == 0)
      first = cd_pdf_writer_save_to_bytes(writer, &error);
    else
      second = cd_pdf_writer_save_to_bytes(writer, &error);
    g_assert_no_error(error);
  }
  g_assert_true(g_bytes_equal(first, second));

  {
    g_autoptr(CdPdfWriter) writer = cd_pdf_writer_new(&error);
    g_autoptr(GBytes) none = NULL;
    g_assert_no_error(error);
    g_assert_false(cd_pdf_writer_add_image_page(writer, junk, 0, 0, NULL, NULL, 0, &error));
    g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
    g_assert_nonnull(strstr(error->message, "cannot be decoded"));
    g_clear_error(&error);
    none = cd_pdf_writer_save_to_bytes(writer, &error);
    g_assert_null(none);
    g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chartdesk/pdf-writer/image-pages", test_pdf_writer_image_pages);
  g_test_add_func("/chartdesk/pdf-writer/redaction", test_pdf_writer_redaction);
  g_test_add_func("/chartdesk/pdf-writer/text-and-stamps", test_pdf_writer_text_and_stamps);
  g_test_add_func("/chartdesk/pdf-writer/reproducible", test_pdf_writer_reproducible);
  return g_test_run();
}
