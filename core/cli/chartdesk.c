/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk`: the command line's entry point and its table of commands.
 * Each command is a file of its own (cd-cli-COMMAND.c) that parses its own
 * options and calls the engine; nothing in the command line touches SQL or
 * pixels directly.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>

#include "cd-engine.h"
#include "cd-cli-classify-test-private.h"
#include "cd-cli-private.h"

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
  { "users", cd_cli_users, "Add, list and change users and their roles (administrator)" },
  { "access", cd_cli_access, "The access report: who read which patient's documents" },
  { "retention", cd_cli_retention, "Retention policies, destruction plans, destruction and certificates" },
  { "hold", cd_cli_hold, "Legal holds on patients, documents and saved searches" },
  { "roi", cd_cli_roi, "Release of information: requests, redaction, packets" },
  { "disclosures", cd_cli_disclosures, "A patient's accounting of disclosures (45 CFR 164.528)" },
  { "web", cd_cli_web, "Serve the web workstation in the foreground (issue 15)" },
  { "archive", cd_cli_archive, "Copy an archive to or from PostgreSQL, deliver a spool, optimize the search index" },
  { "status", cd_cli_status, "What the running chartdeskd is doing: its delivery to the server, what waits" },
};

static void
cd_cli_print_commands(FILE *out)
{
  fprintf(out, "Usage: chartdesk COMMAND [OPTION…] ARGUMENTS\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
    fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nRun `chartdesk COMMAND --help` for a command's options.\n");
  fprintf(out, "\nARCHIVE is an SQLite file, or for search and show the hospital's PostgreSQL archive,\n"
               "postgresql://… (a libpq URI); `chartdesk archive --help` moves archives there.\n");
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
