/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SQLite archive, retention: legal holds, the retention plan, the
 * destruction of what a plan found due (tombstones, the full-text index
 * merged, the file vacuumed) and its certificate.
 *
 * A plan changes nothing but the audit log: its `retention-plan` entry
 * records the plan's SHA-256 and who made it. Destruction accepts only a
 * plan whose checksum the (verified) log holds, takes the planner's name
 * from that entry, not from the file, and checks every document again:
 * still due under the plan's own policy on the day of destruction, under
 * no hold now, no newer date of service for its patient since the plan.
 */
#include "config.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <sqlite3.h>
#include <string.h>

#include "cd-archive-private.h"
#include "cd-error.h"
#include "cd-util-private.h"

#define CD_PLAN_FORMAT "chartdesk-retention-plan-1"
#define HOLD_COLUMNS                                                                                                   \
  "id, kind, mrn, document_id, query, reason, matter, placed_by, placed_at, released_by, released_at, "                \
  "release_reason"

/**
 * cd_legal_hold_free:
 * @hold: (nullable): a hold
 *
 * Since: 0.4
 */
void
cd_legal_hold_free(CdLegalHold *hold)
{
  if (hold == NULL)
    return;
  g_free(hold->kind);
  g_free(hold->mrn);
  g_free(hold->query);
  g_free(hold->reason);
  g_free(hold->matter);
  g_free(hold->placed_by);
  g_free(hold->placed_at);
  g_free(hold->released_by);
  g_free(hold->released_at);
  g_free(hold->release_reason);
  g_free(hold);
}

static CdLegalHold *
cd_legal_hold_from_row(sqlite3_stmt *stmt)
{
  CdLegalHold *h = g_new0(CdLegalHold, 1);

  h->id = sqlite3_column_int64(stmt, 0);
  h->kind = cd_column_dup(stmt, 1);
  h->mrn = cd_column_dup(stmt, 2);
  h->document_id = sqlite3_column_int64(stmt, 3);
  h->query = cd_column_dup(stmt, 4);
  h->reason = cd_column_dup(stmt, 5);
  h->matter = cd_column_dup(stmt, 6);
  h->placed_by = cd_column_dup(stmt, 7);
  h->placed_at = cd_column_dup(stmt, 8);
  h->released_by = cd_column_dup(stmt, 9);
  h->released_at = cd_column_dup(stmt, 10);
  h->release_reason = cd_column_dup(stmt, 11);
  return h;
}

static void
cd_json_member_int(JsonBuilder *b, const gchar *name, gint64 value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

static JsonNode *
cd_json_parse(const gchar *text)
{
  g_autoptr(JsonParser) parser = json_parser_new();

  if (text == NULL || !json_parser_load_from_data(parser, text, -1, NULL) || json_parser_get_root(parser) == NULL)
    return NULL;
  return json_node_copy(json_parser_get_root(parser));
}

static void
cd_legal_hold_build(JsonBuilder *b, const CdLegalHold *h)
{
  json_builder_begin_object(b);
  cd_json_member_int(b, "id", h->id);
  cd_json_add_string_or_null(b, "kind", h->kind);
  cd_json_add_string_or_null(b, "mrn", h->mrn);
  json_builder_set_member_name(b, "document");
  if (h->document_id > 0)
    json_builder_add_int_value(b, h->document_id);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "query");
  {
    JsonNode *q = cd_json_parse(h->query);
    if (q != NULL)
      json_builder_add_value(b, q);
    else
      json_builder_add_null_value(b);
  }
  cd_json_add_string_or_null(b, "reason", h->reason);
  cd_json_add_string_or_null(b, "matter", h->matter);
  cd_json_add_string_or_null(b, "placed_by", h->placed_by);
  cd_json_add_string_or_null(b, "placed_at", h->placed_at);
  cd_json_add_string_or_null(b, "released_by", h->released_by);
  cd_json_add_string_or_null(b, "released_at", h->released_at);
  cd_json_add_string_or_null(b, "release_reason", h->release_reason);
  json_builder_set_member_name(b, "active");
  json_builder_add_boolean_value(b, h->released_at == NULL);
  json_builder_end_object(b);
}

/**
 * cd_legal_hold_to_json:
 * @hold: a hold
 *
 * Returns: (transfer full): `{"id", "kind", "mrn", "document", "query",
 *   "reason", "matter", "placed_by", "placed_at", "released_by",
 *   "released_at", "release_reason", "active"}`
 *
 * Since: 0.4
 */
JsonNode *
cd_legal_hold_to_json(const CdLegalHold *hold)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  cd_legal_hold_build(b, hold);
  return json_builder_get_root(b);
}

/**
 * cd_legal_holds_to_json:
 * @holds: (element-type CdLegalHold): holds
 *
 * Returns: (transfer full): a JSON array of cd_legal_hold_to_json() objects
 *
 * Since: 0.4
 */
JsonNode *
cd_legal_holds_to_json(GPtrArray *holds)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  json_builder_begin_array(b);
  for (guint i = 0; holds != NULL && i < holds->len; i++)
    cd_legal_hold_build(b, g_ptr_array_index(holds, i));
  json_builder_end_array(b);
  return json_builder_get_root(b);
}

/* ------------------------------------------------------------ patients */

/* MRN → the MRN it was merged into, for the merged entries only (few). */
static GHashTable *
cd_retention_load_merges(CdArchive *self, GError **error)
{
  g_autoptr(GHashTable) merges = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(sqlite3_stmt) stmt =
      cd_archive_prepare(self, "SELECT mrn, merged_into FROM patients WHERE merged_into IS NOT NULL", error);

  if (stmt == NULL)
    return NULL;
  while (sqlite3_step(stmt) == SQLITE_ROW)
    g_hash_table_insert(merges, cd_column_dup(stmt, 0), cd_column_dup(stmt, 1));
  return g_steal_pointer(&merges);
}

/* The surviving MRN of @mrn (borrowed from @merges or @mrn itself). A loop
 * in bad data stops after 16 steps at wherever it got. */
static const gchar *
cd_retention_survivor(GHashTable *merges, const gchar *mrn)
{
  for (guint i = 0; mrn != NULL && i < 16; i++) {
    const gchar *next = g_hash_table_lookup(merges, mrn);
    if (next == NULL)
      break;
    mrn = next;
  }
  return mrn;
}

/* ------------------------------------------------------------ holds */

/* Which documents the holds in force cover: by surviving MRN (patient
 * holds) and by document id (document holds, and every document a
 * saved-search hold matches now). The holds are owned by @holds. */
typedef struct {
  GPtrArray *holds;   /* CdLegalHold, in force */
  GHashTable *by_mrn; /* surviving MRN → GPtrArray of CdLegalHold (borrowed) */
  GHashTable *by_doc; /* gint64* → GPtrArray of CdLegalHold (borrowed) */
  GHashTable *merges;
} CdHoldIndex;

static void
cd_hold_index_free(CdHoldIndex *idx)
{
  if (idx == NULL)
    return;
  g_clear_pointer(&idx->by_mrn, g_hash_table_unref);
  g_clear_pointer(&idx->by_doc, g_hash_table_unref);
  g_clear_pointer(&idx->holds, g_ptr_array_unref);
  g_clear_pointer(&idx->merges, g_hash_table_unref);
  g_free(idx);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdHoldIndex, cd_hold_index_free)

static void
cd_hold_index_add(GHashTable *table, gconstpointer key, CdLegalHold *hold)
{
  GPtrArray *list = g_hash_table_lookup(table, key);

  if (!g_ptr_array_find(list, hold, NULL))
    g_ptr_array_add(list, hold);
}

/* The documents a saved search matches, as cd_archive_search() would
 * find them (its text as a MATCH, its filters), restricted types
 * included: a hold protects what the approver cannot see too. @only, when
 * > 0, asks about that one document. */
static gboolean
cd_hold_search_documents(CdArchive *self, GHashTable *merges, const gchar *query_json, gint64 only, GArray *out,
                         GError **error)
{
  g_autoptr(JsonNode) q = cd_json_parse(query_json);
  JsonObject *o;
  g_autofree gchar *match = NULL;
  g_autofree gchar *types = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const gchar *text, *mrn, *from, *to;
  gint rc;

  if (q == NULL || !JSON_NODE_HOLDS_OBJECT(q)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: a saved-search hold's query is not a JSON object",
                cd_archive_get_path(self));
    return FALSE;
  }
  o = json_node_get_object(q);
  text = json_object_get_string_member_with_default(o, "text", NULL);
  mrn = json_object_get_string_member_with_default(o, "mrn", NULL);
  from = json_object_get_string_member_with_default(o, "from", NULL);
  to = json_object_get_string_member_with_default(o, "to", NULL);
  if (json_object_has_member(o, "types") && JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "types")))
    types = cd_json_to_string(json_object_get_member(o, "types"));
  if (!cd_query_text_to_match(text, json_object_get_boolean_member_with_default(o, "plain", FALSE), &match, error))
    return FALSE;
  stmt = cd_archive_prepare(
      self,
      "SELECT d.id FROM documents d WHERE (?7 = 0 OR d.id = ?7) "
      "AND (?1 IS NULL OR d.patient_mrn = ?1 OR d.patient_mrn = ?6) "
      "AND (?2 IS NULL OR d.type IN (SELECT value FROM json_each(?2))) "
      "AND (?3 IS NULL OR d.date >= ?3) AND (?4 IS NULL OR d.date <= ?4) "
      "AND (?5 IS NULL OR d.id IN (SELECT p.document_id FROM pages_fts f JOIN pages p ON p.id = f.rowid "
      "WHERE pages_fts MATCH ?5 AND p.document_id IS NOT NULL)) ORDER BY d.id",
      error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, mrn);
  cd_bind_text(stmt, 2, types);
  cd_bind_text(stmt, 3, from);
  cd_bind_text(stmt, 4, to);
  cd_bind_text(stmt, 5, match);
  cd_bind_text(stmt, 6, cd_retention_survivor(merges, mrn));
  sqlite3_bind_int64(stmt, 7, only);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(stmt, 0);
    g_array_append_val(out, id);
  }
  if (rc != SQLITE_DONE) {
    g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "%s: the saved search %s cannot be run: %s", cd_archive_get_path(self),
                query_json, sqlite3_errmsg(cd_archive_get_db(self)));
    return FALSE;
  }
  return TRUE;
}

/* Loads the holds (in force only, unless @include_released) and what they
 * cover; @only > 0 evaluates saved searches for that document alone. */
