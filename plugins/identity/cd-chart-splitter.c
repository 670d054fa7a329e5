/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `chart` splitter: sees every page in scan order and decides where
 * documents begin. A patient cover sheet (a barcode carrying an MRN on a
 * page with little else) starts that patient's chart and is set aside; a
 * separator sheet (patch code T, or a configured payload) is set aside and
 * starts a new document; patch code 2 starts one and is kept; patch code 3
 * ends the chart. Without sheets, a page that names a different patient
 * than the document so far always starts a new document, and a printed
 * "Page 1 of N" starts one and "Page 2 of N" continues one; otherwise the
 * evidence is weighed: a title by layout or wording, a new date of
 * service, a patient block, "continued", a change of the page's own type
 * (the `page-type` stage) — each a feature of a logistic model whose
 * weights were learned from labelled charts (tests/bench/train_boundaries.py)
 * and are the `boundary-weights` option. Where the probability is within
 * `review-margin` of the threshold, the boundary is uncertain and the page
 * says why (`chart.uncertain`), which sends its document to review. Pages
 * that follow a cover sheet carry its identifiers as `cover.*` facts for
 * the `patient-link` stage.
 */
#include "config.h"

#include <string.h>

#include <math.h>

#include "cd-boundary.h"
#include "cd-chart-splitter.h"
#include "cd-identity-common.h"

typedef enum {
  CD_COVER_SCOPE_FILE,
  CD_COVER_SCOPE_BATCH,
} CdCoverScope;

static GType
cd_cover_scope_get_type(void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    { CD_COVER_SCOPE_FILE, "CD_COVER_SCOPE_FILE", "file" },
    { CD_COVER_SCOPE_BATCH, "CD_COVER_SCOPE_BATCH", "batch" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("CdCoverScope", values));
  return type;
}

typedef struct {
  gchar *mrn;
  gchar *family;
  gchar *given;
  gchar *dob;
  gchar *where;
  gchar *conflict;
} CdCover;

struct _CdChartSplitter {
  CdSplitter parent_instance;
  gchar *cover_pattern;
  guint cover_max_words;
  gchar **separators;
  gchar **keep_separators;
  gchar **batch_separators;
  gboolean split_on_title;
  gboolean split_on_patient;
  CdCoverScope cover_scope;
  gchar **boundary_weights;
  gdouble boundary_threshold;
  gdouble review_margin;
  GHashTable *weights; /* feature name -> gdouble *, from boundary_weights in start() */
  gdouble bias;
  gchar *last_date;        /* the last date of service read in this file */
  gboolean prev_page_last; /* the page before read "Page N of N" */
  gchar *prev_type;        /* the page before's own confident type (page-type stage), NULL if none */

  GRegex *cover_re;
  CdCover cover; /* the cover sheet in force, mrn NULL if none */
  gchar *last_path;
  gboolean pending_new;
  /* who the document being assembled names, from its pages' headers */
  gchar *doc_mrn;
  gchar *doc_family;
  gchar *doc_given;
};

G_DEFINE_FINAL_TYPE(CdChartSplitter, cd_chart_splitter, CD_TYPE_SPLITTER)

