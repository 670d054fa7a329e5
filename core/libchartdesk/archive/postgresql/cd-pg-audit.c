/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The PostgreSQL archive's audit log (issue 18, part 2): the server's own
 * chain keyed as a SQLite archive's, its anchor, the verification of that
 * chain and of every station's delivered chain, and the auditor's listing
 * and export of who saw what.
 *
 * The server's chain is the entries with `station IS NULL`, in id order.
 * Entries written before the server had a key are plain SHA-256 (scheme
 * 0): SHA-256 of prev, ts, actor, action, object and detail each followed
 * by a newline, prev being `genesis` for the first entry. Keyed entries
 * (scheme 1) carry the SQLite archive's MAC (cd-archive-audit.c) with the
 * server's meta `archive-id` and the entry's server id; the first keyed
 * entry after plain ones is an `audit-seal` covering the last plain hash.
 *
 * The key is a file every process writing on the server is given
 * (`[archive] server-audit-key`, `CHARTDESK_SERVER_AUDIT_KEY`,
 * `chartdesk audit --audit-key`); the server keeps its fingerprint (meta
 * `server-audit-key-id`) and an anchor (meta `server-audit-anchor`, the
 * newest entry's id and MAC under a MAC of its own) written in the same
 * transaction as the entry, under the advisory lock that orders the chain.
 * See docs/decisions.md, "The server's audit chain".
 */
#include "config.h"

#include <string.h>

#include "cd-csv-private.h"
#include "cd-error.h"
#include "cd-pg-private.h"
#include "cd-util-private.h"

#define CD_PG_AUDIT_LOCK "SELECT pg_advisory_xact_lock(4348445401)"
#define CD_PG_AUDIT_GENESIS "genesis" /* the server chain's first prev */
#define CD_AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000" /* a station's */
#define CD_AUDIT_SCHEME_SHA256 0
#define CD_AUDIT_SCHEME_HMAC 1
#define CD_AUDIT_KEY_MIN 16
#define CD_AUDIT_KEY_MAX 4096
#define CD_PG_AUDIT_CHUNK 5000 /* entries read at a time when verifying */

/* ------------------------------------------------------------ the key */

static gboolean
cd_pg_audit_key_valid(CdPgArchive *self, GBytes *key, const gchar *what, GError **error)
{
  gsize len = g_bytes_get_size(key);

  if (len >= CD_AUDIT_KEY_MIN && len <= CD_AUDIT_KEY_MAX)
    return TRUE;
  g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: %s must be %d to %d bytes (got %" G_GSIZE_FORMAT ")",
              self->where, what, CD_AUDIT_KEY_MIN, CD_AUDIT_KEY_MAX, len);
  return FALSE;
}

/**
 * cd_pg_archive_set_audit_key:
 * @self: the server
 * @key: the key of the server's audit chain (16 to 4096 bytes)
 * @error: return location for a #GError
 *
 * Gives the server's audit chain its key. Every process writing on the
 * server (reads, deliveries) must hold the same key once the chain is
 * keyed; the first keyed entry seals the plain entries before it.
 *
 * Returns: %TRUE on success
 */
gboolean
cd_pg_archive_set_audit_key(CdPgArchive *self, GBytes *key, GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;

  g_return_val_if_fail(self != NULL && key != NULL, FALSE);
  if (!cd_pg_audit_key_valid(self, key, "the server's audit key", error))
    return FALSE;
  held = g_rec_mutex_locker_new(&self->mutex);
  g_clear_pointer(&self->audit_key, g_bytes_unref);
  g_free(self->audit_key_id);
  self->audit_key = g_bytes_ref(key);
  self->audit_key_id = cd_audit_key_fingerprint(key);
  return TRUE;
}

/**
 * cd_pg_archive_set_audit_key_file:
 * @self: the server
 * @path: an existing key file (mode 0600 or stricter)
 * @error: return location for a #GError
 *
 * cd_pg_archive_set_audit_key() with the key read from @path, which is
 * never created: a mistyped name must not seal the chain with a new key.
 *
 * Returns: %TRUE on success
 */
gboolean
cd_pg_archive_set_audit_key_file(CdPgArchive *self, const gchar *path, GError **error)
{
  g_autoptr(GBytes) key = NULL;

  g_return_val_if_fail(self != NULL && path != NULL, FALSE);
  key = cd_audit_key_load(path, FALSE, error);
  if (key == NULL) {
    g_prefix_error(error, "%s: the server's audit key: ", self->where);
    return FALSE;
  }
  return cd_pg_archive_set_audit_key(self, key, error);
}

/**
 * cd_pg_archive_set_station_audit_key:
 * @self: the server
 * @station: a station's name
 * @key: (nullable): the key of that station's own chain, %NULL to forget it
 * @error: return location for a #GError
 *
 * The key verification checks @station's delivered chain with; a
 * station without one is checked for its structure and hashes only.
 *
 * Returns: %TRUE on success
 */
gboolean
cd_pg_archive_set_station_audit_key(CdPgArchive *self, const gchar *station, GBytes *key, GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;

  g_return_val_if_fail(self != NULL && station != NULL, FALSE);
  if (key != NULL && !cd_pg_audit_key_valid(self, key, "a station's audit key", error))
    return FALSE;
  held = g_rec_mutex_locker_new(&self->mutex);
  if (self->station_keys == NULL)
    self->station_keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  if (key != NULL)
    g_hash_table_insert(self->station_keys, g_strdup(station), g_bytes_ref(key));
  else
    g_hash_table_remove(self->station_keys, station);
  return TRUE;
}

/* At open: the key of CHARTDESK_SERVER_AUDIT_KEY, when set; a bad one
 * stops the open, as a bad key stops the service at start. */
gboolean
cd_pg_audit_init(CdPgArchive *self, GError **error)
{
  const gchar *path = g_getenv("CHARTDESK_SERVER_AUDIT_KEY");

  if (path == NULL || path[0] == '\0')
    return TRUE;
  return cd_pg_archive_set_audit_key_file(self, path, error);
}

void
cd_pg_audit_clear(CdPgArchive *self)
{
  g_clear_pointer(&self->audit_key, g_bytes_unref);
  g_clear_pointer(&self->audit_key_id, g_free);
  g_clear_pointer(&self->station_keys, g_hash_table_unref);
}

/* ------------------------------------------------------------ writing */

typedef struct {
  gchar *archive_id;
  gchar *key_id;  /* meta server-audit-key-id, NULL before the first keyed entry */
  gchar *anchor;  /* meta server-audit-anchor */
  gint64 last_id; /* the newest server entry, 0 if none */
  gchar *last_hash;
  gint last_scheme;
} CdPgChainHead;

static void
cd_pg_chain_head_clear(CdPgChainHead *h)
{
  g_free(h->archive_id);
  g_free(h->key_id);
  g_free(h->anchor);
  g_free(h->last_hash);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CdPgChainHead, cd_pg_chain_head_clear)

