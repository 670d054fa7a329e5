/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

/* One Kodak patch code found on a page, in the page's own pixels. */
typedef struct {
  gchar payload[8]; /* PATCH1, PATCH2, PATCH3, PATCH4, PATCH6 or PATCHT */
  gint x, y, width, height;
  gint orientation; /* direction the bars are read in: 0 left to right, 90 top to bottom, 180, 270 */
} CdPatchCode;

GArray *cd_patch_code_find(PIX *pix, gint xres, gint yres);

G_END_DECLS
