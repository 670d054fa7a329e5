/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <libpq-fe.h>
#include <unistd.h>

#include "cd-pg-cluster-ctl.h"

/* pg_ctl on the cluster's data, as nobody when the cluster runs as nobody
 * (the same user and options as cd_pg_cluster_start()). */
static void
cd_pg_ctl(CdPgCluster *c, const gchar *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  gint status = 0;

  if (c->as_nobody) {
    const gchar *prefix[] = { "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all" };
    for (guint i = 0; i < G_N_ELEMENTS(prefix); i++)
      g_ptr_array_add(argv, g_strdup(prefix[i]));
  }
  g_ptr_array_add(argv, g_build_filename(c->bindir, "pg_ctl", NULL));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, g_strdup(args[i]));
  g_ptr_array_add(argv, NULL);
  g_spawn_sync(c->dir, (gchar **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error(error);
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("pg_ctl failed: %s%s", out, err);
}

/* The server goes away: a fast shutdown, its clients disconnected. */
void
cd_pg_cluster_ctl_stop(CdPgCluster *c)
{
  const gchar *args[] = { "-D", c->data, "-m", "fast", "-w", "stop", NULL };
  cd_pg_ctl(c, args);
}

void
cd_pg_cluster_ctl_start(CdPgCluster *c)
{
  g_autofree gchar *log = g_build_filename(c->dir, "server.log", NULL);
  g_autofree gchar *options = g_strdup_printf("-c listen_addresses='' -k %s -c fsync=off -c synchronous_commit=off "
                                              "-c full_page_writes=off -c max_connections=40",
                                              c->dir);
  const gchar *args[] = { "-D", c->data, "-l", log, "-w", "-o", options, "start", NULL };
  cd_pg_ctl(c, args);
}

/* The one number @sql returns on @database. */
gint64
cd_pg_cluster_count(CdPgCluster *c, const gchar *database, const gchar *sql)
{
  g_autofree gchar *uri = cd_pg_cluster_uri(c, database);
  PGconn *conn = PQconnectdb(uri);
  PGresult *res;
  gint64 v;

  if (PQstatus(conn) != CONNECTION_OK)
    g_error("%s: %s", uri, PQerrorMessage(conn));
  res = PQexec(conn, sql);
  if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
    g_error("%s: %s", sql, PQresultErrorMessage(res));
  v = g_ascii_strtoll(PQgetvalue(res, 0, 0), NULL, 10);
  PQclear(res);
  PQfinish(conn);
  return v;
}
