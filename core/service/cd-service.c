/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "cd-hot-folder.h"
#include "cd-param-private.h"
#include "cd-service-common.h"
#include "cd-service.h"
#include "cd-service-users.h"

/**
 * CdService:
 *
 * The engine of chartdeskd: the queue of batches, the threads that run
 * them, the hot folders that feed them, and the D-Bus object that callers
 * see.
 *
 * Durability comes from the archive, not from this process: a batch is
 * journalled in its archive (cd_archive_queue_batch()) before StartBatch
 * returns, each document is committed in one transaction, and at start-up
 * every batch left `queued` or `running` is run again with the same inputs,
 * which skips what is archived. So a SIGKILL at any moment costs at most the
 * pages that were in flight, which are done again.
 *
 * Threads: the main thread owns the queue, the hot folders and every D-Bus
 * emission. Each running batch has its own thread (which runs the
 * pipeline and its workers); reads for archivists (search, documents,
 * images) run in GTask threads. Fields of a job that those threads touch
 * are guarded by the service's lock.
 */

typedef enum {
  CD_JOB_QUEUED,
  CD_JOB_RUNNING,
  CD_JOB_PAUSED,
  CD_JOB_FINISHED,
  CD_JOB_CANCELLED,
  CD_JOB_FAILED,
  CD_JOB_INTERRUPTED, /* stopped by the service stopping; resumes at its next start */
} CdJobState;

static const gchar *const job_state_names[] = { "queued",    "running", "paused",     "finished",
                                                "cancelled", "failed",  "interrupted" };

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
  CdServiceUsers *users; /* the user directory callers are mapped to, NULL in single-user mode */
  gchar *users_error;    /* why the configured directory cannot be read: every call is refused */
};

/* One open archive, shared by every batch and read on its path: a second
 * connection of our own would be one more way to lose SQLite's locks, and
 * the audit log names each caller through cd_archive_push_actor(). */
typedef struct {
  CdArchive *archive;
  guint users;     /* CdArchiveUse alive */
  gboolean writer; /* a batch holds the writer's lock */
} CdSharedArchive;

/* A use of a shared archive, ended by cd_archive_use_free(): with an
 * actor, the archive is held for this thread (pushed) until then. */
typedef struct {
  CdService *service;
  CdArchive *archive;
  gboolean writer; /* this use took the writer's lock */
  gboolean pushed;
} CdArchiveUse;

G_DEFINE_TYPE(CdService, cd_service, G_TYPE_OBJECT)

enum { SIGNAL_DRAINED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST];

/* How long a batch waits before trying again an archive another process writes. */
#define CD_SERVICE_BUSY_RETRY_MS 2000
/* Progress signals of one batch are at most this often. */
#define CD_SERVICE_PROGRESS_INTERVAL_US (G_USEC_PER_SEC / 5)
/* Ended batches kept for ListBatches and GetReport. */
#define CD_SERVICE_KEEP_ENDED 1000

static void
cd_job_free(CdJob *job)
{
  g_free(job->archive);
  g_free(job->workflow);
  g_free(job->workflow_origin);
  g_free(job->options);
  g_strfreev(job->inputs);
  g_free(job->owner);
  g_clear_object(&job->hot_folder);
  g_clear_object(&job->cancellable);
  g_clear_object(&job->pipeline);
  g_clear_pointer(&job->report, json_node_unref);
  g_free(job->error);
  g_free(job);
}

static void
cd_service_finalize(GObject *object)
{
  CdService *self = CD_SERVICE(object);

  cd_service_unexport(self);
  g_clear_handle_id(&self->retry_id, g_source_remove);
  g_ptr_array_unref(self->hot_folders);
  g_ptr_array_unref(self->jobs);
  g_hash_table_unref(self->callers);
  g_hash_table_unref(self->archives);
  cd_service_users_free(self->users);
  g_free(self->users_error);
  g_mutex_clear(&self->archives_lock);
  g_mutex_clear(&self->lock);
  g_mutex_clear(&self->callers_lock);
  g_clear_object(&self->skeleton);
  g_object_unref(self->registry);
  cd_service_config_free(self->config);
  G_OBJECT_CLASS(cd_service_parent_class)->finalize(object);
}

static void
cd_service_class_init(CdServiceClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = cd_service_finalize;
  /* emitted once the service is stopping and no batch runs any more */
  signals[SIGNAL_DRAINED] =
      g_signal_new("drained", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
cd_shared_archive_free(gpointer data)
{
  CdSharedArchive *shared = data;
  g_object_unref(shared->archive);
  g_free(shared);
}

static void
cd_service_init(CdService *self)
{
  g_mutex_init(&self->lock);
  g_mutex_init(&self->callers_lock);
  self->jobs = g_ptr_array_new_with_free_func((GDestroyNotify) cd_job_free);
  self->hot_folders = g_ptr_array_new_with_free_func(g_object_unref);
  self->callers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  self->archives = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cd_shared_archive_free);
  g_mutex_init(&self->archives_lock);
  self->next_id = 1;
}

/* ------------------------------------------------------------- logging */

static void cd_job_log(CdJob *job, GLogLevelFlags level, const gchar *format, ...) G_GNUC_PRINTF(3, 4);

/* Batch events carry their batch and archive as journal fields
 * (CHARTDESK_BATCH=…), so `journalctl CHARTDESK_BATCH=12` finds them. */
static void
cd_job_log(CdJob *job, GLogLevelFlags level, const gchar *format, ...)
{
  va_list ap;
  g_autofree gchar *message = NULL;
  g_autofree gchar *job_id = g_strdup_printf("%u", job->id);
  g_autofree gchar *batch_id = g_strdup_printf("%" G_GINT64_FORMAT, job->batch_id);

  va_start(ap, format);
  message = g_strdup_vprintf(format, ap);
  va_end(ap);
  {
    const GLogField fields[] = {
      { "MESSAGE", message, -1 },          { "GLIB_DOMAIN", G_LOG_DOMAIN, -1 },
      { "CHARTDESK_JOB", job_id, -1 },     { "CHARTDESK_ARCHIVE", job->archive, -1 },
      { "CHARTDESK_BATCH", batch_id, -1 }, { "CHARTDESK_WORKFLOW", job->workflow, -1 },
    };
    g_log_structured_array(level, fields, G_N_ELEMENTS(fields));
  }
}

/* ---------------------------------------------------------------- state */

static CdJob *
cd_service_find_job(CdService *self, guint id)
{
  for (guint i = 0; i < self->jobs->len; i++) {
    CdJob *job = g_ptr_array_index(self->jobs, i);
    if (job->id == id)
      return job;
  }
  return NULL;
}

static CdJob *
cd_service_find_batch(CdService *self, const gchar *archive, gint64 batch_id)
{
  for (guint i = 0; i < self->jobs->len; i++) {
    CdJob *job = g_ptr_array_index(self->jobs, i);
    if (job->batch_id == batch_id && g_strcmp0(job->archive, archive) == 0)
      return job;
  }
  return NULL;
}

static gboolean
cd_job_ended(CdJob *job)
{
  return job->state == CD_JOB_FINISHED || job->state == CD_JOB_CANCELLED || job->state == CD_JOB_FAILED ||
         job->state == CD_JOB_INTERRUPTED;
}

/* The members of ListBatches and Progress. Called with the lock held. */
static GVariant *
cd_job_to_variant(CdJob *job)
{
  GVariantDict dict;

  g_variant_dict_init(&dict, NULL);
  g_variant_dict_insert(&dict, "id", "u", job->id);
  g_variant_dict_insert(&dict, "archive", "s", job->archive);
  g_variant_dict_insert(&dict, "batch", "x", job->batch_id);
  g_variant_dict_insert(&dict, "workflow", "s", job->workflow);
  g_variant_dict_insert(&dict, "state", "s", job_state_names[job->state]);
  g_variant_dict_insert(&dict, "owner", "s", job->owner);
  g_variant_dict_insert(&dict, "pages-done", "u", job->pages_done);
  g_variant_dict_insert(&dict, "inputs-done", "u", job->inputs_done);
  g_variant_dict_insert(&dict, "inputs-total", "u", job->inputs_total);
  g_variant_dict_insert(&dict, "elapsed", "d", job->elapsed);
  if (job->hot_folder != NULL)
    g_variant_dict_insert(&dict, "hot-folder", "s", cd_hot_folder_get_config(job->hot_folder)->name);
  if (job->report != NULL) {
    JsonObject *report = json_node_get_object(job->report);
    static const gchar *const counts[] = { "filed", "review", "set-aside", "failed", "duplicate", NULL };
    for (guint i = 0; counts[i] != NULL; i++)
      g_variant_dict_insert(&dict, counts[i], "u",
                            (guint) json_object_get_int_member_with_default(report, counts[i], 0));
  }
  if (job->error != NULL)
    g_variant_dict_insert(&dict, "error", "s", job->error);
  return g_variant_dict_end(&dict);
}

/* A signal reaches every listener on the bus, allowed to call or not: the
 * Progress members of ListBatches without the archive, the owner and the
 * error, which are ListBatches' (authorized, audited). */
static GVariant *
cd_job_to_progress(CdJob *job)
{
  g_autoptr(GVariant) full = g_variant_ref_sink(cd_job_to_variant(job));
  static const gchar *const withheld[] = { "archive", "owner", "error", NULL };
  GVariantDict dict;
  GVariantIter iter;
  const gchar *key;
  GVariant *value;

  g_variant_dict_init(&dict, NULL);
  g_variant_iter_init(&iter, full);
  while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
    if (!g_strv_contains(withheld, key))
      g_variant_dict_insert_value(&dict, key, value);
    g_variant_unref(value);
  }
  return g_variant_dict_end(&dict);
}

static void
cd_service_emit_progress(CdService *self, CdJob *job)
{
  g_autoptr(GVariant) progress = NULL;

  g_mutex_lock(&self->lock);
  job->emit_pending = FALSE;
  job->last_emit = g_get_monotonic_time();
  progress = g_variant_ref_sink(cd_job_to_progress(job));
  g_mutex_unlock(&self->lock);
  if (self->skeleton != NULL)
    cd_dbus_chartdesk1_emit_progress(self->skeleton, job->id, progress);
}

typedef struct {
  CdService *service;
  guint id;
} CdJobRef;

static gboolean
cd_service_emit_progress_idle(gpointer data)
{
  CdJobRef *ref = data;
  CdJob *job = cd_service_find_job(ref->service, ref->id);
  if (job != NULL)
    cd_service_emit_progress(ref->service, job);
  return G_SOURCE_REMOVE;
}

