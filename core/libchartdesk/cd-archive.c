/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * CdArchive: the archive as plugins see it. The wrappers below check their
 * arguments and dispatch to the store's implementation; a store that
 * leaves a method out is a programming error, reported as an internal
 * error rather than a crash.
 */
#include "config.h"

#include "cd-archive.h"
#include "cd-error.h"

G_DEFINE_ABSTRACT_TYPE(CdArchive, cd_archive, G_TYPE_OBJECT)

static void
cd_archive_class_init(CdArchiveClass *klass)
{
}

static void
cd_archive_init(CdArchive *self)
{
}

static gboolean
cd_archive_implements(CdArchive *self, gconstpointer method, const gchar *name, GError **error)
{
  if (method != NULL)
    return TRUE;
  g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "%s does not implement CdArchive.%s", G_OBJECT_TYPE_NAME(self),
              name);
  return FALSE;
}

/**
 * cd_archive_get_path:
 * @self: a #CdArchive
 *
 * Returns: where the archive is: its file, or its server's address
 *
 * Since: 0.1
 */
const gchar *
cd_archive_get_path(CdArchive *self)
{
  CdArchiveClass *klass;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  klass = CD_ARCHIVE_GET_CLASS(self);
  g_return_val_if_fail(klass->get_path != NULL, NULL);
  return klass->get_path(self);
}

/**
 * cd_archive_lookup_patient:
 * @self: a #CdArchive
 * @mrn: a medical record number
 * @error: return location for a #GError
 *
 * Returns the index entry for exactly this MRN, merged or not.
 *
 * Returns: (transfer full): the patient, or %NULL with %CD_ERROR_NOT_FOUND
 *
 * Since: 0.1
 */
CdPatient *
cd_archive_lookup_patient(CdArchive *self, const gchar *mrn, GError **error)
{
  CdArchiveClass *klass;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(mrn != NULL, NULL);
  klass = CD_ARCHIVE_GET_CLASS(self);
  if (!cd_archive_implements(self, klass->lookup_patient, "lookup_patient", error))
    return NULL;
  return klass->lookup_patient(self, mrn, error);
}

/**
 * cd_archive_resolve_patient:
 * @self: a #CdArchive
 * @mrn: a medical record number
 * @error: return location for a #GError
 *
 * Returns the patient a document with this MRN is filed to: the MRN's own
 * entry, or the entry that survived its merge (following chains of merges).
 *
 * Returns: (transfer full): the surviving patient, or %NULL with
 *   %CD_ERROR_NOT_FOUND
 *
 * Since: 0.1
 */
CdPatient *
cd_archive_resolve_patient(CdArchive *self, const gchar *mrn, GError **error)
{
  CdArchiveClass *klass;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(mrn != NULL, NULL);
  klass = CD_ARCHIVE_GET_CLASS(self);
  if (!cd_archive_implements(self, klass->resolve_patient, "resolve_patient", error))
    return NULL;
  return klass->resolve_patient(self, mrn, error);
}

/**
 * cd_archive_find_patients:
 * @self: a #CdArchive
 * @family: (nullable): family name, any case or accents
 * @given: (nullable): given name
 * @dob: (nullable): date of birth, `YYYY-MM-DD`
 * @error: return location for a #GError
 *
 * Finds the index entries, merged ones excluded, that match every criterion
 * given. Finding namesakes is the point: callers must not pick one of
 * several by name alone.
 *
 * Returns: (transfer container) (element-type CdPatient): the matches, or
 *   %NULL on an error
 *
 * Since: 0.1
 */
GPtrArray *
cd_archive_find_patients(CdArchive *self, const gchar *family, const gchar *given, const gchar *dob, GError **error)
{
  CdArchiveClass *klass;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  klass = CD_ARCHIVE_GET_CLASS(self);
  if (!cd_archive_implements(self, klass->find_patients, "find_patients", error))
    return NULL;
  return klass->find_patients(self, family, given, dob, error);
}

/**
 * cd_archive_load_model:
 * @self: a #CdArchive
 * @name: the model's name
 * @version: the version to load, or 0 for the latest
 * @loaded_version: (out) (optional): the version loaded
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the serialised model, or %NULL with
 *   %CD_ERROR_NOT_FOUND when the archive holds no such model or version
 *
 * Since: 0.1
 */
GBytes *
cd_archive_load_model(CdArchive *self, const gchar *name, gint version, gint *loaded_version, GError **error)
{
  CdArchiveClass *klass;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(name != NULL, NULL);
  klass = CD_ARCHIVE_GET_CLASS(self);
  if (!cd_archive_implements(self, klass->load_model, "load_model", error))
    return NULL;
  return klass->load_model(self, name, version, loaded_version, error);
}
