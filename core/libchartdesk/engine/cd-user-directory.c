/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <sodium.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cd-pam.h"
#include "cd-user-directory.h"
#include "cd-util-private.h"

/*
 * CdUserDirectory:
 *
 * The users of one installation: a keyfile (mode 0600, in the service's
 * state directory by default) with one `[user LOGIN]` group per user —
 * full name, roles, state, the Unix account its D-Bus calls come from, the
 * web password as a libsodium `crypto_pwhash_str` string (argon2id), and the
 * last break-the-glass grant. It lives outside every archive: one directory
 * serves all the archives of a service, and a copied archive file carries
 * no password hashes.
 *
 * Every change is written whole to a new file renamed over the old one, so
 * a reader sees the old directory or the new one. Readers call
 * cd_user_directory_refresh() (the lookups do) and see a change another
 * process made at once: a user disabled by `chartdesk users disable` is
 * refused on the service's next call.
 */
struct _CdUserDirectory {
  GObject parent_instance;
  gchar *path;
  GKeyFile *kf;
  gint64 mtime;      /* of the file as last read, µs */
  guint64 inode;     /* a rename gives a new inode even within one mtime tick */
  CdClockFunc clock; /* NULL for g_get_real_time() */
  gpointer clock_data;
  guint64 opslimit; /* argon2id parameters new hashes are made with */
  gsize memlimit;
  gchar *actor;       /* who makes changes, for PATH.log */
  gchar *pam_service; /* users without a local password log in through PAM, or NULL */
  gchar *pam_confdir; /* PAM's service files, NULL for /etc/pam.d */
};

G_DEFINE_FINAL_TYPE(CdUserDirectory, cd_user_directory, G_TYPE_OBJECT)

#define CD_USER_GROUP_PREFIX "user "

void
cd_user_free(CdUser *user)
{
  if (user == NULL)
    return;
  g_free(user->login);
  g_free(user->full_name);
  g_strfreev(user->roles);
  g_free(user->unix_user);
  g_free(user->created);
  g_free(user->break_glass_reason);
  g_free(user);
}

/**
 * cd_user_to_json:
 * @user: a #CdUser
 *
 * Returns: (transfer full): the user as `users list --json` prints it; never
 *   the password hash
 *
 * Since: 0.3
 */
