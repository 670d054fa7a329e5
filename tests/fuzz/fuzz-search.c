/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The search query on raw bytes, against a small real archive made once in
 * a temporary folder (three documents of two patients). The input is up to
 * six lines: the words (plain or FTS5 syntax), the MRN, the from and to
 * dates, the document type (read through the shipped taxonomy, as
 * `chartdesk search --type` does) and, if present and not empty, "search as
 * plain words". An empty line is an absent filter. Every outcome is either
 * at most `limit` hits, printed as `--json` prints them, or an error.
 */
#include "cd-fuzz.h"

static CdArchive *archive;
static CdTaxonomy *taxonomy;

static void
cd_fuzz_add_document(gint64 batch, const gchar *mrn, const gchar *type, const gchar *date, const gchar *sha,
                     const gchar *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdDocument) doc = cd_document_new();
  g_autoptr(CdPage) page = cd_page_new("box1/scan.tif", 0, sha);
  PIX *pix = pixCreate(32, 32, 1);

  pixSetPixel(pix, sha[0] % 32, 3, 1);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, 300, 300);
  cd_page_set_text(page, text);
  cd_page_set_confidence(page, 90.0);
  cd_document_set_patient_mrn(doc, mrn);
  cd_document_set_doc_type(doc, type, 0.9);
  cd_document_set_date(doc, date);
  cd_document_set_title(doc, "FUZZ");
  cd_document_add_page(doc, page);
  if (!cd_page_encode_image(page, &error) || !cd_archive_commit_document(archive, batch, doc, &error)) {
    g_printerr("cannot fill the archive: %s\n", error->message);
    exit(1);
  }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *path = g_build_filename(cd_fuzz_tmpdir(), "search.archive", NULL);
  const gchar *inputs[] = { "box1/", NULL };
  gint64 batch;

  cd_fuzz_init_logging();
  taxonomy = cd_taxonomy_new_from_file(CD_SOURCE_ROOT "/workflows/taxonomy.conf", &error);
  if (taxonomy == NULL) {
    g_printerr("%s\n", error->message);
    exit(1);
  }
  archive = cd_archive_open(path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  batch = archive != NULL ? cd_archive_begin_batch(archive, "fuzz", inputs, &error) : 0;
  if (batch <= 0) {
    g_printerr("%s: %s\n", path, error->message);
    exit(1);
  }
  cd_fuzz_add_document(batch, "00482913", "discharge-summary", "1998-03-02",
                       "aa00000000000000000000000000000000000000000000000000000000000001",
                       "Admitted with CHEST pain. Café au lait spots noted.");
  cd_fuzz_add_document(batch, "00700001", "radiology-report", "2004-11-20",
                       "bb00000000000000000000000000000000000000000000000000000000000002",
                       "Chest film: no acute disease. Seen by Dr. O'Brien.");
  cd_fuzz_add_document(batch, "00700001", "progress-note", "2010-01-15",
                       "cc00000000000000000000000000000000000000000000000000000000000003",
                       "Follow-up visit; chest pain resolved. Déjà vu reported.");
  return 0;
}

static const gchar *
cd_fuzz_field(gchar **fields, guint n)
{
  for (guint i = 0; i < n; i++) {
    if (fields[i] == NULL)
      return NULL;
  }
  return fields[n] != NULL && fields[n][0] != '\0' ? fields[n] : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *text = g_malloc(size + 1);
  g_auto(GStrv) fields = NULL;
  g_auto(GStrv) types = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(JsonNode) json = NULL;
  CdSearchQuery query = { 0 };

  memcpy(text, data, size);
  text[size] = '\0';
  fields = g_strsplit(text, "\n", 6);
  query.text = cd_fuzz_field(fields, 0);
  query.mrn = cd_fuzz_field(fields, 1);
  query.date_from = cd_fuzz_field(fields, 2);
  query.date_to = cd_fuzz_field(fields, 3);
  query.doc_type = cd_fuzz_field(fields, 4);
  query.plain = cd_fuzz_field(fields, 5) != NULL;
  query.limit = 5;
  if (query.doc_type != NULL) {
    types = cd_taxonomy_resolve_search(taxonomy, query.doc_type, &error);
    if (types == NULL) {
      g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
      return 0;
    }
    query.doc_types = (const gchar *const *) types;
  }
  hits = cd_archive_search(archive, &query, &error);
  if (hits == NULL) {
    g_assert_nonnull(error);
    return 0;
  }
  g_assert_cmpuint(hits->len, <=, 5);
  for (guint i = 0; i < hits->len; i++) {
    const CdSearchHit *hit = g_ptr_array_index(hits, i);
    g_assert_cmpint(hit->page_id, >, 0);
  }
  json = cd_search_hits_to_json(hits, query.text);
  g_assert_nonnull(json);
  return 0;
}