static gboolean
cd_pg_chain_head_read(CdPgArchive *self, CdPgChainHead *h, GError **error)
{
  g_autoptr(PGresult) meta = NULL;
  g_autoptr(PGresult) last = NULL;

  meta = cd_pg_exec(self,
                    "SELECT (SELECT value FROM meta WHERE key = 'archive-id'), "
                    "(SELECT value FROM meta WHERE key = 'server-audit-key-id'), "
                    "(SELECT value FROM meta WHERE key = 'server-audit-anchor')",
                    NULL, "cannot read the audit log", error);
  if (meta == NULL)
    return FALSE;
  h->archive_id = g_strdup(cd_pg_value(meta, 0, 0));
  h->key_id = g_strdup(cd_pg_value(meta, 0, 1));
  h->anchor = g_strdup(cd_pg_value(meta, 0, 2));
  if (h->archive_id == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: the server has no archive id (meta archive-id)",
                self->where);
    return FALSE;
  }
  last = cd_pg_exec(self, "SELECT id, hash, scheme FROM audit WHERE station IS NULL ORDER BY id DESC LIMIT 1", NULL,
                    "cannot read the audit log", error);
  if (last == NULL)
    return FALSE;
  if (PQntuples(last) > 0) {
    h->last_id = cd_pg_int(last, 0, 0);
    h->last_hash = g_strdup(cd_pg_value(last, 0, 1));
    h->last_scheme = (gint) cd_pg_int(last, 0, 2);
  }
  return TRUE;
}

static gboolean
cd_pg_meta_set(CdPgArchive *self, const gchar *key, const gchar *value, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();

  cd_pg_params_add(p, key);
  cd_pg_params_add(p, value);
  return cd_pg_exec_ok(self,
                       "INSERT INTO meta (key, value) VALUES ($1, $2) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       p, "cannot write the audit log", error);
}

/* One entry after @h's newest, keyed when @key is given; @h then names it. */
static gboolean
cd_pg_audit_insert(CdPgArchive *self, CdPgChainHead *h, GBytes *key, const gchar *ts, const gchar *action,
                   const gchar *object, const gchar *detail, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) next = NULL;
  g_autofree gchar *hash = NULL;
  const gchar *prev = h->last_id > 0 ? h->last_hash : CD_PG_AUDIT_GENESIS;
  const gchar *actor = cd_pg_actor(self);
  gint64 id;

  /* the id is in the MAC, so it is taken before the insert (under the
   * chain's lock: ids grow in chain order) */
  next = cd_pg_exec(self, "SELECT nextval(pg_get_serial_sequence('audit', 'id'))", NULL, "cannot write the audit log",
                    error);
  if (next == NULL)
    return FALSE;
  id = cd_pg_int(next, 0, 0);
  if (key != NULL)
    hash = cd_audit_entry_mac(key, h->archive_id, id, prev, ts, actor, action, object, detail);
  else
    hash = cd_audit_legacy_hash(prev, ts, actor, action, object, detail);
  cd_pg_params_add_int(p, id);
  cd_pg_params_add(p, ts);
  cd_pg_params_add(p, actor);
  cd_pg_params_add(p, action);
  cd_pg_params_add(p, object);
  cd_pg_params_add(p, detail);
  cd_pg_params_add(p, prev);
  cd_pg_params_add(p, hash);
  cd_pg_params_add_int(p, key != NULL ? CD_AUDIT_SCHEME_HMAC : CD_AUDIT_SCHEME_SHA256);
  if (!cd_pg_exec_ok(self,
                     "INSERT INTO audit (id, ts, actor, action, object, detail, prev_hash, hash, scheme) "
                     "OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                     p, "cannot write the audit log", error))
    return FALSE;
  h->last_id = id;
  g_free(h->last_hash);
  h->last_hash = g_steal_pointer(&hash);
  h->last_scheme = key != NULL ? CD_AUDIT_SCHEME_HMAC : CD_AUDIT_SCHEME_SHA256;
  return TRUE;
}

/* The plain entries before the seal: how many, and the first that does
 * not verify (0 if none). */
static gboolean
cd_pg_audit_walk_legacy(CdPgArchive *self, gint64 *n, gint64 *first_bad, GError **error)
{
  g_autofree gchar *prev = g_strdup(CD_PG_AUDIT_GENESIS);
  gint64 after = 0;

  *n = 0;
  *first_bad = 0;
  for (;;) {
    g_autoptr(CdPgParams) p = cd_pg_params_new();
    g_autoptr(PGresult) res = NULL;
    gint rows;

    cd_pg_params_add_int(p, after);
    res = cd_pg_exec(self,
                     "SELECT id, ts, actor, action, object, detail, prev_hash, hash FROM audit "
                     "WHERE station IS NULL AND scheme = 0 AND id > $1 ORDER BY id LIMIT 5000",
                     p, "cannot read the audit log", error);
    if (res == NULL)
      return FALSE;
    rows = PQntuples(res);
    for (gint r = 0; r < rows; r++) {
      g_autofree gchar *hash =
          cd_audit_legacy_hash(prev, cd_pg_value(res, r, 1), cd_pg_value(res, r, 2), cd_pg_value(res, r, 3),
                               cd_pg_value(res, r, 4), cd_pg_value(res, r, 5));
      after = cd_pg_int(res, r, 0);
      (*n)++;
      if (*first_bad == 0 &&
          (g_strcmp0(cd_pg_value(res, r, 6), prev) != 0 || g_strcmp0(cd_pg_value(res, r, 7), hash) != 0))
        *first_bad = after;
      g_free(prev);
      prev = g_strdup(cd_pg_value(res, r, 7));
    }
    if (rows < 5000)
      return TRUE;
  }
}

static gchar *
cd_pg_audit_detail(JsonObject *obj)
{
  g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), obj);
  return cd_json_to_string(node);
}

/* Why the anchor cannot vouch for the chain before a new entry replaces
 * it, or NULL when it can. It is written with every entry, so it names
 * the newest one unless it was deleted, edited or put back. */
static const gchar *
cd_pg_audit_anchor_trouble(CdPgChainHead *h, GBytes *key)
{
  g_autoptr(CdAuditAnchor) a = cd_audit_anchor_parse(h->anchor);

  if (a == NULL)
    return "missing";
  if (!cd_audit_anchor_is_ours(a, key, h->archive_id))
    return "not written for this server with this key";
  if (a->entry != h->last_id || g_strcmp0(a->mac, h->last_hash) != 0)
    return "not naming the newest entry";
  return NULL;
}

/* The refusals of cd_pg_audit() for a process without the chain's key or
 * with another, from the head it read. */
static gboolean
cd_pg_audit_key_ok(CdPgArchive *self, CdPgChainHead *h, GError **error)
{
  if (self->audit_key == NULL && (h->key_id != NULL || h->last_scheme == CD_AUDIT_SCHEME_HMAC)) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE,
                "%s: cannot write the audit log: the server's audit chain is keyed (key id %s) and this process "
                "has no key: give it ([archive] server-audit-key, CHARTDESK_SERVER_AUDIT_KEY or --audit-key)",
                self->where, h->key_id != NULL ? h->key_id : "unknown");
    return FALSE;
  }
  if (self->audit_key != NULL && h->key_id != NULL && g_strcmp0(h->key_id, self->audit_key_id) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE,
                "%s: cannot write the audit log: the server's audit chain is sealed with another key (key id %s; "
                "this key is %s)",
                self->where, h->key_id, self->audit_key_id);
    return FALSE;
  }
  return TRUE;
}

/* A delivery checks first, so that it never stores documents and then
 * fails to record that it did. */
gboolean
cd_pg_audit_check_key(CdPgArchive *self, GError **error)
{
  g_auto(CdPgChainHead) h = { 0 };

  return cd_pg_chain_head_read(self, &h, error) && cd_pg_audit_key_ok(self, &h, error);
}

/* Appends an entry to the server's own chain, as the principal, inside the
 * caller's transaction or in one of its own. Writers are put in line by a
 * transaction-level advisory lock, so the chain never forks. */
