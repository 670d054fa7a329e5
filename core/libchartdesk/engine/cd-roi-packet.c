/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "cd-error.h"
#include "cd-image.h"
#include "cd-roi-packet.h"
#include "cd-workflow.h"

/*
 * The release-of-information packet: one PDF made from the manifest
 * cd_archive_roi_prepare_release() gives (or cd_archive_roi_get_packet()
 * gives back): a cover letter from the hospital's template, an inventory
 * of the documents, then the documents' pages, each page stamped with a
 * running Bates number and the footer "Released to RECIPIENT on DATE —
 * request N".
 *
 * Redaction is burnt into the page image's pixels, and every word whose
 * box touches a redacted rectangle is left out of the invisible text
 * layer: nothing of a redacted word is in the file.
 *
 * The same manifest makes the same bytes: the cover letter is rendered
 * once and kept in the manifest, the PDF's dates come from the release
 * time, and nothing else varies (see docs/decisions.md).
 */

#define CD_ROI_LINES_PER_PAGE 52 /* text pages: lines of 10 pt on Letter within the margins */
#define CD_ROI_LINE_CHARS 88     /* wrapped at this many characters */

/* ------------------------------------------------------------ text */

static const gchar *
cd_roi_member(JsonObject *obj, const gchar *member)
{
  if (obj == NULL)
    return NULL;
  return json_object_get_string_member_with_default(obj, member, NULL);
}

/* "YYYY-MM-DD" of an ISO 8601 time. */
static gchar *
cd_roi_day(const gchar *iso)
{
  return g_strndup(iso != NULL ? iso : "", 10);
}

static gchar *
cd_roi_patient_text(JsonObject *m)
{
  JsonObject *p = json_object_get_object_member(m, "patient");
  const gchar *family = cd_roi_member(p, "family");
  const gchar *given = cd_roi_member(p, "given");
  const gchar *dob = cd_roi_member(p, "dob");
  g_autoptr(GString) s = g_string_new(NULL);

  if (family != NULL || given != NULL)
    g_string_append_printf(s, "%s%s%s, ", family != NULL ? family : "", family != NULL && given != NULL ? ", " : "",
                           given != NULL ? given : "");
  g_string_append_printf(s, "MRN %s", cd_roi_member(p, "mrn"));
  if (dob != NULL)
    g_string_append_printf(s, ", born %s", dob);
  return g_string_free(g_steal_pointer(&s), FALSE);
}

static gchar *
cd_roi_recipient_text(JsonObject *m)
{
  JsonObject *r = json_object_get_object_member(m, "recipient");
  const gchar *address = cd_roi_member(r, "address");

  return g_strdup_printf("%s%s%s", cd_roi_member(r, "name"), address != NULL ? "\n" : "",
                         address != NULL ? address : "");
}

/* One line a document: position, type, date, title, pages. */
static gchar *
cd_roi_documents_text(JsonObject *m)
{
  JsonArray *docs = json_object_get_array_member(m, "documents");
  g_autoptr(GString) s = g_string_new(NULL);

  for (guint i = 0; i < json_array_get_length(docs); i++) {
    JsonObject *d = json_array_get_object_element(docs, i);
    const gchar *title = cd_roi_member(d, "title");
    guint pages = json_array_get_length(json_object_get_array_member(d, "pages"));
    if (i > 0)
      g_string_append_c(s, '\n');
    g_string_append_printf(s, "  %u. %s, %s%s%s (%u page%s)", i + 1,
                           cd_roi_member(d, "type") != NULL ? cd_roi_member(d, "type") : "document",
                           cd_roi_member(d, "date") != NULL ? cd_roi_member(d, "date") : "undated",
                           title != NULL ? ": " : "", title != NULL ? title : "", pages, pages == 1 ? "" : "s");
  }
  return g_string_free(g_steal_pointer(&s), FALSE);
}

/**
 * cd_roi_render_template:
 * @template_text: the cover letter template
 * @manifest: the packet's manifest
 * @error: return location for a #GError
 *
 * Fills `${recipient}`, `${patient}`, `${purpose}`, `${request}`,
 * `${date}` and `${documents}`; lines starting with `#` are comments. An
 * unknown or unclosed placeholder fails with %CD_ERROR_INVALID_DATA
 * naming it and its line, so a typo never reaches a recipient.
 *
 * Returns: (transfer full): the letter, or %NULL with @error set
 */
