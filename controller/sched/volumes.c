/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Volumes in the view and what they count for: their pool's allocation and
 * remote volumes, and the domains their spread group occupies. Every
 * counter is kept incrementally (link/unlink) so a decision never walks the
 * volumes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"
#include "slio/parse.h"

void sched_vol_free(struct sched_vol *vol)
{
    if (!vol)
        return;
    free(vol->uuid);
    free(vol);
}

bool sched_vol_is_remote(const struct sched_vol *vol)
{
    return vol->consumer_id != SCHED_ID_NONE && vol->consumer_id != vol->pool->node_id;
}

int sched_group_get(struct sched_view *v, const char *name, struct sched_group **ret)
{
    struct sched_group *g = sched_smap_get(&v->group_by_name, name);
    if (!g) {
        g = calloc(1, sizeof(*g));
        if (!g)
            return -ENOMEM;
        g->name = strdup(name);
        if (!g->name || sched_smap_put(&v->group_by_name, g->name, g) < 0) {
            free(g->name);
            free(g);
            return -ENOMEM;
        }
    }
    *ret = g;
    return 0;
}

/* The distinct known domains a member occupies at a level: its pool's and its consumer's. */
static size_t member_domains(const struct sched_view *v, const struct sched_vol *vol,
                             enum sched_spread_level level, uint32_t out[2])
{
    size_t n = 0;
    uint32_t storage = sched_node_domain(v, vol->pool->node_id, level);
    uint32_t consumer = vol->consumer_id == SCHED_ID_NONE
                            ? SCHED_ID_NONE
                            : sched_node_domain(v, vol->consumer_id, level);
    if (storage != SCHED_ID_NONE)
        out[n++] = storage;
    if (consumer != SCHED_ID_NONE && consumer != storage)
        out[n++] = consumer;
    return n;
}

static void group_unlink(struct sched_view *v, struct sched_vol *vol, int upto_level)
{
    for (int l = 0; l < upto_level; l++) {
        uint32_t d[2];
        size_t n = member_domains(v, vol, (enum sched_spread_level)l, d);
        for (size_t i = 0; i < n; i++)
            sched_cmap_dec(&vol->group->occupied[l], d[i]);
    }
}

static int group_link(struct sched_view *v, struct sched_vol *vol)
{
    for (int l = 0; l < 3; l++) {
        uint32_t d[2];
        size_t n = member_domains(v, vol, (enum sched_spread_level)l, d);
        for (size_t i = 0; i < n; i++) {
            int r = sched_cmap_add(&vol->group->occupied[l], d[i], 1);
            if (r < 0) {
                if (i == 1)
                    sched_cmap_dec(&vol->group->occupied[l], d[0]);
                group_unlink(v, vol, l);
                return r;
            }
        }
    }
    vol->group->n_members++;
    return 0;
}

int sched_vol_link(struct sched_view *v, struct sched_vol *vol)
{
    if (vol->group) {
        int r = group_link(v, vol);
        if (r < 0)
            return r;
    }
    struct sched_pool *p = vol->pool;
    p->allocated += vol->size;
    p->n_volumes++;
    if (sched_vol_is_remote(vol)) {
        p->n_remote++;
        p->remote_bytes += vol->size;
    }
    return 0;
}

void sched_vol_unlink(struct sched_view *v, struct sched_vol *vol)
{
    if (vol->group) {
        group_unlink(v, vol, 3);
        vol->group->n_members--;
    }
    struct sched_pool *p = vol->pool;
    p->allocated -= vol->size;
    p->n_volumes--;
    if (sched_vol_is_remote(vol)) {
        p->n_remote--;
        p->remote_bytes -= vol->size;
    }
}

static int consumer_id(struct sched_view *v, const char *node, uint32_t *ret)
{
    /* A consumer node we have never heard of has no rack/zone yet: interned, unknown topology. */
    return sched_intern_id(&v->nodes, node, ret);
}

/* Make a volume object (not yet in the maps nor linked). */
int sched_vol_new(struct sched_view *v, const char *uuid, struct sched_pool *pool, uint64_t size,
                  bool thin, const char *group, const char *consumer, struct sched_vol **ret)
{
    struct sched_vol *vol = calloc(1, sizeof(*vol));
    if (!vol)
        return -ENOMEM;
    *vol = (struct sched_vol){.pool = pool, .size = size, .thin = thin};
    int r = consumer_id(v, consumer, &vol->consumer_id);
    if (r == 0 && group && *group)
        r = sched_group_get(v, group, &vol->group);
    if (r == 0 && !(vol->uuid = strdup(uuid)))
        r = -ENOMEM;
    if (r < 0) {
        sched_vol_free(vol);
        return r;
    }
    *ret = vol;
    return 0;
}

