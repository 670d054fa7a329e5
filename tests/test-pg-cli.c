/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The command line on the PostgreSQL archive (issue 18, part 2), for
 * real: samples/ ingested with OCR into a SQLite archive, a PostgreSQL 15
 * cluster started by the test (tests/cd-pg-cluster.c), and the built
 * `chartdesk` run as a user runs it: `archive copy` into the server and
 * back, `archive deliver`, `search` and `show` on the server, and the
 * errors of a bad URI and a server that is down.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <json-glib/json-glib.h>

#include "cd-pg-cluster-ctl.h"
#include "cd-test-util.h"

static CdPgCluster *cluster;
static gchar *workdir;  /* for the binary */
static gchar *spool;    /* samples/ ingested, made once */
static guint databases; /* each test its own database */

/* samples/ with its patient index into a SQLite archive, once. */
static const gchar *
samples_archive(void)
{
  g_autofree gchar *mpi = g_test_build_filename(G_TEST_DIST, "samples", "mpi.csv", NULL);
  g_autofree gchar *folder = g_test_build_filename(G_TEST_DIST, "samples", NULL);
  g_auto(CdTestRun) r1 = { 0 };
  g_auto(CdTestRun) r2 = { 0 };

  if (spool != NULL)
    return spool;
  spool = g_build_filename(workdir, "samples.archive", NULL);
  cd_test_chartdesk(&r1, "mpi", "import", spool, mpi, NULL);
  g_assert_cmpint(r1.status, ==, 0);
  cd_test_chartdesk(&r2, "ingest", "--quiet", spool, folder, NULL);
  g_assert_cmpint(r2.status, ==, 0);
  return spool;
}

/* A new database of the cluster: its URI, its name in @name. */
static gchar *
new_database(gchar **name)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *db = g_strdup_printf("cli%u", ++databases);
  gchar *uri = cd_pg_cluster_create_database(cluster, db, &error);
  g_assert_no_error(error);
  if (name != NULL)
    *name = g_steal_pointer(&db);
  return uri;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

/* The hits of `search --json` as sorted `FILE#PAGE` keys (page ids differ
 * between archives; what was scanned does not), and the total. */
static gchar *
search_keys(const gchar *archive, const gchar *const *words, guint64 *total)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new();
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
  g_auto(CdTestRun) r = { 0 };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *hits;

  g_ptr_array_add(args, (gpointer) "search");
  g_ptr_array_add(args, (gpointer) "--json");
  g_ptr_array_add(args, (gpointer) "--no-service");
  g_ptr_array_add(args, (gpointer) "--limit");
  g_ptr_array_add(args, (gpointer) "100");
  g_ptr_array_add(args, (gpointer) archive);
  for (guint i = 0; words[i] != NULL; i++)
    g_ptr_array_add(args, (gpointer) words[i]);
  g_ptr_array_add(args, NULL);
  /* --no-service means nothing on a server, and is accepted */
  cd_test_chartdesk_v(&r, (const gchar *const *) args->pdata);
  g_assert_cmpint(r.status, ==, 0);
  root = json_from_string(r.out, &error);
  g_assert_no_error(error);
  hits = json_object_get_array_member(json_node_get_object(root), "hits");
  for (guint i = 0; i < json_array_get_length(hits); i++) {
    JsonObject *source = json_object_get_object_member(json_array_get_object_element(hits, i), "source");
    g_autofree gchar *base = g_path_get_basename(json_object_get_string_member(source, "path"));
    g_ptr_array_add(keys, g_strdup_printf("%s#%" G_GINT64_FORMAT, base, json_object_get_int_member(source, "page")));
  }
  g_ptr_array_sort(keys, compare_strings);
  if (total != NULL)
    *total = json_object_get_int_member_with_default(json_node_get_object(root), "total", json_array_get_length(hits));
  g_ptr_array_add(keys, NULL);
  return g_strjoinv(" ", (gchar **) keys->pdata);
}

/* The same searches give the same pages on @a and @b. */
static void
assert_same_searches(const gchar *a, const gchar *b)
{
  const gchar *queries[][4] = {
    { "pneumonia", NULL },
    { "patient", NULL },
    { "--type", "discharge-summary", NULL },
    { "--mrn", "08570054", NULL },
    { "--from", "2000-01-01", "--to", NULL },
  };
  guint found = 0;

  for (guint i = 0; i < G_N_ELEMENTS(queries); i++) {
    const gchar *words[5] = { 0 };
    guint64 ta = 0, tb = 0;
    g_autofree gchar *ka = NULL;
    g_autofree gchar *kb = NULL;
    for (guint j = 0; j < 4 && queries[i][j] != NULL; j++)
      words[j] = queries[i][j];
    if (g_strcmp0(words[0], "--from") == 0)
      words[3] = "2099-12-31";
    ka = search_keys(a, words, &ta);
    kb = search_keys(b, words, &tb);
    g_test_message("%s: %s | %s", words[0], ka, kb);
    g_assert_cmpstr(ka, ==, kb);
    g_assert_cmpuint(ta, ==, tb);
    if (ka[0] != '\0')
      found++;
  }
  /* the queries find something: the comparison is not of empty lists */
  g_assert_cmpuint(found, >=, 3);
}

