/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "arena.h"

void *csi_arena_alloc(struct csi_arena *a, size_t size)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        void **p = realloc(a->ptrs, cap * sizeof(*p));
        if (!p) {
            a->failed = true;
            return NULL;
        }
        a->ptrs = p;
        a->cap = cap;
    }
    void *m = calloc(1, size ? size : 1);
    if (!m) {
        a->failed = true;
        return NULL;
    }
    a->ptrs[a->n++] = m;
    return m;
}

char *csi_arena_strdup(struct csi_arena *a, const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *c = csi_arena_alloc(a, n);
    if (c)
        memcpy(c, s, n);
    return c;
}

void csi_arena_free(struct csi_arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->ptrs[i]);
    free(a->ptrs);
    a->ptrs = NULL;
    a->n = a->cap = 0;
}
