/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `hl7` exporter: one HL7 v2.5 MDM^T02 (original document notification
 * and content) per archived document, its PDF/A base64 in an OBX of type
 * ED; written to files, or sent over MLLP with ACK handling and retry.
 */
#include "config.h"

#include <chartdesk.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define DEFAULT_SENDING_APPLICATION "CHARTDESK"
#define DEFAULT_RETRIES 3
#define DEFAULT_RETRY_DELAY 2.0
#define DEFAULT_TIMEOUT 30
#define DEFAULT_MRN_AUTHORITY "CHARTDESK"

#define MLLP_START 0x0B
#define MLLP_END 0x1C
#define MLLP_CR 0x0D

#define CD_TYPE_HL7_EXPORTER (cd_hl7_exporter_get_type())
G_DECLARE_FINAL_TYPE(CdHl7Exporter, cd_hl7_exporter, CD, HL7_EXPORTER, CdExporter)

struct _CdHl7Exporter {
  CdExporter parent_instance;
  gchar *mllp; /* HOST:PORT, or NULL for files */
  gchar *sending_application;
  gchar *sending_facility;
  gchar *receiving_application;
  gchar *receiving_facility;
  gchar *mrn_authority;    /* PID-3.4, the MRN's assigning authority */
  guint retries;           /* sends after the first, on NAK or a lost connection */
  gdouble retry_delay;     /* seconds between tries */
  guint timeout;           /* seconds to connect or wait for an ACK */
  gchar *folder;           /* files: where */
  GSocketConnection *conn; /* MLLP: kept across messages */
  guint sequence;
};

G_DEFINE_TYPE(CdHl7Exporter, cd_hl7_exporter, CD_TYPE_EXPORTER)

