/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Release of information in the archive, on real SQLite files: request
 * statuses, the two-person rule, permission refusals, restricted types,
 * redaction by words, the accounting of disclosures (six-year window,
 * summary) and the audit entries of every step.
 */
#include <glib/gstdio.h>

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-roi-packet.h"
#include "cd-test-util.h"

typedef struct {
  gchar *dir;
  gchar *path;
  gint64 note;    /* MRN001 progress-note 2024-03-01, words "Patient John Smith walked" */
  gint64 summary; /* MRN001 discharge-summary 2024-05-01 */
  gint64 secret;  /* MRN001 psychotherapy-note (restricted) */
  gint64 waiting; /* MRN001 consultation, in review */
  gint64 other;   /* MRN002 progress-note */
  gint64 clock;   /* the fake clock, µs */
  CdArchive *archive;
} Fixture;

static gint64
fake_clock(gpointer data)
{
  return ((Fixture *) data)->clock;
}

static gint64
commit_document(CdArchive *archive, gint64 batch, const gchar *mrn, const gchar *type, const gchar *date, gint mark,
                gboolean review)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdDocument) doc = cd_document_new();
  g_autofree gchar *sha = g_strnfill(64, 'a' + mark);
  g_autoptr(CdPage) page = cd_page_new("box1/scan.tif", mark, sha);
  PIX *pix = pixCreate(200, 60, 1);
  const gchar *words[] = { "Patient", "John", "Smith,", "walked" };

  pixRasterop(pix, 10, 10, 20 + mark, 4, PIX_SET, NULL, 0, 0);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, 300, 300);
  cd_page_set_text(page, "Patient John Smith, walked");
  for (guint i = 0; i < G_N_ELEMENTS(words); i++)
    cd_page_add_word(page, cd_word_new(words[i], 10 + 45 * i, 20, 40, 12, 95, 0));
  g_assert_true(cd_page_encode_image(page, &error));
  g_assert_no_error(error);
  cd_document_set_patient_mrn(doc, mrn);
  cd_document_set_doc_type(doc, type, 0.9);
  cd_document_set_date(doc, date);
  cd_document_add_page(doc, page);
  if (review)
    cd_document_add_problem(doc, "low confidence");
  g_assert_true(cd_archive_commit_document(archive, batch, doc, &error));
  g_assert_no_error(error);
  return cd_document_get_id(doc);
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) patients = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  const gchar *restricted[] = { "psychotherapy-note", NULL };
  CdImportStats stats = { 0 };
  CdPatient *p;
  gint64 batch;

  f->dir = g_dir_make_tmp("cd-roi-XXXXXX", &error);
  g_assert_no_error(error);
  f->path = g_build_filename(f->dir, "test.archive", NULL);
  f->clock = G_GINT64_CONSTANT(1764000000) * G_USEC_PER_SEC; /* 2025-11-24 */
  f->archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  cd_archive_set_restricted_types(f->archive, restricted);
  p = cd_patient_new("MRN001");
  p->family = g_strdup("SMITH");
  p->given = g_strdup("JOHN");
  p->dob = g_strdup("1960-01-02");
  g_ptr_array_add(patients, p);
  g_ptr_array_add(patients, cd_patient_new("MRN002"));
  g_assert_true(cd_archive_import_patients(f->archive, patients, "csv", &stats, &error));
  g_assert_no_error(error);
  batch = cd_archive_begin_batch(f->archive, "test", NULL, &error);
  g_assert_no_error(error);
  f->note = commit_document(f->archive, batch, "MRN001", "progress-note", "2024-03-01", 0, FALSE);
  f->summary = commit_document(f->archive, batch, "MRN001", "discharge-summary", "2024-05-01", 1, FALSE);
  f->secret = commit_document(f->archive, batch, "MRN001", "psychotherapy-note", "2024-04-01", 2, FALSE);
  f->waiting = commit_document(f->archive, batch, "MRN001", "consultation", "2024-04-02", 3, TRUE);
  f->other = commit_document(f->archive, batch, "MRN002", "progress-note", "2024-03-03", 4, FALSE);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  g_clear_object(&f->archive);
  cd_test_rm_rf(f->dir);
  g_free(f->dir);
  g_free(f->path);
}