JsonNode *
cd_user_to_json(const CdUser *user)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "login");
  json_builder_add_string_value(b, user->login);
  json_builder_set_member_name(b, "full_name");
  json_builder_add_string_value(b, user->full_name);
  json_builder_set_member_name(b, "roles");
  json_builder_begin_array(b);
  for (guint i = 0; user->roles[i] != NULL; i++)
    json_builder_add_string_value(b, user->roles[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, user->active ? "active" : "disabled");
  json_builder_set_member_name(b, "unix_user");
  json_builder_add_string_value(b, user->unix_user);
  json_builder_set_member_name(b, "password");
  json_builder_add_boolean_value(b, user->has_password);
  json_builder_set_member_name(b, "created");
  json_builder_add_string_value(b, user->created);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static void
cd_user_directory_finalize(GObject *object)
{
  CdUserDirectory *self = CD_USER_DIRECTORY(object);

  g_free(self->path);
  g_free(self->actor);
  g_free(self->pam_service);
  g_free(self->pam_confdir);
  g_key_file_unref(self->kf);
  G_OBJECT_CLASS(cd_user_directory_parent_class)->finalize(object);
}

static void
cd_user_directory_class_init(CdUserDirectoryClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = cd_user_directory_finalize;
}

static void
cd_user_directory_init(CdUserDirectory *self)
{
  self->kf = g_key_file_new();
  self->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  self->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  self->actor = g_strdup_printf("admin-mode:%s", g_get_user_name());
}

/**
 * cd_user_directory_set_actor:
 * @self: a #CdUserDirectory
 * @actor: who makes the changes that follow (default `admin-mode:LOGIN`)
 *
 * Since: 0.3
 */
void
cd_user_directory_set_actor(CdUserDirectory *self, const gchar *actor)
{
  g_return_if_fail(CD_IS_USER_DIRECTORY(self));
  g_free(self->actor);
  self->actor = g_strdup(actor);
}

/**
 * cd_user_directory_set_pam:
 * @self: a #CdUserDirectory
 * @service: (nullable): a PAM service name (`[service] pam-service`), or
 *   %NULL for local passwords only
 * @confdir: (nullable): where PAM reads its service files, %NULL for
 *   `/etc/pam.d` (tests give a folder of their own)
 *
 * With a PAM service, a user who has no local password is authenticated by
 * PAM as their Unix account (`unix-user`, else their login), so a
 * hospital's directory accounts (SSSD) need no password of ours. A user
 * with a local password keeps it; roles and the disabled state are always
 * this directory's.
 *
 * Since: 0.3
 */
void
cd_user_directory_set_pam(CdUserDirectory *self, const gchar *service, const gchar *confdir)
{
  g_return_if_fail(CD_IS_USER_DIRECTORY(self));
  g_free(self->pam_service);
  g_free(self->pam_confdir);
  self->pam_service = service != NULL && service[0] != '\0' ? g_strdup(service) : NULL;
  self->pam_confdir = g_strdup(confdir);
}

/**
 * cd_user_directory_default_path:
 *
 * Returns: (transfer full): `$CHARTDESK_USERS` if set, else `users.conf` in
 *   the service's default state directory (`~/.local/state/chartdesk/`)
 *
 * Since: 0.3
 */
gchar *
cd_user_directory_default_path(void)
{
  const gchar *env = g_getenv("CHARTDESK_USERS");
  if (env != NULL && env[0] != '\0')
    return g_strdup(env);
  return g_build_filename(g_get_user_state_dir(), "chartdesk", "users.conf", NULL);
}

/* Login names as Unix ones are: they appear in audit logs and messages. */
static gboolean
cd_login_is_valid(const gchar *login)
{
  if (login == NULL || login[0] == '\0' || strlen(login) > 64 || !(g_ascii_isalnum(login[0]) || login[0] == '_'))
    return FALSE;
  /* the service's own name in the audit log (hot folders, resumed batches) */
  if (g_str_has_prefix(login, "chartdeskd"))
    return FALSE;
  for (const gchar *p = login; *p != '\0'; p++) {
    if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
      return FALSE;
  }
  return TRUE;
}

/* Re-reads the file if it changed since it was last read (or never was). */
gboolean
cd_user_directory_refresh(CdUserDirectory *self, GError **error)
{
  GStatBuf st;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error_local = NULL;

  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), FALSE);
  if (g_stat(self->path, &st) != 0) {
    gint saved = errno;
    g_set_error(error, CD_ERROR, saved == ENOENT ? CD_ERROR_NOT_FOUND : CD_ERROR_FAILED,
                "%s: cannot read the user directory: %s", self->path, g_strerror(saved));
    return FALSE;
  }
  if ((gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000 == self->mtime &&
      (guint64) st.st_ino == self->inode)
    return TRUE;
  /* password hashes: nobody but the owner may read them */
  if ((st.st_mode & 0077) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "%s: the user directory is readable or writable by others (mode %04o): refused; chmod 0600 it",
                self->path, (guint) (st.st_mode & 07777));
    return FALSE;
  }
  if (!g_key_file_load_from_file(kf, self->path, G_KEY_FILE_KEEP_COMMENTS, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: not a user directory: %s", self->path,
                error_local->message);
    return FALSE;
  }
  g_key_file_unref(self->kf);
  self->kf = g_key_file_ref(kf);
  self->mtime = (gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
  self->inode = st.st_ino;
  return TRUE;
}

/* Writes the directory whole, mode 0600, renamed over the old file. */
static gboolean
cd_user_directory_save(CdUserDirectory *self, GError **error)
{
  g_autofree gchar *data = g_key_file_to_data(self->kf, NULL, NULL);
  g_autofree gchar *dir = g_path_get_dirname(self->path);
  g_autoptr(GError) error_local = NULL;

  if (g_mkdir_with_parents(dir, 0700) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "%s: cannot create the folder: %s", dir, g_strerror(errno));
    return FALSE;
  }
  if (!g_file_set_contents_full(self->path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "%s: cannot write the user directory: %s", self->path,
                error_local->message);
    return FALSE;
  }
  self->mtime = 0; /* re-read on the next refresh: cheap, and exact */
  return TRUE;
}

