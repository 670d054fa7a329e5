/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "cd-error.h"
#include "cd-taxonomy.h"
#include "cd-util-private.h"

/**
 * CdTaxonomy:
 *
 * The document types Chartdesk assigns, read from a keyfile shipped as
 * `taxonomy.conf`: one group per type, named as workflows, search and
 * exports name it, with a display name, a LOINC document code, aliases,
 * former names, a retired flag and a default review threshold.
 *
 * |[
 * [taxonomy]
 * default-threshold=0.5
 * fallback=other
 *
 * [discharge-summary]
 * name=Discharge summary
 * loinc=18842-5
 * aliases=discharge-note;discharge summary
 * renamed-from=discharge
 * threshold=0.6
 * ]|
 *
 * Labels are matched case-insensitively, with spaces and underscores read
 * as hyphens, so a classifier answering `Discharge Summary` names
 * `discharge-summary`. Aliases and former names lead to the type.
 *
 * Since: 0.1
 */

typedef struct {
  gchar *name;
  gchar *display_name;
  gchar *loinc; /* NULL where no code fits */
  gchar *description;
  gdouble threshold; /* < 0: the taxonomy's default */
  gboolean retired;
  GPtrArray *former; /* normalised names it had before (renamed-from) */
} CdDocType;

struct _CdTaxonomy {
  GObject parent_instance;
  gchar *origin;
  GPtrArray *types;   /* of CdDocType, in file order */
  GHashTable *lookup; /* normalised label → CdDocType (borrowed) */
  gdouble default_threshold;
  gchar *fallback;
};

G_DEFINE_TYPE(CdTaxonomy, cd_taxonomy, G_TYPE_OBJECT)

#define CD_TAXONOMY_DEFAULT_THRESHOLD 0.5

static void
cd_doc_type_free(CdDocType *type)
{
  g_free(type->name);
  g_free(type->display_name);
  g_free(type->loinc);
  g_free(type->description);
  g_ptr_array_unref(type->former);
  g_free(type);
}

static void
cd_taxonomy_finalize(GObject *object)
{
  CdTaxonomy *self = CD_TAXONOMY(object);

  g_free(self->origin);
  g_hash_table_unref(self->lookup);
  g_ptr_array_unref(self->types);
  g_free(self->fallback);

  G_OBJECT_CLASS(cd_taxonomy_parent_class)->finalize(object);
}

static void
cd_taxonomy_class_init(CdTaxonomyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->finalize = cd_taxonomy_finalize;
}

static void
cd_taxonomy_init(CdTaxonomy *self)
{
  self->types = g_ptr_array_new_with_free_func((GDestroyNotify) cd_doc_type_free);
  self->lookup = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  self->default_threshold = CD_TAXONOMY_DEFAULT_THRESHOLD;
}

/* The form labels are compared in: case-folded, trimmed, and spaces and
 * underscores made hyphens, so `Discharge Summary` and `discharge_summary`
 * are `discharge-summary`. */
static gchar *
cd_taxonomy_normalise(const gchar *label)
{
  g_autofree gchar *folded = g_utf8_casefold(label, -1);
  GString *out = g_string_new(NULL);
  gboolean pending = FALSE;

  g_strstrip(folded);
  for (const gchar *p = folded; *p != '\0'; p++) {
    if (*p == ' ' || *p == '_' || *p == '-' || *p == '\t') {
      pending = out->len > 0;
      continue;
    }
    if (pending)
      g_string_append_c(out, '-');
    pending = FALSE;
    g_string_append_c(out, *p);
  }
  return g_string_free(out, FALSE);
}

/* A name is its own normal form: a trailing or doubled hyphen would make a
 * type that its own name, written another way, does not find. */
static gboolean
cd_taxonomy_valid_name(const gchar *name)
{
  if (name[0] == '\0' || name[0] == '-' || g_str_has_suffix(name, "-") || strstr(name, "--") != NULL)
    return FALSE;
  for (const gchar *p = name; *p != '\0'; p++) {
    if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-')
      return FALSE;
  }
  return TRUE;
}

