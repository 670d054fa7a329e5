/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The patient index readers on small extracts, and their import into a real
 * archive: merges, re-import without duplicates.
 */
#include "cd-engine.h"

#include "cd-archive-private.h"
#include "cd-csv-private.h"
#include "cd-test-util.h"

static GPtrArray *
read_text(const gchar *text, CdMpiFormat format, const gchar *system, GPtrArray *problems)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *patients = cd_mpi_read_data("x", text, strlen(text), format, system, problems, &error);
  g_assert_no_error(error);
  g_assert_nonnull(patients);
  return patients;
}

static CdPatient *
nth(GPtrArray *patients, guint i)
{
  g_assert_cmpuint(i, <, patients->len);
  return g_ptr_array_index(patients, i);
}

static gboolean
has_problem(GPtrArray *problems, const gchar *needle)
{
  for (guint i = 0; i < problems->len; i++) {
    if (strstr(g_ptr_array_index(problems, i), needle) != NULL)
      return TRUE;
  }
  for (guint i = 0; i < problems->len; i++)
    g_test_message("problem: %s", (gchar *) g_ptr_array_index(problems, i));
  return FALSE;
}

static void
test_mpi_csv(void)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  /* BOM, columns in another order, an extra column, quoting, CRLF, bad rows */
  const gchar *csv =
      "\xef\xbb\xbf"
      "Sex,MRN,Family,Given,Middle,DOB,Ward\r\n"
      "F,00482913,DOE,JANE,A,1952-03-14,3B\r\n"
      "M,00700001,\"O'BRIEN, JR\",\"Liam \"\"Bill\"\"\",,1948-01-30,\"multi\nline\"\r\n" /* spans lines 3-4 */
      "F,00000001,ROE,ANN,,1952-02-30,x\r\n"
      "F,,NOBODY,ANN,,1950-01-01,x\r\n"
      "\r\n"
      "U,00000002,\xff\xfe,ANN,,1950-01-01,x\r\n"
      "F,00000003,LEE,KIM,,03/04/1990,x\r\n";
  g_autoptr(GPtrArray) p = read_text(csv, CD_MPI_FORMAT_AUTO, NULL, problems);

  g_assert_cmpuint(p->len, ==, 3);
  g_assert_cmpstr(nth(p, 0)->mrn, ==, "00482913");
  g_assert_cmpstr(nth(p, 0)->family, ==, "DOE");
  g_assert_cmpstr(nth(p, 0)->middle, ==, "A");
  g_assert_cmpstr(nth(p, 0)->dob, ==, "1952-03-14");
  g_assert_cmpstr(nth(p, 0)->sex, ==, "F");
  g_assert_cmpstr(nth(p, 1)->family, ==, "O'BRIEN, JR");
  g_assert_cmpstr(nth(p, 1)->given, ==, "Liam \"Bill\"");
  g_assert_null(nth(p, 1)->middle);
  g_assert_cmpstr(nth(p, 2)->dob, ==, "1990-03-04");
  g_assert_true(has_problem(problems, "x:5: DOB '1952-02-30' is not a date"));
  g_assert_true(has_problem(problems, "x:6: no MRN"));
  g_assert_true(has_problem(problems, "x:8: not UTF-8"));
  g_assert_cmpuint(problems->len, ==, 3);
}

/* A quote that is never closed (a truncated extract) is reported with the
 * line it opened on; the rows before it are kept, nothing after it is
 * guessed at. */
static void
test_mpi_csv_unclosed_quote(void)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  const gchar *csv = "mrn,family,given\n"
                     "00482913,DOE,JANE\n"
                     "00700001,\"O'BRIEN,LIAM\n"
                     "00000003,LEE,KIM\n";
  g_autoptr(GPtrArray) p = read_text(csv, CD_MPI_FORMAT_CSV, NULL, problems);

  g_assert_cmpuint(p->len, ==, 1);
  g_assert_cmpstr(nth(p, 0)->mrn, ==, "00482913");
  g_assert_true(has_problem(problems, "x:3: a quoted field is never closed; the rest of the file is skipped"));
  g_assert_cmpuint(problems->len, ==, 1);
}

static void
test_mpi_csv_without_mrn_column(void)
{
  g_autoptr(GError) error = NULL;
  const gchar *csv = "family,given\nDOE,JANE\n";
  g_autoptr(GPtrArray) p = cd_mpi_read_data("idx.csv", csv, strlen(csv), CD_MPI_FORMAT_CSV, NULL, NULL, &error);

  g_assert_null(p);
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_assert_nonnull(strstr(error->message, "idx.csv:1: no 'mrn' column"));
}

