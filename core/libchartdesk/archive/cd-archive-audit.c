/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The audit log: a keyed chain (HMAC-SHA256) whose key lives outside the
 * archive, and an anchor beside the archive that the key holder rewrites
 * after every commit, so that an entry edited, deleted, replaced or
 * dropped from the end, or a whole log rewritten without the key, is
 * detected.
 *
 * Entry MAC, for entry @id of the archive whose random id is @archive_id:
 *
 *   HMAC-SHA256(key, lp("chartdesk-audit-1") lp(archive_id) lp(id) lp(prev)
 *                    lp(ts) lp(actor) lp(action) lp(object) lp(detail))
 *
 * where lp(x) is x's length as 8 bytes big-endian followed by x, @id is
 * written in decimal and @prev is the chain value of the entry before (its
 * MAC, the last plain SHA-256 hash of an archive older than schema 4, or
 * 64 zeros for the first entry). Entries written before schema 4 keep their
 * plain SHA-256 chain (scheme 0); the first keyed entry after them is an
 * `audit-seal` entry whose MAC covers the last of their hashes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-util-private.h"

#define CD_AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
#define CD_AUDIT_SCHEME_SHA256 0 /* entries written before schema 4 */
#define CD_AUDIT_SCHEME_HMAC 1
#define CD_AUDIT_KEY_MIN 16
#define CD_AUDIT_KEY_MAX 4096
#define CD_AUDIT_KEY_NEW 32

struct _CdAuditState {
  GBytes *key;        /* NULL until given or resolved from the defaults */
  gchar *key_id;      /* a fingerprint of the key, safe to show and store */
  gchar *anchor_path; /* ARCHIVE.audit-anchor unless set */
  gchar *archive_id;  /* cached from meta */
  gint64 pending_id;  /* the newest entry of the open transaction, 0 if none */
  gchar *pending_mac;
};

G_LOCK_DEFINE_STATIC(default_key);
static GBytes *default_key; /* cd_audit_key_set_default() */

void
cd_audit_state_free(CdAuditState *state)
{
  if (state == NULL)
    return;
  g_clear_pointer(&state->key, g_bytes_unref);
  g_free(state->key_id);
  g_free(state->anchor_path);
  g_free(state->archive_id);
  g_free(state->pending_mac);
  g_free(state);
}

static CdAuditState *
cd_audit_state(CdArchive *self)
{
  CdAuditState **slot = cd_archive_get_audit_state(self);
  if (*slot == NULL) {
    *slot = g_new0(CdAuditState, 1);
    (*slot)->anchor_path = g_strdup_printf("%s.audit-anchor", cd_archive_get_path(self));
  }
  return *slot;
}

static void
cd_audit_set_db_error(CdArchive *self, GError **error, const gchar *what)
{
  g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: %s: %s", cd_archive_get_path(self), what,
              sqlite3_errmsg(cd_archive_get_db(self)));
}

/* ------------------------------------------------------------ the MAC */

static void
cd_hmac_field(GHmac *hmac, const gchar *value)
{
  guint64 len = value != NULL ? strlen(value) : 0;
  guint64 be = GUINT64_TO_BE(len);
  g_hmac_update(hmac, (const guchar *) &be, sizeof(be));
  if (len > 0)
    g_hmac_update(hmac, (const guchar *) value, len);
}

/* HMAC-SHA256 of the length-prefixed @fields, as lowercase hex. */
static gchar *
cd_audit_mac(GBytes *key, const gchar *const *fields, guint n_fields)
{
  gsize key_len;
  const guchar *key_data = g_bytes_get_data(key, &key_len);
  g_autoptr(GHmac) hmac = g_hmac_new(G_CHECKSUM_SHA256, key_data, key_len);

  for (guint i = 0; i < n_fields; i++)
    cd_hmac_field(hmac, fields[i]);
  return g_strdup(g_hmac_get_string(hmac));
}

gchar *
cd_audit_entry_mac(GBytes *key, const gchar *archive_id, gint64 id, const gchar *prev, const gchar *ts,
                   const gchar *actor, const gchar *action, const gchar *object, const gchar *detail)
{
  g_autofree gchar *id_str = g_strdup_printf("%" G_GINT64_FORMAT, id);
  const gchar *fields[] = { "chartdesk-audit-1", archive_id, id_str, prev, ts, actor, action, object, detail };
  return cd_audit_mac(key, fields, G_N_ELEMENTS(fields));
}

gchar *
cd_audit_anchor_mac(GBytes *key, const gchar *archive_id, gint64 id, const gchar *mac)
{
  g_autofree gchar *id_str = g_strdup_printf("%" G_GINT64_FORMAT, id);
  const gchar *fields[] = { "chartdesk-audit-anchor-1", archive_id, id_str, mac };
  return cd_audit_mac(key, fields, G_N_ELEMENTS(fields));
}

/* The plain chain of entries written before schema 4. */
gchar *
cd_audit_legacy_hash(const gchar *prev, const gchar *ts, const gchar *actor, const gchar *action, const gchar *object,
                     const gchar *detail)
{
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  const gchar *parts[] = { prev, ts, actor, action, object, detail };

  for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
    if (parts[i] != NULL)
      g_checksum_update(sum, (const guchar *) parts[i], strlen(parts[i]));
    g_checksum_update(sum, (const guchar *) "\n", 1);
  }
  return g_strdup(g_checksum_get_string(sum));
}

/* A fingerprint of the key, stored in the archive so that a process holding
 * another key is refused before it writes a single entry. */
gchar *
cd_audit_key_fingerprint(GBytes *key)
{
  const gchar *fields[] = { "chartdesk-audit-key-id" };
  g_autofree gchar *mac = cd_audit_mac(key, fields, G_N_ELEMENTS(fields));
  return g_strndup(mac, 16);
}

/* ------------------------------------------------------------ the key */

