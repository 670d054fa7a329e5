/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Chartdesk plugin SDK: the one header a plugin includes.
 */
#pragma once

#define __CHARTDESK_H_INSIDE__

#include "cd-archive.h"
#include "cd-classifier.h"
#include "cd-doc-stage.h"
#include "cd-document.h"
#include "cd-error.h"
#include "cd-image.h"
#include "cd-page-stage.h"
#include "cd-page.h"
#include "cd-patient.h"
#include "cd-pdf-writer.h"
#include "cd-plugin.h"
#include "cd-registry.h"
#include "cd-source.h"
#include "cd-splitter.h"
#include "cd-stage.h"
#include "cd-taxonomy.h"
#include "cd-text-model.h"
#include "cd-version.h"
#include "cd-word.h"

#undef __CHARTDESK_H_INSIDE__
