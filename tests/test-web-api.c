/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The web workstation's API (issue 15) against the real `chartdesk web` on
 * a free loopback port, driven by libsoup's client: a real archive made
 * with the library, a real user directory, real cookies, real TLS.
 */
#include <libsoup/soup.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <sys/prctl.h>

#include "cd-archive-retention.h"
#include "cd-engine.h"
#include "cd-test-util.h"

#define PASSWORD "correct horse battery"

typedef struct {
  gchar *dir;
  gchar *archive;
  gchar *users;
  gchar *taxonomy;
  gint64 filed;   /* progress-note, filed to MRN001 */
  gint64 waiting; /* consultation, in review, identifiers read from its header */
  gint64 secret;  /* psychotherapy-note, restricted */
  gint64 page;    /* the filed document's page */
  GSubprocess *proc;
  gchar *url;
  SoupSession *session;
} Fixture;

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

/* A session: its cookie and CSRF token. */
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

static CdPage *
make_page(gint mark, const gchar *text, const gchar *const *words)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *sha = g_strnfill(64, 'a' + mark);
  CdPage *page = cd_page_new("box1/scan.tif", mark, sha);
  PIX *pix = pixCreate(800, 600, 1);

  /* a black bar where each word is, so the image is not blank */
  for (guint i = 0; words != NULL && words[i] != NULL; i++) {
    pixRasterop(pix, 40 + 120 * (gint) i, 50, 100, 20, PIX_SET, NULL, 0, 0);
    cd_page_add_word(page, cd_word_new(words[i], 40 + 120 * (gint) i, 50, 100, 20, 91.5f, 0));
  }
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, 300, 300);
  cd_page_set_text(page, text);
  g_assert_true(cd_page_encode_image(page, &error));
  g_assert_no_error(error);
  return page;
}

static gint64
commit_document(CdArchive *archive, gint64 batch, const gchar *mrn, const gchar *type, const gchar *date,
                const gchar *text, gint mark, gboolean review, gint64 *page_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdDocument) doc = cd_document_new();
  g_auto(GStrv) words = g_strsplit(text, " ", -1);
  g_autoptr(CdPage) page = make_page(mark, text, (const gchar *const *) words);
  g_autoptr(CdPage) second = make_page(mark + 10, "continued on the second page", NULL);

  if (review) {
    cd_page_set_fact(page, "header.mrn", g_variant_new_string("MRN002"));
    cd_page_set_fact(page, "header.family", g_variant_new_string("DOE"));
    cd_page_set_fact(page, "header.given", g_variant_new_string("JANE"));
    cd_page_set_fact(page, "header.dob", g_variant_new_string("1960-01-01"));
  }
  if (mrn != NULL)
    cd_document_set_patient_mrn(doc, mrn);
  cd_document_set_doc_type(doc, type, 0.9);
  cd_document_set_date(doc, date);
  cd_document_add_page(doc, page);
  cd_document_add_page(doc, second);
  if (review)
    cd_document_add_problem(doc, "header names MRN002 but the cover sheet is missing");
  g_assert_true(cd_archive_commit_document(archive, batch, doc, &error));
  g_assert_no_error(error);
  if (page_id != NULL)
    *page_id = cd_page_get_id(page);
  return cd_document_get_id(doc);
}

static void
add_patient(GPtrArray *patients, const gchar *mrn, const gchar *family, const gchar *given, const gchar *dob)
{
  CdPatient *p = cd_patient_new(mrn);
  p->family = g_strdup(family);
  p->given = g_strdup(given);
  p->dob = g_strdup(dob);
  p->sex = g_strdup("F");
  g_ptr_array_add(patients, p);
}

static void
make_fixture(Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(CdUserDirectory) dir = NULL;
  g_autoptr(GPtrArray) patients = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  g_autofree gchar *base = NULL;
  g_autofree gchar *tax = NULL;
  g_autofree gchar *src_tax = g_test_build_filename(G_TEST_DIST, "workflows", "taxonomy.conf", NULL);
  const gchar *inputs[] = { "box1/", NULL };
  static const struct {
    const gchar *login;
    const gchar *role;
  } users[] = {
    { "arch", "archivist" }, { "arch2", "archivist" }, { "scan", "scanner" }, { "qa", "indexer" },
    { "aud", "auditor" },    { "roi1", "roi" },        { "roi2", "roi" },     { "coder", "coder" },
  };
  gint64 batch;

  f->dir = g_dir_make_tmp("cd-web-XXXXXX", &error);
  g_assert_no_error(error);
  f->archive = g_build_filename(f->dir, "test.archive", NULL);
  f->users = g_build_filename(f->dir, "users.conf", NULL);
  f->taxonomy = g_build_filename(f->dir, "taxonomy.conf", NULL);

  /* the shipped taxonomy with a restricted type added */
  g_file_get_contents(src_tax, &base, NULL, &error);
  g_assert_no_error(error);
  tax = g_strconcat(base, "\n[psychotherapy-note]\nname=Psychotherapy note\nrestricted=true\n", NULL);
  g_file_set_contents(f->taxonomy, tax, -1, &error);
  g_assert_no_error(error);

  dir = cd_user_directory_open(f->users, TRUE, &error);
  g_assert_no_error(error);
  cd_user_directory_set_pwhash_limits(dir, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
  for (guint i = 0; i < G_N_ELEMENTS(users); i++) {
    const gchar *roles[] = { users[i].role, NULL };
    cd_user_directory_add(dir, users[i].login, "Test User", roles, NULL, PASSWORD, &error);
    g_assert_no_error(error);
  }

  archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  add_patient(patients, "MRN001", "SMITH", "ANNA", "1950-02-03");
  add_patient(patients, "MRN002", "DOE", "JANE", "1960-01-01");
  add_patient(patients, "MRN003", "DOE", "JOHN", "1961-05-05");
  cd_archive_import_patients(archive, patients, "csv", NULL, &error);
  g_assert_no_error(error);
  batch = cd_archive_begin_batch(archive, "test", inputs, &error);
  g_assert_no_error(error);
  f->filed = commit_document(archive, batch, "MRN001", "progress-note", "2023-04-05", "patient walked today cardiology",
                             0, FALSE, &f->page);
  commit_document(archive, batch, "MRN001", "discharge-summary", "2024-01-02", "discharged home walked", 1, FALSE,
                  NULL);
  f->waiting =
      commit_document(archive, batch, NULL, "consultation", "2024-02-02", "cardiology consult walked", 2, TRUE, NULL);
  f->secret = commit_document(archive, batch, "MRN001", "psychotherapy-note", "2024-03-03", "session notes walked", 3,
                              FALSE, NULL);
  /* a legal hold on the filed document (retention, issue 17) */
  g_assert_cmpint(
      cd_archive_place_hold(archive, CD_HOLD_DOCUMENT, NULL, f->filed, NULL, "litigation", "matter 7", &error), >, 0);
  g_assert_no_error(error);
}

/* The server dies with the test, even one that fails an assertion. */
static void
die_with_parent(gpointer data)
{
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts `chartdesk web` on a free port and reads the URL it prints. */
static void
start_server(Fixture *f, const gchar *const *extra)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDataInputStream) out = NULL;
  gchar *line;

  g_ptr_array_add(argv, g_test_build_filename(G_TEST_BUILT, "core", "cli", "chartdesk", NULL));
  g_ptr_array_add(argv, g_strdup("web"));
  g_ptr_array_add(argv, g_strdup("--archive"));
  g_ptr_array_add(argv, g_strdup(f->archive));
  g_ptr_array_add(argv, g_strdup("--users"));
  g_ptr_array_add(argv, g_strdup(f->users));
  g_ptr_array_add(argv, g_strdup("--listen"));
  g_ptr_array_add(argv, g_strdup("127.0.0.1:0"));
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add(argv, g_strdup(extra[i]));
  g_ptr_array_add(argv, NULL);
  g_subprocess_launcher_setenv(launcher, "CHARTDESK_TAXONOMY", f->taxonomy, TRUE);
  g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
  f->proc = g_subprocess_launcher_spawnv(launcher, (const gchar *const *) argv->pdata, &error);
  g_assert_no_error(error);
  out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(f->proc));
  line = g_data_input_stream_read_line_utf8(out, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(line);
  /* the URL without its trailing slash */
  if (g_str_has_suffix(line, "/"))
    line[strlen(line) - 1] = '\0';
  f->url = line;
  g_test_message("server at %s", f->url);
}

