/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "cd-service-config.h"

G_BEGIN_DECLS

#define CD_TYPE_HOT_FOLDER (cd_hot_folder_get_type())
G_DECLARE_FINAL_TYPE(CdHotFolder, cd_hot_folder, CD, HOT_FOLDER, GObject)

/**
 * CdHotFolderSubmitFunc:
 * @folder: the hot folder
 * @files: (array zero-terminated=1): complete files to ingest, absolute paths
 * @user_data: data given to cd_hot_folder_new()
 *
 * Queues a batch of @files. When it ends, call cd_hot_folder_batch_ended().
 *
 * Returns: %TRUE if the batch was queued (journalled); %FALSE to try again later
 */
typedef gboolean (*CdHotFolderSubmitFunc)(CdHotFolder *folder, const gchar *const *files, gpointer user_data);

CdHotFolder *cd_hot_folder_new(const CdHotFolderConfig *config, CdHotFolderSubmitFunc submit, gpointer user_data);
const CdHotFolderConfig *cd_hot_folder_get_config(CdHotFolder *self);
gboolean cd_hot_folder_start(CdHotFolder *self, GError **error);
void cd_hot_folder_stop(CdHotFolder *self);
gboolean cd_hot_folder_owns(CdHotFolder *self, const gchar *path);
void cd_hot_folder_claim(CdHotFolder *self, const gchar *const *files);
void cd_hot_folder_batch_ended(CdHotFolder *self, const gchar *const *files, const gchar *status, JsonNode *report,
                               const gchar *error_message);

G_END_DECLS
