/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "chartdesk.h"

G_BEGIN_DECLS

void cd_cli_print_error(const GError *error);
CdRegistry *cd_cli_load_registry(void);
gint cd_cli_plugins(gint argc, gchar **argv);
gint cd_cli_scanners(gint argc, gchar **argv);
gboolean cd_cli_write_page_image(CdArchive *archive, gint64 page_id, const gchar *filename, GError **error);
void cd_cli_print_record(JsonNode *node, gboolean is_page);
void cd_cli_print_review(GPtrArray *items, gboolean json);
gint cd_cli_classify(gint argc, gchar **argv);
void cd_cli_add_archive_options(GOptionContext *ctx);
CdArchive *cd_cli_open_archive(const gchar *path, CdArchiveFlags flags, GError **error);
gint cd_cli_audit(gint argc, gchar **argv);

G_END_DECLS
