/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Release of information end to end through `chartdesk roi` and
 * `chartdesk disclosures`, on a real archive: the packet PDF passes
 * `qpdf --check`, `pdftotext` shows the Bates numbers in order and the
 * footer on every page, the redacted word is gone from the text and its
 * pixels are black (rendered with `pdftoppm`), the stored manifest's
 * hashes match the archive and the file, and `roi reproduce` makes the
 * same bytes.
 */
#include <sqlite3.h>
#include <string.h>

#include "cd-engine.h"
#include "cd-test-util.h"

#define PAGE_W 1275 /* 8.5 × 11 inches at 150 dpi */
#define PAGE_H 1650
#define DPI 150

typedef struct {
  gchar *dir;
  gchar *archive;
} Fixture;

/* The word boxes of every page: [x, y, w, h] at DPI. */
static const struct {
  const gchar *text;
  gint x, y, w, h;
} words[] = {
  { "Patient", 150, 200, 220, 40 }, { "John", 400, 200, 150, 40 },   { "Smith", 580, 200, 180, 40 },
  { "walked", 790, 200, 200, 40 },  { "today", 1020, 200, 160, 40 },
};

static CdPage *
make_page(gint mark)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *sha = g_strnfill(64, 'a' + mark);
  CdPage *page = cd_page_new("box1/scan.tif", mark, sha);
  PIX *pix = pixCreate(PAGE_W, PAGE_H, 1);
  g_autoptr(GString) text = g_string_new(NULL);

  /* white where the words are (so a black box there is the redaction),
   * a black bar below them that no redaction touches */
  pixRasterop(pix, 150, 1000, 400 + mark * 10, 30, PIX_SET, NULL, 0, 0);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, DPI, DPI);
  for (guint i = 0; i < G_N_ELEMENTS(words); i++) {
    cd_page_add_word(page, cd_word_new(words[i].text, words[i].x, words[i].y, words[i].w, words[i].h, 95, 0));
    g_string_append_printf(text, "%s%s", i > 0 ? " " : "", words[i].text);
  }
  cd_page_set_text(page, text->str);
  g_assert_true(cd_page_encode_image(page, &error));
  g_assert_no_error(error);
  return page;
}

static gint64
commit_document(CdArchive *archive, gint64 batch, const gchar *type, const gchar *date, guint n_pages, gint mark)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdDocument) doc = cd_document_new();

  cd_document_set_patient_mrn(doc, "MRN001");
  cd_document_set_doc_type(doc, type, 0.9);
  cd_document_set_date(doc, date);
  cd_document_set_title(doc, type);
  for (guint i = 0; i < n_pages; i++) {
    g_autoptr(CdPage) page = make_page(mark + i);
    cd_document_add_page(doc, page);
  }
  g_assert_true(cd_archive_commit_document(archive, batch, doc, &error));
  g_assert_no_error(error);
  return cd_document_get_id(doc);
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GPtrArray) patients = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  CdImportStats stats = { 0 };
  CdPatient *p = cd_patient_new("MRN001");
  gint64 batch;

  f->dir = g_dir_make_tmp("cd-roi-cli-XXXXXX", &error);
  g_assert_no_error(error);
  f->archive = g_build_filename(f->dir, "test.archive", NULL);
  archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  p->family = g_strdup("SMITH");
  p->given = g_strdup("JOHN");
  p->dob = g_strdup("1960-01-02");
  g_ptr_array_add(patients, p);
  g_assert_true(cd_archive_import_patients(archive, patients, "csv", &stats, &error));
  g_assert_no_error(error);
  batch = cd_archive_begin_batch(archive, "test", NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(commit_document(archive, batch, "progress-note", "2024-03-01", 2, 0), ==, 1);
  g_assert_cmpint(commit_document(archive, batch, "discharge-summary", "2024-05-01", 1, 5), ==, 2);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  cd_test_rm_rf(f->dir);
  g_free(f->dir);
  g_free(f->archive);
}

/* Runs a tool; its standard output as bytes, NULL (test failed) if it
 * did not exit 0. */
static GBytes *
run_tool(const gchar *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;

  proc = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate(proc, NULL, NULL, &out, &err, &error));
  g_assert_no_error(error);
  if (g_subprocess_get_exit_status(proc) != 0) {
    g_test_message("%s: status %d: %.*s", argv[0], g_subprocess_get_exit_status(proc), (gint) g_bytes_get_size(err),
                   (const gchar *) g_bytes_get_data(err, NULL));
    g_test_fail();
    return NULL;
  }
  return g_steal_pointer(&out);
}