static CdHoldIndex *
cd_hold_index_new(CdArchive *self, gboolean include_released, gint64 only, GError **error)
{
  g_autoptr(CdHoldIndex) idx = g_new0(CdHoldIndex, 1);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  idx->holds = g_ptr_array_new_with_free_func((GDestroyNotify) cd_legal_hold_free);
  idx->by_mrn = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  idx->by_doc = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  idx->merges = cd_retention_load_merges(self, error);
  if (idx->merges == NULL)
    return NULL;
  stmt = cd_archive_prepare(
      self, "SELECT " HOLD_COLUMNS " FROM legal_holds WHERE ?1 OR released_at IS NULL ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int(stmt, 1, include_released);
  while (sqlite3_step(stmt) == SQLITE_ROW)
    g_ptr_array_add(idx->holds, cd_legal_hold_from_row(stmt));
  for (guint i = 0; i < idx->holds->len; i++) {
    CdLegalHold *h = g_ptr_array_index(idx->holds, i);

    if (g_strcmp0(h->kind, "patient") == 0) {
      const gchar *survivor = cd_retention_survivor(idx->merges, h->mrn);
      if (!g_hash_table_contains(idx->by_mrn, survivor))
        g_hash_table_insert(idx->by_mrn, g_strdup(survivor), g_ptr_array_new());
      cd_hold_index_add(idx->by_mrn, survivor, h);
    } else if (g_strcmp0(h->kind, "document") == 0) {
      if (!g_hash_table_contains(idx->by_doc, &h->document_id))
        g_hash_table_insert(idx->by_doc, g_memdup2(&h->document_id, sizeof(gint64)), g_ptr_array_new());
      cd_hold_index_add(idx->by_doc, &h->document_id, h);
    } else {
      g_autoptr(GArray) docs = g_array_new(FALSE, FALSE, sizeof(gint64));
      if (!cd_hold_search_documents(self, idx->merges, h->query, only, docs, error)) {
        g_prefix_error(error, "legal hold %" G_GINT64_FORMAT ": ", h->id);
        return NULL;
      }
      for (guint j = 0; j < docs->len; j++) {
        gint64 *id = &g_array_index(docs, gint64, j);
        if (!g_hash_table_contains(idx->by_doc, id))
          g_hash_table_insert(idx->by_doc, g_memdup2(id, sizeof(gint64)), g_ptr_array_new());
        cd_hold_index_add(idx->by_doc, id, h);
      }
    }
  }
  return g_steal_pointer(&idx);
}

/* The holds covering one document (borrowed from @idx), in id order. */
static GPtrArray *
cd_hold_index_covering(CdHoldIndex *idx, gint64 document_id, const gchar *mrn)
{
  GPtrArray *out = g_ptr_array_new();
  GPtrArray *lists[2] = {
    mrn != NULL ? g_hash_table_lookup(idx->by_mrn, cd_retention_survivor(idx->merges, mrn)) : NULL,
    g_hash_table_lookup(idx->by_doc, &document_id),
  };

  for (guint l = 0; l < 2; l++) {
    for (guint i = 0; lists[l] != NULL && i < lists[l]->len; i++) {
      if (!g_ptr_array_find(out, g_ptr_array_index(lists[l], i), NULL))
        g_ptr_array_add(out, g_ptr_array_index(lists[l], i));
    }
  }
  return out;
}

static gint
cd_hold_cmp_id(gconstpointer a, gconstpointer b)
{
  const CdLegalHold *x = *(const CdLegalHold *const *) a;
  const CdLegalHold *y = *(const CdLegalHold *const *) b;
  return x->id < y->id ? -1 : x->id > y->id;
}

static CdLegalHold *
cd_legal_hold_copy(const CdLegalHold *h)
{
  CdLegalHold *c = g_new0(CdLegalHold, 1);

  c->id = h->id;
  c->kind = g_strdup(h->kind);
  c->mrn = g_strdup(h->mrn);
  c->document_id = h->document_id;
  c->query = g_strdup(h->query);
  c->reason = g_strdup(h->reason);
  c->matter = g_strdup(h->matter);
  c->placed_by = g_strdup(h->placed_by);
  c->placed_at = g_strdup(h->placed_at);
  c->released_by = g_strdup(h->released_by);
  c->released_at = g_strdup(h->released_at);
  c->release_reason = g_strdup(h->release_reason);
  return c;
}

/* Placing a hold: administrators, and release-of-information staff, who
 * receive the subpoenas and preservation letters. */
static gboolean
cd_retention_require_any(CdArchive *self, CdPermission any, CdPermission fallback, const gchar *what,
                         const gchar *object, GError **error)
{
  if ((cd_principal_get_permissions(cd_archive_get_principal(self)) & any) != 0)
    return TRUE;
  return cd_archive_require(self, fallback, what, object, error);
}

static gboolean
cd_retention_document_exists(CdArchive *self, gint64 id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, "SELECT 1 FROM documents WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, id);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, cd_archive_get_path(self),
                id);
    return FALSE;
  }
  return cd_archive_require_visible(self, id, error);
}

/**
 * cd_archive_place_hold:
 * @self: a #CdArchive
 * @kind: what is held
 * @mrn: (nullable): the patient, for %CD_HOLD_PATIENT (must be in the index)
 * @document_id: the document, for %CD_HOLD_DOCUMENT
 * @query: (nullable): the saved search, for %CD_HOLD_SEARCH: its text
 *   (words or FTS5, checked as a search checks it), mrn, type or types
 *   (a type's current and former names), from and to; limit and offset
 *   are ignored
 * @reason: why (required)
 * @matter: (nullable): the matter reference: a case, audit or request number
 * @error: return location for a #GError
 *
 * Places a legal hold: everything it covers is exempt from destruction
 * until an administrator releases it. Needs %CD_PERMISSION_CONFIGURE or
 * %CD_PERMISSION_RELEASE; audited (`hold-place`).
 *
 * Returns: the new hold's id, or 0 with @error set
 *
 * Since: 0.4
 */
gint64
cd_archive_place_hold(CdArchive *self, CdHoldKind kind, const gchar *mrn, gint64 document_id,
                      const CdSearchQuery *query, const gchar *reason, const gchar *matter, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) ins = NULL;
  g_autoptr(JsonBuilder) qb = json_builder_new();
  g_autoptr(JsonNode) qnode = NULL;
  g_autofree gchar *query_json = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  g_autofree gchar *object = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  const gchar *kinds[] = { "patient", "document", "search" };
  gint64 id;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), 0);
  if (reason == NULL || *reason == '\0') {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "a legal hold needs a reason");
    return 0;
  }
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_retention_require_any(self, CD_PERMISSION_CONFIGURE | CD_PERMISSION_RELEASE, CD_PERMISSION_CONFIGURE,
                                "place legal holds", "retention", error))
    return 0;

  switch (kind) {
  case CD_HOLD_PATIENT: {
    g_autoptr(CdPatient) p = NULL;
    if (mrn == NULL) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "a patient hold needs an MRN");
      return 0;
    }
    p = cd_archive_lookup_patient(self, mrn, error);
    if (p == NULL)
      return 0;
    break;
  }
  case CD_HOLD_DOCUMENT:
    if (document_id <= 0) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "a document hold needs a document id");
      return 0;
    }
    if (!cd_retention_document_exists(self, document_id, error))
      return 0;
    break;
  case CD_HOLD_SEARCH: {
    g_autofree gchar *match = NULL;
    if (query == NULL ||
        ((query->text == NULL || *query->text == '\0') && query->mrn == NULL && query->doc_type == NULL &&
         query->doc_types == NULL && query->date_from == NULL && query->date_to == NULL)) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                          "a saved-search hold needs words or a filter (mrn, type, from, to)");
      return 0;
    }
    for (guint i = 0; i < 2; i++) {
      const gchar *d = i == 0 ? query->date_from : query->date_to;
      GDate date;
      if (d != NULL && !cd_date_parse_iso(d, &date)) {
        g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "dates must be given as YYYY-MM-DD (got '%s')", d);
        return 0;
      }
    }
    if (!cd_query_text_to_match(query->text, query->plain, &match, error))
      return 0;
    json_builder_begin_object(qb);
    cd_json_add_string_or_null(qb, "text", query->text);
    if (query->plain) {
      json_builder_set_member_name(qb, "plain");
      json_builder_add_boolean_value(qb, TRUE);
    }
    cd_json_add_string_or_null(qb, "mrn", query->mrn);
    cd_json_add_string_or_null(
        qb, "type", query->doc_type != NULL || query->doc_types == NULL ? query->doc_type : query->doc_types[0]);
    if (query->doc_types != NULL || query->doc_type != NULL) {
      json_builder_set_member_name(qb, "types");
      json_builder_begin_array(qb);
      if (query->doc_types != NULL) {
        for (guint i = 0; query->doc_types[i] != NULL; i++)
          json_builder_add_string_value(qb, query->doc_types[i]);
      } else {
        json_builder_add_string_value(qb, query->doc_type);
      }
      json_builder_end_array(qb);
    }
    cd_json_add_string_or_null(qb, "from", query->date_from);
    cd_json_add_string_or_null(qb, "to", query->date_to);
    json_builder_end_object(qb);
    qnode = json_builder_get_root(qb);
    query_json = cd_json_to_string(qnode);
    {
      /* run it once: an FTS5 error is the user's now, not at plan time */
      g_autoptr(GHashTable) merges = cd_retention_load_merges(self, error);
      g_autoptr(GArray) docs = g_array_new(FALSE, FALSE, sizeof(gint64));
      if (merges == NULL || !cd_hold_search_documents(self, merges, query_json, 0, docs, error))
        return 0;
    }
    break;
  }
  default:
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "no such kind of legal hold");
    return 0;
  }

  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return 0;
  ins = cd_archive_prepare(self,
                           "INSERT INTO legal_holds (kind, mrn, document_id, query, reason, matter, placed_by, "
                           "placed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           error);
  if (ins == NULL)
    return 0;
  cd_bind_text(ins, 1, kinds[kind]);
  cd_bind_text(ins, 2, kind == CD_HOLD_PATIENT ? mrn : NULL);
  if (kind == CD_HOLD_DOCUMENT)
    sqlite3_bind_int64(ins, 3, document_id);
  cd_bind_text(ins, 4, query_json);
  cd_bind_text(ins, 5, reason);
  cd_bind_text(ins, 6, matter);
  cd_bind_text(ins, 7, cd_archive_get_actor(self));
  cd_bind_text(ins, 8, ts);
  if (!cd_archive_step_done(self, ins, error))
    return 0;
  id = sqlite3_last_insert_rowid(cd_archive_get_db(self));

  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "kind", kinds[kind]);
  if (kind == CD_HOLD_PATIENT)
    cd_json_add_string_or_null(b, "mrn", mrn);
  if (kind == CD_HOLD_DOCUMENT)
    cd_json_member_int(b, "document", document_id);
  if (qnode != NULL) {
    json_builder_set_member_name(b, "query");
    json_builder_add_value(b, json_node_copy(qnode));
  }
  cd_json_add_string_or_null(b, "reason", reason);
  cd_json_add_string_or_null(b, "matter", matter);
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  object = g_strdup_printf("hold:%" G_GINT64_FORMAT, id);
  if (!cd_archive_audit(self, "hold-place", object, detail, error) || !cd_archive_txn_commit(txn, error))
    return 0;
  return id;
}

/**
 * cd_archive_release_hold:
 * @self: a #CdArchive
 * @hold_id: a hold in force
 * @reason: why it is released (required)
 * @error: return location for a #GError
 *
 * Releases a legal hold; only an administrator (%CD_PERMISSION_CONFIGURE)
 * may. The hold stays on record with who released it, when and why.
 * Audited (`hold-release`).
 *
 * Returns: %TRUE if released; %CD_ERROR_NOT_FOUND for no such hold,
 *   %CD_ERROR_INVALID_ARGUMENT for one already released
 *
 * Since: 0.4
 */
