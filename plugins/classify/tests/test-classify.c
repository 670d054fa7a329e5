/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The classify plugin's classifiers on real text: the sample charts'
 * ground truth, transcribed reports from MTSamples, OCR-damaged text, and
 * external programs that answer, fail, talk nonsense or hang.
 */
#include <chartdesk.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "../cd-classify-text.h"
#include "cd-test-util.h"

static CdRegistry *registry;
static CdTaxonomy *taxonomy;

/* A classifier of the classify plugin with options, started. */
static CdClassifier *
make_classifier(const gchar *name, GError **error, const gchar *first_property, ...)
{
  GType type = cd_registry_find_stage(registry, name, error);
  g_autoptr(CdClassifier) classifier = NULL;
  va_list args;

  g_assert_true(type != G_TYPE_INVALID);
  va_start(args, first_property);
  classifier = CD_CLASSIFIER(g_object_new_valist(type, first_property, args));
  va_end(args);
  cd_classifier_set_taxonomy(classifier, taxonomy);
  if (!cd_stage_start(CD_STAGE(classifier), error))
    return NULL;
  return g_steal_pointer(&classifier);
}

/* A document of one page per text. */
static CdDocument *
make_document(const gchar *const *texts)
{
  CdDocument *document = cd_document_new();
  for (guint i = 0; texts[i] != NULL; i++) {
    g_autoptr(CdPage) page = cd_page_new("test.tif", i, "0000");
    cd_page_set_text(page, texts[i]);
    cd_document_add_page(document, page);
  }
  return document;
}

/* The best label of a classifier's answer, and its score. */
static const gchar *
best_label(GPtrArray *scores, gdouble *score)
{
  const gchar *best = NULL;
  gdouble top = -1;
  for (guint i = 0; i < scores->len; i++) {
    CdLabelScore *s = g_ptr_array_index(scores, i);
    if (s->score > top) {
      top = s->score;
      best = s->label;
    }
  }
  if (score != NULL)
    *score = top;
  return best;
}

static const gchar *
classify_text(CdClassifier *classifier, const gchar *text, gdouble *score, GPtrArray **keep)
{
  const gchar *texts[] = { text, NULL };
  g_autoptr(CdDocument) document = make_document(texts);
  g_autoptr(GError) error = NULL;
  GPtrArray *scores = cd_classifier_classify(classifier, document, NULL, &error);

  g_assert_no_error(error);
  *keep = scores;
  return best_label(scores, score);
}

/* The OCR-tolerant text forms: hyphenated line ends joined, case and
 * punctuation ignored, broken words squeezed, misread letters allowed. */
static void
test_classify_text_forms(void)
{
  g_autofree gchar *joined = cd_classify_text_join("The dis-\n  charge  was\tplanned;\nwell- \nknown");
  g_autofree gchar *flat = cd_classify_text_flatten("HOSPITAL  COURSE:\nThe pa-\ntient, Café");
  g_autofree gchar *squeezed = cd_classify_text_squeeze(" dis charge summ ary ");

  g_assert_cmpstr(joined, ==, "The discharge was planned;\nwellknown");
  g_assert_cmpstr(flat, ==, " hospital course the patient cafe ");
  g_assert_cmpstr(squeezed, ==, "dischargesummary");
  g_assert_true(cd_classify_text_find_approx("xxd1schargesummaryxx", "dischargesummary", 2));
  g_assert_true(cd_classify_text_find_approx("dischargsumary", "dischargesummary", 2));
  g_assert_false(cd_classify_text_find_approx("dischsumary", "dischargesummary", 2));
  g_assert_false(cd_classify_text_find_approx("progressnote", "dischargesummary", 2));
  g_assert_true(cd_classify_text_find_approx("abc", "", 0));
}

/* Every document of the sample charts' ground truth gets its type, and
 * still does when the text is damaged as OCR damages it. */
