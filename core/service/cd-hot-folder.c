/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include <unistd.h>

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
 * Only regular files are taken. A symbolic link (to a file or a folder) is
 * never followed: it is moved, as a link, to failed/ with a reason, or left
 * with FILE.reason beside it when it cannot be moved. A file whose size or
 * modification time changed while its batch ran stays, with FILE.reason
 * beside it, and is taken again once it holds still. A file that cannot be
 * moved on (done/ on another file system is copied, synced and unlinked;
 * anything else) stays with FILE.reason and is held until it changes, so
 * it is never queued again and again.
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
  GHashTable *refused; /* symbolic links that could not be moved away: left alone */
  guint poll_id;
  guint flush_id;
};

G_DEFINE_TYPE(CdHotFolder, cd_hot_folder, G_TYPE_OBJECT)

typedef enum {
  CD_ENTRY_WATCHING, /* may still be written */
  CD_ENTRY_READY,    /* complete, waiting for a batch */
  CD_ENTRY_IN_FLIGHT,
  CD_ENTRY_HELD, /* its batch was cancelled, or it cannot be moved on: left alone until it changes */
} CdEntryState;

typedef struct {
  CdEntryState state;
  goffset size;
  gint64 mtime; /* nanoseconds: a rewrite within the same second still shows */
  gint64 since; /* monotonic time of the last change seen */
} CdEntry;

#define CD_MTIME_NS(st) ((gint64) (st)->st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + (st)->st_mtim.tv_nsec)

/* A flush waits this long after an event so that a burst of files becomes
 * a few batches rather than one batch per file. */
#define CD_HOT_FOLDER_FLUSH_MS 250

static void
cd_hot_folder_finalize(GObject *object)
{
  CdHotFolder *self = CD_HOT_FOLDER(object);

  cd_hot_folder_stop(self);
  g_hash_table_unref(self->entries);
  g_hash_table_unref(self->refused);
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
  self->refused = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
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

static void cd_hot_folder_refuse_link(CdHotFolder *self, const gchar *path);

/* Only regular files directly in the folder: done/, failed/ and any other
 * subfolder are not ours to read. The file itself is examined, never what
 * a link points to; a link is refused (moved to failed/). */
static gboolean
cd_hot_folder_candidate(CdHotFolder *self, const gchar *path, GStatBuf *st)
{
  g_autofree gchar *dir = g_path_get_dirname(path);
  g_autofree gchar *base = g_path_get_basename(path);

  if (g_strcmp0(dir, self->config.path) != 0 || cd_hot_folder_ignored_name(base))
    return FALSE;
  if (g_lstat(path, st) != 0)
    return FALSE;
  if (S_ISLNK(st->st_mode)) {
    cd_hot_folder_refuse_link(self, path);
    return FALSE;
  }
  return S_ISREG(st->st_mode);
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
  CdEntry *entry;
  GStatBuf st;

  /* looked up only after the check, which may drop the entry (a file
   * replaced by a link) */
  if (!cd_hot_folder_candidate(self, path, &st)) {
    entry = g_hash_table_lookup(self->entries, path);
    if (entry != NULL && entry->state != CD_ENTRY_IN_FLIGHT)
      g_hash_table_remove(self->entries, path);
    return;
  }
  entry = g_hash_table_lookup(self->entries, path);
  if (entry == NULL) {
    entry = g_new0(CdEntry, 1);
    entry->state = CD_ENTRY_WATCHING;
    g_hash_table_insert(self->entries, g_strdup(path), entry);
  } else if (entry->state == CD_ENTRY_IN_FLIGHT || entry->state == CD_ENTRY_READY) {
    return;
  } else if (entry->state == CD_ENTRY_HELD && entry->size == st.st_size && entry->mtime == CD_MTIME_NS(&st)) {
    return;
  }
  if (entry->state == CD_ENTRY_HELD)
    entry->state = CD_ENTRY_WATCHING;
  entry->size = st.st_size;
  entry->mtime = CD_MTIME_NS(&st);
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
    if (g_lstat(key, &st) != 0 || !S_ISREG(st.st_mode)) {
      g_ptr_array_add(gone, g_strdup(key));
      continue;
    }
    if (entry->state == CD_ENTRY_HELD) {
      if (st.st_size != entry->size || CD_MTIME_NS(&st) != entry->mtime) {
        entry->state = CD_ENTRY_WATCHING;
        entry->since = now;
      }
    } else if (st.st_size != entry->size || CD_MTIME_NS(&st) != entry->mtime) {
      entry->size = st.st_size;
      entry->mtime = CD_MTIME_NS(&st);
      entry->since = now;
      entry->state = CD_ENTRY_WATCHING;
    } else if (entry->state == CD_ENTRY_WATCHING && now - entry->since >= (gint64) self->config.stable_ms * 1000) {
      entry->state = CD_ENTRY_READY;
    }
  }
  for (guint i = 0; i < gone->len; i++)
    g_hash_table_remove(self->entries, g_ptr_array_index(gone, i));
  g_ptr_array_set_size(gone, 0);
  g_hash_table_iter_init(&iter, self->refused);
  while (g_hash_table_iter_next(&iter, &key, NULL)) {
    GStatBuf st;
    if (g_lstat(key, &st) != 0 || !S_ISLNK(st.st_mode))
      g_ptr_array_add(gone, g_strdup(key));
  }
  for (guint i = 0; i < gone->len; i++)
    g_hash_table_remove(self->refused, g_ptr_array_index(gone, i));
}

