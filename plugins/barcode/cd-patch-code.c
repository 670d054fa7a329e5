/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Kodak patch codes, which zbar does not read. A patch code is four long
 * parallel bars, two wide (5.1 mm) and two narrow (2.0 mm), with narrow
 * (2.0 mm) spaces between them, printed parallel to the leading edge of the
 * sheet. The order of wide and narrow, read from the leading edge, names
 * the code: Patch 1 WWNN, 2 WNNW, 3 WNWN, 4 NWWN, 6 NNWW, T NWNW.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cd-patch-code.h"

#define WORK_DPI 100.0
#define MIN_LENGTH_MM 15.0 /* scanners read bars of 19 mm and longer */
#define NARROW_MIN_MM 1.0
#define NARROW_MAX_MM 3.5
#define WIDE_MIN_MM 3.0
#define WIDE_MAX_MM 7.5
#define SPACE_MIN_MM 0.8
#define SPACE_MAX_MM 4.0
#define QUIET_MM 5.0
#define WIDE_RATIO 1.6

typedef struct {
  gdouble centre; /* across the bars */
  gdouble width;  /* mean width: pixels over length, so skew does not widen it */
  gint from, to;  /* extent along the bars */
  gint x, y, w, h;
} CdBar;

static const struct {
  const gchar *pattern;
  const gchar *payload;
} patch_patterns[] = {
  { "WWNN", "PATCH1" }, { "WNNW", "PATCH2" }, { "WNWN", "PATCH3" },
  { "NWWN", "PATCH4" }, { "NNWW", "PATCH6" }, { "NWNW", "PATCHT" },
};

/* The page in black and white with square pixels at about 100 dpi: bars
 * stay 8 pixels and more wide, the morphology below costs milliseconds,
 * and a fax's 204 × 98 dpi page is made square so that bars across and
 * along the feed measure alike. */
static PIX *
cd_patch_binary(PIX *pix, gint xres, gint yres, gdouble *sx, gdouble *sy)
{
  g_autoptr(PIX) grey = NULL;
  g_autoptr(PIX) grey8 = NULL;
  gdouble target = MIN(WORK_DPI, MAX(xres, yres));

  *sx = target / xres;
  *sy = target / yres;
  if (pixGetDepth(pix) == 1 && *sx == 1.0 && *sy == 1.0)
    return pixClone(pix);
  if (pixGetDepth(pix) == 1 && *sx == *sy) {
    grey = pixScaleToGray(pix, (l_float32) *sx);
  } else {
    grey8 = pixGetDepth(pix) == 32 ? pixConvertRGBToLuminance(pix) : pixConvertTo8(pix, FALSE);
    if (grey8 == NULL)
      return NULL;
    grey = *sx != 1.0 || *sy != 1.0 ? pixScale(grey8, (l_float32) *sx, (l_float32) *sy) : pixClone(grey8);
  }
  if (grey == NULL)
    return NULL;
  return pixThresholdToBinary(grey, 128);
}

static gint
cd_bar_compare(gconstpointer a, gconstpointer b)
{
  const CdBar *x = a, *y = b;
  return (x->centre > y->centre) - (x->centre < y->centre);
}

/* Long vertical bars of a patch code's widths, left to right. An opening
 * with a tall thin element keeps only long vertical strokes: text, rules
 * and the thin bars of other barcodes fall away or fail the width test. */
