/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "cd-user-directory.h"

G_BEGIN_DECLS

/* Defaults of the web workstation's sessions. */
#define CD_SESSION_DEFAULT_IDLE_MINUTES 15
#define CD_SESSION_DEFAULT_MAX_AGE_MINUTES (8 * 60)
#define CD_SESSION_MAX_FAILURES_PER_USER 5
#define CD_SESSION_MAX_FAILURES_PER_ADDRESS 20
#define CD_SESSION_FAILURE_WINDOW_MINUTES 15

/* Called for every login, failed login, logout and expiry: the service
 * writes them to an archive's audit log. */
typedef void (*CdSessionAuditFunc)(const gchar *action, const gchar *login, const gchar *address, const gchar *detail,
                                   gpointer user_data);

#define CD_TYPE_SESSION_STORE (cd_session_store_get_type())
G_DECLARE_FINAL_TYPE(CdSessionStore, cd_session_store, CD, SESSION_STORE, GObject)

CdSessionStore *cd_session_store_new(CdUserDirectory *directory);
void cd_session_store_set_limits(CdSessionStore *self, guint idle_minutes, guint max_age_minutes);
void cd_session_store_set_idle_seconds(CdSessionStore *self, guint seconds);
void cd_session_store_set_audit_func(CdSessionStore *self, CdSessionAuditFunc func, gpointer user_data);
gchar *cd_session_store_login(CdSessionStore *self, const gchar *login, const gchar *password, const gchar *address,
                              GError **error);
CdPrincipal *cd_session_store_validate(CdSessionStore *self, const gchar *token, GError **error);
gboolean cd_session_store_logout(CdSessionStore *self, const gchar *token);
guint cd_session_store_logout_user(CdSessionStore *self, const gchar *login);
guint cd_session_store_count(CdSessionStore *self, const gchar *login);

G_END_DECLS