enum {
  PROP_0,
  PROP_COVER_PATTERN,
  PROP_COVER_MAX_WORDS,
  PROP_SEPARATORS,
  PROP_KEEP_SEPARATORS,
  PROP_BATCH_SEPARATORS,
  PROP_SPLIT_ON_TITLE,
  PROP_SPLIT_ON_PATIENT,
  PROP_COVER_SCOPE,
  PROP_BOUNDARY_WEIGHTS,
  PROP_BOUNDARY_THRESHOLD,
  PROP_REVIEW_MARGIN,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

#define DEFAULT_COVER_PATTERN "^(?:MRN)?[ :\\-]?(?<mrn>[0-9]{6,10})$"
#define DEFAULT_COVER_MAX_WORDS 60
static const gchar *const default_separators[] = { "PATCHT", NULL };
static const gchar *const default_keep_separators[] = { "PATCH2", NULL };
static const gchar *const default_batch_separators[] = { "PATCH3", NULL };
#define DEFAULT_BOUNDARY_THRESHOLD 0.5
#define DEFAULT_REVIEW_MARGIN 0.1
/* Learned by tests/bench/train_boundaries.py (logistic regression, L2,
 * C = 1) on two 240-page tuning draws of tests/bench/templates.py pooled
 * (`bench.py index --tune-only --seed 29` and `--seed 31`: 372 weighed
 * pages); cross-validated by template there: precision 0.993, recall
 * 0.997 (without `title-heading`: 0.976, 0.973). `bias` is the
 * intercept; a feature missing here weighs nothing. */
static const gchar *const default_boundary_weights[] = {
  "bias=-4.59",           "continued=-0.75",
  "cover-title=0.51",     "date-new=1.64",
  "has-date=1.84",        "has-dob=0.55",
  "has-mrn=0.36",         "has-name=0.55",
  "header-title=0.73",    "prev-page-last=0.05",
  "title-caps=1.96",      "title-centred=0.65",
  "title-found=1.14",     "title-heading=-2.11",
  "title-ink=1.01",       "title-kind-word=1.12",
  "title-rank=-0.09",     "title-size=1.38",
  "title-titlecase=1.51", "type-change=0.66",
  "type-same=-0.34",      NULL,
};

static void
cd_cover_clear(CdCover *cover)
{
  g_clear_pointer(&cover->mrn, g_free);
  g_clear_pointer(&cover->family, g_free);
  g_clear_pointer(&cover->given, g_free);
  g_clear_pointer(&cover->dob, g_free);
  g_clear_pointer(&cover->where, g_free);
  g_clear_pointer(&cover->conflict, g_free);
}

static void
cd_chart_splitter_reset_document(CdChartSplitter *self)
{
  g_clear_pointer(&self->doc_mrn, g_free);
  g_clear_pointer(&self->doc_family, g_free);
  g_clear_pointer(&self->doc_given, g_free);
}

static gboolean
cd_chart_splitter_start(CdStage *stage, GError **error)
{
  CdChartSplitter *self = CD_CHART_SPLITTER(stage);
  g_autoptr(GError) error_local = NULL;

  self->cover_re = g_regex_new(self->cover_pattern, 0, 0, &error_local);
  if (self->cover_re == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "cover-pattern: '%s' is not a regular expression: %s",
                self->cover_pattern, error_local->message);
    return FALSE;
  }
  if (g_regex_get_string_number(self->cover_re, "mrn") < 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "cover-pattern: '%s' has no (?<mrn>…) group", self->cover_pattern);
    g_clear_pointer(&self->cover_re, g_regex_unref);
    return FALSE;
  }
  self->weights = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  self->bias = 0.0;
  for (guint i = 0; self->boundary_weights != NULL && self->boundary_weights[i] != NULL; i++) {
    const gchar *item = self->boundary_weights[i];
    const gchar *eq = strchr(item, '=');
    gchar *end = NULL;
    gdouble w;
    g_autofree gchar *name = NULL;
    if (eq == NULL || eq == item) {
      g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "boundary-weights: item %u '%s' is not NAME=WEIGHT", i + 1, item);
      g_clear_pointer(&self->weights, g_hash_table_unref);
      return FALSE;
    }
    w = g_ascii_strtod(eq + 1, &end);
    if (end == eq + 1 || *end != '\0' || !isfinite(w)) {
      g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "boundary-weights: item %u '%s' has no numeric weight", i + 1,
                  item);
      g_clear_pointer(&self->weights, g_hash_table_unref);
      return FALSE;
    }
    name = g_strndup(item, eq - item);
    if (g_strcmp0(name, "bias") == 0)
      self->bias = w;
    else
      g_hash_table_replace(self->weights, g_steal_pointer(&name), g_memdup2(&w, sizeof w));
  }
  return TRUE;
}

static void
cd_chart_splitter_stop(CdStage *stage)
{
  CdChartSplitter *self = CD_CHART_SPLITTER(stage);

  g_clear_pointer(&self->cover_re, g_regex_unref);
  g_clear_pointer(&self->weights, g_hash_table_unref);
  cd_cover_clear(&self->cover);
  cd_chart_splitter_reset_document(self);
  g_clear_pointer(&self->last_path, g_free);
  g_clear_pointer(&self->last_date, g_free);
  g_clear_pointer(&self->prev_type, g_free);
}

