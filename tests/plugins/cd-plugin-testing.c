/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Stages for testing the engine without OCR: a source of synthetic pages,
 * a page stage that marks, delays, fails or blanks pages on request, a
 * splitter and a document stage. They load through the registry like any
 * plugin; only the tests put their folder on the plugin path.
 */
#include <chartdesk.h>

/* ------------------------------------------------------------- test-source */

#define CD_TYPE_TEST_SOURCE (cd_test_source_get_type())
G_DECLARE_FINAL_TYPE(CdTestSource, cd_test_source, CD, TEST_SOURCE, CdSource)

struct _CdTestSource {
  CdSource parent_instance;
  guint pages;          /* how many pages to make */
  guint pages_per_file; /* pages of one pretend file */
  gchar *text;          /* text of every page, NULL for "synthetic page N" */
  guint made;
};

G_DEFINE_TYPE(CdTestSource, cd_test_source, CD_TYPE_SOURCE)

/* pages alive anywhere in the process, and the most ever alive at once */
static gint pages_alive;
static gint pages_alive_max;

static void
cd_test_page_gone(gpointer data, GObject *where)
{
  g_atomic_int_add(&pages_alive, -1);
}

enum { SRC_PROP_0, SRC_PROP_PAGES, SRC_PROP_PAGES_PER_FILE, SRC_PROP_MAX_ALIVE, SRC_PROP_TEXT, SRC_N_PROPS };

