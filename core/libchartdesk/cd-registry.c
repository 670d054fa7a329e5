/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gio.h>

#include "cd-error.h"
#include "cd-plugin-private.h"
#include "cd-registry.h"
#include "cd-util-private.h"
#include "cd-param-private.h"

/**
 * CdRegistry:
 *
 * Finds plugin modules, loads them and indexes their stages by name.
 *
 * Search order: each folder in `CHARTDESK_PLUGIN_PATH` (colon-separated),
 * then the build tree when the running program is an uninstalled one, then
 * the install directory (replaced by `CHARTDESK_PLUGIN_SYSTEM_PATH` when that
 * is set, which tests set to an empty string for a hermetic registry). A
 * plugin name found twice is taken from the first folder. When
 * `CHARTDESK_PLUGIN_ALLOWLIST` is set (comma-separated plugin names) only
 * those plugins are initialised.
 *
 * Since: 0.1
 */
struct _CdRegistry {
  GObject parent_instance;
  GPtrArray *paths;   /* of gchar*: folders to scan, in order */
  GPtrArray *plugins; /* of CdPlugin: loaded */
  GPtrArray *failed;  /* of CdPlugin: refused, each with its error */
  GHashTable *stages; /* stage name → CdPlugin (borrowed from plugins) */
  GHashTable *types;  /* stage name → GType */
  GHashTable *names;  /* plugin names loaded, to ignore later copies */
};

G_DEFINE_TYPE(CdRegistry, cd_registry, G_TYPE_OBJECT)

static void
cd_registry_finalize(GObject *object)
{
  CdRegistry *self = CD_REGISTRY(object);

  g_ptr_array_unref(self->paths);
  g_ptr_array_unref(self->plugins);
  g_ptr_array_unref(self->failed);
  g_hash_table_unref(self->stages);
  g_hash_table_unref(self->types);
  g_hash_table_unref(self->names);

  G_OBJECT_CLASS(cd_registry_parent_class)->finalize(object);
}

static void
cd_registry_class_init(CdRegistryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->finalize = cd_registry_finalize;
}