gchar *
cd_roi_render_template(const gchar *template_text, JsonObject *manifest, GError **error)
{
  g_auto(GStrv) lines = g_strsplit(template_text, "\n", -1);
  g_autoptr(GString) out = g_string_new(NULL);
  g_autofree gchar *recipient = cd_roi_recipient_text(manifest);
  g_autofree gchar *patient = cd_roi_patient_text(manifest);
  g_autofree gchar *date = cd_roi_day(cd_roi_member(manifest, "released"));
  g_autofree gchar *documents = cd_roi_documents_text(manifest);
  g_autofree gchar *request = NULL;
  const gchar *names[] = { "recipient", "patient", "purpose", "request", "date", "documents" };
  const gchar *values[G_N_ELEMENTS(names)];

  request = g_strdup_printf("%" G_GINT64_FORMAT " from %s; authorisation: %s",
                            json_object_get_int_member(manifest, "request"), cd_roi_member(manifest, "requester"),
                            cd_roi_member(manifest, "authorisation"));
  values[0] = recipient;
  values[1] = patient;
  values[2] = cd_roi_member(manifest, "purpose");
  values[3] = request;
  values[4] = date;
  values[5] = documents;
  for (guint n = 0; lines[n] != NULL; n++) {
    const gchar *p = lines[n];
    if (p[0] == '#')
      continue;
    /* a final newline leaves an empty last piece: no line of its own */
    if (lines[n + 1] == NULL && p[0] == '\0')
      break;
    while (*p != '\0') {
      const gchar *start = strstr(p, "${");
      const gchar *end;
      gboolean known = FALSE;

      if (start == NULL) {
        g_string_append(out, p);
        break;
      }
      g_string_append_len(out, p, start - p);
      end = strchr(start, '}');
      if (end == NULL) {
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "cover letter template, line %u: '${' is not closed",
                    n + 1);
        return NULL;
      }
      for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        if (strlen(names[i]) == (gsize) (end - start - 2) && strncmp(start + 2, names[i], end - start - 2) == 0) {
          g_string_append(out, values[i] != NULL ? values[i] : "");
          known = TRUE;
        }
      }
      if (!known) {
        g_autofree gchar *name = g_strndup(start, end - start + 1);
        g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                    "cover letter template, line %u: unknown placeholder %s (known: ${recipient}, ${patient}, "
                    "${purpose}, ${request}, ${date}, ${documents})",
                    n + 1, name);
        return NULL;
      }
      p = end + 1;
    }
    g_string_append_c(out, '\n');
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Splits text into lines of at most CD_ROI_LINE_CHARS characters, at
 * spaces where it can. */
static void
cd_roi_wrap(GPtrArray *out, const gchar *text)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++) {
    const gchar *p = lines[i];
    if (lines[i + 1] == NULL && p[0] == '\0')
      break;
    do {
      glong len = g_utf8_strlen(p, -1);
      const gchar *cut, *space = NULL;
      if (len <= CD_ROI_LINE_CHARS) {
        g_ptr_array_add(out, g_strdup(p));
        break;
      }
      cut = g_utf8_offset_to_pointer(p, CD_ROI_LINE_CHARS);
      for (const gchar *q = p; q < cut; q = g_utf8_next_char(q)) {
        if (*q == ' ')
          space = q;
      }
      if (space != NULL && space > p)
        cut = space;
      g_ptr_array_add(out, g_strndup(p, cut - p));
      p = cut;
      while (*p == ' ')
        p++;
    } while (*p != '\0');
  }
}

/* Text lines cut into pages. */
static GPtrArray *
cd_roi_paginate(GPtrArray *lines)
{
  GPtrArray *pages = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);

  for (guint i = 0; i < lines->len || (i == 0 && lines->len == 0); i += CD_ROI_LINES_PER_PAGE) {
    g_autoptr(GStrvBuilder) page = g_strv_builder_new();
    for (guint j = i; j < lines->len && j < i + CD_ROI_LINES_PER_PAGE; j++)
      g_strv_builder_add(page, g_ptr_array_index(lines, j));
    g_ptr_array_add(pages, g_strv_builder_end(page));
    if (lines->len == 0)
      break;
  }
  return pages;
}

static gchar *
cd_roi_bates(const gchar *prefix, guint n)
{
  return g_strdup_printf("%s%06u", prefix, n);
}

/* The inventory: one line a document with its Bates range, paginated.
 * Its page count depends only on the number of documents, so the first
 * document's Bates number is known before it is written. */