gboolean
cd_archive_release_hold(CdArchive *self, gint64 hold_id, const gchar *reason, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) sel = NULL;
  g_autoptr(sqlite3_stmt) upd = NULL;
  g_autofree gchar *ts = cd_now_iso8601();
  g_autofree gchar *object = g_strdup_printf("hold:%" G_GINT64_FORMAT, hold_id);
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  if (reason == NULL || *reason == '\0') {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "releasing a legal hold needs a reason");
    return FALSE;
  }
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_CONFIGURE, "release legal holds", object, error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  sel = cd_archive_prepare(self, "SELECT released_at, released_by FROM legal_holds WHERE id = ?", error);
  if (sel == NULL)
    return FALSE;
  sqlite3_bind_int64(sel, 1, hold_id);
  if (sqlite3_step(sel) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no legal hold %" G_GINT64_FORMAT, cd_archive_get_path(self),
                hold_id);
    return FALSE;
  }
  if (sqlite3_column_type(sel, 0) != SQLITE_NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "%s: legal hold %" G_GINT64_FORMAT " was already released on %s by %s", cd_archive_get_path(self),
                hold_id, cd_column_text(sel, 0), cd_column_text(sel, 1));
    return FALSE;
  }
  upd = cd_archive_prepare(
      self, "UPDATE legal_holds SET released_by = ?2, released_at = ?3, release_reason = ?4 WHERE id = ?1", error);
  if (upd == NULL)
    return FALSE;
  sqlite3_bind_int64(upd, 1, hold_id);
  cd_bind_text(upd, 2, cd_archive_get_actor(self));
  cd_bind_text(upd, 3, ts);
  cd_bind_text(upd, 4, reason);
  if (!cd_archive_step_done(self, upd, error))
    return FALSE;
  json_object_set_string_member(obj, "reason", reason);
  detail = json_node_init_object(json_node_alloc(), obj);
  if (!cd_archive_audit(self, "hold-release", object, detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

/* The holds covering a patient (theirs, their documents', and saved
 * searches matching any of their documents) or one document; all holds
 * when neither is given. Copies, sorted by id. */
static GPtrArray *
cd_retention_holds_for(CdArchive *self, const gchar *mrn, gint64 document_id, gboolean include_released, GError **error)
{
  g_autoptr(CdHoldIndex) idx = cd_hold_index_new(self, include_released, document_id, error);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) cd_legal_hold_free);
  g_autoptr(GPtrArray) found = g_ptr_array_new();

  if (idx == NULL)
    return NULL;
  if (mrn == NULL && document_id <= 0) {
    for (guint i = 0; i < idx->holds->len; i++)
      g_ptr_array_add(found, g_ptr_array_index(idx->holds, i));
  } else if (document_id > 0) {
    g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, "SELECT patient_mrn FROM documents WHERE id = ?", error);
    g_autoptr(GPtrArray) covering = NULL;
    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, document_id);
    if (sqlite3_step(stmt) != SQLITE_ROW) {
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, cd_archive_get_path(self),
                  document_id);
      return NULL;
    }
    covering = cd_hold_index_covering(idx, document_id, cd_column_text(stmt, 0));
    g_ptr_array_extend(found, covering, NULL, NULL);
  } else {
    const gchar *survivor = cd_retention_survivor(idx->merges, mrn);
    GPtrArray *own = g_hash_table_lookup(idx->by_mrn, survivor);
    /* a merge re-files documents to the survivor; the requested MRN too
     * in case some were filed under it since */
    g_autoptr(sqlite3_stmt) docs =
        cd_archive_prepare(self, "SELECT id, patient_mrn FROM documents WHERE patient_mrn IN (?1, ?2)", error);
    if (docs == NULL)
      return NULL;
    cd_bind_text(docs, 1, survivor);
    cd_bind_text(docs, 2, mrn);
    if (own != NULL)
      g_ptr_array_extend(found, own, NULL, NULL);
    while (sqlite3_step(docs) == SQLITE_ROW) {
      gint64 id = sqlite3_column_int64(docs, 0);
      GPtrArray *list = g_hash_table_lookup(idx->by_doc, &id);
      if (list == NULL || g_strcmp0(cd_retention_survivor(idx->merges, cd_column_text(docs, 1)), survivor) != 0)
        continue;
      for (guint i = 0; i < list->len; i++) {
        if (!g_ptr_array_find(found, g_ptr_array_index(list, i), NULL))
          g_ptr_array_add(found, g_ptr_array_index(list, i));
      }
    }
    /* a patient hold on an MRN since merged into this one */
    for (guint i = 0; i < idx->holds->len; i++) {
      CdLegalHold *h = g_ptr_array_index(idx->holds, i);
      if (g_strcmp0(h->kind, "patient") == 0 && !g_ptr_array_find(found, h, NULL) &&
          g_strcmp0(cd_retention_survivor(idx->merges, h->mrn), survivor) == 0)
        g_ptr_array_add(found, h);
    }
  }
  for (guint i = 0; i < found->len; i++)
    g_ptr_array_add(out, cd_legal_hold_copy(g_ptr_array_index(found, i)));
  g_ptr_array_sort(out, cd_hold_cmp_id);
  return g_steal_pointer(&out);
}

/**
 * cd_archive_list_holds:
 * @self: a #CdArchive
 * @mrn: (nullable): only the holds covering this patient: on them (or on
 *   an MRN merged into theirs), on one of their documents, or a saved
 *   search matching one of their documents
 * @document_id: > 0: only the holds covering this document (its patient's,
 *   its own, saved searches matching it)
 * @include_released: released holds too
 * @error: return location for a #GError
 *
 * The legal holds, as the web workstation shows them on a chart. Needs
 * %CD_PERMISSION_READ_CHARTS, %CD_PERMISSION_CONFIGURE or
 * %CD_PERMISSION_RELEASE; a document of a type hidden from the principal
 * is "no document N". Audited (`list-holds`).
 *
 * Returns: (transfer container) (element-type CdLegalHold): the holds, by id
 *
 * Since: 0.4
 */
GPtrArray *
cd_archive_list_holds(CdArchive *self, const gchar *mrn, gint64 document_id, gboolean include_released, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(GPtrArray) holds = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_retention_require_any(self, CD_PERMISSION_READ_CHARTS | CD_PERMISSION_CONFIGURE | CD_PERMISSION_RELEASE,
                                CD_PERMISSION_READ_CHARTS, "list legal holds", "retention", error))
    return NULL;
  if (document_id > 0 && !cd_retention_document_exists(self, document_id, error))
    return NULL;
  holds = cd_retention_holds_for(self, mrn, document_id, include_released, error);
  if (holds == NULL)
    return NULL;
  /* a hold on a document the principal may not see stays unseen */
  if (cd_archive_hidden_types(self) != NULL) {
    for (guint i = holds->len; i > 0; i--) {
      CdLegalHold *h = g_ptr_array_index(holds, i - 1);
      g_autoptr(GError) hidden = NULL;
      if (h->document_id > 0 && !cd_archive_require_visible(self, h->document_id, &hidden))
        g_ptr_array_remove_index(holds, i - 1);
    }
  }
  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "mrn", mrn);
  if (document_id > 0)
    cd_json_member_int(b, "document", document_id);
  cd_json_member_int(b, "holds", holds->len);
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  if (!cd_archive_audit(self, "list-holds", "retention", detail, error))
    return NULL;
  return g_steal_pointer(&holds);
}

/* Adds `holds` (in force) and `destroyed` (its tombstone, or null) to a
 * document's JSON; part of the view that is audited by its caller. */
gboolean
cd_archive_retention_document_json(CdArchive *self, JsonBuilder *b, gint64 id, GError **error)
{
  g_autoptr(sqlite3_stmt) any =
      cd_archive_prepare(self, "SELECT count(*) FROM legal_holds WHERE released_at IS NULL", error);
  g_autoptr(sqlite3_stmt) tomb = NULL;
  g_autoptr(GPtrArray) holds = NULL;

  if (any == NULL)
    return FALSE;
  if (sqlite3_step(any) == SQLITE_ROW && sqlite3_column_int64(any, 0) > 0) {
    holds = cd_retention_holds_for(self, NULL, id, FALSE, error);
    if (holds == NULL)
      return FALSE;
  }
  json_builder_set_member_name(b, "holds");
  json_builder_add_value(b, cd_legal_holds_to_json(holds));

  tomb = cd_archive_prepare(self,
                            "SELECT run_id, destroyed_at, pages, image_sha256, keep_until, rule FROM tombstones "
                            "WHERE document_id = ?",
                            error);
  if (tomb == NULL)
    return FALSE;
  sqlite3_bind_int64(tomb, 1, id);
  json_builder_set_member_name(b, "destroyed");
  if (sqlite3_step(tomb) != SQLITE_ROW) {
    json_builder_add_null_value(b);
    return TRUE;
  }
  json_builder_begin_object(b);
  cd_json_member_int(b, "run", sqlite3_column_int64(tomb, 0));
  cd_json_add_string_or_null(b, "at", cd_column_text(tomb, 1));
  cd_json_member_int(b, "pages", sqlite3_column_int64(tomb, 2));
  json_builder_set_member_name(b, "image_sha256");
  {
    JsonNode *hashes = cd_json_parse(cd_column_text(tomb, 3));
    if (hashes != NULL)
      json_builder_add_value(b, hashes);
    else
      json_builder_add_null_value(b);
  }
  cd_json_add_string_or_null(b, "keep_until", cd_column_text(tomb, 4));
  cd_json_add_string_or_null(b, "rule", cd_column_text(tomb, 5));
  json_builder_end_object(b);
  return TRUE;
}

/* ------------------------------------------------------------ planning */

/* Surviving MRN → the latest date of service of any of its documents,
 * destroyed ones included (their tombstones keep the date). */
static GHashTable *
cd_retention_last_service(CdArchive *self, GHashTable *merges, GError **error)
{
  g_autoptr(GHashTable) last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint rc;

  stmt = cd_archive_prepare(self,
                            "SELECT patient_mrn, max(date) FROM (SELECT patient_mrn, date FROM documents "
                            "WHERE patient_mrn IS NOT NULL AND date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' "
                            "UNION ALL SELECT patient_mrn, date FROM tombstones WHERE patient_mrn IS NOT NULL "
                            "AND date IS NOT NULL) GROUP BY patient_mrn",
                            error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const gchar *survivor = cd_retention_survivor(merges, cd_column_text(stmt, 0));
    const gchar *date = cd_column_text(stmt, 1);
    const gchar *known = g_hash_table_lookup(last, survivor);
    if (known == NULL || g_strcmp0(date, known) > 0)
      g_hash_table_insert(last, g_strdup(survivor), g_strdup(date));
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read dates of service");
    return NULL;
  }
  return g_steal_pointer(&last);
}

static gchar *
cd_retention_dob(CdArchive *self, const gchar *mrn)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, "SELECT dob FROM patients WHERE mrn = ?", NULL);

  if (stmt == NULL)
    return NULL;
  cd_bind_text(stmt, 1, mrn);
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return NULL;
  return cd_column_dup(stmt, 0);
}

static gboolean
cd_retention_today(const gchar *as_of, GDate *date, GError **error)
{
  if (as_of == NULL) {
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_date_clear(date, 1);
    g_date_set_dmy(date, g_date_time_get_day_of_month(now), g_date_time_get_month(now), g_date_time_get_year(now));
    return TRUE;
  }
  if (!cd_date_parse_iso(as_of, date)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "dates must be given as YYYY-MM-DD (got '%s')", as_of);
    return FALSE;
  }
  return TRUE;
}

