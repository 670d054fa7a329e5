/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The web API's reading routes: types, search, patients, a chart, a
 * document, a page's image at a width and its words.
 */
#include "config.h"

#include <string.h>

#include "cd-archive-retention.h"
#include "cd-web-private.h"

/* Rendered page images kept, in bytes of PNG. */
#define CD_WEB_IMAGE_CACHE_BYTES (64 * 1024 * 1024)

/* GET /types: the taxonomy's current types the user may see. */
void
cd_web_api_types(CdWebRequest *req)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;
  gboolean see_restricted = cd_principal_has(req->principal, CD_PERMISSION_RESTRICTED);

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "types");
  json_builder_begin_array(b);
  if (req->server->taxonomy != NULL) {
    g_autoptr(GPtrArray) types = cd_taxonomy_get_types(req->server->taxonomy, FALSE);
    for (guint i = 0; i < types->len; i++) {
      const gchar *name = g_ptr_array_index(types, i);
      gboolean restricted = cd_web_store_type_is_restricted(&req->server->store, name);
      if (restricted && !see_restricted)
        continue;
      json_builder_begin_object(b);
      cd_json_add_string_or_null(b, "name", name);
      cd_json_add_string_or_null(b, "label", cd_web_type_label(req->server, name));
      json_builder_set_member_name(b, "restricted");
      json_builder_add_boolean_value(b, restricted);
      json_builder_end_object(b);
    }
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  node = json_builder_get_root(b);
  cd_web_respond_json(req, SOUP_STATUS_OK, node);
}

static gboolean
cd_web_valid_date(const gchar *date)
{
  g_autofree gchar *iso = NULL;
  g_autoptr(GDateTime) dt = NULL;

  if (date == NULL)
    return TRUE;
  if (strlen(date) != 10 || !g_regex_match_simple("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", date, 0, 0))
    return FALSE;
  iso = g_strdup_printf("%sT00:00:00Z", date);
  dt = g_date_time_new_from_iso8601(iso, NULL);
  return dt != NULL;
}

static gboolean
cd_web_may_name_patient(const gchar *q)
{
  g_auto(GStrv) words = g_strsplit_set(q, " \t", -1);
  guint n = 0;

  if (strpbrk(q, "\"()*:^") != NULL)
    return FALSE;
  for (guint i = 0; words[i] != NULL; i++) {
    if (words[i][0] != '\0')
      n++;
    if (g_strv_contains((const gchar *const[]){ "AND", "OR", "NOT", "NEAR", NULL }, words[i]))
      return FALSE;
  }
  return n > 0 && n <= 3;
}

/* GET /search: cd_archive_search_ex() (exact totals, type and year facets,
 * snippets with their spans) in the contract's shape, type labels added;
 * a q that names patients also lists them, and an exact MRN searches that
 * patient's documents. */
