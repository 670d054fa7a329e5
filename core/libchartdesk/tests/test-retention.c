/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Retention, legal holds and certified destruction (issue 17) on a real
 * archive whose documents span four decades, minors among the patients:
 * the plan against the rules computed here independently, holds of every
 * kind, destruction (search, index, file bytes), the certificate read back
 * with poppler, the audit trail, the two-person rule, and the policy
 * file's line-numbered errors.
 */
#define _GNU_SOURCE /* memmem */
#include <glib/gstdio.h>
#include <poppler.h>
#include <string.h>

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-test-util.h"

#define AS_OF "2026-06-30"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerDocument, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PopplerPage, g_object_unref)

static const gchar policy_text[] = "# test policy\n"
                                   "[policy]\n"
                                   "years=10\n"
                                   "majority-age=18\n"
                                   "minor-years=3\n"
                                   "floor-years=7\n"
                                   "facility=Test General Hospital HIM\n"
                                   "\n"
                                   "[operative-report]\n"
                                   "years=30\n"
                                   "\n"
                                   "[consent-form]\n"
                                   "permanent=true\n";

/* The patients: adults, a leap-day birth, minors, one of unknown birth. */
static const struct {
  const gchar *mrn;
  const gchar *dob;
} patients[] = {
  { "R001", "1940-05-01" }, { "R002", "1955-02-28" }, { "R003", "1968-07-15" }, { "R004", "1980-02-29" },
  { "R005", "1990-12-31" }, { "R006", "2001-03-10" }, { "R007", "2005-06-01" }, { "R008", "2010-01-20" },
  { "R009", NULL },         { "R010", "1975-09-09" },
};

static const gchar *const types[] = { "discharge-summary", "progress-note", "operative-report", "consent-form",
                                      "radiology-report" };

typedef struct {
  gint64 id;
  const gchar *mrn; /* NULL: kept out of the patient rules (in review) */
  const gchar *dob;
  const gchar *type;
  gchar *date;
  gchar *word; /* a word only this document's text has */
} Doc;

typedef struct {
  gchar *dir;
  gchar *path;
  CdArchive *archive;
  GPtrArray *docs; /* Doc */
} Fixture;

static void
doc_free(Doc *d)
{
  g_free(d->date);
  g_free(d->word);
  g_free(d);
}

static CdPage *
make_page(const gchar *source_sha, const gchar *text, gint mark)
{
  g_autoptr(GError) error = NULL;
  CdPage *page = cd_page_new("box/scan.tif", 0, source_sha);
  PIX *pix = pixCreate(64, 48, 1);

  pixSetPixel(pix, 3 + mark % 30, 5 + mark / 30, 1);
  pixRasterop(pix, 10, 10, 20 + mark % 30, 4, PIX_SET, NULL, 0, 0);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, 300, 300);
  cd_page_set_text(page, text);
  cd_page_set_confidence(page, 90.0);
  g_assert_true(cd_page_encode_image(page, &error));
  g_assert_no_error(error);
  return page;
}

static Doc *
add_document(Fixture *f, gint64 batch, const gchar *mrn, const gchar *dob, const gchar *type, const gchar *date)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdDocument) doc = cd_document_new();
  Doc *d = g_new0(Doc, 1);
  guint n = f->docs->len;

  d->mrn = mrn;
  d->dob = dob;
  d->type = type;
  d->date = g_strdup(date);
  d->word = g_strdup_printf("quokka%03u", n);
  cd_document_set_patient_mrn(doc, mrn);
  cd_document_set_doc_type(doc, type, 0.9);
  cd_document_set_date(doc, date);
  cd_document_set_title(doc, "TEST");
  for (guint p = 0; p < 1 + n % 2; p++) {
    g_autofree gchar *src = g_strdup_printf("source-%u-%u", n, p);
    g_autofree gchar *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, src, -1);
    g_autofree gchar *text = g_strdup_printf("Clinical note for %s dated %s page %u mentions %s and cardiology",
                                             mrn ? mrn : "nobody", date ? date : "never", p + 1, d->word);
    g_autoptr(CdPage) page = make_page(sha, text, (gint) (n * 2 + p));
    cd_document_add_page(doc, page);
  }
  g_assert_true(cd_archive_commit_document(f->archive, batch, doc, &error));
  g_assert_no_error(error);
  d->id = cd_document_get_id(doc);
  g_ptr_array_add(f->docs, d);
  return d;
}

