/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A private PostgreSQL cluster for one test binary: initdb in a temporary
 * folder, no TCP (listen_addresses empty), its Unix socket in that folder
 * only, trust for the role `chartdesk` that initdb makes. As root (CI) the
 * server runs as nobody. Stopped by cd_pg_cluster_stop(), and killed by
 * its pid should the test abort or be terminated.
 */
#pragma once

#include <glib.h>
#include <libpq-fe.h>

typedef struct {
  gchar *dir;    /* the temporary folder: data/, the socket, the log */
  gchar *data;   /* the data directory */
  gchar *bindir; /* PostgreSQL's programs */
  gboolean as_nobody;
} CdPgCluster;

/* Returns: the running cluster; %NULL with @error set when it could not
 * start, %NULL without an error when PostgreSQL is not installed (the
 * caller skips, naming cd_pg_cluster_missing()). */
CdPgCluster *cd_pg_cluster_start(GError **error);
const gchar *cd_pg_cluster_missing(void);
/* Creates database @name; returns its connection URI. */
gchar *cd_pg_cluster_create_database(CdPgCluster *cluster, const gchar *name, GError **error);
/* The connection URI of a database of the cluster (which may not exist). */
gchar *cd_pg_cluster_uri(CdPgCluster *cluster, const gchar *name);
void cd_pg_cluster_stop(CdPgCluster *cluster);

/* A database of its own for one test, a temporary folder, and a
 * connection of the test's own to look behind the library (a GTest
 * fixture: set up, tear down). */
typedef struct {
  gchar *dir;
  gchar *uri;
  PGconn *raw;
} CdPgTestDb;
void cd_pg_test_db_set_up(CdPgTestDb *db, CdPgCluster *cluster, const gchar *prefix);
void cd_pg_test_db_tear_down(CdPgTestDb *db);
/* The one integer @sql answers through the test's connection (asserted). */
gint64 cd_pg_test_db_int(CdPgTestDb *db, const gchar *sql);
