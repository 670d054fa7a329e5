/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `header` page stage: reads the identifiers hospitals print at the top
 * (and foot) of chart pages — MRN, patient name, date of birth — plus a
 * document title and "Page N of M", from the page's OCR text, with
 * configurable regular expressions. It only reads; deciding who the page
 * belongs to is the `patient-link` stage's job, against the patient index.
 */
#include "config.h"

#include <string.h>

#include "cd-boundary.h"
#include "cd-header-stage.h"
#include "cd-identity-common.h"

struct _CdHeaderStage {
  CdPageStage parent_instance;
  gchar **mrn_patterns;
  gchar **name_patterns;
  gchar **dob_patterns;
  gchar **date_patterns;
  gchar *page_pattern;
  gchar **title_words;
  guint header_lines;
  guint footer_lines;
  CdDateOrder date_order;
  /* compiled in start() */
  GPtrArray *mrn_res;
  GPtrArray *name_res;
  GPtrArray *dob_res;
  GPtrArray *date_res;
  GRegex *page_re;
};

G_DEFINE_FINAL_TYPE(CdHeaderStage, cd_header_stage, CD_TYPE_PAGE_STAGE)

enum {
  PROP_0,
  PROP_MRN_PATTERNS,
  PROP_NAME_PATTERNS,
  PROP_DOB_PATTERNS,
  PROP_DATE_PATTERNS,
  PROP_PAGE_PATTERN,
  PROP_TITLE_WORDS,
  PROP_HEADER_LINES,
  PROP_FOOTER_LINES,
  PROP_DATE_ORDER,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

/* Labels are matched in any case; the values are taken as read. A label
 * must precede the value on the same line: a bare number or name in the
 * body of a note is never taken for an identifier. */
#define CD_MRN_CHARS "[0-9OoDQlI|SsBZ]"
static const gchar *const default_mrn_patterns[] = {
  "(?i:\\bMRN|\\bM\\.R\\.N\\.|\\bMED(?:ICAL)?\\.?[ \\t]*REC(?:ORD)?\\.?(?:[ \\t]*(?:NO|NUM(?:BER)?)\\b\\.?)?|"
  "\\bMEDICAL[ \\t]+RECORD[ \\t]+NUMBER|\\bCHART[ \\t]*(?:NO|NUMBER)\\b\\.?)[ \\t]*[:#.]?[ \\t]*#?[ \\t]*"
  "(?<mrn>" CD_MRN_CHARS "{6,10})(?![0-9A-Za-z])",
  "(?:^|[ \\t])#[ \\t]?(?<mrn>[0-9][0-9OoDlI|SsBZ]{5,9})(?![0-9A-Za-z])",
  NULL,
};

#define CD_NAME_PART "[A-Z][A-Za-z0-9'\\-]+"
static const gchar *const default_name_patterns[] = {
  /* NAME: DOE, JANE A.   Patient Name: O'Brien, Mary */
  "(?i:\\bPATIENT[ \\t]+NAME|\\bPATIENT|\\bNAME|\\bPT[ \\t]+NAME)[ \\t]*[:.]?[ \\t]*(?<family>" CD_NAME_PART
  "(?:[ \\t]" CD_NAME_PART ")?)[ \\t]*,[ \\t]*(?<given>" CD_NAME_PART ")(?:[ \\t]+(?<middle>[A-Z])\\b\\.?)?",
  /* Patient: Jane A. Doe */
  "(?i:\\bPATIENT(?:[ \\t]+NAME)?|\\bNAME)[ \\t]*:[ \\t]*(?<given>" CD_NAME_PART
  ")[ \\t]+(?:(?<middle>[A-Z])\\.?[ \\t]+)?"
  "(?<family>" CD_NAME_PART ")(?![ \\t]*,)",
  NULL,
};

static const gchar *const default_dob_patterns[] = {
  "(?i:\\bDOB|\\bD\\.O\\.B\\.?|\\bBIRTH[ \\t]*DATE|\\bDATE[ \\t]+OF[ \\t]+BIRTH|\\bBIRTHDATE|\\bBORN)[ \\t]*[:.]?[ "
  "\\t]*"
  "(?<dob>[0-9OolIS]{1,4}[/.\\-][0-9OolIS]{1,2}[/.\\-][0-9OolIS]{2,4}|[A-Za-z]{3,9}\\.?[ \\t]+[0-9]{1,2},?[ "
  "\\t]+[0-9]{4})",
  NULL,
};

/* The document's own date: the date of service, admission, procedure or
 * report printed under a label. A date of birth is never taken for it (the
 * labels differ), nor a bare date in the body. */
static const gchar *const default_date_patterns[] = {
  "(?i:\\bDATE[ \\t]+OF[ \\t]+(?:SERVICE|ADMISSION|DISCHARGE|PROCEDURE|OPERATION|SURGERY|EXAM(?:INATION)?|"
  "REPORT|VISIT|CONSULT(?:ATION)?|STUDY|COLLECTION)|\\b(?:SERVICE|ADMISSION|ADMIT|DISCHARGE|PROCEDURE|EXAM|"
  "REPORT|VISIT|STUDY|COLLECTION)[ \\t]+DATE)[ \\t]*[:.]?[ \\t]*"
  "(?<date>[0-9OolIS]{1,4}[/.\\-][0-9OolIS]{1,2}[/.\\-][0-9OolIS]{2,4}|[A-Za-z]{3,9}\\.?[ \\t]+[0-9]{1,2},?[ "
  "\\t]+[0-9]{4})",
  NULL,
};

static const gchar *const default_title_words[] = {
  "SUMMARY", "REPORT", "NOTE",   "NOTES",         "CONSULTATION", "CONSULT",   "HISTORY AND PHYSICAL", "H&P", "RECORD",
  "CONSENT", "LETTER", "ORDERS", "AUTHORIZATION", "REFERRAL",     "FLOWSHEET", "ADMINISTRATION",       NULL,
};

#define DEFAULT_PAGE_PATTERN "(?i:\\bPAGE)[ \\t]+(?<n>[0-9]{1,3})[ \\t]*(?:of|/)[ \\t]*(?<m>[0-9]{1,3})\\b"
#define DEFAULT_HEADER_LINES 12
#define DEFAULT_FOOTER_LINES 3

static GPtrArray *
cd_header_compile(gchar **patterns, const gchar *option, const gchar *const *groups, GError **error)
{
  g_autoptr(GPtrArray) res = g_ptr_array_new_with_free_func((GDestroyNotify) g_regex_unref);

  for (guint i = 0; patterns != NULL && patterns[i] != NULL; i++) {
    g_autoptr(GError) error_local = NULL;
    g_autoptr(GRegex) re = g_regex_new(patterns[i], G_REGEX_MULTILINE | G_REGEX_OPTIMIZE, 0, &error_local);
    if (re == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: pattern %u '%s' is not a regular expression: %s", option,
                  i + 1, patterns[i], error_local->message);
      return NULL;
    }
    for (guint j = 0; groups[j] != NULL; j++) {
      if (g_regex_get_string_number(re, groups[j]) < 0) {
        g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: pattern %u '%s' has no (?<%s>…) group", option, i + 1,
                    patterns[i], groups[j]);
        return NULL;
      }
    }
    g_ptr_array_add(res, g_steal_pointer(&re));
  }
  return g_steal_pointer(&res);
}

