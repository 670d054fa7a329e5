/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * CdTextModel's stored form: a versioned, compressed GVariant checked
 * before it is trusted.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cd-classifier.h"
#include "cd-error.h"
#include "cd-text-model-private.h"

/* Inflates exactly @expected bytes, refusing more: a corrupt or hostile
 * blob cannot make us allocate beyond what its header declared. */
static guint8 *
cd_inflate(const guint8 *data, gsize len, gsize expected, GError **error)
{
  g_autoptr(GZlibDecompressor) dec = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_ZLIB);
  g_autofree guint8 *out = g_malloc(MAX(expected, 1));
  gsize in_off = 0, out_off = 0;

  for (;;) {
    gsize read = 0, written = 0;
    g_autoptr(GError) error_local = NULL;
    GConverterResult res;

    if (out_off == expected) {
      /* full, and the stream goes on: a converter given no room to write
       * is a programming error in GIO, so the excess is caught here */
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                  "model weights hold more than the %" G_GSIZE_FORMAT " bytes expected", expected);
      return NULL;
    }
    res = g_converter_convert(G_CONVERTER(dec), data + in_off, len - in_off, out + out_off, expected - out_off,
                              G_CONVERTER_INPUT_AT_END, &read, &written, &error_local);
    if (res == G_CONVERTER_ERROR) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "model weights are corrupt: %s", error_local->message);
      return NULL;
    }
    in_off += read;
    out_off += written;
    if (res == G_CONVERTER_FINISHED)
      break;
    if (read == 0 && written == 0) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "model weights are truncated");
      return NULL;
    }
  }
  if (out_off != expected) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "model weights hold %" G_GSIZE_FORMAT " bytes, expected %" G_GSIZE_FORMAT, out_off, expected);
    return NULL;
  }
  return g_steal_pointer(&out);
}

static GBytes *
cd_deflate(const guint8 *data, gsize len, GError **error)
{
  g_autoptr(GZlibCompressor) comp = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 6);
  g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable();
  g_autoptr(GOutputStream) out = g_converter_output_stream_new(mem, G_CONVERTER(comp));

  if (!g_output_stream_write_all(out, data, len, NULL, NULL, error) || !g_output_stream_close(out, NULL, error))
    return NULL;
  return g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(mem));
}

/* @n floats quantised to 16 bits (unit: the largest magnitude / 32767),
 * little-endian, deflated; the unit in @unit_out. */
static GBytes *
cd_pack_floats(const gfloat *v, gsize n, gdouble *unit_out, GError **error)
{
  g_autofree gint16 *q = g_new(gint16, n);
  gdouble max = 0, unit;

  for (gsize i = 0; i < n; i++)
    max = MAX(max, fabs(v[i]));
  if (!(max <= 32767.0)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model weights are too large to store");
    return NULL;
  }
  unit = max > 0 ? max / 32767.0 : 1.0;
  for (gsize i = 0; i < n; i++)
    q[i] = GINT16_TO_LE((gint16) lrint(v[i] / unit));
  *unit_out = unit;
  return cd_deflate((const guint8 *) q, n * sizeof(gint16), error);
}

/* The inverse of cd_pack_floats(), from the parameters @data_key and
 * @unit_key; exactly @n values or an error naming what is wrong. */
static gfloat *
cd_unpack_floats(GVariant *params, const gchar *data_key, const gchar *unit_key, gsize n, GError **error)
{
  g_autoptr(GVariant) data = g_variant_lookup_value(params, data_key, G_VARIANT_TYPE_BYTESTRING);
  g_autofree gint16 *q = NULL;
  gdouble unit = 0;
  gsize len = 0;
  const guint8 *bytes;
  gfloat *v;

  if (data == NULL || !g_variant_lookup(params, unit_key, "d", &unit) || !(unit > 0) || !(unit <= 1.0)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model part '%s' is missing or invalid", data_key);
    return NULL;
  }
  bytes = g_variant_get_fixed_array(data, &len, 1);
  q = (gint16 *) cd_inflate(bytes, len, n * sizeof(gint16), error);
  if (q == NULL) {
    g_prefix_error(error, "text model part '%s': ", data_key);
    return NULL;
  }
  v = g_new(gfloat, n);
  for (gsize i = 0; i < n; i++)
    v[i] = (gfloat) (GINT16_FROM_LE(q[i]) * unit);
  return v;
}