/**
 * cd_audit_key_get_default_path:
 *
 * Where a process that was given no audit key finds one:
 * `CHARTDESK_AUDIT_KEY` when set, else `$XDG_CONFIG_HOME/chartdesk/audit.key`.
 *
 * Returns: (transfer full): a file name
 *
 * Since: 0.1
 */
gchar *
cd_audit_key_get_default_path(void)
{
  const gchar *env = g_getenv("CHARTDESK_AUDIT_KEY");
  if (env != NULL && env[0] != '\0')
    return g_strdup(env);
  return g_build_filename(g_get_user_config_dir(), "chartdesk", "audit.key", NULL);
}

/* Writes a new key of random bytes next to @path and links it into place,
 * so that two processes creating it at once end with one key, whole. */
static gboolean
cd_audit_key_create(const gchar *path, GError **error)
{
  g_autofree gchar *dir = g_path_get_dirname(path);
  g_autofree gchar *tmp = NULL;
  guchar bytes[CD_AUDIT_KEY_NEW];
  gssize n;
  gint fd;
  gint rc;

  if (g_mkdir_with_parents(dir, 0700) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot create the audit key's folder: %s", path,
                g_strerror(errno));
    return FALSE;
  }
  fd = g_open("/dev/urandom", O_RDONLY | O_CLOEXEC, 0);
  n = fd >= 0 ? read(fd, bytes, sizeof(bytes)) : -1;
  if (fd >= 0)
    close(fd);
  if (n != (gssize) sizeof(bytes)) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot read random bytes for a new audit key", path);
    return FALSE;
  }
  tmp = g_strdup_printf("%s.XXXXXX", path);
  fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot create the audit key: %s", path, g_strerror(errno));
    return FALSE;
  }
  n = write(fd, bytes, sizeof(bytes));
  memset(bytes, 0, sizeof(bytes));
  rc = n == (gssize) sizeof(bytes) ? fsync(fd) : -1;
  close(fd);
  if (rc != 0 || (link(tmp, path) != 0 && errno != EEXIST)) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot create the audit key: %s", path, g_strerror(errno));
    g_unlink(tmp);
    return FALSE;
  }
  g_unlink(tmp);
  g_message("%s: created a new audit key", path);
  return TRUE;
}

/**
 * cd_audit_key_load:
 * @path: (nullable): the key file, or %NULL for cd_audit_key_get_default_path()
 * @create: create the file (mode 0600, 32 random bytes) when it does not exist
 * @error: return location for a #GError
 *
 * Reads an audit key: the file's bytes, 16 to 4096 of them. A key file that
 * its group or others may read or write is refused, as ssh refuses such a
 * private key: anyone who can read it can forge the audit log.
 *
 * Returns: (transfer full): the key, or %NULL with @error set
 *
 * Since: 0.1
 */
GBytes *
cd_audit_key_load(const gchar *path, gboolean create, GError **error)
{
  g_autofree gchar *file = path != NULL ? g_strdup(path) : cd_audit_key_get_default_path();
  g_autofree gchar *data = NULL;
  struct stat st;
  gsize len = 0;
  gint fd;
  gssize n;

  fd = g_open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0 && errno == ENOENT && create) {
    if (!cd_audit_key_create(file, error))
      return NULL;
    fd = g_open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  }
  if (fd < 0) {
    gint saved = errno;
    g_set_error(error, CD_ERROR, saved == ENOENT ? CD_ERROR_NOT_FOUND : CD_ERROR_ARCHIVE,
                "%s: cannot read the audit key: %s", file, g_strerror(saved));
    return NULL;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: the audit key is not a regular file", file);
    return NULL;
  }
  if ((st.st_mode & 0077) != 0) {
    close(fd);
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "%s: the audit key may be read or written by others (mode %04o); make it mode 0600", file,
                (guint) (st.st_mode & 07777));
    return NULL;
  }
  data = g_malloc(CD_AUDIT_KEY_MAX + 1);
  while (len <= CD_AUDIT_KEY_MAX && (n = read(fd, data + len, CD_AUDIT_KEY_MAX + 1 - len)) > 0)
    len += n;
  close(fd);
  if (len < CD_AUDIT_KEY_MIN || len > CD_AUDIT_KEY_MAX) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: an audit key has %d to %d bytes, not %" G_GSIZE_FORMAT,
                file, CD_AUDIT_KEY_MIN, CD_AUDIT_KEY_MAX, len);
    return NULL;
  }
  return g_bytes_new_take(g_steal_pointer(&data), len);
}

/**
 * cd_audit_key_set_default:
 * @path: (nullable): the key file, or %NULL for cd_audit_key_get_default_path()
 * @error: return location for a #GError
 *
 * Loads (creating it if absent) the key that every archive of this process
 * uses when it was given none with cd_archive_set_audit_key(). The service
 * calls this once with its `[service] audit-key`.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_audit_key_set_default(const gchar *path, GError **error)
{
  GBytes *key = cd_audit_key_load(path, TRUE, error);
  if (key == NULL)
    return FALSE;
  G_LOCK(default_key);
  g_clear_pointer(&default_key, g_bytes_unref);
  default_key = key;
  G_UNLOCK(default_key);
  return TRUE;
}

/**
 * cd_archive_set_audit_key:
 * @self: a #CdArchive
 * @key: the audit key (16 bytes or more)
 * @error: return location for a #GError
 *
 * Gives the archive the key its audit chain is sealed with. Without one the
 * archive uses the process default (cd_audit_key_set_default()), else the
 * key file cd_audit_key_get_default_path() names, created if absent.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_set_audit_key(CdArchive *self, GBytes *key, GError **error)
{
  CdAuditState *state;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(key != NULL, FALSE);
  if (g_bytes_get_size(key) < CD_AUDIT_KEY_MIN) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "an audit key has at least %d bytes", CD_AUDIT_KEY_MIN);
    return FALSE;
  }
  state = cd_audit_state(self);
  g_clear_pointer(&state->key, g_bytes_unref);
  g_clear_pointer(&state->key_id, g_free);
  state->key = g_bytes_ref(key);
  state->key_id = cd_audit_key_fingerprint(key);
  return TRUE;
}

/**
 * cd_archive_set_audit_key_file:
 * @self: a #CdArchive
 * @path: an existing key file
 * @error: return location for a #GError
 *
 * cd_archive_set_audit_key() with the key read from @path (which is not
 * created: a mistyped name must not seal the log with a new key).
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_archive_set_audit_key_file(CdArchive *self, const gchar *path, GError **error)
{
  g_autoptr(GBytes) key = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(path != NULL, FALSE);
  key = cd_audit_key_load(path, FALSE, error);
  return key != NULL && cd_archive_set_audit_key(self, key, error);
}

/**
 * cd_archive_set_audit_anchor:
 * @self: a #CdArchive
 * @path: the anchor file
 *
 * Where the anchor (the newest entry's id and MAC) is read and written;
 * by default `ARCHIVE.audit-anchor` beside the archive.
 *
 * Since: 0.1
 */
