/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include <chartdesk.h>
#include "cd-service-config.h"
#include "postgresql/cd-pg-archive.h"

#define DEFAULT_WORKFLOW "chart-intake"
#define DEFAULT_MAX_BATCHES 1
#define DEFAULT_STABLE_SECONDS 5.0
#define DEFAULT_POLL_SECONDS 2.0
#define DEFAULT_MAX_FILES 100
#define HOT_FOLDER_PREFIX "hot-folder "
#define DEFAULT_DELIVER_INTERVAL 30
#define DEFAULT_ARCHIVE_IDLE 600
#define DEFAULT_INDEX_MERGE_TIME (2 * 3600 + 30 * 60) /* 02:30 */

static void
cd_hot_folder_config_free(CdHotFolderConfig *hf)
{
  g_free(hf->name);
  g_free(hf->path);
  g_free(hf->workflow);
  g_free(hf->archive);
  g_free(hf->done_dir);
  g_free(hf->failed_dir);
  g_free(hf);
}

void
cd_service_config_free(CdServiceConfig *config)
{
  if (config == NULL)
    return;
  g_free(config->archive);
  g_free(config->workflow);
  g_strfreev(config->workflow_path);
  g_free(config->allowed_group);
  g_free(config->state_dir);
  g_free(config->users);
  g_free(config->pam_service);
  g_free(config->web_listen);
  g_free(config->web_tls_certificate);
  g_free(config->web_tls_key);
  g_strfreev(config->archive_roots);
  g_strfreev(config->source_roots);
  g_free(config->audit_key);
  g_free(config->archive_server);
  g_free(config->server_audit_key);
  g_free(config->station);
  g_ptr_array_unref(config->hot_folders);
  g_free(config);
}

/* The defaults: no archive, the chart-intake workflow, the session bus. */
CdServiceConfig *
cd_service_config_new_default(void)
{
  CdServiceConfig *config = g_new0(CdServiceConfig, 1);
  config->workflow = g_strdup(DEFAULT_WORKFLOW);
  config->workflow_path = g_new0(gchar *, 1);
  config->archive_roots = g_new0(gchar *, 1);
  config->source_roots = g_new0(gchar *, 1);
  config->max_batches = DEFAULT_MAX_BATCHES;
  config->archive_idle = DEFAULT_ARCHIVE_IDLE;
  config->index_merge_time = DEFAULT_INDEX_MERGE_TIME;
  config->state_dir = g_build_filename(g_get_user_state_dir(), "chartdesk", NULL);
  config->hot_folders = g_ptr_array_new_with_free_func((GDestroyNotify) cd_hot_folder_config_free);
  config->deliver_interval = DEFAULT_DELIVER_INTERVAL;
  return config;
}

/* Paths in the file must be absolute: the service's working folder is
 * nobody's business, and a relative path would mean something else under
 * systemd than in a terminal. */
static gchar *
cd_config_get_path(GKeyFile *kf, const gchar *group, const gchar *key, const gchar *filename, GError **error)
{
  g_autoptr(GError) error_local = NULL;
  g_autofree gchar *value = g_key_file_get_string(kf, group, key, &error_local);

  if (value == NULL || value[0] == '\0')
    return NULL;
  value = g_strstrip(value);
  if (value[0] == '~' && value[1] == '/') {
    gchar *expanded = g_build_filename(g_get_home_dir(), value + 2, NULL);
    g_free(value);
    value = expanded;
  }
  if (!g_path_is_absolute(value)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: [%s] %s: '%s' is not an absolute path", filename,
                group, key, value);
    return NULL;
  }
  return g_canonicalize_filename(value, NULL);
}

