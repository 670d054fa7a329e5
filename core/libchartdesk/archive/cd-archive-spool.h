/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a station asks of its SQLite archive when it is the spool of the
 * hospital's PostgreSQL archive (issue 18, part 2).
 */
#pragma once

#include "cd-archive-engine.h"

G_BEGIN_DECLS

gint64 cd_archive_count_documents(CdArchive *self, GError **error);
gint64 cd_archive_count_changes_after(CdArchive *self, gint64 after, GError **error);
gint64 cd_archive_get_data_version(CdArchive *self, GError **error);
gchar *cd_server_display_name(const gchar *uri);
gchar *cd_server_error_message(const gchar *uri, const gchar *message);

/* changes after delivery: told when a write through @archive commits */
typedef void (*CdArchiveWriteNotify)(CdArchive *archive, gpointer user_data);
void cd_archive_set_write_notify(CdArchive *archive, CdArchiveWriteNotify notify, gpointer user_data);

G_END_DECLS
