/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SQLite archive, search: the query checked and turned into an FTS5
 * MATCH, filters by patient, type and date, ranked hits with snippets.
 */
#include "config.h"

#include <math.h>
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

/* Snippet markers: control characters OCR text does not hold (they are
 * dropped from the text around them), so a snippet splits into plain text
 * and the spans of the matched words. */
#define CD_MARK_OPEN "\x02"
#define CD_MARK_CLOSE "\x03"

/* What a checked query becomes: the MATCH text, the types as a JSON array,
 * and whether any filter narrows the documents. */
typedef struct {
  gchar *match;
  gchar *types_json;
  const gchar *hidden;
  gboolean doc_filter;
  GPtrArray *log; /* (nullable): the statements run, for cd_archive_search_statements() */
  GBytes *idf;    /* (nullable): a double per phrase, for cd_rank() */
  gboolean filter_set; /* filter-first as one index scan against the filters' page set */
  CdPageSet *page_set; /* (nullable): text-first, the filters' pages in memory (text-set) */
} CdSearchPlan;

static sqlite3_stmt *
cd_search_prepare(CdArchive *self, const CdSearchPlan *plan, const gchar *sql, GError **error)
{
  if (plan->log != NULL)
    g_ptr_array_add(plan->log, g_strdup(sql));
  return cd_archive_prepare(self, sql, error);
}

static void
cd_search_plan_clear(CdSearchPlan *plan)
{
  g_clear_pointer(&plan->match, g_free);
  g_clear_pointer(&plan->types_json, g_free);
  g_clear_pointer(&plan->idf, g_bytes_unref);
  g_clear_pointer(&plan->page_set, cd_page_set_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CdSearchPlan, cd_search_plan_clear)

static gboolean
cd_search_check(const CdSearchQuery *query, CdSearchPlan *plan, GError **error)
{
  if (!cd_valid_date(query->date_from) || !cd_valid_date(query->date_to)) {
    g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "dates must be given as YYYY-MM-DD (got '%s')",
                !cd_valid_date(query->date_from) ? query->date_from : query->date_to);
    return FALSE;
  }
  if (query->status != NULL && g_strcmp0(query->status, "filed") != 0 && g_strcmp0(query->status, "review") != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "a document's status is 'filed' or 'review' (got '%s')",
                query->status);
    return FALSE;
  }
  /* words from a command line need not be UTF-8; the query is read by
   * character and goes into the audit log's JSON (found by fuzzing) */
  if ((query->text != NULL && !g_utf8_validate(query->text, -1, NULL)) ||
      (query->mrn != NULL && !g_utf8_validate(query->mrn, -1, NULL))) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_QUERY, "malformed query: it is not valid UTF-8 text");
    return FALSE;
  }
  if (!cd_query_text_to_match(query->text, query->plain, &plan->match, error))
    return FALSE;
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
    plan->types_json = cd_json_to_string(tn);
  }
  plan->doc_filter = query->mrn != NULL || plan->types_json != NULL || query->date_from != NULL ||
                     query->date_to != NULL || query->status != NULL;
  if (plan->match == NULL && !plan->doc_filter) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_QUERY, "nothing to search for: give words or a filter");
    return FALSE;
  }
  return TRUE;
}

/* A word as the index holds it (unicode61, remove_diacritics 2): lower
 * case, accents dropped. */
static gchar *
cd_search_fold(const gchar *word)
{
  g_autofree gchar *lower = g_utf8_strdown(word, -1);
  g_autofree gchar *nfd = g_utf8_normalize(lower, -1, G_NORMALIZE_NFD);
  GString *out = g_string_new(NULL);

  for (const gchar *p = nfd; *p != '\0'; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    if (!g_unichar_ismark(c))
      g_string_append_unichar(out, c);
  }
  return g_string_free(out, FALSE);
}

/* One phrase of an FTS5 query as FTS5 numbers them (in the order they are
 * written): its words as the index holds them, whether it is a prefix, and
 * about how many pages it is on (cd_search_estimate_match()). */
typedef struct {
  gchar **tokens;
  gboolean prefix;
  gint64 pages;
} CdPhrase;

static void
cd_phrase_free(CdPhrase *phrase)
{
  g_strfreev(phrase->tokens);
  g_free(phrase);
}

/* The words of @text (runs of letters and digits), folded. */
static gchar **
cd_search_words(const gchar *text, gssize len)
{
  g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);
  const gchar *end = text + (len < 0 ? (gssize) strlen(text) : len);
  const gchar *p = text;

  while (p < end) {
    const gchar *start = p;
    while (p < end && g_unichar_isalnum(g_utf8_get_char(p)))
      p = g_utf8_next_char(p);
    if (p > start) {
      g_autofree gchar *word = g_strndup(start, p - start);
      g_ptr_array_add(words, cd_search_fold(word));
    } else {
      p = g_utf8_next_char(p);
    }
  }
  g_ptr_array_add(words, NULL);
  return (gchar **) g_ptr_array_free(g_steal_pointer(&words), FALSE);
}

static void
cd_phrases_add(GPtrArray *phrases, gchar **tokens, gboolean prefix)
{
  CdPhrase *phrase;

  if (tokens[0] == NULL) {
    g_strfreev(tokens);
    return;
  }
  phrase = g_new0(CdPhrase, 1);
  phrase->tokens = tokens;
  phrase->prefix = prefix;
  g_ptr_array_add(phrases, phrase);
}

/* The phrases of a query: for plain words each whitespace-separated word
 * (cd_query_plain_to_fts() quotes each), for FTS5 syntax each bareword and
 * quoted string, operators, column names and NEAR's distance left out. */
static GPtrArray *
cd_search_phrases(const gchar *text, gboolean fts)
{
  GPtrArray *phrases = g_ptr_array_new_with_free_func((GDestroyNotify) cd_phrase_free);
  const gchar *p = text;
  gboolean after_comma = FALSE;

  if (text == NULL)
    return phrases;
  if (!fts) {
    g_auto(GStrv) tokens = g_strsplit_set(text, " \t\n\r", -1);
    for (guint i = 0; tokens[i] != NULL; i++)
      cd_phrases_add(phrases, cd_search_words(tokens[i], -1), FALSE);
    return phrases;
  }
  while (*p != '\0') {
    if (*p == '"') {
      GString *content = g_string_new(NULL);
      for (p++; *p != '\0'; p++) {
        if (*p == '"' && p[1] == '"')
          p++;
        else if (*p == '"')
          break;
        g_string_append_c(content, *p);
      }
      if (*p == '"')
        p++;
      cd_phrases_add(phrases, cd_search_words(content->str, content->len), *p == '*');
      g_string_free(content, TRUE);
      after_comma = FALSE;
    } else if (cd_fts_bareword_char(*p)) {
      const gchar *start = p;
      g_autofree gchar *word = NULL;
      gboolean number = TRUE;
      while (cd_fts_bareword_char(*p)) {
        number = number && g_ascii_isdigit(*p);
        p++;
      }
      word = g_strndup(start, p - start);
      if (g_strv_contains((const gchar *const[]){ "AND", "OR", "NOT", NULL }, word) ||
          (g_str_equal(word, "NEAR") && *p == '(') || *p == ':' || (after_comma && number)) {
        after_comma = FALSE;
        continue;
      }
      cd_phrases_add(phrases, cd_search_words(word, -1), *p == '*');
      after_comma = FALSE;
    } else {
      if (*p == ',')
        after_comma = TRUE;
      else if (!g_ascii_isspace(*p))
        after_comma = FALSE;
      p++;
    }
  }
  return phrases;
}

/* Every word of the phrases, for highlighting. */
static gchar **
cd_search_terms(GPtrArray *phrases)
{
  g_autoptr(GPtrArray) terms = g_ptr_array_new();

  for (guint i = 0; i < phrases->len; i++) {
    CdPhrase *phrase = g_ptr_array_index(phrases, i);
    for (guint j = 0; phrase->tokens[j] != NULL; j++) {
      if (!g_ptr_array_find_with_equal_func(terms, phrase->tokens[j], g_str_equal, NULL))
        g_ptr_array_add(terms, g_strdup(phrase->tokens[j]));
    }
  }
  g_ptr_array_add(terms, NULL);
  return (gchar **) g_ptr_array_free(g_steal_pointer(&terms), FALSE);
}

/* Okapi BM25 of the current row, as cd_rank(pages_fts, IDF): IDF is a blob
 * of one double per phrase, computed once per search from the index's
 * index (cd_search_estimate_match()). FTS5's own bm25() counts the pages of every phrase by
 * reading its whole doclist, once per query, which is once per page when
 * a filter drives and the text is checked page by page; and its cost grows
 * with the matches. Negative, lower is better, as bm25(). When the phrases
 * FTS5 sees are not the ones counted (syntax read differently), each weighs
 * the same. */
static void
cd_rank_function(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int n_values,
                 sqlite3_value **values)
{
  const gdouble k1 = 1.2, b = 0.75;
  gint n_phrases = api->xPhraseCount(fts);
  const gdouble *idf = NULL;
  sqlite3_int64 rows = 0, total = 0;
  gint length = 0;
  gdouble avg, score = 0;

  if (n_values > 0 && sqlite3_value_bytes(values[0]) == (gint) (n_phrases * sizeof(gdouble)))
    idf = sqlite3_value_blob(values[0]);
  if (api->xRowCount(fts, &rows) != SQLITE_OK || api->xColumnTotalSize(fts, 0, &total) != SQLITE_OK ||
      api->xColumnSize(fts, 0, &length) != SQLITE_OK) {
    sqlite3_result_error(ctx, "cannot rank: the full-text index cannot be read", -1);
    return;
  }
  avg = rows > 0 && total > 0 ? (gdouble) total / rows : 1;
  for (gint i = 0; i < n_phrases; i++) {
    Fts5PhraseIter iter;
    gint column, offset, tf = 0;
    for (api->xPhraseFirst(fts, i, &iter, &column, &offset); column >= 0;
         api->xPhraseNext(fts, &iter, &column, &offset))
      tf++;
    if (tf > 0)
      score += (idf != NULL ? idf[i] : 1.0) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg));
  }
  sqlite3_result_double(ctx, -score);
}

