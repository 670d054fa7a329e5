/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `chartdesk check`: an archive's images, index and audit chain verified.
 */
#include "config.h"

#include <stdio.h>

#include "cd-cli-private.h"

gint
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
                                    "without text,\nthe full-text index, destroyed documents (no image, text or "
                                    "index term left, nothing\ndestroyed under a legal hold) and the audit log (its "
                                    "keyed chain and anchor, as\n`chartdesk audit verify`).");
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
