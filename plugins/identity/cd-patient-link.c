/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The `patient-link` document stage files a document to a patient only
 * when it can prove who the patient is, and otherwise says why not.
 *
 * The rules (README.md, "Linking rules"):
 *  1. A reading is proven when its MRN is in the patient index and a
 *     second identifier — name or date of birth — read on the same page, or
 *     on the cover sheet carrying the same MRN, agrees with the index, and
 *     nothing read there contradicts it.
 *  2. Letters read for digits (O/0, l/1, S/5, B/8) are undone only when
 *     exactly one such reading is in the index and its name or date of
 *     birth agrees exactly.
 *  3. A page whose own header names someone other than its cover sheet is
 *     never filed under the cover's patient: under its own if proven,
 *     otherwise to review as a possible misfile.
 *  4. Pages without identifiers inherit their document's patient; a
 *     document without any identifier inherits a proven cover sheet's.
 *  5. A name, even with a date of birth, without an MRN never files a
 *     document: namesakes are told apart by MRN alone.
 *  6. Merged MRNs file to the surviving MRN.
 */
#include "config.h"

#include "cd-boundary.h"
#include "cd-identity-common.h"
#include "cd-patient-link.h"

struct _CdPatientLink {
  CdDocStage parent_instance;
  gboolean ocr_variants;
  gboolean name_typos;
};

G_DEFINE_FINAL_TYPE(CdPatientLink, cd_patient_link, CD_TYPE_DOC_STAGE)

enum { PROP_0, PROP_OCR_VARIANTS, PROP_NAME_TYPOS, N_PROPS };

static GParamSpec *props[N_PROPS];

typedef enum {
  CD_CLAIM_NONE,           /* nothing read */
  CD_CLAIM_PROVEN,         /* patient set */
  CD_CLAIM_UNKNOWN,        /* MRN not in the index */
  CD_CLAIM_UNCORROBORATED, /* MRN known, nothing else agrees; patient set */
  CD_CLAIM_CONFLICT,       /* identifiers disagree */
  CD_CLAIM_NAME_ONLY,      /* a name or birth date without MRN */
} CdClaimState;

/* What one page (or the cover sheet) says about the patient. */
typedef struct {
  gchar *where; /* "page 2", "the cover sheet (scan.tif page 1)" */
  gchar *mrn;   /* as read */
  gchar *family;
  gchar *given;
  gchar *dob;
  gchar *conflict; /* read-time disagreement */
  CdClaimState state;
  CdPatient *patient; /* resolved through merges */
  gchar *why;         /* for review */
  gchar *how;         /* for the record, when proven */
} CdClaim;

static void
cd_claim_free(CdClaim *claim)
{
  g_free(claim->where);
  g_free(claim->mrn);
  g_free(claim->family);
  g_free(claim->given);
  g_free(claim->dob);
  g_free(claim->conflict);
  g_clear_pointer(&claim->patient, cd_patient_free);
  g_free(claim->why);
  g_free(claim->how);
  g_free(claim);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdClaim, cd_claim_free)

static gboolean
cd_claim_is_empty(CdClaim *claim)
{
  return claim->mrn == NULL && claim->family == NULL && claim->dob == NULL && claim->conflict == NULL;
}

static gchar *
cd_claim_name(CdClaim *claim)
{
  if (claim->family == NULL)
    return g_strdup("no name");
  return g_strdup_printf("%s, %s", claim->family, claim->given != NULL ? claim->given : "?");
}

/* The second identifiers of @claim agree with @patient (and none
 * contradicts); @exact forbids tolerance of a misread letter. */
static gboolean
cd_claim_corroborates(CdPatientLink *self, CdClaim *claim, CdPatient *patient, gboolean exact, const gchar **what)
{
  gboolean name_ok = claim->family != NULL &&
                     cd_identity_name_agrees(patient, claim->family, claim->given, !exact && self->name_typos);
  gboolean dob_ok = claim->dob != NULL && g_strcmp0(claim->dob, patient->dob) == 0;

  if (name_ok && dob_ok)
    *what = "name and date of birth";
  else if (name_ok)
    *what = "name";
  else if (dob_ok)
    *what = "date of birth";
  return name_ok || dob_ok;
}

