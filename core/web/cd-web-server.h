/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The web workstation's HTTP server (issue 15): the JSON API under /api/v1
 * and the static screens, served by chartdeskd or `chartdesk web`.
 */
#pragma once

#include "cd-engine.h"
#include "cd-pg-archive.h"

G_BEGIN_DECLS

/* Sessions end after this many seconds without a request. */
#define CD_WEB_DEFAULT_IDLE_TIMEOUT 900
/* Where `chartdesk web` listens unless told otherwise. */
#define CD_WEB_DEFAULT_LISTEN "127.0.0.1:8450"

#define CD_TYPE_WEB_SERVER (cd_web_server_get_type())
G_DECLARE_FINAL_TYPE(CdWebServer, cd_web_server, CD, WEB_SERVER, GObject)

CdWebServer *cd_web_server_new(CdArchive *archive, CdUserDirectory *directory);
/* the reading side on the PostgreSQL archive (issue 18, part 2); takes @pg */
CdWebServer *cd_web_server_new_for_server(CdPgArchive *pg, CdUserDirectory *directory);
void cd_web_server_set_idle_timeout(CdWebServer *self, guint seconds);
gboolean cd_web_server_set_tls_files(CdWebServer *self, const gchar *certificate, const gchar *key, GError **error);
void cd_web_server_set_poll_batches(CdWebServer *self, gboolean poll);
gboolean cd_web_server_listen(CdWebServer *self, const gchar *address, GError **error);
const gchar *cd_web_server_get_url(CdWebServer *self);
CdSessionStore *cd_web_server_get_sessions(CdWebServer *self);
void cd_web_server_publish_batch(CdWebServer *self, gint64 batch_id, const gchar *status, guint64 pages_done,
                                 guint64 pages_total);
void cd_web_server_stop(CdWebServer *self);

G_END_DECLS
