/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SQLite archive, search: a set of page ids in memory, one bit a page,
 * and the SQL function that asks it whether it holds a page, so that a
 * search whose words drive checks each full-text match against its filters
 * without reading the match's page or document (issue 18). A keyed set
 * also knows each page's document type and year, for the facets of every
 * match, without reading its document either.
 */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "cd-archive-private.h"

/* The pointer type sqlite3_bind_pointer() passes a set under: SQL text
 * cannot forge one, so the function sees either a set or NULL. */
#define CD_PAGE_SET_POINTER "chartdesk-page-set"

/* A document's pages in a keyed set, and the key of its type and year */
typedef struct {
  gint64 first;
  gint64 last;
  guint key;
} CdPageRange;

typedef struct {
  gchar *type;
  gchar *year;
} CdPageKey;

struct _CdPageSet {
  guint64 *bits;
  gint64 max_id;
  gint64 count;
  /* a keyed set (cd_page_set_set_key()): its ranges, sorted by first
   * page once asked, and the keys they name */
  GArray *ranges;
  gboolean sorted;
  GPtrArray *keys;
};

static void
cd_page_key_free(CdPageKey *key)
{
  g_free(key->type);
  g_free(key->year);
  g_free(key);
}

/* A set for page ids 1 to @max_id: (@max_id + 63) / 64 words, 125 KiB
 * for a million pages. */
CdPageSet *
cd_page_set_new(gint64 max_id)
{
  CdPageSet *set = g_new0(CdPageSet, 1);

  set->max_id = MAX(max_id, 0);
  set->bits = g_new0(guint64, set->max_id / 64 + 1);
  return set;
}

void
cd_page_set_free(CdPageSet *set)
{
  if (set == NULL)
    return;
  g_free(set->bits);
  g_clear_pointer(&set->ranges, g_array_unref);
  g_clear_pointer(&set->keys, g_ptr_array_unref);
  g_free(set);
}

/* Notes, in a keyed set, that @first to @last are under the current key. */
static void
cd_page_set_note(CdPageSet *set, gint64 first, gint64 last)
{
  CdPageRange range = { first, last, set->keys->len - 1 };

  g_array_append_val(set->ranges, range);
  set->sorted = FALSE;
}

static void cd_page_set_mark(CdPageSet *set, gint64 id);

/* Adds @id; an id past the set's end (a page archived since the set was
 * sized) grows it. */
void
cd_page_set_add(CdPageSet *set, gint64 id)
{
  if (id <= 0)
    return;
  if (set->keys != NULL)
    cd_page_set_note(set, id, id);
  cd_page_set_mark(set, id);
}

static void
cd_page_set_mark(CdPageSet *set, gint64 id)
{
  guint64 bit;

  if (id <= 0)
    return;
  if (id > set->max_id) {
    gint64 words = set->max_id / 64 + 1;
    gint64 grown = MAX(id, set->max_id + set->max_id / 2) / 64 + 1;
    set->bits = g_renew(guint64, set->bits, grown);
    memset(set->bits + words, 0, (grown - words) * sizeof(guint64));
    set->max_id = grown * 64 - 1;
  }
  bit = G_GUINT64_CONSTANT(1) << (id % 64);
  if ((set->bits[id / 64] & bit) == 0) {
    set->bits[id / 64] |= bit;
    set->count++;
  }
}

/* Adds the pages @first to @last. */
void
cd_page_set_add_range(CdPageSet *set, gint64 first, gint64 last)
{
  first = MAX(first, 1);
  if (first > last)
    return;
  if (set->keys != NULL)
    cd_page_set_note(set, first, last);
  cd_page_set_mark(set, last); /* grows the set to hold the range */
  for (gint64 id = first; id < last;) {
    guint64 *word = &set->bits[id / 64];
    guint from = id % 64;
    guint to = (guint) MIN(63, from + (last - 1 - id)); /* the range's last bit in this word, before @last */
    guint64 mask = (to == 63 ? ~G_GUINT64_CONSTANT(0) : (G_GUINT64_CONSTANT(1) << (to + 1)) - 1) &
                   ~((G_GUINT64_CONSTANT(1) << from) - 1);
    set->count += __builtin_popcountll(mask & ~*word);
    *word |= mask;
    id += to - from + 1;
  }
}

gboolean
cd_page_set_contains(const CdPageSet *set, gint64 id)
{
  if (id <= 0 || id > set->max_id)
    return FALSE;
  return (set->bits[id / 64] >> (id % 64)) & 1;
}

