/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The PostgreSQL archive, reads: search over the stored tsvector (GIN),
 * documents and page images, each checked against the principal and
 * audited in the server's own chain.
 */
#include "config.h"

#include <string.h>

#include "cd-error.h"
#include "cd-pg-private.h"
#include "cd-util-private.h"

/* Snippet markers, as the SQLite search uses: characters OCR text does not
 * hold, so the snippet splits into text and the spans of matched words. */
#define CD_MARK_OPEN '\x02'
#define CD_MARK_CLOSE '\x03'

static gboolean
cd_pg_valid_date(const gchar *date)
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

/* Appends @token to @out as a websearch_to_tsquery phrase: "…" with any
 * quote inside dropped. */
static void
cd_pg_append_phrase(GString *out, const gchar *token, gsize len, gboolean negate)
{
  if (out->len > 0)
    g_string_append_c(out, ' ');
  if (negate)
    g_string_append_c(out, '-');
  g_string_append_c(out, '"');
  for (gsize i = 0; i < len; i++) {
    if (token[i] != '"')
      g_string_append_c(out, token[i]);
  }
  g_string_append_c(out, '"');
}

static gboolean
cd_pg_looks_like_fts(const gchar *text)
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

/* The query's words as websearch_to_tsquery() text, with the meaning the
 * SQLite search gives them: plain words each a quoted phrase, all
 * required; in FTS5 syntax, "phrases", OR and NOT kept (AND is implied),
 * while grouping, NEAR and prefix stars are read as their plain words.
 * The query is first checked as the SQLite search checks it, so both
 * refuse the same malformed queries. *@out is NULL for no words. */
static gboolean
cd_pg_query_text(const CdSearchQuery *query, gchar **out, GPtrArray *terms, GError **error)
{
  g_autofree gchar *match = NULL;
  g_autofree gchar *stripped = NULL;
  g_autoptr(GString) s = g_string_new(NULL);
  gboolean fts;
  gboolean negate = FALSE;
  const gchar *p;

  *out = NULL;
  if (!cd_query_text_to_match(query->text, query->plain, &match, error))
    return FALSE;
  if (match == NULL)
    return TRUE;
  stripped = g_strstrip(g_strdup(query->text));
  fts = !query->plain && cd_pg_looks_like_fts(stripped);
  p = stripped;
  while (*p != '\0') {
    if (g_ascii_isspace(*p) || (fts && strchr("()*^:,", *p) != NULL)) {
      p++;
    } else if (fts && *p == '"') {
      const gchar *start = ++p;
      while (*p != '\0' && *p != '"')
        p++;
      cd_pg_append_phrase(s, start, p - start, negate);
      negate = FALSE;
      if (*p == '"')
        p++;
    } else {
      const gchar *start = p;
      g_autofree gchar *word = NULL;
      while (*p != '\0' && !g_ascii_isspace(*p) && !(fts && strchr("()*^:,\"", *p) != NULL))
        p++;
      word = g_strndup(start, p - start);
      if (fts && g_strcmp0(word, "AND") == 0)
        continue;
      if (fts && g_strcmp0(word, "NEAR") == 0)
        continue;
      if (fts && g_strcmp0(word, "OR") == 0) {
        g_string_append(s, " or");
        continue;
      }
      if (fts && g_strcmp0(word, "NOT") == 0) {
        negate = TRUE;
        continue;
      }
      cd_pg_append_phrase(s, word, strlen(word), negate);
      negate = FALSE;
    }
  }
  /* the words to highlight, lower case */
  {
    g_autofree gchar *lower = g_utf8_strdown(s->str, -1);
    g_auto(GStrv) words = g_regex_split_simple("[^[:alnum:]]+", lower, G_REGEX_OPTIMIZE, 0);
    for (guint i = 0; words[i] != NULL; i++) {
      if (words[i][0] == '\0' || g_strcmp0(words[i], "or") == 0)
        continue;
      if (!g_ptr_array_find_with_equal_func(terms, words[i], g_str_equal, NULL))
        g_ptr_array_add(terms, g_strdup(words[i]));
    }
  }
  *out = g_string_free(g_steal_pointer(&s), FALSE);
  return TRUE;
}

/* The pages' own copy of their document's type and date (issue 18): a
 * search with words and a type or date range intersects the GIN bitmap of
 * the words with a btree bitmap of the pages of that type and dates
 * (BitmapAnd), so only the pages matching both are read. Without it each
 * page the words match was read to find its document (a common word with a
 * type and six months: 210 ms at a million pages).
 *
 * Not a schema version (version 2 is being taken by another change): made
 * idempotently when the archive is opened to create or migrate, in one
 * transaction under the migrations' advisory lock, and found at every open;
 * a server where it was never made is searched as before. Triggers keep the
 * copies exact whoever writes: a page takes its document's type and date
 * when it is inserted or moved to another document (and cannot be given
 * others), a document's new type or date goes to its pages. The backfill
 * rewrites every page once, when the columns are first added. */
static const gchar cd_pg_page_filters_sql[] =
    "ALTER TABLE pages ADD COLUMN IF NOT EXISTS doc_type text, ADD COLUMN IF NOT EXISTS doc_date text;"
    "CREATE OR REPLACE FUNCTION cd_pages_document_columns() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  NEW.doc_type := NULL;"
    "  NEW.doc_date := NULL;"
    "  IF NEW.document_id IS NOT NULL THEN"
    "    SELECT d.type, d.date INTO NEW.doc_type, NEW.doc_date FROM documents d WHERE d.id = NEW.document_id;"
    "  END IF;"
    "  RETURN NEW;"
    "END$$;"
    "CREATE OR REPLACE TRIGGER pages_document_columns BEFORE INSERT OR UPDATE OF document_id, doc_type, doc_date"
    "  ON pages FOR EACH ROW EXECUTE FUNCTION cd_pages_document_columns();"
    "CREATE OR REPLACE FUNCTION cd_documents_page_columns() RETURNS trigger LANGUAGE plpgsql AS $$"
    "BEGIN"
    "  UPDATE pages SET doc_type = NEW.type, doc_date = NEW.date WHERE document_id = NEW.id;"
    "  RETURN NULL;"
    "END$$;"
    "CREATE OR REPLACE TRIGGER documents_page_columns AFTER UPDATE OF type, date ON documents FOR EACH ROW"
    "  WHEN (OLD.type IS DISTINCT FROM NEW.type OR OLD.date IS DISTINCT FROM NEW.date)"
    "  EXECUTE FUNCTION cd_documents_page_columns();"
    "UPDATE pages p SET doc_type = d.type, doc_date = d.date FROM documents d WHERE d.id = p.document_id"
    "  AND (p.doc_type IS DISTINCT FROM d.type OR p.doc_date IS DISTINCT FROM d.date);"
    "CREATE INDEX IF NOT EXISTS pages_doc_type_date ON pages (doc_type, doc_date);";

static const gchar cd_pg_page_filters_present_sql[] =
    "SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = 'pages'::regclass AND attname IN ('doc_type', "
    "'doc_date') AND NOT attisdropped) = 2 AND to_regclass('pages_doc_type_date') IS NOT NULL AND "
    "(SELECT count(*) FROM pg_trigger WHERE tgname IN ('pages_document_columns', 'documents_page_columns') AND "
    "tgenabled <> 'D') = 2, to_regclass('pages_tsv_keys') IS NOT NULL";

/* The pages' RUM index (the `rum` extension, Debian's postgresql-15-rum):
 * a GIN index whose posting lists keep each word's positions, so a ranked
 * search orders its matches by relevance inside the index (`tsv <=> q`)
 * and reads from the table only the pages it returns, where the GIN plan
 * reads every match's tsvector to rank it. Since schema 6 it also holds
 * the pages' copies of their document's type (rum_text_ops, as
 * btree_gin's), so a type is intersected with the words in the index and
 * only the pages of that type are ranked (a common word with a broad
 * type: the type was a filter on the rank order, each row it refused
 * read from the table). Not the date: the planner then took the RUM
 * index for a rare word with a type and five years, and the index's
 * range over the dates' entries took 1.8 s at 1 M pages (temporary files)
 * where the GIN and b-tree indexes answer in 8 ms. Optional: made when the archive is opened
 * to create or migrate, if the server offers the extension and this role
 * may create it (a superuser, or an administrator ran `CREATE EXTENSION
 * rum` first); a server without it searches by the GIN index as before.
 * The meta key `search-index` = `gin` keeps it off (neither made nor
 * used). The one-column index of schema 5 is replaced (migration 6). */