static void
test_mpi_fhir(void)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  const gchar *bundle =
      "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
      "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"a\","
      " \"identifier\":[{\"system\":\"urn:ssn\",\"value\":\"999\"},"
      "  {\"type\":{\"coding\":[{\"code\":\"MR\"}]},\"system\":\"urn:mercy:mrn\",\"value\":\"00482913\"}],"
      " \"name\":[{\"use\":\"nickname\",\"family\":\"X\"},{\"use\":\"official\",\"family\":\"Doe\","
      "   \"given\":[\"Jane\",\"Ann\"]}],\"birthDate\":\"1952-03-14\",\"gender\":\"female\"}},"
      "{\"resource\":{\"resourceType\":\"Observation\"}},"
      "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"b\",\"identifier\":[{\"value\":\"1\"}],"
      " \"name\":[{\"family\":\"Roe\"}]}},"
      "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"c\",\"identifier\":[{\"type\":{\"coding\":[{\"code\":"
      "\"MR\"}]},\"value\":\"00111111\"}],\"name\":[{\"family\":\"Okafor\",\"given\":[\"Chidi\"]}],"
      " \"link\":[{\"type\":\"replaced-by\",\"other\":{\"identifier\":{\"value\":\"00482913\"}}}]}}]}";
  const gchar *ndjson = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:m\",\"value\":\"7\"}],"
                        "\"name\":[{\"family\":\"Lee\",\"given\":[\"Kim\"]}],\"birthDate\":\"1990-03-04\"}\n"
                        "this is not json\n"
                        "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:other\",\"value\":\"8\"}],"
                        "\"name\":[{\"family\":\"Kim\"}]}\n";
  g_autoptr(GPtrArray) p = read_text(bundle, CD_MPI_FORMAT_AUTO, NULL, problems);
  g_autoptr(GPtrArray) problems2 = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) q = read_text(ndjson, CD_MPI_FORMAT_FHIR, "urn:m", problems2);

  g_assert_cmpuint(p->len, ==, 2);
  g_assert_cmpstr(nth(p, 0)->mrn, ==, "00482913");
  g_assert_cmpstr(nth(p, 0)->family, ==, "Doe");
  g_assert_cmpstr(nth(p, 0)->given, ==, "Jane");
  g_assert_cmpstr(nth(p, 0)->middle, ==, "Ann");
  g_assert_cmpstr(nth(p, 0)->sex, ==, "F");
  g_assert_cmpstr(nth(p, 1)->merged_into, ==, "00482913");
  g_assert_true(has_problem(problems, "x: entry 3: Patient b has no MRN identifier"));
  g_assert_cmpuint(q->len, ==, 1);
  g_assert_cmpstr(nth(q, 0)->mrn, ==, "7");
  g_assert_true(has_problem(problems2, "x:2: not JSON"));
  g_assert_true(has_problem(problems2, "x:3: Patient  has no MRN identifier of system urn:m"));
}

static void
test_mpi_hl7(void)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  /* MLLP framing, \r segments, a custom component separator in message 2,
   * escapes, an A40 merge and an event without index content */
  const gchar *hl7 = "\x0bMSH|^~\\&|ADT|MERCY|CD|CD|202601010000||ADT^A01|1|P|2.5\r"
                     "PID|1||123^^^MERCY^PI~00482913^^^MERCY^MR||DOE^JANE^A||19520314|F\r\x1c\r"
                     "MSH|$~\\&|ADT|MERCY|CD|CD|202601010000||ADT$A08|2|P|2.5\n"
                     "PID|1||00700001$$$MERCY$MR||O\\F\\BRIEN$LIAM||19480130|M\n"
                     "MSH|^~\\&|ADT|MERCY|CD|CD|202601010000||ADT^A40|3|P|2.5\r\n"
                     "PID|1||00300300^^^MERCY^MR||OKAFOR^CHIDI||19850404|M\r\n"
                     "MRG|00111111^^^MERCY^MR\r\n"
                     "MSH|^~\\&|LAB|MERCY|CD|CD|202601010000||ORU^R01|4|P|2.5\r"
                     "PID|1||00999999^^^MERCY^MR||X^Y\r";
  g_autoptr(GPtrArray) p = read_text(hl7, CD_MPI_FORMAT_AUTO, NULL, problems);

  g_assert_cmpuint(p->len, ==, 4);
  g_assert_cmpstr(nth(p, 0)->mrn, ==, "00482913");
  g_assert_cmpstr(nth(p, 0)->given, ==, "JANE");
  g_assert_cmpstr(nth(p, 0)->middle, ==, "A");
  g_assert_cmpstr(nth(p, 0)->dob, ==, "1952-03-14");
  g_assert_cmpstr(nth(p, 1)->mrn, ==, "00700001");
  g_assert_cmpstr(nth(p, 1)->family, ==, "O|BRIEN");
  g_assert_cmpstr(nth(p, 2)->mrn, ==, "00300300");
  g_assert_cmpstr(nth(p, 3)->mrn, ==, "00111111");
  g_assert_cmpstr(nth(p, 3)->merged_into, ==, "00300300");
  g_assert_true(has_problem(problems, "x: message 4 (ORU^R01): event R01 carries no index update; skipped"));
  g_assert_cmpuint(problems->len, ==, 1);
}

