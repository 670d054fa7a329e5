/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include "cd-page.h"

G_BEGIN_DECLS

#define CD_TYPE_DOCUMENT (cd_document_get_type())
G_DECLARE_FINAL_TYPE(CdDocument, cd_document, CD, DOCUMENT, GObject)

CdDocument *cd_document_new(void);

gint64 cd_document_get_id(CdDocument *self);
void cd_document_set_id(CdDocument *self, gint64 id);
GPtrArray *cd_document_get_pages(CdDocument *self);
void cd_document_add_page(CdDocument *self, CdPage *page);

const gchar *cd_document_get_patient_mrn(CdDocument *self);
void cd_document_set_patient_mrn(CdDocument *self, const gchar *mrn);

const gchar *cd_document_get_doc_type(CdDocument *self);
gdouble cd_document_get_type_confidence(CdDocument *self);
void cd_document_set_doc_type(CdDocument *self, const gchar *doc_type, gdouble confidence);

const gchar *cd_document_get_date(CdDocument *self);
void cd_document_set_date(CdDocument *self, const gchar *iso_date);

const gchar *cd_document_get_title(CdDocument *self);
void cd_document_set_title(CdDocument *self, const gchar *title);

void cd_document_add_problem(CdDocument *self, const gchar *problem);
GPtrArray *cd_document_get_problems(CdDocument *self);
gboolean cd_document_needs_review(CdDocument *self);

gchar *cd_document_dup_text(CdDocument *self);

G_END_DECLS
