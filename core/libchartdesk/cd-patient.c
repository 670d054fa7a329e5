/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-patient.h"

G_DEFINE_BOXED_TYPE(CdPatient, cd_patient, cd_patient_copy, cd_patient_free)

/**
 * cd_patient_new:
 * @mrn: the medical record number
 *
 * Returns: (transfer full): a patient with only an MRN
 *
 * Since: 0.1
 */
CdPatient *
cd_patient_new(const gchar *mrn)
{
  CdPatient *patient = g_new0(CdPatient, 1);
  g_return_val_if_fail(mrn != NULL, NULL);
  patient->mrn = g_strdup(mrn);
  return patient;
}

/**
 * cd_patient_copy:
 * @patient: a #CdPatient
 *
 * Returns: (transfer full): a deep copy
 *
 * Since: 0.1
 */
CdPatient *
cd_patient_copy(const CdPatient *patient)
{
  CdPatient *copy;

  g_return_val_if_fail(patient != NULL, NULL);
  copy = cd_patient_new(patient->mrn);
  copy->family = g_strdup(patient->family);
  copy->given = g_strdup(patient->given);
  copy->middle = g_strdup(patient->middle);
  copy->dob = g_strdup(patient->dob);
  copy->sex = g_strdup(patient->sex);
  copy->merged_into = g_strdup(patient->merged_into);
  copy->origin = g_strdup(patient->origin);
  return copy;
}

/**
 * cd_patient_free:
 * @patient: (nullable): a #CdPatient
 *
 * Since: 0.1
 */
void
cd_patient_free(CdPatient *patient)
{
  if (patient == NULL)
    return;
  g_free(patient->mrn);
  g_free(patient->family);
  g_free(patient->given);
  g_free(patient->middle);
  g_free(patient->dob);
  g_free(patient->sex);
  g_free(patient->merged_into);
  g_free(patient->origin);
  g_free(patient);
}

/**
 * cd_patient_normalize_name:
 * @name: (nullable): a name as written anywhere
 *
 * The form names are stored and compared in: upper case, accents removed,
 * anything but letters, spaces, hyphens and apostrophes dropped, runs of
 * spaces folded. `Dóe-Smith,  jane` becomes `DOE-SMITH JANE`.
 *
 * Returns: (transfer full) (nullable): the normalised name, %NULL for an
 *   empty one
 *
 * Since: 0.1
 */
gchar *
cd_patient_normalize_name(const gchar *name)
{
  g_autofree gchar *decomposed = NULL;
  GString *out;

  if (name == NULL)
    return NULL;
  decomposed = g_utf8_normalize(name, -1, G_NORMALIZE_NFD);
  if (decomposed == NULL)
    return NULL;
  out = g_string_new(NULL);
  for (const gchar *p = decomposed; *p != '\0'; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (g_unichar_ismark(c))
      continue;
    if (g_unichar_isalpha(c)) {
      g_string_append_unichar(out, g_unichar_toupper(c));
    } else if (c == '-' || c == '\'') {
      g_string_append_unichar(out, c);
    } else if ((g_unichar_isspace(c) || c == ',' || c == '.') && out->len > 0 && out->str[out->len - 1] != ' ') {
      g_string_append_c(out, ' ');
    }
  }
  while (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate(out, out->len - 1);
  if (out->len == 0) {
    g_string_free(out, TRUE);
    return NULL;
  }
  return g_string_free(out, FALSE);
}

/**
 * cd_patient_to_string:
 * @patient: a #CdPatient
 *
 * Returns: (transfer full): `MRN FAMILY, GIVEN M (DOB)` for messages
 *
 * Since: 0.1
 */
gchar *
cd_patient_to_string(const CdPatient *patient)
{
  g_return_val_if_fail(patient != NULL, NULL);
  return g_strdup_printf("%s %s, %s%s%s (born %s)", patient->mrn, patient->family != NULL ? patient->family : "?",
                         patient->given != NULL ? patient->given : "?", patient->middle != NULL ? " " : "",
                         patient->middle != NULL ? patient->middle : "", patient->dob != NULL ? patient->dob : "?");
}
