/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk check`: an archive's images, index and audit chain verified.
 */
#include "config.h"

#include <stdio.h>

#include "cd-cli-private.h"

#include <sys/resource.h>

typedef struct {
  gint64 started;
  gint64 last;  /* when a line was last printed */
  guint index;  /* the step being run */
  gboolean any; /* a step has begun */
} CdCheckReport;

/* A line to stderr naming each step as it begins, with the time and CPU
 * time so far (a step's cost is the difference to the next line), and
 * within a step one line at most every CD_CHECK_EVERY seconds saying how
 * far it is. Never on standard output: --json stays a document. */
#define CD_CHECK_EVERY 2

static gdouble
cd_cli_check_cpu_seconds(void)
{
  struct rusage usage;

  if (getrusage(RUSAGE_SELF, &usage) != 0)
    return 0;
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

/* "412 MiB of 1.7 GiB (23%)", "412 MiB read", "3000 of 12000 (25%)" */
static gchar *
cd_cli_check_amount(const CdCheckProgressInfo *info)
{
  if (info->unit == CD_CHECK_UNIT_BYTES) {
    g_autofree gchar *done = g_format_size_full(info->done, G_FORMAT_SIZE_IEC_UNITS);
    g_autofree gchar *total = NULL;
    if (info->total == 0)
      return g_strdup_printf("%s read", done);
    total = g_format_size_full(info->total, G_FORMAT_SIZE_IEC_UNITS);
    return g_strdup_printf("%s of %s read (%.0f%%)", done, total, 100.0 * info->done / info->total);
  }
  if (info->unit == CD_CHECK_UNIT_ITEMS && info->total > 0)
    return g_strdup_printf("%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " (%.0f%%)", info->done, info->total,
                           100.0 * info->done / info->total);
  return NULL;
}

static void
cd_cli_check_progress(const CdCheckProgressInfo *info, gpointer user_data)
{
  CdCheckReport *report = user_data;
  gint64 now = g_get_monotonic_time();
  g_autofree gchar *amount = NULL;

  if (!report->any || info->index != report->index) {
    report->any = TRUE;
    report->index = info->index;
    report->last = now;
    if (info->unit == CD_CHECK_UNIT_ITEMS && info->total > 0)
      g_printerr("check: step %u of %u: %s (%" G_GUINT64_FORMAT "), %.1f s in all, %.2f s CPU\n", info->index + 1,
                 info->n_steps, info->step, info->total, (now - report->started) / 1e6, cd_cli_check_cpu_seconds());
    else
      g_printerr("check: step %u of %u: %s, %.1f s in all, %.2f s CPU\n", info->index + 1, info->n_steps, info->step,
                 (now - report->started) / 1e6, cd_cli_check_cpu_seconds());
    return;
  }
  if (now - report->last < CD_CHECK_EVERY * G_USEC_PER_SEC)
    return;
  report->last = now;
  amount = cd_cli_check_amount(info);
  g_printerr("check: %s: %s, %.0f s in all\n", info->step, amount != NULL ? amount : "still running",
             (now - report->started) / 1e6);
}

static gint
cd_cli_check_print_json(const gchar *archive, GPtrArray *problems)
{
  g_autoptr(JsonBuilder) builder = json_builder_new();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "archive");
  json_builder_add_string_value(builder, archive);
  json_builder_set_member_name(builder, "ok");
  json_builder_add_boolean_value(builder, problems->len == 0);
  json_builder_set_member_name(builder, "problems");
  json_builder_begin_array(builder);
  for (guint i = 0; i < problems->len; i++)
    json_builder_add_string_value(builder, g_ptr_array_index(problems, i));
  json_builder_end_array(builder);
  json_builder_end_object(builder);
  root = json_builder_get_root(builder);
  cd_cli_print_json(root);
  return problems->len == 0 ? CD_EXIT_OK : CD_EXIT_FAILED;
}

gint
cd_cli_check(gint argc, gchar **argv)
{
  gboolean opt_json = FALSE;
  gboolean opt_quiet = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the findings as JSON (progress stays on stderr)", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, "No progress lines on stderr", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE — verify an archive");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  CdCheckReport report = { 0 };

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Checks the database (SQLite's integrity check: every page, then every row "
                                    "against its indexes),\nthe checksum of every stored image, orphans, pages "
                                    "without text, destroyed documents (no image,\ntext or index term left, "
                                    "nothing destroyed under a legal hold), the full-text index and\nthe audit "
                                    "log (its keyed chain and anchor, as `chartdesk audit verify`). It names "
                                    "each\nstep on stderr as it begins, with the time and CPU time so far, and "
                                    "within a step says\nhow far it is (bytes of the file read, images) every 2 "
                                    "seconds. On a PostgreSQL archive\n(postgresql://…): its audit chains, as "
                                    "`chartdesk audit verify`.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 2)
    return cd_cli_usage(ctx, "check needs one archive");
  /* the server: its audit chains (the server's own, every station's) */
  if (cd_archive_location_is_server(argv[1]))
    return cd_cli_audit_verify_server(argv[1], NULL, opt_json);
  archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_NONE, &error);
  report.started = report.last = g_get_monotonic_time();
  if (archive == NULL ||
      !cd_archive_check_with_progress(archive, opt_quiet ? NULL : cd_cli_check_progress, &report, &problems, &error)) {
    cd_cli_print_error(error);
    return CD_EXIT_FAILED;
  }
  if (!opt_quiet)
    g_printerr("check: done, %.1f s in all, %.2f s CPU\n", (g_get_monotonic_time() - report.started) / 1e6,
               cd_cli_check_cpu_seconds());
  if (opt_json)
    return cd_cli_check_print_json(argv[1], problems);
  if (problems->len == 0) {
    g_print("%s: no problems found\n", argv[1]);
    return CD_EXIT_OK;
  }
  for (guint i = 0; i < problems->len; i++)
    g_print("%s: %s\n", argv[1], (gchar *) g_ptr_array_index(problems, i));
  return CD_EXIT_FAILED;
}
