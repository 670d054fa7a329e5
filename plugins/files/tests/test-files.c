/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The files source on fixtures made at test time with libtiff, Leptonica and
 * cairo: every TIFF compression and depth production scanners write, PNG,
 * JPEG, PDF, folder order, provenance, and each kind of broken input with
 * the exact reason it must give.
 */
#define _GNU_SOURCE /* memmem */
#include <cairo-pdf.h>
#include <cairo.h>
#include <chartdesk.h>
#include <glib/gstdio.h>
#include <tiffio.h>
#include <unistd.h>
#include "cd-test-util.h"

static CdRegistry *registry;
static gchar *tmpdir;

#define W 200
#define H 120

/* The page drawn on every fixture: paper, an ink box at x 20–79, y 10–49,
 * and below y 80 a ramp that only a lossless codec gives back exactly. */
static gboolean
is_ink(guint x, guint y)
{
  return x >= 20 && x < 80 && y >= 10 && y < 50;
}

static guint8
grey_at(guint x, guint y)
{
  if (is_ink(x, y))
    return 0;
  return y >= 80 ? (guint8) x : 230;
}

static void
rgb_at(guint x, guint y, guint8 *r, guint8 *g, guint8 *b)
{
  if (is_ink(x, y)) {
    *r = 200, *g = 0, *b = 0;
  } else if (y >= 80) {
    *r = (guint8) x, *g = (guint8) (255 - x), *b = 100;
  } else {
    *r = *g = *b = 255;
  }
}

typedef struct {
  guint16 compression;
  guint16 bps; /* 1 or 8 */
  guint16 spp; /* 1 or 3 */
  guint16 photometric;
  gdouble dpi; /* 0: no resolution tag; negative: stored per centimetre */
} PageSpec;

static gchar *
fixture(const gchar *name)
{
  return g_build_filename(tmpdir, name, NULL);
}

static void
write_tiff(const gchar *path, const PageSpec *specs, guint n)
{
  TIFF *tif = TIFFOpen(path, "w");

  g_assert_nonnull(tif);
  for (guint p = 0; p < n; p++) {
    const PageSpec *s = &specs[p];
    tsize_t line_size = s->bps == 1 ? (W + 7) / 8 : (tsize_t) W * s->spp;
    g_autofree guint8 *line = g_malloc0(line_size);

    TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(tif, TIFFTAG_PAGENUMBER, p, n);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, W);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, H);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, s->bps);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, s->spp);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, s->photometric);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, s->compression);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, s->compression == COMPRESSION_JPEG ? 16 : H);
    if (s->dpi > 0) {
      TIFFSetField(tif, TIFFTAG_XRESOLUTION, (float) s->dpi);
      TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float) s->dpi);
      TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    } else if (s->dpi < 0) {
      TIFFSetField(tif, TIFFTAG_XRESOLUTION, (float) (-s->dpi / 2.54));
      TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float) (-s->dpi / 2.54));
      TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER);
    }
    if (s->compression == COMPRESSION_JPEG)
      TIFFSetField(tif, TIFFTAG_JPEGQUALITY, 90);
    for (guint y = 0; y < H; y++) {
      memset(line, 0, line_size);
      for (guint x = 0; x < W; x++) {
        if (s->bps == 1) {
          gboolean black = is_ink(x, y);
          gboolean bit = s->photometric == PHOTOMETRIC_MINISWHITE ? black : !black;
          if (bit)
            line[x / 8] |= 0x80 >> (x % 8);
        } else if (s->spp == 1) {
          guint8 v = grey_at(x, y);
          line[x] = s->photometric == PHOTOMETRIC_MINISWHITE ? 255 - v : v;
        } else {
          rgb_at(x, y, &line[3 * x], &line[3 * x + 1], &line[3 * x + 2]);
        }
      }
      g_assert_cmpint(TIFFWriteScanline(tif, line, y, 0), ==, 1);
    }
    g_assert_true(TIFFWriteDirectory(tif));
  }
  TIFFClose(tif);
}

static CdSource *
make_source(void)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "files", &error);
  CdSource *source;

  g_assert_no_error(error);
  source = g_object_new(type, NULL);
  g_assert_true(cd_stage_start(CD_STAGE(source), &error));
  g_assert_no_error(error);
  return source;
}

/* Every record the source gives for @inputs, in order. */
static GPtrArray *
read_all(CdSource *source, const gchar *const *inputs)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *pages = g_ptr_array_new_with_free_func(g_object_unref);
  CdPage *page;

  g_assert_true(cd_source_open(source, inputs, &error));
  g_assert_no_error(error);
  while ((page = cd_source_next(source, NULL, &error)) != NULL)
    g_ptr_array_add(pages, page);
  g_assert_no_error(error);
  cd_stage_stop(CD_STAGE(source));
  return pages;
}

static GPtrArray *
read_one(const gchar *path)
{
  g_autoptr(CdSource) source = make_source();
  const gchar *inputs[] = { path, NULL };
  return read_all(source, inputs);
}

static void
assert_failed(CdPage *page, const gchar *path, gint index, const gchar *reason)
{
  g_assert_cmpint(cd_page_get_kind(page), ==, CD_PAGE_KIND_FAILED);
  g_assert_cmpstr(cd_page_get_source_path(page), ==, path);
  g_assert_cmpint(cd_page_get_source_page(page), ==, index);
  g_assert_cmpstr(cd_page_get_reason(page), ==, reason);
  g_assert_null(cd_page_get_pix(page));
}

