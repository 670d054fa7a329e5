/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * chartdeskd's night work: the search index of every archive it knows
 * merged into one segment, a small step at a time, at [service]
 * index-merge-time (decisions: "chartdeskd merges the search index at
 * night").
 */
#include "config.h"

#include "cd-service-private.h"

/* Index pages one step writes, and so how long a reader may wait for the
 * shared connection: about 0.14–0.27 s at 10 M pages, by the whole
 * merge's 138–265 s over the index's 974,833 pages (not timed step by
 * step). */
#define CD_MERGE_STEP_PAGES 1000

/* Seconds from now to the next @time_of_day (local time), at least 1. */
static guint
cd_seconds_until(gint time_of_day)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autoptr(GDateTime) midnight =
      g_date_time_new_local(g_date_time_get_year(now), g_date_time_get_month(now), g_date_time_get_day_of_month(now),
                            0, 0, 0);
  g_autoptr(GDateTime) today = g_date_time_add_seconds(midnight, time_of_day);
  g_autoptr(GDateTime) next = NULL;
  GTimeSpan wait;

  if (g_date_time_compare(today, now) > 0)
    next = g_date_time_ref(today);
  else
    next = g_date_time_add_days(today, 1);
  wait = g_date_time_difference(next, now) / G_TIME_SPAN_SECOND;
  return (guint) CLAMP(wait, 1, 2 * 24 * 3600);
}

/* Whether a batch of this service waits for or writes to @path: the merge
 * gives way to it for tonight. */
static gboolean
cd_service_archive_has_batch(CdService *self, const gchar *path)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->lock);

  for (guint i = 0; i < self->jobs->len; i++) {
    CdJob *job = g_ptr_array_index(self->jobs, i);
    if ((job->state == CD_JOB_QUEUED || job->state == CD_JOB_RUNNING) && g_strcmp0(job->archive, path) == 0)
      return TRUE;
  }
  return FALSE;
}

/* The segments of @path's index, read as the service: -1 if it cannot be
 * opened. A use with an actor holds the archive's connection for this
 * thread, so none is kept across steps. */
static gint
cd_service_index_segments(CdService *self, const gchar *path, GError **error)
{
  g_autoptr(CdArchiveUse) use = cd_service_use_archive(self, path, CD_ARCHIVE_FLAG_NONE, "chartdeskd", NULL, error);

  return use != NULL ? cd_archive_search_index_segments(use->archive) : -1;
}

/* Merges @path's index step by step until it is one segment, the service
 * stops or a batch wants the archive; audits the night's work once. */
static void
cd_service_merge_archive(CdService *self, const gchar *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(JsonNode) detail = NULL;
  g_autoptr(CdArchiveUse) last = NULL;
  g_autofree gchar *stopped = NULL; /* why the night's merge ended early */
  gint before, after;
  guint steps = 0;
  gint64 start = g_get_monotonic_time();

  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return;
  before = cd_service_index_segments(self, path, &error);
  if (before < 0 && error != NULL)
    g_warning("%s: cannot merge the search index: %s", path, error->message);
  if (before <= 1)
    return;
  for (;;) {
    g_autoptr(CdArchiveUse) use = NULL;
    gboolean more = FALSE;

    if (g_atomic_int_get(&self->merge_stop)) {
      stopped = g_strdup("the service stopped");
      break;
    }
    if (cd_service_archive_has_batch(self, path)) {
      stopped = g_strdup("a batch wanted the archive");
      break;
    }
    use = cd_service_use_archive(self, path, CD_ARCHIVE_FLAG_WRITER, "chartdeskd", "index merge", &error);
    if (use == NULL || !cd_archive_merge_search_index_step(use->archive, CD_MERGE_STEP_PAGES, &more, &error)) {
      /* another writer, most likely: the next night goes on */
      stopped = g_strdup(error->message);
      g_clear_error(&error);
      break;
    }
    steps++;
    if (!more)
      break;
    g_clear_pointer(&use, cd_archive_use_free);
    /* the connection is free between steps: let a waiting reader have it */
    g_usleep(2 * G_TIME_SPAN_MILLISECOND);
  }
  last = cd_service_use_archive(self, path, CD_ARCHIVE_FLAG_NONE, "chartdeskd", "index merge", &error);
  if (last == NULL) {
    g_warning("%s: cannot audit the index merge: %s", path, error->message);
    return;
  }
  after = cd_archive_search_index_segments(last->archive);
  g_message("%s: search index merge: %d segments before, %d after, %u steps, %.1f s; %s", path, before, after, steps,
            (g_get_monotonic_time() - start) / 1e6, stopped != NULL ? stopped : "done");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "segments_before");
  json_builder_add_int_value(b, before);
  json_builder_set_member_name(b, "segments_after");
  json_builder_add_int_value(b, after);
  json_builder_set_member_name(b, "steps");
  json_builder_add_int_value(b, steps);
  json_builder_set_member_name(b, "ended");
  json_builder_add_string_value(b, stopped != NULL ? stopped : "done");
  json_builder_end_object(b);
  detail = json_builder_get_root(b);
  if (!cd_archive_audit(last->archive, "merge-search-index", "archive", detail, &error))
    g_warning("%s: cannot audit the index merge: %s", path, error->message);
}

/* The merge's thread: every known archive in turn. */
static gpointer
cd_service_merge_run(gpointer data)
{
  CdService *self = data;
  g_autoptr(GPtrArray) archives = cd_service_known_archives(self);

  for (guint i = 0; i < archives->len && !g_atomic_int_get(&self->merge_stop); i++) {
    g_autofree gchar *real = cd_service_realpath(g_ptr_array_index(archives, i));
    if (real != NULL)
      cd_service_merge_archive(self, real);
  }
  g_atomic_int_set(&self->merge_done, TRUE);
  return NULL;
}

static gboolean cd_service_merge_due(gpointer data);

static void
cd_service_schedule_merge(CdService *self)
{
  self->merge_id = g_timeout_add_seconds(cd_seconds_until(self->config->index_merge_time), cd_service_merge_due, self);
}

/* The time has come: one thread merges every known archive in turn (the
 * previous night's, if still at work, goes on instead). */
static gboolean
cd_service_merge_due(gpointer data)
{
  CdService *self = data;

  self->merge_id = 0;
  if (self->stopping)
    return G_SOURCE_REMOVE;
  if (self->merge_thread != NULL && g_atomic_int_get(&self->merge_done)) {
    g_thread_join(g_steal_pointer(&self->merge_thread));
    g_atomic_int_set(&self->merge_done, FALSE);
  }
  if (self->merge_thread == NULL)
    self->merge_thread = g_thread_new("index-merge", cd_service_merge_run, self);
  cd_service_schedule_merge(self);
  return G_SOURCE_REMOVE;
}

/**
 * cd_service_start_index_merge:
 * @self: a #CdService
 *
 * Arms the nightly merge of the search indexes ([service]
 * index-merge-time; nothing with `never`).
 */
void
cd_service_start_index_merge(CdService *self)
{
  if (self->config->index_merge_time < 0 || self->merge_id != 0)
    return;
  cd_service_schedule_merge(self);
}

/**
 * cd_service_stop_index_merge:
 * @self: a #CdService
 *
 * Disarms the nightly merge and waits for a merge at work to end its
 * step.
 */
void
cd_service_stop_index_merge(CdService *self)
{
  g_clear_handle_id(&self->merge_id, g_source_remove);
  g_atomic_int_set(&self->merge_stop, TRUE);
  if (self->merge_thread != NULL)
    g_thread_join(g_steal_pointer(&self->merge_thread));
}
