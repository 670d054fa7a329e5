/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Readers for master patient index extracts: CSV, FHIR R4 Patient resources
 * (a Bundle, NDJSON or one resource) and HL7 v2 ADT messages. A record that
 * cannot be used is reported with its line or number and skipped; the rest
 * is read.
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "cd-error.h"
#include "cd-mpi.h"

/**
 * cd_mpi_format_from_string:
 * @name: `auto`, `csv`, `fhir` or `hl7`
 * @format: (out): the format
 *
 * Returns: %TRUE if @name is a format
 *
 * Since: 0.1
 */
gboolean
cd_mpi_format_from_string(const gchar *name, CdMpiFormat *format)
{
  const gchar *const names[] = { "auto", "csv", "fhir", "hl7", NULL };
  for (guint i = 0; names[i] != NULL; i++) {
    if (g_strcmp0(name, names[i]) == 0) {
      *format = (CdMpiFormat) i;
      return TRUE;
    }
  }
  return FALSE;
}

static void cd_mpi_problem(GPtrArray *problems, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

static void
cd_mpi_problem(GPtrArray *problems, const gchar *format, ...)
{
  va_list args;
  va_start(args, format);
  if (problems != NULL) {
    /* a problem quotes the input, which need not be UTF-8; problems are
     * printed and go into `mpi import --json`, which must be */
    g_autofree gchar *text = g_strdup_vprintf(format, args);
    g_ptr_array_add(problems, g_utf8_make_valid(text, -1));
  }
  va_end(args);
}

/* YYYY-MM-DD, YYYYMMDD (HL7) or MM/DD/YYYY; NULL if not a real date */
static gchar *
cd_mpi_date(const gchar *text)
{
  guint y = 0, m = 0, d = 0;
  gchar tail = 0;

  if (text == NULL || *text == '\0')
    return NULL;
  if (sscanf(text, "%4u-%2u-%2u%c", &y, &m, &d, &tail) == 3) {
  } else if (strlen(text) >= 8 && g_ascii_isdigit(text[0]) && sscanf(text, "%4u%2u%2u", &y, &m, &d) == 3 &&
             strchr(text, '/') == NULL && strchr(text, '-') == NULL) {
  } else if (sscanf(text, "%2u/%2u/%4u%c", &m, &d, &y, &tail) == 3) {
  } else {
    return NULL;
  }
  if (y < 1800 || !g_date_valid_dmy(d, m, y))
    return NULL;
  return g_strdup_printf("%04u-%02u-%02u", y, m, d);
}

static gchar *
cd_mpi_sex(const gchar *text)
{
  g_autofree gchar *copy = text != NULL ? g_strstrip(g_strdup(text)) : NULL;
  g_autofree gchar *lower = copy != NULL ? g_ascii_strdown(copy, -1) : NULL;

  if (lower == NULL || *lower == '\0')
    return NULL;
  if (g_strcmp0(lower, "m") == 0 || g_strcmp0(lower, "male") == 0)
    return g_strdup("M");
  if (g_strcmp0(lower, "f") == 0 || g_strcmp0(lower, "female") == 0)
    return g_strdup("F");
  if (g_strcmp0(lower, "o") == 0 || g_strcmp0(lower, "other") == 0)
    return g_strdup("O");
  return g_strdup("U");
}

/* Checks and keeps a patient read from @where. */
static void
cd_mpi_take(GPtrArray *out, CdPatient *patient, const gchar *where, GPtrArray *problems)
{
  g_autoptr(CdPatient) p = patient;

  if (p->mrn == NULL || *g_strstrip(p->mrn) == '\0') {
    cd_mpi_problem(problems, "%s: no MRN; record skipped", where);
    return;
  }
  if (p->merged_into == NULL && p->family == NULL) {
    cd_mpi_problem(problems, "%s: MRN %s has no family name; record skipped", where, p->mrn);
    return;
  }
  g_ptr_array_add(out, g_steal_pointer(&p));
}

/* ------------------------------------------------------------------ CSV */

/* Splits one CSV record starting at *pos (RFC 4180: quoted fields may hold
 * commas, newlines and doubled quotes). Advances *pos and *line. */
static GPtrArray *
cd_csv_record(const gchar *data, gsize len, gsize *pos, guint *line, gboolean *bad_quote)
{
  GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
  GString *field = g_string_new(NULL);
  gboolean quoted = FALSE;
  gsize i = *pos;

  for (; i < len; i++) {
    gchar c = data[i];
    if (quoted) {
      if (c == '"' && i + 1 < len && data[i + 1] == '"') {
        g_string_append_c(field, '"');
        i++;
      } else if (c == '"') {
        quoted = FALSE;
      } else {
        if (c == '\n')
          (*line)++;
        g_string_append_c(field, c);
      }
    } else if (c == '"' && field->len == 0) {
      quoted = TRUE;
    } else if (c == ',') {
      g_ptr_array_add(fields, g_string_free(g_steal_pointer(&field), FALSE));
      field = g_string_new(NULL);
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
        i++;
      i++;
      break;
    } else {
      g_string_append_c(field, c);
    }
  }
  *bad_quote = quoted;
  g_ptr_array_add(fields, g_string_free(field, FALSE));
  *pos = i;
  (*line)++;
  return fields;
}

/* A row's field in column @col, blanks stripped; NULL if the row is short. */
static const gchar *
cd_csv_field(GPtrArray *row, gint col)
{
  if (col < 0 || (guint) col >= row->len)
    return NULL;
  return g_strstrip((gchar *) g_ptr_array_index(row, col));
}

static gchar *
cd_csv_value(GPtrArray *row, gint col)
{
  const gchar *v = cd_csv_field(row, col);
  return v != NULL && *v != '\0' ? g_strdup(v) : NULL;
}

static GPtrArray *
cd_mpi_read_csv(const gchar *name, const gchar *data, gsize len, GPtrArray *problems, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  g_autoptr(GPtrArray) header = NULL;
  const gchar *const columns[] = { "mrn", "family", "given", "middle", "dob", "sex", NULL };
  gint col[6] = { -1, -1, -1, -1, -1, -1 };
  gsize pos = 0;
  guint line = 1;
  gboolean bad_quote = FALSE;

  if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
    pos = 3;
  header = cd_csv_record(data, len, &pos, &line, &bad_quote);
  for (guint i = 0; i < header->len; i++) {
    g_autofree gchar *h = g_ascii_strdown(g_strstrip((gchar *) g_ptr_array_index(header, i)), -1);
    for (guint j = 0; columns[j] != NULL; j++) {
      if (g_strcmp0(h, columns[j]) == 0 && col[j] < 0)
        col[j] = i;
    }
  }
  if (col[0] < 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "%s:1: no 'mrn' column in the header row (expected mrn,family,given,middle,dob,sex)", name);
    return NULL;
  }
  while (pos < len) {
    guint start = line;
    g_autoptr(GPtrArray) f = cd_csv_record(data, len, &pos, &line, &bad_quote);
    g_autofree gchar *where = g_strdup_printf("%s:%u", name, start);
    CdPatient *p;
    const gchar *dob;

    if (f->len == 1 && *g_strstrip((gchar *) g_ptr_array_index(f, 0)) == '\0')
      continue; /* an empty line */
    if (bad_quote) {
      cd_mpi_problem(problems, "%s: a quoted field is not closed; row skipped", where);
      continue;
    }
    for (guint i = 0; i < f->len; i++) {
      if (!g_utf8_validate(g_ptr_array_index(f, i), -1, NULL)) {
        cd_mpi_problem(problems, "%s: not UTF-8 text; row skipped", where);
        goto next;
      }
    }
    /* a row too short to reach the MRN column has none (found by fuzzing:
     * it was a NULL MRN, and a crash) */
    p = cd_patient_new(cd_csv_field(f, col[0]) != NULL ? cd_csv_field(f, col[0]) : "");
    p->family = cd_csv_value(f, col[1]);
    p->given = cd_csv_value(f, col[2]);
    p->middle = cd_csv_value(f, col[3]);
    dob = cd_csv_field(f, col[4]);
    if (dob != NULL && *dob != '\0') {
      p->dob = cd_mpi_date(dob);
      if (p->dob == NULL) {
        cd_mpi_problem(problems, "%s: DOB '%s' is not a date (YYYY-MM-DD); row skipped", where, dob);
        cd_patient_free(p);
        continue;
      }
    }
    p->sex = cd_mpi_sex(cd_csv_field(f, col[5]));
    cd_mpi_take(out, p, where, problems);
  next:;
  }
  return g_steal_pointer(&out);
}

