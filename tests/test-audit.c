/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The audit log from the command line: every read of patient data leaves an
 * entry (an export one before its first record), and `chartdesk audit
 * verify` and `chartdesk check` name the first bad entry of a tampered log.
 * Real binary, real archive files; the archive's documents are committed
 * through the library, so no OCR is needed.
 */
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-test-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3, sqlite3_close)

typedef struct {
  gchar *dir;
  gchar *archive;
} Fixture;

static gint64
raw_int(const gchar *path, const gchar *sql)
{
  g_autoptr(sqlite3) db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return value;
}

static void
raw_exec(const gchar *path, const gchar *sql)
{
  g_autoptr(sqlite3) db = NULL;

  g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
}

static gint64
n_entries(Fixture *f)
{
  return raw_int(f->archive, "SELECT count(*) FROM audit");
}

static gint64
n_action(Fixture *f, const gchar *action, const gchar *object)
{
  g_autofree gchar *sql =
      g_strdup_printf("SELECT count(*) FROM audit WHERE action = '%s' AND object = '%s'", action, object);
  return raw_int(f->archive, sql);
}

static CdPage *
make_page(const gchar *sha, const gchar *text)
{
  g_autoptr(GError) error = NULL;
  CdPage *page = cd_page_new("box/scan.tif", 0, sha);
  PIX *pix = pixCreate(64, 48, 1);

  pixRasterop(pix, 10, 10, 20, 4, PIX_SET, NULL, 0, 0);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, 300, 300);
  cd_page_set_text(page, text);
  cd_page_set_confidence(page, 90.0);
  g_assert_true(cd_page_encode_image(page, &error));
  g_assert_no_error(error);
  return page;
}

/* An archive with a patient, a filed document (1) and one in review (2). */
static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *csv = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(CdDocument) filed = cd_document_new();
  g_autoptr(CdDocument) review = cd_document_new();
  g_autoptr(CdPage) p1 =
      make_page("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Chest pain admitted");
  g_autoptr(CdPage) p2 =
      make_page("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "Chest film normal");
  const gchar *inputs[] = { "box/", NULL };
  gint64 batch;

  f->dir = g_dir_make_tmp("cd-audit-XXXXXX", &error);
  g_assert_no_error(error);
  f->archive = g_build_filename(f->dir, "a.archive", NULL);
  csv = g_build_filename(f->dir, "mpi.csv", NULL);
  g_assert_true(g_file_set_contents(csv, "mrn,family,given,dob\n00482913,DOE,JANE,1952-03-14\n", -1, NULL));
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "mpi", "import", f->archive, csv, NULL);
    g_assert_cmpint(r.status, ==, 0);
  }
  archive = cd_archive_open(f->archive, CD_ARCHIVE_FLAG_WRITER, &error);
  g_assert_no_error(error);
  batch = cd_archive_begin_batch(archive, "test", inputs, &error);
  g_assert_no_error(error);
  cd_document_set_patient_mrn(filed, "00482913");
  cd_document_set_doc_type(filed, "discharge-summary", 0.9);
  cd_document_add_page(filed, p1);
  cd_document_add_page(review, p2);
  cd_document_add_problem(review, "unknown MRN 00999999");
  g_assert_true(cd_archive_commit_document(archive, batch, filed, &error));
  g_assert_true(cd_archive_commit_document(archive, batch, review, &error));
  g_assert_no_error(error);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  cd_test_rm_rf(f->dir);
  g_free(f->dir);
  g_free(f->archive);
}

/* Each command that reads patient data adds entries naming what it read:
 * `review list`, `mpi show`, `show`, `search` and `export` (a start and an
 * end); the log still verifies afterwards. */
