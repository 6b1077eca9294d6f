/* SPDX-License-Identifier: Apache-2.0 */
/*
 * THE table of filters and scorers. A new policy is one file under
 * filters/ or scores/ defining `const struct sched_filter sched_filter_<name>`
 * (or a scorer), one line here and one in meson.build (docs/plugins.md).
 */
#include <stdio.h>
#include <string.h>

#include "sched_internal.h"

extern const struct sched_filter sched_filter_basic, sched_filter_affinity, sched_filter_position,
    sched_filter_spread;
extern const struct sched_scorer sched_scorer_least_allocated, sched_scorer_most_allocated,
    sched_scorer_position_advice, sched_scorer_spread;

static const struct sched_filter *const filters[] = {
    &sched_filter_basic,
    &sched_filter_affinity,
    &sched_filter_position,
    &sched_filter_spread,
};

static const struct sched_scorer *const scorers[] = {
    &sched_scorer_least_allocated,
    &sched_scorer_most_allocated,
    &sched_scorer_position_advice,
    &sched_scorer_spread,
};

const struct sched_filter *sched_filter_find(const char *name)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(filters); i++)
        if (strcmp(filters[i]->name, name) == 0)
            return filters[i];
    return NULL;
}

const struct sched_scorer *sched_scorer_find(const char *name)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(scorers); i++)
        if (strcmp(scorers[i]->name, name) == 0)
            return scorers[i];
    return NULL;
}

void sched_plugin_names(bool want_filters, char *buf, size_t len)
{
    size_t n = want_filters ? SLIO_ARRAY_SIZE(filters) : SLIO_ARRAY_SIZE(scorers), used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        const char *name = want_filters ? filters[i]->name : scorers[i]->name;
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", name);
    }
}
