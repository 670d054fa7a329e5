/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

/* Release of information (cd-archive-roi.c): requests, their documents and
 * redactions, packets and the accounting of disclosures. Part of the
 * archive's engine API; included by cd-archive-engine.h. */
#include <chartdesk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * CdRoiRequestSpec:
 * @mrn: the patient whose records are asked for
 * @requester: who asks (a person or an organisation)
 * @recipient_name: to whom the copies go
 * @recipient_address: (nullable): where they go, when known
 * @purpose: why they are disclosed, as the accounting will say it
 * @authorisation: the patient's authorisation reference, or the legal basis
 *   when none is needed (a subpoena number, "45 CFR 164.512(b)")
 * @requested_by: (nullable): the date the requester needs them by, `YYYY-MM-DD`
 *
 * What a new release-of-information request says.
 *
 * Since: 0.4
 */
typedef struct {
  const gchar *mrn;
  const gchar *requester;
  const gchar *recipient_name;
  const gchar *recipient_address;
  const gchar *purpose;
  const gchar *authorisation;
  const gchar *requested_by;
} CdRoiRequestSpec;

/* The archive settings this library knows, with their defaults; kept in
 * the archive (table meta), so they travel with it. */
#define CD_SETTING_ROI_TWO_PERSON "roi.two-person"     /* "true": approval by a second roi user */
#define CD_SETTING_ROI_BATES_PREFIX "roi.bates-prefix" /* "${request}" is the request's number */

gchar *cd_archive_get_setting(CdArchive *self, const gchar *key, GError **error);
gboolean cd_archive_set_setting(CdArchive *self, const gchar *key, const gchar *value, GError **error);
const gchar *const *cd_archive_setting_keys(void);

gint64 cd_archive_roi_new(CdArchive *self, const CdRoiRequestSpec *spec, GError **error);
gboolean cd_archive_roi_add_documents(CdArchive *self, gint64 request_id, const gint64 *ids, guint n_ids,
                                      guint *n_added, GError **error);
gboolean cd_archive_roi_add_selection(CdArchive *self, gint64 request_id, const gchar *doc_type, const gchar *date_from,
                                      const gchar *date_to, guint *n_added, GError **error);
gint64 cd_archive_roi_redact_rect(CdArchive *self, gint64 request_id, gint64 page_id, gint x, gint y, gint width,
                                  gint height, GError **error);
gboolean cd_archive_roi_redact_words(CdArchive *self, gint64 request_id, gint64 page_id, const gchar *pattern,
                                     guint *n_words, GError **error);
gboolean cd_archive_roi_approve(CdArchive *self, gint64 request_id, GError **error);
gboolean cd_archive_roi_cancel(CdArchive *self, gint64 request_id, const gchar *why, GError **error);
JsonNode *cd_archive_roi_get(CdArchive *self, gint64 request_id, GError **error);
JsonNode *cd_archive_roi_list(CdArchive *self, const gchar *status, const gchar *mrn, GError **error);

JsonNode *cd_archive_roi_prepare_release(CdArchive *self, gint64 request_id, GError **error);
GBytes *cd_archive_roi_get_page_image(CdArchive *self, gint64 request_id, gint64 page_id, const gchar *sha256,
                                      gchar **format, GError **error);
gboolean cd_archive_roi_record_release(CdArchive *self, gint64 request_id, JsonNode *manifest, const gchar *pdf_sha256,
                                       GError **error);
JsonNode *cd_archive_roi_get_packet(CdArchive *self, gint64 request_id, GError **error);

JsonNode *cd_archive_disclosures(CdArchive *self, const gchar *mrn, const gchar *from, GError **error);

G_END_DECLS
