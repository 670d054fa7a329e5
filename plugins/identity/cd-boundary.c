/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A page's own evidence of starting a document. Titles are found by layout
 * as well as by wording: among the lines at the top of the page, a short
 * line whose type is larger than the page's body text, or whose strokes
 * are heavier (more ink per box: bold), or that is centred, whatever its
 * case. Tesseract's LSTM engine reports no font attributes, so size comes
 * from the word boxes and weight from the ink inside them.
 *
 * Every feature is a number in a small range (mostly 0 or 1), named, so
 * the splitter can weigh it with the weights learned from labelled charts
 * (tests/bench/train_boundaries.py) and record what it weighed.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cd-boundary.h"
#include "cd-identity-common.h"

typedef struct {
  GString *text;
  gint left, top, right, bottom;
  guint words;
  gdouble height; /* median word height */
  gdouble ink;    /* share of dark pixels inside the word boxes */
} CdTextLine;

static void
cd_text_line_free(CdTextLine *line)
{
  g_string_free(line->text, TRUE);
  g_free(line);
}

static gint
cd_double_cmp(gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y ? 1 : 0;
}

static gdouble
cd_median(GArray *values)
{
  if (values->len == 0)
    return 0.0;
  g_array_sort(values, cd_double_cmp);
  return g_array_index(values, gdouble, values->len / 2);
}

/* Dark pixels and area of a word box; the page image may be bilevel, grey
 * or colour. */
static void
cd_boundary_ink(PIX *pix, const CdWord *word, gdouble *dark, gdouble *area)
{
  BOX *box;
  g_autoptr(PIX) clip = NULL;
  g_autoptr(PIX) grey = NULL;
  g_autoptr(PIX) bin = NULL;
  l_int32 count = 0;

  if (pix == NULL || word->width <= 0 || word->height <= 0)
    return;
  box = boxCreate(word->x, word->y, word->width, word->height);
  clip = pixClipRectangle(pix, box, NULL);
  boxDestroy(&box);
  if (clip == NULL)
    return;
  if (pixGetDepth(clip) == 1) {
    bin = pixClone(clip);
  } else {
    grey = pixGetDepth(clip) == 32 ? pixConvertRGBToLuminance(clip) : pixConvertTo8(clip, FALSE);
    if (grey == NULL)
      return;
    bin = pixThresholdToBinary(grey, 128);
  }
  if (bin == NULL || pixCountPixels(bin, &count, NULL) != 0)
    return;
  *dark += count;
  *area += (gdouble) word->width * word->height;
}

/* The page's words grouped into lines (Tesseract's line numbers), in
 * reading order, with their box, median word height and ink. */
static GPtrArray *
cd_boundary_lines(CdPage *page)
{
  GPtrArray *words = cd_page_get_words(page);
  PIX *pix = cd_page_get_pix(page);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func((GDestroyNotify) cd_text_line_free);
  g_autoptr(GHashTable) by_number = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_autoptr(GPtrArray) heights = g_ptr_array_new_with_free_func((GDestroyNotify) g_array_unref);
  g_autoptr(GArray) dark = g_array_new(FALSE, TRUE, sizeof(gdouble));
  g_autoptr(GArray) area = g_array_new(FALSE, TRUE, sizeof(gdouble));

  for (guint i = 0; words != NULL && i < words->len; i++) {
    const CdWord *w = g_ptr_array_index(words, i);
    guint alnum = 0;
    CdTextLine *line;
    gpointer idx;

    for (const gchar *p = w->text; p != NULL && *p != '\0'; p++)
      alnum += g_ascii_isalnum(*p) ? 1 : 0;
    if (alnum == 0)
      continue; /* specks and rules read as punctuation */
    if (!g_hash_table_lookup_extended(by_number, GUINT_TO_POINTER(w->line), NULL, &idx)) {
      gdouble zero = 0.0;
      line = g_new0(CdTextLine, 1);
      line->text = g_string_new(NULL);
      line->left = w->x;
      line->top = w->y;
      line->right = w->x + w->width;
      line->bottom = w->y + w->height;
      idx = GUINT_TO_POINTER(lines->len);
      g_hash_table_insert(by_number, GUINT_TO_POINTER(w->line), idx);
      g_ptr_array_add(lines, line);
      g_ptr_array_add(heights, g_array_new(FALSE, FALSE, sizeof(gdouble)));
      g_array_append_val(dark, zero);
      g_array_append_val(area, zero);
    }
    line = g_ptr_array_index(lines, GPOINTER_TO_UINT(idx));
    if (line->text->len > 0)
      g_string_append_c(line->text, ' ');
    g_string_append(line->text, w->text);
    line->left = MIN(line->left, w->x);
    line->top = MIN(line->top, w->y);
    line->right = MAX(line->right, w->x + w->width);
    line->bottom = MAX(line->bottom, w->y + w->height);
    line->words++;
    {
      gdouble h = w->height;
      g_array_append_val(g_ptr_array_index(heights, GPOINTER_TO_UINT(idx)), h);
    }
    cd_boundary_ink(pix, w, &g_array_index(dark, gdouble, GPOINTER_TO_UINT(idx)),
                    &g_array_index(area, gdouble, GPOINTER_TO_UINT(idx)));
  }
  if (lines->len == 0 && cd_page_get_text(page) != NULL) {
    /* text without word boxes (another OCR, a text layer): the lines of
     * the text, with wording and case but no size, weight or place */
    g_auto(GStrv) texts = g_strsplit(cd_page_get_text(page), "\n", -1);
    for (guint i = 0; texts[i] != NULL; i++) {
      const gchar *t = g_strstrip(texts[i]);
      CdTextLine *line;
      gdouble zero = 0.0;
      if (*t == '\0')
        continue;
      line = g_new0(CdTextLine, 1);
      line->text = g_string_new(t);
      line->words = 1;
      for (const gchar *c = t; *c != '\0'; c++)
        line->words += *c == ' ' ? 1 : 0;
      g_ptr_array_add(lines, line);
      g_ptr_array_add(heights, g_array_new(FALSE, FALSE, sizeof(gdouble)));
      g_array_append_val(dark, zero);
      g_array_append_val(area, zero);
    }
  }
  for (guint i = 0; i < lines->len; i++) {
    CdTextLine *line = g_ptr_array_index(lines, i);
    gdouble a = g_array_index(area, gdouble, i);
    line->height = cd_median(g_ptr_array_index(heights, i));
    line->ink = a > 0 ? g_array_index(dark, gdouble, i) / a : 0.0;
  }
  return g_steal_pointer(&lines);
}