static GPtrArray *
cd_roi_inventory(JsonObject *m, guint first_document_page)
{
  JsonArray *docs = json_object_get_array_member(m, "documents");
  const gchar *prefix = cd_roi_member(m, "bates_prefix");
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
  guint next = first_document_page;

  g_ptr_array_add(lines, g_strdup_printf("Inventory of the records released, request %" G_GINT64_FORMAT,
                                         json_object_get_int_member(m, "request")));
  g_ptr_array_add(lines, g_strdup(""));
  for (guint i = 0; i < json_array_get_length(docs); i++) {
    JsonObject *d = json_array_get_object_element(docs, i);
    JsonArray *pages = json_object_get_array_member(d, "pages");
    guint n = json_array_get_length(pages);
    guint redacted = 0;
    g_autofree gchar *first = cd_roi_bates(prefix, next);
    g_autofree gchar *last = cd_roi_bates(prefix, next + n - 1);
    g_autofree gchar *line = NULL;
    const gchar *title = cd_roi_member(d, "title");

    for (guint j = 0; j < n; j++) {
      JsonArray *r = json_object_get_array_member(json_array_get_object_element(pages, j), "redactions");
      if (r != NULL && json_array_get_length(r) > 0)
        redacted++;
    }
    line = g_strdup_printf("%u. %s-%s  %s  %s  %u p.%s", i + 1, first, last,
                           cd_roi_member(d, "type") != NULL ? cd_roi_member(d, "type") : "document",
                           cd_roi_member(d, "date") != NULL ? cd_roi_member(d, "date") : "undated", n,
                           redacted > 0 ? "  redacted" : "");
    /* one line a document, cut rather than wrapped (see above) */
    if (title != NULL) {
      g_autofree gchar *with = g_strdup_printf("%s  %s", line, title);
      g_free(line);
      line = g_utf8_substring(with, 0, MIN(g_utf8_strlen(with, -1), CD_ROI_LINE_CHARS));
    }
    g_ptr_array_add(lines, g_steal_pointer(&line));
    next += n;
  }
  return cd_roi_paginate(lines);
}

/* ------------------------------------------------------------ pages */

/* Blacks out the rectangles in a copy of the page image. */
static PIX *
cd_roi_burn(PIX *src, JsonArray *rects)
{
  g_autoptr(PIX) pix = NULL;
  gint depth;

  if (pixGetColormap(src) != NULL)
    pix = pixRemoveColormap(src, REMOVE_CMAP_BASED_ON_SRC);
  else
    pix = pixCopy(NULL, src);
  if (pix == NULL)
    return NULL;
  depth = pixGetDepth(pix);
  for (guint i = 0; rects != NULL && i < json_array_get_length(rects); i++) {
    JsonArray *r = json_array_get_array_element(rects, i);
    /* in 1 bpp images a set bit is black; in grey and colour, zero is */
    pixRasterop(pix, json_array_get_int_element(r, 0), json_array_get_int_element(r, 1),
                json_array_get_int_element(r, 2), json_array_get_int_element(r, 3), depth == 1 ? PIX_SET : PIX_CLR,
                NULL, 0, 0);
  }
  return g_steal_pointer(&pix);
}

static gboolean
cd_roi_overlaps(gint x, gint y, gint w, gint h, JsonArray *r)
{
  gint rx = json_array_get_int_element(r, 0), ry = json_array_get_int_element(r, 1);
  gint rw = json_array_get_int_element(r, 2), rh = json_array_get_int_element(r, 3);

  return x < rx + rw && rx < x + w && y < ry + rh && ry < y + h;
}

/* The words of the text layer: the page's words (as stored: [x, y, w, h,
 * conf, line, text]) less every one that touches a redaction. */
