/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>

#include "cd-cleanup-common.h"
#include "cd-cleanup-stages.h"

/**
 * CdBinarizeStage:
 *
 * Turns grey and colour pages into bilevel ones with a local (Sauvola)
 * threshold, which keeps faded toner on yellowed or grey paper that one
 * global threshold would lose. A bilevel page is also stored small (G4).
 * Pages that are already bilevel are left alone.
 */
struct _CdBinarizeStage {
  CdPageStage parent_instance;
  gchar *method;
  guint window; /* half-width in pixels, 0: from the resolution */
  gdouble k;
  guint threshold;
  guint min_dpi;     /* coarser pages are resampled */
  guint resample_to; /* to this resolution (0: to min_dpi) */
};

G_DEFINE_FINAL_TYPE(CdBinarizeStage, cd_binarize_stage, CD_TYPE_PAGE_STAGE)

enum { PROP_0, PROP_METHOD, PROP_WINDOW, PROP_K, PROP_THRESHOLD, PROP_MIN_DPI, PROP_RESAMPLE_TO, N_PROPS };
static GParamSpec *props[N_PROPS];

#define DEFAULT_METHOD "sauvola"
#define DEFAULT_WINDOW 0
#define DEFAULT_K 0.2
#define DEFAULT_THRESHOLD 160
#define DEFAULT_MIN_DPI 0
#define DEFAULT_RESAMPLE_TO 0

static gboolean
cd_binarize_stage_start(CdStage *stage, GError **error)
{
  CdBinarizeStage *self = CD_BINARIZE_STAGE(stage);

  if (g_strcmp0(self->method, "sauvola") != 0 && g_strcmp0(self->method, "threshold") != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "method: '%s' is not one of sauvola, threshold", self->method);
    return FALSE;
  }
  return TRUE;
}

/* Coarse pages lose Tesseract letters: its models want an x-height of 20
 * pixels or so, and a 100 dpi office scan thresholded as it is keeps
 * strokes one pixel wide, or none. Pages coarser than min-dpi are
 * resampled, in grey with linear interpolation so that the strokes come
 * out smooth, to resample-to (min-dpi when 0) before the threshold.
 * Returns a new grey page, or NULL when no resampling is due; *@to gets
 * the new resolution. */
static PIX *
cd_binarize_stage_resample(CdBinarizeStage *self, CdPage *page, PIX *pix, gint dpi, gint *to)
{
  g_autoptr(PIX) grey = NULL;
  gfloat scale;
  gint xres = 0, yres = 0;
  guint target = self->resample_to > 0 ? self->resample_to : self->min_dpi;

  *to = dpi;
  if (self->min_dpi == 0 || dpi >= (gint) self->min_dpi || (gint) target <= dpi)
    return NULL;
  if (pixGetDepth(pix) == 1 && pixGetColormap(pix) == NULL)
    grey = pixConvert1To8(NULL, pix, 255, 0);
  else
    grey = cd_cleanup_grey(pix);
  if (grey == NULL)
    return NULL;
  scale = (gfloat) target / (gfloat) dpi;
  cd_page_get_resolution(page, &xres, &yres);
  cd_page_set_resolution(page, (gint) target, yres > 0 ? (gint) lround(yres * scale) : (gint) target);
  *to = (gint) target;
  cd_page_set_fact(page, "binarize.resampled-from", g_variant_new_int32(dpi));
  return pixScaleGrayLI(grey, scale, scale);
}

static gboolean
cd_binarize_stage_process(CdPageStage *stage, CdPage *page, GCancellable *cancellable, GError **error)
{
  CdBinarizeStage *self = CD_BINARIZE_STAGE(stage);
  PIX *pix = cd_page_get_pix(page);
  gint dpi = cd_cleanup_page_dpi(page);
  gint depth;
  g_autoptr(PIX) grey = NULL;
  PIX *binary;

  if (pix == NULL)
    return TRUE;
  depth = pixGetDepth(pix);
  grey = cd_binarize_stage_resample(self, page, pix, dpi, &dpi);
  if (grey == NULL) {
    if (depth == 1 && pixGetColormap(pix) == NULL)
      return TRUE;
    grey = cd_cleanup_grey(pix);
  }
  if (grey == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "binarize: cannot convert a %d-bit page to grey", depth);
    return FALSE;
  }
  if (g_strcmp0(self->method, "threshold") == 0 || depth == 1) {
    /* a resampled bilevel page has only edge greys: halfway is right */
    binary = pixThresholdToBinary(grey, depth == 1 ? 128 : (l_int32) self->threshold);
  } else {
    binary = cd_cleanup_sauvola(grey, dpi, self->window, self->k, error);
    if (binary == NULL) {
      g_prefix_error(error, "binarize: ");
      return FALSE;
    }
  }
  if (binary == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_FAILED, "binarize: thresholding failed");
    return FALSE;
  }
  cd_page_set_fact(page, "binarize.from-depth", g_variant_new_int32(depth));
  cd_page_set_pix(page, binary);
  return TRUE;
}

