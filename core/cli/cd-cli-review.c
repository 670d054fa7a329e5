/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk review`: the review queue — list, assign, split, merge, type, resolve.
 */
#include "config.h"

#include <stdio.h>

#include "cd-cli-private.h"

gint
cd_cli_review(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  gboolean opt_all = FALSE;
  g_autofree gchar *opt_mrn = NULL;
  g_autofree gchar *opt_why = NULL;
  g_autofree gchar *opt_user = NULL;
  g_autofree gchar *opt_image = NULL;
  g_autofree gchar *opt_type = NULL;
  gint opt_at = 0;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &opt_all, "list: include decided items", NULL },
    { "mrn", 'm', 0, G_OPTION_ARG_STRING, &opt_mrn, "assign: the patient's MRN", "MRN" },
    { "at", 0, 0, G_OPTION_ARG_INT, &opt_at, "split: first page of the new document (1-based)", "N" },
    { "type", 't', 0, G_OPTION_ARG_STRING, &opt_type, "type: the document type", "TYPE" },
    { "why", 'w', 0, G_OPTION_ARG_STRING, &opt_why, "The reason for a decision, for the audit log (required)", "TEXT" },
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &opt_image, "show: write the first page image to FILE", "FILE" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who decides (default: login name)", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ACTION ARCHIVE [ID…] — work the review queue");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  const gchar *action;
  gint64 id = 0, other = 0;
  gboolean is_page = FALSE;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Actions:\n"
                                    "  list ARCHIVE                          open items (--all: decided ones too)\n"
                                    "  show ARCHIVE DOCUMENT                 the document, its reasons and findings\n"
                                    "  assign ARCHIVE DOCUMENT --mrn M --why  file it to a patient\n"
                                    "  split ARCHIVE DOCUMENT --at N --why   a new document from page N on\n"
                                    "  merge ARCHIVE INTO FROM --why          append FROM's pages to INTO\n"
                                    "  resolve ARCHIVE ITEM --why             close an item (a page rescanned)\n"
                                    "  type ARCHIVE DOCUMENT --type T --why   set the document type\n"
                                    "  claim ARCHIVE ITEM                     take an item: you are working it\n"
                                    "  unclaim ARCHIVE ITEM                   give it back to the queue\n"
                                    "Every decision is written to the audit log with who and why.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc < 3)
    return cd_cli_usage(ctx, "review needs an action and an archive");
  action = argv[1];
  if (!g_strv_contains((const gchar *const[]){ "list", "show", "assign", "split", "merge", "resolve", "type", "claim", "unclaim",
                                                   NULL },
                       action))
    return cd_cli_usage(ctx, "unknown review action");
  if (g_strcmp0(action, "list") != 0) {
    if (argc < 4 || !cd_cli_parse_ref(argv[3], &is_page, &id))
      return cd_cli_usage(ctx, "give a document (or review item) id");
  }
  if (g_strcmp0(action, "merge") == 0 && (argc < 5 || !cd_cli_parse_ref(argv[4], &is_page, &other)))
    return cd_cli_usage(ctx, "merge needs two document ids: INTO FROM");
  archive = cd_cli_open_archive(argv[2], CD_ARCHIVE_FLAG_NONE, &error);
  if (archive == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (opt_user != NULL)
    cd_cli_set_user(archive, opt_user);

  if (g_strcmp0(action, "list") == 0) {
    g_autoptr(GPtrArray) items = cd_archive_list_review(archive, opt_all, &error);
    if (items == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    cd_cli_print_review(items, opt_json);
    return CD_EXIT_OK;
  }
  if (g_strcmp0(action, "show") == 0) {
    g_autoptr(JsonNode) node = cd_archive_get_document(archive, id, &error);
    if (node == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    if (opt_image != NULL) {
      JsonArray *pages = json_object_get_array_member(json_node_get_object(node), "pages");
      gint64 page_id = json_object_get_int_member(json_array_get_object_element(pages, 0), "id");
      if (!cd_cli_write_page_image(archive, page_id, opt_image, &error)) {
        cd_cli_print_error(error);
        return CD_EXIT_FAILED;
      }
    }
    if (opt_json) {
      g_autofree gchar *out = json_to_string(node, TRUE);
      g_print("%s\n", out);
    } else {
      cd_cli_print_record(node, FALSE);
    }
    return CD_EXIT_OK;
  }
  if (opt_why == NULL)
    return cd_cli_usage(ctx, "a decision needs --why");
  if (g_strcmp0(action, "assign") == 0) {
    if (opt_mrn == NULL)
      return cd_cli_usage(ctx, "assign needs --mrn");
    if (!cd_archive_review_assign(archive, id, opt_mrn, opt_why, &error)) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    g_print("document %" G_GINT64_FORMAT " filed to MRN %s\n", id, opt_mrn);
  } else if (g_strcmp0(action, "split") == 0) {
    gint64 new_id;
    if (opt_at < 2)
      return cd_cli_usage(ctx, "split needs --at N (2 or more)");
    new_id = cd_archive_review_split(archive, id, opt_at, opt_why, &error);
    if (new_id == 0) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    g_print("document %" G_GINT64_FORMAT " split: pages %d on are document %" G_GINT64_FORMAT " (in review)\n", id,
            opt_at, new_id);
  } else if (g_strcmp0(action, "type") == 0) {
    g_autoptr(CdTaxonomy) taxonomy = NULL;
    const gchar *type;
    if (opt_type == NULL)
      return cd_cli_usage(ctx, "type needs --type TYPE");
    taxonomy = cd_taxonomy_new_default(&error);
    if (taxonomy == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    type = cd_taxonomy_lookup(taxonomy, opt_type);
    if (type == NULL || cd_taxonomy_is_retired(taxonomy, type)) {
      fprintf(stderr, "chartdesk: '%s' is not a document type in use (see %s)\n", opt_type,
              cd_taxonomy_get_origin(taxonomy));
      return CD_EXIT_USAGE;
    }
    if (!cd_archive_review_set_type(archive, id, type, opt_why, &error)) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    g_print("document %" G_GINT64_FORMAT " is a %s\n", id, type);
  } else if (g_strcmp0(action, "merge") == 0) {
    if (!cd_archive_review_merge(archive, id, other, opt_why, &error)) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    g_print("document %" G_GINT64_FORMAT " merged into document %" G_GINT64_FORMAT "\n", other, id);
  } else if (g_strcmp0(action, "claim") == 0 || g_strcmp0(action, "unclaim") == 0) {
    gboolean release = g_strcmp0(action, "unclaim") == 0;
    if (!cd_archive_review_claim(archive, id, release, &error)) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    g_print("review item %" G_GINT64_FORMAT " %s\n", id, release ? "back in the queue" : "taken");
  } else {
    if (!cd_archive_review_resolve(archive, id, opt_why, &error)) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    g_print("review item %" G_GINT64_FORMAT " closed\n", id);
  }
  return CD_EXIT_OK;
}
