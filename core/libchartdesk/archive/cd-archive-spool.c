/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "cd-archive-private.h"
#include "cd-archive-spool.h"
#include "postgresql/cd-pg-archive.h"

/**
 * cd_archive_count_documents:
 * @self: a #CdArchive
 * @error: return location for a #GError
 *
 * How many documents the archive holds: a station's measure of what its
 * spool has committed, against which the documents delivered to the
 * server are counted (chartdeskd's pending documents). A count, no
 * patient data: not audited, no permission needed.
 *
 * Returns: the number of documents, or -1 with @error set
 */
gint64
cd_archive_count_documents(CdArchive *self, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), -1);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  stmt = cd_archive_prepare(self, "SELECT count(*) FROM documents", error);
  if (stmt == NULL)
    return -1;
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    cd_archive_set_error(self, error, "cannot count the documents");
    return -1;
  }
  return sqlite3_column_int64(stmt, 0);
}

/**
 * cd_archive_count_changes_after:
 * @self: a #CdArchive
 * @after: a change number: the server's `changes_delivered` for this spool
 * @error: return location for a #GError
 *
 * How many documents (and pages set aside) changed after their delivery
 * and wait to be delivered again: the changes numbered past @after
 * (document_changes, one row a document however often it changed).
 * chartdeskd's pending changes. A count: not audited, no permission.
 *
 * Returns: the number of changes (0 for an archive before schema 11), or
 *   -1 with @error set
 */
gint64
cd_archive_count_changes_after(CdArchive *self, gint64 after, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) table = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), -1);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  table = cd_archive_prepare(self, "SELECT 1 FROM sqlite_schema WHERE name = 'document_changes'", error);
  if (table == NULL)
    return -1;
  if (sqlite3_step(table) != SQLITE_ROW)
    return 0;
  stmt = cd_archive_prepare(self, "SELECT count(*) FROM document_changes WHERE seq > ?", error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64(stmt, 1, after);
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    cd_archive_set_error(self, error, "cannot count the changes");
    return -1;
  }
  return sqlite3_column_int64(stmt, 0);
}

/**
 * cd_archive_get_data_version:
 * @self: a #CdArchive
 * @error: return location for a #GError
 *
 * SQLite's `PRAGMA data_version` on this archive's connection: it differs
 * from the last value read whenever another connection, in this process
 * or another (`chartdesk review`, `chartdesk ingest`), committed to the
 * file meanwhile. Read from shared memory in WAL mode: cheap enough to
 * ask every second.
 *
 * Returns: the value, or -1 with @error set
 */
gint64
cd_archive_get_data_version(CdArchive *self, GError **error)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail(CD_IS_ARCHIVE(self), -1);
  locker = g_rec_mutex_locker_new(cd_archive_get_mutex(self));
  stmt = cd_archive_prepare(self, "PRAGMA data_version", error);
  if (stmt == NULL)
    return -1;
  if (sqlite3_step(stmt) != SQLITE_ROW) {
    cd_archive_set_error(self, error, "cannot read the data version");
    return -1;
  }
  return sqlite3_column_int64(stmt, 0);
}

/* A URI as logs and D-Bus show it: the password is left out, whether in
 * the user part (`user:secret@`) or in a `password=` parameter. */
gchar *
cd_server_display_name(const gchar *uri)
{
  GString *out = g_string_new(NULL);
  const gchar *scheme_end = strstr(uri, "://");
  const gchar *rest = uri;

  if (scheme_end != NULL) {
    const gchar *auth = scheme_end + 3;
    const gchar *host_end = auth + strcspn(auth, "/?");
    const gchar *at = g_strstr_len(auth, host_end - auth, "@");
    g_string_append_len(out, uri, auth - uri);
    rest = auth;
    if (at != NULL) {
      const gchar *colon = g_strstr_len(auth, at - auth, ":");
      g_string_append_len(out, auth, (colon != NULL ? colon : at) - auth);
      rest = at;
    }
  }
  /* parameters: password=… is dropped */
  {
    const gchar *query = strchr(rest, '?');
    g_auto(GStrv) params = NULL;
    gboolean first = TRUE;
    if (query == NULL) {
      g_string_append(out, rest);
      return g_string_free(out, FALSE);
    }
    g_string_append_len(out, rest, query - rest);
    params = g_strsplit(query + 1, "&", -1);
    for (guint i = 0; params[i] != NULL; i++) {
      if (g_str_has_prefix(params[i], "password="))
        continue;
      g_string_append_c(out, first ? '?' : '&');
      g_string_append(out, params[i]);
      first = FALSE;
    }
  }
  return g_string_free(out, FALSE);
}

/* @message about the server @uri, for logs, D-Bus and the terminal: the
 * URI it may start with (`URI: …`) left out, and wherever else it appears
 * replaced by cd_server_display_name(), so a password in the URI is never
 * shown. */
gchar *
cd_server_error_message(const gchar *uri, const gchar *message)
{
  g_autofree gchar *display = cd_server_display_name(uri);
  g_autofree gchar *prefix = g_strdup_printf("%s: ", uri);
  g_autofree gchar *display_prefix = g_strdup_printf("%s: ", display);
  g_autoptr(GString) out = NULL;

  while (g_str_has_prefix(message, prefix))
    message += strlen(prefix);
  while (g_str_has_prefix(message, display_prefix))
    message += strlen(display_prefix);
  /* the library names the server its own way: the caller names it */
  if (cd_archive_location_is_server(message)) {
    const gchar *end = strstr(message, ": ");
    if (end != NULL && strchr(message, ' ') == end + 1)
      message = end + 2;
  }
  out = g_string_new(message);
  g_string_replace(out, uri, display, 0);
  return g_string_free(g_steal_pointer(&out), FALSE);
}
