/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The identity stages on pages whose text is given, against a real archive
 * and patient index: every linking rule and every misfile trap.
 */
#include "cd-engine.h"

#include "../cd-boundary.h"
#include "../cd-identity-common.h"

static CdRegistry *registry;

typedef struct {
  gchar *dir;
  CdArchive *archive;
  CdPageStage *header;
  CdSplitter *splitter;
  CdDocStage *link;
} Fixture;

static CdPatient *
patient(const gchar *mrn, const gchar *family, const gchar *given, const gchar *dob)
{
  CdPatient *p = cd_patient_new(mrn);
  p->family = g_strdup(family);
  p->given = g_strdup(given);
  p->dob = g_strdup(dob);
  return p;
}

static GObject *
make_stage(const gchar *name)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, name, &error);
  g_assert_no_error(error);
  return g_object_new(type, NULL);
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *path = NULL;
  g_autoptr(GPtrArray) mpi = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  CdPatient *merged;
  CdImportStats stats = { 0 };

  f->dir = g_dir_make_tmp("cd-identity-XXXXXX", &error);
  g_assert_no_error(error);
  path = g_build_filename(f->dir, "test.archive", NULL);
  f->archive = cd_archive_open(path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);

  g_ptr_array_add(mpi, patient("00482913", "DOE", "JANE", "1952-03-14"));
  g_ptr_array_add(mpi, patient("00482914", "DOE", "JOHN", "1950-07-01"));   /* her husband */
  g_ptr_array_add(mpi, patient("00555123", "SMITH", "MARY", "1961-11-02")); /* namesakes */
  g_ptr_array_add(mpi, patient("00555124", "SMITH", "MARY", "1974-05-19"));
  g_ptr_array_add(mpi, patient("00700001", "GARCIA", "LUIS", "1948-01-30"));
  g_ptr_array_add(mpi, patient("00300300", "OKAFOR", "CHIDI", "1985-04-04"));
  merged = patient("00111111", "OKAFOR", "CHIDI", "1985-04-04");
  merged->merged_into = g_strdup("00300300");
  g_ptr_array_add(mpi, merged);
  g_assert_true(cd_archive_import_patients(f->archive, mpi, "test", &stats, &error));
  g_assert_no_error(error);

  f->header = CD_PAGE_STAGE(make_stage("header"));
  f->splitter = CD_SPLITTER(make_stage("chart"));
  f->link = CD_DOC_STAGE(make_stage("patient-link"));
  cd_stage_set_archive(CD_STAGE(f->link), f->archive);
  g_assert_true(cd_stage_start(CD_STAGE(f->header), &error));
  g_assert_no_error(error);
  g_assert_true(cd_stage_start(CD_STAGE(f->splitter), &error));
  g_assert_no_error(error);
  g_assert_true(cd_stage_start(CD_STAGE(f->link), &error));
  g_assert_no_error(error);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  g_autofree gchar *rm = g_strdup_printf("rm -rf %s", f->dir);

  cd_stage_stop(CD_STAGE(f->header));
  cd_stage_stop(CD_STAGE(f->splitter));
  cd_stage_stop(CD_STAGE(f->link));
  g_clear_object(&f->header);
  g_clear_object(&f->splitter);
  g_clear_object(&f->link);
  g_clear_object(&f->archive);
  g_assert_true(g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL));
  g_free(f->dir);
}

/* A page of @path with @text, read by the header stage. */
static CdPage *
text_page(Fixture *f, const gchar *path, gint index, const gchar *text)
{
  g_autoptr(GError) error = NULL;
  CdPage *page = cd_page_new(path, index, "0000");

  cd_page_set_text(page, text);
  g_assert_true(cd_page_stage_process(f->header, page, NULL, &error));
  g_assert_no_error(error);
  return page;
}

static void
add_barcode(CdPage *page, const gchar *symbology, const gchar *payload)
{
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
  g_variant_builder_open(&b, G_VARIANT_TYPE("a{sv}"));
  g_variant_builder_add(&b, "{sv}", "symbology", g_variant_new_string(symbology));
  g_variant_builder_add(&b, "{sv}", "payload", g_variant_new_string(payload));
  g_variant_builder_close(&b);
  cd_page_set_fact(page, CD_FACT_BARCODES, g_variant_builder_end(&b));
}

static gchar *
fact(CdPage *page, const gchar *key)
{
  return cd_identity_page_string(page, key);
}

/* Runs the splitter over @pages as the pipeline does: documents are
 * returned in order, set-aside pages are left out. */
static GPtrArray *
split(Fixture *f, CdPage **pages, guint n)
{
  GPtrArray *docs = g_ptr_array_new_with_free_func(g_object_unref);
  CdDocument *current = NULL;

  for (guint i = 0; i < n; i++) {
    g_autoptr(GError) error = NULL;
    CdSplitDecision decision = CD_SPLIT_CONTINUE;
    g_assert_true(cd_splitter_decide(f->splitter, pages[i], current, &decision, &error));
    g_assert_no_error(error);
    if (cd_page_get_kind(pages[i]) != CD_PAGE_KIND_PAGE)
      continue;
    if (current == NULL || decision == CD_SPLIT_NEW_DOCUMENT) {
      current = cd_document_new();
      g_ptr_array_add(docs, current);
    }
    cd_document_add_page(current, pages[i]);
  }
  return docs;
}

