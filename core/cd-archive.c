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
#include "cd-archive-schema.h"
#include "cd-document-private.h"
#include "cd-error.h"
#include "cd-page-private.h"
#include "cd-util-private.h"

/**
 * CdArchive:
 *
 * One archive: one SQLite file in WAL mode holding batches, documents,
 * pages with their images and text, the patient index, the review queue and
 * the audit log. This file is the only one in the tree that speaks SQL.
 *
 * A document is committed in one transaction. One process at a time may be
 * the batch writer (%CD_ARCHIVE_FLAG_WRITER), enforced with an advisory lock
 * on the database file; readers only append to the audit log, in short
 * transactions that wait for the writer's.
 *
 * Every read of patient data through this API (search, view, image, export)
 * appends an audit entry naming the actor; callers cannot forget to.
 *
 * Since: 0.1
 */
struct _CdArchive {
  GObject parent_instance;
  sqlite3 *db;
  gchar *path;
  CdArchiveFlags flags;
  gint lock_fd;    /* holds flock(LOCK_EX) while we are the writer, else -1 */
  gchar *actor;    /* who is recorded in the audit log */
  gchar *purpose;  /* why, recorded with each audit entry when set */
  GRecMutex mutex; /* the source thread checks files while the writer commits */
};

G_DEFINE_TYPE(CdArchive, cd_archive, G_TYPE_OBJECT)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

#define CD_ARCHIVE_APPLICATION_ID 0x43484454 /* "CHDT" */
#define CD_AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* Columns every page query selects, in this order, for cd_archive_page_json(). */
#define PAGE_COLUMNS                                                                                                   \
  "p.id, p.document_id, p.seq, p.kind, p.reason, p.source_path, p.source_page, p.source_sha256, p.xres, p.yres, "      \
  "p.image_sha256, p.rotation, p.skew, p.text, p.words, p.confidence, p.problems, p.facts, p.batch_id, "               \
  "i.format, i.width, i.height"
#define PAGE_FROM " FROM pages p LEFT JOIN images i ON i.sha256 = p.image_sha256 "

static void
cd_archive_finalize(GObject *object)
{
  CdArchive *self = CD_ARCHIVE(object);

  if (self->db != NULL)
    sqlite3_close_v2(self->db);
  /* closed only after SQLite let go of the file: closing any descriptor of
   * the database would drop SQLite's own POSIX locks on it */
  if (self->lock_fd >= 0)
    close(self->lock_fd);
  g_free(self->path);
  g_free(self->actor);
  g_free(self->purpose);
  g_rec_mutex_clear(&self->mutex);

  G_OBJECT_CLASS(cd_archive_parent_class)->finalize(object);
}

static void
cd_archive_class_init(CdArchiveClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->finalize = cd_archive_finalize;
}

static void
cd_archive_init(CdArchive *self)
{
  self->lock_fd = -1;
  self->actor = g_strdup(g_get_user_name());
  g_rec_mutex_init(&self->mutex);
}

/* Turns the connection's last error into a GError in our domain. */
static void
cd_archive_set_error(CdArchive *self, GError **error, const gchar *what)
{
  gint code = sqlite3_extended_errcode(self->db);
  gint primary = code & 0xff;
  CdError cd_code = CD_ERROR_ARCHIVE;

  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    cd_code = CD_ERROR_BUSY;
  g_set_error(error, CD_ERROR, cd_code, "%s: %s: %s", self->path, what, sqlite3_errmsg(self->db));
}

gboolean
cd_archive_exec(CdArchive *self, const gchar *sql, GError **error)
{
  if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    cd_archive_set_error(self, error, "cannot execute statement");
    return FALSE;
  }
  return TRUE;
}

sqlite3_stmt *
cd_archive_prepare(CdArchive *self, const gchar *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  if (sqlite3_prepare_v2(self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
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

static const gchar *
cd_column_text(sqlite3_stmt *stmt, gint idx)
{
  return (const gchar *) sqlite3_column_text(stmt, idx);
}

/*
 * A transaction guard: begun IMMEDIATE so the write lock is taken up front
 * (no deadlock upgrading from a read), rolled back by scope unless
 * committed. This replaces goto-based cleanup in every writer.
 */
struct _CdArchiveTxn {
  CdArchive *archive;
  gboolean done;
};

CdArchiveTxn *
cd_archive_txn_begin(CdArchive *self, GError **error)
{
  CdArchiveTxn *txn;

  if (!sqlite3_get_autocommit(self->db)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "%s: nested transaction", self->path);
    return NULL;
  }
  if (!cd_archive_exec(self, "BEGIN IMMEDIATE", error))
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
  return TRUE;
}

void
cd_archive_txn_free(CdArchiveTxn *txn)
{
  if (txn == NULL)
    return;
  if (!txn->done)
    sqlite3_exec(txn->archive->db, "ROLLBACK", NULL, NULL, NULL);
  g_free(txn);
}

/* Takes the single-writer lock. flock() locks are independent of the POSIX
 * record locks SQLite uses, so this neither blocks nor breaks readers. */
static gboolean
cd_archive_lock_writer(CdArchive *self, GError **error)
{
  self->lock_fd = g_open(self->path, O_RDONLY | O_CLOEXEC, 0);
  if (self->lock_fd < 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot open for locking: %s", self->path, g_strerror(errno));
    return FALSE;
  }
  if (flock(self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    gint saved = errno;
    if (saved == EWOULDBLOCK) {
      g_set_error(error, CD_ERROR, CD_ERROR_BUSY,
                  "%s: another process is writing to this archive (a batch is running); "
                  "wait for it to finish or use another archive",
                  self->path);
    } else {
      g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot lock: %s", self->path, g_strerror(saved));
    }
    return FALSE;
  }
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
  gint version = cd_archive_pragma_int(self, "user_version", error);
  gint app_id;

  if (version < 0)
    return FALSE;
  app_id = cd_archive_pragma_int(self, "application_id", error);
  if (app_id < 0)
    return FALSE;
  if (version > 0 && app_id != CD_ARCHIVE_APPLICATION_ID) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: is an SQLite database but not a Chartdesk archive", self->path);
    return FALSE;
  }
  if (version == 0 && app_id == 0) {
    g_autoptr(sqlite3_stmt) stmt =
        cd_archive_prepare(self, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'", error);
    if (stmt == NULL)
      return FALSE;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) > 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: is an SQLite database but not a Chartdesk archive",
                  self->path);
      return FALSE;
    }
  }
  if (version > CD_ARCHIVE_SCHEMA_VERSION) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE,
                "%s: schema version %d is newer than this Chartdesk understands (%d); upgrade Chartdesk", self->path,
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
    g_info("%s: migrated to schema %d", self->path, v + 1);
  }
  return TRUE;
}

/* SQLite takes a file of a few bytes for an empty database and would write
 * an archive over it; an existing file must be empty or start with SQLite's
 * header, so a document named by mistake is refused, not replaced. */
static gboolean
cd_archive_looks_like_sqlite(const gchar *path, GError **error)
{
  static const gchar magic[16] = "SQLite format 3";
  gchar head[16] = { 0 };
  gssize n;
  gint fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot read the archive: %s", path, g_strerror(errno));
    return FALSE;
  }
  n = read(fd, head, sizeof(head));
  close(fd);
  if (n == 0)
    return TRUE;
  if (n != sizeof(head) || memcmp(head, magic, sizeof(magic)) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: not a Chartdesk archive (not an SQLite database)", path);
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
  g_autoptr(CdArchive) self = NULL;
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
  if (exists && !cd_archive_looks_like_sqlite(path, error))
    return NULL;
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

  self = g_object_new(CD_TYPE_ARCHIVE, NULL);
  self->path = g_strdup(path);
  self->flags = flags;
  if (sqlite3_open_v2(path, &self->db, sql_flags, NULL) != SQLITE_OK) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot open the archive: %s", path,
                self->db != NULL ? sqlite3_errmsg(self->db) : "out of memory");
    return NULL;
  }
  sqlite3_extended_result_codes(self->db, 1);
  sqlite3_busy_timeout(self->db, 30000);

  /* a zero-byte or foreign file fails on the first read */
  if (cd_archive_pragma_int(self, "schema_version", NULL) < 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: not a Chartdesk archive: %s", path, sqlite3_errmsg(self->db));
    return NULL;
  }
  if ((flags & CD_ARCHIVE_FLAG_WRITER) != 0 && !cd_archive_lock_writer(self, error))
    return NULL;
  /* FULL, not NORMAL: a hot folder moves a file to done/ right after its
   * commit, so a commit must survive a power cut */
  if (!cd_archive_exec(self, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", error))
    return NULL;
  if (!cd_archive_migrate(self, error))
    return NULL;
  return g_steal_pointer(&self);
}

/**
 * cd_archive_get_path:
 * @self: a #CdArchive
 *
 * Returns: the archive file
 *
 * Since: 0.1
 */
const gchar *
cd_archive_get_path(CdArchive *self)
{
  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  return self->path;
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
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), -1);
  locker = g_rec_mutex_locker_new(&self->mutex);
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
  g_return_if_fail(CD_IS_ARCHIVE(self));
  g_return_if_fail(actor != NULL);
  g_free(self->actor);
  self->actor = g_strdup(actor);
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
  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  return self->actor;
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
  g_return_if_fail(CD_IS_ARCHIVE(self));
  g_free(self->purpose);
  self->purpose = g_strdup(purpose);
}

