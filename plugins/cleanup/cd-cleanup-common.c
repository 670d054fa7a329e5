/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the cleanup stages share: the page's resolution, a grey copy, and
 * the adaptive (Sauvola) threshold used both by the binarize stage and by
 * stages that need a bilevel view of a grey page without changing it.
 */
#include "config.h"

#include "cd-cleanup-common.h"
#include "cd-text-height.h"

/* The horizontal resolution; estimated from the letters' height (and
 * recorded on the page) when the file did not say or said something a
 * page cannot be (see cd_text_height_page_dpi()). */
gint
cd_cleanup_page_dpi(CdPage *page)
{
  return cd_text_height_page_dpi(page);
}

/* An 8-bit grey copy without colour map: luminance for colour pages. */
PIX *
cd_cleanup_grey(PIX *pix)
{
  g_autoptr(PIX) plain = NULL;

  if (pixGetColormap(pix) != NULL) {
    plain = pixRemoveColormap(pix, REMOVE_CMAP_BASED_ON_SRC);
    if (plain == NULL)
      return NULL;
    pix = plain;
  }
  if (pixGetDepth(pix) == 32)
    return pixConvertRGBToLuminance(pix);
  if (pixGetDepth(pix) == 8)
    return pixCopy(NULL, pix);
  return pixConvertTo8(pix, FALSE);
}

/* Applies a threshold surface computed at half size: ink where the grey
 * level is below the threshold of its 2x2 block. */
static PIX *
cd_cleanup_apply_half_threshold(PIX *grey, PIX *th)
{
  gint w = pixGetWidth(grey), h = pixGetHeight(grey);
  gint tw = pixGetWidth(th), tht = pixGetHeight(th);
  gint wplg = pixGetWpl(grey), wplt = pixGetWpl(th), wplo;
  l_uint32 *dg = pixGetData(grey), *dt = pixGetData(th), *dout;
  PIX *out = pixCreate(w, h, 1);

  if (out == NULL)
    return NULL;
  pixCopyResolution(out, grey);
  wplo = pixGetWpl(out);
  dout = pixGetData(out);
  for (gint y = 0; y < h; y++) {
    l_uint32 *lg = dg + (gsize) y * wplg;
    l_uint32 *lt = dt + (gsize) MIN(y / 2, tht - 1) * wplt;
    l_uint32 *lo = dout + (gsize) y * wplo;
    for (gint x = 0; x < w; x++) {
      if (GET_DATA_BYTE(lg, x) < GET_DATA_BYTE(lt, MIN(x / 2, tw - 1)))
        SET_DATA_BIT(lo, x);
    }
  }
  return out;
}

/* Sauvola's local threshold: t = m * (1 + k * (s / 128 - 1)) over a
 * window of (2 * window + 1)^2 pixels. A window of 0 is taken from the
 * resolution (a twelfth of an inch each way, a little over the height of a
 * typed line, so a faded stroke is compared with the paper around it, not
 * with its own letter). The mean and deviation over such a window change
 * slowly, so on pages of 200 dpi and more the threshold surface is computed
 * at half size (a quarter of the work) and applied at full size. */
PIX *
cd_cleanup_sauvola(PIX *grey, gint dpi, guint window, gdouble k, GError **error)
{
  PIX *binary = NULL;
  gint w = pixGetWidth(grey), h = pixGetHeight(grey);
  gint half = window > 0 ? (gint) window : MAX(8, dpi / 12);
  gboolean reduce;
  g_autoptr(PIX) small = NULL;
  g_autoptr(PIX) th = NULL;
  PIX *src = grey;
  gint sw, sh, nx, ny;

  half = MIN(half, MIN(w, h) / 4);
  if (half < 2) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "a %dx%d page is too small to binarize", w, h);
    return NULL;
  }
  reduce = dpi >= 200 && half >= 8;
  if (reduce) {
    small = pixScaleAreaMap2(grey);
    if (small == NULL)
      reduce = FALSE;
    else
      src = small;
  }
  sw = pixGetWidth(src);
  sh = pixGetHeight(src);
  if (reduce)
    half /= 2;
  /* tiles of about 1000 pixels, each wider than the window */
  nx = CLAMP(sw / 1000, 1, MAX(1, sw / (2 * half + 3)));
  ny = CLAMP(sh / 1000, 1, MAX(1, sh / (2 * half + 3)));
  if (reduce) {
    if (pixSauvolaBinarizeTiled(src, half, (l_float32) k, nx, ny, &th, NULL) == 0 && th != NULL)
      binary = cd_cleanup_apply_half_threshold(grey, th);
  } else if (pixSauvolaBinarizeTiled(src, half, (l_float32) k, nx, ny, NULL, &binary) != 0) {
    binary = NULL;
  }
  if (binary == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "cannot binarize a %dx%d page", w, h);
    return NULL;
  }
  return binary;
}

