/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sodium.h>

#include "cd-session-store.h"

/*
 * CdSessionStore:
 *
 * The web workstation's sessions, as a library API (the HTTP server is a
 * later issue): a login with a password gives an opaque token; each request
 * presents it and gets the user's principal back, or an error once the
 * session has been idle too long (15 minutes by default), has reached its
 * maximum age (8 hours), or its user has been disabled — which ends every
 * session of that user at once. Failed logins are reported to the audit
 * function and rate-limited per user and per client address: after 5
 * failures for one user (20 from one address) within 15 minutes, further
 * attempts are refused, right password or not, until the oldest failure
 * leaves the window.
 *
 * Sessions live in memory: a restarted service logs everybody out, the safe
 * way round. Tokens are 32 random bytes; only their SHA-256 is kept.
 * Time comes from the directory's clock, so tests use a fake one.
 */
struct _CdSessionStore {
  GObject parent_instance;
  CdUserDirectory *directory;
  GHashTable *sessions; /* SHA-256 of the token → CdSession */
  GHashTable *failures; /* "user:LOGIN" or "addr:ADDRESS" → GArray of gint64 times */
  gint64 idle;          /* µs */
  gint64 max_age;       /* µs */
  CdSessionAuditFunc audit;
  gpointer audit_data;
  GMutex lock;
};

typedef struct {
  gchar *login;
  gchar *address;
  gint64 created;
  gint64 last_seen;
} CdSession;

G_DEFINE_FINAL_TYPE(CdSessionStore, cd_session_store, G_TYPE_OBJECT)

static void
cd_session_free(CdSession *session)
{
  g_free(session->login);
  g_free(session->address);
  g_free(session);
}

static void
cd_session_store_finalize(GObject *object)
{
  CdSessionStore *self = CD_SESSION_STORE(object);

  g_object_unref(self->directory);
  g_hash_table_unref(self->sessions);
  g_hash_table_unref(self->failures);
  g_mutex_clear(&self->lock);
  G_OBJECT_CLASS(cd_session_store_parent_class)->finalize(object);
}

static void
cd_session_store_class_init(CdSessionStoreClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = cd_session_store_finalize;
}

static void
cd_session_store_init(CdSessionStore *self)
{
  self->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) cd_session_free);
  self->failures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
  self->idle = (gint64) CD_SESSION_DEFAULT_IDLE_MINUTES * 60 * G_USEC_PER_SEC;
  self->max_age = (gint64) CD_SESSION_DEFAULT_MAX_AGE_MINUTES * 60 * G_USEC_PER_SEC;
  g_mutex_init(&self->lock);
}

/**
 * cd_session_store_new:
 * @directory: the users sessions are opened for
 *
 * Returns: (transfer full): an empty session store
 *
 * Since: 0.3
 */
CdSessionStore *
cd_session_store_new(CdUserDirectory *directory)
{
  CdSessionStore *self;

  g_return_val_if_fail(CD_IS_USER_DIRECTORY(directory), NULL);
  self = g_object_new(CD_TYPE_SESSION_STORE, NULL);
  self->directory = g_object_ref(directory);
  return self;
}

/**
 * cd_session_store_set_limits:
 * @self: a #CdSessionStore
 * @idle_minutes: inactivity after which a session ends; 0 for the default
 * @max_age_minutes: age at which a session ends however active; 0 for the default
 *
 * Since: 0.3
 */
void
cd_session_store_set_limits(CdSessionStore *self, guint idle_minutes, guint max_age_minutes)
{
  g_return_if_fail(CD_IS_SESSION_STORE(self));
  self->idle = (gint64) (idle_minutes > 0 ? idle_minutes : CD_SESSION_DEFAULT_IDLE_MINUTES) * 60 * G_USEC_PER_SEC;
  self->max_age =
      (gint64) (max_age_minutes > 0 ? max_age_minutes : CD_SESSION_DEFAULT_MAX_AGE_MINUTES) * 60 * G_USEC_PER_SEC;
}

/**
 * cd_session_store_set_idle_seconds:
 * @self: a #CdSessionStore
 * @seconds: inactivity after which a session ends; 0 for the default
 *
 * As the idle limit of cd_session_store_set_limits(), to the second: the
 * web server's `idle-timeout` is configured in seconds.
 *
 * Since: 0.4
 */
