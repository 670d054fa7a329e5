/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd-identity-common.h"

GType
cd_date_order_get_type(void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    { CD_DATE_ORDER_MDY, "CD_DATE_ORDER_MDY", "mdy" },
    { CD_DATE_ORDER_DMY, "CD_DATE_ORDER_DMY", "dmy" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("CdDateOrder", values));
  return type;
}

/* `March 14, 1952`, `Mar. 14 1952` */
static gchar *
cd_identity_parse_month_name_date(const gchar *text)
{
  static const gchar *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec" };
  g_auto(GStrv) parts = g_regex_split_simple("[\\s.,]+", text, 0, 0);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  gint month = 0, day, year;

  if (g_strv_length(parts) < 3 || strlen(parts[0]) < 3)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS(months); i++) {
    if (g_ascii_strncasecmp(parts[0], months[i], 3) == 0)
      month = i + 1;
  }
  day = atoi(parts[1]);
  year = atoi(parts[2]);
  if (month == 0 || !g_date_valid_dmy(day, month, year) || year < 1850 || year > g_date_time_get_year(now))
    return NULL;
  return g_strdup_printf("%04d-%02d-%02d", year, month, day);
}

/*
 * Reads a date written `03/14/1952`, `3-14-52`, `1952-03-14` or
 * `14.03.1952` into ISO form. A two-digit year is taken in this century
 * unless that lies in the future; an impossible date is no date.
 */
gchar *
cd_identity_parse_date(const gchar *text, CdDateOrder order)
{
  gint a = 0, b = 0, c = 0;
  gint year, month, day;
  gchar sep1 = 0, sep2 = 0;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();

  if (text == NULL)
    return NULL;
  if (g_ascii_isalpha(text[0]))
    return cd_identity_parse_month_name_date(text);
  if (sscanf(text, "%4d-%2d-%2d", &a, &b, &c) == 3 && a > 1800) {
    year = a;
    month = b;
    day = c;
  } else if (sscanf(text, "%2d%c%2d%c%4d", &a, &sep1, &b, &sep2, &c) == 5 && sep1 == sep2 &&
             (sep1 == '/' || sep1 == '-' || sep1 == '.')) {
    month = order == CD_DATE_ORDER_MDY ? a : b;
    day = order == CD_DATE_ORDER_MDY ? b : a;
    year = c;
    /* two-digit years: this century unless that is in the future */
    if (year < 100)
      year += 2000 + year <= g_date_time_get_year(now) ? 2000 : 1900;
  } else {
    return NULL;
  }
  if (!g_date_valid_dmy(day, month, year) || year < 1850 || year > g_date_time_get_year(now))
    return NULL;
  return g_strdup_printf("%04d-%02d-%02d", year, month, day);
}

/* The digits of an MRN as read, or NULL if anything but digits, spaces and
 * dashes is in it. */
gchar *
cd_identity_mrn_digits(const gchar *raw)
{
  GString *out = g_string_new(NULL);

  for (const gchar *p = raw; p != NULL && *p != '\0'; p++) {
    if (g_ascii_isdigit(*p))
      g_string_append_c(out, *p);
    else if (*p != ' ' && *p != '-') {
      g_string_free(out, TRUE);
      return NULL;
    }
  }
  if (out->len == 0) {
    g_string_free(out, TRUE);
    return NULL;
  }
  return g_string_free(out, FALSE);
}

static gchar
cd_identity_confusable(gchar c)
{
  switch (c) {
  case 'O':
  case 'o':
  case 'D':
  case 'Q':
    return '0';
  case 'l':
  case 'I':
  case 'i':
  case '|':
  case '!':
    return '1';
  case 'S':
  case 's':
    return '5';
  case 'B':
    return '8';
  case 'Z':
  case 'z':
    return '2';
  case 'G':
    return '6';
  default:
    return 0;
  }
}

/*
 * The MRNs an OCR reading may stand for when letters were read in place of
 * digits (O/0, l/1, S/5, B/8 …). Only letter-for-digit confusions are
 * undone: a digit read as another digit cannot be told from a different
 * patient. The result is only a candidate list; the caller must confirm a
 * candidate against the patient index and a second identifier.
 */