static void
cd_registry_init(CdRegistry *self)
{
  self->paths = g_ptr_array_new_with_free_func(g_free);
  self->plugins = g_ptr_array_new_with_free_func(g_object_unref);
  self->failed = g_ptr_array_new_with_free_func(g_object_unref);
  self->stages = g_hash_table_new(g_str_hash, g_str_equal);
  self->types = g_hash_table_new(g_str_hash, g_str_equal);
  self->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

/**
 * cd_registry_new:
 *
 * Returns: (transfer full): an empty registry with no search path
 *
 * Since: 0.1
 */
CdRegistry *
cd_registry_new(void)
{
  return g_object_new(CD_TYPE_REGISTRY, NULL);
}

/**
 * cd_registry_add_search_path:
 * @self: a #CdRegistry
 * @path: a folder holding plugin modules, directly or one level down
 *
 * Since: 0.1
 */
void
cd_registry_add_search_path(CdRegistry *self, const gchar *path)
{
  g_return_if_fail(CD_IS_REGISTRY(self));
  g_return_if_fail(path != NULL);
  for (guint i = 0; i < self->paths->len; i++) {
    if (g_strcmp0(g_ptr_array_index(self->paths, i), path) == 0)
      return;
  }
  g_ptr_array_add(self->paths, g_strdup(path));
}

/**
 * cd_registry_add_default_paths:
 * @self: a #CdRegistry
 *
 * Adds `CHARTDESK_PLUGIN_PATH`, the build tree when uninstalled, and the
 * system plugin folder (or `CHARTDESK_PLUGIN_SYSTEM_PATH`).
 *
 * Since: 0.1
 */
void
cd_registry_add_default_paths(CdRegistry *self)
{
  const gchar *env;

  g_return_if_fail(CD_IS_REGISTRY(self));

  env = g_getenv("CHARTDESK_PLUGIN_PATH");
  if (env != NULL) {
    g_auto(GStrv) dirs = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
    for (guint i = 0; dirs[i] != NULL; i++) {
      if (dirs[i][0] != '\0')
        cd_registry_add_search_path(self, dirs[i]);
    }
  }
  if (cd_running_uninstalled())
    cd_registry_add_search_path(self, CD_BUILD_ROOT "/plugins");
  env = g_getenv("CHARTDESK_PLUGIN_SYSTEM_PATH");
  if (env != NULL) {
    g_auto(GStrv) dirs = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
    for (guint i = 0; dirs[i] != NULL; i++) {
      if (dirs[i][0] != '\0')
        cd_registry_add_search_path(self, dirs[i]);
    }
  } else {
    cd_registry_add_search_path(self, CD_PLUGIN_DIR);
  }
}

/**
 * cd_registry_get_search_paths:
 * @self: a #CdRegistry
 *
 * Returns: (transfer none) (element-type filename): the folders scanned
 *
 * Since: 0.1
 */
GPtrArray *
cd_registry_get_search_paths(CdRegistry *self)
{
  g_return_val_if_fail(CD_IS_REGISTRY(self), NULL);
  return self->paths;
}

static gchar **
cd_registry_allowlist(void)
{
  const gchar *env = g_getenv("CHARTDESK_PLUGIN_ALLOWLIST");
  if (env == NULL)
    return NULL;
  return g_strsplit(env, ",", -1);
}

static gboolean
cd_registry_is_module(const gchar *name)
{
  return g_str_has_suffix(name, "." G_MODULE_SUFFIX);
}

/* Adds the module files found in @dir and its immediate subfolders (the
 * build tree keeps each plugin in a folder of its own) to @files. */
static void
cd_registry_collect(const gchar *dir, guint depth, GPtrArray *files)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const gchar *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name(d)) != NULL)
    g_ptr_array_add(names, g_strdup(name));
  /* readdir order is arbitrary; a fixed order makes "first one wins" and
   * the listing reproducible */
  cd_ptr_array_sort_strings(names);
  for (guint i = 0; i < names->len; i++) {
    const gchar *base = g_ptr_array_index(names, i);
    g_autofree gchar *path = g_build_filename(dir, base, NULL);
    if (depth == 0 && g_file_test(path, G_FILE_TEST_IS_DIR))
      cd_registry_collect(path, depth + 1, files);
    else if (cd_registry_is_module(base) && g_file_test(path, G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add(files, g_steal_pointer(&path));
  }
}

/* A module in a build tree that is not a plugin at all (tests helpers) has
 * no descriptor; it is worth a debug line, not an entry in the failure list,
 * only when it is not named like one of ours. */
static gboolean
cd_registry_looks_like_plugin(const gchar *filename)
{
  g_autofree gchar *base = g_path_get_basename(filename);
  return g_str_has_prefix(base, "cd-plugin-") || g_str_has_prefix(base, "libcd-plugin-");
}

/**
 * cd_registry_load_file:
 * @self: a #CdRegistry
 * @filename: a plugin module
 * @error: return location for a #GError
 *
 * Loads one module. A refused module is also kept in the failure list with
 * its error, which is what `chartdesk plugins` shows.
 *
 * Returns: (transfer none): the plugin, or %NULL with @error set
 *
 * Since: 0.1
 */
CdPlugin *
cd_registry_load_file(CdRegistry *self, const gchar *filename, GError **error)
{
  g_autoptr(CdPlugin) plugin = NULL;
  g_autoptr(GError) error_local = NULL;
  g_auto(GStrv) allow = cd_registry_allowlist();
  GArray *types;

  g_return_val_if_fail(CD_IS_REGISTRY(self), NULL);
  g_return_val_if_fail(filename != NULL, NULL);

  plugin = cd_plugin_new(filename);
  if (!cd_plugin_open(plugin, (const gchar *const *) allow, &error_local)) {
    if (!g_error_matches(error_local, CD_ERROR, CD_ERROR_NOT_FOUND)) {
      cd_plugin_set_error(plugin, error_local);
      g_ptr_array_add(self->failed, g_object_ref(plugin));
    }
    g_propagate_error(error, g_steal_pointer(&error_local));
    return NULL;
  }
  if (g_hash_table_contains(self->names, cd_plugin_get_name(plugin))) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: plugin '%s' is already loaded from an earlier folder",
                filename, cd_plugin_get_name(plugin));
    return NULL;
  }
  if (!cd_plugin_init_types(plugin, &error_local)) {
    cd_plugin_set_error(plugin, error_local);
    g_ptr_array_add(self->failed, g_object_ref(plugin));
    g_propagate_error(error, g_steal_pointer(&error_local));
    return NULL;
  }

  /* a stage name is a workflow's only handle on a stage: refuse clashes */
  types = cd_plugin_get_stage_types(plugin);
  for (guint i = 0; i < types->len; i++) {
    g_autoptr(GTypeClass) klass = g_type_class_ref(g_array_index(types, GType, i));
    const gchar *name = cd_stage_class_get_name(CD_STAGE_CLASS(klass));
    CdPlugin *other = g_hash_table_lookup(self->stages, name);
    if (other != NULL) {
      g_set_error(&error_local, CD_ERROR, CD_ERROR_PLUGIN, "%s: stage '%s' is already provided by plugin '%s' (%s)",
                  filename, name, cd_plugin_get_name(other), cd_plugin_get_filename(other));
      cd_plugin_set_error(plugin, error_local);
      g_ptr_array_add(self->failed, g_object_ref(plugin));
      g_propagate_error(error, g_steal_pointer(&error_local));
      return NULL;
    }
  }
  for (guint i = 0; i < types->len; i++) {
    GType type = g_array_index(types, GType, i);
    g_autoptr(GTypeClass) klass = g_type_class_ref(type);
    const gchar *name = cd_stage_class_get_name(CD_STAGE_CLASS(klass));
    g_hash_table_insert(self->stages, (gpointer) name, plugin);
    g_hash_table_insert(self->types, (gpointer) name, GSIZE_TO_POINTER(type));
  }
  g_hash_table_add(self->names, g_strdup(cd_plugin_get_name(plugin)));
  g_ptr_array_add(self->plugins, g_object_ref(plugin));
  g_debug("loaded plugin %s from %s", cd_plugin_get_name(plugin), filename);
  return plugin;
}

