/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include "cd-archive-private.h"
#include "cd-archive-spool.h"
#include "cd-archive-schema.h"
#include "cd-error.h"
#include "cd-util-private.h"

/*
 * CdSqliteArchive:
 *
 * One archive: one SQLite file in WAL mode holding batches, documents,
 * pages with their images and text, the patient index, the review queue and
 * the audit log. The files of archive/ are the only ones in the tree that
 * speak SQL.
 *
 * A document is committed in one transaction. One process at a time may be
 * the batch writer (%CD_ARCHIVE_FLAG_WRITER), enforced with an advisory lock
 * on a file of its own beside the archive (`ARCHIVE.lock`); readers only
 * append to the audit log, in short transactions that wait for the writer's.
 *
 * Nothing here opens the database file (or its `-wal` and `-shm`) except
 * SQLite: closing any descriptor of a file drops every POSIX lock the
 * process holds on it, SQLite's included, and another process closing its
 * connection would then take itself for the last one, checkpoint and delete
 * the WAL the writer is still committing into ("How To Corrupt An SQLite
 * Database File", 2.2).
 *
 * Every read of patient data through this API (search, view, image, export)
 * appends an audit entry naming the actor; callers cannot forget to.
 *
 * It implements the SDK's CdArchive (the patient index and models that
 * stages read); the rest of its API is the engine's (cd-archive-engine.h).
 */
struct _CdSqliteArchive {
  CdArchive parent_instance;
  sqlite3 *db;
  gchar *path;
  CdArchiveFlags flags;
  gint lock_fd;        /* ARCHIVE.lock, holding flock(LOCK_EX) while we are the writer, else -1 */
  gchar *actor;        /* who is recorded in the audit log */
  gchar *purpose;      /* why, recorded with each audit entry when set */
  GSList *pushed;      /* saved actor and purpose pairs of cd_archive_push_actor(), newest first */
  GRecMutex mutex;     /* the source thread checks files while the writer commits */
  CdAuditState *audit; /* key, archive id, anchor: cd-archive-audit.c */

  /* the principal acting and the types it may not see: cd-archive-access.c */
  CdArchiveAccess access;

  /* called after each write transaction commits (cd-archive-spool.h) */
  CdArchiveWriteNotify write_notify;
  gpointer write_notify_data;
};

G_DEFINE_FINAL_TYPE(CdSqliteArchive, cd_sqlite_archive, CD_TYPE_ARCHIVE)

#define CD_ARCHIVE_APPLICATION_ID 0x43484454 /* "CHDT" */
/* SQLite's own memory map of an archive (PRAGMA mmap_size; SQLite caps it
 * at 2 GiB in Debian's build); a long-lived connection's whole-file map
 * (cd-archive-vfs.c) needs it on too */
#define CD_ARCHIVE_MMAP_SIZE 68719476736
/* SQLite's page cache of a long-lived connection, in KiB (PRAGMA cache_size) */
#define CD_ARCHIVE_CACHE_KIB 65536

static void
cd_sqlite_archive_finalize(GObject *object)
{
  CdSqliteArchive *self = CD_SQLITE_ARCHIVE(object);

  if (self->db != NULL)
    sqlite3_close_v2(self->db);
  /* a file of its own: closing it touches none of SQLite's locks */
  if (self->lock_fd >= 0)
    close(self->lock_fd);
  g_slist_free_full(self->pushed, g_free);
  g_free(self->path);
  g_free(self->actor);
  g_free(self->purpose);
  cd_audit_state_free(self->audit);
  g_rec_mutex_clear(&self->mutex);
  cd_archive_access_clear(&self->access);

  G_OBJECT_CLASS(cd_sqlite_archive_parent_class)->finalize(object);
}

static const gchar *cd_sqlite_archive_get_path(CdArchive *archive);

static void
cd_sqlite_archive_class_init(CdSqliteArchiveClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdArchiveClass *archive_class = CD_ARCHIVE_CLASS(klass);

  object_class->finalize = cd_sqlite_archive_finalize;
  archive_class->get_path = cd_sqlite_archive_get_path;
  archive_class->lookup_patient = cd_sqlite_archive_lookup_patient;
  archive_class->resolve_patient = cd_sqlite_archive_resolve_patient;
  archive_class->find_patients = cd_sqlite_archive_find_patients;
  archive_class->load_model = cd_sqlite_archive_load_model;
}

