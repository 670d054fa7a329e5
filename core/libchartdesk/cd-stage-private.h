/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "cd-stage.h"

G_BEGIN_DECLS

G_END_DECLS