static void
test_classify_rules_ground_truth(void)
{
  g_autofree gchar *path = g_test_build_filename(G_TEST_DIST, "samples", "ground-truth.jsonl", NULL);
  g_autofree gchar *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdClassifier) rules = make_classifier("rules", &error, NULL);
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) texts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) truth = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer key, value;
  guint n = 0;

  g_assert_no_error(error);
  g_assert_true(g_file_get_contents(path, &contents, NULL, &error));
  lines = g_strsplit(contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autoptr(JsonNode) node = NULL;
    JsonObject *obj;
    g_autofree gchar *doc_key = NULL;
    const gchar *text;
    if (lines[i][0] == '\0')
      continue;
    node = json_from_string(lines[i], &error);
    g_assert_no_error(error);
    obj = json_node_get_object(node);
    if (json_object_get_null_member(obj, "doc_type"))
      continue;
    doc_key = g_strdup_printf("%s#%" G_GINT64_FORMAT, json_object_get_string_member(obj, "path"),
                              json_object_get_int_member(obj, "doc_index"));
    text = json_object_get_string_member(obj, "text");
    if (g_hash_table_contains(texts, doc_key)) {
      gchar *joined = g_strdup_printf("%s\f%s", (gchar *) g_hash_table_lookup(texts, doc_key), text);
      g_hash_table_replace(texts, g_strdup(doc_key), joined);
    } else {
      g_hash_table_insert(texts, g_strdup(doc_key), g_strdup(text));
      g_hash_table_insert(truth, g_strdup(doc_key), g_strdup(json_object_get_string_member(obj, "doc_type")));
    }
  }
  g_hash_table_iter_init(&iter, texts);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    const gchar *expect = g_hash_table_lookup(truth, key);
    g_autoptr(GPtrArray) scores = NULL;
    g_autoptr(GPtrArray) damaged_scores = NULL;
    g_autoptr(GString) damaged = g_string_new(value);
    gdouble score = 0;
    const gchar *got = classify_text(rules, value, &score, &scores);

    g_test_message("%s: %s (%.2f), expected %s", (gchar *) key, got, score, expect);
    g_assert_cmpstr(got, ==, expect);
    g_assert_cmpfloat(score, >=, 0.6);
    /* OCR damage: lower case, words broken by a space, a hyphenated line end */
    for (gsize i = 0; i < damaged->len; i++)
      damaged->str[i] = g_ascii_tolower(damaged->str[i]);
    for (gsize i = 12; i < damaged->len; i += 37) {
      if (g_ascii_isalpha(damaged->str[i]) && g_ascii_isalpha(damaged->str[i - 1]))
        g_string_insert_c(damaged, i, (i / 37) % 2 == 0 ? ' ' : '\n');
    }
    got = classify_text(rules, damaged->str, &score, &damaged_scores);
    g_assert_cmpstr(got, ==, expect);
    n++;
  }
  g_assert_cmpuint(n, ==, 10);
}

/* A title OCR damaged (a digit for a letter, a word split, the case)
 * still names the type, and a hyphenated keyword across a line counts. */
static void
test_classify_rules_ocr_noise(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdClassifier) rules = make_classifier("rules", &error, NULL);
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) b = NULL;
  g_autoptr(GPtrArray) c = NULL;
  gdouble score = 0;

  g_assert_no_error(error);
  g_assert_cmpstr(classify_text(rules, "MERCY GENERAL\nD1SCHARGE SUMM ARY\nMRN 123\nThe patient was well.", &score, &a),
                  ==, "discharge-summary");
  g_assert_cmpstr(classify_text(rules,
                                "Seen today.\nOPERAT1VE REP0RT\nThe patient was prepped and dra-\nped in "
                                "the usual sterile fashion.",
                                &score, &b),
                  ==, "operative-report");
  g_assert_cmpfloat(score, >=, 0.9);
  /* no rule found: an empty answer, "don't know" */
  classify_text(rules, "The quick brown fox.", &score, &c);
  g_assert_cmpuint(c->len, ==, 0);
}

/* Reads one record of a CSV file (RFC 4180: quoted fields may hold
 * commas, quotes doubled and line breaks); NULL at the end. */
static GPtrArray *
csv_next(const gchar **p)
{
  GPtrArray *fields;
  GString *field = g_string_new(NULL);

  if (**p == '\0') {
    g_string_free(field, TRUE);
    return NULL;
  }
  fields = g_ptr_array_new_with_free_func(g_free);
  for (;;) {
    if (**p == '"') {
      (*p)++;
      while (**p != '\0') {
        if (**p == '"' && (*p)[1] == '"') {
          g_string_append_c(field, '"');
          *p += 2;
        } else if (**p == '"') {
          (*p)++;
          break;
        } else {
          g_string_append_c(field, *(*p)++);
        }
      }
    }
    while (**p != '\0' && **p != ',' && **p != '\n' && **p != '\r')
      g_string_append_c(field, *(*p)++);
    g_ptr_array_add(fields, g_strdup(field->str));
    g_string_truncate(field, 0);
    if (**p == ',') {
      (*p)++;
      continue;
    }
    if (**p == '\r')
      (*p)++;
    if (**p == '\n')
      (*p)++;
    break;
  }
  g_string_free(field, TRUE);
  return fields;
}

/* Transcribed reports from MTSamples (real clinical prose, CC0), by the
 * specialty that names a type of ours: the rules classifier puts most in
 * the right type. The figures are printed for the record; the floor each
 * type must reach is well under what it measured when written. */
