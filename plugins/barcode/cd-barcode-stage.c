/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `barcode` page stage: decodes Code 128, Code 39, Interleaved 2 of 5
 * and QR codes with zbar, and Kodak patch codes with our own detector, and
 * records each as a page fact for the splitter (cover sheets, separator
 * sheets) and for people.
 */
#include "config.h"

#include <zbar.h>

#include "cd-barcode-stage.h"
#include "cd-patch-code.h"

struct _CdBarcodeStage {
  CdPageStage parent_instance;
  gchar **symbologies;
  guint max_dpi;
  gboolean patch_codes;
  zbar_image_scanner_t *scanner; /* one per stage, so one per worker */
};

G_DEFINE_FINAL_TYPE(CdBarcodeStage, cd_barcode_stage, CD_TYPE_PAGE_STAGE)

enum { PROP_0, PROP_SYMBOLOGIES, PROP_MAX_DPI, PROP_PATCH_CODES, N_PROPS };

static GParamSpec *props[N_PROPS];

static const gchar *const default_symbologies[] = { "code128", "code39", "i25", "qrcode", NULL };
#define DEFAULT_MAX_DPI 300
#define DEFAULT_PATCH_CODES TRUE

static const struct {
  const gchar *name;
  zbar_symbol_type_t type;
} symbologies[] = {
  { "code128", ZBAR_CODE128 }, { "code39", ZBAR_CODE39 },   { "i25", ZBAR_I25 },       { "qrcode", ZBAR_QRCODE },
  { "ean13", ZBAR_EAN13 },     { "ean8", ZBAR_EAN8 },       { "upca", ZBAR_UPCA },     { "codabar", ZBAR_CODABAR },
  { "code93", ZBAR_CODE93 },   { "databar", ZBAR_DATABAR }, { "pdf417", ZBAR_PDF417 },
};

static gboolean
cd_barcode_stage_start(CdStage *stage, GError **error)
{
  CdBarcodeStage *self = CD_BARCODE_STAGE(stage);

  self->scanner = zbar_image_scanner_create();
  /* everything off, then what was asked for */
  zbar_image_scanner_set_config(self->scanner, 0, ZBAR_CFG_ENABLE, 0);
  for (guint i = 0; self->symbologies != NULL && self->symbologies[i] != NULL; i++) {
    gboolean known = FALSE;
    for (guint j = 0; j < G_N_ELEMENTS(symbologies); j++) {
      if (g_ascii_strcasecmp(self->symbologies[i], symbologies[j].name) == 0) {
        zbar_image_scanner_set_config(self->scanner, symbologies[j].type, ZBAR_CFG_ENABLE, 1);
        known = TRUE;
      }
    }
    if (!known) {
      g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW,
                  "symbologies: '%s' is not one of code128, code39, i25, qrcode, ean13, ean8, upca, codabar, code93, "
                  "databar, pdf417",
                  self->symbologies[i]);
      return FALSE;
    }
  }
  return TRUE;
}

static void
cd_barcode_stage_stop(CdStage *stage)
{
  CdBarcodeStage *self = CD_BARCODE_STAGE(stage);
  g_clear_pointer(&self->scanner, zbar_image_scanner_destroy);
}

/* An 8-bit grey copy of the page, at most max-dpi. Returns the scale. */
static PIX *
cd_barcode_grey(CdBarcodeStage *self, CdPage *page, gfloat *scale)
{
  PIX *pix = cd_page_get_pix(page);
  g_autoptr(PIX) grey = NULL;
  gint xres = 0, yres = 0;

  cd_page_get_resolution(page, &xres, &yres);
  *scale = 1.0f;
  if (self->max_dpi > 0 && xres > (gint) self->max_dpi)
    *scale = (gfloat) self->max_dpi / (gfloat) xres;
  if (pixGetDepth(pix) == 32)
    grey = pixConvertRGBToLuminance(pix);
  else if (pixGetDepth(pix) == 1 && *scale < 1.0f)
    return pixScaleToGray(pix, *scale);
  else
    grey = pixConvertTo8(pix, FALSE);
  if (grey == NULL)
    return NULL;
  if (*scale < 1.0f)
    return pixScale(grey, *scale, *scale);
  return g_steal_pointer(&grey);
}