/* The format a model is stored in: 3 with tf-idf, naive Bayes or
 * calibration, 2 with headings, else 1 (which older Chartdesks read). */
static guint
cd_text_model_format(CdTextModel *self)
{
  if (CD_TEXT_MODEL_NEEDS_FORMAT_3(self))
    return 3;
  return self->features >= 2 ? 2 : 1;
}

/**
 * cd_text_model_to_bytes:
 * @self: a trained #CdTextModel
 * @error: return location for a #GError
 *
 * Serialises the model: a #GVariant holding a magic string, the format
 * version (1; 2 for a model with #CdTextModel:headings; 3 for one with
 * #CdTextModel:tfidf, #CdTextModel:nb-alpha or #CdTextModel:calibrate), the
 * parameters, the types, and the weights quantised to 16 bits and
 * zlib-compressed (format 3 adds its parts to the parameters).
 *
 * Returns: (transfer full): the blob, or %NULL with @error set
 *
 * Since: 0.1
 */
GBytes *
cd_text_model_to_bytes(CdTextModel *self, GError **error)
{
  gsize n = ((gsize) 1 << self->hash_bits) * self->n_labels;
  g_autofree gint16 *q = NULL;
  g_autoptr(GBytes) packed = NULL;
  g_autoptr(GBytes) known_packed = NULL;
  g_autoptr(GVariant) variant = NULL;
  g_auto(GVariantBuilder) params = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
  gdouble max = 0, unit;
  guint format;

  g_return_val_if_fail(CD_IS_TEXT_MODEL(self), NULL);
  if (self->weights == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "the model is not trained");
    return NULL;
  }
  for (gsize i = 0; i < n; i++)
    max = MAX(max, fabs(self->weights[i]));
  if (!(max <= 32767.0)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model weights are too large to store");
    return NULL;
  }
  unit = max > 0 ? max / 32767.0 : 1.0;
  q = g_new(gint16, n);
  for (gsize i = 0; i < n; i++)
    q[i] = GINT16_TO_LE((gint16) lrint(self->weights[i] / unit));
  packed = cd_deflate((const guint8 *) q, n * sizeof(gint16), error);
  if (packed == NULL)
    return NULL;
  if (self->known != NULL) {
    gsize n_buckets = (gsize) 1 << self->hash_bits;
    known_packed = cd_deflate(self->known, n_buckets / 8, error);
    if (known_packed == NULL)
      return NULL;
  }

  g_variant_builder_add(&params, "{sv}", "hash-bits", g_variant_new_uint32(self->hash_bits));
  g_variant_builder_add(&params, "{sv}", "char-min", g_variant_new_uint32(CHAR_NGRAM_MIN));
  g_variant_builder_add(&params, "{sv}", "char-max", g_variant_new_uint32(CHAR_NGRAM_MAX));
  format = cd_text_model_format(self);
  if (format >= 2)
    g_variant_builder_add(&params, "{sv}", "features", g_variant_new_uint32(self->features));
  if (format >= 3) {
    gsize n_buckets = (gsize) 1 << self->hash_bits;
    g_variant_builder_add(&params, "{sv}", "tfidf", g_variant_new_boolean(self->idf != NULL));
    g_variant_builder_add(&params, "{sv}", "lead", g_variant_new_uint32(self->lead));
    if (self->idf != NULL) {
      gdouble idf_unit;
      g_autoptr(GBytes) idf = cd_pack_floats(self->idf, n_buckets, &idf_unit, error);
      if (idf == NULL)
        return NULL;
      g_variant_builder_add(&params, "{sv}", "idf", g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, idf, TRUE));
      g_variant_builder_add(&params, "{sv}", "idf-unit", g_variant_new_double(idf_unit));
    }
    g_variant_builder_add(&params, "{sv}", "nb-alpha",
                          g_variant_new_double(self->nb_weights != NULL ? self->nb_alpha : 0));
    if (self->nb_weights != NULL) {
      gdouble nb_unit;
      g_autoptr(GBytes) nbw = cd_pack_floats(self->nb_weights, n, &nb_unit, error);
      if (nbw == NULL)
        return NULL;
      g_variant_builder_add(&params, "{sv}", "nb-weights",
                            g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, nbw, TRUE));
      g_variant_builder_add(&params, "{sv}", "nb-weight-unit", g_variant_new_double(nb_unit));
    }
    g_variant_builder_add(&params, "{sv}", "calibrate", g_variant_new_uint32(self->calibrate));
    g_variant_builder_add(&params, "{sv}", "lr-scale", g_variant_new_double(self->lr_scale));
    g_variant_builder_add(&params, "{sv}", "nb-scale", g_variant_new_double(self->nb_scale));
    if (self->offsets != NULL)
      g_variant_builder_add(
          &params, "{sv}", "offsets",
          g_variant_new_fixed_array(G_VARIANT_TYPE_DOUBLE, self->offsets, self->n_labels, sizeof(gdouble)));
  }
  /* informational (every reader applies the weights the same way): older
   * readers ignore it, and models without it were trained by SGD */
  g_variant_builder_add(&params, "{sv}", "learner", g_variant_new_string(cd_text_learner_name(self->learner)));
  g_variant_builder_add(&params, "{sv}", "epochs", g_variant_new_uint32(self->epochs));
  g_variant_builder_add(&params, "{sv}", "l2", g_variant_new_double(self->l2));
  g_variant_builder_add(&params, "{sv}", "learning-rate", g_variant_new_double(self->learning_rate));
  g_variant_builder_add(&params, "{sv}", "balanced", g_variant_new_boolean(self->balanced));
  g_variant_builder_add(&params, "{sv}", "seed", g_variant_new_uint32(self->seed));
  g_variant_builder_add(&params, "{sv}", "trained-documents", g_variant_new_uint32(self->n_trained));
  g_variant_builder_add(
      &params, "{sv}", "label-counts",
      g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, self->label_counts, self->n_labels, sizeof(guint32)));
  g_variant_builder_add(&params, "{sv}", "weight-unit", g_variant_new_double(unit));
  if (known_packed != NULL)
    g_variant_builder_add(&params, "{sv}", "known",
                          g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, known_packed, TRUE));
  variant = g_variant_ref_sink(
      g_variant_new("(su@a{sv}^as@ad@ay)", CD_TEXT_MODEL_MAGIC, format, g_variant_builder_end(&params), self->labels,
                    g_variant_new_fixed_array(G_VARIANT_TYPE_DOUBLE, self->bias, self->n_labels, sizeof(gdouble)),
                    g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, packed, TRUE)));
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN) {
    g_autoptr(GVariant) swapped = g_variant_byteswap(variant);
    return g_variant_get_data_as_bytes(swapped);
  }
  return g_variant_get_data_as_bytes(variant);
}