/* Forty-odd documents from 1985 to 2025, seeded so every run is the same. */
static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) mpi = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  g_autoptr(GRand) rand = g_rand_new_with_seed(17);
  const gchar *inputs[] = { "box/", NULL };
  CdImportStats stats = { 0 };
  gint64 batch;

  f->dir = g_dir_make_tmp("cd-retention-XXXXXX", &error);
  g_assert_no_error(error);
  f->path = g_build_filename(f->dir, "test.archive", NULL);
  f->docs = g_ptr_array_new_with_free_func((GDestroyNotify) doc_free);
  f->archive = cd_archive_open(f->path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  for (guint i = 0; i < G_N_ELEMENTS(patients); i++) {
    CdPatient *p = cd_patient_new(patients[i].mrn);
    p->family = g_strdup_printf("Family%u", i);
    p->given = g_strdup("Test");
    p->dob = g_strdup(patients[i].dob);
    g_ptr_array_add(mpi, p);
  }
  g_assert_true(cd_archive_import_patients(f->archive, mpi, "test.csv", &stats, &error));
  g_assert_no_error(error);
  batch = cd_archive_begin_batch(f->archive, "test", inputs, &error);
  g_assert_no_error(error);

  for (guint i = 0; i < G_N_ELEMENTS(patients); i++) {
    gint born = patients[i].dob != NULL ? atoi(patients[i].dob) : 1985;
    gint first = MAX(born, 1985);
    guint n = 3 + g_rand_int_range(rand, 0, 3);
    for (guint j = 0; j < n; j++) {
      gint year = g_rand_int_range(rand, first, 2026);
      g_autofree gchar *date =
          g_strdup_printf("%04d-%02d-%02d", year, g_rand_int_range(rand, 1, 13), g_rand_int_range(rand, 1, 29));
      add_document(f, batch, patients[i].mrn, patients[i].dob, types[g_rand_int_range(rand, 0, G_N_ELEMENTS(types))],
                   date);
    }
  }
  /* never destroyed: one in review (no patient) and one without a date */
  add_document(f, batch, NULL, NULL, "progress-note", "1990-01-01");
  add_document(f, batch, "R001", "1940-05-01", "progress-note", NULL);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  g_clear_object(&f->archive);
  cd_test_rm_rf(f->dir);
  g_free(f->dir);
  g_free(f->path);
  g_ptr_array_unref(f->docs);
}

/* ---- the rules, computed here without the library */

static gboolean
is_leap(gint y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD" plus @years; 29 February to 1 March in a common year. */
static gchar *
plus_years(const gchar *date, gint years)
{
  gint y, m, d;

  g_assert_cmpint(sscanf(date, "%d-%d-%d", &y, &m, &d), ==, 3);
  y += years;
  if (m == 2 && d == 29 && !is_leap(y)) {
    m = 3;
    d = 1;
  }
  return g_strdup_printf("%04d-%02d-%02d", y, m, d);
}

/* The last day to keep @d, or NULL for never destroyed. */
static gchar *
expected_keep_until(Fixture *f, const Doc *d)
{
  const gchar *last = NULL;
  gchar *until;
  gint years;

  if (d->mrn == NULL || d->date == NULL || g_strcmp0(d->type, "consent-form") == 0)
    return NULL;
  for (guint i = 0; i < f->docs->len; i++) {
    const Doc *o = g_ptr_array_index(f->docs, i);
    if (g_strcmp0(o->mrn, d->mrn) == 0 && o->date != NULL && (last == NULL || strcmp(o->date, last) > 0))
      last = o->date;
  }
  years = g_strcmp0(d->type, "operative-report") == 0 ? 30 : 10; /* both above the floor of 7 */
  until = plus_years(last, years);
  {
    /* a minor on the date of service (unknown birth: born that day) */
    g_autofree gchar *majority = d->dob != NULL ? plus_years(d->dob, 18) : NULL;
    if (d->dob == NULL || strcmp(d->date, majority) < 0) {
      gchar *minor = plus_years(d->dob != NULL ? d->dob : d->date, 21);
      if (strcmp(minor, until) > 0) {
        g_free(until);
        until = minor;
      } else {
        g_free(minor);
      }
    }
  }
  return until;
}

static GHashTable *
plan_ids(JsonNode *plan, const gchar *member)
{
  GHashTable *ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  JsonArray *list = json_object_get_array_member(json_node_get_object(plan), member);

  for (guint i = 0; i < json_array_get_length(list); i++) {
    gint64 id = json_object_get_int_member(json_array_get_object_element(list, i), "document");
    g_hash_table_add(ids, g_memdup2(&id, sizeof id));
  }
  return ids;
}

static CdRetentionPolicy *
load_policy(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_default(&error);
  CdRetentionPolicy *policy;

  g_assert_no_error(error);
  policy = cd_retention_policy_new_from_data(policy_text, "test.policy", taxonomy, &error);
  g_assert_no_error(error);
  return policy;
}

static gint64
archive_int(CdArchive *archive, const gchar *sql)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = cd_archive_prepare(archive, sql, &error);
  gint64 value;

  g_assert_no_error(error);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return value;
}

static gint64
audit_count(CdArchive *archive, const gchar *action)
{
  g_autofree gchar *sql = g_strdup_printf("SELECT count(*) FROM audit WHERE action = '%s'", action);
  return archive_int(archive, sql);
}

/* The plan lists exactly the documents the rules make due on the day,
 * with the day the rules keep each until; the one in review and the one
 * without a date are never due; permanent types never appear. */