static void
test_audit_reads(Fixture *f, gconstpointer data)
{
  /* "@" stands for the archive */
  const struct {
    const gchar *args[6];
    const gchar *action;
    const gchar *object;
  } reads[] = {
    { { "review", "list", "@", NULL }, "review-list", "review" },
    { { "mpi", "show", "@", "00482913", NULL }, "view-patient", "patient:00482913" },
    { { "show", "@", "document:1", NULL }, "view", "document:1" },
    { { "search", "--no-service", "@", "chest", NULL }, "search", "archive" },
    { { "export", "--json", "@", NULL }, "export-start", "archive" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(reads); i++) {
    g_auto(CdTestRun) r = { 0 };
    const gchar *argv[G_N_ELEMENTS(reads[i].args)] = { NULL };
    gint64 before = n_entries(f);
    gint64 before_action = n_action(f, reads[i].action, reads[i].object);

    for (guint j = 0; reads[i].args[j] != NULL; j++)
      argv[j] = g_strcmp0(reads[i].args[j], "@") == 0 ? f->archive : reads[i].args[j];
    cd_test_chartdesk_v(&r, argv);
    g_assert_cmpint(r.status, ==, 0);
    g_test_message("%s: %" G_GINT64_FORMAT " entries before, %" G_GINT64_FORMAT " after", reads[i].action, before,
                   n_entries(f));
    g_assert_cmpint(n_entries(f), >, before);
    g_assert_cmpint(n_action(f, reads[i].action, reads[i].object), ==, before_action + 1);
  }
  g_assert_cmpint(n_action(f, "export", "archive"), ==, 1);
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "audit", "verify", f->archive, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "audit log intact"));
  }
}

/* An export whose reader goes away before the first record (as
 * `chartdesk export | head -1` may) is still on the record: its start entry
 * is committed before anything is written. */
static void
test_audit_export_cut_short(Fixture *f, gconstpointer data)
{
  g_autofree gchar *exe = g_test_build_filename(G_TEST_BUILT, "core", "cli", "chartdesk", NULL);
  const gchar *argv[] = { exe, "export", "--json", f->archive, NULL };
  g_autoptr(GError) error = NULL;
  gint64 before = n_entries(f);
  gint out_fd = -1;
  gint status = 0;
  GPid pid;

  g_assert_true(g_spawn_async_with_pipes(NULL, (gchar **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL,
                                         &out_fd, NULL, &error));
  g_assert_no_error(error);
  close(out_fd); /* the reader is gone before the first line */
  g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
  g_spawn_close_pid(pid);
  g_test_message("export with a closed pipe: wait status %d", status);
  g_assert_cmpint(n_action(f, "export-start", "archive"), ==, 1);
  g_assert_cmpint(n_entries(f), >, before);
}

/* `chartdesk audit verify` exits 0 on an intact log; after an entry is
 * edited behind Chartdesk's back it exits 1 naming the first bad entry (text
 * and --json), and `chartdesk check` reports it; newest entries dropped are
 * reported at the first missing id. */
static void
test_audit_verify(Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *obj;
  gint64 last;

  for (guint i = 0; i < 3; i++) {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "review", "list", f->archive, NULL);
    g_assert_cmpint(r.status, ==, 0);
  }
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "audit", "verify", "--json", f->archive, NULL);
    g_assert_cmpint(r.status, ==, 0);
    root = json_from_string(r.out, &error);
    g_assert_no_error(error);
    obj = json_node_get_object(root);
    g_assert_true(json_object_get_boolean_member(obj, "intact"));
    g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(obj, "first_bad_entry")));
    g_clear_pointer(&root, json_node_unref);
  }

  raw_exec(f->archive, "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE id = 2");
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "audit", "verify", f->archive, NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.out, "first bad entry: 2"));
    g_assert_nonnull(strstr(r.out, "audit log entry 2 does not match"));
  }
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "audit", "verify", "--json", f->archive, NULL);
    g_assert_cmpint(r.status, ==, 1);
    root = json_from_string(r.out, &error);
    g_assert_no_error(error);
    obj = json_node_get_object(root);
    g_assert_false(json_object_get_boolean_member(obj, "intact"));
    g_assert_cmpint(json_object_get_int_member(obj, "first_bad_entry"), ==, 2);
    g_clear_pointer(&root, json_node_unref);
  }
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "check", f->archive, NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.out, "audit log entry 2 does not match"));
    g_assert_nonnull(strstr(r.out, "(first bad audit entry: 2)"));
  }

  /* entry 2 put back as it was verifies again; then the newest two entries
   * are cut off */
  raw_exec(f->archive, "UPDATE audit SET actor = (SELECT actor FROM audit WHERE id = 1) WHERE id = 2");
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "audit", "verify", f->archive, NULL);
    g_assert_cmpint(r.status, ==, 0);
  }
  last = n_entries(f);
  raw_exec(f->archive, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id >= (SELECT max(id) - 1 FROM audit)");
  {
    g_auto(CdTestRun) r = { 0 };
    g_autofree gchar *expect = g_strdup_printf("first bad entry: %" G_GINT64_FORMAT, last - 1);
    cd_test_chartdesk(&r, "audit", "verify", f->archive, NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.out, expect));
    g_assert_nonnull(strstr(r.out, "the newest entries were removed"));
  }
  {
    g_auto(CdTestRun) r = { 0 };
    g_autofree gchar *expect = g_strdup_printf("(first bad audit entry: %" G_GINT64_FORMAT ")", last - 1);
    cd_test_chartdesk(&r, "check", f->archive, NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.out, expect));
  }
}

