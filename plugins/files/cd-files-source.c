/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <cairo.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <glib/gstdio.h>
#include <poppler.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <tiffio.h>
#include <unistd.h>

#include "cd-files-source.h"

/**
 * CdFilesSource:
 *
 * Reads pages from files and folders: multi-page TIFF through libtiff (any
 * compression libtiff decodes: CCITT G3/G4, LZW, JPEG, PackBits, Deflate,
 * none), PNG and JPEG through Leptonica, and PDF through poppler, each page
 * rendered at the `resolution` option, one page at a time. Folders are read
 * recursively in name order. A file is hashed before it is decoded, so the
 * engine can skip content already archived.
 *
 * Anything wrong with one file (missing, empty, not an image, truncated,
 * corrupt, too large) becomes a failed page naming the file, the page and
 * the reason, and reading goes on with the next page or file.
 */
struct _CdFilesSource {
  CdSource parent_instance;
  gboolean recursive;
  gdouble max_megapixels;
  guint64 max_image_bytes; /* PNG and JPEG files are read whole: refuse larger */
  guint max_pdf_pages;
  guint default_resolution;
  guint resolution;
  GPtrArray *files; /* of gchar*: every file to read, in order */
  guint next_file;
  TIFF *tif;            /* the multi-page file being read, or NULL */
  gchar *path;          /* its path */
  gchar *sha256;        /* its hash */
  gint page;            /* index of the next directory to read */
  GString *tiff_error;  /* libtiff's messages for the current file */
  PopplerDocument *pdf; /* the PDF being read, or NULL; path, sha256, page as for TIFF */
  gint pdf_pages;       /* its number of pages */
  gint fd;              /* the file being read, opened once (see cd_files_source_open_input()), or -1 */
};

G_DEFINE_TYPE(CdFilesSource, cd_files_source, CD_TYPE_SOURCE)

enum {
  PROP_0,
  PROP_RECURSIVE,
  PROP_MAX_MEGAPIXELS,
  PROP_DEFAULT_RESOLUTION,
  PROP_RESOLUTION,
  PROP_MAX_IMAGE_BYTES,
  PROP_MAX_PDF_PAGES,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

#define DEFAULT_RECURSIVE TRUE
#define DEFAULT_MAX_MEGAPIXELS 150.0
#define DEFAULT_DEFAULT_RESOLUTION 300
#define DEFAULT_RESOLUTION 300
/* a 600 dpi colour letter page is 10-40 MB as PNG, a few MB as JPEG */
#define DEFAULT_MAX_IMAGE_BYTES (G_GUINT64_CONSTANT(256) * 1024 * 1024)
/* the thickest chart volumes run to a few hundred pages */
#define DEFAULT_MAX_PDF_PAGES 2000

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TIFFOpenOptions, TIFFOpenOptionsFree)

static const gchar *const image_suffixes[] = { ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".pdf", NULL };

static void
cd_files_source_close_file(CdFilesSource *self)
{
  if (self->tif != NULL)
    TIFFClose(self->tif);
  self->tif = NULL;
  g_clear_object(&self->pdf);
  self->pdf_pages = 0;
  g_clear_pointer(&self->path, g_free);
  g_clear_pointer(&self->sha256, g_free);
  self->page = 0;
  g_string_truncate(self->tiff_error, 0);
  if (self->fd >= 0)
    close(self->fd);
  self->fd = -1;
}

static void
cd_files_source_finalize(GObject *object)
{
  CdFilesSource *self = CD_FILES_SOURCE(object);

  cd_files_source_close_file(self);
  g_ptr_array_unref(self->files);
  g_string_free(self->tiff_error, TRUE);

  G_OBJECT_CLASS(cd_files_source_parent_class)->finalize(object);
}

