/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>
#include <sane/sane.h>
#include <sane/saneopts.h>
#include <stdarg.h>
#include <string.h>

#include "cd-sane-source.h"

/**
 * CdSaneSource:
 *
 * Scans pages from SANE devices: the flatbed glass, a document feeder or a
 * duplex feeder, in lineart, grey or colour, at a chosen resolution and page
 * size.
 *
 * Each device given to open() (or the `device` option, or the first device
 * found) is one scan session. A session's pages share one provenance: the
 * path `sane:DEVICE/TIMESTAMP` and a session identity in the place of a
 * file's SHA-256, so its pages make documents together as the pages of one
 * multi-page file do, and a second scan of the same paper is a new session,
 * never a duplicate.
 *
 * A feeder scans until it is empty. An empty feeder before the first page is
 * an error (nothing was loaded); after it, the normal end of the session. A
 * jam, an open cover, an I/O error or any other failure of the device ends
 * the session with one failed page naming the device and the page, so the
 * pages scanned before it are archived and the operator knows where to
 * start again.
 */
struct _CdSaneSource {
  CdSource parent_instance;
  /* options */
  gchar *device;
  gchar *source;
  gint mode;
  guint resolution;
  gchar *page_size;
  guint max_pages;
  gchar **device_options; /* NAME=VALUE, the device's own options */
  /* what to scan */
  GPtrArray *devices; /* of gchar*: the devices of this batch, in order */
  guint next_device;
  /* the session being scanned */
  SANE_Handle handle;
  gchar *name;         /* its device name */
  gchar *session_path; /* sane:DEVICE/TIMESTAMP */
  gchar *session_sha;  /* the session's identity */
  gchar *source_name;  /* the device's own name of the source used */
  gchar *mode_name;    /* the device's own name of the mode used */
  gboolean feeder;     /* scan until the feeder is empty */
  gboolean duplex;     /* sheets alternate front, back */
  gboolean threshold;  /* lineart made here from a grey scan */
  gint xres, yres;
  gint page;             /* index of the next page in the session */
  gboolean in_frame;     /* a frame was started and not read to its end */
  gboolean test_backend; /* sane-backends' virtual scanner: see read_frame */
};

G_DEFINE_TYPE(CdSaneSource, cd_sane_source, CD_TYPE_SOURCE)

typedef enum {
  CD_SANE_MODE_LINEART,
  CD_SANE_MODE_GRAY,
  CD_SANE_MODE_COLOR,
} CdSaneMode;

static GType
cd_sane_mode_get_type(void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
    { CD_SANE_MODE_LINEART, "CD_SANE_MODE_LINEART", "lineart" },
    { CD_SANE_MODE_GRAY, "CD_SANE_MODE_GRAY", "gray" },
    { CD_SANE_MODE_COLOR, "CD_SANE_MODE_COLOR", "color" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("CdSaneMode", values));
  return type;
}

enum {
  PROP_0,
  PROP_DEVICE,
  PROP_SOURCE,
  PROP_MODE,
  PROP_RESOLUTION,
  PROP_PAGE_SIZE,
  PROP_MAX_PAGES,
  PROP_DEVICE_OPTIONS,
  PROP_DEVICES,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

#define DEFAULT_DEVICE ""
#define DEFAULT_SOURCE "auto"
#define DEFAULT_MODE CD_SANE_MODE_GRAY
#define DEFAULT_RESOLUTION 300
#define DEFAULT_PAGE_SIZE "letter"
#define DEFAULT_MAX_PAGES 0

/* The SANE library is initialised once per process and never left: plugin
 * modules stay resident, so there is no unload to hook, and leaving it at
 * exit (sane_exit unloads the backends) can deadlock in the dynamic loader
 * when a backend's thread died holding its lock, as sane-backends' test
 * backend's asynchronously cancelled reader can. The system takes
 * everything back at exit. The calls that touch the library's global state
 * (device lists, opening and closing devices) take one lock; a handle is
 * used by one thread at a time. */
static GMutex cd_sane_lock;

static gboolean
cd_sane_ensure_init(GError **error)
{
  static gsize once = 0;
  static SANE_Status status = SANE_STATUS_GOOD;

  if (g_once_init_enter(&once)) {
    SANE_Int version = 0;
    status = sane_init(&version, NULL);
    if (status == SANE_STATUS_GOOD)
      g_debug("SANE %d.%d.%d", SANE_VERSION_MAJOR(version), SANE_VERSION_MINOR(version), SANE_VERSION_BUILD(version));
    g_once_init_leave(&once, 1);
  }
  if (status != SANE_STATUS_GOOD) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED, "the SANE library cannot start: %s", sane_strstatus(status));
    return FALSE;
  }
  return TRUE;
}

/**
 * cd_sane_list_devices:
 * @error: return location for a #GError
 *
 * Lists the scanners SANE finds, local and on the network, as
 * `name\tvendor\tmodel\ttype` lines.
 *
 * Returns: (transfer full) (element-type utf8): the devices, or %NULL with
 *   @error set
 */
GPtrArray *
cd_sane_list_devices(GError **error)
{
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GMutexLocker) locker = NULL;
  const SANE_Device **list = NULL;
  SANE_Status status;

  if (!cd_sane_ensure_init(error))
    return NULL;
  locker = g_mutex_locker_new(&cd_sane_lock);
  status = sane_get_devices(&list, SANE_FALSE);
  if (status != SANE_STATUS_GOOD) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "cannot list scanners: %s", sane_strstatus(status));
    return NULL;
  }
  for (guint i = 0; list != NULL && list[i] != NULL; i++) {
    const SANE_Device *d = list[i];
    g_ptr_array_add(devices, g_strdup_printf("%s\t%s\t%s\t%s", d->name, d->vendor != NULL ? d->vendor : "",
                                             d->model != NULL ? d->model : "", d->type != NULL ? d->type : ""));
  }
  return g_steal_pointer(&devices);
}

static GStrv
cd_sane_source_devices_strv(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = cd_sane_list_devices(&error);

  if (devices == NULL) {
    g_message("%s", error->message);
    return g_new0(gchar *, 1);
  }
  g_ptr_array_add(devices, NULL);
  return (GStrv) g_ptr_array_steal(devices, NULL);
}

/* ------------------------------------------------------------- options */

/* The index of the device option @name when it can be set now, else -1. */
static SANE_Int
cd_sane_find_option(SANE_Handle handle, const gchar *name, const SANE_Option_Descriptor **desc_out)
{
  SANE_Int count = 0;

  if (sane_control_option(handle, 0, SANE_ACTION_GET_VALUE, &count, NULL) != SANE_STATUS_GOOD)
    return -1;
  for (SANE_Int i = 1; i < count; i++) {
    const SANE_Option_Descriptor *desc = sane_get_option_descriptor(handle, i);
    if (desc == NULL || desc->name == NULL || g_strcmp0(desc->name, name) != 0)
      continue;
    if (!SANE_OPTION_IS_ACTIVE(desc->cap) || !SANE_OPTION_IS_SETTABLE(desc->cap))
      return -1;
    if (desc_out != NULL)
      *desc_out = desc;
    return i;
  }
  return -1;
}