/* On the batch's thread, after each page: counts under the lock, and a
 * Progress signal from the main thread, a few per second at most. */
static void
cd_job_on_progress(const CdProgress *progress, gpointer user_data)
{
  CdJob *job = user_data;
  CdService *self = job->service;
  gint64 now = g_get_monotonic_time();

  g_mutex_lock(&self->lock);
  job->pages_done = progress->pages_done;
  job->inputs_done = progress->inputs_done;
  job->inputs_total = progress->inputs_total;
  job->elapsed = progress->elapsed;
  if (!job->emit_pending && now - job->last_emit >= CD_SERVICE_PROGRESS_INTERVAL_US) {
    CdJobRef *ref = g_new0(CdJobRef, 1);
    ref->service = self;
    ref->id = job->id;
    job->emit_pending = TRUE;
    g_idle_add_full(G_PRIORITY_DEFAULT, cd_service_emit_progress_idle, ref, g_free);
  }
  g_mutex_unlock(&self->lock);
}

/* ------------------------------------------------------------- the queue */

static void cd_service_dispatch(CdService *self);

/* An archive the service has just created: private to the service (mode
 * 0600, from cd_archive_open()), or on the system bus with an
 * allowed-group readable by that group (0640), the -wal and -shm alike. */
static void
cd_service_archive_created(CdService *self, const gchar *path)
{
  const gchar *const suffixes[] = { "", "-wal", "-shm", ".lock" };
  struct group *gr;

  if (!self->config->system_bus || self->config->allowed_group == NULL)
    return;
  gr = getgrnam(self->config->allowed_group);
  if (gr == NULL) {
    g_warning("%s: group %s does not exist; the archive stays private to the service", path,
              self->config->allowed_group);
    return;
  }
  for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
    g_autofree gchar *file = g_strdup_printf("%s%s", path, suffixes[i]);
    if (!g_file_test(file, G_FILE_TEST_EXISTS))
      continue;
    if (chown(file, (uid_t) -1, gr->gr_gid) != 0 || g_chmod(file, 0640) != 0)
      g_warning("%s: cannot give group %s read access: %s", file, gr->gr_name, g_strerror(errno));
  }
}

/* Opens, or shares, the one connection to the archive at @path. With
 * CD_ARCHIVE_FLAG_WRITER the use also takes the writer's lock
 * (CD_ERROR_BUSY if another process has it); with an @actor the archive
 * is held for this thread, @actor and @purpose in its audit log, until the
 * use ends. Never call with the service lock held: the use may wait for a
 * batch's commit. */
static CdArchiveUse *
cd_service_use_archive(CdService *self, const gchar *path, CdArchiveFlags flags, const gchar *actor,
                       const gchar *purpose, GError **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->archives_lock);
  CdSharedArchive *shared = g_hash_table_lookup(self->archives, path);
  CdArchiveUse *use;

  if (shared == NULL) {
    gboolean existed = g_file_test(path, G_FILE_TEST_EXISTS);
    CdArchive *archive = cd_archive_open(path, flags & CD_ARCHIVE_FLAG_CREATE, error);
    if (archive == NULL)
      return NULL;
    if (!existed)
      cd_service_archive_created(self, path);
    shared = g_new0(CdSharedArchive, 1);
    shared->archive = archive;
    g_hash_table_insert(self->archives, g_strdup(path), shared);
  }
  if ((flags & CD_ARCHIVE_FLAG_WRITER) != 0) {
    if (shared->writer) {
      g_set_error(error, CD_ERROR, CD_ERROR_BUSY, "%s: another batch of this service is writing to this archive", path);
      return NULL;
    }
    if (!cd_archive_acquire_writer(shared->archive, error)) {
      if (shared->users == 0)
        g_hash_table_remove(self->archives, path);
      return NULL;
    }
    shared->writer = TRUE;
  }
  shared->users++;
  use = g_new0(CdArchiveUse, 1);
  use->service = self;
  use->archive = g_object_ref(shared->archive);
  use->writer = (flags & CD_ARCHIVE_FLAG_WRITER) != 0;
  g_clear_pointer(&locker, g_mutex_locker_free);
  if (actor != NULL) {
    g_autoptr(CdPrincipal) principal = cd_service_users_lookup(self->users, actor);
    if (principal != NULL)
      cd_archive_push_principal(use->archive, principal, purpose);
    else
      cd_archive_push_actor(use->archive, actor, purpose);
    use->pushed = TRUE;
  }
  return use;
}

/* Ends a use: the archive is let go by this thread first, then the
 * connection is closed if nobody else uses it. */
static void
cd_archive_use_free(CdArchiveUse *use)
{
  CdService *self;
  CdSharedArchive *shared;
  const gchar *path;

  if (use == NULL)
    return;
  self = use->service;
  if (use->pushed)
    cd_archive_pop_actor(use->archive);
  path = cd_archive_get_path(use->archive);
  g_mutex_lock(&self->archives_lock);
  shared = g_hash_table_lookup(self->archives, path);
  if (shared != NULL && shared->archive == use->archive) {
    if (use->writer) {
      cd_archive_release_writer(shared->archive);
      shared->writer = FALSE;
    }
    if (--shared->users == 0)
      g_hash_table_remove(self->archives, path);
  }
  g_mutex_unlock(&self->archives_lock);
  g_object_unref(use->archive);
  g_free(use);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdArchiveUse, cd_archive_use_free)

/* Whether STAGE.OPTION is a string property: on the system bus those are
 * the workflow file's (an external classifier's command, a data path, a
 * pattern), never a caller's. Unknown stages and options are left to
 * cd_workflow_set_option(), which names them. */
static gboolean
cd_service_option_is_text(CdService *self, const gchar *stage, const gchar *option)
{
  GType type = cd_registry_find_stage(self->registry, stage, NULL);
  g_autoptr(GTypeClass) klass = NULL;
  GParamSpec *pspec;

  if (type == G_TYPE_INVALID)
    return FALSE;
  klass = g_type_class_ref(type);
  pspec = g_object_class_find_property(G_OBJECT_CLASS(klass), option);
  return pspec != NULL && G_PARAM_SPEC_VALUE_TYPE(pspec) == G_TYPE_STRING;
}

/* Applies the batch's recorded overrides: {"set": {"stage.option": "value"}, "workers": N}.
 * The one check of a caller's options, for a call and a journalled batch
 * alike: workers from 1 to 256, each option known to its stage and valid
 * for its type, and on the system bus no text option. */
static gboolean
cd_service_apply_options(CdService *self, CdWorkflow *workflow, const gchar *options, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *root;
  JsonObject *set;

  if (self->config->workers > 0)
    cd_workflow_set_workers(workflow, self->config->workers);
  if (options == NULL)
    return TRUE;
  if (!json_parser_load_from_data(parser, options, -1, error))
    return FALSE;
  root = json_node_get_object(json_parser_get_root(parser));
  if (root == NULL)
    return TRUE;
  if (json_object_has_member(root, "workers")) {
    gint64 workers = json_object_get_int_member(root, "workers");
    if (workers < 1 || workers > 256) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "workers: %" G_GINT64_FORMAT " is not from 1 to 256",
                  workers);
      return FALSE;
    }
    cd_workflow_set_workers(workflow, workers);
  }
  set = json_object_get_object_member(root, "set");
  if (set != NULL) {
    g_autoptr(GList) members = json_object_get_members(set);
    for (GList *l = members; l != NULL; l = l->next) {
      const gchar *key = l->data;
      JsonNode *node = json_object_get_member(set, key);
      const gchar *text = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_string(node) : NULL;
      g_autofree gchar *assignment = g_strdup_printf("%s=%s", key, text != NULL ? text : "");
      g_autofree gchar *stage = NULL;
      g_autofree gchar *option = NULL;
      g_autofree gchar *value = NULL;
      if (text == NULL) {
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: the value is not text", key);
        return FALSE;
      }
      if (!cd_param_parse_assignment(assignment, &stage, &option, &value, error))
        return FALSE;
      if (self->config->system_bus && cd_service_option_is_text(self, stage, option)) {
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                    "%s: a text option (a command, a file, a pattern) comes from the workflow file only on the "
                    "system bus; callers may set numbers, switches and choices",
                    key);
        return FALSE;
      }
      if (!cd_workflow_set_option(workflow, stage, option, value, error))
        return FALSE;
    }
  }
  return TRUE;
}

static CdWorkflow *
cd_service_load_workflow(CdService *self, const gchar *file, const gchar *options, GError **error)
{
  g_autoptr(CdWorkflow) workflow = cd_workflow_new_from_file(self->registry, file, error);
  if (workflow == NULL)
    return NULL;
  if (!cd_service_apply_options(self, workflow, options, error))
    return NULL;
  return g_steal_pointer(&workflow);
}

static gboolean cd_service_job_done_idle(gpointer data);

/* The batch's thread: becomes the archive's writer, runs the pipeline over
 * the journalled batch, and hands the outcome to the main thread. */