/* Saves a change and appends it to the directory's own audit log,
 * `PATH.log` (JSON Lines, 0600): who, when, what, to whom. A change that
 * cannot be logged is still saved, and the failure is the error. */
static gboolean
cd_user_directory_commit(CdUserDirectory *self, const gchar *action, const gchar *login, const gchar *detail,
                         GError **error)
{
  g_autofree gchar *log = g_strconcat(self->path, ".log", NULL);
  g_autofree gchar *ts = cd_now_iso8601();
  g_autofree gchar *line = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *text = NULL;
  gint fd;

  if (!cd_user_directory_save(self, error))
    return FALSE;
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "ts");
  json_builder_add_string_value(b, ts);
  json_builder_set_member_name(b, "actor");
  json_builder_add_string_value(b, self->actor);
  json_builder_set_member_name(b, "action");
  json_builder_add_string_value(b, action);
  json_builder_set_member_name(b, "user");
  json_builder_add_string_value(b, login);
  json_builder_set_member_name(b, "detail");
  json_builder_add_string_value(b, detail);
  json_builder_end_object(b);
  node = json_builder_get_root(b);
  text = cd_json_to_string(node);
  line = g_strconcat(text, "\n", NULL);
  fd = g_open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, line, strlen(line)) != (gssize) strlen(line)) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "%s: cannot log the change: %s", log, g_strerror(errno));
    if (fd >= 0)
      close(fd);
    return FALSE;
  }
  close(fd);
  return TRUE;
}

/**
 * cd_user_directory_open:
 * @path: the directory's file
 * @create: create an empty directory if there is none
 * @error: return location for a #GError
 *
 * Opens a user directory. A file others may read or write is refused
 * (%CD_ERROR_INVALID_DATA): it holds password hashes.
 *
 * Returns: (transfer full): the directory, or %NULL with @error set
 *
 * Since: 0.3
 */
CdUserDirectory *
cd_user_directory_open(const gchar *path, gboolean create, GError **error)
{
  g_autoptr(CdUserDirectory) self = NULL;

  g_return_val_if_fail(path != NULL, NULL);
  if (sodium_init() < 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INTERNAL, "libsodium cannot be initialised");
    return NULL;
  }
  self = g_object_new(CD_TYPE_USER_DIRECTORY, NULL);
  self->path = g_strdup(path);
  if (create && !g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_key_file_set_comment(self->kf, NULL, NULL,
                           " Chartdesk users: managed by `chartdesk users`; holds password hashes, keep it 0600", NULL);
    if (!cd_user_directory_save(self, error))
      return NULL;
  }
  if (!cd_user_directory_refresh(self, error))
    return NULL;
  return g_steal_pointer(&self);
}

const gchar *
cd_user_directory_get_path(CdUserDirectory *self)
{
  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), NULL);
  return self->path;
}

/**
 * cd_user_directory_set_clock:
 * @self: a #CdUserDirectory
 * @clock: (nullable): the clock break-the-glass grants and their principals use
 * @user_data: for @clock
 *
 * Since: 0.3
 */
void
cd_user_directory_set_clock(CdUserDirectory *self, CdClockFunc clock, gpointer user_data)
{
  g_return_if_fail(CD_IS_USER_DIRECTORY(self));
  self->clock = clock;
  self->clock_data = user_data;
}

gint64
cd_user_directory_now(CdUserDirectory *self)
{
  return self->clock != NULL ? self->clock(self->clock_data) : g_get_real_time();
}

/**
 * cd_user_directory_set_pwhash_limits:
 * @self: a #CdUserDirectory
 * @opslimit: argon2id's operations limit for new hashes
 * @memlimit: its memory limit in bytes
 *
 * Hashes made with other parameters are remade at the next successful
 * login (crypto_pwhash_str_needs_rehash()). The defaults are libsodium's
 * interactive limits; tests lower them.
 *
 * Since: 0.3
 */
