/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>
#include <unistd.h>

#include "cd-cli-private.h"
#include "cd-client.h"

/* Whether a session bus can be reached without starting anything: an
 * address in the environment or the per-user socket. Never autolaunch a
 * bus just to find out that no service runs. */
static gboolean
cd_client_have_session_bus(void)
{
  g_autofree gchar *socket = NULL;
  if (g_getenv("DBUS_SESSION_BUS_ADDRESS") != NULL)
    return TRUE;
  socket = g_build_filename(g_get_user_runtime_dir(), "bus", NULL);
  return g_file_test(socket, G_FILE_TEST_EXISTS);
}

/**
 * cd_client_connect:
 * @mode: what the user asked for
 * @error: return location for a #GError
 *
 * Finds chartdeskd. In auto mode a service that is not running, or no
 * session bus at all, is not an error: the command runs standalone.
 *
 * Returns: (transfer full) (nullable): a proxy, or %NULL (with @error set
 *   only when the service was required and cannot be reached)
 */
CdDBusChartdesk1 *
cd_client_connect(CdClientMode mode, GError **error)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(CdDBusChartdesk1) proxy = NULL;
  g_autoptr(GError) error_local = NULL;
  gboolean owned = FALSE;

  if (mode == CD_CLIENT_NEVER || (mode == CD_CLIENT_AUTO && !cd_client_have_session_bus()))
    return NULL;
  cd_service_register_errors();
  bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &error_local);
  if (bus == NULL) {
    if (mode == CD_CLIENT_REQUIRE)
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no session bus to reach chartdeskd: %s", error_local->message);
    return NULL;
  }
  if (mode == CD_CLIENT_AUTO) {
    reply = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                        "NameHasOwner", g_variant_new("(s)", CD_SERVICE_BUS_NAME),
                                        G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, 2000, NULL, NULL);
    if (reply != NULL)
      g_variant_get(reply, "(b)", &owned);
    if (!owned)
      return NULL;
  }
  proxy = cd_dbus_chartdesk1_proxy_new_sync(bus, G_DBUS_PROXY_FLAGS_NONE, CD_SERVICE_BUS_NAME, CD_SERVICE_OBJECT_PATH,
                                            NULL, error);
  if (proxy == NULL)
    return NULL;
  /* --service may start it through D-Bus activation; a property read does */
  if (cd_dbus_chartdesk1_get_version(proxy) == NULL) {
    g_autoptr(GVariant) batches = NULL;
    if (!cd_dbus_chartdesk1_call_list_batches_sync(proxy, &batches, NULL, error)) {
      g_prefix_error(error, "chartdeskd: ");
      return NULL;
    }
  }
  g_info("using chartdeskd %s", cd_dbus_chartdesk1_get_version(proxy));
  return g_steal_pointer(&proxy);
}

/* A path as the service must see it: absolute, from our working folder. */
static gchar *
cd_client_absolute(const gchar *path)
{
  return g_canonicalize_filename(path, NULL);
}

/* A source as the service must see it: a file or folder made absolute; a
 * name that is no file here (a scanner, test:0) as it is. */
static gchar *
cd_client_source(const gchar *source)
{
  if (g_file_test(source, G_FILE_TEST_EXISTS) || strchr(source, '/') != NULL)
    return cd_client_absolute(source);
  return g_strdup(source);
}

typedef struct {
  GMainLoop *loop;
  guint id;          /* our batch, 0 until StartBatch returns */
  GHashTable *ended; /* batch id → "status\nreport", for batches ending before we knew our id */
  gboolean tty;
  gint64 last_draw;
} CdClientIngest;

static void
cd_client_on_progress(CdDBusChartdesk1 *proxy, guint id, GVariant *progress, CdClientIngest *ingest)
{
  guint32 pages = 0, done = 0, total = 0;
  const gchar *state = "";
  gint64 now = g_get_monotonic_time();

  if (id != ingest->id || !ingest->tty || now - ingest->last_draw < G_USEC_PER_SEC / 10)
    return;
  ingest->last_draw = now;
  g_variant_lookup(progress, "pages-done", "u", &pages);
  g_variant_lookup(progress, "inputs-done", "u", &done);
  g_variant_lookup(progress, "inputs-total", "u", &total);
  g_variant_lookup(progress, "state", "&s", &state);
  fprintf(stderr, "\r\033[K%u/%u files  %u pages  (chartdeskd batch %u, %s)", done, total, pages, id, state);
  fflush(stderr);
}