static void
test_classify_rules_mtsamples(void)
{
  const struct {
    const gchar *specialty;
    const gchar *type;
    gdouble floor;
  } map[] = {
    /* measured when written: 85%, 68%, 38%, 93%, 73% */
    { "Discharge Summary", "discharge-summary", 0.75 },         { "Radiology", "radiology-report", 0.6 },
    { "Emergency Room Reports", "emergency-record", 0.3 },      { "Letters", "correspondence", 0.8 },
    { "SOAP / Chart / Progress Notes", "progress-note", 0.55 },
  };
  g_autofree gchar *path = NULL;
  g_autofree gchar *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdClassifier) rules = NULL;
  g_autoptr(GPtrArray) header = NULL;
  const gchar *p;
  guint right[G_N_ELEMENTS(map)] = { 0 };
  guint total[G_N_ELEMENTS(map)] = { 0 };
  gint col_specialty = -1, col_text = -1;

  path = cd_test_shared_data("mtsamples/mtsamples-train.csv");
  if (path == NULL)
    return;
  g_assert_true(g_file_get_contents(path, &contents, NULL, &error));
  g_assert_no_error(error);
  rules = make_classifier("rules", &error, NULL);
  g_assert_no_error(error);
  p = contents;
  header = csv_next(&p);
  for (guint i = 0; i < header->len; i++) {
    if (g_strcmp0(g_ptr_array_index(header, i), "medical_specialty") == 0)
      col_specialty = i;
    if (g_strcmp0(g_ptr_array_index(header, i), "transcription") == 0)
      col_text = i;
  }
  g_assert_cmpint(col_specialty, >=, 0);
  g_assert_cmpint(col_text, >=, 0);
  for (;;) {
    g_autoptr(GPtrArray) record = csv_next(&p);
    if (record == NULL)
      break;
    if ((guint) MAX(col_specialty, col_text) >= record->len)
      continue;
    for (guint m = 0; m < G_N_ELEMENTS(map); m++) {
      g_autoptr(GPtrArray) scores = NULL;
      const gchar *text = g_ptr_array_index(record, col_text);
      if (g_strcmp0(g_ptr_array_index(record, col_specialty), map[m].specialty) != 0 || text[0] == '\0' ||
          total[m] >= 60)
        continue;
      const gchar *got;
      total[m]++;
      got = classify_text(rules, text, NULL, &scores);
      if (g_strcmp0(got, map[m].type) == 0)
        right[m]++;
      else if (g_getenv("CD_CLASSIFY_VERBOSE") != NULL)
        g_test_message("%s taken for %s: %.60s", map[m].type, got, text);
    }
  }
  for (guint m = 0; m < G_N_ELEMENTS(map); m++)
    g_test_message("%s: %u of %u right (%.0f%%)", map[m].type, right[m], total[m],
                   total[m] > 0 ? 100.0 * right[m] / total[m] : 0.0);
  for (guint m = 0; m < G_N_ELEMENTS(map); m++) {
    gdouble recall = total[m] > 0 ? (gdouble) right[m] / total[m] : 0;
    g_assert_cmpuint(total[m], >, 5);
    g_assert_cmpfloat(recall, >=, map[m].floor);
  }
}

/* A rules file naming a type the taxonomy lacks, or holding a broken
 * pattern, stops the classifier from starting, naming file and group. */
static void
test_classify_rules_bad_file(void)
{
  const struct {
    const gchar *data;
    const gchar *message;
  } cases[] = {
    { "[invoice]\ntitles=invoice\n", "[invoice]: not a document type of" },
    { "[consent]\npatterns=(unclosed\n", "[consent] patterns: '(unclosed': " },
    { "[letter]\nkeywords=--;dear\n", "[letter] keywords: '--' has no letters or digits" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree gchar *file = NULL;
    gint fd = g_file_open_tmp("cd-rules-XXXXXX.conf", &file, &error);
    g_autoptr(CdClassifier) rules = NULL;

    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(file, cases[i].data, -1, &error));
    rules = make_classifier("rules", &error, "rules", file, NULL);
    g_assert_null(rules);
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_assert_true(g_str_has_prefix(error->message, "rules: "));
    g_assert_true(g_str_has_prefix(error->message + strlen("rules: "), file));
    g_assert_nonnull(strstr(error->message, cases[i].message));
    g_unlink(file);
  }
}

/* A rules classifier started on a rules file of @data (a temporary file,
 * removed at once: the rules are read at start). */
static CdClassifier *
rules_from(const gchar *data)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *file = NULL;
  gint fd = g_file_open_tmp("cd-rules-XXXXXX.conf", &file, &error);
  CdClassifier *rules;

  g_assert_no_error(error);
  close(fd);
  g_assert_true(g_file_set_contents(file, data, -1, &error));
  rules = make_classifier("rules", &error, "rules", file, NULL);
  g_assert_no_error(error);
  g_unlink(file);
  return rules;
}

/* The evidence (before scaling) a one-rule-set classifier finds in @text:
 * with `evidence` 1000 and one type, the score is evidence / 1000. */
static gdouble
evidence_of(CdClassifier *rules, CdDocument *document)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) scores = cd_classifier_classify(rules, document, NULL, &error);
  gdouble score = 0;

  g_assert_no_error(error);
  if (scores->len == 0)
    return 0;
  best_label(scores, &score);
  return score * 1000;
}

static gdouble
evidence_of_text(CdClassifier *rules, const gchar *text)
{
  const gchar *texts[] = { text, NULL };
  g_autoptr(CdDocument) document = make_document(texts);
  return evidence_of(rules, document);
}

