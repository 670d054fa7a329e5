/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-sane-source.h"

static gboolean
cd_plugin_sane_init(CdPlugin *plugin, GError **error)
{
  return cd_plugin_add_stage_type(plugin, CD_TYPE_SANE_SOURCE, error);
}

CD_PLUGIN_DEFINE("sane", "Scans pages from SANE scanners: flatbed, document feeder, duplex", cd_plugin_sane_init,
                 PACKAGE_VERSION, "LGPL-2.1-or-later")
