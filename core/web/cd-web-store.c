/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-web-store.h"

/* What the routes can do on each backend. The PostgreSQL archive holds
 * what stations delivered and reads it, and shows its own legal holds
 * (`holds`: a chart's and a document's); the workflows that write (review
 * decisions, release of information, retention, saved searches) and the
 * batches a station runs stay on the stations' SQLite archives. */
static const gchar *const cd_web_sqlite_capabilities[] = {
  "types",  "search",  "patients", "charts", "documents", "page-images",    "page-words",  "audit",
  "review", "batches", "events",   "holds",  "roi",       "saved-searches", "disclosures", NULL,
};
static const gchar *const cd_web_server_capabilities[] = {
  "types", "search", "patients", "charts", "documents", "page-images", "page-words", "audit", "holds", NULL,
};

static void
cd_web_store_init(CdWebStore *store)
{
  store->archive = NULL;
  store->pg = NULL;
  store->nobody = cd_principal_new_user("web", (const gchar *const[]){ NULL });
}

void
cd_web_store_init_sqlite(CdWebStore *store, CdArchive *archive)
{
  cd_web_store_init(store);
  store->archive = g_object_ref(archive);
  cd_archive_keep_pages(archive); /* one search after another, for its whole life */
}

/* takes @pg */
void
cd_web_store_init_server(CdWebStore *store, CdPgArchive *pg)
{
  cd_web_store_init(store);
  store->pg = pg;
  cd_pg_archive_set_principal(pg, store->nobody);
}

void
cd_web_store_clear(CdWebStore *store)
{
  g_clear_object(&store->archive);
  g_clear_pointer(&store->pg, cd_pg_archive_free);
  g_clear_object(&store->nobody);
}

const gchar *
cd_web_store_kind(CdWebStore *store)
{
  return store->pg != NULL ? "postgresql" : "sqlite";
}

const gchar *const *
cd_web_store_capabilities(CdWebStore *store)
{
  return store->pg != NULL ? cd_web_server_capabilities : cd_web_sqlite_capabilities;
}

gboolean
cd_web_store_can(CdWebStore *store, const gchar *capability)
{
  return g_strv_contains(cd_web_store_capabilities(store), capability);
}

const gchar *
cd_web_store_location(CdWebStore *store)
{
  return store->pg != NULL ? cd_pg_archive_get_location(store->pg) : cd_archive_get_path(store->archive);
}

/* A read on the server that failed because the connection was lost (the
 * server restarted, or failed over to another host of the URI) runs once
 * more on a new connection; any other failure is the answer. */
static gboolean
cd_web_store_again(CdWebStore *store, gboolean failed, guint *attempt, GError **error)
{
  if (!failed || (*attempt)++ > 0 || !cd_pg_archive_reconnect(store->pg))
    return FALSE;
  g_clear_error(error);
  return TRUE;
}

void
cd_web_store_push_principal(CdWebStore *store, CdPrincipal *principal)
{
  if (store->pg != NULL) {
    /* a connection lost since the last request is made again first */
    cd_pg_archive_reconnect(store->pg);
    cd_pg_archive_set_principal(store->pg, principal);
    cd_pg_archive_set_purpose(store->pg, NULL);
  } else {
    cd_archive_push_principal(store->archive, principal, NULL);
  }
}

void
cd_web_store_pop_principal(CdWebStore *store)
{
  if (store->pg != NULL)
    cd_pg_archive_set_principal(store->pg, store->nobody);
  else
    cd_archive_pop_actor(store->archive);
}

gboolean
cd_web_store_audit(CdWebStore *store, const gchar *actor, const gchar *action, const gchar *object, JsonNode *detail,
                   GError **error)
{
  gboolean ok;

  if (store->pg != NULL) {
    guint attempt = 0;
    do
      ok = cd_pg_archive_audit(store->pg, actor, action, object, detail, error);
    while (cd_web_store_again(store, !ok, &attempt, error));
    return ok;
  }
  if (actor == NULL)
    return cd_archive_audit(store->archive, action, object, detail, error);
  cd_archive_push_actor(store->archive, actor, NULL);
  ok = cd_archive_audit(store->archive, action, object, detail, error);
  cd_archive_pop_actor(store->archive);
  return ok;
}

gboolean
cd_web_store_require(CdWebStore *store, CdPrincipal *principal, CdPermission permission, const gchar *what,
                     GError **error)
{
  g_autoptr(JsonObject) obj = NULL;
  g_autoptr(JsonNode) detail = NULL;
  g_autoptr(GError) audit_error = NULL;

  /* the check reads nothing; its refusal is audited (a warning if it cannot be) */
  if (store->pg != NULL)
    return cd_pg_archive_require(store->pg, permission, what, "web", error);
  if (cd_principal_check(principal, permission, what, error))
    return TRUE;
  obj = json_object_new();
  json_object_set_string_member(obj, "permission", cd_permission_to_string(permission));
  json_object_set_string_member(obj, "operation", what);
  detail = json_node_init_object(json_node_alloc(), obj);
  if (!cd_archive_audit(store->archive, "denied", "web", detail, &audit_error))
    g_warning("%s", audit_error->message);
  return FALSE;
}

