/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_TYPE_PATIENT_LINK (cd_patient_link_get_type())
G_DECLARE_FINAL_TYPE(CdPatientLink, cd_patient_link, CD, PATIENT_LINK, CdDocStage)

G_END_DECLS
