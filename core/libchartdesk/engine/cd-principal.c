/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cd-principal.h"

/*
 * CdPrincipal:
 *
 * Who is acting on an archive and what they may do: a user of the
 * directory with their roles (as the service authenticated them), or the
 * administrator's direct-file mode. The archive checks every read and write
 * of patient data against the principal attached to it
 * (cd_archive_set_principal()), so every interface enforces the same rules.
 *
 * A principal may carry a break-the-glass grant: a reason and an end time;
 * until then it also holds %CD_PERMISSION_BREAK_GLASS, and every audit entry
 * it writes carries the reason.
 */
struct _CdPrincipal {
  GObject parent_instance;
  CdPrincipalKind kind;
  gchar *login;
  gchar **roles;        /* sorted role names */
  gchar *audit_name;    /* what the audit log records */
  CdPermission granted; /* union of the roles' permissions */
  gchar *glass_reason;  /* break-the-glass reason, NULL if none */
  gint64 glass_until;   /* its end, µs since the epoch */
  CdClockFunc clock;    /* NULL for g_get_real_time() */
  gpointer clock_data;
};

G_DEFINE_FINAL_TYPE(CdPrincipal, cd_principal, G_TYPE_OBJECT)

/* qsort hands pointers to the elements */
static gint
cd_strcmp_ptr(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

/* The roles, their permissions and what they are for (README's table). */
static const struct {
  const gchar *name;
  CdPermission permissions;
  const gchar *description;
} cd_roles[] = {
  { "scanner", CD_PERMISSION_RUN_BATCHES | CD_PERMISSION_READ_BATCHES,
    "runs batches and hot folders, sees batch reports; reads no charts" },
  { "indexer", CD_PERMISSION_REVIEW | CD_PERMISSION_READ_BATCHES,
    "works the review queue: assign, split, merge, type, resolve" },
  { "coder", CD_PERMISSION_READ_CHARTS | CD_PERMISSION_EXPORT, "searches and reads charts, exports internal copies" },
  { "archivist", CD_PERMISSION_READ_CHARTS | CD_PERMISSION_EXPORT,
    "searches and reads charts, exports internal copies" },
  { "roi", CD_PERMISSION_READ_CHARTS | CD_PERMISSION_RELEASE,
    "release of information: reads charts, releases packets to outside parties" },
  { "auditor", CD_PERMISSION_READ_AUDIT, "reads the audit log and access reports; no chart content" },
  { "admin", CD_PERMISSION_MANAGE_USERS | CD_PERMISSION_CONFIGURE | CD_PERMISSION_READ_BATCHES,
    "users, configuration, patient index, models, retention" },
  { "restricted", CD_PERMISSION_RESTRICTED,
    "a grant beside a chart role: documents of restricted types become visible" },
};

static const struct {
  CdPermission permission;
  const gchar *name;
  const gchar *description;
} cd_permissions[] = {
  { CD_PERMISSION_RUN_BATCHES, "run-batches", "run batches" },
  { CD_PERMISSION_READ_BATCHES, "read-batches", "see batches" },
  { CD_PERMISSION_REVIEW, "review", "work the review queue" },
  { CD_PERMISSION_READ_CHARTS, "read-charts", "read charts" },
  { CD_PERMISSION_EXPORT, "export", "export" },
  { CD_PERMISSION_RELEASE, "release", "release information" },
  { CD_PERMISSION_READ_AUDIT, "read-audit", "read the audit log" },
  { CD_PERMISSION_MANAGE_USERS, "manage-users", "manage users" },
  { CD_PERMISSION_CONFIGURE, "configure", "change the configuration" },
  { CD_PERMISSION_RESTRICTED, "restricted", "see restricted documents" },
};

/**
 * cd_permission_to_string:
 * @permission: one permission
 *
 * Returns: its name (`read-charts`), or `unknown`
 *
 * Since: 0.3
 */
const gchar *
cd_permission_to_string(CdPermission permission)
{
  for (guint i = 0; i < G_N_ELEMENTS(cd_permissions); i++) {
    if (cd_permissions[i].permission == permission)
      return cd_permissions[i].name;
  }
  return "unknown";
}

/**
 * cd_permission_describe:
 * @permission: one permission
 *
 * Returns: what it allows, as a verb phrase (`read charts`)
 *
 * Since: 0.3
 */
const gchar *
cd_permission_describe(CdPermission permission)
{
  for (guint i = 0; i < G_N_ELEMENTS(cd_permissions); i++) {
    if (cd_permissions[i].permission == permission)
      return cd_permissions[i].description;
  }
  return "do this";
}

/**
 * cd_role_list:
 *
 * Returns: (transfer none): the role names, in the README's order
 *
 * Since: 0.3
 */
const gchar *const *
cd_role_list(void)
{
  static const gchar *names[G_N_ELEMENTS(cd_roles) + 1];
  static gsize done = 0;

  if (g_once_init_enter(&done)) {
    for (guint i = 0; i < G_N_ELEMENTS(cd_roles); i++)
      names[i] = cd_roles[i].name;
    g_once_init_leave(&done, 1);
  }
  return names;
}

gboolean
cd_role_is_valid(const gchar *role)
{
  for (guint i = 0; role != NULL && i < G_N_ELEMENTS(cd_roles); i++) {
    if (g_strcmp0(cd_roles[i].name, role) == 0)
      return TRUE;
  }
  return FALSE;
}

/**
 * cd_role_get_permissions:
 * @role: a role name
 *
 * Returns: what @role allows; none for an unknown role
 *
 * Since: 0.3
 */
CdPermission
cd_role_get_permissions(const gchar *role)
{
  for (guint i = 0; role != NULL && i < G_N_ELEMENTS(cd_roles); i++) {
    if (g_strcmp0(cd_roles[i].name, role) == 0)
      return cd_roles[i].permissions;
  }
  return CD_PERMISSION_NONE;
}

const gchar *
cd_role_describe(const gchar *role)
{
  for (guint i = 0; role != NULL && i < G_N_ELEMENTS(cd_roles); i++) {
    if (g_strcmp0(cd_roles[i].name, role) == 0)
      return cd_roles[i].description;
  }
  return NULL;
}

/**
 * cd_permission_get_granting_roles:
 * @permission: one permission
 *
 * Returns: (transfer full): the roles that grant it, alphabetically, as
 *   prose: `archivist, coder or roi`
 *
 * Since: 0.3
 */
gchar *
cd_permission_get_granting_roles(CdPermission permission)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new();
  GString *text = g_string_new(NULL);

  for (guint i = 0; i < G_N_ELEMENTS(cd_roles); i++) {
    if ((cd_roles[i].permissions & permission) == permission)
      g_ptr_array_add(names, (gpointer) cd_roles[i].name);
  }
  g_ptr_array_sort(names, cd_strcmp_ptr);
  for (guint i = 0; i < names->len; i++) {
    if (i > 0)
      g_string_append(text, i + 1 == names->len ? " or " : ", ");
    g_string_append(text, g_ptr_array_index(names, i));
  }
  return g_string_free(text, FALSE);
}

