/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk users`: the user directory, in the administrator's mode (the
 * directory file itself, 0600, as the service's account); `chartdesk
 * access report`: the auditor's report from an archive's audit log. And
 * how `--user` is recorded when a command opens an archive file directly.
 */
#include "config.h"

#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "cd-cli-private.h"

/**
 * cd_cli_set_user:
 * @archive: an archive the command opened itself (administrator's mode)
 * @user: (nullable): the name given with `--user`
 *
 * Direct file access is the administrator's mode: the audit log records
 * `admin-mode:LOGIN`, and a `--user NAME` only beside it (`admin-mode:LOGIN
 * for NAME`), never instead of the login: nobody can write another's name.
 */
void
cd_cli_set_user(CdArchive *archive, const gchar *user)
{
  g_autoptr(CdPrincipal) principal = cd_principal_new_admin_mode(g_get_user_name(), user);
  cd_archive_set_principal(archive, principal);
}

/* A password from stdin (one line), or typed twice without echo. */
static gchar *
cd_cli_read_password(gboolean from_stdin, GError **error)
{
  gchar line[1024];
  g_autofree gchar *first = NULL;

  if (from_stdin || !isatty(STDIN_FILENO)) {
    if (fgets(line, sizeof line, stdin) == NULL) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "no password on standard input");
      return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return g_strdup(line);
  }
  for (guint round = 0; round < 2; round++) {
    struct termios saved, quiet;
    gboolean ok;

    fputs(round == 0 ? "Password: " : "Again: ", stderr);
    tcgetattr(STDIN_FILENO, &saved);
    quiet = saved;
    quiet.c_lflag &= ~ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    ok = fgets(line, sizeof line, stdin) != NULL;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fputc('\n', stderr);
    if (!ok) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "no password given");
      return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    if (round == 0) {
      first = g_strdup(line);
    } else if (g_strcmp0(first, line) != 0) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "the passwords do not match");
      return NULL;
    }
  }
  return g_steal_pointer(&first);
}

static void
cd_cli_print_users(GPtrArray *users, gboolean json)
{
  if (json) {
    g_autoptr(JsonArray) array = json_array_new();
    g_autoptr(JsonNode) root = json_node_new(JSON_NODE_ARRAY);
    g_autofree gchar *text = NULL;
    for (guint i = 0; i < users->len; i++)
      json_array_add_element(array, cd_user_to_json(g_ptr_array_index(users, i)));
    json_node_set_array(root, array);
    text = json_to_string(root, TRUE);
    g_print("%s\n", text);
    return;
  }
  for (guint i = 0; i < users->len; i++) {
    CdUser *user = g_ptr_array_index(users, i);
    g_autofree gchar *roles = g_strjoinv(",", user->roles);
    g_print("%-16s %-8s %-28s %-12s %s\n", user->login, user->active ? "active" : "disabled", roles,
            user->unix_user != NULL ? user->unix_user : "-", user->full_name != NULL ? user->full_name : "");
  }
}

/* `--role a --role b,c`: every role named, in order. */
static GStrv
cd_cli_split_roles(gchar **given)
{
  g_autoptr(GStrvBuilder) roles = g_strv_builder_new();
  for (guint i = 0; given != NULL && given[i] != NULL; i++) {
    g_auto(GStrv) parts = g_strsplit(given[i], ",", -1);
    for (guint j = 0; parts[j] != NULL; j++) {
      g_strstrip(parts[j]);
      if (parts[j][0] != '\0')
        g_strv_builder_add(roles, parts[j]);
    }
  }
  return g_strv_builder_end(roles);
}

gint
cd_cli_users(gint argc, gchar **argv)
{
  g_autofree gchar *opt_users = NULL;
  g_auto(GStrv) opt_roles = NULL;
  g_autofree gchar *opt_full_name = NULL;
  g_autofree gchar *opt_unix_user = NULL;
  g_autofree gchar *opt_reason = NULL;
  gboolean opt_password_stdin = FALSE;
  gboolean opt_json = FALSE;
  gint opt_minutes = 0;
  const GOptionEntry entries[] = {
    { "users", 0, 0, G_OPTION_ARG_FILENAME, &opt_users,
      "The user directory (default: $CHARTDESK_USERS, else ~/.local/state/chartdesk/users.conf)", "FILE" },
    { "role", 'r', 0, G_OPTION_ARG_STRING_ARRAY, &opt_roles, "add: a role (repeat, or comma-separate)", "ROLE" },
    { "full-name", 0, 0, G_OPTION_ARG_STRING, &opt_full_name, "add: the person's name", "TEXT" },
    { "unix-user", 0, 0, G_OPTION_ARG_STRING, &opt_unix_user, "add: the Unix account whose D-Bus calls are theirs",
      "LOGIN" },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &opt_password_stdin, "add, passwd: read the web password from stdin",
      NULL },
    { "reason", 0, 0, G_OPTION_ARG_STRING, &opt_reason, "break-glass: why emergency access is needed", "TEXT" },
    { "minutes", 0, 0, G_OPTION_ARG_INT, &opt_minutes, "break-glass: how long it lasts (default 60)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "list: print JSON", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx =
      g_option_context_new("add|list|grant|revoke|passwd|disable|enable|break-glass [NAME] [ROLE] — manage users");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdUserDirectory) directory = NULL;
  g_autofree gchar *path = NULL;
  const gchar *verb;
  gboolean ok = FALSE;

  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_set_summary(
      ctx, "Manages the users of the service's directory: administrator only (the file is the service's, mode "
           "0600). Roles: scanner, indexer, coder, archivist, roi, auditor, admin, and the restricted grant. "
           "Every change is logged in FILE.log.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc < 2)
    return cd_cli_usage(ctx, "users needs a subcommand");
  verb = argv[1];
  path = opt_users != NULL ? g_strdup(opt_users) : cd_user_directory_default_path();
  directory = cd_user_directory_open(path, g_strcmp0(verb, "add") == 0, &error);
  if (directory == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }

  if (g_strcmp0(verb, "list") == 0) {
    g_autoptr(GPtrArray) users = NULL;
    if (argc != 2)
      return cd_cli_usage(ctx, "users list takes no arguments");
    users = cd_user_directory_list(directory);
    cd_cli_print_users(users, opt_json);
    return CD_EXIT_OK;
  }
  if (argc < 3)
    return cd_cli_usage(ctx, "name the user");
  if (g_strcmp0(verb, "add") == 0) {
    g_auto(GStrv) roles = cd_cli_split_roles(opt_roles);
    g_autofree gchar *password = NULL;
    if (argc != 3)
      return cd_cli_usage(ctx, "users add takes one NAME");
    if (opt_password_stdin && (password = cd_cli_read_password(TRUE, &error)) == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    ok = cd_user_directory_add(directory, argv[2], opt_full_name, (const gchar *const *) roles, opt_unix_user, password,
                               &error);
  } else if (g_strcmp0(verb, "grant") == 0 || g_strcmp0(verb, "revoke") == 0) {
    if (argc != 4)
      return cd_cli_usage(ctx, "give NAME and ROLE");
    ok = verb[0] == 'g' ? cd_user_directory_grant(directory, argv[2], argv[3], &error)
                        : cd_user_directory_revoke(directory, argv[2], argv[3], &error);
  } else if (g_strcmp0(verb, "passwd") == 0) {
    g_autofree gchar *password = cd_cli_read_password(opt_password_stdin, &error);
    ok = password != NULL && cd_user_directory_set_password(directory, argv[2], password, &error);
  } else if (g_strcmp0(verb, "disable") == 0 || g_strcmp0(verb, "enable") == 0) {
    ok = cd_user_directory_set_active(directory, argv[2], verb[0] == 'e', &error);
  } else if (g_strcmp0(verb, "break-glass") == 0) {
    gint64 until;
    if (opt_minutes < 0 || opt_minutes > 24 * 60)
      return cd_cli_usage(ctx, "--minutes must be from 1 to 1440");
    until = cd_user_directory_break_glass(directory, argv[2], opt_reason, (guint) opt_minutes, &error);
    if (until > 0) {
      g_autoptr(GDateTime) end = g_date_time_new_from_unix_local(until / G_USEC_PER_SEC);
      g_autofree gchar *text = g_date_time_format(end, "%Y-%m-%d %H:%M");
      g_print("%s: break-the-glass until %s\n", argv[2], text);
    }
    ok = until > 0;
  } else {
    g_autofree gchar *message = g_strdup_printf("unknown subcommand '%s'", verb);
    return cd_cli_usage(ctx, message);
  }
  if (!ok) {
    return cd_cli_fail(error);
  }
  return CD_EXIT_OK;
}

static void
cd_cli_print_report_section(JsonObject *report, const gchar *name, const gchar *title)
{
  JsonArray *rows = json_object_get_array_member(report, name);

  g_print("%s: %u\n", title, json_array_get_length(rows));
  for (guint i = 0; i < json_array_get_length(rows); i++) {
    JsonObject *row = json_array_get_object_element(rows, i);
    const gchar *mrn = json_object_get_string_member_with_default(row, "mrn", NULL);
    const gchar *purpose = json_object_get_string_member_with_default(row, "purpose", NULL);
    g_print("  %s  %-24s %-12s %-14s %s%s%s\n", json_object_get_string_member(row, "ts"),
            json_object_get_string_member(row, "actor"), json_object_get_string_member(row, "action"),
            json_object_get_string_member(row, "object"), mrn != NULL ? mrn : "-", purpose != NULL ? "  " : "",
            purpose != NULL ? purpose : "");
  }
}

gint
cd_cli_access(gint argc, gchar **argv)
{
  g_autofree gchar *opt_user = NULL;
  g_autofree gchar *opt_mrn = NULL;
  g_autofree gchar *opt_from = NULL;
  g_autofree gchar *opt_to = NULL;
  gboolean opt_json = FALSE;
  const GOptionEntry entries[] = {
    { "user", 0, 0, G_OPTION_ARG_STRING, &opt_user, "Only this user's entries", "NAME" },
    { "mrn", 0, 0, G_OPTION_ARG_STRING, &opt_mrn, "Only entries about this patient", "MRN" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &opt_from, "Only on or after this day", "YYYY-MM-DD" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &opt_to, "Only on or before this day", "YYYY-MM-DD" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("report ARCHIVE — who read which patient's documents");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(JsonNode) report = NULL;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "The auditor's access report from the archive's audit log: reads (views, "
                                    "images, searches, exports) by user and patient, entries made under "
                                    "break-the-glass with their reason, and refused attempts.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 3 || g_strcmp0(argv[1], "report") != 0)
    return cd_cli_usage(ctx, "usage: chartdesk access report ARCHIVE");
  archive = cd_cli_open_archive(argv[2], CD_ARCHIVE_FLAG_NONE, &error);
  if (archive == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  cd_cli_set_user(archive, NULL);
  report = cd_archive_access_report(archive, opt_user, opt_mrn, opt_from, opt_to, &error);
  if (report == NULL) {
    return cd_cli_fail(error);
  }
  if (opt_json) {
    g_autofree gchar *text = json_to_string(report, TRUE);
    g_print("%s\n", text);
  } else {
    JsonObject *obj = json_node_get_object(report);
    cd_cli_print_report_section(obj, "reads", "Reads");
    cd_cli_print_report_section(obj, "break_glass", "Under break-the-glass");
    cd_cli_print_report_section(obj, "denied", "Refused");
  }
  return CD_EXIT_OK;
}