static void
cd_sqlite_archive_init(CdSqliteArchive *self)
{
  self->lock_fd = -1;
  cd_archive_access_init(&self->access);
  self->actor = g_strdup(cd_principal_get_audit_name(self->access.principal));
  g_rec_mutex_init(&self->mutex);
}

/* Turns the connection's last error into a GError in our domain. */
void
cd_archive_set_error(CdArchive *self, GError **error, const gchar *what)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  gint code = sqlite3_extended_errcode(priv->db);
  gint primary = code & 0xff;
  CdError cd_code = CD_ERROR_ARCHIVE;

  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    cd_code = CD_ERROR_BUSY;
  g_set_error(error, CD_ERROR, cd_code, "%s: %s: %s", priv->path, what, sqlite3_errmsg(priv->db));
}

gboolean
cd_archive_exec(CdArchive *self, const gchar *sql, GError **error)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  if (sqlite3_exec(priv->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    cd_archive_set_error(self, error, "cannot execute statement");
    return FALSE;
  }
  return TRUE;
}

sqlite3_stmt *
cd_archive_prepare(CdArchive *self, const gchar *sql, GError **error)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  sqlite3_stmt *stmt = NULL;
  if (sqlite3_prepare_v2(priv->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
    cd_archive_set_error(self, error, "cannot prepare statement");
    return NULL;
  }
  return stmt;
}

/* Steps a statement expected to finish without rows. */
gboolean
cd_archive_step_done(CdArchive *self, sqlite3_stmt *stmt, GError **error)
{
  gint rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    cd_archive_set_error(self, error, "cannot write");
    return FALSE;
  }
  return TRUE;
}

/*
 * A transaction guard: begun IMMEDIATE so the write lock is taken up front
 * (no deadlock upgrading from a read), rolled back by scope unless
 * committed. This replaces goto-based cleanup in every writer.
 */
struct _CdArchiveTxn {
  CdArchive *archive;
  gboolean done;
  gboolean write; /* begun IMMEDIATE: its commit is announced */
};

CdArchiveTxn *
cd_archive_txn_begin(CdArchive *self, GError **error)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  CdArchiveTxn *txn;

  if (!sqlite3_get_autocommit(priv->db)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "%s: nested transaction", priv->path);
    return NULL;
  }
  if (!cd_archive_exec(self, "BEGIN IMMEDIATE", error))
    return NULL;
  txn = g_new0(CdArchiveTxn, 1);
  txn->archive = self;
  txn->write = TRUE;
  return txn;
}

/* A read transaction (deferred BEGIN): one consistent snapshot for a
 * long read while a batch writes; ended by scope (rolled back). */
CdArchiveTxn *
cd_archive_txn_begin_read(CdArchive *self, GError **error)
{
  CdArchiveTxn *txn;

  if (!cd_archive_exec(self, "BEGIN", error))
    return NULL;
  txn = g_new0(CdArchiveTxn, 1);
  txn->archive = self;
  return txn;
}

gboolean
cd_archive_txn_commit(CdArchiveTxn *txn, GError **error)
{
  if (!cd_archive_exec(txn->archive, "COMMIT", error))
    return FALSE;
  txn->done = TRUE;
  cd_archive_audit_committed(txn->archive);
  if (txn->write && CD_SQLITE_ARCHIVE(txn->archive)->write_notify != NULL)
    CD_SQLITE_ARCHIVE(txn->archive)->write_notify(txn->archive, CD_SQLITE_ARCHIVE(txn->archive)->write_notify_data);
  return TRUE;
}

/**
 * cd_archive_set_write_notify:
 * @notify: (nullable): called after each write transaction of this
 *   archive object commits (a document, a review decision, a batch), in
 *   the committing thread with the archive's lock held: it must return
 *   at once and not call the archive
 *
 * Lets a station's service wake its delivery when a review action made
 * through it commits, as it does for batches. Writes by other processes
 * (the command line) are not seen.
 */
void
cd_archive_set_write_notify(CdArchive *self, CdArchiveWriteNotify notify, gpointer user_data)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));

  priv->write_notify = notify;
  priv->write_notify_data = user_data;
}

void
cd_archive_txn_free(CdArchiveTxn *txn)
{
  if (txn == NULL)
    return;
  if (!txn->done) {
    sqlite3_exec(cd_archive_get_db(txn->archive), "ROLLBACK", NULL, NULL, NULL);
    cd_archive_audit_rolled_back(txn->archive);
  }
  g_free(txn);
}

