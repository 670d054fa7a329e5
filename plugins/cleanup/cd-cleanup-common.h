/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <chartdesk.h>
#include <tesseract/capi.h>

G_BEGIN_DECLS

static inline void
cd_pixa_unref(PIXA *pixa)
{
  pixaDestroy(&pixa);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PIXA, cd_pixa_unref)

static inline void
cd_box_unref(BOX *box)
{
  boxDestroy(&box);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BOX, cd_box_unref)

#define CD_CLEANUP_DEFAULT_DPI 300

gint cd_cleanup_page_dpi(CdPage *page);
PIX *cd_cleanup_grey(PIX *pix);
PIX *cd_cleanup_sauvola(PIX *grey, gint dpi, guint window, gdouble k, GError **error);
PIX *cd_cleanup_binary(PIX *pix, gint dpi, GError **error);
PIX *cd_cleanup_rotate_orth(PIX *pix, gint degrees);
PIX *cd_cleanup_at_most_300(PIX *bin, gint dpi, gint *out_dpi);
gint cd_cleanup_band_height(PIX *bin, gint dpi);
gint cd_cleanup_inkiest_band(PIX *bin, gint band);
gdouble cd_cleanup_read_score(TessBaseAPI *api, PIX *bin, gint dpi, gint turn, gint top, gdouble *mean_conf);

TessBaseAPI *cd_cleanup_tess_new(const gchar *datapath, const gchar *language, const gchar *noun, const gchar *purpose,
                                 const gchar *option, GError **error);
void cd_cleanup_tess_free(TessBaseAPI **api);

G_END_DECLS
