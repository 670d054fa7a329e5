/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include <chartdesk.h>
#include "cd-hot-folder.h"

/**
 * CdHotFolder:
 *
 * A folder production scanners drop files into. A file is taken only once
 * it is completely written: when its writer closes it (inotify close-write,
 * which GFileMonitor reports as a changes-done hint), when it is renamed
 * into the folder, or — for files found by listing the folder (at start-up,
 * on network file systems, after an event queue overflow) — when its size
 * and modification time have not changed for `stable-seconds`.
 *
 * Each file is in exactly one state, so it is queued once: watched until
 * complete, ready, in flight in a batch, or held (its batch was cancelled;
 * it waits until it changes or the service restarts). After its batch has
 * committed, a file moves to done/, or to failed/ with FILE.reason beside
 * it. Never before the commit: a crash in between leaves the file in the
 * folder, and ingesting it again is a no-op that moves it on.
 *
 * Everything here runs on the main thread.
 */
struct _CdHotFolder {
  GObject parent_instance;
  CdHotFolderConfig config;
  CdHotFolderSubmitFunc submit;
  gpointer submit_data;
  GFileMonitor *monitor;
  GHashTable *entries; /* absolute path → CdEntry */
  guint poll_id;
  guint flush_id;
};

G_DEFINE_TYPE(CdHotFolder, cd_hot_folder, G_TYPE_OBJECT)

typedef enum {
  CD_ENTRY_WATCHING, /* may still be written */
  CD_ENTRY_READY,    /* complete, waiting for a batch */
  CD_ENTRY_IN_FLIGHT,
  CD_ENTRY_HELD, /* its batch was cancelled: left alone until it changes */
} CdEntryState;

typedef struct {
  CdEntryState state;
  goffset size;
  gint64 mtime;
  gint64 since; /* monotonic time of the last change seen */
} CdEntry;

/* A flush waits this long after an event so that a burst of files becomes
 * a few batches rather than one batch per file. */
#define CD_HOT_FOLDER_FLUSH_MS 250

static void
cd_hot_folder_finalize(GObject *object)
{
  CdHotFolder *self = CD_HOT_FOLDER(object);

  cd_hot_folder_stop(self);
  g_hash_table_unref(self->entries);
  g_free(self->config.name);
  g_free(self->config.path);
  g_free(self->config.workflow);
  g_free(self->config.archive);
  g_free(self->config.done_dir);
  g_free(self->config.failed_dir);
  G_OBJECT_CLASS(cd_hot_folder_parent_class)->finalize(object);
}

static void
cd_hot_folder_class_init(CdHotFolderClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = cd_hot_folder_finalize;
}

