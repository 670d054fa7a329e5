/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The web API's release of information (issue 16): requests, their
 * documents, approval, release of the packet, the released packet again,
 * and a patient's accounting of disclosures. Every call is the library's
 * (cd-archive-roi.c), which checks the release permission and audits as the
 * session's user, pushed on the archive by the server for the request.
 */
#include "config.h"

#include <string.h>

#include "cd-roi-packet.h"
#include "cd-web-private.h"

static void
cd_web_roi_respond_request(CdWebRequest *req, guint status, gint64 id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = cd_archive_roi_get(req->server->archive, id, &error);
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(JsonNode) wrapped = NULL;

  if (node == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  obj = json_object_new();
  json_object_set_member(obj, "request", g_steal_pointer(&node));
  wrapped = json_node_init_object(json_node_alloc(), obj);
  cd_web_respond_json(req, status, wrapped);
}

/* GET /roi?status=&mrn= */
void
cd_web_api_roi_list(CdWebRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node =
      cd_archive_roi_list(req->server->archive, cd_web_query(req, "status"), cd_web_query(req, "mrn"), &error);
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(JsonNode) wrapped = NULL;

  if (node == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  if (JSON_NODE_HOLDS_OBJECT(node)) {
    cd_web_respond_json(req, SOUP_STATUS_OK, node);
    return;
  }
  obj = json_object_new();
  json_object_set_member(obj, "requests", g_steal_pointer(&node));
  wrapped = json_node_init_object(json_node_alloc(), obj);
  cd_web_respond_json(req, SOUP_STATUS_OK, wrapped);
}

/* GET /roi/{id} */
void
cd_web_api_roi_get(CdWebRequest *req, gint64 id)
{
  cd_web_roi_respond_request(req, SOUP_STATUS_OK, id);
}

/* A string member of the body that must be there: 400 naming it if not. */
static gboolean
cd_web_roi_body_required(CdWebRequest *req, const gchar *member, const gchar **out)
{
  const gchar *value = cd_web_body_string(req, member);

  if (value == NULL || value[0] == '\0') {
    cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "%s: a new request needs it (a string)", member);
    return FALSE;
  }
  *out = value;
  return TRUE;
}

/* POST /roi */
void
cd_web_api_roi_new(CdWebRequest *req)
{
  g_autoptr(GError) error = NULL;
  CdRoiRequestSpec spec = { 0 };
  gint64 id;

  if (!cd_web_roi_body_required(req, "mrn", &spec.mrn) ||
      !cd_web_roi_body_required(req, "requester", &spec.requester) ||
      !cd_web_roi_body_required(req, "recipient_name", &spec.recipient_name) ||
      !cd_web_roi_body_required(req, "purpose", &spec.purpose) ||
      !cd_web_roi_body_required(req, "authorisation", &spec.authorisation))
    return;
  spec.recipient_address = cd_web_body_string(req, "recipient_address");
  spec.requested_by = cd_web_body_string(req, "requested_by");
  id = cd_archive_roi_new(req->server->archive, &spec, &error);
  if (id == 0) {
    cd_web_respond_gerror(req, error);
    return;
  }
  cd_web_roi_respond_request(req, SOUP_STATUS_CREATED, id);
}

/* POST /roi/{id}/documents {"documents": [ids]} or {"type","from","to"} */
static void
cd_web_roi_add(CdWebRequest *req, gint64 id)
{
  g_autoptr(GError) error = NULL;
  JsonObject *body = req->body != NULL ? json_node_get_object(req->body) : NULL;
  guint n_added = 0;
  gboolean ok;

  if (body != NULL && json_object_has_member(body, "documents")) {
    JsonNode *member = json_object_get_member(body, "documents");
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    JsonArray *array;

    if (!JSON_NODE_HOLDS_ARRAY(member) || json_array_get_length(json_node_get_array(member)) == 0) {
      cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                           "documents: give a non-empty array of document ids");
      return;
    }
    array = json_node_get_array(member);
    for (guint i = 0; i < json_array_get_length(array); i++) {
      JsonNode *element = json_array_get_element(array, i);
      gint64 doc;
      if (!JSON_NODE_HOLDS_VALUE(element) || json_node_get_value_type(element) != G_TYPE_INT64 ||
          (doc = json_node_get_int(element)) <= 0) {
        cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                             "documents[%u]: a document id is a positive integer", i);
        return;
      }
      g_array_append_val(ids, doc);
    }
    ok = cd_archive_roi_add_documents(req->server->archive, id, (const gint64 *) ids->data, ids->len, &n_added, &error);
  } else {
    const gchar *type = cd_web_body_string(req, "type");
    const gchar *from = cd_web_body_string(req, "from");
    const gchar *to = cd_web_body_string(req, "to");

    if (type == NULL && from == NULL && to == NULL) {
      cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                           "documents: give {\"documents\": [ids]} or a selection {\"type\", \"from\", \"to\"}");
      return;
    }
    if (type != NULL && req->server->taxonomy != NULL) {
      const gchar *name = cd_taxonomy_lookup(req->server->taxonomy, type);
      if (name == NULL) {
        cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "type: '%s' is not a document type", type);
        return;
      }
      type = name;
    }
    ok = cd_archive_roi_add_selection(req->server->archive, id, type, from, to, &n_added, &error);
  }
  if (!ok) {
    cd_web_respond_gerror(req, error);
    return;
  }
  cd_web_roi_respond_request(req, SOUP_STATUS_OK, id);
}

/* POST /roi/{id}/release: builds the packet, records the disclosure;
 * answers the request with the packet's SHA-256 and Bates range. */
