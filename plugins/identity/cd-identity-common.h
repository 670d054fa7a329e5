/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the identity stages share: how identifiers read off a page are
 * normalised and compared. Kept conservative on purpose: a comparison that
 * is unsure says "no".
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

/* The page facts the header stage writes and the others read. */
#define CD_FACT_HEADER_MRN "header.mrn"           /* s: as read, OCR confusions included */
#define CD_FACT_HEADER_FAMILY "header.family"     /* s: normalised */
#define CD_FACT_HEADER_GIVEN "header.given"       /* s: normalised */
#define CD_FACT_HEADER_MIDDLE "header.middle"     /* s: normalised */
#define CD_FACT_HEADER_DOB "header.dob"           /* s: YYYY-MM-DD */
#define CD_FACT_HEADER_TITLE "header.title"       /* s: a document title at the top */
#define CD_FACT_HEADER_DATE "header.date"         /* s: YYYY-MM-DD, date of service */
#define CD_FACT_HEADER_PAGE "header.page"         /* (uu): "Page N of M" */
#define CD_FACT_HEADER_CONFLICT "header.conflict" /* s: why the page's own identifiers disagree */
#define CD_FACT_COVER_MRN "cover.mrn"             /* s: MRN of the cover sheet the page follows */
#define CD_FACT_COVER_FAMILY "cover.family"
#define CD_FACT_COVER_GIVEN "cover.given"
#define CD_FACT_COVER_DOB "cover.dob"
#define CD_FACT_COVER_PAGE "cover.page"         /* s: "FILE page N", the cover sheet's place, for messages */
#define CD_FACT_COVER_CONFLICT "cover.conflict" /* s: why the cover sheet cannot be used */
#define CD_FACT_BARCODES "barcode.symbols"      /* aa{sv} from the barcode plugin */

/**
 * CdDateOrder:
 * @CD_DATE_ORDER_MDY: 03/14/1952 is 14 March (United States)
 * @CD_DATE_ORDER_DMY: 14/03/1952 is 14 March
 */
typedef enum {
  CD_DATE_ORDER_MDY,
  CD_DATE_ORDER_DMY,
} CdDateOrder;

GType cd_date_order_get_type(void);
#define CD_TYPE_DATE_ORDER (cd_date_order_get_type())

gchar *cd_identity_parse_date(const gchar *text, CdDateOrder order);
gchar *cd_identity_mrn_digits(const gchar *raw);
GPtrArray *cd_identity_mrn_variants(const gchar *raw);
gchar *cd_identity_mrn_key(const gchar *raw);
gboolean cd_identity_mrn_same(const gchar *a, const gchar *b);
gboolean cd_identity_name_agrees(const CdPatient *patient, const gchar *family, const gchar *given,
                                 gboolean allow_typo);
gboolean cd_identity_name_contradicts(const CdPatient *patient, const gchar *family, const gchar *given);
gchar *cd_identity_page_string(CdPage *page, const gchar *fact);

G_END_DECLS
