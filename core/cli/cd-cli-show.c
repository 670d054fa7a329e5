/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk show`: a document or page at the terminal, or a page image to a file.
 */
#include "config.h"

#include <stdio.h>

#include "cd-archive-spool.h"
#include "cd-cli-private.h"

/* A document of the hospital's server (issue 18), read as the login
 * (cd_cli_open_server); --image writes one of its pages. */
static gint
cd_cli_show_server(const gchar *uri, gboolean is_page, gint64 id, const gchar *image, gint page, const gchar *user,
                   const gchar *purpose, gboolean json)
{
  g_autofree gchar *server = cd_server_display_name(uri);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPgArchive) pg = NULL;
  g_autoptr(JsonNode) node = NULL;

  if (is_page) {
    g_printerr("chartdesk: %s: show a document of the server (document:ID; --image with --page for a page)\n", server);
    return CD_EXIT_USAGE;
  }
  pg = cd_cli_open_server(uri, CD_ARCHIVE_FLAG_NONE, user, &error);
  if (pg != NULL) {
    cd_pg_archive_set_purpose(pg, purpose);
    node = cd_pg_archive_get_document(pg, id, &error);
  }
  if (node == NULL)
    return cd_cli_fail_server(uri, error);
  if (image != NULL) {
    JsonArray *pages = json_object_get_array_member(json_node_get_object(node), "pages");
    g_autofree gchar *format = NULL;
    g_autoptr(GBytes) bytes = NULL;
    gint64 page_id;
    if (pages == NULL || page < 1 || (guint) page > json_array_get_length(pages)) {
      g_printerr("chartdesk: %s: document %" G_GINT64_FORMAT " has %u pages, not %d\n", server, id,
                 pages != NULL ? json_array_get_length(pages) : 0, page);
      return CD_EXIT_FAILED;
    }
    page_id = json_object_get_int_member(json_array_get_object_element(pages, page - 1), "id");
    bytes = cd_pg_archive_get_page_image(pg, page_id, &format, &error);
    if (bytes == NULL || !cd_cli_write_image_bytes(bytes, format, page_id, image, &error))
      return cd_cli_fail_server(uri, error);
  }
  if (json) {
    g_autofree gchar *out = json_to_string(node, TRUE);
    g_print("%s\n", out);
  } else {
    cd_cli_print_record(node, FALSE);
  }
  return CD_EXIT_OK;
}

gint
cd_cli_show(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  g_autofree gchar *opt_image = NULL;
  gint opt_page = 1;
  g_autofree gchar *opt_user = NULL;
  g_autofree gchar *opt_purpose = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON, word boxes included", NULL },
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &opt_image, "Write the page image to FILE (.png, .tif, .jpg)", "FILE" },
    { "page", 0, 0, G_OPTION_ARG_INT, &opt_page, "With a document and --image: which page (default 1)", "N" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who to record in the audit log", "NAME" },
    { "purpose", 'p', 0, G_OPTION_ARG_STRING, &opt_purpose, "Why, for the audit log", "TEXT" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE document:ID|page:ID — show a document or page");
  g_option_context_set_summary(ctx, "ARCHIVE may be the hospital's server, postgresql://…: its documents "
                                    "(document:ID), read as the login.");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(JsonNode) node = NULL;
  gboolean is_page;
  gint64 id;
  gint64 image_page = 0;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 3)
    return cd_cli_usage(ctx, "show needs an archive and one document or page");
  if (!cd_cli_parse_ref(argv[2], &is_page, &id))
    return cd_cli_usage(ctx, "give document:ID, page:ID or a document id");

  if (cd_archive_location_is_server(argv[1]))
    return cd_cli_show_server(argv[1], is_page, id, opt_image, opt_page, opt_user, opt_purpose, opt_json);
  archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_NONE, &error);
  if (archive == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (opt_user != NULL)
    cd_cli_set_user(archive, opt_user);
  cd_archive_set_purpose(archive, opt_purpose);
  node = is_page ? cd_archive_get_page(archive, id, &error) : cd_archive_get_document(archive, id, &error);
  if (node == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }

  if (is_page) {
    image_page = id;
  } else if (opt_image != NULL) {
    JsonArray *pages = json_object_get_array_member(json_node_get_object(node), "pages");
    if (opt_page < 1 || (guint) opt_page > json_array_get_length(pages)) {
      fprintf(stderr, "chartdesk: document %" G_GINT64_FORMAT " has %u pages, not %d\n", id,
              json_array_get_length(pages), opt_page);
      return CD_EXIT_FAILED;
    }
    image_page = json_object_get_int_member(json_array_get_object_element(pages, opt_page - 1), "id");
  }
  if (opt_image != NULL && !cd_cli_write_page_image(archive, image_page, opt_image, &error)) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }

  if (opt_json) {
    g_autofree gchar *out = json_to_string(node, TRUE);
    g_print("%s\n", out);
  } else {
    cd_cli_print_record(node, is_page);
  }
  return CD_EXIT_OK;
}