static gint
cd_hot_folder_compare_paths(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

/* Queues the ready files, in name order, a batch of at most max-files at a
 * time. A batch that cannot be queued leaves its files ready for the next
 * poll. */
static void
cd_hot_folder_flush_now(CdHotFolder *self)
{
  g_autoptr(GPtrArray) ready = g_ptr_array_new();
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init(&iter, self->entries);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    CdEntry *entry = value;
    GStatBuf st;
    if (entry->state != CD_ENTRY_READY)
      continue;
    /* what the batch will read: batch_ended() compares against this */
    if (g_lstat(key, &st) != 0 || !S_ISREG(st.st_mode)) {
      entry->state = CD_ENTRY_WATCHING; /* the next listing sorts it out */
      continue;
    }
    if (st.st_size != entry->size || CD_MTIME_NS(&st) != entry->mtime) {
      entry->size = st.st_size;
      entry->mtime = CD_MTIME_NS(&st);
      entry->since = g_get_monotonic_time();
      entry->state = CD_ENTRY_WATCHING;
      continue;
    }
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
}

/* The flush scheduled after an event. Only this callback clears flush_id:
 * the poll flushes too, and must not orphan a pending timeout (it would
 * fire after the folder is gone). */
static gboolean
cd_hot_folder_flush(gpointer data)
{
  CdHotFolder *self = data;

  self->flush_id = 0;
  cd_hot_folder_flush_now(self);
  return G_SOURCE_REMOVE;
}

static gboolean
cd_hot_folder_poll(gpointer data)
{
  CdHotFolder *self = data;
  cd_hot_folder_scan(self);
  cd_hot_folder_flush_now(self);
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
      GStatBuf st;
      entry = g_new0(CdEntry, 1);
      if (g_lstat(files[i], &st) == 0) {
        entry->size = st.st_size;
        entry->mtime = CD_MTIME_NS(&st);
      }
      g_hash_table_insert(self->entries, g_strdup(files[i]), entry);
    }
    entry->state = CD_ENTRY_IN_FLIGHT;
  }
}

/* A test hook, documented in docs/decisions.md: when set, a rename into
 * this folder fails with EXDEV as if it were on another file system, so the
 * copy path can be tested where only one file system is at hand. */
static const gchar *
cd_hot_folder_exdev_dir(void)
{
  return g_getenv("CHARTDESK_TEST_HOT_FOLDER_EXDEV");
}

/* Copies @path to a new file @dest (which must not exist) on another file
 * system: through a temporary name in the destination folder, synced, then
 * linked into place without overwriting anything, and the folder synced.
 * The source is left for the caller to unlink. On failure nothing is left
 * in the destination. */