/* The values a string-list option allows, or NULL. */
static const SANE_String_Const *
cd_sane_string_list(SANE_Handle handle, const gchar *name)
{
  const SANE_Option_Descriptor *desc = NULL;

  if (cd_sane_find_option(handle, name, &desc) < 0 || desc->type != SANE_TYPE_STRING ||
      desc->constraint_type != SANE_CONSTRAINT_STRING_LIST)
    return NULL;
  return desc->constraint.string_list;
}

static gchar *
cd_sane_join_list(const SANE_String_Const *list)
{
  g_autoptr(GString) s = g_string_new(NULL);
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    g_string_append_printf(s, "%s%s", i > 0 ? ", " : "", list[i]);
  return g_string_free(g_steal_pointer(&s), FALSE);
}

static gboolean
cd_sane_set_string(SANE_Handle handle, const gchar *device, const gchar *name, const gchar *value, GError **error)
{
  const SANE_Option_Descriptor *desc = NULL;
  SANE_Int index = cd_sane_find_option(handle, name, &desc);
  g_autofree gchar *buf = NULL;
  SANE_Status status;

  if (index < 0 || desc->type != SANE_TYPE_STRING) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED, "scanner %s has no %s option to set", device, name);
    return FALSE;
  }
  buf = g_malloc0(MAX((gsize) desc->size, strlen(value) + 1));
  g_strlcpy(buf, value, MAX((gsize) desc->size, strlen(value) + 1));
  status = sane_control_option(handle, index, SANE_ACTION_SET_VALUE, buf, NULL);
  if (status != SANE_STATUS_GOOD) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED, "scanner %s refuses %s '%s': %s", device, name, value,
                sane_strstatus(status));
    return FALSE;
  }
  return TRUE;
}

static gboolean
cd_sane_set_bool(SANE_Handle handle, const gchar *name, gboolean value)
{
  const SANE_Option_Descriptor *desc = NULL;
  SANE_Int index = cd_sane_find_option(handle, name, &desc);
  SANE_Bool v = value ? SANE_TRUE : SANE_FALSE;

  if (index < 0 || desc->type != SANE_TYPE_BOOL)
    return FALSE;
  return sane_control_option(handle, index, SANE_ACTION_SET_VALUE, &v, NULL) == SANE_STATUS_GOOD;
}

static gdouble
cd_sane_word_to_double(const SANE_Option_Descriptor *desc, SANE_Word w)
{
  return desc->type == SANE_TYPE_FIXED ? SANE_UNFIX(w) : (gdouble) w;
}

static SANE_Word
cd_sane_double_to_word(const SANE_Option_Descriptor *desc, gdouble v)
{
  return desc->type == SANE_TYPE_FIXED ? SANE_FIX(v) : (SANE_Word) lround(v);
}

/* The value nearest @want that the option's constraint allows. */
static SANE_Word
cd_sane_constrain(const SANE_Option_Descriptor *desc, gdouble want)
{
  if (desc->constraint_type == SANE_CONSTRAINT_RANGE) {
    const SANE_Range *r = desc->constraint.range;
    gdouble min = cd_sane_word_to_double(desc, r->min);
    gdouble max = cd_sane_word_to_double(desc, r->max);
    gdouble quant = cd_sane_word_to_double(desc, r->quant);
    gdouble v = CLAMP(want, min, max);
    if (quant > 0)
      v = MIN(max, min + round((v - min) / quant) * quant);
    return cd_sane_double_to_word(desc, v);
  }
  if (desc->constraint_type == SANE_CONSTRAINT_WORD_LIST) {
    const SANE_Word *list = desc->constraint.word_list;
    SANE_Word best = 0;
    gdouble best_d = G_MAXDOUBLE;
    for (SANE_Int i = 1; i <= list[0]; i++) {
      gdouble d = fabs(cd_sane_word_to_double(desc, list[i]) - want);
      if (d < best_d) {
        best_d = d;
        best = list[i];
      }
    }
    if (list[0] > 0)
      return best;
  }
  return cd_sane_double_to_word(desc, want);
}

/* Sets a number option to the allowed value nearest @want and returns the
 * value the device took in @actual. FALSE when there is no such option. */
static gboolean
cd_sane_set_number(SANE_Handle handle, const gchar *name, gdouble want, gdouble *actual)
{
  const SANE_Option_Descriptor *desc = NULL;
  SANE_Int index = cd_sane_find_option(handle, name, &desc);
  SANE_Word w;

  if (index < 0 || (desc->type != SANE_TYPE_INT && desc->type != SANE_TYPE_FIXED) || desc->size != sizeof(SANE_Word))
    return FALSE;
  w = cd_sane_constrain(desc, want);
  if (sane_control_option(handle, index, SANE_ACTION_SET_VALUE, &w, NULL) != SANE_STATUS_GOOD)
    return FALSE;
  /* the device may round: read back what it took */
  if (sane_control_option(handle, index, SANE_ACTION_GET_VALUE, &w, NULL) != SANE_STATUS_GOOD)
    return FALSE;
  if (actual != NULL)
    *actual = cd_sane_word_to_double(desc, w);
  return TRUE;
}

static gboolean
cd_sane_allows_word(SANE_Handle handle, const gchar *name, SANE_Word value)
{
  const SANE_Option_Descriptor *desc = NULL;

  if (cd_sane_find_option(handle, name, &desc) < 0)
    return FALSE;
  if (desc->constraint_type == SANE_CONSTRAINT_WORD_LIST) {
    for (SANE_Int i = 1; i <= desc->constraint.word_list[0]; i++) {
      if (desc->constraint.word_list[i] == value)
        return TRUE;
    }
    return FALSE;
  }
  if (desc->constraint_type == SANE_CONSTRAINT_RANGE)
    return value >= desc->constraint.range->min && value <= desc->constraint.range->max;
  return TRUE;
}

static gboolean
cd_sane_name_has(const gchar *name, const gchar *const *words)
{
  g_autofree gchar *lower = g_ascii_strdown(name, -1);
  for (guint i = 0; words[i] != NULL; i++) {
    if (strstr(lower, words[i]) != NULL)
      return TRUE;
  }
  return FALSE;
}

static const gchar *const feeder_words[] = { "adf", "feeder", "automatic document", "sheet", NULL };
static const gchar *const duplex_words[] = { "duplex", "both", NULL };
static const gchar *const back_words[] = { "back", "rear", NULL };

static gboolean
cd_sane_is_feeder_name(const gchar *name)
{
  return cd_sane_name_has(name, feeder_words) || cd_sane_name_has(name, duplex_words);
}

/* Picks the device's own source for the `source` option: flatbed, adf,
 * adf-duplex, auto, or one of the device's names. NULL when none fits. */
static const gchar *
cd_sane_pick_source(const SANE_String_Const *list, const gchar *want)
{
  static const gchar *const flatbed_words[] = { "flatbed", "normal", "glass", NULL };

  for (guint i = 0; list[i] != NULL; i++) {
    if (g_ascii_strcasecmp(list[i], want) == 0)
      return list[i];
  }
  for (guint i = 0; list[i] != NULL; i++) {
    gboolean feeder = cd_sane_is_feeder_name(list[i]);
    gboolean duplex = cd_sane_name_has(list[i], duplex_words);
    gboolean back = cd_sane_name_has(list[i], back_words);
    if (g_strcmp0(want, "flatbed") == 0 && cd_sane_name_has(list[i], flatbed_words))
      return list[i];
    if ((g_strcmp0(want, "adf") == 0 || g_strcmp0(want, "auto") == 0) && feeder && !duplex && !back)
      return list[i];
    if (g_strcmp0(want, "adf-duplex") == 0 && duplex)
      return list[i];
  }
  return NULL;
}

