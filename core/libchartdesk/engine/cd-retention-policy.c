/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "cd-error.h"
#include "cd-retention-policy.h"

/**
 * CdRetentionPolicy:
 *
 * How long the archive keeps its records, read from a keyfile: a default
 * rule in `[policy]` and a group per document type that needs another.
 *
 * |[
 * [policy]
 * years=10            # kept 10 years after the patient's last date of service
 * majority-age=18     # minors: at least until this age ...
 * minor-years=3       # ... plus these years
 * floor-years=5       # no rule keeps less (42 CFR 482.24(b)(1))
 * two-person=true     # a plan is approved by another administrator
 * facility=St. Elsewhere Hospital, Health Information Management
 *
 * [operative-report]
 * years=30
 *
 * [consent-form]
 * permanent=true
 * ]|
 *
 * A document is kept until the later of its patient's last date of service
 * in the archive plus the rule's years (never fewer than `floor-years`)
 * and, when the patient was a minor on the document's date of service, the
 * day they reach `majority-age` plus `minor-years` (default: the
 * `[policy]` value). A patient whose date of birth is unknown is taken to
 * have been born on that date of service, so a minor's record is never
 * destroyed early for want of a birth date. The master patient index is
 * never purged by any rule.
 *
 * The file is read line by line so that every error names its line.
 *
 * Since: 0.4
 */

typedef struct {
  gchar *name; /* "default" or the type's name */
  guint line;  /* where its group starts */
  gboolean permanent;
  gint years;       /* -1: not set (the default's) */
  gint minor_years; /* -1: not set (the default's) */
} CdRetentionRule;

struct _CdRetentionPolicy {
  GObject parent_instance;
  gchar *origin;
  gchar *text;
  gchar *sha256;
  CdTaxonomy *taxonomy; /* nullable: to name documents' types as the rules do */
  CdRetentionRule *fallback;
  GPtrArray *rules; /* CdRetentionRule, file order; the default first */
  guint majority_age;
  guint floor_years;
  gboolean two_person;
  gchar *facility;
  gchar *method;
};

G_DEFINE_FINAL_TYPE(CdRetentionPolicy, cd_retention_policy, G_TYPE_OBJECT)

#define CD_RETENTION_DEFAULT_MAJORITY 18
#define CD_RETENTION_MAX_YEARS 200
#define CD_RETENTION_DEFAULT_METHOD                                                                                    \
  "Electronic deletion: page images, recognised text and word boxes removed from the archive database and its "        \
  "full-text index (index merged so no deleted term remains), freed pages zeroed (secure_delete) and the file "        \
  "rebuilt (VACUUM); a tombstone keeps the document's identity, dates, page count and image checksums."

static void
cd_retention_rule_free(CdRetentionRule *rule)
{
  g_free(rule->name);
  g_free(rule);
}

static void
cd_retention_policy_finalize(GObject *object)
{
  CdRetentionPolicy *self = CD_RETENTION_POLICY(object);

  g_free(self->origin);
  g_free(self->text);
  g_free(self->sha256);
  g_clear_object(&self->taxonomy);
  g_ptr_array_unref(self->rules);
  g_free(self->facility);
  g_free(self->method);
  G_OBJECT_CLASS(cd_retention_policy_parent_class)->finalize(object);
}

static void
cd_retention_policy_class_init(CdRetentionPolicyClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = cd_retention_policy_finalize;
}

static void
cd_retention_policy_init(CdRetentionPolicy *self)
{
  self->rules = g_ptr_array_new_with_free_func((GDestroyNotify) cd_retention_rule_free);
  self->majority_age = CD_RETENTION_DEFAULT_MAJORITY;
}

/**
 * cd_retention_verdict_clear:
 * @verdict: a verdict filled by cd_retention_policy_evaluate()
 *
 * Frees what the verdict holds.
 *
 * Since: 0.4
 */
void
cd_retention_verdict_clear(CdRetentionVerdict *verdict)
{
  g_clear_pointer(&verdict->why, g_free);
}

/**
 * cd_date_parse_iso:
 * @text: (nullable): a date as `YYYY-MM-DD`
 * @date: (out caller-allocates): the date
 *
 * Returns: whether @text is a valid calendar date in that form
 *
 * Since: 0.4
 */