static gchar *
sha256_of(const gchar *path)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;

  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) data, len);
}

static gint
dpi_of(CdPage *page)
{
  gint x = 0, y = 0;
  cd_page_get_resolution(page, &x, &y);
  g_assert_cmpint(x, ==, y);
  return x;
}

/* Checks the drawing came back: ink, paper and, when @exact, the ramp. */
static void
assert_drawing(PIX *pix, gint depth, gboolean exact)
{
  l_uint32 v = 0;
  l_int32 r, g, b;

  g_assert_nonnull(pix);
  g_assert_cmpint(pixGetWidth(pix), ==, W);
  g_assert_cmpint(pixGetHeight(pix), ==, H);
  g_assert_cmpint(pixGetDepth(pix), ==, depth);
  if (depth == 1) {
    pixGetPixel(pix, 50, 30, &v);
    g_assert_cmpuint(v, ==, 1);
    pixGetPixel(pix, 150, 30, &v);
    g_assert_cmpuint(v, ==, 0);
    {
      l_int32 black = 0;
      pixCountPixels(pix, &black, NULL);
      g_assert_cmpint(black, ==, 60 * 40); /* bilevel codecs are lossless */
    }
  } else if (depth == 8) {
    pixGetPixel(pix, 50, 30, &v);
    g_assert_cmpuint(v, <, 40);
    pixGetPixel(pix, 150, 30, &v);
    g_assert_cmpuint(v, >, 200);
    if (exact) {
      pixGetPixel(pix, 123, 90, &v);
      g_assert_cmpuint(v, ==, 123);
      pixGetPixel(pix, 150, 30, &v);
      g_assert_cmpuint(v, ==, 230);
    }
  } else {
    pixGetRGBPixel(pix, 50, 30, &r, &g, &b);
    g_assert_cmpint(r, >, 160);
    g_assert_cmpint(g, <, 40);
    pixGetRGBPixel(pix, 150, 30, &r, &g, &b);
    g_assert_cmpint(MIN(r, MIN(g, b)), >, 230);
    if (exact) {
      pixGetRGBPixel(pix, 123, 90, &r, &g, &b);
      g_assert_cmpint(r, ==, 123);
      g_assert_cmpint(g, ==, 132);
      g_assert_cmpint(b, ==, 100);
    }
  }
}

static const PageSpec tiff_pages[] = {
  { COMPRESSION_CCITTFAX4, 1, 1, PHOTOMETRIC_MINISWHITE, 300 },
  { COMPRESSION_CCITTFAX3, 1, 1, PHOTOMETRIC_MINISWHITE, 200 },
  { COMPRESSION_LZW, 1, 1, PHOTOMETRIC_MINISBLACK, 300 },
  { COMPRESSION_PACKBITS, 1, 1, PHOTOMETRIC_MINISWHITE, 300 },
  { COMPRESSION_NONE, 1, 1, PHOTOMETRIC_MINISWHITE, 300 },
  { COMPRESSION_NONE, 8, 1, PHOTOMETRIC_MINISBLACK, -200 },
  { COMPRESSION_LZW, 8, 1, PHOTOMETRIC_MINISWHITE, 300 },
  { COMPRESSION_PACKBITS, 8, 1, PHOTOMETRIC_MINISBLACK, 300 },
  { COMPRESSION_JPEG, 8, 1, PHOTOMETRIC_MINISBLACK, 300 },
  { COMPRESSION_NONE, 8, 3, PHOTOMETRIC_RGB, 150 },
  { COMPRESSION_LZW, 8, 3, PHOTOMETRIC_RGB, 300 },
  { COMPRESSION_PACKBITS, 8, 3, PHOTOMETRIC_RGB, 300 },
  { COMPRESSION_JPEG, 8, 3, PHOTOMETRIC_RGB, 0 },
};

/* One multi-page TIFF holding every compression (G4, G3, LZW, PackBits, JPEG,
 * none) at every depth (bilevel either way round, grey either way round,
 * RGB) comes back page by page, each at its own depth with its drawing, its
 * resolution (per inch, per centimetre, or assumed) and its provenance. */
static void
test_files_tiff_compressions(void)
{
  g_autofree gchar *path = fixture("every-compression.tif");
  g_autofree gchar *sha256 = NULL;
  g_autoptr(GPtrArray) pages = NULL;

  write_tiff(path, tiff_pages, G_N_ELEMENTS(tiff_pages));
  sha256 = sha256_of(path);
  pages = read_one(path);
  g_assert_cmpuint(pages->len, ==, G_N_ELEMENTS(tiff_pages));
  for (guint i = 0; i < pages->len; i++) {
    CdPage *page = g_ptr_array_index(pages, i);
    const PageSpec *s = &tiff_pages[i];
    gint depth = s->bps == 1 ? 1 : s->spp == 1 ? 8 : 32;
    g_autoptr(GVariant) assumed = cd_page_get_fact(page, "files.resolution-assumed");

    g_test_message("page %u: compression %u, %u bits × %u", i, s->compression, s->bps, s->spp);
    g_assert_cmpint(cd_page_get_kind(page), ==, CD_PAGE_KIND_PAGE);
    g_assert_cmpstr(cd_page_get_source_path(page), ==, path);
    g_assert_cmpint(cd_page_get_source_page(page), ==, (gint) i);
    g_assert_cmpstr(cd_page_get_source_sha256(page), ==, sha256);
    assert_drawing(cd_page_get_pix(page), depth, s->compression != COMPRESSION_JPEG);
    g_assert_cmpint(dpi_of(page), ==, s->dpi == 0 ? 300 : (gint) ABS(s->dpi));
    g_assert_true((assumed != NULL) == (s->dpi == 0));
  }
}

