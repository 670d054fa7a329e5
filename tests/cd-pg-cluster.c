/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "cd-pg-cluster.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "cd-test-util.h"

/* the running postmaster, for the signal handlers and atexit */
static volatile pid_t cd_pg_postmaster = 0;

static void
cd_pg_kill_postmaster(void)
{
  if (cd_pg_postmaster > 0)
    kill(cd_pg_postmaster, SIGQUIT); /* immediate shutdown */
  cd_pg_postmaster = 0;
}

static void
cd_pg_on_signal(int sig)
{
  cd_pg_kill_postmaster();
  signal(sig, SIG_DFL);
  raise(sig);
}

static gchar *
cd_pg_find_bindir(void)
{
  const gchar *env = g_getenv("CD_PG_BINDIR");
  const gchar *candidates[] = { env, "/usr/lib/postgresql/15/bin", NULL };

  for (guint i = 0; i < G_N_ELEMENTS(candidates) - 1; i++) {
    g_autofree gchar *initdb = NULL;
    if (candidates[i] == NULL)
      continue;
    initdb = g_build_filename(candidates[i], "initdb", NULL);
    if (g_file_test(initdb, G_FILE_TEST_IS_EXECUTABLE))
      return g_strdup(candidates[i]);
  }
  {
    g_autofree gchar *initdb = g_find_program_in_path("initdb");
    if (initdb != NULL)
      return g_path_get_dirname(initdb);
  }
  return NULL;
}

const gchar *
cd_pg_cluster_missing(void)
{
  return "PostgreSQL is not installed (no initdb in $CD_PG_BINDIR, /usr/lib/postgresql/15/bin or PATH): "
         "scripts/install-deps installs postgresql-15";
}

/* Runs a PostgreSQL program, as nobody when we are root. */
static gboolean
cd_pg_run(CdPgCluster *c, const gchar *program, const gchar *const *args, GError **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  gint status = 0;

  if (c->as_nobody) {
    const gchar *prefix[] = { "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all" };
    for (guint i = 0; i < G_N_ELEMENTS(prefix); i++)
      g_ptr_array_add(argv, g_strdup(prefix[i]));
  }
  g_ptr_array_add(argv, g_build_filename(c->bindir, program, NULL));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, g_strdup(args[i]));
  g_ptr_array_add(argv, NULL);
  if (!g_spawn_sync(c->dir, (gchar **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status(status, NULL)) {
    g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "%s failed: %s%s", program, out, err);
    return FALSE;
  }
  return TRUE;
}

static gboolean
cd_pg_chown_nobody(const gchar *path, GError **error)
{
  struct passwd *pw = getpwnam("nobody");

  if (pw == NULL || chown(path, pw->pw_uid, pw->pw_gid) != 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM, "cannot give %s to nobody: %s", path, g_strerror(errno));
    return FALSE;
  }
  return TRUE;
}

CdPgCluster *
cd_pg_cluster_start(GError **error)
{
  CdPgCluster *c;
  g_autofree gchar *options = NULL;
  g_autofree gchar *log = NULL;
  g_autofree gchar *pidfile = NULL;
  g_autofree gchar *pidtext = NULL;
  g_autofree gchar *bindir = cd_pg_find_bindir();

  if (bindir == NULL)
    return NULL;
  c = g_new0(CdPgCluster, 1);
  c->bindir = g_steal_pointer(&bindir);
  c->as_nobody = geteuid() == 0;
  c->dir = g_dir_make_tmp("cd-pg-XXXXXX", error);
  if (c->dir == NULL) {
    cd_pg_cluster_stop(c);
    return NULL;
  }
  c->data = g_build_filename(c->dir, "data", NULL);
  log = g_build_filename(c->dir, "server.log", NULL);
  if (c->as_nobody && !cd_pg_chown_nobody(c->dir, error)) {
    cd_pg_cluster_stop(c);
    return NULL;
  }
  {
    const gchar *args[] = { "-D", c->data, "-U",          "chartdesk", "-A", "trust",
                            "-E", "UTF8",  "--no-locale", "--no-sync", NULL };
    if (!cd_pg_run(c, "initdb", args, error)) {
      cd_pg_cluster_stop(c);
      return NULL;
    }
  }
  options = g_strdup_printf("-c listen_addresses='' -k %s -c fsync=off -c synchronous_commit=off "
                            "-c full_page_writes=off -c max_connections=40",
                            c->dir);
  signal(SIGABRT, cd_pg_on_signal);
  signal(SIGTERM, cd_pg_on_signal);
  signal(SIGINT, cd_pg_on_signal);
  signal(SIGSEGV, cd_pg_on_signal);
  /* a test or benchmark piped into `head` dies of SIGPIPE */
  signal(SIGPIPE, cd_pg_on_signal);
  signal(SIGHUP, cd_pg_on_signal);
  atexit(cd_pg_kill_postmaster);
  {
    const gchar *args[] = { "-D", c->data, "-l", log, "-w", "-o", options, "start", NULL };
    if (!cd_pg_run(c, "pg_ctl", args, error)) {
      g_autofree gchar *text = NULL;
      g_file_get_contents(log, &text, NULL, NULL);
      g_prefix_error(error, "%s: ", text != NULL ? text : "");
      cd_pg_cluster_stop(c);
      return NULL;
    }
  }
  pidfile = g_build_filename(c->data, "postmaster.pid", NULL);
  if (g_file_get_contents(pidfile, &pidtext, NULL, NULL))
    cd_pg_postmaster = (pid_t) g_ascii_strtoll(pidtext, NULL, 10);
  return c;
}

