/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk export`: the archive as JSON Lines, to a file or standard
 * output; or documents through an exporter plugin — searchable PDF/A
 * (`--pdf`), a FHIR R4 bundle (`--fhir`), HL7 v2.5 MDM^T02 (`--hl7`), or a
 * hospital's own (`--exporter NAME`).
 */
#include "config.h"

#include <gio/gunixoutputstream.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

#include "cd-cli-private.h"

static gint
cd_cli_export_jsonl(CdArchive *archive, const gchar *output, gboolean words)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOutputStream) out = NULL;
  g_autoptr(GOutputStream) buffered = NULL;

  if (output != NULL) {
    g_autoptr(GFile) file = g_file_new_for_path(output);
    /* patient data: 0600 whatever the umask, and an older file's mode is
     * not inherited (the export is written beside and renamed over) */
    out = G_OUTPUT_STREAM(
        g_file_replace(file, NULL, FALSE, G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION, NULL, &error));
    if (out == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
  } else {
    out = g_unix_output_stream_new(STDOUT_FILENO, FALSE);
  }
  buffered = g_buffered_output_stream_new_sized(out, 1 << 16);
  if (!cd_archive_export_jsonl(archive, buffered, words, NULL, &error) ||
      !g_output_stream_close(buffered, NULL, &error)) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  return CD_EXIT_OK;
}

gint
cd_cli_export(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  gboolean opt_words = FALSE;
  gboolean opt_pdf = FALSE;
  gboolean opt_fhir = FALSE;
  gboolean opt_hl7 = FALSE;
  gboolean opt_quiet = FALSE;
  g_autofree gchar *opt_exporter = NULL;
  g_autofree gchar *opt_user = NULL;
  g_autofree gchar *opt_purpose = NULL;
  g_autofree gchar *opt_output = NULL;
  g_autofree gchar *opt_mrn = NULL;
  g_autofree gchar *opt_type = NULL;
  g_autofree gchar *opt_from = NULL;
  g_autofree gchar *opt_to = NULL;
  g_autofree gchar *opt_mllp = NULL;
  g_auto(GStrv) opt_set = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "JSON Lines, one document or set-aside page a line", NULL },
    { "words", 0, 0, G_OPTION_ARG_NONE, &opt_words, "Include word boxes (--json)", NULL },
    { "pdf", 0, 0, G_OPTION_ARG_NONE, &opt_pdf, "A searchable PDF/A-2b per document", NULL },
    { "fhir", 0, 0, G_OPTION_ARG_NONE, &opt_fhir, "A FHIR R4 transaction Bundle of DocumentReferences", NULL },
    { "hl7", 0, 0, G_OPTION_ARG_NONE, &opt_hl7, "An HL7 v2.5 MDM^T02 per document", NULL },
    { "exporter", 'e', 0, G_OPTION_ARG_STRING, &opt_exporter, "Another exporter plugin's stage", "NAME" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output,
      "Write to FILE or FOLDER (--json and --fhir: standard output without it; --pdf, --hl7: the working folder)",
      "PATH" },
    { "mrn", 0, 0, G_OPTION_ARG_STRING, &opt_mrn, "Only documents of this patient", "MRN" },
    { "type", 't', 0, G_OPTION_ARG_STRING, &opt_type, "Only documents of this type", "TYPE" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &opt_from, "Only documents dated on or after", "YYYY-MM-DD" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &opt_to, "Only documents dated on or before", "YYYY-MM-DD" },
    { "mllp", 0, 0, G_OPTION_ARG_STRING, &opt_mllp, "--hl7: send over MLLP instead of writing files", "HOST:PORT" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &opt_set, "Set an exporter option", "STAGE.OPTION=VALUE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, "Say nothing on success", NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who to record in the audit log", "NAME" },
    { "purpose", 'p', 0, G_OPTION_ARG_STRING, &opt_purpose, "Why, for the audit log", "TEXT" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx =
      g_option_context_new("--json|--pdf|--fhir|--hl7 ARCHIVE [document:ID…] — export the archive or documents");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(CdRegistry) registry = NULL;
  g_autoptr(CdExporter) exporter = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GStrvBuilder) settings = g_strv_builder_new();
  g_auto(GStrv) all_settings = NULL;
  g_auto(GStrv) types = NULL;
  const gchar *name = NULL;
  guint n_formats;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(
      ctx, "--json writes the whole archive (a stable format, documented in the README). The others export the "
           "filed documents named (document:ID), or selected by --mrn, --type, --from and --to (all of them when "
           "nothing is named), authorised and audited as the user, through an exporter plugin.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  n_formats =
      (opt_json ? 1 : 0) + (opt_pdf ? 1 : 0) + (opt_fhir ? 1 : 0) + (opt_hl7 ? 1 : 0) + (opt_exporter != NULL ? 1 : 0);
  if (n_formats != 1)
    return cd_cli_usage(ctx, "say one of --json, --pdf, --fhir, --hl7 or --exporter");
  if (argc < 2)
    return cd_cli_usage(ctx, "export needs an archive");
  if (opt_json && argc != 2)
    return cd_cli_usage(ctx, "--json exports the whole archive; it takes no documents");
  if (opt_mllp != NULL && !opt_hl7)
    return cd_cli_usage(ctx, "--mllp is for --hl7");
  if (opt_mllp != NULL && opt_output != NULL)
    return cd_cli_usage(ctx, "--hl7 sends over MLLP or writes files, not both");

  archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_NONE, &error);
  if (archive == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (opt_user != NULL)
    cd_cli_set_user(archive, opt_user);
  cd_archive_set_purpose(archive, opt_purpose);
  if (opt_json)
    return cd_cli_export_jsonl(archive, opt_output, opt_words);

  name = opt_pdf ? "pdf" : opt_fhir ? "fhir" : opt_hl7 ? "hl7" : opt_exporter;
  if (argc > 2) {
    if (opt_mrn != NULL || opt_type != NULL || opt_from != NULL || opt_to != NULL)
      return cd_cli_usage(ctx, "name documents or select them with --mrn/--type/--from/--to, not both");
    ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    for (gint i = 2; i < argc; i++) {
      gboolean is_page = FALSE;
      gint64 id = 0;
      if (!cd_cli_parse_ref(argv[i], &is_page, &id) || is_page) {
        g_autofree gchar *msg = g_strdup_printf("'%s' is not document:ID", argv[i]);
        return cd_cli_usage(ctx, msg);
      }
      g_array_append_val(ids, id);
    }
  } else {
    CdSearchQuery query = { 0 };
    if (opt_type != NULL) {
      g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_default(&error);
      if (taxonomy == NULL) {
        cd_cli_print_error(error);
        return CD_EXIT_FAILED;
      }
      types = cd_taxonomy_resolve_search(taxonomy, opt_type, &error);
      if (types == NULL) {
        cd_cli_print_error(error);
        return CD_EXIT_FAILED;
      }
    }
    query.mrn = opt_mrn;
    query.doc_type = opt_type;
    query.doc_types = (const gchar *const *) types;
    query.date_from = opt_from;
    query.date_to = opt_to;
    ids = cd_archive_find_export_documents(archive, &query, &error);
    if (ids == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
  }

  for (guint i = 0; opt_set != NULL && opt_set[i] != NULL; i++)
    g_strv_builder_add(settings, opt_set[i]);
  if (opt_mllp != NULL) {
    g_autofree gchar *mllp = g_strdup_printf("hl7.mllp=%s", opt_mllp);
    g_strv_builder_add(settings, mllp);
  }
  all_settings = g_strv_builder_end(settings);
  registry = cd_cli_load_registry();
  exporter = cd_export_new_exporter(registry, name, opt_output, (const gchar *const *) all_settings, &error);
  if (exporter == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (!cd_export_run(archive, exporter, ids, NULL, &error)) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (!opt_quiet) {
    const gchar *dest = cd_exporter_get_destination(exporter);
    g_printerr("exported %u document%s (%s) to %s\n", cd_exporter_get_n_exported(exporter),
               cd_exporter_get_n_exported(exporter) == 1 ? "" : "s", name,
               dest != NULL ? dest : (opt_fhir ? "standard output" : "the working folder"));
  }
  return CD_EXIT_OK;
}