/* A bilevel view of the page: the image itself (a new reference) when it
 * is already bilevel, a Sauvola threshold of it otherwise. */
PIX *
cd_cleanup_binary(PIX *pix, gint dpi, GError **error)
{
  g_autoptr(PIX) grey = NULL;

  if (pixGetDepth(pix) == 1 && pixGetColormap(pix) == NULL)
    return pixClone(pix);
  grey = cd_cleanup_grey(pix);
  if (grey == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "cannot convert a %d-bit page to grey", pixGetDepth(pix));
    return NULL;
  }
  return cd_cleanup_sauvola(grey, dpi, 0, 0.34, error);
}

/* Turns a page clockwise by a multiple of 90 degrees. */
PIX *
cd_cleanup_rotate_orth(PIX *pix, gint degrees)
{
  gint quads = ((degrees % 360) + 360) % 360 / 90;

  if (quads == 0)
    return pixClone(pix);
  return pixRotateOrth(pix, quads);
}

/* Leptonica's orientation and skew finders are tuned for 150 to 300 ppi:
 * finer bilevel pages are halved (a pixel is ink if two of four are). */
PIX *
cd_cleanup_at_most_300(PIX *bin, gint dpi, gint *out_dpi)
{
  g_autoptr(PIX) pix = pixClone(bin);

  *out_dpi = dpi;
  while (*out_dpi > 400) {
    PIX *half = pixReduceRankBinary2(pix, 2, NULL);
    if (half == NULL)
      break;
    pixDestroy(&pix);
    pix = half;
    *out_dpi /= 2;
  }
  return g_steal_pointer(&pix);
}

/* The height of the band cd_cleanup_read_score() reads: about an inch
 * and a half, at least a fifth of the page. */
gint
cd_cleanup_band_height(PIX *bin, gint dpi)
{
  gint h = pixGetHeight(bin);

  return MIN(h, MAX((gint) (1.5 * dpi), h / 5));
}

/* Of the rows of @bin, the band of @band rows holding the most ink, with
 * each row's ink counted up to a quarter of the width (a solid row is a
 * border or a rule, not text). Returns its first row. */
gint
cd_cleanup_inkiest_band(PIX *bin, gint band)
{
  g_autoptr(NUMA) rows = pixCountPixelsByRow(bin, NULL);
  gint h = pixGetHeight(bin), cap = pixGetWidth(bin) / 4, best = 0;
  gdouble sum = 0.0, best_sum = -1.0;

  if (rows == NULL || band >= h)
    return 0;
  for (gint y = 0; y < h; y++) {
    l_float32 v = 0.0f, old = 0.0f;
    numaGetFValue(rows, y, &v);
    sum += MIN(v, cap);
    if (y >= band) {
      numaGetFValue(rows, y - band, &old);
      sum -= MIN(old, cap);
    }
    if (y >= band - 1 && sum > best_sum) {
      best_sum = sum;
      best = y - band + 1;
    }
  }
  return best;
}

