/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk status`: what the running chartdeskd says of itself, its
 * delivery to the hospital's server first (issue 18, part 2): what waits
 * in the station's spool, documents and changes.
 */
#include "config.h"

#include <stdio.h>

#include "cd-cli-private.h"
#include "cd-client.h"

static guint64
cd_status_u64(GVariant *d, const gchar *key)
{
  guint64 v = 0;
  g_variant_lookup(d, key, "t", &v);
  return v;
}

static gchar *
cd_status_str(GVariant *d, const gchar *key)
{
  gchar *v = NULL;
  if (!g_variant_lookup(d, key, "s", &v))
    v = g_strdup("");
  return v;
}

/* "3 documents and 5 changes", "1 document", "nothing" */
static gchar *
cd_status_waiting(guint64 documents, guint64 changes)
{
  g_autofree gchar *docs = g_strdup_printf("%" G_GUINT64_FORMAT " document%s", documents, documents == 1 ? "" : "s");
  g_autofree gchar *chg = g_strdup_printf("%" G_GUINT64_FORMAT " change%s", changes, changes == 1 ? "" : "s");

  if (documents > 0 && changes > 0)
    return g_strdup_printf("%s and %s", docs, chg);
  if (documents > 0)
    return g_steal_pointer(&docs);
  if (changes > 0)
    return g_steal_pointer(&chg);
  return g_strdup("nothing");
}

static gchar *
cd_status_time(gint64 unix_time)
{
  g_autoptr(GDateTime) t = NULL;

  if (unix_time <= 0)
    return g_strdup("never");
  t = g_date_time_new_from_unix_local(unix_time);
  return g_date_time_format(t, "%Y-%m-%d %H:%M:%S");
}

gint
cd_cli_status(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the service's state as JSON", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("— what the running chartdeskd is doing");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdDBusChartdesk1) proxy = NULL;
  GVariant *delivery;

  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_set_summary(ctx, "Reads chartdeskd's state over D-Bus (the session bus): its version and its\n"
                                    "delivery to the hospital's server ([archive] server): what waits in the\n"
                                    "spool, documents not yet on the server and changes made after delivery.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc > 1)
    return cd_cli_usage(ctx, "status takes no arguments");
  proxy = cd_client_connect(CD_CLIENT_AUTO, &error);
  if (proxy == NULL) {
    if (error != NULL)
      cd_cli_print_error(error);
    else
      g_printerr("chartdesk: no chartdeskd is running on the session bus\n");
    return CD_EXIT_FAILED;
  }
  delivery = cd_dbus_chartdesk1_get_delivery(proxy);
  if (opt_json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "version");
    json_builder_add_string_value(b, cd_dbus_chartdesk1_get_version(proxy));
    json_builder_set_member_name(b, "delivery");
    if (delivery != NULL && g_variant_n_children(delivery) > 0)
      json_builder_add_value(b, json_gvariant_serialize(delivery));
    else
      json_builder_add_null_value(b);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    cd_cli_print_json(root);
    return CD_EXIT_OK;
  }
  g_print("chartdeskd %s\n", cd_dbus_chartdesk1_get_version(proxy));
  if (delivery == NULL || g_variant_n_children(delivery) == 0) {
    g_print("delivery: none (no [archive] server)\n");
    return CD_EXIT_OK;
  }
  {
    g_autofree gchar *server = cd_status_str(delivery, "server");
    g_autofree gchar *station = cd_status_str(delivery, "station");
    g_autofree gchar *state = cd_status_str(delivery, "state");
    g_autofree gchar *last_error = cd_status_str(delivery, "last-error");
    g_autofree gchar *waiting =
        cd_status_waiting(cd_status_u64(delivery, "pending-documents"), cd_status_u64(delivery, "pending-changes"));
    g_autofree gchar *last_pass = NULL;
    gint64 t = 0;
    guint32 failures = 0;

    g_variant_lookup(delivery, "last-pass", "x", &t);
    last_pass = cd_status_time(t);
    g_variant_lookup(delivery, "failures", "u", &failures);
    g_print("delivery to %s as station %s: %s\n", server[0] != '\0' ? server : "the server", station, state);
    g_print("  waiting in the spool: %s\n", waiting);
    g_print("  delivered since start: %" G_GUINT64_FORMAT " documents (%" G_GUINT64_FORMAT " pages), %" G_GUINT64_FORMAT
            " duplicates\n",
            cd_status_u64(delivery, "delivered-documents"), cd_status_u64(delivery, "delivered-pages"),
            cd_status_u64(delivery, "duplicate-documents"));
    g_print("  last pass without error: %s\n", last_pass);
    if (failures > 0)
      g_print("  failing: %u passes in a row: %s\n", failures, last_error);
  }
  return CD_EXIT_OK;
}