void
cd_archive_set_audit_anchor(CdArchive *self, const gchar *path)
{
  CdAuditState *state;

  g_return_if_fail(CD_IS_ARCHIVE(self));
  g_return_if_fail(path != NULL);
  state = cd_audit_state(self);
  g_free(state->anchor_path);
  state->anchor_path = g_strdup(path);
}

/* The key for @self, resolved from the defaults on first use. With @create
 * FALSE (verification) a missing default key file is an error, not a new key. */
static GBytes *
cd_audit_get_key(CdArchive *self, gboolean create, GError **error)
{
  CdAuditState *state = cd_audit_state(self);
  g_autoptr(GBytes) key = NULL;

  if (state->key != NULL)
    return state->key;
  G_LOCK(default_key);
  if (default_key != NULL)
    key = g_bytes_ref(default_key);
  G_UNLOCK(default_key);
  if (key == NULL)
    key = cd_audit_key_load(NULL, create, error);
  if (key == NULL)
    return NULL;
  state->key = g_steal_pointer(&key);
  state->key_id = cd_audit_key_fingerprint(state->key);
  return state->key;
}

/* ------------------------------------------------------------ meta */

static gchar *
cd_audit_meta_get(CdArchive *self, const gchar *key, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, "SELECT value FROM meta WHERE key = ?", error);
  gint rc;

  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, key);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW)
    return cd_column_dup(stmt, 0);
  if (rc != SQLITE_DONE)
    cd_audit_set_db_error(self, error, "cannot read meta");
  return NULL;
}

static const gchar *
cd_audit_archive_id(CdArchive *self, GError **error)
{
  CdAuditState *state = cd_audit_state(self);
  g_autoptr(GError) local = NULL;

  if (state->archive_id != NULL)
    return state->archive_id;
  state->archive_id = cd_audit_meta_get(self, "archive-id", &local);
  if (state->archive_id == NULL) {
    if (local != NULL)
      g_propagate_error(error, g_steal_pointer(&local));
    else
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: the archive has no archive id (meta archive-id)",
                  cd_archive_get_path(self));
  }
  return state->archive_id;
}

/* ------------------------------------------------------------ the anchor */

void
cd_audit_anchor_free(CdAuditAnchor *a)
{
  if (a == NULL)
    return;
  g_free(a->archive_id);
  g_free(a->mac);
  g_free(a->anchor_mac);
  g_free(a);
}

/* Members of the wrong type read as missing: a forged anchor is reported,
 * not a reason to crash. */
static void
cd_anchor_from_object(CdAuditAnchor *a, JsonObject *obj)
{
  a->archive_id = g_strdup(json_object_get_string_member_with_default(obj, "archive", NULL));
  a->entry = json_object_get_int_member_with_default(obj, "entry", 0);
  a->mac = g_strdup(json_object_get_string_member_with_default(obj, "mac", NULL));
  a->anchor_mac = g_strdup(json_object_get_string_member_with_default(obj, "anchor_mac", NULL));
}

/**
 * cd_audit_anchor_parse:
 * @text: (nullable): an anchor as JSON text (the sidecar's, a batch
 *   journal's, the PostgreSQL server's meta row)
 *
 * Returns: (transfer full) (nullable): the anchor, %NULL for %NULL; one
 *   with no members when @text is not a JSON object
 */
CdAuditAnchor *
cd_audit_anchor_parse(const gchar *text)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  CdAuditAnchor *a;

  if (text == NULL)
    return NULL;
  a = g_new0(CdAuditAnchor, 1);
  if (json_parser_load_from_data(parser, text, -1, NULL) && JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    cd_anchor_from_object(a, json_node_get_object(json_parser_get_root(parser)));
  return a;
}

/* Reads the anchor file; %NULL with @error unset when it does not exist. */
static CdAuditAnchor *
cd_anchor_read(const gchar *path, GError **error)
{
  g_autofree gchar *contents = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(CdAuditAnchor) a = g_new0(CdAuditAnchor, 1);
  JsonObject *obj;

  if (!g_file_get_contents(path, &contents, NULL, &local)) {
    if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      return NULL;
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot read the audit anchor: %s", path, local->message);
    return NULL;
  }
  if (!json_parser_load_from_data(parser, contents, -1, NULL) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    obj = NULL;
  else
    obj = json_node_get_object(json_parser_get_root(parser));
  if (obj == NULL || !json_object_has_member(obj, "archive") || !json_object_has_member(obj, "entry") ||
      !json_object_has_member(obj, "mac") || !json_object_has_member(obj, "anchor_mac")) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: the audit anchor is not readable (not its format)", path);
    return NULL;
  }
  cd_anchor_from_object(a, obj);
  return g_steal_pointer(&a);
}

