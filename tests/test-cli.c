/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `chartdesk` command as an operator uses it: real binary, real plugins,
 * real Tesseract, real archive files.
 */
#include "cd-engine.h"

#include "cd-test-util.h"
#include <glib/gstdio.h>

static gchar *
tmpdir(void)
{
  g_autoptr(GError) error = NULL;
  gchar *dir = g_dir_make_tmp("cd-cli-XXXXXX", &error);
  g_assert_no_error(error);
  return dir;
}

/* libpq is loaded when a PostgreSQL archive is first used, not when the
 * process starts (issue 18: its libraries cost every CLI run): with a
 * broken libpq.so.5 first on the library path, `chartdesk --version` and a
 * search of an SQLite archive run, and a postgresql:// archive fails with
 * a message naming the library. */
static void
test_cli_libpq_on_demand(void)
{
  g_autofree gchar *dir = g_dir_make_tmp("cd-cli-libpq-XXXXXX", NULL);
  g_autofree gchar *libdir = g_build_filename(dir, "lib", NULL);
  g_autofree gchar *fake = g_build_filename(libdir, "libpq.so.5", NULL);
  g_autofree gchar *archive = g_build_filename(dir, "a.archive", NULL);
  g_autofree gchar *csv = g_build_filename(dir, "mpi.csv", NULL);
  g_autofree gchar *saved = g_strdup(g_getenv("LD_LIBRARY_PATH"));
  g_autoptr(GError) error = NULL;
  g_auto(CdTestRun) m = { 0 };
  g_auto(CdTestRun) v = { 0 };
  g_auto(CdTestRun) s = { 0 };
  g_auto(CdTestRun) p = { 0 };

  g_assert_cmpint(g_mkdir(libdir, 0755), ==, 0);
  g_assert_true(g_file_set_contents(fake, "not a shared library\n", -1, &error));
  g_assert_true(g_file_set_contents(csv, "mrn,family,given,dob\n00000001,DOE,JANE,1970-01-01\n", -1, &error));
  cd_test_chartdesk(&m, "mpi", "import", archive, csv, NULL);
  g_assert_cmpint(m.status, ==, 0);

  g_setenv("LD_LIBRARY_PATH", libdir, TRUE);
  cd_test_chartdesk(&v, "--version", NULL);
  cd_test_chartdesk(&s, "search", "--no-service", archive, "anything", NULL);
  cd_test_chartdesk(&p, "search", "postgresql://nobody@127.0.0.1:1/none", "anything", NULL);
  if (saved != NULL)
    g_setenv("LD_LIBRARY_PATH", saved, TRUE);
  else
    g_unsetenv("LD_LIBRARY_PATH");

  g_assert_cmpint(v.status, ==, 0);
  g_assert_true(g_str_has_prefix(v.out, "chartdesk "));
  g_assert_cmpint(s.status, ==, 0);
  g_assert_nonnull(strstr(s.out, "No matches."));
  g_assert_cmpint(p.status, !=, 0);
  g_assert_nonnull(strstr(p.err, "cannot connect: cannot load libpq.so.5 (PostgreSQL's client library): "));
  cd_test_rm_rf(dir);
}

/* Every command answers --help with its usage and status 0; an unknown
 * command or missing arguments are usage errors (status 2). */
static void
test_cli_help(void)
{
  const gchar *commands[] = { "ingest", "search", "show", "export", "check", "plugins" };

  for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, commands[i], "--help", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "Usage:"));
  }
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "frobnicate", NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "unknown command 'frobnicate'"));
  }
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "ingest", NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "ingest needs an archive and at least one file, folder or scanner"));
  }
  {
    /* a scanning workflow's inputs are devices, and --help says so */
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "ingest", "--help", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "ARCHIVE INPUT…"));
    g_assert_nonnull(strstr(r.out, "With a workflow whose source is a scanner (scan-intake), the inputs are scanner "
                                   "device names"));
  }
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "--help", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "ingest"));
  }
}

/* `chartdesk plugins --json` lists the shipped stages with their options. */
static void
test_cli_plugins(void)
{
  g_auto(CdTestRun) r = { 0 };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;

  cd_test_chartdesk(&r, "plugins", "--json", NULL);
  g_assert_cmpint(r.status, ==, 0);
  root = json_from_string(r.out, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(r.out, "\"name\" : \"tesseract\""));
  g_assert_nonnull(strstr(r.out, "\"name\" : \"language\""));
}

/* A batch with bad inputs among good ones archives the good pages, names
 * every bad file and why, and exits 3; nothing bad is half-written. */
