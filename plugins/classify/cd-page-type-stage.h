/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_FACT_PAGE_TYPE "classify.page-type"             /* s: the page's own type, by the rules */
#define CD_FACT_PAGE_TYPE_SCORE "classify.page-type-score" /* d: its score */

#define CD_TYPE_PAGE_TYPE_STAGE (cd_page_type_stage_get_type())
G_DECLARE_FINAL_TYPE(CdPageTypeStage, cd_page_type_stage, CD, PAGE_TYPE_STAGE, CdPageStage)

G_END_DECLS