/* PNG and JPEG are single pages, at the resolution they record; a PNG
 * without one is assumed to be at default-resolution, and says so. */
static void
test_files_png_jpeg(void)
{
  g_autofree gchar *png = fixture("page.png");
  g_autofree gchar *bare = fixture("bare.png");
  g_autofree gchar *jpg = fixture("page.jpg");
  g_autoptr(PIX) grey = pixCreate(W, H, 8);
  g_autoptr(PIX) rgb = pixCreate(W, H, 32);
  g_autoptr(CdSource) source = make_source();
  g_autoptr(GPtrArray) pages = NULL;
  g_autoptr(GVariant) assumed = NULL;
  const gchar *inputs[4];

  for (guint y = 0; y < H; y++) {
    for (guint x = 0; x < W; x++) {
      guint8 r, g, b;
      l_uint32 v;
      rgb_at(x, y, &r, &g, &b);
      composeRGBPixel(r, g, b, &v);
      pixSetPixel(grey, x, y, grey_at(x, y));
      pixSetPixel(rgb, x, y, v);
    }
  }
  pixSetResolution(grey, 150, 150);
  g_assert_cmpint(pixWrite(png, grey, IFF_PNG), ==, 0);
  {
    /* Leptonica always writes a pHYs chunk: cut it out */
    g_autofree gchar *data = NULL;
    gsize len = 0;
    gchar *phys;
    g_assert_true(g_file_get_contents(png, &data, &len, NULL));
    phys = memmem(data, len, "pHYs", 4);
    g_assert_nonnull(phys);
    memmove(phys - 4, phys + 17, len - (phys + 17 - data));
    g_assert_true(g_file_set_contents(bare, data, len - 21, NULL));
  }
  pixSetResolution(rgb, 200, 200);
  g_assert_cmpint(pixWriteJpeg(jpg, rgb, 95, 0), ==, 0);

  inputs[0] = png, inputs[1] = bare, inputs[2] = jpg, inputs[3] = NULL;
  g_object_set(source, "default-resolution", 240, NULL);
  pages = read_all(source, inputs);
  g_assert_cmpuint(pages->len, ==, 3);
  assert_drawing(cd_page_get_pix(g_ptr_array_index(pages, 0)), 8, TRUE);
  g_assert_cmpint(dpi_of(g_ptr_array_index(pages, 0)), ==, 150);
  assert_drawing(cd_page_get_pix(g_ptr_array_index(pages, 1)), 8, TRUE);
  g_assert_cmpint(dpi_of(g_ptr_array_index(pages, 1)), ==, 240);
  assumed = cd_page_get_fact(g_ptr_array_index(pages, 1), "files.resolution-assumed");
  g_assert_nonnull(assumed);
  assert_drawing(cd_page_get_pix(g_ptr_array_index(pages, 2)), 32, FALSE);
  g_assert_cmpint(dpi_of(g_ptr_array_index(pages, 2)), ==, 200);
  for (guint i = 0; i < pages->len; i++) {
    CdPage *page = g_ptr_array_index(pages, i);
    g_autofree gchar *sha = sha256_of(inputs[i]);
    g_assert_cmpstr(cd_page_get_source_path(page), ==, inputs[i]);
    g_assert_cmpint(cd_page_get_source_page(page), ==, 0);
    g_assert_cmpstr(cd_page_get_source_sha256(page), ==, sha);
  }
}

static void
touch_tiff(const gchar *path)
{
  static const PageSpec one = { COMPRESSION_CCITTFAX4, 1, 1, PHOTOMETRIC_MINISWHITE, 300 };
  g_autofree gchar *dir = g_path_get_dirname(path);

  g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
  write_tiff(path, &one, 1);
}

static gchar *
write_bytes(const gchar *name, const gchar *data, gssize len)
{
  gchar *path = fixture(name);
  g_assert_true(g_file_set_contents(path, data, len, NULL));
  return path;
}

static gchar *
cut_file(const gchar *from, const gchar *name, gsize keep)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;

  g_assert_true(g_file_get_contents(from, &data, &len, NULL));
  g_assert_cmpuint(keep, <, len);
  return write_bytes(name, data, keep);
}

/* A zero-byte file, a missing path and a letter saved as .tif are each one
 * failed record for the whole file (page null) with the reason, and the
 * next input is still read. */
