/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_TYPE_TRAINED_CLASSIFIER (cd_trained_classifier_get_type())
G_DECLARE_FINAL_TYPE(CdTrainedClassifier, cd_trained_classifier, CD, TRAINED_CLASSIFIER, CdClassifier)

G_END_DECLS
