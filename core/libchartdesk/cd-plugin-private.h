/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "cd-plugin.h"

G_BEGIN_DECLS

CdPlugin *cd_plugin_new(const gchar *filename);
gboolean cd_plugin_open(CdPlugin *self, const gchar *const *allow, GError **error);
gboolean cd_plugin_init_types(CdPlugin *self, GError **error);
void cd_plugin_set_error(CdPlugin *self, const GError *error);

G_END_DECLS
