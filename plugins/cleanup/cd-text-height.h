/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The resolution of a page that does not say (or says something that
 * cannot be true), estimated from the height of its letters. Shared by the
 * cleanup and tesseract plugins (compiled into both), so a workflow
 * without cleanup stages still reads such pages at their real scale.
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

gint cd_text_height_estimate_dpi(PIX *pix, gint *letters);
gboolean cd_text_height_resolution_trusted(CdPage *page);
gint cd_text_height_page_dpi(CdPage *page);

G_END_DECLS
