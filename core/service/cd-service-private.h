/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the parts of CdService share: the service and its jobs
 * (cd-service.c: state and start-up), the queue and hot folders
 * (cd-service-queue.c), who the callers are and what they may ask
 * (cd-service-callers.c), and the D-Bus methods (cd-service-dbus.c).
 */
#pragma once

#include <sys/types.h>

#include "cd-hot-folder.h"
#include "cd-service-common.h"
#include "cd-service-users.h"
#include "cd-service.h"
#include "cd-web-server.h"

G_BEGIN_DECLS

typedef enum {
  CD_JOB_QUEUED,
  CD_JOB_RUNNING,
  CD_JOB_PAUSED,
  CD_JOB_FINISHED,
  CD_JOB_CANCELLED,
  CD_JOB_FAILED,
  CD_JOB_INTERRUPTED, /* stopped by the service stopping; resumes at its next start */
} CdJobState;

typedef struct {
  CdService *service; /* not a reference: jobs never outlive the service */
  guint id;
  gchar *archive;
  gint64 batch_id; /* the archive's batch number */
  gchar *workflow;
  gchar *workflow_origin;
  gchar *options; /* JSON, or NULL */
  gchar **inputs;
  gchar *owner;            /* who queued it, as the audit log names them */
  CdHotFolder *hot_folder; /* the folder that queued it, or NULL */
  GCancellable *cancellable;
  GThread *thread;   /* while it runs */
  gint64 not_before; /* monotonic time before which it is not retried */
  /* guarded by the service lock */
  CdJobState state;
  gboolean pause_requested;
  gboolean stopping; /* the service is stopping: a cancel means interrupted */
  gboolean busy;     /* the archive had another writer: try again later */
  CdPipeline *pipeline;
  guint pages_done;
  guint inputs_done;
  guint inputs_total;
  gdouble elapsed;
  gint64 last_emit;
  gboolean emit_pending;
  JsonNode *report;
  gchar *error;
} CdJob;

struct _CdService {
  GObject parent_instance;
  CdServiceConfig *config;
  CdRegistry *registry;
  CdDBusChartdesk1 *skeleton;
  GMutex lock;
  GPtrArray *jobs; /* of CdJob, oldest first */
  guint next_id;
  GPtrArray *hot_folders;
  GHashTable *callers; /* D-Bus unique name → identity, for the audit log */
  GMutex callers_lock;
  gboolean stopping;
  guint retry_id;
  GHashTable *archives; /* path → CdSharedArchive: one connection per archive */
  GMutex archives_lock;
  guint idle_close_id; /* closes archives idle for [service] archive-idle-seconds; guarded by archives_lock */

  /* the nightly merge of the search indexes: cd-service-maintenance.c */
  guint merge_id;        /* the timer to the next [service] index-merge-time */
  GThread *merge_thread; /* merging, or done and not yet joined */
  gint merge_done;       /* atomic: merge_thread has returned */
  gint merge_stop;       /* atomic: the service stops, the merge ends its step */

  /* users (issue 14): cd-service-users.c */
  CdServiceUsers *users; /* the user directory callers are mapped to, NULL in single-user mode */
  gchar *users_error;    /* why the configured directory cannot be read: every call is refused */

  /* the web workstation (issue 15): [web] listen */
  CdWebServer *web;
  struct _CdArchiveUse *web_archive; /* the service archive, held open for it */

  /* the hospital's archive (issue 18): [archive] server, the spool's delivery */
  struct _CdDeliverer *deliverer; /* NULL without [archive] server */
};

/* One open archive, shared by every batch and read on its path: a second
 * connection of our own would be one more way to lose SQLite's locks, and
 * the audit log names each caller through cd_archive_push_actor(). */
typedef struct {
  CdArchive *archive;
  guint users;     /* CdArchiveUse alive */
  gboolean writer; /* a batch holds the writer's lock */
  gint64 idle_since; /* monotonic time the last use ended, while users is 0 */
  gboolean is_file;  /* the file it was opened on: a file put in its place is opened anew */
  dev_t dev;
  ino_t ino;
} CdSharedArchive;

/* A use of a shared archive, ended by cd_archive_use_free(): with an
 * actor, the archive is held for this thread (pushed) until then. */