static gpointer
cd_job_thread(gpointer data)
{
  CdJob *job = data;
  CdService *self = job->service;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchiveUse) use = NULL;
  CdArchive *archive = NULL;
  g_autoptr(CdWorkflow) workflow = NULL;
  g_autoptr(CdPipeline) pipeline = NULL;
  g_autoptr(CdBatch) batch = NULL;
  const gchar *status = "failed";

  /* the writer's lock on the shared connection; the batch's entries name
   * its owner, reads on the same connection push their own caller */
  use = cd_service_use_archive(self, job->archive, CD_ARCHIVE_FLAG_WRITER | CD_ARCHIVE_FLAG_CREATE, NULL, NULL, &error);
  if (use != NULL) {
    archive = use->archive;
    cd_archive_set_actor(archive, job->owner);
  }
  if (archive == NULL && g_error_matches(error, CD_ERROR, CD_ERROR_BUSY)) {
    g_mutex_lock(&self->lock);
    job->busy = TRUE;
    g_mutex_unlock(&self->lock);
    cd_job_log(job, G_LOG_LEVEL_INFO, "batch %u: %s; trying again", job->id, error->message);
    g_idle_add(cd_service_job_done_idle, job);
    return NULL;
  }
  if (archive != NULL)
    workflow = cd_service_load_workflow(self, job->workflow_origin, job->options, &error);
  if (workflow != NULL && cd_archive_set_batch_status(archive, job->batch_id, "running", &error)) {
    pipeline = cd_pipeline_new(workflow, archive);
    cd_pipeline_set_batch_id(pipeline, job->batch_id);
    cd_pipeline_set_progress_func(pipeline, cd_job_on_progress, job);
    g_mutex_lock(&self->lock);
    job->pipeline = g_object_ref(pipeline);
    cd_pipeline_set_paused(pipeline, job->pause_requested);
    g_mutex_unlock(&self->lock);
    cd_job_log(job, G_LOG_LEVEL_MESSAGE, "batch %u (archive batch %" G_GINT64_FORMAT ") started: %s, %u inputs",
               job->id, job->batch_id, job->workflow, g_strv_length(job->inputs));
    batch = cd_pipeline_run(pipeline, (const gchar *const *) job->inputs, job->cancellable, &error);
    g_mutex_lock(&self->lock);
    g_clear_object(&job->pipeline);
    g_mutex_unlock(&self->lock);
  }
  if (batch != NULL)
    status = cd_batch_get_status(batch);
  else if (archive != NULL && !cd_archive_set_batch_status(archive, job->batch_id, "failed", NULL))
    g_warning("%s: cannot record batch %" G_GINT64_FORMAT " as failed", job->archive, job->batch_id);

  g_mutex_lock(&self->lock);
  if (batch != NULL) {
    job->report = cd_batch_to_json(batch);
    job->pages_done = cd_batch_get_pages_in(batch);
    job->elapsed = cd_batch_get_elapsed(batch);
    if (g_strcmp0(status, "finished") == 0)
      job->inputs_done = job->inputs_total;
  } else {
    g_autoptr(CdBatch) empty = cd_batch_new();
    cd_batch_set_id(empty, job->batch_id);
    cd_batch_set_status(empty, "failed");
    job->report = cd_batch_to_json(empty);
    job->error = g_strdup(error != NULL ? error->message : "unknown error");
  }
  if (g_strcmp0(status, "finished") == 0)
    job->state = CD_JOB_FINISHED;
  else if (g_strcmp0(status, "cancelled") == 0 && job->stopping)
    job->state = CD_JOB_INTERRUPTED;
  else if (g_strcmp0(status, "cancelled") == 0)
    job->state = CD_JOB_CANCELLED;
  else
    job->state = CD_JOB_FAILED;
  g_mutex_unlock(&self->lock);

  /* stopped by the service stopping: back in the queue, to resume at the
   * next start, paused if it was paused */
  if (job->state == CD_JOB_INTERRUPTED) {
    gboolean paused;
    g_mutex_lock(&self->lock);
    paused = job->pause_requested;
    g_mutex_unlock(&self->lock);
    if (!cd_archive_set_batch_status(archive, job->batch_id, paused ? "paused" : "queued", &error))
      g_warning("%s: cannot journal batch %" G_GINT64_FORMAT " to resume: %s", job->archive, job->batch_id,
                error->message);
  }
  g_idle_add(cd_service_job_done_idle, job);
  return NULL;
}

/* The report without its items, for the broadcast BatchFinished: the
 * items' reasons can name patients (an unknown MRN), and a signal goes to
 * every listener; the full report is GetReport's, checked and audited. */
static gchar *
cd_service_report_summary(JsonNode *report)
{
  g_autoptr(JsonNode) summary = json_node_new(JSON_NODE_OBJECT);
  JsonObject *from = json_node_get_object(report);
  JsonObject *to = json_object_new();
  g_autoptr(GList) members = json_object_get_members(from);

  /* a new object: json_node_copy() would share the report's */
  for (GList *l = members; l != NULL; l = l->next) {
    if (g_strcmp0(l->data, "items") != 0)
      json_object_set_member(to, l->data, json_node_copy(json_object_get_member(from, l->data)));
  }
  json_node_take_object(summary, to);
  return json_to_string(summary, FALSE);
}

/* Back on the main thread once a batch's thread ends: signals, hot folder
 * moves (the batch's end is committed by now), and the next batch. */
static gboolean
cd_service_job_done_idle(gpointer data)
{
  CdJob *job = data;
  CdService *self = job->service;
  g_autofree gchar *report_json = NULL;
  const gchar *state;
  gboolean busy;

  g_thread_join(g_steal_pointer(&job->thread));
  g_mutex_lock(&self->lock);
  busy = job->busy;
  job->busy = FALSE;
  if (busy) {
    job->state = job->pause_requested ? CD_JOB_PAUSED : CD_JOB_QUEUED;
    job->not_before = g_get_monotonic_time() + CD_SERVICE_BUSY_RETRY_MS * 1000;
  }
  state = job_state_names[job->state];
  if (job->report != NULL)
    report_json = cd_service_report_summary(job->report);
  g_mutex_unlock(&self->lock);

  if (!busy) {
    if (job->state == CD_JOB_FAILED)
      cd_job_log(job, G_LOG_LEVEL_WARNING, "batch %u failed: %s", job->id, job->error);
    else
      cd_job_log(job, G_LOG_LEVEL_MESSAGE, "batch %u %s: %u pages in %.1f s", job->id, state, job->pages_done,
                 job->elapsed);
    if (job->hot_folder != NULL)
      cd_hot_folder_batch_ended(job->hot_folder, (const gchar *const *) job->inputs, state, job->report, job->error);
    if (job->state != CD_JOB_INTERRUPTED && self->skeleton != NULL)
      cd_dbus_chartdesk1_emit_batch_finished(self->skeleton, job->id, state, report_json);
  }
  cd_service_dispatch(self);
  return G_SOURCE_REMOVE;
}

static gboolean
cd_service_retry_timeout(gpointer data)
{
  CdService *self = data;
  self->retry_id = 0;
  cd_service_dispatch(self);
  return G_SOURCE_REMOVE;
}

/* Drops the oldest ended batches beyond what ListBatches keeps. */
static void
cd_service_prune(CdService *self)
{
  guint ended = 0;

  for (guint i = self->jobs->len; i > 0; i--) {
    CdJob *job = g_ptr_array_index(self->jobs, i - 1);
    if (job->thread == NULL && cd_job_ended(job) && ++ended > CD_SERVICE_KEEP_ENDED)
      g_ptr_array_remove_index(self->jobs, i - 1);
  }
}

/* Starts every queued batch that can run: at most max-batches at once, one
 * per archive (an archive has one writer). Once stopping, starts nothing
 * and says when the last batch is gone. */
static void
cd_service_dispatch(CdService *self)
{
  GHashTable *busy_archives = g_hash_table_new(g_str_hash, g_str_equal);
  guint running = 0;
  gint64 now = g_get_monotonic_time();
  gint64 wake = 0;

  for (guint i = 0; i < self->jobs->len; i++) {
    CdJob *job = g_ptr_array_index(self->jobs, i);
    if (job->thread != NULL) {
      running++;
      g_hash_table_add(busy_archives, job->archive);
    }
  }
  if (self->stopping) {
    g_hash_table_unref(busy_archives);
    if (running == 0)
      g_signal_emit(self, signals[SIGNAL_DRAINED], 0);
    return;
  }
  for (guint i = 0; i < self->jobs->len && running < self->config->max_batches; i++) {
    CdJob *job = g_ptr_array_index(self->jobs, i);
    if (job->thread != NULL || job->state != CD_JOB_QUEUED || g_hash_table_contains(busy_archives, job->archive))
      continue;
    if (job->not_before > now) {
      wake = wake == 0 ? job->not_before : MIN(wake, job->not_before);
      continue;
    }
    g_mutex_lock(&self->lock);
    job->state = CD_JOB_RUNNING;
    g_mutex_unlock(&self->lock);
    g_hash_table_add(busy_archives, job->archive);
    running++;
    job->thread = g_thread_new("cd-batch", cd_job_thread, job);
    cd_service_emit_progress(self, job);
  }
  g_hash_table_unref(busy_archives);
  if (wake != 0 && self->retry_id == 0)
    self->retry_id = g_timeout_add(MAX(1, (wake - now) / 1000), cd_service_retry_timeout, self);
  cd_service_prune(self);
}

static gchar *
cd_service_state_file(CdService *self)
{
  return g_build_filename(self->config->state_dir, "archives", NULL);
}

/* Remembers an archive a batch was queued into, so that a batch journalled
 * there is found at start-up even if no configuration names the archive. */
static void
cd_service_remember_archive(CdService *self, const gchar *archive)
{
  g_autofree gchar *file = cd_service_state_file(self);
  g_autofree gchar *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) out = NULL;
  g_autoptr(GError) error = NULL;

  if (g_file_get_contents(file, &contents, NULL, NULL)) {
    lines = g_strsplit(contents, "\n", -1);
    if (g_strv_contains((const gchar *const *) lines, archive))
      return;
  }
  out = g_string_new(contents);
  g_string_append_printf(out, "%s\n", archive);
  if (g_mkdir_with_parents(self->config->state_dir, 0700) != 0 || !g_file_set_contents(file, out->str, -1, &error))
    g_warning("cannot remember archive %s in %s: %s", archive, file, error != NULL ? error->message : "no folder");
}

static CdJob *
cd_service_add_job(CdService *self, const gchar *archive, gint64 batch_id, const gchar *workflow,
                   const gchar *workflow_origin, const gchar *options, const gchar *const *inputs, const gchar *owner,
                   CdHotFolder *hot_folder)
{
  CdJob *job = g_new0(CdJob, 1);

  job->service = self;
  job->id = self->next_id++;
  job->archive = g_strdup(archive);
  job->batch_id = batch_id;
  job->workflow = g_strdup(workflow);
  job->workflow_origin = g_strdup(workflow_origin);
  job->options = g_strdup(options);
  job->inputs = g_strdupv((gchar **) inputs);
  job->owner = g_strdup(owner);
  job->hot_folder = hot_folder != NULL ? g_object_ref(hot_folder) : NULL;
  job->cancellable = g_cancellable_new();
  job->state = CD_JOB_QUEUED;
  job->inputs_total = g_strv_length(job->inputs);
  g_mutex_lock(&self->lock);
  g_ptr_array_add(self->jobs, job);
  g_mutex_unlock(&self->lock);
  return job;
}

/* Whether a workflow file or its folder can only have been written by
 * root or the service's own user: the workflow names the programs the
 * service runs (an external classifier's command) as its user. */
static gboolean
cd_service_check_trusted(const gchar *path, const gchar *what, GError **error)
{
  GStatBuf st;

  if (g_stat(path, &st) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: %s: %s", path, what, g_strerror(errno));
    return FALSE;
  }
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW,
                "%s: %s is owned by uid %u, not by root or the service's user (uid %u): refused", path, what,
                (guint) st.st_uid, (guint) geteuid());
    return FALSE;
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "%s: %s is writable by its group or by others (mode %04o): refused",
                path, what, (guint) (st.st_mode & 07777));
    return FALSE;
  }
  return TRUE;
}

