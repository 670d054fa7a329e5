/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The hot folder on real folders and a real main loop: what it queues, and
 * where each file goes once its batch ends. The batch itself is the
 * service's business; here the test ends it, with the report it chooses.
 */
#include <chartdesk.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "cd-hot-folder.h"
#include "cd-test-util.h"

typedef struct {
  gchar *dir;  /* the test's own folder */
  gchar *hot;  /* the hot folder */
  gchar *done; /* its done/ */
  gchar *failed;
  GPtrArray *batches; /* of GStrv: every batch submitted */
  CdHotFolder *folder;
} Fixture;

static gboolean
on_submit(CdHotFolder *folder, const gchar *const *files, gpointer user_data)
{
  Fixture *f = user_data;
  g_ptr_array_add(f->batches, g_strdupv((gchar **) files));
  return TRUE;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp("cd-hot-XXXXXX", &error);
  g_assert_no_error(error);
  f->hot = g_build_filename(f->dir, "hot", NULL);
  f->done = g_build_filename(f->hot, "done", NULL);
  f->failed = g_build_filename(f->hot, "failed", NULL);
  f->batches = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
  g_assert_cmpint(g_mkdir(f->hot, 0755), ==, 0);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_clear_object(&f->folder);
  g_ptr_array_unref(f->batches);
  cd_test_rm_rf(f->dir);
  g_free(f->dir);
  g_free(f->hot);
  g_free(f->done);
  g_free(f->failed);
}

/* Starts watching; @done overrides done/ (another file system). */
static void
start(Fixture *f, const gchar *done)
{
  g_autoptr(GError) error = NULL;
  CdHotFolderConfig config = {
    .name = (gchar *) "inbox",
    .path = f->hot,
    .done_dir = (gchar *) (done != NULL ? done : f->done),
    .failed_dir = f->failed,
    .stable_ms = 100,
    .poll_ms = 30,
    .max_files = 10,
  };

  f->folder = cd_hot_folder_new(&config, on_submit, f);
  g_assert_true(cd_hot_folder_start(f->folder, &error));
  g_assert_no_error(error);
}