void
cd_web_api_search(CdWebRequest *req)
{
  CdWebServer *self = req->server;
  const gchar *q = cd_web_query(req, "q");
  const gchar *mrn = cd_web_query(req, "mrn");
  const gchar *type = cd_web_query(req, "type");
  const gchar *from = cd_web_query(req, "from");
  const gchar *to = cd_web_query(req, "to");
  const gchar *status = cd_web_query(req, "status");
  g_auto(GStrv) doc_types = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdSearchResult) result = NULL;
  g_autoptr(JsonNode) patients = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *exact_mrn = NULL;
  CdSearchQuery query = { 0 };
  const gchar *text = q;
  JsonObject *obj;
  JsonArray *hits;
  guint limit, offset;

  if (!cd_web_query_uint(req, "limit", 20, 1, 200, &limit) ||
      !cd_web_query_uint(req, "offset", 0, 0, G_MAXINT, &offset))
    return;
  if (!cd_web_valid_date(from) || !cd_web_valid_date(to)) {
    cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "%s: give a date as YYYY-MM-DD",
                         cd_web_valid_date(from) ? "to" : "from");
    return;
  }
  if (status != NULL && g_strcmp0(status, "filed") != 0 && g_strcmp0(status, "review") != 0) {
    cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "status: give filed or review");
    return;
  }
  if (type != NULL && self->taxonomy != NULL) {
    doc_types = cd_taxonomy_resolve_search(self->taxonomy, type, &error);
    if (doc_types == NULL) {
      cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "type: %s", error->message);
      return;
    }
  }
  /* only a short q without query syntax can be an MRN or a name */
  if (q != NULL && cd_web_may_name_patient(q)) {
    g_autofree gchar *stripped = g_strstrip(g_strdup(q));
    JsonArray *array;
    patients = cd_web_store_find_patients(&self->store, q, 10, &error);
    if (patients == NULL) {
      cd_web_respond_gerror(req, error);
      return;
    }
    array = json_node_get_array(patients);
    for (guint i = 0; mrn == NULL && i < json_array_get_length(array); i++) {
      const gchar *m = cd_web_json_string(json_array_get_object_element(array, i), "mrn");
      if (m != NULL && g_ascii_strcasecmp(m, stripped) == 0)
        exact_mrn = g_strdup(m);
    }
    if (exact_mrn != NULL) {
      mrn = exact_mrn;
      text = NULL;
    }
  }
  query.text = text;
  query.mrn = mrn;
  query.doc_type = type;
  query.doc_types = (const gchar *const *) doc_types;
  query.date_from = from;
  query.date_to = to;
  query.status = status;
  query.limit = limit;
  query.offset = offset;
  result = cd_web_store_search(&self->store, &query, &error);
  if (result == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  node = cd_search_result_to_json(result, &query);
  obj = json_node_get_object(node);
  hits = json_object_get_array_member(obj, "hits");
  for (guint i = 0; hits != NULL && i < json_array_get_length(hits); i++) {
    JsonObject *hit = json_array_get_object_element(hits, i);
    const gchar *label = cd_web_type_label(self, cd_web_json_string(hit, "type"));
    if (label != NULL)
      json_object_set_string_member(hit, "type_label", label);
    else
      json_object_set_null_member(hit, "type_label");
  }
  if (patients != NULL && json_array_get_length(json_node_get_array(patients)) > 0)
    json_object_set_member(obj, "patients", g_steal_pointer(&patients));
  cd_web_respond_json(req, SOUP_STATUS_OK, node);
}

/* GET /patients?q= */
void
cd_web_api_patients(CdWebRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) patients = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;
  const gchar *q = cd_web_query(req, "q");

  if (q == NULL) {
    cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                         "q: give an MRN, a name or a date of birth (YYYY-MM-DD)");
    return;
  }
  patients = cd_web_store_find_patients(&req->server->store, q, 50, &error);
  if (patients == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "patients");
  json_builder_add_value(b, g_steal_pointer(&patients));
  json_builder_end_object(b);
  node = json_builder_get_root(b);
  cd_web_respond_json(req, SOUP_STATUS_OK, node);
}

