/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk search`: full-text and filtered search, here or through chartdeskd.
 */
#include "config.h"

#include <stdio.h>

#include "cd-archive-spool.h"
#include "cd-cli-private.h"

gint
cd_cli_search(gint argc, gchar **argv)
{
  gboolean opt_service = FALSE;
  gboolean opt_no_service = FALSE;
  g_autofree gchar *opt_mrn = NULL;
  g_autofree gchar *opt_type = NULL;
  g_autofree gchar *opt_from = NULL;
  g_autofree gchar *opt_to = NULL;
  g_autofree gchar *opt_user = NULL;
  g_autofree gchar *opt_purpose = NULL;
  g_autofree gchar *opt_status = NULL;
  gint opt_limit = 20;
  gint opt_repeat = 0;
  gint opt_offset = 0;
  gboolean opt_plain = FALSE;
  gboolean opt_json = FALSE;
  const GOptionEntry entries[] = {
    { "mrn", 'm', 0, G_OPTION_ARG_STRING, &opt_mrn, "Only this patient's documents", "MRN" },
    { "type", 't', 0, G_OPTION_ARG_STRING, &opt_type, "Only documents of this type", "TYPE" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &opt_from, "Only documents dated on or after", "YYYY-MM-DD" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &opt_to, "Only documents dated on or before", "YYYY-MM-DD" },
    { "status", 0, 0, G_OPTION_ARG_STRING, &opt_status, "Only documents filed or waiting in review", "filed|review" },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &opt_limit, "At most this many hits (default 20)", "N" },
    { "offset", 0, 0, G_OPTION_ARG_INT, &opt_offset, "Skip this many hits", "N" },
    { "plain", 0, 0, G_OPTION_ARG_NONE, &opt_plain, "Search the words as typed, never as FTS5 syntax", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who to record in the audit log", "NAME" },
    { "purpose", 'p', 0, G_OPTION_ARG_STRING, &opt_purpose, "Why, for the audit log (a request number)", "TEXT" },
    { "service", 0, 0, G_OPTION_ARG_NONE, &opt_service, "Search through chartdeskd (default: when it runs)", NULL },
    { "no-service", 0, 0, G_OPTION_ARG_NONE, &opt_no_service, "Search here even if chartdeskd runs", NULL },
    { "repeat", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_repeat,
      "Benchmarks: run the search N more times here and print each time to stderr", "N" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE [WORDS…] — find pages by words, patient, type, date");
  /* ARCHIVE may be postgresql://… (issue 18): searched on the server */
  g_autoptr(CdDBusChartdesk1) service = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(CdPgArchive) pg = NULL; /* ARCHIVE is postgresql://… */
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(CdSearchResult) result = NULL;
  g_autoptr(JsonNode) service_json = NULL;
  g_autofree gchar *text = NULL;
  g_auto(GStrv) types = NULL;
  CdSearchQuery query = { 0 };

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Plain words must all appear on a page. Quotes, parentheses, * prefixes and "
                                    "AND/OR/NOT/NEAR make the text an SQLite FTS5 query:\n"
                                    "  chartdesk search charts.archive '\"chest pain\" OR dyspnea'\n"
                                    "--type takes a type of the taxonomy by its name, an alias or a former name, "
                                    "and finds\ndocuments stored under its current and former names.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc < 2)
    return cd_cli_usage(ctx, "search needs an archive");
  if (opt_limit <= 0 || opt_offset < 0)
    return cd_cli_usage(ctx, "--limit must be positive and --offset not negative");
  if (opt_repeat < 0)
    return cd_cli_usage(ctx, "--repeat must not be negative");

  /* the hospital's server is read here, as the login (chartdeskd searches
   * its own archives) */
  if (cd_archive_location_is_server(argv[1])) {
    if (opt_service)
      return cd_cli_usage(ctx, "--service searches the service's archive; a postgresql:// archive is searched here");
    pg = cd_cli_open_server(argv[1], CD_ARCHIVE_FLAG_NONE, opt_user, &error);
    if (pg == NULL)
      return cd_cli_fail_server(argv[1], error);
    cd_pg_archive_set_purpose(pg, opt_purpose);
  } else {
    service = cd_client_connect(cd_cli_service_mode(opt_service, opt_no_service), &error);
  }
  if (error != NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (service == NULL && pg == NULL) {
    archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_NONE, &error);
    if (archive == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    if (opt_user != NULL)
      cd_cli_set_user(archive, opt_user);
    cd_archive_set_purpose(archive, opt_purpose);
  }
  /* through the service, the service reads the type with its taxonomy */
  if (service == NULL && opt_type != NULL) {
    g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_default(&error);
    if (taxonomy == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    types = cd_taxonomy_resolve_search(taxonomy, opt_type, &error);
    if (types == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_USAGE;
    }
  }
  if (argc > 2)
    text = g_strjoinv(" ", argv + 2);
  query.text = text;
  query.plain = opt_plain;
  query.mrn = opt_mrn;
  query.doc_type = opt_type;
  query.doc_types = (const gchar *const *) types;
  query.date_from = opt_from;
  query.date_to = opt_to;
  query.limit = opt_limit;
  query.offset = opt_offset;
  query.status = opt_status;
  if (service != NULL) {
    /* the service's answer whole: the same JSON and totals as a search here */
    result = cd_client_search(service, argv[1], &query, opt_purpose, &service_json, &error);
    if (result != NULL)
      hits = g_ptr_array_ref(result->hits);
  } else {
    /* --repeat (the benchmark's in-process figure) answers as a
     * long-lived connection does, with its page cache */
    if (opt_repeat > 0 && archive != NULL)
      cd_archive_keep_pages(archive);
    result = pg != NULL ? cd_pg_archive_search(pg, &query, &error) : cd_archive_search_ex(archive, &query, &error);
    for (gint i = 0; result != NULL && i < opt_repeat; i++) {
      gint64 start = g_get_monotonic_time();
      g_autoptr(CdSearchResult) again =
          pg != NULL ? cd_pg_archive_search(pg, &query, &error) : cd_archive_search_ex(archive, &query, &error);
      if (again == NULL)
        g_clear_pointer(&result, cd_search_result_free);
      else
        g_printerr("search-ms %.3f %s\n", (g_get_monotonic_time() - start) / 1000.0, again->plan);
    }
    if (result != NULL)
      hits = g_ptr_array_ref(result->hits);
  }
  if (hits == NULL && pg != NULL) {
    cd_cli_fail_server(argv[1], error);
    return error->code == CD_ERROR_QUERY ? CD_EXIT_USAGE : CD_EXIT_FAILED;
  }
  if (hits == NULL) {
    cd_cli_print_error(error);
    return error->code == CD_ERROR_QUERY ? CD_EXIT_USAGE : CD_EXIT_FAILED;
  }
  if (opt_json) {
    g_autoptr(JsonNode) root =
        service_json != NULL ? g_steal_pointer(&service_json) : cd_search_result_to_hits_json(result, &query);
    g_autofree gchar *out = NULL;
    out = json_to_string(root, TRUE);
    g_print("%s\n", out);
    return CD_EXIT_OK;
  }
  if (hits->len == 0) {
    g_print("No matches.\n");
    return CD_EXIT_OK;
  }
  if (result != NULL) {
    g_print("%s%" G_GUINT64_FORMAT " %s; %u to %u", result->total_is_estimate ? "at least " : "", result->total,
            result->total == 1 ? "hit" : "hits", query.offset + 1, query.offset + hits->len);
    if (result->order == CD_SEARCH_ORDER_RECENT_RANK)
      g_print(" (a broad search: the %u most recently archived matches ranked, then the older ones newest first)",
              result->window);
    g_print("\n");
  }
  for (guint i = 0; i < hits->len; i++) {
    CdSearchHit *hit = g_ptr_array_index(hits, i);
    g_print("%u. document %" G_GINT64_FORMAT ", page %" G_GINT64_FORMAT "  MRN %s  %s  %s  [%s]\n",
            query.offset + i + 1, hit->document_id, hit->page_id, hit->patient_mrn != NULL ? hit->patient_mrn : "-",
            hit->doc_type != NULL ? hit->doc_type : "-", hit->date != NULL ? hit->date : "-",
            hit->status != NULL ? hit->status : "set aside");
    g_print("   %s, page %d\n", hit->source_path, hit->source_page + 1);
    if (hit->snippet != NULL) {
      g_autofree gchar *snip = g_strdup(hit->snippet);
      g_strdelimit(snip, "\n\r\f", ' ');
      g_print("   %s\n", snip);
    }
  }
  return CD_EXIT_OK;
}
