/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite store: etcd's model (global revision, mod_revision CAS) on one
 * table. WAL with synchronous=FULL: a transaction that returned 0 is on disk.
 *
 * One connection behind one mutex: SQLite serialises writers anyway, reads
 * of a few rows take microseconds, and one connection keeps the revision
 * counter and the wait condition trivially consistent. The mutex is held
 * only for the statement(s) of one call, never while waiting.
 */
#define SLIO_LOG_COMPONENT "store"
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

#include "slio/log.h"
#include "store.h"

#define SCHEMA_VERSION  1
#define BUSY_TIMEOUT_MS 5000

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
    ST__MAX,
};

static const char *const stmt_sql[ST__MAX] = {
    [ST_GET] = "SELECT value, create_rev, mod_rev FROM kv WHERE key = ?1",
#define LIST_SQL(cols, op)                                                                         \
    ("SELECT " cols ", create_rev, mod_rev FROM kv WHERE key " op                                  \
     " ?1 AND (?2 IS NULL OR key < ?2) ORDER BY key LIMIT ?3")
    [ST_LIST_GE] = LIST_SQL("key, value", ">="),
    [ST_LIST_GT] = LIST_SQL("key, value", ">"),
    [ST_KEYS_GE] = LIST_SQL("key, NULL", ">="),
    [ST_KEYS_GT] = LIST_SQL("key, NULL", ">"),
    [ST_MODREV] = "SELECT mod_rev FROM kv WHERE key = ?1",
    [ST_PUT] =
        ("INSERT INTO kv(key, value, create_rev, mod_rev) VALUES (?1, ?2, ?3, ?3) "
         "ON CONFLICT(key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev"),
    [ST_DELETE] = "DELETE FROM kv WHERE key = ?1",
    [ST_SET_REV] = "UPDATE meta SET v = ?1 WHERE k = 'revision'",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

struct sqlite_store {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* broadcast after every commit that bumped the revision */
    sqlite3 *db;
    sqlite3_stmt *stmt[ST__MAX];
    int64_t revision;
    int lock_fd; /* flock()ed: one controller per file */
};

static int db_error(struct sqlite_store *s, int rc, const char *what, struct slio_err *err)
{
    slio_err_set(err, "sqlite: %s: %s", what, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EAGAIN;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_TOOBIG:
        return -EINVAL;
    default:
        return -EIO;
    }
}

static sqlite3_stmt *stmt_get(struct sqlite_store *s, enum stmt_id id)
{
    sqlite3_stmt *st = s->stmt[id];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Run a statement that returns no rows. */
static int exec_stmt(struct sqlite_store *s, sqlite3_stmt *st, const char *what,
                     struct slio_err *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_error(s, rc, what, err);
}

static int key_check(const char *key, struct slio_err *err)
{
    size_t n = strlen(key);
    if (n == 0 || n > STORE_KEY_MAX) {
        slio_err_set(err, "store key of %zu bytes (1..%d)", n, STORE_KEY_MAX);
        return -EINVAL;
    }
    return 0;
}

static int kv_fill(sqlite3_stmt *st, int col_key, struct store_kv *kv, const char *key)
{
    const void *val = sqlite3_column_blob(st, col_key + 1);
    size_t len = (size_t)sqlite3_column_bytes(st, col_key + 1);
    const char *k = key ? key : (const char *)sqlite3_column_text(st, col_key);

    kv->key = strdup(k ? k : "");
    kv->value = malloc(len + 1);
    if (!kv->key || !kv->value) {
        store_kv_clear(kv);
        return -ENOMEM;
    }
    if (len)
        memcpy(kv->value, val, len);
    kv->value[len] = '\0';
    kv->value_len = len;
    kv->create_revision = sqlite3_column_int64(st, col_key + 2);
    kv->mod_revision = sqlite3_column_int64(st, col_key + 3);
    return 0;
}

static int sq_get(void *impl, const char *key, struct store_kv *ret, struct slio_err *err)
{
    struct sqlite_store *s = impl;
    struct store_kv kv = {0};
    int r = key_check(key, err);
    if (r < 0)
        return r;

    pthread_mutex_lock(&s->lock);
    sqlite3_stmt *st = stmt_get(s, ST_GET);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        r = kv_fill(st, -1, &kv, key);
    else if (rc == SQLITE_DONE) {
        slio_err_set(err, "key \"%s\" not found", key);
        r = -ENOENT;
    } else
        r = db_error(s, rc, "get", err);
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->lock);
    if (r == 0)
        *ret = kv;
    return r;
}

/* The smallest key greater than every key starting with prefix, or NULL (no bound). */
static char *prefix_end(const char *prefix)
{
    size_t n = strlen(prefix);
    char *end = strdup(prefix);
    if (!end)
        return NULL;
    while (n > 0) {
        unsigned char c = (unsigned char)end[n - 1];
        if (c < 0xff) {
            end[n - 1] = (char)(c + 1);
            end[n] = '\0';
            return end;
        }
        n--;
    }
    free(end);
    return NULL;
}

static int list_rows(struct sqlite_store *s, sqlite3_stmt *st, size_t limit,
                     struct store_kv_list *out, struct slio_err *err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == limit) {
            out->more = true;
            return 0;
        }
        int r = kv_fill(st, 0, &out->items[out->n], NULL);
        if (r < 0)
            return r;
        out->n++;
    }
    return rc == SQLITE_DONE ? 0 : db_error(s, rc, "list", err);
}