static gchar *
cd_retention_archive_id(CdArchive *self, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, "SELECT value FROM meta WHERE key = 'archive-id'", error);

  if (stmt == NULL)
    return NULL;
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: the archive has no archive id", cd_archive_get_path(self));
    return NULL;
  }
  return cd_column_dup(stmt, 0);
}

static gboolean
cd_retention_meta_two_person(CdArchive *self)
{
  g_autoptr(sqlite3_stmt) stmt =
      cd_archive_prepare(self, "SELECT value FROM meta WHERE key = 'retention-two-person'", NULL);

  return stmt != NULL && sqlite3_step(stmt) == SQLITE_ROW && g_strcmp0(cd_column_text(stmt, 0), "true") == 0;
}

/**
 * cd_archive_set_retention_two_person:
 * @self: a #CdArchive
 * @required: whether a destruction plan must be approved by an
 *   administrator other than the one who made it
 * @error: return location for a #GError
 *
 * The archive's own setting (`meta retention-two-person`); the rule applies
 * when either it or the plan's policy (`two-person=true`) asks for it.
 * Needs %CD_PERMISSION_CONFIGURE; audited (`retention-settings`).
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_archive_set_retention_two_person(CdArchive *self, gboolean required, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonObject) obj = json_object_new();
  g_autoptr(JsonNode) detail = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_CONFIGURE, "change retention settings", "retention", error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  stmt = cd_archive_prepare(self,
                            "INSERT INTO meta (key, value) VALUES ('retention-two-person', ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            error);
  if (stmt == NULL)
    return FALSE;
  cd_bind_text(stmt, 1, required ? "true" : "false");
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  json_object_set_boolean_member(obj, "two_person", required);
  detail = json_node_init_object(json_node_alloc(), obj);
  if (!cd_archive_audit(self, "retention-settings", "retention", detail, error))
    return FALSE;
  return cd_archive_txn_commit(txn, error);
}

static void
cd_plan_add_holds(JsonBuilder *b, GPtrArray *holds)
{
  json_builder_set_member_name(b, "holds");
  json_builder_begin_array(b);
  for (guint i = 0; i < holds->len; i++) {
    CdLegalHold *h = g_ptr_array_index(holds, i);
    json_builder_begin_object(b);
    cd_json_member_int(b, "id", h->id);
    cd_json_add_string_or_null(b, "kind", h->kind);
    cd_json_add_string_or_null(b, "reason", h->reason);
    cd_json_add_string_or_null(b, "matter", h->matter);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

typedef struct {
  guint due, held, undetermined, kept, permanent;
} CdPlanCounts;

static void
cd_plan_entry(JsonBuilder *b, gint64 id, const gchar *mrn, const gchar *type, const gchar *date, gint64 pages,
              const gchar *last, const gchar *dob)
{
  cd_json_member_int(b, "document", id);
  cd_json_add_string_or_null(b, "mrn", mrn);
  cd_json_add_string_or_null(b, "type", type);
  cd_json_add_string_or_null(b, "date", date);
  cd_json_member_int(b, "pages", pages);
  cd_json_add_string_or_null(b, "last_service", last);
  cd_json_add_string_or_null(b, "dob", dob);
}

/* What the rules and holds say of every document, for a plan (the
 * builders) and for the checks at destruction (@states: document id →
 * JsonObject: "state" due, held, kept, permanent or undetermined, and the
 * dates). Restricted types hidden from the principal are left out. */
static gboolean
cd_retention_evaluate_all(CdArchive *self, CdRetentionPolicy *policy, const GDate *today, JsonBuilder *due_b,
                          JsonBuilder *held_b, JsonBuilder *undetermined_b, CdPlanCounts *counts, GHashTable *states,
                          GError **error)
{
  g_autoptr(CdHoldIndex) idx = cd_hold_index_new(self, FALSE, 0, error);
  g_autoptr(GHashTable) last = NULL;
  g_autoptr(GHashTable) dobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(sqlite3_stmt) docs = NULL;
  gint rc;

  if (idx == NULL)
    return FALSE;
  last = cd_retention_last_service(self, idx->merges, error);
  if (last == NULL)
    return FALSE;
  docs = cd_archive_prepare(self,
                            "SELECT d.id, d.patient_mrn, d.type, d.date, d.status, "
                            "(SELECT count(*) FROM pages p WHERE p.document_id = d.id) FROM documents d "
                            "WHERE d.id NOT IN (SELECT document_id FROM tombstones) "
                            "AND (?1 IS NULL OR d.type IS NULL OR d.type NOT IN (SELECT value FROM json_each(?1))) "
                            "ORDER BY d.id",
                            error);
  if (docs == NULL)
    return FALSE;
  cd_bind_text(docs, 1, cd_archive_hidden_types(self));
  while ((rc = sqlite3_step(docs)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(docs, 0);
    const gchar *mrn = cd_column_text(docs, 1);
    const gchar *type = cd_column_text(docs, 2);
    const gchar *date = cd_column_text(docs, 3);
    const gchar *status = cd_column_text(docs, 4);
    gint64 pages = sqlite3_column_int64(docs, 5);
    const gchar *survivor = NULL;
    const gchar *last_service = NULL;
    const gchar *dob = NULL;
    g_auto(CdRetentionVerdict) verdict = { 0 };
    g_autoptr(GError) why = NULL;
    g_autoptr(GPtrArray) holds = NULL;
    g_autofree gchar *until = NULL;
    const gchar *reason = NULL;
    JsonObject *st = NULL;

    if (states != NULL) {
      st = json_object_new();
      json_object_set_string_member(st, "mrn", mrn);
      json_object_set_string_member(st, "type", type);
      json_object_set_string_member(st, "date", date);
      json_object_set_int_member(st, "pages", pages);
      g_hash_table_insert(states, g_memdup2(&id, sizeof id), st);
    }
    if (mrn == NULL || g_strcmp0(status, "filed") != 0)
      reason = "not filed to a patient (it waits in review): never destroyed until it is";
    if (reason == NULL) {
      survivor = cd_retention_survivor(idx->merges, mrn);
      last_service = g_hash_table_lookup(last, survivor);
      if (!g_hash_table_contains(dobs, survivor))
        g_hash_table_insert(dobs, g_strdup(survivor), cd_retention_dob(self, survivor));
      dob = g_hash_table_lookup(dobs, survivor);
      if (st != NULL)
        json_object_set_string_member(st, "last_service", last_service);
      if (!cd_retention_policy_evaluate(policy, type, date, last_service, dob, &verdict, &why))
        reason = why->message;
    }
    if (reason != NULL) {
      if (st != NULL) {
        json_object_set_string_member(st, "state", "undetermined");
        json_object_set_string_member(st, "why", reason);
      }
      counts->undetermined++;
      if (undetermined_b != NULL) {
        json_builder_begin_object(undetermined_b);
        cd_plan_entry(undetermined_b, id, mrn, type, date, pages, last_service, dob);
        cd_json_add_string_or_null(undetermined_b, "why", reason);
        json_builder_end_object(undetermined_b);
      }
      continue;
    }
    if (st != NULL)
      json_object_set_string_member(st, "rule", verdict.rule);
    if (verdict.permanent) {
      if (st != NULL)
        json_object_set_string_member(st, "state", "permanent");
      counts->permanent++;
      continue;
    }
    until = cd_date_to_iso(&verdict.keep_until);
    if (st != NULL)
      json_object_set_string_member(st, "keep_until", until);
    if (g_date_compare(today, &verdict.keep_until) <= 0) {
      if (st != NULL)
        json_object_set_string_member(st, "state", "kept");
      counts->kept++;
      continue;
    }
    holds = cd_hold_index_covering(idx, id, mrn);
    g_ptr_array_sort(holds, cd_hold_cmp_id);
    if (holds->len > 0) {
      if (st != NULL) {
        CdLegalHold *h = g_ptr_array_index(holds, 0);
        g_autofree gchar *held_why =
            g_strdup_printf("under legal hold %" G_GINT64_FORMAT " (%s: %s)", h->id, h->kind, h->reason);
        json_object_set_string_member(st, "state", "held");
        json_object_set_string_member(st, "why", held_why);
      }
      counts->held++;
      if (held_b != NULL) {
        json_builder_begin_object(held_b);
        cd_plan_entry(held_b, id, mrn, type, date, pages, last_service, dob);
        cd_json_add_string_or_null(held_b, "rule", verdict.rule);
        cd_json_add_string_or_null(held_b, "keep_until", until);
        cd_plan_add_holds(held_b, holds);
        cd_json_add_string_or_null(held_b, "why", "due, but under legal hold");
        json_builder_end_object(held_b);
      }
      continue;
    }
    counts->due++;
    if (due_b != NULL) {
      json_builder_begin_object(due_b);
      cd_plan_entry(due_b, id, mrn, type, date, pages, last_service, dob);
      cd_json_add_string_or_null(due_b, "rule", verdict.rule);
      json_builder_set_member_name(due_b, "minor");
      json_builder_add_boolean_value(due_b, verdict.minor);
      cd_json_add_string_or_null(due_b, "keep_until", until);
      cd_json_add_string_or_null(due_b, "why", verdict.why);
      json_builder_end_object(due_b);
    }
    if (st != NULL)
      json_object_set_string_member(st, "state", "due");
  }
  if (rc != SQLITE_DONE) {
    cd_archive_set_error(self, error, "cannot read documents");
    return FALSE;
  }
  return TRUE;
}

/**
 * cd_archive_retention_plan:
 * @self: a #CdArchive
 * @policy: the retention policy
 * @as_of: (nullable): the day to apply the rules for, `YYYY-MM-DD`; %NULL
 *   for today
 * @error: return location for a #GError
 *
 * Lists what @policy makes due on @as_of: `due` (patient, document, type,
 * dates, the rule and why), `held` (due but under a legal hold, with the
 * holds), `undetermined` (not filed, or no readable date of service: never
 * destroyed), and counts of the documents `kept` (not yet due) and
 * `permanent`. Nothing changes but the audit log, whose `retention-plan`
 * entry records the plan's SHA-256: cd_archive_retention_destroy()
 * accepts only a plan so recorded. Documents of types hidden from the
 * principal are not considered. Needs %CD_PERMISSION_CONFIGURE.
 *
 * The plan's text (`json_to_string(plan, TRUE)`) is what the plan file
 * must hold, byte for byte (a final newline aside).
 *
 * Returns: (transfer full): the plan, or %NULL with @error set
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_retention_plan(CdArchive *self, CdRetentionPolicy *policy, const gchar *as_of, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonBuilder) due_b = json_builder_new();
  g_autoptr(JsonBuilder) held_b = json_builder_new();
  g_autoptr(JsonBuilder) und_b = json_builder_new();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonBuilder) db = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autofree gchar *archive_id = NULL;
  g_autofree gchar *today_s = NULL;
  g_autofree gchar *now = cd_now_iso8601();
  g_autofree gchar *text = NULL;
  g_autofree gchar *sha = NULL;
  CdPlanCounts counts = { 0 };
  GDate today;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(CD_IS_RETENTION_POLICY(policy), NULL);
  if (!cd_retention_today(as_of, &today, error))
    return NULL;
  today_s = cd_date_to_iso(&today);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_CONFIGURE, "plan the destruction of records", "retention", error))
    return NULL;
  archive_id = cd_retention_archive_id(self, error);
  if (archive_id == NULL)
    return NULL;

  txn = cd_archive_txn_begin_read(self, error);
  if (txn == NULL)
    return NULL;
  json_builder_begin_array(due_b);
  json_builder_begin_array(held_b);
  json_builder_begin_array(und_b);
  if (!cd_retention_evaluate_all(self, policy, &today, due_b, held_b, und_b, &counts, NULL, error))
    return NULL;
  json_builder_end_array(due_b);
  json_builder_end_array(held_b);
  json_builder_end_array(und_b);
  g_clear_pointer(&txn, cd_archive_txn_free);

  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "format", CD_PLAN_FORMAT);
  cd_json_add_string_or_null(b, "archive", archive_id);
  cd_json_add_string_or_null(b, "as_of", today_s);
  cd_json_add_string_or_null(b, "made_at", now);
  cd_json_add_string_or_null(b, "made_by", cd_archive_get_actor(self));
  json_builder_set_member_name(b, "two_person");
  json_builder_add_boolean_value(b, cd_retention_policy_get_two_person(policy) || cd_retention_meta_two_person(self));
  json_builder_set_member_name(b, "policy");
  json_builder_begin_object(b);
  cd_json_add_string_or_null(b, "origin", cd_retention_policy_get_origin(policy));
  cd_json_add_string_or_null(b, "sha256", cd_retention_policy_get_sha256(policy));
  cd_json_add_string_or_null(b, "text", cd_retention_policy_get_text(policy));
  json_builder_end_object(b);
  json_builder_set_member_name(b, "counts");
  json_builder_begin_object(b);
  cd_json_member_int(b, "due", counts.due);
  cd_json_member_int(b, "held", counts.held);
  cd_json_member_int(b, "undetermined", counts.undetermined);
  cd_json_member_int(b, "kept", counts.kept);
  cd_json_member_int(b, "permanent", counts.permanent);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "due");
  json_builder_add_value(b, json_builder_get_root(due_b));
  json_builder_set_member_name(b, "held");
  json_builder_add_value(b, json_builder_get_root(held_b));
  json_builder_set_member_name(b, "undetermined");
  json_builder_add_value(b, json_builder_get_root(und_b));
  json_builder_end_object(b);
  root = json_builder_get_root(b);

  text = json_to_string(root, TRUE);
  sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
  json_builder_begin_object(db);
  cd_json_add_string_or_null(db, "plan_sha256", sha);
  cd_json_add_string_or_null(db, "as_of", today_s);
  cd_json_add_string_or_null(db, "policy_sha256", cd_retention_policy_get_sha256(policy));
  cd_json_member_int(db, "due", counts.due);
  cd_json_member_int(db, "held", counts.held);
  cd_json_member_int(db, "undetermined", counts.undetermined);
  json_builder_end_object(db);
  detail = json_builder_get_root(db);
  if (!cd_archive_audit(self, "retention-plan", "retention", detail, error))
    return NULL;
  return g_steal_pointer(&root);
}

/* ------------------------------------------------------------ destroying */

/* The person behind an audit name: `admin-mode:LOGIN for NAME` is NAME,
 * `admin-mode:LOGIN` is LOGIN, a user is their login. */
static gchar *
cd_retention_person(const gchar *actor)
{
  const gchar *for_ = strstr(actor, " for ");

  if (g_str_has_prefix(actor, "admin-mode:")) {
    if (for_ != NULL)
      return g_strdup(for_ + 5);
    return g_strdup(actor + strlen("admin-mode:"));
  }
  return g_strdup(actor);
}

static gint64
cd_retention_last_audit_id(CdArchive *self)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, "SELECT max(id) FROM audit", NULL);

  if (stmt == NULL || sqlite3_step(stmt) != SQLITE_ROW)
    return 0;
  return sqlite3_column_int64(stmt, 0);
}