/* Some devices scan both sides through an option of the feeder rather than a
 * source of their own. */
static gboolean
cd_sane_enable_duplex_option(SANE_Handle handle, const gchar *device)
{
  const SANE_String_Const *modes = cd_sane_string_list(handle, "adf-mode");

  if (cd_sane_set_bool(handle, "duplex", TRUE))
    return TRUE;
  for (guint i = 0; modes != NULL && modes[i] != NULL; i++) {
    if (cd_sane_name_has(modes[i], duplex_words))
      return cd_sane_set_string(handle, device, "adf-mode", modes[i], NULL);
  }
  return FALSE;
}

/* The device's type ("flatbed scanner", "sheetfed scanner"), for devices
 * without a source option. Only local devices are listed: a network scanner
 * without a source option is taken for a flatbed. */
static gchar *
cd_sane_device_type(const gchar *name)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&cd_sane_lock);
  const SANE_Device **list = NULL;

  if (sane_get_devices(&list, SANE_TRUE) != SANE_STATUS_GOOD)
    return NULL;
  for (guint i = 0; list != NULL && list[i] != NULL; i++) {
    if (g_strcmp0(list[i]->name, name) == 0)
      return g_strdup(list[i]->type);
  }
  return NULL;
}

static gboolean
cd_sane_source_set_source(CdSaneSource *self, GError **error)
{
  const SANE_String_Const *list = cd_sane_string_list(self->handle, SANE_NAME_SCAN_SOURCE);
  const gchar *want = self->source[0] != '\0' ? self->source : DEFAULT_SOURCE;
  const gchar *pick;

  if (list == NULL) {
    /* one source only: what the device is tells */
    g_autofree gchar *device_type = cd_sane_device_type(self->name);
    gboolean sheetfed = device_type != NULL && cd_sane_name_has(device_type, feeder_words);
    if (g_strcmp0(want, "flatbed") == 0 && sheetfed) {
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED, "scanner %s has no flatbed: it is a %s", self->name,
                  device_type);
      return FALSE;
    }
    if ((g_strcmp0(want, "adf") == 0 || g_strcmp0(want, "adf-duplex") == 0) && !sheetfed) {
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED, "scanner %s has no document feeder (it is a %s)", self->name,
                  device_type != NULL ? device_type : "scanner");
      return FALSE;
    }
    self->feeder = sheetfed;
    if (g_strcmp0(want, "adf-duplex") == 0) {
      if (!cd_sane_enable_duplex_option(self->handle, self->name)) {
        g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED, "scanner %s cannot scan both sides of a sheet",
                    self->name);
        return FALSE;
      }
      self->duplex = TRUE;
    }
    self->source_name = g_strdup(sheetfed ? "feeder" : "flatbed");
    return TRUE;
  }

  pick = cd_sane_pick_source(list, want);
  if (pick == NULL && g_strcmp0(want, "adf-duplex") == 0) {
    /* a simplex feeder with a duplex switch */
    g_autofree gchar *adf = g_strdup(cd_sane_pick_source(list, "adf"));
    if (adf != NULL && cd_sane_set_string(self->handle, self->name, SANE_NAME_SCAN_SOURCE, adf, NULL) &&
        cd_sane_enable_duplex_option(self->handle, self->name)) {
      self->duplex = TRUE;
      self->feeder = TRUE;
      self->source_name = g_steal_pointer(&adf);
      return TRUE;
    }
    /* setting an option may reload the others: read the list again */
    list = cd_sane_string_list(self->handle, SANE_NAME_SCAN_SOURCE);
    if (list == NULL)
      list = (const SANE_String_Const[]){ NULL };
  }
  if (pick == NULL && g_strcmp0(want, "auto") == 0) {
    /* no feeder: the glass, or whatever the device starts with */
    pick = cd_sane_pick_source(list, "flatbed");
    if (pick == NULL)
      pick = list[0];
  }
  if (pick == NULL) {
    g_autofree gchar *names = cd_sane_join_list(list);
    const gchar *what = g_strcmp0(want, "adf-duplex") == 0 ? "no duplex document feeder"
                        : g_strcmp0(want, "adf") == 0      ? "no document feeder"
                        : g_strcmp0(want, "flatbed") == 0  ? "no flatbed"
                                                           : NULL;
    if (what != NULL)
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED, "scanner %s has %s; its sources are: %s", self->name, what,
                  names);
    else
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "scanner %s has no source '%s'; its sources are: %s",
                  self->name, want, names);
    return FALSE;
  }
  /* copied first: setting an option may reload the device's descriptors */
  self->source_name = g_strdup(pick);
  self->feeder = cd_sane_is_feeder_name(self->source_name);
  self->duplex = cd_sane_name_has(self->source_name, duplex_words);
  if (!cd_sane_set_string(self->handle, self->name, SANE_NAME_SCAN_SOURCE, self->source_name, error))
    return FALSE;
  return TRUE;
}

/* Picks the device's own name of @mode. */
static const gchar *
cd_sane_pick_mode(const SANE_String_Const *list, CdSaneMode mode)
{
  static const gchar *const lineart[] = { "lineart", "binary", "black & white", "black and white", NULL };
  static const gchar *const gray[] = { "gray", "grey", NULL };
  static const gchar *const color[] = { "color", "colour", NULL };
  const gchar *exact = mode == CD_SANE_MODE_LINEART ? SANE_VALUE_SCAN_MODE_LINEART
                       : mode == CD_SANE_MODE_GRAY  ? SANE_VALUE_SCAN_MODE_GRAY
                                                    : SANE_VALUE_SCAN_MODE_COLOR;
  const gchar *const *words = mode == CD_SANE_MODE_LINEART ? lineart : mode == CD_SANE_MODE_GRAY ? gray : color;

  for (guint i = 0; list[i] != NULL; i++) {
    if (g_ascii_strcasecmp(list[i], exact) == 0)
      return list[i];
  }
  for (guint i = 0; list[i] != NULL; i++) {
    /* "Color Lineart" and "Color Halftone" are not lineart */
    if (cd_sane_name_has(list[i], words) && (mode == CD_SANE_MODE_COLOR || !cd_sane_name_has(list[i], color)) &&
        !cd_sane_name_has(list[i], (const gchar *const[]){ "halftone", "dither", NULL }))
      return list[i];
  }
  return NULL;
}

/* Sets the scan mode. Lineart on a device without it is a grey scan at one
 * bit if the device offers that depth, else a grey scan thresholded here. */
