/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "cd-page.h"

G_BEGIN_DECLS

guint64 cd_page_get_sequence(CdPage *self);
void cd_page_set_sequence(CdPage *self, guint64 sequence);
gint64 cd_page_get_id(CdPage *self);
void cd_page_set_id(CdPage *self, gint64 id);

/* The stored form of the processed image: G4 TIFF for bilevel pages, JPEG
 * otherwise. Encoding happens on the worker thread so the single archive
 * writer only inserts bytes. */
gboolean cd_page_encode_image(CdPage *self, GError **error);
GBytes *cd_page_get_image_bytes(CdPage *self);
const gchar *cd_page_get_image_format(CdPage *self);
const gchar *cd_page_get_image_sha256(CdPage *self);
void cd_page_set_image_info(CdPage *self, gint width, gint height, gint depth);
void cd_page_get_image_info(CdPage *self, gint *width, gint *height, gint *depth);

const gchar *cd_page_kind_to_string(CdPageKind kind);
gboolean cd_page_kind_from_string(const gchar *str, CdPageKind *kind);

G_END_DECLS