static void
cd_client_on_finished(CdDBusChartdesk1 *proxy, guint id, const gchar *status, const gchar *report,
                      CdClientIngest *ingest)
{
  g_hash_table_insert(ingest->ended, GUINT_TO_POINTER(id), g_strdup_printf("%s\n%s", status, report));
  if (id == ingest->id)
    g_main_loop_quit(ingest->loop);
}

typedef struct {
  CdDBusChartdesk1 *proxy;
  CdClientIngest *ingest;
} CdClientCancel;

static gboolean
cd_client_on_sigint(gpointer data)
{
  CdClientCancel *c = data;
  fprintf(stderr, "\r\033[Kchartdesk: cancelling chartdeskd batch %u after the pages in progress\n", c->ingest->id);
  cd_dbus_chartdesk1_call_cancel(c->proxy, c->ingest->id, NULL, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

/* The batch report for a person, from its JSON (items name every page not
 * simply filed). */
static void
cd_client_print_report(JsonObject *report)
{
  JsonArray *items = json_object_get_array_member(report, "items");

  g_print("Batch %" G_GINT64_FORMAT " (chartdeskd): %s, %" G_GINT64_FORMAT " pages in %.1f s\n",
          json_object_get_int_member_with_default(report, "batch", 0),
          json_object_get_string_member_with_default(report, "status", "?"),
          json_object_get_int_member_with_default(report, "pages_in", 0),
          json_object_get_double_member_with_default(report, "seconds", 0));
  g_print("  filed %" G_GINT64_FORMAT ", review %" G_GINT64_FORMAT ", set aside %" G_GINT64_FORMAT
          ", failed %" G_GINT64_FORMAT ", duplicate %" G_GINT64_FORMAT "; %" G_GINT64_FORMAT " documents\n",
          json_object_get_int_member_with_default(report, "filed", 0),
          json_object_get_int_member_with_default(report, "review", 0),
          json_object_get_int_member_with_default(report, "set-aside", 0),
          json_object_get_int_member_with_default(report, "failed", 0),
          json_object_get_int_member_with_default(report, "duplicate", 0),
          json_object_get_int_member_with_default(report, "documents", 0));
  for (guint i = 0; items != NULL && i < json_array_get_length(items); i++) {
    JsonObject *item = json_array_get_object_element(items, i);
    JsonNode *page = json_object_get_member(item, "page");
    g_print("  %s", json_object_get_string_member_with_default(item, "path", "?"));
    if (page != NULL && !JSON_NODE_HOLDS_NULL(page))
      g_print(" page %" G_GINT64_FORMAT, json_node_get_int(page) + 1);
    g_print(": %s: %s\n", json_object_get_string_member_with_default(item, "outcome", "?"),
            json_object_get_string_member_with_default(item, "reason", ""));
  }
}

/* Why a failed batch failed, from ListBatches. */
static gchar *
cd_client_batch_error(CdDBusChartdesk1 *proxy, guint id)
{
  g_autoptr(GVariant) batches = NULL;
  GVariantIter iter;
  GVariant *item;
  gchar *message = NULL;

  if (!cd_dbus_chartdesk1_call_list_batches_sync(proxy, &batches, NULL, NULL))
    return NULL;
  g_variant_iter_init(&iter, batches);
  while (message == NULL && (item = g_variant_iter_next_value(&iter)) != NULL) {
    guint32 item_id = 0;
    if (g_variant_lookup(item, "id", "u", &item_id) && item_id == id)
      g_variant_lookup(item, "error", "s", &message);
    g_variant_unref(item);
  }
  return message;
}

/**
 * cd_client_ingest:
 *
 * `chartdesk ingest` through the service: the batch is queued there (and
 * journalled, so it survives this command being interrupted), its progress
 * followed, and its report printed as the standalone command prints it.
 * Ctrl-C cancels the batch. Returns the command's exit status.
 */
gint
cd_client_ingest(CdDBusChartdesk1 *proxy, const gchar *archive, const gchar *const *inputs, const gchar *workflow,
                 const gchar *const *set, gint workers, gboolean json, gboolean quiet)
{
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func(g_free);
  g_autofree gchar *archive_abs = cd_client_absolute(archive);
  g_autofree gchar *workflow_arg = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  g_autoptr(GHashTable) ended = g_hash_table_new_full(NULL, NULL, NULL, g_free);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_auto(GStrv) parts = NULL;
  GVariantDict options;
  CdClientIngest ingest = { 0 };
  CdClientCancel cancel = { proxy, &ingest };
  const gchar *result;
  JsonObject *report;
  gulong progress_id, finished_id;
  guint sigint_id;
  gint status;

  for (guint i = 0; inputs[i] != NULL; i++)
    g_ptr_array_add(sources, cd_client_source(inputs[i]));
  g_ptr_array_add(sources, NULL);
  if (workflow != NULL && (strchr(workflow, '/') != NULL || g_str_has_suffix(workflow, ".workflow")))
    workflow_arg = cd_client_absolute(workflow);
  else
    workflow_arg = g_strdup(workflow != NULL ? workflow : "");
  g_variant_dict_init(&options, NULL);
  if (set != NULL)
    g_variant_dict_insert(&options, "set", "^as", set);
  if (workers >= 0)
    g_variant_dict_insert(&options, "workers", "u", (guint32) workers);

  ingest.loop = loop;
  ingest.ended = ended;
  ingest.tty = !quiet && !json && isatty(STDERR_FILENO);
  progress_id = g_signal_connect(proxy, "progress", G_CALLBACK(cd_client_on_progress), &ingest);
  finished_id = g_signal_connect(proxy, "batch-finished", G_CALLBACK(cd_client_on_finished), &ingest);
  if (!cd_dbus_chartdesk1_call_start_batch_sync(proxy, workflow_arg, (const gchar *const *) sources->pdata, archive_abs,
                                                g_variant_dict_end(&options), &ingest.id, NULL, &error)) {
    g_dbus_error_strip_remote_error(error);
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  g_info("chartdeskd batch %u", ingest.id);
  sigint_id = g_unix_signal_add(SIGINT, cd_client_on_sigint, &cancel);
  if (!g_hash_table_contains(ended, GUINT_TO_POINTER(ingest.id)))
    g_main_loop_run(loop);
  g_source_remove(sigint_id);
  g_signal_handler_disconnect(proxy, progress_id);
  g_signal_handler_disconnect(proxy, finished_id);
  if (ingest.tty)
    fputs("\r\033[K", stderr);

  result = g_hash_table_lookup(ended, GUINT_TO_POINTER(ingest.id));
  parts = g_strsplit(result, "\n", 2);
  if (!json_parser_load_from_data(parser, parts[1], -1, &error)) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  report = json_node_get_object(json_parser_get_root(parser));
  if (g_strcmp0(parts[0], "failed") == 0) {
    g_autofree gchar *why = cd_client_batch_error(proxy, ingest.id);
    fprintf(stderr, "chartdesk: batch %u failed: %s\n", ingest.id, why != NULL ? why : "(no reason given)");
    return CD_EXIT_FAILED;
  }
  /* the signal carried the counts; the items come with GetReport */
  {
    g_autofree gchar *full = NULL;
    if (cd_dbus_chartdesk1_call_get_report_sync(proxy, ingest.id, &full, NULL, &error) &&
        json_parser_load_from_data(parser, full, -1, &error)) {
      report = json_node_get_object(json_parser_get_root(parser));
    } else {
      g_warning("only the summary of the report: %s", error->message);
      g_clear_error(&error);
    }
  }
  if (json) {
    g_autofree gchar *text = json_to_string(json_parser_get_root(parser), TRUE);
    g_print("%s\n", text);
  } else {
    cd_client_print_report(report);
  }
  status = json_object_get_int_member_with_default(report, "failed", 0) > 0 ? CD_EXIT_PARTIAL : CD_EXIT_OK;
  if (g_strcmp0(parts[0], "cancelled") == 0)
    status = CD_EXIT_FAILED;
  return status;
}

/**
 * cd_client_search:
 *
 * `chartdesk search` through the service, which audits it under the
 * caller's identity from the bus.
 *
 * @json: (out) (optional): the service's answer as it sent it, what
 *   `chartdesk search --json` prints here (hits, total, facets)
 *
 * Returns: (transfer full): the hits with the total, whether it is a lower
 *   bound, the order and the window (no facets or terms: they are in
 *   @json), or %NULL with @error set (with the service's error code)
 */
CdSearchResult *
cd_client_search(CdDBusChartdesk1 *proxy, const gchar *archive, const CdSearchQuery *query, const gchar *purpose,
                 JsonNode **json_out, GError **error)
{
  static const gchar *const orders[] = { "rank", "date", "recent-rank" };
  g_autofree gchar *archive_abs = cd_client_absolute(archive);
  g_autofree gchar *json = NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(CdSearchResult) result = g_new0(CdSearchResult, 1);
  GPtrArray *hits = g_ptr_array_new_with_free_func((GDestroyNotify) cd_search_hit_free);
  GVariantDict dict;
  JsonObject *root;
  JsonArray *array;
  const gchar *order;

  g_variant_dict_init(&dict, NULL);
  if (query->text != NULL)
    g_variant_dict_insert(&dict, "text", "s", query->text);
  g_variant_dict_insert(&dict, "plain", "b", query->plain);
  if (query->mrn != NULL)
    g_variant_dict_insert(&dict, "mrn", "s", query->mrn);
  if (query->doc_type != NULL)
    g_variant_dict_insert(&dict, "type", "s", query->doc_type);
  if (query->date_from != NULL)
    g_variant_dict_insert(&dict, "from", "s", query->date_from);
  if (query->date_to != NULL)
    g_variant_dict_insert(&dict, "to", "s", query->date_to);
  if (query->status != NULL)
    g_variant_dict_insert(&dict, "status", "s", query->status);
  g_variant_dict_insert(&dict, "limit", "u", query->limit);
  g_variant_dict_insert(&dict, "offset", "u", query->offset);
  if (purpose != NULL)
    g_variant_dict_insert(&dict, "purpose", "s", purpose);
  if (!cd_dbus_chartdesk1_call_search_sync(proxy, archive_abs, g_variant_dict_end(&dict), &json, NULL, error)) {
    g_dbus_error_strip_remote_error(*error);
    return NULL;
  }
  result->hits = hits;
  if (!json_parser_load_from_data(parser, json, -1, error))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "chartdeskd answered the search with something other than an object");
    return NULL;
  }
  root = json_node_get_object(json_parser_get_root(parser));
  result->total = json_object_get_int_member_with_default(root, "total", 0);
  result->total_is_estimate = json_object_get_boolean_member_with_default(root, "total_is_estimate", FALSE);
  result->window = json_object_get_int_member_with_default(root, "window", 0);
  order = json_object_get_string_member_with_default(root, "order", "rank");
  for (guint i = 0; i < G_N_ELEMENTS(orders); i++) {
    if (g_strcmp0(order, orders[i]) == 0)
      result->order = (CdSearchOrder) i;
  }
  array = json_object_has_member(root, "hits") ? json_object_get_array_member(root, "hits") : NULL;
  for (guint i = 0; array != NULL && i < json_array_get_length(array); i++) {
    JsonObject *h = json_array_get_object_element(array, i);
    JsonObject *source = json_object_get_object_member(h, "source");
    CdSearchHit *hit = g_new0(CdSearchHit, 1);
    JsonNode *document = json_object_get_member(h, "document");
    hit->page_id = json_object_get_int_member(h, "page");
    hit->document_id = document != NULL && !JSON_NODE_HOLDS_NULL(document) ? json_node_get_int(document) : 0;
    hit->patient_mrn = g_strdup(json_object_get_string_member_with_default(h, "mrn", NULL));
    hit->doc_type = g_strdup(json_object_get_string_member_with_default(h, "type", NULL));
    hit->date = g_strdup(json_object_get_string_member_with_default(h, "date", NULL));
    hit->status = g_strdup(json_object_get_string_member_with_default(h, "status", NULL));
    hit->source_path = g_strdup(json_object_get_string_member_with_default(source, "path", NULL));
    hit->source_page = json_object_get_int_member_with_default(source, "page", 0);
    hit->score = json_object_get_double_member_with_default(h, "score", 0);
    hit->snippet = g_strdup(json_object_get_string_member_with_default(h, "snippet", NULL));
    g_ptr_array_add(hits, hit);
  }
  if (json_out != NULL)
    *json_out = json_parser_steal_root(parser);
  return g_steal_pointer(&result);
}
