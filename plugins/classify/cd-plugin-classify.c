/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-external-classifier.h"
#include "cd-page-type-stage.h"
#include "cd-rules-classifier.h"

/* The shipped rules file: the source tree's when this module runs from the
 * build tree (tests, the quick start), else the installed one. */
static void
cd_plugin_classify_find_rules(CdPlugin *plugin)
{
  const gchar *file = cd_plugin_get_filename(plugin);
  if (file != NULL && g_str_has_prefix(file, CD_BUILD_ROOT "/"))
    cd_rules_classifier_set_default_rules(CD_SOURCE_ROOT "/plugins/classify/rules.conf");
  else
    cd_rules_classifier_set_default_rules(CD_DATA_DIR "/classify/rules.conf");
}

static gboolean
cd_plugin_classify_init(CdPlugin *plugin, GError **error)
{
  cd_plugin_classify_find_rules(plugin);
  return cd_plugin_add_stage_type(plugin, CD_TYPE_RULES_CLASSIFIER, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_EXTERNAL_CLASSIFIER, error) &&
         cd_plugin_add_stage_type(plugin, CD_TYPE_PAGE_TYPE_STAGE, error);
}

CD_PLUGIN_DEFINE(
    "classify",
    "Document type classifiers: keyword and pattern rules, and external programs; page types for the splitter",
    cd_plugin_classify_init, PACKAGE_VERSION, "LGPL-2.1-or-later")