gboolean
cd_audit_anchor_is_ours(CdAuditAnchor *a, GBytes *key, const gchar *archive_id)
{
  g_autofree gchar *expect = NULL;
  if (a->archive_id == NULL || a->mac == NULL || g_strcmp0(a->archive_id, archive_id) != 0)
    return FALSE;
  expect = cd_audit_anchor_mac(key, archive_id, a->entry, a->mac);
  return g_strcmp0(expect, a->anchor_mac) == 0;
}

/* The anchor as JSON text: what the sidecar and the batch journal hold. */
gchar *
cd_audit_anchor_to_json(GBytes *key, const gchar *archive_id, gint64 entry, const gchar *mac)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *anchor_mac = cd_audit_anchor_mac(key, archive_id, entry, mac);

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "archive");
  json_builder_add_string_value(b, archive_id);
  json_builder_set_member_name(b, "entry");
  json_builder_add_int_value(b, entry);
  json_builder_set_member_name(b, "mac");
  json_builder_add_string_value(b, mac);
  json_builder_set_member_name(b, "anchor_mac");
  json_builder_add_string_value(b, anchor_mac);
  json_builder_end_object(b);
  node = json_builder_get_root(b);
  return cd_json_to_string(node);
}

/* Called by cd_archive_txn_commit() once COMMIT succeeded: writes the anchor
 * of the newest entry the transaction appended. Never moves the anchor back:
 * an anchor naming a later entry (another process's, or evidence of a log
 * cut short) is left as it is. The commit has happened whatever this does,
 * so a failure is a warning. */