/* Format 3's parts: inverse document frequencies, naive Bayes weights,
 * the calibration's scales and offsets. Each is checked before use. */
static gboolean
cd_text_model_load_format_3(CdTextModel *self, GVariant *params, guint hash_bits, gsize n_labels, GError **error)
{
  gsize n_buckets = (gsize) 1 << hash_bits;
  gboolean tfidf = FALSE;
  gdouble alpha = 0;
  g_autoptr(GVariant) offsets = NULL;

  if (!g_variant_lookup(params, "tfidf", "b", &tfidf) || !g_variant_lookup(params, "lead", "u", &self->lead) ||
      !g_variant_lookup(params, "nb-alpha", "d", &alpha) ||
      !g_variant_lookup(params, "calibrate", "u", &self->calibrate) ||
      !g_variant_lookup(params, "lr-scale", "d", &self->lr_scale) ||
      !g_variant_lookup(params, "nb-scale", "d", &self->nb_scale)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model format 3 parameters are missing");
    return FALSE;
  }
  if (!(alpha >= 0 && alpha <= 100) || !(self->lr_scale > 0 && self->lr_scale < 1e6) ||
      !(self->nb_scale > 0 && self->nb_scale < 1e6) || self->calibrate > 20 || self->lead > 64) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model format 3 parameters are out of range");
    return FALSE;
  }
  self->tfidf = tfidf;
  if (tfidf) {
    self->idf = cd_unpack_floats(params, "idf", "idf-unit", n_buckets, error);
    if (self->idf == NULL)
      return FALSE;
  }
  self->nb_alpha = alpha;
  if (alpha > 0) {
    self->nb_weights = cd_unpack_floats(params, "nb-weights", "nb-weight-unit", n_buckets * n_labels, error);
    if (self->nb_weights == NULL)
      return FALSE;
  }
  offsets = g_variant_lookup_value(params, "offsets", G_VARIANT_TYPE("ad"));
  if (offsets != NULL) {
    gsize n = 0;
    const gdouble *v = g_variant_get_fixed_array(offsets, &n, sizeof(gdouble));
    if (n != n_labels) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model offsets and types disagree");
      return FALSE;
    }
    for (gsize k = 0; k < n; k++) {
      if (!isfinite(v[k]) || fabs(v[k]) > 100) {
        g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model offsets are invalid");
        return FALSE;
      }
    }
    self->offsets = g_memdup2(v, n * sizeof(gdouble));
  }
  return TRUE;
}

