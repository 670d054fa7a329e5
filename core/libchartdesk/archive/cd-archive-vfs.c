/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SQLite archive, its file layer: two VFSes stacked on the default
 * (unix) one, which keeps every lock, write and sync.
 *
 * - "chartdesk", every archive connection's: a long-lived connection
 *   (cd_archive_vfs_map_whole()) reads the database file through one
 *   memory map of the whole file, kept for the connection's life. Debian's SQLite maps at most 2 GiB (its SQLITE_MAX_MMAP_SIZE),
 *   so at millions of pages most reads were a pread() and a copy; and
 *   SQLite drops its page cache, and its own map, whenever another
 *   connection has committed (one search's audit entry is enough), so a
 *   search after a commit elsewhere read its thousands of pages again
 *   through the kernel (issue 18).
 * - "chartdesk-check", `chartdesk check`'s: no map, and every byte read of
 *   the database and its WAL counted, so that a step SQLite runs as one
 *   long call still says how far it is (cd-archive-check.c).
 *
 * The map is read-only and shared, so it sees every write, this
 * process's or another's, as the kernel's page cache does. It serves a
 * page only inside the file's size, read again after SQLite has seen
 * another connection's commit, after a truncation and whenever a page
 * lies past the size last read, so a file that shrank (VACUUM, by this
 * connection or another) is never read past its end. Nothing here opens
 * or closes a descriptor of the database: closing one would drop every
 * POSIX lock the process holds on it. The map is made from the default
 * VFS's own descriptor, checked against the file's identity first.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cd-archive-private.h"

typedef struct {
  sqlite3_file base;     /* pMethods: cd_vfs_io_methods */
  sqlite3_file *real;    /* the default VFS's file, right after this struct */
  CdVfsReadFunc on_read; /* counts reads (chartdesk-check) when set */
  gpointer on_read_data;
  /* the map of a main database file (chartdesk) */
  gboolean mappable; /* a main database, its descriptor found */
  gboolean whole;    /* mapped whole (cd_archive_vfs_map_whole()) */
  dev_t dev;
  ino_t ino;
  const guint8 *map; /* NULL: not made yet, or given up */
  gsize map_len;
  sqlite3_int64 size; /* bytes the map may serve; -1: read it again */
  gint fetched;       /* pointers into the map handed out, not given back */
  guint64 mapped_reads;
} CdVfsFile;

#define CD_VFS_REAL(file) (((CdVfsFile *) (file))->real)

typedef struct {
  sqlite3_vfs *real;
  gboolean map;
} CdVfsKind;

#define CD_VFS_KIND(vfs) ((CdVfsKind *) (vfs)->pAppData)
#define CD_VFS_REAL_VFS(vfs) (CD_VFS_KIND(vfs)->real)

/* address space set aside past the file's end when it is mapped, so that a
 * growing archive stays inside one map: the kernel backs only what is read */
#define CD_VFS_MAP_SLACK G_GINT64_CONSTANT(68719476736) /* 64 GiB */

static void
cd_vfs_unmap(CdVfsFile *self)
{
  if (self->map != NULL)
    munmap((void *) self->map, self->map_len);
  self->map = NULL;
  self->map_len = 0;
}

/* The default VFS's descriptor of @self's file. os_unix.c's unixFile
 * begins with its methods, its VFS, its inode record and then the
 * descriptor, as it has since SQLite 3.7; SQLite offers no call that
 * returns it. The value is trusted only when it names the very file
 * SQLite was asked to open (same device and inode as at xOpen); anything
 * else (another layout, a file replaced meanwhile) leaves the file
 * unmapped, read as SQLite reads it without us. */
static gint
cd_vfs_descriptor(CdVfsFile *self)
{
  struct cd_unix_file_head {
    const sqlite3_io_methods *methods;
    sqlite3_vfs *vfs;
    void *inode;
    int fd;
  } *head = (struct cd_unix_file_head *) self->real;
  struct stat st;

  if (head->fd < 0 || fstat(head->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != self->dev ||
      st.st_ino != self->ino)
    return -1;
  return head->fd;
}

/* Maps the file anew, big enough for @need bytes and the slack after them;
 * not while a pointer into the old map is out (FALSE, the map kept). */
static gboolean
cd_vfs_map(CdVfsFile *self, sqlite3_int64 need)
{
  gint fd = cd_vfs_descriptor(self);
  gsize len;
  void *map;

  if (self->fetched > 0)
    return FALSE;
  if (fd < 0) {
    self->mappable = self->whole = FALSE;
    return FALSE;
  }
  len = (gsize) (need + CD_VFS_MAP_SLACK);
  map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    self->mappable = self->whole = FALSE;
    return FALSE;
  }
  /* a b-tree is read page by page, here and there: a fault reads its page
   * and no readahead around it, which at millions of pages read (and
   * pushed out of the page cache) up to 32 pages for each one wanted */
  madvise(map, len, MADV_RANDOM);
  cd_vfs_unmap(self);
  self->map = map;
  self->map_len = len;
  return TRUE;
}

static gint
cd_vfs_file_close(sqlite3_file *file)
{
  CdVfsFile *self = (CdVfsFile *) file;

  cd_vfs_unmap(self);
  return self->real->pMethods->xClose(self->real);
}

/* Whether the map holds @amount bytes at @offset, mapping the file or
 * reading its size again when they lie past what is known. */
static gboolean
cd_vfs_mapped(CdVfsFile *self, sqlite3_int64 offset, gint amount)
{
  sqlite3_int64 end = offset + amount;

  if (!self->whole)
    return FALSE;
  if (self->size < end) {
    sqlite3_int64 size;
    if (self->real->pMethods->xFileSize(self->real, &size) != SQLITE_OK)
      return FALSE;
    self->size = size;
    if (size < end)
      return FALSE;
  }
  return (self->map != NULL && (sqlite3_int64) self->map_len >= end) || cd_vfs_map(self, MAX(end, self->size));
}

/* A read of a file mapped whole (page 1, a page read to be written) is a
 * copy from the map, without a syscall. */
static gint
cd_vfs_file_read(sqlite3_file *file, void *buf, gint amount, sqlite3_int64 offset)
{
  CdVfsFile *self = (CdVfsFile *) file;
  gint rc;

  if (cd_vfs_mapped(self, offset, amount)) {
    memcpy(buf, self->map + offset, amount);
    self->mapped_reads++;
    return SQLITE_OK;
  }
  rc = self->real->pMethods->xRead(self->real, buf, amount, offset);
  if (self->on_read != NULL)
    self->on_read(amount, self->on_read_data);
  return rc;
}

static gint
cd_vfs_file_write(sqlite3_file *file, const void *buf, gint amount, sqlite3_int64 offset)
{
  return CD_VFS_REAL(file)->pMethods->xWrite(CD_VFS_REAL(file), buf, amount, offset);
}

static gint
cd_vfs_file_truncate(sqlite3_file *file, sqlite3_int64 size)
{
  ((CdVfsFile *) file)->size = -1;
  return CD_VFS_REAL(file)->pMethods->xTruncate(CD_VFS_REAL(file), size);
}

static gint
cd_vfs_file_sync(sqlite3_file *file, gint flags)
{
  return CD_VFS_REAL(file)->pMethods->xSync(CD_VFS_REAL(file), flags);
}

static gint
cd_vfs_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
  return CD_VFS_REAL(file)->pMethods->xFileSize(CD_VFS_REAL(file), size);
}