static void
stop_server(Fixture *f)
{
  if (f->proc != NULL) {
    g_subprocess_send_signal(f->proc, SIGTERM);
    g_subprocess_wait(f->proc, NULL, NULL);
    /* a clean stop: SIGTERM ends the main loop (and, in a sanitizer build,
     * a leak would make the status non-zero) */
    g_assert_true(g_subprocess_get_if_exited(f->proc));
    g_assert_cmpint(g_subprocess_get_exit_status(f->proc), ==, 0);
    g_clear_object(&f->proc);
  }
  g_clear_pointer(&f->url, g_free);
}

static gboolean
accept_any_certificate(SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;
}

static Reply *
call(Fixture *f, const gchar *method, const gchar *path, Login *login, const gchar *body)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *uri = g_strconcat(f->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new(method, uri);
  Reply *r = g_new0(Reply, 1);
  const gchar *type;

  g_assert_nonnull(msg);
  g_signal_connect(msg, "accept-certificate", G_CALLBACK(accept_any_certificate), NULL);
  if (login != NULL) {
    g_autofree gchar *cookie = g_strdup_printf("cd_session=%s", login->cookie);
    soup_message_headers_replace(soup_message_get_request_headers(msg), "Cookie", cookie);
    if (login->csrf != NULL)
      soup_message_headers_replace(soup_message_get_request_headers(msg), "X-CSRF-Token", login->csrf);
  }
  if (body != NULL) {
    g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
    soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
  }
  r->body = soup_session_send_and_read(f->session, msg, NULL, &error);
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

static Login *
log_in(Fixture *f, const gchar *user)
{
  g_autofree gchar *body = g_strdup_printf("{\"user\": \"%s\", \"password\": \"%s\"}", user, PASSWORD);
  g_autoptr(Reply) r = call(f, "POST", "/api/v1/session", NULL, body);
  const gchar *set_cookie;
  Login *l;
  const gchar *start, *end;

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

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  make_fixture(f);
  f->session = soup_session_new();
  start_server(f, data);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  stop_server(f);
  g_clear_object(&f->session);
  cd_test_rm_rf(f->dir);
  g_free(f->dir);
  g_free(f->archive);
  g_free(f->users);
  g_free(f->taxonomy);
}

/* A login with the right password gives a session cookie that is HttpOnly,
 * SameSite=Strict and path-wide, and the user's roles and permissions; a
 * wrong password gives 401 and no cookie. */
static void
test_login(Fixture *f, gconstpointer data)
{
  g_autoptr(Reply) ok =
      call(f, "POST", "/api/v1/session", NULL, "{\"user\": \"arch\", \"password\": \"" PASSWORD "\"}");
  g_autoptr(Reply) bad = call(f, "POST", "/api/v1/session", NULL, "{\"user\": \"arch\", \"password\": \"nope\"}");
  const gchar *cookie = soup_message_headers_get_one(ok->headers, "Set-Cookie");
  JsonObject *user;

  g_assert_cmpuint(ok->status, ==, 200);
  g_assert_nonnull(cookie);
  g_assert_nonnull(strstr(cookie, "HttpOnly"));
  g_assert_nonnull(strstr(cookie, "SameSite=Strict"));
  g_assert_nonnull(strstr(cookie, "Path=/"));
  g_assert_null(strstr(cookie, "Secure"));
  user = json_object_get_object_member(obj(ok), "user");
  g_assert_cmpstr(json_object_get_string_member(user, "login"), ==, "arch");
  g_assert_cmpstr(json_array_get_string_element(json_object_get_array_member(user, "roles"), 0), ==, "archivist");
  g_assert_cmpuint(strlen(json_object_get_string_member(obj(ok), "csrf")), ==, 64);
  g_assert_cmpint(json_object_get_int_member(obj(ok), "idle_timeout"), ==, 900);
  /* every response carries the security headers */
  g_assert_cmpstr(soup_message_headers_get_one(ok->headers, "X-Content-Type-Options"), ==, "nosniff");
  g_assert_nonnull(strstr(soup_message_headers_get_one(ok->headers, "Content-Security-Policy"), "script-src 'self'"));
  g_assert_cmpstr(soup_message_headers_get_one(ok->headers, "Cache-Control"), ==, "no-store");

  g_assert_cmpuint(bad->status, ==, 401);
  g_assert_cmpstr(error_code(bad), ==, "unauthenticated");
  g_assert_null(soup_message_headers_get_one(bad->headers, "Set-Cookie"));
}

/* Without a session every route but login answers 401; a state-changing
 * request without the right X-CSRF-Token answers 403 csrf; logout ends the
 * session. */
static void
test_session_csrf(Fixture *f, gconstpointer data)
{
  g_autoptr(Login) arch = log_in(f, "arch");
  g_autoptr(Login) no_csrf = g_new0(Login, 1);
  g_autoptr(Login) wrong_csrf = g_new0(Login, 1);
  g_autoptr(Reply) anon = call(f, "GET", "/api/v1/search?q=walked", NULL, NULL);
  g_autoptr(Reply) current = NULL;
  g_autoptr(Reply) refused = NULL;
  g_autoptr(Reply) wrong = NULL;
  g_autoptr(Reply) out = NULL;
  g_autoptr(Reply) after = NULL;

  g_assert_cmpuint(anon->status, ==, 401);
  g_assert_cmpstr(error_code(anon), ==, "unauthenticated");

  current = call(f, "GET", "/api/v1/session", arch, NULL);
  g_assert_cmpuint(current->status, ==, 200);
  g_assert_cmpstr(json_object_get_string_member(obj(current), "csrf"), ==, arch->csrf);

  no_csrf->cookie = g_strdup(arch->cookie);
  refused = call(f, "POST", "/api/v1/saved-searches", no_csrf, "{\"name\": \"x\", \"query\": {\"q\": \"walked\"}}");
  g_assert_cmpuint(refused->status, ==, 403);
  g_assert_cmpstr(error_code(refused), ==, "csrf");
  wrong_csrf->cookie = g_strdup(arch->cookie);
  wrong_csrf->csrf = g_strnfill(64, '0');
  wrong = call(f, "DELETE", "/api/v1/session", wrong_csrf, NULL);
  g_assert_cmpuint(wrong->status, ==, 403);
  g_assert_cmpstr(error_code(wrong), ==, "csrf");

  out = call(f, "DELETE", "/api/v1/session", arch, NULL);
  g_assert_cmpuint(out->status, ==, 204);
  after = call(f, "GET", "/api/v1/session", arch, NULL);
  g_assert_cmpuint(after->status, ==, 401);
}

/* Roles: a scanner may not search (403 naming the permission); an indexer
 * may list the review queue but not the audit log. */
static void
test_roles(Fixture *f, gconstpointer data)
{
  g_autoptr(Login) scan = log_in(f, "scan");
  g_autoptr(Login) qa = log_in(f, "qa");
  g_autoptr(Reply) search = call(f, "GET", "/api/v1/search?q=walked", scan, NULL);
  g_autoptr(Reply) batches = call(f, "GET", "/api/v1/batches", scan, NULL);
  g_autoptr(Reply) audit = call(f, "GET", "/api/v1/audit", qa, NULL);
  const gchar *message;

  g_assert_cmpuint(search->status, ==, 403);
  g_assert_cmpstr(error_code(search), ==, "forbidden");
  message = json_object_get_string_member(json_object_get_object_member(obj(search), "error"), "message");
  g_assert_nonnull(strstr(message, "read-charts"));
  g_assert_cmpuint(batches->status, ==, 200);
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(obj(batches), "batches")), ==, 1);
  g_assert_cmpuint(audit->status, ==, 403);
}

