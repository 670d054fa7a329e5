/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "cd-engine.h"
#include "cd-client.h"
#include "postgresql/cd-pg-archive.h"

G_BEGIN_DECLS

/* Exit statuses of every command, documented in the README. */
typedef enum {
  CD_EXIT_OK = 0,
  CD_EXIT_FAILED = 1,
  CD_EXIT_USAGE = 2,
  CD_EXIT_PARTIAL = 3, /* the batch ran, some inputs could not be read */
} CdExitStatus;

void cd_cli_set_verbose(gboolean verbose);
void cd_cli_set_progress_visible(gboolean visible);
gboolean cd_cli_clear_progress(void);
CdClientMode cd_cli_service_mode(gboolean service, gboolean no_service);
GLogWriterOutput cd_cli_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data);
gboolean cd_cli_parse(GOptionContext *ctx, gint *argc, gchar ***argv, GError **error);
gint cd_cli_usage(GOptionContext *ctx, const gchar *message);

void cd_cli_print_error(const GError *error);
gint cd_cli_fail(const GError *error);
void cd_cli_print_json(JsonNode *node);
CdRegistry *cd_cli_load_registry(void);
void cd_cli_add_archive_options(GOptionContext *ctx);
CdArchive *cd_cli_open_archive(const gchar *path, CdArchiveFlags flags, GError **error);
const gchar *cd_cli_get_audit_key(void);
gboolean cd_cli_parse_ref(const gchar *ref, gboolean *is_page, gint64 *id);

/* cd-cli-format.c */
gboolean cd_cli_write_page_image(CdArchive *archive, gint64 page_id, const gchar *filename, GError **error);
gboolean cd_cli_write_image_bytes(GBytes *bytes, const gchar *format, gint64 page_id, const gchar *filename,
                                  GError **error);
void cd_cli_print_record(JsonNode *node, gboolean is_page);
void cd_cli_print_review(GPtrArray *items, gboolean json);

/* the commands, one file each (cd-cli-NAME.c) */
gint cd_cli_ingest(gint argc, gchar **argv);
gint cd_cli_search(gint argc, gchar **argv);
gint cd_cli_show(gint argc, gchar **argv);
gint cd_cli_export(gint argc, gchar **argv);
gint cd_cli_review(gint argc, gchar **argv);
gint cd_cli_mpi(gint argc, gchar **argv);
gint cd_cli_check(gint argc, gchar **argv);
gint cd_cli_audit(gint argc, gchar **argv);
gint cd_cli_classify(gint argc, gchar **argv);
gint cd_cli_plugins(gint argc, gchar **argv);
gint cd_cli_scanners(gint argc, gchar **argv);
gint cd_cli_web(gint argc, gchar **argv);

/* cd-cli-retention.c */
gint cd_cli_retention(gint argc, gchar **argv);
gint cd_cli_hold(gint argc, gchar **argv);
/* cd-cli-roi.c */
gint cd_cli_roi(gint argc, gchar **argv);
gint cd_cli_disclosures(gint argc, gchar **argv);

/* cd-cli-users.c */
gint cd_cli_users(gint argc, gchar **argv);
gint cd_cli_access(gint argc, gchar **argv);
void cd_cli_set_user(CdArchive *archive, const gchar *user);

/* cd-cli-archive.c: the hospital's archive on PostgreSQL (issue 18) */
gint cd_cli_archive(gint argc, gchar **argv);
/* cd-cli-status.c: the running chartdeskd and its delivery */
gint cd_cli_status(gint argc, gchar **argv);
CdPgArchive *cd_cli_open_server(const gchar *uri, CdArchiveFlags flags, const gchar *user, GError **error);
CdPgArchive *cd_cli_open_server_audited(const gchar *uri, const gchar *user, GError **error);
gint cd_cli_fail_server(const gchar *uri, const GError *error);
/* cd-cli-audit.c: `audit verify` (and `check`) on the server */
gint cd_cli_audit_verify_server(const gchar *uri, gchar **station_keys, gboolean json);

/* Labelled documents (cd-cli-labelled.c): three parallel arrays of owned
 * strings, one entry a document. */
typedef struct {
  GPtrArray *names;  /* where it came from: TYPE/NAME.txt, or FILE.csv:LINE */
  GPtrArray *labels; /* as written: a type name, an alias or a former name */
  GPtrArray *texts;  /* pages separated by form feeds */
} CdLabelled;

CdLabelled *cd_labelled_new(void);
void cd_labelled_free(CdLabelled *self);
gboolean cd_labelled_add_csv(CdLabelled *self, const gchar *path, const gchar *label_col, const gchar *text_col,
                             GError **error);
gboolean cd_labelled_add_folder(CdLabelled *self, const gchar *path, GError **error);
gboolean cd_labelled_add_path(CdLabelled *self, const gchar *path, const gchar *label_col, const gchar *text_col,
                              GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdLabelled, cd_labelled_free)

G_END_DECLS