/* Whether @line holds one of @words as a whole word, ignoring case. */
static gboolean
cd_boundary_has_word(gchar **words, const gchar *line)
{
  g_autofree gchar *upper = g_ascii_strup(line, -1);

  for (guint i = 0; words != NULL && words[i] != NULL; i++) {
    g_autofree gchar *w = g_ascii_strup(words[i], -1);
    gsize len = strlen(w);
    for (const gchar *hit = strstr(upper, w); hit != NULL && len > 0; hit = strstr(hit + 1, w)) {
      if ((hit == upper || !g_ascii_isalpha(hit[-1])) && !g_ascii_isalpha(hit[len]))
        return TRUE;
    }
  }
  return FALSE;
}

/* Words that name a kind of document, whatever the hospital calls it; the
 * header stage's `title-words` are added to them. */
static const gchar *const kind_words[] = {
  "SUMMARY",      "REPORT",     "NOTE",           "NOTES",      "RECORD",
  "RESULTS",      "CONSENT",    "LETTER",         "HISTORY",    "PHYSICAL",
  "CONSULTATION", "CONSULT",    "EXAMINATION",    "PROCEDURE",  "PATHOLOGY",
  "RADIOLOGY",    "LABORATORY", "EMERGENCY",      "OPERATIVE",  "OPERATION",
  "DISCHARGE",    "PROGRESS",   "NURSING",        "MEDICATION", "ADMISSION",
  "REFERRAL",     "IMAGING",    "AUTHORIZATION",  "ASSESSMENT", "FLOWSHEET",
  "ORDERS",       "H&P",        "CORRESPONDENCE", "CYTOLOGY",   "BIOPSY",
  "SURGICAL",     "SURGERY",    "ULTRASOUND",     "MRI",        "CT",
  NULL,
};

static gboolean
cd_boundary_mostly_upper(const gchar *s)
{
  guint letters = 0, upper = 0;
  for (const gchar *p = s; *p != '\0'; p++) {
    if (g_ascii_isalpha(*p)) {
      letters++;
      upper += g_ascii_isupper(*p) ? 1 : 0;
    }
  }
  return letters >= 4 && upper * 10 >= letters * 9;
}

static gboolean
cd_boundary_title_case(const gchar *s)
{
  g_auto(GStrv) words = g_strsplit(s, " ", -1);
  guint caps = 0, n = 0;
  for (guint i = 0; words[i] != NULL; i++) {
    if (strlen(words[i]) < 4)
      continue; /* and, of, the */
    n++;
    caps += g_ascii_isupper(words[i][0]) ? 1 : 0;
  }
  return n > 0 && caps == n;
}

/* Whether @s reads as a section heading rather than a document's title:
 * it ends with a colon (`PHYSICAL EXAMINATION:`), which opens a section
 * of the text below it. A document's title names the document and stands
 * alone; a section heading on top of a page, however bold or large, is
 * the body running on from the page before. */
