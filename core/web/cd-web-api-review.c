/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The web API's review queue: items with the identifiers read from their
 * pages and the candidate patients of the index beside them, and the
 * decisions (assign, split, merge, type, resolve), each with its reason,
 * made by the archive's review engine as the user.
 */
#include "config.h"

#include <string.h>

#include "cd-web-private.h"

/* Most candidate patients shown for one item. */
#define CD_WEB_MAX_CANDIDATES 10

/* The identifiers a page's stages read (its header, else its cover
 * sheet's), as `{"mrn", "family", "given", "dob", ...}`. */
static JsonObject *
cd_web_identifiers(JsonObject *page)
{
  JsonObject *ids = json_object_new();
  JsonNode *facts_node = page != NULL ? json_object_get_member(page, "facts") : NULL;
  JsonObject *facts =
      facts_node != NULL && JSON_NODE_HOLDS_OBJECT(facts_node) ? json_node_get_object(facts_node) : NULL;
  static const gchar *const keys[] = { "mrn", "family", "given", "middle", "dob", "title", "date", "conflict" };

  for (guint i = 0; facts != NULL && i < G_N_ELEMENTS(keys); i++) {
    g_autofree gchar *header = g_strconcat("header.", keys[i], NULL);
    g_autofree gchar *cover = g_strconcat("cover.", keys[i], NULL);
    const gchar *value = cd_web_json_string(facts, header);
    if (value == NULL)
      value = cd_web_json_string(facts, cover);
    if (value != NULL)
      json_object_set_string_member(ids, keys[i], value);
  }
  return ids;
}

typedef struct {
  CdPatient *patient;
  guint matched;
  guint compared;
  GPtrArray *matches;
  GPtrArray *mismatches;
} CdCandidate;

static void
cd_candidate_free(CdCandidate *c)
{
  cd_patient_free(c->patient);
  g_ptr_array_unref(c->matches);
  g_ptr_array_unref(c->mismatches);
  g_free(c);
}

static gint
cd_candidate_cmp(gconstpointer a, gconstpointer b)
{
  const CdCandidate *x = *(const CdCandidate **) a, *y = *(const CdCandidate **) b;
  gdouble sx = x->compared > 0 ? (gdouble) x->matched / x->compared : 0;
  gdouble sy = y->compared > 0 ? (gdouble) y->matched / y->compared : 0;
  if (sx != sy)
    return sx > sy ? -1 : 1;
  return g_strcmp0(x->patient->mrn, y->patient->mrn);
}

static void
cd_candidate_compare(CdCandidate *c, const gchar *field, const gchar *read, const gchar *indexed, gboolean name)
{
  g_autofree gchar *a = NULL;
  g_autofree gchar *b = NULL;

  if (read == NULL || indexed == NULL)
    return;
  a = name ? cd_patient_normalize_name(read) : g_ascii_strup(read, -1);
  b = name ? cd_patient_normalize_name(indexed) : g_ascii_strup(indexed, -1);
  c->compared++;
  if (g_strcmp0(a, b) == 0) {
    c->matched++;
    g_ptr_array_add(c->matches, (gpointer) field);
  } else {
    g_ptr_array_add(c->mismatches, (gpointer) field);
  }
}

static void
cd_web_add_candidate(GPtrArray *found, CdPatient *patient)
{
  for (guint i = 0; i < found->len; i++) {
    CdCandidate *c = g_ptr_array_index(found, i);
    if (g_strcmp0(c->patient->mrn, patient->mrn) == 0) {
      cd_patient_free(patient);
      return;
    }
  }
  CdCandidate *c = g_new0(CdCandidate, 1);
  c->patient = patient;
  c->matches = g_ptr_array_new();
  c->mismatches = g_ptr_array_new();
  g_ptr_array_add(found, c);
}

static void
cd_web_add_found(GPtrArray *found, GPtrArray *patients)
{
  for (guint i = 0; patients != NULL && i < patients->len && i < CD_WEB_MAX_CANDIDATES; i++)
    cd_web_add_candidate(found, cd_patient_copy(g_ptr_array_index(patients, i)));
}

/* Index entries that could be the patient the identifiers name: the MRN's
 * entry (and its survivor), namesakes, and those born that day, scored by
 * how many of the identifiers they agree with. */
