/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's configuration: which filters, in which order, and which
 * scorers with which weights. Decoded with the one field-table decoder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"
#include "slio/json.h"

#define SCHED_MAX_WEIGHT 100
#define PLUGIN_NAME_MAX  64

struct config_doc {
    json_t *filters;
    json_t *scorers;
};

static const struct slio_json_field config_fields[] = {
    SLIO_JSON_FIELD(struct config_doc, filters, "filters", SLIO_JSON_VALUE),
    SLIO_JSON_FIELD(struct config_doc, scorers, "scorers", SLIO_JSON_VALUE),
};

struct scorer_doc {
    const char *name;
    uint32_t weight;
};

static const struct slio_json_field scorer_fields[] = {
    SLIO_JSON_FIELD(struct scorer_doc, name, "name", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = PLUGIN_NAME_MAX),
    SLIO_JSON_FIELD(struct scorer_doc, weight, "weight", SLIO_JSON_U32, .max = SCHED_MAX_WEIGHT),
};

static void config_defaults(struct sched_config *c)
{
    static const char *const default_filters[] = {"basic", "affinity", "position", "spread"};
    static const char *const default_scorers[] = {"least_allocated", "position_advice", "spread"};
    *c = (struct sched_config){0};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(default_filters); i++)
        c->filters[c->n_filters++] = sched_filter_find(default_filters[i]);
    /*
     * least_allocated at 30 makes one point of balance worth 300,000: a
     * PreferLocal pool (position_advice, 1,000,000 at weight 1) wins unless
     * it is more than 3 1/3 points fuller than the best other pool, and an
     * unoccupied domain of a soft spread group (spread, weight 30) is worth
     * about 45 points of balance. At 10 (10 points) PreferLocal alone took
     * pools 14 points apart on bench/sched: each honoured preference may sit
     * 10 points above a floor that keeps rising (docs/scheduler.md).
     */
    static const uint32_t default_weights[] = {30, 1, 30};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(default_scorers); i++) {
        c->weights[c->n_scorers] = default_weights[i];
        c->scorers[c->n_scorers++] = sched_scorer_find(default_scorers[i]);
    }
}

static int array_check(const json_t *a, const char *what, struct slio_err *err)
{
    if (!json_is_array(a)) {
        slio_err_set(err, "field '%s': expected array, got %s", what, slio_json_type_name(a));
        return -EINVAL;
    }
    if (json_array_size(a) > SCHED_MAX_CHAIN) {
        slio_err_set(err, "field '%s': %zu entries, at most %d", what, json_array_size(a),
                     SCHED_MAX_CHAIN);
        return -EINVAL;
    }
    return 0;
}

static int filters_decode(const json_t *a, struct sched_config *c, struct slio_err *err)
{
    int r = array_check(a, "filters", err);
    if (r < 0)
        return r;
    const struct sched_filter *basic = sched_filter_find("basic");
    c->filters[0] = basic; /* always first: a pool without space is never a choice */
    c->n_filters = 1;
    bool seen_basic = false;
    size_t i;
    json_t *e;
    json_array_foreach (a, i, e) {
        const char *name = json_string_value(e);
        const struct sched_filter *f = name ? sched_filter_find(name) : NULL;
        if (!f) {
            char known[256];
            sched_plugin_names(true, known, sizeof(known));
            if (name)
                slio_err_set(err, "field 'filters[%zu]': filter '%.64s' is unknown (known: %s)", i,
                             name, known);
            else
                slio_err_set(err, "field 'filters[%zu]': expected string, got %s", i,
                             slio_json_type_name(e));
            return -EINVAL;
        }
        bool twice = f == basic && seen_basic;
        for (size_t k = 1; k < c->n_filters; k++)
            twice = twice || c->filters[k] == f;
        if (twice) {
            slio_err_set(err, "field 'filters[%zu]': filter '%s' is listed twice", i, name);
            return -EINVAL;
        }
        seen_basic = seen_basic || f == basic;
        if (f != basic)
            c->filters[c->n_filters++] = f;
    }
    return 0;
}

static int scorer_decode(const json_t *e, size_t i, struct sched_config *c, struct slio_err *err)
{
    struct scorer_doc d = {.weight = 1};
    int r = json_is_object(e) ? SLIO_JSON_DECODE(e, scorer_fields, &d, 0, err) : -EINVAL;
    if (r < 0) {
        if (!json_is_object(e))
            slio_err_set(err, "expected object, got %s", slio_json_type_name(e));
        slio_err_prefix(err, "scorers[%zu]", i);
        return r;
    }
    const struct sched_scorer *s = sched_scorer_find(d.name);
    if (!s) {
        char known[256];
        sched_plugin_names(false, known, sizeof(known));
        slio_err_set(err, "field 'scorers[%zu]': scorer '%s' is unknown (known: %s)", i, d.name,
                     known);
        return -EINVAL;
    }
    for (size_t k = 0; k < c->n_scorers; k++)
        if (c->scorers[k] == s) {
            slio_err_set(err, "field 'scorers[%zu]': scorer '%s' is listed twice", i, d.name);
            return -EINVAL;
        }
    c->weights[c->n_scorers] = d.weight;
    c->scorers[c->n_scorers++] = s;
    return 0;
}

static int scorers_decode(const json_t *a, struct sched_config *c, struct slio_err *err)
{
    int r = array_check(a, "scorers", err);
    if (r < 0)
        return r;
    c->n_scorers = 0;
    size_t i;
    json_t *e;
    json_array_foreach (a, i, e) {
        r = scorer_decode(e, i, c, err);
        if (r < 0)
            return r;
    }
    return 0;
}

int sched_config_from_json(const json_t *j, struct sched_config **ret, struct slio_err *err)
{
    _cleanup_free_ struct sched_config *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    config_defaults(c);
    if (j) {
        struct config_doc doc = {0};
        if (!json_is_object(j)) {
            slio_err_set(err, "scheduler config: expected object, got %s", slio_json_type_name(j));
            return -EINVAL;
        }
        int r = SLIO_JSON_DECODE(j, config_fields, &doc, 0, err);
        if (r == 0 && doc.filters)
            r = filters_decode(doc.filters, c, err);
        if (r == 0 && doc.scorers)
            r = scorers_decode(doc.scorers, c, err);
        if (r < 0)
            return r;
    }
    *ret = TAKE_PTR(c);
    return 0;
}

void sched_config_free(struct sched_config *c)
{
    free(c);
}