void
cd_archive_audit_committed(CdArchive *self)
{
  CdAuditState *state = *cd_archive_get_audit_state(self);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdAuditAnchor) old = NULL;
  g_autofree gchar *json = NULL;
  g_autofree gchar *mac = NULL;
  gint64 entry;

  if (state == NULL || state->pending_id == 0)
    return;
  entry = state->pending_id;
  mac = g_steal_pointer(&state->pending_mac);
  state->pending_id = 0;
  if (state->key == NULL || state->archive_id == NULL)
    return;
  old = cd_anchor_read(state->anchor_path, &error);
  if (old != NULL && cd_audit_anchor_is_ours(old, state->key, state->archive_id) && old->entry >= entry)
    return;
  g_clear_error(&error);
  json = cd_audit_anchor_to_json(state->key, state->archive_id, entry, mac);
  if (!g_file_set_contents_full(state->anchor_path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_warning("%s: cannot write the audit anchor: %s", state->anchor_path, error->message);
}

/* The transaction was rolled back: its entries are gone, and so is their anchor. */
void
cd_archive_audit_rolled_back(CdArchive *self)
{
  CdAuditState *state = *cd_archive_get_audit_state(self);
  if (state == NULL)
    return;
  state->pending_id = 0;
  g_clear_pointer(&state->pending_mac, g_free);
}

/**
 * cd_archive_audit_anchor_batch:
 * @self: a #CdArchive inside a write transaction
 * @batch_id: the batch whose journal row gets the anchor
 * @error: return location for a #GError
 *
 * Copies the anchor of the newest entry of the open transaction into the
 * batch journal, a second witness beside the sidecar file.
 *
 * Returns: %TRUE on success (also when there is nothing to anchor)
 */
gboolean
cd_archive_audit_anchor_batch(CdArchive *self, gint64 batch_id, GError **error)
{
  CdAuditState *state = *cd_archive_get_audit_state(self);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree gchar *json = NULL;

  if (state == NULL || state->pending_id == 0 || state->key == NULL || state->archive_id == NULL)
    return TRUE;
  json = cd_audit_anchor_to_json(state->key, state->archive_id, state->pending_id, state->pending_mac);
  stmt = cd_archive_prepare(self, "UPDATE batches SET audit_anchor = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, json);
  sqlite3_bind_int64(stmt, 2, batch_id);
  return cd_archive_step_done(self, stmt, error);
}

/* ------------------------------------------------------------ appending */

/* Inserts one keyed entry after (@last_id, @prev) and records it as the
 * transaction's newest. */
static gboolean
cd_audit_insert(CdArchive *self, gint64 last_id, const gchar *prev, const gchar *action, const gchar *object,
                const gchar *detail_str, gint64 *out_id, gchar **out_mac, GError **error)
{
  CdAuditState *state = cd_audit_state(self);
  g_autofree gchar *ts = cd_now_iso8601();
  g_autoptr(sqlite3_stmt) ins = NULL;
  gint64 id = last_id + 1;
  g_autofree gchar *mac = cd_audit_entry_mac(state->key, state->archive_id, id, prev, ts, cd_archive_get_actor(self),
                                             action, object, detail_str);

  ins = cd_archive_prepare(self,
                           "INSERT INTO audit (id, ts, actor, action, object, detail, prev_hash, hash, scheme) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                           error);
  if (ins == NULL)
    return FALSE;
  sqlite3_bind_int64(ins, 1, id);
  cd_bind_text(ins, 2, ts);
  cd_bind_text(ins, 3, cd_archive_get_actor(self));
  cd_bind_text(ins, 4, action);
  cd_bind_text(ins, 5, object);
  cd_bind_text(ins, 6, detail_str);
  cd_bind_text(ins, 7, prev);
  cd_bind_text(ins, 8, mac);
  if (!cd_archive_step_done(self, ins, error))
    return FALSE;
  state->pending_id = id;
  g_free(state->pending_mac);
  state->pending_mac = g_strdup(mac);
  *out_id = id;
  *out_mac = g_steal_pointer(&mac);
  return TRUE;
}

/* Walks the plain SHA-256 entries of an archive older than schema 4, for
 * the seal: how many, and the first that does not verify (0 if none). */
static gboolean
cd_audit_walk_legacy(CdArchive *self, gint64 *n, gint64 *first_bad, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(
      self, "SELECT id, ts, actor, action, object, detail, prev_hash, hash FROM audit WHERE scheme = 0 ORDER BY id",
      error);
  g_autofree gchar *prev = g_strdup(CD_AUDIT_GENESIS);
  gint rc;

  *n = 0;
  *first_bad = 0;
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    g_autofree gchar *hash = cd_audit_legacy_hash(
        prev, (const gchar *) sqlite3_column_text(stmt, 1), (const gchar *) sqlite3_column_text(stmt, 2),
        (const gchar *) sqlite3_column_text(stmt, 3), (const gchar *) sqlite3_column_text(stmt, 4),
        (const gchar *) sqlite3_column_text(stmt, 5));
    (*n)++;
    if (*first_bad == 0 && (g_strcmp0((const gchar *) sqlite3_column_text(stmt, 6), prev) != 0 ||
                            g_strcmp0((const gchar *) sqlite3_column_text(stmt, 7), hash) != 0))
      *first_bad = sqlite3_column_int64(stmt, 0);
    g_free(prev);
    prev = cd_column_dup(stmt, 7);
  }
  if (rc != SQLITE_DONE) {
    cd_audit_set_db_error(self, error, "cannot read the audit log");
    return FALSE;
  }
  return TRUE;
}

/* Why the anchor cannot vouch for the log before a new entry replaces it
 * (missing, unreadable, another archive's or forged), or NULL when it can. */
static const gchar *
cd_audit_anchor_trouble(CdAuditState *state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdAuditAnchor) anchor = cd_anchor_read(state->anchor_path, &error);

  if (error != NULL)
    return "unreadable";
  if (anchor == NULL)
    return "missing";
  if (!cd_audit_anchor_is_ours(anchor, state->key, state->archive_id))
    return "not written for this archive with this key";
  return NULL;
}

/* Appends one keyed entry; the caller holds a write transaction.
 *
 * Before the first keyed entry of an archive whose log began before schema
 * 4, an `audit-seal` entry is written whose MAC covers the last plain hash
 * (and says whether the plain chain verified). When the anchor file has
 * gone (or is another archive's, or forged) while keyed entries exist, an
 * `audit-anchor-missing` entry records it, so that writing a new anchor
 * cannot hide what the loss may have hidden. A log sealed with another key is refused, never re-keyed. */
gboolean
cd_archive_audit_locked(CdArchive *self, const gchar *action, const gchar *object, JsonNode *detail, GError **error)
{
  CdAuditState *state = cd_audit_state(self);
  g_autoptr(sqlite3_stmt) last = NULL;
  g_autoptr(JsonNode) wrapped = NULL;
  g_autofree gchar *detail_str = NULL;
  g_autofree gchar *stored_key_id = NULL;
  g_autofree gchar *prev = NULL;
  g_autoptr(GError) local = NULL;
  const gchar *purpose = cd_archive_get_purpose(self);
  gint64 last_id = 0;
  gint last_scheme = CD_AUDIT_SCHEME_HMAC;
  gint rc;

  if (cd_audit_get_key(self, TRUE, error) == NULL) {
    g_prefix_error(error, "%s: cannot write the audit log: ", cd_archive_get_path(self));
    return FALSE;
  }
  if (cd_audit_archive_id(self, error) == NULL)
    return FALSE;
  stored_key_id = cd_audit_meta_get(self, "audit-key-id", &local);
  if (local != NULL) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  if (stored_key_id != NULL && g_strcmp0(stored_key_id, state->key_id) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE,
                "%s: the audit log is sealed with another key (key id %s; this key is %s): give the key it was "
                "sealed with (--audit-key FILE, CHARTDESK_AUDIT_KEY or [service] audit-key)",
                cd_archive_get_path(self), stored_key_id, state->key_id);
    return FALSE;
  }
  if (stored_key_id == NULL) {
    g_autoptr(sqlite3_stmt) ins =
        cd_archive_prepare(self, "INSERT INTO meta (key, value) VALUES ('audit-key-id', ?)", error);
    if (ins == NULL)
      return FALSE;
    cd_bind_text(ins, 1, state->key_id);
    if (!cd_archive_step_done(self, ins, error))
      return FALSE;
  }

  /* the purpose travels inside the detail so it is covered by the MAC */
  if (purpose != NULL) {
    g_autoptr(JsonObject) obj = json_object_new();
    json_object_set_string_member(obj, "purpose", purpose);
    if (detail != NULL)
      json_object_set_member(obj, "detail", json_node_copy(detail));
    wrapped = json_node_init_object(json_node_alloc(), obj);
    detail = wrapped;
  }
  detail_str = detail != NULL ? cd_json_to_string(detail) : g_strdup("{}");

  last = cd_archive_prepare(self, "SELECT id, hash, scheme FROM audit ORDER BY id DESC LIMIT 1", error);
  if (last == NULL)
    return FALSE;
  rc = sqlite3_step(last);
  if (rc == SQLITE_ROW) {
    last_id = sqlite3_column_int64(last, 0);
    prev = cd_column_dup(last, 1);
    last_scheme = sqlite3_column_int(last, 2);
  } else if (rc == SQLITE_DONE) {
    prev = g_strdup(CD_AUDIT_GENESIS);
  } else {
    cd_audit_set_db_error(self, error, "cannot read the audit log");
    return FALSE;
  }
  if (prev == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "%s: audit log entry %" G_GINT64_FORMAT " has no hash: the log was altered", cd_archive_get_path(self),
                last_id);
    return FALSE;
  }

  if (last_id > 0 && last_scheme == CD_AUDIT_SCHEME_SHA256) {
    g_autoptr(JsonObject) seal = json_object_new();
    g_autoptr(JsonNode) seal_node = NULL;
    g_autofree gchar *seal_str = NULL;
    gint64 n = 0, first_bad = 0;
    if (!cd_audit_walk_legacy(self, &n, &first_bad, error))
      return FALSE;
    json_object_set_int_member(seal, "legacy_entries", n);
    json_object_set_int_member(seal, "last_legacy_entry", last_id);
    json_object_set_string_member(seal, "last_legacy_hash", prev);
    json_object_set_boolean_member(seal, "legacy_chain_intact", first_bad == 0);
    if (first_bad != 0)
      json_object_set_int_member(seal, "legacy_first_bad_entry", first_bad);
    seal_node = json_node_init_object(json_node_alloc(), seal);
    seal_str = cd_json_to_string(seal_node);
    {
      g_autofree gchar *mac = NULL;
      if (!cd_audit_insert(self, last_id, prev, "audit-seal", "audit", seal_str, &last_id, &mac, error))
        return FALSE;
      g_free(prev);
      prev = g_steal_pointer(&mac);
    }
  } else if (last_id > 0 && state->pending_id == 0) {
    const gchar *reason = cd_audit_anchor_trouble(state);
    if (reason != NULL) {
      g_autoptr(JsonObject) lost = json_object_new();
      g_autoptr(JsonNode) lost_node = NULL;
      g_autofree gchar *lost_str = NULL;
      g_autofree gchar *mac = NULL;
      json_object_set_string_member(lost, "anchor", state->anchor_path);
      json_object_set_string_member(lost, "reason", reason);
      json_object_set_int_member(lost, "last_entry", last_id);
      lost_node = json_node_init_object(json_node_alloc(), lost);
      lost_str = cd_json_to_string(lost_node);
      g_message("%s: the audit anchor is %s; recording that in the log and writing a new one", state->anchor_path,
                reason);
      if (!cd_audit_insert(self, last_id, prev, "audit-anchor-missing", "audit", lost_str, &last_id, &mac, error))
        return FALSE;
      g_free(prev);
      prev = g_steal_pointer(&mac);
    }
  }

  {
    g_autofree gchar *mac = NULL;
    gint64 id = 0;
    return cd_audit_insert(self, last_id, prev, action, object, detail_str, &id, &mac, error);
  }
}

