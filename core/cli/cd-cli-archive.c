/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk archive`: the hospital's archive on PostgreSQL (issue 18,
 * part 2). `copy` moves an SQLite archive into the server (a delivery as
 * station `copy:BASENAME`, then verified) or the server's archive into a
 * new SQLite file; `deliver` runs one delivery pass of a station's spool.
 */
#include "config.h"

#include <stdio.h>

#include "cd-archive-spool.h"
#include "cd-cli-private.h"

/* What a delivery did, as text or JSON. */
static void
cd_cli_print_deliver_stats(const CdDeliverStats *stats, const gchar *station, const gchar *server, gboolean json)
{
  if (json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "server");
    json_builder_add_string_value(b, server);
    json_builder_set_member_name(b, "station");
    json_builder_add_string_value(b, station);
    json_builder_set_member_name(b, "documents");
    json_builder_add_int_value(b, (gint64) stats->documents);
    json_builder_set_member_name(b, "pages");
    json_builder_add_int_value(b, (gint64) stats->pages);
    json_builder_set_member_name(b, "already");
    json_builder_add_int_value(b, (gint64) stats->already);
    json_builder_set_member_name(b, "duplicates");
    json_builder_add_int_value(b, (gint64) stats->duplicates);
    json_builder_set_member_name(b, "audit_entries");
    json_builder_add_int_value(b, (gint64) stats->audit_entries);
    json_builder_set_member_name(b, "set_aside");
    json_builder_add_int_value(b, (gint64) stats->set_aside);
    json_builder_set_member_name(b, "changes");
    json_builder_add_int_value(b, (gint64) stats->changes);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    cd_cli_print_json(root);
    return;
  }
  g_print("Delivered to %s as station %s: %" G_GUINT64_FORMAT " documents (%" G_GUINT64_FORMAT
          " pages), %" G_GUINT64_FORMAT " the server already had, %" G_GUINT64_FORMAT
          " duplicates of another station's, %" G_GUINT64_FORMAT " pages set aside, %" G_GUINT64_FORMAT
          " changes to delivered documents, %" G_GUINT64_FORMAT " audit entries\n",
          server, station, stats->documents, stats->pages, stats->already, stats->duplicates, stats->set_aside,
          stats->changes, stats->audit_entries);
}

/* Prints an error about the server at @uri as `chartdesk: SERVER: what
 * failed` (never its password); returns the failure exit status. */
gint
cd_cli_fail_server(const gchar *uri, const GError *error)
{
  g_autofree gchar *server = cd_server_display_name(uri);
  g_autofree gchar *message = cd_server_error_message(uri, error->message);

  cd_cli_clear_progress();
  g_printerr("chartdesk: %s: %s\n", server, message);
  return CD_EXIT_FAILED;
}

/* Opens the server as the command line reads a SQLite archive: the
 * administrator's mode as the login, `--user` beside it (cd_cli_set_user). */
CdPgArchive *
cd_cli_open_server(const gchar *uri, CdArchiveFlags flags, const gchar *user, GError **error)
{
  g_autoptr(CdPgArchive) pg = cd_pg_archive_open(uri, flags, error);
  g_autoptr(CdPrincipal) principal = NULL;

  if (pg == NULL)
    return NULL;
  principal = cd_principal_new_admin_mode(g_get_user_name(), user);
  cd_pg_archive_set_principal(pg, principal);
  return g_steal_pointer(&pg);
}

/* The server opened for a command that writes its audit chain (`audit`,
 * `hold`): as cd_cli_open_server(), with the server's key of --audit-key
 * when given (else the library's, CHARTDESK_SERVER_AUDIT_KEY). */
CdPgArchive *
cd_cli_open_server_audited(const gchar *uri, const gchar *user, GError **error)
{
  g_autoptr(CdPgArchive) pg = cd_cli_open_server(uri, CD_ARCHIVE_FLAG_NONE, user, error);

  if (pg == NULL)
    return NULL;
  if (cd_cli_get_audit_key() != NULL && !cd_pg_archive_set_audit_key_file(pg, cd_cli_get_audit_key(), error))
    return NULL;
  return g_steal_pointer(&pg);
}

/* The documents a summary counts: its "documents" member, at the top or
 * under "counts"; -1 if it has none. */
static gint64
cd_cli_summary_documents(JsonNode *summary)
{
  JsonObject *obj = json_node_get_object(summary);
  JsonNode *counts = json_object_get_member(obj, "counts");

  if (counts != NULL && JSON_NODE_HOLDS_OBJECT(counts) &&
      json_object_has_member(json_node_get_object(counts), "documents"))
    return json_object_get_int_member(json_node_get_object(counts), "documents");
  return json_object_get_int_member_with_default(obj, "documents", -1);
}

/* Whether a source and the server that holds its documents only agree:
 * every count, the image hashes (sorted by hash: the same set gives the
 * same hash on both sides) and the page texts in (file hash, page) order
 * (source_texts_sha256). The page-text hash in page-id order is printed,
 * not compared: a delivery stores a batch's set-aside pages after its
 * documents, so the server's ids are not the source's order (the copy
 * back, which keeps the server's ids, compares it). */
static gboolean
cd_cli_summaries_agree(JsonNode *source, JsonNode *server, GError **error)
{
  JsonObject *a = json_node_get_object(source);
  JsonObject *b = json_node_get_object(server);
  JsonNode *ca = json_object_get_member(a, "counts");
  JsonNode *cb = json_object_get_member(b, "counts");
  g_autoptr(GList) tables = NULL;

  if (ca == NULL || cb == NULL || !JSON_NODE_HOLDS_OBJECT(ca) || !JSON_NODE_HOLDS_OBJECT(cb)) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "a summary without counts");
    return FALSE;
  }
  tables = json_object_get_members(json_node_get_object(ca));
  for (GList *l = tables; l != NULL; l = l->next) {
    gint64 x = json_object_get_int_member(json_node_get_object(ca), l->data);
    gint64 y = json_object_get_int_member_with_default(json_node_get_object(cb), l->data, -1);
    if (x != y) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                  "%s: %" G_GINT64_FORMAT " in the source, %" G_GINT64_FORMAT " on the server", (const gchar *) l->data,
                  x, y);
      return FALSE;
    }
  }
  if (g_strcmp0(json_object_get_string_member_with_default(a, "images_sha256", NULL),
                json_object_get_string_member_with_default(b, "images_sha256", "")) != 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the page images differ (images_sha256)");
    return FALSE;
  }
  if (g_strcmp0(json_object_get_string_member_with_default(a, "source_texts_sha256", NULL),
                json_object_get_string_member_with_default(b, "source_texts_sha256", "")) != 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the page texts differ (source_texts_sha256)");
    return FALSE;
  }
  return TRUE;
}

/* Two summaries side by side, a line per count or hash (nested objects
 * flattened as `outer.inner`). */
static void
cd_cli_print_summaries(JsonNode *a, JsonNode *b, const gchar *name_a, const gchar *name_b)
{
  JsonObject *ob = json_node_get_object(b);
  g_autoptr(GList) members = json_object_get_members(json_node_get_object(a));

  g_print("%-22s %-28s %s\n", "", name_a, name_b);
  for (GList *l = members; l != NULL; l = l->next) {
    JsonNode *node = json_object_get_member(json_node_get_object(a), l->data);
    JsonNode *other = json_object_get_member(ob, l->data);
    if (JSON_NODE_HOLDS_OBJECT(node)) {
      g_autoptr(GList) inner = json_object_get_members(json_node_get_object(node));
      for (GList *m = inner; m != NULL; m = m->next) {
        JsonNode *x = json_object_get_member(json_node_get_object(node), m->data);
        JsonNode *y = other != NULL && JSON_NODE_HOLDS_OBJECT(other)
                          ? json_object_get_member(json_node_get_object(other), m->data)
                          : NULL;
        g_autofree gchar *label = g_strdup_printf("%s.%s", (const gchar *) l->data, (const gchar *) m->data);
        g_autofree gchar *sx = json_to_string(x, FALSE);
        g_autofree gchar *sy = y != NULL ? json_to_string(y, FALSE) : g_strdup("-");
        g_print("%-22s %-28.28s %.28s\n", label, sx, sy);
      }
    } else {
      g_autofree gchar *sx = json_to_string(node, FALSE);
      g_autofree gchar *sy = other != NULL ? json_to_string(other, FALSE) : g_strdup("-");
      g_print("%-22s %-28.28s %.28s\n", (const gchar *) l->data, sx, sy);
    }
  }
}

/* SQLITE-FILE → server: delivered as a station, then verified against
 * what the source holds. */
static gint
cd_cli_archive_copy_in(const gchar *src, const gchar *dst, const gchar *station_opt, gboolean json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) spool = NULL;
  g_autoptr(CdPgArchive) pg = NULL;
  g_autoptr(JsonNode) server_summary = NULL;
  g_autofree gchar *server = cd_server_display_name(dst);
  g_autofree gchar *base = g_path_get_basename(src);
  g_autofree gchar *station = station_opt != NULL ? g_strdup(station_opt) : g_strdup_printf("copy:%s", base);
  g_autoptr(JsonNode) source_summary = NULL;
  g_autoptr(GError) mismatch = NULL;
  CdDeliverStats stats = { 0 };
  gint64 source_documents;
  guint64 counted;
  gboolean counts_ok;
  gboolean only_station;
  gboolean hashes_ok = TRUE;

  if (!g_file_test(src, G_FILE_TEST_IS_REGULAR)) {
    g_printerr("chartdesk: %s: no such archive\n", src);
    return CD_EXIT_FAILED;
  }
  spool = cd_cli_open_archive(src, CD_ARCHIVE_FLAG_NONE, &error);
  if (spool == NULL)
    return cd_cli_fail(error);
  cd_cli_set_user(spool, NULL);
  pg = cd_cli_open_server(dst, CD_ARCHIVE_FLAG_CREATE, NULL, &error);
  if (pg == NULL) {
    return cd_cli_fail_server(dst, error);
  }
  /* a copy that stopped is run again: the server keeps what it has from
   * this station and takes the rest */
  if (!cd_pg_archive_deliver(pg, spool, station, &stats, NULL, &error)) {
    g_autofree gchar *message = cd_server_error_message(dst, error->message);
    g_printerr("chartdesk: copying %s to %s: %s (run the same command again to continue)\n", src, server, message);
    return CD_EXIT_FAILED;
  }
  if (!json)
    cd_cli_print_deliver_stats(&stats, station, server, FALSE);

  /* verification. Counts: every document of the source is on the server
   * for this station (stored now, stored by an earlier run, or a
   * duplicate of another station's). Hashes: the source's summary against
   * the server's, which are the same archive when the server holds this
   * station's documents only (a migration into a new server); with other
   * stations on it the server's are printed beside, not compared. */
  source_documents = cd_archive_count_documents(spool, &error);
  if (source_documents < 0)
    return cd_cli_fail(error);
  source_summary = cd_pg_archive_sqlite_summary(spool, &error);
  if (source_summary == NULL)
    return cd_cli_fail(error);
  server_summary = cd_pg_archive_summary(pg, &error);
  if (server_summary == NULL)
    return cd_cli_fail_server(dst, error);
  counted = stats.documents + stats.already + stats.duplicates;
  counts_ok = counted == (guint64) source_documents;
  only_station = stats.duplicates == 0 && cd_cli_summary_documents(server_summary) == source_documents && counts_ok;
  if (only_station)
    hashes_ok = cd_cli_summaries_agree(source_summary, server_summary, &mismatch);
  if (json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "station");
    json_builder_add_string_value(b, station);
    json_builder_set_member_name(b, "source_documents");
    json_builder_add_int_value(b, source_documents);
    json_builder_set_member_name(b, "delivered");
    json_builder_add_int_value(b, (gint64) stats.documents);
    json_builder_set_member_name(b, "pages");
    json_builder_add_int_value(b, (gint64) stats.pages);
    json_builder_set_member_name(b, "already");
    json_builder_add_int_value(b, (gint64) stats.already);
    json_builder_set_member_name(b, "duplicates");
    json_builder_add_int_value(b, (gint64) stats.duplicates);
    json_builder_set_member_name(b, "source");
    json_builder_add_value(b, json_node_copy(source_summary));
    json_builder_set_member_name(b, "server");
    json_builder_add_value(b, json_node_copy(server_summary));
    json_builder_set_member_name(b, "hashes_compared");
    json_builder_add_boolean_value(b, only_station);
    json_builder_set_member_name(b, "verified");
    json_builder_add_boolean_value(b, counts_ok && hashes_ok);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    cd_cli_print_json(root);
  } else {
    g_print("Documents: %" G_GINT64_FORMAT " in %s, %" G_GUINT64_FORMAT
            " on the server for station %s (%" G_GUINT64_FORMAT " of them duplicates of another station's)%s\n",
            source_documents, src, counted, station, stats.duplicates, counts_ok ? "" : "  MISMATCH");
    cd_cli_print_summaries(source_summary, server_summary, src, server);
    if (!only_station)
      g_print("The server holds other stations' documents too: the hashes above are of the whole archive and "
              "are not compared.\n");
  }
  if (!counts_ok) {
    g_printerr("chartdesk: %s: mismatch: the source has %" G_GINT64_FORMAT
               " documents, the server holds %" G_GUINT64_FORMAT " of them for station %s\n",
               server, source_documents, counted, station);
    return CD_EXIT_FAILED;
  }
  if (!hashes_ok) {
    g_printerr("chartdesk: %s: mismatch: %s\n", server, mismatch != NULL ? mismatch->message : "summaries differ");
    return CD_EXIT_FAILED;
  }
  if (!json)
    g_print("Verified: %s is on %s as station %s\n", src, server, station);
  return CD_EXIT_OK;
}

gint
cd_cli_archive(gint argc, gchar **argv)
{
  g_autofree gchar *opt_station = NULL;
  gboolean opt_json = FALSE;
  const GOptionEntry entries[] = {
    { "station", 's', 0, G_OPTION_ARG_STRING, &opt_station,
      "deliver: the station's name (required); copy: the station to deliver as (default copy:BASENAME)", "NAME" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx =
      g_option_context_new("copy SRC DST | deliver SPOOL SERVER --station NAME | optimize SQLITE-FILE");
  g_autoptr(GError) error = NULL;
  const gchar *verb;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(
      ctx, "One archive for a hospital on PostgreSQL (SERVER: postgresql://…, a libpq URI).\n"
           "  copy SQLITE-FILE SERVER   deliver the archive as station copy:BASENAME (or --station),\n"
           "                            then verify counts and hashes; exit 1 on a mismatch\n"
           "  copy SERVER SQLITE-FILE   the server's archive into a new SQLite file, verified;\n"
           "                            run it again after an interrupt: it continues\n"
           "  deliver SPOOL SERVER --station NAME\n"
           "                            one delivery pass of a station's SQLite archive: every\n"
           "                            committed document the server lacks, each exactly once\n"
           "  optimize SQLITE-FILE      merge the archive's search index into one segment (page\n"
           "                            lookups in it get cheaper; it rewrites the whole index)");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc < 2)
    return cd_cli_usage(ctx, "archive needs copy, deliver or optimize");
  verb = argv[1];
  if (g_strcmp0(verb, "copy") == 0) {
    if (argc != 4)
      return cd_cli_usage(ctx, "usage: chartdesk archive copy SRC DST");
    if (!cd_archive_location_is_server(argv[2]) && cd_archive_location_is_server(argv[3]))
      return cd_cli_archive_copy_in(argv[2], argv[3], opt_station, opt_json);
    if (cd_archive_location_is_server(argv[2]) && !cd_archive_location_is_server(argv[3])) {
      g_autofree gchar *server = cd_server_display_name(argv[2]);
      g_autoptr(CdPgArchive) pg = cd_cli_open_server(argv[2], CD_ARCHIVE_FLAG_NONE, NULL, &error);
      if (pg == NULL || !cd_pg_archive_copy_to_sqlite(pg, argv[3], NULL, &error)) {
        g_autofree gchar *message = cd_server_error_message(argv[2], error->message);
        /* a refused target is not an interrupted copy */
        gboolean resumable = !g_error_matches(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
        g_printerr("chartdesk: copying %s to %s: %s%s\n", server, argv[3], message,
                   resumable ? " (run the same command again to continue)" : "");
        if (!resumable)
          return CD_EXIT_USAGE;
        return CD_EXIT_FAILED;
      }
      g_print("Copied %s to %s, verified\n", server, argv[3]);
      return CD_EXIT_OK;
    }
    return cd_cli_usage(ctx, "copy goes from an SQLite archive to postgresql://… or back");
  }
  if (g_strcmp0(verb, "optimize") == 0) {
    g_autoptr(CdArchive) archive = NULL;
    gint before = -1, after = -1;

    if (argc != 3 || cd_archive_location_is_server(argv[2]))
      return cd_cli_usage(ctx, "usage: chartdesk archive optimize SQLITE-FILE");
    if (!g_file_test(argv[2], G_FILE_TEST_IS_REGULAR)) {
      g_printerr("chartdesk: %s: no such archive\n", argv[2]);
      return CD_EXIT_FAILED;
    }
    archive = cd_cli_open_archive(argv[2], CD_ARCHIVE_FLAG_WRITER, &error);
    if (archive == NULL)
      return cd_cli_fail(error);
    cd_cli_set_user(archive, NULL);
    if (!opt_json)
      g_printerr("Merging the search index of %s (%d segments): this rewrites the whole index\n", argv[2],
                 cd_archive_search_index_segments(archive));
    if (!cd_archive_optimize_search_index(archive, &before, &after, &error))
      return cd_cli_fail(error);
    if (opt_json) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      g_autoptr(JsonNode) node = NULL;
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "segments_before");
      json_builder_add_int_value(b, before);
      json_builder_set_member_name(b, "segments_after");
      json_builder_add_int_value(b, after);
      json_builder_end_object(b);
      node = json_builder_get_root(b);
      cd_cli_print_json(node);
    } else {
      g_print("The search index of %s: %d segments merged into %d\n", argv[2], before, after);
    }
    return CD_EXIT_OK;
  }
  if (g_strcmp0(verb, "deliver") == 0) {
    g_autoptr(CdArchive) spool = NULL;
    g_autoptr(CdPgArchive) pg = NULL;
    g_autofree gchar *server = NULL;
    CdDeliverStats stats = { 0 };

    if (argc != 4 || !cd_archive_location_is_server(argv[3]))
      return cd_cli_usage(ctx, "usage: chartdesk archive deliver SPOOL postgresql://… --station NAME");
    if (opt_station == NULL || opt_station[0] == '\0')
      return cd_cli_usage(ctx, "deliver needs --station NAME");
    server = cd_server_display_name(argv[3]);
    if (!g_file_test(argv[2], G_FILE_TEST_IS_REGULAR)) {
      g_printerr("chartdesk: %s: no such archive\n", argv[2]);
      return CD_EXIT_FAILED;
    }
    spool = cd_cli_open_archive(argv[2], CD_ARCHIVE_FLAG_NONE, &error);
    if (spool == NULL)
      return cd_cli_fail(error);
    cd_cli_set_user(spool, NULL);
    pg = cd_cli_open_server(argv[3], CD_ARCHIVE_FLAG_CREATE, NULL, &error);
    if (pg == NULL)
      return cd_cli_fail_server(argv[3], error);
    if (!cd_pg_archive_deliver(pg, spool, opt_station, &stats, NULL, &error)) {
      g_autofree gchar *message = cd_server_error_message(argv[3], error->message);
      g_printerr("chartdesk: delivering %s to %s: %s\n", argv[2], server, message);
      return CD_EXIT_FAILED;
    }
    cd_cli_print_deliver_stats(&stats, opt_station, server, opt_json);
    return CD_EXIT_OK;
  }
  {
    g_autofree gchar *message = g_strdup_printf("unknown subcommand '%s'", verb);
    return cd_cli_usage(ctx, message);
  }
}