/* How many pages the set holds. */
gint64
cd_page_set_count(const CdPageSet *set)
{
  return set->count;
}

/* Makes @set keyed: the pages added from now on are under @type and
 * @year (the document's; either may be NULL), until the next call. Pages
 * added before the first call are under no key. */
void
cd_page_set_set_key(CdPageSet *set, const gchar *type, const gchar *year)
{
  CdPageKey *key = g_new0(CdPageKey, 1);

  if (set->keys == NULL) {
    set->keys = g_ptr_array_new_with_free_func((GDestroyNotify) cd_page_key_free);
    set->ranges = g_array_new(FALSE, FALSE, sizeof(CdPageRange));
  }
  key->type = g_strdup(type);
  key->year = g_strdup(year);
  g_ptr_array_add(set->keys, key);
}

/* Whether @set is keyed (cd_page_set_set_key()). */
gboolean
cd_page_set_is_keyed(const CdPageSet *set)
{
  return set->keys != NULL;
}

/* Sorts the ranges by their first page: a radix sort, 16 bits a pass, as
 * many passes as the largest id needs (two at 10 M pages); qsort() of
 * 62,000 ranges costs milliseconds. */
static void
cd_page_set_sort(CdPageSet *set)
{
  guint n = set->ranges->len;
  g_autofree CdPageRange *tmp = g_new(CdPageRange, MAX(n, 1));
  g_autofree guint *counts = g_new(guint, 65537);
  CdPageRange *from = (CdPageRange *) (gpointer) set->ranges->data, *to = tmp;

  for (guint shift = 0; shift < 64 && (shift == 0 || (set->max_id >> shift) > 0); shift += 16) {
    CdPageRange *swap;
    memset(counts, 0, 65537 * sizeof(guint));
    for (guint i = 0; i < n; i++)
      counts[((guint64) from[i].first >> shift & 0xffff) + 1]++;
    for (guint d = 1; d < 65537; d++)
      counts[d] += counts[d - 1];
    for (guint i = 0; i < n; i++)
      to[counts[(guint64) from[i].first >> shift & 0xffff]++] = from[i];
    swap = from;
    from = to;
    to = swap;
  }
  if (from != (CdPageRange *) (gpointer) set->ranges->data)
    memcpy(set->ranges->data, from, n * sizeof(CdPageRange));
  set->sorted = TRUE;
}

/* The type and year page @id is under in a keyed set, or FALSE when the
 * set does not hold it under a key. */
gboolean
cd_page_set_lookup(CdPageSet *set, gint64 id, const gchar **type, const gchar **year)
{
  const CdPageRange *ranges;
  const CdPageKey *key;
  guint lo = 0, hi;

  if (set->keys == NULL || !cd_page_set_contains(set, id))
    return FALSE;
  if (!set->sorted)
    cd_page_set_sort(set);
  ranges = (const CdPageRange *) (gconstpointer) set->ranges->data;
  hi = set->ranges->len;
  /* the last range that begins at or before @id: the ranges of a set
   * never overlap (each is one document's pages) */
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if (ranges[mid].first <= id)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0 || ranges[lo - 1].last < id)
    return FALSE;
  key = g_ptr_array_index(set->keys, ranges[lo - 1].key);
  *type = key->type;
  *year = key->year;
  return TRUE;
}

/* cd_page_in_set(ID, SET): 1 when the set bound as SET holds page ID, else
 * 0; an error when SET is not a set (the statement was run without one). */
static void
cd_page_in_set_function(sqlite3_context *ctx, gint n_values, sqlite3_value **values)
{
  const CdPageSet *set = sqlite3_value_pointer(values[1], CD_PAGE_SET_POINTER);

  if (set == NULL) {
    sqlite3_result_error(ctx, "cd_page_in_set: no page set bound to the statement", -1);
    return;
  }
  sqlite3_result_int(ctx, cd_page_set_contains(set, sqlite3_value_int64(values[0])));
}

/* cd_page_in_set() on @db. Direct-only: a view or trigger cannot call it. */
gboolean
cd_page_set_register(sqlite3 *db)
{
  return sqlite3_create_function_v2(db, "cd_page_in_set", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY,
                                    NULL, cd_page_in_set_function, NULL, NULL, NULL) == SQLITE_OK;
}

/* Binds @set to parameter @idx of @stmt, for cd_page_in_set(); the set
 * must outlive the statement's use of it. */
gint
cd_page_set_bind(sqlite3_stmt *stmt, gint idx, CdPageSet *set)
{
  return sqlite3_bind_pointer(stmt, idx, set, CD_PAGE_SET_POINTER, NULL);
}
