/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk audit`: an archive's audit log verified against its key and
 * anchor (a SQLite file, or the PostgreSQL server's chain and every
 * station's delivered chain), listed and exported for auditors.
 */
#include "config.h"

#include <gio/gunixoutputstream.h>
#include <stdio.h>
#include <unistd.h>

#include "cd-archive-spool.h"
#include "cd-cli-private.h"

static void
cd_cli_print_warnings(const gchar *name, JsonObject *obj)
{
  JsonArray *warnings = json_object_get_array_member(obj, "warnings");

  for (guint i = 0; warnings != NULL && i < json_array_get_length(warnings); i++)
    g_print("%s: warning: %s\n", name, json_array_get_string_element(warnings, i));
}

/* One chain of the server's report, as a line or two. */
static void
cd_cli_print_chain(const gchar *name, const gchar *label, JsonObject *chain, const gchar *how)
{
  JsonNode *bad = json_object_get_member(chain, "first_bad_entry");

  if (json_object_get_boolean_member(chain, "intact")) {
    g_print("%s: %s: intact%s: %" G_GINT64_FORMAT " entries (%" G_GINT64_FORMAT " keyed, %" G_GINT64_FORMAT
            " plain SHA-256)\n",
            name, label, how, json_object_get_int_member(chain, "entries"),
            json_object_get_int_member(chain, "keyed_entries"), json_object_get_int_member(chain, "legacy_entries"));
  } else {
    if (bad != NULL && !JSON_NODE_HOLDS_NULL(bad))
      g_print("%s: %s: first bad entry: %" G_GINT64_FORMAT "\n", name, label, json_node_get_int(bad));
    g_print("%s: %s: %s\n", name, label, json_object_get_string_member(chain, "problem"));
  }
  cd_cli_print_warnings(name, chain);
}

/* `NAME=FILE` of --station-key, loaded into @pg. */
static gboolean
cd_cli_station_keys(CdPgArchive *pg, gchar **station_keys, GError **error)
{
  for (guint i = 0; station_keys != NULL && station_keys[i] != NULL; i++) {
    g_auto(GStrv) parts = g_strsplit(station_keys[i], "=", 2);
    g_autoptr(GBytes) key = NULL;
    if (g_strv_length(parts) != 2 || parts[0][0] == '\0' || parts[1][0] == '\0') {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "--station-key %s: give NAME=FILE", station_keys[i]);
      return FALSE;
    }
    key = cd_audit_key_load(parts[1], FALSE, error);
    if (key == NULL) {
      g_prefix_error(error, "--station-key %s: ", parts[0]);
      return FALSE;
    }
    if (!cd_pg_archive_set_station_audit_key(pg, parts[0], key, error))
      return FALSE;
  }
  return TRUE;
}

/* `chartdesk audit verify postgresql://…` (and `chartdesk check` on the
 * server): 0 when every chain is intact, 1 otherwise. */
gint
cd_cli_audit_verify_server(const gchar *uri, gchar **station_keys, gboolean json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPgArchive) pg = NULL;
  g_autoptr(JsonNode) report = NULL;
  g_autofree gchar *name = cd_server_display_name(uri);
  JsonObject *obj;
  JsonArray *stations;
  gboolean intact;

  pg = cd_cli_open_server_audited(uri, NULL, &error);
  if (pg == NULL)
    return cd_cli_fail_server(uri, error);
  if (!cd_cli_station_keys(pg, station_keys, &error))
    return cd_cli_fail(error);
  report = cd_pg_archive_verify_audit_report(pg, &error);
  if (report == NULL)
    return cd_cli_fail_server(uri, error);
  obj = json_node_get_object(report);
  intact = json_object_get_boolean_member(obj, "intact");
  if (json) {
    cd_cli_print_json(report);
    return intact ? CD_EXIT_OK : CD_EXIT_FAILED;
  }
  cd_cli_print_chain(name, "the server's chain", json_object_get_object_member(obj, "server"), "");
  stations = json_object_get_array_member(obj, "stations");
  for (guint i = 0; i < json_array_get_length(stations); i++) {
    JsonObject *st = json_array_get_object_element(stations, i);
    g_autofree gchar *label = g_strdup_printf("station %s", json_object_get_string_member(st, "station"));
    gboolean keyed = g_strcmp0(json_object_get_string_member(st, "verified"), "key") == 0;
    cd_cli_print_chain(name, label, st, keyed ? " (verified with its key)" : " (links and plain hashes only: no key)");
  }
  return intact ? CD_EXIT_OK : CD_EXIT_FAILED;
}

