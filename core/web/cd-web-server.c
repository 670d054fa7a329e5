/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sodium.h>
#include <string.h>

#include "cd-web-private.h"
#include "cd-web-resources.h"

/*
 * CdWebServer:
 *
 * The web workstation on libsoup 3: the static screens (a GResource
 * compiled in, nothing from other sites) and the JSON API of
 * openapi.json under /api/v1.
 *
 * Each API request is authenticated by its session cookie against the
 * session store, state-changing ones also by their X-CSRF-Token header, and
 * then runs with the user's principal pushed on the archive: the library
 * checks every permission and audits every read under the user's name, as
 * it does for D-Bus callers. The server itself decides nothing about who may
 * read what, beyond refusing requests without a session.
 *
 * The server runs in the thread of the main context it was created in;
 * handlers are synchronous (an archive is one SQLite connection with its own
 * lock), except the event stream, which stays open.
 */

#define CD_WEB_SESSION_COOKIE "cd_session"
/* No request of the API has a body anywhere near this. */
#define CD_WEB_MAX_BODY (64 * 1024)
#define CD_WEB_CSP                                                                                                     \
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "                 \
  "frame-ancestors 'none'; base-uri 'none'"

G_DEFINE_FINAL_TYPE(CdWebServer, cd_web_server, G_TYPE_OBJECT)

void
cd_web_image_free(CdWebImage *image)
{
  g_free(image->key);
  g_bytes_unref(image->png);
  g_free(image->etag);
  g_free(image);
}

static void
cd_web_server_dispose(GObject *object)
{
  CdWebServer *self = CD_WEB_SERVER(object);

  cd_web_server_stop(self);
  g_clear_object(&self->soup);
  G_OBJECT_CLASS(cd_web_server_parent_class)->dispose(object);
}

static void
cd_web_server_finalize(GObject *object)
{
  CdWebServer *self = CD_WEB_SERVER(object);

  cd_web_image_cache_clear(self);
  g_hash_table_unref(self->images);
  g_ptr_array_unref(self->event_clients);
  g_hash_table_unref(self->batch_seen);
  g_clear_object(&self->archive);
  cd_web_store_clear(&self->store);
  g_clear_object(&self->directory);
  g_clear_object(&self->sessions);
  g_clear_object(&self->taxonomy);
  g_clear_object(&self->certificate);
  g_free(self->url);
  sodium_memzero(self->csrf_key, sizeof self->csrf_key);
  G_OBJECT_CLASS(cd_web_server_parent_class)->finalize(object);
}

static void
cd_web_server_class_init(CdWebServerClass *klass)
{
  G_OBJECT_CLASS(klass)->dispose = cd_web_server_dispose;
  G_OBJECT_CLASS(klass)->finalize = cd_web_server_finalize;
  /* a static library's resources would be dropped by the linker unless
   * referenced: they are registered by hand, once */
  cd_web_static_register_resource();
  cd_web_api_register_resource();
}

static void
cd_web_server_init(CdWebServer *self)
{
  self->images = g_hash_table_new(g_str_hash, g_str_equal);
  g_queue_init(&self->image_lru);
  self->event_clients = g_ptr_array_new_with_free_func(g_object_unref);
  self->batch_seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  self->idle_timeout = CD_WEB_DEFAULT_IDLE_TIMEOUT;
  randombytes_buf(self->csrf_key, sizeof self->csrf_key);
}

/* Writes logins, failed logins, logouts and expiries to the archive's audit
 * log under the login concerned (the detail says which it was). */
static void
cd_web_session_audit(const gchar *action, const gchar *login, const gchar *address, const gchar *detail,
                     gpointer user_data)
{
  CdWebServer *self = user_data;
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *actor = g_strdup_printf("web:%s", login != NULL && login[0] != '\0' ? login : "(no name)");

  json_object_set_string_member(obj, "login", login);
  json_object_set_string_member(obj, "address", address);
  if (detail != NULL)
    json_object_set_string_member(obj, "reason", detail);
  node = json_node_init_object(json_node_alloc(), obj);
  if (!cd_web_store_audit(&self->store, actor, action, "session", node, &error))
    g_warning("cannot audit %s of %s: %s", action, login, error->message);
}

static CdWebServer *
cd_web_server_new_common(CdUserDirectory *directory)
{
  CdWebServer *self;
  g_autofree gchar *taxonomy = NULL;
  g_autoptr(GError) error = NULL;

  self = g_object_new(CD_TYPE_WEB_SERVER, NULL);
  self->directory = g_object_ref(directory);
  self->sessions = cd_session_store_new(directory);
  cd_session_store_set_idle_seconds(self->sessions, self->idle_timeout);
  cd_session_store_set_audit_func(self->sessions, cd_web_session_audit, self);
  taxonomy = cd_taxonomy_find(&error);
  if (taxonomy != NULL)
    self->taxonomy = cd_taxonomy_new_from_file(taxonomy, &error);
  if (self->taxonomy == NULL)
    g_message("web: document types are shown by name: %s", error->message);
  return self;
}

