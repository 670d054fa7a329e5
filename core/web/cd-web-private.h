/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the web server's files: the server's state, one request as the
 * route handlers see it, and the helpers that answer it.
 */
#pragma once

#include <libsoup/soup.h>

#include "cd-util-private.h"
#include "cd-web-server.h"
#include "cd-web-store.h"

G_BEGIN_DECLS

struct _CdWebServer {
  GObject parent_instance;
  SoupServer *soup;
  CdWebStore store;           /* what the reading routes read, as the request's user */
  CdArchive *archive;         /* the SQLite archive of store, NULL on a PostgreSQL archive */
  CdUserDirectory *directory; /* the users who may log in */
  CdSessionStore *sessions;   /* their sessions, in memory */
  CdTaxonomy *taxonomy;       /* type labels; NULL if none could be read */
  guint idle_timeout;         /* seconds */
  gboolean tls;               /* listening with TLS: cookies are Secure */
  GTlsCertificate *certificate;
  guchar csrf_key[32]; /* a CSRF token is an HMAC of the session token under this key */
  gchar *url;          /* where it listens, once it does */

  /* page images rendered at a width, most recently used first */
  GHashTable *images; /* "PAGE/WIDTH" → CdWebImage */
  GQueue image_lru;   /* of CdWebImage, newest at the head */
  gsize image_bytes;  /* held in the cache */

  /* server-sent events */
  GPtrArray *event_clients; /* of SoupServerMessage */
  GHashTable *batch_seen;   /* batch id → last published "status done total" */
  guint poll_source;        /* polling the batches table (`chartdesk web`) */
  guint keepalive_source;   /* a comment line every 15 s */
};

/* One rendered image in the cache. */
typedef struct {
  gchar *key;
  GBytes *png;
  gchar *etag;
  GList *link; /* in image_lru */
} CdWebImage;

/* A request as a route handler sees it; the principal is pushed on the
 * archive for the handler's time. */
typedef struct {
  CdWebServer *server;
  SoupServerMessage *msg;
  const gchar *method;
  gchar **segments; /* the path after /api/v1/, split at '/' */
  guint n_segments;
  GHashTable *query; /* (nullable) the query string */
  CdPrincipal *principal;
  gchar *token;   /* the session token */
  JsonNode *body; /* (nullable) the JSON body of a POST */
} CdWebRequest;

/* answering */
/* 501 not-supported: what this archive (a PostgreSQL one) cannot do */
void cd_web_respond_not_supported(CdWebRequest *req, const gchar *capability);
void cd_web_respond_json(CdWebRequest *req, guint status, JsonNode *node);
void cd_web_respond_error(CdWebRequest *req, guint status, const gchar *code, const gchar *format, ...)
    G_GNUC_PRINTF(4, 5);
void cd_web_respond_gerror(CdWebRequest *req, const GError *error);
void cd_web_set_security_headers(SoupServerMessage *msg);

/* reading the request */
const gchar *cd_web_query(CdWebRequest *req, const gchar *name);
gboolean cd_web_query_uint(CdWebRequest *req, const gchar *name, guint def, guint min, guint max, guint *out);
gboolean cd_web_parse_id(CdWebRequest *req, const gchar *text, const gchar *what, gint64 *id);
const gchar *cd_web_body_string(CdWebRequest *req, const gchar *member);
gboolean cd_web_require_why(CdWebRequest *req, const gchar **why);
gboolean cd_web_require(CdWebRequest *req, CdPermission permission, const gchar *what);

/* cd-web-json.c */
void cd_web_json_add_copy(JsonBuilder *b, const gchar *name, JsonObject *obj, const gchar *member);
const gchar *cd_web_json_string(JsonObject *obj, const gchar *member);
JsonObject *cd_web_json_object(JsonObject *obj, const gchar *member);
JsonNode *cd_web_json_parse(const gchar *text);

/* helpers of the JSON shapes */
const gchar *cd_web_type_label(CdWebServer *self, const gchar *type);
JsonNode *cd_web_session_json(CdWebRequest *req);
gchar *cd_web_csrf_token(CdWebServer *self, const gchar *session_token);

/* the routes, by file */
void cd_web_api_types(CdWebRequest *req);
void cd_web_api_search(CdWebRequest *req);
void cd_web_api_patients(CdWebRequest *req);
void cd_web_api_patient(CdWebRequest *req, const gchar *mrn);
void cd_web_api_document(CdWebRequest *req, gint64 id);
void cd_web_api_page_image(CdWebRequest *req, gint64 id);
void cd_web_api_page_words(CdWebRequest *req, gint64 id);
void cd_web_image_cache_clear(CdWebServer *self);
void cd_web_image_free(CdWebImage *image);

void cd_web_api_review_list(CdWebRequest *req);
void cd_web_api_review_item(CdWebRequest *req, gint64 id);
void cd_web_api_review_action(CdWebRequest *req, gint64 id, const gchar *action);

void cd_web_api_batches(CdWebRequest *req);
void cd_web_api_events(CdWebRequest *req);
void cd_web_events_poll(CdWebServer *self);
void cd_web_api_audit(CdWebRequest *req);
void cd_web_api_saved_list(CdWebRequest *req);
void cd_web_api_saved_add(CdWebRequest *req);
void cd_web_api_saved_delete(CdWebRequest *req, gint64 id);

/* cd-web-api-roi.c: release of information (issue 16) */
void cd_web_api_roi_list(CdWebRequest *req);
void cd_web_api_roi_get(CdWebRequest *req, gint64 id);
void cd_web_api_roi_new(CdWebRequest *req);
void cd_web_api_roi_action(CdWebRequest *req, gint64 id, const gchar *action);
void cd_web_api_roi_packet(CdWebRequest *req, gint64 id);
void cd_web_api_disclosures(CdWebRequest *req, const gchar *mrn);

G_END_DECLS