static gint
cd_vfs_file_lock(sqlite3_file *file, gint lock)
{
  return CD_VFS_REAL(file)->pMethods->xLock(CD_VFS_REAL(file), lock);
}

static gint
cd_vfs_file_unlock(sqlite3_file *file, gint lock)
{
  return CD_VFS_REAL(file)->pMethods->xUnlock(CD_VFS_REAL(file), lock);
}

static gint
cd_vfs_file_reserved(sqlite3_file *file, gint *out)
{
  return CD_VFS_REAL(file)->pMethods->xCheckReservedLock(CD_VFS_REAL(file), out);
}

static gint
cd_vfs_file_control(sqlite3_file *file, gint op, void *arg)
{
  return CD_VFS_REAL(file)->pMethods->xFileControl(CD_VFS_REAL(file), op, arg);
}

static gint
cd_vfs_file_sector_size(sqlite3_file *file)
{
  return CD_VFS_REAL(file)->pMethods->xSectorSize(CD_VFS_REAL(file));
}

static gint
cd_vfs_file_device(sqlite3_file *file)
{
  return CD_VFS_REAL(file)->pMethods->xDeviceCharacteristics(CD_VFS_REAL(file));
}

static gint
cd_vfs_file_shm_map(sqlite3_file *file, gint region, gint size, gint extend, void volatile **out)
{
  sqlite3_file *real = CD_VFS_REAL(file);
  return real->pMethods->iVersion >= 2 ? real->pMethods->xShmMap(real, region, size, extend, out) : SQLITE_IOERR;
}

