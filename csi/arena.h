/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scratch memory for building one response message tree (entries, maps,
 * strings) that is packed and then dropped as a whole. Allocation failure
 * leaves a flag the handler checks once before packing.
 */
#ifndef CSI_ARENA_H
#define CSI_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include "slio/cleanup.h"

struct csi_arena {
    void **ptrs;
    size_t n, cap;
    bool failed;
};

/* Zeroed memory owned by the arena; NULL (and a->failed) when out of memory. */
void *csi_arena_alloc(struct csi_arena *a, size_t size);
/* A copy of s (NULL → ""). */
char *csi_arena_strdup(struct csi_arena *a, const char *s);
void csi_arena_free(struct csi_arena *a);
#define _cleanup_arena_ _cleanup_(csi_arena_free)

#define CSI_ARENA_NEW(a, type)      ((type *)csi_arena_alloc((a), sizeof(type)))
#define CSI_ARENA_ARRAY(a, type, n) ((type *)csi_arena_alloc((a), sizeof(type) * ((n) ? (n) : 1)))

#endif
