/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

#define CD_ERROR (cd_error_quark())

/**
 * CdError:
 * @CD_ERROR_FAILED: generic failure
 * @CD_ERROR_INVALID_ARGUMENT: a value given by the user is not acceptable
 * @CD_ERROR_NOT_FOUND: a file, plugin, stage, document or patient does not exist
 * @CD_ERROR_NOT_SUPPORTED: a format or feature is not supported
 * @CD_ERROR_INVALID_DATA: input is corrupt, truncated or not what it claims
 * @CD_ERROR_PLUGIN: a plugin module could not be loaded
 * @CD_ERROR_ABI_MISMATCH: a plugin was built for another SDK ABI
 * @CD_ERROR_WORKFLOW: a workflow file is invalid
 * @CD_ERROR_ARCHIVE: the archive cannot be opened, read or written
 * @CD_ERROR_BUSY: another process holds the archive for writing
 * @CD_ERROR_QUERY: a search query is malformed
 * @CD_ERROR_TIMEOUT: an operation ran over its time limit
 * @CD_ERROR_INTERNAL: a stage broke its contract (a bug, not bad input)
 * @CD_ERROR_TOO_LARGE: an input exceeds a configured size limit
 * @CD_ERROR_PERMISSION_DENIED: the user acting lacks the permission an
 *   operation needs (the message names it and the roles that grant it);
 *   Since: 0.3
 *
 * Error codes of the %CD_ERROR domain.
 *
 * Since: 0.1
 */
typedef enum {
  CD_ERROR_FAILED,
  CD_ERROR_INVALID_ARGUMENT,
  CD_ERROR_NOT_FOUND,
  CD_ERROR_NOT_SUPPORTED,
  CD_ERROR_INVALID_DATA,
  CD_ERROR_PLUGIN,
  CD_ERROR_ABI_MISMATCH,
  CD_ERROR_WORKFLOW,
  CD_ERROR_ARCHIVE,
  CD_ERROR_BUSY,
  CD_ERROR_QUERY,
  CD_ERROR_TIMEOUT,
  CD_ERROR_INTERNAL,
  CD_ERROR_TOO_LARGE,
  CD_ERROR_PERMISSION_DENIED,
} CdError;

GQuark cd_error_quark(void);

G_END_DECLS
