/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A shared library opened on first use.
 *
 * The system builds its libraries with immediate binding, so each library
 * an executable links costs every run its symbol lookups before main(), used
 * or not (issue 18: `chartdesk search` as a user runs it, one process a
 * query). libpq and cairo bring 30 of the 78 libraries `chartdesk` linked,
 * and only the PostgreSQL archive and the destruction certificate use them.
 * Their callers keep calling them by their own names; the forwarders in
 * cd-pq-loader.c and cd-cairo-loader.c open the library with GModule on the
 * first call, in whichever thread, and keep it for the life of the process.
 *
 * The executables are linked with --export-dynamic (gmodule-2.0 asks for
 * it), so the forwarders are what a plugin linking the library itself
 * binds to too (poppler's cairo calls in the files plugin): they pass each
 * call on to the library's own function, found in the library's handle,
 * never to themselves. Hiding them instead is refused by the linker for a
 * program that links such a library directly (a hidden symbol referenced
 * by a DSO).
 */
#include "config.h"

#include <gmodule.h>

#include "cd-lib-loader-private.h"

/* Opens @loader's library and takes every one of its functions, once;
 * %FALSE, with loader->error saying why, when the library or one of the
 * functions is missing (then no function is set). */
gboolean
cd_lib_loader_load(CdLibLoader *loader)
{
  if (g_once_init_enter(&loader->once)) {
    GModule *module = g_module_open(loader->soname, G_MODULE_BIND_LOCAL);

    if (module == NULL) {
      loader->error = g_strdup_printf("cannot load %s (%s): %s", loader->soname, loader->what, g_module_error());
    } else {
      guint i;
      for (i = 0; loader->names[i] != NULL; i++) {
        if (!g_module_symbol(module, loader->names[i], &loader->functions[i]) || loader->functions[i] == NULL)
          break;
      }
      if (loader->names[i] != NULL) {
        loader->error = g_strdup_printf("%s (%s) has no %s: too old a version", loader->soname, loader->what,
                                        loader->names[i]);
        for (guint j = 0; loader->names[j] != NULL; j++)
          loader->functions[j] = NULL;
        g_module_close(module);
      } else {
        g_module_make_resident(module);
        loader->loaded = TRUE;
      }
    }
    g_once_init_leave(&loader->once, 1);
  }
  return loader->loaded;
}