static int sq_list(void *impl, const char *prefix, const char *start_after, size_t limit,
                   bool keys_only, struct store_kv_list *ret, int64_t *ret_revision,
                   struct slio_err *err)
{
    struct sqlite_store *s = impl;
    struct store_kv_list out = {0};
    _cleanup_free_ char *end = NULL;

    if (limit == 0 || limit > STORE_LIST_MAX) {
        slio_err_set(err, "store list limit %zu (1..%d)", limit, STORE_LIST_MAX);
        return -EINVAL;
    }
    if (prefix[0]) {
        end = prefix_end(prefix);
        if (!end && strspn(prefix, "\xff") != strlen(prefix))
            return -ENOMEM;
    }
    /* Resume after start_after when it lies at or past the prefix, else start at the prefix. */
    bool resume = start_after && strcmp(start_after, prefix) >= 0;
    out.items = calloc(limit, sizeof(*out.items));
    if (!out.items)
        return -ENOMEM;

    pthread_mutex_lock(&s->lock);
    enum stmt_id id =
        keys_only ? (resume ? ST_KEYS_GT : ST_KEYS_GE) : (resume ? ST_LIST_GT : ST_LIST_GE);
    sqlite3_stmt *st = stmt_get(s, id);
    sqlite3_bind_text(st, 1, resume ? start_after : prefix, -1, SQLITE_STATIC);
    if (end)
        sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit + 1);
    int r = list_rows(s, st, limit, &out, err);
    sqlite3_reset(st);
    int64_t rev = s->revision;
    pthread_mutex_unlock(&s->lock);

    if (r < 0) {
        store_kv_list_clear(&out);
        return r;
    }
    *ret = out;
    if (ret_revision)
        *ret_revision = rev;
    return 0;
}

static int txn_compare(struct sqlite_store *s, const struct store_compare *c, bool *ret_ok,
                       struct slio_err *err)
{
    sqlite3_stmt *st = stmt_get(s, ST_MODREV);
    sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t cur = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error(s, rc, "compare", err);
    *ret_ok = cur == c->mod_revision;
    return 0;
}

static int txn_apply(struct sqlite_store *s, const struct store_op *op, int64_t rev,
                     struct slio_err *err)
{
    sqlite3_stmt *st;
    if (op->type == STORE_OP_PUT) {
        st = stmt_get(s, ST_PUT);
        sqlite3_bind_text(st, 1, op->key, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, op->value_len ? op->value : "", (int)op->value_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, rev);
    } else {
        st = stmt_get(s, ST_DELETE);
        sqlite3_bind_text(st, 1, op->key, -1, SQLITE_STATIC);
    }
    return exec_stmt(s, st, op->type == STORE_OP_PUT ? "put" : "delete", err);
}

