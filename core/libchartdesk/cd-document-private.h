/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "cd-document.h"

G_BEGIN_DECLS

void cd_document_set_id(CdDocument *self, gint64 id);

G_END_DECLS
