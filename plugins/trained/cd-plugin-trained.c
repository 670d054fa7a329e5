/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-trained-classifier.h"

static gboolean
cd_plugin_trained_init(CdPlugin *plugin, GError **error)
{
  return cd_plugin_add_stage_type(plugin, CD_TYPE_TRAINED_CLASSIFIER, error);
}

CD_PLUGIN_DEFINE("trained", "A statistical document-type classifier trained from labelled documents",
                 cd_plugin_trained_init, PACKAGE_VERSION, "LGPL-2.1-or-later")