static const gchar cd_pg_rum_sql[] = "CREATE EXTENSION IF NOT EXISTS rum;"
                                     "DROP INDEX IF EXISTS pages_rum;"
                                     "CREATE INDEX IF NOT EXISTS pages_rum_filters ON pages"
                                     "  USING rum (tsv rum_tsvector_ops, doc_type rum_text_ops);";

static const gchar cd_pg_rum_present_sql[] =
    "SELECT to_regclass('pages_rum_filters') IS NOT NULL AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = "
    "'rum'), EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'rum'), "
    "coalesce((SELECT value FROM meta WHERE key = 'search-index'), '') = 'gin'";

/* Runs the multi-statement @script (through the simple protocol) in a
 * transaction under the schema lock. FALSE with @error when the
 * connection fails; TRUE with *@refused the server's message (rolled
 * back) when the script itself fails, or NULL when it committed. */
static gboolean
cd_pg_search_run_script(CdPgArchive *self, const gchar *script, gchar **refused, GError **error)
{
  g_autoptr(PGresult) res = NULL;

  *refused = NULL;
  if (!cd_pg_begin(self, error))
    return FALSE;
  if (!cd_pg_exec_ok(self, "SELECT pg_advisory_xact_lock(4348445400)", NULL, "cannot lock the schema", error)) {
    cd_pg_rollback(self);
    return FALSE;
  }
  res = PQexec(self->conn, script);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    *refused = g_strstrip(g_strdup(PQresultErrorMessage(res)));
    cd_pg_rollback(self);
    return TRUE;
  }
  if (!cd_pg_commit(self, error)) {
    cd_pg_rollback(self);
    return FALSE;
  }
  return TRUE;
}

static gboolean
cd_pg_search_prepare_rum(CdPgArchive *self, gboolean create, GError **error)
{
  g_autoptr(PGresult) res = cd_pg_exec(self, cd_pg_rum_present_sql, NULL, "cannot read the schema", error);
  g_autofree gchar *refused = NULL;

  if (res == NULL)
    return FALSE;
  if (g_strcmp0(cd_pg_value(res, 0, 2), "t") == 0) {
    self->rum = FALSE;
    return TRUE;
  }
  self->rum = g_strcmp0(cd_pg_value(res, 0, 0), "t") == 0;
  if (self->rum || !create || !self->page_filters || g_strcmp0(cd_pg_value(res, 0, 1), "t") != 0)
    return TRUE;
  if (!cd_pg_search_run_script(self, cd_pg_rum_sql, &refused, error))
    return FALSE;
  if (refused != NULL) {
    /* not ours to create (no privilege): the GIN plans answer */
    g_info("%s: searches rank without the RUM index: %s", self->where, refused);
    return TRUE;
  }
  self->rum = TRUE;
  return TRUE;
}

gboolean
cd_pg_search_prepare(CdPgArchive *self, gboolean create, GError **error)
{
  g_autoptr(PGresult) res = cd_pg_exec(self, cd_pg_page_filters_present_sql, NULL, "cannot read the schema", error);
  g_autofree gchar *refused = NULL;

  if (res == NULL)
    return FALSE;
  self->page_filters = g_strcmp0(cd_pg_value(res, 0, 0), "t") == 0;
  self->page_keys = g_strcmp0(cd_pg_value(res, 0, 1), "t") == 0;
  if (!self->page_filters && create) {
    if (!cd_pg_search_run_script(self, cd_pg_page_filters_sql, &refused, error))
      return FALSE;
    if (refused != NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot add the pages' search filters: %s", self->where,
                  refused);
      return FALSE;
    }
    self->page_filters = TRUE;
  }
  return cd_pg_search_prepare_rum(self, create, error);
}

/* The query's type when it names exactly one, else NULL. */
static const gchar *
cd_pg_search_one_type(const CdSearchQuery *query)
{
  if (query->doc_types == NULL)
    return query->doc_type;
  return query->doc_types[0] != NULL && query->doc_types[1] == NULL ? query->doc_types[0] : NULL;
}

/* The pages' keys in their GIN index (schema 7, `pages_tsv_keys`): the
 * page's range of CD_PG_KEY_RANGE ids, and `t:` and its copy of its
 * document's type. The expression is the index's, as the planner matches
 * it; the range's size is the migration's. */
#define CD_PG_KEY_RANGE 1024
#define CD_PG_PAGE_KEYS "ARRAY[(p.id / " G_STRINGIFY(CD_PG_KEY_RANGE) ")::text, 't:' || p.doc_type]"

/* FROM and WHERE of a search, each filter only when given (so the planner
 * sees plain predicates it can use the indexes for). $1 is the tsquery
 * text when there are words. @type_keys: the types as the
 * pages' keys (an array literal) to ask of the GIN index, or NULL. */
static void
cd_pg_search_from_full(GString *sql, CdPgParams *p, const CdSearchQuery *query, const gchar *words, const gchar *types,
                       const gchar *hidden, gboolean with_documents, gboolean page_filters, const gchar *type_keys)
{
  /* with words, the type and dates (and the hidden types) are the pages'
   * copies when the server has them (cd_pg_search_prepare()): the same
   * rows, found by BitmapAnd or in the RUM index, and no document read
   * for them */
  gboolean on_pages = words != NULL && page_filters;
  const gchar *type_col = on_pages ? "p.doc_type" : "d.type";
  const gchar *date_col = on_pages ? "p.doc_date" : "d.date";
  const gchar *one_type = cd_pg_search_one_type(query);
  gboolean doc_filter = query->mrn != NULL || query->status != NULL ||
                        (!on_pages && (types != NULL || query->date_from != NULL || query->date_to != NULL));

  if (words != NULL && !doc_filter && (hidden == NULL || on_pages) && with_documents == FALSE)
    /* nothing to check per match in its document: the pages alone */
    g_string_append(sql, " FROM (SELECT websearch_to_tsquery('english', $1) AS q) q CROSS JOIN pages p "
                         "WHERE p.tsv @@ q.q");
  else if (words != NULL && doc_filter)
    g_string_append(sql, " FROM (SELECT websearch_to_tsquery('english', $1) AS q) q CROSS JOIN pages p JOIN "
                         "documents d ON d.id = p.document_id WHERE p.tsv @@ q.q");
  else if (words != NULL)
    /* nothing narrows the documents: each match looks its document up by
     * id (OFFSET 0 keeps the planner from hashing every document when it
     * overestimates a rare word's matches) */
    g_string_append(sql, " FROM (SELECT websearch_to_tsquery('english', $1) AS q) q CROSS JOIN pages p "
                         "LEFT JOIN LATERAL (SELECT d.id, d.type, d.date FROM documents d WHERE d.id = p.document_id "
                         "OFFSET 0) d ON true WHERE p.tsv @@ q.q");
  else
    g_string_append(sql, " FROM documents d JOIN pages p ON p.document_id = d.id AND p.seq = 0 WHERE TRUE");
  if (query->mrn != NULL)
    g_string_append_printf(sql, " AND d.patient_mrn = $%u", cd_pg_params_add(p, query->mrn));
  /* one type as an equality, which the RUM index takes as its own
   * condition (it does not take `= ANY`) */
  /* or as the pages' keys in the GIN index, there alone (the planner
   * would also intersect the type's b-tree bitmap, every page of the
   * type, with the index's few pages: 32 ms for 300,000 at 1 M pages) */
  if (type_keys != NULL && on_pages)
    g_string_append_printf(sql, " AND " CD_PG_PAGE_KEYS " && $%u::text[]", cd_pg_params_add(p, type_keys));
  else if (types != NULL && one_type != NULL)
    g_string_append_printf(sql, " AND %s = $%u", type_col, cd_pg_params_add(p, one_type));
  else if (types != NULL)
    g_string_append_printf(sql, " AND %s = ANY ($%u::text[])", type_col, cd_pg_params_add(p, types));
  if (query->date_from != NULL)
    g_string_append_printf(sql, " AND %s >= $%u", date_col, cd_pg_params_add(p, query->date_from));
  if (query->date_to != NULL)
    g_string_append_printf(sql, " AND %s <= $%u", date_col, cd_pg_params_add(p, query->date_to));
  if (query->status != NULL)
    g_string_append_printf(sql, " AND d.status = $%u", cd_pg_params_add(p, query->status));
  if (hidden != NULL)
    g_string_append_printf(sql, " AND (%s IS NULL OR NOT %s = ANY ($%u::text[]))", type_col, type_col,
                           cd_pg_params_add(p, hidden));
}