void
cd_user_directory_set_pwhash_limits(CdUserDirectory *self, guint64 opslimit, gsize memlimit)
{
  g_return_if_fail(CD_IS_USER_DIRECTORY(self));
  self->opslimit = opslimit;
  self->memlimit = memlimit;
}

static gchar *
cd_user_group(const gchar *login)
{
  return g_strconcat(CD_USER_GROUP_PREFIX, login, NULL);
}

static CdUser *
cd_user_directory_read_user(CdUserDirectory *self, const gchar *group)
{
  CdUser *user = g_new0(CdUser, 1);
  g_autofree gchar *state = g_key_file_get_string(self->kf, group, "state", NULL);
  g_autofree gchar *hash = g_key_file_get_string(self->kf, group, "password", NULL);
  g_autofree gchar *until = g_key_file_get_string(self->kf, group, "break-glass-until", NULL);

  user->login = g_strdup(group + strlen(CD_USER_GROUP_PREFIX));
  user->full_name = g_key_file_get_string(self->kf, group, "full-name", NULL);
  user->roles = g_key_file_get_string_list(self->kf, group, "roles", NULL, NULL);
  if (user->roles == NULL)
    user->roles = g_new0(gchar *, 1);
  user->active = g_strcmp0(state, "disabled") != 0;
  user->unix_user = g_key_file_get_string(self->kf, group, "unix-user", NULL);
  user->has_password = hash != NULL && hash[0] != '\0';
  user->created = g_key_file_get_string(self->kf, group, "created", NULL);
  user->break_glass_reason = g_key_file_get_string(self->kf, group, "break-glass-reason", NULL);
  user->break_glass_until = until != NULL ? g_ascii_strtoll(until, NULL, 10) : 0;
  return user;
}

/**
 * cd_user_directory_list:
 * @self: a #CdUserDirectory
 *
 * Returns: (transfer container) (element-type CdUser): the users, by login
 *
 * Since: 0.3
 */
GPtrArray *
cd_user_directory_list(CdUserDirectory *self)
{
  GPtrArray *users = g_ptr_array_new_with_free_func((GDestroyNotify) cd_user_free);
  g_auto(GStrv) groups = NULL;

  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), NULL);
  cd_user_directory_refresh(self, NULL);
  groups = g_key_file_get_groups(self->kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++) {
    if (g_str_has_prefix(groups[i], CD_USER_GROUP_PREFIX))
      g_ptr_array_add(users, cd_user_directory_read_user(self, groups[i]));
  }
  return users;
}

/**
 * cd_user_directory_lookup:
 * @self: a #CdUserDirectory
 * @login: a login name
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the user as the file says now, or %NULL with
 *   %CD_ERROR_NOT_FOUND
 *
 * Since: 0.3
 */
CdUser *
cd_user_directory_lookup(CdUserDirectory *self, const gchar *login, GError **error)
{
  g_autofree gchar *group = NULL;

  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), NULL);
  if (!cd_user_directory_refresh(self, error))
    return NULL;
  group = cd_user_group(login != NULL ? login : "");
  if (login == NULL || !g_key_file_has_group(self->kf, group)) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no user '%s'", self->path, login != NULL ? login : "");
    return NULL;
  }
  return cd_user_directory_read_user(self, group);
}

/**
 * cd_user_directory_lookup_unix:
 * @self: a #CdUserDirectory
 * @unix_user: a Unix login
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the user mapped to @unix_user, or %NULL with
 *   %CD_ERROR_NOT_FOUND
 *
 * Since: 0.3
 */
CdUser *
cd_user_directory_lookup_unix(CdUserDirectory *self, const gchar *unix_user, GError **error)
{
  g_autoptr(GPtrArray) users = NULL;

  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), NULL);
  if (!cd_user_directory_refresh(self, error))
    return NULL;
  users = cd_user_directory_list(self);
  for (guint i = 0; i < users->len; i++) {
    CdUser *user = g_ptr_array_index(users, i);
    if (g_strcmp0(user->unix_user, unix_user) == 0)
      return g_ptr_array_steal_index(users, i);
  }
  g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no user is mapped to the Unix account '%s'", self->path,
              unix_user);
  return NULL;
}

