/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What several `chartdesk` commands print or write for people: documents,
 * pages and review items at a terminal, page images to private files.
 */
#include "config.h"

#include <stdio.h>

#include "cd-cli-private.h"

static gboolean
cd_cli_write_private(const gchar *filename, const guint8 *data, gsize size, GError **error)
{
  g_autoptr(GFile) file = g_file_new_for_path(filename);
  g_autoptr(GError) error_local = NULL;

  if (!g_file_replace_contents(file, (const gchar *) data, size, NULL, FALSE,
                               G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION, NULL, NULL, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "%s: cannot write: %s", filename, error_local->message);
    return FALSE;
  }
  return TRUE;
}

/* Writes a stored page image, mode 0600: the stored bytes when the
 * extension asks for the stored format, otherwise decoded and re-encoded by
 * Leptonica. */
gboolean
cd_cli_write_page_image(CdArchive *archive, gint64 page_id, const gchar *filename, GError **error)
{
  g_autofree gchar *format = NULL;
  g_autoptr(GBytes) bytes = cd_archive_get_page_image(archive, page_id, &format, error);

  if (bytes == NULL)
    return FALSE;
  return cd_cli_write_image_bytes(bytes, format, page_id, filename, error);
}

/* A stored page image (@format as the archive names it) into @filename,
 * converted to the type its extension asks for: from a SQLite archive or
 * from the server alike. */
gboolean
cd_cli_write_image_bytes(GBytes *bytes, const gchar *format, gint64 page_id, const gchar *filename, GError **error)
{
  g_autofree gchar *lower = NULL;
  g_autoptr(PIX) pix = NULL;
  gsize size;
  const guint8 *data;
  gint iff;

  data = g_bytes_get_data(bytes, &size);
  lower = g_ascii_strdown(filename, -1);
  if ((g_strcmp0(format, "jpeg") == 0 && (g_str_has_suffix(lower, ".jpg") || g_str_has_suffix(lower, ".jpeg"))) ||
      (g_strcmp0(format, "tiff-g4") == 0 && (g_str_has_suffix(lower, ".tif") || g_str_has_suffix(lower, ".tiff"))))
    return cd_cli_write_private(filename, data, size, error);

  if (g_str_has_suffix(lower, ".png"))
    iff = IFF_PNG;
  else if (g_str_has_suffix(lower, ".jpg") || g_str_has_suffix(lower, ".jpeg"))
    iff = IFF_JFIF_JPEG;
  else if (g_str_has_suffix(lower, ".tif") || g_str_has_suffix(lower, ".tiff"))
    iff = IFF_TIFF_LZW;
  else if (g_str_has_suffix(lower, ".pnm") || g_str_has_suffix(lower, ".pbm") || g_str_has_suffix(lower, ".pgm"))
    iff = IFF_PNM;
  else {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: unknown image type: use .png, .tif, .jpg or .pnm",
                filename);
    return FALSE;
  }
  pix = pixReadMem(data, size);
  if (pix == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "page %" G_GINT64_FORMAT ": stored image cannot be decoded",
                page_id);
    return FALSE;
  }
  {
    l_uint8 *encoded = NULL;
    size_t encoded_size = 0;
    gboolean ok;
    if (pixWriteMem(&encoded, &encoded_size, pix, iff) != 0 || encoded == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "%s: cannot encode image", filename);
      return FALSE;
    }
    ok = cd_cli_write_private(filename, encoded, encoded_size, error);
    lept_free(encoded);
    return ok;
  }
}

static const gchar *
cd_json_str(JsonObject *obj, const gchar *member)
{
  JsonNode *node = json_object_get_member(obj, member);
  if (node == NULL || JSON_NODE_HOLDS_NULL(node))
    return "-";
  return json_node_get_string(node);
}

static void
cd_cli_print_page(JsonObject *page)
{
  JsonObject *source = json_object_get_object_member(page, "source");
  JsonNode *src_page = json_object_get_member(source, "page");
  JsonNode *conf = json_object_get_member(page, "confidence");
  JsonArray *problems = json_object_get_array_member(page, "problems");

  g_print("--- page %" G_GINT64_FORMAT ": %s", json_object_get_int_member(page, "id"), cd_json_str(source, "path"));
  if (!JSON_NODE_HOLDS_NULL(src_page))
    g_print(" page %" G_GINT64_FORMAT, json_node_get_int(src_page) + 1);
  if (!JSON_NODE_HOLDS_NULL(conf))
    g_print("  confidence %.0f", json_node_get_double(conf));
  if (json_object_get_int_member(page, "rotation") != 0)
    g_print("  rotated %" G_GINT64_FORMAT "°", json_object_get_int_member(page, "rotation"));
  if (json_object_get_double_member(page, "skew") != 0)
    g_print("  deskewed %.2f°", json_object_get_double_member(page, "skew"));
  g_print("\n");
  for (guint i = 0; i < json_array_get_length(problems); i++)
    g_print("    problem: %s\n", json_array_get_string_element(problems, i));
  if (json_object_has_member(page, "text") && !JSON_NODE_HOLDS_NULL(json_object_get_member(page, "text")))
    g_print("%s\n", json_object_get_string_member(page, "text"));
}

