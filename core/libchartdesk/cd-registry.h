/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include "cd-plugin.h"
#include "cd-stage.h"

G_BEGIN_DECLS

#define CD_TYPE_REGISTRY (cd_registry_get_type())
G_DECLARE_FINAL_TYPE(CdRegistry, cd_registry, CD, REGISTRY, GObject)

CdRegistry *cd_registry_new(void);
void cd_registry_add_search_path(CdRegistry *self, const gchar *path);
void cd_registry_add_default_paths(CdRegistry *self);
GPtrArray *cd_registry_get_search_paths(CdRegistry *self);
void cd_registry_scan(CdRegistry *self);
CdPlugin *cd_registry_load_file(CdRegistry *self, const gchar *filename, GError **error);
GPtrArray *cd_registry_get_plugins(CdRegistry *self);
GPtrArray *cd_registry_get_failed(CdRegistry *self);
GType cd_registry_find_stage(CdRegistry *self, const gchar *name, GError **error);
CdPlugin *cd_registry_get_stage_plugin(CdRegistry *self, const gchar *name);
GPtrArray *cd_registry_list_stages(CdRegistry *self);
JsonNode *cd_registry_to_json(CdRegistry *self);

G_END_DECLS