/**
 * cd_web_server_new:
 * @archive: the archive it serves; requests act on it as their users
 * @directory: the users who may log in
 *
 * Returns: (transfer full): a server, not yet listening
 */
CdWebServer *
cd_web_server_new(CdArchive *archive, CdUserDirectory *directory)
{
  CdWebServer *self;

  g_return_val_if_fail(CD_IS_ARCHIVE(archive), NULL);
  g_return_val_if_fail(CD_IS_USER_DIRECTORY(directory), NULL);
  self = cd_web_server_new_common(directory);
  self->archive = g_object_ref(archive);
  cd_web_store_init_sqlite(&self->store, archive);
  return self;
}

/**
 * cd_web_server_new_for_server:
 * @pg: (transfer full): the hospital's PostgreSQL archive, its connection
 *   the server's own from now on
 * @directory: the users who may log in
 *
 * The web workstation's reading side on the PostgreSQL archive (issue 18,
 * part 2): search, patients, charts, documents, page images and words, the
 * server's audit chain. The other routes answer 501 `not-supported`; the
 * session and GET /api/v1/capabilities list what it can do.
 *
 * Returns: (transfer full): a server, not yet listening
 */
CdWebServer *
cd_web_server_new_for_server(CdPgArchive *pg, CdUserDirectory *directory)
{
  CdWebServer *self;

  g_return_val_if_fail(pg != NULL, NULL);
  g_return_val_if_fail(CD_IS_USER_DIRECTORY(directory), NULL);
  self = cd_web_server_new_common(directory);
  cd_web_store_init_server(&self->store, pg);
  return self;
}

/**
 * cd_web_server_set_idle_timeout:
 * @self: a #CdWebServer
 * @seconds: a session without a request this long ends; 0 for the default (900)
 */
void
cd_web_server_set_idle_timeout(CdWebServer *self, guint seconds)
{
  g_return_if_fail(CD_IS_WEB_SERVER(self));
  self->idle_timeout = seconds > 0 ? seconds : CD_WEB_DEFAULT_IDLE_TIMEOUT;
  cd_session_store_set_idle_seconds(self->sessions, self->idle_timeout);
}

/**
 * cd_web_server_set_tls_files:
 * @self: a #CdWebServer
 * @certificate: a PEM certificate (chain)
 * @key: its PEM private key
 * @error: return location for a #GError
 *
 * Serves HTTPS from the next cd_web_server_listen(); cookies become Secure.
 *
 * Returns: %TRUE if both files could be read
 */
gboolean
cd_web_server_set_tls_files(CdWebServer *self, const gchar *certificate, const gchar *key, GError **error)
{
  g_autoptr(GError) error_local = NULL;
  GTlsCertificate *cert;

  g_return_val_if_fail(CD_IS_WEB_SERVER(self), FALSE);
  cert = g_tls_certificate_new_from_files(certificate, key, &error_local);
  if (cert == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "TLS certificate %s with key %s: %s", certificate, key,
                error_local->message);
    return FALSE;
  }
  g_clear_object(&self->certificate);
  self->certificate = cert;
  self->tls = TRUE;
  return TRUE;
}

CdSessionStore *
cd_web_server_get_sessions(CdWebServer *self)
{
  g_return_val_if_fail(CD_IS_WEB_SERVER(self), NULL);
  return self->sessions;
}

const gchar *
cd_web_server_get_url(CdWebServer *self)
{
  g_return_val_if_fail(CD_IS_WEB_SERVER(self), NULL);
  return self->url;
}

/* ---- answering ---- */

void
cd_web_set_security_headers(SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);

  soup_message_headers_replace(headers, "Content-Security-Policy", CD_WEB_CSP);
  soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace(headers, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace(headers, "X-Frame-Options", "DENY");
}

void
cd_web_respond_json(CdWebRequest *req, guint status, JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new();
  gsize len = 0;
  gchar *text;

  json_generator_set_root(gen, node);
  text = json_generator_to_data(gen, &len);
  soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "Cache-Control", "no-store");
  soup_server_message_set_status(req->msg, status, NULL);
  soup_server_message_set_response(req->msg, "application/json; charset=utf-8", SOUP_MEMORY_TAKE, text, len);
}

void
cd_web_respond_error(CdWebRequest *req, guint status, const gchar *code, const gchar *format, ...)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *message = NULL;
  va_list ap;

  va_start(ap, format);
  message = g_strdup_vprintf(format, ap);
  va_end(ap);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "error");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "code");
  json_builder_add_string_value(b, code);
  json_builder_set_member_name(b, "message");
  json_builder_add_string_value(b, message);
  json_builder_end_object(b);
  json_builder_end_object(b);
  node = json_builder_get_root(b);
  cd_web_respond_json(req, status, node);
}