/* How well Tesseract (@api, a language model) reads @bin turned @turn
 * degrees clockwise, judged on one band of it: the band of about an inch
 * and a half (at least a fifth of the page) that holds the most ink. The
 * score is the sum, over words of two or more letters or digits, of how
 * far each word's confidence exceeds 50: text read the right way up gives
 * many confident words, text read upside down or sideways gives few or
 * none. Coarse pages (under 150 dpi) are read doubled. @top, when 0 or
 * more, is the band's first row instead (of the turned page), so two
 * versions of a page can be read on the same band. @mean_conf, when not
 * NULL, gets the band's mean word confidence. Costs one recognition of the
 * band (about a fifth of a page's). */
gdouble
cd_cleanup_read_score(TessBaseAPI *api, PIX *bin, gint dpi, gint turn, gint top, gdouble *mean_conf)
{
  g_autoptr(PIX) turned = cd_cleanup_rotate_orth(bin, turn);
  g_autoptr(PIX) strip = NULL;
  g_autoptr(BOX) box = NULL;
  TessResultIterator *it;
  gint h, band;
  gdouble score = 0.0, conf_sum = 0.0;
  gint n = 0;

  if (mean_conf != NULL)
    *mean_conf = 0.0;
  if (turned == NULL)
    return 0.0;
  h = pixGetHeight(turned);
  band = cd_cleanup_band_height(turned, dpi);
  if (top < 0)
    top = cd_cleanup_inkiest_band(turned, band);
  top = CLAMP(top, 0, h - band);
  box = boxCreate(0, top, pixGetWidth(turned), band);
  strip = pixClipRectangle(turned, box, NULL);
  if (strip == NULL)
    return 0.0;
  if (dpi < 150) {
    PIX *twice = pixExpandReplicate(strip, 2);
    if (twice != NULL) {
      pixDestroy(&strip);
      strip = twice;
      dpi *= 2;
    }
  }
  TessBaseAPISetImage2(api, strip);
  TessBaseAPISetSourceResolution(api, dpi);
  if (TessBaseAPIRecognize(api, NULL) != 0) {
    TessBaseAPIClear(api);
    return 0.0;
  }
  it = TessBaseAPIGetIterator(api);
  if (it != NULL) {
    do {
      gchar *text = TessResultIteratorGetUTF8Text(it, RIL_WORD);
      gfloat conf = TessResultIteratorConfidence(it, RIL_WORD);
      gint alnum = 0;
      if (text == NULL)
        continue;
      for (const gchar *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
        if (g_unichar_isalnum(g_utf8_get_char(p)))
          alnum++;
      }
      TessDeleteText(text);
      if (alnum < 2)
        continue;
      n++;
      conf_sum += conf;
      score += MAX(0.0, conf - 50.0);
    } while (TessResultIteratorNext(it, RIL_WORD));
    TessResultIteratorDelete(it);
  }
  TessBaseAPIClear(api);
  if (mean_conf != NULL && n > 0)
    *mean_conf = conf_sum / n;
  return score;
}

/* A stage's own Tesseract handle for @language, made once in its start,
 * with Tesseract's diagnostics (not for operators) silenced. On failure
 * %NULL with %CD_ERROR_NOT_FOUND: "cannot load Tesseract@noun '@language'
 * [from @datapath]@purpose (install tesseract-ocr-@language, or set
 * @option)", @option being the stage's switch that does without it. */
TessBaseAPI *
cd_cleanup_tess_new(const gchar *datapath, const gchar *language, const gchar *noun, const gchar *purpose,
                    const gchar *option, GError **error)
{
  TessBaseAPI *api = TessBaseAPICreate();

  if (TessBaseAPIInit3(api, datapath, language) != 0) {
    TessBaseAPIDelete(api);
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND,
                "cannot load Tesseract%s '%s'%s%s%s (install tesseract-ocr-%s, or set %s)", noun, language,
                datapath != NULL ? " from " : "", datapath != NULL ? datapath : "", purpose, language, option);
    return NULL;
  }
  TessBaseAPISetVariable(api, "debug_file", "/dev/null");
  return api;
}

/* Ends and frees *@api, if any, and clears it. */
void
cd_cleanup_tess_free(TessBaseAPI **api)
{
  if (*api == NULL)
    return;
  TessBaseAPIEnd(*api);
  TessBaseAPIDelete(*api);
  *api = NULL;
}
