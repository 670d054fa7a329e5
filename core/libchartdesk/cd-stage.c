/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-archive.h"
#include "cd-classifier.h"
#include "cd-doc-stage.h"
#include "cd-error.h"
#include "cd-page-stage.h"
#include "cd-source.h"
#include "cd-splitter.h"

/**
 * CdStage:
 *
 * The common base of sources, page stages, splitters, document stages,
 * classifiers and sinks.
 *
 * Since: 0.1
 */

typedef struct {
  gboolean enabled;
  gboolean started;
  CdArchive *archive; /* weak: the engine keeps it alive for the run */
} CdStagePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE(CdStage, cd_stage, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ENABLED,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

#define DEFAULT_ENABLED TRUE

static GQuark quark_name;
static GQuark quark_description;

static void
cd_stage_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdStagePrivate *priv = cd_stage_get_instance_private(CD_STAGE(object));

  switch (prop_id) {
  case PROP_ENABLED:
    g_value_set_boolean(value, priv->enabled);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_stage_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdStagePrivate *priv = cd_stage_get_instance_private(CD_STAGE(object));

  switch (prop_id) {
  case PROP_ENABLED:
    priv->enabled = g_value_get_boolean(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_stage_dispose(GObject *object)
{
  cd_stage_stop(CD_STAGE(object));
  G_OBJECT_CLASS(cd_stage_parent_class)->dispose(object);
}

static void
cd_stage_class_init(CdStageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->get_property = cd_stage_get_property;
  object_class->set_property = cd_stage_set_property;
  object_class->dispose = cd_stage_dispose;

  quark_name = g_quark_from_static_string("cd-stage-name");
  quark_description = g_quark_from_static_string("cd-stage-description");

  props[PROP_ENABLED] =
      g_param_spec_boolean("enabled", "Enabled", "Run this stage; a disabled stage is skipped", DEFAULT_ENABLED,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
cd_stage_init(CdStage *self)
{
}

/**
 * cd_stage_class_set_metadata:
 * @klass: a stage class
 * @name: the stage's name as workflows use it: lowercase, `[a-z0-9-]+`,
 *   unique among all loaded plugins
 * @description: one sentence saying what the stage does
 *
 * Every concrete stage class calls this in its class_init.
 *
 * Since: 0.1
 */
void
cd_stage_class_set_metadata(CdStageClass *klass, const gchar *name, const gchar *description)
{
  GType type;

  g_return_if_fail(CD_IS_STAGE_CLASS(klass));
  g_return_if_fail(name != NULL && description != NULL);

  type = G_TYPE_FROM_CLASS(klass);
  g_type_set_qdata(type, quark_name, (gpointer) g_intern_string(name));
  g_type_set_qdata(type, quark_description, (gpointer) g_intern_string(description));
}

/**
 * cd_stage_class_get_name:
 * @klass: a stage class
 *
 * Returns: (nullable): the name set with cd_stage_class_set_metadata()
 *
 * Since: 0.1
 */
const gchar *
cd_stage_class_get_name(CdStageClass *klass)
{
  g_return_val_if_fail(CD_IS_STAGE_CLASS(klass), NULL);
  return g_type_get_qdata(G_TYPE_FROM_CLASS(klass), quark_name);
}

/**
 * cd_stage_class_get_description:
 * @klass: a stage class
 *
 * Returns: (nullable): the description set with cd_stage_class_set_metadata()
 *
 * Since: 0.1
 */
const gchar *
cd_stage_class_get_description(CdStageClass *klass)
{
  g_return_val_if_fail(CD_IS_STAGE_CLASS(klass), NULL);
  return g_type_get_qdata(G_TYPE_FROM_CLASS(klass), quark_description);
}

/**
 * cd_stage_type_get_kind:
 * @type: a type derived from #CdStage
 *
 * Returns: the kind of stage, from the base type @type derives from
 *
 * Since: 0.1
 */
CdStageKind
cd_stage_type_get_kind(GType type)
{
  if (g_type_is_a(type, CD_TYPE_SOURCE))
    return CD_STAGE_KIND_SOURCE;
  if (g_type_is_a(type, CD_TYPE_PAGE_STAGE))
    return CD_STAGE_KIND_PAGE;
  if (g_type_is_a(type, CD_TYPE_SPLITTER))
    return CD_STAGE_KIND_SPLITTER;
  if (g_type_is_a(type, CD_TYPE_DOC_STAGE))
    return CD_STAGE_KIND_DOCUMENT;
  if (g_type_is_a(type, CD_TYPE_CLASSIFIER))
    return CD_STAGE_KIND_CLASSIFIER;
  /* CdExporter's kind, and of a type derived from CdStage alone */
  return CD_STAGE_KIND_SINK;
}

/**
 * cd_stage_kind_to_string:
 * @kind: a #CdStageKind
 *
 * Returns: the kind's name as shown by `chartdesk plugins`
 *
 * Since: 0.1
 */
const gchar *
cd_stage_kind_to_string(CdStageKind kind)
{
  switch (kind) {
  case CD_STAGE_KIND_SOURCE:
    return "source";
  case CD_STAGE_KIND_PAGE:
    return "page";
  case CD_STAGE_KIND_SPLITTER:
    return "splitter";
  case CD_STAGE_KIND_DOCUMENT:
    return "document";
  case CD_STAGE_KIND_CLASSIFIER:
    return "classifier";
  case CD_STAGE_KIND_SINK:
    return "sink";
  default:
    return "unknown";
  }
}

/**
 * cd_stage_get_name:
 * @self: a #CdStage
 *
 * Returns: the stage's class name
 *
 * Since: 0.1
 */
const gchar *
cd_stage_get_name(CdStage *self)
{
  g_return_val_if_fail(CD_IS_STAGE(self), NULL);
  return cd_stage_class_get_name(CD_STAGE_GET_CLASS(self));
}

/**
 * cd_stage_get_kind:
 * @self: a #CdStage
 *
 * Returns: the kind of stage
 *
 * Since: 0.1
 */
CdStageKind
cd_stage_get_kind(CdStage *self)
{
  g_return_val_if_fail(CD_IS_STAGE(self), CD_STAGE_KIND_SINK);
  return cd_stage_type_get_kind(G_OBJECT_TYPE(self));
}

/**
 * cd_stage_get_enabled:
 * @self: a #CdStage
 *
 * Returns: whether the engine runs this stage
 *
 * Since: 0.1
 */
gboolean
cd_stage_get_enabled(CdStage *self)
{
  CdStagePrivate *priv;

  g_return_val_if_fail(CD_IS_STAGE(self), FALSE);
  priv = cd_stage_get_instance_private(self);
  return priv->enabled;
}

/**
 * cd_stage_get_archive:
 * @self: a #CdStage
 *
 * Stages that consult the archive (the patient index, a trained model) get it
 * here while a batch runs.
 *
 * Returns: (transfer none) (nullable): the archive the batch writes to
 *
 * Since: 0.1
 */
CdArchive *
cd_stage_get_archive(CdStage *self)
{
  CdStagePrivate *priv;

  g_return_val_if_fail(CD_IS_STAGE(self), NULL);
  priv = cd_stage_get_instance_private(self);
  return priv->archive;
}

/**
 * cd_stage_set_archive:
 * @self: a #CdStage
 * @archive: (nullable) (transfer none): the archive the batch writes to
 *
 * Gives the stage the batch's archive (its patient index, say) before
 * cd_stage_start(). The pipeline does this; a test harness running a stage
 * on its own does it too.
 *
 * Since: 0.1
 */
void
cd_stage_set_archive(CdStage *self, CdArchive *archive)
{
  CdStagePrivate *priv = cd_stage_get_instance_private(self);
  priv->archive = archive;
}

/**
 * cd_stage_start:
 * @self: a #CdStage
 * @error: return location for a #GError
 *
 * Runs the stage's start vfunc once. A stage that fails without setting an
 * error has broken its contract; that becomes an internal error rather than
 * a crash, and every error names the stage.
 *
 * Returns: %TRUE if the stage is ready for work
 *
 * Since: 0.1
 */
gboolean
cd_stage_start(CdStage *self, GError **error)
{
  CdStagePrivate *priv = cd_stage_get_instance_private(self);
  CdStageClass *klass = CD_STAGE_GET_CLASS(self);
  g_autoptr(GError) error_local = NULL;

  if (priv->started || !priv->enabled)
    return TRUE;
  if (klass->start != NULL && !klass->start(self, &error_local)) {
    if (error_local == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "%s: start failed without an error", cd_stage_get_name(self));
      return FALSE;
    }
    g_propagate_prefixed_error(error, g_steal_pointer(&error_local), "%s: ", cd_stage_get_name(self));
    return FALSE;
  }
  priv->started = TRUE;
  return TRUE;
}

/**
 * cd_stage_stop:
 * @self: a #CdStage
 *
 * Releases what cd_stage_start() took, if it ran.
 *
 * Since: 0.1
 */
void
cd_stage_stop(CdStage *self)
{
  CdStagePrivate *priv = cd_stage_get_instance_private(self);
  CdStageClass *klass = CD_STAGE_GET_CLASS(self);

  if (!priv->started)
    return;
  priv->started = FALSE;
  if (klass->stop != NULL)
    klass->stop(self);
}