static void
test_cli_bad_inputs(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *archive = g_build_filename(dir, "bad.archive", NULL);
  g_autofree gchar *inbox = g_build_filename(dir, "inbox", NULL);
  g_autofree gchar *good = g_build_filename(inbox, "a-good.tif", NULL);
  g_autofree gchar *empty = g_build_filename(inbox, "b-empty.tif", NULL);
  g_autofree gchar *text = g_build_filename(inbox, "c-text.tif", NULL);
  g_autofree gchar *truncated = g_build_filename(inbox, "d-truncated.tif", NULL);
  g_autofree gchar *missing = g_build_filename(dir, "missing.tif", NULL);
  g_autofree gchar *phototest = cd_test_shared_data("tesseract-ocr-test/testing/phototest.tif");
  g_autofree gchar *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  g_auto(CdTestRun) r = { 0 };
  g_auto(CdTestRun) s = { 0 };
  g_auto(CdTestRun) c = { 0 };
  g_auto(CdTestRun) j = { 0 };

  if (phototest == NULL) {
    cd_test_rm_rf(dir);
    return;
  }
  g_assert_cmpint(g_mkdir(inbox, 0755), ==, 0);
  g_assert_true(g_file_get_contents(phototest, &contents, &len, &error));
  g_assert_true(g_file_set_contents(good, contents, len, &error));
  g_assert_true(g_file_set_contents(empty, "", 0, &error));
  g_assert_true(g_file_set_contents(text, "Dear colleague,\nthis is not an image.\n", -1, &error));
  /* the header and the start of the strips, not the rest */
  g_assert_true(g_file_set_contents(truncated, contents, len / 3, &error));

  cd_test_chartdesk(&r, "ingest", "--quiet", archive, inbox, missing, NULL);
  g_assert_cmpint(r.status, ==, 3);
  g_assert_nonnull(strstr(r.out, "5 pages in"));
  g_assert_nonnull(strstr(r.err, "b-empty.tif: file is empty (0 bytes)"));
  g_assert_nonnull(strstr(r.err, "c-text.tif: not an image: the content is not TIFF, PNG, JPEG or PDF"));
  g_assert_nonnull(strstr(r.err, "d-truncated.tif"));
  g_assert_nonnull(strstr(r.err, "missing.tif: cannot read: No such file or directory"));
  g_assert_nonnull(strstr(r.out, "failed    "));

  /* the good page is searchable */
  cd_test_chartdesk(&s, "search", archive, "lazy", "fox", NULL);
  g_assert_cmpint(s.status, ==, 0);
  g_assert_nonnull(strstr(s.out, "a-good.tif, page 1"));

  cd_test_chartdesk(&c, "check", archive, NULL);
  g_assert_cmpint(c.status, ==, 0);
  g_assert_nonnull(strstr(c.out, "no problems found"));
  /* each step named on stderr as it begins, however quick, with its place,
   * the time and CPU time so far; nothing of it on stdout */
  g_assert_true(g_str_has_prefix(c.err, "check: step 1 of 8: database pages, "));
  g_assert_nonnull(strstr(c.err, "\ncheck: step 2 of 8: database indexes, "));
  g_assert_nonnull(strstr(c.err, "\ncheck: step 3 of 8: image checksums ("));
  g_assert_nonnull(strstr(c.err, "\ncheck: step 7 of 8: full-text index, "));
  g_assert_nonnull(strstr(c.err, "\ncheck: step 8 of 8: audit chain, "));
  g_assert_nonnull(strstr(c.err, " s CPU\ncheck: done, "));
  g_assert_null(strstr(c.out, "check: "));

  /* --json: the findings as a document, the progress still on stderr */
  cd_test_chartdesk(&j, "check", "--json", archive, NULL);
  g_assert_cmpint(j.status, ==, 0);
  g_assert_true(g_str_has_prefix(j.out, "{"));
  g_assert_nonnull(strstr(j.out, "\"ok\" : true"));
  g_assert_nonnull(strstr(j.out, "\"problems\" : []"));
  g_assert_null(strstr(j.out, "check: "));
  g_assert_nonnull(strstr(j.err, "check: step 1 of 8: "));
  cd_test_rm_rf(dir);
}

/* A second writer is refused with a clear message while a batch holds the
 * archive; searches still work meanwhile. */
