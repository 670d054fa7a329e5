/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Corrections of Tesseract's readings that are right on every page they
 * apply to, done on the text and the word boxes alike.
 */
#pragma once

#include <chartdesk.h>

G_BEGIN_DECLS

guint cd_ocr_fix_pronoun_text(gchar *text);
guint cd_ocr_fix_pronoun_words(GPtrArray *words);

G_END_DECLS
