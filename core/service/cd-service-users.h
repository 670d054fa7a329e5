/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * chartdeskd's gatekeeping: D-Bus callers mapped to users of the directory.
 */
#pragma once

#include "cd-engine.h"
#include "cd-service-config.h"

G_BEGIN_DECLS

typedef struct _CdServiceUsers CdServiceUsers;

CdServiceUsers *cd_service_users_new(const CdServiceConfig *config, GError **error);
void cd_service_users_free(CdServiceUsers *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdServiceUsers, cd_service_users_free)
CdPrincipal *cd_service_users_authenticate(CdServiceUsers *self, guint32 uid, GError **error);
CdUserDirectory *cd_service_users_get_directory(CdServiceUsers *self);
CdPrincipal *cd_service_users_lookup(CdServiceUsers *self, const gchar *actor);
gboolean cd_service_users_check(CdServiceUsers *self, const gchar *actor, CdPermission permission, const gchar *what,
                                GError **error);
gint64 cd_service_users_break_glass(CdServiceUsers *self, const gchar *actor, const gchar *reason, guint minutes,
                                    GError **error);

G_END_DECLS
