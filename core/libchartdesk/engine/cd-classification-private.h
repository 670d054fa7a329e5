/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

typedef struct _CdClassification CdClassification;

CdClassification *cd_classification_new(CdTaxonomy *taxonomy);
void cd_classification_free(CdClassification *self);
void cd_classification_add(CdClassification *self, const gchar *classifier, gdouble weight, GPtrArray *scores);
void cd_classification_add_failure(CdClassification *self, const gchar *classifier, const gchar *message);
const gchar *cd_classification_decide(CdClassification *self, gdouble *confidence);
gdouble cd_classification_get_score(CdClassification *self, const gchar *type);
GPtrArray *cd_classification_get_ranking(CdClassification *self);
GPtrArray *cd_classification_get_notes(CdClassification *self);
GVariant *cd_classification_to_variant(CdClassification *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdClassification, cd_classification_free)

G_END_DECLS