gboolean
cd_date_parse_iso(const gchar *text, GDate *date)
{
  guint y, m, d;
  gchar tail;

  g_date_clear(date, 1);
  if (text == NULL || strlen(text) != 10 || sscanf(text, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3)
    return FALSE;
  if (text[4] != '-' || text[7] != '-' || !g_date_valid_dmy(d, m, y))
    return FALSE;
  g_date_set_dmy(date, d, m, y);
  return TRUE;
}

/**
 * cd_date_to_iso:
 * @date: a valid date
 *
 * Returns: (transfer full): @date as `YYYY-MM-DD`
 *
 * Since: 0.4
 */
gchar *
cd_date_to_iso(const GDate *date)
{
  return g_strdup_printf("%04u-%02u-%02u", g_date_get_year(date), g_date_get_month(date), g_date_get_day(date));
}

/* @from plus @years calendar years. 29 February goes to 1 March in a year
 * without one (not 28 February): a day later, never a day less. */
static GDate
cd_date_plus_years(const GDate *from, guint years)
{
  GDate out = *from;

  g_date_add_years(&out, years);
  if (g_date_get_month(from) == G_DATE_FEBRUARY && g_date_get_day(from) == 29 && g_date_get_day(&out) == 28)
    g_date_add_days(&out, 1);
  return out;
}

static gboolean cd_policy_error(CdRetentionPolicy *self, GError **error, guint line, const gchar *format, ...)
    G_GNUC_PRINTF(4, 5);

static gboolean
cd_policy_error(CdRetentionPolicy *self, GError **error, guint line, const gchar *format, ...)
{
  va_list ap;
  g_autofree gchar *msg = NULL;

  va_start(ap, format);
  msg = g_strdup_vprintf(format, ap);
  va_end(ap);
  if (line > 0)
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s:%u: %s", self->origin, line, msg);
  else
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "%s: %s", self->origin, msg);
  return FALSE;
}

static gboolean
cd_policy_parse_uint(CdRetentionPolicy *self, const gchar *key, const gchar *value, guint line, guint min, guint max,
                     gint *out, GError **error)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned(value, 10, min, max, &v, NULL))
    return cd_policy_error(self, error, line, "%s: '%s' is not a whole number from %u to %u", key, value, min, max);
  *out = (gint) v;
  return TRUE;
}

static gboolean
cd_policy_parse_bool(CdRetentionPolicy *self, const gchar *key, const gchar *value, guint line, gboolean *out,
                     GError **error)
{
  if (g_strcmp0(value, "true") == 0)
    *out = TRUE;
  else if (g_strcmp0(value, "false") == 0)
    *out = FALSE;
  else
    return cd_policy_error(self, error, line, "%s: '%s' is not true or false", key, value);
  return TRUE;
}

/* One key of a group; @rule is the group's rule (the default's for
 * [policy]). @seen holds "group/key" to refuse a key given twice. */
static gboolean
cd_policy_set(CdRetentionPolicy *self, CdRetentionRule *rule, GHashTable *seen, const gchar *key, const gchar *value,
              guint line, GError **error)
{
  gboolean is_default = rule == self->fallback;
  g_autofree gchar *seen_key = g_strdup_printf("%s/%s", rule->name, key);
  gint v = 0;

  if (g_hash_table_contains(seen, seen_key))
    return cd_policy_error(self, error, line, "%s is given twice in this group (first on line %u)", key,
                           GPOINTER_TO_UINT(g_hash_table_lookup(seen, seen_key)));
  g_hash_table_insert(seen, g_steal_pointer(&seen_key), GUINT_TO_POINTER(line));

  if (g_strcmp0(key, "years") == 0)
    return cd_policy_parse_uint(self, key, value, line, 0, CD_RETENTION_MAX_YEARS, &rule->years, error);
  if (g_strcmp0(key, "minor-years") == 0)
    return cd_policy_parse_uint(self, key, value, line, 0, CD_RETENTION_MAX_YEARS, &rule->minor_years, error);
  if (!is_default && g_strcmp0(key, "permanent") == 0)
    return cd_policy_parse_bool(self, key, value, line, &rule->permanent, error);
  if (is_default && g_strcmp0(key, "majority-age") == 0) {
    if (!cd_policy_parse_uint(self, key, value, line, 1, 30, &v, error))
      return FALSE;
    self->majority_age = v;
    return TRUE;
  }
  if (is_default && g_strcmp0(key, "floor-years") == 0) {
    if (!cd_policy_parse_uint(self, key, value, line, 0, CD_RETENTION_MAX_YEARS, &v, error))
      return FALSE;
    self->floor_years = v;
    return TRUE;
  }
  if (is_default && g_strcmp0(key, "two-person") == 0)
    return cd_policy_parse_bool(self, key, value, line, &self->two_person, error);
  if (is_default && g_strcmp0(key, "facility") == 0) {
    g_free(self->facility);
    self->facility = g_strdup(value);
    return TRUE;
  }
  if (is_default && g_strcmp0(key, "method") == 0) {
    g_free(self->method);
    self->method = g_strdup(value);
    return TRUE;
  }
  if (is_default)
    return cd_policy_error(self, error, line,
                           "[policy] has no key '%s' (years, minor-years, majority-age, floor-years, two-person, "
                           "facility, method)",
                           key);
  return cd_policy_error(self, error, line, "[%s] has no key '%s' (years, minor-years, permanent)", rule->name, key);
}