static void
test_cli_second_writer(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *archive = g_build_filename(dir, "busy.archive", NULL);
  g_autofree gchar *phototest = cd_test_shared_data("tesseract-ocr-test/testing/phototest.tif");
  g_autoptr(CdArchive) holder = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CdTestRun) r = { 0 };
  g_auto(CdTestRun) s = { 0 };
  if (phototest == NULL) {
    cd_test_rm_rf(dir);
    return;
  }

  holder = cd_archive_open(archive, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  cd_test_chartdesk(&r, "ingest", "--quiet", archive, phototest, NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_nonnull(strstr(r.err, "another process is writing to this archive"));
  g_assert_nonnull(strstr(r.err, archive));
  cd_test_chartdesk(&s, "search", archive, "anything", NULL);
  g_assert_cmpint(s.status, ==, 0);
  g_assert_nonnull(strstr(s.out, "No matches."));
  g_clear_object(&holder);
  cd_test_rm_rf(dir);
}

/* An archive that cannot be created is reported with its path, before any
 * page is read. */
static void
test_cli_unwritable_archive(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *file = g_build_filename(dir, "plain-file", NULL);
  g_autofree gchar *archive = g_build_filename(file, "x.archive", NULL);
  g_autofree gchar *phototest = cd_test_shared_data("tesseract-ocr-test/testing/phototest.tif");
  g_auto(CdTestRun) r = { 0 };
  if (phototest == NULL) {
    cd_test_rm_rf(dir);
    return;
  }

  g_assert_true(g_file_set_contents(file, "x", -1, NULL));
  cd_test_chartdesk(&r, "ingest", "--quiet", archive, phototest, NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_nonnull(strstr(r.err, archive));
  g_assert_nonnull(strstr(r.err, "cannot create the archive"));
  cd_test_rm_rf(dir);
}

/* Malformed queries and missing archives are user errors, reported in one
 * line, never a stack of noise. */
static void
test_cli_search_errors(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *archive = g_build_filename(dir, "q.archive", NULL);
  g_autofree gchar *missing = g_build_filename(dir, "none.archive", NULL);
  g_autoptr(CdArchive) a = NULL;
  g_auto(CdTestRun) r = { 0 };
  g_auto(CdTestRun) m = { 0 };
  g_auto(CdTestRun) d = { 0 };
  g_auto(GStrv) lines = NULL;

  a = cd_archive_open(archive, CD_ARCHIVE_FLAG_CREATE, NULL);
  g_assert_nonnull(a);
  cd_test_chartdesk(&r, "search", archive, "fever AND", NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_true(g_str_has_prefix(r.err, "chartdesk: malformed query 'fever AND'"));
  lines = g_strsplit(r.err, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 2);
  cd_test_chartdesk(&m, "search", missing, "fever", NULL);
  g_assert_cmpint(m.status, ==, 1);
  g_assert_nonnull(strstr(m.err, "no such archive"));
  cd_test_chartdesk(&d, "search", archive, "--from", "1998-13-01", "fever", NULL);
  g_assert_cmpint(d.status, ==, 2);
  g_assert_nonnull(strstr(d.err, "YYYY-MM-DD"));
  cd_test_rm_rf(dir);
}

/* Bad FTS5 queries are query errors (exit 2) that say what is wrong, never
 * "search failed": a bare or leading star (which FTS5 itself would take as
 * a special query), lone operators, unbalanced quotes and parentheses, and
 * whatever FTS5 rejects on its own; good FTS5 syntax still runs. */
static void
test_cli_search_bad_queries(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *archive = g_build_filename(dir, "q.archive", NULL);
  g_autoptr(CdArchive) a = cd_archive_open(archive, CD_ARCHIVE_FLAG_CREATE, NULL);
  const struct {
    const gchar *query;
    const gchar *reason; /* after "malformed query 'Q': " */
  } bad[] = {
    { "*", "'*' marks a prefix and must follow a word, as in 'cardio*'" },
    { "* fever", "'*' marks a prefix and must follow a word, as in 'cardio*'" },
    { "fever *", "'*' marks a prefix and must follow a word, as in 'cardio*'" },
    { "AND", "AND needs a word or phrase on each side, as in 'a AND b'" },
    { "OR fever", "OR needs a word or phrase on each side, as in 'a OR b'" },
    { "NOT", "NOT needs a word or phrase on each side, as in 'a NOT b'" },
    { "fever AND OR cough", "AND needs a word or phrase on each side, as in 'a AND b'" },
    { "(fever OR)", "OR needs a word or phrase on each side, as in 'a OR b'" },
    { "\"chest pain", "a double quote is not closed" },
    { "\"chest\" \"pain", "a double quote is not closed" },
    { "(fever", "a '(' is not closed" },
    { "fever)", "a ')' has no '(' before it" },
    { "()", "'()' holds nothing" },
    { "^", "'^' must come right before a word" },
    { "nosuchcolumn: fever", "no such column: nosuchcolumn" },
    { "q.i.d AND fever", "fts5: syntax error near \".\"" },
  };
  const gchar *good[] = { "fever*", "\"chest pain\"",      "fever OR (cough AND chest)",
                          "^fever", "NEAR(chest pain, 3)", "\"\"",
                          NULL };

  g_assert_nonnull(a);
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_auto(CdTestRun) r = { 0 };
    g_autofree gchar *expected = g_strdup_printf("chartdesk: malformed query '%s': %s", bad[i].query, bad[i].reason);
    cd_test_chartdesk(&r, "search", "--no-service", archive, bad[i].query, NULL);
    g_test_message("%s -> %s", bad[i].query, r.err);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_true(g_str_has_prefix(r.err, expected));
    g_assert_null(strstr(r.err, "search failed"));
  }
  for (guint i = 0; good[i] != NULL; i++) {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "search", "--no-service", archive, good[i], NULL);
    g_test_message("%s -> %s", good[i], r.err);
    g_assert_cmpint(r.status, ==, 0);
  }
  cd_test_rm_rf(dir);
}

static guint
file_mode(const gchar *path)
{
  GStatBuf st;
  g_assert_cmpint(g_stat(path, &st), ==, 0);
  return st.st_mode & 07777;
}

/* Exports and page images the command line writes are mode 0600 under
 * umask 022, new or written over an existing 0644 file. */
static void
test_cli_private_files(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *archive = g_build_filename(dir, "p.archive", NULL);
  g_autofree gchar *export_new = g_build_filename(dir, "new.jsonl", NULL);
  g_autofree gchar *export_old = g_build_filename(dir, "old.jsonl", NULL);
  g_autofree gchar *png = g_build_filename(dir, "page.png", NULL);
  g_autofree gchar *tif = g_build_filename(dir, "page.tif", NULL);
  g_autofree gchar *page_arg = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) a = NULL;
  g_autoptr(CdDocument) doc = cd_document_new();
  g_autoptr(CdPage) page =
      cd_page_new("box/scan.tif", 0, "ab12000000000000000000000000000000000000000000000000000000000000");
  PIX *pix = pixCreate(64, 48, 1);
  JsonArray *pages;
  g_autoptr(JsonNode) node = NULL;
  mode_t saved = umask(022);

  pixRasterop(pix, 10, 10, 20, 4, PIX_SET, NULL, 0, 0);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, 300, 300);
  cd_page_set_text(page, "progress note");
  g_assert_true(cd_page_encode_image(page, &error));
  g_assert_no_error(error);
  cd_document_add_page(doc, page);
  cd_document_set_doc_type(doc, "progress-note", 0.9);
  a = cd_archive_open(archive, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_archive_commit_document(a, cd_archive_begin_batch(a, "test", NULL, &error), doc, &error));
  g_assert_no_error(error);
  node = cd_archive_get_document(a, cd_document_get_id(doc), &error);
  g_assert_no_error(error);
  pages = json_object_get_array_member(json_node_get_object(node), "pages");
  page_arg = g_strdup_printf("page:%" G_GINT64_FORMAT,
                             json_object_get_int_member(json_array_get_object_element(pages, 0), "id"));
  g_clear_object(&a);

  g_assert_true(g_file_set_contents(export_old, "old\n", -1, NULL));
  g_assert_cmpint(g_chmod(export_old, 0644), ==, 0);
  {
    g_auto(CdTestRun) r1 = { 0 };
    g_auto(CdTestRun) r2 = { 0 };
    g_auto(CdTestRun) r3 = { 0 };
    g_auto(CdTestRun) r4 = { 0 };
    cd_test_chartdesk(&r1, "export", "--json", "-o", export_new, archive, NULL);
    g_assert_cmpint(r1.status, ==, 0);
    cd_test_chartdesk(&r2, "export", "--json", "-o", export_old, archive, NULL);
    g_assert_cmpint(r2.status, ==, 0);
    cd_test_chartdesk(&r3, "show", archive, page_arg, "--image", png, NULL);
    g_assert_cmpint(r3.status, ==, 0);
    cd_test_chartdesk(&r4, "show", archive, page_arg, "--image", tif, NULL); /* the stored bytes, as they are */
    g_assert_cmpint(r4.status, ==, 0);
  }
  umask(saved);
  g_assert_cmpuint(file_mode(export_new), ==, 0600);
  g_assert_cmpuint(file_mode(export_old), ==, 0600);
  g_assert_cmpuint(file_mode(png), ==, 0600);
  g_assert_cmpuint(file_mode(tif), ==, 0600);
  cd_test_rm_rf(dir);
}

