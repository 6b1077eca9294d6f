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
 * Each round also takes the spread apart (bench_spread_report): by pool
 * subset, the fullest pools' forced / preferred / free shares, and how the
 * MustLocal consumers fell on the nodes.
 *
 *   sched-bench [--pools N] [--volumes N] [--seed N] [--config FILE.json]
 *
 * --config gives the scheduler section (filters, scorers, weights) instead
 * of the defaults.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "slio/parse.h"

/*
 * Decisions are timed on the thread's CPU clock: on a shared host the wall
 * clock also counts the time other processes held the core. Both are shown.
 */
static uint64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--pools N] [--volumes N] [--seed N] [--config FILE.json]\n", argv0);
    return -EINVAL;
}

/* --config: the scheduler section as JSON, e.g. {"scorers": [{"name": "least_allocated"}]} */
static int load_config(const char *path, struct bench *b)
{
    json_error_t je;
    b->config = json_load_file(path, 0, &je);
    if (!b->config) {
        fprintf(stderr, "sched-bench: %s:%d: %s\n", path, je.line, je.text);
        return -EINVAL;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct bench *b)
{
    /* options come in pairs: --name VALUE */
    for (int i = 1; i < argc; i += 2) {
        uint64_t n;
        if (i + 1 >= argc)
            return usage(argv[0]);
        if (strcmp(argv[i], "--config") == 0) {
            if (load_config(argv[i + 1], b) < 0)
                return -EINVAL;
            continue;
        }
        if (slio_parse_u64(argv[i + 1], 1, 10000000, &n) < 0)
            return usage(argv[0]);
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
    }
    return 0;
}

struct round {
    uint32_t violations;
    double p50_us, p99_us, max_us, per_s; /* thread CPU time */
    double wall_p50_us, wall_p99_us, wall_per_s;
    uint32_t max_at; /* the request that took longest */
    double spread_thick, spread_thin, spread;
    double free_thick, free_thin, free; /* over the pools with nothing forced on them */
    uint32_t placed, refused, refused_pinned;
    uint32_t prefer_local, prefer_local_kept;
};

static void print_round(const char *title, const struct bench *b, const struct round *r)
{
    printf("%s\n", title);
    printf("  requests %u: placed %u, refused %u (%u of them pinned to a full or unfit pool)\n",
           b->n_vols, r->placed, r->refused, r->refused_pinned);
    printf("  constraint violations: %u\n", r->violations);
    if (r->prefer_local)
        printf("  PreferLocal placed on the consumer's node: %u of %u (%.1f%%)\n",
               r->prefer_local_kept, r->prefer_local,
               100.0 * r->prefer_local_kept / r->prefer_local);
    printf("  decision latency (CPU): p50 %.1f us, p99 %.1f us, max %.1f us (request %u)\n",
           r->p50_us, r->p99_us, r->max_us, r->max_at);
    printf("  placements/s (one core, CPU): %.0f\n", r->per_s);
    printf("  wall clock (shared host): p50 %.1f us, p99 %.1f us, %.0f placements/s\n",
           r->wall_p50_us, r->wall_p99_us, r->wall_per_s);
    printf("  used-capacity spread: %.2f points (thick pools %.2f, thin pools %.2f)\n", r->spread,
           r->spread_thick, r->spread_thin);
    printf("  used-capacity spread over the pools with nothing forced on them (no MustLocal or "
           "pinned volume: least_allocated's balance): %.2f points (thick %.2f, thin %.2f)\n",
           r->free, r->free_thick, r->free_thin);
}

static int run_round(struct bench *b, const char *title, struct round *ret)
{
    *ret = (struct round){0};
    if (bench_setup(b) < 0) {
        fprintf(stderr, "sched-bench: setup failed\n");
        return -1;
    }
    uint64_t *lat = calloc(b->n_vols, sizeof(*lat)), total = 0;
    uint64_t *wall = calloc(b->n_vols, sizeof(*wall)), total_wall = 0;
    if (!lat || !wall) {
        free(lat);
        free(wall);
        return -1;
    }
    for (uint32_t i = 0; i < b->n_vols; i++) {
        struct bench_req *br = bench_make_request(b, i);
        struct sched_decision d;
        struct slio_err err;
        uint64_t w0 = now_ns(CLOCK_MONOTONIC), t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        int r = sched_place(b->view, &br->req, &d, &err);
        lat[i] = now_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
        wall[i] = now_ns(CLOCK_MONOTONIC) - w0;
        total += lat[i];
        total_wall += wall[i];
        if (lat[i] > lat[ret->max_at])
            ret->max_at = i;
        if (bench_record(b, br, r, &d, &err) < 0) {
            free(lat);
            free(wall);
            return -1;
        }
    }
    uint32_t max_at = ret->max_at;
    qsort(lat, b->n_vols, sizeof(*lat), cmp_u64);
    qsort(wall, b->n_vols, sizeof(*wall), cmp_u64);
    *ret = (struct round){
        .max_at = max_at,
        .wall_p50_us = (double)wall[b->n_vols / 2] / 1000.0,
        .wall_p99_us = (double)wall[(uint64_t)b->n_vols * 99 / 100] / 1000.0,
        .wall_per_s = (double)b->n_vols * 1e9 / (double)total_wall,
        .violations = bench_verify(b),
        .p50_us = (double)lat[b->n_vols / 2] / 1000.0,
        .p99_us = (double)lat[(uint64_t)b->n_vols * 99 / 100] / 1000.0,
        .max_us = (double)lat[b->n_vols - 1] / 1000.0,
        .per_s = (double)b->n_vols * 1e9 / (double)total,
        .placed = b->n_placed,
        .refused = b->n_refused,
        .refused_pinned = b->n_refused_pinned,
        .prefer_local = b->n_prefer_local,
        .prefer_local_kept = b->n_prefer_local_kept,
    };
    bench_spread(b, false, &ret->spread_thick, &ret->spread_thin, &ret->spread);
    bench_spread(b, true, &ret->free_thick, &ret->free_thin, &ret->free);
    print_round(title, b, ret);
    bench_spread_report(b);
    free(lat);
    free(wall);
    bench_free(b);
    return 0;
}

int main(int argc, char **argv)
{
    struct bench b = {.n_pools = 10000, .n_vols = 100000, .seed = 42};
    if (parse_args(argc, argv, &b) < 0)
        return 2;
    printf("sched-bench: %u pools (%u nodes, %u racks, %u zones), %s config\n", b.n_pools,
           b.n_pools / 2, BENCH_RACKS, BENCH_ZONES, b.config ? "the given" : "default");
    struct round full, free_run;
    struct bench b2 = {.n_pools = b.n_pools,
                       .n_vols = b.n_vols,
                       .seed = b.seed,
                       .config = b.config,
                       .free_only = true};
    if (run_round(&b, "round 1, the full mix (MustLocal, PreferLocal and pinned clones included):",
                  &full) < 0 ||
        run_round(&b2,
                  "round 2, every placement the scorers' choice (no MustLocal/PreferLocal/pinned):",
                  &free_run) < 0)
        return 1;
    json_decref(b.config);
    return full.violations || free_run.violations ? 1 : 0;
}