/* The whole file consistent: a default, each type known to the taxonomy
 * by its own name, no rule below the floor, years or permanent per type. */
static gboolean
cd_policy_validate(CdRetentionPolicy *self, GError **error)
{
  if (self->fallback == NULL)
    return cd_policy_error(self, error, 0, "no [policy] group: the default rule (years=N) is required");
  if (self->fallback->years < 0)
    return cd_policy_error(self, error, self->fallback->line,
                           "[policy] needs years=N, the years every record is kept after the patient's last date "
                           "of service");
  for (guint i = 0; i < self->rules->len; i++) {
    CdRetentionRule *rule = g_ptr_array_index(self->rules, i);

    if (rule != self->fallback && self->taxonomy != NULL) {
      const gchar *canonical = cd_taxonomy_lookup(self->taxonomy, rule->name);
      if (canonical == NULL)
        return cd_policy_error(self, error, rule->line, "[%s]: no such document type in the taxonomy (%s)", rule->name,
                               cd_taxonomy_get_origin(self->taxonomy));
      if (g_strcmp0(canonical, rule->name) != 0)
        return cd_policy_error(self, error, rule->line, "[%s]: name the type as the taxonomy does: [%s]", rule->name,
                               canonical);
    }
    if (rule == self->fallback)
      continue;
    if (rule->permanent && (rule->years >= 0 || rule->minor_years >= 0))
      return cd_policy_error(self, error, rule->line, "[%s]: a permanent type takes no years", rule->name);
    if (!rule->permanent && rule->years < 0 && rule->minor_years < 0)
      return cd_policy_error(self, error, rule->line, "[%s]: give years=N, minor-years=N or permanent=true",
                             rule->name);
  }
  for (guint i = 0; i < self->rules->len; i++) {
    CdRetentionRule *rule = g_ptr_array_index(self->rules, i);
    if (!rule->permanent && rule->years >= 0 && (guint) rule->years < self->floor_years)
      return cd_policy_error(self, error, rule->line,
                             "[%s] years=%d is below floor-years=%u: no rule may keep records for less", rule->name,
                             rule->years, self->floor_years);
  }
  return TRUE;
}

