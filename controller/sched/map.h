/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's two hash tables (open addressing, linear probing,
 * backward-shift deletion so there are no tombstones to sweep):
 *  - sched_smap: string key (borrowed: the caller keeps it alive, usually
 *    the object the value points to) -> pointer;
 *  - sched_cmap: u32 id -> u32 count (a domain's members in a spread group).
 * Both grow at 3/4 load. Not thread-safe: the view's mutex covers them.
 */
#ifndef SCHED_MAP_H
#define SCHED_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slio/cleanup.h"

struct sched_smap_slot {
    const char *key; /* NULL: empty */
    uint64_t hash;
    void *value;
};

struct sched_smap {
    struct sched_smap_slot *slots;
    size_t cap; /* 0 or a power of two */
    size_t len;
};

uint64_t sched_hash_str(const char *s);
void *sched_smap_get(const struct sched_smap *m, const char *key);
/* Insert or replace; -ENOMEM (map unchanged). */
int sched_smap_put(struct sched_smap *m, const char *key, void *value) _must_check_;
/* Returns the removed value, NULL if absent. */
void *sched_smap_del(struct sched_smap *m, const char *key);
void sched_smap_free(struct sched_smap *m);

struct sched_cmap_slot {
    uint32_t key; /* stored + 1; 0: empty */
    uint32_t count;
};

struct sched_cmap {
    struct sched_cmap_slot *slots;
    size_t cap;
    size_t len;
};

uint32_t sched_cmap_get(const struct sched_cmap *m, uint32_t key);
/* Add delta (may be negative) to key's count; a count reaching 0 is removed. -ENOMEM. */
int sched_cmap_add(struct sched_cmap *m, uint32_t key, int32_t delta) _must_check_;
/* Subtract one (never allocates, so it cannot fail); a count reaching 0 is removed. */
void sched_cmap_dec(struct sched_cmap *m, uint32_t key);
void sched_cmap_free(struct sched_cmap *m);

/*
 * Interned strings with dense ids 0..n-1 (nodes, racks, zones, label keys
 * and values), so the per-pool checks compare integers. Strings are kept
 * until the view is freed (their number is bounded by the cluster's names).
 */
struct sched_intern {
    struct sched_smap ids; /* string -> (id + 1) */
    char **names;
    uint32_t n, alloc;
};

#define SCHED_ID_NONE UINT32_MAX
/* A name given but unknown to the view (a consumer node never seen): equal to no id. */
#define SCHED_ID_FOREIGN (UINT32_MAX - 1)

/* Id of s (added if new); SCHED_ID_NONE for NULL or "" ; -ENOMEM as ret < 0. */
int sched_intern_id(struct sched_intern *t, const char *s, uint32_t *ret_id) _must_check_;
/* Id of s if known, else SCHED_ID_NONE. */
uint32_t sched_intern_find(const struct sched_intern *t, const char *s);
const char *sched_intern_name(const struct sched_intern *t, uint32_t id);
void sched_intern_free(struct sched_intern *t);

#endif
