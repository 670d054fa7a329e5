/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * CdPdfWriter: searchable PDF/A-2b from stored page images, through libharu.
 *
 * libharu writes the objects; what makes the file PDF/A-2b is ours: the XMP
 * packet (libharu's own declares part 1 only), the document ID, the
 * output intent with Debian's sRGB profile, and an embedded TrueType font
 * for every piece of text, the invisible layer included.
 */
#include "config.h"

#include "cd-pdf-writer.h"

#include <glib/gstdio.h>
#include <hpdf.h>
#include <string.h>

#include "cd-error.h"
#include "cd-version.h"

#define CD_PDF_TEXT_PAGE_WIDTH 612.0 /* US Letter, points */
#define CD_PDF_TEXT_PAGE_HEIGHT 792.0
#define CD_PDF_MARGIN 72.0
#define CD_PDF_STAMP_SIZE 8.0

struct _CdPdfWriter {
  GObject parent_instance;

  HPDF_Doc pdf;
  HPDF_Font font; /* the text layer, stamps and body text */
  HPDF_Font bold; /* headings of text pages, loaded with the first */
  gchar *bold_path;
  HPDF_STATUS status; /* the first error libharu reported */
  HPDF_STATUS detail;
  gchar *title;
  gchar *subject;
  gchar *keywords;
  gchar *author;
  GDateTime *created;
  gchar *bates_prefix; /* NULL: no Bates numbers */
  guint bates_next;
  guint bates_digits;
  gchar *last_bates;
  gchar *footer;
  guint n_pages;
  guint n_words_redacted;
  GChecksum *content; /* of every page's content, for the document ID */
  gboolean saved;
};

G_DEFINE_FINAL_TYPE(CdPdfWriter, cd_pdf_writer, G_TYPE_OBJECT)

static void
cd_pdf_writer_finalize(GObject *object)
{
  CdPdfWriter *self = CD_PDF_WRITER(object);

  if (self->pdf != NULL)
    HPDF_Free(self->pdf);
  g_free(self->bold_path);
  g_free(self->title);
  g_free(self->subject);
  g_free(self->keywords);
  g_free(self->author);
  g_clear_pointer(&self->created, g_date_time_unref);
  g_free(self->bates_prefix);
  g_free(self->last_bates);
  g_free(self->footer);
  g_checksum_free(self->content);
  G_OBJECT_CLASS(cd_pdf_writer_parent_class)->finalize(object);
}

static void
cd_pdf_writer_class_init(CdPdfWriterClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = cd_pdf_writer_finalize;
}

static void
cd_pdf_writer_init(CdPdfWriter *self)
{
  self->content = g_checksum_new(G_CHECKSUM_SHA256);
  self->bates_digits = 6;
  self->bates_next = 1;
}

/* libharu reports errors through this callback as well as return values;
 * keep the first so the GError names the cause rather than a later
 * consequence. */
static void
cd_pdf_writer_on_error(HPDF_STATUS status, HPDF_STATUS detail, void *user_data)
{
  CdPdfWriter *self = user_data;

  if (self->status == HPDF_OK) {
    self->status = status;
    self->detail = detail;
  }
}

/* Turns a failed libharu call into @error, naming @what; clears the
 * document's error state so a caller may carry on after a bad page. */
static gboolean
cd_pdf_writer_check(CdPdfWriter *self, HPDF_STATUS rc, const gchar *what, GError **error)
{
  if (rc == HPDF_OK && self->status == HPDF_OK)
    return TRUE;
  g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "PDF writer: %s failed (libharu error 0x%04X, detail %u)", what,
              (guint) (self->status != HPDF_OK ? self->status : rc), (guint) self->detail);
  self->status = HPDF_OK;
  self->detail = HPDF_OK;
  HPDF_ResetError(self->pdf);
  return FALSE;
}

static const gchar *
cd_pdf_find_file(const gchar *env, const gchar *const *candidates, const gchar *what, GError **error)
{
  const gchar *path = g_getenv(env);

  if (path != NULL && *path != '\0') {
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
      return path;
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s %s (from %s) does not exist", what, path, env);
    return NULL;
  }
  for (guint i = 0; candidates[i] != NULL; i++) {
    if (g_file_test(candidates[i], G_FILE_TEST_IS_REGULAR))
      return candidates[i];
  }
  g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no %s found (tried %s; install it or set %s)", what, candidates[0],
              env);
  return NULL;
}

static HPDF_Font
cd_pdf_writer_load_font(CdPdfWriter *self, const gchar *path, GError **error)
{
  const char *name = HPDF_LoadTTFontFromFile(self->pdf, path, HPDF_TRUE);
  HPDF_Font font;

  if (name == NULL) {
    g_autoptr(GError) local = NULL;
    cd_pdf_writer_check(self, HPDF_FAILD_TO_ALLOC_MEM, "loading the font", &local);
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "cannot load TrueType font %s: %s", path, local->message);
    return NULL;
  }
  font = HPDF_GetFont(self->pdf, name, "WinAnsiEncoding");
  if (font == NULL) {
    g_autoptr(GError) local = NULL;
    cd_pdf_writer_check(self, HPDF_FAILD_TO_ALLOC_MEM, "selecting the font", &local);
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "cannot use TrueType font %s: %s", path, local->message);
  }
  return font;
}

/**
 * cd_pdf_writer_new:
 * @error: return location for a #GError
 *
 * Starts a PDF/A-2b document. The font is DejaVu Sans
 * (fonts-dejavu-core; Liberation Sans from fonts-liberation2 is the
 * fallback), embedded; `CD_PDF_FONT` and
 * `CD_PDF_BOLD_FONT` name other TrueType files. The output intent is the
 * sRGB profile of icc-profiles-free (`CD_PDF_ICC_PROFILE` names another).
 *
 * Returns: (transfer full) (nullable): a writer, or %NULL when the font
 *   or the colour profile is missing
 *
 * Since: 0.4
 */
