/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's state shared by the API handlers and the monitor thread:
 * the store (the truth), the scheduler's view (rebuilt from the store at
 * start and kept in step with every committed change), the live node table
 * (heartbeats, pool figures: memory only), the tokens and the metrics.
 *
 * Every state change is one store transaction, built with a struct txb: the
 * documents, their indexes, the desired-state marker of the node concerned
 * and an event, committed together or not at all.
 */
#ifndef SLIO_CONTROLLER_CTL_H
#define SLIO_CONTROLLER_CTL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "config.h"
#include "model.h"
#include "sched/sched.h"
#include "slio/prom.h"
#include "store/store.h"

enum ctl_counter {
    CTR_VOLUMES_CREATED,
    CTR_VOLUMES_DELETED,
    CTR_PLACEMENT_FAILURES,
    CTR_TXN_CONFLICTS,
    CTR_HEARTBEATS,
    CTR__MAX,
};

struct ctl {
    struct ctl_config cfg;
    struct store *store;
    struct sched_config *sched_cfg;
    struct sched_view *view; /* read with ctl_view(): replaced when leadership is regained */
    struct sched_view *retired[8];
    size_t n_retired;
    uint64_t leader_epoch;
    uint64_t events_pruned_us; /* monitor thread only */
    struct auth auth;
    int audit_fd;                    /* api/audit.c: the audit file (>= 3), 0 = to the log */
    struct slio_http_server *server; /* set by api_start: its counters go to /metrics */

    pthread_mutex_t live_lock;
    json_t *live; /* node → {"seen": monotonic µs, "seen_at": RFC 3339, "pools": {pool: figures}} */
    json_t *reserves; /* pool id → bytes held for snapshots' copy-on-write (live_lock) */

    uint64_t started_us;
    _Atomic unsigned long long event_seq;
    atomic_uint long_polls;
    _Atomic unsigned long long counters[CTR__MAX];
    struct slio_prom_hist request_seconds;

    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping;
    pthread_t monitor;
    bool monitor_running;
};

/* Open the store, build the view from it, load the tokens. */
int ctl_open(struct ctl_config *cfg, struct ctl **ret, struct slio_err *err);
/* Stop the monitor, free everything. NULL ok. */
void ctl_free(struct ctl *c);

/* Start / stop the heartbeat monitor thread (monitor.c). */
int ctl_monitor_start(struct ctl *c);
void ctl_monitor_stop(struct ctl *c);

uint64_t ctl_now_us(void); /* CLOCK_MONOTONIC */

static inline struct sched_view *ctl_view(struct ctl *c)
{
    return __atomic_load_n(&c->view, __ATOMIC_ACQUIRE);
}

/* ---- transactions ------------------------------------------------------------------- */

struct txb {
    struct store_compare cmp[STORE_TXN_MAX];
    struct store_op ops[STORE_TXN_MAX];
    char *owned[3 * STORE_TXN_MAX];
    size_t n_cmp, n_ops, n_owned;
    int error; /* first error while building (-ENOMEM, -E2BIG): txb_commit returns it */
};

void txb_init(struct txb *t);
void txb_free(struct txb *t);
/* key must exist at mod_revision (0: must not exist). key is copied. */
void txb_compare(struct txb *t, const char *key, int64_t mod_revision);
void txb_put_json(struct txb *t, const char *key, const json_t *doc);
void txb_put_str(struct txb *t, const char *key, const char *value);
void txb_delete(struct txb *t, const char *key);
/* Bump the node's desired-state revision. */
void txb_touch_desired(struct txb *t, const char *node);
/* An event (kind: node, pool, volume, snapshot, attachment; type: normal, warning). */
void txb_event(struct txb *t, struct ctl *c, const char *kind, const char *object, const char *type,
               const char *reason, const char *fmt, ...) _printf_(7, 8);
/* Commit; -ECANCELED when a compare failed (counted), see store.h for the rest. */
int txb_commit(struct ctl *c, struct txb *t, int64_t *ret_revision, struct slio_err *err);

/* ---- documents and the view ------------------------------------------------------- */

/* A node's live status ("ready", "unknown", "offline") as stored. */
const char *ctl_node_status(const json_t *node_doc);

/*
 * Put the volume's node index entry, /slio/bynode/<node>/v/<uuid>, with what
 * the scheduler's view needs of it as a small JSON array
 * [pool, size, thin, spread group|null, consumer|null]: the start-up rebuild
 * reads these instead of parsing every volume document. Call it in every
 * transaction that changes a volume's size or consumer.
 */
void txb_volume_index(struct txb *t, const json_t *vol);

/*
 * Snapshot copy-on-write reserves are held back from placement (the pool's
 * `reserved` in the scheduler): add delta bytes to pool_id's reserve, then
 * push the node's pools into the view again.
 */
void ctl_reserve_add(struct ctl *c, const char *node, const char *pool, int64_t delta);

/* Push a node document's pools (with live figures) into the view. */
int ctl_view_sync_node(struct ctl *c, const json_t *node_doc, struct slio_err *err);
/* The consumer the view should count for a volume: its attached node, else its spec's. */
const char *ctl_volume_consumer(const json_t *vol);

/* The live pool figures of node/pool as last reported (borrowed copy, caller decrefs), or NULL. */
json_t *ctl_live_pool(struct ctl *c, const char *node, const char *pool);
/*
 * The node's status as last recorded (the monitor refreshes it every tick),
 * copied into buf; false when this controller has not seen it yet (read the
 * node document then). Saves a store read per rendered volume.
 */
bool ctl_live_status(struct ctl *c, const char *node, char *buf, size_t size);
void ctl_live_set_status(struct ctl *c, const char *node, const char *status);
/* Monotonic µs of the node's last heartbeat or register (0: none since start). */
uint64_t ctl_live_seen(struct ctl *c, const char *node);
/*
 * The same instant on the wall clock (RFC 3339, what the API shows as last_heartbeat),
 * copied into buf; false when none since this controller started. Ages are judged on
 * the monotonic time only: a wall clock set back or forth never turns a node unknown.
 */
bool ctl_live_seen_at(struct ctl *c, const char *node, char buf[static 32]);

/*
 * Rebuild the view from the store (start-up; after gaining leadership, when
 * another controller may have placed volumes) and publish it; the previous
 * view is retired, not freed, as a request may still hold it.
 */
int ctl_rebuild_view(struct ctl *c, struct slio_err *err);

#endif

/*
 * Read-modify-write of one document with compare-and-swap, retried on
 * conflicts. fn changes doc in place and may add ops to t (indexes, events,
 * desired markers); it returns 0 to write, CTL_UNCHANGED to write nothing,
 * or a negative errno. On success *ret_doc (may be NULL) is the document as
 * committed or found unchanged (caller decrefs), *ret_mod (may be NULL) its
 * mod_revision. -ENOENT if the key is absent; -EAGAIN after
 * too many conflicts.
 */
#define CTL_UNCHANGED 1
typedef int (*ctl_mutate_fn)(struct ctl *c, json_t *doc, struct txb *t, void *arg,
                             struct slio_err *err);
int ctl_update(struct ctl *c, const char *key, ctl_mutate_fn fn, void *arg, json_t **ret_doc,
               int64_t *ret_mod, struct slio_err *err);