/* Links a document of pages with @texts (no cover sheet). */
static CdDocument *
link_texts(Fixture *f, const gchar *const *texts)
{
  g_autoptr(GError) error = NULL;
  CdDocument *doc = cd_document_new();

  for (guint i = 0; texts[i] != NULL; i++) {
    g_autoptr(CdPage) page = text_page(f, "chart.tif", i, texts[i]);
    cd_document_add_page(doc, page);
  }
  g_assert_true(cd_doc_stage_process(f->link, doc, NULL, &error));
  g_assert_no_error(error);
  return doc;
}

static void
link_stage(Fixture *f, CdDocument *doc)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(cd_doc_stage_process(f->link, doc, NULL, &error));
  g_assert_no_error(error);
}

static gboolean
has_problem(CdDocument *doc, const gchar *needle)
{
  GPtrArray *problems = cd_document_get_problems(doc);
  for (guint i = 0; i < problems->len; i++) {
    if (strstr(g_ptr_array_index(problems, i), needle) != NULL)
      return TRUE;
  }
  g_test_message("no problem with '%s' among %u", needle, problems->len);
  for (guint i = 0; i < problems->len; i++)
    g_test_message("  %s", (gchar *) g_ptr_array_index(problems, i));
  return FALSE;
}

/* ------------------------------------------------------------ header */

static void
test_header_formats(Fixture *f, gconstpointer data)
{
  struct {
    const gchar *text;
    const gchar *mrn, *family, *given, *dob;
  } cases[] = {
    { "MERCY GENERAL HOSPITAL\nMRN: 00482913\nNAME: DOE, JANE A.\nDOB 03/14/1952\n", "00482913", "DOE", "JANE",
      "1952-03-14" },
    { "MED REC NO 00482913   Patient: Jane A. Doe\nBIRTH DATE: 1952-03-14\n", "00482913", "DOE", "JANE", "1952-03-14" },
    { "#00482913 Patient Name: O'Brien, Mary\nDate of Birth: March 14, 1952\n", "00482913", "O'BRIEN", "MARY",
      "1952-03-14" },
    { "Medical Record Number: 0O4B29l3\nD.O.B. 3-14-1952\n", "0O4B29l3", NULL, NULL, "1952-03-14" },
    { "Progress note\nThe patient is doing well.\n", NULL, NULL, NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(CdPage) page = text_page(f, "a.tif", 0, cases[i].text);
    g_autofree gchar *mrn = fact(page, CD_FACT_HEADER_MRN);
    g_autofree gchar *family = fact(page, CD_FACT_HEADER_FAMILY);
    g_autofree gchar *given = fact(page, CD_FACT_HEADER_GIVEN);
    g_autofree gchar *dob = fact(page, CD_FACT_HEADER_DOB);
    g_test_message("case %u", i);
    g_assert_cmpstr(mrn, ==, cases[i].mrn);
    g_assert_cmpstr(family, ==, cases[i].family);
    g_assert_cmpstr(given, ==, cases[i].given);
    g_assert_cmpstr(dob, ==, cases[i].dob);
  }
}

/* The date of service under its usual labels dates the page; a date of
 * birth or a bare date in the body never does; the document takes its
 * first page's date, not a continuation page's. */
static void
test_header_document_date(Fixture *f, gconstpointer data)
{
  struct {
    const gchar *text;
    const gchar *date;
  } cases[] = {
    { "VALLEY REGIONAL\nDISCHARGE SUMMARY\nMRN: 00482913\nDOB 03/14/1952\nDate of service: 12/10/1981\n",
      "1981-12-10" },
    { "OPERATIVE REPORT\nDATE OF PROCEDURE 3-O4-1998\n", "1998-03-04" },
    { "RADIOLOGY\nExam date: March 2, 1998\n", "1998-03-02" },
    { "ADMISSION DATE: 1998-02-27\nDISCHARGE DATE: 1998-03-02\n", "1998-02-27" },
    { "PROGRESS NOTE\nDOB 03/14/1952\nSeen on 04/05/1990 in clinic.\n", NULL },
  };
  const gchar *const pages[] = { "PROGRESS NOTE\nMRN: 00482913\nDate of service: 01/02/1990\n",
                                 "continued\nDate of service: 01/09/1990\n", NULL };
  g_autoptr(CdDocument) doc = NULL;

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(CdPage) page = text_page(f, "a.tif", 0, cases[i].text);
    g_autofree gchar *date = fact(page, CD_FACT_HEADER_DATE);
    g_test_message("case %u", i);
    g_assert_cmpstr(date, ==, cases[i].date);
  }
  doc = link_texts(f, pages);
  g_assert_cmpstr(cd_document_get_date(doc), ==, "1990-01-02");
}

/* Identifiers deep in the body of a note are not the page's header; two
 * different MRNs in the header are a conflict; page numbers and titles. */
