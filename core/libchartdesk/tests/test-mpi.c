/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The patient index readers on small extracts, and their import into a real
 * archive: merges, re-import without duplicates.
 */
#include "cd-engine.h"

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
  g_assert_true(has_problem(problems, "message 4 (segment"));
  g_assert_true(has_problem(problems, "event R01 carries no index update"));
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

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/mpi/csv", test_mpi_csv);
  g_test_add_func("/mpi/csv-unclosed-quote", test_mpi_csv_unclosed_quote);
  g_test_add_func("/mpi/csv-without-mrn-column", test_mpi_csv_without_mrn_column);
  g_test_add_func("/mpi/fhir", test_mpi_fhir);
  g_test_add_func("/mpi/hl7", test_mpi_hl7);
  g_test_add_func("/mpi/import", test_mpi_import);
  return g_test_run();
}
