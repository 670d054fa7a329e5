/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_TYPE_RULES_CLASSIFIER (cd_rules_classifier_get_type())
G_DECLARE_FINAL_TYPE(CdRulesClassifier, cd_rules_classifier, CD, RULES_CLASSIFIER, CdClassifier)

void cd_rules_classifier_set_default_rules(const gchar *path);

G_END_DECLS