static gboolean
cd_barcode_stage_process(CdPageStage *stage, CdPage *page, GCancellable *cancellable, GError **error)
{
  CdBarcodeStage *self = CD_BARCODE_STAGE(stage);
  g_autoptr(PIX) grey = NULL;
  zbar_image_t *image;
  guint8 *buf;
  l_uint32 *data;
  gint w, h, wpl, n;
  gfloat scale = 1.0f;
  GVariantBuilder b;
  guint found = 0;

  if (cd_page_get_pix(page) == NULL)
    return TRUE;
  grey = cd_barcode_grey(self, page, &scale);
  if (grey == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "barcode: cannot convert a %d-bit page to grey",
                pixGetDepth(cd_page_get_pix(page)));
    return FALSE;
  }
  w = pixGetWidth(grey);
  h = pixGetHeight(grey);
  wpl = pixGetWpl(grey);
  data = pixGetData(grey);
  buf = g_malloc((gsize) w * h);
  for (gint y = 0; y < h; y++) {
    l_uint32 *line = data + (gsize) y * wpl;
    for (gint x = 0; x < w; x++)
      buf[(gsize) y * w + x] = GET_DATA_BYTE(line, x);
  }
  image = zbar_image_create();
  zbar_image_set_format(image, zbar_fourcc('Y', '8', '0', '0'));
  zbar_image_set_size(image, w, h);
  zbar_image_set_data(image, buf, (gulong) w * h, zbar_image_free_data);
  n = zbar_scan_image(self->scanner, image);
  if (n < 0) {
    zbar_image_destroy(image);
    g_set_error_literal(error, CD_ERROR, CD_ERROR_FAILED, "barcode: zbar could not scan the page");
    return FALSE;
  }

  g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
  for (const zbar_symbol_t *sym = zbar_image_first_symbol(image); sym != NULL; sym = zbar_symbol_next(sym)) {
    gint x0 = G_MAXINT, y0 = G_MAXINT, x1 = 0, y1 = 0;
    const gchar *payload = zbar_symbol_get_data(sym);
    if (payload == NULL || !g_utf8_validate(payload, -1, NULL))
      continue;
    for (guint i = 0; i < zbar_symbol_get_loc_size(sym); i++) {
      x0 = MIN(x0, zbar_symbol_get_loc_x(sym, i));
      y0 = MIN(y0, zbar_symbol_get_loc_y(sym, i));
      x1 = MAX(x1, zbar_symbol_get_loc_x(sym, i));
      y1 = MAX(y1, zbar_symbol_get_loc_y(sym, i));
    }
    if (x0 == G_MAXINT)
      x0 = y0 = 0;
    g_variant_builder_open(&b, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&b, "{sv}", "symbology",
                          g_variant_new_string(zbar_get_symbol_name(zbar_symbol_get_type(sym))));
    g_variant_builder_add(&b, "{sv}", "payload", g_variant_new_string(payload));
    /* in the page's own pixels */
    g_variant_builder_add(&b, "{sv}", "x", g_variant_new_int32((gint32) (x0 / scale)));
    g_variant_builder_add(&b, "{sv}", "y", g_variant_new_int32((gint32) (y0 / scale)));
    g_variant_builder_add(&b, "{sv}", "width", g_variant_new_int32((gint32) ((x1 - x0 + 1) / scale)));
    g_variant_builder_add(&b, "{sv}", "height", g_variant_new_int32((gint32) ((y1 - y0 + 1) / scale)));
    g_variant_builder_add(&b, "{sv}", "orientation", g_variant_new_int32(zbar_symbol_get_orientation(sym) * 90));
    g_variant_builder_close(&b);
    found++;
  }
  zbar_image_destroy(image);

  if (self->patch_codes) {
    gint xres = 0, yres = 0;
    g_autoptr(GArray) patches = NULL;

    cd_page_get_resolution(page, &xres, &yres);
    patches = cd_patch_code_find(cd_page_get_pix(page), xres > 0 ? xres : 300, yres > 0 ? yres : 300);
    for (guint i = 0; i < patches->len; i++) {
      const CdPatchCode *code = &g_array_index(patches, CdPatchCode, i);
      g_variant_builder_open(&b, G_VARIANT_TYPE("a{sv}"));
      g_variant_builder_add(&b, "{sv}", "symbology", g_variant_new_string("patch"));
      g_variant_builder_add(&b, "{sv}", "payload", g_variant_new_string(code->payload));
      g_variant_builder_add(&b, "{sv}", "x", g_variant_new_int32(code->x));
      g_variant_builder_add(&b, "{sv}", "y", g_variant_new_int32(code->y));
      g_variant_builder_add(&b, "{sv}", "width", g_variant_new_int32(code->width));
      g_variant_builder_add(&b, "{sv}", "height", g_variant_new_int32(code->height));
      g_variant_builder_add(&b, "{sv}", "orientation", g_variant_new_int32(code->orientation));
      g_variant_builder_close(&b);
      found++;
    }
  }
  if (found > 0)
    cd_page_set_fact(page, "barcode.symbols", g_variant_builder_end(&b));
  else
    g_variant_builder_clear(&b);
  return TRUE;
}

