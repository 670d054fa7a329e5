/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk retention` (check a policy, plan, destroy, certificates,
 * settings) and `chartdesk hold` (legal holds: add, list, release).
 * Administrator's mode: the archive file opened directly.
 */
#include "config.h"

#include <stdio.h>

#include "cd-archive-spool.h"
#include "cd-cli-private.h"
#include "cd-util-private.h"

static CdArchive *
cd_cli_retention_open(const gchar *path, CdArchiveFlags flags, const gchar *user, GError **error)
{
  CdArchive *archive = cd_cli_open_archive(path, flags, error);

  if (archive != NULL)
    cd_cli_set_user(archive, user);
  return archive;
}

static void
cd_cli_print_plan_list(JsonObject *plan, const gchar *member, const gchar *title)
{
  JsonArray *list = json_object_get_array_member(plan, member);
  guint n = list != NULL ? json_array_get_length(list) : 0;

  g_print("%s: %u\n", title, n);
  for (guint i = 0; i < n; i++) {
    JsonObject *e = json_array_get_object_element(list, i);
    g_print("  document %-6" G_GINT64_FORMAT " MRN %-10s %-20s %-10s %s\n", json_object_get_int_member(e, "document"),
            json_object_get_string_member_with_default(e, "mrn", "-"),
            json_object_get_string_member_with_default(e, "type", "(no type)"),
            json_object_get_string_member_with_default(e, "date", "-"),
            json_object_get_string_member_with_default(e, "why", ""));
  }
}

static gint
cd_cli_retention_check(gint argc, gchar **argv)
{
  g_autoptr(GOptionContext) ctx = g_option_context_new("POLICY — validate a retention policy");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdTaxonomy) taxonomy = NULL;
  g_autoptr(CdRetentionPolicy) policy = NULL;
  g_autoptr(GPtrArray) rules = NULL;

  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 2)
    return cd_cli_usage(ctx, "check needs one policy file");
  taxonomy = cd_taxonomy_new_default(&error);
  if (taxonomy == NULL)
    return cd_cli_fail(error);
  policy = cd_retention_policy_new_from_file(argv[1], taxonomy, &error);
  if (policy == NULL)
    return cd_cli_fail(error);
  rules = cd_retention_policy_describe(policy);
  g_print("%s: valid (%u rules, age of majority %u%s)\n", argv[1], rules->len,
          cd_retention_policy_get_majority_age(policy),
          cd_retention_policy_get_two_person(policy) ? ", two-person approval" : "");
  for (guint i = 0; i < rules->len; i++)
    g_print("  %s\n", (const gchar *) g_ptr_array_index(rules, i));
  return CD_EXIT_OK;
}

static gint
cd_cli_retention_plan(gint argc, gchar **argv)
{
  g_autofree gchar *opt_as_of = NULL;
  g_autofree gchar *opt_output = NULL;
  g_autofree gchar *opt_user = NULL;
  gboolean opt_json = FALSE;
  const GOptionEntry entries[] = {
    { "as-of", 0, 0, G_OPTION_ARG_STRING, &opt_as_of, "Apply the rules for this day (default: today)", "YYYY-MM-DD" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the plan as JSON (the plan file's content)", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output, "Write the plan file for `retention destroy`", "PLAN" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who makes the plan, for the audit log", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE POLICY — what the policy makes due; nothing changes");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdTaxonomy) taxonomy = NULL;
  g_autoptr(CdRetentionPolicy) policy = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(JsonNode) plan = NULL;
  g_autofree gchar *text = NULL;
  JsonObject *o;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 3)
    return cd_cli_usage(ctx, "plan needs an archive and a policy file");
  taxonomy = cd_taxonomy_new_default(&error);
  if (taxonomy == NULL)
    return cd_cli_fail(error);
  policy = cd_retention_policy_new_from_file(argv[2], taxonomy, &error);
  if (policy == NULL)
    return cd_cli_fail(error);
  archive = cd_cli_retention_open(argv[1], CD_ARCHIVE_FLAG_NONE, opt_user, &error);
  if (archive == NULL)
    return cd_cli_fail(error);
  plan = cd_archive_retention_plan(archive, policy, opt_as_of, &error);
  if (plan == NULL)
    return cd_cli_fail(error);
  text = json_to_string(plan, TRUE);
  if (opt_output != NULL) {
    g_autofree gchar *data = g_strdup_printf("%s\n", text);
    if (!g_file_set_contents_full(opt_output, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
      return cd_cli_fail(error);
  }
  if (opt_json) {
    g_print("%s\n", text);
    return CD_EXIT_OK;
  }
  o = json_node_get_object(plan);
  g_print("Retention plan for %s as of %s (policy %s)\n", argv[1], json_object_get_string_member(o, "as_of"), argv[2]);
  cd_cli_print_plan_list(o, "due", "Due for destruction");
  cd_cli_print_plan_list(o, "held", "Due but held back (legal hold)");
  cd_cli_print_plan_list(o, "undetermined", "Never destroyed until settled");
  {
    JsonObject *c = json_object_get_object_member(o, "counts");
    g_print("Not yet due: %" G_GINT64_FORMAT "; permanent: %" G_GINT64_FORMAT "\n",
            json_object_get_int_member(c, "kept"), json_object_get_int_member(c, "permanent"));
  }
  if (opt_output != NULL)
    g_print("Plan written to %s; carry it out with `chartdesk retention destroy %s %s --approve`%s\n", opt_output,
            argv[1], opt_output, json_object_get_boolean_member(o, "two_person") ? " (by another administrator)" : "");
  return CD_EXIT_OK;
}

static gint
cd_cli_retention_destroy(gint argc, gchar **argv)
{
  gboolean opt_approve = FALSE;
  gboolean opt_json = FALSE;
  g_autofree gchar *opt_user = NULL;
  const GOptionEntry entries[] = {
    { "approve", 0, 0, G_OPTION_ARG_NONE, &opt_approve, "Approve the plan and destroy its documents", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the run as JSON", NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who approves, for the audit log and certificate", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE PLAN-FILE --approve — destroy what a plan lists");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(JsonNode) run = NULL;
  g_autofree gchar *plan = NULL;
  JsonObject *o;
  JsonArray *refused;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Destroys exactly the plan's due documents, refusing any that gained a legal "
                                    "hold or a newer date\nof service since, or is no longer due; keeps "
                                    "tombstones, records a certificate, then VACUUMs.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 3)
    return cd_cli_usage(ctx, "destroy needs an archive and a plan file");
  if (!opt_approve)
    return cd_cli_usage(ctx, "destruction cannot be undone: give --approve to carry out the plan");
  if (!g_file_get_contents(argv[2], &plan, NULL, &error))
    return cd_cli_fail(error);
  /* the batch writer's lock: no batch adds pages while records go */
  archive = cd_cli_retention_open(argv[1], CD_ARCHIVE_FLAG_WRITER, opt_user, &error);
  if (archive == NULL)
    return cd_cli_fail(error);
  run = cd_archive_retention_destroy(archive, plan, &error);
  if (run == NULL)
    return cd_cli_fail(error);
  if (opt_json) {
    cd_cli_print_json(run);
    return CD_EXIT_OK;
  }
  o = json_node_get_object(run);
  refused = json_object_get_array_member(o, "refused");
  g_print("Destruction run %" G_GINT64_FORMAT ": %u documents (%" G_GINT64_FORMAT " pages) destroyed, %u refused\n",
          json_object_get_int_member(o, "run"), json_array_get_length(json_object_get_array_member(o, "destroyed")),
          json_object_get_int_member(o, "pages"), json_array_get_length(refused));
  for (guint i = 0; i < json_array_get_length(refused); i++) {
    JsonObject *r = json_array_get_object_element(refused, i);
    g_print("  refused document %" G_GINT64_FORMAT ": %s\n", json_object_get_int_member(r, "document"),
            json_object_get_string_member(r, "why"));
  }
  g_print("Archive %" G_GINT64_FORMAT " bytes before, %" G_GINT64_FORMAT " after VACUUM; certificate: `chartdesk "
          "retention certificate %s %" G_GINT64_FORMAT " -o FILE.pdf`\n",
          json_object_get_int_member(o, "bytes_before"), json_object_get_int_member(o, "bytes_after"), argv[1],
          json_object_get_int_member(o, "run"));
  return CD_EXIT_OK;
}

