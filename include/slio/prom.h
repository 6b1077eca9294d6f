/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition format (version 0.0.4) into a capped strbuf, so
 * that every daemon's /metrics is clean under `promtool check metrics`.
 *
 *   slio_prom_family(sb, "sliteio_pool_free_bytes", SLIO_PROM_GAUGE, "Free bytes of a pool.");
 *   slio_prom_sample(sb, "sliteio_pool_free_bytes", (const char *[]){"pool", "vg0", NULL}, 1e9);
 *
 * Names are checked ([a-zA-Z_:][a-zA-Z0-9_:]*, -EINVAL); label values are
 * escaped (backslash, quote, newline); counters' family names end in _total
 * (the family is declared without it, as the format says). Values print with
 * full precision; NaN and infinities as Prometheus spells them.
 */
#ifndef SLIO_PROM_H
#define SLIO_PROM_H

#include <stdint.h>

#include "slio/cleanup.h"
#include "slio/strbuf.h"

enum slio_prom_type {
    SLIO_PROM_COUNTER,
    SLIO_PROM_GAUGE,
    SLIO_PROM_HISTOGRAM,
};

/* "# HELP name help" and "# TYPE name type". For a counter pass the name without
 * "_total"; its samples are then named name_total. */
int slio_prom_family(struct slio_strbuf *sb, const char *name, enum slio_prom_type type,
                     const char *help) _must_check_;

/* One sample line: name{k="v",...} value. labels: NULL or a NULL-terminated
 * k, v, k, v, ... array. */
int slio_prom_sample(struct slio_strbuf *sb, const char *name, const char *const *labels,
                     double value) _must_check_;

/* A fixed-bucket latency histogram (seconds) that threads can observe into. */
#define SLIO_PROM_HIST_MAX_BUCKETS 16
struct slio_prom_hist {
    unsigned n_bounds;
    double bounds[SLIO_PROM_HIST_MAX_BUCKETS];       /* upper bounds, ascending, seconds */
    uint64_t counts[SLIO_PROM_HIST_MAX_BUCKETS + 1]; /* last: +Inf */
    double sum;
    uint64_t count;
};
/* Default bounds 1 ms .. 30 s for command latencies. */
void slio_prom_hist_init(struct slio_prom_hist *h);
/* Thread-safe (atomics). */
void slio_prom_hist_observe(struct slio_prom_hist *h, double seconds);
/* The _bucket/_sum/_count lines of one histogram sample (family declared by the caller). */
int slio_prom_hist_write(struct slio_strbuf *sb, const char *name, const char *const *labels,
                         const struct slio_prom_hist *h) _must_check_;

#endif