static guint
cd_count_words(const gchar *text)
{
  guint n = 0;
  gboolean in_word = FALSE;

  for (const gchar *p = text; p != NULL && *p != '\0'; p++) {
    gboolean alnum = g_ascii_isalnum(*p);
    if (alnum && !in_word)
      n++;
    in_word = alnum;
  }
  return n;
}

static gboolean
cd_payload_in(gchar **list, const gchar *payload)
{
  for (guint i = 0; list != NULL && list[i] != NULL; i++) {
    if (g_ascii_strcasecmp(list[i], payload) == 0)
      return TRUE;
  }
  return FALSE;
}

typedef enum {
  CD_SHEET_NONE,
  CD_SHEET_SEPARATOR,
  CD_SHEET_KEEP_SEPARATOR,
  CD_SHEET_BATCH_SEPARATOR,
} CdSheet;

/* Reads the page's barcodes: separator kind and the cover MRN(s). */
static CdSheet
cd_chart_splitter_read_barcodes(CdChartSplitter *self, CdPage *page, GPtrArray *cover_mrns, gchar **sheet_payload)
{
  g_autoptr(GVariant) symbols = cd_page_get_fact(page, CD_FACT_BARCODES);
  CdSheet sheet = CD_SHEET_NONE;

  if (symbols == NULL || !g_variant_is_of_type(symbols, G_VARIANT_TYPE("aa{sv}")))
    return CD_SHEET_NONE;
  for (gsize i = 0; i < g_variant_n_children(symbols); i++) {
    g_autoptr(GVariant) symbol = g_variant_get_child_value(symbols, i);
    g_autoptr(GVariantDict) dict = g_variant_dict_new(symbol);
    g_autoptr(GMatchInfo) info = NULL;
    const gchar *payload = NULL;

    if (!g_variant_dict_lookup(dict, "payload", "&s", &payload))
      continue;
    if (cd_payload_in(self->batch_separators, payload))
      sheet = CD_SHEET_BATCH_SEPARATOR;
    else if (cd_payload_in(self->separators, payload) && sheet != CD_SHEET_BATCH_SEPARATOR)
      sheet = CD_SHEET_SEPARATOR;
    else if (cd_payload_in(self->keep_separators, payload) && sheet == CD_SHEET_NONE)
      sheet = CD_SHEET_KEEP_SEPARATOR;
    else if (g_regex_match(self->cover_re, payload, 0, &info)) {
      g_autofree gchar *mrn = g_match_info_fetch_named(info, "mrn");
      if (mrn != NULL && *mrn != '\0' && !g_ptr_array_find_with_equal_func(cover_mrns, mrn, g_str_equal, NULL))
        g_ptr_array_add(cover_mrns, g_steal_pointer(&mrn));
    }
    if (sheet != CD_SHEET_NONE && *sheet_payload == NULL)
      *sheet_payload = g_strdup(payload);
  }
  return sheet;
}

static void
cd_chart_splitter_take_cover(CdChartSplitter *self, CdPage *page, GPtrArray *mrns)
{
  g_autofree gchar *reason = NULL;

  cd_cover_clear(&self->cover);
  self->cover.where = g_strdup_printf("%s page %d", cd_page_get_source_path(page), cd_page_get_source_page(page) + 1);
  if (mrns->len > 1) {
    self->cover.conflict =
        g_strdup_printf("the cover sheet (%s) carries %u different MRNs", self->cover.where, mrns->len);
    reason = g_strdup_printf("cover sheet with %u different MRNs: unusable", mrns->len);
  } else {
    self->cover.mrn = g_strdup(g_ptr_array_index(mrns, 0));
    self->cover.family = cd_identity_page_string(page, CD_FACT_HEADER_FAMILY);
    self->cover.given = cd_identity_page_string(page, CD_FACT_HEADER_GIVEN);
    self->cover.dob = cd_identity_page_string(page, CD_FACT_HEADER_DOB);
    /* a cover whose printed MRN is another than its barcode's is unusable */
    {
      g_autofree gchar *printed = cd_identity_page_string(page, CD_FACT_HEADER_MRN);
      if (printed != NULL && !cd_identity_mrn_same(printed, self->cover.mrn))
        self->cover.conflict = g_strdup_printf("the cover sheet (%s) has barcode MRN %s but prints MRN %s",
                                               self->cover.where, self->cover.mrn, printed);
    }
    reason = g_strdup_printf("cover sheet for MRN %s", self->cover.mrn);
  }
  cd_page_set_kind(page, CD_PAGE_KIND_COVER, reason);
}

