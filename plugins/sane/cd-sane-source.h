/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_TYPE_SANE_SOURCE (cd_sane_source_get_type())
G_DECLARE_FINAL_TYPE(CdSaneSource, cd_sane_source, CD, SANE_SOURCE, CdSource)

GPtrArray *cd_sane_list_devices(GError **error);

G_END_DECLS