static void
test_files_not_pages(void)
{
  g_autofree gchar *empty = write_bytes("empty.tif", "", 0);
  g_autofree gchar *missing = fixture("no-such-scan.tif");
  g_autofree gchar *text = write_bytes("letter.tif", "Dear colleague,\nplease find enclosed\n", -1);
  g_autofree gchar *good = fixture("good.tif");
  g_autoptr(CdSource) source = make_source();
  g_autoptr(GPtrArray) pages = NULL;
  g_autofree gchar *text_sha = sha256_of(text);
  const gchar *inputs[] = { empty, missing, text, good, NULL };

  touch_tiff(good);
  pages = read_all(source, inputs);
  g_assert_cmpuint(pages->len, ==, 4);
  assert_failed(g_ptr_array_index(pages, 0), empty, -1, "file is empty (0 bytes)");
  g_assert_null(cd_page_get_source_sha256(g_ptr_array_index(pages, 0)));
  assert_failed(g_ptr_array_index(pages, 1), missing, -1, "cannot read: No such file or directory");
  assert_failed(g_ptr_array_index(pages, 2), text, -1, "not an image: the content is not TIFF, PNG, JPEG or PDF");
  g_assert_cmpstr(cd_page_get_source_sha256(g_ptr_array_index(pages, 2)), ==, text_sha);
  g_assert_cmpint(cd_page_get_kind(g_ptr_array_index(pages, 3)), ==, CD_PAGE_KIND_PAGE);
}

/* A two-page TIFF cut short (the scanner died writing page 2) gives page 1
 * and a failed record for page 2; one cut inside page 1 cannot be opened;
 * one whose LZW data is overwritten fails on that page with the row; a
 * truncated PNG fails whole. */
static void
test_files_broken_tiff(void)
{
  static const PageSpec two[] = {
    { COMPRESSION_LZW, 8, 1, PHOTOMETRIC_MINISBLACK, 300 },
    { COMPRESSION_LZW, 8, 1, PHOTOMETRIC_MINISBLACK, 300 },
  };
  g_autofree gchar *whole = fixture("two-pages.tif");
  g_autofree gchar *cut_late = NULL;
  g_autofree gchar *late_reason = NULL;
  g_autofree gchar *early_reason = NULL;
  g_autofree gchar *cut_early = NULL;
  g_autofree gchar *corrupt = NULL;
  g_autofree gchar *png = fixture("whole.png");
  g_autofree gchar *cut_png = NULL;
  g_autofree gchar *data = NULL;
  g_autoptr(PIX) pix = pixCreate(W, H, 8);
  g_autoptr(GPtrArray) pages = NULL;
  GStatBuf st;
  gsize len = 0;

  write_tiff(whole, two, 2);
  g_assert_true(g_file_get_contents(whole, &data, &len, NULL));
  {
    /* cut inside the second page's directory (libtiff writes II order here) */
    guint32 ifd1, ifd2;
    guint16 count;
    g_assert_cmpint(data[0], ==, 'I');
    memcpy(&ifd1, data + 4, 4);
    memcpy(&count, data + ifd1, 2);
    memcpy(&ifd2, data + ifd1 + 2 + 12 * count, 4);
    g_assert_cmpuint(ifd2, >, ifd1);
    cut_late = cut_file(whole, "cut-late.tif", ifd2 + 8);
    late_reason = g_strdup_printf(
        "the page and any after it cannot be read: Can not read TIFF directory; Failed to read directory at offset %u",
        ifd2);
    early_reason = g_strdup_printf(
        "not a readable TIFF: Can not read TIFF directory count; Failed to read directory at offset %u", ifd1);
    g_assert_cmpuint(ifd1, >, 100);
  }
  pages = read_one(cut_late);
  g_assert_cmpuint(pages->len, ==, 2);
  g_assert_cmpint(cd_page_get_kind(g_ptr_array_index(pages, 0)), ==, CD_PAGE_KIND_PAGE);
  assert_failed(g_ptr_array_index(pages, 1), cut_late, 1, late_reason);
  g_clear_pointer(&pages, g_ptr_array_unref);

  cut_early = cut_file(whole, "cut-early.tif", 100);
  pages = read_one(cut_early);
  g_assert_cmpuint(pages->len, ==, 1);
  assert_failed(g_ptr_array_index(pages, 0), cut_early, -1, early_reason);
  g_clear_pointer(&pages, g_ptr_array_unref);

  memset(data + 8, 0xff, 200); /* the first strip's LZW codes */
  corrupt = write_bytes("corrupt.tif", data, len);
  pages = read_one(corrupt);
  g_assert_cmpuint(pages->len, ==, 2);
  assert_failed(g_ptr_array_index(pages, 0), corrupt, 0,
                "truncated or corrupt image data at row 1 of 120: Using code not yet in table");
  g_assert_cmpint(cd_page_get_kind(g_ptr_array_index(pages, 1)), ==, CD_PAGE_KIND_PAGE);
  g_clear_pointer(&pages, g_ptr_array_unref);

  pixSetAllArbitrary(pix, 128);
  g_assert_cmpint(pixWrite(png, pix, IFF_PNG), ==, 0);
  g_assert_cmpint(g_stat(png, &st), ==, 0);
  cut_png = cut_file(png, "cut.png", st.st_size / 2);
  pages = read_one(cut_png);
  g_assert_cmpuint(pages->len, ==, 1);
  assert_failed(g_ptr_array_index(pages, 0), cut_png, 0, "PNG data is corrupt or truncated");
}

/* A page over max-megapixels is refused with its size, before it is
 * decoded. */
