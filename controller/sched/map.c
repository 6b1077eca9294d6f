/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"

#define MAP_MIN_CAP 16

/* FNV-1a, then a 64-bit finaliser so the low bits (the slot index) are well mixed. */
uint64_t sched_hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static uint32_t hash_u32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* ---- string -> pointer */

static struct sched_smap_slot *smap_find(const struct sched_smap *m, const char *key, uint64_t h)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct sched_smap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
}

static void smap_insert_slot(struct sched_smap *m, const struct sched_smap_slot *in)
{
    size_t i = in->hash & (m->cap - 1);
    while (m->slots[i].key)
        i = (i + 1) & (m->cap - 1);
    m->slots[i] = *in;
}

static int smap_grow(struct sched_smap *m)
{
    size_t cap = m->cap ? m->cap * 2 : MAP_MIN_CAP;
    struct sched_smap_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    struct sched_smap old = *m;
    m->slots = slots;
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key)
            smap_insert_slot(m, &old.slots[i]);
    free(old.slots);
    return 0;
}

void *sched_smap_get(const struct sched_smap *m, const char *key)
{
    struct sched_smap_slot *s = smap_find(m, key, sched_hash_str(key));
    return s ? s->value : NULL;
}

int sched_smap_put(struct sched_smap *m, const char *key, void *value)
{
    uint64_t h = sched_hash_str(key);
    struct sched_smap_slot *s = smap_find(m, key, h);
    if (s) {
        s->key = key;
        s->value = value;
        return 0;
    }
    if ((m->len + 1) * 4 > m->cap * 3) {
        int r = smap_grow(m);
        if (r < 0)
            return r;
    }
    smap_insert_slot(m, &(struct sched_smap_slot){.key = key, .hash = h, .value = value});
    m->len++;
    return 0;
}

/* Backward-shift deletion: move later members of the probe run into the hole. */
void *sched_smap_del(struct sched_smap *m, const char *key)
{
    struct sched_smap_slot *s = smap_find(m, key, sched_hash_str(key));
    if (!s)
        return NULL;
    void *value = s->value;
    size_t mask = m->cap - 1, hole = (size_t)(s - m->slots);
    for (size_t i = (hole + 1) & mask; m->slots[i].key; i = (i + 1) & mask) {
        size_t home = m->slots[i].hash & mask;
        /* the entry at i may move to hole if its home is not in (hole, i] cyclically */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            m->slots[hole] = m->slots[i];
            hole = i;
        }
    }
    m->slots[hole] = (struct sched_smap_slot){0};
    m->len--;
    return value;
}

void sched_smap_free(struct sched_smap *m)
{
    free(m->slots);
    *m = (struct sched_smap){0};
}

/* ---- u32 -> count */

static struct sched_cmap_slot *cmap_find(const struct sched_cmap *m, uint32_t key)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = hash_u32(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct sched_cmap_slot *s = &m->slots[i];
        if (s->key == 0)
            return NULL;
        if (s->key == key + 1)
            return s;
    }
}

static void cmap_insert_slot(struct sched_cmap *m, struct sched_cmap_slot in)
{
    size_t i = hash_u32(in.key - 1) & (m->cap - 1);
    while (m->slots[i].key)
        i = (i + 1) & (m->cap - 1);
    m->slots[i] = in;
}

static int cmap_grow(struct sched_cmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : MAP_MIN_CAP;
    struct sched_cmap_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    struct sched_cmap old = *m;
    m->slots = slots;
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key)
            cmap_insert_slot(m, old.slots[i]);
    free(old.slots);
    return 0;
}

uint32_t sched_cmap_get(const struct sched_cmap *m, uint32_t key)
{
    struct sched_cmap_slot *s = cmap_find(m, key);
    return s ? s->count : 0;
}

static void cmap_remove_slot(struct sched_cmap *m, struct sched_cmap_slot *s)
{
    size_t mask = m->cap - 1, hole = (size_t)(s - m->slots);
    for (size_t i = (hole + 1) & mask; m->slots[i].key; i = (i + 1) & mask) {
        size_t home = hash_u32(m->slots[i].key - 1) & mask;
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            m->slots[hole] = m->slots[i];
            hole = i;
        }
    }
    m->slots[hole] = (struct sched_cmap_slot){0};
    m->len--;
}

int sched_cmap_add(struct sched_cmap *m, uint32_t key, int32_t delta)
{
    struct sched_cmap_slot *s = cmap_find(m, key);
    if (s) {
        int64_t c = (int64_t)s->count + delta;
        if (c <= 0)
            cmap_remove_slot(m, s);
        else
            s->count = (uint32_t)c;
        return 0;
    }
    if (delta <= 0)
        return 0;
    if ((m->len + 1) * 4 > m->cap * 3) {
        int r = cmap_grow(m);
        if (r < 0)
            return r;
    }
    cmap_insert_slot(m, (struct sched_cmap_slot){.key = key + 1, .count = (uint32_t)delta});
    m->len++;
    return 0;
}

void sched_cmap_dec(struct sched_cmap *m, uint32_t key)
{
    struct sched_cmap_slot *s = cmap_find(m, key);
    if (s && --s->count == 0)
        cmap_remove_slot(m, s);
}

void sched_cmap_free(struct sched_cmap *m)
{
    free(m->slots);
    *m = (struct sched_cmap){0};
}

/* ---- interned names */

uint32_t sched_intern_find(const struct sched_intern *t, const char *s)
{
    if (!s || !*s)
        return SCHED_ID_NONE;
    uintptr_t v = (uintptr_t)sched_smap_get(&t->ids, s);
    return v ? (uint32_t)(v - 1) : SCHED_ID_NONE;
}

int sched_intern_id(struct sched_intern *t, const char *s, uint32_t *ret_id)
{
    uint32_t id = sched_intern_find(t, s);
    if (id != SCHED_ID_NONE || !s || !*s) {
        *ret_id = id;
        return 0;
    }
    if (t->n == t->alloc) {
        uint32_t alloc = t->alloc ? t->alloc * 2 : 64;
        char **names = realloc(t->names, alloc * sizeof(*names));
        if (!names)
            return -ENOMEM;
        t->names = names;
        t->alloc = alloc;
    }
    char *copy = strdup(s);
    if (!copy)
        return -ENOMEM;
    int r = sched_smap_put(&t->ids, copy, (void *)(uintptr_t)(t->n + 1));
    if (r < 0) {
        free(copy);
        return r;
    }
    t->names[t->n] = copy;
    *ret_id = t->n++;
    return 0;
}

const char *sched_intern_name(const struct sched_intern *t, uint32_t id)
{
    return id < t->n ? t->names[id] : "";
}

void sched_intern_free(struct sched_intern *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(t->names[i]);
    free(t->names);
    sched_smap_free(&t->ids);
    *t = (struct sched_intern){0};
}