/* A shared lock is a read transaction beginning (a WAL read mark): the
 * file's size is read again before the map serves it, since another
 * connection may have shrunk the file (VACUUM) since the last one */
static gint
cd_vfs_file_shm_lock(sqlite3_file *file, gint offset, gint n, gint flags)
{
  sqlite3_file *real = CD_VFS_REAL(file);

  if ((flags & (SQLITE_SHM_LOCK | SQLITE_SHM_SHARED)) == (SQLITE_SHM_LOCK | SQLITE_SHM_SHARED))
    ((CdVfsFile *) file)->size = -1;
  return real->pMethods->iVersion >= 2 ? real->pMethods->xShmLock(real, offset, n, flags) : SQLITE_IOERR;
}

static void
cd_vfs_file_shm_barrier(sqlite3_file *file)
{
  sqlite3_file *real = CD_VFS_REAL(file);
  if (real->pMethods->iVersion >= 2)
    real->pMethods->xShmBarrier(real);
}

static gint
cd_vfs_file_shm_unmap(sqlite3_file *file, gint delete_flag)
{
  sqlite3_file *real = CD_VFS_REAL(file);
  return real->pMethods->iVersion >= 2 ? real->pMethods->xShmUnmap(real, delete_flag) : SQLITE_OK;
}

/* A pointer to @amount bytes at @offset of a file mapped whole, or NULL
 * (SQLite then reads them): NULL past the file's end, and always for the
 * check's files. SQLite asks for each page it needs and gives it back
 * when done; its cache does not hold such pages, so a commit elsewhere
 * costs nothing to read again. A file not mapped whole is fetched as the
 * default VFS fetches it (SQLite's own map, of at most 2 GiB). */
static gint
cd_vfs_file_fetch(sqlite3_file *file, sqlite3_int64 offset, gint amount, void **out)
{
  CdVfsFile *self = (CdVfsFile *) file;

  *out = NULL;
  if (self->whole) {
    if (cd_vfs_mapped(self, offset, amount)) {
      self->fetched++;
      self->mapped_reads++;
      *out = (void *) (self->map + offset);
    }
    return SQLITE_OK;
  }
  if (self->on_read != NULL || self->real->pMethods->iVersion < 3)
    return SQLITE_OK;
  return self->real->pMethods->xFetch(self->real, offset, amount, out);
}

/* A page given back to the map it came from; or, with no page (SQLite has
 * seen another connection's commit and dropped its cache), the file's
 * size is read again before the whole map serves a read: it may have
 * shrunk. The whole map itself stays: that is its point. */
static gint
cd_vfs_file_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *page)
{
  CdVfsFile *self = (CdVfsFile *) file;
  const guint8 *p = page;

  if (p != NULL && self->map != NULL && p >= self->map && p < self->map + self->map_len) {
    self->fetched--;
    return SQLITE_OK;
  }
  if (p == NULL)
    self->size = -1;
  if (self->real->pMethods->iVersion < 3)
    return SQLITE_OK;
  return self->real->pMethods->xUnfetch(self->real, offset, page);
}

static const sqlite3_io_methods cd_vfs_io_methods = {
  3,
  cd_vfs_file_close,
  cd_vfs_file_read,
  cd_vfs_file_write,
  cd_vfs_file_truncate,
  cd_vfs_file_sync,
  cd_vfs_file_size,
  cd_vfs_file_lock,
  cd_vfs_file_unlock,
  cd_vfs_file_reserved,
  cd_vfs_file_control,
  cd_vfs_file_sector_size,
  cd_vfs_file_device,
  cd_vfs_file_shm_map,
  cd_vfs_file_shm_lock,
  cd_vfs_file_shm_barrier,
  cd_vfs_file_shm_unmap,
  cd_vfs_file_fetch,
  cd_vfs_file_unfetch,
};

