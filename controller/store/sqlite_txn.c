/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite store's transactions: compares, then puts and deletes, inside
 * BEGIN IMMEDIATE on the writer connection, the new revision written in the
 * same transaction; waiters are woken after the commit.
 */
#include <string.h>

#include "sqlite_internal.h"

static int txn_compare(struct conn *w, const struct store_compare *c, bool *ret_ok,
                       struct slio_err *err)
{
    sqlite3_stmt *st = sqlite_stmt(w, ST_MODREV);
    sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t cur = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_db_error(w, rc, "compare", err);
    *ret_ok = cur == c->mod_revision;
    return 0;
}

static int txn_apply(struct conn *w, const struct store_op *op, int64_t rev, struct slio_err *err)
{
    sqlite3_stmt *st;
    if (op->type == STORE_OP_PUT) {
        st = sqlite_stmt(w, ST_PUT);
        sqlite3_bind_text(st, 1, op->key, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, op->value_len ? op->value : "", (int)op->value_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, rev);
    } else {
        st = sqlite_stmt(w, ST_DELETE);
        sqlite3_bind_text(st, 1, op->key, -1, SQLITE_STATIC);
    }
    return sqlite_exec(w, st, op->type == STORE_OP_PUT ? "put" : "delete", err);
}

/* Under s->lock, inside BEGIN IMMEDIATE: compares, ops, the new revision. */
static int txn_body(struct conn *w, const struct store_txn *t, int64_t rev, size_t *ret_failed,
                    struct slio_err *err)
{
    for (size_t i = 0; i < t->n_compares; i++) {
        bool ok = false;
        int r = txn_compare(w, &t->compares[i], &ok, err);
        if (r < 0)
            return r;
        if (!ok) {
            if (ret_failed)
                *ret_failed = i;
            slio_err_set(err, "key \"%s\" changed (compare failed)", t->compares[i].key);
            return -ECANCELED;
        }
    }
    for (size_t i = 0; i < t->n_ops; i++) {
        int r = txn_apply(w, &t->ops[i], rev, err);
        if (r < 0)
            return r;
    }
    sqlite3_stmt *st = sqlite_stmt(w, ST_SET_REV);
    sqlite3_bind_int64(st, 1, rev);
    return sqlite_exec(w, st, "revision", err);
}

int sqlite_txn(void *impl, const struct store_txn *t, int64_t *ret_revision, size_t *ret_failed,
               struct slio_err *err)
{
    struct sqlite_store *s = impl;
    int r = store_txn_check(t, err);
    if (r < 0)
        return r;

    pthread_mutex_lock(&s->lock);
    if (t->n_ops == 0 && t->n_compares == 0) {
        if (ret_revision)
            *ret_revision = s->revision;
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    struct conn *w = &s->w;
    r = sqlite_exec(w, sqlite_stmt(w, ST_BEGIN), "begin", err);
    if (r == 0) {
        int64_t rev = s->revision + (t->n_ops ? 1 : 0);
        r = txn_body(w, t, rev, ret_failed, err);
        if (r == 0)
            r = sqlite_exec(w, sqlite_stmt(w, ST_COMMIT), "commit", err);
        if (r < 0)
            (void)sqlite_exec(w, sqlite_stmt(w, ST_ROLLBACK), "rollback", NULL);
        else {
            if (rev != s->revision) {
                s->revision = rev;
                pthread_cond_broadcast(&s->changed);
            }
            if (ret_revision)
                *ret_revision = rev;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}
