/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What chartdeskd and its clients share: the bus name, the object path, and
 * how our errors cross the bus.
 */
#pragma once

#include <gio/gio.h>

#include "cd-dbus-generated.h"

G_BEGIN_DECLS

#define CD_SERVICE_BUS_NAME "org.chartdesk.Chartdesk1"
#define CD_SERVICE_OBJECT_PATH "/org/chartdesk/Chartdesk1"

void cd_service_register_errors(void);

G_END_DECLS
