/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "cd-archive-spool.h"
#include "cd-engine.h"
#include "cd-service-deliver.h"
#include "postgresql/cd-pg-archive.h"

/**
 * CdDeliverer:
 *
 * One thread that delivers the service archive (the station's spool) to
 * the hospital's server with cd_pg_archive_deliver(): woken after every
 * document and batch the service commits, when another process commits
 * to the spool (`chartdesk review`, `chartdesk ingest`: PRAGMA
 * data_version on its own connection, asked every second while idle),
 * and every deliver-interval seconds. Batches never wait for it: it reads
 * the spool on a connection of its own (SQLite's WAL lets a reader and the
 * batch's writer run at once), and the server's transactions are its
 * alone.
 *
 * While the server is away it says so once (a warning), keeps trying with
 * a backoff that doubles from 1 s up to CD_DELIVER_MAX_BACKOFF_S, and
 * says once that delivery resumed. Nothing of the spool is changed by a
 * delivery, so a failed pass loses nothing; the delivery key on the server
 * makes the retried pass store each document exactly once.
 */

#define CD_DELIVER_MAX_BACKOFF_S 60
/* how often an idle delivery asks the spool whether another process
 * committed to it (PRAGMA data_version: a read of shared memory) */
#define CD_DELIVER_WATCH_US (1 * G_USEC_PER_SEC)

struct _CdDeliverer {
  gchar *spool;
  gchar *server;
  gchar *server_name; /* the URI without its password, for logs and D-Bus */
  gchar *station;
  guint interval_s;
  CdDelivererNotify notify;
  gpointer user_data;
  GMainContext *context; /* where notify runs */
  GThread *thread;
  GCancellable *cancellable;

  /* the thread's own */
  CdArchive *spool_archive;
  CdPgArchive *pg;
  GBytes *audit_key; /* the server chain's, NULL: none */
  gint64 data_version; /* the spool's PRAGMA data_version when the last pass began */
  gint64 changes_mark; /* the server's changes_delivered for this station, at the last look */

  /* guarded by mutex */
  GMutex mutex;
  GCond cond;
  gboolean kicked;
  gboolean stopping;
  gboolean delivering;
  guint failures;          /* passes failed in a row */
  gint64 next_due;         /* monotonic time of the next pass */
  gint64 last_delivered;   /* real time (µs) of the last document stored, 0: none yet */
  gint64 last_pass;        /* real time (µs) of the last pass that ended without error */
  guint64 delivered;       /* documents stored by this service since it started */
  guint64 pages;           /* their pages */
  guint64 duplicates;      /* documents another station had delivered */
  gint64 spool_documents;  /* documents in the spool at the last look */
  gint64 synced_documents; /* of those, how many the server is known to have */
  gint64 pending_changes;  /* spool changes past the server's mark, at the last look */
  gchar *last_error;       /* NULL once a pass succeeded again */
  guint notify_id;
};

CdDeliverer *
cd_deliverer_new(const gchar *spool, const gchar *server, const gchar *station, guint interval_s,
                 CdDelivererNotify notify, gpointer user_data)
{
  CdDeliverer *self = g_new0(CdDeliverer, 1);

  self->spool = g_strdup(spool);
  self->server = g_strdup(server);
  self->server_name = cd_server_display_name(server);
  self->station = g_strdup(station);
  self->interval_s = MAX(interval_s, 1);
  self->notify = notify;
  self->user_data = user_data;
  self->context = g_main_context_ref_thread_default();
  self->cancellable = g_cancellable_new();
  self->kicked = TRUE; /* a first pass at start-up: what was left from before */
  g_mutex_init(&self->mutex);
  g_cond_init(&self->cond);
  return self;
}

void
cd_deliverer_set_audit_key(CdDeliverer *self, GBytes *key)
{
  g_clear_pointer(&self->audit_key, g_bytes_unref);
  self->audit_key = key != NULL ? g_bytes_ref(key) : NULL;
}

