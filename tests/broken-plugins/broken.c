/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Deliberately broken plugins, one per module, chosen with -DBROKEN_*: the
 * registry must refuse each with a precise reason and keep going.
 */
#include <chartdesk.h>

#define CD_TYPE_BROKEN_STAGE (cd_broken_stage_get_type())
G_DECLARE_FINAL_TYPE(CdBrokenStage, cd_broken_stage, CD, BROKEN_STAGE, CdPageStage)
struct _CdBrokenStage {
  CdPageStage parent_instance;
};
G_DEFINE_TYPE(CdBrokenStage, cd_broken_stage, CD_TYPE_PAGE_STAGE)

static void
cd_broken_stage_class_init(CdBrokenStageClass *klass)
{
  /* the clash case reuses a name the testing plugin already provides */
  cd_stage_class_set_metadata(CD_STAGE_CLASS(klass), "test-mark", "A stage whose name is taken");
}

static void
cd_broken_stage_init(CdBrokenStage *self)
{
}

static gboolean
broken_init(CdPlugin *plugin, GError **error)
{
#if defined(BROKEN_INIT)
  g_set_error_literal(error, CD_ERROR, CD_ERROR_NOT_FOUND, "deliberately fails to initialise");
  return FALSE;
#elif defined(BROKEN_EMPTY)
  return TRUE;
#else
  return cd_plugin_add_stage_type(plugin, CD_TYPE_BROKEN_STAGE, error);
#endif
}

#if defined(BROKEN_ABI_MAJOR)
G_MODULE_EXPORT const CdPluginDesc cd_plugin_desc = {
  CD_PLUGIN_ABI_MAJOR + 1, 0,           "broken-abi-major", "ABI from the future", "1.0",
  "LGPL-2.1-or-later",     broken_init, { NULL },
};
#elif defined(BROKEN_ABI_MINOR)
G_MODULE_EXPORT const CdPluginDesc cd_plugin_desc = {
  CD_PLUGIN_ABI_MAJOR,
  CD_PLUGIN_ABI_MINOR + 1,
  "broken-abi-minor",
  "Minor ABI too new",
  "1.0",
  "LGPL-2.1-or-later",
  broken_init,
  { NULL },
};
#elif defined(BROKEN_NO_LICENSE)
G_MODULE_EXPORT const CdPluginDesc cd_plugin_desc = {
  CD_PLUGIN_ABI_MAJOR, CD_PLUGIN_ABI_MINOR, "broken-no-license", "No licence", "1.0", NULL, broken_init, { NULL },
};
#elif defined(BROKEN_BAD_NAME)
CD_PLUGIN_DEFINE("Broken Name", "Name with capitals and a space", broken_init, "1.0", "LGPL-2.1-or-later")
#elif defined(BROKEN_INIT)
CD_PLUGIN_DEFINE("broken-init", "Init fails", broken_init, "1.0", "LGPL-2.1-or-later")
#elif defined(BROKEN_EMPTY)
CD_PLUGIN_DEFINE("broken-empty", "Registers nothing", broken_init, "1.0", "LGPL-2.1-or-later")
#elif defined(BROKEN_CLASH)
CD_PLUGIN_DEFINE("broken-clash", "Stage name taken", broken_init, "1.0", "LGPL-2.1-or-later")
#elif defined(BROKEN_NO_SYMBOL)
/* exports a function but no descriptor */
G_MODULE_EXPORT gboolean broken_no_symbol(void);
G_MODULE_EXPORT gboolean
broken_no_symbol(void)
{
  return broken_init(NULL, NULL);
}
#endif