gboolean
cd_web_store_type_is_restricted(CdWebStore *store, const gchar *type)
{
  if (store->pg != NULL)
    return cd_pg_archive_type_is_restricted(store->pg, type);
  return cd_archive_type_is_restricted(store->archive, type);
}

CdSearchResult *
cd_web_store_search(CdWebStore *store, const CdSearchQuery *query, GError **error)
{
  if (store->pg != NULL) {
    CdSearchResult *out;
    guint attempt = 0;
    do
      out = cd_pg_archive_search(store->pg, query, error);
    while (cd_web_store_again(store, out == NULL, &attempt, error));
    return out;
  }
  return cd_archive_search_ex(store->archive, query, error);
}

JsonNode *
cd_web_store_find_patients(CdWebStore *store, const gchar *q, guint limit, GError **error)
{
  if (store->pg != NULL) {
    JsonNode *out;
    guint attempt = 0;
    do
      out = cd_pg_archive_find_patients_json(store->pg, q, limit, error);
    while (cd_web_store_again(store, out == NULL, &attempt, error));
    return out;
  }
  return cd_archive_find_patients_json(store->archive, q, limit, error);
}

JsonNode *
cd_web_store_get_chart(CdWebStore *store, const gchar *mrn, GError **error)
{
  if (store->pg != NULL) {
    JsonNode *out;
    guint attempt = 0;
    do
      out = cd_pg_archive_get_chart(store->pg, mrn, error);
    while (cd_web_store_again(store, out == NULL, &attempt, error));
    return out;
  }
  return cd_archive_get_chart(store->archive, mrn, error);
}

JsonNode *
cd_web_store_get_document(CdWebStore *store, gint64 id, GError **error)
{
  if (store->pg != NULL) {
    JsonNode *out;
    guint attempt = 0;
    do
      out = cd_pg_archive_get_document(store->pg, id, error);
    while (cd_web_store_again(store, out == NULL, &attempt, error));
    return out;
  }
  return cd_archive_get_document(store->archive, id, error);
}

GBytes *
cd_web_store_get_page_image(CdWebStore *store, gint64 page_id, gchar **format, GError **error)
{
  if (store->pg != NULL) {
    GBytes *out;
    guint attempt = 0;
    do
      out = cd_pg_archive_get_page_image(store->pg, page_id, format, error);
    while (cd_web_store_again(store, out == NULL, &attempt, error));
    return out;
  }
  return cd_archive_get_page_image(store->archive, page_id, format, error);
}

JsonNode *
cd_web_store_get_page(CdWebStore *store, gint64 page_id, GError **error)
{
  if (store->pg != NULL) {
    JsonNode *out;
    guint attempt = 0;
    do
      out = cd_pg_archive_get_page(store->pg, page_id, error);
    while (cd_web_store_again(store, out == NULL, &attempt, error));
    return out;
  }
  return cd_archive_get_page(store->archive, page_id, error);
}

JsonNode *
cd_web_store_list_audit(CdWebStore *store, const gchar *user, const gchar *mrn, const gchar *from, const gchar *to,
                        guint limit, guint offset, gint64 *total, GError **error)
{
  if (store->pg != NULL) {
    JsonNode *out;
    guint attempt = 0;
    do
      out = cd_pg_archive_list_audit(store->pg, user, mrn, from, to, limit, offset, total, error);
    while (cd_web_store_again(store, out == NULL, &attempt, error));
    return out;
  }
  return cd_archive_list_audit(store->archive, user, mrn, from, to, limit, offset, total, error);
}

/* The holds in force covering @mrn or @document_id, as a JSON array of
 * cd_legal_hold_to_json() objects on both backends (the server's are
 * patient and document holds only); audited as `list-holds`. */
JsonNode *
cd_web_store_list_holds(CdWebStore *store, const gchar *mrn, gint64 document_id, GError **error)
{
  g_autoptr(GPtrArray) holds = NULL;

  if (store->pg != NULL) {
    JsonNode *out;
    guint attempt = 0;
    do
      out = cd_pg_archive_list_holds(store->pg, mrn, document_id, FALSE, error);
    while (cd_web_store_again(store, out == NULL, &attempt, error));
    return out;
  }
  holds = cd_archive_list_holds(store->archive, mrn, document_id, FALSE, error);
  return holds != NULL ? cd_legal_holds_to_json(holds) : NULL;
}