/* The library's messages start with the archive's file name, which is no
 * business of a browser. */
static const gchar *
cd_web_strip_path(CdWebRequest *req, const gchar *message)
{
  const gchar *path = cd_web_store_location(&req->server->store);
  gsize len = path != NULL ? strlen(path) : 0;

  if (len > 0 && strncmp(message, path, len) == 0 && message[len] == ':' && message[len + 1] == ' ')
    return message + len + 2;
  return message;
}

void
cd_web_respond_gerror(CdWebRequest *req, const GError *error)
{
  const gchar *message = cd_web_strip_path(req, error->message);

  /* the PostgreSQL archive went away: say so, and try again at the next request */
  if (g_error_matches(error, CD_ERROR, CD_ERROR_ARCHIVE) && req->server->store.pg != NULL &&
      !cd_pg_archive_is_connected(req->server->store.pg)) {
    g_warning("web: %s %s: %s", req->method, g_uri_get_path(soup_server_message_get_uri(req->msg)), error->message);
    cd_web_respond_error(req, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                         "the archive server cannot be reached; try again shortly");
    return;
  }
  if (error->domain == CD_ERROR) {
    switch (error->code) {
    case CD_ERROR_PERMISSION_DENIED:
      cd_web_respond_error(req, SOUP_STATUS_FORBIDDEN, "forbidden", "%s", message);
      return;
    case CD_ERROR_NOT_FOUND:
      cd_web_respond_error(req, SOUP_STATUS_NOT_FOUND, "not-found", "%s", message);
      return;
    case CD_ERROR_QUERY:
    case CD_ERROR_INVALID_ARGUMENT:
    case CD_ERROR_INVALID_DATA:
    case CD_ERROR_TOO_LARGE:
      cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "%s", message);
      return;
    case CD_ERROR_BUSY:
      cd_web_respond_error(req, SOUP_STATUS_CONFLICT, "conflict", "%s", message);
      return;
    default:
      break;
    }
  }
  g_warning("web: %s %s: %s", req->method, g_uri_get_path(soup_server_message_get_uri(req->msg)), error->message);
  cd_web_respond_error(req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "%s", message);
}

/* ---- reading the request ---- */

const gchar *
cd_web_query(CdWebRequest *req, const gchar *name)
{
  const gchar *value = req->query != NULL ? g_hash_table_lookup(req->query, name) : NULL;
  return value != NULL && value[0] != '\0' ? value : NULL;
}

/* A whole number parameter in [min, max]; absent gives @def. Answers 400
 * naming the parameter otherwise. */
gboolean
cd_web_query_uint(CdWebRequest *req, const gchar *name, guint def, guint min, guint max, guint *out)
{
  const gchar *text = cd_web_query(req, name);
  guint64 v;

  if (text == NULL) {
    *out = def;
    return TRUE;
  }
  if (!g_ascii_string_to_unsigned(text, 10, min, max, &v, NULL)) {
    cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "%s: must be a whole number from %u to %u", name,
                         min, max);
    return FALSE;
  }
  *out = (guint) v;
  return TRUE;
}

gboolean
cd_web_parse_id(CdWebRequest *req, const gchar *text, const gchar *what, gint64 *id)
{
  guint64 v;

  if (text == NULL || !g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT64, &v, NULL)) {
    cd_web_respond_error(req, SOUP_STATUS_NOT_FOUND, "not-found", "no %s '%s'", what, text != NULL ? text : "");
    return FALSE;
  }
  *id = (gint64) v;
  return TRUE;
}

