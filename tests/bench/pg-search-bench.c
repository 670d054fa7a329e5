/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Search latency on the PostgreSQL archive, per query class, through
 * cd_pg_archive_search() (the library's own time, one connection).
 *
 *   pg-search-bench [PAGES] [REPEAT]     (default 100000 pages, 20 runs)
 *
 * Starts a private cluster (tests/cd-pg-cluster.c), creates the schema with
 * cd_pg_archive_open(), then loads PAGES pages in bulk with SQL, their text
 * cut from the mtsamples transcriptions ($CD_SHARED_DATA or
 * ../shared/data), four pages a document, one shared image-less page row
 * each; the stored tsvector and its GIN index are built by the server as
 * on delivery. Prints p50 and p99 per class and each class's total.
 *
 *   pg-search-bench --serve
 *
 * Starts the cluster and creates the archive's schema only, prints
 * `uri postgresql://…` on a line of its own, and keeps the cluster until
 * its standard input closes (then stops it and removes its folder): what
 * tests/bench/pgscale.py loads a SQLite benchmark archive into and
 * searches through the CLI.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd-error.h"
#include "cd-pg-archive.h"
#include "cd-pg-cluster.h"
#include "cd-test-util.h"

static void
exec_or_die(PGconn *conn, const gchar *sql)
{
  PGresult *res = PQexec(conn, sql);
  if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
    g_printerr("%s\n%s\n", sql, PQresultErrorMessage(res));
    exit(1);
  }
  PQclear(res);
}

static void
load_csv(PGconn *conn, const gchar *path)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;
  PGresult *res;

  if (!g_file_get_contents(path, &data, &len, NULL)) {
    g_printerr("cannot read %s\n", path);
    exit(1);
  }
  exec_or_die(conn, "CREATE TEMP TABLE mts (note_id int, description text, medical_specialty text, sample_name "
                    "text, transcription text, keywords text)");
  res = PQexec(conn, "COPY mts FROM STDIN WITH (FORMAT csv, HEADER true)");
  g_assert_cmpint(PQresultStatus(res), ==, PGRES_COPY_IN);
  PQclear(res);
  if (PQputCopyData(conn, data, (gint) len) != 1 || PQputCopyEnd(conn, NULL) != 1) {
    g_printerr("COPY: %s\n", PQerrorMessage(conn));
    exit(1);
  }
  res = PQgetResult(conn);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    g_printerr("COPY: %s\n", PQresultErrorMessage(res));
    exit(1);
  }
  PQclear(res);
}