static void
test_header_zone_and_conflicts(Fixture *f, gconstpointer data)
{
  g_autoptr(GString) body = g_string_new("DISCHARGE SUMMARY\nPage 1 of 3\n");
  g_autoptr(CdPage) deep = NULL;
  g_autoptr(CdPage) two = NULL;
  g_autoptr(CdPage) same = NULL;
  g_autofree gchar *mrn = NULL;
  g_autofree gchar *title = NULL;
  g_autofree gchar *conflict = NULL;
  g_autofree gchar *no_conflict = NULL;
  g_autoptr(GVariant) page_of = NULL;
  guint32 n, m;

  for (guint i = 0; i < 30; i++)
    g_string_append(body, "The patient was seen and examined today.\n");
  g_string_append(body, "Her brother, MRN: 00482914, visited.\n");
  for (guint i = 0; i < 10; i++)
    g_string_append(body, "Plan as discussed with the family.\n");
  deep = text_page(f, "a.tif", 0, body->str);
  mrn = fact(deep, CD_FACT_HEADER_MRN);
  g_assert_null(mrn);
  title = fact(deep, CD_FACT_HEADER_TITLE);
  g_assert_cmpstr(title, ==, "DISCHARGE SUMMARY");
  page_of = cd_page_get_fact(deep, CD_FACT_HEADER_PAGE);
  g_assert_nonnull(page_of);
  g_variant_get(page_of, "(uu)", &n, &m);
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmpuint(m, ==, 3);

  two = text_page(f, "a.tif", 0, "MRN: 00482913\nNAME: DOE, JANE\nRe: MRN 00482914\n");
  conflict = fact(two, CD_FACT_HEADER_CONFLICT);
  g_assert_nonnull(strstr(conflict, "two MRNs"));

  /* the same MRN twice, once with a letter for a digit, is no conflict */
  same = text_page(f, "a.tif", 0, "MRN: 00482913\nNAME: DOE, JANE\nMRN: O0482913\n");
  no_conflict = fact(same, CD_FACT_HEADER_CONFLICT);
  g_assert_null(no_conflict);
}

/* ------------------------------------------------------------ linking */

static void
test_link_proven(Fixture *f, gconstpointer data)
{
  /* MRN and name */
  g_autoptr(CdDocument) a = link_texts(f, (const gchar *const[]){ "MRN: 00482913\nNAME: DOE, JANE A.\n", NULL });
  /* MRN and date of birth */
  g_autoptr(CdDocument) b = link_texts(f, (const gchar *const[]){ "MRN: 00482913\nDOB 03/14/1952\n", NULL });
  /* a long family name with one misread letter, where the MRN is exact */
  g_autoptr(CdDocument) c = link_texts(f, (const gchar *const[]){ "MRN: 00700001\nNAME: GARC1A, LUIS\n", NULL });

  g_assert_cmpstr(cd_document_get_patient_mrn(a), ==, "00482913");
  g_assert_cmpuint(cd_document_get_problems(a)->len, ==, 0);
  g_assert_false(cd_document_needs_review(a));
  g_assert_cmpstr(cd_document_get_patient_mrn(b), ==, "00482913");
  g_assert_cmpstr(cd_document_get_patient_mrn(c), ==, "00700001");
}

static void
test_link_needs_second_identifier(Fixture *f, gconstpointer data)
{
  g_autoptr(CdDocument) doc = link_texts(f, (const gchar *const[]){ "MRN: 00482913\nLab results\n", NULL });

  g_assert_null(cd_document_get_patient_mrn(doc));
  g_assert_true(cd_document_needs_review(doc));
  g_assert_true(has_problem(doc, "not confirmed by a name or date of birth"));
}

static void
test_link_unknown_mrn(Fixture *f, gconstpointer data)
{
  g_autoptr(CdDocument) doc = link_texts(f, (const gchar *const[]){ "MRN: 09999999\nNAME: DOE, JANE\n", NULL });

  g_assert_null(cd_document_get_patient_mrn(doc));
  g_assert_true(has_problem(doc, "unknown MRN: page 1 reads MRN 09999999"));
}

/* The MRN is someone's, but the page names someone else: never filed,
 * whichever of the two it is. */
static void
test_link_conflicting_name(Fixture *f, gconstpointer data)
{
  g_autoptr(CdDocument) other = link_texts(f, (const gchar *const[]){ "MRN: 00482913\nNAME: GARCIA, LUIS\n", NULL });
  /* her husband: same family name, same street, different given name */
  g_autoptr(CdDocument) sibling = link_texts(f, (const gchar *const[]){ "MRN: 00482913\nNAME: DOE, JOHN\n", NULL });
  /* the right name, the wrong date of birth */
  g_autoptr(CdDocument) dob =
      link_texts(f, (const gchar *const[]){ "MRN: 00482913\nNAME: DOE, JANE\nDOB: 07/01/1950\n", NULL });

  g_assert_null(cd_document_get_patient_mrn(other));
  g_assert_true(has_problem(other, "conflicting identifiers"));
  g_assert_null(cd_document_get_patient_mrn(sibling));
  g_assert_true(has_problem(sibling, "but names DOE, JOHN"));
  g_assert_null(cd_document_get_patient_mrn(dob));
  g_assert_true(has_problem(dob, "date of birth 1950-07-01"));
}

/* Letters read for digits are undone only with the index's confirmation;
 * a digit read as another digit is never guessed. */
