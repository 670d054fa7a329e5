/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of stage options as text (cd-param.c).
 */
#include "cd-error.h"
#include "cd-param-private.h"

/* An assignment splits at the first '=' and its name at the first '.',
 * so values keep their own dots and equals signs (regular expressions). */
static void
test_param_assignment(void)
{
  g_autofree gchar *stage = NULL;
  g_autofree gchar *option = NULL;
  g_autofree gchar *value = NULL;

  g_assert_true(cd_param_parse_assignment("header.mrn-pattern=MRN[.:=]\\s*(\\d+)", &stage, &option, &value, NULL));
  g_assert_cmpstr(stage, ==, "header");
  g_assert_cmpstr(option, ==, "mrn-pattern");
  g_assert_cmpstr(value, ==, "MRN[.:=]\\s*(\\d+)");
  g_clear_pointer(&value, g_free);
  g_assert_true(cd_param_parse_assignment("ocr.language=", NULL, NULL, &value, NULL));
  g_assert_cmpstr(value, ==, "");
}

/* Anything but STAGE.OPTION=VALUE with both names present is refused with
 * the assignment named. */
static void
test_param_assignment_bad(void)
{
  const gchar *bad[] = { "", "ocr", "ocr=1", ".x=1", "ocr.=1", "ocr.x", "=x.y", "a=b.c" };

  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree gchar *stage = NULL;
    g_assert_false(cd_param_parse_assignment(bad[i], &stage, NULL, NULL, &error));
    g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "is not STAGE.OPTION=VALUE"));
    g_assert_null(stage);
  }
}

/* Values read from text pass the property's own range check, and write
 * back as a workflow would have written them. */
static void
test_param_value_round_trip(void)
{
  g_autoptr(GParamSpec) pspec = g_param_spec_int("n", NULL, NULL, 1, 10, 5, G_PARAM_READWRITE);
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;
  g_autofree gchar *text = NULL;

  g_param_spec_ref_sink(pspec);
  g_assert_true(cd_param_value_from_string(pspec, "7", &value, &error));
  g_assert_no_error(error);
  text = cd_param_value_to_string(&value);
  g_assert_cmpstr(text, ==, "7");
  g_value_unset(&value);
  g_assert_false(cd_param_value_from_string(pspec, "11", &value, &error));
  g_assert_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(error->message, "out of range"));
  g_value_unset(&value);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/chartdesk/param/assignment", test_param_assignment);
  g_test_add_func("/chartdesk/param/assignment-bad", test_param_assignment_bad);
  g_test_add_func("/chartdesk/param/value-round-trip", test_param_value_round_trip);
  return g_test_run();
}