static JsonArray *
cd_web_candidates(CdArchive *archive, JsonObject *ids)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func((GDestroyNotify) cd_candidate_free);
  const gchar *mrn = cd_web_json_string(ids, "mrn");
  const gchar *family = cd_web_json_string(ids, "family");
  const gchar *given = cd_web_json_string(ids, "given");
  const gchar *dob = cd_web_json_string(ids, "dob");
  JsonArray *out = json_array_new();

  if (mrn != NULL) {
    CdPatient *p = cd_archive_lookup_patient(archive, mrn, NULL);
    if (p != NULL)
      cd_web_add_candidate(found, p);
    p = cd_archive_resolve_patient(archive, mrn, NULL);
    if (p != NULL)
      cd_web_add_candidate(found, p);
  }
  if (family != NULL) {
    g_autoptr(GPtrArray) same = cd_archive_find_patients(archive, family, NULL, NULL, NULL);
    cd_web_add_found(found, same);
  }
  if (dob != NULL) {
    g_autoptr(GPtrArray) same = cd_archive_find_patients(archive, NULL, NULL, dob, NULL);
    cd_web_add_found(found, same);
  }
  for (guint i = 0; i < found->len; i++) {
    CdCandidate *c = g_ptr_array_index(found, i);
    cd_candidate_compare(c, "mrn", mrn, c->patient->mrn, FALSE);
    cd_candidate_compare(c, "family", family, c->patient->family, TRUE);
    cd_candidate_compare(c, "given", given, c->patient->given, TRUE);
    cd_candidate_compare(c, "dob", dob, c->patient->dob, FALSE);
  }
  g_ptr_array_sort(found, cd_candidate_cmp);
  for (guint i = 0; i < found->len && i < CD_WEB_MAX_CANDIDATES; i++) {
    CdCandidate *c = g_ptr_array_index(found, i);
    JsonObject *obj = json_object_new();
    JsonArray *matches = json_array_new();
    JsonArray *mismatches = json_array_new();

    json_object_set_string_member(obj, "mrn", c->patient->mrn);
    json_object_set_string_member(obj, "family", c->patient->family);
    json_object_set_string_member(obj, "given", c->patient->given);
    json_object_set_string_member(obj, "dob", c->patient->dob);
    json_object_set_string_member(obj, "merged_into", c->patient->merged_into);
    json_object_set_double_member(obj, "score", c->compared > 0 ? (gdouble) c->matched / c->compared : 0.0);
    for (guint k = 0; k < c->matches->len; k++)
      json_array_add_string_element(matches, g_ptr_array_index(c->matches, k));
    for (guint k = 0; k < c->mismatches->len; k++)
      json_array_add_string_element(mismatches, g_ptr_array_index(c->mismatches, k));
    json_object_set_array_member(obj, "matches", matches);
    json_object_set_array_member(obj, "mismatches", mismatches);
    json_array_add_object_element(out, obj);
  }
  return out;
}

static gint64
cd_web_age_seconds(const gchar *created)
{
  g_autoptr(GDateTime) then = created != NULL ? g_date_time_new_from_iso8601(created, NULL) : NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();

  if (then == NULL)
    return 0;
  return MAX(0, g_date_time_difference(now, then) / G_USEC_PER_SEC);
}

/* One item as the contract shapes it. Reading its document (or page) is a
 * view by the reviewer, audited by the archive. */