/* A restricted document is 404 to a user without the grant, exactly as a
 * missing one, and stays out of search results and facets. */
static void
test_restricted(Fixture *f, gconstpointer data)
{
  g_autoptr(Login) arch = log_in(f, "arch");
  g_autofree gchar *secret = g_strdup_printf("/api/v1/documents/%" G_GINT64_FORMAT, f->secret);
  g_autofree gchar *filed = g_strdup_printf("/api/v1/documents/%" G_GINT64_FORMAT, f->filed);
  g_autoptr(Reply) r_secret = call(f, "GET", secret, arch, NULL);
  g_autoptr(Reply) r_missing = call(f, "GET", "/api/v1/documents/999999", arch, NULL);
  g_autoptr(Reply) r_filed = call(f, "GET", filed, arch, NULL);
  g_autoptr(Reply) r_search = call(f, "GET", "/api/v1/search?q=session", arch, NULL);
  g_autoptr(Reply) r_types = call(f, "GET", "/api/v1/types", arch, NULL);
  JsonArray *types;

  g_assert_cmpuint(r_secret->status, ==, 404);
  g_assert_cmpstr(error_code(r_secret), ==, "not-found");
  g_assert_cmpuint(r_missing->status, ==, 404);
  g_assert_cmpuint(r_filed->status, ==, 200);
  g_assert_cmpstr(json_object_get_string_member(obj(r_filed), "type_label"), ==, "Progress note");
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(obj(r_filed), "pages")), ==, 2);
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(obj(r_filed), "holds")), ==, 1);
  g_assert_cmpint(json_object_get_int_member(obj(r_search), "total"), ==, 0);
  types = json_object_get_array_member(obj(r_types), "types");
  for (guint i = 0; i < json_array_get_length(types); i++)
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(types, i), "name"), !=,
                    "psychotherapy-note");
}

/* Search gives the total and facets by type and year, highlighted
 * snippets, and 400 naming a bad parameter. */
static void
test_search(Fixture *f, gconstpointer data)
{
  g_autoptr(Login) arch = log_in(f, "arch");
  g_autoptr(Reply) r = call(f, "GET", "/api/v1/search?q=walked&limit=1", arch, NULL);
  g_autoptr(Reply) typed = call(f, "GET", "/api/v1/search?q=walked&type=progress-note", arch, NULL);
  g_autoptr(Reply) bad_date = call(f, "GET", "/api/v1/search?q=walked&from=2024-13-01", arch, NULL);
  g_autoptr(Reply) bad_limit = call(f, "GET", "/api/v1/search?q=walked&limit=zero", arch, NULL);
  g_autoptr(Reply) by_mrn = call(f, "GET", "/api/v1/search?q=MRN001", arch, NULL);
  JsonObject *facets, *hit;
  JsonArray *snippet;
  gboolean highlighted = FALSE;

  g_assert_cmpuint(r->status, ==, 200);
  /* progress-note, discharge summary, consultation (in review); the
   * restricted one is not counted */
  g_assert_cmpint(json_object_get_int_member(obj(r), "total"), ==, 3);
  g_assert_false(json_object_get_boolean_member(obj(r), "total_is_estimate"));
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(obj(r), "hits")), ==, 1);
  facets = json_object_get_object_member(obj(r), "facets");
  g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(facets, "type"), "progress-note"), ==, 1);
  g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(facets, "year"), "2024"), ==, 2);
  g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(facets, "year"), "2023"), ==, 1);
  g_assert_cmpstr(json_array_get_string_element(json_object_get_array_member(obj(r), "terms"), 0), ==, "walked");
  hit = json_array_get_object_element(json_object_get_array_member(obj(r), "hits"), 0);
  g_assert_cmpint(json_object_get_int_member(hit, "seq"), ==, 0);
  snippet = json_object_get_array_member(hit, "snippet");
  for (guint i = 0; i < json_array_get_length(snippet); i++) {
    JsonObject *seg = json_array_get_object_element(snippet, i);
    if (json_object_get_boolean_member(seg, "hit")) {
      g_assert_cmpstr(json_object_get_string_member(seg, "text"), ==, "walked");
      highlighted = TRUE;
    }
  }
  g_assert_true(highlighted);

  g_assert_cmpint(json_object_get_int_member(obj(typed), "total"), ==, 1);
  g_assert_cmpuint(bad_date->status, ==, 400);
  g_assert_nonnull(
      strstr(json_object_get_string_member(json_object_get_object_member(obj(bad_date), "error"), "message"), "from"));
  g_assert_cmpuint(bad_limit->status, ==, 400);
  g_assert_nonnull(strstr(
      json_object_get_string_member(json_object_get_object_member(obj(bad_limit), "error"), "message"), "limit"));
  /* an MRN as q: that patient's documents, and the patient */
  g_assert_cmpuint(by_mrn->status, ==, 200);
  g_assert_cmpint(json_object_get_int_member(obj(by_mrn), "total"), ==, 2);
  g_assert_cmpstr(json_object_get_string_member(
                      json_array_get_object_element(json_object_get_array_member(obj(by_mrn), "patients"), 0), "mrn"),
                  ==, "MRN001");
}