static GPtrArray *
cd_roi_kept_words(JsonArray *words, JsonArray *rects, guint *removed)
{
  GPtrArray *kept = g_ptr_array_new_with_free_func((GDestroyNotify) cd_word_free);

  *removed = 0;
  for (guint i = 0; words != NULL && i < json_array_get_length(words); i++) {
    JsonArray *w = json_array_get_array_element(words, i);
    gint x, y, wd, ht;
    gboolean hidden = FALSE;

    if (w == NULL || json_array_get_length(w) < 7)
      continue;
    x = json_array_get_int_element(w, 0);
    y = json_array_get_int_element(w, 1);
    wd = json_array_get_int_element(w, 2);
    ht = json_array_get_int_element(w, 3);
    for (guint j = 0; rects != NULL && j < json_array_get_length(rects) && !hidden; j++)
      hidden = cd_roi_overlaps(x, y, wd, ht, json_array_get_array_element(rects, j));
    if (hidden) {
      (*removed)++;
      continue;
    }
    g_ptr_array_add(kept, cd_word_new(json_array_get_string_element(w, 6), x, y, wd, ht,
                                      json_array_get_double_element(w, 4), json_array_get_int_element(w, 5)));
  }
  return kept;
}

/* The page image for the packet, redactions burnt in; its hash checked by
 * the archive against the manifest's. */
static PIX *
cd_roi_page_pix(CdArchive *archive, gint64 request_id, JsonObject *page, GError **error)
{
  g_autoptr(GBytes) data = NULL;
  g_autoptr(PIX) pix = NULL;
  gint64 page_id = json_object_get_int_member(page, "id");
  gsize size;
  const guint8 *bytes;
  PIX *burnt;

  data = cd_archive_roi_get_page_image(archive, request_id, page_id, cd_roi_member(page, "image_sha256"), NULL,
                                       error);
  if (data == NULL)
    return NULL;
  bytes = g_bytes_get_data(data, &size);
  pix = pixReadMem(bytes, size);
  if (pix == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "page %" G_GINT64_FORMAT ": the stored image cannot be decoded",
                page_id);
    return NULL;
  }
  burnt = cd_roi_burn(pix, json_object_get_array_member(page, "redactions"));
  if (burnt == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "page %" G_GINT64_FORMAT ": cannot copy the image", page_id);
    return NULL;
  }
  return burnt;
}

/* ------------------------------------------------------------ the PDF */

/* The PDF writer's side: text pages, image pages with an invisible text
 * layer, and the stamps. Waiting for CdPdfWriter (issue 16, part 1). */
typedef struct {
  guint pages;
} CdRoiPdf;

static void
cd_roi_pdf_free(CdRoiPdf *pdf)
{
  g_free(pdf);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdRoiPdf, cd_roi_pdf_free)

static CdRoiPdf *
cd_roi_pdf_new(JsonObject *manifest, GError **error)
{
  g_set_error_literal(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED,
                      "packets need the PDF writer (CdPdfWriter), which this build does not have yet");
  return NULL;
}

static gboolean
cd_roi_pdf_add_text_page(CdRoiPdf *pdf, const gchar *const *lines, const gchar *bates, const gchar *footer,
                         GError **error)
{
  pdf->pages++;
  return TRUE;
}

static gboolean
cd_roi_pdf_add_image_page(CdRoiPdf *pdf, PIX *pix, gint xres, gint yres, GPtrArray *words, const gchar *bates,
                          const gchar *footer, GError **error)
{
  pdf->pages++;
  return TRUE;
}

static GBytes *
cd_roi_pdf_finish(CdRoiPdf *pdf, GError **error)
{
  g_set_error_literal(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED, "no PDF writer");
  return NULL;
}

/**
 * cd_roi_packet_build:
 * @archive: the archive the manifest is of
 * @manifest: from cd_archive_roi_prepare_release() (completed here: `cover`,
 *   `pages`, `bates_first`, `bates_last`), or cd_archive_roi_get_packet()
 *   (its `cover` used as it is)
 * @template_path: (nullable): the cover letter template; %NULL for
 *   `roi-cover-letter.txt` on the workflow path. Not read when the
 *   manifest has its cover letter already.
 * @error: return location for a #GError
 *
 * Makes the packet PDF.
 *
 * Returns: (transfer full): the PDF, or %NULL with @error set
 */