static JsonNode *
cd_web_review_item_json(CdWebRequest *req, CdReviewItem *item, GError **error)
{
  CdArchive *archive = req->server->archive;
  g_autoptr(JsonNode) record = NULL;
  JsonObject *obj = json_object_new();
  JsonObject *first = NULL;
  JsonArray *pages = json_array_new();
  JsonNode *node = json_node_init_object(json_node_alloc(), obj);
  JsonObject *ids;

  json_object_unref(obj);
  /* once decided, the document is no longer the indexer's to read (it is
   * out of the queue): a resolved item is shown without it to those who do
   * not read charts */
  if (item->resolved == NULL || cd_principal_has(req->principal, CD_PERMISSION_READ_CHARTS)) {
    if (item->document_id > 0)
      record = cd_archive_get_document(archive, item->document_id, error);
    else if (item->page_id > 0)
      record = cd_archive_get_page(archive, item->page_id, error);
  }
  if (item->resolved == NULL && (item->document_id > 0 || item->page_id > 0) && record == NULL) {
    json_array_unref(pages);
    json_node_unref(node);
    return NULL;
  }
  /* a resolved item's document may be gone (merged into another) */
  if (item->resolved != NULL && record == NULL)
    g_clear_error(error);
  json_object_set_int_member(obj, "id", item->id);
  json_object_set_string_member(obj, "reason", item->reason);
  json_object_set_string_member(obj, "created", item->created);
  json_object_set_int_member(obj, "age_seconds", cd_web_age_seconds(item->created));
  json_object_set_string_member(obj, "assignee", item->assignee);
  json_object_set_string_member(obj, "assigned", item->assigned);
  json_object_set_string_member(obj, "status", item->resolved != NULL ? "resolved" : "open");
  json_object_set_string_member(obj, "resolved", item->resolved);
  json_object_set_string_member(obj, "resolved_by", item->resolved_by);
  json_object_set_string_member(obj, "resolution", item->resolution);
  if (item->document_id > 0)
    json_object_set_int_member(obj, "document", item->document_id);
  else
    json_object_set_null_member(obj, "document");
  if (item->document_id > 0 && record != NULL) {
    JsonObject *doc = json_node_get_object(record);
    JsonArray *doc_pages = json_object_get_array_member(doc, "pages");
    JsonObject *patient =
        json_object_get_member(doc, "patient") != NULL && JSON_NODE_HOLDS_OBJECT(json_object_get_member(doc, "patient"))
            ? json_object_get_object_member(doc, "patient")
            : NULL;
    for (guint i = 0; doc_pages != NULL && i < json_array_get_length(doc_pages); i++) {
      JsonObject *page = json_array_get_object_element(doc_pages, i);
      if (i == 0)
        first = page;
      json_array_add_int_element(pages, json_object_get_int_member(page, "id"));
    }
    json_object_set_string_member(obj, "type", cd_web_json_string(doc, "type"));
    json_object_set_string_member(obj, "type_label", cd_web_type_label(req->server, cd_web_json_string(doc, "type")));
    json_object_set_string_member(obj, "mrn", cd_web_json_string(patient, "mrn"));
  } else if (record != NULL && item->page_id > 0) {
    first = json_node_get_object(record);
    json_array_add_int_element(pages, item->page_id);
    json_object_set_null_member(obj, "type");
    json_object_set_null_member(obj, "type_label");
    json_object_set_null_member(obj, "mrn");
  }
  json_object_set_array_member(obj, "pages", pages);
  ids = cd_web_identifiers(first);
  json_object_set_array_member(obj, "candidates", cd_web_candidates(archive, ids));
  json_object_set_object_member(obj, "identifiers", ids);
  return node;
}

/* The item with this id, open or resolved, as the queue lists it for the
 * user (restricted ones are not listed, so not found). */
static CdReviewItem *
cd_web_find_item(CdWebRequest *req, gint64 id, GError **error)
{
  g_autoptr(GPtrArray) items = cd_archive_list_review(req->server->archive, TRUE, error);

  if (items == NULL)
    return NULL;
  for (guint i = 0; i < items->len; i++) {
    CdReviewItem *item = g_ptr_array_index(items, i);
    if (item->id == id)
      return g_ptr_array_steal_index(items, i);
  }
  g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no review item %" G_GINT64_FORMAT, id);
  return NULL;
}

/* GET /review?status=open|resolved */
void
cd_web_api_review_list(CdWebRequest *req)
{
  const gchar *status = cd_web_query(req, "status");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;
  gboolean resolved;

  if (status != NULL && g_strcmp0(status, "open") != 0 && g_strcmp0(status, "resolved") != 0) {
    cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "status: give open or resolved");
    return;
  }
  resolved = g_strcmp0(status, "resolved") == 0;
  items = cd_archive_list_review(req->server->archive, resolved, &error);
  if (items == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "items");
  json_builder_begin_array(b);
  for (guint i = 0; i < items->len; i++) {
    CdReviewItem *item = g_ptr_array_index(items, i);
    g_autoptr(GError) item_error = NULL;
    JsonNode *one;
    if ((item->resolved != NULL) != resolved)
      continue;
    one = cd_web_review_item_json(req, item, &item_error);
    if (one == NULL) {
      /* a document that changed under the list (merged away): skip it */
      g_debug("review item %" G_GINT64_FORMAT ": %s", item->id, item_error->message);
      continue;
    }
    json_builder_add_value(b, one);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  node = json_builder_get_root(b);
  cd_web_respond_json(req, SOUP_STATUS_OK, node);
}

