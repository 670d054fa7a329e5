/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <math.h>

#include "cd-error.h"
#include "cd-util-private.h"
#include "cd-workflow.h"
#include "cd-param-private.h"

/**
 * CdWorkflow:
 *
 * A validated workflow: which source, which stages in which order, and the
 * options of each, read from a keyfile:
 *
 * |[
 * [workflow]
 * name=chart-intake
 * description=Clean up, OCR and archive chart scans
 * source=files
 * page-stages=orient;deskew;tesseract
 * document-stages=dates
 * classifiers=rules
 * type-thresholds=default:0.5;consent-form:0.8
 * workers=0
 *
 * [tesseract]
 * language=eng
 * ]|
 *
 * Everything is checked when the workflow is loaded, before any page is
 * touched: every stage must exist and be of the kind its key says, every
 * option must be a writable property of its stage, and every value must
 * parse and lie in the property's range. Messages name the file, the group
 * and the key.
 *
 * Since: 0.1
 */

typedef struct {
  gchar *name;
  GType type;
  CdStageKind kind;
  GPtrArray *option_names; /* of gchar* */
  GArray *option_values;   /* of GValue */
} CdWorkflowStage;

struct _CdWorkflow {
  GObject parent_instance;
  gchar *origin; /* file name, or what the data came from */
  gchar *name;
  gchar *description;
  guint workers;              /* 0: one per core */
  GPtrArray *stages;          /* of CdWorkflowStage, in workflow order */
  GPtrArray *threshold_types; /* of gchar*: type-thresholds names, in order */
  GArray *thresholds;         /* of gdouble, parallel to threshold_types */
};

G_DEFINE_TYPE(CdWorkflow, cd_workflow, G_TYPE_OBJECT)

/* The keys of [workflow] that list stages, and the kind each must be. */
static const struct {
  const gchar *key;
  CdStageKind kind;
  gboolean single;
} stage_keys[] = {
  { "source", CD_STAGE_KIND_SOURCE, TRUE },           { "page-stages", CD_STAGE_KIND_PAGE, FALSE },
  { "splitter", CD_STAGE_KIND_SPLITTER, TRUE },       { "document-stages", CD_STAGE_KIND_DOCUMENT, FALSE },
  { "classifiers", CD_STAGE_KIND_CLASSIFIER, FALSE }, { "sinks", CD_STAGE_KIND_SINK, FALSE },
};

static void
cd_workflow_stage_free(CdWorkflowStage *stage)
{
  g_free(stage->name);
  g_ptr_array_unref(stage->option_names);
  g_array_unref(stage->option_values);
  g_free(stage);
}

static void
cd_workflow_finalize(GObject *object)
{
  CdWorkflow *self = CD_WORKFLOW(object);

  g_free(self->origin);
  g_free(self->name);
  g_free(self->description);
  g_ptr_array_unref(self->stages);
  g_ptr_array_unref(self->threshold_types);
  g_array_unref(self->thresholds);

  G_OBJECT_CLASS(cd_workflow_parent_class)->finalize(object);
}

static void
cd_workflow_class_init(CdWorkflowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->finalize = cd_workflow_finalize;
}

static void
cd_workflow_init(CdWorkflow *self)
{
  self->stages = g_ptr_array_new_with_free_func((GDestroyNotify) cd_workflow_stage_free);
  self->threshold_types = g_ptr_array_new_with_free_func(g_free);
  self->thresholds = g_array_new(FALSE, FALSE, sizeof(gdouble));
}

/* Reads `type-thresholds=default:0.5;consent-form:0.8`: TYPE:NUMBER items,
 * numbers from 0 to 1. Whether each TYPE is in the taxonomy is checked when
 * a batch starts, against the taxonomy in use then. */
