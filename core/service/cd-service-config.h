/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * chartdeskd's configuration keyfile (data/chartdeskd.conf documents it).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One [hot-folder NAME] group. */
typedef struct {
  gchar *name;       /* the NAME of the group */
  gchar *path;       /* the folder scanners drop files into */
  gchar *workflow;   /* workflow name or file; NULL for the service default */
  gchar *archive;    /* NULL for the service archive */
  gchar *done_dir;   /* where files go once archived */
  gchar *failed_dir; /* where unreadable files go, with FILE.reason */
  guint stable_ms;   /* a file whose size and time have not changed this long is complete */
  guint poll_ms;     /* how often the folder is listed and sizes checked */
  guint max_files;   /* the most files one batch takes */
} CdHotFolderConfig;

typedef struct {
  gchar *archive;         /* default archive, NULL if none */
  gchar *workflow;        /* default workflow */
  gchar **workflow_path;  /* folders searched for NAME.workflow first */
  guint workers;          /* worker threads per batch, 0 for the workflow's own */
  guint max_batches;      /* batches run at once (on different archives) */
  guint archive_idle;     /* seconds an archive nobody uses stays open (warm for the next read); 0: closed at once */
  gint index_merge_time;  /* second of the local day the search indexes are merged at; -1: never */
  gboolean system_bus;    /* own the name on the system bus rather than the session bus */
  gchar *allowed_group;   /* system bus: members of this group may call */
  gchar *state_dir;       /* where the service remembers the archives it wrote */
  gchar **archive_roots;  /* system bus: folders callers' archives may be in, beside the configured ones */
  gchar **source_roots;   /* system bus: folders callers' sources may be in, beside the hot folders */
  gchar *audit_key;       /* the audit log's key file, NULL for the library default */
  GPtrArray *hot_folders; /* of CdHotFolderConfig */

  /* users (issue 14) */
  gchar *users;              /* the user directory; NULL for STATE_DIR/users.conf if it exists */
  guint break_glass_minutes; /* how long break-the-glass lasts, 0 for the default (60) */
  gchar *pam_service;        /* users without a local password log in through PAM; NULL: none */

  /* the web workstation (issue 15), [web] */
  gchar *web_listen;          /* ADDRESS:PORT to serve on, NULL: no web server */
  gchar *web_tls_certificate; /* PEM files: HTTPS when both are given */
  gchar *web_tls_key;
  guint web_idle_timeout; /* seconds; 0 for the default (900) */

  /* the hospital's archive on PostgreSQL (issue 18), [archive] */
  gchar *archive_server;  /* postgresql://… the service archive (the spool) is delivered to; NULL: none */
  gchar *station;         /* this station's name on the server (default: the host name) */
  guint deliver_interval; /* seconds between delivery passes when nothing is committed */
  gchar *server_audit_key; /* [archive] server-audit-key: the server audit chain's key file; NULL: none */
} CdServiceConfig;

CdServiceConfig *cd_service_config_new_default(void);
CdServiceConfig *cd_service_config_load(const gchar *filename, GError **error);
void cd_service_config_free(CdServiceConfig *config);
gboolean cd_service_station_name_is_valid(const gchar *name);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdServiceConfig, cd_service_config_free)

G_END_DECLS