/* `archive copy` into the server delivers as copy:BASENAME and verifies
 * (counts and hashes printed, "Verified"); again, it has nothing to add;
 * copied back into a new SQLite file, the archive checks clean; search
 * finds the same pages on all three. */
static void
test_pg_cli_copy(void)
{
  const gchar *archive;
  g_autofree gchar *uri = NULL;
  g_autofree gchar *dbname = NULL;
  g_autofree gchar *back = NULL;
  g_auto(CdTestRun) r1 = { 0 };
  g_auto(CdTestRun) r2 = { 0 };
  g_auto(CdTestRun) r3 = { 0 };
  g_auto(CdTestRun) r4 = { 0 };
  g_auto(CdTestRun) r5 = { 0 };
  g_autoptr(JsonNode) again = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *o;

  if (cluster == NULL) {
    g_test_skip(cd_pg_cluster_missing());
    return;
  }
  archive = samples_archive();
  uri = new_database(&dbname);
  cd_test_chartdesk(&r1, "archive", "copy", archive, uri, NULL);
  g_test_message("%s%s", r1.out, r1.err);
  g_assert_cmpint(r1.status, ==, 0);
  g_assert_nonnull(strstr(r1.out, "as station copy:samples.archive"));
  g_assert_nonnull(strstr(r1.out, "Verified"));
  g_assert_null(strstr(r1.out, "MISMATCH"));

  cd_test_chartdesk(&r2, "archive", "copy", "--json", archive, uri, NULL);
  g_assert_cmpint(r2.status, ==, 0);
  again = json_from_string(r2.out, &error);
  g_assert_no_error(error);
  o = json_node_get_object(again);
  g_assert_true(json_object_get_boolean_member(o, "verified"));
  g_assert_true(json_object_get_boolean_member(o, "hashes_compared"));
  g_assert_cmpint(json_object_get_int_member(o, "delivered"), ==, 0);
  g_assert_cmpint(json_object_get_int_member(o, "already"), ==, json_object_get_int_member(o, "source_documents"));
  g_assert_cmpint(json_object_get_int_member(o, "source_documents"), >, 0);
  /* the page texts by file and page are compared, and agree */
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(o, "source"), "source_texts_sha256"), ==,
                  json_object_get_string_member(json_object_get_object_member(o, "server"), "source_texts_sha256"));

  /* one page's text changed on the server behind the copy's back: the
   * copy's verification catches it (texts by file and page), then the
   * text is put back */
  {
    PGconn *raw = PQconnectdb(uri);
    PGresult *res;
    g_auto(CdTestRun) rc = { 0 };
    g_autoptr(JsonNode) root = NULL;
    JsonObject *ro;
    g_assert_cmpint(PQstatus(raw), ==, CONNECTION_OK);
    res = PQexec(raw, "CREATE TEMP TABLE kept AS SELECT id, text FROM pages WHERE text IS NOT NULL ORDER BY id "
                      "DESC LIMIT 1; UPDATE pages p SET text = p.text || ' tampered' FROM kept k WHERE p.id = k.id");
    g_assert_cmpint(PQresultStatus(res), ==, PGRES_COMMAND_OK);
    PQclear(res);
    cd_test_chartdesk(&rc, "archive", "copy", "--json", archive, uri, NULL);
    g_test_message("%s%s", rc.out, rc.err);
    g_assert_cmpint(rc.status, !=, 0);
    root = json_from_string(rc.out, &error);
    g_assert_no_error(error);
    ro = json_node_get_object(root);
    g_assert_true(json_object_get_boolean_member(ro, "hashes_compared"));
    g_assert_false(json_object_get_boolean_member(ro, "verified"));
    g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(ro, "source"), "source_texts_sha256"),
                    !=,
                    json_object_get_string_member(json_object_get_object_member(ro, "server"), "source_texts_sha256"));
    /* the image hashes and counts still agree: it is the text that differs */
    g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(ro, "source"), "images_sha256"), ==,
                    json_object_get_string_member(json_object_get_object_member(ro, "server"), "images_sha256"));
    res = PQexec(raw, "UPDATE pages p SET text = k.text FROM kept k WHERE p.id = k.id");
    g_assert_cmpint(PQresultStatus(res), ==, PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(raw);
  }

  back = g_build_filename(workdir, "back.archive", NULL);
  cd_test_chartdesk(&r3, "archive", "copy", uri, back, NULL);
  g_test_message("%s%s", r3.out, r3.err);
  g_assert_cmpint(r3.status, ==, 0);
  cd_test_chartdesk(&r4, "check", back, NULL);
  g_test_message("%s%s", r4.out, r4.err);
  g_assert_cmpint(r4.status, ==, 0);
  /* run again on the finished copy: nothing to continue, verified again;
   * onto an archive that is no copy of this server: refused, untouched */
  {
    g_auto(CdTestRun) ra = { 0 };
    g_auto(CdTestRun) rb = { 0 };
    cd_test_chartdesk(&ra, "archive", "copy", uri, back, NULL);
    g_assert_cmpint(ra.status, ==, 0);
    g_assert_nonnull(strstr(ra.out, "verified"));
    cd_test_chartdesk(&rb, "archive", "copy", uri, archive, NULL);
    g_assert_cmpint(rb.status, ==, 2);
    g_assert_nonnull(strstr(rb.err, "is not an unfinished copy"));
    g_assert_null(strstr(rb.err, "run the same command again"));
  }

  assert_same_searches(archive, uri);
  assert_same_searches(archive, back);

  /* a document of the server, shown */
  {
    const gchar *words[] = { "pneumonia", NULL };
    g_auto(CdTestRun) rs = { 0 };
    g_autoptr(JsonNode) root = NULL;
    JsonArray *hits;
    gint64 doc;
    g_autofree gchar *ref = NULL;
    g_autofree gchar *png = g_build_filename(workdir, "page.png", NULL);
    g_autofree gchar *keys = search_keys(uri, words, NULL);
    cd_test_chartdesk(&rs, "search", "--json", "--purpose", "ROI-2026-0042", uri, "pneumonia", NULL);
    g_assert_cmpint(rs.status, ==, 0);
    root = json_from_string(rs.out, &error);
    g_assert_no_error(error);
    hits = json_object_get_array_member(json_node_get_object(root), "hits");
    g_assert_cmpuint(json_array_get_length(hits), >, 0);
    doc = json_object_get_int_member(json_array_get_object_element(hits, 0), "document");
    ref = g_strdup_printf("document:%" G_GINT64_FORMAT, doc);
    cd_test_chartdesk(&r5, "show", "--json", "--purpose", "ROI-2026-0042", "--image", png, uri, ref, NULL);
    g_test_message("%s%s", r5.out, r5.err);
    g_assert_cmpint(r5.status, ==, 0);
    /* the purpose is in the server's audit entries of the search, the
     * document and its image, as it is in a SQLite archive's */
    g_assert_cmpint(cd_pg_cluster_count(cluster, dbname,
                                        "SELECT count(*) FROM audit WHERE station IS NULL AND action IN "
                                        "('search', 'view', 'view-image') AND detail LIKE '%ROI-2026-0042%'"),
                    ==, 3);
    g_assert_nonnull(strstr(r5.out, "\"pages\""));
    g_assert_true(g_file_test(png, G_FILE_TEST_IS_REGULAR));
    g_assert_nonnull(keys);
  }
}

