/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The load engine of slio-perf, shared by every backend.
 *
 * A backend (NVMe/TCP remote, local io_uring) implements perf_backend_ops:
 * per worker thread it opens a channel (one NVMe/TCP queue, one io_uring),
 * accepts submissions of preallocated perf_io slots and, from poll(), calls
 * perf_io_complete() for each finished one. The engine owns workloads,
 * verification, the journal, timing and statistics.
 */
#ifndef SLIO_PERF_ENGINE_H
#define SLIO_PERF_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

enum perf_workload {
    PERF_WL_READ,
    PERF_WL_WRITE,
    PERF_WL_RANDREAD,
    PERF_WL_RANDWRITE,
    PERF_WL_RANDRW,
    PERF_WL_VERIFY,
};

struct perf_worker;

/* One in-flight I/O slot; qd of them per worker, allocated once. */
struct perf_io {
    struct perf_worker *w;
    uint8_t *buf;
    uint64_t offset; /* bytes */
    uint32_t len;
    bool write;
    bool fua;
    uint64_t unit;
    uint64_t gen;
    uint64_t start_ns;
};

struct perf_backend_ops {
    const char *name;
    int (*open_chan)(void *ctx, unsigned idx, unsigned qd, uint32_t max_io, void **ret_chan,
                     char *err, size_t errlen);
    /* 0, or -errno (the channel is then unusable; chan_error says why) */
    int (*submit)(void *chan, struct perf_io *io);
    /* Wait up to timeout_ms for completions (perf_io_complete per I/O); count or -errno. */
    int (*poll)(void *chan, int timeout_ms);
    void (*close_chan)(void *chan);
    const char *(*chan_error)(void *chan);
};

struct perf_backend {
    const struct perf_backend_ops *ops;
    void *ctx;
    uint64_t size;       /* bytes addressable */
    uint32_t block_size; /* logical block size */
    uint32_t max_io;     /* largest I/O in bytes */
    uint32_t max_qd;     /* deepest queue the backend allows */
};

/* Backends call this for every finished I/O: status 0, >0 NVMe status, <0 -errno. */
void perf_io_complete(struct perf_io *io, int status);

struct perf_job {
    enum perf_workload wl;
    uint32_t bs;
    uint32_t qd;
    uint32_t workers;
    double seconds;
    uint64_t size;   /* bytes of the range used (0: whole device from offset) */
    uint64_t offset; /* bytes */
    unsigned rwmix;  /* % reads for randrw */
    bool fua;
    const char *journal; /* write modes: append acknowledged writes; verify: check them */
    uint64_t seed;
    /* called about every tick_ms from the main thread while workers run (keep-alive) */
    int (*tick)(void *arg);
    void *tick_arg;
    uint32_t tick_ms;
};

struct perf_result {
    struct perf_hist lat; /* ns */
    uint64_t ios, reads, writes, bytes;
    uint64_t errors;
    uint64_t mismatches;
    uint64_t verified_blocks;
    double elapsed;           /* s */
    double cpu_user, cpu_sys; /* s, whole process */
};

/*
 * Run the job; fills *res (also on failure, with what was measured).
 * Returns 0, -EIO when I/O failed or verification found mismatches (the text
 * in err), or another -errno for setup problems.
 */
int perf_run(const struct perf_job *job, const struct perf_backend *be, struct perf_result *res,
             char *err, size_t errlen);

/* A random non-zero seed (getrandom). */
uint64_t perf_random_seed(void);
int perf_workload_parse(const char *s, enum perf_workload *ret);
const char *perf_workload_name(enum perf_workload wl);

#endif