static void
cd_web_respond_item(CdWebRequest *req, gint64 id, gboolean wrapped)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdReviewItem) item = cd_web_find_item(req, id, &error);
  g_autoptr(JsonNode) one = NULL;

  if (item != NULL)
    one = cd_web_review_item_json(req, item, &error);
  if (one == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  if (wrapped) {
    g_autoptr(JsonObject) obj = json_object_new();
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), obj);
    json_object_set_member(obj, "item", g_steal_pointer(&one));
    cd_web_respond_json(req, SOUP_STATUS_OK, node);
    return;
  }
  cd_web_respond_json(req, SOUP_STATUS_OK, one);
}

/* GET /review/{id} */
void
cd_web_api_review_item(CdWebRequest *req, gint64 id)
{
  cd_web_respond_item(req, id, FALSE);
}

static gboolean
cd_web_body_int(CdWebRequest *req, const gchar *member, gint64 *value)
{
  JsonNode *node = req->body != NULL ? json_object_get_member(json_node_get_object(req->body), member) : NULL;

  if (node == NULL || json_node_get_value_type(node) != G_TYPE_INT64) {
    cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "%s: give a whole number", member);
    return FALSE;
  }
  *value = json_node_get_int(node);
  return TRUE;
}

/* POST /review/{id}/assign|split|merge|type|resolve, each with "why". */
void
cd_web_api_review_action(CdWebRequest *req, gint64 id, const gchar *action)
{
  CdArchive *archive = req->server->archive;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdReviewItem) item = NULL;
  const gchar *why = NULL;
  gboolean ok = FALSE;
  gint64 number;

  if (!g_strv_contains((const gchar *const[]){ "assign", "split", "merge", "type", "resolve", "claim", "unclaim", NULL },
                       action)) {
    cd_web_respond_error(req, SOUP_STATUS_NOT_FOUND, "not-found",
                         "no review action '%s' (assign, split, merge, type, resolve, claim, unclaim)", action);
    return;
  }
  /* taking an item decides nothing: no reason asked */
  if (g_strcmp0(action, "claim") == 0 || g_strcmp0(action, "unclaim") == 0) {
    if (!cd_archive_review_claim(archive, id, g_strcmp0(action, "unclaim") == 0, &error)) {
      cd_web_respond_gerror(req, error);
      return;
    }
    cd_web_respond_item(req, id, TRUE);
    return;
  }
  if (!cd_web_require_why(req, &why))
    return;
  item = cd_web_find_item(req, id, &error);
  if (item == NULL) {
    cd_web_respond_gerror(req, error);
    return;
  }
  if (item->resolved != NULL) {
    cd_web_respond_error(req, SOUP_STATUS_CONFLICT, "conflict", "review item %" G_GINT64_FORMAT " was resolved by %s",
                         id, item->resolved_by != NULL ? item->resolved_by : "someone");
    return;
  }
  if (g_strcmp0(action, "resolve") != 0 && item->document_id <= 0) {
    cd_web_respond_error(req, SOUP_STATUS_CONFLICT, "conflict",
                         "review item %" G_GINT64_FORMAT " is a page outside documents: it can only be resolved", id);
    return;
  }
  if (g_strcmp0(action, "assign") == 0) {
    const gchar *mrn = cd_web_body_string(req, "mrn");
    if (mrn == NULL) {
      cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "mrn: give the patient's MRN");
      return;
    }
    ok = cd_archive_review_assign(archive, item->document_id, mrn, why, &error);
  } else if (g_strcmp0(action, "split") == 0) {
    /* "at" is the 0-based seq of the new document's first page; the
     * engine counts from 1 */
    if (!cd_web_body_int(req, "at", &number))
      return;
    if (number < 1 || number > G_MAXINT) {
      cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request",
                           "at: the seq of the first page of the new document, 1 or more");
      return;
    }
    ok = cd_archive_review_split(archive, item->document_id, (guint) number + 1, why, &error) > 0;
  } else if (g_strcmp0(action, "merge") == 0) {
    if (!cd_web_body_int(req, "with", &number))
      return;
    ok = cd_archive_review_merge(archive, number, item->document_id, why, &error);
  } else if (g_strcmp0(action, "type") == 0) {
    const gchar *type = cd_web_body_string(req, "type");
    if (type == NULL) {
      cd_web_respond_error(req, SOUP_STATUS_BAD_REQUEST, "bad-request", "type: give a document type");
      return;
    }
    ok = cd_archive_review_set_type(archive, item->document_id, type, why, &error);
  } else {
    ok = cd_archive_review_resolve(archive, item->id, why, &error);
  }
  if (!ok) {
    cd_web_respond_gerror(req, error);
    return;
  }
  cd_web_respond_item(req, id, TRUE);
}