/* FROM and WHERE for page ids and scores only */
static void
cd_pg_search_from(CdPgArchive *self, GString *sql, CdPgParams *p, const CdSearchQuery *query, const gchar *words,
                  const gchar *types, const gchar *hidden)
{
  cd_pg_search_from_full(sql, p, query, words, types, hidden, FALSE, self->page_filters, NULL);
}

/* FROM and WHERE for page ids and scores, the type (@type_keys: the
 * types as the pages' keys, an array literal, or NULL) asked of the
 * pages' GIN index */
static void
cd_pg_search_from_keys(CdPgArchive *self, GString *sql, CdPgParams *p, const CdSearchQuery *query, const gchar *words,
                       const gchar *types, const gchar *type_keys, const gchar *hidden)
{
  cd_pg_search_from_full(sql, p, query, words, types, hidden, FALSE, self->page_filters, type_keys);
}

/* FROM and WHERE with the document's columns (d.type, d.date) */
static void
cd_pg_search_from_documents(CdPgArchive *self, GString *sql, CdPgParams *p, const CdSearchQuery *query,
                            const gchar *words, const gchar *types, const gchar *hidden)
{
  cd_pg_search_from_full(sql, p, query, words, types, hidden, TRUE, self->page_filters, NULL);
}

static CdPgParams *
cd_pg_search_params(const gchar *words)
{
  CdPgParams *p = cd_pg_params_new();
  if (words != NULL)
    cd_pg_params_add(p, words);
  return p;
}

/* Splits a ts_headline() with markers into the hit's snippet ([ ]
 * around matches), its plain text and the spans. */
static void
cd_pg_hit_snippet(CdSearchHit *hit, const gchar *marked)
{
  GString *legacy = g_string_new(NULL);
  GString *plain = g_string_new(NULL);
  CdSearchSpan span = { 0 };
  gboolean open = FALSE;

  hit->spans = g_array_new(FALSE, FALSE, sizeof(CdSearchSpan));
  for (const gchar *c = marked; *c != '\0'; c++) {
    if (*c == CD_MARK_OPEN && !open) {
      open = TRUE;
      span.start = plain->len;
      g_string_append_c(legacy, '[');
    } else if (*c == CD_MARK_CLOSE && open) {
      open = FALSE;
      span.length = plain->len - span.start;
      if (span.length > 0)
        g_array_append_val(hit->spans, span);
      g_string_append_c(legacy, ']');
    } else if (*c != CD_MARK_OPEN && *c != CD_MARK_CLOSE) {
      g_string_append_c(legacy, *c);
      g_string_append_c(plain, *c);
    }
  }
  hit->snippet = g_string_free(legacy, FALSE);
  hit->snippet_text = g_string_free(plain, FALSE);
}

/* Fills in what the returned hits show; ts_headline() runs on these pages
 * only. */
static gboolean
cd_pg_search_describe(CdPgArchive *self, const gchar *words, GPtrArray *hits, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autoptr(GString) ids = g_string_new("{");
  g_autofree gchar *sql = NULL;

  if (hits->len == 0)
    return TRUE;
  for (guint i = 0; i < hits->len; i++) {
    CdSearchHit *hit = g_ptr_array_index(hits, i);
    g_string_append_printf(ids, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "", hit->page_id);
  }
  g_string_append_c(ids, '}');
  cd_pg_params_add(p, ids->str);
  if (words != NULL)
    cd_pg_params_add(p, words);
  sql = g_strdup_printf(
      "SELECT coalesce(p.document_id, 0), p.seq, d.patient_mrn, d.type, d.date, d.status, p.source_path, "
      "p.source_page, d.title, pt.family, pt.given, %s FROM unnest($1::bigint[]) WITH ORDINALITY h (id, ord) "
      "JOIN pages p ON p.id = h.id LEFT JOIN documents d ON d.id = p.document_id "
      "LEFT JOIN patients pt ON pt.mrn = d.patient_mrn ORDER BY h.ord",
      words != NULL ? "ts_headline('english', coalesce(p.text, ''), websearch_to_tsquery('english', $2), "
                      "'StartSel=\x02, StopSel=\x03, MaxWords=16, MinWords=6, ShortWord=0, MaxFragments=2, "
                      "FragmentDelimiter=\" … \"')"
                    : "NULL");
  res = cd_pg_exec(self, sql, p, "search failed", error);
  if (res == NULL)
    return FALSE;
  if ((guint) PQntuples(res) != hits->len) {
    g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: search failed: a page went away while it was read",
                self->where);
    return FALSE;
  }
  for (guint i = 0; i < hits->len; i++) {
    CdSearchHit *hit = g_ptr_array_index(hits, i);
    const gchar *family = cd_pg_value(res, i, 9);
    const gchar *given = cd_pg_value(res, i, 10);
    hit->document_id = cd_pg_int(res, i, 0);
    hit->seq = hit->document_id == 0 || cd_pg_value(res, i, 1) == NULL ? -1 : (gint) cd_pg_int(res, i, 1);
    hit->patient_mrn = g_strdup(cd_pg_value(res, i, 2));
    hit->doc_type = g_strdup(cd_pg_value(res, i, 3));
    hit->date = g_strdup(cd_pg_value(res, i, 4));
    hit->status = g_strdup(cd_pg_value(res, i, 5));
    hit->source_path = g_strdup(cd_pg_value(res, i, 6));
    hit->source_page = (gint) cd_pg_int(res, i, 7);
    hit->title = g_strdup(cd_pg_value(res, i, 8));
    if (family != NULL && given != NULL)
      hit->patient_name = g_strdup_printf("%s, %s", family, given);
    else if (family != NULL || given != NULL)
      hit->patient_name = g_strdup(family != NULL ? family : given);
    if (cd_pg_value(res, i, 11) != NULL)
      cd_pg_hit_snippet(hit, cd_pg_value(res, i, 11));
  }
  return TRUE;
}

static gboolean
cd_pg_search_audit(CdPgArchive *self, const CdSearchQuery *query, CdSearchResult *result, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;

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
  if (query->status != NULL) {
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, query->status);
  }
  json_builder_set_member_name(b, "hits");
  json_builder_add_int_value(b, result->hits->len);
  json_builder_set_member_name(b, "total");
  json_builder_add_int_value(b, (gint64) result->total);
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  return cd_pg_audit(self, "search", "archive", detail, error);
}

/* Above this many matches (the planner's estimate, from the tsvector
 * statistics ANALYZE keeps), a search without filters ranks only a recent
 * window, as the SQLite search does (CD_SEARCH_BROAD there). */
#define CD_PG_SEARCH_BROAD 5000

/* About how many pages the archive has (the planner's count), and
 * *@max_id, the newest page's id (0 when there are none). */
static gint64
cd_pg_search_count_pages(CdPgArchive *self, gint64 *max_id)
{
  g_autoptr(PGresult) res =
      cd_pg_exec(self,
                 "SELECT greatest(reltuples, 0)::bigint, coalesce((SELECT max(id) FROM pages), 0) "
                 "FROM pg_class WHERE oid = 'pages'::regclass",
                 NULL, "cannot plan a search", NULL);
  *max_id = res != NULL && PQntuples(res) > 0 ? cd_pg_int(res, 0, 1) : 0;
  return res != NULL && PQntuples(res) > 0 ? cd_pg_int(res, 0, 0) : 0;
}

/* The planner's estimate of the pages @words match; 0 when it cannot say.
 * *@phrase: whether the query holds a phrase, which the GIN index cannot
 * decide alone (each candidate page's tsvector is read to check it). */
static gint64 cd_pg_search_estimate_sql(CdPgArchive *self, const gchar *sql, CdPgParams *p, gboolean *phrase);

static gint64
cd_pg_search_estimate(CdPgArchive *self, const gchar *words, gboolean *phrase)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();

  cd_pg_params_add(p, words);
  return cd_pg_search_estimate_sql(
      self, "EXPLAIN (FORMAT JSON) SELECT 1 FROM pages p WHERE p.tsv @@ websearch_to_tsquery('english', $1)", p,
      phrase);
}

/* The planner's estimate of the pages @query matches with its type and
 * dates (the pages' copies: the planner's statistics on them). */
static gint64
cd_pg_search_estimate_filtered(CdPgArchive *self, const CdSearchQuery *query, const gchar *words, const gchar *types,
                               const gchar *hidden, gboolean *phrase)
{
  g_autoptr(GString) sql = g_string_new("EXPLAIN (FORMAT JSON) SELECT 1");
  g_autoptr(CdPgParams) p = cd_pg_search_params(words);

  cd_pg_search_from(self, sql, p, query, words, types, hidden);
  return cd_pg_search_estimate_sql(self, sql->str, p, phrase);
}

