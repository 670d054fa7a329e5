/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The PostgreSQL archive, retention (schema 5): legal holds placed on the
 * server, with the SQLite archive's meaning (cd-archive-retention.c), and
 * the tombstones a station's destruction leaves when it is delivered.
 *
 * Stations destroy; the server follows. A destruction run on a station
 * empties its documents there, and delivery sends each as a change
 * (cd-pg-archive.c, cd_deliver_change()). The server then either empties
 * its copy too and keeps a tombstone naming the station's run (who planned
 * and approved it, under which policy, when), or, when one of its own
 * holds covers the document, keeps the copy whole and says why (an audit
 * entry and an open review item): a hold placed on the hospital's archive
 * protects what every station holds of the patient.
 */
#include "config.h"

#include "cd-error.h"
#include "cd-pg-private.h"
#include "cd-util-private.h"

/* Columns of a hold, as cd_pg_hold_json() reads them. */
#define CD_PG_HOLD_COLUMNS                                                                                             \
  "h.id, h.kind, h.mrn, h.document_id, h.reason, h.matter, h.placed_by, h.placed_at, h.released_by, "                  \
  "h.released_at, h.release_reason"

/* One hold as cd_legal_hold_to_json() shows it (no saved-search holds on
 * the server: `query` is always null). */
static void
cd_pg_hold_json(JsonBuilder *b, PGresult *res, gint row)
{
  static const gchar *const texts[] = { "reason",      "matter",      "placed_by",     "placed_at",
                                        "released_by", "released_at", "release_reason" };

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, cd_pg_int(res, row, 0));
  cd_json_add_string_or_null(b, "kind", cd_pg_value(res, row, 1));
  cd_json_add_string_or_null(b, "mrn", cd_pg_value(res, row, 2));
  json_builder_set_member_name(b, "document");
  if (cd_pg_value(res, row, 3) != NULL)
    json_builder_add_int_value(b, cd_pg_int(res, row, 3));
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "query");
  json_builder_add_null_value(b);
  for (guint i = 0; i < G_N_ELEMENTS(texts); i++)
    cd_json_add_string_or_null(b, texts[i], cd_pg_value(res, row, 4 + (gint) i));
  json_builder_set_member_name(b, "active");
  json_builder_add_boolean_value(b, cd_pg_value(res, row, 9) == NULL);
  json_builder_end_object(b);
}

static JsonNode *
cd_pg_holds_json(PGresult *res)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  json_builder_begin_array(b);
  for (gint i = 0; i < PQntuples(res); i++)
    cd_pg_hold_json(b, res, i);
  json_builder_end_array(b);
  return json_builder_get_root(b);
}

/* The active holds covering server document @document_id, filed under
 * @mrn (either may be 0 / NULL): a document hold on it, a patient hold on
 * the same patient, merges followed both ways (the hold's MRN and the
 * document's taken to the MRN they are merged into now), as SQLite's
 * cd_hold_index_covering(). Sorted by id. */
PGresult *
cd_pg_holds_covering(CdPgArchive *self, gint64 document_id, const gchar *mrn, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();

  cd_pg_params_add_int(p, document_id);
  cd_pg_params_add(p, mrn);
  return cd_pg_exec(self,
                    "SELECT " CD_PG_HOLD_COLUMNS " FROM legal_holds h WHERE h.released_at IS NULL AND "
                    "((h.kind = 'document' AND h.document_id = $1) OR (h.kind = 'patient' AND $2::text IS NOT NULL "
                    "AND cd_mrn_survivor(h.mrn) = cd_mrn_survivor($2))) ORDER BY h.id",
                    p, "cannot read the legal holds", error);
}

/* Placing a hold needs configure (administrators) or release
 * (release-of-information staff receive the subpoenas), as on SQLite. */
static gboolean
cd_pg_require_any(CdPgArchive *self, CdPermission any, CdPermission shown, const gchar *what, const gchar *object,
                  GError **error)
{
  if ((cd_principal_has(self->principal, CD_PERMISSION_CONFIGURE) && (any & CD_PERMISSION_CONFIGURE) != 0) ||
      (cd_principal_has(self->principal, CD_PERMISSION_RELEASE) && (any & CD_PERMISSION_RELEASE) != 0) ||
      (cd_principal_has(self->principal, CD_PERMISSION_READ_CHARTS) && (any & CD_PERMISSION_READ_CHARTS) != 0))
    return TRUE;
  return cd_pg_require(self, shown, what, object, error);
}