static gint64
cd_retention_file_bytes(CdArchive *self)
{
  g_autoptr(sqlite3_stmt) stmt =
      cd_archive_prepare(self, "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size", NULL);

  if (stmt == NULL || sqlite3_step(stmt) != SQLITE_ROW)
    return -1;
  return sqlite3_column_int64(stmt, 0);
}

typedef struct {
  gint64 id;
  gchar *mrn, *type, *date, *keep_until, *rule;
  gint64 pages;
} CdDestroyed;

static void
cd_destroyed_free(CdDestroyed *d)
{
  g_free(d->mrn);
  g_free(d->type);
  g_free(d->date);
  g_free(d->keep_until);
  g_free(d->rule);
  g_free(d);
}

/* Empties one document: a tombstone first (so the triggers guard it from
 * then on), its pages' images, text, words and facts, its review items,
 * and the stored images no other page uses. */
static gboolean
cd_retention_destroy_one(CdArchive *self, gint64 run_id, CdDestroyed *d, const gchar *last_service, const gchar *now,
                         GError **error)
{
  g_autoptr(sqlite3_stmt) pages = NULL;
  g_autoptr(sqlite3_stmt) ins = NULL;
  g_autoptr(GPtrArray) hashes = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(JsonBuilder) hb = json_builder_new();
  g_autoptr(JsonNode) hnode = NULL;
  g_autofree gchar *hashes_json = NULL;
  const gchar *steps[] = {
    ("UPDATE pages SET text = NULL, words = NULL, facts = NULL, problems = NULL, confidence = NULL, "
     "image_sha256 = NULL WHERE document_id = ?1"),
    "UPDATE documents SET title = NULL, type_confidence = NULL WHERE id = ?1",
    "DELETE FROM review WHERE document_id = ?1 OR page_id IN (SELECT id FROM pages WHERE document_id = ?1)",
  };

  pages = cd_archive_prepare(self, "SELECT image_sha256 FROM pages WHERE document_id = ? ORDER BY seq, id", error);
  if (pages == NULL)
    return FALSE;
  sqlite3_bind_int64(pages, 1, d->id);
  json_builder_begin_array(hb);
  while (sqlite3_step(pages) == SQLITE_ROW) {
    const gchar *sha = cd_column_text(pages, 0);
    if (sha != NULL) {
      json_builder_add_string_value(hb, sha);
      g_ptr_array_add(hashes, g_strdup(sha));
    } else {
      json_builder_add_null_value(hb);
    }
  }
  json_builder_end_array(hb);
  hnode = json_builder_get_root(hb);
  hashes_json = cd_json_to_string(hnode);

  ins = cd_archive_prepare(self,
                           "INSERT INTO tombstones (document_id, run_id, patient_mrn, type, date, last_service, "
                           "keep_until, rule, pages, image_sha256, created, batch_id, destroyed_at) "
                           "SELECT id, ?2, patient_mrn, type, date, ?3, ?4, ?5, ?6, ?7, created, batch_id, ?8 "
                           "FROM documents WHERE id = ?1",
                           error);
  if (ins == NULL)
    return FALSE;
  sqlite3_bind_int64(ins, 1, d->id);
  sqlite3_bind_int64(ins, 2, run_id);
  cd_bind_text(ins, 3, last_service);
  cd_bind_text(ins, 4, d->keep_until);
  cd_bind_text(ins, 5, d->rule);
  sqlite3_bind_int64(ins, 6, d->pages);
  cd_bind_text(ins, 7, hashes_json);
  cd_bind_text(ins, 8, now);
  if (!cd_archive_step_done(self, ins, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
    g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, steps[i], error);
    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, d->id);
    if (!cd_archive_step_done(self, stmt, error))
      return FALSE;
  }
  for (guint i = 0; i < hashes->len; i++) {
    g_autoptr(sqlite3_stmt) img = cd_archive_prepare(
        self, "DELETE FROM images WHERE sha256 = ?1 AND NOT EXISTS (SELECT 1 FROM pages WHERE image_sha256 = ?1)",
        error);
    if (img == NULL)
      return FALSE;
    cd_bind_text(img, 1, g_ptr_array_index(hashes, i));
    if (!cd_archive_step_done(self, img, error))
      return FALSE;
  }
  return TRUE;
}

/* ---- the certificate: a plain text PDF drawn with cairo */

typedef struct {
  cairo_t *cr;
  cairo_surface_t *surface;
  gdouble y;
  guint page;
} CdCertPdf;

#define CD_CERT_WIDTH 612.0 /* US Letter, points */
#define CD_CERT_HEIGHT 792.0
#define CD_CERT_MARGIN 54.0