static gchar *
pdf_text(const gchar *pdf, gint page)
{
  g_autofree gchar *first = g_strdup_printf("%d", page);
  const gchar *all[] = { "pdftotext", "-enc", "UTF-8", pdf, "-", NULL };
  const gchar *one[] = { "pdftotext", "-enc", "UTF-8", "-f", first, "-l", first, pdf, "-", NULL };
  g_autoptr(GBytes) out = run_tool(page > 0 ? one : all);

  g_assert_nonnull(out);
  return g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
}

static guint
pdf_pages(const gchar *pdf)
{
  const gchar *argv[] = { "pdfinfo", pdf, NULL };
  g_autoptr(GBytes) out = run_tool(argv);
  g_autofree gchar *text = NULL;
  const gchar *line;

  g_assert_nonnull(out);
  text = g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
  line = strstr(text, "\nPages:");
  g_assert_nonnull(line);
  return g_ascii_strtoull(line + strlen("\nPages:"), NULL, 10); /* skips the spaces */
}

/* The grey value of a pixel of page @page rendered at 50 dpi (a third of
 * the page images' resolution). */
static guint8
pdf_pixel(const gchar *pdf, gint page, gint x, gint y)
{
  g_autofree gchar *p = g_strdup_printf("%d", page);
  const gchar *argv[] = { "pdftoppm", "-f", p, "-l", p, "-r", "50", "-gray", pdf, NULL };
  g_autoptr(GBytes) out = run_tool(argv);
  const guint8 *data;
  gsize size;
  guint w, h, max, off = 0;
  gint n = 0;

  g_assert_nonnull(out);
  data = g_bytes_get_data(out, &size);
  /* P5 WIDTH HEIGHT MAX, one whitespace, then the rows */
  g_assert_cmpint(sscanf((const gchar *) data, "P5 %u %u %u%n", &w, &h, &max, &n), ==, 3);
  off = n + 1;
  g_assert_cmpuint(x, <, w);
  g_assert_cmpuint(y, <, h);
  g_assert_cmpuint(off + (gsize) w * h, <=, size);
  return data[off + (gsize) y * w + x];
}

static gchar *
file_sha256(const gchar *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *data = NULL;
  gsize len;

  g_assert_true(g_file_get_contents(path, &data, &len, &error));
  g_assert_no_error(error);
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) data, len);
}

static gboolean
have_tools(void)
{
  const gchar *tools[] = { "qpdf", "pdftotext", "pdftoppm", "pdfinfo", NULL };

  for (guint i = 0; tools[i] != NULL; i++) {
    g_autofree gchar *path = g_find_program_in_path(tools[i]);
    if (path == NULL) {
      g_autofree gchar *msg =
          g_strdup_printf("%s is not installed (scripts/install-deps: qpdf, poppler-utils)", tools[i]);
      g_test_skip(msg);
      return FALSE;
    }
  }
  return TRUE;
}

/* From new to release and reproduce through the command line, and the
 * packet read back with qpdf and poppler. */