/**
 * cd_registry_scan:
 * @self: a #CdRegistry
 *
 * Loads every plugin module in the search path. Refused modules do not stop
 * the others; they are listed by cd_registry_get_failed().
 *
 * Since: 0.1
 */
void
cd_registry_scan(CdRegistry *self)
{
  g_return_if_fail(CD_IS_REGISTRY(self));

  /* Page parallelism is ours: one single-threaded Tesseract per worker.
   * Tesseract's OpenMP threads on top of that oversubscribe the cores
   * (measured: 4.7 s instead of 0.8 s a page on two cores). libgomp reads
   * the limit once, when the first plugin that links it is loaded, which is
   * below; a limit the user set is kept. */
  g_setenv("OMP_THREAD_LIMIT", "1", FALSE);

  for (guint i = 0; i < self->paths->len; i++) {
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    cd_registry_collect(g_ptr_array_index(self->paths, i), 0, files);
    for (guint j = 0; j < files->len; j++) {
      const gchar *filename = g_ptr_array_index(files, j);
      g_autoptr(GError) error_local = NULL;
      if (cd_registry_load_file(self, filename, &error_local) != NULL)
        continue;
      if (g_error_matches(error_local, CD_ERROR, CD_ERROR_NOT_FOUND))
        g_debug("%s", error_local->message);
      else if (!cd_registry_looks_like_plugin(filename))
        g_debug("ignoring %s", error_local->message);
    }
  }
}

/**
 * cd_registry_get_plugins:
 * @self: a #CdRegistry
 *
 * Returns: (transfer none) (element-type CdPlugin): the plugins loaded
 *
 * Since: 0.1
 */
GPtrArray *
cd_registry_get_plugins(CdRegistry *self)
{
  g_return_val_if_fail(CD_IS_REGISTRY(self), NULL);
  return self->plugins;
}

/**
 * cd_registry_get_failed:
 * @self: a #CdRegistry
 *
 * Returns: (transfer none) (element-type CdPlugin): the modules refused,
 *   each with cd_plugin_get_error()
 *
 * Since: 0.1
 */
GPtrArray *
cd_registry_get_failed(CdRegistry *self)
{
  g_return_val_if_fail(CD_IS_REGISTRY(self), NULL);
  return self->failed;
}