/**
 * cd_text_model_new_from_bytes:
 * @bytes: a blob from cd_text_model_to_bytes()
 * @error: return location for a #GError
 *
 * Loads a serialised model, checking every part before use: a blob that is
 * not a model, is truncated or corrupt, or comes from a newer Chartdesk
 * fails with %CD_ERROR_INVALID_DATA or %CD_ERROR_NOT_SUPPORTED.
 *
 * Returns: (transfer full): the model, or %NULL with @error set
 *
 * Since: 0.1
 */
CdTextModel *
cd_text_model_new_from_bytes(GBytes *bytes, GError **error)
{
  g_autoptr(CdTextModel) self = cd_text_model_new();
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GVariant) params = NULL;
  g_autoptr(GVariant) bias = NULL;
  g_autoptr(GVariant) weights = NULL;
  g_autoptr(GVariant) counts = NULL;
  g_autoptr(GVariant) known = NULL;
  g_autofree const gchar **labels = NULL;
  g_autofree gint16 *q = NULL;
  const gchar *magic = NULL;
  guint32 version = 0, hash_bits = 0, char_min = 0, char_max = 0;
  gdouble unit = 0;
  gsize n_labels = 0, n_bias = 0, n_packed = 0, n_counts = 0, n;
  const gdouble *bias_data;
  const guint8 *packed_data;
  const guint32 *count_data;

  g_return_val_if_fail(bytes != NULL, NULL);

  variant = g_variant_ref_sink(g_variant_new_from_bytes(G_VARIANT_TYPE(CD_TEXT_MODEL_VARIANT_TYPE), bytes, FALSE));
  if (G_BYTE_ORDER != G_LITTLE_ENDIAN) {
    GVariant *swapped = g_variant_byteswap(variant);
    g_variant_unref(variant);
    variant = swapped;
  }
  if (!g_variant_is_normal_form(variant)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "not a Chartdesk text model (malformed data)");
    return NULL;
  }
  g_variant_get(variant, "(&su@a{sv}^a&s@ad@ay)", &magic, &version, &params, &labels, &bias, &weights);
  if (g_strcmp0(magic, CD_TEXT_MODEL_MAGIC) != 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "not a Chartdesk text model");
    return NULL;
  }
  if (version == 0 || version > CD_TEXT_MODEL_FORMAT_VERSION) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED,
                "text model format %u is newer than this Chartdesk reads (%u); upgrade Chartdesk", version,
                (guint) CD_TEXT_MODEL_FORMAT_VERSION);
    return NULL;
  }
  if (!g_variant_lookup(params, "hash-bits", "u", &hash_bits) ||
      !g_variant_lookup(params, "char-min", "u", &char_min) || !g_variant_lookup(params, "char-max", "u", &char_max) ||
      !g_variant_lookup(params, "weight-unit", "d", &unit)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model parameters are missing");
    return NULL;
  }
  /* a unit above 1 would mean weights beyond 32767: no trained model has
   * them, and they could overflow a score to infinity */
  if (hash_bits < 12 || hash_bits > 22 || char_min != CHAR_NGRAM_MIN || char_max != CHAR_NGRAM_MAX || !(unit > 0) ||
      !(unit <= 1.0)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model parameters are out of range");
    return NULL;
  }
  n_labels = g_strv_length((gchar **) labels);
  bias_data = g_variant_get_fixed_array(bias, &n_bias, sizeof(gdouble));
  if (n_labels < 2 || n_labels > MAX_LABELS || n_bias != n_labels) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model types and weights disagree");
    return NULL;
  }
  for (gsize k = 0; k < n_labels; k++) {
    if (!isfinite(bias_data[k]) || labels[k][0] == '\0') {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model types or weights are invalid");
      return NULL;
    }
  }
  packed_data = g_variant_get_fixed_array(weights, &n_packed, 1);
  n = ((gsize) 1 << hash_bits) * n_labels;
  q = (gint16 *) cd_inflate(packed_data, n_packed, n * sizeof(gint16), error);
  if (q == NULL)
    return NULL;
  known = g_variant_lookup_value(params, "known", G_VARIANT_TYPE_BYTESTRING);
  if (known != NULL) {
    gsize n_known = 0;
    const guint8 *known_data = g_variant_get_fixed_array(known, &n_known, 1);
    self->known = cd_inflate(known_data, n_known, ((gsize) 1 << hash_bits) / 8, error);
    if (self->known == NULL)
      return NULL;
  }

  if (version == 1)
    self->features = 1;
  else if (!g_variant_lookup(params, "features", "u", &self->features) || self->features < 1 ||
           self->features > CD_TEXT_FEATURES_LATEST) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "text model feature set is missing or unknown");
    return NULL;
  }
  /* what an older format did not have is off, whatever today's defaults */
  self->lead = 0;
  self->tfidf = FALSE;
  self->nb_alpha = 0;
  self->calibrate = 0;
  if (version >= 3 && !cd_text_model_load_format_3(self, params, hash_bits, n_labels, error))
    return NULL;
  self->hash_bits = hash_bits;
  g_variant_lookup(params, "epochs", "u", &self->epochs);
  {
    /* informational only: a model is applied the same way whatever fitted
     * it, so a learner this Chartdesk does not know is no reason to refuse
     * it; models without the key were all fitted by SGD */
    const gchar *learner = NULL;
    self->learner = CD_TEXT_LEARNER_SGD;
    if (g_variant_lookup(params, "learner", "&s", &learner))
      (void) cd_text_learner_from_name(learner, &self->learner);
  }
  g_variant_lookup(params, "l2", "d", &self->l2);
  g_variant_lookup(params, "learning-rate", "d", &self->learning_rate);
  g_variant_lookup(params, "balanced", "b", &self->balanced);
  g_variant_lookup(params, "seed", "u", &self->seed);
  g_variant_lookup(params, "trained-documents", "u", &self->n_trained);
  self->label_counts = g_new0(guint, n_labels);
  counts = g_variant_lookup_value(params, "label-counts", G_VARIANT_TYPE("au"));
  if (counts != NULL) {
    count_data = g_variant_get_fixed_array(counts, &n_counts, sizeof(guint32));
    for (gsize k = 0; k < MIN(n_counts, n_labels); k++)
      self->label_counts[k] = count_data[k];
  }
  self->n_labels = n_labels;
  self->labels = g_new0(gchar *, n_labels + 1);
  for (gsize k = 0; k < n_labels; k++)
    self->labels[k] = g_strdup(labels[k]);
  self->bias = g_memdup2(bias_data, n_labels * sizeof(gdouble));
  self->weights = g_new(gfloat, n);
  for (gsize i = 0; i < n; i++)
    self->weights[i] = (gfloat) (GINT16_FROM_LE(q[i]) * unit);
  return g_steal_pointer(&self);
}

