/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include <gmodule.h>
#include <glib-object.h>

#include "cd-version.h"

G_BEGIN_DECLS

#define CD_TYPE_PLUGIN (cd_plugin_get_type())
G_DECLARE_FINAL_TYPE(CdPlugin, cd_plugin, CD, PLUGIN, GObject)

/**
 * CdPluginInitFunc:
 * @plugin: the plugin being loaded
 * @error: return location for a #GError
 *
 * Registers the plugin's stage types with cd_plugin_add_stage_type().
 *
 * Returns: %TRUE on success; %FALSE with @error set refuses the plugin
 *
 * Since: 0.1
 */
typedef gboolean (*CdPluginInitFunc)(CdPlugin *plugin, GError **error);

/**
 * CdPluginDesc:
 * @abi_major: %CD_PLUGIN_ABI_MAJOR the plugin was built against; must equal
 *   the loader's
 * @abi_minor: %CD_PLUGIN_ABI_MINOR the plugin was built against; must not
 *   exceed the loader's
 * @name: the plugin's name, `[a-z0-9-]+`
 * @description: one sentence
 * @version: the plugin's own version
 * @license: an SPDX licence identifier
 * @init: registers the stage types
 *
 * The one symbol, `cd_plugin_desc`, every plugin module exports. Use
 * CD_PLUGIN_DEFINE() rather than filling it in by hand.
 *
 * Since: 0.1
 */
typedef struct {
  guint32 abi_major;
  guint32 abi_minor;
  const gchar *name;
  const gchar *description;
  const gchar *version;
  const gchar *license;
  CdPluginInitFunc init;
  /*< private >*/
  gpointer reserved[8];
} CdPluginDesc;

/**
 * CD_PLUGIN_DEFINE:
 * @name: the plugin's name, a string literal
 * @description: one sentence, a string literal
 * @init: a #CdPluginInitFunc
 * @version: the plugin's version, a string literal
 * @license: an SPDX licence identifier, a string literal
 *
 * Declares the plugin's descriptor. Use it once, in one source file of the
 * module.
 *
 * Since: 0.1
 */
#define CD_PLUGIN_DEFINE(name, description, init, version, license)                                                    \
  G_MODULE_EXPORT const CdPluginDesc cd_plugin_desc = {                                                                \
    CD_PLUGIN_ABI_MAJOR, CD_PLUGIN_ABI_MINOR, name, description, version, license, init, { NULL },                     \
  };

const gchar *cd_plugin_get_name(CdPlugin *self);
const gchar *cd_plugin_get_description(CdPlugin *self);
const gchar *cd_plugin_get_version(CdPlugin *self);
const gchar *cd_plugin_get_license(CdPlugin *self);
const gchar *cd_plugin_get_filename(CdPlugin *self);
const GError *cd_plugin_get_error(CdPlugin *self);
GArray *cd_plugin_get_stage_types(CdPlugin *self);
gboolean cd_plugin_add_stage_type(CdPlugin *self, GType type, GError **error);

G_END_DECLS