static gboolean
cd_header_stage_start(CdStage *stage, GError **error)
{
  CdHeaderStage *self = CD_HEADER_STAGE(stage);

  self->mrn_res = cd_header_compile(self->mrn_patterns, "mrn-patterns", (const gchar *const[]){ "mrn", NULL }, error);
  if (self->mrn_res == NULL)
    return FALSE;
  self->name_res =
      cd_header_compile(self->name_patterns, "name-patterns", (const gchar *const[]){ "family", "given", NULL }, error);
  if (self->name_res == NULL)
    return FALSE;
  self->dob_res = cd_header_compile(self->dob_patterns, "dob-patterns", (const gchar *const[]){ "dob", NULL }, error);
  if (self->dob_res == NULL)
    return FALSE;
  self->date_res =
      cd_header_compile(self->date_patterns, "date-patterns", (const gchar *const[]){ "date", NULL }, error);
  if (self->date_res == NULL)
    return FALSE;
  if (self->page_pattern != NULL && *self->page_pattern != '\0') {
    g_autoptr(GError) error_local = NULL;
    self->page_re = g_regex_new(self->page_pattern, G_REGEX_MULTILINE, 0, &error_local);
    if (self->page_re == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "page-pattern: '%s' is not a regular expression: %s",
                  self->page_pattern, error_local->message);
      return FALSE;
    }
  }
  return TRUE;
}

