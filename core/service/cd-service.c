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

#include "cd-archive-spool.h"
#include "cd-hot-folder.h"
#include "cd-param-private.h"
#include "cd-service-deliver.h"
#include "cd-service-common.h"
#include "cd-service-private.h"

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

const gchar *const cd_job_state_names[] = { "queued",    "running", "paused",     "finished",
                                            "cancelled", "failed",  "interrupted" };

G_DEFINE_TYPE(CdService, cd_service, G_TYPE_OBJECT)

enum { SIGNAL_DRAINED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST];

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
  cd_service_stop_index_merge(self);
  if (self->web_archive != NULL)
    cd_archive_set_write_notify(self->web_archive->archive, NULL, NULL);
  g_clear_pointer(&self->deliverer, cd_deliverer_free);
  if (self->web != NULL)
    cd_web_server_stop(self->web);
  g_clear_object(&self->web);
  g_clear_pointer(&self->web_archive, cd_archive_use_free);
  g_clear_handle_id(&self->retry_id, g_source_remove);
  g_clear_handle_id(&self->idle_close_id, g_source_remove);
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

/* Says the queue ran dry while the service stops (the `drained` signal). */
void
cd_service_emit_drained(CdService *self)
{
  g_signal_emit(self, signals[SIGNAL_DRAINED], 0);
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

/* Batch events carry their batch and archive as journal fields
 * (CHARTDESK_BATCH=…), so `journalctl CHARTDESK_BATCH=12` finds them. */
void
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

CdJob *
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

gboolean
cd_job_ended(CdJob *job)
{
  return job->state == CD_JOB_FINISHED || job->state == CD_JOB_CANCELLED || job->state == CD_JOB_FAILED ||
         job->state == CD_JOB_INTERRUPTED;
}

/* The members of ListBatches and Progress. Called with the lock held. */
GVariant *
cd_job_to_variant(CdJob *job)
{
  GVariantDict dict;

  g_variant_dict_init(&dict, NULL);
  g_variant_dict_insert(&dict, "id", "u", job->id);
  g_variant_dict_insert(&dict, "archive", "s", job->archive);
  g_variant_dict_insert(&dict, "batch", "x", job->batch_id);
  g_variant_dict_insert(&dict, "workflow", "s", job->workflow);
  g_variant_dict_insert(&dict, "state", "s", cd_job_state_names[job->state]);
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

void
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
  /* the web's event stream shows the batches of the archive it serves */
  if (self->web != NULL && self->config->archive != NULL && g_strcmp0(job->archive, self->config->archive) == 0) {
    guint done, total;
    CdJobState state;
    g_mutex_lock(&self->lock);
    done = job->pages_done;
    total = cd_job_ended(job) ? job->pages_done : 0;
    state = job->state;
    g_mutex_unlock(&self->lock);
    cd_web_server_publish_batch(self->web, job->batch_id, cd_job_state_names[state], done, total);
  }
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
void
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
    /* documents committed since: to the server soon, never waited for */
    cd_deliverer_kick(self->deliverer);
  }
  g_mutex_unlock(&self->lock);
}

/* ------------------------------------------------------------ start-up */

/* The archives the service knows: its own, the hot folders' and those its
 * batches wrote to (the state file), each once, as configured or written. */
GPtrArray *
cd_service_known_archives(CdService *self)
{
  g_autoptr(GPtrArray) archives = g_ptr_array_new_with_free_func(g_free);
  g_autofree gchar *state_file = cd_service_state_file(self);
  g_autofree gchar *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (self->config->archive != NULL)
    g_ptr_array_add(archives, g_strdup(self->config->archive));
  for (guint i = 0; i < self->config->hot_folders->len; i++) {
    CdHotFolderConfig *config = g_ptr_array_index(self->config->hot_folders, i);
    if (config->archive != NULL)
      g_ptr_array_add(archives, g_strdup(config->archive));
  }
  if (g_file_get_contents(state_file, &contents, NULL, NULL))
    lines = g_strsplit(contents, "\n", -1);
  for (guint i = 0; lines != NULL && lines[i] != NULL; i++) {
    if (lines[i][0] != '\0')
      g_ptr_array_add(archives, g_strdup(lines[i]));
  }
  for (guint i = 0; i < archives->len;) {
    gboolean seen = FALSE;
    for (guint j = 0; j < i && !seen; j++)
      seen = g_strcmp0(g_ptr_array_index(archives, j), g_ptr_array_index(archives, i)) == 0;
    if (seen)
      g_ptr_array_remove_index(archives, i);
    else
      i++;
  }
  return g_steal_pointer(&archives);
}

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

/* [archive] server delivers one spool, the service archive: a hot folder
 * writing elsewhere would capture documents the server never gets. */
