/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-chart-splitter.h"
#include "cd-header-stage.h"
#include "cd-patient-link.h"

static gboolean
cd_plugin_identity_init(CdPlugin *plugin, GError **error)
{
  return cd_plugin_add_stage_type(plugin, CD_TYPE_HEADER_STAGE, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_CHART_SPLITTER, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_PATIENT_LINK, error);
}

CD_PLUGIN_DEFINE("identity", "Patient identity: page headers, cover sheets and separators, filing by proof",
                 cd_plugin_identity_init, PACKAGE_VERSION, "LGPL-2.1-or-later")
