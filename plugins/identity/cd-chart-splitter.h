/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_TYPE_CHART_SPLITTER (cd_chart_splitter_get_type())
G_DECLARE_FINAL_TYPE(CdChartSplitter, cd_chart_splitter, CD, CHART_SPLITTER, CdSplitter)

G_END_DECLS
