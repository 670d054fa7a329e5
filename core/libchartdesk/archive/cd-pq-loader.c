/*
 * Copyright 2026 The Chartdesk authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * libpq, opened when the PostgreSQL archive first calls it
 * (cd-lib-loader.c says why).
 *
 * libpq brings 20 libraries with it (OpenSSL, Kerberos, LDAP, SASL, ...):
 * linked into `chartdesk`, they cost every process (one `chartdesk search`
 * of an SQLite archive, `chartdesk --version`) 5-6 ms of CPU in the dynamic
 * loader before main(). The functions here have libpq's own names and
 * types (checked against <libpq-fe.h>), so the archive's code is unchanged.
 *
 * When libpq cannot be loaded, a connection fails the way libpq's own does:
 * PQconnectdb() returns NULL, PQstatus(NULL) is CONNECTION_BAD and
 * PQerrorMessage() says why (the file and the loader's message), which the
 * archive puts in its "cannot connect" error. Every other function is only
 * reached with a connection or result libpq made.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cd-lib-loader-private.h"

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
  F(char *, PQerrorMessage, (const PGconn *conn), (conn), cd_pq.error)                                                \
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
  F(char *, PQresultErrorMessage, (const PGresult *res), (res), cd_pq.error)                                          \
  F(int, PQntuples, (const PGresult *res), (res), 0)                                                                  \
  F(char *, PQgetvalue, (const PGresult *res, int row, int field), (res, row, field), NULL)                           \
  F(int, PQgetisnull, (const PGresult *res, int row, int field), (res, row, field), 1)                                \
  V(PQclear, (PGresult * res), (res))                                                                                 \
  F(unsigned char *, PQunescapeBytea, (const unsigned char *text, size_t *length), (text, length), NULL)

enum {
#define CD_PQ_ENUM(ret, name, params, args, fallback) CD_PQ_##name,
#define CD_PQ_ENUM_VOID(name, params, args) CD_PQ_##name,
  CD_PQ_FUNCTIONS(CD_PQ_ENUM, CD_PQ_ENUM_VOID) CD_PQ_PQfreemem,
  CD_PQ_N_FUNCTIONS
};

static const gchar *const cd_pq_names[] = {
#define CD_PQ_NAME(ret, name, params, args, fallback) #name,
#define CD_PQ_NAME_VOID(name, params, args) #name,
  CD_PQ_FUNCTIONS(CD_PQ_NAME, CD_PQ_NAME_VOID) "PQfreemem",
  NULL,
};

static gpointer cd_pq_functions[CD_PQ_N_FUNCTIONS];
static CdLibLoader cd_pq = { CD_PQ_LIBRARY, "PostgreSQL's client library", cd_pq_names, cd_pq_functions, 0, FALSE,
                             NULL };

/* PQconninfoParse() without libpq: no options, and the reason in *@errmsg
 * (which the caller frees with PQfreemem(), here free()). */
static PQconninfoOption *
cd_pq_parse_failed(char **errmsg)
{
  if (errmsg != NULL)
    *errmsg = strdup(cd_pq.error);
  return NULL;
}

#define CD_PQ_DEFINE(ret, name, params, args, fallback)                                                               \
  ret name params                                                                                                     \
  {                                                                                                                   \
    if (!cd_lib_loader_load(&cd_pq))                                                                                  \
      return fallback;                                                                                                \
    return ((ret(*) params) cd_pq_functions[CD_PQ_##name])args;                                                       \
  }
#define CD_PQ_DEFINE_VOID(name, params, args)                                                                         \
  void name params                                                                                                    \
  {                                                                                                                   \
    if (cd_lib_loader_load(&cd_pq))                                                                                   \
      ((void(*) params) cd_pq_functions[CD_PQ_##name])args;                                                           \
  }
CD_PQ_FUNCTIONS(CD_PQ_DEFINE, CD_PQ_DEFINE_VOID)

void
PQfreemem(void *ptr)
{
  if (cd_lib_loader_load(&cd_pq))
    ((void (*)(void *)) cd_pq_functions[CD_PQ_PQfreemem])(ptr);
  else
    free(ptr); /* cd_pq_parse_failed()'s message */
}
