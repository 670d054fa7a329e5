/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "cd-error.h"
#include "cd-param-private.h"

/**
 * cd_param_value_from_string:
 * @pspec: the property
 * @str: the value as written in a workflow or on the command line
 * @value: (out caller-allocates): an unset #GValue to initialise
 * @error: return location for a #GError
 *
 * Parses a property value the way workflows write them: booleans as
 * `true`/`false`, numbers in C locale, enums and flags by nick (flags
 * separated by `|`), strings as they are. The value must also pass the
 * property's own validation (its range).
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_param_value_from_string(GParamSpec *pspec, const gchar *str, GValue *value, GError **error)
{
  GType type = G_PARAM_SPEC_VALUE_TYPE(pspec);
  g_autoptr(GError) error_local = NULL;

  g_value_init(value, type);
  if (type == G_TYPE_STRING) {
    g_value_set_string(value, str);
  } else if (type == G_TYPE_STRV) {
    /* a list: items separated by ';', blanks around them dropped */
    g_auto(GStrv) items = g_strsplit(str, ";", -1);
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    for (guint i = 0; items[i] != NULL; i++) {
      if (*g_strstrip(items[i]) != '\0')
        g_strv_builder_add(builder, items[i]);
    }
    g_value_take_boxed(value, g_strv_builder_end(builder));
  } else if (type == G_TYPE_BOOLEAN) {
    if (g_strv_contains((const gchar *const[]){ "true", "yes", "on", "1", NULL }, str))
      g_value_set_boolean(value, TRUE);
    else if (g_strv_contains((const gchar *const[]){ "false", "no", "off", "0", NULL }, str))
      g_value_set_boolean(value, FALSE);
    else {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "'%s' is not a boolean (true or false)", str);
      return FALSE;
    }
  } else if (type == G_TYPE_INT || type == G_TYPE_INT64 || type == G_TYPE_LONG) {
    gint64 v;
    if (!g_ascii_string_to_signed(str, 10, G_MININT64, G_MAXINT64, &v, &error_local)) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "'%s' is not an integer", str);
      return FALSE;
    }
    if (type == G_TYPE_INT) {
      if (v < G_MININT || v > G_MAXINT) {
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s is out of range", str);
        return FALSE;
      }
      g_value_set_int(value, (gint) v);
    } else if (type == G_TYPE_LONG) {
      g_value_set_long(value, (glong) v);
    } else {
      g_value_set_int64(value, v);
    }
  } else if (type == G_TYPE_UINT || type == G_TYPE_UINT64 || type == G_TYPE_ULONG) {
    guint64 v;
    if (!g_ascii_string_to_unsigned(str, 10, 0, G_MAXUINT64, &v, &error_local)) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "'%s' is not a non-negative integer", str);
      return FALSE;
    }
    if (type == G_TYPE_UINT) {
      if (v > G_MAXUINT) {
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s is out of range", str);
        return FALSE;
      }
      g_value_set_uint(value, (guint) v);
    } else if (type == G_TYPE_ULONG) {
      g_value_set_ulong(value, (gulong) v);
    } else {
      g_value_set_uint64(value, v);
    }
  } else if (type == G_TYPE_DOUBLE || type == G_TYPE_FLOAT) {
    gchar *end = NULL;
    gdouble v;
    errno = 0;
    v = g_ascii_strtod(str, &end);
    if (str[0] == '\0' || end == NULL || *end != '\0' || errno != 0 || !isfinite(v)) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "'%s' is not a number", str);
      return FALSE;
    }
    if (type == G_TYPE_DOUBLE)
      g_value_set_double(value, v);
    else
      g_value_set_float(value, (gfloat) v);
  } else if (G_TYPE_IS_ENUM(type)) {
    g_autoptr(GEnumClass) klass = g_type_class_ref(type);
    GEnumValue *ev = g_enum_get_value_by_nick(klass, str);
    if (ev == NULL) {
      g_autoptr(GString) nicks = g_string_new(NULL);
      for (guint i = 0; i < klass->n_values; i++)
        g_string_append_printf(nicks, "%s%s", i > 0 ? ", " : "", klass->values[i].value_nick);
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "'%s' is not one of %s", str, nicks->str);
      return FALSE;
    }
    g_value_set_enum(value, ev->value);
  } else if (G_TYPE_IS_FLAGS(type)) {
    g_autoptr(GFlagsClass) klass = g_type_class_ref(type);
    g_auto(GStrv) parts = g_strsplit(str, "|", -1);
    guint flags = 0;
    for (guint i = 0; parts[i] != NULL; i++) {
      GFlagsValue *fv = g_flags_get_value_by_nick(klass, g_strstrip(parts[i]));
      if (fv == NULL) {
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "'%s' is not a known flag", parts[i]);
        return FALSE;
      }
      flags |= fv->value;
    }
    g_value_set_flags(value, flags);
  } else {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED, "options of type %s cannot be set from text",
                g_type_name(type));
    return FALSE;
  }
  if (g_param_value_validate(pspec, value)) {
    g_autofree gchar *contents = NULL;
    if (G_IS_PARAM_SPEC_INT(pspec))
      contents = g_strdup_printf("%d to %d", G_PARAM_SPEC_INT(pspec)->minimum, G_PARAM_SPEC_INT(pspec)->maximum);
    else if (G_IS_PARAM_SPEC_UINT(pspec))
      contents = g_strdup_printf("%u to %u", G_PARAM_SPEC_UINT(pspec)->minimum, G_PARAM_SPEC_UINT(pspec)->maximum);
    else if (G_IS_PARAM_SPEC_DOUBLE(pspec))
      contents = g_strdup_printf("%g to %g", G_PARAM_SPEC_DOUBLE(pspec)->minimum, G_PARAM_SPEC_DOUBLE(pspec)->maximum);
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s is out of range%s%s", str,
                contents != NULL ? ": allowed " : "", contents != NULL ? contents : "");
    return FALSE;
  }
  return TRUE;
}