static void
cd_files_source_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdFilesSource *self = CD_FILES_SOURCE(object);

  switch (prop_id) {
  case PROP_RECURSIVE:
    g_value_set_boolean(value, self->recursive);
    break;
  case PROP_MAX_MEGAPIXELS:
    g_value_set_double(value, self->max_megapixels);
    break;
  case PROP_DEFAULT_RESOLUTION:
    g_value_set_uint(value, self->default_resolution);
    break;
  case PROP_RESOLUTION:
    g_value_set_uint(value, self->resolution);
    break;
  case PROP_MAX_IMAGE_BYTES:
    g_value_set_uint64(value, self->max_image_bytes);
    break;
  case PROP_MAX_PDF_PAGES:
    g_value_set_uint(value, self->max_pdf_pages);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_files_source_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdFilesSource *self = CD_FILES_SOURCE(object);

  switch (prop_id) {
  case PROP_RECURSIVE:
    self->recursive = g_value_get_boolean(value);
    break;
  case PROP_MAX_MEGAPIXELS:
    self->max_megapixels = g_value_get_double(value);
    break;
  case PROP_DEFAULT_RESOLUTION:
    self->default_resolution = g_value_get_uint(value);
    break;
  case PROP_RESOLUTION:
    self->resolution = g_value_get_uint(value);
    break;
  case PROP_MAX_IMAGE_BYTES:
    self->max_image_bytes = g_value_get_uint64(value);
    break;
  case PROP_MAX_PDF_PAGES:
    self->max_pdf_pages = g_value_get_uint(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static gboolean
cd_files_source_is_image_name(const gchar *name)
{
  g_autofree gchar *lower = g_ascii_strdown(name, -1);
  for (guint i = 0; image_suffixes[i] != NULL; i++) {
    if (g_str_has_suffix(lower, image_suffixes[i]))
      return TRUE;
  }
  return FALSE;
}

static gint
cd_files_source_compare_names(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

/* Adds the image files under @dir in name order, subfolders in place. Files
 * that are not named like images (notes, thumbnails.db) are not pages and
 * are passed over; hidden entries too. A symbolic link to a folder is not
 * followed: it could lead out of the tree given (or round in a loop); a
 * folder named on the command line is read even when it is a link. */
static void
cd_files_source_collect(CdFilesSource *self, const gchar *dir, guint depth)
{
  g_autoptr(GDir) d = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  const gchar *name;

  d = g_dir_open(dir, 0, &error);
  if (d == NULL) {
    /* an unreadable folder becomes a failed record when "read" */
    g_ptr_array_add(self->files, g_strdup(dir));
    return;
  }
  while ((name = g_dir_read_name(d)) != NULL) {
    if (name[0] != '.')
      g_ptr_array_add(names, g_strdup(name));
  }
  g_ptr_array_sort(names, cd_files_source_compare_names);
  for (guint i = 0; i < names->len; i++) {
    const gchar *base = g_ptr_array_index(names, i);
    g_autofree gchar *path = g_build_filename(dir, base, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_SYMLINK) && g_file_test(path, G_FILE_TEST_IS_DIR)) {
      g_message("%s: a symbolic link to a folder, not followed", path);
    } else if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
      if (self->recursive && depth < 64)
        cd_files_source_collect(self, path, depth + 1);
    } else if (cd_files_source_is_image_name(base)) {
      g_ptr_array_add(self->files, g_steal_pointer(&path));
    } else {
      g_debug("%s: not named like an image, passed over", path);
    }
  }
}

static gboolean
cd_files_source_open(CdSource *source, const gchar *const *inputs, GError **error)
{
  CdFilesSource *self = CD_FILES_SOURCE(source);

  if (inputs == NULL || inputs[0] == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "no files or folders to read");
    return FALSE;
  }
  for (guint i = 0; inputs[i] != NULL; i++) {
    if (g_file_test(inputs[i], G_FILE_TEST_IS_DIR))
      cd_files_source_collect(self, inputs[i], 0);
    else
      g_ptr_array_add(self->files, g_strdup(inputs[i]));
  }
  cd_source_set_n_inputs(source, self->files->len);
  return TRUE;
}

static CdPage *cd_files_source_failed(const gchar *path, gint page, const gchar *sha256, const gchar *format, ...)
    G_GNUC_PRINTF(4, 5);

/* A record for what could not be read. Page numbers in reasons count from
 * one, as people do; the record's index counts from zero. */
static CdPage *
cd_files_source_failed(const gchar *path, gint page, const gchar *sha256, const gchar *format, ...)
{
  g_autoptr(CdPage) record = cd_page_new(path, page, sha256);
  g_autofree gchar *reason = NULL;
  va_list args;

  va_start(args, format);
  reason = g_strdup_vprintf(format, args);
  va_end(args);
  g_message("%s: %s", path, reason);
  cd_page_set_kind(record, CD_PAGE_KIND_FAILED, reason);
  return g_steal_pointer(&record);
}

static gint
cd_files_source_tiff_error(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
  CdFilesSource *self = user_data;
  if (self->tiff_error->len > 0)
    g_string_append(self->tiff_error, "; ");
  g_string_append_vprintf(self->tiff_error, fmt, ap);
  return 1;
}

static gint
cd_files_source_tiff_warning(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
  /* unknown tags and the like: scanners write plenty, none matter */
  return 1;
}

static const gchar *
cd_files_source_tiff_reason(CdFilesSource *self, const gchar *fallback)
{
  return self->tiff_error->len > 0 ? self->tiff_error->str : fallback;
}

static gboolean
cd_files_source_check_size(CdFilesSource *self, guint32 width, guint32 height, GError **error)
{
  gdouble mp = (gdouble) width * height / 1e6;

  if (width == 0 || height == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "image has no pixels (%u × %u)", width, height);
    return FALSE;
  }
  if (mp > self->max_megapixels) {
    g_set_error(error, CD_ERROR, CD_ERROR_TOO_LARGE,
                "image is %u × %u pixels (%.1f megapixels), over the limit of %g (option max-megapixels)", width,
                height, mp, self->max_megapixels);
    return FALSE;
  }
  return TRUE;
}

