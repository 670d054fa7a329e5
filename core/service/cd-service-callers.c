/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * chartdeskd's callers: who is calling (uid, group, bus name), whether they
 * may call at all, and the identity the audit log records for them.
 */
/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "cd-hot-folder.h"
#include "cd-param-private.h"
#include "cd-service-common.h"
#include "cd-service-private.h"

/* ------------------------------------------------------------- callers */

/* Who is calling, from the bus daemon's credentials (never from anything
 * the caller says about itself): "alice (uid 1000, pid 4242)". */
static gboolean
cd_service_caller_identity(CdService *self, GDBusMethodInvocation *invocation, gchar **identity, guint32 *uid,
                           GError **error)
{
  GDBusConnection *connection = g_dbus_method_invocation_get_connection(invocation);
  const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) creds = NULL;
  guint32 pid = 0;
  struct passwd *pw;
  gchar *cached;

  if (sender == NULL) {
    g_set_error_literal(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED, "callers must come through a bus");
    return FALSE;
  }
  g_mutex_lock(&self->callers_lock);
  cached = g_strdup(g_hash_table_lookup(self->callers, sender));
  g_mutex_unlock(&self->callers_lock);
  if (cached != NULL) {
    /* "uid:identity" */
    gchar *colon = strchr(cached, ':');
    *uid = (guint32) g_ascii_strtoull(cached, NULL, 10);
    *identity = g_strdup(colon + 1);
    g_free(cached);
    return TRUE;
  }
  reply = g_dbus_connection_call_sync(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "GetConnectionCredentials", g_variant_new("(s)", sender),
                                      G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
  if (reply == NULL)
    return FALSE;
  creds = g_variant_get_child_value(reply, 0);
  if (!g_variant_lookup(creds, "UnixUserID", "u", uid)) {
    g_set_error_literal(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED, "the bus does not say who the caller is");
    return FALSE;
  }
  g_variant_lookup(creds, "ProcessID", "u", &pid);
  pw = getpwuid(*uid);
  *identity = g_strdup_printf("%s (uid %u, pid %u)", pw != NULL ? pw->pw_name : "?", *uid, pid);
  g_mutex_lock(&self->callers_lock);
  if (g_hash_table_size(self->callers) > 4096)
    g_hash_table_remove_all(self->callers);
  g_hash_table_insert(self->callers, g_strdup(sender), g_strdup_printf("%u:%s", *uid, *identity));
  g_mutex_unlock(&self->callers_lock);
  return TRUE;
}

/* Whether @uid belongs to the configured group (system bus). */
static gboolean
cd_service_uid_in_group(guint32 uid, const gchar *group)
{
  struct group *gr = group != NULL ? getgrnam(group) : NULL;
  struct passwd *pw = getpwuid(uid);
  gint n = 64;
  g_autofree gid_t *groups = NULL;

  if (gr == NULL || pw == NULL)
    return FALSE;
  groups = g_new0(gid_t, n);
  if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0) {
    g_free(groups);
    groups = g_new0(gid_t, n);
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
      return FALSE;
  }
  for (gint i = 0; i < n; i++) {
    if (groups[i] == gr->gr_gid)
      return TRUE;
  }
  return FALSE;
}

/* A refused call goes to the audit log of the service's archive (the
 * configured one, once it exists): who knocked, from which connection, at
 * which method. Nothing of it goes back to the caller. */
static void
cd_service_audit_denied(CdService *self, GDBusMethodInvocation *invocation, const gchar *identity, guint32 uid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchiveUse) use = NULL;
  g_autoptr(JsonObject) detail = json_object_new();
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *path = NULL;

  if (self->config->archive == NULL)
    return;
  path = cd_service_realpath(self->config->archive);
  if (path == NULL || !g_file_test(path, G_FILE_TEST_EXISTS))
    return;
  json_object_set_string_member(detail, "caller", identity);
  json_object_set_int_member(detail, "uid", uid);
  json_object_set_string_member(detail, "sender", g_dbus_method_invocation_get_sender(invocation));
  json_object_set_string_member(detail, "interface", g_dbus_method_invocation_get_interface_name(invocation));
  json_object_set_string_member(detail, "method", g_dbus_method_invocation_get_method_name(invocation));
  node = json_node_init_object(json_node_alloc(), detail);
  use = cd_service_use_archive(self, path, CD_ARCHIVE_FLAG_NONE, identity, NULL, &error);
  if (use == NULL || !cd_archive_audit(use->archive, "dbus-denied", "service", node, &error))
    g_warning("%s: cannot audit a refused call: %s", path, error->message);
}

/* Every method call passes here first. On the session bus only our own
 * user may call; on the system bus root, our user and members of
 * allowed-group. The caller's identity is kept on the invocation for the
 * audit log. */
gboolean
cd_service_authorize(GDBusInterfaceSkeleton *skeleton, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CdService *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *identity = NULL;
  guint32 uid = G_MAXUINT32;
  gboolean allowed;

  /* refusing, we answer the call ourselves, with a reference of our own */
  if (!cd_service_caller_identity(self, invocation, &identity, &uid, &error)) {
    g_dbus_method_invocation_return_gerror(g_object_ref(invocation), error);
    return FALSE;
  }
  allowed = uid == getuid() ||
            (self->config->system_bus && (uid == 0 || cd_service_uid_in_group(uid, self->config->allowed_group)));
  if (self->users != NULL || self->users_error != NULL) {
    /* the gatekeeper: the caller must be a user of the directory */
    g_autoptr(CdPrincipal) principal = NULL;
    if (self->users_error != NULL)
      g_set_error_literal(&error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, self->users_error);
    else
      principal = cd_service_users_authenticate(self->users, uid, &error);
    if (principal == NULL) {
      g_message("refused %s from %s: %s", g_dbus_method_invocation_get_method_name(invocation), identity,
                error->message);
      cd_service_audit_denied(self, invocation, identity, uid);
      g_dbus_method_invocation_return_gerror(g_object_ref(invocation), error);
      return FALSE;
    }
    g_free(identity);
    identity = g_strdup(cd_principal_get_audit_name(principal));
    allowed = TRUE;
  }
  if (!allowed) {
    g_message("refused %s from %s", g_dbus_method_invocation_get_method_name(invocation), identity);
    cd_service_audit_denied(self, invocation, identity, uid);
    g_dbus_method_invocation_return_error(g_object_ref(invocation), G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                          "%s may not use this service", identity);
    return FALSE;
  }
  g_object_set_data_full(G_OBJECT(invocation), "cd-caller", g_steal_pointer(&identity), g_free);
  return TRUE;
}

const gchar *
cd_invocation_caller(GDBusMethodInvocation *invocation)
{
  return g_object_get_data(G_OBJECT(invocation), "cd-caller");
}
