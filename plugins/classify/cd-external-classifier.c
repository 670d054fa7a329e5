/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include "cd-external-classifier.h"

/**
 * CdExternalClassifier:
 *
 * Runs a program once per document: the document as JSON on its standard
 * input, scored labels as JSON on its standard output (the protocol is in
 * the plugin's README). A program that exits with a status other than 0,
 * writes anything but the expected JSON, or runs over the classifier's
 * `timeout` is an error naming the command; the program and anything it
 * started are killed when the time is up.
 */

struct _CdExternalClassifier {
  CdClassifier parent_instance;
  gchar *command; /* as written: a shell-style command line, not run by a shell */
  gboolean words; /* send word boxes */
  gchar **argv;   /* parsed at start */
};

G_DEFINE_TYPE(CdExternalClassifier, cd_external_classifier, CD_TYPE_CLASSIFIER)

enum {
  PROP_0,
  PROP_COMMAND,
  PROP_SEND_WORDS,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

#define DEFAULT_COMMAND ""
#define DEFAULT_SEND_WORDS TRUE

/* Version of the JSON exchanged; a program may refuse one it does not know. */
#define CD_EXTERNAL_PROTOCOL 1

/* Standard error quoted in a failure, at most. */
#define CD_EXTERNAL_STDERR_MAX 300

static void
cd_external_classifier_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdExternalClassifier *self = CD_EXTERNAL_CLASSIFIER(object);

  switch (prop_id) {
  case PROP_COMMAND:
    g_value_set_string(value, self->command);
    break;
  case PROP_SEND_WORDS:
    g_value_set_boolean(value, self->words);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_external_classifier_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdExternalClassifier *self = CD_EXTERNAL_CLASSIFIER(object);

  switch (prop_id) {
  case PROP_COMMAND:
    g_free(self->command);
    self->command = g_value_dup_string(value);
    break;
  case PROP_SEND_WORDS:
    self->words = g_value_get_boolean(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

/* A GVariant fact as JSON, or null when json-glib cannot express it. */
static JsonNode *
cd_external_facts(CdPage *page)
{
  g_autoptr(GVariant) facts = cd_page_get_facts(page);
  return json_gvariant_serialize(facts);
}

/**
 * cd_external_classifier_document_to_json:
 * @document: a document
 * @taxonomy: (nullable): the taxonomy in use, whose active types are sent
 * @words: whether to send word boxes
 *
 * The request an external classifier reads on its standard input.
 *
 * Returns: (transfer full): the JSON
 */
JsonNode *
cd_external_classifier_document_to_json(CdDocument *document, CdTaxonomy *taxonomy, gboolean words)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  GPtrArray *pages = cd_document_get_pages(document);

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "protocol");
  json_builder_add_int_value(b, CD_EXTERNAL_PROTOCOL);
  json_builder_set_member_name(b, "types");
  json_builder_begin_array(b);
  if (taxonomy != NULL) {
    g_autoptr(GPtrArray) types = cd_taxonomy_get_types(taxonomy, FALSE);
    for (guint i = 0; i < types->len; i++)
      json_builder_add_string_value(b, g_ptr_array_index(types, i));
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "document");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "title");
  if (cd_document_get_title(document) != NULL)
    json_builder_add_string_value(b, cd_document_get_title(document));
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "pages");
  json_builder_begin_array(b);
  for (guint i = 0; i < pages->len; i++) {
    CdPage *page = g_ptr_array_index(pages, i);
    PIX *pix = cd_page_get_pix(page);
    gint xres = 0, yres = 0;

    cd_page_get_resolution(page, &xres, &yres);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "source");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, cd_page_get_source_path(page));
    json_builder_set_member_name(b, "page");
    json_builder_add_int_value(b, cd_page_get_source_page(page));
    json_builder_end_object(b);
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, cd_page_get_text(page) != NULL ? cd_page_get_text(page) : "");
    json_builder_set_member_name(b, "confidence");
    if (cd_page_get_confidence(page) >= 0 && cd_page_get_text(page) != NULL)
      json_builder_add_double_value(b, cd_page_get_confidence(page));
    else
      json_builder_add_null_value(b);
    json_builder_set_member_name(b, "resolution");
    json_builder_begin_array(b);
    json_builder_add_int_value(b, xres);
    json_builder_add_int_value(b, yres);
    json_builder_end_array(b);
    if (pix != NULL) {
      json_builder_set_member_name(b, "size");
      json_builder_begin_array(b);
      json_builder_add_int_value(b, pixGetWidth(pix));
      json_builder_add_int_value(b, pixGetHeight(pix));
      json_builder_end_array(b);
    }
    json_builder_set_member_name(b, "rotation");
    json_builder_add_int_value(b, cd_page_get_rotation(page));
    json_builder_set_member_name(b, "skew");
    json_builder_add_double_value(b, cd_page_get_skew(page));
    json_builder_set_member_name(b, "facts");
    json_builder_add_value(b, cd_external_facts(page));
    if (words) {
      GPtrArray *list = cd_page_get_words(page);
      json_builder_set_member_name(b, "words");
      json_builder_begin_array(b);
      for (guint w = 0; list != NULL && w < list->len; w++) {
        CdWord *word = g_ptr_array_index(list, w);
        json_builder_begin_array(b);
        json_builder_add_int_value(b, word->x);
        json_builder_add_int_value(b, word->y);
        json_builder_add_int_value(b, word->width);
        json_builder_add_int_value(b, word->height);
        json_builder_add_double_value(b, word->confidence);
        json_builder_add_int_value(b, word->line);
        json_builder_add_string_value(b, word->text);
        json_builder_end_array(b);
      }
      json_builder_end_array(b);
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* Checks the command once, before any document: it must parse, and its
 * program must exist, so a typo stops the batch instead of failing every
 * document. */
static gboolean
cd_external_classifier_start(CdStage *stage, GError **error)
{
  CdExternalClassifier *self = CD_EXTERNAL_CLASSIFIER(stage);
  g_autoptr(GError) error_local = NULL;
  g_autofree gchar *program = NULL;

  g_clear_pointer(&self->argv, g_strfreev);
  if (self->command == NULL || self->command[0] == '\0') {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "no command set (option 'command')");
    return FALSE;
  }
  if (!g_shell_parse_argv(self->command, NULL, &self->argv, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "command '%s': %s", self->command, error_local->message);
    return FALSE;
  }
  /* a program that exits without reading its input must not kill us with
   * SIGPIPE when we write the request: the write fails instead, and the
   * exit status says what happened */
  {
    struct sigaction current = { 0 };
    if (sigaction(SIGPIPE, NULL, &current) == 0 && current.sa_handler == SIG_DFL)
      signal(SIGPIPE, SIG_IGN);
  }
  program = g_find_program_in_path(self->argv[0]);
  if (program == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "command '%s': program '%s' not found", self->command,
                self->argv[0]);
    return FALSE;
  }
  return TRUE;
}