/* Import into an archive: re-import updates and never duplicates; a merge
 * makes the old MRN resolve to the survivor. */
static void
test_mpi_import(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp("cd-mpi-XXXXXX", &error);
  g_autofree gchar *path = g_build_filename(dir, "a.archive", NULL);
  g_autofree gchar *rm = NULL;
  g_autoptr(CdArchive) archive = NULL;
  const gchar *v1 = "mrn,family,given,dob\n00482913,DOE,JANE,1952-03-14\n00111111,OKAFOR,CHIDI,1985-04-04\n"
                    "00300300,OKAFOR,CHIDI,1985-04-04\n";
  const gchar *v2 = "mrn,family,given,dob\n00482913,DOE-SMITH,JANE,1952-03-14\n00300300,OKAFOR,CHIDI,1985-04-04\n";
  const gchar *merge = "MSH|^~\\&|A|B|C|D|1||ADT^A40|1|P|2.5\rPID|1||00300300^^^H^MR||OKAFOR^CHIDI||19850404\r"
                       "MRG|00111111^^^H^MR\r";
  g_autoptr(GPtrArray) p1 = read_text(v1, CD_MPI_FORMAT_AUTO, NULL, NULL);
  g_autoptr(GPtrArray) p2 = read_text(v2, CD_MPI_FORMAT_AUTO, NULL, NULL);
  g_autoptr(GPtrArray) p3 = read_text(merge, CD_MPI_FORMAT_AUTO, NULL, NULL);
  g_autoptr(CdPatient) jane = NULL;
  g_autoptr(CdPatient) survivor = NULL;
  CdImportStats stats = { 0 };

  g_assert_no_error(error);
  archive = cd_archive_open(path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_archive_import_patients(archive, p1, "v1", &stats, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.created, ==, 3);
  memset(&stats, 0, sizeof stats);
  g_assert_true(cd_archive_import_patients(archive, p2, "v2", &stats, &error));
  g_assert_cmpuint(stats.created, ==, 0);
  g_assert_cmpuint(stats.updated, ==, 1);
  g_assert_cmpuint(stats.unchanged, ==, 1);
  memset(&stats, 0, sizeof stats);
  g_assert_true(cd_archive_import_patients(archive, p3, "adt", &stats, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.merged, ==, 1);
  jane = cd_archive_lookup_patient(archive, "00482913", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(jane->family, ==, "DOE-SMITH");
  survivor = cd_archive_resolve_patient(archive, "00111111", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(survivor->mrn, ==, "00300300");
  g_clear_object(&archive);
  rm = g_strdup_printf("rm -rf %s", dir);
  g_assert_true(g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL));
}

/* Reads @hl7 expecting nothing usable and exactly one problem, @expected. */
static void
assert_refused(const gchar *hl7, const gchar *expected)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) p = read_text(hl7, CD_MPI_FORMAT_HL7, NULL, problems);

  if (problems->len != 1 || g_strcmp0(g_ptr_array_index(problems, 0), expected) != 0) {
    for (guint i = 0; i < problems->len; i++)
      g_printerr("problem: %s\n", (gchar *) g_ptr_array_index(problems, i));
  }
  g_assert_cmpuint(p->len, ==, 0);
  g_assert_cmpuint(problems->len, ==, 1);
  g_assert_cmpstr(g_ptr_array_index(problems, 0), ==, expected);
}

/* Every update event accepted (A01, A04, A05, A08, A28, A31) refuses a
 * message whose PID is missing, empty, doubled, without PID-3 or without a
 * family name, each with its message number and the exact reason. */
static void
test_mpi_hl7_update_missing_segments(void)
{
  const gchar *const events[] = { "A01", "A04", "A05", "A08", "A28", "A31", NULL };

  for (guint i = 0; events[i] != NULL; i++) {
    const gchar *e = events[i];
    const struct {
      const gchar *body;
      const gchar *reason;
    } cases[] = {
      { "EVN||202601010000\r", "no PID segment" },
      { "PID\r", "PID-3 (the patient's MRN) is empty" },
      { "PID|1||\r", "PID-3 (the patient's MRN) is empty" },
      { "PID|1||^^^H^MR||DOE^JANE\r", "PID-3 (the patient's MRN) is empty" },
      { "PID|1||111^^^H^MR\r", "MRN 111: PID-5 has no family name" },
      { "PID|1||111^^^H^MR||^JANE\r", "MRN 111: PID-5 has no family name" },
      { "PID|1||111^^^H^MR||DOE\rPID|1||222^^^H^MR||ROE\r", "more than one PID segment" },
    };
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
      /* a good message first, so the bad one is message 2 */
      g_autofree gchar *hl7 = g_strdup_printf("MSH|^~\\&|A|B|C|D|1||ADT^%s|1|P|2.5\rPID|1||999^^^H^MR||GOOD^ONE\r"
                                              "MSH|^~\\&|A|B|C|D|1||ADT^%s|2|P|2.5\r%s",
                                              e, e, cases[c].body);
      g_autofree gchar *expected = g_strdup_printf("x: message 2 (ADT^%s): %s; message skipped", e, cases[c].reason);
      g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
      g_autoptr(GPtrArray) p = read_text(hl7, CD_MPI_FORMAT_HL7, NULL, problems);
      g_assert_cmpuint(p->len, ==, 1);
      g_assert_cmpstr(nth(p, 0)->mrn, ==, "999");
      g_assert_cmpuint(problems->len, ==, 1);
      g_assert_cmpstr(g_ptr_array_index(problems, 0), ==, expected);
    }
  }
  assert_refused("MSH|^~\\&|A|B|C|D|1||ADT|1|P|2.5\rPID|1||111^^^H^MR||DOE\r",
                 "x: message 1 (ADT): MSH-9 names no trigger event; message skipped");
  assert_refused("MSH|^~\\&|A|B|C|D|1|||1|P|2.5\rPID|1||111^^^H^MR||DOE\r",
                 "x: message 1 (no MSH-9): MSH-9 names no trigger event; message skipped");
  /* a header cut short starts a message of its own: its PID and MRG never
   * join the A40 before it */
  {
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) p = read_text("MSH|^~\\&|A|B|C|D|1||ADT^A40|1|P|2.5\rPID|1||222^^^H^MR\rMRG|333^^^H^MR\r"
                                       "MSH|^~\rPID|1||444^^^H^MR\rMRG|555^^^H^MR\r",
                                       CD_MPI_FORMAT_HL7, NULL, problems);
    g_assert_cmpuint(p->len, ==, 1);
    g_assert_cmpstr(nth(p, 0)->mrn, ==, "333");
    g_assert_cmpstr(nth(p, 0)->merged_into, ==, "222");
    g_assert_cmpuint(problems->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(problems, 0), ==,
                    "x: message 2 (no MSH-9): MSH-9 names no trigger event; message skipped");
  }
}

