/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk roi`: release-of-information requests — new, add, redact,
 * approve, release, cancel, show, list, reproduce, settings; and
 * `chartdesk disclosures`: a patient's accounting of disclosures.
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "cd-cli-private.h"
#include "cd-roi-packet.h"

static const gchar *
cd_cli_str(JsonObject *obj, const gchar *member)
{
  const gchar *value = json_object_get_string_member_with_default(obj, member, NULL);
  return value != NULL ? value : "-";
}

static void
cd_cli_roi_print_request(JsonObject *req)
{
  JsonObject *patient = json_object_get_object_member(req, "patient");
  JsonObject *recipient = json_object_get_object_member(req, "recipient");
  JsonArray *docs = json_object_get_array_member(req, "documents");
  JsonArray *reds = json_object_get_array_member(req, "redactions");
  JsonObject *packet = json_object_get_object_member(req, "packet");

  g_print("request %" G_GINT64_FORMAT "  %s\n", json_object_get_int_member(req, "id"), cd_cli_str(req, "status"));
  g_print("  patient        %s (%s, %s)\n", cd_cli_str(patient, "mrn"), cd_cli_str(patient, "family"),
          cd_cli_str(patient, "given"));
  g_print("  requester      %s\n", cd_cli_str(req, "requester"));
  g_print("  recipient      %s; %s\n", cd_cli_str(recipient, "name"), cd_cli_str(recipient, "address"));
  g_print("  purpose        %s\n", cd_cli_str(req, "purpose"));
  g_print("  authorisation  %s\n", cd_cli_str(req, "authorisation"));
  g_print("  requested by   %s\n", cd_cli_str(req, "requested_by"));
  g_print("  created        %s by %s\n", cd_cli_str(req, "created"), cd_cli_str(req, "created_by"));
  if (json_object_get_string_member_with_default(req, "approved", NULL) != NULL)
    g_print("  approved       %s by %s\n", cd_cli_str(req, "approved"), cd_cli_str(req, "approved_by"));
  if (json_object_get_string_member_with_default(req, "released", NULL) != NULL)
    g_print("  released       %s by %s\n", cd_cli_str(req, "released"), cd_cli_str(req, "released_by"));
  if (json_object_get_string_member_with_default(req, "cancelled", NULL) != NULL)
    g_print("  cancelled      %s by %s: %s\n", cd_cli_str(req, "cancelled"), cd_cli_str(req, "cancelled_by"),
            cd_cli_str(req, "cancel_reason"));
  g_print("  documents      %u\n", docs != NULL ? json_array_get_length(docs) : 0);
  for (guint i = 0; docs != NULL && i < json_array_get_length(docs); i++) {
    JsonObject *d = json_array_get_object_element(docs, i);
    g_print("    document:%-6" G_GINT64_FORMAT " %-18s %-10s %2" G_GINT64_FORMAT " page(s)  %s\n",
            json_object_get_int_member(d, "id"), cd_cli_str(d, "type"), cd_cli_str(d, "date"),
            json_object_get_int_member(d, "pages"), cd_cli_str(d, "title"));
  }
  g_print("  redactions     %u\n", reds != NULL ? json_array_get_length(reds) : 0);
  for (guint i = 0; reds != NULL && i < json_array_get_length(reds); i++) {
    JsonObject *r = json_array_get_object_element(reds, i);
    JsonArray *rects = json_object_get_array_member(r, "rects");
    g_print("    page:%-6" G_GINT64_FORMAT " %-5s %u rectangle(s)%s%s\n", json_object_get_int_member(r, "page"),
            cd_cli_str(r, "kind"), rects != NULL ? json_array_get_length(rects) : 0,
            json_object_get_string_member_with_default(r, "pattern", NULL) != NULL ? "  words matching " : "",
            json_object_get_string_member_with_default(r, "pattern", ""));
  }
  if (packet != NULL)
    g_print("  packet         %" G_GINT64_FORMAT " pages, Bates %s to %s, SHA-256 %s\n",
            json_object_get_int_member(packet, "pages"), cd_cli_str(packet, "bates_first"),
            cd_cli_str(packet, "bates_last"), cd_cli_str(packet, "sha256"));
}

static gboolean
cd_cli_parse_request(const gchar *text, gint64 *id)
{
  guint64 v;

  if (g_str_has_prefix(text, "roi:"))
    text += 4;
  if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT64, &v, NULL))
    return FALSE;
  *id = v;
  return TRUE;
}

/* "X,Y,W,H" in pixels of the stored image. */
static gboolean
cd_cli_parse_rect(const gchar *text, gint rect[4])
{
  g_auto(GStrv) parts = g_strsplit(text, ",", -1);

  if (g_strv_length(parts) != 4)
    return FALSE;
  for (guint i = 0; i < 4; i++) {
    gint64 v;
    if (!g_ascii_string_to_signed(g_strstrip(parts[i]), 10, 0, G_MAXINT32, &v, NULL))
      return FALSE;
    rect[i] = v;
  }
  return TRUE;
}

/* Writes the packet beside FILE then renames it over, so a reader of FILE
 * never sees half a packet. */
static gboolean
cd_cli_write_packet(const gchar *path, GBytes *pdf, GError **error)
{
  gsize size;
  const gchar *data = g_bytes_get_data(pdf, &size);

  return g_file_set_contents_full(path, data, size, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static gint
cd_cli_roi_release(CdArchive *archive, gint64 id, const gchar *output, const gchar *template_path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) manifest = NULL;
  g_autoptr(GBytes) pdf = NULL;
  g_autofree gchar *sha = NULL;
  JsonObject *m;

  manifest = cd_archive_roi_prepare_release(archive, id, &error);
  if (manifest == NULL)
    return cd_cli_fail(error);
  pdf = cd_roi_packet_build(archive, manifest, template_path, &error);
  if (pdf == NULL)
    return cd_cli_fail(error);
  sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, pdf);
  if (!cd_cli_write_packet(output, pdf, &error))
    return cd_cli_fail(error);
  /* the file first, then the record: a release that cannot be recorded
   * takes its file back, and no record names a packet that was not made */
  if (!cd_archive_roi_record_release(archive, id, manifest, sha, &error)) {
    g_unlink(output);
    return cd_cli_fail(error);
  }
  m = json_node_get_object(manifest);
  g_print("request %" G_GINT64_FORMAT " released: %s, %" G_GINT64_FORMAT " pages, Bates %s to %s\n"
          "SHA-256 %s\n",
          id, output, json_object_get_int_member(m, "pages"), json_object_get_string_member(m, "bates_first"),
          json_object_get_string_member(m, "bates_last"), sha);
  return CD_EXIT_OK;
}

static gint
cd_cli_roi_reproduce(CdArchive *archive, gint64 id, const gchar *output)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) manifest = NULL;
  g_autoptr(GBytes) pdf = NULL;
  g_autofree gchar *sha = NULL;
  const gchar *released;

  manifest = cd_archive_roi_get_packet(archive, id, &error);
  if (manifest == NULL)
    return cd_cli_fail(error);
  released = json_object_get_string_member(json_node_get_object(manifest), "pdf_sha256");
  pdf = cd_roi_packet_build(archive, manifest, NULL, &error);
  if (pdf == NULL)
    return cd_cli_fail(error);
  sha = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, pdf);
  if (output != NULL && !cd_cli_write_packet(output, pdf, &error))
    return cd_cli_fail(error);
  g_print("released  SHA-256 %s\nreproduced SHA-256 %s\n", released, sha);
  if (g_strcmp0(sha, released) != 0) {
    fprintf(stderr, "chartdesk: request %" G_GINT64_FORMAT ": the packet made again differs from the one released\n",
            id);
    return CD_EXIT_FAILED;
  }
  g_print("identical: the packet of request %" G_GINT64_FORMAT " is the one released\n", id);
  return CD_EXIT_OK;
}

static gint
cd_cli_roi_settings(CdArchive *archive, gint argc, gchar **argv)
{
  g_autoptr(GError) error = NULL;
  const gchar *const *keys = cd_archive_setting_keys();

  if (argc == 5) {
    if (!cd_archive_set_setting(archive, argv[3], argv[4], &error))
      return cd_cli_fail(error);
    g_print("%s = %s\n", argv[3], argv[4]);
    return CD_EXIT_OK;
  }
  for (guint i = 0; keys[i] != NULL; i++) {
    g_autofree gchar *value = NULL;
    if (argc == 4 && g_strcmp0(argv[3], keys[i]) != 0)
      continue;
    value = cd_archive_get_setting(archive, keys[i], &error);
    if (value == NULL)
      return cd_cli_fail(error);
    g_print("%s = %s\n", keys[i], value);
  }
  if (argc == 4 && !g_strv_contains(keys, argv[3])) {
    g_autofree gchar *value = cd_archive_get_setting(archive, argv[3], &error);
    return cd_cli_fail(error);
  }
  return CD_EXIT_OK;
}

gint
cd_cli_roi(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  g_autofree gchar *opt_user = NULL;
  g_autofree gchar *opt_mrn = NULL;
  g_autofree gchar *opt_requester = NULL;
  g_autofree gchar *opt_recipient = NULL;
  g_autofree gchar *opt_address = NULL;
  g_autofree gchar *opt_purpose = NULL;
  g_autofree gchar *opt_authorisation = NULL;
  g_autofree gchar *opt_legal_basis = NULL;
  g_autofree gchar *opt_requested_by = NULL;
  g_autofree gchar *opt_type = NULL;
  g_autofree gchar *opt_from = NULL;
  g_autofree gchar *opt_to = NULL;
  g_autofree gchar *opt_rect = NULL;
  g_autofree gchar *opt_words = NULL;
  g_autofree gchar *opt_why = NULL;
  g_autofree gchar *opt_status = NULL;
  g_autofree gchar *opt_output = NULL;
  g_autofree gchar *opt_template = NULL;
  gint64 opt_page = 0;
  const GOptionEntry entries[] = {
    { "mrn", 'm', 0, G_OPTION_ARG_STRING, &opt_mrn, "new: the patient; list: only this patient", "MRN" },
    { "requester", 0, 0, G_OPTION_ARG_STRING, &opt_requester, "new: who asks", "NAME" },
    { "recipient", 0, 0, G_OPTION_ARG_STRING, &opt_recipient, "new: to whom the copies go", "NAME" },
    { "address", 0, 0, G_OPTION_ARG_STRING, &opt_address, "new: the recipient's address", "TEXT" },
    { "purpose", 0, 0, G_OPTION_ARG_STRING, &opt_purpose, "new: why they are disclosed", "TEXT" },
    { "authorisation", 0, 0, G_OPTION_ARG_STRING, &opt_authorisation, "new: the authorisation's reference", "REF" },
    { "legal-basis", 0, 0, G_OPTION_ARG_STRING, &opt_legal_basis,
      "new: the legal basis, when no authorisation is needed", "TEXT" },
    { "requested-by", 0, 0, G_OPTION_ARG_STRING, &opt_requested_by, "new: needed by this date", "YYYY-MM-DD" },
    { "type", 't', 0, G_OPTION_ARG_STRING, &opt_type, "add: the patient's documents of this type", "TYPE" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &opt_from, "add: dated on or after", "YYYY-MM-DD" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &opt_to, "add: dated on or before", "YYYY-MM-DD" },
    { "page", 'p', 0, G_OPTION_ARG_INT64, &opt_page, "redact: the page (its id)", "ID" },
    { "rect", 0, 0, G_OPTION_ARG_STRING, &opt_rect, "redact: a rectangle in the page image's pixels", "X,Y,W,H" },
    { "words", 0, 0, G_OPTION_ARG_STRING, &opt_words,
      "redact: words matching (a word or a regular expression; every page without --page)", "REGEX" },
    { "why", 'w', 0, G_OPTION_ARG_STRING, &opt_why, "cancel: the reason", "TEXT" },
    { "status", 's', 0, G_OPTION_ARG_STRING, &opt_status, "list: only requests in this status", "STATUS" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output, "release, reproduce: write the packet PDF to FILE",
      "FILE" },
    { "template", 0, 0, G_OPTION_ARG_FILENAME, &opt_template,
      "release: the cover letter template (default: roi-cover-letter.txt of the workflows)", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "show, list: print JSON", NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who acts (recorded beside your login)", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ACTION ARCHIVE [REQUEST] [DOCUMENT…] — release of information");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  const gchar *action;
  gint64 id = 0;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(
      ctx, "Actions:\n"
           "  new ARCHIVE --mrn M --requester R --recipient NAME [--address A] --purpose P\n"
           "      (--authorisation REF | --legal-basis TEXT) [--requested-by DATE]   a draft request\n"
           "  add ARCHIVE REQ DOCUMENT…  |  add ARCHIVE REQ [--type T] [--from D] [--to D]\n"
           "  redact ARCHIVE REQ --page ID --rect X,Y,W,H  |  redact ARCHIVE REQ [--page ID] --words REGEX\n"
           "  approve ARCHIVE REQ                     (by a second roi user when roi.two-person is true)\n"
           "  release ARCHIVE REQ -o FILE             the packet PDF; records the disclosure\n"
           "  cancel ARCHIVE REQ --why TEXT\n"
           "  show ARCHIVE REQ  |  list ARCHIVE [--status S] [--mrn M]\n"
           "  reproduce ARCHIVE REQ [-o FILE]         the released packet again, compared by SHA-256\n"
           "  settings ARCHIVE [KEY [VALUE]]          roi.two-person, roi.bates-prefix\n"
           "Every step is written to the audit log.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc < 3)
    return cd_cli_usage(ctx, "roi needs an action and an archive");
  action = argv[1];
  if (!g_strv_contains((const gchar *const[]){ "new", "add", "redact", "approve", "release", "cancel", "show", "list",
                                               "reproduce", "settings", NULL },
                       action))
    return cd_cli_usage(ctx, "unknown roi action");
  if (!g_strv_contains((const gchar *const[]){ "new", "list", "settings", NULL }, action) &&
      (argc < 4 || !cd_cli_parse_request(argv[3], &id)))
    return cd_cli_usage(ctx, "give the request's number");
  if (g_strcmp0(action, "new") == 0 && (opt_authorisation != NULL) == (opt_legal_basis != NULL))
    return cd_cli_usage(ctx, "new needs one of --authorisation or --legal-basis");
  if (g_strcmp0(action, "release") == 0 && opt_output == NULL)
    return cd_cli_usage(ctx, "release needs -o FILE");
  if (g_strcmp0(action, "cancel") == 0 && opt_why == NULL)
    return cd_cli_usage(ctx, "cancel needs --why");
  if (g_strcmp0(action, "redact") == 0 && (opt_rect != NULL) == (opt_words != NULL))
    return cd_cli_usage(ctx, "redact needs one of --rect or --words");
  if (g_strcmp0(action, "redact") == 0 && opt_rect != NULL && opt_page <= 0)
    return cd_cli_usage(ctx, "redact --rect needs --page ID");
  if (g_strcmp0(action, "add") == 0 && argc == 4 && opt_type == NULL && opt_from == NULL && opt_to == NULL)
    return cd_cli_usage(ctx, "add needs document ids, or --type/--from/--to");
  if (g_strcmp0(action, "add") == 0 && argc > 4 && (opt_type != NULL || opt_from != NULL || opt_to != NULL))
    return cd_cli_usage(ctx, "add takes document ids or a selection, not both");

  archive = cd_cli_open_archive(argv[2], CD_ARCHIVE_FLAG_NONE, &error);
  if (archive == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  cd_cli_set_user(archive, opt_user);

  if (g_strcmp0(action, "new") == 0) {
    CdRoiRequestSpec spec = {
      .mrn = opt_mrn,
      .requester = opt_requester,
      .recipient_name = opt_recipient,
      .recipient_address = opt_address,
      .purpose = opt_purpose,
      .authorisation = opt_authorisation != NULL ? opt_authorisation : opt_legal_basis,
      .requested_by = opt_requested_by,
    };
    g_autofree gchar *basis = NULL;
    if (opt_legal_basis != NULL)
      spec.authorisation = basis = g_strdup_printf("legal basis: %s", opt_legal_basis);
    id = cd_archive_roi_new(archive, &spec, &error);
    if (id == 0)
      return cd_cli_fail(error);
    g_print("request %" G_GINT64_FORMAT " created (draft)\n", id);
  } else if (g_strcmp0(action, "add") == 0) {
    guint n = 0;
    if (argc > 4) {
      g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
      for (gint i = 4; i < argc; i++) {
        gboolean is_page;
        gint64 doc;
        if (!cd_cli_parse_ref(argv[i], &is_page, &doc) || is_page)
          return cd_cli_usage(ctx, "add takes document ids (document:N or N)");
        g_array_append_val(ids, doc);
      }
      if (!cd_archive_roi_add_documents(archive, id, (const gint64 *) ids->data, ids->len, &n, &error))
        return cd_cli_fail(error);
    } else {
      const gchar *type = NULL;
      g_autoptr(CdTaxonomy) taxonomy = NULL;
      if (opt_type != NULL) {
        taxonomy = cd_taxonomy_new_default(&error);
        if (taxonomy == NULL)
          return cd_cli_fail(error);
        type = cd_taxonomy_lookup(taxonomy, opt_type);
        if (type == NULL) {
          fprintf(stderr, "chartdesk: '%s' is not a document type (see %s)\n", opt_type,
                  cd_taxonomy_get_origin(taxonomy));
          return CD_EXIT_USAGE;
        }
      }
      if (!cd_archive_roi_add_selection(archive, id, type, opt_from, opt_to, &n, &error))
        return cd_cli_fail(error);
    }
    g_print("request %" G_GINT64_FORMAT ": %u document(s) added\n", id, n);
  } else if (g_strcmp0(action, "redact") == 0) {
    if (opt_rect != NULL) {
      gint r[4];
      gint64 rid;
      if (!cd_cli_parse_rect(opt_rect, r))
        return cd_cli_usage(ctx, "--rect takes X,Y,W,H in pixels");
      rid = cd_archive_roi_redact_rect(archive, id, opt_page, r[0], r[1], r[2], r[3], &error);
      if (rid == 0)
        return cd_cli_fail(error);
      g_print("request %" G_GINT64_FORMAT ": page %" G_GINT64_FORMAT " redaction %" G_GINT64_FORMAT " recorded\n", id,
              opt_page, rid);
    } else {
      guint n = 0;
      if (!cd_archive_roi_redact_words(archive, id, opt_page, opt_words, &n, &error))
        return cd_cli_fail(error);
      g_print("request %" G_GINT64_FORMAT ": %u word(s) matching '%s' will be blacked out\n", id, n, opt_words);
    }
  } else if (g_strcmp0(action, "approve") == 0) {
    if (!cd_archive_roi_approve(archive, id, &error))
      return cd_cli_fail(error);
    g_print("request %" G_GINT64_FORMAT " approved\n", id);
  } else if (g_strcmp0(action, "cancel") == 0) {
    if (!cd_archive_roi_cancel(archive, id, opt_why, &error))
      return cd_cli_fail(error);
    g_print("request %" G_GINT64_FORMAT " cancelled\n", id);
  } else if (g_strcmp0(action, "show") == 0) {
    g_autoptr(JsonNode) node = cd_archive_roi_get(archive, id, &error);
    if (node == NULL)
      return cd_cli_fail(error);
    if (opt_json)
      cd_cli_print_json(node);
    else
      cd_cli_roi_print_request(json_node_get_object(node));
  } else if (g_strcmp0(action, "list") == 0) {
    g_autoptr(JsonNode) node = cd_archive_roi_list(archive, opt_status, opt_mrn, &error);
    JsonArray *rows;
    if (node == NULL)
      return cd_cli_fail(error);
    if (opt_json) {
      cd_cli_print_json(node);
      return CD_EXIT_OK;
    }
    rows = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(rows); i++) {
      JsonObject *r = json_array_get_object_element(rows, i);
      g_print("%-6" G_GINT64_FORMAT " %-9s %-10s %-28s %-20s %s\n", json_object_get_int_member(r, "id"),
              cd_cli_str(r, "status"), cd_cli_str(json_object_get_object_member(r, "patient"), "mrn"),
              cd_cli_str(json_object_get_object_member(r, "recipient"), "name"), cd_cli_str(r, "purpose"),
              cd_cli_str(r, "created"));
    }
  } else if (g_strcmp0(action, "release") == 0) {
    return cd_cli_roi_release(archive, id, opt_output, opt_template);
  } else if (g_strcmp0(action, "reproduce") == 0) {
    return cd_cli_roi_reproduce(archive, id, opt_output);
  } else {
    if (argc > 5)
      return cd_cli_usage(ctx, "settings takes a key and a value at most");
    return cd_cli_roi_settings(archive, argc, argv);
  }
  return CD_EXIT_OK;
}

/* One disclosure as §164.528(b)(2) lists it: date, recipient and address,
 * what was disclosed, and why. */
static void
cd_cli_print_disclosure(JsonObject *d)
{
  JsonObject *recipient = json_object_get_object_member(d, "recipient");
  const gchar *address = json_object_get_string_member_with_default(recipient, "address", NULL);
  const gchar *auth = json_object_get_string_member_with_default(d, "authorisation", NULL);
  g_autofree gchar *day = g_strndup(cd_cli_str(d, "date"), 10);

  g_print("%s  To: %s%s%s\n", day, cd_cli_str(recipient, "name"), address != NULL ? ", " : "",
          address != NULL ? address : "");
  g_print("            What: %s\n", cd_cli_str(d, "description"));
  g_print("            Purpose: %s%s%s%s\n", cd_cli_str(d, "purpose"), auth != NULL ? " (" : "",
          auth != NULL ? auth : "", auth != NULL ? ")" : "");
}

gint
cd_cli_disclosures(gint argc, gchar **argv)
{
  g_autofree gchar *opt_from = NULL;
  g_autofree gchar *opt_user = NULL;
  gboolean opt_json = FALSE;
  gboolean opt_each = FALSE;
  const GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &opt_from, "From this day (default: six years ago)", "YYYY-MM-DD" },
    { "each", 0, 0, G_OPTION_ARG_NONE, &opt_each, "List repeated disclosures one by one, not summarised", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who asks (recorded beside your login)", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE MRN — a patient's accounting of disclosures");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(JsonNode) acc = NULL;
  g_autoptr(GHashTable) printed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  JsonObject *obj;
  JsonArray *list, *summary;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "The disclosures of a patient's records to outside parties, in the form 45 CFR "
                                    "164.528 describes: date, recipient and address, what was disclosed, and the "
                                    "purpose. Repeated disclosures to one recipient for one purpose are summarised "
                                    "(the first, how many, the last) unless --each.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 3)
    return cd_cli_usage(ctx, "usage: chartdesk disclosures ARCHIVE MRN");
  archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_NONE, &error);
  if (archive == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  cd_cli_set_user(archive, opt_user);
  acc = cd_archive_disclosures(archive, argv[2], opt_from, &error);
  if (acc == NULL)
    return cd_cli_fail(error);
  if (opt_json) {
    cd_cli_print_json(acc);
    return CD_EXIT_OK;
  }
  obj = json_node_get_object(acc);
  list = json_object_get_array_member(obj, "disclosures");
  summary = json_object_get_array_member(obj, "summary");
  g_print("Accounting of disclosures of protected health information\nPatient MRN %s, %s to %s: %u disclosure(s)\n\n",
          argv[2], cd_cli_str(obj, "from"), cd_cli_str(obj, "to"), json_array_get_length(list));
  for (guint i = 0; i < json_array_get_length(list); i++) {
    JsonObject *d = json_array_get_object_element(list, i);
    JsonObject *recipient = json_object_get_object_member(d, "recipient");
    const gchar *address = json_object_get_string_member_with_default(recipient, "address", NULL);
    g_autofree gchar *key = g_strdup_printf("%s\x1f%s\x1f%s", cd_cli_str(recipient, "name"),
                                            address != NULL ? address : "", cd_cli_str(d, "purpose"));
    JsonObject *group = NULL;

    if (!opt_each && g_hash_table_contains(printed, key))
      continue;
    for (guint j = 0; j < json_array_get_length(summary); j++) {
      JsonObject *g = json_array_get_object_element(summary, j);
      const gchar *g_address = json_object_get_string_member_with_default(g, "address", NULL);
      if (g_strcmp0(cd_cli_str(g, "recipient"), cd_cli_str(recipient, "name")) == 0 &&
          g_strcmp0(g_address, address) == 0 && g_strcmp0(cd_cli_str(g, "purpose"), cd_cli_str(d, "purpose")) == 0)
        group = g;
    }
    cd_cli_print_disclosure(d);
    if (!opt_each && group != NULL && json_object_get_int_member(group, "count") > 1) {
      g_autofree gchar *last = g_strndup(cd_cli_str(group, "last"), 10);
      g_print("            Repeated: %" G_GINT64_FORMAT " disclosures to this recipient for this purpose, the "
              "last on %s\n",
              json_object_get_int_member(group, "count"), last);
    }
    g_hash_table_add(printed, g_steal_pointer(&key));
    g_print("\n");
  }
  return CD_EXIT_OK;
}