static gboolean
cd_sane_source_set_mode(CdSaneSource *self, GError **error)
{
  const SANE_String_Const *list = cd_sane_string_list(self->handle, SANE_NAME_SCAN_MODE);
  CdSaneMode mode = self->mode;
  gboolean has_lineart;
  const gchar *pick;

  if (list == NULL) {
    self->mode_name = g_strdup("default");
    self->threshold = mode == CD_SANE_MODE_LINEART;
    return TRUE;
  }
  pick = cd_sane_pick_mode(list, mode);
  if (pick == NULL && mode == CD_SANE_MODE_LINEART)
    pick = cd_sane_pick_mode(list, CD_SANE_MODE_GRAY);
  if (pick == NULL) {
    g_autofree gchar *names = cd_sane_join_list(list);
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED, "scanner %s cannot scan in %s; its modes are: %s", self->name,
                mode == CD_SANE_MODE_COLOR ? "colour" : "grey", names);
    return FALSE;
  }
  /* copied first: setting an option may reload the device's descriptors */
  has_lineart = cd_sane_pick_mode(list, CD_SANE_MODE_LINEART) != NULL;
  self->mode_name = g_strdup(pick);
  if (!cd_sane_set_string(self->handle, self->name, SANE_NAME_SCAN_MODE, self->mode_name, error))
    return FALSE;
  if (mode == CD_SANE_MODE_LINEART && !has_lineart) {
    if (cd_sane_allows_word(self->handle, SANE_NAME_BIT_DEPTH, 1) &&
        cd_sane_set_number(self->handle, SANE_NAME_BIT_DEPTH, 1, NULL)) {
      gchar *name = g_strdup_printf("%s, 1 bit", self->mode_name);
      g_free(self->mode_name);
      self->mode_name = name;
    } else {
      self->threshold = TRUE;
    }
  } else if (mode != CD_SANE_MODE_LINEART && cd_sane_allows_word(self->handle, SANE_NAME_BIT_DEPTH, 8)) {
    cd_sane_set_number(self->handle, SANE_NAME_BIT_DEPTH, 8, NULL);
  }
  return TRUE;
}

static gboolean
cd_sane_source_set_resolution(CdSaneSource *self, GError **error)
{
  gdouble x = 0, y = 0;

  if (cd_sane_set_number(self->handle, SANE_NAME_SCAN_RESOLUTION, self->resolution, &x)) {
    y = x;
  } else if (cd_sane_set_number(self->handle, SANE_NAME_SCAN_X_RESOLUTION, self->resolution, &x)) {
    if (!cd_sane_set_number(self->handle, SANE_NAME_SCAN_Y_RESOLUTION, self->resolution, &y))
      y = x;
  } else {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED, "scanner %s does not let its resolution be set", self->name);
    return FALSE;
  }
  self->xres = (gint) lround(x);
  self->yres = (gint) lround(y);
  if (self->xres != (gint) self->resolution || self->yres != (gint) self->resolution)
    g_message("scanner %s scans at %d × %d dpi, the nearest it offers to %u", self->name, self->xres, self->yres,
              self->resolution);
  return TRUE;
}

/* Reads `letter`, `legal`, `a4`, `a5`, `max` or `WIDTHxHEIGHT` (mm) into a
 * width and height in mm; 0 × 0 is the device's largest area. */
static gboolean
cd_sane_parse_page_size(const gchar *text, gdouble *width, gdouble *height)
{
  static const struct {
    const gchar *name;
    gdouble w, h;
  } sizes[] = {
    { "letter", 215.9, 279.4 }, { "legal", 215.9, 355.6 }, { "a4", 210, 297 }, { "a5", 148, 210 }, { "max", 0, 0 },
  };
  g_auto(GStrv) parts = NULL;
  gchar *end = NULL;

  for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
    if (g_ascii_strcasecmp(text, sizes[i].name) == 0) {
      *width = sizes[i].w;
      *height = sizes[i].h;
      return TRUE;
    }
  }
  parts = g_strsplit(text, "x", 2);
  if (parts[0] == NULL || parts[1] == NULL)
    return FALSE;
  *width = g_ascii_strtod(parts[0], &end);
  if (end == parts[0] || *end != '\0' || *width <= 0)
    return FALSE;
  *height = g_ascii_strtod(parts[1], &end);
  if (end == parts[1] || *end != '\0' || *height <= 0)
    return FALSE;
  return TRUE;
}

/* A length in the unit of the geometry option @name. */
static gdouble
cd_sane_source_to_unit(CdSaneSource *self, const gchar *name, gdouble mm, gboolean vertical)
{
  const SANE_Option_Descriptor *desc = NULL;

  if (cd_sane_find_option(self->handle, name, &desc) >= 0 && desc->unit == SANE_UNIT_PIXEL)
    return mm / 25.4 * (vertical ? self->yres : self->xres);
  return mm;
}

/* Sets the scan area from the top-left corner; a page larger than the
 * device scans is cut to what it can, and the operator told. */
static gboolean
cd_sane_source_set_page_size(CdSaneSource *self, GError **error)
{
  gdouble width = 0, height = 0, got_w = 0, got_h = 0;
  gboolean has_x, has_y;

  if (!cd_sane_parse_page_size(self->page_size, &width, &height)) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                "page size '%s' is not letter, legal, a4, a5, max or WIDTHxHEIGHT in millimetres", self->page_size);
    return FALSE;
  }
  if (width == 0)
    width = height = G_MAXINT; /* the largest the device allows */
  /* sheet-fed devices size their feeder first; it bounds the scan area */
  cd_sane_set_number(self->handle, SANE_NAME_PAGE_WIDTH, cd_sane_source_to_unit(self, SANE_NAME_PAGE_WIDTH, width, 0),
                     NULL);
  cd_sane_set_number(self->handle, SANE_NAME_PAGE_HEIGHT,
                     cd_sane_source_to_unit(self, SANE_NAME_PAGE_HEIGHT, height, 1), NULL);
  cd_sane_set_number(self->handle, SANE_NAME_SCAN_TL_X, 0, NULL);
  cd_sane_set_number(self->handle, SANE_NAME_SCAN_TL_Y, 0, NULL);
  has_x = cd_sane_set_number(self->handle, SANE_NAME_SCAN_BR_X,
                             cd_sane_source_to_unit(self, SANE_NAME_SCAN_BR_X, width, FALSE), &got_w);
  has_y = cd_sane_set_number(self->handle, SANE_NAME_SCAN_BR_Y,
                             cd_sane_source_to_unit(self, SANE_NAME_SCAN_BR_Y, height, TRUE), &got_h);
  if (!has_x || !has_y) {
    g_debug("scanner %s has no scan area to set; it scans its own page size", self->name);
    return TRUE;
  }
  got_w = cd_sane_source_to_unit(self, SANE_NAME_SCAN_BR_X, 1, FALSE) == 1 ? got_w : got_w * 25.4 / self->xres;
  got_h = cd_sane_source_to_unit(self, SANE_NAME_SCAN_BR_Y, 1, TRUE) == 1 ? got_h : got_h * 25.4 / self->yres;
  if (width < G_MAXINT && (got_w + 1 < width || got_h + 1 < height))
    g_message("scanner %s scans at most %.0f × %.0f mm: the %s page is cut to that", self->name, got_w, got_h,
              self->page_size);
  return TRUE;
}

/* Sets the device's own options (`NAME=VALUE`, in order, after ours): a
 * feeder's double-feed detection, a backend's deskew, and so on. Any value
 * the device will not take stops the session before a page is scanned. */