const gchar *
cd_web_body_string(CdWebRequest *req, const gchar *member)
{
  JsonObject *obj;
  JsonNode *node;

  if (req->body == NULL || !JSON_NODE_HOLDS_OBJECT(req->body))
    return NULL;
  obj = json_node_get_object(req->body);
  node = json_object_get_member(obj, member);
  if (node == NULL || json_node_get_value_type(node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(node);
}

/* A review decision's reason: 400 without one. */
gboolean
cd_web_require_why(CdWebRequest *req, const gchar **why)
{
  const gchar *value = cd_web_body_string(req, "why");
  g_autofree gchar *stripped = value != NULL ? g_strstrip(g_strdup(value)) : NULL;

  if (stripped == NULL || stripped[0] == '\0') {
    cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                         "why: every review decision needs a reason, for the audit log");
    return FALSE;
  }
  *why = value;
  return TRUE;
}

/* For routes whose library call has no check of its own to make first (the
 * event stream before it subscribes): the same refusal, audited. */
gboolean
cd_web_require(CdWebRequest *req, CdPermission permission, const gchar *what)
{
  g_autoptr(GError) error = NULL;

  if (cd_web_store_require(&req->server->store, req->principal, permission, what, &error))
    return TRUE;
  cd_web_respond_gerror(req, error);
  return FALSE;
}

/* What the archive cannot do is said so, naming the route and the
 * archive, never tried: 501 with the capability it would need. */
void
cd_web_respond_not_supported(CdWebRequest *req, const gchar *capability)
{
  cd_web_respond_error(req, SOUP_STATUS_NOT_IMPLEMENTED, "not-supported",
                       "%s %s: %s is not supported on a %s archive (GET /api/v1/capabilities lists what is)",
                       req->method, g_uri_get_path(soup_server_message_get_uri(req->msg)), capability,
                       req->server->store.pg != NULL ? "PostgreSQL" : "SQLite");
}

static void
cd_web_add_capabilities(JsonBuilder *b, CdWebServer *self)
{
  const gchar *const *caps = cd_web_store_capabilities(&self->store);

  json_builder_set_member_name(b, "archive");
  json_builder_add_string_value(b, cd_web_store_kind(&self->store));
  json_builder_set_member_name(b, "capabilities");
  json_builder_begin_array(b);
  for (guint i = 0; caps[i] != NULL; i++)
    json_builder_add_string_value(b, caps[i]);
  json_builder_end_array(b);
}

const gchar *
cd_web_type_label(CdWebServer *self, const gchar *type)
{
  const gchar *label;

  if (type == NULL)
    return NULL;
  if (self->taxonomy == NULL)
    return type;
  label = cd_taxonomy_get_display_name(self->taxonomy, type);
  return label != NULL ? label : type;
}

/* ---- sessions ---- */

gchar *
cd_web_csrf_token(CdWebServer *self, const gchar *session_token)
{
  g_autoptr(GHmac) hmac = g_hmac_new(G_CHECKSUM_SHA256, self->csrf_key, sizeof self->csrf_key);

  g_hmac_update(hmac, (const guchar *) "csrf:", 5);
  g_hmac_update(hmac, (const guchar *) session_token, strlen(session_token));
  return g_strdup(g_hmac_get_string(hmac));
}

JsonNode *
cd_web_session_json(CdWebRequest *req)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(CdUser) user = NULL;
  g_autofree gchar *csrf = cd_web_csrf_token(req->server, req->token);
  const gchar *const *roles = cd_principal_get_roles(req->principal);
  CdPermission perms = cd_principal_get_permissions(req->principal);
  const gchar *glass = cd_principal_get_break_glass(req->principal, NULL);

  user = cd_user_directory_lookup(req->server->directory, cd_principal_get_login(req->principal), NULL);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "user");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "login");
  json_builder_add_string_value(b, cd_principal_get_login(req->principal));
  json_builder_set_member_name(b, "full_name");
  json_builder_add_string_value(b, user != NULL ? user->full_name : NULL);
  json_builder_set_member_name(b, "roles");
  json_builder_begin_array(b);
  for (guint i = 0; roles != NULL && roles[i] != NULL; i++)
    json_builder_add_string_value(b, roles[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "permissions");
  json_builder_begin_array(b);
  for (guint bit = 1; bit < CD_PERMISSION_ALL; bit <<= 1) {
    if ((perms & bit) != 0)
      json_builder_add_string_value(b, cd_permission_to_string((CdPermission) bit));
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "break_glass");
  json_builder_add_string_value(b, glass);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "csrf");
  json_builder_add_string_value(b, csrf);
  json_builder_set_member_name(b, "idle_timeout");
  json_builder_add_int_value(b, req->server->idle_timeout);
  cd_web_add_capabilities(b, req->server);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static gchar *
cd_web_session_cookie(CdWebServer *self, const gchar *value, gboolean expire)
{
  return g_strdup_printf(CD_WEB_SESSION_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/%s%s", value,
                         expire ? "; Max-Age=0" : "", self->tls ? "; Secure" : "");
}

/* The session token of the request's cookie, or NULL. */
static gchar *
cd_web_request_token(SoupServerMessage *msg)
{
  const gchar *header = soup_message_headers_get_list(soup_server_message_get_request_headers(msg), "Cookie");
  GHashTable *params;
  gchar *token = NULL;

  if (header == NULL)
    return NULL;
  params = soup_header_parse_semi_param_list(header);
  token = g_strdup(g_hash_table_lookup(params, CD_WEB_SESSION_COOKIE));
  soup_header_free_param_list(params);
  return token;
}