/* Takes the single-writer lock: flock() on ARCHIVE.lock, a file of its own.
 * Never on the database file: a descriptor of it, once closed, would drop
 * the POSIX locks SQLite holds on it for every connection of the process.
 * The lock file is created mode 0600 (as the archive), and left in place:
 * removing it would let two writers lock two different files. */
static gboolean
cd_archive_lock_writer(CdArchive *self, GError **error)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  g_autofree gchar *lock_path = g_strdup_printf("%s.lock", priv->path);
  gint fd = g_open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  /* a reader may lock a lock file it can only read */
  if (fd < 0 && errno == EACCES)
    fd = g_open(lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot open the lock file %s: %s", priv->path, lock_path,
                g_strerror(errno));
    return FALSE;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    gint saved = errno;
    close(fd);
    if (saved == EWOULDBLOCK) {
      g_set_error(error, CD_ERROR, CD_ERROR_BUSY,
                  "%s: another process is writing to this archive (a batch is running); "
                  "wait for it to finish or use another archive",
                  priv->path);
    } else {
      g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot lock %s: %s", priv->path, lock_path,
                  g_strerror(saved));
    }
    return FALSE;
  }
  priv->lock_fd = fd;
  return TRUE;
}

static gint
cd_archive_pragma_int(CdArchive *self, const gchar *pragma, GError **error)
{
  g_autofree gchar *sql = g_strdup_printf("PRAGMA %s", pragma);
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, sql, error);
  if (stmt == NULL)
    return -1;
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    cd_archive_set_error(self, error, "cannot read the schema version");
    return -1;
  }
  return sqlite3_column_int(stmt, 0);
}

/* Brings the schema to CD_ARCHIVE_SCHEMA_VERSION, one migration per
 * transaction. A newer archive than this library knows is refused rather
 * than written to. */
static gboolean
cd_archive_migrate(CdArchive *self, GError **error)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  gint version = cd_archive_pragma_int(self, "user_version", error);
  gint app_id;

  if (version < 0)
    return FALSE;
  app_id = cd_archive_pragma_int(self, "application_id", error);
  if (app_id < 0)
    return FALSE;
  if (version > 0 && app_id != CD_ARCHIVE_APPLICATION_ID) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: is an SQLite database but not a Chartdesk archive", priv->path);
    return FALSE;
  }
  if (version == 0 && app_id == 0) {
    g_autoptr(sqlite3_stmt) stmt =
        cd_archive_prepare(self, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'", error);
    if (stmt == NULL)
      return FALSE;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) > 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: is an SQLite database but not a Chartdesk archive",
                  priv->path);
      return FALSE;
    }
  }
  if (version > CD_ARCHIVE_SCHEMA_VERSION) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE,
                "%s: schema version %d is newer than this Chartdesk understands (%d); upgrade Chartdesk", priv->path,
                version, CD_ARCHIVE_SCHEMA_VERSION);
    return FALSE;
  }
  for (gint v = version; v < CD_ARCHIVE_SCHEMA_VERSION; v++) {
    g_autoptr(CdArchiveTxn) txn = cd_archive_txn_begin(self, error);
    g_autofree gchar *bump = NULL;
    if (txn == NULL)
      return FALSE;
    /* another process may have migrated while we waited for the lock */
    if (cd_archive_pragma_int(self, "user_version", NULL) > v)
      continue;
    if (!cd_archive_exec(self, cd_archive_migrations[v], error)) {
      g_prefix_error(error, "migration to schema %d: ", v + 1);
      return FALSE;
    }
    bump = g_strdup_printf("PRAGMA user_version = %d; PRAGMA application_id = %d", v + 1, CD_ARCHIVE_APPLICATION_ID);
    if (!cd_archive_exec(self, bump, error))
      return FALSE;
    if (!cd_archive_txn_commit(txn, error))
      return FALSE;
    g_info("%s: migrated to schema %d", priv->path, v + 1);
  }
  return TRUE;
}

/* SQLite takes a file of a few bytes for an empty database and would write
 * an archive over it; an existing file must be empty or start with SQLite's
 * header, so a document named by mistake is refused, not replaced. The
 * header is read through the connection's own file handle, before anything
 * is written: a descriptor of our own, once closed, would drop SQLite's
 * locks (see CdArchive). */