static gboolean
cd_policy_parse(CdRetentionPolicy *self, GError **error)
{
  g_auto(GStrv) lines = g_strsplit(self->text, "\n", -1);
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  CdRetentionRule *current = NULL;

  if (!g_utf8_validate(self->text, -1, NULL))
    return cd_policy_error(self, error, 0, "not UTF-8 text");
  for (guint i = 0; lines[i] != NULL; i++) {
    guint line = i + 1;
    gchar *l = g_strstrip(lines[i]);
    gchar *eq;

    if (l[0] == '\0' || l[0] == '#' || l[0] == ';')
      continue;
    if (l[0] == '[') {
      gsize len = strlen(l);
      g_autofree gchar *name = NULL;
      CdRetentionRule *rule;
      if (l[len - 1] != ']')
        return cd_policy_error(self, error, line, "a group line must end with ']'");
      name = g_strstrip(g_strndup(l + 1, len - 2));
      if (name[0] == '\0')
        return cd_policy_error(self, error, line, "a group needs a name: [policy] or a document type");
      if (g_hash_table_contains(groups, name)) {
        rule = g_hash_table_lookup(groups, name);
        return cd_policy_error(self, error, line, "[%s] is given twice (first on line %u)", name, rule->line);
      }
      rule = g_new0(CdRetentionRule, 1);
      rule->line = line;
      rule->years = -1;
      rule->minor_years = -1;
      if (g_strcmp0(name, "policy") == 0) {
        rule->name = g_strdup("default");
        self->fallback = rule;
        g_ptr_array_insert(self->rules, 0, rule);
      } else {
        rule->name = g_strdup(name);
        g_ptr_array_add(self->rules, rule);
      }
      /* not interned: a name from the file would stay for the life of the process */
      g_hash_table_insert(groups, g_strdup(name), rule);
      current = rule;
      continue;
    }
    eq = strchr(l, '=');
    if (eq == NULL)
      return cd_policy_error(self, error, line, "expected key=value, [group] or a # comment");
    *eq = '\0';
    g_strstrip(l);
    g_strstrip(eq + 1);
    if (l[0] == '\0')
      return cd_policy_error(self, error, line, "a key is missing before '='");
    if (current == NULL)
      return cd_policy_error(self, error, line, "'%s' comes before any group; start with [policy]", l);
    if (!cd_policy_set(self, current, seen, l, eq + 1, line, error))
      return FALSE;
  }
  return cd_policy_validate(self, error);
}

/**
 * cd_retention_policy_new_from_data:
 * @data: the policy's text
 * @origin: (nullable): what to call it in messages (its file name)
 * @taxonomy: (nullable): the taxonomy whose types the rules name; %NULL
 *   accepts any type name and matches documents' types as written
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the policy, or %NULL with %CD_ERROR_INVALID_DATA
 *   whose message is `ORIGIN:LINE: what is wrong`
 *
 * Since: 0.4
 */
CdRetentionPolicy *
cd_retention_policy_new_from_data(const gchar *data, const gchar *origin, CdTaxonomy *taxonomy, GError **error)
{
  g_autoptr(CdRetentionPolicy) self = NULL;

  g_return_val_if_fail(data != NULL, NULL);
  self = g_object_new(CD_TYPE_RETENTION_POLICY, NULL);
  self->origin = g_strdup(origin != NULL ? origin : "policy");
  self->text = g_strdup(data);
  self->sha256 = g_compute_checksum_for_string(G_CHECKSUM_SHA256, data, -1);
  if (taxonomy != NULL)
    self->taxonomy = g_object_ref(taxonomy);
  if (!cd_policy_parse(self, error))
    return NULL;
  if (self->method == NULL)
    self->method = g_strdup(CD_RETENTION_DEFAULT_METHOD);
  return g_steal_pointer(&self);
}

/**
 * cd_retention_policy_new_from_file:
 * @path: a policy keyfile
 * @taxonomy: (nullable): as for cd_retention_policy_new_from_data()
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the policy, or %NULL with @error set
 *
 * Since: 0.4
 */
CdRetentionPolicy *
cd_retention_policy_new_from_file(const gchar *path, CdTaxonomy *taxonomy, GError **error)
{
  g_autofree gchar *data = NULL;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail(path != NULL, NULL);
  if (!g_file_get_contents(path, &data, NULL, &local)) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: cannot read the retention policy: %s", path, local->message);
    return NULL;
  }
  return cd_retention_policy_new_from_data(data, path, taxonomy, error);
}

/**
 * cd_retention_policy_get_origin:
 * @self: a #CdRetentionPolicy
 *
 * Returns: the file it was read from
 *
 * Since: 0.4
 */
const gchar *
cd_retention_policy_get_origin(CdRetentionPolicy *self)
{
  g_return_val_if_fail(CD_IS_RETENTION_POLICY(self), NULL);
  return self->origin;
}

/**
 * cd_retention_policy_get_text:
 * @self: a #CdRetentionPolicy
 *
 * Returns: the policy's text exactly as read; a plan carries it, so the
 *   destruction applies the rules the plan was made with
 *
 * Since: 0.4
 */