static void
cd_web_login(CdWebRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *cookie = NULL;
  g_autoptr(JsonNode) node = NULL;
  const gchar *user = cd_web_body_string(req, "user");
  const gchar *password = cd_web_body_string(req, "password");
  const gchar *address = soup_server_message_get_remote_host(req->msg);

  if (user == NULL || password == NULL) {
    cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "%s: give {\"user\", \"password\"}",
                         user == NULL ? "user" : "password");
    return;
  }
  req->token = cd_session_store_login(req->server->sessions, user, password, address, &error);
  if (req->token == NULL) {
    if (g_str_has_prefix(error->message, "too many"))
      cd_web_respond_error(req, 429, "too-many-attempts", "%s", error->message);
    else
      cd_web_respond_error(req, SOUP_STATUS_UNAUTHORIZED, "unauthenticated", "%s", error->message);
    return;
  }
  req->principal = cd_session_store_validate(req->server->sessions, req->token, &error);
  if (req->principal == NULL) {
    cd_web_respond_error(req, SOUP_STATUS_UNAUTHORIZED, "unauthenticated", "%s", error->message);
    return;
  }
  cookie = cd_web_session_cookie(req->server, req->token, FALSE);
  soup_message_headers_append(soup_server_message_get_response_headers(req->msg), "Set-Cookie", cookie);
  node = cd_web_session_json(req);
  cd_web_respond_json(req, SOUP_STATUS_OK, node);
}

static void
cd_web_logout(CdWebRequest *req)
{
  g_autofree gchar *cookie = cd_web_session_cookie(req->server, "", TRUE);

  cd_session_store_logout(req->server->sessions, req->token);
  soup_message_headers_append(soup_server_message_get_response_headers(req->msg), "Set-Cookie", cookie);
  soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "Cache-Control", "no-store");
  soup_server_message_set_status(req->msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static gboolean
cd_web_csrf_ok(CdWebRequest *req)
{
  const gchar *given = soup_message_headers_get_one(soup_server_message_get_request_headers(req->msg), "X-CSRF-Token");
  g_autofree gchar *expected = cd_web_csrf_token(req->server, req->token);

  if (given == NULL || strlen(given) != strlen(expected))
    return FALSE;
  return sodium_memcmp(given, expected, strlen(expected)) == 0;
}

/* ---- routing ---- */

static gboolean
cd_web_is(CdWebRequest *req, const gchar *method, guint n, ...)
{
  va_list ap;
  gboolean match = TRUE;

  if (req->n_segments != n)
    return FALSE;
  va_start(ap, n);
  for (guint i = 0; i < n; i++) {
    const gchar *want = va_arg(ap, const gchar *);
    if (want != NULL && g_strcmp0(req->segments[i], want) != 0)
      match = FALSE;
  }
  va_end(ap);
  return match && (method == NULL || g_strcmp0(req->method, method) == 0);
}

static void
cd_web_openapi(CdWebRequest *req)
{
  g_autoptr(GBytes) bytes =
      g_resource_lookup_data(cd_web_api_get_resource(), "/org/chartdesk/web/api/openapi.json", 0, NULL);

  if (bytes == NULL) {
    cd_web_respond_error(req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "openapi.json is not compiled in");
    return;
  }
  soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "Cache-Control", "no-cache");
  soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response(req->msg, "application/json; charset=utf-8", SOUP_MEMORY_COPY,
                                   g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
}

/* The capability a route needs that not every archive has, or NULL. */
static const gchar *
cd_web_route_capability(CdWebRequest *req)
{
  static const gchar *const by_first[] = { "review", "batches", "events", "saved-searches", "roi", NULL };

  if (req->n_segments == 3 && g_strcmp0(req->segments[0], "patients") == 0 &&
      g_strcmp0(req->segments[2], "disclosures") == 0)
    return "disclosures";
  if (req->n_segments >= 1 && g_strv_contains(by_first, req->segments[0]))
    return req->segments[0];
  return NULL;
}

static void
cd_web_capabilities(CdWebRequest *req)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;

  json_builder_begin_object(b);
  cd_web_add_capabilities(b, req->server);
  json_builder_end_object(b);
  node = json_builder_get_root(b);
  cd_web_respond_json(req, SOUP_STATUS_OK, node);
}

