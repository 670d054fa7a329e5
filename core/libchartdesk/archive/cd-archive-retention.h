/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Retention, legal holds and certified destruction (issue 17): the
 * archive's API for them, implemented in cd-archive-retention.c.
 */
#pragma once

#include "cd-archive-engine.h"
#include "cd-retention-policy.h"

G_BEGIN_DECLS

/**
 * CdHoldKind:
 * @CD_HOLD_PATIENT: every document of a patient (merged MRNs followed),
 *   now and later
 * @CD_HOLD_DOCUMENT: one document
 * @CD_HOLD_SEARCH: every document a saved search matches, evaluated each
 *   time a plan is made or carried out, so later documents are held too
 *
 * Since: 0.4
 */
typedef enum {
  CD_HOLD_PATIENT,
  CD_HOLD_DOCUMENT,
  CD_HOLD_SEARCH,
} CdHoldKind;

/**
 * CdLegalHold:
 * @id: the hold
 * @kind: `patient`, `document` or `search`
 * @mrn: (nullable): the patient held (kind `patient`)
 * @document_id: the document held (kind `document`), else 0
 * @query: (nullable): the saved search as JSON (kind `search`): `text`,
 *   `mrn`, `type`, `types`, `from`, `to`
 * @reason: why it was placed
 * @matter: (nullable): the matter reference (case, audit or request number)
 * @placed_by: who placed it
 * @placed_at: when, ISO 8601
 * @released_by: (nullable): who released it
 * @released_at: (nullable): when; %NULL while it is in force
 * @release_reason: (nullable): why it was released
 *
 * Since: 0.4
 */
typedef struct {
  gint64 id;
  gchar *kind;
  gchar *mrn;
  gint64 document_id;
  gchar *query;
  gchar *reason;
  gchar *matter;
  gchar *placed_by;
  gchar *placed_at;
  gchar *released_by;
  gchar *released_at;
  gchar *release_reason;
} CdLegalHold;

void cd_legal_hold_free(CdLegalHold *hold);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdLegalHold, cd_legal_hold_free)
JsonNode *cd_legal_hold_to_json(const CdLegalHold *hold);
JsonNode *cd_legal_holds_to_json(GPtrArray *holds);

gint64 cd_archive_place_hold(CdArchive *self, CdHoldKind kind, const gchar *mrn, gint64 document_id,
                             const CdSearchQuery *query, const gchar *reason, const gchar *matter, GError **error);
gboolean cd_archive_release_hold(CdArchive *self, gint64 hold_id, const gchar *reason, GError **error);
GPtrArray *cd_archive_list_holds(CdArchive *self, const gchar *mrn, gint64 document_id, gboolean include_released,
                                 GError **error);

gboolean cd_archive_set_retention_two_person(CdArchive *self, gboolean required, GError **error);
JsonNode *cd_archive_retention_plan(CdArchive *self, CdRetentionPolicy *policy, const gchar *as_of, GError **error);
JsonNode *cd_archive_retention_destroy(CdArchive *self, const gchar *plan, GError **error);
JsonNode *cd_archive_get_retention_run(CdArchive *self, gint64 run_id, GBytes **certificate, GError **error);

G_END_DECLS
