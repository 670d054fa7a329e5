/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk check`: an archive's images, index and audit chain verified.
 */
#include "config.h"

#include <stdio.h>

#include "cd-cli-private.h"

typedef struct {
  gint64 started;
  gint64 last;      /* when a line was last printed */
  const gchar *step;
  gint64 step_started;
} CdCheckReport;

/* A line to stderr naming each step as it begins (some run long before
 * they can say how far they are: SQLite's check of every b-tree is one
 * statement step, FTS5's of its index another), and within a step one line
 * at most every CD_CHECK_EVERY seconds, how far it is and the time so far. */
#define CD_CHECK_EVERY 2

static void
cd_cli_check_progress(const gchar *step, guint64 done, guint64 total, gpointer user_data)
{
  CdCheckReport *report = user_data;
  gint64 now = g_get_monotonic_time();

  if (g_strcmp0(report->step, step) != 0) {
    report->step = step;
    report->step_started = now;
    report->last = now;
    if (total > 0)
      g_printerr("check: %s (%" G_GUINT64_FORMAT "), %.0f s in all\n", step, total, (now - report->started) / 1e6);
    else
      g_printerr("check: %s, %.0f s in all\n", step, (now - report->started) / 1e6);
    return;
  }
  if (now - report->last < CD_CHECK_EVERY * G_USEC_PER_SEC)
    return;
  report->last = now;
  if (total > 0)
    g_printerr("check: %s: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " (%.0f%%), %.0f s in all\n", step, done,
               total, 100.0 * done / total, (now - report->started) / 1e6);
  else
    g_printerr("check: %s (for %.0f s), %.0f s in all\n", step, (now - report->step_started) / 1e6,
               (now - report->started) / 1e6);
}

gint
cd_cli_check(gint argc, gchar **argv)
{
  const GOptionEntry entries[] = { { NULL } };
  g_autoptr(GOptionContext) ctx = g_option_context_new("ARCHIVE — verify an archive");
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  CdCheckReport report = { 0 };

  g_option_context_add_main_entries(ctx, entries, NULL);
  cd_cli_add_archive_options(ctx);
  g_option_context_set_summary(ctx, "Checks the database, the checksum of every stored image, orphans, pages "
                                    "without text,\nthe full-text index, destroyed documents (no image, text or "
                                    "index term left, nothing\ndestroyed under a legal hold) and the audit log (its "
                                    "keyed chain and anchor, as\n`chartdesk audit verify`). It names each step "
                                    "on stderr as it begins, and\nwithin a long step says how far it is every 2 "
                                    "seconds. On a PostgreSQL archive\n(postgresql://…): its audit chains, as "
                                    "`chartdesk audit verify`.");
  if (!cd_cli_parse(ctx, &argc, &argv, &error))
    return cd_cli_usage(ctx, error->message);
  if (argc != 2)
    return cd_cli_usage(ctx, "check needs one archive");
  /* the server: its audit chains (the server's own, every station's) */
  if (cd_archive_location_is_server(argv[1]))
    return cd_cli_audit_verify_server(argv[1], NULL, FALSE);
  archive = cd_cli_open_archive(argv[1], CD_ARCHIVE_FLAG_NONE, &error);
  report.started = report.last = g_get_monotonic_time();
  if (archive == NULL || !cd_archive_check_with_progress(archive, cd_cli_check_progress, &report, &problems, &error)) {
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
