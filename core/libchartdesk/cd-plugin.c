/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-error.h"
#include "cd-plugin-private.h"
#include "cd-stage.h"

/**
 * CdPlugin:
 *
 * A loaded (or refused) plugin module and the stage types it registered.
 *
 * Since: 0.1
 */
struct _CdPlugin {
  GObject parent_instance;
  gchar *filename;
  GModule *module;          /* resident once init has been called */
  const CdPluginDesc *desc; /* points into the module */
  GArray *stage_types;      /* of GType */
  GError *error;            /* why the plugin was refused, or NULL */
};

G_DEFINE_TYPE(CdPlugin, cd_plugin, G_TYPE_OBJECT)

static void
cd_plugin_finalize(GObject *object)
{
  CdPlugin *self = CD_PLUGIN(object);

  g_free(self->filename);
  /* a module whose init ran may have registered types: it stays resident,
   * and g_module_close() on it is a no-op */
  if (self->module != NULL)
    g_module_close(self->module);
  g_array_unref(self->stage_types);
  g_clear_error(&self->error);

  G_OBJECT_CLASS(cd_plugin_parent_class)->finalize(object);
}

static void
cd_plugin_class_init(CdPluginClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->finalize = cd_plugin_finalize;
}

static void
cd_plugin_init(CdPlugin *self)
{
  self->stage_types = g_array_new(FALSE, FALSE, sizeof(GType));
}

CdPlugin *
cd_plugin_new(const gchar *filename)
{
  CdPlugin *self = g_object_new(CD_TYPE_PLUGIN, NULL);
  self->filename = g_strdup(filename);
  return self;
}

/*
 * Opens the module and validates its descriptor without running any of its
 * code. Every refusal names the file and says what is wrong, because plugin
 * authors read these messages in `chartdesk plugins`.
 */
gboolean
cd_plugin_open(CdPlugin *self, const gchar *const *allow, GError **error)
{
  g_autoptr(GError) error_local = NULL;
  gpointer symbol = NULL;
  const CdPluginDesc *desc;
  gboolean file_allowed = TRUE;

  /* an allow-listed plugin is recognised by its module name before it is
   * opened, and by its descriptor's name after; anything else is passed
   * over without a word, broken or not */
  if (allow != NULL) {
    g_autofree gchar *base = g_path_get_basename(self->filename);
    g_autofree gchar *name = NULL;
    if (g_str_has_prefix(base, "cd-plugin-") && g_str_has_suffix(base, "." G_MODULE_SUFFIX))
      name = g_strndup(base + 10, strlen(base) - 10 - strlen("." G_MODULE_SUFFIX));
    file_allowed = name != NULL && g_strv_contains(allow, name);
  }
  self->module = g_module_open_full(self->filename, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL, &error_local);
  if (self->module == NULL && !file_allowed) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: not in the allow-list", self->filename);
    return FALSE;
  }
  if (self->module == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_PLUGIN, "%s: cannot load module: %s", self->filename, error_local->message);
    return FALSE;
  }
  if ((!g_module_symbol(self->module, "cd_plugin_desc", &symbol) || symbol == NULL) && !file_allowed) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: not in the allow-list", self->filename);
    return FALSE;
  }
  if (symbol == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_PLUGIN,
                "%s: not a Chartdesk plugin: it does not export cd_plugin_desc (use CD_PLUGIN_DEFINE)", self->filename);
    return FALSE;
  }
  desc = symbol;
  /* abi_major, abi_minor and name lead the descriptor in every ABI */
  if (!file_allowed && (desc->name == NULL || !g_strv_contains(allow, desc->name))) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: not in the allow-list", self->filename);
    return FALSE;
  }
  if (desc->abi_major != CD_PLUGIN_ABI_MAJOR) {
    g_set_error(error, CD_ERROR, CD_ERROR_ABI_MISMATCH,
                "%s: built for plugin ABI %u.%u, this Chartdesk provides %u.%u (major versions must match)",
                self->filename, desc->abi_major, desc->abi_minor, (guint) CD_PLUGIN_ABI_MAJOR,
                (guint) CD_PLUGIN_ABI_MINOR);
    return FALSE;
  }
  if (desc->abi_minor > CD_PLUGIN_ABI_MINOR) {
    g_set_error(error, CD_ERROR, CD_ERROR_ABI_MISMATCH,
                "%s: built for plugin ABI %u.%u, newer than this Chartdesk's %u.%u", self->filename, desc->abi_major,
                desc->abi_minor, (guint) CD_PLUGIN_ABI_MAJOR, (guint) CD_PLUGIN_ABI_MINOR);
    return FALSE;
  }
  if (desc->name == NULL || desc->description == NULL || desc->version == NULL || desc->license == NULL ||
      desc->init == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_PLUGIN,
                "%s: descriptor lacks a name, description, version, licence or init function", self->filename);
    return FALSE;
  }
  for (const gchar *p = desc->name; *p != '\0'; p++) {
    if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-') {
      g_set_error(error, CD_ERROR, CD_ERROR_PLUGIN, "%s: plugin name '%s' is not of the form [a-z0-9-]+",
                  self->filename, desc->name);
      return FALSE;
    }
  }
  self->desc = desc;
  return TRUE;
}

