/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The web workstation on the PostgreSQL archive (issue 18, part 2), for
 * real: samples/ ingested with OCR into a SQLite archive, delivered to a
 * PostgreSQL 15 cluster the test starts (tests/cd-pg-cluster.c), and two
 * `chartdesk web` on free loopback ports, one on the SQLite archive and
 * one on the server, driven by libsoup's client as a browser drives them.
 * What the server answers is compared with what the SQLite archive
 * answers; what it records is read from its audit table.
 */
#include "config.h"

#include <libpq-fe.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/prctl.h>

#include "cd-engine.h"
#include "cd-pg-archive.h"
#include "cd-taxonomy.h"
#include "engine/cd-retention-policy.h"
#include "cd-pg-cluster-ctl.h"
#include "cd-test-util.h"

#define PASSWORD "correct horse battery"
#define DATABASE "web"

typedef struct {
  GSubprocess *proc;
  gchar *url; /* without the trailing slash */
} Server;

static CdPgCluster *cluster;
static gchar *workdir;
static gchar *spool;      /* samples/ ingested */
static gchar *uri;        /* the server's database, samples/ delivered */
static gchar *users;      /* the user directory */
static gchar *taxonomy;   /* the shipped one with one type restricted */
static gchar *restricted; /* that type */
static Server sqlite_web; /* `chartdesk web` on the spool */
static Server pg_web;     /* `chartdesk web` on the server */
static SoupSession *session;

typedef struct {
  guint status;
  GBytes *body;
  SoupMessageHeaders *headers;
  JsonNode *json;
} Reply;

static void
reply_free(Reply *r)
{
  g_clear_pointer(&r->body, g_bytes_unref);
  g_clear_pointer(&r->headers, soup_message_headers_unref);
  g_clear_pointer(&r->json, json_node_unref);
  g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Reply, reply_free)

typedef struct {
  gchar *cookie;
  gchar *csrf;
} Login;

static void
login_free(Login *l)
{
  g_free(l->cookie);
  g_free(l->csrf);
  g_free(l);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Login, login_free)

/* ---- the server's database ---- */

/* One text value the server's database answers @sql with, NULL for none. */
static gchar *
server_string(const gchar *sql)
{
  g_autofree gchar *u = cd_pg_cluster_uri(cluster, DATABASE);
  PGconn *conn = PQconnectdb(u);
  PGresult *res;
  gchar *v = NULL;

  if (PQstatus(conn) != CONNECTION_OK)
    g_error("%s: %s", u, PQerrorMessage(conn));
  res = PQexec(conn, sql);
  if (PQresultStatus(res) != PGRES_TUPLES_OK)
    g_error("%s: %s", sql, PQresultErrorMessage(res));
  if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
    v = g_strdup(PQgetvalue(res, 0, 0));
  PQclear(res);
  PQfinish(conn);
  return v;
}

static gint64 server_count(const gchar *format, ...) G_GNUC_PRINTF(1, 2);

static gint64
server_count(const gchar *format, ...)
{
  g_autofree gchar *sql = NULL;
  va_list ap;

  va_start(ap, format);
  sql = g_strdup_vprintf(format, ap);
  va_end(ap);
  return cd_pg_cluster_count(cluster, DATABASE, sql);
}

/* ---- the two web servers ---- */

static void
die_with_parent(gpointer data)
{
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static void
start_server(Server *s, const gchar *archive)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree gchar *chartdesk = g_test_build_filename(G_TEST_BUILT, "core", "cli", "chartdesk", NULL);
  const gchar *argv[] = { chartdesk, "web", "--archive", archive, "--users", users, "--listen", "127.0.0.1:0", NULL };
  g_autoptr(GDataInputStream) out = NULL;
  gchar *line;

  g_subprocess_launcher_setenv(launcher, "CHARTDESK_TAXONOMY", taxonomy, TRUE);
  g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
  s->proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
  g_assert_no_error(error);
  out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(s->proc));
  line = g_data_input_stream_read_line_utf8(out, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(line);
  if (g_str_has_suffix(line, "/"))
    line[strlen(line) - 1] = '\0';
  s->url = line;
}

static void
stop_server(Server *s)
{
  if (s->proc == NULL)
    return;
  g_subprocess_send_signal(s->proc, SIGTERM);
  g_subprocess_wait(s->proc, NULL, NULL);
  /* a clean stop: SIGTERM ends the main loop */
  g_assert_true(g_subprocess_get_if_exited(s->proc));
  g_assert_cmpint(g_subprocess_get_exit_status(s->proc), ==, 0);
  g_clear_object(&s->proc);
  g_clear_pointer(&s->url, g_free);
}

static Reply *
call_with(Server *s, const gchar *method, const gchar *path, Login *login, const gchar *body, const gchar *if_none)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *u = g_strconcat(s->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new(method, u);
  Reply *r = g_new0(Reply, 1);
  const gchar *type;

  g_assert_nonnull(msg);
  if (login != NULL) {
    g_autofree gchar *cookie = g_strdup_printf("cd_session=%s", login->cookie);
    soup_message_headers_replace(soup_message_get_request_headers(msg), "Cookie", cookie);
    if (login->csrf != NULL)
      soup_message_headers_replace(soup_message_get_request_headers(msg), "X-CSRF-Token", login->csrf);
  }
  if (if_none != NULL)
    soup_message_headers_replace(soup_message_get_request_headers(msg), "If-None-Match", if_none);
  if (body != NULL) {
    g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
    soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
  }
  r->body = soup_session_send_and_read(session, msg, NULL, &error);
  g_assert_no_error(error);
  r->status = soup_message_get_status(msg);
  r->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
  type = soup_message_headers_get_content_type(r->headers, NULL);
  if (g_strcmp0(type, "application/json") == 0) {
    g_autoptr(JsonParser) parser = json_parser_new();
    json_parser_load_from_data(parser, g_bytes_get_data(r->body, NULL), g_bytes_get_size(r->body), &error);
    g_assert_no_error(error);
    r->json = json_node_copy(json_parser_get_root(parser));
  }
  return r;
}

static Reply *
call(Server *s, const gchar *method, const gchar *path, Login *login, const gchar *body)
{
  return call_with(s, method, path, login, body, NULL);
}

static JsonObject *
obj(Reply *r)
{
  g_assert_nonnull(r->json);
  return json_node_get_object(r->json);
}

static const gchar *
error_code(Reply *r)
{
  return json_object_get_string_member(json_object_get_object_member(obj(r), "error"), "code");
}

static const gchar *
error_message(Reply *r)
{
  return json_object_get_string_member(json_object_get_object_member(obj(r), "error"), "message");
}

