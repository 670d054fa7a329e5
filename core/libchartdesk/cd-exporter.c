/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-error.h"
#include "cd-exporter.h"

typedef struct {
  gchar *output;        /* the `output` option */
  gchar *destination;   /* where documents go, for the audit log */
  CdTaxonomy *taxonomy; /* set by the engine before begin */
  guint n_exported;     /* documents export_document() took */
} CdExporterPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE(CdExporter, cd_exporter, CD_TYPE_STAGE)

enum {
  PROP_0,
  PROP_OUTPUT,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

static void
cd_exporter_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdExporterPrivate *priv = cd_exporter_get_instance_private(CD_EXPORTER(object));

  switch (prop_id) {
  case PROP_OUTPUT:
    g_value_set_string(value, priv->output);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_exporter_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdExporterPrivate *priv = cd_exporter_get_instance_private(CD_EXPORTER(object));

  switch (prop_id) {
  case PROP_OUTPUT:
    g_free(priv->output);
    priv->output = g_value_dup_string(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_exporter_finalize(GObject *object)
{
  CdExporterPrivate *priv = cd_exporter_get_instance_private(CD_EXPORTER(object));

  g_free(priv->output);
  g_free(priv->destination);
  g_clear_object(&priv->taxonomy);
  G_OBJECT_CLASS(cd_exporter_parent_class)->finalize(object);
}

static void
cd_exporter_class_init(CdExporterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);

  object_class->get_property = cd_exporter_get_property;
  object_class->set_property = cd_exporter_set_property;
  object_class->finalize = cd_exporter_finalize;

  /**
   * CdExporter:output:
   *
   * Where the export goes: a file or a folder, as each exporter says
   * (`chartdesk export -o`). %NULL lets the exporter choose (standard
   * output, the working folder, or a network destination of its own).
   *
   * Since: 0.4
   */
  props[PROP_OUTPUT] =
      g_param_spec_string("output", "Output", "Where to write: a file or a folder (chartdesk export -o)", NULL,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
}

static void
cd_exporter_init(CdExporter *self)
{
}

/**
 * cd_exporter_get_output:
 * @self: a #CdExporter
 *
 * Returns: (nullable): the #CdExporter:output option
 *
 * Since: 0.4
 */
const gchar *
cd_exporter_get_output(CdExporter *self)
{
  CdExporterPrivate *priv;

  g_return_val_if_fail(CD_IS_EXPORTER(self), NULL);
  priv = cd_exporter_get_instance_private(self);
  return priv->output;
}

/**
 * cd_exporter_get_destination:
 * @self: a #CdExporter
 *
 * Returns: (nullable): where the documents go, as the exporter said with
 *   cd_exporter_set_destination(), else the #CdExporter:output option;
 *   the engine records it in the audit log with each document
 *
 * Since: 0.4
 */
const gchar *
cd_exporter_get_destination(CdExporter *self)
{
  CdExporterPrivate *priv;

  g_return_val_if_fail(CD_IS_EXPORTER(self), NULL);
  priv = cd_exporter_get_instance_private(self);
  return priv->destination != NULL ? priv->destination : priv->output;
}

/**
 * cd_exporter_set_destination:
 * @self: a #CdExporter
 * @destination: (nullable): where the documents go, e.g.
 *   `mllp://ehr.example.org:2575`
 *
 * Lets an exporter whose destination is not its #CdExporter:output (a
 * network peer) say where it sends, for the audit log; call it in begin.
 *
 * Since: 0.4
 */
void
cd_exporter_set_destination(CdExporter *self, const gchar *destination)
{
  CdExporterPrivate *priv;

  g_return_if_fail(CD_IS_EXPORTER(self));
  priv = cd_exporter_get_instance_private(self);
  g_free(priv->destination);
  priv->destination = g_strdup(destination);
}

/**
 * cd_exporter_get_taxonomy:
 * @self: a #CdExporter
 *
 * Returns: (transfer none) (nullable): the taxonomy the engine set, for
 *   the display names and LOINC codes of document types
 *
 * Since: 0.4
 */
CdTaxonomy *
cd_exporter_get_taxonomy(CdExporter *self)
{
  CdExporterPrivate *priv;

  g_return_val_if_fail(CD_IS_EXPORTER(self), NULL);
  priv = cd_exporter_get_instance_private(self);
  return priv->taxonomy;
}

/**
 * cd_exporter_set_taxonomy:
 * @self: a #CdExporter
 * @taxonomy: (nullable): the taxonomy in use
 *
 * Called by the engine before cd_exporter_begin().
 *
 * Since: 0.4
 */
void
cd_exporter_set_taxonomy(CdExporter *self, CdTaxonomy *taxonomy)
{
  CdExporterPrivate *priv;

  g_return_if_fail(CD_IS_EXPORTER(self));
  priv = cd_exporter_get_instance_private(self);
  g_set_object(&priv->taxonomy, taxonomy);
}

/**
 * cd_exporter_get_n_exported:
 * @self: a #CdExporter
 *
 * Returns: how many documents cd_exporter_export_document() has passed on
 *   successfully
 *
 * Since: 0.4
 */
guint
cd_exporter_get_n_exported(CdExporter *self)
{
  CdExporterPrivate *priv;

  g_return_val_if_fail(CD_IS_EXPORTER(self), 0);
  priv = cd_exporter_get_instance_private(self);
  return priv->n_exported;
}

/* The runners' common end: "returned FALSE without an error" is a broken
 * contract, and every error names the stage. */
static gboolean
cd_exporter_check(CdExporter *self, gboolean ok, GError *error_local, GError **error)
{
  if (ok) {
    g_clear_error(&error_local);
    return TRUE;
  }
  if (error_local == NULL)
    g_set_error_literal(&error_local, CD_ERROR, CD_ERROR_INTERNAL, "failed without an error");
  g_propagate_prefixed_error(error, error_local, "%s: ", cd_stage_get_name(CD_STAGE(self)));
  return FALSE;
}

/**
 * cd_exporter_begin:
 * @self: a #CdExporter
 * @error: return location for a #GError
 *
 * The engine's entry to #CdExporterClass.begin; a disabled exporter does
 * nothing.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_exporter_begin(CdExporter *self, GError **error)
{
  CdExporterClass *klass;
  GError *error_local = NULL;
  gboolean ok;

  g_return_val_if_fail(CD_IS_EXPORTER(self), FALSE);
  klass = CD_EXPORTER_GET_CLASS(self);
  if (!cd_stage_get_enabled(CD_STAGE(self)) || klass->begin == NULL)
    return TRUE;
  ok = klass->begin(self, &error_local);
  return cd_exporter_check(self, ok, error_local, error);
}

/**
 * cd_exporter_export_document:
 * @self: a #CdExporter
 * @document: an archived document, its pages with their stored images
 * @patient: (nullable): the document's patient as the archive has them
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The engine's entry to #CdExporterClass.export_document.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_exporter_export_document(CdExporter *self, CdDocument *document, const CdPatient *patient, GCancellable *cancellable,
                            GError **error)
{
  CdExporterClass *klass;
  CdExporterPrivate *priv;
  GError *error_local = NULL;
  gboolean ok;

  g_return_val_if_fail(CD_IS_EXPORTER(self), FALSE);
  g_return_val_if_fail(CD_IS_DOCUMENT(document), FALSE);
  klass = CD_EXPORTER_GET_CLASS(self);
  priv = cd_exporter_get_instance_private(self);
  if (!cd_stage_get_enabled(CD_STAGE(self)) || klass->export_document == NULL)
    return TRUE;
  if (g_cancellable_set_error_if_cancelled(cancellable, error))
    return FALSE;
  /* the call first: an argument list has no order of evaluation */
  ok = klass->export_document(self, document, patient, cancellable, &error_local);
  if (!cd_exporter_check(self, ok, error_local, error))
    return FALSE;
  priv->n_exported++;
  return TRUE;
}

/**
 * cd_exporter_finish:
 * @self: a #CdExporter
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The engine's entry to #CdExporterClass.finish.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.4
 */
gboolean
cd_exporter_finish(CdExporter *self, GCancellable *cancellable, GError **error)
{
  CdExporterClass *klass;
  GError *error_local = NULL;
  gboolean ok;

  g_return_val_if_fail(CD_IS_EXPORTER(self), FALSE);
  klass = CD_EXPORTER_GET_CLASS(self);
  if (!cd_stage_get_enabled(CD_STAGE(self)) || klass->finish == NULL)
    return TRUE;
  if (g_cancellable_set_error_if_cancelled(cancellable, error))
    return FALSE;
  ok = klass->finish(self, cancellable, &error_local);
  return cd_exporter_check(self, ok, error_local, error);
}
