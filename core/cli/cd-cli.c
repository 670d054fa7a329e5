/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The parts of `chartdesk` that format things for people: the plugin
 * listing, page images, documents at a terminal; the one way the command
 * line opens an archive; `chartdesk audit`.
 */
#include "config.h"

#include <stdio.h>

#include "cd-cli-private.h"

gint
cd_cli_plugins(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("— list plugins, their stages and options");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdRegistry) registry = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonArray *plugins;
  JsonArray *failed;

  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_set_summary(ctx, "Plugins are read from CHARTDESK_PLUGIN_PATH, the build tree when run from it, "
                                    "and the install folder.");
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "chartdesk: %s\n", error->message);
    return CD_EXIT_USAGE;
  }
  registry = cd_cli_load_registry();
  root = cd_registry_to_json(registry);
  if (opt_json) {
    g_autofree gchar *out = json_to_string(root, TRUE);
    g_print("%s\n", out);
    return cd_registry_get_failed(registry)->len > 0 ? 1 : 0;
  }

  plugins = json_object_get_array_member(json_node_get_object(root), "plugins");
  for (guint i = 0; i < json_array_get_length(plugins); i++) {
    JsonObject *p = json_array_get_object_element(plugins, i);
    JsonArray *stages = json_object_get_array_member(p, "stages");
    g_print("%s %s (%s)\n  %s\n  %s\n", json_object_get_string_member(p, "name"),
            json_object_get_string_member(p, "version"), json_object_get_string_member(p, "license"),
            json_object_get_string_member(p, "description"), json_object_get_string_member(p, "file"));
    for (guint j = 0; j < json_array_get_length(stages); j++) {
      JsonObject *s = json_array_get_object_element(stages, j);
      JsonArray *options = json_object_get_array_member(s, "options");
      g_print("\n  %s  [%s stage]\n    %s\n", json_object_get_string_member(s, "name"),
              json_object_get_string_member(s, "kind"), json_object_get_string_member(s, "description"));
      for (guint k = 0; k < json_array_get_length(options); k++) {
        JsonObject *o = json_array_get_object_element(options, k);
        g_autoptr(GString) range = g_string_new(NULL);
        if (json_object_has_member(o, "minimum"))
          g_string_append_printf(range, ", %s to %s", json_object_get_string_member(o, "minimum"),
                                 json_object_get_string_member(o, "maximum"));
        if (json_object_has_member(o, "choices")) {
          JsonArray *choices = json_object_get_array_member(o, "choices");
          g_string_append(range, ", one of");
          for (guint c = 0; c < json_array_get_length(choices); c++)
            g_string_append_printf(range, " %s", json_array_get_string_element(choices, c));
        }
        g_print("    %-18s %-8s default %s%s\n      %s\n", json_object_get_string_member(o, "name"),
                json_object_get_string_member(o, "type"), json_object_get_string_member(o, "default"), range->str,
                json_object_get_string_member(o, "description"));
      }
    }
    g_print("\n");
  }
  failed = json_object_get_array_member(json_node_get_object(root), "failed");
  if (json_array_get_length(failed) > 0) {
    g_print("Not loaded:\n");
    for (guint i = 0; i < json_array_get_length(failed); i++) {
      JsonObject *f = json_array_get_object_element(failed, i);
      g_print("  %s\n", json_object_get_string_member(f, "error"));
    }
    return CD_EXIT_FAILED;
  }
  return CD_EXIT_OK;
}

/* Writes @data to @filename readable by the owner alone (0600) whatever the
 * umask: a page image is patient data. The file is written beside and
 * renamed over, so an existing file's looser mode is not kept. */
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
  g_autofree gchar *lower = NULL;
  g_autoptr(PIX) pix = NULL;
  gsize size;
  const guint8 *data;
  gint iff;

  if (bytes == NULL)
    return FALSE;
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
    if (item->resolved != NULL)
      g_print("      decided %s by %s: %s\n", item->resolved, item->resolved_by, item->resolution);
  }
}

