/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <chartdesk.h>
#include "cd-service-common.h"

/**
 * cd_service_register_errors:
 *
 * Maps every %CD_ERROR code to a D-Bus error name, both ways, so that a
 * client gets the same code the service had (a malformed query stays
 * %CD_ERROR_QUERY and the command line exits with its usage status).
 */
void
cd_service_register_errors(void)
{
  static const struct {
    CdError code;
    const gchar *name;
  } map[] = {
    { CD_ERROR_FAILED, "Failed" },
    { CD_ERROR_INVALID_ARGUMENT, "InvalidArgument" },
    { CD_ERROR_NOT_FOUND, "NotFound" },
    { CD_ERROR_NOT_SUPPORTED, "NotSupported" },
    { CD_ERROR_INVALID_DATA, "InvalidData" },
    { CD_ERROR_PLUGIN, "Plugin" },
    { CD_ERROR_ABI_MISMATCH, "AbiMismatch" },
    { CD_ERROR_WORKFLOW, "Workflow" },
    { CD_ERROR_ARCHIVE, "Archive" },
    { CD_ERROR_BUSY, "Busy" },
    { CD_ERROR_QUERY, "Query" },
    { CD_ERROR_TIMEOUT, "Timeout" },
    { CD_ERROR_INTERNAL, "Internal" },
    { CD_ERROR_TOO_LARGE, "TooLarge" },
    { CD_ERROR_PERMISSION_DENIED, "PermissionDenied" },
  };
  static gsize done = 0;

  if (g_once_init_enter(&done)) {
    for (guint i = 0; i < G_N_ELEMENTS(map); i++) {
      g_autofree gchar *name = g_strdup_printf(CD_SERVICE_BUS_NAME ".Error.%s", map[i].name);
      g_dbus_error_register_error(CD_ERROR, map[i].code, name);
    }
    g_once_init_leave(&done, 1);
  }
}
