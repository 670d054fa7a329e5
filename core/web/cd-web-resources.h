/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The web server's compiled-in resources (glib-compile-resources, manual
 * registration: registered once by the server's class, looked up in these
 * bundles by name).
 */
#pragma once

#include <gio/gio.h>

void cd_web_static_register_resource(void);
void cd_web_api_register_resource(void);
GResource *cd_web_static_get_resource(void);
GResource *cd_web_api_get_resource(void);