static gchar *
cd_user_directory_hash(CdUserDirectory *self, const gchar *password, GError **error)
{
  gchar hash[crypto_pwhash_STRBYTES];

  if (password == NULL || password[0] == '\0') {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "an empty password is not allowed");
    return NULL;
  }
  if (crypto_pwhash_str(hash, password, strlen(password), self->opslimit, self->memlimit) != 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_FAILED, "cannot hash the password: out of memory");
    return NULL;
  }
  return g_strdup(hash);
}

/* Reads the file afresh and finds @login's group, for a change. */
static gchar *
cd_user_directory_group_for_change(CdUserDirectory *self, const gchar *login, GError **error)
{
  g_autofree gchar *group = NULL;

  if (!cd_user_directory_refresh(self, error))
    return NULL;
  group = cd_user_group(login);
  if (!g_key_file_has_group(self->kf, group)) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no user '%s'", self->path, login);
    return NULL;
  }
  return g_steal_pointer(&group);
}

static gboolean
cd_roles_valid(const gchar *const *roles, GError **error)
{
  for (guint i = 0; roles != NULL && roles[i] != NULL; i++) {
    if (!cd_role_is_valid(roles[i])) {
      g_autofree gchar *all = g_strjoinv(", ", (gchar **) cd_role_list());
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "unknown role '%s' (roles: %s)", roles[i], all);
      return FALSE;
    }
  }
  return TRUE;
}

/**
 * cd_user_directory_add:
 * @self: a #CdUserDirectory
 * @login: the new user's login name (letters, digits, `_`, `-`, `.`)
 * @full_name: (nullable): their name
 * @roles: (array zero-terminated=1): at least one role
 * @unix_user: (nullable): the Unix account their D-Bus calls come from
 * @password: (nullable): their web password
 * @error: return location for a #GError
 *
 * Returns: %TRUE if added; %CD_ERROR_INVALID_ARGUMENT for a bad name or
 *   role, a login or Unix account already taken
 *
 * Since: 0.3
 */
gboolean
cd_user_directory_add(CdUserDirectory *self, const gchar *login, const gchar *full_name, const gchar *const *roles,
                      const gchar *unix_user, const gchar *password, GError **error)
{
  g_autofree gchar *group = NULL;
  g_autofree gchar *hash = NULL;
  g_autofree gchar *now = cd_now_iso8601();
  g_autoptr(CdUser) taken = NULL;

  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), FALSE);
  if (!cd_login_is_valid(login)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "'%s' is not a login name: letters, digits, '_', '-' and '.', at most 64, not chartdeskd…", login);
    return FALSE;
  }
  if (roles == NULL || roles[0] == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "user '%s': give at least one --role", login);
    return FALSE;
  }
  if (!cd_roles_valid(roles, error) || !cd_user_directory_refresh(self, error))
    return FALSE;
  group = cd_user_group(login);
  if (g_key_file_has_group(self->kf, group)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: user '%s' exists already", self->path, login);
    return FALSE;
  }
  if (unix_user != NULL && (taken = cd_user_directory_lookup_unix(self, unix_user, NULL)) != NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: the Unix account '%s' is already user '%s''s",
                self->path, unix_user, taken->login);
    return FALSE;
  }
  if (password != NULL && (hash = cd_user_directory_hash(self, password, error)) == NULL)
    return FALSE;
  if (full_name != NULL)
    g_key_file_set_string(self->kf, group, "full-name", full_name);
  g_key_file_set_string_list(self->kf, group, "roles", roles, g_strv_length((gchar **) roles));
  g_key_file_set_string(self->kf, group, "state", "active");
  if (unix_user != NULL)
    g_key_file_set_string(self->kf, group, "unix-user", unix_user);
  if (hash != NULL)
    g_key_file_set_string(self->kf, group, "password", hash);
  g_key_file_set_string(self->kf, group, "created", now);
  {
    g_autofree gchar *list = g_strjoinv(",", (gchar **) roles);
    g_autofree gchar *detail = g_strdup_printf("roles %s%s%s%s", list, unix_user != NULL ? ", unix-user " : "",
                                               unix_user != NULL ? unix_user : "", hash != NULL ? ", password" : "");
    return cd_user_directory_commit(self, "users-add", login, detail, error);
  }
}