/**
 * cd_pg_archive_place_hold:
 * @self: the server
 * @kind: %CD_HOLD_PATIENT or %CD_HOLD_DOCUMENT (saved-search holds are
 *   SQLite's only)
 * @mrn: (nullable): the patient of a patient hold
 * @document_id: the server document of a document hold
 * @reason: why (required)
 * @matter: (nullable): the matter or case it is for
 * @error: return location for a #GError
 *
 * As cd_archive_place_hold(): needs %CD_PERMISSION_CONFIGURE or
 * %CD_PERMISSION_RELEASE; the patient or document must exist; audited as
 * `hold-place` of `hold:ID` in the server's chain. From then on, a
 * station's destruction of a covered document is not carried out on the
 * server.
 *
 * Returns: the hold's id, or 0 with @error set
 */
gint64
cd_pg_archive_place_hold(CdPgArchive *self, CdHoldKind kind, const gchar *mrn, gint64 document_id, const gchar *reason,
                         const gchar *matter, GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;
  g_autoptr(CdPgTxn) txn = NULL;
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *now = cd_now_iso8601();
  g_autofree gchar *object = NULL;
  gint64 id;

  g_return_val_if_fail(self != NULL, 0);
  if (reason == NULL || *reason == '\0') {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "a legal hold needs a reason");
    return 0;
  }
  if (kind == CD_HOLD_SEARCH) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                        "saved-search legal holds are not on the PostgreSQL archive: hold the patient or the document");
    return 0;
  }
  if (kind == CD_HOLD_PATIENT && (mrn == NULL || *mrn == '\0')) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "a patient hold needs an MRN");
    return 0;
  }
  if (kind == CD_HOLD_DOCUMENT && document_id <= 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "a document hold needs a document id");
    return 0;
  }
  held = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_pg_require_any(self, CD_PERMISSION_CONFIGURE | CD_PERMISSION_RELEASE, CD_PERMISSION_CONFIGURE,
                         "place legal holds", "retention", error))
    return 0;
  txn = cd_pg_txn_begin(self, error);
  if (txn == NULL)
    return 0;
  if (kind == CD_HOLD_PATIENT) {
    cd_pg_params_add(p, mrn);
    res = cd_pg_exec(self, "SELECT 1 FROM patients WHERE mrn = $1", p, "cannot read the patient index", error);
    if (res == NULL)
      return 0;
    if (PQntuples(res) == 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no patient with MRN %s", self->where, mrn);
      return 0;
    }
    /* the surviving patient's row locked: a destruction being delivered
     * for them (cd_deliver_server_holds() takes it FOR SHARE) either
     * commits first, or waits and then sees this hold */
    g_clear_pointer(&res, PQclear);
    res = cd_pg_exec(self, "SELECT 1 FROM patients WHERE mrn = cd_mrn_survivor($1) FOR UPDATE", p,
                     "cannot read the patient index", error);
    if (res == NULL)
      return 0;
  } else {
    cd_pg_params_add_int(p, document_id);
    res = cd_pg_exec(self, "SELECT 1 FROM documents WHERE id = $1 FOR UPDATE", p, "cannot read a document", error);
    if (res == NULL)
      return 0;
    if (PQntuples(res) == 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, self->where, document_id);
      return 0;
    }
  }
  g_clear_pointer(&res, PQclear);
  g_clear_pointer(&p, cd_pg_params_free);
  p = cd_pg_params_new();
  cd_pg_params_add(p, kind == CD_HOLD_PATIENT ? "patient" : "document");
  cd_pg_params_add(p, kind == CD_HOLD_PATIENT ? mrn : NULL);
  if (kind == CD_HOLD_DOCUMENT)
    cd_pg_params_add_int(p, document_id);
  else
    cd_pg_params_add(p, NULL);
  cd_pg_params_add(p, reason);
  cd_pg_params_add(p, matter);
  cd_pg_params_add(p, cd_pg_actor(self));
  cd_pg_params_add(p, now);
  res = cd_pg_exec(self,
                   "INSERT INTO legal_holds (kind, mrn, document_id, reason, matter, placed_by, placed_at) "
                   "VALUES ($1, $2, $3::bigint, $4, $5, $6, $7) RETURNING id",
                   p, "cannot place the legal hold", error);
  if (res == NULL)
    return 0;
  id = cd_pg_int(res, 0, 0);
  object = g_strdup_printf("hold:%" G_GINT64_FORMAT, id);
  json_object_set_string_member(obj, "kind", kind == CD_HOLD_PATIENT ? "patient" : "document");
  if (kind == CD_HOLD_PATIENT)
    json_object_set_string_member(obj, "mrn", mrn);
  else
    json_object_set_int_member(obj, "document", document_id);
  json_object_set_string_member(obj, "reason", reason);
  if (matter != NULL)
    json_object_set_string_member(obj, "matter", matter);
  detail = json_node_init_object(json_node_alloc(), g_steal_pointer(&obj));
  if (!cd_pg_audit(self, "hold-place", object, detail, error) || !cd_pg_txn_commit(txn, error))
    return 0;
  return id;
}

