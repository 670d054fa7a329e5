/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * CD_TEXT_MODEL_FORMAT_VERSION:
 *
 * The version of the serialised model this library writes; it reads this
 * version and older ones. Format 3 is written only for models trained
 * with #CdTextModel:tfidf, #CdTextModel:nb-alpha or #CdTextModel:calibrate,
 * format 2 for models with #CdTextModel:headings alone; other models are
 * written in format 1, which every Chartdesk reads.
 *
 * Since: 0.1
 */
#define CD_TEXT_MODEL_FORMAT_VERSION 3

#define CD_TYPE_TEXT_MODEL (cd_text_model_get_type())
G_DECLARE_FINAL_TYPE(CdTextModel, cd_text_model, CD, TEXT_MODEL, GObject)

CdTextModel *cd_text_model_new(void);
CdTextModel *cd_text_model_new_from_bytes(GBytes *bytes, GError **error);

gboolean cd_text_model_train(CdTextModel *self, GPtrArray *texts, GPtrArray *labels, GCancellable *cancellable,
                             GError **error);
gboolean cd_text_model_is_trained(CdTextModel *self);
GPtrArray *cd_text_model_predict(CdTextModel *self, const gchar *text);
const gchar *const *cd_text_model_get_labels(CdTextModel *self);
guint cd_text_model_get_n_trained(CdTextModel *self);
GBytes *cd_text_model_to_bytes(CdTextModel *self, GError **error);
JsonNode *cd_text_model_get_params(CdTextModel *self);

G_END_DECLS
