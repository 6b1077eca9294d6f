/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Latency statistics: a fixed-size log-linear histogram (HdrHistogram-like:
 * 32 linear sub-buckets per power of two, so every reported percentile is
 * within ~3 % of the true value) plus exact count/sum/min/max. Adding a
 * sample is a few instructions and never allocates; one histogram per worker
 * thread, merged at the end.
 */
#ifndef SLIO_PERF_STATS_H
#define SLIO_PERF_STATS_H

#include <stdint.h>

#define PERF_HIST_SUB_BITS 5u
#define PERF_HIST_SUB      (1u << PERF_HIST_SUB_BITS)
#define PERF_HIST_MAX_EXP  42u /* values up to 2^43 ns (~2.4 h) are kept; larger ones clamp */
#define PERF_HIST_BUCKETS  ((PERF_HIST_MAX_EXP - PERF_HIST_SUB_BITS + 2u) * PERF_HIST_SUB)

struct perf_hist {
    uint64_t n;
    uint64_t sum;
    uint64_t min;
    uint64_t max;
    uint64_t counts[PERF_HIST_BUCKETS];
};

void perf_hist_init(struct perf_hist *h);
void perf_hist_add(struct perf_hist *h, uint64_t v);
void perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src);
/* Value at percentile p (0 < p <= 100): the midpoint of the bucket holding that rank, clamped to
 * [min, max]; 0 for an empty histogram. */
uint64_t perf_hist_percentile(const struct perf_hist *h, double p);
double perf_hist_mean(const struct perf_hist *h);

/* Bucket index of a value and the lowest value of a bucket (exposed for the unit tests). */
uint32_t perf_hist_bucket(uint64_t v);
uint64_t perf_hist_bucket_low(uint32_t idx);
uint64_t perf_hist_bucket_width(uint32_t idx);

#endif