static void
test_retention_plan_matches_rules(Fixture *f, gconstpointer data)
{
  g_autoptr(CdRetentionPolicy) policy = load_policy();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) plan = cd_archive_retention_plan(f->archive, policy, AS_OF, &error);
  g_autoptr(GHashTable) due = NULL;
  g_autoptr(GHashTable) und = NULL;
  JsonArray *list;
  guint expected_due = 0, expected_kept = 0, minors_due = 0;

  g_assert_no_error(error);
  due = plan_ids(plan, "due");
  und = plan_ids(plan, "undetermined");
  for (guint i = 0; i < f->docs->len; i++) {
    const Doc *d = g_ptr_array_index(f->docs, i);
    g_autofree gchar *until = expected_keep_until(f, d);
    gboolean should = until != NULL && strcmp(AS_OF, until) > 0;
    if (should != g_hash_table_contains(due, &d->id))
      g_test_message("document %" G_GINT64_FORMAT " (%s %s %s): expected %s, keep until %s", d->id, d->mrn, d->type,
                     d->date, should ? "due" : "not due", until);
    g_assert_cmpint(should, ==, g_hash_table_contains(due, &d->id));
    expected_due += should;
    expected_kept += until != NULL && !should;
  }
  g_assert_cmpint(g_hash_table_size(due), ==, expected_due);
  g_assert_cmpint(expected_due, >, 5);
  g_assert_cmpint(expected_kept, >, 5);
  g_assert_cmpint(g_hash_table_size(und), ==, 2);
  g_assert_cmpint(
      json_object_get_int_member(json_object_get_object_member(json_node_get_object(plan), "counts"), "kept"), ==,
      expected_kept);

  /* each due entry says until when the rules kept it */
  list = json_object_get_array_member(json_node_get_object(plan), "due");
  for (guint i = 0; i < json_array_get_length(list); i++) {
    JsonObject *e = json_array_get_object_element(list, i);
    for (guint j = 0; j < f->docs->len; j++) {
      const Doc *d = g_ptr_array_index(f->docs, j);
      if (d->id == json_object_get_int_member(e, "document")) {
        g_autofree gchar *until = expected_keep_until(f, d);
        g_assert_cmpstr(json_object_get_string_member(e, "keep_until"), ==, until);
        g_assert_cmpstr(json_object_get_string_member(e, "mrn"), ==, d->mrn);
        minors_due += json_object_get_boolean_member(e, "minor");
      }
    }
  }
  /* a plan changes nothing but the audit log */
  g_assert_cmpint(archive_int(f->archive, "SELECT count(*) FROM tombstones"), ==, 0);
  g_assert_cmpint(audit_count(f->archive, "retention-plan"), ==, 1);
  g_test_message("%u due (%u minors), %u kept", expected_due, minors_due, expected_kept);
}

/* Holds of each kind keep what they cover out of the plan's due list and
 * in its held list with the hold; a released hold protects no more; roi
 * staff may place but not release; holds show in the document's JSON and
 * for the patient. */
