/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "cd-classify-text.h"
#include "cd-rules-classifier.h"

/**
 * CdRulesClassifier:
 *
 * Scores document types by titles, keywords and regular expressions read
 * from a keyfile, one group per type:
 *
 * |[
 * [rules]
 * title-weight=3
 * keyword-weight=1
 * pattern-weight=2
 *
 * [discharge-summary]
 * titles=discharge summary
 * keywords=2:hospital course;discharge medications;date of discharge
 * patterns=discharged (home|to)
 * ]|
 *
 * A fourth list, `sections`, holds section headings that count only as
 * headings: a line that is the heading alone, or whose label before its
 * first `:` is the heading (or ends with it, in at most five words:
 * `ED Disposition:` holds `disposition`). That is a document's structure
 * (a pathology report's specimen, gross and microscopic sections), which
 * does not depend on one form's wording the way a title does, and which a
 * keyword anywhere in the prose ("the specimen was sent") does not give.
 *
 * The title the header stage took by layout on the document's first page
 * (the page fact `boundary.title`: the short line in larger, heavier type
 * near the top, from the word boxes) is read once more: a type one of whose
 * `titles` it holds, or one of whose `title-words` (words that name a kind
 * of document, `pathology`, `letter`, `emergency`, matched as whole words,
 * or with one letter wrong when six letters or longer) it holds, gains
 * `layout-title-weight` ([rules] key; 0, the default, turns it off), once.
 * The printed title outweighs a title-like line in the body, and a word of
 * it names the type however the form words the rest ("Anatomic Pathology",
 * "ED Physician Record").
 *
 * Each item may start with `WEIGHT:` to override its kind's weight. A type
 * collects the weights of the items found (each once): its evidence e. Its
 * score is e² / Σe² over all types, so that a type with clearly more
 * evidence than the others stands out (a discharge summary that mentions
 * the emergency department stays a discharge summary), scaled down while
 * the total evidence Σe is below `evidence`, so that a document with
 * little evidence gets a low confidence.
 *
 * Matching is tolerant of OCR: titles are sought in the first lines of
 * each page ignoring case, punctuation and spaces (`DIS CHARGE SUMM ARY`)
 * with one misread letter allowed in eight; keywords are whole words
 * ignoring case, punctuation and line breaks, and long ones (ten letters
 * or more) also match broken by spaces; a word hyphenated at a line end is
 * joined before anything is matched. Patterns are case-insensitive GRegex
 * expressions run on the joined text.
 */

typedef struct {
  gchar *flat;     /* " hospital course " */
  gchar *squeezed; /* "hospitalcourse" */
  gdouble weight;
} CdRulePhrase;

typedef struct {
  GRegex *regex;
  gdouble weight;
} CdRulePattern;

typedef struct {
  gchar *type;
  GPtrArray *titles;      /* of CdRulePhrase */
  GPtrArray *keywords;    /* of CdRulePhrase */
  GPtrArray *patterns;    /* of CdRulePattern */
  GPtrArray *sections;    /* of CdRulePhrase: headings that count as headings only */
  GPtrArray *title_words; /* of CdRulePhrase: words naming the type in a layout title */
} CdRuleSet;

struct _CdRulesClassifier {
  CdClassifier parent_instance;
  gchar *rules;                /* the rules file, "" for the shipped one */
  guint title_lines;           /* lines at the top of a page where titles count */
  gdouble evidence;            /* total weight at which the classifier is sure */
  gdouble layout_title_weight; /* more for a title in the first page's layout title */
  GPtrArray *sets;             /* of CdRuleSet, once started */
};

G_DEFINE_TYPE(CdRulesClassifier, cd_rules_classifier, CD_TYPE_CLASSIFIER)