/* Acts as @login with @roles (comma-separated), on the fixture's clock. */
static void
act_as(Fixture *f, const gchar *login, const gchar *roles)
{
  g_auto(GStrv) list = g_strsplit(roles, ",", -1);
  g_autoptr(CdPrincipal) principal = cd_principal_new_user(login, (const gchar *const *) list);

  cd_principal_set_clock(principal, fake_clock, f);
  cd_archive_set_principal(f->archive, principal);
}

static gint64
new_request(Fixture *f, const gchar *recipient, const gchar *purpose)
{
  g_autoptr(GError) error = NULL;
  CdRoiRequestSpec spec = {
    .mrn = "MRN001",
    .requester = "Law Office of A. Brown",
    .recipient_name = recipient,
    .recipient_address = "1 Main St, Springfield",
    .purpose = purpose,
    .authorisation = "HIPAA authorisation signed 2025-11-01",
    .requested_by = "2025-12-31",
  };
  gint64 id = cd_archive_roi_new(f->archive, &spec, &error);

  g_assert_no_error(error);
  g_assert_cmpint(id, >, 0);
  return id;
}

static const gchar *
status_of(Fixture *f, gint64 id, JsonNode **keep)
{
  g_autoptr(GError) error = NULL;
  *keep = cd_archive_roi_get(f->archive, id, &error);
  g_assert_no_error(error);
  return json_object_get_string_member(json_node_get_object(*keep), "status");
}

/* Releases an approved request with the manifest completed as the packet
 * maker does, and a stand-in hash (the packet test makes real PDFs). */
static void
release(Fixture *f, gint64 id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) manifest = cd_archive_roi_prepare_release(f->archive, id, &error);
  JsonObject *m;

  g_assert_no_error(error);
  m = json_node_get_object(manifest);
  json_object_set_int_member(m, "pages", 4);
  json_object_set_string_member(m, "bates_first", "X000001");
  json_object_set_string_member(m, "bates_last", "X000004");
  g_assert_true(cd_archive_roi_record_release(f->archive, id, manifest, "00ff", &error));
  g_assert_no_error(error);
}

static gint64
count(Fixture *f, const gchar *sql)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(f->archive, sql, &error);

  g_assert_no_error(error);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  return sqlite3_column_int64(stmt, 0);
}

/* A request goes draft → approved → released; documents can be added and
 * pages redacted only in draft; a released request cannot be cancelled; a
 * cancel needs a reason; the release writes a packet and a disclosure. */