static void
test_roi_cli_packet(Fixture *f, gconstpointer data)
{
  g_auto(CdTestRun) r = { 0 };
  g_autofree gchar *packet = g_build_filename(f->dir, "packet.pdf", NULL);
  g_autofree gchar *again = g_build_filename(f->dir, "again.pdf", NULL);
  g_autofree gchar *bad_template = g_build_filename(f->dir, "bad.txt", NULL);
  g_autofree gchar *template = g_build_filename(f->dir, "letter.txt", NULL);
  g_autofree gchar *text = NULL;
  g_autofree gchar *footer = NULL;
  g_autofree gchar *sha = NULL;
  g_autofree gchar *sha_again = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree gchar *today = g_date_time_format(now, "%Y-%m-%d");
  const gchar *pos;
  guint n_pages;

  if (!have_tools())
    return;
  cd_test_chartdesk(&r, "roi", "new", f->archive, "--mrn", "MRN001", "--requester", "Law Office of A. Brown",
                    "--recipient", "A. Brown, Esq.", "--address", "12 Elm St, Springfield", "--purpose", "legal",
                    "--authorisation", "AUTH-2025-118", "--user", "rita", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "request 1 created"));
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "roi", "add", f->archive, "1", "document:1", "--user", "rita", NULL);
  g_assert_cmpint(r.status, ==, 0);
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "roi", "add", f->archive, "1", "--type", "discharge-summary", "--from", "2024-01-01", "--to",
                    "2024-12-31", "--user", "rita", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "1 document(s) added"));
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "roi", "redact", f->archive, "1", "--words", "smith", "--user", "rita", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "3 word(s)"));
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "roi", "redact", f->archive, "1", "--page", "1", "--rect", "150,600,300,100", "--user", "rita",
                    NULL);
  g_assert_cmpint(r.status, ==, 0);
  cd_test_run_clear(&r);
  /* two people: rita prepared it, sam approves */
  cd_test_chartdesk(&r, "roi", "settings", f->archive, "roi.two-person", "true", NULL);
  g_assert_cmpint(r.status, ==, 0);
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "roi", "approve", f->archive, "1", "--user", "rita", NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_nonnull(strstr(r.err, "another user with the roi role"));
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "roi", "approve", f->archive, "1", "--user", "sam", NULL);
  g_assert_cmpint(r.status, ==, 0);
  cd_test_run_clear(&r);

  /* a template with a typo releases nothing */
  g_assert_true(g_file_set_contents(bad_template, "Dear ${recipent}\n", -1, NULL));
  cd_test_chartdesk(&r, "roi", "release", f->archive, "1", "-o", packet, "--template", bad_template, NULL);
  g_assert_cmpint(r.status, !=, 0);
  g_assert_nonnull(strstr(r.err, "unknown placeholder ${recipent}"));
  g_assert_false(g_file_test(packet, G_FILE_TEST_EXISTS));
  cd_test_run_clear(&r);

  g_assert_true(g_file_set_contents(template,
                                    "# our own letter\nOur ref ${request}\n${date}\n\nTo ${recipient}\n\nRe: "
                                    "${patient}, for ${purpose}\n\n${documents}\n",
                                    -1, NULL));
  cd_test_chartdesk(&r, "roi", "release", f->archive, "1", "-o", packet, "--template", template, "--user", "sam", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "released"));
  cd_test_run_clear(&r);

  /* the file is sound */
  {
    const gchar *argv[] = { "qpdf", "--check", packet, NULL };
    g_autoptr(GBytes) out = run_tool(argv);
    g_assert_nonnull(out);
  }
  /* every page numbered, in order, and with the footer */
  n_pages = pdf_pages(packet);
  g_assert_cmpuint(n_pages, >=, 5);
  text = pdf_text(packet, 0);
  pos = text;
  for (guint i = 1; i <= n_pages; i++) {
    g_autofree gchar *bates = g_strdup_printf("ROI1-%06u", i);
    const gchar *at = strstr(pos, bates);
    g_assert_nonnull(at);
    pos = at + strlen(bates);
  }
  g_assert_null(strstr(text, "ROI1-000000"));
  {
    g_autofree gchar *beyond = g_strdup_printf("ROI1-%06u", n_pages + 1);
    g_assert_null(strstr(text, beyond));
  }
  footer = g_strdup_printf("Released to A. Brown, Esq. on %s \u2014 request 1", today);
  for (guint i = 1; i <= n_pages; i++) {
    g_autofree gchar *page_text = pdf_text(packet, i);
    g_assert_nonnull(strstr(page_text, footer));
  }
  /* the hospital's letter, the inventory */
  g_assert_nonnull(strstr(text, "Our ref 1 from Law Office of A. Brown"));
  g_assert_nonnull(strstr(text, "12 Elm St, Springfield"));
  g_assert_nonnull(strstr(text, "Inventory"));
  /* the redacted word is nowhere in the text, its neighbours are */
  {
    g_autofree gchar *doc_page = pdf_text(packet, n_pages - 2);
    g_assert_nonnull(strstr(doc_page, "John"));
    g_assert_nonnull(strstr(doc_page, "walked"));
    g_assert_null(strstr(doc_page, "Smith"));
  }
  /* the patient's family name is SMITH on the cover letter: compare case */
  g_assert_null(strstr(text, "Smith"));
  /* black where Smith and the rectangle were (their centres, at 50 dpi),
   * white where nothing was, the untouched bar still black */
  g_assert_cmpuint(pdf_pixel(packet, n_pages - 2, (580 + 90) / 3, (200 + 20) / 3), <, 64);
  g_assert_cmpuint(pdf_pixel(packet, n_pages - 2, (150 + 150) / 3, (600 + 50) / 3), <, 64);
  g_assert_cmpuint(pdf_pixel(packet, n_pages - 2, (400 + 75) / 3, (200 + 20) / 3), >, 192);
  g_assert_cmpuint(pdf_pixel(packet, n_pages - 2, 300 / 3, 1015 / 3), <, 64);
  /* the second page of the document has Smith blacked out, not the rectangle */
  g_assert_cmpuint(pdf_pixel(packet, n_pages - 1, (580 + 90) / 3, (200 + 20) / 3), <, 64);
  g_assert_cmpuint(pdf_pixel(packet, n_pages - 1, (150 + 150) / 3, (600 + 50) / 3), >, 192);

  /* the manifest names the file and the archive's images */
  sha = file_sha256(packet);
  {
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) error = NULL;
    JsonObject *m;
    JsonArray *docs;
    guint checked = 0;

    g_assert_cmpint(sqlite3_open_v2(f->archive, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_prepare_v2(db, "SELECT manifest, pdf_sha256, pages FROM roi_packets WHERE request_id = 1",
                                       -1, &stmt, NULL),
                    ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
    g_assert_cmpstr((const gchar *) sqlite3_column_text(stmt, 1), ==, sha);
    g_assert_cmpint(sqlite3_column_int(stmt, 2), ==, n_pages);
    g_assert_true(json_parser_load_from_data(parser, (const gchar *) sqlite3_column_text(stmt, 0), -1, &error));
    sqlite3_finalize(stmt);
    m = json_node_get_object(json_parser_get_root(parser));
    {
      g_autofree gchar *last = g_strdup_printf("ROI1-%06u", n_pages);
      g_assert_cmpstr(json_object_get_string_member(m, "bates_last"), ==, last);
    }
    docs = json_object_get_array_member(m, "documents");
    g_assert_cmpuint(json_array_get_length(docs), ==, 2);
    for (guint i = 0; i < json_array_get_length(docs); i++) {
      JsonArray *pages = json_object_get_array_member(json_array_get_object_element(docs, i), "pages");
      for (guint j = 0; j < json_array_get_length(pages); j++) {
        JsonObject *page = json_array_get_object_element(pages, j);
        g_autofree gchar *actual = NULL;
        g_assert_false(json_object_has_member(page, "words"));
        g_assert_cmpint(sqlite3_prepare_v2(db,
                                           "SELECT i.data FROM pages p JOIN images i ON i.sha256 = "
                                           "p.image_sha256 WHERE p.id = ?",
                                           -1, &stmt, NULL),
                        ==, SQLITE_OK);
        sqlite3_bind_int64(stmt, 1, json_object_get_int_member(page, "id"));
        g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
        actual =
            g_compute_checksum_for_data(G_CHECKSUM_SHA256, sqlite3_column_blob(stmt, 0), sqlite3_column_bytes(stmt, 0));
        sqlite3_finalize(stmt);
        g_assert_cmpstr(actual, ==, json_object_get_string_member(page, "image_sha256"));
        checked++;
      }
    }
    g_assert_cmpuint(checked, ==, 3);
    sqlite3_close(db);
  }

  /* made again: the same bytes, said and shown */
  cd_test_chartdesk(&r, "roi", "reproduce", f->archive, "1", "-o", again, "--user", "sam", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "identical"));
  cd_test_run_clear(&r);
  sha_again = file_sha256(again);
  g_assert_cmpstr(sha_again, ==, sha);

  /* shown, and in the patient's accounting */
  cd_test_chartdesk(&r, "roi", "show", f->archive, "1", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "released"));
  g_assert_nonnull(strstr(r.out, sha));
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "disclosures", f->archive, "MRN001", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "To: A. Brown, Esq., 12 Elm St, Springfield"));
  g_assert_nonnull(strstr(r.out, "Purpose: legal (AUTH-2025-118)"));
  g_assert_nonnull(strstr(r.out, "2 documents (progress-note of 2024-03-01; discharge-summary of 2024-05-01)"));
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "disclosures", f->archive, "MRN001", "--from", "2030-01-01", "--json", NULL);
  g_assert_cmpint(r.status, ==, 0);
  {
    g_autoptr(JsonParser) parser = json_parser_new();
    g_assert_true(json_parser_load_from_data(parser, r.out, -1, NULL));
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
                         json_node_get_object(json_parser_get_root(parser)), "disclosures")),
                     ==, 0);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add("/chartdesk/roi-cli/packet", Fixture, NULL, fixture_set_up, test_roi_cli_packet, fixture_tear_down);
  return g_test_run();
}