static gint
cd_cli_audit_verify_sqlite(const gchar *path, const gchar *anchor, gboolean json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(JsonNode) report = NULL;
  JsonObject *obj;
  gboolean intact;

  archive = cd_cli_open_archive(path, CD_ARCHIVE_FLAG_NONE, &error);
  if (archive != NULL && anchor != NULL)
    cd_archive_set_audit_anchor(archive, anchor);
  if (archive != NULL)
    report = cd_archive_verify_audit_report(archive, &error);
  if (report == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  obj = json_node_get_object(report);
  intact = json_object_get_boolean_member(obj, "intact");
  if (json) {
    g_autofree gchar *out = json_to_string(report, TRUE);
    g_print("%s\n", out);
    return intact ? CD_EXIT_OK : CD_EXIT_FAILED;
  }
  if (intact) {
    g_print("%s: audit log intact: %" G_GINT64_FORMAT " entries (%" G_GINT64_FORMAT " keyed, %" G_GINT64_FORMAT
            " from before schema 4)\n",
            path, json_object_get_int_member(obj, "entries"), json_object_get_int_member(obj, "keyed_entries"),
            json_object_get_int_member(obj, "legacy_entries"));
  } else {
    JsonNode *bad = json_object_get_member(obj, "first_bad_entry");
    if (!JSON_NODE_HOLDS_NULL(bad))
      g_print("%s: first bad entry: %" G_GINT64_FORMAT "\n", path, json_node_get_int(bad));
    g_print("%s\n", json_object_get_string_member(obj, "problem"));
  }
  cd_cli_print_warnings(path, obj);
  return intact ? CD_EXIT_OK : CD_EXIT_FAILED;
}

static void
cd_cli_print_audit_rows(JsonNode *rows)
{
  JsonArray *array = json_node_get_array(rows);

  for (guint i = 0; i < json_array_get_length(array); i++) {
    JsonObject *row = json_array_get_object_element(array, i);
    const gchar *mrn = json_object_get_string_member_with_default(row, "mrn", NULL);
    const gchar *purpose = json_object_get_string_member_with_default(row, "purpose", NULL);
    const gchar *station = json_object_get_string_member_with_default(row, "station", NULL);
    g_print("%s  %-24s %-14s %-14s %-10s %s%s%s\n", json_object_get_string_member(row, "time"),
            json_object_get_string_member(row, "user"), json_object_get_string_member(row, "action"),
            json_object_get_string_member(row, "object"), mrn != NULL ? mrn : "-",
            station != NULL ? station : (json_object_has_member(row, "station") ? "server" : ""),
            purpose != NULL ? "  " : "", purpose != NULL ? purpose : "");
  }
}

typedef struct {
  gchar *user;
  gchar *mrn;
  gchar *from;
  gchar *to;
  gint limit;
  gint offset;
  gchar *format;
  gchar *output;
} CdAuditFilters;

static gint
cd_cli_audit_list(const gchar *location, CdAuditFilters *f, gboolean json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) rows = NULL;
  gint64 total = 0;

  if (cd_archive_location_is_server(location)) {
    g_autoptr(CdPgArchive) pg = cd_cli_open_server_audited(location, NULL, &error);
    if (pg == NULL)
      return cd_cli_fail_server(location, error);
    rows = cd_pg_archive_list_audit(pg, f->user, f->mrn, f->from, f->to, (guint) f->limit, (guint) f->offset, &total,
                                    &error);
    if (rows == NULL)
      return cd_cli_fail_server(location, error);
  } else {
    g_autoptr(CdArchive) archive = cd_cli_open_archive(location, CD_ARCHIVE_FLAG_NONE, &error);
    if (archive == NULL)
      return cd_cli_fail(error);
    cd_cli_set_user(archive, NULL);
    rows = cd_archive_list_audit(archive, f->user, f->mrn, f->from, f->to, (guint) f->limit, (guint) f->offset, &total,
                                 &error);
    if (rows == NULL)
      return cd_cli_fail(error);
  }
  if (json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "total");
    json_builder_add_int_value(b, total);
    json_builder_set_member_name(b, "entries");
    json_builder_add_value(b, json_node_copy(rows));
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    cd_cli_print_json(root);
    return CD_EXIT_OK;
  }
  cd_cli_print_audit_rows(rows);
  g_print("%u of %" G_GINT64_FORMAT " entries\n", json_array_get_length(json_node_get_array(rows)), total);
  return CD_EXIT_OK;
}

