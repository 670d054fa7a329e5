/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Scans made by the tests that run chartdeskd (service, pg-service):
 * G4 TIFFs of bilevel pages, each page different from every other page of
 * the test (its content hash too). Needs Leptonica.
 */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <leptonica/allheaders.h>

/* A G4 TIFF of @n_pages bilevel pages, each different. */
static inline void
cd_test_make_tiff(const gchar *path, guint n_pages, guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed(seed);

  for (guint p = 0; p < n_pages; p++) {
    PIX *pix = pixCreate(240, 160, 1);
    for (guint i = 0; i < 400; i++)
      pixSetPixel(pix, g_rand_int_range(rand, 0, 240), g_rand_int_range(rand, 0, 160), 1);
    g_assert_cmpint(pixWriteTiff(path, pix, IFF_TIFF_G4, p == 0 ? "w" : "a"), ==, 0);
    pixDestroy(&pix);
  }
}

/* @parent/@name with @n_files such TIFFs of @n_pages each, scan-0000.tif
 * onwards; returns the folder. */
static inline gchar *
cd_test_make_inputs(const gchar *parent, const gchar *name, guint n_files, guint n_pages, guint32 seed)
{
  gchar *dir = g_build_filename(parent, name, NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  for (guint i = 0; i < n_files; i++) {
    g_autofree gchar *base = g_strdup_printf("scan-%04u.tif", i);
    g_autofree gchar *path = g_build_filename(dir, base, NULL);
    cd_test_make_tiff(path, n_pages, seed * 100000 + i);
  }
  return dir;
}
