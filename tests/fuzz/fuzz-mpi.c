/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The MPI readers on raw bytes, one target per format (CD_FUZZ_MPI_FORMAT:
 * CSV, FHIR JSON/NDJSON, HL7 v2), as `chartdesk mpi import` reads a file.
 * Besides not crashing, whatever a reader returns must be fit to store: a
 * patient has an MRN, and every field is UTF-8 (it goes into SQLite text,
 * JSON and the audit log as it is).
 */
#include "cd-fuzz.h"

#ifndef CD_FUZZ_MPI_FORMAT
#error "CD_FUZZ_MPI_FORMAT names the reader to fuzz"
#endif

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  cd_fuzz_init_logging();
  return 0;
}

static void
cd_fuzz_check_field(const gchar *value)
{
  g_assert_true(value == NULL || g_utf8_validate(value, -1, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) patients = NULL;

  patients = cd_mpi_read_data("fuzz-input", (const gchar *) data, size, CD_FUZZ_MPI_FORMAT, NULL, problems, &error);
  if (patients == NULL) {
    g_assert_nonnull(error);
    return 0;
  }
  for (guint i = 0; i < patients->len; i++) {
    const CdPatient *p = g_ptr_array_index(patients, i);
    g_autofree gchar *text = NULL;
    g_autofree gchar *family = NULL;
    g_assert_nonnull(p->mrn);
    g_assert_cmpstr(p->mrn, !=, "");
    cd_fuzz_check_field(p->mrn);
    cd_fuzz_check_field(p->family);
    cd_fuzz_check_field(p->given);
    cd_fuzz_check_field(p->middle);
    cd_fuzz_check_field(p->dob);
    cd_fuzz_check_field(p->sex);
    cd_fuzz_check_field(p->merged_into);
    text = cd_patient_to_string(p);
    if (p->family != NULL)
      family = cd_patient_normalize_name(p->family);
  }
  for (guint i = 0; i < problems->len; i++)
    g_assert_true(g_utf8_validate(g_ptr_array_index(problems, i), -1, NULL));
  return 0;
}
