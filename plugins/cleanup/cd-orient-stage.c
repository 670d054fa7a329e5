/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <tesseract/capi.h>

#include "cd-cleanup-common.h"
#include "cd-cleanup-stages.h"

/**
 * CdOrientStage:
 *
 * Turns upside-down and sideways pages upright, and records the clockwise
 * turn applied as the page's rotation.
 *
 * Most pages are upright, so the first test is the cheap one: Leptonica
 * counts ascenders and descenders pointing each way (about 50 ms a page at
 * 300 ppi). A portrait page whose upright signal is strong is settled by
 * it. Otherwise — the test is unsure, finds the page turned, or the image
 * is landscape (a portrait page scanned sideways can fool it) — the stage
 * asks Tesseract's orientation detector (the `osd` data), and then checks
 * itself: with `verify` on, no page is turned, and no unsure or landscape
 * page left as it is, before a band of it has been read by Tesseract the
 * way each candidate turn would leave it (cd_cleanup_read_score()). The
 * page stays as scanned unless another way reads clearly better, so an
 * upright page is never turned over on the word of one test. Two
 * Tesseract handles per worker (osd, and the language for the check),
 * made in start().
 */
struct _CdOrientStage {
  CdPageStage parent_instance;
  gboolean osd;
  gchar *datapath;
  gdouble min_confidence;
  gdouble min_ratio;
  gdouble osd_min_confidence;
  gboolean verify;
  gchar *language;
  gdouble verify_ratio;
  TessBaseAPI *api;
  TessBaseAPI *reader; /* the language model, for the check */
};

G_DEFINE_FINAL_TYPE(CdOrientStage, cd_orient_stage, CD_TYPE_PAGE_STAGE)