/* An A40 that cannot be used (PID or MRG missing, empty or out of order, a
 * self-merge, one MRN merged twice) is refused whole, with its message
 * number and reason: never completed from another message's PID. */
static void
test_mpi_hl7_a40_missing_segments(void)
{
  const struct {
    const gchar *body;
    const gchar *reason;
  } cases[] = {
    { "EVN||202601010000\r", "no PID and MRG segments (the surviving and the merged patient)" },
    { "MRG|333^^^H^MR\r", "an MRG segment has no PID before it naming the surviving patient" },
    { "PID|1||222^^^H^MR\r", "the PID for MRN 222 has no MRG segment after it (the patient merged away)" },
    { "PID\rMRG|333^^^H^MR\r", "PID-3 (the surviving patient's MRN) is empty" },
    { "PID|1||^^^H^MR||ROE\rMRG|333^^^H^MR\r", "PID-3 (the surviving patient's MRN) is empty" },
    { "PID|1||222^^^H^MR\rMRG\r", "MRG-1 (the MRN merged into 222) is empty" },
    { "PID|1||222^^^H^MR\rMRG|^^^H^MR\r", "MRG-1 (the MRN merged into 222) is empty" },
    { "PID|1||222^^^H^MR\rMRG|222^^^H^MR\r", "MRG-1 and PID-3 are both 222: a patient cannot be merged into itself" },
    { "PID|1||222^^^H^MR\rPID|1||444^^^H^MR\rMRG|333^^^H^MR\r", "the PID for MRN 222 has no MRG segment after it" },
    { "PID|1||222^^^H^MR\rMRG|333^^^H^MR\rPID|1||444^^^H^MR\rMRG|333^^^H^MR\r",
      "MRN 333 is merged twice in the message" },
    { "PID|1||222^^^H^MR\rMRG|333^^^H^MR\rMRG|555^^^H^MR\r",
      "an MRG segment has no PID before it naming the surviving patient" },
  };

  for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
    /* the A08 before it names a patient; the A40 must not borrow it */
    g_autofree gchar *hl7 = g_strdup_printf("MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\r"
                                            "PID|||111^^^H^MR||DOE^JANE||19520314|F\r"
                                            "MSH|^~\\&|A|B|C|D|1||ADT^A40|2|P|2.5\r%s",
                                            cases[c].body);
    g_autofree gchar *expected = g_strdup_printf("x: message 2 (ADT^A40): %s; merge refused", cases[c].reason);
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) p = read_text(hl7, CD_MPI_FORMAT_HL7, NULL, problems);
    g_assert_cmpuint(p->len, ==, 1);
    g_assert_cmpstr(nth(p, 0)->mrn, ==, "111");
    g_assert_null(nth(p, 0)->merged_into);
    if (problems->len != 1)
      g_assert_true(has_problem(problems, "(none expected)"));
    g_assert_cmpstr(g_ptr_array_index(problems, 0), ==, expected);
  }
  /* a message with two good pairs gives both merges, each to its own PID */
  {
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) p =
        read_text("MSH|^~\\&|A|B|C|D|1||ADT^A40^ADT_A39|1|P|2.5\rEVN||1\rPID|1||222^^^H^MR\rPD1\rMRG|333^^^H^MR\r"
                  "PV1\rPID|1||444^^^H^MR||LEE^KIM\rMRG|555^^^H^MR\r",
                  CD_MPI_FORMAT_HL7, NULL, problems);
    g_assert_cmpuint(problems->len, ==, 0);
    g_assert_cmpuint(p->len, ==, 3);
    g_assert_cmpstr(nth(p, 0)->mrn, ==, "333");
    g_assert_cmpstr(nth(p, 0)->merged_into, ==, "222");
    g_assert_cmpstr(nth(p, 1)->mrn, ==, "444"); /* a named PID also updates its entry */
    g_assert_null(nth(p, 1)->merged_into);
    g_assert_cmpstr(nth(p, 2)->mrn, ==, "555");
    g_assert_cmpstr(nth(p, 2)->merged_into, ==, "444");
  }
}