/* Why @claim's name or birth date says someone other than @patient, or NULL. */
static gchar *
cd_claim_contradiction(CdClaim *claim, CdPatient *patient)
{
  g_autofree gchar *who = cd_patient_to_string(patient);

  if (claim->family != NULL && cd_identity_name_contradicts(patient, claim->family, claim->given)) {
    g_autofree gchar *name = cd_claim_name(claim);
    return g_strdup_printf("%s reads MRN %s, which is %s, but names %s", claim->where, claim->mrn, who, name);
  }
  if (claim->dob != NULL && patient->dob != NULL && g_strcmp0(claim->dob, patient->dob) != 0)
    return g_strdup_printf("%s reads MRN %s, which is %s, but date of birth %s", claim->where, claim->mrn, who,
                           claim->dob);
  return NULL;
}

/* The patient filed under @mrn, merges followed; %NULL without an error
 * when the index does not know it. */
static CdPatient *
cd_link_resolve(CdArchive *archive, const gchar *mrn, GError **error)
{
  g_autoptr(GError) error_local = NULL;
  CdPatient *patient = cd_archive_resolve_patient(archive, mrn, &error_local);

  if (patient == NULL && !g_error_matches(error_local, CD_ERROR, CD_ERROR_NOT_FOUND))
    g_propagate_error(error, g_steal_pointer(&error_local));
  return patient;
}

/* Decides what @claim proves against the patient index. @extra, when not
 * NULL, lends its name and birth date (a cover sheet with the same MRN). */
static gboolean
cd_claim_evaluate(CdPatientLink *self, CdArchive *archive, CdClaim *claim, CdClaim *extra, GError **error)
{
  g_autofree gchar *digits = NULL;
  g_autoptr(CdPatient) patient = NULL;
  const gchar *what = NULL;

  if (claim->conflict != NULL) {
    claim->state = CD_CLAIM_CONFLICT;
    claim->why = g_strdup_printf("conflicting identifiers: %s", claim->conflict);
    return TRUE;
  }
  if (claim->mrn == NULL) {
    g_autoptr(GPtrArray) namesakes = NULL;
    if (claim->family == NULL && claim->dob == NULL) {
      claim->state = CD_CLAIM_NONE;
      return TRUE;
    }
    claim->state = CD_CLAIM_NAME_ONLY;
    if (claim->family == NULL) {
      claim->why = g_strdup_printf("no MRN: %s shows only a date of birth (%s)", claim->where, claim->dob);
      return TRUE;
    }
    namesakes = cd_archive_find_patients(archive, claim->family, claim->given, NULL, error);
    if (namesakes == NULL)
      return FALSE;
    {
      g_autofree gchar *name = cd_claim_name(claim);
      if (namesakes->len > 1)
        claim->why = g_strdup_printf("ambiguous namesake: %s names %s without an MRN and %u patients have that name",
                                     claim->where, name, namesakes->len);
      else
        claim->why = g_strdup_printf("no MRN: %s names %s but an MRN is needed to file", claim->where, name);
    }
    return TRUE;
  }

  digits = cd_identity_mrn_digits(claim->mrn);
  if (digits != NULL) {
    g_autoptr(GError) error_local = NULL;
    patient = cd_link_resolve(archive, digits, &error_local);
    if (error_local != NULL) {
      g_propagate_error(error, g_steal_pointer(&error_local));
      return FALSE;
    }
  }
  if (patient != NULL) {
    g_autofree gchar *contradiction = cd_claim_contradiction(claim, patient);
    if (contradiction == NULL && extra != NULL)
      contradiction = cd_claim_contradiction(extra, patient);
    if (contradiction != NULL) {
      claim->state = CD_CLAIM_CONFLICT;
      claim->why = g_strdup_printf("conflicting identifiers: %s", contradiction);
      return TRUE;
    }
    if (cd_claim_corroborates(self, claim, patient, FALSE, &what) ||
        (extra != NULL && cd_claim_corroborates(self, extra, patient, FALSE, &what))) {
      claim->state = CD_CLAIM_PROVEN;
      if (g_strcmp0(patient->mrn, digits) != 0)
        claim->how = g_strdup_printf("MRN %s (merged into %s), %s agree", digits, patient->mrn, what);
      else
        claim->how = g_strdup_printf("MRN %s, %s agree", digits, what);
    } else {
      g_autofree gchar *who = cd_patient_to_string(patient);
      claim->state = CD_CLAIM_UNCORROBORATED;
      claim->why =
          g_strdup_printf("MRN %s (%s) on %s is not confirmed by a name or date of birth", digits, who, claim->where);
    }
    claim->patient = g_steal_pointer(&patient);
    return TRUE;
  }

  /* letters read for digits: only a single candidate the index confirms */
  if (self->ocr_variants) {
    g_autoptr(GPtrArray) variants = cd_identity_mrn_variants(claim->mrn);
    g_autoptr(CdPatient) found = NULL;
    guint n_found = 0;
    for (guint i = 0; i < variants->len; i++) {
      g_autoptr(GError) error_local = NULL;
      g_autoptr(CdPatient) candidate = cd_link_resolve(archive, g_ptr_array_index(variants, i), &error_local);
      if (error_local != NULL) {
        g_propagate_error(error, g_steal_pointer(&error_local));
        return FALSE;
      }
      if (candidate == NULL)
        continue;
      g_autofree gchar *contradiction = cd_claim_contradiction(claim, candidate);
      if (contradiction == NULL && (cd_claim_corroborates(self, claim, candidate, TRUE, &what) ||
                                    (extra != NULL && cd_claim_corroborates(self, extra, candidate, TRUE, &what)))) {
        n_found++;
        g_clear_pointer(&found, cd_patient_free);
        found = g_steal_pointer(&candidate);
      }
    }
    if (n_found == 1) {
      claim->state = CD_CLAIM_PROVEN;
      claim->how = g_strdup_printf("MRN read as '%s' taken as %s: %s agree exactly", claim->mrn, found->mrn, what);
      claim->patient = g_steal_pointer(&found);
      return TRUE;
    }
  }
  claim->state = CD_CLAIM_UNKNOWN;
  claim->why =
      g_strdup_printf("unknown MRN: %s reads MRN %s, which is not in the patient index", claim->where, claim->mrn);
  return TRUE;
}