static gint
cd_cli_retention_certificate(gint argc, gchar **argv)
{
  g_autofree gchar *opt_output = NULL;
  g_autofree gchar *opt_user = NULL;
  gboolean opt_json = FALSE;
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output, "Write the certificate PDF to FILE", "FILE.pdf" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the run's record as JSON", NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who reads it, for the audit log", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE RUN — a destruction run's record and certificate");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(JsonNode) run = NULL;
  g_autoptr(GBytes) pdf = NULL;
  guint64 id;
  JsonObject *o;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 3 || !g_ascii_string_to_unsigned(argv[2], 10, 1, G_MAXINT64, &id, NULL))
    return cd_cli_usage(ctx, "certificate needs an archive and a run number");
  archive = cd_cli_retention_open(argv[1], CD_ARCHIVE_FLAG_NONE, opt_user, &error);
  if (archive == NULL)
    return cd_cli_fail(error);
  run = cd_archive_get_retention_run(archive, id, &pdf, &error);
  if (run == NULL)
    return cd_cli_fail(error);
  if (opt_output != NULL &&
      !g_file_set_contents(opt_output, g_bytes_get_data(pdf, NULL), g_bytes_get_size(pdf), &error))
    return cd_cli_fail(error);
  if (opt_json) {
    cd_cli_print_json(run);
    return CD_EXIT_OK;
  }
  o = json_node_get_object(run);
  g_print("Destruction run %" G_GINT64_FORMAT " on %s: %" G_GINT64_FORMAT " documents, %" G_GINT64_FORMAT
          " pages\nplanned by %s, approved and carried out by %s\ncertificate SHA-256 %s%s%s\n",
          json_object_get_int_member(o, "run"), json_object_get_string_member(o, "destroyed_at"),
          json_object_get_int_member(o, "documents"), json_object_get_int_member(o, "pages"),
          json_object_get_string_member(o, "made_by"), json_object_get_string_member(o, "approved_by"),
          json_object_get_string_member(o, "certificate_sha256"), opt_output != NULL ? ", written to " : "",
          opt_output != NULL ? opt_output : "");
  return CD_EXIT_OK;
}

