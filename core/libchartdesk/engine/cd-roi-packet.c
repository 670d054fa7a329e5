/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "cd-error.h"
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

#define CD_ROI_BATES_DIGITS 6 /* PREFIX000001 */

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

static gchar *
cd_roi_bates(const gchar *prefix, guint n)
{
  return g_strdup_printf("%s%0*u", prefix, CD_ROI_BATES_DIGITS, n);
}

/* The inventory's text: one paragraph a document, with its Bates range,
 * the first document's pages starting at @first_document_page. Every
 * Bates number has the same width, so the text flows onto the same number
 * of pages wherever it starts. */
static gchar *
cd_roi_inventory(JsonObject *m, guint first_document_page)
{
  JsonArray *docs = json_object_get_array_member(m, "documents");
  const gchar *prefix = cd_roi_member(m, "bates_prefix");
  g_autoptr(GString) s = g_string_new(NULL);
  guint next = first_document_page;

  g_string_append_printf(s, "Request %" G_GINT64_FORMAT ": %u document%s for %s.\n\n",
                         json_object_get_int_member(m, "request"), json_array_get_length(docs),
                         json_array_get_length(docs) == 1 ? "" : "s",
                         cd_roi_member(json_object_get_object_member(m, "patient"), "mrn"));
  for (guint i = 0; i < json_array_get_length(docs); i++) {
    JsonObject *d = json_array_get_object_element(docs, i);
    JsonArray *pages = json_object_get_array_member(d, "pages");
    guint n = json_array_get_length(pages);
    guint redacted = 0;
    g_autofree gchar *first = cd_roi_bates(prefix, next);
    g_autofree gchar *last = cd_roi_bates(prefix, next + n - 1);
    const gchar *title = cd_roi_member(d, "title");

    for (guint j = 0; j < n; j++) {
      JsonArray *r = json_object_get_array_member(json_array_get_object_element(pages, j), "redactions");
      if (r != NULL && json_array_get_length(r) > 0)
        redacted++;
    }
    g_string_append_printf(s, "%u. %s to %s: %s, %s, %u page%s%s%s", i + 1, first, last,
                           cd_roi_member(d, "type") != NULL ? cd_roi_member(d, "type") : "document",
                           cd_roi_member(d, "date") != NULL ? cd_roi_member(d, "date") : "undated", n,
                           n == 1 ? "" : "s", title != NULL ? ", " : "", title != NULL ? title : "");
    if (redacted > 0)
      g_string_append_printf(s, " (%u page%s redacted)", redacted, redacted == 1 ? "" : "s");
    g_string_append_c(s, '\n');
    next += n;
  }
  return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The words of a page as stored ([x, y, w, h, conf, line, text]) as
 * #CdWord, for the text layer. */
static GPtrArray *
cd_roi_words(JsonArray *words)
{
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) cd_word_free);

  for (guint i = 0; words != NULL && i < json_array_get_length(words); i++) {
    JsonArray *w = json_array_get_array_element(words, i);
    if (w == NULL || json_array_get_length(w) < 7 || json_array_get_string_element(w, 6) == NULL)
      continue;
    g_ptr_array_add(out, cd_word_new(json_array_get_string_element(w, 6), json_array_get_int_element(w, 0),
                                     json_array_get_int_element(w, 1), json_array_get_int_element(w, 2),
                                     json_array_get_int_element(w, 3), json_array_get_double_element(w, 4),
                                     json_array_get_int_element(w, 5)));
  }
  return out;
}

static GArray *
cd_roi_rects(JsonArray *rects)
{
  GArray *out = g_array_new(FALSE, TRUE, sizeof(CdPdfRect));

  for (guint i = 0; rects != NULL && i < json_array_get_length(rects); i++) {
    JsonArray *r = json_array_get_array_element(rects, i);
    CdPdfRect rect = {
      .x = json_array_get_int_element(r, 0),
      .y = json_array_get_int_element(r, 1),
      .width = json_array_get_int_element(r, 2),
      .height = json_array_get_int_element(r, 3),
    };
    g_array_append_val(out, rect);
  }
  return out;
}

/* A writer with the packet's metadata, dates, Bates numbering and footer. */
static CdPdfWriter *
cd_roi_writer_new(JsonObject *m, GError **error)
{
  g_autoptr(CdPdfWriter) writer = cd_pdf_writer_new(error);
  g_autoptr(GDateTime) released = NULL;
  g_autofree gchar *title = NULL;
  g_autofree gchar *subject = NULL;
  g_autofree gchar *footer = NULL;
  g_autofree gchar *day = cd_roi_day(cd_roi_member(m, "released"));
  gint64 request_id = json_object_get_int_member(m, "request");
  const gchar *recipient = cd_roi_member(json_object_get_object_member(m, "recipient"), "name");

  if (writer == NULL)
    return NULL;
  released = g_date_time_new_from_iso8601(cd_roi_member(m, "released"), NULL);
  if (released == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "request %" G_GINT64_FORMAT ": release time '%s' is not ISO 8601", request_id,
                cd_roi_member(m, "released"));
    return NULL;
  }
  title = g_strdup_printf("Release of information, request %" G_GINT64_FORMAT, request_id);
  subject = g_strdup_printf("Records of MRN %s released to %s for %s",
                            cd_roi_member(json_object_get_object_member(m, "patient"), "mrn"), recipient,
                            cd_roi_member(m, "purpose"));
  footer = g_strdup_printf("Released to %s on %s \u2014 request %" G_GINT64_FORMAT, recipient, day, request_id);
  cd_pdf_writer_set_title(writer, title);
  cd_pdf_writer_set_subject(writer, subject);
  cd_pdf_writer_set_author(writer, cd_roi_member(m, "released_by"));
  cd_pdf_writer_set_creation_date(writer, released);
  cd_pdf_writer_set_bates(writer, cd_roi_member(m, "bates_prefix"), 1, CD_ROI_BATES_DIGITS);
  cd_pdf_writer_set_footer(writer, footer);
  return g_steal_pointer(&writer);
}