CdPdfWriter *
cd_pdf_writer_new(GError **error)
{
  static const gchar *const fonts[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    NULL,
  };
  static const gchar *const bold_fonts[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    NULL,
  };
  static const gchar *const profiles[] = {
    "/usr/share/color/icc/sRGB.icc",
    "/usr/share/color/icc/colord/sRGB.icc",
    NULL,
  };
  g_autoptr(CdPdfWriter) self = g_object_new(CD_TYPE_PDF_WRITER, NULL);
  const gchar *font_path;
  const gchar *bold_path;
  const gchar *icc_path;
  HPDF_OutputIntent intent;

  font_path = cd_pdf_find_file("CD_PDF_FONT", fonts, "TrueType font", error);
  if (font_path == NULL)
    return NULL;
  icc_path = cd_pdf_find_file("CD_PDF_ICC_PROFILE", profiles, "sRGB ICC profile", error);
  if (icc_path == NULL)
    return NULL;
  bold_path = cd_pdf_find_file("CD_PDF_BOLD_FONT", bold_fonts, "bold TrueType font", NULL);

  self->pdf = HPDF_New(cd_pdf_writer_on_error, self);
  if (self->pdf == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_FAILED, "PDF writer: libharu cannot start a document");
    return NULL;
  }
  if (!cd_pdf_writer_check(self, HPDF_SetCompressionMode(self->pdf, HPDF_COMP_ALL), "setting compression", error))
    return NULL;
  self->font = cd_pdf_writer_load_font(self, font_path, error);
  if (self->font == NULL)
    return NULL;
  /* PDF 1.7 is what PDF/A-2 is built on */
  self->pdf->pdf_version = HPDF_VER_17;
  self->bold_path = g_strdup(bold_path);

  intent = HPDF_LoadIccProfileFromFile(self->pdf, icc_path, 3);
  if (intent == NULL) {
    g_autoptr(GError) local = NULL;
    cd_pdf_writer_check(self, HPDF_FAILD_TO_ALLOC_MEM, "loading the profile", &local);
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "cannot load ICC profile %s: %s", icc_path, local->message);
    return NULL;
  }
  if (!cd_pdf_writer_check(self, HPDF_PDFA_AppendOutputIntents(self->pdf, "sRGB IEC61966-2.1", intent),
                           "adding the sRGB output intent", error))
    return NULL;
  return g_steal_pointer(&self);
}

static void
cd_pdf_writer_replace(gchar **field, const gchar *value)
{
  g_free(*field);
  *field = (value != NULL && *value != '\0') ? g_strdup(value) : NULL;
}

/**
 * cd_pdf_writer_set_title:
 * @self: a #CdPdfWriter
 * @title: (nullable): the document title
 *
 * Sets the title, written to the document information and to the XMP
 * metadata (`dc:title`) when the document is saved.
 *
 * Since: 0.4
 */
void
cd_pdf_writer_set_title(CdPdfWriter *self, const gchar *title)
{
  g_return_if_fail(CD_IS_PDF_WRITER(self));
  cd_pdf_writer_replace(&self->title, title);
}

/**
 * cd_pdf_writer_set_subject:
 * @self: a #CdPdfWriter
 * @subject: (nullable): what the document is about, e.g. patient, type and date
 *
 * Sets the subject (document information `Subject`, XMP `dc:description`).
 *
 * Since: 0.4
 */
void
cd_pdf_writer_set_subject(CdPdfWriter *self, const gchar *subject)
{
  g_return_if_fail(CD_IS_PDF_WRITER(self));
  cd_pdf_writer_replace(&self->subject, subject);
}

/**
 * cd_pdf_writer_set_keywords:
 * @self: a #CdPdfWriter
 * @keywords: (nullable): keywords, comma separated
 *
 * Sets the keywords (document information `Keywords`, XMP `pdf:Keywords`).
 *
 * Since: 0.4
 */
void
cd_pdf_writer_set_keywords(CdPdfWriter *self, const gchar *keywords)
{
  g_return_if_fail(CD_IS_PDF_WRITER(self));
  cd_pdf_writer_replace(&self->keywords, keywords);
}

/**
 * cd_pdf_writer_set_author:
 * @self: a #CdPdfWriter
 * @author: (nullable): who the document is by (or released by)
 *
 * Sets the author (document information `Author`, XMP `dc:creator`).
 *
 * Since: 0.4
 */
void
cd_pdf_writer_set_author(CdPdfWriter *self, const gchar *author)
{
  g_return_if_fail(CD_IS_PDF_WRITER(self));
  cd_pdf_writer_replace(&self->author, author);
}

/**
 * cd_pdf_writer_set_creation_date:
 * @self: a #CdPdfWriter
 * @date: (nullable): when the document was made; %NULL for the time of saving
 *
 * Fixes the creation and modification dates. With the same date, metadata
 * and pages the writer produces the same bytes, so that a released packet
 * can be made again and compared.
 *
 * Since: 0.4
 */
void
cd_pdf_writer_set_creation_date(CdPdfWriter *self, GDateTime *date)
{
  g_return_if_fail(CD_IS_PDF_WRITER(self));
  g_clear_pointer(&self->created, g_date_time_unref);
  if (date != NULL)
    self->created = g_date_time_to_utc(date);
}

/**
 * cd_pdf_writer_set_bates:
 * @self: a #CdPdfWriter
 * @prefix: (nullable): the Bates prefix, e.g. `ROI`; %NULL stops numbering
 * @first: the number the next page gets
 * @digits: how many digits, zero padded (6 gives `ROI000001`)
 *
 * Stamps every page added from now on with a running Bates number at the
 * bottom right, text pages included.
 *
 * Since: 0.4
 */
void
cd_pdf_writer_set_bates(CdPdfWriter *self, const gchar *prefix, guint first, guint digits)
{
  g_return_if_fail(CD_IS_PDF_WRITER(self));
  g_free(self->bates_prefix);
  self->bates_prefix = g_strdup(prefix);
  self->bates_next = first;
  self->bates_digits = CLAMP(digits, 1, 12);
}

/**
 * cd_pdf_writer_set_footer:
 * @self: a #CdPdfWriter
 * @footer: (nullable): a line stamped at the bottom left of every page
 *   added from now on; %NULL for none
 *
 * Sets the footer line, e.g. "Released to … on … — request 12".
 *
 * Since: 0.4
 */