/* cd_rank() on this connection, once. */
static gboolean
cd_search_register_rank(CdArchive *self)
{
  sqlite3 *db = cd_archive_get_db(self);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  fts5_api *api = NULL;

  if (g_object_get_data(G_OBJECT(self), "cd-rank-db") == db)
    return TRUE;
  stmt = cd_archive_prepare(self, "SELECT fts5 (?1)", NULL);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_pointer(stmt, 1, (void *) &api, "fts5_api_ptr", NULL);
  sqlite3_step(stmt);
  if (api == NULL || api->iVersion < 2 || api->xCreateFunction(api, "cd_rank", NULL, cd_rank_function, NULL) != SQLITE_OK)
    return FALSE;
  if (!cd_page_set_register(db))
    return FALSE;
  g_object_set_data(G_OBJECT(self), "cd-rank-db", db);
  return TRUE;
}

/* How many pages an FTS5 expression matches: exactly when fewer than
 * CD_SEARCH_SAMPLE, else extrapolated from how densely the CD_SEARCH_SAMPLE
 * most recent matches lie among the pages (the index walks backwards for
 * free; the work is bounded, where the vocabulary's page count for a word
 * reads its whole list). G_MAXINT64 when FTS5 cannot run it (the search
 * itself then reports why). */
#define CD_SEARCH_SAMPLE 5000

static gint64
cd_search_estimate_match(CdArchive *self, const gchar *match, gint64 max_id)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint rc;

  stmt = cd_archive_prepare(self, "SELECT rowid FROM pages_fts WHERE pages_fts MATCH ?1 ORDER BY rowid DESC "
                                  "LIMIT 1 OFFSET ?2", NULL);
  if (stmt == NULL)
    return G_MAXINT64;
  cd_bind_text(stmt, 1, match);
  sqlite3_bind_int(stmt, 2, CD_SEARCH_SAMPLE - 1);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    gint64 oldest = sqlite3_column_int64(stmt, 0);
    return (gint64) ((gdouble) CD_SEARCH_SAMPLE * max_id / MAX(1, max_id - oldest + 1));
  }
  if (rc != SQLITE_DONE)
    return G_MAXINT64;
  g_clear_pointer(&stmt, sqlite3_finalize);
  stmt = cd_archive_prepare(self, "SELECT count(*) FROM pages_fts WHERE pages_fts MATCH ?1", NULL);
  if (stmt == NULL)
    return G_MAXINT64;
  cd_bind_text(stmt, 1, match);
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return G_MAXINT64;
  return sqlite3_column_int64(stmt, 0);
}

/* Binds @value to the named parameter if the statement has it. */
static void
cd_search_bind(sqlite3_stmt *stmt, const gchar *name, const gchar *value)
{
  gint idx = sqlite3_bind_parameter_index(stmt, name);
  if (idx > 0)
    cd_bind_text(stmt, idx, value);
}

static void
cd_search_bind_int(sqlite3_stmt *stmt, const gchar *name, gint64 value)
{
  gint idx = sqlite3_bind_parameter_index(stmt, name);
  if (idx > 0)
    sqlite3_bind_int64(stmt, idx, value);
}

static void
cd_search_bind_all(sqlite3_stmt *stmt, const CdSearchQuery *query, const CdSearchPlan *plan)
{
  cd_search_bind(stmt, ":match", plan->match);
  cd_search_bind(stmt, ":mrn", query->mrn);
  cd_search_bind(stmt, ":types", plan->types_json);
  cd_search_bind(stmt, ":from", query->date_from);
  cd_search_bind(stmt, ":to", query->date_to);
  cd_search_bind(stmt, ":status", query->status);
  cd_search_bind(stmt, ":hidden", plan->hidden);
  if (plan->idf != NULL && sqlite3_bind_parameter_index(stmt, ":idf") > 0) {
    gsize size;
    gconstpointer data = g_bytes_get_data(plan->idf, &size);
    sqlite3_bind_blob(stmt, sqlite3_bind_parameter_index(stmt, ":idf"), data, (gint) size, SQLITE_TRANSIENT);
  }
  if (plan->page_set != NULL && sqlite3_bind_parameter_index(stmt, ":pageset") > 0)
    cd_page_set_bind(stmt, sqlite3_bind_parameter_index(stmt, ":pageset"), plan->page_set);
}

/* The filters, each only when given, so that every statement is one SQLite
 * can plan on its indexes (no "?N IS NULL OR column = ?N"). */
static void
cd_search_append_filters(GString *sql, const CdSearchQuery *query, const CdSearchPlan *plan)
{
  if (query->mrn != NULL)
    g_string_append(sql, " AND d.patient_mrn = :mrn");
  if (plan->types_json != NULL)
    g_string_append(sql, " AND d.type IN (SELECT value FROM json_each(:types))");
  if (query->date_from != NULL)
    g_string_append(sql, " AND d.date >= :from");
  if (query->date_to != NULL)
    g_string_append(sql, " AND d.date <= :to");
  /* a literal (cd_search_check() allows only these two), so that SQLite
   * can read the review documents from their partial index */
  if (g_strcmp0(query->status, "review") == 0)
    g_string_append(sql, " AND d.status = 'review'");
  else if (query->status != NULL)
    g_string_append(sql, " AND d.status = 'filed'");
  if (plan->hidden != NULL)
    g_string_append(sql, " AND (d.type IS NULL OR d.type NOT IN (SELECT value FROM json_each(:hidden)))");
}

/* The index a filtered plan reads documents by, named so that SQLite
 * cannot pick another for an ORDER BY: a patient's chart is the smallest
 * set, then the documents in review (a few percent of an archive; their
 * partial index holds the date), then a type (its index holds the date
 * too), then dates. */
static const gchar *
cd_search_doc_index(const CdSearchQuery *query, const CdSearchPlan *plan)
{
  if (query->mrn != NULL)
    return " INDEXED BY documents_patient";
  if (g_strcmp0(query->status, "review") == 0)
    return " INDEXED BY documents_review";
  if (plan->types_json != NULL)
    return " INDEXED BY documents_type";
  if (query->date_from != NULL || query->date_to != NULL)
    return " INDEXED BY documents_date";
  return "";
}

/* Above this many matches (estimated), a text-first search ranks
 * only a recent window; and a filter set under this many pages is searched
 * page by page when the words match more. */
#define CD_SEARCH_BROAD 5000
#define CD_SEARCH_FILTER_FIRST_PAGES 5000
/* A filter-first search walks the index's matches against the filters'
 * pages, rather than checking each page, while the words match fewer than
 * this many times as many pages as the filters leave. */
#define CD_SEARCH_SET_RATIO 800

typedef enum {
  CD_PLAN_FILTERS,      /* no words: documents by their filters, newest first */
  CD_PLAN_TEXT_FIRST,   /* the text match drives, the filters are checked per match */
  CD_PLAN_FILTER_FIRST, /* the filters' pages drive, the text is checked per page */
} CdPlanKind;

/* How a plan whose words drive reads a match's document: an index of page
 * ids and documents only (the plans read nothing else of a page). */
#define CD_SEARCH_PAGE_INDEX " INDEXED BY pages_document_of"

/* FROM and WHERE of a plan, filters included, ready for a select list. */
static void
cd_search_append_from(GString *sql, CdPlanKind kind, const CdSearchQuery *query, const CdSearchPlan *plan)
{
  switch (kind) {
  case CD_PLAN_FILTERS:
    /* a destroyed document keeps its row, emptied (cd-archive-retention.c):
     * never a hit; with words its pages have no text left to match. A
     * document without pages is none either. The documents index alone:
     * its page comes after the ordering and the limit (a join with pages
     * first sought the first page of each of a year's 4,878 documents
     * before sorting them: 8–10 ms at 10 M pages, of a 13 ms search) */
    g_string_append_printf(sql,
                           " FROM documents d%s WHERE NOT EXISTS "
                           "(SELECT 1 FROM tombstones t WHERE t.document_id = d.id) AND d.n_pages > 0",
                           cd_search_doc_index(query, plan));
    break;
  case CD_PLAN_TEXT_FIRST:
    if (plan->page_set != NULL) {
      /* the filters are in the set: each match checked against it in the
       * index's loop, and only the matches it holds read their page's
       * document (for the facets) */
      g_string_append(sql, " FROM pages_fts f CROSS JOIN pages p" CD_SEARCH_PAGE_INDEX " ON p.id = f.rowid "
                           "CROSS JOIN documents d ON d.id = p.document_id WHERE pages_fts MATCH :match "
                           "AND cd_page_in_set (f.rowid, :pageset)");
      return;
    }
    /* each match's document through pages_document_of, which holds only
     * the page id and its document: the page row (its text, a few rows to
     * a database page) is never read (migration 10) */
    if (plan->doc_filter)
      g_string_append(sql, " FROM pages_fts f CROSS JOIN pages p" CD_SEARCH_PAGE_INDEX " ON p.id = f.rowid "
                           "CROSS JOIN documents d ON d.id = p.document_id WHERE pages_fts MATCH :match");
    else
      g_string_append(sql, " FROM pages_fts f CROSS JOIN pages p" CD_SEARCH_PAGE_INDEX " ON p.id = f.rowid "
                           "LEFT JOIN documents d ON d.id = p.document_id WHERE pages_fts MATCH :match");
    break;
  case CD_PLAN_FILTER_FIRST:
    if (plan->filter_set) {
      /* the filters' pages as a set, built once through the documents
       * index; the index's matches checked against it (the unary + keeps
       * SQLite from handing FTS5 one rowid lookup per page) */
      g_string_append_printf(sql,
                             " FROM pages_fts f CROSS JOIN pages p" CD_SEARCH_PAGE_INDEX " ON p.id = f.rowid "
                             "CROSS JOIN documents d ON d.id = p.document_id WHERE pages_fts MATCH :match "
                             "AND +f.rowid IN (SELECT p.id FROM documents d%s CROSS JOIN pages p "
                             "ON p.document_id = d.id WHERE 1",
                             cd_search_doc_index(query, plan));
      cd_search_append_filters(sql, query, plan);
      g_string_append(sql, ")");
      return;
    }
    /* one FTS5 lookup a document, not a page: the index's matches within
     * the document's range of page ids (first_page and last_page, read
     * with the filters from the documents index: schema 13; the ingest
     * stores a document's pages together), each kept only if its page is
     * the document's (a page moved in later from another document may lie
     * inside the range). A lookup in a common word's doclist is a seek
     * through every segment of the index; the matches after it are read
     * in order, so a document of five pages costs one seek instead of five. */
    g_string_append_printf(sql,
                           " FROM documents d%s CROSS JOIN pages_fts f CROSS JOIN pages p" CD_SEARCH_PAGE_INDEX
                           " ON p.id = f.rowid WHERE pages_fts MATCH :match "
                           "AND f.rowid >= d.first_page AND f.rowid <= d.last_page AND p.document_id = d.id",
                           cd_search_doc_index(query, plan));
    break;
  }
  cd_search_append_filters(sql, query, plan);
}