static void
cd_header_stage_stop(CdStage *stage)
{
  CdHeaderStage *self = CD_HEADER_STAGE(stage);

  g_clear_pointer(&self->mrn_res, g_ptr_array_unref);
  g_clear_pointer(&self->name_res, g_ptr_array_unref);
  g_clear_pointer(&self->dob_res, g_ptr_array_unref);
  g_clear_pointer(&self->date_res, g_ptr_array_unref);
  g_clear_pointer(&self->page_re, g_regex_unref);
}

/* The lines where identifiers are printed: the top of the page and its
 * foot. Blank lines are not counted. */
static gchar *
cd_header_zone(const gchar *text, guint header_lines, guint footer_lines)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_autoptr(GPtrArray) kept = g_ptr_array_new();
  GString *zone = g_string_new(NULL);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++) {
    if (*g_strstrip(lines[i]) != '\0')
      g_ptr_array_add(kept, lines[i]);
  }
  for (guint i = 0; i < kept->len; i++) {
    if (i < header_lines || i + footer_lines >= kept->len) {
      g_string_append_printf(zone, "%s\n", (gchar *) g_ptr_array_index(kept, i));
      n++;
    }
  }
  return g_string_free(zone, FALSE);
}

/* Whether a line holds one of the title words as whole words. */
static gboolean
cd_header_has_title_word(gchar **words, const gchar *line)
{
  g_autofree gchar *upper = g_ascii_strup(line, -1);

  for (guint i = 0; words != NULL && words[i] != NULL; i++) {
    g_autofree gchar *w = g_ascii_strup(words[i], -1);
    for (const gchar *hit = strstr(upper, w); hit != NULL; hit = strstr(hit + 1, w)) {
      gsize len = strlen(w);
      if ((hit == upper || !g_ascii_isalpha(hit[-1])) && !g_ascii_isalpha(hit[len]))
        return TRUE;
    }
  }
  return FALSE;
}

/* A title at the top of the page: a short line in capitals, not a label,
 * holding a title word ("DISCHARGE SUMMARY", not "HOSPITAL COURSE"). */
static gchar *
cd_header_find_title(const gchar *text, gchar **title_words)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  guint seen = 0;

  for (guint i = 0; lines[i] != NULL && seen < 4; i++) {
    const gchar *line = g_strstrip(lines[i]);
    guint letters = 0, upper = 0, words = 1;
    if (*line == '\0')
      continue;
    seen++;
    if (strchr(line, ':') != NULL || strchr(line, '#') != NULL)
      continue;
    if (g_strstr_len(line, -1, "ONTINUED") != NULL || g_strstr_len(line, -1, "ontinued") != NULL ||
        g_strstr_len(line, -1, "CONT'D") != NULL)
      continue; /* "PROGRESS NOTE (CONTINUED)" heads a later page of the document */
    for (const gchar *p = line; *p != '\0'; p++) {
      if (g_ascii_isalpha(*p)) {
        letters++;
        if (g_ascii_isupper(*p))
          upper++;
      } else if (g_ascii_isdigit(*p)) {
        letters = 0; /* titles carry no numbers */
        break;
      } else if (*p == ' ') {
        words++;
      }
    }
    if (letters >= 6 && upper * 10 >= letters * 9 && words <= 6 && cd_header_has_title_word(title_words, line))
      return g_strdup(line);
  }
  return NULL;
}

/* The first distinct value each pattern list finds in the zone; a second,
 * different value is a conflict the link stage must see. */