static gint64
cd_pg_search_estimate_sql(CdPgArchive *self, const gchar *sql, CdPgParams *p, gboolean *phrase)
{
  g_autoptr(PGresult) res = NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonNode *root;

  g_autoptr(GError) local = NULL;

  res = cd_pg_exec(self, sql, p, "cannot plan a search", &local);
  if (res == NULL) {
    g_debug("%s", local->message);
    return 0;
  }
  *phrase = PQntuples(res) > 0 && strstr(PQgetvalue(res, 0, 0), "<->") != NULL;
  if (PQntuples(res) == 0 || !json_parser_load_from_data(parser, PQgetvalue(res, 0, 0), -1, NULL))
    return 0;
  root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY(root) || json_array_get_length(json_node_get_array(root)) == 0)
    return 0;
  {
    JsonObject *top = json_array_get_object_element(json_node_get_array(root), 0);
    JsonObject *plan = top != NULL ? json_object_get_object_member(top, "Plan") : NULL;
    return plan != NULL ? (gint64) json_object_get_double_member_with_default(plan, "Plan Rows", 0) : 0;
  }
}

/* Runs one of a search's statements; under cd_pg_archive_explain_search()
 * its plan (EXPLAIN with the same parameters) is kept first, so the plans
 * a test asserts are those of the statements the search runs. */
static PGresult *
cd_pg_search_exec(CdPgArchive *self, const gchar *sql, CdPgParams *p, GError **error)
{
  if (self->search_plans != NULL) {
    g_autofree gchar *explain = g_strconcat("EXPLAIN ", sql, NULL);
    g_autoptr(PGresult) plan = cd_pg_exec(self, explain, p, "cannot explain a search", error);
    if (plan == NULL)
      return NULL;
    for (gint i = 0; i < PQntuples(plan); i++)
      g_string_append_printf(self->search_plans, "%s\n", PQgetvalue(plan, i, 0));
    g_string_append(self->search_plans, "--\n");
  }
  return cd_pg_exec(self, sql, p, "search failed", error);
}

/* Appends the page ids and scores of @sql's rows as hits. */
static gboolean
cd_pg_search_collect(CdPgArchive *self, const gchar *sql, CdPgParams *p, GPtrArray *hits, GError **error)
{
  g_autoptr(PGresult) res = cd_pg_search_exec(self, sql, p, error);

  if (res == NULL)
    return FALSE;
  for (gint i = 0; i < PQntuples(res); i++) {
    CdSearchHit *hit = g_new0(CdSearchHit, 1);
    hit->page_id = cd_pg_int(res, i, 0);
    hit->score = g_ascii_strtod(PQgetvalue(res, i, 1), NULL);
    g_ptr_array_add(hits, hit);
  }
  return TRUE;
}

/* Counts (total) and facets from a GROUP BY type, year statement. */
static gboolean
cd_pg_search_facets(CdPgArchive *self, const gchar *sql, CdPgParams *p, CdSearchResult *result, GError **error)
{
  g_autoptr(PGresult) res = cd_pg_search_exec(self, sql, p, error);
  g_autoptr(GHashTable) type_facets = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GHashTable) year_facets = g_hash_table_new(g_str_hash, g_str_equal);

  if (res == NULL)
    return FALSE;
  result->total = 0;
  for (gint i = 0; i < PQntuples(res); i++) {
    guint64 n = g_ascii_strtoull(PQgetvalue(res, i, 2), NULL, 10);
    cd_search_facet_add(type_facets, cd_pg_value(res, i, 0), n);
    cd_search_facet_add(year_facets, cd_pg_value(res, i, 1), n);
    result->total += n;
  }
  result->type_facets = cd_search_facets_by_count(type_facets);
  result->year_facets = cd_search_facets_by_year(year_facets);
  return TRUE;
}

/* The result's facets from rows of (type, year) columns at @col, @col + 1
 * (NULL type: a page outside documents, skipped as the facets skip it). */
static void
cd_pg_search_facets_add(GHashTable *types, GHashTable *years, PGresult *res, gint row, gint col, guint64 n)
{
  cd_search_facet_add(types, cd_pg_value(res, row, col), n);
  cd_search_facet_add(years, cd_pg_value(res, row, col + 1), n);
}

/* A broad search (cd_archive_search_ex()'s `recent-window`): the
 * CD_SEARCH_RANK_WINDOW most recent matches ranked, then the older ones
 * newest first, unranked; the facets of the window; the total is the
 * window's size, a lower bound (flagged). Its cost does not grow with the
 * matches. One statement finds the window, ranks it, counts it and takes
 * its facets: each window page's row is read once (the first version ran
 * four statements over the window and counted up to 5,000 matches beyond
 * it, each pass reading the pages again). When fewer than the window
 * match, they are every match: the answer is the exact ranked one
 * (`text-first`), total and facets exact.
 *
 * How the window's newest matches are found. Walking the pages from the
 * newest reads each one's tsvector (about 9 µs a page, TOAST) until the
 * window is full: 2,000 / (the matching share) pages. Collecting the
 * matches from the GIN index and keeping the newest reads each matching
 * page's heap row, its tsvector only where the bitmap turns lossy. The walk
 * is taken when matches² > CD_PG_WALK_FACTOR × pages (2,000 × 9 µs over
 * about 0.3 µs a match): at a million pages, for words on more than a
 * quarter of them. Measured at a million pages (pg-search-bench): a word
 * on 2% of pages 139 ms by the index, where the walk would read 87,000
 * pages; a word on 64% 66 ms by the walk. */
#define CD_PG_WALK_FACTOR 60000.0
/* A phrase has every GIN candidate's tsvector read as well: there the walk
 * wins from matches² > 2,000 × pages. */
#define CD_PG_WALK_FACTOR_PHRASE 2000.0

/* Collecting the window from the GIN index is bounded to the newest
 * pages that should hold it, so the rows read do not grow with the
 * matches (two words on a fifth and a third of a million pages: 67,000
 * matches, each a heap row, where the window needs 2,000).
 *
 * With the pages' keys in the GIN index (schema 7) the bound is a set
 * of the newest id ranges, asked of the index itself: GIN intersects
 * the ranges' posting lists with the words' (and the type's) and skips
 * the older postings, so only the matches in the ranges are read (two
 * words at 1 M pages: 3,900 matches in 58 ranges, 4 ms in the index).
 * The ranges are sized by the matches' density on the newest
 * CD_PG_PROBE_RANGES ranges (one count in the same index), not by the
 * planner's estimate, which takes words to be independent: a phrase's
 * words are not (`"blood pressure"`: 24,600 estimated, 72,300 pages),
 * and ranges three times too many cost four times the time.
 * CD_PG_WINDOW_SPAN times the window by that density; when the ranges
 * hold fewer than the window, CD_PG_SPAN_GROWTH times as many, until
 * they would cover the archive (then no bound).
 *
 * Without the keys (a server where the index was dropped), the bound is
 * a range of page ids, CD_PG_WINDOW_SPAN_IDS times the window by the
 * estimate's share of matching pages; the planner answers it by the
 * primary key's range with the words as a filter at 1 M pages (258 ms
 * for two words), and when it holds fewer than the window the statement
 * runs again unbounded. */
#define CD_PG_WINDOW_SPAN 1.5
#define CD_PG_SPAN_GROWTH 4.0
#define CD_PG_PROBE_RANGES 4
#define CD_PG_WINDOW_SPAN_IDS 4.0
/* More ranges than this (a million page ids) are asked without a bound:
 * each range's key has its own posting list for the index to read, and
 * past a million pages the words' postings alone cost less. */
#define CD_PG_MAX_RANGES 1024

/* The lowest page id of a window bounded to @span ids below @max_id, or
 * 0 for no bound (the span covers the archive, or more ranges than
 * CD_PG_MAX_RANGES when they are asked of the index). */
static gint64
cd_pg_search_bound(gdouble span, gint64 max_id, gboolean keys)
{
  if (span <= 0 || span >= (gdouble) max_id)
    return 0;
  if (keys && span / CD_PG_KEY_RANGE > CD_PG_MAX_RANGES)
    return 0;
  return max_id - (gint64) span;
}

/* The keys of the id ranges from @low's to @max_id's and the next
 * (pages added since @max_id was read), as an array literal. */
static gchar *
cd_pg_search_ranges(gint64 low, gint64 max_id)
{
  GString *a = g_string_new("{");

  for (gint64 r = MAX(low, 0) / CD_PG_KEY_RANGE; r <= max_id / CD_PG_KEY_RANGE + 1; r++)
    g_string_append_printf(a, "%s%" G_GINT64_FORMAT, r > MAX(low, 0) / CD_PG_KEY_RANGE ? "," : "", r);
  g_string_append_c(a, '}');
  return g_string_free(a, FALSE);
}