/* Runs the route of an authenticated request. */
static void
cd_web_route(CdWebRequest *req)
{
  const gchar *capability = cd_web_route_capability(req);
  gint64 id = 0;

  if (capability != NULL && !cd_web_store_can(&req->server->store, capability)) {
    cd_web_respond_not_supported(req, capability);
  } else if (cd_web_is(req, "GET", 1, "capabilities")) {
    cd_web_capabilities(req);
  } else if (cd_web_is(req, "GET", 1, "session")) {
    g_autoptr(JsonNode) node = cd_web_session_json(req);
    cd_web_respond_json(req, SOUP_STATUS_OK, node);
  } else if (cd_web_is(req, "DELETE", 1, "session")) {
    cd_web_logout(req);
  } else if (cd_web_is(req, "GET", 1, "types")) {
    cd_web_api_types(req);
  } else if (cd_web_is(req, "GET", 1, "search")) {
    cd_web_api_search(req);
  } else if (cd_web_is(req, "GET", 1, "patients")) {
    cd_web_api_patients(req);
  } else if (cd_web_is(req, "GET", 2, "patients", NULL)) {
    cd_web_api_patient(req, req->segments[1]);
  } else if (cd_web_is(req, "GET", 2, "documents", NULL)) {
    if (cd_web_parse_id(req, req->segments[1], "document", &id))
      cd_web_api_document(req, id);
  } else if (cd_web_is(req, "GET", 3, "pages", NULL, "image")) {
    if (cd_web_parse_id(req, req->segments[1], "page", &id))
      cd_web_api_page_image(req, id);
  } else if (cd_web_is(req, "GET", 3, "pages", NULL, "words")) {
    if (cd_web_parse_id(req, req->segments[1], "page", &id))
      cd_web_api_page_words(req, id);
  } else if (cd_web_is(req, "GET", 1, "review")) {
    cd_web_api_review_list(req);
  } else if (cd_web_is(req, "GET", 2, "review", NULL)) {
    if (cd_web_parse_id(req, req->segments[1], "review item", &id))
      cd_web_api_review_item(req, id);
  } else if (cd_web_is(req, "POST", 3, "review", NULL, NULL)) {
    if (cd_web_parse_id(req, req->segments[1], "review item", &id))
      cd_web_api_review_action(req, id, req->segments[2]);
  } else if (cd_web_is(req, "GET", 1, "batches")) {
    cd_web_api_batches(req);
  } else if (cd_web_is(req, "GET", 1, "events")) {
    cd_web_api_events(req);
  } else if (cd_web_is(req, "GET", 1, "audit")) {
    cd_web_api_audit(req);
  } else if (cd_web_is(req, "GET", 1, "saved-searches")) {
    cd_web_api_saved_list(req);
  } else if (cd_web_is(req, "POST", 1, "saved-searches")) {
    cd_web_api_saved_add(req);
  } else if (cd_web_is(req, "DELETE", 2, "saved-searches", NULL)) {
    if (cd_web_parse_id(req, req->segments[1], "saved search", &id))
      cd_web_api_saved_delete(req, id);
  } else if (cd_web_is(req, "GET", 1, "roi")) {
    cd_web_api_roi_list(req);
  } else if (cd_web_is(req, "POST", 1, "roi")) {
    cd_web_api_roi_new(req);
  } else if (cd_web_is(req, "GET", 2, "roi", NULL)) {
    if (cd_web_parse_id(req, req->segments[1], "release request", &id))
      cd_web_api_roi_get(req, id);
  } else if (cd_web_is(req, "GET", 3, "roi", NULL, "packet")) {
    if (cd_web_parse_id(req, req->segments[1], "release request", &id))
      cd_web_api_roi_packet(req, id);
  } else if (cd_web_is(req, "POST", 3, "roi", NULL, NULL)) {
    if (cd_web_parse_id(req, req->segments[1], "release request", &id))
      cd_web_api_roi_action(req, id, req->segments[2]);
  } else if (cd_web_is(req, "GET", 3, "patients", NULL, "disclosures")) {
    cd_web_api_disclosures(req, req->segments[1]);
  } else {
    cd_web_respond_error(req, SOUP_STATUS_NOT_FOUND, "not-found", "no route %s /api/v1/%s", req->method,
                         g_uri_get_path(soup_server_message_get_uri(req->msg)) + strlen("/api/v1/"));
  }
}

