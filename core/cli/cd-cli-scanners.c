/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk scanners`: the scanners the `sane` source can scan from. The
 * command line does not link SANE: it asks the sane plugin's source stage
 * for its read-only `devices` property, one `name\tvendor\tmodel\ttype`
 * line per device.
 */
#include "config.h"

#include <stdio.h>

#include "cd-cli-private.h"

static const gchar *
cd_cli_field(GStrv fields, guint i)
{
  return i < g_strv_length(fields) ? fields[i] : "";
}

gint
cd_cli_scanners(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("— list the scanners to scan from");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdRegistry) registry = NULL;
  g_autoptr(GObject) source = NULL;
  g_auto(GStrv) devices = NULL;
  GType type;

  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_set_summary(ctx, "Lists the scanners SANE finds (local and on the network) with the name to give "
                                    "`chartdesk ingest --workflow scan-intake ARCHIVE NAME` or the sane stage's "
                                    "device option. SANE_CONFIG_DIR chooses another SANE configuration.");
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "chartdesk: %s\n", error->message);
    return CD_EXIT_USAGE;
  }
  registry = cd_cli_load_registry();
  type = cd_registry_find_stage(registry, "sane", &error);
  if (type == G_TYPE_INVALID) {
    g_prefix_error(&error, "cannot list scanners: ");
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  source = g_object_new(type, NULL);
  g_object_get(source, "devices", &devices, NULL);

  if (opt_json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree gchar *out = NULL;
    json_builder_begin_array(b);
    for (guint i = 0; devices != NULL && devices[i] != NULL; i++) {
      g_auto(GStrv) f = g_strsplit(devices[i], "\t", 4);
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "name");
      json_builder_add_string_value(b, cd_cli_field(f, 0));
      json_builder_set_member_name(b, "vendor");
      json_builder_add_string_value(b, cd_cli_field(f, 1));
      json_builder_set_member_name(b, "model");
      json_builder_add_string_value(b, cd_cli_field(f, 2));
      json_builder_set_member_name(b, "type");
      json_builder_add_string_value(b, cd_cli_field(f, 3));
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    root = json_builder_get_root(b);
    out = json_to_string(root, TRUE);
    g_print("%s\n", out);
    return CD_EXIT_OK;
  }
  if (devices == NULL || devices[0] == NULL) {
    g_print("No scanners found. `scanimage -L` shows what SANE sees; check that the scanner is on, that its backend "
            "is enabled in dll.conf, and that this user may use it.\n");
    return CD_EXIT_OK;
  }
  g_print("%-32s %-16s %-32s %s\n", "NAME", "VENDOR", "MODEL", "TYPE");
  for (guint i = 0; devices[i] != NULL; i++) {
    g_auto(GStrv) f = g_strsplit(devices[i], "\t", 4);
    g_print("%-32s %-16s %-32s %s\n", cd_cli_field(f, 0), cd_cli_field(f, 1), cd_cli_field(f, 2), cd_cli_field(f, 3));
  }
  return CD_EXIT_OK;
}