/* Reads a threshold (0 to 1) from @group/@key; absent leaves @value alone. */
static gboolean
cd_taxonomy_read_threshold(CdTaxonomy *self, GKeyFile *kf, const gchar *group, const gchar *key, gdouble *value,
                           GError **error)
{
  g_autofree gchar *str = g_key_file_get_value(kf, group, key, NULL);
  gchar *end = NULL;
  gdouble v;

  if (str == NULL || *g_strstrip(str) == '\0')
    return TRUE;
  errno = 0;
  v = g_ascii_strtod(str, &end);
  if (end == NULL || *end != '\0' || errno != 0 || !isfinite(v) || v < 0.0 || v > 1.0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: [%s] %s: '%s' is not a number from 0 to 1", self->origin,
                group, key, str);
    return FALSE;
  }
  *value = v;
  return TRUE;
}

/* Points @label at @type, refusing a label that already means another. */
static gboolean
cd_taxonomy_add_label(CdTaxonomy *self, const gchar *label, CdDocType *type, const gchar *key, GError **error)
{
  g_autofree gchar *norm = cd_taxonomy_normalise(label);
  CdDocType *other;

  if (norm[0] == '\0')
    return TRUE;
  other = g_hash_table_lookup(self->lookup, norm);
  if (other == type)
    return TRUE;
  if (other != NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: [%s] %s: '%s' already means '%s'", self->origin,
                type->name, key, label, other->name);
    return FALSE;
  }
  g_hash_table_insert(self->lookup, g_steal_pointer(&norm), type);
  return TRUE;
}

static gboolean
cd_taxonomy_load(CdTaxonomy *self, GKeyFile *kf, GError **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

  if (!cd_taxonomy_read_threshold(self, kf, "taxonomy", "default-threshold", &self->default_threshold, error))
    return FALSE;
  self->fallback = g_key_file_get_string(kf, "taxonomy", "fallback", NULL);
  if (self->fallback == NULL)
    self->fallback = g_strdup("other");
  g_strstrip(self->fallback);

  /* names first, so that aliases cannot take a type's own name */
  for (guint i = 0; groups[i] != NULL; i++) {
    CdDocType *type;
    if (g_strcmp0(groups[i], "taxonomy") == 0)
      continue;
    if (!cd_taxonomy_valid_name(groups[i])) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                  "%s: [%s]: a type's name is lowercase letters and digits, words joined by single hyphens",
                  self->origin, groups[i]);
      return FALSE;
    }
    type = g_new0(CdDocType, 1);
    type->name = g_strdup(groups[i]);
    type->former = g_ptr_array_new_null_terminated(0, g_free, TRUE);
    type->threshold = -1;
    g_ptr_array_add(self->types, type);
    g_hash_table_insert(self->lookup, g_strdup(type->name), type);
  }
  for (guint i = 0; i < self->types->len; i++) {
    CdDocType *type = g_ptr_array_index(self->types, i);
    const gchar *keys[] = { "aliases", "renamed-from" };
    g_autoptr(GError) error_local = NULL;

    type->display_name = g_key_file_get_string(kf, type->name, "name", NULL);
    if (type->display_name == NULL || *g_strstrip(type->display_name) == '\0') {
      g_free(type->display_name);
      type->display_name = g_strdup(type->name);
    }
    type->loinc = g_key_file_get_string(kf, type->name, "loinc", NULL);
    if (type->loinc != NULL && *g_strstrip(type->loinc) == '\0')
      g_clear_pointer(&type->loinc, g_free);
    type->description = g_key_file_get_string(kf, type->name, "description", NULL);
    if (g_key_file_has_key(kf, type->name, "retired", NULL)) {
      type->retired = g_key_file_get_boolean(kf, type->name, "retired", &error_local);
      if (error_local != NULL) {
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: [%s] retired: not true or false", self->origin,
                    type->name);
        return FALSE;
      }
    }
    if (!cd_taxonomy_read_threshold(self, kf, type->name, "threshold", &type->threshold, error))
      return FALSE;
    for (guint k = 0; k < G_N_ELEMENTS(keys); k++) {
      g_auto(GStrv) labels = g_key_file_get_string_list(kf, type->name, keys[k], NULL, NULL);
      for (guint j = 0; labels != NULL && labels[j] != NULL; j++) {
        g_autofree gchar *norm = cd_taxonomy_normalise(labels[j]);
        if (!cd_taxonomy_add_label(self, labels[j], type, keys[k], error))
          return FALSE;
        if (k == 1 && norm[0] != '\0' && !g_ptr_array_find_with_equal_func(type->former, norm, g_str_equal, NULL))
          g_ptr_array_add(type->former, g_steal_pointer(&norm));
      }
    }
  }
  if (self->types->len == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: no document types", self->origin);
    return FALSE;
  }
  {
    CdDocType *fallback = g_hash_table_lookup(self->lookup, self->fallback);
    if (fallback == NULL || g_strcmp0(fallback->name, self->fallback) != 0 || fallback->retired) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                  "%s: [taxonomy] fallback: '%s' is not a type of the taxonomy in use", self->origin, self->fallback);
      return FALSE;
    }
  }
  return TRUE;
}