/* A taxonomy in which `clinic-letter` was renamed from `correspondence`
 * and has the alias `letter`. */
#define RENAMED_TAXONOMY                                                                                               \
  "[taxonomy]\nfallback=other\n[clinic-letter]\naliases=letter\nrenamed-from=correspondence\n"                         \
  "[discharge-summary]\n[other]\n"

/* Archives one filed single-page document of each of @types, through the library. */
static void
archive_typed_documents(const gchar *path, const gchar *const *types)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = cd_archive_open(path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  const gchar *inputs[] = { "typed", NULL };
  gint64 batch;

  g_assert_no_error(error);
  batch = cd_archive_begin_batch(archive, "test", inputs, &error);
  g_assert_no_error(error);
  for (guint i = 0; types[i] != NULL; i++) {
    g_autofree gchar *source = g_strdup_printf("typed-%u.tif", i);
    g_autofree gchar *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, source, -1);
    g_autoptr(CdPage) page = cd_page_new(source, 0, sha);
    g_autoptr(CdDocument) document = cd_document_new();
    cd_page_set_text(page, "typed page");
    cd_document_add_page(document, page);
    cd_document_set_patient_mrn(document, "00000001");
    cd_document_set_doc_type(document, types[i], 1.0);
    g_assert_true(cd_archive_commit_document(archive, batch, document, &error));
    g_assert_no_error(error);
  }
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

/* The sorted, comma-joined types of the hits of `chartdesk search --json`. */
static gchar *
hit_types(const gchar *json)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) types = g_ptr_array_new();
  JsonArray *hits;

  g_assert_true(json_parser_load_from_data(parser, json, -1, &error));
  hits = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)), "hits");
  for (guint i = 0; i < json_array_get_length(hits); i++)
    g_ptr_array_add(types, (gpointer) json_object_get_string_member(json_array_get_object_element(hits, i), "type"));
  g_ptr_array_sort(types, compare_strings);
  g_ptr_array_add(types, NULL);
  return g_strjoinv(",", (gchar **) types->pdata);
}

/* `search --type` reads the type through the taxonomy: its name, an alias
 * or a former name (in any case) finds documents stored under the current
 * name and under the former one; an unknown type is a usage error naming
 * it and listing the known types. */
static void
test_cli_search_type(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *archive = g_build_filename(dir, "t.archive", NULL);
  g_autofree gchar *taxonomy = g_build_filename(dir, "taxonomy.conf", NULL);
  g_autofree gchar *saved = g_strdup(g_getenv("CHARTDESK_TAXONOMY"));
  const gchar *types[] = { "clinic-letter", "correspondence", "discharge-summary", NULL };
  const gchar *asked[] = { "clinic-letter", "letter", "correspondence", "Clinic Letter", NULL };
  g_auto(CdTestRun) d = { 0 };
  g_auto(CdTestRun) u = { 0 };

  g_assert_true(g_file_set_contents(taxonomy, RENAMED_TAXONOMY, -1, NULL));
  g_setenv("CHARTDESK_TAXONOMY", taxonomy, TRUE);
  archive_typed_documents(archive, types);
  for (guint i = 0; asked[i] != NULL; i++) {
    g_auto(CdTestRun) r = { 0 };
    g_autofree gchar *found = NULL;
    cd_test_chartdesk(&r, "search", "--no-service", "--json", "--type", asked[i], archive, NULL);
    g_assert_cmpint(r.status, ==, 0);
    found = hit_types(r.out);
    g_assert_cmpstr(found, ==, "clinic-letter,correspondence");
  }
  cd_test_chartdesk(&d, "search", "--no-service", "--json", "--type", "discharge-summary", archive, NULL);
  g_assert_cmpint(d.status, ==, 0);
  {
    g_autofree gchar *found = hit_types(d.out);
    g_assert_cmpstr(found, ==, "discharge-summary");
  }
  cd_test_chartdesk(&u, "search", "--no-service", "--type", "discharge-sumary", archive, NULL);
  g_assert_cmpint(u.status, ==, 2);
  g_assert_cmpstr(u.err, ==,
                  "chartdesk: unknown document type 'discharge-sumary' (known types: clinic-letter, "
                  "discharge-summary, other)\n");
  if (saved != NULL)
    g_setenv("CHARTDESK_TAXONOMY", saved, TRUE);
  else
    g_unsetenv("CHARTDESK_TAXONOMY");
  cd_test_rm_rf(dir);
}