static gint
cd_vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, gint flags, gint *out_flags)
{
  CdVfsFile *self = (CdVfsFile *) file;
  sqlite3_vfs *real = CD_VFS_REAL_VFS(vfs);
  struct stat st;
  gint rc;

  memset(self, 0, sizeof(*self));
  self->size = -1;
  self->real = (sqlite3_file *) (self + 1);
  rc = real->xOpen(real, name, self->real, flags, out_flags);
  /* SQLite closes a file whose pMethods is set, even when xOpen failed */
  self->base.pMethods = self->real->pMethods != NULL ? &cd_vfs_io_methods : NULL;
  /* the identity the descriptor must have when the map is made: the
   * file's right after the default VFS opened it */
  if (rc == SQLITE_OK && CD_VFS_KIND(vfs)->map && (flags & SQLITE_OPEN_MAIN_DB) != 0 && name != NULL &&
      g_stat(name, &st) == 0) {
    self->dev = st.st_dev;
    self->ino = st.st_ino;
    self->mappable = cd_vfs_descriptor(self) >= 0;
  }
  return rc;
}

static gint
cd_vfs_delete(sqlite3_vfs *vfs, const char *name, gint sync_dir)
{
  return CD_VFS_REAL_VFS(vfs)->xDelete(CD_VFS_REAL_VFS(vfs), name, sync_dir);
}

static gint
cd_vfs_access(sqlite3_vfs *vfs, const char *name, gint flags, gint *out)
{
  return CD_VFS_REAL_VFS(vfs)->xAccess(CD_VFS_REAL_VFS(vfs), name, flags, out);
}

static gint
cd_vfs_full_pathname(sqlite3_vfs *vfs, const char *name, gint n, char *out)
{
  return CD_VFS_REAL_VFS(vfs)->xFullPathname(CD_VFS_REAL_VFS(vfs), name, n, out);
}

static gint
cd_vfs_randomness(sqlite3_vfs *vfs, gint n, char *out)
{
  return CD_VFS_REAL_VFS(vfs)->xRandomness(CD_VFS_REAL_VFS(vfs), n, out);
}

static gint
cd_vfs_sleep(sqlite3_vfs *vfs, gint microseconds)
{
  return CD_VFS_REAL_VFS(vfs)->xSleep(CD_VFS_REAL_VFS(vfs), microseconds);
}

static gint
cd_vfs_current_time(sqlite3_vfs *vfs, double *out)
{
  return CD_VFS_REAL_VFS(vfs)->xCurrentTime(CD_VFS_REAL_VFS(vfs), out);
}

static gint
cd_vfs_last_error(sqlite3_vfs *vfs, gint n, char *out)
{
  return CD_VFS_REAL_VFS(vfs)->xGetLastError(CD_VFS_REAL_VFS(vfs), n, out);
}

static gint
cd_vfs_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
  return CD_VFS_REAL_VFS(vfs)->xCurrentTimeInt64(CD_VFS_REAL_VFS(vfs), out);
}

#define CD_VFS_MAPPED_NAME "chartdesk"
#define CD_VFS_COUNTING_NAME "chartdesk-check"

/* Registers both VFSes once (neither as the default); FALSE when the
 * default VFS cannot carry them. */