/**
 * cd_taxonomy_new_from_data:
 * @data: keyfile text
 * @origin: (nullable): what to call it in messages (a file name)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the taxonomy, or %NULL with @error set
 *
 * Since: 0.1
 */
CdTaxonomy *
cd_taxonomy_new_from_data(const gchar *data, const gchar *origin, GError **error)
{
  g_autoptr(CdTaxonomy) self = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error_local = NULL;

  g_return_val_if_fail(data != NULL, NULL);

  self = g_object_new(CD_TYPE_TAXONOMY, NULL);
  self->origin = g_strdup(origin != NULL ? origin : "taxonomy");
  if (!g_key_file_load_from_data(kf, data, -1, G_KEY_FILE_NONE, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: %s", self->origin, error_local->message);
    return NULL;
  }
  if (!cd_taxonomy_load(self, kf, error))
    return NULL;
  return g_steal_pointer(&self);
}

/**
 * cd_taxonomy_new_from_file:
 * @filename: a taxonomy keyfile
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the taxonomy, or %NULL with @error set
 *
 * Since: 0.1
 */
CdTaxonomy *
cd_taxonomy_new_from_file(const gchar *filename, GError **error)
{
  g_autofree gchar *data = NULL;
  g_autoptr(GError) error_local = NULL;

  g_return_val_if_fail(filename != NULL, NULL);
  if (!g_file_get_contents(filename, &data, NULL, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: cannot read taxonomy: %s", filename, error_local->message);
    return NULL;
  }
  return cd_taxonomy_new_from_data(data, filename, error);
}

/**
 * cd_taxonomy_find:
 * @error: return location for a #GError
 *
 * Finds the taxonomy in use: the file `CHARTDESK_TAXONOMY` names, else
 * `taxonomy.conf` in `~/.config/chartdesk`, the source tree when running
 * uninstalled, and the installed `share/chartdesk`, in that order. The
 * first file found is the whole taxonomy.
 *
 * Returns: (transfer full): the file, or %NULL with @error set
 *
 * Since: 0.1
 */
gchar *
cd_taxonomy_find(GError **error)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func(g_free);
  const gchar *env = g_getenv("CHARTDESK_TAXONOMY");

  if (env != NULL && env[0] != '\0') {
    if (!g_file_test(env, G_FILE_TEST_IS_REGULAR)) {
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s (CHARTDESK_TAXONOMY): no such file", env);
      return NULL;
    }
    return g_strdup(env);
  }
  g_ptr_array_add(candidates, g_build_filename(g_get_user_config_dir(), "chartdesk", "taxonomy.conf", NULL));
  if (cd_running_uninstalled())
    g_ptr_array_add(candidates, g_strdup(CD_SOURCE_ROOT "/workflows/taxonomy.conf"));
  g_ptr_array_add(candidates, g_strdup(CD_DATA_DIR "/taxonomy.conf"));
  for (guint i = 0; i < candidates->len; i++) {
    const gchar *path = g_ptr_array_index(candidates, i);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
      return g_strdup(path);
  }
  g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no taxonomy.conf (looked in %u places; set CHARTDESK_TAXONOMY)",
              candidates->len);
  return NULL;
}

/**
 * cd_taxonomy_new_default:
 * @error: return location for a #GError
 *
 * Loads the taxonomy cd_taxonomy_find() finds.
 *
 * Returns: (transfer full): the taxonomy, or %NULL with @error set
 *
 * Since: 0.1
 */