/* Sections count as headings only: the label before a line's ':', a
 * heading line of its own, or the end of a short label; never the words
 * in prose, a long label, or a sentence that happens to be short. */
static void
test_classify_rules_sections(void)
{
  g_autoptr(CdClassifier) rules =
      rules_from("[rules]\nsection-weight=2\n[pathology-report]\nsections=gross description;4:final diagnosis;"
                 "disposition\n");
  g_object_set(rules, "evidence", 1000.0, NULL);
  /* the label before ':' (any case, OCR's broken spaces) and a capitals line */
  g_assert_cmpfloat_with_epsilon(evidence_of_text(rules, "GROSS DESCRIPTION:\nTwo cores.\nFINAL DIAGNOSIS\nBenign."),
                                 6.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(evidence_of_text(rules, "Gross descr iption: two cores."), 2.0, 1e-9);
  /* a title-case heading line; the end of a short label */
  g_assert_cmpfloat_with_epsilon(evidence_of_text(rules, "Final Diagnosis\nBenign.\nED Disposition: home"), 6.0, 1e-9);
  /* prose, a sentence line, a label of more than five words, a colon far in */
  g_assert_cmpfloat_with_epsilon(
      evidence_of_text(rules, "The gross description was reviewed.\nFinal diagnosis.\n"
                              "Plan and then a final disposition: home\n"
                              "We reviewed the slides today and we agree with the outside final diagnosis: benign"),
      0.0, 1e-9);
  /* each section counts once */
  g_assert_cmpfloat_with_epsilon(evidence_of_text(rules, "Disposition: home\nDISPOSITION\nDisposition: ward"), 2.0,
                                 1e-9);
}

/* A title in the first page's layout title (the header stage's
 * `boundary.title`) counts `layout-title-weight` more; in the body, or
 * on a later page's layout title, it counts as a title only; without the
 * key it counts nothing more. */
static void
test_classify_rules_layout_title(void)
{
  g_autoptr(CdClassifier) rules =
      rules_from("[rules]\nlayout-title-weight=5\n[correspondence]\ntitles=clinic letter;letter\n");
  g_autoptr(CdClassifier) plain = rules_from("[correspondence]\ntitles=clinic letter;letter\n");
  const gchar *texts[] = { "CITY HOSPITAL\nCLINIC LETTER\nDear Dr Lee,", "page two", NULL };
  g_autoptr(CdDocument) titled = make_document(texts);
  g_autoptr(CdDocument) untitled = make_document(texts);
  g_autoptr(CdDocument) later = make_document(texts);
  GPtrArray *pages;

  g_object_set(rules, "evidence", 1000.0, NULL);
  g_object_set(plain, "evidence", 1000.0, NULL);
  pages = cd_document_get_pages(titled);
  cd_page_set_fact(g_ptr_array_index(pages, 0), "boundary.title", g_variant_new_string("Clinic  Letter"));
  pages = cd_document_get_pages(later);
  cd_page_set_fact(g_ptr_array_index(pages, 1), "boundary.title", g_variant_new_string("CLINIC LETTER"));
  /* the title line: `clinic letter` 3 (`letter` alone is a one-word title: a line of its own only) */
  g_assert_cmpfloat_with_epsilon(evidence_of(rules, untitled), 3.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(evidence_of(rules, later), 3.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(evidence_of(rules, titled), 8.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(evidence_of(plain, titled), 3.0, 1e-9);
}

/* A title word names the type when it is a whole word of the first page's
 * layout title, and only there; the layout title counts once per type,
 * however many of its titles and words it holds. */
static void
test_classify_rules_title_words(void)
{
  g_autoptr(CdClassifier) rules = rules_from("[rules]\nlayout-title-weight=5\n[emergency-record]\n"
                                             "titles=emergency department record\ntitle-words=emergency;ed\n");
  const gchar *texts[] = { "CITY HOSPITAL\nED PHYSICIAN RECORD\nSeen in the ed today.", NULL };
  const gchar *both_texts[] = { "EMERGENCY DEPARTMENT RECORD", NULL };
  g_autoptr(CdDocument) ed = make_document(texts);
  g_autoptr(CdDocument) med = make_document(texts);
  g_autoptr(CdDocument) body = make_document(texts);
  g_autoptr(CdDocument) both = make_document(both_texts);

  g_object_set(rules, "evidence", 1000.0, NULL);
  cd_page_set_fact(g_ptr_array_index(cd_document_get_pages(ed), 0), "boundary.title",
                   g_variant_new_string("ED Physician Record"));
  /* `ed` inside a word is no title word */
  cd_page_set_fact(g_ptr_array_index(cd_document_get_pages(med), 0), "boundary.title",
                   g_variant_new_string("Medical Record"));
  cd_page_set_fact(g_ptr_array_index(cd_document_get_pages(both), 0), "boundary.title",
                   g_variant_new_string("Emergency Department Record"));
  g_assert_cmpfloat_with_epsilon(evidence_of(rules, ed), 5.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(evidence_of(rules, med), 0.0, 1e-9);
  /* OCR's misread letter in a long title word */
  cd_page_set_fact(g_ptr_array_index(cd_document_get_pages(med), 0), "boundary.title",
                   g_variant_new_string("EMERGENCV VISIT"));
  g_assert_cmpfloat_with_epsilon(evidence_of(rules, med), 5.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(evidence_of(rules, body), 0.0, 1e-9);
  /* its title on the title line 3, and the layout title once: 5 */
  g_assert_cmpfloat_with_epsilon(evidence_of(rules, both), 8.0, 1e-9);
}

/* A title word may carry its own weight in the layout title (`8:pathology`
 * instead of `layout-title-weight`); the layout title still counts once per
 * type, its best title or word, so a title that names two kinds of
 * document goes to the kind whose word weighs more, whatever the body's
 * title lines say for the other. */
static void
test_classify_rules_title_word_weights(void)
{
  g_autoptr(CdClassifier) path =
      rules_from("[rules]\nlayout-title-weight=5\n[pathology-report]\ntitle-words=pathology;8:surgical pathology\n");
  g_autoptr(CdClassifier) both = rules_from("[rules]\nlayout-title-weight=5\n"
                                            "[pathology-report]\ntitle-words=10:pathology\n"
                                            "[consultation]\ntitles=consultation report\ntitle-words=consultation\n");
  g_autoptr(CdClassifier) flat = rules_from("[rules]\nlayout-title-weight=5\n"
                                            "[pathology-report]\ntitle-words=pathology\n"
                                            "[consultation]\ntitles=consultation report\ntitle-words=consultation\n");
  g_autoptr(CdClassifier) off =
      rules_from("[rules]\nlayout-title-weight=0\n[pathology-report]\ntitle-words=8:pathology\n");
  const gchar *texts[] = { "SURGICAL PATHOLOGY CONSULTATION REPORT\nSections examined.", NULL };
  g_autoptr(CdDocument) doc = make_document(texts);
  g_autoptr(CdDocument) plain = make_document(texts);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) scores = NULL;

  g_object_set(path, "evidence", 1000.0, NULL);
  g_object_set(off, "evidence", 1000.0, NULL);
  cd_page_set_fact(g_ptr_array_index(cd_document_get_pages(doc), 0), "boundary.title",
                   g_variant_new_string("Surgical Pathology Consultation Report"));
  cd_page_set_fact(g_ptr_array_index(cd_document_get_pages(plain), 0), "boundary.title",
                   g_variant_new_string("Pathology"));
  /* the heavier of the two words that match, once: 8, not 5 + 8 */
  g_assert_cmpfloat_with_epsilon(evidence_of(path, doc), 8.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(evidence_of(path, plain), 5.0, 1e-9);
  /* layout-title-weight 0 turns the layout title off, weighted words too */
  g_assert_cmpfloat_with_epsilon(evidence_of(off, doc), 0.0, 1e-9);
  /* pathology 10 against the consultation's 5 and its title line 3; with
   * both words at the layout title's weight, the consultation's title line
   * decides */
  scores = cd_classifier_classify(both, doc, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(best_label(scores, NULL), ==, "pathology-report");
  g_clear_pointer(&scores, g_ptr_array_unref);
  scores = cd_classifier_classify(flat, doc, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(best_label(scores, NULL), ==, "consultation");
}

/* The shipped rules: a printed title found by layout outweighs a body
 * that reads like another kind of document (an emergency record whose
 * transcription opens as a consultation), which the same text without
 * that title is taken for; a pathology report's sections name it without
 * any title. */
static void
test_classify_rules_shipped_layout(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdClassifier) rules = make_classifier("rules", &error, NULL);
  const gchar *consult[] = { "MERCY GENERAL HOSPITAL\nEmergency Visit Record\nREASON FOR CONSULTATION:\n"
                             "Chest pain.\nHISTORY OF PRESENT ILLNESS:\nThe patient was referred by Dr. Lee.\n"
                             "RECOMMENDATIONS:\nStress test.",
                             NULL };
  const gchar *pathology[] = { "CLINICAL HISTORY: mass.\nSPECIMEN:\nA. Colon.\nGROSS DESCRIPTION:\nTwo pieces."
                               "\nMICROSCOPIC DESCRIPTION:\nSections show adenoma.\nFINAL DIAGNOSIS:\nAdenoma.",
                               NULL };
  g_autoptr(CdDocument) titled = make_document(consult);
  g_autoptr(CdDocument) untitled = make_document(consult);
  g_autoptr(CdDocument) sections = make_document(pathology);
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) b = NULL;
  g_autoptr(GPtrArray) c = NULL;
  gdouble score = 0;

  g_assert_no_error(error);
  cd_page_set_fact(g_ptr_array_index(cd_document_get_pages(titled), 0), "boundary.title",
                   g_variant_new_string("Emergency Visit Record"));
  a = cd_classifier_classify(rules, titled, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(best_label(a, &score), ==, "emergency-record");
  g_assert_cmpfloat(score, >=, 0.6);
  b = cd_classifier_classify(rules, untitled, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(best_label(b, NULL), ==, "consultation");
  c = cd_classifier_classify(rules, sections, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(best_label(c, &score), ==, "pathology-report");
  g_assert_cmpfloat(score, >=, 0.9);
}

/* The shipped rules tell administrative papers from consents: authorizing
 * a release of records, a payment or a bill is no consent to care, and
 * the phrases of registration and insurance papers count for `other`;
 * a consent that authorizes a procedure stays a consent. */
static void
test_classify_rules_shipped_administrative(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdClassifier) rules = make_classifier("rules", &error, NULL);
  const gchar *request[] = { "CITY HOSPITAL\nRecords Request Log\nRequested on 03/02/2004; 12 pages sent.\n"
                             "I authorize the release of the records listed above.\n"
                             "Signature of requester ____________________",
                             NULL };
  const gchar *benefits[] = { "CITY HOSPITAL\nASSIGNMENT OF BENEFITS\n"
                              "I authorize payment of medical benefits directly to the hospital.\n"
                              "I understand that I am financially responsible for any charges not covered.\n"
                              "Signature of patient or responsible party ____________________ Date 03/02/2004",
                              NULL };
  const gchar *consent[] = { "CITY HOSPITAL\nCONSENT FOR PROCEDURE\n"
                             "I authorize Dr. Lee to perform a colonoscopy with biopsy.\n"
                             "The risks, benefits and alternatives have been explained to me.\n"
                             "Signature of patient ____________________ Witness ____________________",
                             NULL };
  g_autoptr(CdDocument) a = make_document(request);
  g_autoptr(CdDocument) b = make_document(benefits);
  g_autoptr(CdDocument) c = make_document(consent);
  g_autoptr(GPtrArray) sa = NULL;
  g_autoptr(GPtrArray) sb = NULL;
  g_autoptr(GPtrArray) sc = NULL;

  g_assert_no_error(error);
  sa = cd_classifier_classify(rules, a, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(best_label(sa, NULL), ==, "other");
  sb = cd_classifier_classify(rules, b, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(best_label(sb, NULL), ==, "other");
  sc = cd_classifier_classify(rules, c, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(best_label(sc, NULL), ==, "consent-form");
}

/* The shipped rules: the title line `ED PHYSICIAN RECORD` counts for an
 * emergency record whose body reads as a consultation, when the header
 * stage took another line (the hospital's name) for the layout title. The
 * body still wins (consultation 8 against 4: the rules alone are not
 * sure), but the emergency record keeps a share the trained classifier
 * can tip (a quarter of the consultation's), where `ed physician` alone
 * left it 1 (a 64th). */
static void
test_classify_rules_shipped_ed_title(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdClassifier) rules = make_classifier("rules", &error, NULL);
  const gchar *texts[] = { "PINE RIDGE MEDICAL CENTER\n142 Main Street, Springfield\nED PHYSICIAN RECORD\n"
                           "Date: 02/17/1994\nReason for Consultation:\nLeft hip fracture.\n"
                           "History of Present Illness:\nThe patient is a 53-year-old who fell at home.\n"
                           "Impression:\nLeft hip fracture.\nRecommendations:\nOrthopedic repair.",
                           NULL };
  g_autoptr(CdDocument) doc = make_document(texts);
  g_autoptr(GPtrArray) scores = NULL;
  gdouble ed = 0, consult = 0;

  g_assert_no_error(error);
  cd_page_set_fact(g_ptr_array_index(cd_document_get_pages(doc), 0), "boundary.title",
                   g_variant_new_string("PINE RIDGE MEDICAL CENTER"));
  scores = cd_classifier_classify(rules, doc, NULL, &error);
  g_assert_no_error(error);
  for (guint i = 0; i < scores->len; i++) {
    CdLabelScore *s = g_ptr_array_index(scores, i);
    if (g_strcmp0(s->label, "emergency-record") == 0)
      ed = s->score;
    else if (g_strcmp0(s->label, "consultation") == 0)
      consult = s->score;
  }
  g_assert_cmpfloat(consult, >, 0);
  g_assert_cmpfloat(ed / consult, >=, 0.2);
}

/* The page-type stage types each page alone and records it for the
 * splitter; a page without text gets no type, and a broken rules file
 * stops it at start with the file's name. */
static void
test_classify_page_type_stage(void)
{
  g_autoptr(GError) error = NULL;
  GType type = cd_registry_find_stage(registry, "page-type", &error);
  g_autoptr(CdPageStage) stage = NULL;
  g_autoptr(CdPageStage) broken = NULL;
  g_autoptr(CdPage) summary = cd_page_new("p.tif", 0, "0000");
  g_autoptr(CdPage) empty = cd_page_new("p.tif", 1, "0000");
  g_autoptr(GVariant) label = NULL;
  g_autoptr(GVariant) score = NULL;
  g_autoptr(GVariant) none = NULL;
  g_autofree gchar *file = NULL;
  gint fd;

  g_assert_no_error(error);
  stage = CD_PAGE_STAGE(g_object_new(type, NULL));
  g_assert_true(cd_stage_start(CD_STAGE(stage), &error));
  g_assert_no_error(error);
  cd_page_set_text(summary, "DISCHARGE SUMMARY\nHospital course: treated with antibiotics.\n"
                            "Discharge medications: aspirin.\nDischarged home in stable condition.\n");
  g_assert_true(cd_page_stage_process(stage, summary, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(cd_page_stage_process(stage, empty, NULL, &error));
  g_assert_no_error(error);
  label = cd_page_get_fact(summary, "classify.page-type");
  score = cd_page_get_fact(summary, "classify.page-type-score");
  none = cd_page_get_fact(empty, "classify.page-type");
  g_assert_nonnull(label);
  g_assert_cmpstr(g_variant_get_string(label, NULL), ==, "discharge-summary");
  g_assert_nonnull(score);
  g_assert_cmpfloat(g_variant_get_double(score), >, 0.5);
  g_assert_null(none);
  cd_stage_stop(CD_STAGE(stage));

  fd = g_file_open_tmp("cd-rules-XXXXXX.conf", &file, &error);
  g_assert_no_error(error);
  close(fd);
  g_assert_true(g_file_set_contents(file, "[consent]\npatterns=(unclosed\n", -1, &error));
  broken = CD_PAGE_STAGE(g_object_new(type, "rules", file, NULL));
  g_assert_false(cd_stage_start(CD_STAGE(broken), &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, file));
  g_unlink(file);
}

static gchar *
fixture(const gchar *name)
{
  return g_build_filename(g_getenv("CD_CLASSIFY_FIXTURES"), name, NULL);
}

/* An external program gets the document as JSON (protocol version, the
 * taxonomy's types, every page's text and word boxes) and its answer is
 * read back, labels and scores. */
static void
test_classify_external_ok(void)
{
  g_autofree gchar *script = fixture("echo-classifier.py");
  g_autofree gchar *command = g_strdup_printf("python3 %s", script);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdClassifier) external = make_classifier("external", &error, "command", command, NULL);
  const gchar *texts[] = { "DISCHARGE SUMMARY", "page two", NULL };
  g_autoptr(CdDocument) document = make_document(texts);
  g_autoptr(GPtrArray) scores = NULL;
  CdLabelScore *first, *second;

  g_assert_no_error(error);
  cd_page_add_word(g_ptr_array_index(cd_document_get_pages(document), 0),
                   cd_word_new("DISCHARGE", 10, 10, 100, 20, 95, 0));
  scores = cd_classifier_classify(external, document, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(scores->len, ==, 2);
  first = g_ptr_array_index(scores, 0);
  second = g_ptr_array_index(scores, 1);
  g_assert_cmpstr(first->label, ==, "discharge-summary");
  g_assert_cmpfloat(first->score, ==, 0.9);
  g_assert_cmpstr(second->label, ==, "seen-2-pages-1-words");

  /* without word boxes the request is lighter, and the program sees none */
  {
    g_autoptr(CdClassifier) lighter =
        make_classifier("external", &error, "command", command, "send-words", FALSE, NULL);
    g_autoptr(GPtrArray) light = NULL;
    g_assert_no_error(error);
    light = cd_classifier_classify(lighter, document, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(((CdLabelScore *) g_ptr_array_index(light, 1))->label, ==, "seen-2-pages-0-words");
  }
}

/* An external program that fails, answers something other than the
 * protocol's JSON, or cannot be found is an error naming the command (and
 * the last line it wrote on standard error). */
static void
test_classify_external_errors(void)
{
  const struct {
    const gchar *command;
    const gchar *message;
  } cases[] = {
    { "sh -c 'cat >/dev/null; echo model file missing >&2; exit 3'",
      "external: 'sh -c 'cat >/dev/null; echo model file missing >&2; exit 3'' exited with status 3: model file "
      "missing" },
    { "sh -c 'cat >/dev/null; echo not json'",
      "external: 'sh -c 'cat >/dev/null; echo not json'': output is not JSON (" },
    { "sh -c 'cat >/dev/null; echo [1]'",
      "external: 'sh -c 'cat >/dev/null; echo [1]'': output is not an object with a \"labels\" array" },
    { "sh -c 'cat >/dev/null; echo {\\\"labels\\\": [{\\\"label\\\": 3}]}'",
      "external: 'sh -c 'cat >/dev/null; echo {\\\"labels\\\": [{\\\"label\\\": 3}]}'': labels[0] is not {\"label\": "
      "string, \"score\": number}" },
    { "sh -c 'kill -9 $$'", "external: 'sh -c 'kill -9 $$'' was killed by signal 9" },
  };
  const gchar *texts[] = { "some text", NULL };
  g_autoptr(CdDocument) document = make_document(texts);

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(CdClassifier) external = make_classifier("external", &error, "command", cases[i].command, NULL);
    g_autoptr(GPtrArray) scores = NULL;

    g_assert_no_error(error);
    scores = cd_classifier_classify(external, document, NULL, &error);
    g_assert_null(scores);
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_assert_true(g_str_has_prefix(error->message, cases[i].message));
  }
  /* one that exits without reading a large request: its status, not a broken pipe */
  {
    g_autofree gchar *big = g_strnfill(1 << 20, 'x');
    const gchar *big_texts[] = { big, NULL };
    g_autoptr(CdDocument) large = make_document(big_texts);
    g_autoptr(GError) error = NULL;
    g_autoptr(CdClassifier) external = make_classifier("external", &error, "command", "sh -c 'exit 4'", NULL);
    g_autoptr(GPtrArray) scores = NULL;
    g_assert_no_error(error);
    scores = cd_classifier_classify(external, large, NULL, &error);
    g_assert_null(scores);
    g_assert_error(error, CD_ERROR, CD_ERROR_FAILED);
    g_assert_cmpstr(error->message, ==, "external: 'sh -c 'exit 4'' exited with status 4");
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(CdClassifier) missing = make_classifier("external", &error, "command", "no-such-classifier --x", NULL);
    g_assert_null(missing);
    g_assert_error(error, CD_ERROR, CD_ERROR_NOT_FOUND);
    g_assert_cmpstr(error->message, ==,
                    "external: command 'no-such-classifier --x': program 'no-such-classifier' not found");
  }
}

/* A program over the time limit is killed with what it started (the
 * sleep of a shell script), and the error says so within the limit and
 * the grace second. */
static void
test_classify_external_timeout(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdClassifier) external =
      make_classifier("external", &error, "command", "sh -c 'cat >/dev/null; sleep 30; echo {}'", "timeout", 0.5, NULL);
  const gchar *texts[] = { "some text", NULL };
  g_autoptr(CdDocument) document = make_document(texts);
  g_autoptr(GPtrArray) scores = NULL;
  gint64 started = g_get_monotonic_time();

  g_assert_no_error(error);
  scores = cd_classifier_classify(external, document, NULL, &error);
  g_assert_null(scores);
  g_assert_error(error, CD_ERROR, CD_ERROR_TIMEOUT);
  g_assert_cmpstr(error->message, ==,
                  "external: timed out after 0.5 s: 'sh -c 'cat >/dev/null; sleep 30; echo {}'' was stopped");
  g_assert_cmpint(g_get_monotonic_time() - started, <, 2 * G_USEC_PER_SEC);
  /* stopped, not abandoned: the next document runs it again */
  g_clear_error(&error);
  g_clear_pointer(&scores, g_ptr_array_unref);
  scores = cd_classifier_classify(external, document, NULL, &error);
  g_assert_error(error, CD_ERROR, CD_ERROR_TIMEOUT);
  g_assert_true(g_str_has_prefix(error->message, "external: timed out after 0.5 s: "));
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  gint rc;

  g_test_init(&argc, &argv, NULL);
  registry = cd_registry_new();
  cd_registry_add_default_paths(registry);
  cd_registry_scan(registry);
  taxonomy = cd_taxonomy_new_default(&error);
  g_assert_no_error(error);

  g_test_add_func("/chartdesk/classify/text-forms", test_classify_text_forms);
  g_test_add_func("/chartdesk/classify/rules-ground-truth", test_classify_rules_ground_truth);
  g_test_add_func("/chartdesk/classify/rules-ocr-noise", test_classify_rules_ocr_noise);
  g_test_add_func("/chartdesk/classify/rules-mtsamples", test_classify_rules_mtsamples);
  g_test_add_func("/chartdesk/classify/rules-bad-file", test_classify_rules_bad_file);
  g_test_add_func("/chartdesk/classify/rules-sections", test_classify_rules_sections);
  g_test_add_func("/chartdesk/classify/rules-layout-title", test_classify_rules_layout_title);
  g_test_add_func("/chartdesk/classify/rules-title-words", test_classify_rules_title_words);
  g_test_add_func("/chartdesk/classify/rules-title-word-weights", test_classify_rules_title_word_weights);
  g_test_add_func("/chartdesk/classify/rules-shipped-layout", test_classify_rules_shipped_layout);
  g_test_add_func("/chartdesk/classify/rules-shipped-administrative", test_classify_rules_shipped_administrative);
  g_test_add_func("/chartdesk/classify/rules-shipped-ed-title", test_classify_rules_shipped_ed_title);
  g_test_add_func("/chartdesk/classify/page-type-stage", test_classify_page_type_stage);
  g_test_add_func("/chartdesk/classify/external-ok", test_classify_external_ok);
  g_test_add_func("/chartdesk/classify/external-errors", test_classify_external_errors);
  g_test_add_func("/chartdesk/classify/external-timeout", test_classify_external_timeout);
  rc = g_test_run();
  g_object_unref(taxonomy);
  g_object_unref(registry);
  return rc;
}