enum {
  PROP_0,
  PROP_OSD,
  PROP_DATAPATH,
  PROP_MIN_CONFIDENCE,
  PROP_MIN_RATIO,
  PROP_OSD_MIN_CONFIDENCE,
  PROP_VERIFY,
  PROP_LANGUAGE,
  PROP_VERIFY_RATIO,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

#define DEFAULT_OSD TRUE
#define DEFAULT_MIN_CONFIDENCE 8.0
#define DEFAULT_MIN_RATIO 2.5
#define DEFAULT_OSD_MIN_CONFIDENCE 2.0
#define DEFAULT_VERIFY TRUE
#define DEFAULT_LANGUAGE "eng"
#define DEFAULT_VERIFY_RATIO 1.5
/* an up/down signal this strong needs no sideways test */
#define UPRIGHT_AT_ONCE 12.0
/* wider than tall by this much: a landscape image */
#define LANDSCAPE_RATIO 1.1
/* a band read with a mean word confidence under this is suspect */
#define LOW_READ_CONFIDENCE 60.0
/* a turn must read at least this well (sum of word confidences over 50) */
#define VERIFY_MIN_SCORE 100.0

static gboolean
cd_orient_stage_start(CdStage *stage, GError **error)
{
  CdOrientStage *self = CD_ORIENT_STAGE(stage);
  const gchar *datapath = self->datapath != NULL && self->datapath[0] != '\0' ? self->datapath : NULL;

  if (self->osd) {
    self->api = cd_cleanup_tess_new(datapath, "osd", "'s orientation data", "", "osd=false", error);
    if (self->api == NULL)
      return FALSE;
  }
  if (self->verify) {
    self->reader =
        cd_cleanup_tess_new(datapath, self->language, " language", " for the orientation check", "verify=false", error);
    if (self->reader == NULL)
      return FALSE;
  }
  return TRUE;
}

static void
cd_orient_stage_stop(CdStage *stage)
{
  CdOrientStage *self = CD_ORIENT_STAGE(stage);

  cd_cleanup_tess_free(&self->reader);
  cd_cleanup_tess_free(&self->api);
}

/* The check: reads a band of @work as it is and turned each way in
 * @candidates (clockwise degrees, -1 ends the list), and returns the turn
 * that reads clearly best — 0, leaving the page as scanned, unless another
 * reads at least verify-ratio times as well and scores VERIFY_MIN_SCORE.
 * The scores are recorded as the page's orient.read-N facts; *@readable
 * says whether any way read at all (VERIFY_MIN_SCORE). */
static gint
cd_orient_stage_check(CdOrientStage *self, CdPage *page, PIX *work, gint dpi, const gint *candidates,
                      gboolean *readable)
{
  gdouble upright = cd_cleanup_read_score(self->reader, work, dpi, 0, -1, NULL);
  gdouble best_score = 0.0;
  gint best = 0;

  cd_page_set_fact(page, "orient.read-0", g_variant_new_double(upright));
  for (guint i = 0; candidates[i] >= 0; i++) {
    g_autofree gchar *key = NULL;
    gdouble score;
    if (candidates[i] == 0)
      continue;
    score = cd_cleanup_read_score(self->reader, work, dpi, candidates[i], -1, NULL);
    key = g_strdup_printf("orient.read-%d", candidates[i]);
    cd_page_set_fact(page, key, g_variant_new_double(score));
    if (score > best_score) {
      best_score = score;
      best = candidates[i];
    }
  }
  *readable = MAX(upright, best_score) >= VERIFY_MIN_SCORE;
  if (best != 0 && best_score >= VERIFY_MIN_SCORE && best_score >= self->verify_ratio * upright)
    return best;
  return 0;
}

/* Tesseract's opinion: the clockwise turn that makes @bin upright, or -1
 * when it is not confident (too little text, mixed signals). */
static gint
cd_orient_stage_ask_osd(CdOrientStage *self, PIX *bin, gint dpi, gdouble *confidence)
{
  int degrees = 0;
  float conf = 0.0f, script_conf = 0.0f;
  const char *script = NULL;
  gboolean ok;

  *confidence = 0.0;
  if (self->api == NULL)
    return -1;
  TessBaseAPISetImage2(self->api, bin);
  TessBaseAPISetSourceResolution(self->api, dpi);
  ok = TessBaseAPIDetectOrientationScript(self->api, &degrees, &conf, &script, &script_conf);
  TessBaseAPIClear(self->api);
  if (!ok)
    return -1;
  *confidence = conf;
  if (conf < self->osd_min_confidence)
    return -1;
  /* Tesseract reports how far the image is turned clockwise */
  return (360 - degrees) % 360;
}

static gboolean
cd_orient_stage_process(CdPageStage *stage, CdPage *page, GCancellable *cancellable, GError **error)
{
  CdOrientStage *self = CD_ORIENT_STAGE(stage);
  PIX *pix = cd_page_get_pix(page);
  gint dpi = cd_cleanup_page_dpi(page);
  g_autoptr(PIX) bin = NULL;
  g_autoptr(PIX) work = NULL;
  l_float32 up = 0.0f, left = 0.0f;
  l_int32 orient = L_TEXT_ORIENT_UNKNOWN;
  gint work_dpi = dpi, turn, quick;
  gboolean landscape;
  const gchar *method = "leptonica";

  if (pix == NULL)
    return TRUE;
  bin = cd_cleanup_binary(pix, dpi, error);
  if (bin == NULL) {
    g_prefix_error(error, "orient: ");
    return FALSE;
  }
  work = cd_cleanup_at_most_300(bin, dpi, &work_dpi);
  landscape = pixGetWidth(work) > LANDSCAPE_RATIO * pixGetHeight(work);
  cd_page_set_fact(page, "orient.landscape", g_variant_new_boolean(landscape));
  /* Half the quick test first: text lines turned a quarter give a weak
   * up/down signal (|up| under 5 on every turned page measured), so a
   * strong upright signal settles a portrait page without the sideways
   * test. A landscape image is most often a portrait page scanned
   * sideways, whose up/down count means nothing: it always goes on. */
  if (pixUpDownDetect(work, &up, 0, 0, 0) != 0)
    up = 0.0f;
  cd_page_set_fact(page, "orient.up-confidence", g_variant_new_double(up));
  if (!landscape && up >= MAX(UPRIGHT_AT_ONCE, 1.5 * self->min_confidence)) {
    cd_page_set_fact(page, "orient.method", g_variant_new_string("leptonica"));
    return TRUE;
  }
  {
    g_autoptr(PIX) quarter = pixRotate90(work, 1);
    if (quarter == NULL || pixUpDownDetect(quarter, &left, 0, 0, 0) != 0 ||
        makeOrientDecision(up, left, (l_float32) self->min_confidence, (l_float32) self->min_ratio, &orient, 0) != 0)
      orient = L_TEXT_ORIENT_UNKNOWN;
  }
  cd_page_set_fact(page, "orient.left-confidence", g_variant_new_double(left));

  switch (orient) {
  case L_TEXT_ORIENT_UP:
    turn = 0;
    break;
  case L_TEXT_ORIENT_LEFT:
    turn = 90;
    break;
  case L_TEXT_ORIENT_DOWN:
    turn = 180;
    break;
  case L_TEXT_ORIENT_RIGHT:
    turn = 270;
    break;
  default:
    turn = -1;
  }
  quick = turn;
  if ((turn != 0 || landscape) && self->api != NULL) {
    gdouble confidence = 0.0;
    gint osd_turn = cd_orient_stage_ask_osd(self, work, work_dpi, &confidence);
    cd_page_set_fact(page, "orient.osd-confidence", g_variant_new_double(confidence));
    if (osd_turn >= 0) {
      turn = osd_turn;
      method = "osd";
    }
  }
  /* the tests agreed on upright, but not strongly: read a band, and when
   * Tesseract is not confident of what it reads, the other ways are
   * tried too */
  if (self->reader != NULL && turn == 0 && !landscape) {
    gdouble mean = 0.0;
    gdouble score = cd_cleanup_read_score(self->reader, work, work_dpi, 0, -1, &mean);
    cd_page_set_fact(page, "orient.read-0", g_variant_new_double(score));
    cd_page_set_fact(page, "orient.read-confidence", g_variant_new_double(mean));
    if (mean < LOW_READ_CONFIDENCE)
      turn = -1;
  }
  if (self->reader != NULL && (turn != 0 || landscape)) {
    /* the candidates: what the tests said, and when they are unsure or
     * the image is landscape, every other way */
    gint candidates[5] = { -1, -1, -1, -1, -1 };
    guint n = 0;
    if (turn > 0)
      candidates[n++] = turn;
    if (quick > 0 && quick != turn)
      candidates[n++] = quick;
    if (turn < 0 || landscape) {
      const gint others[] = { 90, 270, 180 };
      for (guint i = 0; i < G_N_ELEMENTS(others); i++) {
        gboolean have = FALSE;
        if (others[i] == 180 && landscape && turn >= 0)
          continue; /* a landscape page the tests read is turned a quarter, if at all */
        for (guint j = 0; j < n; j++)
          have = have || candidates[j] == others[i];
        if (!have)
          candidates[n++] = others[i];
      }
    }
    gboolean readable = FALSE;
    gint checked = cd_orient_stage_check(self, page, work, work_dpi, candidates, &readable);
    /* a band no way reads (no text, a photo, a faint fax) cannot judge:
     * the page is turned only when both tests agree on the turn,
     * otherwise it is left as it is, unsure */
    if (readable) {
      turn = checked;
      method = "checked";
    } else if (turn > 0 && turn == quick && g_strcmp0(method, "osd") == 0) {
      method = "osd";
    } else {
      turn = -1;
    }
  }
  if (turn < 0) {
    cd_page_set_fact(page, "orient.method", g_variant_new_string("unsure"));
    return TRUE;
  }
  cd_page_set_fact(page, "orient.method", g_variant_new_string(method));
  if (turn != 0) {
    PIX *turned = cd_cleanup_rotate_orth(pix, turn);
    if (turned == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "orient: cannot turn the page %d degrees", turn);
      return FALSE;
    }
    cd_page_set_pix(page, turned);
    if (turn % 180 != 0) {
      gint xres = 0, yres = 0;
      cd_page_get_resolution(page, &xres, &yres);
      cd_page_set_resolution(page, yres, xres);
    }
    cd_page_set_rotation(page, (cd_page_get_rotation(page) + turn) % 360);
  }
  return TRUE;
}