static gboolean
on_deadline(gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @n batches were submitted (or a generous
 * deadline, after which the caller's assertion fails). */
static void
wait_batches(Fixture *f, guint n)
{
  gboolean late = FALSE;
  guint id = g_timeout_add_seconds(30, on_deadline, &late);

  while (f->batches->len < n && !late)
    g_main_context_iteration(NULL, TRUE);
  if (!late)
    g_source_remove(id);
  g_assert_cmpuint(f->batches->len, >=, n);
}

/* Runs the main loop for @ms: long enough for many polls. */
static void
run_for(guint ms)
{
  gboolean over = FALSE;
  g_timeout_add(ms, on_deadline, &over);
  while (!over)
    g_main_context_iteration(NULL, TRUE);
}

static gchar *
put(const gchar *dir, const gchar *name, const gchar *content)
{
  gchar *path = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(path, content, -1, NULL));
  return path;
}

static gchar *
read_text(const gchar *path)
{
  gchar *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  return text;
}

static JsonNode *
report_failing(const gchar *path, const gchar *sha256, const gchar *reason)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "items");
  json_builder_begin_array(b);
  if (reason != NULL) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "page");
    json_builder_add_int_value(b, 1);
    json_builder_set_member_name(b, "outcome");
    json_builder_add_string_value(b, "failed");
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, reason);
    if (sha256 != NULL) {
      json_builder_set_member_name(b, "sha256");
      json_builder_add_string_value(b, sha256);
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static gboolean
strv_has(GStrv files, const gchar *path)
{
  return g_strv_contains((const gchar *const *) files, path);
}

/* Symbolic links in the folder, to a file or a folder, are never queued:
 * each is moved, as a link, to failed/ with a reason; the regular file
 * beside them is queued. */
static void
test_hot_folder_symlinks(Fixture *f, gconstpointer data)
{
  g_autofree gchar *secret = put(f->dir, "secret.tif", "not for the hot folder");
  g_autofree gchar *plain = put(f->hot, "a.tif", "scan");
  g_autofree gchar *link = g_build_filename(f->hot, "b.tif", NULL);
  g_autofree gchar *dirlink = g_build_filename(f->hot, "box", NULL);
  g_autofree gchar *moved = g_build_filename(f->failed, "b.tif", NULL);
  g_autofree gchar *moved_dir = g_build_filename(f->failed, "box", NULL);
  g_autofree gchar *reason_file = g_strdup_printf("%s.reason", moved);
  g_autofree gchar *reason = NULL;
  g_autofree gchar *late_link = g_build_filename(f->hot, "c.tif", NULL);
  g_autofree gchar *late_moved = g_build_filename(f->failed, "c.tif", NULL);

  g_assert_cmpint(symlink(secret, link), ==, 0);
  g_assert_cmpint(symlink(f->dir, dirlink), ==, 0);
  start(f, NULL);
  wait_batches(f, 1);
  g_assert_cmpuint(g_strv_length(g_ptr_array_index(f->batches, 0)), ==, 1);
  g_assert_true(strv_has(g_ptr_array_index(f->batches, 0), plain));
  g_assert_true(g_file_test(moved, G_FILE_TEST_IS_SYMLINK));
  g_assert_true(g_file_test(moved_dir, G_FILE_TEST_IS_SYMLINK));
  g_assert_false(g_file_test(link, G_FILE_TEST_IS_SYMLINK));
  reason = read_text(reason_file);
  g_assert_cmpstr(reason, ==, "a symbolic link: the hot folder takes regular files only and does not follow links\n");

  /* one made while watching goes the same way */
  g_assert_cmpint(symlink(secret, late_link), ==, 0);
  run_for(500);
  g_assert_true(g_file_test(late_moved, G_FILE_TEST_IS_SYMLINK));
  g_assert_cmpuint(f->batches->len, ==, 1);
}

/* A file swapped for a symbolic link while its batch runs never reaches
 * done/: the link goes to failed/ with the reason. */
static void
test_hot_folder_swapped_for_link(Fixture *f, gconstpointer data)
{
  g_autofree gchar *secret = put(f->dir, "secret.tif", "not for the hot folder");
  g_autofree gchar *path = put(f->hot, "a.tif", "scan");
  g_autofree gchar *done = g_build_filename(f->done, "a.tif", NULL);
  g_autofree gchar *failed = g_build_filename(f->failed, "a.tif", NULL);
  g_autoptr(JsonNode) report = report_failing(NULL, NULL, NULL);

  start(f, NULL);
  wait_batches(f, 1);
  g_assert_cmpint(g_unlink(path), ==, 0);
  g_assert_cmpint(symlink(secret, path), ==, 0);
  run_for(200); /* let the folder see the events */
  cd_hot_folder_batch_ended(f->folder, (const gchar *const *) g_ptr_array_index(f->batches, 0), "finished", report,
                            NULL);
  g_assert_false(g_file_test(done, G_FILE_TEST_EXISTS));
  g_assert_true(g_file_test(failed, G_FILE_TEST_IS_SYMLINK));
  g_assert_false(g_file_test(path, G_FILE_TEST_IS_SYMLINK));
  g_assert_cmpuint(f->batches->len, ==, 1);
}

/* A file that changed size or time while its batch ran stays in the folder
 * with a reason instead of going to done/; once it holds still it is
 * queued again, and then moves on and loses the reason. */
static void
test_hot_folder_changed_during_batch(Fixture *f, gconstpointer data)
{
  g_autofree gchar *path = put(f->hot, "a.tif", "first scan");
  g_autofree gchar *reason_file = g_strdup_printf("%s.reason", path);
  g_autofree gchar *done = g_build_filename(f->done, "a.tif", NULL);
  g_autofree gchar *reason = NULL;
  g_autoptr(JsonNode) report = report_failing(NULL, NULL, NULL);
  GStrv batch;

  start(f, NULL);
  wait_batches(f, 1);
  batch = g_ptr_array_index(f->batches, 0);
  g_assert_true(strv_has(batch, path));
  g_assert_true(g_file_set_contents(path, "the scanner wrote it again, longer", -1, NULL));
  cd_hot_folder_batch_ended(f->folder, (const gchar *const *) batch, "finished", report, NULL);
  g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
  g_assert_false(g_file_test(done, G_FILE_TEST_EXISTS));
  reason = read_text(reason_file);
  g_assert_true(g_str_has_prefix(reason, "changed while its batch ran (now 34 bytes, when queued 10 bytes"));

  /* the same size, only rewritten: still a change */
  wait_batches(f, 2);
  batch = g_ptr_array_index(f->batches, 1);
  g_assert_true(strv_has(batch, path));
  g_assert_true(g_file_set_contents(path, "the scanner wrote it again, LONGER", -1, NULL));
  cd_hot_folder_batch_ended(f->folder, (const gchar *const *) batch, "finished", report, NULL);
  g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
  g_assert_false(g_file_test(done, G_FILE_TEST_EXISTS));

  wait_batches(f, 3);
  batch = g_ptr_array_index(f->batches, 2);
  cd_hot_folder_batch_ended(f->folder, (const gchar *const *) batch, "finished", report, NULL);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  g_assert_true(g_file_test(done, G_FILE_TEST_IS_REGULAR));
  g_assert_false(g_file_test(reason_file, G_FILE_TEST_EXISTS));
}

static dev_t
device_of(const gchar *path)
{
  GStatBuf st;
  g_assert_cmpint(g_stat(path, &st), ==, 0);
  return st.st_dev;
}

/* done/ on another file system (tmpfs /dev/shm against the test folder's
 * disk; where both are one, the EXDEV test hook stands in): the file is
 * copied whole, synced and removed from the folder, nothing half-written
 * is left in done/. */
static void
test_hot_folder_other_file_system(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *shm = NULL;
  g_autofree gchar *path = put(f->hot, "a.tif", "a scan of some length");
  g_autofree gchar *moved = NULL;
  g_autofree gchar *content = NULL;
  g_autoptr(JsonNode) report = report_failing(NULL, NULL, NULL);
  g_autoptr(GDir) d = NULL;
  gboolean hook = FALSE;

  if (g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && access("/dev/shm", W_OK) == 0)
    shm = g_mkdtemp(g_strdup("/dev/shm/cd-hot-done-XXXXXX"));
  if (shm == NULL || device_of(shm) == device_of(f->hot)) {
    g_test_message("no second file system at /dev/shm: using CHARTDESK_TEST_HOT_FOLDER_EXDEV");
    g_clear_pointer(&shm, g_free);
    shm = g_build_filename(f->dir, "done-elsewhere", NULL);
    g_assert_cmpint(g_mkdir(shm, 0755), ==, 0);
    g_setenv("CHARTDESK_TEST_HOT_FOLDER_EXDEV", shm, TRUE);
    hook = TRUE;
  }
  moved = g_build_filename(shm, "a.tif", NULL);
  start(f, shm);
  wait_batches(f, 1);
  cd_hot_folder_batch_ended(f->folder, (const gchar *const *) g_ptr_array_index(f->batches, 0), "finished", report,
                            NULL);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  content = read_text(moved);
  g_assert_cmpstr(content, ==, "a scan of some length");
  d = g_dir_open(shm, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(g_dir_read_name(d), ==, "a.tif");
  g_assert_null(g_dir_read_name(d)); /* no temporary left */
  if (hook)
    g_unsetenv("CHARTDESK_TEST_HOT_FOLDER_EXDEV");
  cd_test_rm_rf(shm);
}

/* A file that cannot be moved on (done/ is not a folder any more) stays
 * with a reason and is held: it is not queued again while it is unchanged. */
static void
test_hot_folder_move_fails(Fixture *f, gconstpointer data)
{
  g_autofree gchar *path = put(f->hot, "a.tif", "scan");
  g_autofree gchar *reason_file = g_strdup_printf("%s.reason", path);
  g_autofree gchar *reason = NULL;
  g_autoptr(JsonNode) report = report_failing(NULL, NULL, NULL);
  g_autofree gchar *done = g_build_filename(f->dir, "done", NULL); /* outside: the folder must not take it */

  start(f, done);
  wait_batches(f, 1);
  g_assert_cmpint(g_rmdir(done), ==, 0);
  g_assert_true(g_file_set_contents(done, "a file where done/ was", -1, NULL));
  g_test_expect_message("chartdeskd", G_LOG_LEVEL_WARNING, "hot folder inbox: */a.tif: left in the folder: *");
  cd_hot_folder_batch_ended(f->folder, (const gchar *const *) g_ptr_array_index(f->batches, 0), "finished", report,
                            NULL);
  g_test_assert_expected_messages();
  g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
  reason = read_text(reason_file);
  g_assert_nonnull(strstr(reason, "a.tif: cannot move to "));
  g_assert_nonnull(strstr(reason, "Not a directory"));
  run_for(600); /* twenty polls */
  g_assert_cmpuint(f->batches->len, ==, 1);
}

/* Failed records are matched to files by content hash: a record naming
 * a.tif's path but other content does not fail a.tif, one with b.tif's hash
 * fails b.tif whatever path it names; a record without a hash (a file that
 * could not be read) falls back to its path. */
static void
test_hot_folder_failed_by_hash(Fixture *f, gconstpointer data)
{
  g_autofree gchar *a = put(f->hot, "a.tif", "content a");
  g_autofree gchar *b = put(f->hot, "b.tif", "content b");
  g_autofree gchar *c = put(f->hot, "c.tif", "content c");
  g_autofree gchar *sha_b = g_compute_checksum_for_string(G_CHECKSUM_SHA256, "content b", -1);
  g_autofree gchar *a_done = g_build_filename(f->done, "a.tif", NULL);
  g_autofree gchar *b_failed = g_build_filename(f->failed, "b.tif", NULL);
  g_autofree gchar *b_reason_file = g_build_filename(f->failed, "b.tif.reason", NULL);
  g_autofree gchar *c_failed = g_build_filename(f->failed, "c.tif", NULL);
  g_autofree gchar *b_reason = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new();
  g_autoptr(JsonNode) report = NULL;
  const struct {
    const gchar *path, *sha256, *reason;
  } items[] = {
    { a, "00000000000000000000000000000000000000000000000000000000000000aa", "not a's content" },
    { "/elsewhere/renamed.tif", sha_b, "b's page 2 is damaged" },
    { c, NULL, "cannot read: Permission denied" },
  };

  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "items");
  json_builder_begin_array(builder);
  for (guint i = 0; i < G_N_ELEMENTS(items); i++) {
    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "path");
    json_builder_add_string_value(builder, items[i].path);
    json_builder_set_member_name(builder, "page");
    json_builder_add_int_value(builder, 1);
    json_builder_set_member_name(builder, "outcome");
    json_builder_add_string_value(builder, "failed");
    json_builder_set_member_name(builder, "reason");
    json_builder_add_string_value(builder, items[i].reason);
    if (items[i].sha256 != NULL) {
      json_builder_set_member_name(builder, "sha256");
      json_builder_add_string_value(builder, items[i].sha256);
    }
    json_builder_end_object(builder);
  }
  json_builder_end_array(builder);
  json_builder_end_object(builder);
  report = json_builder_get_root(builder);

  start(f, NULL);
  wait_batches(f, 1);
  g_assert_cmpuint(g_strv_length(g_ptr_array_index(f->batches, 0)), ==, 3);
  cd_hot_folder_batch_ended(f->folder, (const gchar *const *) g_ptr_array_index(f->batches, 0), "finished", report,
                            NULL);
  g_assert_true(g_file_test(a_done, G_FILE_TEST_IS_REGULAR));
  g_assert_true(g_file_test(b_failed, G_FILE_TEST_IS_REGULAR));
  g_assert_true(g_file_test(c_failed, G_FILE_TEST_IS_REGULAR));
  b_reason = read_text(b_reason_file);
  g_assert_cmpstr(b_reason, ==, "page 2: b's page 2 is damaged\n");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add("/chartdesk/hot-folder/symlinks", Fixture, NULL, fixture_setup, test_hot_folder_symlinks,
             fixture_teardown);
  g_test_add("/chartdesk/hot-folder/swapped-for-link", Fixture, NULL, fixture_setup, test_hot_folder_swapped_for_link,
             fixture_teardown);
  g_test_add("/chartdesk/hot-folder/changed-during-batch", Fixture, NULL, fixture_setup,
             test_hot_folder_changed_during_batch, fixture_teardown);
  g_test_add("/chartdesk/hot-folder/other-file-system", Fixture, NULL, fixture_setup, test_hot_folder_other_file_system,
             fixture_teardown);
  g_test_add("/chartdesk/hot-folder/move-fails", Fixture, NULL, fixture_setup, test_hot_folder_move_fails,
             fixture_teardown);
  g_test_add("/chartdesk/hot-folder/failed-by-hash", Fixture, NULL, fixture_setup, test_hot_folder_failed_by_hash,
             fixture_teardown);
  return g_test_run();
}