/* With another key (--audit-key) a read is refused before it writes, the
 * log is unchanged, and verification says the log is sealed with another
 * key; an --audit-key that does not exist is an error, not a new key. */
static void
test_audit_other_key(Fixture *f, gconstpointer data)
{
  g_autofree gchar *key = g_build_filename(f->dir, "other.key", NULL);
  g_autofree gchar *missing = g_build_filename(f->dir, "missing.key", NULL);
  gint64 before;

  g_assert_true(
      g_file_set_contents_full(key, "0123456789abcdef-other-key", -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL));
  before = n_entries(f);
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "show", "--audit-key", key, f->archive, "document:1", NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "sealed with another key"));
    g_assert_null(strstr(r.out, "Chest"));
  }
  g_assert_cmpint(n_entries(f), ==, before);
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "audit", "verify", "--audit-key", key, f->archive, NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.out, "sealed with another key"));
  }
  {
    g_auto(CdTestRun) r = { 0 };
    cd_test_chartdesk(&r, "search", "--no-service", "--audit-key", missing, f->archive, "chest", NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "missing.key"));
    g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));
  }
  g_assert_cmpint(n_entries(f), ==, before);
}

/* `chartdesk audit` is listed, and a wrong action is a usage error. */
static void
test_audit_usage(void)
{
  g_auto(CdTestRun) r1 = { 0 };
  g_auto(CdTestRun) r2 = { 0 };
  g_auto(CdTestRun) r3 = { 0 };

  cd_test_chartdesk(&r1, "--help", NULL);
  g_assert_nonnull(strstr(r1.out, "audit"));
  cd_test_chartdesk(&r2, "audit", "--help", NULL);
  g_assert_cmpint(r2.status, ==, 0);
  g_assert_nonnull(strstr(r2.out, "--audit-key"));
  cd_test_chartdesk(&r3, "audit", "frobnicate", "x.archive", NULL);
  g_assert_cmpint(r3.status, ==, 2);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_summary("The audit log through the chartdesk command: reads audited, tampering reported.");

#define ADD(name, func) g_test_add("/chartdesk/audit/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD("reads", test_audit_reads);
  ADD("export-cut-short", test_audit_export_cut_short);
  ADD("verify", test_audit_verify);
  ADD("other-key", test_audit_other_key);
#undef ADD
  g_test_add_func("/chartdesk/audit/usage", test_audit_usage);
  return g_test_run();
}
