/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes-style label selectors, prepared once per request (strings to
 * interned ids) so that matching a pool compares integers only.
 */
#include <errno.h>
#include <stdlib.h>

#include "sched_internal.h"

/* Terms and values per selector: a request is untrusted input. */
#define SCHED_MAX_TERMS  32
#define SCHED_MAX_VALUES 64

const char *sched_level_name(enum sched_spread_level level)
{
    switch (level) {
    case SCHED_SPREAD_NODE:
        return "node";
    case SCHED_SPREAD_RACK:
        return "rack";
    case SCHED_SPREAD_ZONE:
        return "zone";
    }
    return "?";
}

void sched_selector_free(struct sched_prepared_selector *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->n_terms; i++)
        free((void *)ps->terms[i].values);
    free(ps->terms);
    free(ps);
}

static int term_prepare(const struct sched_view *v, const struct sched_selector_term *t,
                        struct sched_prepared_term *ret)
{
    if (!sched_name_ok(t->key, true) || t->n_values > SCHED_MAX_VALUES ||
        (t->n_values > 0 && !t->values) || (unsigned)t->op > SCHED_OP_DOES_NOT_EXIST)
        return -EINVAL;
    uint32_t *ids = NULL;
    size_t n = 0;
    if (t->op == SCHED_OP_IN || t->op == SCHED_OP_NOT_IN) {
        ids = calloc(t->n_values + 1, sizeof(*ids));
        if (!ids)
            return -ENOMEM;
        for (size_t i = 0; i < t->n_values; i++) {
            if (!sched_name_ok(t->values[i], false)) {
                free(ids);
                return -EINVAL;
            }
            uint32_t id = sched_intern_find(&v->strings, SCHED_LABEL_VALUE(t->values[i]));
            if (id != SCHED_ID_NONE) /* a value no pool has matches nothing: drop it */
                ids[n++] = id;
        }
    }
    *ret = (struct sched_prepared_term){
        .key = sched_intern_find(&v->strings, t->key),
        .op = t->op,
        .values = ids,
        .n_values = n,
    };
    return 0;
}

int sched_selector_prepare(const struct sched_ctx *ctx, const struct sched_selector *sel,
                           struct sched_prepared_selector **ret)
{
    if (sel->n_terms == 0) {
        *ret = NULL;
        return 0;
    }
    if (sel->n_terms > SCHED_MAX_TERMS || !sel->terms)
        return -EINVAL;
    struct sched_prepared_selector *ps = calloc(1, sizeof(*ps));
    if (!ps || !(ps->terms = calloc(sel->n_terms, sizeof(*ps->terms)))) {
        free(ps);
        return -ENOMEM;
    }
    for (size_t i = 0; i < sel->n_terms; i++) {
        int r = term_prepare(ctx->view, &sel->terms[i], &ps->terms[i]);
        if (r < 0) {
            sched_selector_free(ps);
            return r;
        }
        ps->n_terms++;
    }
    *ret = ps;
    return 0;
}

/* The label's value id for key, SCHED_ID_NONE if the set has no such key. */
static uint32_t label_value(const struct sched_label_set *set, uint32_t key)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->labels[i].key == key)
            return set->labels[i].value;
    return SCHED_ID_NONE;
}

static bool term_match(const struct sched_prepared_term *t, const struct sched_label_set *set)
{
    uint32_t value = t->key == SCHED_ID_NONE ? SCHED_ID_NONE : label_value(set, t->key);
    bool in = false;
    switch (t->op) {
    case SCHED_OP_EXISTS:
        return value != SCHED_ID_NONE;
    case SCHED_OP_DOES_NOT_EXIST:
        return value == SCHED_ID_NONE;
    case SCHED_OP_IN:
    case SCHED_OP_NOT_IN:
        for (size_t i = 0; i < t->n_values && value != SCHED_ID_NONE; i++)
            in = in || t->values[i] == value;
        /* Kubernetes: NotIn matches a missing key too */
        return t->op == SCHED_OP_IN ? in : !in;
    }
    return false;
}

static bool selector_match(const struct sched_prepared_selector *ps,
                           const struct sched_label_set *set)
{
    for (size_t i = 0; ps && i < ps->n_terms; i++)
        if (!term_match(&ps->terms[i], set))
            return false;
    return true;
}

bool sched_selector_match_node(const struct sched_prepared_selector *ps,
                               const struct sched_pool *pool)
{
    return selector_match(ps, &pool->node_labels);
}

bool sched_selector_match_pool(const struct sched_prepared_selector *ps,
                               const struct sched_pool *pool)
{
    return selector_match(ps, &pool->pool_labels);
}