static void
cd_principal_finalize(GObject *object)
{
  CdPrincipal *self = CD_PRINCIPAL(object);

  g_free(self->login);
  g_strfreev(self->roles);
  g_free(self->audit_name);
  g_free(self->glass_reason);
  G_OBJECT_CLASS(cd_principal_parent_class)->finalize(object);
}

static void
cd_principal_class_init(CdPrincipalClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = cd_principal_finalize;
}

static void
cd_principal_init(CdPrincipal *self)
{
}

/**
 * cd_principal_new_user:
 * @login: the user's login name in the directory
 * @roles: (array zero-terminated=1): their roles; unknown ones grant nothing
 *
 * Returns: (transfer full): a user principal
 *
 * Since: 0.3
 */
CdPrincipal *
cd_principal_new_user(const gchar *login, const gchar *const *roles)
{
  CdPrincipal *self;

  g_return_val_if_fail(login != NULL, NULL);
  self = g_object_new(CD_TYPE_PRINCIPAL, NULL);
  self->kind = CD_PRINCIPAL_USER;
  self->login = g_strdup(login);
  self->roles = g_strdupv((gchar **) roles);
  if (self->roles == NULL)
    self->roles = g_new0(gchar *, 1);
  qsort(self->roles, g_strv_length(self->roles), sizeof(gchar *), cd_strcmp_ptr);
  for (guint i = 0; self->roles[i] != NULL; i++)
    self->granted |= cd_role_get_permissions(self->roles[i]);
  self->audit_name = g_strdup(login);
  return self;
}

/**
 * cd_principal_new_admin_mode:
 * @login: the Unix login of the process opening the files
 * @on_behalf_of: (nullable): whom the administrator says they act for
 *   (`--user`), recorded beside the login, never instead of it
 *
 * Returns: (transfer full): the administrator's principal, with every
 *   permission, recorded as `admin-mode:LOGIN` (`admin-mode:LOGIN for NAME`)
 *
 * Since: 0.3
 */
CdPrincipal *
cd_principal_new_admin_mode(const gchar *login, const gchar *on_behalf_of)
{
  CdPrincipal *self;
  const gchar *roles[] = { "admin-mode", NULL };

  g_return_val_if_fail(login != NULL, NULL);
  self = g_object_new(CD_TYPE_PRINCIPAL, NULL);
  self->kind = CD_PRINCIPAL_ADMIN_MODE;
  self->login = g_strdup(login);
  self->roles = g_strdupv((gchar **) roles);
  self->granted = CD_PERMISSION_ALL;
  if (on_behalf_of != NULL && g_strcmp0(on_behalf_of, login) != 0)
    self->audit_name = g_strdup_printf("admin-mode:%s for %s", login, on_behalf_of);
  else
    self->audit_name = g_strdup_printf("admin-mode:%s", login);
  return self;
}

CdPrincipalKind
cd_principal_get_kind(CdPrincipal *self)
{
  g_return_val_if_fail(CD_IS_PRINCIPAL(self), CD_PRINCIPAL_USER);
  return self->kind;
}