static gchar *
cd_header_match_all(GPtrArray *res, const gchar *zone, const gchar *group, gchar **conflict)
{
  g_autofree gchar *found = NULL;

  for (guint i = 0; i < res->len; i++) {
    g_autoptr(GMatchInfo) info = NULL;
    g_regex_match(g_ptr_array_index(res, i), zone, 0, &info);
    while (g_match_info_matches(info)) {
      g_autofree gchar *value = g_match_info_fetch_named(info, group);
      if (value != NULL && *value != '\0') {
        if (found == NULL)
          found = g_steal_pointer(&value);
        else if (g_strcmp0(found, value) != 0 && conflict != NULL && *conflict == NULL)
          *conflict = g_steal_pointer(&value);
      }
      g_match_info_next(info, NULL);
    }
  }
  return g_steal_pointer(&found);
}

static gchar *
cd_header_fix_date_digits(const gchar *raw)
{
  gchar *out = g_strdup(raw);
  if (g_ascii_isalpha(out[0]))
    return out; /* a month name */
  for (gchar *p = out; *p != '\0'; p++) {
    if (*p == 'O' || *p == 'o')
      *p = '0';
    else if (*p == 'l' || *p == 'I')
      *p = '1';
    else if (*p == 'S')
      *p = '5';
  }
  return out;
}

static void
cd_header_set_string(CdPage *page, const gchar *key, const gchar *value)
{
  if (value != NULL && *value != '\0')
    cd_page_set_fact(page, key, g_variant_new_string(value));
}

static gboolean
cd_header_stage_process(CdPageStage *stage, CdPage *page, GCancellable *cancellable, GError **error)
{
  CdHeaderStage *self = CD_HEADER_STAGE(stage);
  const gchar *text = cd_page_get_text(page);
  g_autofree gchar *zone = NULL;
  g_autofree gchar *mrn = NULL;
  g_autofree gchar *mrn_other = NULL;
  g_autofree gchar *dob_raw = NULL;
  g_autofree gchar *date_raw = NULL;
  g_autofree gchar *title = NULL;

  if (text == NULL || *text == '\0')
    return TRUE;
  zone = cd_header_zone(text, self->header_lines, self->footer_lines);

  mrn = cd_header_match_all(self->mrn_res, zone, "mrn", &mrn_other);
  if (mrn != NULL) {
    /* a value must be mostly digits to be an MRN at all */
    guint digits = 0;
    for (const gchar *p = mrn; *p != '\0'; p++)
      digits += g_ascii_isdigit(*p) ? 1 : 0;
    if (digits * 2 < strlen(mrn))
      g_clear_pointer(&mrn, g_free);
  }
  cd_header_set_string(page, CD_FACT_HEADER_MRN, mrn);
  if (mrn != NULL && mrn_other != NULL && !cd_identity_mrn_same(mrn, mrn_other)) {
    g_autofree gchar *msg = g_strdup_printf("the page shows two MRNs: %s and %s", mrn, mrn_other);
    cd_header_set_string(page, CD_FACT_HEADER_CONFLICT, msg);
  }

  for (guint i = 0; i < self->name_res->len; i++) {
    g_autoptr(GMatchInfo) info = NULL;
    if (g_regex_match(g_ptr_array_index(self->name_res, i), zone, 0, &info)) {
      g_autofree gchar *family = g_match_info_fetch_named(info, "family");
      g_autofree gchar *given = g_match_info_fetch_named(info, "given");
      g_autofree gchar *middle = g_match_info_fetch_named(info, "middle");
      g_autofree gchar *nf = cd_patient_normalize_name(family);
      g_autofree gchar *ng = cd_patient_normalize_name(given);
      g_autofree gchar *nm = cd_patient_normalize_name(middle);
      cd_header_set_string(page, CD_FACT_HEADER_FAMILY, nf);
      cd_header_set_string(page, CD_FACT_HEADER_GIVEN, ng);
      cd_header_set_string(page, CD_FACT_HEADER_MIDDLE, nm);
      break;
    }
  }

  dob_raw = cd_header_match_all(self->dob_res, zone, "dob", NULL);
  if (dob_raw != NULL) {
    g_autofree gchar *fixed = cd_header_fix_date_digits(dob_raw);
    g_autofree gchar *dob = cd_identity_parse_date(fixed, self->date_order);
    cd_header_set_string(page, CD_FACT_HEADER_DOB, dob);
  }

  date_raw = cd_header_match_all(self->date_res, zone, "date", NULL);
  if (date_raw != NULL) {
    g_autofree gchar *fixed = cd_header_fix_date_digits(date_raw);
    g_autofree gchar *date = cd_identity_parse_date(fixed, self->date_order);
    cd_header_set_string(page, CD_FACT_HEADER_DATE, date);
  }

  title = cd_header_find_title(text, self->title_words);
  cd_header_set_string(page, CD_FACT_HEADER_TITLE, title);

  if (self->page_re != NULL) {
    g_autoptr(GMatchInfo) info = NULL;
    if (g_regex_match(self->page_re, zone, 0, &info)) {
      g_autofree gchar *n = g_match_info_fetch_named(info, "n");
      g_autofree gchar *m = g_match_info_fetch_named(info, "m");
      guint64 nv = g_ascii_strtoull(n != NULL ? n : "0", NULL, 10);
      guint64 mv = g_ascii_strtoull(m != NULL ? m : "0", NULL, 10);
      if (nv >= 1 && mv >= nv)
        cd_page_set_fact(page, CD_FACT_HEADER_PAGE, g_variant_new("(uu)", (guint32) nv, (guint32) mv));
    }
  }

  /* the page's evidence of starting a document, for the `chart` splitter:
   * computed here, on the worker pool, while the image is at hand */
  {
    g_autofree gchar *layout_title = NULL;
    g_autoptr(GVariant) features = cd_boundary_page_features(page, self->title_words, &layout_title);
    cd_page_set_fact(page, CD_FACT_BOUNDARY_PAGE, features);
    cd_header_set_string(page, CD_FACT_BOUNDARY_TITLE, layout_title);
  }
  return TRUE;
}