static gboolean
cd_hot_folder_copy(const gchar *path, const gchar *dir, const gchar *dest, GError **error)
{
  g_autofree gchar *tmp = g_build_filename(dir, ".chartdesk-move-XXXXXX", NULL);
  g_autofree gchar *buf = g_malloc(1 << 16);
  gint in = -1, out = -1, dfd = -1;
  gboolean ok = FALSE;
  const gchar *step = "open";
  GStatBuf st;
  gint saved = 0;

  in = g_open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
  if (in >= 0 && fstat(in, &st) == 0 && S_ISREG(st.st_mode)) {
    step = "create";
    out = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, st.st_mode & 0777);
  }
  if (out >= 0) {
    gssize n = 0;
    step = "copy";
    ok = TRUE;
    while (ok && (n = read(in, buf, 1 << 16)) != 0) {
      if (n < 0 && errno == EINTR)
        continue;
      ok = n > 0;
      for (gssize done = 0; ok && done < n;) {
        gssize w = write(out, buf + done, n - done);
        if (w < 0 && errno == EINTR)
          continue;
        ok = w > 0;
        done += MAX(w, 0);
      }
    }
    if (ok) {
      step = "sync";
      ok = fsync(out) == 0;
    }
    if (ok) {
      step = "link";
      ok = link(tmp, dest) == 0;
    }
    saved = errno;
    close(out);
    g_unlink(tmp);
    if (ok && (dfd = g_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)) >= 0) {
      fsync(dfd);
      close(dfd);
    }
  } else {
    saved = errno;
  }
  if (in >= 0)
    close(in);
  if (!ok)
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "%s: cannot copy to %s (%s): %s", path, dir, step,
                g_strerror(saved != 0 ? saved : EIO));
  return ok;
}

/* Moves @path into @dir under its own name, or NAME-N.EXT if taken; a name
 * already there is never overwritten. The rename is atomic and stays on one
 * file system (done/ and failed/ are usually inside the folder); when @dir
 * is on another one a regular file is copied, synced and only then unlinked
 * here (@may_copy), and a symbolic link is not moved at all. */
static gchar *
cd_hot_folder_move(const gchar *path, const gchar *dir, gboolean may_copy, GError **error)
{
  g_autofree gchar *base = g_path_get_basename(path);
  const gchar *dot = strrchr(base, '.');
  g_autofree gchar *stem = dot != NULL && dot != base ? g_strndup(base, dot - base) : g_strdup(base);
  const gchar *ext = dot != NULL && dot != base ? dot : "";

  for (guint n = 0; n < 10000; n++) {
    g_autofree gchar *name = n == 0 ? g_strdup(base) : g_strdup_printf("%s-%u%s", stem, n, ext);
    g_autofree gchar *dest = g_build_filename(dir, name, NULL);
    gint saved;
    if (g_file_test(dest, G_FILE_TEST_EXISTS) || g_file_test(dest, G_FILE_TEST_IS_SYMLINK))
      continue;
    if (g_strcmp0(cd_hot_folder_exdev_dir(), dir) == 0) {
      saved = EXDEV;
    } else if (g_rename(path, dest) == 0) {
      return g_steal_pointer(&dest);
    } else {
      saved = errno;
    }
    if (saved == EXDEV && may_copy) {
      if (!cd_hot_folder_copy(path, dir, dest, error))
        return NULL;
      if (g_unlink(path) != 0) {
        g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "%s: copied to %s but cannot remove it here: %s", path, dest,
                    g_strerror(errno));
        return NULL;
      }
      return g_steal_pointer(&dest);
    }
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "%s: cannot move to %s: %s", path, dir, g_strerror(saved));
    return NULL;
  }
  g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "%s: cannot move to %s: too many files of that name", path, dir);
  return NULL;
}

/* Writes FILE.reason beside @path (in the hot folder itself, for a file
 * left there). */