gboolean
cd_pg_audit(CdPgArchive *self, const gchar *action, const gchar *object, JsonNode *detail, GError **error)
{
  g_autoptr(JsonNode) wrapped = NULL;
  g_autoptr(CdPgTxn) txn = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  g_autofree gchar *detail_str = NULL;
  g_auto(CdPgChainHead) h = { 0 };
  const gchar *glass = cd_principal_get_break_glass(self->principal, NULL);
  GBytes *key = self->audit_key;

  /* the purpose inside the detail, hashed with it, as in the SQLite archive */
  if (glass != NULL || self->purpose != NULL) {
    g_autoptr(JsonObject) obj = json_object_new();
    g_autofree gchar *purpose = glass != NULL ? g_strdup_printf("break-glass: %s", glass) : g_strdup(self->purpose);
    json_object_set_string_member(obj, "purpose", purpose);
    if (detail != NULL)
      json_object_set_member(obj, "detail", json_node_copy(detail));
    wrapped = json_node_init_object(json_node_alloc(), obj);
    detail = wrapped;
  }
  detail_str = detail != NULL ? cd_json_to_string(detail) : g_strdup("{}");
  if (PQtransactionStatus(self->conn) == PQTRANS_IDLE) {
    txn = cd_pg_txn_begin(self, error);
    if (txn == NULL)
      return FALSE;
  }
  if (!cd_pg_exec_ok(self, CD_PG_AUDIT_LOCK, NULL, "cannot write the audit log", error) ||
      !cd_pg_chain_head_read(self, &h, error))
    return FALSE;

  /* a read that cannot be recorded does not happen */
  if (!cd_pg_audit_key_ok(self, &h, error))
    return FALSE;
  if (key == NULL) {
    /* a server never given a key keeps its plain chain (verification says so) */
    if (!cd_pg_audit_insert(self, &h, NULL, ts, action, object, detail_str, error))
      return FALSE;
    return txn == NULL || cd_pg_txn_commit(txn, error);
  }

  if (h.key_id == NULL && !cd_pg_meta_set(self, "server-audit-key-id", self->audit_key_id, error))
    return FALSE;

  if (h.last_id > 0 && h.last_scheme == CD_AUDIT_SCHEME_SHA256) {
    g_autoptr(JsonObject) seal = json_object_new();
    g_autofree gchar *seal_str = NULL;
    gint64 n = 0, first_bad = 0;
    if (!cd_pg_audit_walk_legacy(self, &n, &first_bad, error))
      return FALSE;
    json_object_set_int_member(seal, "legacy_entries", n);
    json_object_set_int_member(seal, "last_legacy_entry", h.last_id);
    json_object_set_string_member(seal, "last_legacy_hash", h.last_hash);
    json_object_set_boolean_member(seal, "legacy_chain_intact", first_bad == 0);
    if (first_bad != 0)
      json_object_set_int_member(seal, "legacy_first_bad_entry", first_bad);
    seal_str = cd_pg_audit_detail(g_steal_pointer(&seal));
    if (!cd_pg_audit_insert(self, &h, key, ts, "audit-seal", "audit", seal_str, error))
      return FALSE;
  } else if (h.last_id > 0) {
    const gchar *reason = cd_pg_audit_anchor_trouble(&h, key);
    if (reason != NULL) {
      g_autoptr(JsonObject) lost = json_object_new();
      g_autofree gchar *lost_str = NULL;
      json_object_set_string_member(lost, "anchor", "meta server-audit-anchor");
      json_object_set_string_member(lost, "reason", reason);
      json_object_set_int_member(lost, "last_entry", h.last_id);
      lost_str = cd_pg_audit_detail(g_steal_pointer(&lost));
      g_message("%s: the server's audit anchor is %s; recording that in the log and writing a new one", self->where,
                reason);
      if (!cd_pg_audit_insert(self, &h, key, ts, "audit-anchor-missing", "audit", lost_str, error))
        return FALSE;
    }
  }
  if (!cd_pg_audit_insert(self, &h, key, ts, action, object, detail_str, error))
    return FALSE;
  {
    g_autofree gchar *anchor = cd_audit_anchor_to_json(key, h.archive_id, h.last_id, h.last_hash);
    if (!cd_pg_meta_set(self, "server-audit-anchor", anchor, error))
      return FALSE;
  }
  return txn == NULL || cd_pg_txn_commit(txn, error);
}

/* ------------------------------------------------------------ verifying */

/* One chain's verification: the server's or a station's. Ids are the
 * server's for the server chain and the station's own (source_id) for a
 * station's. */
typedef struct {
  gint64 entries;
  gint64 legacy;
  gint64 keyed;
  gint64 last_id;
  gint64 seal_id;
  gint64 bad; /* first bad entry, 0 if none or none can be named */
  gchar *problem;
  GPtrArray *warnings;
  GHashTable *wanted; /* ids whose MAC the anchors need: id → MAC */
  gint64 anchor_entry;
} CdPgChainCheck;