/* The query's types as the pages' keys (`t:` and the type), an array
 * literal. */
static gchar *
cd_pg_search_type_keys(const CdSearchQuery *query)
{
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);

  if (query->doc_types != NULL)
    for (guint i = 0; query->doc_types[i] != NULL; i++)
      g_ptr_array_add(keys, g_strconcat("t:", query->doc_types[i], NULL));
  else
    g_ptr_array_add(keys, g_strconcat("t:", query->doc_type, NULL));
  g_ptr_array_add(keys, NULL);
  return cd_pg_array_literal((const gchar *const *) keys->pdata);
}

/* The matches' share of the page ids on the newest CD_PG_PROBE_RANGES id
 * ranges, counted in the pages' GIN index; -1 when the count fails
 * (@error set). */
static gdouble
cd_pg_search_density(CdPgArchive *self, const CdSearchQuery *query, const gchar *words, const gchar *types,
                     const gchar *type_keys, const gchar *hidden, gint64 max_id, GError **error)
{
  gint64 low = (max_id / CD_PG_KEY_RANGE - (CD_PG_PROBE_RANGES - 1)) * CD_PG_KEY_RANGE;
  g_autoptr(GString) sql = g_string_new("SELECT count(*)");
  g_autoptr(CdPgParams) p = cd_pg_search_params(words);
  g_autofree gchar *ranges = cd_pg_search_ranges(low, max_id);
  g_autoptr(PGresult) res = NULL;

  cd_pg_search_from_keys(self, sql, p, query, words, types, type_keys, hidden);
  g_string_append_printf(sql, " AND " CD_PG_PAGE_KEYS " && $%u::text[]", cd_pg_params_add(p, ranges));
  res = cd_pg_search_exec(self, sql->str, p, error);
  if (res == NULL)
    return -1;
  if (PQntuples(res) == 0)
    return 0;
  return (gdouble) cd_pg_int(res, 0, 0) / (gdouble) (max_id - MAX(low, 0) + 1);
}

static gboolean
cd_pg_search_window(CdPgArchive *self, const CdSearchQuery *query, const gchar *words, const gchar *types,
                    const gchar *hidden, guint limit, gint64 matches, gboolean phrase, CdSearchResult *result,
                    GError **error)
{
  gint64 max_id = 0;
  gdouble n_pages = (gdouble) cd_pg_search_count_pages(self, &max_id);
  gboolean keys = self->page_keys && self->page_filters;
  /* a phrase's candidates are rechecked on their tsvector; bounded to
   * the newest ranges they are few */
  gdouble factor = phrase && !keys ? CD_PG_WALK_FACTOR_PHRASE : CD_PG_WALK_FACTOR;
  gboolean walk = (gdouble) matches * (gdouble) matches > factor * n_pages;
  /* (the walk reads the pages from the newest: the type is a filter) */
  g_autofree gchar *type_keys = keys && !walk && types != NULL ? cd_pg_search_type_keys(query) : NULL;
  gdouble span = 0;
  gint64 bound;
  g_autoptr(PGresult) res = NULL;
  g_autoptr(GHashTable) type_facets = NULL;
  g_autoptr(GHashTable) year_facets = NULL;
  g_autofree gchar *low = NULL;
  guint64 n = 0;
  gboolean complete;

  if (!walk && keys) {
    gdouble density = cd_pg_search_density(self, query, words, types, type_keys, hidden, max_id, error);
    if (density < 0)
      return FALSE;
    if (density > 0)
      span = CD_PG_WINDOW_SPAN * CD_SEARCH_RANK_WINDOW / density;
  }
  if (!walk && span == 0 && matches > 0)
    span = (keys ? CD_PG_WINDOW_SPAN : CD_PG_WINDOW_SPAN_IDS) * CD_SEARCH_RANK_WINDOW * n_pages / (gdouble) matches;
  bound = walk ? 0 : cd_pg_search_bound(span, max_id, keys);

  for (;;) {
    g_autoptr(GString) sql = g_string_new("WITH w AS MATERIALIZED (SELECT p.id, p.document_id");
    g_autoptr(CdPgParams) p = cd_pg_search_params(words);
    /* the walk reads each page's tsvector to match it and keeps it for
     * the rank; the index's matches are ranked from their row once the
     * window is chosen (not every match's tsvector read) */
    const gchar *tsv = walk ? "w.tsv" : "(SELECT r.tsv FROM pages r WHERE r.id = w.id)";

    if (walk)
      g_string_append(sql, ", p.tsv");
    if (self->page_filters)
      g_string_append(sql, ", p.doc_type, p.doc_date");
    cd_pg_search_from_keys(self, sql, p, query, words, types, type_keys, hidden);
    if (bound > 0 && keys) {
      g_autofree gchar *ranges = cd_pg_search_ranges(bound, max_id);
      g_string_append_printf(sql, " AND " CD_PG_PAGE_KEYS " && $%u::text[]", cd_pg_params_add(p, ranges));
    } else if (bound > 0) {
      g_string_append_printf(sql, " AND p.id > $%u::bigint", cd_pg_params_add_int(p, bound));
    }
    /* `p.id + 0` is not the primary key: the planner cannot walk it */
    g_string_append_printf(sql,
                           " ORDER BY %s DESC LIMIT %u) "
                           "SELECT 0, h.id::text, h.rank::text, NULL, NULL FROM (SELECT w.id, "
                           "ts_rank_cd(%s, websearch_to_tsquery('english', $1)) AS rank FROM w "
                           "ORDER BY 2 DESC, 1 LIMIT %u OFFSET %u) h "
                           "UNION ALL SELECT 1, count(*)::text, min(w.id)::text, NULL, NULL FROM w ",
                           walk ? "p.id" : "p.id + 0", CD_SEARCH_RANK_WINDOW, tsv, limit, query->offset);
    if (self->page_filters)
      g_string_append(sql, "UNION ALL SELECT 2, count(*)::text, NULL, w.doc_type, substr(w.doc_date, 1, 4) FROM w "
                           "GROUP BY 4, 5");
    else
      g_string_append(sql, "UNION ALL SELECT 2, count(*)::text, NULL, d.type, substr(d.date, 1, 4) FROM w "
                           "LEFT JOIN LATERAL (SELECT d.type, d.date FROM documents d WHERE d.id = w.document_id "
                           "OFFSET 0) d ON true GROUP BY 4, 5");
    res = cd_pg_search_exec(self, sql->str, p, error);
    if (res == NULL)
      return FALSE;
    type_facets = g_hash_table_new(g_str_hash, g_str_equal);
    year_facets = g_hash_table_new(g_str_hash, g_str_equal);
    g_ptr_array_set_size(result->hits, 0);
    /* the hits in their rank order, as the statement lists them */
    for (gint i = 0; i < PQntuples(res); i++) {
      gint kind = (gint) cd_pg_int(res, i, 0);
      if (kind == 0) {
        CdSearchHit *hit = g_new0(CdSearchHit, 1);
        hit->page_id = cd_pg_int(res, i, 1);
        hit->score = g_ascii_strtod(PQgetvalue(res, i, 2), NULL);
        g_ptr_array_add(result->hits, hit);
      } else if (kind == 1) {
        n = g_ascii_strtoull(PQgetvalue(res, i, 1), NULL, 10);
        g_free(low);
        low = g_strdup(cd_pg_value(res, i, 2));
      } else {
        cd_pg_search_facets_add(type_facets, year_facets, res, i, 3, g_ascii_strtoull(PQgetvalue(res, i, 1), NULL, 10));
      }
    }
    if (bound == 0 || n >= CD_SEARCH_RANK_WINDOW)
      break;
    /* the newest pages held fewer matches than the estimate said:
     * more ranges, or (by page id) no bound */
    span *= CD_PG_SPAN_GROWTH;
    bound = keys ? cd_pg_search_bound(span, max_id, keys) : 0;
    g_clear_pointer(&res, PQclear);
    g_clear_pointer(&type_facets, g_hash_table_unref);
    g_clear_pointer(&year_facets, g_hash_table_unref);
  }
  result->type_facets = cd_search_facets_by_count(type_facets);
  result->year_facets = cd_search_facets_by_year(year_facets);
  result->total = n;
  complete = n < CD_SEARCH_RANK_WINDOW;
  if (complete) {
    result->plan = "text-first";
    result->order = CD_SEARCH_ORDER_RANK;
    return TRUE;
  }
  result->plan = "recent-window";
  result->order = CD_SEARCH_ORDER_RECENT_RANK;
  result->window = CD_SEARCH_RANK_WINDOW;
  result->total_is_estimate = TRUE;
  result->facets_partial = TRUE;
  if (result->hits->len < limit) {
    g_autoptr(GString) older = g_string_new("SELECT p.id, 0");
    g_autoptr(CdPgParams) op = cd_pg_search_params(words);
    guint skip = query->offset > CD_SEARCH_RANK_WINDOW ? query->offset - CD_SEARCH_RANK_WINDOW : 0;
    cd_pg_search_from(self, older, op, query, words, types, hidden);
    g_string_append_printf(older, " AND p.id < $%u::bigint ORDER BY p.id DESC LIMIT %u OFFSET %u",
                           cd_pg_params_add(op, low), limit - result->hits->len, skip);
    if (!cd_pg_search_collect(self, older->str, op, result->hits, error))
      return FALSE;
  }
  return TRUE;
}