static void
cd_hot_folder_write_reason(CdHotFolder *self, const gchar *path, const gchar *reason)
{
  g_autofree gchar *reason_file = g_strdup_printf("%s.reason", path);
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents(reason_file, reason, -1, &error))
    g_warning("hot folder %s: %s", self->config.name, error->message);
}

/* A file that moved on no longer needs the reason it was once left for. */
static void
cd_hot_folder_clear_reason(const gchar *path)
{
  g_autofree gchar *reason_file = g_strdup_printf("%s.reason", path);
  g_unlink(reason_file);
}

/* Leaves @path in the folder with FILE.reason, held until it changes. */
static void
cd_hot_folder_leave(CdHotFolder *self, const gchar *path, const gchar *reason)
{
  CdEntry *entry = g_hash_table_lookup(self->entries, path);
  GStatBuf st;

  cd_hot_folder_write_reason(self, path, reason);
  g_warning("hot folder %s: %s: left in the folder: %s", self->config.name, path, reason);
  if (entry == NULL) {
    entry = g_new0(CdEntry, 1);
    g_hash_table_insert(self->entries, g_strdup(path), entry);
  }
  if (g_lstat(path, &st) == 0) {
    entry->size = st.st_size;
    entry->mtime = CD_MTIME_NS(&st);
  }
  entry->state = CD_ENTRY_HELD;
}

/* A symbolic link in the folder: moved, as a link, to failed/ with a
 * reason; left with FILE.reason when it cannot be (failed/ on another file
 * system), and then not looked at again while it stays a link. */
static void
cd_hot_folder_refuse_link(CdHotFolder *self, const gchar *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dest = NULL;
  const gchar *reason = "a symbolic link: the hot folder takes regular files only and does not follow links\n";

  if (g_hash_table_contains(self->refused, path))
    return;
  g_hash_table_remove(self->entries, path);
  dest = cd_hot_folder_move(path, self->config.failed_dir, FALSE, &error);
  if (dest == NULL) {
    g_autofree gchar *why = g_strdup_printf("%s(%s)\n", reason, error->message);
    cd_hot_folder_write_reason(self, path, why);
    g_warning("hot folder %s: %s: refused, left in the folder: %s", self->config.name, path, reason);
    g_hash_table_add(self->refused, g_strdup(path));
    return;
  }
  cd_hot_folder_write_reason(self, dest, reason);
  g_message("hot folder %s: %s refused: %s", self->config.name, path, reason);
}

/* Whether a report line is about the file with hash @sha256 at @path: by
 * content hash when the line has one, so that a record is never pinned on
 * other content that happens to bear the name; by path only for a line
 * about a file that could not be hashed at all. */
static gboolean
cd_hot_folder_item_is_file(JsonObject *item, const gchar *path, const gchar *sha256)
{
  const gchar *item_sha = json_object_get_string_member_with_default(item, "sha256", NULL);

  if (item_sha != NULL)
    return sha256 != NULL && g_ascii_strcasecmp(item_sha, sha256) == 0;
  return g_strcmp0(json_object_get_string_member_with_default(item, "path", NULL), path) == 0;
}

/* The failure reasons the report gives for @path, one line each. */
static gchar *
cd_hot_folder_reasons(JsonNode *report, const gchar *path)
{
  g_autoptr(GString) str = g_string_new(NULL);
  g_autofree gchar *sha256 = NULL;
  gboolean hashed = FALSE;
  JsonArray *items;

  if (report == NULL || !JSON_NODE_HOLDS_OBJECT(report))
    return NULL;
  items = json_object_get_array_member(json_node_get_object(report), "items");
  for (guint i = 0; items != NULL && i < json_array_get_length(items); i++) {
    JsonObject *item = json_array_get_object_element(items, i);
    JsonNode *page = json_object_get_member(item, "page");
    if (g_strcmp0(json_object_get_string_member_with_default(item, "outcome", NULL), "failed") != 0)
      continue;
    /* hashed only when there is a failure to match: most batches have none */
    if (!hashed) {
      sha256 = cd_source_hash_file(path, NULL, NULL);
      hashed = TRUE;
    }
    if (!cd_hot_folder_item_is_file(item, path, sha256))
      continue;
    if (page != NULL && !JSON_NODE_HOLDS_NULL(page))
      g_string_append_printf(str, "page %" G_GINT64_FORMAT ": ", json_node_get_int(page) + 1);
    g_string_append_printf(str, "%s\n", json_object_get_string_member_with_default(item, "reason", "failed"));
  }
  return str->len > 0 ? g_string_free(g_steal_pointer(&str), FALSE) : NULL;
}