static void
cd_binarize_stage_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdBinarizeStage *self = CD_BINARIZE_STAGE(object);

  switch (prop_id) {
  case PROP_METHOD:
    g_value_set_string(value, self->method);
    break;
  case PROP_WINDOW:
    g_value_set_uint(value, self->window);
    break;
  case PROP_K:
    g_value_set_double(value, self->k);
    break;
  case PROP_THRESHOLD:
    g_value_set_uint(value, self->threshold);
    break;
  case PROP_MIN_DPI:
    g_value_set_uint(value, self->min_dpi);
    break;
  case PROP_RESAMPLE_TO:
    g_value_set_uint(value, self->resample_to);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_binarize_stage_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdBinarizeStage *self = CD_BINARIZE_STAGE(object);

  switch (prop_id) {
  case PROP_METHOD:
    g_free(self->method);
    self->method = g_value_dup_string(value);
    break;
  case PROP_WINDOW:
    self->window = g_value_get_uint(value);
    break;
  case PROP_K:
    self->k = g_value_get_double(value);
    break;
  case PROP_THRESHOLD:
    self->threshold = g_value_get_uint(value);
    break;
  case PROP_MIN_DPI:
    self->min_dpi = g_value_get_uint(value);
    break;
  case PROP_RESAMPLE_TO:
    self->resample_to = g_value_get_uint(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_binarize_stage_finalize(GObject *object)
{
  CdBinarizeStage *self = CD_BINARIZE_STAGE(object);

  g_free(self->method);
  G_OBJECT_CLASS(cd_binarize_stage_parent_class)->finalize(object);
}

static void
cd_binarize_stage_class_init(CdBinarizeStageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdPageStageClass *page_class = CD_PAGE_STAGE_CLASS(klass);

  object_class->finalize = cd_binarize_stage_finalize;
  object_class->get_property = cd_binarize_stage_get_property;
  object_class->set_property = cd_binarize_stage_set_property;
  stage_class->start = cd_binarize_stage_start;
  page_class->process = cd_binarize_stage_process;

  props[PROP_METHOD] = g_param_spec_string(
      "method", "Method",
      "sauvola (a local threshold for faded toner and yellowed paper) or threshold (one global level)", DEFAULT_METHOD,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_WINDOW] =
      g_param_spec_uint("window", "Window",
                        "Half-width of Sauvola's window in pixels (0: a sixth of an inch at the "
                        "page's resolution)",
                        0, 500, DEFAULT_WINDOW, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_K] = g_param_spec_double(
      "k", "Sauvola k", "How far below the local mean ink must be (higher: thinner strokes, less noise)", 0.05, 1.0,
      DEFAULT_K, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_THRESHOLD] =
      g_param_spec_uint("threshold", "Threshold", "Grey level below which a pixel is ink (method threshold)", 1, 255,
                        DEFAULT_THRESHOLD, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_MIN_DPI] =
      g_param_spec_uint("min-dpi", "Lowest resolution",
                        "Pages scanned coarser than this (fax, 200 dpi) are resampled to it for recognition (0: never)",
                        0, 1200, DEFAULT_MIN_DPI, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_RESAMPLE_TO] = g_param_spec_uint(
      "resample-to", "Resample to", "Resolution pages coarser than min-dpi are resampled to (0: min-dpi itself)", 0,
      1200, DEFAULT_RESAMPLE_TO, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "binarize",
                              "Turns grey and colour pages bilevel with a local (Sauvola) threshold; bilevel pages "
                              "are left alone");
}

static void
cd_binarize_stage_init(CdBinarizeStage *self)
{
}
