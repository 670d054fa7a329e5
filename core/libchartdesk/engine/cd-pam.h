/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Password checks through PAM, so that a hospital's directory accounts
 * (SSSD, LDAP, Kerberos) log in to the web workstation without a local
 * password.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean cd_pam_authenticate(const gchar *service, const gchar *confdir, const gchar *account, const gchar *password,
                             GError **error);

G_END_DECLS