static cairo_status_t
cd_cert_write(void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append(closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static void
cd_cert_newline(CdCertPdf *pdf, gdouble size)
{
  pdf->y += size * 1.35;
  if (pdf->y > CD_CERT_HEIGHT - CD_CERT_MARGIN) {
    cairo_show_page(pdf->cr);
    pdf->page++;
    pdf->y = CD_CERT_MARGIN + size;
  }
}

/* Draws @text wrapped to the page width, in @size points. */
static void
cd_cert_text(CdCertPdf *pdf, const gchar *text, gdouble size, gboolean bold)
{
  g_auto(GStrv) words = g_strsplit(text, " ", -1);
  GString *line = g_string_new(NULL);
  gdouble max = CD_CERT_WIDTH - 2 * CD_CERT_MARGIN;

  cairo_select_font_face(pdf->cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(pdf->cr, size);
  for (guint i = 0; words[i] != NULL; i++) {
    g_autofree gchar *attempt = line->len > 0 ? g_strdup_printf("%s %s", line->str, words[i]) : g_strdup(words[i]);
    cairo_text_extents_t ext;
    cairo_text_extents(pdf->cr, attempt, &ext);
    if (ext.x_advance > max && line->len > 0) {
      cairo_move_to(pdf->cr, CD_CERT_MARGIN, pdf->y);
      cairo_show_text(pdf->cr, line->str);
      cd_cert_newline(pdf, size);
      g_string_assign(line, words[i]);
    } else {
      g_string_assign(line, attempt);
    }
  }
  cairo_move_to(pdf->cr, CD_CERT_MARGIN, pdf->y);
  cairo_show_text(pdf->cr, line->str);
  cd_cert_newline(pdf, size);
  g_string_free(line, TRUE);
}

static void
cd_cert_field(CdCertPdf *pdf, const gchar *label, const gchar *value)
{
  g_autofree gchar *text = g_strdup_printf("%s: %s", label, value != NULL ? value : "—");
  cd_cert_text(pdf, text, 10, FALSE);
}

static gint
cd_cert_cmp_str(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

typedef struct {
  gint64 run_id;
  const gchar *facility;
  const gchar *destroyed_at;
  const gchar *as_of;
  const gchar *method;
  const gchar *made_by;
  const gchar *made_at;
  const gchar *approved_by;
  gboolean two_person;
  const gchar *plan_sha256;
  const gchar *policy_sha256;
  const gchar *archive;
  gint64 audit_first;
  GPtrArray *destroyed; /* CdDestroyed */
  guint refused;
} CdCertInfo;

/* The certificate AHIMA's sample asks for: date of destruction, the
 * records and their inclusive dates, the method, who destroyed them and
 * who approved (witnessed) it, then every document destroyed. */
static GBytes *
cd_retention_certificate(const CdCertInfo *info, GError **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new();
  g_autoptr(GHashTable) by_type = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GPtrArray) types = g_ptr_array_new();
  CdCertPdf pdf = { 0 };
  const gchar *first = NULL, *latest = NULL;
  gint64 pages = 0;
  cairo_status_t status;

  typedef struct {
    guint n;
    gint64 pages;
    gchar first[11], last[11];
  } TypeSum;

  for (guint i = 0; i < info->destroyed->len; i++) {
    CdDestroyed *d = g_ptr_array_index(info->destroyed, i);
    const gchar *t = d->type != NULL ? d->type : "(no type)";
    TypeSum *s = g_hash_table_lookup(by_type, t);
    if (s == NULL) {
      s = g_new0(TypeSum, 1);
      g_hash_table_insert(by_type, g_strdup(t), s);
      g_ptr_array_add(types, (gpointer) t);
    }
    s->n++;
    s->pages += d->pages;
    if (s->first[0] == '\0' || g_strcmp0(d->date, s->first) < 0)
      g_strlcpy(s->first, d->date, sizeof s->first);
    if (g_strcmp0(d->date, s->last) > 0)
      g_strlcpy(s->last, d->date, sizeof s->last);
    if (first == NULL || g_strcmp0(d->date, first) < 0)
      first = d->date;
    if (latest == NULL || g_strcmp0(d->date, latest) > 0)
      latest = d->date;
    pages += d->pages;
  }
  g_ptr_array_sort(types, cd_cert_cmp_str);

  pdf.surface = cairo_pdf_surface_create_for_stream(cd_cert_write, bytes, CD_CERT_WIDTH, CD_CERT_HEIGHT);
  cairo_pdf_surface_set_metadata(pdf.surface, CAIRO_PDF_METADATA_TITLE, "Certificate of Records Destruction");
  cairo_pdf_surface_set_metadata(pdf.surface, CAIRO_PDF_METADATA_CREATOR, "Chartdesk " PACKAGE_VERSION);
  pdf.cr = cairo_create(pdf.surface);
  cairo_set_source_rgb(pdf.cr, 0, 0, 0);
  pdf.y = CD_CERT_MARGIN + 16;
  pdf.page = 1;

  cd_cert_text(&pdf, "Certificate of Records Destruction", 16, TRUE);
  if (info->facility != NULL)
    cd_cert_text(&pdf, info->facility, 11, FALSE);
  cd_cert_newline(&pdf, 6);
  {
    g_autofree gchar *run = g_strdup_printf("%" G_GINT64_FORMAT, info->run_id);
    g_autofree gchar *range = first != NULL ? g_strdup_printf("%s to %s", first, latest) : g_strdup("none");
    g_autofree gchar *what = g_strdup_printf("%u documents, %" G_GINT64_FORMAT " pages", info->destroyed->len, pages);
    g_autofree gchar *audit =
        g_strdup_printf("entries from %" G_GINT64_FORMAT " (retention-destroy-start)", info->audit_first);
    cd_cert_field(&pdf, "Destruction run", run);
    cd_cert_field(&pdf, "Date of destruction", info->destroyed_at);
    cd_cert_field(&pdf, "Retention rules applied as of", info->as_of);
    cd_cert_field(&pdf, "Records destroyed", what);
    cd_cert_field(&pdf, "Inclusive dates of service", range);
    cd_cert_field(&pdf, "Method of destruction", info->method);
    cd_cert_field(&pdf, "Plan made by", info->made_by);
    cd_cert_field(&pdf, "Plan made at", info->made_at);
    cd_cert_field(&pdf, "Destroyed by (approver, witness)", info->approved_by);
    cd_cert_field(&pdf, "Two-person rule", info->two_person ? "required and met" : "not required");
    cd_cert_field(&pdf, "Archive", info->archive);
    cd_cert_field(&pdf, "Plan SHA-256", info->plan_sha256);
    cd_cert_field(&pdf, "Policy SHA-256", info->policy_sha256);
    cd_cert_field(&pdf, "Audit log", audit);
    if (info->refused > 0) {
      g_autofree gchar *refused =
          g_strdup_printf("%u planned documents were not destroyed (see the run record)", info->refused);
      cd_cert_field(&pdf, "Refused", refused);
    }
  }
  cd_cert_newline(&pdf, 6);
  cd_cert_text(&pdf, "Description of the records", 12, TRUE);
  for (guint i = 0; i < types->len; i++) {
    TypeSum *s = g_hash_table_lookup(by_type, g_ptr_array_index(types, i));
    g_autofree gchar *line =
        g_strdup_printf("%s: %u documents, %" G_GINT64_FORMAT " pages, dates of service %s to %s",
                        (const gchar *) g_ptr_array_index(types, i), s->n, s->pages, s->first, s->last);
    cd_cert_text(&pdf, line, 10, FALSE);
  }
  cd_cert_newline(&pdf, 6);
  cd_cert_text(&pdf, "Documents destroyed", 12, TRUE);
  for (guint i = 0; i < info->destroyed->len; i++) {
    CdDestroyed *d = g_ptr_array_index(info->destroyed, i);
    g_autofree gchar *line = g_strdup_printf(
        "document %" G_GINT64_FORMAT "  MRN %s  %s  %s  %" G_GINT64_FORMAT " pages  kept until %s  (rule %s)", d->id,
        d->mrn, d->type != NULL ? d->type : "(no type)", d->date, d->pages, d->keep_until, d->rule);
    cd_cert_text(&pdf, line, 9, FALSE);
  }
  cd_cert_newline(&pdf, 12);
  cd_cert_text(&pdf, "Signature of the person destroying: ______________________   Date: __________", 10, FALSE);
  cd_cert_newline(&pdf, 6);
  cd_cert_text(&pdf, "Signature of the witness / approver: _____________________   Date: __________", 10, FALSE);

  cairo_show_page(pdf.cr);
  cairo_destroy(pdf.cr);
  cairo_surface_finish(pdf.surface);
  status = cairo_surface_status(pdf.surface);
  cairo_surface_destroy(pdf.surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "cannot write the destruction certificate: %s",
                cairo_status_to_string(status));
    return NULL;
  }
  return g_byte_array_free_to_bytes(g_steal_pointer(&bytes));
}

static JsonNode *
cd_plan_load(const gchar *plan, gchar **sha, GError **error)
{
  g_autofree gchar *text = g_strdup(plan);
  g_autoptr(JsonNode) root = NULL;

  g_strchomp(text);
  root = cd_json_parse(text);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root) ||
      g_strcmp0(json_object_get_string_member_with_default(json_node_get_object(root), "format", NULL),
                CD_PLAN_FORMAT) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "not a retention plan (%s JSON, as `retention plan` writes)",
                CD_PLAN_FORMAT);
    return NULL;
  }
  *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
  return g_steal_pointer(&root);
}

static void
cd_refuse(JsonBuilder *b, gint64 id, const gchar *why)
{
  json_builder_begin_object(b);
  cd_json_member_int(b, "document", id);
  cd_json_add_string_or_null(b, "why", why);
  json_builder_end_object(b);
}

static gboolean
archive_pragma_on(CdArchive *self, const gchar *pragma)
{
  g_autofree gchar *sql = g_strdup_printf("PRAGMA %s", pragma);
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, sql, NULL);

  return stmt != NULL && sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) != 0;
}

/* Restores a connection's secure_delete when a destruction run ends. */
typedef struct {
  CdArchive *archive; /* borrowed; NULL: nothing to restore */
  gboolean was_on;
} CdSecureDelete;

static void
cd_secure_delete_restore(CdSecureDelete *guard)
{
  if (guard->archive != NULL && !guard->was_on)
    cd_archive_exec(guard->archive, "PRAGMA secure_delete = OFF", NULL);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CdSecureDelete, cd_secure_delete_restore)

/* Empties the write-ahead log into the file and truncates it: it still
 * holds copies of pages as they were before the run. A reader of another
 * process keeps it from completing (busy); that is recorded. */
static gboolean
cd_retention_truncate_wal(CdArchive *self, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, "PRAGMA wal_checkpoint(TRUNCATE)", error);

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    cd_archive_set_error(self, error, "cannot checkpoint the write-ahead log");
    return FALSE;
  }
  if (sqlite3_column_int(stmt, 0) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_BUSY,
                "%s: the write-ahead log could not be truncated: another process is reading the archive",
                cd_archive_get_path(self));
    return FALSE;
  }
  return TRUE;
}

