/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <tesseract/capi.h>

#include "cd-ocr-fixes.h"
#include "cd-tesseract-stage.h"
#include "cd-text-height.h"

/**
 * CdTesseractStage:
 *
 * Recognises a page's text with Tesseract's LSTM engine: the text, every
 * word with its box and confidence, and the page's mean confidence.
 *
 * The engine makes one instance per worker thread, so each worker owns one
 * Tesseract handle, made once in start() (loading a model costs ~80 ms) and
 * reused for every page. Tesseract's own OpenMP threads are kept to one
 * (the registry sets OMP_THREAD_LIMIT before this module loads).
 *
 * A page that takes longer than the time limit is archived without text and
 * sent to review, rather than stalling the batch.
 */
struct _CdTesseractStage {
  CdPageStage parent_instance;
  gchar *language;
  gchar *datapath;
  guint psm;
  guint timeout;  /* seconds per page */
  guint max_dpi;  /* pages above this are recognised downsampled */
  gboolean fixes; /* cd-ocr-fixes.c corrections; off with CHARTDESK_OCR_FIXES=off */
  TessBaseAPI *api;
  GCancellable *cancellable; /* of the page being recognised */
};

G_DEFINE_TYPE(CdTesseractStage, cd_tesseract_stage, CD_TYPE_PAGE_STAGE)

enum {
  PROP_0,
  PROP_LANGUAGE,
  PROP_DATAPATH,
  PROP_PSM,
  PROP_TIMEOUT,
  PROP_MAX_DPI,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

#define DEFAULT_LANGUAGE "eng"
#define DEFAULT_PSM 3 /* fully automatic page segmentation, Tesseract's own default */
#define DEFAULT_TIMEOUT 180
#define DEFAULT_MAX_DPI 400

static void
cd_tesseract_stage_finalize(GObject *object)
{
  CdTesseractStage *self = CD_TESSERACT_STAGE(object);

  g_free(self->language);
  g_free(self->datapath);

  G_OBJECT_CLASS(cd_tesseract_stage_parent_class)->finalize(object);
}

static void
cd_tesseract_stage_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdTesseractStage *self = CD_TESSERACT_STAGE(object);

