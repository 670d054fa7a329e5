/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

#define CD_TYPE_TAXONOMY (cd_taxonomy_get_type())
G_DECLARE_FINAL_TYPE(CdTaxonomy, cd_taxonomy, CD, TAXONOMY, GObject)

CdTaxonomy *cd_taxonomy_new_from_data(const gchar *data, const gchar *origin, GError **error);
CdTaxonomy *cd_taxonomy_new_from_file(const gchar *filename, GError **error);
CdTaxonomy *cd_taxonomy_new_default(GError **error);
gchar *cd_taxonomy_find(GError **error);

const gchar *cd_taxonomy_get_origin(CdTaxonomy *self);
GPtrArray *cd_taxonomy_get_types(CdTaxonomy *self, gboolean include_retired);
const gchar *cd_taxonomy_lookup(CdTaxonomy *self, const gchar *label);
const gchar *const *cd_taxonomy_get_former_names(CdTaxonomy *self, const gchar *type);
gchar **cd_taxonomy_resolve_search(CdTaxonomy *self, const gchar *label, GError **error);
gboolean cd_taxonomy_is_retired(CdTaxonomy *self, const gchar *type);
const gchar *cd_taxonomy_get_display_name(CdTaxonomy *self, const gchar *type);
const gchar *cd_taxonomy_get_loinc(CdTaxonomy *self, const gchar *type);
const gchar *cd_taxonomy_get_description(CdTaxonomy *self, const gchar *type);
gdouble cd_taxonomy_get_threshold(CdTaxonomy *self, const gchar *type);
const gchar *cd_taxonomy_get_fallback(CdTaxonomy *self);

G_END_DECLS
