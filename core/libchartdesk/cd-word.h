/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__CHARTDESK_H_INSIDE__) && !defined(CD_COMPILATION)
#error "Only <chartdesk.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

#define CD_TYPE_WORD (cd_word_get_type())

/**
 * CdWord:
 * @text: the word as recognised, UTF-8
 * @x: left edge in pixels of the processed page image
 * @y: top edge in pixels
 * @width: width in pixels
 * @height: height in pixels
 * @confidence: recognition confidence, 0 to 100
 * @line: 0-based number of the text line the word is on
 *
 * One recognised word and where it stands on the page image that was stored.
 *
 * Since: 0.1
 */
typedef struct {
  gchar *text;
  gint x;
  gint y;
  gint width;
  gint height;
  gfloat confidence;
  guint line;
} CdWord;

GType cd_word_get_type(void) G_GNUC_CONST;
CdWord *cd_word_new(const gchar *text, gint x, gint y, gint width, gint height, gfloat confidence, guint line);
CdWord *cd_word_copy(const CdWord *word);
void cd_word_free(CdWord *word);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdWord, cd_word_free)

G_END_DECLS