typedef enum {
  CD_ASKED_BY_CALLER, /* a D-Bus caller, or a journalled batch */
  CD_ASKED_BY_CONFIG, /* the configuration file: a hot folder, the default */
} CdAsker;

/* Resolves a workflow to its file (symlinks resolved): a NAME is looked for
 * as NAME.workflow in the configured workflow-path folders, then where
 * `chartdesk` looks. A caller on the system bus may only name one; on the
 * session bus (the caller is the service's own user) also give an absolute
 * file; the configuration may give a file. Either way the file and its
 * folder must pass cd_service_check_trusted(). */
static gchar *
cd_service_find_workflow(CdService *self, const gchar *name, CdAsker asker, GError **error)
{
  g_autofree gchar *file = NULL;
  g_autofree gchar *real = NULL;
  g_autofree gchar *dir = NULL;

  if (strchr(name, '/') != NULL || g_str_has_suffix(name, ".workflow")) {
    if (asker == CD_ASKED_BY_CALLER && (self->config->system_bus || !g_path_is_absolute(name))) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                  "'%s': workflows are chosen by name (NAME for a NAME.workflow in the service's workflow "
                  "folders), not by file",
                  name);
      return NULL;
    }
    file = g_strdup(name);
  } else {
    for (const gchar *c = name; *c != '\0'; c++) {
      if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_' && *c != '.') {
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "'%s' is not a workflow name", name);
        return NULL;
      }
    }
    if (name[0] == '\0' || name[0] == '.') {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "'%s' is not a workflow name", name);
      return NULL;
    }
    for (guint i = 0; file == NULL && self->config->workflow_path[i] != NULL; i++) {
      g_autofree gchar *base = g_strdup_printf("%s.workflow", name);
      g_autofree gchar *path = g_build_filename(self->config->workflow_path[i], base, NULL);
      if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
        file = g_steal_pointer(&path);
    }
    if (file == NULL)
      file = cd_workflow_find(name, error);
    if (file == NULL)
      return NULL;
  }
  real = realpath(file, NULL);
  if (real == NULL || !g_file_test(real, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: no such workflow file", file);
    return NULL;
  }
  dir = g_path_get_dirname(real);
  if (!cd_service_check_trusted(real, "the workflow", error) || !cd_service_check_trusted(dir, "its folder", error))
    return NULL;
  return g_steal_pointer(&real);
}

/* @path with symlinks resolved; a file that does not exist yet is resolved
 * through its folder. NULL if not even the folder exists. */
static gchar *
cd_service_realpath(const gchar *path)
{
  gchar *real = realpath(path, NULL);
  g_autofree gchar *dir = NULL;
  g_autofree gchar *real_dir = NULL;
  g_autofree gchar *base = NULL;

  if (real != NULL || errno != ENOENT)
    return real;
  dir = g_path_get_dirname(path);
  real_dir = realpath(dir, NULL);
  if (real_dir == NULL)
    return NULL;
  base = g_path_get_basename(path);
  return g_build_filename(real_dir, base, NULL);
}

/* Whether @real (resolved) is @root (resolved here) or inside it. */
static gboolean
cd_service_path_under(const gchar *real, const gchar *root)
{
  g_autofree gchar *real_root = realpath(root, NULL);
  gsize len;

  if (real_root == NULL)
    return FALSE;
  len = strlen(real_root);
  if (g_strcmp0(real_root, "/") == 0)
    return TRUE;
  return strncmp(real, real_root, len) == 0 && (real[len] == '\0' || real[len] == '/');
}

/* Whether @real (resolved) is the file @configured names, once resolved. */
static gboolean
cd_service_same_path(const gchar *real, const gchar *configured)
{
  g_autofree gchar *other = configured != NULL ? cd_service_realpath(configured) : NULL;
  return other != NULL && g_strcmp0(real, other) == 0;
}

/* The archive a caller names, resolved (the one key of the shared
 * connections). On the system bus only a configured archive ([service]
 * archive, a hot folder's) or one under archive-roots: the service's
 * user may write where callers may not. */
static gchar *
cd_service_resolve_archive(CdService *self, const gchar *path, GError **error)
{
  g_autofree gchar *real = NULL;
  gboolean allowed;

  if (path == NULL || path[0] == '\0')
    path = self->config->archive;
  if (path == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                        "no archive given, and none configured ([service] archive)");
    return NULL;
  }
  if (!g_path_is_absolute(path)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: the archive must be an absolute path", path);
    return NULL;
  }
  real = cd_service_realpath(path);
  if (real == NULL)
    real = g_canonicalize_filename(path, NULL); /* cd_archive_open() says what is wrong */
  if (!self->config->system_bus)
    return g_steal_pointer(&real);
  allowed = cd_service_same_path(real, self->config->archive);
  for (guint i = 0; !allowed && i < self->config->hot_folders->len; i++) {
    CdHotFolderConfig *hf = g_ptr_array_index(self->config->hot_folders, i);
    allowed = cd_service_same_path(real, hf->archive);
  }
  for (guint i = 0; !allowed && self->config->archive_roots[i] != NULL; i++)
    allowed = cd_service_path_under(real, self->config->archive_roots[i]);
  if (!allowed) {
    g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                "%s: not an archive of this service (the configured archives, or one under [service] "
                "archive-roots)",
                path);
    return NULL;
  }
  return g_steal_pointer(&real);
}

/* A file path means nothing to the service unless it is absolute (its
 * working folder is not the caller's). On the system bus each must also
 * exist under [service] source-roots or a hot folder, symlinks and `..`
 * resolved, so the service reads (and GetPageImage returns) nothing its
 * callers could not put there. They are journalled as given (a hot folder
 * knows its files by those names) and checked again at each start. Other
 * sources (a scanner's device name) are passed to their source stage as
 * they are. Returns the sources to journal. */
static gchar **
cd_service_check_sources(CdService *self, CdWorkflow *workflow, const gchar *const *sources, GError **error)
{
  g_autoptr(GPtrArray) names = cd_workflow_get_stage_names(workflow, CD_STAGE_KIND_SOURCE);
  gboolean files = names->len > 0 && g_strcmp0(g_ptr_array_index(names, 0), "files") == 0;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

  if (sources == NULL || sources[0] == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "no files or folders to read");
    return NULL;
  }
  for (guint i = 0; sources[i] != NULL; i++) {
    g_autofree gchar *real = NULL;
    gboolean allowed = FALSE;
    if (!files) {
      g_ptr_array_add(out, g_strdup(sources[i]));
      continue;
    }
    if (!g_path_is_absolute(sources[i])) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "%s: sources must be absolute paths", sources[i]);
      return NULL;
    }
    if (!self->config->system_bus) {
      g_ptr_array_add(out, g_strdup(sources[i]));
      continue;
    }
    real = realpath(sources[i], NULL);
    if (real == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "%s: %s", sources[i], g_strerror(errno));
      return NULL;
    }
    for (guint j = 0; !allowed && self->config->source_roots[j] != NULL; j++)
      allowed = cd_service_path_under(real, self->config->source_roots[j]);
    for (guint j = 0; !allowed && j < self->config->hot_folders->len; j++) {
      CdHotFolderConfig *hf = g_ptr_array_index(self->config->hot_folders, j);
      allowed = cd_service_path_under(real, hf->path);
    }
    if (!allowed) {
      g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                  "%s: not under a folder this service reads from ([service] source-roots, the hot folders)",
                  sources[i]);
      return NULL;
    }
    g_ptr_array_add(out, g_strdup(sources[i]));
  }
  g_ptr_array_add(out, NULL);
  return (gchar **) g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* What a batch is checked into before it is journalled or resumed. */
typedef struct {
  gchar *archive;  /* resolved */
  gchar *origin;   /* the workflow file, resolved */
  gchar **sources; /* as journalled */
  CdWorkflow *workflow;
} CdBatchPlan;

static void
cd_batch_plan_clear(CdBatchPlan *plan)
{
  g_free(plan->archive);
  g_free(plan->origin);
  g_strfreev(plan->sources);
  g_clear_object(&plan->workflow);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CdBatchPlan, cd_batch_plan_clear)

/* The one validation of a batch, for a D-Bus call, a hot folder and a batch
 * found in an archive's journal at start-up alike: the workflow (by name
 * for a caller, trusted folders only), its options, the sources and the
 * archive. A journal is only as trustworthy as whoever could write the
 * archive, so a journalled batch passes exactly what a call would. */
static gboolean
cd_service_plan_batch(CdService *self, const gchar *workflow, CdAsker asker, const gchar *const *sources,
                      const gchar *archive, const gchar *options, CdBatchPlan *plan, GError **error)
{
  plan->archive = cd_service_resolve_archive(self, archive, error);
  if (plan->archive == NULL)
    return FALSE;
  plan->origin =
      cd_service_find_workflow(self, workflow != NULL && workflow[0] != '\0' ? workflow : self->config->workflow,
                               workflow != NULL && workflow[0] != '\0' ? asker : CD_ASKED_BY_CONFIG, error);
  if (plan->origin == NULL)
    return FALSE;
  plan->workflow = cd_service_load_workflow(self, plan->origin, options, error);
  if (plan->workflow == NULL)
    return FALSE;
  plan->sources = cd_service_check_sources(self, plan->workflow, sources, error);
  return plan->sources != NULL;
}

/* Validates a batch and journals it in its archive before anything runs;
 * the id it returns names a batch that will run, or resume, until it ends. */
static CdJob *
cd_service_queue(CdService *self, const gchar *workflow_name, CdAsker asker, const gchar *const *sources,
                 const gchar *archive_path, const gchar *options, const gchar *owner, CdHotFolder *hot_folder,
                 GError **error)
{
  g_auto(CdBatchPlan) plan = { 0 };
  g_autoptr(CdArchiveUse) use = NULL;
  gint64 batch_id;

  if (self->stopping) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_BUSY, "the service is stopping");
    return NULL;
  }
  if (!cd_service_plan_batch(self, workflow_name, asker, sources, archive_path, options, &plan, error))
    return NULL;
  use = cd_service_use_archive(self, plan.archive, CD_ARCHIVE_FLAG_CREATE, owner, NULL, error);
  if (use == NULL)
    return NULL;
  batch_id = cd_archive_queue_batch(use->archive, cd_workflow_get_name(plan.workflow), plan.origin, options,
                                    (const gchar *const *) plan.sources, error);
  if (batch_id == 0)
    return NULL;
  cd_service_remember_archive(self, plan.archive);
  return cd_service_add_job(self, plan.archive, batch_id, cd_workflow_get_name(plan.workflow), plan.origin, options,
                            (const gchar *const *) plan.sources, owner, hot_folder);
}