/* Patients by name and a chart with its documents by date. */
static void
test_patients(Fixture *f, gconstpointer data)
{
  g_autoptr(Login) arch = log_in(f, "arch");
  g_autoptr(Reply) found = call(f, "GET", "/api/v1/patients?q=doe", arch, NULL);
  g_autoptr(Reply) chart = call(f, "GET", "/api/v1/patients/MRN001", arch, NULL);
  g_autoptr(Reply) none = call(f, "GET", "/api/v1/patients/NOPE", arch, NULL);
  JsonArray *docs;

  g_assert_cmpint(json_array_get_length(json_object_get_array_member(obj(found), "patients")), ==, 2);
  g_assert_cmpuint(chart->status, ==, 200);
  docs = json_object_get_array_member(obj(chart), "documents");
  /* the restricted one is not in the chart */
  g_assert_cmpint(json_array_get_length(docs), ==, 2);
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(docs, 0), "date"), ==, "2023-04-05");
  g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(docs, 0), "pages"), ==, 2);
  /* the hold on the first document: on the chart, and that document held */
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(obj(chart), "holds")), ==, 1);
  g_assert_cmpstr(json_object_get_string_member(
                      json_array_get_object_element(json_object_get_array_member(obj(chart), "holds"), 0), "reason"),
                  ==, "litigation");
  g_assert_true(json_object_get_boolean_member(json_array_get_object_element(docs, 0), "held"));
  g_assert_false(json_object_get_boolean_member(json_array_get_object_element(docs, 1), "held"));
  g_assert_cmpuint(none->status, ==, 404);
}

/* The page image is a PNG of the width asked (height in proportion), with
 * an ETag that a conditional request matches; its words come in stored
 * pixels. */
static void
test_image_words(Fixture *f, gconstpointer data)
{
  g_autoptr(Login) arch = log_in(f, "arch");
  g_autofree gchar *path = g_strdup_printf("/api/v1/pages/%" G_GINT64_FORMAT "/image?width=400", f->page);
  g_autofree gchar *full = g_strdup_printf("/api/v1/pages/%" G_GINT64_FORMAT "/image", f->page);
  g_autofree gchar *too_big = g_strdup_printf("/api/v1/pages/%" G_GINT64_FORMAT "/image?width=5000", f->page);
  g_autofree gchar *words = g_strdup_printf("/api/v1/pages/%" G_GINT64_FORMAT "/words", f->page);
  g_autoptr(Reply) r = call(f, "GET", path, arch, NULL);
  g_autoptr(Reply) r_full = call(f, "GET", full, arch, NULL);
  g_autoptr(Reply) r_big = call(f, "GET", too_big, arch, NULL);
  g_autoptr(Reply) r_words = call(f, "GET", words, arch, NULL);
  g_autoptr(PIX) pix = NULL;
  g_autoptr(PIX) pix_full = NULL;
  JsonObject *w0;

  g_assert_cmpuint(r->status, ==, 200);
  g_assert_cmpstr(soup_message_headers_get_content_type(r->headers, NULL), ==, "image/png");
  g_assert_nonnull(soup_message_headers_get_one(r->headers, "ETag"));
  g_assert_cmpstr(soup_message_headers_get_one(r->headers, "Cache-Control"), ==, "private, max-age=3600");
  g_assert_cmpmem(g_bytes_get_data(r->body, NULL), 8, "\x89PNG\r\n\x1a\n", 8);
  pix = pixReadMem(g_bytes_get_data(r->body, NULL), g_bytes_get_size(r->body));
  g_assert_nonnull(pix);
  g_assert_cmpint(pixGetWidth(pix), ==, 400);
  g_assert_cmpint(pixGetHeight(pix), ==, 300);
  pix_full = pixReadMem(g_bytes_get_data(r_full->body, NULL), g_bytes_get_size(r_full->body));
  g_assert_cmpint(pixGetWidth(pix_full), ==, 800);
  g_assert_cmpuint(r_big->status, ==, 400);

  {
    /* the same image again, conditional: 304 */
    g_autofree gchar *uri = g_strconcat(f->url, path, NULL);
    g_autoptr(SoupMessage) msg = soup_message_new("GET", uri);
    g_autofree gchar *cookie = g_strdup_printf("cd_session=%s", arch->cookie);
    g_autoptr(GBytes) body = NULL;
    soup_message_headers_replace(soup_message_get_request_headers(msg), "Cookie", cookie);
    soup_message_headers_replace(soup_message_get_request_headers(msg), "If-None-Match",
                                 soup_message_headers_get_one(r->headers, "ETag"));
    body = soup_session_send_and_read(f->session, msg, NULL, NULL);
    g_assert_cmpuint(soup_message_get_status(msg), ==, 304);
  }

  g_assert_cmpuint(r_words->status, ==, 200);
  g_assert_cmpint(json_object_get_int_member(obj(r_words), "width"), ==, 800);
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(obj(r_words), "words")), ==, 4);
  w0 = json_array_get_object_element(json_object_get_array_member(obj(r_words), "words"), 1);
  g_assert_cmpstr(json_object_get_string_member(w0, "text"), ==, "walked");
  g_assert_cmpint(json_object_get_int_member(w0, "x"), ==, 160);
  g_assert_cmpint(json_object_get_int_member(w0, "w"), ==, 100);
  g_assert_cmpstr(json_object_get_string_member(obj(r_words), "text"), ==, "patient walked today cardiology");
}

/* The review queue shows the identifiers read from the page and the
 * candidates; a decision without why is 400; assigning with why files the
 * document and its audit entry names the indexer and the reason. */