static gboolean
cd_sane_source_set_device_options(CdSaneSource *self, GError **error)
{
  for (guint i = 0; self->device_options != NULL && self->device_options[i] != NULL; i++) {
    g_auto(GStrv) kv = g_strsplit(self->device_options[i], "=", 2);
    const SANE_Option_Descriptor *desc = NULL;
    const gchar *name = g_strstrip(kv[0]);
    const gchar *value = kv[1] != NULL ? kv[1] : "";
    SANE_Int index = cd_sane_find_option(self->handle, name, &desc);
    SANE_Status status = SANE_STATUS_INVAL;

    if (index < 0) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT,
                  "scanner %s has no option '%s' that can be set now (`scanimage -d %s -A` lists them)", self->name,
                  name, self->name);
      return FALSE;
    }
    if (desc->type == SANE_TYPE_BOOL) {
      SANE_Bool b;
      if (g_ascii_strcasecmp(value, "yes") == 0 || g_ascii_strcasecmp(value, "true") == 0 || g_strcmp0(value, "1") == 0)
        b = SANE_TRUE;
      else if (g_ascii_strcasecmp(value, "no") == 0 || g_ascii_strcasecmp(value, "false") == 0 ||
               g_strcmp0(value, "0") == 0)
        b = SANE_FALSE;
      else
        b = -1;
      if (b != -1)
        status = sane_control_option(self->handle, index, SANE_ACTION_SET_VALUE, &b, NULL);
    } else if ((desc->type == SANE_TYPE_INT || desc->type == SANE_TYPE_FIXED) && desc->size == sizeof(SANE_Word)) {
      gchar *end = NULL;
      gdouble v = g_ascii_strtod(value, &end);
      if (end != value && *end == '\0') {
        SANE_Word w = cd_sane_double_to_word(desc, v);
        status = sane_control_option(self->handle, index, SANE_ACTION_SET_VALUE, &w, NULL);
      }
    } else if (desc->type == SANE_TYPE_STRING) {
      const gchar *pick = value;
      /* the device's own spelling of a listed value */
      for (guint j = 0; desc->constraint_type == SANE_CONSTRAINT_STRING_LIST && desc->constraint.string_list[j] != NULL;
           j++) {
        if (g_ascii_strcasecmp(desc->constraint.string_list[j], value) == 0)
          pick = desc->constraint.string_list[j];
      }
      if (!cd_sane_set_string(self->handle, self->name, name, pick, error))
        return FALSE;
      continue;
    } else if (desc->type == SANE_TYPE_BUTTON) {
      status = sane_control_option(self->handle, index, SANE_ACTION_SET_VALUE, NULL, NULL);
    }
    if (status != SANE_STATUS_GOOD) {
      g_set_error(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "scanner %s refuses %s=%s: %s", self->name, name, value,
                  sane_strstatus(status));
      return FALSE;
    }
  }
  return TRUE;
}

/* ------------------------------------------------------------- session */

/* Ends the session. A frame abandoned midway (a device error, a cancel) is
 * given a moment before it is cancelled: some backends (sane-backends' own
 * `test` among them) cancel their reader thread asynchronously, and one
 * cancelled while it is starting or ending can hang the process in malloc or
 * the dynamic loader. A jam costs a person minutes; this costs a tenth of a
 * second. */
static void
cd_sane_source_close_device(CdSaneSource *self)
{
  if (self->handle != NULL) {
    g_autoptr(GMutexLocker) locker = NULL;
    if (self->in_frame)
      g_usleep(G_USEC_PER_SEC / 10);
    sane_cancel(self->handle);
    locker = g_mutex_locker_new(&cd_sane_lock);
    sane_close(self->handle);
  }
  self->handle = NULL;
  g_clear_pointer(&self->name, g_free);
  g_clear_pointer(&self->session_path, g_free);
  g_clear_pointer(&self->session_sha, g_free);
  g_clear_pointer(&self->source_name, g_free);
  g_clear_pointer(&self->mode_name, g_free);
  self->feeder = self->duplex = self->threshold = self->in_frame = self->test_backend = FALSE;
  self->page = 0;
}

/* The first device SANE finds, for an empty device name. */
static gchar *
cd_sane_first_device(GError **error)
{
  g_autoptr(GPtrArray) devices = cd_sane_list_devices(error);
  g_auto(GStrv) fields = NULL;

  if (devices == NULL)
    return NULL;
  if (devices->len == 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_NOT_FOUND,
                        "no scanner found (`scanimage -L` lists what SANE sees; is the scanner on, its backend "
                        "enabled in dll.conf, and the user allowed to use it?)");
    return NULL;
  }
  fields = g_strsplit(g_ptr_array_index(devices, 0), "\t", 2);
  return g_strdup(fields[0]);
}

/* Opens and sets up the device @name and starts its session. */
static gboolean
cd_sane_source_start_device(CdSaneSource *self, const gchar *name, GError **error)
{
  g_autoptr(GChecksum) identity = g_checksum_new(G_CHECKSUM_SHA256);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree gchar *stamp = g_date_time_format_iso8601(now);
  g_autofree gchar *nonce = g_uuid_string_random();
  g_autofree gchar *first = NULL;
  SANE_Status status;

  if (!cd_sane_ensure_init(error))
    return FALSE;
  if (name == NULL || name[0] == '\0') {
    first = cd_sane_first_device(error);
    if (first == NULL)
      return FALSE;
    name = first;
  }
  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&cd_sane_lock);
    status = sane_open(name, &self->handle);
  }
  if (status != SANE_STATUS_GOOD) {
    self->handle = NULL;
    switch (status) {
    case SANE_STATUS_DEVICE_BUSY:
      g_set_error(error, CD_ERROR, CD_ERROR_BUSY, "scanner %s is busy (another program is using it)", name);
      break;
    case SANE_STATUS_ACCESS_DENIED:
      g_set_error(error, CD_ERROR, CD_ERROR_FAILED,
                  "scanner %s: access denied (is the user in the group allowed to use scanners?)", name);
      break;
    case SANE_STATUS_INVAL:
      g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND, "no scanner %s (`chartdesk scanners` lists them)", name);
      break;
    default:
      g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "cannot open scanner %s: %s", name, sane_strstatus(status));
    }
    return FALSE;
  }
  self->name = g_strdup(name);
  self->test_backend = g_str_has_prefix(name, "test:") || g_strcmp0(name, "test") == 0;
  if (!cd_sane_source_set_source(self, error) || !cd_sane_source_set_mode(self, error) ||
      !cd_sane_source_set_resolution(self, error) || !cd_sane_source_set_page_size(self, error) ||
      !cd_sane_source_set_device_options(self, error)) {
    cd_sane_source_close_device(self);
    return FALSE;
  }

  /* the session's identity: never the same twice, so a second scan of the
   * same paper is a new input and not a duplicate of the first */
  g_checksum_update(identity, (const guchar *) "chartdesk sane session\n", -1);
  g_checksum_update(identity, (const guchar *) name, -1);
  g_checksum_update(identity, (const guchar *) "\n", 1);
  g_checksum_update(identity, (const guchar *) stamp, -1);
  g_checksum_update(identity, (const guchar *) "\n", 1);
  g_checksum_update(identity, (const guchar *) nonce, -1);
  self->session_sha = g_strdup(g_checksum_get_string(identity));
  self->session_path = g_strdup_printf("sane:%s/%s", name, stamp);
  self->page = 0;
  g_info("scanning from %s: %s, %s, %d dpi%s", name, self->source_name, self->mode_name, self->xres,
         self->duplex ? ", both sides" : "");
  return TRUE;
}