static void
test_retention_holds_protect(Fixture *f, gconstpointer data)
{
  g_autoptr(CdRetentionPolicy) policy = load_policy();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) before = cd_archive_retention_plan(f->archive, policy, AS_OF, &error);
  g_autoptr(GHashTable) due = plan_ids(before, "due");
  g_autoptr(JsonNode) after = NULL;
  g_autoptr(GHashTable) held = NULL;
  g_autoptr(GHashTable) due_after = NULL;
  g_autoptr(CdPrincipal) roi = NULL;
  g_autoptr(JsonNode) docjson = NULL;
  g_autoptr(GPtrArray) holds = NULL;
  const Doc *by_doc = NULL, *by_search = NULL;
  const gchar *by_patient = NULL;
  const gchar *roles_roi[] = { "roi", NULL };
  gint64 h_patient, h_doc, h_search;
  CdSearchQuery q = { 0 };

  g_assert_no_error(error);
  /* three due documents of three patients */
  for (guint i = 0; i < f->docs->len; i++) {
    const Doc *d = g_ptr_array_index(f->docs, i);
    if (!g_hash_table_contains(due, &d->id))
      continue;
    if (by_patient == NULL)
      by_patient = d->mrn;
    else if (by_doc == NULL && g_strcmp0(d->mrn, by_patient) != 0)
      by_doc = d;
    else if (by_doc != NULL && by_search == NULL && g_strcmp0(d->mrn, by_patient) != 0 &&
             g_strcmp0(d->mrn, by_doc->mrn) != 0)
      by_search = d;
  }
  g_assert_nonnull(by_search);

  roi = cd_principal_new_user("rita", roles_roi);
  cd_archive_push_principal(f->archive, roi, NULL);
  h_patient = cd_archive_place_hold(f->archive, CD_HOLD_PATIENT, by_patient, 0, NULL, "litigation", "CASE-1", &error);
  g_assert_no_error(error);
  /* roi may place but not release */
  g_assert_false(cd_archive_release_hold(f->archive, h_patient, "done", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);
  cd_archive_pop_actor(f->archive);

  h_doc = cd_archive_place_hold(f->archive, CD_HOLD_DOCUMENT, NULL, by_doc->id, NULL, "audit", NULL, &error);
  g_assert_no_error(error);
  q.text = by_search->word;
  h_search = cd_archive_place_hold(f->archive, CD_HOLD_SEARCH, NULL, 0, &q, "subpoena", "SUB-9", &error);
  g_assert_no_error(error);
  g_assert_cmpint(h_patient, <, h_doc);
  g_assert_cmpint(h_doc, <, h_search);
  /* a hold needs a reason; a search hold needs something to match */
  g_assert_cmpint(cd_archive_place_hold(f->archive, CD_HOLD_DOCUMENT, NULL, by_doc->id, NULL, "", NULL, &error), ==, 0);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  q.text = "\"unclosed";
  g_assert_cmpint(cd_archive_place_hold(f->archive, CD_HOLD_SEARCH, NULL, 0, &q, "x", NULL, &error), ==, 0);
  g_assert_error(error, CD_ERROR, CD_ERROR_QUERY);
  g_clear_error(&error);

  after = cd_archive_retention_plan(f->archive, policy, AS_OF, &error);
  g_assert_no_error(error);
  held = plan_ids(after, "held");
  due_after = plan_ids(after, "due");
  for (guint i = 0; i < f->docs->len; i++) {
    const Doc *d = g_ptr_array_index(f->docs, i);
    gboolean covered = g_strcmp0(d->mrn, by_patient) == 0 || d == by_doc || d == by_search;
    if (!g_hash_table_contains(due, &d->id))
      continue;
    g_assert_cmpint(g_hash_table_contains(held, &d->id), ==, covered);
    g_assert_cmpint(g_hash_table_contains(due_after, &d->id), ==, !covered);
  }

  /* on the chart: the document's JSON and the patient's holds */
  docjson = cd_archive_get_document(f->archive, by_search->id, &error);
  g_assert_no_error(error);
  {
    JsonArray *dh = json_object_get_array_member(json_node_get_object(docjson), "holds");
    g_assert_cmpint(json_array_get_length(dh), ==, 1);
    g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(dh, 0), "id"), ==, h_search);
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(dh, 0), "matter"), ==, "SUB-9");
  }
  holds = cd_archive_list_holds(f->archive, by_patient, 0, FALSE, &error);
  g_assert_no_error(error);
  g_assert_cmpint(holds->len, ==, 1);
  g_assert_cmpstr(((CdLegalHold *) g_ptr_array_index(holds, 0))->placed_by, ==, "rita");
  g_clear_pointer(&holds, g_ptr_array_unref);

  /* released: no longer protects, still on record */
  g_assert_true(cd_archive_release_hold(f->archive, h_doc, "audit closed", &error));
  g_assert_no_error(error);
  g_assert_false(cd_archive_release_hold(f->archive, h_doc, "again", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_clear_pointer(&due_after, g_hash_table_unref);
  g_clear_pointer(&after, json_node_unref);
  after = cd_archive_retention_plan(f->archive, policy, AS_OF, &error);
  g_assert_no_error(error);
  due_after = plan_ids(after, "due");
  g_assert_true(g_hash_table_contains(due_after, &by_doc->id));
  holds = cd_archive_list_holds(f->archive, NULL, 0, TRUE, &error);
  g_assert_no_error(error);
  g_assert_cmpint(holds->len, ==, 3);
  g_assert_cmpstr(((CdLegalHold *) g_ptr_array_index(holds, 1))->release_reason, ==, "audit closed");
  g_assert_cmpint(audit_count(f->archive, "hold-place"), ==, 3);
  g_assert_cmpint(audit_count(f->archive, "hold-release"), ==, 1);
}

static gboolean
file_contains(const gchar *path, const gchar *needle)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents(path, &data, &len, NULL))
    return FALSE;
  return memmem(data, len, needle, strlen(needle)) != NULL;
}

static gint64
search_count(CdArchive *archive, const gchar *word)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  CdSearchQuery q = { 0 };

  q.text = word;
  q.limit = 100;
  hits = cd_archive_search(archive, &q, &error);
  g_assert_no_error(error);
  return hits->len;
}

/* Destruction under the two-person rule: the maker cannot approve; another
 * administrator destroys exactly the plan's documents, refusing the one
 * that gained a hold and those whose patient gained a newer date of
 * service; their words leave search, the index and the file's bytes;
 * tombstones keep what they were; the audit log has each step; the check
 * passes; the certificate (read back with poppler) lists them; a plan is
 * carried out once and a changed plan never. */
