/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "cd-error.h"
#include "cd-page.h"

/**
 * CdPage:
 *
 * One input page and everything the stages learned about it.
 *
 * A page is owned by one thread at a time: the source creates it, a worker
 * runs the page stages on it, and the engine then hands it to the splitter and
 * the document stages in scan order. It is therefore not locked.
 *
 * Since: 0.1
 */
struct _CdPage {
  GObject parent_instance;
  gchar *source_path;   /* as given by the user */
  gint source_page;     /* 0-based index in the file, -1 for a whole file */
  gchar *source_sha256; /* of the whole source file */
  guint64 sequence;     /* position in the batch, assigned by the engine */
  gint64 id;            /* row id once archived, 0 before */
  CdPageKind kind;
  gchar *reason; /* why the page is not a plain content page */
  PIX *pix;
  gint xres;
  gint yres;
  gint rotation; /* degrees clockwise applied to make it upright */
  gdouble skew;  /* degrees corrected by deskew */
  gchar *text;
  GPtrArray *words;    /* of CdWord */
  gdouble confidence;  /* mean word confidence 0..100, < 0 when not recognised */
  GPtrArray *problems; /* of gchar*: reasons this page needs review */
  GHashTable *facts;   /* gchar* → GVariant*: stage findings, exported as JSON */
  GBytes *image_bytes;
  gchar *image_format;
  gchar *image_sha256;
  gint image_width;
  gint image_height;
  gint image_depth;
};

G_DEFINE_TYPE(CdPage, cd_page, G_TYPE_OBJECT)

static const gchar *kind_names[] = {
  [CD_PAGE_KIND_PAGE] = "page",           [CD_PAGE_KIND_BLANK] = "blank",   [CD_PAGE_KIND_COVER] = "cover",
  [CD_PAGE_KIND_SEPARATOR] = "separator", [CD_PAGE_KIND_FAILED] = "failed", [CD_PAGE_KIND_DUPLICATE] = "duplicate",
};

/**
 * cd_page_kind_to_string:
 * @kind: a #CdPageKind
 *
 * Returns: (nullable): the kind's name as exports and the archive write it
 *   (`page`, `blank`, `cover`, `separator`, `failed`, `duplicate`)
 *
 * Since: 0.1
 */
const gchar *
cd_page_kind_to_string(CdPageKind kind)
{
  if ((guint) kind >= G_N_ELEMENTS(kind_names))
    return NULL;
  return kind_names[kind];
}

/**
 * cd_page_kind_from_string:
 * @str: a kind's name, as cd_page_kind_to_string() writes it
 * @kind: (out): the kind
 *
 * Returns: %TRUE if @str names a kind
 *
 * Since: 0.1
 */
gboolean
cd_page_kind_from_string(const gchar *str, CdPageKind *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS(kind_names); i++) {
    if (g_strcmp0(kind_names[i], str) == 0) {
      *kind = i;
      return TRUE;
    }
  }
  return FALSE;
}

static void
cd_page_finalize(GObject *object)
{
  CdPage *self = CD_PAGE(object);

  g_free(self->source_path);
  g_free(self->source_sha256);
  g_free(self->reason);
  if (self->pix != NULL)
    pixDestroy(&self->pix);
  g_free(self->text);
  g_ptr_array_unref(self->words);
  g_ptr_array_unref(self->problems);
  g_hash_table_unref(self->facts);
  g_clear_pointer(&self->image_bytes, g_bytes_unref);
  g_free(self->image_format);
  g_free(self->image_sha256);

  G_OBJECT_CLASS(cd_page_parent_class)->finalize(object);
}

static void
cd_page_class_init(CdPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  object_class->finalize = cd_page_finalize;
}

static void
cd_page_init(CdPage *self)
{
  self->source_page = -1;
  self->confidence = -1;
  self->words = g_ptr_array_new_with_free_func((GDestroyNotify) cd_word_free);
  self->problems = g_ptr_array_new_with_free_func(g_free);
  self->facts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_variant_unref);
}

/**
 * cd_page_new:
 * @source_path: the file the page came from, as the user named it
 * @source_page: 0-based index of the page in that file, or -1 when the
 *   whole file is meant (a file that could not be opened)
 * @source_sha256: (nullable): lowercase hex SHA-256 of the whole file
 *
 * Creates a page with its provenance. Sources call this; the image is set
 * with cd_page_set_pix().
 *
 * Returns: (transfer full): a new #CdPage
 *
 * Since: 0.1
 */
