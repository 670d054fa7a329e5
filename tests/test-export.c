/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk export --pdf/--fhir/--hl7` on an archive made from samples/
 * with the real workflow (Tesseract), read back with qpdf and poppler, the
 * official FHIR R4 JSON schema (ajv), Debian's python3-hl7, and an MLLP
 * listener on a loopback port.
 */
#include "config.h"

#include <chartdesk.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>

#include "cd-engine.h"
#include "cd-test-util.h"

/* The archive the tests share: samples 01 (bilevel, G4), 04 (colour,
 * JPEG) and 05 (a 200 dpi fax), with the patient index. */
typedef struct {
  gchar *dir;
  gchar *archive;
  JsonArray *documents; /* `export --json --words` objects with pages */
} Fixture;

static gchar *
samples(const gchar *name)
{
  return g_test_build_filename(G_TEST_DIST, "samples", name, NULL);
}

static void
fixture_set_up(Fixture *f, const gchar *const *files)
{
  g_autofree gchar *inbox = NULL;
  g_autofree gchar *inbox_ocr = NULL;
  g_autofree gchar *mpi = samples("mpi.csv");
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CdTestRun) r1 = { 0 };
  g_auto(CdTestRun) r2 = { 0 };
  g_auto(CdTestRun) r3 = { 0 };
  g_auto(CdTestRun) r4 = { 0 };

  f->dir = g_dir_make_tmp("cd-export-XXXXXX", &error);
  g_assert_no_error(error);
  f->archive = g_build_filename(f->dir, "a.archive", NULL);
  inbox = g_build_filename(f->dir, "inbox", NULL);
  inbox_ocr = g_build_filename(f->dir, "inbox-ocr-only", NULL);
  g_assert_cmpint(g_mkdir(inbox, 0700), ==, 0);
  g_assert_cmpint(g_mkdir(inbox_ocr, 0700), ==, 0);
  for (guint i = 0; files[i] != NULL; i++) {
    /* "ocr-only:NAME" is read without cleanup, so a colour page stays
     * colour (and JPEG) in the archive */
    gboolean ocr_only = g_str_has_prefix(files[i], "ocr-only:");
    const gchar *name = ocr_only ? files[i] + 9 : files[i];
    g_autofree gchar *src = samples(name);
    g_autofree gchar *dst = g_build_filename(ocr_only ? inbox_ocr : inbox, name, NULL);
    g_autofree gchar *contents = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(src, &contents, &len, &error));
    g_assert_true(g_file_set_contents(dst, contents, len, &error));
  }
  cd_test_chartdesk(&r1, "mpi", "import", f->archive, mpi, NULL);
  g_assert_cmpint(r1.status, ==, 0);
  cd_test_chartdesk(&r2, "ingest", "--quiet", f->archive, inbox, NULL);
  g_assert_cmpint(r2.status, ==, 0);
  cd_test_chartdesk(&r4, "ingest", "--quiet", "--workflow", "ocr-only", f->archive, inbox_ocr, NULL);
  g_assert_cmpint(r4.status, ==, 0);
  cd_test_chartdesk(&r3, "export", "--json", "--words", f->archive, NULL);
  g_assert_cmpint(r3.status, ==, 0);
  f->documents = json_array_new();
  lines = g_strsplit(r3.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr(JsonNode) node = NULL;
    if (*lines[i] == '\0')
      continue;
    node = json_from_string(lines[i], &error);
    g_assert_no_error(error);
    if (json_object_has_member(json_node_get_object(node), "pages"))
      json_array_add_element(f->documents, g_steal_pointer(&node));
  }
  g_assert_cmpuint(json_array_get_length(f->documents), >=, 2);
}

static void
fixture_tear_down(Fixture *f)
{
  g_clear_pointer(&f->documents, json_array_unref);
  g_assert_true(cd_test_rm_rf(f->dir));
  g_free(f->dir);
  g_free(f->archive);
}

/* One archive for all the tests of a run (OCR is the slow part): made by
 * the first test that needs it, from @files. */
static Fixture shared;

static Fixture *
fixture_get(const gchar *const *files)
{
  if (shared.archive == NULL)
    fixture_set_up(&shared, files);
  return &shared;
}

/* Runs @argv (a tool on PATH, or an absolute path) and returns its
 * standard output; *status gets the exit status when not NULL, else the
 * test fails on a non-zero one. */
static gchar *
run_tool(const gchar *const *argv, gint *status)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  gint wait = 0;

  g_spawn_sync(NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &wait, &error);
  g_assert_no_error(error);
  if (!g_spawn_check_wait_status(wait, NULL))
    g_test_message("%s: %s%s", argv[0], out, err);
  if (status != NULL)
    *status = WIFEXITED(wait) ? WEXITSTATUS(wait) : -1;
  else
    g_assert_true(g_spawn_check_wait_status(wait, NULL));
  return g_steal_pointer(&out);
}

static gboolean
have_tool(const gchar *tool, const gchar *package)
{
  g_autofree gchar *path = g_find_program_in_path(tool);
  if (path == NULL) {
    g_autofree gchar *msg = g_strdup_printf("%s not installed (scripts/install-deps installs %s)", tool, package);
    g_test_skip(msg);
    return FALSE;
  }
  return TRUE;
}

static JsonObject *
find_document(Fixture *f, const gchar *type)
{
  for (guint i = 0; i < json_array_get_length(f->documents); i++) {
    JsonObject *o = json_array_get_object_element(f->documents, i);
    if (!json_object_get_null_member(o, "type") && g_strcmp0(json_object_get_string_member(o, "type"), type) == 0)
      return o;
  }
  return NULL;
}

static JsonObject *
find_document_by_format(Fixture *f, const gchar *format)
{
  for (guint i = 0; i < json_array_get_length(f->documents); i++) {
    JsonObject *o = json_array_get_object_element(f->documents, i);
    JsonObject *page = json_array_get_object_element(json_object_get_array_member(o, "pages"), 0);
    if (!json_object_get_null_member(page, "image") &&
        g_strcmp0(json_object_get_string_member(json_object_get_object_member(page, "image"), "format"), format) == 0)
      return o;
  }
  return NULL;
}

/* Word-level edit distance between two word lists. */
static guint
word_distance(gchar **a, gchar **b)
{
  guint n = g_strv_length(a), m = g_strv_length(b);
  g_autofree guint *prev = g_new(guint, m + 1);
  g_autofree guint *cur = g_new(guint, m + 1);

  for (guint j = 0; j <= m; j++)
    prev[j] = j;
  for (guint i = 1; i <= n; i++) {
    cur[0] = i;
    for (guint j = 1; j <= m; j++) {
      guint sub = prev[j - 1] + (g_strcmp0(a[i - 1], b[j - 1]) != 0);
      cur[j] = MIN(MIN(prev[j] + 1, cur[j - 1] + 1), sub);
    }
    memcpy(prev, cur, (m + 1) * sizeof(guint));
  }
  return prev[m];
}

static gchar **
split_words(const gchar *text)
{
  g_auto(GStrv) parts = g_strsplit_set(text != NULL ? text : "", " \t\r\n\f", -1);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (guint i = 0; parts[i] != NULL; i++) {
    if (*parts[i] != '\0')
      g_strv_builder_add(b, parts[i]);
  }
  return g_strv_builder_end(b);
}

static gchar *
document_text(JsonObject *doc)
{
  JsonArray *pages = json_object_get_array_member(doc, "pages");
  g_autoptr(GString) text = g_string_new(NULL);
  for (guint i = 0; i < json_array_get_length(pages); i++) {
    JsonObject *p = json_array_get_object_element(pages, i);
    if (!json_object_get_null_member(p, "text"))
      g_string_append_printf(text, "%s\n", json_object_get_string_member(p, "text"));
  }
  return g_string_free(g_steal_pointer(&text), FALSE);
}

static gboolean
file_has(const gchar *path, const gchar *needle)
{
  g_autofree gchar *data = NULL;
  gsize len = 0, n = strlen(needle);
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  for (gsize i = 0; i + n <= len; i++) {
    if (memcmp(data + i, needle, n) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Every document exported alone is a PDF that qpdf finds sound, that
 * declares PDF/A-2b, whose pages match the stored images in number and
 * size (at their dpi), whose text pdftotext reads back within 1% word
 * error of the archive's own, and whose bilevel pages stayed CCITT G4
 * and JPEG pages DCT. */
static void
test_export_pdf_documents(gconstpointer data)
{
  Fixture *f = fixture_get(data);
  guint n_g4 = 0, n_jpeg = 0;

  if (!have_tool("qpdf", "qpdf") || !have_tool("pdftotext", "poppler-utils"))
    return;
  for (guint i = 0; i < json_array_get_length(f->documents); i++) {
    JsonObject *doc = json_array_get_object_element(f->documents, i);
    JsonArray *pages = json_object_get_array_member(doc, "pages");
    gint64 id = json_object_get_int_member(doc, "id");
    g_autofree gchar *ref = g_strdup_printf("document:%" G_GINT64_FORMAT, id);
    g_autofree gchar *pdf = g_strdup_printf("%s/doc-%" G_GINT64_FORMAT ".pdf", f->dir, id);
    g_autofree gchar *want_pages = g_strdup_printf("Pages:           %u\n", json_array_get_length(pages));
    g_autofree gchar *text = document_text(doc);
    g_auto(GStrv) ref_words = split_words(text);
    g_auto(CdTestRun) r = { 0 };

    cd_test_chartdesk(&r, "export", "--pdf", f->archive, ref, "-o", pdf, NULL);
    g_assert_cmpint(r.status, ==, 0);
    {
      const gchar *argv[] = { "qpdf", "--check", pdf, NULL };
      g_autofree gchar *out = run_tool(argv, NULL);
      g_assert_nonnull(strstr(out, "No syntax or stream encoding errors"));
    }
    {
      const gchar *argv[] = { "pdfinfo", "-meta", pdf, NULL };
      g_autofree gchar *out = run_tool(argv, NULL);
      g_assert_nonnull(strstr(out, "<pdfaid:part>2</pdfaid:part>"));
      g_assert_nonnull(strstr(out, "<pdfaid:conformance>B</pdfaid:conformance>"));
    }
    {
      const gchar *argv[] = { "pdfinfo", "-f", "1", "-l", "999", pdf, NULL };
      g_autofree gchar *out = run_tool(argv, NULL);
      g_assert_nonnull(strstr(out, want_pages));
      for (guint p = 0; p < json_array_get_length(pages); p++) {
        JsonObject *page = json_array_get_object_element(pages, p);
        JsonObject *image = json_object_get_object_member(page, "image");
        JsonArray *res = json_object_get_array_member(page, "resolution");
        gdouble w = json_object_get_int_member(image, "width") * 72.0 / json_array_get_int_element(res, 0);
        gdouble h = json_object_get_int_member(image, "height") * 72.0 / json_array_get_int_element(res, 1);
        g_autofree gchar *label = g_strdup_printf("Page %4u size:", p + 1);
        const gchar *at = strstr(out, label);
        gdouble got_w, got_h;
        g_assert_nonnull(at);
        g_assert_cmpint(sscanf(at + strlen(label), " %lf x %lf", &got_w, &got_h), ==, 2);
        g_assert_cmpfloat(ABS(got_w - w), <, 0.5);
        g_assert_cmpfloat(ABS(got_h - h), <, 0.5);
        if (g_strcmp0(json_object_get_string_member(image, "format"), "tiff-g4") == 0)
          n_g4++;
        else
          n_jpeg++;
      }
    }
    {
      /* -raw: the text in the order it was placed, which is the words' */
      const gchar *argv[] = { "pdftotext", "-raw", pdf, "-", NULL };
      g_autofree gchar *out = run_tool(argv, NULL);
      g_auto(GStrv) got = split_words(out);
      guint dist = word_distance(ref_words, got);
      g_test_message("document %" G_GINT64_FORMAT ": %u words, %u edits", id, g_strv_length(ref_words), dist);
      g_assert_cmpuint(g_strv_length(ref_words), >, 10);
      g_assert_cmpfloat((gdouble) dist / g_strv_length(ref_words), <=, 0.01);
    }
  }
  g_assert_cmpuint(n_g4, >, 0);
  g_assert_cmpuint(n_jpeg, >, 0);
  {
    JsonObject *g4 = find_document(f, "discharge-summary");
    JsonObject *jpeg = find_document_by_format(f, "jpeg");
    g_autofree gchar *g4_pdf = NULL;
    g_autofree gchar *jpeg_pdf = NULL;
    g_assert_nonnull(g4);
    g_assert_nonnull(jpeg);
    g4_pdf = g_strdup_printf("%s/doc-%" G_GINT64_FORMAT ".pdf", f->dir, json_object_get_int_member(g4, "id"));
    jpeg_pdf = g_strdup_printf("%s/doc-%" G_GINT64_FORMAT ".pdf", f->dir, json_object_get_int_member(jpeg, "id"));
    g_assert_true(file_has(g4_pdf, "/CCITTFaxDecode"));
    g_assert_true(file_has(jpeg_pdf, "/DCTDecode"));
  }
}

/* A selection goes to a folder, a PDF per filed document of the patient;
 * each export is in the audit log as the acting user, with the format and
 * where it went; a second document to a single file is refused. */
static void
test_export_pdf_selection(gconstpointer data)
{
  Fixture *f = fixture_get(data);
  JsonObject *doc = find_document(f, "discharge-summary");
  const gchar *mrn;
  g_autofree gchar *folder = g_build_filename(f->dir, "pdfs", NULL);
  g_autofree gchar *one = g_build_filename(f->dir, "one.pdf", NULL);
  g_autoptr(GDir) listing = NULL;
  guint n_files = 0, n_filed = 0, n_audited = 0;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  g_auto(CdTestRun) r = { 0 };
  g_auto(CdTestRun) r2 = { 0 };

  g_assert_nonnull(doc);
  mrn = json_object_get_string_member(json_object_get_object_member(doc, "patient"), "mrn");
  for (guint i = 0; i < json_array_get_length(f->documents); i++) {
    JsonObject *o = json_array_get_object_element(f->documents, i);
    if (!json_object_get_null_member(o, "patient") &&
        g_strcmp0(json_object_get_string_member(json_object_get_object_member(o, "patient"), "mrn"), mrn) == 0 &&
        g_strcmp0(json_object_get_string_member(o, "status"), "filed") == 0)
      n_filed++;
  }
  g_assert_cmpuint(n_filed, >=, 2);
  cd_test_chartdesk(&r, "export", "--pdf", f->archive, "--mrn", mrn, "-o", folder, "--user", "dana", "--purpose",
                    "continuity of care", NULL);
  g_assert_cmpint(r.status, ==, 0);
  listing = g_dir_open(folder, 0, NULL);
  g_assert_nonnull(listing);
  for (const gchar *name; (name = g_dir_read_name(listing)) != NULL;) {
    g_assert_true(g_str_has_prefix(name, "document-") && g_str_has_suffix(name, ".pdf"));
    n_files++;
  }
  g_assert_cmpuint(n_files, ==, n_filed);

  g_assert_cmpint(sqlite3_open_v2(f->archive, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint(
      sqlite3_prepare_v2(db, "SELECT actor, object, detail FROM audit WHERE action = 'export'", -1, &stmt, NULL), ==,
      SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const gchar *actor = (const gchar *) sqlite3_column_text(stmt, 0);
    const gchar *object = (const gchar *) sqlite3_column_text(stmt, 1);
    const gchar *detail = (const gchar *) sqlite3_column_text(stmt, 2);
    if (strstr(actor, "dana") == NULL)
      continue;
    g_assert_true(g_str_has_prefix(object, "document:"));
    g_assert_nonnull(strstr(detail, "\"format\":\"pdf\""));
    g_assert_nonnull(strstr(detail, folder));
    n_audited++;
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  g_assert_cmpuint(n_audited, ==, n_filed);

  cd_test_chartdesk(&r2, "export", "--pdf", f->archive, "--mrn", mrn, "-o", one, NULL);
  g_assert_cmpint(r2.status, ==, 1);
  g_assert_nonnull(strstr(r2.err, "is one file"));

  /* a stage of another kind is not an exporter; options are checked
   * against the exporter's before a document is read */
  {
    g_auto(CdTestRun) r3 = { 0 };
    g_auto(CdTestRun) r4 = { 0 };
    g_auto(CdTestRun) r5 = { 0 };
    cd_test_chartdesk(&r3, "export", "--exporter", "files", f->archive, NULL);
    g_assert_cmpint(r3.status, ==, 1);
    g_assert_nonnull(strstr(r3.err, "stage files is a source stage, not an exporter"));
    cd_test_chartdesk(&r4, "export", "--hl7", f->archive, "--set", "hl7.retries=lots", NULL);
    g_assert_cmpint(r4.status, ==, 1);
    g_assert_nonnull(strstr(r4.err, "hl7.retries"));
    cd_test_chartdesk(&r5, "export", "--pdf", "--fhir", f->archive, NULL);
    g_assert_cmpint(r5.status, ==, 2);
  }
}

/* The library, not the command line, authorises: a user without the
 * export permission is refused, a restricted type is not found for a user
 * without the grant and is exported for one with it. */
static void
test_export_authorised(gconstpointer data)
{
  Fixture *f = fixture_get(data);
  JsonObject *doc = find_document(f, "discharge-summary");
  gint64 id = json_object_get_int_member(doc, "id");
  const gchar *roi[] = { "roi", NULL };
  const gchar *archivist[] = { "archivist", NULL };
  const gchar *cleared[] = { "archivist", "restricted", NULL };
  const gchar *restricted[] = { "discharge-summary", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_NONE, &error);
  g_assert_no_error(error);

  {
    g_autoptr(CdPrincipal) p = cd_principal_new_user("rita", roi);
    g_autoptr(CdDocument) d = NULL;
    cd_archive_set_principal(archive, p);
    d = cd_archive_export_document(archive, id, "pdf", NULL, NULL, &error);
    g_assert_null(d);
    g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
    g_clear_error(&error);
  }
  cd_archive_set_restricted_types(archive, restricted);
  {
    g_autoptr(CdPrincipal) p = cd_principal_new_user("dana", archivist);
    g_autoptr(CdDocument) d = NULL;
    const CdSearchQuery all = { 0 };
    g_autoptr(GArray) ids = NULL;
    cd_archive_set_principal(archive, p);
    d = cd_archive_export_document(archive, id, "pdf", NULL, NULL, &error);
    g_assert_null(d);
    g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
    g_clear_error(&error);
    ids = cd_archive_find_export_documents(archive, &all, &error);
    g_assert_no_error(error);
    for (guint i = 0; i < ids->len; i++)
      g_assert_cmpint(g_array_index(ids, gint64, i), !=, id);
  }
  {
    g_autoptr(CdPrincipal) p = cd_principal_new_user("erin", cleared);
    g_autoptr(CdPatient) patient = NULL;
    g_autoptr(CdDocument) d = NULL;
    GPtrArray *pages;
    cd_archive_set_principal(archive, p);
    d = cd_archive_export_document(archive, id, "pdf", NULL, &patient, &error);
    g_assert_no_error(error);
    g_assert_nonnull(d);
    g_assert_nonnull(patient);
    g_assert_cmpstr(patient->mrn, ==, cd_document_get_patient_mrn(d));
    g_assert_nonnull(patient->family);
    pages = cd_document_get_pages(d);
    g_assert_cmpuint(pages->len, >, 0);
    g_assert_nonnull(cd_page_get_image_bytes(g_ptr_array_index(pages, 0)));
    g_assert_cmpuint(cd_page_get_words(g_ptr_array_index(pages, 0))->len, >, 10);
  }
}

/* Runs tests/fhir/validate.js (ajv and the official FHIR R4 schema) on
 * @file; FALSE after marking the test skipped when node_modules is not
 * installed. */
static gboolean
fhir_validate(const gchar *file, gchar **output)
{
  g_autofree gchar *script = g_test_build_filename(G_TEST_DIST, "tests", "fhir", "validate.js", NULL);
  g_autofree gchar *modules = g_test_build_filename(G_TEST_DIST, "tests", "fhir", "node_modules", "ajv", NULL);
  const gchar *argv[] = { "node", script, file, NULL };
  gint status = -1;

  if (!have_tool("node", "nodejs"))
    return FALSE;
  if (!g_file_test(modules, G_FILE_TEST_IS_DIR)) {
    g_test_skip("tests/fhir/node_modules is missing: run `npm ci` in tests/fhir (scripts/test does)");
    return FALSE;
  }
  *output = run_tool(argv, &status);
  g_test_message("%s", *output);
  g_assert_cmpint(status, ==, 0);
  return TRUE;
}

/* The FHIR bundle validates against the FHIR R4 schema; it is a
 * transaction with a DocumentReference per filed document carrying US
 * Core's elements: the LOINC type from the taxonomy, the category, the
 * subject by the configured MRN system, the PDF inline with its size and
 * SHA-1, and the date of service as context.period. With attachment=binary
 * the PDF is a Binary entry the attachment points to, and that validates
 * too. */
static void
test_export_fhir(gconstpointer data)
{
  Fixture *f = fixture_get(data);
  g_autofree gchar *bundle_path = g_build_filename(f->dir, "bundle.json", NULL);
  g_autofree gchar *binary_path = g_build_filename(f->dir, "binary.json", NULL);
  g_autofree gchar *validated = NULL;
  g_autofree gchar *validated2 = NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(CdTaxonomy) taxonomy = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *bundle;
  JsonArray *entries;
  guint n_filed = 0;
  g_auto(CdTestRun) r = { 0 };
  g_auto(CdTestRun) r2 = { 0 };

  for (guint i = 0; i < json_array_get_length(f->documents); i++) {
    if (g_strcmp0(json_object_get_string_member(json_array_get_object_element(f->documents, i), "status"), "filed") ==
        0)
      n_filed++;
  }
  cd_test_chartdesk(&r, "export", "--fhir", f->archive, "-o", bundle_path, "--set",
                    "fhir.identifier-system=urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14", NULL);
  g_assert_cmpint(r.status, ==, 0);
  if (!fhir_validate(bundle_path, &validated))
    return;
  g_assert_nonnull(strstr(validated, "valid Bundle"));

  taxonomy = cd_taxonomy_new_default(&error);
  g_assert_no_error(error);
  g_assert_true(json_parser_load_from_file(parser, bundle_path, &error));
  g_assert_no_error(error);
  bundle = json_node_get_object(json_parser_get_root(parser));
  g_assert_cmpstr(json_object_get_string_member(bundle, "type"), ==, "transaction");
  entries = json_object_get_array_member(bundle, "entry");
  g_assert_cmpuint(json_array_get_length(entries), ==, n_filed);
  for (guint i = 0; i < json_array_get_length(entries); i++) {
    JsonObject *entry = json_array_get_object_element(entries, i);
    JsonObject *res = json_object_get_object_member(entry, "resource");
    JsonObject *subject = json_object_get_object_member(res, "subject");
    JsonObject *ident = json_object_get_object_member(subject, "identifier");
    JsonArray *codings = json_object_get_array_member(json_object_get_object_member(res, "type"), "coding");
    JsonObject *content = json_array_get_object_element(json_object_get_array_member(res, "content"), 0);
    JsonObject *att = json_object_get_object_member(content, "attachment");
    const gchar *doc_id = json_object_get_string_member(
        json_array_get_object_element(json_object_get_array_member(res, "identifier"), 0), "value");
    JsonObject *doc = NULL;
    const gchar *type;
    gsize pdf_len = 0;
    g_autofree guchar *pdf = g_base64_decode(json_object_get_string_member(att, "data"), &pdf_len);
    g_autofree gchar *sha1 = NULL;
    guint8 digest[20];
    gsize digest_len = sizeof digest;
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA1);

    for (guint d = 0; d < json_array_get_length(f->documents); d++) {
      JsonObject *o = json_array_get_object_element(f->documents, d);
      g_autofree gchar *s = g_strdup_printf("%" G_GINT64_FORMAT, json_object_get_int_member(o, "id"));
      if (g_strcmp0(s, doc_id) == 0)
        doc = o;
    }
    g_assert_nonnull(doc);
    type = json_object_get_string_member(doc, "type");
    g_assert_cmpstr(json_object_get_string_member(res, "resourceType"), ==, "DocumentReference");
    g_assert_cmpstr(json_object_get_string_member(res, "status"), ==, "current");
    g_assert_cmpstr(json_object_get_string_member(ident, "system"), ==,
                    "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14");
    g_assert_cmpstr(json_object_get_string_member(ident, "value"), ==,
                    json_object_get_string_member(json_object_get_object_member(doc, "patient"), "mrn"));
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(codings, 0), "system"), ==,
                    "http://loinc.org");
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(codings, 0), "code"), ==,
                    cd_taxonomy_get_loinc(taxonomy, type));
    g_assert_true(json_object_has_member(res, "category"));
    g_assert_cmpstr(json_object_get_string_member(att, "contentType"), ==, "application/pdf");
    g_assert_cmpint(json_object_get_int_member(att, "size"), ==, pdf_len);
    g_assert_true(pdf_len > 5 && memcmp(pdf, "%PDF-", 5) == 0);
    g_checksum_update(sum, pdf, pdf_len);
    g_checksum_get_digest(sum, digest, &digest_len);
    sha1 = g_base64_encode(digest, digest_len);
    g_assert_cmpstr(json_object_get_string_member(att, "hash"), ==, sha1);
    g_assert_cmpstr(
        json_object_get_string_member(
            json_object_get_object_member(json_object_get_object_member(res, "context"), "period"), "start"),
        ==, json_object_get_string_member(doc, "date"));
    g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(entry, "request"), "method"), ==,
                    "POST");
  }

  cd_test_chartdesk(&r2, "export", "--fhir", f->archive, "-o", binary_path, "--set", "fhir.attachment=binary", NULL);
  g_assert_cmpint(r2.status, ==, 0);
  g_assert_true(fhir_validate(binary_path, &validated2));
  {
    g_autoptr(JsonParser) p2 = json_parser_new();
    JsonArray *e2;
    JsonObject *bin;
    JsonObject *att;
    g_assert_true(json_parser_load_from_file(p2, binary_path, &error));
    e2 = json_object_get_array_member(json_node_get_object(json_parser_get_root(p2)), "entry");
    g_assert_cmpuint(json_array_get_length(e2), ==, 2 * n_filed);
    bin = json_array_get_object_element(e2, 0);
    g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(bin, "resource"), "resourceType"), ==,
                    "Binary");
    att = json_object_get_object_member(
        json_array_get_object_element(
            json_object_get_array_member(
                json_object_get_object_member(json_array_get_object_element(e2, 1), "resource"), "content"),
            0),
        "attachment");
    g_assert_cmpstr(json_object_get_string_member(att, "url"), ==, json_object_get_string_member(bin, "fullUrl"));
    g_assert_false(json_object_has_member(att, "data"));
  }
}

/* Debian's python3, where python3-hl7 lives (a python3 earlier on PATH
 * may be another one). */
static gboolean
have_python_hl7(void)
{
  const gchar *argv[] = { "/usr/bin/python3", "-c", "import hl7", NULL };
  gint status = -1;
  g_autofree gchar *out = NULL;

  if (!g_file_test(argv[0], G_FILE_TEST_IS_EXECUTABLE)) {
    g_test_skip("/usr/bin/python3 not installed");
    return FALSE;
  }
  out = run_tool(argv, &status);
  if (status != 0) {
    g_test_skip("python3-hl7 not installed (scripts/install-deps installs it)");
    return FALSE;
  }
  return TRUE;
}

/* Parses @message with python3-hl7 and returns what the test checks, one
 * field a line: message type, MRN, family name, TXA-2, TXA-12, OBX-2, and
 * the length and start of the decoded PDF. */
static gchar **
parse_hl7(const gchar *message_file)
{
  g_autofree gchar *script = g_test_build_filename(G_TEST_DIST, "tests", "hl7", "read_mdm.py", NULL);
  const gchar *argv[] = { "/usr/bin/python3", script, message_file, NULL };
  g_autofree gchar *out = run_tool(argv, NULL);
  return g_strsplit(out, "\n", -1);
}

/* Checks one MDM^T02 (in @file) against the document it carries. */
static void
check_mdm(Fixture *f, const gchar *file)
{
  g_auto(GStrv) fields = parse_hl7(file);
  JsonObject *doc = NULL;

  g_assert_cmpuint(g_strv_length(fields), >=, 8);
  g_assert_cmpstr(fields[0], ==, "MDM^T02^MDM_T02");
  for (guint d = 0; d < json_array_get_length(f->documents); d++) {
    JsonObject *o = json_array_get_object_element(f->documents, d);
    g_autofree gchar *s = g_strdup_printf("%" G_GINT64_FORMAT, json_object_get_int_member(o, "id"));
    if (g_strcmp0(s, fields[4]) == 0)
      doc = o;
  }
  g_assert_nonnull(doc);
  g_assert_cmpstr(fields[1], ==, json_object_get_string_member(json_object_get_object_member(doc, "patient"), "mrn"));
  g_assert_cmpstr(fields[2], ==,
                  json_object_get_string_member(json_object_get_object_member(doc, "patient"), "family"));
  g_assert_cmpstr(fields[3], ==, json_object_get_string_member(doc, "type"));
  g_assert_cmpstr(fields[5], ==, "ED");
  g_assert_cmpstr(fields[7], ==, "%PDF-");
  g_assert_cmpint(g_ascii_strtoll(fields[6], NULL, 10), >, 1000);
}

/* One MDM^T02 file per filed document, which python3-hl7 parses into the
 * right MRN, name, document type, document number and a PDF in OBX-5. */
static void
test_export_hl7_files(gconstpointer data)
{
  Fixture *f = fixture_get(data);
  g_autofree gchar *folder = g_build_filename(f->dir, "hl7", NULL);
  g_autoptr(GDir) listing = NULL;
  guint n = 0;
  g_auto(CdTestRun) r = { 0 };

  if (!have_python_hl7())
    return;
  cd_test_chartdesk(&r, "export", "--hl7", f->archive, "-o", folder, NULL);
  g_assert_cmpint(r.status, ==, 0);
  listing = g_dir_open(folder, 0, NULL);
  g_assert_nonnull(listing);
  for (const gchar *name; (name = g_dir_read_name(listing)) != NULL;) {
    g_autofree gchar *path = g_build_filename(folder, name, NULL);
    check_mdm(f, path);
    n++;
  }
  g_assert_cmpuint(n, >=, 2);
}

/* The MLLP listener: answers connection after connection as @script says,
 * one letter a message — 'c' closes without answering, 'n' answers a NAK
 * (MSA|AE), 'a' an ACK (MSA|AA) — and keeps every message it read. */
typedef struct {
  GSocketListener *listener;
  const gchar *script;
  GPtrArray *messages; /* gchar*, as read */
  guint answered;
} Peer;

static gchar *
read_frame(GInputStream *in)
{
  g_autoptr(GString) s = g_string_new(NULL);
  guchar c;
  gboolean started = FALSE;

  while (g_input_stream_read(in, &c, 1, NULL, NULL) == 1) {
    if (!started) {
      started = c == 0x0B;
      continue;
    }
    if (c == 0x1C) {
      g_input_stream_read(in, &c, 1, NULL, NULL);
      return g_string_free(g_steal_pointer(&s), FALSE);
    }
    g_string_append_c(s, c);
  }
  return NULL;
}

static gpointer
peer_thread(gpointer data)
{
  Peer *peer = data;
  guint step = 0;

  while (peer->script[step] != '\0') {
    g_autoptr(GSocketConnection) conn = g_socket_listener_accept(peer->listener, NULL, NULL, NULL);
    GInputStream *in;
    GOutputStream *out;
    if (conn == NULL)
      break;
    in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
    out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    while (peer->script[step] != '\0') {
      gchar *msg = read_frame(in);
      g_auto(GStrv) segs = NULL;
      g_auto(GStrv) msh = NULL;
      g_autofree gchar *ack = NULL;
      gchar code;
      if (msg == NULL)
        break;
      code = peer->script[step++];
      g_ptr_array_add(peer->messages, msg);
      if (code == 'c')
        break;
      segs = g_strsplit(msg, "\r", 2);
      msh = g_strsplit(segs[0], "|", -1);
      ack = g_strdup_printf(
          "\x0bMSH|^~\\&|EHR|HOSP|CHARTDESK||20261202000000||ACK^T02^ACK|A%u|P|2.5\rMSA|%s|%s%s\r\x1c\r", step,
          code == 'a' ? "AA" : "AE", msh[9], code == 'a' ? "" : "|busy, try again");
      g_output_stream_write_all(out, ack, strlen(ack), NULL, NULL, NULL);
      if (code == 'a')
        peer->answered++;
    }
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
  }
  return NULL;
}

/* Over MLLP the first document meets a closed connection and then a NAK,
 * and is resent (same control id) until ACKed; the next goes at once on
 * the same connection; every message received parses with python3-hl7.
 * A peer that never ACKs makes the export fail, naming the tries. */
static void
test_export_hl7_mllp(gconstpointer data)
{
  Fixture *f = fixture_get(data);
  Peer peer = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GThread) thread = NULL;
  g_autofree gchar *target = NULL;
  guint16 port;
  guint n_filed = 0;
  g_auto(CdTestRun) r = { 0 };
  g_auto(CdTestRun) r2 = { 0 };

  if (!have_python_hl7())
    return;
  for (guint i = 0; i < json_array_get_length(f->documents); i++) {
    if (g_strcmp0(json_object_get_string_member(json_array_get_object_element(f->documents, i), "status"), "filed") ==
        0)
      n_filed++;
  }
  g_assert_cmpuint(n_filed, ==, 2);
  peer.listener = g_socket_listener_new();
  port = g_socket_listener_add_any_inet_port(peer.listener, NULL, &error);
  g_assert_no_error(error);
  peer.script = "cnaa";
  peer.messages = g_ptr_array_new_with_free_func(g_free);
  thread = g_thread_new("mllp-peer", peer_thread, &peer);
  target = g_strdup_printf("127.0.0.1:%u", port);
  cd_test_chartdesk(&r, "export", "--hl7", f->archive, "--mllp", target, "--set", "hl7.retry-delay=0", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_thread_join(g_steal_pointer(&thread));
  g_assert_cmpuint(peer.answered, ==, 2);
  g_assert_cmpuint(peer.messages->len, ==, 4);
  /* the resends are the same message */
  g_assert_cmpstr(g_ptr_array_index(peer.messages, 0), ==, g_ptr_array_index(peer.messages, 1));
  g_assert_cmpstr(g_ptr_array_index(peer.messages, 1), ==, g_ptr_array_index(peer.messages, 2));
  g_assert_cmpstr(g_ptr_array_index(peer.messages, 2), !=, g_ptr_array_index(peer.messages, 3));
  for (guint i = 2; i < 4; i++) {
    g_autofree gchar *path = g_strdup_printf("%s/received-%u.hl7", f->dir, i);
    g_assert_true(g_file_set_contents(path, g_ptr_array_index(peer.messages, i), -1, NULL));
    check_mdm(f, path);
  }
  g_ptr_array_set_size(peer.messages, 0);

  /* NAK after NAK: 1 + retries tries, then an error that says so */
  peer.script = "nnn";
  peer.answered = 0;
  thread = g_thread_new("mllp-peer", peer_thread, &peer);
  cd_test_chartdesk(&r2, "export", "--hl7", f->archive, "--mllp", target, "--set", "hl7.retry-delay=0", "--set",
                    "hl7.retries=2", NULL);
  g_thread_join(g_steal_pointer(&thread));
  g_assert_cmpint(r2.status, ==, 1);
  g_assert_nonnull(strstr(r2.err, "3 tries"));
  g_assert_nonnull(strstr(r2.err, "the receiver answered AE: busy, try again"));
  g_assert_cmpuint(peer.messages->len, ==, 3);
  g_socket_listener_close(peer.listener);
  g_object_unref(peer.listener);
  g_ptr_array_unref(peer.messages);
}

int
main(int argc, char **argv)
{
  static const gchar *const pdf_samples[] = { "01-discharge-progress.tif", "ocr-only:04-radiology-colour.tif", NULL };
  static const gchar *const ehr_samples[] = { "01-discharge-progress.tif", NULL };
  gint ret;

  g_test_init(&argc, &argv, NULL);
  g_test_add_data_func("/chartdesk/export/pdf/documents", pdf_samples, test_export_pdf_documents);
  g_test_add_data_func("/chartdesk/export/pdf/selection", pdf_samples, test_export_pdf_selection);
  g_test_add_data_func("/chartdesk/export/pdf/authorised", pdf_samples, test_export_authorised);
  g_test_add_data_func("/chartdesk/export/fhir/bundle", ehr_samples, test_export_fhir);
  g_test_add_data_func("/chartdesk/export/hl7/files", ehr_samples, test_export_hl7_files);
  g_test_add_data_func("/chartdesk/export/hl7/mllp", ehr_samples, test_export_hl7_mllp);
  ret = g_test_run();
  if (shared.archive != NULL)
    fixture_tear_down(&shared);
  return ret;
}
