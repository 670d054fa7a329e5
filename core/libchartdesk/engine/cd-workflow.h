/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_TYPE_WORKFLOW (cd_workflow_get_type())
G_DECLARE_FINAL_TYPE(CdWorkflow, cd_workflow, CD, WORKFLOW, GObject)

CdWorkflow *cd_workflow_new_from_file(CdRegistry *registry, const gchar *filename, GError **error);
CdWorkflow *cd_workflow_new_from_data(CdRegistry *registry, const gchar *data, const gchar *origin, GError **error);
gchar *cd_workflow_find(const gchar *name_or_path, GError **error);
gchar *cd_workflow_find_file(const gchar *file, GError **error);

const gchar *cd_workflow_get_name(CdWorkflow *self);
const gchar *cd_workflow_get_description(CdWorkflow *self);
const gchar *cd_workflow_get_origin(CdWorkflow *self);
guint cd_workflow_get_workers(CdWorkflow *self);
void cd_workflow_set_workers(CdWorkflow *self, guint workers);
gboolean cd_workflow_set_option(CdWorkflow *self, const gchar *stage, const gchar *option, const gchar *value,
                                GError **error);
GPtrArray *cd_workflow_get_stage_names(CdWorkflow *self, CdStageKind kind);
gboolean cd_workflow_get_type_threshold(CdWorkflow *self, const gchar *type, gdouble *threshold);
GPtrArray *cd_workflow_get_type_threshold_names(CdWorkflow *self);

CdSource *cd_workflow_create_source(CdWorkflow *self, GError **error);
GPtrArray *cd_workflow_create_stages(CdWorkflow *self, CdStageKind kind, GError **error);
CdSplitter *cd_workflow_create_splitter(CdWorkflow *self, GError **error);

G_END_DECLS
