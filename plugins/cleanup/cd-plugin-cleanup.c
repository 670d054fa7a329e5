/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-cleanup-stages.h"

static gboolean
cd_plugin_cleanup_init(CdPlugin *plugin, GError **error)
{
  /* Leptonica's informational messages ("rotate by shear", "not enough
   * confidence") go to stderr and are not for operators; errors still do */
  setMsgSeverity(L_SEVERITY_WARNING);
  return cd_plugin_add_stage_type(plugin, CD_TYPE_BINARIZE_STAGE, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_CLEAN_STAGE, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_BLANK_STAGE, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_ORIENT_STAGE, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_DESKEW_STAGE, error);
}

CD_PLUGIN_DEFINE("cleanup",
                 "Page cleanup for legacy scans with Leptonica: orientation, deskew, adaptive binarization, "
                 "despeckle, borders and punched holes, blank pages",
                 cd_plugin_cleanup_init, PACKAGE_VERSION, "LGPL-2.1-or-later")
