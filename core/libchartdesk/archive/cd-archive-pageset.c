/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SQLite archive, search: a set of page ids in memory, one bit a page,
 * and the SQL function that asks it whether it holds a page, so that a
 * search whose words drive checks each full-text match against its filters
 * without reading the match's page or document (issue 18).
 */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "cd-archive-private.h"

/* The pointer type sqlite3_bind_pointer() passes a set under: SQL text
 * cannot forge one, so the function sees either a set or NULL. */
#define CD_PAGE_SET_POINTER "chartdesk-page-set"

struct _CdPageSet {
  guint64 *bits;
  gint64 max_id;
  gint64 count;
};

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
  g_free(set);
}

/* Adds @id; an id past the set's end (a page archived since the set was
 * sized) grows it. */
void
cd_page_set_add(CdPageSet *set, gint64 id)
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
  cd_page_set_add(set, last); /* grows the set to hold the range */
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
