/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-barcode-stage.h"

static gboolean
cd_plugin_barcode_init(CdPlugin *plugin, GError **error)
{
  return cd_plugin_add_stage_type(plugin, CD_TYPE_BARCODE_STAGE, error);
}

CD_PLUGIN_DEFINE("barcode", "Barcodes on pages with zbar: cover sheets, separators, labels", cd_plugin_barcode_init,
                 PACKAGE_VERSION, "LGPL-2.1-or-later")
