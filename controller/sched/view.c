/* SPDX-License-Identifier: Apache-2.0 */
/* The view: pools and nodes (volumes and their accounting are in volumes.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"

/* Labels per set; a node or a pool with more is refused rather than slowing every decision. */
#define SCHED_MAX_LABELS 64

static const char *const topology_keys[3] = {SCHED_LABEL_NODE, SCHED_LABEL_RACK, SCHED_LABEL_ZONE};

int sched_view_new(const struct sched_config *cfg, struct sched_view **ret)
{
    struct sched_view *v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    int r = pthread_mutex_init(&v->lock, NULL);
    if (r != 0) {
        free(v);
        return -r;
    }
    v->cfg = *cfg;
    *ret = v;
    return 0;
}

static void pool_free(struct sched_pool *p)
{
    if (!p)
        return;
    free(p->node_labels.labels);
    free(p->pool_labels.labels);
    free(p->id);
    free(p);
}

void sched_view_free(struct sched_view *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->vol_by_uuid.cap; i++)
        if (v->vol_by_uuid.slots[i].key)
            sched_vol_free(v->vol_by_uuid.slots[i].value);
    for (size_t i = 0; i < v->group_by_name.cap; i++) {
        struct sched_group *g = v->group_by_name.slots[i].value;
        if (!v->group_by_name.slots[i].key)
            continue;
        for (int l = 0; l < 3; l++)
            sched_cmap_free(&g->occupied[l]);
        free(g->name);
        free(g);
    }
    for (int k = 0; k < 2; k++) {
        for (uint32_t i = 0; i < v->kinds[k].n; i++)
            pool_free(v->kinds[k].pools[i]);
        free(v->kinds[k].pools);
    }
    free(v->node_topo);
    sched_smap_free(&v->pool_by_id);
    sched_smap_free(&v->vol_by_uuid);
    sched_smap_free(&v->group_by_name);
    sched_intern_free(&v->nodes);
    sched_intern_free(&v->racks);
    sched_intern_free(&v->zones);
    sched_intern_free(&v->strings);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

bool sched_name_ok(const char *s, bool required)
{
    if (!s || !*s)
        return !required;
    return strnlen(s, SCHED_NAME_MAX + 1) <= SCHED_NAME_MAX;
}

uint32_t sched_node_domain(const struct sched_view *v, uint32_t node_id,
                           enum sched_spread_level level)
{
    /* a node is its own node-level domain even before its rack and zone are known */
    if (level == SCHED_SPREAD_NODE)
        return node_id < v->nodes.n ? node_id : SCHED_ID_NONE;
    if (node_id >= v->node_topo_alloc || !v->node_topo[node_id].known)
        return SCHED_ID_NONE;
    return v->node_topo[node_id].domain[level];
}

/*
 * Intern a node and record its rack and zone. *ret_changed says whether a
 * known node moved (then every spread group's occupancy is recomputed).
 */
static int node_set(struct sched_view *v, const char *node, const char *rack, const char *zone,
                    uint32_t *ret_id, bool *ret_changed)
{
    uint32_t id, rack_id, zone_id;
    int r = sched_intern_id(&v->nodes, node, &id);
    if (r < 0)
        return r;
    r = sched_intern_id(&v->racks, rack, &rack_id);
    if (r < 0)
        return r;
    r = sched_intern_id(&v->zones, zone, &zone_id);
    if (r < 0)
        return r;
    if (id >= v->node_topo_alloc) {
        uint32_t alloc = v->nodes.alloc;
        struct sched_node *t = realloc(v->node_topo, alloc * sizeof(*t));
        if (!t)
            return -ENOMEM;
        memset(t + v->node_topo_alloc, 0, (alloc - v->node_topo_alloc) * sizeof(*t));
        v->node_topo = t;
        v->node_topo_alloc = alloc;
    }
    struct sched_node *n = &v->node_topo[id];
    struct sched_node want = {.domain = {id, rack_id, zone_id}, .known = true};
    *ret_changed = n->known && memcmp(n->domain, want.domain, sizeof(want.domain)) != 0;
    *n = want;
    *ret_id = id;
    return 0;
}

static bool is_topology_key(const char *key)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(key, topology_keys[i]) == 0)
            return true;
    return false;
}