/* GET /patients/{mrn}: the chart, documents by date, labels added. */
void
cd_web_api_patient(CdWebRequest *req, const gchar *mrn)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) chart = NULL;
  g_autofree gchar *unescaped = g_uri_unescape_string(mrn, NULL);
  g_autoptr(JsonNode) holds_node = NULL;
  JsonArray *holds;
  gboolean whole_chart = FALSE, by_search = FALSE;
  JsonObject *obj;
  JsonArray *docs;

  chart = cd_web_store_get_chart(&req->server->store, unescaped != NULL ? unescaped : mrn, &error);
  if (chart == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  obj = json_node_get_object(chart);
  /* the holds covering the patient: on them, on one of their documents, or
   * (on a SQLite archive) a saved search matching one */
  holds_node = cd_web_store_list_holds(&req->server->store, json_object_get_string_member(obj, "mrn"), 0, &error);
  if (holds_node == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  holds = json_node_get_array(holds_node);
  for (guint i = 0; i < json_array_get_length(holds); i++) {
    const gchar *kind = cd_web_json_string(json_array_get_object_element(holds, i), "kind");
    if (g_strcmp0(kind, "patient") == 0)
      whole_chart = TRUE;
    else if (g_strcmp0(kind, "search") == 0)
      by_search = TRUE;
  }
  json_object_set_member(obj, "holds", json_node_copy(holds_node));
  docs = json_object_get_array_member(obj, "documents");
  for (guint i = 0; i < json_array_get_length(docs); i++) {
    JsonObject *doc = json_array_get_object_element(docs, i);
    const gchar *type = cd_web_json_string(doc, "type");
    const gchar *label = cd_web_type_label(req->server, type);
    gint64 id = json_object_get_int_member(doc, "id");
    gboolean held = whole_chart;

    if (label != NULL)
      json_object_set_string_member(doc, "type_label", label);
    else
      json_object_set_null_member(doc, "type_label");
    for (guint k = 0; !held && k < json_array_get_length(holds); k++)
      held = json_object_get_int_member_with_default(json_array_get_object_element(holds, k), "document", 0) == id;
    if (!held && by_search) {
      /* which documents a saved search holds: asked document by document */
      g_autoptr(JsonNode) mine = cd_web_store_list_holds(&req->server->store, NULL, id, NULL);
      held = mine != NULL && json_array_get_length(json_node_get_array(mine)) > 0;
    }
    json_object_set_boolean_member(doc, "held", held);
  }
  cd_web_respond_json(req, SOUP_STATUS_OK, chart);
}

/* GET /documents/{id}: the document without its words. */
void
cd_web_api_document(CdWebRequest *req, gint64 id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) doc = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;
  JsonObject *obj, *patient;
  JsonArray *pages;

  doc = cd_web_store_get_document(&req->server->store, id, &error);
  if (doc == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  obj = json_node_get_object(doc);
  /* the holds covering it (both backends' document JSON carries them) */
  if (!json_object_has_member(obj, "holds"))
    json_object_set_array_member(obj, "holds", json_array_new());
  patient = cd_web_json_object(obj, "patient");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, id);
  cd_json_add_string_or_null(b, "mrn", cd_web_json_string(patient, "mrn"));
  json_builder_set_member_name(b, "patient");
  if (patient != NULL) {
    json_builder_begin_object(b);
    cd_json_add_string_or_null(b, "mrn", cd_web_json_string(patient, "mrn"));
    cd_json_add_string_or_null(b, "family", cd_web_json_string(patient, "family"));
    cd_json_add_string_or_null(b, "given", cd_web_json_string(patient, "given"));
    cd_json_add_string_or_null(b, "dob", cd_web_json_string(patient, "dob"));
    json_builder_end_object(b);
  } else {
    json_builder_add_null_value(b);
  }
  cd_json_add_string_or_null(b, "type", cd_web_json_string(obj, "type"));
  cd_json_add_string_or_null(b, "type_label", cd_web_type_label(req->server, cd_web_json_string(obj, "type")));
  cd_json_add_string_or_null(b, "date", cd_web_json_string(obj, "date"));
  cd_json_add_string_or_null(b, "title", cd_web_json_string(obj, "title"));
  cd_json_add_string_or_null(b, "status", cd_web_json_string(obj, "status"));
  cd_web_json_add_copy(b, "confidence", obj, "type_confidence");
  cd_web_json_add_copy(b, "review", obj, "review");
  cd_web_json_add_copy(b, "holds", obj, "holds");
  cd_web_json_add_copy(b, "destroyed", obj, "destroyed");
  cd_web_json_add_copy(b, "batch", obj, "batch");
  json_builder_set_member_name(b, "pages");
  json_builder_begin_array(b);
  pages = json_object_get_array_member(obj, "pages");
  for (guint i = 0; pages != NULL && i < json_array_get_length(pages); i++) {
    JsonObject *page = json_array_get_object_element(pages, i);
    JsonObject *image = cd_web_json_object(page, "image");
    JsonObject *source = cd_web_json_object(page, "source");
    JsonNode *res = json_object_get_member(page, "resolution");

    json_builder_begin_object(b);
    cd_web_json_add_copy(b, "id", page, "id");
    json_builder_set_member_name(b, "seq");
    json_builder_add_int_value(b, i);
    cd_web_json_add_copy(b, "width", image, "width");
    cd_web_json_add_copy(b, "height", image, "height");
    json_builder_set_member_name(b, "dpi");
    if (res != NULL && JSON_NODE_HOLDS_ARRAY(res) && json_array_get_length(json_node_get_array(res)) > 0)
      json_builder_add_int_value(b, json_array_get_int_element(json_node_get_array(res), 0));
    else
      json_builder_add_null_value(b);
    json_builder_set_member_name(b, "source");
    json_builder_begin_object(b);
    cd_json_add_string_or_null(b, "file", cd_web_json_string(source, "path"));
    cd_web_json_add_copy(b, "page", source, "page");
    json_builder_end_object(b);
    cd_web_json_add_copy(b, "confidence", page, "confidence");
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  node = json_builder_get_root(b);
  cd_web_respond_json(req, SOUP_STATUS_OK, node);
}

/* ---- page images ---- */

void
cd_web_image_cache_clear(CdWebServer *self)
{
  CdWebImage *image;

  while ((image = g_queue_pop_head(&self->image_lru)) != NULL) {
    g_hash_table_remove(self->images, image->key);
    cd_web_image_free(image);
  }
  self->image_bytes = 0;
}

static void
cd_web_image_cache_add(CdWebServer *self, CdWebImage *image)
{
  g_queue_push_head(&self->image_lru, image);
  image->link = self->image_lru.head;
  g_hash_table_insert(self->images, image->key, image);
  self->image_bytes += g_bytes_get_size(image->png);
  while (self->image_bytes > CD_WEB_IMAGE_CACHE_BYTES && self->image_lru.length > 1) {
    CdWebImage *old = g_queue_pop_tail(&self->image_lru);
    g_hash_table_remove(self->images, old->key);
    self->image_bytes -= g_bytes_get_size(old->png);
    cd_web_image_free(old);
  }
}

/* Decodes a stored page image and renders it @width pixels wide as PNG
 * (width 0: the stored width). A bilevel page reduced is antialiased to
 * grey (pixScaleToGray) and kept at 16 levels, 4 bits a pixel: as legible
 * as 8 bits for print, and about half the encoding time and size, which is
 * most of a first view's wait. Enlarged or at its own size it stays
 * bilevel; grey and colour pages are scaled smoothly. */
static GBytes *
cd_web_render_png(GBytes *stored, guint width, gint64 page_id, GError **error)
{
  g_autoptr(PIX) pix = NULL;
  g_autoptr(PIX) flat = NULL;
  g_autoptr(PIX) scaled = NULL;
  g_autoptr(PIX) exact = NULL;
  g_autoptr(PIX) levels = NULL;
  PIX *out;
  l_uint8 *data = NULL;
  size_t size = 0;
  l_int32 w;

  pix = pixReadMem(g_bytes_get_data(stored, NULL), g_bytes_get_size(stored));
  if (pix == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "page %" G_GINT64_FORMAT ": the stored image cannot be read",
                page_id);
    return NULL;
  }
  out = pix;
  w = pixGetWidth(pix);
  if (width > 0 && (l_int32) width != w) {
    if (pixGetDepth(pix) == 1 && (l_int32) width < w) {
      scaled = pixScaleToGray(pix, (l_float32) width / (l_float32) w);
      /* its reductions are whole ratios: the last pixel or two by area */
      if (scaled != NULL && pixGetWidth(scaled) != (l_int32) width)
        exact = pixScaleToSize(scaled, (l_int32) width, 0);
      if (scaled != NULL)
        levels = pixThresholdTo4bpp(exact != NULL ? exact : scaled, 16, FALSE);
      out = levels;
    } else {
      if (pixGetColormap(pix) != NULL)
        flat = pixRemoveColormap(pix, REMOVE_CMAP_BASED_ON_SRC);
      else
        flat = pixClone(pix);
      scaled = pixScaleToSize(flat, (l_int32) width, 0);
      out = scaled;
    }
    if (out == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "page %" G_GINT64_FORMAT ": cannot scale to %u pixels", page_id,
                  width);
      return NULL;
    }
  }
  if (pixGetDepth(out) == 32)
    pixSetZlibCompression(out, 1); /* colour: size matters less than time */
  if (pixWriteMemPng(&data, &size, out, 0.0) != 0 || data == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "page %" G_GINT64_FORMAT ": cannot encode PNG", page_id);
    return NULL;
  }
  return g_bytes_new_with_free_func(data, size, (GDestroyNotify) lept_free, data);
}