enum {
  PROP_0,
  PROP_RULES,
  PROP_TITLE_LINES,
  PROP_EVIDENCE,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

#define DEFAULT_RULES ""
#define DEFAULT_TITLE_LINES 8
#define DEFAULT_EVIDENCE 4.0
#define DEFAULT_TITLE_WEIGHT 3.0
#define DEFAULT_KEYWORD_WEIGHT 1.0
#define DEFAULT_PATTERN_WEIGHT 2.0
#define DEFAULT_SECTION_WEIGHT 2.0
#define DEFAULT_LAYOUT_TITLE_WEIGHT 0.0

/* The page fact of the header stage (plugins/identity) holding the line it
 * took for a title by layout; read by name, as the splitter reads ours. */
#define CD_RULES_FACT_LAYOUT_TITLE "boundary.title"

static gchar *default_rules;

/* Set by the plugin's init: where the shipped rules file is. */
void
cd_rules_classifier_set_default_rules(const gchar *path)
{
  g_free(default_rules);
  default_rules = g_strdup(path);
}

static void
cd_rule_phrase_free(CdRulePhrase *phrase)
{
  g_free(phrase->flat);
  g_free(phrase->squeezed);
  g_free(phrase);
}

static void
cd_rule_pattern_free(CdRulePattern *pattern)
{
  g_regex_unref(pattern->regex);
  g_free(pattern);
}

static void
cd_rule_set_free(CdRuleSet *set)
{
  g_free(set->type);
  g_ptr_array_unref(set->titles);
  g_ptr_array_unref(set->keywords);
  g_ptr_array_unref(set->patterns);
  g_ptr_array_unref(set->sections);
  g_ptr_array_unref(set->title_words);
  g_free(set);
}

static void
cd_rules_classifier_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdRulesClassifier *self = CD_RULES_CLASSIFIER(object);

