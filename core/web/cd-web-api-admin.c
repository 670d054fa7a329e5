/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The web API's other routes: batches and their live progress (server-sent
 * events), the audit log for auditors (JSON and CSV), and each user's saved
 * searches.
 */
#include "config.h"

#include <string.h>

#include "cd-csv-private.h"
#include "cd-web-private.h"

/* pages done and in all of a batch: the report's once it ended, the
 * archived pages while it runs (the total is not known until the end). */
static void
cd_web_batch_progress(CdArchive *archive, CdBatchRecord *record, JsonNode *report, gint64 *done, gint64 *total)
{
  JsonObject *obj = report != NULL && JSON_NODE_HOLDS_OBJECT(report) ? json_node_get_object(report) : NULL;

  if (obj != NULL && json_object_has_member(obj, "pages_in")) {
    *done = json_object_get_int_member(obj, "pages_in");
    *total = *done;
    return;
  }
  *done = MAX(0, cd_archive_count_batch_pages(archive, record->id, NULL));
  *total = -1;
}

/* GET /batches */
void
cd_web_api_batches(CdWebRequest *req)
{
  CdArchive *archive = req->server->archive;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) records = cd_archive_list_batches(archive, NULL, &error);
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;

  if (records == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "batches");
  json_builder_begin_array(b);
  /* newest first: what scanning staff look for */
  for (guint n = records->len; n > 0; n--) {
    CdBatchRecord *r = g_ptr_array_index(records, n - 1);
    g_autoptr(JsonNode) report = cd_web_json_parse(r->report);
    JsonObject *robj = report != NULL && JSON_NODE_HOLDS_OBJECT(report) ? json_node_get_object(report) : NULL;
    JsonArray *items =
        robj != NULL && json_object_has_member(robj, "items") ? json_object_get_array_member(robj, "items") : NULL;
    gint64 done, total;

    cd_web_batch_progress(archive, r, report, &done, &total);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, r->id);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, r->status);
    json_builder_set_member_name(b, "workflow");
    json_builder_add_string_value(b, r->workflow);
    json_builder_set_member_name(b, "actor");
    json_builder_add_string_value(b, r->actor);
    json_builder_set_member_name(b, "started");
    json_builder_add_string_value(b, r->started);
    json_builder_set_member_name(b, "finished");
    json_builder_add_string_value(b, r->finished);
    json_builder_set_member_name(b, "inputs");
    json_builder_begin_array(b);
    for (guint i = 0; r->inputs != NULL && r->inputs[i] != NULL; i++)
      json_builder_add_string_value(b, r->inputs[i]);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "pages_done");
    json_builder_add_int_value(b, done);
    json_builder_set_member_name(b, "pages_total");
    if (total >= 0)
      json_builder_add_int_value(b, total);
    else
      json_builder_add_null_value(b);
    json_builder_set_member_name(b, "report");
    if (report != NULL)
      json_builder_add_value(b, json_node_copy(report));
    else
      json_builder_add_null_value(b);
    json_builder_set_member_name(b, "failed");
    json_builder_begin_array(b);
    for (guint i = 0; items != NULL && i < json_array_get_length(items); i++) {
      JsonObject *item = json_array_get_object_element(items, i);
      const gchar *outcome = cd_web_json_string(item, "outcome");
      if (g_strcmp0(outcome, "failed") != 0 && g_strcmp0(outcome, "set-aside") != 0)
        continue;
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "file");
      json_builder_add_string_value(b, cd_web_json_string(item, "path"));
      json_builder_set_member_name(b, "page");
      json_builder_add_value(b, json_node_copy(json_object_get_member(item, "page")));
      json_builder_set_member_name(b, "outcome");
      json_builder_add_string_value(b, outcome);
      json_builder_set_member_name(b, "reason");
      json_builder_add_string_value(b, cd_web_json_string(item, "reason"));
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  node = json_builder_get_root(b);
  cd_web_respond_json(req, SOUP_STATUS_OK, node);
}

/* ---- events ---- */

static void
cd_web_event_client_gone(SoupServerMessage *msg, gpointer user_data)
{
  CdWebServer *self = user_data;

  g_signal_handlers_disconnect_by_data(msg, self);
  g_ptr_array_remove(self->event_clients, msg);
}

/* GET /events: text/event-stream, kept open; `event: batch` for each
 * change of a batch's status or progress. */
void
cd_web_api_events(CdWebRequest *req)
{
  CdWebServer *self = req->server;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(req->msg);
  SoupMessageBody *body = soup_server_message_get_response_body(req->msg);

  if (!cd_web_require(req, CD_PERMISSION_READ_BATCHES, "see batches"))
    return;
  soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type(headers, "text/event-stream", NULL);
  soup_message_headers_replace(headers, "Cache-Control", "no-store");
  soup_message_body_set_accumulate(body, FALSE);
  soup_message_body_append(body, SOUP_MEMORY_STATIC, ": chartdesk events\n\n", 20);
  g_ptr_array_add(self->event_clients, g_object_ref(req->msg));
  g_signal_connect(req->msg, "finished", G_CALLBACK(cd_web_event_client_gone), self);
  g_signal_connect(req->msg, "disconnected", G_CALLBACK(cd_web_event_client_gone), self);
}