static void
test_review(Fixture *f, gconstpointer data)
{
  g_autoptr(Login) qa = log_in(f, "qa");
  g_autoptr(Login) aud = log_in(f, "aud");
  g_autoptr(Reply) list = call(f, "GET", "/api/v1/review", qa, NULL);
  g_autoptr(Reply) no_why = NULL;
  g_autoptr(Reply) done = NULL;
  g_autoptr(Reply) audit = NULL;
  g_autoptr(Reply) csv = NULL;
  g_autofree gchar *assign = NULL;
  g_autofree gchar *csv_text = NULL;
  JsonObject *item, *ids, *best;
  JsonArray *entries;
  gboolean found = FALSE;

  g_assert_cmpuint(list->status, ==, 200);
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(obj(list), "items")), ==, 1);
  item = json_array_get_object_element(json_object_get_array_member(obj(list), "items"), 0);
  g_assert_cmpint(json_object_get_int_member(item, "document"), ==, f->waiting);
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(item, "pages")), ==, 2);
  ids = json_object_get_object_member(item, "identifiers");
  g_assert_cmpstr(json_object_get_string_member(ids, "mrn"), ==, "MRN002");
  best = json_array_get_object_element(json_object_get_array_member(item, "candidates"), 0);
  g_assert_cmpstr(json_object_get_string_member(best, "mrn"), ==, "MRN002");
  g_assert_cmpfloat(json_object_get_double_member(best, "score"), ==, 1.0);
  /* the namesake born another day: family matches, given and dob do not */
  {
    JsonObject *other = json_array_get_object_element(json_object_get_array_member(item, "candidates"), 1);
    g_assert_cmpstr(json_object_get_string_member(other, "mrn"), ==, "MRN003");
    g_autofree gchar *mismatches = json_to_string(json_object_get_member(other, "mismatches"), FALSE);
    g_autofree gchar *matches = json_to_string(json_object_get_member(other, "matches"), FALSE);
    g_assert_cmpstr(mismatches, ==, "[\"mrn\",\"given\",\"dob\"]");
    g_assert_cmpstr(matches, ==, "[\"family\"]");
  }

  /* nobody works it yet; the indexer takes it (no reason asked: it decides
   * nothing), gives it back, takes it again; an auditor may not */
  g_assert_true(json_object_get_null_member(item, "assignee"));
  {
    gint64 item_id = json_object_get_int_member(item, "id");
    g_autofree gchar *claim = g_strdup_printf("/api/v1/review/%" G_GINT64_FORMAT "/claim", item_id);
    g_autofree gchar *unclaim = g_strdup_printf("/api/v1/review/%" G_GINT64_FORMAT "/unclaim", item_id);
    g_autofree gchar *one = g_strdup_printf("/api/v1/review/%" G_GINT64_FORMAT, item_id);
    g_autoptr(Reply) taken = call(f, "POST", claim, qa, "{}");
    g_autoptr(Reply) refused = call(f, "POST", claim, aud, "{}");
    g_autoptr(Reply) back = NULL;
    g_autoptr(Reply) again = NULL;
    g_autoptr(Reply) shown = NULL;

    g_assert_cmpuint(taken->status, ==, 200);
    g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(obj(taken), "item"), "assignee"), ==,
                    "qa");
    g_assert_cmpuint(refused->status, ==, 403);
    back = call(f, "POST", unclaim, qa, "{}");
    g_assert_cmpuint(back->status, ==, 200);
    g_assert_true(json_object_get_null_member(json_object_get_object_member(obj(back), "item"), "assignee"));
    again = call(f, "POST", claim, qa, "{}");
    g_assert_cmpuint(again->status, ==, 200);
    shown = call(f, "GET", one, qa, NULL);
    g_assert_cmpstr(json_object_get_string_member(obj(shown), "assignee"), ==, "qa");
    g_assert_nonnull(json_object_get_string_member(obj(shown), "assigned"));
  }

  assign = g_strdup_printf("/api/v1/review/%" G_GINT64_FORMAT "/assign", json_object_get_int_member(item, "id"));
  no_why = call(f, "POST", assign, qa, "{\"mrn\": \"MRN002\"}");
  g_assert_cmpuint(no_why->status, ==, 400);
  g_assert_nonnull(
      strstr(json_object_get_string_member(json_object_get_object_member(obj(no_why), "error"), "message"), "why"));
  done = call(f, "POST", assign, qa, "{\"mrn\": \"MRN002\", \"why\": \"header matches the index\"}");
  g_assert_cmpuint(done->status, ==, 200);
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(obj(done), "item"), "status"), ==,
                  "resolved");

  audit = call(f, "GET", "/api/v1/audit?user=qa", aud, NULL);
  g_assert_cmpuint(audit->status, ==, 200);
  entries = json_object_get_array_member(obj(audit), "entries");
  for (guint i = 0; i < json_array_get_length(entries); i++) {
    JsonObject *e = json_array_get_object_element(entries, i);
    if (g_strcmp0(json_object_get_string_member(e, "action"), "review-assign") == 0) {
      JsonObject *detail = json_object_get_object_member(e, "detail");
      g_assert_cmpstr(json_object_get_string_member(e, "user"), ==, "qa");
      g_assert_cmpstr(json_object_get_string_member(detail, "why"), ==, "header matches the index");
      g_assert_cmpstr(json_object_get_string_member(e, "mrn"), ==, "MRN002");
      found = TRUE;
    }
  }
  g_assert_true(found);
  found = FALSE;
  for (guint i = 0; i < json_array_get_length(entries); i++) {
    JsonObject *e = json_array_get_object_element(entries, i);
    found = found || g_strcmp0(json_object_get_string_member(e, "action"), "review-claim") == 0;
  }
  g_assert_true(found);

  /* the same as CSV, with a header row, as a download */
  csv = call(f, "GET", "/api/v1/audit?user=qa&format=csv", aud, NULL);
  g_assert_cmpuint(csv->status, ==, 200);
  g_assert_cmpstr(soup_message_headers_get_content_type(csv->headers, NULL), ==, "text/csv");
  g_assert_nonnull(strstr(soup_message_headers_get_one(csv->headers, "Content-Disposition"), "attachment"));
  csv_text = g_strndup(g_bytes_get_data(csv->body, NULL), g_bytes_get_size(csv->body));
  g_assert_true(g_str_has_prefix(csv_text, "id,time,user,action,"));
  g_assert_nonnull(strstr(csv_text, ",qa,review-assign,"));
}

/* Saved searches belong to their user: another user neither lists nor
 * deletes them. */
static void
test_saved_searches(Fixture *f, gconstpointer data)
{
  g_autoptr(Login) arch = log_in(f, "arch");
  g_autoptr(Login) arch2 = log_in(f, "arch2");
  g_autoptr(Reply) added =
      call(f, "POST", "/api/v1/saved-searches", arch, "{\"name\": \"walks\", \"query\": {\"q\": \"walked\"}}");
  g_autoptr(Reply) dup =
      call(f, "POST", "/api/v1/saved-searches", arch, "{\"name\": \"walks\", \"query\": {\"q\": \"other\"}}");
  g_autoptr(Reply) mine = call(f, "GET", "/api/v1/saved-searches", arch, NULL);
  g_autoptr(Reply) theirs = call(f, "GET", "/api/v1/saved-searches", arch2, NULL);
  g_autoptr(Reply) steal = NULL;
  g_autoptr(Reply) del = NULL;
  g_autofree gchar *path = NULL;
  JsonObject *search;

  g_assert_cmpuint(added->status, ==, 201);
  search = json_object_get_object_member(obj(added), "search");
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(search, "query"), "q"), ==, "walked");
  g_assert_cmpuint(dup->status, ==, 409);
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(obj(mine), "searches")), ==, 1);
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(obj(theirs), "searches")), ==, 0);
  path = g_strdup_printf("/api/v1/saved-searches/%" G_GINT64_FORMAT, json_object_get_int_member(search, "id"));
  steal = call(f, "DELETE", path, arch2, NULL);
  g_assert_cmpuint(steal->status, ==, 404);
  del = call(f, "DELETE", path, arch, NULL);
  g_assert_cmpuint(del->status, ==, 204);
}