/* Decodes the current TIFF directory. Bilevel and 8-bit grey strips, what
 * production scanners write, are read line by line into their own depth;
 * everything else goes through libtiff's RGBA path. */
static PIX *
cd_files_source_decode_tiff(CdFilesSource *self, GError **error)
{
  TIFF *tif = self->tif;
  guint32 width = 0, height = 0;
  guint16 bps = 1, spp = 1, photometric = PHOTOMETRIC_MINISWHITE, planar = PLANARCONFIG_CONTIG;
  g_autoptr(PIX) pix = NULL;

  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric))
    photometric = bps == 1 ? PHOTOMETRIC_MINISWHITE : PHOTOMETRIC_MINISBLACK;
  if (!cd_files_source_check_size(self, width, height, error))
    return NULL;

  if (!TIFFIsTiled(tif) && spp == 1 && (bps == 1 || bps == 8) &&
      (photometric == PHOTOMETRIC_MINISWHITE || photometric == PHOTOMETRIC_MINISBLACK)) {
    g_autofree guint8 *buf = g_malloc(TIFFScanlineSize(tif));
    /* Leptonica's bilevel 1 is black; 8-bit 0 is black */
    gboolean invert =
        (bps == 1 && photometric == PHOTOMETRIC_MINISBLACK) || (bps == 8 && photometric == PHOTOMETRIC_MINISWHITE);
    guint bytes = bps == 1 ? (width + 7) / 8 : width;

    pix = pixCreate(width, height, bps);
    if (pix == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_TOO_LARGE, "cannot allocate a %u × %u image", width, height);
      return NULL;
    }
    for (guint32 row = 0; row < height; row++) {
      l_uint32 *line = pixGetData(pix) + row * pixGetWpl(pix);
      if (TIFFReadScanline(tif, buf, row, 0) < 0) {
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "truncated or corrupt image data at row %u of %u: %s",
                    row + 1, height, cd_files_source_tiff_reason(self, "read error"));
        return NULL;
      }
      for (guint i = 0; i < bytes; i++)
        SET_DATA_BYTE(line, i, invert ? (guint8) ~buf[i] : buf[i]);
    }
    if (bps == 1)
      pixSetPadBits(pix, 0);
  } else {
    g_autofree guint32 *raster = NULL;
    if ((guint64) width * height > G_MAXSIZE / 4) {
      g_set_error(error, CD_ERROR, CD_ERROR_TOO_LARGE, "cannot allocate a %u × %u image", width, height);
      return NULL;
    }
    raster = g_try_malloc((gsize) width * height * 4);
    if (raster == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_TOO_LARGE, "cannot allocate a %u × %u image", width, height);
      return NULL;
    }
    if (!TIFFReadRGBAImageOriented(tif, width, height, raster, ORIENTATION_TOPLEFT, 0)) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                  "cannot decode image (%u bits × %u samples, "
                  "photometric %u): %s",
                  bps, spp, photometric, cd_files_source_tiff_reason(self, "unsupported"));
      return NULL;
    }
    pix = pixCreate(width, height, 32);
    if (pix == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_TOO_LARGE, "cannot allocate a %u × %u image", width, height);
      return NULL;
    }
    for (guint32 row = 0; row < height; row++) {
      l_uint32 *line = pixGetData(pix) + row * pixGetWpl(pix);
      const guint32 *src = raster + (gsize) row * width;
      for (guint32 col = 0; col < width; col++)
        composeRGBPixel(TIFFGetR(src[col]), TIFFGetG(src[col]), TIFFGetB(src[col]), line + col);
    }
    /* a grey page stored as RGB is grey: keep it small */
    if (spp == 1) {
      PIX *grey = pixConvertRGBToLuminance(pix);
      if (grey != NULL) {
        pixDestroy(&pix);
        pix = grey;
      }
    }
  }
  return g_steal_pointer(&pix);
}