static void
test_link_ocr_variants(Fixture *f, gconstpointer data)
{
  g_autoptr(CdDocument) fixed = link_texts(f, (const gchar *const[]){ "MRN: O0482913\nNAME: DOE, JANE\n", NULL });
  g_autoptr(CdDocument) fixed_dob = link_texts(f, (const gchar *const[]){ "MRN: 0O4B29l3\nDOB: 03/14/1952\n", NULL });
  g_autoptr(CdDocument) alone = link_texts(f, (const gchar *const[]){ "MRN: O0482913\nDischarge\n", NULL });
  g_autoptr(CdDocument) digit = link_texts(f, (const gchar *const[]){ "MRN: 00482918\nNAME: DOE, JANE\n", NULL });
  /* the variant is in the index but the name is another patient's */
  g_autoptr(CdDocument) wrong = link_texts(f, (const gchar *const[]){ "MRN: O0482913\nNAME: DOE, JOHN\n", NULL });

  g_assert_cmpstr(cd_document_get_patient_mrn(fixed), ==, "00482913");
  g_assert_cmpstr(cd_document_get_patient_mrn(fixed_dob), ==, "00482913");
  g_assert_null(cd_document_get_patient_mrn(alone));
  g_assert_true(has_problem(alone, "unknown MRN"));
  g_assert_null(cd_document_get_patient_mrn(digit));
  g_assert_true(has_problem(digit, "unknown MRN"));
  g_assert_null(cd_document_get_patient_mrn(wrong));
}

/* Namesakes: a name, even with a birth date, never files a document. */
static void
test_link_namesakes(Fixture *f, gconstpointer data)
{
  g_autoptr(CdDocument) name = link_texts(f, (const gchar *const[]){ "NAME: SMITH, MARY\nClinic visit\n", NULL });
  g_autoptr(CdDocument) name_dob = link_texts(f, (const gchar *const[]){ "NAME: SMITH, MARY\nDOB 11/02/1961\n", NULL });
  g_autoptr(CdDocument) unique = link_texts(f, (const gchar *const[]){ "NAME: GARCIA, LUIS\n", NULL });
  /* the MRN tells the namesakes apart */
  g_autoptr(CdDocument) mrn = link_texts(f, (const gchar *const[]){ "MRN 00555124\nNAME: SMITH, MARY\n", NULL });

  g_assert_null(cd_document_get_patient_mrn(name));
  g_assert_true(has_problem(name, "ambiguous namesake"));
  g_assert_null(cd_document_get_patient_mrn(name_dob));
  g_assert_true(has_problem(name_dob, "ambiguous namesake"));
  g_assert_null(cd_document_get_patient_mrn(unique));
  g_assert_true(has_problem(unique, "an MRN is needed"));
  g_assert_cmpstr(cd_document_get_patient_mrn(mrn), ==, "00555124");
}

static void
test_link_no_identifier(Fixture *f, gconstpointer data)
{
  g_autoptr(CdDocument) doc = link_texts(f, (const gchar *const[]){ "Vital signs stable.\n", NULL });

  g_assert_null(cd_document_get_patient_mrn(doc));
  g_assert_true(has_problem(doc, "no identifier"));
}

/* Continuation pages inherit; a continuation naming someone else blocks. */
static void
test_link_continuation(Fixture *f, gconstpointer data)
{
  g_autoptr(CdDocument) ok = link_texts(
      f, (const gchar *const[]){ "MRN: 00482913\nNAME: DOE, JANE\n", "more text\n", "DOE, JANE MRN 00482913\n", NULL });
  g_autoptr(CdDocument) mixed = link_texts(
      f, (const gchar *const[]){ "MRN: 00482913\nNAME: DOE, JANE\n", "MRN: 00700001 NAME: GARCIA, LUIS\n", NULL });

  g_assert_cmpstr(cd_document_get_patient_mrn(ok), ==, "00482913");
  g_assert_false(cd_document_needs_review(ok));
  g_assert_null(cd_document_get_patient_mrn(mixed));
  g_assert_true(has_problem(mixed, "conflicting identifiers: page 1 is 00482913 but page 2 is 00700001"));
}

static void
test_link_merged(Fixture *f, gconstpointer data)
{
  g_autoptr(CdDocument) doc = link_texts(f, (const gchar *const[]){ "MRN: 00111111\nDOB 04/04/1985\n", NULL });

  g_assert_cmpstr(cd_document_get_patient_mrn(doc), ==, "00300300");
}

/* ------------------------------------------------------ cover sheets */

static CdPage *
cover_page(Fixture *f, const gchar *path, gint index, const gchar *mrn, const gchar *text)
{
  CdPage *page = text_page(f, path, index, text);
  g_autofree gchar *payload = g_strdup_printf("MRN%s", mrn);
  add_barcode(page, "CODE-39", payload);
  return page;
}

static void
test_cover_sheet_files_headerless_pages(Fixture *f, gconstpointer data)
{
  CdPage *pages[] = {
    cover_page(f, "c.tif", 0, "00482913", "PATIENT CHART\nNAME: DOE, JANE A.\nDOB 03/14/1952\nMRN 00482913\n"),
    text_page(f, "c.tif", 1, "Nursing flowsheet\nTemp 37.1\n"),
    text_page(f, "c.tif", 2, "More vitals\n"),
  };
  g_autoptr(GPtrArray) docs = split(f, pages, G_N_ELEMENTS(pages));
  g_autofree gchar *cover_mrn = fact(pages[1], CD_FACT_COVER_MRN);

  g_assert_cmpint(cd_page_get_kind(pages[0]), ==, CD_PAGE_KIND_COVER);
  g_assert_cmpstr(cd_page_get_reason(pages[0]), ==, "cover sheet for MRN 00482913");
  g_assert_cmpstr(cover_mrn, ==, "00482913");
  g_assert_cmpuint(docs->len, ==, 1);
  link_stage(f, g_ptr_array_index(docs, 0));
  g_assert_cmpstr(cd_document_get_patient_mrn(g_ptr_array_index(docs, 0)), ==, "00482913");
  for (guint i = 0; i < G_N_ELEMENTS(pages); i++)
    g_object_unref(pages[i]);
}

