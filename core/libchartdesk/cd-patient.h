/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

#define CD_TYPE_PATIENT (cd_patient_get_type())

/**
 * CdPatient:
 * @mrn: the medical record number, as the hospital writes it
 * @family: family name, upper case
 * @given: given name, upper case
 * @middle: (nullable): middle name or initial, upper case
 * @dob: (nullable): date of birth, `YYYY-MM-DD`
 * @sex: (nullable): `F`, `M`, `O` or `U`
 * @merged_into: (nullable): the surviving MRN when this one was merged away
 * @origin: (nullable): where an imported entry was read (`FILE:LINE`, or
 *   `FILE: message N (ADT^A40)`), so that an import refused by the archive
 *   names the row or message; %NULL for an entry read from the archive
 *
 * One entry of the master patient index.
 *
 * Since: 0.1
 */
typedef struct {
  gchar *mrn;
  gchar *family;
  gchar *given;
  gchar *middle;
  gchar *dob;
  gchar *sex;
  gchar *merged_into;
  gchar *origin;
} CdPatient;

GType cd_patient_get_type(void) G_GNUC_CONST;
CdPatient *cd_patient_new(const gchar *mrn);
CdPatient *cd_patient_copy(const CdPatient *patient);
void cd_patient_free(CdPatient *patient);
gchar *cd_patient_normalize_name(const gchar *name);
gchar *cd_patient_to_string(const CdPatient *patient);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdPatient, cd_patient_free)

G_END_DECLS