static gboolean
cd_workflow_load_thresholds(CdWorkflow *self, const gchar *str, GError **error)
{
  g_auto(GStrv) items = g_strsplit(str, ";", -1);

  for (guint i = 0; items[i] != NULL; i++) {
    g_auto(GStrv) kv = NULL;
    gchar *end = NULL;
    gdouble v = -1;
    if (*g_strstrip(items[i]) == '\0')
      continue;
    kv = g_strsplit(items[i], ":", 2);
    if (kv[1] != NULL) {
      g_strstrip(kv[0]);
      g_strstrip(kv[1]);
      errno = 0;
      v = g_ascii_strtod(kv[1], &end);
    }
    if (kv[1] == NULL || kv[0][0] == '\0' || kv[1][0] == '\0' || end == NULL || *end != '\0' || errno != 0 ||
        !(v >= 0.0 && v <= 1.0)) {
      g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW,
                  "%s: [workflow] type-thresholds: '%s' is not TYPE:NUMBER with a number from 0 to 1", self->origin,
                  items[i]);
      return FALSE;
    }
    for (guint j = 0; j < self->threshold_types->len; j++) {
      if (g_strcmp0(g_ptr_array_index(self->threshold_types, j), kv[0]) == 0) {
        g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: [workflow] type-thresholds: '%s' is given twice",
                    self->origin, kv[0]);
        return FALSE;
      }
    }
    g_ptr_array_add(self->threshold_types, g_strdup(kv[0]));
    g_array_append_val(self->thresholds, v);
  }
  return TRUE;
}

static CdWorkflowStage *
cd_workflow_find_stage(CdWorkflow *self, const gchar *name)
{
  for (guint i = 0; i < self->stages->len; i++) {
    CdWorkflowStage *stage = g_ptr_array_index(self->stages, i);
    if (g_strcmp0(stage->name, name) == 0)
      return stage;
  }
  return NULL;
}

/* Records one option after checking it against the stage's property specs. */
static gboolean
cd_workflow_stage_set(CdWorkflowStage *stage, const gchar *option, const gchar *str, GError **error)
{
  g_autoptr(GTypeClass) klass = g_type_class_ref(stage->type);
  GParamSpec *pspec = g_object_class_find_property(G_OBJECT_CLASS(klass), option);
  GValue value = G_VALUE_INIT;

  if (pspec == NULL || (pspec->flags & G_PARAM_WRITABLE) == 0 || (pspec->flags & G_PARAM_CONSTRUCT_ONLY) != 0) {
    g_autoptr(GString) names = g_string_new(NULL);
    guint n = 0;
    g_autofree GParamSpec **specs = g_object_class_list_properties(G_OBJECT_CLASS(klass), &n);
    for (guint i = 0; i < n; i++) {
      if ((specs[i]->flags & G_PARAM_WRITABLE) != 0)
        g_string_append_printf(names, "%s%s", names->len > 0 ? ", " : "", specs[i]->name);
    }
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "stage '%s' has no option '%s' (its options: %s)", stage->name,
                option, names->str);
    return FALSE;
  }
  if (!cd_param_value_from_string(pspec, str, &value, error)) {
    g_value_unset(&value);
    return FALSE;
  }
  for (guint i = 0; i < stage->option_names->len; i++) {
    if (g_strcmp0(g_ptr_array_index(stage->option_names, i), pspec->name) == 0) {
      GValue *old = &g_array_index(stage->option_values, GValue, i);
      g_value_unset(old);
      *old = value;
      return TRUE;
    }
  }
  g_ptr_array_add(stage->option_names, g_strdup(pspec->name));
  g_array_append_val(stage->option_values, value);
  return TRUE;
}

static gboolean
cd_workflow_add_stage(CdWorkflow *self, CdRegistry *registry, const gchar *name, CdStageKind kind, const gchar *key,
                      GError **error)
{
  CdWorkflowStage *stage;
  GType type;
  g_autoptr(GError) error_local = NULL;

  if (cd_workflow_find_stage(self, name) != NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: [workflow] %s: stage '%s' is listed twice", self->origin, key,
                name);
    return FALSE;
  }
  type = cd_registry_find_stage(registry, name, &error_local);
  if (type == G_TYPE_INVALID) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: [workflow] %s: %s", self->origin, key, error_local->message);
    return FALSE;
  }
  if (cd_stage_type_get_kind(type) != kind) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: [workflow] %s: stage '%s' is a %s stage, not a %s stage",
                self->origin, key, name, cd_stage_kind_to_string(cd_stage_type_get_kind(type)),
                cd_stage_kind_to_string(kind));
    return FALSE;
  }
  stage = g_new0(CdWorkflowStage, 1);
  stage->name = g_strdup(name);
  stage->type = type;
  stage->kind = kind;
  stage->option_names = g_ptr_array_new_with_free_func(g_free);
  stage->option_values = g_array_new(FALSE, TRUE, sizeof(GValue));
  g_array_set_clear_func(stage->option_values, (GDestroyNotify) g_value_unset);
  g_ptr_array_add(self->stages, stage);
  return TRUE;
}