/* GET /pages/{id}/image?width=N. The archive is asked for the stored image
 * every time, so that each view is authorised and audited; what is cached is
 * the rendering, by the stored image's hash and the width. */
void
cd_web_api_page_image(CdWebRequest *req, gint64 id)
{
  CdWebServer *self = req->server;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) stored = NULL;
  g_autofree gchar *format = NULL;
  g_autofree gchar *sha = NULL;
  g_autofree gchar *key = NULL;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(req->msg);
  const gchar *if_none;
  CdWebImage *image;
  guint width;

  if (!cd_web_query_uint(req, "width", 0, 16, 4000, &width))
    return;
  stored = cd_web_store_get_page_image(&self->store, id, &format, &error);
  if (stored == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, stored);
  key = g_strdup_printf("%s/%u", sha, width);
  image = g_hash_table_lookup(self->images, key);
  if (image != NULL) {
    g_queue_unlink(&self->image_lru, image->link);
    g_list_free(image->link);
    g_hash_table_remove(self->images, image->key);
    self->image_bytes -= g_bytes_get_size(image->png);
    cd_web_image_cache_add(self, image);
  } else {
    g_autoptr(GBytes) png = cd_web_render_png(stored, width, id, &error);
    if (png == NULL) {
      cd_web_respond_gerror(req, error);
      return;
    }
    image = g_new0(CdWebImage, 1);
    image->key = g_steal_pointer(&key);
    image->png = g_steal_pointer(&png);
    image->etag = g_strdup_printf("\"%.16s-%u\"", sha, width);
    cd_web_image_cache_add(self, image);
  }
  soup_message_headers_replace(headers, "Cache-Control", "private, max-age=3600");
  soup_message_headers_replace(headers, "ETag", image->etag);
  if_none = soup_message_headers_get_one(soup_server_message_get_request_headers(req->msg), "If-None-Match");
  if (if_none != NULL && strstr(if_none, image->etag) != NULL) {
    soup_server_message_set_status(req->msg, SOUP_STATUS_NOT_MODIFIED, NULL);
    return;
  }
  soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response(req->msg, "image/png", SOUP_MEMORY_COPY, g_bytes_get_data(image->png, NULL),
                                   g_bytes_get_size(image->png));
}

