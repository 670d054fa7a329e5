/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the web workstation reads from, whichever archive backs it: a
 * SQLite archive (everything) or the hospital's PostgreSQL archive (the
 * reading side, issue 18 part 2). The routes call these; each goes to the
 * library's function of that backend, which authorises and audits as the
 * principal pushed for the request.
 */
#pragma once

#include "cd-engine.h"
#include "cd-pg-archive.h"

G_BEGIN_DECLS

typedef struct {
  CdArchive *archive;  /* the SQLite archive, or NULL */
  CdPgArchive *pg;     /* the PostgreSQL archive, or NULL */
  CdPrincipal *nobody; /* the server's principal between requests: no permission */
} CdWebStore;

void cd_web_store_init_sqlite(CdWebStore *store, CdArchive *archive);
void cd_web_store_init_server(CdWebStore *store, CdPgArchive *pg);
void cd_web_store_clear(CdWebStore *store);

/* "sqlite" or "postgresql" */
const gchar *cd_web_store_kind(CdWebStore *store);
/* the capabilities of the backend, by name (openapi.json: Capabilities) */
const gchar *const *cd_web_store_capabilities(CdWebStore *store);
gboolean cd_web_store_can(CdWebStore *store, const gchar *capability);
/* what its messages start with: a file path, or the server's name */
const gchar *cd_web_store_location(CdWebStore *store);

/* the request's user, until the pop */
void cd_web_store_push_principal(CdWebStore *store, CdPrincipal *principal);
void cd_web_store_pop_principal(CdWebStore *store);

/* an audit entry under @actor (NULL: the pushed principal) */
gboolean cd_web_store_audit(CdWebStore *store, const gchar *actor, const gchar *action, const gchar *object,
                            JsonNode *detail, GError **error);
/* @permission, its refusal audited */
gboolean cd_web_store_require(CdWebStore *store, CdPrincipal *principal, CdPermission permission, const gchar *what,
                              GError **error);
gboolean cd_web_store_type_is_restricted(CdWebStore *store, const gchar *type);

CdSearchResult *cd_web_store_search(CdWebStore *store, const CdSearchQuery *query, GError **error);
JsonNode *cd_web_store_find_patients(CdWebStore *store, const gchar *q, guint limit, GError **error);
JsonNode *cd_web_store_get_chart(CdWebStore *store, const gchar *mrn, GError **error);
JsonNode *cd_web_store_get_document(CdWebStore *store, gint64 id, GError **error);
GBytes *cd_web_store_get_page_image(CdWebStore *store, gint64 page_id, gchar **format, GError **error);
JsonNode *cd_web_store_get_page(CdWebStore *store, gint64 page_id, GError **error);
/* the holds in force covering @mrn (or @document_id), a JSON array */
JsonNode *cd_web_store_list_holds(CdWebStore *store, const gchar *mrn, gint64 document_id, GError **error);
JsonNode *cd_web_store_list_audit(CdWebStore *store, const gchar *user, const gchar *mrn, const gchar *from,
                                  const gchar *to, guint limit, guint offset, gint64 *total, GError **error);

G_END_DECLS