/* `archive deliver` is one delivery pass: everything the first time,
 * nothing but "already" the second; --station is required. */
static void
test_pg_cli_deliver(void)
{
  const gchar *archive;
  g_autofree gchar *uri = NULL;
  g_autofree gchar *database = NULL;
  g_auto(CdTestRun) r1 = { 0 };
  g_auto(CdTestRun) r2 = { 0 };
  g_auto(CdTestRun) r3 = { 0 };
  g_autoptr(JsonNode) first = NULL;
  g_autoptr(JsonNode) second = NULL;
  g_autoptr(GError) error = NULL;

  if (cluster == NULL) {
    g_test_skip(cd_pg_cluster_missing());
    return;
  }
  archive = samples_archive();
  uri = new_database(&database);
  cd_test_chartdesk(&r1, "archive", "deliver", archive, uri, NULL);
  g_assert_cmpint(r1.status, ==, 2);
  g_assert_nonnull(strstr(r1.err, "--station"));

  cd_test_chartdesk(&r2, "archive", "deliver", "--json", "--station", "scan-1", archive, uri, NULL);
  g_assert_cmpint(r2.status, ==, 0);
  first = json_from_string(r2.out, &error);
  g_assert_no_error(error);
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(first), "documents"), >, 0);
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(first), "pages"), >,
                  json_object_get_int_member(json_node_get_object(first), "documents") - 1);
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(first), "already"), ==, 0);

  cd_test_chartdesk(&r3, "archive", "deliver", "--json", "--station", "scan-1", archive, uri, NULL);
  g_assert_cmpint(r3.status, ==, 0);
  second = json_from_string(r3.out, &error);
  g_assert_no_error(error);
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(second), "documents"), ==, 0);
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(second), "already"), ==,
                  json_object_get_int_member(json_node_get_object(first), "documents"));
  g_assert_cmpint(cd_pg_cluster_count(cluster, database, "SELECT count(*) FROM deliveries WHERE station = 'scan-1'"),
                  ==, json_object_get_int_member(json_node_get_object(first), "documents"));
}

/* A bad URI, a server that is down, a missing source: an error naming
 * the server (never its password) or the file, exit status 1. */