static void
test_files_too_large(void)
{
  g_autofree gchar *path = fixture("huge.tif");
  g_autoptr(CdSource) source = make_source();
  g_autoptr(GPtrArray) pages = NULL;
  const gchar *inputs[] = { path, NULL };
  TIFF *tif = TIFFOpen(path, "w");
  g_autofree guint8 *line = g_malloc0(1500 / 8 + 1);

  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, 1500);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, 1000);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
  for (guint y = 0; y < 1000; y++)
    TIFFWriteScanline(tif, line, y, 0);
  TIFFClose(tif);

  g_object_set(source, "max-megapixels", 1.0, NULL);
  pages = read_all(source, inputs);
  g_assert_cmpuint(pages->len, ==, 1);
  assert_failed(g_ptr_array_index(pages, 0), path, 0,
                "image is 1500 × 1000 pixels (1.5 megapixels), over the limit of 1 (option max-megapixels)");
}

/* A PDF made of @objects (numbered from 1, object 1 the catalog), with a
 * correct cross-reference table, and @trailer_extra in its trailer. */
static gchar *
write_pdf(const gchar *name, const gchar *const *objects, const gchar *trailer_extra)
{
  g_autoptr(GString) pdf = g_string_new("%PDF-1.4\n");
  g_autoptr(GArray) offsets = g_array_new(FALSE, FALSE, sizeof(gsize));
  gsize xref;
  guint n = 0;

  for (; objects[n] != NULL; n++) {
    g_array_append_val(offsets, pdf->len);
    g_string_append_printf(pdf, "%u 0 obj\n%s\nendobj\n", n + 1, objects[n]);
  }
  xref = pdf->len;
  g_string_append_printf(pdf, "xref\n0 %u\n0000000000 65535 f \n", n + 1);
  for (guint i = 0; i < n; i++)
    g_string_append_printf(pdf, "%010" G_GSIZE_FORMAT " 00000 n \n", g_array_index(offsets, gsize, i));
  g_string_append_printf(pdf, "trailer\n<< /Size %u /Root 1 0 R %s >>\nstartxref\n%" G_GSIZE_FORMAT "\n%%%%EOF\n",
                         n + 1, trailer_extra != NULL ? trailer_extra : "", xref);
  return write_bytes(name, pdf->str, pdf->len);
}

/* A folder is read recursively in name order (byte order, subfolders in
 * place), PDF among the images; files not named like pages and hidden
 * entries are passed over;
 * recursive=false stays in the folder given. */
static void
test_files_folder_order(void)
{
  g_autofree gchar *root = fixture("box");
  const gchar *names[] = { "box/01.tif", "box/02/a.TIF", "box/02/b/c.tiff", "box/03.Pdf",
                           "box/10.png", "box/B.tif",    "box/a.tif" };
  const gchar *pdf_objs[] = { "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                              "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>", NULL };
  g_autofree gchar *notes = fixture("box/notes.txt");
  g_autofree gchar *last = fixture("box/a.tif");
  g_autofree gchar *hidden = fixture("box/.hidden.tif");
  g_autofree gchar *hidden_dir = fixture("box/.trash/x.tif");
  g_autoptr(GPtrArray) pages = NULL;
  g_autoptr(CdSource) flat = make_source();
  const gchar *inputs[] = { root, NULL };

  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autofree gchar *path = fixture(names[i]);
    if (g_str_has_suffix(path, ".Pdf")) {
      g_free(write_pdf(names[i], pdf_objs, NULL));
    } else if (g_str_has_suffix(path, ".png")) {
      g_autoptr(PIX) pix = pixCreate(W, H, 8);
      pixSetAllArbitrary(pix, 255);
      g_assert_cmpint(pixWrite(path, pix, IFF_PNG), ==, 0);
    } else {
      touch_tiff(path);
    }
  }
  g_assert_true(g_file_set_contents(notes, "box 12, charts 1-40\n", -1, NULL));
  touch_tiff(hidden);
  touch_tiff(hidden_dir);

  pages = read_one(root);
  g_assert_cmpuint(pages->len, ==, G_N_ELEMENTS(names));
  for (guint i = 0; i < pages->len; i++) {
    g_autofree gchar *want = fixture(names[i]);
    g_assert_cmpstr(cd_page_get_source_path(g_ptr_array_index(pages, i)), ==, want);
    g_assert_cmpint(cd_page_get_kind(g_ptr_array_index(pages, i)), ==, CD_PAGE_KIND_PAGE);
  }
  g_clear_pointer(&pages, g_ptr_array_unref);

  g_object_set(flat, "recursive", FALSE, NULL);
  pages = read_all(flat, inputs);
  g_assert_cmpuint(pages->len, ==, 5);
  g_assert_cmpstr(cd_page_get_source_path(g_ptr_array_index(pages, 4)), ==, last);
}

/* Two pages drawn with cairo: a grey letter page with a black box at
 * 1–3 × 1–2 inches, and a smaller colour page with a red box. */