/* Ranking every match in the RUM index (`rum-rank`): the index orders the
 * matches by its relevance (`tsv <=> query`, from the positions it keeps)
 * and the table is read for the returned page of hits only. The order is
 * over every match, not a recent window, and the hits of any page of the
 * answer come from the same order.
 *
 * The total and the facets are those of up to CD_PG_RUM_SAMPLE + 1
 * matches taken from the GIN bitmap in the table's order (each page's
 * type and date are its own copies, cd_pg_search_prepare(): no document
 * read). Up to CD_PG_RUM_SAMPLE matches they are exact; past that, the
 * total is CD_PG_RUM_SAMPLE, a lower bound (flagged), and the facets are
 * those of the sample (`facets_partial`). They used to be the
 * best-ranked CD_PG_RUM_SAMPLE rows of the index's order, but each row
 * read in that order costs the index scan's recheck on the page's
 * tsvector (from TOAST: about 30 µs, 645 TOAST blocks for 1,001 rows),
 * which was half of a two-word search's 70 ms; a bitmap's rows need no
 * recheck.
 *
 * The index's work grows with the postings of the query's words (it
 * ranks every match before returning the first), about 0.5–1 µs each on
 * the 2-core machine under load, measured at 100,000 pages; so past
 * CD_PG_RUM_POSTINGS the recent window answers instead. */
#define CD_PG_RUM_POSTINGS 200000
/* The matches the total and facets are taken from: as many as the SQLite
 * search reads one by one (CD_SEARCH_COUNT_LIMIT). */
#define CD_PG_RUM_SAMPLE CD_SEARCH_COUNT_LIMIT

static gboolean
cd_pg_search_rum(CdPgArchive *self, const CdSearchQuery *query, const gchar *words, const gchar *types,
                 const gchar *hidden, guint limit, CdSearchResult *result, GError **error)
{
  g_autoptr(GString) sql = g_string_new("SELECT p.id, coalesce(1 / nullif(p.tsv <=> q.q, 'Infinity'), 0)");
  g_autoptr(GString) sample = g_string_new(NULL);
  g_autoptr(CdPgParams) p = cd_pg_search_params(words);
  g_autoptr(CdPgParams) sp = cd_pg_search_params(words);
  g_autoptr(PGresult) res = NULL;
  g_autoptr(GHashTable) type_facets = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GHashTable) year_facets = g_hash_table_new(g_str_hash, g_str_equal);
  guint64 n = 0;

  /* the hits, in the index's order (the score: 1 / distance) */
  cd_pg_search_from(self, sql, p, query, words, types, hidden);
  g_string_append_printf(sql, " ORDER BY p.tsv <=> q.q LIMIT %u OFFSET %u", limit, query->offset);
  if (!cd_pg_search_collect(self, sql->str, p, result->hits, error))
    return FALSE;

  /* the total and facets of the sample */
  if (self->page_filters) {
    g_string_append(sample, "SELECT s.t, s.y, count(*) FROM (SELECT p.doc_type AS t, substr(p.doc_date, 1, 4) AS y");
    cd_pg_search_from(self, sample, sp, query, words, types, hidden);
  } else {
    g_string_append(sample, "SELECT s.t, s.y, count(*) FROM (SELECT d.type AS t, substr(d.date, 1, 4) AS y");
    cd_pg_search_from_documents(self, sample, sp, query, words, types, hidden);
  }
  g_string_append_printf(sample, " LIMIT %u) s GROUP BY 1, 2", CD_PG_RUM_SAMPLE + 1);
  res = cd_pg_search_exec(self, sample->str, sp, error);
  if (res == NULL)
    return FALSE;
  for (gint i = 0; i < PQntuples(res); i++) {
    guint64 c = g_ascii_strtoull(PQgetvalue(res, i, 2), NULL, 10);
    cd_pg_search_facets_add(type_facets, year_facets, res, i, 0, c);
    n += c;
  }
  result->type_facets = cd_search_facets_by_count(type_facets);
  result->year_facets = cd_search_facets_by_year(year_facets);
  result->total = MIN(n, CD_PG_RUM_SAMPLE);
  result->total_is_estimate = n > CD_PG_RUM_SAMPLE;
  result->facets_partial = n > CD_PG_RUM_SAMPLE;
  result->plan = "rum-rank";
  result->order = CD_SEARCH_ORDER_RANK;
  return TRUE;
}

/* The postings the RUM index reads for @words: the sum of each word's
 * pages (the planner's estimates). */
static gint64
cd_pg_search_postings(CdPgArchive *self, GPtrArray *terms)
{
  gint64 sum = 0;

  for (guint i = 0; i < terms->len; i++) {
    g_autofree gchar *one = g_strdup_printf("\"%s\"", (const gchar *) g_ptr_array_index(terms, i));
    gboolean ignored = FALSE;
    sum += cd_pg_search_estimate(self, one, &ignored);
  }
  return sum;
}

/* Searches as cd_archive_search_ex() does on SQLite, with exact totals and
 * facets (counted in the server, over every match), best matches first by
 * ts_rank_cd() (ties by page), or without words newest documents first. */
