/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Running an exporter (a sink stage) over archived documents: the engine
 * reads each document as the acting user — the archive authorises and
 * audits that — and hands it to the plugin.
 */
#include "config.h"

#include "cd-export.h"

#include "cd-archive-engine.h"
#include "cd-param-private.h"

/**
 * cd_export_new_exporter:
 * @registry: the plugins
 * @name: the exporter stage (`pdf`, `fhir`, `hl7`, or a plugin's own)
 * @output: (nullable): its #CdExporter:output
 * @settings: (nullable) (array zero-terminated=1): `NAME.OPTION=VALUE`
 *   overrides; those of other stages are ignored
 * @error: return location for a #GError
 *
 * Makes the exporter and sets its options, each checked against its
 * property spec before any document is read.
 *
 * Returns: (transfer full): the exporter, or %NULL with @error set
 */
CdExporter *
cd_export_new_exporter(CdRegistry *registry, const gchar *name, const gchar *output, const gchar *const *settings,
                       GError **error)
{
  GType type = cd_registry_find_stage(registry, name, error);
  g_autoptr(GObject) object = NULL;

  if (type == G_TYPE_INVALID)
    return NULL;
  if (!g_type_is_a(type, CD_TYPE_EXPORTER)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "stage %s is a %s stage, not an exporter", name,
                cd_stage_kind_to_string(cd_stage_type_get_kind(type)));
    return NULL;
  }
  object = g_object_new(type, NULL);
  if (output != NULL)
    g_object_set(object, "output", output, NULL);
  for (guint i = 0; settings != NULL && settings[i] != NULL; i++) {
    g_autofree gchar *stage = NULL;
    g_autofree gchar *option = NULL;
    g_autofree gchar *value = NULL;
    g_auto(GValue) gvalue = G_VALUE_INIT;
    GParamSpec *pspec;

    if (!cd_param_parse_assignment(settings[i], &stage, &option, &value, error))
      return NULL;
    if (g_strcmp0(stage, name) != 0)
      continue;
    pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(object), option);
    if (pspec == NULL || !(pspec->flags & G_PARAM_WRITABLE)) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "exporter %s has no option '%s'", name, option);
      return NULL;
    }
    if (!cd_param_value_from_string(pspec, value, &gvalue, error)) {
      g_prefix_error(error, "%s.%s: ", name, option);
      return NULL;
    }
    g_object_set_property(object, option, &gvalue);
  }
  return CD_EXPORTER(g_steal_pointer(&object));
}

/**
 * cd_export_run:
 * @archive: the archive, with the acting user set
 * @exporter: the exporter, its options set
 * @document_ids: (element-type gint64): the documents, in order
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Starts the exporter, reads each document with
 * cd_archive_export_document() (permission `export`, restricted types
 * hidden, each export audited) and passes it on, then finishes. Stops at
 * the first document that fails, naming it.
 *
 * Returns: %TRUE when every document went out
 */
gboolean
cd_export_run(CdArchive *archive, CdExporter *exporter, GArray *document_ids, GCancellable *cancellable, GError **error)
{
  const gchar *name = cd_stage_get_name(CD_STAGE(exporter));

  if (cd_exporter_get_taxonomy(exporter) == NULL) {
    g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_default(NULL);
    cd_exporter_set_taxonomy(exporter, taxonomy);
  }
  if (!cd_stage_start(CD_STAGE(exporter), error) || !cd_exporter_begin(exporter, error))
    return FALSE;
  for (guint i = 0; i < document_ids->len; i++) {
    gint64 id = g_array_index(document_ids, gint64, i);
    g_autoptr(CdPatient) patient = NULL;
    g_autoptr(CdDocument) document =
        cd_archive_export_document(archive, id, name, cd_exporter_get_destination(exporter), &patient, error);

    if (document == NULL || !cd_exporter_export_document(exporter, document, patient, cancellable, error)) {
      g_prefix_error(error, "document %" G_GINT64_FORMAT ": ", id);
      cd_stage_stop(CD_STAGE(exporter));
      return FALSE;
    }
  }
  if (!cd_exporter_finish(exporter, cancellable, error)) {
    cd_stage_stop(CD_STAGE(exporter));
    return FALSE;
  }
  cd_stage_stop(CD_STAGE(exporter));
  return TRUE;
}
