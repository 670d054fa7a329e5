/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `fhir` exporter: a FHIR R4 transaction Bundle with one US Core
 * DocumentReference per archived document, its PDF inline, as a Binary
 * of the bundle, or at a URL.
 */
#include "config.h"

#include <chartdesk.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#define DEFAULT_IDENTIFIER_SYSTEM "urn:chartdesk:mrn"
#define DEFAULT_DOCUMENT_SYSTEM "urn:chartdesk:document"
#define DEFAULT_ATTACHMENT "inline"

#define US_CORE_PROFILE "http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference"
#define US_CORE_CATEGORY "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
#define IHE_FORMAT_CODES "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
#define LOCAL_TYPE_SYSTEM "urn:chartdesk:document-type"

typedef enum {
  ATTACH_INLINE,
  ATTACH_BINARY,
  ATTACH_URL,
} AttachMode;

#define CD_TYPE_FHIR_EXPORTER (cd_fhir_exporter_get_type())
G_DECLARE_FINAL_TYPE(CdFhirExporter, cd_fhir_exporter, CD, FHIR_EXPORTER, CdExporter)

struct _CdFhirExporter {
  CdExporter parent_instance;
  gchar *identifier_system; /* the MRN's Identifier.system */
  gchar *document_system;   /* DocumentReference.identifier.system */
  gchar *attachment;        /* inline, binary or url */
  gchar *url_base;          /* url mode: where the PDFs will be served */
  gchar *pdf_folder;        /* url mode: where to write them */
  AttachMode mode;
  JsonArray *entries; /* the bundle's, built up by export_document */
};

G_DEFINE_TYPE(CdFhirExporter, cd_fhir_exporter, CD_TYPE_EXPORTER)

enum {
  PROP_0,
  PROP_IDENTIFIER_SYSTEM,
  PROP_DOCUMENT_SYSTEM,
  PROP_ATTACHMENT,
  PROP_URL_BASE,
  PROP_PDF_FOLDER,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

static gboolean
cd_fhir_exporter_begin(CdExporter *exporter, GError **error)
{
  CdFhirExporter *self = CD_FHIR_EXPORTER(exporter);

  if (g_strcmp0(self->attachment, "inline") == 0) {
    self->mode = ATTACH_INLINE;
  } else if (g_strcmp0(self->attachment, "binary") == 0) {
    self->mode = ATTACH_BINARY;
  } else if (g_strcmp0(self->attachment, "url") == 0) {
    self->mode = ATTACH_URL;
    if (self->url_base == NULL || self->pdf_folder == NULL) {
      g_set_error_literal(
          error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
          "attachment=url needs url-base (where the PDFs are served) and pdf-folder (where to write them)");
      return FALSE;
    }
    if (g_mkdir_with_parents(self->pdf_folder, 0700) != 0) {
      gint saved = errno;
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "cannot make folder %s: %s", self->pdf_folder,
                  g_strerror(saved));
      return FALSE;
    }
  } else {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "attachment is '%s'; say inline, binary or url",
                self->attachment != NULL ? self->attachment : "");
    return FALSE;
  }
  if (self->identifier_system == NULL || *self->identifier_system == '\0') {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "identifier-system is empty");
    return FALSE;
  }
  g_clear_pointer(&self->entries, json_array_unref);
  self->entries = json_array_new();
  return TRUE;
}

static void
add_string(JsonBuilder *b, const gchar *member, const gchar *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name(b, member);
  json_builder_add_string_value(b, value);
}

static void
add_coding(JsonBuilder *b, const gchar *system, const gchar *code, const gchar *display)
{
  json_builder_begin_object(b);
  add_string(b, "system", system);
  add_string(b, "code", code);
  add_string(b, "display", display);
  json_builder_end_object(b);
}

/* A patient's name as the EHR shows it: "Family, Given Middle". */
static gchar *
patient_display(const CdPatient *patient)
{
  if (patient == NULL || patient->family == NULL)
    return NULL;
  return g_strdup_printf("%s, %s%s%s", patient->family, patient->given != NULL ? patient->given : "",
                         patient->middle != NULL ? " " : "", patient->middle != NULL ? patient->middle : "");
}