const gchar *
cd_retention_policy_get_text(CdRetentionPolicy *self)
{
  g_return_val_if_fail(CD_IS_RETENTION_POLICY(self), NULL);
  return self->text;
}

/**
 * cd_retention_policy_get_sha256:
 * @self: a #CdRetentionPolicy
 *
 * Returns: the SHA-256 of the policy's text, in hex
 *
 * Since: 0.4
 */
const gchar *
cd_retention_policy_get_sha256(CdRetentionPolicy *self)
{
  g_return_val_if_fail(CD_IS_RETENTION_POLICY(self), NULL);
  return self->sha256;
}

/**
 * cd_retention_policy_get_two_person:
 * @self: a #CdRetentionPolicy
 *
 * Returns: whether `two-person=true`: a plan must be approved by an
 *   administrator other than the one who made it
 *
 * Since: 0.4
 */
gboolean
cd_retention_policy_get_two_person(CdRetentionPolicy *self)
{
  g_return_val_if_fail(CD_IS_RETENTION_POLICY(self), FALSE);
  return self->two_person;
}

/**
 * cd_retention_policy_get_facility:
 * @self: a #CdRetentionPolicy
 *
 * Returns: (nullable): the facility named on destruction certificates
 *
 * Since: 0.4
 */
const gchar *
cd_retention_policy_get_facility(CdRetentionPolicy *self)
{
  g_return_val_if_fail(CD_IS_RETENTION_POLICY(self), NULL);
  return self->facility;
}

/**
 * cd_retention_policy_get_method:
 * @self: a #CdRetentionPolicy
 *
 * Returns: the method of destruction, as the certificate states it
 *
 * Since: 0.4
 */
const gchar *
cd_retention_policy_get_method(CdRetentionPolicy *self)
{
  g_return_val_if_fail(CD_IS_RETENTION_POLICY(self), NULL);
  return self->method;
}

/**
 * cd_retention_policy_get_majority_age:
 * @self: a #CdRetentionPolicy
 *
 * Returns: the age of majority (`majority-age`, default 18)
 *
 * Since: 0.4
 */
guint
cd_retention_policy_get_majority_age(CdRetentionPolicy *self)
{
  g_return_val_if_fail(CD_IS_RETENTION_POLICY(self), 0);
  return self->majority_age;
}

static gint
cd_rule_years(CdRetentionPolicy *self, CdRetentionRule *rule)
{
  gint years = rule->years >= 0 ? rule->years : self->fallback->years;
  return MAX(years, (gint) self->floor_years);
}

static gint
cd_rule_minor_years(CdRetentionPolicy *self, CdRetentionRule *rule)
{
  if (rule->minor_years >= 0)
    return rule->minor_years;
  return MAX(self->fallback->minor_years, 0);
}

static gchar *
cd_rule_describe(CdRetentionPolicy *self, CdRetentionRule *rule)
{
  if (rule->permanent)
    return g_strdup_printf("%s: kept permanently", rule->name);
  return g_strdup_printf("%s: %d years after the last date of service; minors until %u + %d years", rule->name,
                         cd_rule_years(self, rule), self->majority_age, cd_rule_minor_years(self, rule));
}

/**
 * cd_retention_policy_describe:
 * @self: a #CdRetentionPolicy
 *
 * Returns: (transfer container) (element-type utf8): one line per rule,
 *   the default first, with the floor applied
 *
 * Since: 0.4
 */
GPtrArray *
cd_retention_policy_describe(CdRetentionPolicy *self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

  g_return_val_if_fail(CD_IS_RETENTION_POLICY(self), out);
  for (guint i = 0; i < self->rules->len; i++)
    g_ptr_array_add(out, cd_rule_describe(self, g_ptr_array_index(self->rules, i)));
  return out;
}

static CdRetentionRule *
cd_policy_rule_for(CdRetentionPolicy *self, const gchar *type)
{
  const gchar *name = type;

  if (type != NULL && self->taxonomy != NULL) {
    const gchar *canonical = cd_taxonomy_lookup(self->taxonomy, type);
    if (canonical != NULL)
      name = canonical;
  }
  for (guint i = 1; name != NULL && i < self->rules->len; i++) {
    CdRetentionRule *rule = g_ptr_array_index(self->rules, i);
    if (g_strcmp0(rule->name, name) == 0)
      return rule;
  }
  return self->fallback;
}