void
cd_session_store_set_idle_seconds(CdSessionStore *self, guint seconds)
{
  g_return_if_fail(CD_IS_SESSION_STORE(self));
  self->idle = seconds > 0 ? (gint64) seconds * G_USEC_PER_SEC
                           : (gint64) CD_SESSION_DEFAULT_IDLE_MINUTES * 60 * G_USEC_PER_SEC;
}

void
cd_session_store_set_audit_func(CdSessionStore *self, CdSessionAuditFunc func, gpointer user_data)
{
  g_return_if_fail(CD_IS_SESSION_STORE(self));
  self->audit = func;
  self->audit_data = user_data;
}

static void
cd_session_store_audit(CdSessionStore *self, const gchar *action, const gchar *login, const gchar *address,
                       const gchar *detail)
{
  if (self->audit != NULL)
    self->audit(action, login, address, detail, self->audit_data);
}

/* Failures of @key still inside the window, the old ones dropped. */
static guint
cd_session_store_recent_failures(CdSessionStore *self, const gchar *key, gint64 now)
{
  GArray *times = g_hash_table_lookup(self->failures, key);
  gint64 window = (gint64) CD_SESSION_FAILURE_WINDOW_MINUTES * 60 * G_USEC_PER_SEC;

  while (times != NULL && times->len > 0 && g_array_index(times, gint64, 0) <= now - window)
    g_array_remove_index(times, 0);
  return times != NULL ? times->len : 0;
}

static void
cd_session_store_add_failure(CdSessionStore *self, const gchar *key, gint64 now)
{
  GArray *times = g_hash_table_lookup(self->failures, key);
  if (times == NULL) {
    times = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_hash_table_insert(self->failures, g_strdup(key), times);
  }
  g_array_append_val(times, now);
}

static gchar *
cd_token_key(const gchar *token)
{
  return g_compute_checksum_for_string(G_CHECKSUM_SHA256, token, -1);
}

/**
 * cd_session_store_login:
 * @self: a #CdSessionStore
 * @login: the user
 * @password: what they typed
 * @address: the client's address, for rate limits and the audit log
 * @error: return location for a #GError
 *
 * Opens a session. A wrong password, an unknown or disabled user all fail
 * with %CD_ERROR_PERMISSION_DENIED and one message ("wrong user name or
 * password"), so the answer does not tell which users exist; each failure
 * is audited (`login-failed`, with the real reason) and counted against
 * the user and the address. While either is over its limit the login is
 * refused without checking the password (`login-throttled`).
 *
 * Returns: (transfer full): the session's token, or %NULL with @error set
 *
 * Since: 0.3
 */
gchar *
cd_session_store_login(CdSessionStore *self, const gchar *login, const gchar *password, const gchar *address,
                       GError **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(GError) error_local = NULL;
  g_autofree gchar *user_key = NULL;
  g_autofree gchar *addr_key = NULL;
  guchar bytes[32];
  gchar *token;
  CdSession *session;
  gint64 now;

  g_return_val_if_fail(CD_IS_SESSION_STORE(self), NULL);
  locker = g_mutex_locker_new(&self->lock);
  now = cd_user_directory_now(self->directory);
  user_key = g_strconcat("user:", login != NULL ? login : "", NULL);
  addr_key = g_strconcat("addr:", address != NULL ? address : "", NULL);
  if (cd_session_store_recent_failures(self, user_key, now) >= CD_SESSION_MAX_FAILURES_PER_USER ||
      cd_session_store_recent_failures(self, addr_key, now) >= CD_SESSION_MAX_FAILURES_PER_ADDRESS) {
    cd_session_store_audit(self, "login-throttled", login, address, "too many failed logins");
    g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED,
                "too many failed logins for %s or from %s: try again in %u minutes", login, address,
                (guint) CD_SESSION_FAILURE_WINDOW_MINUTES);
    return NULL;
  }
  if (!cd_user_directory_verify_password(self->directory, login, password, NULL, &error_local)) {
    cd_session_store_add_failure(self, user_key, now);
    cd_session_store_add_failure(self, addr_key, now);
    cd_session_store_audit(self, "login-failed", login, address, error_local->message);
    g_set_error_literal(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "wrong user name or password");
    return NULL;
  }
  /* the session starts now, not when the password check began: a slow
   * check (argon2id under load) must not eat into a short idle limit */
  now = cd_user_directory_now(self->directory);
  randombytes_buf(bytes, sizeof bytes);
  token = g_malloc(sizeof bytes * 2 + 1);
  sodium_bin2hex(token, sizeof bytes * 2 + 1, bytes, sizeof bytes);
  session = g_new0(CdSession, 1);
  session->login = g_strdup(login);
  session->address = g_strdup(address);
  session->created = now;
  session->last_seen = now;
  g_hash_table_insert(self->sessions, cd_token_key(token), session);
  cd_session_store_audit(self, "login", login, address, NULL);
  return token;
}