static void
cd_pg_chain_check_clear(CdPgChainCheck *c)
{
  g_free(c->problem);
  g_clear_pointer(&c->warnings, g_ptr_array_unref);
  g_clear_pointer(&c->wanted, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CdPgChainCheck, cd_pg_chain_check_clear)

static void
cd_pg_chain_check_init(CdPgChainCheck *c)
{
  c->warnings = g_ptr_array_new_with_free_func(g_free);
  c->wanted = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
}

static void
cd_pg_chain_want(CdPgChainCheck *c, gint64 id)
{
  if (!g_hash_table_contains(c->wanted, &id))
    g_hash_table_insert(c->wanted, g_memdup2(&id, sizeof(id)), NULL);
}

static void G_GNUC_PRINTF(3, 4) cd_pg_chain_fail(CdPgChainCheck *c, gint64 bad, const gchar *format, ...)
{
  va_list args;

  if (c->problem != NULL)
    return;
  c->bad = bad;
  va_start(args, format);
  c->problem = g_strdup_vprintf(format, args);
  va_end(args);
}

/* Walks one chain (@station NULL: the server's), @key NULL: the keyed
 * entries' links only, not their MACs. */
static gboolean
cd_pg_chain_walk(CdPgArchive *self, CdPgChainCheck *c, const gchar *station, GBytes *key, const gchar *archive_id,
                 const gchar *what, GError **error)
{
  g_autofree gchar *prev = g_strdup(station == NULL ? CD_PG_AUDIT_GENESIS : CD_AUDIT_GENESIS);
  gint64 prev_id = 0;
  gint64 after = 0;

  for (;;) {
    g_autoptr(CdPgParams) p = cd_pg_params_new();
    g_autoptr(PGresult) res = NULL;
    gint rows;

    cd_pg_params_add_int(p, after);
    if (station == NULL) {
      res = cd_pg_exec(self,
                       "SELECT id, ts, actor, action, object, detail, prev_hash, hash, scheme FROM audit "
                       "WHERE station IS NULL AND id > $1 ORDER BY id LIMIT 5000",
                       p, "cannot read the audit log", error);
    } else {
      cd_pg_params_add(p, station);
      res = cd_pg_exec(self,
                       "SELECT source_id, ts, actor, action, object, detail, prev_hash, hash, scheme FROM audit "
                       "WHERE station = $2 AND source_id > $1 ORDER BY source_id LIMIT 5000",
                       p, "cannot read the audit log", error);
    }
    if (res == NULL)
      return FALSE;
    rows = PQntuples(res);
    for (gint r = 0; r < rows; r++) {
      gint64 id = cd_pg_int(res, r, 0);
      const gchar *action = cd_pg_value(res, r, 3);
      const gchar *stored_prev = cd_pg_value(res, r, 6);
      const gchar *stored_hash = cd_pg_value(res, r, 7);
      gint scheme = (gint) cd_pg_int(res, r, 8);
      g_autofree gchar *expect = NULL;

      after = id;
      c->entries++;
      c->last_id = id;
      if (c->problem != NULL)
        continue;
      if (scheme == CD_AUDIT_SCHEME_SHA256) {
        c->legacy++;
        if (c->keyed > 0) {
          cd_pg_chain_fail(c, id,
                           "%s: entry %" G_GINT64_FORMAT " is an unkeyed entry after keyed ones (written without "
                           "the key)",
                           what, id);
          continue;
        }
        expect = cd_audit_legacy_hash(prev, cd_pg_value(res, r, 1), cd_pg_value(res, r, 2), action,
                                      cd_pg_value(res, r, 4), cd_pg_value(res, r, 5));
      } else if (scheme == CD_AUDIT_SCHEME_HMAC) {
        c->keyed++;
        if (c->keyed == 1 && c->legacy > 0) {
          c->seal_id = id;
          if (g_strcmp0(action, "audit-seal") != 0) {
            cd_pg_chain_fail(c, id,
                             "%s: entry %" G_GINT64_FORMAT " is the first keyed entry after plain ones but not "
                             "their seal",
                             what, id);
            continue;
          }
        }
        if (key != NULL)
          expect = cd_audit_entry_mac(key, archive_id, id, prev, cd_pg_value(res, r, 1), cd_pg_value(res, r, 2), action,
                                      cd_pg_value(res, r, 4), cd_pg_value(res, r, 5));
        if (g_strcmp0(action, "audit-anchor-missing") == 0)
          g_ptr_array_add(c->warnings, g_strdup_printf("%s: entry %" G_GINT64_FORMAT ": the anchor was missing or "
                                                       "not this archive's and was written anew; entries removed "
                                                       "before then cannot be ruled out",
                                                       what, id));
      } else {
        cd_pg_chain_fail(c, id, "%s: entry %" G_GINT64_FORMAT " has an unknown scheme %d", what, id, scheme);
        continue;
      }
      if (g_strcmp0(stored_prev, prev) != 0) {
        if (prev_id == 0)
          cd_pg_chain_fail(c, id,
                           "%s: entry %" G_GINT64_FORMAT " is the first of the chain but does not start it: the "
                           "entries before it were deleted, or it was altered",
                           what, id);
        else
          cd_pg_chain_fail(c, id,
                           "%s: entry %" G_GINT64_FORMAT " does not follow entry %" G_GINT64_FORMAT
                           " (its previous hash is not that entry's): an entry between them was deleted, or one of "
                           "them was altered",
                           what, id, prev_id);
        continue;
      }
      if (expect != NULL && g_strcmp0(stored_hash, expect) != 0) {
        cd_pg_chain_fail(c, id, "%s: entry %" G_GINT64_FORMAT " does not match the %s: it was altered", what, id,
                         scheme == CD_AUDIT_SCHEME_HMAC ? "keyed chain (edited, or another key)" : "hash chain");
        continue;
      }
      if (g_hash_table_contains(c->wanted, &id))
        g_hash_table_insert(c->wanted, g_memdup2(&id, sizeof(id)), g_strdup(stored_hash));
      g_free(prev);
      prev = g_strdup(stored_hash);
      prev_id = id;
    }
    if (rows < CD_PG_AUDIT_CHUNK)
      return TRUE;
  }
}

/* Compares an anchor with the walked chain. @newest: the anchor must name
 * the chain's newest entry (the server's, written with every entry). */
static void
cd_pg_chain_check_anchor(CdPgChainCheck *c, CdAuditAnchor *a, GBytes *key, const gchar *archive_id, const gchar *what,
                         const gchar *anchor_name, gboolean newest)
{
  const gchar *mac;

  if (!cd_audit_anchor_is_ours(a, key, archive_id)) {
    cd_pg_chain_fail(c, 0, "%s: %s was not written for this archive with this key (forged, or another archive's)", what,
                     anchor_name);
    return;
  }
  if (a->entry > c->last_id) {
    if (!newest) {
      g_ptr_array_add(c->warnings, g_strdup_printf("%s: %s names entry %" G_GINT64_FORMAT
                                                   ", after the last one delivered (%" G_GINT64_FORMAT
                                                   "): not delivered yet, or removed on the server",
                                                   what, anchor_name, a->entry, c->last_id));
      return;
    }
    cd_pg_chain_fail(c, a->entry,
                     "%s: the chain ends at entry %" G_GINT64_FORMAT " but %s names entry %" G_GINT64_FORMAT
                     ": the newest entries were removed",
                     what, c->last_id, anchor_name, a->entry);
    return;
  }
  mac = g_hash_table_lookup(c->wanted, &a->entry);
  if (mac == NULL) {
    cd_pg_chain_fail(c, a->entry, "%s: entry %" G_GINT64_FORMAT ", which %s names, is missing", what, a->entry,
                     anchor_name);
    return;
  }
  if (g_strcmp0(mac, a->mac) != 0) {
    cd_pg_chain_fail(c, a->entry,
                     "%s: entry %" G_GINT64_FORMAT " is not the entry %s recorded: the chain was rewritten", what,
                     a->entry, anchor_name);
    return;
  }
  if (newest && a->entry < c->last_id)
    cd_pg_chain_fail(c, a->entry,
                     "%s: %s names entry %" G_GINT64_FORMAT " but the chain goes on to entry %" G_GINT64_FORMAT
                     ": the anchor was put back to an older copy",
                     what, anchor_name, a->entry, c->last_id);
}

static void
cd_pg_chain_report(JsonBuilder *b, CdPgChainCheck *c)
{
  json_builder_set_member_name(b, "intact");
  json_builder_add_boolean_value(b, c->problem == NULL);
  json_builder_set_member_name(b, "entries");
  json_builder_add_int_value(b, c->entries);
  json_builder_set_member_name(b, "legacy_entries");
  json_builder_add_int_value(b, c->legacy);
  json_builder_set_member_name(b, "keyed_entries");
  json_builder_add_int_value(b, c->keyed);
  json_builder_set_member_name(b, "seal_entry");
  if (c->seal_id > 0)
    json_builder_add_int_value(b, c->seal_id);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "first_bad_entry");
  if (c->problem != NULL && c->bad > 0)
    json_builder_add_int_value(b, c->bad);
  else
    json_builder_add_null_value(b);
  cd_json_add_string_or_null(b, "problem", c->problem);
  json_builder_set_member_name(b, "warnings");
  json_builder_begin_array(b);
  for (guint i = 0; i < c->warnings->len; i++)
    json_builder_add_string_value(b, g_ptr_array_index(c->warnings, i));
  json_builder_end_array(b);
}

/* The server's chain: links, hashes, MACs under the server's key, the seal,
 * the key id and the anchor. */