static gchar *
cd_archive_audit_hash(const gchar *prev, const gchar *ts, const gchar *actor, const gchar *action, const gchar *object,
                      const gchar *detail)
{
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  const gchar *parts[] = { prev, ts, actor, action, object, detail };

  for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
    g_checksum_update(sum, (const guchar *) parts[i], strlen(parts[i]));
    g_checksum_update(sum, (const guchar *) "\n", 1);
  }
  return g_strdup(g_checksum_get_string(sum));
}

/* Appends one chained entry; the caller holds a write transaction. */
gboolean
cd_archive_audit_locked(CdArchive *self, const gchar *action, const gchar *object, JsonNode *detail, GError **error)
{
  g_autoptr(sqlite3_stmt) last = NULL;
  g_autoptr(sqlite3_stmt) ins = NULL;
  g_autofree gchar *prev = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  g_autofree gchar *detail_str = NULL;
  g_autofree gchar *hash = NULL;
  g_autoptr(JsonNode) wrapped = NULL;

  /* the purpose travels inside the detail so it is covered by the hash */
  if (self->purpose != NULL) {
    g_autoptr(JsonObject) obj = json_object_new();
    json_object_set_string_member(obj, "purpose", self->purpose);
    if (detail != NULL)
      json_object_set_member(obj, "detail", json_node_copy(detail));
    wrapped = json_node_init_object(json_node_alloc(), obj);
    detail = wrapped;
  }
  detail_str = detail != NULL ? cd_json_to_string(detail) : g_strdup("{}");

  last = cd_archive_prepare(self, "SELECT hash FROM audit ORDER BY id DESC LIMIT 1", error);
  if (last == NULL)
    return FALSE;
  if (sqlite3_step(last) == SQLITE_ROW)
    prev = g_strdup(cd_column_text(last, 0));
  else
    prev = g_strdup(CD_AUDIT_GENESIS);
  hash = cd_archive_audit_hash(prev, ts, self->actor, action, object, detail_str);

  ins = cd_archive_prepare(self,
                           "INSERT INTO audit (ts, actor, action, object, detail, prev_hash, hash) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           error);
  if (ins == NULL)
    return FALSE;
  cd_bind_text(ins, 1, ts);
  cd_bind_text(ins, 2, self->actor);
  cd_bind_text(ins, 3, action);
  cd_bind_text(ins, 4, object);
  cd_bind_text(ins, 5, detail_str);
  cd_bind_text(ins, 6, prev);
  cd_bind_text(ins, 7, hash);
  return cd_archive_step_done(self, ins, error);
}

/**
 * cd_archive_audit:
 * @self: a #CdArchive
 * @action: what was done: `search`, `view`, `export`, `ingest`, ...
 * @object: what it was done to: `document:12`, `batch:3`, `archive`
 * @detail: (nullable): anything else worth keeping, as JSON
 * @error: return location for a #GError
 *
 * Appends an entry to the audit log, chained to the one before by its hash.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_audit(CdArchive *self, const gchar *action, const gchar *object, JsonNode *detail, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(action != NULL && object != NULL, FALSE);

  locker = g_rec_mutex_locker_new(&self->mutex);
  if (!sqlite3_get_autocommit(self->db))
    return cd_archive_audit_locked(self, action, object, detail, error);
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  if (!cd_archive_audit_locked(self, action, object, detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/**
 * cd_archive_verify_audit:
 * @self: a #CdArchive
 * @bad_entry: (out) (optional): the first entry that does not verify
 * @error: return location for a #GError
 *
 * Recomputes the hash chain of the audit log. An entry edited, deleted or
 * inserted behind the library's back breaks the chain at that point.
 *
 * Returns: %TRUE if the chain is whole; %FALSE with %CD_ERROR_INVALID_DATA
 *   naming the entry otherwise
 *
 * Since: 0.1
 */
gboolean
cd_archive_verify_audit(CdArchive *self, gint64 *bad_entry, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *prev = g_strdup(CD_AUDIT_GENESIS);
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(&self->mutex);
  stmt = cd_archive_prepare(
      self, "SELECT id, ts, actor, action, object, detail, prev_hash, hash FROM audit ORDER BY id", error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(stmt, 0);
    g_autofree gchar *hash = NULL;
    const gchar *stored_prev = cd_column_text(stmt, 6);
    const gchar *stored_hash = cd_column_text(stmt, 7);

    hash = cd_archive_audit_hash(prev, cd_column_text(stmt, 1), cd_column_text(stmt, 2), cd_column_text(stmt, 3),
                                 cd_column_text(stmt, 4), cd_column_text(stmt, 5));
    if (g_strcmp0(stored_prev, prev) != 0 || g_strcmp0(stored_hash, hash) != 0) {
      if (bad_entry != NULL)
        *bad_entry = id;
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                  "%s: audit log entry %" G_GINT64_FORMAT " does not match the hash chain: the log was altered "
                  "at or before this entry",
                  self->path, id);
      return FALSE;
    }
    g_free(prev);
    prev = g_strdup(stored_hash);
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read the audit log");
    return FALSE;
  }
  return TRUE;
}

static gboolean
cd_archive_require_writer(CdArchive *self, GError **error)
{
  if ((self->flags & CD_ARCHIVE_FLAG_WRITER) == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "%s: not opened as the batch writer", self->path);
    return FALSE;
  }
  return TRUE;
}

/**
 * cd_archive_begin_batch:
 * @self: a #CdArchive opened as writer
 * @workflow: the workflow's name
 * @inputs: (array zero-terminated=1): what the user asked to ingest
 * @error: return location for a #GError
 *
 * Returns: the new batch's id, or 0 with @error set
 *
 * Since: 0.1
 */
gint64
cd_archive_begin_batch(CdArchive *self, const gchar *workflow, const gchar *const *inputs, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) inputs_node = NULL;
  g_autofree gchar *inputs_json = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  g_autofree gchar *object = NULL;
  gint64 id;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), 0);
  locker = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_archive_require_writer(self, error))
    return 0;

  json_builder_begin_array(b);
  for (guint i = 0; inputs != NULL && inputs[i] != NULL; i++)
    json_builder_add_string_value(b, inputs[i]);
  json_builder_end_array(b);
  inputs_node = json_builder_get_root(b);
  inputs_json = cd_json_to_string(inputs_node);

  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return 0;
  stmt = cd_archive_prepare(self, "INSERT INTO batches (started, actor, workflow, inputs) VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return 0;
  cd_bind_text(stmt, 1, ts);
  cd_bind_text(stmt, 2, self->actor);
  cd_bind_text(stmt, 3, workflow);
  cd_bind_text(stmt, 4, inputs_json);
  if (!cd_archive_step_done(self, stmt, error))
    return 0;
  id = sqlite3_last_insert_rowid(self->db);
  object = g_strdup_printf("batch:%" G_GINT64_FORMAT, id);
  if (!cd_archive_audit_locked(self, "ingest-start", object, inputs_node, error))
    return 0;
  if (!cd_archive_txn_commit(txn, error))
    return 0;
  return id;
}