static void
cd_barcode_stage_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdBarcodeStage *self = CD_BARCODE_STAGE(object);

  switch (prop_id) {
  case PROP_SYMBOLOGIES:
    g_value_set_boxed(value, self->symbologies);
    break;
  case PROP_MAX_DPI:
    g_value_set_uint(value, self->max_dpi);
    break;
  case PROP_PATCH_CODES:
    g_value_set_boolean(value, self->patch_codes);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_barcode_stage_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdBarcodeStage *self = CD_BARCODE_STAGE(object);

  switch (prop_id) {
  case PROP_SYMBOLOGIES:
    g_strfreev(self->symbologies);
    self->symbologies = g_value_dup_boxed(value);
    break;
  case PROP_MAX_DPI:
    self->max_dpi = g_value_get_uint(value);
    break;
  case PROP_PATCH_CODES:
    self->patch_codes = g_value_get_boolean(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_barcode_stage_finalize(GObject *object)
{
  CdBarcodeStage *self = CD_BARCODE_STAGE(object);

  cd_barcode_stage_stop(CD_STAGE(self));
  g_strfreev(self->symbologies);
  G_OBJECT_CLASS(cd_barcode_stage_parent_class)->finalize(object);
}

static void
cd_barcode_stage_class_init(CdBarcodeStageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdPageStageClass *page_class = CD_PAGE_STAGE_CLASS(klass);

  object_class->finalize = cd_barcode_stage_finalize;
  object_class->get_property = cd_barcode_stage_get_property;
  object_class->set_property = cd_barcode_stage_set_property;
  stage_class->start = cd_barcode_stage_start;
  stage_class->stop = cd_barcode_stage_stop;
  page_class->process = cd_barcode_stage_process;

  props[PROP_SYMBOLOGIES] = g_param_spec_boxed(
      "symbologies", "Symbologies",
      "Barcodes to decode, separated by ';': code128, code39, i25, qrcode, ean13, ean8, upca, codabar, code93, "
      "databar, pdf417",
      G_TYPE_STRV, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  props[PROP_MAX_DPI] =
      g_param_spec_uint("max-dpi", "Highest resolution", "Finer pages are decoded downsampled to this (0: never)", 0,
                        2400, DEFAULT_MAX_DPI, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_PATCH_CODES] = g_param_spec_boolean(
      "patch-codes", "Patch codes",
      "Also find Kodak patch codes (1, 2, 3, 4, 6, T), recorded as symbology 'patch' with payload PATCH1 … PATCHT",
      DEFAULT_PATCH_CODES, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "barcode",
                              "Decodes barcodes (Code 128, Code 39, Interleaved 2 of 5, QR) with zbar, and Kodak "
                              "patch codes, into the page's barcode.symbols fact");
}

static void
cd_barcode_stage_init(CdBarcodeStage *self)
{
  self->symbologies = g_strdupv((gchar **) default_symbologies);
}