static void
test_pg_cli_errors(void)
{
  g_autofree gchar *down_dir = g_build_filename(workdir, "no-server", NULL);
  g_autofree gchar *down = g_strdup_printf("postgresql://chartdesk:s3cret@/charts?host=%s", down_dir);
  g_autofree gchar *missing = g_build_filename(workdir, "missing.archive", NULL);
  g_autofree gchar *target = g_build_filename(workdir, "target.archive", NULL);
  const gchar *bad = "postgresql://chartdesk@/charts?nosuchoption=1";
  g_auto(CdTestRun) r1 = { 0 };
  g_auto(CdTestRun) r2 = { 0 };
  g_auto(CdTestRun) r3 = { 0 };
  g_auto(CdTestRun) r4 = { 0 };
  g_auto(CdTestRun) r5 = { 0 };
  g_auto(CdTestRun) r6 = { 0 };

  g_assert_cmpint(g_mkdir_with_parents(down_dir, 0700), ==, 0);
  /* no server listens there */
  cd_test_chartdesk(&r1, "search", down, "pneumonia", NULL);
  g_assert_cmpint(r1.status, ==, 1);
  g_assert_nonnull(strstr(r1.err, "postgresql://chartdesk@/charts"));
  g_assert_null(strstr(r1.err, "s3cret"));

  cd_test_chartdesk(&r2, "show", down, "document:1", NULL);
  g_assert_cmpint(r2.status, ==, 1);
  g_assert_nonnull(strstr(r2.err, "postgresql://chartdesk@/charts"));
  g_assert_null(strstr(r2.err, "s3cret"));

  cd_test_chartdesk(&r3, "archive", "copy", down, target, NULL);
  g_assert_cmpint(r3.status, ==, 1);
  g_assert_nonnull(strstr(r3.err, "postgresql://chartdesk@/charts"));
  g_assert_false(g_file_test(target, G_FILE_TEST_EXISTS));

  /* legal holds on a server that is down: named, exit 1 */
  {
    g_auto(CdTestRun) rh = { 0 };
    cd_test_chartdesk(&rh, "hold", "list", down, NULL);
    g_assert_cmpint(rh.status, ==, 1);
    g_assert_nonnull(strstr(rh.err, "postgresql://chartdesk@/charts"));
    g_assert_null(strstr(rh.err, "s3cret"));
  }

  /* a URI libpq refuses */
  cd_test_chartdesk(&r4, "search", bad, "pneumonia", NULL);
  g_assert_cmpint(r4.status, ==, 1);
  g_assert_nonnull(strstr(r4.err, bad));
  g_assert_nonnull(strstr(r4.err, "nosuchoption"));

  /* the source must exist: nothing is created on the server for it */
  cd_test_chartdesk(&r5, "archive", "copy", missing, down, NULL);
  g_assert_cmpint(r5.status, ==, 1);
  g_assert_nonnull(strstr(r5.err, missing));

  /* neither side a server */
  cd_test_chartdesk(&r6, "archive", "copy", missing, target, NULL);
  g_assert_cmpint(r6.status, ==, 2);
  g_assert_nonnull(strstr(r6.err, "postgresql://"));

  /* a command of the SQLite archive given the server: refused, nothing
   * created under a name made of the URI */
  {
    g_auto(CdTestRun) r7 = { 0 };
    g_auto(CdTestRun) r8 = { 0 };
    cd_test_chartdesk(&r7, "access", "report", down, NULL);
    g_assert_cmpint(r7.status, ==, 1);
    g_assert_nonnull(strstr(r7.err, "a PostgreSQL archive: this command needs a SQLite archive"));
    g_assert_null(strstr(r7.err, "s3cret"));
    /* `check` verifies a server's audit chains (test-pg-audit.c): one
     * that is down is named, its password never */
    cd_test_chartdesk(&r8, "check", down, NULL);
    g_assert_cmpint(r8.status, ==, 1);
    g_assert_nonnull(strstr(r8.err, "cannot connect"));
    g_assert_null(strstr(r8.err, "s3cret"));
  }
}

/* `hold … postgresql://…` as a user runs it: --json's array parsed, one
 * hold's object found by id. */
static JsonArray *
hold_list_json(const gchar *archive, const gchar *key, const gchar *const *extra, JsonNode **root)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new();
  g_auto(CdTestRun) r = { 0 };
  g_autoptr(GError) error = NULL;

  g_ptr_array_add(args, (gpointer) "hold");
  g_ptr_array_add(args, (gpointer) "list");
  g_ptr_array_add(args, (gpointer) archive);
  g_ptr_array_add(args, (gpointer) "--json");
  if (key != NULL) {
    g_ptr_array_add(args, (gpointer) "--audit-key");
    g_ptr_array_add(args, (gpointer) key);
  }
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add(args, (gpointer) extra[i]);
  g_ptr_array_add(args, NULL);
  cd_test_chartdesk_v(&r, (const gchar *const *) args->pdata);
  g_test_message("%s%s", r.out, r.err);
  g_assert_cmpint(r.status, ==, 0);
  *root = json_from_string(r.out, &error);
  g_assert_no_error(error);
  g_assert_true(JSON_NODE_HOLDS_ARRAY(*root));
  return json_node_get_array(*root);
}