/**
 * cd_roi_packet_build:
 * @archive: the archive the manifest is of
 * @manifest: from cd_archive_roi_prepare_release() (completed here: `cover`,
 *   `pages`, `bates_first`, `bates_last`, and each page's `bates`), or
 *   cd_archive_roi_get_packet() (its `cover` used as it is)
 * @template_path: (nullable): the cover letter template; %NULL for
 *   `roi-cover-letter.txt` on the workflow path. Not read when the
 *   manifest has its cover letter already.
 * @error: return location for a #GError
 *
 * Makes the packet PDF: the cover letter, the inventory, then every page
 * of every document with its redactions, all stamped.
 *
 * Returns: (transfer full): the PDF, or %NULL with @error set
 */
GBytes *
cd_roi_packet_build(CdArchive *archive, JsonNode *manifest, const gchar *template_path, GError **error)
{
  JsonObject *m;
  JsonArray *docs;
  g_autoptr(CdPdfWriter) writer = NULL;
  g_autofree gchar *inventory = NULL;
  const gchar *prefix;
  gint64 request_id;
  guint n_front;

  g_return_val_if_fail(CD_IS_ARCHIVE(archive), NULL);
  g_return_val_if_fail(manifest != NULL && JSON_NODE_HOLDS_OBJECT(manifest), NULL);
  m = json_node_get_object(manifest);
  request_id = json_object_get_int_member_with_default(m, "request", 0);
  docs = json_object_get_array_member(m, "documents");
  prefix = cd_roi_member(m, "bates_prefix");
  if (docs == NULL || prefix == NULL || cd_roi_member(m, "released") == NULL ||
      json_object_get_object_member(m, "recipient") == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA,
                "request %" G_GINT64_FORMAT ": the packet manifest is incomplete", request_id);
    return NULL;
  }
  if (cd_roi_member(m, "cover") == NULL) {
    g_autofree gchar *path =
        template_path != NULL ? g_strdup(template_path) : cd_workflow_find_file(CD_ROI_COVER_TEMPLATE, error);
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

  /* the cover letter's and the inventory's pages come first: measure them
   * on a writer of their own, then number the documents from there */
  {
    g_autoptr(CdPdfWriter) scratch = cd_roi_writer_new(m, error);
    g_autofree gchar *draft = cd_roi_inventory(m, 1);
    if (scratch == NULL || !cd_pdf_writer_add_text_page(scratch, NULL, cd_roi_member(m, "cover"), error) ||
        !cd_pdf_writer_add_text_page(scratch, "Inventory", draft, error))
      return NULL;
    n_front = cd_pdf_writer_get_n_pages(scratch);
  }
  inventory = cd_roi_inventory(m, n_front + 1);
  writer = cd_roi_writer_new(m, error);
  if (writer == NULL || !cd_pdf_writer_add_text_page(writer, NULL, cd_roi_member(m, "cover"), error) ||
      !cd_pdf_writer_add_text_page(writer, "Inventory", inventory, error))
    return NULL;
  if (cd_pdf_writer_get_n_pages(writer) != n_front) {
    g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL,
                "request %" G_GINT64_FORMAT ": the inventory took %u pages, %u were measured", request_id,
                cd_pdf_writer_get_n_pages(writer), n_front);
    return NULL;
  }
  for (guint i = 0; i < json_array_get_length(docs); i++) {
    JsonObject *doc = json_array_get_object_element(docs, i);
    JsonArray *pages = json_object_get_array_member(doc, "pages");
    for (guint j = 0; pages != NULL && j < json_array_get_length(pages); j++) {
      JsonObject *page = json_array_get_object_element(pages, j);
      gint64 page_id = json_object_get_int_member(page, "id");
      g_autoptr(GBytes) image = NULL;
      g_autoptr(GPtrArray) words = cd_roi_words(json_object_get_array_member(page, "words"));
      g_autoptr(GArray) rects = cd_roi_rects(json_object_get_array_member(page, "redactions"));
      g_autofree gchar *bates = NULL;
      guint redacted_before = cd_pdf_writer_get_n_words_redacted(writer);

      image =
          cd_archive_roi_get_page_image(archive, request_id, page_id, cd_roi_member(page, "image_sha256"), NULL, error);
      if (image == NULL)
        return NULL;
      if (!cd_pdf_writer_add_image_page(writer, image, json_object_get_int_member(page, "xres"),
                                        json_object_get_int_member(page, "yres"), words,
                                        (const CdPdfRect *) rects->data, rects->len, error)) {
        g_prefix_error(error,
                       "request %" G_GINT64_FORMAT ", document %" G_GINT64_FORMAT ", page %" G_GINT64_FORMAT ": ",
                       request_id, json_object_get_int_member(doc, "id"), page_id);
        return NULL;
      }
      bates = cd_pdf_writer_dup_last_bates(writer);
      json_object_set_string_member(page, "bates", bates);
      json_object_set_int_member(page, "words_redacted", cd_pdf_writer_get_n_words_redacted(writer) - redacted_before);
    }
  }
  {
    g_autofree gchar *first = cd_roi_bates(prefix, 1);
    g_autofree gchar *last = cd_pdf_writer_dup_last_bates(writer);
    json_object_set_int_member(m, "pages", cd_pdf_writer_get_n_pages(writer));
    json_object_set_string_member(m, "bates_first", first);
    json_object_set_string_member(m, "bates_last", last);
  }
  return cd_pdf_writer_save_to_bytes(writer, error);
}