static void
cd_web_api_handler(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  CdWebServer *self = user_data;
  CdWebRequest req = { 0 };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) segments = NULL;
  g_autoptr(CdPrincipal) principal = NULL;
  g_autofree gchar *token = NULL;
  g_autoptr(JsonNode) body = NULL;
  gboolean state_changing;
  SoupMessageBody *request_body;

  cd_web_set_security_headers(msg);
  req.server = self;
  req.msg = msg;
  req.method = soup_server_message_get_method(msg);
  req.query = query;
  if (!g_str_has_prefix(path, "/api/v1/")) {
    cd_web_respond_error(&req, SOUP_STATUS_NOT_FOUND, "not-found", "the API is under /api/v1/");
    return;
  }
  segments = g_strsplit(path + strlen("/api/v1/"), "/", -1);
  req.segments = segments;
  req.n_segments = g_strv_length(segments);
  /* a trailing slash names the same thing */
  if (req.n_segments > 1 && segments[req.n_segments - 1][0] == '\0')
    req.n_segments--;

  request_body = soup_server_message_get_request_body(msg);
  if (request_body->length > CD_WEB_MAX_BODY) {
    cd_web_respond_error(&req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "bad-request", "the body is larger than %u bytes",
                         (guint) CD_WEB_MAX_BODY);
    return;
  }
  if (request_body->length > 0) {
    g_autoptr(GBytes) bytes = soup_message_body_flatten(request_body);
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), &error) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
      cd_web_respond_error(&req, SOUP_STATUS_BAD_REQUEST, "bad-request", "the body must be a JSON object%s%s",
                           error != NULL ? ": " : "", error != NULL ? error->message : "");
      return;
    }
    body = json_node_copy(json_parser_get_root(parser));
    req.body = body;
  }

  if (cd_web_is(&req, "GET", 1, "openapi.json")) {
    cd_web_openapi(&req);
    return;
  }
  if (cd_web_is(&req, "POST", 1, "session")) {
    cd_web_login(&req);
    g_clear_object(&req.principal);
    g_free(req.token);
    return;
  }

  token = cd_web_request_token(msg);
  if (token != NULL)
    principal = cd_session_store_validate(self->sessions, token, &error);
  if (principal == NULL) {
    cd_web_respond_error(&req, SOUP_STATUS_UNAUTHORIZED, "unauthenticated", "%s",
                         error != NULL ? error->message : "not logged in");
    return;
  }
  req.principal = principal;
  req.token = token;
  state_changing = g_strcmp0(req.method, "GET") != 0 && g_strcmp0(req.method, "HEAD") != 0;
  if (state_changing && !cd_web_csrf_ok(&req)) {
    cd_web_respond_error(&req, SOUP_STATUS_FORBIDDEN, "csrf",
                         "missing or wrong X-CSRF-Token header (it is given at login and by GET /api/v1/session)");
    return;
  }
  /* the library checks and audits everything below as this user */
  cd_web_store_push_principal(&self->store, principal);
  cd_web_route(&req);
  cd_web_store_pop_principal(&self->store);
}

/* ---- static files ---- */

static const gchar *
cd_web_content_type(const gchar *name)
{
  static const struct {
    const gchar *suffix;
    const gchar *type;
  } types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".json", "application/json; charset=utf-8" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".woff2", "font/woff2" },
    { ".txt", "text/plain; charset=utf-8" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
    if (g_str_has_suffix(name, types[i].suffix))
      return types[i].type;
  }
  return "application/octet-stream";
}

static void
cd_web_static_handler(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  const gchar *method = soup_server_message_get_method(msg);
  g_autofree gchar *resource = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const gchar *name;

  cd_web_set_security_headers(msg);
  if (g_strcmp0(method, "GET") != 0 && g_strcmp0(method, "HEAD") != 0) {
    soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  if (g_str_has_prefix(path, "/api/")) {
    /* /api without the version: not a file */
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  name = g_strcmp0(path, "/") == 0 ? "index.html" : path + 1;
  if (g_str_has_prefix(name, "static/"))
    name += strlen("static/");
  if (strstr(name, "..") == NULL) {
    resource = g_strconcat("/org/chartdesk/web/", name, NULL);
    bytes = g_resource_lookup_data(cd_web_static_get_resource(), resource, 0, NULL);
  }
  if (bytes == NULL) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    soup_server_message_set_response(msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC, "not found\n", 10);
    return;
  }
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control", "no-cache");
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response(msg, cd_web_content_type(name), SOUP_MEMORY_COPY, g_bytes_get_data(bytes, NULL),
                                   g_bytes_get_size(bytes));
}

/* ---- listening ---- */

/* "ADDRESS:PORT", "[IPv6]:PORT", ":PORT" or "PORT"; the address defaults
 * to 127.0.0.1: listening beyond the machine is asked for by name. */
static GSocketAddress *
cd_web_parse_listen(const gchar *listen, GError **error)
{
  g_autofree gchar *host = NULL;
  const gchar *port_text;
  const gchar *colon;
  guint64 port;
  GInetAddress *inet;
  GSocketAddress *address;

  if (listen[0] == '[') {
    const gchar *close = strchr(listen, ']');
    if (close == NULL || close[1] != ':') {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                  "listen address '%s': give ADDRESS:PORT, [IPv6]:PORT or PORT", listen);
      return NULL;
    }
    host = g_strndup(listen + 1, close - listen - 1);
    port_text = close + 2;
  } else if ((colon = strrchr(listen, ':')) != NULL) {
    host = colon == listen ? g_strdup("127.0.0.1") : g_strndup(listen, colon - listen);
    port_text = colon + 1;
  } else {
    host = g_strdup("127.0.0.1");
    port_text = listen;
  }
  if (!g_ascii_string_to_unsigned(port_text, 10, 0, 65535, &port, NULL)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "listen address '%s': the port must be 0 to 65535", listen);
    return NULL;
  }
  if (g_strcmp0(host, "localhost") == 0) {
    g_free(host);
    host = g_strdup("127.0.0.1");
  }
  inet = g_inet_address_new_from_string(host);
  if (inet == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "listen address '%s': '%s' is not an IP address (names are not resolved)", listen, host);
    return NULL;
  }
  address = g_inet_socket_address_new(inet, (guint16) port);
  g_object_unref(inet);
  return address;
}