void
cd_pdf_writer_set_footer(CdPdfWriter *self, const gchar *footer)
{
  g_return_if_fail(CD_IS_PDF_WRITER(self));
  cd_pdf_writer_replace(&self->footer, footer);
}

/**
 * cd_pdf_writer_dup_last_bates:
 * @self: a #CdPdfWriter
 *
 * Returns: (transfer full) (nullable): the Bates number stamped on the last
 *   page added, or %NULL when it had none
 *
 * Since: 0.4
 */
gchar *
cd_pdf_writer_dup_last_bates(CdPdfWriter *self)
{
  g_return_val_if_fail(CD_IS_PDF_WRITER(self), NULL);
  return g_strdup(self->last_bates);
}

/**
 * cd_pdf_writer_get_n_pages:
 * @self: a #CdPdfWriter
 *
 * Returns: the pages added so far (a long text page counts as the pages it
 *   flowed onto)
 *
 * Since: 0.4
 */
guint
cd_pdf_writer_get_n_pages(CdPdfWriter *self)
{
  g_return_val_if_fail(CD_IS_PDF_WRITER(self), 0);
  return self->n_pages;
}

/**
 * cd_pdf_writer_get_n_words_redacted:
 * @self: a #CdPdfWriter
 *
 * Returns: how many words were left out of the text layers so far because
 *   a redaction covered them
 *
 * Since: 0.4
 */
guint
cd_pdf_writer_get_n_words_redacted(CdPdfWriter *self)
{
  g_return_val_if_fail(CD_IS_PDF_WRITER(self), 0);
  return self->n_words_redacted;
}

/* The font is simple and WinAnsi encoded (the encoding PDF/A wants of a
 * non-symbolic TrueType font); characters outside it become '?'. */
static gchar *
cd_pdf_to_winansi(const gchar *utf8)
{
  gchar *out = g_convert_with_fallback(utf8, -1, "CP1252", "UTF-8", "?", NULL, NULL, NULL);
  return out != NULL ? out : g_str_to_ascii(utf8, NULL);
}

/* Stamps the footer (bottom left) and the Bates number (bottom right),
 * each on a white label so it reads on any scan. */
static gboolean
cd_pdf_writer_stamp(CdPdfWriter *self, HPDF_Page page, GError **error)
{
  gfloat w = HPDF_Page_GetWidth(page);
  g_autofree gchar *bates = NULL;
  g_autofree gchar *bates_enc = NULL;
  g_autofree gchar *footer_enc = NULL;
  gfloat bates_w = 0;
  gfloat footer_w = 0;

  g_clear_pointer(&self->last_bates, g_free);
  if (self->bates_prefix == NULL && self->footer == NULL)
    return TRUE;
  if (self->bates_prefix != NULL) {
    bates = g_strdup_printf("%s%0*u", self->bates_prefix, (gint) self->bates_digits, self->bates_next++);
    bates_enc = cd_pdf_to_winansi(bates);
  }
  if (self->footer != NULL)
    footer_enc = cd_pdf_to_winansi(self->footer);

  HPDF_Page_GSave(page);
  HPDF_Page_SetFontAndSize(page, self->font, CD_PDF_STAMP_SIZE);
  if (bates_enc != NULL)
    bates_w = HPDF_Page_TextWidth(page, bates_enc);
  if (footer_enc != NULL) {
    gfloat room = w - bates_w - CD_PDF_STAMP_SIZE * 6;
    HPDF_UINT fits = room > 0 ? HPDF_Page_MeasureText(page, footer_enc, room, HPDF_FALSE, NULL) : 0;
    if (fits < strlen(footer_enc))
      footer_enc[fits] = '\0';
    footer_w = HPDF_Page_TextWidth(page, footer_enc);
  }
  /* a white label behind each text only: the rest of the margin stays as
   * scanned, nothing of the record is covered but what the label needs */
  HPDF_Page_SetGrayFill(page, 1.0);
  if (bates_enc != NULL)
    HPDF_Page_Rectangle(page, w - bates_w - CD_PDF_STAMP_SIZE * 2.5, CD_PDF_STAMP_SIZE * 0.6,
                        bates_w + CD_PDF_STAMP_SIZE, CD_PDF_STAMP_SIZE * 1.4);
  if (footer_enc != NULL && footer_w > 0)
    HPDF_Page_Rectangle(page, CD_PDF_STAMP_SIZE * 1.5, CD_PDF_STAMP_SIZE * 0.6, footer_w + CD_PDF_STAMP_SIZE,
                        CD_PDF_STAMP_SIZE * 1.4);
  HPDF_Page_Fill(page);
  HPDF_Page_SetGrayFill(page, 0.0);
  HPDF_Page_BeginText(page);
  HPDF_Page_SetFontAndSize(page, self->font, CD_PDF_STAMP_SIZE);
  if (bates_enc != NULL)
    HPDF_Page_TextOut(page, w - bates_w - CD_PDF_STAMP_SIZE * 2, CD_PDF_STAMP_SIZE, bates_enc);
  if (footer_enc != NULL)
    HPDF_Page_TextOut(page, CD_PDF_STAMP_SIZE * 2, CD_PDF_STAMP_SIZE, footer_enc);
  HPDF_Page_EndText(page);
  HPDF_Page_GRestore(page);
  if (!cd_pdf_writer_check(self, HPDF_OK, "stamping the page", error))
    return FALSE;
  self->last_bates = g_steal_pointer(&bates);
  return TRUE;
}

static gboolean
cd_pdf_rect_intersects(const CdPdfRect *r, const CdWord *word)
{
  return word->x < r->x + r->width && r->x < word->x + word->width && word->y < r->y + r->height &&
         r->y < word->y + word->height;
}

/* Burns the redactions into @pix: 1 is black in a 1 bpp image, 0 is black
 * in a grey or colour one. The rectangles are clipped to the image. */
static void
cd_pdf_burn(PIX *pix, const CdPdfRect *redactions, guint n_redactions)
{
  gint op = pixGetDepth(pix) == 1 ? PIX_SET : PIX_CLR;

  for (guint i = 0; i < n_redactions; i++) {
    const CdPdfRect *r = &redactions[i];
    if (r->width <= 0 || r->height <= 0)
      continue;
    pixRasterop(pix, r->x, r->y, r->width, r->height, op, NULL, 0, 0);
  }
}