static void
cd_files_source_tiff_resolution(CdFilesSource *self, gint *xres, gint *yres)
{
  gfloat x = 0, y = 0;
  guint16 unit = RESUNIT_INCH;

  TIFFGetField(self->tif, TIFFTAG_XRESOLUTION, &x);
  TIFFGetField(self->tif, TIFFTAG_YRESOLUTION, &y);
  TIFFGetFieldDefaulted(self->tif, TIFFTAG_RESOLUTIONUNIT, &unit);
  if (unit == RESUNIT_CENTIMETER) {
    x *= 2.54f;
    y *= 2.54f;
  }
  /* a damaged file may say anything, NaN or 1e38 dpi included: what no
   * scanner produces is 0, "not said", so the default applies */
  *xres = isfinite(x) && x > 0 && x < 100000 ? (gint) (x + 0.5f) : 0;
  *yres = isfinite(y) && y > 0 && y < 100000 ? (gint) (y + 0.5f) : 0;
}

/* Stamps the page's resolution; a scan that does not say is assumed to be
 * at the default resolution, and the page says so in its facts. */
static void
cd_files_source_set_resolution(CdFilesSource *self, CdPage *page, gint xres, gint yres)
{
  if (xres < 20 || yres < 20 || xres > 4800 || yres > 4800) {
    cd_page_set_fact(page, "files.resolution-assumed", g_variant_new_boolean(TRUE));
    xres = yres = self->default_resolution;
  }
  cd_page_set_resolution(page, xres, yres);
}

/* The next page of the open TIFF, a failure record for it, or NULL when the
 * file has no more pages. */
static CdPage *
cd_files_source_next_tiff_page(CdFilesSource *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPage) page = NULL;
  g_autoptr(PIX) pix = NULL;
  gint index = self->page;
  gint xres = 0, yres = 0;

  g_string_truncate(self->tiff_error, 0);
  if (index > 0 && !TIFFReadDirectory(self->tif)) {
    if (self->tiff_error->len > 0) {
      /* the chain of pages is broken: what follows cannot be found */
      page = cd_files_source_failed(self->path, index, self->sha256, "the page and any after it cannot be read: %s",
                                    self->tiff_error->str);
      cd_files_source_close_file(self);
      return g_steal_pointer(&page);
    }
    cd_files_source_close_file(self);
    return NULL;
  }
  self->page++;
  pix = cd_files_source_decode_tiff(self, &error);
  if (pix == NULL)
    return cd_files_source_failed(self->path, index, self->sha256, "%s", error->message);
  page = cd_page_new(self->path, index, self->sha256);
  cd_files_source_tiff_resolution(self, &xres, &yres);
  cd_files_source_set_resolution(self, page, xres, yres);
  cd_page_set_pix(page, g_steal_pointer(&pix));
  return g_steal_pointer(&page);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(cairo_surface_t, cairo_surface_destroy)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cairo_t, cairo_destroy)
/* poppler-glib 22.12 declares no cleanup functions of its own */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerDocument, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerPage, g_object_unref)

/* Renders one PDF page at @dpi onto white, straight into a 32-bit PIX (a
 * cairo RGB24 row of a PIX's width is exactly a PIX row), then turns cairo's
 * 0x00RRGGBB words into Leptonica's 0xRRGGBB00. A page with no colour in it
 * comes back as 8-bit grey, a quarter of the memory. */