/* FHIR replaced-by links are read from their own resource only; a link that
 * names no MRN, an MRN of another system, the record itself, or disagrees
 * with another link skips the record instead of merging it. */
static void
test_mpi_fhir_replaced_by(void)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
#define PAT(id, mrn, links)                                                                                            \
  "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"" id "\",\"identifier\":[{\"type\":{\"coding\":[{\"code\":"    \
  "\"MR\"}]},\"system\":\"urn:h\",\"value\":\"" mrn "\"}],\"name\":[{\"family\":\"Roe\"}],\"link\":[" links "]}}"
#define LINK(ident) "{\"type\":\"replaced-by\",\"other\":{" ident "}}"
  const gchar *bundle = "{\"resourceType\":\"Bundle\",\"entry\":["                           /**/
      PAT("a", "111", LINK("\"identifier\":{\"system\":\"urn:h\",\"value\":\"222\"}")) ","   /* good */
      PAT("b", "333", LINK("\"reference\":\"Patient/x\"")) ","                               /* no identifier */
      PAT("c", "444", LINK("\"identifier\":{\"system\":\"urn:ssn\",\"value\":\"222\"}")) "," /* an SSN */
      PAT("d", "555", LINK("\"identifier\":{\"value\":\"555\"}")) ","                        /* itself */
      PAT("e", "666",
          LINK("\"identifier\":{\"value\":\"222\"}") "," LINK(
              "\"identifier\":{\"value\":\"777\"}")) "," PAT("f", "888",
                                                             LINK("\"identifier\":{\"value\":\"\"}")) "," /* empty */
      PAT("g", "999", "{\"type\":\"seealso\",\"other\":{\"reference\":\"x\"}}") /* not a merge */
      "]}";
