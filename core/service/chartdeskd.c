/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdeskd`: the service that runs all day at a scanning station. It
 * loads the plugins once, owns org.chartdesk.Chartdesk1 on the session bus
 * (or the system bus), runs batches, watches hot folders and answers
 * archivists' searches. The work itself is in CdService; this file is the
 * process: options, configuration, bus name, signals.
 */
#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>

#include "cd-service-common.h"
#include "cd-service.h"

#define CD_TYPE_DAEMON (cd_daemon_get_type())
G_DECLARE_FINAL_TYPE(CdDaemon, cd_daemon, CD, DAEMON, GApplication)

struct _CdDaemon {
  GApplication parent_instance;
  CdService *service;
  gboolean system_bus;
  guint owner_id;
  guint sigterm_id;
  guint sigint_id;
  gboolean held;
  gint status; /* the exit status */
};

G_DEFINE_TYPE(CdDaemon, cd_daemon, G_TYPE_APPLICATION)

static void
cd_daemon_fail(CdDaemon *self, const gchar *what, const GError *error)
{
  g_warning("%s: %s", what, error->message);
  self->status = 1;
  if (self->held) {
    self->held = FALSE;
    g_application_release(G_APPLICATION(self));
  }
}

static void
cd_daemon_on_drained(CdService *service, CdDaemon *self)
{
  g_message("stopped");
  if (self->held) {
    self->held = FALSE;
    g_application_release(G_APPLICATION(self));
  }
}

/* SIGTERM (systemd stop) and SIGINT: finish the pages in progress, journal
 * the running batches to resume, then exit. */
static gboolean
cd_daemon_on_signal(gpointer data)
{
  CdDaemon *self = data;
  cd_service_shutdown(self->service); /* emits drained, now or when the last batch stops */
  return G_SOURCE_CONTINUE;
}

static gboolean
cd_daemon_dbus_register(GApplication *app, GDBusConnection *connection, const gchar *object_path, GError **error)
{
  CdDaemon *self = CD_DAEMON(app);
  if (!G_APPLICATION_CLASS(cd_daemon_parent_class)->dbus_register(app, connection, object_path, error))
    return FALSE;
  return cd_service_export(self->service, connection, error);
}

static void
cd_daemon_dbus_unregister(GApplication *app, GDBusConnection *connection, const gchar *object_path)
{
  CdDaemon *self = CD_DAEMON(app);
  cd_service_unexport(self->service);
  G_APPLICATION_CLASS(cd_daemon_parent_class)->dbus_unregister(app, connection, object_path);
}

static void
cd_daemon_start_service(CdDaemon *self)
{
  g_autoptr(GError) error = NULL;
  if (!cd_service_start(self->service, &error))
    cd_daemon_fail(self, "cannot start", error);
  else
    g_message("ready on the %s bus", self->system_bus ? "system" : "session");
}

static void
cd_daemon_on_bus_acquired(GDBusConnection *connection, const gchar *name, gpointer data)
{
  CdDaemon *self = data;
  g_autoptr(GError) error = NULL;
  if (!cd_service_export(self->service, connection, &error))
    cd_daemon_fail(self, "cannot export the service object", error);
}

static void
cd_daemon_on_name_acquired(GDBusConnection *connection, const gchar *name, gpointer data)
{
  cd_daemon_start_service(data);
}

static void
cd_daemon_on_name_lost(GDBusConnection *connection, const gchar *name, gpointer data)
{
  g_autoptr(GError) error = g_error_new(CD_ERROR, CD_ERROR_BUSY,
                                        "cannot own %s on the system bus (another chartdeskd, or no permission)", name);
  cd_daemon_fail(data, "cannot start", error);
}

static void
cd_daemon_startup(GApplication *app)
{
  CdDaemon *self = CD_DAEMON(app);

  G_APPLICATION_CLASS(cd_daemon_parent_class)->startup(app);
  /* a service runs until told to stop, not until idle */
  g_application_hold(app);
  self->held = TRUE;
  g_signal_connect(self->service, "drained", G_CALLBACK(cd_daemon_on_drained), self);
  self->sigterm_id = g_unix_signal_add(SIGTERM, cd_daemon_on_signal, self);
  self->sigint_id = g_unix_signal_add(SIGINT, cd_daemon_on_signal, self);
  if (self->system_bus) {
    self->owner_id =
        g_bus_own_name(G_BUS_TYPE_SYSTEM, CD_SERVICE_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE, cd_daemon_on_bus_acquired,
                       cd_daemon_on_name_acquired, cd_daemon_on_name_lost, self, NULL);
  } else {
    /* GApplication owns the name before startup: no other service resumes our batches */
    cd_daemon_start_service(self);
  }
}

static void
cd_daemon_shutdown(GApplication *app)
{
  CdDaemon *self = CD_DAEMON(app);
  g_clear_handle_id(&self->sigterm_id, g_source_remove);
  g_clear_handle_id(&self->sigint_id, g_source_remove);
  if (self->owner_id != 0) {
    g_bus_unown_name(self->owner_id);
    self->owner_id = 0;
  }
  G_APPLICATION_CLASS(cd_daemon_parent_class)->shutdown(app);
}

static void
cd_daemon_activate(GApplication *app)
{
  /* D-Bus activation and `chartdeskd` alike: the work starts at startup */
}

static void
cd_daemon_finalize(GObject *object)
{
  CdDaemon *self = CD_DAEMON(object);
  g_clear_object(&self->service);
  G_OBJECT_CLASS(cd_daemon_parent_class)->finalize(object);
}

static void
cd_daemon_class_init(CdDaemonClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS(klass);
  G_OBJECT_CLASS(klass)->finalize = cd_daemon_finalize;
  app_class->dbus_register = cd_daemon_dbus_register;
  app_class->dbus_unregister = cd_daemon_dbus_unregister;
  app_class->startup = cd_daemon_startup;
  app_class->shutdown = cd_daemon_shutdown;
  app_class->activate = cd_daemon_activate;
}

static void
cd_daemon_init(CdDaemon *self)
{
}

/* The configuration file: --config, else the user's (session bus) or the
 * system's (system bus) if it exists, else the defaults. */
static CdServiceConfig *
cd_daemon_load_config(const gchar *filename, gboolean system_bus, GError **error)
{
  g_autofree gchar *fallback = NULL;

  if (filename != NULL)
    return cd_service_config_load(filename, error);
  if (system_bus)
    fallback = g_build_filename(CD_SYSCONF_DIR, "chartdesk", "chartdeskd.conf", NULL);
  else
    fallback = g_build_filename(g_get_user_config_dir(), "chartdesk", "chartdeskd.conf", NULL);
  if (g_file_test(fallback, G_FILE_TEST_EXISTS))
    return cd_service_config_load(fallback, error);
  return cd_service_config_new_default();
}

int
main(int argc, char **argv)
{
  g_autofree gchar *opt_config = NULL;
  gboolean opt_system = FALSE;
  gboolean opt_version = FALSE;
  gboolean opt_verbose = FALSE;
  gboolean opt_check = FALSE;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
      "Configuration file (default: ~/.config/chartdesk/chartdeskd.conf)", "FILE" },
    { "system", 0, 0, G_OPTION_ARG_NONE, &opt_system, "Own the name on the system bus", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "Log debug messages", NULL },
    { "check", 0, 0, G_OPTION_ARG_NONE, &opt_check, "Check the configuration and its workflows, then exit", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("— the Chartdesk service");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdServiceConfig) config = NULL;
  g_autoptr(CdRegistry) registry = NULL;
  g_autoptr(CdDaemon) daemon = NULL;
  GPtrArray *failed;
  gchar *run_argv[] = { argv[0], NULL };
  gint status;

  setlocale(LC_ALL, "");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_set_summary(ctx, "Runs batches, watches hot folders and answers searches over D-Bus "
                                    "(" CD_SERVICE_BUS_NAME ").\nSee the README section \"Running the service\".");
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "chartdeskd: %s\n", error->message);
    return 2;
  }
  if (opt_version) {
    g_print("chartdeskd %s\n", PACKAGE_VERSION);
    return 0;
  }
  if (opt_verbose)
    g_log_set_debug_enabled(TRUE);

  config = cd_daemon_load_config(opt_config, opt_system, &error);
  if (config == NULL) {
    fprintf(stderr, "chartdeskd: %s\n", error->message);
    return 1;
  }
  if (opt_system)
    config->system_bus = TRUE;

  registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);
  failed = cd_registry_get_failed(registry);
  for (guint i = 0; failed != NULL && i < failed->len; i++) {
    CdPlugin *plugin = g_ptr_array_index(failed, i);
    const GError *e = cd_plugin_get_error(plugin);
    g_warning("plugin not loaded: %s", e != NULL ? e->message : "unknown reason");
  }

  if (opt_check) {
    g_autoptr(CdService) service = NULL;
    guint n_hot_folders = config->hot_folders->len;
    gboolean system_bus = config->system_bus;
    service = cd_service_new(g_steal_pointer(&config), registry);
    if (!cd_service_check(service, &error)) {
      fprintf(stderr, "chartdeskd: %s\n", error->message);
      return 1;
    }
    g_print("configuration OK: %u hot folders, %s bus\n", n_hot_folders, system_bus ? "system" : "session");
    return 0;
  }

  daemon = g_object_new(CD_TYPE_DAEMON, "application-id", CD_SERVICE_BUS_NAME, "flags",
                        config->system_bus ? G_APPLICATION_NON_UNIQUE : G_APPLICATION_IS_SERVICE, NULL);
  daemon->system_bus = config->system_bus;
  daemon->service = cd_service_new(g_steal_pointer(&config), registry);
  status = g_application_run(G_APPLICATION(daemon), 1, run_argv);
  return status != 0 ? status : daemon->status;
}