static void
cd_header_stage_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdHeaderStage *self = CD_HEADER_STAGE(object);

  switch (prop_id) {
  case PROP_MRN_PATTERNS:
    g_value_set_boxed(value, self->mrn_patterns);
    break;
  case PROP_NAME_PATTERNS:
    g_value_set_boxed(value, self->name_patterns);
    break;
  case PROP_DOB_PATTERNS:
    g_value_set_boxed(value, self->dob_patterns);
    break;
  case PROP_DATE_PATTERNS:
    g_value_set_boxed(value, self->date_patterns);
    break;
  case PROP_PAGE_PATTERN:
    g_value_set_string(value, self->page_pattern);
    break;
  case PROP_TITLE_WORDS:
    g_value_set_boxed(value, self->title_words);
    break;
  case PROP_HEADER_LINES:
    g_value_set_uint(value, self->header_lines);
    break;
  case PROP_FOOTER_LINES:
    g_value_set_uint(value, self->footer_lines);
    break;
  case PROP_DATE_ORDER:
    g_value_set_enum(value, self->date_order);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_header_stage_set_strv(gchar ***field, const GValue *value, const gchar *const *fallback)
{
  g_strfreev(*field);
  *field = g_strdupv(g_value_get_boxed(value) != NULL ? g_value_get_boxed(value) : (gchar **) fallback);
}

static void
cd_header_stage_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdHeaderStage *self = CD_HEADER_STAGE(object);

  switch (prop_id) {
  case PROP_MRN_PATTERNS:
    cd_header_stage_set_strv(&self->mrn_patterns, value, default_mrn_patterns);
    break;
  case PROP_NAME_PATTERNS:
    cd_header_stage_set_strv(&self->name_patterns, value, default_name_patterns);
    break;
  case PROP_DOB_PATTERNS:
    cd_header_stage_set_strv(&self->dob_patterns, value, default_dob_patterns);
    break;
  case PROP_DATE_PATTERNS:
    cd_header_stage_set_strv(&self->date_patterns, value, default_date_patterns);
    break;
  case PROP_PAGE_PATTERN:
    g_free(self->page_pattern);
    self->page_pattern = g_value_dup_string(value);
    break;
  case PROP_TITLE_WORDS:
    cd_header_stage_set_strv(&self->title_words, value, default_title_words);
    break;
  case PROP_HEADER_LINES:
    self->header_lines = g_value_get_uint(value);
    break;
  case PROP_FOOTER_LINES:
    self->footer_lines = g_value_get_uint(value);
    break;
  case PROP_DATE_ORDER:
    self->date_order = g_value_get_enum(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_header_stage_finalize(GObject *object)
{
  CdHeaderStage *self = CD_HEADER_STAGE(object);

  cd_header_stage_stop(CD_STAGE(self));
  g_strfreev(self->mrn_patterns);
  g_strfreev(self->name_patterns);
  g_strfreev(self->dob_patterns);
  g_strfreev(self->date_patterns);
  g_free(self->page_pattern);
  g_strfreev(self->title_words);
  G_OBJECT_CLASS(cd_header_stage_parent_class)->finalize(object);
}

static void
cd_header_stage_class_init(CdHeaderStageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdPageStageClass *page_class = CD_PAGE_STAGE_CLASS(klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = cd_header_stage_finalize;
  object_class->get_property = cd_header_stage_get_property;
  object_class->set_property = cd_header_stage_set_property;
  stage_class->start = cd_header_stage_start;
  stage_class->stop = cd_header_stage_stop;
  page_class->process = cd_header_stage_process;

  props[PROP_MRN_PATTERNS] =
      g_param_spec_boxed("mrn-patterns", "MRN patterns",
                         "Regular expressions, separated by ';', each with a (?<mrn>…) group; letters read for digits "
                         "(O/0, l/1, S/5, B/8) are kept and only undone where the patient index confirms them",
                         G_TYPE_STRV, flags);
  props[PROP_NAME_PATTERNS] =
      g_param_spec_boxed("name-patterns", "Name patterns",
                         "Regular expressions, separated by ';', with (?<family>…) and (?<given>…) groups and "
                         "optionally (?<middle>…)",
                         G_TYPE_STRV, flags);
  props[PROP_DOB_PATTERNS] =
      g_param_spec_boxed("dob-patterns", "Date of birth patterns",
                         "Regular expressions, separated by ';', with a (?<dob>…) group", G_TYPE_STRV, flags);
  props[PROP_DATE_PATTERNS] = g_param_spec_boxed(
      "date-patterns", "Document date patterns",
      "Regular expressions, separated by ';', with a (?<date>…) group: the date of service that dates the document",
      G_TYPE_STRV, flags);
  props[PROP_PAGE_PATTERN] =
      g_param_spec_string("page-pattern", "Page number pattern",
                          "Regular expression with (?<n>…) and (?<m>…) groups for \"Page N of M\" (empty: not read)",
                          DEFAULT_PAGE_PATTERN, flags | G_PARAM_CONSTRUCT);
  props[PROP_TITLE_WORDS] = g_param_spec_boxed(
      "title-words", "Title words",
      "Words, separated by ';', of which one makes a short capitalised line at the top of a page a document title",
      G_TYPE_STRV, flags);
  props[PROP_HEADER_LINES] = g_param_spec_uint("header-lines", "Header lines",
                                               "Lines of text from the top of the page searched for identifiers", 1,
                                               200, DEFAULT_HEADER_LINES, flags | G_PARAM_CONSTRUCT);
  props[PROP_FOOTER_LINES] = g_param_spec_uint("footer-lines", "Footer lines",
                                               "Lines of text from the foot of the page searched for identifiers", 0,
                                               50, DEFAULT_FOOTER_LINES, flags | G_PARAM_CONSTRUCT);
  props[PROP_DATE_ORDER] = g_param_spec_enum("date-order", "Date order", "How 03/04/1952 reads: mdy or dmy",
                                             CD_TYPE_DATE_ORDER, CD_DATE_ORDER_MDY, flags | G_PARAM_CONSTRUCT);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "header",
                              "Reads MRN, patient name, date of birth, title and page numbers printed on a page");
}

static void
cd_header_stage_init(CdHeaderStage *self)
{
  self->mrn_patterns = g_strdupv((gchar **) default_mrn_patterns);
  self->name_patterns = g_strdupv((gchar **) default_name_patterns);
  self->dob_patterns = g_strdupv((gchar **) default_dob_patterns);
  self->date_patterns = g_strdupv((gchar **) default_date_patterns);
  self->title_words = g_strdupv((gchar **) default_title_words);
}
