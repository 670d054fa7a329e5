/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "cd-archive-private.h"
#include "cd-archive-spool.h"

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