/* ---------------------------------------------------------- hot folders */

static gboolean
cd_service_hot_folder_submit(CdHotFolder *folder, const gchar *const *files, gpointer user_data)
{
  CdService *self = user_data;
  const CdHotFolderConfig *config = cd_hot_folder_get_config(folder);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *owner = g_strdup_printf("chartdeskd (hot folder %s)", config->name);
  CdJob *job;

  job =
      cd_service_queue(self, config->workflow, CD_ASKED_BY_CONFIG, files, config->archive, NULL, owner, folder, &error);
  if (job == NULL) {
    g_warning("hot folder %s: cannot queue %u files: %s", config->name, g_strv_length((gchar **) files),
              error->message);
    return FALSE;
  }
  cd_job_log(job, G_LOG_LEVEL_MESSAGE, "hot folder %s: batch %u queued with %u files", config->name, job->id,
             g_strv_length((gchar **) files));
  cd_service_dispatch(self);
  return TRUE;
}

static CdHotFolder *
cd_service_hot_folder_for(CdService *self, const gchar *archive, const gchar *const *inputs)
{
  for (guint i = 0; i < self->hot_folders->len; i++) {
    CdHotFolder *folder = g_ptr_array_index(self->hot_folders, i);
    const CdHotFolderConfig *config = cd_hot_folder_get_config(folder);
    const gchar *folder_archive = config->archive != NULL ? config->archive : self->config->archive;
    gboolean all = inputs[0] != NULL && cd_service_same_path(archive, folder_archive);
    for (guint j = 0; all && inputs[j] != NULL; j++)
      all = cd_hot_folder_owns(folder, inputs[j]);
    if (all)
      return folder;
  }
  return NULL;
}

/* ------------------------------------------------------------ start-up */

/* Queues again every batch a previous run of the service journalled and
 * did not finish: `running` (it was killed), `queued` (it never started,
 * or was stopped to resume) or `paused` (it stays paused until someone
 * resumes it). Batches the command line left behind have no workflow file
 * recorded and are not ours to resume. */
static void
cd_service_resume_archive(CdService *self, const gchar *path)
{
  const gchar *const unfinished[] = { "queued", "running", "paused", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchiveUse) use = NULL;
  g_autofree gchar *real = cd_service_realpath(path);
  CdArchive *archive = NULL;
  g_autoptr(GPtrArray) records = NULL;

  if (real == NULL || !g_file_test(real, G_FILE_TEST_EXISTS))
    return;
  use = cd_service_use_archive(self, real, CD_ARCHIVE_FLAG_NONE, "chartdeskd", NULL, &error);
  if (use != NULL) {
    archive = use->archive;
    records = cd_archive_list_batches(archive, unfinished, &error);
  }
  if (records == NULL) {
    g_warning("%s: cannot look for batches to resume: %s", path, error->message);
    return;
  }
  for (guint i = 0; i < records->len; i++) {
    CdBatchRecord *r = g_ptr_array_index(records, i);
    g_auto(CdBatchPlan) plan = { 0 };
    g_autoptr(GError) refused = NULL;
    g_autofree gchar *name = NULL;
    g_autofree gchar *origin = NULL;
    const gchar *asked;
    CdHotFolder *folder;
    CdJob *job;
    if (r->workflow_origin == NULL || cd_service_find_batch(self, real, r->id) != NULL)
      continue;
    folder = cd_service_hot_folder_for(self, real, (const gchar *const *) r->inputs);
    /* asked again as it was first asked: by the hot folder's configuration,
     * or by a caller, by name on the system bus */
    if (folder != NULL) {
      asked = cd_hot_folder_get_config(folder)->workflow;
    } else if (self->config->system_bus) {
      g_autofree gchar *base = g_path_get_basename(r->workflow_origin);
      name = g_strndup(base, g_str_has_suffix(base, ".workflow") ? strlen(base) - strlen(".workflow") : strlen(base));
      asked = name;
    } else {
      asked = r->workflow_origin;
    }
    if (cd_service_plan_batch(self, asked, folder != NULL ? CD_ASKED_BY_CONFIG : CD_ASKED_BY_CALLER,
                              (const gchar *const *) r->inputs, real, r->options, &plan, &refused)) {
      origin = realpath(r->workflow_origin, NULL);
      if (g_strcmp0(origin, plan.origin) != 0)
        g_set_error(&refused, CD_ERROR, CD_ERROR_WORKFLOW, "%s is not the workflow the service finds for '%s' (%s)",
                    r->workflow_origin, asked != NULL ? asked : self->config->workflow, plan.origin);
    }
    if (refused != NULL) {
      g_autoptr(GError) error_status = NULL;
      g_warning("%s: journalled batch %" G_GINT64_FORMAT " refused, not resumed: %s", path, r->id, refused->message);
      if (!cd_archive_set_batch_status(archive, r->id, "failed", &error_status))
        g_warning("%s: cannot record batch %" G_GINT64_FORMAT " as failed: %s", path, r->id, error_status->message);
      continue;
    }
    job = cd_service_add_job(self, real, r->id, r->workflow, plan.origin, r->options,
                             (const gchar *const *) plan.sources, r->actor, folder);
    if (g_strcmp0(r->status, "paused") == 0) {
      g_mutex_lock(&self->lock);
      job->pause_requested = TRUE;
      job->state = CD_JOB_PAUSED;
      g_mutex_unlock(&self->lock);
    }
    if (folder != NULL)
      cd_hot_folder_claim(folder, (const gchar *const *) r->inputs);
    cd_job_log(job, G_LOG_LEVEL_MESSAGE, "resuming archive batch %" G_GINT64_FORMAT " (%s) as batch %u", r->id,
               r->status, job->id);
  }
}

/**
 * cd_service_check:
 * @self: a #CdService
 * @error: return location for a #GError
 *
 * Checks what the configuration promises before any batch depends on it:
 * each hot folder exists, has an archive, and its workflow loads (its
 * stages exist, its options are valid). A mistake here would otherwise
 * surface as files piling up in the folder.
 *
 * Returns: %TRUE if the configuration can run
 */
gboolean
cd_service_check(CdService *self, GError **error)
{
  g_return_val_if_fail(CD_IS_SERVICE(self), FALSE);
  for (guint i = 0; i < self->config->hot_folders->len; i++) {
    CdHotFolderConfig *config = g_ptr_array_index(self->config->hot_folders, i);
    g_autofree gchar *origin = NULL;
    g_autoptr(CdWorkflow) workflow = NULL;
    g_autoptr(GError) error_local = NULL;
    if (config->archive == NULL && self->config->archive == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                  "hot folder %s: no archive (set its archive or [service] archive)", config->name);
      return FALSE;
    }
    if (!g_file_test(config->path, G_FILE_TEST_IS_DIR)) {
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "hot folder %s: %s is not a folder", config->name, config->path);
      return FALSE;
    }
    origin = cd_service_find_workflow(self, config->workflow != NULL ? config->workflow : self->config->workflow,
                                      CD_ASKED_BY_CONFIG, &error_local);
    if (origin != NULL)
      workflow = cd_service_load_workflow(self, origin, NULL, &error_local);
    if (workflow == NULL) {
      g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW, "hot folder %s: %s", config->name, error_local->message);
      return FALSE;
    }
  }
  return TRUE;
}

/**
 * cd_service_start:
 * @self: a #CdService
 * @error: return location for a #GError
 *
 * Resumes the batches left unfinished, then starts the hot folders (whose
 * listing must not queue again the files of a resumed batch). Call once
 * the bus name is owned, so that no second service resumes the same
 * batches.
 *
 * Returns: %TRUE on success; %FALSE if a hot folder cannot be watched
 */
gboolean
cd_service_start(CdService *self, GError **error)
{
  g_autoptr(GPtrArray) archives = g_ptr_array_new_with_free_func(g_free);
  g_autofree gchar *state_file = cd_service_state_file(self);
  g_autofree gchar *contents = NULL;

  g_return_val_if_fail(CD_IS_SERVICE(self), FALSE);
  if (!cd_service_check(self, error))
    return FALSE;
  /* every archive the service opens seals its audit log with this key */
  if (!cd_audit_key_set_default(self->config->audit_key, error))
    return FALSE;
  for (guint i = 0; i < self->config->hot_folders->len; i++) {
    CdHotFolderConfig *config = g_ptr_array_index(self->config->hot_folders, i);
    g_ptr_array_add(self->hot_folders, cd_hot_folder_new(config, cd_service_hot_folder_submit, self));
  }

  if (self->config->archive != NULL)
    g_ptr_array_add(archives, g_strdup(self->config->archive));
  for (guint i = 0; i < self->config->hot_folders->len; i++) {
    CdHotFolderConfig *config = g_ptr_array_index(self->config->hot_folders, i);
    if (config->archive != NULL)
      g_ptr_array_add(archives, g_strdup(config->archive));
  }
  if (g_file_get_contents(state_file, &contents, NULL, NULL)) {
    g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
      if (lines[i][0] != '\0')
        g_ptr_array_add(archives, g_strdup(lines[i]));
    }
  }
  for (guint i = 0; i < archives->len; i++) {
    const gchar *path = g_ptr_array_index(archives, i);
    gboolean seen = FALSE;
    for (guint j = 0; j < i && !seen; j++)
      seen = g_strcmp0(g_ptr_array_index(archives, j), path) == 0;
    if (!seen)
      cd_service_resume_archive(self, path);
  }

  for (guint i = 0; i < self->hot_folders->len; i++) {
    if (!cd_hot_folder_start(g_ptr_array_index(self->hot_folders, i), error))
      return FALSE;
  }
  cd_service_dispatch(self);
  return TRUE;
}

/**
 * cd_service_shutdown:
 * @self: a #CdService
 *
 * Stops cleanly (SIGTERM): no new batch starts, hot folders stop, and each
 * running batch stops after the pages in progress, its committed documents
 * kept and the batch journalled to resume at the next start. #CdService::drained
 * is emitted once no batch runs.
 */
void
cd_service_shutdown(CdService *self)
{
  g_return_if_fail(CD_IS_SERVICE(self));
  if (self->stopping)
    return;
  self->stopping = TRUE;
  g_message("stopping: finishing the pages in progress");
  for (guint i = 0; i < self->hot_folders->len; i++)
    cd_hot_folder_stop(g_ptr_array_index(self->hot_folders, i));
  g_mutex_lock(&self->lock);
  for (guint i = 0; i < self->jobs->len; i++) {
    CdJob *job = g_ptr_array_index(self->jobs, i);
    if (job->thread == NULL)
      continue;
    job->stopping = TRUE;
    g_cancellable_cancel(job->cancellable);
  }
  g_mutex_unlock(&self->lock);
  cd_service_dispatch(self);
}

