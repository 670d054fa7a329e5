/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <chartdesk.h>

#include "cd-ocr-fixes.h"

static gchar *
fixed_text(const gchar *in, guint *count)
{
  gchar *text = g_strdup(in);
  *count = cd_ocr_fix_pronoun_text(text);
  return text;
}

/* "|" and a leading "!" before a lower-case word are the pronoun I. */
static void
test_pronoun_text(void)
{
  guint n;
  g_autofree gchar *a = fixed_text("| consent to appendectomy.\n| have had the opportunity.", &n);
  g_autofree gchar *b = fixed_text("RISKS\n! consent to open reduction", &n);
  g_autofree gchar *c = fixed_text("explained to me, and | have asked", &n);

  g_assert_cmpstr(a, ==, "I consent to appendectomy.\nI have had the opportunity.");
  g_assert_cmpstr(b, ==, "RISKS\nI consent to open reduction");
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmpstr(c, ==, "explained to me, and I have asked");
}

/* A lone "{" or "}" starting a line before a lower-case word is I too;
 * before "of" no mark is (a page number). */
static void
test_pronoun_text_braces(void)
{
  guint n;
  g_autofree gchar *a = fixed_text("PROCEDURE\n} consent to surgery.\nRISKS. .\n{ have had the opportunity.", &n);
  g_autofree gchar *b = fixed_text("and then } consent", &n);
  g_autofree gchar *c = fixed_text("Page | of 2\n} of them\nseen | of old", &n);
  g_autofree gchar *d = fixed_text("{ offered it", &n);

  g_assert_cmpstr(a, ==, "PROCEDURE\nI consent to surgery.\nRISKS. .\nI have had the opportunity.");
  g_assert_cmpstr(b, ==, "and then } consent");
  g_assert_cmpstr(c, ==, "Page | of 2\n} of them\nseen | of old");
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmpstr(d, ==, "I offered it");
}

/* Rules between table cells, a "!" after a word, marks inside words and
 * marks before numbers or capitals stay as read. */
static void
test_pronoun_text_kept(void)
{
  const gchar *kept[] = {
    "Sodium | 140 | mmol/L",
    "Name | Value",
    "Dose: 5 | units",
    "ward 4 | and",
    "Code | 12 | see | note",
    "Stop! now",
    "a|b c",
    "||| rule",
    "Well ! done",
    "end |",
    "|",
  };

  for (guint i = 0; i < G_N_ELEMENTS(kept); i++) {
    guint n;
    g_autofree gchar *t = fixed_text(kept[i], &n);
    g_assert_cmpstr(t, ==, kept[i]);
    g_assert_cmpuint(n, ==, 0);
  }
}

static GPtrArray *
words_of(const gchar *const *texts, const guint *lines, guint n)
{
  GPtrArray *words = g_ptr_array_new_with_free_func((GDestroyNotify) cd_word_free);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add(words, cd_word_new(texts[i], 10 * (gint) i, 0, 8, 10, 90.f, lines[i]));
  return words;
}

/* The word boxes get the same correction, line by line. */
static void
test_pronoun_words(void)
{
  const gchar *texts[] = { "|",     "have", "had", "it",    "!", "now", "!", "consent", "|", "|",
                           "Total", "DOSE", "|",   "units", "a", "|",   "b", "|",       "c" };
  const guint lines[] = { 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5, 5 };
  g_autoptr(GPtrArray) words = words_of(texts, lines, G_N_ELEMENTS(texts));
  const gchar *want[] = { "I",     "have", "had", "it",    "!", "now", "I", "consent", "|", "|",
                          "Total", "DOSE", "|",   "units", "a", "|",   "b", "|",       "c" };

  g_assert_cmpuint(cd_ocr_fix_pronoun_words(words), ==, 2);
  for (guint i = 0; i < words->len; i++)
    g_assert_cmpstr(((CdWord *) g_ptr_array_index(words, i))->text, ==, want[i]);
}

/* Braces at a line's start are I; a page number's "|" before "of" stays. */
static void
test_pronoun_words_braces(void)
{
  const gchar *texts[] = { "}", "consent", "to", "it", "Page", "|", "of", "2", "{", "have", "a", "}", "b", "}}", "c" };
  const guint lines[] = { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4 };
  g_autoptr(GPtrArray) words = words_of(texts, lines, G_N_ELEMENTS(texts));
  const gchar *want[] = { "I", "consent", "to", "it", "Page", "|", "of", "2", "I", "have", "a", "}", "b", "}}", "c" };

  g_assert_cmpuint(cd_ocr_fix_pronoun_words(words), ==, 2);
  for (guint i = 0; i < words->len; i++)
    g_assert_cmpstr(((CdWord *) g_ptr_array_index(words, i))->text, ==, want[i]);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chartdesk/tesseract/pronoun-text", test_pronoun_text);
  g_test_add_func("/chartdesk/tesseract/pronoun-text-kept", test_pronoun_text_kept);
  g_test_add_func("/chartdesk/tesseract/pronoun-text-braces", test_pronoun_text_braces);
  g_test_add_func("/chartdesk/tesseract/pronoun-words", test_pronoun_words);
  g_test_add_func("/chartdesk/tesseract/pronoun-words-braces", test_pronoun_words_braces);
  return g_test_run();
}