/* ------------------------------------------------------------- pages */

static CdPage *cd_sane_source_failed(CdSaneSource *self, const gchar *format, ...) G_GNUC_PRINTF(2, 3);

/* A failed record for the current page. Its reason names the device; the
 * page is the record's own (the batch report shows it), and the log line
 * for the operator says both. */
static CdPage *
cd_sane_source_failed(CdSaneSource *self, const gchar *format, ...)
{
  g_autoptr(CdPage) record = cd_page_new(self->session_path, self->page, self->session_sha);
  g_autofree gchar *what = NULL;
  g_autofree gchar *reason = NULL;
  va_list args;

  va_start(args, format);
  what = g_strdup_vprintf(format, args);
  va_end(args);
  reason = g_strdup_printf("scanner %s: %s; the session stopped here, scan this page and any after it again",
                           self->name, what);
  g_message("scanner %s, page %d: %s", self->name, self->page + 1, what);
  cd_page_set_kind(record, CD_PAGE_KIND_FAILED, reason);
  cd_page_set_fact(record, "sane.device", g_variant_new_string(self->name));
  return g_steal_pointer(&record);
}

/* What a status from the device means to the person at the scanner. */
static const gchar *
cd_sane_status_reason(SANE_Status status)
{
  switch (status) {
  case SANE_STATUS_JAMMED:
    return "paper jam in the document feeder";
  case SANE_STATUS_COVER_OPEN:
    return "the scanner cover is open";
  case SANE_STATUS_DEVICE_BUSY:
    return "the scanner is busy";
  case SANE_STATUS_IO_ERROR:
    return "input/output error talking to the scanner (cable, power, connection)";
  case SANE_STATUS_NO_MEM:
    return "the scanner ran out of memory";
  case SANE_STATUS_ACCESS_DENIED:
    return "access to the scanner was denied";
  case SANE_STATUS_CANCELLED:
    return "the scan was cancelled at the scanner";
  default:
    return sane_strstatus(status);
  }
}

/* Reads one frame's data to its end (@expected bytes, or -1 when the device
 * does not say). Returns the SANE status that ended it: EOF when the frame
 * is whole.
 *
 * sane-backends' `test` backend cancels its reader thread asynchronously in
 * the read that returns a frame's last byte; a reader cancelled inside its
 * final free() hangs the process in malloc. For that backend alone, the last
 * byte is read on its own, a moment after the rest, when the reader has
 * written it and ended. */
static SANE_Status
cd_sane_source_read_frame(CdSaneSource *self, GByteArray *data, gint64 expected, GCancellable *cancellable)
{
  guint8 buf[65536];

  for (;;) {
    SANE_Int len = 0;
    SANE_Int want = sizeof buf;
    SANE_Status status;
    if (g_cancellable_is_cancelled(cancellable))
      return SANE_STATUS_CANCELLED;
    if (self->test_backend) {
      gint64 remaining = expected - (gint64) data->len;
      if (expected < 0 || remaining == 1)
        g_usleep(G_USEC_PER_SEC / 50);
      else if (remaining > 1)
        want = (SANE_Int) MIN((gint64) want, remaining - 1);
    }
    status = sane_read(self->handle, buf, want, &len);
    if (len > 0)
      g_byte_array_append(data, buf, len);
    if (status != SANE_STATUS_GOOD)
      return status;
  }
}

static guint8
cd_sane_sample(const guint8 *line, guint index, gint depth)
{
  if (depth == 16) {
    guint16 v;
    memcpy(&v, line + 2 * index, 2); /* SANE sends 16-bit samples in host order */
    return v >> 8;
  }
  return line[index];
}

/* Turns one frame (or three one-colour frames) into a PIX: one-bit grey to
 * 1 bpp (SANE's 1 is black, as Leptonica's), grey to 8 bpp, colour to 32 bpp.
 * Lines the device did not send are left out; @short_lines says how many. */
static PIX *
cd_sane_frames_to_pix(const SANE_Parameters *params, GByteArray **planes, guint n_planes, gint *short_lines,
                      GError **error)
{
  gint bpl = params->bytes_per_line;
  gint width = params->pixels_per_line;
  gint depth = params->depth;
  gboolean rgb = params->format == SANE_FRAME_RGB || n_planes == 3;
  gint channels = params->format == SANE_FRAME_RGB ? 3 : 1;
  gint expected = params->lines;
  gint lines;
  gsize need;
  g_autoptr(PIX) pix = NULL;

  if (bpl <= 0 || width <= 0) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the scanner sent a page of %d × %d pixels", width,
                params->lines);
    return NULL;
  }
  if (!(depth == 1 && !rgb) && depth != 8 && depth != 16) {
    g_set_error(error, CD_ERROR, CD_ERROR_NOT_SUPPORTED, "the scanner sent %s at %d bits per sample, not supported",
                rgb ? "colour" : "grey", depth);
    return NULL;
  }
  need = depth == 1 ? (gsize) (width + 7) / 8 : (gsize) width * channels * (depth / 8);
  if ((gsize) bpl < need) {
    g_set_error(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the scanner's lines are %d bytes for %d pixels", bpl, width);
    return NULL;
  }
  lines = (gint) (planes[0]->len / bpl);
  for (guint p = 1; p < n_planes; p++)
    lines = MIN(lines, (gint) (planes[p]->len / bpl));
  if (expected > 0 && lines > expected)
    lines = expected;
  *short_lines = expected > 0 ? expected - lines : 0;
  if (lines <= 0) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_DATA, "the scanner sent no image data");
    return NULL;
  }

  pix = pixCreate(width, lines, rgb ? 32 : depth == 1 ? 1 : 8);
  if (pix == NULL) {
    g_set_error(error, CD_ERROR, CD_ERROR_TOO_LARGE, "cannot allocate a %d × %d image", width, lines);
    return NULL;
  }
  for (gint row = 0; row < lines; row++) {
    l_uint32 *dst = pixGetData(pix) + row * pixGetWpl(pix);
    const guint8 *src = planes[0]->data + (gsize) row * bpl;
    if (depth == 1) {
      for (gsize i = 0; i < need; i++)
        SET_DATA_BYTE(dst, i, src[i]);
    } else if (!rgb) {
      for (gint x = 0; x < width; x++)
        SET_DATA_BYTE(dst, x, cd_sane_sample(src, x, depth));
    } else if (n_planes == 3) {
      const guint8 *g = planes[1]->data + (gsize) row * bpl;
      const guint8 *b = planes[2]->data + (gsize) row * bpl;
      for (gint x = 0; x < width; x++)
        composeRGBPixel(cd_sane_sample(src, x, depth), cd_sane_sample(g, x, depth), cd_sane_sample(b, x, depth),
                        dst + x);
    } else {
      for (gint x = 0; x < width; x++)
        composeRGBPixel(cd_sane_sample(src, 3 * x, depth), cd_sane_sample(src, 3 * x + 1, depth),
                        cd_sane_sample(src, 3 * x + 2, depth), dst + x);
    }
  }
  if (depth == 1)
    pixSetPadBits(pix, 0);
  return g_steal_pointer(&pix);
}