/*
 * Runs the plugin's init function. The module is made resident first: init
 * may register GTypes whose class structures point into it, so it can never
 * be unloaded afterwards, whatever init returns.
 */
gboolean
cd_plugin_init_types(CdPlugin *self, GError **error)
{
  g_autoptr(GError) error_local = NULL;

  g_module_make_resident(self->module);
  if (!self->desc->init(self, &error_local)) {
    if (error_local == NULL)
      g_set_error_literal(&error_local, CD_ERROR, CD_ERROR_INTERNAL, "failed without an error");
    g_set_error(error, CD_ERROR, CD_ERROR_PLUGIN, "%s: plugin '%s' failed to initialise: %s", self->filename,
                self->desc->name, error_local->message);
    g_array_set_size(self->stage_types, 0);
    return FALSE;
  }
  if (self->stage_types->len == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_PLUGIN, "%s: plugin '%s' registered no stages", self->filename,
                self->desc->name);
    return FALSE;
  }
  return TRUE;
}

void
cd_plugin_set_error(CdPlugin *self, const GError *error)
{
  g_clear_error(&self->error);
  self->error = g_error_copy(error);
}

/**
 * cd_plugin_get_name:
 * @self: a #CdPlugin
 *
 * Returns: (nullable): the plugin's name, %NULL if its descriptor was
 *   unreadable
 *
 * Since: 0.1
 */
const gchar *
cd_plugin_get_name(CdPlugin *self)
{
  g_return_val_if_fail(CD_IS_PLUGIN(self), NULL);
  return self->desc != NULL ? self->desc->name : NULL;
}

/**
 * cd_plugin_get_description:
 * @self: a #CdPlugin
 *
 * Returns: (nullable): the plugin's description
 *
 * Since: 0.1
 */
const gchar *
cd_plugin_get_description(CdPlugin *self)
{
  g_return_val_if_fail(CD_IS_PLUGIN(self), NULL);
  return self->desc != NULL ? self->desc->description : NULL;
}

/**
 * cd_plugin_get_version:
 * @self: a #CdPlugin
 *
 * Returns: (nullable): the plugin's version
 *
 * Since: 0.1
 */
const gchar *
cd_plugin_get_version(CdPlugin *self)
{
  g_return_val_if_fail(CD_IS_PLUGIN(self), NULL);
  return self->desc != NULL ? self->desc->version : NULL;
}

/**
 * cd_plugin_get_license:
 * @self: a #CdPlugin
 *
 * Returns: (nullable): the plugin's SPDX licence identifier
 *
 * Since: 0.1
 */
const gchar *
cd_plugin_get_license(CdPlugin *self)
{
  g_return_val_if_fail(CD_IS_PLUGIN(self), NULL);
  return self->desc != NULL ? self->desc->license : NULL;
}

/**
 * cd_plugin_get_filename:
 * @self: a #CdPlugin
 *
 * Returns: the module's path
 *
 * Since: 0.1
 */
const gchar *
cd_plugin_get_filename(CdPlugin *self)
{
  g_return_val_if_fail(CD_IS_PLUGIN(self), NULL);
  return self->filename;
}

/**
 * cd_plugin_get_error:
 * @self: a #CdPlugin
 *
 * Returns: (nullable): why the plugin was refused, %NULL if it loaded
 *
 * Since: 0.1
 */
const GError *
cd_plugin_get_error(CdPlugin *self)
{
  g_return_val_if_fail(CD_IS_PLUGIN(self), NULL);
  return self->error;
}

/**
 * cd_plugin_get_stage_types:
 * @self: a #CdPlugin
 *
 * Returns: (transfer none) (element-type GType): the stage types registered
 *
 * Since: 0.1
 */
GArray *
cd_plugin_get_stage_types(CdPlugin *self)
{
  g_return_val_if_fail(CD_IS_PLUGIN(self), NULL);
  return self->stage_types;
}

/**
 * cd_plugin_add_stage_type:
 * @self: a #CdPlugin
 * @type: a concrete type derived from one of the stage kinds
 * @error: return location for a #GError
 *
 * Called from the plugin's init function for each stage it provides.
 *
 * Returns: %TRUE if @type is a usable stage
 *
 * Since: 0.1
 */
gboolean
cd_plugin_add_stage_type(CdPlugin *self, GType type, GError **error)
{
  g_autoptr(GTypeClass) klass = NULL;
  const gchar *name;

  g_return_val_if_fail(CD_IS_PLUGIN(self), FALSE);

  if (!g_type_is_a(type, CD_TYPE_STAGE) || G_TYPE_IS_ABSTRACT(type)) {
    g_set_error(error, CD_ERROR, CD_ERROR_PLUGIN, "type %s is not a concrete Chartdesk stage", g_type_name(type));
    return FALSE;
  }
  klass = g_type_class_ref(type);
  name = cd_stage_class_get_name(CD_STAGE_CLASS(klass));
  if (name == NULL || cd_stage_class_get_description(CD_STAGE_CLASS(klass)) == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_PLUGIN,
                "stage type %s has no name or description (call cd_stage_class_set_metadata() in class_init)",
                g_type_name(type));
    return FALSE;
  }
  g_array_append_val(self->stage_types, type);
  return TRUE;
}
