/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk plugins`: every plugin, stage and option, from the property specifications alone.
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