/**
 * cd_archive_retention_destroy:
 * @self: a #CdArchive
 * @plan: the plan file's text, as cd_archive_retention_plan() made it
 * @error: return location for a #GError
 *
 * Carries out a plan: destroys exactly its `due` documents, refusing each
 * that since the plan gained a legal hold, a newer date of service for its
 * patient, or is no longer due under the plan's policy today, or is no
 * longer visible to the principal. Page images, text, word boxes and facts
 * leave the archive and its full-text index (which is merged afterwards so
 * no deleted term stays in it); a tombstone keeps the document's id,
 * patient, type, dates, page count and image hashes; every step is audited;
 * a destruction run with its certificate (a PDF) is recorded; then the
 * file is rebuilt (`VACUUM`) and the write-ahead log truncated, with
 * `secure_delete` on throughout.
 *
 * The plan must be recorded in this archive's verified audit log
 * (`retention-plan`); its maker is read from there. When the two-person
 * rule applies (the plan's policy or cd_archive_set_retention_two_person())
 * the principal must be another person than the maker. Needs
 * %CD_PERMISSION_CONFIGURE. A plan is carried out once.
 *
 * Returns: (transfer full): `{"run", "destroyed": [ids], "pages",
 *   "refused": [{"document", "why"}], "bytes_before", "bytes_after",
 *   "certificate_sha256"}`, or %NULL with @error set (nothing destroyed)
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_retention_destroy(CdArchive *self, const gchar *plan, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree gchar *sha = NULL;
  g_autofree gchar *archive_id = NULL;
  g_autofree gchar *made_by = NULL;
  g_autofree gchar *made_at = NULL;
  g_autofree gchar *planner = NULL;
  g_autofree gchar *approver = NULL;
  g_autofree gchar *now = cd_now_iso8601();
  g_autofree gchar *today_s = NULL;
  g_autofree gchar *cert_sha = NULL;
  g_autofree gchar *refused_json = NULL;
  g_autoptr(CdRetentionPolicy) policy = NULL;
  g_autoptr(CdTaxonomy) taxonomy = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(GHashTable) due_now = NULL;
  g_autoptr(GPtrArray) destroyed = g_ptr_array_new_with_free_func((GDestroyNotify) cd_destroyed_free);
  g_autoptr(JsonBuilder) refused = json_builder_new();
  g_autoptr(JsonNode) refused_node = NULL;
  g_autoptr(JsonBuilder) result = json_builder_new();
  g_autoptr(GBytes) certificate = NULL;
  g_autoptr(GError) audit_error = NULL;
  g_autoptr(sqlite3_stmt) run = NULL;
  g_autoptr(sqlite3_stmt) already = NULL;
  g_autoptr(sqlite3_stmt) found = NULL;
  g_auto(CdSecureDelete) secure = { 0 };
  JsonObject *p, *pol;
  JsonArray *due;
  CdPlanCounts counts = { 0 };
  gboolean two_person;
  gint64 run_id, audit_first, total_pages = 0, bytes_before, bytes_after;
  guint n_refused = 0;
  GDate today;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(plan != NULL, NULL);
  root = cd_plan_load(plan, &sha, error);
  if (root == NULL)
    return NULL;
  p = json_node_get_object(root);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_CONFIGURE, "destroy records", "retention", error))
    return NULL;
  archive_id = cd_retention_archive_id(self, error);
  if (archive_id == NULL)
    return NULL;
  if (g_strcmp0(json_object_get_string_member_with_default(p, "archive", NULL), archive_id) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: the plan was made for another archive (%s, not %s)",
                cd_archive_get_path(self), json_object_get_string_member_with_default(p, "archive", "?"), archive_id);
    return NULL;
  }
  if (!cd_archive_verify_audit(self, NULL, &audit_error)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: no destruction while the audit log does not verify: %s",
                cd_archive_get_path(self), audit_error->message);
    return NULL;
  }
  found = cd_archive_prepare(self,
                             "SELECT actor, ts FROM audit WHERE action = 'retention-plan' AND json_valid(detail) AND "
                             "coalesce(json_extract(detail, '$.plan_sha256'), json_extract(detail, "
                             "'$.detail.plan_sha256')) = ? ORDER BY id LIMIT 1",
                             error);
  if (found == NULL)
    return NULL;
  cd_bind_text(found, 1, sha);
  if (sqlite3_step(found) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "%s: this plan (SHA-256 %s) is not recorded in the archive's audit log: it was made on another "
                "archive or changed since it was made",
                cd_archive_get_path(self), sha);
    return NULL;
  }
  made_by = cd_column_dup(found, 0);
  made_at = cd_column_dup(found, 1);
  /* no statement may be left running: VACUUM below refuses to start */
  g_clear_pointer(&found, sqlite3_finalize);
  already = cd_archive_prepare(self, "SELECT id FROM retention_runs WHERE plan_sha256 = ?", error);
  if (already == NULL)
    return NULL;
  cd_bind_text(already, 1, sha);
  if (sqlite3_step(already) == SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "%s: this plan was already carried out (run %" G_GINT64_FORMAT ")", cd_archive_get_path(self),
                (gint64) sqlite3_column_int64(already, 0));
    return NULL;
  }
  g_clear_pointer(&already, sqlite3_finalize);

  pol = json_object_get_object_member(p, "policy");
  if (pol == NULL || json_object_get_string_member_with_default(pol, "text", NULL) == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the plan carries no policy");
    return NULL;
  }
  taxonomy = cd_taxonomy_new_default(NULL);
  policy = cd_retention_policy_new_from_data(json_object_get_string_member(pol, "text"),
                                             json_object_get_string_member_with_default(pol, "origin", "plan"),
                                             taxonomy, error);
  if (policy == NULL) {
    g_prefix_error(error, "the plan's policy: ");
    return NULL;
  }

  two_person = cd_retention_policy_get_two_person(policy) || cd_retention_meta_two_person(self) ||
               json_object_get_boolean_member_with_default(p, "two_person", FALSE);
  planner = cd_retention_person(made_by);
  approver = cd_retention_person(cd_archive_get_actor(self));
  if (two_person && g_strcmp0(planner, approver) == 0) {
    g_autoptr(GError) denied = NULL;
    g_autoptr(JsonObject) obj = json_object_new();
    g_autoptr(JsonNode) detail = NULL;
    json_object_set_string_member(obj, "permission", "configure");
    json_object_set_string_member(obj, "operation", "approve a destruction plan made by the same person");
    json_object_set_string_member(obj, "plan_sha256", sha);
    detail = json_node_init_object(json_node_alloc(), obj);
    if (!cd_archive_audit(self, "denied", "retention", detail, &denied))
      g_warning("%s", denied->message);
    g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED,
                "two-person rule: the plan was made by %s (%s); another administrator must approve it", planner,
                made_by);
    return NULL;
  }

  if (!cd_retention_today(NULL, &today, error))
    return NULL;
  today_s = cd_date_to_iso(&today);

  /* freed pages are zeroed as they are freed: no deleted text lingers in
   * the free list until the VACUUM below rewrites the file; the
   * connection's setting is restored however this ends */
  secure.archive = self;
  secure.was_on = archive_pragma_on(self, "secure_delete");
  if (!cd_archive_exec(self, "PRAGMA secure_delete = ON", error))
    return NULL;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return NULL;
  due_now = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) json_object_unref);
  if (!cd_retention_evaluate_all(self, policy, &today, NULL, NULL, NULL, &counts, due_now, error))
    return NULL;

  run = cd_archive_prepare(self,
                           "INSERT INTO retention_runs (destroyed_at, as_of, plan, plan_sha256, policy_sha256, "
                           "made_by, made_at, approved_by, two_person, method, documents, pages, refused) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, '[]')",
                           error);
  if (run == NULL)
    return NULL;
  cd_bind_text(run, 1, now);
  cd_bind_text(run, 2, today_s);
  {
    g_autofree gchar *text = g_strchomp(g_strdup(plan));
    cd_bind_text(run, 3, text);
  }
  cd_bind_text(run, 4, sha);
  cd_bind_text(run, 5, cd_retention_policy_get_sha256(policy));
  cd_bind_text(run, 6, made_by);
  cd_bind_text(run, 7, made_at);
  cd_bind_text(run, 8, cd_archive_get_actor(self));
  sqlite3_bind_int(run, 9, two_person);
  cd_bind_text(run, 10, cd_retention_policy_get_method(policy));
  if (!cd_archive_step_done(self, run, error))
    return NULL;
  run_id = sqlite3_last_insert_rowid(cd_archive_get_db(self));
  g_clear_pointer(&run, sqlite3_finalize);

  due = json_object_get_array_member(p, "due");
  {
    g_autofree gchar *object = g_strdup_printf("retention-run:%" G_GINT64_FORMAT, run_id);
    g_autoptr(JsonBuilder) sb = json_builder_new();
    g_autoptr(JsonNode) start = NULL;
    json_builder_begin_object(sb);
    cd_json_add_string_or_null(sb, "plan_sha256", sha);
    cd_json_add_string_or_null(sb, "made_by", made_by);
    cd_json_add_string_or_null(sb, "approved_by", cd_archive_get_actor(self));
    json_builder_set_member_name(sb, "two_person");
    json_builder_add_boolean_value(sb, two_person);
    cd_json_member_int(sb, "planned", due != NULL ? json_array_get_length(due) : 0);
    json_builder_end_object(sb);
    start = json_builder_get_root(sb);
    if (!cd_archive_audit(self, "retention-destroy-start", object, start, error))
      return NULL;
    audit_first = cd_retention_last_audit_id(self);
  }

  json_builder_begin_array(refused);
  for (guint i = 0; due != NULL && i < json_array_get_length(due); i++) {
    JsonObject *e = json_array_get_object_element(due, i);
    gint64 id = e != NULL ? json_object_get_int_member_with_default(e, "document", 0) : 0;
    JsonObject *now_e = g_hash_table_lookup(due_now, &id);
    sqlite3_stmt *state_stmt = NULL;
    const gchar *plan_last = e != NULL ? json_object_get_string_member_with_default(e, "last_service", NULL) : NULL;
    g_autofree gchar *object = g_strdup_printf("document:%" G_GINT64_FORMAT, id);
    g_autoptr(JsonBuilder) db = json_builder_new();
    g_autoptr(JsonNode) detail = NULL;
    CdDestroyed *d;

    if (id <= 0) {
      cd_refuse(refused, id, "not a document id");
      n_refused++;
      continue;
    }
    /* the same document, patient and dates as planned, due today */
    {
      g_autofree gchar *why = NULL;
      const gchar *state = now_e != NULL ? json_object_get_string_member_with_default(now_e, "state", NULL) : NULL;
      const gchar *now_last =
          now_e != NULL ? json_object_get_string_member_with_default(now_e, "last_service", NULL) : NULL;

      if (now_e == NULL) {
        state_stmt = cd_archive_prepare(self,
                                        "SELECT (SELECT run_id FROM tombstones WHERE document_id = d.id) "
                                        "FROM documents d WHERE d.id = ?1",
                                        error);
        if (state_stmt == NULL)
          return NULL;
        sqlite3_bind_int64(state_stmt, 1, id);
        if (sqlite3_step(state_stmt) != SQLITE_ROW)
          why = g_strdup("no longer in the archive");
        else if (sqlite3_column_type(state_stmt, 0) != SQLITE_NULL)
          why = g_strdup_printf("already destroyed (run %" G_GINT64_FORMAT ")",
                                (gint64) sqlite3_column_int64(state_stmt, 0));
        else
          why = g_strdup("of a type the approver may not see (restricted)");
        g_clear_pointer(&state_stmt, sqlite3_finalize);
      } else if (g_strcmp0(json_object_get_string_member_with_default(now_e, "mrn", NULL),
                           json_object_get_string_member_with_default(e, "mrn", NULL)) != 0 ||
                 g_strcmp0(json_object_get_string_member_with_default(now_e, "date", NULL),
                           json_object_get_string_member_with_default(e, "date", NULL)) != 0) {
        why = g_strdup("its patient or date of service changed since the plan");
      } else if (g_strcmp0(now_last, plan_last) != 0) {
        why = g_strdup_printf("a newer date of service for the patient since the plan: %s (the plan had %s)",
                              now_last != NULL ? now_last : "?", plan_last != NULL ? plan_last : "?");
      } else if (g_strcmp0(state, "held") == 0) {
        why = g_strdup_printf("%s, placed since the plan",
                              json_object_get_string_member_with_default(now_e, "why", "under legal hold"));
      } else if (g_strcmp0(state, "kept") == 0) {
        why = g_strdup_printf("not due on %s: kept until %s", today_s,
                              json_object_get_string_member_with_default(now_e, "keep_until", "?"));
      } else if (g_strcmp0(state, "due") != 0) {
        why = g_strdup_printf("no longer due (%s%s%s)", state, json_object_has_member(now_e, "why") ? ": " : "",
                              json_object_get_string_member_with_default(now_e, "why", ""));
      }
      if (why != NULL) {
        cd_refuse(refused, id, why);
        n_refused++;
        json_builder_begin_object(db);
        cd_json_member_int(db, "run", run_id);
        cd_json_add_string_or_null(db, "why", why);
        json_builder_end_object(db);
        detail = json_builder_get_root(db);
        if (!cd_archive_audit(self, "destroy-refused", object, detail, error))
          return NULL;
        continue;
      }
    }
    d = g_new0(CdDestroyed, 1);
    d->id = id;
    d->mrn = g_strdup(json_object_get_string_member_with_default(now_e, "mrn", NULL));
    d->type = g_strdup(json_object_get_string_member_with_default(now_e, "type", NULL));
    d->date = g_strdup(json_object_get_string_member_with_default(now_e, "date", NULL));
    d->keep_until = g_strdup(json_object_get_string_member_with_default(now_e, "keep_until", NULL));
    d->rule = g_strdup(json_object_get_string_member_with_default(now_e, "rule", NULL));
    d->pages = json_object_get_int_member_with_default(now_e, "pages", 0);
    g_ptr_array_add(destroyed, d);
    if (!cd_retention_destroy_one(self, run_id, d, plan_last, now, error))
      return NULL;
    total_pages += d->pages;
    json_builder_begin_object(db);
    cd_json_member_int(db, "run", run_id);
    cd_json_add_string_or_null(db, "mrn", d->mrn);
    cd_json_add_string_or_null(db, "type", d->type);
    cd_json_add_string_or_null(db, "date", d->date);
    cd_json_member_int(db, "pages", d->pages);
    cd_json_add_string_or_null(db, "keep_until", d->keep_until);
    json_builder_end_object(db);
    detail = json_builder_get_root(db);
    if (!cd_archive_audit(self, "destroy", object, detail, error))
      return NULL;
  }
  json_builder_end_array(refused);
  refused_node = json_builder_get_root(refused);
  refused_json = cd_json_to_string(refused_node);

  /* deleting from FTS5 leaves delete markers beside the old terms until
   * segments merge; merge them all now */
  if (!cd_archive_exec(self, "INSERT INTO pages_fts (pages_fts) VALUES ('optimize')", error))
    return NULL;

  {
    CdCertInfo info = {
      .run_id = run_id,
      .facility = cd_retention_policy_get_facility(policy),
      .destroyed_at = now,
      .as_of = today_s,
      .method = cd_retention_policy_get_method(policy),
      .made_by = made_by,
      .made_at = made_at,
      .approved_by = cd_archive_get_actor(self),
      .two_person = two_person,
      .plan_sha256 = sha,
      .policy_sha256 = cd_retention_policy_get_sha256(policy),
      .archive = archive_id,
      .audit_first = audit_first,
      .destroyed = destroyed,
      .refused = n_refused,
    };
    certificate = cd_retention_certificate(&info, error);
    if (certificate == NULL)
      return NULL;
    cert_sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, certificate);
  }
  {
    g_autofree gchar *object = g_strdup_printf("retention-run:%" G_GINT64_FORMAT, run_id);
    g_autoptr(JsonBuilder) eb = json_builder_new();
    g_autoptr(JsonNode) end = NULL;
    g_autoptr(sqlite3_stmt) upd = NULL;
    json_builder_begin_object(eb);
    cd_json_member_int(eb, "documents", destroyed->len);
    cd_json_member_int(eb, "pages", total_pages);
    cd_json_member_int(eb, "refused", n_refused);
    cd_json_add_string_or_null(eb, "certificate_sha256", cert_sha);
    json_builder_end_object(eb);
    end = json_builder_get_root(eb);
    if (!cd_archive_audit(self, "retention-destroy", object, end, error))
      return NULL;
    upd = cd_archive_prepare(self,
                             "UPDATE retention_runs SET documents = ?2, pages = ?3, refused = ?4, certificate = ?5, "
                             "certificate_sha256 = ?6, audit_first = ?7, audit_last = ?8, bytes_before = ?9 "
                             "WHERE id = ?1",
                             error);
    if (upd == NULL)
      return NULL;
    sqlite3_bind_int64(upd, 1, run_id);
    sqlite3_bind_int64(upd, 2, destroyed->len);
    sqlite3_bind_int64(upd, 3, total_pages);
    cd_bind_text(upd, 4, refused_json);
    sqlite3_bind_blob(upd, 5, g_bytes_get_data(certificate, NULL), g_bytes_get_size(certificate), SQLITE_TRANSIENT);
    cd_bind_text(upd, 6, cert_sha);
    sqlite3_bind_int64(upd, 7, audit_first);
    sqlite3_bind_int64(upd, 8, cd_retention_last_audit_id(self));
    if (!cd_archive_step_done(self, upd, error))
      return NULL;
  }
  if (!cd_archive_txn_commit(txn, error))
    return NULL;
  g_clear_pointer(&txn, cd_archive_txn_free);
  /* the file as the destruction left it: what VACUUM reclaims from */
  bytes_before = cd_retention_file_bytes(self);

  /* reclaim the space and rewrite the file; then empty the WAL, which
   * still holds copies of the pages written before */
  {
    g_autoptr(GError) vacuum_error = NULL;
    g_autoptr(JsonObject) obj = json_object_new();
    g_autoptr(JsonNode) detail = NULL;
    g_autofree gchar *object = g_strdup_printf("retention-run:%" G_GINT64_FORMAT, run_id);
    g_autoptr(sqlite3_stmt) upd = NULL;

    if (!cd_archive_exec(self, "VACUUM", &vacuum_error) || !cd_retention_truncate_wal(self, &vacuum_error))
      g_warning("%s: space not reclaimed after destruction run %" G_GINT64_FORMAT ": %s", cd_archive_get_path(self),
                run_id, vacuum_error->message);
    bytes_after = cd_retention_file_bytes(self);
    json_object_set_int_member(obj, "bytes_before", bytes_before);
    json_object_set_int_member(obj, "bytes_after", bytes_after);
    json_object_set_boolean_member(obj, "vacuumed", vacuum_error == NULL);
    if (vacuum_error != NULL)
      json_object_set_string_member(obj, "error", vacuum_error->message);
    detail = json_node_init_object(json_node_alloc(), obj);
    txn = cd_archive_txn_begin(self, error);
    if (txn == NULL)
      return NULL;
    upd =
        cd_archive_prepare(self, "UPDATE retention_runs SET bytes_before = ?2, bytes_after = ?3 WHERE id = ?1", error);
    if (upd == NULL)
      return NULL;
    sqlite3_bind_int64(upd, 1, run_id);
    sqlite3_bind_int64(upd, 2, bytes_before);
    sqlite3_bind_int64(upd, 3, bytes_after);
    if (!cd_archive_step_done(self, upd, error) || !cd_archive_audit(self, "retention-vacuum", object, detail, error) ||
        !cd_archive_txn_commit(txn, error))
      return NULL;
  }
  json_builder_begin_object(result);
  cd_json_member_int(result, "run", run_id);
  json_builder_set_member_name(result, "destroyed");
  json_builder_begin_array(result);
  for (guint i = 0; i < destroyed->len; i++)
    json_builder_add_int_value(result, ((CdDestroyed *) g_ptr_array_index(destroyed, i))->id);
  json_builder_end_array(result);
  cd_json_member_int(result, "pages", total_pages);
  json_builder_set_member_name(result, "refused");
  json_builder_add_value(result, json_node_copy(refused_node));
  cd_json_member_int(result, "bytes_before", bytes_before);
  cd_json_member_int(result, "bytes_after", bytes_after);
  cd_json_add_string_or_null(result, "certificate_sha256", cert_sha);
  cd_json_add_string_or_null(result, "made_by", made_by);
  cd_json_add_string_or_null(result, "approved_by", cd_archive_get_actor(self));
  json_builder_end_object(result);
  return json_builder_get_root(result);
}