/* An image libharu can place: bilevel pages as CCITT G4 (libharu encodes
 * them itself from the 1 bpp rows), a JPEG that needs no redaction as it
 * was stored, anything else (redacted grey or colour pages, other formats)
 * as lossless Flate, so a burnt rectangle stays exactly black. */
static HPDF_Image
cd_pdf_writer_load_image(CdPdfWriter *self, GBytes *image, const CdPdfRect *redactions, guint n_redactions, gint *xres,
                         gint *yres, GError **error)
{
  gsize size = 0;
  const guint8 *data = g_bytes_get_data(image, &size);
  gboolean is_jpeg = size > 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
  g_autoptr(PIX) pix = NULL;
  g_autoptr(PIX) flat = NULL;
  HPDF_Image img = NULL;
  gint depth;

  if (size == 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the page has no stored image");
    return NULL;
  }
  pix = pixReadMem(data, size);
  if (pix == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "the stored image (%" G_GSIZE_FORMAT " bytes) cannot be decoded", size);
    return NULL;
  }
  if (*xres <= 0 || *yres <= 0) {
    *xres = pixGetXRes(pix);
    *yres = pixGetYRes(pix);
  }
  if (*xres <= 0 || *yres <= 0)
    *xres = *yres = 300;

  if (is_jpeg && n_redactions == 0) {
    img = HPDF_LoadJpegImageFromMem(self->pdf, data, size);
    if (!cd_pdf_writer_check(self, img != NULL ? HPDF_OK : HPDF_FAILD_TO_ALLOC_MEM, "embedding the JPEG", error))
      return NULL;
    return img;
  }

  if (pixGetColormap(pix) != NULL)
    flat = pixRemoveColormap(pix, REMOVE_CMAP_BASED_ON_SRC);
  else if (pixGetDepth(pix) != 1 && pixGetDepth(pix) != 8 && pixGetDepth(pix) != 32)
    flat = pixConvertTo8(pix, FALSE);
  else
    flat = pixCopy(NULL, pix);
  if (flat == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the stored image cannot be converted");
    return NULL;
  }
  cd_pdf_burn(flat, redactions, n_redactions);
  depth = pixGetDepth(flat);
  if (depth == 1) {
    /* Leptonica's raster data of a 1 bpp image has 1 for white (as
     * PostScript wants it), so black is 0 to libharu */
    l_uint8 *raster = NULL;
    size_t nbytes = 0;
    if (pixGetRasterData(flat, &raster, &nbytes) != 0) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INTERNAL, "cannot read the bilevel rows");
      return NULL;
    }
    img = HPDF_Image_LoadRaw1BitImageFromMem(self->pdf, raster, pixGetWidth(flat), pixGetHeight(flat),
                                             (pixGetWidth(flat) + 7) / 8, HPDF_FALSE, HPDF_TRUE);
    lept_free(raster);
  } else {
    l_uint8 *raster = NULL;
    size_t nbytes = 0;
    if (depth == 32) {
      /* pixGetRasterData gives 4 bytes a pixel; libharu wants RGB */
      guint w = pixGetWidth(flat), h = pixGetHeight(flat);
      g_autofree guint8 *rgb = g_malloc((gsize) w * h * 3);
      for (guint yy = 0; yy < h; yy++) {
        const l_uint32 *line = pixGetData(flat) + (gsize) yy * pixGetWpl(flat);
        for (guint xx = 0; xx < w; xx++) {
          l_int32 r, g, b;
          extractRGBValues(line[xx], &r, &g, &b);
          rgb[((gsize) yy * w + xx) * 3] = r;
          rgb[((gsize) yy * w + xx) * 3 + 1] = g;
          rgb[((gsize) yy * w + xx) * 3 + 2] = b;
        }
      }
      img = HPDF_LoadRawImageFromMem(self->pdf, rgb, w, h, HPDF_CS_DEVICE_RGB, 8);
    } else {
      if (pixGetRasterData(flat, &raster, &nbytes) != 0) {
        g_set_error_literal(error, CD_ERROR, CD_ERROR_INTERNAL, "cannot read the grey rows");
        return NULL;
      }
      img = HPDF_LoadRawImageFromMem(self->pdf, raster, pixGetWidth(flat), pixGetHeight(flat), HPDF_CS_DEVICE_GRAY, 8);
      lept_free(raster);
    }
  }
  if (!cd_pdf_writer_check(self, img != NULL ? HPDF_OK : HPDF_FAILD_TO_ALLOC_MEM, "embedding the image", error))
    return NULL;
  return img;
}

/* The invisible text layer: each word in its box, its font size the box's
 * height and its width scaled to the box's width, so that selecting,
 * searching and copying find the word where it is printed. */
static void
cd_pdf_writer_text_layer(CdPdfWriter *self, HPDF_Page page, gdouble sx, gdouble sy, gdouble page_h, GPtrArray *words,
                         const CdPdfRect *redactions, guint n_redactions)
{
  gboolean begun = FALSE;

  for (guint i = 0; words != NULL && i < words->len; i++) {
    const CdWord *word = g_ptr_array_index(words, i);
    g_autofree gchar *enc = NULL;
    gboolean covered = FALSE;
    gdouble size, bw, tw, scale;
    HPDF_TextWidth width;

    if (word->text == NULL || *word->text == '\0' || word->width <= 0 || word->height <= 0)
      continue;
    for (guint r = 0; r < n_redactions && !covered; r++)
      covered = cd_pdf_rect_intersects(&redactions[r], word);
    if (covered) {
      self->n_words_redacted++;
      continue;
    }
    enc = cd_pdf_to_winansi(word->text);
    size = MAX(word->height * sy, 1.0);
    bw = word->width * sx;
    width = HPDF_Font_TextWidth(self->font, (const HPDF_BYTE *) enc, strlen(enc));
    tw = width.width * size / 1000.0;
    if (tw <= 0)
      continue;
    scale = CLAMP(100.0 * bw / tw, HPDF_MIN_HORIZONTALSCALING, HPDF_MAX_HORIZONTALSCALING);
    if (!begun) {
      HPDF_Page_BeginText(page);
      HPDF_Page_SetTextRenderingMode(page, HPDF_INVISIBLE);
      begun = TRUE;
    }
    HPDF_Page_SetFontAndSize(page, self->font, MIN(size, HPDF_MAX_FONTSIZE));
    HPDF_Page_SetHorizontalScalling(page, scale);
    /* baseline a fifth of the box above its bottom, where the descenders end */
    HPDF_Page_SetTextMatrix(page, 1, 0, 0, 1, word->x * sx, page_h - (word->y + word->height) * sy + size * 0.2);
    HPDF_Page_ShowText(page, enc);
  }
  if (begun)
    HPDF_Page_EndText(page);
}