CdSearchResult *
cd_pg_archive_search(CdPgArchive *self, const CdSearchQuery *query, GError **error)
{
  g_autoptr(CdSearchResult) result = g_new0(CdSearchResult, 1);
  g_autoptr(GPtrArray) terms = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GString) sql = g_string_new(NULL);
  g_autoptr(GString) count_sql = g_string_new(NULL);
  g_autoptr(CdPgParams) p = NULL;
  g_autoptr(CdPgParams) cp = NULL;
  g_autofree gchar *words = NULL;
  g_autofree gchar *types = NULL;
  g_autofree gchar *hidden = NULL;
  gboolean windowed = FALSE;
  gboolean unfiltered;
  gboolean page_filtered;
  guint limit;

  g_return_val_if_fail(self != NULL, NULL);
  g_return_val_if_fail(query != NULL, NULL);
  g_autoptr(GRecMutexLocker) held = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_pg_valid_date(query->date_from) || !cd_pg_valid_date(query->date_to)) {
    g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "dates must be given as YYYY-MM-DD (got '%s')",
                !cd_pg_valid_date(query->date_from) ? query->date_from : query->date_to);
    return NULL;
  }
  if (query->status != NULL && g_strcmp0(query->status, "filed") != 0 && g_strcmp0(query->status, "review") != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "a document's status is 'filed' or 'review' (got '%s')",
                query->status);
    return NULL;
  }
  if ((query->text != NULL && !g_utf8_validate(query->text, -1, NULL)) ||
      (query->mrn != NULL && !g_utf8_validate(query->mrn, -1, NULL))) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_QUERY, "malformed query: it is not valid UTF-8 text");
    return NULL;
  }
  if (!cd_pg_query_text(query, &words, terms, error))
    return NULL;
  if (query->doc_types != NULL)
    types = cd_pg_array_literal(query->doc_types);
  else if (query->doc_type != NULL)
    types = cd_pg_array_literal((const gchar *const[]){ query->doc_type, NULL });
  if (words == NULL && query->mrn == NULL && types == NULL && query->date_from == NULL && query->date_to == NULL &&
      query->status == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_QUERY, "nothing to search for: give words or a filter");
    return NULL;
  }
  if (!cd_pg_require(self, CD_PERMISSION_READ_CHARTS, "search the archive", "archive", error))
    return NULL;
  hidden = cd_pg_hidden_types(self);
  limit = query->limit > 0 ? query->limit : 20;

  result->hits = g_ptr_array_new_with_free_func((GDestroyNotify) cd_search_hit_free);
  unfiltered = types == NULL && query->mrn == NULL && query->date_from == NULL && query->date_to == NULL &&
               query->status == NULL;
  /* a type or dates the pages hold (cd_pg_search_prepare()) and still
   * many matches: the same window, of the filtered matches, as SQLite's
   * `recent-window` with a broad filter */
  page_filtered = !unfiltered && self->page_filters && query->mrn == NULL && query->status == NULL;
  if (words != NULL && (unfiltered || page_filtered)) {
    gboolean phrase = FALSE;
    gint64 estimate;
    if (page_filtered) {
      estimate = cd_pg_search_estimate_filtered(self, query, words, types, hidden, &phrase);
    } else {
      estimate = cd_pg_search_estimate(self, words, &phrase);
      /* the planner takes words to be independent, and so guesses far too
       * few pages for two common words together; the rarest word's pages
       * bound what all of them match (without OR or NOT) */
      if (estimate > CD_PG_SEARCH_BROAD && strstr(words, " or ") == NULL && strstr(words, "-\"") == NULL &&
          terms->len > 1) {
        gint64 bound = estimate;
        for (guint i = 0; i < terms->len; i++) {
          g_autofree gchar *one = g_strdup_printf("\"%s\"", (const gchar *) g_ptr_array_index(terms, i));
          gboolean ignored = FALSE;
          gint64 n = cd_pg_search_estimate(self, one, &ignored);
          if (i == 0 || n < bound)
            bound = n;
        }
        estimate = MAX(bound, estimate);
      }
    }
    /* RUM ranks every match when the index's work stays small: any word
     * search without filters, and a type or dates that leave many matches
     * (a narrow filter is answered faster from its own index, below) */
    if (self->rum && (unfiltered || estimate > CD_PG_SEARCH_BROAD) &&
        cd_pg_search_postings(self, terms) <= CD_PG_RUM_POSTINGS) {
      if (!cd_pg_search_rum(self, query, words, types, hidden, limit, result, error))
        return NULL;
      windowed = TRUE;
    } else if (estimate > CD_PG_SEARCH_BROAD) {
      if (!cd_pg_search_window(self, query, words, types, hidden, limit, estimate, phrase, result, error))
        return NULL;
      windowed = TRUE;
    }
  }
  if (!windowed) {
    p = cd_pg_search_params(words);
    if (words != NULL) {
      g_string_append(sql, "SELECT p.id, ts_rank_cd(p.tsv, q.q)");
      cd_pg_search_from(self, sql, p, query, words, types, hidden);
      g_string_append_printf(sql, " ORDER BY 2 DESC, p.id LIMIT %u OFFSET %u", limit, query->offset);
      result->plan = "text-first";
      result->order = CD_SEARCH_ORDER_RANK;
    } else {
      g_string_append(sql, "SELECT p.id, 0");
      cd_pg_search_from(self, sql, p, query, words, types, hidden);
      g_string_append_printf(sql, " ORDER BY d.date DESC NULLS LAST, d.id DESC LIMIT %u OFFSET %u", limit,
                             query->offset);
      result->plan = "filters";
      result->order = CD_SEARCH_ORDER_DATE;
    }
    if (!cd_pg_search_collect(self, sql->str, p, result->hits, error))
      return NULL;
    /* the exact total and facets, in one pass in the server */
    cp = cd_pg_search_params(words);
    g_string_append(count_sql, "SELECT d.type, substr(d.date, 1, 4), count(*)");
    cd_pg_search_from_documents(self, count_sql, cp, query, words, types, hidden);
    g_string_append(count_sql, " GROUP BY 1, 2");
    if (!cd_pg_search_facets(self, count_sql->str, cp, result, error))
      return NULL;
  }
  g_ptr_array_add(terms, NULL);
  result->terms = (gchar **) g_ptr_array_steal(terms, NULL);

  if (!cd_pg_search_describe(self, words, result->hits, error))
    return NULL;
  if (!cd_pg_search_audit(self, query, result, error))
    return NULL;
  return g_steal_pointer(&result);
}

/* Runs the search as cd_pg_archive_search() does (checked and audited
 * the same) and returns the plans of its statements, each EXPLAINed with
 * its parameters and ended by a `--` line; *@plan: the search's plan name. */
gchar *
cd_pg_archive_explain_search(CdPgArchive *self, const CdSearchQuery *query, gchar **plan, GError **error)
{
  g_autoptr(CdSearchResult) result = NULL;
  g_autoptr(GString) plans = NULL;

  g_return_val_if_fail(self != NULL, NULL);
  g_autoptr(GRecMutexLocker) held = g_rec_mutex_locker_new(&self->mutex);
  self->search_plans = g_string_new(NULL);
  result = cd_pg_archive_search(self, query, error);
  plans = g_steal_pointer(&self->search_plans);
  if (result == NULL)
    return NULL;
  if (plan != NULL)
    *plan = g_strdup(result->plan);
  return g_string_free(g_steal_pointer(&plans), FALSE);
}

/* Reading a document needs read-charts, or review while it waits in the
 * review queue; a type hidden from the principal does not exist for it
 * (as cd_archive_require_document()). */
gboolean
cd_pg_require_document(CdPgArchive *self, gint64 id, const gchar *what, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autofree gchar *hidden = cd_pg_hidden_types(self);
  g_autofree gchar *object = g_strdup_printf("document:%" G_GINT64_FORMAT, id);
  gboolean in_review;

  cd_pg_params_add_int(p, id);
  cd_pg_params_add(p, hidden);
  res = cd_pg_exec(self,
                   "SELECT coalesce($2::text[] IS NOT NULL AND type IS NOT NULL AND type = ANY ($2::text[]), false), "
                   "EXISTS (SELECT 1 FROM review r WHERE r.document_id = d.id AND r.resolved IS NULL) "
                   "FROM documents d WHERE id = $1",
                   p, "cannot read a document", error);
  if (res == NULL)
    return FALSE;
  if (PQntuples(res) == 0) {
    if (cd_principal_has(self->principal, CD_PERMISSION_REVIEW))
      return TRUE;
    return cd_pg_require(self, CD_PERMISSION_READ_CHARTS, what, object, error);
  }
  in_review = g_strcmp0(PQgetvalue(res, 0, 1), "t") == 0;
  if (!cd_principal_has(self->principal, CD_PERMISSION_READ_CHARTS) &&
      !(in_review && cd_principal_has(self->principal, CD_PERMISSION_REVIEW)))
    return cd_pg_require(self, CD_PERMISSION_READ_CHARTS, what, object, error);
  if (g_strcmp0(PQgetvalue(res, 0, 0), "t") == 0) {
    g_autoptr(JsonObject) obj = json_object_new();
    g_autoptr(JsonNode) detail = NULL;
    json_object_set_string_member(obj, "permission", cd_permission_to_string(CD_PERMISSION_RESTRICTED));
    json_object_set_string_member(obj, "operation", what);
    detail = json_node_init_object(json_node_alloc(), obj);
    if (!cd_pg_audit(self, "denied", object, detail, error))
      return FALSE;
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, self->where, id);
    return FALSE;
  }
  return TRUE;
}

static void
cd_pg_add_parsed(JsonBuilder *b, const gchar *member, const gchar *json, gboolean array)
{
  g_autoptr(JsonParser) parser = json_parser_new();

  json_builder_set_member_name(b, member);
  if (json != NULL && json_parser_load_from_data(parser, json, -1, NULL) && json_parser_get_root(parser) != NULL) {
    json_builder_add_value(b, json_node_copy(json_parser_get_root(parser)));
  } else if (array) {
    json_builder_begin_array(b);
    json_builder_end_array(b);
  } else {
    json_builder_begin_object(b);
    json_builder_end_object(b);
  }
}

/* The document as cd_archive_get_document() gives it (the server's legal
 * holds covering it and its tombstone, cd-pg-retention.c), plus the
 * station that delivered it. */