/**
 * cd_registry_find_stage:
 * @self: a #CdRegistry
 * @name: a stage name
 * @error: return location for a #GError
 *
 * Returns: the stage's type, or %G_TYPE_INVALID with @error set
 *
 * Since: 0.1
 */
GType
cd_registry_find_stage(CdRegistry *self, const gchar *name, GError **error)
{
  gpointer type;

  g_return_val_if_fail(CD_IS_REGISTRY(self), G_TYPE_INVALID);
  g_return_val_if_fail(name != NULL, G_TYPE_INVALID);

  type = g_hash_table_lookup(self->types, name);
  if (type == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "unknown stage '%s' (see `chartdesk plugins`)", name);
    return G_TYPE_INVALID;
  }
  return GPOINTER_TO_SIZE(type);
}

/**
 * cd_registry_get_stage_plugin:
 * @self: a #CdRegistry
 * @name: a stage name
 *
 * Returns: (transfer none) (nullable): the plugin providing @name
 *
 * Since: 0.1
 */
CdPlugin *
cd_registry_get_stage_plugin(CdRegistry *self, const gchar *name)
{
  g_return_val_if_fail(CD_IS_REGISTRY(self), NULL);
  return g_hash_table_lookup(self->stages, name);
}

/**
 * cd_registry_list_stages:
 * @self: a #CdRegistry
 *
 * Returns: (transfer container) (element-type utf8): stage names, sorted
 *
 * Since: 0.1
 */
GPtrArray *
cd_registry_list_stages(CdRegistry *self)
{
  GPtrArray *names = g_ptr_array_new();
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail(CD_IS_REGISTRY(self), NULL);
  g_hash_table_iter_init(&iter, self->types);
  while (g_hash_table_iter_next(&iter, &key, NULL))
    g_ptr_array_add(names, key);
  cd_ptr_array_sort_strings(names);
  return names;
}

static const gchar *
cd_param_type_name(GParamSpec *pspec)
{
  GType type = G_PARAM_SPEC_VALUE_TYPE(pspec);

  if (type == G_TYPE_BOOLEAN)
    return "boolean";
  if (type == G_TYPE_INT || type == G_TYPE_INT64 || type == G_TYPE_LONG)
    return "int";
  if (type == G_TYPE_UINT || type == G_TYPE_UINT64 || type == G_TYPE_ULONG)
    return "uint";
  if (type == G_TYPE_DOUBLE || type == G_TYPE_FLOAT)
    return "double";
  if (type == G_TYPE_STRING)
    return "string";
  if (G_TYPE_IS_ENUM(type))
    return "enum";
  if (G_TYPE_IS_FLAGS(type))
    return "flags";
  if (type == G_TYPE_STRV)
    return "list";
  return g_type_name(type);
}

/* The default is what a new stage holds, as gst-inspect shows it: a list
 * or a pattern set in the stage's init has no default in its param spec. */
static void
cd_registry_option_json(JsonBuilder *b, GObject *instance, GParamSpec *pspec)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autofree gchar *def = NULL;
  GType type = G_PARAM_SPEC_VALUE_TYPE(pspec);

  g_value_init(&value, type);
  if ((pspec->flags & G_PARAM_READABLE) != 0)
    g_object_get_property(instance, pspec->name, &value);
  else
    g_param_value_set_default(pspec, &value);
  def = cd_param_value_to_string(&value);

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, pspec->name);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, cd_param_type_name(pspec));
  json_builder_set_member_name(b, "default");
  json_builder_add_string_value(b, def);
  json_builder_set_member_name(b, "description");
  json_builder_add_string_value(b, g_param_spec_get_blurb(pspec));
  if (G_IS_PARAM_SPEC_INT(pspec) || G_IS_PARAM_SPEC_UINT(pspec) || G_IS_PARAM_SPEC_DOUBLE(pspec)) {
    g_autofree gchar *min = NULL;
    g_autofree gchar *max = NULL;
    if (G_IS_PARAM_SPEC_INT(pspec)) {
      min = g_strdup_printf("%d", G_PARAM_SPEC_INT(pspec)->minimum);
      max = g_strdup_printf("%d", G_PARAM_SPEC_INT(pspec)->maximum);
    } else if (G_IS_PARAM_SPEC_UINT(pspec)) {
      min = g_strdup_printf("%u", G_PARAM_SPEC_UINT(pspec)->minimum);
      max = g_strdup_printf("%u", G_PARAM_SPEC_UINT(pspec)->maximum);
    } else {
      gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
      min = g_strdup(g_ascii_formatd(buf, sizeof buf, "%g", G_PARAM_SPEC_DOUBLE(pspec)->minimum));
      max = g_strdup(g_ascii_formatd(buf, sizeof buf, "%g", G_PARAM_SPEC_DOUBLE(pspec)->maximum));
    }
    json_builder_set_member_name(b, "minimum");
    json_builder_add_string_value(b, min);
    json_builder_set_member_name(b, "maximum");
    json_builder_add_string_value(b, max);
  }
  if (G_TYPE_IS_ENUM(type)) {
    g_autoptr(GEnumClass) klass = g_type_class_ref(type);
    json_builder_set_member_name(b, "choices");
    json_builder_begin_array(b);
    for (guint i = 0; i < klass->n_values; i++)
      json_builder_add_string_value(b, klass->values[i].value_nick);
    json_builder_end_array(b);
  }
  json_builder_end_object(b);
}