static int label_add(struct sched_view *v, struct sched_label_set *set, const char *key,
                     const char *value)
{
    if (!sched_name_ok(key, true) || !sched_name_ok(value, false))
        return -EINVAL;
    struct sched_ilabel l;
    int r = sched_intern_id(&v->strings, key, &l.key);
    if (r < 0)
        return r;
    r = sched_intern_id(&v->strings, SCHED_LABEL_VALUE(value), &l.value);
    if (r < 0)
        return r;
    set->labels[set->n++] = l;
    return 0;
}

/* Build a label set; node labels get the topology keys, and the caller's copies of them are
 * dropped. */
static int labels_build(struct sched_view *v, const struct sched_label *in, size_t n,
                        const char *const *topology, struct sched_label_set *ret)
{
    if (n > SCHED_MAX_LABELS)
        return -EINVAL;
    struct sched_label_set set = {.labels = calloc(n + 3, sizeof(*set.labels))};
    if (!set.labels)
        return -ENOMEM;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        if (!in[i].key)
            r = -EINVAL;
        else if (!topology || !is_topology_key(in[i].key))
            r = label_add(v, &set, in[i].key, in[i].value);
    }
    for (int i = 0; topology && i < 3 && r == 0; i++)
        if (topology[i] && *topology[i])
            r = label_add(v, &set, topology_keys[i], topology[i]);
    if (r < 0) {
        free(set.labels);
        return r;
    }
    *ret = set;
    return 0;
}

static int pool_info_check(const struct sched_pool_info *p)
{
    if (!sched_name_ok(p->id, true) || !sched_name_ok(p->node, true) ||
        !sched_name_ok(p->rack, false) || !sched_name_ok(p->zone, false))
        return -EINVAL;
    if (p->thin && !(p->overprovision >= 1.0 && p->overprovision <= 1000.0))
        return -EINVAL;
    if (!(p->min_local_share >= 0.0 && p->min_local_share <= 1.0))
        return -EINVAL;
    return 0;
}

/* Recompute every pool's and group's accounting after a node changed place. */
static int rebuild_accounting(struct sched_view *v)
{
    for (int k = 0; k < 2; k++)
        for (uint32_t i = 0; i < v->kinds[k].n; i++) {
            struct sched_pool *p = v->kinds[k].pools[i];
            p->allocated = p->remote_bytes = 0;
            p->n_volumes = p->n_remote = 0;
        }
    for (size_t i = 0; i < v->group_by_name.cap; i++) {
        struct sched_group *g = v->group_by_name.slots[i].value;
        if (!v->group_by_name.slots[i].key)
            continue;
        g->n_members = 0;
        for (int l = 0; l < 3; l++)
            sched_cmap_free(&g->occupied[l]);
    }
    for (size_t i = 0; i < v->vol_by_uuid.cap; i++) {
        if (!v->vol_by_uuid.slots[i].key)
            continue;
        int r = sched_vol_link(v, v->vol_by_uuid.slots[i].value);
        if (r < 0)
            return r;
    }
    return 0;
}

static uint64_t effective_capacity(const struct sched_pool *pool);

static int list_add(struct sched_pool_list *l, struct sched_pool *p)
{
    if (l->n == l->alloc) {
        uint32_t alloc = l->alloc ? l->alloc * 2 : 64;
        struct sched_pool **pools = realloc(l->pools, alloc * sizeof(*pools));
        if (!pools)
            return -ENOMEM;
        l->pools = pools;
        l->alloc = alloc;
    }
    p->idx = l->n;
    l->pools[l->n++] = p;
    return 0;
}

static void list_del(struct sched_pool_list *l, struct sched_pool *p)
{
    struct sched_pool *last = l->pools[--l->n];
    l->pools[p->idx] = last;
    last->idx = p->idx;
}

static int pool_add_new(struct sched_view *v, struct sched_pool *p, bool thin)
{
    int r = list_add(&v->kinds[thin], p);
    if (r < 0)
        return r;
    p->thin = thin;
    r = sched_smap_put(&v->pool_by_id, p->id, p);
    if (r < 0) {
        list_del(&v->kinds[thin], p);
        return r;
    }
    v->n_pools++;
    return 0;
}

