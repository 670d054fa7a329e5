/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gio/gio.h>

#include "cd-error.h"
#include "cd-util-private.h"

static gint
cd_strcmp_indirect(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(const gchar *const *) a, *(const gchar *const *) b);
}

/* Sorts an array of strings in byte order (GLib 2.74 lacks
 * g_ptr_array_sort_values()). */
void
cd_ptr_array_sort_strings(GPtrArray *array)
{
  g_ptr_array_sort(array, cd_strcmp_indirect);
}

/*
 * Hashes a whole file in 64 KiB reads, so a large scan costs no more memory
 * than a small one. The hash is the file's identity in the archive.
 */
gchar *
cd_file_sha256(const gchar *path, guint64 *size, GError **error)
{
  g_autoptr(GFile) file = g_file_new_for_path(path);
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc(65536);
  guint64 total = 0;

  stream = g_file_read(file, NULL, error);
  if (stream == NULL)
    return NULL;
  for (;;) {
    gssize n = g_input_stream_read(G_INPUT_STREAM(stream), buf, 65536, NULL, error);
    if (n < 0)
      return NULL;
    if (n == 0)
      break;
    g_checksum_update(checksum, buf, n);
    total += n;
  }
  if (size != NULL)
    *size = total;
  return g_strdup(g_checksum_get_string(checksum));
}

/* UTC with millisecond precision: audit entries and batch times sort and
 * compare as text. */
gchar *
cd_now_iso8601(void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  return g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

/* Compact JSON for storage and JSON Lines output. */
gchar *
cd_json_to_string(JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, node);
  return json_generator_to_data(gen, NULL);
}

/* @strv (NULL-terminated, or NULL for none) as a JSON array of strings. */
JsonNode *
cd_json_strv_new(const gchar *const *strv)
{
  g_autoptr(JsonBuilder) b = json_builder_new();

  json_builder_begin_array(b);
  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    json_builder_add_string_value(b, strv[i]);
  json_builder_end_array(b);
  return json_builder_get_root(b);
}

/* Whether this process runs from the build tree, where the test suite and
 * the quick start run it: then plugins and workflows are found there too. */
gboolean
cd_running_uninstalled(void)
{
  g_autofree gchar *exe = g_file_read_link("/proc/self/exe", NULL);
  return exe != NULL && g_str_has_prefix(exe, CD_BUILD_ROOT "/");
}

/* @member as @value, or null when @value is %NULL. */
void
cd_json_add_string_or_null(JsonBuilder *b, const gchar *member, const gchar *value)
{
  json_builder_set_member_name(b, member);
  if (value != NULL)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}