  switch (prop_id) {
  case PROP_RULES:
    g_value_set_string(value, self->rules);
    break;
  case PROP_TITLE_LINES:
    g_value_set_uint(value, self->title_lines);
    break;
  case PROP_EVIDENCE:
    g_value_set_double(value, self->evidence);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_rules_classifier_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdRulesClassifier *self = CD_RULES_CLASSIFIER(object);

  switch (prop_id) {
  case PROP_RULES:
    g_free(self->rules);
    self->rules = g_value_dup_string(value);
    break;
  case PROP_TITLE_LINES:
    self->title_lines = g_value_get_uint(value);
    break;
  case PROP_EVIDENCE:
    self->evidence = g_value_get_double(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

/* Splits `2.5:text` into its weight and text; without a prefix the weight
 * is @fallback. */
static gdouble
cd_rules_item_weight(const gchar *item, gdouble fallback, const gchar **rest)
{
  const gchar *p = item;
  gchar *end = NULL;
  gdouble weight;

  *rest = item;
  while (g_ascii_isdigit(*p) || *p == '.')
    p++;
  if (p == item || *p != ':')
    return fallback;
  weight = g_ascii_strtod(item, &end);
  if (end != p)
    return fallback;
  *rest = p + 1;
  return weight;
}

static gdouble
cd_rules_read_weight(GKeyFile *kf, const gchar *key, gdouble fallback)
{
  g_autofree gchar *str = g_key_file_get_value(kf, "rules", key, NULL);
  if (str == NULL)
    return fallback;
  return g_ascii_strtod(str, NULL);
}

/* A list key of a rules group, items separated by `;`, read verbatim (no
 * keyfile escapes), so a regular expression is written as it is meant. */
static GStrv
cd_rules_read_list(GKeyFile *kf, const gchar *group, const gchar *key)
{
  g_autofree gchar *value = g_key_file_get_value(kf, group, key, NULL);
  g_auto(GStrv) items = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

  if (value == NULL)
    return g_strv_builder_end(builder);
  items = g_strsplit(value, ";", -1);
  for (guint i = 0; items[i] != NULL; i++) {
    if (*g_strstrip(items[i]) != '\0')
      g_strv_builder_add(builder, items[i]);
  }
  return g_strv_builder_end(builder);
}

static CdRuleSet *
cd_rules_load_set(CdRulesClassifier *self, GKeyFile *kf, const gchar *origin, const gchar *group, const gchar *type,
                  gdouble title_weight, gdouble keyword_weight, gdouble pattern_weight, gdouble section_weight,
                  GError **error)
{
  CdRuleSet *set = g_new0(CdRuleSet, 1);
  g_auto(GStrv) titles = cd_rules_read_list(kf, group, "titles");
  g_auto(GStrv) keywords = cd_rules_read_list(kf, group, "keywords");
  g_auto(GStrv) patterns = cd_rules_read_list(kf, group, "patterns");
  g_auto(GStrv) sections = cd_rules_read_list(kf, group, "sections");
  g_auto(GStrv) title_words = cd_rules_read_list(kf, group, "title-words");
  static const gchar *const kinds[] = { "titles", "keywords", "sections", "title-words" };

  set->type = g_strdup(type);
  set->titles = g_ptr_array_new_with_free_func((GDestroyNotify) cd_rule_phrase_free);
  set->keywords = g_ptr_array_new_with_free_func((GDestroyNotify) cd_rule_phrase_free);
  set->patterns = g_ptr_array_new_with_free_func((GDestroyNotify) cd_rule_pattern_free);
  set->sections = g_ptr_array_new_with_free_func((GDestroyNotify) cd_rule_phrase_free);
  set->title_words = g_ptr_array_new_with_free_func((GDestroyNotify) cd_rule_phrase_free);
  for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
    GStrv items = k == 0 ? titles : k == 1 ? keywords : k == 2 ? sections : title_words;
    GPtrArray *list = k == 0 ? set->titles : k == 1 ? set->keywords : k == 2 ? set->sections : set->title_words;
    gdouble fallback = k == 0   ? title_weight
                       : k == 1 ? keyword_weight
                       : k == 2 ? section_weight
                                : self->layout_title_weight;
    for (guint i = 0; items[i] != NULL; i++) {
      CdRulePhrase *phrase = g_new0(CdRulePhrase, 1);
      const gchar *text;
      gboolean twice = FALSE;
      phrase->weight = cd_rules_item_weight(items[i], fallback, &text);
      phrase->flat = cd_classify_text_flatten(text);
      phrase->squeezed = cd_classify_text_squeeze(phrase->flat);
      /* `follow-up` and `follow up` are one item once flattened: count it once */
      for (guint j = 0; j < list->len && !twice; j++) {
        CdRulePhrase *other = g_ptr_array_index(list, j);
        if (g_strcmp0(other->flat, phrase->flat) == 0) {
          other->weight = MAX(other->weight, phrase->weight);
          twice = TRUE;
        }
      }
      if (twice) {
        cd_rule_phrase_free(phrase);
        continue;
      }
      g_ptr_array_add(list, phrase);
      if (phrase->squeezed[0] == '\0') {
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: [%s] %s: '%s' has no letters or digits", origin, group,
                    kinds[k], items[i]);
        cd_rule_set_free(set);
        return NULL;
      }
    }
  }
  for (guint i = 0; patterns[i] != NULL; i++) {
    g_autoptr(GError) error_local = NULL;
    const gchar *text;
    gdouble weight = cd_rules_item_weight(patterns[i], pattern_weight, &text);
    GRegex *regex = g_regex_new(text, G_REGEX_CASELESS | G_REGEX_MULTILINE | G_REGEX_OPTIMIZE, 0, &error_local);
    CdRulePattern *pattern;
    if (regex == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: [%s] patterns: '%s': %s", origin, group, text,
                  error_local->message);
      cd_rule_set_free(set);
      return NULL;
    }
    pattern = g_new0(CdRulePattern, 1);
    pattern->regex = regex;
    pattern->weight = weight;
    g_ptr_array_add(set->patterns, pattern);
  }
  return set;
}

/* Reads the rules file and checks every group against the taxonomy in
 * use: a group that names no type is a mistake worth stopping for; one
 * that names a retired type is skipped. */
static gboolean
cd_rules_classifier_start(CdStage *stage, GError **error)
{
  CdRulesClassifier *self = CD_RULES_CLASSIFIER(stage);
  CdTaxonomy *taxonomy = cd_classifier_get_taxonomy(CD_CLASSIFIER(self));
  const gchar *path = self->rules != NULL && self->rules[0] != '\0' ? self->rules : default_rules;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error_local = NULL;
  g_auto(GStrv) groups = NULL;
  gdouble title_weight, keyword_weight, pattern_weight, section_weight;

  if (path == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no rules file");
    return FALSE;
  }
  if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: cannot read rules: %s", path, error_local->message);
    return FALSE;
  }
  title_weight = cd_rules_read_weight(kf, "title-weight", DEFAULT_TITLE_WEIGHT);
  keyword_weight = cd_rules_read_weight(kf, "keyword-weight", DEFAULT_KEYWORD_WEIGHT);
  pattern_weight = cd_rules_read_weight(kf, "pattern-weight", DEFAULT_PATTERN_WEIGHT);
  section_weight = cd_rules_read_weight(kf, "section-weight", DEFAULT_SECTION_WEIGHT);
  self->layout_title_weight = cd_rules_read_weight(kf, "layout-title-weight", DEFAULT_LAYOUT_TITLE_WEIGHT);