/**
 * cd_archive_end_batch:
 * @self: a #CdArchive opened as writer
 * @batch: the batch's tally
 * @status: `finished`, `cancelled` or `failed`
 * @error: return location for a #GError
 *
 * Stores the batch report and audits the ingest.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_end_batch(CdArchive *self, CdBatch *batch, const gchar *status, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) report = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) summary = NULL;
  g_autofree gchar *report_json = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  g_autofree gchar *object = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(CD_IS_BATCH(batch), FALSE);
  locker = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_archive_require_writer(self, error))
    return FALSE;

  report = cd_batch_to_json(batch);
  report_json = cd_json_to_string(report);
  /* the audit entry keeps the counts, not the whole item list */
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "status");
  json_builder_add_string_value(b, status);
  json_builder_set_member_name(b, "pages_in");
  json_builder_add_int_value(b, cd_batch_get_pages_in(batch));
  for (guint i = 0; i < CD_BATCH_OUTCOME_LAST; i++) {
    json_builder_set_member_name(b, cd_batch_outcome_to_string(i));
    json_builder_add_int_value(b, cd_batch_get_count(batch, i));
  }
  json_builder_end_object(b);
  summary = json_builder_get_root(b);

  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  stmt = cd_archive_prepare(self, "UPDATE batches SET finished = ?, status = ?, report = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, ts);
  cd_bind_text(stmt, 2, status);
  cd_bind_text(stmt, 3, report_json);
  sqlite3_bind_int64(stmt, 4, cd_batch_get_id(batch));
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  object = g_strdup_printf("batch:%" G_GINT64_FORMAT, cd_batch_get_id(batch));
  if (!cd_archive_audit_locked(self, "ingest", object, summary, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/**
 * cd_archive_find_file:
 * @self: a #CdArchive
 * @sha256: a file's SHA-256
 * @batch_id: (out) (optional): the batch that archived it
 * @error: return location for a #GError
 *
 * Returns: %TRUE if every page of a file with this content is archived;
 *   %FALSE if not, or on error (with @error set)
 *
 * Since: 0.1
 */
gboolean
cd_archive_find_file(CdArchive *self, const gchar *sha256, gint64 *batch_id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(&self->mutex);
  stmt = cd_archive_prepare(self, "SELECT batch_id FROM files WHERE sha256 = ?", error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, sha256);
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return FALSE;
  if (batch_id != NULL)
    *batch_id = sqlite3_column_int64(stmt, 0);
  return TRUE;
}

/**
 * cd_archive_has_page:
 * @self: a #CdArchive
 * @sha256: the source file's SHA-256
 * @page: the 0-based page index
 * @error: return location for a #GError
 *
 * Returns: %TRUE if that page of that file is already recorded
 *
 * Since: 0.1
 */
gboolean
cd_archive_has_page(CdArchive *self, const gchar *sha256, gint page, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  if (sha256 == NULL || page < 0)
    return FALSE;
  locker = g_rec_mutex_locker_new(&self->mutex);
  stmt = cd_archive_prepare(self, "SELECT 1 FROM pages WHERE source_sha256 = ? AND source_page = ?", error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, sha256);
  sqlite3_bind_int(stmt, 2, page);
  return sqlite3_step(stmt) == SQLITE_ROW;
}

/**
 * cd_archived_page_free:
 * @page: (nullable): a #CdArchivedPage
 *
 * Since: 0.1
 */
void
cd_archived_page_free(CdArchivedPage *page)
{
  if (page == NULL)
    return;
  g_free(page->source_path);
  g_free(page->reason);
  g_free(page);
}

/**
 * cd_archive_find_pages:
 * @self: a #CdArchive
 * @sha256: the source file's SHA-256
 * @page: a 0-based page index, or -1 for every page of the file
 * @error: return location for a #GError
 *
 * Says where archived input pages ended, and which batch archived them: a
 * page in a document is filed or in review (with the document's open
 * review reasons), a page kept out of documents is set aside or failed
 * (with its own reason). Whole-file failure records (page -1) are not
 * pages of the file and are never listed.
 *
 * Returns: (transfer container) (element-type CdArchivedPage): the pages
 *   found, in page order (empty when none is archived), or %NULL with
 *   @error set
 *
 * Since: 0.1
 */
GPtrArray *
cd_archive_find_pages(CdArchive *self, const gchar *sha256, gint page, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) pages = g_ptr_array_new_with_free_func((GDestroyNotify) cd_archived_page_free);
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  if (sha256 == NULL)
    return g_steal_pointer(&pages);
  locker = g_rec_mutex_locker_new(&self->mutex);
  stmt = cd_archive_prepare(self,
                            "SELECT p.id, p.batch_id, p.source_path, p.source_page, p.kind, p.reason, p.document_id, "
                            "d.status, (SELECT group_concat(r.reason, '; ') FROM review r "
                            "WHERE r.document_id = p.document_id AND r.resolved IS NULL) "
                            "FROM pages p LEFT JOIN documents d ON d.id = p.document_id "
                            "WHERE p.source_sha256 = ?1 AND p.source_page >= 0 AND (?2 < 0 OR p.source_page = ?2) "
                            "ORDER BY p.source_page",
                            error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, sha256);
  sqlite3_bind_int(stmt, 2, page);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    CdArchivedPage *p = g_new0(CdArchivedPage, 1);
    const gchar *kind = cd_column_text(stmt, 4);
    p->page_id = sqlite3_column_int64(stmt, 0);
    p->batch_id = sqlite3_column_int64(stmt, 1);
    p->source_path = g_strdup(cd_column_text(stmt, 2));
    p->source_page = sqlite3_column_int(stmt, 3);
    p->document_id = sqlite3_column_int64(stmt, 6);
    if (p->document_id > 0 && g_strcmp0(cd_column_text(stmt, 7), "review") == 0) {
      p->outcome = CD_BATCH_OUTCOME_REVIEW;
      p->reason = g_strdup(cd_column_text(stmt, 8) != NULL ? cd_column_text(stmt, 8) : "waiting for review");
    } else if (p->document_id > 0) {
      p->outcome = CD_BATCH_OUTCOME_FILED;
    } else {
      p->outcome = g_strcmp0(kind, "failed") == 0 ? CD_BATCH_OUTCOME_FAILED : CD_BATCH_OUTCOME_SET_ASIDE;
      p->reason = g_strdup(cd_column_text(stmt, 5));
    }
    g_ptr_array_add(pages, p);
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read archived pages");
    return NULL;
  }
  return g_steal_pointer(&pages);
}

static gchar *
cd_strv_ptr_array_to_json(GPtrArray *array)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;

  if (array == NULL || array->len == 0)
    return NULL;
  json_builder_begin_array(b);
  for (guint i = 0; i < array->len; i++)
    json_builder_add_string_value(b, g_ptr_array_index(array, i));
  json_builder_end_array(b);
  node = json_builder_get_root(b);
  return cd_json_to_string(node);
}

static gchar *
cd_words_to_json(GPtrArray *words)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;

  if (words->len == 0)
    return NULL;
  json_builder_begin_array(b);
  for (guint i = 0; i < words->len; i++) {
    CdWord *w = g_ptr_array_index(words, i);
    json_builder_begin_array(b);
    json_builder_add_int_value(b, w->x);
    json_builder_add_int_value(b, w->y);
    json_builder_add_int_value(b, w->width);
    json_builder_add_int_value(b, w->height);
    /* one decimal is all a confidence carries */
    json_builder_add_double_value(b, (gint) (w->confidence * 10 + 0.5) / 10.0);
    json_builder_add_int_value(b, w->line);
    json_builder_add_string_value(b, w->text);
    json_builder_end_array(b);
  }
  json_builder_end_array(b);
  node = json_builder_get_root(b);
  return cd_json_to_string(node);
}

static gchar *
cd_facts_to_json(CdPage *page)
{
  g_autoptr(GVariant) facts = cd_page_get_facts(page);
  g_autoptr(JsonNode) node = NULL;

  if (g_variant_n_children(facts) == 0)
    return NULL;
  node = json_gvariant_serialize(facts);
  return cd_json_to_string(node);
}

