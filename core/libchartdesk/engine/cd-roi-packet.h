/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "cd-archive-engine.h"

G_BEGIN_DECLS

/* The name of the cover letter template, found with cd_workflow_find_file(). */
#define CD_ROI_COVER_TEMPLATE "roi-cover-letter.txt"

gchar *cd_roi_render_template(const gchar *template_text, JsonObject *manifest, GError **error);
GBytes *cd_roi_packet_build(CdArchive *archive, JsonNode *manifest, const gchar *template_path, GError **error);

G_END_DECLS
