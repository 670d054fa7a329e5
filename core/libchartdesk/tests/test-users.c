/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The user directory, roles and permissions, and the archive as their
 * enforcer, on real files: a keyfile directory and SQLite archives.
 */
#include <glib/gstdio.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-test-util.h"
#include "cd-session-store.h"
#include "cd-user-directory.h"

typedef struct {
  gchar *dir;
  gchar *users;   /* the directory's file */
  gchar *archive; /* an archive with a filed document, a document in review and a restricted one */
  gint64 filed;   /* progress-note, filed */
  gint64 waiting; /* consultation, in review */
  gint64 secret;  /* psychotherapy-note, restricted */
  gint64 clock;   /* the fake clock, µs */
} Fixture;

static gint64
fake_clock(gpointer data)
{
  return ((Fixture *) data)->clock;
}

static CdPage *
make_page(const gchar *sha, const gchar *text, gint mark)
{
  g_autoptr(GError) error = NULL;
  CdPage *page = cd_page_new("box1/scan.tif", mark, sha);
  PIX *pix = pixCreate(64, 48, 1);

  pixRasterop(pix, 10, 10, 20 + mark, 4, PIX_SET, NULL, 0, 0);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, 300, 300);
  cd_page_set_text(page, text);
  g_assert_true(cd_page_encode_image(page, &error));
  g_assert_no_error(error);
  return page;
}

static gint64
commit_document(CdArchive *archive, gint64 batch, const gchar *type, const gchar *text, gint mark, gboolean review)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdDocument) doc = cd_document_new();
  g_autoptr(CdPage) page = NULL;
  g_autofree gchar *sha = g_strnfill(64, 'a' + mark);

  page = make_page(sha, text, mark);
  cd_document_set_patient_mrn(doc, "MRN001");
  cd_document_set_doc_type(doc, type, 0.9);
  cd_document_set_date(doc, "2024-03-0" G_STRINGIFY(1));
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
  g_autoptr(CdArchive) archive = NULL;
  const gchar *inputs[] = { "box1/", NULL };
  gint64 batch;

  f->dir = g_dir_make_tmp("cd-users-XXXXXX", &error);
  g_assert_no_error(error);
  f->users = g_build_filename(f->dir, "state", "users.conf", NULL);
  f->archive = g_build_filename(f->dir, "test.archive", NULL);
  f->clock = G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC;

  archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  batch = cd_archive_begin_batch(archive, "test", inputs, &error);
  g_assert_no_error(error);
  f->filed = commit_document(archive, batch, "progress-note", "patient walked today", 0, FALSE);
  f->waiting = commit_document(archive, batch, "consultation", "cardiology consult walked", 1, TRUE);
  f->secret = commit_document(archive, batch, "psychotherapy-note", "session notes walked", 2, FALSE);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  cd_test_rm_rf(f->dir);
  g_free(f->dir);
  g_free(f->users);
  g_free(f->archive);
}

static CdUserDirectory *
open_directory(Fixture *f)
{
  g_autoptr(GError) error = NULL;
  CdUserDirectory *dir = cd_user_directory_open(f->users, TRUE, &error);

  g_assert_no_error(error);
  cd_user_directory_set_clock(dir, fake_clock, f);
  /* the smallest argon2id parameters: the tests check logic, not cost */
  cd_user_directory_set_pwhash_limits(dir, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
  return dir;
}

static CdArchive *
open_archive(Fixture *f)
{
  g_autoptr(GError) error = NULL;
  const gchar *restricted[] = { "psychotherapy-note", NULL };
  CdArchive *archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_WRITER, &error);

  g_assert_no_error(error);
  cd_archive_set_restricted_types(archive, restricted);
  return archive;
}

static gchar *
last_audit(CdArchive *archive, gint column)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt =
      cd_archive_prepare(archive, "SELECT actor, action, detail FROM audit ORDER BY id DESC LIMIT 1", &error);

  g_assert_no_error(error);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  return g_strdup((const gchar *) sqlite3_column_text(stmt, column));
}

/* Users are added, listed, granted and revoked roles, disabled and enabled;
 * the file is 0600, and bad names, roles and duplicates are refused. */