static void
cd_page_set_string(CdPage *page, const gchar *key, const gchar *value)
{
  if (value != NULL)
    cd_page_set_fact(page, key, g_variant_new_string(value));
}

static void
cd_chart_splitter_mark_cover(CdChartSplitter *self, CdPage *page)
{
  if (self->cover.where == NULL)
    return;
  cd_page_set_string(page, CD_FACT_COVER_PAGE, self->cover.where);
  cd_page_set_string(page, CD_FACT_COVER_CONFLICT, self->cover.conflict);
  cd_page_set_string(page, CD_FACT_COVER_MRN, self->cover.mrn);
  cd_page_set_string(page, CD_FACT_COVER_FAMILY, self->cover.family);
  cd_page_set_string(page, CD_FACT_COVER_GIVEN, self->cover.given);
  cd_page_set_string(page, CD_FACT_COVER_DOB, self->cover.dob);
}

/* Whether the page's own header names someone other than the document so
 * far. Readings are compared with letter/digit confusions undone. */
static gboolean
cd_chart_splitter_patient_changes(CdChartSplitter *self, const gchar *mrn, const gchar *family, const gchar *given)
{
  if (mrn != NULL && self->doc_mrn != NULL)
    return !cd_identity_mrn_same(mrn, self->doc_mrn);
  if (family != NULL && self->doc_family != NULL) {
    if (g_strcmp0(family, self->doc_family) != 0)
      return TRUE;
    return given != NULL && self->doc_given != NULL && g_strcmp0(given, self->doc_given) != 0;
  }
  return FALSE;
}

static gdouble
cd_chart_splitter_weight(CdChartSplitter *self, const gchar *name)
{
  const gdouble *w = self->weights != NULL ? g_hash_table_lookup(self->weights, name) : NULL;
  return w != NULL ? *w : 0.0;
}

/* The three features that weighed most on a page, for the review reason. */
typedef struct {
  gchar *name[3];
  gdouble weight[3];
} CdEvidence;

static void
cd_evidence_add(CdEvidence *e, const gchar *name, gdouble c)
{
  for (guint k = 0; k < 3; k++) {
    if (fabs(c) > fabs(e->weight[k])) {
      g_free(e->name[2]);
      for (guint j = 2; j > k; j--) {
        e->weight[j] = e->weight[j - 1];
        e->name[j] = e->name[j - 1];
      }
      e->weight[k] = c;
      e->name[k] = g_strdup(name);
      return;
    }
  }
}

/* "title-size +1.4, date-new +1.8"; frees what @e holds. */
static gchar *
cd_evidence_take_string(CdEvidence *e)
{
  GString *why = g_string_new(NULL);
  for (guint k = 0; k < 3; k++) {
    if (e->name[k] != NULL)
      g_string_append_printf(why, "%s%s %+.1f", why->len > 0 ? ", " : "", e->name[k], e->weight[k]);
    g_clear_pointer(&e->name[k], g_free);
  }
  if (why->len == 0)
    g_string_append(why, "no evidence either way");
  return g_string_free(why, FALSE);
}

/* the `page-type` stage's facts (plugins/classify), read by name: plugins
 * share facts, not headers */
#define CD_FACT_PAGE_TYPE "classify.page-type"
#define CD_FACT_PAGE_TYPE_SCORE "classify.page-type-score"
/* a page's own type counts from this score on */
#define CD_CONFIDENT_PAGE_TYPE 0.5

/* The probability that @page starts a document, from the page's own
 * evidence (the header stage's `boundary.page`) and what it says against
 * the pages before it in the file: a date of service other than the last
 * one read (`date-new`) or the same (`date-same`), and whether the page
 * before was the last of its "Page N of N" (`prev-page-last`), and
 * whether the page's own confident type (`page-type` stage) differs from
 * the page before's (`type-change`) or is the same (`type-same`), and a
 * title on a page without an MRN behind a cover sheet (`cover-title`). The
 * features depend on the pages read, not on earlier decisions, so labelled
 * charts give training data as they are. Records every feature and the
 * probability on the page (`chart.features`, `chart.p-start`); @evidence
 * names the features that weighed most. */
