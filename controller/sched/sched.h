/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The volume scheduler: a pure library (no I/O, no store, no HTTP).
 *
 * The controller keeps a struct sched_view in sync with its store (pools
 * from agents' heartbeats, volumes from the store at start-up and from every
 * create/delete/expand) and asks it where a new volume goes. A placement is
 * a chain of named filters (a pool passes or fails with a counted reason)
 * then named, weighted scorers (the highest total wins), configured like
 *
 *   filters: [basic, affinity, position, spread]
 *   scorers: [{name: least_allocated, weight: 30}, {name: position_advice, weight: 1},
 *             {name: spread, weight: 30}]
 *
 * Space accounting is the view's own: a pool's allocation is the sum of the
 * sizes of the volumes the view holds on it (placed, and reserved by
 * sched_place but not yet created), so the agent's `free` does not need to
 * have caught up for the view never to overbook; `free` is an extra bound
 * for space the controller does not know about. See docs/scheduler.md.
 *
 * Threads: every sched_view_* / sched_place / sched_explain call is
 * thread-safe (the view has its own mutex) and never blocks on anything
 * but that mutex. sched_config is immutable once built (share it freely).
 *
 * Errors: 0 or a negative errno; ret_* untouched on failure; text in err
 * (may be NULL) naming the object and the cause.
 */
#ifndef SLIO_SCHED_H
#define SLIO_SCHED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slio/cleanup.h"
#include "slio/error.h"

/* Longest pool id, node, rack, zone, uuid, label key/value and spread group (bytes, no NUL). */
#define SCHED_NAME_MAX 127
/*
 * Other bounds (beyond them: -EINVAL): 64 labels per label set, 32 terms per
 * selector, 64 values per term, 16 filters and 16 scorers in a config.
 */

/* Well-known node labels, always present (from sched_pool_info.node/rack/zone). */
#define SCHED_LABEL_NODE "topology.sliteio.io/node"
#define SCHED_LABEL_RACK "topology.sliteio.io/rack"
#define SCHED_LABEL_ZONE "topology.sliteio.io/zone"

/* Where the volume should be relative to its consumer node (the node its pod runs on). */
enum sched_position {
    SCHED_POS_ANY,
    SCHED_POS_MUST_LOCAL,    /* only pools on the consumer node */
    SCHED_POS_PREFER_LOCAL,  /* scorer position_advice favours the consumer node */
    SCHED_POS_PREFER_REMOTE, /* scorer position_advice favours other nodes */
    SCHED_POS_MUST_REMOTE,   /* never a pool on the consumer node */
};

enum sched_spread_level { SCHED_SPREAD_NODE, SCHED_SPREAD_RACK, SCHED_SPREAD_ZONE };

/* Kubernetes label selector operators. */
enum sched_selector_op { SCHED_OP_IN, SCHED_OP_NOT_IN, SCHED_OP_EXISTS, SCHED_OP_DOES_NOT_EXIST };

struct sched_label {
    const char *key;
    const char *value;
};

/* values/n_values: for IN / NOT_IN (IN with no values matches nothing); ignored otherwise. */
struct sched_selector_term {
    const char *key;
    enum sched_selector_op op;
    const char *const *values;
    size_t n_values;
};

/* All terms ANDed; no terms = matches every pool. */
struct sched_selector {
    const struct sched_selector_term *terms;
    size_t n_terms;
};

/*
 * A pool as the controller knows it. Everything is copied by the view.
 *
 * Labels come in two sets: node_labels (the node's labels, matched by
 * sched_request.node_selector) and pool_labels (this pool's own labels,
 * matched by pool_selector). The view adds topology.sliteio.io/node, /rack
 * and /zone to the node labels from node, rack and zone (rack/zone only
 * when set); a caller-given label with one of these keys is ignored.
 */
struct sched_pool_info {
    const char *id;   /* unique, e.g. "node-a/vg0" */
    const char *node; /* required */
    const char *rack; /* NULL or "": unknown rack */
    const char *zone; /* NULL or "": unknown zone */
    const struct sched_label *node_labels;
    size_t n_node_labels;
    const struct sched_label *pool_labels;
    size_t n_pool_labels;
    bool ready;                  /* heartbeat fresh */
    bool unreported;             /* its agent no longer reports it: kept for its volumes only */
    bool cordoned;               /* unschedulable (cordon, drain, lock) */
    bool thin;                   /* thin pool: holds thin volumes only; virtual capacity below */
    uint64_t capacity;           /* bytes */
    uint64_t free;               /* real free bytes as the agent last reported (thin: data free) */
    uint64_t reserved;           /* bytes held back from placement (snapshot reserves, headroom) */
    double overprovision;        /* thin only: virtual capacity = capacity * this (>= 1.0) */
    uint32_t max_remote_volumes; /* 0 = unlimited */
    /*
     * 0..1, 0 = off: this share of the pool's capacity is kept for volumes
     * whose consumer is the pool's node, i.e. after placing a remote volume
     * the bytes of remote volumes stay <= (1 - share) * capacity (virtual
     * capacity for thin pools). Stated on capacity rather than as
     * local/(local+remote) so an empty pool does not refuse its first remote
     * volume (0/(0+x) would be below any share).
     */
    double min_local_share;
};

