/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>

#include "cd-cleanup-common.h"
#include "cd-cleanup-stages.h"

/**
 * CdCleanStage:
 *
 * Removes what is not ink of the document: isolated specks, dark borders
 * along the page edges (scanner lid, copier shadow) and the shadows of
 * punched holes. A printed full stop and a speck are the same size, so a
 * small mark is judged by where it sits on its text line (see
 * cd_clean_punctuation()): a full stop, comma, decimal point, the dot of an
 * i, a colon, an apostrophe or a hyphen is kept. Telling them apart needs
 * upright, level lines: run this stage after orient and deskew.
 *
 * Works on bilevel pages; on a grey or colour page the same marks are found
 * on a Sauvola view of it and painted white.
 *
 * A cleanup that does harm is undone: with `check` on, a page whose
 * cleaning is risky (see cd_clean_is_risky()) has one band of it read by
 * Tesseract before and after, and when the cleaned band reads worse the
 * page is left as it was (`clean.undone`). Only risky pages pay for the
 * two readings, which keeps the cost bounded.
 */
struct _CdCleanStage {
  CdPageStage parent_instance;
  gdouble speck_size;           /* inches */
  gdouble punctuation_distance; /* inches */
  gboolean borders;
  gboolean holes;
  gboolean check;
  gchar *language;
  gchar *datapath;
  TessBaseAPI *api; /* for the check, one per worker */
};

G_DEFINE_FINAL_TYPE(CdCleanStage, cd_clean_stage, CD_TYPE_PAGE_STAGE)

