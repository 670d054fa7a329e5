/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

#include "cd-archive-engine.h"
#include "cd-batch.h"
#include "cd-workflow.h"

G_BEGIN_DECLS

/**
 * CdProgress:
 * @pages_done: pages that reached the end of the pipeline
 * @inputs_done: input files finished
 * @inputs_total: input files expected, 0 if unknown
 * @path: (nullable): the file being worked on
 * @elapsed: seconds since the batch started
 *
 * Since: 0.1
 */
typedef struct {
  guint pages_done;
  guint inputs_done;
  guint inputs_total;
  const gchar *path;
  gdouble elapsed;
} CdProgress;

/**
 * CdProgressFunc:
 * @progress: where the batch stands
 * @user_data: data given to cd_pipeline_set_progress_func()
 *
 * Called on the thread that runs the batch, after each page.
 *
 * Since: 0.1
 */
typedef void (*CdProgressFunc)(const CdProgress *progress, gpointer user_data);

#define CD_TYPE_PIPELINE (cd_pipeline_get_type())
G_DECLARE_FINAL_TYPE(CdPipeline, cd_pipeline, CD, PIPELINE, GObject)

CdPipeline *cd_pipeline_new(CdWorkflow *workflow, CdArchive *archive);
void cd_pipeline_set_taxonomy(CdPipeline *self, CdTaxonomy *taxonomy);
void cd_pipeline_set_progress_func(CdPipeline *self, CdProgressFunc func, gpointer user_data);
guint cd_pipeline_get_n_workers(CdPipeline *self);
void cd_pipeline_set_batch_id(CdPipeline *self, gint64 batch_id);
void cd_pipeline_set_paused(CdPipeline *self, gboolean paused);
gboolean cd_pipeline_get_paused(CdPipeline *self);
CdBatch *cd_pipeline_run(CdPipeline *self, const gchar *const *inputs, GCancellable *cancellable, GError **error);

G_END_DECLS