/**
 * cd_archive_audit:
 * @self: a #CdArchive
 * @action: what was done: `search`, `view`, `export`, `ingest`, ...
 * @object: what it was done to: `document:12`, `batch:3`, `archive`
 * @detail: (nullable): anything else worth keeping, as JSON
 * @error: return location for a #GError
 *
 * Appends an entry to the audit log, chained to the one before by its
 * HMAC-SHA256 under the archive's audit key (see cd_archive_set_audit_key()),
 * and once committed writes the anchor beside the archive.
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

  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!sqlite3_get_autocommit(cd_archive_get_db(self)))
    return cd_archive_audit_locked(self, action, object, detail, error);
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  if (!cd_archive_audit_locked(self, action, object, detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/* ------------------------------------------------------------ verifying */

typedef struct {
  gint64 entries;
  gint64 legacy;
  gint64 keyed;
  gint64 last_id;
  gint64 seal_id;
  gint64 bad;       /* first bad entry, 0 if none or none can be named */
  gchar *problem;   /* what is wrong, NULL if intact */
  gchar *key_id;    /* this process's key */
  gchar *sealed_id; /* the key id the archive records */
  gint64 anchor_entry;
  GPtrArray *warnings;
} CdAuditCheck;

static void
cd_audit_check_clear(CdAuditCheck *c)
{
  g_free(c->problem);
  g_free(c->key_id);
  g_free(c->sealed_id);
  g_clear_pointer(&c->warnings, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CdAuditCheck, cd_audit_check_clear)

static void G_GNUC_PRINTF(3, 4) cd_audit_fail(CdAuditCheck *c, gint64 bad, const gchar *format, ...)
{
  va_list args;
  if (c->problem != NULL)
    return;
  c->bad = bad;
  va_start(args, format);
  c->problem = g_strdup_vprintf(format, args);
  va_end(args);
}

/* Compares an anchor (the sidecar's or a batch's) with the log. */
static void
cd_audit_check_anchor(CdAuditCheck *c, CdAuditAnchor *a, GBytes *key, const gchar *archive_id, GHashTable *macs,
                      const gchar *what)
{
  const gchar *mac;

  if (!cd_audit_anchor_is_ours(a, key, archive_id)) {
    cd_audit_fail(c, 0, "%s was not written for this archive with this key (forged, or another archive's)", what);
    return;
  }
  if (a->entry > c->last_id) {
    cd_audit_fail(c, c->last_id + 1,
                  "the log ends at entry %" G_GINT64_FORMAT " but %s names entry %" G_GINT64_FORMAT
                  ": the newest entries were removed",
                  c->last_id, what, a->entry);
    return;
  }
  mac = g_hash_table_lookup(macs, &a->entry);
  if (mac == NULL) {
    cd_audit_fail(c, a->entry, "entry %" G_GINT64_FORMAT ", which %s names, is missing", a->entry, what);
    return;
  }
  if (g_strcmp0(mac, a->mac) != 0)
    cd_audit_fail(c, a->entry, "entry %" G_GINT64_FORMAT " is not the entry %s recorded: the log was rewritten",
                  a->entry, what);
}

/* The whole verification: the chains, the seal, the key, the anchors. */
static gboolean
cd_audit_run_check(CdArchive *self, CdAuditCheck *c, GError **error)
{
  CdAuditState *state = cd_audit_state(self);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) batches = NULL;
  g_autoptr(GHashTable) macs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  g_autoptr(GError) key_error = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(GError) anchor_error = NULL;
  g_autoptr(CdAuditAnchor) anchor = NULL;
  g_autoptr(GPtrArray) journal = g_ptr_array_new_with_free_func((GDestroyNotify) cd_audit_anchor_free);
  g_autoptr(GPtrArray) journal_names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) wanted = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  g_autofree gchar *prev = g_strdup(CD_AUDIT_GENESIS);
  const gchar *archive_id;
  GBytes *key;
  gint rc;

  c->warnings = g_ptr_array_new_with_free_func(g_free);
  archive_id = cd_audit_archive_id(self, error);
  if (archive_id == NULL)
    return FALSE;
  key = cd_audit_get_key(self, FALSE, &key_error);
  if (key != NULL)
    c->key_id = g_strdup(state->key_id);
  c->sealed_id = cd_audit_meta_get(self, "audit-key-id", &local);
  if (local != NULL) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }

  /* the anchors first, so that the walk keeps only the MACs they name */
  anchor = cd_anchor_read(state->anchor_path, &anchor_error);
  if (anchor != NULL)
    g_hash_table_add(wanted, g_memdup2(&anchor->entry, sizeof(gint64)));
  batches = cd_archive_prepare(self, "SELECT id, audit_anchor FROM batches WHERE audit_anchor IS NOT NULL ORDER BY id",
                               error);
  if (batches == NULL)
    return FALSE;
  while (sqlite3_step(batches) == SQLITE_ROW) {
    /* not NULL: the query skips rows without an anchor */
    CdAuditAnchor *a = cd_audit_anchor_parse((const gchar *) sqlite3_column_text(batches, 1));
    g_ptr_array_add(journal, a);
    g_ptr_array_add(journal_names,
                    g_strdup_printf("batch %" G_GINT64_FORMAT "'s journal", (gint64) sqlite3_column_int64(batches, 0)));
    g_hash_table_add(wanted, g_memdup2(&a->entry, sizeof(gint64)));
  }

  stmt = cd_archive_prepare(
      self, "SELECT id, ts, actor, action, object, detail, prev_hash, hash, scheme FROM audit ORDER BY id", error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(stmt, 0);
    const gchar *ts = (const gchar *) sqlite3_column_text(stmt, 1);
    const gchar *actor = (const gchar *) sqlite3_column_text(stmt, 2);
    const gchar *action = (const gchar *) sqlite3_column_text(stmt, 3);
    const gchar *object = (const gchar *) sqlite3_column_text(stmt, 4);
    const gchar *detail = (const gchar *) sqlite3_column_text(stmt, 5);
    const gchar *stored_prev = (const gchar *) sqlite3_column_text(stmt, 6);
    const gchar *stored_hash = (const gchar *) sqlite3_column_text(stmt, 7);
    gint scheme = sqlite3_column_int(stmt, 8);
    g_autofree gchar *expect = NULL;

    c->entries++;
    c->last_id = id;
    if (c->problem != NULL)
      continue;
    if (scheme == CD_AUDIT_SCHEME_SHA256) {
      c->legacy++;
      if (c->keyed > 0) {
        cd_audit_fail(c, id,
                      "audit log entry %" G_GINT64_FORMAT " does not match the chain: it is an unkeyed entry after "
                      "keyed ones (written without the key)",
                      id);
        continue;
      }
      expect = cd_audit_legacy_hash(prev, ts, actor, action, object, detail);
    } else if (scheme == CD_AUDIT_SCHEME_HMAC) {
      c->keyed++;
      if (key == NULL) {
        cd_audit_fail(c, id, "audit log entry %" G_GINT64_FORMAT " cannot be verified: %s", id, key_error->message);
        continue;
      }
      if (c->sealed_id != NULL && g_strcmp0(c->sealed_id, state->key_id) != 0) {
        cd_audit_fail(c, id,
                      "audit log entry %" G_GINT64_FORMAT " does not verify: the log is sealed with another key (key "
                      "id %s; this key is %s)",
                      id, c->sealed_id, state->key_id);
        continue;
      }
      if (c->keyed == 1 && c->legacy > 0) {
        c->seal_id = id;
        if (g_strcmp0(action, "audit-seal") != 0) {
          cd_audit_fail(c, id,
                        "audit log entry %" G_GINT64_FORMAT " does not match the chain: the first keyed entry after "
                        "entries of an older schema is not their seal",
                        id);
          continue;
        }
      }
      expect = cd_audit_entry_mac(key, archive_id, id, prev, ts, actor, action, object, detail);
      if (g_strcmp0(action, "audit-anchor-missing") == 0)
        g_ptr_array_add(c->warnings, g_strdup_printf("entry %" G_GINT64_FORMAT ": the anchor file was missing or "
                                                     "not this archive's and was written anew; entries removed "
                                                     "before then cannot be ruled out",
                                                     id));
    } else {
      cd_audit_fail(c, id, "audit log entry %" G_GINT64_FORMAT " does not match the chain: unknown scheme %d", id,
                    scheme);
      continue;
    }
    if (g_strcmp0(stored_prev, prev) != 0 || g_strcmp0(stored_hash, expect) != 0) {
      cd_audit_fail(c, id,
                    "audit log entry %" G_GINT64_FORMAT " does not match the %s: the log was altered at or before "
                    "this entry",
                    id, scheme == CD_AUDIT_SCHEME_HMAC ? "keyed chain (wrong key, or edited)" : "hash chain");
      continue;
    }
    if (g_hash_table_contains(wanted, &id))
      g_hash_table_insert(macs, g_memdup2(&id, sizeof(id)), g_strdup(stored_hash));
    g_free(prev);
    prev = g_strdup(stored_hash);
  }
  if (rc != SQLITE_DONE) {
    cd_audit_set_db_error(self, error, "cannot read the audit log");
    return FALSE;
  }
  if (c->problem != NULL)
    return TRUE;
  if (c->keyed == 0 && c->legacy > 0)
    g_ptr_array_add(c->warnings,
                    g_strdup_printf("the %" G_GINT64_FORMAT " entries are plain SHA-256 from before schema 4, not yet "
                                    "sealed with a key (the next entry seals them)",
                                    c->legacy));

  /* the anchors: truncation and a whole-log rewrite. A log that was ever
   * keyed (a key id is recorded) must have one, whatever its rows say now. */
  if (anchor_error != NULL) {
    cd_audit_fail(c, 0, "%s", anchor_error->message);
    return TRUE;
  }
  if (anchor == NULL) {
    if (c->keyed > 0 || c->sealed_id != NULL)
      cd_audit_fail(c, 0, "%s: the audit anchor is missing: the newest entries cannot be proven complete",
                    state->anchor_path);
    return TRUE;
  }
  if (key == NULL) {
    cd_audit_fail(c, 0, "the audit anchor cannot be verified: %s", key_error->message);
    return TRUE;
  }
  c->anchor_entry = anchor->entry;
  cd_audit_check_anchor(c, anchor, key, archive_id, macs, "the anchor");
  for (guint i = 0; i < journal->len && c->problem == NULL; i++)
    cd_audit_check_anchor(c, g_ptr_array_index(journal, i), key, archive_id, macs, g_ptr_array_index(journal_names, i));
  return TRUE;
}

