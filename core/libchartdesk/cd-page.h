/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include <glib-object.h>

#include "cd-image.h"
#include "cd-word.h"

G_BEGIN_DECLS

/**
 * CdPageKind:
 * @CD_PAGE_KIND_PAGE: a content page; it belongs in a document
 * @CD_PAGE_KIND_BLANK: a blank page (a duplex back); kept out of documents
 * @CD_PAGE_KIND_COVER: a patient cover sheet; kept out of documents
 * @CD_PAGE_KIND_SEPARATOR: a document or batch separator sheet; kept out of documents
 * @CD_PAGE_KIND_FAILED: a page, or a whole file, that could not be read
 * @CD_PAGE_KIND_DUPLICATE: a file whose content is already archived; not stored again
 *
 * What a page turned out to be. Every input page ends as exactly one of these.
 *
 * Since: 0.1
 */
typedef enum {
  CD_PAGE_KIND_PAGE,
  CD_PAGE_KIND_BLANK,
  CD_PAGE_KIND_COVER,
  CD_PAGE_KIND_SEPARATOR,
  CD_PAGE_KIND_FAILED,
  CD_PAGE_KIND_DUPLICATE,
} CdPageKind;

#define CD_TYPE_PAGE (cd_page_get_type())
G_DECLARE_FINAL_TYPE(CdPage, cd_page, CD, PAGE, GObject)

CdPage *cd_page_new(const gchar *source_path, gint source_page, const gchar *source_sha256);

const gchar *cd_page_get_source_path(CdPage *self);
gint cd_page_get_source_page(CdPage *self);
const gchar *cd_page_get_source_sha256(CdPage *self);

CdPageKind cd_page_get_kind(CdPage *self);
void cd_page_set_kind(CdPage *self, CdPageKind kind, const gchar *reason);
const gchar *cd_page_get_reason(CdPage *self);

PIX *cd_page_get_pix(CdPage *self);
void cd_page_set_pix(CdPage *self, PIX *pix);
PIX *cd_page_steal_pix(CdPage *self);
void cd_page_get_resolution(CdPage *self, gint *xres, gint *yres);
void cd_page_set_resolution(CdPage *self, gint xres, gint yres);

gint cd_page_get_rotation(CdPage *self);
void cd_page_set_rotation(CdPage *self, gint degrees);
gdouble cd_page_get_skew(CdPage *self);
void cd_page_set_skew(CdPage *self, gdouble degrees);

const gchar *cd_page_get_text(CdPage *self);
void cd_page_set_text(CdPage *self, const gchar *text);
GPtrArray *cd_page_get_words(CdPage *self);
void cd_page_add_word(CdPage *self, CdWord *word);
gdouble cd_page_get_confidence(CdPage *self);
void cd_page_set_confidence(CdPage *self, gdouble confidence);

void cd_page_add_problem(CdPage *self, const gchar *problem);
GPtrArray *cd_page_get_problems(CdPage *self);

void cd_page_set_fact(CdPage *self, const gchar *key, GVariant *value);
GVariant *cd_page_get_fact(CdPage *self, const gchar *key);
GVariant *cd_page_get_facts(CdPage *self);

/* what the engine and the archive record on a page; sinks read them */
guint64 cd_page_get_sequence(CdPage *self);
void cd_page_set_sequence(CdPage *self, guint64 sequence);
gint64 cd_page_get_id(CdPage *self);
void cd_page_set_id(CdPage *self, gint64 id);
gboolean cd_page_encode_image(CdPage *self, GError **error);
GBytes *cd_page_get_image_bytes(CdPage *self);
void cd_page_set_image_bytes(CdPage *self, GBytes *bytes, const gchar *format);
const gchar *cd_page_get_image_format(CdPage *self);
const gchar *cd_page_get_image_sha256(CdPage *self);
void cd_page_set_image_info(CdPage *self, gint width, gint height, gint depth);
void cd_page_get_image_info(CdPage *self, gint *width, gint *height, gint *depth);

const gchar *cd_page_kind_to_string(CdPageKind kind);
gboolean cd_page_kind_from_string(const gchar *str, CdPageKind *kind);

G_END_DECLS