static Login *
log_in(Server *s, const gchar *user)
{
  g_autofree gchar *body = g_strdup_printf("{\"user\": \"%s\", \"password\": \"%s\"}", user, PASSWORD);
  g_autoptr(Reply) r = call(s, "POST", "/api/v1/session", NULL, body);
  const gchar *set_cookie, *start, *end;
  Login *l;

  g_assert_cmpuint(r->status, ==, 200);
  set_cookie = soup_message_headers_get_one(r->headers, "Set-Cookie");
  g_assert_nonnull(set_cookie);
  start = strstr(set_cookie, "cd_session=");
  g_assert_nonnull(start);
  start += strlen("cd_session=");
  end = strchr(start, ';');
  l = g_new0(Login, 1);
  l->cookie = g_strndup(start, end != NULL ? (gsize) (end - start) : strlen(start));
  l->csrf = g_strdup(json_object_get_string_member(obj(r), "csrf"));
  return l;
}

/* ---- comparing the two ---- */

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

/* What a hit is, whichever archive numbered it: `FILE#PAGE` of the page
 * scanned, read from its document (cached by document id in @docs). */
static gchar *
hit_key(Server *s, Login *login, GHashTable *docs, JsonObject *hit)
{
  gint64 doc = json_object_get_int_member(hit, "document");
  gint64 seq = json_object_get_int_member(hit, "seq");
  JsonNode *node = g_hash_table_lookup(docs, &doc);
  JsonArray *pages;
  JsonObject *source;
  g_autofree gchar *base = NULL;

  /* a page of no document (waiting in review): numbered by each archive,
   * compared by how many there are */
  if (doc <= 0)
    return g_strdup("(no-document)");
  if (node == NULL) {
    g_autofree gchar *path = g_strdup_printf("/api/v1/documents/%" G_GINT64_FORMAT, doc);
    g_autoptr(Reply) r = call(s, "GET", path, login, NULL);
    if (r->status != 200)
      g_test_message("%s%s: %.*s", s->url, path, (gint) g_bytes_get_size(r->body),
                     (const gchar *) g_bytes_get_data(r->body, NULL));
    g_assert_cmpuint(r->status, ==, 200);
    node = json_node_copy(r->json);
    g_hash_table_insert(docs, g_memdup2(&doc, sizeof doc), node);
  }
  pages = json_object_get_array_member(json_node_get_object(node), "pages");
  g_assert_cmpint(seq, <, json_array_get_length(pages));
  source = json_object_get_object_member(json_array_get_object_element(pages, seq), "source");
  base = g_path_get_basename(json_object_get_string_member(source, "file"));
  return g_strdup_printf("%s#%" G_GINT64_FORMAT, base, json_object_get_int_member(source, "page"));
}

/* A search's answer as text to compare: the total, the facets, and the
 * hits as sorted FILE#PAGE keys. */
static gchar *
search_summary(Server *s, Login *login, const gchar *query, gint64 *total)
{
  g_autofree gchar *path = g_strdup_printf("/api/v1/search?limit=200&%s", query);
  g_autoptr(Reply) r = call(s, "GET", path, login, NULL);
  g_autoptr(GHashTable) docs =
      g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) json_node_unref);
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GString) out = g_string_new(NULL);
  JsonArray *hits;
  JsonObject *facets;

  g_assert_cmpuint(r->status, ==, 200);
  g_assert_false(json_object_get_boolean_member(obj(r), "total_is_estimate"));
  *total = json_object_get_int_member(obj(r), "total");
  hits = json_object_get_array_member(obj(r), "hits");
  for (guint i = 0; i < json_array_get_length(hits); i++) {
    JsonObject *hit = json_array_get_object_element(hits, i);
    JsonArray *snippet = json_object_get_array_member(hit, "snippet");
    g_ptr_array_add(keys, hit_key(s, login, docs, hit));
    /* every hit of words has a snippet */
    if (strstr(query, "q=") != NULL && json_array_get_length(json_object_get_array_member(obj(r), "terms")) > 0)
      g_assert_cmpuint(json_array_get_length(snippet), >, 0);
  }
  g_ptr_array_sort(keys, compare_strings);
  g_string_append_printf(out, "total %" G_GINT64_FORMAT ";", *total);
  facets = json_object_get_object_member(obj(r), "facets");
  for (guint f = 0; f < 2; f++) {
    JsonObject *facet = json_object_get_object_member(facets, f == 0 ? "type" : "year");
    g_autoptr(GList) names = json_object_get_members(facet);
    names = g_list_sort(names, (GCompareFunc) g_strcmp0);
    for (GList *l = names; l != NULL; l = l->next)
      g_string_append_printf(out, " %s=%" G_GINT64_FORMAT, (const gchar *) l->data,
                             json_object_get_int_member(facet, l->data));
    g_string_append_c(out, ';');
  }
  for (guint i = 0; i < keys->len; i++)
    g_string_append_printf(out, " %s", (const gchar *) g_ptr_array_index(keys, i));
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ---- the tests ---- */

#define REQUIRE_SERVER()                                                                                               \
  G_STMT_START                                                                                                         \
  {                                                                                                                    \
    if (cluster == NULL) {                                                                                             \
      g_test_skip(cd_pg_cluster_missing());                                                                            \
      return;                                                                                                          \
    }                                                                                                                  \
  }                                                                                                                    \
  G_STMT_END

/* The session says which archive it is and what it can do; so does GET
 * /capabilities. Logins and logouts are audited on the server. */
static void
test_session(void)
{
  g_autoptr(Login) arch = NULL;
  g_autoptr(Reply) caps = NULL;
  g_autoptr(Reply) sq = NULL;
  g_autoptr(Reply) out = NULL;
  g_autoptr(Reply) bad = NULL;
  g_autoptr(Login) sarch = NULL;
  JsonArray *list;
  gint64 before;

  REQUIRE_SERVER();
  before = server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'web:arch' AND action = 'login'");
  arch = log_in(&pg_web, "arch");
  g_assert_cmpint(
      server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'web:arch' AND action = 'login'"), ==,
      before + 1);
  caps = call(&pg_web, "GET", "/api/v1/capabilities", arch, NULL);
  g_assert_cmpuint(caps->status, ==, 200);
  g_assert_cmpstr(json_object_get_string_member(obj(caps), "archive"), ==, "postgresql");
  list = json_object_get_array_member(obj(caps), "capabilities");
  {
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (guint i = 0; i < json_array_get_length(list); i++)
      g_ptr_array_add(names, (gpointer) json_array_get_string_element(list, i));
    g_ptr_array_add(names, NULL);
    for (const gchar *const *c = (const gchar *const[]){ "search", "patients", "charts", "documents", "page-images",
                                                         "page-words", "audit", NULL };
         *c != NULL; c++)
      g_assert_true(g_strv_contains((const gchar *const *) names->pdata, *c));
    for (const gchar *const *c = (const gchar *const[]){ "review", "roi", "saved-searches", "batches", "events", NULL };
         *c != NULL; c++)
      g_assert_false(g_strv_contains((const gchar *const *) names->pdata, *c));
  }
  /* the SQLite workstation can do everything */
  sarch = log_in(&sqlite_web, "arch");
  sq = call(&sqlite_web, "GET", "/api/v1/session", sarch, NULL);
  g_assert_cmpstr(json_object_get_string_member(obj(sq), "archive"), ==, "sqlite");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj(sq), "capabilities")), >,
                   json_array_get_length(list));

  bad = call(&pg_web, "POST", "/api/v1/session", NULL, "{\"user\": \"arch\", \"password\": \"nope\"}");
  g_assert_cmpuint(bad->status, ==, 401);
  g_assert_cmpint(server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'web:arch' AND "
                               "action = 'login-failed'"),
                  >=, 1);
  out = call(&pg_web, "DELETE", "/api/v1/session", arch, NULL);
  g_assert_cmpuint(out->status, ==, 204);
  g_assert_cmpint(
      server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'web:arch' AND action = 'logout'"), >=,
      1);
}