/* A ';'-separated list of absolute folders, each canonical (~/ expanded). */
static gchar **
cd_config_get_paths(GKeyFile *kf, const gchar *group, const gchar *key, const gchar *filename, GError **error)
{
  g_auto(GStrv) values = g_key_file_get_string_list(kf, group, key, NULL, NULL);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

  for (guint i = 0; values != NULL && values[i] != NULL; i++) {
    g_autofree gchar *value = g_strstrip(g_strdup(values[i]));
    if (value[0] == '\0')
      continue;
    if (value[0] == '~' && value[1] == '/') {
      gchar *expanded = g_build_filename(g_get_home_dir(), value + 2, NULL);
      g_free(value);
      value = expanded;
    }
    if (!g_path_is_absolute(value)) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: [%s] %s: '%s' is not an absolute path", filename,
                  group, key, value);
      return NULL;
    }
    g_ptr_array_add(out, g_canonicalize_filename(value, NULL));
  }
  g_ptr_array_add(out, NULL);
  return (gchar **) g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

static gboolean
cd_config_get_uint(GKeyFile *kf, const gchar *group, const gchar *key, guint min, guint max, guint *out,
                   const gchar *filename, GError **error)
{
  g_autofree gchar *str = g_key_file_get_string(kf, group, key, NULL);
  guint64 v;

  if (str == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned(g_strstrip(str), 10, min, max, &v, NULL)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: [%s] %s: '%s' is not a number from %u to %u", filename,
                group, key, str, min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean
cd_config_get_seconds(GKeyFile *kf, const gchar *group, const gchar *key, gdouble def, guint *out_ms,
                      const gchar *filename, GError **error)
{
  g_autofree gchar *str = g_key_file_get_string(kf, group, key, NULL);
  gdouble v = def;

  if (str != NULL) {
    gchar *end = NULL;
    v = g_ascii_strtod(g_strstrip(str), &end);
    if (end == str || *end != '\0' || v < 0.05 || v > 3600) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: [%s] %s: '%s' is not a time from 0.05 to 3600 s",
                  filename, group, key, str);
      return FALSE;
    }
  }
  *out_ms = (guint) (v * 1000 + 0.5);
  return TRUE;
}

static const gchar *const service_keys[] = {
  "archive",   "workflow",      "workflow-path",       "workers",       "max-batches",
  "bus",       "allowed-group", "state-dir",           "archive-roots", "source-roots",
  "audit-key", "users",         "break-glass-minutes", "pam-service",   "archive-idle-seconds",
  "index-merge-time", NULL
};
static const gchar *const web_keys[] = { "listen", "tls-certificate", "tls-key", "idle-timeout", NULL };
static const gchar *const archive_keys[] = { "server", "station", "deliver-interval", "server-audit-key", NULL };
static const gchar *const hot_folder_keys[] = { "path",           "workflow",     "archive",   "done", "failed",
                                                "stable-seconds", "poll-seconds", "max-files", NULL };

/* [service] index-merge-time: HH:MM or HH:MM:SS of the local day, or never. */
static gboolean
cd_config_get_time_of_day(GKeyFile *kf, const gchar *group, const gchar *key, gint *out, const gchar *filename,
                          GError **error)
{
  g_autofree gchar *str = g_key_file_get_string(kf, group, key, NULL);
  g_auto(GStrv) parts = NULL;
  guint64 v[3] = { 0, 0, 0 };
  guint n;

  if (str == NULL)
    return TRUE;
  g_strstrip(str);
  if (g_strcmp0(str, "never") == 0) {
    *out = -1;
    return TRUE;
  }
  parts = g_strsplit(str, ":", -1);
  n = g_strv_length(parts);
  for (guint i = 0; i < n && n >= 2 && n <= 3; i++) {
    if (strlen(parts[i]) != 2 || !g_ascii_string_to_unsigned(parts[i], 10, 0, i == 0 ? 23 : 59, &v[i], NULL))
      n = 0;
  }
  if (n < 2 || n > 3) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "%s: [%s] %s: '%s' is not a time of day (HH:MM or HH:MM:SS) or never", filename, group, key, str);
    return FALSE;
  }
  *out = (gint) (v[0] * 3600 + v[1] * 60 + v[2]);
  return TRUE;
}

