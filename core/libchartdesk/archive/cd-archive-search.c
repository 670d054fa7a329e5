/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SQLite archive, search: the query checked and turned into an FTS5
 * MATCH, filters by patient, type and date, ranked hits with snippets.
 */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "cd-archive-private.h"
#include "cd-util-private.h"

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

typedef enum {
  CD_FTS_START,
  CD_FTS_WORD, /* a bareword or a quoted string, maybe with a prefix star */
  CD_FTS_OPERATOR,
  CD_FTS_OPEN,
  CD_FTS_CLOSE,
  CD_FTS_OTHER, /* column filters, NEAR's comma and the like: FTS5 judges */
} CdFtsToken;

static gboolean
cd_fts_bareword_char(gchar c)
{
  return g_ascii_isalnum(c) || c == '_' || (guchar) c >= 0x80 || c == 0x1a;
}

/* Checks an FTS5 query for the mistakes people make, so they get a reason
 * rather than SQLite's "syntax error near": a star that follows no word (a
 * leading one would even be taken as one of FTS5's special queries), an
 * unclosed quote or parenthesis, an operator without a word on each side, a
 * caret before nothing. What passes is still parsed by FTS5, whose errors
 * are query errors too (see cd_archive_search()). */
static gboolean
cd_query_check_fts(const gchar *text, GError **error)
{
  CdFtsToken prev = CD_FTS_START;
  const gchar *prev_op = NULL;
  guint depth = 0;
  const gchar *p = text;

  while (*p != '\0') {
    if (g_ascii_isspace(*p)) {
      p++;
    } else if (*p == '"') {
      for (p++;; p++) {
        if (*p == '\0') {
          g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "malformed query '%s': a double quote is not closed", text);
          return FALSE;
        }
        if (*p == '"' && p[1] == '"')
          p++;
        else if (*p == '"')
          break;
      }
      p++;
      if (*p == '*')
        p++;
      prev = CD_FTS_WORD;
    } else if (*p == '*') {
      g_set_error(error, CD_ERROR, CD_ERROR_QUERY,
                  "malformed query '%s': '*' marks a prefix and must follow a word, as in 'cardio*'", text);
      return FALSE;
    } else if (*p == '^') {
      if (!cd_fts_bareword_char(p[1]) && p[1] != '"') {
        g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "malformed query '%s': '^' must come right before a word", text);
        return FALSE;
      }
      p++;
    } else if (*p == '(') {
      depth++;
      prev = CD_FTS_OPEN;
      p++;
    } else if (*p == ')') {
      if (depth == 0) {
        g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "malformed query '%s': a ')' has no '(' before it", text);
        return FALSE;
      }
      if (prev == CD_FTS_OPEN) {
        g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "malformed query '%s': '()' holds nothing", text);
        return FALSE;
      }
      if (prev == CD_FTS_OPERATOR)
        break;
      depth--;
      prev = CD_FTS_CLOSE;
      p++;
    } else if (cd_fts_bareword_char(*p)) {
      const gchar *start = p;
      g_autofree gchar *word = NULL;
      while (cd_fts_bareword_char(*p))
        p++;
      word = g_strndup(start, p - start);
      if (g_strv_contains((const gchar *const[]){ "AND", "OR", "NOT", NULL }, word)) {
        if (prev == CD_FTS_START || prev == CD_FTS_OPERATOR || prev == CD_FTS_OPEN) {
          g_set_error(error, CD_ERROR, CD_ERROR_QUERY,
                      "malformed query '%s': %s needs a word or phrase on each side, as in 'a %s b'", text,
                      prev == CD_FTS_OPERATOR ? prev_op : word, prev == CD_FTS_OPERATOR ? prev_op : word);
          return FALSE;
        }
        prev = CD_FTS_OPERATOR;
        prev_op = g_intern_string(word);
        continue;
      }
      if (*p == '*')
        p++;
      prev = CD_FTS_WORD;
    } else {
      prev = CD_FTS_OTHER;
      p++;
    }
  }
  if (prev == CD_FTS_OPERATOR) {
    g_set_error(error, CD_ERROR, CD_ERROR_QUERY,
                "malformed query '%s': %s needs a word or phrase on each side, as in 'a %s b'", text, prev_op, prev_op);
    return FALSE;
  }
  if (depth > 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "malformed query '%s': a '(' is not closed", text);
    return FALSE;
  }
  return TRUE;
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

/* A query's words as the FTS5 MATCH the search runs: plain words quoted,
 * FTS5 syntax checked; *@match is %NULL for no text (a filter-only search).
 * Shared with saved-search legal holds (cd-archive-retention.c), which
 * match documents exactly as a search does. */
gboolean
cd_query_text_to_match(const gchar *text, gboolean plain, gchar **match, GError **error)
{
  g_autofree gchar *stripped = NULL;
  g_autofree gchar *out = NULL;

  *match = NULL;
  if (text == NULL)
    return TRUE;
  stripped = g_strstrip(g_strdup(text));
  /* an empty text is a filter-only search */
  if (stripped[0] == '\0')
    return TRUE;
  if (plain || !cd_query_looks_like_fts(stripped))
    out = cd_query_plain_to_fts(stripped);
  else if (!cd_query_check_fts(stripped, error))
    return FALSE;
  else
    out = g_strdup(stripped);
  if (out[0] == '\0') {
    g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "malformed query '%s': it has no words to search for", text);
    return FALSE;
  }
  *match = g_steal_pointer(&out);
  return TRUE;
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
  const gchar *hidden; /* restricted types the principal may not see */
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
  if (!cd_query_text_to_match(query->text, query->plain, &match, error))
    return NULL;
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

  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_CHARTS, "search the archive", "archive", error))
    return NULL;
  hidden = cd_archive_hidden_types(self);
  filtered = types_json != NULL || query->date_from != NULL || query->date_to != NULL || hidden != NULL;
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
                  "AND (?5 IS NULL OR d.date <= ?5) "
                  "AND (?8 IS NULL OR d.type IS NULL OR d.type NOT IN (SELECT value FROM json_each(?8))) "
                  /* a destroyed document's emptied rows are never a hit */
                  "AND (d.id IS NULL OR d.id NOT IN (SELECT document_id FROM tombstones)) ");
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
  cd_bind_text(stmt, 8, hidden);
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
    const gchar *msg = sqlite3_errmsg(cd_archive_get_db(self));
    /* the SQL is fixed and prepared, so a plain SQLITE_ERROR while stepping
     * comes from FTS5 parsing the MATCH text: the query's fault, whatever
     * the wording; busy, I/O and corruption keep their own codes */
    if (match != NULL && sqlite3_errcode(cd_archive_get_db(self)) == SQLITE_ERROR) {
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