CdTaxonomy *
cd_taxonomy_new_default(GError **error)
{
  g_autofree gchar *path = cd_taxonomy_find(error);
  if (path == NULL)
    return NULL;
  return cd_taxonomy_new_from_file(path, error);
}

/**
 * cd_taxonomy_get_origin:
 * @self: a #CdTaxonomy
 *
 * Returns: the file the taxonomy was read from
 *
 * Since: 0.1
 */
const gchar *
cd_taxonomy_get_origin(CdTaxonomy *self)
{
  g_return_val_if_fail(CD_IS_TAXONOMY(self), NULL);
  return self->origin;
}

static CdDocType *
cd_taxonomy_get(CdTaxonomy *self, const gchar *type)
{
  CdDocType *t = g_hash_table_lookup(self->lookup, type);
  return t != NULL && g_strcmp0(t->name, type) == 0 ? t : NULL;
}

/**
 * cd_taxonomy_get_types:
 * @self: a #CdTaxonomy
 * @include_retired: whether to list retired types too
 *
 * Returns: (transfer container) (element-type utf8): the type names, in the
 *   order of the file
 *
 * Since: 0.1
 */
GPtrArray *
cd_taxonomy_get_types(CdTaxonomy *self, gboolean include_retired)
{
  GPtrArray *names = g_ptr_array_new();

  g_return_val_if_fail(CD_IS_TAXONOMY(self), names);
  for (guint i = 0; i < self->types->len; i++) {
    CdDocType *type = g_ptr_array_index(self->types, i);
    if (include_retired || !type->retired)
      g_ptr_array_add(names, type->name);
  }
  return names;
}

/**
 * cd_taxonomy_lookup:
 * @self: a #CdTaxonomy
 * @label: a type name, alias or former name, in any case
 *
 * Returns: (nullable): the type @label means, or %NULL when it means none.
 *   The type may be retired: see cd_taxonomy_is_retired().
 *
 * Since: 0.1
 */
const gchar *
cd_taxonomy_lookup(CdTaxonomy *self, const gchar *label)
{
  g_autofree gchar *norm = NULL;
  CdDocType *type;

  g_return_val_if_fail(CD_IS_TAXONOMY(self), NULL);
  if (label == NULL)
    return NULL;
  type = g_hash_table_lookup(self->lookup, label);
  if (type == NULL) {
    norm = cd_taxonomy_normalise(label);
    type = g_hash_table_lookup(self->lookup, norm);
  }
  return type != NULL ? type->name : NULL;
}

/**
 * cd_taxonomy_get_former_names:
 * @self: a #CdTaxonomy
 * @type: a type name
 *
 * Returns: (transfer none) (array zero-terminated=1) (nullable): the names
 *   @type had before it was renamed (its `renamed-from`), under which
 *   documents archived before the renaming are still stored; %NULL when
 *   @type is no type of the taxonomy
 *
 * Since: 0.1
 */
const gchar *const *
cd_taxonomy_get_former_names(CdTaxonomy *self, const gchar *type)
{
  static const gchar *const none[] = { NULL };
  CdDocType *t;

  g_return_val_if_fail(CD_IS_TAXONOMY(self), NULL);
  t = type != NULL ? cd_taxonomy_get(self, type) : NULL;
  if (t == NULL)
    return NULL;
  /* an empty array's data may not be allocated yet */
  return t->former->len > 0 ? (const gchar *const *) t->former->pdata : none;
}

/**
 * cd_taxonomy_resolve_search:
 * @self: a #CdTaxonomy
 * @label: what a person searching typed: a type name, alias or former
 *   name, in any case
 * @error: return location for a #GError
 *
 * Resolves a search by document type. Documents keep the name they were
 * given when archived, so a type renamed since is stored under its
 * former names too: a search for the type, by any of its names, must
 * find them all.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names documents
 *   of the type @label means are stored under, its current name first, or
 *   %NULL with @error set (%CD_ERROR_QUERY naming @label and listing the
 *   known types) when @label means no type
 *
 * Since: 0.1
 */