static gdouble
cd_chart_splitter_weigh(CdChartSplitter *self, CdPage *page, gchar **evidence)
{
  g_autoptr(GVariant) own = cd_page_get_fact(page, CD_FACT_BOUNDARY_PAGE);
  g_autoptr(GVariant) page_of = cd_page_get_fact(page, CD_FACT_HEADER_PAGE);
  g_autofree gchar *date = cd_identity_page_string(page, CD_FACT_HEADER_DATE);
  g_autofree gchar *type = cd_identity_page_string(page, CD_FACT_PAGE_TYPE);
  g_autoptr(GVariant) type_score = cd_page_get_fact(page, CD_FACT_PAGE_TYPE_SCORE);
  CdEvidence best = { { NULL } };
  GVariantBuilder b;
  gdouble z = self->bias;
  gdouble p;

  g_variant_builder_init(&b, G_VARIANT_TYPE("a{sd}"));
  {
    GVariantIter iter;
    const gchar *name;
    gdouble v;
    if (own != NULL && g_variant_is_of_type(own, G_VARIANT_TYPE("a{sd}"))) {
      g_variant_iter_init(&iter, own);
      while (g_variant_iter_next(&iter, "{&sd}", &name, &v)) {
        if (!self->split_on_title && g_str_has_prefix(name, "title-"))
          continue;
        g_variant_builder_add(&b, "{sd}", name, v);
        {
          gdouble c = v * cd_chart_splitter_weight(self, name);
          z += c;
          cd_evidence_add(&best, name, c);
        }
      }
    }
  }
  {
    const gchar *ctx[] = { "date-new", "date-same", "prev-page-last", "type-change", "type-same", "cover-title" };
    gdouble val[] = { date != NULL && self->last_date != NULL && g_strcmp0(date, self->last_date) != 0,
                      date != NULL && g_strcmp0(date, self->last_date) == 0,
                      self->prev_page_last,
                      0,
                      0,
                      0 };
    gdouble title_found = 0, has_mrn = 0;
    if (own != NULL && g_variant_is_of_type(own, G_VARIANT_TYPE("a{sd}"))) {
      g_variant_lookup(own, "title-found", "d", &title_found);
      g_variant_lookup(own, "has-mrn", "d", &has_mrn);
    }
    /* behind a cover sheet documents often print no patient block: a
     * title is then all that separates them */
    if (self->split_on_title && self->cover.where != NULL && has_mrn == 0)
      val[5] = title_found;
    if (type_score == NULL || !g_variant_is_of_type(type_score, G_VARIANT_TYPE_DOUBLE) ||
        g_variant_get_double(type_score) < CD_CONFIDENT_PAGE_TYPE)
      g_clear_pointer(&type, g_free);
    val[3] = type != NULL && self->prev_type != NULL && g_strcmp0(type, self->prev_type) != 0;
    val[4] = type != NULL && g_strcmp0(type, self->prev_type) == 0;
    for (guint i = 0; i < G_N_ELEMENTS(ctx); i++) {
      gdouble c = val[i] * cd_chart_splitter_weight(self, ctx[i]);
      g_variant_builder_add(&b, "{sd}", ctx[i], val[i]);
      z += c;
      cd_evidence_add(&best, ctx[i], c);
    }
  }
  p = 1.0 / (1.0 + exp(-z));
  cd_page_set_fact(page, CD_FACT_CHART_FEATURES, g_variant_builder_end(&b));
  cd_page_set_fact(page, CD_FACT_CHART_P_START, g_variant_new_double(p));

  if (date != NULL) {
    g_free(self->last_date);
    self->last_date = g_steal_pointer(&date);
  }
  g_free(self->prev_type);
  self->prev_type = g_steal_pointer(&type);
  self->prev_page_last = FALSE;
  if (page_of != NULL && g_variant_is_of_type(page_of, G_VARIANT_TYPE("(uu)"))) {
    guint32 n, m;
    g_variant_get(page_of, "(uu)", &n, &m);
    self->prev_page_last = n == m;
  }
  *evidence = cd_evidence_take_string(&best);
  return p;
}

