/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk web`: the web workstation's server in the foreground, for one
 * workstation (chartdeskd serves the same server with `[web] listen`).
 */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>

#include "cd-cli-private.h"
#include "cd-web-server.h"

static gboolean
cd_cli_web_quit(gpointer user_data)
{
  g_main_loop_quit(user_data);
  return G_SOURCE_REMOVE;
}

gint
cd_cli_web(gint argc, gchar **argv)
{
  g_autofree gchar *opt_archive = NULL;
  g_autofree gchar *opt_listen = NULL;
  g_autofree gchar *opt_users = NULL;
  g_autofree gchar *opt_cert = NULL;
  g_autofree gchar *opt_key = NULL;
  gint opt_idle = CD_WEB_DEFAULT_IDLE_TIMEOUT;
  const GOptionEntry entries[] = {
    { "archive", 'a', 0, G_OPTION_ARG_FILENAME, &opt_archive,
      "The archive to serve: a SQLite file, or postgresql://… (reading only: search, charts, documents, audit)",
      "FILE|URI" },
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &opt_listen,
      "Where to listen: ADDRESS:PORT, or PORT on 127.0.0.1 (default " CD_WEB_DEFAULT_LISTEN "; port 0 picks one)",
      "ADDR:PORT" },
    { "users", 0, 0, G_OPTION_ARG_FILENAME, &opt_users,
      "The user directory (default: $CHARTDESK_USERS, else ~/.local/state/chartdesk/users.conf)", "FILE" },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &opt_idle, "Seconds without a request after which a session ends (900)",
      "S" },
    { "tls-certificate", 0, 0, G_OPTION_ARG_FILENAME, &opt_cert, "Serve HTTPS with this PEM certificate", "PEM" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_key, "… and this PEM private key", "PEM" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("— serve the web workstation");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(CdUserDirectory) directory = NULL;
  g_autoptr(CdWebServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree gchar *users = NULL;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Serves the web workstation (find, chart, viewer, review queue, batches, "
                                    "audit) and its JSON API\nat /api/v1 until interrupted. Users log in with "
                                    "their password from the user directory;\nevery request is checked and "
                                    "audited as that user. Prints the URL when listening.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 1)
    return cd_cli_usage(ctx, "unexpected arguments");
  if (opt_archive == NULL)
    return cd_cli_usage(ctx, "give --archive FILE or --archive postgresql://…");
  if ((opt_cert == NULL) != (opt_key == NULL))
    return cd_cli_usage(ctx, "give both --tls-certificate and --tls-key");
  if (opt_idle <= 0)
    return cd_cli_usage(ctx, "--idle-timeout: give a number of seconds, 1 or more");

  users = opt_users != NULL ? g_strdup(opt_users) : cd_user_directory_default_path();
  directory = cd_user_directory_open(users, FALSE, &error);
  if (directory == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (cd_archive_location_is_server(opt_archive)) {
    /* the hospital's PostgreSQL archive: its reading side (issue 18, part 2) */
    g_autoptr(CdPgArchive) pg = cd_pg_archive_open(opt_archive, CD_ARCHIVE_FLAG_NONE, &error);
    if (pg == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    server = cd_web_server_new_for_server(g_steal_pointer(&pg), directory);
  } else {
    archive = cd_cli_open_archive(opt_archive, CD_ARCHIVE_FLAG_NONE, &error);
    if (archive == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    server = cd_web_server_new(archive, directory);
  }
  cd_web_server_set_idle_timeout(server, (guint) opt_idle);
  if (opt_cert != NULL && !cd_web_server_set_tls_files(server, opt_cert, opt_key, &error)) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  cd_web_server_set_poll_batches(server, TRUE);
  if (!cd_web_server_listen(server, opt_listen != NULL ? opt_listen : CD_WEB_DEFAULT_LISTEN, &error)) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  g_print("%s\n", cd_web_server_get_url(server));
  fflush(stdout);
  loop = g_main_loop_new(NULL, FALSE);
  g_unix_signal_add(SIGINT, cd_cli_web_quit, loop);
  g_unix_signal_add(SIGTERM, cd_cli_web_quit, loop);
  g_main_loop_run(loop);
  cd_web_server_stop(server);
  /* let the connections it closed finish closing */
  g_timeout_add(200, cd_cli_web_quit, loop);
  g_main_loop_run(loop);
  return CD_EXIT_OK;
}