static JsonObject *
hold_by_id(JsonArray *holds, gint64 id)
{
  for (guint i = 0; i < json_array_get_length(holds); i++) {
    JsonObject *h = json_array_get_object_element(holds, i);
    if (json_object_get_int_member(h, "id") == id)
      return h;
  }
  return NULL;
}

/* The members of a hold's JSON object, in order, joined by spaces. */
static gchar *
hold_members(JsonObject *hold)
{
  g_autoptr(GList) names = json_object_get_members(hold);
  g_autoptr(GString) out = g_string_new(NULL);

  for (GList *l = names; l != NULL; l = l->next)
    g_string_append_printf(out, "%s%s", out->len > 0 ? " " : "", (const gchar *) l->data);
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* The text line of hold @id in `hold list`'s output, up to " on " (the
 * time it was placed differs between runs), or NULL. */
static gchar *
hold_line(const gchar *out, gint64 id)
{
  g_autofree gchar *prefix = g_strdup_printf("hold %" G_GINT64_FORMAT "  ", id);
  const gchar *line = g_str_has_prefix(out, prefix) ? out : NULL;
  g_autofree gchar *search = g_strdup_printf("\n%s", prefix);
  const gchar *on;

  if (line == NULL && (line = strstr(out, search)) != NULL)
    line++;
  if (line == NULL || (on = strstr(line, " on ")) == NULL)
    return NULL;
  return g_strndup(line, on - line);
}

/* `hold add|list|release postgresql://…`: a patient and a document hold
 * placed (text and --json), listed (text, --json, by patient and by
 * document), one released (gone from the listing without --all, shown
 * released with it), released again, unknown, without a reason, the
 * saved-search hold and its filters refused with the SQLite archive's
 * exit statuses; the listing's text and JSON members are the SQLite
 * archive's; every action is in the server's chain, which verifies with
 * the key given by --audit-key (and without it the keyed chain refuses). */