/* Verification problems name the archive; chain problems already do. */
static void
cd_audit_check_prefix(CdArchive *self, CdAuditCheck *c)
{
  if (c->problem != NULL && !g_str_has_prefix(c->problem, cd_archive_get_path(self))) {
    g_autofree gchar *p = g_strdup_printf("%s: %s", cd_archive_get_path(self), c->problem);
    g_free(c->problem);
    c->problem = g_steal_pointer(&p);
  }
}

/**
 * cd_archive_verify_audit:
 * @self: a #CdArchive
 * @bad_entry: (out) (optional): the first entry that does not verify, 0
 *   when the problem names no entry (a missing or foreign anchor)
 * @error: return location for a #GError
 *
 * Verifies the audit log: the plain chain of entries older than schema 4,
 * the keyed chain after them under this process's audit key (the seal
 * first), and the anchors (the sidecar file and each batch's journal row)
 * against the newest entries. An entry edited, deleted, replaced or
 * inserted, newest entries dropped, or a log rewritten without the key are
 * all reported with the first bad entry.
 *
 * Returns: %TRUE if the log is intact; %FALSE with %CD_ERROR_INVALID_DATA
 *   saying what is wrong otherwise (other codes when it cannot be read)
 *
 * Since: 0.1
 */
gboolean
cd_archive_verify_audit(CdArchive *self, gint64 *bad_entry, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_auto(CdAuditCheck) c = { 0 };

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  /* the chain's integrity, no chart content: auditors and administrators */
  if (!cd_principal_has(cd_archive_get_principal(self), CD_PERMISSION_CONFIGURE) &&
      !cd_archive_require(self, CD_PERMISSION_READ_AUDIT, "verify the audit log", "audit", error))
    return FALSE;
  if (bad_entry != NULL)
    *bad_entry = 0;
  if (!cd_audit_run_check(self, &c, error))
    return FALSE;
  if (c.problem == NULL)
    return TRUE;
  cd_audit_check_prefix(self, &c);
  if (bad_entry != NULL)
    *bad_entry = c.bad;
  g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, c.problem);
  return FALSE;
}