static gboolean
cd_boundary_section_heading(const gchar *s)
{
  gsize len = strlen(s);

  while (len > 0 && g_ascii_isspace(s[len - 1]))
    len--;
  return len > 0 && s[len - 1] == ':';
}

static guint
cd_boundary_count(const gchar *s, gboolean (*pred)(gchar))
{
  guint n = 0;
  for (const gchar *p = s; *p != '\0'; p++)
    n += pred(*p) ? 1 : 0;
  return n;
}

static gboolean
cd_is_digit(gchar c)
{
  return g_ascii_isdigit(c);
}

static gboolean
cd_is_alpha(gchar c)
{
  return g_ascii_isalpha(c);
}

static gdouble
cd_clamp(gdouble v, gdouble lo, gdouble hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * cd_boundary_page_features:
 * @page: a page with OCR words (and the header stage's facts)
 * @title_words: the header stage's title words
 * @title_line: (out) (transfer full) (optional): the line taken for a title
 *
 * Looks at the first lines of the page (the top 45%, at most eight lines)
 * for the line that looks most like a title: few words, letters and no
 * long numbers, not a "Label: value" field, and a section heading (a line
 * ending with a colon) only when no other line qualifies. Its size is its median word
 * height over the page's median line height, its weight its ink share
 * over the page's median; a line is centred when both its margins are
 * well inside the text block and about equal. Reports, as a{sd}:
 * `title-size` (0–1.5: how much larger), `title-ink` (−0.5–1: how much
 * heavier), `title-centred`, `title-caps`, `title-titlecase`,
 * `title-kind-word` (names a kind of document), `title-found` (a short
 * candidate exists at all), `title-rank` (0 first line … 1 eighth),
 * `title-heading` (it ends with a colon: a section heading, not a title),
 * `continued` (the top says "continued"), and 0/1 facts of the header:
 * `has-mrn`, `has-name`, `has-dob`, `has-date`, `header-title`,
 * `page-one`, `page-later`, `page-last`.
 */
GVariant *
cd_boundary_page_features(CdPage *page, gchar **title_words, gchar **title_line)
{
  g_autoptr(GPtrArray) lines = cd_boundary_lines(page);
  g_autoptr(GArray) heights = g_array_new(FALSE, FALSE, sizeof(gdouble));
  g_autoptr(GArray) inks = g_array_new(FALSE, FALSE, sizeof(gdouble));
  g_autoptr(GVariant) page_of = cd_page_get_fact(page, CD_FACT_HEADER_PAGE);
  g_autoptr(GVariant) mrn = cd_page_get_fact(page, CD_FACT_HEADER_MRN);
  g_autoptr(GVariant) family = cd_page_get_fact(page, CD_FACT_HEADER_FAMILY);
  g_autoptr(GVariant) dob = cd_page_get_fact(page, CD_FACT_HEADER_DOB);
  g_autoptr(GVariant) date = cd_page_get_fact(page, CD_FACT_HEADER_DATE);
  g_autoptr(GVariant) htitle = cd_page_get_fact(page, CD_FACT_HEADER_TITLE);
  PIX *pix = cd_page_get_pix(page);
  gint page_h = pix != NULL ? pixGetHeight(pix) : 0;
  gint text_left = G_MAXINT, text_right = 0;
  gdouble med_h, med_ink;
  gdouble best = 0.25; /* a candidate needs some evidence: size, weight, place or wording */
  CdTextLine *title = NULL;
  guint title_rank = 0;
  gdouble best_heading = 0.25; /* the same among section headings */
  CdTextLine *heading = NULL;
  guint heading_rank = 0;
  gboolean continued = FALSE;
  GVariantBuilder b;

  for (guint i = 0; i < lines->len; i++) {
    CdTextLine *line = g_ptr_array_index(lines, i);
    if (line->words >= 3) { /* body lines set the norm */
      g_array_append_val(heights, line->height);
      g_array_append_val(inks, line->ink);
    }
    text_left = MIN(text_left, line->left);
    text_right = MAX(text_right, line->right);
    page_h = MAX(page_h, line->bottom);
  }
  med_h = cd_median(heights);
  med_ink = cd_median(inks);

  for (guint i = 0, seen = 0; i < lines->len && seen < 8; i++) {
    CdTextLine *line = g_ptr_array_index(lines, i);
    const gchar *s = line->text->str;
    gdouble size, ink, score;
    gint lm, rm, width = text_right - text_left;
    gboolean centred;
    if (page_h > 0 && line->top > page_h * 0.45)
      break;
    seen++;
    if (g_strstr_len(s, -1, "ontinued") != NULL || g_strstr_len(s, -1, "ONTINUED") != NULL ||
        g_strstr_len(s, -1, "(cont") != NULL)
      continued = TRUE;
    if (line->words > 8 || cd_boundary_count(s, cd_is_alpha) < 4 || cd_boundary_count(s, cd_is_digit) > 4)
      continue;
    if (strchr(s, ':') != NULL && strchr(s, ':')[1] != '\0')
      continue; /* "Patient: …", "Date: …": a field, not a title */
    size = med_h > 0 ? line->height / med_h - 1.0 : 0.0;
    ink = med_ink > 0 ? line->ink / med_ink - 1.0 : 0.0;
    lm = line->left - text_left;
    rm = text_right - line->right;
    centred = width > 0 && lm > width / 10 && rm > width / 10 && ABS(lm - rm) < width / 12;
    score = 2 * cd_clamp(size, 0, 1.5) + 2 * cd_clamp(ink, 0, 1) + (centred ? 0.5 : 0) +
            (cd_boundary_has_word((gchar **) kind_words, s) || cd_boundary_has_word(title_words, s) ? 1.0 : 0.0);
    if (cd_boundary_section_heading(s)) {
      if (score > best_heading) {
        best_heading = score;
        heading = line;
        heading_rank = seen - 1;
      }
    } else if (score > best) {
      best = score;
      title = line;
      title_rank = seen - 1;
    }
  }
  /* a section heading is the page's title only when nothing else is: on a
   * document's first page the printed title, however plain, comes first */
  if (title == NULL && heading != NULL) {
    title = heading;
    title_rank = heading_rank;
  }

  g_variant_builder_init(&b, G_VARIANT_TYPE("a{sd}"));
  if (title != NULL) {
    const gchar *s = title->text->str;
    gint lm = title->left - text_left, rm = text_right - title->right, width = text_right - text_left;
    g_variant_builder_add(&b, "{sd}", "title-found", 1.0);
    g_variant_builder_add(&b, "{sd}", "title-size", med_h > 0 ? cd_clamp(title->height / med_h - 1.0, 0, 1.5) : 0);
    g_variant_builder_add(&b, "{sd}", "title-ink", med_ink > 0 ? cd_clamp(title->ink / med_ink - 1.0, -0.5, 1) : 0);
    g_variant_builder_add(&b, "{sd}", "title-centred",
                          width > 0 && lm > width / 10 && rm > width / 10 && ABS(lm - rm) < width / 12 ? 1.0 : 0.0);
    g_variant_builder_add(&b, "{sd}", "title-caps", cd_boundary_mostly_upper(s) ? 1.0 : 0.0);
    g_variant_builder_add(&b, "{sd}", "title-titlecase",
                          !cd_boundary_mostly_upper(s) && cd_boundary_title_case(s) ? 1.0 : 0.0);
    g_variant_builder_add(&b, "{sd}", "title-kind-word",
                          cd_boundary_has_word((gchar **) kind_words, s) || cd_boundary_has_word(title_words, s) ? 1.0
                                                                                                                 : 0.0);
    g_variant_builder_add(&b, "{sd}", "title-rank", title_rank / 7.0);
    g_variant_builder_add(&b, "{sd}", "title-heading", cd_boundary_section_heading(s) ? 1.0 : 0.0);
    if (title_line != NULL)
      *title_line = g_strdup(s);
  }
  g_variant_builder_add(&b, "{sd}", "continued", continued ? 1.0 : 0.0);
  g_variant_builder_add(&b, "{sd}", "has-mrn", mrn != NULL ? 1.0 : 0.0);
  g_variant_builder_add(&b, "{sd}", "has-name", family != NULL ? 1.0 : 0.0);
  g_variant_builder_add(&b, "{sd}", "has-dob", dob != NULL ? 1.0 : 0.0);
  g_variant_builder_add(&b, "{sd}", "has-date", date != NULL ? 1.0 : 0.0);
  g_variant_builder_add(&b, "{sd}", "header-title", htitle != NULL ? 1.0 : 0.0);
  if (page_of != NULL && g_variant_is_of_type(page_of, G_VARIANT_TYPE("(uu)"))) {
    guint32 n, m;
    g_variant_get(page_of, "(uu)", &n, &m);
    g_variant_builder_add(&b, "{sd}", "page-one", n == 1 ? 1.0 : 0.0);
    g_variant_builder_add(&b, "{sd}", "page-later", n > 1 ? 1.0 : 0.0);
    g_variant_builder_add(&b, "{sd}", "page-last", n == m ? 1.0 : 0.0);
  }
  return g_variant_ref_sink(g_variant_builder_end(&b));
}