/**
 * cd_param_value_to_string:
 * @value: a #GValue of a type cd_param_value_from_string() reads
 *
 * Returns: (transfer full): the value as a workflow would write it
 *
 * Since: 0.1
 */
gchar *
cd_param_value_to_string(const GValue *value)
{
  GType type = G_VALUE_TYPE(value);

  if (type == G_TYPE_STRING)
    return g_strdup(g_value_get_string(value) != NULL ? g_value_get_string(value) : "");
  if (type == G_TYPE_STRV)
    return g_value_get_boxed(value) != NULL ? g_strjoinv(";", g_value_get_boxed(value)) : g_strdup("");
  if (type == G_TYPE_BOOLEAN)
    return g_strdup(g_value_get_boolean(value) ? "true" : "false");
  if (type == G_TYPE_DOUBLE || type == G_TYPE_FLOAT) {
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
    gdouble v = type == G_TYPE_DOUBLE ? g_value_get_double(value) : g_value_get_float(value);
    return g_strdup(g_ascii_formatd(buf, sizeof buf, "%g", v));
  }
  if (G_TYPE_IS_ENUM(type)) {
    g_autoptr(GEnumClass) klass = g_type_class_ref(type);
    GEnumValue *ev = g_enum_get_value(klass, g_value_get_enum(value));
    return g_strdup(ev != NULL ? ev->value_nick : "");
  }
  if (G_TYPE_IS_FLAGS(type)) {
    g_autoptr(GFlagsClass) klass = g_type_class_ref(type);
    GString *str = g_string_new(NULL);
    guint flags = g_value_get_flags(value);
    for (guint i = 0; i < klass->n_values; i++) {
      if ((flags & klass->values[i].value) == klass->values[i].value && klass->values[i].value != 0)
        g_string_append_printf(str, "%s%s", str->len > 0 ? "|" : "", klass->values[i].value_nick);
    }
    return g_string_free(str, FALSE);
  }
  {
    GValue tmp = G_VALUE_INIT;
    gchar *out;
    g_value_init(&tmp, G_TYPE_STRING);
    if (!g_value_transform(value, &tmp))
      return g_strdup("");
    out = g_value_dup_string(&tmp);
    g_value_unset(&tmp);
    return out;
  }
}

/**
 * cd_param_parse_assignment:
 * @assignment: `STAGE.OPTION=VALUE`, as `--set` and StartBatch's `set` take it
 * @stage: (out) (optional) (transfer full): the stage name
 * @option: (out) (optional) (transfer full): the option name
 * @value: (out) (optional) (transfer full): the value, verbatim (it may hold
 *   `=` and `.`, as regular expressions do)
 * @error: return location for a #GError
 *
 * Splits an option assignment at the first `=`, and its name at the first
 * `.`. Stage and option must both be non-empty; the value may be empty.
 * Whether the stage and option exist is the workflow's to say
 * (cd_workflow_set_option()).
 *
 * Returns: %TRUE if @assignment has that form
 *
 * Since: 0.1
 */
gboolean
cd_param_parse_assignment(const gchar *assignment, gchar **stage, gchar **option, gchar **value, GError **error)
{
  const gchar *eq = assignment != NULL ? strchr(assignment, '=') : NULL;
  const gchar *dot = eq != NULL ? memchr(assignment, '.', eq - assignment) : NULL;

  if (dot == NULL || dot == assignment || dot + 1 == eq) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "'%s' is not STAGE.OPTION=VALUE",
                assignment != NULL ? assignment : "");
    return FALSE;
  }
  if (stage != NULL)
    *stage = g_strndup(assignment, dot - assignment);
  if (option != NULL)
    *option = g_strndup(dot + 1, eq - dot - 1);
  if (value != NULL)
    *value = g_strdup(eq + 1);
  return TRUE;
}