static gchar *
make_cairo_pdf(void)
{
  gchar *path = fixture("two-pages.pdf");
  cairo_surface_t *surface = cairo_pdf_surface_create(path, 612, 792);
  cairo_t *cr = cairo_create(surface);

  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, 72, 72, 144, 72);
  cairo_fill(cr);
  cairo_show_page(cr);
  cairo_pdf_surface_set_size(surface, 420, 595);
  cairo_set_source_rgb(cr, 0.8, 0, 0);
  cairo_rectangle(cr, 72, 72, 144, 72);
  cairo_fill(cr);
  cairo_show_page(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  g_assert_cmpint(cairo_surface_status(surface), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy(surface);
  return path;
}

/* PDF pages are rendered at the resolution option: the size follows the
 * page size, a page without colour comes out 8-bit grey, a colour page
 * 32-bit, with path, page index and hash as for any file. */
static void
test_files_pdf(void)
{
  g_autofree gchar *path = make_cairo_pdf();
  g_autofree gchar *sha256 = sha256_of(path);
  g_autoptr(CdSource) source = make_source();
  g_autoptr(CdSource) fine = make_source();
  g_autoptr(GPtrArray) pages = NULL;
  const gchar *inputs[] = { path, NULL };
  CdPage *grey, *colour;
  l_uint32 v = 0;
  l_int32 r, g, b;

  g_object_set(source, "resolution", 72, NULL);
  pages = read_all(source, inputs);
  g_assert_cmpuint(pages->len, ==, 2);
  grey = g_ptr_array_index(pages, 0);
  colour = g_ptr_array_index(pages, 1);
  for (guint i = 0; i < 2; i++) {
    CdPage *page = g_ptr_array_index(pages, i);
    g_assert_cmpint(cd_page_get_kind(page), ==, CD_PAGE_KIND_PAGE);
    g_assert_cmpstr(cd_page_get_source_path(page), ==, path);
    g_assert_cmpint(cd_page_get_source_page(page), ==, (gint) i);
    g_assert_cmpstr(cd_page_get_source_sha256(page), ==, sha256);
    g_assert_cmpint(dpi_of(page), ==, 72);
  }
  g_assert_cmpint(pixGetWidth(cd_page_get_pix(grey)), ==, 612);
  g_assert_cmpint(pixGetHeight(cd_page_get_pix(grey)), ==, 792);
  g_assert_cmpint(pixGetDepth(cd_page_get_pix(grey)), ==, 8);
  pixGetPixel(cd_page_get_pix(grey), 144, 108, &v);
  g_assert_cmpuint(v, ==, 0);
  pixGetPixel(cd_page_get_pix(grey), 300, 108, &v);
  g_assert_cmpuint(v, ==, 255);
  g_assert_cmpint(pixGetWidth(cd_page_get_pix(colour)), ==, 420);
  g_assert_cmpint(pixGetHeight(cd_page_get_pix(colour)), ==, 595);
  g_assert_cmpint(pixGetDepth(cd_page_get_pix(colour)), ==, 32);
  pixGetRGBPixel(cd_page_get_pix(colour), 144, 108, &r, &g, &b);
  g_assert_cmpint(r, ==, 204);
  g_assert_cmpint(g, ==, 0);
  g_assert_cmpint(b, ==, 0);
  pixGetRGBPixel(cd_page_get_pix(colour), 300, 108, &r, &g, &b);
  g_assert_cmpint(r + g + b, ==, 3 * 255);
  g_clear_pointer(&pages, g_ptr_array_unref);

  /* the default is 300 dpi; the option changes the rendering */
  pages = read_all(fine, inputs);
  g_assert_cmpint(dpi_of(g_ptr_array_index(pages, 0)), ==, 300);
  g_assert_cmpint(pixGetWidth(cd_page_get_pix(g_ptr_array_index(pages, 0))), ==, 2550);
  g_assert_cmpint(pixGetHeight(cd_page_get_pix(g_ptr_array_index(pages, 0))), ==, 3300);
}

/* An encrypted PDF, one with no pages, a damaged one and one over the size
 * limit each give the reason naming the file; a PDF with bytes before its
 * header is still a PDF. */
static void
test_files_pdf_broken(void)
{
  const gchar *catalog = "<< /Type /Catalog /Pages 2 0 R >>";
  const gchar *encrypted_objs[] = {
    catalog,
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    "<< /Filter /Standard /V 1 /R 2 /P -44 /O <00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff> "
    "/U <ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100> >>",
    NULL,
  };
  const gchar *empty_objs[] = { catalog, "<< /Type /Pages /Kids [] /Count 0 >>", NULL };
  g_autofree gchar *encrypted =
      write_pdf("encrypted.pdf", encrypted_objs,
                "/Encrypt 4 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]");
  g_autofree gchar *empty = write_pdf("no-pages.pdf", empty_objs, NULL);
  g_autofree gchar *damaged = write_bytes("damaged.pdf", "%PDF-1.7\n1 0 obj\n<< /Type /Cat", -1);
  g_autofree gchar *cairo_pdf = make_cairo_pdf();
  g_autofree gchar *data = NULL;
  g_autofree gchar *prefixed = NULL;
  g_autoptr(GPtrArray) pages = NULL;
  g_autoptr(CdSource) source = make_source();
  g_autoptr(CdSource) small = make_source();
  gsize len = 0;

  g_assert_true(g_file_get_contents(cairo_pdf, &data, &len, NULL));
  {
    g_autoptr(GString) s = g_string_new("\r\n\r\n");
    g_string_append_len(s, data, len);
    prefixed = write_bytes("prefixed.pdf", s->str, s->len);
  }
  {
    const gchar *inputs[] = { encrypted, empty, damaged, prefixed, NULL };
    pages = read_all(source, inputs);
  }
  g_assert_cmpuint(pages->len, ==, 5);
  assert_failed(g_ptr_array_index(pages, 0), encrypted, -1, "PDF is encrypted (password protected): it cannot be read");
  assert_failed(g_ptr_array_index(pages, 1), empty, -1, "PDF has no pages");
  assert_failed(g_ptr_array_index(pages, 2), damaged, -1, "not a readable PDF: PDF document is damaged");
  g_assert_cmpint(cd_page_get_kind(g_ptr_array_index(pages, 3)), ==, CD_PAGE_KIND_PAGE);
  g_assert_cmpint(cd_page_get_kind(g_ptr_array_index(pages, 4)), ==, CD_PAGE_KIND_PAGE);
  g_clear_pointer(&pages, g_ptr_array_unref);

  {
    const gchar *inputs[] = { cairo_pdf, NULL };
    g_object_set(small, "max-megapixels", 1.0, "resolution", 120, NULL);
    pages = read_all(small, inputs);
  }
  g_assert_cmpuint(pages->len, ==, 2);
  assert_failed(g_ptr_array_index(pages, 0), cairo_pdf, 0,
                "image is 1020 × 1320 pixels (1.3 megapixels), over the limit of 1 (option max-megapixels)");
  g_assert_cmpint(cd_page_get_kind(g_ptr_array_index(pages, 1)), ==, CD_PAGE_KIND_PAGE);
}

/* A real scanner PDF (the paperless-ngx patch T sheet, A4) renders at the
 * default 300 dpi to the A4 size in pixels. */
static void
test_files_pdf_scanner(void)
{
  g_autofree gchar *path = cd_test_shared_data("paperless-ngx/barcodes/patch-code-t.pdf");
  g_autoptr(GPtrArray) pages = NULL;
  PIX *pix;

  if (path == NULL)
    return;
  pages = read_one(path);
  g_assert_cmpuint(pages->len, ==, 1);
  pix = cd_page_get_pix(g_ptr_array_index(pages, 0));
  g_assert_nonnull(pix);
  g_assert_cmpint(pixGetWidth(pix), ==, 2481);
  g_assert_cmpint(pixGetHeight(pix), ==, 3509);
  g_assert_cmpint(dpi_of(g_ptr_array_index(pages, 0)), ==, 300);
}

/* A PNG or JPEG over max-image-bytes and a PDF over max-pdf-pages are each
 * one failed record for the whole file naming the size and the option; at
 * the limit they are read. */
static void
test_files_input_limits(void)
{
  g_autofree gchar *png = fixture("limit.png");
  g_autofree gchar *jpg = fixture("limit.jpg");
  g_autofree gchar *pdf = make_cairo_pdf(); /* two pages */
  g_autoptr(PIX) pix = pixCreate(W, H, 8);
  g_autoptr(CdSource) tight = make_source();
  g_autoptr(CdSource) loose = make_source();
  g_autoptr(GPtrArray) pages = NULL;
  g_autofree gchar *png_reason = NULL;
  g_autofree gchar *jpg_reason = NULL;
  const gchar *inputs[] = { png, jpg, pdf, NULL };
  guint64 default_bytes = 0;
  guint default_pages = 0;
  GStatBuf st_png, st_jpg;

  /* noise, so that both files are well over a kilobyte */
  {
    g_autoptr(GRand) rand = g_rand_new_with_seed(11);
    for (guint y = 0; y < H; y++)
      for (guint x = 0; x < W; x++)
        pixSetPixel(pix, x, y, g_rand_int_range(rand, 0, 256));
  }
  g_assert_cmpint(pixWrite(png, pix, IFF_PNG), ==, 0);
  g_assert_cmpint(pixWrite(jpg, pix, IFF_JFIF_JPEG), ==, 0);
  g_assert_cmpint(g_stat(png, &st_png), ==, 0);
  g_assert_cmpint(g_stat(jpg, &st_jpg), ==, 0);
  g_assert_cmpint(st_png.st_size, >, 1024);
  g_assert_cmpint(st_jpg.st_size, >, 1024);

  g_object_get(tight, "max-image-bytes", &default_bytes, "max-pdf-pages", &default_pages, NULL);
  g_assert_cmpuint(default_bytes, ==, 256 * 1024 * 1024);
  g_assert_cmpuint(default_pages, ==, 2000);

  g_object_set(tight, "max-image-bytes", (guint64) 1024, "max-pdf-pages", 1, NULL);
  pages = read_all(tight, inputs);
  g_assert_cmpuint(pages->len, ==, 3);
  png_reason =
      g_strdup_printf("PNG file is %" G_GUINT64_FORMAT " bytes, over the limit of 1024 (option max-image-bytes)",
                      (guint64) st_png.st_size);
  jpg_reason =
      g_strdup_printf("JPEG file is %" G_GUINT64_FORMAT " bytes, over the limit of 1024 (option max-image-bytes)",
                      (guint64) st_jpg.st_size);
  assert_failed(g_ptr_array_index(pages, 0), png, -1, png_reason);
  assert_failed(g_ptr_array_index(pages, 1), jpg, -1, jpg_reason);
  assert_failed(g_ptr_array_index(pages, 2), pdf, -1, "PDF has 2 pages, over the limit of 1 (option max-pdf-pages)");
  g_clear_pointer(&pages, g_ptr_array_unref);

  /* exactly at the limits: read */
  g_object_set(loose, "max-image-bytes", (guint64) MAX(st_png.st_size, st_jpg.st_size), "max-pdf-pages", 2,
               "resolution", 72, NULL);
  pages = read_all(loose, inputs);
  g_assert_cmpuint(pages->len, ==, 4);
  for (guint i = 0; i < pages->len; i++)
    g_assert_cmpint(cd_page_get_kind(g_ptr_array_index(pages, i)), ==, CD_PAGE_KIND_PAGE);
}

/* A symbolic link to a folder inside a folder being walked is not followed
 * (here it points back up: following it would loop, and could leave the
 * tree); a link to a file is still read; a linked folder named directly is
 * read. */
static void
test_files_symlinked_folder(void)
{
  g_autofree gchar *root = fixture("walk");
  g_autofree gchar *inner = fixture("walk/inner");
  g_autofree gchar *outside = fixture("outside");
  g_autofree gchar *page = fixture("walk/inner/1.tif");
  g_autofree gchar *secret = fixture("outside/secret.tif");
  g_autofree gchar *loop = fixture("walk/loop");
  g_autofree gchar *away = fixture("walk/away");
  g_autofree gchar *file_link = fixture("walk/2.tif");
  g_autofree gchar *direct = fixture("direct-link");
  g_autofree gchar *direct_page = fixture("direct-link/secret.tif");
  g_autoptr(GPtrArray) pages = NULL;

  g_assert_cmpint(g_mkdir_with_parents(inner, 0755), ==, 0);
  g_assert_cmpint(g_mkdir_with_parents(outside, 0755), ==, 0);
  touch_tiff(page);
  touch_tiff(secret);
  g_assert_cmpint(symlink(root, loop), ==, 0);
  g_assert_cmpint(symlink(outside, away), ==, 0);
  g_assert_cmpint(symlink(secret, file_link), ==, 0);
  g_assert_cmpint(symlink(outside, direct), ==, 0);

  pages = read_one(root);
  g_assert_cmpuint(pages->len, ==, 2);
  g_assert_cmpstr(cd_page_get_source_path(g_ptr_array_index(pages, 0)), ==, file_link);
  g_assert_cmpstr(cd_page_get_source_path(g_ptr_array_index(pages, 1)), ==, page);
  g_clear_pointer(&pages, g_ptr_array_unref);

  pages = read_one(direct);
  g_assert_cmpuint(pages->len, ==, 1);
  g_assert_cmpstr(cd_page_get_source_path(g_ptr_array_index(pages, 0)), ==, direct_page);
}

/* A symbolic link another user made is not followed, named or met in a
 * walk: it could point at a file only the service may read (a hot folder
 * or source folder others write to). Needs root, to give the link away. */
static void
test_files_foreign_link(void)
{
  g_autofree gchar *secret = fixture("foreign/secret.tif");
  g_autofree gchar *folder = fixture("foreign/box");
  g_autofree gchar *link = fixture("foreign/box/1.tif");
  g_autoptr(GPtrArray) named = NULL;
  g_autoptr(GPtrArray) walked = NULL;

  touch_tiff(secret);
  g_assert_cmpint(g_mkdir_with_parents(folder, 0755), ==, 0);
  g_assert_cmpint(symlink(secret, link), ==, 0);
  if (lchown(link, 65534, 65534) != 0) {
    g_test_skip("cannot give a symbolic link to another user (not root)");
    return;
  }
  named = read_one(link);
  g_assert_cmpuint(named->len, ==, 1);
  assert_failed(g_ptr_array_index(named, 0), link, -1,
                "a symbolic link made by another user (uid 65534): not followed");
  walked = read_one(folder);
  g_assert_cmpuint(walked->len, ==, 1);
  assert_failed(g_ptr_array_index(walked, 0), link, -1,
                "a symbolic link made by another user (uid 65534): not followed");
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init(&argc, &argv, NULL);
  registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);
  tmpdir = g_dir_make_tmp("chartdesk-files-XXXXXX", &error);
  g_assert_no_error(error);
  /* the fixtures' broken bytes make libtiff and poppler talk; the reasons
   * are asserted on the records */
  TIFFSetWarningHandler(NULL);
  TIFFSetErrorHandler(NULL);

  g_test_add_func("/chartdesk/files/tiff-compressions", test_files_tiff_compressions);
  g_test_add_func("/chartdesk/files/png-jpeg", test_files_png_jpeg);
  g_test_add_func("/chartdesk/files/folder-order", test_files_folder_order);
  g_test_add_func("/chartdesk/files/not-pages", test_files_not_pages);
  g_test_add_func("/chartdesk/files/broken-tiff", test_files_broken_tiff);
  g_test_add_func("/chartdesk/files/too-large", test_files_too_large);
  g_test_add_func("/chartdesk/files/pdf", test_files_pdf);
  g_test_add_func("/chartdesk/files/pdf-broken", test_files_pdf_broken);
  g_test_add_func("/chartdesk/files/pdf-scanner", test_files_pdf_scanner);
  g_test_add_func("/chartdesk/files/input-limits", test_files_input_limits);
  g_test_add_func("/chartdesk/files/symlinked-folder", test_files_symlinked_folder);
  g_test_add_func("/chartdesk/files/foreign-link", test_files_foreign_link);
  ret = g_test_run();

  cd_test_rm_rf(tmpdir);
  g_free(tmpdir);
  g_object_unref(registry);
  return ret;
}