/* Searches on the server answer what they answer on the SQLite archive
 * the samples came from: the same exact totals, facets and pages, with
 * snippets; each is audited on the server as the user. */
static void
test_search(void)
{
  g_autoptr(Login) pg = NULL;
  g_autoptr(Login) sq = NULL;
  const gchar *queries[] = {
    "q=pneumonia",
    "q=patient",
    "type=discharge-summary",
    "q=08570054",
    "from=2000-01-01&to=2099-12-31",
    "q=patient&type=progress-note",
    "q=chest%20pain",
    "mrn=08570054&q=patient",
  };
  guint found = 0;
  gint64 before;

  REQUIRE_SERVER();
  pg = log_in(&pg_web, "arch");
  sq = log_in(&sqlite_web, "arch");
  before = server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND action = 'search'");
  for (guint i = 0; i < G_N_ELEMENTS(queries); i++) {
    gint64 ta = 0, tb = 0;
    g_autofree gchar *a = search_summary(&sqlite_web, sq, queries[i], &ta);
    g_autofree gchar *b = search_summary(&pg_web, pg, queries[i], &tb);
    g_test_message("%s\n  sqlite: %s\n  server: %s", queries[i], a, b);
    g_assert_cmpstr(a, ==, b);
    g_assert_cmpint(ta, ==, tb);
    if (ta > 0)
      found++;
  }
  /* the comparison is not of empty answers */
  g_assert_cmpuint(found, >=, 5);
  g_assert_cmpint(server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND "
                               "action = 'search'"),
                  >=, before + (gint64) G_N_ELEMENTS(queries));
  /* a bad query is the same 400 */
  {
    g_autoptr(Reply) bad = call(&pg_web, "GET", "/api/v1/search?q=x&from=2024-13-01", pg, NULL);
    g_assert_cmpuint(bad->status, ==, 400);
    g_assert_nonnull(strstr(error_message(bad), "from"));
  }
}

/* The patient finder and a chart answer as on SQLite; both audited. */
static void
test_patients(void)
{
  g_autoptr(Login) pg = NULL;
  g_autoptr(Login) sq = NULL;
  const gchar *finds[] = { "/api/v1/patients?q=08570054", "/api/v1/patients?q=morgan", "/api/v1/patients?q=h",
                           "/api/v1/patients?q=1957-02-16",
                           /* the name forms the server's finder takes from its indexes (schema 3) */
                           "/api/v1/patients?q=Morgan,%20Ru", "/api/v1/patients?q=ruth%20mor",
                           "/api/v1/patients?q=HARRIS,%20RONALD", "/api/v1/patients?q=ron", "/api/v1/patients?q=%25" };

  REQUIRE_SERVER();
  pg = log_in(&pg_web, "arch");
  sq = log_in(&sqlite_web, "arch");
  for (guint i = 0; i < G_N_ELEMENTS(finds); i++) {
    g_autoptr(Reply) a = call(&sqlite_web, "GET", finds[i], sq, NULL);
    g_autoptr(Reply) b = call(&pg_web, "GET", finds[i], pg, NULL);
    g_autofree gchar *ja = json_to_string(a->json, FALSE);
    g_autofree gchar *jb = json_to_string(b->json, FALSE);
    g_assert_cmpuint(b->status, ==, 200);
    g_test_message("%s: %s | %s", finds[i], ja, jb);
    g_assert_cmpstr(ja, ==, jb);
    /* the MRN finds one patient; the name two (samples/ has a namesake);
     * a lone "%" is a literal character, not LIKE's wildcard: nobody */
    if (i == 8)
      g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj(b), "patients")), ==, 0);
    else
      g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj(b), "patients")), >=,
                       i == 1 || i == 4 || i == 5 ? 2 : 1);
    if (i == 0)
      g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj(b), "patients")), ==, 1);
  }
  g_assert_cmpint(server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND "
                               "action = 'patient-search' AND detail LIKE '%%morgan%%'"),
                  ==, 1);

  {
    g_autoptr(Reply) a = call(&sqlite_web, "GET", "/api/v1/patients/08570054", sq, NULL);
    g_autoptr(Reply) b = call(&pg_web, "GET", "/api/v1/patients/08570054", pg, NULL);
    g_autoptr(Reply) none = call(&pg_web, "GET", "/api/v1/patients/NOPE", pg, NULL);
    JsonArray *da, *db;
    g_assert_cmpuint(b->status, ==, 200);
    g_assert_cmpstr(json_object_get_string_member(obj(b), "family"), ==, "MORGAN");
    da = json_object_get_array_member(obj(a), "documents");
    db = json_object_get_array_member(obj(b), "documents");
    g_assert_cmpuint(json_array_get_length(db), >, 0);
    g_assert_cmpuint(json_array_get_length(da), ==, json_array_get_length(db));
    for (guint i = 0; i < json_array_get_length(db); i++) {
      JsonObject *x = json_array_get_object_element(da, i);
      JsonObject *y = json_array_get_object_element(db, i);
      g_assert_cmpstr(json_object_get_string_member(x, "date"), ==, json_object_get_string_member(y, "date"));
      g_assert_cmpstr(json_object_get_string_member(x, "type"), ==, json_object_get_string_member(y, "type"));
      g_assert_cmpstr(json_object_get_string_member(x, "type_label"), ==,
                      json_object_get_string_member(y, "type_label"));
      g_assert_cmpint(json_object_get_int_member(x, "pages"), ==, json_object_get_int_member(y, "pages"));
      /* no legal holds on the server */
      g_assert_false(json_object_get_boolean_member(y, "held"));
    }
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj(b), "holds")), ==, 0);
    g_assert_cmpuint(none->status, ==, 404);
    g_assert_cmpstr(error_code(none), ==, "not-found");
    /* the server's name is no business of a browser */
    g_assert_null(strstr(error_message(none), "/"));
    g_assert_cmpint(server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND "
                                 "action = 'view' AND object = 'patient:08570054'"),
                    ==, 1);
  }
}

