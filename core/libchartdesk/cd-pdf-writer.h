/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include <gio/gio.h>

#include "cd-page.h"

G_BEGIN_DECLS

/**
 * CdPdfRect:
 * @x: left edge, in pixels of the page image
 * @y: top edge, in pixels
 * @width: width in pixels
 * @height: height in pixels
 *
 * A rectangle on a page image, in the image's own pixel coordinates (origin
 * top left, as #CdWord boxes are): what a redaction covers.
 *
 * Since: 0.1
 */
typedef struct {
  gint x;
  gint y;
  gint width;
  gint height;
} CdPdfRect;

#define CD_TYPE_PDF_WRITER (cd_pdf_writer_get_type())
G_DECLARE_FINAL_TYPE(CdPdfWriter, cd_pdf_writer, CD, PDF_WRITER, GObject)

CdPdfWriter *cd_pdf_writer_new(GError **error);

void cd_pdf_writer_set_title(CdPdfWriter *self, const gchar *title);
void cd_pdf_writer_set_subject(CdPdfWriter *self, const gchar *subject);
void cd_pdf_writer_set_keywords(CdPdfWriter *self, const gchar *keywords);
void cd_pdf_writer_set_author(CdPdfWriter *self, const gchar *author);
void cd_pdf_writer_set_creation_date(CdPdfWriter *self, GDateTime *date);

void cd_pdf_writer_set_bates(CdPdfWriter *self, const gchar *prefix, guint first, guint digits);
void cd_pdf_writer_set_footer(CdPdfWriter *self, const gchar *footer);
gchar *cd_pdf_writer_dup_last_bates(CdPdfWriter *self);

gboolean cd_pdf_writer_add_image_page(CdPdfWriter *self, GBytes *image, gint xres, gint yres, GPtrArray *words,
                                      const CdPdfRect *redactions, guint n_redactions, GError **error);
gboolean cd_pdf_writer_add_page(CdPdfWriter *self, CdPage *page, const CdPdfRect *redactions, guint n_redactions,
                                GError **error);
gboolean cd_pdf_writer_add_text_page(CdPdfWriter *self, const gchar *heading, const gchar *text, GError **error);

guint cd_pdf_writer_get_n_pages(CdPdfWriter *self);
guint cd_pdf_writer_get_n_words_redacted(CdPdfWriter *self);

GBytes *cd_pdf_writer_save_to_bytes(CdPdfWriter *self, GError **error);
gboolean cd_pdf_writer_save(CdPdfWriter *self, const gchar *filename, GError **error);

G_END_DECLS