/* A text-first FROM for page ids only: the index alone when there is
 * nothing to check per match. */
static void
cd_search_append_text_from(GString *sql, const CdSearchQuery *query, const CdSearchPlan *plan)
{
  if (!plan->doc_filter && plan->hidden == NULL)
    g_string_append(sql, " FROM pages_fts f WHERE pages_fts MATCH :match");
  else if (plan->page_set != NULL)
    g_string_append(sql, " FROM pages_fts f WHERE pages_fts MATCH :match AND cd_page_in_set (f.rowid, :pageset)");
  else
    cd_search_append_from(sql, CD_PLAN_TEXT_FIRST, query, plan);
}

static void
cd_search_facet_free(CdSearchFacet *facet)
{
  g_free(facet->value);
  g_free(facet);
}

/**
 * cd_search_result_free:
 * @result: (nullable): a #CdSearchResult
 *
 * Since: 0.2
 */
void
cd_search_result_free(CdSearchResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer(&result->hits, g_ptr_array_unref);
  g_clear_pointer(&result->type_facets, g_ptr_array_unref);
  g_clear_pointer(&result->year_facets, g_ptr_array_unref);
  g_strfreev(result->terms);
  g_free(result);
}

static gint
cd_facet_by_count(gconstpointer a, gconstpointer b)
{
  const CdSearchFacet *fa = *(const CdSearchFacet *const *) a;
  const CdSearchFacet *fb = *(const CdSearchFacet *const *) b;
  if (fa->count != fb->count)
    return fa->count > fb->count ? -1 : 1;
  return g_strcmp0(fa->value, fb->value);
}

static gint
cd_facet_by_value_desc(gconstpointer a, gconstpointer b)
{
  const CdSearchFacet *fa = *(const CdSearchFacet *const *) a;
  const CdSearchFacet *fb = *(const CdSearchFacet *const *) b;
  return g_strcmp0(fb->value, fa->value);
}

/* Counts @count more hits for the facet @value (none when NULL) in @table,
 * a table of #CdSearchFacet by value that cd_search_facets_by_count() or
 * cd_search_facets_by_year() then empties; for both archive backends. */
void
cd_search_facet_add(GHashTable *table, const gchar *value, guint64 count)
{
  CdSearchFacet *facet;

  if (value == NULL)
    return;
  facet = g_hash_table_lookup(table, value);
  if (facet == NULL) {
    facet = g_new0(CdSearchFacet, 1);
    facet->value = g_strdup(value);
    g_hash_table_insert(table, facet->value, facet);
  }
  facet->count += count;
}

static GPtrArray *
cd_facets_sorted(GHashTable *table, GCompareFunc compare)
{
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) cd_search_facet_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init(&iter, table);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    g_ptr_array_add(out, value);
    g_hash_table_iter_steal(&iter);
  }
  g_ptr_array_sort(out, compare);
  return out;
}

/* The facets of @table, most hits first (document types) */
GPtrArray *
cd_search_facets_by_count(GHashTable *table)
{
  return cd_facets_sorted(table, cd_facet_by_count);
}

/* The facets of @table, newest year first */
GPtrArray *
cd_search_facets_by_year(GHashTable *table)
{
  return cd_facets_sorted(table, cd_facet_by_value_desc);
}

/* The total and the facets. A search with no filter and nothing hidden
 * counts its matches on the full-text index alone (cheap: no row is read),
 * up to CD_SEARCH_TEXT_COUNT_LIMIT, and takes the facets of the most recent
 * CD_SEARCH_COUNT_LIMIT; any other counts both in one pass over at most
 * CD_SEARCH_COUNT_LIMIT matches (all of a filter-first plan's, whose pages
 * are few; CD_SEARCH_TEXT_COUNT_LIMIT documents of a search without words,
 * read from the documents index alone), +1 to know whether there are
 * more. */
static gboolean
cd_search_count(CdArchive *self, CdPlanKind kind, const CdSearchQuery *query, const CdSearchPlan *plan,
                CdSearchResult *result, GError **error)
{
  g_autoptr(GString) sql = g_string_new("SELECT t, y, count(*) FROM (SELECT d.type AS t, substr(d.date, 1, 4) AS y");
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GHashTable) types = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GHashTable) years = g_hash_table_new(g_str_hash, g_str_equal);
  gboolean index_only = kind == CD_PLAN_TEXT_FIRST && !plan->doc_filter && plan->hidden == NULL;
  /* a text-set plan counts on the index and the set, as exactly */
  gboolean index_count = index_only || (kind == CD_PLAN_TEXT_FIRST && plan->page_set != NULL);
  /* without words the count reads the documents index alone: 20,000
   * entries cost a few milliseconds, so a year of a type is counted
   * exactly where it was "at least 1,000" */
  guint cap = kind == CD_PLAN_FILTER_FIRST ? CD_SEARCH_FILTER_FIRST_PAGES
              : kind == CD_PLAN_FILTERS    ? CD_SEARCH_TEXT_COUNT_LIMIT
                                           : CD_SEARCH_COUNT_LIMIT;
  guint64 n = 0;
  gint rc;

  cd_search_append_from(sql, kind, query, plan);
  /* text first, the most recent matches; other plans in their index's
   * order (an ORDER BY there would defeat the index) */
  g_string_append_printf(sql, "%s LIMIT %u) GROUP BY t, y", kind == CD_PLAN_TEXT_FIRST ? " ORDER BY f.rowid DESC" : "",
                         index_count ? cap : cap + 1);
  stmt = cd_search_prepare(self, plan, sql->str, error);
  if (stmt == NULL)
    return FALSE;
  cd_search_bind_all(stmt, query, plan);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    guint64 count = sqlite3_column_int64(stmt, 2);
    cd_search_facet_add(types, cd_column_text(stmt, 0), count);
    cd_search_facet_add(years, cd_column_text(stmt, 1), count);
    n += count;
  }
  if (rc != SQLITE_DONE)
    return FALSE; /* the caller reports it */
  result->type_facets = cd_search_facets_by_count(types);
  result->year_facets = cd_search_facets_by_year(years);
  if (index_count) {
    g_autoptr(sqlite3_stmt) count = NULL;
    g_autofree gchar *count_sql = g_strdup_printf(
        "SELECT count(*) FROM (SELECT rowid FROM pages_fts WHERE pages_fts MATCH :match%s LIMIT %u)",
        plan->page_set != NULL ? " AND cd_page_in_set (rowid, :pageset)" : "", CD_SEARCH_TEXT_COUNT_LIMIT + 1);
    count = cd_search_prepare(self, plan, count_sql, error);
    if (count == NULL)
      return FALSE;
    cd_search_bind_all(count, query, plan);
    if (sqlite3_step(count) != SQLITE_ROW)
      return FALSE;
    result->total = sqlite3_column_int64(count, 0);
    result->facets_partial = n < result->total;
    if (result->total > CD_SEARCH_TEXT_COUNT_LIMIT) {
      result->total = CD_SEARCH_TEXT_COUNT_LIMIT;
      result->total_is_estimate = TRUE;
    }
  } else if (n > cap) {
    result->total = cap;
    result->total_is_estimate = TRUE;
    result->facets_partial = TRUE;
  } else {
    result->total = n;
  }
  return TRUE;
}

/* Whether any document is of a type the principal may not see; when none
 * is, there is nothing to hide and the search need not check each match. */
static gboolean
cd_search_hidden_present(CdArchive *self, const gchar *hidden)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self,
                                                    "SELECT 1 FROM documents INDEXED BY documents_type WHERE type IN "
                                                    "(SELECT value FROM json_each(?1)) LIMIT 1",
                                                    NULL);

  if (stmt == NULL)
    return TRUE;
  cd_bind_text(stmt, 1, hidden);
  return sqlite3_step(stmt) != SQLITE_DONE;
}

