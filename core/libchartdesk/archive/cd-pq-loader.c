/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libpq, loaded when the PostgreSQL archive first calls it.
 *
 * libpq brings 20 libraries with it (OpenSSL, Kerberos, LDAP, SASL, ...),
 * and the system builds them all with immediate binding: linked into
 * `chartdesk`, they cost every process (one `chartdesk search` of an SQLite
 * archive, `chartdesk --version`) 5–6 ms of CPU in the dynamic loader
 * before main() (issue 18). So nothing links libpq: the PostgreSQL
 * archive's calls land here, and the first of them opens libpq.so.5 with
 * GModule and takes each function from it. The functions here have
 * libpq's own names and types (checked against <libpq-fe.h>), so the
 * archive's code is unchanged.
 *
 * When libpq cannot be loaded, the connection fails the way libpq's own
 * does: PQconnectdb() returns NULL, PQstatus(NULL) is CONNECTION_BAD and
 * PQerrorMessage() says why (the file and the loader's message), which
 * the archive puts in its "cannot connect" error. Every other function is
 * only reached with a connection or result libpq made.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <gmodule.h>

#include <libpq-fe.h>

/* libpq's soname since PostgreSQL 8.0 */
#define CD_PQ_LIBRARY "libpq.so.5"

/* Every libpq function the tree calls: what it returns, its name, its
 * parameters, the arguments to pass on, and what it gives when libpq could
 * not be loaded (libpq's own answer for a NULL connection or result). */
#define CD_PQ_FUNCTIONS(F, V)                                                                                         \
  F(PGconn *, PQconnectdb, (const char *conninfo), (conninfo), NULL)                                                  \
  V(PQfinish, (PGconn * conn), (conn))                                                                                \
  V(PQreset, (PGconn * conn), (conn))                                                                                 \
  F(PQconninfoOption *, PQconninfoParse, (const char *conninfo, char **errmsg), (conninfo, errmsg),                  \
    cd_pq_parse_failed(errmsg))                                                                                       \
  V(PQconninfoFree, (PQconninfoOption * options), (options))                                                         \
  F(char *, PQdb, (const PGconn *conn), (conn), NULL)                                                                 \
  F(char *, PQhost, (const PGconn *conn), (conn), NULL)                                                               \
  F(ConnStatusType, PQstatus, (const PGconn *conn), (conn), CONNECTION_BAD)                                           \
  F(PGTransactionStatusType, PQtransactionStatus, (const PGconn *conn), (conn), PQTRANS_UNKNOWN)                      \
  F(char *, PQerrorMessage, (const PGconn *conn), (conn), cd_pq_error)                                                \
  F(PGresult *, PQexec, (PGconn * conn, const char *query), (conn, query), NULL)                                      \
  F(PGresult *, PQexecParams,                                                                                         \
    (PGconn * conn, const char *command, int n, const Oid *types, const char *const *values, const int *lengths,     \
     const int *formats, int result_format),                                                                          \
    (conn, command, n, types, values, lengths, formats, result_format), NULL)                                         \
  F(int, PQsendQueryParams,                                                                                           \
    (PGconn * conn, const char *command, int n, const Oid *types, const char *const *values, const int *lengths,     \
     const int *formats, int result_format),                                                                          \
    (conn, command, n, types, values, lengths, formats, result_format), 0)                                            \
  F(int, PQsetSingleRowMode, (PGconn * conn), (conn), 0)                                                              \
  F(PGresult *, PQgetResult, (PGconn * conn), (conn), NULL)                                                           \
  F(ExecStatusType, PQresultStatus, (const PGresult *res), (res), PGRES_FATAL_ERROR)                                  \
  F(char *, PQresultErrorMessage, (const PGresult *res), (res), cd_pq_error)                                          \
  F(int, PQntuples, (const PGresult *res), (res), 0)                                                                  \
  F(char *, PQgetvalue, (const PGresult *res, int row, int field), (res, row, field), NULL)                           \
  F(int, PQgetisnull, (const PGresult *res, int row, int field), (res, row, field), 1)                                \
  V(PQclear, (PGresult * res), (res))                                                                                 \
  F(unsigned char *, PQunescapeBytea, (const unsigned char *text, size_t *length), (text, length), NULL)

static struct {
#define CD_PQ_POINTER(ret, name, params, args, fallback) ret(*name) params;
#define CD_PQ_POINTER_VOID(name, params, args) void(*name) params;
  CD_PQ_FUNCTIONS(CD_PQ_POINTER, CD_PQ_POINTER_VOID)
  void (*PQfreemem)(void *ptr);
} cd_pq;

static gchar *cd_pq_error; /* why libpq could not be loaded, once it could not */

/* PQconninfoParse() without libpq: no options, and the reason in *@errmsg
 * (which the caller frees with PQfreemem(), here free()). */
static PQconninfoOption *
cd_pq_parse_failed(char **errmsg)
{
  if (errmsg != NULL)
    *errmsg = strdup(cd_pq_error);
  return NULL;
}

/* Opens libpq the first time it is wanted, in whichever thread; %FALSE
 * (and cd_pq_error set) when it, or one of its functions, is missing. */
static gboolean
cd_pq_load(void)
{
  static gsize once = 0;
  static gboolean loaded = FALSE;

  if (g_once_init_enter(&once)) {
    GModule *module = g_module_open(CD_PQ_LIBRARY, G_MODULE_BIND_LOCAL);
    const gchar *missing = NULL;

    if (module == NULL) {
      cd_pq_error = g_strdup_printf("cannot load %s (PostgreSQL's client library): %s", CD_PQ_LIBRARY,
                                    g_module_error());
    } else {
#define CD_PQ_LOOKUP(name)                                                                                            \
  if (missing == NULL && !g_module_symbol(module, #name, (gpointer *) &cd_pq.name))                                  \
    missing = #name;
#define CD_PQ_LOOKUP_F(ret, name, params, args, fallback) CD_PQ_LOOKUP(name)
#define CD_PQ_LOOKUP_V(name, params, args) CD_PQ_LOOKUP(name)
      CD_PQ_FUNCTIONS(CD_PQ_LOOKUP_F, CD_PQ_LOOKUP_V)
      CD_PQ_LOOKUP(PQfreemem)
      if (missing != NULL) {
        cd_pq_error = g_strdup_printf("%s has no %s: too old a PostgreSQL client library", CD_PQ_LIBRARY, missing);
        memset(&cd_pq, 0, sizeof(cd_pq));
        g_module_close(module);
      } else {
        /* its functions are kept for the life of the process */
        g_module_make_resident(module);
        loaded = TRUE;
      }
    }
    g_once_init_leave(&once, 1);
  }
  return loaded;
}

#define CD_PQ_DEFINE(ret, name, params, args, fallback)                                                               \
  ret name params                                                                                                     \
  {                                                                                                                   \
    if (!cd_pq_load())                                                                                                \
      return fallback;                                                                                                \
    return cd_pq.name args;                                                                                           \
  }
#define CD_PQ_DEFINE_VOID(name, params, args)                                                                         \
  void name params                                                                                                    \
  {                                                                                                                   \
    if (cd_pq_load())                                                                                                 \
      cd_pq.name args;                                                                                                \
  }
CD_PQ_FUNCTIONS(CD_PQ_DEFINE, CD_PQ_DEFINE_VOID)

void
PQfreemem(void *ptr)
{
  if (cd_pq_load())
    cd_pq.PQfreemem(ptr);
  else
    free(ptr); /* cd_pq_parse_failed()'s message */
}