static int txn_check(const struct store_txn *t, struct slio_err *err)
{
    if (t->n_compares + t->n_ops > STORE_TXN_MAX) {
        slio_err_set(err, "store txn of %zu compares and %zu ops (at most %d)", t->n_compares,
                     t->n_ops, STORE_TXN_MAX);
        return -EINVAL;
    }
    for (size_t i = 0; i < t->n_compares; i++)
        if (key_check(t->compares[i].key, err) < 0)
            return -EINVAL;
    for (size_t i = 0; i < t->n_ops; i++) {
        if (key_check(t->ops[i].key, err) < 0)
            return -EINVAL;
        if (t->ops[i].type == STORE_OP_PUT && t->ops[i].value_len > STORE_VALUE_MAX) {
            slio_err_set(err, "store value of key \"%s\": %zu bytes (at most %u)", t->ops[i].key,
                         t->ops[i].value_len, STORE_VALUE_MAX);
            return -EINVAL;
        }
    }
    return 0;
}

/* Under s->lock, inside BEGIN IMMEDIATE: compares, ops, the new revision. */
static int txn_body(struct sqlite_store *s, const struct store_txn *t, int64_t rev,
                    size_t *ret_failed, struct slio_err *err)
{
    for (size_t i = 0; i < t->n_compares; i++) {
        bool ok = false;
        int r = txn_compare(s, &t->compares[i], &ok, err);
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
        int r = txn_apply(s, &t->ops[i], rev, err);
        if (r < 0)
            return r;
    }
    sqlite3_stmt *st = stmt_get(s, ST_SET_REV);
    sqlite3_bind_int64(st, 1, rev);
    return exec_stmt(s, st, "revision", err);
}

static int sq_txn(void *impl, const struct store_txn *t, int64_t *ret_revision, size_t *ret_failed,
                  struct slio_err *err)
{
    struct sqlite_store *s = impl;
    int r = txn_check(t, err);
    if (r < 0)
        return r;