/* openapi.json parses and describes every route of the contract. */
static void
test_openapi(Fixture *f, gconstpointer data)
{
  g_autoptr(Reply) r = call(f, "GET", "/api/v1/openapi.json", NULL, NULL);
  static const gchar *const routes[] = {
    "/session",
    "/types",
    "/search",
    "/patients",
    "/patients/{mrn}",
    "/documents/{id}",
    "/pages/{id}/image",
    "/pages/{id}/words",
    "/review",
    "/review/{id}",
    "/review/{id}/assign",
    "/review/{id}/split",
    "/review/{id}/merge",
    "/review/{id}/type",
    "/review/{id}/resolve",
    "/review/{id}/claim",
    "/review/{id}/unclaim",
    "/batches",
    "/events",
    "/audit",
    "/saved-searches",
    "/saved-searches/{id}",
    "/openapi.json",
    "/roi",
    "/roi/{id}",
    "/roi/{id}/documents",
    "/roi/{id}/approve",
    "/roi/{id}/cancel",
    "/roi/{id}/release",
    "/roi/{id}/packet",
    "/patients/{mrn}/disclosures",
  };
  JsonObject *paths;

  g_assert_cmpuint(r->status, ==, 200);
  g_assert_true(g_str_has_prefix(json_object_get_string_member(obj(r), "openapi"), "3.0"));
  paths = json_object_get_object_member(obj(r), "paths");
  for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
    if (!json_object_has_member(paths, routes[i]))
      g_test_message("openapi.json lacks %s", routes[i]);
    g_assert_true(json_object_has_member(paths, routes[i]));
  }
}

/* The screens come from the compiled-in resource with their content
 * types; nothing else is served. */
static void
test_static(Fixture *f, gconstpointer data)
{
  g_autoptr(Reply) index = call(f, "GET", "/", NULL, NULL);
  g_autoptr(Reply) js = call(f, "GET", "/static/app.js", NULL, NULL);
  g_autoptr(Reply) missing = call(f, "GET", "/static/../../etc/passwd", NULL, NULL);

  g_assert_cmpuint(index->status, ==, 200);
  g_assert_cmpstr(soup_message_headers_get_content_type(index->headers, NULL), ==, "text/html");
  g_assert_nonnull(soup_message_headers_get_one(index->headers, "Content-Security-Policy"));
  g_assert_cmpuint(js->status, ==, 200);
  g_assert_cmpstr(soup_message_headers_get_content_type(js->headers, NULL), ==, "text/javascript");
  g_assert_cmpuint(missing->status, ==, 404);
}

static const gchar *const idle_args[] = { "--idle-timeout", "2", NULL };

/* A session idle longer than the timeout ends: the next request is 401. */
static void
test_idle_timeout(Fixture *f, gconstpointer data)
{
  g_autoptr(Reply) first =
      call(f, "POST", "/api/v1/session", NULL, "{\"user\": \"arch\", \"password\": \"" PASSWORD "\"}");
  g_autoptr(Login) arch = log_in(f, "arch");
  gint64 start = g_get_monotonic_time();
  guint status = 200;

  g_assert_cmpuint(first->status, ==, 200);
  g_assert_cmpint(json_object_get_int_member(obj(first), "idle_timeout"), ==, 2);
  /* poll until it ends (each poll is itself activity, so wait between
   * them longer than the timeout); give up after a minute */
  while (status == 200 && g_get_monotonic_time() - start < 60 * G_USEC_PER_SEC) {
    g_autoptr(Reply) r = NULL;
    g_usleep(2500 * 1000);
    r = call(f, "GET", "/api/v1/session", arch, NULL);
    status = r->status;
    if (status == 401)
      g_assert_cmpstr(error_code(r), ==, "unauthenticated");
  }
  g_assert_cmpuint(status, ==, 401);
}

/* Under TLS (a self-signed certificate made with openssl) the API answers
 * over HTTPS and the cookie is Secure. */