static gint
cd_cli_retention_settings(gint argc, gchar **argv)
{
  g_autofree gchar *opt_two = NULL;
  g_autofree gchar *opt_user = NULL;
  const GOptionEntry entries[] = {
    { "two-person", 0, 0, G_OPTION_ARG_STRING, &opt_two, "yes: plans need another administrator's approval", "yes|no" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who changes it, for the audit log", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx =
      g_option_context_new("ARCHIVE --two-person yes|no — the archive's retention settings");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 2 || opt_two == NULL || !g_strv_contains((const gchar *const[]){ "yes", "no", NULL }, opt_two))
    return cd_cli_usage(ctx, "settings needs an archive and --two-person yes or no");
  archive = cd_cli_retention_open(argv[1], CD_ARCHIVE_FLAG_NONE, opt_user, &error);
  if (archive == NULL || !cd_archive_set_retention_two_person(archive, g_strcmp0(opt_two, "yes") == 0, &error))
    return cd_cli_fail(error);
  g_print("%s: two-person approval of destruction plans %s\n", argv[1],
          g_strcmp0(opt_two, "yes") == 0 ? "required" : "not required by the archive (a policy may still ask)");
  return CD_EXIT_OK;
}

/**
 * cd_cli_retention:
 * @argc: arguments after `retention`
 * @argv: they
 *
 * `chartdesk retention check|plan|destroy|certificate|settings`.
 *
 * Returns: the exit status
 */
gint
cd_cli_retention(gint argc, gchar **argv)
{
  static const struct {
    const gchar *name;
    gint (*func)(gint, gchar **);
  } actions[] = {
    { "check", cd_cli_retention_check },       { "plan", cd_cli_retention_plan },
    { "destroy", cd_cli_retention_destroy },   { "certificate", cd_cli_retention_certificate },
    { "settings", cd_cli_retention_settings },
  };

  if (argc >= 2) {
    for (guint i = 0; i < G_N_ELEMENTS(actions); i++) {
      if (g_strcmp0(argv[1], actions[i].name) == 0) {
        g_autofree gchar *prgname = g_strdup_printf("chartdesk retention %s", actions[i].name);
        g_set_prgname(prgname);
        return actions[i].func(argc - 1, argv + 1);
      }
    }
  }
  fprintf(stderr, "Usage: chartdesk retention ACTION …\n\nActions:\n"
                  "  check POLICY                         validate a retention policy (errors name the line)\n"
                  "  plan ARCHIVE POLICY [--as-of DATE] [--json] [-o PLAN]\n"
                  "                                       what is due and what is held back; nothing changes\n"
                  "  destroy ARCHIVE PLAN --approve       destroy exactly the plan's due documents\n"
                  "  certificate ARCHIVE RUN [-o FILE.pdf]  a destruction run's record and certificate\n"
                  "  settings ARCHIVE --two-person yes|no the archive's two-person rule\n");
  return CD_EXIT_USAGE;
}

/* Prints holds, one a line, from their JSON (cd_legal_holds_to_json() on
 * a SQLite archive, cd_pg_archive_list_holds() on the server: the same
 * members), so both backends print alike. */
static void
cd_cli_print_holds(JsonArray *holds)
{
  guint n = json_array_get_length(holds);

  for (guint i = 0; i < n; i++) {
    JsonObject *h = json_array_get_object_element(holds, i);
    const gchar *kind = json_object_get_string_member_with_default(h, "kind", "");
    const gchar *matter = json_object_get_string_member_with_default(h, "matter", NULL);
    const gchar *released_at = json_object_get_string_member_with_default(h, "released_at", NULL);
    const gchar *release_reason = json_object_get_string_member_with_default(h, "release_reason", NULL);
    g_autofree gchar *target = NULL;
    if (g_strcmp0(kind, "patient") == 0) {
      target = g_strdup_printf("patient %s", json_object_get_string_member_with_default(h, "mrn", ""));
    } else if (g_strcmp0(kind, "document") == 0) {
      target = g_strdup_printf("document %" G_GINT64_FORMAT, json_object_get_int_member_with_default(h, "document", 0));
    } else {
      /* the stored query, as it was written (compact JSON) */
      JsonNode *q = json_object_get_member(h, "query");
      g_autofree gchar *query = q != NULL && !JSON_NODE_HOLDS_NULL(q) ? cd_json_to_string(q) : NULL;
      target = g_strdup_printf("search %s", query != NULL ? query : "(null)");
    }
    g_print("hold %" G_GINT64_FORMAT "  %s  %s  matter %s  placed by %s on %s%s%s%s%s\n",
            json_object_get_int_member(h, "id"), target, json_object_get_string_member_with_default(h, "reason", ""),
            matter != NULL ? matter : "-", json_object_get_string_member_with_default(h, "placed_by", ""),
            json_object_get_string_member_with_default(h, "placed_at", ""), released_at != NULL ? "  released on " : "",
            released_at != NULL ? released_at : "", released_at != NULL ? ": " : "",
            release_reason != NULL ? release_reason : "");
  }
  g_print("%u holds\n", n);
}

static void
cd_cli_print_hold_placed(gint64 id, gboolean json)
{
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) node = NULL;

  if (!json) {
    g_print("hold %" G_GINT64_FORMAT " placed\n", id);
    return;
  }
  b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "hold");
  json_builder_add_int_value(b, id);
  json_builder_end_object(b);
  node = json_builder_get_root(b);
  cd_cli_print_json(node);
}

