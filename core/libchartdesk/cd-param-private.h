/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Stage options as text: how workflows, `--set`, the service's StartBatch
 * options and the batch journal write an option's value, and the one
 * parser of `STAGE.OPTION=VALUE` assignments they all use.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

gboolean cd_param_value_from_string(GParamSpec *pspec, const gchar *str, GValue *value, GError **error);
gchar *cd_param_value_to_string(const GValue *value);
gboolean cd_param_parse_assignment(const gchar *assignment, gchar **stage, gchar **option, gchar **value,
                                   GError **error);

G_END_DECLS
