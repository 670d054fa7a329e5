/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-service-users.h"

/*
 * With a user directory (`[service] users=`, or `users.conf` in the state
 * directory), chartdeskd is the gatekeeper: every D-Bus call is mapped from
 * the caller's uid, as the bus daemon vouches for it, to the user whose
 * `unix-user` is that account. Unknown and disabled callers are refused; the
 * call then runs under the user's principal, so the archive checks their
 * roles and the audit log names them. The mapping is made afresh on every
 * call (the directory rereads its file when it changed), so a user disabled
 * or a role revoked takes effect on the next call.
 *
 * Without a directory the service keeps its single-user behaviour: only its
 * own user (and on the system bus root and allowed-group) may call, acting
 * with the administrator's direct-file authority.
 */
struct _CdServiceUsers {
  CdUserDirectory *directory;
  GHashTable *principals; /* audit name → the principal of its latest call */
  GMutex lock;
};

/* Returns NULL without an error when there is no directory to use. */
CdServiceUsers *
cd_service_users_new(const CdServiceConfig *config, GError **error)
{
  g_autofree gchar *path = NULL;
  CdServiceUsers *self;
  CdUserDirectory *directory;

  if (config->users != NULL)
    path = g_strdup(config->users);
  else
    path = g_build_filename(config->state_dir, "users.conf", NULL);
  if (config->users == NULL && !g_file_test(path, G_FILE_TEST_EXISTS))
    return NULL;
  directory = cd_user_directory_open(path, FALSE, error);
  if (directory == NULL)
    return NULL;
  cd_user_directory_set_pam(directory, config->pam_service, NULL);
  self = g_new0(CdServiceUsers, 1);
  self->directory = directory;
  self->principals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
  g_mutex_init(&self->lock);
  g_message("users from %s: callers are mapped to its users by their Unix account", path);
  return self;
}

/* The directory itself, for the web server's logins. */
CdUserDirectory *
cd_service_users_get_directory(CdServiceUsers *self)
{
  return self->directory;
}

void
cd_service_users_free(CdServiceUsers *self)
{
  if (self == NULL)
    return;
  g_object_unref(self->directory);
  g_hash_table_unref(self->principals);
  g_mutex_clear(&self->lock);
  g_free(self);
}

/* The principal of the caller with @uid, remembered under its audit name
 * for cd_service_users_lookup(); %CD_ERROR_PERMISSION_DENIED for a caller
 * who is nobody in the directory, or disabled. */
CdPrincipal *
cd_service_users_authenticate(CdServiceUsers *self, guint32 uid, GError **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->lock);
  CdPrincipal *principal = cd_user_directory_get_principal_for_uid(self->directory, uid, error);

  if (principal == NULL)
    return NULL;
  g_hash_table_replace(self->principals, g_strdup(cd_principal_get_audit_name(principal)), g_object_ref(principal));
  return principal;
}

/* The principal a call authenticated as @actor runs under, or NULL for the
 * service's own actors (hot folders, resumed batches). */
CdPrincipal *
cd_service_users_lookup(CdServiceUsers *self, const gchar *actor)
{
  g_autoptr(GMutexLocker) locker = NULL;
  CdPrincipal *principal;

  if (self == NULL || actor == NULL)
    return NULL;
  locker = g_mutex_locker_new(&self->lock);
  principal = g_hash_table_lookup(self->principals, actor);
  return principal != NULL ? g_object_ref(principal) : NULL;
}

/* Records a break-the-glass grant for the user @actor names (the audit name
 * a call authenticated as); returns its end, or 0 with @error set. */
gint64
cd_service_users_break_glass(CdServiceUsers *self, const gchar *actor, const gchar *reason, guint minutes,
                             GError **error)
{
  g_autoptr(CdPrincipal) principal = cd_service_users_lookup(self, actor);

  if (principal == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED,
                        "break-the-glass needs a service with a user directory ([service] users=)");
    return 0;
  }
  return cd_user_directory_break_glass(self->directory, cd_principal_get_login(principal), reason, minutes, error);
}

/* Whether the user a call authenticated as @actor holds @permission; the
 * service's own actors and single-user mode always do. */
gboolean
cd_service_users_check(CdServiceUsers *self, const gchar *actor, CdPermission permission, const gchar *what,
                       GError **error)
{
  g_autoptr(CdPrincipal) principal = cd_service_users_lookup(self, actor);

  if (principal == NULL)
    return TRUE;
  return cd_principal_check(principal, permission, what, error);
}
