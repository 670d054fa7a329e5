/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "cd-stage.h"

G_BEGIN_DECLS

void cd_stage_set_archive(CdStage *self, CdArchive *archive);
gboolean cd_stage_start(CdStage *self, GError **error);
void cd_stage_stop(CdStage *self);

G_END_DECLS
