/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "cd-ocr-fixes.h"

/*
 * The pronoun "I" in a sans-serif face is one vertical stroke, and
 * Tesseract reads it as "|" (or, with a speck above it, "!"). A lone "|"
 * is taken for "I" when a word in lower case follows it and it starts its
 * line or follows a word in lower case or punctuation, and no other "|"
 * is on the line: a rule between table cells stands between numbers,
 * capitals or other rules. A lone "!" is taken for "I" only at the start
 * of a line, where an exclamation mark cannot stand, and so are a lone "{"
 * and "}" (a serif I with specks beside it). No mark is taken for "I"
 * before "of": "Page | of 2" is a page number, and the pronoun does not
 * stand before "of". All are one byte, so the text is corrected in place
 * and keeps its length.
 */

static gboolean
cd_ocr_fix_is_line_start_mark(gchar c)
{
  return c == '!' || c == '{' || c == '}';
}

/* Whether @s starts with the word "of" */
static gboolean
cd_ocr_fix_is_of(const gchar *s)
{
  return s[0] == 'o' && s[1] == 'f' && !g_ascii_isalnum(s[2]);
}

static gboolean
cd_ocr_fix_is_sentence_end(gchar c)
{
  return (c >= 'a' && c <= 'z') || c == ',' || c == '.' || c == ';' || c == ':';
}

static gboolean
cd_ocr_fix_is_lower_word(const gchar *s)
{
  return s[0] >= 'a' && s[0] <= 'z';
}

/* Rewrites @text in place; returns how many marks became "I". */
guint
cd_ocr_fix_pronoun_text(gchar *text)
{
  guint fixed = 0;

  g_return_val_if_fail(text != NULL, 0);

  for (gchar *p = text; *p != '\0'; p++) {
    gboolean line_start, alone;
    const gchar *next;

    if (*p != '|' && !cd_ocr_fix_is_line_start_mark(*p))
      continue;
    line_start = TRUE;
    for (const gchar *q = p; q > text && q[-1] != '\n'; q--) {
      if (q[-1] != ' ' && q[-1] != '\t') {
        line_start = FALSE;
        break;
      }
    }
    alone = (p == text || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n') && p[1] == ' ';
    if (!alone)
      continue;
    next = p + 1;
    while (*next == ' ')
      next++;
    if (!cd_ocr_fix_is_lower_word(next) || cd_ocr_fix_is_of(next))
      continue;
    if (*p != '|' && !line_start)
      continue;
    if (*p == '|' && !line_start) {
      const gchar *q = p - 1;
      while (q > text && (*q == ' ' || *q == '\t'))
        q--;
      if (!cd_ocr_fix_is_sentence_end(*q))
        continue;
    }
    if (*p == '|') {
      const gchar *bol = p, *eol = strchr(p + 1, '\n');
      while (bol > text && bol[-1] != '\n')
        bol--;
      if (memchr(bol, '|', (gsize) (p - bol)) != NULL ||
          memchr(p + 1, '|', eol != NULL ? (gsize) (eol - p - 1) : strlen(p + 1)) != NULL)
        continue;
    }
    *p = 'I';
    fixed++;
  }
  return fixed;
}

/* The same correction on recognised words (#CdWord, in reading order);
 * returns how many were corrected. */
guint
cd_ocr_fix_pronoun_words(GPtrArray *words)
{
  guint fixed = 0;

  g_return_val_if_fail(words != NULL, 0);

  for (guint i = 0; i + 1 < words->len; i++) {
    CdWord *w = g_ptr_array_index(words, i);
    CdWord *next = g_ptr_array_index(words, i + 1);
    gboolean line_start = i == 0 || ((CdWord *) g_ptr_array_index(words, i - 1))->line != w->line;

    if (w->text == NULL || next->text == NULL || next->line != w->line)
      continue;
    if (w->text[0] == '\0' || w->text[1] != '\0' || (w->text[0] != '|' && !cd_ocr_fix_is_line_start_mark(w->text[0])))
      continue;
    if (w->text[0] != '|' && !line_start)
      continue;
    if (!cd_ocr_fix_is_lower_word(next->text) || cd_ocr_fix_is_of(next->text))
      continue;
    if (w->text[0] == '|') {
      const CdWord *prev = line_start ? NULL : g_ptr_array_index(words, i - 1);
      gboolean table = FALSE;

      if (prev != NULL && (prev->text == NULL || prev->text[0] == '\0' ||
                           !cd_ocr_fix_is_sentence_end(prev->text[strlen(prev->text) - 1])))
        continue;
      for (guint j = 0; j < words->len && !table; j++) {
        const CdWord *o = g_ptr_array_index(words, j);
        table = j != i && o->line == w->line && o->text != NULL && strchr(o->text, '|') != NULL;
      }
      if (table)
        continue;
    }
    w->text[0] = 'I';
    fixed++;
  }
  return fixed;
}
