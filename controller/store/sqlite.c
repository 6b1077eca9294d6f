/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite store: etcd's model (global revision, mod_revision CAS) on one
 * table. WAL with synchronous=FULL: a transaction that returned 0 is on disk.
 *
 * One writer connection behind s->lock (SQLite serialises writers anyway,
 * and one writer keeps the revision counter and the wait condition trivially
 * consistent) and a few read-only connections for get and list
 * (sqlite_internal.h). Locks are held only for the statements of one call,
 * never while waiting. Transactions: sqlite_txn.c; the schema: sqlite_schema.c.
 */
#define SLIO_LOG_COMPONENT "store"
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

#include "slio/log.h"
#include "sqlite_internal.h"
#include "sqlite_schema.h"
#include "store.h"

#define BUSY_TIMEOUT_MS 5000
/* Bytes of the database file a reader maps (at most the file's size is; Debian's SQLite caps
 * it at 2 GiB); beyond, pages are read as before. */
#define READER_MMAP_SIZE "1073741824"

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
    [ST_GET_REV] = "SELECT v FROM meta WHERE k = 'revision'",
    [ST_BEGIN_READ] = "BEGIN",
};

int sqlite_db_error(struct conn *c, int rc, const char *what, struct slio_err *err)
{
    slio_err_set(err, "sqlite: %s: %s", what, c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
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

sqlite3_stmt *sqlite_stmt(struct conn *c, enum stmt_id id)
{
    sqlite3_stmt *st = c->stmt[id];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Run a statement that returns no rows. */
int sqlite_exec(struct conn *c, sqlite3_stmt *st, const char *what, struct slio_err *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sqlite_db_error(c, rc, what, err);
}

/* A free reader if one is, else wait for the next one in turn. */
static struct conn *reader_acquire(struct sqlite_store *s)
{
    unsigned first = atomic_fetch_add(&s->next_reader, 1);
    for (unsigned i = 0; i < N_READERS; i++) {
        struct conn *c = &s->r[(first + i) % N_READERS];
        if (pthread_mutex_trylock(&c->lock) == 0)
            return c;
    }
    struct conn *c = &s->r[first % N_READERS];
    pthread_mutex_lock(&c->lock);
    return c;
}

static void reader_release(struct conn *c)
{
    pthread_mutex_unlock(&c->lock);
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
    int r = store_key_check(key, err);
    if (r < 0)
        return r;

    struct conn *c = reader_acquire(s);
    sqlite3_stmt *st = sqlite_stmt(c, ST_GET);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        r = kv_fill(st, -1, &kv, key);
    else if (rc == SQLITE_DONE) {
        slio_err_set(err, "key \"%s\" not found", key);
        r = -ENOENT;
    } else
        r = sqlite_db_error(c, rc, "get", err);
    sqlite3_reset(st);
    reader_release(c);
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

static int list_rows(struct conn *c, sqlite3_stmt *st, size_t limit, struct store_kv_list *out,
                     struct slio_err *err)
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
    return rc == SQLITE_DONE ? 0 : sqlite_db_error(c, rc, "list", err);
}

static int read_revision(struct conn *c, int64_t *ret, struct slio_err *err)
{
    sqlite3_stmt *st = sqlite_stmt(c, ST_GET_REV);
    int rc = sqlite3_step(st);
    *ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : sqlite_db_error(c, rc, "revision", err);
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

    enum stmt_id id =
        keys_only ? (resume ? ST_KEYS_GT : ST_KEYS_GE) : (resume ? ST_LIST_GT : ST_LIST_GE);
    int64_t rev = 0;
    struct conn *c = reader_acquire(s);
    /* One read transaction: the rows and the revision come from the same snapshot. */
    int r = sqlite_exec(c, sqlite_stmt(c, ST_BEGIN_READ), "begin", err);
    if (r == 0)
        r = read_revision(c, &rev, err);
    if (r == 0) {
        sqlite3_stmt *st = sqlite_stmt(c, id);
        sqlite3_bind_text(st, 1, resume ? start_after : prefix, -1, SQLITE_STATIC);
        if (end)
            sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)limit + 1);
        r = list_rows(c, st, limit, &out, err);
        sqlite3_reset(st);
    }
    if (!sqlite3_get_autocommit(c->db))
        (void)sqlite_exec(c, sqlite_stmt(c, ST_COMMIT), "end of read", NULL);
    reader_release(c);

    if (r < 0) {
        store_kv_list_clear(&out);
        return r;
    }
    *ret = out;
    if (ret_revision)
        *ret_revision = rev;
    return 0;
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

static void conn_close(struct conn *c)
{
    for (int i = 0; i < ST__MAX; i++)
        sqlite3_finalize(c->stmt[i]);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->lock);
}

static void sq_free(void *impl)
{
    struct sqlite_store *s = impl;
    if (!s)
        return;
    for (int i = 0; i < N_READERS; i++)
        conn_close(&s->r[i]);
    conn_close(&s->w);
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
    .txn = sqlite_txn,
    .revision = sq_revision,
    .wait = sq_wait,
    .free = sq_free,
};

/* One controller per file: a second one would keep its own revision counter and view. */
static int lock_file(struct sqlite_store *s, const char *path, struct slio_err *err)
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

static int conn_open(struct conn *c, const char *path, bool writer, struct slio_err *err)
{
    int flags = SQLITE_OPEN_NOMUTEX |
                (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_CANTOPEN) {
            slio_err_set(err, "cannot open");
            return -ENOENT;
        }
        return sqlite_db_error(c, rc, "open", err);
    }
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(c->db, 1);
    /* Readers map the database: a GET's page reads were one pread() and a 4 KiB copy each
     * (7% of the controller's CPU under bench/api's GET load, docs/performance.md). The
     * writer keeps read() so that a full disk or an I/O error stays an error code. */
    if (!writer) /* a hint: a SQLite built without mmap answers by ignoring it */
        sqlite3_exec(c->db, "PRAGMA mmap_size=" READER_MMAP_SIZE, NULL, NULL, NULL);
    return 0;
}

static int conn_prepare(struct conn *c, struct slio_err *err)
{
    for (int i = 0; i < ST__MAX; i++) {
        int rc = sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[i],
                                    NULL);
        if (rc != SQLITE_OK)
            return sqlite_db_error(c, rc, "prepare", err);
    }
    return 0;
}

/* The writer first (it creates or checks the schema), then the readers. */
static int open_conns(struct sqlite_store *s, const char *path, struct slio_err *err)
{
    int r = conn_open(&s->w, path, true, err);
    if (r == 0)
        r = sqlite_schema(s->w.db, &s->revision, err);
    if (r == 0)
        r = conn_prepare(&s->w, err);
    for (int i = 0; r == 0 && i < N_READERS; i++) {
        r = conn_open(&s->r[i], path, false, err);
        if (r == 0)
            r = conn_prepare(&s->r[i], err);
    }
    return r;
}

int store_sqlite_open(const char *path, struct store **ret, struct slio_err *err)
{
    struct sqlite_store *s = calloc(1, sizeof(*s));
    struct store *st = calloc(1, sizeof(*st));
    if (!s || !st) {
        free(s);
        free(st);
        return -ENOMEM;
    }
    s->lock_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->w.lock, NULL);
    for (int i = 0; i < N_READERS; i++)
        pthread_mutex_init(&s->r[i].lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->changed, &ca);
    pthread_condattr_destroy(&ca);

    int r = lock_file(s, path, err);
    if (r == 0)
        r = open_conns(s, path, err);
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