static void
cd_test_source_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdTestSource *self = CD_TEST_SOURCE(object);
  switch (prop_id) {
  case SRC_PROP_PAGES:
    g_value_set_uint(value, self->pages);
    break;
  case SRC_PROP_PAGES_PER_FILE:
    g_value_set_uint(value, self->pages_per_file);
    break;
  case SRC_PROP_MAX_ALIVE:
    g_value_set_int(value, g_atomic_int_get(&pages_alive_max));
    break;
  case SRC_PROP_TEXT:
    g_value_set_string(value, self->text);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_test_source_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdTestSource *self = CD_TEST_SOURCE(object);
  switch (prop_id) {
  case SRC_PROP_PAGES:
    self->pages = g_value_get_uint(value);
    break;
  case SRC_PROP_PAGES_PER_FILE:
    self->pages_per_file = g_value_get_uint(value);
    break;
  case SRC_PROP_TEXT:
    g_free(self->text);
    self->text = g_value_dup_string(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_test_source_finalize(GObject *object)
{
  g_free(CD_TEST_SOURCE(object)->text);
  G_OBJECT_CLASS(cd_test_source_parent_class)->finalize(object);
}

static gboolean
cd_test_source_open(CdSource *source, const gchar *const *inputs, GError **error)
{
  CdTestSource *self = CD_TEST_SOURCE(source);
  g_atomic_int_set(&pages_alive_max, 0);
  cd_source_set_n_inputs(source, (self->pages + self->pages_per_file - 1) / self->pages_per_file);
  return TRUE;
}

/* A letter-sized 1 bpp page at 100 dpi with a bar whose width encodes the
 * page number, so tests can tell pages apart in the stored images. */
static CdPage *
cd_test_source_next(CdSource *source, GCancellable *cancellable, GError **error)
{
  CdTestSource *self = CD_TEST_SOURCE(source);
  g_autofree gchar *path = NULL;
  g_autofree gchar *sha = NULL;
  g_autofree gchar *text = NULL;
  CdPage *page;
  PIX *pix;
  guint file, index;
  gint alive;

  if (self->made >= self->pages)
    return NULL;
  file = self->made / self->pages_per_file;
  index = self->made % self->pages_per_file;
  path = g_strdup_printf("test://file-%04u", file);
  sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, path, -1);
  page = cd_page_new(path, index, sha);
  pix = pixCreate(850, 1100, 1);
  pixRasterop(pix, 100, 100, 10 + (self->made % 500), 20, PIX_SET, NULL, 0, 0);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, 100, 100);
  if (self->text != NULL && self->text[0] != '\0')
    text = g_strcompress(self->text); /* "\n" in a workflow value is a line break */
  else
    text = g_strdup_printf("synthetic page %u of file %u", self->made, file);
  cd_page_set_text(page, text);
  self->made++;

  g_object_weak_ref(G_OBJECT(page), cd_test_page_gone, NULL);
  alive = g_atomic_int_add(&pages_alive, 1) + 1;
  for (gint max = g_atomic_int_get(&pages_alive_max); alive > max; max = g_atomic_int_get(&pages_alive_max)) {
    if (g_atomic_int_compare_and_exchange(&pages_alive_max, max, alive))
      break;
  }
  return page;
}

static void
cd_test_source_class_init(CdTestSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdSourceClass *source_class = CD_SOURCE_CLASS(klass);

  object_class->get_property = cd_test_source_get_property;
  object_class->set_property = cd_test_source_set_property;
  object_class->finalize = cd_test_source_finalize;
  source_class->open = cd_test_source_open;
  source_class->next = cd_test_source_next;
  g_object_class_install_property(object_class, SRC_PROP_PAGES,
                                  g_param_spec_uint("pages", "Pages", "How many pages to make", 0, G_MAXUINT, 10,
                                                    G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(object_class, SRC_PROP_PAGES_PER_FILE,
                                  g_param_spec_uint("pages-per-file", "Pages per file", "Pages of one pretend file", 1,
                                                    G_MAXUINT, 5,
                                                    G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(object_class, SRC_PROP_MAX_ALIVE,
                                  g_param_spec_int("max-alive", "Most pages alive",
                                                   "The most pages alive at once in the last run", 0, G_MAXINT, 0,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(object_class, SRC_PROP_TEXT,
                                  g_param_spec_string("text", "Text",
                                                      "Text of every page (C escapes), empty for synthetic", "",
                                                      G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  cd_stage_class_set_metadata(CD_STAGE_CLASS(klass), "test-source", "Makes synthetic pages for engine tests");
}

static void
cd_test_source_init(CdTestSource *self)
{
}

/* --------------------------------------------------------------- test-mark */

#define CD_TYPE_TEST_MARK (cd_test_mark_get_type())
G_DECLARE_FINAL_TYPE(CdTestMark, cd_test_mark, CD, TEST_MARK, CdPageStage)

struct _CdTestMark {
  CdPageStage parent_instance;
  gint fail_page;  /* source page index that fails, -1 for none */
  gint blank_page; /* source page index marked blank, -1 for none */
  guint max_delay; /* milliseconds of random delay, to shuffle completion */
  gboolean fail_start;
  gboolean started;
};

G_DEFINE_TYPE(CdTestMark, cd_test_mark, CD_TYPE_PAGE_STAGE)

enum { MARK_PROP_0, MARK_PROP_FAIL_PAGE, MARK_PROP_BLANK_PAGE, MARK_PROP_MAX_DELAY, MARK_PROP_FAIL_START };

static void
cd_test_mark_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdTestMark *self = CD_TEST_MARK(object);
  switch (prop_id) {
  case MARK_PROP_FAIL_PAGE:
    g_value_set_int(value, self->fail_page);
    break;
  case MARK_PROP_BLANK_PAGE:
    g_value_set_int(value, self->blank_page);
    break;
  case MARK_PROP_MAX_DELAY:
    g_value_set_uint(value, self->max_delay);
    break;
  case MARK_PROP_FAIL_START:
    g_value_set_boolean(value, self->fail_start);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_test_mark_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdTestMark *self = CD_TEST_MARK(object);
  switch (prop_id) {
  case MARK_PROP_FAIL_PAGE:
    self->fail_page = g_value_get_int(value);
    break;
  case MARK_PROP_BLANK_PAGE:
    self->blank_page = g_value_get_int(value);
    break;
  case MARK_PROP_MAX_DELAY:
    self->max_delay = g_value_get_uint(value);
    break;
  case MARK_PROP_FAIL_START:
    self->fail_start = g_value_get_boolean(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static gboolean
cd_test_mark_start(CdStage *stage, GError **error)
{
  CdTestMark *self = CD_TEST_MARK(stage);
  if (self->fail_start) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_NOT_FOUND, "deliberately cannot start");
    return FALSE;
  }
  self->started = TRUE;
  return TRUE;
}

static gboolean
cd_test_mark_process(CdPageStage *stage, CdPage *page, GCancellable *cancellable, GError **error)
{
  CdTestMark *self = CD_TEST_MARK(stage);
  gint index = cd_page_get_source_page(page);

  if (!self->started) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INTERNAL, "process before start");
    return FALSE;
  }
  if (self->max_delay > 0)
    g_usleep(g_random_int_range(0, self->max_delay + 1) * 1000);
  /* which worker ran it: the thread must be the one that started us */
  cd_page_set_fact(page, "test.thread", g_variant_new_string(g_thread_self() != NULL ? "worker" : "none"));
  if (index == self->fail_page) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "deliberate failure on page %d", index + 1);
    return FALSE;
  }
  if (index == self->blank_page)
    cd_page_set_kind(page, CD_PAGE_KIND_BLANK, "blank: deliberately");
  return TRUE;
}

static void
cd_test_mark_class_init(CdTestMarkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->get_property = cd_test_mark_get_property;
  object_class->set_property = cd_test_mark_set_property;
  CD_STAGE_CLASS(klass)->start = cd_test_mark_start;
  CD_PAGE_STAGE_CLASS(klass)->process = cd_test_mark_process;
  g_object_class_install_property(object_class, MARK_PROP_FAIL_PAGE,
                                  g_param_spec_int("fail-page", "Failing page", "Page index that fails, -1 for none",
                                                   -1, G_MAXINT, -1,
                                                   G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(object_class, MARK_PROP_BLANK_PAGE,
                                  g_param_spec_int("blank-page", "Blank page", "Page index marked blank, -1 for none",
                                                   -1, G_MAXINT, -1,
                                                   G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(object_class, MARK_PROP_MAX_DELAY,
                                  g_param_spec_uint("max-delay", "Delay", "Random delay per page, ms", 0, 1000, 0,
                                                    G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(object_class, MARK_PROP_FAIL_START,
                                  g_param_spec_boolean("fail-start", "Fail to start", "Refuse to start", FALSE,
                                                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  cd_stage_class_set_metadata(CD_STAGE_CLASS(klass), "test-mark", "Marks, delays, fails or blanks pages");
}

static void
cd_test_mark_init(CdTestMark *self)
{
}

/* -------------------------------------------------------------- test-split */

#define CD_TYPE_TEST_SPLIT (cd_test_split_get_type())
G_DECLARE_FINAL_TYPE(CdTestSplit, cd_test_split, CD, TEST_SPLIT, CdSplitter)

struct _CdTestSplit {
  CdSplitter parent_instance;
  guint every; /* a new document every this many pages of a file */
};

G_DEFINE_TYPE(CdTestSplit, cd_test_split, CD_TYPE_SPLITTER)

static void
cd_test_split_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CD_TEST_SPLIT(object)->every = g_value_get_uint(value);
}

static void
cd_test_split_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  g_value_set_uint(value, CD_TEST_SPLIT(object)->every);
}

static gboolean
cd_test_split_decide(CdSplitter *splitter, CdPage *page, CdDocument *current, CdSplitDecision *decision, GError **error)
{
  CdTestSplit *self = CD_TEST_SPLIT(splitter);
  gint index = cd_page_get_source_page(page);
  *decision = index > 0 && index % self->every == 0 ? CD_SPLIT_NEW_DOCUMENT : CD_SPLIT_CONTINUE;
  return TRUE;
}

static void
cd_test_split_class_init(CdTestSplitClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->get_property = cd_test_split_get_property;
  object_class->set_property = cd_test_split_set_property;
  CD_SPLITTER_CLASS(klass)->decide = cd_test_split_decide;
  g_object_class_install_property(object_class, 1,
                                  g_param_spec_uint("every", "Every", "Pages per document", 1, G_MAXUINT, 2,
                                                    G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  cd_stage_class_set_metadata(CD_STAGE_CLASS(klass), "test-split", "Starts a document every N pages");
}

static void
cd_test_split_init(CdTestSplit *self)
{
}

/* --------------------------------------------------------------- test-link */

#define CD_TYPE_TEST_LINK (cd_test_link_get_type())
G_DECLARE_FINAL_TYPE(CdTestLink, cd_test_link, CD, TEST_LINK, CdDocStage)

struct _CdTestLink {
  CdDocStage parent_instance;
  gchar *mrn; /* files every document to this MRN */
};

G_DEFINE_TYPE(CdTestLink, cd_test_link, CD_TYPE_DOC_STAGE)

static void
cd_test_link_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdTestLink *self = CD_TEST_LINK(object);
  g_free(self->mrn);
  self->mrn = g_value_dup_string(value);
}

static void
cd_test_link_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  g_value_set_string(value, CD_TEST_LINK(object)->mrn);
}

static void
cd_test_link_finalize(GObject *object)
{
  g_free(CD_TEST_LINK(object)->mrn);
  G_OBJECT_CLASS(cd_test_link_parent_class)->finalize(object);
}

static gboolean
cd_test_link_process(CdDocStage *stage, CdDocument *document, GCancellable *cancellable, GError **error)
{
  CdTestLink *self = CD_TEST_LINK(stage);
  if (self->mrn != NULL && self->mrn[0] != '\0')
    cd_document_set_patient_mrn(document, self->mrn);
  cd_document_set_doc_type(document, "other", 1.0);
  cd_document_set_date(document, "1998-03-02");
  return TRUE;
}

static void
cd_test_link_class_init(CdTestLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->get_property = cd_test_link_get_property;
  object_class->set_property = cd_test_link_set_property;
  object_class->finalize = cd_test_link_finalize;
  CD_DOC_STAGE_CLASS(klass)->process = cd_test_link_process;
  g_object_class_install_property(object_class, 1,
                                  g_param_spec_string("mrn", "MRN", "Patient every document is filed to", "",
                                                      G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  cd_stage_class_set_metadata(CD_STAGE_CLASS(klass), "test-link", "Files every document to one patient");
}

static void
cd_test_link_init(CdTestLink *self)
{
}

/* -------------------------------------------------------- test-classifier */

/* A classifier answering configured scores, failing or hanging on request;
 * test-classifier-b is the same under another name, for combining two. */
#define CD_TYPE_TEST_CLASSIFIER (cd_test_classifier_get_type())
G_DECLARE_DERIVABLE_TYPE(CdTestClassifier, cd_test_classifier, CD, TEST_CLASSIFIER, CdClassifier)

struct _CdTestClassifierClass {
  CdClassifierClass parent_class;
};

typedef struct {
  gchar **scores;         /* TYPE:SCORE items */
  gboolean fail;          /* return an error */
  gdouble delay;          /* seconds to take */
  gboolean ignore_cancel; /* keep sleeping when cancelled */
} CdTestClassifierPrivate;

G_DEFINE_TYPE_WITH_PRIVATE(CdTestClassifier, cd_test_classifier, CD_TYPE_CLASSIFIER)

enum { TC_PROP_0, TC_PROP_SCORES, TC_PROP_FAIL, TC_PROP_DELAY, TC_PROP_IGNORE_CANCEL };

static void
cd_test_classifier_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdTestClassifierPrivate *priv = cd_test_classifier_get_instance_private(CD_TEST_CLASSIFIER(object));
  switch (prop_id) {
  case TC_PROP_SCORES:
    g_value_set_boxed(value, priv->scores);
    break;
  case TC_PROP_FAIL:
    g_value_set_boolean(value, priv->fail);
    break;
  case TC_PROP_DELAY:
    g_value_set_double(value, priv->delay);
    break;
  case TC_PROP_IGNORE_CANCEL:
    g_value_set_boolean(value, priv->ignore_cancel);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_test_classifier_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdTestClassifierPrivate *priv = cd_test_classifier_get_instance_private(CD_TEST_CLASSIFIER(object));
  switch (prop_id) {
  case TC_PROP_SCORES:
    g_strfreev(priv->scores);
    priv->scores = g_value_dup_boxed(value);
    break;
  case TC_PROP_FAIL:
    priv->fail = g_value_get_boolean(value);
    break;
  case TC_PROP_DELAY:
    priv->delay = g_value_get_double(value);
    break;
  case TC_PROP_IGNORE_CANCEL:
    priv->ignore_cancel = g_value_get_boolean(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_test_classifier_finalize(GObject *object)
{
  CdTestClassifierPrivate *priv = cd_test_classifier_get_instance_private(CD_TEST_CLASSIFIER(object));
  g_strfreev(priv->scores);
  G_OBJECT_CLASS(cd_test_classifier_parent_class)->finalize(object);
}

static gboolean
cd_test_classifier_classify(CdClassifier *classifier, CdDocument *document, GPtrArray *scores,
                            GCancellable *cancellable, GError **error)
{
  CdTestClassifierPrivate *priv = cd_test_classifier_get_instance_private(CD_TEST_CLASSIFIER(classifier));
  gint64 until = g_get_monotonic_time() + (gint64) (priv->delay * G_USEC_PER_SEC);

  while (g_get_monotonic_time() < until) {
    if (!priv->ignore_cancel && g_cancellable_set_error_if_cancelled(cancellable, error))
      return FALSE;
    g_usleep(10000);
  }
  if (priv->fail) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_FAILED, "deliberate failure");
    return FALSE;
  }
  for (guint i = 0; priv->scores != NULL && priv->scores[i] != NULL; i++) {
    g_auto(GStrv) kv = g_strsplit(priv->scores[i], ":", 2);
    if (kv[0] != NULL && kv[1] != NULL)
      g_ptr_array_add(scores, cd_label_score_new(kv[0], g_ascii_strtod(kv[1], NULL)));
  }
  return TRUE;
}

static void
cd_test_classifier_class_init(CdTestClassifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->get_property = cd_test_classifier_get_property;
  object_class->set_property = cd_test_classifier_set_property;
  object_class->finalize = cd_test_classifier_finalize;
  CD_CLASSIFIER_CLASS(klass)->classify = cd_test_classifier_classify;
  g_object_class_install_property(object_class, TC_PROP_SCORES,
                                  g_param_spec_boxed("scores", "Scores", "TYPE:SCORE answers", G_TYPE_STRV,
                                                     G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(object_class, TC_PROP_FAIL,
                                  g_param_spec_boolean("fail", "Fail", "Fail on every document", FALSE,
                                                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(object_class, TC_PROP_DELAY,
                                  g_param_spec_double("delay", "Delay", "Seconds each document takes", 0, 3600, 0,
                                                      G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(object_class, TC_PROP_IGNORE_CANCEL,
                                  g_param_spec_boolean("ignore-cancel", "Ignore cancel",
                                                       "Keep going when cancelled (a hung plugin)", FALSE,
                                                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS));
  cd_stage_class_set_metadata(CD_STAGE_CLASS(klass), "test-classifier", "Answers configured scores");
}

static void
cd_test_classifier_init(CdTestClassifier *self)
{
}

#define CD_TYPE_TEST_CLASSIFIER_B (cd_test_classifier_b_get_type())
G_DECLARE_FINAL_TYPE(CdTestClassifierB, cd_test_classifier_b, CD, TEST_CLASSIFIER_B, CdTestClassifier)

struct _CdTestClassifierB {
  CdTestClassifier parent_instance;
};

G_DEFINE_TYPE(CdTestClassifierB, cd_test_classifier_b, CD_TYPE_TEST_CLASSIFIER)

static void
cd_test_classifier_b_class_init(CdTestClassifierBClass *klass)
{
  cd_stage_class_set_metadata(CD_STAGE_CLASS(klass), "test-classifier-b", "Answers configured scores, too");
}

static void
cd_test_classifier_b_init(CdTestClassifierB *self)
{
}

static gboolean
cd_plugin_testing_init(CdPlugin *plugin, GError **error)
{
  return cd_plugin_add_stage_type(plugin, CD_TYPE_TEST_SOURCE, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_TEST_MARK, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_TEST_SPLIT, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_TEST_LINK, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_TEST_CLASSIFIER, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_TEST_CLASSIFIER_B, error);
}

CD_PLUGIN_DEFINE("testing", "Stages for testing the engine", cd_plugin_testing_init, "1.0", "LGPL-2.1-or-later")