/* A document, its page image (a PNG of the width asked, with an ETag a
 * conditional request matches) and its words, as on SQLite; each read
 * audited on the server as the user. */
static void
test_document_image_words(void)
{
  g_autoptr(Login) pg = NULL;
  g_autoptr(Login) sq = NULL;
  g_autoptr(Reply) hits_pg = NULL;
  g_autoptr(Reply) hits_sq = NULL;
  g_autoptr(Reply) doc_pg = NULL;
  g_autoptr(Reply) doc_sq = NULL;
  g_autoptr(Reply) image = NULL;
  g_autoptr(Reply) again = NULL;
  g_autoptr(Reply) words_pg = NULL;
  g_autoptr(Reply) words_sq = NULL;
  g_autofree gchar *path = NULL;
  JsonObject *hit_pg = NULL, *hit_sq = NULL;
  JsonArray *array;
  gint64 doc, page, sdoc, spage;
  const gchar *etag;
  gsize len;
  const guint8 *png;

  REQUIRE_SERVER();
  pg = log_in(&pg_web, "arch");
  sq = log_in(&sqlite_web, "arch");
  /* the first page of the discharge summary on both */
  hits_pg = call(&pg_web, "GET", "/api/v1/search?type=discharge-summary&limit=1", pg, NULL);
  hits_sq = call(&sqlite_web, "GET", "/api/v1/search?type=discharge-summary&limit=1", sq, NULL);
  array = json_object_get_array_member(obj(hits_pg), "hits");
  g_assert_cmpuint(json_array_get_length(array), ==, 1);
  hit_pg = json_array_get_object_element(array, 0);
  hit_sq = json_array_get_object_element(json_object_get_array_member(obj(hits_sq), "hits"), 0);
  doc = json_object_get_int_member(hit_pg, "document");
  sdoc = json_object_get_int_member(hit_sq, "document");

  path = g_strdup_printf("/api/v1/documents/%" G_GINT64_FORMAT, doc);
  doc_pg = call(&pg_web, "GET", path, pg, NULL);
  g_free(path);
  path = g_strdup_printf("/api/v1/documents/%" G_GINT64_FORMAT, sdoc);
  doc_sq = call(&sqlite_web, "GET", path, sq, NULL);
  g_assert_cmpuint(doc_pg->status, ==, 200);
  for (const gchar *const *m = (const gchar *const[]){ "mrn", "type", "type_label", "date", "title", "status", NULL };
       *m != NULL; m++)
    g_assert_cmpstr(json_object_get_string_member(obj(doc_pg), *m), ==, json_object_get_string_member(obj(doc_sq), *m));
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj(doc_pg), "pages")), ==,
                   json_array_get_length(json_object_get_array_member(obj(doc_sq), "pages")));
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj(doc_pg), "holds")), ==, 0);
  page = json_object_get_int_member(
      json_array_get_object_element(json_object_get_array_member(obj(doc_pg), "pages"), 0), "id");
  spage = json_object_get_int_member(
      json_array_get_object_element(json_object_get_array_member(obj(doc_sq), "pages"), 0), "id");

  g_free(path);
  path = g_strdup_printf("/api/v1/pages/%" G_GINT64_FORMAT "/image?width=400", page);
  image = call(&pg_web, "GET", path, pg, NULL);
  g_assert_cmpuint(image->status, ==, 200);
  g_assert_cmpstr(soup_message_headers_get_content_type(image->headers, NULL), ==, "image/png");
  png = g_bytes_get_data(image->body, &len);
  g_assert_cmpuint(len, >, 24);
  g_assert_cmpmem(png, 8, "\x89PNG\r\n\x1a\n", 8);
  /* IHDR: the width asked */
  g_assert_cmpuint(((guint) png[16] << 24) | ((guint) png[17] << 16) | ((guint) png[18] << 8) | png[19], ==, 400);
  etag = soup_message_headers_get_one(image->headers, "ETag");
  g_assert_nonnull(etag);
  again = call_with(&pg_web, "GET", path, pg, NULL, etag);
  g_assert_cmpuint(again->status, ==, 304);
  /* both views audited: the cache never skips the server's check */
  g_assert_cmpint(server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND action = "
                               "'view-image' AND object = 'page:%" G_GINT64_FORMAT "'",
                               page),
                  ==, 2);

  g_free(path);
  path = g_strdup_printf("/api/v1/pages/%" G_GINT64_FORMAT "/words", page);
  words_pg = call(&pg_web, "GET", path, pg, NULL);
  g_free(path);
  path = g_strdup_printf("/api/v1/pages/%" G_GINT64_FORMAT "/words", spage);
  words_sq = call(&sqlite_web, "GET", path, sq, NULL);
  g_assert_cmpuint(words_pg->status, ==, 200);
  array = json_object_get_array_member(obj(words_pg), "words");
  /* the station's OCR boxes were delivered with the page */
  g_assert_cmpuint(json_array_get_length(array), >, 20);
  g_assert_cmpuint(json_array_get_length(array), ==,
                   json_array_get_length(json_object_get_array_member(obj(words_sq), "words")));
  g_assert_cmpstr(json_object_get_string_member(obj(words_pg), "text"), ==,
                  json_object_get_string_member(obj(words_sq), "text"));
  g_assert_cmpint(json_object_get_int_member(obj(words_pg), "width"), ==,
                  json_object_get_int_member(obj(words_sq), "width"));
  g_assert_cmpint(json_object_get_int_member(obj(words_pg), "document"), ==, doc);
  g_assert_true(json_object_has_member(json_array_get_object_element(array, 0), "text"));
  g_assert_cmpint(server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND "
                               "action = 'view' AND object = 'document:%" G_GINT64_FORMAT "'",
                               doc),
                  >=, 1);
  g_assert_cmpint(server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND "
                               "action = 'view' AND object = 'page:%" G_GINT64_FORMAT "'",
                               page),
                  ==, 1);
}

/* A restricted type is hidden from a user without the grant (out of
 * search, charts and facets, its document 404 as a missing one, the
 * refusal audited) and visible with it, as on SQLite. */