/* The options of `chartdesk hold`, whichever archive it acts on. */
typedef struct {
  gchar *reason;
  gchar *matter;
  gchar *text; /* add search */
  gchar *mrn;  /* add search, list */
  gchar *type; /* add search */
  gchar *from; /* add search */
  gchar *to;   /* add search */
  gchar *user;
  gint64 document; /* list */
  gboolean all;
  gboolean json;
} CdCliHoldOptions;

static void
cd_cli_hold_options_clear(CdCliHoldOptions *o)
{
  g_clear_pointer(&o->reason, g_free);
  g_clear_pointer(&o->matter, g_free);
  g_clear_pointer(&o->text, g_free);
  g_clear_pointer(&o->mrn, g_free);
  g_clear_pointer(&o->type, g_free);
  g_clear_pointer(&o->from, g_free);
  g_clear_pointer(&o->to, g_free);
  g_clear_pointer(&o->user, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CdCliHoldOptions, cd_cli_hold_options_clear)

/* An error of the server as cd_cli_fail_server() prints it (the server
 * named, never its password), with cd_cli_fail()'s exit status: a refused
 * argument (no reason, released twice) is a usage error on both backends. */
static gint
cd_cli_hold_fail_server(const gchar *uri, const GError *error)
{
  gint status = cd_cli_fail_server(uri, error);

  return g_error_matches(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT) ? CD_EXIT_USAGE : status;
}

/* `hold ACTION postgresql://… …`, its arguments checked by cd_cli_hold():
 * the SQLite archive's output and exit statuses, through the server's
 * holds (cd_pg_archive_place_hold() and its kin). @kind, @mrn and @id are
 * the hold to place (add) or the hold to release (@id). A server hold
 * names a patient or a document, so `add … search` and the saved search's
 * filters are refused before connecting, naming what was given. */
static gint
cd_cli_hold_server(const gchar *action, const gchar *uri, CdHoldKind kind, const gchar *mrn, gint64 id,
                   const CdCliHoldOptions *o)
{
  g_autofree gchar *server = cd_server_display_name(uri);
  g_autoptr(GError) error = NULL;
  g_autoptr(CdPgArchive) pg = NULL;

  if (g_strcmp0(action, "add") == 0) {
    const struct {
      const gchar *name;
      const gchar *value;
    } filters[] = {
      { "--text", o->text }, { "--mrn", o->mrn }, { "--type", o->type }, { "--from", o->from }, { "--to", o->to }
    };
    const gchar *refused = kind == CD_HOLD_SEARCH ? "add search" : NULL;
    for (guint i = 0; refused == NULL && i < G_N_ELEMENTS(filters); i++) {
      if (filters[i].value != NULL)
        refused = filters[i].name;
    }
    if (refused != NULL) {
      g_printerr("chartdesk: %s: %s: saved-search holds are not on the PostgreSQL archive; a server hold names a "
                 "patient or a document (add ARCHIVE patient MRN | document ID)\n",
                 server, refused);
      return CD_EXIT_USAGE;
    }
  }

  pg = cd_cli_open_server_audited(uri, o->user, &error);
  if (pg == NULL)
    return cd_cli_hold_fail_server(uri, error);

  if (g_strcmp0(action, "list") == 0) {
    g_autoptr(JsonNode) holds = cd_pg_archive_list_holds(pg, o->mrn, o->document, o->all, &error);
    if (holds == NULL)
      return cd_cli_hold_fail_server(uri, error);
    if (o->json)
      cd_cli_print_json(holds);
    else
      cd_cli_print_holds(json_node_get_array(holds));
    return CD_EXIT_OK;
  }

  if (g_strcmp0(action, "release") == 0) {
    if (!cd_pg_archive_release_hold(pg, id, o->reason, &error))
      return cd_cli_hold_fail_server(uri, error);
    g_print("hold %" G_GINT64_FORMAT " released\n", id);
    return CD_EXIT_OK;
  }

  id = cd_pg_archive_place_hold(pg, kind, mrn, kind == CD_HOLD_DOCUMENT ? id : 0, o->reason, o->matter, &error);
  if (id == 0)
    return cd_cli_hold_fail_server(uri, error);
  cd_cli_print_hold_placed(id, o->json);
  return CD_EXIT_OK;
}

/**
 * cd_cli_hold:
 * @argc: arguments after `hold`
 * @argv: they
 *
 * `chartdesk hold add|list|release`, on a SQLite archive or a
 * `postgresql://` server (cd_cli_hold_server()).
 *
 * Returns: the exit status
 */
gint
cd_cli_hold(gint argc, gchar **argv)
{
  g_auto(CdCliHoldOptions) o = { 0 };
  const GOptionEntry entries[] = {
    { "reason", 'r', 0, G_OPTION_ARG_STRING, &o.reason, "add, release: why (required)", "TEXT" },
    { "matter", 0, 0, G_OPTION_ARG_STRING, &o.matter, "add: the matter reference (case, audit, request)", "REF" },
    { "text", 0, 0, G_OPTION_ARG_STRING, &o.text, "add search: words (or FTS5) the documents contain", "WORDS" },
    { "mrn", 0, 0, G_OPTION_ARG_STRING, &o.mrn, "add search, list: the patient", "MRN" },
    { "type", 0, 0, G_OPTION_ARG_STRING, &o.type, "add search: the document type", "TYPE" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &o.from, "add search: dated on or after", "YYYY-MM-DD" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &o.to, "add search: dated on or before", "YYYY-MM-DD" },
    { "document", 0, 0, G_OPTION_ARG_INT64, &o.document, "list: the holds covering this document", "ID" },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &o.all, "list: released holds too", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o.json, "Print JSON", NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &o.user, "Who acts, for the audit log", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ACTION ARCHIVE … — legal holds");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  guint64 id = 0;
  CdHoldKind kind = CD_HOLD_PATIENT;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Actions:\n"
                                    "  add ARCHIVE patient MRN --reason R [--matter M]\n"
                                    "  add ARCHIVE document ID --reason R [--matter M]\n"
                                    "  add ARCHIVE search [--text W] [--mrn M] [--type T] [--from D] [--to D] "
                                    "--reason R\n"
                                    "                  every document the search matches, now and later\n"
                                    "                  (SQLite archives only: a server hold names a patient or a "
                                    "document)\n"
                                    "  list ARCHIVE [--mrn MRN | --document ID] [--all] [--json]\n"
                                    "  release ARCHIVE HOLD --reason R   (administrators only)\n"
                                    "ARCHIVE is a SQLite archive or the hospital's server (postgresql://…).");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc < 3 || !g_strv_contains((const gchar *const[]){ "add", "list", "release", NULL }, argv[1]))
    return cd_cli_usage(ctx, "give add, list or release and an archive");

  /* the arguments' shape, the same on both backends */
  if (g_strcmp0(argv[1], "list") == 0) {
    if (argc != 3)
      return cd_cli_usage(ctx, "list takes an archive and options");
  } else if (g_strcmp0(argv[1], "release") == 0) {
    if (argc != 4 || !g_ascii_string_to_unsigned(argv[3], 10, 1, G_MAXINT64, &id, NULL))
      return cd_cli_usage(ctx, "release needs an archive and a hold number");
  } else if (argc >= 4 && g_strcmp0(argv[3], "patient") == 0 && argc == 5) {
    kind = CD_HOLD_PATIENT;
  } else if (argc >= 4 && g_strcmp0(argv[3], "document") == 0 && argc == 5 &&
             g_ascii_string_to_unsigned(argv[4], 10, 1, G_MAXINT64, &id, NULL)) {
    kind = CD_HOLD_DOCUMENT;
  } else if (argc == 4 && g_strcmp0(argv[3], "search") == 0) {
    kind = CD_HOLD_SEARCH;
  } else {
    return cd_cli_usage(ctx, "add needs an archive and: patient MRN, document ID or search");
  }

  if (cd_archive_location_is_server(argv[2]))
    return cd_cli_hold_server(argv[1], argv[2], kind, kind == CD_HOLD_PATIENT && argc == 5 ? argv[4] : NULL,
                              (gint64) id, &o);

  if (g_strcmp0(argv[1], "list") == 0) {
    g_autoptr(GPtrArray) holds = NULL;
    g_autoptr(JsonNode) node = NULL;
    archive = cd_cli_retention_open(argv[2], CD_ARCHIVE_FLAG_NONE, o.user, &error);
    if (archive == NULL)
      return cd_cli_fail(error);
    holds = cd_archive_list_holds(archive, o.mrn, o.document, o.all, &error);
    if (holds == NULL)
      return cd_cli_fail(error);
    node = cd_legal_holds_to_json(holds);
    if (o.json)
      cd_cli_print_json(node);
    else
      cd_cli_print_holds(json_node_get_array(node));
    return CD_EXIT_OK;
  }

  if (g_strcmp0(argv[1], "release") == 0) {
    archive = cd_cli_retention_open(argv[2], CD_ARCHIVE_FLAG_NONE, o.user, &error);
    if (archive == NULL || !cd_archive_release_hold(archive, (gint64) id, o.reason, &error))
      return cd_cli_fail(error);
    g_print("hold %" G_GUINT64_FORMAT " released\n", id);
    return CD_EXIT_OK;
  }

  /* add */
  {
    CdSearchQuery query = { 0 };
    g_auto(GStrv) types = NULL;
    gint64 hold;

    if (kind == CD_HOLD_SEARCH && o.type != NULL) {
      g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_default(&error);
      if (taxonomy == NULL)
        return cd_cli_fail(error);
      types = cd_taxonomy_resolve_search(taxonomy, o.type, &error);
      if (types == NULL)
        return cd_cli_fail(error);
    }
    query.text = o.text;
    query.mrn = o.mrn;
    query.doc_type = o.type;
    query.doc_types = (const gchar *const *) types;
    query.date_from = o.from;
    query.date_to = o.to;
    archive = cd_cli_retention_open(argv[2], CD_ARCHIVE_FLAG_NONE, o.user, &error);
    if (archive == NULL)
      return cd_cli_fail(error);
    hold = cd_archive_place_hold(archive, kind, kind == CD_HOLD_PATIENT ? argv[4] : NULL,
                                 kind == CD_HOLD_DOCUMENT ? (gint64) id : 0, kind == CD_HOLD_SEARCH ? &query : NULL,
                                 o.reason, o.matter, &error);
    if (hold == 0)
      return cd_cli_fail(error);
    cd_cli_print_hold_placed(hold, o.json);
    return CD_EXIT_OK;
  }
}
