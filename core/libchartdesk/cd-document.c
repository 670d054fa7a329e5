/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-document.h"

/**
 * CdDocument:
 *
 * An ordered run of pages of one patient and one document type, the unit the
 * archive commits in one transaction.
 *
 * Since: 0.1
 */
struct _CdDocument {
  GObject parent_instance;
  gint64 id;          /* archive row id, 0 until committed */
  GPtrArray *pages;   /* of CdPage, scan order */
  gchar *patient_mrn; /* NULL until identity is proven */
  gchar *doc_type;    /* a taxonomy name, NULL until classified */
  gdouble type_confidence;
  gchar *date; /* ISO 8601 date of service, NULL if unknown */
  gchar *title;
  GPtrArray *problems; /* of gchar*: why the document needs review */
};

G_DEFINE_TYPE(CdDocument, cd_document, G_TYPE_OBJECT)

static void
cd_document_finalize(GObject *object)
{
  CdDocument *self = CD_DOCUMENT(object);

  g_ptr_array_unref(self->pages);
  g_free(self->patient_mrn);
  g_free(self->doc_type);
  g_free(self->date);
  g_free(self->title);
  g_ptr_array_unref(self->problems);

  G_OBJECT_CLASS(cd_document_parent_class)->finalize(object);
}

static void
cd_document_class_init(CdDocumentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->finalize = cd_document_finalize;
}

static void
cd_document_init(CdDocument *self)
{
  self->pages = g_ptr_array_new_with_free_func(g_object_unref);
  self->problems = g_ptr_array_new_with_free_func(g_free);
}

/**
 * cd_document_new:
 *
 * Returns: (transfer full): an empty document
 *
 * Since: 0.1
 */
CdDocument *
cd_document_new(void)
{
  return g_object_new(CD_TYPE_DOCUMENT, NULL);
}

/**
 * cd_document_get_id:
 * @self: a #CdDocument
 *
 * Returns: the archive id, or 0 before the document is committed
 *
 * Since: 0.1
 */
gint64
cd_document_get_id(CdDocument *self)
{
  g_return_val_if_fail(CD_IS_DOCUMENT(self), 0);
  return self->id;
}

/**
 * cd_document_set_id:
 * @self: a #CdDocument
 * @id: the archive's id of the document
 *
 * Records where the archive stored the document; called by the archive
 * when it commits one.
 *
 * Since: 0.1
 */
void
cd_document_set_id(CdDocument *self, gint64 id)
{
  self->id = id;
}

/**
 * cd_document_get_pages:
 * @self: a #CdDocument
 *
 * Returns: (transfer none) (element-type CdPage): the pages in scan order
 *
 * Since: 0.1
 */
GPtrArray *
cd_document_get_pages(CdDocument *self)
{
  g_return_val_if_fail(CD_IS_DOCUMENT(self), NULL);
  return self->pages;
}

/**
 * cd_document_add_page:
 * @self: a #CdDocument
 * @page: a content page
 *
 * Appends @page, taking a reference.
 *
 * Since: 0.1
 */
void
cd_document_add_page(CdDocument *self, CdPage *page)
{
  g_return_if_fail(CD_IS_DOCUMENT(self));
  g_return_if_fail(CD_IS_PAGE(page));
  g_ptr_array_add(self->pages, g_object_ref(page));
}

/**
 * cd_document_get_patient_mrn:
 * @self: a #CdDocument
 *
 * Returns: (nullable): the MRN the document is filed under, or %NULL when
 *   no patient is proven
 *
 * Since: 0.1
 */
const gchar *
cd_document_get_patient_mrn(CdDocument *self)
{
  g_return_val_if_fail(CD_IS_DOCUMENT(self), NULL);
  return self->patient_mrn;
}

/**
 * cd_document_set_patient_mrn:
 * @self: a #CdDocument
 * @mrn: (nullable): the proven patient's MRN
 *
 * Only a stage that has proven identity under the linking rules sets this.
 *
 * Since: 0.1
 */
void
cd_document_set_patient_mrn(CdDocument *self, const gchar *mrn)
{
  g_return_if_fail(CD_IS_DOCUMENT(self));
  g_free(self->patient_mrn);
  self->patient_mrn = g_strdup(mrn);
}

/**
 * cd_document_get_doc_type:
 * @self: a #CdDocument
 *
 * Returns: (nullable): the document type, a taxonomy name
 *
 * Since: 0.1
 */
const gchar *
cd_document_get_doc_type(CdDocument *self)
{
  g_return_val_if_fail(CD_IS_DOCUMENT(self), NULL);
  return self->doc_type;
}