static void
cd_hot_folder_init(CdHotFolder *self)
{
  self->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * cd_hot_folder_new:
 * @config: the folder's configuration (copied)
 * @submit: queues a batch of complete files
 * @user_data: data for @submit
 *
 * Returns: (transfer full): a hot folder, not yet watching
 */
CdHotFolder *
cd_hot_folder_new(const CdHotFolderConfig *config, CdHotFolderSubmitFunc submit, gpointer user_data)
{
  CdHotFolder *self = g_object_new(CD_TYPE_HOT_FOLDER, NULL);

  self->config = *config;
  self->config.name = g_strdup(config->name);
  self->config.path = g_strdup(config->path);
  self->config.workflow = g_strdup(config->workflow);
  self->config.archive = g_strdup(config->archive);
  self->config.done_dir = g_strdup(config->done_dir);
  self->config.failed_dir = g_strdup(config->failed_dir);
  self->submit = submit;
  self->submit_data = user_data;
  return self;
}

const CdHotFolderConfig *
cd_hot_folder_get_config(CdHotFolder *self)
{
  g_return_val_if_fail(CD_IS_HOT_FOLDER(self), NULL);
  return &self->config;
}

/* Writers' temporary names, and our own sidecars, are never taken. */
static gboolean
cd_hot_folder_ignored_name(const gchar *name)
{
  return name[0] == '.' || name[0] == '~' || g_str_has_suffix(name, "~") || g_str_has_suffix(name, ".part") ||
         g_str_has_suffix(name, ".tmp") || g_str_has_suffix(name, ".crdownload") || g_str_has_suffix(name, ".reason");
}

/* Only regular files directly in the folder: done/, failed/ and any other
 * subfolder are not ours to read. */
static gboolean
cd_hot_folder_candidate(CdHotFolder *self, const gchar *path, GStatBuf *st)
{
  g_autofree gchar *dir = g_path_get_dirname(path);
  g_autofree gchar *base = g_path_get_basename(path);

  if (g_strcmp0(dir, self->config.path) != 0 || cd_hot_folder_ignored_name(base))
    return FALSE;
  return g_stat(path, st) == 0 && S_ISREG(st->st_mode);
}

static gboolean cd_hot_folder_flush(gpointer data);

static void
cd_hot_folder_schedule_flush(CdHotFolder *self)
{
  if (self->flush_id == 0)
    self->flush_id = g_timeout_add(CD_HOT_FOLDER_FLUSH_MS, cd_hot_folder_flush, self);
}

/* Something happened to @path: start watching it, or note the change. */
static void
cd_hot_folder_touch(CdHotFolder *self, const gchar *path, gboolean complete)
{
  CdEntry *entry = g_hash_table_lookup(self->entries, path);
  GStatBuf st;

  if (!cd_hot_folder_candidate(self, path, &st)) {
    if (entry != NULL && entry->state != CD_ENTRY_IN_FLIGHT)
      g_hash_table_remove(self->entries, path);
    return;
  }
  if (entry == NULL) {
    entry = g_new0(CdEntry, 1);
    entry->state = CD_ENTRY_WATCHING;
    g_hash_table_insert(self->entries, g_strdup(path), entry);
  } else if (entry->state == CD_ENTRY_IN_FLIGHT || entry->state == CD_ENTRY_READY) {
    return;
  } else if (entry->state == CD_ENTRY_HELD && entry->size == st.st_size && entry->mtime == st.st_mtime) {
    return;
  }
  if (entry->state == CD_ENTRY_HELD)
    entry->state = CD_ENTRY_WATCHING;
  entry->size = st.st_size;
  entry->mtime = st.st_mtime;
  entry->since = g_get_monotonic_time();
  if (complete) {
    entry->state = CD_ENTRY_READY;
    cd_hot_folder_schedule_flush(self);
  }
}

static void
cd_hot_folder_forget(CdHotFolder *self, const gchar *path)
{
  CdEntry *entry = g_hash_table_lookup(self->entries, path);
  if (entry != NULL && entry->state != CD_ENTRY_IN_FLIGHT)
    g_hash_table_remove(self->entries, path);
}

static void
cd_hot_folder_on_event(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event, gpointer data)
{
  CdHotFolder *self = data;
  g_autofree gchar *path = g_file_get_path(file);
  g_autofree gchar *other_path = other != NULL ? g_file_get_path(other) : NULL;

  if (path == NULL)
    return;
  switch (event) {
  case G_FILE_MONITOR_EVENT_CREATED:
  case G_FILE_MONITOR_EVENT_CHANGED:
  case G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED:
    cd_hot_folder_touch(self, path, FALSE);
    break;
  case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT: /* the writer closed it */
  case G_FILE_MONITOR_EVENT_MOVED_IN:          /* renamed in: written elsewhere */
    cd_hot_folder_touch(self, path, TRUE);
    break;
  case G_FILE_MONITOR_EVENT_RENAMED:
    cd_hot_folder_forget(self, path);
    if (other_path != NULL)
      cd_hot_folder_touch(self, other_path, TRUE);
    break;
  case G_FILE_MONITOR_EVENT_DELETED:
  case G_FILE_MONITOR_EVENT_MOVED_OUT:
    cd_hot_folder_forget(self, path);
    break;
  default:
    break;
  }
}

/* Lists the folder for files no event announced, and declares complete the
 * files whose size and time held still for stable-seconds. */
static void
cd_hot_folder_scan(CdHotFolder *self)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
  GHashTableIter iter;
  gpointer key, value;
  const gchar *name;
  gint64 now = g_get_monotonic_time();

  dir = g_dir_open(self->config.path, 0, &error);
  if (dir == NULL) {
    g_warning("hot folder %s: %s", self->config.name, error->message);
    return;
  }
  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree gchar *path = NULL;
    if (cd_hot_folder_ignored_name(name))
      continue;
    path = g_build_filename(self->config.path, name, NULL);
    if (!g_hash_table_contains(self->entries, path))
      cd_hot_folder_touch(self, path, FALSE);
  }

  g_hash_table_iter_init(&iter, self->entries);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    CdEntry *entry = value;
    GStatBuf st;
    if (entry->state == CD_ENTRY_IN_FLIGHT)
      continue;
    if (g_stat(key, &st) != 0 || !S_ISREG(st.st_mode)) {
      g_ptr_array_add(gone, g_strdup(key));
      continue;
    }
    if (entry->state == CD_ENTRY_HELD) {
      if (st.st_size != entry->size || st.st_mtime != entry->mtime) {
        entry->state = CD_ENTRY_WATCHING;
        entry->since = now;
      }
    } else if (st.st_size != entry->size || st.st_mtime != entry->mtime) {
      entry->size = st.st_size;
      entry->mtime = st.st_mtime;
      entry->since = now;
      entry->state = CD_ENTRY_WATCHING;
    } else if (entry->state == CD_ENTRY_WATCHING && now - entry->since >= (gint64) self->config.stable_ms * 1000) {
      entry->state = CD_ENTRY_READY;
    }
  }
  for (guint i = 0; i < gone->len; i++)
    g_hash_table_remove(self->entries, g_ptr_array_index(gone, i));
}

