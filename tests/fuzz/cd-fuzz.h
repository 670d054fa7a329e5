/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What every fuzz target shares: the libFuzzer entry points (a target is
 * built twice, linked with libFuzzer by scripts/fuzz and with
 * cd-fuzz-driver.c for the regression tests of the ordinary suite) and the
 * few helpers they need.
 */
#pragma once

#include "cd-engine.h"
#include <stddef.h>
#include <stdint.h>

#include "config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private temporary folder for the life of the process, removed at exit
 * (a target that crashes leaves it behind, with the input in it). */
const gchar *cd_fuzz_tmpdir(void);

/* A registry with only the named plugins of this build tree loaded
 * (NULL-terminated list of folder names under plugins/). The plugins that
 * link Tesseract are never among them: they load OpenMP, whose threads
 * Debian 12's LeakSanitizer cannot survive, and no parser needs them. */
CdRegistry *cd_fuzz_registry(const gchar *const *plugins);

/* Drops messages, info and debug output (every unreadable input is a
 * g_message: millions of lines in a run) and makes criticals fatal: a
 * g_return_if_fail() reached from input is a bug to report. */
void cd_fuzz_init_logging(void);