CdPage *
cd_page_new(const gchar *source_path, gint source_page, const gchar *source_sha256)
{
  CdPage *self;

  g_return_val_if_fail(source_path != NULL, NULL);
  g_return_val_if_fail(source_page >= -1, NULL);

  self = g_object_new(CD_TYPE_PAGE, NULL);
  self->source_path = g_strdup(source_path);
  self->source_page = source_page;
  self->source_sha256 = g_strdup(source_sha256);
  return self;
}

/**
 * cd_page_get_source_path:
 * @self: a #CdPage
 *
 * Returns: the source file as the user named it
 *
 * Since: 0.1
 */
const gchar *
cd_page_get_source_path(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), NULL);
  return self->source_path;
}

/**
 * cd_page_get_source_page:
 * @self: a #CdPage
 *
 * Returns: the 0-based page index in the source file, or -1 for a record
 *   that stands for a whole file
 *
 * Since: 0.1
 */
gint
cd_page_get_source_page(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), -1);
  return self->source_page;
}

/**
 * cd_page_get_source_sha256:
 * @self: a #CdPage
 *
 * Returns: (nullable): hex SHA-256 of the source file, %NULL if it could not
 *   be read
 *
 * Since: 0.1
 */
const gchar *
cd_page_get_source_sha256(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), NULL);
  return self->source_sha256;
}

/**
 * cd_page_get_kind:
 * @self: a #CdPage
 *
 * Returns: what the page turned out to be
 *
 * Since: 0.1
 */
CdPageKind
cd_page_get_kind(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), CD_PAGE_KIND_FAILED);
  return self->kind;
}

/**
 * cd_page_set_kind:
 * @self: a #CdPage
 * @kind: what the page is
 * @reason: (nullable): why, in words an operator understands; required in
 *   practice for every kind but %CD_PAGE_KIND_PAGE
 *
 * Since: 0.1
 */
void
cd_page_set_kind(CdPage *self, CdPageKind kind, const gchar *reason)
{
  g_return_if_fail(CD_IS_PAGE(self));
  self->kind = kind;
  g_free(self->reason);
  self->reason = g_strdup(reason);
}

/**
 * cd_page_get_reason:
 * @self: a #CdPage
 *
 * Returns: (nullable): why the page has its kind
 *
 * Since: 0.1
 */
const gchar *
cd_page_get_reason(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), NULL);
  return self->reason;
}

/**
 * cd_page_get_pix:
 * @self: a #CdPage
 *
 * Returns: (transfer none) (nullable): the current page image; use
 *   pixClone() to keep it beyond the page's life
 *
 * Since: 0.1
 */
PIX *
cd_page_get_pix(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), NULL);
  return self->pix;
}

/**
 * cd_page_set_pix:
 * @self: a #CdPage
 * @pix: (transfer full) (nullable): the new page image
 *
 * Replaces the page image, taking over the caller's reference. Stages that
 * transform the image set their result here.
 *
 * Since: 0.1
 */
void
cd_page_set_pix(CdPage *self, PIX *pix)
{
  g_return_if_fail(CD_IS_PAGE(self));
  if (self->pix == pix)
    return;
  if (self->pix != NULL)
    pixDestroy(&self->pix);
  self->pix = pix;
}

/**
 * cd_page_steal_pix:
 * @self: a #CdPage
 *
 * Returns: (transfer full) (nullable): the page image, which the page no
 *   longer holds
 *
 * Since: 0.1
 */
PIX *
cd_page_steal_pix(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), NULL);
  return g_steal_pointer(&self->pix);
}

/**
 * cd_page_get_resolution:
 * @self: a #CdPage
 * @xres: (out) (optional): horizontal resolution in dpi, 0 if unknown
 * @yres: (out) (optional): vertical resolution in dpi, 0 if unknown
 *
 * Since: 0.1
 */
void
cd_page_get_resolution(CdPage *self, gint *xres, gint *yres)
{
  g_return_if_fail(CD_IS_PAGE(self));
  if (xres != NULL)
    *xres = self->xres;
  if (yres != NULL)
    *yres = self->yres;
}

/**
 * cd_page_set_resolution:
 * @self: a #CdPage
 * @xres: horizontal resolution in dpi
 * @yres: vertical resolution in dpi
 *
 * Since: 0.1
 */
