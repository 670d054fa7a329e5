/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The command line as a client of chartdeskd.
 */
#pragma once

#include "cd-engine.h"
#include "cd-service-common.h"

G_BEGIN_DECLS

typedef enum {
  CD_CLIENT_AUTO,    /* use the service if one runs */
  CD_CLIENT_REQUIRE, /* --service: use it, starting it by D-Bus activation if needed */
  CD_CLIENT_NEVER,   /* --no-service */
} CdClientMode;

CdDBusChartdesk1 *cd_client_connect(CdClientMode mode, GError **error);
gint cd_client_ingest(CdDBusChartdesk1 *proxy, const gchar *archive, const gchar *const *inputs, const gchar *workflow,
                      const gchar *const *set, gint workers, gboolean json, gboolean quiet);
CdSearchResult *cd_client_search(CdDBusChartdesk1 *proxy, const gchar *archive, const CdSearchQuery *query,
                                 const gchar *purpose, JsonNode **json, GError **error);

G_END_DECLS