static gboolean
cd_chart_splitter_decide(CdSplitter *splitter, CdPage *page, CdDocument *current, CdSplitDecision *decision,
                         GError **error)
{
  CdChartSplitter *self = CD_CHART_SPLITTER(splitter);
  const gchar *path = cd_page_get_source_path(page);
  g_autoptr(GPtrArray) cover_mrns = g_ptr_array_new_with_free_func(g_free);
  g_autofree gchar *sheet_payload = NULL;
  g_autofree gchar *mrn = NULL;
  g_autofree gchar *family = NULL;
  g_autofree gchar *given = NULL;
  g_autofree gchar *evidence = NULL;
  g_autoptr(GVariant) page_of = NULL;
  guint32 page_n = 0;
  gboolean is_new = FALSE;
  gdouble p_start;
  CdSheet sheet;

  *decision = CD_SPLIT_CONTINUE;

  /* a new file starts a new document; with the file scope, it also ends
   * the cover sheet's reach */
  if (g_strcmp0(path, self->last_path) != 0) {
    g_free(self->last_path);
    self->last_path = g_strdup(path);
    if (self->cover_scope == CD_COVER_SCOPE_FILE)
      cd_cover_clear(&self->cover);
    cd_chart_splitter_reset_document(self);
    g_clear_pointer(&self->last_date, g_free);
    g_clear_pointer(&self->prev_type, g_free);
    self->prev_page_last = FALSE;
    self->pending_new = FALSE;
    is_new = TRUE;
  }
  if (cd_page_get_kind(page) != CD_PAGE_KIND_PAGE)
    return TRUE; /* blank, unreadable: not part of any document */

  sheet = cd_chart_splitter_read_barcodes(self, page, cover_mrns, &sheet_payload);
  if (sheet == CD_SHEET_SEPARATOR || sheet == CD_SHEET_BATCH_SEPARATOR) {
    g_autofree gchar *reason = g_strdup_printf("separator sheet (%s)", sheet_payload);
    cd_page_set_kind(page, CD_PAGE_KIND_SEPARATOR, reason);
    if (sheet == CD_SHEET_BATCH_SEPARATOR)
      cd_cover_clear(&self->cover);
    cd_chart_splitter_reset_document(self);
    self->pending_new = TRUE;
    return TRUE;
  }
  if (cover_mrns->len > 0 && cd_count_words(cd_page_get_text(page)) <= self->cover_max_words) {
    cd_chart_splitter_take_cover(self, page, cover_mrns);
    cd_chart_splitter_reset_document(self);
    self->pending_new = TRUE;
    return TRUE;
  }

  cd_chart_splitter_mark_cover(self, page);
  mrn = cd_identity_page_string(page, CD_FACT_HEADER_MRN);
  family = cd_identity_page_string(page, CD_FACT_HEADER_FAMILY);
  given = cd_identity_page_string(page, CD_FACT_HEADER_GIVEN);

  page_of = cd_page_get_fact(page, CD_FACT_HEADER_PAGE);
  if (page_of != NULL && g_variant_is_of_type(page_of, G_VARIANT_TYPE("(uu)")))
    g_variant_get(page_of, "(uu)", &page_n, NULL);
  p_start = cd_chart_splitter_weigh(self, page, &evidence);
  if (current == NULL || is_new || self->pending_new || sheet == CD_SHEET_KEEP_SEPARATOR) {
    is_new = TRUE;
  } else if (self->split_on_patient && cd_chart_splitter_patient_changes(self, mrn, family, given)) {
    is_new = TRUE; /* a rule, never outweighed: pages of two patients are never one document */
  } else if (page_n > 0) {
    /* a printed page number is the form's own word: "Page 1 of N" starts
     * a document, "Page 2 of N" continues one, whatever else the page
     * shows (the tuning charts are too few to learn so strong a weight) */
    is_new = page_n == 1;
  } else {
    is_new = p_start >= self->boundary_threshold;
    if (fabs(p_start - self->boundary_threshold) < self->review_margin) {
      g_autofree gchar *why =
          g_strdup_printf("uncertain document boundary at %s page %d: %s a new document (p %.2f; %s)", path,
                          cd_page_get_source_page(page) + 1, is_new ? "taken for" : "not taken for", p_start, evidence);
      cd_page_set_string(page, CD_FACT_CHART_UNCERTAIN, why);
    }
  }
  self->pending_new = FALSE;

  if (is_new) {
    cd_chart_splitter_reset_document(self);
    *decision = CD_SPLIT_NEW_DOCUMENT;
  }
  if (self->doc_mrn == NULL && mrn != NULL)
    self->doc_mrn = g_steal_pointer(&mrn);
  if (self->doc_family == NULL && family != NULL) {
    self->doc_family = g_steal_pointer(&family);
    self->doc_given = g_steal_pointer(&given);
  }
  return TRUE;
}