/*
 * A volume already placed (or reserved). A volume with a consumer_node equal
 * to its pool's node is local, with another consumer node remote, and with
 * none (NULL: not attached yet) neither.
 */
struct sched_volume_info {
    const char *uuid;
    const char *pool_id;
    uint64_t size; /* bytes; thin: the virtual size */
    bool thin;
    const char *spread_group;  /* may be NULL */
    const char *consumer_node; /* may be NULL: unknown consumer */
};

/* Extra, consumer-only nodes (no pool) whose rack/zone the spread filter must know. */
struct sched_node_info {
    const char *node;
    const char *rack; /* NULL or "" */
    const char *zone; /* NULL or "" */
};

struct sched_request {
    const char *uuid; /* required; sched_place refuses one the view already holds (-EEXIST) */
    uint64_t size;    /* bytes, > 0 */
    bool thin;        /* a thin volume goes to a thin pool, a thick one to a thick pool */
    const char *consumer_node; /* may be NULL; MUST_LOCAL / MUST_REMOTE need it (-EINVAL) */
    enum sched_position position;
    struct sched_selector node_selector; /* matched against node labels */
    struct sched_selector pool_selector; /* matched against pool labels */
    /*
     * Members of one spread group go to distinct domains at spread_level,
     * counting both the storage node and the consumer node of every member:
     * a member occupies the domains of its pool's node and of its consumer
     * node; the new volume's pool domain and consumer domain must be free.
     * Hard: a filter (filter "spread"); soft: only the scorer "spread".
     */
    const char *spread_group; /* NULL = none */
    enum sched_spread_level spread_level;
    bool spread_hard;
    /* The content source lives on one pool (clone, snapshot restore): only there. NULL = free. */
    const char *pinned_pool;
};

struct sched_decision {
    char pool_id[SCHED_NAME_MAX + 1];
    char node[SCHED_NAME_MAX + 1];
    bool local;    /* pool's node == consumer node */
    int64_t score; /* sum over the scorers of weight * score (each 0..1,000,000) */
};

/* ------------------------------------------------------------------ config */

/* The filter chain and the weighted scorers; immutable, opaque. */
struct sched_config;

/*
 * Build a config from JSON (or YAML loaded by slio_config_load_*):
 *   {"filters": ["basic", "affinity", "position", "spread"],
 *    "scorers": [{"name": "least_allocated", "weight": 30}, ...]}
 * j NULL = the defaults above (weights least_allocated 30, position_advice 1,
 * spread 30: each scorer's scale is 0..1,000,000, so a PreferLocal pool wins
 * unless it is more than 3 1/3 points fuller than the best other one). An
 * absent key keeps its default; a scorer's weight defaults to 1. Unknown
 * keys, unknown names
 * ("filter 'basik' is unknown (known: basic, affinity, position, spread)"),
 * duplicates, weights outside 0..100 and more than 16 entries: -EINVAL.
 * "basic" is always the first filter: listed elsewhere it is moved first,
 * left out it is added (a pool without space is never a choice).
 */
int sched_config_from_json(const json_t *j, struct sched_config **ret,
                           struct slio_err *err) _must_check_;
void sched_config_free(struct sched_config *c);
SLIO_DEFINE_CLEANUP(struct sched_config *, sched_config_free)
#define _cleanup_sched_config_ _cleanup_(sched_config_freep)

/* ------------------------------------------------------------------ view */

struct sched_view;

/* cfg is copied; -ENOMEM. */
int sched_view_new(const struct sched_config *cfg, struct sched_view **ret) _must_check_;
void sched_view_free(struct sched_view *v);
SLIO_DEFINE_CLEANUP(struct sched_view *, sched_view_free)
#define _cleanup_sched_view_ _cleanup_(sched_view_freep)

/* Add or replace a pool, keeping the volumes it holds. -EINVAL (bad field, too long a name). */
int sched_view_upsert_pool(struct sched_view *v, const struct sched_pool_info *p) _must_check_;
/* -ENOENT if unknown, -EBUSY while it still holds volumes. */
int sched_view_remove_pool(struct sched_view *v, const char *pool_id) _must_check_;
/*
 * The node's agent now reports exactly these pools (ids as in
 * sched_pool_info.id). Each other pool of the node leaves the scheduler's
 * choices: removed when it holds no volume, else kept (its volumes stay
 * counted) but marked unreported, which filter "basic" refuses ("no longer
 * reported by its agent") until an upsert brings it back. -EINVAL.
 */