static void
test_restricted(void)
{
  g_autoptr(Login) arch = NULL;
  g_autoptr(Login) sec = NULL;
  g_autoptr(Login) sarch = NULL;
  g_autofree gchar *query = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *page_path = NULL;
  g_autoptr(Reply) hidden = NULL;
  g_autoptr(Reply) shown = NULL;
  g_autoptr(Reply) refused = NULL;
  g_autoptr(Reply) image = NULL;
  g_autoptr(Reply) read = NULL;
  g_autoptr(Reply) types = NULL;
  g_autoptr(Reply) all = NULL;
  g_autofree gchar *sql_id = NULL;
  g_autofree gchar *sql_page = NULL;
  g_autofree gchar *id = NULL;
  g_autofree gchar *page = NULL;
  JsonArray *list;
  gint64 n_restricted;

  REQUIRE_SERVER();
  arch = log_in(&pg_web, "arch");
  sec = log_in(&pg_web, "sec");
  sarch = log_in(&sqlite_web, "arch");
  n_restricted = server_count("SELECT count(*) FROM documents WHERE type = '%s'", restricted);
  g_assert_cmpint(n_restricted, >, 0);
  query = g_strdup_printf("/api/v1/search?type=%s", restricted);
  hidden = call(&pg_web, "GET", query, arch, NULL);
  shown = call(&pg_web, "GET", query, sec, NULL);
  g_assert_cmpint(json_object_get_int_member(obj(hidden), "total"), ==, 0);
  g_assert_cmpint(json_object_get_int_member(obj(shown), "total"), >, 0);
  /* nor among everything, nor in the facets */
  all = call(&pg_web, "GET", "/api/v1/search?from=1900-01-01&to=2099-12-31&limit=200", arch, NULL);
  g_assert_false(json_object_has_member(
      json_object_get_object_member(json_object_get_object_member(obj(all), "facets"), "type"), restricted));
  {
    gint64 total_sq = 0, total_pg = 0;
    g_autofree gchar *a = search_summary(&sqlite_web, sarch, "from=1900-01-01&to=2099-12-31", &total_sq);
    g_autofree gchar *b = search_summary(&pg_web, arch, "from=1900-01-01&to=2099-12-31", &total_pg);
    g_assert_cmpstr(a, ==, b);
    g_assert_cmpint(total_pg, ==, json_object_get_int_member(obj(all), "total"));
  }
  types = call(&pg_web, "GET", "/api/v1/types", arch, NULL);
  list = json_object_get_array_member(obj(types), "types");
  g_assert_cmpuint(json_array_get_length(list), >, 0);
  for (guint i = 0; i < json_array_get_length(list); i++)
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(list, i), "name"), !=, restricted);

  sql_id = g_strdup_printf("SELECT min(id)::text FROM documents WHERE type = '%s'", restricted);
  sql_page = g_strdup_printf(
      "SELECT min(p.id)::text FROM pages p JOIN documents d ON d.id = p.document_id WHERE d.type = '%s'", restricted);
  id = server_string(sql_id);
  page = server_string(sql_page);
  g_assert_nonnull(id);
  path = g_strdup_printf("/api/v1/documents/%s", id);
  refused = call(&pg_web, "GET", path, arch, NULL);
  g_assert_cmpuint(refused->status, ==, 404);
  g_assert_cmpstr(error_code(refused), ==, "not-found");
  page_path = g_strdup_printf("/api/v1/pages/%s/image", page);
  image = call(&pg_web, "GET", page_path, arch, NULL);
  g_assert_cmpuint(image->status, ==, 404);
  g_assert_cmpint(server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND "
                               "action = 'denied' AND object = 'document:%s'",
                               id),
                  >=, 2);
  g_assert_cmpint(server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND "
                               "action = 'view' AND object = 'document:%s'",
                               id),
                  ==, 0);
  read = call(&pg_web, "GET", path, sec, NULL);
  g_assert_cmpuint(read->status, ==, 200);
  g_assert_cmpstr(json_object_get_string_member(obj(read), "type"), ==, restricted);
}

/* A user without the permission is refused with 403, and the refusal is
 * on the server's audit log under their name; the auditor reads the
 * server's chain, every read of the others in it under their names. */
static void
test_denied_audit(void)
{
  g_autoptr(Login) scan = NULL;
  g_autoptr(Login) aud = NULL;
  g_autoptr(Login) arch = NULL;
  g_autoptr(Reply) search = NULL;
  g_autoptr(Reply) chart = NULL;
  g_autoptr(Reply) audit = NULL;
  g_autoptr(Reply) arch_audit = NULL;
  g_autoptr(Reply) aud_search = NULL;
  g_autoptr(Reply) by_patient = NULL;
  g_autoptr(Reply) csv = NULL;
  JsonArray *entries;
  gboolean saw_search = FALSE, saw_chart = FALSE;

  REQUIRE_SERVER();
  scan = log_in(&pg_web, "scan");
  aud = log_in(&pg_web, "aud");
  arch = log_in(&pg_web, "arch");
  search = call(&pg_web, "GET", "/api/v1/search?q=pneumonia", scan, NULL);
  g_assert_cmpuint(search->status, ==, 403);
  g_assert_cmpstr(error_code(search), ==, "forbidden");
  g_assert_nonnull(strstr(error_message(search), "read-charts"));
  chart = call(&pg_web, "GET", "/api/v1/patients/08570054", scan, NULL);
  g_assert_cmpuint(chart->status, ==, 403);
  g_assert_cmpint(server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'scan' AND "
                               "action = 'denied'"),
                  >=, 2);
  g_assert_cmpint(server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'scan' AND "
                               "action IN ('search', 'view')"),
                  ==, 0);
  /* the auditor reads no charts, the archivist no audit log */
  aud_search = call(&pg_web, "GET", "/api/v1/search?q=pneumonia", aud, NULL);
  g_assert_cmpuint(aud_search->status, ==, 403);
  arch_audit = call(&pg_web, "GET", "/api/v1/audit", arch, NULL);
  g_assert_cmpuint(arch_audit->status, ==, 403);

  {
    g_autoptr(Reply) s = call(&pg_web, "GET", "/api/v1/search?q=pneumonia", arch, NULL);
    g_autoptr(Reply) c = call(&pg_web, "GET", "/api/v1/patients/08570054", arch, NULL);
    g_assert_cmpuint(s->status, ==, 200);
    g_assert_cmpuint(c->status, ==, 200);
  }
  audit = call(&pg_web, "GET", "/api/v1/audit?user=arch&limit=1000", aud, NULL);
  g_assert_cmpuint(audit->status, ==, 200);
  entries = json_object_get_array_member(obj(audit), "entries");
  g_assert_nonnull(entries);
  g_assert_cmpuint(json_array_get_length(entries), >, 0);
  g_assert_cmpint(json_object_get_int_member(obj(audit), "total"), >=, json_array_get_length(entries));
  for (guint i = 0; i < json_array_get_length(entries); i++) {
    JsonObject *e = json_array_get_object_element(entries, i);
    g_assert_cmpstr(json_object_get_string_member(e, "user"), ==, "arch");
    if (g_strcmp0(json_object_get_string_member(e, "action"), "search") == 0)
      saw_search = TRUE;
    if (g_strcmp0(json_object_get_string_member(e, "object"), "patient:08570054") == 0) {
      saw_chart = TRUE;
      g_assert_cmpstr(json_object_get_string_member(e, "mrn"), ==, "08570054");
    }
  }
  g_assert_true(saw_search);
  g_assert_true(saw_chart);
  /* by patient: the chart views and the reads of its documents */
  by_patient = call(&pg_web, "GET", "/api/v1/audit?mrn=08570054&limit=1000", aud, NULL);
  g_assert_cmpuint(by_patient->status, ==, 200);
  entries = json_object_get_array_member(obj(by_patient), "entries");
  g_assert_cmpuint(json_array_get_length(entries), >, 0);
  for (guint i = 0; i < json_array_get_length(entries); i++)
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(entries, i), "mrn"), ==, "08570054");
  csv = call(&pg_web, "GET", "/api/v1/audit?format=csv", aud, NULL);
  g_assert_cmpuint(csv->status, ==, 200);
  g_assert_true(g_str_has_prefix(g_bytes_get_data(csv->body, NULL), "id,time,user,action"));
  /* reading the audit log is audited too */
  g_assert_cmpint(server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'aud' AND "
                               "action = 'audit-list'"),
                  >=, 3);
}