/**
 * cd_pg_archive_release_hold:
 * @self: the server
 * @hold_id: the hold
 * @reason: why it is released (required)
 * @error: return location for a #GError
 *
 * As cd_archive_release_hold(): needs %CD_PERMISSION_CONFIGURE; a hold is
 * released once; audited as `hold-release`.
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
cd_pg_archive_release_hold(CdPgArchive *self, gint64 hold_id, const gchar *reason, GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;
  g_autoptr(CdPgTxn) txn = NULL;
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *now = cd_now_iso8601();
  g_autofree gchar *object = g_strdup_printf("hold:%" G_GINT64_FORMAT, hold_id);

  g_return_val_if_fail(self != NULL, FALSE);
  if (reason == NULL || *reason == '\0') {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "releasing a legal hold needs a reason");
    return FALSE;
  }
  held = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_pg_require(self, CD_PERMISSION_CONFIGURE, "release legal holds", object, error))
    return FALSE;
  txn = cd_pg_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  cd_pg_params_add_int(p, hold_id);
  res = cd_pg_exec(self, "SELECT released_at, released_by FROM legal_holds WHERE id = $1 FOR UPDATE", p,
                   "cannot read the legal holds", error);
  if (res == NULL)
    return FALSE;
  if (PQntuples(res) == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no legal hold %" G_GINT64_FORMAT, self->where, hold_id);
    return FALSE;
  }
  if (cd_pg_value(res, 0, 0) != NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "%s: legal hold %" G_GINT64_FORMAT " was already released on %s by %s", self->where, hold_id,
                cd_pg_value(res, 0, 0), cd_pg_value(res, 0, 1));
    return FALSE;
  }
  cd_pg_params_add(p, cd_pg_actor(self));
  cd_pg_params_add(p, now);
  cd_pg_params_add(p, reason);
  if (!cd_pg_exec_ok(self,
                     "UPDATE legal_holds SET released_by = $2, released_at = $3, release_reason = $4 WHERE id = $1", p,
                     "cannot release the legal hold", error))
    return FALSE;
  json_object_set_string_member(obj, "reason", reason);
  detail = json_node_init_object(json_node_alloc(), g_steal_pointer(&obj));
  return cd_pg_audit(self, "hold-release", object, detail, error) && cd_pg_txn_commit(txn, error);
}

/**
 * cd_pg_archive_list_holds:
 * @self: the server
 * @mrn: (nullable): only the holds covering this patient (theirs and
 *   their documents')
 * @document_id: only the holds covering this document (0: any)
 * @include_released: released holds too
 * @error: return location for a #GError
 *
 * As cd_archive_list_holds(): needs %CD_PERMISSION_READ_CHARTS,
 * %CD_PERMISSION_CONFIGURE or %CD_PERMISSION_RELEASE; audited as
 * `list-holds`.
 *
 * Returns: (transfer full): a JSON array of holds as
 *   cd_legal_hold_to_json() shows them, or %NULL with @error set
 */