/**
 * cd_retention_policy_evaluate:
 * @self: a #CdRetentionPolicy
 * @type: (nullable): the document's type (a former name or alias is
 *   resolved through the taxonomy)
 * @date: the document's date of service, `YYYY-MM-DD`
 * @last_service: (nullable): the patient's last date of service in the
 *   archive; %NULL for @date
 * @dob: (nullable): the patient's date of birth; %NULL when unknown
 * @verdict: (out caller-allocates): the rule and the last day to keep;
 *   clear it with cd_retention_verdict_clear()
 * @error: return location for a #GError
 *
 * Applies the policy to one document. A document is due once the day after
 * @verdict's keep_until has come.
 *
 * Returns: %FALSE with %CD_ERROR_INVALID_DATA when a date cannot be read
 *
 * Since: 0.4
 */
gboolean
cd_retention_policy_evaluate(CdRetentionPolicy *self, const gchar *type, const gchar *date, const gchar *last_service,
                             const gchar *dob, CdRetentionVerdict *verdict, GError **error)
{
  CdRetentionRule *rule;
  GDate service, last, birth, until, minor_until;
  g_autofree gchar *until_s = NULL;
  gint years, minor_years;

  g_return_val_if_fail(CD_IS_RETENTION_POLICY(self), FALSE);
  memset(verdict, 0, sizeof(*verdict));
  g_date_clear(&verdict->keep_until, 1);
  rule = cd_policy_rule_for(self, type);
  verdict->rule = rule->name;
  if (rule->permanent) {
    verdict->permanent = TRUE;
    verdict->why = g_strdup_printf("[%s] is kept permanently", rule->name);
    return TRUE;
  }
  if (!cd_date_parse_iso(date, &service)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the date of service '%s' is not a YYYY-MM-DD date",
                date != NULL ? date : "(none)");
    return FALSE;
  }
  if (last_service == NULL)
    last = service;
  else if (!cd_date_parse_iso(last_service, &last)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the last date of service '%s' is not a YYYY-MM-DD date",
                last_service);
    return FALSE;
  }
  if (g_date_compare(&service, &last) > 0)
    last = service;
  if (dob != NULL && !cd_date_parse_iso(dob, &birth)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the date of birth '%s' is not a YYYY-MM-DD date", dob);
    return FALSE;
  }
  years = cd_rule_years(self, rule);
  minor_years = cd_rule_minor_years(self, rule);
  until = cd_date_plus_years(&last, years);
  {
    g_autofree gchar *last_s = cd_date_to_iso(&last);
    g_autofree gchar *u = cd_date_to_iso(&until);
    verdict->why = g_strdup_printf("[%s] %d years after the last date of service %s: %s", rule->name, years, last_s, u);
  }

  /* the age on the date of service; unknown: born that day (worst case) */
  if (dob == NULL) {
    verdict->minor = TRUE;
    minor_until = cd_date_plus_years(&service, self->majority_age + minor_years);
  } else {
    GDate majority = cd_date_plus_years(&birth, self->majority_age);
    verdict->minor = g_date_compare(&service, &majority) < 0;
    minor_until = cd_date_plus_years(&birth, self->majority_age + minor_years);
  }
  if (verdict->minor) {
    g_autofree gchar *m = cd_date_to_iso(&minor_until);
    g_autofree gchar *prev = g_steal_pointer(&verdict->why);
    g_autofree gchar *born =
        dob != NULL ? g_strdup_printf("born %s", dob) : g_strdup("date of birth unknown, taken as born that day");
    verdict->why = g_strdup_printf("%s; a minor on %s (%s): majority at %u + %d years: %s", prev, date, born,
                                   self->majority_age, minor_years, m);
    if (g_date_compare(&minor_until, &until) > 0)
      until = minor_until;
  }
  verdict->keep_until = until;
  until_s = cd_date_to_iso(&until);
  {
    g_autofree gchar *prev = g_steal_pointer(&verdict->why);
    verdict->why = g_strdup_printf("%s; kept until %s", prev, until_s);
  }
  return TRUE;
}