static gboolean
cd_archive_insert_image(CdArchive *self, CdPage *page, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GBytes *bytes = cd_page_get_image_bytes(page);
  gint width, height, depth, xres, yres;
  gsize size;
  gconstpointer data;

  if (bytes == NULL)
    return TRUE;
  stmt = cd_archive_prepare(self,
                            "INSERT OR IGNORE INTO images (sha256, format, width, height, depth, xres, yres, data) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            error);
  if (stmt == NULL)
    return FALSE;
  cd_page_get_image_info(page, &width, &height, &depth);
  cd_page_get_resolution(page, &xres, &yres);
  data = g_bytes_get_data(bytes, &size);
  cd_bind_text(stmt, 1, cd_page_get_image_sha256(page));
  cd_bind_text(stmt, 2, cd_page_get_image_format(page));
  sqlite3_bind_int(stmt, 3, width);
  sqlite3_bind_int(stmt, 4, height);
  sqlite3_bind_int(stmt, 5, depth);
  sqlite3_bind_int(stmt, 6, xres);
  sqlite3_bind_int(stmt, 7, yres);
  sqlite3_bind_blob64(stmt, 8, data, size, SQLITE_STATIC);
  return cd_archive_step_done(self, stmt, error);
}

/* Inserts one page row; the caller holds the transaction. */
static gboolean
cd_archive_insert_page(CdArchive *self, gint64 batch_id, gint64 document_id, gint seq, CdPage *page, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *words = NULL;
  g_autofree gchar *problems = NULL;
  g_autofree gchar *facts = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  gint xres, yres;

  if (!cd_archive_insert_image(self, page, error))
    return FALSE;
  stmt =
      cd_archive_prepare(self,
                         "INSERT INTO pages (batch_id, document_id, seq, kind, reason, source_path, source_page, "
                         "source_sha256, xres, yres, image_sha256, rotation, skew, text, words, confidence, "
                         "problems, facts, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         error);
  if (stmt == NULL)
    return FALSE;
  words = cd_words_to_json(cd_page_get_words(page));
  problems = cd_strv_ptr_array_to_json(cd_page_get_problems(page));
  facts = cd_facts_to_json(page);
  cd_page_get_resolution(page, &xres, &yres);

  sqlite3_bind_int64(stmt, 1, batch_id);
  if (document_id > 0) {
    sqlite3_bind_int64(stmt, 2, document_id);
    sqlite3_bind_int(stmt, 3, seq);
  }
  cd_bind_text(stmt, 4, cd_page_kind_to_string(cd_page_get_kind(page)));
  cd_bind_text(stmt, 5, cd_page_get_reason(page));
  cd_bind_text(stmt, 6, cd_page_get_source_path(page));
  sqlite3_bind_int(stmt, 7, cd_page_get_source_page(page));
  cd_bind_text(stmt, 8, cd_page_get_source_sha256(page));
  if (xres > 0)
    sqlite3_bind_int(stmt, 9, xres);
  if (yres > 0)
    sqlite3_bind_int(stmt, 10, yres);
  cd_bind_text(stmt, 11, cd_page_get_image_sha256(page));
  sqlite3_bind_int(stmt, 12, cd_page_get_rotation(page));
  sqlite3_bind_double(stmt, 13, cd_page_get_skew(page));
  cd_bind_text(stmt, 14, cd_page_get_text(page));
  cd_bind_text(stmt, 15, words);
  if (cd_page_get_confidence(page) >= 0)
    sqlite3_bind_double(stmt, 16, cd_page_get_confidence(page));
  cd_bind_text(stmt, 17, problems);
  cd_bind_text(stmt, 18, facts);
  cd_bind_text(stmt, 19, ts);
  if (!cd_archive_step_done(self, stmt, error)) {
    g_prefix_error(error, "%s page %d: ", cd_page_get_source_path(page), cd_page_get_source_page(page) + 1);
    return FALSE;
  }
  cd_page_set_id(page, sqlite3_last_insert_rowid(self->db));
  return TRUE;
}

static gboolean
cd_archive_insert_review(CdArchive *self, gint64 document_id, gint64 page_id, const gchar *reason, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *ts = cd_now_iso8601();

  stmt =
      cd_archive_prepare(self, "INSERT INTO review (document_id, page_id, reason, created) VALUES (?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  if (document_id > 0)
    sqlite3_bind_int64(stmt, 1, document_id);
  if (page_id > 0)
    sqlite3_bind_int64(stmt, 2, page_id);
  cd_bind_text(stmt, 3, reason);
  cd_bind_text(stmt, 4, ts);
  return cd_archive_step_done(self, stmt, error);
}

/**
 * cd_archive_commit_document:
 * @self: a #CdArchive opened as writer
 * @batch_id: the running batch
 * @document: the document with its pages
 * @error: return location for a #GError
 *
 * Stores the document, its pages, images and text, and its review entry if
 * it needs one, in one transaction: after a crash it is there whole or not
 * at all. On success the document and its pages carry their ids.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_commit_document(CdArchive *self, gint64 batch_id, CdDocument *document, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  GPtrArray *pages = cd_document_get_pages(document);
  gboolean review = cd_document_needs_review(document);
  gint64 doc_id;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(CD_IS_DOCUMENT(document), FALSE);
  locker = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_archive_require_writer(self, error))
    return FALSE;

  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  stmt = cd_archive_prepare(self,
                            "INSERT INTO documents (batch_id, patient_mrn, status, type, type_confidence, date, title, "
                            "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, batch_id);
  cd_bind_text(stmt, 2, cd_document_get_patient_mrn(document));
  cd_bind_text(stmt, 3, review ? "review" : "filed");
  cd_bind_text(stmt, 4, cd_document_get_doc_type(document));
  if (cd_document_get_doc_type(document) != NULL)
    sqlite3_bind_double(stmt, 5, cd_document_get_type_confidence(document));
  cd_bind_text(stmt, 6, cd_document_get_date(document));
  cd_bind_text(stmt, 7, cd_document_get_title(document));
  cd_bind_text(stmt, 8, ts);
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  doc_id = sqlite3_last_insert_rowid(self->db);

  for (guint i = 0; i < pages->len; i++) {
    if (!cd_archive_insert_page(self, batch_id, doc_id, i, g_ptr_array_index(pages, i), error))
      return FALSE;
  }
  if (review) {
    g_autoptr(GString) reason = g_string_new(NULL);
    GPtrArray *problems = cd_document_get_problems(document);
    for (guint i = 0; i < problems->len; i++)
      g_string_append_printf(reason, "%s%s", reason->len > 0 ? "; " : "", (gchar *) g_ptr_array_index(problems, i));
    for (guint i = 0; i < pages->len; i++) {
      GPtrArray *pp = cd_page_get_problems(g_ptr_array_index(pages, i));
      for (guint j = 0; j < pp->len; j++)
        g_string_append_printf(reason, "%spage %u: %s", reason->len > 0 ? "; " : "", i + 1,
                               (gchar *) g_ptr_array_index(pp, j));
    }
    if (reason->len == 0)
      g_string_append(reason, "no patient identified");
    if (!cd_archive_insert_review(self, doc_id, 0, reason->str, error))
      return FALSE;
  }
  if (!cd_archive_txn_commit(txn, error))
    return FALSE;
  cd_document_set_id(document, doc_id);
  return TRUE;
}

/**
 * cd_archive_commit_page:
 * @self: a #CdArchive opened as writer
 * @batch_id: the running batch
 * @page: a page kept out of documents: blank, cover, separator or failed
 * @error: return location for a #GError
 *
 * Records a page that is not part of a document, so that every input page
 * is accounted for. A failed page also enters the review queue. A failure
 * record for a file replaces earlier failure records of the same file and
 * page, so retrying a bad file does not pile up entries.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_commit_page(CdArchive *self, gint64 batch_id, CdPage *page, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  CdPageKind kind = cd_page_get_kind(page);

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(CD_IS_PAGE(page), FALSE);
  g_return_val_if_fail(kind != CD_PAGE_KIND_PAGE && kind != CD_PAGE_KIND_DUPLICATE, FALSE);
  locker = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_archive_require_writer(self, error))
    return FALSE;

  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  if (kind == CD_PAGE_KIND_FAILED) {
    g_autoptr(sqlite3_stmt) del_review = NULL;
    g_autoptr(sqlite3_stmt) del = NULL;
    const gchar *where = "kind = 'failed' AND source_path = ?1 AND source_page = ?2";
    g_autofree gchar *sql1 =
        g_strdup_printf("DELETE FROM review WHERE page_id IN (SELECT id FROM pages WHERE %s)", where);
    g_autofree gchar *sql2 = g_strdup_printf("DELETE FROM pages WHERE %s", where);
    del_review = cd_archive_prepare(self, sql1, error);
    del = cd_archive_prepare(self, sql2, error);
    if (del_review == NULL || del == NULL)
      return FALSE;
    cd_bind_text(del_review, 1, cd_page_get_source_path(page));
    sqlite3_bind_int(del_review, 2, cd_page_get_source_page(page));
    cd_bind_text(del, 1, cd_page_get_source_path(page));
    sqlite3_bind_int(del, 2, cd_page_get_source_page(page));
    if (!cd_archive_step_done(self, del_review, error) || !cd_archive_step_done(self, del, error))
      return FALSE;
  }
  if (!cd_archive_insert_page(self, batch_id, 0, 0, page, error))
    return FALSE;
  if (kind == CD_PAGE_KIND_FAILED &&
      !cd_archive_insert_review(self, 0, cd_page_get_id(page), cd_page_get_reason(page), error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/**
 * cd_archive_commit_file:
 * @self: a #CdArchive opened as writer
 * @batch_id: the running batch
 * @sha256: the file's SHA-256
 * @path: the file as named
 * @size: its size in bytes
 * @n_pages: how many pages it had
 * @error: return location for a #GError
 *
 * Marks a file as wholly recorded, after the last of its pages was
 * committed. Ingesting the same content again is then skipped up front.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_commit_file(CdArchive *self, gint64 batch_id, const gchar *sha256, const gchar *path, guint64 size,
                       guint n_pages, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *ts = cd_now_iso8601();

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_archive_require_writer(self, error))
    return FALSE;
  stmt = cd_archive_prepare(self,
                            "INSERT OR IGNORE INTO files (sha256, path, size, pages, batch_id, added) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, sha256);
  cd_bind_text(stmt, 2, path);
  sqlite3_bind_int64(stmt, 3, (sqlite3_int64) size);
  sqlite3_bind_int(stmt, 4, n_pages);
  sqlite3_bind_int64(stmt, 5, batch_id);
  cd_bind_text(stmt, 6, ts);
  return cd_archive_step_done(self, stmt, error);
}

/**
 * cd_search_hit_free:
 * @hit: (nullable): a #CdSearchHit
 *
 * Since: 0.1
 */
void
cd_search_hit_free(CdSearchHit *hit)
{
  if (hit == NULL)
    return;
  g_free(hit->patient_mrn);
  g_free(hit->doc_type);
  g_free(hit->date);
  g_free(hit->status);
  g_free(hit->source_path);
  g_free(hit->snippet);
  g_free(hit);
}

/**
 * cd_search_hits_to_json:
 * @hits: (element-type CdSearchHit): hits from cd_archive_search()
 * @text: (nullable): the query's words
 *
 * The search result as `chartdesk search --json` prints it and the
 * service's Search method returns it: `{"query", "hits": [{"page",
 * "document", "mrn", "type", "date", "status", "source": {"path", "page"},
 * "score", "snippet"}]}`.
 *
 * Returns: (transfer full): a JSON object
 *
 * Since: 0.1
 */
JsonNode *
cd_search_hits_to_json(GPtrArray *hits, const gchar *text)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "query");
  json_builder_add_string_value(b, text);
  json_builder_set_member_name(b, "hits");
  json_builder_begin_array(b);
  for (guint i = 0; i < hits->len; i++) {
    CdSearchHit *hit = g_ptr_array_index(hits, i);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "page");
    json_builder_add_int_value(b, hit->page_id);
    json_builder_set_member_name(b, "document");
    if (hit->document_id > 0)
      json_builder_add_int_value(b, hit->document_id);
    else
      json_builder_add_null_value(b);
    json_builder_set_member_name(b, "mrn");
    json_builder_add_string_value(b, hit->patient_mrn);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, hit->doc_type);
    json_builder_set_member_name(b, "date");
    json_builder_add_string_value(b, hit->date);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, hit->status);
    json_builder_set_member_name(b, "source");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, hit->source_path);
    json_builder_set_member_name(b, "page");
    json_builder_add_int_value(b, hit->source_page);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "score");
    json_builder_add_double_value(b, hit->score);
    json_builder_set_member_name(b, "snippet");
    json_builder_add_string_value(b, hit->snippet);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* Whether the user wrote FTS5 syntax rather than plain words: quotes,
 * grouping, prefix stars, column filters or the uppercase operators. */