static CdClaim *
cd_claim_from_page(CdPage *page, guint index)
{
  CdClaim *claim = g_new0(CdClaim, 1);

  claim->where = g_strdup_printf("page %u", index + 1);
  claim->mrn = cd_identity_page_string(page, CD_FACT_HEADER_MRN);
  claim->family = cd_identity_page_string(page, CD_FACT_HEADER_FAMILY);
  claim->given = cd_identity_page_string(page, CD_FACT_HEADER_GIVEN);
  claim->dob = cd_identity_page_string(page, CD_FACT_HEADER_DOB);
  claim->conflict = cd_identity_page_string(page, CD_FACT_HEADER_CONFLICT);
  return claim;
}

static CdClaim *
cd_claim_from_cover(CdPage *page)
{
  g_autofree gchar *where = cd_identity_page_string(page, CD_FACT_COVER_PAGE);
  CdClaim *claim;

  if (where == NULL)
    return NULL;
  claim = g_new0(CdClaim, 1);
  claim->where = g_strdup_printf("the cover sheet (%s)", where);
  claim->mrn = cd_identity_page_string(page, CD_FACT_COVER_MRN);
  claim->family = cd_identity_page_string(page, CD_FACT_COVER_FAMILY);
  claim->given = cd_identity_page_string(page, CD_FACT_COVER_GIVEN);
  claim->dob = cd_identity_page_string(page, CD_FACT_COVER_DOB);
  claim->conflict = cd_identity_page_string(page, CD_FACT_COVER_CONFLICT);
  return claim;
}

static gboolean
cd_claim_same_mrn(CdClaim *a, CdClaim *b)
{
  return a->mrn != NULL && b->mrn != NULL && cd_identity_mrn_same(a->mrn, b->mrn);
}