static gboolean
cd_service_check_delivery(CdService *self, GError **error)
{
  if (self->config->archive_server == NULL)
    return TRUE;
  if (self->config->archive == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                        "[archive] server needs the station's spool: set [service] archive");
    return FALSE;
  }
  for (guint i = 0; i < self->config->hot_folders->len; i++) {
    CdHotFolderConfig *config = g_ptr_array_index(self->config->hot_folders, i);
    if (config->archive != NULL && g_strcmp0(config->archive, self->config->archive) != 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                  "hot folder %s: archive %s is not delivered to [archive] server; with a server, hot folders "
                  "write to the [service] archive (the spool)",
                  config->name, config->archive);
      return FALSE;
    }
  }
  return TRUE;
}

/* A write through the web workstation's archive committed (a review
 * decision): deliver it soon. Any thread, the archive's lock held. */
static void
cd_service_on_archive_write(CdArchive *archive, gpointer user_data)
{
  CdService *self = user_data;
  cd_deliverer_kick(g_atomic_pointer_get(&self->deliverer));
}

/* The Delivery property follows the deliverer (main thread). */
static void
cd_service_on_delivery_changed(CdDeliverer *deliverer, gpointer user_data)
{
  CdService *self = user_data;
  if (self->skeleton != NULL)
    cd_dbus_chartdesk1_set_delivery(self->skeleton, cd_deliverer_get_state(deliverer, !self->config->system_bus));
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
  if (!cd_service_check_delivery(self, error))
    return FALSE;
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

/* [web] listen: the web workstation on the service archive, its users
 * logging in with the passwords of the user directory. Batches it shows
 * live come from the queue (cd_service_emit_progress()). */
static gboolean
cd_service_start_web(CdService *self, GError **error)
{
  g_autoptr(CdWebServer) web = NULL;
  CdArchiveUse *use;

  if (self->config->archive == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                        "[web] listen needs the archive to serve: set [service] archive");
    return FALSE;
  }
  if (self->users == NULL) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                        "[web] listen needs a user directory to log in with ([service] users, or users.conf in "
                        "the state directory)");
    return FALSE;
  }
  use = cd_service_use_archive(self, self->config->archive, CD_ARCHIVE_FLAG_NONE, NULL, NULL, error);
  if (use == NULL)
    return FALSE;
  self->web_archive = use;
  /* review decisions made on the web workstation change delivered
   * documents: the delivery sends them at once, as it does commits */
  cd_archive_set_write_notify(use->archive, cd_service_on_archive_write, self);
  web = cd_web_server_new(use->archive, cd_service_users_get_directory(self->users));
  cd_web_server_set_idle_timeout(web, self->config->web_idle_timeout);
  if (self->config->web_tls_certificate != NULL &&
      !cd_web_server_set_tls_files(web, self->config->web_tls_certificate, self->config->web_tls_key, error))
    return FALSE;
  if (!cd_web_server_listen(web, self->config->web_listen, error))
    return FALSE;
  g_message("web workstation at %s", cd_web_server_get_url(web));
  self->web = g_steal_pointer(&web);
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
  g_autoptr(GPtrArray) archives = NULL;

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

  archives = cd_service_known_archives(self);
  for (guint i = 0; i < archives->len; i++)
    cd_service_resume_archive(self, g_ptr_array_index(archives, i));

  for (guint i = 0; i < self->hot_folders->len; i++) {
    if (!cd_hot_folder_start(g_ptr_array_index(self->hot_folders, i), error))
      return FALSE;
  }
  if (self->config->web_listen != NULL && !cd_service_start_web(self, error))
    return FALSE;
  if (self->config->archive_server != NULL) {
    g_autoptr(GBytes) server_key = NULL;
    CdDeliverer *deliverer;
    /* a bad key file stops the service at once, not every delivery */
    if (self->config->server_audit_key != NULL &&
        (server_key = cd_audit_key_load(self->config->server_audit_key, FALSE, error)) == NULL) {
      g_prefix_error(error, "[archive] server-audit-key: ");
      return FALSE;
    }
    deliverer = cd_deliverer_new(self->config->archive, self->config->archive_server, self->config->station,
                                 self->config->deliver_interval, cd_service_on_delivery_changed, self);
    cd_deliverer_set_audit_key(deliverer, server_key);
    g_atomic_pointer_set(&self->deliverer, deliverer); /* the web workstation's threads kick it */
    cd_service_on_delivery_changed(self->deliverer, self);
    cd_deliverer_start(self->deliverer);
  }
  cd_service_start_index_merge(self);
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
  cd_service_stop_index_merge(self);
  if (self->web != NULL)
    cd_web_server_stop(self->web);
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
  cd_dbus_chartdesk1_set_delivery(self->skeleton, g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
  cd_service_dbus_connect(self);
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