#undef PAT
#undef LINK
  g_autoptr(GPtrArray) p = read_text(bundle, CD_MPI_FORMAT_FHIR, NULL, problems);

  g_assert_cmpuint(p->len, ==, 2);
  g_assert_cmpstr(nth(p, 0)->mrn, ==, "111");
  g_assert_cmpstr(nth(p, 0)->merged_into, ==, "222");
  g_assert_cmpstr(nth(p, 1)->mrn, ==, "999");
  g_assert_null(nth(p, 1)->merged_into);
  g_assert_true(has_problem(problems, "x: entry 2: MRN 333 is replaced by Patient/x, which names no MRN identifier; "
                                      "record skipped, nothing merged"));
  g_assert_true(has_problem(problems, "x: entry 3: MRN 444 is replaced by 222 of system urn:ssn, not an MRN of system "
                                      "urn:h; record skipped"));
  g_assert_true(has_problem(problems, "x: entry 4: MRN 555 is replaced by itself; record skipped"));
  g_assert_true(has_problem(problems, "x: entry 5: MRN 666 is replaced by two patients, 222 and 777; record skipped"));
  g_assert_true(has_problem(problems, "x: entry 6: MRN 888 is replaced by a patient, which names no MRN identifier"));
  g_assert_cmpuint(problems->len, ==, 5);
}

/* A CSV row short of columns leaves them empty: nothing is carried over
 * from the row before. */
/* The CSV writer of the audit exports: what it writes reads back as it
 * was, but a field a spreadsheet would run as a formula comes back behind
 * an apostrophe. */
static void
test_csv_write(void)
{
  const gchar *fields[] = { "plain", "a, b", "say \"hi\"", "two\nlines", "=HYPERLINK(\"http://x\")",
                            "+1",    "-2",   "@SUM(A1)",   "\tx",        "",
                            "a=b",   NULL };
  const gchar *expect[] = { "plain", "a, b", "say \"hi\"", "two\nlines", "'=HYPERLINK(\"http://x\")",
                            "'+1",   "'-2",  "'@SUM(A1)",  "'\tx",       "",
                            "a=b",   "" };
  g_autoptr(GString) line = g_string_new(NULL);
  g_autoptr(CdCsvReader) reader = NULL;
  g_autoptr(GPtrArray) row = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; fields[i] != NULL; i++) {
    if (i > 0)
      g_string_append_c(line, ',');
    cd_csv_append_field(line, fields[i]);
  }
  g_string_append_c(line, ',');
  cd_csv_append_field(line, NULL); /* an empty field */
  g_string_append(line, "\r\n");
  g_assert_true(g_str_has_prefix(line->str, "plain,\"a, b\",\"say \"\"hi\"\"\","));
  reader = cd_csv_reader_new(line->str, line->len);
  row = cd_csv_reader_next(reader, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(row->len, ==, G_N_ELEMENTS(expect));
  for (guint i = 0; i < G_N_ELEMENTS(expect); i++)
    g_assert_cmpstr(g_ptr_array_index(row, i), ==, expect[i]);
}

static void
test_mpi_csv_short_row(void)
{
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) p =
      read_text("mrn,family,given,dob\n111,DOE,JANE,1952-03-14\n222,ROE\n", CD_MPI_FORMAT_CSV, NULL, problems);

  g_assert_cmpuint(p->len, ==, 2);
  g_assert_cmpstr(nth(p, 1)->mrn, ==, "222");
  g_assert_null(nth(p, 1)->given);
  g_assert_null(nth(p, 1)->dob);
  g_assert_cmpuint(problems->len, ==, 0);
}