/* A cover sheet whose printed name is not legible proves nothing alone. */
static void
test_cover_sheet_uncorroborated(Fixture *f, gconstpointer data)
{
  CdPage *pages[] = {
    cover_page(f, "c.tif", 0, "00482913", "PATIENT CHART\n"),
    text_page(f, "c.tif", 1, "Nursing flowsheet\n"),
  };
  g_autoptr(GPtrArray) docs = split(f, pages, G_N_ELEMENTS(pages));

  link_stage(f, g_ptr_array_index(docs, 0));
  g_assert_null(cd_document_get_patient_mrn(g_ptr_array_index(docs, 0)));
  g_assert_true(has_problem(g_ptr_array_index(docs, 0), "not confirmed"));
  for (guint i = 0; i < G_N_ELEMENTS(pages); i++)
    g_object_unref(pages[i]);
}

/* The misfile traps: a document of another patient inside a chart. */
static void
test_cover_sheet_misfile_traps(Fixture *f, gconstpointer data)
{
  CdPage *pages[] = {
    cover_page(f, "c.tif", 0, "00482913", "NAME: DOE, JANE A.\nDOB 03/14/1952\n"),
    text_page(f, "c.tif", 1, "PROGRESS NOTE\nMRN: 00482913 NAME: DOE, JANE\nStable.\n"),
    /* another proven patient's document: filed under its own patient */
    text_page(f, "c.tif", 2, "RADIOLOGY REPORT\nMRN: 00700001\nNAME: GARCIA, LUIS\nChest film.\n"),
    text_page(f, "c.tif", 3, "Impression: clear.\n"),
    /* an unknown patient's document: a possible misfile, to review */
    text_page(f, "c.tif", 4, "LABORATORY REPORT\nMRN: 07777777\nNAME: ROE, RICHARD\n"),
    /* a name only, someone else's: never the cover's patient */
    text_page(f, "c.tif", 5, "CONSULTATION NOTE\nNAME: SMITH, MARY\n"),
    /* back to headerless pages: no header contradicts the cover */
    text_page(f, "c.tif", 6, "NURSING NOTE\nAmbulating.\n"),
  };
  g_autoptr(GPtrArray) docs = split(f, pages, G_N_ELEMENTS(pages));
  CdDocument *d;

  g_assert_cmpuint(docs->len, ==, 5);
  for (guint i = 0; i < docs->len; i++)
    link_stage(f, g_ptr_array_index(docs, i));
  d = g_ptr_array_index(docs, 0);
  g_assert_cmpstr(cd_document_get_patient_mrn(d), ==, "00482913");
  d = g_ptr_array_index(docs, 1);
  g_assert_cmpuint(cd_document_get_pages(d)->len, ==, 2);
  g_assert_cmpstr(cd_document_get_patient_mrn(d), ==, "00700001");
  d = g_ptr_array_index(docs, 2);
  g_assert_null(cd_document_get_patient_mrn(d));
  g_assert_true(has_problem(d, "possible misfile"));
  d = g_ptr_array_index(docs, 3);
  g_assert_null(cd_document_get_patient_mrn(d));
  d = g_ptr_array_index(docs, 4);
  g_assert_cmpstr(cd_document_get_patient_mrn(d), ==, "00482913");
  for (guint i = 0; i < G_N_ELEMENTS(pages); i++)
    g_object_unref(pages[i]);
}

/* A cover sheet reaches to the end of its file only (by default). */
static void
test_cover_sheet_scope(Fixture *f, gconstpointer data)
{
  CdPage *pages[] = {
    cover_page(f, "a.tif", 0, "00482913", "NAME: DOE, JANE A.\nDOB 03/14/1952\n"),
    text_page(f, "a.tif", 1, "Flowsheet\n"),
    text_page(f, "b.tif", 0, "Flowsheet\n"),
  };
  g_autoptr(GPtrArray) docs = split(f, pages, G_N_ELEMENTS(pages));
  g_autofree gchar *cover_b = fact(pages[2], CD_FACT_COVER_MRN);

  g_assert_cmpuint(docs->len, ==, 2);
  g_assert_null(cover_b);
  link_stage(f, g_ptr_array_index(docs, 1));
  g_assert_null(cd_document_get_patient_mrn(g_ptr_array_index(docs, 1)));
  for (guint i = 0; i < G_N_ELEMENTS(pages); i++)
    g_object_unref(pages[i]);
}

/* A page with an MRN barcode label and plenty of text is a document page. */
static void
test_cover_sheet_label_is_not_cover(Fixture *f, gconstpointer data)
{
  g_autoptr(GString) text = g_string_new("OPERATIVE REPORT\nMRN: 00482913 NAME: DOE, JANE\n");
  CdPage *pages[1];
  g_autoptr(GPtrArray) docs = NULL;

  for (guint i = 0; i < 20; i++)
    g_string_append(text, "The gallbladder was removed without complication today.\n");
  pages[0] = cover_page(f, "a.tif", 0, "00482913", text->str);
  docs = split(f, pages, 1);
  g_assert_cmpint(cd_page_get_kind(pages[0]), ==, CD_PAGE_KIND_PAGE);
  g_assert_cmpuint(docs->len, ==, 1);
  g_object_unref(pages[0]);
}

/* ------------------------------------------------------------ splitting */

