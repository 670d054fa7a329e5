/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The engine: the SDK (<chartdesk.h>) and what the command line, the service
 * and the tests build on it — workflows, the pipeline, batch reports, the
 * classification engine, MPI readers, and the SQLite archive's full API.
 * Private to this source tree: not installed, not part of the SDK, linked
 * statically (libchartdesk-engine.a) into the executables and the tests.
 */
#pragma once

#include <chartdesk.h>

#include "cd-archive-engine.h"
#include "cd-archive-retention.h"
#include "cd-batch.h"
#include "cd-export.h"
#include "cd-mpi.h"
#include "cd-pipeline.h"
#include "cd-principal.h"
#include "cd-retention-policy.h"
#include "cd-session-store.h"
#include "cd-user-directory.h"
#include "cd-workflow.h"
