/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include <glib.h>
#include <leptonica/allheaders.h>

G_BEGIN_DECLS

/* Leptonica's destructors take a pointer to the pointer; these adapt them to
 * g_autoptr() so every PIX in the tree is released by scope. */
static inline void
cd_pix_unref(PIX *pix)
{
  pixDestroy(&pix);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PIX, cd_pix_unref)

static inline void
cd_boxa_unref(BOXA *boxa)
{
  boxaDestroy(&boxa);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BOXA, cd_boxa_unref)

static inline void
cd_numa_unref(NUMA *numa)
{
  numaDestroy(&numa);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NUMA, cd_numa_unref)

G_END_DECLS