/* ------------------------------------------------------------------ FHIR */

static const gchar *
cd_json_string(JsonObject *o, const gchar *member)
{
  JsonNode *n = o != NULL ? json_object_get_member(o, member) : NULL;
  return n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING ? json_node_get_string(n)
                                                                                               : NULL;
}

static JsonArray *
cd_json_array(JsonObject *o, const gchar *member)
{
  JsonNode *n = o != NULL ? json_object_get_member(o, member) : NULL;
  return n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static JsonObject *
cd_json_element_object(JsonArray *a, guint i)
{
  JsonNode *n = json_array_get_element(a, i);
  return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* The MRN of a Patient: the identifier of @system, or without a system the
 * one typed MR (v2-0203). */
static const gchar *
cd_fhir_mrn(JsonObject *resource, const gchar *system)
{
  JsonArray *ids = cd_json_array(resource, "identifier");

  for (guint i = 0; ids != NULL && i < json_array_get_length(ids); i++) {
    JsonObject *id = cd_json_element_object(ids, i);
    if (system != NULL) {
      if (g_strcmp0(cd_json_string(id, "system"), system) == 0)
        return cd_json_string(id, "value");
      continue;
    }
    if (id != NULL && json_object_has_member(id, "type")) {
      JsonNode *type = json_object_get_member(id, "type");
      JsonArray *codings = JSON_NODE_HOLDS_OBJECT(type) ? cd_json_array(json_node_get_object(type), "coding") : NULL;
      for (guint j = 0; codings != NULL && j < json_array_get_length(codings); j++) {
        if (g_strcmp0(cd_json_string(cd_json_element_object(codings, j), "code"), "MR") == 0)
          return cd_json_string(id, "value");
      }
    }
  }
  return NULL;
}

static void
cd_fhir_patient(GPtrArray *out, JsonObject *r, const gchar *where, const gchar *system, GPtrArray *problems)
{
  JsonArray *names = cd_json_array(r, "name");
  JsonArray *links = cd_json_array(r, "link");
  JsonObject *name = NULL;
  const gchar *mrn = cd_fhir_mrn(r, system);
  CdPatient *p;

  if (g_strcmp0(cd_json_string(r, "resourceType"), "Patient") != 0)
    return;
  if (mrn == NULL) {
    cd_mpi_problem(problems, "%s: Patient %s has no MRN identifier%s%s; skipped", where,
                   cd_json_string(r, "id") != NULL ? cd_json_string(r, "id") : "", system != NULL ? " of system " : "",
                   system != NULL ? system : " (type MR)");
    return;
  }
  p = cd_patient_new(mrn);
  for (guint i = 0; names != NULL && i < json_array_get_length(names); i++) {
    JsonObject *n = cd_json_element_object(names, i);
    if (name == NULL || g_strcmp0(cd_json_string(n, "use"), "official") == 0)
      name = n;
  }
  if (name != NULL) {
    JsonArray *given = cd_json_array(name, "given");
    p->family = g_strdup(cd_json_string(name, "family"));
    if (given != NULL && json_array_get_length(given) > 0)
      p->given = g_strdup(json_array_get_string_element(given, 0));
    if (given != NULL && json_array_get_length(given) > 1)
      p->middle = g_strdup(json_array_get_string_element(given, 1));
  }
  if (cd_json_string(r, "birthDate") != NULL) {
    p->dob = cd_mpi_date(cd_json_string(r, "birthDate"));
    if (p->dob == NULL)
      cd_mpi_problem(problems, "%s: MRN %s: birthDate '%s' is not a full date; left empty", where, mrn,
                     cd_json_string(r, "birthDate"));
  }
  p->sex = cd_mpi_sex(cd_json_string(r, "gender"));
  /* a record replaced by another is merged into it, when the link names
   * the survivor by its MRN identifier */
  for (guint i = 0; links != NULL && i < json_array_get_length(links); i++) {
    JsonObject *l = cd_json_element_object(links, i);
    JsonNode *other = l != NULL ? json_object_get_member(l, "other") : NULL;
    if (g_strcmp0(cd_json_string(l, "type"), "replaced-by") == 0 && other != NULL && JSON_NODE_HOLDS_OBJECT(other)) {
      JsonObject *ref = json_node_get_object(other);
      JsonNode *ident = json_object_get_member(ref, "identifier");
      if (ident != NULL && JSON_NODE_HOLDS_OBJECT(ident))
        p->merged_into = g_strdup(cd_json_string(json_node_get_object(ident), "value"));
      else
        cd_mpi_problem(problems, "%s: MRN %s is replaced by %s, which names no MRN identifier; merge ignored", where,
                       mrn, cd_json_string(ref, "reference"));
    }
  }
  cd_mpi_take(out, p, where, problems);
}

static GPtrArray *
cd_mpi_read_fhir(const gchar *name, const gchar *data, gsize len, const gchar *system, GPtrArray *problems,
                 GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error_local = NULL;

  if (json_parser_load_from_data(parser, data, len, &error_local)) {
    JsonNode *root = json_parser_get_root(parser);
    JsonObject *o = root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    if (o == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: not a FHIR resource (a JSON object)", name);
      return NULL;
    }
    if (g_strcmp0(cd_json_string(o, "resourceType"), "Bundle") == 0) {
      JsonArray *entries = cd_json_array(o, "entry");
      for (guint i = 0; entries != NULL && i < json_array_get_length(entries); i++) {
        JsonObject *e = cd_json_element_object(entries, i);
        JsonNode *res = e != NULL ? json_object_get_member(e, "resource") : NULL;
        g_autofree gchar *where = g_strdup_printf("%s: entry %u", name, i + 1);
        if (res != NULL && JSON_NODE_HOLDS_OBJECT(res))
          cd_fhir_patient(out, json_node_get_object(res), where, system, problems);
      }
    } else {
      cd_fhir_patient(out, o, name, system, problems);
    }
    return g_steal_pointer(&out);
  }
  /* NDJSON: a resource per line */
  {
    /* @data is @len bytes, not a string (fuzzing found the overread) */
    g_autofree gchar *text = g_strndup(data, len);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint n_ok = 0;
    for (guint i = 0; lines[i] != NULL; i++) {
      g_autoptr(JsonParser) lp = json_parser_new();
      g_autoptr(GError) error_line = NULL;
      g_autofree gchar *where = g_strdup_printf("%s:%u", name, i + 1);
      JsonNode *root;
      if (*g_strstrip(lines[i]) == '\0')
        continue;
      if (!json_parser_load_from_data(lp, lines[i], -1, &error_line)) {
        cd_mpi_problem(problems, "%s: not JSON (%s); line skipped", where, error_line->message);
        continue;
      }
      /* a line of only a comment parses, to no root (found by fuzzing) */
      root = json_parser_get_root(lp);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
        cd_mpi_problem(problems, "%s: not a FHIR resource; line skipped", where);
        continue;
      }
      n_ok++;
      cd_fhir_patient(out, json_node_get_object(root), where, system, problems);
    }
    if (n_ok == 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: neither a FHIR JSON resource nor NDJSON: %s", name,
                  error_local->message);
      return NULL;
    }
  }
  return g_steal_pointer(&out);
}