/**
 * cd_document_get_type_confidence:
 * @self: a #CdDocument
 *
 * Returns: confidence in the document type, 0 to 1
 *
 * Since: 0.1
 */
gdouble
cd_document_get_type_confidence(CdDocument *self)
{
  g_return_val_if_fail(CD_IS_DOCUMENT(self), 0);
  return self->type_confidence;
}

/**
 * cd_document_set_doc_type:
 * @self: a #CdDocument
 * @doc_type: (nullable): a taxonomy name
 * @confidence: 0 to 1
 *
 * Since: 0.1
 */
void
cd_document_set_doc_type(CdDocument *self, const gchar *doc_type, gdouble confidence)
{
  g_return_if_fail(CD_IS_DOCUMENT(self));
  g_free(self->doc_type);
  self->doc_type = g_strdup(doc_type);
  self->type_confidence = confidence;
}

/**
 * cd_document_get_date:
 * @self: a #CdDocument
 *
 * Returns: (nullable): the date of service as `YYYY-MM-DD`
 *
 * Since: 0.1
 */
const gchar *
cd_document_get_date(CdDocument *self)
{
  g_return_val_if_fail(CD_IS_DOCUMENT(self), NULL);
  return self->date;
}

/**
 * cd_document_set_date:
 * @self: a #CdDocument
 * @iso_date: (nullable): `YYYY-MM-DD`
 *
 * Since: 0.1
 */
void
cd_document_set_date(CdDocument *self, const gchar *iso_date)
{
  g_return_if_fail(CD_IS_DOCUMENT(self));
  g_free(self->date);
  self->date = g_strdup(iso_date);
}

/**
 * cd_document_get_title:
 * @self: a #CdDocument
 *
 * Returns: (nullable): the title read from the first page
 *
 * Since: 0.1
 */
const gchar *
cd_document_get_title(CdDocument *self)
{
  g_return_val_if_fail(CD_IS_DOCUMENT(self), NULL);
  return self->title;
}

/**
 * cd_document_set_title:
 * @self: a #CdDocument
 * @title: (nullable): the title
 *
 * Since: 0.1
 */
void
cd_document_set_title(CdDocument *self, const gchar *title)
{
  g_return_if_fail(CD_IS_DOCUMENT(self));
  g_free(self->title);
  self->title = g_strdup(title);
}

/**
 * cd_document_add_problem:
 * @self: a #CdDocument
 * @problem: why a person must look at the document
 *
 * Since: 0.1
 */
void
cd_document_add_problem(CdDocument *self, const gchar *problem)
{
  g_return_if_fail(CD_IS_DOCUMENT(self));
  g_return_if_fail(problem != NULL);
  for (guint i = 0; i < self->problems->len; i++) {
    if (g_strcmp0(g_ptr_array_index(self->problems, i), problem) == 0)
      return;
  }
  g_ptr_array_add(self->problems, g_strdup(problem));
}

/**
 * cd_document_get_problems:
 * @self: a #CdDocument
 *
 * Returns: (transfer none) (element-type utf8): reasons for review
 *
 * Since: 0.1
 */
GPtrArray *
cd_document_get_problems(CdDocument *self)
{
  g_return_val_if_fail(CD_IS_DOCUMENT(self), NULL);
  return self->problems;
}

/**
 * cd_document_needs_review:
 * @self: a #CdDocument
 *
 * A document is filed only when a patient is proven and nothing is in doubt;
 * everything else is for review.
 *
 * Returns: %TRUE if the document goes to the review queue
 *
 * Since: 0.1
 */
gboolean
cd_document_needs_review(CdDocument *self)
{
  g_return_val_if_fail(CD_IS_DOCUMENT(self), TRUE);
  if (self->patient_mrn == NULL || self->problems->len > 0)
    return TRUE;
  for (guint i = 0; i < self->pages->len; i++) {
    if (cd_page_get_problems(g_ptr_array_index(self->pages, i))->len > 0)
      return TRUE;
  }
  return FALSE;
}

/**
 * cd_document_dup_text:
 * @self: a #CdDocument
 *
 * Returns: (transfer full): the text of all pages, separated by form feeds
 *
 * Since: 0.1
 */
gchar *
cd_document_dup_text(CdDocument *self)
{
  GString *str = g_string_new(NULL);

  g_return_val_if_fail(CD_IS_DOCUMENT(self), NULL);
  for (guint i = 0; i < self->pages->len; i++) {
    const gchar *text = cd_page_get_text(g_ptr_array_index(self->pages, i));
    if (i > 0)
      g_string_append_c(str, '\f');
    if (text != NULL)
      g_string_append(str, text);
  }
  return g_string_free(str, FALSE);
}