static gboolean
cd_pg_verify_server(CdPgArchive *self, JsonBuilder *b, gchar **first_problem, gint64 *first_bad, GError **error)
{
  g_auto(CdPgChainCheck) c = { 0 };
  g_auto(CdPgChainHead) h = { 0 };
  g_autoptr(CdAuditAnchor) anchor = NULL;
  GBytes *key = self->audit_key;
  const gchar *what = "the server's chain";

  cd_pg_chain_check_init(&c);
  if (!cd_pg_chain_head_read(self, &h, error))
    return FALSE;
  anchor = cd_audit_anchor_parse(h.anchor);
  if (anchor != NULL)
    cd_pg_chain_want(&c, anchor->entry);
  if (key != NULL && h.key_id != NULL && g_strcmp0(h.key_id, self->audit_key_id) != 0)
    cd_pg_chain_fail(&c, 0, "%s is sealed with another key (key id %s; this key is %s)", what, h.key_id,
                     self->audit_key_id);
  if (!cd_pg_chain_walk(self, &c, NULL, c.problem == NULL ? key : NULL, h.archive_id, what, error))
    return FALSE;
  if (c.problem == NULL && key == NULL && (c.keyed > 0 || h.key_id != NULL))
    cd_pg_chain_fail(&c, 0,
                     "%s is keyed (key id %s) and cannot be verified without its key: only its links were checked; "
                     "give the server's key (--audit-key FILE or CHARTDESK_SERVER_AUDIT_KEY)",
                     what, h.key_id != NULL ? h.key_id : "unknown");
  if (c.problem == NULL && c.keyed == 0 && c.legacy > 0)
    g_ptr_array_add(c.warnings, g_strdup_printf("%s: its %" G_GINT64_FORMAT " entries are plain SHA-256, not keyed: "
                                                "anyone who can write the database could rewrite them; configure "
                                                "[archive] server-audit-key (the next entry seals them)",
                                                what, c.legacy));
  if (c.problem == NULL && (c.keyed > 0 || h.key_id != NULL)) {
    if (anchor == NULL) {
      cd_pg_chain_fail(&c, 0,
                       "%s: its anchor (meta server-audit-anchor) is missing: the newest entries cannot be "
                       "proven complete",
                       what);
    } else {
      c.anchor_entry = anchor->entry;
      cd_pg_chain_check_anchor(&c, anchor, key, h.archive_id, what, "the anchor", TRUE);
    }
  }

  json_builder_set_member_name(b, "server");
  json_builder_begin_object(b);
  cd_pg_chain_report(b, &c);
  cd_json_add_string_or_null(b, "archive_id", h.archive_id);
  cd_json_add_string_or_null(b, "key_id", self->audit_key_id);
  cd_json_add_string_or_null(b, "sealed_key_id", h.key_id);
  json_builder_set_member_name(b, "anchor_entry");
  if (c.anchor_entry > 0)
    json_builder_add_int_value(b, c.anchor_entry);
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  if (c.problem != NULL && *first_problem == NULL) {
    *first_problem = g_strdup_printf("%s: %s", self->where, c.problem);
    *first_bad = c.bad;
  }
  return TRUE;
}

/* A station's delivered chain: with its key, as `chartdesk audit verify`
 * on the station (MACs, seal, the batches' anchors); without, the links
 * and the plain entries' hashes only. */
static gboolean
cd_pg_verify_station(CdPgArchive *self, JsonBuilder *b, const gchar *station, const gchar *archive_id,
                     gchar **first_problem, gint64 *first_bad, GError **error)
{
  g_auto(CdPgChainCheck) c = { 0 };
  g_autoptr(PGresult) batches = NULL;
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(GPtrArray) anchors = g_ptr_array_new_with_free_func((GDestroyNotify) cd_audit_anchor_free);
  g_autofree gchar *what = g_strdup_printf("station %s's chain", station);
  GBytes *key = self->station_keys != NULL ? g_hash_table_lookup(self->station_keys, station) : NULL;

  cd_pg_chain_check_init(&c);
  if (key != NULL && archive_id == NULL) {
    cd_pg_chain_fail(&c, 0, "%s: the server does not know the station's archive id, which its MACs cover", what);
    key = NULL;
  }
  if (key != NULL) {
    cd_pg_params_add(p, station);
    batches = cd_pg_exec(self,
                         "SELECT source_batch_id, audit_anchor FROM batches WHERE station = $1 AND audit_anchor IS "
                         "NOT NULL ORDER BY source_batch_id",
                         p, "cannot read the batches' audit anchors", error);
    if (batches == NULL)
      return FALSE;
    for (gint r = 0; r < PQntuples(batches); r++) {
      CdAuditAnchor *a = cd_audit_anchor_parse(cd_pg_value(batches, r, 1));
      g_ptr_array_add(anchors, a);
      cd_pg_chain_want(&c, a->entry);
    }
  }
  if (!cd_pg_chain_walk(self, &c, station, key, archive_id, what, error))
    return FALSE;
  for (guint i = 0; key != NULL && i < anchors->len && c.problem == NULL; i++) {
    g_autofree gchar *name = g_strdup_printf("batch %s's journal", cd_pg_value(batches, (gint) i, 0));
    cd_pg_chain_check_anchor(&c, g_ptr_array_index(anchors, i), key, archive_id, what, name, FALSE);
  }
  if (c.problem == NULL && key == NULL && c.keyed > 0)
    g_ptr_array_add(c.warnings,
                    g_strdup_printf("%s: checked for its links and plain hashes only, not its MACs: give the "
                                    "station's key (--station-key %s=FILE)",
                                    what, station));

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "station");
  json_builder_add_string_value(b, station);
  json_builder_set_member_name(b, "verified");
  json_builder_add_string_value(b, key != NULL ? "key" : "structure");
  cd_json_add_string_or_null(b, "archive_id", archive_id);
  cd_pg_chain_report(b, &c);
  json_builder_end_object(b);
  if (c.problem != NULL && *first_problem == NULL) {
    *first_problem = g_strdup_printf("%s: %s", self->where, c.problem);
    *first_bad = c.bad;
  }
  return TRUE;
}

static JsonNode *
cd_pg_verify_run(CdPgArchive *self, gchar **first_problem, gint64 *first_bad, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(PGresult) stations = NULL;

  /* the chain's integrity, no chart content: auditors and administrators */
  if (!cd_principal_has(self->principal, CD_PERMISSION_CONFIGURE) &&
      !cd_pg_require(self, CD_PERMISSION_READ_AUDIT, "verify the audit log", "audit", error))
    return NULL;
  stations = cd_pg_exec(self,
                        "SELECT s.name, s.spool_archive_id FROM stations s "
                        "WHERE EXISTS (SELECT 1 FROM audit a WHERE a.station = s.name) ORDER BY s.name",
                        NULL, "cannot read the stations", error);
  if (stations == NULL)
    return NULL;
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "archive");
  json_builder_add_string_value(b, self->where);
  if (!cd_pg_verify_server(self, b, first_problem, first_bad, error))
    return NULL;
  json_builder_set_member_name(b, "stations");
  json_builder_begin_array(b);
  for (gint r = 0; r < PQntuples(stations); r++) {
    if (!cd_pg_verify_station(self, b, cd_pg_value(stations, r, 0), cd_pg_value(stations, r, 1), first_problem,
                              first_bad, error))
      return NULL;
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "intact");
  json_builder_add_boolean_value(b, *first_problem == NULL);
  cd_json_add_string_or_null(b, "problem", *first_problem);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/**
 * cd_pg_archive_verify_audit_report:
 * @self: the server
 * @error: return location for a #GError
 *
 * Verifies the server's own chain (links, plain hashes, MACs under the
 * server's key, the seal, the anchor) and every station's delivered chain
 * (against the station's key when given with
 * cd_pg_archive_set_station_audit_key(), else its links and plain hashes
 * only, reported as `"verified": "structure"`). Needs
 * %CD_PERMISSION_READ_AUDIT or %CD_PERMISSION_CONFIGURE.
 *
 * Returns: (transfer full): `{"archive", "intact", "problem", "server":
 *   {…}, "stations": [{"station", "verified", …}]}`, each chain with
 *   `intact`, `entries`, `legacy_entries`, `keyed_entries`, `seal_entry`,
 *   `first_bad_entry` (the server's id, or the station's own), `problem`
 *   and `warnings`; %NULL with @error set when it cannot be read
 */
