/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>

#include "cd-text-height.h"

/* The height of capitals and ascenders of body text, in inches: 0.11 is
 * 10 to 12 point type (measured on the committed samples: 0.10 to 0.12). */
#define CAP_HEIGHT_INCHES 0.11
/* fewer letter-sized marks than this and the page says nothing */
#define MIN_LETTERS 40
/* a plausible page is at most this many inches on its longer side, and at
 * least this many on its longer side */
#define MAX_PAGE_INCHES 20.0
#define MIN_PAGE_INCHES 2.5

static gint
cd_text_height_cmp(gconstpointer a, gconstpointer b)
{
  return *(const gint *) a - *(const gint *) b;
}

/* The resolution that makes @pix's letters body-text sized, or 0 when the
 * page has too few letter-sized marks to tell (a blank page, a photo).
 *
 * Every connected mark of letter shape (not much wider than tall either
 * way, between 4 pixels and a twentieth of the page) gives its longer
 * side, which makes the estimate the same on a page turned a quarter. Most
 * letters of mixed-case text are x-height letters or capitals/ascenders;
 * the 75th percentile falls among the capitals and ascenders both in
 * mixed-case text and in all-capitals forms, and that height is taken to
 * be CAP_HEIGHT_INCHES. Specks sit below it and lines and boxes are not of
 * letter shape. @letters, when not NULL, gets the number of marks counted.
 * The result is kept to what a page between MIN_PAGE_INCHES and
 * MAX_PAGE_INCHES long can have, and to 50..1200 dpi. */
gint
cd_text_height_estimate_dpi(PIX *pix, gint *letters)
{
  g_autoptr(PIX) bin = NULL;
  g_autoptr(BOXA) boxa = NULL;
  g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(gint));
  gint w = pixGetWidth(pix), h = pixGetHeight(pix);
  gint longest = MAX(w, h), max_size = MAX(8, longest / 20);
  gdouble dpi;
  gint size;

  if (letters != NULL)
    *letters = 0;
  if (pixGetDepth(pix) == 1 && pixGetColormap(pix) == NULL) {
    bin = pixClone(pix);
  } else {
    g_autoptr(PIX) grey = pixConvertTo8(pix, FALSE);
    if (grey == NULL)
      return 0;
    /* halfway between black and white: a letter's size survives it, and
     * a grey background (which Otsu's threshold may take for ink) stays
     * paper */
    bin = pixThresholdToBinary(grey, 128);
  }
  if (bin == NULL)
    return 0;
  boxa = pixConnCompBB(bin, 8);
  if (boxa == NULL)
    return 0;
  for (gint i = 0; i < boxaGetCount(boxa); i++) {
    gint bw, bh, big, small;
    boxaGetBoxGeometry(boxa, i, NULL, NULL, &bw, &bh);
    big = MAX(bw, bh);
    small = MIN(bw, bh);
    if (big < 4 || big > max_size || small * 100 < big * 15)
      continue;
    /* wider than 1.3 times its height: two letters touching, or a dash */
    if (bw * 10 > bh * 13 && bh * 10 > bw * 13)
      continue;
    g_array_append_val(sizes, big);
  }
  if (letters != NULL)
    *letters = (gint) sizes->len;
  if (sizes->len < MIN_LETTERS)
    return 0;
  g_array_sort(sizes, cd_text_height_cmp);
  size = g_array_index(sizes, gint, (sizes->len * 3) / 4);
  dpi = size / CAP_HEIGHT_INCHES;
  dpi = CLAMP(dpi, longest / MAX_PAGE_INCHES, longest / MIN_PAGE_INCHES);
  dpi = CLAMP(dpi, 50.0, 1200.0);
  return (gint) (lround(dpi / 5.0) * 5);
}

/* Whether the page's resolution came from its file and is believable:
 * the file said it (the files source marks assumed ones) and the page is
 * then between MIN_PAGE_INCHES and MAX_PAGE_INCHES long. */
gboolean
cd_text_height_resolution_trusted(CdPage *page)
{
  g_autoptr(GVariant) assumed = cd_page_get_fact(page, "files.resolution-assumed");
  g_autoptr(GVariant) estimated = cd_page_get_fact(page, "resolution.estimated");
  PIX *pix = cd_page_get_pix(page);
  gint xres = 0, yres = 0;
  gdouble inches;

  if (estimated != NULL)
    return TRUE; /* estimated once already: that is the page's resolution now */
  if (assumed != NULL && g_variant_get_boolean(assumed))
    return FALSE;
  cd_page_get_resolution(page, &xres, &yres);
  if (xres < 50 || xres > 2400)
    return FALSE;
  if (pix == NULL)
    return TRUE;
  inches = (gdouble) MAX(pixGetWidth(pix), pixGetHeight(pix)) / xres;
  return inches >= MIN_PAGE_INCHES && inches <= MAX_PAGE_INCHES;
}

/* The page's resolution, estimated from its letters (and recorded on the
 * page: its resolution, and the facts resolution.estimated and
 * resolution.was) when the file did not give a believable one. A page
 * whose letters tell nothing keeps what it had, or 300 dpi. */
gint
cd_text_height_page_dpi(CdPage *page)
{
  PIX *pix = cd_page_get_pix(page);
  gint xres = 0, yres = 0, dpi, letters = 0;

  cd_page_get_resolution(page, &xres, &yres);
  if (cd_text_height_resolution_trusted(page) || pix == NULL)
    return xres >= 50 && xres <= 2400 ? xres : 300;
  dpi = cd_text_height_estimate_dpi(pix, &letters);
  cd_page_set_fact(page, "resolution.was", g_variant_new_int32(xres));
  cd_page_set_fact(page, "resolution.letters", g_variant_new_int32(letters));
  if (dpi <= 0) {
    /* nothing to measure: keep the file's (or the assumed) value, once */
    dpi = xres >= 50 && xres <= 2400 ? xres : 300;
    cd_page_set_fact(page, "resolution.estimated", g_variant_new_int32(0));
  } else {
    cd_page_set_fact(page, "resolution.estimated", g_variant_new_int32(dpi));
  }
  cd_page_set_resolution(page, dpi, dpi);
  {
    g_autoptr(GVariant) assumed = cd_page_get_fact(page, "files.resolution-assumed");
    g_autofree gchar *was =
        assumed != NULL ? g_strdup("the file gave none") : g_strdup_printf("the file said %d", xres);
    g_info("page %d of %s: resolution %d dpi estimated from %d letters (%s)", cd_page_get_source_page(page) + 1,
           cd_page_get_source_path(page), dpi, letters, was);
  }
  return dpi;
}