void
cd_page_set_resolution(CdPage *self, gint xres, gint yres)
{
  g_return_if_fail(CD_IS_PAGE(self));
  self->xres = xres;
  self->yres = yres;
}

/**
 * cd_page_get_rotation:
 * @self: a #CdPage
 *
 * Returns: degrees (0, 90, 180, 270) the page was turned clockwise to stand
 *   upright
 *
 * Since: 0.1
 */
gint
cd_page_get_rotation(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), 0);
  return self->rotation;
}

/**
 * cd_page_set_rotation:
 * @self: a #CdPage
 * @degrees: clockwise rotation applied, 0, 90, 180 or 270
 *
 * Since: 0.1
 */
void
cd_page_set_rotation(CdPage *self, gint degrees)
{
  g_return_if_fail(CD_IS_PAGE(self));
  self->rotation = ((degrees % 360) + 360) % 360;
}

/**
 * cd_page_get_skew:
 * @self: a #CdPage
 *
 * Returns: the skew in degrees that deskewing corrected (positive is
 *   counter-clockwise in the scan)
 *
 * Since: 0.1
 */
gdouble
cd_page_get_skew(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), 0);
  return self->skew;
}

/**
 * cd_page_set_skew:
 * @self: a #CdPage
 * @degrees: the skew angle corrected
 *
 * Since: 0.1
 */
void
cd_page_set_skew(CdPage *self, gdouble degrees)
{
  g_return_if_fail(CD_IS_PAGE(self));
  self->skew = degrees;
}

/**
 * cd_page_get_text:
 * @self: a #CdPage
 *
 * Returns: (nullable): the recognised text, %NULL before recognition
 *
 * Since: 0.1
 */
const gchar *
cd_page_get_text(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), NULL);
  return self->text;
}

/**
 * cd_page_set_text:
 * @self: a #CdPage
 * @text: (nullable): recognised text, UTF-8
 *
 * Since: 0.1
 */
void
cd_page_set_text(CdPage *self, const gchar *text)
{
  g_return_if_fail(CD_IS_PAGE(self));
  g_free(self->text);
  self->text = g_strdup(text);
}

/**
 * cd_page_get_words:
 * @self: a #CdPage
 *
 * Returns: (transfer none) (element-type CdWord): the recognised words in
 *   reading order
 *
 * Since: 0.1
 */
GPtrArray *
cd_page_get_words(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), NULL);
  return self->words;
}

/**
 * cd_page_add_word:
 * @self: a #CdPage
 * @word: (transfer full): a recognised word
 *
 * Since: 0.1
 */
void
cd_page_add_word(CdPage *self, CdWord *word)
{
  g_return_if_fail(CD_IS_PAGE(self));
  g_return_if_fail(word != NULL);
  g_ptr_array_add(self->words, word);
}

/**
 * cd_page_get_confidence:
 * @self: a #CdPage
 *
 * Returns: mean word confidence 0 to 100, or a negative value when the page
 *   was not recognised
 *
 * Since: 0.1
 */
gdouble
cd_page_get_confidence(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), -1);
  return self->confidence;
}

/**
 * cd_page_set_confidence:
 * @self: a #CdPage
 * @confidence: mean word confidence, 0 to 100
 *
 * Since: 0.1
 */
void
cd_page_set_confidence(CdPage *self, gdouble confidence)
{
  g_return_if_fail(CD_IS_PAGE(self));
  self->confidence = confidence;
}

/**
 * cd_page_add_problem:
 * @self: a #CdPage
 * @problem: a reason the page needs a person to look at it
 *
 * Records something a stage could not do or could not be sure of. A page with
 * problems is archived, and its document goes to the review queue with them.
 *
 * Since: 0.1
 */
void
cd_page_add_problem(CdPage *self, const gchar *problem)
{
  g_return_if_fail(CD_IS_PAGE(self));
  g_return_if_fail(problem != NULL);
  g_ptr_array_add(self->problems, g_strdup(problem));
}

/**
 * cd_page_get_problems:
 * @self: a #CdPage
 *
 * Returns: (transfer none) (element-type utf8): reasons for review
 *
 * Since: 0.1
 */
GPtrArray *
cd_page_get_problems(CdPage *self)
{
  g_return_val_if_fail(CD_IS_PAGE(self), NULL);
  return self->problems;
}