enum {
  PROP_0,
  PROP_MLLP,
  PROP_SENDING_APPLICATION,
  PROP_SENDING_FACILITY,
  PROP_RECEIVING_APPLICATION,
  PROP_RECEIVING_FACILITY,
  PROP_MRN_AUTHORITY,
  PROP_RETRIES,
  PROP_RETRY_DELAY,
  PROP_TIMEOUT,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

/* HL7's escapes for the delimiters |^~\& in data, and no segment or MLLP
 * framing characters inside a field. */
static void
append_escaped(GString *out, const gchar *text)
{
  for (const gchar *p = text != NULL ? text : ""; *p != '\0'; p++) {
    switch (*p) {
    case '|':
      g_string_append(out, "\\F\\");
      break;
    case '^':
      g_string_append(out, "\\S\\");
      break;
    case '~':
      g_string_append(out, "\\R\\");
      break;
    case '\\':
      g_string_append(out, "\\E\\");
      break;
    case '&':
      g_string_append(out, "\\T\\");
      break;
    case '\r':
    case '\n':
    case MLLP_START:
    case MLLP_END:
      g_string_append_c(out, ' ');
      break;
    default:
      g_string_append_c(out, *p);
    }
  }
}

/* "2026-11-30" → "20261130"; NULL for anything else. */
static gchar *
hl7_date(const gchar *iso)
{
  if (iso == NULL || strlen(iso) < 10 || iso[4] != '-' || iso[7] != '-')
    return NULL;
  return g_strdup_printf("%.4s%.2s%.2s", iso, iso + 5, iso + 8);
}

static const gchar *
hl7_sex(const gchar *sex)
{
  if (sex == NULL)
    return "U";
  if (g_ascii_strncasecmp(sex, "f", 1) == 0)
    return "F";
  if (g_ascii_strncasecmp(sex, "m", 1) == 0)
    return "M";
  if (g_ascii_strncasecmp(sex, "o", 1) == 0)
    return "O";
  return "U";
}

/* Builds the MDM^T02. Segments end in CR, as HL7 says. */
static gchar *
cd_hl7_exporter_message(CdHl7Exporter *self, CdDocument *document, const CdPatient *patient, GBytes *pdf,
                        const gchar *control_id)
{
  CdTaxonomy *taxonomy = cd_exporter_get_taxonomy(CD_EXPORTER(self));
  const gchar *type = cd_document_get_doc_type(document);
  const gchar *loinc = (taxonomy != NULL && type != NULL) ? cd_taxonomy_get_loinc(taxonomy, type) : NULL;
  const gchar *display = (taxonomy != NULL && type != NULL) ? cd_taxonomy_get_display_name(taxonomy, type) : NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree gchar *ts = g_date_time_format(now, "%Y%m%d%H%M%S+0000");
  g_autofree gchar *doc_date = hl7_date(cd_document_get_date(document));
  g_autofree gchar *dob = patient != NULL ? hl7_date(patient->dob) : NULL;
  g_autofree gchar *data = g_base64_encode(g_bytes_get_data(pdf, NULL), g_bytes_get_size(pdf));
  GString *m = g_string_new(NULL);

  g_string_append(m, "MSH|^~\\&|");
  append_escaped(m, self->sending_application);
  g_string_append_c(m, '|');
  append_escaped(m, self->sending_facility);
  g_string_append_c(m, '|');
  append_escaped(m, self->receiving_application);
  g_string_append_c(m, '|');
  append_escaped(m, self->receiving_facility);
  g_string_append_printf(m, "|%s||MDM^T02^MDM_T02|%s|P|2.5\r", ts, control_id);

  g_string_append_printf(m, "EVN|T02|%s\r", ts);

  g_string_append(m, "PID|1||");
  append_escaped(m, cd_document_get_patient_mrn(document));
  g_string_append(m, "^^^");
  append_escaped(m, self->mrn_authority);
  g_string_append(m, "^MR||");
  if (patient != NULL) {
    append_escaped(m, patient->family);
    g_string_append_c(m, '^');
    append_escaped(m, patient->given);
    g_string_append_c(m, '^');
    append_escaped(m, patient->middle);
  }
  g_string_append_printf(m, "||%s|%s\r", dob != NULL ? dob : "", hl7_sex(patient != NULL ? patient->sex : NULL));

  /* no visit is known for a scanned chart: patient class U (unknown) */
  g_string_append(m, "PV1|1|U\r");

  /* TXA-2 type, -3 AP (application data), -4 activity date, -12 unique
   * document number, -16 file name, -17 completion status DO
   * (documented), -19 availability AV */
  g_string_append(m, "TXA|1|");
  append_escaped(m, type != NULL ? type : "unclassified");
  g_string_append_printf(m, "|AP|%s||||||||%" G_GINT64_FORMAT "^", doc_date != NULL ? doc_date : "",
                         cd_document_get_id(document));
  append_escaped(m, self->sending_application);
  g_string_append_printf(m, "||||document-%" G_GINT64_FORMAT ".pdf|DO||AV\r", cd_document_get_id(document));

  /* OBX-3 the LOINC document code (else the archive's type), OBX-5 ED:
   * source ^ type of data ^ subtype ^ encoding ^ data */
  g_string_append(m, "OBX|1|ED|");
  if (loinc != NULL) {
    append_escaped(m, loinc);
    g_string_append_c(m, '^');
    append_escaped(m, display);
    g_string_append(m, "^LN");
  } else {
    append_escaped(m, type != NULL ? type : "unclassified");
    g_string_append(m, "^^L");
  }
  g_string_append_printf(m, "||^AP^PDF^Base64^%s||||||F\r", data);
  return g_string_free(m, FALSE);
}

static gboolean
cd_hl7_exporter_begin(CdExporter *exporter, GError **error)
{
  CdHl7Exporter *self = CD_HL7_EXPORTER(exporter);

  g_clear_pointer(&self->folder, g_free);
  g_clear_object(&self->conn);
  if (self->mllp != NULL) {
    g_autofree gchar *dest = g_strdup_printf("mllp://%s", self->mllp);
    g_autoptr(GSocketConnectable) addr = g_network_address_parse(self->mllp, 0, error);
    if (addr == NULL) {
      g_prefix_error(error, "mllp '%s': ", self->mllp);
      return FALSE;
    }
    if (g_network_address_get_port(G_NETWORK_ADDRESS(addr)) == 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "mllp '%s' names no port: say HOST:PORT", self->mllp);
      return FALSE;
    }
    cd_exporter_set_destination(exporter, dest);
    return TRUE;
  }
  self->folder = g_strdup(cd_exporter_get_output(exporter) != NULL ? cd_exporter_get_output(exporter) : ".");
  if (g_mkdir_with_parents(self->folder, 0700) != 0) {
    gint saved = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved), "cannot make folder %s: %s", self->folder,
                g_strerror(saved));
    return FALSE;
  }
  return TRUE;
}