GBytes *
cd_roi_packet_build(CdArchive *archive, JsonNode *manifest, const gchar *template_path, GError **error)
{
  JsonObject *m;
  JsonArray *docs;
  g_autoptr(GPtrArray) cover_lines = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) cover_pages = NULL;
  g_autoptr(GPtrArray) inventory = NULL;
  g_autoptr(CdRoiPdf) pdf = NULL;
  g_autofree gchar *footer = NULL;
  g_autofree gchar *day = NULL;
  const gchar *prefix;
  gint64 request_id;
  guint n_doc_pages = 0, n_inventory_pages, total, sheet = 0;

  g_return_val_if_fail(CD_IS_ARCHIVE(archive), NULL);
  g_return_val_if_fail(manifest != NULL && JSON_NODE_HOLDS_OBJECT(manifest), NULL);
  m = json_node_get_object(manifest);
  request_id = json_object_get_int_member(m, "request");
  docs = json_object_get_array_member(m, "documents");
  prefix = cd_roi_member(m, "bates_prefix");
  if (docs == NULL || prefix == NULL || cd_roi_member(m, "released") == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "request %" G_GINT64_FORMAT ": the packet manifest is incomplete",
                request_id);
    return NULL;
  }
  if (cd_roi_member(m, "cover") == NULL) {
    g_autofree gchar *path = template_path != NULL ? g_strdup(template_path)
                                                   : cd_workflow_find_file(CD_ROI_COVER_TEMPLATE, error);
    g_autofree gchar *text = NULL;
    g_autofree gchar *letter = NULL;
    if (path == NULL)
      return NULL;
    if (!g_file_get_contents(path, &text, NULL, error))
      return NULL;
    letter = cd_roi_render_template(text, m, error);
    if (letter == NULL) {
      g_prefix_error(error, "%s: ", path);
      return NULL;
    }
    json_object_set_string_member(m, "cover", letter);
  }
  cd_roi_wrap(cover_lines, cd_roi_member(m, "cover"));
  cover_pages = cd_roi_paginate(cover_lines);
  for (guint i = 0; i < json_array_get_length(docs); i++)
    n_doc_pages += json_array_get_length(json_object_get_array_member(json_array_get_object_element(docs, i), "pages"));
  /* the inventory's length does not depend on where it starts */
  inventory = cd_roi_inventory(m, 1);
  n_inventory_pages = inventory->len;
  g_clear_pointer(&inventory, g_ptr_array_unref);
  inventory = cd_roi_inventory(m, cover_pages->len + n_inventory_pages + 1);
  total = cover_pages->len + inventory->len + n_doc_pages;

  day = cd_roi_day(cd_roi_member(m, "released"));
  footer = g_strdup_printf("Released to %s on %s \u2014 request %" G_GINT64_FORMAT,
                           cd_roi_member(json_object_get_object_member(m, "recipient"), "name"), day, request_id);
  pdf = cd_roi_pdf_new(m, error);
  if (pdf == NULL)
    return NULL;
  for (guint i = 0; i < cover_pages->len + inventory->len; i++) {
    g_autofree gchar *bates = cd_roi_bates(prefix, ++sheet);
    const gchar *const *lines = i < cover_pages->len ? g_ptr_array_index(cover_pages, i)
                                                     : g_ptr_array_index(inventory, i - cover_pages->len);
    if (!cd_roi_pdf_add_text_page(pdf, lines, bates, footer, error))
      return NULL;
  }
  for (guint i = 0; i < json_array_get_length(docs); i++) {
    JsonArray *pages = json_object_get_array_member(json_array_get_object_element(docs, i), "pages");
    for (guint j = 0; j < json_array_get_length(pages); j++) {
      JsonObject *page = json_array_get_object_element(pages, j);
      g_autofree gchar *bates = cd_roi_bates(prefix, ++sheet);
      g_autoptr(PIX) pix = cd_roi_page_pix(archive, request_id, page, error);
      g_autoptr(GPtrArray) words = NULL;
      guint removed = 0;

      if (pix == NULL)
        return NULL;
      words = cd_roi_kept_words(json_object_get_array_member(page, "words"),
                                json_object_get_array_member(page, "redactions"), &removed);
      json_object_set_string_member(page, "bates", bates);
      json_object_set_int_member(page, "words_removed", removed);
      if (!cd_roi_pdf_add_image_page(pdf, pix, json_object_get_int_member(page, "xres"),
                                     json_object_get_int_member(page, "yres"), words, bates, footer, error))
        return NULL;
    }
  }
  if (sheet != total) {
    g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "request %" G_GINT64_FORMAT ": %u pages written of %u", request_id,
                sheet, total);
    return NULL;
  }
  {
    g_autofree gchar *first = cd_roi_bates(prefix, 1);
    g_autofree gchar *last = cd_roi_bates(prefix, total);
    json_object_set_int_member(m, "pages", total);
    json_object_set_string_member(m, "bates_first", first);
    json_object_set_string_member(m, "bates_last", last);
  }
  return cd_roi_pdf_finish(pdf, error);
}
