/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The master patient index inside the archive.
 */
#include "config.h"

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-util-private.h"

#define PATIENT_COLUMNS "mrn, family, given, middle, dob, sex, merged_into"

static CdPatient *
cd_patient_from_row(sqlite3_stmt *stmt)
{
  CdPatient *p = cd_patient_new((const gchar *) sqlite3_column_text(stmt, 0));
  p->family = g_strdup((const gchar *) sqlite3_column_text(stmt, 1));
  p->given = g_strdup((const gchar *) sqlite3_column_text(stmt, 2));
  p->middle = g_strdup((const gchar *) sqlite3_column_text(stmt, 3));
  p->dob = g_strdup((const gchar *) sqlite3_column_text(stmt, 4));
  p->sex = g_strdup((const gchar *) sqlite3_column_text(stmt, 5));
  p->merged_into = g_strdup((const gchar *) sqlite3_column_text(stmt, 6));
  return p;
}

/* The stored row for exactly @mrn, or NULL. */
static CdPatient *
cd_archive_patient_row(CdArchive *self, const gchar *mrn, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt =
      cd_archive_prepare(self, "SELECT " PATIENT_COLUMNS " FROM patients WHERE mrn = ?", error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, mrn);
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return NULL;
  return cd_patient_from_row(stmt);
}

/* CdArchive.lookup_patient: the MPI row of exactly this MRN. */ CdPatient *
cd_sqlite_archive_lookup_patient(CdArchive *self, const gchar *mrn, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(GError) error_local = NULL;
  CdPatient *patient;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(mrn != NULL, NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  patient = cd_archive_patient_row(self, mrn, &error_local);
  if (patient == NULL) {
    if (error_local != NULL)
      g_propagate_error(error, g_steal_pointer(&error_local));
    else
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "MRN %s is not in the patient index", mrn);
  }
  return patient;
}

/* CdArchive.resolve_patient: follows merges to the surviving entry. */ CdPatient *
cd_sqlite_archive_resolve_patient(CdArchive *self, const gchar *mrn, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdPatient) patient = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  patient = cd_archive_lookup_patient(self, mrn, error);
  /* a merge chain longer than this is a loop in bad data */
  for (guint hops = 0; patient != NULL && patient->merged_into != NULL; hops++) {
    g_autofree gchar *next = g_strdup(patient->merged_into);
    if (hops >= 16) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "MRN %s: merges form a loop", mrn);
      return NULL;
    }
    g_clear_pointer(&patient, cd_patient_free);
    patient = cd_archive_lookup_patient(self, next, error);
  }
  return g_steal_pointer(&patient);
}

/* CdArchive.find_patients: unmerged entries matching every criterion,
 * names compared normalised. */
GPtrArray *
cd_sqlite_archive_find_patients(CdArchive *self, const gchar *family, const gchar *given, const gchar *dob,
                                GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *nfamily = cd_patient_normalize_name(family);
  g_autofree gchar *ngiven = cd_patient_normalize_name(given);

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  stmt = cd_archive_prepare(self,
                            "SELECT " PATIENT_COLUMNS " FROM patients WHERE merged_into IS NULL "
                            "AND (?1 IS NULL OR family = ?1) AND (?2 IS NULL OR given = ?2) "
                            "AND (?3 IS NULL OR dob = ?3) ORDER BY mrn LIMIT 1000",
                            error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, nfamily);
  cd_bind_text(stmt, 2, ngiven);
  cd_bind_text(stmt, 3, dob);
  while (sqlite3_step(stmt) == SQLITE_ROW)
    g_ptr_array_add(found, cd_patient_from_row(stmt));
  return g_steal_pointer(&found);
}

static gboolean
cd_str_changed(const gchar *stored, const gchar *incoming)
{
  return incoming != NULL && g_strcmp0(stored, incoming) != 0;
}

/* Inserts or updates one entry; the caller holds the transaction. A field
 * the import leaves out keeps its stored value. */