/* GET /pages/{id}/words: boxes in stored-image pixels. */
void
cd_web_api_page_words(CdWebRequest *req, gint64 id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) page = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;
  JsonObject *obj, *image;
  JsonNode *words;

  page = cd_web_store_get_page(&req->server->store, id, &error);
  if (page == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  obj = json_node_get_object(page);
  image = cd_web_json_object(obj, "image");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "page");
  json_builder_add_int_value(b, id);
  cd_web_json_add_copy(b, "document", obj, "document");
  cd_web_json_add_copy(b, "seq", obj, "seq");
  cd_web_json_add_copy(b, "width", image, "width");
  cd_web_json_add_copy(b, "height", image, "height");
  json_builder_set_member_name(b, "words");
  json_builder_begin_array(b);
  words = json_object_get_member(obj, "words");
  if (words != NULL && JSON_NODE_HOLDS_ARRAY(words)) {
    JsonArray *array = json_node_get_array(words);
    static const gchar *const keys[] = { "x", "y", "w", "h", "conf", "line", "text" };
    for (guint i = 0; i < json_array_get_length(array); i++) {
      JsonNode *w = json_array_get_element(array, i);
      JsonArray *fields;
      if (!JSON_NODE_HOLDS_ARRAY(w) || json_array_get_length(json_node_get_array(w)) < G_N_ELEMENTS(keys))
        continue;
      fields = json_node_get_array(w);
      json_builder_begin_object(b);
      for (guint k = 0; k < G_N_ELEMENTS(keys); k++) {
        json_builder_set_member_name(b, keys[k]);
        json_builder_add_value(b, json_node_copy(json_array_get_element(fields, k)));
      }
      json_builder_end_object(b);
    }
  }
  json_builder_end_array(b);
  cd_web_json_add_copy(b, "text", obj, "text");
  json_builder_end_object(b);
  node = json_builder_get_root(b);
  cd_web_respond_json(req, SOUP_STATUS_OK, node);
}