/**
 * cd_pdf_writer_add_image_page:
 * @self: a #CdPdfWriter
 * @image: the page image as stored (TIFF G4, JPEG, or any format
 *   Leptonica reads)
 * @xres: horizontal resolution in dpi; 0 to take the image's own (300 if
 *   it names none)
 * @yres: vertical resolution in dpi
 * @words: (nullable) (element-type CdWord): the word boxes for the
 *   invisible text layer, in pixels of @image
 * @redactions: (nullable) (array length=n_redactions): rectangles to black out
 * @n_redactions: how many
 *
 * Adds a page the size of the image at its resolution. A bilevel image is
 * kept CCITT G4, a JPEG without redactions is embedded as it is. Each
 * redaction is burnt black into the pixels before they are encoded, and
 * every word whose box meets one is left out of the text layer.
 *
 * The page gets the Bates number and footer set, if any.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_pdf_writer_add_image_page(CdPdfWriter *self, GBytes *image, gint xres, gint yres, GPtrArray *words,
                             const CdPdfRect *redactions, guint n_redactions, GError **error)
{
  HPDF_Image img;
  HPDF_Page page;
  gdouble w_pt, h_pt, sx, sy;

  g_return_val_if_fail(CD_IS_PDF_WRITER(self), FALSE);
  g_return_val_if_fail(image != NULL, FALSE);
  g_return_val_if_fail(n_redactions == 0 || redactions != NULL, FALSE);
  g_return_val_if_fail(!self->saved, FALSE);

  img = cd_pdf_writer_load_image(self, image, redactions, n_redactions, &xres, &yres, error);
  if (img == NULL)
    return FALSE;
  sx = 72.0 / xres;
  sy = 72.0 / yres;
  w_pt = HPDF_Image_GetWidth(img) * sx;
  h_pt = HPDF_Image_GetHeight(img) * sy;
  if (w_pt < 3 || h_pt < 3 || w_pt > 14400 || h_pt > 14400) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "a %ux%u image at %dx%d dpi makes a page of %.0fx%.0f points, outside what PDF allows",
                HPDF_Image_GetWidth(img), HPDF_Image_GetHeight(img), xres, yres, w_pt, h_pt);
    return FALSE;
  }
  page = HPDF_AddPage(self->pdf);
  if (!cd_pdf_writer_check(self, page != NULL ? HPDF_OK : HPDF_FAILD_TO_ALLOC_MEM, "adding a page", error))
    return FALSE;
  HPDF_Page_SetWidth(page, w_pt);
  HPDF_Page_SetHeight(page, h_pt);
  HPDF_Page_DrawImage(page, img, 0, 0, w_pt, h_pt);
  cd_pdf_writer_text_layer(self, page, sx, sy, h_pt, words, redactions, n_redactions);
  if (!cd_pdf_writer_check(self, HPDF_OK, "drawing the page", error))
    return FALSE;
  if (!cd_pdf_writer_stamp(self, page, error))
    return FALSE;

  g_checksum_update(self->content, g_bytes_get_data(image, NULL), g_bytes_get_size(image));
  for (guint i = 0; i < n_redactions; i++)
    g_checksum_update(self->content, (const guchar *) &redactions[i], sizeof redactions[i]);
  self->n_pages++;
  return TRUE;
}

/**
 * cd_pdf_writer_add_page:
 * @self: a #CdPdfWriter
 * @page: a page with its stored image (cd_page_get_image_bytes()) or,
 *   before it was encoded, its pixels
 * @redactions: (nullable) (array length=n_redactions): rectangles to black out
 * @n_redactions: how many
 *
 * Adds @page's image at the page's resolution with its words as the text
 * layer, as cd_pdf_writer_add_image_page() does.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_pdf_writer_add_page(CdPdfWriter *self, CdPage *page, const CdPdfRect *redactions, guint n_redactions, GError **error)
{
  GBytes *stored;
  g_autoptr(GBytes) encoded = NULL;
  gint xres = 0, yres = 0;

  g_return_val_if_fail(CD_IS_PDF_WRITER(self), FALSE);
  g_return_val_if_fail(CD_IS_PAGE(page), FALSE);

  cd_page_get_resolution(page, &xres, &yres);
  stored = cd_page_get_image_bytes(page);
  if (stored == NULL) {
    PIX *pix = cd_page_get_pix(page);
    l_uint8 *data = NULL;
    size_t size = 0;
    if (pix == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "page %" G_GINT64_FORMAT " has no image",
                  cd_page_get_id(page));
      return FALSE;
    }
    if (pixWriteMem(&data, &size, pix, pixGetDepth(pix) == 1 ? IFF_TIFF_G4 : IFF_PNG) != 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "cannot encode the image of page %" G_GINT64_FORMAT,
                  cd_page_get_id(page));
      return FALSE;
    }
    encoded = g_bytes_new_with_free_func(data, size, (GDestroyNotify) lept_free, data);
    stored = encoded;
  }
  if (!cd_pdf_writer_add_image_page(self, stored, xres, yres, cd_page_get_words(page), redactions, n_redactions,
                                    error)) {
    g_prefix_error(error, "page %" G_GINT64_FORMAT ": ", cd_page_get_id(page));
    return FALSE;
  }
  return TRUE;
}

/**
 * cd_pdf_writer_add_document:
 * @self: a #CdPdfWriter
 * @document: an archived document, its pages with their stored images
 * @patient: (nullable): its patient, for the metadata
 * @error: return location for a #GError
 *
 * Adds every page of @document that has an image, with its text layer,
 * and fills in what metadata is not set yet: the title (the document's, or
 * its type and date), the subject (`MRN 1234 FAMILY, Given; type; date`)
 * and the keywords (type, MRN, `chartdesk-document:ID`).
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_pdf_writer_add_document(CdPdfWriter *self, CdDocument *document, const CdPatient *patient, GError **error)
{
  GPtrArray *pages;
  const gchar *type;
  const gchar *date;
  guint added = 0;

  g_return_val_if_fail(CD_IS_PDF_WRITER(self), FALSE);
  g_return_val_if_fail(CD_IS_DOCUMENT(document), FALSE);

  type = cd_document_get_doc_type(document) != NULL ? cd_document_get_doc_type(document) : "unclassified";
  date = cd_document_get_date(document) != NULL ? cd_document_get_date(document) : "undated";
  if (self->title == NULL) {
    if (cd_document_get_title(document) != NULL)
      self->title = g_strdup(cd_document_get_title(document));
    else
      self->title = g_strdup_printf("%s %s", type, date);
  }
  if (self->subject == NULL) {
    g_autoptr(GString) subject = g_string_new(NULL);
    if (cd_document_get_patient_mrn(document) != NULL)
      g_string_append_printf(subject, "MRN %s", cd_document_get_patient_mrn(document));
    if (patient != NULL && patient->family != NULL)
      g_string_append_printf(subject, " %s, %s", patient->family, patient->given != NULL ? patient->given : "");
    g_string_append_printf(subject, "%s%s; %s", subject->len > 0 ? "; " : "", type, date);
    self->subject = g_string_free(g_steal_pointer(&subject), FALSE);
  }
  if (self->keywords == NULL)
    self->keywords = g_strdup_printf(
        "%s, %s, chartdesk-document:%" G_GINT64_FORMAT, type,
        cd_document_get_patient_mrn(document) != NULL ? cd_document_get_patient_mrn(document) : "no-patient",
        cd_document_get_id(document));
  pages = cd_document_get_pages(document);
  for (guint i = 0; i < pages->len; i++) {
    CdPage *page = g_ptr_array_index(pages, i);
    if (cd_page_get_image_bytes(page) == NULL && cd_page_get_pix(page) == NULL)
      continue;
    if (!cd_pdf_writer_add_page(self, page, NULL, 0, error)) {
      g_prefix_error(error, "document %" G_GINT64_FORMAT ": ", cd_document_get_id(document));
      return FALSE;
    }
    added++;
  }
  if (added == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "document %" G_GINT64_FORMAT " has no page images",
                cd_document_get_id(document));
    return FALSE;
  }
  return TRUE;
}

static HPDF_Page
cd_pdf_writer_new_text_page(CdPdfWriter *self)
{
  HPDF_Page page = HPDF_AddPage(self->pdf);
  if (page == NULL)
    return NULL;
  HPDF_Page_SetWidth(page, CD_PDF_TEXT_PAGE_WIDTH);
  HPDF_Page_SetHeight(page, CD_PDF_TEXT_PAGE_HEIGHT);
  return page;
}

/* Ends a text page: stamps it and counts it. */
static gboolean
cd_pdf_writer_end_text_page(CdPdfWriter *self, HPDF_Page page, GError **error)
{
  if (!cd_pdf_writer_check(self, HPDF_OK, "writing the text page", error))
    return FALSE;
  if (!cd_pdf_writer_stamp(self, page, error))
    return FALSE;
  self->n_pages++;
  return TRUE;
}