static void
test_retention_destroy(Fixture *f, gconstpointer data)
{
  g_autoptr(CdRetentionPolicy) policy = load_policy();
  g_autoptr(GError) error = NULL;
  const gchar *admin[] = { "admin", NULL };
  g_autoptr(CdPrincipal) alice = cd_principal_new_user("alice", admin);
  g_autoptr(CdPrincipal) bob = cd_principal_new_user("bob", admin);
  g_autoptr(JsonNode) plan = NULL;
  g_autoptr(JsonNode) run = NULL;
  g_autoptr(JsonNode) record = NULL;
  g_autoptr(GBytes) pdf = NULL;
  g_autoptr(GHashTable) due = NULL;
  g_autoptr(GHashTable) destroyed = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GPtrArray) problems = NULL;
  g_autofree gchar *plan_text = NULL;
  g_autofree gchar *wal = g_strdup_printf("%s-wal", f->path);
  const Doc *late_hold = NULL, *newer = NULL, *kept_word = NULL;
  JsonArray *ids, *refused;
  GHashTableIter it;
  gpointer key;
  gint64 patients_before = archive_int(f->archive, "SELECT count(*) FROM patients");
  gint64 bytes_before, bytes_after;

  g_assert_true(cd_archive_set_retention_two_person(f->archive, TRUE, &error));
  g_assert_no_error(error);
  cd_archive_push_principal(f->archive, alice, NULL);
  plan = cd_archive_retention_plan(f->archive, policy, NULL, &error);
  cd_archive_pop_actor(f->archive);
  g_assert_no_error(error);
  g_assert_true(json_object_get_boolean_member(json_node_get_object(plan), "two_person"));
  plan_text = json_to_string(plan, TRUE);
  due = plan_ids(plan, "due");
  g_assert_cmpint(g_hash_table_size(due), >, 6);

  /* since the plan: a hold on one due document, a new visit for another's patient */
  for (guint i = 0; i < f->docs->len; i++) {
    const Doc *d = g_ptr_array_index(f->docs, i);
    if (!g_hash_table_contains(due, &d->id)) {
      if (kept_word == NULL && d->mrn != NULL)
        kept_word = d;
      continue;
    }
    if (late_hold == NULL)
      late_hold = d;
    else if (newer == NULL && g_strcmp0(d->mrn, late_hold->mrn) != 0)
      newer = d;
  }
  g_assert_nonnull(newer);
  g_assert_nonnull(kept_word);
  g_assert_cmpint(
      cd_archive_place_hold(f->archive, CD_HOLD_DOCUMENT, NULL, late_hold->id, NULL, "new claim", "C-2", &error), >, 0);
  g_assert_no_error(error);
  {
    const gchar *inputs[] = { "box2/", NULL };
    gint64 batch = cd_archive_begin_batch(f->archive, "test", inputs, &error);
    g_assert_no_error(error);
    add_document(f, batch, newer->mrn, newer->dob, "progress-note", "2026-11-01");
  }

  /* the maker may not approve */
  cd_archive_push_principal(f->archive, alice, NULL);
  g_assert_null(cd_archive_retention_destroy(f->archive, plan_text, &error));
  cd_archive_pop_actor(f->archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_nonnull(strstr(error->message, "two-person"));
  g_clear_error(&error);
  g_assert_cmpint(archive_int(f->archive, "SELECT count(*) FROM tombstones"), ==, 0);

  /* a changed plan is not the plan that was made */
  {
    g_autoptr(GString) forged = g_string_new(plan_text);
    g_string_replace(forged, "\"as_of\"", "\"as_of\" ", 1);
    cd_archive_push_principal(f->archive, bob, NULL);
    g_assert_null(cd_archive_retention_destroy(f->archive, forged->str, &error));
    cd_archive_pop_actor(f->archive);
    g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
    g_clear_error(&error);
  }

  cd_archive_push_principal(f->archive, bob, NULL);
  run = cd_archive_retention_destroy(f->archive, plan_text, &error);
  cd_archive_pop_actor(f->archive);
  g_assert_no_error(error);
  ids = json_object_get_array_member(json_node_get_object(run), "destroyed");
  refused = json_object_get_array_member(json_node_get_object(run), "refused");
  for (guint i = 0; i < json_array_get_length(ids); i++) {
    gint64 *id = g_new(gint64, 1);
    *id = json_array_get_int_element(ids, i);
    g_hash_table_add(destroyed, id);
  }
  /* exactly the plan's documents, less the refused ones */
  g_assert_cmpint(json_array_get_length(ids) + json_array_get_length(refused), ==, g_hash_table_size(due));
  g_assert_false(g_hash_table_contains(destroyed, &late_hold->id));
  g_assert_false(g_hash_table_contains(destroyed, &newer->id));
  for (guint i = 0; i < json_array_get_length(refused); i++) {
    JsonObject *r = json_array_get_object_element(refused, i);
    gint64 id = json_object_get_int_member(r, "document");
    const gchar *why = json_object_get_string_member(r, "why");
    g_assert_true(g_hash_table_contains(due, &id));
    if (id == late_hold->id)
      g_assert_nonnull(strstr(why, "legal hold"));
    else
      g_assert_nonnull(strstr(why, "newer date of service"));
  }
  g_hash_table_iter_init(&it, destroyed);
  while (g_hash_table_iter_next(&it, &key, NULL))
    g_assert_true(g_hash_table_contains(due, key));
  bytes_before = json_object_get_int_member(json_node_get_object(run), "bytes_before");
  bytes_after = json_object_get_int_member(json_node_get_object(run), "bytes_after");
  g_assert_cmpint(bytes_after, <, bytes_before);
  g_test_message("destroyed %u documents; file %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " bytes",
                 json_array_get_length(ids), bytes_before, bytes_after);

  /* no trace of a destroyed page's words: not in the file or its WAL ... */
  for (guint i = 0; i < f->docs->len; i++) {
    const Doc *d = g_ptr_array_index(f->docs, i);
    if (!g_hash_table_contains(destroyed, &d->id))
      continue;
    g_assert_false(file_contains(f->path, d->word));
    g_assert_false(file_contains(wal, d->word));
  }
  g_assert_true(file_contains(f->path, kept_word->word) || file_contains(wal, kept_word->word));
  /* ... nor in the index's vocabulary, nor found by search */
  g_assert_true(
      cd_archive_exec(f->archive, "CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, pages_fts, 'row')", &error));
  g_assert_no_error(error);
  for (guint i = 0; i < f->docs->len; i++) {
    const Doc *d = g_ptr_array_index(f->docs, i);
    g_autofree gchar *sql = g_strdup_printf("SELECT count(*) FROM temp.v WHERE term = '%s'", d->word);
    gboolean gone = g_hash_table_contains(destroyed, &d->id);
    g_assert_cmpint(archive_int(f->archive, sql), ==, gone ? 0 : 1);
    g_assert_cmpint(search_count(f->archive, d->word), ==, gone ? 0 : 1 + (i % 2));
  }

  /* tombstones keep what the documents were; the MPI is untouched */
  g_assert_cmpint(archive_int(f->archive, "SELECT count(*) FROM tombstones"), ==, json_array_get_length(ids));
  g_assert_cmpint(archive_int(f->archive,
                              "SELECT count(*) FROM tombstones WHERE patient_mrn IS NULL OR date IS NULL OR pages < 1 "
                              "OR json_array_length(image_sha256) != pages"),
                  ==, 0);
  g_assert_cmpint(archive_int(f->archive, "SELECT count(*) FROM patients"), ==, patients_before);
  {
    gint64 id = json_array_get_int_element(ids, 0);
    g_autoptr(JsonNode) doc = cd_archive_get_document(f->archive, id, &error);
    JsonObject *o;
    g_assert_no_error(error);
    o = json_node_get_object(doc);
    g_assert_false(json_object_get_null_member(o, "destroyed"));
    g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(o, "destroyed"), "run"), ==,
                    json_object_get_int_member(json_node_get_object(run), "run"));
    g_assert_true(json_object_get_null_member(
        json_array_get_object_element(json_object_get_array_member(o, "pages"), 0), "text"));
  }
  /* the triggers keep it destroyed */
  {
    g_autofree gchar *sql = g_strdup_printf("UPDATE pages SET text = 'back' WHERE document_id = %" G_GINT64_FORMAT,
                                            json_array_get_int_element(ids, 0));
    g_assert_false(cd_archive_exec(f->archive, sql, &error));
    g_assert_nonnull(strstr(error->message, "stays empty"));
    g_clear_error(&error);
  }

  /* each step audited */
  g_assert_cmpint(audit_count(f->archive, "retention-destroy-start"), ==, 1);
  g_assert_cmpint(audit_count(f->archive, "destroy"), ==, json_array_get_length(ids));
  g_assert_cmpint(audit_count(f->archive, "destroy-refused"), ==, json_array_get_length(refused));
  g_assert_cmpint(audit_count(f->archive, "retention-destroy"), ==, 1);
  g_assert_cmpint(audit_count(f->archive, "retention-vacuum"), ==, 1);
  g_assert_cmpint(archive_int(f->archive, "SELECT count(*) FROM audit WHERE action = 'denied' AND detail LIKE "
                                          "'%same person%'"),
                  ==, 1);

  /* the check: no image or text left, nothing held destroyed */
  g_assert_true(cd_archive_check(f->archive, &problems, &error));
  g_assert_no_error(error);
  for (guint i = 0; i < problems->len; i++)
    g_test_message("check: %s", (gchar *) g_ptr_array_index(problems, i));
  g_assert_cmpint(problems->len, ==, 0);
  g_clear_pointer(&problems, g_ptr_array_unref);
  /* ... and it would say so */
  g_assert_true(cd_archive_exec(f->archive, "DROP TRIGGER destroyed_pages_stay_empty", &error));
  {
    g_autofree gchar *sql = g_strdup_printf("UPDATE pages SET text = 'back' WHERE document_id = %" G_GINT64_FORMAT,
                                            json_array_get_int_element(ids, 0));
    g_assert_true(cd_archive_exec(f->archive, sql, &error));
  }
  g_assert_true(cd_archive_check(f->archive, &problems, &error));
  g_assert_cmpint(problems->len, >=, 1);
  g_assert_nonnull(strstr(g_ptr_array_index(problems, 0), "destroyed"));

  /* the certificate matches the destruction */
  record = cd_archive_get_retention_run(f->archive, json_object_get_int_member(json_node_get_object(run), "run"), &pdf,
                                        &error);
  g_assert_no_error(error);
  {
    JsonObject *o = json_node_get_object(record);
    g_autofree gchar *sum = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, pdf);
    g_autoptr(PopplerDocument) pd = poppler_document_new_from_bytes(pdf, NULL, &error);
    g_autoptr(GString) text = g_string_new(NULL);
    const gchar *first = NULL, *last = NULL;
    g_autofree gchar *range = NULL;

    g_assert_no_error(error);
    g_assert_cmpstr(sum, ==, json_object_get_string_member(o, "certificate_sha256"));
    g_assert_cmpstr(json_object_get_string_member(o, "made_by"), ==, "alice");
    g_assert_cmpstr(json_object_get_string_member(o, "approved_by"), ==, "bob");
    g_assert_cmpint(json_object_get_int_member(o, "documents"), ==, json_array_get_length(ids));
    g_assert_cmpint(json_array_get_length(json_object_get_array_member(o, "tombstones")), ==,
                    json_array_get_length(ids));
    for (gint p = 0; p < poppler_document_get_n_pages(pd); p++) {
      g_autoptr(PopplerPage) page = poppler_document_get_page(pd, p);
      g_autofree gchar *t = poppler_page_get_text(page);
      g_string_append(text, t);
      g_string_append_c(text, '\n');
    }
    g_assert_nonnull(strstr(text->str, "Certificate of Records Destruction"));
    g_assert_nonnull(strstr(text->str, "Test General Hospital HIM"));
    g_assert_nonnull(strstr(text->str, "bob"));
    g_assert_nonnull(strstr(text->str, "alice"));
    g_assert_nonnull(strstr(text->str, "Method of destruction"));
    for (guint i = 0; i < f->docs->len; i++) {
      const Doc *d = g_ptr_array_index(f->docs, i);
      g_autofree gchar *line = g_strdup_printf("document %" G_GINT64_FORMAT " ", d->id);
      gboolean gone = g_hash_table_contains(destroyed, &d->id);
      g_assert_cmpint(strstr(text->str, line) != NULL, ==, gone);
      if (gone && (first == NULL || strcmp(d->date, first) < 0))
        first = d->date;
      if (gone && (last == NULL || strcmp(d->date, last) > 0))
        last = d->date;
    }
    range = g_strdup_printf("%s to %s", first, last);
    g_assert_nonnull(strstr(text->str, range));
  }
  g_assert_cmpint(audit_count(f->archive, "retention-certificate"), ==, 1);

  /* carried out once */
  cd_archive_push_principal(f->archive, bob, NULL);
  g_assert_null(cd_archive_retention_destroy(f->archive, plan_text, &error));
  cd_archive_pop_actor(f->archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "already carried out"));
}

