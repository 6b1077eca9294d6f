/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's store: one small key-value interface, two backends
 * (store/sqlite.c, the embedded default; store/etcd.c, HA on etcd v3).
 *
 * The model is etcd v3's, so etcd implements it one-to-one and SQLite
 * imitates it:
 *
 * - Keys are byte strings without NUL ("/slio/volumes/<uuid>"), at most
 *   STORE_KEY_MAX bytes; values are opaque bytes (the controller stores JSON),
 *   at most STORE_VALUE_MAX bytes.
 * - One global revision counter, > 0 once anything was written. Every
 *   successful transaction that changes something bumps it by exactly one;
 *   every key it puts gets mod_revision = that revision (create_revision too
 *   when the key is new). Revisions never go back, not even across restarts.
 * - A transaction is: compares (key's mod_revision == N; N == 0 means "the
 *   key does not exist"), then puts and deletes applied atomically iff every
 *   compare holds (etcd: Txn{compare: mod_revision, success: put/delete}).
 * - Ranges are by prefix, in byte order of the key, with a start key
 *   (exclusive) and a limit: the pagination of every list call.
 * - store_wait() is the watch: it returns once the revision moved past a
 *   given one (etcd: a Watch on the prefix from revision+1), so a long-poll
 *   never spins and never holds a lock while waiting.
 *
 * HA (etcd only): a backend may host leader election. A backend that does
 * not (SQLite) makes this process the leader forever. A backend that does
 * fences every transaction with its leadership (etcd: the txn also compares
 * the leader key's create_revision), so a deposed leader's write fails with
 * -EROFS instead of landing.
 *
 * Errors (every function): 0 or a negative errno, text in err (may be NULL):
 *   -ENOENT     key absent (store_get)
 *   -ECANCELED  a compare failed; nothing was written (ret_failed says which)
 *   -EROFS      this process is not the leader (HA): nothing was written
 *   -EAGAIN     the store is unreachable or busy past its timeout: retry later
 *   -EINVAL     malformed argument (key too long, value too big, too many ops)
 *   -EIO        corruption or another backend failure
 *   -ENOMEM
 *
 * Threads: every function may be called from any thread at the same time;
 * a backend serialises what it must. Calls block for a bounded time (the
 * backend's own timeout) — call them from HTTP handler or worker threads.
 */
#ifndef SLIO_CONTROLLER_STORE_H
#define SLIO_CONTROLLER_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slio/cleanup.h"
#include "slio/error.h"

#define STORE_KEY_MAX   512
#define STORE_VALUE_MAX (1u << 20) /* etcd's default request limit is 1.5 MiB */
#define STORE_TXN_MAX   64         /* compares + ops per transaction (etcd: --max-txn-ops 128) */
#define STORE_LIST_MAX  10000      /* items per store_list() page */

/* One key as read. Strings are NUL-terminated copies owned by the kv. */
struct store_kv {
    char *key;
    char *value; /* NUL-terminated for convenience; value_len excludes the NUL */
    size_t value_len;
    int64_t create_revision;
    int64_t mod_revision;
};
void store_kv_clear(struct store_kv *kv); /* frees the strings, zeroes the struct */

struct store_kv_list {
    struct store_kv *items;
    size_t n;
    bool more; /* keys under the prefix remain after the last item */
};
void store_kv_list_clear(struct store_kv_list *l);

enum store_op_type { STORE_OP_PUT, STORE_OP_DELETE };

struct store_op {
    enum store_op_type type;
    const char *key;
    const char *value; /* PUT: bytes, borrowed for the call */
    size_t value_len;  /* PUT */
};

struct store_compare {
    const char *key;
    int64_t mod_revision; /* 0: the key must not exist */
};

struct store_txn {
    const struct store_compare *compares;
    size_t n_compares;
    const struct store_op *ops; /* applied in order; deleting an absent key is not an error */
    size_t n_ops;
};

/* What a backend provides. Every member is required except where marked. */
struct store_ops {
    const char *name; /* "sqlite", "etcd" */

    /* One key: -ENOENT if absent. ret filled only on success. */
    int (*get)(void *impl, const char *key, struct store_kv *ret, struct slio_err *err);

    /*
     * Keys starting with prefix and (when start_after is not NULL) greater than
     * start_after, in byte order, at most limit (1..STORE_LIST_MAX) of them.
     * keys_only: values come back empty (counting, indexes). ret->more tells
     * whether a next page exists. A consistent snapshot of one revision;
     * ret_revision (may be NULL) is that revision.
     */
    int (*list)(void *impl, const char *prefix, const char *start_after, size_t limit,
                bool keys_only, struct store_kv_list *ret, int64_t *ret_revision,
                struct slio_err *err);

    /*
     * Atomically: if every compare holds, apply the ops and return 0 with the
     * new revision in *ret_revision (unchanged revision if n_ops == 0).
     * Otherwise -ECANCELED, nothing written, *ret_failed (may be NULL) = the
     * index of the first compare that failed. n_compares + n_ops <= STORE_TXN_MAX.
     */
    int (*txn)(void *impl, const struct store_txn *txn, int64_t *ret_revision, size_t *ret_failed,
               struct slio_err *err);

    /* The current global revision (0 when nothing was ever written). */
    int (*revision)(void *impl, int64_t *ret, struct slio_err *err);

    /*
     * Block until a put or delete of a key under prefix happened at a revision
     * greater than after_revision, or timeout_us passed, whichever is first.
     * Returns 0 in both cases with the store's revision then in *ret_revision.
     * It may return early (a change outside the prefix, a spurious wake-up):
     * callers re-read and wait again with what remains of their deadline.
     * Holds no lock of the caller's while blocked.
     */
    int (*wait)(void *impl, const char *prefix, int64_t after_revision, uint64_t timeout_us,
                int64_t *ret_revision, struct slio_err *err);

    /*
     * Optional (NULL = single controller, always the leader). Whether this
     * process leads now, and the leader's advertised URL when known
     * (ret_leader gets "" when unknown). Cheap: answered from the backend's
     * state, no round trip. A backend calls its campaign loop itself.
     */
    bool (*is_leader)(void *impl, char *ret_leader, size_t leader_size);

    /*
     * Optional: a counter that changes every time this process gains
     * leadership, so the controller knows to rebuild its in-memory view from
     * the store (another leader may have written meanwhile). NULL = never.
     */
    uint64_t (*leader_epoch)(void *impl);

    /* Release everything (stop campaigning, close connections). */
    void (*free)(void *impl);
};

struct store {
    const struct store_ops *ops;
    void *impl;
};

/* ---- convenience wrappers (thin; the backend does the work) ---------------------------- */

static inline int store_get(struct store *s, const char *key, struct store_kv *ret,
                            struct slio_err *err)
{
    return s->ops->get(s->impl, key, ret, err);
}
static inline int store_list(struct store *s, const char *prefix, const char *start_after,
                             size_t limit, bool keys_only, struct store_kv_list *ret,
                             int64_t *ret_revision, struct slio_err *err)
{
    return s->ops->list(s->impl, prefix, start_after, limit, keys_only, ret, ret_revision, err);
}
static inline int store_txn(struct store *s, const struct store_txn *txn, int64_t *ret_revision,
                            size_t *ret_failed, struct slio_err *err)
{
    return s->ops->txn(s->impl, txn, ret_revision, ret_failed, err);
}
static inline int store_revision(struct store *s, int64_t *ret, struct slio_err *err)
{
    return s->ops->revision(s->impl, ret, err);
}
static inline int store_wait(struct store *s, const char *prefix, int64_t after_revision,
                             uint64_t timeout_us, int64_t *ret_revision, struct slio_err *err)
{
    return s->ops->wait(s->impl, prefix, after_revision, timeout_us, ret_revision, err);
}
static inline bool store_is_leader(struct store *s, char *ret_leader, size_t leader_size)
{
    if (!s->ops->is_leader) {
        if (ret_leader && leader_size)
            ret_leader[0] = '\0';
        return true;
    }
    return s->ops->is_leader(s->impl, ret_leader, leader_size);
}
static inline uint64_t store_leader_epoch(struct store *s)
{
    return s->ops->leader_epoch ? s->ops->leader_epoch(s->impl) : 0;
}

/* The interface's bounds (for backends): a key of 1..STORE_KEY_MAX bytes; a
 * transaction of at most STORE_TXN_MAX compares and ops whose keys pass and whose
 * values are at most STORE_VALUE_MAX bytes. -EINVAL with the reason in err. */
int store_key_check(const char *key, struct slio_err *err) _must_check_;
int store_txn_check(const struct store_txn *t, struct slio_err *err) _must_check_;

/* Free the backend and the struct. NULL ok. */
void store_free(struct store *s);
SLIO_DEFINE_CLEANUP(struct store *, store_free)
#define _cleanup_store_ _cleanup_(store_freep)

/* Put a JSON document (compact text) / read one (-ENOENT, -EIO if not JSON). */
int store_get_json(struct store *s, const char *key, json_t **ret, int64_t *ret_mod_revision,
                   struct slio_err *err) _must_check_;

/* ---- backends ------------------------------------------------------------------------ */

/*
 * SQLite: one file (created with its parent missing = -ENOENT), WAL mode,
 * synchronous=FULL so an acknowledged transaction survives a power cut, a
 * versioned schema (refuses a newer one: -EPROTO). Single process: a second
 * controller on the same file is refused (-EBUSY) by an exclusive lock file.
 */
int store_sqlite_open(const char *path, struct store **ret, struct slio_err *err) _must_check_;

/*
 * etcd v3 (store/etcd.c, another helper's). endpoints: "http://127.0.0.1:2379", ...;
 * prefix: the key namespace ("/slio/"); advertise_url: this controller's URL,
 * published as leader; lease_ttl_s: the leader lease.
 */
struct store_etcd_opts {
    const char *const *endpoints;
    size_t n_endpoints;
    const char *prefix;
    const char *advertise_url;
    uint32_t lease_ttl_s;
    uint32_t timeout_ms;
};
int store_etcd_open(const struct store_etcd_opts *opts, struct store **ret,
                    struct slio_err *err) _must_check_;

#endif