/**
 * cd_service_is_drained:
 * @self: a #CdService
 *
 * Returns: whether the service is stopping and no batch runs any more
 */
gboolean
cd_service_is_drained(CdService *self)
{
  if (!self->stopping)
    return FALSE;
  for (guint i = 0; i < self->jobs->len; i++) {
    if (((CdJob *) g_ptr_array_index(self->jobs, i))->thread != NULL)
      return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------- callers */

/* Who is calling, from the bus daemon's credentials (never from anything
 * the caller says about itself): "alice (uid 1000, pid 4242)". */
static gboolean
cd_service_caller_identity(CdService *self, GDBusMethodInvocation *invocation, gchar **identity, guint32 *uid,
                           GError **error)
{
  GDBusConnection *connection = g_dbus_method_invocation_get_connection(invocation);
  const gchar *sender = g_dbus_method_invocation_get_sender(invocation);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) creds = NULL;
  guint32 pid = 0;
  struct passwd *pw;
  gchar *cached;

  if (sender == NULL) {
    g_set_error_literal(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED, "callers must come through a bus");
    return FALSE;
  }
  g_mutex_lock(&self->callers_lock);
  cached = g_strdup(g_hash_table_lookup(self->callers, sender));
  g_mutex_unlock(&self->callers_lock);
  if (cached != NULL) {
    /* "uid:identity" */
    gchar *colon = strchr(cached, ':');
    *uid = (guint32) g_ascii_strtoull(cached, NULL, 10);
    *identity = g_strdup(colon + 1);
    g_free(cached);
    return TRUE;
  }
  reply = g_dbus_connection_call_sync(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "GetConnectionCredentials", g_variant_new("(s)", sender),
                                      G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
  if (reply == NULL)
    return FALSE;
  creds = g_variant_get_child_value(reply, 0);
  if (!g_variant_lookup(creds, "UnixUserID", "u", uid)) {
    g_set_error_literal(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED, "the bus does not say who the caller is");
    return FALSE;
  }
  g_variant_lookup(creds, "ProcessID", "u", &pid);
  pw = getpwuid(*uid);
  *identity = g_strdup_printf("%s (uid %u, pid %u)", pw != NULL ? pw->pw_name : "?", *uid, pid);
  g_mutex_lock(&self->callers_lock);
  if (g_hash_table_size(self->callers) > 4096)
    g_hash_table_remove_all(self->callers);
  g_hash_table_insert(self->callers, g_strdup(sender), g_strdup_printf("%u:%s", *uid, *identity));
  g_mutex_unlock(&self->callers_lock);
  return TRUE;
}

/* Whether @uid belongs to the configured group (system bus). */
static gboolean
cd_service_uid_in_group(guint32 uid, const gchar *group)
{
  struct group *gr = group != NULL ? getgrnam(group) : NULL;
  struct passwd *pw = getpwuid(uid);
  gint n = 64;
  g_autofree gid_t *groups = NULL;

  if (gr == NULL || pw == NULL)
    return FALSE;
  groups = g_new0(gid_t, n);
  if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0) {
    g_free(groups);
    groups = g_new0(gid_t, n);
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
      return FALSE;
  }
  for (gint i = 0; i < n; i++) {
    if (groups[i] == gr->gr_gid)
      return TRUE;
  }
  return FALSE;
}

/* A refused call goes to the audit log of the service's archive (the
 * configured one, once it exists): who knocked, from which connection, at
 * which method. Nothing of it goes back to the caller. */
static void
cd_service_audit_denied(CdService *self, GDBusMethodInvocation *invocation, const gchar *identity, guint32 uid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchiveUse) use = NULL;
  g_autoptr(JsonObject) detail = json_object_new();
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *path = NULL;

  if (self->config->archive == NULL)
    return;
  path = cd_service_realpath(self->config->archive);
  if (path == NULL || !g_file_test(path, G_FILE_TEST_EXISTS))
    return;
  json_object_set_string_member(detail, "caller", identity);
  json_object_set_int_member(detail, "uid", uid);
  json_object_set_string_member(detail, "sender", g_dbus_method_invocation_get_sender(invocation));
  json_object_set_string_member(detail, "interface", g_dbus_method_invocation_get_interface_name(invocation));
  json_object_set_string_member(detail, "method", g_dbus_method_invocation_get_method_name(invocation));
  node = json_node_init_object(json_node_alloc(), detail);
  use = cd_service_use_archive(self, path, CD_ARCHIVE_FLAG_NONE, identity, NULL, &error);
  if (use == NULL || !cd_archive_audit(use->archive, "dbus-denied", "service", node, &error))
    g_warning("%s: cannot audit a refused call: %s", path, error->message);
}

/* Every method call passes here first. On the session bus only our own
 * user may call; on the system bus root, our user and members of
 * allowed-group. The caller's identity is kept on the invocation for the
 * audit log. */
static gboolean
cd_service_authorize(GDBusInterfaceSkeleton *skeleton, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CdService *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *identity = NULL;
  guint32 uid = G_MAXUINT32;
  gboolean allowed;

  /* refusing, we answer the call ourselves, with a reference of our own */
  if (!cd_service_caller_identity(self, invocation, &identity, &uid, &error)) {
    g_dbus_method_invocation_return_gerror(g_object_ref(invocation), error);
    return FALSE;
  }
  allowed = uid == getuid() ||
            (self->config->system_bus && (uid == 0 || cd_service_uid_in_group(uid, self->config->allowed_group)));
  if (self->users != NULL || self->users_error != NULL) {
    /* the gatekeeper: the caller must be a user of the directory */
    g_autoptr(CdPrincipal) principal = NULL;
    if (self->users_error != NULL)
      g_set_error_literal(&error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, self->users_error);
    else
      principal = cd_service_users_authenticate(self->users, uid, &error);
    if (principal == NULL) {
      g_message("refused %s from %s: %s", g_dbus_method_invocation_get_method_name(invocation), identity,
                error->message);
      cd_service_audit_denied(self, invocation, identity, uid);
      g_dbus_method_invocation_return_gerror(g_object_ref(invocation), error);
      return FALSE;
    }
    g_free(identity);
    identity = g_strdup(cd_principal_get_audit_name(principal));
    allowed = TRUE;
  }
  if (!allowed) {
    g_message("refused %s from %s", g_dbus_method_invocation_get_method_name(invocation), identity);
    cd_service_audit_denied(self, invocation, identity, uid);
    g_dbus_method_invocation_return_error(g_object_ref(invocation), G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                          "%s may not use this service", identity);
    return FALSE;
  }
  g_object_set_data_full(G_OBJECT(invocation), "cd-caller", g_steal_pointer(&identity), g_free);
  return TRUE;
}

static const gchar *
cd_invocation_caller(GDBusMethodInvocation *invocation)
{
  return g_object_get_data(G_OBJECT(invocation), "cd-caller");
}

/* ------------------------------------------------------------- methods */

static void cd_service_set_paused(CdService *self, CdJob *job, gboolean paused, const gchar *caller);

static gboolean
cd_service_handle_start_batch(CdDBusChartdesk1 *object, GDBusMethodInvocation *invocation, const gchar *workflow,
                              const gchar *const *sources, const gchar *archive, GVariant *options, gpointer user_data)
{
  CdService *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) node = NULL;
  g_autofree gchar *options_json = NULL;
  g_autofree const gchar **set = NULL;
  guint32 workers = 0;
  gboolean has_workers;
  gboolean has_set;
  gboolean start_paused = FALSE;
  CdJob *job;

  has_workers = g_variant_lookup(options, "workers", "u", &workers);
  has_set = g_variant_lookup(options, "set", "^a&s", &set);
  g_variant_lookup(options, "paused", "b", &start_paused);
  if (has_workers || has_set) {
    json_builder_begin_object(b);
    if (has_workers) {
      json_builder_set_member_name(b, "workers");
      json_builder_add_int_value(b, workers);
    }
    if (has_set) {
      json_builder_set_member_name(b, "set");
      json_builder_begin_object(b);
      for (guint i = 0; set[i] != NULL; i++) {
        g_autofree gchar *stage = NULL;
        g_autofree gchar *option = NULL;
        g_autofree gchar *value = NULL;
        g_autofree gchar *name = NULL;
        g_autoptr(GError) error_local = NULL;
        if (!cd_param_parse_assignment(set[i], &stage, &option, &value, &error_local)) {
          g_dbus_method_invocation_return_gerror(invocation, error_local);
          return TRUE;
        }
        name = g_strdup_printf("%s.%s", stage, option);
        json_builder_set_member_name(b, name);
        json_builder_add_string_value(b, value);
      }
      json_builder_end_object(b);
    }
    json_builder_end_object(b);
    node = json_builder_get_root(b);
    options_json = json_to_string(node, FALSE);
  }
  job = cd_service_queue(self, workflow, CD_ASKED_BY_CALLER, sources, archive, options_json,
                         cd_invocation_caller(invocation), NULL, &error);
  if (job == NULL) {
    g_dbus_method_invocation_return_gerror(invocation, error);
    return TRUE;
  }
  cd_job_log(job, G_LOG_LEVEL_MESSAGE, "batch %u queued by %s: %s into %s", job->id, job->owner, job->workflow,
             job->archive);
  /* held before it can start: an operator queues a box now and releases it
   * with Resume when the station is free */
  if (start_paused)
    cd_service_set_paused(self, job, TRUE, cd_invocation_caller(invocation));
  cd_dbus_chartdesk1_complete_start_batch(object, invocation, job->id);
  cd_service_dispatch(self);
  return TRUE;
}

static CdJob *
cd_service_lookup(CdService *self, GDBusMethodInvocation *invocation, guint id)
{
  g_autoptr(GError) error = NULL;
  gboolean report = g_strcmp0(g_dbus_method_invocation_get_method_name(invocation), "GetReport") == 0;
  CdJob *job = NULL;

  /* a report is read with read-batches; pause, resume, cancel need run-batches */
  if (!cd_service_users_check(self->users, cd_invocation_caller(invocation),
                              report ? CD_PERMISSION_READ_BATCHES : CD_PERMISSION_RUN_BATCHES,
                              report ? "see batch reports" : "control batches", &error)) {
    g_dbus_method_invocation_return_gerror(invocation, error);
    return NULL;
  }
  job = cd_service_find_job(self, id);
  if (job == NULL)
    g_dbus_method_invocation_return_error(invocation, CD_ERROR, CD_ERROR_NOT_FOUND, "no batch %u", id);
  return job;
}