/* The policy file's mistakes, each with the line it is on. */
static void
test_retention_policy_errors(void)
{
  g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_default(NULL);
  static const struct {
    const gchar *text;
    const gchar *message;
  } cases[] = {
    { "[policy]\nyears=ten\n", "p:2: years: 'ten' is not a whole number" },
    { "[policy]\nyears=10\n\n[no-such-type]\nyears=5\n", "p:4: [no-such-type]: no such document type" },
    { "[policy]\nyears=10\nfloor-years=7\n[progress-note]\nyears=5\n", "p:4: [progress-note] years=5 is below" },
    { "[policy]\nyears=10\n[consent-form]\npermanent=true\nyears=3\n", "p:3: [consent-form]: a permanent type" },
    { "[policy]\nyears=10\nyears=11\n", "p:3: years is given twice in this group (first on line 2)" },
    { "# only a comment\nyears=10\n", "p:2: 'years' comes before any group" },
    { "[policy]\nmajority-age=18\n", "p:1: [policy] needs years=N" },
    { "[policy]\nyears=10\nshred=yes\n", "p:3: [policy] has no key 'shred'" },
    { "[policy]\nyears=10\n[progress-note\n", "p:3: a group line must end with ']'" },
    { "[policy]\nyears=10\n[discharge]\nyears=20\n", "p:3: [discharge]: name the type as the taxonomy does" },
    { "[policy]\nyears=10\n[policy]\n", "p:3: [policy] is given twice (first on line 1)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(CdRetentionPolicy) p = cd_retention_policy_new_from_data(cases[i].text, "p", taxonomy, &error);
    g_assert_null(p);
    g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
    if (!g_str_has_prefix(error->message, cases[i].message))
      g_test_message("case %u: %s", i, error->message);
    g_assert_true(g_str_has_prefix(error->message, cases[i].message));
  }
}

/* The rules at their edges: the day after keep-until is the first due
 * day; a leap-day birth reaches majority on 1 March; an unknown birth is
 * taken as born on the date of service; a former type name gets the
 * type's rule. */
static void
test_retention_policy_rules(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_default(NULL);
  g_autoptr(CdRetentionPolicy) p = cd_retention_policy_new_from_data(policy_text, "p", taxonomy, &error);
  struct {
    const gchar *type, *date, *last, *dob, *until;
    gboolean minor;
  } cases[] = {
    { "progress-note", "2000-01-15", "2005-03-01", "1950-01-01", "2015-03-01", FALSE },
    { "operative-report", "2000-01-15", NULL, "1950-01-01", "2030-01-15", FALSE },
    /* a minor: majority (2022-03-01, leap-day birth) + 3 beats last + 10 */
    { "progress-note", "2005-06-01", "2006-01-01", "2004-02-29", "2025-03-01", TRUE },
    /* unknown birth: born on the date of service */
    { "progress-note", "2010-05-05", NULL, NULL, "2031-05-05", TRUE },
    /* an adult on the date of service, a minor once */
    { "discharge-summary", "2023-01-01", NULL, "2004-12-31", "2033-01-01", FALSE },
  };

  g_assert_no_error(error);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_auto(CdRetentionVerdict) v = { 0 };
    g_autofree gchar *until = NULL;
    g_assert_true(
        cd_retention_policy_evaluate(p, cases[i].type, cases[i].date, cases[i].last, cases[i].dob, &v, &error));
    g_assert_no_error(error);
    until = cd_date_to_iso(&v.keep_until);
    g_assert_cmpstr(until, ==, cases[i].until);
    g_assert_cmpint(v.minor, ==, cases[i].minor);
  }
  {
    g_auto(CdRetentionVerdict) v = { 0 };
    g_assert_true(cd_retention_policy_evaluate(p, "consent-form", "1990-01-01", NULL, NULL, &v, &error));
    g_assert_true(v.permanent);
  }
}

