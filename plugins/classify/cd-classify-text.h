/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gchar *cd_classify_text_join(const gchar *text);
gchar *cd_classify_text_flatten(const gchar *text);
gchar *cd_classify_text_squeeze(const gchar *flat);
gboolean cd_classify_text_find_approx(const gchar *haystack, const gchar *needle, guint max_edits);

G_END_DECLS