/* ---------------------------------------------------------------- archives */

static gchar *opt_audit_key; /* --audit-key, for the life of the process */

static const GOptionEntry cd_cli_archive_entries[] = {
  { "audit-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_audit_key,
    "The audit log's key (default: CHARTDESK_AUDIT_KEY, else ~/.config/chartdesk/audit.key)", "FILE" },
  { NULL },
};

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
  g_autoptr(CdArchive) archive = cd_archive_open(path, flags, error);

  if (archive == NULL)
    return NULL;
  if (opt_audit_key != NULL && !cd_archive_set_audit_key_file(archive, opt_audit_key, error))
    return NULL;
  return g_steal_pointer(&archive);
}

/* ------------------------------------------------------------------- audit */

/* `chartdesk audit verify ARCHIVE`: 0 when the log is intact, 1 with the
 * first bad entry and what is wrong otherwise, 2 for a usage error. */
gint
cd_cli_audit(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  g_autofree gchar *opt_anchor = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the verification as JSON", NULL },
    { "anchor", 0, 0, G_OPTION_ARG_FILENAME, &opt_anchor, "The anchor file (default: ARCHIVE.audit-anchor)", "FILE" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("verify ARCHIVE — verify the audit log");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(JsonNode) report = NULL;
  JsonObject *obj;
  JsonArray *warnings;
  gboolean intact;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Verifies every entry of the audit log against its keyed chain (HMAC-SHA256 "
                                    "with the audit key),\nthe entries older than schema 4 against their plain "
                                    "chain and seal, and the newest entries\nagainst the anchor beside the archive "
                                    "and in the batch journal. Exit status 0: intact;\n1: the first bad entry and "
                                    "what is wrong are printed.");
  g_option_context_set_help_enabled(ctx, TRUE);
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "chartdesk: %s\n", error->message);
    return 2;
  }
  if (argc != 3 || g_strcmp0(argv[1], "verify") != 0) {
    g_autofree gchar *help = g_option_context_get_help(ctx, TRUE, NULL);
    fprintf(stderr, "chartdesk: give verify ARCHIVE\n\n%s", help);
    return 2;
  }
  archive = cd_cli_open_archive(argv[2], CD_ARCHIVE_FLAG_NONE, &error);
  if (archive != NULL && opt_anchor != NULL)
    cd_archive_set_audit_anchor(archive, opt_anchor);
  if (archive != NULL)
    report = cd_archive_verify_audit_report(archive, &error);
  if (report == NULL) {
    cd_cli_print_error(error);
    return 1;
  }
  obj = json_node_get_object(report);
  intact = json_object_get_boolean_member(obj, "intact");
  if (opt_json) {
    g_autofree gchar *out = json_to_string(report, TRUE);
    g_print("%s\n", out);
    return intact ? 0 : 1;
  }
  if (intact) {
    g_print("%s: audit log intact: %" G_GINT64_FORMAT " entries (%" G_GINT64_FORMAT " keyed, %" G_GINT64_FORMAT
            " from before schema 4)\n",
            argv[2], json_object_get_int_member(obj, "entries"), json_object_get_int_member(obj, "keyed_entries"),
            json_object_get_int_member(obj, "legacy_entries"));
  } else {
    JsonNode *bad = json_object_get_member(obj, "first_bad_entry");
    if (!JSON_NODE_HOLDS_NULL(bad))
      g_print("%s: first bad entry: %" G_GINT64_FORMAT "\n", argv[2], json_node_get_int(bad));
    g_print("%s\n", json_object_get_string_member(obj, "problem"));
  }
  warnings = json_object_get_array_member(obj, "warnings");
  for (guint i = 0; i < json_array_get_length(warnings); i++)
    g_print("%s: warning: %s\n", argv[2], json_array_get_string_element(warnings, i));
  return intact ? 0 : 1;
}