static gboolean
cd_archive_upsert_patient(CdArchive *self, const CdPatient *in, const gchar *source, CdImportStats *stats,
                          GError **error)
{
  g_autoptr(CdPatient) stored = cd_archive_patient_row(self, in->mrn, NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *family = cd_patient_normalize_name(in->family);
  g_autofree gchar *given = cd_patient_normalize_name(in->given);
  g_autofree gchar *middle = cd_patient_normalize_name(in->middle);
  g_autofree gchar *ts = cd_now_iso8601();

  if (stored != NULL && !cd_str_changed(stored->family, family) && !cd_str_changed(stored->given, given) &&
      !cd_str_changed(stored->middle, middle) && !cd_str_changed(stored->dob, in->dob) &&
      !cd_str_changed(stored->sex, in->sex)) {
    stats->unchanged++;
    return TRUE;
  }
  stmt = cd_archive_prepare(self,
                            "INSERT INTO patients (mrn, family, given, middle, dob, sex, source, updated) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (mrn) DO UPDATE SET "
                            "family = coalesce (?2, family), given = coalesce (?3, given), "
                            "middle = coalesce (?4, middle), dob = coalesce (?5, dob), sex = coalesce (?6, sex), "
                            "source = ?7, updated = ?8",
                            error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, in->mrn);
  cd_bind_text(stmt, 2, family);
  cd_bind_text(stmt, 3, given);
  cd_bind_text(stmt, 4, middle);
  cd_bind_text(stmt, 5, in->dob);
  cd_bind_text(stmt, 6, in->sex);
  cd_bind_text(stmt, 7, source);
  cd_bind_text(stmt, 8, ts);
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  if (stored == NULL)
    stats->created++;
  else
    stats->updated++;
  return TRUE;
}

/* Marks @old as merged into @survivor and re-files documents filed to it,
 * adding {mrn, into, documents: [ids]} to @merges for the audit log. The
 * caller holds the transaction. The survivor must be an active entry of
 * the index (stored, or added earlier in this import), so a merge can never
 * file documents to a patient nobody knows or to one merged away. Merging
 * again into the patient the MRN already resolves to changes nothing; into
 * another is refused. */
static gboolean
cd_archive_merge_patient(CdArchive *self, const gchar *old, const gchar *survivor, const gchar *source,
                         CdImportStats *stats, JsonBuilder *merges, GError **error)
{
  g_autoptr(sqlite3_stmt) mark = NULL;
  g_autoptr(sqlite3_stmt) docs = NULL;
  g_autoptr(sqlite3_stmt) refile = NULL;
  g_autoptr(CdPatient) target = NULL;
  g_autoptr(CdPatient) stored = NULL;
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autofree gchar *ts = cd_now_iso8601();
  g_autoptr(GError) error_local = NULL;

  if (g_strcmp0(old, survivor) == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "MRN %s cannot be merged into itself", old);
    return FALSE;
  }
  target = cd_archive_patient_row(self, survivor, &error_local);
  if (error_local != NULL) {
    g_propagate_error(error, g_steal_pointer(&error_local));
    return FALSE;
  }
  if (target == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "merge into %s refused: %s is not in the patient index (import the patient first)", survivor, survivor);
    return FALSE;
  }
  if (target->merged_into != NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "merge into %s refused: %s was itself merged into %s", survivor,
                survivor, target->merged_into);
    return FALSE;
  }
  stored = cd_archive_patient_row(self, old, NULL);
  if (stored != NULL && stored->merged_into != NULL) {
    /* already merged, directly or along a chain, into this survivor: a
     * feed sent again, nothing to do */
    g_autoptr(CdPatient) now = cd_archive_resolve_patient(self, old, NULL);
    if (now != NULL && g_strcmp0(now->mrn, survivor) == 0) {
      stats->unchanged++;
      return TRUE;
    }
  }
  if (stored != NULL && stored->merged_into != NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "merge into %s refused: %s was already merged into %s",
                survivor, old, stored->merged_into);
    return FALSE;
  }
  mark = cd_archive_prepare(self,
                            "INSERT INTO patients (mrn, merged_into, source, updated) VALUES (?1, ?2, ?3, ?4) "
                            "ON CONFLICT (mrn) DO UPDATE SET merged_into = ?2, source = ?3, updated = ?4",
                            error);
  if (mark == NULL)
    return FALSE;
  cd_bind_text(mark, 1, old);
  cd_bind_text(mark, 2, survivor);
  cd_bind_text(mark, 3, source);
  cd_bind_text(mark, 4, ts);
  if (!cd_archive_step_done(self, mark, error))
    return FALSE;
  docs = cd_archive_prepare(self, "SELECT id FROM documents WHERE patient_mrn = ?1 ORDER BY id", error);
  if (docs == NULL)
    return FALSE;
  cd_bind_text(docs, 1, old);
  while (sqlite3_step(docs) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(docs, 0);
    g_array_append_val(ids, id);
  }
  refile = cd_archive_prepare(self, "UPDATE documents SET patient_mrn = ?2 WHERE patient_mrn = ?1", error);
  if (refile == NULL)
    return FALSE;
  cd_bind_text(refile, 1, old);
  cd_bind_text(refile, 2, survivor);
  if (!cd_archive_step_done(self, refile, error))
    return FALSE;
  if ((guint) sqlite3_changes(cd_archive_get_db(self)) != ids->len) {
    g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "merge of %s into %s: %u documents listed, %d re-filed", old,
                survivor, ids->len, sqlite3_changes(cd_archive_get_db(self)));
    return FALSE;
  }
  json_builder_begin_object(merges);
  json_builder_set_member_name(merges, "mrn");
  json_builder_add_string_value(merges, old);
  json_builder_set_member_name(merges, "into");
  json_builder_add_string_value(merges, survivor);
  json_builder_set_member_name(merges, "documents");
  json_builder_begin_array(merges);
  for (guint i = 0; i < ids->len; i++)
    json_builder_add_int_value(merges, g_array_index(ids, gint64, i));
  json_builder_end_array(merges);
  json_builder_end_object(merges);
  stats->merged++;
  stats->refiled += ids->len;
  return TRUE;
}