/* g_ptr_array_sort() hands pointers to the elements */
static gint
cd_user_strcmp_ptr(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

static gboolean
cd_user_directory_change_role(CdUserDirectory *self, const gchar *login, const gchar *role, gboolean grant,
                              GError **error)
{
  g_autofree gchar *group = NULL;
  g_auto(GStrv) roles = NULL;
  g_autoptr(GPtrArray) next = g_ptr_array_new();
  const gchar *one[] = { role, NULL };
  gboolean held = FALSE;

  if (!cd_roles_valid(one, error))
    return FALSE;
  group = cd_user_directory_group_for_change(self, login, error);
  if (group == NULL)
    return FALSE;
  roles = g_key_file_get_string_list(self->kf, group, "roles", NULL, NULL);
  for (guint i = 0; roles != NULL && roles[i] != NULL; i++) {
    if (g_strcmp0(roles[i], role) == 0)
      held = TRUE;
    else
      g_ptr_array_add(next, roles[i]);
  }
  if (held == grant) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "user '%s' %s the role '%s'", login,
                grant ? "already holds" : "does not hold", role);
    return FALSE;
  }
  if (grant)
    g_ptr_array_add(next, (gpointer) role);
  g_ptr_array_sort(next, cd_user_strcmp_ptr);
  g_key_file_set_string_list(self->kf, group, "roles", (const gchar *const *) next->pdata, next->len);
  return cd_user_directory_commit(self, grant ? "users-grant" : "users-revoke", login, role, error);
}

/**
 * cd_user_directory_grant:
 * @self: a #CdUserDirectory
 * @login: a user
 * @role: a role they do not hold yet
 * @error: return location for a #GError
 *
 * Returns: %TRUE if granted
 *
 * Since: 0.3
 */
gboolean
cd_user_directory_grant(CdUserDirectory *self, const gchar *login, const gchar *role, GError **error)
{
  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), FALSE);
  return cd_user_directory_change_role(self, login, role, TRUE, error);
}

/**
 * cd_user_directory_revoke:
 * @self: a #CdUserDirectory
 * @login: a user
 * @role: a role they hold
 * @error: return location for a #GError
 *
 * Returns: %TRUE if revoked; effective at the user's next call
 *
 * Since: 0.3
 */
gboolean
cd_user_directory_revoke(CdUserDirectory *self, const gchar *login, const gchar *role, GError **error)
{
  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), FALSE);
  return cd_user_directory_change_role(self, login, role, FALSE, error);
}

/**
 * cd_user_directory_set_password:
 * @self: a #CdUserDirectory
 * @login: a user
 * @password: the new web password
 * @error: return location for a #GError
 *
 * Returns: %TRUE if set
 *
 * Since: 0.3
 */
gboolean
cd_user_directory_set_password(CdUserDirectory *self, const gchar *login, const gchar *password, GError **error)
{
  g_autofree gchar *group = NULL;
  g_autofree gchar *hash = NULL;

  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), FALSE);
  group = cd_user_directory_group_for_change(self, login, error);
  if (group == NULL)
    return FALSE;
  hash = cd_user_directory_hash(self, password, error);
  if (hash == NULL)
    return FALSE;
  g_key_file_set_string(self->kf, group, "password", hash);
  return cd_user_directory_commit(self, "users-passwd", login, "password set", error);
}

/**
 * cd_user_directory_set_active:
 * @self: a #CdUserDirectory
 * @login: a user
 * @active: %FALSE to disable them, %TRUE to enable them again
 * @error: return location for a #GError
 *
 * A disabled user is refused on their next call through any interface,
 * and their web sessions stop working (see #CdSessionStore).
 *
 * Returns: %TRUE if changed
 *
 * Since: 0.3
 */