/**
 * cd_pdf_writer_add_text_page:
 * @self: a #CdPdfWriter
 * @heading: (nullable): a bold heading at the top
 * @text: the body: paragraphs separated by newlines, flowed to the width
 *   of a US Letter page with one-inch margins
 *
 * Adds a text page (a cover letter, an inventory), and as many more as the
 * text needs. Each gets the Bates number and footer set, if any.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_pdf_writer_add_text_page(CdPdfWriter *self, const gchar *heading, const gchar *text, GError **error)
{
  const gdouble body = 11, leading = 14.5, head = 15;
  const gdouble width = CD_PDF_TEXT_PAGE_WIDTH - 2 * CD_PDF_MARGIN;
  g_auto(GStrv) paragraphs = NULL;
  HPDF_Page page;
  gdouble y = CD_PDF_TEXT_PAGE_HEIGHT - CD_PDF_MARGIN;

  g_return_val_if_fail(CD_IS_PDF_WRITER(self), FALSE);
  g_return_val_if_fail(text != NULL, FALSE);
  g_return_val_if_fail(!self->saved, FALSE);

  /* the bold face is embedded only in documents that use it */
  if (heading != NULL && self->bold == NULL) {
    if (self->bold_path != NULL)
      self->bold = cd_pdf_writer_load_font(self, self->bold_path, NULL);
    if (self->bold == NULL)
      self->bold = self->font;
  }
  page = cd_pdf_writer_new_text_page(self);
  if (!cd_pdf_writer_check(self, page != NULL ? HPDF_OK : HPDF_FAILD_TO_ALLOC_MEM, "adding a text page", error))
    return FALSE;
  HPDF_Page_BeginText(page);
  if (heading != NULL) {
    g_autofree gchar *enc = cd_pdf_to_winansi(heading);
    HPDF_Page_SetFontAndSize(page, self->bold, head);
    HPDF_Page_TextOut(page, CD_PDF_MARGIN, y - head, enc);
    y -= head + leading;
  }
  HPDF_Page_SetFontAndSize(page, self->font, body);
  paragraphs = g_strsplit(text, "\n", -1);
  for (guint p = 0; paragraphs[p] != NULL; p++) {
    g_autofree gchar *enc = cd_pdf_to_winansi(paragraphs[p]);
    const gchar *rest = enc;
    do {
      HPDF_UINT fits;
      g_autofree gchar *line = NULL;
      if (y - body < CD_PDF_MARGIN) {
        HPDF_Page_EndText(page);
        if (!cd_pdf_writer_end_text_page(self, page, error))
          return FALSE;
        page = cd_pdf_writer_new_text_page(self);
        if (!cd_pdf_writer_check(self, page != NULL ? HPDF_OK : HPDF_FAILD_TO_ALLOC_MEM, "adding a text page", error))
          return FALSE;
        HPDF_Page_BeginText(page);
        HPDF_Page_SetFontAndSize(page, self->font, body);
        y = CD_PDF_TEXT_PAGE_HEIGHT - CD_PDF_MARGIN;
      }
      fits = HPDF_Page_MeasureText(page, rest, width, HPDF_TRUE, NULL);
      if (fits == 0)
        fits = HPDF_Page_MeasureText(page, rest, width, HPDF_FALSE, NULL);
      if (fits == 0)
        fits = 1;
      line = g_strndup(rest, fits);
      g_strchomp(line);
      HPDF_Page_TextOut(page, CD_PDF_MARGIN, y - body, line);
      y -= leading;
      rest += MIN(fits, strlen(rest));
      while (*rest == ' ')
        rest++;
    } while (*rest != '\0');
  }
  HPDF_Page_EndText(page);
  g_checksum_update(self->content, (const guchar *) (heading != NULL ? heading : ""), -1);
  g_checksum_update(self->content, (const guchar *) text, -1);
  return cd_pdf_writer_end_text_page(self, page, error);
}