/* An unknown key is most likely a typo that would silently do nothing. */
static gboolean
cd_config_check_keys(GKeyFile *kf, const gchar *group, const gchar *const *known, const gchar *filename, GError **error)
{
  g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
    if (!g_strv_contains(known, keys[i])) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: [%s] has no key '%s'", filename, group, keys[i]);
      return FALSE;
    }
  }
  return TRUE;
}

/* [web] (issue 15): off unless listen is given; TLS needs both files. */
static gboolean
cd_config_load_web(GKeyFile *kf, CdServiceConfig *config, const gchar *filename, GError **error)
{
  g_autoptr(GError) error_local = NULL;

  if (g_key_file_has_key(kf, "web", "listen", NULL)) {
    config->web_listen = g_strstrip(g_key_file_get_string(kf, "web", "listen", NULL));
    if (config->web_listen[0] == '\0')
      g_clear_pointer(&config->web_listen, g_free);
  }
  config->web_tls_certificate = cd_config_get_path(kf, "web", "tls-certificate", filename, &error_local);
  if (error_local == NULL)
    config->web_tls_key = cd_config_get_path(kf, "web", "tls-key", filename, &error_local);
  if (error_local != NULL) {
    g_propagate_error(error, g_steal_pointer(&error_local));
    return FALSE;
  }
  if ((config->web_tls_certificate == NULL) != (config->web_tls_key == NULL)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: [web] give both tls-certificate and tls-key",
                filename);
    return FALSE;
  }
  return cd_config_get_uint(kf, "web", "idle-timeout", 0, 24 * 3600, &config->web_idle_timeout, filename, error);
}

/* Whether @name can name a station: what an operator would type (letters,
 * digits, '.', '_', '-', ':'), at most 64 bytes, so it reads the same in
 * logs, the server's tables and `chartdesk archive deliver --station`. */
gboolean
cd_service_station_name_is_valid(const gchar *name)
{
  gsize len = name != NULL ? strlen(name) : 0;

  if (len == 0 || len > 64)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isalnum(name[i]) && strchr("._-:", name[i]) == NULL)
      return FALSE;
  }
  return TRUE;
}

/* [archive] (issue 18): the server the spool goes to, the station's name,
 * how often it is delivered when nothing new is committed. */
static gboolean
cd_config_load_archive(GKeyFile *kf, CdServiceConfig *config, const gchar *filename, GError **error)
{
  g_autofree gchar *server = NULL;
  g_autofree gchar *station = NULL;

  if (!g_key_file_has_group(kf, "archive"))
    return TRUE;
  server = g_key_file_get_string(kf, "archive", "server", NULL);
  if (server != NULL)
    g_strstrip(server);
  if (server == NULL || server[0] == '\0') {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: [archive] server: missing (postgresql://…)", filename);
    return FALSE;
  }
  if (!cd_archive_location_is_server(server)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "%s: [archive] server: '%s' is not a postgresql:// or postgres:// URI", filename, server);
    return FALSE;
  }
  station = g_key_file_get_string(kf, "archive", "station", NULL);
  if (station != NULL)
    g_strstrip(station);
  else
    station = g_strdup(g_get_host_name());
  if (!cd_service_station_name_is_valid(station)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "%s: [archive] station: '%s' is not a station name (1 to 64 letters, digits, '.', '_', '-', ':')",
                filename, station);
    return FALSE;
  }
  if (!cd_config_get_uint(kf, "archive", "deliver-interval", 1, 24 * 3600, &config->deliver_interval, filename, error))
    return FALSE;
  {
    g_autoptr(GError) path_error = NULL;
    config->server_audit_key = cd_config_get_path(kf, "archive", "server-audit-key", filename, &path_error);
    if (path_error != NULL) {
      g_propagate_error(error, g_steal_pointer(&path_error));
      return FALSE;
    }
  }
  config->archive_server = g_steal_pointer(&server);
  config->station = g_steal_pointer(&station);
  return TRUE;
}

