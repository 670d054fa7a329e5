/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one CSV reader (RFC 4180) that MPI extracts and labelled samples are
 * read with, and the field writer of the audit exports.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CdCsvReader CdCsvReader;

CdCsvReader *cd_csv_reader_new(const gchar *data, gsize len);
void cd_csv_reader_free(CdCsvReader *self);
GPtrArray *cd_csv_reader_next(CdCsvReader *self, guint *line, GError **error);
gint cd_csv_find_column(GPtrArray *header, const gchar *name);
gboolean cd_csv_record_is_blank(GPtrArray *record);
void cd_csv_append_field(GString *out, const gchar *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdCsvReader, cd_csv_reader_free)

G_END_DECLS