/* XML character data: the five escapes and nothing a parser refuses. */
static gchar *
cd_pdf_xml_escape(const gchar *text)
{
  return g_markup_escape_text(text != NULL ? text : "", -1);
}

/* Document information strings are PDFDocEncoding, which is Latin-1 over
 * the printable range; XMP is UTF-8. The same text goes to both (PDF/A
 * wants them equivalent), so anything Latin-1 lacks is a '?' in each. */
static gchar *
cd_pdf_info_text(const gchar *utf8, gchar **xmp_utf8)
{
  g_autofree gchar *latin1 = g_convert_with_fallback(utf8, -1, "ISO-8859-1", "UTF-8", "?", NULL, NULL, NULL);
  if (latin1 == NULL)
    latin1 = g_str_to_ascii(utf8, NULL);
  /* control characters (OCR noise) are neither PDFDocEncoding nor XML */
  for (guchar *p = (guchar *) latin1; *p != '\0'; p++) {
    if (*p < 0x20 || (*p >= 0x7F && *p < 0xA0))
      *p = ' ';
  }
  *xmp_utf8 = g_convert(latin1, -1, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
  if (*xmp_utf8 == NULL)
    *xmp_utf8 = g_strdup("");
  return g_steal_pointer(&latin1);
}

static gboolean
cd_pdf_writer_set_info(CdPdfWriter *self, HPDF_InfoType type, const gchar *value, gchar **xmp_value, GError **error)
{
  g_autofree gchar *latin1 = NULL;

  *xmp_value = NULL;
  if (value == NULL)
    return TRUE;
  latin1 = cd_pdf_info_text(value, xmp_value);
  return cd_pdf_writer_check(self, HPDF_SetInfoAttr(self->pdf, type, latin1), "setting document information", error);
}

/* Writes the document information, the PDF/A-2b XMP packet that mirrors
 * it, and the document ID (from the metadata and the pages' content, so
 * the same input gives the same ID). */
static gboolean
cd_pdf_writer_finish(CdPdfWriter *self, GError **error)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  GDateTime *when = self->created != NULL ? self->created : now;
  HPDF_Date date = { 0 };
  g_autofree gchar *x_title = NULL;
  g_autofree gchar *x_subject = NULL;
  g_autofree gchar *x_keywords = NULL;
  g_autofree gchar *x_author = NULL;
  g_autofree gchar *x_creator = NULL;
  g_autofree gchar *x_producer = NULL;
  g_autofree gchar *iso = g_date_time_format(when, "%Y-%m-%dT%H:%M:%S+00:00");
  g_autofree gchar *producer = g_strdup_printf("Chartdesk %s with libharu %s", CD_VERSION_STRING, HPDF_GetVersion());
  g_autoptr(GString) xmp = g_string_new(NULL);
  g_autoptr(GChecksum) id_sum = g_checksum_new(G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  HPDF_Dict stream;
  HPDF_Array id;

  if (self->n_pages == 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "the PDF has no pages");
    return FALSE;
  }
  if (!cd_pdf_writer_set_info(self, HPDF_INFO_TITLE, self->title, &x_title, error) ||
      !cd_pdf_writer_set_info(self, HPDF_INFO_SUBJECT, self->subject, &x_subject, error) ||
      !cd_pdf_writer_set_info(self, HPDF_INFO_KEYWORDS, self->keywords, &x_keywords, error) ||
      !cd_pdf_writer_set_info(self, HPDF_INFO_AUTHOR, self->author, &x_author, error) ||
      !cd_pdf_writer_set_info(self, HPDF_INFO_CREATOR, "Chartdesk", &x_creator, error) ||
      !cd_pdf_writer_set_info(self, HPDF_INFO_PRODUCER, producer, &x_producer, error))
    return FALSE;
  date.year = g_date_time_get_year(when);
  date.month = g_date_time_get_month(when);
  date.day = g_date_time_get_day_of_month(when);
  date.hour = g_date_time_get_hour(when);
  date.minutes = g_date_time_get_minute(when);
  date.seconds = g_date_time_get_second(when);
  date.ind = '+';
  if (!cd_pdf_writer_check(self, HPDF_SetInfoDateAttr(self->pdf, HPDF_INFO_CREATION_DATE, date), "setting the date",
                           error) ||
      !cd_pdf_writer_check(self, HPDF_SetInfoDateAttr(self->pdf, HPDF_INFO_MOD_DATE, date), "setting the date", error))
    return FALSE;

  g_string_append(xmp, "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
                       "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
                       " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
                       "  <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
                       "   <dc:format>application/pdf</dc:format>\n");
  if (x_title != NULL) {
    g_autofree gchar *e = cd_pdf_xml_escape(x_title);
    g_string_append_printf(
        xmp, "   <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">%s</rdf:li></rdf:Alt></dc:title>\n", e);
  }
  if (x_subject != NULL) {
    g_autofree gchar *e = cd_pdf_xml_escape(x_subject);
    g_string_append_printf(
        xmp, "   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">%s</rdf:li></rdf:Alt></dc:description>\n", e);
  }
  if (x_author != NULL) {
    g_autofree gchar *e = cd_pdf_xml_escape(x_author);
    g_string_append_printf(xmp, "   <dc:creator><rdf:Seq><rdf:li>%s</rdf:li></rdf:Seq></dc:creator>\n", e);
  }
  g_string_append_printf(xmp,
                         "  </rdf:Description>\n"
                         "  <rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\n"
                         "   <xmp:CreatorTool>%s</xmp:CreatorTool>\n"
                         "   <xmp:CreateDate>%s</xmp:CreateDate>\n"
                         "   <xmp:ModifyDate>%s</xmp:ModifyDate>\n"
                         "   <xmp:MetadataDate>%s</xmp:MetadataDate>\n"
                         "  </rdf:Description>\n"
                         "  <rdf:Description rdf:about=\"\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n",
                         x_creator, iso, iso, iso);
  {
    g_autofree gchar *e = cd_pdf_xml_escape(x_producer);
    g_string_append_printf(xmp, "   <pdf:Producer>%s</pdf:Producer>\n", e);
  }
  if (x_keywords != NULL) {
    g_autofree gchar *e = cd_pdf_xml_escape(x_keywords);
    g_string_append_printf(xmp, "   <pdf:Keywords>%s</pdf:Keywords>\n", e);
  }
  g_string_append(xmp, "  </rdf:Description>\n"
                       "  <rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n"
                       "   <pdfaid:part>2</pdfaid:part>\n"
                       "   <pdfaid:conformance>B</pdfaid:conformance>\n"
                       "  </rdf:Description>\n"
                       " </rdf:RDF>\n"
                       "</x:xmpmeta>\n"
                       "<?xpacket end=\"w\"?>\n");

  /* the metadata stream stays unfiltered, as PDF/A requires */
  stream = HPDF_DictStream_New(self->pdf->mmgr, self->pdf->xref);
  if (!cd_pdf_writer_check(self, stream != NULL ? HPDF_OK : HPDF_FAILD_TO_ALLOC_MEM, "writing the XMP", error))
    return FALSE;
  stream->filter = HPDF_STREAM_FILTER_NONE;
  if (!cd_pdf_writer_check(self, HPDF_Dict_AddName(stream, "Type", "Metadata"), "writing the XMP", error) ||
      !cd_pdf_writer_check(self, HPDF_Dict_AddName(stream, "Subtype", "XML"), "writing the XMP", error) ||
      !cd_pdf_writer_check(self, HPDF_Stream_Write(stream->stream, (const HPDF_BYTE *) xmp->str, xmp->len),
                           "writing the XMP", error) ||
      !cd_pdf_writer_check(self, HPDF_Dict_Add(self->pdf->catalog, "Metadata", stream), "writing the XMP", error))
    return FALSE;

  g_checksum_update(id_sum, (const guchar *) xmp->str, xmp->len);
  g_checksum_update(id_sum, (const guchar *) g_checksum_get_string(self->content), -1);
  g_checksum_get_digest(id_sum, digest, &digest_len);
  id = HPDF_Array_New(self->pdf->mmgr);
  if (!cd_pdf_writer_check(self, id != NULL ? HPDF_OK : HPDF_FAILD_TO_ALLOC_MEM, "writing the ID", error) ||
      !cd_pdf_writer_check(self, HPDF_Dict_Add(self->pdf->trailer, "ID", id), "writing the ID", error) ||
      !cd_pdf_writer_check(self, HPDF_Array_Add(id, HPDF_Binary_New(self->pdf->mmgr, digest, 16)), "writing the ID",
                           error) ||
      !cd_pdf_writer_check(self, HPDF_Array_Add(id, HPDF_Binary_New(self->pdf->mmgr, digest, 16)), "writing the ID",
                           error))
    return FALSE;
  return TRUE;
}

/**
 * cd_pdf_writer_save_to_bytes:
 * @self: a #CdPdfWriter
 * @error: return location for a #GError
 *
 * Finishes the document (metadata, XMP, ID) and returns it. A writer is
 * saved once; add no pages after.
 *
 * Returns: (transfer full) (nullable): the PDF, or %NULL on error
 *
 * Since: 0.4
 */
GBytes *
cd_pdf_writer_save_to_bytes(CdPdfWriter *self, GError **error)
{
  g_autoptr(GByteArray) buf = g_byte_array_new();
  HPDF_UINT32 size;

  g_return_val_if_fail(CD_IS_PDF_WRITER(self), NULL);
  if (self->saved) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "the PDF was saved already");
    return NULL;
  }
  if (!cd_pdf_writer_finish(self, error))
    return NULL;
  self->saved = TRUE;
  if (!cd_pdf_writer_check(self, HPDF_SaveToStream(self->pdf), "saving", error))
    return NULL;
  size = HPDF_GetStreamSize(self->pdf);
  g_byte_array_set_size(buf, size);
  if (size > 0 && !cd_pdf_writer_check(self, HPDF_ReadFromStream(self->pdf, buf->data, &size), "reading back", error))
    return NULL;
  g_byte_array_set_size(buf, size);
  return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
}

/**
 * cd_pdf_writer_save:
 * @self: a #CdPdfWriter
 * @filename: where to write
 * @error: return location for a #GError
 *
 * Finishes the document and writes it to @filename, readable by its owner
 * only (it holds patient data), replacing it atomically.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_pdf_writer_save(CdPdfWriter *self, const gchar *filename, GError **error)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail(CD_IS_PDF_WRITER(self), FALSE);
  g_return_val_if_fail(filename != NULL, FALSE);
  bytes = cd_pdf_writer_save_to_bytes(self, error);
  if (bytes == NULL)
    return FALSE;
  if (!g_file_set_contents_full(filename, g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes),
                                G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)) {
    g_prefix_error(error, "cannot write %s: ", filename);
    return FALSE;
  }
  return TRUE;
}