static gint
cd_hot_folder_compare_paths(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

/* Queues the ready files, in name order, a batch of at most max-files at a
 * time. A batch that cannot be queued leaves its files ready for the next
 * poll. */
static gboolean
cd_hot_folder_flush(gpointer data)
{
  CdHotFolder *self = data;
  g_autoptr(GPtrArray) ready = g_ptr_array_new();
  GHashTableIter iter;
  gpointer key, value;

  self->flush_id = 0;
  g_hash_table_iter_init(&iter, self->entries);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    if (((CdEntry *) value)->state == CD_ENTRY_READY)
      g_ptr_array_add(ready, key);
  }
  g_ptr_array_sort(ready, cd_hot_folder_compare_paths);
  for (guint start = 0; start < ready->len; start += self->config.max_files) {
    g_autoptr(GPtrArray) chunk = g_ptr_array_new_with_free_func(g_free);
    for (guint i = start; i < ready->len && i < start + self->config.max_files; i++)
      g_ptr_array_add(chunk, g_strdup(g_ptr_array_index(ready, i)));
    g_ptr_array_add(chunk, NULL);
    if (!self->submit(self, (const gchar *const *) chunk->pdata, self->submit_data))
      break;
    for (guint i = 0; i + 1 < chunk->len; i++) {
      CdEntry *entry = g_hash_table_lookup(self->entries, g_ptr_array_index(chunk, i));
      entry->state = CD_ENTRY_IN_FLIGHT;
    }
  }
  return G_SOURCE_REMOVE;
}

static gboolean
cd_hot_folder_poll(gpointer data)
{
  CdHotFolder *self = data;
  cd_hot_folder_scan(self);
  cd_hot_folder_flush(self);
  return G_SOURCE_CONTINUE;
}

static gboolean
cd_hot_folder_mkdir(const gchar *path, GError **error)
{
  if (g_mkdir_with_parents(path, 0750) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: cannot create: %s", path, g_strerror(errno));
    return FALSE;
  }
  return TRUE;
}

/**
 * cd_hot_folder_start:
 * @self: a #CdHotFolder
 * @error: return location for a #GError
 *
 * Creates done/ and failed/ if needed, starts watching, and lists the files
 * already there (they are taken once their size holds still).
 *
 * Returns: %TRUE if the folder is watched
 */