static void
cd_external_classifier_stop(CdStage *stage)
{
  CdExternalClassifier *self = CD_EXTERNAL_CLASSIFIER(stage);
  g_clear_pointer(&self->argv, g_strfreev);
}

/* The child leads a process group of its own, so that a time limit kills
 * whatever it started too (a shell script's children). */
static void
cd_external_child_setup(gpointer data)
{
  setpgid(0, 0);
}

static void
cd_external_kill(GSubprocess *process)
{
  const gchar *id = g_subprocess_get_identifier(process);
  if (id != NULL) {
    pid_t pid = (pid_t) g_ascii_strtoll(id, NULL, 10);
    if (pid > 0)
      kill(-pid, SIGKILL);
  }
  g_subprocess_force_exit(process);
  g_subprocess_wait(process, NULL, NULL);
}

/* The last line of what the program wrote on standard error, shortened. */
static gchar *
cd_external_stderr_tail(const gchar *err)
{
  g_autofree gchar *copy = g_strstrip(g_strdup(err != NULL ? err : ""));
  const gchar *last = strrchr(copy, '\n');
  const gchar *line = last != NULL ? last + 1 : copy;

  if (line[0] == '\0')
    return g_strdup("");
  if (g_utf8_strlen(line, -1) > CD_EXTERNAL_STDERR_MAX) {
    g_autofree gchar *cut = g_utf8_substring(line, 0, CD_EXTERNAL_STDERR_MAX);
    return g_strdup_printf(": %s…", cut);
  }
  return g_strdup_printf(": %s", line);
}

/* Reads `{"labels": [{"label": "…", "score": 0.9}, …]}`. */
static gboolean
cd_external_parse(const gchar *out, GPtrArray *scores, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error_local = NULL;
  JsonNode *root;
  JsonArray *labels;

  if (!json_parser_load_from_data(parser, out, -1, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "output is not JSON (%s)", error_local->message);
    return FALSE;
  }
  root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root) || !json_object_has_member(json_node_get_object(root), "labels") ||
      !JSON_NODE_HOLDS_ARRAY(json_object_get_member(json_node_get_object(root), "labels"))) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "output is not an object with a \"labels\" array");
    return FALSE;
  }
  labels = json_object_get_array_member(json_node_get_object(root), "labels");
  for (guint i = 0; i < json_array_get_length(labels); i++) {
    JsonNode *node = json_array_get_element(labels, i);
    JsonObject *obj = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
    JsonNode *label = obj != NULL ? json_object_get_member(obj, "label") : NULL;
    JsonNode *score = obj != NULL ? json_object_get_member(obj, "score") : NULL;
    if (label == NULL || score == NULL || json_node_get_value_type(label) != G_TYPE_STRING ||
        (json_node_get_value_type(score) != G_TYPE_DOUBLE && json_node_get_value_type(score) != G_TYPE_INT64)) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "labels[%u] is not {\"label\": string, \"score\": number}",
                  i);
      return FALSE;
    }
    g_ptr_array_add(scores, cd_label_score_new(json_node_get_string(label), json_node_get_double(score)));
  }
  return TRUE;
}