static PIX *
cd_files_source_render_pdf_page(CdFilesSource *self, PopplerPage *ppage, guint dpi, GError **error)
{
  g_autoptr(PIX) pix = NULL;
  g_autoptr(cairo_surface_t) surface = NULL;
  g_autoptr(cairo_t) cr = NULL;
  gdouble wpt = 0, hpt = 0;
  guint32 width, height;
  gboolean colour = FALSE;

  poppler_page_get_size(ppage, &wpt, &hpt);
  if (!(wpt > 0 && hpt > 0 && wpt < 14400 && hpt < 14400)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "page size %.0f × %.0f points is not a page", wpt, hpt);
    return NULL;
  }
  width = (guint32) (wpt * dpi / 72.0 + 0.5);
  height = (guint32) (hpt * dpi / 72.0 + 0.5);
  if (!cd_files_source_check_size(self, width, height, error))
    return NULL;
  pix = pixCreate(width, height, 32);
  if (pix == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_TOO_LARGE, "cannot allocate a %u × %u image", width, height);
    return NULL;
  }
  surface = cairo_image_surface_create_for_data((guchar *) pixGetData(pix), CAIRO_FORMAT_RGB24, width, height,
                                                pixGetWpl(pix) * 4);
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, CD_ERROR, CD_ERROR_TOO_LARGE, "cannot render a %u × %u image: %s", width, height,
                cairo_status_to_string(cairo_surface_status(surface)));
    return NULL;
  }
  cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_scale(cr, dpi / 72.0, dpi / 72.0);
  poppler_page_render_for_printing(ppage, cr);
  cairo_surface_flush(surface);
  if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "cannot render: %s", cairo_status_to_string(cairo_status(cr)));
    return NULL;
  }
  g_clear_pointer(&cr, cairo_destroy);
  g_clear_pointer(&surface, cairo_surface_destroy);

  for (guint32 row = 0; row < height; row++) {
    l_uint32 *line = pixGetData(pix) + (gsize) row * pixGetWpl(pix);
    for (guint32 col = 0; col < width; col++) {
      guint32 v = line[col];
      guint8 r = (v >> 16) & 0xff, g = (v >> 8) & 0xff, b = v & 0xff;
      colour = colour || r != g || g != b;
      line[col] = v << 8;
    }
  }
  if (!colour) {
    PIX *grey = pixGetRGBComponent(pix, COLOR_GREEN);
    if (grey != NULL) {
      pixDestroy(&pix);
      pix = grey;
    }
  }
  pixSetResolution(pix, dpi, dpi);
  return g_steal_pointer(&pix);
}

/* The next page of the open PDF, a failure record for it, or NULL when the
 * file has no more pages. Pages are rendered one at a time, as asked for. */
static CdPage *
cd_files_source_next_pdf_page(CdFilesSource *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PopplerPage) ppage = NULL;
  g_autoptr(CdPage) page = NULL;
  g_autoptr(PIX) pix = NULL;
  gint index = self->page;

  if (index >= self->pdf_pages) {
    cd_files_source_close_file(self);
    return NULL;
  }
  self->page++;
  ppage = poppler_document_get_page(self->pdf, index);
  if (ppage == NULL)
    return cd_files_source_failed(self->path, index, self->sha256, "the page cannot be read from the PDF");
  pix = cd_files_source_render_pdf_page(self, ppage, self->resolution, &error);
  if (pix == NULL)
    return cd_files_source_failed(self->path, index, self->sha256, "%s", error->message);
  page = cd_page_new(self->path, index, self->sha256);
  cd_page_set_resolution(page, self->resolution, self->resolution);
  cd_page_set_pix(page, g_steal_pointer(&pix));
  return g_steal_pointer(&page);
}

/* Opens a PDF for reading page by page. Returns a failure record when the
 * file cannot be read as one (encrypted, corrupt, no pages), else NULL. */
