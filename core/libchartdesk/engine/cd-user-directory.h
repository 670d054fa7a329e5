/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

#include "cd-principal.h"

G_BEGIN_DECLS

/* Break-the-glass lasts this long unless configured otherwise. */
#define CD_BREAK_GLASS_DEFAULT_MINUTES 60

/**
 * CdUser:
 * @login: the login name
 * @full_name: (nullable): the person's name
 * @roles: (array zero-terminated=1): the roles, sorted
 * @active: %FALSE once disabled: refused everywhere at once
 * @unix_user: (nullable): the Unix account whose D-Bus calls are this user's
 * @has_password: whether a web password is set
 * @created: when the user was added, ISO 8601
 * @break_glass_reason: (nullable): the reason of the last break-the-glass grant
 * @break_glass_until: when it ends (µs since the epoch), 0 if never invoked
 *
 * One user of the directory, as a copy.
 *
 * Since: 0.3
 */
typedef struct {
  gchar *login;
  gchar *full_name;
  gchar **roles;
  gboolean active;
  gchar *unix_user;
  gboolean has_password;
  gchar *created;
  gchar *break_glass_reason;
  gint64 break_glass_until;
} CdUser;

void cd_user_free(CdUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdUser, cd_user_free)
JsonNode *cd_user_to_json(const CdUser *user);

#define CD_TYPE_USER_DIRECTORY (cd_user_directory_get_type())
G_DECLARE_FINAL_TYPE(CdUserDirectory, cd_user_directory, CD, USER_DIRECTORY, GObject)

gchar *cd_user_directory_default_path(void);
CdUserDirectory *cd_user_directory_open(const gchar *path, gboolean create, GError **error);
const gchar *cd_user_directory_get_path(CdUserDirectory *self);
void cd_user_directory_set_actor(CdUserDirectory *self, const gchar *actor);
void cd_user_directory_set_clock(CdUserDirectory *self, CdClockFunc clock, gpointer user_data);
gint64 cd_user_directory_now(CdUserDirectory *self);
void cd_user_directory_set_pam(CdUserDirectory *self, const gchar *service, const gchar *confdir);
void cd_user_directory_set_pwhash_limits(CdUserDirectory *self, guint64 opslimit, gsize memlimit);
gboolean cd_user_directory_refresh(CdUserDirectory *self, GError **error);

GPtrArray *cd_user_directory_list(CdUserDirectory *self);
CdUser *cd_user_directory_lookup(CdUserDirectory *self, const gchar *login, GError **error);
CdUser *cd_user_directory_lookup_unix(CdUserDirectory *self, const gchar *unix_user, GError **error);
gboolean cd_user_directory_add(CdUserDirectory *self, const gchar *login, const gchar *full_name,
                               const gchar *const *roles, const gchar *unix_user, const gchar *password,
                               GError **error);
gboolean cd_user_directory_grant(CdUserDirectory *self, const gchar *login, const gchar *role, GError **error);
gboolean cd_user_directory_revoke(CdUserDirectory *self, const gchar *login, const gchar *role, GError **error);
gboolean cd_user_directory_set_password(CdUserDirectory *self, const gchar *login, const gchar *password,
                                        GError **error);
gboolean cd_user_directory_set_active(CdUserDirectory *self, const gchar *login, gboolean active, GError **error);
gboolean cd_user_directory_verify_password(CdUserDirectory *self, const gchar *login, const gchar *password,
                                           gboolean *rehashed, GError **error);
gint64 cd_user_directory_break_glass(CdUserDirectory *self, const gchar *login, const gchar *reason, guint minutes,
                                     GError **error);
CdPrincipal *cd_user_directory_get_principal(CdUserDirectory *self, const gchar *login, GError **error);
CdPrincipal *cd_user_directory_get_principal_for_uid(CdUserDirectory *self, guint32 uid, GError **error);

G_END_DECLS