static gboolean
cd_query_looks_like_fts(const gchar *text)
{
  g_auto(GStrv) tokens = NULL;

  if (strpbrk(text, "\"()*:^") != NULL)
    return TRUE;
  tokens = g_strsplit_set(text, " \t\n", -1);
  for (guint i = 0; tokens[i] != NULL; i++) {
    if (g_strv_contains((const gchar *const[]){ "AND", "OR", "NOT", "NEAR", NULL }, tokens[i]))
      return TRUE;
  }
  return FALSE;
}

/* Plain words become a conjunction of quoted FTS5 strings, so punctuation in
 * them (O'Brien, 03/14/1952, q.i.d.) is matched as the tokenizer sees it
 * instead of being parsed as syntax. */
gchar *
cd_query_plain_to_fts(const gchar *text)
{
  g_auto(GStrv) tokens = g_strsplit_set(text, " \t\n\r", -1);
  GString *out = g_string_new(NULL);

  for (guint i = 0; tokens[i] != NULL; i++) {
    gboolean has_word = FALSE;
    if (tokens[i][0] == '\0')
      continue;
    for (const gchar *p = tokens[i]; *p != '\0'; p = g_utf8_next_char(p)) {
      if (g_unichar_isalnum(g_utf8_get_char(p)))
        has_word = TRUE;
    }
    if (!has_word)
      continue;
    if (out->len > 0)
      g_string_append_c(out, ' ');
    g_string_append_c(out, '"');
    for (const gchar *p = tokens[i]; *p != '\0'; p++) {
      if (*p == '"')
        g_string_append_c(out, '"');
      g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
  }
  return g_string_free(out, FALSE);
}

static gboolean
cd_valid_date(const gchar *date)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autofree gchar *iso = NULL;

  if (date == NULL)
    return TRUE;
  if (strlen(date) != 10)
    return FALSE;
  iso = g_strdup_printf("%sT00:00:00Z", date);
  dt = g_date_time_new_from_iso8601(iso, NULL);
  return dt != NULL;
}

static gchar *
cd_archive_snippet(CdArchive *self, const gchar *match, gint64 page_id)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = cd_archive_prepare(self,
                            "SELECT snippet (pages_fts, 0, '[', ']', '…', 16) FROM pages_fts "
                            "WHERE pages_fts MATCH ? AND rowid = ?",
                            NULL);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, match);
  sqlite3_bind_int64(stmt, 2, page_id);
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return NULL;
  return g_strdup(cd_column_text(stmt, 0));
}

/* How many of the best text matches a filtered search considers before
 * applying type and date filters; see "Search" in the README. */
#define CD_SEARCH_FILTER_WINDOW 20000

/**
 * cd_archive_search:
 * @self: a #CdArchive
 * @query: what to look for
 * @error: return location for a #GError
 *
 * Full-text search over page text with patient, type and date filters,
 * best matches first. The text match runs first, bounded, and the filters
 * are joined to its result, so a filter never defeats the FTS5 index; a
 * patient filter instead narrows to that patient's pages first, which is
 * always the smaller set.
 *
 * A malformed FTS5 query fails with %CD_ERROR_QUERY. The search is audited
 * with the query and the number of hits.
 *
 * Returns: (transfer container) (element-type CdSearchHit): the hits
 *
 * Since: 0.1
 */
