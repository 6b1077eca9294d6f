/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition format (version 0.0.4) into a capped strbuf, so
 * that every daemon's /metrics is clean under `promtool check metrics`.
 *
 *   slio_prom_family(sb, "sliteio_pool_free_bytes", SLIO_PROM_GAUGE, "Free bytes of a pool.");
 *   slio_prom_sample(sb, "sliteio_pool_free_bytes", (const char *[]){"pool", "vg0", NULL}, 1e9);
 *   slio_prom_family(sb, "sliteio_heartbeats", SLIO_PROM_COUNTER, "Heartbeats sent.");
 *   slio_prom_sample(sb, "sliteio_heartbeats_total", NULL, 42);
 *
 * Names are checked ([a-zA-Z_:][a-zA-Z0-9_:]*, -EINVAL), label names too
 * ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"); label values and help
 * text are escaped (backslash, newline; quote in label values) and bytes that
 * are not UTF-8 become U+FFFD. Counters' names end in _total: in format 0.0.4
 * (unlike OpenMetrics) the family is declared WITH it ("# TYPE x_total
 * counter"; promtool rejects anything else), so slio_prom_family() appends it
 * for a counter, and a counter's samples are written with it: pass
 * "x_total" to slio_prom_sample() (it writes the name it is given). Only
 * counters may end in _total. Values print with the shortest text that
 * reads back exactly; NaN, +Inf, -Inf as Prometheus spells them.
 *
 * Every call appends all of its text or none (-ENOBUFS at the strbuf's cap,
 * -ENOMEM), so a page never ends in half a line.
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

/* "# HELP name help" and "# TYPE name type" (help required). For a counter, name
 * with or without "_total": the lines say name_total. */
int slio_prom_family(struct slio_strbuf *sb, const char *name, enum slio_prom_type type,
                     const char *help) _must_check_;

/* One sample line: name{k="v",...} value, with name exactly as given (x_total for a
 * counter). labels: NULL or a NULL-terminated k, v, k, v, ... array (-EINVAL when a
 * value is missing). */
int slio_prom_sample(struct slio_strbuf *sb, const char *name, const char *const *labels,
                     double value) _must_check_;

/* A counter without labels in one call: its family lines and "name_total value"
 * (name given without "_total"). */
int slio_prom_counter(struct slio_strbuf *sb, const char *name, const char *help,
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
/* Thread-safe (atomics). A value lands in the first bucket whose bound is >= it
 * (Prometheus' "le"); NaN is ignored. */
void slio_prom_hist_observe(struct slio_prom_hist *h, double seconds);
/* The _bucket/_sum/_count lines of one histogram sample (family declared by the caller
 * with the same name). _count is computed from the buckets, so it always equals the
 * +Inf bucket. -EINVAL for a label "le" or bounds not strictly ascending. Readers
 * may run while others observe. */
int slio_prom_hist_write(struct slio_strbuf *sb, const char *name, const char *const *labels,
                         const struct slio_prom_hist *h) _must_check_;

#endif