static gboolean
cd_deliverer_notify_idle(gpointer data)
{
  CdDeliverer *self = data;

  g_mutex_lock(&self->mutex);
  self->notify_id = 0;
  g_mutex_unlock(&self->mutex);
  if (self->notify != NULL)
    self->notify(self, self->user_data);
  return G_SOURCE_REMOVE;
}

/* Called with the mutex held: the main context is told once, however
 * often the state changes before it runs. */
static void
cd_deliverer_changed_locked(CdDeliverer *self)
{
  g_autoptr(GSource) source = NULL;

  if (self->notify_id != 0 || self->notify == NULL)
    return;
  source = g_idle_source_new();
  g_source_set_callback(source, cd_deliverer_notify_idle, self, NULL);
  self->notify_id = g_source_attach(source, self->context);
}

/* One pass: connects (the first station creates the schema), delivers
 * every document the server does not have from this station. On an error
 * the connection is dropped, to be made again by the next pass. */
static gboolean
cd_deliverer_pass(CdDeliverer *self, CdDeliverStats *stats, GError **error)
{
  gint64 before, changes, mark;

  if (self->spool_archive == NULL) {
    if (!g_file_test(self->spool, G_FILE_TEST_EXISTS))
      return TRUE; /* nothing captured yet */
    self->spool_archive = cd_archive_open(self->spool, CD_ARCHIVE_FLAG_NONE, error);
    if (self->spool_archive == NULL) {
      g_prefix_error(error, "the spool: ");
      return FALSE;
    }
  }
  /* read before the pass: a commit by anyone during it makes another */
  self->data_version = cd_archive_get_data_version(self->spool_archive, NULL);
  before = cd_archive_count_documents(self->spool_archive, error);
  changes = cd_archive_count_changes_after(self->spool_archive, self->changes_mark, error);
  if (before < 0 || changes < 0) {
    g_prefix_error(error, "the spool: ");
    return FALSE;
  }
  g_mutex_lock(&self->mutex);
  self->spool_documents = before;
  self->pending_changes = changes;
  g_mutex_unlock(&self->mutex);
  if (self->pg == NULL) {
    self->pg = cd_pg_archive_open(self->server, CD_ARCHIVE_FLAG_CREATE, error);
    if (self->pg == NULL)
      return FALSE;
    if (self->audit_key != NULL && !cd_pg_archive_set_audit_key(self->pg, self->audit_key, error)) {
      g_clear_pointer(&self->pg, cd_pg_archive_free);
      return FALSE;
    }
  }
  if (!cd_pg_archive_deliver(self->pg, self->spool_archive, self->station, stats, self->cancellable, error)) {
    g_clear_pointer(&self->pg, cd_pg_archive_free);
    /* the documents before the one that failed are on the server */
    g_mutex_lock(&self->mutex);
    self->synced_documents =
        MAX(self->synced_documents, (gint64) (stats->documents + stats->already + stats->duplicates));
    g_mutex_unlock(&self->mutex);
    return FALSE;
  }
  g_mutex_lock(&self->mutex);
  self->synced_documents = MAX(before, (gint64) (stats->documents + stats->already + stats->duplicates));
  g_mutex_unlock(&self->mutex);
  /* the changes still waiting: those committed since the pass read them */
  mark = cd_pg_archive_get_changes_delivered(self->pg, self->station, error);
  if (mark < 0) {
    g_clear_pointer(&self->pg, cd_pg_archive_free);
    return FALSE;
  }
  self->changes_mark = mark;
  changes = cd_archive_count_changes_after(self->spool_archive, mark, error);
  if (changes < 0) {
    g_prefix_error(error, "the spool: ");
    return FALSE;
  }
  g_mutex_lock(&self->mutex);
  self->pending_changes = changes;
  g_mutex_unlock(&self->mutex);
  return TRUE;
}