static CdPage *
cd_files_source_open_pdf(CdFilesSource *self, const gchar *path, const gchar *read_path, const gchar *sha256)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = g_file_new_for_path(read_path);
  g_autoptr(PopplerDocument) pdf = poppler_document_new_from_gfile(file, NULL, NULL, &error);
  gint n;

  if (pdf == NULL) {
    if (g_error_matches(error, POPPLER_ERROR, POPPLER_ERROR_ENCRYPTED))
      return cd_files_source_failed(path, -1, sha256, "PDF is encrypted (password protected): it cannot be read");
    return cd_files_source_failed(path, -1, sha256, "not a readable PDF: %s", error->message);
  }
  n = poppler_document_get_n_pages(pdf);
  if (n <= 0)
    return cd_files_source_failed(path, -1, sha256, "PDF has no pages");
  if ((guint) n > self->max_pdf_pages)
    return cd_files_source_failed(path, -1, sha256, "PDF has %d pages, over the limit of %u (option max-pdf-pages)", n,
                                  self->max_pdf_pages);
  self->pdf = g_steal_pointer(&pdf);
  self->pdf_pages = n;
  self->path = g_strdup(path);
  self->sha256 = g_strdup(sha256);
  self->page = 0;
  return NULL;
}

typedef enum {
  CD_FORMAT_UNKNOWN,
  CD_FORMAT_TIFF,
  CD_FORMAT_PNG,
  CD_FORMAT_JPEG,
  CD_FORMAT_PDF,
} CdFormat;

static CdFormat
cd_files_source_sniff(const guint8 *head, gsize len)
{
  if (len >= 4 && ((head[0] == 'I' && head[1] == 'I' && (head[2] == 42 || head[2] == 43) && head[3] == 0) ||
                   (head[0] == 'M' && head[1] == 'M' && head[2] == 0 && (head[3] == 42 || head[3] == 43))))
    return CD_FORMAT_TIFF;
  if (len >= 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0)
    return CD_FORMAT_PNG;
  if (len >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff)
    return CD_FORMAT_JPEG;
  /* PDF readers accept the header anywhere in the first kilobyte */
  for (gsize i = 0; i + 5 <= len; i++) {
    if (memcmp(head + i, "%PDF-", 5) == 0)
      return CD_FORMAT_PDF;
  }
  return CD_FORMAT_UNKNOWN;
}

static CdPage *
cd_files_source_read_single(CdFilesSource *self, const gchar *path, const gchar *read_path, const gchar *sha256,
                            CdFormat format, goffset size)
{
  g_autofree gchar *data = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPage) page = NULL;
  g_autoptr(PIX) pix = NULL;
  gsize len = 0;
  l_int32 w = 0, h = 0, bps = 0, spp = 0;
  const gchar *name = format == CD_FORMAT_PNG ? "PNG" : "JPEG";

  /* the file is read whole into memory: refuse before reading */
  if ((guint64) size > self->max_image_bytes)
    return cd_files_source_failed(path, -1, sha256,
                                  "%s file is %" G_GUINT64_FORMAT " bytes, over the limit of %" G_GUINT64_FORMAT
                                  " (option max-image-bytes)",
                                  name, (guint64) size, self->max_image_bytes);
  if (!g_file_get_contents(read_path, &data, &len, &error))
    return cd_files_source_failed(path, -1, sha256, "cannot read: %s", error->message);
  if (pixReadHeaderMem((const l_uint8 *) data, len, NULL, &w, &h, &bps, &spp, NULL) != 0)
    return cd_files_source_failed(path, -1, sha256, "%s header is corrupt or truncated", name);
  if (!cd_files_source_check_size(self, w, h, &error))
    return cd_files_source_failed(path, 0, sha256, "%s", error->message);
  pix = pixReadMem((const l_uint8 *) data, len);
  if (pix == NULL)
    return cd_files_source_failed(path, 0, sha256, "%s data is corrupt or truncated", name);
  if (pixGetColormap(pix) != NULL) {
    PIX *plain = pixRemoveColormap(pix, REMOVE_CMAP_BASED_ON_SRC);
    if (plain != NULL) {
      pixDestroy(&pix);
      pix = plain;
    }
  }
  page = cd_page_new(path, 0, sha256);
  cd_files_source_set_resolution(self, page, pixGetXRes(pix), pixGetYRes(pix));
  cd_page_set_pix(page, g_steal_pointer(&pix));
  return g_steal_pointer(&page);
}

