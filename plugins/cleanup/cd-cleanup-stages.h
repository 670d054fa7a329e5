/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_TYPE_BINARIZE_STAGE (cd_binarize_stage_get_type())
G_DECLARE_FINAL_TYPE(CdBinarizeStage, cd_binarize_stage, CD, BINARIZE_STAGE, CdPageStage)

#define CD_TYPE_CLEAN_STAGE (cd_clean_stage_get_type())
G_DECLARE_FINAL_TYPE(CdCleanStage, cd_clean_stage, CD, CLEAN_STAGE, CdPageStage)

#define CD_TYPE_BLANK_STAGE (cd_blank_stage_get_type())
G_DECLARE_FINAL_TYPE(CdBlankStage, cd_blank_stage, CD, BLANK_STAGE, CdPageStage)

#define CD_TYPE_ORIENT_STAGE (cd_orient_stage_get_type())
G_DECLARE_FINAL_TYPE(CdOrientStage, cd_orient_stage, CD, ORIENT_STAGE, CdPageStage)

#define CD_TYPE_DESKEW_STAGE (cd_deskew_stage_get_type())
G_DECLARE_FINAL_TYPE(CdDeskewStage, cd_deskew_stage, CD, DESKEW_STAGE, CdPageStage)

G_END_DECLS