/* A pool turned thin or thick: it moves to the other scan list. */
static int pool_set_kind(struct sched_view *v, struct sched_pool *p, bool thin)
{
    if (p->thin == thin)
        return 0;
    uint32_t old_idx = p->idx;
    int r = list_add(&v->kinds[thin], p); /* sets p->idx to its new place */
    if (r < 0)
        return r;
    uint32_t new_idx = p->idx;
    p->idx = old_idx;
    list_del(&v->kinds[p->thin], p);
    p->idx = new_idx;
    p->thin = thin;
    return 0;
}

static int pool_get_or_add(struct sched_view *v, const struct sched_pool_info *in,
                           struct sched_pool **ret, bool *ret_new)
{
    struct sched_pool *p = sched_smap_get(&v->pool_by_id, in->id);
    *ret_new = !p;
    if (p) {
        *ret = p;
        return pool_set_kind(v, p, in->thin);
    }
    p = calloc(1, sizeof(*p));
    if (p)
        p->id = strdup(in->id);
    int r = !p || !p->id ? -ENOMEM : pool_add_new(v, p, in->thin);
    if (r < 0) {
        pool_free(p);
        return r;
    }
    *ret = p;
    return 0;
}

/* The pool takes the label sets (the caller's are emptied). */
static void pool_apply(struct sched_pool *p, const struct sched_pool_info *in, uint32_t node_id,
                       struct sched_label_set *node_labels, struct sched_label_set *pool_labels)
{
    free(p->node_labels.labels);
    free(p->pool_labels.labels);
    p->node_labels = *node_labels;
    p->pool_labels = *pool_labels;
    *node_labels = *pool_labels = (struct sched_label_set){0};
    p->node_id = node_id;
    p->ready = in->ready;
    p->unreported = in->unreported;
    p->cordoned = in->cordoned;
    p->capacity = in->capacity;
    p->free = in->free;
    p->reserved = in->reserved;
    p->overprovision = in->thin ? in->overprovision : 1.0;
    p->max_remote_volumes = in->max_remote_volumes;
    p->min_local_share = in->min_local_share;
    p->effective_capacity = effective_capacity(p);
    p->inv_effective = p->effective_capacity ? 1.0 / (double)p->effective_capacity : 0.0;
}

static int upsert_pool_locked(struct sched_view *v, const struct sched_pool_info *in)
{
    struct sched_label_set node_labels = {0}, pool_labels = {0};
    const char *topology[3] = {in->node, in->rack, in->zone};
    int r = pool_info_check(in);
    if (r == 0)
        r = labels_build(v, in->node_labels, in->n_node_labels, topology, &node_labels);
    if (r == 0)
        r = labels_build(v, in->pool_labels, in->n_pool_labels, NULL, &pool_labels);
    uint32_t node_id = SCHED_ID_NONE;
    bool moved = false, is_new = false;
    if (r == 0)
        r = node_set(v, in->node, in->rack, in->zone, &node_id, &moved);
    /* from here the node's place is recorded: a move reaches the groups whatever else fails */
    struct sched_pool *p = NULL;
    if (r == 0)
        r = pool_get_or_add(v, in, &p, &is_new);
    if (r == 0) {
        moved = moved || (!is_new && p->node_id != node_id);
        pool_apply(p, in, node_id, &node_labels, &pool_labels);
    }
    free(node_labels.labels);
    free(pool_labels.labels);
    if (moved) {
        int rebuilt = rebuild_accounting(v);
        r = r < 0 ? r : rebuilt;
    }
    return r;
}

int sched_view_upsert_pool(struct sched_view *v, const struct sched_pool_info *p)
{
    pthread_mutex_lock(&v->lock);
    int r = upsert_pool_locked(v, p);
    pthread_mutex_unlock(&v->lock);
    return r;
}

int sched_view_upsert_node(struct sched_view *v, const struct sched_node_info *n)
{
    if (!sched_name_ok(n->node, true) || !sched_name_ok(n->rack, false) ||
        !sched_name_ok(n->zone, false))
        return -EINVAL;
    pthread_mutex_lock(&v->lock);
    uint32_t id;
    bool moved;
    int r = node_set(v, n->node, n->rack, n->zone, &id, &moved);
    if (r == 0 && moved)
        r = rebuild_accounting(v);
    pthread_mutex_unlock(&v->lock);
    return r;
}

static void pool_remove_locked(struct sched_view *v, struct sched_pool *p)
{
    sched_smap_del(&v->pool_by_id, p->id);
    list_del(&v->kinds[p->thin], p);
    v->n_pools--;
    pool_free(p);
}