static void
cd_chart_splitter_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdChartSplitter *self = CD_CHART_SPLITTER(object);

  switch (prop_id) {
  case PROP_COVER_PATTERN:
    g_value_set_string(value, self->cover_pattern);
    break;
  case PROP_COVER_MAX_WORDS:
    g_value_set_uint(value, self->cover_max_words);
    break;
  case PROP_SEPARATORS:
    g_value_set_boxed(value, self->separators);
    break;
  case PROP_KEEP_SEPARATORS:
    g_value_set_boxed(value, self->keep_separators);
    break;
  case PROP_BATCH_SEPARATORS:
    g_value_set_boxed(value, self->batch_separators);
    break;
  case PROP_SPLIT_ON_TITLE:
    g_value_set_boolean(value, self->split_on_title);
    break;
  case PROP_SPLIT_ON_PATIENT:
    g_value_set_boolean(value, self->split_on_patient);
    break;
  case PROP_COVER_SCOPE:
    g_value_set_enum(value, self->cover_scope);
    break;
  case PROP_BOUNDARY_WEIGHTS:
    g_value_set_boxed(value, self->boundary_weights);
    break;
  case PROP_BOUNDARY_THRESHOLD:
    g_value_set_double(value, self->boundary_threshold);
    break;
  case PROP_REVIEW_MARGIN:
    g_value_set_double(value, self->review_margin);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_chart_splitter_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdChartSplitter *self = CD_CHART_SPLITTER(object);

  switch (prop_id) {
  case PROP_COVER_PATTERN:
    g_free(self->cover_pattern);
    self->cover_pattern = g_value_dup_string(value);
    break;
  case PROP_COVER_MAX_WORDS:
    self->cover_max_words = g_value_get_uint(value);
    break;
  case PROP_SEPARATORS:
    g_strfreev(self->separators);
    self->separators = g_value_dup_boxed(value);
    break;
  case PROP_KEEP_SEPARATORS:
    g_strfreev(self->keep_separators);
    self->keep_separators = g_value_dup_boxed(value);
    break;
  case PROP_BATCH_SEPARATORS:
    g_strfreev(self->batch_separators);
    self->batch_separators = g_value_dup_boxed(value);
    break;
  case PROP_SPLIT_ON_TITLE:
    self->split_on_title = g_value_get_boolean(value);
    break;
  case PROP_SPLIT_ON_PATIENT:
    self->split_on_patient = g_value_get_boolean(value);
    break;
  case PROP_COVER_SCOPE:
    self->cover_scope = g_value_get_enum(value);
    break;
  case PROP_BOUNDARY_WEIGHTS:
    g_strfreev(self->boundary_weights);
    self->boundary_weights = g_value_dup_boxed(value);
    break;
  case PROP_BOUNDARY_THRESHOLD:
    self->boundary_threshold = g_value_get_double(value);
    break;
  case PROP_REVIEW_MARGIN:
    self->review_margin = g_value_get_double(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_chart_splitter_finalize(GObject *object)
{
  CdChartSplitter *self = CD_CHART_SPLITTER(object);

  cd_chart_splitter_stop(CD_STAGE(self));
  g_free(self->cover_pattern);
  g_strfreev(self->separators);
  g_strfreev(self->keep_separators);
  g_strfreev(self->batch_separators);
  g_strfreev(self->boundary_weights);
  G_OBJECT_CLASS(cd_chart_splitter_parent_class)->finalize(object);
}

static void
cd_chart_splitter_class_init(CdChartSplitterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdSplitterClass *splitter_class = CD_SPLITTER_CLASS(klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = cd_chart_splitter_finalize;
  object_class->get_property = cd_chart_splitter_get_property;
  object_class->set_property = cd_chart_splitter_set_property;
  stage_class->start = cd_chart_splitter_start;
  stage_class->stop = cd_chart_splitter_stop;
  splitter_class->decide = cd_chart_splitter_decide;

  props[PROP_COVER_PATTERN] =
      g_param_spec_string("cover-pattern", "Cover sheet pattern",
                          "Regular expression a cover sheet's barcode payload matches, with a (?<mrn>…) group",
                          DEFAULT_COVER_PATTERN, flags | G_PARAM_CONSTRUCT);
  props[PROP_COVER_MAX_WORDS] = g_param_spec_uint(
      "cover-max-words", "Cover sheet words",
      "Most words of text a cover sheet has; a page with more is a document page with a patient label", 0, 10000,
      DEFAULT_COVER_MAX_WORDS, flags | G_PARAM_CONSTRUCT);
  props[PROP_SEPARATORS] = g_param_spec_boxed(
      "separators", "Separator payloads",
      "Barcode payloads, separated by ';', of sheets that start a new document and are set aside", G_TYPE_STRV, flags);
  props[PROP_KEEP_SEPARATORS] =
      g_param_spec_boxed("keep-separators", "Kept separator payloads",
                         "Barcode payloads of pages that start a new document and belong to it", G_TYPE_STRV, flags);
  props[PROP_BATCH_SEPARATORS] = g_param_spec_boxed(
      "batch-separators", "Batch separator payloads",
      "Barcode payloads of sheets that end the current chart: set aside, the cover sheet in force is forgotten",
      G_TYPE_STRV, flags);
  props[PROP_SPLIT_ON_TITLE] =
      g_param_spec_boolean("split-on-title", "Split on titles",
                           "Weigh a title at the top of a page (by layout or wording) as evidence of a new document",
                           TRUE, flags | G_PARAM_CONSTRUCT);
  props[PROP_SPLIT_ON_PATIENT] =
      g_param_spec_boolean("split-on-patient", "Split on patient change",
                           "A page whose header names another patient than the document so far starts a new document",
                           TRUE, flags | G_PARAM_CONSTRUCT);
  props[PROP_COVER_SCOPE] = g_param_spec_enum(
      "cover-scope", "Cover sheet reach",
      "How far a cover sheet reaches: to the end of its file, or through later files until the next cover sheet",
      cd_cover_scope_get_type(), CD_COVER_SCOPE_FILE, flags | G_PARAM_CONSTRUCT);
  props[PROP_BOUNDARY_WEIGHTS] = g_param_spec_boxed(
      "boundary-weights", "Boundary weights",
      "NAME=WEIGHT items, separated by ';', of the logistic model that weighs the evidence of a new document "
      "(bias is the intercept); the default was learned from labelled charts",
      G_TYPE_STRV, flags);
  props[PROP_BOUNDARY_THRESHOLD] = g_param_spec_double("boundary-threshold", "Boundary threshold",
                                                       "Probability from which a page starts a new document", 0.0, 1.0,
                                                       DEFAULT_BOUNDARY_THRESHOLD, flags | G_PARAM_CONSTRUCT);
  props[PROP_REVIEW_MARGIN] = g_param_spec_double(
      "review-margin", "Review margin",
      "A boundary whose probability is this close to the threshold is uncertain: its document goes to review "
      "with the reason (0: never)",
      0.0, 0.5, DEFAULT_REVIEW_MARGIN, flags | G_PARAM_CONSTRUCT);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "chart",
                              "Splits charts into documents at cover sheets, separator sheets and patient changes, "
                              "and where the weighed evidence (titles, dates of service, page numbers) says so");
}

static void
cd_chart_splitter_init(CdChartSplitter *self)
{
  self->separators = g_strdupv((gchar **) default_separators);
  self->keep_separators = g_strdupv((gchar **) default_keep_separators);
  self->batch_separators = g_strdupv((gchar **) default_batch_separators);
  self->boundary_weights = g_strdupv((gchar **) default_boundary_weights);
}