enum {
  PROP_0,
  PROP_SPECK_SIZE,
  PROP_PUNCTUATION_DISTANCE,
  PROP_BORDERS,
  PROP_HOLES,
  PROP_CHECK,
  PROP_LANGUAGE,
  PROP_DATAPATH,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

#define DEFAULT_SPECK_SIZE 0.035
#define DEFAULT_PUNCTUATION_DISTANCE 0.05
/* how far above a stem the dot of an i may be, and above a colon's lower
 * dot its upper one (inches) */
#define PUNCTUATION_REACH_Y_LETTER 0.06
#define PUNCTUATION_REACH_Y 0.1
/* how far along its line a full stop finds the baseline (inches) */
#define PUNCTUATION_LINE 0.15
/* how closely feet or tops must align (inches) */
#define PUNCTUATION_TOLERANCE 0.012
/* smaller than the smallest printed dot (inches) */
#define PUNCTUATION_MIN_SIZE 0.012
#define DEFAULT_BORDERS TRUE
#define DEFAULT_HOLES TRUE
#define DEFAULT_CHECK TRUE
#define DEFAULT_LANGUAGE "eng"
/* the cleaned band must read at least this share as well as the page did:
 * removing noise changes a reading a little either way, removing text a
 * lot */
#define CHECK_KEEP 0.8
/* removing this share of a page's ink (borders aside) makes it risky */
#define RISKY_INK_SHARE 0.15

/* border marks touch an edge and are at least this long (inches) */
#define BORDER_MIN_LENGTH 0.5
/* ...and lie almost all (BORDER_MIN_SHARE of their ink) within this
 * distance of the page's edges (inches): a scanner lid's or copier's
 * shadow hugs the edge, while a table's or a ruled form's lines, with the
 * letters that touch them, run across the page */
#define BORDER_BAND 0.6
#define BORDER_MIN_SHARE 0.85
/* a punched hole's shadow: a round, mostly filled mark of 1/7 to 1/2 inch
 * whose centre lies within an inch of an edge */
#define HOLE_MIN_DIAMETER 0.14
#define HOLE_MAX_DIAMETER 0.5
#define HOLE_EDGE_ZONE 1.0

typedef struct {
  gint specks;
  gint borders;
  gint holes;
  gint ruled;      /* large marks touching an edge kept as rules or tables */
  gint border_ink; /* pixels of the borders removed */
} CdCleanCounts;

/* The share of the ink of @comp (the mark at @x, @y in a @w x @h page)
 * lying within @band pixels of the page's edges. */
static gdouble
cd_clean_edge_share(PIX *comp, gint x, gint y, gint w, gint h, gint band)
{
  gint bw = pixGetWidth(comp), bh = pixGetHeight(comp);
  gint ix0 = MAX(x, band), iy0 = MAX(y, band);
  gint ix1 = MIN(x + bw, w - band), iy1 = MIN(y + bh, h - band);
  l_int32 on = 0, inner = 0;

  pixCountPixels(comp, &on, NULL);
  if (on == 0)
    return 1.0;
  if (ix1 > ix0 && iy1 > iy0) {
    g_autoptr(BOX) box = boxCreate(ix0 - x, iy0 - y, ix1 - ix0, iy1 - iy0);
    g_autoptr(PIX) middle = pixClipRectangle(comp, box, NULL);
    if (middle != NULL)
      pixCountPixels(middle, &inner, NULL);
  }
  return 1.0 - (gdouble) inner / on;
}

static gboolean
cd_clean_is_hole(gint x, gint y, gint bw, gint bh, gint on, gint w, gint h, gint dpi)
{
  gdouble fill;
  gint cx = x + bw / 2, cy = y + bh / 2;
  gint zone = (gint) (HOLE_EDGE_ZONE * dpi);

  if (bw < HOLE_MIN_DIAMETER * dpi || bh < HOLE_MIN_DIAMETER * dpi)
    return FALSE;
  if (bw > HOLE_MAX_DIAMETER * dpi || bh > HOLE_MAX_DIAMETER * dpi)
    return FALSE;
  if (ABS(bw - bh) > 0.2 * MAX(bw, bh))
    return FALSE;
  fill = (gdouble) on / ((gdouble) bw * bh);
  if (fill < 0.6 || fill > 0.9) /* a disc fills pi/4 of its box */
    return FALSE;
  return cx < zone || cy < zone || cx > w - zone || cy > h - zone;
}

/* Letter boxes bucketed on a coarse grid, to find a dot's neighbours. */
typedef struct {
  BOXA *boxa;
  gint cell;
  gint cols, rows;
  GArray **cells; /* of gint indices into boxa */
} CdBoxGrid;

static void
cd_box_grid_init(CdBoxGrid *grid, BOXA *boxa, gint w, gint h, gint cell)
{
  grid->boxa = boxa;
  grid->cell = MAX(8, cell);
  grid->cols = w / grid->cell + 1;
  grid->rows = h / grid->cell + 1;
  grid->cells = g_new0(GArray *, (gsize) grid->cols * grid->rows);
  for (gint i = 0; i < boxaGetCount(boxa); i++) {
    gint x, y, bw, bh;
    boxaGetBoxGeometry(boxa, i, &x, &y, &bw, &bh);
    for (gint r = y / grid->cell; r <= MIN(grid->rows - 1, (y + bh) / grid->cell); r++) {
      for (gint c = x / grid->cell; c <= MIN(grid->cols - 1, (x + bw) / grid->cell); c++) {
        GArray **slot = &grid->cells[(gsize) r * grid->cols + c];
        if (*slot == NULL)
          *slot = g_array_new(FALSE, FALSE, sizeof(gint));
        g_array_append_val(*slot, i);
      }
    }
  }
}

static void
cd_box_grid_clear(CdBoxGrid *grid)
{
  for (gint i = 0; i < grid->cols * grid->rows; i++) {
    if (grid->cells[i] != NULL)
      g_array_unref(grid->cells[i]);
  }
  g_free(grid->cells);
}

typedef struct {
  gint x, y, w, h;
} CdRect;

/* What a neighbour box says about a dot at @d. */
enum {
  CD_NEAR_BESIDE = 1 << 0,   /* a letter right beside it, overlapping its rows */
  CD_NEAR_BASELINE = 1 << 1, /* it sits on or hangs across the baseline of a taller letter */
  CD_NEAR_STACKED = 1 << 2,  /* a narrow mark right above or below it */
  CD_NEAR_LEFT = 1 << 3,     /* a letter beside it on the left, tops aligned */
  CD_NEAR_RIGHT = 1 << 4,    /* likewise on the right */
  CD_NEAR_TOUCH = 1 << 5,    /* all but touching a letter: a piece of a broken stroke */
  CD_NEAR_DASH = 1 << 6,     /* a flat mark beside a letter: a hyphen or dash */
};

static guint
cd_clean_relation(const CdRect *d, const CdRect *b, gint reach, gint line, gint reach_y, gint tol)
{
  guint found = 0;
  gint gap_x = MAX(b->x - (d->x + d->w), d->x - (b->x + b->w));
  gint gap_y = MAX(b->y - (d->y + d->h), d->y - (b->y + b->h));
  gboolean rows_overlap = b->y <= d->y + d->h && b->y + b->h >= d->y;

  if (gap_x <= reach && rows_overlap)
    found |= CD_NEAR_BESIDE;
  if (gap_x <= tol / 2 && gap_y <= tol / 2)
    found |= CD_NEAR_TOUCH;
  if (gap_x <= reach && rows_overlap && d->w >= 2 * d->h && d->y > b->y && d->y + d->h < b->y + b->h)
    found |= CD_NEAR_DASH;
  /* on the baseline: a full stop ends on it, a comma hangs across it */
  if (gap_x <= line && b->h > d->h + tol && 2 * d->y >= 2 * b->y + b->h - 2 * tol && d->y <= b->y + b->h + tol &&
      d->y + d->h >= b->y + b->h - tol && d->y + d->h <= b->y + b->h + b->h / 2)
    found |= CD_NEAR_BASELINE;
  /* over a stem (i, j, the lower dot of a colon), close over the middle
   * of a serif letter (Courier's i), or close under a stroke (!, ?) */
  {
    gint above = b->y - (d->y + d->h), below = d->y - (b->y + b->h);
    gint size = MAX(d->w, d->h);
    gint off = ABS((2 * b->x + b->w) - (2 * d->x + d->w));
    if (above >= -tol && above <= reach_y && b->w <= 3 * size && off <= 2 * MAX(b->w, d->w))
      found |= CD_NEAR_STACKED;
    if (above >= -tol && above <= 2 * tol && b->w <= line && off <= 2 * (d->w + tol))
      found |= CD_NEAR_STACKED;
    if (below >= -tol && below <= 2 * tol && b->w <= 2 * size && b->h >= 2 * size && off <= 2 * MAX(b->w, d->w))
      found |= CD_NEAR_STACKED;
  }
  if (gap_x <= reach && ABS(b->y - d->y) <= tol && b->h > d->h + tol) {
    if (b->x + b->w <= d->x)
      found |= CD_NEAR_LEFT;
    else if (b->x >= d->x + d->w)
      found |= CD_NEAR_RIGHT;
  }
  return found;
}

/* Which small marks are punctuation. A full stop, comma or decimal point
 * sits right beside a letter with its foot on the line's baseline; the dot
 * of an i or j, and the upper dot of a colon, stand right above a narrow
 * mark (the second pass finds dots above dots); an apostrophe hangs from
 * the tops of the letters on both sides; a hyphen is flat, beside a letter,
 * within its height; a piece of a faded letter all but touches the rest.
 * A speck lands anywhere, so few meet any of these. The text must be
 * upright and level: run this stage after orient and deskew. */
static PIX *
cd_clean_punctuation(PIX *dots, PIX *rest, gint dpi, gint reach)
{
  gint line = (gint) lround(PUNCTUATION_LINE * dpi);
  gint reach_y = (gint) lround(PUNCTUATION_REACH_Y * dpi);
  gint reach_y_letter = (gint) lround(PUNCTUATION_REACH_Y_LETTER * dpi);
  gint tol = MAX(2, (gint) lround(PUNCTUATION_TOLERANCE * dpi));
  PIXA *pixa_raw = NULL;
  g_autoptr(BOXA) dot_boxes = pixConnComp(dots, &pixa_raw, 8);
  g_autoptr(PIXA) dot_pixa = pixa_raw;
  g_autoptr(BOXA) letters = pixConnCompBB(rest, 8);
  g_autoptr(PIX) kept = pixCreateTemplate(dots);
  gint n = dot_boxes != NULL ? boxaGetCount(dot_boxes) : 0;
  g_autofree gboolean *is_kept = g_new0(gboolean, MAX(1, n));
  CdBoxGrid grid;
  CdBoxGrid dot_grid;

  if (letters == NULL || dot_boxes == NULL)
    return g_steal_pointer(&kept);
  cd_box_grid_init(&grid, letters, pixGetWidth(rest), pixGetHeight(rest), MAX(line, reach_y));
  cd_box_grid_init(&dot_grid, dot_boxes, pixGetWidth(rest), pixGetHeight(rest), MAX(line, reach_y));
  for (gint pass = 0; pass < 2; pass++) {
    for (gint i = 0; i < n; i++) {
      CdRect d;
      guint found = 0;
      if (is_kept[i])
        continue;
      boxaGetBoxGeometry(dot_boxes, i, &d.x, &d.y, &d.w, &d.h);
      for (gint r = MAX(0, d.y / grid.cell - 1); r <= MIN(grid.rows - 1, d.y / grid.cell + 1); r++) {
        for (gint c = MAX(0, d.x / grid.cell - 1); c <= MIN(grid.cols - 1, d.x / grid.cell + 1); c++) {
          GArray *cell = grid.cells[(gsize) r * grid.cols + c];
          GArray *dot_cell = dot_grid.cells[(gsize) r * dot_grid.cols + c];
          for (guint k = 0; cell != NULL && k < cell->len; k++) {
            CdRect b;
            boxaGetBoxGeometry(letters, g_array_index(cell, gint, k), &b.x, &b.y, &b.w, &b.h);
            found |= cd_clean_relation(&d, &b, reach, line, reach_y_letter, tol);
          }
          /* the second pass: dots stacked on dots already kept (colons) */
          for (guint k = 0; pass == 1 && dot_cell != NULL && k < dot_cell->len; k++) {
            gint j = g_array_index(dot_cell, gint, k);
            CdRect b;
            if (!is_kept[j])
              continue;
            boxaGetBoxGeometry(dot_boxes, j, &b.x, &b.y, &b.w, &b.h);
            found |= cd_clean_relation(&d, &b, reach, line, reach_y, tol) & CD_NEAR_STACKED;
          }
        }
      }
      if (((found & CD_NEAR_BESIDE) && (found & CD_NEAR_BASELINE)) || (found & CD_NEAR_STACKED) ||
          ((found & CD_NEAR_LEFT) && (found & CD_NEAR_RIGHT)) || (found & (CD_NEAR_TOUCH | CD_NEAR_DASH))) {
        g_autoptr(PIX) comp = pixaGetPix(dot_pixa, i, L_CLONE);
        pixRasterop(kept, d.x, d.y, d.w, d.h, PIX_SRC | PIX_DST, comp, 0, 0);
        is_kept[i] = TRUE;
      }
    }
  }
  cd_box_grid_clear(&grid);
  cd_box_grid_clear(&dot_grid);
  return g_steal_pointer(&kept);
}

/* The pixels of @bin that are noise: borders and holes among the larger
 * marks, then the specks that lie away from every remaining mark. */
static PIX *
cd_clean_find_noise(CdCleanStage *self, PIX *bin, gint dpi, CdCleanCounts *counts)
{
  gint w = pixGetWidth(bin), h = pixGetHeight(bin);
  gint speck = MAX(1, (gint) lround(self->speck_size * dpi));
  gint reach = MAX(1, (gint) lround(self->punctuation_distance * dpi));
  g_autoptr(PIX) specks = NULL;
  g_autoptr(PIX) rest = NULL;
  g_autoptr(PIX) noise = pixCreateTemplate(bin);

  /* sizes are judged on a view where gaps of a pixel or two are closed, so
   * the pieces of a faded, broken stroke count as part of their letter */
  {
    g_autoptr(PIX) joined = pixCloseSafeBrick(NULL, bin, 3, 3);
    g_autoptr(PIX) small = NULL;
    if (joined == NULL || noise == NULL)
      return NULL;
    small = pixSelectBySize(joined, speck, speck, 8, L_SELECT_IF_BOTH, L_SELECT_IF_LTE, NULL);
    if (small == NULL)
      return NULL;
    specks = pixAnd(NULL, bin, small);
  }
  rest = pixXor(NULL, bin, specks);

  if (self->borders || self->holes) {
    PIXA *pixa_raw = NULL;
    g_autoptr(BOXA) boxa = pixConnComp(rest, &pixa_raw, 8);
    g_autoptr(PIXA) pixa = pixa_raw;
    gint n = boxa != NULL ? boxaGetCount(boxa) : 0;

    for (gint i = 0; i < n; i++) {
      gint x, y, bw, bh, on = 0;
      gboolean edge, is_border, is_hole;
      g_autoptr(PIX) comp = NULL;

      boxaGetBoxGeometry(boxa, i, &x, &y, &bw, &bh);
      edge = x <= 0 || y <= 0 || x + bw >= w || y + bh >= h;
      is_border = self->borders && edge && MAX(bw, bh) >= BORDER_MIN_LENGTH * dpi;
      is_hole = FALSE;
      comp = pixaGetPix(pixa, i, L_CLONE);
      if (is_border && cd_clean_edge_share(comp, x, y, w, h, (gint) lround(BORDER_BAND * dpi)) < BORDER_MIN_SHARE) {
        is_border = FALSE;
        counts->ruled++;
      }
      if (!is_border && self->holes && bw >= HOLE_MIN_DIAMETER * dpi) {
        pixCountPixels(comp, &on, NULL);
        is_hole = cd_clean_is_hole(x, y, bw, bh, on, w, h, dpi);
      }
      if (!is_border && !is_hole)
        continue;
      pixRasterop(noise, x, y, bw, bh, PIX_SRC | PIX_DST, comp, 0, 0);
      pixRasterop(rest, x, y, bw, bh, PIX_SRC ^ PIX_DST, comp, 0, 0);
      if (is_border) {
        l_int32 on_border = 0;
        pixCountPixels(comp, &on_border, NULL);
        counts->border_ink += on_border;
        counts->borders++;
      } else
        counts->holes++;
    }
  }

  if (self->speck_size > 0) {
    gint tiny = MAX(1, (gint) lround(PUNCTUATION_MIN_SIZE * dpi));
    g_autoptr(PIX) dots = pixSelectBySize(specks, tiny, tiny, 8, L_SELECT_IF_EITHER, L_SELECT_IF_GTE, NULL);
    g_autoptr(PIX) kept = cd_clean_punctuation(dots, rest, dpi, reach);
    g_autoptr(PIX) lost = pixXor(NULL, specks, kept);
    l_int32 n = 0;

    pixCountConnComp(lost, 8, &n);
    counts->specks = n;
    pixOr(noise, noise, lost);
  }
  return g_steal_pointer(&noise);
}

static gboolean
cd_clean_stage_start(CdStage *stage, GError **error)
{
  CdCleanStage *self = CD_CLEAN_STAGE(stage);
  const gchar *datapath = self->datapath != NULL && self->datapath[0] != '\0' ? self->datapath : NULL;

  if (!self->check)
    return TRUE;
  self->api =
      cd_cleanup_tess_new(datapath, self->language, " language", " for the cleanup check", "check=false", error);
  if (self->api == NULL)
    return FALSE;
  return TRUE;
}

static void
cd_clean_stage_stop(CdStage *stage)
{
  CdCleanStage *self = CD_CLEAN_STAGE(stage);

  cd_cleanup_tess_free(&self->api);
}

/* Whether cleaning this page could cost words, so that it is worth
 * checking: its resolution was estimated (every size the stage judges by
 * is then uncertain), or what would be removed, borders aside (they hug
 * the edge), is a tenth or more of the page's ink: specks and hole
 * shadows are a few percent of a page's ink, text is most of it. */
static gboolean
cd_clean_is_risky(CdPage *page, PIX *bin, PIX *noise, const CdCleanCounts *counts)
{
  g_autoptr(GVariant) estimated = cd_page_get_fact(page, "resolution.estimated");
  l_int32 ink = 0, removed = 0;

  if (estimated != NULL)
    return TRUE;
  if (counts->specks + counts->holes == 0)
    return FALSE;
  pixCountPixels(bin, &ink, NULL);
  pixCountPixels(noise, &removed, NULL);
  removed -= counts->border_ink;
  ink -= counts->border_ink;
  return ink > 0 && removed >= RISKY_INK_SHARE * ink;
}

/* The check: reads the band of @bin where most of @noise lies, with and
 * without it, and says whether removing it reads worse. */
static gboolean
cd_clean_does_harm(CdCleanStage *self, CdPage *page, PIX *bin, PIX *noise, gint dpi)
{
  g_autoptr(PIX) cleaned = pixSubtract(NULL, bin, noise);
  gint top = cd_cleanup_inkiest_band(noise, cd_cleanup_band_height(bin, dpi));
  gdouble before, after;

  if (cleaned == NULL)
    return FALSE;
  before = cd_cleanup_read_score(self->api, bin, dpi, 0, top, NULL);
  after = cd_cleanup_read_score(self->api, cleaned, dpi, 0, top, NULL);
  cd_page_set_fact(page, "clean.read-before", g_variant_new_double(before));
  cd_page_set_fact(page, "clean.read-after", g_variant_new_double(after));
  return after < CHECK_KEEP * before;
}

static gboolean
cd_clean_stage_process(CdPageStage *stage, CdPage *page, GCancellable *cancellable, GError **error)
{
  CdCleanStage *self = CD_CLEAN_STAGE(stage);
  PIX *pix = cd_page_get_pix(page);
  gint dpi = cd_cleanup_page_dpi(page);
  g_autoptr(PIX) bin = NULL;
  g_autoptr(PIX) noise = NULL;
  CdCleanCounts counts = { 0 };

  if (pix == NULL)
    return TRUE;
  bin = cd_cleanup_binary(pix, dpi, error);
  if (bin == NULL) {
    g_prefix_error(error, "clean: ");
    return FALSE;
  }
  noise = cd_clean_find_noise(self, bin, dpi, &counts);
  if (noise == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_FAILED, "clean: cannot analyse the page");
    return FALSE;
  }
  if (counts.specks + counts.borders + counts.holes > 0 && self->api != NULL &&
      cd_clean_is_risky(page, bin, noise, &counts) && cd_clean_does_harm(self, page, bin, noise, dpi)) {
    /* leave the page as it was; the counts say what would have gone */
    cd_page_set_fact(page, "clean.undone", g_variant_new_boolean(TRUE));
  } else if (counts.specks + counts.borders + counts.holes > 0) {
    if (pixGetDepth(pix) == 1 && pixGetColormap(pix) == NULL) {
      cd_page_set_pix(page, pixSubtract(NULL, pix, noise));
    } else {
      gboolean plain = pixGetColormap(pix) == NULL && (pixGetDepth(pix) == 8 || pixGetDepth(pix) == 32);
      g_autoptr(PIX) copy = plain ? pixCopy(NULL, pix) : cd_cleanup_grey(pix);
      if (copy == NULL) {
        g_set_error_literal(error, CD_ERROR, CD_ERROR_FAILED, "clean: cannot copy the page");
        return FALSE;
      }
      pixPaintThroughMask(copy, noise, 0, 0, pixGetDepth(copy) == 32 ? 0xffffff00 : 0xff);
      cd_page_set_pix(page, g_steal_pointer(&copy));
    }
  }
  cd_page_set_fact(page, "clean.specks", g_variant_new_int32(counts.specks));
  cd_page_set_fact(page, "clean.borders", g_variant_new_int32(counts.borders));
  cd_page_set_fact(page, "clean.holes", g_variant_new_int32(counts.holes));
  cd_page_set_fact(page, "clean.ruled", g_variant_new_int32(counts.ruled));
  return TRUE;
}