/**
 * cd_session_store_validate:
 * @self: a #CdSessionStore
 * @token: a session's token
 * @error: return location for a #GError
 *
 * Checks a request's session and marks it active. A session idle longer
 * than the limit, older than the maximum age, or of a user who is disabled
 * now ends (audited as `session-expired`); a disabled user's other
 * sessions end with it.
 *
 * Returns: (transfer full): the user's principal as the directory says now,
 *   or %NULL with %CD_ERROR_PERMISSION_DENIED
 *
 * Since: 0.3
 */
CdPrincipal *
cd_session_store_validate(CdSessionStore *self, const gchar *token, GError **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autofree gchar *key = NULL;
  g_autoptr(GError) error_local = NULL;
  CdSession *session;
  CdPrincipal *principal;
  const gchar *why = NULL;
  gint64 now;

  g_return_val_if_fail(CD_IS_SESSION_STORE(self), NULL);
  locker = g_mutex_locker_new(&self->lock);
  key = cd_token_key(token != NULL ? token : "");
  session = g_hash_table_lookup(self->sessions, key);
  if (session == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "not logged in (no such session)");
    return NULL;
  }
  now = cd_user_directory_now(self->directory);
  if (now - session->last_seen >= self->idle)
    why = "inactive too long";
  else if (now - session->created >= self->max_age)
    why = "older than the maximum session age";
  if (why != NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "session of %s ended: %s; log in again", session->login,
                why);
    cd_session_store_audit(self, "session-expired", session->login, session->address, why);
    g_hash_table_remove(self->sessions, key);
    return NULL;
  }
  principal = cd_user_directory_get_principal(self->directory, session->login, &error_local);
  if (principal == NULL) {
    g_autofree gchar *login = g_strdup(session->login);
    g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "session of %s ended: %s", login, error_local->message);
    g_clear_pointer(&locker, g_mutex_locker_free);
    cd_session_store_logout_user(self, login);
    return NULL;
  }
  session->last_seen = now;
  return principal;
}

/**
 * cd_session_store_logout:
 * @self: a #CdSessionStore
 * @token: a session's token
 *
 * Returns: %TRUE if the session existed
 *
 * Since: 0.3
 */
gboolean
cd_session_store_logout(CdSessionStore *self, const gchar *token)
{
  g_autoptr(GMutexLocker) locker = NULL;
  g_autofree gchar *key = NULL;
  CdSession *session;

  g_return_val_if_fail(CD_IS_SESSION_STORE(self), FALSE);
  locker = g_mutex_locker_new(&self->lock);
  key = cd_token_key(token != NULL ? token : "");
  session = g_hash_table_lookup(self->sessions, key);
  if (session == NULL)
    return FALSE;
  cd_session_store_audit(self, "logout", session->login, session->address, NULL);
  return g_hash_table_remove(self->sessions, key);
}

/**
 * cd_session_store_logout_user:
 * @self: a #CdSessionStore
 * @login: a user
 *
 * Ends every session of @login ("log out everywhere"), as disabling them
 * does at their next request.
 *
 * Returns: how many sessions ended
 *
 * Since: 0.3
 */
guint
cd_session_store_logout_user(CdSessionStore *self, const gchar *login)
{
  g_autoptr(GMutexLocker) locker = NULL;
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_return_val_if_fail(CD_IS_SESSION_STORE(self), 0);
  locker = g_mutex_locker_new(&self->lock);
  g_hash_table_iter_init(&iter, self->sessions);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    CdSession *session = value;
    if (g_strcmp0(session->login, login) == 0) {
      cd_session_store_audit(self, "logout-everywhere", session->login, session->address, NULL);
      g_hash_table_iter_remove(&iter);
      n++;
    }
  }
  return n;
}

/* Open sessions of @login, or of everyone for NULL. */
guint
cd_session_store_count(CdSessionStore *self, const gchar *login)
{
  g_autoptr(GMutexLocker) locker = NULL;
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_return_val_if_fail(CD_IS_SESSION_STORE(self), 0);
  locker = g_mutex_locker_new(&self->lock);
  g_hash_table_iter_init(&iter, self->sessions);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    if (login == NULL || g_strcmp0(((CdSession *) value)->login, login) == 0)
      n++;
  }
  return n;
}
