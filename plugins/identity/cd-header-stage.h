/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_TYPE_HEADER_STAGE (cd_header_stage_get_type())
G_DECLARE_FINAL_TYPE(CdHeaderStage, cd_header_stage, CD, HEADER_STAGE, CdPageStage)

G_END_DECLS
