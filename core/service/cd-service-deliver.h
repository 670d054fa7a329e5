/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * chartdeskd's delivery of its spool to the hospital's PostgreSQL archive
 * (issue 18, part 2): [archive] server, station, deliver-interval.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _CdDeliverer CdDeliverer;

/* Called on the main context whenever the delivery state changed. */
typedef void (*CdDelivererNotify)(CdDeliverer *deliverer, gpointer user_data);

CdDeliverer *cd_deliverer_new(const gchar *spool, const gchar *server, const gchar *station, guint interval_s,
                              CdDelivererNotify notify, gpointer user_data);
/* the server audit chain's key ([archive] server-audit-key), before start */
void cd_deliverer_set_audit_key(CdDeliverer *self, GBytes *key);
void cd_deliverer_start(CdDeliverer *self);
void cd_deliverer_kick(CdDeliverer *self);
void cd_deliverer_stop(CdDeliverer *self);
void cd_deliverer_free(CdDeliverer *self);
GVariant *cd_deliverer_get_state(CdDeliverer *self, gboolean reveal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CdDeliverer, cd_deliverer_free)

G_END_DECLS
