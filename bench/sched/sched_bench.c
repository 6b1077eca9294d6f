/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/sched: the scheduler at cluster scale, on one core.
 *
 * 10,000 pools (5,000 nodes x one thick + one thin pool) over 100 racks and
 * 10 zones; 100,000 placements with a mix of sizes, thin/thick, node and
 * pool selectors, position advices, hard and soft spread groups and pinned
 * clones. Afterwards every constraint is checked again from the bench's own
 * record of what it asked and what it got (not from the scheduler's counts),
 * and it prints: violations, p50/p99 decision latency, placements/s and the
 * used-capacity spread (max - min allocated share over the pools, in
 * percentage points) under least_allocated.
 *
 *   sched-bench [--pools N] [--volumes N] [--seed N]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "slio/parse.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int parse_args(int argc, char **argv, struct bench *b)
{
    for (int i = 1; i < argc; i++) {
        uint64_t n;
        if (i + 1 >= argc || slio_parse_u64(argv[i + 1], 1, 10000000, &n) < 0) {
            fprintf(stderr, "usage: %s [--pools N] [--volumes N] [--seed N]\n", argv[0]);
            return -EINVAL;
        }
        if (strcmp(argv[i], "--pools") == 0)
            b->n_pools = (uint32_t)(n & ~1ull) ? (uint32_t)(n & ~1ull) : 2;
        else if (strcmp(argv[i], "--volumes") == 0)
            b->n_vols = (uint32_t)n;
        else if (strcmp(argv[i], "--seed") == 0)
            b->seed = n;
        else {
            fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[i]);
            return -EINVAL;
        }
        i++;
    }
    return 0;
}

static void print_results(const struct bench *b, uint64_t *lat, uint32_t n_lat, uint64_t total_ns,
                          uint32_t violations)
{
    qsort(lat, n_lat, sizeof(*lat), cmp_u64);
    double p50 = n_lat ? (double)lat[n_lat / 2] / 1000.0 : 0;
    double p99 = n_lat ? (double)lat[(uint64_t)n_lat * 99 / 100] / 1000.0 : 0;
    double max = n_lat ? (double)lat[n_lat - 1] / 1000.0 : 0;
    double spread_thick, spread_thin, spread_all;
    bench_spread(b, &spread_thick, &spread_thin, &spread_all);
    printf(
        "pools %u (%u racks, %u zones), requests %u: placed %u, refused %u (%u of them pinned)\n",
        b->n_pools, BENCH_RACKS, BENCH_ZONES, b->n_vols, b->n_placed, b->n_refused,
        b->n_refused_pinned);
    printf("constraint violations: %u\n", violations);
    printf("decision latency: p50 %.1f us, p99 %.1f us, max %.1f us\n", p50, p99, max);
    printf("placements/s (one core): %.0f\n", (double)n_lat * 1e9 / (double)total_ns);
    printf("used-capacity spread (least_allocated): %.2f points (thick pools %.2f, thin pools "
           "%.2f)\n",
           spread_all, spread_thick, spread_thin);
}

int main(int argc, char **argv)
{
    struct bench b = {.n_pools = 10000, .n_vols = 100000, .seed = 42};
    if (parse_args(argc, argv, &b) < 0)
        return 2;
    if (bench_setup(&b) < 0) {
        fprintf(stderr, "sched-bench: setup failed\n");
        return 1;
    }
    uint64_t *lat = calloc(b.n_vols, sizeof(*lat));
    if (!lat)
        return 1;
    uint64_t total = 0;
    for (uint32_t i = 0; i < b.n_vols; i++) {
        struct bench_req *br = bench_make_request(&b, i);
        struct sched_decision d;
        struct slio_err err;
        uint64_t t0 = now_ns();
        int r = sched_place(b.view, &br->req, &d, &err);
        lat[i] = now_ns() - t0;
        total += lat[i];
        if (bench_record(&b, br, r, &d, &err) < 0)
            return 1;
    }
    uint32_t violations = bench_verify(&b);
    print_results(&b, lat, b.n_vols, total, violations);
    free(lat);
    bench_free(&b);
    return violations ? 1 : 0;
}