static GArray *
cd_patch_find_bars(PIX *bin, gdouble ppmm)
{
  GArray *bars = g_array_new(FALSE, FALSE, sizeof(CdBar));
  gint min_length = (gint) (MIN_LENGTH_MM * ppmm);
  g_autoptr(PIX) opened = pixOpenBrick(NULL, bin, 1, min_length);
  g_autoptr(BOXA) boxa = NULL;
  PIXA *pixa = NULL;

  if (opened == NULL)
    return bars;
  boxa = pixConnComp(opened, &pixa, 8);
  for (gint i = 0; boxa != NULL && i < boxaGetCount(boxa); i++) {
    l_int32 x, y, w, h, count = 0;
    PIX *comp = pixaGetPix(pixa, i, L_CLONE);
    CdBar bar;

    boxaGetBoxGeometry(boxa, i, &x, &y, &w, &h);
    pixCountPixels(comp, &count, NULL);
    pixDestroy(&comp);
    if (h < min_length)
      continue;
    bar.width = (gdouble) count / h;
    if (bar.width < NARROW_MIN_MM * ppmm || bar.width > WIDE_MAX_MM * ppmm)
      continue;
    bar.centre = x + w / 2.0;
    bar.from = y;
    bar.to = y + h;
    bar.x = x, bar.y = y, bar.w = w, bar.h = h;
    g_array_append_val(bars, bar);
  }
  pixaDestroy(&pixa);
  g_array_sort(bars, cd_bar_compare);
  return bars;
}

static gboolean
cd_bars_side_by_side(const CdBar *a, const CdBar *b)
{
  gint overlap = MIN(a->to, b->to) - MAX(a->from, b->from);
  return overlap >= 0.5 * MIN(a->to - a->from, b->to - b->from);
}

static gdouble
cd_bars_space(const CdBar *a, const CdBar *b)
{
  return fabs(b->centre - a->centre) - (a->width + b->width) / 2.0;
}

/* Whether a bar other than the group's stands close outside @edge: then
 * the four are part of something longer, not a patch code. */
static gboolean
cd_patch_crowded(GArray *bars, const CdBar *edge, const CdBar *group[4], gdouble ppmm)
{
  for (guint i = 0; i < bars->len; i++) {
    const CdBar *other = &g_array_index(bars, CdBar, i);
    gboolean member = FALSE;
    for (guint k = 0; k < 4; k++)
      member = member || other == group[k];
    if (!member && cd_bars_side_by_side(edge, other) && cd_bars_space(edge, other) < QUIET_MM * ppmm &&
        (other->centre < group[0]->centre || other->centre > group[3]->centre))
      return TRUE;
  }
  return FALSE;
}

/* Names four bars, or returns NULL. The leading edge is taken to be the
 * page edge nearer the bars, so a sheet fed upside down reads the same. */
static const gchar *
cd_patch_classify(const CdBar *group[4], gint across, gdouble ppmm, gboolean *reversed)
{
  gdouble widths[4];
  gdouble threshold;
  gchar pattern[5] = { 0 };

  for (guint k = 0; k < 4; k++)
    widths[k] = group[k]->width;
  for (guint a = 0; a < 4; a++) {
    for (guint b = a + 1; b < 4; b++) {
      if (widths[b] < widths[a]) {
        gdouble t = widths[a];
        widths[a] = widths[b];
        widths[b] = t;
      }
    }
  }
  if (widths[2] < WIDE_RATIO * widths[1] || widths[1] > NARROW_MAX_MM * ppmm || widths[2] < WIDE_MIN_MM * ppmm)
    return NULL;
  threshold = (widths[1] + widths[2]) / 2.0;
  *reversed = (group[0]->centre + group[3]->centre) / 2.0 > across / 2.0;
  for (guint k = 0; k < 4; k++) {
    const CdBar *bar = group[*reversed ? 3 - k : k];
    pattern[k] = bar->width > threshold ? 'W' : 'N';
  }
  for (guint i = 0; i < G_N_ELEMENTS(patch_patterns); i++) {
    if (strcmp(pattern, patch_patterns[i].pattern) == 0)
      return patch_patterns[i].payload;
  }
  return NULL;
}

/* Finds patch codes with vertical bars in @bin; @turned says @bin is the
 * page turned a quarter clockwise, so results are mapped back. */
