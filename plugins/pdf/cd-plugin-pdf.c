/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `pdf` exporter: one searchable PDF/A-2b per archived document.
 */
#include "config.h"

#include <chartdesk.h>
#include <errno.h>
#include <glib/gstdio.h>

#define CD_TYPE_PDF_EXPORTER (cd_pdf_exporter_get_type())
G_DECLARE_FINAL_TYPE(CdPdfExporter, cd_pdf_exporter, CD, PDF_EXPORTER, CdExporter)

struct _CdPdfExporter {
  CdExporter parent_instance;
  gchar *folder; /* the output is a folder of files, or NULL */
  gchar *file;   /* the output is this one file, or NULL */
  guint n_written;
};

G_DEFINE_TYPE(CdPdfExporter, cd_pdf_exporter, CD_TYPE_EXPORTER)

/* An output that is an existing folder, ends in '/' or does not end in
 * `.pdf` is a folder (made if missing, owner only: patient data); one
 * ending in `.pdf` is a single file, for a single document. */
static gboolean
cd_pdf_exporter_begin(CdExporter *exporter, GError **error)
{
  CdPdfExporter *self = CD_PDF_EXPORTER(exporter);
  const gchar *output = cd_exporter_get_output(exporter);

  g_clear_pointer(&self->folder, g_free);
  g_clear_pointer(&self->file, g_free);
  self->n_written = 0;
  if (output == NULL)
    output = ".";
  if (g_file_test(output, G_FILE_TEST_IS_DIR) || g_str_has_suffix(output, "/") || !g_str_has_suffix(output, ".pdf")) {
    if (g_mkdir_with_parents(output, 0700) != 0) {
      gint saved = errno;
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "cannot make folder %s: %s", output,
                  g_strerror(saved));
      return FALSE;
    }
    self->folder = g_strdup(output);
  } else {
    self->file = g_strdup(output);
  }
  return TRUE;
}

/* document-ID-TYPE-DATE.pdf: sorts by id, says what it is, names no
 * patient (file names travel further than their contents). */
static gchar *
cd_pdf_exporter_file_name(CdDocument *document)
{
  g_autofree gchar *type =
      g_strdup(cd_document_get_doc_type(document) != NULL ? cd_document_get_doc_type(document) : "unclassified");
  g_strcanon(type, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", '_');
  return g_strdup_printf("document-%" G_GINT64_FORMAT "-%s%s%s.pdf", cd_document_get_id(document), type,
                         cd_document_get_date(document) != NULL ? "-" : "",
                         cd_document_get_date(document) != NULL ? cd_document_get_date(document) : "");
}

static gboolean
cd_pdf_exporter_export_document(CdExporter *exporter, CdDocument *document, const CdPatient *patient,
                                GCancellable *cancellable, GError **error)
{
  CdPdfExporter *self = CD_PDF_EXPORTER(exporter);
  g_autoptr(CdPdfWriter) writer = NULL;
  g_autofree gchar *path = NULL;

  if (self->file != NULL && self->n_written > 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "output %s is one file, and this is the second document; export a selection into a folder", self->file);
    return FALSE;
  }
  writer = cd_pdf_writer_new(error);
  if (writer == NULL || !cd_pdf_writer_add_document(writer, document, patient, error))
    return FALSE;
  if (self->file != NULL) {
    path = g_strdup(self->file);
  } else {
    g_autofree gchar *name = cd_pdf_exporter_file_name(document);
    path = g_build_filename(self->folder, name, NULL);
  }
  if (!cd_pdf_writer_save(writer, path, error))
    return FALSE;
  g_info("wrote %s (%u pages)", path, cd_pdf_writer_get_n_pages(writer));
  self->n_written++;
  return TRUE;
}

static void
cd_pdf_exporter_finalize(GObject *object)
{
  CdPdfExporter *self = CD_PDF_EXPORTER(object);

  g_free(self->folder);
  g_free(self->file);
  G_OBJECT_CLASS(cd_pdf_exporter_parent_class)->finalize(object);
}

static void
cd_pdf_exporter_class_init(CdPdfExporterClass *klass)
{
  CdExporterClass *exporter_class = CD_EXPORTER_CLASS(klass);

  G_OBJECT_CLASS(klass)->finalize = cd_pdf_exporter_finalize;
  exporter_class->begin = cd_pdf_exporter_begin;
  exporter_class->export_document = cd_pdf_exporter_export_document;
  cd_stage_class_set_metadata(CD_STAGE_CLASS(klass), "pdf",
                              "Writes each document as a searchable PDF/A-2b: the stored page images at their "
                              "resolution (bilevel kept CCITT G4) under an invisible text layer from the word boxes");
}

static void
cd_pdf_exporter_init(CdPdfExporter *self)
{
}

static gboolean
cd_plugin_pdf_init(CdPlugin *plugin, GError **error)
{
  return cd_plugin_add_stage_type(plugin, CD_TYPE_PDF_EXPORTER, error);
}

CD_PLUGIN_DEFINE("pdf", "Searchable PDF/A exports of archived documents", cd_plugin_pdf_init, PACKAGE_VERSION,
                 "LGPL-2.1-or-later")