/* Put a new volume in the uuid map and link its accounting. */
int sched_vol_insert(struct sched_view *v, struct sched_vol *vol)
{
    int r = sched_smap_put(&v->vol_by_uuid, vol->uuid, vol);
    if (r < 0)
        return r;
    r = sched_vol_link(v, vol);
    if (r < 0)
        sched_smap_del(&v->vol_by_uuid, vol->uuid);
    return r;
}

int sched_view_add_volume(struct sched_view *v, const struct sched_volume_info *in)
{
    if (!sched_name_ok(in->uuid, true) || !sched_name_ok(in->pool_id, true) ||
        !sched_name_ok(in->spread_group, false) || !sched_name_ok(in->consumer_node, false))
        return -EINVAL;
    pthread_mutex_lock(&v->lock);
    struct sched_vol *vol = NULL;
    struct sched_pool *p = sched_smap_get(&v->pool_by_id, in->pool_id);
    int r = sched_smap_get(&v->vol_by_uuid, in->uuid) ? -EEXIST : !p ? -ENOENT : 0;
    if (r == 0)
        r = sched_vol_new(v, in->uuid, p, in->size, in->thin, in->spread_group, in->consumer_node,
                          &vol);
    if (r == 0 && (r = sched_vol_insert(v, vol)) < 0)
        sched_vol_free(vol);
    pthread_mutex_unlock(&v->lock);
    return r;
}

int sched_view_remove_volume(struct sched_view *v, const char *uuid)
{
    pthread_mutex_lock(&v->lock);
    struct sched_vol *vol = sched_smap_del(&v->vol_by_uuid, uuid);
    if (vol) {
        sched_vol_unlink(v, vol);
        sched_vol_free(vol);
    }
    pthread_mutex_unlock(&v->lock);
    return vol ? 0 : -ENOENT;
}

static int resize_locked(struct sched_view *v, const char *uuid, uint64_t new_size,
                         struct slio_err *err)
{
    struct sched_vol *vol = sched_smap_get(&v->vol_by_uuid, uuid);
    if (!vol) {
        slio_err_set(err, "volume \"%s\" is unknown", uuid);
        return -ENOENT;
    }
    struct sched_pool *p = vol->pool;
    uint64_t avail = sched_pool_available(p);
    if (new_size > vol->size && new_size - vol->size > avail) {
        char have[SLIO_FORMAT_SIZE_MAX], want[SLIO_FORMAT_SIZE_MAX];
        slio_err_set(err, "volume \"%s\": pool \"%s\" has %s free, %s more asked", uuid, p->id,
                     slio_format_size(avail, have), slio_format_size(new_size - vol->size, want));
        return -ENOSPC;
    }
    bool remote = sched_vol_is_remote(vol);
    p->allocated = p->allocated - vol->size + new_size;
    if (remote)
        p->remote_bytes = p->remote_bytes - vol->size + new_size;
    vol->size = new_size;
    return 0;
}

int sched_view_resize_volume(struct sched_view *v, const char *uuid, uint64_t new_size,
                             struct slio_err *err)
{
    pthread_mutex_lock(&v->lock);
    int r = resize_locked(v, uuid, new_size, err);
    pthread_mutex_unlock(&v->lock);
    return r;
}

int sched_view_set_consumer(struct sched_view *v, const char *uuid, const char *consumer_node)
{
    if (!sched_name_ok(consumer_node, false))
        return -EINVAL;
    pthread_mutex_lock(&v->lock);
    struct sched_vol *vol = sched_smap_get(&v->vol_by_uuid, uuid);
    int r = vol ? 0 : -ENOENT;
    uint32_t id = SCHED_ID_NONE;
    if (r == 0)
        r = consumer_id(v, consumer_node, &id);
    if (r == 0) {
        uint32_t old = vol->consumer_id;
        sched_vol_unlink(v, vol);
        vol->consumer_id = id;
        r = sched_vol_link(v, vol);
        if (r < 0) { /* out of memory: back to what it was (relinking the old state fits) */
            vol->consumer_id = old;
            int relinked = sched_vol_link(v, vol);
            (void)relinked;
        }
    }
    pthread_mutex_unlock(&v->lock);
    return r;
}