JsonNode *
cd_pg_archive_verify_audit_report(CdPgArchive *self, GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;
  g_autofree gchar *problem = NULL;
  gint64 bad = 0;

  g_return_val_if_fail(self != NULL, NULL);
  held = g_rec_mutex_locker_new(&self->mutex);
  return cd_pg_verify_run(self, &problem, &bad, error);
}

/**
 * cd_pg_archive_verify_audit:
 * @self: the server
 * @bad_entry: (out) (optional): the first entry that does not verify, 0
 *   when the problem names none
 * @error: return location for a #GError
 *
 * cd_pg_archive_verify_audit_report() as a yes or no.
 *
 * Returns: %TRUE if every chain is intact; %FALSE with
 *   %CD_ERROR_INVALID_DATA naming the chain, the entry and what is wrong
 */
gboolean
cd_pg_archive_verify_audit(CdPgArchive *self, gint64 *bad_entry, GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;
  g_autoptr(JsonNode) report = NULL;
  g_autofree gchar *problem = NULL;
  gint64 bad = 0;

  g_return_val_if_fail(self != NULL, FALSE);
  held = g_rec_mutex_locker_new(&self->mutex);
  if (bad_entry != NULL)
    *bad_entry = 0;
  report = cd_pg_verify_run(self, &problem, &bad, error);
  if (report == NULL)
    return FALSE;
  if (problem == NULL)
    return TRUE;
  if (bad_entry != NULL)
    *bad_entry = bad;
  g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, problem);
  return FALSE;
}

/* ------------------------------------------------------------ who saw what */

static gboolean
cd_pg_valid_day(const gchar *date)
{
  return date == NULL || g_regex_match_simple("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", date, 0, 0);
}

/* Details are JSON as the writers wrote them; one that is not (an entry
 * altered in the database) reads as NULL instead of failing the listing.
 * A function of the session's own (pg_temp): no schema change. */
static gboolean
cd_pg_audit_json_function(CdPgArchive *self, GError **error)
{
  return cd_pg_exec_ok(self,
                       "CREATE OR REPLACE FUNCTION pg_temp.cd_audit_json(t text) RETURNS jsonb LANGUAGE plpgsql "
                       "IMMUTABLE AS $$BEGIN RETURN t::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END$$",
                       NULL, "cannot read the audit log", error);
}

/* The listing's rows: an entry's patient is its document's (a station's
 * `document:N` is the station's own id, found through its delivery), its
 * page's document's (server entries), or the MRN its detail names.
 *
 * Each filter is answered from an index of schema 4 (the parameters are
 * constants when libpq's unnamed statement is planned, so a filter not
 * given folds away): the user is the actor itself, `USER (…` (a prefix of
 * audit_actor) or `… for USER` (a prefix of the reversed actor,
 * audit_actor_reversed), the name taken literally (its `%`, `_` and `\`
 * escaped); the days are a range of audit_ts, which also gives the order
 * newest first and the paging; the patient is CD_PG_AUDIT_MRN's
 * candidates. */
/* With an MRN ($2): the entries that can be about the patient, from
 * indexes (the MRNs their details name; the objects naming the patient's
 * server documents and pages, and the station documents delivered as
 * them); CD_PG_AUDIT_SELECT's condition then decides, as without it. An
 * object is matched as the writers write it (`document:N`, N in decimal). */
#define CD_PG_AUDIT_MRN                                                                                                \
  "AND a.id IN (SELECT x.id FROM audit x WHERE cd_audit_mrns(x.detail) @> ARRAY[$2::text] "                            \
  "UNION ALL SELECT x.id FROM documents dd JOIN audit x ON x.object = 'document:' || dd.id AND x.station IS NULL "     \
  "WHERE dd.patient_mrn = $2 "                                                                                         \
  "UNION ALL SELECT x.id FROM documents dd JOIN deliveries v ON v.document_id = dd.id JOIN audit x ON x.object = "     \
  "'document:' || v.source_document_id AND x.station = v.station WHERE dd.patient_mrn = $2 "                           \
  "UNION ALL SELECT x.id FROM documents dd JOIN pages pg ON pg.document_id = dd.id JOIN audit x ON x.object = "        \
  "'page:' || pg.id AND x.station IS NULL WHERE dd.patient_mrn = $2) "

#define CD_PG_AUDIT_SELECT                                                                                             \
  "SELECT a.id, a.station, a.source_id, a.ts, a.actor, a.action, a.object, "                                           \
  "coalesce(d.patient_mrn, a.j->>'mrn', a.j->'detail'->>'mrn'), d.id, a.j->>'purpose', a.detail "                      \
  "FROM (SELECT *, pg_temp.cd_audit_json(detail) AS j FROM audit) a "                                                  \
  "LEFT JOIN LATERAL (SELECT CASE "                                                                                    \
  "WHEN a.object !~ '^(document|page):[0-9]{1,18}$' THEN NULL "                                                        \
  "WHEN a.object LIKE 'document:%' AND a.station IS NULL THEN substr(a.object, 10)::bigint "                           \
  "WHEN a.object LIKE 'document:%' THEN (SELECT v.document_id FROM deliveries v WHERE v.station = a.station "          \
  "AND v.source_document_id = substr(a.object, 10)::bigint) "                                                          \
  "WHEN a.station IS NULL THEN (SELECT pg.document_id FROM pages pg WHERE pg.id = substr(a.object, 6)::bigint) "       \
  "END AS doc) o ON true "                                                                                             \
  "LEFT JOIN documents d ON d.id = o.doc "                                                                             \
  "WHERE ($1::text IS NULL OR a.actor = $1 "                                                                           \
  "OR a.actor LIKE replace(replace(replace($1, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || ' (%' "                      \
  "OR reverse(a.actor) LIKE replace(replace(replace(reverse($1), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || ' rof "    \
  "%') "                                                                                                               \
  "AND ($2::text IS NULL OR d.patient_mrn = $2 OR a.j->>'mrn' = $2 OR a.j->'detail'->>'mrn' = $2) "                    \
  "AND ($3::text IS NULL OR a.ts >= $3) AND ($4::text IS NULL OR a.ts < (($4::date + 1)::text)) "

static CdPgParams *
cd_pg_audit_filter_params(const gchar *user, const gchar *mrn, const gchar *from, const gchar *to)
{
  CdPgParams *p = cd_pg_params_new();

  cd_pg_params_add(p, user);
  cd_pg_params_add(p, mrn);
  cd_pg_params_add(p, from);
  cd_pg_params_add(p, to);
  return p;
}

/* the export's next chunk, after ($5, $6) */
#define CD_PG_AUDIT_NEXT                                                                                               \
  "AND ($5::text IS NULL OR (a.ts, a.id) < ($5::text, $6::bigint)) ORDER BY a.ts DESC, a.id DESC LIMIT 1000"

