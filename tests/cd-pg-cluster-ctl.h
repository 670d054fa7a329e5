/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Beside tests/cd-pg-cluster.h: taking the test cluster away and bringing
 * it back (pg_ctl stop/start on the same data and socket), as a server
 * that goes away under a station; and a count read with one query.
 */
#pragma once

#include "cd-pg-cluster.h"

void cd_pg_cluster_ctl_stop(CdPgCluster *cluster);
void cd_pg_cluster_ctl_start(CdPgCluster *cluster);
gint64 cd_pg_cluster_count(CdPgCluster *cluster, const gchar *database, const gchar *sql);
