/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

void cd_ptr_array_sort_strings(GPtrArray *array);
gchar *cd_file_sha256(const gchar *path, guint64 *size, GError **error);
gchar *cd_now_iso8601(void);
gchar *cd_json_to_string(JsonNode *node);
JsonNode *cd_json_strv_new(const gchar *const *strv);
void cd_json_add_string_or_null(JsonBuilder *b, const gchar *member, const gchar *value);
gboolean cd_running_uninstalled(void);

G_END_DECLS
