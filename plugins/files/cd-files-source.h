/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

#define CD_TYPE_FILES_SOURCE (cd_files_source_get_type())
G_DECLARE_FINAL_TYPE(CdFilesSource, cd_files_source, CD, FILES_SOURCE, CdSource)

G_END_DECLS