static gboolean
cd_archive_check_header(CdArchive *self, GError **error)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  static const gchar magic[16] = "SQLite format 3";
  static const gchar zero[16] = { 0 };
  gchar head[16] = { 0 };
  sqlite3_file *file = NULL;
  gint rc;

  if (sqlite3_file_control(priv->db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || file == NULL ||
      file->pMethods == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot read the archive", priv->path);
    return FALSE;
  }
  /* not xFileSize(): SQLite reports a one-byte file as empty */
  rc = file->pMethods->xRead(file, head, sizeof(head), 0);
  if (rc == SQLITE_IOERR_SHORT_READ && memcmp(head, zero, sizeof(head)) == 0)
    return TRUE; /* empty */
  if (rc != SQLITE_OK || memcmp(head, magic, sizeof(magic)) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: not a Chartdesk archive (not an SQLite database)", priv->path);
    return FALSE;
  }
  return TRUE;
}

/**
 * cd_archive_open:
 * @path: the archive file
 * @flags: how to open it
 * @error: return location for a #GError
 *
 * Opens (and with %CD_ARCHIVE_FLAG_CREATE creates) an archive, migrating its
 * schema when it is older than this library's.
 *
 * Errors name the file: %CD_ERROR_NOT_FOUND when it does not exist,
 * %CD_ERROR_BUSY when another writer holds it, %CD_ERROR_ARCHIVE when it
 * cannot be written or is not an archive.
 *
 * Returns: (transfer full): the archive, or %NULL with @error set
 *
 * Since: 0.1
 */
CdArchive *
cd_archive_open(const gchar *path, CdArchiveFlags flags, GError **error)
{
  g_autoptr(CdSqliteArchive) self = NULL;
  gint sql_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
  gboolean exists;

  g_return_val_if_fail(path != NULL, NULL);

  exists = g_file_test(path, G_FILE_TEST_EXISTS);
  if (!exists && (flags & CD_ARCHIVE_FLAG_CREATE) == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no such archive", path);
    return NULL;
  }
  if (exists && g_file_test(path, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: is a folder, not an archive file", path);
    return NULL;
  }
  if (!exists) {
    g_autofree gchar *dir = g_path_get_dirname(path);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
      g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot create the archive: %s is not a folder", path, dir);
      return NULL;
    }
    if (g_access(dir, W_OK) != 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot create the archive: folder %s is not writable (%s)",
                  path, dir, g_strerror(errno));
      return NULL;
    }
    sql_flags |= SQLITE_OPEN_CREATE;
  } else if (g_access(path, W_OK) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: the archive is not writable (%s)", path, g_strerror(errno));
    return NULL;
  }

  self = g_object_new(CD_TYPE_SQLITE_ARCHIVE, NULL);
  self->path = g_strdup(path);
  self->flags = flags;
  if (sqlite3_open_v2(path, &self->db, sql_flags, cd_archive_vfs_mapped()) != SQLITE_OK) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot open the archive: %s", path,
                self->db != NULL ? sqlite3_errmsg(self->db) : "out of memory");
    return NULL;
  }
  sqlite3_extended_result_codes(self->db, 1);
  sqlite3_busy_timeout(self->db, 30000);
  /* SQLite created it 0644 less the umask; nothing is written yet, and its
   * -wal and -shm take this mode when SQLite creates them */
  if (!exists && g_chmod(path, 0600) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot make the archive private: %s", path, g_strerror(errno));
    return NULL;
  }
  if (exists && !cd_archive_check_header(CD_ARCHIVE(self), error))
    return NULL;

  /* a zero-byte or foreign file fails on the first read */
  if (cd_archive_pragma_int(CD_ARCHIVE(self), "schema_version", NULL) < 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: not a Chartdesk archive: %s", path, sqlite3_errmsg(self->db));
    return NULL;
  }
  if ((flags & CD_ARCHIVE_FLAG_WRITER) != 0 && !cd_archive_lock_writer(CD_ARCHIVE(self), error))
    return NULL;
  /* FULL, not NORMAL: a hot folder moves a file to done/ right after its
   * commit, so a commit must survive a power cut */
  if (!cd_archive_exec(CD_ARCHIVE(self),
                       "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", error))
    return NULL;
  if (!cd_archive_migrate(CD_ARCHIVE(self), error))
    return NULL;
  /* reads through a memory map rather than one pread() a database page:
   * a search walks indexes spread over the whole file, and each process
   * (a CLI search) starts with an empty page cache (issue 18); SQLite caps
   * it at its SQLITE_MAX_MMAP_SIZE (2 GiB in Debian's build), and writes
   * still go through write(). A long-lived connection maps the whole file
   * instead (cd_archive_keep_pages(), cd-archive-vfs.c); both need this
   * on, for SQLite asks its VFS for pages only then. */
  if (!cd_archive_exec(CD_ARCHIVE(self), "PRAGMA mmap_size = " G_STRINGIFY(CD_ARCHIVE_MMAP_SIZE), error))
    return NULL;
  if (!cd_archive_access_load_restricted(CD_ARCHIVE(self), error))
    return NULL;
  return CD_ARCHIVE(g_steal_pointer(&self));
}