/* Runs a statement of page ids and scores, appending a hit for each. */
static gboolean
cd_search_collect(CdArchive *self, const gchar *sql, const CdSearchQuery *query, const CdSearchPlan *plan,
                  gint64 low, guint limit, guint offset, GPtrArray *hits)
{
  g_autoptr(sqlite3_stmt) stmt = cd_search_prepare(self, plan, sql, NULL);
  gint rc;

  if (stmt == NULL)
    return FALSE;
  cd_search_bind_all(stmt, query, plan);
  cd_search_bind_int(stmt, ":low", low);
  cd_search_bind_int(stmt, ":limit", limit);
  cd_search_bind_int(stmt, ":offset", offset);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    CdSearchHit *hit = g_new0(CdSearchHit, 1);
    hit->page_id = sqlite3_column_int64(stmt, 0);
    /* bm25 ranks lower-is-better and negative; report higher-is-better */
    hit->score = -sqlite3_column_double(stmt, 1);
    g_ptr_array_add(hits, hit);
  }
  return rc == SQLITE_DONE;
}

/* Fills in what a hit shows: its document, patient and snippet. */
static gboolean
cd_search_describe(CdArchive *self, const CdSearchPlan *plan, GPtrArray *hits, GError **error)
{
  g_autoptr(sqlite3_stmt) row = NULL;
  g_autoptr(sqlite3_stmt) snip = NULL;

  row = cd_archive_prepare(self,
                           "SELECT p.document_id, p.seq, d.patient_mrn, d.type, d.date, d.status, p.source_path, "
                           "p.source_page, d.title, pt.family, pt.given FROM pages p "
                           "LEFT JOIN documents d ON d.id = p.document_id LEFT JOIN patients pt ON pt.mrn = d.patient_mrn "
                           "WHERE p.id = ?",
                           error);
  if (row == NULL)
    return FALSE;
  if (plan->match != NULL) {
    snip = cd_archive_prepare(self,
                              "SELECT snippet (pages_fts, 0, '" CD_MARK_OPEN "', '" CD_MARK_CLOSE
                              "', '…', 16) FROM pages_fts WHERE pages_fts MATCH ? AND rowid = ?",
                              error);
    if (snip == NULL)
      return FALSE;
  }
  for (guint i = 0; i < hits->len; i++) {
    CdSearchHit *hit = g_ptr_array_index(hits, i);
    const gchar *family, *given;
    sqlite3_reset(row);
    sqlite3_bind_int64(row, 1, hit->page_id);
    if (sqlite3_step(row) != SQLITE_ROW) {
      cd_archive_set_error(self, error, "search failed");
      return FALSE;
    }
    hit->document_id = sqlite3_column_int64(row, 0);
    hit->seq = sqlite3_column_type(row, 1) == SQLITE_NULL || hit->document_id == 0 ? -1 : sqlite3_column_int(row, 1);
    hit->patient_mrn = cd_column_dup(row, 2);
    hit->doc_type = cd_column_dup(row, 3);
    hit->date = cd_column_dup(row, 4);
    hit->status = cd_column_dup(row, 5);
    hit->source_path = cd_column_dup(row, 6);
    hit->source_page = sqlite3_column_int(row, 7);
    hit->title = cd_column_dup(row, 8);
    family = cd_column_text(row, 9);
    given = cd_column_text(row, 10);
    if (family != NULL && given != NULL)
      hit->patient_name = g_strdup_printf("%s, %s", family, given);
    else if (family != NULL || given != NULL)
      hit->patient_name = g_strdup(family != NULL ? family : given);
    if (snip != NULL) {
      const gchar *marked;
      GString *legacy = g_string_new(NULL);
      GString *plain = g_string_new(NULL);
      CdSearchSpan span = { 0 };
      gboolean open = FALSE;
      sqlite3_reset(snip);
      cd_bind_text(snip, 1, plan->match);
      sqlite3_bind_int64(snip, 2, hit->page_id);
      marked = sqlite3_step(snip) == SQLITE_ROW ? cd_column_text(snip, 0) : NULL;
      hit->spans = g_array_new(FALSE, FALSE, sizeof(CdSearchSpan));
      for (const gchar *p = marked; p != NULL && *p != '\0'; p++) {
        if (*p == CD_MARK_OPEN[0] && !open) {
          open = TRUE;
          span.start = plain->len;
          g_string_append_c(legacy, '[');
        } else if (*p == CD_MARK_CLOSE[0] && open) {
          open = FALSE;
          span.length = plain->len - span.start;
          if (span.length > 0)
            g_array_append_val(hit->spans, span);
          g_string_append_c(legacy, ']');
        } else if (*p != CD_MARK_OPEN[0] && *p != CD_MARK_CLOSE[0]) {
          g_string_append_c(legacy, *p);
          g_string_append_c(plain, *p);
        }
      }
      if (marked != NULL) {
        hit->snippet = g_string_free(legacy, FALSE);
        hit->snippet_text = g_string_free(plain, FALSE);
      } else {
        g_string_free(legacy, TRUE);
        g_string_free(plain, TRUE);
      }
    }
  }
  return TRUE;
}

/* Ranked matches, best first, of a text-first or filter-first plan;
 * @low > 0 keeps to the matches from page @low on (the recent window). */
static gchar *
cd_search_ranked_sql(CdPlanKind kind, const CdSearchQuery *query, const CdSearchPlan *plan, gboolean window)
{
  GString *sql = g_string_new(NULL);

  if (kind == CD_PLAN_TEXT_FIRST && !plan->doc_filter && plan->hidden == NULL) {
    /* nothing to join: the index alone */
    g_string_append(sql, "SELECT f.rowid, cd_rank (pages_fts, :idf) AS r FROM pages_fts f WHERE pages_fts MATCH :match");
  } else if (kind == CD_PLAN_TEXT_FIRST && plan->page_set != NULL) {
    /* the set alone: no page or document read but the hits' */
    g_string_append(sql, "SELECT f.rowid, cd_rank (pages_fts, :idf) AS r");
    cd_search_append_text_from(sql, query, plan);
  } else {
    g_string_append(sql, "SELECT p.id, cd_rank (pages_fts, :idf) AS r");
    cd_search_append_from(sql, kind, query, plan);
  }
  if (window)
    g_string_append(sql, " AND f.rowid >= :low");
  g_string_append(sql, " ORDER BY r, f.rowid LIMIT :limit OFFSET :offset");
  return g_string_free(sql, FALSE);
}

/* How many pages the query matches (cd_search_estimate_match()), and each
 * phrase on its own, for its weight. */
static gint64
cd_search_estimate_text(CdArchive *self, const gchar *match, GPtrArray *phrases, gint64 max_id)
{
  for (guint i = 0; i < phrases->len; i++) {
    CdPhrase *phrase = g_ptr_array_index(phrases, i);
    g_autofree gchar *joined = g_strjoinv(" ", phrase->tokens);
    g_autofree gchar *one = g_strdup_printf("\"%s\"%s", joined, phrase->prefix ? "*" : "");
    phrase->pages = MIN(cd_search_estimate_match(self, one, max_id), max_id);
  }
  return cd_search_estimate_match(self, match, max_id);
}

/* About how many pages the archive has (its highest page id). */
static gint64
cd_search_count_pages(CdArchive *self)
{
  g_autoptr(sqlite3_stmt) stmt = cd_archive_prepare(self, "SELECT max(id) FROM pages", NULL);

  if (stmt == NULL || sqlite3_step(stmt) != SQLITE_ROW)
    return 1;
  return MAX(1, sqlite3_column_int64(stmt, 0));
}

/* Each phrase's inverse document frequency, for cd_rank(). */
static GBytes *
cd_search_idf(GPtrArray *phrases, gint64 n_pages)
{
  gdouble *idf = g_new0(gdouble, MAX(phrases->len, 1));

  for (guint i = 0; i < phrases->len; i++) {
    CdPhrase *phrase = g_ptr_array_index(phrases, i);
    gdouble df = (gdouble) MIN(phrase->pages, n_pages);
    idf[i] = log((n_pages - df + 0.5) / (df + 0.5) + 1);
  }
  return g_bytes_new_take(idf, phrases->len * sizeof(gdouble));
}