static void
cd_orient_stage_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdOrientStage *self = CD_ORIENT_STAGE(object);

  switch (prop_id) {
  case PROP_OSD:
    g_value_set_boolean(value, self->osd);
    break;
  case PROP_DATAPATH:
    g_value_set_string(value, self->datapath);
    break;
  case PROP_MIN_CONFIDENCE:
    g_value_set_double(value, self->min_confidence);
    break;
  case PROP_MIN_RATIO:
    g_value_set_double(value, self->min_ratio);
    break;
  case PROP_OSD_MIN_CONFIDENCE:
    g_value_set_double(value, self->osd_min_confidence);
    break;
  case PROP_VERIFY:
    g_value_set_boolean(value, self->verify);
    break;
  case PROP_LANGUAGE:
    g_value_set_string(value, self->language);
    break;
  case PROP_VERIFY_RATIO:
    g_value_set_double(value, self->verify_ratio);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_orient_stage_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdOrientStage *self = CD_ORIENT_STAGE(object);

  switch (prop_id) {
  case PROP_OSD:
    self->osd = g_value_get_boolean(value);
    break;
  case PROP_DATAPATH:
    g_free(self->datapath);
    self->datapath = g_value_dup_string(value);
    break;
  case PROP_MIN_CONFIDENCE:
    self->min_confidence = g_value_get_double(value);
    break;
  case PROP_MIN_RATIO:
    self->min_ratio = g_value_get_double(value);
    break;
  case PROP_OSD_MIN_CONFIDENCE:
    self->osd_min_confidence = g_value_get_double(value);
    break;
  case PROP_VERIFY:
    self->verify = g_value_get_boolean(value);
    break;
  case PROP_LANGUAGE:
    g_free(self->language);
    self->language = g_value_dup_string(value);
    break;
  case PROP_VERIFY_RATIO:
    self->verify_ratio = g_value_get_double(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_orient_stage_finalize(GObject *object)
{
  CdOrientStage *self = CD_ORIENT_STAGE(object);

  cd_orient_stage_stop(CD_STAGE(self));
  g_free(self->datapath);
  g_free(self->language);
  G_OBJECT_CLASS(cd_orient_stage_parent_class)->finalize(object);
}

static void
cd_orient_stage_class_init(CdOrientStageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdPageStageClass *page_class = CD_PAGE_STAGE_CLASS(klass);

  object_class->finalize = cd_orient_stage_finalize;
  object_class->get_property = cd_orient_stage_get_property;
  object_class->set_property = cd_orient_stage_set_property;
  stage_class->start = cd_orient_stage_start;
  stage_class->stop = cd_orient_stage_stop;
  page_class->process = cd_orient_stage_process;

  props[PROP_OSD] = g_param_spec_boolean("osd", "Tesseract OSD",
                                         "Ask Tesseract's orientation detector (osd data) when Leptonica's quick test "
                                         "is unsure or finds the page turned",
                                         DEFAULT_OSD, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_DATAPATH] =
      g_param_spec_string("datapath", "Data path", "Folder of osd.traineddata (empty: Tesseract's default)", "",
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_MIN_CONFIDENCE] =
      g_param_spec_double("min-confidence", "Quick test confidence",
                          "Leptonica's ascender/descender confidence needed to decide without Tesseract", 1.0, 100.0,
                          DEFAULT_MIN_CONFIDENCE, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_MIN_RATIO] =
      g_param_spec_double("min-ratio", "Quick test ratio",
                          "How many times stronger the winning direction's signal must be than the other axis's", 1.0,
                          100.0, DEFAULT_MIN_RATIO, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_OSD_MIN_CONFIDENCE] = g_param_spec_double(
      "osd-min-confidence", "OSD confidence", "Tesseract orientation confidence needed to take its answer", 0.0, 100.0,
      DEFAULT_OSD_MIN_CONFIDENCE, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_VERIFY] = g_param_spec_boolean(
      "verify", "Check by reading",
      "Before turning a page, and for landscape or unsure pages, read a band of it each candidate way with "
      "Tesseract and keep the way that reads clearly best (the page as scanned unless another is better)",
      DEFAULT_VERIFY, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_LANGUAGE] =
      g_param_spec_string("language", "Language", "Tesseract language the check reads with", DEFAULT_LANGUAGE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_VERIFY_RATIO] = g_param_spec_double(
      "verify-ratio", "Check margin", "How many times better than the page as scanned a turn must read to be taken",
      1.0, 10.0, DEFAULT_VERIFY_RATIO, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "orient",
                              "Turns upside-down and sideways pages upright: Leptonica's quick test, Tesseract OSD "
                              "when it is unsure, and a reading check before any turn");
}

static void
cd_orient_stage_init(CdOrientStage *self)
{
}
