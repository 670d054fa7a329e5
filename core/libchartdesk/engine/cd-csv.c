/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "cd-csv-private.h"
#include "cd-error.h"

struct _CdCsvReader {
  const gchar *data; /* not owned: the caller keeps the text alive */
  gsize len;
  gsize pos;  /* the next byte to read */
  guint line; /* the line *pos is on, from 1 */
};

/**
 * cd_csv_reader_new:
 * @data: CSV text; it must outlive the reader
 * @len: its length in bytes
 *
 * Reads @data record by record. A UTF-8 byte order mark at the start is
 * skipped (spreadsheets write one).
 *
 * Returns: (transfer full): a reader
 */
CdCsvReader *
cd_csv_reader_new(const gchar *data, gsize len)
{
  CdCsvReader *self = g_new0(CdCsvReader, 1);

  self->data = data;
  self->len = len;
  self->line = 1;
  if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
    self->pos = 3;
  return self;
}

void
cd_csv_reader_free(CdCsvReader *self)
{
  g_free(self);
}

/**
 * cd_csv_reader_next:
 * @self: a reader
 * @line: (out) (optional): the line the record starts on
 * @error: return location for a #GError
 *
 * Splits the next record (RFC 4180): fields are separated by commas; a
 * field that starts with a quote may hold commas, line breaks and doubled
 * quotes; CRLF, LF or CR ends a record. An empty line is a record of one
 * empty field (cd_csv_record_is_blank()). A quote that is never closed
 * is an error naming the line it opened on — a truncated file — never a
 * record silently merged with the rest of the file.
 *
 * Returns: (transfer full) (nullable): the record's fields, or %NULL at
 *   the end of the text (@error unset) or on an error
 */
GPtrArray *
cd_csv_reader_next(CdCsvReader *self, guint *line, GError **error)
{
  g_autoptr(GPtrArray) fields = NULL;
  g_autoptr(GString) field = NULL;
  gboolean quoted = FALSE, was_quoted = FALSE;
  guint quote_line = 0;

  if (self->pos >= self->len)
    return NULL;
  if (line != NULL)
    *line = self->line;
  fields = g_ptr_array_new_with_free_func(g_free);
  field = g_string_new(NULL);
  for (; self->pos < self->len; self->pos++) {
    gchar c = self->data[self->pos];
    if (quoted) {
      if (c == '"' && self->pos + 1 < self->len && self->data[self->pos + 1] == '"') {
        g_string_append_c(field, '"');
        self->pos++;
      } else if (c == '"') {
        quoted = FALSE;
      } else {
        if (c == '\n')
          self->line++;
        g_string_append_c(field, c);
      }
    } else if (c == '"' && field->len == 0 && !was_quoted) {
      quoted = was_quoted = TRUE;
      quote_line = self->line;
    } else if (c == ',') {
      g_ptr_array_add(fields, g_string_free(g_steal_pointer(&field), FALSE));
      field = g_string_new(NULL);
      was_quoted = FALSE;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && self->pos + 1 < self->len && self->data[self->pos + 1] == '\n')
        self->pos++;
      self->pos++;
      self->line++;
      break;
    } else {
      g_string_append_c(field, c);
    }
  }
  if (quoted) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "line %u: a quoted field is never closed", quote_line);
    return NULL;
  }
  g_ptr_array_add(fields, g_string_free(g_steal_pointer(&field), FALSE));
  return g_steal_pointer(&fields);
}

/* Whether @record is an empty line: one field, nothing in it but blanks. */
gboolean
cd_csv_record_is_blank(GPtrArray *record)
{
  const gchar *only = record->len == 1 ? g_ptr_array_index(record, 0) : NULL;

  if (only == NULL)
    return FALSE;
  for (; *only != '\0'; only++) {
    if (!g_ascii_isspace(*only))
      return FALSE;
  }
  return TRUE;
}

/* The index of the first header column called @name (ASCII case and
 * surrounding blanks ignored), or -1. */
gint
cd_csv_find_column(GPtrArray *header, const gchar *name)
{
  for (guint i = 0; i < header->len; i++) {
    g_autofree gchar *h = g_strdup(g_ptr_array_index(header, i));
    if (g_ascii_strcasecmp(g_strstrip(h), name) == 0)
      return (gint) i;
  }
  return -1;
}

/**
 * cd_csv_append_field:
 * @out: the line being written
 * @value: (nullable): the field; %NULL writes an empty field
 *
 * Appends one field as RFC 4180 writes it: quoted, its quotes doubled,
 * when it holds a comma, a quote or a line break. A field that a
 * spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`,
 * a tab or a carriage return) is written quoted behind an apostrophe, so
 * an audit entry's text someone chose (a search, a file name) is shown,
 * never run, when the export is opened.
 */
void
cd_csv_append_field(GString *out, const gchar *value)
{
  gboolean formula;

  g_return_if_fail(out != NULL);
  if (value == NULL || value[0] == '\0')
    return;
  formula = strchr("=+-@\t\r", value[0]) != NULL;
  if (!formula && strpbrk(value, ",\"\r\n") == NULL) {
    g_string_append(out, value);
    return;
  }
  g_string_append_c(out, '"');
  if (formula)
    g_string_append_c(out, '\'');
  for (const gchar *p = value; *p != '\0'; p++) {
    if (*p == '"')
      g_string_append_c(out, '"');
    g_string_append_c(out, *p);
  }
  g_string_append_c(out, '"');
}