/**
 * cd_page_set_fact:
 * @self: a #CdPage
 * @key: a name, by convention `stage.fact` (`barcode.symbols`)
 * @value: (nullable): the value; a floating reference is sunk; %NULL removes
 *
 * Records something a stage found that has no dedicated accessor. Facts are
 * stored in the archive and exported as JSON under `facts`.
 *
 * Since: 0.1
 */
void
cd_page_set_fact(CdPage *self, const gchar *key, GVariant *value)
{
  g_return_if_fail(CD_IS_PAGE(self));
  g_return_if_fail(key != NULL);
  if (value == NULL)
    g_hash_table_remove(self->facts, key);
  else
    g_hash_table_replace(self->facts, g_strdup(key), g_variant_ref_sink(value));
}

/**
 * cd_page_get_fact:
 * @self: a #CdPage
 * @key: the fact's name
 *
 * Returns: (transfer full) (nullable): the value, or %NULL
 *
 * Since: 0.1
 */
GVariant *
cd_page_get_fact(CdPage *self, const gchar *key)
{
  GVariant *value;

  g_return_val_if_fail(CD_IS_PAGE(self), NULL);
  value = g_hash_table_lookup(self->facts, key);
  return value != NULL ? g_variant_ref(value) : NULL;
}

/**
 * cd_page_get_facts:
 * @self: a #CdPage
 *
 * Returns: (transfer full): all facts as an `a{sv}` variant
 *
 * Since: 0.1
 */
GVariant *
cd_page_get_facts(CdPage *self)
{
  GVariantBuilder builder;
  g_autoptr(GList) keys = NULL;

  g_return_val_if_fail(CD_IS_PAGE(self), NULL);
  /* sorted, so the stored JSON does not depend on hash order */
  keys = g_list_sort(g_hash_table_get_keys(self->facts), (GCompareFunc) g_strcmp0);
  g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
  for (GList *l = keys; l != NULL; l = l->next)
    g_variant_builder_add(&builder, "{sv}", l->data, g_hash_table_lookup(self->facts, l->data));
  return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/**
 * cd_page_get_sequence:
 * @self: a #CdPage
 *
 * Returns: the page's position in its batch, from 1, as the engine numbers
 *   pages in scan order; 0 before the engine has seen it
 *
 * Since: 0.1
 */
guint64
cd_page_get_sequence(CdPage *self)
{
  return self->sequence;
}

/**
 * cd_page_set_sequence:
 * @self: a #CdPage
 * @sequence: the position in the batch, from 1
 *
 * Numbers a page in scan order. The engine does this as pages leave the
 * source; sources and stages never need to.
 *
 * Since: 0.1
 */
void
cd_page_set_sequence(CdPage *self, guint64 sequence)
{
  self->sequence = sequence;
}

/**
 * cd_page_get_id:
 * @self: a #CdPage
 *
 * Returns: the page's id in the archive, or 0 before it is archived
 *
 * Since: 0.1
 */
gint64
cd_page_get_id(CdPage *self)
{
  return self->id;
}

/**
 * cd_page_set_id:
 * @self: a #CdPage
 * @id: the archive's id of the page
 *
 * Records where the archive stored the page; called by the archive when it
 * commits or reads back a page.
 *
 * Since: 0.1
 */
void
cd_page_set_id(CdPage *self, gint64 id)
{
  self->id = id;
}

/**
 * cd_page_encode_image:
 * @self: a #CdPage
 * @error: return location for a #GError
 *
 * Encodes the current image for storage and drops the PIX, so a page waiting
 * for the rest of its document holds tens of kilobytes, not megabytes.
 * Bilevel images become CCITT G4 TIFF; grey and colour become JPEG at
 * quality 85 (a deliberate trade of a little fidelity for a tenth of the
 * size of PNG; the OCR has already run on the full image). The engine
 * encodes on the worker thread, after the last page stage, so that the one
 * archive writer only inserts bytes; a page without pixels is left as it is.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
cd_page_encode_image(CdPage *self, GError **error)
{
  l_uint8 *data = NULL;
  size_t size = 0;
  gint rc;
  g_autoptr(PIX) pix = NULL;

  if (self->pix == NULL)
    return TRUE;
  pix = g_steal_pointer(&self->pix);
  pixSetResolution(pix, self->xres, self->yres);
  if (pixGetDepth(pix) == 1) {
    rc = pixWriteMemTiff(&data, &size, pix, IFF_TIFF_G4);
    g_free(self->image_format);
    self->image_format = g_strdup("tiff-g4");
  } else {
    g_autoptr(PIX) pix32 = NULL;
    PIX *src = pix;
    if (pixGetColormap(pix) != NULL || (pixGetDepth(pix) != 8 && pixGetDepth(pix) != 32)) {
      pix32 = pixRemoveColormap(pix, REMOVE_CMAP_BASED_ON_SRC);
      if (pix32 != NULL && pixGetDepth(pix32) != 8 && pixGetDepth(pix32) != 32) {
        PIX *tmp = pixConvertTo8(pix32, FALSE);
        pixDestroy(&pix32);
        pix32 = tmp;
      }
      if (pix32 != NULL)
        src = pix32;
    }
    rc = pixWriteMemJpeg(&data, &size, src, 85, 0);
    g_free(self->image_format);
    self->image_format = g_strdup("jpeg");
  }
  if (rc != 0 || data == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_INTERNAL, "cannot encode %dx%d page image", pixGetWidth(pix),
                pixGetHeight(pix));
    return FALSE;
  }
  self->image_width = pixGetWidth(pix);
  self->image_height = pixGetHeight(pix);
  self->image_depth = pixGetDepth(pix);
  g_clear_pointer(&self->image_bytes, g_bytes_unref);
  self->image_bytes = g_bytes_new_with_free_func(data, size, (GDestroyNotify) lept_free, data);
  g_free(self->image_sha256);
  self->image_sha256 = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, self->image_bytes);
  return TRUE;
}

/**
 * cd_page_get_image_bytes:
 * @self: a #CdPage
 *
 * Returns: (transfer none) (nullable): the stored form of the image (see
 *   cd_page_encode_image()), or %NULL before it is encoded
 *
 * Since: 0.1
 */
GBytes *
cd_page_get_image_bytes(CdPage *self)
{
  return self->image_bytes;
}

/**
 * cd_page_set_image_bytes:
 * @self: a #CdPage
 * @bytes: the stored form of the image
 * @format: `tiff-g4` or `jpeg`, as the archive names it
 *
 * Gives a page read back from the archive its stored image, as
 * cd_page_encode_image() would have made it, so that exporters embed the
 * bytes without decoding and encoding them again. The SHA-256 is computed
 * from @bytes.
 *
 * Since: 0.4
 */
void
cd_page_set_image_bytes(CdPage *self, GBytes *bytes, const gchar *format)
{
  g_return_if_fail(CD_IS_PAGE(self));
  g_return_if_fail(bytes != NULL);
  g_clear_pointer(&self->image_bytes, g_bytes_unref);
  self->image_bytes = g_bytes_ref(bytes);
  g_free(self->image_format);
  self->image_format = g_strdup(format);
  g_free(self->image_sha256);
  self->image_sha256 = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, bytes);
}