/* ------------------------------------------------------------------ HL7 v2 */

typedef struct {
  gchar field, component, repetition, escape, sub;
} CdHl7Enc;

static gchar *
cd_hl7_unescape(const gchar *s, const CdHl7Enc *enc)
{
  GString *out = g_string_new(NULL);
  for (const gchar *p = s; *p != '\0'; p++) {
    if (*p == enc->escape && p[1] != '\0' && p[2] == enc->escape) {
      switch (p[1]) {
      case 'F':
        g_string_append_c(out, enc->field);
        break;
      case 'S':
        g_string_append_c(out, enc->component);
        break;
      case 'T':
        g_string_append_c(out, enc->sub);
        break;
      case 'R':
        g_string_append_c(out, enc->repetition);
        break;
      case 'E':
        g_string_append_c(out, enc->escape);
        break;
      default:
        g_string_append_len(out, p, 3);
      }
      p += 2;
    } else {
      g_string_append_c(out, *p);
    }
  }
  return g_string_free(out, FALSE);
}

/* Component @c (1-based) of field text, unescaped; NULL when empty. */
static gchar *
cd_hl7_component(const gchar *field, guint c, const CdHl7Enc *enc)
{
  gchar sep[2] = { enc->component, 0 };
  g_auto(GStrv) parts = g_strsplit(field != NULL ? field : "", sep, -1);
  if (c == 0 || c > g_strv_length(parts) || *parts[c - 1] == '\0')
    return NULL;
  {
    gchar sub[2] = { enc->sub, 0 };
    g_auto(GStrv) subs = g_strsplit(parts[c - 1], sub, 2);
    return cd_hl7_unescape(subs[0], enc);
  }
}