int sched_view_retain_node_pools(struct sched_view *v, const char *node,
                                 const char *const *pool_ids, size_t n_pool_ids) _must_check_;
/* Topology of a node that consumes volumes but has no pool (pools' nodes are known already). */
int sched_view_upsert_node(struct sched_view *v, const struct sched_node_info *n) _must_check_;

/*
 * Record a volume already placed (start-up from the store, or placed by
 * another controller). -EEXIST if the uuid is known, -ENOENT if the pool is
 * unknown, -EINVAL. No space check: what exists, exists.
 */
int sched_view_add_volume(struct sched_view *v, const struct sched_volume_info *vol) _must_check_;
/* -ENOENT if unknown. */
int sched_view_remove_volume(struct sched_view *v, const char *uuid) _must_check_;
/* Grow or shrink in place; -ENOSPC (err says how much is free) if the pool can't take it. */
int sched_view_resize_volume(struct sched_view *v, const char *uuid, uint64_t new_size,
                             struct slio_err *err) _must_check_;
/* The consumer node changed (attach/detach); NULL = none. -ENOENT. */
int sched_view_set_consumer(struct sched_view *v, const char *uuid,
                            const char *consumer_node) _must_check_;

/*
 * Choose a pool and reserve it: on success the volume is in the view (as if
 * sched_view_add_volume) and *ret says where. Atomic against concurrent
 * calls: never overbooks. -ENOSPC when no pool fits, err counting the pools
 * per first failing reason:
 *   "0/12 pools: 7 insufficient space, 5 same rack as spread group \"mysql-a\""
 * -EEXIST (uuid known), -EINVAL (malformed request), -ENOMEM.
 */
int sched_place(struct sched_view *v, const struct sched_request *req, struct sched_decision *ret,
                struct slio_err *err) _must_check_;

/*
 * Same choice without reserving (dry runs, drain). If req->uuid is a volume
 * the view holds, the question is "where would it move": its current pool is
 * excluded (reason "current pool of the volume") and it does not count
 * against its own spread group or its pool's space.
 */
int sched_explain(struct sched_view *v, const struct sched_request *req, struct sched_decision *ret,
                  struct slio_err *err) _must_check_;

/* One line per pool for sched_explain_pools(): passed, or the first failing reason. */
struct sched_pool_verdict {
    const char *pool_id; /* valid during the callback only */
    bool passed;
    const char *filter; /* the failing filter's name ("core": kind, pinned, current pool) */
    const char *reason; /* its reason text, NULL when passed */
    int64_t score;      /* when passed */
};
/*
 * Call cb for every pool (under the view's lock: cb must not call back into
 * the view), then return like sched_explain: 0 if some pool passed, -ENOSPC
 * with the counted explanation in err if none did, -EINVAL.
 */
int sched_explain_pools(struct sched_view *v, const struct sched_request *req,
                        void (*cb)(const struct sched_pool_verdict *verdict, void *userdata),
                        void *userdata, struct slio_err *err) _must_check_;

/*
 * Hold back bytes of a pool for something that is not a volume (a snapshot's
 * copy-on-write reserve), atomically against sched_place: the bytes join the
 * pool's `reserved` at once, so filter "basic" counts them for every later
 * placement. virtual_only: judged against the virtual room alone
 * (effective capacity - allocated; a thin snapshot costs virtual capacity
 * under the over-provision ratio, real blocks only as it diverges); else
 * against what a volume could get (also the agent's real free).
 * -ENOSPC with err naming the pool and the sizes, -ENOENT, -EINVAL (0 bytes).
 * A later sched_view_upsert_pool sets `reserved` to the caller's own total,
 * which must then include these bytes.
 */
int sched_view_reserve(struct sched_view *v, const char *pool_id, uint64_t bytes, bool virtual_only,
                       struct slio_err *err) _must_check_;

/* A pool's accounting, for /metrics and tests. */
struct sched_pool_usage {
    uint64_t allocated;          /* bytes of the volumes the view holds on it */
    uint64_t effective_capacity; /* capacity (thin: * overprovision) - reserved */
    uint64_t available;          /* what a new volume could get now */
    uint32_t n_volumes;
    uint32_t n_remote_volumes;
    bool ready, unreported; /* as last upserted / retained */
};
int sched_view_pool_usage(struct sched_view *v, const char *pool_id,
                          struct sched_pool_usage *ret) _must_check_;

#endif