  g_clear_pointer(&self->sets, g_ptr_array_unref);
  self->sets = g_ptr_array_new_with_free_func((GDestroyNotify) cd_rule_set_free);
  groups = g_key_file_get_groups(kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++) {
    const gchar *type = groups[i];
    CdRuleSet *set;
    if (g_strcmp0(groups[i], "rules") == 0)
      continue;
    if (taxonomy != NULL) {
      type = cd_taxonomy_lookup(taxonomy, groups[i]);
      if (type == NULL) {
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: [%s]: not a document type of %s", path, groups[i],
                    cd_taxonomy_get_origin(taxonomy));
        return FALSE;
      }
      if (cd_taxonomy_is_retired(taxonomy, type)) {
        g_info("%s: [%s]: type retired, rules not used", path, groups[i]);
        continue;
      }
    }
    set = cd_rules_load_set(self, kf, path, groups[i], type, title_weight, keyword_weight, pattern_weight,
                            section_weight, error);
    if (set == NULL)
      return FALSE;
    g_ptr_array_add(self->sets, set);
  }
  return TRUE;
}

static void
cd_rules_classifier_stop(CdStage *stage)
{
  CdRulesClassifier *self = CD_RULES_CLASSIFIER(stage);
  g_clear_pointer(&self->sets, g_ptr_array_unref);
}

/* Titles shorter than this (squeezed) must match as whole words: `H P`
 * squeezed would be found inside any word with "hp" in it. */
#define CD_RULES_MIN_SQUEEZED_TITLE 8

/* Title words this long (squeezed) also match with one letter misread,
 * missing or extra (`EMERGENCV`, `ursing` for a clipped `Nursing`); shorter
 * ones (`ed`, `lab`) must be whole words. */
#define CD_RULES_MIN_APPROX_TITLE_WORD 6

/* Characters of a line that count as title lines: a heading is short. */
#define CD_RULES_TITLE_LINE_CHARS 80

/* The flat forms of the first @lines non-empty lines of @text, one string
 * per line. */
static GPtrArray *
cd_rules_title_region(const gchar *text, guint lines)
{
  g_auto(GStrv) split = g_strsplit(text, "\n", -1);
  GPtrArray *region = g_ptr_array_new_with_free_func(g_free);

  for (guint i = 0; split[i] != NULL && region->len < lines; i++) {
    if (*g_strstrip(split[i]) == '\0')
      continue;
    /* a page without line breaks (a transcription) has its title at the start */
    if (g_utf8_strlen(split[i], -1) > CD_RULES_TITLE_LINE_CHARS) {
      g_autofree gchar *cut = g_utf8_substring(split[i], 0, CD_RULES_TITLE_LINE_CHARS);
      g_ptr_array_add(region, cd_classify_text_flatten(cut));
    } else {
      g_ptr_array_add(region, cd_classify_text_flatten(split[i]));
    }
  }
  return region;
}