/* One row of CD_PG_AUDIT_SELECT as the listing's object. */
static JsonNode *
cd_pg_audit_row(PGresult *res, gint r)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonParser) parser = json_parser_new();
  const gchar *purpose = cd_pg_value(res, r, 9);
  const gchar *text = cd_pg_value(res, r, 10);
  JsonNode *inner = NULL;

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, cd_pg_int(res, r, 0));
  cd_json_add_string_or_null(b, "station", cd_pg_value(res, r, 1));
  json_builder_set_member_name(b, "source_id");
  if (cd_pg_value(res, r, 2) != NULL)
    json_builder_add_int_value(b, cd_pg_int(res, r, 2));
  else
    json_builder_add_null_value(b);
  cd_json_add_string_or_null(b, "time", cd_pg_value(res, r, 3));
  cd_json_add_string_or_null(b, "user", cd_pg_value(res, r, 4));
  cd_json_add_string_or_null(b, "action", cd_pg_value(res, r, 5));
  cd_json_add_string_or_null(b, "object", cd_pg_value(res, r, 6));
  cd_json_add_string_or_null(b, "mrn", cd_pg_value(res, r, 7));
  json_builder_set_member_name(b, "document");
  if (cd_pg_value(res, r, 8) != NULL)
    json_builder_add_int_value(b, cd_pg_int(res, r, 8));
  else
    json_builder_add_null_value(b);
  cd_json_add_string_or_null(b, "purpose", purpose);
  json_builder_set_member_name(b, "break_glass");
  json_builder_add_boolean_value(b, purpose != NULL && g_str_has_prefix(purpose, "break-glass:"));
  /* the entry's own detail, without the purpose wrapper */
  json_builder_set_member_name(b, "detail");
  if (text != NULL && json_parser_load_from_data(parser, text, -1, NULL)) {
    JsonNode *root = json_parser_get_root(parser);
    inner = root;
    if (purpose != NULL && root != NULL && JSON_NODE_HOLDS_OBJECT(root))
      inner = json_object_get_member(json_node_get_object(root), "detail");
  }
  if (inner != NULL)
    json_builder_add_value(b, json_node_copy(inner));
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static gboolean
cd_pg_audit_check_filters(const gchar *from, const gchar *to, GError **error)
{
  if (cd_pg_valid_day(from) && cd_pg_valid_day(to))
    return TRUE;
  g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: dates must be given as YYYY-MM-DD (got '%s')",
              cd_pg_valid_day(from) ? "to" : "from", cd_pg_valid_day(from) ? to : from);
  return FALSE;
}

static JsonNode *
cd_pg_audit_filters_detail(const gchar *user, const gchar *mrn, const gchar *from, const gchar *to, const gchar *format)
{
  JsonObject *obj = json_object_new();

  json_object_set_string_member(obj, "user", user);
  json_object_set_string_member(obj, "mrn", mrn);
  json_object_set_string_member(obj, "from", from);
  json_object_set_string_member(obj, "to", to);
  if (format != NULL)
    json_object_set_string_member(obj, "format", format);
  return json_node_init_object(json_node_alloc(), obj);
}

/* The listing's two statements, its count and its page: the ones
 * cd_pg_archive_list_audit() runs and cd_pg_archive_explain_list_audit()
 * explains, so the plans shown are the plans of the listing. */
#define CD_PG_AUDIT_COUNT(select) "SELECT count(*) FROM (" select ") c"
#define CD_PG_AUDIT_PAGE(select) select "ORDER BY a.ts DESC, a.id DESC LIMIT $5 OFFSET $6"

static const gchar *
cd_pg_audit_count_sql(const gchar *mrn)
{
  return mrn != NULL ? CD_PG_AUDIT_COUNT(CD_PG_AUDIT_SELECT CD_PG_AUDIT_MRN) : CD_PG_AUDIT_COUNT(CD_PG_AUDIT_SELECT);
}

static const gchar *
cd_pg_audit_page_sql(const gchar *mrn)
{
  return mrn != NULL ? CD_PG_AUDIT_PAGE(CD_PG_AUDIT_SELECT CD_PG_AUDIT_MRN) : CD_PG_AUDIT_PAGE(CD_PG_AUDIT_SELECT);
}

/* What reading the listing needs first: valid filters, the server's lock
 * (held by the locker returned) and %CD_PERMISSION_READ_AUDIT. */
static GRecMutexLocker *
cd_pg_audit_lock_listing(CdPgArchive *self, const gchar *from, const gchar *to, GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;

  if (!cd_pg_audit_check_filters(from, to, error))
    return NULL;
  held = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_pg_require(self, CD_PERMISSION_READ_AUDIT, "read the audit log", "audit", error) ||
      !cd_pg_audit_json_function(self, error))
    return NULL;
  return g_steal_pointer(&held);
}

/**
 * cd_pg_archive_list_audit:
 * @self: the server
 * @user: (nullable): only this user's entries
 * @mrn: (nullable): only entries about this patient
 * @from: (nullable): only entries on or after this day, `YYYY-MM-DD`
 * @to: (nullable): only entries on or before this day
 * @limit: the most entries to return, 0 for 100
 * @offset: entries to skip, for paging
 * @total: (out) (optional): how many entries match
 * @error: return location for a #GError
 *
 * Who saw what on the server: the server's own entries and every
 * station's delivered ones, newest first, as cd_archive_list_audit() on
 * SQLite. Needs %CD_PERMISSION_READ_AUDIT (a refusal is audited);
 * audited itself (`audit-list`).
 *
 * Returns: (transfer full): a JSON array of `{"id", "station",
 *   "source_id", "time", "user", "action", "object", "mrn", "document",
 *   "purpose", "break_glass", "detail"}` (`station` null for the server's
 *   own entries; `document` the server's id), or %NULL with @error set
 */
JsonNode *
cd_pg_archive_list_audit(CdPgArchive *self, const gchar *user, const gchar *mrn, const gchar *from, const gchar *to,
                         guint limit, guint offset, gint64 *total, GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;
  g_autoptr(CdPgParams) cp = NULL;
  g_autoptr(CdPgParams) p = NULL;
  g_autoptr(PGresult) count = NULL;
  g_autoptr(PGresult) res = NULL;
  g_autoptr(JsonNode) detail = NULL;
  JsonArray *rows;

  g_return_val_if_fail(self != NULL, NULL);
  held = cd_pg_audit_lock_listing(self, from, to, error);
  if (held == NULL)
    return NULL;
  cp = cd_pg_audit_filter_params(user, mrn, from, to);
  count = cd_pg_exec(self, cd_pg_audit_count_sql(mrn), cp, "cannot read the audit log", error);
  if (count == NULL)
    return NULL;
  p = cd_pg_audit_filter_params(user, mrn, from, to);
  cd_pg_params_add_int(p, limit > 0 ? limit : 100);
  cd_pg_params_add_int(p, offset);
  res = cd_pg_exec(self, cd_pg_audit_page_sql(mrn), p, "cannot read the audit log", error);
  if (res == NULL)
    return NULL;
  rows = json_array_sized_new(PQntuples(res));
  for (gint r = 0; r < PQntuples(res); r++)
    json_array_add_element(rows, cd_pg_audit_row(res, r));
  detail = cd_pg_audit_filters_detail(user, mrn, from, to, NULL);
  if (!cd_pg_audit(self, "audit-list", "audit", detail, error)) {
    json_array_unref(rows);
    return NULL;
  }
  if (total != NULL)
    *total = cd_pg_int(count, 0, 0);
  return json_node_init_array(json_node_alloc(), rows);
}