static gint
cd_cli_audit_export(const gchar *location, CdAuditFilters *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPgArchive) pg = NULL;
  g_autoptr(GOutputStream) out = NULL;
  g_autoptr(GFile) file = NULL;
  guint64 n = 0;

  if (!cd_archive_location_is_server(location)) {
    g_printerr("chartdesk: %s: audit export needs a PostgreSQL archive (on a SQLite archive: audit list --json, or "
               "the web API's audit listing)\n",
               location);
    return CD_EXIT_USAGE;
  }
  pg = cd_cli_open_server_audited(location, NULL, &error);
  if (pg == NULL)
    return cd_cli_fail_server(location, error);
  if (f->output != NULL && g_strcmp0(f->output, "-") != 0) {
    file = g_file_new_for_commandline_arg(f->output);
    out = G_OUTPUT_STREAM(g_file_replace(file, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, &error));
    if (out == NULL)
      return cd_cli_fail(error);
  } else {
    out = g_unix_output_stream_new(STDOUT_FILENO, FALSE);
  }
  if (!cd_pg_archive_export_audit(pg, f->user, f->mrn, f->from, f->to, f->format != NULL ? f->format : "csv", out, &n,
                                  NULL, &error) ||
      !g_output_stream_close(out, NULL, &error))
    return cd_cli_fail_server(location, error);
  if (file != NULL)
    g_printerr("%s: %" G_GUINT64_FORMAT " audit entries written to %s\n", location, n, f->output);
  return CD_EXIT_OK;
}

/* `chartdesk audit verify|list|export ARCHIVE`: verify is 0 when the log
 * is intact, 1 with the first bad entry and what is wrong otherwise; 2 for
 * a usage error. */
gint
cd_cli_audit(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  g_autofree gchar *opt_anchor = NULL;
  g_auto(GStrv) opt_station_keys = NULL;
  CdAuditFilters f = { 0 };
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the verification or the listing as JSON", NULL },
    { "anchor", 0, 0, G_OPTION_ARG_FILENAME, &opt_anchor, "The anchor file (SQLite; default: ARCHIVE.audit-anchor)",
      "FILE" },
    { "station-key", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_station_keys,
      "verify on the server: station NAME's chain with its key (repeat for each station)", "NAME=FILE" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &f.user, "list, export: only this user's entries", "NAME" },
    { "mrn", 0, 0, G_OPTION_ARG_STRING, &f.mrn, "list, export: only entries about this patient", "MRN" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &f.from, "list, export: only on or after this day", "YYYY-MM-DD" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &f.to, "list, export: only on or before this day", "YYYY-MM-DD" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &f.limit, "list: the most entries (default 100)", "N" },
    { "offset", 0, 0, G_OPTION_ARG_INT, &f.offset, "list: entries to skip", "N" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &f.format, "export: csv (default) or json", "FORMAT" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &f.output, "export: the file to write (default: stdout)", "FILE" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx =
      g_option_context_new("verify|list|export ARCHIVE — verify, list or export the audit log");
  g_autoptr(GError) error = NULL;
  gint rc;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(
      ctx, "verify: every entry of the audit log against its keyed chain (HMAC-SHA256 with the audit key),\nthe "
           "entries older than schema 4 against their plain chain and seal, and the newest entries\nagainst the "
           "anchor beside the archive and in the batch journal. On a PostgreSQL archive:\nthe server's own chain "
           "(--audit-key: the server's key) and every station's delivered chain\n(with --station-key NAME=FILE, "
           "else its links and plain hashes only). Exit status 0: intact;\n1: the first bad entry and what is "
           "wrong are printed.\n\nlist, export: who saw what (by --user, --mrn, --from, --to), newest first; for "
           "auditors.\nexport (PostgreSQL): every matching entry as CSV or JSON.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    rc = cd_cli_usage(ctx, error->message);
  else if (argc != 3 ||
           (g_strcmp0(argv[1], "verify") != 0 && g_strcmp0(argv[1], "list") != 0 && g_strcmp0(argv[1], "export") != 0))
    rc = cd_cli_usage(ctx, "give verify ARCHIVE, list ARCHIVE or export ARCHIVE");
  else if (f.limit < 0 || f.offset < 0)
    rc = cd_cli_usage(ctx, "--limit and --offset cannot be negative");
  else if (g_strcmp0(argv[1], "verify") == 0)
    rc = cd_archive_location_is_server(argv[2]) ? cd_cli_audit_verify_server(argv[2], opt_station_keys, opt_json)
                                                : cd_cli_audit_verify_sqlite(argv[2], opt_anchor, opt_json);
  else if (g_strcmp0(argv[1], "list") == 0)
    rc = cd_cli_audit_list(argv[2], &f, opt_json);
  else
    rc = cd_cli_audit_export(argv[2], &f);
  g_free(f.user);
  g_free(f.mrn);
  g_free(f.from);
  g_free(f.to);
  g_free(f.format);
  g_free(f.output);
  return rc;
}