static gboolean
cd_fhir_exporter_export_document(CdExporter *exporter, CdDocument *document, const CdPatient *patient,
                                 GCancellable *cancellable, GError **error)
{
  CdFhirExporter *self = CD_FHIR_EXPORTER(exporter);
  CdTaxonomy *taxonomy = cd_exporter_get_taxonomy(exporter);
  const gchar *mrn = cd_document_get_patient_mrn(document);
  const gchar *type = cd_document_get_doc_type(document);
  const gchar *date = cd_document_get_date(document);
  const gchar *loinc = (taxonomy != NULL && type != NULL) ? cd_taxonomy_get_loinc(taxonomy, type) : NULL;
  const gchar *type_display = (taxonomy != NULL && type != NULL) ? cd_taxonomy_get_display_name(taxonomy, type) : NULL;
  g_autoptr(CdPdfWriter) writer = NULL;
  g_autoptr(GBytes) pdf = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree gchar *instant = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree gchar *doc_id = g_strdup_printf("%" G_GINT64_FORMAT, cd_document_get_id(document));
  g_autofree gchar *doc_uuid = g_uuid_string_random();
  g_autofree gchar *bin_uuid = g_uuid_string_random();
  g_autofree gchar *title = NULL;
  g_autofree gchar *display = patient_display(patient);
  g_autofree gchar *data = NULL;
  g_autofree gchar *hash = NULL;
  g_autofree gchar *url = NULL;
  guint8 sha1[20];
  gsize sha1_len = sizeof sha1;
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA1);

  if (mrn == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "document %s has no patient; a DocumentReference needs its subject", doc_id);
    return FALSE;
  }
  writer = cd_pdf_writer_new(error);
  if (writer == NULL || !cd_pdf_writer_add_document(writer, document, patient, error))
    return FALSE;
  pdf = cd_pdf_writer_save_to_bytes(writer, error);
  if (pdf == NULL)
    return FALSE;
  g_checksum_update(sum, g_bytes_get_data(pdf, NULL), g_bytes_get_size(pdf));
  g_checksum_get_digest(sum, sha1, &sha1_len);
  hash = g_base64_encode(sha1, sha1_len);
  title = g_strdup(cd_document_get_title(document) != NULL
                       ? cd_document_get_title(document)
                       : (type_display != NULL ? type_display : (type != NULL ? type : "Scanned document")));
  if (self->mode == ATTACH_INLINE || self->mode == ATTACH_BINARY)
    data = g_base64_encode(g_bytes_get_data(pdf, NULL), g_bytes_get_size(pdf));
  if (self->mode == ATTACH_URL) {
    g_autofree gchar *name = g_strdup_printf("document-%s.pdf", doc_id);
    g_autofree gchar *path = g_build_filename(self->pdf_folder, name, NULL);
    if (!g_file_set_contents_full(path, g_bytes_get_data(pdf, NULL), g_bytes_get_size(pdf),
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)) {
      g_prefix_error(error, "cannot write %s: ", path);
      return FALSE;
    }
    url = g_strdup_printf("%s%s%s", self->url_base, g_str_has_suffix(self->url_base, "/") ? "" : "/", name);
  } else if (self->mode == ATTACH_BINARY) {
    url = g_strdup_printf("urn:uuid:%s", bin_uuid);
  }

  /* the Binary first: the DocumentReference's attachment points to it */
  if (self->mode == ATTACH_BINARY) {
    g_autoptr(JsonBuilder) bb = json_builder_new();
    g_autofree gchar *full = g_strdup_printf("urn:uuid:%s", bin_uuid);
    json_builder_begin_object(bb);
    add_string(bb, "fullUrl", full);
    json_builder_set_member_name(bb, "resource");
    json_builder_begin_object(bb);
    add_string(bb, "resourceType", "Binary");
    add_string(bb, "contentType", "application/pdf");
    add_string(bb, "data", data);
    json_builder_end_object(bb);
    json_builder_set_member_name(bb, "request");
    json_builder_begin_object(bb);
    add_string(bb, "method", "POST");
    add_string(bb, "url", "Binary");
    json_builder_end_object(bb);
    json_builder_end_object(bb);
    json_array_add_element(self->entries, json_builder_get_root(bb));
    g_clear_pointer(&data, g_free);
  }

  json_builder_begin_object(b);
  {
    g_autofree gchar *full = g_strdup_printf("urn:uuid:%s", doc_uuid);
    add_string(b, "fullUrl", full);
  }
  json_builder_set_member_name(b, "resource");
  json_builder_begin_object(b);
  add_string(b, "resourceType", "DocumentReference");
  json_builder_set_member_name(b, "meta");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "profile");
  json_builder_begin_array(b);
  json_builder_add_string_value(b, US_CORE_PROFILE);
  json_builder_end_array(b);
  json_builder_end_object(b);

  json_builder_set_member_name(b, "identifier");
  json_builder_begin_array(b);
  json_builder_begin_object(b);
  add_string(b, "system", self->document_system);
  add_string(b, "value", doc_id);
  json_builder_end_object(b);
  json_builder_end_array(b);
  add_string(b, "status", "current");
  add_string(b, "docStatus", "final");

  json_builder_set_member_name(b, "type");
  json_builder_begin_object(b);
  /* an unclassified document has text only: the binding is extensible */
  if (loinc != NULL || type != NULL) {
    json_builder_set_member_name(b, "coding");
    json_builder_begin_array(b);
    if (loinc != NULL)
      add_coding(b, "http://loinc.org", loinc, type_display);
    if (type != NULL)
      add_coding(b, LOCAL_TYPE_SYSTEM, type, type_display);
    json_builder_end_array(b);
  }
  add_string(b, "text", type_display != NULL ? type_display : (type != NULL ? type : "Scanned document"));
  json_builder_end_object(b);

  json_builder_set_member_name(b, "category");
  json_builder_begin_array(b);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "coding");
  json_builder_begin_array(b);
  add_coding(b, US_CORE_CATEGORY, "clinical-note", "Clinical Note");
  json_builder_end_array(b);
  json_builder_end_object(b);
  json_builder_end_array(b);

  json_builder_set_member_name(b, "subject");
  json_builder_begin_object(b);
  {
    g_autofree gchar *ref = g_strdup_printf("Patient?identifier=%s|%s", self->identifier_system, mrn);
    add_string(b, "reference", ref);
  }
  add_string(b, "type", "Patient");
  json_builder_set_member_name(b, "identifier");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "coding");
  json_builder_begin_array(b);
  add_coding(b, "http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical record number");
  json_builder_end_array(b);
  json_builder_end_object(b);
  add_string(b, "system", self->identifier_system);
  add_string(b, "value", mrn);
  json_builder_end_object(b);
  add_string(b, "display", display);
  json_builder_end_object(b);

  add_string(b, "date", instant);
  add_string(b, "description", title);

  json_builder_set_member_name(b, "content");
  json_builder_begin_array(b);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "attachment");
  json_builder_begin_object(b);
  add_string(b, "contentType", "application/pdf");
  add_string(b, "data", data);
  add_string(b, "url", url);
  json_builder_set_member_name(b, "size");
  json_builder_add_int_value(b, g_bytes_get_size(pdf));
  add_string(b, "hash", hash);
  add_string(b, "title", title);
  add_string(b, "creation", date);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "format");
  add_coding(b, IHE_FORMAT_CODES, "urn:ihe:iti:xds:2017:mimeTypeSufficient", "mimeType Sufficient");
  json_builder_end_object(b);
  json_builder_end_array(b);

  if (date != NULL) {
    json_builder_set_member_name(b, "context");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "period");
    json_builder_begin_object(b);
    add_string(b, "start", date);
    add_string(b, "end", date);
    json_builder_end_object(b);
    json_builder_end_object(b);
  }
  json_builder_end_object(b); /* resource */

  json_builder_set_member_name(b, "request");
  json_builder_begin_object(b);
  add_string(b, "method", "POST");
  add_string(b, "url", "DocumentReference");
  {
    /* sent twice, the document is created once */
    g_autofree gchar *cond = g_strdup_printf("identifier=%s|%s", self->document_system, doc_id);
    add_string(b, "ifNoneExist", cond);
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
  json_array_add_element(self->entries, json_builder_get_root(b));
  return TRUE;
}

