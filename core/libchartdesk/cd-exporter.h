/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include "cd-document.h"
#include "cd-patient.h"
#include "cd-stage.h"
#include "cd-taxonomy.h"

G_BEGIN_DECLS

#define CD_TYPE_EXPORTER (cd_exporter_get_type())
G_DECLARE_DERIVABLE_TYPE(CdExporter, cd_exporter, CD, EXPORTER, CdStage)

/**
 * CdExporterClass:
 * @parent_class: the parent class
 * @begin: called once before the first document: check the options, open
 *   the destination (a folder, a connection); may be %NULL
 * @export_document: sends one archived document on; @patient is the
 *   archive's record of the document's patient, %NULL when it has none.
 *   The pages carry their stored images (cd_page_get_image_bytes()) and
 *   word boxes. The engine has checked the acting user's permission and
 *   audited the export before the call.
 * @finish: called once after the last document (write a bundle, close a
 *   connection); not called when an earlier call failed; may be %NULL
 *
 * The base type of exporters, the sink kind of stage: what takes archived
 * documents out to a person or another system (a PDF, a FHIR bundle, HL7
 * messages). `chartdesk export` runs one over the documents selected.
 *
 * Since: 0.4
 */
struct _CdExporterClass {
  CdStageClass parent_class;

  gboolean (*begin)(CdExporter *self, GError **error);
  gboolean (*export_document)(CdExporter *self, CdDocument *document, const CdPatient *patient,
                              GCancellable *cancellable, GError **error);
  gboolean (*finish)(CdExporter *self, GCancellable *cancellable, GError **error);

  /*< private >*/
  gpointer padding[13];
};

const gchar *cd_exporter_get_output(CdExporter *self);
const gchar *cd_exporter_get_destination(CdExporter *self);
void cd_exporter_set_destination(CdExporter *self, const gchar *destination);
CdTaxonomy *cd_exporter_get_taxonomy(CdExporter *self);
void cd_exporter_set_taxonomy(CdExporter *self, CdTaxonomy *taxonomy);
guint cd_exporter_get_n_exported(CdExporter *self);

gboolean cd_exporter_begin(CdExporter *self, GError **error);
gboolean cd_exporter_export_document(CdExporter *self, CdDocument *document, const CdPatient *patient,
                                     GCancellable *cancellable, GError **error);
gboolean cd_exporter_finish(CdExporter *self, GCancellable *cancellable, GError **error);

G_END_DECLS