/* How many pages the filters leave, counted up to @cap. */
static gint64
cd_search_count_filter_pages(CdArchive *self, const CdSearchQuery *query, const CdSearchPlan *plan, guint cap)
{
  g_autoptr(GString) sql = g_string_new(NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  /* the documents' page counts, from the index alone (schema 13); past
   * @cap documents there are at least @cap pages */
  g_string_printf(sql, "SELECT coalesce(sum(n), 0) FROM (SELECT d.n_pages AS n FROM documents d%s WHERE 1",
                  cd_search_doc_index(query, plan));
  cd_search_append_filters(sql, query, plan);
  g_string_append_printf(sql, " LIMIT %u)", cap);
  stmt = cd_search_prepare(self, plan, sql->str, NULL);
  if (stmt == NULL)
    return G_MAXINT64;
  cd_search_bind_all(stmt, query, plan);
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return G_MAXINT64;
  return sqlite3_column_int64(stmt, 0);
}

/* What checking one full-text match against the filters costs a text-first
 * plan (a page's document through pages_document_of, then the document
 * row), in pages added to a text-set plan's set (the documents index, then
 * pages_document): about 10 at 1 M pages (16 µs a check in the 3-pass slow
 * class, 1.6 µs a page of its set, both under load); 4, because a broad
 * filter's checks are of recent matches, whose pages are cache-hot.
 * Measured before schema 13: since then a set is built from documents'
 * page ranges, several pages an index entry, so this overstates its cost
 * and the set is chosen in fewer cases than it would pay (not measured
 * again). */
#define CD_SEARCH_SET_PAGES_PER_CHECK 4

/* Whether a text-set plan's set of @filter_pages pages costs less to build
 * than a text-first plan's checks of matches against the filters: once per
 * match in each of its up to three passes (the recent window's edge, the
 * ranking, the count), and for a broad filter only until enough matches
 * pass (about CD_SEARCH_RANK_WINDOW). */
static gboolean
cd_search_set_pays(gint64 filter_pages, gint64 text_estimate, gint64 max_id)
{
  gdouble scanned = MIN((gdouble) text_estimate, (gdouble) CD_SEARCH_RANK_WINDOW * max_id / MAX(filter_pages, 1));
  return (gdouble) filter_pages <= 3.0 * CD_SEARCH_SET_PAGES_PER_CHECK * scanned;
}

/* How many matches cd_search_estimate_filter_pages() checks. */
#define CD_SEARCH_FILTER_SAMPLE 512

/* About how many pages the filters leave, from the share of the most
 * recent CD_SEARCH_FILTER_SAMPLE matches that pass them (as a text-first
 * plan checks them): a few hundred checks, where counting the filters'
 * documents would read every one of a broad type's. 0 when none pass. */
static gint64
cd_search_estimate_filter_pages(CdArchive *self, const CdSearchQuery *query, const CdSearchPlan *plan,
                                gint64 text_estimate, gint64 max_id)
{
  g_autoptr(GString) sql = g_string_new(NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 sampled = MIN(CD_SEARCH_FILTER_SAMPLE, text_estimate);

  g_string_printf(sql,
                  "SELECT count(*) FROM (SELECT f.rowid AS id FROM pages_fts f WHERE pages_fts MATCH :match "
                  "ORDER BY f.rowid DESC LIMIT %u) s CROSS JOIN pages p" CD_SEARCH_PAGE_INDEX " ON p.id = s.id "
                  "CROSS JOIN documents d ON d.id = p.document_id WHERE 1",
                  CD_SEARCH_FILTER_SAMPLE);
  cd_search_append_filters(sql, query, plan);
  stmt = cd_search_prepare(self, plan, sql->str, NULL);
  if (stmt == NULL)
    return G_MAXINT64;
  cd_search_bind_all(stmt, query, plan);
  if (sqlite3_step(stmt) != SQLITE_ROW || sampled <= 0)
    return G_MAXINT64;
  return (gint64) ((gdouble) sqlite3_column_int64(stmt, 0) / sampled * max_id);
}

/* One pass of a keyed set's build: the documents of one type dated from
 * @from, in one year. */
typedef struct {
  gchar *type;
  gchar *year;
  gchar *from;
  gchar *until;   /* excluded, or the search's end when @last */
  gboolean last;
} CdSetGroup;

static void
cd_set_group_clear(CdSetGroup *group)
{
  g_free(group->type);
  g_free(group->year);
  g_free(group->from);
  g_free(group->until);
}

/* at most this many passes (types times years) for a keyed set */
#define CD_SEARCH_SET_GROUPS 64

/* The passes that build a set keyed by type and year, for a search with
 * types and both dates: one a type and calendar year, dated from the later
 * of the year's first day and the search's start, until the next year's
 * first day (excluded), the last to the search's end (included).
 * The dates compare as text, as the filters do, so the passes split the
 * search's range between them whatever a stored date looks like; a
 * document's year is its date's first four characters, as the facets
 * have it, for any date of the form YYYY-... . NULL when there are no
 * types, a date is missing, or the passes would be too many: the facets
 * then come from the documents of the most recent matches. */
static GArray *
cd_search_set_groups(const CdSearchQuery *query)
{
  g_autoptr(GArray) groups = NULL;
  const gchar *const *types = query->doc_types;
  const gchar *one[] = { query->doc_type, NULL };
  gint first, last;
  guint n_types;

  if (types == NULL && query->doc_type != NULL)
    types = one;
  if (types == NULL || types[0] == NULL || query->date_from == NULL || query->date_to == NULL ||
      strlen(query->date_from) < 4 || strlen(query->date_to) < 4)
    return NULL;
  first = (gint) g_ascii_strtoll(query->date_from, NULL, 10);
  last = (gint) g_ascii_strtoll(query->date_to, NULL, 10);
  n_types = g_strv_length((gchar **) types);
  if (first < 1 || last > 9999 || first > last || (guint) (last - first + 1) * n_types > CD_SEARCH_SET_GROUPS)
    return NULL;
  groups = g_array_new(FALSE, TRUE, sizeof(CdSetGroup));
  g_array_set_clear_func(groups, (GDestroyNotify) cd_set_group_clear);
  for (guint t = 0; t < n_types; t++) {
    for (gint y = first; y <= last; y++) {
      CdSetGroup group = { 0 };
      group.type = g_strdup(types[t]);
      group.year = g_strdup_printf("%04d", y);
      group.from = y == first ? g_strdup(query->date_from) : g_strdup_printf("%04d-01-01", y);
      group.last = y == last;
      group.until = group.last ? g_strdup(query->date_to) : g_strdup_printf("%04d-01-01", y + 1);
      g_array_append_val(groups, group);
    }
  }
  return g_steal_pointer(&groups);
}

/* The pages the filters leave, as a set in memory, for a text-first search
 * whose words match @text_estimate pages of @max_id: %NULL when the set
 * would cost more to build than the text-first plan's checks
 * (cd_search_set_pays()), judged first on a sample of the matches
 * (cd_search_estimate_filter_pages()), then on the pages read: those only
 * undercount the set, so the build stops as soon as they are too many.
 * %NULL on an error too: the text-first plan then runs and reports it. */
static CdPageSet *
cd_search_page_set(CdArchive *self, const CdSearchQuery *query, const CdSearchPlan *plan, gint64 max_id,
                   gint64 text_estimate)
{
  g_autoptr(GString) sql = g_string_new(NULL);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(sqlite3_stmt) last_stmt = NULL;
  g_autoptr(sqlite3_stmt) pages = NULL;
  g_autoptr(CdPageSet) set = NULL;
  g_autoptr(GArray) groups = NULL;
  gint64 n = 0;
  gint rc = SQLITE_DONE;

  n = cd_search_estimate_filter_pages(self, query, plan, text_estimate, max_id);
  if (!cd_search_set_pays(n, text_estimate, max_id))
    return NULL;
  n = 0;
  set = cd_page_set_new(max_id);

  /* the documents' page ranges, from the index the filters read (schema
   * 13): a document whose pages are consecutive ids is its range; another
   * (pages moved in from elsewhere, or none counted) is looked up page by
   * page, so the set is exact either way. With types and both dates, one
   * pass a type and year, so that the set knows each page's type and year
   * for the facets without reading a column more a document
   * (cd_search_set_groups()) */
  groups = cd_search_set_groups(query);
  for (guint g = 0; g < (groups != NULL ? groups->len : 1); g++) {
    CdSetGroup *group = groups != NULL ? &g_array_index(groups, CdSetGroup, g) : NULL;
    sqlite3_stmt **use = group != NULL && group->last ? &last_stmt : &stmt;
    if (*use == NULL) {
      g_string_printf(sql, "SELECT d.id, d.first_page, d.last_page, d.n_pages FROM documents d%s WHERE 1",
                      cd_search_doc_index(query, plan));
      if (group == NULL) {
        cd_search_append_filters(sql, query, plan);
      } else {
        /* the other filters, and the pass's type and dates: an equality
         * and one range, which SQLite reads as such from the index (with
         * the types' list and two ranges it chose a skip-scan) */
        CdSearchQuery others = *query;
        CdSearchPlan untyped = *plan;
        others.doc_type = others.date_from = others.date_to = NULL;
        others.doc_types = NULL;
        untyped.types_json = NULL;
        cd_search_append_filters(sql, &others, &untyped);
        g_string_append_printf(sql, " AND d.type = :group_type AND d.date >= :group_from AND d.date %s :group_until",
                               group->last ? "<=" : "<");
      }
      *use = cd_search_prepare(self, plan, sql->str, NULL);
      if (*use == NULL)
        return NULL;
    }
    sqlite3_reset(*use);
    cd_search_bind_all(*use, query, plan);
    if (group != NULL) {
      cd_search_bind(*use, ":group_type", group->type);
      cd_search_bind(*use, ":group_from", group->from);
      cd_search_bind(*use, ":group_until", group->until);
      cd_page_set_set_key(set, group->type, group->year);
    }
    while ((rc = sqlite3_step(*use)) == SQLITE_ROW) {
      gint64 first = sqlite3_column_int64(*use, 1);
      gint64 last = sqlite3_column_int64(*use, 2);
      gint64 count = sqlite3_column_int64(*use, 3);
      gint64 before = n;
      if (count > 0 && sqlite3_column_type(*use, 1) != SQLITE_NULL && last - first + 1 == count) {
        cd_page_set_add_range(set, first, last);
        n += count;
      } else {
        gint step;
        if (pages == NULL) {
          pages = cd_search_prepare(self, plan, "SELECT p.id FROM pages p WHERE p.document_id = ?1", NULL);
          if (pages == NULL)
            return NULL;
        }
        sqlite3_reset(pages);
        sqlite3_bind_int64(pages, 1, sqlite3_column_int64(*use, 0));
        while ((step = sqlite3_step(pages)) == SQLITE_ROW) {
          cd_page_set_add(set, sqlite3_column_int64(pages, 0));
          n++;
        }
        if (step != SQLITE_DONE)
          return NULL;
      }
      if (n / 1024 != before / 1024 && !cd_search_set_pays(n, text_estimate, max_id))
        return NULL;
    }
    if (rc != SQLITE_DONE)
      return NULL;
  }
  return g_steal_pointer(&set);
}

/* A match of a text-set search and its rank (lower is better). */
typedef struct {
  gint64 id;
  gdouble rank;
} CdSearchRanked;

static gint
cd_search_ranked_compare(gconstpointer a, gconstpointer b)
{
  const CdSearchRanked *x = a;
  const CdSearchRanked *y = b;

  if (x->rank != y->rank)
    return x->rank < y->rank ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

/* The facets of the CD_SEARCH_COUNT_LIMIT most recent of @ranked (newest
 * first), each match's document read through pages_document_of. */
static gboolean
cd_search_recent_facets(CdArchive *self, const CdSearchPlan *plan, GArray *ranked, GHashTable *types,
                        GHashTable *years)
{
  g_autoptr(sqlite3_stmt) stmt = cd_search_prepare(
      self, plan,
      "SELECT d.type, substr(d.date, 1, 4) FROM pages p" CD_SEARCH_PAGE_INDEX " CROSS JOIN documents d "
      "ON d.id = p.document_id WHERE p.id = ?1",
      NULL);

  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < MIN(ranked->len, CD_SEARCH_COUNT_LIMIT); i++) {
    gint rc;
    sqlite3_reset(stmt);
    sqlite3_bind_int64(stmt, 1, g_array_index(ranked, CdSearchRanked, i).id);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      cd_search_facet_add(types, cd_column_text(stmt, 0), 1);
      cd_search_facet_add(years, cd_column_text(stmt, 1), 1);
    } else if (rc != SQLITE_DONE) {
      return FALSE;
    }
  }
  return TRUE;
}

/* Every match of a search that has few enough to rank them all, from one
 * statement, @sql: a match's page id and rank, and its document's type and
 * year when @sql gives them (the facets then count every match; else
 * cd_search_recent_facets() reads those of the first rows, which @sql
 * yields newest first). The total is exact, the hits are ranked at any
 * offset, and nothing is walked twice. Before, these searches walked
 * their matches two to four times: the ranking, the facets and the count,
 * and for a text-set search the recent window's edge, past which only the
 * most recent 2,000 answers were ranked. More than @cap matches leave
 * @done %FALSE: the caller then runs a plan for many answers. */
static gboolean
cd_search_rank_all(CdArchive *self, const gchar *sql, const CdSearchQuery *query, const CdSearchPlan *plan,
                   guint cap, guint limit, CdSearchResult *result, gboolean *done)
{
  g_autoptr(GArray) ranked = g_array_new(FALSE, FALSE, sizeof(CdSearchRanked));
  /* the facets are stolen by cd_search_facets_by_*(); freed here when not */
  g_autoptr(GHashTable) types =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) cd_search_facet_free);
  g_autoptr(GHashTable) years =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) cd_search_facet_free);
  g_autoptr(sqlite3_stmt) stmt = cd_search_prepare(self, plan, sql, NULL);
  gboolean facets_here;
  gint rc;

  *done = FALSE;
  if (stmt == NULL)
    return FALSE;
  facets_here = sqlite3_column_count(stmt) >= 4;
  cd_search_bind_all(stmt, query, plan);
  cd_search_bind_int(stmt, ":limit", (gint64) cap + 1);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    CdSearchRanked match = { sqlite3_column_int64(stmt, 0), sqlite3_column_double(stmt, 1) };
    g_array_append_val(ranked, match);
    if (facets_here) {
      cd_search_facet_add(types, cd_column_text(stmt, 2), 1);
      cd_search_facet_add(years, cd_column_text(stmt, 3), 1);
    }
  }
  if (rc != SQLITE_DONE)
    return FALSE;
  if (ranked->len > cap)
    return TRUE;
  if (!facets_here && plan->page_set != NULL && cd_page_set_is_keyed(plan->page_set)) {
    /* every match's type and year from the keyed set: no document read
     * (the most recent 1,000 matches' were, two seeks each) */
    for (guint i = 0; i < ranked->len; i++) {
      const gchar *type = NULL, *year = NULL;
      if (cd_page_set_lookup(plan->page_set, g_array_index(ranked, CdSearchRanked, i).id, &type, &year)) {
        cd_search_facet_add(types, type, 1);
        cd_search_facet_add(years, year, 1);
      }
    }
    facets_here = TRUE;
  }
  if (!facets_here && !cd_search_recent_facets(self, plan, ranked, types, years))
    return FALSE;
  result->type_facets = cd_search_facets_by_count(types);
  result->year_facets = cd_search_facets_by_year(years);
  result->facets_partial = !facets_here && ranked->len > CD_SEARCH_COUNT_LIMIT;
  g_array_sort(ranked, cd_search_ranked_compare);
  for (guint i = query->offset; i < ranked->len && result->hits->len < limit; i++) {
    CdSearchHit *hit = g_new0(CdSearchHit, 1);
    hit->page_id = g_array_index(ranked, CdSearchRanked, i).id;
    /* cd_rank() ranks lower-is-better; report higher-is-better */
    hit->score = -g_array_index(ranked, CdSearchRanked, i).rank;
    g_ptr_array_add(result->hits, hit);
  }
  result->total = ranked->len;
  *done = TRUE;
  return TRUE;
}

