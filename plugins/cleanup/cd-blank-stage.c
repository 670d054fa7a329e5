/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>

#include "cd-cleanup-common.h"
#include "cd-cleanup-stages.h"

/**
 * CdBlankStage:
 *
 * Finds blank pages (duplex backs) and marks them %CD_PAGE_KIND_BLANK with
 * the reason, so they are archived as blank records and never recognised.
 *
 * A page is blank when, away from its margins, it has no mark at least
 * `min-mark` inches wide or tall other than compact blots: dust, specks and
 * toner dots do not make a page, but one handwritten word or a signature
 * (thin strokes a tenth of an inch or more) does. Marks in the margins
 * (punched holes, border shadows, staples) are ignored.
 */
struct _CdBlankStage {
  CdPageStage parent_instance;
  gdouble margin;   /* inches */
  gdouble min_mark; /* inches */
};

G_DEFINE_FINAL_TYPE(CdBlankStage, cd_blank_stage, CD_TYPE_PAGE_STAGE)

enum { PROP_0, PROP_MARGIN, PROP_MIN_MARK, N_PROPS };
static GParamSpec *props[N_PROPS];

#define DEFAULT_MARGIN 0.6
#define DEFAULT_MIN_MARK 0.08
/* more ink than this share of the page is never blank: skip counting */
#define SURELY_INKED 0.01
/* a blot: mostly filled and under a fifth of an inch */
#define BLOT_FILL 0.6
#define BLOT_MAX_SIZE 0.2

/* Counts the marks of @bin that make a page; *specks gets the others. */
static gint
cd_blank_count_marks(CdBlankStage *self, PIX *bin, gint dpi, gint *specks)
{
  PIXA *pixa_raw = NULL;
  g_autoptr(BOXA) boxa = pixConnComp(bin, &pixa_raw, 8);
  g_autoptr(PIXA) pixa = pixa_raw;
  gint n = boxa != NULL ? boxaGetCount(boxa) : 0;
  gint min_mark = MAX(2, (gint) lround(self->min_mark * dpi));
  gint marks = 0;

  *specks = 0;
  for (gint i = 0; i < n; i++) {
    gint x, y, bw, bh, on = 0;
    g_autoptr(PIX) comp = NULL;

    boxaGetBoxGeometry(boxa, i, &x, &y, &bw, &bh);
    if (MAX(bw, bh) < min_mark) {
      (*specks)++;
      continue;
    }
    comp = pixaGetPix(pixa, i, L_CLONE);
    pixCountPixels(comp, &on, NULL);
    if ((gdouble) on / ((gdouble) bw * bh) >= BLOT_FILL && MAX(bw, bh) < BLOT_MAX_SIZE * dpi) {
      (*specks)++;
      continue;
    }
    marks++;
  }
  return marks;
}

static gboolean
cd_blank_stage_process(CdPageStage *stage, CdPage *page, GCancellable *cancellable, GError **error)
{
  CdBlankStage *self = CD_BLANK_STAGE(stage);
  PIX *pix = cd_page_get_pix(page);
  gint dpi = cd_cleanup_page_dpi(page);
  g_autoptr(PIX) bin = NULL;
  g_autoptr(PIX) inner = NULL;
  g_autoptr(BOX) box = NULL;
  gint w, h, m, on = 0, marks, specks = 0;
  gdouble ink;

  if (pix == NULL)
    return TRUE;
  bin = cd_cleanup_binary(pix, dpi, error);
  if (bin == NULL) {
    g_prefix_error(error, "blank: ");
    return FALSE;
  }
  w = pixGetWidth(bin);
  h = pixGetHeight(bin);
  m = (gint) lround(self->margin * dpi);
  if (2 * m >= w || 2 * m >= h)
    m = 0;
  box = boxCreate(m, m, w - 2 * m, h - 2 * m);
  inner = pixClipRectangle(bin, box, NULL);
  if (inner == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_FAILED, "blank: cannot clip the page");
    return FALSE;
  }
  pixCountPixels(inner, &on, NULL);
  ink = (gdouble) on / ((gdouble) pixGetWidth(inner) * pixGetHeight(inner));
  cd_page_set_fact(page, "blank.ink", g_variant_new_double(round(ink * 1e5) / 1e5));
  if (ink > SURELY_INKED)
    return TRUE;
  marks = cd_blank_count_marks(self, inner, dpi, &specks);
  cd_page_set_fact(page, "blank.marks", g_variant_new_int32(marks));
  if (marks == 0) {
    g_autofree gchar *reason =
        g_strdup_printf("blank: no mark of %.2f inch or more inside a %.2f inch margin (%d speck%s ignored)",
                        self->min_mark, self->margin, specks, specks == 1 ? "" : "s");
    cd_page_set_kind(page, CD_PAGE_KIND_BLANK, reason);
  }
  return TRUE;
}

static void
cd_blank_stage_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdBlankStage *self = CD_BLANK_STAGE(object);

  switch (prop_id) {
  case PROP_MARGIN:
    g_value_set_double(value, self->margin);
    break;
  case PROP_MIN_MARK:
    g_value_set_double(value, self->min_mark);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_blank_stage_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdBlankStage *self = CD_BLANK_STAGE(object);

  switch (prop_id) {
  case PROP_MARGIN:
    self->margin = g_value_get_double(value);
    break;
  case PROP_MIN_MARK:
    self->min_mark = g_value_get_double(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_blank_stage_class_init(CdBlankStageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdPageStageClass *page_class = CD_PAGE_STAGE_CLASS(klass);

  object_class->get_property = cd_blank_stage_get_property;
  object_class->set_property = cd_blank_stage_set_property;
  page_class->process = cd_blank_stage_process;

  props[PROP_MARGIN] = g_param_spec_double(
      "margin", "Margin", "Marks this close (inches) to an edge are ignored: holes, border shadows, staples", 0.0, 2.0,
      DEFAULT_MARGIN, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_MIN_MARK] =
      g_param_spec_double("min-mark", "Smallest mark",
                          "A stroke at least this wide or tall (inches) makes a page not blank; smaller specks and "
                          "compact blots do not",
                          0.01, 1.0, DEFAULT_MIN_MARK, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "blank",
                              "Marks blank pages (duplex backs with specks) so they are kept out of documents; a "
                              "signature or one handwritten line is not blank");
}

static void
cd_blank_stage_init(CdBlankStage *self)
{
}