/* The command line end to end: check names the line; plan -o, then
 * destroy --approve by another user (archive two-person rule), the
 * certificate written as a PDF file. */
static void
test_retention_cli(Fixture *f, gconstpointer data)
{
  g_auto(CdTestRun) r = { 0 };
  g_autofree gchar *policy = g_build_filename(f->dir, "retention.conf", NULL);
  g_autofree gchar *bad = g_build_filename(f->dir, "bad.conf", NULL);
  g_autofree gchar *plan = g_build_filename(f->dir, "plan.json", NULL);
  g_autofree gchar *pdf = g_build_filename(f->dir, "cert.pdf", NULL);
  g_autofree gchar *head = NULL;
  gsize len = 0;

  g_clear_object(&f->archive); /* the command line takes the writer's lock */
  g_assert_true(g_file_set_contents(policy, policy_text, -1, NULL));
  g_assert_true(g_file_set_contents(bad, "[policy]\nyears=10\n\n[operative-report]\nyears=3x\n", -1, NULL));

  cd_test_chartdesk(&r, "retention", "check", policy, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "valid"));
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "retention", "check", bad, NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_nonnull(strstr(r.err, "bad.conf:5: years: '3x'"));
  cd_test_run_clear(&r);

  cd_test_chartdesk(&r, "retention", "settings", f->path, "--two-person", "yes", NULL);
  g_assert_cmpint(r.status, ==, 0);
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "retention", "plan", f->path, policy, "-o", plan, "--user", "alice", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "Due for destruction"));
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "retention", "destroy", f->path, plan, NULL);
  g_assert_cmpint(r.status, ==, 2); /* no --approve */
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "retention", "destroy", f->path, plan, "--approve", "--user", "alice", NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_nonnull(strstr(r.err, "two-person"));
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "retention", "destroy", f->path, plan, "--approve", "--user", "bob", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "Destruction run 1:"));
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "retention", "certificate", f->path, "1", "-o", pdf, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_true(g_file_get_contents(pdf, &head, &len, NULL));
  g_assert_cmpint(len, >, 1000);
  g_assert_true(g_str_has_prefix(head, "%PDF-"));
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "check", f->path, NULL);
  g_assert_cmpint(r.status, ==, 0);
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "hold", "add", f->path, "patient", "R003", "--reason", "litigation", "--matter", "M-1", NULL);
  g_assert_cmpint(r.status, ==, 0);
  cd_test_run_clear(&r);
  cd_test_chartdesk(&r, "mpi", "show", f->path, "R003", "--json", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "\"matter\" : \"M-1\""));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chartdesk/retention/policy-errors", test_retention_policy_errors);
  g_test_add_func("/chartdesk/retention/policy-rules", test_retention_policy_rules);
  g_test_add("/chartdesk/retention/plan", Fixture, NULL, fixture_set_up, test_retention_plan_matches_rules,
             fixture_tear_down);
  g_test_add("/chartdesk/retention/holds", Fixture, NULL, fixture_set_up, test_retention_holds_protect,
             fixture_tear_down);
  g_test_add("/chartdesk/retention/destroy", Fixture, NULL, fixture_set_up, test_retention_destroy, fixture_tear_down);
  g_test_add("/chartdesk/retention/cli", Fixture, NULL, fixture_set_up, test_retention_cli, fixture_tear_down);
  return g_test_run();
}
