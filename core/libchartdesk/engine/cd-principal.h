/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

/**
 * CdPermission:
 * @CD_PERMISSION_RUN_BATCHES: run batches and hot folders (ingest)
 * @CD_PERMISSION_READ_BATCHES: see batches and their reports
 * @CD_PERMISSION_REVIEW: the review queue: list it, assign, split, merge,
 *   type, resolve, and read the documents waiting in it
 * @CD_PERMISSION_READ_CHARTS: search and read documents, pages and images
 * @CD_PERMISSION_EXPORT: export copies for internal use
 * @CD_PERMISSION_RELEASE: release of information to outside parties
 * @CD_PERMISSION_READ_AUDIT: the audit log and the access report
 * @CD_PERMISSION_MANAGE_USERS: the user directory
 * @CD_PERMISSION_CONFIGURE: the patient index, models, checks, retention
 * @CD_PERMISSION_RESTRICTED: see documents of restricted types at all
 *
 * What a role lets its holder do; a user holds the union of the
 * permissions of their roles.
 *
 * Since: 0.3
 */
typedef enum {
  CD_PERMISSION_NONE = 0,
  CD_PERMISSION_RUN_BATCHES = 1 << 0,
  CD_PERMISSION_READ_BATCHES = 1 << 1,
  CD_PERMISSION_REVIEW = 1 << 2,
  CD_PERMISSION_READ_CHARTS = 1 << 3,
  CD_PERMISSION_EXPORT = 1 << 4,
  CD_PERMISSION_RELEASE = 1 << 5,
  CD_PERMISSION_READ_AUDIT = 1 << 6,
  CD_PERMISSION_MANAGE_USERS = 1 << 7,
  CD_PERMISSION_CONFIGURE = 1 << 8,
  CD_PERMISSION_RESTRICTED = 1 << 9,
  CD_PERMISSION_ALL = (1 << 10) - 1,
} CdPermission;

/* What break-the-glass grants for its time: reading charts, restricted
 * ones included; never users, configuration or the audit log. */
#define CD_PERMISSION_BREAK_GLASS (CD_PERMISSION_READ_CHARTS | CD_PERMISSION_RESTRICTED)

/* A clock in microseconds since the epoch (g_get_real_time() by default);
 * tests give a fake one so expiry is tested without waiting. */
typedef gint64 (*CdClockFunc)(gpointer user_data);

const gchar *cd_permission_to_string(CdPermission permission);
const gchar *cd_permission_describe(CdPermission permission);
const gchar *const *cd_role_list(void);
gboolean cd_role_is_valid(const gchar *role);
CdPermission cd_role_get_permissions(const gchar *role);
const gchar *cd_role_describe(const gchar *role);
gchar *cd_permission_get_granting_roles(CdPermission permission);

/**
 * CdPrincipalKind:
 * @CD_PRINCIPAL_USER: a user of the directory, authenticated by the service
 * @CD_PRINCIPAL_ADMIN_MODE: the administrator opening archive files directly
 *   (`chartdesk --no-service`, tests): every permission, recorded as
 *   `admin-mode:LOGIN`
 *
 * Since: 0.3
 */
typedef enum {
  CD_PRINCIPAL_USER,
  CD_PRINCIPAL_ADMIN_MODE,
} CdPrincipalKind;

#define CD_TYPE_PRINCIPAL (cd_principal_get_type())
G_DECLARE_FINAL_TYPE(CdPrincipal, cd_principal, CD, PRINCIPAL, GObject)

CdPrincipal *cd_principal_new_user(const gchar *login, const gchar *const *roles);
CdPrincipal *cd_principal_new_admin_mode(const gchar *login, const gchar *on_behalf_of);
CdPrincipalKind cd_principal_get_kind(CdPrincipal *self);
const gchar *cd_principal_get_login(CdPrincipal *self);
const gchar *const *cd_principal_get_roles(CdPrincipal *self);
const gchar *cd_principal_get_audit_name(CdPrincipal *self);
void cd_principal_set_clock(CdPrincipal *self, CdClockFunc clock, gpointer user_data);
gint64 cd_principal_now(CdPrincipal *self);
void cd_principal_set_break_glass(CdPrincipal *self, const gchar *reason, gint64 until);
const gchar *cd_principal_get_break_glass(CdPrincipal *self, gint64 *until);
CdPermission cd_principal_get_permissions(CdPrincipal *self);
gboolean cd_principal_has(CdPrincipal *self, CdPermission permission);
gboolean cd_principal_check(CdPrincipal *self, CdPermission permission, const gchar *what, GError **error);

G_END_DECLS