const gchar *
cd_principal_get_login(CdPrincipal *self)
{
  g_return_val_if_fail(CD_IS_PRINCIPAL(self), NULL);
  return self->login;
}

/**
 * cd_principal_get_roles:
 * @self: a #CdPrincipal
 *
 * Returns: (transfer none): the roles, sorted; `admin-mode` in direct-file mode
 *
 * Since: 0.3
 */
const gchar *const *
cd_principal_get_roles(CdPrincipal *self)
{
  g_return_val_if_fail(CD_IS_PRINCIPAL(self), NULL);
  return (const gchar *const *) self->roles;
}

/**
 * cd_principal_get_audit_name:
 * @self: a #CdPrincipal
 *
 * Returns: the name the audit log records: the login, or `admin-mode:LOGIN`
 *
 * Since: 0.3
 */
const gchar *
cd_principal_get_audit_name(CdPrincipal *self)
{
  g_return_val_if_fail(CD_IS_PRINCIPAL(self), NULL);
  return self->audit_name;
}

/**
 * cd_principal_set_clock:
 * @self: a #CdPrincipal
 * @clock: (nullable): the clock break-the-glass expiry is judged by
 * @user_data: for @clock
 *
 * Since: 0.3
 */
void
cd_principal_set_clock(CdPrincipal *self, CdClockFunc clock, gpointer user_data)
{
  g_return_if_fail(CD_IS_PRINCIPAL(self));
  self->clock = clock;
  self->clock_data = user_data;
}

gint64
cd_principal_now(CdPrincipal *self)
{
  g_return_val_if_fail(CD_IS_PRINCIPAL(self), 0);
  return self->clock != NULL ? self->clock(self->clock_data) : g_get_real_time();
}

/**
 * cd_principal_set_break_glass:
 * @self: a #CdPrincipal
 * @reason: (nullable): why emergency access is needed; %NULL ends it
 * @until: when it ends, µs since the epoch
 *
 * Since: 0.3
 */
void
cd_principal_set_break_glass(CdPrincipal *self, const gchar *reason, gint64 until)
{
  g_return_if_fail(CD_IS_PRINCIPAL(self));
  g_free(self->glass_reason);
  self->glass_reason = g_strdup(reason);
  self->glass_until = reason != NULL ? until : 0;
}

/**
 * cd_principal_get_break_glass:
 * @self: a #CdPrincipal
 * @until: (out) (optional): when it ends
 *
 * Returns: (nullable): the reason of the break-the-glass grant in force
 *   now, %NULL if there is none or it has expired
 *
 * Since: 0.3
 */
const gchar *
cd_principal_get_break_glass(CdPrincipal *self, gint64 *until)
{
  g_return_val_if_fail(CD_IS_PRINCIPAL(self), NULL);
  if (self->glass_reason == NULL || cd_principal_now(self) >= self->glass_until)
    return NULL;
  if (until != NULL)
    *until = self->glass_until;
  return self->glass_reason;
}

/**
 * cd_principal_get_permissions:
 * @self: a #CdPrincipal
 *
 * Returns: what the principal may do now: its roles' permissions, and
 *   %CD_PERMISSION_BREAK_GLASS while a break-the-glass grant lasts
 *
 * Since: 0.3
 */
CdPermission
cd_principal_get_permissions(CdPrincipal *self)
{
  g_return_val_if_fail(CD_IS_PRINCIPAL(self), CD_PERMISSION_NONE);
  if (cd_principal_get_break_glass(self, NULL) != NULL)
    return self->granted | CD_PERMISSION_BREAK_GLASS;
  return self->granted;
}

gboolean
cd_principal_has(CdPrincipal *self, CdPermission permission)
{
  return (cd_principal_get_permissions(self) & permission) == permission;
}

/**
 * cd_principal_check:
 * @self: a #CdPrincipal
 * @permission: the one permission needed
 * @what: what was attempted, for the message (`search the archive`)
 * @error: return location for a #GError
 *
 * Returns: %TRUE if allowed; otherwise %FALSE with
 *   %CD_ERROR_PERMISSION_DENIED naming the user, their roles, the missing
 *   permission and the roles that grant it: "user alice (scanner) may not
 *   search the archive: needs read-charts (read charts), which archivist,
 *   coder or roi grant"
 *
 * Since: 0.3
 */
gboolean
cd_principal_check(CdPrincipal *self, CdPermission permission, const gchar *what, GError **error)
{
  g_autofree gchar *roles = NULL;
  g_autofree gchar *granting = NULL;

  g_return_val_if_fail(CD_IS_PRINCIPAL(self), FALSE);
  if (cd_principal_has(self, permission))
    return TRUE;
  roles = self->roles[0] != NULL ? g_strjoinv(", ", self->roles) : g_strdup("no roles");
  granting = cd_permission_get_granting_roles(permission);
  g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "user %s (%s) may not %s: needs %s (%s), which %s grant%s",
              self->login, roles, what, cd_permission_to_string(permission), cd_permission_describe(permission),
              granting, strchr(granting, ' ') != NULL ? "" : "s");
  return FALSE;
}
