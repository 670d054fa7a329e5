/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The smallest third-party plugin: one page stage that stamps every page
 * with a greeting fact and counts the dark pixels of its image. It is built
 * out of tree by tests/sdk/test-sdk.c against the installed SDK alone
 * (`#include <chartdesk.h>`, `pkg-config chartdesk-1`), with warnings as
 * errors, so it proves the public headers are self-sufficient.
 */
#include <chartdesk.h>

#define HELLO_DEFAULT_GREETING "hello"
#define HELLO_DEFAULT_SHOUT FALSE

#define HELLO_TYPE_STAGE (hello_stage_get_type())
G_DECLARE_FINAL_TYPE(HelloStage, hello_stage, HELLO, STAGE, CdPageStage)

struct _HelloStage {
  CdPageStage parent_instance;
  gchar *greeting; /* written into each page's "hello" fact */
  gboolean shout;  /* upper-case the greeting */
  gboolean started;
};

G_DEFINE_TYPE(HelloStage, hello_stage, CD_TYPE_PAGE_STAGE)

enum { PROP_0, PROP_GREETING, PROP_SHOUT, N_PROPS };
static GParamSpec *props[N_PROPS];

static void
hello_stage_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HelloStage *self = HELLO_STAGE(object);

  switch (prop_id) {
  case PROP_GREETING:
    g_value_set_string(value, self->greeting);
    break;
  case PROP_SHOUT:
    g_value_set_boolean(value, self->shout);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void
hello_stage_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  HelloStage *self = HELLO_STAGE(object);

  switch (prop_id) {
  case PROP_GREETING:
    g_free(self->greeting);
    self->greeting = g_value_dup_string(value);
    break;
  case PROP_SHOUT:
    self->shout = g_value_get_boolean(value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static gboolean
hello_stage_start(CdStage *stage, GError **error)
{
  HelloStage *self = HELLO_STAGE(stage);

  if (self->greeting == NULL || self->greeting[0] == '\0') {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INVALID_ARGUMENT, "the greeting must not be empty");
    return FALSE;
  }
  self->started = TRUE;
  return TRUE;
}

/* Stamps the page; a stage may be asked for any page in any order, and it
 * only reads the image it is given. */
static gboolean
hello_stage_process(CdPageStage *stage, CdPage *page, GCancellable *cancellable, GError **error)
{
  HelloStage *self = HELLO_STAGE(stage);
  g_autofree gchar *greeting = self->shout ? g_utf8_strup(self->greeting, -1) : g_strdup(self->greeting);
  PIX *pix = cd_page_get_pix(page);
  l_int32 dark = 0;

  if (!self->started) {
    g_set_error_literal(error, CD_ERROR, CD_ERROR_INTERNAL, "processing before start");
    return FALSE;
  }
  if (pix != NULL && pixGetDepth(pix) == 1)
    pixCountPixels(pix, &dark, NULL);
  cd_page_set_fact(page, "hello", g_variant_new_string(greeting));
  cd_page_set_fact(page, "hello-dark-pixels", g_variant_new_int32(dark));
  return TRUE;
}

static void
hello_stage_finalize(GObject *object)
{
  HelloStage *self = HELLO_STAGE(object);

  g_free(self->greeting);
  G_OBJECT_CLASS(hello_stage_parent_class)->finalize(object);
}

static void
hello_stage_class_init(HelloStageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  CdStageClass *stage_class = CD_STAGE_CLASS(klass);
  CdPageStageClass *page_class = CD_PAGE_STAGE_CLASS(klass);

  object_class->get_property = hello_stage_get_property;
  object_class->set_property = hello_stage_set_property;
  object_class->finalize = hello_stage_finalize;
  stage_class->start = hello_stage_start;
  page_class->process = hello_stage_process;

  props[PROP_GREETING] =
      g_param_spec_string("greeting", "Greeting", "What to write into each page's hello fact", HELLO_DEFAULT_GREETING,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_SHOUT] = g_param_spec_boolean("shout", "Shout", "Write the greeting in capitals", HELLO_DEFAULT_SHOUT,
                                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
  cd_stage_class_set_metadata(stage_class, "hello", "Stamps every page with a greeting (SDK example)");
}

static void
hello_stage_init(HelloStage *self)
{
  (void) self;
}

static gboolean
hello_plugin_init(CdPlugin *plugin, GError **error)
{
  return cd_plugin_add_stage_type(plugin, HELLO_TYPE_STAGE, error);
}

CD_PLUGIN_DEFINE("hello", "An out-of-tree page stage built against the installed SDK", hello_plugin_init, "0.1",
                 "LGPL-2.1-or-later")
