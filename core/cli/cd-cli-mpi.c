/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk mpi`: import the master patient index and show its entries.
 */
#include "config.h"

#include <stdio.h>

#include "cd-cli-private.h"

static void
cd_cli_patient_json(JsonBuilder *b, const CdPatient *p)
{
  json_builder_begin_object(b);
#define MEMBER(name, value)                                                                                            \
  json_builder_set_member_name(b, name);                                                                               \
  if ((value) != NULL)                                                                                                 \
    json_builder_add_string_value(b, value);                                                                           \
  else                                                                                                                 \
    json_builder_add_null_value(b);
  MEMBER("mrn", p->mrn);
  MEMBER("family", p->family);
  MEMBER("given", p->given);
  MEMBER("middle", p->middle);
  MEMBER("dob", p->dob);
  MEMBER("sex", p->sex);
  MEMBER("merged_into", p->merged_into);
#undef MEMBER
  json_builder_end_object(b);
}

gint
cd_cli_mpi(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  g_autofree gchar *opt_format = NULL;
  g_autofree gchar *opt_system = NULL;
  g_autofree gchar *opt_user = NULL;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &opt_format, "import: auto (default), csv, fhir or hl7", "FORMAT" },
    { "mrn-system", 0, 0, G_OPTION_ARG_STRING, &opt_system,
      "import: FHIR identifier system of MRNs (default: the identifier typed MR)", "URI" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who to record in the audit log (default: login name)", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ACTION ARCHIVE ARGUMENT — the master patient index");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  CdMpiFormat format = CD_MPI_FORMAT_AUTO;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Actions:\n"
                                    "  import ARCHIVE FILE   add or update patients and merges from CSV (mrn, family, "
                                    "given, middle,\n"
                                    "                        dob, sex), FHIR R4 Patient resources or HL7 v2 ADT\n"
                                    "  show ARCHIVE MRN      a patient, merges followed, and the documents filed "
                                    "to them");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 4 || !g_strv_contains((const gchar *const[]){ "import", "show", NULL }, argv[1]))
    return cd_cli_usage(ctx, "give import ARCHIVE FILE or show ARCHIVE MRN");
  if (opt_format != NULL && !cd_mpi_format_from_string(opt_format, &format))
    return cd_cli_usage(ctx, "--format must be auto, csv, fhir or hl7");

  if (g_strcmp0(argv[1], "import") == 0) {
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) patients = NULL;
    CdImportStats stats = { 0 };

    patients = cd_mpi_read(argv[3], format, opt_system, problems, &error);
    if (patients == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    archive = cd_cli_open_archive(argv[2], CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
    if (archive == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    if (opt_user != NULL)
      cd_cli_set_user(archive, opt_user);
    if (!cd_archive_import_patients(archive, patients, argv[3], &stats, &error)) {
      /* a refused record's error starts with its file and row or message */
      if (g_str_has_prefix(error->message, argv[3]))
        g_prefix_error(&error, "nothing imported: ");
      else
        g_prefix_error(&error, "%s: nothing imported: ", argv[3]);
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    if (opt_json) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      g_autoptr(JsonNode) root = NULL;
      g_autofree gchar *text = NULL;
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "created");
      json_builder_add_int_value(b, stats.created);
      json_builder_set_member_name(b, "updated");
      json_builder_add_int_value(b, stats.updated);
      json_builder_set_member_name(b, "unchanged");
      json_builder_add_int_value(b, stats.unchanged);
      json_builder_set_member_name(b, "merged");
      json_builder_add_int_value(b, stats.merged);
      json_builder_set_member_name(b, "refiled");
      json_builder_add_int_value(b, stats.refiled);
      json_builder_set_member_name(b, "problems");
      json_builder_begin_array(b);
      for (guint i = 0; i < problems->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(problems, i));
      json_builder_end_array(b);
      json_builder_end_object(b);
      root = json_builder_get_root(b);
      text = json_to_string(root, TRUE);
      g_print("%s\n", text);
    } else {
      g_print("%s: %u created, %u updated, %u unchanged, %u merged, %u documents re-filed\n", argv[3], stats.created,
              stats.updated, stats.unchanged, stats.merged, stats.refiled);
      for (guint i = 0; i < problems->len; i++)
        g_printerr("%s\n", (gchar *) g_ptr_array_index(problems, i));
    }
    return problems->len > 0 ? CD_EXIT_PARTIAL : CD_EXIT_OK;
  }

  /* show */
  {
    g_autoptr(CdPatient) own = NULL;
    g_autoptr(CdPatient) survivor = NULL;
    g_autoptr(GPtrArray) hits = NULL;
    g_autoptr(GPtrArray) holds = NULL;
    g_autoptr(GHashTable) docs = g_hash_table_new(g_int64_hash, g_int64_equal);
    g_autoptr(GPtrArray) unique = g_ptr_array_new();
    CdSearchQuery query = { 0 };

    archive = cd_cli_open_archive(argv[2], CD_ARCHIVE_FLAG_NONE, &error);
    if (archive == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    if (opt_user != NULL)
      cd_cli_set_user(archive, opt_user);
    own = cd_archive_lookup_patient(archive, argv[3], &error);
    if (own == NULL || (survivor = cd_archive_resolve_patient(archive, argv[3], &error)) == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    /* the patient's demographics are patient data: read on the record */
    {
      g_autofree gchar *object = g_strdup_printf("patient:%s", survivor->mrn);
      g_autoptr(JsonObject) obj = json_object_new();
      g_autoptr(JsonNode) detail = NULL;
      json_object_set_string_member(obj, "requested", own->mrn);
      detail = json_node_init_object(json_node_alloc(), obj);
      if (!cd_archive_audit(archive, "view-patient", object, detail, &error)) {
        cd_cli_print_error(error);
        return CD_EXIT_FAILED;
      }
    }
    query.mrn = survivor->mrn;
    query.limit = 100000;
    hits = cd_archive_search(archive, &query, &error);
    if (hits == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    /* a hit per page: one per document */
    for (guint i = 0; i < hits->len; i++) {
      CdSearchHit *h = g_ptr_array_index(hits, i);
      if (!g_hash_table_contains(docs, &h->document_id)) {
        g_hash_table_add(docs, &h->document_id);
        g_ptr_array_add(unique, h);
      }
    }
    /* legal holds covering the chart, shown with it */
    holds = cd_archive_list_holds(archive, survivor->mrn, 0, FALSE, &error);
    if (holds == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    if (opt_json) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      g_autoptr(JsonNode) root = NULL;
      g_autofree gchar *text = NULL;
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "patient");
      cd_cli_patient_json(b, survivor);
      json_builder_set_member_name(b, "holds");
      json_builder_add_value(b, cd_legal_holds_to_json(holds));
      json_builder_set_member_name(b, "requested");
      cd_cli_patient_json(b, own);
      json_builder_set_member_name(b, "documents");
      json_builder_begin_array(b);
      for (guint i = 0; i < unique->len; i++)
        json_builder_add_int_value(b, ((CdSearchHit *) g_ptr_array_index(unique, i))->document_id);
      json_builder_end_array(b);
      json_builder_end_object(b);
      root = json_builder_get_root(b);
      text = json_to_string(root, TRUE);
      g_print("%s\n", text);
      return CD_EXIT_OK;
    }
    if (g_strcmp0(own->mrn, survivor->mrn) != 0)
      g_print("%s was merged into %s\n", own->mrn, survivor->mrn);
    g_print("MRN      %s\nname     %s, %s%s%s\nborn     %s\nsex      %s\n", survivor->mrn,
            survivor->family != NULL ? survivor->family : "?", survivor->given != NULL ? survivor->given : "?",
            survivor->middle != NULL ? " " : "", survivor->middle != NULL ? survivor->middle : "",
            survivor->dob != NULL ? survivor->dob : "unknown", survivor->sex != NULL ? survivor->sex : "unknown");
    for (guint i = 0; i < unique->len; i++) {
      CdSearchHit *h = g_ptr_array_index(unique, i);
      g_print("document %" G_GINT64_FORMAT "  %-10s %-20s %s\n", h->document_id, h->date != NULL ? h->date : "",
              h->doc_type != NULL ? h->doc_type : "(no type)", h->status);
    }
    g_print("%u documents\n", unique->len);
    for (guint i = 0; i < holds->len; i++) {
      CdLegalHold *h = g_ptr_array_index(holds, i);
      g_print("LEGAL HOLD %" G_GINT64_FORMAT " (%s): %s%s%s\n", h->id, h->kind, h->reason,
              h->matter != NULL ? ", matter " : "", h->matter != NULL ? h->matter : "");
    }
    return CD_EXIT_OK;
  }
}