int sched_view_remove_pool(struct sched_view *v, const char *pool_id)
{
    pthread_mutex_lock(&v->lock);
    struct sched_pool *p = sched_smap_get(&v->pool_by_id, pool_id);
    int r = !p ? -ENOENT : p->n_volumes > 0 ? -EBUSY : 0;
    if (r == 0)
        pool_remove_locked(v, p);
    pthread_mutex_unlock(&v->lock);
    return r;
}

static bool id_listed(const char *id, const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] && strcmp(ids[i], id) == 0)
            return true;
    return false;
}

int sched_view_retain_node_pools(struct sched_view *v, const char *node,
                                 const char *const *pool_ids, size_t n_pool_ids)
{
    if (!sched_name_ok(node, true) || (n_pool_ids && !pool_ids))
        return -EINVAL;
    pthread_mutex_lock(&v->lock);
    uint32_t node_id = sched_intern_find(&v->nodes, node);
    for (int k = 0; k < 2 && node_id != SCHED_ID_NONE; k++)
        for (uint32_t i = 0; i < v->kinds[k].n;) {
            struct sched_pool *p = v->kinds[k].pools[i];
            if (p->node_id != node_id || id_listed(p->id, pool_ids, n_pool_ids)) {
                i++;
            } else if (p->n_volumes > 0) {
                p->unreported = true;
                i++;
            } else {
                pool_remove_locked(v, p); /* the list's last pool now sits at i */
            }
        }
    pthread_mutex_unlock(&v->lock);
    return 0;
}

static uint64_t effective_capacity(const struct sched_pool *pool)
{
    double cap = (double)pool->capacity * pool->overprovision;
    uint64_t eff = cap >= 9.2e18 ? UINT64_MAX / 2 : (uint64_t)cap;
    return eff > pool->reserved ? eff - pool->reserved : 0;
}

uint64_t sched_pool_effective_capacity(const struct sched_pool *pool)
{
    return pool->effective_capacity;
}

uint64_t sched_pool_available(const struct sched_pool *pool)
{
    uint64_t eff = pool->effective_capacity;
    uint64_t left = eff > pool->allocated ? eff - pool->allocated : 0;
    return SLIO_MIN(left, pool->free);
}

int sched_view_reserve(struct sched_view *v, const char *pool_id, uint64_t bytes, bool virtual_only,
                       struct slio_err *err)
{
    if (!bytes)
        return -EINVAL;
    pthread_mutex_lock(&v->lock);
    struct sched_pool *p = sched_smap_get(&v->pool_by_id, pool_id);
    int r = 0;
    if (!p) {
        slio_err_set(err, "pool \"%s\" is not known to the scheduler", pool_id);
        r = -ENOENT;
    } else {
        uint64_t eff = p->effective_capacity;
        uint64_t room = eff > p->allocated ? eff - p->allocated : 0;
        if (!virtual_only)
            room = SLIO_MIN(room, p->free);
        if (bytes > room) {
            slio_err_set(err,
                         "pool \"%s\" has %.2f GiB %s for reserves, %.2f GiB asked (%.2f GiB "
                         "allocated, %.2f GiB already reserved)",
                         pool_id, (double)room / (1u << 30),
                         virtual_only ? "of virtual capacity left" : "left",
                         (double)bytes / (1u << 30), (double)p->allocated / (1u << 30),
                         (double)p->reserved / (1u << 30));
            r = -ENOSPC;
        } else {
            p->reserved += bytes;
            p->effective_capacity = effective_capacity(p);
            p->inv_effective = p->effective_capacity ? 1.0 / (double)p->effective_capacity : 0.0;
        }
    }
    pthread_mutex_unlock(&v->lock);
    return r;
}

int sched_view_pool_usage(struct sched_view *v, const char *pool_id, struct sched_pool_usage *ret)
{
    pthread_mutex_lock(&v->lock);
    struct sched_pool *p = sched_smap_get(&v->pool_by_id, pool_id);
    if (p)
        *ret = (struct sched_pool_usage){
            .allocated = p->allocated,
            .effective_capacity = sched_pool_effective_capacity(p),
            .available = sched_pool_available(p),
            .n_volumes = p->n_volumes,
            .n_remote_volumes = p->n_remote,
            .ready = p->ready,
            .unreported = p->unreported,
        };
    pthread_mutex_unlock(&v->lock);
    return p ? 0 : -ENOENT;
}