static void
cd_patch_find_groups(PIX *bin, gdouble ppmm, gboolean turned, gint page_height, gdouble sx, gdouble sy, GArray *found)
{
  g_autoptr(GArray) bars = cd_patch_find_bars(bin, ppmm);
  gint across = pixGetWidth(bin);

  for (guint i = 0; i + 3 < bars->len; i++) {
    const CdBar *group[4] = { &g_array_index(bars, CdBar, i), NULL, NULL, NULL };
    guint n = 1, last = i;
    const gchar *payload;
    gboolean reversed = FALSE;
    CdPatchCode code = { 0 };
    gint x0, y0, x1, y1;

    for (guint j = i + 1; j < bars->len && n < 4; j++) {
      const CdBar *bar = &g_array_index(bars, CdBar, j);
      gdouble space;
      if (!cd_bars_side_by_side(group[n - 1], bar))
        continue;
      space = cd_bars_space(group[n - 1], bar);
      if (space > SPACE_MAX_MM * ppmm)
        break;
      if (space < SPACE_MIN_MM * ppmm)
        break;
      group[n++] = bar;
      last = j;
    }
    if (n < 4 || cd_patch_crowded(bars, group[0], group, ppmm) || cd_patch_crowded(bars, group[3], group, ppmm))
      continue;
    payload = cd_patch_classify(group, across, ppmm, &reversed);
    if (payload == NULL)
      continue;

    x0 = group[0]->x;
    x1 = group[3]->x + group[3]->w;
    y0 = G_MAXINT, y1 = 0;
    for (guint k = 0; k < 4; k++) {
      y0 = MIN(y0, group[k]->y);
      y1 = MAX(y1, group[k]->y + group[k]->h);
    }
    g_strlcpy(code.payload, payload, sizeof code.payload);
    if (!turned) {
      code.x = x0, code.y = y0, code.width = x1 - x0, code.height = y1 - y0;
      code.orientation = reversed ? 180 : 0;
    } else {
      /* turned clockwise: x' = H - 1 - y, y' = x */
      code.x = y0, code.y = page_height - x1, code.width = y1 - y0, code.height = x1 - x0;
      code.orientation = reversed ? 90 : 270;
    }
    code.x = (gint) (code.x / sx), code.y = (gint) (code.y / sy);
    code.width = (gint) (code.width / sx), code.height = (gint) (code.height / sy);
    g_array_append_val(found, code);
    i = last;
  }
}

/**
 * cd_patch_code_find:
 * @pix: the page
 * @xres: its horizontal resolution, in dpi
 * @yres: its vertical resolution, in dpi
 *
 * Finds the Kodak patch codes on a page, with bars upright or across. A
 * page whose patch codes disagree (a misprint, or bars that merely look
 * like one) yields none: a wrong patch 3 would end a chart.
 *
 * Returns: (transfer full): a #GArray of #CdPatchCode, maybe empty
 */
GArray *
cd_patch_code_find(PIX *pix, gint xres, gint yres)
{
  GArray *found = g_array_new(FALSE, TRUE, sizeof(CdPatchCode));
  g_autoptr(PIX) bin = NULL;
  g_autoptr(PIX) turned = NULL;
  gdouble sx = 1.0, sy = 1.0, ppmm;

  if (pix == NULL || xres < 50 || yres < 50)
    return found;
  bin = cd_patch_binary(pix, xres, yres, &sx, &sy);
  if (bin == NULL)
    return found;
  ppmm = xres * sx / 25.4;
  cd_patch_find_groups(bin, ppmm, FALSE, pixGetHeight(bin), sx, sy, found);
  turned = pixRotate90(bin, 1);
  if (turned != NULL)
    cd_patch_find_groups(turned, ppmm, TRUE, pixGetHeight(bin), sx, sy, found);

  for (guint i = 1; i < found->len; i++) {
    if (strcmp(g_array_index(found, CdPatchCode, i).payload, g_array_index(found, CdPatchCode, 0).payload) != 0) {
      g_debug("patch codes on one page disagree (%s, %s): none taken", g_array_index(found, CdPatchCode, 0).payload,
              g_array_index(found, CdPatchCode, i).payload);
      g_array_set_size(found, 0);
      break;
    }
  }
  return found;
}