/**
 * cd_web_server_publish_batch:
 * @self: a #CdWebServer
 * @batch_id: a batch
 * @status: its status
 * @pages_done: pages done so far
 * @pages_total: pages in all, 0 if not known yet
 *
 * Sends an `event: batch` to every open event stream, unless nothing
 * changed since the last one of this batch.
 */
void
cd_web_server_publish_batch(CdWebServer *self, gint64 batch_id, const gchar *status, guint64 pages_done,
                            guint64 pages_total)
{
  g_autofree gchar *state = NULL;
  g_autofree gchar *event = NULL;
  const gchar *seen;

  g_return_if_fail(CD_IS_WEB_SERVER(self));
  state = g_strdup_printf("%s %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, status, pages_done, pages_total);
  seen = g_hash_table_lookup(self->batch_seen, &batch_id);
  if (g_strcmp0(seen, state) == 0)
    return;
  g_hash_table_replace(self->batch_seen, g_memdup2(&batch_id, sizeof batch_id), g_strdup(state));
  if (pages_total > 0)
    event = g_strdup_printf("event: batch\ndata: {\"id\": %" G_GINT64_FORMAT
                            ", \"status\": \"%s\", \"pages_done\": %" G_GUINT64_FORMAT
                            ", \"pages_total\": %" G_GUINT64_FORMAT "}\n\n",
                            batch_id, status, pages_done, pages_total);
  else
    event = g_strdup_printf("event: batch\ndata: {\"id\": %" G_GINT64_FORMAT
                            ", \"status\": \"%s\", \"pages_done\": %" G_GUINT64_FORMAT ", \"pages_total\": null}\n\n",
                            batch_id, status, pages_done);
  for (guint i = 0; i < self->event_clients->len; i++) {
    SoupServerMessage *msg = g_ptr_array_index(self->event_clients, i);
    soup_message_body_append(soup_server_message_get_response_body(msg), SOUP_MEMORY_COPY, event, strlen(event));
    soup_server_message_unpause(msg);
  }
}

/* Once a second in `chartdesk web`: the batches of the archive as this
 * process sees them (another process runs them). Only unfinished batches
 * and those that just finished are looked at. */
void
cd_web_events_poll(CdWebServer *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) records = NULL;

  if (self->event_clients->len == 0)
    return;
  records = cd_archive_list_batches(self->archive, NULL, &error);
  if (records == NULL) {
    g_debug("web: cannot poll batches: %s", error->message);
    return;
  }
  for (guint i = 0; i < records->len; i++) {
    CdBatchRecord *r = g_ptr_array_index(records, i);
    g_autoptr(JsonNode) report = NULL;
    gint64 done, total;

    if (r->finished != NULL && g_hash_table_contains(self->batch_seen, &r->id) == FALSE && records->len - i > 20)
      continue; /* old history: not news */
    report = cd_web_json_parse(r->report);
    cd_web_batch_progress(self->archive, r, report, &done, &total);
    cd_web_server_publish_batch(self, r->id, r->status, (guint64) done, total > 0 ? (guint64) total : 0);
  }
}

/* ---- audit ---- */

