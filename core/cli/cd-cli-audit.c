/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk audit`: an archive's audit log verified against its key and anchor.
 */
#include "config.h"

#include <stdio.h>

#include "cd-cli-private.h"

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
