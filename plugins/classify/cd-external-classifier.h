/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_TYPE_EXTERNAL_CLASSIFIER (cd_external_classifier_get_type())
G_DECLARE_FINAL_TYPE(CdExternalClassifier, cd_external_classifier, CD, EXTERNAL_CLASSIFIER, CdClassifier)

JsonNode *cd_external_classifier_document_to_json(CdDocument *document, CdTaxonomy *taxonomy, gboolean words);

G_END_DECLS