static void
test_split_boundaries(Fixture *f, gconstpointer data)
{
  CdPage *pages[] = {
    text_page(f, "s.tif", 0, "DISCHARGE SUMMARY\nMRN: 00482913 NAME: DOE, JANE\nPage 1 of 2\n"),
    text_page(f, "s.tif", 1, "HOSPITAL COURSE\nUneventful.\nPage 2 of 2\n"), /* a section, not a title */
    text_page(f, "s.tif", 2, "PROGRESS NOTE\nMRN: 00482913 NAME: DOE, JANE\n"),
    text_page(f, "s.tif", 3, "continued\n"),
    text_page(f, "s.tif", 4, "PATCH T\n"), /* separator sheet */
    text_page(f, "s.tif", 5, "Letter text\n"),
    text_page(f, "s.tif", 6, "more letter\n"),
    text_page(f, "s.tif", 7, "patch 2 sheet, kept\nMRN: 00482913 NAME: DOE, JANE\n"),
    text_page(f, "s.tif", 8, "MRN: 00700001 NAME: GARCIA, LUIS\n"), /* patient changes */
    text_page(f, "s.tif", 9, "PATCH 3\n"),                          /* end of chart */
  };
  g_autoptr(GPtrArray) docs = NULL;
  guint sizes[] = { 2, 2, 2, 1, 1 };

  add_barcode(pages[4], "PATCH", "PATCHT");
  add_barcode(pages[7], "PATCH", "PATCH2");
  add_barcode(pages[9], "PATCH", "PATCH3");
  docs = split(f, pages, G_N_ELEMENTS(pages));
  g_assert_cmpint(cd_page_get_kind(pages[4]), ==, CD_PAGE_KIND_SEPARATOR);
  g_assert_cmpint(cd_page_get_kind(pages[7]), ==, CD_PAGE_KIND_PAGE);
  g_assert_cmpint(cd_page_get_kind(pages[9]), ==, CD_PAGE_KIND_SEPARATOR);
  g_assert_cmpuint(docs->len, ==, G_N_ELEMENTS(sizes));
  for (guint i = 0; i < docs->len; i++)
    g_assert_cmpuint(cd_document_get_pages(g_ptr_array_index(docs, i))->len, ==, sizes[i]);
  for (guint i = 0; i < G_N_ELEMENTS(pages); i++)
    g_object_unref(pages[i]);
}

/* Two notes of one type in a row, titled in title case (no capitals, so
 * the old title rule never saw them), are two documents when the second
 * has its own patient block and a new date of service; the features the
 * splitter weighed are on the pages. */
static void
test_split_evidence(Fixture *f, gconstpointer data)
{
  CdPage *pages[] = {
    text_page(f, "e.tif", 0,
              "Progress Note\nMRN: 00482913\nNAME: DOE, JANE\nDOB 03/14/1952\nDate of service: 03/01/1998\n"
              "Stable overnight.\n"),
    text_page(f, "e.tif", 1,
              "Progress Note\nMRN: 00482913\nNAME: DOE, JANE\nDOB 03/14/1952\nDate of service: 03/02/1998\n"
              "Improving.\nPage 1 of 2\n"),
    text_page(f, "e.tif", 2, "DOE, JANE  MRN 00482913\nPlan: home tomorrow.\nPage 2 of 2\n"),
  };
  g_autoptr(GPtrArray) docs = split(f, pages, G_N_ELEMENTS(pages));
  g_autoptr(GVariant) features = cd_page_get_fact(pages[1], CD_FACT_CHART_FEATURES);
  g_autoptr(GVariant) p1 = cd_page_get_fact(pages[1], CD_FACT_CHART_P_START);
  g_autoptr(GVariant) p2 = cd_page_get_fact(pages[2], CD_FACT_CHART_P_START);
  gdouble date_new = 0, titlecase = 0;

  g_assert_cmpuint(docs->len, ==, 2);
  g_assert_cmpuint(cd_document_get_pages(g_ptr_array_index(docs, 0))->len, ==, 1);
  g_assert_cmpuint(cd_document_get_pages(g_ptr_array_index(docs, 1))->len, ==, 2);
  g_assert_nonnull(features);
  g_assert_true(g_variant_lookup(features, "date-new", "d", &date_new));
  g_assert_cmpfloat(date_new, ==, 1.0);
  g_assert_true(g_variant_lookup(features, "title-titlecase", "d", &titlecase));
  g_assert_cmpfloat(titlecase, ==, 1.0);
  g_assert_nonnull(p1);
  g_assert_nonnull(p2);
  g_assert_cmpfloat(g_variant_get_double(p1), >, 0.5);
  g_assert_cmpfloat(g_variant_get_double(p2), <, 0.5);
  for (guint i = 0; i < G_N_ELEMENTS(pages); i++)
    g_object_unref(pages[i]);
}

/* A boundary the model is unsure of sends its document to review with the
 * reason, even when the patient is proven. */
static void
test_split_uncertain_to_review(Fixture *f, gconstpointer data)
{
  CdPage *pages[] = {
    text_page(f, "u.tif", 0, "PROGRESS NOTE\nMRN: 00482913\nNAME: DOE, JANE\nDOB 03/14/1952\n"),
    text_page(f, "u.tif", 1, "Plan: home.\n"),
  };
  g_autoptr(GPtrArray) docs = NULL;
  g_autofree gchar *why = NULL;

  g_object_set(f->splitter, "review-margin", 0.5, NULL); /* every weighed boundary is uncertain */
  docs = split(f, pages, G_N_ELEMENTS(pages));
  g_assert_cmpuint(docs->len, ==, 1);
  why = fact(pages[1], CD_FACT_CHART_UNCERTAIN);
  g_assert_nonnull(why);
  g_assert_nonnull(strstr(why, "u.tif page 2"));
  link_stage(f, g_ptr_array_index(docs, 0));
  g_assert_cmpstr(cd_document_get_patient_mrn(g_ptr_array_index(docs, 0)), ==, "00482913");
  g_assert_true(has_problem(g_ptr_array_index(docs, 0), "uncertain document boundary"));
  for (guint i = 0; i < G_N_ELEMENTS(pages); i++)
    g_object_unref(pages[i]);
}