  switch (prop_id) {
  case PROP_LANGUAGE:
    g_value_set_string(value, self->language);
    break;
  case PROP_DATAPATH:
    g_value_set_string(value, self->datapath);
    break;
  case PROP_PSM:
    g_value_set_uint(value, self->psm);
    break;
  case PROP_TIMEOUT:
    g_value_set_uint(value, self->timeout);
    break;
  case PROP_MAX_DPI:
    g_value_set_uint(value, self->max_dpi);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_tesseract_stage_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdTesseractStage *self = CD_TESSERACT_STAGE(object);

  switch (prop_id) {
  case PROP_LANGUAGE:
    g_free(self->language);
    self->language = g_value_dup_string(value);
    break;
  case PROP_DATAPATH:
    g_free(self->datapath);
    self->datapath = g_value_dup_string(value);
    break;
  case PROP_PSM:
    self->psm = g_value_get_uint(value);
    break;
  case PROP_TIMEOUT:
    self->timeout = g_value_get_uint(value);
    break;
  case PROP_MAX_DPI:
    self->max_dpi = g_value_get_uint(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static gboolean
cd_tesseract_stage_start(CdStage *stage, GError **error)
{
  CdTesseractStage *self = CD_TESSERACT_STAGE(stage);
  const gchar *datapath = self->datapath != NULL && self->datapath[0] != '\0' ? self->datapath : NULL;

  self->api = TessBaseAPICreate();
  if (TessBaseAPIInit3(self->api, datapath, self->language) != 0) {
    TessBaseAPIDelete(self->api);
    self->api = NULL;
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND,
                "cannot load Tesseract language '%s'%s%s (is its traineddata installed, e.g. tesseract-ocr-%s?)",
                self->language, datapath != NULL ? " from " : "", datapath != NULL ? datapath : "", self->language);
    return FALSE;
  }
  TessBaseAPISetPageSegMode(self->api, (TessPageSegMode) self->psm);
  /* Tesseract's diagnostics ("Estimating resolution…") are not for operators */
  TessBaseAPISetVariable(self->api, "debug_file", "/dev/null");
  /* for measuring the corrections (tests/bench/bench.py ocr --without-fixes),
   * not an operator's setting */
  self->fixes = g_strcmp0(g_getenv("CHARTDESK_OCR_FIXES"), "off") != 0;
  return TRUE;
}

static void
cd_tesseract_stage_stop(CdStage *stage)
{
  CdTesseractStage *self = CD_TESSERACT_STAGE(stage);

  if (self->api == NULL)
    return;
  TessBaseAPIEnd(self->api);
  TessBaseAPIDelete(self->api);
  self->api = NULL;
}

static bool
cd_tesseract_stage_cancel_cb(void *cancel_this, int words)
{
  CdTesseractStage *self = cancel_this;
  return g_cancellable_is_cancelled(self->cancellable);
}

/* Reads words, boxes, confidences and line numbers off the result
 * iterator, scaling boxes back to the stored image when the page was
 * recognised downsampled. */
static void
cd_tesseract_stage_collect_words(CdTesseractStage *self, CdPage *page, gdouble scale)
{
  TessResultIterator *it = TessBaseAPIGetIterator(self->api);
  gint line = -1;

  if (it == NULL)
    return;
  do {
    const TessPageIterator *pit = TessResultIteratorGetPageIteratorConst(it);
    gint left, top, right, bottom;
    gchar *text;

    if (TessPageIteratorIsAtBeginningOf(pit, RIL_TEXTLINE))
      line++;
    text = TessResultIteratorGetUTF8Text(it, RIL_WORD);
    if (text == NULL)
      continue;
    if (text[0] != '\0' && TessPageIteratorBoundingBox(pit, RIL_WORD, &left, &top, &right, &bottom)) {
      cd_page_add_word(page, cd_word_new(text, (gint) (left / scale), (gint) (top / scale),
                                         (gint) ((right - left) / scale), (gint) ((bottom - top) / scale),
                                         TessResultIteratorConfidence(it, RIL_WORD), MAX(line, 0)));
    }
    TessDeleteText(text);
  } while (TessResultIteratorNext(it, RIL_WORD));
  TessResultIteratorDelete(it);
}

static gboolean
cd_tesseract_stage_process(CdPageStage *stage, CdPage *page, GCancellable *cancellable, GError **error)
{
  CdTesseractStage *self = CD_TESSERACT_STAGE(stage);
  PIX *pix = cd_page_get_pix(page);
  g_autoptr(PIX) scaled = NULL;
  ETEXT_DESC *monitor;
  gint xres;
  gdouble scale = 1.0;
  gint64 started;
  gint rc;
  gchar *text;
  guint fixed;

  if (pix == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "page has no image to recognise");
    return FALSE;
  }
  /* a page that did not say its resolution is read at the one its
   * letters' height gives, not at an assumed 300 dpi */
  xres = cd_text_height_page_dpi(page);
  /* Beyond ~400 dpi Tesseract gains nothing and time grows with pixels */
  if (self->max_dpi > 0 && (guint) xres > self->max_dpi) {
    scale = (gdouble) self->max_dpi / xres;
    scaled = pixScale(pix, scale, scale);
    if (scaled != NULL) {
      pix = scaled;
      xres = self->max_dpi;
    } else {
      scale = 1.0;
    }
  }

  TessBaseAPISetImage2(self->api, pix);
  TessBaseAPISetSourceResolution(self->api, xres);
  monitor = TessMonitorCreate();
  if (self->timeout > 0)
    TessMonitorSetDeadlineMSecs(monitor, self->timeout * 1000);
  self->cancellable = cancellable;
  TessMonitorSetCancelThis(monitor, self);
  TessMonitorSetCancelFunc(monitor, cd_tesseract_stage_cancel_cb);
  started = g_get_monotonic_time();
  rc = TessBaseAPIRecognize(self->api, monitor);
  TessMonitorDelete(monitor);
  self->cancellable = NULL;

  if (g_cancellable_set_error_if_cancelled(cancellable, error)) {
    TessBaseAPIClear(self->api);
    return FALSE;
  }
  if (self->timeout > 0 && g_get_monotonic_time() - started >= (gint64) self->timeout * G_USEC_PER_SEC) {
    TessBaseAPIClear(self->api);
    g_set_error(error, CD_ERROR, CD_ERROR_TIMEOUT,
                "recognition took longer than %u s (option timeout); page archived without text", self->timeout);
    return FALSE;
  }
  if (rc != 0) {
    TessBaseAPIClear(self->api);
    g_set_error_literal(error, CD_ERROR, CD_ERROR_FAILED, "recognition failed");
    return FALSE;
  }

  text = TessBaseAPIGetUTF8Text(self->api);
  fixed = text != NULL && self->fixes ? cd_ocr_fix_pronoun_text(text) : 0;
  cd_page_set_text(page, text != NULL ? text : "");
  TessDeleteText(text);
  cd_tesseract_stage_collect_words(self, page, scale);
  if (self->fixes)
    cd_ocr_fix_pronoun_words(cd_page_get_words(page));
  if (fixed > 0)
    cd_page_set_fact(page, "ocr.pronoun-fixed", g_variant_new_int32((gint32) fixed));
  cd_page_set_confidence(page, TessBaseAPIMeanTextConf(self->api));
  TessBaseAPIClear(self->api);
  return TRUE;
}

static void
cd_tesseract_stage_class_init(CdTesseractStageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdPageStageClass *page_class = CD_PAGE_STAGE_CLASS(klass);

  object_class->finalize = cd_tesseract_stage_finalize;
  object_class->get_property = cd_tesseract_stage_get_property;
  object_class->set_property = cd_tesseract_stage_set_property;
  stage_class->start = cd_tesseract_stage_start;
  stage_class->stop = cd_tesseract_stage_stop;
  page_class->process = cd_tesseract_stage_process;

  props[PROP_LANGUAGE] =
      g_param_spec_string("language", "Language", "Tesseract language(s), e.g. eng or eng+spa", DEFAULT_LANGUAGE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_DATAPATH] =
      g_param_spec_string("datapath", "Data path", "Folder of .traineddata files (empty: Tesseract's default)", "",
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_PSM] = g_param_spec_uint("psm", "Page segmentation mode",
                                      "Tesseract page segmentation mode (3: automatic, 4: one column, 6: one block)", 0,
                                      13, DEFAULT_PSM, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_TIMEOUT] =
      g_param_spec_uint("timeout", "Time limit",
                        "Seconds a page may take; slower pages are archived without text and "
                        "sent to review (0: no limit)",
                        0, 3600, DEFAULT_TIMEOUT, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_MAX_DPI] = g_param_spec_uint(
      "max-dpi", "Highest resolution", "Pages scanned finer than this are recognised downsampled to it (0: never)", 0,
      2400, DEFAULT_MAX_DPI, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "tesseract",
                              "Recognises text, word boxes and confidences with Tesseract, one engine per worker");
}

static void
cd_tesseract_stage_init(CdTesseractStage *self)
{
}
