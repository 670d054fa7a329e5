/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * cairo, opened when the retention code first draws a destruction
 * certificate (cd-lib-loader.c says why): with pixman, fontconfig,
 * freetype and the X libraries it brings 12 libraries, 1.5-2.5 ms of CPU
 * at the start of every process that links it. The functions here have
 * cairo's own names and types (checked against <cairo.h>).
 *
 * When cairo cannot be loaded, the drawing calls do nothing, the surface
 * is NULL, its status CAIRO_STATUS_NULL_POINTER, and
 * cairo_status_to_string() says why cairo is missing: the certificate
 * fails with that message.
 */
#include "config.h"

#include <string.h>

#include <cairo-pdf.h>
#include <cairo.h>

#include "cd-lib-loader-private.h"

/* cairo's soname since 1.0 */
#define CD_CAIRO_LIBRARY "libcairo.so.2"

#define CD_CAIRO_FUNCTIONS(F, V)                                                                                      \
  F(cairo_t *, cairo_create, (cairo_surface_t * target), (target), NULL)                                             \
  V(cairo_destroy, (cairo_t * cr), (cr))                                                                              \
  V(cairo_move_to, (cairo_t * cr, double x, double y), (cr, x, y))                                                    \
  F(cairo_surface_t *, cairo_pdf_surface_create_for_stream,                                                          \
    (cairo_write_func_t write_func, void *closure, double width, double height),                                     \
    (write_func, closure, width, height), NULL)                                                                       \
  V(cairo_pdf_surface_set_metadata, (cairo_surface_t * surface, cairo_pdf_metadata_t metadata, const char *utf8),   \
    (surface, metadata, utf8))                                                                                        \
  V(cairo_select_font_face,                                                                                           \
    (cairo_t * cr, const char *family, cairo_font_slant_t slant, cairo_font_weight_t weight),                         \
    (cr, family, slant, weight))                                                                                      \
  V(cairo_set_font_size, (cairo_t * cr, double size), (cr, size))                                                     \
  V(cairo_set_source_rgb, (cairo_t * cr, double red, double green, double blue), (cr, red, green, blue))              \
  V(cairo_show_page, (cairo_t * cr), (cr))                                                                            \
  V(cairo_show_text, (cairo_t * cr, const char *utf8), (cr, utf8))                                                    \
  F(const char *, cairo_status_to_string, (cairo_status_t status), (status), cd_cairo.error)                          \
  V(cairo_surface_destroy, (cairo_surface_t * surface), (surface))                                                    \
  V(cairo_surface_finish, (cairo_surface_t * surface), (surface))                                                     \
  F(cairo_status_t, cairo_surface_status, (cairo_surface_t * surface), (surface), CAIRO_STATUS_NULL_POINTER)

enum {
#define CD_CAIRO_ENUM(ret, name, params, args, fallback) CD_CAIRO_##name,
#define CD_CAIRO_ENUM_VOID(name, params, args) CD_CAIRO_##name,
  CD_CAIRO_FUNCTIONS(CD_CAIRO_ENUM, CD_CAIRO_ENUM_VOID) CD_CAIRO_cairo_text_extents,
  CD_CAIRO_N_FUNCTIONS
};

static const gchar *const cd_cairo_names[] = {
#define CD_CAIRO_NAME(ret, name, params, args, fallback) #name,
#define CD_CAIRO_NAME_VOID(name, params, args) #name,
  CD_CAIRO_FUNCTIONS(CD_CAIRO_NAME, CD_CAIRO_NAME_VOID) "cairo_text_extents",
  NULL,
};

static gpointer cd_cairo_functions[CD_CAIRO_N_FUNCTIONS];
static CdLibLoader cd_cairo = { CD_CAIRO_LIBRARY, "the cairo graphics library", cd_cairo_names, cd_cairo_functions, 0,
                                FALSE, NULL };

#define CD_CAIRO_DEFINE(ret, name, params, args, fallback)                                                            \
  ret name params                                                                                                     \
  {                                                                                                                   \
    if (!cd_lib_loader_load(&cd_cairo))                                                                               \
      return fallback;                                                                                                \
    return ((ret(*) params) cd_cairo_functions[CD_CAIRO_##name])args;                                                 \
  }
#define CD_CAIRO_DEFINE_VOID(name, params, args)                                                                      \
  void name params                                                                                                    \
  {                                                                                                                   \
    if (cd_lib_loader_load(&cd_cairo))                                                                                \
      ((void(*) params) cd_cairo_functions[CD_CAIRO_##name])args;                                                     \
  }
CD_CAIRO_FUNCTIONS(CD_CAIRO_DEFINE, CD_CAIRO_DEFINE_VOID)

/* without cairo, the text has no extent (rather than whatever was in
 * @extents) */
void
cairo_text_extents(cairo_t *cr, const char *utf8, cairo_text_extents_t *extents)
{
  if (cd_lib_loader_load(&cd_cairo))
    ((void (*)(cairo_t *, const char *, cairo_text_extents_t *)) cd_cairo_functions[CD_CAIRO_cairo_text_extents])(
        cr, utf8, extents);
  else
    memset(extents, 0, sizeof(*extents));
}