static CdSearchResult *cd_archive_search_run(CdArchive *self, const CdSearchQuery *query, GPtrArray *log,
                                             GError **error);

/**
 * cd_archive_search_ex:
 * @self: a #CdArchive
 * @query: what to look for
 * @error: return location for a #GError
 *
 * Full-text search over page text with patient, type, date and status
 * filters, answering with a page of hits, the total and facets.
 *
 * Every filter is applied to every match: nothing is dropped, so paging
 * through a result reaches all of its hits. The plan is chosen by
 * selectivity, each written so that SQLite uses the archive's indexes:
 *
 * - without words (`filters`), documents by their filters, newest first,
 *   one hit per document (its first page);
 * - `filter-first`, when the filters (a patient's chart, a narrow type or
 *   date range) leave fewer pages than the words match: those pages are
 *   checked against the words;
 * - `text-first`, when the words are rarer: the full-text index drives and
 *   the filters are checked per match;
 * - `text-set`, when neither side is narrow (a word on 1% of pages, a type
 *   and some years): the filters' pages are first read from the indexes
 *   into a set in memory, then the full-text index drives and each match
 *   is checked against the set, without reading its page or document; in
 *   one pass over the matches every answer is ranked and counted, so the
 *   hits are ranked at any offset and the total is exact, up to
 *   %CD_SEARCH_TEXT_COUNT_LIMIT answers (past that, the recent window);
 * - `recent-window`, a text-first search whose words match more than about
 *   5,000 pages: ranking every match would cost in proportion to the
 *   matches, so the %CD_SEARCH_RANK_WINDOW most recently archived matches
 *   are ranked (best first), and after them the older matches follow newest
 *   first, unranked (@order %CD_SEARCH_ORDER_RECENT_RANK).
 *
 * The total: a search with words and no filter (and no hidden type present
 * in the archive) counts its matches on the full-text index alone, up to
 * %CD_SEARCH_TEXT_COUNT_LIMIT, and so does a `text-set` plan against its
 * set; a search without words counts up to %CD_SEARCH_TEXT_COUNT_LIMIT
 * documents; any other counts at most %CD_SEARCH_COUNT_LIMIT (a
 * filter-first plan: all of its matches). Past that the total is a lower
 * bound, flagged @total_is_estimate. The facets count at most
 * %CD_SEARCH_COUNT_LIMIT matches, the most recently archived
 * (@facets_partial when there are more), or all the documents a search
 * without words counts.
 *
 * Types the acting principal may not see are left out of the hits, the
 * total and the facets alike.
 *
 * A malformed FTS5 query, a bad date or status fails with %CD_ERROR_QUERY.
 * The search is audited with the query, the number of hits and the total.
 *
 * Returns: (transfer full): the result; free with cd_search_result_free()
 *
 * Since: 0.2
 */
CdSearchResult *
cd_archive_search_ex(CdArchive *self, const CdSearchQuery *query, GError **error)
{
  return cd_archive_search_run(self, query, NULL, error);
}

