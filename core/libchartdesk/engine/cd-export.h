/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

CdExporter *cd_export_new_exporter(CdRegistry *registry, const gchar *name, const gchar *output,
                                   const gchar *const *settings, GError **error);
gboolean cd_export_run(CdArchive *archive, CdExporter *exporter, GArray *document_ids, GCancellable *cancellable,
                       GError **error);

G_END_DECLS