static gboolean
cd_workflow_load(CdWorkflow *self, CdRegistry *registry, GKeyFile *kf, GError **error)
{
  g_auto(GStrv) groups = NULL;
  g_auto(GStrv) keys = NULL;
  g_autoptr(GError) error_local = NULL;
  gboolean has_source = FALSE;

  if (!g_key_file_has_group(kf, "workflow")) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: no [workflow] group", self->origin);
    return FALSE;
  }
  keys = g_key_file_get_keys(kf, "workflow", NULL, NULL);
  for (guint i = 0; keys[i] != NULL; i++) {
    const gchar *key = keys[i];
    gboolean known =
        g_strv_contains((const gchar *const[]){ "name", "description", "workers", "type-thresholds", NULL }, key);
    for (guint k = 0; k < G_N_ELEMENTS(stage_keys); k++)
      known = known || g_strcmp0(stage_keys[k].key, key) == 0;
    if (!known) {
      g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW,
                  "%s: [workflow] %s: unknown key (known: name, description, workers, source, page-stages, "
                  "splitter, document-stages, classifiers, type-thresholds, sinks)",
                  self->origin, key);
      return FALSE;
    }
  }
  self->name = g_key_file_get_string(kf, "workflow", "name", NULL);
  if (self->name == NULL || self->name[0] == '\0') {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: [workflow] name: missing", self->origin);
    return FALSE;
  }
  self->description = g_key_file_get_string(kf, "workflow", "description", NULL);
  if (g_key_file_has_key(kf, "workflow", "workers", NULL)) {
    g_autofree gchar *str = g_key_file_get_string(kf, "workflow", "workers", NULL);
    guint64 v = 0;
    if (str == NULL || !g_ascii_string_to_unsigned(g_strstrip(str), 10, 0, 256, &v, NULL)) {
      g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW,
                  "%s: [workflow] workers: '%s' is not a number of workers from 0 (one per core) to 256", self->origin,
                  str != NULL ? str : "");
      return FALSE;
    }
    self->workers = v;
  }
  if (g_key_file_has_key(kf, "workflow", "type-thresholds", NULL)) {
    g_autofree gchar *str = g_key_file_get_value(kf, "workflow", "type-thresholds", NULL);
    if (!cd_workflow_load_thresholds(self, str, error))
      return FALSE;
  }

  for (guint k = 0; k < G_N_ELEMENTS(stage_keys); k++) {
    g_auto(GStrv) names = NULL;
    gsize n = 0;
    if (!g_key_file_has_key(kf, "workflow", stage_keys[k].key, NULL))
      continue;
    names = g_key_file_get_string_list(kf, "workflow", stage_keys[k].key, &n, NULL);
    if (stage_keys[k].single && n > 1) {
      g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: [workflow] %s: takes one stage, not %" G_GSIZE_FORMAT,
                  self->origin, stage_keys[k].key, n);
      return FALSE;
    }
    for (gsize i = 0; i < n; i++) {
      g_strstrip(names[i]);
      if (names[i][0] == '\0')
        continue;
      if (!cd_workflow_add_stage(self, registry, names[i], stage_keys[k].kind, stage_keys[k].key, error))
        return FALSE;
      if (stage_keys[k].kind == CD_STAGE_KIND_SOURCE)
        has_source = TRUE;
    }
  }
  if (!has_source) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: [workflow] source: missing", self->origin);
    return FALSE;
  }

  groups = g_key_file_get_groups(kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++) {
    CdWorkflowStage *stage;
    g_auto(GStrv) options = NULL;
    if (g_strcmp0(groups[i], "workflow") == 0)
      continue;
    stage = cd_workflow_find_stage(self, groups[i]);
    if (stage == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: [%s]: not a stage of this workflow (add it to [workflow])",
                  self->origin, groups[i]);
      return FALSE;
    }
    options = g_key_file_get_keys(kf, groups[i], NULL, NULL);
    for (guint j = 0; options[j] != NULL; j++) {
      /* verbatim, without keyfile escapes: regular expressions read as written */
      g_autofree gchar *value = g_key_file_get_value(kf, groups[i], options[j], NULL);
      if (!cd_workflow_stage_set(stage, options[j], g_strstrip(value), &error_local)) {
        g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: [%s] %s: %s", self->origin, groups[i], options[j],
                    error_local->message);
        return FALSE;
      }
    }
  }
  return TRUE;
}