/* cd_archive_search_ex(), noting each statement it prepares in @log. */
static CdSearchResult *
cd_archive_search_run(CdArchive *self, const CdSearchQuery *query, GPtrArray *log, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_auto(CdSearchPlan) plan = { 0 };
  g_autoptr(CdArchiveTxn) snapshot = NULL;
  g_autoptr(CdSearchResult) result = g_new0(CdSearchResult, 1);
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autoptr(GPtrArray) phrases = NULL;
  CdPlanKind kind = CD_PLAN_FILTERS;
  gint64 text_estimate = G_MAXINT64;
  gint64 max_id = 1;
  gint64 low = 0;
  gboolean ok = TRUE;
  gboolean counted = FALSE;
  guint limit;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), NULL);
  g_return_val_if_fail(query != NULL, NULL);

  if (!cd_search_check(query, &plan, error))
    return NULL;
  plan.log = log;
  limit = query->limit > 0 ? query->limit : 20;
  result->hits = g_ptr_array_new_with_free_func((GDestroyNotify) cd_search_hit_free);
  phrases = cd_search_phrases(plan.match != NULL ? query->text : NULL,
                              plan.match != NULL && !query->plain && cd_query_looks_like_fts(query->text));
  result->terms = cd_search_terms(phrases);

  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require(self, CD_PERMISSION_READ_CHARTS, "search the archive", "archive", error))
    return NULL;
  /* the plan's statements in one read transaction: one snapshot for the
   * hits, the total and the facets, and the database's read lock taken
   * once, not for each statement step by step (a text-set search's 1,000
   * facet lookups took and released it 1,000 times: 2,000 fcntl() calls);
   * ended before the audit entry is written */
  if (sqlite3_get_autocommit(cd_archive_get_db(self))) {
    snapshot = cd_archive_txn_begin_read(self, error);
    if (snapshot == NULL)
      return NULL;
  }
  plan.hidden = cd_archive_hidden_types(self);
  if (plan.hidden != NULL && !cd_search_hidden_present(self, plan.hidden))
    plan.hidden = NULL;

  if (plan.match == NULL) {
    /* each document's first page, for the page of documents asked for */
    g_autoptr(GString) sql = g_string_new("SELECT (SELECT p.id FROM pages p WHERE p.document_id = s.id ORDER BY "
                                          "p.seq LIMIT 1), 0 FROM (SELECT d.id AS id, d.date AS date");
    kind = CD_PLAN_FILTERS;
    result->plan = "filters";
    result->order = CD_SEARCH_ORDER_DATE;
    cd_search_append_from(sql, kind, query, &plan);
    g_string_append(sql, " ORDER BY d.date DESC, d.id DESC LIMIT :limit OFFSET :offset) s ORDER BY s.date DESC, "
                         "s.id DESC");
    ok = cd_search_collect(self, sql->str, query, &plan, 0, limit, query->offset, result->hits);
  } else {
    if (!cd_search_register_rank(self)) {
      cd_archive_set_error(self, error, "cannot rank search results");
      return NULL;
    }
    max_id = cd_search_count_pages(self);
    text_estimate = cd_search_estimate_text(self, plan.match, phrases, max_id);
    plan.idf = cd_search_idf(phrases, max_id);
    kind = CD_PLAN_TEXT_FIRST;
    if (plan.doc_filter && text_estimate > CD_SEARCH_FILTER_FIRST_PAGES / 2) {
      gint64 filter_pages = cd_search_count_filter_pages(self, query, &plan, CD_SEARCH_FILTER_FIRST_PAGES);
      if (filter_pages < CD_SEARCH_FILTER_FIRST_PAGES && filter_pages <= text_estimate) {
        kind = CD_PLAN_FILTER_FIRST;
        /* checking a page against the words is one FTS5 query per page
         * (0.5–1 ms at 1 M pages); walking the index's matches against the
         * set of the filters' pages costs about 0.6 µs a match */
        plan.filter_set = text_estimate / CD_SEARCH_SET_RATIO < filter_pages;
      } else if (text_estimate < G_MAXINT64) {
        /* neither side narrow: the filters' pages into a set first, when
         * that is cheaper than checking each match's document */
        plan.page_set = cd_search_page_set(self, query, &plan, max_id, text_estimate);
      }
    }
    if (kind == CD_PLAN_FILTER_FIRST)
      result->plan = plan.filter_set ? "filter-set" : "filter-first";
    else
      result->plan = plan.page_set != NULL ? "text-set" : "text-first";
    result->order = CD_SEARCH_ORDER_RANK;
    if (kind == CD_PLAN_TEXT_FIRST && plan.page_set != NULL) {
      /* the set's matches, newest first; up to as many as its count */
      ok = cd_search_rank_all(self,
                              "SELECT f.rowid, cd_rank (pages_fts, :idf) FROM pages_fts f WHERE pages_fts MATCH :match "
                              "AND cd_page_in_set (f.rowid, :pageset) ORDER BY f.rowid DESC LIMIT :limit",
                              query, &plan, CD_SEARCH_TEXT_COUNT_LIMIT, limit, result, &counted);
    } else if (kind == CD_PLAN_FILTER_FIRST) {
      /* the filters' few pages: fewer matches than CD_SEARCH_FILTER_FIRST_PAGES */
      g_autoptr(GString) sql = g_string_new("SELECT p.id, cd_rank (pages_fts, :idf), d.type, substr(d.date, 1, 4)");
      cd_search_append_from(sql, kind, query, &plan);
      g_string_append(sql, " LIMIT :limit");
      ok = cd_search_rank_all(self, sql->str, query, &plan, CD_SEARCH_FILTER_FIRST_PAGES, limit, result, &counted);
    }
    if (ok && !counted && kind == CD_PLAN_TEXT_FIRST && text_estimate > CD_SEARCH_BROAD) {
      /* the window's oldest page: the CD_SEARCH_RANK_WINDOW-th match from the newest */
      g_autoptr(GString) sql = g_string_new("SELECT f.rowid");
      g_autoptr(sqlite3_stmt) stmt = NULL;
      cd_search_append_text_from(sql, query, &plan);
      g_string_append_printf(sql, " ORDER BY f.rowid DESC LIMIT 1 OFFSET %u", CD_SEARCH_RANK_WINDOW - 1);
      stmt = cd_search_prepare(self, &plan, sql->str, NULL);
      ok = stmt != NULL;
      if (ok) {
        gint rc;
        cd_search_bind_all(stmt, query, &plan);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW)
          low = sqlite3_column_int64(stmt, 0);
        ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
      }
    }
    if (counted) {
      /* the one pass of cd_search_text_set() did it all */
    } else if (ok && low > 0) {
      g_autofree gchar *ranked = cd_search_ranked_sql(kind, query, &plan, TRUE);
      result->plan = "recent-window";
      result->order = CD_SEARCH_ORDER_RECENT_RANK;
      result->window = CD_SEARCH_RANK_WINDOW;
      if (query->offset < CD_SEARCH_RANK_WINDOW)
        ok = cd_search_collect(self, ranked, query, &plan, low, MIN(limit, CD_SEARCH_RANK_WINDOW - query->offset),
                               query->offset, result->hits);
      if (ok && result->hits->len < limit) {
        /* past the window: the older matches, newest first */
        g_autoptr(GString) sql = g_string_new("SELECT f.rowid, 0");
        guint skip = query->offset > CD_SEARCH_RANK_WINDOW ? query->offset - CD_SEARCH_RANK_WINDOW : 0;
        cd_search_append_text_from(sql, query, &plan);
        g_string_append(sql, " AND f.rowid < :low ORDER BY f.rowid DESC LIMIT :limit OFFSET :offset");
        ok = cd_search_collect(self, sql->str, query, &plan, low, limit - result->hits->len, skip, result->hits);
      }
    } else if (ok) {
      g_autofree gchar *ranked = cd_search_ranked_sql(kind, query, &plan, FALSE);
      ok = cd_search_collect(self, ranked, query, &plan, 0, limit, query->offset, result->hits);
    }
  }
  if (ok && !counted)
    ok = cd_search_count(self, kind, query, &plan, result, NULL);
  if (!ok) {
    const gchar *msg = sqlite3_errmsg(cd_archive_get_db(self));
    /* the SQL is built here and prepared, so a plain SQLITE_ERROR while
     * stepping comes from FTS5 parsing the MATCH text: the query's fault,
     * whatever the wording; busy, I/O and corruption keep their own codes */
    if (plan.match != NULL && sqlite3_errcode(cd_archive_get_db(self)) == SQLITE_ERROR) {
      g_set_error(error, CD_ERROR, CD_ERROR_QUERY,
                  "malformed query '%s': %s (put words in double quotes, or search with --plain)", query->text, msg);
    } else {
      cd_archive_set_error(self, error, "search failed");
    }
    return NULL;
  }
  if (!cd_search_describe(self, &plan, result->hits, error))
    return NULL;
  g_clear_pointer(&snapshot, cd_archive_txn_free);

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
  if (!cd_archive_audit(self, "search", "archive", detail, error))
    return NULL;
  return g_steal_pointer(&result);
}

/**
 * cd_archive_search:
 * @self: a #CdArchive
 * @query: what to look for
 * @error: return location for a #GError
 *
 * The hits of cd_archive_search_ex(), without the total and facets.
 *
 * Returns: (transfer container) (element-type CdSearchHit): the hits
 *
 * Since: 0.1
 */
GPtrArray *
cd_archive_search(CdArchive *self, const CdSearchQuery *query, GError **error)
{
  g_autoptr(CdSearchResult) result = cd_archive_search_ex(self, query, error);

  if (result == NULL)
    return NULL;
  return g_steal_pointer(&result->hits);
}

/**
 * cd_search_result_to_json:
 * @result: a #CdSearchResult
 * @query: the query it answers
 *
 * The result as the web API answers it: `{"total", "total_is_estimate",
 * "offset", "limit", "order", "window", "plan", "terms": [...], "hits":
 * [{"page", "document", "seq", "mrn", "patient", "type", "date", "status",
 * "title", "score", "snippet": [{"text", "hit"}, ...]}], "facets": {"type":
 * {NAME: count}, "year": {YYYY: count}}, "facets_partial"}`. Null members
 * are JSON null; a hit's `seq` is 0-based; its snippet is the plain text
 * cut into runs, `hit` true on the matched words.
 *
 * Returns: (transfer full): a JSON object
 *
 * Since: 0.2
 */
