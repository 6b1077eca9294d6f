/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the SQLite store: its connections and statements (store/sqlite*.c only). */
#ifndef SLIO_CONTROLLER_SQLITE_INTERNAL_H
#define SLIO_CONTROLLER_SQLITE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>

#include "store.h"

enum stmt_id {
    ST_GET,
    ST_LIST_GE, /* first page: keys >= the prefix */
    ST_LIST_GT, /* next pages: keys > the last one seen */
    ST_KEYS_GE,
    ST_KEYS_GT,
    ST_MODREV,
    ST_PUT,
    ST_DELETE,
    ST_SET_REV,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_GET_REV,
    ST_BEGIN_READ,
    ST__MAX,
};

/* One connection and its statements; used by one thread at a time (its lock). */
struct conn {
    pthread_mutex_t lock;
    sqlite3 *db;
    sqlite3_stmt *stmt[ST__MAX];
};

/*
 * Writes go through the writer connection under s->lock (which also guards the
 * revision and the wait condition); reads through a small pool of read-only
 * connections, so that GETs never queue behind a commit's fsync (WAL lets
 * readers and the writer run at once; a reader sees every transaction
 * committed before its statement starts).
 */
#define N_READERS 4

struct sqlite_store {
    pthread_mutex_t lock;   /* the writer and the revision */
    pthread_cond_t changed; /* broadcast after every commit that bumped the revision */
    struct conn w;
    struct conn r[N_READERS];
    atomic_uint next_reader;
    int64_t revision;
    int lock_fd; /* flock()ed: one controller per file */
};

/* sqlite.c */
int sqlite_db_error(struct conn *c, int rc, const char *what, struct slio_err *err);
sqlite3_stmt *sqlite_stmt(struct conn *c, enum stmt_id id); /* reset, bindings cleared */
int sqlite_exec(struct conn *c, sqlite3_stmt *st, const char *what, struct slio_err *err);

/* sqlite_txn.c: the store_ops.txn of the SQLite store. */
int sqlite_txn(void *impl, const struct store_txn *t, int64_t *ret_revision, size_t *ret_failed,
               struct slio_err *err);

#endif