gboolean
cd_user_directory_set_active(CdUserDirectory *self, const gchar *login, gboolean active, GError **error)
{
  g_autofree gchar *group = NULL;

  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), FALSE);
  group = cd_user_directory_group_for_change(self, login, error);
  if (group == NULL)
    return FALSE;
  g_key_file_set_string(self->kf, group, "state", active ? "active" : "disabled");
  return cd_user_directory_commit(self, active ? "users-enable" : "users-disable", login, NULL, error);
}

/**
 * cd_user_directory_verify_password:
 * @self: a #CdUserDirectory
 * @login: a user
 * @password: what they typed
 * @rehashed: (out) (optional): set when the stored hash was made with other
 *   parameters and has been remade
 * @error: return location for a #GError
 *
 * Checks a web password (crypto_pwhash_str_verify(), constant time in
 * libsodium). A disabled user, a user without a password and a wrong
 * password all fail with %CD_ERROR_PERMISSION_DENIED; an unknown user
 * with %CD_ERROR_NOT_FOUND.
 *
 * Returns: %TRUE if the password is right and the user active
 *
 * Since: 0.3
 */
gboolean
cd_user_directory_verify_password(CdUserDirectory *self, const gchar *login, const gchar *password, gboolean *rehashed,
                                  GError **error)
{
  g_autofree gchar *group = NULL;
  g_autofree gchar *hash = NULL;
  g_autofree gchar *state = NULL;

  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), FALSE);
  if (rehashed != NULL)
    *rehashed = FALSE;
  group = cd_user_directory_group_for_change(self, login, error);
  if (group == NULL)
    return FALSE;
  hash = g_key_file_get_string(self->kf, group, "password", NULL);
  state = g_key_file_get_string(self->kf, group, "state", NULL);
  if ((hash == NULL || hash[0] == '\0') && self->pam_service != NULL) {
    g_autofree gchar *account = g_key_file_get_string(self->kf, group, "unix-user", NULL);
    /* disabled here stays disabled, whatever the hospital's directory says */
    if (g_strcmp0(state, "disabled") == 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "user %s is disabled", login);
      return FALSE;
    }
    return cd_pam_authenticate(self->pam_service, self->pam_confdir,
                               account != NULL && account[0] != '\0' ? account : login, password, error);
  }
  if (hash == NULL || password == NULL || crypto_pwhash_str_verify(hash, password, strlen(password)) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "user %s: wrong password", login);
    return FALSE;
  }
  if (g_strcmp0(state, "disabled") == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "user %s is disabled", login);
    return FALSE;
  }
  if (crypto_pwhash_str_needs_rehash(hash, self->opslimit, self->memlimit) != 0) {
    g_autofree gchar *fresh = cd_user_directory_hash(self, password, error);
    if (fresh == NULL)
      return FALSE;
    g_key_file_set_string(self->kf, group, "password", fresh);
    if (!cd_user_directory_save(self, error))
      return FALSE;
    if (rehashed != NULL)
      *rehashed = TRUE;
  }
  return TRUE;
}

/**
 * cd_user_directory_break_glass:
 * @self: a #CdUserDirectory
 * @login: an active user
 * @reason: why they need emergency access (required)
 * @minutes: how long it lasts; 0 for %CD_BREAK_GLASS_DEFAULT_MINUTES
 * @error: return location for a #GError
 *
 * Records a break-the-glass grant: until it ends, the user's principals
 * (cd_user_directory_get_principal()) also hold
 * %CD_PERMISSION_BREAK_GLASS, and every audit entry they write carries the
 * reason. The caller audits the grant itself (action `break-glass`).
 *
 * Returns: when it ends (µs since the epoch), or 0 with @error set
 *
 * Since: 0.3
 */