/* `chartdesk archive optimize`: the search index, grown one document at a
 * time into several segments, merged into one; the same documents found
 * after; the merge audited; a server URI or a missing file refused. */
static void
test_cli_archive_optimize(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *archive = g_build_filename(dir, "t.archive", NULL);
  g_autofree gchar *missing = g_build_filename(dir, "none.archive", NULL);
  const gchar *types[] = { "correspondence", "discharge-summary", "other", "discharge-summary", NULL };
  g_autoptr(GError) error = NULL;
  g_auto(CdTestRun) o = { 0 };
  g_auto(CdTestRun) s = { 0 };
  g_auto(CdTestRun) m = { 0 };
  g_auto(CdTestRun) u = { 0 };

  archive_typed_documents(archive, types);
  {
    g_autoptr(CdArchive) a = cd_archive_open(archive, CD_ARCHIVE_FLAG_NONE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(cd_archive_search_index_segments(a), >, 1);
  }
  cd_test_chartdesk(&o, "archive", "optimize", "--json", archive, NULL);
  g_assert_cmpint(o.status, ==, 0);
  g_assert_nonnull(strstr(o.out, "\"segments_after\" : 1"));
  g_assert_null(strstr(o.out, "\"segments_before\" : 1,"));
  {
    g_autoptr(CdArchive) a = cd_archive_open(archive, CD_ARCHIVE_FLAG_NONE, &error);
    g_autoptr(JsonNode) entries = NULL;
    g_autofree gchar *text = NULL;
    g_assert_no_error(error);
    g_assert_cmpint(cd_archive_search_index_segments(a), ==, 1);
    entries = cd_archive_list_audit(a, NULL, NULL, NULL, NULL, 50, 0, NULL, &error);
    g_assert_no_error(error);
    text = json_to_string(entries, FALSE);
    g_assert_nonnull(strstr(text, "optimize-search-index"));
  }
  cd_test_chartdesk(&s, "search", "--no-service", "--json", archive, "typed", NULL);
  g_assert_cmpint(s.status, ==, 0);
  g_assert_nonnull(strstr(s.out, "\"total\" : 4"));
  cd_test_chartdesk(&m, "archive", "optimize", missing, NULL);
  g_assert_cmpint(m.status, ==, 1);
  g_assert_nonnull(strstr(m.err, "no such archive"));
  cd_test_chartdesk(&u, "archive", "optimize", "postgresql:///chartdesk", NULL);
  g_assert_cmpint(u.status, ==, 2);
  cd_test_rm_rf(dir);
}

static void
test_cli_mpi(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *archive = g_build_filename(dir, "m.archive", NULL);
  g_autofree gchar *csv = g_build_filename(dir, "index.csv", NULL);
  g_autofree gchar *hl7 = g_build_filename(dir, "merge.hl7", NULL);
  g_autofree gchar *missing = g_build_filename(dir, "missing.csv", NULL);
  g_auto(CdTestRun) r1 = { 0 };
  g_auto(CdTestRun) r2 = { 0 };
  g_auto(CdTestRun) r3 = { 0 };
  g_auto(CdTestRun) r4 = { 0 };
  g_auto(CdTestRun) r5 = { 0 };
  g_auto(CdTestRun) r6 = { 0 };

  g_assert_true(
      g_file_set_contents(csv,
                          "mrn,family,given,dob\n00482913,DOE,JANE,1952-03-14\n00111111,OKAFOR,CHIDI,1985-04-04\n"
                          "00300300,OKAFOR,CHIDI,1985-04-04\n00000009,BAD,DATE,1952-13-01\n",
                          -1, NULL));
  g_assert_true(g_file_set_contents(hl7,
                                    "MSH|^~\\&|A|B|C|D|1||ADT^A40|1|P|2.5\rPID|1||00300300^^^H^MR||OKAFOR^CHIDI\r"
                                    "MRG|00111111^^^H^MR\r",
                                    -1, NULL));
  cd_test_chartdesk(&r1, "mpi", "import", archive, csv, NULL);
  g_assert_cmpint(r1.status, ==, 3); /* a row skipped */
  g_assert_nonnull(strstr(r1.out, "3 created"));
  g_assert_nonnull(strstr(r1.err, "index.csv:5: DOB '1952-13-01' is not a date"));
  cd_test_chartdesk(&r2, "mpi", "import", archive, hl7, NULL);
  g_assert_cmpint(r2.status, ==, 0);
  g_assert_nonnull(strstr(r2.out, "1 merged"));
  cd_test_chartdesk(&r3, "mpi", "show", archive, "00111111", NULL);
  g_assert_cmpint(r3.status, ==, 0);
  g_assert_nonnull(strstr(r3.out, "00111111 was merged into 00300300"));
  cd_test_chartdesk(&r4, "mpi", "show", archive, "12345678", NULL);
  g_assert_cmpint(r4.status, ==, 1);
  g_assert_nonnull(strstr(r4.err, "MRN 12345678 is not in the patient index"));
  cd_test_chartdesk(&r5, "mpi", "import", archive, missing, NULL);
  g_assert_cmpint(r5.status, ==, 1);
  g_assert_nonnull(strstr(r5.err, "missing.csv"));
  cd_test_chartdesk(&r6, "mpi", "import", archive, csv, "--format", "xml", NULL);
  g_assert_cmpint(r6.status, ==, 2);
  cd_test_rm_rf(dir);
}

/* The reported wrong-patient merge: 111, 222 and 333 in the index, then one
 * file with an A08 for 111 and an A40 whose PID names 222 (no name) and MRG
 * 333. 333 is merged into 222, not 111. An A40 without a usable PID is
 * refused with its message number (exit 3); a merge into an MRN the index
 * lacks fails the import (exit 1) and moves nothing. */
static void
test_cli_mpi_a40_survivor(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *archive = g_build_filename(dir, "m.archive", NULL);
  g_autofree gchar *csv = g_build_filename(dir, "index.csv", NULL);
  g_autofree gchar *adt = g_build_filename(dir, "adt.hl7", NULL);
  g_autofree gchar *bad = g_build_filename(dir, "bad.hl7", NULL);
  g_autofree gchar *unknown = g_build_filename(dir, "unknown.hl7", NULL);
  g_auto(CdTestRun) r1 = { 0 };
  g_auto(CdTestRun) r2 = { 0 };
  g_auto(CdTestRun) r3 = { 0 };
  g_auto(CdTestRun) r4 = { 0 };
  g_auto(CdTestRun) r5 = { 0 };
  g_auto(CdTestRun) r6 = { 0 };

  g_assert_true(g_file_set_contents(csv, "mrn,family,given\n111,DOE,JANE\n222,ROE,RICHARD\n333,ROE,RICK\n", -1, NULL));
  g_assert_true(g_file_set_contents(adt,
                                    "MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rPID|||111^^^H^MR||DOE^JANE||19520314|F\r"
                                    "MSH|^~\\&|A|B|C|D|1||ADT^A40|2|P|2.5\rPID|||222^^^H^MR\rMRG|333^^^H^MR\r",
                                    -1, NULL));
  g_assert_true(g_file_set_contents(bad,
                                    "MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\rPID|||111^^^H^MR||DOE^JANE||19520314|F\r"
                                    "MSH|^~\\&|A|B|C|D|1||ADT^A40|2|P|2.5\rMRG|222^^^H^MR\r",
                                    -1, NULL));
  g_assert_true(g_file_set_contents(unknown, "MSH|^~\\&|A|B|C|D|1||ADT^A40|1|P|2.5\rPID|||404^^^H^MR\rMRG|111^^^H^MR\r",
                                    -1, NULL));
  cd_test_chartdesk(&r1, "mpi", "import", archive, csv, NULL);
  g_assert_cmpint(r1.status, ==, 0);
  cd_test_chartdesk(&r2, "mpi", "import", archive, adt, NULL);
  g_assert_cmpint(r2.status, ==, 0);
  g_assert_nonnull(strstr(r2.out, "1 merged"));
  cd_test_chartdesk(&r3, "mpi", "show", archive, "333", "--json", NULL);
  g_assert_cmpint(r3.status, ==, 0);
  g_assert_nonnull(strstr(r3.out, "\"merged_into\" : \"222\""));
  cd_test_chartdesk(&r4, "mpi", "import", archive, bad, NULL);
  g_assert_cmpint(r4.status, ==, 3);
  g_assert_nonnull(strstr(r4.err, "bad.hl7: message 2 (ADT^A40): an MRG segment has no PID before it naming the "
                                  "surviving patient; merge refused"));
  cd_test_chartdesk(&r5, "mpi", "import", archive, unknown, NULL);
  g_assert_cmpint(r5.status, ==, 1);
  /* the archive's refusal names the message too */
  g_assert_nonnull(strstr(r5.err, "nothing imported: "));
  g_assert_nonnull(strstr(r5.err, "unknown.hl7: message 1 (ADT^A40): MRN 111: merge into 404 refused: 404 is not in "
                                  "the patient index"));
  cd_test_chartdesk(&r6, "mpi", "show", archive, "111", "--json", NULL);
  g_assert_cmpint(r6.status, ==, 0);
  g_assert_nonnull(strstr(r6.out, "\"merged_into\" : null"));
  cd_test_rm_rf(dir);
}

static gchar *
samples(const gchar *name)
{
  return g_test_build_filename(G_TEST_DIST, "samples", name, NULL);
}

/* The quick start as a test: the patient index and samples/ in, every page
 * of the ground truth out exactly once, known words found, documents filed
 * to the right patient, the archive checks clean. */
static void
test_cli_samples_end_to_end(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *archive = g_build_filename(dir, "samples.archive", NULL);
  g_autofree gchar *mpi = samples("mpi.csv");
  g_autofree gchar *folder = g_test_build_filename(G_TEST_DIST, "samples", NULL);
  g_autofree gchar *truth_path = samples("ground-truth.jsonl");
  g_autofree gchar *truth_text = NULL;
  g_auto(GStrv) truth_lines = NULL;
  g_auto(GStrv) export_lines = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) owner = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GError) error = NULL;
  guint n_truth = 0, n_filed_right = 0;
  g_auto(CdTestRun) r7 = { 0 };
  g_auto(CdTestRun) r1 = { 0 };
  g_auto(CdTestRun) r2 = { 0 };
  g_auto(CdTestRun) r3 = { 0 };
  g_auto(CdTestRun) r4 = { 0 };
  g_auto(CdTestRun) r5 = { 0 };
  g_auto(CdTestRun) r6 = { 0 };

  cd_test_chartdesk(&r1, "mpi", "import", archive, mpi, NULL);
  g_assert_cmpint(r1.status, ==, 0);
  g_assert_nonnull(strstr(r1.out, "30 created"));
  cd_test_chartdesk(&r2, "ingest", "--quiet", archive, folder, NULL);
  g_test_message("%s%s", r2.out, r2.err);
  g_assert_cmpint(r2.status, ==, 0);

  /* every page of the ground truth exactly once */
  g_assert_true(g_file_get_contents(truth_path, &truth_text, NULL, &error));
  g_assert_no_error(error);
  truth_lines = g_strsplit(truth_text, "\n", -1);
  for (guint i = 0; truth_lines[i] != NULL; i++) {
    g_autoptr(JsonNode) node = NULL;
    JsonObject *o;
    if (*truth_lines[i] == '\0')
      continue;
    node = json_from_string(truth_lines[i], &error);
    g_assert_no_error(error);
    o = json_node_get_object(node);
    n_truth++;
    if (json_object_get_null_member(o, "patient_mrn") == FALSE &&
        g_strcmp0(json_object_get_string_member(o, "kind"), "page") == 0)
      g_hash_table_insert(owner,
                          g_strdup_printf("%s:%" G_GINT64_FORMAT, json_object_get_string_member(o, "path"),
                                          json_object_get_int_member(o, "page")),
                          g_strdup(json_object_get_string_member(o, "patient_mrn")));
  }
  cd_test_chartdesk(&r3, "export", "--json", archive, NULL);
  g_assert_cmpint(r3.status, ==, 0);
  export_lines = g_strsplit(r3.out, "\n", -1);
  for (guint i = 0; export_lines[i] != NULL; i++) {
    g_autoptr(JsonNode) node = NULL;
    JsonObject *o;
    JsonArray *pages;
    if (*export_lines[i] == '\0')
      continue;
    node = json_from_string(export_lines[i], &error);
    g_assert_no_error(error);
    o = json_node_get_object(node);
    pages = json_object_has_member(o, "pages") ? json_object_get_array_member(o, "pages") : NULL;
    for (guint j = 0; j < (pages != NULL ? json_array_get_length(pages) : 1); j++) {
      JsonObject *page = pages != NULL ? json_array_get_object_element(pages, j) : o;
      JsonObject *src = json_object_get_object_member(page, "source");
      g_autofree gchar *base = g_path_get_basename(json_object_get_string_member(src, "path"));
      gchar *key = g_strdup_printf("%s:%" G_GINT64_FORMAT, base, json_object_get_int_member(src, "page"));
      const gchar *want = g_hash_table_lookup(owner, key);
      g_assert_false(g_hash_table_contains(seen, key));
      if (pages != NULL && !json_object_get_null_member(o, "patient")) {
        const gchar *got = json_object_get_string_member(json_object_get_object_member(o, "patient"), "mrn");
        /* never a page under the wrong patient */
        if (want != NULL) {
          g_assert_cmpstr(got, ==, want);
          n_filed_right++;
        }
      }
      g_hash_table_add(seen, key);
    }
  }
  g_assert_cmpuint(g_hash_table_size(seen), ==, n_truth);
  g_assert_cmpuint(n_filed_right, >=, n_truth / 2);

  cd_test_chartdesk(&r4, "search", "--json", archive, "pneumonia", NULL);
  g_assert_cmpint(r4.status, ==, 0);
  g_assert_nonnull(strstr(r4.out, "01-discharge-progress.tif"));
  cd_test_chartdesk(&r5, "search", archive, "radiograph", NULL);
  g_assert_cmpint(r5.status, ==, 0);
  g_assert_nonnull(strstr(r5.out, "[radiograph]"));
  cd_test_chartdesk(&r6, "check", archive, NULL);
  g_assert_cmpint(r6.status, ==, 0);
  /* documents are dated by their date of service: a day's range finds the
   * discharge summary of 10 December 1981, and only documents of that day */
  cd_test_chartdesk(&r7, "search", "--json", "--from", "1981-12-10", "--to", "1981-12-10", archive, NULL);
  g_assert_cmpint(r7.status, ==, 0);
  g_assert_nonnull(strstr(r7.out, "01-discharge-progress.tif"));
  g_assert_null(strstr(r7.out, "03-history-physical-faded.tif"));
  cd_test_rm_rf(dir);
}

