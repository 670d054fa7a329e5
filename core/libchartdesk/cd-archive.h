/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include <gio/gio.h>

#include "cd-patient.h"

G_BEGIN_DECLS

#define CD_TYPE_ARCHIVE (cd_archive_get_type())
G_DECLARE_DERIVABLE_TYPE(CdArchive, cd_archive, CD, ARCHIVE, GObject)

/**
 * CdArchiveClass:
 * @parent_class: the parent class
 * @get_path: where the archive is: a file, or a server's address
 * @lookup_patient: the index entry for exactly this MRN
 * @resolve_patient: the entry a document with this MRN is filed to
 * @find_patients: unmerged entries matching names and a date of birth
 * @load_model: a stored classifier model
 *
 * An archive as stages see it (cd_stage_get_archive()): the master patient
 * index and the stored models, read-only. Writing documents, batches, the
 * review queue and the audit log is the engine's, and not part of the SDK.
 * Each store (the SQLite file today) is a subclass that implements every
 * virtual method.
 *
 * Since: 0.1
 */
struct _CdArchiveClass {
  GObjectClass parent_class;

  const gchar *(*get_path)(CdArchive *self);
  CdPatient *(*lookup_patient)(CdArchive *self, const gchar *mrn, GError **error);
  CdPatient *(*resolve_patient)(CdArchive *self, const gchar *mrn, GError **error);
  GPtrArray *(*find_patients)(CdArchive *self, const gchar *family, const gchar *given, const gchar *dob,
                              GError **error);
  GBytes *(*load_model)(CdArchive *self, const gchar *name, gint version, gint *loaded_version, GError **error);

  /*< private >*/
  gpointer padding[12];
};

const gchar *cd_archive_get_path(CdArchive *self);
CdPatient *cd_archive_lookup_patient(CdArchive *self, const gchar *mrn, GError **error);
CdPatient *cd_archive_resolve_patient(CdArchive *self, const gchar *mrn, GError **error);
GPtrArray *cd_archive_find_patients(CdArchive *self, const gchar *family, const gchar *given, const gchar *dob,
                                    GError **error);
GBytes *cd_archive_load_model(CdArchive *self, const gchar *name, gint version, gint *loaded_version, GError **error);

G_END_DECLS
