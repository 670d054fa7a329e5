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
  status = g_test_run();
  g_clear_pointer(&cluster, cd_pg_cluster_stop);
  cd_test_rm_rf(workdir);
  g_free(workdir);
  g_free(spool);
  return status;
}