static gboolean
cd_vfs_register(void)
{
  static sqlite3_vfs vfs[2];
  static CdVfsKind kinds[2];
  static gsize done = 0;
  static gboolean ok = FALSE;

  if (g_once_init_enter(&done)) {
    sqlite3_vfs *real = sqlite3_vfs_find(NULL);
    ok = real != NULL && real->iVersion >= 2;
    for (guint i = 0; ok && i < G_N_ELEMENTS(vfs); i++) {
      kinds[i].real = real;
      /* a map of a whole archive needs a 64-bit address space */
      kinds[i].map = i == 0 && g_str_has_prefix(real->zName, "unix") && sizeof(gpointer) >= 8;
      vfs[i].iVersion = 2;
      vfs[i].szOsFile = sizeof(CdVfsFile) + real->szOsFile;
      vfs[i].mxPathname = real->mxPathname;
      vfs[i].zName = i == 0 ? CD_VFS_MAPPED_NAME : CD_VFS_COUNTING_NAME;
      vfs[i].pAppData = &kinds[i];
      vfs[i].xOpen = cd_vfs_open;
      vfs[i].xDelete = cd_vfs_delete;
      vfs[i].xAccess = cd_vfs_access;
      vfs[i].xFullPathname = cd_vfs_full_pathname;
      /* no extensions are loaded on these connections */
      vfs[i].xRandomness = cd_vfs_randomness;
      vfs[i].xSleep = cd_vfs_sleep;
      vfs[i].xCurrentTime = cd_vfs_current_time;
      vfs[i].xGetLastError = cd_vfs_last_error;
      vfs[i].xCurrentTimeInt64 = cd_vfs_current_time64;
      ok = sqlite3_vfs_register(&vfs[i], 0) == SQLITE_OK;
    }
    g_once_init_leave(&done, 1);
  }
  return ok;
}

/* The VFS of an archive connection: reads through one map of the whole
 * file. NULL when it cannot be registered (the default VFS then serves). */
const gchar *
cd_archive_vfs_mapped(void)
{
  return cd_vfs_register() ? CD_VFS_MAPPED_NAME : NULL;
}

/* The VFS of the check's connection: no map, reads counted once
 * cd_archive_vfs_count_reads() is called. */
const gchar *
cd_archive_vfs_counting(void)
{
  return cd_vfs_register() ? CD_VFS_COUNTING_NAME : NULL;
}

/* @db's file for @what (SQLITE_FCNTL_FILE_POINTER: the database, or
 * SQLITE_FCNTL_JOURNAL_POINTER: its WAL, open once the connection has
 * read), when it is one of ours. */
static CdVfsFile *
cd_vfs_file_of(sqlite3 *db, gint what)
{
  sqlite3_file *file = NULL;

  if (sqlite3_file_control(db, "main", what, &file) != SQLITE_OK || file == NULL ||
      file->pMethods != &cd_vfs_io_methods)
    return NULL;
  return (CdVfsFile *) file;
}

/* Calls @func with the bytes of each read of @db's database file and, when
 * @wal, of its WAL. FALSE when @db is not on one of these VFSes (or its
 * WAL is not open yet). */
gboolean
cd_archive_vfs_count_reads(sqlite3 *db, gboolean wal, CdVfsReadFunc func, gpointer data)
{
  CdVfsFile *file = cd_vfs_file_of(db, wal ? SQLITE_FCNTL_JOURNAL_POINTER : SQLITE_FCNTL_FILE_POINTER);

  if (file == NULL)
    return FALSE;
  file->on_read = func;
  file->on_read_data = data;
  return TRUE;
}

/* Reads @db's database file, from now on, through one map of the whole
 * file, kept while the connection lives: for a connection that searches
 * again and again (chartdeskd's, the web server's), whose cache SQLite
 * drops on every commit elsewhere; @db's mmap_size must not be 0 (SQLite
 * asks for pages only then). A process that searches once keeps SQLite's
 * own map of the first 2 GiB and pread() past it: a new map costs it a
 * page fault a page, measured dearer there (docs/decisions.md). FALSE when
 * @db's file cannot be mapped. */
gboolean
cd_archive_vfs_map_whole(sqlite3 *db)
{
  CdVfsFile *file = cd_vfs_file_of(db, SQLITE_FCNTL_FILE_POINTER);

  if (file == NULL || !file->mappable)
    return FALSE;
  file->whole = TRUE;
  return TRUE;
}

/* How many of @db's database pages its map has served (0 unmapped), for
 * tests. */
guint64
cd_archive_vfs_mapped_reads(sqlite3 *db)
{
  CdVfsFile *file = cd_vfs_file_of(db, SQLITE_FCNTL_FILE_POINTER);

  return file != NULL ? file->mapped_reads : 0;
}