static void
test_pg_cli_hold(void)
{
  const gchar *archive;
  const gchar *mrn = "08570054";
  g_autofree gchar *uri = NULL;
  g_autofree gchar *dbname = NULL;
  g_autofree gchar *key = g_build_filename(workdir, "hold-server.key", NULL);
  g_autofree gchar *local = g_build_filename(workdir, "hold.archive", NULL);
  g_autofree gchar *doc_arg = NULL;
  g_autofree gchar *sql = NULL;
  g_autofree gchar *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) placed = NULL;
  g_auto(CdTestRun) rc = { 0 };
  g_auto(CdTestRun) r1 = { 0 };
  g_auto(CdTestRun) r2 = { 0 };
  g_auto(CdTestRun) r3 = { 0 };
  g_auto(CdTestRun) r4 = { 0 };
  gint64 doc, patient_hold, document_hold = 0;
  guint8 bytes[32];
  gsize length = 0;

  if (cluster == NULL) {
    g_test_skip(cd_pg_cluster_missing());
    return;
  }
  archive = samples_archive();
  uri = new_database(&dbname);
  cd_test_chartdesk(&rc, "archive", "copy", archive, uri, NULL);
  g_assert_cmpint(rc.status, ==, 0);
  for (guint i = 0; i < sizeof(bytes); i++)
    bytes[i] = (guint8) g_random_int_range(0, 256);
  g_assert_true(g_file_set_contents(key, (const gchar *) bytes, sizeof(bytes), &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_chmod(key, 0600), ==, 0);
  /* the patient exists; the document held is another patient's, so the
   * listings by patient and by document each find one hold */
  sql = g_strdup_printf("SELECT count(*) FROM patients WHERE mrn = '%s'", mrn);
  g_assert_cmpint(cd_pg_cluster_count(cluster, dbname, sql), ==, 1);
  g_free(sql);
  sql = g_strdup_printf("SELECT min(id) FROM documents WHERE patient_mrn IS DISTINCT FROM '%s'", mrn);
  doc = cd_pg_cluster_count(cluster, dbname, sql);
  g_assert_cmpint(doc, >, 0);
  doc_arg = g_strdup_printf("%" G_GINT64_FORMAT, doc);

  /* placed: a patient hold (--json, --user beside the login) and a
   * document hold (text) */
  cd_test_chartdesk(&r1, "hold", "add", uri, "patient", mrn, "--reason", "Smith v. General", "--matter", "CASE-1",
                    "--user", "alice", "--json", "--audit-key", key, NULL);
  g_test_message("%s%s", r1.out, r1.err);
  g_assert_cmpint(r1.status, ==, 0);
  placed = json_from_string(r1.out, &error);
  g_assert_no_error(error);
  patient_hold = json_object_get_int_member(json_node_get_object(placed), "hold");
  g_assert_cmpint(patient_hold, >, 0);
  cd_test_chartdesk(&r2, "hold", "add", uri, "document", doc_arg, "--reason", "Audit 7", "--audit-key", key, NULL);
  g_test_message("%s%s", r2.out, r2.err);
  g_assert_cmpint(r2.status, ==, 0);
  g_assert_cmpint(sscanf(r2.out, "hold %" G_GINT64_FORMAT " placed", &document_hold), ==, 1);
  g_assert_cmpint(document_hold, >, patient_hold);

  /* listed as text: both, the patient's with its matter and who placed it */
  cd_test_chartdesk(&r3, "hold", "list", uri, "--audit-key", key, NULL);
  g_test_message("%s%s", r3.out, r3.err);
  g_assert_cmpint(r3.status, ==, 0);
  g_assert_true(g_str_has_suffix(r3.out, "\n2 holds\n"));
  {
    g_autofree gchar *line = hold_line(r3.out, patient_hold);
    g_autofree gchar *want = g_strdup_printf("hold %" G_GINT64_FORMAT "  patient %s  Smith v. General  matter CASE-1  "
                                             "placed by admin-mode:%s for alice",
                                             patient_hold, mrn, g_get_user_name());
    g_assert_cmpstr(line, ==, want);
  }
  {
    g_autofree gchar *line = hold_line(r3.out, document_hold);
    g_autofree gchar *want = g_strdup_printf("hold %" G_GINT64_FORMAT "  document %" G_GINT64_FORMAT
                                             "  Audit 7  matter -  placed by admin-mode:%s",
                                             document_hold, doc, g_get_user_name());
    g_assert_cmpstr(line, ==, want);
  }

  /* listed as JSON: each hold's members and values */
  {
    g_autoptr(JsonNode) root = NULL;
    JsonArray *holds = hold_list_json(uri, key, NULL, &root);
    JsonObject *p = hold_by_id(holds, patient_hold);
    JsonObject *d = hold_by_id(holds, document_hold);
    g_assert_cmpuint(json_array_get_length(holds), ==, 2);
    g_assert_nonnull(p);
    g_assert_nonnull(d);
    g_assert_cmpstr(json_object_get_string_member(p, "kind"), ==, "patient");
    g_assert_cmpstr(json_object_get_string_member(p, "mrn"), ==, mrn);
    g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(p, "document")));
    g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(p, "query")));
    g_assert_cmpstr(json_object_get_string_member(p, "matter"), ==, "CASE-1");
    g_assert_true(json_object_get_boolean_member(p, "active"));
    g_assert_cmpstr(json_object_get_string_member(d, "kind"), ==, "document");
    g_assert_cmpint(json_object_get_int_member(d, "document"), ==, doc);
    g_assert_cmpstr(json_object_get_string_member(d, "reason"), ==, "Audit 7");
  }
  /* by patient: theirs only; by document: the document's only */
  {
    const gchar *by_mrn[] = { "--mrn", mrn, NULL };
    const gchar *by_doc[] = { "--document", doc_arg, NULL };
    g_autoptr(JsonNode) a = NULL;
    g_autoptr(JsonNode) b = NULL;
    JsonArray *ha = hold_list_json(uri, key, by_mrn, &a);
    JsonArray *hb = hold_list_json(uri, key, by_doc, &b);
    g_assert_cmpuint(json_array_get_length(ha), ==, 1);
    g_assert_nonnull(hold_by_id(ha, patient_hold));
    g_assert_cmpuint(json_array_get_length(hb), ==, 1);
    g_assert_nonnull(hold_by_id(hb, document_hold));
  }

  /* refusals: the SQLite archive's exit statuses, nothing changed */
  {
    g_autofree gchar *id = g_strdup_printf("%" G_GINT64_FORMAT, document_hold);
    g_auto(CdTestRun) no_reason = { 0 };
    g_auto(CdTestRun) add_no_reason = { 0 };
    g_auto(CdTestRun) search = { 0 };
    g_auto(CdTestRun) text = { 0 };
    g_auto(CdTestRun) unknown = { 0 };
    g_auto(CdTestRun) nobody = { 0 };
    cd_test_chartdesk(&no_reason, "hold", "release", uri, id, "--audit-key", key, NULL);
    g_assert_cmpint(no_reason.status, ==, 2);
    g_assert_nonnull(strstr(no_reason.err, "releasing a legal hold needs a reason"));
    cd_test_chartdesk(&add_no_reason, "hold", "add", uri, "patient", mrn, "--audit-key", key, NULL);
    g_assert_cmpint(add_no_reason.status, ==, 2);
    g_assert_nonnull(strstr(add_no_reason.err, "a legal hold needs a reason"));
    cd_test_chartdesk(&search, "hold", "add", uri, "search", "--mrn", mrn, "--reason", "r", "--audit-key", key, NULL);
    g_assert_cmpint(search.status, ==, 2);
    g_assert_nonnull(strstr(search.err, ": add search: saved-search holds are not on the PostgreSQL archive"));
    g_assert_nonnull(strstr(search.err, "a server hold names a patient or a document"));
    cd_test_chartdesk(&text, "hold", "add", uri, "patient", mrn, "--text", "pneumonia", "--reason", "r", "--audit-key",
                      key, NULL);
    g_assert_cmpint(text.status, ==, 2);
    g_assert_nonnull(strstr(text.err, ": --text: saved-search holds are not on the PostgreSQL archive"));
    cd_test_chartdesk(&unknown, "hold", "release", uri, "9999", "--reason", "r", "--audit-key", key, NULL);
    g_assert_cmpint(unknown.status, ==, 1);
    g_assert_nonnull(strstr(unknown.err, "no legal hold 9999"));
    cd_test_chartdesk(&nobody, "hold", "add", uri, "patient", "NOSUCH", "--reason", "r", "--audit-key", key, NULL);
    g_assert_cmpint(nobody.status, ==, 1);
    g_assert_nonnull(strstr(nobody.err, "no patient with MRN NOSUCH"));
    g_test_message("%s%s%s%s%s%s", no_reason.err, add_no_reason.err, search.err, text.err, unknown.err, nobody.err);
    g_assert_cmpint(cd_pg_cluster_count(cluster, dbname, "SELECT count(*) FROM legal_holds"), ==, 2);
    g_assert_cmpint(cd_pg_cluster_count(cluster, dbname, "SELECT count(*) FROM legal_holds WHERE released_at IS NULL"),
                    ==, 2);
  }

  /* released once: gone from the listing, shown released with --all;
   * released again refused (a usage error, as on SQLite) */
  {
    g_autofree gchar *id = g_strdup_printf("%" G_GINT64_FORMAT, document_hold);
    g_autofree gchar *released = g_strdup_printf("hold %" G_GINT64_FORMAT " released\n", document_hold);
    g_auto(CdTestRun) rel = { 0 };
    g_auto(CdTestRun) again = { 0 };
    g_auto(CdTestRun) list = { 0 };
    g_auto(CdTestRun) all = { 0 };
    g_autoptr(JsonNode) root = NULL;
    const gchar *with_all[] = { "--all", NULL };
    JsonArray *holds;
    JsonObject *d;
    cd_test_chartdesk(&rel, "hold", "release", uri, id, "--reason", "matter closed", "--audit-key", key, NULL);
    g_test_message("%s%s", rel.out, rel.err);
    g_assert_cmpint(rel.status, ==, 0);
    g_assert_cmpstr(rel.out, ==, released);
    cd_test_chartdesk(&again, "hold", "release", uri, id, "--reason", "again", "--audit-key", key, NULL);
    g_assert_cmpint(again.status, ==, 2);
    g_test_message("%s", again.err);
    g_assert_nonnull(strstr(again.err, "was already released on "));
    cd_test_chartdesk(&list, "hold", "list", uri, "--audit-key", key, NULL);
    g_assert_cmpint(list.status, ==, 0);
    g_assert_true(g_str_has_suffix(list.out, "\n1 holds\n"));
    g_assert_null(hold_line(list.out, document_hold));
    g_assert_nonnull(hold_line(list.out, patient_hold));
    cd_test_chartdesk(&all, "hold", "list", uri, "--all", "--audit-key", key, NULL);
    g_assert_cmpint(all.status, ==, 0);
    g_assert_true(g_str_has_suffix(all.out, "\n2 holds\n"));
    g_assert_nonnull(strstr(all.out, ": matter closed\n"));
    holds = hold_list_json(uri, key, with_all, &root);
    g_assert_cmpuint(json_array_get_length(holds), ==, 2);
    d = hold_by_id(holds, document_hold);
    g_assert_nonnull(d);
    g_assert_false(json_object_get_boolean_member(d, "active"));
    g_assert_cmpstr(json_object_get_string_member(d, "release_reason"), ==, "matter closed");
    g_assert_nonnull(json_object_get_string_member(d, "released_at"));
    g_assert_true(json_object_get_boolean_member(hold_by_id(holds, patient_hold), "active"));
  }

  /* in the server's chain: both placements, the one release, each
   * successful listing (7: text 3, JSON 4), as the login */
  {
    g_autofree gchar *q = g_strdup_printf("SELECT count(*) FROM audit WHERE station IS NULL AND action = 'hold-place' "
                                          "AND object IN ('hold:%" G_GINT64_FORMAT "', 'hold:%" G_GINT64_FORMAT "') "
                                          "AND actor LIKE 'admin-mode:%%'",
                                          patient_hold, document_hold);
    g_autofree gchar *r = g_strdup_printf("SELECT count(*) FROM audit WHERE station IS NULL AND action = "
                                          "'hold-release' AND object = 'hold:%" G_GINT64_FORMAT "'",
                                          document_hold);
    g_auto(CdTestRun) verify = { 0 };
    g_auto(CdTestRun) keyless = { 0 };
    g_assert_cmpint(cd_pg_cluster_count(cluster, dbname, q), ==, 2);
    g_assert_cmpint(cd_pg_cluster_count(cluster, dbname, r), ==, 1);
    g_assert_cmpint(cd_pg_cluster_count(cluster, dbname,
                                        "SELECT count(*) FROM audit WHERE station IS NULL AND action = 'hold-release'"),
                    ==, 1);
    g_assert_cmpint(cd_pg_cluster_count(cluster, dbname,
                                        "SELECT count(*) FROM audit WHERE station IS NULL AND action = 'list-holds'"),
                    ==, 7);
    g_assert_cmpint(cd_pg_cluster_count(cluster, dbname,
                                        "SELECT count(*) FROM audit WHERE station IS NULL AND action = 'hold-place' "
                                        "AND actor LIKE '% for alice' AND detail LIKE '%Smith v. General%'"),
                    ==, 1);
    cd_test_chartdesk(&verify, "audit", "verify", uri, "--audit-key", key, NULL);
    g_test_message("%s%s", verify.out, verify.err);
    g_assert_cmpint(verify.status, ==, 0);
    g_assert_nonnull(strstr(verify.out, "the server's chain: intact"));
    /* the chain is keyed now: without the key nothing is written */
    cd_test_chartdesk(&keyless, "hold", "list", uri, NULL);
    g_assert_cmpint(keyless.status, ==, 1);
    g_assert_nonnull(strstr(keyless.err, "keyed"));
  }

  /* the SQLite archive prints the same: a copy of the spool given the
   * same patient hold lists the same line and the same JSON members */
  g_assert_true(g_file_get_contents(archive, &contents, &length, &error));
  g_assert_no_error(error);
  g_assert_true(g_file_set_contents(local, contents, (gssize) length, &error));
  g_assert_no_error(error);
  /* with its audit anchor, so the copy opens as the spool does */
  {
    g_autofree gchar *anchor = g_strdup_printf("%s.audit-anchor", archive);
    g_autofree gchar *local_anchor = g_strdup_printf("%s.audit-anchor", local);
    g_autofree gchar *data = NULL;
    if (g_file_get_contents(anchor, &data, &length, NULL)) {
      g_assert_true(g_file_set_contents(local_anchor, data, (gssize) length, &error));
      g_assert_no_error(error);
    }
  }
  {
    g_auto(CdTestRun) add = { 0 };
    g_auto(CdTestRun) list = { 0 };
    g_autoptr(JsonNode) a = NULL;
    g_autoptr(JsonNode) b = NULL;
    const gchar *with_all[] = { "--all", NULL };
    JsonArray *server = hold_list_json(uri, key, with_all, &a);
    JsonArray *sqlite;
    gint64 id = 0;
    g_autofree gchar *sqlite_line = NULL;
    g_autofree gchar *server_line = hold_line(r3.out, patient_hold);
    g_autofree gchar *server_members = NULL;
    g_autofree gchar *sqlite_members = NULL;
    cd_test_chartdesk(&add, "hold", "add", local, "patient", mrn, "--reason", "Smith v. General", "--matter", "CASE-1",
                      "--user", "alice", NULL);
    g_test_message("%s%s", add.out, add.err);
    g_assert_cmpint(add.status, ==, 0);
    g_assert_cmpint(sscanf(add.out, "hold %" G_GINT64_FORMAT " placed", &id), ==, 1);
    cd_test_chartdesk(&list, "hold", "list", local, NULL);
    g_assert_cmpint(list.status, ==, 0);
    g_assert_true(g_str_has_suffix(list.out, "\n1 holds\n"));
    sqlite_line = hold_line(list.out, id);
    g_assert_nonnull(sqlite_line);
    /* the lines agree after the hold's number */
    g_assert_cmpstr(strchr(strchr(sqlite_line, ' ') + 1, ' '), ==, strchr(strchr(server_line, ' ') + 1, ' '));
    sqlite = hold_list_json(local, NULL, NULL, &b);
    g_assert_nonnull(hold_by_id(sqlite, id));
    sqlite_members = hold_members(hold_by_id(sqlite, id));
    server_members = hold_members(hold_by_id(server, document_hold));
    g_assert_cmpstr(sqlite_members, ==, server_members);
    g_assert_cmpstr(sqlite_members, ==,
                    "id kind mrn document query reason matter placed_by placed_at released_by "
                    "released_at release_reason active");
  }
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  gint status;

  g_test_init(&argc, &argv, NULL);
  workdir = g_dir_make_tmp("cd-pg-cli-XXXXXX", &error);
  g_assert_no_error(error);
  cluster = cd_pg_cluster_start(&error);
  g_assert_no_error(error);
  g_test_add_func("/chartdesk/pg-cli/errors", test_pg_cli_errors);
  g_test_add_func("/chartdesk/pg-cli/copy", test_pg_cli_copy);
  g_test_add_func("/chartdesk/pg-cli/deliver", test_pg_cli_deliver);
  g_test_add_func("/chartdesk/pg-cli/hold", test_pg_cli_hold);
  status = g_test_run();
  g_clear_pointer(&cluster, cd_pg_cluster_stop);
  cd_test_rm_rf(workdir);
  g_free(workdir);
  g_free(spool);
  return status;
}