gboolean
cd_hot_folder_start(CdHotFolder *self, GError **error)
{
  g_autoptr(GFile) dir = NULL;
  g_autoptr(GError) error_local = NULL;

  g_return_val_if_fail(CD_IS_HOT_FOLDER(self), FALSE);
  if (!g_file_test(self->config.path, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "hot folder %s: %s is not a folder", self->config.name,
                self->config.path);
    return FALSE;
  }
  if (!cd_hot_folder_mkdir(self->config.done_dir, error) || !cd_hot_folder_mkdir(self->config.failed_dir, error))
    return FALSE;
  dir = g_file_new_for_path(self->config.path);
  self->monitor = g_file_monitor_directory(dir, G_FILE_MONITOR_WATCH_MOVES, NULL, &error_local);
  if (self->monitor == NULL) {
    /* listing and size checks alone still work, only later */
    g_warning("hot folder %s: no change notification (%s); polling only", self->config.name, error_local->message);
  } else {
    g_signal_connect(self->monitor, "changed", G_CALLBACK(cd_hot_folder_on_event), self);
  }
  cd_hot_folder_scan(self);
  self->poll_id = g_timeout_add(self->config.poll_ms, cd_hot_folder_poll, self);
  g_info("hot folder %s: watching %s", self->config.name, self->config.path);
  return TRUE;
}

/**
 * cd_hot_folder_stop:
 * @self: a #CdHotFolder
 *
 * Stops watching; files in flight are left where they are.
 */
void
cd_hot_folder_stop(CdHotFolder *self)
{
  g_return_if_fail(CD_IS_HOT_FOLDER(self));
  if (self->monitor != NULL) {
    g_file_monitor_cancel(self->monitor);
    g_signal_handlers_disconnect_by_data(self->monitor, self);
    g_clear_object(&self->monitor);
  }
  g_clear_handle_id(&self->poll_id, g_source_remove);
  g_clear_handle_id(&self->flush_id, g_source_remove);
}

/**
 * cd_hot_folder_owns:
 * @self: a #CdHotFolder
 * @path: an absolute path
 *
 * Returns: whether @path is a file directly in this hot folder
 */
gboolean
cd_hot_folder_owns(CdHotFolder *self, const gchar *path)
{
  g_autofree gchar *dir = g_path_get_dirname(path);
  return g_strcmp0(dir, self->config.path) == 0;
}

/**
 * cd_hot_folder_claim:
 * @self: a #CdHotFolder
 * @files: (array zero-terminated=1): files of a batch resumed at start-up
 *
 * Marks files as in flight, so that the folder's listing does not queue
 * them a second time.
 */
void
cd_hot_folder_claim(CdHotFolder *self, const gchar *const *files)
{
  for (guint i = 0; files[i] != NULL; i++) {
    CdEntry *entry;
    if (!cd_hot_folder_owns(self, files[i]))
      continue;
    entry = g_hash_table_lookup(self->entries, files[i]);
    if (entry == NULL) {
      entry = g_new0(CdEntry, 1);
      g_hash_table_insert(self->entries, g_strdup(files[i]), entry);
    }
    entry->state = CD_ENTRY_IN_FLIGHT;
  }
}

/* Moves @path into @dir under its own name, or NAME-N.EXT if taken. The
 * rename is atomic and stays on one file system (done/ and failed/ are
 * usually inside the folder); a name already there is never overwritten. */
static gchar *
cd_hot_folder_move(const gchar *path, const gchar *dir, GError **error)
{
  g_autofree gchar *base = g_path_get_basename(path);
  const gchar *dot = strrchr(base, '.');
  g_autofree gchar *stem = dot != NULL && dot != base ? g_strndup(base, dot - base) : g_strdup(base);
  const gchar *ext = dot != NULL && dot != base ? dot : "";

  for (guint n = 0; n < 10000; n++) {
    g_autofree gchar *name = n == 0 ? g_strdup(base) : g_strdup_printf("%s-%u%s", stem, n, ext);
    g_autofree gchar *dest = g_build_filename(dir, name, NULL);
    if (g_file_test(dest, G_FILE_TEST_EXISTS))
      continue;
    if (g_rename(path, dest) != 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "%s: cannot move to %s: %s", path, dir, g_strerror(errno));
      return NULL;
    }
    return g_steal_pointer(&dest);
  }
  g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "%s: cannot move to %s: too many files of that name", path, dir);
  return NULL;
}