GPtrArray *
cd_archive_search(CdArchive *self, const CdSearchQuery *query, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(GPtrArray) hits = g_ptr_array_new_with_free_func((GDestroyNotify) cd_search_hit_free);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GString) sql = g_string_new(NULL);
  g_autofree gchar *match = NULL;
  g_autofree gchar *types_json = NULL; /* JSON array of the type names to match */
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  gboolean filtered;
  guint limit;
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(query != NULL, NULL);

  if (!cd_valid_date(query->date_from) || !cd_valid_date(query->date_to)) {
    g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "dates must be given as YYYY-MM-DD (got '%s')",
                !cd_valid_date(query->date_from) ? query->date_from : query->date_to);
    return NULL;
  }
  /* words from a command line need not be UTF-8; the query is read by
   * character and goes into the audit log's JSON (found by fuzzing) */
  if ((query->text != NULL && !g_utf8_validate(query->text, -1, NULL)) ||
      (query->mrn != NULL && !g_utf8_validate(query->mrn, -1, NULL))) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_QUERY, "malformed query: it is not valid UTF-8 text");
    return NULL;
  }
  if (query->text != NULL) {
    g_autofree gchar *stripped = g_strstrip(g_strdup(query->text));
    /* an empty text is a filter-only search */
    if (stripped[0] != '\0' && (query->plain || !cd_query_looks_like_fts(stripped)))
      match = cd_query_plain_to_fts(stripped);
    else if (stripped[0] != '\0')
      match = g_strdup(stripped);
    if (match != NULL && match[0] == '\0') {
      g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "malformed query '%s': it has no words to search for", query->text);
      return NULL;
    }
  }
  if (query->doc_types != NULL || query->doc_type != NULL) {
    g_autoptr(JsonBuilder) tb = json_builder_new();
    g_autoptr(JsonNode) tn = NULL;
    json_builder_begin_array(tb);
    if (query->doc_types != NULL) {
      for (guint i = 0; query->doc_types[i] != NULL; i++)
        json_builder_add_string_value(tb, query->doc_types[i]);
    } else {
      json_builder_add_string_value(tb, query->doc_type);
    }
    json_builder_end_array(tb);
    tn = json_builder_get_root(tb);
    types_json = cd_json_to_string(tn);
  }
  if (match == NULL && query->mrn == NULL && types_json == NULL && query->date_from == NULL && query->date_to == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_QUERY, "nothing to search for: give words or a filter");
    return NULL;
  }
  limit = query->limit > 0 ? query->limit : 20;
  filtered = types_json != NULL || query->date_from != NULL || query->date_to != NULL;

  locker = g_rec_mutex_locker_new(&self->mutex);
  if (match != NULL && query->mrn != NULL) {
    /* patient first: a patient has few pages, the text may match millions */
    g_string_append(sql, "SELECT p.id, p.document_id, d.patient_mrn, d.type, d.date, d.status, p.source_path, "
                         "p.source_page, f.rank FROM documents d CROSS JOIN pages p ON p.document_id = d.id "
                         "CROSS JOIN pages_fts f ON f.rowid = p.id "
                         "WHERE d.patient_mrn = ?2 AND pages_fts MATCH ?1 ");
  } else if (match != NULL) {
    g_string_append_printf(sql,
                           "WITH hits AS (SELECT rowid AS id, rank FROM pages_fts WHERE pages_fts MATCH ?1 "
                           "ORDER BY rank LIMIT %u) "
                           "SELECT p.id, p.document_id, d.patient_mrn, d.type, d.date, d.status, p.source_path, "
                           "p.source_page, h.rank FROM hits h JOIN pages p ON p.id = h.id "
                           "LEFT JOIN documents d ON d.id = p.document_id WHERE 1 ",
                           filtered ? CD_SEARCH_FILTER_WINDOW : limit + query->offset);
  } else {
    g_string_append(sql, "SELECT p.id, p.document_id, d.patient_mrn, d.type, d.date, d.status, p.source_path, "
                         "p.source_page, 0 FROM documents d JOIN pages p ON p.document_id = d.id AND p.seq = 0 "
                         "WHERE (?2 IS NULL OR d.patient_mrn = ?2) ");
  }
  g_string_append(sql,
                  "AND (?3 IS NULL OR d.type IN (SELECT value FROM json_each(?3))) AND (?4 IS NULL OR d.date >= ?4) "
                  "AND (?5 IS NULL OR d.date <= ?5) ");
  if (match != NULL)
    g_string_append(sql, "ORDER BY 9, 1 ");
  else
    g_string_append(sql, "ORDER BY d.date DESC, d.id ");
  g_string_append(sql, "LIMIT ?6 OFFSET ?7");

  stmt = cd_archive_prepare(self, sql->str, error);
  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, match);
  cd_bind_text(stmt, 2, query->mrn);
  cd_bind_text(stmt, 3, types_json);
  cd_bind_text(stmt, 4, query->date_from);
  cd_bind_text(stmt, 5, query->date_to);
  sqlite3_bind_int(stmt, 6, limit);
  sqlite3_bind_int(stmt, 7, query->offset);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    CdSearchHit *hit = g_new0(CdSearchHit, 1);
    hit->page_id = sqlite3_column_int64(stmt, 0);
    hit->document_id = sqlite3_column_int64(stmt, 1);
    hit->patient_mrn = g_strdup(cd_column_text(stmt, 2));
    hit->doc_type = g_strdup(cd_column_text(stmt, 3));
    hit->date = g_strdup(cd_column_text(stmt, 4));
    hit->status = g_strdup(cd_column_text(stmt, 5));
    hit->source_path = g_strdup(cd_column_text(stmt, 6));
    hit->source_page = sqlite3_column_int(stmt, 7);
    /* bm25 ranks lower-is-better and negative; report higher-is-better */
    hit->score = -sqlite3_column_double(stmt, 8);
    g_ptr_array_add(hits, hit);
  }
  if (rc != SQLITE_DONE) {
    const gchar *msg = sqlite3_errmsg(self->db);
    if (match != NULL && (g_str_has_prefix(msg, "fts5:") || strstr(msg, "syntax error") != NULL ||
                          strstr(msg, "no such column") != NULL || strstr(msg, "unterminated") != NULL)) {
      g_set_error(error, CD_ERROR, CD_ERROR_QUERY,
                  "malformed query '%s': %s (put words in double quotes, or search with --plain)", query->text, msg);
    } else {
      cd_archive_set_error(self, error, "search failed");
    }
    return NULL;
  }
  for (guint i = 0; match != NULL && i < hits->len; i++) {
    CdSearchHit *hit = g_ptr_array_index(hits, i);
    hit->snippet = cd_archive_snippet(self, match, hit->page_id);
  }

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "query");
  json_builder_add_string_value(b, query->text);
  json_builder_set_member_name(b, "mrn");
  json_builder_add_string_value(b, query->mrn);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, query->doc_type != NULL || query->doc_types == NULL ? query->doc_type
                                                                                       : query->doc_types[0]);
  json_builder_set_member_name(b, "from");
  json_builder_add_string_value(b, query->date_from);
  json_builder_set_member_name(b, "to");
  json_builder_add_string_value(b, query->date_to);
  json_builder_set_member_name(b, "hits");
  json_builder_add_int_value(b, hits->len);
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  if (!cd_archive_audit(self, "search", "archive", detail, error))
    return NULL;
  return g_steal_pointer(&hits);
}