static gboolean
cd_fhir_exporter_finish(CdExporter *exporter, GCancellable *cancellable, GError **error)
{
  CdFhirExporter *self = CD_FHIR_EXPORTER(exporter);
  const gchar *output = cd_exporter_get_output(exporter);
  g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
  g_autoptr(JsonObject) bundle = json_object_new();
  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autofree gchar *text = NULL;
  gsize len = 0;

  json_object_set_string_member(bundle, "resourceType", "Bundle");
  json_object_set_string_member(bundle, "type", "transaction");
  if (json_array_get_length(self->entries) > 0)
    json_object_set_array_member(bundle, "entry", json_array_ref(self->entries));
  json_node_set_object(root, bundle);
  json_generator_set_root(gen, root);
  json_generator_set_pretty(gen, TRUE);
  text = json_generator_to_data(gen, &len);
  if (output == NULL || g_strcmp0(output, "-") == 0) {
    if (fwrite(text, 1, len, stdout) != len || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
      g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write the bundle to standard output");
      return FALSE;
    }
    return TRUE;
  }
  if (!g_file_set_contents_full(output, text, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)) {
    g_prefix_error(error, "cannot write %s: ", output);
    return FALSE;
  }
  return TRUE;
}

static void
cd_fhir_exporter_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdFhirExporter *self = CD_FHIR_EXPORTER(object);

  switch (prop_id) {
  case PROP_IDENTIFIER_SYSTEM:
    g_value_set_string(value, self->identifier_system);
    break;
  case PROP_DOCUMENT_SYSTEM:
    g_value_set_string(value, self->document_system);
    break;
  case PROP_ATTACHMENT:
    g_value_set_string(value, self->attachment);
    break;
  case PROP_URL_BASE:
    g_value_set_string(value, self->url_base);
    break;
  case PROP_PDF_FOLDER:
    g_value_set_string(value, self->pdf_folder);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_fhir_exporter_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdFhirExporter *self = CD_FHIR_EXPORTER(object);

  switch (prop_id) {
  case PROP_IDENTIFIER_SYSTEM:
    g_free(self->identifier_system);
    self->identifier_system = g_value_dup_string(value);
    break;
  case PROP_DOCUMENT_SYSTEM:
    g_free(self->document_system);
    self->document_system = g_value_dup_string(value);
    break;
  case PROP_ATTACHMENT:
    g_free(self->attachment);
    self->attachment = g_value_dup_string(value);
    break;
  case PROP_URL_BASE:
    g_free(self->url_base);
    self->url_base = g_value_dup_string(value);
    break;
  case PROP_PDF_FOLDER:
    g_free(self->pdf_folder);
    self->pdf_folder = g_value_dup_string(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_fhir_exporter_finalize(GObject *object)
{
  CdFhirExporter *self = CD_FHIR_EXPORTER(object);

  g_free(self->identifier_system);
  g_free(self->document_system);
  g_free(self->attachment);
  g_free(self->url_base);
  g_free(self->pdf_folder);
  g_clear_pointer(&self->entries, json_array_unref);
  G_OBJECT_CLASS(cd_fhir_exporter_parent_class)->finalize(object);
}

static void
cd_fhir_exporter_class_init(CdFhirExporterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdExporterClass *exporter_class = CD_EXPORTER_CLASS(klass);

  object_class->get_property = cd_fhir_exporter_get_property;
  object_class->set_property = cd_fhir_exporter_set_property;
  object_class->finalize = cd_fhir_exporter_finalize;
  exporter_class->begin = cd_fhir_exporter_begin;
  exporter_class->export_document = cd_fhir_exporter_export_document;
  exporter_class->finish = cd_fhir_exporter_finish;

  props[PROP_IDENTIFIER_SYSTEM] =
      g_param_spec_string("identifier-system", "Identifier system",
                          "Identifier.system of the hospital's MRNs (a URI, e.g. urn:oid:...), for the subject",
                          DEFAULT_IDENTIFIER_SYSTEM, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_DOCUMENT_SYSTEM] =
      g_param_spec_string("document-system", "Document system",
                          "Identifier.system of the archive's document ids, for DocumentReference.identifier",
                          DEFAULT_DOCUMENT_SYSTEM, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_ATTACHMENT] = g_param_spec_string(
      "attachment", "Attachment",
      "Where the PDF goes: inline (attachment.data), binary (a Binary in the bundle) or url (pdf-folder, at url-base)",
      DEFAULT_ATTACHMENT, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_URL_BASE] =
      g_param_spec_string("url-base", "URL base", "attachment=url: the URL the files of pdf-folder are served under",
                          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  props[PROP_PDF_FOLDER] =
      g_param_spec_string("pdf-folder", "PDF folder", "attachment=url: the folder the PDFs are written to", NULL,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(CD_STAGE_CLASS(klass), "fhir",
                              "Writes a FHIR R4 transaction Bundle: a US Core DocumentReference per document, with "
                              "its LOINC type, the patient's MRN and the document's PDF/A");
}

static void
cd_fhir_exporter_init(CdFhirExporter *self)
{
}

static gboolean
cd_plugin_fhir_init(CdPlugin *plugin, GError **error)
{
  return cd_plugin_add_stage_type(plugin, CD_TYPE_FHIR_EXPORTER, error);
}

CD_PLUGIN_DEFINE("fhir", "FHIR R4 DocumentReference exports for the EHR", cd_plugin_fhir_init, PACKAGE_VERSION,
                 "LGPL-2.1-or-later")