static const gchar *
cd_sqlite_archive_get_path(CdArchive *archive)
{
  return CD_SQLITE_ARCHIVE(archive)->path;
}

/**
 * cd_archive_get_schema_version:
 * @self: a #CdArchive
 *
 * Returns: the schema version of the open archive
 *
 * Since: 0.1
 */
gint
cd_archive_get_schema_version(CdArchive *self)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), -1);
  locker = g_rec_mutex_locker_new(&priv->mutex);
  return cd_archive_pragma_int(self, "user_version", NULL);
}

/**
 * cd_archive_set_actor:
 * @self: a #CdArchive
 * @actor: who is acting: a user name, or `dbus:UID` for a service caller
 *
 * Sets the name the audit log records. The default is the user running the
 * process.
 *
 * Since: 0.1
 */
void
cd_archive_set_actor(CdArchive *self, const gchar *actor)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_if_fail(CD_IS_ARCHIVE(self));
  g_return_if_fail(actor != NULL);
  /* under the lock: another thread may have pushed its own actor */
  locker = g_rec_mutex_locker_new(&priv->mutex);
  g_free(priv->actor);
  priv->actor = g_strdup(actor);
}

/**
 * cd_archive_get_actor:
 * @self: a #CdArchive
 *
 * Returns: who the audit log records
 *
 * Since: 0.1
 */
const gchar *
cd_archive_get_actor(CdArchive *self)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  return priv->actor;
}

/**
 * cd_archive_set_purpose:
 * @self: a #CdArchive
 * @purpose: (nullable): why the actor is reading (a request number)
 *
 * Recorded with every following audit entry.
 *
 * Since: 0.1
 */
void
cd_archive_set_purpose(CdArchive *self, const gchar *purpose)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_if_fail(CD_IS_ARCHIVE(self));
  locker = g_rec_mutex_locker_new(&priv->mutex);
  g_free(priv->purpose);
  priv->purpose = g_strdup(purpose);
}

/**
 * cd_archive_push_actor:
 * @self: a #CdArchive
 * @actor: who is acting
 * @purpose: (nullable): why
 *
 * Holds the archive for the calling thread, with @actor and @purpose in the
 * audit log, until cd_archive_pop_actor() restores the ones before; other
 * threads' calls wait meanwhile. This lets one open archive serve callers
 * of several identities at once (chartdeskd keeps one connection per
 * archive, see cd_archive_open()).
 *
 * Since: 0.2
 */
void
cd_archive_push_actor(CdArchive *self, const gchar *actor, const gchar *purpose)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  g_return_if_fail(CD_IS_ARCHIVE(self));
  g_return_if_fail(actor != NULL);
  g_rec_mutex_lock(&priv->mutex);
  priv->pushed = g_slist_prepend(priv->pushed, g_steal_pointer(&priv->actor));
  priv->pushed = g_slist_prepend(priv->pushed, g_steal_pointer(&priv->purpose));
  priv->actor = g_strdup(actor);
  priv->purpose = g_strdup(purpose);
  cd_archive_access_push(self);
}

/**
 * cd_archive_pop_actor:
 * @self: a #CdArchive held by cd_archive_push_actor()
 *
 * Restores the actor and purpose from before the matching push and lets
 * other threads in again.
 *
 * Since: 0.2
 */
void
cd_archive_pop_actor(CdArchive *self)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  g_return_if_fail(CD_IS_ARCHIVE(self));
  g_return_if_fail(priv->pushed != NULL);
  cd_archive_access_pop(self);
  g_free(priv->purpose);
  priv->purpose = priv->pushed->data;
  priv->pushed = g_slist_delete_link(priv->pushed, priv->pushed);
  g_free(priv->actor);
  priv->actor = priv->pushed->data;
  priv->pushed = g_slist_delete_link(priv->pushed, priv->pushed);
  g_rec_mutex_unlock(&priv->mutex);
}

