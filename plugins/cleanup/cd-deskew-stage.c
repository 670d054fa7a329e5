/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>

#include "cd-cleanup-common.h"
#include "cd-cleanup-stages.h"

/**
 * CdDeskewStage:
 *
 * Measures the angle of the text lines (Leptonica's sweep of shear angles
 * scored by the sharpness of the row profile, refined by binary search)
 * and rotates the page back. The page's skew is the angle corrected, in
 * degrees, positive when the scan was turned counter-clockwise.
 *
 * Run it after `orient`: it looks for lines within `max-angle` of
 * horizontal, so a sideways page has no skew it can find.
 */
struct _CdDeskewStage {
  CdPageStage parent_instance;
  gdouble max_angle;
  gdouble min_angle;
  gdouble min_confidence;
};

G_DEFINE_FINAL_TYPE(CdDeskewStage, cd_deskew_stage, CD_TYPE_PAGE_STAGE)

enum { PROP_0, PROP_MAX_ANGLE, PROP_MIN_ANGLE, PROP_MIN_CONFIDENCE, N_PROPS };
static GParamSpec *props[N_PROPS];

#define DEFAULT_MAX_ANGLE 12.0
#define DEFAULT_MIN_ANGLE 0.1
#define DEFAULT_MIN_CONFIDENCE 2.0

static gboolean
cd_deskew_stage_process(CdPageStage *stage, CdPage *page, GCancellable *cancellable, GError **error)
{
  CdDeskewStage *self = CD_DESKEW_STAGE(stage);
  PIX *pix = cd_page_get_pix(page);
  gint dpi = cd_cleanup_page_dpi(page), work_dpi;
  g_autoptr(PIX) bin = NULL;
  g_autoptr(PIX) work = NULL;
  l_float32 angle = 0.0f, conf = 0.0f, endscore = 0.0f;
  PIX *rotated;

  if (pix == NULL)
    return TRUE;
  bin = cd_cleanup_binary(pix, dpi, error);
  if (bin == NULL) {
    g_prefix_error(error, "deskew: ");
    return FALSE;
  }
  work = cd_cleanup_at_most_300(bin, dpi, &work_dpi);
  /* sweep at 1/4 size in 1 degree steps, search at 1/2 size down to 0.01 */
  if (pixFindSkewSweepAndSearchScorePivot(work, &angle, &conf, &endscore, 4, 2, 0.0f, (l_float32) self->max_angle, 1.0f,
                                          0.01f, L_SHEAR_ABOUT_CORNER) != 0) {
    angle = 0.0f;
    conf = 0.0f;
  }
  cd_page_set_fact(page, "deskew.measured", g_variant_new_double(round(angle * 100.0) / 100.0));
  cd_page_set_fact(page, "deskew.confidence", g_variant_new_double(round(conf * 100.0) / 100.0));
  if (conf < self->min_confidence || fabs(angle) < self->min_angle || fabs(angle) > self->max_angle)
    return TRUE;

  /* bilevel pages by shear (two or three shears about the centre: exact
   * for text and a few times faster than sampling); grey and colour ones by
   * area mapping, which keeps their edges smooth */
  if (pixGetDepth(pix) == 1)
    rotated = pixRotateShearCenter(pix, (l_float32) (angle * G_PI / 180.0), L_BRING_IN_WHITE);
  else
    rotated = pixRotate(pix, (l_float32) (angle * G_PI / 180.0), L_ROTATE_AREA_MAP, L_BRING_IN_WHITE, 0, 0);
  if (rotated == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "deskew: cannot rotate the page %.2f degrees", angle);
    return FALSE;
  }
  cd_page_set_pix(page, rotated);
  cd_page_set_skew(page, round((cd_page_get_skew(page) + angle) * 100.0) / 100.0);
  return TRUE;
}

static void
cd_deskew_stage_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdDeskewStage *self = CD_DESKEW_STAGE(object);

  switch (prop_id) {
  case PROP_MAX_ANGLE:
    g_value_set_double(value, self->max_angle);
    break;
  case PROP_MIN_ANGLE:
    g_value_set_double(value, self->min_angle);
    break;
  case PROP_MIN_CONFIDENCE:
    g_value_set_double(value, self->min_confidence);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_deskew_stage_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdDeskewStage *self = CD_DESKEW_STAGE(object);

  switch (prop_id) {
  case PROP_MAX_ANGLE:
    self->max_angle = g_value_get_double(value);
    break;
  case PROP_MIN_ANGLE:
    self->min_angle = g_value_get_double(value);
    break;
  case PROP_MIN_CONFIDENCE:
    self->min_confidence = g_value_get_double(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_deskew_stage_class_init(CdDeskewStageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdPageStageClass *page_class = CD_PAGE_STAGE_CLASS(klass);

  object_class->get_property = cd_deskew_stage_get_property;
  object_class->set_property = cd_deskew_stage_set_property;
  page_class->process = cd_deskew_stage_process;

  props[PROP_MAX_ANGLE] =
      g_param_spec_double("max-angle", "Largest angle", "Skew searched for, in degrees either way", 1.0, 30.0,
                          DEFAULT_MAX_ANGLE, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_MIN_ANGLE] =
      g_param_spec_double("min-angle", "Smallest angle", "Skew below this (degrees) is left alone", 0.0, 5.0,
                          DEFAULT_MIN_ANGLE, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_MIN_CONFIDENCE] = g_param_spec_double(
      "min-confidence", "Confidence",
      "Leptonica's skew confidence needed to rotate (pages without text lines score low)", 0.0, 100.0,
      DEFAULT_MIN_CONFIDENCE, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "deskew",
                              "Measures the text lines' angle (up to max-angle either way) and rotates the page level");
}

static void
cd_deskew_stage_init(CdDeskewStage *self)
{
}