static void
cd_json_add_string_or_null(JsonBuilder *b, const gchar *member, const gchar *value)
{
  json_builder_set_member_name(b, member);
  if (value != NULL)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void
cd_json_add_parsed(JsonBuilder *b, const gchar *member, const gchar *json, gboolean array)
{
  g_autoptr(JsonParser) parser = json_parser_new();

  json_builder_set_member_name(b, member);
  if (json != NULL && json_parser_load_from_data(parser, json, -1, NULL)) {
    json_builder_add_value(b, json_node_copy(json_parser_get_root(parser)));
    return;
  }
  if (array) {
    json_builder_begin_array(b);
    json_builder_end_array(b);
  } else {
    json_builder_begin_object(b);
    json_builder_end_object(b);
  }
}

/* Writes the members of one page row selected with PAGE_COLUMNS. The member
 * names are the stable export interface documented in the README. */
static void
cd_archive_page_json(JsonBuilder *b, sqlite3_stmt *stmt, gboolean in_document, gboolean with_words)
{
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, sqlite3_column_int64(stmt, 0));
  if (!in_document) {
    cd_json_add_string_or_null(b, "kind", cd_column_text(stmt, 3));
    cd_json_add_string_or_null(b, "reason", cd_column_text(stmt, 4));
    json_builder_set_member_name(b, "batch");
    json_builder_add_int_value(b, sqlite3_column_int64(stmt, 18));
  }
  json_builder_set_member_name(b, "source");
  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "path", cd_column_text(stmt, 5));
  json_builder_set_member_name(b, "page");
  if (sqlite3_column_int(stmt, 6) >= 0)
    json_builder_add_int_value(b, sqlite3_column_int(stmt, 6));
  else
    json_builder_add_null_value(b);
  cd_json_add_string_or_null(b, "sha256", cd_column_text(stmt, 7));
  json_builder_end_object(b);
  json_builder_set_member_name(b, "resolution");
  if (sqlite3_column_type(stmt, 8) != SQLITE_NULL) {
    json_builder_begin_array(b);
    json_builder_add_int_value(b, sqlite3_column_int(stmt, 8));
    json_builder_add_int_value(b, sqlite3_column_int(stmt, 9));
    json_builder_end_array(b);
  } else {
    json_builder_add_null_value(b);
  }
  json_builder_set_member_name(b, "image");
  if (sqlite3_column_type(stmt, 10) != SQLITE_NULL) {
    json_builder_begin_object(b);
    cd_json_add_string_or_null(b, "sha256", cd_column_text(stmt, 10));
    cd_json_add_string_or_null(b, "format", cd_column_text(stmt, 19));
    json_builder_set_member_name(b, "width");
    json_builder_add_int_value(b, sqlite3_column_int(stmt, 20));
    json_builder_set_member_name(b, "height");
    json_builder_add_int_value(b, sqlite3_column_int(stmt, 21));
    json_builder_end_object(b);
  } else {
    json_builder_add_null_value(b);
  }
  json_builder_set_member_name(b, "rotation");
  json_builder_add_int_value(b, sqlite3_column_int(stmt, 11));
  json_builder_set_member_name(b, "skew");
  json_builder_add_double_value(b, sqlite3_column_double(stmt, 12));
  cd_json_add_string_or_null(b, "text", cd_column_text(stmt, 13));
  json_builder_set_member_name(b, "confidence");
  if (sqlite3_column_type(stmt, 15) != SQLITE_NULL)
    json_builder_add_double_value(b, sqlite3_column_double(stmt, 15));
  else
    json_builder_add_null_value(b);
  if (with_words)
    cd_json_add_parsed(b, "words", cd_column_text(stmt, 14), TRUE);
  cd_json_add_parsed(b, "problems", cd_column_text(stmt, 16), TRUE);
  cd_json_add_parsed(b, "facts", cd_column_text(stmt, 17), FALSE);
}

static void
cd_archive_patient_json(CdArchive *self, JsonBuilder *b, const gchar *mrn)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  json_builder_set_member_name(b, "patient");
  if (mrn == NULL) {
    json_builder_add_null_value(b);
    return;
  }
  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "mrn", mrn);
  stmt = cd_archive_prepare(self, "SELECT family, given, middle, dob, sex FROM patients WHERE mrn = ?", NULL);
  if (stmt != NULL) {
    cd_bind_text(stmt, 1, mrn);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      cd_json_add_string_or_null(b, "family", cd_column_text(stmt, 0));
      cd_json_add_string_or_null(b, "given", cd_column_text(stmt, 1));
      cd_json_add_string_or_null(b, "middle", cd_column_text(stmt, 2));
      cd_json_add_string_or_null(b, "dob", cd_column_text(stmt, 3));
      cd_json_add_string_or_null(b, "sex", cd_column_text(stmt, 4));
    }
  }
  json_builder_end_object(b);
}

/* Builds the JSON object of one document, pages included. */
static JsonNode *
cd_archive_document_json(CdArchive *self, gint64 id, gboolean with_words, GError **error)
{
  g_autoptr(sqlite3_stmt) doc = NULL;
  g_autoptr(sqlite3_stmt) pages = NULL;
  g_autoptr(sqlite3_stmt) review = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  gint rc;

  doc = cd_archive_prepare(self,
                           "SELECT id, batch_id, patient_mrn, status, type, type_confidence, date, title, created "
                           "FROM documents WHERE id = ?",
                           error);
  if (doc == NULL)
    return NULL;
  sqlite3_bind_int64(doc, 1, id);
  if (sqlite3_step(doc) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, self->path, id);
    return NULL;
  }
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, id);
  json_builder_set_member_name(b, "batch");
  json_builder_add_int_value(b, sqlite3_column_int64(doc, 1));
  cd_archive_patient_json(self, b, cd_column_text(doc, 2));
  cd_json_add_string_or_null(b, "status", cd_column_text(doc, 3));
  cd_json_add_string_or_null(b, "type", cd_column_text(doc, 4));
  json_builder_set_member_name(b, "type_confidence");
  if (sqlite3_column_type(doc, 5) != SQLITE_NULL)
    json_builder_add_double_value(b, sqlite3_column_double(doc, 5));
  else
    json_builder_add_null_value(b);
  cd_json_add_string_or_null(b, "date", cd_column_text(doc, 6));
  cd_json_add_string_or_null(b, "title", cd_column_text(doc, 7));
  cd_json_add_string_or_null(b, "created", cd_column_text(doc, 8));

  review = cd_archive_prepare(self, "SELECT reason FROM review WHERE document_id = ? AND resolved IS NULL ORDER BY id",
                              error);
  if (review == NULL)
    return NULL;
  sqlite3_bind_int64(review, 1, id);
  json_builder_set_member_name(b, "review");
  json_builder_begin_array(b);
  while (sqlite3_step(review) == SQLITE_ROW)
    json_builder_add_string_value(b, cd_column_text(review, 0));
  json_builder_end_array(b);

  pages = cd_archive_prepare(self, "SELECT " PAGE_COLUMNS PAGE_FROM "WHERE p.document_id = ? ORDER BY p.seq", error);
  if (pages == NULL)
    return NULL;
  sqlite3_bind_int64(pages, 1, id);
  json_builder_set_member_name(b, "pages");
  json_builder_begin_array(b);
  while ((rc = sqlite3_step(pages)) == SQLITE_ROW) {
    json_builder_begin_object(b);
    cd_archive_page_json(b, pages, TRUE, with_words);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read pages");
    return NULL;
  }
  return json_builder_get_root(b);
}

static JsonNode *
cd_archive_page_record_json(CdArchive *self, sqlite3_stmt *stmt, gboolean with_words)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  cd_archive_page_json(b, stmt, FALSE, with_words);
  if (sqlite3_column_type(stmt, 1) != SQLITE_NULL) {
    json_builder_set_member_name(b, "document");
    json_builder_add_int_value(b, sqlite3_column_int64(stmt, 1));
    json_builder_set_member_name(b, "seq");
    json_builder_add_int_value(b, sqlite3_column_int(stmt, 2));
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/**
 * cd_archive_get_document:
 * @self: a #CdArchive
 * @id: a document id
 * @error: return location for a #GError
 *
 * Returns the document as the export prints it, words included. Audited as
 * a view.
 *
 * Returns: (transfer full): the document as JSON, or %NULL with @error set
 *
 * Since: 0.1
 */
JsonNode *
cd_archive_get_document(CdArchive *self, gint64 id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *object = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(&self->mutex);
  node = cd_archive_document_json(self, id, TRUE, error);
  if (node == NULL)
    return NULL;
  object = g_strdup_printf("document:%" G_GINT64_FORMAT, id);
  if (!cd_archive_audit(self, "view", object, NULL, error))
    return NULL;
  return g_steal_pointer(&node);
}

/**
 * cd_archive_get_page:
 * @self: a #CdArchive
 * @id: a page id
 * @error: return location for a #GError
 *
 * Returns one page record with words, its document id and position. Audited
 * as a view.
 *
 * Returns: (transfer full): the page as JSON, or %NULL with @error set
 *
 * Since: 0.1
 */
JsonNode *
cd_archive_get_page(CdArchive *self, gint64 id, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *object = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(&self->mutex);
  stmt = cd_archive_prepare(self, "SELECT " PAGE_COLUMNS PAGE_FROM "WHERE p.id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, id);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no page %" G_GINT64_FORMAT, self->path, id);
    return NULL;
  }
  node = cd_archive_page_record_json(self, stmt, TRUE);
  object = g_strdup_printf("page:%" G_GINT64_FORMAT, id);
  if (!cd_archive_audit(self, "view", object, NULL, error))
    return NULL;
  return g_steal_pointer(&node);
}

