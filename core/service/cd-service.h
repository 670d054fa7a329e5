/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "cd-engine.h"
#include "cd-service-config.h"

G_BEGIN_DECLS

#define CD_TYPE_SERVICE (cd_service_get_type())
G_DECLARE_FINAL_TYPE(CdService, cd_service, CD, SERVICE, GObject)

CdService *cd_service_new(CdServiceConfig *config, CdRegistry *registry);
gboolean cd_service_export(CdService *self, GDBusConnection *connection, GError **error);
void cd_service_unexport(CdService *self);
gboolean cd_service_check(CdService *self, GError **error);
gboolean cd_service_start(CdService *self, GError **error);
void cd_service_shutdown(CdService *self);
gboolean cd_service_is_drained(CdService *self);

G_END_DECLS