    pthread_mutex_lock(&s->lock);
    if (t->n_ops == 0 && t->n_compares == 0) {
        if (ret_revision)
            *ret_revision = s->revision;
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    r = exec_stmt(s, stmt_get(s, ST_BEGIN), "begin", err);
    if (r == 0) {
        int64_t rev = s->revision + (t->n_ops ? 1 : 0);
        r = txn_body(s, t, rev, ret_failed, err);
        if (r == 0)
            r = exec_stmt(s, stmt_get(s, ST_COMMIT), "commit", err);
        if (r < 0)
            (void)exec_stmt(s, stmt_get(s, ST_ROLLBACK), "rollback", NULL);
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

static int sq_revision(void *impl, int64_t *ret, struct slio_err *err)
{
    struct sqlite_store *s = impl;
    pthread_mutex_lock(&s->lock);
    *ret = s->revision;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* One process writes the file, so a change anywhere bumps s->revision: waiting for the
 * revision to pass after_revision is exact for "something changed", early for the prefix. */
static int sq_wait(void *impl, const char *prefix, int64_t after_revision, uint64_t timeout_us,
                   int64_t *ret_revision, struct slio_err *err)
{
    struct sqlite_store *s = impl;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(timeout_us / 1000000u);
    deadline.tv_nsec += (long)(timeout_us % 1000000u) * 1000;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    while (s->revision <= after_revision) {
        if (pthread_cond_timedwait(&s->changed, &s->lock, &deadline) == ETIMEDOUT)
            break;
    }
    *ret_revision = s->revision;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static void sq_free(void *impl)
{
    struct sqlite_store *s = impl;
    if (!s)
        return;
    for (int i = 0; i < ST__MAX; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close(s->db);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .get = sq_get,
    .list = sq_list,
    .txn = sq_txn,
    .revision = sq_revision,
    .wait = sq_wait,
    .free = sq_free,
};

/* One controller per file: a second one would keep its own revision counter and view. */
static int sqlite_lock_file(struct sqlite_store *s, const char *path, struct slio_err *err)
{
    _cleanup_free_ char *lock_path = NULL;
    if (asprintf(&lock_path, "%s.lock", path) < 0)
        return -ENOMEM;
    s->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        int r = slio_neg_errno();
        slio_err_set(err, "open \"%s\": %s", lock_path, strerror(-r));
        return r;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        int r = slio_neg_errno();
        slio_err_set(err, "\"%s\" is locked by another controller", lock_path);
        return r == -EWOULDBLOCK ? -EBUSY : r;
    }
    return 0;
}

static int sqlite_open_db(struct sqlite_store *s, const char *path, struct slio_err *err)
{
    int rc = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return rc == SQLITE_CANTOPEN ? (slio_err_set(err, "cannot open"), -ENOENT)
                                     : db_error(s, rc, "open", err);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(s->db, 1);
    return 0;
}

static int exec_sql(struct sqlite_store *s, const char *sql, struct slio_err *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        slio_err_set(err, "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return (rc & 0xff) == SQLITE_BUSY ? -EAGAIN : -EIO;
    }
    return 0;
}

static int query_int(struct sqlite_store *s, const char *sql, int64_t *ret, struct slio_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_error(s, rc, sql, err);
    rc = sqlite3_step(st);
    *ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(s, rc, sql, err);
}

/* Version 1: kv (etcd's key space) and meta (schema version, revision). Future versions
 * migrate forward here, one step per version, inside one transaction. */
static int sqlite_schema(struct sqlite_store *s, struct slio_err *err)
{
    static const char create_v1[] =
        "BEGIN IMMEDIATE;"
        "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL,"
        " create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL) WITHOUT ROWID;"
        "INSERT OR IGNORE INTO meta VALUES ('schema_version', 1), ('revision', 0);"
        "COMMIT;";
    int64_t version, rev;
    int r = exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err);
    if (r == 0)
        r = exec_sql(s, create_v1, err);
    if (r == 0)
        r = query_int(s, "SELECT v FROM meta WHERE k = 'schema_version'", &version, err);
    if (r == 0 && version != SCHEMA_VERSION) {
        slio_err_set(err, "schema version %lld, this controller knows %d", (long long)version,
                     SCHEMA_VERSION);
        r = -EPROTO;
    }
    if (r == 0)
        r = query_int(s, "SELECT v FROM meta WHERE k = 'revision'", &rev, err);
    if (r == 0)
        s->revision = rev;
    return r;
}

static int sqlite_prepare(struct sqlite_store *s, struct slio_err *err)
{
    for (int i = 0; i < ST__MAX; i++) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                                    NULL);
        if (rc != SQLITE_OK)
            return db_error(s, rc, "prepare", err);
    }
    return 0;
}

int store_sqlite_open(const char *path, struct store **ret, struct slio_err *err)
{
    struct sqlite_store *s = calloc(1, sizeof(*s));
    struct store *st = calloc(1, sizeof(*st));
    int r;

    if (!s || !st) {
        free(s);
        free(st);
        return -ENOMEM;
    }
    s->lock_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->changed, &ca);
    pthread_condattr_destroy(&ca);

    r = sqlite_lock_file(s, path, err);
    if (r == 0)
        r = sqlite_open_db(s, path, err);
    if (r == 0)
        r = sqlite_schema(s, err);
    if (r == 0)
        r = sqlite_prepare(s, err);
    if (r < 0) {
        slio_err_prefix(err, "store \"%s\"", path);
        sq_free(s);
        free(st);
        return r;
    }
    st->ops = &sqlite_ops;
    st->impl = s;
    *ret = st;
    return 0;
}
