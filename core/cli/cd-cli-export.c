/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk export`: the archive as JSON Lines, to a file or standard output.
 */
#include "config.h"

#include <gio/gunixoutputstream.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

#include "cd-cli-private.h"

gint
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
    cd_cli_set_user(archive, opt_user);
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