/**
 * cd_page_get_image_format:
 * @self: a #CdPage
 *
 * Returns: (nullable): `tiff-g4` or `jpeg`, the format of
 *   cd_page_get_image_bytes(); %NULL before the image is encoded
 *
 * Since: 0.1
 */
const gchar *
cd_page_get_image_format(CdPage *self)
{
  return self->image_format;
}

/**
 * cd_page_get_image_sha256:
 * @self: a #CdPage
 *
 * Returns: (nullable): the SHA-256 of the stored image bytes, by which the
 *   archive addresses them; %NULL before the image is encoded
 *
 * Since: 0.1
 */
const gchar *
cd_page_get_image_sha256(CdPage *self)
{
  return self->image_sha256;
}

/**
 * cd_page_set_image_info:
 * @self: a #CdPage
 * @width: pixels across
 * @height: pixels down
 * @depth: bits a pixel
 *
 * Describes the stored image of a page read back from the archive without
 * its pixels.
 *
 * Since: 0.1
 */
void
cd_page_set_image_info(CdPage *self, gint width, gint height, gint depth)
{
  self->image_width = width;
  self->image_height = height;
  self->image_depth = depth;
}

/**
 * cd_page_get_image_info:
 * @self: a #CdPage
 * @width: (out) (optional): pixels across
 * @height: (out) (optional): pixels down
 * @depth: (out) (optional): bits a pixel
 *
 * The size of the stored image, once it is encoded (or read back).
 *
 * Since: 0.1
 */
void
cd_page_get_image_info(CdPage *self, gint *width, gint *height, gint *depth)
{
  if (width != NULL)
    *width = self->image_width;
  if (height != NULL)
    *height = self->image_height;
  if (depth != NULL)
    *depth = self->image_depth;
}