/* `users add --password-stdin` and `users passwd --password-stdin` take the
 * web password from standard input (never from the command line, where
 * other users see it): it verifies, the old one stops working, and neither
 * is written in clear. */
static void
test_cli_users_password(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *users = g_build_filename(dir, "users.conf", NULL);
  g_autofree gchar *contents = NULL;
  g_autoptr(CdUserDirectory) directory = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CdTestRun) add = { 0 }, passwd = { 0 }, empty = { 0 };

  {
    const gchar *args[] = { "users", "--users", users, "add", "carol", "--role", "coder", "--password-stdin", NULL };
    cd_test_chartdesk_stdin(&add, "first pass phrase\n", args);
  }
  g_assert_cmpint(add.status, ==, 0);
  directory = cd_user_directory_open(users, FALSE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_user_directory_verify_password(directory, "carol", "first pass phrase", NULL, &error));
  g_assert_no_error(error);
  {
    const gchar *args[] = { "users", "--users", users, "passwd", "carol", "--password-stdin", NULL };
    cd_test_chartdesk_stdin(&passwd, "second pass phrase\n", args);
  }
  g_assert_cmpint(passwd.status, ==, 0);
  g_clear_object(&directory);
  directory = cd_user_directory_open(users, FALSE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_user_directory_verify_password(directory, "carol", "second pass phrase", NULL, &error));
  g_assert_no_error(error);
  g_assert_false(cd_user_directory_verify_password(directory, "carol", "first pass phrase", NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);
  {
    const gchar *args[] = { "users", "--users", users, "passwd", "carol", "--password-stdin", NULL };
    cd_test_chartdesk_stdin(&empty, "\n", args);
  }
  g_assert_cmpint(empty.status, !=, 0);
  g_assert_nonnull(strstr(empty.err, "empty password"));
  g_assert_true(g_file_get_contents(users, &contents, NULL, NULL));
  g_assert_null(strstr(contents, "pass phrase"));
  cd_test_rm_rf(dir);
}