static void
cd_web_roi_release(CdWebRequest *req, gint64 id)
{
  CdArchive *archive = req->server->archive;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) manifest = NULL;
  g_autoptr(GBytes) pdf = NULL;
  g_autofree gchar *sha = NULL;
  g_autoptr(JsonNode) request = NULL;
  g_autoptr(JsonObject) packet = NULL;
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *m;

  manifest = cd_archive_roi_prepare_release(archive, id, &error);
  if (manifest == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  pdf = cd_roi_packet_build(archive, manifest, NULL, &error);
  if (pdf == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, pdf);
  /* nothing is kept on the server: GET /roi/{id}/packet makes it again
   * from the recorded manifest, compared with this SHA-256 */
  if (!cd_archive_roi_record_release(archive, id, manifest, sha, &error)) {
    cd_web_respond_gerror(req, error);
    return;
  }
  request = cd_archive_roi_get(archive, id, &error);
  if (request == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  m = json_node_get_object(manifest);
  packet = json_object_new();
  json_object_set_string_member(packet, "sha256", sha);
  json_object_set_int_member(packet, "pages", json_object_get_int_member_with_default(m, "pages", 0));
  json_object_set_string_member(packet, "bates_first",
                                json_object_get_string_member_with_default(m, "bates_first", ""));
  json_object_set_string_member(packet, "bates_last", json_object_get_string_member_with_default(m, "bates_last", ""));
  json_object_set_int_member(packet, "bytes", g_bytes_get_size(pdf));
  obj = json_object_new();
  json_object_set_member(obj, "request", g_steal_pointer(&request));
  json_object_set_object_member(obj, "packet", g_steal_pointer(&packet));
  node = json_node_init_object(json_node_alloc(), obj);
  cd_web_respond_json(req, SOUP_STATUS_OK, node);
}

/* POST /roi/{id}/documents|approve|cancel|release */
void
cd_web_api_roi_action(CdWebRequest *req, gint64 id, const gchar *action)
{
  g_autoptr(GError) error = NULL;

  if (g_strcmp0(action, "documents") == 0) {
    cd_web_roi_add(req, id);
  } else if (g_strcmp0(action, "approve") == 0) {
    if (!cd_archive_roi_approve(req->server->archive, id, &error))
      cd_web_respond_gerror(req, error);
    else
      cd_web_roi_respond_request(req, SOUP_STATUS_OK, id);
  } else if (g_strcmp0(action, "cancel") == 0) {
    const gchar *why = cd_web_body_string(req, "why");
    if (why == NULL || why[0] == '\0') {
      cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "why: a cancellation needs a reason");
      return;
    }
    if (!cd_archive_roi_cancel(req->server->archive, id, why, &error))
      cd_web_respond_gerror(req, error);
    else
      cd_web_roi_respond_request(req, SOUP_STATUS_OK, id);
  } else if (g_strcmp0(action, "release") == 0) {
    cd_web_roi_release(req, id);
  } else {
    cd_web_respond_error(req, SOUP_STATUS_NOT_FOUND, "not-found", "no route POST /api/v1/roi/%" G_GINT64_FORMAT "/%s",
                         id, action);
  }
}

/* GET /roi/{id}/packet: the released packet made again from its manifest;
 * 500 if it is not the one released (its SHA-256 differs). */
void
cd_web_api_roi_packet(CdWebRequest *req, gint64 id)
{
  CdArchive *archive = req->server->archive;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) manifest = cd_archive_roi_get_packet(archive, id, &error);
  g_autoptr(GBytes) pdf = NULL;
  g_autofree gchar *sha = NULL;
  g_autofree gchar *disposition = NULL;
  const gchar *released;
  SoupMessageHeaders *headers;

  if (manifest == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  released = json_object_get_string_member_with_default(json_node_get_object(manifest), "pdf_sha256", NULL);
  pdf = cd_roi_packet_build(archive, manifest, NULL, &error);
  if (pdf == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, pdf);
  if (g_strcmp0(sha, released) != 0) {
    cd_web_respond_error(req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                         "request %" G_GINT64_FORMAT ": the packet made again differs from the one released", id);
    return;
  }
  headers = soup_server_message_get_response_headers(req->msg);
  disposition = g_strdup_printf("attachment; filename=\"roi-%" G_GINT64_FORMAT ".pdf\"", id);
  soup_message_headers_replace(headers, "Content-Disposition", disposition);
  soup_message_headers_replace(headers, "Cache-Control", "no-store");
  soup_message_headers_replace(headers, "X-Packet-SHA256", sha);
  soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response(req->msg, "application/pdf", SOUP_MEMORY_COPY, g_bytes_get_data(pdf, NULL),
                                   g_bytes_get_size(pdf));
}

/* GET /patients/{mrn}/disclosures?from= */
void
cd_web_api_disclosures(CdWebRequest *req, const gchar *mrn)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = cd_archive_disclosures(req->server->archive, mrn, cd_web_query(req, "from"), &error);
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(JsonNode) wrapped = NULL;

  if (node == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  if (JSON_NODE_HOLDS_OBJECT(node)) {
    cd_web_respond_json(req, SOUP_STATUS_OK, node);
    return;
  }
  obj = json_object_new();
  json_object_set_string_member(obj, "mrn", mrn);
  json_object_set_member(obj, "disclosures", g_steal_pointer(&node));
  wrapped = json_node_init_object(json_node_alloc(), obj);
  cd_web_respond_json(req, SOUP_STATUS_OK, wrapped);
}
