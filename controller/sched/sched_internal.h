/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The view's inside, shared by view.c, place.c and the plugins. Everything
 * here is read and written under view->lock only.
 */
#ifndef SCHED_INTERNAL_H
#define SCHED_INTERNAL_H

#include <pthread.h>

#include "map.h"
#include "plugin.h"
#include "sched.h"

struct sched_config {
    size_t n_filters;
    const struct sched_filter *filters[SCHED_MAX_CHAIN];
    size_t n_scorers;
    const struct sched_scorer *scorers[SCHED_MAX_CHAIN];
    uint32_t weights[SCHED_MAX_CHAIN];
};

/* A label as interned ids. */
struct sched_ilabel {
    uint32_t key, value;
};

struct sched_label_set {
    struct sched_ilabel *labels;
    size_t n;
};

/* A node's topology, indexed by node id. */
struct sched_node {
    uint32_t domain[3]; /* [SCHED_SPREAD_NODE] = node id, rack id, zone id (SCHED_ID_NONE) */
    bool known;         /* by a pool or sched_view_upsert_node */
};

/* Fields the per-pool checks read come first: one cache line per pool and decision. */
struct sched_pool {
    bool ready, cordoned, thin, unreported;
    uint32_t node_id;
    uint64_t effective_capacity; /* cached sched_pool_effective_capacity() */
    double inv_effective;        /* 1 / effective_capacity (0 if none), for the scorers */
    uint64_t free;
    /* accounting over the volumes the view holds on it */
    uint64_t allocated, remote_bytes;
    uint32_t n_volumes, n_remote;
    uint32_t max_remote_volumes;
    double min_local_share;
    struct sched_label_set node_labels, pool_labels;
    /* colder */
    char *id;
    uint32_t idx; /* position in view->kinds[thin] */
    uint64_t capacity, reserved;
    double overprovision;
};

struct sched_pool_list {
    struct sched_pool **pools;
    uint32_t n, alloc;
};

struct sched_group {
    char *name;
    uint32_t n_members;
    /* per level: domain id -> members occupying it (storage or consumer side) */
    struct sched_cmap occupied[3];
};

struct sched_vol {
    char *uuid;
    struct sched_pool *pool;
    uint64_t size;
    bool thin;
    struct sched_group *group; /* NULL = none */
    uint32_t consumer_id;      /* node id, SCHED_ID_NONE = unknown */
};

struct sched_view {
    pthread_mutex_t lock;
    struct sched_config cfg;
    struct sched_intern nodes, racks, zones, strings; /* strings: label keys and values */
    struct sched_node *node_topo;                     /* [nodes.n] */
    uint32_t node_topo_alloc;
    /* pools by kind ([0] thick, [1] thin): a request only scans its own kind */
    struct sched_pool_list kinds[2];
    uint32_t n_pools;
    struct sched_smap pool_by_id, vol_by_uuid, group_by_name;
};

/* view.c */
/* s is a name of at most SCHED_NAME_MAX bytes (and not empty if required). */
bool sched_name_ok(const char *s, bool required);
/* Label values are interned with "" as "\x01" (the intern table's "" means "none"). */
#define SCHED_LABEL_VALUE(s) ((s) && *(s) ? (s) : "\x01")

/* volumes.c: accounting, shared with place.c */
bool sched_vol_is_remote(const struct sched_vol *vol);
int sched_vol_link(struct sched_view *v, struct sched_vol *vol) _must_check_;
void sched_vol_unlink(struct sched_view *v, struct sched_vol *vol);
int sched_group_get(struct sched_view *v, const char *name, struct sched_group **ret) _must_check_;
uint32_t sched_node_domain(const struct sched_view *v, uint32_t node_id,
                           enum sched_spread_level level);
void sched_vol_free(struct sched_vol *vol);
/* A volume object, not yet in the maps nor counted; group/consumer may be NULL. */
int sched_vol_new(struct sched_view *v, const char *uuid, struct sched_pool *pool, uint64_t size,
                  bool thin, const char *group, const char *consumer,
                  struct sched_vol **ret) _must_check_;
/* Into the uuid map and counted (sched_vol_link). */
int sched_vol_insert(struct sched_view *v, struct sched_vol *vol) _must_check_;

/* scores/least_allocated.c: the allocated share after placing the request, in millionths */
int64_t sched_allocated_after_ppm(const struct sched_ctx *ctx, const struct sched_pool *p);

/* registry.c: the one table of plugins */
const struct sched_filter *sched_filter_find(const char *name);
const struct sched_scorer *sched_scorer_find(const char *name);
/* "basic, affinity, ..." for error texts */
void sched_plugin_names(bool filters, char *buf, size_t len);

#endif