/* What the server cannot do yet answers 501 not-supported naming the
 * PostgreSQL archive, and changes nothing; the screens are still served. */
static void
test_not_supported(void)
{
  g_autoptr(Login) arch = NULL;
  g_autoptr(Login) qa = NULL;
  static const struct {
    const gchar *method;
    const gchar *path;
    const gchar *body;
  } routes[] = {
    { "GET", "/api/v1/review", NULL },
    { "GET", "/api/v1/review/1", NULL },
    { "POST", "/api/v1/review/1/resolve", "{\"why\": \"x\"}" },
    { "GET", "/api/v1/batches", NULL },
    { "GET", "/api/v1/events", NULL },
    { "GET", "/api/v1/saved-searches", NULL },
    { "POST", "/api/v1/saved-searches", "{\"name\": \"x\", \"query\": {\"q\": \"patient\"}}" },
    { "DELETE", "/api/v1/saved-searches/1", NULL },
    { "GET", "/api/v1/roi", NULL },
    { "POST", "/api/v1/roi", "{}" },
    { "GET", "/api/v1/patients/08570054/disclosures", NULL },
  };
  gint64 before;

  REQUIRE_SERVER();
  arch = log_in(&pg_web, "arch");
  qa = log_in(&pg_web, "qa");
  before = server_count("SELECT count(*) FROM audit");
  for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
    g_autoptr(Reply) r = call(&pg_web, routes[i].method, routes[i].path, i < 3 ? qa : arch, routes[i].body);
    g_test_message("%s %s: %u", routes[i].method, routes[i].path, r->status);
    g_assert_cmpuint(r->status, ==, 501);
    g_assert_cmpstr(error_code(r), ==, "not-supported");
    g_assert_nonnull(strstr(error_message(r), "on a PostgreSQL archive"));
  }
  g_assert_cmpint(server_count("SELECT count(*) FROM audit"), ==, before);
  /* a route that does not exist is still 404, a static screen still there */
  {
    g_autoptr(Reply) none = call(&pg_web, "GET", "/api/v1/nothing", arch, NULL);
    g_autoptr(Reply) index = call(&pg_web, "GET", "/", NULL, NULL);
    g_assert_cmpuint(none->status, ==, 404);
    g_assert_cmpuint(index->status, ==, 200);
  }
}

/* The server's legal holds on the workstation (the chart's `holds` and
 * each document's `held`, the document's `holds`), as a SQLite archive
 * shows its own: a patient hold holds the whole chart, a document hold
 * that document only; listing them is audited as the user; released,
 * they are gone. Leaves no hold in force (test_destroyed follows). */
static void
test_holds(void)
{
  const gchar *mrn = "08570054";
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPgArchive) server = NULL;
  g_autoptr(CdPrincipal) admin = cd_principal_new_admin_mode(g_get_user_name(), NULL);
  g_autoptr(Login) arch = NULL;
  g_autofree gchar *sql = NULL;
  g_autofree gchar *other = NULL;
  g_autofree gchar *path = NULL;
  gint64 doc, patient_hold, document_hold, listed;

  REQUIRE_SERVER();
  server = cd_pg_archive_open(uri, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  cd_pg_archive_set_principal(server, admin);
  sql = g_strdup_printf("SELECT min(id) FROM documents WHERE patient_mrn IS NOT NULL AND patient_mrn <> '%s'", mrn);
  doc = server_count("%s", sql);
  g_assert_cmpint(doc, >, 0);
  g_free(sql);
  sql = g_strdup_printf("SELECT patient_mrn FROM documents WHERE id = %" G_GINT64_FORMAT, doc);
  other = server_string(sql);
  g_assert_nonnull(other);
  patient_hold = cd_pg_archive_place_hold(server, CD_HOLD_PATIENT, mrn, 0, "Smith v. General", "CASE-1", &error);
  g_assert_no_error(error);
  document_hold = cd_pg_archive_place_hold(server, CD_HOLD_DOCUMENT, NULL, doc, "Audit 7", NULL, &error);
  g_assert_no_error(error);

  arch = log_in(&pg_web, "arch");
  listed =
      server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND action = 'list-holds'");
  {
    g_autoptr(Reply) caps = call(&pg_web, "GET", "/api/v1/capabilities", arch, NULL);
    JsonArray *list = json_object_get_array_member(obj(caps), "capabilities");
    gboolean holds = FALSE;
    for (guint i = 0; i < json_array_get_length(list); i++)
      holds |= g_strcmp0(json_array_get_string_element(list, i), "holds") == 0;
    g_assert_true(holds);
  }
  /* the patient's chart: one hold, every document held */
  {
    g_autofree gchar *p = g_strdup_printf("/api/v1/patients/%s", mrn);
    g_autoptr(Reply) chart = call(&pg_web, "GET", p, arch, NULL);
    JsonArray *holds, *docs;
    g_assert_cmpuint(chart->status, ==, 200);
    holds = json_object_get_array_member(obj(chart), "holds");
    g_assert_cmpuint(json_array_get_length(holds), ==, 1);
    g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(holds, 0), "id"), ==, patient_hold);
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(holds, 0), "matter"), ==, "CASE-1");
    docs = json_object_get_array_member(obj(chart), "documents");
    g_assert_cmpuint(json_array_get_length(docs), >, 0);
    for (guint i = 0; i < json_array_get_length(docs); i++)
      g_assert_true(json_object_get_boolean_member(json_array_get_object_element(docs, i), "held"));
  }
  /* the other patient's chart: the document hold, that document held only */
  {
    g_autofree gchar *p = g_strdup_printf("/api/v1/patients/%s", other);
    g_autoptr(Reply) chart = call(&pg_web, "GET", p, arch, NULL);
    JsonArray *holds, *docs;
    guint held = 0;
    g_assert_cmpuint(chart->status, ==, 200);
    holds = json_object_get_array_member(obj(chart), "holds");
    g_assert_cmpuint(json_array_get_length(holds), ==, 1);
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(holds, 0), "kind"), ==, "document");
    docs = json_object_get_array_member(obj(chart), "documents");
    for (guint i = 0; i < json_array_get_length(docs); i++) {
      JsonObject *d = json_array_get_object_element(docs, i);
      gboolean is_it = json_object_get_int_member(d, "id") == doc;
      g_assert_cmpint(json_object_get_boolean_member(d, "held"), ==, is_it);
      held += is_it;
    }
    g_assert_cmpuint(held, ==, 1);
  }
  /* the document: its hold */
  path = g_strdup_printf("/api/v1/documents/%" G_GINT64_FORMAT, doc);
  {
    g_autoptr(Reply) d = call(&pg_web, "GET", path, arch, NULL);
    JsonArray *holds;
    g_assert_cmpuint(d->status, ==, 200);
    holds = json_object_get_array_member(obj(d), "holds");
    g_assert_cmpuint(json_array_get_length(holds), ==, 1);
    g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(holds, 0), "id"), ==, document_hold);
  }
  /* each chart's listing audited as the user */
  g_assert_cmpint(
      server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND action = 'list-holds'"), ==,
      listed + 2);

  /* released: gone from the chart and the document */
  g_assert_true(cd_pg_archive_release_hold(server, patient_hold, "settled", &error));
  g_assert_no_error(error);
  g_assert_true(cd_pg_archive_release_hold(server, document_hold, "closed", &error));
  g_assert_no_error(error);
  {
    g_autofree gchar *p = g_strdup_printf("/api/v1/patients/%s", mrn);
    g_autoptr(Reply) chart = call(&pg_web, "GET", p, arch, NULL);
    g_autoptr(Reply) d = call(&pg_web, "GET", path, arch, NULL);
    JsonArray *docs = json_object_get_array_member(obj(chart), "documents");
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj(chart), "holds")), ==, 0);
    for (guint i = 0; i < json_array_get_length(docs); i++)
      g_assert_false(json_object_get_boolean_member(json_array_get_object_element(docs, i), "held"));
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(obj(d), "holds")), ==, 0);
  }
}