static void
cd_clean_stage_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdCleanStage *self = CD_CLEAN_STAGE(object);

  switch (prop_id) {
  case PROP_SPECK_SIZE:
    g_value_set_double(value, self->speck_size);
    break;
  case PROP_PUNCTUATION_DISTANCE:
    g_value_set_double(value, self->punctuation_distance);
    break;
  case PROP_BORDERS:
    g_value_set_boolean(value, self->borders);
    break;
  case PROP_HOLES:
    g_value_set_boolean(value, self->holes);
    break;
  case PROP_CHECK:
    g_value_set_boolean(value, self->check);
    break;
  case PROP_LANGUAGE:
    g_value_set_string(value, self->language);
    break;
  case PROP_DATAPATH:
    g_value_set_string(value, self->datapath);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_clean_stage_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdCleanStage *self = CD_CLEAN_STAGE(object);

  switch (prop_id) {
  case PROP_SPECK_SIZE:
    self->speck_size = g_value_get_double(value);
    break;
  case PROP_PUNCTUATION_DISTANCE:
    self->punctuation_distance = g_value_get_double(value);
    break;
  case PROP_BORDERS:
    self->borders = g_value_get_boolean(value);
    break;
  case PROP_HOLES:
    self->holes = g_value_get_boolean(value);
    break;
  case PROP_CHECK:
    self->check = g_value_get_boolean(value);
    break;
  case PROP_LANGUAGE:
    g_free(self->language);
    self->language = g_value_dup_string(value);
    break;
  case PROP_DATAPATH:
    g_free(self->datapath);
    self->datapath = g_value_dup_string(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_clean_stage_finalize(GObject *object)
{
  CdCleanStage *self = CD_CLEAN_STAGE(object);

  cd_clean_stage_stop(CD_STAGE(self));
  g_free(self->language);
  g_free(self->datapath);
  G_OBJECT_CLASS(cd_clean_stage_parent_class)->finalize(object);
}

static void
cd_clean_stage_class_init(CdCleanStageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdPageStageClass *page_class = CD_PAGE_STAGE_CLASS(klass);

  object_class->finalize = cd_clean_stage_finalize;
  stage_class->start = cd_clean_stage_start;
  stage_class->stop = cd_clean_stage_stop;
  object_class->get_property = cd_clean_stage_get_property;
  object_class->set_property = cd_clean_stage_set_property;
  page_class->process = cd_clean_stage_process;

  props[PROP_SPECK_SIZE] = g_param_spec_double(
      "speck-size", "Speck size",
      "Marks no wider and no taller than this (inches) are specks, unless they lie near text "
      "(0: keep specks)",
      0.0, 0.25, DEFAULT_SPECK_SIZE, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_PUNCTUATION_DISTANCE] =
      g_param_spec_double("punctuation-distance", "Punctuation distance",
                          "A speck this close (inches) to a larger mark is punctuation and is kept", 0.0, 0.5,
                          DEFAULT_PUNCTUATION_DISTANCE, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_BORDERS] = g_param_spec_boolean(
      "borders", "Borders", "Remove dark marks that touch the page edge and are at least half an inch long",
      DEFAULT_BORDERS, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_HOLES] =
      g_param_spec_boolean("holes", "Punched holes",
                           "Remove round filled marks of 0.14 to 0.5 inch within an inch of an edge (hole shadows)",
                           DEFAULT_HOLES, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_CHECK] = g_param_spec_boolean(
      "check", "Undo harm",
      "On risky pages (estimated resolution, a border, hole or many specks removed) read a band before and after "
      "with Tesseract, and leave the page as it was when the cleaned band reads worse",
      DEFAULT_CHECK, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_LANGUAGE] =
      g_param_spec_string("language", "Language", "Tesseract language the check reads with", DEFAULT_LANGUAGE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_DATAPATH] =
      g_param_spec_string("datapath", "Data path", "Folder of the language's .traineddata (empty: Tesseract's default)",
                          "", G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "clean",
                              "Removes specks (keeping punctuation), dark borders and punched-hole shadows, keeping "
                              "tables and ruled forms; undoes itself on a page it would make read worse");
}

static void
cd_clean_stage_init(CdCleanStage *self)
{
}