/* The failure reasons the report gives for @path, one line each. */
static gchar *
cd_hot_folder_reasons(JsonNode *report, const gchar *path)
{
  g_autoptr(GString) str = g_string_new(NULL);
  JsonArray *items;

  if (report == NULL || !JSON_NODE_HOLDS_OBJECT(report))
    return NULL;
  items = json_object_get_array_member(json_node_get_object(report), "items");
  for (guint i = 0; items != NULL && i < json_array_get_length(items); i++) {
    JsonObject *item = json_array_get_object_element(items, i);
    JsonNode *page = json_object_get_member(item, "page");
    if (g_strcmp0(json_object_get_string_member_with_default(item, "path", NULL), path) != 0 ||
        g_strcmp0(json_object_get_string_member_with_default(item, "outcome", NULL), "failed") != 0)
      continue;
    if (page != NULL && !JSON_NODE_HOLDS_NULL(page))
      g_string_append_printf(str, "page %" G_GINT64_FORMAT ": ", json_node_get_int(page) + 1);
    g_string_append_printf(str, "%s\n", json_object_get_string_member_with_default(item, "reason", "failed"));
  }
  return str->len > 0 ? g_string_free(g_steal_pointer(&str), FALSE) : NULL;
}

static void
cd_hot_folder_move_failed(CdHotFolder *self, const gchar *path, const gchar *reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dest = cd_hot_folder_move(path, self->config.failed_dir, &error);
  g_autofree gchar *reason_file = NULL;

  if (dest == NULL) {
    g_warning("hot folder %s: %s", self->config.name, error->message);
    return;
  }
  reason_file = g_strdup_printf("%s.reason", dest);
  if (!g_file_set_contents(reason_file, reason, -1, &error))
    g_warning("hot folder %s: %s", self->config.name, error->message);
  g_message("hot folder %s: %s failed: %s", self->config.name, path, reason);
}

/**
 * cd_hot_folder_batch_ended:
 * @self: a #CdHotFolder
 * @files: (array zero-terminated=1): the batch's files
 * @status: `finished`, `failed`, `cancelled` or `interrupted`
 * @report: (nullable): the batch report
 * @error_message: (nullable): why a failed batch failed
 *
 * Called once the batch's end is committed. A finished batch's files move
 * to done/, or to failed/ with the reasons when a page could not be read;
 * a failed batch's files to failed/ with its error. A cancelled batch's
 * files stay, held until they change; an interrupted one's (the service is
 * stopping) stay for the batch to resume.
 */
void
cd_hot_folder_batch_ended(CdHotFolder *self, const gchar *const *files, const gchar *status, JsonNode *report,
                          const gchar *error_message)
{
  for (guint i = 0; files[i] != NULL; i++) {
    const gchar *path = files[i];
    CdEntry *entry;

    if (!cd_hot_folder_owns(self, path))
      continue;
    if (g_strcmp0(status, "finished") == 0 && g_file_test(path, G_FILE_TEST_EXISTS)) {
      g_autofree gchar *reasons = cd_hot_folder_reasons(report, path);
      if (reasons != NULL) {
        cd_hot_folder_move_failed(self, path, reasons);
      } else {
        g_autoptr(GError) error = NULL;
        g_autofree gchar *dest = cd_hot_folder_move(path, self->config.done_dir, &error);
        if (dest == NULL)
          g_warning("hot folder %s: %s", self->config.name, error->message);
      }
      g_hash_table_remove(self->entries, path);
    } else if (g_strcmp0(status, "failed") == 0 && g_file_test(path, G_FILE_TEST_EXISTS)) {
      g_autofree gchar *reason = g_strdup_printf("the batch failed: %s\n", error_message != NULL ? error_message : "");
      cd_hot_folder_move_failed(self, path, reason);
      g_hash_table_remove(self->entries, path);
    } else if (g_strcmp0(status, "cancelled") == 0 && (entry = g_hash_table_lookup(self->entries, path)) != NULL) {
      entry->state = CD_ENTRY_HELD;
    } else {
      g_hash_table_remove(self->entries, path);
    }
  }
}
