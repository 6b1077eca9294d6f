/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Log-linear histogram. Values below PERF_HIST_SUB are counted exactly; above,
 * a value with its highest set bit at position e falls in one of PERF_HIST_SUB
 * equal-width buckets spanning [2^e, 2^(e+1)).
 */
#include <string.h>

#include "stats.h"

void perf_hist_init(struct perf_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

uint32_t perf_hist_bucket(uint64_t v)
{
    if (v < PERF_HIST_SUB)
        return (uint32_t)v;
    uint32_t e = 63u - (uint32_t)__builtin_clzll(v);
    if (e > PERF_HIST_MAX_EXP)
        return PERF_HIST_BUCKETS - 1;
    uint32_t sub = (uint32_t)(v >> (e - PERF_HIST_SUB_BITS)) & (PERF_HIST_SUB - 1);
    return ((e - PERF_HIST_SUB_BITS + 1) << PERF_HIST_SUB_BITS) + sub;
}

uint64_t perf_hist_bucket_low(uint32_t idx)
{
    if (idx < PERF_HIST_SUB)
        return idx;
    uint32_t e = (idx >> PERF_HIST_SUB_BITS) + PERF_HIST_SUB_BITS - 1;
    uint64_t sub = idx & (PERF_HIST_SUB - 1);
    return (PERF_HIST_SUB + sub) << (e - PERF_HIST_SUB_BITS);
}

uint64_t perf_hist_bucket_width(uint32_t idx)
{
    if (idx < PERF_HIST_SUB)
        return 1;
    uint32_t e = (idx >> PERF_HIST_SUB_BITS) + PERF_HIST_SUB_BITS - 1;
    return 1ull << (e - PERF_HIST_SUB_BITS);
}

void perf_hist_add(struct perf_hist *h, uint64_t v)
{
    h->counts[perf_hist_bucket(v)]++;
    h->n++;
    h->sum += v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src)
{
    for (uint32_t i = 0; i < PERF_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->n += src->n;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t perf_hist_percentile(const struct perf_hist *h, double p)
{
    if (h->n == 0)
        return 0;
    /* rank = ceil(p% of n), at least 1; the epsilon keeps 99.9% of 1000 at 999, not 1000 */
    double want = p / 100.0 * (double)h->n - 1e-9;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want || rank == 0)
        rank++;
    if (rank > h->n)
        rank = h->n;

    uint64_t seen = 0;
    for (uint32_t i = 0; i < PERF_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = perf_hist_bucket_low(i) + perf_hist_bucket_width(i) / 2;
            if (v < h->min)
                v = h->min;
            if (v > h->max)
                v = h->max;
            return v;
        }
    }
    return h->max;
}

double perf_hist_mean(const struct perf_hist *h)
{
    return h->n ? (double)h->sum / (double)h->n : 0.0;
}