static gboolean
cd_web_keepalive(gpointer user_data)
{
  CdWebServer *self = user_data;

  for (guint i = 0; i < self->event_clients->len; i++) {
    SoupServerMessage *msg = g_ptr_array_index(self->event_clients, i);
    soup_message_body_append(soup_server_message_get_response_body(msg), SOUP_MEMORY_STATIC, ": keep-alive\n\n", 15);
    soup_server_message_unpause(msg);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
cd_web_poll(gpointer user_data)
{
  cd_web_events_poll(user_data);
  return G_SOURCE_CONTINUE;
}

/**
 * cd_web_server_set_poll_batches:
 * @self: a #CdWebServer
 * @poll: whether to read the batches table once a second for the event
 *   stream (`chartdesk web`, which runs no batches itself); chartdeskd
 *   publishes its queue's progress with cd_web_server_publish_batch() instead
 */
void
cd_web_server_set_poll_batches(CdWebServer *self, gboolean poll)
{
  g_return_if_fail(CD_IS_WEB_SERVER(self));
  /* no batches run on a PostgreSQL archive */
  poll = poll && self->archive != NULL;
  if (poll && self->poll_source == 0)
    self->poll_source = g_timeout_add_seconds(1, cd_web_poll, self);
  else if (!poll && self->poll_source != 0)
    g_clear_handle_id(&self->poll_source, g_source_remove);
}

/**
 * cd_web_server_listen:
 * @self: a #CdWebServer
 * @address: `ADDRESS:PORT` (`127.0.0.1` when only a port is given; port 0
 *   picks a free one)
 * @error: return location for a #GError
 *
 * Starts serving in the thread-default main context. The address actually
 * listened on is then cd_web_server_get_url().
 *
 * Returns: %TRUE if it listens
 */
gboolean
cd_web_server_listen(CdWebServer *self, const gchar *address, GError **error)
{
  g_autoptr(GSocketAddress) sockaddr = NULL;
  g_autoptr(GError) error_local = NULL;
  GSList *listeners;

  g_return_val_if_fail(CD_IS_WEB_SERVER(self), FALSE);
  sockaddr = cd_web_parse_listen(address != NULL ? address : CD_WEB_DEFAULT_LISTEN, error);
  if (sockaddr == NULL)
    return FALSE;
  if (self->soup == NULL) {
    self->soup = soup_server_new("server-header", "chartdesk ", NULL);
    if (self->certificate != NULL)
      soup_server_set_tls_certificate(self->soup, self->certificate);
    soup_server_add_handler(self->soup, "/api/v1", cd_web_api_handler, self, NULL);
    soup_server_add_handler(self->soup, NULL, cd_web_static_handler, self, NULL);
  }
  if (!soup_server_listen(self->soup, sockaddr, self->tls ? SOUP_SERVER_LISTEN_HTTPS : 0, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "cannot listen on %s: %s", address, error_local->message);
    return FALSE;
  }
  listeners = soup_server_get_listeners(self->soup);
  /* the URL from the listening socket itself (port 0 is the port chosen) */
  for (GSList *l = listeners; l != NULL; l = l->next) {
    g_autoptr(GSocketAddress) local = g_socket_get_local_address(l->data, NULL);
    g_autofree gchar *host = NULL;
    GInetAddress *inet;
    if (local == NULL || !G_IS_INET_SOCKET_ADDRESS(local))
      continue;
    inet = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(local));
    host = g_inet_address_to_string(inet);
    g_free(self->url);
    self->url = g_strdup_printf(
        g_inet_address_get_family(inet) == G_SOCKET_FAMILY_IPV6 ? "%s://[%s]:%u/" : "%s://%s:%u/",
        self->tls ? "https" : "http", host, g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local)));
  }
  g_slist_free(listeners);
  if (self->keepalive_source == 0)
    self->keepalive_source = g_timeout_add_seconds(15, cd_web_keepalive, self);
  return TRUE;
}

/**
 * cd_web_server_stop:
 * @self: a #CdWebServer
 *
 * Stops listening and ends the event streams.
 */
void
cd_web_server_stop(CdWebServer *self)
{
  g_return_if_fail(CD_IS_WEB_SERVER(self));
  g_clear_handle_id(&self->poll_source, g_source_remove);
  g_clear_handle_id(&self->keepalive_source, g_source_remove);
  for (guint i = 0; i < self->event_clients->len; i++) {
    SoupServerMessage *msg = g_ptr_array_index(self->event_clients, i);
    g_signal_handlers_disconnect_by_data(msg, self);
    soup_message_body_complete(soup_server_message_get_response_body(msg));
    soup_server_message_unpause(msg);
  }
  g_ptr_array_set_size(self->event_clients, 0);
  if (self->soup != NULL)
    soup_server_disconnect(self->soup);
}