/**
 * cd_pg_archive_explain_list_audit:
 * @self: the server
 * @user: (nullable): as cd_pg_archive_list_audit()
 * @mrn: (nullable): as cd_pg_archive_list_audit()
 * @from: (nullable): as cd_pg_archive_list_audit()
 * @to: (nullable): as cd_pg_archive_list_audit()
 * @error: return location for a #GError
 *
 * The plans (`EXPLAIN`) of the statements cd_pg_archive_list_audit()
 * runs with these filters, its count and its first page of 100, for the
 * tests and for an administrator checking the indexes. Needs
 * %CD_PERMISSION_READ_AUDIT; reads no entry, so it is not audited.
 *
 * Returns: (transfer full): the plans' text, the count's first, or %NULL
 *   with @error set
 */
gchar *
cd_pg_archive_explain_list_audit(CdPgArchive *self, const gchar *user, const gchar *mrn, const gchar *from,
                                 const gchar *to, GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;
  g_autoptr(GString) out = g_string_new(NULL);
  const gchar *statements[] = { cd_pg_audit_count_sql(mrn), cd_pg_audit_page_sql(mrn) };

  g_return_val_if_fail(self != NULL, NULL);
  held = cd_pg_audit_lock_listing(self, from, to, error);
  if (held == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS(statements); i++) {
    g_autoptr(CdPgParams) p = cd_pg_audit_filter_params(user, mrn, from, to);
    g_autoptr(PGresult) res = NULL;
    g_autofree gchar *explain = g_strconcat("EXPLAIN ", statements[i], NULL);
    if (i == 1) {
      cd_pg_params_add_int(p, 100);
      cd_pg_params_add_int(p, 0);
    }
    res = cd_pg_exec(self, explain, p, "cannot explain the audit listing", error);
    if (res == NULL)
      return NULL;
    for (gint r = 0; r < PQntuples(res); r++)
      g_string_append_printf(out, "%s\n", cd_pg_value(res, r, 0));
    g_string_append(out, "\n");
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* One field and its separator: RFC 4180, formulas guarded (cd-csv.c). */
static void
cd_pg_csv_field(GString *out, const gchar *value, gboolean last)
{
  cd_csv_append_field(out, value);
  g_string_append(out, last ? "\r\n" : ",");
}

static const gchar *const cd_pg_audit_columns[] = {
  "id",     "station", "source_id", "time",    "user",        "action",
  "object", "mrn",     "document",  "purpose", "break_glass", "detail",
};

static void
cd_pg_audit_csv_row(GString *out, JsonNode *row)
{
  JsonObject *obj = json_node_get_object(row);

  for (guint i = 0; i < G_N_ELEMENTS(cd_pg_audit_columns); i++) {
    JsonNode *v = json_object_get_member(obj, cd_pg_audit_columns[i]);
    g_autofree gchar *text = NULL;
    gboolean last = i + 1 == G_N_ELEMENTS(cd_pg_audit_columns);

    if (v == NULL || JSON_NODE_HOLDS_NULL(v))
      text = NULL;
    else if (json_node_get_value_type(v) == G_TYPE_STRING)
      text = g_strdup(json_node_get_string(v));
    else if (json_node_get_value_type(v) == G_TYPE_BOOLEAN)
      text = g_strdup(json_node_get_boolean(v) ? "true" : "false");
    else
      text = cd_json_to_string(v);
    cd_pg_csv_field(out, text, last);
  }
}

/**
 * cd_pg_archive_export_audit:
 * @self: the server
 * @user: (nullable): only this user's entries
 * @mrn: (nullable): only entries about this patient
 * @from: (nullable): only entries on or after this day, `YYYY-MM-DD`
 * @to: (nullable): only entries on or before this day
 * @format: `csv` (a header line, then one line an entry) or `json` (an array)
 * @out: where the entries are written
 * @n_entries: (out) (optional): how many were written
 * @cancellable: (nullable): stops the export between chunks
 * @error: return location for a #GError
 *
 * Every entry cd_pg_archive_list_audit() would list, newest first, read
 * from the server 1,000 at a time. Needs %CD_PERMISSION_READ_AUDIT;
 * `audit-export` is recorded (and committed) before the first entry is
 * written, so an export cut short is on the record too.
 *
 * Returns: %TRUE on success
 */
gboolean
cd_pg_archive_export_audit(CdPgArchive *self, const gchar *user, const gchar *mrn, const gchar *from, const gchar *to,
                           const gchar *format, GOutputStream *out, guint64 *n_entries, GCancellable *cancellable,
                           GError **error)
{
  g_autoptr(GRecMutexLocker) held = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *after_ts = NULL;
  g_autofree gchar *after_id = NULL;
  gboolean csv = g_strcmp0(format, "csv") == 0;
  guint64 n = 0;

  g_return_val_if_fail(self != NULL && G_IS_OUTPUT_STREAM(out), FALSE);
  if (!csv && g_strcmp0(format, "json") != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "audit export: unknown format '%s' (csv or json)",
                format != NULL ? format : "");
    return FALSE;
  }
  if (!cd_pg_audit_check_filters(from, to, error))
    return FALSE;
  held = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_pg_require(self, CD_PERMISSION_READ_AUDIT, "export the audit log", "audit", error) ||
      !cd_pg_audit_json_function(self, error))
    return FALSE;
  detail = cd_pg_audit_filters_detail(user, mrn, from, to, format);
  if (!cd_pg_audit(self, "audit-export", "audit", detail, error))
    return FALSE;

  {
    g_autoptr(GString) head = g_string_new(NULL);
    if (csv) {
      for (guint i = 0; i < G_N_ELEMENTS(cd_pg_audit_columns); i++)
        cd_pg_csv_field(head, cd_pg_audit_columns[i], i + 1 == G_N_ELEMENTS(cd_pg_audit_columns));
    } else {
      g_string_append(head, "[");
    }
    if (!g_output_stream_write_all(out, head->str, head->len, NULL, cancellable, error))
      return FALSE;
  }
  /* keyset paging on (time, id): a chunk never repeats or skips an entry
   * as new ones arrive */
  for (;;) {
    g_autoptr(CdPgParams) p = cd_pg_audit_filter_params(user, mrn, from, to);
    g_autoptr(PGresult) res = NULL;
    g_autoptr(GString) chunk = g_string_new(NULL);
    gint rows;

    cd_pg_params_add(p, after_ts);
    cd_pg_params_add(p, after_id);
    res = cd_pg_exec(
        self, mrn != NULL ? CD_PG_AUDIT_SELECT CD_PG_AUDIT_MRN CD_PG_AUDIT_NEXT : CD_PG_AUDIT_SELECT CD_PG_AUDIT_NEXT,
        p, "cannot read the audit log", error);
    if (res == NULL)
      return FALSE;
    rows = PQntuples(res);
    for (gint r = 0; r < rows; r++) {
      g_autoptr(JsonNode) row = cd_pg_audit_row(res, r);
      if (csv) {
        cd_pg_audit_csv_row(chunk, row);
      } else {
        g_autofree gchar *text = cd_json_to_string(row);
        g_string_append(chunk, n == 0 ? "\n" : ",\n");
        g_string_append(chunk, text);
      }
      n++;
    }
    if (!g_output_stream_write_all(out, chunk->str, chunk->len, NULL, cancellable, error))
      return FALSE;
    if (rows < 1000)
      break;
    g_free(after_ts);
    g_free(after_id);
    after_ts = g_strdup(cd_pg_value(res, rows - 1, 3));
    after_id = g_strdup(cd_pg_value(res, rows - 1, 0));
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
  }
  if (!csv && !g_output_stream_write_all(out, n > 0 ? "\n]\n" : "]\n", n > 0 ? 3 : 2, NULL, cancellable, error))
    return FALSE;
  if (n_entries != NULL)
    *n_entries = n;
  return TRUE;
}
