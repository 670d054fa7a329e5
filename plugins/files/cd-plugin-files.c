/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-files-source.h"

static gboolean
cd_plugin_files_init(CdPlugin *plugin, GError **error)
{
  return cd_plugin_add_stage_type(plugin, CD_TYPE_FILES_SOURCE, error);
}

CD_PLUGIN_DEFINE("files", "Reads scanned pages from TIFF, PNG, JPEG and PDF files and folders", cd_plugin_files_init,
                 PACKAGE_VERSION, "LGPL-2.1-or-later")