/* Whether @title is in @region (flat lines) or @squeezed (the same lines
 * without spaces). A one-word title must be a line of its own (`MRI` is
 * not a title inside "a normal MRI and"); a short title must be whole
 * words of a line; a longer one may be broken by spaces and have one
 * letter in eight misread. */
static gboolean
cd_rules_title_found(CdRulePhrase *title, GPtrArray *region, const gchar *squeezed)
{
  gsize len = strlen(title->squeezed);

  if (strchr(title->flat + 1, ' ') == title->flat + strlen(title->flat) - 1) {
    for (guint i = 0; i < region->len; i++) {
      if (g_strcmp0(g_ptr_array_index(region, i), title->flat) == 0)
        return TRUE;
    }
    return FALSE;
  }
  if (len < CD_RULES_MIN_SQUEEZED_TITLE) {
    for (guint i = 0; i < region->len; i++) {
      if (strstr(g_ptr_array_index(region, i), title->flat) != NULL)
        return TRUE;
    }
    return FALSE;
  }
  return cd_classify_text_find_approx(squeezed, title->squeezed, len / 8);
}

/* Words a section label may have before its heading (`ED Disposition:`). */
#define CD_RULES_SECTION_LABEL_WORDS 5

/* Characters of a line read for a section label: a heading is short. */
#define CD_RULES_SECTION_LINE_CHARS 60

/* Whether a line without a `:` reads as a heading of its own: no lower-case
 * letter (`GROSS DESCRIPTION`), or every word capitalised and no full stop
 * at the end (`Final Diagnosis`), so "Chest pain." is no heading. */
static gboolean
cd_rules_heading_line(const gchar *line)
{
  gboolean lower = FALSE;
  gboolean word_start = TRUE;
  gboolean capitalised = TRUE;
  gsize len = strlen(line);

  for (const gchar *p = line; *p != '\0'; p++) {
    if (g_ascii_islower(*p)) {
      lower = TRUE;
      if (word_start)
        capitalised = FALSE;
    }
    word_start = *p == ' ';
  }
  if (!lower)
    return TRUE;
  return capitalised && len > 0 && line[len - 1] != '.';
}

/* Adds to @labels the labels of the lines of @text that can be section
 * headings: the part before a line's first `:` when it comes within the
 * first characters, else a short line that reads as a heading of its own.
 * A label of at most five words is added squeezed, once per word suffix
 * ("ed disposition" gives "eddisposition" and "disposition"), so a heading
 * at the end of a longer label is one hash lookup. */
static void
cd_rules_section_labels(const gchar *text, GHashTable *labels)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++) {
    gchar *line = g_strstrip(lines[i]);
    const gchar *colon = strchr(line, ':');
    g_autofree gchar *label = NULL;
    g_autofree gchar *flat = NULL;
    g_auto(GStrv) words = NULL;
    guint n;

    if (colon != NULL && colon - line <= CD_RULES_SECTION_LINE_CHARS)
      label = g_strndup(line, colon - line);
    else if (colon == NULL && g_utf8_strlen(line, -1) <= CD_RULES_SECTION_LINE_CHARS && cd_rules_heading_line(line))
      label = g_strdup(line);
    else
      continue;
    flat = cd_classify_text_flatten(label);
    words = g_strsplit(g_strstrip(flat), " ", -1);
    n = g_strv_length(words);
    if (n == 0 || words[0][0] == '\0' || n > CD_RULES_SECTION_LABEL_WORDS)
      continue;
    for (guint w = 0; w < n; w++) {
      g_autofree gchar *suffix = g_strjoinv("", words + w);
      g_hash_table_add(labels, g_steal_pointer(&suffix));
    }
  }
}

static void
cd_rules_explain(GString *why, const gchar *kind, const gchar *item, gdouble weight)
{
  if (why != NULL)
    g_string_append_printf(why, " %s '%s' +%g;", kind, item, weight);
}