gint64
cd_user_directory_break_glass(CdUserDirectory *self, const gchar *login, const gchar *reason, guint minutes,
                              GError **error)
{
  g_autofree gchar *group = NULL;
  g_autofree gchar *until_text = NULL;
  g_autofree gchar *state = NULL;
  g_autofree gchar *trimmed = g_strstrip(g_strdup(reason != NULL ? reason : ""));
  gint64 until;

  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), 0);
  if (trimmed[0] == '\0') {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "user %s: break-the-glass needs a reason", login);
    return 0;
  }
  group = cd_user_directory_group_for_change(self, login, error);
  if (group == NULL)
    return 0;
  state = g_key_file_get_string(self->kf, group, "state", NULL);
  if (g_strcmp0(state, "disabled") == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "user %s is disabled", login);
    return 0;
  }
  until = cd_user_directory_now(self) +
          (gint64) (minutes > 0 ? minutes : CD_BREAK_GLASS_DEFAULT_MINUTES) * 60 * G_USEC_PER_SEC;
  until_text = g_strdup_printf("%" G_GINT64_FORMAT, until);
  g_key_file_set_string(self->kf, group, "break-glass-reason", reason);
  g_key_file_set_string(self->kf, group, "break-glass-until", until_text);
  {
    g_autofree gchar *detail =
        g_strdup_printf("%u minutes: %s", minutes > 0 ? minutes : CD_BREAK_GLASS_DEFAULT_MINUTES, reason);
    if (!cd_user_directory_commit(self, "break-glass", login, detail, error))
      return 0;
  }
  return until;
}

static CdPrincipal *
cd_user_directory_principal_of(CdUserDirectory *self, CdUser *user, GError **error)
{
  CdPrincipal *principal;

  if (!user->active) {
    g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "user %s is disabled", user->login);
    return NULL;
  }
  principal = cd_principal_new_user(user->login, (const gchar *const *) user->roles);
  cd_principal_set_clock(principal, self->clock, self->clock_data);
  if (user->break_glass_reason != NULL)
    cd_principal_set_break_glass(principal, user->break_glass_reason, user->break_glass_until);
  return principal;
}

/**
 * cd_user_directory_get_principal:
 * @self: a #CdUserDirectory
 * @login: a user
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the principal of an active user, with their
 *   roles and any break-the-glass grant; %NULL with
 *   %CD_ERROR_PERMISSION_DENIED for a disabled one
 *
 * Since: 0.3
 */
CdPrincipal *
cd_user_directory_get_principal(CdUserDirectory *self, const gchar *login, GError **error)
{
  g_autoptr(CdUser) user = NULL;

  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), NULL);
  user = cd_user_directory_lookup(self, login, error);
  if (user == NULL)
    return NULL;
  return cd_user_directory_principal_of(self, user, error);
}

/**
 * cd_user_directory_get_principal_for_uid:
 * @self: a #CdUserDirectory
 * @uid: a D-Bus caller's Unix user id, as the bus daemon vouches for it
 * @error: return location for a #GError
 *
 * Maps a local caller to the user whose `unix-user` is the account of @uid.
 *
 * Returns: (transfer full): the principal, or %NULL with
 *   %CD_ERROR_PERMISSION_DENIED for an unknown or disabled caller
 *
 * Since: 0.3
 */
CdPrincipal *
cd_user_directory_get_principal_for_uid(CdUserDirectory *self, guint32 uid, GError **error)
{
  g_autoptr(CdUser) user = NULL;
  g_autoptr(GError) error_local = NULL;
  struct passwd *pw;

  g_return_val_if_fail(CD_IS_USER_DIRECTORY(self), NULL);
  pw = getpwuid(uid);
  if (pw == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "uid %u has no Unix account: not a Chartdesk user", uid);
    return NULL;
  }
  user = cd_user_directory_lookup_unix(self, pw->pw_name, &error_local);
  if (user == NULL) {
    if (g_error_matches(error_local, CD_ERROR, CD_ERROR_NOT_FOUND))
      g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED,
                  "the Unix account %s (uid %u) is not mapped to a Chartdesk user (chartdesk users add NAME "
                  "--unix-user %s)",
                  pw->pw_name, uid, pw->pw_name);
    else
      g_propagate_error(error, g_steal_pointer(&error_local));
    return NULL;
  }
  return cd_user_directory_principal_of(self, user, error);
}