typedef enum {
  CD_SCAN_PAGE,  /* a page (or a failed record) was made */
  CD_SCAN_END,   /* the session is over: feeder empty */
  CD_SCAN_ERROR, /* the source cannot go on: @error is set */
} CdScanResult;

/* Scans the next page of the session into @page_out. */
static CdScanResult
cd_sane_source_scan_page(CdSaneSource *self, GCancellable *cancellable, CdPage **page_out, GError **error)
{
  g_autoptr(GByteArray) red = NULL; /* or the grey or interleaved colour frame */
  g_autoptr(GByteArray) green = NULL;
  g_autoptr(GByteArray) blue = NULL;
  GByteArray **planes[3] = { &red, &green, &blue };
  g_autoptr(GChecksum) raw = g_checksum_new(G_CHECKSUM_SHA256);
  g_autoptr(CdPage) page = NULL;
  g_autoptr(PIX) pix = NULL;
  g_autoptr(GError) error_local = NULL;
  SANE_Parameters params = { 0 };
  guint n_planes = 0;
  gint short_lines = 0;

  /* one frame, or the red, green and blue frames of a three-pass device */
  for (;;) {
    SANE_Status status = sane_start(self->handle);
    GByteArray *data;
    guint slot;
    if (status == SANE_STATUS_NO_DOCS && n_planes == 0) {
      if (self->page == 0) {
        g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND,
                    "no documents in the feeder of scanner %s (%s): load the pages and scan again", self->name,
                    self->source_name);
        return CD_SCAN_ERROR;
      }
      return CD_SCAN_END;
    }
    if (status == SANE_STATUS_CANCELLED && g_cancellable_is_cancelled(cancellable)) {
      g_cancellable_set_error_if_cancelled(cancellable, error);
      return CD_SCAN_ERROR;
    }
    if (status != SANE_STATUS_GOOD) {
      *page_out = cd_sane_source_failed(self, "%s", cd_sane_status_reason(status));
      return CD_SCAN_PAGE;
    }
    self->in_frame = TRUE;
    status = sane_get_parameters(self->handle, &params);
    if (status != SANE_STATUS_GOOD) {
      *page_out = cd_sane_source_failed(self, "%s", cd_sane_status_reason(status));
      return CD_SCAN_PAGE;
    }
    if (params.format != SANE_FRAME_GRAY && params.format != SANE_FRAME_RGB && params.format != SANE_FRAME_RED &&
        params.format != SANE_FRAME_GREEN && params.format != SANE_FRAME_BLUE) {
      *page_out = cd_sane_source_failed(self, "the scanner sends frames of format %d, which is not supported",
                                        (gint) params.format);
      return CD_SCAN_PAGE;
    }
    slot = params.format == SANE_FRAME_GREEN ? 1 : params.format == SANE_FRAME_BLUE ? 2 : 0;
    if (*planes[slot] == NULL)
      n_planes++;
    g_clear_pointer(planes[slot], g_byte_array_unref);
    *planes[slot] = g_byte_array_new();
    data = *planes[slot];
    status = cd_sane_source_read_frame(
        self, data, params.lines > 0 ? (gint64) params.lines * params.bytes_per_line : -1, cancellable);
    if (status == SANE_STATUS_CANCELLED && g_cancellable_is_cancelled(cancellable)) {
      g_cancellable_set_error_if_cancelled(cancellable, error);
      return CD_SCAN_ERROR;
    }
    if (status == SANE_STATUS_NO_DOCS && data->len == 0 && n_planes == 1) {
      /* some devices find the feeder empty only when they try to read */
      if (self->page == 0) {
        g_set_error(error, CD_ERROR, CD_ERROR_NOT_FOUND,
                    "no documents in the feeder of scanner %s (%s): load the pages and scan again", self->name,
                    self->source_name);
        return CD_SCAN_ERROR;
      }
      return CD_SCAN_END;
    }
    if (status != SANE_STATUS_EOF) {
      *page_out = cd_sane_source_failed(self, "%s", cd_sane_status_reason(status));
      return CD_SCAN_PAGE;
    }
    self->in_frame = FALSE;
    g_checksum_update(raw, data->data, data->len);
    if (params.last_frame)
      break;
  }
  if (n_planes != 1 && !(n_planes == 3 && green != NULL && blue != NULL)) {
    *page_out = cd_sane_source_failed(self, "the scanner sent an incomplete colour page");
    return CD_SCAN_PAGE;
  }

  if (n_planes == 3 && params.format != SANE_FRAME_RGB)
    params.format = SANE_FRAME_RED;
  {
    GByteArray *frames[3] = { red, green, blue };
    pix = cd_sane_frames_to_pix(&params, frames, n_planes, &short_lines, &error_local);
  }
  if (pix == NULL) {
    *page_out = cd_sane_source_failed(self, "%s", error_local->message);
    return CD_SCAN_PAGE;
  }
  if (self->threshold && pixGetDepth(pix) != 1) {
    PIX *grey = pixGetDepth(pix) == 32 ? pixConvertRGBToLuminance(pix) : pixClone(pix);
    PIX *bw = grey != NULL ? pixThresholdToBinary(grey, 128) : NULL;
    pixDestroy(&grey);
    if (bw != NULL) {
      pixDestroy(&pix);
      pix = bw;
    }
  }
  pixSetResolution(pix, self->xres, self->yres);

  page = cd_page_new(self->session_path, self->page, self->session_sha);
  cd_page_set_resolution(page, self->xres, self->yres);
  cd_page_set_pix(page, g_steal_pointer(&pix));
  cd_page_set_fact(page, "sane.device", g_variant_new_string(self->name));
  cd_page_set_fact(page, "sane.source", g_variant_new_string(self->source_name));
  cd_page_set_fact(page, "sane.mode", g_variant_new_string(self->mode_name));
  cd_page_set_fact(page, "sane.raw-sha256", g_variant_new_string(g_checksum_get_string(raw)));
  if (self->duplex) {
    cd_page_set_fact(page, "sane.sheet", g_variant_new_int32(self->page / 2 + 1));
    cd_page_set_fact(page, "sane.side", g_variant_new_string(self->page % 2 == 0 ? "front" : "back"));
  }
  if (short_lines > 0) {
    g_autofree gchar *problem =
        g_strdup_printf("the scanner stopped %d lines before the end of the page; the rest is missing", short_lines);
    cd_page_add_problem(page, problem);
  }
  *page_out = g_steal_pointer(&page);
  return CD_SCAN_PAGE;
}

static gboolean
cd_sane_source_open(CdSource *source, const gchar *const *inputs, GError **error)
{
  CdSaneSource *self = CD_SANE_SOURCE(source);

  g_ptr_array_set_size(self->devices, 0);
  for (guint i = 0; inputs != NULL && inputs[i] != NULL; i++) {
    /* `default` (or nothing) is the device option, or the first found */
    const gchar *name = inputs[i];
    if (name[0] == '\0' || g_strcmp0(name, "default") == 0)
      name = self->device;
    g_ptr_array_add(self->devices, g_strdup(name));
  }
  if (self->devices->len == 0)
    g_ptr_array_add(self->devices, g_strdup(self->device));
  self->next_device = 0;
  return cd_sane_ensure_init(error);
}