static void
test_tls(void)
{
  Fixture fixture = { 0 };
  Fixture *f = &fixture;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *cert = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *openssl = g_find_program_in_path("openssl");
  g_autoptr(Reply) r = NULL;
  gint status = 0;

  if (openssl == NULL) {
    g_test_skip("openssl is not installed (Debian: openssl)");
    return;
  }
  make_fixture(f);
  cert = g_build_filename(f->dir, "cert.pem", NULL);
  key = g_build_filename(f->dir, "key.pem", NULL);
  {
    const gchar *argv[] = { openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",        "-keyout", key,
                            "-out",  cert,  "-days", "1",       "-subj",    "/CN=127.0.0.1", NULL };
    g_spawn_sync(NULL, (gchar **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                 NULL, &status, &error);
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
  }
  f->session = soup_session_new();
  {
    const gchar *args[] = { "--tls-certificate", cert, "--tls-key", key, NULL };
    start_server(f, args);
  }
  g_assert_true(g_str_has_prefix(f->url, "https://"));
  r = call(f, "POST", "/api/v1/session", NULL, "{\"user\": \"arch\", \"password\": \"" PASSWORD "\"}");
  g_assert_cmpuint(r->status, ==, 200);
  g_assert_nonnull(strstr(soup_message_headers_get_one(r->headers, "Set-Cookie"), "; Secure"));
  fixture_tear_down(f, NULL);
}

/* The event stream answers text/event-stream and sends an `event: batch`
 * for the archive's batches (chartdesk web polls the batches table). */
static void
test_events(Fixture *f, gconstpointer data)
{
  g_autoptr(Login) scan = log_in(f, "scan");
  g_autoptr(Login) arch = log_in(f, "arch");
  g_autoptr(Reply) refused = call(f, "GET", "/api/v1/events", arch, NULL);
  g_autofree gchar *uri = g_strconcat(f->url, "/api/v1/events", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new("GET", uri);
  g_autofree gchar *cookie = g_strdup_printf("cd_session=%s", scan->cookie);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  gboolean got_batch = FALSE;

  /* an archivist does not see batches */
  g_assert_cmpuint(refused->status, ==, 403);
  soup_message_headers_replace(soup_message_get_request_headers(msg), "Cookie", cookie);
  stream = soup_session_send(f->session, msg, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(soup_message_get_status(msg), ==, 200);
  g_assert_cmpstr(soup_message_headers_get_content_type(soup_message_get_response_headers(msg), NULL), ==,
                  "text/event-stream");
  lines = g_data_input_stream_new(stream);
  /* the first poll publishes the batch: within a few lines */
  for (guint i = 0; i < 10 && !got_batch; i++) {
    g_autofree gchar *line = g_data_input_stream_read_line_utf8(lines, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(line);
    if (g_str_has_prefix(line, "data: ")) {
      g_autoptr(JsonParser) parser = json_parser_new();
      JsonObject *event;
      json_parser_load_from_data(parser, line + 6, -1, &error);
      g_assert_no_error(error);
      event = json_node_get_object(json_parser_get_root(parser));
      g_assert_cmpint(json_object_get_int_member(event, "id"), ==, 1);
      g_assert_cmpstr(json_object_get_string_member(event, "status"), ==, "running");
      g_assert_cmpint(json_object_get_int_member(event, "pages_done"), ==, 8);
      got_batch = TRUE;
    }
  }
  g_assert_true(got_batch);
}

/* chartdeskd serves the same API when [web] listen is configured, with its
 * [web] idle-timeout. */
static void
test_chartdeskd(void)
{
  Fixture fixture = { 0 };
  Fixture *f = &fixture;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTestDBus) bus = g_test_dbus_new(G_TEST_DBUS_NONE);
  g_autofree gchar *config = NULL;
  g_autofree gchar *config_text = NULL;
  g_autofree gchar *state = NULL;
  g_autofree gchar *exe = g_test_build_filename(G_TEST_BUILT, "core", "service", "chartdeskd", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GDataInputStream) err = NULL;
  g_autoptr(Login) arch = NULL;
  g_autoptr(Reply) session = NULL;
  g_autoptr(Reply) search = NULL;

  make_fixture(f);
  g_test_dbus_up(bus);
  config = g_build_filename(f->dir, "chartdeskd.conf", NULL);
  state = g_build_filename(f->dir, "state", NULL);
  config_text = g_strdup_printf("[service]\narchive=%s\nusers=%s\nstate-dir=%s\n\n[web]\nlisten=127.0.0.1:0\n"
                                "idle-timeout=300\n",
                                f->archive, f->users, state);
  g_file_set_contents(config, config_text, -1, &error);
  g_assert_no_error(error);
  g_subprocess_launcher_setenv(launcher, "CHARTDESK_TAXONOMY", f->taxonomy, TRUE);
  g_subprocess_launcher_setenv(launcher, "DBUS_SESSION_BUS_ADDRESS", g_test_dbus_get_bus_address(bus), TRUE);
  g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
  f->proc = g_subprocess_launcher_spawn(launcher, &error, exe, "--config", config, NULL);
  g_assert_no_error(error);
  err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(f->proc));
  while (f->url == NULL) {
    g_autofree gchar *line = g_data_input_stream_read_line_utf8(err, NULL, NULL, &error);
    const gchar *at;
    g_assert_no_error(error);
    g_assert_nonnull(line);
    g_test_message("chartdeskd: %s", line);
    at = strstr(line, "web workstation at ");
    if (at != NULL) {
      f->url = g_strdup(at + strlen("web workstation at "));
      if (g_str_has_suffix(f->url, "/"))
        f->url[strlen(f->url) - 1] = '\0';
    }
  }
  f->session = soup_session_new();
  arch = log_in(f, "arch");
  session = call(f, "GET", "/api/v1/session", arch, NULL);
  g_assert_cmpint(json_object_get_int_member(obj(session), "idle_timeout"), ==, 300);
  search = call(f, "GET", "/api/v1/search?q=walked", arch, NULL);
  g_assert_cmpuint(search->status, ==, 200);
  g_assert_cmpint(json_object_get_int_member(obj(search), "total"), ==, 3);
  fixture_tear_down(f, NULL);
  g_test_dbus_down(bus);
}

/* Release of information over the web (issue 16), with roi.two-person on:
 * roi1 creates a request and adds a document, may not approve it herself,
 * roi2 does; the release answers the packet's SHA-256 and Bates range, and
 * GET /roi/{id}/packet is that PDF; a coder gets 403 everywhere; the
 * disclosure is in the patient's accounting and in the audit log. */
static void
roi_set_up(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  make_fixture(f);
  {
    g_autoptr(CdArchive) archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_WRITER, &error);
    g_assert_no_error(error);
    g_assert_true(cd_archive_set_setting(archive, CD_SETTING_ROI_TWO_PERSON, "true", &error));
    g_assert_no_error(error);
  }
  f->session = soup_session_new();
  start_server(f, data);
}

static gboolean
audit_has(JsonObject *audit, const gchar *action, const gchar *user)
{
  JsonArray *entries = json_object_get_array_member(audit, "entries");

  for (guint i = 0; i < json_array_get_length(entries); i++) {
    JsonObject *e = json_array_get_object_element(entries, i);
    if (g_strcmp0(json_object_get_string_member(e, "action"), action) == 0 &&
        g_strcmp0(json_object_get_string_member(e, "user"), user) == 0)
      return TRUE;
  }
  return FALSE;
}

static void
test_roi(Fixture *f, gconstpointer data)
{
  g_autoptr(Login) roi1 = log_in(f, "roi1");
  g_autoptr(Login) roi2 = log_in(f, "roi2");
  g_autoptr(Login) coder = log_in(f, "coder");
  g_autoptr(Login) aud = log_in(f, "aud");
  g_autoptr(Reply) created = NULL;
  g_autoptr(Reply) denied_new = NULL;
  g_autoptr(Reply) missing = NULL;
  g_autoptr(Reply) added = NULL;
  g_autoptr(Reply) no_csrf = NULL;
  g_autoptr(Reply) self_approve = NULL;
  g_autoptr(Reply) approved = NULL;
  g_autoptr(Reply) coder_get = NULL;
  g_autoptr(Reply) coder_release = NULL;
  g_autoptr(Reply) released = NULL;
  g_autoptr(Reply) packet = NULL;
  g_autoptr(Reply) coder_packet = NULL;
  g_autoptr(Reply) shown = NULL;
  g_autoptr(Reply) list = NULL;
  g_autoptr(Reply) disclosures = NULL;
  g_autoptr(Reply) audit = NULL;
  g_autoptr(Login) roi1_no_csrf = NULL;
  g_autofree gchar *base = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *body = NULL;
  g_autofree gchar *sha = NULL;
  JsonObject *req, *pk, *acc;
  gint64 id;
  const gchar *pdf;
  gsize pdf_len;

  missing = call(f, "POST", "/api/v1/roi", roi1, "{\"mrn\": \"MRN001\", \"requester\": \"Dr. Brown\"}");
  g_assert_cmpuint(missing->status, ==, 400);
  g_assert_cmpstr(error_code(missing), ==, "bad-request");
  g_assert_nonnull(
      strstr(json_object_get_string_member(json_object_get_object_member(obj(missing), "error"), "message"),
             "recipient_name"));

  body = g_strdup("{\"mrn\": \"MRN001\", \"requester\": \"Dr. Brown\", \"recipient_name\": \"Dr. Brown\","
                  " \"recipient_address\": \"1 Main St\", \"purpose\": \"continuity of care\","
                  " \"authorisation\": \"AUTH-7\", \"requested_by\": \"2026-12-31\"}");
  denied_new = call(f, "POST", "/api/v1/roi", coder, body);
  g_assert_cmpuint(denied_new->status, ==, 403);
  g_assert_cmpstr(error_code(denied_new), ==, "forbidden");

  created = call(f, "POST", "/api/v1/roi", roi1, body);
  g_assert_cmpuint(created->status, ==, 201);
  req = json_object_get_object_member(obj(created), "request");
  id = json_object_get_int_member(req, "id");
  g_assert_cmpint(id, >, 0);
  g_assert_cmpstr(json_object_get_string_member(req, "status"), ==, "draft");
  base = g_strdup_printf("/api/v1/roi/%" G_GINT64_FORMAT, id);

  /* a POST without the CSRF token is refused */
  roi1_no_csrf = g_new0(Login, 1);
  roi1_no_csrf->cookie = g_strdup(roi1->cookie);
  path = g_strconcat(base, "/documents", NULL);
  body = (g_free(body), g_strdup_printf("{\"documents\": [%" G_GINT64_FORMAT "]}", f->filed));
  no_csrf = call(f, "POST", path, roi1_no_csrf, body);
  g_assert_cmpuint(no_csrf->status, ==, 403);
  g_assert_cmpstr(error_code(no_csrf), ==, "csrf");

  added = call(f, "POST", path, roi1, body);
  g_assert_cmpuint(added->status, ==, 200);
  req = json_object_get_object_member(obj(added), "request");
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(req, "documents")), ==, 1);

  /* two-person: the one who prepared it may not approve it */
  g_free(path);
  path = g_strconcat(base, "/approve", NULL);
  self_approve = call(f, "POST", path, roi1, "{}");
  g_assert_cmpuint(self_approve->status, ==, 403);
  g_assert_cmpstr(error_code(self_approve), ==, "forbidden");
  approved = call(f, "POST", path, roi2, "{}");
  g_assert_cmpuint(approved->status, ==, 200);
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(obj(approved), "request"), "status"), ==,
                  "approved");

  coder_get = call(f, "GET", base, coder, NULL);
  g_assert_cmpuint(coder_get->status, ==, 403);
  g_free(path);
  path = g_strconcat(base, "/release", NULL);
  coder_release = call(f, "POST", path, coder, "{}");
  g_assert_cmpuint(coder_release->status, ==, 403);

  released = call(f, "POST", path, roi1, "{}");
  g_assert_cmpuint(released->status, ==, 200);
  pk = json_object_get_object_member(obj(released), "packet");
  g_assert_cmpuint(strlen(json_object_get_string_member(pk, "sha256")), ==, 64);
  g_assert_cmpstr(json_object_get_string_member(pk, "bates_first"), !=, "");
  g_assert_cmpstr(json_object_get_string_member(pk, "bates_last"), !=, "");
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(obj(released), "request"), "status"), ==,
                  "released");

  g_free(path);
  path = g_strconcat(base, "/packet", NULL);
  coder_packet = call(f, "GET", path, coder, NULL);
  g_assert_cmpuint(coder_packet->status, ==, 403);
  packet = call(f, "GET", path, roi2, NULL);
  g_assert_cmpuint(packet->status, ==, 200);
  g_assert_cmpstr(soup_message_headers_get_content_type(packet->headers, NULL), ==, "application/pdf");
  pdf = g_bytes_get_data(packet->body, &pdf_len);
  g_assert_cmpuint(pdf_len, >, 5);
  g_assert_true(memcmp(pdf, "%PDF", 4) == 0);
  sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, packet->body);
  g_assert_cmpstr(sha, ==, json_object_get_string_member(pk, "sha256"));

  shown = call(f, "GET", base, roi2, NULL);
  g_assert_cmpuint(shown->status, ==, 200);
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(obj(shown), "request"), "status"), ==,
                  "released");
  list = call(f, "GET", "/api/v1/roi?status=released&mrn=MRN001", roi2, NULL);
  g_assert_cmpuint(list->status, ==, 200);
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(obj(list), "requests")), ==, 1);

  disclosures = call(f, "GET", "/api/v1/patients/MRN001/disclosures", roi2, NULL);
  g_assert_cmpuint(disclosures->status, ==, 200);
  acc = obj(disclosures);
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(acc, "disclosures")), ==, 1);
  {
    g_autoptr(Reply) coder_acc = call(f, "GET", "/api/v1/patients/MRN001/disclosures", coder, NULL);
    g_assert_cmpuint(coder_acc->status, ==, 403);
  }

  /* a second request, cancelled: a reason is needed; a released one cannot be */
  {
    g_autoptr(Reply) second = call(f, "POST", "/api/v1/roi", roi1,
                                   "{\"mrn\": \"MRN001\", \"requester\": \"Acme Insurance\", \"recipient_name\": "
                                   "\"Acme\", \"purpose\": \"claim\", \"authorisation\": \"AUTH-8\"}");
    g_autoptr(Reply) no_why = NULL;
    g_autoptr(Reply) cancelled = NULL;
    g_autoptr(Reply) again = NULL;
    g_autofree gchar *cancel = NULL;
    g_autofree gchar *cancel_released = g_strconcat(base, "/cancel", NULL);

    g_assert_cmpuint(second->status, ==, 201);
    cancel = g_strdup_printf("/api/v1/roi/%" G_GINT64_FORMAT "/cancel",
                             json_object_get_int_member(json_object_get_object_member(obj(second), "request"), "id"));
    no_why = call(f, "POST", cancel, roi1, "{}");
    g_assert_cmpuint(no_why->status, ==, 400);
    cancelled = call(f, "POST", cancel, roi1, "{\"why\": \"withdrawn by the requester\"}");
    g_assert_cmpuint(cancelled->status, ==, 200);
    g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(obj(cancelled), "request"), "status"),
                    ==, "cancelled");
    again = call(f, "POST", cancel_released, roi1, "{\"why\": \"too late\"}");
    g_assert_cmpuint(again->status, ==, 400);
  }

  audit = call(f, "GET", "/api/v1/audit?limit=500", aud, NULL);
  g_assert_cmpuint(audit->status, ==, 200);
  g_assert_true(audit_has(obj(audit), "disclosure", "roi1"));
  g_assert_true(audit_has(obj(audit), "roi-approve", "roi2"));
  g_assert_true(audit_has(obj(audit), "roi-reproduce", "roi2"));
}

gint
main(gint argc, gchar **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_summary("The web API served by `chartdesk web`, as a browser uses it.");
  if (sodium_init() < 0)
    return 1;
#define ADD(path, fn, args) g_test_add("/chartdesk/web/" path, Fixture, args, fixture_set_up, fn, fixture_tear_down)
  ADD("login", test_login, NULL);
  ADD("session-csrf", test_session_csrf, NULL);
  ADD("roles", test_roles, NULL);
  ADD("restricted", test_restricted, NULL);
  ADD("search", test_search, NULL);
  ADD("patients", test_patients, NULL);
  ADD("image-words", test_image_words, NULL);
  ADD("review-audit", test_review, NULL);
  ADD("saved-searches", test_saved_searches, NULL);
  ADD("openapi", test_openapi, NULL);
  ADD("static", test_static, NULL);
  ADD("idle-timeout", test_idle_timeout, idle_args);
  ADD("events", test_events, NULL);
#undef ADD
  g_test_add("/chartdesk/web/roi", Fixture, NULL, roi_set_up, test_roi, fixture_tear_down);
  g_test_add_func("/chartdesk/web/tls", test_tls);
  g_test_add_func("/chartdesk/web/chartdeskd", test_chartdeskd);
  return g_test_run();
}