/* GET /audit?user=&mrn=&from=&to=&limit=&offset=&format=json|csv */
void
cd_web_api_audit(CdWebRequest *req)
{
  const gchar *format = cd_web_query(req, "format");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) entries = NULL;
  gint64 total = 0;
  guint limit, offset;
  gboolean csv;

  if (format != NULL && g_strcmp0(format, "json") != 0 && g_strcmp0(format, "csv") != 0) {
    cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "format: give json or csv");
    return;
  }
  csv = g_strcmp0(format, "csv") == 0;
  if (!cd_web_query_uint(req, "limit", csv ? 100000 : 100, 1, csv ? 1000000 : 1000, &limit) ||
      !cd_web_query_uint(req, "offset", 0, 0, G_MAXINT, &offset))
    return;
  entries = cd_web_store_list_audit(&req->server->store, cd_web_query(req, "user"), cd_web_query(req, "mrn"),
                                    cd_web_query(req, "from"), cd_web_query(req, "to"), limit, offset, &total, &error);
  if (entries == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  if (csv) {
    JsonArray *array = json_node_get_array(entries);
    g_autoptr(GString) out = g_string_new("id,time,user,action,object,mrn,document,purpose,break_glass,detail\r\n");
    SoupMessageHeaders *headers = soup_server_message_get_response_headers(req->msg);
    gsize len;

    for (guint i = 0; i < json_array_get_length(array); i++) {
      JsonObject *e = json_array_get_object_element(array, i);
      JsonNode *detail = json_object_get_member(e, "detail");
      g_autofree gchar *detail_text = NULL;
      g_string_append_printf(out, "%" G_GINT64_FORMAT ",", json_object_get_int_member(e, "id"));
      cd_csv_append_field(out, cd_web_json_string(e, "time"));
      g_string_append_c(out, ',');
      cd_csv_append_field(out, cd_web_json_string(e, "user"));
      g_string_append_c(out, ',');
      cd_csv_append_field(out, cd_web_json_string(e, "action"));
      g_string_append_c(out, ',');
      cd_csv_append_field(out, cd_web_json_string(e, "object"));
      g_string_append_c(out, ',');
      cd_csv_append_field(out, cd_web_json_string(e, "mrn"));
      g_string_append_c(out, ',');
      if (!json_object_get_null_member(e, "document"))
        g_string_append_printf(out, "%" G_GINT64_FORMAT, json_object_get_int_member(e, "document"));
      g_string_append_c(out, ',');
      cd_csv_append_field(out, cd_web_json_string(e, "purpose"));
      g_string_append_c(out, ',');
      g_string_append(out, json_object_get_boolean_member(e, "break_glass") ? "true" : "false");
      g_string_append_c(out, ',');
      if (detail != NULL && !JSON_NODE_HOLDS_NULL(detail))
        detail_text = json_to_string(detail, FALSE);
      cd_csv_append_field(out, detail_text);
      g_string_append(out, "\r\n");
    }
    soup_message_headers_replace(headers, "Cache-Control", "no-store");
    soup_message_headers_replace(headers, "Content-Disposition", "attachment; filename=\"chartdesk-audit.csv\"");
    soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
    len = out->len;
    soup_server_message_set_response(req->msg, "text/csv; charset=utf-8", SOUP_MEMORY_TAKE,
                                     g_string_free(g_steal_pointer(&out), FALSE), len);
    return;
  }
  {
    g_autoptr(JsonObject) obj = json_object_new();
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), obj);
    json_object_set_int_member(obj, "total", total);
    json_object_set_int_member(obj, "offset", offset);
    json_object_set_int_member(obj, "limit", limit);
    json_object_set_member(obj, "entries", g_steal_pointer(&entries));
    cd_web_respond_json(req, SOUP_STATUS_OK, node);
  }
}

/* ---- saved searches ---- */

void
cd_web_api_saved_list(CdWebRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) searches = cd_archive_list_saved_searches(req->server->archive, &error);
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(JsonNode) node = NULL;

  if (searches == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  obj = json_object_new();
  node = json_node_init_object(json_node_alloc(), obj);
  json_object_set_member(obj, "searches", g_steal_pointer(&searches));
  cd_web_respond_json(req, SOUP_STATUS_OK, node);
}

/* POST /saved-searches {"name", "query": {"q", "mrn", "type", "from", "to",
 * "status"}}: only those members, as strings, are kept. */
void
cd_web_api_saved_add(CdWebRequest *req)
{
  static const gchar *const keys[] = { "q", "mrn", "type", "from", "to", "status" };
  g_autoptr(GError) error = NULL;
  const gchar *name = cd_web_body_string(req, "name");
  JsonNode *query = req->body != NULL ? json_object_get_member(json_node_get_object(req->body), "query") : NULL;
  g_autoptr(JsonObject) clean = json_object_new();
  g_autoptr(JsonNode) clean_node = NULL;
  g_autoptr(JsonObject) search = json_object_new();
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) node = NULL;
  gint64 id;

  if (name == NULL) {
    cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "name: give the saved search a name");
    return;
  }
  if (query == NULL || !JSON_NODE_HOLDS_OBJECT(query)) {
    cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "query: give the search as an object");
    return;
  }
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    const gchar *value = cd_web_json_string(json_node_get_object(query), keys[i]);
    if (value != NULL && value[0] != '\0')
      json_object_set_string_member(clean, keys[i], value);
    else
      json_object_set_null_member(clean, keys[i]);
  }
  clean_node = json_node_init_object(json_node_alloc(), clean);
  id = cd_archive_add_saved_search(req->server->archive, name, clean_node, &error);
  if (id <= 0) {
    cd_web_respond_gerror(req, error);
    return;
  }
  json_object_set_int_member(search, "id", id);
  json_object_set_string_member(search, "name", name);
  json_object_set_member(search, "query", json_node_copy(clean_node));
  json_object_set_object_member(obj, "search", json_object_ref(search));
  node = json_node_init_object(json_node_alloc(), obj);
  cd_web_respond_json(req, SOUP_STATUS_CREATED, node);
}

void
cd_web_api_saved_delete(CdWebRequest *req, gint64 id)
{
  g_autoptr(GError) error = NULL;

  if (!cd_archive_delete_saved_search(req->server->archive, id, &error)) {
    cd_web_respond_gerror(req, error);
    return;
  }
  soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "Cache-Control", "no-store");
  soup_server_message_set_status(req->msg, SOUP_STATUS_NO_CONTENT, NULL);
}