/* boundary-weights is validated at start and is what decides: a large
 * intercept makes every page a document of its own, and a patient change
 * still splits whatever the weights say. */
static void
test_split_weights_option(Fixture *f, gconstpointer data)
{
  const gchar *bad[] = { "bias=-1", "title-size", NULL };
  const gchar *nan_w[] = { "title-size=x", NULL };
  const gchar *always[] = { "bias=20", NULL };
  const gchar *never[] = { "bias=-20", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(CdSplitter) s = CD_SPLITTER(make_stage("chart"));

  g_object_set(s, "boundary-weights", bad, NULL);
  g_assert_false(cd_stage_start(CD_STAGE(s), &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_WORKFLOW);
  g_assert_nonnull(strstr(error->message, "'title-size'"));
  g_clear_error(&error);
  g_object_set(s, "boundary-weights", nan_w, NULL);
  g_assert_false(cd_stage_start(CD_STAGE(s), &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_WORKFLOW);
  g_clear_error(&error);

  for (guint round = 0; round < 2; round++) {
    CdPage *pages[] = {
      text_page(f, round ? "n.tif" : "a.tif", 0, "MRN: 00482913 NAME: DOE, JANE\nText.\n"),
      text_page(f, round ? "n.tif" : "a.tif", 1, "More text.\n"),
      text_page(f, round ? "n.tif" : "a.tif", 2, "MRN: 00700001 NAME: GARCIA, LUIS\nText.\n"),
    };
    g_autoptr(GPtrArray) docs = NULL;
    cd_stage_stop(CD_STAGE(f->splitter));
    g_object_set(f->splitter, "boundary-weights", round ? never : always, "review-margin", 0.0, NULL);
    g_assert_true(cd_stage_start(CD_STAGE(f->splitter), &error));
    g_assert_no_error(error);
    docs = split(f, pages, G_N_ELEMENTS(pages));
    g_assert_cmpuint(docs->len, ==, round ? 2 : 3);
    for (guint i = 0; i < G_N_ELEMENTS(pages); i++)
      g_object_unref(pages[i]);
  }
}

static void
add_line(CdPage *page, const gchar *text, gint x, gint y, gint height, guint line)
{
  g_auto(GStrv) words = g_strsplit(text, " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    cd_page_add_word(page, cd_word_new(words[i], x + 200 * (gint) i, y, 180, height, 90.0f, line));
}

/* A title is found by its layout, whatever its case: a short line at the
 * top in larger type than the body, centred, naming a kind of document;
 * a page of body text alone has none. */
static void
test_boundary_title_by_layout(Fixture *f, gconstpointer data)
{
  g_autoptr(CdPage) titled = cd_page_new("t.tif", 0, "0000");
  g_autoptr(CdPage) body = cd_page_new("t.tif", 1, "0000");
  g_autoptr(GVariant) a = NULL;
  g_autoptr(GVariant) b = NULL;
  g_autofree gchar *line = NULL;
  gdouble size = 0, centred = 0, kind = 0, titlecase = 0, found = 1;

  add_line(titled, "Laboratory Results", 600, 200, 60, 0);
  for (guint i = 0; i < 12; i++) {
    add_line(titled, "the patient was seen today", 300, 400 + 60 * (gint) i, 40, i + 1);
    add_line(body, "the patient was seen today", 300, 200 + 60 * (gint) i, 40, i);
  }
  a = cd_boundary_page_features(titled, NULL, &line);
  b = cd_boundary_page_features(body, NULL, NULL);
  g_assert_cmpstr(line, ==, "Laboratory Results");
  g_assert_true(g_variant_lookup(a, "title-size", "d", &size));
  g_assert_cmpfloat_with_epsilon(size, 0.5, 0.01);
  g_assert_true(g_variant_lookup(a, "title-centred", "d", &centred));
  g_assert_cmpfloat(centred, ==, 1.0);
  g_assert_true(g_variant_lookup(a, "title-kind-word", "d", &kind));
  g_assert_cmpfloat(kind, ==, 1.0);
  g_assert_true(g_variant_lookup(a, "title-titlecase", "d", &titlecase));
  g_assert_cmpfloat(titlecase, ==, 1.0);
  g_assert_false(g_variant_lookup(b, "title-found", "d", &found));
}

/* A section heading on top of a page (`PHYSICAL EXAMINATION:`, the body
 * running on from the page before) may look like a title by its layout,
 * but its colon says it opens a section: `title-heading` tells the
 * splitter so; a document's title has none, and is taken before a heading
 * however much bolder or larger the heading is. */
static void
test_boundary_title_heading(Fixture *f, gconstpointer data)
{
  g_autoptr(CdPage) heading = cd_page_new("t.tif", 0, "0000");
  g_autoptr(CdPage) titled = cd_page_new("t.tif", 1, "0000");
  g_autoptr(CdPage) first = cd_page_new("t.tif", 2, "0000");
  g_autoptr(GVariant) a = NULL;
  g_autoptr(GVariant) b = NULL;
  g_autoptr(GVariant) c = NULL;
  g_autofree gchar *line = NULL;
  g_autofree gchar *first_line = NULL;
  gdouble found = 0, is_heading = 1;

  add_line(heading, "PHYSICAL EXAMINATION:", 300, 200, 60, 0);
  add_line(titled, "OPERATIVE REPORT", 300, 200, 60, 0);
  for (guint i = 0; i < 12; i++) {
    add_line(heading, "the patient was seen today", 300, 400 + 60 * (gint) i, 40, i + 1);
    add_line(titled, "the patient was seen today", 300, 400 + 60 * (gint) i, 40, i + 1);
  }
  a = cd_boundary_page_features(heading, NULL, &line);
  b = cd_boundary_page_features(titled, NULL, NULL);
  g_assert_cmpstr(line, ==, "PHYSICAL EXAMINATION:");
  g_assert_true(g_variant_lookup(a, "title-found", "d", &found));
  g_assert_cmpfloat(found, ==, 1.0);
  g_assert_true(g_variant_lookup(a, "title-heading", "d", &is_heading));
  g_assert_cmpfloat(is_heading, ==, 1.0);
  g_assert_true(g_variant_lookup(b, "title-heading", "d", &is_heading));
  g_assert_cmpfloat(is_heading, ==, 0.0);

  /* a first page's plain title comes before a bolder, larger heading below it */
  add_line(first, "SPECIALTY CONSULTATION", 300, 200, 40, 0);
  add_line(first, "History of Present Illness:", 300, 260, 60, 1);
  for (guint i = 0; i < 12; i++)
    add_line(first, "the patient was seen today", 300, 400 + 60 * (gint) i, 40, i + 2);
  c = cd_boundary_page_features(first, NULL, &first_line);
  g_assert_cmpstr(first_line, ==, "SPECIALTY CONSULTATION");
  g_assert_true(g_variant_lookup(c, "title-heading", "d", &is_heading));
  g_assert_cmpfloat(is_heading, ==, 0.0);
}

/* ------------------------------------------------------------ helpers */

static void
test_common_dates_and_variants(void)
{
  g_autoptr(GPtrArray) v = cd_identity_mrn_variants("0O4B29l3");
  g_autoptr(GPtrArray) none = cd_identity_mrn_variants("00482913");
  g_autoptr(GPtrArray) bad = cd_identity_mrn_variants("00X82913");
  struct {
    const gchar *in;
    CdDateOrder order;
    const gchar *out;
  } dates[] = {
    { "03/14/1952", CD_DATE_ORDER_MDY, "1952-03-14" },   { "14/03/1952", CD_DATE_ORDER_DMY, "1952-03-14" },
    { "14/03/1952", CD_DATE_ORDER_MDY, NULL },           { "1952-02-30", CD_DATE_ORDER_MDY, NULL },
    { "Mar. 14 1952", CD_DATE_ORDER_MDY, "1952-03-14" }, { "2999-01-01", CD_DATE_ORDER_MDY, NULL },
  };

  g_assert_cmpuint(v->len, ==, 1);
  g_assert_cmpstr(g_ptr_array_index(v, 0), ==, "00482913");
  g_assert_cmpuint(none->len, ==, 0);
  g_assert_cmpuint(bad->len, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS(dates); i++) {
    g_autofree gchar *d = cd_identity_parse_date(dates[i].in, dates[i].order);
    g_assert_cmpstr(d, ==, dates[i].out);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD("/identity/header/formats", test_header_formats);
  ADD("/identity/header/zone-and-conflicts", test_header_zone_and_conflicts);
  ADD("/identity/header/document-date", test_header_document_date);
  ADD("/identity/link/proven", test_link_proven);
  ADD("/identity/link/needs-second-identifier", test_link_needs_second_identifier);
  ADD("/identity/link/unknown-mrn", test_link_unknown_mrn);
  ADD("/identity/link/conflicting-name", test_link_conflicting_name);
  ADD("/identity/link/ocr-variants", test_link_ocr_variants);
  ADD("/identity/link/namesakes", test_link_namesakes);
  ADD("/identity/link/no-identifier", test_link_no_identifier);
  ADD("/identity/link/continuation", test_link_continuation);
  ADD("/identity/link/merged", test_link_merged);
  ADD("/identity/cover/files-headerless-pages", test_cover_sheet_files_headerless_pages);
  ADD("/identity/cover/uncorroborated", test_cover_sheet_uncorroborated);
  ADD("/identity/cover/misfile-traps", test_cover_sheet_misfile_traps);
  ADD("/identity/cover/scope", test_cover_sheet_scope);
  ADD("/identity/cover/label-is-not-cover", test_cover_sheet_label_is_not_cover);
  ADD("/identity/split/boundaries", test_split_boundaries);
  ADD("/identity/split/evidence", test_split_evidence);
  ADD("/identity/split/uncertain-to-review", test_split_uncertain_to_review);
  ADD("/identity/split/weights-option", test_split_weights_option);
  ADD("/identity/boundary/title-by-layout", test_boundary_title_by_layout);
  ADD("/identity/boundary/title-heading", test_boundary_title_heading);
  g_test_add_func("/identity/common/dates-and-variants", test_common_dates_and_variants);
  return g_test_run();
}