static void
cd_patient_link_file(CdDocument *document, CdPatient *patient, const gchar *how)
{
  g_debug("filed to %s: %s", patient->mrn, how);
  cd_document_set_patient_mrn(document, patient->mrn);
}

static gboolean
cd_patient_link_process(CdDocStage *stage, CdDocument *document, GCancellable *cancellable, GError **error)
{
  CdPatientLink *self = CD_PATIENT_LINK(stage);
  CdArchive *archive = cd_stage_get_archive(CD_STAGE(stage));
  GPtrArray *pages = cd_document_get_pages(document);
  g_autoptr(GPtrArray) claims = g_ptr_array_new_with_free_func((GDestroyNotify) cd_claim_free);
  g_autoptr(CdClaim) cover = NULL;
  CdClaim *proven = NULL;
  gboolean blocked = FALSE;

  if (archive == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_FAILED, "no archive: the patient index is in the archive");
    return FALSE;
  }
  if (pages->len == 0)
    return TRUE;

  /* the splitter was unsure where this document begins or ends: a person
   * checks, whoever the patient is */
  for (guint i = 0; i < pages->len; i++) {
    g_autofree gchar *why = cd_identity_page_string(g_ptr_array_index(pages, i), CD_FACT_CHART_UNCERTAIN);
    if (why != NULL)
      cd_document_add_problem(document, why);
  }

  /* the document's first page says which cover sheet is in force */
  cover = cd_claim_from_cover(g_ptr_array_index(pages, 0));
  for (guint i = 0; i < pages->len; i++) {
    g_autoptr(CdClaim) claim = cd_claim_from_page(g_ptr_array_index(pages, i), i);
    if (!cd_claim_is_empty(claim))
      g_ptr_array_add(claims, g_steal_pointer(&claim));
  }
  if (cd_document_get_title(document) == NULL) {
    g_autofree gchar *title = cd_identity_page_string(g_ptr_array_index(pages, 0), CD_FACT_HEADER_TITLE);
    if (title != NULL)
      cd_document_set_title(document, title);
  }
  /* the document is dated by the first date of service on its pages; a
   * later page's date (a continuation printed days later) does not move it */
  for (guint i = 0; i < pages->len && cd_document_get_date(document) == NULL; i++) {
    g_autofree gchar *date = cd_identity_page_string(g_ptr_array_index(pages, i), CD_FACT_HEADER_DATE);
    if (date != NULL)
      cd_document_set_date(document, date);
  }

  if (cover != NULL && cover->mrn == NULL && cover->conflict == NULL) {
    g_clear_pointer(&cover, cd_claim_free);
  } else if (cover != NULL && !cd_claim_evaluate(self, archive, cover, NULL, error)) {
    return FALSE;
  }
  for (guint i = 0; i < claims->len; i++) {
    CdClaim *claim = g_ptr_array_index(claims, i);
    CdClaim *extra = cover != NULL && cd_claim_same_mrn(claim, cover) ? cover : NULL;
    if (!cd_claim_evaluate(self, archive, claim, extra, error))
      return FALSE;
  }

  /* the pages' own headers first: every proven one must name the same
   * patient, and nothing on them may be in doubt */
  for (guint i = 0; i < claims->len; i++) {
    CdClaim *claim = g_ptr_array_index(claims, i);
    if (claim->state != CD_CLAIM_PROVEN)
      continue;
    if (proven == NULL) {
      proven = claim;
    } else if (g_strcmp0(proven->patient->mrn, claim->patient->mrn) != 0) {
      g_autofree gchar *msg = g_strdup_printf("conflicting identifiers: %s is %s but %s is %s", proven->where,
                                              proven->patient->mrn, claim->where, claim->patient->mrn);
      cd_document_add_problem(document, msg);
      blocked = TRUE;
    }
  }
  for (guint i = 0; i < claims->len; i++) {
    CdClaim *claim = g_ptr_array_index(claims, i);
    switch (claim->state) {
    case CD_CLAIM_PROVEN:
    case CD_CLAIM_NONE:
      break;
    case CD_CLAIM_UNCORROBORATED:
      /* the same MRN proven elsewhere in the document confirms it */
      if (proven != NULL && g_strcmp0(claim->patient->mrn, proven->patient->mrn) == 0)
        break;
      cd_document_add_problem(document, claim->why);
      blocked = TRUE;
      break;
    case CD_CLAIM_NAME_ONLY:
      /* a name alone agreeing with the proven patient is no objection */
      if (proven != NULL && claim->family != NULL &&
          !cd_identity_name_contradicts(proven->patient, claim->family, claim->given) &&
          (claim->dob == NULL || g_strcmp0(claim->dob, proven->patient->dob) == 0))
        break;
      if (proven == NULL && cover != NULL && cover->state == CD_CLAIM_PROVEN && claim->family != NULL &&
          !cd_identity_name_contradicts(cover->patient, claim->family, claim->given) &&
          (claim->dob == NULL || g_strcmp0(claim->dob, cover->patient->dob) == 0))
        break;
      cd_document_add_problem(document, claim->why);
      blocked = TRUE;
      break;
    case CD_CLAIM_UNKNOWN:
    case CD_CLAIM_CONFLICT:
      if (cover != NULL && cover->state == CD_CLAIM_PROVEN && !cd_claim_same_mrn(claim, cover)) {
        g_autofree gchar *msg =
            g_strdup_printf("possible misfile: %s; %s is %s", claim->why, cover->where, cover->patient->mrn);
        cd_document_add_problem(document, msg);
      } else {
        cd_document_add_problem(document, claim->why);
      }
      blocked = TRUE;
      break;
    }
  }
  if (blocked)
    return TRUE;

  if (proven != NULL) {
    /* rule 3: a proven header wins over a cover sheet naming another */
    if (cover != NULL && cover->patient != NULL && g_strcmp0(cover->patient->mrn, proven->patient->mrn) != 0)
      g_info("%s names %s, not the cover sheet's %s: filed under its own patient", proven->where, proven->patient->mrn,
             cover->patient->mrn);
    cd_patient_link_file(document, proven->patient, proven->how);
    return TRUE;
  }
  if (cover != NULL) {
    if (cover->state == CD_CLAIM_PROVEN) {
      cd_patient_link_file(document, cover->patient, cover->how);
    } else {
      cd_document_add_problem(document, cover->why != NULL ? cover->why : "the cover sheet identifies no patient");
    }
    return TRUE;
  }
  cd_document_add_problem(document, "no identifier: no MRN on the pages and no cover sheet");
  return TRUE;
}

