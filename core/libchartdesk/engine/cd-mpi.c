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

#include "cd-csv-private.h"
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
  if (p->origin == NULL)
    p->origin = g_strdup(where);
  g_ptr_array_add(out, g_steal_pointer(&p));
}

/* ------------------------------------------------------------------ CSV */

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

/* Whether every field of @row is UTF-8 text. */
static gboolean
cd_csv_row_is_utf8(GPtrArray *row)
{
  for (guint i = 0; i < row->len; i++) {
    if (!g_utf8_validate(g_ptr_array_index(row, i), -1, NULL))
      return FALSE;
  }
  return TRUE;
}

static GPtrArray *
cd_mpi_read_csv(const gchar *name, const gchar *data, gsize len, GPtrArray *problems, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  g_autoptr(GPtrArray) header = NULL;
  g_autoptr(CdCsvReader) reader = cd_csv_reader_new(data, len);
  g_autoptr(GError) error_local = NULL;
  const gchar *const columns[] = { "mrn", "family", "given", "middle", "dob", "sex" };
  gint col[G_N_ELEMENTS(columns)];

  header = cd_csv_reader_next(reader, NULL, &error_local);
  for (guint j = 0; j < G_N_ELEMENTS(columns); j++)
    col[j] = header != NULL ? cd_csv_find_column(header, columns[j]) : -1;
  if (col[0] < 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "%s:1: no 'mrn' column in the header row (expected mrn,family,given,middle,dob,sex)", name);
    return NULL;
  }
  for (;;) {
    guint start = 0;
    g_autoptr(GPtrArray) f = cd_csv_reader_next(reader, &start, &error_local);
    g_autofree gchar *where = NULL;
    CdPatient *p;
    const gchar *dob;

    if (f == NULL && error_local != NULL) {
      /* an unclosed quote swallows the rest of the file: nothing after it
       * can be read as rows */
      cd_mpi_problem(problems, "%s:%s; the rest of the file is skipped", name, error_local->message + strlen("line "));
      break;
    }
    if (f == NULL)
      break;
    if (cd_csv_record_is_blank(f))
      continue; /* an empty line */
    where = g_strdup_printf("%s:%u", name, start);
    if (!cd_csv_row_is_utf8(f)) {
      cd_mpi_problem(problems, "%s: not UTF-8 text; row skipped", where);
      continue;
    }
    /* every value comes from this row: a short row leaves fields empty,
     * never filled from the row before */
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

/* The MRN identifier of a Patient: the identifier of @system, or without a
 * system the one typed MR (v2-0203). */
static JsonObject *
cd_fhir_mrn_identifier(JsonObject *resource, const gchar *system)
{
  JsonArray *ids = cd_json_array(resource, "identifier");

  for (guint i = 0; ids != NULL && i < json_array_get_length(ids); i++) {
    JsonObject *id = cd_json_element_object(ids, i);
    if (system != NULL) {
      if (g_strcmp0(cd_json_string(id, "system"), system) == 0)
        return id;
      continue;
    }
    if (id != NULL && json_object_has_member(id, "type")) {
      JsonNode *type = json_object_get_member(id, "type");
      JsonArray *codings = JSON_NODE_HOLDS_OBJECT(type) ? cd_json_array(json_node_get_object(type), "coding") : NULL;
      for (guint j = 0; codings != NULL && j < json_array_get_length(codings); j++) {
        if (g_strcmp0(cd_json_string(cd_json_element_object(codings, j), "code"), "MR") == 0)
          return id;
      }
    }
  }
  return NULL;
}

/* Whether an identifier typed at all is typed MR. */
static gboolean
cd_fhir_typed_other_than_mr(JsonObject *id)
{
  JsonNode *type = json_object_get_member(id, "type");
  JsonArray *codings =
      type != NULL && JSON_NODE_HOLDS_OBJECT(type) ? cd_json_array(json_node_get_object(type), "coding") : NULL;

  if (codings == NULL || json_array_get_length(codings) == 0)
    return FALSE;
  for (guint j = 0; j < json_array_get_length(codings); j++) {
    if (g_strcmp0(cd_json_string(cd_json_element_object(codings, j), "code"), "MR") == 0)
      return FALSE;
  }
  return TRUE;
}

/* The MRN this Patient's replaced-by links name as its survivor (NULL when
 * it has none). Every link is read from this resource alone. A link that
 * names the survivor by anything but an MRN of the record's own system
 * (a reference only, an SSN, another hospital's number), names the record
 * itself, or disagrees with another link makes the record unusable: returns
 * FALSE with @reason, and the caller skips the record, so nothing moves. */
static gboolean
cd_fhir_replaced_by(JsonObject *r, const gchar *mrn, const gchar *own_system, gchar **survivor, gchar **reason)
{
  JsonArray *links = cd_json_array(r, "link");
  g_autofree gchar *found = NULL;

  for (guint i = 0; links != NULL && i < json_array_get_length(links); i++) {
    JsonObject *l = cd_json_element_object(links, i);
    JsonNode *other = l != NULL ? json_object_get_member(l, "other") : NULL;
    JsonObject *ref = other != NULL && JSON_NODE_HOLDS_OBJECT(other) ? json_node_get_object(other) : NULL;
    JsonNode *ident = ref != NULL ? json_object_get_member(ref, "identifier") : NULL;
    JsonObject *id = ident != NULL && JSON_NODE_HOLDS_OBJECT(ident) ? json_node_get_object(ident) : NULL;
    const gchar *value = cd_json_string(id, "value");
    const gchar *system = cd_json_string(id, "system");

    if (g_strcmp0(cd_json_string(l, "type"), "replaced-by") != 0)
      continue;
    if (value == NULL || *value == '\0') {
      *reason =
          g_strdup_printf("is replaced by %s, which names no MRN identifier",
                          cd_json_string(ref, "reference") != NULL ? cd_json_string(ref, "reference") : "a patient");
      return FALSE;
    }
    if ((system != NULL && own_system != NULL && g_strcmp0(system, own_system) != 0) ||
        cd_fhir_typed_other_than_mr(id)) {
      *reason = g_strdup_printf("is replaced by %s of system %s, not an MRN of system %s", value,
                                system != NULL ? system : "(none)", own_system != NULL ? own_system : "(none)");
      return FALSE;
    }
    if (g_strcmp0(value, mrn) == 0) {
      *reason = g_strdup("is replaced by itself");
      return FALSE;
    }
    if (found != NULL && g_strcmp0(found, value) != 0) {
      *reason = g_strdup_printf("is replaced by two patients, %s and %s", found, value);
      return FALSE;
    }
    g_free(found);
    found = g_strdup(value);
  }
  *survivor = g_steal_pointer(&found);
  return TRUE;
}

static void
cd_fhir_patient(GPtrArray *out, JsonObject *r, const gchar *where, const gchar *system, GPtrArray *problems)
{
  JsonArray *names = cd_json_array(r, "name");
  JsonObject *name = NULL;
  JsonObject *mrn_id = cd_fhir_mrn_identifier(r, system);
  const gchar *mrn = cd_json_string(mrn_id, "value");
  g_autofree gchar *survivor = NULL;
  g_autofree gchar *reason = NULL;
  CdPatient *p;

  if (g_strcmp0(cd_json_string(r, "resourceType"), "Patient") != 0)
    return;
  if (mrn == NULL) {
    cd_mpi_problem(problems, "%s: Patient %s has no MRN identifier%s%s; skipped", where,
                   cd_json_string(r, "id") != NULL ? cd_json_string(r, "id") : "", system != NULL ? " of system " : "",
                   system != NULL ? system : " (type MR)");
    return;
  }
  if (!cd_fhir_replaced_by(r, mrn, system != NULL ? system : cd_json_string(mrn_id, "system"), &survivor, &reason)) {
    cd_mpi_problem(problems, "%s: MRN %s %s; record skipped, nothing merged", where, mrn, reason);
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
  /* a record replaced by another is merged into it */
  p->merged_into = g_steal_pointer(&survivor);
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

/* One message: its number in the file, its event (MSH-9.2), the encoding
 * characters from its MSH, and its other segments split into fields. */
typedef struct {
  guint number;
  gchar *type; /* MSH-9 as written, e.g. ADT^A40, for messages */
  gchar *event;
  CdHl7Enc enc;
  GPtrArray *segments; /* of GStrv */
  gboolean not_utf8;   /* some segment is not UTF-8 text: the message is skipped */
} CdHl7Message;

static void
cd_hl7_message_free(CdHl7Message *m)
{
  g_free(m->type);
  g_free(m->event);
  g_ptr_array_unref(m->segments);
  g_free(m);
}

/* The segment's field @n (HL7 numbering: PID-3 is f[3]), or "" if absent. */
static const gchar *
cd_hl7_field(GStrv f, guint n)
{
  return n < g_strv_length(f) ? f[n] : "";
}

/* A patient from a PID segment, or NULL with @reason set. @need_name:
 * whether PID-5 must hold a family name (an update does, a merge's
 * survivor need not: it names a patient the index already has). */
static CdPatient *
cd_hl7_pid_patient(GStrv f, const CdHl7Enc *enc, gboolean need_name, const gchar *where, GPtrArray *problems,
                   gchar **reason)
{
  g_autofree gchar *mrn = cd_hl7_mrn(cd_hl7_field(f, 3), enc);
  g_autoptr(CdPatient) p = NULL;
  const gchar *dob = cd_hl7_field(f, 7);

  if (mrn == NULL || *g_strstrip(mrn) == '\0') {
    *reason = g_strdup("PID-3 (the patient's MRN) is empty");
    return NULL;
  }
  p = cd_patient_new(mrn);
  p->family = cd_hl7_component(cd_hl7_field(f, 5), 1, enc);
  p->given = cd_hl7_component(cd_hl7_field(f, 5), 2, enc);
  p->middle = cd_hl7_component(cd_hl7_field(f, 5), 3, enc);
  if (need_name && p->family == NULL) {
    *reason = g_strdup_printf("MRN %s: PID-5 has no family name", mrn);
    return NULL;
  }
  if (*dob != '\0') {
    p->dob = cd_mpi_date(dob);
    if (p->dob == NULL)
      cd_mpi_problem(problems, "%s: PID-7 '%s' is not a date; left empty", where, dob);
  }
  if (*cd_hl7_field(f, 8) != '\0')
    p->sex = cd_mpi_sex(cd_hl7_field(f, 8));
  return g_steal_pointer(&p);
}

/* An update (A01, A04, A05, A08, A28, A31): exactly one PID naming the
 * patient. Returns the reason the message cannot be used, or NULL. */
static gchar *
cd_hl7_update(CdHl7Message *m, const gchar *where, GPtrArray *out, GPtrArray *problems)
{
  GStrv pid = NULL;
  gchar *reason = NULL;
  CdPatient *p;

  for (guint i = 0; i < m->segments->len; i++) {
    GStrv f = g_ptr_array_index(m->segments, i);
    if (g_strcmp0(f[0], "PID") != 0)
      continue;
    if (pid != NULL)
      return g_strdup("more than one PID segment");
    pid = f;
  }
  if (pid == NULL)
    return g_strdup("no PID segment");
  p = cd_hl7_pid_patient(pid, &m->enc, TRUE, where, problems, &reason);
  if (p == NULL)
    return reason;
  g_ptr_array_add(out, p);
  return NULL;
}

/* A merge (A40): one or more PID, MRG pairs (PD1 and PV1 may sit between
 * or after them). In each pair the PID names the survivor and MRG-1 the
 * MRN merged into it; the survivor comes only from the PID of its own pair,
 * never from an earlier message. The message is used whole or not at all:
 * returns the reason it cannot be used, or NULL with its records added. */
static gchar *
cd_hl7_merge(CdHl7Message *m, const gchar *where, GPtrArray *out, GPtrArray *problems)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  g_autoptr(GHashTable) priors = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(CdPatient) survivor = NULL; /* the PID waiting for its MRG */
  guint n_pairs = 0;

  for (guint i = 0; i < m->segments->len; i++) {
    GStrv f = g_ptr_array_index(m->segments, i);
    if (g_strcmp0(f[0], "PID") == 0) {
      gchar *reason = NULL;
      if (survivor != NULL)
        return g_strdup_printf("the PID for MRN %s has no MRG segment after it", survivor->mrn);
      survivor = cd_hl7_pid_patient(f, &m->enc, FALSE, where, problems, &reason);
      g_free(reason);
      if (survivor == NULL)
        return g_strdup("PID-3 (the surviving patient's MRN) is empty");
    } else if (g_strcmp0(f[0], "MRG") == 0) {
      g_autofree gchar *prior = cd_hl7_mrn(cd_hl7_field(f, 1), &m->enc);
      CdPatient *merged;
      if (survivor == NULL)
        return g_strdup("an MRG segment has no PID before it naming the surviving patient");
      if (prior == NULL || *g_strstrip(prior) == '\0')
        return g_strdup_printf("MRG-1 (the MRN merged into %s) is empty", survivor->mrn);
      if (g_strcmp0(prior, survivor->mrn) == 0)
        return g_strdup_printf("MRG-1 and PID-3 are both %s: a patient cannot be merged into itself", prior);
      if (g_hash_table_contains(priors, prior))
        return g_strdup_printf("MRN %s is merged twice in the message", prior);
      merged = cd_patient_new(prior);
      merged->merged_into = g_strdup(survivor->mrn);
      /* a PID with a name also updates the survivor's entry */
      if (survivor->family != NULL)
        g_ptr_array_add(records, cd_patient_copy(survivor));
      g_ptr_array_add(records, merged);
      g_hash_table_add(priors, merged->mrn);
      g_clear_pointer(&survivor, cd_patient_free);
      n_pairs++;
    }
  }
  if (survivor != NULL)
    return g_strdup_printf("the PID for MRN %s has no MRG segment after it (the patient merged away)", survivor->mrn);
  if (n_pairs == 0)
    return g_strdup("no PID and MRG segments (the surviving and the merged patient)");
  for (guint i = 0; i < records->len; i++) {
    CdPatient *p = g_steal_pointer(&records->pdata[i]);
    g_free(p->origin);
    p->origin = g_strdup(where);
    g_ptr_array_add(out, p);
  }
  return NULL;
}

/* Splits the text into messages at each MSH. Segments before the first MSH
 * are reported and dropped. */
static GPtrArray *
cd_hl7_messages(const gchar *name, const gchar *data, gsize len, GPtrArray *problems)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func((GDestroyNotify) cd_hl7_message_free);
  g_autoptr(GString) text = g_string_new_len(data, len);
  g_auto(GStrv) segments = NULL;
  CdHl7Message *m = NULL;

  /* MLLP framing and any line ending */
  for (gsize i = 0; i < text->len; i++) {
    if (text->str[i] == 0x0b || text->str[i] == 0x1c || text->str[i] == '\n')
      text->str[i] = '\r';
  }
  segments = g_strsplit(text->str, "\r", -1);
  for (guint i = 0; segments[i] != NULL; i++) {
    const gchar *s = segments[i];
    gchar fs[2] = { 0, 0 };

    if (*s == '\0')
      continue;
    if (g_str_has_prefix(s, "MSH")) {
      g_auto(GStrv) f = NULL;
      m = g_new0(CdHl7Message, 1);
      m->not_utf8 = !g_utf8_validate(s, -1, NULL);
      m->number = messages->len + 1;
      m->segments = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
      g_ptr_array_add(messages, m);
      /* a header cut short still starts a message of its own (without an
       * event, so it is skipped): its segments must not join the last one */
      if (strlen(s) < 8 || s[3] == s[4]) {
        m->enc = (CdHl7Enc){ '|', '^', '~', '\\', '&' };
        continue;
      }
      m->enc = (CdHl7Enc){ s[3], s[4], s[5], s[6], s[7] };
      fs[0] = m->enc.field;
      f = g_strsplit(s, fs, -1);
      /* the field separator is MSH-1, so MSH-9 is f[8] */
      if (g_strv_length(f) > 8 && *f[8] != '\0') {
        m->type = g_strdup(f[8]);
        m->event = cd_hl7_component(f[8], 2, &m->enc);
      }
      continue;
    }
    if (m == NULL) {
      cd_mpi_problem(problems, "%s: segment %u comes before any MSH segment; skipped", name, i + 1);
      continue;
    }
    /* text that is not UTF-8 cannot be stored (found by fuzzing): the
     * whole message is skipped, never a part of it */
    if (!g_utf8_validate(s, -1, NULL))
      m->not_utf8 = TRUE;
    fs[0] = m->enc.field;
    g_ptr_array_add(m->segments, g_strsplit(s, fs, -1));
  }
  return g_steal_pointer(&messages);
}

/* Reads ADT messages one at a time. A message that cannot be used is
 * reported with its number and the reason and contributes nothing. */
static GPtrArray *
cd_mpi_read_hl7(const gchar *name, const gchar *data, gsize len, GPtrArray *problems, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) cd_patient_free);
  g_autoptr(GPtrArray) messages = cd_hl7_messages(name, data, len, problems);
  const gchar *const updates[] = { "A01", "A04", "A05", "A08", "A28", "A31", NULL };

  if (messages->len == 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: no HL7 v2 message (no MSH segment)", name);
    return NULL;
  }
  for (guint i = 0; i < messages->len; i++) {
    CdHl7Message *m = g_ptr_array_index(messages, i);
    g_autofree gchar *where =
        g_strdup_printf("%s: message %u (%s)", name, m->number, m->type != NULL ? m->type : "no MSH-9");
    g_autofree gchar *reason = NULL;

    if (m->not_utf8) {
      cd_mpi_problem(problems, "%s: not UTF-8 text; message skipped", where);
    } else if (m->event == NULL) {
      cd_mpi_problem(problems, "%s: MSH-9 names no trigger event; message skipped", where);
    } else if (g_strv_contains(updates, m->event)) {
      reason = cd_hl7_update(m, where, out, problems);
      if (reason != NULL)
        cd_mpi_problem(problems, "%s: %s; message skipped", where, reason);
    } else if (g_strcmp0(m->event, "A40") == 0) {
      reason = cd_hl7_merge(m, where, out, problems);
      if (reason != NULL)
        cd_mpi_problem(problems, "%s: %s; merge refused", where, reason);
    } else {
      cd_mpi_problem(problems, "%s: event %s carries no index update; skipped", where, m->event);
    }
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
