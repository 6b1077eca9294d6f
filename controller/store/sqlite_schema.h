/* SPDX-License-Identifier: Apache-2.0 */
/* The SQLite store's schema, versioned (store/sqlite_schema.c). */
#ifndef SLIO_CONTROLLER_SQLITE_SCHEMA_H
#define SLIO_CONTROLLER_SQLITE_SCHEMA_H

#include <sqlite3.h>
#include <stdint.h>

#include "slio/error.h"

#define SQLITE_SCHEMA_VERSION 1

/* WAL + synchronous=FULL, create or check the tables; the stored revision in *ret_revision.
 * -EPROTO for a schema this controller does not know, -EAGAIN (busy), -EIO. */
int sqlite_schema(sqlite3 *db, int64_t *ret_revision, struct slio_err *err);

#endif
