/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A retention policy: how long the archive keeps each type of record
 * (issue 17). Read from a keyfile; no SQL here.
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_TYPE_RETENTION_POLICY (cd_retention_policy_get_type())
G_DECLARE_FINAL_TYPE(CdRetentionPolicy, cd_retention_policy, CD, RETENTION_POLICY, GObject)

/**
 * CdRetentionVerdict:
 * @rule: the rule applied: `default` or a type's name
 * @permanent: the type is kept forever; @keep_until is not set
 * @minor: the patient was a minor (or of unknown age) on the document's
 *   date of service, so the minors' clause applied
 * @keep_until: the last day the document must be kept; it is due the day after
 * @why: how @keep_until was reached, in words
 *
 * What a policy says about one document.
 *
 * Since: 0.4
 */
typedef struct {
  const gchar *rule;
  gboolean permanent;
  gboolean minor;
  GDate keep_until;
  gchar *why;
} CdRetentionVerdict;

void cd_retention_verdict_clear(CdRetentionVerdict *verdict);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CdRetentionVerdict, cd_retention_verdict_clear)

CdRetentionPolicy *cd_retention_policy_new_from_data(const gchar *data, const gchar *origin, CdTaxonomy *taxonomy,
                                                     GError **error);
CdRetentionPolicy *cd_retention_policy_new_from_file(const gchar *path, CdTaxonomy *taxonomy, GError **error);
const gchar *cd_retention_policy_get_origin(CdRetentionPolicy *self);
const gchar *cd_retention_policy_get_text(CdRetentionPolicy *self);
const gchar *cd_retention_policy_get_sha256(CdRetentionPolicy *self);
gboolean cd_retention_policy_get_two_person(CdRetentionPolicy *self);
const gchar *cd_retention_policy_get_facility(CdRetentionPolicy *self);
const gchar *cd_retention_policy_get_method(CdRetentionPolicy *self);
guint cd_retention_policy_get_majority_age(CdRetentionPolicy *self);
GPtrArray *cd_retention_policy_describe(CdRetentionPolicy *self);
gboolean cd_retention_policy_evaluate(CdRetentionPolicy *self, const gchar *type, const gchar *date,
                                      const gchar *last_service, const gchar *dob, CdRetentionVerdict *verdict,
                                      GError **error);
gboolean cd_date_parse_iso(const gchar *text, GDate *date);
gchar *cd_date_to_iso(const GDate *date);

G_END_DECLS