/**
 * cd_archive_get_retention_run:
 * @self: a #CdArchive
 * @run_id: a destruction run
 * @certificate: (out) (optional) (transfer full): its certificate, a PDF
 * @error: return location for a #GError
 *
 * A destruction run's record: `{"run", "destroyed_at", "as_of",
 * "made_by", "made_at", "approved_by", "two_person", "method",
 * "documents", "pages", "refused", "plan_sha256", "policy_sha256",
 * "certificate_sha256", "audit_first", "audit_last", "bytes_before",
 * "bytes_after", "tombstones": [{"document", "mrn", "type", "date",
 * "pages", "image_sha256"}]}`. Needs %CD_PERMISSION_CONFIGURE or
 * %CD_PERMISSION_READ_AUDIT; audited (`retention-certificate`).
 *
 * Returns: (transfer full): the record, or %NULL with @error set
 *
 * Since: 0.4
 */
JsonNode *
cd_archive_get_retention_run(CdArchive *self, gint64 run_id, GBytes **certificate, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) tombs = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) root = NULL;
  g_autofree gchar *object = g_strdup_printf("retention-run:%" G_GINT64_FORMAT, run_id);
  const gchar *text_cols[] = { "destroyed_at", "as_of", "made_by", "made_at", "approved_by", "method" };

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_retention_require_any(self, CD_PERMISSION_CONFIGURE | CD_PERMISSION_READ_AUDIT, CD_PERMISSION_CONFIGURE,
                                "read destruction certificates", object, error))
    return NULL;
  stmt = cd_archive_prepare(self,
                            "SELECT destroyed_at, as_of, made_by, made_at, approved_by, method, two_person, "
                            "documents, pages, refused, plan_sha256, policy_sha256, certificate_sha256, audit_first, "
                            "audit_last, bytes_before, bytes_after, certificate FROM retention_runs WHERE id = ?",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, run_id);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no destruction run %" G_GINT64_FORMAT,
                cd_archive_get_path(self), run_id);
    return NULL;
  }
  json_builder_begin_object(b);
  cd_json_member_int(b, "run", run_id);
  for (guint i = 0; i < G_N_ELEMENTS(text_cols); i++)
    cd_json_add_string_or_null(b, text_cols[i], cd_column_text(stmt, i));
  json_builder_set_member_name(b, "two_person");
  json_builder_add_boolean_value(b, sqlite3_column_int(stmt, 6) != 0);
  cd_json_member_int(b, "documents", sqlite3_column_int64(stmt, 7));
  cd_json_member_int(b, "pages", sqlite3_column_int64(stmt, 8));
  json_builder_set_member_name(b, "refused");
  {
    JsonNode *r = cd_json_parse(cd_column_text(stmt, 9));
    if (r != NULL)
      json_builder_add_value(b, r);
    else
      json_builder_add_null_value(b);
  }
  cd_json_add_string_or_null(b, "plan_sha256", cd_column_text(stmt, 10));
  cd_json_add_string_or_null(b, "policy_sha256", cd_column_text(stmt, 11));
  cd_json_add_string_or_null(b, "certificate_sha256", cd_column_text(stmt, 12));
  cd_json_member_int(b, "audit_first", sqlite3_column_int64(stmt, 13));
  cd_json_member_int(b, "audit_last", sqlite3_column_int64(stmt, 14));
  cd_json_member_int(b, "bytes_before", sqlite3_column_int64(stmt, 15));
  cd_json_member_int(b, "bytes_after", sqlite3_column_int64(stmt, 16));
  if (certificate != NULL)
    *certificate = g_bytes_new(sqlite3_column_blob(stmt, 17), sqlite3_column_bytes(stmt, 17));

  tombs = cd_archive_prepare(self,
                             "SELECT document_id, patient_mrn, type, date, pages, image_sha256 FROM tombstones "
                             "WHERE run_id = ? ORDER BY document_id",
                             error);
  if (tombs == NULL)
    return NULL;
  sqlite3_bind_int64(tombs, 1, run_id);
  json_builder_set_member_name(b, "tombstones");
  json_builder_begin_array(b);
  while (sqlite3_step(tombs) == SQLITE_ROW) {
    JsonNode *hashes = cd_json_parse(cd_column_text(tombs, 5));
    json_builder_begin_object(b);
    cd_json_member_int(b, "document", sqlite3_column_int64(tombs, 0));
    cd_json_add_string_or_null(b, "mrn", cd_column_text(tombs, 1));
    cd_json_add_string_or_null(b, "type", cd_column_text(tombs, 2));
    cd_json_add_string_or_null(b, "date", cd_column_text(tombs, 3));
    cd_json_member_int(b, "pages", sqlite3_column_int64(tombs, 4));
    json_builder_set_member_name(b, "image_sha256");
    if (hashes != NULL)
      json_builder_add_value(b, hashes);
    else
      json_builder_add_null_value(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  root = json_builder_get_root(b);
  if (!cd_archive_audit(self, "retention-certificate", object, NULL, error))
    return NULL;
  return g_steal_pointer(&root);
}