static void
test_roi_statuses(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) a = NULL, b = NULL, c = NULL, d = NULL;
  gint64 ids[2];
  gint64 id, other;
  guint n = 0;

  act_as(f, "rita", "roi");
  id = new_request(f, "Dr. Brown", "legal");
  g_assert_cmpstr(status_of(f, id, &a), ==, "draft");
  ids[0] = f->summary;
  ids[1] = f->note;
  g_assert_true(cd_archive_roi_add_documents(f->archive, id, ids, 2, &n, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(n, ==, 2);
  /* adding again adds nothing */
  g_assert_true(cd_archive_roi_add_documents(f->archive, id, ids, 1, &n, &error));
  g_assert_cmpuint(n, ==, 0);
  /* another patient's document, one in review: refused, nothing added */
  ids[0] = f->other;
  g_assert_false(cd_archive_roi_add_documents(f->archive, id, ids, 1, &n, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "not filed to patient MRN MRN001"));
  g_clear_error(&error);
  ids[0] = f->waiting;
  g_assert_false(cd_archive_roi_add_documents(f->archive, id, ids, 1, &n, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "review queue"));
  g_clear_error(&error);
  g_assert_cmpint(json_array_get_length(json_object_get_array_member(json_node_get_object(a), "documents")), ==, 0);
  {
    g_autoptr(JsonNode) shown = cd_archive_roi_get(f->archive, id, &error);
    JsonArray *docs = json_object_get_array_member(json_node_get_object(shown), "documents");
    g_assert_cmpuint(json_array_get_length(docs), ==, 2);
    /* in the order they were added */
    g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(docs, 0), "id"), ==, f->summary);
  }
  /* released only once approved */
  g_assert_null(cd_archive_roi_prepare_release(f->archive, id, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_true(cd_archive_roi_approve(f->archive, id, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(status_of(f, id, &b), ==, "approved");
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(b), "approved_by"), ==, "rita");
  /* approved requests are frozen */
  g_assert_false(cd_archive_roi_add_documents(f->archive, id, &f->note, 1, &n, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_cmpint(cd_archive_roi_redact_rect(f->archive, id, 1, 0, 0, 5, 5, &error), ==, 0);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  release(f, id);
  g_assert_cmpstr(status_of(f, id, &c), ==, "released");
  g_assert_cmpstr(
      json_object_get_string_member(json_object_get_object_member(json_node_get_object(c), "packet"), "sha256"), ==,
      "00ff");
  g_assert_cmpint(count(f, "SELECT count(*) FROM disclosures"), ==, 1);
  g_assert_false(cd_archive_roi_cancel(f->archive, id, "changed mind", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  /* the same release twice is refused */
  g_assert_null(cd_archive_roi_prepare_release(f->archive, id, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);

  /* a request with no documents cannot be approved; a cancel needs why */
  other = new_request(f, "Acme Insurance", "insurance claim");
  g_assert_false(cd_archive_roi_approve(f->archive, other, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_false(cd_archive_roi_cancel(f->archive, other, "  ", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_true(cd_archive_roi_cancel(f->archive, other, "authorisation revoked", &error));
  g_assert_no_error(error);
  g_assert_cmpstr(status_of(f, other, &d), ==, "cancelled");
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(d), "cancel_reason"), ==, "authorisation revoked");
  g_assert_cmpint(count(f, "SELECT count(*) FROM disclosures"), ==, 1);
  /* an unknown patient and a missing field are refused */
  {
    CdRoiRequestSpec spec = {
      .mrn = "NOPE", .requester = "x", .recipient_name = "y", .purpose = "z", .authorisation = "w"
    };
    g_assert_cmpint(cd_archive_roi_new(f->archive, &spec, &error), ==, 0);
    g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
    g_clear_error(&error);
    spec.mrn = "MRN001";
    spec.authorisation = NULL;
    g_assert_cmpint(cd_archive_roi_new(f->archive, &spec, &error), ==, 0);
    g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "legal basis"));
  }
}

/* With roi.two-person on, the one who prepared a request may not approve
 * it (also not as an administrator acting for them), a second roi user
 * may; the refusal is audited. Setting it needs the configure permission. */
static void
test_roi_two_person(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *value = NULL;
  g_autoptr(CdPrincipal) admin_for_rita = NULL;
  gint64 id;

  value = cd_archive_get_setting(f->archive, CD_SETTING_ROI_TWO_PERSON, &error);
  g_assert_cmpstr(value, ==, "false");
  act_as(f, "rita", "roi");
  g_assert_false(cd_archive_set_setting(f->archive, CD_SETTING_ROI_TWO_PERSON, "true", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);
  act_as(f, "root", "admin");
  g_assert_false(cd_archive_set_setting(f->archive, CD_SETTING_ROI_TWO_PERSON, "yes", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_false(cd_archive_set_setting(f->archive, "roi.nothing", "1", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_true(cd_archive_set_setting(f->archive, CD_SETTING_ROI_TWO_PERSON, "true", &error));
  g_assert_no_error(error);

  act_as(f, "rita", "roi");
  id = new_request(f, "Dr. Brown", "continuity of care");
  g_assert_true(cd_archive_roi_add_documents(f->archive, id, &f->note, 1, NULL, &error));
  g_assert_false(cd_archive_roi_approve(f->archive, id, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_nonnull(strstr(error->message, "another user with the roi role"));
  g_clear_error(&error);
  g_assert_cmpint(count(f, "SELECT count(*) FROM audit WHERE action = 'denied' AND object = 'roi:1' AND "
                           "json_extract(detail, '$.rule') = 'roi.two-person'"),
                  ==, 1);
  /* an administrator acting for rita is rita */
  admin_for_rita = cd_principal_new_admin_mode("root", "rita");
  cd_archive_set_principal(f->archive, admin_for_rita);
  g_assert_false(cd_archive_roi_approve(f->archive, id, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);
  /* a coder is no approver */
  act_as(f, "carl", "coder");
  g_assert_false(cd_archive_roi_approve(f->archive, id, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);
  act_as(f, "sam", "roi");
  g_assert_true(cd_archive_roi_approve(f->archive, id, &error));
  g_assert_no_error(error);
  g_assert_cmpint(count(f, "SELECT count(*) FROM roi_requests WHERE approved_by = 'sam' AND created_by = 'rita'"), ==,
                  1);
}

/* Without the release permission nothing of ROI is open, and each
 * refusal is audited; an auditor may read the accounting, not requests;
 * restricted documents cannot be added by a roi user without the grant,
 * by id (as if missing) or by selection (left out). */
static void
test_roi_permissions(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) accounting = NULL;
  g_autoptr(JsonNode) shown = NULL;
  CdRoiRequestSpec spec = {
    .mrn = "MRN001", .requester = "x", .recipient_name = "y", .purpose = "z", .authorisation = "w"
  };
  gint64 id;
  guint n = 0;

  act_as(f, "carl", "coder,archivist");
  g_assert_cmpint(cd_archive_roi_new(f->archive, &spec, &error), ==, 0);
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_nonnull(strstr(error->message, "needs release"));
  g_clear_error(&error);
  g_assert_null(cd_archive_roi_list(f->archive, NULL, NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);
  g_assert_null(cd_archive_disclosures(f->archive, "MRN001", NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);
  g_assert_cmpint(count(f, "SELECT count(*) FROM audit WHERE action = 'denied' AND actor = 'carl'"), ==, 3);

  act_as(f, "rita", "roi");
  id = new_request(f, "Dr. Brown", "legal");
  g_assert_false(cd_archive_roi_add_documents(f->archive, id, &f->secret, 1, &n, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_true(cd_archive_roi_add_selection(f->archive, id, NULL, "2024-01-01", "2024-12-31", &n, &error));
  g_assert_no_error(error);
  /* the note and the summary; not the restricted note, the one in review
   * or the other patient's */
  g_assert_cmpuint(n, ==, 2);
  g_assert_true(cd_archive_roi_add_selection(f->archive, id, "progress-note", NULL, NULL, &n, &error));
  g_assert_cmpuint(n, ==, 0);
  g_assert_false(cd_archive_roi_add_selection(f->archive, id, NULL, "2024-13-01", NULL, &n, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  /* a roi user with the grant adds it; one without does not see it */
  act_as(f, "ruth", "roi,restricted");
  g_assert_true(cd_archive_roi_add_documents(f->archive, id, &f->secret, 1, &n, &error));
  g_assert_cmpuint(n, ==, 1);
  act_as(f, "rita", "roi");
  shown = cd_archive_roi_get(f->archive, id, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(json_node_get_object(shown), "documents")), ==,
                   2);
  g_assert_true(cd_archive_roi_approve(f->archive, id, &error));
  /* and cannot release what it holds */
  g_assert_null(cd_archive_roi_prepare_release(f->archive, id, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_clear_error(&error);

  act_as(f, "alma", "auditor");
  accounting = cd_archive_disclosures(f->archive, "MRN001", NULL, &error);
  g_assert_no_error(error);
  g_assert_null(cd_archive_roi_get(f->archive, id, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
}

/* Word redaction finds whole words, ignoring case and punctuation, on one
 * page or all; a pattern matching nothing is an error, as is a bad regex;
 * the boxes are stored as rectangles, and show up in the release manifest. */
static void
test_roi_redact_words(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) manifest = NULL;
  gint64 ids[] = { f->note, f->summary };
  gint64 page;
  gint64 id;
  guint n = 0;
  JsonArray *rects;

  act_as(f, "rita", "roi");
  id = new_request(f, "Dr. Brown", "legal");
  g_assert_true(cd_archive_roi_add_documents(f->archive, id, ids, 2, NULL, &error));
  page = count(f, "SELECT min(id) FROM pages");
  g_assert_true(cd_archive_roi_redact_words(f->archive, id, page, "smith", &n, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(n, ==, 1);
  g_assert_true(cd_archive_roi_redact_words(f->archive, id, 0, "Jo.n|nobody", &n, &error));
  g_assert_cmpuint(n, ==, 2);
  g_assert_false(cd_archive_roi_redact_words(f->archive, id, 0, "walk", &n, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(cd_archive_roi_redact_words(f->archive, id, 0, "(", &n, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_cmpint(cd_archive_roi_redact_rect(f->archive, id, f->other * 100, 0, 0, 5, 5, &error), ==, 0);
  g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_cmpint(cd_archive_roi_redact_rect(f->archive, id, page, 190, 50, 100, 100, &error), >, 0);
  g_assert_no_error(error);
  g_assert_true(cd_archive_roi_approve(f->archive, id, &error));
  manifest = cd_archive_roi_prepare_release(f->archive, id, &error);
  g_assert_no_error(error);
  /* the first document is the note; its page has Smith, John and the
   * rectangle clipped to the 200×60 image */
  rects = json_object_get_array_member(
      json_array_get_object_element(
          json_object_get_array_member(
              json_array_get_object_element(json_object_get_array_member(json_node_get_object(manifest), "documents"),
                                            0),
              "pages"),
          0),
      "redactions");
  g_assert_cmpuint(json_array_get_length(rects), ==, 3);
  g_assert_cmpint(json_array_get_int_element(json_array_get_array_element(rects, 0), 0), ==, 100);
  g_assert_cmpint(json_array_get_int_element(json_array_get_array_element(rects, 1), 0), ==, 55);
  g_assert_cmpint(json_array_get_int_element(json_array_get_array_element(rects, 2), 2), ==, 10);
  g_assert_cmpint(json_array_get_int_element(json_array_get_array_element(rects, 2), 3), ==, 10);
}

/* The accounting covers six years back from today by default (an older
 * disclosure is kept but not shown; --from reaches it), lists each
 * disclosure with recipient, address, description and purpose, and
 * summarises repeats to one recipient for one purpose; disclosures cannot
 * be deleted or changed. */
static void
test_roi_disclosures(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) acc = NULL;
  g_autoptr(JsonNode) old = NULL;
  gint64 year = G_GINT64_CONSTANT(365) * 24 * 3600 * G_USEC_PER_SEC;
  gint64 now = f->clock;
  const gchar *when[] = { "brown-7y", "brown-2y", "acme-1y", "brown-1y" };
  JsonArray *list, *summary;
  JsonObject *first, *group;

  act_as(f, "rita", "roi");
  for (guint i = 0; i < G_N_ELEMENTS(when); i++) {
    gboolean acme = g_str_has_prefix(when[i], "acme");
    gint64 id;
    f->clock = now - (when[i][acme ? 5 : 6] - '0') * year;
    id = new_request(f, acme ? "Acme Insurance" : "Dr. Brown", acme ? "insurance claim" : "legal");
    g_assert_true(cd_archive_roi_add_documents(f->archive, id, &f->note, 1, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(cd_archive_roi_approve(f->archive, id, &error));
    release(f, id);
  }
  f->clock = now;
  acc = cd_archive_disclosures(f->archive, "MRN001", NULL, &error);
  g_assert_no_error(error);
  list = json_object_get_array_member(json_node_get_object(acc), "disclosures");
  g_assert_cmpuint(json_array_get_length(list), ==, 3);
  first = json_array_get_object_element(list, 0);
  g_assert_true(g_str_has_prefix(json_object_get_string_member(first, "date"), "2023-11"));
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(first, "recipient"), "address"), ==,
                  "1 Main St, Springfield");
  g_assert_cmpstr(json_object_get_string_member(first, "purpose"), ==, "legal");
  g_assert_nonnull(strstr(json_object_get_string_member(first, "description"), "progress-note of 2024-03-01"));
  g_assert_nonnull(strstr(json_object_get_string_member(first, "description"), "Bates X000001 to X000004"));
  summary = json_object_get_array_member(json_node_get_object(acc), "summary");
  g_assert_cmpuint(json_array_get_length(summary), ==, 2);
  group = json_array_get_object_element(summary, 0);
  g_assert_cmpstr(json_object_get_string_member(group, "recipient"), ==, "Dr. Brown");
  g_assert_cmpint(json_object_get_int_member(group, "count"), ==, 2);
  g_assert_true(g_str_has_prefix(json_object_get_string_member(group, "first"), "2023-11"));
  g_assert_true(g_str_has_prefix(json_object_get_string_member(group, "last"), "2024-11"));
  g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(summary, 1), "count"), ==, 1);
  /* the old one is kept */
  old = cd_archive_disclosures(f->archive, "MRN001", "2010-01-01", &error);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(json_node_get_object(old), "disclosures")), ==,
                   4);
  g_assert_cmpint(count(f, "SELECT count(*) FROM audit WHERE action = 'disclosures' AND object = 'patient:MRN001'"), ==,
                  2);
  /* nothing deletes or edits a disclosure */
  g_assert_false(cd_archive_exec(f->archive, "DELETE FROM disclosures", &error));
  g_assert_nonnull(strstr(error->message, "kept as recorded"));
  g_clear_error(&error);
  g_assert_false(cd_archive_exec(f->archive, "UPDATE disclosures SET purpose = 'x'", &error));
  g_clear_error(&error);
  g_assert_false(cd_archive_exec(f->archive, "DELETE FROM roi_packets", &error));
  g_clear_error(&error);
  g_assert_cmpint(count(f, "SELECT count(*) FROM disclosures"), ==, 4);
}

/* Every step leaves its audit entry, under the acting user: new, add,
 * redact, approve, prepare, the disclosure (with the PDF's hash and the
 * patient), show, list. */
static void
test_roi_audit(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) listed = NULL;
  g_autoptr(JsonNode) shown = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const gchar *expected[] = { "roi-new",     "roi-add",    "roi-redact", "roi-approve",
                              "roi-prepare", "disclosure", "roi-show",   "roi-list" };
  guint i = 0;
  gint64 id;

  act_as(f, "rita", "roi");
  id = new_request(f, "Dr. Brown", "legal");
  g_assert_true(cd_archive_roi_add_documents(f->archive, id, &f->note, 1, NULL, &error));
  g_assert_cmpint(cd_archive_roi_redact_rect(f->archive, id, count(f, "SELECT min(id) FROM pages"), 0, 0, 9, 9, &error),
                  >, 0);
  g_assert_true(cd_archive_roi_approve(f->archive, id, &error));
  release(f, id);
  shown = cd_archive_roi_get(f->archive, id, &error);
  listed = cd_archive_roi_list(f->archive, "released", NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(json_node_get_array(listed)), ==, 1);
  stmt = cd_archive_prepare(f->archive,
                            "SELECT action, actor, object, detail FROM audit WHERE action LIKE 'roi-%' OR action = "
                            "'disclosure' ORDER BY id",
                            &error);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    g_assert_cmpuint(i, <, G_N_ELEMENTS(expected));
    g_assert_cmpstr((const gchar *) sqlite3_column_text(stmt, 0), ==, expected[i]);
    g_assert_cmpstr((const gchar *) sqlite3_column_text(stmt, 1), ==, "rita");
    if (i < 7)
      g_assert_cmpstr((const gchar *) sqlite3_column_text(stmt, 2), ==, "roi:1");
    if (g_strcmp0(expected[i], "disclosure") == 0) {
      g_assert_nonnull(strstr((const gchar *) sqlite3_column_text(stmt, 3), "\"pdf_sha256\":\"00ff\""));
      g_assert_nonnull(strstr((const gchar *) sqlite3_column_text(stmt, 3), "\"mrn\":\"MRN001\""));
    }
    i++;
  }
  g_assert_cmpuint(i, ==, G_N_ELEMENTS(expected));
  act_as(f, "alma", "auditor");
  g_assert_true(cd_archive_verify_audit(f->archive, NULL, &error));
  g_assert_no_error(error);
}

/* A released packet's manifest is given back with the pages' words, and a
 * page whose words changed since is named instead of a different packet. */
static void
test_roi_reproduce_checks(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) manifest = NULL;
  g_autofree gchar *sql = NULL;
  JsonObject *page;
  gint64 id;

  act_as(f, "rita", "roi");
  id = new_request(f, "Dr. Brown", "legal");
  g_assert_true(cd_archive_roi_add_documents(f->archive, id, &f->note, 1, NULL, &error));
  g_assert_true(cd_archive_roi_approve(f->archive, id, &error));
  /* a draft or approved request has no packet to make again */
  g_assert_null(cd_archive_roi_get_packet(f->archive, id, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  release(f, id);
  manifest = cd_archive_roi_get_packet(f->archive, id, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(manifest), "pdf_sha256"), ==, "00ff");
  page = json_array_get_object_element(
      json_object_get_array_member(
          json_array_get_object_element(json_object_get_array_member(json_node_get_object(manifest), "documents"), 0),
          "pages"),
      0);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(page, "words")), ==, 4);
  sql = g_strdup_printf("UPDATE pages SET words = '[]' WHERE id = %" G_GINT64_FORMAT,
                        json_object_get_int_member(page, "id"));
  g_assert_true(cd_archive_exec(f->archive, sql, &error));
  g_clear_pointer(&manifest, json_node_unref);
  manifest = cd_archive_roi_get_packet(f->archive, id, &error);
  g_assert_null(manifest);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_assert_nonnull(strstr(error->message, "words changed since the packet was released"));
}

/* The shipped cover letter uses only known placeholders and fills them;
 * an unknown or unclosed one is refused with its line. */
static void
test_roi_cover_template(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) manifest = NULL;
  g_autofree gchar *path = g_test_build_filename(G_TEST_DIST, "workflows", "roi-cover-letter.txt", NULL);
  g_autofree gchar *text = NULL;
  g_autofree gchar *letter = NULL;
  g_autofree gchar *bad = NULL;
  JsonObject *m;
  gint64 id;

  act_as(f, "rita", "roi");
  id = new_request(f, "Dr. Brown", "continuity of care");
  g_assert_true(cd_archive_roi_add_documents(f->archive, id, &f->note, 1, NULL, &error));
  g_assert_true(cd_archive_roi_approve(f->archive, id, &error));
  manifest = cd_archive_roi_prepare_release(f->archive, id, &error);
  g_assert_no_error(error);
  m = json_node_get_object(manifest);
  g_assert_true(g_file_get_contents(path, &text, NULL, &error));
  letter = cd_roi_render_template(text, m, &error);
  g_assert_no_error(error);
  g_assert_null(strstr(letter, "${"));
  g_assert_null(strstr(letter, "# "));
  g_assert_nonnull(strstr(letter, "Dr. Brown\n1 Main St, Springfield"));
  g_assert_nonnull(strstr(letter, "SMITH, JOHN, MRN MRN001, born 1960-01-02"));
  g_assert_nonnull(strstr(letter, "continuity of care"));
  g_assert_nonnull(strstr(letter, "1. progress-note, 2024-03-01"));
  bad = cd_roi_render_template("Dear ${recipient},\nyour ${refernce}\n", m, &error);
  g_assert_null(bad);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_assert_nonnull(strstr(error->message, "line 2: unknown placeholder ${refernce}"));
  g_clear_error(&error);
  bad = cd_roi_render_template("${date", m, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
#define ADD(name, func) g_test_add("/chartdesk/roi/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD("statuses", test_roi_statuses);
  ADD("two-person", test_roi_two_person);
  ADD("permissions", test_roi_permissions);
  ADD("redact-words", test_roi_redact_words);
  ADD("disclosures", test_roi_disclosures);
  ADD("audit", test_roi_audit);
  ADD("reproduce-checks", test_roi_reproduce_checks);
  ADD("cover-template", test_roi_cover_template);
  return g_test_run();
}
