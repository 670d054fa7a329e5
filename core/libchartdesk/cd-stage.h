/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _CdArchive CdArchive;

/**
 * CdStageKind:
 * @CD_STAGE_KIND_SOURCE: produces pages (files, scanners)
 * @CD_STAGE_KIND_PAGE: works on one page at a time, in parallel
 * @CD_STAGE_KIND_SPLITTER: decides where documents start, in scan order
 * @CD_STAGE_KIND_DOCUMENT: works on a whole document, in scan order
 * @CD_STAGE_KIND_CLASSIFIER: scores document types for a document
 * @CD_STAGE_KIND_SINK: takes archived documents out: #CdExporter, run by
 *   `chartdesk export`
 *
 * The kinds of stage a plugin can provide; each has its own base type.
 *
 * Since: 0.1
 */
typedef enum {
  CD_STAGE_KIND_SOURCE,
  CD_STAGE_KIND_PAGE,
  CD_STAGE_KIND_SPLITTER,
  CD_STAGE_KIND_DOCUMENT,
  CD_STAGE_KIND_CLASSIFIER,
  CD_STAGE_KIND_SINK,
} CdStageKind;

#define CD_TYPE_STAGE (cd_stage_get_type())
G_DECLARE_DERIVABLE_TYPE(CdStage, cd_stage, CD, STAGE, GObject)

/**
 * CdStageClass:
 * @parent_class: the parent class
 * @start: prepare for work (load models, open devices); called once per
 *   instance, on the thread that will use it, before any page
 * @stop: release what @start took; called on the same thread
 *
 * The base of every stage kind. Options are GObject properties, installed
 * with a default, a blurb and %G_PARAM_STATIC_STRINGS; workflows set them by
 * name before @start.
 *
 * Since: 0.1
 */
struct _CdStageClass {
  GObjectClass parent_class;

  gboolean (*start)(CdStage *self, GError **error);
  void (*stop)(CdStage *self);

  /*< private >*/
  gpointer padding[14];
};

void cd_stage_class_set_metadata(CdStageClass *klass, const gchar *name, const gchar *description);
const gchar *cd_stage_class_get_name(CdStageClass *klass);
const gchar *cd_stage_class_get_description(CdStageClass *klass);
CdStageKind cd_stage_type_get_kind(GType type);
const gchar *cd_stage_kind_to_string(CdStageKind kind);

const gchar *cd_stage_get_name(CdStage *self);
CdStageKind cd_stage_get_kind(CdStage *self);
gboolean cd_stage_get_enabled(CdStage *self);
CdArchive *cd_stage_get_archive(CdStage *self);
void cd_stage_set_archive(CdStage *self, CdArchive *archive);
gboolean cd_stage_start(CdStage *self, GError **error);
void cd_stage_stop(CdStage *self);

G_END_DECLS