typedef struct _CdArchiveUse {
  CdService *service;
  CdArchive *archive;
  gboolean writer; /* this use took the writer's lock */
  gboolean pushed;
} CdArchiveUse;

/* How long a batch waits before trying again an archive another process writes. */
#define CD_SERVICE_BUSY_RETRY_MS 2000
/* Progress signals of one batch are at most this often. */
#define CD_SERVICE_PROGRESS_INTERVAL_US (G_USEC_PER_SEC / 5)
/* Ended batches kept for ListBatches and GetReport. */
#define CD_SERVICE_KEEP_ENDED 1000

typedef enum {
  CD_ASKED_BY_CALLER, /* a D-Bus caller, or a journalled batch */
  CD_ASKED_BY_CONFIG, /* the configuration file: a hot folder, the default */
} CdAsker;

/* What a batch is checked into before it is journalled or resumed. */
typedef struct {
  gchar *archive;  /* resolved */
  gchar *origin;   /* the workflow file, resolved */
  gchar **sources; /* as journalled */
  CdWorkflow *workflow;
} CdBatchPlan;

static inline void
cd_batch_plan_clear(CdBatchPlan *plan)
{
  g_free(plan->archive);
  g_free(plan->origin);
  g_strfreev(plan->sources);
  g_clear_object(&plan->workflow);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CdBatchPlan, cd_batch_plan_clear)

/* cd-service.c */
extern const gchar *const cd_job_state_names[];
void cd_service_emit_drained(CdService *self);
GPtrArray *cd_service_known_archives(CdService *self);
void cd_job_log(CdJob *job, GLogLevelFlags level, const gchar *format, ...) G_GNUC_PRINTF(3, 4);
CdJob *cd_service_find_job(CdService *self, guint id);
gboolean cd_job_ended(CdJob *job);
GVariant *cd_job_to_variant(CdJob *job);
void cd_service_emit_progress(CdService *self, CdJob *job);
void cd_job_on_progress(const CdProgress *progress, gpointer user_data);

/* cd-service-maintenance.c */
void cd_service_start_index_merge(CdService *self);
void cd_service_stop_index_merge(CdService *self);

/* cd-service-queue.c */
CdArchiveUse *cd_service_use_archive(CdService *self, const gchar *path, CdArchiveFlags flags, const gchar *actor,
                                     const gchar *purpose, GError **error);
void cd_archive_use_free(CdArchiveUse *use);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdArchiveUse, cd_archive_use_free)
CdWorkflow *cd_service_load_workflow(CdService *self, const gchar *file, const gchar *options, GError **error);
gchar *cd_service_report_summary(JsonNode *report);
void cd_service_dispatch(CdService *self);
gchar *cd_service_state_file(CdService *self);
CdJob *cd_service_add_job(CdService *self, const gchar *archive, gint64 batch_id, const gchar *workflow,
                          const gchar *workflow_origin, const gchar *options, const gchar *const *inputs,
                          const gchar *owner, CdHotFolder *hot_folder);
gchar *cd_service_find_workflow(CdService *self, const gchar *name, CdAsker asker, GError **error);
gchar *cd_service_realpath(const gchar *path);
gchar *cd_service_resolve_archive(CdService *self, const gchar *path, GError **error);
gboolean cd_service_plan_batch(CdService *self, const gchar *workflow, CdAsker asker, const gchar *const *sources,
                               const gchar *archive, const gchar *options, CdBatchPlan *plan, GError **error);
CdJob *cd_service_queue(CdService *self, const gchar *workflow_name, CdAsker asker, const gchar *const *sources,
                        const gchar *archive_path, const gchar *options, const gchar *owner, CdHotFolder *hot_folder,
                        GError **error);
gboolean cd_service_hot_folder_submit(CdHotFolder *folder, const gchar *const *files, gpointer user_data);
CdHotFolder *cd_service_hot_folder_for(CdService *self, const gchar *archive, const gchar *const *inputs);

/* cd-service-callers.c */
gboolean cd_service_authorize(GDBusInterfaceSkeleton *skeleton, GDBusMethodInvocation *invocation, gpointer user_data);
const gchar *cd_invocation_caller(GDBusMethodInvocation *invocation);

/* cd-service-dbus.c */
void cd_service_dbus_connect(CdService *self);

G_END_DECLS
