/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-tesseract-stage.h"

static gboolean
cd_plugin_tesseract_init(CdPlugin *plugin, GError **error)
{
  return cd_plugin_add_stage_type(plugin, CD_TYPE_TESSERACT_STAGE, error);
}

CD_PLUGIN_DEFINE("tesseract", "Optical character recognition with the Tesseract C API", cd_plugin_tesseract_init,
                 PACKAGE_VERSION, "LGPL-2.1-or-later")