/* FALSE with an error when the program was killed or exited with a status
 * other than 0, quoting the last line of its standard error. */
static gboolean
cd_external_check_exit(CdExternalClassifier *self, GSubprocess *process, const gchar *err, GError **error)
{
  if (g_subprocess_get_if_signaled(process)) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "'%s' was killed by signal %d", self->command,
                g_subprocess_get_term_sig(process));
    return FALSE;
  }
  if (g_subprocess_get_exit_status(process) != 0) {
    g_autofree gchar *tail = cd_external_stderr_tail(err);
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "'%s' exited with status %d%s", self->command,
                g_subprocess_get_exit_status(process), tail);
    return FALSE;
  }
  return TRUE;
}

static gboolean
cd_external_classifier_classify(CdClassifier *classifier, CdDocument *document, GPtrArray *scores,
                                GCancellable *cancellable, GError **error)
{
  CdExternalClassifier *self = CD_EXTERNAL_CLASSIFIER(classifier);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(JsonNode) request = NULL;
  g_autofree gchar *input = NULL;
  g_autofree gchar *out = NULL;
  g_autofree gchar *err = NULL;
  g_autoptr(GError) error_local = NULL;

  if (self->argv == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INTERNAL, "classify before start");
    return FALSE;
  }
  request = cd_external_classifier_document_to_json(document, cd_classifier_get_taxonomy(classifier), self->words);
  {
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, request);
    input = json_generator_to_data(gen, NULL);
  }

  launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup(launcher, cd_external_child_setup, NULL, NULL);
  process = g_subprocess_launcher_spawnv(launcher, (const gchar *const *) self->argv, &error_local);
  if (process == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "'%s' cannot be run: %s", self->command, error_local->message);
    return FALSE;
  }
  if (!g_subprocess_communicate_utf8(process, input, cancellable, &out, &err, &error_local)) {
    /* it stopped reading: its exit status says more than the broken pipe */
    if (g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) &&
        g_subprocess_wait(process, cancellable, NULL) &&
        (g_subprocess_get_if_signaled(process) || g_subprocess_get_exit_status(process) != 0)) {
      g_clear_error(&error_local);
      return cd_external_check_exit(self, process, NULL, error);
    }
    cd_external_kill(process);
    if (g_error_matches(error_local, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_set_error(error, CD_ERROR, CD_ERROR_TIMEOUT, "'%s' was stopped", self->command);
      return FALSE;
    }
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "'%s': %s", self->command, error_local->message);
    return FALSE;
  }
  if (!cd_external_check_exit(self, process, err, error))
    return FALSE;
  if (!cd_external_parse(out, scores, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "'%s': %s", self->command, error_local->message);
    return FALSE;
  }
  return TRUE;
}

static void
cd_external_classifier_finalize(GObject *object)
{
  CdExternalClassifier *self = CD_EXTERNAL_CLASSIFIER(object);

  g_free(self->command);
  g_strfreev(self->argv);
  G_OBJECT_CLASS(cd_external_classifier_parent_class)->finalize(object);
}

static void
cd_external_classifier_class_init(CdExternalClassifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);

  object_class->get_property = cd_external_classifier_get_property;
  object_class->set_property = cd_external_classifier_set_property;
  object_class->finalize = cd_external_classifier_finalize;
  stage_class->start = cd_external_classifier_start;
  stage_class->stop = cd_external_classifier_stop;
  CD_CLASSIFIER_CLASS(klass)->classify = cd_external_classifier_classify;

  props[PROP_COMMAND] =
      g_param_spec_string("command", "Command", "Program and arguments (shell quoting, no shell) run once per document",
                          DEFAULT_COMMAND, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_SEND_WORDS] =
      g_param_spec_boolean("send-words", "Send word boxes", "Include every page's word boxes in the request",
                           DEFAULT_SEND_WORDS, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
  cd_stage_class_set_metadata(stage_class, "external",
                              "Runs a program per document: the document as JSON on its input, scored labels as "
                              "JSON on its output, within the time limit");
}

static void
cd_external_classifier_init(CdExternalClassifier *self)
{
}