gchar *
cd_pg_cluster_uri(CdPgCluster *c, const gchar *name)
{
  return g_strdup_printf("postgresql:///%s?host=%s&user=chartdesk", name, c->dir);
}

gchar *
cd_pg_cluster_create_database(CdPgCluster *c, const gchar *name, GError **error)
{
  g_autofree gchar *admin = cd_pg_cluster_uri(c, "postgres");
  g_autofree gchar *sql = g_strdup_printf("CREATE DATABASE \"%s\"", name);
  PGconn *conn = PQconnectdb(admin);
  PGresult *res;
  gboolean ok;

  if (PQstatus(conn) != CONNECTION_OK) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", admin, PQerrorMessage(conn));
    PQfinish(conn);
    return NULL;
  }
  res = PQexec(conn, sql);
  ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  if (!ok)
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", sql, PQresultErrorMessage(res));
  PQclear(res);
  PQfinish(conn);
  return ok ? cd_pg_cluster_uri(c, name) : NULL;
}

void
cd_pg_cluster_stop(CdPgCluster *c)
{
  if (c == NULL)
    return;
  if (cd_pg_postmaster > 0) {
    const gchar *args[] = { "-D", c->data, "-m", "immediate", "-w", "stop", NULL };
    g_autoptr(GError) error = NULL;
    if (!cd_pg_run(c, "pg_ctl", args, &error)) {
      g_printerr("stopping the test cluster: %s\n", error->message);
      cd_pg_kill_postmaster();
    }
    cd_pg_postmaster = 0;
  }
  if (c->dir != NULL)
    cd_test_rm_rf(c->dir);
  g_free(c->dir);
  g_free(c->data);
  g_free(c->bindir);
  g_free(c);
}

void
cd_pg_test_db_set_up(CdPgTestDb *db, CdPgCluster *cluster, const gchar *prefix)
{
  static guint n = 0;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *name = g_strdup_printf("%s%u", prefix, ++n);
  g_autofree gchar *template = g_strdup_printf("cd-pg-%s-XXXXXX", prefix);

  db->dir = g_dir_make_tmp(template, &error);
  g_assert_no_error(error);
  db->uri = cd_pg_cluster_create_database(cluster, name, &error);
  g_assert_no_error(error);
  db->raw = PQconnectdb(db->uri);
  g_assert_cmpint(PQstatus(db->raw), ==, CONNECTION_OK);
}

void
cd_pg_test_db_tear_down(CdPgTestDb *db)
{
  PQfinish(db->raw);
  cd_test_rm_rf(db->dir);
  g_free(db->dir);
  g_free(db->uri);
}

gint64
cd_pg_test_db_int(CdPgTestDb *db, const gchar *sql)
{
  PGresult *res = PQexec(db->raw, sql);
  gint64 value;

  if (PQresultStatus(res) != PGRES_TUPLES_OK)
    g_test_message("%s: %s", sql, PQresultErrorMessage(res));
  g_assert_cmpint(PQresultStatus(res), ==, PGRES_TUPLES_OK);
  g_assert_cmpint(PQntuples(res), ==, 1);
  value = g_ascii_strtoll(PQgetvalue(res, 0, 0), NULL, 10);
  PQclear(res);
  return value;
}