static JsonNode *
cd_pg_document_json(CdPgArchive *self, gint64 id, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) doc = NULL;
  g_autoptr(PGresult) review = NULL;
  g_autoptr(PGresult) pages = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();

  cd_pg_params_add_int(p, id);
  doc = cd_pg_exec(self,
                   "SELECT d.id, d.batch_id, d.patient_mrn, d.status, d.type, d.type_confidence, d.date, d.title, "
                   "d.created, pt.family, pt.given, pt.middle, pt.dob, pt.sex, b.station FROM documents d "
                   "JOIN batches b ON b.id = d.batch_id LEFT JOIN patients pt ON pt.mrn = d.patient_mrn "
                   "WHERE d.id = $1",
                   p, "cannot read a document", error);
  if (doc == NULL)
    return NULL;
  if (PQntuples(doc) == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no document %" G_GINT64_FORMAT, self->where, id);
    return NULL;
  }
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, id);
  json_builder_set_member_name(b, "batch");
  json_builder_add_int_value(b, cd_pg_int(doc, 0, 1));
  json_builder_set_member_name(b, "patient");
  if (cd_pg_value(doc, 0, 2) == NULL) {
    json_builder_add_null_value(b);
  } else {
    const gchar *keys[] = { "family", "given", "middle", "dob", "sex" };
    json_builder_begin_object(b);
    cd_json_add_string_or_null(b, "mrn", cd_pg_value(doc, 0, 2));
    if (cd_pg_value(doc, 0, 9) != NULL || cd_pg_value(doc, 0, 10) != NULL) {
      for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
        cd_json_add_string_or_null(b, keys[i], cd_pg_value(doc, 0, 9 + i));
    }
    json_builder_end_object(b);
  }
  cd_json_add_string_or_null(b, "status", cd_pg_value(doc, 0, 3));
  cd_json_add_string_or_null(b, "type", cd_pg_value(doc, 0, 4));
  cd_pg_add_double_or_null(b, "type_confidence", cd_pg_value(doc, 0, 5));
  cd_json_add_string_or_null(b, "date", cd_pg_value(doc, 0, 6));
  cd_json_add_string_or_null(b, "title", cd_pg_value(doc, 0, 7));
  cd_json_add_string_or_null(b, "created", cd_pg_value(doc, 0, 8));
  cd_json_add_string_or_null(b, "station", cd_pg_value(doc, 0, 14));

  review = cd_pg_exec(self, "SELECT reason FROM review WHERE document_id = $1 AND resolved IS NULL ORDER BY id", p,
                      "cannot read a document", error);
  if (review == NULL)
    return NULL;
  json_builder_set_member_name(b, "review");
  json_builder_begin_array(b);
  for (gint i = 0; i < PQntuples(review); i++)
    json_builder_add_string_value(b, PQgetvalue(review, i, 0));
  json_builder_end_array(b);

  pages = cd_pg_exec(self,
                     "SELECT p.id, p.source_path, p.source_page, p.source_sha256, p.xres, p.yres, p.image_sha256, "
                     "i.format, i.width, i.height, p.rotation, p.skew, p.text, p.confidence, p.words, p.problems, "
                     "p.facts FROM pages p LEFT JOIN images i ON i.sha256 = p.image_sha256 "
                     "WHERE p.document_id = $1 ORDER BY p.seq",
                     p, "cannot read pages", error);
  if (pages == NULL)
    return NULL;
  json_builder_set_member_name(b, "pages");
  json_builder_begin_array(b);
  for (gint i = 0; i < PQntuples(pages); i++) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, cd_pg_int(pages, i, 0));
    json_builder_set_member_name(b, "source");
    json_builder_begin_object(b);
    cd_json_add_string_or_null(b, "path", cd_pg_value(pages, i, 1));
    json_builder_set_member_name(b, "page");
    if (cd_pg_int(pages, i, 2) >= 0)
      json_builder_add_int_value(b, cd_pg_int(pages, i, 2));
    else
      json_builder_add_null_value(b);
    cd_json_add_string_or_null(b, "sha256", cd_pg_value(pages, i, 3));
    json_builder_end_object(b);
    json_builder_set_member_name(b, "resolution");
    if (cd_pg_value(pages, i, 4) != NULL) {
      json_builder_begin_array(b);
      json_builder_add_int_value(b, cd_pg_int(pages, i, 4));
      json_builder_add_int_value(b, cd_pg_int(pages, i, 5));
      json_builder_end_array(b);
    } else {
      json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "image");
    if (cd_pg_value(pages, i, 6) != NULL) {
      json_builder_begin_object(b);
      cd_json_add_string_or_null(b, "sha256", cd_pg_value(pages, i, 6));
      cd_json_add_string_or_null(b, "format", cd_pg_value(pages, i, 7));
      cd_pg_add_int_or_null(b, "width", cd_pg_value(pages, i, 8));
      cd_pg_add_int_or_null(b, "height", cd_pg_value(pages, i, 9));
      json_builder_end_object(b);
    } else {
      json_builder_add_null_value(b);
    }
    cd_pg_add_int_or_null(b, "rotation", cd_pg_value(pages, i, 10));
    cd_pg_add_double_or_null(b, "skew", cd_pg_value(pages, i, 11));
    cd_json_add_string_or_null(b, "text", cd_pg_value(pages, i, 12));
    cd_pg_add_double_or_null(b, "confidence", cd_pg_value(pages, i, 13));
    cd_pg_add_parsed(b, "words", cd_pg_value(pages, i, 14), TRUE);
    cd_pg_add_parsed(b, "problems", cd_pg_value(pages, i, 15), TRUE);
    cd_pg_add_parsed(b, "facts", cd_pg_value(pages, i, 16), FALSE);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  /* the legal holds covering it, and its tombstone */
  if (!cd_pg_retention_document_json(self, b, id, cd_pg_value(doc, 0, 2), error))
    return NULL;
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

JsonNode *
cd_pg_archive_get_document(CdPgArchive *self, gint64 id, GError **error)
{
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *object = g_strdup_printf("document:%" G_GINT64_FORMAT, id);

  g_return_val_if_fail(self != NULL, NULL);
  g_autoptr(GRecMutexLocker) held = g_rec_mutex_locker_new(&self->mutex);
  if (!cd_pg_require_document(self, id, "read documents", error))
    return NULL;
  node = cd_pg_document_json(self, id, error);
  if (node == NULL)
    return NULL;
  if (!cd_pg_audit(self, "view", object, NULL, error))
    return NULL;
  return g_steal_pointer(&node);
}

GBytes *
cd_pg_archive_get_page_image(CdPgArchive *self, gint64 page_id, gchar **format, GError **error)
{
  g_autoptr(CdPgParams) p = cd_pg_params_new();
  g_autoptr(PGresult) res = NULL;
  g_autofree gchar *object = g_strdup_printf("page:%" G_GINT64_FORMAT, page_id);
  g_autoptr(GBytes) bytes = NULL;
  gint64 document_id;
  gboolean in_review;

  g_return_val_if_fail(self != NULL, NULL);
  g_autoptr(GRecMutexLocker) held = g_rec_mutex_locker_new(&self->mutex);
  cd_pg_params_add_int(p, page_id);
  res = cd_pg_exec(self,
                   "SELECT coalesce(p.document_id, 0), EXISTS (SELECT 1 FROM review r WHERE r.page_id = p.id AND "
                   "r.resolved IS NULL), i.format, i.data FROM pages p LEFT JOIN images i ON i.sha256 = p.image_sha256 "
                   "WHERE p.id = $1",
                   p, "cannot read a page image", error);
  if (res == NULL)
    return NULL;
  if (PQntuples(res) == 0) {
    if (!cd_pg_require(self, CD_PERMISSION_READ_CHARTS, "read page images", object, error))
      return NULL;
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: page %" G_GINT64_FORMAT " has no stored image", self->where,
                page_id);
    return NULL;
  }
  document_id = cd_pg_int(res, 0, 0);
  in_review = g_strcmp0(PQgetvalue(res, 0, 1), "t") == 0;
  if (document_id > 0) {
    if (!cd_pg_require_document(self, document_id, "read page images", error))
      return NULL;
  } else if (!(in_review && cd_principal_has(self->principal, CD_PERMISSION_REVIEW)) &&
             !cd_pg_require(self, CD_PERMISSION_READ_CHARTS, "read page images", object, error)) {
    return NULL;
  }
  if (cd_pg_value(res, 0, 3) == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: page %" G_GINT64_FORMAT " has no stored image", self->where,
                page_id);
    return NULL;
  }
  {
    size_t len = 0;
    guchar *data = PQunescapeBytea((const guchar *) PQgetvalue(res, 0, 3), &len);
    if (data == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_ARCHIVE, "%s: cannot read the image of page %" G_GINT64_FORMAT, self->where,
                  page_id);
      return NULL;
    }
    bytes = g_bytes_new(data, len);
    PQfreemem(data);
  }
  if (format != NULL)
    *format = g_strdup(PQgetvalue(res, 0, 2));
  if (!cd_pg_audit(self, "view-image", object, NULL, error))
    return NULL;
  return g_steal_pointer(&bytes);
}

gboolean
cd_pg_archive_has_rum(CdPgArchive *self)
{
  g_return_val_if_fail(self != NULL, FALSE);
  return self->rum;
}
