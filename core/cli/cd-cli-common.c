/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What every `chartdesk` command shares: the log writer, error and usage
 * messages that do not mix with a progress line, option parsing, the
 * plugin registry, and the one way a command opens an archive (with the
 * audit key).
 */
#include "config.h"

#include <stdio.h>

#include "cd-archive-spool.h"
#include "cd-cli-private.h"

static gboolean cli_verbose;          /* --verbose of the running command */
static gboolean cli_progress_visible; /* a progress line is on the terminal */

void
cd_cli_set_verbose(gboolean verbose)
{
  cli_verbose = verbose;
}

void
cd_cli_set_progress_visible(gboolean visible)
{
  cli_progress_visible = visible;
}

/* Clears a progress line being drawn, so a message starts on a clean line;
 * returns whether there was one. */
gboolean
cd_cli_clear_progress(void)
{
  if (!cli_progress_visible)
    return FALSE;
  fputs("\r\033[K", stderr);
  cli_progress_visible = FALSE;
  return TRUE;
}

CdClientMode
cd_cli_service_mode(gboolean service, gboolean no_service)
{
  return service ? CD_CLIENT_REQUIRE : no_service ? CD_CLIENT_NEVER : CD_CLIENT_AUTO;
}

/* Operator-facing log lines: `chartdesk: message`, no GLib decoration;
 * debug only with --verbose (or G_MESSAGES_DEBUG). A progress line being
 * drawn is cleared first so the two do not mix. */
GLogWriterOutput
cd_cli_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const gchar *message = NULL;
  const gchar *domain = NULL;

  if ((level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) != 0 && !cli_verbose && g_getenv("G_MESSAGES_DEBUG") == NULL)
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n_fields; i++) {
    if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
    else if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
  }
  if (message == NULL)
    return G_LOG_WRITER_UNHANDLED;
  cd_cli_clear_progress();
  if ((level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) != 0)
    fprintf(stderr, "chartdesk: internal error: %s%s%s\n", domain != NULL ? domain : "", domain != NULL ? ": " : "",
            message);
  else if ((level & G_LOG_LEVEL_WARNING) != 0)
    fprintf(stderr, "chartdesk: warning: %s\n", message);
  else
    fprintf(stderr, "chartdesk: %s\n", message);
  return G_LOG_WRITER_HANDLED;
}

void
cd_cli_print_error(const GError *error)
{
  cd_cli_clear_progress();
  fprintf(stderr, "chartdesk: %s\n", error->message);
}

/* Prints @error; the exit status: usage for a malformed argument the
 * library refused, else failure. */
gint
cd_cli_fail(const GError *error)
{
  cd_cli_print_error(error);
  return g_error_matches(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT) ? CD_EXIT_USAGE : CD_EXIT_FAILED;
}

/* @node as indented JSON on standard output. */
void
cd_cli_print_json(JsonNode *node)
{
  g_autofree gchar *text = json_to_string(node, TRUE);
  g_print("%s\n", text);
}

/* Parses a subcommand's options; --help exits 0 through GOption. */
gboolean
cd_cli_parse(GOptionContext *ctx, gint *argc, gchar ***argv, GError **error)
{
  g_option_context_set_help_enabled(ctx, TRUE);
  return g_option_context_parse(ctx, argc, argv, error);
}

/* Says what is wrong with the command line, then the command's help;
 * returns the usage exit status for the caller to return. */
gint
cd_cli_usage(GOptionContext *ctx, const gchar *message)
{
  g_autofree gchar *help = g_option_context_get_help(ctx, TRUE, NULL);
  fprintf(stderr, "chartdesk: %s\n\n%s", message, help);
  return CD_EXIT_USAGE;
}

CdRegistry *
cd_cli_load_registry(void)
{
  CdRegistry *registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);
  return registry;
}

static gchar *opt_audit_key; /* --audit-key, for the life of the process */

static const GOptionEntry cd_cli_archive_entries[] = {
  { "audit-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_audit_key,
    "The audit log's key (default: CHARTDESK_AUDIT_KEY, else ~/.config/chartdesk/audit.key)", "FILE" },
  { NULL },
};

/* The --audit-key given, NULL if none (`audit` on the server: the server's key). */
const gchar *
cd_cli_get_audit_key(void)
{
  return opt_audit_key;
}

/* Adds the options of every command that opens an archive to its --help. */
void
cd_cli_add_archive_options(GOptionContext *ctx)
{
  g_option_context_add_main_entries(ctx, cd_cli_archive_entries, NULL);
}

/* Opens an archive as every command does: with the audit key of
 * --audit-key when given (it must exist), else the library's default (the
 * environment's or the user's key file, created on first use). */
CdArchive *
cd_cli_open_archive(const gchar *path, CdArchiveFlags flags, GError **error)
{
  g_autoptr(CdArchive) archive = NULL;

  /* the hospital's server has commands of its own (issue 18): never a
   * file named after its URI */
  if (cd_archive_location_is_server(path)) {
    g_autofree gchar *server = cd_server_display_name(path);
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "%s: a PostgreSQL archive: this command needs a SQLite archive (on the server: search, show, "
                "hold, audit, check, archive copy and archive deliver)",
                server);
    return NULL;
  }
  archive = cd_archive_open(path, flags, error);
  if (archive == NULL)
    return NULL;
  if (opt_audit_key != NULL && !cd_archive_set_audit_key_file(archive, opt_audit_key, error))
    return NULL;
  return g_steal_pointer(&archive);
}

/* Accepts `document:12`, `page:40` or a bare document id. */
gboolean
cd_cli_parse_ref(const gchar *ref, gboolean *is_page, gint64 *id)
{
  const gchar *num = ref;
  guint64 v;

  *is_page = FALSE;
  if (g_str_has_prefix(ref, "page:")) {
    *is_page = TRUE;
    num = ref + 5;
  } else if (g_str_has_prefix(ref, "document:")) {
    num = ref + 9;
  } else if (g_str_has_prefix(ref, "doc:")) {
    num = ref + 4;
  }
  if (!g_ascii_string_to_unsigned(num, 10, 1, G_MAXINT64, &v, NULL))
    return FALSE;
  *id = v;
  return TRUE;
}