static gint64
commit_document(CdArchive *archive, gint64 batch, const gchar *mrn, gint mark)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdDocument) doc = cd_document_new();
  g_autofree gchar *sha = g_strdup_printf("%064d", mark);
  g_autoptr(CdPage) page = cd_page_new("box/scan.tif", 0, sha);
  PIX *pix = pixCreate(32, 32, 1);

  pixSetPixel(pix, mark, 3, 1);
  cd_page_set_pix(page, pix);
  cd_page_set_resolution(page, 300, 300);
  cd_page_set_text(page, "progress note");
  cd_document_set_patient_mrn(doc, mrn);
  cd_document_set_doc_type(doc, "progress-note", 0.9);
  cd_document_add_page(doc, page);
  g_assert_true(cd_archive_commit_document(archive, batch, doc, &error));
  g_assert_no_error(error);
  return cd_document_get_id(doc);
}

/* The newest mpi-import audit detail, as text. */
static gchar *
last_import_detail(CdArchive *archive)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = cd_archive_prepare(
      archive, "SELECT detail FROM audit WHERE action = 'mpi-import' ORDER BY id DESC LIMIT 1", &error);
  gchar *detail;

  g_assert_no_error(error);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  detail = g_strdup((const gchar *) sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  return detail;
}

/* The reported case: 111, 222 and 333 in the index, an A08 for 111 then an
 * A40 whose PID names 222 without a name and whose MRG names 333. 333 (and
 * its documents) goes to 222, never to 111; the audit entry lists the
 * documents moved. A merge into an MRN the index does not have, or into one
 * merged away, fails the import and moves nothing. */