/**
 * cd_archive_import_patients:
 * @self: a #CdArchive
 * @patients: (element-type CdPatient): entries to add or update; an entry
 *   with @merged_into set records that its MRN was merged into that one
 * @source: where they come from: `csv`, `fhir`, `hl7`
 * @stats: (out caller-allocates): what changed
 * @error: return location for a #GError
 *
 * Adds or updates index entries by MRN in one transaction, so importing
 * the same file again changes nothing and never duplicates. Merges re-file
 * the merged MRN's documents to the survivor, which must be an active
 * entry (stored or imported earlier in @patients); a merge into an unknown
 * or merged-away MRN, or of an MRN already merged elsewhere, fails the
 * whole import with %CD_ERROR_INVALID_DATA. Audited with the counts and,
 * for each merge, the ids of the documents it re-filed.
 *
 * Returns: %TRUE on success; on failure nothing was imported
 *
 * Since: 0.1
 */
gboolean
cd_archive_import_patients(CdArchive *self, GPtrArray *patients, const gchar *source, CdImportStats *stats,
                           GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autoptr(JsonBuilder) merges = json_builder_new();
  g_autoptr(JsonNode) merges_node = NULL;
  CdImportStats local = { 0 };

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(patients != NULL, FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_CONFIGURE, "import the patient index", "mpi", error))
    return FALSE;

  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  json_builder_begin_array(merges);
  for (guint i = 0; i < patients->len; i++) {
    CdPatient *p = g_ptr_array_index(patients, i);
    gboolean ok = p->merged_into != NULL
                      ? cd_archive_merge_patient(self, p->mrn, p->merged_into, source, &local, merges, error)
                      : cd_archive_upsert_patient(self, p, source, &local, error);
    if (!ok) {
      /* the row or message it came from, so the refusal can be found in
       * the file; "nothing imported" is the caller's to say */
      if (p->origin != NULL)
        g_prefix_error(error, "%s: MRN %s: ", p->origin, p->mrn);
      else
        g_prefix_error(error, "MRN %s: ", p->mrn);
      return FALSE;
    }
  }
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "source");
  json_builder_add_string_value(b, source);
  json_builder_set_member_name(b, "created");
  json_builder_add_int_value(b, local.created);
  json_builder_set_member_name(b, "updated");
  json_builder_add_int_value(b, local.updated);
  json_builder_set_member_name(b, "unchanged");
  json_builder_add_int_value(b, local.unchanged);
  json_builder_set_member_name(b, "merged");
  json_builder_add_int_value(b, local.merged);
  json_builder_set_member_name(b, "refiled");
  json_builder_add_int_value(b, local.refiled);
  /* which documents moved, not only how many: a wrong merge must be
   * reversible from the log */
  json_builder_end_array(merges);
  merges_node = json_builder_get_root(merges);
  json_builder_set_member_name(b, "merges");
  json_builder_add_value(b, g_steal_pointer(&merges_node));
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  if (!cd_archive_audit_locked(self, "mpi-import", "patients", detail, error))
    return FALSE;
  if (!cd_archive_txn_commit(txn, error))
    return FALSE;
  if (stats != NULL)
    *stats = local;
  return TRUE;
}
