/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * chartdeskd's queue: shared archives, batches planned, journalled, run on
 * their own threads, paused, resumed and retried; hot folders feeding it.
 */
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
#include "cd-service-deliver.h"
#include "cd-service-private.h"

/* ------------------------------------------------------------- the queue */

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

/* Whether the file at @path is still the one @shared was opened on. An
 * archive restored from a backup, or removed and made again, is another
 * file: an idle connection to the old one must not answer for it. stat()
 * only: an open() and close() of the archive beside the live connection
 * would drop SQLite's POSIX locks on it. */
static gboolean
cd_shared_archive_is_current(CdSharedArchive *shared, const gchar *path)
{
  GStatBuf st;

  if (!shared->is_file)
    return TRUE;
  return g_stat(path, &st) == 0 && st.st_dev == shared->dev && st.st_ino == shared->ino;
}

/* Readies an idle connection to close. One to a file no longer at its
 * path must not checkpoint or delete the `-wal` and `-shm` beside the
 * path: they may be the new file's. */
static void
cd_shared_archive_before_close(CdSharedArchive *shared, const gchar *path)
{
  if (!cd_shared_archive_is_current(shared, path)) {
    g_message("%s: another file is at the archive's path; the connection to the old one is closed", path);
    cd_archive_close_without_checkpoint(shared->archive);
  }
}

/* Closes an idle connection. Called with the archives lock held. */
static void
cd_service_close_archive(CdService *self, CdSharedArchive *shared, const gchar *path)
{
  cd_shared_archive_before_close(shared, path);
  g_hash_table_remove(self->archives, path);
}

/* Closes the archives nobody has used for [service] archive-idle-seconds,
 * and comes back for the next one to fall due. */
static gboolean
cd_service_close_idle_archives(gpointer data)
{
  CdService *self = data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->archives_lock);
  gint64 now = g_get_monotonic_time();
  gint64 idle = (gint64) self->config->archive_idle * G_USEC_PER_SEC;
  gint64 next = G_MAXINT64;
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init(&iter, self->archives);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    CdSharedArchive *shared = value;
    if (shared->users > 0)
      continue;
    if (now - shared->idle_since < idle) {
      next = MIN(next, shared->idle_since + idle);
      continue;
    }
    cd_shared_archive_before_close(shared, key);
    g_hash_table_iter_remove(&iter);
  }
  self->idle_close_id = 0;
  if (next != G_MAXINT64)
    self->idle_close_id = g_timeout_add_seconds((guint) ((next - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC),
                                                cd_service_close_idle_archives, self);
  return G_SOURCE_REMOVE;
}

/* The last use of @shared at @path has ended: the connection closes now
 * with archive-idle-seconds = 0, else once it has been idle that long, so
 * that a reader's next search finds SQLite's page cache warm (at millions
 * of pages a fresh connection reads its b-tree pages anew: hundreds of
 * milliseconds). Called with the archives lock held. */
static void
cd_service_archive_idle(CdService *self, CdSharedArchive *shared, const gchar *path)
{
  if (self->config->archive_idle == 0) {
    cd_service_close_archive(self, shared, path);
    return;
  }
  shared->idle_since = g_get_monotonic_time();
  if (self->idle_close_id == 0)
    self->idle_close_id = g_timeout_add_seconds(self->config->archive_idle, cd_service_close_idle_archives, self);
}

/* Opens, or shares, the one connection to the archive at @path. With
 * CD_ARCHIVE_FLAG_WRITER the use also takes the writer's lock
 * (CD_ERROR_BUSY if another process has it); with an @actor the archive
 * is held for this thread, @actor and @purpose in its audit log, until the
 * use ends. Never call with the service lock held: the use may wait for a
 * batch's commit. */
CdArchiveUse *
cd_service_use_archive(CdService *self, const gchar *path, CdArchiveFlags flags, const gchar *actor,
                       const gchar *purpose, GError **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->archives_lock);
  CdSharedArchive *shared = g_hash_table_lookup(self->archives, path);
  CdArchiveUse *use;

  /* an idle connection to a file that is no longer at @path is let go */
  if (shared != NULL && shared->users == 0 && !cd_shared_archive_is_current(shared, path)) {
    cd_service_close_archive(self, shared, path);
    shared = NULL;
  }
  if (shared == NULL) {
    gboolean existed = g_file_test(path, G_FILE_TEST_EXISTS);
    CdArchive *archive = cd_archive_open(path, flags & CD_ARCHIVE_FLAG_CREATE, error);
    GStatBuf st;
    if (archive == NULL)
      return NULL;
    if (!existed)
      cd_service_archive_created(self, path);
    cd_archive_keep_pages(archive); /* shared by every read and batch while open */
    shared = g_new0(CdSharedArchive, 1);
    shared->archive = archive;
    if (g_stat(path, &st) == 0) {
      shared->is_file = TRUE;
      shared->dev = st.st_dev;
      shared->ino = st.st_ino;
    }
    g_hash_table_insert(self->archives, g_strdup(path), shared);
  }
  if ((flags & CD_ARCHIVE_FLAG_WRITER) != 0) {
    if (shared->writer) {
      g_set_error(error, CD_ERROR, CD_ERROR_BUSY, "%s: another batch of this service is writing to this archive", path);
      return NULL;
    }
    if (!cd_archive_acquire_writer(shared->archive, error)) {
      if (shared->users == 0)
        cd_service_archive_idle(self, shared, path);
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

/* Ends a use: the archive is let go by this thread first; the connection
 * stays open for the next use until it has been idle for
 * archive-idle-seconds (cd_service_archive_idle()). */
void
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
      cd_service_archive_idle(self, shared, path);
  }
  g_mutex_unlock(&self->archives_lock);
  g_object_unref(use->archive);
  g_free(use);
}

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

CdWorkflow *
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
gchar *
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
  state = cd_job_state_names[job->state];
  if (job->report != NULL)
    report_json = cd_service_report_summary(job->report);
  g_mutex_unlock(&self->lock);

  if (!busy) {
    /* the batch's last documents are committed: deliver them */
    cd_deliverer_kick(self->deliverer);
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
void
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
      cd_service_emit_drained(self);
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

gchar *
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

CdJob *
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

/* Resolves a workflow to its file (symlinks resolved): a NAME is looked for
 * as NAME.workflow in the configured workflow-path folders, then where
 * `chartdesk` looks. A caller on the system bus may only name one; on the
 * session bus (the caller is the service's own user) also give an absolute
 * file; the configuration may give a file. Either way the file and its
 * folder must pass cd_service_check_trusted(). */
gchar *
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
gchar *
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
gchar *
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

/* The one validation of a batch, for a D-Bus call, a hot folder and a batch
 * found in an archive's journal at start-up alike: the workflow (by name
 * for a caller, trusted folders only), its options, the sources and the
 * archive. A journal is only as trustworthy as whoever could write the
 * archive, so a journalled batch passes exactly what a call would. */
gboolean
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
CdJob *
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

gboolean
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

CdHotFolder *
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