/**
 * cd_archive_verify_audit_report:
 * @self: a #CdArchive
 * @error: return location for a #GError
 *
 * cd_archive_verify_audit() as a report for `chartdesk audit verify`:
 * `intact`, `entries`, `legacy_entries` (before schema 4), `keyed_entries`,
 * `seal_entry`, `archive_id`, `key_id` (this key's fingerprint),
 * `sealed_key_id` (the archive's), `anchor` (`path`, `entry`),
 * `first_bad_entry` and `problem` (null when intact), `warnings`.
 *
 * Returns: (transfer full): the report, or %NULL with @error set when the
 *   log cannot be read at all
 *
 * Since: 0.1
 */
JsonNode *
cd_archive_verify_audit_report(CdArchive *self, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_auto(CdAuditCheck) c = { 0 };
  g_autoptr(JsonBuilder) b = json_builder_new();
  CdAuditState *state;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  /* the chain's integrity, no chart content: auditors and administrators */
  if (!cd_principal_has(cd_archive_get_principal(self), CD_PERMISSION_CONFIGURE) &&
      !cd_archive_require(self, CD_PERMISSION_READ_AUDIT, "verify the audit log", "audit", error))
    return NULL;
  if (!cd_audit_run_check(self, &c, error))
    return NULL;
  cd_audit_check_prefix(self, &c);
  state = cd_audit_state(self);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "archive");
  json_builder_add_string_value(b, cd_archive_get_path(self));
  json_builder_set_member_name(b, "intact");
  json_builder_add_boolean_value(b, c.problem == NULL);
  json_builder_set_member_name(b, "entries");
  json_builder_add_int_value(b, c.entries);
  json_builder_set_member_name(b, "legacy_entries");
  json_builder_add_int_value(b, c.legacy);
  json_builder_set_member_name(b, "keyed_entries");
  json_builder_add_int_value(b, c.keyed);
  json_builder_set_member_name(b, "seal_entry");
  if (c.seal_id > 0)
    json_builder_add_int_value(b, c.seal_id);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "archive_id");
  json_builder_add_string_value(b, state->archive_id);
  json_builder_set_member_name(b, "key_id");
  json_builder_add_string_value(b, c.key_id);
  json_builder_set_member_name(b, "sealed_key_id");
  json_builder_add_string_value(b, c.sealed_id);
  json_builder_set_member_name(b, "anchor");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "path");
  json_builder_add_string_value(b, state->anchor_path);
  json_builder_set_member_name(b, "entry");
  if (c.anchor_entry > 0)
    json_builder_add_int_value(b, c.anchor_entry);
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "first_bad_entry");
  if (c.problem != NULL && c.bad > 0)
    json_builder_add_int_value(b, c.bad);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "problem");
  json_builder_add_string_value(b, c.problem);
  json_builder_set_member_name(b, "warnings");
  json_builder_begin_array(b);
  for (guint i = 0; i < c.warnings->len; i++)
    json_builder_add_string_value(b, g_ptr_array_index(c.warnings, i));
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