static void
cd_registry_stage_json(JsonBuilder *b, GType type)
{
  g_autoptr(GTypeClass) klass = g_type_class_ref(type);
  g_autoptr(GObject) instance = NULL;
  g_autofree GParamSpec **specs = NULL;
  guint n = 0;

  json_builder_begin_object(b);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, cd_stage_class_get_name(CD_STAGE_CLASS(klass)));
  json_builder_set_member_name(b, "kind");
  json_builder_add_string_value(b, cd_stage_kind_to_string(cd_stage_type_get_kind(type)));
  json_builder_set_member_name(b, "description");
  json_builder_add_string_value(b, cd_stage_class_get_description(CD_STAGE_CLASS(klass)));
  json_builder_set_member_name(b, "options");
  json_builder_begin_array(b);
  specs = g_object_class_list_properties(G_OBJECT_CLASS(klass), &n);
  instance = g_object_new(type, NULL);
  for (guint i = 0; i < n; i++) {
    if ((specs[i]->flags & G_PARAM_WRITABLE) != 0 && (specs[i]->flags & G_PARAM_CONSTRUCT_ONLY) == 0)
      cd_registry_option_json(b, instance, specs[i]);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
}

/**
 * cd_registry_to_json:
 * @self: a #CdRegistry
 *
 * Describes every plugin, stage and option from the GObject property specs
 * alone, and every module that was refused: what `chartdesk plugins --json`
 * prints.
 *
 * Returns: (transfer full): `{"plugins": [...], "failed": [...]}`
 *
 * Since: 0.1
 */
JsonNode *
cd_registry_to_json(CdRegistry *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  g_return_val_if_fail(CD_IS_REGISTRY(self), NULL);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "plugins");
  json_builder_begin_array(b);
  for (guint i = 0; i < self->plugins->len; i++) {
    CdPlugin *plugin = g_ptr_array_index(self->plugins, i);
    GArray *types = cd_plugin_get_stage_types(plugin);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, cd_plugin_get_name(plugin));
    json_builder_set_member_name(b, "description");
    json_builder_add_string_value(b, cd_plugin_get_description(plugin));
    json_builder_set_member_name(b, "version");
    json_builder_add_string_value(b, cd_plugin_get_version(plugin));
    json_builder_set_member_name(b, "license");
    json_builder_add_string_value(b, cd_plugin_get_license(plugin));
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, cd_plugin_get_filename(plugin));
    json_builder_set_member_name(b, "stages");
    json_builder_begin_array(b);
    for (guint j = 0; j < types->len; j++)
      cd_registry_stage_json(b, g_array_index(types, GType, j));
    json_builder_end_array(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "failed");
  json_builder_begin_array(b);
  for (guint i = 0; i < self->failed->len; i++) {
    CdPlugin *plugin = g_ptr_array_index(self->failed, i);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, cd_plugin_get_filename(plugin));
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, cd_plugin_get_error(plugin)->message);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