JsonNode *
cd_pg_archive_list_holds(CdPgArchive *self, const gchar *mrn, gint64 document_id, gboolean include_released,
                         GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autoptr(JsonNode) list = NULL;

  g_return_val_if_fail(self != NULL, NULL);
  held = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_pg_require_any(self, CD_PERMISSION_READ_CHARTS | CD_PERMISSION_CONFIGURE | CD_PERMISSION_RELEASE,
                         CD_PERMISSION_READ_CHARTS, "list legal holds", "retention", error))
    return NULL;
  cd_pg_params_add(p, mrn);
  cd_pg_params_add_int(p, document_id);
  cd_pg_params_add(p, include_released ? "t" : "f");
  res = cd_pg_exec(self,
                   "SELECT " CD_PG_HOLD_COLUMNS " FROM legal_holds h WHERE ($3::boolean OR h.released_at IS NULL) "
                   "AND ($1::text IS NULL OR (h.kind = 'patient' AND cd_mrn_survivor(h.mrn) = cd_mrn_survivor($1)) "
                   "OR (h.kind = 'document' AND h.document_id IN (SELECT id FROM documents WHERE "
                   "cd_mrn_survivor(patient_mrn) = cd_mrn_survivor($1)))) "
                   "AND ($2 = 0 OR (h.kind = 'document' AND h.document_id = $2) OR (h.kind = 'patient' AND "
                   "cd_mrn_survivor(h.mrn) = (SELECT cd_mrn_survivor(patient_mrn) FROM documents WHERE id = $2))) "
                   "ORDER BY h.id",
                   p, "cannot read the legal holds", error);
  if (res == NULL)
    return NULL;
  list = cd_pg_holds_json(res);
  if (mrn != NULL)
    json_object_set_string_member(obj, "mrn", mrn);
  if (document_id > 0)
    json_object_set_int_member(obj, "document", document_id);
  json_object_set_int_member(obj, "holds", PQntuples(res));
  detail = json_node_init_object(json_node_alloc(), g_steal_pointer(&obj));
  if (!cd_pg_audit(self, "list-holds", "retention", detail, error))
    return NULL;
  return g_steal_pointer(&list);
}

/* The document JSON's `holds` (the active holds covering it) and
 * `destroyed` (its tombstone, or null), the members SQLite's
 * cd_archive_retention_document_json() adds, plus who destroyed it, under
 * which run and policy, on which station. */
gboolean
cd_pg_retention_document_json(CdPgArchive *self, JsonBuilder *b, gint64 id, const gchar *mrn, GError **error)
{
  g_autoptr(PGresult) holds = cd_pg_holds_covering(self, id, mrn, error);
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) tomb = NULL;
  static const gchar *const texts[] = {
    "at",          "keep_until",         "rule",   "station",     "destroyed_by", "planned_by", "policy_sha256",
    "plan_sha256", "certificate_sha256", "method", "last_service"
  };

  if (holds == NULL)
    return FALSE;
  json_builder_set_member_name(b, "holds");
  json_builder_add_value(b, cd_pg_holds_json(holds));
  cd_pg_params_add_int(p, id);
  tomb = cd_pg_exec(self,
                    "SELECT source_run_id, pages, source_document_id, destroyed_at, keep_until, rule, station, "
                    "destroyed_by, planned_by, policy_sha256, plan_sha256, certificate_sha256, method, last_service, "
                    "two_person FROM tombstones WHERE document_id = $1",
                    p, "cannot read a tombstone", error);
  if (tomb == NULL)
    return FALSE;
  json_builder_set_member_name(b, "destroyed");
  if (PQntuples(tomb) == 0) {
    json_builder_add_null_value(b);
    return TRUE;
  }
  json_builder_begin_object(b);
  /* `run` is the station's retention run (its certificate is there) */
  json_builder_set_member_name(b, "run");
  json_builder_add_int_value(b, cd_pg_int(tomb, 0, 0));
  json_builder_set_member_name(b, "pages");
  json_builder_add_int_value(b, cd_pg_int(tomb, 0, 1));
  json_builder_set_member_name(b, "source_document");
  json_builder_add_int_value(b, cd_pg_int(tomb, 0, 2));
  for (guint i = 0; i < G_N_ELEMENTS(texts); i++)
    cd_json_add_string_or_null(b, texts[i], cd_pg_value(tomb, 0, 3 + (gint) i));
  json_builder_set_member_name(b, "two_person");
  json_builder_add_boolean_value(b, g_strcmp0(cd_pg_value(tomb, 0, 14), "t") == 0);
  json_builder_end_object(b);
  return TRUE;
}