static gboolean
cd_rules_classifier_classify(CdClassifier *classifier, CdDocument *document, GPtrArray *scores,
                             GCancellable *cancellable, GError **error)
{
  CdRulesClassifier *self = CD_RULES_CLASSIFIER(classifier);
  GPtrArray *pages = cd_document_get_pages(document);
  g_autoptr(GPtrArray) regions = g_ptr_array_new_with_free_func((GDestroyNotify) g_ptr_array_unref); /* of lines */
  g_autoptr(GPtrArray) squeezed_regions = g_ptr_array_new_with_free_func(g_free);
  g_autofree gchar *text = cd_document_dup_text(document);
  g_autofree gchar *joined = cd_classify_text_join(text);
  g_autofree gchar *flat = cd_classify_text_flatten(text);
  g_autofree gchar *squeezed = cd_classify_text_squeeze(flat);
  g_autofree gdouble *raw = NULL;
  g_autoptr(GHashTable) labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) layout_region = g_ptr_array_new_with_free_func(g_free);
  g_autofree gchar *layout_squeezed = NULL;
  gdouble total = 0;
  gdouble squares = 0;
  /* what matched, for `G_MESSAGES_DEBUG=ChartdeskClassify`: rule authors
   * need to see why a document got its scores */
  g_autoptr(GString) why = g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN) ? NULL : g_string_new(NULL);

  if (self->sets == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INTERNAL, "classify before start");
    return FALSE;
  }
  for (guint i = 0; i < pages->len; i++) {
    const gchar *page_text = cd_page_get_text(g_ptr_array_index(pages, i));
    GPtrArray *region;
    g_autoptr(GString) squeezed_region = g_string_new(NULL);
    if (page_text == NULL)
      continue;
    region = cd_rules_title_region(page_text, self->title_lines);
    for (guint l = 0; l < region->len; l++) {
      g_autofree gchar *line = cd_classify_text_squeeze(g_ptr_array_index(region, l));
      g_string_append(squeezed_region, line);
    }
    g_ptr_array_add(regions, region);
    g_ptr_array_add(squeezed_regions, g_strdup(squeezed_region->str));
    cd_rules_section_labels(page_text, labels);
  }
  if (self->layout_title_weight > 0 && pages->len > 0) {
    g_autoptr(GVariant) fact = cd_page_get_fact(g_ptr_array_index(pages, 0), CD_RULES_FACT_LAYOUT_TITLE);
    if (fact != NULL && g_variant_is_of_type(fact, G_VARIANT_TYPE_STRING)) {
      g_ptr_array_add(layout_region, cd_classify_text_flatten(g_variant_get_string(fact, NULL)));
      layout_squeezed = cd_classify_text_squeeze(g_ptr_array_index(layout_region, 0));
    }
  }

  raw = g_new0(gdouble, self->sets->len);
  for (guint s = 0; s < self->sets->len; s++) {
    CdRuleSet *set = g_ptr_array_index(self->sets, s);
    gdouble named = 0; /* by the layout title, which counts once: its best title or word */
    const gchar *named_by = NULL;
    if (g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    for (guint i = 0; i < set->titles->len; i++) {
      CdRulePhrase *title = g_ptr_array_index(set->titles, i);
      gboolean found = FALSE;
      for (guint r = 0; r < regions->len && !found; r++)
        found = cd_rules_title_found(title, g_ptr_array_index(regions, r), g_ptr_array_index(squeezed_regions, r));
      if (found) {
        raw[s] += title->weight;
        cd_rules_explain(why, "title", title->flat, title->weight);
      }
      if (layout_squeezed != NULL && self->layout_title_weight > named &&
          cd_rules_title_found(title, layout_region, layout_squeezed)) {
        named = self->layout_title_weight;
        named_by = title->flat;
      }
    }
    for (guint i = 0; i < set->title_words->len && layout_squeezed != NULL; i++) {
      CdRulePhrase *word = g_ptr_array_index(set->title_words, i);
      if (word->weight > named && (strstr(g_ptr_array_index(layout_region, 0), word->flat) != NULL ||
                                   (strlen(word->squeezed) >= CD_RULES_MIN_APPROX_TITLE_WORD &&
                                    cd_classify_text_find_approx(layout_squeezed, word->squeezed, 1)))) {
        named = word->weight;
        named_by = word->flat;
      }
    }
    if (named > 0) {
      raw[s] += named;
      cd_rules_explain(why, "layout title", named_by, named);
    }
    for (guint i = 0; i < set->sections->len; i++) {
      CdRulePhrase *section = g_ptr_array_index(set->sections, i);
      if (g_hash_table_contains(labels, section->squeezed)) {
        raw[s] += section->weight;
        cd_rules_explain(why, "section", section->flat, section->weight);
      }
    }
    for (guint i = 0; i < set->keywords->len; i++) {
      CdRulePhrase *keyword = g_ptr_array_index(set->keywords, i);
      if (strstr(flat, keyword->flat) != NULL ||
          (strlen(keyword->squeezed) >= 10 && strstr(squeezed, keyword->squeezed) != NULL)) {
        raw[s] += keyword->weight;
        cd_rules_explain(why, "keyword", keyword->flat, keyword->weight);
      }
    }
    for (guint i = 0; i < set->patterns->len; i++) {
      CdRulePattern *pattern = g_ptr_array_index(set->patterns, i);
      if (g_regex_match(pattern->regex, joined, 0, NULL)) {
        raw[s] += pattern->weight;
        cd_rules_explain(why, "pattern", g_regex_get_pattern(pattern->regex), pattern->weight);
      }
    }
    if (why != NULL && why->len > 0) {
      g_debug("%s: %s %g:%s", cd_page_get_source_path(g_ptr_array_index(pages, 0)), set->type, raw[s], why->str);
      g_string_truncate(why, 0);
    }
    total += raw[s];
  }
  if (total <= 0)
    return TRUE; /* don't know */
  for (guint s = 0; s < self->sets->len; s++)
    squares += raw[s] * raw[s];
  for (guint s = 0; s < self->sets->len; s++) {
    CdRuleSet *set = g_ptr_array_index(self->sets, s);
    if (raw[s] > 0)
      g_ptr_array_add(scores,
                      cd_label_score_new(set->type, raw[s] * raw[s] / squares * MIN(1.0, total / self->evidence)));
  }
  return TRUE;
}

