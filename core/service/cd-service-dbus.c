/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * chartdeskd's D-Bus methods: StartBatch, Cancel, Pause, Resume,
 * ListBatches, GetReport, and the reads for archivists (Search, GetDocument,
 * GetPageImage).
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
#include "cd-service-private.h"

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

  if (!cd_service_users_check(self->users, cd_invocation_caller(invocation), CD_PERMISSION_READ_BATCHES, "see batches",
                              &denied)) {
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
    g_autoptr(CdSearchResult) result = NULL;
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
    g_variant_lookup(read->query, "status", "&s", &query.status);
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
    result = cd_archive_search_ex(archive, &query, &error);
    if (result == NULL) {
      g_dbus_method_invocation_return_gerror(read->invocation, error);
      return;
    }
    node = cd_search_result_to_hits_json(result, &query);
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

/* Routes the interface's methods to their handlers, behind the caller
 * check. */
void
cd_service_dbus_connect(CdService *self)
{
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
}
