/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

/**
 * CdMpiFormat:
 * @CD_MPI_FORMAT_AUTO: tell from the content
 * @CD_MPI_FORMAT_CSV: CSV with a header row: mrn, family, given, middle, dob, sex
 * @CD_MPI_FORMAT_FHIR: FHIR R4 Patient resources: a Bundle, NDJSON or one resource
 * @CD_MPI_FORMAT_HL7: HL7 v2 ADT messages (A01/A04/A05/A08/A28/A31, A40 merges)
 *
 * Since: 0.1
 */
typedef enum {
  CD_MPI_FORMAT_AUTO,
  CD_MPI_FORMAT_CSV,
  CD_MPI_FORMAT_FHIR,
  CD_MPI_FORMAT_HL7,
} CdMpiFormat;

gboolean cd_mpi_format_from_string(const gchar *name, CdMpiFormat *format);
GPtrArray *cd_mpi_read(const gchar *path, CdMpiFormat format, const gchar *mrn_system, GPtrArray *problems,
                       GError **error);
GPtrArray *cd_mpi_read_data(const gchar *name, const gchar *data, gsize len, CdMpiFormat format,
                            const gchar *mrn_system, GPtrArray *problems, GError **error);

G_END_DECLS