/**
 * cd_text_model_get_params:
 * @self: a #CdTextModel
 *
 * The parameters and training counts, for the archive's record of a model
 * version and for people: `{"algorithm": …, "hash-bits": …, "labels":
 * {"type": documents, …}, …}`.
 *
 * Returns: (transfer full): a JSON object
 *
 * Since: 0.1
 */
JsonNode *
cd_text_model_get_params(CdTextModel *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree gchar *describe = NULL;

  g_return_val_if_fail(CD_IS_TEXT_MODEL(self), NULL);
  describe = g_strdup_printf("hashed word 1-2-grams, character 3-5-grams%s%s%s",
                             self->features >= 2 ? ", section headings" : "", self->lead > 0 ? ", the first words" : "",
                             self->tfidf ? ", tf-idf weighted" : "");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "algorithm");
  json_builder_add_string_value(b, self->nb_alpha > 0 ? "logistic-regression + complement-naive-bayes"
                                                      : "logistic-regression");
  json_builder_set_member_name(b, "features");
  json_builder_add_string_value(b, describe);
  json_builder_set_member_name(b, "format");
  json_builder_add_int_value(b, cd_text_model_format(self));
  json_builder_set_member_name(b, "tfidf");
  json_builder_add_boolean_value(b, self->tfidf);
  json_builder_set_member_name(b, "lead");
  json_builder_add_int_value(b, self->lead);
  json_builder_set_member_name(b, "nb-alpha");
  json_builder_add_double_value(b, self->nb_alpha);
  json_builder_set_member_name(b, "calibrate");
  json_builder_add_int_value(b, self->calibrate);
  if (self->calibrate > 0 && self->offsets != NULL) {
    json_builder_set_member_name(b, "lr-scale");
    json_builder_add_double_value(b, self->lr_scale);
    if (self->nb_alpha > 0) {
      json_builder_set_member_name(b, "nb-scale");
      json_builder_add_double_value(b, self->nb_scale);
    }
    json_builder_set_member_name(b, "offsets");
    json_builder_begin_object(b);
    for (guint k = 0; k < self->n_labels; k++) {
      json_builder_set_member_name(b, self->labels[k]);
      json_builder_add_double_value(b, self->offsets[k]);
    }
    json_builder_end_object(b);
  }
  json_builder_set_member_name(b, "learner");
  json_builder_add_string_value(b, cd_text_learner_name(self->learner));
  json_builder_set_member_name(b, "hash-bits");
  json_builder_add_int_value(b, self->hash_bits);
  json_builder_set_member_name(b, "epochs");
  json_builder_add_int_value(b, self->epochs);
  json_builder_set_member_name(b, "l2");
  json_builder_add_double_value(b, self->l2);
  json_builder_set_member_name(b, "learning-rate");
  json_builder_add_double_value(b, self->learning_rate);
  json_builder_set_member_name(b, "balanced");
  json_builder_add_boolean_value(b, self->balanced);
  json_builder_set_member_name(b, "seed");
  json_builder_add_int_value(b, self->seed);
  json_builder_set_member_name(b, "trained-documents");
  json_builder_add_int_value(b, self->n_trained);
  json_builder_set_member_name(b, "labels");
  json_builder_begin_object(b);
  for (guint k = 0; k < self->n_labels; k++) {
    json_builder_set_member_name(b, self->labels[k]);
    json_builder_add_int_value(b, self->label_counts != NULL ? self->label_counts[k] : 0);
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
