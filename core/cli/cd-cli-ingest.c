/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk ingest`: a batch run here with a progress line, or on chartdeskd.
 */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>
#include <unistd.h>

#include "cd-cli-private.h"
#include "cd-param-private.h"

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

gint
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
    cd_cli_set_user(archive, opt_user);
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
