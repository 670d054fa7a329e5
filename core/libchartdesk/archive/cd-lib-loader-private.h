/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A shared library opened on first use (cd-lib-loader.c), for the parts of
 * the engine that most processes never reach: libpq (cd-pq-loader.c) and
 * cairo (cd-cairo-loader.c).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const gchar *soname;       /* the library, as the dynamic loader finds it */
  const gchar *what;         /* for messages: "PostgreSQL's client library" */
  const gchar *const *names; /* its functions, NULL-terminated */
  gpointer *functions;       /* where each goes, in the order of @names */
  gsize once;                /* for g_once_init_enter() */
  gboolean loaded;
  gchar *error; /* why it could not be loaded */
} CdLibLoader;

gboolean cd_lib_loader_load(CdLibLoader *loader);

G_END_DECLS