/* Whether another connection committed to the spool since the last pass
 * began (`chartdesk review` or `chartdesk ingest` in another process, or
 * the service's own connection). Called on the delivery thread, which
 * alone uses its spool connection. */
static gboolean
cd_deliverer_spool_changed(CdDeliverer *self)
{
  gint64 version;

  if (self->spool_archive == NULL)
    return FALSE;
  version = cd_archive_get_data_version(self->spool_archive, NULL);
  return version >= 0 && version != self->data_version;
}

static gpointer
cd_deliverer_thread(gpointer data)
{
  CdDeliverer *self = data;

  g_mutex_lock(&self->mutex);
  while (!self->stopping) {
    CdDeliverStats stats = { 0 };
    g_autoptr(GError) error = NULL;
    gboolean ok;
    gint64 now = g_get_monotonic_time();

    /* a commit wakes a healthy delivery at once; a failing one keeps its
     * backoff, so a batch against an absent server does not try the
     * server after each document */
    if (!(self->kicked && self->failures == 0) && now < self->next_due) {
      gboolean changed;
      g_cond_wait_until(&self->cond, &self->mutex, MIN(self->next_due, now + CD_DELIVER_WATCH_US));
      if (self->stopping || self->kicked || self->failures > 0)
        continue;
      /* another process's commit wakes a healthy delivery as the
       * service's own do */
      g_mutex_unlock(&self->mutex);
      changed = cd_deliverer_spool_changed(self);
      g_mutex_lock(&self->mutex);
      if (changed)
        self->kicked = TRUE;
      continue;
    }
    self->kicked = FALSE;
    self->delivering = TRUE;
    cd_deliverer_changed_locked(self);
    g_mutex_unlock(&self->mutex);

    ok = cd_deliverer_pass(self, &stats, &error);

    g_mutex_lock(&self->mutex);
    self->delivering = FALSE;
    self->delivered += stats.documents;
    self->pages += stats.pages;
    self->duplicates += stats.duplicates;
    if (stats.documents > 0 || stats.duplicates > 0)
      self->last_delivered = g_get_real_time();
    if (ok) {
      if (self->failures > 0)
        g_message("delivery to %s as station %s works again: %" G_GUINT64_FORMAT " documents delivered",
                  self->server_name, self->station, stats.documents);
      else if (stats.documents > 0)
        g_info("delivered %" G_GUINT64_FORMAT " documents (%" G_GUINT64_FORMAT " pages) to %s", stats.documents,
               stats.pages, self->server_name);
      self->failures = 0;
      self->last_pass = g_get_real_time();
      g_clear_pointer(&self->last_error, g_free);
      self->next_due = g_get_monotonic_time() + (gint64) self->interval_s * G_USEC_PER_SEC;
    } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->stopping) {
      /* stopping: what was delivered stays delivered, the rest next time */
    } else {
      g_autofree gchar *message = cd_server_error_message(self->server, error->message);
      guint backoff =
          self->failures >= 6 ? CD_DELIVER_MAX_BACKOFF_S : MIN(1u << self->failures, CD_DELIVER_MAX_BACKOFF_S);
      if (self->failures == 0)
        g_warning("delivery to %s as station %s failed: %s; the documents stay in the spool %s and are delivered "
                  "when the server is back (retrying)",
                  self->server_name, self->station, message, self->spool);
      else
        g_debug("delivery to %s still failing: %s; next try in %u s", self->server_name, message, backoff);
      self->failures++;
      g_free(self->last_error);
      self->last_error = g_steal_pointer(&message);
      self->next_due = g_get_monotonic_time() + (gint64) backoff * G_USEC_PER_SEC;
    }
    cd_deliverer_changed_locked(self);
  }
  g_mutex_unlock(&self->mutex);
  g_clear_pointer(&self->pg, cd_pg_archive_free);
  g_clear_object(&self->spool_archive);
  return NULL;
}