/* Records a state change asked for by a caller in the archive's audit log. */
static void
cd_service_audit_state(CdJob *job, const gchar *caller, const gchar *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchiveUse) use =
      cd_service_use_archive(job->service, job->archive, CD_ARCHIVE_FLAG_NONE, caller, NULL, &error);
  if (use == NULL || !cd_archive_set_batch_status(use->archive, job->batch_id, status, &error))
    g_warning("%s: cannot record batch %" G_GINT64_FORMAT " as %s: %s", job->archive, job->batch_id, status,
              error->message);
}

/* Records who paused, resumed or cancelled a running batch. */
static void
cd_service_audit_action(CdJob *job, const gchar *caller, const gchar *action)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchiveUse) use =
      cd_service_use_archive(job->service, job->archive, CD_ARCHIVE_FLAG_NONE, caller, NULL, &error);
  g_autofree gchar *object = g_strdup_printf("batch:%" G_GINT64_FORMAT, job->batch_id);
  if (use == NULL || !cd_archive_audit(use->archive, action, object, NULL, &error))
    g_warning("%s: cannot audit %s of batch %" G_GINT64_FORMAT ": %s", job->archive, action, job->batch_id,
              error->message);
}

static gboolean
cd_service_handle_cancel(CdDBusChartdesk1 *object, GDBusMethodInvocation *invocation, guint id, gpointer user_data)
{
  CdService *self = user_data;
  CdJob *job = cd_service_lookup(self, invocation, id);

  if (job == NULL)
    return TRUE;
  cd_job_log(job, G_LOG_LEVEL_MESSAGE, "batch %u cancelled by %s", id, cd_invocation_caller(invocation));
  if (job->thread != NULL) {
    g_mutex_lock(&self->lock);
    job->pause_requested = FALSE;
    g_mutex_unlock(&self->lock);
    cd_service_audit_action(job, cd_invocation_caller(invocation), "ingest-cancel");
    g_cancellable_cancel(job->cancellable);
  } else if (!cd_job_ended(job)) {
    g_autoptr(CdBatch) empty = cd_batch_new();
    g_autofree gchar *report_json = NULL;
    cd_batch_set_id(empty, job->batch_id);
    cd_batch_set_status(empty, "cancelled");
    g_mutex_lock(&self->lock);
    job->state = CD_JOB_CANCELLED;
    job->report = cd_batch_to_json(empty);
    report_json = cd_service_report_summary(job->report);
    g_mutex_unlock(&self->lock);
    cd_service_audit_state(job, cd_invocation_caller(invocation), "cancelled");
    if (job->hot_folder != NULL)
      cd_hot_folder_batch_ended(job->hot_folder, (const gchar *const *) job->inputs, "cancelled", NULL, NULL);
    cd_dbus_chartdesk1_emit_batch_finished(object, job->id, "cancelled", report_json);
  }
  cd_dbus_chartdesk1_complete_cancel(object, invocation);
  return TRUE;
}

/* Pauses or resumes a batch, and journals it (as @caller) so that a pause
 * outlives a restart of the service. */
static void
cd_service_set_paused(CdService *self, CdJob *job, gboolean paused, const gchar *caller)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchiveUse) use = cd_service_use_archive(self, job->archive, CD_ARCHIVE_FLAG_NONE, caller, NULL, &error);

  if (use == NULL || !cd_archive_set_batch_paused(use->archive, job->batch_id, paused, &error))
    g_warning("%s: cannot journal batch %" G_GINT64_FORMAT " as %s: %s", job->archive, job->batch_id,
              paused ? "paused" : "resumed", error->message);
  /* let go before taking the service lock (the batch's thread takes it
   * while its archive waits) */
  g_clear_pointer(&use, cd_archive_use_free);
  g_mutex_lock(&self->lock);
  job->pause_requested = paused;
  if (job->pipeline != NULL)
    cd_pipeline_set_paused(job->pipeline, paused);
  if (job->state == CD_JOB_RUNNING && paused)
    job->state = CD_JOB_PAUSED;
  else if (job->state == CD_JOB_PAUSED && !paused)
    job->state = job->thread != NULL ? CD_JOB_RUNNING : CD_JOB_QUEUED;
  else if (job->state == CD_JOB_QUEUED && paused)
    job->state = CD_JOB_PAUSED;
  g_mutex_unlock(&self->lock);
}

static gboolean
cd_service_handle_pause(CdDBusChartdesk1 *object, GDBusMethodInvocation *invocation, guint id, gpointer user_data)
{
  CdService *self = user_data;
  CdJob *job = cd_service_lookup(self, invocation, id);

  if (job == NULL)
    return TRUE;
  if (cd_job_ended(job)) {
    g_dbus_method_invocation_return_error(invocation, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "batch %u has ended", id);
    return TRUE;
  }
  cd_service_set_paused(self, job, TRUE, cd_invocation_caller(invocation));
  cd_service_audit_action(job, cd_invocation_caller(invocation), "ingest-pause");
  cd_job_log(job, G_LOG_LEVEL_MESSAGE, "batch %u paused by %s", id, cd_invocation_caller(invocation));
  cd_dbus_chartdesk1_complete_pause(object, invocation);
  cd_service_emit_progress(self, job);
  return TRUE;
}

static gboolean
cd_service_handle_resume(CdDBusChartdesk1 *object, GDBusMethodInvocation *invocation, guint id, gpointer user_data)
{
  CdService *self = user_data;
  CdJob *job = cd_service_lookup(self, invocation, id);

  if (job == NULL)
    return TRUE;
  if (cd_job_ended(job)) {
    g_dbus_method_invocation_return_error(invocation, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "batch %u has ended", id);
    return TRUE;
  }
  cd_service_set_paused(self, job, FALSE, cd_invocation_caller(invocation));
  cd_service_audit_action(job, cd_invocation_caller(invocation), "ingest-resume");
  cd_job_log(job, G_LOG_LEVEL_MESSAGE, "batch %u resumed by %s", id, cd_invocation_caller(invocation));
  cd_dbus_chartdesk1_complete_resume(object, invocation);
  cd_service_emit_progress(self, job);
  cd_service_dispatch(self);
  return TRUE;
}

static gboolean
cd_service_handle_list_batches(CdDBusChartdesk1 *object, GDBusMethodInvocation *invocation, gpointer user_data)
{
  CdService *self = user_data;
  GVariantBuilder builder;

  g_autoptr(GHashTable) archives = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer path, count;
  g_autoptr(GError) denied = NULL;

  if (!cd_service_users_check(self->users, cd_invocation_caller(invocation), CD_PERMISSION_READ_BATCHES,
                              "see batches", &denied)) {
    g_dbus_method_invocation_return_gerror(invocation, denied);
    return TRUE;
  }

  g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
  g_mutex_lock(&self->lock);
  for (guint i = 0; i < self->jobs->len; i++) {
    CdJob *job = g_ptr_array_index(self->jobs, i);
    g_variant_builder_add_value(&builder, cd_job_to_variant(job));
    g_hash_table_insert(archives, g_strdup(job->archive),
                        GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(archives, job->archive)) + 1));
  }
  g_mutex_unlock(&self->lock);
  /* the list names owners and inputs (file names can name patients): a
   * read, audited in each archive it tells about */
  g_hash_table_iter_init(&iter, archives);
  while (g_hash_table_iter_next(&iter, &path, &count)) {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) detail = json_object_new();
    g_autoptr(JsonNode) node = NULL;
    g_autoptr(CdArchiveUse) use =
        cd_service_use_archive(self, path, CD_ARCHIVE_FLAG_NONE, cd_invocation_caller(invocation), NULL, &error);
    json_object_set_int_member(detail, "batches", GPOINTER_TO_UINT(count));
    node = json_node_init_object(json_node_alloc(), detail);
    if (use == NULL || !cd_archive_audit(use->archive, "list-batches", "service", node, &error))
      g_warning("%s: cannot audit ListBatches: %s", (const gchar *) path, error->message);
  }
  cd_dbus_chartdesk1_complete_list_batches(object, invocation, g_variant_builder_end(&builder));
  return TRUE;
}

static gboolean
cd_service_handle_get_report(CdDBusChartdesk1 *object, GDBusMethodInvocation *invocation, guint id, gpointer user_data)
{
  CdService *self = user_data;
  CdJob *job = cd_service_lookup(self, invocation, id);
  g_autofree gchar *report = NULL;

  if (job == NULL)
    return TRUE;
  g_mutex_lock(&self->lock);
  if (job->report != NULL && cd_job_ended(job))
    report = json_to_string(job->report, FALSE);
  g_mutex_unlock(&self->lock);
  if (report == NULL) {
    g_dbus_method_invocation_return_error(invocation, CD_ERROR, CD_ERROR_BUSY, "batch %u has not ended", id);
    return TRUE;
  }
  /* its reasons can name patients: a read like any other */
  cd_service_audit_action(job, cd_invocation_caller(invocation), "view-report");
  cd_dbus_chartdesk1_complete_get_report(object, invocation, report);
  return TRUE;
}

/* Emergency access for the caller: recorded in the directory, and audited
 * in the service's archive so the access report lists it. */
static gboolean
cd_service_handle_break_glass(CdDBusChartdesk1 *object, GDBusMethodInvocation *invocation, const gchar *reason,
                              gpointer user_data)
{
  CdService *self = user_data;
  const gchar *caller = cd_invocation_caller(invocation);
  g_autoptr(GError) error = NULL;
  g_autofree gchar *path = NULL;
  gint64 until;

  until = self->users != NULL
              ? cd_service_users_break_glass(self->users, caller, reason, self->config->break_glass_minutes, &error)
              : 0;
  if (until == 0) {
    if (error == NULL)
      g_set_error_literal(&error, CD_ERROR, CD_ERROR_NOT_SUPPORTED,
                          "break-the-glass needs a service with a user directory ([service] users=)");
    g_dbus_method_invocation_return_gerror(invocation, error);
    return TRUE;
  }
  g_message("break-the-glass for %s: %s", caller, reason);
  path = self->config->archive != NULL ? cd_service_realpath(self->config->archive) : NULL;
  if (path != NULL && g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_autoptr(CdArchiveUse) use = cd_service_use_archive(self, path, CD_ARCHIVE_FLAG_NONE, caller, NULL, &error);
    g_autoptr(JsonObject) detail = json_object_new();
    g_autoptr(JsonNode) node = NULL;
    g_autofree gchar *end = g_strdup_printf("%" G_GINT64_FORMAT, until / G_USEC_PER_SEC);

    json_object_set_string_member(detail, "reason", reason);
    json_object_set_string_member(detail, "until", end);
    node = json_node_init_object(json_node_alloc(), detail);
    if (use == NULL || !cd_archive_audit(use->archive, "break-glass", "service", node, &error))
      g_warning("%s: cannot audit break-the-glass: %s", path, error->message);
  }
  cd_dbus_chartdesk1_complete_break_glass(object, invocation, until / G_USEC_PER_SEC);
  return TRUE;
}