static CdHotFolderConfig *
cd_config_load_hot_folder(GKeyFile *kf, const gchar *group, const gchar *filename, GError **error)
{
  CdHotFolderConfig *hf = g_new0(CdHotFolderConfig, 1);
  g_autoptr(GError) error_local = NULL;

  hf->name = g_strstrip(g_strdup(group + strlen(HOT_FOLDER_PREFIX)));
  hf->max_files = DEFAULT_MAX_FILES;
  hf->path = cd_config_get_path(kf, group, "path", filename, &error_local);
  if (hf->path == NULL && error_local == NULL)
    g_set_error(&error_local, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: [%s] path: missing", filename, group);
  if (error_local == NULL)
    hf->archive = cd_config_get_path(kf, group, "archive", filename, &error_local);
  if (error_local == NULL)
    hf->done_dir = cd_config_get_path(kf, group, "done", filename, &error_local);
  if (error_local == NULL)
    hf->failed_dir = cd_config_get_path(kf, group, "failed", filename, &error_local);
  if (error_local == NULL)
    cd_config_get_seconds(kf, group, "stable-seconds", DEFAULT_STABLE_SECONDS, &hf->stable_ms, filename, &error_local);
  if (error_local == NULL)
    cd_config_get_seconds(kf, group, "poll-seconds", DEFAULT_POLL_SECONDS, &hf->poll_ms, filename, &error_local);
  if (error_local == NULL)
    cd_config_get_uint(kf, group, "max-files", 1, 100000, &hf->max_files, filename, &error_local);
  if (error_local != NULL) {
    g_propagate_error(error, g_steal_pointer(&error_local));
    cd_hot_folder_config_free(hf);
    return NULL;
  }
  hf->workflow = g_key_file_get_string(kf, group, "workflow", NULL);
  if (hf->done_dir == NULL)
    hf->done_dir = g_build_filename(hf->path, "done", NULL);
  if (hf->failed_dir == NULL)
    hf->failed_dir = g_build_filename(hf->path, "failed", NULL);
  return hf;
}

/**
 * cd_service_config_load:
 * @filename: a keyfile
 * @error: return location for a #GError
 *
 * Reads and validates the whole configuration before the service takes its
 * name: a mistake is reported once, with the file, group and key, instead
 * of surfacing as a batch failing hours later.
 *
 * Returns: (transfer full): the configuration, or %NULL with @error set
 */
CdServiceConfig *
cd_service_config_load(const gchar *filename, GError **error)
{
  g_autoptr(CdServiceConfig) config = cd_service_config_new_default();
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error_local = NULL;
  g_auto(GStrv) groups = NULL;
  g_autofree gchar *bus = NULL;
  g_autofree gchar *state_dir = NULL;

  if (!g_key_file_load_from_file(kf, filename, G_KEY_FILE_NONE, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: %s", filename, error_local->message);
    return NULL;
  }
  groups = g_key_file_get_groups(kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++) {
    if (g_strcmp0(groups[i], "service") == 0) {
      if (!cd_config_check_keys(kf, groups[i], service_keys, filename, error))
        return NULL;
    } else if (g_strcmp0(groups[i], "web") == 0) {
      if (!cd_config_check_keys(kf, groups[i], web_keys, filename, error))
        return NULL;
    } else if (g_strcmp0(groups[i], "archive") == 0) {
      if (!cd_config_check_keys(kf, groups[i], archive_keys, filename, error))
        return NULL;
    } else if (g_str_has_prefix(groups[i], HOT_FOLDER_PREFIX)) {
      CdHotFolderConfig *hf;
      if (!cd_config_check_keys(kf, groups[i], hot_folder_keys, filename, error))
        return NULL;
      hf = cd_config_load_hot_folder(kf, groups[i], filename, error);
      if (hf == NULL)
        return NULL;
      g_ptr_array_add(config->hot_folders, hf);
    } else {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                  "%s: unknown group [%s] (groups: [service], [web], [archive], [hot-folder NAME])", filename,
                  groups[i]);
      return NULL;
    }
  }
  if (!cd_config_load_web(kf, config, filename, error))
    return NULL;
  if (!cd_config_load_archive(kf, config, filename, error))
    return NULL;
  if (!g_key_file_has_group(kf, "service"))
    return g_steal_pointer(&config);

  config->archive = cd_config_get_path(kf, "service", "archive", filename, &error_local);
  if (error_local != NULL) {
    g_propagate_error(error, g_steal_pointer(&error_local));
    return NULL;
  }
  state_dir = cd_config_get_path(kf, "service", "state-dir", filename, &error_local);
  if (error_local != NULL) {
    g_propagate_error(error, g_steal_pointer(&error_local));
    return NULL;
  }
  if (state_dir != NULL) {
    g_free(config->state_dir);
    config->state_dir = g_steal_pointer(&state_dir);
  }
  config->audit_key = cd_config_get_path(kf, "service", "audit-key", filename, &error_local);
  if (error_local != NULL) {
    g_propagate_error(error, g_steal_pointer(&error_local));
    return NULL;
  }
  config->users = cd_config_get_path(kf, "service", "users", filename, &error_local);
  if (error_local != NULL) {
    g_propagate_error(error, g_steal_pointer(&error_local));
    return NULL;
  }
  if (g_key_file_has_key(kf, "service", "break-glass-minutes", NULL)) {
    gint minutes = g_key_file_get_integer(kf, "service", "break-glass-minutes", &error_local);
    if (error_local != NULL || minutes < 1 || minutes > 24 * 60) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                  "%s: [service] break-glass-minutes: not a number of minutes from 1 to 1440", filename);
      return NULL;
    }
    config->break_glass_minutes = (guint) minutes;
  }
  if (g_key_file_has_key(kf, "service", "pam-service", NULL)) {
    g_autofree gchar *pam = g_strstrip(g_key_file_get_string(kf, "service", "pam-service", NULL));
    if (pam[0] == '\0' || strchr(pam, '/') != NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                  "%s: [service] pam-service: a PAM service name (a file of /etc/pam.d), not '%s'", filename, pam);
      return NULL;
    }
    config->pam_service = g_steal_pointer(&pam);
  }
  if (g_key_file_has_key(kf, "service", "workflow", NULL)) {
    g_free(config->workflow);
    config->workflow = g_strstrip(g_key_file_get_string(kf, "service", "workflow", NULL));
  }
  if (g_key_file_has_key(kf, "service", "workflow-path", NULL)) {
    g_strfreev(config->workflow_path);
    config->workflow_path = g_key_file_get_string_list(kf, "service", "workflow-path", NULL, NULL);
  }
  if (g_key_file_has_key(kf, "service", "archive-roots", NULL)) {
    g_strfreev(config->archive_roots);
    config->archive_roots = cd_config_get_paths(kf, "service", "archive-roots", filename, error);
    if (config->archive_roots == NULL)
      return NULL;
  }
  if (g_key_file_has_key(kf, "service", "source-roots", NULL)) {
    g_strfreev(config->source_roots);
    config->source_roots = cd_config_get_paths(kf, "service", "source-roots", filename, error);
    if (config->source_roots == NULL)
      return NULL;
  }
  if (!cd_config_get_uint(kf, "service", "workers", 0, 256, &config->workers, filename, error) ||
      !cd_config_get_uint(kf, "service", "max-batches", 1, 64, &config->max_batches, filename, error) ||
      !cd_config_get_uint(kf, "service", "archive-idle-seconds", 0, 24 * 3600, &config->archive_idle, filename,
                          error) ||
      !cd_config_get_time_of_day(kf, "service", "index-merge-time", &config->index_merge_time, filename, error))
    return NULL;
  bus = g_key_file_get_string(kf, "service", "bus", NULL);
  if (bus != NULL) {
    g_strstrip(bus);
    if (g_strcmp0(bus, "system") == 0) {
      config->system_bus = TRUE;
    } else if (g_strcmp0(bus, "session") != 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: [service] bus: '%s' is not session or system",
                  filename, bus);
      return NULL;
    }
  }
  config->allowed_group = g_key_file_get_string(kf, "service", "allowed-group", NULL);
  if (config->allowed_group != NULL)
    g_strstrip(config->allowed_group);

  return g_steal_pointer(&config);
}
