/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An example classifier plugin: copy this folder to start your own.
 *
 * It recognises letters (`correspondence`) by a greeting at the top ("Dear
 * Dr. Smith") and a closing at the end ("Sincerely"). It is deliberately
 * small; everything a classifier needs is here:
 *
 *   1. a GObject type derived from CdClassifier (the SDK's base type),
 *   2. its options as GObject properties, each with a default, a blurb and
 *      G_PARAM_STATIC_STRINGS, so workflows and `chartdesk plugins` see them,
 *   3. a classify() that appends scored labels (types of the taxonomy,
 *      scores 0 to 1) and returns TRUE, or FALSE with a GError,
 *   4. the plugin descriptor, CD_PLUGIN_DEFINE, with an init function that
 *      registers the type.
 *
 * Build it out of the Chartdesk tree with nothing but the installed SDK:
 *
 *   cc -shared -fPIC -o cd-plugin-example-classifier.so cd-example-classifier.c \
 *      $(pkg-config --cflags --libs chartdesk-1)
 *
 * and put the module in a folder of CHARTDESK_PLUGIN_PATH, or in
 * $(pkg-config --variable=plugindir chartdesk-1).
 */
#include <chartdesk.h>

/* 1. The type. A final type is enough: nobody derives from a plugin's
 * classifier. */
#define CD_TYPE_EXAMPLE_CLASSIFIER (cd_example_classifier_get_type())
G_DECLARE_FINAL_TYPE(CdExampleClassifier, cd_example_classifier, CD, EXAMPLE_CLASSIFIER, CdClassifier)

struct _CdExampleClassifier {
  CdClassifier parent_instance;
  gchar **greetings; /* words that open a letter, lowercase */
  gchar **closings;  /* words that close one, lowercase */
};

G_DEFINE_TYPE(CdExampleClassifier, cd_example_classifier, CD_TYPE_CLASSIFIER)

/* 2. The options. The base class already has `enabled`, `weight` (how much
 * this classifier counts beside others) and `timeout` (seconds per
 * document); add your own. */
enum {
  PROP_0,
  PROP_GREETINGS,
  PROP_CLOSINGS,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

static const gchar *const default_greetings[] = { "dear", "to whom it may concern", NULL };
static const gchar *const default_closings[] = { "sincerely", "yours truly", "best regards", "kind regards", NULL };

/* The scores this classifier gives: a greeting is good evidence of a
 * letter, a closing as well, both together very good. */
#define SCORE_GREETING 0.6
#define SCORE_CLOSING 0.3

/* Lines at the top of the first page where a greeting counts. */
#define GREETING_LINES 12

static void
cd_example_classifier_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdExampleClassifier *self = CD_EXAMPLE_CLASSIFIER(object);

  switch (prop_id) {
  case PROP_GREETINGS:
    g_value_set_boxed(value, self->greetings);
    break;
  case PROP_CLOSINGS:
    g_value_set_boxed(value, self->closings);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_example_classifier_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdExampleClassifier *self = CD_EXAMPLE_CLASSIFIER(object);

  switch (prop_id) {
  case PROP_GREETINGS:
    g_strfreev(self->greetings);
    self->greetings = g_value_dup_boxed(value);
    break;
  case PROP_CLOSINGS:
    g_strfreev(self->closings);
    self->closings = g_value_dup_boxed(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

/* Whether a line of @text (lowercase) starts with one of @words. OCR text
 * is noisy: compare case-insensitively and ignore leading spaces. */
static gboolean
starts_a_line(const gchar *text, gchar **words, guint max_lines)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

  for (guint i = 0; lines[i] != NULL && i < max_lines; i++) {
    g_autofree gchar *line = g_utf8_strdown(g_strchug(lines[i]), -1);
    for (guint w = 0; words != NULL && words[w] != NULL; w++) {
      if (g_str_has_prefix(line, words[w]))
        return TRUE;
    }
  }
  return FALSE;
}

/* 3. The work. Called once per document, one document at a time (possibly
 * on a helper thread, when `timeout` is set). Append CdLabelScore items to
 * @scores; leave it empty to say "don't know". The engine combines every
 * classifier's scores and sends the document to review when the winner's
 * confidence is below its type's threshold. */
static gboolean
cd_example_classifier_classify(CdClassifier *classifier, CdDocument *document, GPtrArray *scores,
                               GCancellable *cancellable, GError **error)
{
  CdExampleClassifier *self = CD_EXAMPLE_CLASSIFIER(classifier);
  GPtrArray *pages = cd_document_get_pages(document);
  const gchar *first;
  g_autofree gchar *all = NULL;
  gdouble score = 0;

  /* a long computation should give up when cancelled (the time limit) */
  if (g_cancellable_set_error_if_cancelled(cancellable, error))
    return FALSE;
  if (pages->len == 0)
    return TRUE;

  first = cd_page_get_text(g_ptr_array_index(pages, 0));
  if (first != NULL && starts_a_line(first, self->greetings, GREETING_LINES))
    score += SCORE_GREETING;
  all = cd_document_dup_text(document);
  if (starts_a_line(all, self->closings, G_MAXUINT))
    score += SCORE_CLOSING;

  /* labels are names of the taxonomy (workflows/taxonomy.conf); the
   * classifier can list them with cd_taxonomy_get_types
   * (cd_classifier_get_taxonomy (classifier), FALSE) */
  if (score > 0)
    g_ptr_array_add(scores, cd_label_score_new("correspondence", score));
  return TRUE;
}

static void
cd_example_classifier_finalize(GObject *object)
{
  CdExampleClassifier *self = CD_EXAMPLE_CLASSIFIER(object);

  g_strfreev(self->greetings);
  g_strfreev(self->closings);
  G_OBJECT_CLASS(cd_example_classifier_parent_class)->finalize(object);
}

static void
cd_example_classifier_class_init(CdExampleClassifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->get_property = cd_example_classifier_get_property;
  object_class->set_property = cd_example_classifier_set_property;
  object_class->finalize = cd_example_classifier_finalize;
  CD_CLASSIFIER_CLASS(klass)->classify = cd_example_classifier_classify;

  /* list options are string arrays: a workflow writes them `a;b;c` */
  props[PROP_GREETINGS] =
      g_param_spec_boxed("greetings", "Greetings", "Words that open a letter, at the start of a line near the top",
                         G_TYPE_STRV, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  props[PROP_CLOSINGS] = g_param_spec_boxed("closings", "Closings", "Words that close a letter, at the start of a line",
                                            G_TYPE_STRV, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  /* the stage's name in workflows, and one sentence for `chartdesk plugins` */
  cd_stage_class_set_metadata(CD_STAGE_CLASS(klass), "letter",
                              "Example classifier: recognises letters by their greeting and closing");
}

static void
cd_example_classifier_init(CdExampleClassifier *self)
{
  /* defaults of list options are set here, where `chartdesk plugins` sees them */
  self->greetings = g_strdupv((gchar **) default_greetings);
  self->closings = g_strdupv((gchar **) default_closings);
}

/* 4. The plugin: register every stage type in init. Name, description,
 * version and licence are required; the SDK's ABI version is filled in by
 * the macro and checked when the module loads. */
static gboolean
cd_example_plugin_init(CdPlugin *plugin, GError **error)
{
  return cd_plugin_add_stage_type(plugin, CD_TYPE_EXAMPLE_CLASSIFIER, error);
}

CD_PLUGIN_DEFINE("example-classifier", "An example classifier plugin to copy: recognises letters",
                 cd_example_plugin_init, "1.0", "LGPL-2.1-or-later")