static void
cd_rules_classifier_finalize(GObject *object)
{
  CdRulesClassifier *self = CD_RULES_CLASSIFIER(object);

  g_free(self->rules);
  g_clear_pointer(&self->sets, g_ptr_array_unref);
  G_OBJECT_CLASS(cd_rules_classifier_parent_class)->finalize(object);
}

static void
cd_rules_classifier_class_init(CdRulesClassifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);

  object_class->get_property = cd_rules_classifier_get_property;
  object_class->set_property = cd_rules_classifier_set_property;
  object_class->finalize = cd_rules_classifier_finalize;
  stage_class->start = cd_rules_classifier_start;
  stage_class->stop = cd_rules_classifier_stop;
  CD_CLASSIFIER_CLASS(klass)->classify = cd_rules_classifier_classify;

  props[PROP_RULES] = g_param_spec_string(
      "rules", "Rules file", "Keyfile of titles, keywords and patterns per type (empty: the shipped one)",
      DEFAULT_RULES, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_TITLE_LINES] = g_param_spec_uint(
      "title-lines", "Title lines", "Non-empty lines at the top of each page where a title counts as one", 1, 200,
      DEFAULT_TITLE_LINES, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_EVIDENCE] = g_param_spec_double(
      "evidence", "Evidence", "Total weight found at which scores are no longer scaled down (less: less sure)", 0.1,
      1000.0, DEFAULT_EVIDENCE, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
  cd_stage_class_set_metadata(stage_class, "rules",
                              "Scores document types by titles, keywords and patterns from a rules file, tolerant of "
                              "OCR noise");
}

static void
cd_rules_classifier_init(CdRulesClassifier *self)
{
}