GPtrArray *
cd_identity_mrn_variants(const gchar *raw)
{
  GPtrArray *variants = g_ptr_array_new_with_free_func(g_free);
  GString *out = g_string_new(NULL);
  gboolean changed = FALSE;

  for (const gchar *p = raw; p != NULL && *p != '\0'; p++) {
    gchar d = cd_identity_confusable(*p);
    if (g_ascii_isdigit(*p)) {
      g_string_append_c(out, *p);
    } else if (d != 0) {
      g_string_append_c(out, d);
      changed = TRUE;
    } else if (*p != ' ' && *p != '-') {
      g_string_free(out, TRUE);
      return variants;
    }
  }
  if (changed && out->len > 0)
    g_ptr_array_add(variants, g_string_free(out, FALSE));
  else
    g_string_free(out, TRUE);
  return variants;
}

static guint
cd_levenshtein(const gchar *a, const gchar *b)
{
  gsize la = strlen(a), lb = strlen(b);
  g_autofree guint *prev = g_new(guint, lb + 1);
  g_autofree guint *cur = g_new(guint, lb + 1);

  for (gsize j = 0; j <= lb; j++)
    prev[j] = j;
  for (gsize i = 1; i <= la; i++) {
    cur[0] = i;
    for (gsize j = 1; j <= lb; j++) {
      guint cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = MIN(MIN(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + cost);
    }
    memcpy(prev, cur, (lb + 1) * sizeof(guint));
  }
  return prev[lb];
}

static gboolean
cd_name_part_agrees(const gchar *stored, const gchar *read, gboolean allow_typo)
{
  if (stored == NULL || read == NULL)
    return FALSE;
  if (g_strcmp0(stored, read) == 0)
    return TRUE;
  /* one misread letter in a long name, only where the MRN already matched
   * exactly: a different patient would need the same MRN too */
  return allow_typo && strlen(stored) >= 5 && cd_levenshtein(stored, read) <= 1;
}

/* Family and given name both agree with the index entry (names normalised).
 * An initial alone never agrees. */
gboolean
cd_identity_name_agrees(const CdPatient *patient, const gchar *family, const gchar *given, gboolean allow_typo)
{
  g_autofree gchar *f = cd_patient_normalize_name(family);
  g_autofree gchar *g = cd_patient_normalize_name(given);

  if (f == NULL || g == NULL || strlen(g) < 2)
    return FALSE;
  return cd_name_part_agrees(patient->family, f, allow_typo) && cd_name_part_agrees(patient->given, g, allow_typo);
}

/* A name was read and it is clearly someone else's: the family name
 * differs by more than a misread letter. */
gboolean
cd_identity_name_contradicts(const CdPatient *patient, const gchar *family, const gchar *given)
{
  g_autofree gchar *f = cd_patient_normalize_name(family);

  g_autofree gchar *g = cd_patient_normalize_name(given);

  if (f == NULL || patient->family == NULL)
    return FALSE;
  if (!cd_name_part_agrees(patient->family, f, TRUE))
    return TRUE;
  /* a sibling shares the family name: a different given name is someone
   * else too, unless only an initial was printed */
  return g != NULL && patient->given != NULL && strlen(g) >= 2 && !cd_name_part_agrees(patient->given, g, TRUE) &&
         !g_str_has_prefix(patient->given, g);
}

gchar *
cd_identity_page_string(CdPage *page, const gchar *fact)
{
  g_autoptr(GVariant) v = cd_page_get_fact(page, fact);
  if (v == NULL || !g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
    return NULL;
  return g_variant_dup_string(v, NULL);
}

/* The MRN a reading stands for once letters read for digits are undone:
 * for comparing two readings with each other, never for filing. */
gchar *
cd_identity_mrn_key(const gchar *raw)
{
  g_autoptr(GPtrArray) variants = cd_identity_mrn_variants(raw);
  if (variants->len > 0)
    return g_strdup(g_ptr_array_index(variants, 0));
  return cd_identity_mrn_digits(raw);
}

gboolean
cd_identity_mrn_same(const gchar *a, const gchar *b)
{
  g_autofree gchar *ka = cd_identity_mrn_key(a);
  g_autofree gchar *kb = cd_identity_mrn_key(b);
  return ka != NULL && g_strcmp0(ka, kb) == 0;
}