/**
 * cd_workflow_new_from_data:
 * @registry: the registry the stages come from
 * @data: keyfile text
 * @origin: what to call it in messages (a file name)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a validated workflow, or %NULL with @error set
 *
 * Since: 0.1
 */
CdWorkflow *
cd_workflow_new_from_data(CdRegistry *registry, const gchar *data, const gchar *origin, GError **error)
{
  g_autoptr(CdWorkflow) self = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error_local = NULL;

  g_return_val_if_fail(CD_IS_REGISTRY(registry), NULL);
  g_return_val_if_fail(data != NULL, NULL);

  self = g_object_new(CD_TYPE_WORKFLOW, NULL);
  self->origin = g_strdup(origin != NULL ? origin : "workflow");
  if (!g_key_file_load_from_data(kf, data, -1, G_KEY_FILE_NONE, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: %s", self->origin, error_local->message);
    return NULL;
  }
  if (!cd_workflow_load(self, registry, kf, error))
    return NULL;
  return g_steal_pointer(&self);
}

/**
 * cd_workflow_new_from_file:
 * @registry: the registry the stages come from
 * @filename: a `.workflow` keyfile
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a validated workflow, or %NULL with @error set
 *
 * Since: 0.1
 */
CdWorkflow *
cd_workflow_new_from_file(CdRegistry *registry, const gchar *filename, GError **error)
{
  g_autofree gchar *data = NULL;
  g_autoptr(GError) error_local = NULL;

  g_return_val_if_fail(filename != NULL, NULL);
  if (!g_file_get_contents(filename, &data, NULL, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: cannot read workflow: %s", filename, error_local->message);
    return NULL;
  }
  return cd_workflow_new_from_data(registry, data, filename, error);
}

/**
 * cd_workflow_find_file:
 * @file: a file name (`roi-cover-letter.txt`, `intake.workflow`)
 * @error: return location for a #GError
 *
 * Finds a file shipped beside the workflows, in `CHARTDESK_WORKFLOW_PATH`,
 * the user's `~/.config/chartdesk/workflows`, the source tree when running
 * uninstalled, and the installed workflows, in that order: a hospital
 * overrides a shipped file by putting its own earlier on that path.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 *
 * Since: 0.4
 */
gchar *
cd_workflow_find_file(const gchar *file, GError **error)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func(g_free);
  const gchar *env = g_getenv("CHARTDESK_WORKFLOW_PATH");

  g_return_val_if_fail(file != NULL, NULL);
  if (env != NULL) {
    g_auto(GStrv) parts = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
    for (guint i = 0; parts[i] != NULL; i++) {
      if (parts[i][0] != '\0')
        g_ptr_array_add(dirs, g_strdup(parts[i]));
    }
  }
  g_ptr_array_add(dirs, g_build_filename(g_get_user_config_dir(), "chartdesk", "workflows", NULL));
  if (cd_running_uninstalled())
    g_ptr_array_add(dirs, g_strdup(CD_SOURCE_ROOT "/workflows"));
  g_ptr_array_add(dirs, g_strdup(CD_DATA_DIR "/workflows"));

  for (guint i = 0; i < dirs->len; i++) {
    g_autofree gchar *path = g_build_filename(g_ptr_array_index(dirs, i), file, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
      return g_steal_pointer(&path);
  }
  g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no %s found (looked in %u folders)", file, dirs->len);
  return NULL;
}

/**
 * cd_workflow_find:
 * @name_or_path: a path to a workflow file, or a workflow's name
 * @error: return location for a #GError
 *
 * Finds a workflow by name where cd_workflow_find_file() looks.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 *
 * Since: 0.1
 */
gchar *
cd_workflow_find(const gchar *name_or_path, GError **error)
{
  g_autofree gchar *file = NULL;
  g_autoptr(GError) error_local = NULL;
  gchar *path;

  g_return_val_if_fail(name_or_path != NULL, NULL);
  if (strchr(name_or_path, '/') != NULL || g_str_has_suffix(name_or_path, ".workflow")) {
    if (!g_file_test(name_or_path, G_FILE_TEST_IS_REGULAR)) {
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no such workflow file", name_or_path);
      return NULL;
    }
    return g_strdup(name_or_path);
  }
  file = g_strdup_printf("%s.workflow", name_or_path);
  path = cd_workflow_find_file(file, &error_local);
  if (path == NULL)
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no workflow named '%s' (%s)", name_or_path,
                error_local->message);
  return path;
}

/**
 * cd_workflow_get_name:
 * @self: a #CdWorkflow
 *
 * Returns: the workflow's name
 *
 * Since: 0.1
 */
const gchar *
cd_workflow_get_name(CdWorkflow *self)
{
  g_return_val_if_fail(CD_IS_WORKFLOW(self), NULL);
  return self->name;
}

/**
 * cd_workflow_get_description:
 * @self: a #CdWorkflow
 *
 * Returns: (nullable): the workflow's description
 *
 * Since: 0.1
 */
const gchar *
cd_workflow_get_description(CdWorkflow *self)
{
  g_return_val_if_fail(CD_IS_WORKFLOW(self), NULL);
  return self->description;
}

/**
 * cd_workflow_get_origin:
 * @self: a #CdWorkflow
 *
 * Returns: the file the workflow was read from
 *
 * Since: 0.1
 */
const gchar *
cd_workflow_get_origin(CdWorkflow *self)
{
  g_return_val_if_fail(CD_IS_WORKFLOW(self), NULL);
  return self->origin;
}

/**
 * cd_workflow_get_workers:
 * @self: a #CdWorkflow
 *
 * Returns: worker threads for page stages; 0 means one per core
 *
 * Since: 0.1
 */
guint
cd_workflow_get_workers(CdWorkflow *self)
{
  g_return_val_if_fail(CD_IS_WORKFLOW(self), 0);
  return self->workers;
}

/**
 * cd_workflow_set_workers:
 * @self: a #CdWorkflow
 * @workers: worker threads, 0 for one per core
 *
 * Since: 0.1
 */
void
cd_workflow_set_workers(CdWorkflow *self, guint workers)
{
  g_return_if_fail(CD_IS_WORKFLOW(self));
  self->workers = workers;
}

/**
 * cd_workflow_get_type_threshold:
 * @self: a #CdWorkflow
 * @type: a document type, or `default`
 * @threshold: (out) (optional): the confidence below which a document of
 *   @type goes to review
 *
 * The per-type review thresholds of `type-thresholds` in `[workflow]`.
 *
 * Returns: %TRUE if the workflow sets a threshold for @type
 *
 * Since: 0.1
 */
gboolean
cd_workflow_get_type_threshold(CdWorkflow *self, const gchar *type, gdouble *threshold)
{
  g_return_val_if_fail(CD_IS_WORKFLOW(self), FALSE);
  for (guint i = 0; i < self->threshold_types->len; i++) {
    if (g_strcmp0(g_ptr_array_index(self->threshold_types, i), type) == 0) {
      if (threshold != NULL)
        *threshold = g_array_index(self->thresholds, gdouble, i);
      return TRUE;
    }
  }
  return FALSE;
}

/**
 * cd_workflow_get_type_threshold_names:
 * @self: a #CdWorkflow
 *
 * Returns: (transfer none) (element-type utf8): the types `type-thresholds`
 *   names, as written (including `default`)
 *
 * Since: 0.1
 */
GPtrArray *
cd_workflow_get_type_threshold_names(CdWorkflow *self)
{
  g_return_val_if_fail(CD_IS_WORKFLOW(self), NULL);
  return self->threshold_types;
}

/**
 * cd_workflow_set_option:
 * @self: a #CdWorkflow
 * @stage: a stage of the workflow
 * @option: one of its options
 * @value: the value as text
 * @error: return location for a #GError
 *
 * Overrides an option, as `chartdesk ingest --set stage.option=value` does,
 * with the same validation as the workflow file.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_workflow_set_option(CdWorkflow *self, const gchar *stage, const gchar *option, const gchar *value, GError **error)
{
  CdWorkflowStage *ws;

  g_return_val_if_fail(CD_IS_WORKFLOW(self), FALSE);
  ws = cd_workflow_find_stage(self, stage);
  if (ws == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "workflow '%s' has no stage '%s'", self->name, stage);
    return FALSE;
  }
  return cd_workflow_stage_set(ws, option, value, error);
}

/**
 * cd_workflow_get_stage_names:
 * @self: a #CdWorkflow
 * @kind: a stage kind
 *
 * Returns: (transfer container) (element-type utf8): the workflow's stages
 *   of @kind, in order
 *
 * Since: 0.1
 */
GPtrArray *
cd_workflow_get_stage_names(CdWorkflow *self, CdStageKind kind)
{
  GPtrArray *names = g_ptr_array_new();

  g_return_val_if_fail(CD_IS_WORKFLOW(self), names);
  for (guint i = 0; i < self->stages->len; i++) {
    CdWorkflowStage *stage = g_ptr_array_index(self->stages, i);
    if (stage->kind == kind)
      g_ptr_array_add(names, stage->name);
  }
  return names;
}

static CdStage *
cd_workflow_stage_instantiate(CdWorkflowStage *stage)
{
  return CD_STAGE(g_object_new_with_properties(stage->type, stage->option_names->len,
                                               (const gchar **) stage->option_names->pdata,
                                               (const GValue *) stage->option_values->data));
}

/**
 * cd_workflow_create_stages:
 * @self: a #CdWorkflow
 * @kind: the kind of stage
 * @error: return location for a #GError
 *
 * Makes fresh instances of the workflow's stages of @kind with their
 * options set. The engine calls this once per worker for page stages.
 *
 * Returns: (transfer container) (element-type CdStage): the stages in order
 *
 * Since: 0.1
 */
GPtrArray *
cd_workflow_create_stages(CdWorkflow *self, CdStageKind kind, GError **error)
{
  GPtrArray *stages = g_ptr_array_new_with_free_func(g_object_unref);

  g_return_val_if_fail(CD_IS_WORKFLOW(self), stages);
  for (guint i = 0; i < self->stages->len; i++) {
    CdWorkflowStage *stage = g_ptr_array_index(self->stages, i);
    if (stage->kind == kind)
      g_ptr_array_add(stages, cd_workflow_stage_instantiate(stage));
  }
  return stages;
}

/**
 * cd_workflow_create_source:
 * @self: a #CdWorkflow
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the source with its options set
 *
 * Since: 0.1
 */
CdSource *
cd_workflow_create_source(CdWorkflow *self, GError **error)
{
  g_autoptr(GPtrArray) stages = cd_workflow_create_stages(self, CD_STAGE_KIND_SOURCE, error);
  if (stages->len == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: no source", self->origin);
    return NULL;
  }
  return CD_SOURCE(g_object_ref(g_ptr_array_index(stages, 0)));
}

/**
 * cd_workflow_create_splitter:
 * @self: a #CdWorkflow
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the splitter, or %NULL when the
 *   workflow has none (one document per file)
 *
 * Since: 0.1
 */
CdSplitter *
cd_workflow_create_splitter(CdWorkflow *self, GError **error)
{
  g_autoptr(GPtrArray) stages = cd_workflow_create_stages(self, CD_STAGE_KIND_SPLITTER, error);
  if (stages->len == 0)
    return NULL;
  return CD_SPLITTER(g_object_ref(g_ptr_array_index(stages, 0)));
}