/* Opens @path once for reading, and returns the descriptor (or -1 with a
 * record's @reason). Every later read goes through this descriptor, so the
 * file checked is the file read: a name swapped for a symbolic link in
 * between (a hot folder or a source folder others can write to) is not
 * followed. A symbolic link named as an input is followed only when it
 * belongs to the user running Chartdesk or to root: another user's link
 * could point at a file only we may read. @st receives the file's status. */
static gint
cd_files_source_open_input(const gchar *path, GStatBuf *st, gchar **reason)
{
  GStatBuf lst;
  gint fd;

  if (g_lstat(path, &lst) != 0) {
    *reason = g_strdup_printf("cannot read: %s", g_strerror(errno));
    return -1;
  }
  if (S_ISLNK(lst.st_mode) && lst.st_uid != geteuid() && lst.st_uid != 0) {
    *reason = g_strdup_printf("a symbolic link made by another user (uid %u): not followed", (guint) lst.st_uid);
    return -1;
  }
  if (g_stat(path, st) != 0) {
    *reason = g_strdup_printf("cannot read: %s", g_strerror(errno));
    return -1;
  }
  if (S_ISDIR(st->st_mode)) {
    *reason = g_strdup("cannot read folder: permission denied");
    return -1;
  }
  if (!S_ISREG(st->st_mode)) {
    *reason = g_strdup("not a regular file");
    return -1;
  }
  if (S_ISLNK(lst.st_mode)) {
    g_autofree gchar *real = realpath(path, NULL);
    fd = real != NULL ? g_open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0) : -1;
  } else {
    fd = g_open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
  }
  if (fd < 0) {
    *reason = errno == ELOOP ? g_strdup("became a symbolic link while being opened: not followed")
                             : g_strdup_printf("cannot read: %s", g_strerror(errno));
    return -1;
  }
  {
    GStatBuf now;
    if (fstat(fd, &now) != 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino || !S_ISREG(now.st_mode)) {
      close(fd);
      *reason = g_strdup("changed while being opened: not read");
      return -1;
    }
    *st = now;
  }
  return fd;
}

/* Opens the next file. Returns a record when the file yields one right away
 * (single images, failures, duplicates), or NULL with the TIFF open. */
static CdPage *
cd_files_source_start_file(CdFilesSource *self, const gchar *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TIFFOpenOptions) opts = NULL;
  g_autofree gchar *sha256 = NULL;
  g_autofree gchar *reason = NULL;
  g_autofree gchar *read_path = NULL;
  GStatBuf st;
  guint8 head[1024] = { 0 };
  gsize head_len = 0;
  gssize n;
  CdFormat format;
  CdPage *record;

  self->fd = cd_files_source_open_input(path, &st, &reason);
  if (self->fd < 0)
    return cd_files_source_failed(path, -1, NULL, "%s", reason);
  /* the libraries open files by name: give them the descriptor's, which
   * names the file already open whatever happens to @path */
  read_path =
      g_file_test("/proc/self/fd", G_FILE_TEST_IS_DIR) ? g_strdup_printf("/proc/self/fd/%d", self->fd) : g_strdup(path);
  if (st.st_size == 0) {
    cd_files_source_close_file(self);
    return cd_files_source_failed(path, -1, NULL, "file is empty (0 bytes)");
  }
  sha256 = cd_source_hash_file(read_path, NULL, &error);
  if (sha256 == NULL) {
    cd_files_source_close_file(self);
    return cd_files_source_failed(path, -1, NULL, "cannot read: %s", error->message);
  }
  if (!cd_source_check_file(CD_SOURCE(self), path, sha256, &reason)) {
    g_autoptr(CdPage) dup = cd_page_new(path, -1, sha256);
    g_info("%s: skipped: %s", path, reason);
    cd_page_set_kind(dup, CD_PAGE_KIND_DUPLICATE, reason);
    cd_files_source_close_file(self);
    return g_steal_pointer(&dup);
  }

  do
    n = pread(self->fd, head, sizeof head, 0);
  while (n < 0 && errno == EINTR);
  head_len = n > 0 ? (gsize) n : 0;
  format = cd_files_source_sniff(head, head_len);
  if (format == CD_FORMAT_UNKNOWN) {
    cd_files_source_close_file(self);
    return cd_files_source_failed(path, -1, sha256, "not an image: the content is not TIFF, PNG, JPEG or PDF");
  }
  if (format == CD_FORMAT_PDF) {
    record = cd_files_source_open_pdf(self, path, read_path, sha256);
    if (record != NULL)
      cd_files_source_close_file(self);
    return record;
  }
  if (format != CD_FORMAT_TIFF) {
    record = cd_files_source_read_single(self, path, read_path, sha256, format, st.st_size);
    cd_files_source_close_file(self);
    return record;
  }

  opts = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(opts, cd_files_source_tiff_error, self);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, cd_files_source_tiff_warning, self);
  g_string_truncate(self->tiff_error, 0);
  self->tif = TIFFOpenExt(read_path, "r", opts);
  if (self->tif == NULL) {
    record = cd_files_source_failed(path, -1, sha256, "not a readable TIFF: %s",
                                    cd_files_source_tiff_reason(self, "cannot open"));
    cd_files_source_close_file(self);
    return record;
  }
  self->path = g_strdup(path);
  self->sha256 = g_steal_pointer(&sha256);
  self->page = 0;
  return NULL;
}