/* `chartdesk users` manages the directory (0600, every change logged as
 * admin-mode:LOGIN), refuses unknown roles as a usage error; `--user` on a
 * direct archive is recorded beside the administrator's login, and
 * `chartdesk access report` lists who read which patient's documents. */
static void
test_cli_users(void)
{
  g_autofree gchar *dir = tmpdir();
  g_autofree gchar *users = g_build_filename(dir, "users.conf", NULL);
  g_autofree gchar *log = g_strconcat(users, ".log", NULL);
  g_autofree gchar *archive = g_build_filename(dir, "a.archive", NULL);
  g_autofree gchar *logged = NULL;
  g_autofree gchar *admin = g_strdup_printf("\"actor\":\"admin-mode:%s\"", g_get_user_name());
  g_autofree gchar *for_bob = g_strdup_printf("admin-mode:%s for bob", g_get_user_name());
  const gchar *types[] = { "progress-note", NULL };
  g_auto(CdTestRun) add = { 0 }, bad = { 0 }, grant = { 0 }, disable = { 0 }, list = { 0 }, glass = { 0 };
  g_auto(CdTestRun) show = { 0 }, report = { 0 }, by_mrn = { 0 }, other = { 0 };
  GStatBuf st;

  cd_test_chartdesk(&add, "users", "--users", users, "add", "alice", "--role", "archivist", "--full-name", "Alice A",
                    "--unix-user", "alice", NULL);
  g_assert_cmpint(add.status, ==, 0);
  g_assert_cmpint(g_stat(users, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0600);
  cd_test_chartdesk(&bad, "users", "--users", users, "add", "bob", "--role", "superuser", NULL);
  g_assert_cmpint(bad.status, ==, 2);
  g_assert_nonnull(strstr(bad.err, "unknown role 'superuser'"));
  cd_test_chartdesk(&grant, "users", "--users", users, "grant", "alice", "restricted", NULL);
  g_assert_cmpint(grant.status, ==, 0);
  cd_test_chartdesk(&disable, "users", "--users", users, "disable", "alice", NULL);
  g_assert_cmpint(disable.status, ==, 0);
  cd_test_chartdesk(&glass, "users", "--users", users, "break-glass", "alice", "--reason", "ED", NULL);
  g_assert_cmpint(glass.status, ==, 1);
  g_assert_nonnull(strstr(glass.err, "user alice is disabled"));
  cd_test_chartdesk(&list, "users", "--users", users, "list", "--json", NULL);
  g_assert_cmpint(list.status, ==, 0);
  g_assert_nonnull(strstr(list.out, "\"login\" : \"alice\""));
  g_assert_nonnull(strstr(list.out, "\"restricted\""));
  g_assert_nonnull(strstr(list.out, "\"state\" : \"disabled\""));
  g_assert_null(strstr(list.out, "argon2"));
  g_assert_true(g_file_get_contents(log, &logged, NULL, NULL));
  g_assert_nonnull(strstr(logged, "\"action\":\"users-add\""));
  g_assert_nonnull(strstr(logged, "\"action\":\"users-grant\""));
  g_assert_nonnull(strstr(logged, "\"action\":\"users-disable\""));
  g_assert_nonnull(strstr(logged, admin));

  archive_typed_documents(archive, types);
  cd_test_chartdesk(&show, "show", "--user", "bob", archive, "document:1", NULL);
  g_assert_cmpint(show.status, ==, 0);
  cd_test_chartdesk(&report, "access", "report", "--json", "--user", "bob", archive, NULL);
  g_assert_cmpint(report.status, ==, 0);
  g_assert_nonnull(strstr(report.out, for_bob));
  g_assert_nonnull(strstr(report.out, "\"object\" : \"document:1\""));
  cd_test_chartdesk(&by_mrn, "access", "report", "--mrn", "00000001", archive, NULL);
  g_assert_cmpint(by_mrn.status, ==, 0);
  g_assert_nonnull(strstr(by_mrn.out, "Reads: 1"));
  cd_test_chartdesk(&other, "access", "report", "--mrn", "99999999", "--from", "2020-01-01", archive, NULL);
  g_assert_cmpint(other.status, ==, 0);
  g_assert_nonnull(strstr(other.out, "Reads: 0"));
  cd_test_rm_rf(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chartdesk/cli/help", test_cli_help);
  g_test_add_func("/chartdesk/cli/libpq-on-demand", test_cli_libpq_on_demand);
  g_test_add_func("/chartdesk/cli/plugins", test_cli_plugins);
  g_test_add_func("/chartdesk/cli/bad-inputs", test_cli_bad_inputs);
  g_test_add_func("/chartdesk/cli/second-writer", test_cli_second_writer);
  g_test_add_func("/chartdesk/cli/unwritable-archive", test_cli_unwritable_archive);
  g_test_add_func("/chartdesk/cli/search-errors", test_cli_search_errors);
  g_test_add_func("/chartdesk/cli/search-type", test_cli_search_type);
  g_test_add_func("/chartdesk/cli/mpi", test_cli_mpi);
  g_test_add_func("/chartdesk/cli/private-files", test_cli_private_files);
  g_test_add_func("/chartdesk/cli/search-bad-queries", test_cli_search_bad_queries);
  g_test_add_func("/chartdesk/cli/mpi-a40-survivor", test_cli_mpi_a40_survivor);
  g_test_add_func("/chartdesk/cli/samples-end-to-end", test_cli_samples_end_to_end);
  g_test_add_func("/chartdesk/cli/users", test_cli_users);
  g_test_add_func("/chartdesk/cli/archive-optimize", test_cli_archive_optimize);
  g_test_add_func("/chartdesk/cli/users-password", test_cli_users_password);
  return g_test_run();
}