gchar **
cd_taxonomy_resolve_search(CdTaxonomy *self, const gchar *label, GError **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
  const gchar *type;

  g_return_val_if_fail(CD_IS_TAXONOMY(self), NULL);
  g_return_val_if_fail(label != NULL, NULL);
  type = cd_taxonomy_lookup(self, label);
  if (type == NULL) {
    g_autoptr(GPtrArray) names = cd_taxonomy_get_types(self, TRUE);
    g_autoptr(GString) known = g_string_new(NULL);
    for (guint i = 0; i < names->len; i++)
      g_string_append_printf(known, "%s%s", i > 0 ? ", " : "", (const gchar *) g_ptr_array_index(names, i));
    g_set_error(error, CD_ERROR, CD_ERROR_QUERY, "unknown document type '%s' (known types: %s)", label, known->str);
    return NULL;
  }
  g_strv_builder_add(builder, type);
  g_strv_builder_addv(builder, (const gchar **) cd_taxonomy_get_former_names(self, type));
  return g_strv_builder_end(builder);
}

/**
 * cd_taxonomy_is_retired:
 * @self: a #CdTaxonomy
 * @type: a type name
 *
 * Returns: %TRUE if @type is retired: documents keep it, no new one gets it
 *
 * Since: 0.1
 */
gboolean
cd_taxonomy_is_retired(CdTaxonomy *self, const gchar *type)
{
  CdDocType *t;
  g_return_val_if_fail(CD_IS_TAXONOMY(self), FALSE);
  t = cd_taxonomy_get(self, type);
  return t != NULL && t->retired;
}

/**
 * cd_taxonomy_get_display_name:
 * @self: a #CdTaxonomy
 * @type: a type name
 *
 * Returns: (nullable): the name to show people, %NULL for an unknown type
 *
 * Since: 0.1
 */
const gchar *
cd_taxonomy_get_display_name(CdTaxonomy *self, const gchar *type)
{
  CdDocType *t;
  g_return_val_if_fail(CD_IS_TAXONOMY(self), NULL);
  t = cd_taxonomy_get(self, type);
  return t != NULL ? t->display_name : NULL;
}

/**
 * cd_taxonomy_get_loinc:
 * @self: a #CdTaxonomy
 * @type: a type name
 *
 * Returns: (nullable): the LOINC document code, %NULL where none fits
 *
 * Since: 0.1
 */
const gchar *
cd_taxonomy_get_loinc(CdTaxonomy *self, const gchar *type)
{
  CdDocType *t;
  g_return_val_if_fail(CD_IS_TAXONOMY(self), NULL);
  t = cd_taxonomy_get(self, type);
  return t != NULL ? t->loinc : NULL;
}

/**
 * cd_taxonomy_get_description:
 * @self: a #CdTaxonomy
 * @type: a type name
 *
 * Returns: (nullable): one line describing the type
 *
 * Since: 0.1
 */
const gchar *
cd_taxonomy_get_description(CdTaxonomy *self, const gchar *type)
{
  CdDocType *t;
  g_return_val_if_fail(CD_IS_TAXONOMY(self), NULL);
  t = cd_taxonomy_get(self, type);
  return t != NULL ? t->description : NULL;
}

/**
 * cd_taxonomy_get_threshold:
 * @self: a #CdTaxonomy
 * @type: (nullable): a type name, or %NULL for the default
 *
 * Returns: the confidence below which a document of @type goes to review,
 *   as the taxonomy sets it (workflows may override it)
 *
 * Since: 0.1
 */
gdouble
cd_taxonomy_get_threshold(CdTaxonomy *self, const gchar *type)
{
  CdDocType *t;
  g_return_val_if_fail(CD_IS_TAXONOMY(self), CD_TAXONOMY_DEFAULT_THRESHOLD);
  t = type != NULL ? cd_taxonomy_get(self, type) : NULL;
  return t != NULL && t->threshold >= 0 ? t->threshold : self->default_threshold;
}

/**
 * cd_taxonomy_get_fallback:
 * @self: a #CdTaxonomy
 *
 * Returns: the type of a document no classifier recognised (`other`)
 *
 * Since: 0.1
 */
const gchar *
cd_taxonomy_get_fallback(CdTaxonomy *self)
{
  g_return_val_if_fail(CD_IS_TAXONOMY(self), NULL);
  return self->fallback;
}
