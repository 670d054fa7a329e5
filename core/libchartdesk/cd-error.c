/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-error.h"

G_DEFINE_QUARK(chartdesk - error - quark, cd_error)