/**
 * cd_archive_acquire_writer:
 * @self: a #CdArchive
 * @error: return location for a #GError
 *
 * Makes an open archive its batch writer, as %CD_ARCHIVE_FLAG_WRITER does
 * at open: %CD_ERROR_BUSY when another connection or process is. A service
 * that shares one connection between readers and a batch takes the lock
 * for the batch only.
 *
 * Returns: %TRUE if this connection is now the writer
 *
 * Since: 0.2
 */
gboolean
cd_archive_acquire_writer(CdArchive *self, GError **error)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(&priv->mutex);
  if (priv->lock_fd >= 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_BUSY, "%s: this connection is already the archive's writer", priv->path);
    return FALSE;
  }
  if (!cd_archive_lock_writer(self, error))
    return FALSE;
  priv->flags |= CD_ARCHIVE_FLAG_WRITER;
  return TRUE;
}

/**
 * cd_archive_release_writer:
 * @self: a #CdArchive
 *
 * Gives up the writer's lock taken by cd_archive_acquire_writer() or at
 * open; the archive stays open for reads.
 *
 * Since: 0.2
 */
void
cd_archive_release_writer(CdArchive *self)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_if_fail(CD_IS_ARCHIVE(self));
  locker = g_rec_mutex_locker_new(&priv->mutex);
  if (priv->lock_fd >= 0)
    close(priv->lock_fd);
  priv->lock_fd = -1;
  priv->flags &= ~CD_ARCHIVE_FLAG_WRITER;
}

/**
 * cd_archive_keep_pages:
 * @self: a #CdArchive
 *
 * Has this connection read the file through one memory map of the whole
 * of it, kept while it lives, and keep up to 64 MiB of the pages it reads
 * otherwise (from the WAL, pages it writes) in SQLite's cache (2 MiB by
 * default): for a connection that answers one search after another,
 * chartdeskd's and the web server's. SQLite maps at most 2 GiB of a file
 * by itself (Debian's build) and drops its whole cache whenever another
 * connection has committed, which another process's search does (its
 * audit entry), so a filtered search at 10 M pages read its pages again
 * with pread() on every search. A process that answers one search (the
 * command line) keeps the defaults: a fresh map, or a fresh big cache,
 * filled page by page cost it more than the reads it saved.
 *
 * Since: 0.4
 */
void
cd_archive_keep_pages(CdArchive *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_if_fail(CD_IS_ARCHIVE(self));
  locker = g_rec_mutex_locker_new(&CD_SQLITE_ARCHIVE(self)->mutex);
  if (!cd_archive_exec(self, "PRAGMA cache_size = -" G_STRINGIFY(CD_ARCHIVE_CACHE_KIB), &error)) {
    g_warning("%s: %s", CD_SQLITE_ARCHIVE(self)->path, error->message);
    g_clear_error(&error);
  }
  /* and its pages read from one map of the whole file: SQLite drops its
   * cache whenever another connection has committed (another process's
   * search writes an audit entry), and read the pages past its own map's
   * 2 GiB again with pread() */
  cd_archive_vfs_map_whole(CD_SQLITE_ARCHIVE(self)->db);
}

/**
 * cd_archive_close_without_checkpoint:
 * @self: a #CdArchive
 *
 * Says that another file has been put at the archive's path (a restored
 * copy, say) while this connection was open on the old one: when the
 * connection closes, it neither checkpoints nor removes the `-wal` and
 * `-shm` files by name, which may now be the new file's.
 *
 * Since: 0.4
 */
void
cd_archive_close_without_checkpoint(CdArchive *self)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_if_fail(CD_IS_ARCHIVE(self));
  locker = g_rec_mutex_locker_new(&priv->mutex);
  if (priv->db != NULL)
    sqlite3_db_config(priv->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
}

gboolean
cd_archive_require_writer(CdArchive *self, GError **error)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  if ((priv->flags & CD_ARCHIVE_FLAG_WRITER) == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "%s: not opened as the batch writer", priv->path);
    return FALSE;
  }
  return TRUE;
}

CdArchiveAccess *
cd_archive_get_access(CdArchive *self)
{
  return &CD_SQLITE_ARCHIVE(self)->access;
}

GRecMutex *
cd_archive_get_mutex(CdArchive *self)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  return &priv->mutex;
}

sqlite3 *
cd_archive_get_db(CdArchive *self)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  return priv->db;
}

CdAuditState **
cd_archive_get_audit_state(CdArchive *self)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  return &priv->audit;
}

const gchar *
cd_archive_get_purpose(CdArchive *self)
{
  CdSqliteArchive *priv = CD_SQLITE_ARCHIVE(self);
  return priv->purpose;
}