/* Moves @path on to @dir (done/ or failed/, @reason beside it in failed/),
 * or leaves it with a reason when it cannot be moved. */
static void
cd_hot_folder_move_on(CdHotFolder *self, const gchar *path, const gchar *dir, const gchar *reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dest = cd_hot_folder_move(path, dir, TRUE, &error);

  if (dest == NULL) {
    g_autofree gchar *why = g_strdup_printf("%s%s%s\n", error->message, reason != NULL ? "; it failed: " : "",
                                            reason != NULL ? reason : "");
    cd_hot_folder_leave(self, path, why);
    return;
  }
  g_hash_table_remove(self->entries, path);
  cd_hot_folder_clear_reason(path);
  if (reason != NULL) {
    cd_hot_folder_write_reason(self, dest, reason);
    g_message("hot folder %s: %s failed: %s", self->config.name, path, reason);
  }
}

/* Whether @path is still the regular file its batch read (the size and
 * modification time recorded when it was queued). If not, it is left in
 * the folder with a reason and watched again. */
static gboolean
cd_hot_folder_unchanged(CdHotFolder *self, const gchar *path)
{
  CdEntry *entry = g_hash_table_lookup(self->entries, path);
  g_autofree gchar *reason = NULL;
  GStatBuf st;

  if (g_lstat(path, &st) != 0)
    return FALSE;
  if (S_ISLNK(st.st_mode)) {
    cd_hot_folder_refuse_link(self, path);
    return FALSE;
  }
  if (entry == NULL || (S_ISREG(st.st_mode) && st.st_size == entry->size && CD_MTIME_NS(&st) == entry->mtime))
    return TRUE;
  reason = g_strdup_printf("changed while its batch ran (now %" G_GINT64_FORMAT " bytes, when queued %" G_GINT64_FORMAT
                           " bytes%s): left here, and taken again once it holds still\n",
                           (gint64) st.st_size, (gint64) entry->size,
                           CD_MTIME_NS(&st) != entry->mtime ? "; modified since" : "");
  cd_hot_folder_write_reason(self, path, reason);
  g_message("hot folder %s: %s %s", self->config.name, path, reason);
  entry->state = CD_ENTRY_WATCHING;
  entry->size = st.st_size;
  entry->mtime = CD_MTIME_NS(&st);
  entry->since = g_get_monotonic_time();
  return FALSE;
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
 * to done/, or to failed/ with the reasons when a page could not be read
 * (the report's failed records matched to the file by content hash); a
 * failed batch's files to failed/ with its error. A file that changed since
 * it was queued, or that cannot be moved, stays with FILE.reason beside it.
 * A cancelled batch's files stay, held until they change; an interrupted
 * one's (the service is stopping) stay for the batch to resume.
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
    if ((g_strcmp0(status, "finished") == 0 || g_strcmp0(status, "failed") == 0) &&
        g_file_test(path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK)) {
      g_autofree gchar *reasons = NULL;
      if (!cd_hot_folder_unchanged(self, path))
        continue;
      if (g_strcmp0(status, "failed") == 0)
        reasons = g_strdup_printf("the batch failed: %s\n", error_message != NULL ? error_message : "");
      else
        reasons = cd_hot_folder_reasons(report, path);
      cd_hot_folder_move_on(self, path, reasons != NULL ? self->config.failed_dir : self->config.done_dir, reasons);
    } else if (g_strcmp0(status, "cancelled") == 0 && (entry = g_hash_table_lookup(self->entries, path)) != NULL) {
      entry->state = CD_ENTRY_HELD;
    } else {
      g_hash_table_remove(self->entries, path);
    }
  }
}