/**
 * cd_archive_get_page_image:
 * @self: a #CdArchive
 * @page_id: a page id
 * @format: (out) (optional) (transfer full): `tiff-g4` or `jpeg`
 * @error: return location for a #GError
 *
 * Returns the stored page image as it was archived. Audited.
 *
 * Returns: (transfer full): the encoded image, or %NULL with @error set
 *
 * Since: 0.1
 */
GBytes *
cd_archive_get_page_image(CdArchive *self, gint64 page_id, gchar **format, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree gchar *object = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(&self->mutex);
  stmt = cd_archive_prepare(self,
                            "SELECT i.format, i.data FROM pages p JOIN images i ON i.sha256 = p.image_sha256 "
                            "WHERE p.id = ?",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, page_id);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: page %" G_GINT64_FORMAT " has no stored image", self->path,
                page_id);
    return NULL;
  }
  bytes = g_bytes_new(sqlite3_column_blob(stmt, 1), sqlite3_column_bytes(stmt, 1));
  if (format != NULL)
    *format = g_strdup(cd_column_text(stmt, 0));
  object = g_strdup_printf("page:%" G_GINT64_FORMAT, page_id);
  if (!cd_archive_audit(self, "view-image", object, NULL, error))
    return NULL;
  return g_steal_pointer(&bytes);
}

static gboolean
cd_write_json_line(GOutputStream *out, JsonNode *node, GCancellable *cancellable, GError **error)
{
  g_autofree gchar *line = cd_json_to_string(node);
  if (!g_output_stream_write_all(out, line, strlen(line), NULL, cancellable, error))
    return FALSE;
  return g_output_stream_write_all(out, "\n", 1, NULL, cancellable, error);
}

/**
 * cd_archive_export_jsonl:
 * @self: a #CdArchive
 * @out: where to write
 * @with_words: include each page's word boxes
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Writes the archive as JSON Lines in the order pages were archived: one
 * object per document (at the place of its first page) and one per page kept
 * out of documents. Every archived input page appears exactly once. The
 * format is documented in the README as a stable interface. Audited.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_export_jsonl(CdArchive *self, GOutputStream *out, gboolean with_words, GCancellable *cancellable,
                        GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  gint64 last_doc = 0;
  guint n_docs = 0, n_pages = 0;
  gint rc;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(G_IS_OUTPUT_STREAM(out), FALSE);
  locker = g_rec_mutex_locker_new(&self->mutex);

  /* one read transaction: a consistent snapshot while a batch writes */
  if (!cd_archive_exec(self, "BEGIN", error))
    return FALSE;
  txn = g_new0(CdArchiveTxn, 1);
  txn->archive = self;
  stmt = cd_archive_prepare(self, "SELECT " PAGE_COLUMNS PAGE_FROM "ORDER BY p.id", error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    g_autoptr(JsonNode) node = NULL;
    gint64 doc_id = sqlite3_column_int64(stmt, 1);

    if (doc_id > 0) {
      /* a document's pages are committed together, so they are adjacent */
      if (doc_id == last_doc)
        continue;
      last_doc = doc_id;
      node = cd_archive_document_json(self, doc_id, with_words, error);
      if (node == NULL)
        return FALSE;
      n_docs++;
    } else {
      node = cd_archive_page_record_json(self, stmt, with_words);
      n_pages++;
    }
    if (!cd_write_json_line(out, node, cancellable, error))
      return FALSE;
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read pages");
    return FALSE;
  }
  g_clear_pointer(&txn, cd_archive_txn_free);

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "documents");
  json_builder_add_int_value(b, n_docs);
  json_builder_set_member_name(b, "pages_outside_documents");
  json_builder_add_int_value(b, n_pages);
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  return cd_archive_audit(self, "export", "archive", detail, error);
}

static void
cd_archive_check_count(CdArchive *self, GPtrArray *problems, const gchar *sql, const gchar *what)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, sql, NULL);
  if (stmt == NULL) {
    g_ptr_array_add(problems, g_strdup_printf("cannot run check: %s", sqlite3_errmsg(self->db)));
    return;
  }
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int64(stmt, 0) > 0)
    g_ptr_array_add(problems, g_strdup_printf("%" G_GINT64_FORMAT " %s", (gint64) sqlite3_column_int64(stmt, 0), what));
}

/**
 * cd_archive_check:
 * @self: a #CdArchive
 * @problems: (out) (transfer container) (element-type utf8): what is wrong
 * @error: return location for a #GError
 *
 * The sanity check behind `chartdesk check`: SQLite's integrity check, the
 * checksum of every stored image, images no page uses, documents without
 * pages, content pages without text, the full-text index against the pages,
 * and the audit chain.
 *
 * Returns: %TRUE if the checks ran (see @problems for their findings)
 *
 * Since: 0.1
 */
gboolean
cd_archive_check(CdArchive *self, GPtrArray **problems, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(sqlite3_stmt) integrity = NULL;
  g_autoptr(sqlite3_stmt) images = NULL;
  g_autoptr(GError) audit_error = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(problems != NULL, FALSE);
  locker = g_rec_mutex_locker_new(&self->mutex);

  integrity = cd_archive_prepare(self, "PRAGMA integrity_check", error);
  if (integrity == NULL)
    return FALSE;
  while (sqlite3_step(integrity) == SQLITE_ROW) {
    const gchar *msg = cd_column_text(integrity, 0);
    if (g_strcmp0(msg, "ok") != 0)
      g_ptr_array_add(found, g_strdup_printf("database: %s", msg));
  }

  images = cd_archive_prepare(self, "SELECT sha256, data FROM images", error);
  if (images == NULL)
    return FALSE;
  while (sqlite3_step(images) == SQLITE_ROW) {
    const gchar *key = cd_column_text(images, 0);
    g_autofree gchar *sum =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, sqlite3_column_blob(images, 1), sqlite3_column_bytes(images, 1));
    if (g_strcmp0(key, sum) != 0)
      g_ptr_array_add(found, g_strdup_printf("image %s: stored bytes hash to %s (corrupted)", key, sum));
  }
  cd_archive_check_count(self, found,
                         "SELECT count(*) FROM images WHERE sha256 NOT IN (SELECT image_sha256 FROM pages "
                         "WHERE image_sha256 IS NOT NULL)",
                         "stored images belong to no page (orphans)");
  cd_archive_check_count(self, found,
                         "SELECT count(*) FROM pages WHERE image_sha256 IS NOT NULL AND image_sha256 NOT IN "
                         "(SELECT sha256 FROM images)",
                         "pages point at a missing image");
  cd_archive_check_count(self, found,
                         "SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM pages p WHERE "
                         "p.document_id = d.id)",
                         "documents have no pages");
  cd_archive_check_count(self, found, "SELECT count(*) FROM pages WHERE kind = 'page' AND text IS NULL",
                         "content pages have no text (not recognised)");
  if (sqlite3_exec(self->db, "INSERT INTO pages_fts (pages_fts, rank) VALUES ('integrity-check', 1)", NULL, NULL,
                   NULL) != SQLITE_OK)
    g_ptr_array_add(found, g_strdup_printf("full-text index does not match the pages: %s", sqlite3_errmsg(self->db)));
  if (!cd_archive_verify_audit(self, NULL, &audit_error))
    g_ptr_array_add(found, g_strdup(audit_error->message));

  *problems = g_steal_pointer(&found);
  return TRUE;
}

GRecMutex *
cd_archive_get_mutex(CdArchive *self)
{
  return &self->mutex;
}

sqlite3 *
cd_archive_get_db(CdArchive *self)
{
  return self->db;
}
