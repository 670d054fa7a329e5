/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-word.h"

G_DEFINE_BOXED_TYPE(CdWord, cd_word, cd_word_copy, cd_word_free)

/**
 * cd_word_new:
 * @text: the recognised text
 * @x: left edge in pixels
 * @y: top edge in pixels
 * @width: width in pixels
 * @height: height in pixels
 * @confidence: confidence, 0 to 100
 * @line: 0-based line number
 *
 * Returns: (transfer full): a new word
 *
 * Since: 0.1
 */
CdWord *
cd_word_new(const gchar *text, gint x, gint y, gint width, gint height, gfloat confidence, guint line)
{
  CdWord *word = g_new0(CdWord, 1);

  g_return_val_if_fail(text != NULL, NULL);

  word->text = g_strdup(text);
  word->x = x;
  word->y = y;
  word->width = width;
  word->height = height;
  word->confidence = confidence;
  word->line = line;
  return word;
}

/**
 * cd_word_copy:
 * @word: a #CdWord
 *
 * Returns: (transfer full): a deep copy of @word
 *
 * Since: 0.1
 */
CdWord *
cd_word_copy(const CdWord *word)
{
  g_return_val_if_fail(word != NULL, NULL);
  return cd_word_new(word->text, word->x, word->y, word->width, word->height, word->confidence, word->line);
}

/**
 * cd_word_free:
 * @word: (nullable): a #CdWord
 *
 * Since: 0.1
 */
void
cd_word_free(CdWord *word)
{
  if (word == NULL)
    return;
  g_free(word->text);
  g_free(word);
}