/* Reads one MLLP frame (VT … FS CR) from @in. */
static gchar *
mllp_read_frame(GInputStream *in, GCancellable *cancellable, GError **error)
{
  g_autoptr(GString) frame = g_string_new(NULL);
  gboolean started = FALSE;
  guchar c;

  for (;;) {
    gssize n = g_input_stream_read(in, &c, 1, cancellable, error);
    if (n < 0)
      return NULL;
    if (n == 0) {
      g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                          "the peer closed the connection before an ACK");
      return NULL;
    }
    if (!started) {
      started = c == MLLP_START;
      continue;
    }
    if (c == MLLP_END) {
      /* the CR after FS; a peer that omits it is forgiven */
      return g_string_free(g_steal_pointer(&frame), FALSE);
    }
    if (frame->len > 1 << 20) {
      g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the ACK is longer than a megabyte");
      return NULL;
    }
    g_string_append_c(frame, c);
  }
}

/* The MSA of an ACK: TRUE for AA or CA with our control id; a NAK (AE, AR,
 * CE, CR) is an error carrying the peer's text (MSA-3 or ERR). */
static gboolean
check_ack(const gchar *ack, const gchar *control_id, GError **error)
{
  g_auto(GStrv) segments = g_strsplit_set(ack, "\r\n", -1);

  for (guint i = 0; segments[i] != NULL; i++) {
    g_auto(GStrv) f = NULL;
    if (!g_str_has_prefix(segments[i], "MSA|"))
      continue;
    f = g_strsplit(segments[i], "|", -1);
    if (g_strv_length(f) < 3) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the ACK's MSA is short: %s", segments[i]);
      return FALSE;
    }
    if (g_strcmp0(f[2], control_id) != 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the ACK is for message %s, not %s", f[2], control_id);
      return FALSE;
    }
    if (g_strcmp0(f[1], "AA") == 0 || g_strcmp0(f[1], "CA") == 0)
      return TRUE;
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "the receiver answered %s%s%s", f[1], f[3] != NULL ? ": " : "",
                f[3] != NULL ? f[3] : "");
    return FALSE;
  }
  g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the answer has no MSA segment");
  return FALSE;
}

/* One try: connect if need be, send the frame, wait for the ACK. */
static gboolean
mllp_send_once(CdHl7Exporter *self, const gchar *message, const gchar *control_id, GCancellable *cancellable,
               GError **error)
{
  g_autofree gchar *ack = NULL;
  GOutputStream *out;
  const guchar start = MLLP_START;
  const guchar end[] = { MLLP_END, MLLP_CR };

  if (self->conn == NULL) {
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_socket_client_set_timeout(client, self->timeout);
    self->conn = g_socket_client_connect_to_host(client, self->mllp, 0, cancellable, error);
    if (self->conn == NULL)
      return FALSE;
  }
  out = g_io_stream_get_output_stream(G_IO_STREAM(self->conn));
  if (!g_output_stream_write_all(out, &start, 1, NULL, cancellable, error) ||
      !g_output_stream_write_all(out, message, strlen(message), NULL, cancellable, error) ||
      !g_output_stream_write_all(out, end, sizeof end, NULL, cancellable, error) ||
      !g_output_stream_flush(out, cancellable, error))
    return FALSE;
  ack = mllp_read_frame(g_io_stream_get_input_stream(G_IO_STREAM(self->conn)), cancellable, error);
  if (ack == NULL)
    return FALSE;
  return check_ack(ack, control_id, error);
}

/* Sends with retries: a NAK, a timeout or a lost connection closes the
 * connection and tries again after retry-delay, up to retries times; the
 * message keeps its control id, so the receiver can tell a resend. */