/* The MRN of PID-3: the repetition whose identifier type (CX.5) is MR, or
 * the first. */
static gchar *
cd_hl7_mrn(const gchar *field, const CdHl7Enc *enc)
{
  gchar rep[2] = { enc->repetition, 0 };
  g_auto(GStrv) reps = g_strsplit(field != NULL ? field : "", rep, -1);

  for (guint i = 0; reps[i] != NULL; i++) {
    g_autofree gchar *type = cd_hl7_component(reps[i], 5, enc);
    if (g_strcmp0(type, "MR") == 0)
      return cd_hl7_component(reps[i], 1, enc);
  }
  return reps[0] != NULL ? cd_hl7_component(reps[0], 1, enc) : NULL;
}

static GPtrArray *
cd_mpi_read_hl7(const gchar *name, const gchar *data, gsize len, GPtrArray *problems, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  g_autoptr(GString) text = g_string_new_len(data, len);
  g_auto(GStrv) segments = NULL;
  guint n_msg = 0, n_used = 0;
  CdHl7Enc enc = { '|', '^', '~', '\\', '&' };
  g_autofree gchar *event = NULL;
  g_autoptr(GPtrArray) seg_of_msg = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
  guint msg_line = 0;
  gboolean msg_not_utf8 = FALSE; /* the current message is skipped: it is not UTF-8 */

  /* MLLP framing and any line ending */
  for (gsize i = 0; i < text->len; i++) {
    if (text->str[i] == 0x0b || text->str[i] == 0x1c)
      text->str[i] = '\r';
    else if (text->str[i] == '\n')
      text->str[i] = '\r';
  }
  segments = g_strsplit(text->str, "\r", -1);

  for (guint i = 0; segments[i] != NULL; i++) {
    gchar *s = segments[i];
    g_autofree gchar *where = g_strdup_printf("%s: message %u (segment %u)", name, n_msg, i + 1);
    g_auto(GStrv) f = NULL;
    gchar fs[2];

    if (*s == '\0')
      continue;
    if (g_str_has_prefix(s, "MSH") && strlen(s) >= 8) {
      n_msg++;
      msg_line = i + 1;
      enc.field = s[3];
      enc.component = s[4];
      enc.repetition = s[5];
      enc.escape = s[6];
      enc.sub = s[7];
      fs[0] = enc.field;
      fs[1] = 0;
      f = g_strsplit(s, fs, -1);
      g_clear_pointer(&event, g_free);
      msg_not_utf8 = FALSE;
      /* MSH-9: the field separator is MSH-1, so MSH-9 is f[8] */
      if (g_strv_length(f) > 8)
        event = cd_hl7_component(f[8], 2, &enc);
      continue;
    }
    if (n_msg == 0) {
      cd_mpi_problem(problems, "%s: segment %u comes before any MSH segment; skipped", name, i + 1);
      continue;
    }
    /* text that is not UTF-8 cannot be stored (found by fuzzing); the
     * whole message is skipped, so that an MRG never pairs with a PID of
     * another message */
    if (!msg_not_utf8 && !g_utf8_validate(s, -1, NULL)) {
      msg_not_utf8 = TRUE;
      cd_mpi_problem(problems, "%s: not UTF-8 text; the rest of the message is skipped", where);
    }
    if (msg_not_utf8)
      continue;
    fs[0] = enc.field;
    fs[1] = 0;
    f = g_strsplit(s, fs, -1);
    if (g_str_has_prefix(s, "PID")) {
      const gchar *wanted[] = { "A01", "A04", "A05", "A08", "A28", "A31", "A40", NULL };
      CdPatient *p;
      g_autofree gchar *mrn = NULL;
      g_autofree gchar *dob = NULL;
      (void) msg_line;
      if (event == NULL || !g_strv_contains(wanted, event)) {
        cd_mpi_problem(problems, "%s: event %s carries no index update; skipped", where,
                       event != NULL ? event : "(none)");
        continue;
      }
      mrn = g_strv_length(f) > 3 ? cd_hl7_mrn(f[3], &enc) : NULL;
      /* a PID without PID-3 has no MRN (found by fuzzing: a NULL one, and
       * a crash); cd_mpi_take() refuses it with the reason */
      p = cd_patient_new(mrn != NULL ? mrn : "");
      if (g_strv_length(f) > 5) {
        p->family = cd_hl7_component(f[5], 1, &enc);
        p->given = cd_hl7_component(f[5], 2, &enc);
        p->middle = cd_hl7_component(f[5], 3, &enc);
      }
      if (g_strv_length(f) > 7 && *f[7] != '\0') {
        p->dob = cd_mpi_date(f[7]);
        if (p->dob == NULL)
          cd_mpi_problem(problems, "%s: PID-7 '%s' is not a date; left empty", where, f[7]);
      }
      if (g_strv_length(f) > 8)
        p->sex = cd_mpi_sex(f[8]);
      n_used++;
      cd_mpi_take(out, p, where, problems);
      continue;
    }
    if (g_str_has_prefix(s, "MRG") && g_strcmp0(event, "A40") == 0) {
      /* the prior MRN (MRG-1) is merged into the PID-3 just read */
      g_autofree gchar *prior = g_strv_length(f) > 1 ? cd_hl7_mrn(f[1], &enc) : NULL;
      CdPatient *survivor = out->len > 0 ? g_ptr_array_index(out, out->len - 1) : NULL;
      CdPatient *merged;
      /* an empty MRG-1 names no patient to merge (found by fuzzing) */
      if (prior == NULL || *g_strstrip(prior) == '\0' || survivor == NULL) {
        cd_mpi_problem(problems, "%s: A40 without a prior MRN in MRG-1 or a PID before it; skipped", where);
        continue;
      }
      merged = cd_patient_new(prior);
      merged->merged_into = g_strdup(survivor->mrn);
      g_ptr_array_add(out, merged);
    }
  }
  if (n_msg == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: no HL7 v2 message (no MSH segment)", name);
    return NULL;
  }
  return g_steal_pointer(&out);
}