static CdPage *
cd_files_source_next(CdSource *source, GCancellable *cancellable, GError **error)
{
  CdFilesSource *self = CD_FILES_SOURCE(source);

  for (;;) {
    CdPage *page;
    if (self->tif != NULL || self->pdf != NULL) {
      page = self->tif != NULL ? cd_files_source_next_tiff_page(self) : cd_files_source_next_pdf_page(self);
      if (page != NULL)
        return page;
      continue;
    }
    if (self->next_file >= self->files->len)
      return NULL;
    page = cd_files_source_start_file(self, g_ptr_array_index(self->files, self->next_file++));
    if (page != NULL)
      return page;
  }
}

static void
cd_files_source_stop(CdStage *stage)
{
  cd_files_source_close_file(CD_FILES_SOURCE(stage));
}

static void
cd_files_source_class_init(CdFilesSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdSourceClass *source_class = CD_SOURCE_CLASS(klass);

  object_class->finalize = cd_files_source_finalize;
  object_class->get_property = cd_files_source_get_property;
  object_class->set_property = cd_files_source_set_property;
  stage_class->stop = cd_files_source_stop;
  source_class->open = cd_files_source_open;
  source_class->next = cd_files_source_next;

  props[PROP_RECURSIVE] =
      g_param_spec_boolean("recursive", "Recursive", "Read subfolders of the folders given", DEFAULT_RECURSIVE,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_MAX_MEGAPIXELS] =
      g_param_spec_double("max-megapixels", "Largest page",
                          "Refuse pages larger than this many million pixels (a letter page at 600 dpi is 34)", 1, 2000,
                          DEFAULT_MAX_MEGAPIXELS, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_DEFAULT_RESOLUTION] = g_param_spec_uint(
      "default-resolution", "Default resolution", "Resolution in dpi assumed for images that do not record one", 50,
      1200, DEFAULT_DEFAULT_RESOLUTION, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_RESOLUTION] =
      g_param_spec_uint("resolution", "PDF resolution", "Resolution in dpi at which PDF pages are rendered", 50, 1200,
                        DEFAULT_RESOLUTION, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_MAX_IMAGE_BYTES] =
      g_param_spec_uint64("max-image-bytes", "Largest PNG or JPEG file",
                          "Refuse PNG and JPEG files larger than this many bytes (they are read whole into memory)",
                          1024, G_GUINT64_CONSTANT(1) << 40, DEFAULT_MAX_IMAGE_BYTES,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_MAX_PDF_PAGES] =
      g_param_spec_uint("max-pdf-pages", "Most PDF pages", "Refuse PDF files with more pages than this", 1, 1000000,
                        DEFAULT_MAX_PDF_PAGES, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "files",
                              "Reads multi-page TIFF (G3, G4, LZW, JPEG, PackBits, uncompressed), PNG, JPEG and PDF "
                              "files; folders recursively in name order");
}

static void
cd_files_source_init(CdFilesSource *self)
{
  self->files = g_ptr_array_new_with_free_func(g_free);
  self->tiff_error = g_string_new(NULL);
  self->fd = -1;
}