static gboolean
mllp_send(CdHl7Exporter *self, const gchar *message, const gchar *control_id, GCancellable *cancellable, GError **error)
{
  g_autoptr(GError) last = NULL;

  for (guint attempt = 0; attempt <= self->retries; attempt++) {
    if (attempt > 0) {
      g_info("MLLP %s: try %u of %u after: %s", self->mllp, attempt + 1, self->retries + 1, last->message);
      if (self->retry_delay > 0)
        g_usleep((gulong) (self->retry_delay * G_USEC_PER_SEC));
    }
    g_clear_error(&last);
    if (mllp_send_once(self, message, control_id, cancellable, &last))
      return TRUE;
    if (self->conn != NULL)
      g_io_stream_close(G_IO_STREAM(self->conn), NULL, NULL);
    g_clear_object(&self->conn);
    if (g_error_matches(last, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      break;
  }
  g_propagate_prefixed_error(error, g_steal_pointer(&last), "MLLP %s, message %s, %u tries: ", self->mllp, control_id,
                             self->retries + 1);
  return FALSE;
}

static gboolean
cd_hl7_exporter_export_document(CdExporter *exporter, CdDocument *document, const CdPatient *patient,
                                GCancellable *cancellable, GError **error)
{
  CdHl7Exporter *self = CD_HL7_EXPORTER(exporter);
  g_autoptr(CdPdfWriter) writer = NULL;
  g_autoptr(GBytes) pdf = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree gchar *control_id = NULL;
  g_autofree gchar *message = NULL;

  if (cd_document_get_patient_mrn(document) == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "document %" G_GINT64_FORMAT " has no patient; an MDM needs the PID", cd_document_get_id(document));
    return FALSE;
  }
  writer = cd_pdf_writer_new(error);
  if (writer == NULL || !cd_pdf_writer_add_document(writer, document, patient, error))
    return FALSE;
  pdf = cd_pdf_writer_save_to_bytes(writer, error);
  if (pdf == NULL)
    return FALSE;
  /* unique per message: the document and the time of this export */
  control_id = g_strdup_printf("CD%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT "-%u", cd_document_get_id(document),
                               g_date_time_to_unix(now), ++self->sequence);
  message = cd_hl7_exporter_message(self, document, patient, pdf, control_id);

  if (self->mllp != NULL)
    return mllp_send(self, message, control_id, cancellable, error);
  {
    g_autofree gchar *name = g_strdup_printf("document-%" G_GINT64_FORMAT ".hl7", cd_document_get_id(document));
    g_autofree gchar *path = g_build_filename(self->folder, name, NULL);
    if (!g_file_set_contents_full(path, message, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)) {
      g_prefix_error(error, "cannot write %s: ", path);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
cd_hl7_exporter_finish(CdExporter *exporter, GCancellable *cancellable, GError **error)
{
  CdHl7Exporter *self = CD_HL7_EXPORTER(exporter);

  if (self->conn != NULL)
    g_io_stream_close(G_IO_STREAM(self->conn), NULL, NULL);
  g_clear_object(&self->conn);
  return TRUE;
}

static void
cd_hl7_exporter_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdHl7Exporter *self = CD_HL7_EXPORTER(object);

  switch (prop_id) {
  case PROP_MLLP:
    g_value_set_string(value, self->mllp);
    break;
  case PROP_SENDING_APPLICATION:
    g_value_set_string(value, self->sending_application);
    break;
  case PROP_SENDING_FACILITY:
    g_value_set_string(value, self->sending_facility);
    break;
  case PROP_RECEIVING_APPLICATION:
    g_value_set_string(value, self->receiving_application);
    break;
  case PROP_RECEIVING_FACILITY:
    g_value_set_string(value, self->receiving_facility);
    break;
  case PROP_MRN_AUTHORITY:
    g_value_set_string(value, self->mrn_authority);
    break;
  case PROP_RETRIES:
    g_value_set_uint(value, self->retries);
    break;
  case PROP_RETRY_DELAY:
    g_value_set_double(value, self->retry_delay);
    break;
  case PROP_TIMEOUT:
    g_value_set_uint(value, self->timeout);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_hl7_exporter_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdHl7Exporter *self = CD_HL7_EXPORTER(object);

  switch (prop_id) {
  case PROP_MLLP:
    g_free(self->mllp);
    self->mllp = g_value_dup_string(value);
    break;
  case PROP_SENDING_APPLICATION:
    g_free(self->sending_application);
    self->sending_application = g_value_dup_string(value);
    break;
  case PROP_SENDING_FACILITY:
    g_free(self->sending_facility);
    self->sending_facility = g_value_dup_string(value);
    break;
  case PROP_RECEIVING_APPLICATION:
    g_free(self->receiving_application);
    self->receiving_application = g_value_dup_string(value);
    break;
  case PROP_RECEIVING_FACILITY:
    g_free(self->receiving_facility);
    self->receiving_facility = g_value_dup_string(value);
    break;
  case PROP_MRN_AUTHORITY:
    g_free(self->mrn_authority);
    self->mrn_authority = g_value_dup_string(value);
    break;
  case PROP_RETRIES:
    self->retries = g_value_get_uint(value);
    break;
  case PROP_RETRY_DELAY:
    self->retry_delay = g_value_get_double(value);
    break;
  case PROP_TIMEOUT:
    self->timeout = g_value_get_uint(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_hl7_exporter_finalize(GObject *object)
{
  CdHl7Exporter *self = CD_HL7_EXPORTER(object);

  g_free(self->mllp);
  g_free(self->sending_application);
  g_free(self->sending_facility);
  g_free(self->receiving_application);
  g_free(self->receiving_facility);
  g_free(self->mrn_authority);
  g_free(self->folder);
  g_clear_object(&self->conn);
  G_OBJECT_CLASS(cd_hl7_exporter_parent_class)->finalize(object);
}

static void
cd_hl7_exporter_class_init(CdHl7ExporterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdExporterClass *exporter_class = CD_EXPORTER_CLASS(klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS;

  object_class->get_property = cd_hl7_exporter_get_property;
  object_class->set_property = cd_hl7_exporter_set_property;
  object_class->finalize = cd_hl7_exporter_finalize;
  exporter_class->begin = cd_hl7_exporter_begin;
  exporter_class->export_document = cd_hl7_exporter_export_document;
  exporter_class->finish = cd_hl7_exporter_finish;

  props[PROP_MLLP] =
      g_param_spec_string("mllp", "MLLP", "Send over MLLP to HOST:PORT instead of writing files to the output folder",
                          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  props[PROP_SENDING_APPLICATION] =
      g_param_spec_string("sending-application", "Sending application", "MSH-3", DEFAULT_SENDING_APPLICATION, flags);
  props[PROP_SENDING_FACILITY] = g_param_spec_string("sending-facility", "Sending facility", "MSH-4", NULL, flags);
  props[PROP_RECEIVING_APPLICATION] =
      g_param_spec_string("receiving-application", "Receiving application", "MSH-5", NULL, flags);
  props[PROP_RECEIVING_FACILITY] =
      g_param_spec_string("receiving-facility", "Receiving facility", "MSH-6", NULL, flags);
  props[PROP_MRN_AUTHORITY] =
      g_param_spec_string("mrn-authority", "MRN authority", "PID-3.4: the assigning authority of the hospital's MRNs",
                          DEFAULT_MRN_AUTHORITY, flags);
  props[PROP_RETRIES] = g_param_spec_uint("retries", "Retries",
                                          "MLLP: tries after the first when the answer is a NAK or the connection "
                                          "fails",
                                          0, 100, DEFAULT_RETRIES, flags);
  props[PROP_RETRY_DELAY] = g_param_spec_double("retry-delay", "Retry delay", "MLLP: seconds between tries", 0, 3600,
                                                DEFAULT_RETRY_DELAY, flags);
  props[PROP_TIMEOUT] =
      g_param_spec_uint("timeout", "Timeout", "MLLP: seconds to connect, and to wait for an ACK (0: the system's)", 0,
                        3600, DEFAULT_TIMEOUT, flags);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(CD_STAGE_CLASS(klass), "hl7",
                              "Writes an HL7 v2.5 MDM^T02 per document (MSH, EVN, PID, PV1, TXA, OBX with the "
                              "base64 PDF/A) to files, or sends it over MLLP with ACK handling and retry");
}

static void
cd_hl7_exporter_init(CdHl7Exporter *self)
{
}

static gboolean
cd_plugin_hl7_init(CdPlugin *plugin, GError **error)
{
  return cd_plugin_add_stage_type(plugin, CD_TYPE_HL7_EXPORTER, error);
}

CD_PLUGIN_DEFINE("hl7", "HL7 v2.5 MDM^T02 exports for the EHR, to files or over MLLP", cd_plugin_hl7_init,
                 PACKAGE_VERSION, "LGPL-2.1-or-later")