static gint
cmp_double(gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

/* --serve: a private cluster with an empty archive for another program,
 * for as long as that program holds our standard input open */
static int
serve(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *uri = NULL;
  CdPgCluster *cluster;
  CdPgArchive *server;
  gchar buf[256];

  cluster = cd_pg_cluster_start(&error);
  if (cluster == NULL) {
    g_printerr("%s\n", error != NULL ? error->message : cd_pg_cluster_missing());
    return 77;
  }
  uri = cd_pg_cluster_create_database(cluster, "bench", &error);
  if (uri == NULL) {
    g_printerr("%s\n", error->message);
    cd_pg_cluster_stop(cluster);
    return 1;
  }
  server = cd_pg_archive_open(uri, CD_ARCHIVE_FLAG_CREATE, &error);
  if (server == NULL) {
    g_printerr("%s: %s\n", uri, error->message);
    cd_pg_cluster_stop(cluster);
    return 1;
  }
  cd_pg_archive_free(server);
  g_print("uri %s\n", uri);
  fflush(stdout);
  while (fgets(buf, sizeof buf, stdin) != NULL)
    ;
  cd_pg_cluster_stop(cluster);
  return 0;
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  guint n_pages = argc > 1 ? (guint) atoi(argv[1]) : 100000;
  guint repeat = argc > 2 ? (guint) atoi(argv[2]) : 20;
  g_autofree gchar *csv = NULL;
  g_autofree gchar *uri = NULL;
  g_autofree gchar *sql = NULL;
  CdPgCluster *cluster;
  CdPgArchive *server;
  PGconn *conn;
  gint64 t0;
  const struct {
    const gchar *name;
    CdSearchQuery q;
  } classes[] = {
    { "rare word (1 page)", { .text = "zyxwrarebench", .limit = 20 } },
    { "word on ~1% of pages", { .text = "thyroid", .limit = 20 } },
    { "word on most pages", { .text = "patient", .limit = 20 } },
    { "two common words", { .text = "patient history", .limit = 20 } },
    { "phrase", { .text = "\"blood pressure\"", .limit = 20 } },
    { "common word + mrn", { .text = "patient", .mrn = "MRN00042", .limit = 20 } },
    { "word + type + dates",
      { .text = "pain",
        .doc_type = "radiology-report",
        .date_from = "2021-01-01",
        .date_to = "2021-06-30",
        .limit = 20 } },
    { "mrn alone", { .mrn = "MRN00042", .limit = 20 } },
    { "type + year, no words",
      { .doc_type = "progress-note", .date_from = "2022-01-01", .date_to = "2022-12-31", .limit = 20 } },
  };

  if (argc > 1 && g_strcmp0(argv[1], "--serve") == 0)
    return serve();
  g_setenv("CHARTDESK_TAXONOMY", "/nonexistent", FALSE);
  csv = g_build_filename(g_getenv("CD_SHARED_DATA") != NULL ? g_getenv("CD_SHARED_DATA") : "../shared/data",
                         "mtsamples", "mtsamples-train.csv", NULL);
  cluster = cd_pg_cluster_start(&error);
  if (cluster == NULL) {
    g_printerr("%s\n", error != NULL ? error->message : cd_pg_cluster_missing());
    return 77;
  }
  uri = cd_pg_cluster_create_database(cluster, "bench", &error);
  g_assert_no_error(error);
  server = cd_pg_archive_open(uri, CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  conn = PQconnectdb(uri);
  g_assert_cmpint(PQstatus(conn), ==, CONNECTION_OK);

  t0 = g_get_monotonic_time();
  load_csv(conn, csv);
  exec_or_die(conn,
              "CREATE TEMP TABLE texts AS SELECT row_number() OVER () AS n, t FROM ("
              "SELECT substr(transcription, k * 1100 + 1, 1100) AS t FROM mts, "
              "generate_series(0, length(transcription) / 1100) k WHERE length(transcription) > k * 1100 + 200) x");
  exec_or_die(conn,
              "INSERT INTO stations (name, first_delivery) VALUES ('bench', '2026-01-01T00:00:00Z');"
              "INSERT INTO batches (station, source_batch_id, started, actor, workflow, inputs) "
              "VALUES ('bench', 1, '2026-01-01T00:00:00Z', 'bench', 'bench', '[]');"
              "INSERT INTO patients (mrn, family, given, updated) SELECT 'MRN' || lpad(g::text, 5, '0'), 'FAMILY', "
              "'Given', '2026-01-01' FROM generate_series(0, 2499) g");
  sql = g_strdup_printf(
      "INSERT INTO documents (batch_id, patient_mrn, status, type, type_confidence, date, title, created) "
      "SELECT 1, 'MRN' || lpad((g %% 2500)::text, 5, '0'), CASE WHEN g %% 50 = 0 THEN 'review' ELSE 'filed' END, "
      "(ARRAY['progress-note', 'laboratory-report', 'radiology-report', 'discharge-summary', 'operative-report', "
      "'consultation', 'history-physical', 'nursing-note', 'correspondence'])[1 + g %% 9], 0.9, "
      "to_char(date '2018-01-01' + (g * 7919 %% 2900), 'YYYY-MM-DD'), 'BENCH', '2026-01-01T00:00:00Z' "
      "FROM generate_series(1, %u) g",
      (n_pages + 3) / 4);
  exec_or_die(conn, sql);
  g_free(sql);
  exec_or_die(conn, "CREATE UNIQUE INDEX ON texts (n); ANALYZE texts");
  sql = g_strdup_printf("INSERT INTO pages (batch_id, document_id, seq, kind, source_path, source_page, "
                        "source_sha256, text, created) SELECT 1, 1 + (g - 1) / 4, (g - 1) %% 4, 'page', "
                        "'bench.tif', g, 'bench', x.t, '2026-01-01T00:00:00Z' FROM generate_series(1, %u) g "
                        "JOIN texts x ON x.n = 1 + g %% (SELECT count(*) FROM texts)",
                        n_pages);
  exec_or_die(conn, sql);
  exec_or_die(conn, "UPDATE pages SET text = text || ' zyxwrarebench' WHERE id = (SELECT max(id) / 2 FROM pages)");
  exec_or_die(conn, "VACUUM ANALYZE");
  g_print("loaded %u pages in %.1f s\n", n_pages, (g_get_monotonic_time() - t0) / 1e6);

  /* CD_BENCH_LOG=1: the server logs every statement over 5 ms, printed at the end */
  if (g_getenv("CD_BENCH_LOG") != NULL) {
    cd_pg_archive_free(server);
    exec_or_die(conn, "ALTER DATABASE bench SET log_min_duration_statement = 5");
    server = cd_pg_archive_open(uri, CD_ARCHIVE_FLAG_NONE, &error);
    g_assert_no_error(error);
  }
  g_print("%-26s %10s %10s %10s\n", "query", "p50 ms", "p99 ms", "total");
  for (guint c = 0; c < G_N_ELEMENTS(classes); c++) {
    g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(gdouble));
    guint64 total = 0;
    for (guint r = 0; r < repeat + 1; r++) {
      gint64 start = g_get_monotonic_time();
      g_autoptr(CdSearchResult) result = cd_pg_archive_search(server, &classes[c].q, &error);
      gdouble ms = (g_get_monotonic_time() - start) / 1000.0;
      g_assert_no_error(error);
      total = result->total;
      if (r > 0) /* the first warms the cache */
        g_array_append_val(times, ms);
    }
    g_array_sort(times, cmp_double);
    g_print("%-26s %10.1f %10.1f %10" G_GUINT64_FORMAT "\n", classes[c].name,
            g_array_index(times, gdouble, times->len / 2),
            g_array_index(times, gdouble, MIN(times->len - 1, (guint) (times->len * 0.99))), total);
  }
  PQfinish(conn);
  cd_pg_archive_free(server);
  if (g_getenv("CD_BENCH_LOG") != NULL) {
    g_autofree gchar *log = g_build_filename(cluster->dir, "server.log", NULL);
    g_autofree gchar *text = NULL;
    if (g_file_get_contents(log, &text, NULL, NULL))
      g_print("%s", text);
  }
  cd_pg_cluster_stop(cluster);
  return 0;
}
