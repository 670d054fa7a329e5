/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Text forms that survive OCR noise, shared by the rules classifier and its
 * tests. OCR breaks words at line ends with hyphens, splits them with stray
 * spaces, changes case, and misreads single letters; each form below undoes
 * one of these so that a rule written once matches the damaged text.
 */
#include "config.h"

#include <string.h>

#include "cd-classify-text.h"

/*
 * The "joined" form, for regular expressions: a word hyphenated across a
 * line break is put back together (`dis-\ncharge` → `discharge`), and runs
 * of spaces and tabs become one space. Lines stay lines.
 */
gchar *
cd_classify_text_join(const gchar *text)
{
  GString *out = g_string_sized_new(strlen(text));

  for (const gchar *p = text; *p != '\0'; p++) {
    if (*p == '-' && out->len > 0 && g_ascii_isalpha(out->str[out->len - 1])) {
      const gchar *q = p + 1;
      while (*q == ' ' || *q == '\t' || *q == '\r')
        q++;
      if (*q == '\n') {
        q++;
        while (*q == ' ' || *q == '\t')
          q++;
        if (g_ascii_islower(*q) || g_ascii_isupper(*q)) {
          p = q - 1;
          continue;
        }
      }
    }
    if (*p == ' ' || *p == '\t' || *p == '\r') {
      if (out->len > 0 && out->str[out->len - 1] != ' ' && out->str[out->len - 1] != '\n')
        g_string_append_c(out, ' ');
      continue;
    }
    g_string_append_c(out, *p);
  }
  return g_string_free(out, FALSE);
}

/*
 * The "flat" form, for titles and keywords: joined, case-folded, accents
 * dropped, and every run of characters that are not letters or digits made
 * one space, with a space at each end, so that ` hospital course ` matches
 * whole words whatever the punctuation and line breaks between them.
 */
gchar *
cd_classify_text_flatten(const gchar *text)
{
  g_autofree gchar *joined = cd_classify_text_join(text);
  g_autofree gchar *folded = g_utf8_casefold(joined, -1);
  g_autofree gchar *ascii = g_str_to_ascii(folded, "C");
  GString *out = g_string_sized_new(strlen(ascii) + 2);

  g_string_append_c(out, ' ');
  for (const gchar *p = ascii; *p != '\0'; p++) {
    if (g_ascii_isalnum(*p))
      g_string_append_c(out, g_ascii_tolower(*p));
    else if (out->str[out->len - 1] != ' ')
      g_string_append_c(out, ' ');
  }
  if (out->str[out->len - 1] != ' ')
    g_string_append_c(out, ' ');
  return g_string_free(out, FALSE);
}

/*
 * The "squeezed" form of a flat text: without spaces, so a word OCR broke
 * in two (`DIS CHARGE SUMM ARY`) matches its title (`dischargesummary`).
 */
gchar *
cd_classify_text_squeeze(const gchar *flat)
{
  GString *out = g_string_sized_new(strlen(flat));
  for (const gchar *p = flat; *p != '\0'; p++) {
    if (*p != ' ')
      g_string_append_c(out, *p);
  }
  return g_string_free(out, FALSE);
}

/*
 * Whether @needle occurs in @haystack with at most @max_edits letters
 * changed, dropped or added (Sellers' approximate substring match: the
 * edit distance of @needle to the best substring, in one pass of a column
 * of @needle's length). OCR misreads (`D1SCHARGE`, `DISCHARGF`) cost one
 * edit each.
 */
gboolean
cd_classify_text_find_approx(const gchar *haystack, const gchar *needle, guint max_edits)
{
  gsize m = strlen(needle);
  g_autofree guint *col = NULL;

  if (m == 0)
    return TRUE;
  if (max_edits == 0)
    return strstr(haystack, needle) != NULL;
  col = g_new(guint, m + 1);
  for (gsize i = 0; i <= m; i++)
    col[i] = i;
  for (const gchar *p = haystack; *p != '\0'; p++) {
    guint diag = 0; /* the row above, one column back: a match may start anywhere */
    col[0] = 0;
    for (gsize i = 1; i <= m; i++) {
      guint up = col[i];
      guint best = diag + (needle[i - 1] == *p ? 0 : 1);
      best = MIN(best, col[i - 1] + 1);
      best = MIN(best, up + 1);
      diag = up;
      col[i] = best;
    }
    if (col[m] <= max_edits)
      return TRUE;
  }
  return FALSE;
}