static void
test_mpi_hl7_a40_into_own_pid(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp("cd-mpi-XXXXXX", &error);
  g_autofree gchar *path = g_build_filename(dir, "a.archive", NULL);
  g_autoptr(CdArchive) archive = NULL;
  g_autoptr(GPtrArray) index =
      read_text("mrn,family,given\n111,DOE,JANE\n222,ROE,RICHARD\n333,ROE,RICK\n", CD_MPI_FORMAT_CSV, NULL, NULL);
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) adt = read_text("MSH|^~\\&|A|B|C|D|1||ADT^A08|1|P|2.5\r"
                                       "PID|||111^^^H^MR||DOE^JANE||19520314|F\r"
                                       "MSH|^~\\&|A|B|C|D|1||ADT^A40|2|P|2.5\r"
                                       "PID|||222^^^H^MR\r"
                                       "MRG|333^^^H^MR\r",
                                       CD_MPI_FORMAT_HL7, NULL, problems);
  g_autoptr(GPtrArray) unknown = read_text("MSH|^~\\&|A|B|C|D|1||ADT^A40|1|P|2.5\rPID|||404^^^H^MR\rMRG|111^^^H^MR\r",
                                           CD_MPI_FORMAT_HL7, NULL, NULL);
  g_autoptr(GPtrArray) into_merged = read_text(
      "MSH|^~\\&|A|B|C|D|1||ADT^A40|1|P|2.5\rPID|||333^^^H^MR\rMRG|111^^^H^MR\r", CD_MPI_FORMAT_HL7, NULL, NULL);
  g_autoptr(GPtrArray) elsewhere = read_text("MSH|^~\\&|A|B|C|D|1||ADT^A40|1|P|2.5\rPID|||111^^^H^MR\rMRG|333^^^H^MR\r",
                                             CD_MPI_FORMAT_HL7, NULL, NULL);
  g_autoptr(CdPatient) s333 = NULL;
  g_autoptr(CdPatient) s111 = NULL;
  g_autofree gchar *detail = NULL;
  g_autofree gchar *expected = NULL;
  CdImportStats stats = { 0 };
  gint64 batch, d1, d2, d3;

  g_assert_no_error(error);
  g_assert_cmpuint(problems->len, ==, 0);
  archive = cd_archive_open(path, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, &error);
  g_assert_no_error(error);
  g_assert_true(cd_archive_import_patients(archive, index, "csv", &stats, &error));
  g_assert_no_error(error);
  batch = cd_archive_begin_batch(archive, "test", NULL, &error);
  g_assert_no_error(error);
  d1 = commit_document(archive, batch, "333", 1);
  d2 = commit_document(archive, batch, "111", 2);
  d3 = commit_document(archive, batch, "333", 3);

  memset(&stats, 0, sizeof stats);
  g_assert_true(cd_archive_import_patients(archive, adt, "hl7", &stats, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(stats.merged, ==, 1);
  g_assert_cmpuint(stats.refiled, ==, 2);
  s333 = cd_archive_resolve_patient(archive, "333", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(s333->mrn, ==, "222");
  s111 = cd_archive_lookup_patient(archive, "111", &error);
  g_assert_no_error(error);
  g_assert_null(s111->merged_into);
  detail = last_import_detail(archive);
  expected = g_strdup_printf("\"merges\":[{\"mrn\":\"333\",\"into\":\"222\",\"documents\":[%" G_GINT64_FORMAT
                             ",%" G_GINT64_FORMAT "]}]",
                             d1, d3);
  g_assert_nonnull(strstr(detail, expected));
  g_assert_cmpint(d2, >, 0);

  /* refused merges: the error names both MRNs and the reason */
  g_assert_false(cd_archive_import_patients(archive, unknown, "hl7", &stats, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_DATA);
  g_assert_cmpstr(error->message, ==,
                  "x: message 1 (ADT^A40): MRN 111: merge into 404 refused: 404 is not in the patient index (import "
                  "the patient first)");
  g_clear_error(&error);
  g_assert_false(cd_archive_import_patients(archive, into_merged, "hl7", &stats, &error));
  g_assert_cmpstr(error->message, ==,
                  "x: message 1 (ADT^A40): MRN 111: merge into 333 refused: 333 was itself merged into 222");
  g_clear_error(&error);
  g_assert_false(cd_archive_import_patients(archive, elsewhere, "hl7", &stats, &error));
  g_assert_cmpstr(error->message, ==,
                  "x: message 1 (ADT^A40): MRN 333: merge into 111 refused: 333 was already merged into 222");
  g_clear_error(&error);
  g_clear_pointer(&s111, cd_patient_free);
  s111 = cd_archive_resolve_patient(archive, "111", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(s111->mrn, ==, "111");
  /* the same A40 again changes nothing */
  memset(&stats, 0, sizeof stats);
  g_assert_true(cd_archive_import_patients(archive, adt, "hl7", &stats, &error));
  g_assert_cmpuint(stats.merged, ==, 0);
  g_assert_cmpuint(stats.unchanged, ==, 2);
  /* 222 merged into 111: 333 now resolves to 111 along the chain, and an
   * A40 merging 333 into 111 directly is a feed sent again */
  {
    g_autoptr(GPtrArray) chain = read_text("MSH|^~\\&|A|B|C|D|1||ADT^A40|1|P|2.5\rPID|||111^^^H^MR\rMRG|222^^^H^MR\r"
                                           "MSH|^~\\&|A|B|C|D|1||ADT^A40|2|P|2.5\rPID|||111^^^H^MR\rMRG|333^^^H^MR\r",
                                           CD_MPI_FORMAT_HL7, NULL, NULL);
    memset(&stats, 0, sizeof stats);
    g_assert_true(cd_archive_import_patients(archive, chain, "hl7", &stats, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(stats.merged, ==, 1);
    g_assert_cmpuint(stats.refiled, ==, 2);
    g_assert_cmpuint(stats.unchanged, ==, 1);
  }
  g_clear_object(&archive);
  cd_test_rm_rf(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chartdesk/mpi/csv", test_mpi_csv);
  g_test_add_func("/chartdesk/mpi/csv-unclosed-quote", test_mpi_csv_unclosed_quote);
  g_test_add_func("/chartdesk/mpi/csv-without-mrn-column", test_mpi_csv_without_mrn_column);
  g_test_add_func("/chartdesk/mpi/csv-short-row", test_mpi_csv_short_row);
  g_test_add_func("/chartdesk/mpi/csv-write", test_csv_write);
  g_test_add_func("/chartdesk/mpi/fhir", test_mpi_fhir);
  g_test_add_func("/chartdesk/mpi/fhir-replaced-by", test_mpi_fhir_replaced_by);
  g_test_add_func("/chartdesk/mpi/hl7", test_mpi_hl7);
  g_test_add_func("/chartdesk/mpi/hl7-update-missing-segments", test_mpi_hl7_update_missing_segments);
  g_test_add_func("/chartdesk/mpi/hl7-a40-missing-segments", test_mpi_hl7_a40_missing_segments);
  g_test_add_func("/chartdesk/mpi/hl7-a40-into-own-pid", test_mpi_hl7_a40_into_own_pid);
  g_test_add_func("/chartdesk/mpi/import", test_mpi_import);
  return g_test_run();
}