void
cd_deliverer_start(CdDeliverer *self)
{
  g_return_if_fail(self->thread == NULL);
  g_message("delivering %s to %s as station %s (every %u s, and after each commit to it)", self->spool,
            self->server_name, self->station, self->interval_s);
  self->thread = g_thread_new("cd-deliver", cd_deliverer_thread, self);
}

/* A document or a batch was committed to the spool: deliver it soon.
 * Never blocks (any thread). */
void
cd_deliverer_kick(CdDeliverer *self)
{
  if (self == NULL)
    return;
  g_mutex_lock(&self->mutex);
  self->kicked = TRUE;
  g_cond_signal(&self->cond);
  g_mutex_unlock(&self->mutex);
}

/* Stops the thread: a pass in progress ends after the document it is
 * delivering (the server's transaction decides whether that one is in). */
void
cd_deliverer_stop(CdDeliverer *self)
{
  if (self == NULL || self->thread == NULL)
    return;
  g_mutex_lock(&self->mutex);
  self->stopping = TRUE;
  g_cond_signal(&self->cond);
  g_mutex_unlock(&self->mutex);
  g_cancellable_cancel(self->cancellable);
  g_thread_join(g_steal_pointer(&self->thread));
}

void
cd_deliverer_free(CdDeliverer *self)
{
  if (self == NULL)
    return;
  cd_deliverer_stop(self);
  if (self->notify_id != 0) {
    GSource *source = g_main_context_find_source_by_id(self->context, self->notify_id);
    if (source != NULL)
      g_source_destroy(source);
  }
  g_main_context_unref(self->context);
  g_object_unref(self->cancellable);
  g_clear_pointer(&self->audit_key, g_bytes_unref);
  g_mutex_clear(&self->mutex);
  g_cond_clear(&self->cond);
  g_free(self->last_error);
  g_free(self->spool);
  g_free(self->server);
  g_free(self->server_name);
  g_free(self->station);
  g_free(self);
}

/* The state as the Delivery property shows it (a{sv}); counts and times,
 * nothing about patients: properties are read without a check. Without
 * @reveal (the system bus, as DefaultArchive) the server and the error
 * text are left out: they name hosts and paths. */
GVariant *
cd_deliverer_get_state(CdDeliverer *self, gboolean reveal)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->mutex);
  const gchar *state = self->delivering ? "delivering" : self->failures > 0 ? "server-away" : "idle";
  gint64 pending = MAX(self->spool_documents - self->synced_documents, 0);

  g_variant_builder_add(&b, "{sv}", "server", g_variant_new_string(reveal ? self->server_name : ""));
  g_variant_builder_add(&b, "{sv}", "station", g_variant_new_string(self->station));
  g_variant_builder_add(&b, "{sv}", "state", g_variant_new_string(state));
  g_variant_builder_add(&b, "{sv}", "pending-documents", g_variant_new_uint64((guint64) pending));
  g_variant_builder_add(&b, "{sv}", "pending-changes", g_variant_new_uint64((guint64) MAX(self->pending_changes, 0)));
  g_variant_builder_add(&b, "{sv}", "delivered-documents", g_variant_new_uint64(self->delivered));
  g_variant_builder_add(&b, "{sv}", "delivered-pages", g_variant_new_uint64(self->pages));
  g_variant_builder_add(&b, "{sv}", "duplicate-documents", g_variant_new_uint64(self->duplicates));
  g_variant_builder_add(&b, "{sv}", "last-delivered", g_variant_new_int64(self->last_delivered / G_USEC_PER_SEC));
  g_variant_builder_add(&b, "{sv}", "last-pass", g_variant_new_int64(self->last_pass / G_USEC_PER_SEC));
  g_variant_builder_add(&b, "{sv}", "failures", g_variant_new_uint32(self->failures));
  g_variant_builder_add(&b, "{sv}", "last-error",
                        g_variant_new_string(self->last_error == NULL ? ""
                                             : reveal                 ? self->last_error
                                                                      : "the server cannot be reached (see the log)"));
  return g_variant_builder_end(&b);
}