static void
cd_patient_link_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdPatientLink *self = CD_PATIENT_LINK(object);

  switch (prop_id) {
  case PROP_OCR_VARIANTS:
    g_value_set_boolean(value, self->ocr_variants);
    break;
  case PROP_NAME_TYPOS:
    g_value_set_boolean(value, self->name_typos);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_patient_link_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdPatientLink *self = CD_PATIENT_LINK(object);

  switch (prop_id) {
  case PROP_OCR_VARIANTS:
    self->ocr_variants = g_value_get_boolean(value);
    break;
  case PROP_NAME_TYPOS:
    self->name_typos = g_value_get_boolean(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_patient_link_class_init(CdPatientLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdDocStageClass *doc_class = CD_DOC_STAGE_CLASS(klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS;

  object_class->get_property = cd_patient_link_get_property;
  object_class->set_property = cd_patient_link_set_property;
  doc_class->process = cd_patient_link_process;

  props[PROP_OCR_VARIANTS] = g_param_spec_boolean(
      "ocr-variants", "Undo OCR confusions",
      "Read letters in an MRN as the digits they resemble (O/0, l/1, S/5, B/8) when exactly one such MRN is in the "
      "patient index and its name or date of birth agrees exactly",
      TRUE, flags);
  props[PROP_NAME_TYPOS] =
      g_param_spec_boolean("name-typos", "Tolerate a misread letter",
                           "A name of five letters or more agrees with one letter misread, where the MRN matched "
                           "exactly",
                           TRUE, flags);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "patient-link",
                              "Files a document to a patient proven by MRN and a second identifier against the "
                              "patient index; sends everything else to review with the reason");
}

static void
cd_patient_link_init(CdPatientLink *self)
{
}
