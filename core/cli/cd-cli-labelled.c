/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Labelled documents for the classifier commands (`classify train`,
 * `evaluate`, `test`): a folder of TYPE/NAME.txt files, or a CSV with a
 * label column and a text column.
 */
#include "config.h"

#include "cd-cli-private.h"
#include "cd-csv-private.h"
#include "cd-util-private.h"

CdLabelled *
cd_labelled_new(void)
{
  CdLabelled *self = g_new0(CdLabelled, 1);
  self->names = g_ptr_array_new_with_free_func(g_free);
  self->texts = g_ptr_array_new_with_free_func(g_free);
  self->labels = g_ptr_array_new_with_free_func(g_free);
  return self;
}

void
cd_labelled_free(CdLabelled *self)
{
  g_ptr_array_unref(self->names);
  g_ptr_array_unref(self->texts);
  g_ptr_array_unref(self->labels);
  g_free(self);
}

/* A CSV with a header row naming a label column and a text column. */
gboolean
cd_labelled_add_csv(CdLabelled *self, const gchar *path, const gchar *label_col, const gchar *text_col, GError **error)
{
  g_autofree gchar *data = NULL;
  g_autoptr(CdCsvReader) reader = NULL;
  g_autoptr(GPtrArray) header = NULL;
  g_autoptr(GError) error_local = NULL;
  gsize len;
  gint li, ti;

  if (!g_file_get_contents(path, &data, &len, error))
    return FALSE;
  if (!g_utf8_validate(data, len, NULL)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: is not UTF-8 text", path);
    return FALSE;
  }
  reader = cd_csv_reader_new(data, len);
  header = cd_csv_reader_next(reader, NULL, &error_local);
  if (header == NULL && error_local != NULL) {
    g_propagate_prefixed_error(error, g_steal_pointer(&error_local), "%s: ", path);
    return FALSE;
  }
  if (header == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: is empty", path);
    return FALSE;
  }
  li = cd_csv_find_column(header, label_col);
  ti = cd_csv_find_column(header, text_col);
  if (li < 0 || ti < 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: the header row has no '%s' column", path,
                li < 0 ? label_col : text_col);
    return FALSE;
  }
  for (;;) {
    guint line = 0;
    g_autoptr(GPtrArray) row = cd_csv_reader_next(reader, &line, &error_local);
    if (row == NULL && error_local != NULL) {
      g_propagate_prefixed_error(error, g_steal_pointer(&error_local), "%s: ", path);
      return FALSE;
    }
    if (row == NULL)
      return TRUE;
    if (cd_csv_record_is_blank(row))
      continue;
    if ((guint) MAX(li, ti) >= row->len) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: line %u has %u fields, the header %u", path, line,
                  row->len, header->len);
      return FALSE;
    }
    g_ptr_array_add(self->names, g_strdup_printf("%s:%u", path, line));
    g_ptr_array_add(self->labels, g_strstrip(g_strdup(g_ptr_array_index(row, li))));
    g_ptr_array_add(self->texts, g_strdup(g_ptr_array_index(row, ti)));
  }
}

static GPtrArray *
cd_dir_sorted(const gchar *path, GError **error)
{
  g_autoptr(GDir) dir = g_dir_open(path, 0, error);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const gchar *name;

  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name(dir)) != NULL) {
    if (name[0] != '.')
      g_ptr_array_add(names, g_strdup(name));
  }
  cd_ptr_array_sort_strings(names);
  return g_steal_pointer(&names);
}

/* A folder of folders: DIR/TYPE/NAME.txt is a document of type TYPE. */
gboolean
cd_labelled_add_folder(CdLabelled *self, const gchar *path, GError **error)
{
  g_autoptr(GPtrArray) types = cd_dir_sorted(path, error);
  guint before = self->texts->len;

  if (types == NULL)
    return FALSE;
  for (guint i = 0; i < types->len; i++) {
    const gchar *type = g_ptr_array_index(types, i);
    g_autofree gchar *sub = g_build_filename(path, type, NULL);
    g_autoptr(GPtrArray) files = NULL;
    if (!g_file_test(sub, G_FILE_TEST_IS_DIR))
      continue;
    files = cd_dir_sorted(sub, error);
    if (files == NULL)
      return FALSE;
    for (guint j = 0; j < files->len; j++) {
      const gchar *name = g_ptr_array_index(files, j);
      g_autofree gchar *file = g_build_filename(sub, name, NULL);
      gchar *text = NULL;
      gsize len;
      if (!g_str_has_suffix(name, ".txt") && !g_str_has_suffix(name, ".text"))
        continue;
      if (!g_file_get_contents(file, &text, &len, error))
        return FALSE;
      if (!g_utf8_validate(text, len, NULL)) {
        g_free(text);
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: is not UTF-8 text", file);
        return FALSE;
      }
      g_ptr_array_add(self->names, g_build_filename(type, name, NULL));
      g_ptr_array_add(self->texts, text);
      g_ptr_array_add(self->labels, g_strdup(type));
    }
  }
  if (self->texts->len == before) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no TYPE/NAME.txt files", path);
    return FALSE;
  }
  return TRUE;
}

/* A --test argument: a folder of type folders, or a CSV. */
gboolean
cd_labelled_add_path(CdLabelled *self, const gchar *path, const gchar *label_col, const gchar *text_col, GError **error)
{
  if (g_file_test(path, G_FILE_TEST_IS_DIR))
    return cd_labelled_add_folder(self, path, error);
  return cd_labelled_add_csv(self, path, label_col, text_col, error);
}