/**
 * cd_mpi_read_data:
 * @name: what to call the data in messages (a file name)
 * @data: the extract
 * @len: its length
 * @format: its format, or %CD_MPI_FORMAT_AUTO to tell from the content
 * @mrn_system: (nullable): FHIR: the identifier system of MRNs (default:
 *   the identifier typed `MR`)
 * @problems: (element-type utf8) (nullable): records skipped and why, each
 *   naming the line or record
 * @error: return location for a #GError
 *
 * Reads patients (and merges, as patients with `merged_into` set) for
 * cd_archive_import_patients().
 *
 * Returns: (transfer container) (element-type CdPatient): the patients, or
 *   %NULL if nothing could be read
 *
 * Since: 0.1
 */
GPtrArray *
cd_mpi_read_data(const gchar *name, const gchar *data, gsize len, CdMpiFormat format, const gchar *mrn_system,
                 GPtrArray *problems, GError **error)
{
  gsize skip = 0;

  while (skip < len && g_ascii_isspace(data[skip]))
    skip++;
  if (format == CD_MPI_FORMAT_AUTO) {
    if (skip < len && (data[skip] == '{' || data[skip] == '['))
      format = CD_MPI_FORMAT_FHIR;
    else if (len - skip >= 3 && (memcmp(data + skip, "MSH", 3) == 0 || data[skip] == 0x0b))
      format = CD_MPI_FORMAT_HL7;
    else
      format = CD_MPI_FORMAT_CSV;
  }
  if (len == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: the file is empty", name);
    return NULL;
  }
  switch (format) {
  case CD_MPI_FORMAT_FHIR:
    return cd_mpi_read_fhir(name, data, len, mrn_system, problems, error);
  case CD_MPI_FORMAT_HL7:
    return cd_mpi_read_hl7(name, data, len, problems, error);
  default:
    return cd_mpi_read_csv(name, data, len, problems, error);
  }
}

/**
 * cd_mpi_read:
 * @path: a CSV, FHIR (JSON or NDJSON) or HL7 v2 file
 * @format: its format, or %CD_MPI_FORMAT_AUTO
 * @mrn_system: (nullable): FHIR MRN identifier system
 * @problems: (element-type utf8) (nullable): records skipped and why
 * @error: return location for a #GError
 *
 * Returns: (transfer container) (element-type CdPatient): the patients
 *
 * Since: 0.1
 */
GPtrArray *
cd_mpi_read(const gchar *path, CdMpiFormat format, const gchar *mrn_system, GPtrArray *problems, GError **error)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error_local = NULL;

  if (!g_file_get_contents(path, &data, &len, &error_local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: %s", path, error_local->message);
    return NULL;
  }
  return cd_mpi_read_data(path, data, len, format, mrn_system, problems, error);
}