/* --------------------------------------------------- reads for archivists */

typedef enum { CD_READ_SEARCH, CD_READ_DOCUMENT, CD_READ_IMAGE } CdReadKind;

typedef struct {
  CdService *service;
  CdDBusChartdesk1 *object;
  GDBusMethodInvocation *invocation;
  CdReadKind kind;
  gchar *archive;
  GVariant *query;
  gint64 id;
  gchar *purpose;
} CdRead;

static void
cd_read_free(CdRead *read)
{
  g_object_unref(read->object);
  g_object_unref(read->invocation);
  g_free(read->archive);
  g_clear_pointer(&read->query, g_variant_unref);
  g_free(read->purpose);
  g_free(read);
}

/* A GTask thread. The archive is opened for this call with the caller as
 * its actor, so the audit entry the archive writes for every read names the
 * person behind the bus connection, with the purpose they gave. */
static void
cd_read_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  CdRead *read = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CdArchiveUse) use = NULL;
  CdArchive *archive;
  const gchar *path = read->archive; /* resolved and allowed by cd_service_start_read() */

  use = cd_service_use_archive(read->service, path, CD_ARCHIVE_FLAG_NONE, cd_invocation_caller(read->invocation),
                               read->purpose != NULL && read->purpose[0] != '\0' ? read->purpose : NULL, &error);
  if (use == NULL) {
    g_dbus_method_invocation_return_gerror(read->invocation, error);
    return;
  }
  archive = use->archive;
  if (read->kind == CD_READ_SEARCH) {
    CdSearchQuery query = { 0 };
    g_autoptr(GPtrArray) hits = NULL;
    g_autoptr(JsonNode) node = NULL;
    g_autofree gchar *json = NULL;
    g_auto(GStrv) types = NULL;
    guint32 limit = 20, offset = 0;
    g_variant_lookup(read->query, "text", "&s", &query.text);
    g_variant_lookup(read->query, "plain", "b", &query.plain);
    g_variant_lookup(read->query, "mrn", "&s", &query.mrn);
    g_variant_lookup(read->query, "type", "&s", &query.doc_type);
    g_variant_lookup(read->query, "from", "&s", &query.date_from);
    g_variant_lookup(read->query, "to", "&s", &query.date_to);
    g_variant_lookup(read->query, "limit", "u", &limit);
    g_variant_lookup(read->query, "offset", "u", &offset);
    query.limit = limit;
    query.offset = offset;
    if (query.doc_type != NULL) {
      /* read afresh, as workflows are: an edited taxonomy counts at once */
      g_autoptr(CdTaxonomy) taxonomy = cd_taxonomy_new_default(&error);
      if (taxonomy != NULL)
        types = cd_taxonomy_resolve_search(taxonomy, query.doc_type, &error);
      if (types == NULL) {
        g_dbus_method_invocation_return_gerror(read->invocation, error);
        return;
      }
      query.doc_types = (const gchar *const *) types;
    }
    hits = cd_archive_search(archive, &query, &error);
    if (hits == NULL) {
      g_dbus_method_invocation_return_gerror(read->invocation, error);
      return;
    }
    node = cd_search_hits_to_json(hits, query.text);
    json = json_to_string(node, FALSE);
    cd_dbus_chartdesk1_complete_search(read->object, read->invocation, json);
  } else if (read->kind == CD_READ_DOCUMENT) {
    g_autoptr(JsonNode) node = cd_archive_get_document(archive, read->id, &error);
    g_autofree gchar *json = NULL;
    if (node == NULL) {
      g_dbus_method_invocation_return_gerror(read->invocation, error);
      return;
    }
    json = json_to_string(node, FALSE);
    cd_dbus_chartdesk1_complete_get_document(read->object, read->invocation, json);
  } else {
    g_autofree gchar *format = NULL;
    g_autoptr(GBytes) image = cd_archive_get_page_image(archive, read->id, &format, &error);
    if (image == NULL) {
      g_dbus_method_invocation_return_gerror(read->invocation, error);
      return;
    }
    cd_dbus_chartdesk1_complete_get_page_image(
        read->object, read->invocation, g_variant_new_from_bytes(G_VARIANT_TYPE_BYTESTRING, image, TRUE), format);
  }
}

static void
cd_service_start_read(CdService *self, CdDBusChartdesk1 *object, GDBusMethodInvocation *invocation, CdReadKind kind,
                      const gchar *archive, GVariant *query, gint64 id, const gchar *purpose)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *path = cd_service_resolve_archive(self, archive, &error);
  CdRead *read;
  guint32 limit = 20, offset = 0;

  if (path == NULL) {
    g_dbus_method_invocation_return_gerror(invocation, error);
    return;
  }
  /* a caller's paging, bounded: a limit of 4 billion would have the
   * service build every hit of the archive in memory */
  if (query != NULL && ((g_variant_lookup(query, "limit", "u", &limit) && (limit < 1 || limit > 1000)) ||
                        (g_variant_lookup(query, "offset", "u", &offset) && offset > 1000000))) {
    g_dbus_method_invocation_return_error(invocation, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                                          "limit must be from 1 to 1000 and offset from 0 to 1000000 (got %u and %u)",
                                          limit, offset);
    return;
  }
  task = g_task_new(self, NULL, NULL, NULL);
  read = g_new0(CdRead, 1);
  read->service = self;
  read->object = g_object_ref(object);
  read->invocation = g_object_ref(invocation);
  read->kind = kind;
  read->archive = g_steal_pointer(&path);
  read->query = query != NULL ? g_variant_ref(query) : NULL;
  read->id = id;
  read->purpose = g_strdup(purpose);
  if (query != NULL && read->purpose == NULL)
    g_variant_lookup(query, "purpose", "s", &read->purpose);
  g_task_set_task_data(task, read, (GDestroyNotify) cd_read_free);
  g_task_run_in_thread(task, cd_read_thread);
}

static gboolean
cd_service_handle_search(CdDBusChartdesk1 *object, GDBusMethodInvocation *invocation, const gchar *archive,
                         GVariant *query, gpointer user_data)
{
  cd_service_start_read(user_data, object, invocation, CD_READ_SEARCH, archive, query, 0, NULL);
  return TRUE;
}

static gboolean
cd_service_handle_get_document(CdDBusChartdesk1 *object, GDBusMethodInvocation *invocation, const gchar *archive,
                               gint64 id, const gchar *purpose, gpointer user_data)
{
  cd_service_start_read(user_data, object, invocation, CD_READ_DOCUMENT, archive, NULL, id, purpose);
  return TRUE;
}

static gboolean
cd_service_handle_get_page_image(CdDBusChartdesk1 *object, GDBusMethodInvocation *invocation, const gchar *archive,
                                 gint64 id, const gchar *purpose, gpointer user_data)
{
  cd_service_start_read(user_data, object, invocation, CD_READ_IMAGE, archive, NULL, id, purpose);
  return TRUE;
}

/* ---------------------------------------------------------- the object */

/**
 * cd_service_new:
 * @config: (transfer full): the configuration
 * @registry: the plugins, loaded once for the life of the service
 *
 * Returns: (transfer full): a service, not yet on a bus
 */
CdService *
cd_service_new(CdServiceConfig *config, CdRegistry *registry)
{
  CdService *self = g_object_new(CD_TYPE_SERVICE, NULL);

  g_autoptr(GError) error = NULL;

  self->config = config;
  self->registry = g_object_ref(registry);
  /* a directory that is configured but unreadable refuses every call */
  self->users = cd_service_users_new(config, &error);
  if (error != NULL) {
    g_warning("%s: every call is refused", error->message);
    self->users_error = g_strdup(error->message);
  }
  cd_service_register_errors();
  self->skeleton = cd_dbus_chartdesk1_skeleton_new();
  cd_dbus_chartdesk1_set_version(self->skeleton, PACKAGE_VERSION);
  /* properties are read without g-authorize-method: on the system bus,
   * where not every reader may call, the path is not told */
  cd_dbus_chartdesk1_set_default_archive(self->skeleton,
                                         config->archive != NULL && !config->system_bus ? config->archive : "");
  g_signal_connect(self->skeleton, "g-authorize-method", G_CALLBACK(cd_service_authorize), self);
  g_signal_connect(self->skeleton, "handle-start-batch", G_CALLBACK(cd_service_handle_start_batch), self);
  g_signal_connect(self->skeleton, "handle-cancel", G_CALLBACK(cd_service_handle_cancel), self);
  g_signal_connect(self->skeleton, "handle-pause", G_CALLBACK(cd_service_handle_pause), self);
  g_signal_connect(self->skeleton, "handle-resume", G_CALLBACK(cd_service_handle_resume), self);
  g_signal_connect(self->skeleton, "handle-list-batches", G_CALLBACK(cd_service_handle_list_batches), self);
  g_signal_connect(self->skeleton, "handle-get-report", G_CALLBACK(cd_service_handle_get_report), self);
  g_signal_connect(self->skeleton, "handle-break-glass", G_CALLBACK(cd_service_handle_break_glass), self);
  g_signal_connect(self->skeleton, "handle-search", G_CALLBACK(cd_service_handle_search), self);
  g_signal_connect(self->skeleton, "handle-get-document", G_CALLBACK(cd_service_handle_get_document), self);
  g_signal_connect(self->skeleton, "handle-get-page-image", G_CALLBACK(cd_service_handle_get_page_image), self);
  return self;
}

/**
 * cd_service_export:
 * @self: a #CdService
 * @connection: a bus connection
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the object is on the bus
 */
gboolean
cd_service_export(CdService *self, GDBusConnection *connection, GError **error)
{
  g_return_val_if_fail(CD_IS_SERVICE(self), FALSE);
  return g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self->skeleton), connection, CD_SERVICE_OBJECT_PATH,
                                          error);
}

/**
 * cd_service_unexport:
 * @self: a #CdService
 */
void
cd_service_unexport(CdService *self)
{
  g_return_if_fail(CD_IS_SERVICE(self));
  if (self->skeleton != NULL && g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(self->skeleton)))
    g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(self->skeleton));
}