static void
test_users_directory(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdUserDirectory) dir = open_directory(f);
  g_autoptr(CdUserDirectory) other = NULL;
  g_autoptr(GPtrArray) users = NULL;
  g_autoptr(CdUser) alice = NULL;
  const gchar *scanner[] = { "scanner", NULL };
  const gchar *bogus[] = { "superuser", NULL };
  GStatBuf st;

  g_assert_true(cd_user_directory_add(dir, "alice", "Alice Smith", scanner, "alice", NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_stat(f->users, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0600);

  g_assert_false(cd_user_directory_add(dir, "alice", NULL, scanner, NULL, NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_false(cd_user_directory_add(dir, "bob", NULL, bogus, NULL, NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "unknown role 'superuser'"));
  g_clear_error(&error);
  g_assert_false(cd_user_directory_add(dir, "bob;rm", NULL, scanner, NULL, NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_false(cd_user_directory_add(dir, "chartdeskd", NULL, scanner, NULL, NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_false(cd_user_directory_add(dir, "bob", NULL, scanner, "alice", NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);

  g_assert_true(cd_user_directory_grant(dir, "alice", "indexer", &error));
  g_assert_no_error(error);
  g_assert_false(cd_user_directory_grant(dir, "alice", "indexer", &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  g_assert_true(cd_user_directory_revoke(dir, "alice", "scanner", &error));
  g_assert_no_error(error);
  g_assert_true(cd_user_directory_set_active(dir, "alice", FALSE, &error));
  g_assert_no_error(error);

  /* another process's view of the file */
  other = cd_user_directory_open(f->users, FALSE, &error);
  g_assert_no_error(error);
  users = cd_user_directory_list(other);
  g_assert_cmpuint(users->len, ==, 1);
  alice = cd_user_directory_lookup_unix(other, "alice", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(alice->full_name, ==, "Alice Smith");
  g_assert_cmpstr(alice->roles[0], ==, "indexer");
  g_assert_null(alice->roles[1]);
  g_assert_false(alice->active);

  g_assert_cmpint(g_chmod(f->users, 0640), ==, 0);
  g_clear_object(&other);
  other = cd_user_directory_open(f->users, FALSE, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_assert_nonnull(strstr(error->message, "readable or writable by others"));
  g_assert_null(other);
}

/* Passwords are argon2id strings; a right one verifies, a wrong one fails
 * with PERMISSION_DENIED, and a hash of weaker parameters is remade at the
 * next good login. */
static void
test_users_password(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdUserDirectory) dir = open_directory(f);
  g_autofree gchar *contents = NULL;
  const gchar *coder[] = { "coder", NULL };
  gboolean rehashed = TRUE;

  g_assert_true(cd_user_directory_add(dir, "carol", NULL, coder, NULL, "correct horse", &error));
  g_assert_no_error(error);
  g_assert_true(g_file_get_contents(f->users, &contents, NULL, NULL));
  g_assert_nonnull(strstr(contents, "$argon2id$"));
  g_assert_null(strstr(contents, "correct horse"));

  g_assert_true(cd_user_directory_verify_password(dir, "carol", "correct horse", &rehashed, &error));
  g_assert_no_error(error);
  g_assert_false(rehashed);
  g_assert_false(cd_user_directory_verify_password(dir, "carol", "battery staple", NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);

  cd_user_directory_set_pwhash_limits(dir, crypto_pwhash_OPSLIMIT_MIN + 1, crypto_pwhash_MEMLIMIT_MIN * 2);
  g_assert_true(cd_user_directory_verify_password(dir, "carol", "correct horse", &rehashed, &error));
  g_assert_no_error(error);
  g_assert_true(rehashed);
  g_assert_true(cd_user_directory_verify_password(dir, "carol", "correct horse", &rehashed, &error));
  g_assert_false(rehashed);

  g_assert_true(cd_user_directory_set_active(dir, "carol", FALSE, &error));
  g_assert_false(cd_user_directory_verify_password(dir, "carol", "correct horse", NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_nonnull(strstr(error->message, "disabled"));
}

typedef enum {
  OP_SEARCH,
  OP_VIEW_FILED,
  OP_VIEW_REVIEW,
  OP_PAGE_IMAGE,
  OP_EXPORT,
  OP_LIST_REVIEW,
  OP_SET_TYPE,
  OP_BEGIN_BATCH,
  OP_LIST_BATCHES,
  OP_IMPORT_MPI,
  OP_LIST_MODELS,
  OP_CHECK,
  OP_VERIFY_AUDIT,
  N_OPS
} Op;

static const gchar *const op_names[N_OPS] = {
  "search",      "view-filed",   "view-review", "page-image",  "export", "list-review",  "set-type",
  "begin-batch", "list-batches", "import-mpi",  "list-models", "check",  "verify-audit",
};

/* The permission each operation needs, named in its refusal. */
static const gchar *const op_permission[N_OPS] = {
  "read-charts", "read-charts",  "read-charts", "read-charts", "export",    "review",     "review",
  "run-batches", "read-batches", "configure",   "configure",   "configure", "read-audit",
};

/* Runs @op; a refusal leaves @error set, anything else is allowed (an
 * operation that fails later, for a missing id, passed the check). */
static void
run_op(Fixture *f, CdArchive *archive, Op op, GError **error)
{
  switch (op) {
  case OP_SEARCH: {
    CdSearchQuery q = { .text = "walked" };
    g_autoptr(GPtrArray) hits = cd_archive_search(archive, &q, error);
    break;
  }
  case OP_VIEW_FILED: {
    g_autoptr(JsonNode) node = cd_archive_get_document(archive, f->filed, error);
    break;
  }
  case OP_VIEW_REVIEW: {
    g_autoptr(JsonNode) node = cd_archive_get_document(archive, f->waiting, error);
    break;
  }
  case OP_PAGE_IMAGE: {
    g_autoptr(GBytes) bytes = cd_archive_get_page_image(archive, 1, NULL, error);
    break;
  }
  case OP_EXPORT: {
    g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
    cd_archive_export_jsonl(archive, out, FALSE, NULL, error);
    break;
  }
  case OP_LIST_REVIEW: {
    g_autoptr(GPtrArray) items = cd_archive_list_review(archive, FALSE, error);
    break;
  }
  case OP_SET_TYPE:
    cd_archive_review_set_type(archive, 9999, "consultation", "test", error);
    break;
  case OP_BEGIN_BATCH: {
    const gchar *inputs[] = { "box2/", NULL };
    cd_archive_begin_batch(archive, "test", inputs, error);
    break;
  }
  case OP_LIST_BATCHES: {
    g_autoptr(GPtrArray) batches = cd_archive_list_batches(archive, NULL, error);
    break;
  }
  case OP_IMPORT_MPI: {
    g_autoptr(GPtrArray) none = g_ptr_array_new();
    cd_archive_import_patients(archive, none, "test", NULL, error);
    break;
  }
  case OP_LIST_MODELS: {
    g_autoptr(GPtrArray) models = cd_archive_list_models(archive, NULL, error);
    break;
  }
  case OP_CHECK: {
    g_autoptr(GPtrArray) problems = NULL;
    cd_archive_check(archive, &problems, error);
    break;
  }
  case OP_VERIFY_AUDIT:
    cd_archive_verify_audit(archive, NULL, error);
    break;
  case N_OPS:
    break;
  }
}

/* Which operations each role may do: 1 allowed, 0 refused. */
static const struct {
  const gchar *role;
  gint allowed[N_OPS];
} role_table[] = {
  /*                 srch view vrev img  exp  lrev type bat  lbat mpi  mod  chk  aud */
  { "scanner", { 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0 } }, { "indexer", { 0, 0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0 } },
  { "coder", { 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 } },   { "archivist", { 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 } },
  { "roi", { 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },     { "auditor", { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } },
  { "admin", { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1 } },   { "restricted", { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } },
};

/* Every role against every operation: allowed ones pass the check, refused
 * ones fail with PERMISSION_DENIED naming the user, the role and the
 * missing permission, and the refusal is audited under the user's name. */
static void
test_users_role_table(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_archive(f);

  for (guint r = 0; r < G_N_ELEMENTS(role_table); r++) {
    const gchar *roles[] = { role_table[r].role, NULL };
    g_autoptr(CdPrincipal) principal = cd_principal_new_user("alice", roles);

    cd_archive_set_principal(archive, principal);
    for (guint op = 0; op < N_OPS; op++) {
      g_autoptr(GError) error = NULL;
      g_autofree gchar *expected = g_strdup_printf("user alice (%s) may not ", role_table[r].role);
      g_autofree gchar *needs = g_strdup_printf("needs %s ", op_permission[op]);

      g_test_message("%s: %s", role_table[r].role, op_names[op]);
      run_op(f, archive, op, &error);
      if (role_table[r].allowed[op]) {
        if (error != NULL)
          g_assert_false(g_error_matches(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED));
      } else {
        g_autofree gchar *actor = NULL;
        g_autofree gchar *action = NULL;
        g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
        g_assert_true(g_str_has_prefix(error->message, expected));
        g_assert_nonnull(strstr(error->message, needs));
        actor = last_audit(archive, 0);
        action = last_audit(archive, 1);
        g_assert_cmpstr(actor, ==, "alice");
        g_assert_cmpstr(action, ==, "denied");
      }
    }
  }
}

/* A restricted document is in no search (by words, by filter, by its own
 * type), no listing, no export and no count for a user without the grant,
 * and reading it by id says it does not exist; with the grant it is there. */
static void
test_users_restricted(Fixture *f, gconstpointer data)
{
  g_autoptr(CdArchive) archive = open_archive(f);
  const gchar *archivist[] = { "archivist", NULL };
  const gchar *granted[] = { "archivist", "restricted", NULL };
  const gchar *indexer[] = { "indexer", NULL };
  const gchar *types[] = { "psychotherapy-note", NULL };
  CdSearchQuery by_words = { .text = "walked" };
  CdSearchQuery by_patient = { .mrn = "MRN001" };
  CdSearchQuery by_type = { .doc_types = types };
  g_autoptr(CdPrincipal) plain = cd_principal_new_user("dana", archivist);
  g_autoptr(CdPrincipal) cleared = cd_principal_new_user("erin", granted);
  g_autoptr(CdPrincipal) reviewer = cd_principal_new_user("fred", indexer);

  for (guint pass = 0; pass < 2; pass++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) words = NULL;
    g_autoptr(GPtrArray) patient = NULL;
    g_autoptr(GPtrArray) typed = NULL;
    g_autoptr(JsonNode) doc = NULL;
    g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
    g_autofree gchar *exported = NULL;
    guint expected = pass == 0 ? 2 : 3;

    cd_archive_set_principal(archive, pass == 0 ? plain : cleared);
    words = cd_archive_search(archive, &by_words, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(words->len, ==, expected);
    patient = cd_archive_search(archive, &by_patient, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(patient->len, ==, expected);
    typed = cd_archive_search(archive, &by_type, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(typed->len, ==, pass == 0 ? 0 : 1);
    for (guint i = 0; i < words->len; i++) {
      CdSearchHit *hit = g_ptr_array_index(words, i);
      if (pass == 0)
        g_assert_cmpstr(hit->doc_type, !=, "psychotherapy-note");
    }
    /* nor in the total and the facets */
    for (guint q = 0; q < 2; q++) {
      g_autoptr(CdSearchResult) result = cd_archive_search_ex(archive, q == 0 ? &by_words : &by_patient, &error);
      gboolean secret_facet = FALSE;
      g_assert_no_error(error);
      g_assert_cmpuint(result->total, ==, expected);
      for (guint i = 0; i < result->type_facets->len; i++) {
        CdSearchFacet *facet = g_ptr_array_index(result->type_facets, i);
        if (g_strcmp0(facet->value, "psychotherapy-note") == 0)
          secret_facet = TRUE;
      }
      g_assert_true(secret_facet == (pass == 1));
    }
    /* the search's own audit entry counts what the user saw */
    {
      g_autofree gchar *detail = NULL;
      g_autoptr(GPtrArray) again = cd_archive_search(archive, &by_words, &error);
      g_autofree gchar *hits = g_strdup_printf("\"hits\":%u", expected);
      detail = last_audit(archive, 2);
      g_assert_nonnull(strstr(detail, hits));
    }

    doc = cd_archive_get_document(archive, f->secret, &error);
    if (pass == 0) {
      g_autofree gchar *missing = g_strdup_printf("no document %" G_GINT64_FORMAT, f->secret);
      g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
      g_assert_nonnull(strstr(error->message, missing));
      g_assert_null(doc);
      g_clear_error(&error);
    } else {
      g_assert_no_error(error);
      g_assert_nonnull(doc);
    }

    g_assert_true(cd_archive_export_jsonl(archive, out, FALSE, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_output_stream_close(out, NULL, NULL));
    exported = g_strndup(g_memory_output_stream_get_data(G_MEMORY_OUTPUT_STREAM(out)),
                         g_memory_output_stream_get_data_size(G_MEMORY_OUTPUT_STREAM(out)));
    g_assert_true((strstr(exported, "psychotherapy-note") != NULL) == (pass == 1));
    g_assert_nonnull(strstr(exported, "progress-note"));
  }

  /* the review queue: an indexer without the grant does not list it */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) before = NULL;
    g_autoptr(GPtrArray) after = NULL;
    g_autofree gchar *sql = NULL;

    cd_archive_set_principal(archive, reviewer);
    before = cd_archive_list_review(archive, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(before->len, ==, 1);
    /* put the restricted document in the queue too */
    sql = g_strdup_printf("INSERT INTO review (document_id, reason, created) VALUES (%" G_GINT64_FORMAT
                          ", 'check', '2024-01-01T00:00:00Z')",
                          f->secret);
    g_assert_true(cd_archive_exec(archive, sql, &error));
    g_assert_no_error(error);
    after = cd_archive_list_review(archive, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(after->len, ==, 1);
    /* nor decide it by id: for them it does not exist */
    g_assert_false(cd_archive_review_set_type(archive, f->secret, "consultation", "looks like one", &error));
    g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
    g_clear_error(&error);
  }

  /* training data leaves it out too */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) texts = NULL;
    g_autoptr(GPtrArray) labels = NULL;

    cd_archive_set_principal(archive, plain);
    g_assert_true(cd_archive_get_labelled_documents(archive, FALSE, &texts, &labels, &error));
    g_assert_no_error(error);
    for (guint i = 0; i < labels->len; i++)
      g_assert_cmpstr(g_ptr_array_index(labels, i), !=, "psychotherapy-note");
    g_assert_cmpuint(labels->len, ==, 1);
  }
}

/* The restricted types come from the taxonomy's `restricted=true`, former
 * names included; a value that is not a boolean is an error naming the type. */
static void
test_users_taxonomy_restricted(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *good = g_build_filename(f->dir, "good.conf", NULL);
  g_autofree gchar *bad = g_build_filename(f->dir, "bad.conf", NULL);
  g_auto(GStrv) names = NULL;
  g_auto(GStrv) none = NULL;

  g_assert_true(g_file_set_contents(good,
                                    "[taxonomy]\nfallback=other\n[other]\nname=Other\n"
                                    "[psychotherapy-note]\nname=Psychotherapy note\nrestricted=true\n"
                                    "renamed-from=psych-note\n[sud-record]\nname=SUD\nrestricted=false\n",
                                    -1, NULL));
  g_assert_true(g_file_set_contents(bad, "[psychotherapy-note]\nrestricted=yes\n", -1, NULL));
  names = cd_taxonomy_file_get_restricted(good, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_strv_length(names), ==, 2);
  g_assert_cmpstr(names[0], ==, "psychotherapy-note");
  g_assert_cmpstr(names[1], ==, "psych-note");
  none = cd_taxonomy_file_get_restricted(bad, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_assert_nonnull(strstr(error->message, "[psychotherapy-note] restricted"));
  g_assert_null(none);
}

/* Break-the-glass: a scanner with a reason reads charts, every entry under
 * it carries the reason, and when the time is up (fake clock) it is over. */
static void
test_users_break_glass(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdUserDirectory) dir = open_directory(f);
  g_autoptr(CdArchive) archive = open_archive(f);
  g_autoptr(CdPrincipal) before = NULL;
  g_autoptr(CdPrincipal) during = NULL;
  g_autoptr(JsonNode) doc = NULL;
  g_autofree gchar *detail = NULL;
  const gchar *scanner[] = { "scanner", NULL };
  gint64 until;

  g_assert_true(cd_user_directory_add(dir, "gail", NULL, scanner, NULL, NULL, &error));
  g_assert_no_error(error);
  before = cd_user_directory_get_principal(dir, "gail", &error);
  g_assert_no_error(error);
  g_assert_false(cd_principal_has(before, CD_PERMISSION_READ_CHARTS));

  g_assert_cmpint(cd_user_directory_break_glass(dir, "gail", "  ", 0, &error), ==, 0);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);
  until = cd_user_directory_break_glass(dir, "gail", "ED patient unconscious, chart needed", 0, &error);
  g_assert_no_error(error);
  g_assert_cmpint(until, ==, f->clock + G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC);

  during = cd_user_directory_get_principal(dir, "gail", &error);
  g_assert_no_error(error);
  cd_archive_push_principal(archive, during, NULL);
  doc = cd_archive_get_document(archive, f->secret, &error);
  g_assert_no_error(error);
  g_assert_nonnull(doc);
  detail = last_audit(archive, 2);
  g_assert_nonnull(strstr(detail, "break-glass: ED patient unconscious"));
  cd_archive_pop_actor(archive);

  f->clock += G_GINT64_CONSTANT(61 * 60) * G_USEC_PER_SEC;
  g_clear_pointer(&doc, json_node_unref);
  cd_archive_push_principal(archive, during, NULL);
  doc = cd_archive_get_document(archive, f->filed, &error);
  cd_archive_pop_actor(archive);
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_null(doc);
}

/* A disabled user's principal is refused at once, even by a directory
 * object opened before the change (it rereads the file). */
static void
test_users_disabled(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdUserDirectory) admin = open_directory(f);
  g_autoptr(CdUserDirectory) service = NULL;
  g_autoptr(CdPrincipal) first = NULL;
  g_autoptr(CdPrincipal) second = NULL;
  const gchar *coder[] = { "coder", NULL };

  g_assert_true(cd_user_directory_add(admin, "hank", NULL, coder, "hank", NULL, &error));
  g_assert_no_error(error);
  service = cd_user_directory_open(f->users, FALSE, &error);
  g_assert_no_error(error);
  first = cd_user_directory_get_principal(service, "hank", &error);
  g_assert_no_error(error);
  g_assert_true(cd_principal_has(first, CD_PERMISSION_READ_CHARTS));

  g_assert_true(cd_user_directory_set_active(admin, "hank", FALSE, &error));
  g_assert_no_error(error);
  second = cd_user_directory_get_principal(service, "hank", &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_nonnull(strstr(error->message, "user hank is disabled"));
  g_assert_null(second);
}

/* The audit log names the principal: the user's login, or admin-mode:LOGIN
 * for direct file access, whatever name was asked for with --user. */
static void
test_users_audit_names(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = open_archive(f);
  g_autoptr(CdPrincipal) admin = cd_principal_new_admin_mode("root", "mallory");
  const gchar *coder[] = { "coder", NULL };
  g_autoptr(CdPrincipal) ivy = cd_principal_new_user("ivy", coder);
  g_autoptr(JsonNode) a = NULL;
  g_autoptr(JsonNode) b = NULL;
  g_autoptr(JsonNode) c = NULL;
  g_autofree gchar *expected = g_strdup_printf("admin-mode:%s", g_get_user_name());
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;
  g_autofree gchar *third = NULL;

  a = cd_archive_get_document(archive, f->filed, &error);
  g_assert_no_error(error);
  first = last_audit(archive, 0);
  g_assert_cmpstr(first, ==, expected);

  cd_archive_set_principal(archive, ivy);
  b = cd_archive_get_document(archive, f->filed, &error);
  g_assert_no_error(error);
  second = last_audit(archive, 0);
  g_assert_cmpstr(second, ==, "ivy");

  cd_archive_set_principal(archive, admin);
  c = cd_archive_get_document(archive, f->filed, &error);
  g_assert_no_error(error);
  third = last_audit(archive, 0);
  g_assert_cmpstr(third, ==, "admin-mode:root for mallory");
}

static void
record_audit(const gchar *action, const gchar *login, const gchar *address, const gchar *detail, gpointer data)
{
  g_ptr_array_add(data, g_strdup_printf("%s %s %s", action, login, address));
}

static guint
count_prefix(GPtrArray *lines, const gchar *prefix)
{
  guint n = 0;
  for (guint i = 0; i < lines->len; i++)
    n += g_str_has_prefix(g_ptr_array_index(lines, i), prefix);
  return n;
}

/* Web sessions (fake clock): activity keeps a session alive, 15 minutes
 * idle ends it, so does the maximum age however active; logout ends one. */
static void
test_users_session_expiry(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdUserDirectory) dir = open_directory(f);
  g_autoptr(CdSessionStore) store = cd_session_store_new(dir);
  g_autoptr(GPtrArray) audit = g_ptr_array_new_with_free_func(g_free);
  const gchar *coder[] = { "coder", NULL };
  g_autofree gchar *token = NULL;
  g_autofree gchar *second = NULL;
  g_autoptr(CdPrincipal) p = NULL;

  cd_session_store_set_audit_func(store, record_audit, audit);
  g_assert_true(cd_user_directory_add(dir, "jo", NULL, coder, NULL, "s3cret pass", &error));
  g_assert_no_error(error);
  token = cd_session_store_login(store, "jo", "s3cret pass", "10.0.0.5", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(strlen(token), ==, 64);

  for (guint i = 0; i < 3; i++) {
    g_autoptr(CdPrincipal) alive = NULL;
    f->clock += G_GINT64_CONSTANT(14) * 60 * G_USEC_PER_SEC;
    alive = cd_session_store_validate(store, token, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(cd_principal_get_login(alive), ==, "jo");
  }
  f->clock += G_GINT64_CONSTANT(15) * 60 * G_USEC_PER_SEC;
  p = cd_session_store_validate(store, token, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_nonnull(strstr(error->message, "inactive too long"));
  g_assert_null(p);
  g_clear_error(&error);
  g_assert_cmpuint(count_prefix(audit, "session-expired jo"), ==, 1);

  /* the maximum age (one hour here): active every 10 minutes, over at 60 */
  cd_session_store_set_limits(store, 15, 60);
  second = cd_session_store_login(store, "jo", "s3cret pass", "10.0.0.5", &error);
  g_assert_no_error(error);
  for (guint i = 0; i < 5; i++) {
    g_autoptr(CdPrincipal) alive = NULL;
    f->clock += G_GINT64_CONSTANT(10) * 60 * G_USEC_PER_SEC;
    alive = cd_session_store_validate(store, second, &error);
    g_assert_no_error(error);
  }
  f->clock += G_GINT64_CONSTANT(10) * 60 * G_USEC_PER_SEC;
  p = cd_session_store_validate(store, second, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_nonnull(strstr(error->message, "maximum session age"));
  g_clear_error(&error);
  g_assert_false(cd_session_store_logout(store, second));
  g_assert_cmpuint(cd_session_store_count(store, NULL), ==, 0);
}

/* Disabling a user ends all their sessions at their next request. */
static void
test_users_session_disabled(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdUserDirectory) dir = open_directory(f);
  g_autoptr(CdSessionStore) store = cd_session_store_new(dir);
  const gchar *coder[] = { "coder", NULL };
  g_autofree gchar *desk = NULL;
  g_autofree gchar *laptop = NULL;
  g_autoptr(CdPrincipal) p = NULL;
  g_autoptr(CdPrincipal) q = NULL;

  g_assert_true(cd_user_directory_add(dir, "kim", NULL, coder, NULL, "pw kim", &error));
  desk = cd_session_store_login(store, "kim", "pw kim", "10.0.0.1", &error);
  g_assert_no_error(error);
  laptop = cd_session_store_login(store, "kim", "pw kim", "10.0.0.2", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(cd_session_store_count(store, "kim"), ==, 2);
  g_assert_true(cd_user_directory_set_active(dir, "kim", FALSE, &error));
  p = cd_session_store_validate(store, desk, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_nonnull(strstr(error->message, "disabled"));
  g_assert_null(p);
  g_clear_error(&error);
  g_assert_cmpuint(cd_session_store_count(store, "kim"), ==, 0);
  g_assert_true(cd_user_directory_set_active(dir, "kim", TRUE, &error));
  q = cd_session_store_validate(store, laptop, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_null(q);
}

/* Failed logins are audited and limited: five for one user within 15
 * minutes and even the right password is refused, until the window passes;
 * twenty from one address block that address for every user. */
static void
test_users_session_rate_limit(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdUserDirectory) dir = open_directory(f);
  g_autoptr(CdSessionStore) store = cd_session_store_new(dir);
  g_autoptr(GPtrArray) audit = g_ptr_array_new_with_free_func(g_free);
  const gchar *coder[] = { "coder", NULL };
  g_autofree gchar *refused = NULL;
  g_autofree gchar *later = NULL;
  g_autofree gchar *blocked = NULL;
  g_autofree gchar *elsewhere = NULL;

  cd_session_store_set_audit_func(store, record_audit, audit);
  g_assert_true(cd_user_directory_add(dir, "lee", NULL, coder, NULL, "right one", &error));
  g_assert_true(cd_user_directory_add(dir, "max", NULL, coder, NULL, "max pass", &error));
  for (guint i = 0; i < CD_SESSION_MAX_FAILURES_PER_USER; i++) {
    g_autofree gchar *none = cd_session_store_login(store, "lee", "wrong", "10.0.0.9", &error);
    g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
    g_assert_cmpstr(error->message, ==, "wrong user name or password");
    g_assert_null(none);
    g_clear_error(&error);
  }
  g_assert_cmpuint(count_prefix(audit, "login-failed lee 10.0.0.9"), ==, CD_SESSION_MAX_FAILURES_PER_USER);
  refused = cd_session_store_login(store, "lee", "right one", "10.0.0.10", &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_nonnull(strstr(error->message, "too many failed logins"));
  g_assert_null(refused);
  g_clear_error(&error);
  g_assert_cmpuint(count_prefix(audit, "login-throttled lee"), ==, 1);

  f->clock += (gint64) CD_SESSION_FAILURE_WINDOW_MINUTES * 60 * G_USEC_PER_SEC;
  later = cd_session_store_login(store, "lee", "right one", "10.0.0.10", &error);
  g_assert_no_error(error);
  g_assert_nonnull(later);

  for (guint i = 0; i < CD_SESSION_MAX_FAILURES_PER_ADDRESS; i++) {
    g_autofree gchar *login = g_strdup_printf("guess%u", i);
    g_autofree gchar *none = cd_session_store_login(store, login, "x", "192.0.2.7", &error);
    g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
    g_clear_error(&error);
  }
  blocked = cd_session_store_login(store, "max", "max pass", "192.0.2.7", &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_null(blocked);
  g_clear_error(&error);
  elsewhere = cd_session_store_login(store, "max", "max pass", "192.0.2.8", &error);
  g_assert_no_error(error);
  g_assert_nonnull(elsewhere);
}

/* With a PAM service, a user without a local password logs in through PAM
 * as their Unix account: a real account made with useradd and chpasswd,
 * checked by pam_unix from a service file in a folder of the test's own;
 * a wrong password and a disabled user are refused, and a user with a
 * local password keeps it. Needs root (to make the account and for
 * pam_unix to read the shadow file). */
static void
test_users_pam(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdUserDirectory) dir = NULL;
  g_autofree gchar *confdir = g_build_filename(f->dir, "pam.d", NULL);
  g_autofree gchar *service = g_build_filename(confdir, "chartdesk-test", NULL);
  const gchar *account = "cdtest-pam";
  const gchar *coder[] = { "coder", NULL };
  gint status = -1;

  if (getuid() != 0) {
    g_test_skip("needs root: makes a Unix account with useradd, and pam_unix reads /etc/shadow");
    return;
  }
#if defined(__SANITIZE_ADDRESS__)
  /* Debian 12's pam_unix.so jumps to address 0 inside AddressSanitizer
   * builds (a call from the module itself, before our conversation
   * function runs); the plain suite runs this test */
  g_test_skip("pam_unix.so crashes in AddressSanitizer builds; run in the plain suite");
  return;
#endif
  if (!g_file_test("/usr/sbin/useradd", G_FILE_TEST_IS_EXECUTABLE) ||
      !g_file_test("/usr/sbin/chpasswd", G_FILE_TEST_IS_EXECUTABLE)) {
    g_test_skip("useradd or chpasswd not found");
    return;
  }
  {
    const gchar *del[] = { "userdel", "-r", account, NULL };
    const gchar *add[] = { "useradd", "-M", "-s", "/usr/sbin/nologin", account, NULL };
    g_spawn_sync(NULL, (gchar **) del, NULL,
                 G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                 NULL, NULL);
    g_assert_true(
        g_spawn_sync(NULL, (gchar **) add, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
  }
  {
    const gchar *argv[] = { "sh", "-c", "echo 'cdtest-pam:Plumb-Line-42' | chpasswd", NULL };
    g_assert_true(
        g_spawn_sync(NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
  }
  g_assert_cmpint(g_mkdir_with_parents(confdir, 0700), ==, 0);
  g_assert_true(g_file_set_contents(service, "auth required pam_unix.so\naccount required pam_unix.so\n", -1, NULL));

  dir = open_directory(f);
  g_assert_true(cd_user_directory_add(dir, "pat", NULL, coder, account, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(cd_user_directory_add(dir, "carol", NULL, coder, NULL, "correct horse", &error));
  g_assert_no_error(error);
  /* without a PAM service, a user without a password cannot log in */
  g_assert_false(cd_user_directory_verify_password(dir, "pat", "Plumb-Line-42", NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_clear_error(&error);

  cd_user_directory_set_pam(dir, "chartdesk-test", confdir);
  g_assert_true(cd_user_directory_verify_password(dir, "pat", "Plumb-Line-42", NULL, &error));
  g_assert_no_error(error);
  g_assert_false(cd_user_directory_verify_password(dir, "pat", "plumb-line-42", NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_nonnull(strstr(error->message, "refused by PAM"));
  g_clear_error(&error);
  /* a local password is still the local password */
  g_assert_true(cd_user_directory_verify_password(dir, "carol", "correct horse", NULL, &error));
  g_assert_no_error(error);
  /* disabled here is disabled, whatever PAM says */
  g_assert_true(cd_user_directory_set_active(dir, "pat", FALSE, &error));
  g_assert_no_error(error);
  g_assert_false(cd_user_directory_verify_password(dir, "pat", "Plumb-Line-42", NULL, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED);
  g_assert_nonnull(strstr(error->message, "disabled"));
  g_clear_error(&error);
  {
    const gchar *del[] = { "userdel", account, NULL };
    g_assert_true(
        g_spawn_sync(NULL, (gchar **) del, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &error));
    g_assert_no_error(error);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_summary("Users, roles and permissions enforced by the archive, on real files.");
#define ADD(name, func) g_test_add("/chartdesk/users/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD("directory", test_users_directory);
  ADD("password", test_users_password);
  ADD("role-table", test_users_role_table);
  ADD("restricted", test_users_restricted);
  ADD("taxonomy-restricted", test_users_taxonomy_restricted);
  ADD("break-glass", test_users_break_glass);
  ADD("disabled", test_users_disabled);
  ADD("audit-names", test_users_audit_names);
  ADD("session-expiry", test_users_session_expiry);
  ADD("session-disabled", test_users_session_disabled);
  ADD("session-rate-limit", test_users_session_rate_limit);
  ADD("pam", test_users_pam);
#undef ADD
  return g_test_run();
}