void
cd_cli_print_record(JsonNode *node, gboolean is_page)
{
  JsonObject *obj = json_node_get_object(node);
  JsonArray *pages;
  JsonArray *review;
  JsonNode *patient;

  if (is_page) {
    if (json_object_has_member(obj, "document"))
      g_print("Page %" G_GINT64_FORMAT " of document %" G_GINT64_FORMAT " (position %" G_GINT64_FORMAT ")\n",
              json_object_get_int_member(obj, "id"), json_object_get_int_member(obj, "document"),
              json_object_get_int_member(obj, "seq") + 1);
    else
      g_print("Page %" G_GINT64_FORMAT ", kept out of documents: %s (%s)\n", json_object_get_int_member(obj, "id"),
              cd_json_str(obj, "kind"), cd_json_str(obj, "reason"));
    cd_cli_print_page(obj);
    return;
  }
  patient = json_object_get_member(obj, "patient");
  g_print("Document %" G_GINT64_FORMAT "  [%s]\n", json_object_get_int_member(obj, "id"), cd_json_str(obj, "status"));
  if (JSON_NODE_HOLDS_OBJECT(patient)) {
    JsonObject *p = json_node_get_object(patient);
    g_print("  patient  %s  %s, %s  born %s\n", cd_json_str(p, "mrn"), cd_json_str(p, "family"),
            cd_json_str(p, "given"), cd_json_str(p, "dob"));
  } else {
    g_print("  patient  not identified\n");
  }
  g_print("  type     %s\n  date     %s\n  title    %s\n", cd_json_str(obj, "type"), cd_json_str(obj, "date"),
          cd_json_str(obj, "title"));
  review = json_object_get_array_member(obj, "review");
  for (guint i = 0; i < json_array_get_length(review); i++)
    g_print("  review   %s\n", json_array_get_string_element(review, i));
  pages = json_object_get_array_member(obj, "pages");
  for (guint i = 0; i < json_array_get_length(pages); i++)
    cd_cli_print_page(json_array_get_object_element(pages, i));
}

void
cd_cli_print_review(GPtrArray *items, gboolean json)
{
  if (json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree gchar *out = NULL;
    json_builder_begin_array(b);
    for (guint i = 0; i < items->len; i++) {
      CdReviewItem *item = g_ptr_array_index(items, i);
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "id");
      json_builder_add_int_value(b, item->id);
      json_builder_set_member_name(b, "document");
      if (item->document_id > 0)
        json_builder_add_int_value(b, item->document_id);
      else
        json_builder_add_null_value(b);
      json_builder_set_member_name(b, "page");
      if (item->page_id > 0)
        json_builder_add_int_value(b, item->page_id);
      else
        json_builder_add_null_value(b);
      json_builder_set_member_name(b, "reason");
      json_builder_add_string_value(b, item->reason);
      json_builder_set_member_name(b, "created");
      json_builder_add_string_value(b, item->created);
      json_builder_set_member_name(b, "resolved");
      json_builder_add_string_value(b, item->resolved);
      json_builder_set_member_name(b, "resolved_by");
      json_builder_add_string_value(b, item->resolved_by);
      json_builder_set_member_name(b, "resolution");
      json_builder_add_string_value(b, item->resolution);
      json_builder_set_member_name(b, "assignee");
      json_builder_add_string_value(b, item->assignee);
      json_builder_set_member_name(b, "assigned");
      json_builder_add_string_value(b, item->assigned);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    root = json_builder_get_root(b);
    out = json_to_string(root, TRUE);
    g_print("%s\n", out);
    return;
  }
  if (items->len == 0) {
    g_print("Nothing to review.\n");
    return;
  }
  for (guint i = 0; i < items->len; i++) {
    CdReviewItem *item = g_ptr_array_index(items, i);
    if (item->document_id > 0)
      g_print("%4" G_GINT64_FORMAT "  document %-6" G_GINT64_FORMAT " %s\n", item->id, item->document_id, item->reason);
    else
      g_print("%4" G_GINT64_FORMAT "  page %-10" G_GINT64_FORMAT " %s\n", item->id, item->page_id, item->reason);
    if (item->assignee != NULL && item->resolved == NULL)
      g_print("      taken by %s on %s\n", item->assignee, item->assigned);
    if (item->resolved != NULL)
      g_print("      decided %s by %s: %s\n", item->resolved, item->resolved_by, item->resolution);
  }
}
