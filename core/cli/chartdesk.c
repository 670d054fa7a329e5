/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk`: the command line. Each subcommand parses its own options and
 * calls libchartdesk; nothing here touches SQL or pixels directly.
 */
#include "config.h"

#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "cd-engine.h"
#include "cd-cli-classify-test-private.h"
#include "cd-cli-private.h"
#include "cd-param-private.h"

/* ---------------------------------------------------------------- ingest */

typedef struct {
  gboolean tty;
  gint64 last_draw;
} CdProgressState;

static void
cd_cli_progress(const CdProgress *p, gpointer user_data)
{
  CdProgressState *state = user_data;
  gint64 now = g_get_monotonic_time();
  gdouble rate = p->elapsed > 0 ? 60.0 * p->pages_done / p->elapsed : 0;
  g_autofree gchar *base = p->path != NULL ? g_path_get_basename(p->path) : g_strdup("");
  const guint width = 24;

  if (!state->tty)
    return;
  if (now - state->last_draw < G_USEC_PER_SEC / 10)
    return;
  state->last_draw = now;
  fputs("\r\033[K", stderr);
  if (p->inputs_total > 0) {
    guint filled = MIN(width, p->inputs_done * width / p->inputs_total);
    fputc('[', stderr);
    for (guint i = 0; i < width; i++)
      fputc(i < filled ? '#' : '.', stderr);
    fprintf(stderr, "] %u/%u files", p->inputs_done, p->inputs_total);
  }
  fprintf(stderr, "  %u pages  %.1f pages/min  %s", p->pages_done, rate, base);
  fflush(stderr);
  cd_cli_set_progress_visible(TRUE);
}

typedef struct {
  CdPipeline *pipeline;
  const gchar *const *inputs;
  GCancellable *cancellable;
  CdBatch *batch;
  GError *error;
  GMainLoop *loop;
} CdIngestJob;

static gboolean
cd_cli_quit_idle(gpointer data)
{
  g_main_loop_quit(data);
  return G_SOURCE_REMOVE;
}

static gpointer
cd_cli_ingest_thread(gpointer data)
{
  CdIngestJob *job = data;
  job->batch = cd_pipeline_run(job->pipeline, job->inputs, job->cancellable, &job->error);
  g_idle_add(cd_cli_quit_idle, job->loop);
  return NULL;
}

static gboolean
cd_cli_on_sigint(gpointer data)
{
  GCancellable *cancellable = data;
  cd_cli_clear_progress();
  fprintf(stderr, "chartdesk: stopping after the pages in progress (documents already archived stay)\n");
  g_cancellable_cancel(cancellable);
  return G_SOURCE_REMOVE;
}

static gint
cd_cli_ingest(gint argc, gchar **argv)
{
  gboolean opt_verbose = FALSE;
  gboolean opt_service = FALSE;    /* --service: through chartdeskd */
  gboolean opt_no_service = FALSE; /* --no-service: never through chartdeskd */
  g_autofree gchar *opt_workflow = NULL;
  g_auto(GStrv) opt_set = NULL;
  gint opt_workers = -1;
  gboolean opt_json = FALSE;
  gboolean opt_quiet = FALSE;
  g_autofree gchar *opt_user = NULL;
  const GOptionEntry entries[] = {
    { "workflow", 'w', 0, G_OPTION_ARG_STRING, &opt_workflow, "Workflow name or file (default: chart-intake)", "NAME" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &opt_set, "Override a stage option", "STAGE.OPTION=VALUE" },
    { "workers", 'j', 0, G_OPTION_ARG_INT, &opt_workers, "Worker threads (default: one per core)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the batch report as JSON", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, "No progress bar, only the report", NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who to record in the audit log (default: login name)", "NAME" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose, "Say more about what is happening", NULL },
    { "service", 0, 0, G_OPTION_ARG_NONE, &opt_service, "Run the batch on chartdeskd (default: when it runs)", NULL },
    { "no-service", 0, 0, G_OPTION_ARG_NONE, &opt_no_service, "Run here even if chartdeskd runs", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx =
      g_option_context_new("ARCHIVE INPUT… — scan files, folders or scanners into an archive");
  g_autoptr(CdDBusChartdesk1) service = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdRegistry) registry = NULL;
  g_autoptr(CdWorkflow) workflow = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(CdPipeline) pipeline = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree gchar *workflow_file = NULL;
  g_autoptr(GPtrArray) inputs = g_ptr_array_new();
  CdProgressState progress = { 0 };
  CdIngestJob job = { 0 };
  GThread *thread;
  guint sigint_id;
  gint status;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Runs the workflow over every page of its inputs and archives the result. The "
                                    "archive is created if needed.\n\n"
                                    "With a workflow reading files (chart-intake, the default), the inputs are files "
                                    "and folders\n(folders are read recursively in name order); files already in "
                                    "the archive are skipped.\n"
                                    "With a workflow whose source is a scanner (scan-intake), the inputs are scanner "
                                    "device names,\nas `chartdesk scanners` lists them, or `default` for the "
                                    "workflow's device or the first scanner:\n"
                                    "  chartdesk ingest -w scan-intake box12.archive fujitsu:fi-7160:1234");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc < 3)
    return cd_cli_usage(ctx, "ingest needs an archive and at least one file, folder or scanner");
  cd_cli_set_verbose(opt_verbose);

  service = cd_client_connect(cd_cli_service_mode(opt_service, opt_no_service), &error);
  if (error != NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (service != NULL)
    return cd_client_ingest(service, argv[1], (const gchar *const *) argv + 2, opt_workflow,
                            (const gchar *const *) opt_set, opt_workers, opt_json, opt_quiet);

  registry = cd_cli_load_registry();
  workflow_file = cd_workflow_find(opt_workflow != NULL ? opt_workflow : "chart-intake", &error);
  if (workflow_file == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  workflow = cd_workflow_new_from_file(registry, workflow_file, &error);
  if (workflow == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  for (guint i = 0; opt_set != NULL && opt_set[i] != NULL; i++) {
    g_autofree gchar *stage = NULL;
    g_autofree gchar *option = NULL;
    g_autofree gchar *value = NULL;
    if (!cd_param_parse_assignment(opt_set[i], &stage, &option, &value, NULL))
      return cd_cli_usage(ctx, "--set takes STAGE.OPTION=VALUE");
    /* a bad --set is a bad command line, like any other option */
    if (!cd_workflow_set_option(workflow, stage, option, value, &error)) {
      cd_cli_print_error(error);
      return CD_EXIT_USAGE;
    }
  }
  if (opt_workers >= 0)
    cd_workflow_set_workers(workflow, opt_workers);

  archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  if (archive == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (opt_user != NULL)
    cd_archive_set_actor(archive, opt_user);
  for (gint i = 2; i < argc; i++)
    g_ptr_array_add(inputs, argv[i]);
  g_ptr_array_add(inputs, NULL);

  pipeline = cd_pipeline_new(workflow, archive);
  progress.tty = !opt_quiet && !opt_json && isatty(STDERR_FILENO);
  cd_pipeline_set_progress_func(pipeline, cd_cli_progress, &progress);
  g_info("workflow %s (%s), %u workers", cd_workflow_get_name(workflow), cd_workflow_get_origin(workflow),
         cd_pipeline_get_n_workers(pipeline));

  loop = g_main_loop_new(NULL, FALSE);
  job.pipeline = pipeline;
  job.inputs = (const gchar *const *) inputs->pdata;
  job.cancellable = cancellable;
  job.loop = loop;
  sigint_id = g_unix_signal_add(SIGINT, cd_cli_on_sigint, cancellable);
  thread = g_thread_new("cd-ingest", cd_cli_ingest_thread, &job);
  g_main_loop_run(loop);
  g_thread_join(thread);
  if (!g_cancellable_is_cancelled(cancellable))
    g_source_remove(sigint_id);
  cd_cli_clear_progress();

  if (job.batch == NULL) {
    cd_cli_print_error(job.error);
    g_clear_error(&job.error);
    return CD_EXIT_FAILED;
  }
  if (opt_json) {
    g_autoptr(JsonNode) node = cd_batch_to_json(job.batch);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autofree gchar *text = NULL;
    json_generator_set_root(gen, node);
    json_generator_set_pretty(gen, TRUE);
    text = json_generator_to_data(gen, NULL);
    g_print("%s\n", text);
  } else {
    g_autofree gchar *text = cd_batch_to_text(job.batch);
    g_print("%s", text);
  }
  status = cd_batch_get_count(job.batch, CD_BATCH_OUTCOME_FAILED) > 0 ? CD_EXIT_PARTIAL : CD_EXIT_OK;
  if (g_strcmp0(cd_batch_get_status(job.batch), "cancelled") == 0)
    status = CD_EXIT_FAILED;
  g_object_unref(job.batch);
  return status;
}

/* ---------------------------------------------------------------- search */

static gint
cd_cli_search(gint argc, gchar **argv)
{
  gboolean opt_service = FALSE;
  gboolean opt_no_service = FALSE;
  g_autofree gchar *opt_mrn = NULL;
  g_autofree gchar *opt_type = NULL;
  g_autofree gchar *opt_from = NULL;
  g_autofree gchar *opt_to = NULL;
  g_autofree gchar *opt_user = NULL;
  g_autofree gchar *opt_purpose = NULL;
  gint opt_limit = 20;
  gint opt_offset = 0;
  gboolean opt_plain = FALSE;
  gboolean opt_json = FALSE;
  const GOptionEntry entries[] = {
    { "mrn", 'm', 0, G_OPTION_ARG_STRING, &opt_mrn, "Only this patient's documents", "MRN" },
    { "type", 't', 0, G_OPTION_ARG_STRING, &opt_type, "Only documents of this type", "TYPE" },
    { "from", 0, 0, G_OPTION_ARG_STRING, &opt_from, "Only documents dated on or after", "YYYY-MM-DD" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &opt_to, "Only documents dated on or before", "YYYY-MM-DD" },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &opt_limit, "At most this many hits (default 20)", "N" },
    { "offset", 0, 0, G_OPTION_ARG_INT, &opt_offset, "Skip this many hits", "N" },
    { "plain", 0, 0, G_OPTION_ARG_NONE, &opt_plain, "Search the words as typed, never as FTS5 syntax", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who to record in the audit log", "NAME" },
    { "purpose", 'p', 0, G_OPTION_ARG_STRING, &opt_purpose, "Why, for the audit log (a request number)", "TEXT" },
    { "service", 0, 0, G_OPTION_ARG_NONE, &opt_service, "Search through chartdeskd (default: when it runs)", NULL },
    { "no-service", 0, 0, G_OPTION_ARG_NONE, &opt_no_service, "Search here even if chartdeskd runs", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE [WORDS…] — find pages by words, patient, type, date");
  g_autoptr(CdDBusChartdesk1) service = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autofree gchar *text = NULL;
  g_auto(GStrv) types = NULL;
  CdSearchQuery query = { 0 };

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Plain words must all appear on a page. Quotes, parentheses, * prefixes and "
                                    "AND/OR/NOT/NEAR make the text an SQLite FTS5 query:\n"
                                    "  chartdesk search charts.archive '\"chest pain\" OR dyspnea'\n"
                                    "--type takes a type of the taxonomy by its name, an alias or a former name, "
                                    "and finds\ndocuments stored under its current and former names.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc < 2)
    return cd_cli_usage(ctx, "search needs an archive");
  if (opt_limit <= 0 || opt_offset < 0)
    return cd_cli_usage(ctx, "--limit must be positive and --offset not negative");

  service = cd_client_connect(cd_cli_service_mode(opt_service, opt_no_service), &error);
  if (error != NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (service == NULL) {
    archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_NONE, &error);
    if (archive == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    if (opt_user != NULL)
      cd_archive_set_actor(archive, opt_user);
    cd_archive_set_purpose(archive, opt_purpose);
  }
  /* through the service, the service reads the type with its taxonomy */
  if (service == NULL && opt_type != NULL) {
    g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_default(&error);
    if (taxonomy == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    types = cd_taxonomy_resolve_search(taxonomy, opt_type, &error);
    if (types == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_USAGE;
    }
  }
  if (argc > 2)
    text = g_strjoinv(" ", argv + 2);
  query.text = text;
  query.plain = opt_plain;
  query.mrn = opt_mrn;
  query.doc_type = opt_type;
  query.doc_types = (const gchar *const *) types;
  query.date_from = opt_from;
  query.date_to = opt_to;
  query.limit = opt_limit;
  query.offset = opt_offset;
  if (service != NULL)
    hits = cd_client_search(service, argv[1], &query, opt_purpose, &error);
  else
    hits = cd_archive_search(archive, &query, &error);
  if (hits == NULL) {
    cd_cli_print_error(error);
    return error->code == CD_ERROR_QUERY ? CD_EXIT_USAGE : CD_EXIT_FAILED;
  }
  if (opt_json) {
    g_autoptr(JsonNode) root = cd_search_hits_to_json(hits, text);
    g_autofree gchar *out = json_to_string(root, TRUE);
    g_print("%s\n", out);
    return CD_EXIT_OK;
  }
  if (hits->len == 0) {
    g_print("No matches.\n");
    return CD_EXIT_OK;
  }
  for (guint i = 0; i < hits->len; i++) {
    CdSearchHit *hit = g_ptr_array_index(hits, i);
    g_print("%u. document %" G_GINT64_FORMAT ", page %" G_GINT64_FORMAT "  MRN %s  %s  %s  [%s]\n",
            query.offset + i + 1, hit->document_id, hit->page_id, hit->patient_mrn != NULL ? hit->patient_mrn : "-",
            hit->doc_type != NULL ? hit->doc_type : "-", hit->date != NULL ? hit->date : "-",
            hit->status != NULL ? hit->status : "set aside");
    g_print("   %s, page %d\n", hit->source_path, hit->source_page + 1);
    if (hit->snippet != NULL) {
      g_autofree gchar *snip = g_strdup(hit->snippet);
      g_strdelimit(snip, "\n\r\f", ' ');
      g_print("   %s\n", snip);
    }
  }
  return CD_EXIT_OK;
}

/* ------------------------------------------------------------------ show */

/* Accepts `document:12`, `page:40` or a bare document id. */
static gboolean
cd_cli_parse_ref(const gchar *ref, gboolean *is_page, gint64 *id)
{
  const gchar *num = ref;
  guint64 v;

  *is_page = FALSE;
  if (g_str_has_prefix(ref, "page:")) {
    *is_page = TRUE;
    num = ref + 5;
  } else if (g_str_has_prefix(ref, "document:")) {
    num = ref + 9;
  } else if (g_str_has_prefix(ref, "doc:")) {
    num = ref + 4;
  }
  if (!g_ascii_string_to_unsigned(num, 10, 1, G_MAXINT64, &v, NULL))
    return FALSE;
  *id = v;
  return TRUE;
}

static gint
cd_cli_show(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  g_autofree gchar *opt_image = NULL;
  gint opt_page = 1;
  g_autofree gchar *opt_user = NULL;
  g_autofree gchar *opt_purpose = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON, word boxes included", NULL },
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &opt_image, "Write the page image to FILE (.png, .tif, .jpg)", "FILE" },
    { "page", 0, 0, G_OPTION_ARG_INT, &opt_page, "With a document and --image: which page (default 1)", "N" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who to record in the audit log", "NAME" },
    { "purpose", 'p', 0, G_OPTION_ARG_STRING, &opt_purpose, "Why, for the audit log", "TEXT" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE document:ID|page:ID — show a document or page");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(JsonNode) node = NULL;
  gboolean is_page;
  gint64 id;
  gint64 image_page = 0;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 3)
    return cd_cli_usage(ctx, "show needs an archive and one document or page");
  if (!cd_cli_parse_ref(argv[2], &is_page, &id))
    return cd_cli_usage(ctx, "give document:ID, page:ID or a document id");

  archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_NONE, &error);
  if (archive == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (opt_user != NULL)
    cd_archive_set_actor(archive, opt_user);
  cd_archive_set_purpose(archive, opt_purpose);
  node = is_page ? cd_archive_get_page(archive, id, &error) : cd_archive_get_document(archive, id, &error);
  if (node == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }

  if (is_page) {
    image_page = id;
  } else if (opt_image != NULL) {
    JsonArray *pages = json_object_get_array_member(json_node_get_object(node), "pages");
    if (opt_page < 1 || (guint) opt_page > json_array_get_length(pages)) {
      fprintf(stderr, "chartdesk: document %" G_GINT64_FORMAT " has %u pages, not %d\n", id,
              json_array_get_length(pages), opt_page);
      return CD_EXIT_FAILED;
    }
    image_page = json_object_get_int_member(json_array_get_object_element(pages, opt_page - 1), "id");
  }
  if (opt_image != NULL && !cd_cli_write_page_image(archive, image_page, opt_image, &error)) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }

  if (opt_json) {
    g_autofree gchar *out = json_to_string(node, TRUE);
    g_print("%s\n", out);
  } else {
    cd_cli_print_record(node, is_page);
  }
  return CD_EXIT_OK;
}

/* ---------------------------------------------------------------- export */

static gint
cd_cli_export(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  gboolean opt_words = FALSE;
  g_autofree gchar *opt_user = NULL;
  g_autofree gchar *opt_purpose = NULL;
  g_autofree gchar *opt_output = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "JSON Lines, one document or set-aside page a line", NULL },
    { "words", 0, 0, G_OPTION_ARG_NONE, &opt_words, "Include word boxes", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output, "Write to FILE instead of standard output", "FILE" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who to record in the audit log", "NAME" },
    { "purpose", 'p', 0, G_OPTION_ARG_STRING, &opt_purpose, "Why, for the audit log", "TEXT" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("--json ARCHIVE — export the archive");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GOutputStream) out = NULL;
  g_autoptr(GOutputStream) buffered = NULL;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "The format is a stable interface, documented in the README.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 2)
    return cd_cli_usage(ctx, "export needs one archive");
  if (!opt_json)
    return cd_cli_usage(ctx, "only --json export exists so far");

  archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_NONE, &error);
  if (archive == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (opt_user != NULL)
    cd_archive_set_actor(archive, opt_user);
  cd_archive_set_purpose(archive, opt_purpose);
  if (opt_output != NULL) {
    g_autoptr(GFile) file = g_file_new_for_path(opt_output);
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
  if (!cd_archive_export_jsonl(archive, buffered, opt_words, NULL, &error) ||
      !g_output_stream_close(buffered, NULL, &error)) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  return CD_EXIT_OK;
}

/* ---------------------------------------------------------------- review */

static gint
cd_cli_review(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  gboolean opt_all = FALSE;
  g_autofree gchar *opt_mrn = NULL;
  g_autofree gchar *opt_why = NULL;
  g_autofree gchar *opt_user = NULL;
  g_autofree gchar *opt_image = NULL;
  g_autofree gchar *opt_type = NULL;
  gint opt_at = 0;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print JSON", NULL },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &opt_all, "list: include decided items", NULL },
    { "mrn", 'm', 0, G_OPTION_ARG_STRING, &opt_mrn, "assign: the patient's MRN", "MRN" },
    { "at", 0, 0, G_OPTION_ARG_INT, &opt_at, "split: first page of the new document (1-based)", "N" },
    { "type", 't', 0, G_OPTION_ARG_STRING, &opt_type, "type: the document type", "TYPE" },
    { "why", 'w', 0, G_OPTION_ARG_STRING, &opt_why, "The reason for a decision, for the audit log (required)", "TEXT" },
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &opt_image, "show: write the first page image to FILE", "FILE" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &opt_user, "Who decides (default: login name)", "NAME" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ACTION ARCHIVE [ID…] — work the review queue");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  const gchar *action;
  gint64 id = 0, other = 0;
  gboolean is_page = FALSE;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Actions:\n"
                                    "  list ARCHIVE                          open items (--all: decided ones too)\n"
                                    "  show ARCHIVE DOCUMENT                 the document, its reasons and findings\n"
                                    "  assign ARCHIVE DOCUMENT --mrn M --why  file it to a patient\n"
                                    "  split ARCHIVE DOCUMENT --at N --why   a new document from page N on\n"
                                    "  merge ARCHIVE INTO FROM --why          append FROM's pages to INTO\n"
                                    "  resolve ARCHIVE ITEM --why             close an item (a page rescanned)\n"
                                    "  type ARCHIVE DOCUMENT --type T --why   set the document type\n"
                                    "Every decision is written to the audit log with who and why.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc < 3)
    return cd_cli_usage(ctx, "review needs an action and an archive");
  action = argv[1];
  if (!g_strv_contains((const gchar *const[]){ "list", "show", "assign", "split", "merge", "resolve", "type", NULL },
                       action))
    return cd_cli_usage(ctx, "unknown review action");
  if (g_strcmp0(action, "list") != 0) {
    if (argc < 4 || !cd_cli_parse_ref(argv[3], &is_page, &id))
      return cd_cli_usage(ctx, "give a document (or review item) id");
  }
  if (g_strcmp0(action, "merge") == 0 && (argc < 5 || !cd_cli_parse_ref(argv[4], &is_page, &other)))
    return cd_cli_usage(ctx, "merge needs two document ids: INTO FROM");
  archive = cd_cli_open_archive(argv[2], CD_ARCHIVE_FLAG_NONE, &error);
  if (archive == NULL) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (opt_user != NULL)
    cd_archive_set_actor(archive, opt_user);

  if (g_strcmp0(action, "list") == 0) {
    g_autoptr(GPtrArray) items = cd_archive_list_review(archive, opt_all, &error);
    if (items == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    cd_cli_print_review(items, opt_json);
    return CD_EXIT_OK;
  }
  if (g_strcmp0(action, "show") == 0) {
    g_autoptr(JsonNode) node = cd_archive_get_document(archive, id, &error);
    if (node == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    if (opt_image != NULL) {
      JsonArray *pages = json_object_get_array_member(json_node_get_object(node), "pages");
      gint64 page_id = json_object_get_int_member(json_array_get_object_element(pages, 0), "id");
      if (!cd_cli_write_page_image(archive, page_id, opt_image, &error)) {
        cd_cli_print_error(error);
        return CD_EXIT_FAILED;
      }
    }
    if (opt_json) {
      g_autofree gchar *out = json_to_string(node, TRUE);
      g_print("%s\n", out);
    } else {
      cd_cli_print_record(node, FALSE);
    }
    return CD_EXIT_OK;
  }
  if (opt_why == NULL)
    return cd_cli_usage(ctx, "a decision needs --why");
  if (g_strcmp0(action, "assign") == 0) {
    if (opt_mrn == NULL)
      return cd_cli_usage(ctx, "assign needs --mrn");
    if (!cd_archive_review_assign(archive, id, opt_mrn, opt_why, &error)) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    g_print("document %" G_GINT64_FORMAT " filed to MRN %s\n", id, opt_mrn);
  } else if (g_strcmp0(action, "split") == 0) {
    gint64 new_id;
    if (opt_at < 2)
      return cd_cli_usage(ctx, "split needs --at N (2 or more)");
    new_id = cd_archive_review_split(archive, id, opt_at, opt_why, &error);
    if (new_id == 0) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    g_print("document %" G_GINT64_FORMAT " split: pages %d on are document %" G_GINT64_FORMAT " (in review)\n", id,
            opt_at, new_id);
  } else if (g_strcmp0(action, "type") == 0) {
    g_autoptr(CdTaxonomy) taxonomy = NULL;
    const gchar *type;
    if (opt_type == NULL)
      return cd_cli_usage(ctx, "type needs --type TYPE");
    taxonomy = cd_taxonomy_new_default(&error);
    if (taxonomy == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    type = cd_taxonomy_lookup(taxonomy, opt_type);
    if (type == NULL || cd_taxonomy_is_retired(taxonomy, type)) {
      fprintf(stderr, "chartdesk: '%s' is not a document type in use (see %s)\n", opt_type,
              cd_taxonomy_get_origin(taxonomy));
      return CD_EXIT_USAGE;
    }
    if (!cd_archive_review_set_type(archive, id, type, opt_why, &error)) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    g_print("document %" G_GINT64_FORMAT " is a %s\n", id, type);
  } else if (g_strcmp0(action, "merge") == 0) {
    if (!cd_archive_review_merge(archive, id, other, opt_why, &error)) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    g_print("document %" G_GINT64_FORMAT " merged into document %" G_GINT64_FORMAT "\n", other, id);
  } else {
    if (!cd_archive_review_resolve(archive, id, opt_why, &error)) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    g_print("review item %" G_GINT64_FORMAT " closed\n", id);
  }
  return CD_EXIT_OK;
}

/* ----------------------------------------------------------------- check */

static gint
cd_cli_check(gint argc, gchar **argv)
{
  const GOptionEntry entries[] = { { NULL } };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE — verify an archive");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GPtrArray) problems = NULL;

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Checks the database, the checksum of every stored image, orphans, pages "
                                    "without text,\nthe full-text index and the audit log (its keyed chain and "
                                    "anchor, as `chartdesk audit verify`).");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 2)
    return cd_cli_usage(ctx, "check needs one archive");
  archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_NONE, &error);
  if (archive == NULL || !cd_archive_check(archive, &problems, &error)) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (problems->len == 0) {
    g_print("%s: no problems found\n", argv[1]);
    return CD_EXIT_OK;
  }
  for (guint i = 0; i < problems->len; i++)
    g_print("%s: %s\n", argv[1], (gchar *) g_ptr_array_index(problems, i));
  return CD_EXIT_FAILED;
}

/* ------------------------------------------------------------------ mpi */

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

static gint
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
      cd_archive_set_actor(archive, opt_user);
    if (!cd_archive_import_patients(archive, patients, argv[3], &stats, &error)) {
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
    g_autoptr(GHashTable) docs = g_hash_table_new(g_int64_hash, g_int64_equal);
    g_autoptr(GPtrArray) unique = g_ptr_array_new();
    CdSearchQuery query = { 0 };

    archive = cd_cli_open_archive(argv[2], CD_ARCHIVE_FLAG_NONE, &error);
    if (archive == NULL) {
      cd_cli_print_error(error);
      return CD_EXIT_FAILED;
    }
    if (opt_user != NULL)
      cd_archive_set_actor(archive, opt_user);
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
    if (opt_json) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      g_autoptr(JsonNode) root = NULL;
      g_autofree gchar *text = NULL;
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "patient");
      cd_cli_patient_json(b, survivor);
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
    return CD_EXIT_OK;
  }
}

/* ------------------------------------------------------------------ main */

typedef struct {
  const gchar *name;
  gint (*func)(gint argc, gchar **argv);
  const gchar *summary;
} CdCommand;

static const CdCommand commands[] = {
  { "ingest", cd_cli_ingest, "Scan files, folders or scanners into an archive" },
  { "search", cd_cli_search, "Find pages by words, patient, document type and date" },
  { "show", cd_cli_show, "Show a document or page; write a page image" },
  { "export", cd_cli_export, "Export an archive as JSON Lines" },
  { "review", cd_cli_review, "List and decide what the machine could not prove" },
  { "mpi", cd_cli_mpi, "Import and show the master patient index" },
  { "check", cd_cli_check, "Verify an archive: images, index, audit chain" },
  { "audit", cd_cli_audit, "Verify an archive's audit log (the first bad entry)" },
  { "classify", cd_cli_classify, "Train, measure and test document-type classifiers" },
  { "plugins", cd_cli_plugins, "List plugins, their stages and options" },
  { "scanners", cd_cli_scanners, "List the scanners to scan from (SANE)" },
};

static void
cd_cli_print_commands(FILE *out)
{
  fprintf(out, "Usage: chartdesk COMMAND [OPTION…] ARGUMENTS\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
    fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nRun `chartdesk COMMAND --help` for a command's options.\n");
}

int
main(int argc, char **argv)
{
  setlocale(LC_ALL, "");
  g_log_set_writer_func(cd_cli_log_writer, NULL, NULL);

  if (argc < 2) {
    cd_cli_print_commands(stderr);
    return CD_EXIT_USAGE;
  }
  if (g_strcmp0(argv[1], "--help") == 0 || g_strcmp0(argv[1], "-h") == 0 || g_strcmp0(argv[1], "help") == 0) {
    cd_cli_print_commands(stdout);
    return CD_EXIT_OK;
  }
  if (g_strcmp0(argv[1], "--version") == 0) {
    g_print("chartdesk %s\n", PACKAGE_VERSION);
    return CD_EXIT_OK;
  }
  /* the plugin author's harness lives in cd-cli-classify-test.c */
  if (argc > 2 && g_strcmp0(argv[1], "classify") == 0 && g_strcmp0(argv[2], "test") == 0) {
    g_set_prgname("chartdesk classify test");
    return cd_cli_classify_test(argc - 2, argv + 2);
  }
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
    if (g_strcmp0(argv[1], commands[i].name) == 0) {
      g_autofree gchar *prgname = g_strdup_printf("chartdesk %s", commands[i].name);
      g_set_prgname(prgname);
      return commands[i].func(argc - 1, argv + 1);
    }
  }
  fprintf(stderr, "chartdesk: unknown command '%s'\n\n", argv[1]);
  cd_cli_print_commands(stderr);
  return CD_EXIT_USAGE;
}