/* A station's destruction, delivered, shows on the server's workstation
 * where the station's shows it: the document's `destroyed` names the same
 * run and time, plus the station and who approved it; the server's audit
 * listing for the patient has its `deliver-destruction` entry. Runs after
 * the reading tests: it empties documents of the shared archives. */
static void
test_destroyed(void)
{
  static const gchar policy_text[] = "[policy]\nyears=1\nmajority-age=18\nminor-years=1\nfloor-years=1\n"
                                     "facility=Test General Hospital HIM\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) station = NULL;
  g_autoptr(CdPgArchive) server = NULL;
  g_autoptr(CdTaxonomy) tax = NULL;
  g_autoptr(CdRetentionPolicy) policy = NULL;
  g_autoptr(JsonNode) plan = NULL;
  g_autoptr(JsonNode) run = NULL;
  g_autoptr(Login) pg = NULL;
  g_autoptr(Login) sq = NULL;
  g_autoptr(Login) aud = NULL;
  g_autoptr(Reply) doc_pg = NULL;
  g_autoptr(Reply) doc_sq = NULL;
  g_autoptr(Reply) audit = NULL;
  g_autofree gchar *plan_text = NULL;
  g_autofree gchar *path = NULL;
  JsonArray *destroyed;
  JsonObject *tomb_pg, *tomb_sq;
  JsonArray *entries;
  gint64 victim, server_doc;
  gboolean listed = FALSE;

  REQUIRE_SERVER();
  tax = cd_taxonomy_new_default(&error);
  g_assert_no_error(error);
  station = cd_archive_open(spool, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  policy = cd_retention_policy_new_from_data(policy_text, "web.policy", tax, &error);
  g_assert_no_error(error);
  plan = cd_archive_retention_plan(station, policy, NULL, &error);
  g_assert_no_error(error);
  plan_text = json_to_string(plan, TRUE);
  run = cd_archive_retention_destroy(station, plan_text, &error);
  g_assert_no_error(error);
  destroyed = json_object_get_array_member(json_node_get_object(run), "destroyed");
  g_assert_cmpuint(json_array_get_length(destroyed), >, 0);
  victim = json_array_get_int_element(destroyed, 0);
  server = cd_pg_archive_open(uri, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_pg_archive_deliver(server, station, "scan-1", NULL, NULL, &error));
  g_assert_no_error(error);
  server_doc = server_count("SELECT document_id FROM deliveries WHERE station = 'scan-1' AND source_document_id = "
                            "%" G_GINT64_FORMAT,
                            victim);

  pg = log_in(&pg_web, "arch");
  sq = log_in(&sqlite_web, "arch");
  path = g_strdup_printf("/api/v1/documents/%" G_GINT64_FORMAT, server_doc);
  doc_pg = call(&pg_web, "GET", path, pg, NULL);
  g_free(path);
  path = g_strdup_printf("/api/v1/documents/%" G_GINT64_FORMAT, victim);
  doc_sq = call(&sqlite_web, "GET", path, sq, NULL);
  g_assert_cmpuint(doc_pg->status, ==, 200);
  g_assert_cmpuint(doc_sq->status, ==, 200);
  tomb_pg = json_object_get_object_member(obj(doc_pg), "destroyed");
  tomb_sq = json_object_get_object_member(obj(doc_sq), "destroyed");
  g_assert_nonnull(tomb_pg);
  g_assert_nonnull(tomb_sq);
  g_assert_cmpint(json_object_get_int_member(tomb_pg, "run"), ==, json_object_get_int_member(tomb_sq, "run"));
  g_assert_cmpstr(json_object_get_string_member(tomb_pg, "at"), ==, json_object_get_string_member(tomb_sq, "at"));
  g_assert_cmpint(json_object_get_int_member(tomb_pg, "pages"), ==, json_object_get_int_member(tomb_sq, "pages"));
  g_assert_cmpstr(json_object_get_string_member(tomb_pg, "rule"), ==, json_object_get_string_member(tomb_sq, "rule"));
  g_assert_cmpstr(json_object_get_string_member(tomb_pg, "station"), ==, "scan-1");
  g_assert_nonnull(json_object_get_string_member(tomb_pg, "destroyed_by"));

  g_free(path);
  path = g_strdup_printf("/api/v1/audit?mrn=%s&limit=200", json_object_get_string_member(obj(doc_pg), "mrn"));
  aud = log_in(&pg_web, "aud");
  audit = call(&pg_web, "GET", path, aud, NULL);
  g_assert_cmpuint(audit->status, ==, 200);
  entries = json_object_get_array_member(obj(audit), "entries");
  g_assert_nonnull(entries);
  for (guint i = 0; i < json_array_get_length(entries); i++) {
    JsonObject *e = json_array_get_object_element(entries, i);
    g_autofree gchar *object = g_strdup_printf("document:%" G_GINT64_FORMAT, server_doc);
    listed |= g_strcmp0(json_object_get_string_member(e, "action"), "deliver-destruction") == 0 &&
              g_strcmp0(json_object_get_string_member(e, "object"), object) == 0;
  }
  g_assert_true(listed);
}

/* The server stopped under the workstation: a read answers 503
 * unavailable (nothing unaudited is shown); started again, the next read
 * is served on a new connection and audited. Last: it restarts the
 * cluster. */
static void
test_server_away(void)
{
  g_autoptr(Login) arch = NULL;
  g_autoptr(Reply) before = NULL;
  g_autoptr(Reply) away = NULL;
  g_autoptr(Reply) back = NULL;
  gint64 searches;

  REQUIRE_SERVER();
  arch = log_in(&pg_web, "arch");
  searches = server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND action = 'search'");
  before = call(&pg_web, "GET", "/api/v1/search?q=pneumonia", arch, NULL);
  g_assert_cmpuint(before->status, ==, 200);
  cd_pg_cluster_ctl_stop(cluster);
  away = call(&pg_web, "GET", "/api/v1/search?q=pneumonia", arch, NULL);
  g_assert_cmpuint(away->status, ==, 503);
  g_assert_cmpstr(error_code(away), ==, "unavailable");
  g_assert_null(json_object_get_member(obj(away), "hits"));
  cd_pg_cluster_ctl_start(cluster);
  back = call(&pg_web, "GET", "/api/v1/search?q=pneumonia", arch, NULL);
  g_assert_cmpuint(back->status, ==, 200);
  g_assert_cmpint(json_object_get_int_member(obj(back), "total"), ==, json_object_get_int_member(obj(before), "total"));
  g_assert_cmpint(
      server_count("SELECT count(*) FROM audit WHERE station IS NULL AND actor = 'arch' AND action = 'search'"), ==,
      searches + 2);
}

/* samples/ with its patient index into a SQLite archive, delivered to the
 * server as station scan-1; the users; the taxonomy with one type the
 * samples have restricted. */
static void
set_up(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *mpi = g_test_build_filename(G_TEST_DIST, "samples", "mpi.csv", NULL);
  g_autofree gchar *folder = g_test_build_filename(G_TEST_DIST, "samples", NULL);
  g_autofree gchar *shipped = g_test_build_filename(G_TEST_DIST, "workflows", "taxonomy.conf", NULL);
  g_autofree gchar *text = NULL;
  g_autofree gchar *group = NULL;
  g_autoptr(CdUserDirectory) dir = NULL;
  g_autoptr(GString) edited = NULL;
  g_auto(CdTestRun) r1 = { 0 };
  g_auto(CdTestRun) r2 = { 0 };
  g_auto(CdTestRun) r3 = { 0 };
  const gchar *at;
  static const struct {
    const gchar *login;
    const gchar *roles[3];
  } people[] = {
    { "arch", { "archivist", NULL } }, { "sec", { "archivist", "restricted", NULL } },
    { "aud", { "auditor", NULL } },    { "scan", { "scanner", NULL } },
    { "qa", { "indexer", NULL } },
  };

  spool = g_build_filename(workdir, "samples.archive", NULL);
  cd_test_chartdesk(&r1, "mpi", "import", spool, mpi, NULL);
  g_assert_cmpint(r1.status, ==, 0);
  cd_test_chartdesk(&r2, "ingest", "--quiet", spool, folder, NULL);
  g_assert_cmpint(r2.status, ==, 0);
  g_free(cd_pg_cluster_create_database(cluster, DATABASE, &error));
  g_assert_no_error(error);
  uri = cd_pg_cluster_uri(cluster, DATABASE);
  cd_test_chartdesk(&r3, "archive", "deliver", "--station", "scan-1", spool, uri, NULL);
  g_test_message("%s%s", r3.out, r3.err);
  g_assert_cmpint(r3.status, ==, 0);

  users = g_build_filename(workdir, "users.conf", NULL);
  dir = cd_user_directory_open(users, TRUE, &error);
  g_assert_no_error(error);
  cd_user_directory_set_pwhash_limits(dir, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
  for (guint i = 0; i < G_N_ELEMENTS(people); i++) {
    cd_user_directory_add(dir, people[i].login, "Test User", people[i].roles, NULL, PASSWORD, &error);
    g_assert_no_error(error);
  }

  /* the most common type of the samples after the discharge summary */
  restricted = server_string("SELECT type FROM documents WHERE type IS NOT NULL AND type <> 'discharge-summary' "
                             "GROUP BY type ORDER BY count(*) DESC, type LIMIT 1");
  g_assert_nonnull(restricted);
  g_test_message("restricted type: %s", restricted);
  g_file_get_contents(shipped, &text, NULL, &error);
  g_assert_no_error(error);
  group = g_strdup_printf("[%s]\n", restricted);
  at = strstr(text, group);
  g_assert_nonnull(at);
  edited = g_string_new_len(text, at - text + strlen(group));
  g_string_append(edited, "restricted=true\n");
  g_string_append(edited, at + strlen(group));
  taxonomy = g_build_filename(workdir, "taxonomy.conf", NULL);
  g_file_set_contents(taxonomy, edited->str, -1, &error);
  g_assert_no_error(error);

  session = soup_session_new();
  start_server(&sqlite_web, spool);
  start_server(&pg_web, uri);
  g_test_message("SQLite at %s, server at %s", sqlite_web.url, pg_web.url);
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  gint status;

  g_test_init(&argc, &argv, NULL);
  g_test_summary("`chartdesk web` on the PostgreSQL archive answers as on the SQLite archive it was delivered from.");
  if (sodium_init() < 0)
    return 1;
  workdir = g_dir_make_tmp("cd-pg-web-XXXXXX", &error);
  g_assert_no_error(error);
  cluster = cd_pg_cluster_start(&error);
  g_assert_no_error(error);
  if (cluster != NULL)
    set_up();
  g_test_add_func("/chartdesk/pg-web/session", test_session);
  g_test_add_func("/chartdesk/pg-web/search", test_search);
  g_test_add_func("/chartdesk/pg-web/patients", test_patients);
  g_test_add_func("/chartdesk/pg-web/document-image-words", test_document_image_words);
  g_test_add_func("/chartdesk/pg-web/restricted", test_restricted);
  g_test_add_func("/chartdesk/pg-web/denied-audit", test_denied_audit);
  g_test_add_func("/chartdesk/pg-web/not-supported", test_not_supported);
  g_test_add_func("/chartdesk/pg-web/holds", test_holds);
  g_test_add_func("/chartdesk/pg-web/server-away", test_server_away);
  g_test_add_func("/chartdesk/pg-web/destroyed", test_destroyed);
  status = g_test_run();
  stop_server(&pg_web);
  stop_server(&sqlite_web);
  g_clear_object(&session);
  g_clear_pointer(&cluster, cd_pg_cluster_stop);
  cd_test_rm_rf(workdir);
  g_free(workdir);
  g_free(spool);
  g_free(uri);
  g_free(users);
  g_free(taxonomy);
  g_free(restricted);
  return status;
}
