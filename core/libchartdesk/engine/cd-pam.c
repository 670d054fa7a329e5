/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <security/pam_appl.h>
#include <string.h>

#include "cd-engine.h"
#include "cd-pam.h"

/* Answers PAM's prompts: the password for a hidden prompt, nothing for a
 * visible one (a one-time code would need a second field the web form
 * does not have), and messages are left unanswered. */
static int
cd_pam_conversation(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
  const gchar *password = data;
  struct pam_response *r;

  if (n <= 0 || n > PAM_MAX_NUM_MSG)
    return PAM_CONV_ERR;
  r = calloc((size_t) n, sizeof *r);
  if (r == NULL)
    return PAM_BUF_ERR;
  for (gint i = 0; i < n; i++) {
    if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
      r[i].resp = strdup(password);
      if (r[i].resp == NULL) {
        for (gint j = 0; j < i; j++)
          free(r[j].resp);
        free(r);
        return PAM_BUF_ERR;
      }
    }
  }
  *resp = r;
  return PAM_SUCCESS;
}

/**
 * cd_pam_authenticate:
 * @service: the PAM service name (`/etc/pam.d/SERVICE`)
 * @confdir: (nullable): a folder of PAM service files to read instead of
 *   `/etc/pam.d` (tests)
 * @account: the Unix account to authenticate
 * @password: its password
 * @error: return location for a #GError
 *
 * Runs PAM's authentication and account management for @account with
 * @password: a wrong password, an expired or locked account are
 * %CD_ERROR_PERMISSION_DENIED with PAM's reason; a service PAM cannot set
 * up is %CD_ERROR_FAILED. The password is never logged.
 *
 * Returns: %TRUE if PAM accepts the account and password
 */
gboolean
cd_pam_authenticate(const gchar *service, const gchar *confdir, const gchar *account, const gchar *password,
                    GError **error)
{
  struct pam_conv conv = { cd_pam_conversation, (void *) password };
  pam_handle_t *pamh = NULL;
  gint rc;

  g_return_val_if_fail(service != NULL && account != NULL, FALSE);
  if (password == NULL || password[0] == '\0') {
    g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "user %s: no password given", account);
    return FALSE;
  }
  rc = confdir != NULL ? pam_start_confdir(service, account, &conv, confdir, &pamh)
                       : pam_start(service, account, &conv, &pamh);
  if (rc != PAM_SUCCESS) {
    g_set_error(error, CD_ERROR, CD_ERROR_FAILED, "PAM service %s cannot start: %s", service, pam_strerror(pamh, rc));
    if (pamh != NULL)
      pam_end(pamh, rc);
    return FALSE;
  }
  rc = pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
  if (rc == PAM_SUCCESS)
    rc = pam_acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
  if (rc != PAM_SUCCESS) {
    g_set_error(error, CD_ERROR, CD_ERROR_PERMISSION_DENIED, "user %s: refused by PAM (%s): %s", account, service,
                pam_strerror(pamh, rc));
    pam_end(pamh, rc);
    return FALSE;
  }
  pam_end(pamh, rc);
  return TRUE;
}