JsonNode *
cd_search_result_to_json(const CdSearchResult *result, const CdSearchQuery *query)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  static const gchar *const orders[] = { "rank", "date", "recent-rank" };

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "total");
  json_builder_add_int_value(b, (gint64) result->total);
  json_builder_set_member_name(b, "total_is_estimate");
  json_builder_add_boolean_value(b, result->total_is_estimate);
  json_builder_set_member_name(b, "offset");
  json_builder_add_int_value(b, query->offset);
  json_builder_set_member_name(b, "limit");
  json_builder_add_int_value(b, query->limit > 0 ? query->limit : 20);
  json_builder_set_member_name(b, "order");
  json_builder_add_string_value(b, orders[result->order]);
  json_builder_set_member_name(b, "window");
  json_builder_add_int_value(b, result->window);
  json_builder_set_member_name(b, "plan");
  json_builder_add_string_value(b, result->plan);
  json_builder_set_member_name(b, "terms");
  json_builder_begin_array(b);
  for (guint i = 0; result->terms != NULL && result->terms[i] != NULL; i++)
    json_builder_add_string_value(b, result->terms[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "hits");
  json_builder_begin_array(b);
  for (guint i = 0; i < result->hits->len; i++) {
    CdSearchHit *hit = g_ptr_array_index(result->hits, i);
    guint at = 0;
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "page");
    json_builder_add_int_value(b, hit->page_id);
    json_builder_set_member_name(b, "document");
    if (hit->document_id > 0)
      json_builder_add_int_value(b, hit->document_id);
    else
      json_builder_add_null_value(b);
    json_builder_set_member_name(b, "seq");
    if (hit->seq >= 0)
      json_builder_add_int_value(b, hit->seq);
    else
      json_builder_add_null_value(b);
    json_builder_set_member_name(b, "mrn");
    json_builder_add_string_value(b, hit->patient_mrn);
    json_builder_set_member_name(b, "patient");
    json_builder_add_string_value(b, hit->patient_name);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, hit->doc_type);
    json_builder_set_member_name(b, "date");
    json_builder_add_string_value(b, hit->date);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, hit->status);
    json_builder_set_member_name(b, "title");
    json_builder_add_string_value(b, hit->title);
    json_builder_set_member_name(b, "score");
    json_builder_add_double_value(b, hit->score);
    json_builder_set_member_name(b, "snippet");
    json_builder_begin_array(b);
    for (guint s = 0; hit->snippet_text != NULL && s <= (hit->spans != NULL ? hit->spans->len : 0); s++) {
      gboolean last = hit->spans == NULL || s == hit->spans->len;
      const CdSearchSpan *span = last ? NULL : &g_array_index(hit->spans, CdSearchSpan, s);
      guint end = last ? (guint) strlen(hit->snippet_text) : span->start;
      if (end > at) {
        g_autofree gchar *text = g_strndup(hit->snippet_text + at, end - at);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "text");
        json_builder_add_string_value(b, text);
        json_builder_set_member_name(b, "hit");
        json_builder_add_boolean_value(b, FALSE);
        json_builder_end_object(b);
      }
      if (span != NULL) {
        g_autofree gchar *text = g_strndup(hit->snippet_text + span->start, span->length);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "text");
        json_builder_add_string_value(b, text);
        json_builder_set_member_name(b, "hit");
        json_builder_add_boolean_value(b, TRUE);
        json_builder_end_object(b);
        at = span->start + span->length;
      }
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "facets");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_begin_object(b);
  for (guint i = 0; i < result->type_facets->len; i++) {
    CdSearchFacet *facet = g_ptr_array_index(result->type_facets, i);
    json_builder_set_member_name(b, facet->value);
    json_builder_add_int_value(b, (gint64) facet->count);
  }
  json_builder_end_object(b);
  json_builder_set_member_name(b, "year");
  json_builder_begin_object(b);
  for (guint i = 0; i < result->year_facets->len; i++) {
    CdSearchFacet *facet = g_ptr_array_index(result->year_facets, i);
    json_builder_set_member_name(b, facet->value);
    json_builder_add_int_value(b, (gint64) facet->count);
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "facets_partial");
  json_builder_add_boolean_value(b, result->facets_partial);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* For the tests: the SQL of every statement a search prepares, in order,
 * so that they can check SQLite's plan for each. The search runs (and is
 * audited) as cd_archive_search_ex() runs it. */
GPtrArray *
cd_archive_search_statements(CdArchive *self, const CdSearchQuery *query, const gchar **plan, GError **error)
{
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(CdSearchResult) result = cd_archive_search_run(self, query, log, error);

  if (result == NULL)
    return NULL;
  if (plan != NULL)
    *plan = result->plan;
  return g_steal_pointer(&log);
}

/**
 * cd_search_result_to_hits_json:
 * @result: a #CdSearchResult
 * @query: the query it answers
 *
 * The JSON of cd_search_hits_to_json() (`chartdesk search --json`, the
 * service's Search method), with the result's `total`,
 * `total_is_estimate`, `order`, `window`, `plan`, `terms`, `facets` and
 * `facets_partial` as cd_search_result_to_json() has them.
 *
 * Returns: (transfer full): a JSON object
 *
 * Since: 0.2
 */
JsonNode *
cd_search_result_to_hits_json(const CdSearchResult *result, const CdSearchQuery *query)
{
  JsonNode *root = cd_search_hits_to_json(result->hits, query->text);
  g_autoptr(JsonNode) full = cd_search_result_to_json(result, query);
  JsonObject *from = json_node_get_object(full);
  JsonObject *to = json_node_get_object(root);

  for (const gchar *const *m = (const gchar *const[]){ "total", "total_is_estimate", "order", "window", "plan", "terms",
                                                       "facets", "facets_partial", NULL };
       *m != NULL; m++)
    json_object_set_member(to, *m, json_node_copy(json_object_get_member(from, *m)));
  return root;
}

/* A varint of the FTS5 structure record (SQLite's own encoding). */
static gboolean
cd_fts_varint(const guint8 *p, gsize len, gsize *at, guint64 *value)
{
  guint64 v = 0;

  for (guint i = 0; i < 9; i++) {
    if (*at >= len)
      return FALSE;
    if (i == 8) {
      *value = (v << 8) | p[(*at)++];
      return TRUE;
    }
    v = (v << 7) | (p[*at] & 0x7f);
    if ((p[(*at)++] & 0x80) == 0) {
      *value = v;
      return TRUE;
    }
  }
  return FALSE;
}

/**
 * cd_archive_search_index_segments:
 * @self: a #CdArchive
 *
 * How many segments the full-text index is made of. Each page archived
 * adds to a small new segment and FTS5 merges them as they pile up, so an
 * index grown page by page holds a dozen or more at millions of pages; a
 * search that looks a page up in the index (a chart, a narrow type or
 * month against a common word) seeks in every one of them.
 * cd_archive_optimize_search_index() merges them into one.
 *
 * Returns: the number of segments, or -1 when the index's structure
 *   cannot be read
 *
 * Since: 0.4
 */
gint
cd_archive_search_index_segments(CdArchive *self)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const guint8 *block;
  gsize len, at = 4; /* after the 4-byte cookie: levels, then segments */
  guint64 levels = 0, segments = 0;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), -1);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  /* FTS5 keeps its structure record at id 10 of its %_data table */
  stmt = cd_archive_prepare(self, "SELECT block FROM pages_fts_data WHERE id = 10", NULL);
  if (stmt == NULL || sqlite3_step(stmt) != SQLITE_ROW)
    return -1;
  block = sqlite3_column_blob(stmt, 0);
  len = sqlite3_column_bytes(stmt, 0);
  if (block == NULL || !cd_fts_varint(block, len, &at, &levels) || !cd_fts_varint(block, len, &at, &segments) ||
      segments > G_MAXINT)
    return -1;
  return (gint) segments;
}

/**
 * cd_archive_optimize_search_index:
 * @self: a writable #CdArchive
 * @before: (out) (optional): the index's segments before, or -1
 * @after: (out) (optional): its segments after, or -1
 * @error: return location for a #GError
 *
 * Merges the full-text index into one segment (FTS5's `optimize`), in one
 * transaction: searches keep reading the index as it was until it
 * commits. It rewrites the whole index (265 s at 10 M pages on the
 * project's 2-core machine, the write-ahead log growing by the index's
 * size until it is checkpointed) and makes page lookups in the index
 * several times cheaper (decisions: "Filtered search at 10 M pages").
 * A retention run does the same after destroying documents. Needs the
 * configure permission; audited as `optimize-search-index`.
 *
 * Returns: %TRUE when the index was merged
 *
 * Since: 0.4
 */
gboolean
cd_archive_optimize_search_index(CdArchive *self, gint *before, gint *after, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  gint n_before, n_after;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require_writer(self, error) ||
      !cd_archive_require(self, CD_PERMISSION_CONFIGURE, "optimize the search index", "archive", error))
    return FALSE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  n_before = cd_archive_search_index_segments(self);
  if (!cd_archive_exec(self, "INSERT INTO pages_fts (pages_fts) VALUES ('optimize')", error))
    return FALSE;
  n_after = cd_archive_search_index_segments(self);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "segments_before");
  json_builder_add_int_value(b, n_before);
  json_builder_set_member_name(b, "segments_after");
  json_builder_add_int_value(b, n_after);
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  if (!cd_archive_audit(self, "optimize-search-index", "archive", detail, error))
    return FALSE;
  if (!cd_archive_txn_commit(txn, error))
    return FALSE;
  if (before != NULL)
    *before = n_before;
  if (after != NULL)
    *after = n_after;
  return TRUE;
}

/**
 * cd_archive_merge_search_index_step:
 * @self: a writable #CdArchive
 * @pages: about how many index pages this step may write
 * @more: (out): whether the index is not yet one segment after this step
 * @error: return location for a #GError
 *
 * One step of an incremental cd_archive_optimize_search_index(): FTS5's
 * `merge` with a negative page count merges every segment, whatever its
 * level, writing about @pages pages, in a transaction of its own. Short
 * steps (chartdeskd takes a thousand pages) let a service merge its
 * archive at night between readers' searches and
 * stop at any step: the merge state is in the index, and the next step
 * goes on from there. Needs the configure permission; not audited per
 * step (the caller audits the run: `merge-search-index`).
 *
 * Returns: %TRUE when the step was done
 *
 * Since: 0.4
 */
gboolean
cd_archive_merge_search_index_step(CdArchive *self, guint pages, gboolean *more, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(CdArchiveTxn) txn = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 changes;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), FALSE);
  g_return_val_if_fail(pages > 0 && pages <= G_MAXINT, FALSE);
  g_return_val_if_fail(more != NULL, FALSE);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  if (!cd_archive_require_writer(self, error) ||
      !cd_archive_require(self, CD_PERMISSION_CONFIGURE, "merge the search index", "archive", error))
    return FALSE;
  *more = FALSE;
  if (cd_archive_search_index_segments(self) <= 1)
    return TRUE;
  txn = cd_archive_txn_begin(self, error);
  if (txn == NULL)
    return FALSE;
  stmt = cd_archive_prepare(self, "INSERT INTO pages_fts (pages_fts, rank) VALUES ('merge', ?1)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int(stmt, 1, -(gint) pages);
  /* FTS5 did work when the statement changed two rows or more */
  changes = sqlite3_total_changes64(cd_archive_get_db(self));
  if (!cd_archive_step_done(self, stmt, error))
    return FALSE;
  changes = sqlite3_total_changes64(cd_archive_get_db(self)) - changes;
  if (!cd_archive_txn_commit(txn, error))
    return FALSE;
  *more = changes >= 2 && cd_archive_search_index_segments(self) > 1;
  return TRUE;
}
