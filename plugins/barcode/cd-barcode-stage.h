/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_TYPE_BARCODE_STAGE (cd_barcode_stage_get_type())
G_DECLARE_FINAL_TYPE(CdBarcodeStage, cd_barcode_stage, CD, BARCODE_STAGE, CdPageStage)

G_END_DECLS