static CdPage *
cd_sane_source_next(CdSource *source, GCancellable *cancellable, GError **error)
{
  CdSaneSource *self = CD_SANE_SOURCE(source);

  for (;;) {
    CdPage *page = NULL;
    CdScanResult result;
    gboolean last;

    if (self->handle == NULL) {
      if (self->next_device >= self->devices->len)
        return NULL;
      if (!cd_sane_source_start_device(self, g_ptr_array_index(self->devices, self->next_device++), error))
        return NULL;
    }
    /* the glass holds one page; a feeder runs until empty or max-pages */
    last = (!self->feeder && self->page >= 1) || (self->max_pages > 0 && (guint) self->page >= self->max_pages);
    if (last) {
      cd_sane_source_close_device(self);
      continue;
    }
    result = cd_sane_source_scan_page(self, cancellable, &page, error);
    if (result == CD_SCAN_ERROR) {
      cd_sane_source_close_device(self);
      return NULL;
    }
    if (result == CD_SCAN_END) {
      g_info("scanner %s: the feeder is empty after %d pages", self->name, self->page);
      cd_sane_source_close_device(self);
      continue;
    }
    self->page++;
    if (cd_page_get_kind(page) == CD_PAGE_KIND_FAILED) {
      /* the device needs the operator: end its session here */
      cd_sane_source_close_device(self);
    }
    return page;
  }
}

static void
cd_sane_source_stop(CdStage *stage)
{
  cd_sane_source_close_device(CD_SANE_SOURCE(stage));
}

static void
cd_sane_source_finalize(GObject *object)
{
  CdSaneSource *self = CD_SANE_SOURCE(object);

  cd_sane_source_close_device(self);
  g_ptr_array_unref(self->devices);
  g_free(self->device);
  g_free(self->source);
  g_free(self->page_size);
  g_strfreev(self->device_options);

  G_OBJECT_CLASS(cd_sane_source_parent_class)->finalize(object);
}

static void
cd_sane_source_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CdSaneSource *self = CD_SANE_SOURCE(object);

  switch (prop_id) {
  case PROP_DEVICE:
    g_value_set_string(value, self->device);
    break;
  case PROP_SOURCE:
    g_value_set_string(value, self->source);
    break;
  case PROP_MODE:
    g_value_set_enum(value, self->mode);
    break;
  case PROP_RESOLUTION:
    g_value_set_uint(value, self->resolution);
    break;
  case PROP_PAGE_SIZE:
    g_value_set_string(value, self->page_size);
    break;
  case PROP_MAX_PAGES:
    g_value_set_uint(value, self->max_pages);
    break;
  case PROP_DEVICE_OPTIONS:
    g_value_set_boxed(value, self->device_options);
    break;
  case PROP_DEVICES:
    g_value_take_boxed(value, cd_sane_source_devices_strv());
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
cd_sane_source_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CdSaneSource *self = CD_SANE_SOURCE(object);

  switch (prop_id) {
  case PROP_DEVICE:
    g_free(self->device);
    self->device = g_value_dup_string(value);
    if (self->device == NULL)
      self->device = g_strdup(DEFAULT_DEVICE);
    break;
  case PROP_SOURCE:
    g_free(self->source);
    self->source = g_value_dup_string(value);
    if (self->source == NULL)
      self->source = g_strdup(DEFAULT_SOURCE);
    break;
  case PROP_MODE:
    self->mode = g_value_get_enum(value);
    break;
  case PROP_RESOLUTION:
    self->resolution = g_value_get_uint(value);
    break;
  case PROP_PAGE_SIZE:
    g_free(self->page_size);
    self->page_size = g_value_dup_string(value);
    if (self->page_size == NULL)
      self->page_size = g_strdup(DEFAULT_PAGE_SIZE);
    break;
  case PROP_MAX_PAGES:
    self->max_pages = g_value_get_uint(value);
    break;
  case PROP_DEVICE_OPTIONS:
    g_strfreev(self->device_options);
    self->device_options = g_value_dup_boxed(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

/* Options that cannot be right are refused before the scanner is touched. */
static gboolean
cd_sane_source_start(CdStage *stage, GError **error)
{
  CdSaneSource *self = CD_SANE_SOURCE(stage);
  gdouble w, h;

  if (!cd_sane_parse_page_size(self->page_size, &w, &h)) {
    g_set_error(error, CD_ERROR, CD_ERROR_WORKFLOW,
                "page-size '%s' is not letter, legal, a4, a5, max or WIDTHxHEIGHT in millimetres", self->page_size);
    return FALSE;
  }
  return TRUE;
}

static void
cd_sane_source_class_init(CdSaneSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdSourceClass *source_class = CD_SOURCE_CLASS(klass);

  object_class->finalize = cd_sane_source_finalize;
  object_class->get_property = cd_sane_source_get_property;
  object_class->set_property = cd_sane_source_set_property;
  stage_class->start = cd_sane_source_start;
  stage_class->stop = cd_sane_source_stop;
  source_class->open = cd_sane_source_open;
  source_class->next = cd_sane_source_next;

  props[PROP_DEVICE] = g_param_spec_string(
      "device", "Device",
      "SANE device name (`chartdesk scanners` lists them), used when the batch names none; empty: the first found",
      DEFAULT_DEVICE, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_SOURCE] = g_param_spec_string(
      "source", "Source",
      "Where the paper is: auto (the feeder if there is one, else the glass), flatbed (one page), adf (until the "
      "feeder is empty), adf-duplex (both sides), or one of the device's own source names",
      DEFAULT_SOURCE, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_MODE] = g_param_spec_enum(
      "mode", "Mode", "lineart (1 bit black and white), gray (8 bits) or color (24 bits)", cd_sane_mode_get_type(),
      DEFAULT_MODE, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_RESOLUTION] = g_param_spec_uint(
      "resolution", "Resolution", "Dots per inch; the device's nearest resolution is used if it lacks this one", 50,
      1200, DEFAULT_RESOLUTION, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_PAGE_SIZE] = g_param_spec_string(
      "page-size", "Page size",
      "Scan area from the top-left corner: letter, legal, a4, a5, max (the device's largest) or WIDTHxHEIGHT in mm",
      DEFAULT_PAGE_SIZE, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_MAX_PAGES] =
      g_param_spec_uint("max-pages", "Most pages", "Stop a device's session after this many pages; 0: no limit", 0,
                        G_MAXINT, DEFAULT_MAX_PAGES, G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_DEVICE_OPTIONS] = g_param_spec_boxed(
      "device-options", "Device options",
      "The device's own options as NAME=VALUE, set in order after the ones above (`scanimage -d DEVICE -A` lists "
      "them), e.g. a feeder's double-feed detection",
      G_TYPE_STRV, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  props[PROP_DEVICES] =
      g_param_spec_boxed("devices", "Devices", "The scanners SANE finds, one `name\\tvendor\\tmodel\\ttype` each",
                         G_TYPE_STRV, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);

  cd_stage_class_set_metadata(stage_class, "sane",
                              "Scans pages from a SANE scanner: flatbed, document feeder or duplex feeder, in "
                              "lineart, grey or colour");
}

static void
cd_sane_source_init(CdSaneSource *self)
{
  self->devices = g_ptr_array_new_with_free_func(g_free);
}
