/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Load engine: one thread per channel, qd preallocated I/O slots each, the
 * range [offset, offset+size) split into disjoint per-worker regions (so no
 * two workers ever touch the same block — verification stays meaningful).
 *
 * Verify mode writes every unit of the region once, then reads each back and
 * checks it. With --journal, write modes append each FUA-acknowledged write
 * to the journal and verify mode checks the journal instead of writing.
 * Sequential/verify modes keep at most one I/O per unit in flight, so "the
 * acknowledged generation" of a unit is well defined.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "pattern.h"
#include "slio/cleanup.h"

#define MAX_REPORTED_MISMATCHES 20
#define DRAIN_TIMEOUT_MS        30000

enum phase { PH_LOAD, PH_WRITE, PH_READ };

struct perf_worker {
    const struct perf_job *job;
    const struct perf_backend *be;
    unsigned idx;
    void *chan;
    struct perf_io *ios;
    uint8_t *bufs;
    uint64_t first_unit, nunits; /* region, in units of job->bs */
    uint64_t next;               /* sequential cursor within the region */
    uint64_t rng;
    uint64_t gen;
    uint64_t *gens; /* verify: expected generation per unit of the region (0: skip) */
    uint8_t *busy;  /* journal: units with a write in flight (never two at once) */
    enum phase phase;
    bool stop;
    uint32_t inflight;
    int journal_fd;
    uint64_t deadline_ns;
    struct perf_result res;
    char err[256];
    atomic_bool *done_flag;
};

static atomic_uint reported_mismatches;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rand64(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

static void worker_fail(struct perf_worker *w, const char *what, const char *detail)
{
    if (!w->err[0])
        snprintf(w->err, sizeof(w->err), "worker %u: %s%s%s", w->idx, what, *what ? ": " : "",
                 detail);
    w->stop = true;
}

static uint32_t lbs_per_unit(const struct perf_worker *w)
{
    return w->job->bs / w->be->block_size;
}

static uint64_t unit_lba(const struct perf_worker *w, uint64_t unit)
{
    return (w->job->offset + unit * w->job->bs) / w->be->block_size;
}

/* Next unit to verify in PH_READ (skipping never-acknowledged ones); false when done. */
static bool next_verify_unit(struct perf_worker *w, uint64_t *ret_unit)
{
    while (w->next < w->nunits) {
        uint64_t u = w->next++;
        if (w->gens[u] != 0) {
            *ret_unit = w->first_unit + u;
            return true;
        }
    }
    return false;
}

/* Next unit for the timed workloads; with a journal, never one that has a write in flight. */
static uint64_t pick_unit(struct perf_worker *w)
{
    bool seq = w->job->wl == PERF_WL_READ || w->job->wl == PERF_WL_WRITE;

    for (uint64_t tries = 0;; tries++) {
        uint64_t u;
        if (seq || tries >= 8) { /* random: after a few busy hits, walk to the next free one */
            u = w->next;
            w->next = (w->next + 1) % w->nunits;
        } else {
            u = rand64(&w->rng) % w->nunits;
        }
        if (!w->busy || !w->busy[u])
            return w->first_unit + u; /* qd < units (checked), so a free unit exists */
    }
}

/* Choose what the slot does next; false when this worker has nothing left to issue. */
static bool plan_io(struct perf_worker *w, struct perf_io *io)
{
    const struct perf_job *job = w->job;
    uint64_t unit;

    if (w->stop)
        return false;
    if (w->phase == PH_WRITE) {
        if (w->next >= w->nunits)
            return false;
        unit = w->first_unit + w->next++;
        io->write = true;
    } else if (w->phase == PH_READ) {
        if (!next_verify_unit(w, &unit))
            return false;
        io->write = false;
    } else {
        if (now_ns() >= w->deadline_ns)
            return false;
        unit = pick_unit(w);
        io->write = job->wl == PERF_WL_WRITE || job->wl == PERF_WL_RANDWRITE ||
                    (job->wl == PERF_WL_RANDRW && rand64(&w->rng) % 100 >= job->rwmix);
    }
    if (w->busy)
        w->busy[unit - w->first_unit] = 1;
    io->unit = unit;
    io->offset = job->offset + unit * job->bs;
    io->len = job->bs;
    io->fua = job->fua && io->write;
    if (io->write && (w->phase == PH_WRITE || job->journal)) {
        io->gen = ++w->gen;
        perf_pattern_fill(io->buf, w->be->block_size, lbs_per_unit(w), unit_lba(w, unit), job->seed,
                          io->gen);
    }
    return true;
}

static void issue(struct perf_worker *w, struct perf_io *io)
{
    if (!plan_io(w, io))
        return;
    io->start_ns = now_ns();
    int r = w->be->ops->submit(w->chan, io);
    if (r < 0) {
        worker_fail(w, "submit failed", w->be->ops->chan_error(w->chan));
        return;
    }
    w->inflight++;
}

static void check_read(struct perf_worker *w, struct perf_io *io)
{
    uint32_t lbs = w->be->block_size;
    uint64_t expect = w->gens[io->unit - w->first_unit];
    bool exact = w->job->journal == NULL; /* a journal only gives a lower bound */

    for (uint32_t i = 0; i < lbs_per_unit(w); i++) {
        struct perf_block_hdr h;
        uint64_t lba = unit_lba(w, io->unit) + i;
        enum perf_check c =
            perf_pattern_check(io->buf + (size_t)i * lbs, lbs, lba, expect, exact, &h);
        w->res.verified_blocks++;
        if (c == PERF_CHECK_OK)
            continue;
        w->res.mismatches++;
        if (atomic_fetch_add(&reported_mismatches, 1) < MAX_REPORTED_MISMATCHES)
            fprintf(stderr,
                    "slio-perf: mismatch at LBA %llu: %s (expected generation %s%llu, found "
                    "LBA %llu generation %llu)\n",
                    (unsigned long long)lba, perf_check_str(c),
                    exact ? "" : ">= ", (unsigned long long)expect, (unsigned long long)h.lba,
                    (unsigned long long)h.gen);
    }
}

void perf_io_complete(struct perf_io *io, int status)
{
    struct perf_worker *w = io->w;
    char detail[96];

    w->inflight--;
    if (w->busy)
        w->busy[io->unit - w->first_unit] = 0;
    if (status != 0) {
        w->res.errors++;
        if (status < 0)
            snprintf(detail, sizeof(detail), "%s", strerror(-status));
        else
            snprintf(detail, sizeof(detail), "NVMe status SCT 0x%x SC 0x%02x", (status >> 8) & 7,
                     status & 0xff);
        const char *why =
            status < 0 && w->be->ops->chan_error ? w->be->ops->chan_error(w->chan) : detail;
        worker_fail(w, "I/O failed", why);
        return;
    }
    perf_hist_add(&w->res.lat, now_ns() - io->start_ns);
    w->res.ios++;
    w->res.bytes += io->len;
    if (io->write) {
        w->res.writes++;
        if (w->phase == PH_WRITE)
            w->gens[io->unit - w->first_unit] = io->gen;
        if (w->journal_fd >= 0 &&
            perf_journal_append(w->journal_fd, unit_lba(w, io->unit), lbs_per_unit(w), io->gen) < 0)
            worker_fail(w, "journal append failed", strerror(errno));
    } else {
        w->res.reads++;
        if (w->phase == PH_READ)
            check_read(w, io);
    }
    issue(w, io);
}

/* Issue every slot, then poll until nothing is in flight. */
static void run_phase(struct perf_worker *w, enum phase ph)
{
    uint64_t drain_start = 0;

    w->phase = ph;
    w->next = 0;
    for (uint32_t i = 0; i < w->job->qd && !w->stop; i++)
        issue(w, &w->ios[i]);
    while (w->inflight > 0) {
        int r = w->be->ops->poll(w->chan, 100);
        if (r < 0 && w->inflight > 0) {
            worker_fail(w, "", w->be->ops->chan_error(w->chan));
            break;
        }
        if (w->stop && !drain_start)
            drain_start = now_ns();
        if (drain_start && now_ns() - drain_start > DRAIN_TIMEOUT_MS * 1000000ull) {
            worker_fail(w, "", "I/O did not complete within 30 s of stopping");
            break;
        }
    }
}

static void *worker_main(void *arg)
{
    struct perf_worker *w = arg;
    const struct perf_job *job = w->job;

    if (job->wl == PERF_WL_VERIFY) {
        if (!job->journal)
            run_phase(w, PH_WRITE);
        if (!w->stop)
            run_phase(w, PH_READ);
    } else {
        w->deadline_ns = now_ns() + (uint64_t)(job->seconds * 1e9);
        run_phase(w, PH_LOAD);
    }
    atomic_store(w->done_flag, true);
    return NULL;
}

static int worker_setup(struct perf_worker *w, char *err, size_t errlen)
{
    const struct perf_job *job = w->job;

    perf_hist_init(&w->res.lat);
    w->journal_fd = -1;
    w->rng = job->seed ^ (0x9e3779b97f4a7c15ull * (w->idx + 1));
    if (posix_memalign((void **)&w->bufs, 4096, (size_t)job->qd * job->bs) != 0)
        return -ENOMEM;
    w->ios = calloc(job->qd, sizeof(*w->ios));
    if (!w->ios)
        return -ENOMEM;
    for (uint32_t i = 0; i < job->qd; i++) {
        w->ios[i].w = w;
        w->ios[i].buf = w->bufs + (size_t)i * job->bs;
    }
    memset(w->bufs, 0, (size_t)job->qd * job->bs);
    if (job->journal && job->wl != PERF_WL_VERIFY) {
        w->busy = calloc(w->nunits, 1);
        if (!w->busy)
            return -ENOMEM;
    }
    if (job->wl == PERF_WL_VERIFY && !w->gens) {
        w->gens = calloc(w->nunits ? w->nunits : 1, sizeof(uint64_t));
        if (!w->gens)
            return -ENOMEM;
    }
    return w->be->ops->open_chan(w->be->ctx, w->idx, job->qd, job->bs, &w->chan, err, errlen);
}

static void worker_teardown(struct perf_worker *w)
{
    if (w->chan)
        w->be->ops->close_chan(w->chan);
    free(w->ios);
    free(w->bufs);
    free(w->busy);
}

static double tv_sec(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int check_job(const struct perf_job *job, const struct perf_backend *be, uint64_t *ret_units,
                     char *err, size_t errlen)
{
    uint64_t size = job->size ? job->size : (be->size > job->offset ? be->size - job->offset : 0);

    if (job->bs == 0 || job->bs % be->block_size || job->bs > be->max_io) {
        snprintf(err, errlen, "block size %u: must be a multiple of %u up to %u bytes", job->bs,
                 be->block_size, be->max_io);
        return -EINVAL;
    }
    if (job->offset % job->bs || job->offset + size > be->size) {
        snprintf(err, errlen, "range %llu+%llu: outside the %llu-byte target or misaligned",
                 (unsigned long long)job->offset, (unsigned long long)size,
                 (unsigned long long)be->size);
        return -EINVAL;
    }
    if (job->qd == 0 || job->qd > be->max_qd || job->workers == 0) {
        snprintf(err, errlen, "queue depth %u / %u queues: depth must be 1..%u", job->qd,
                 job->workers, be->max_qd);
        return -EINVAL;
    }
    uint64_t units = size / job->bs / job->workers;
    bool one_per_unit = job->wl == PERF_WL_VERIFY || job->journal;
    if (units == 0 || (one_per_unit && units < job->qd)) {
        snprintf(err, errlen,
                 "range of %llu bytes too small for %u queues of depth %u with %u-byte I/O",
                 (unsigned long long)size, job->workers, job->qd, job->bs);
        return -EINVAL;
    }
    if (job->journal && job->wl != PERF_WL_VERIFY &&
        (!job->fua || (job->wl != PERF_WL_WRITE && job->wl != PERF_WL_RANDWRITE))) {
        snprintf(err, errlen, "--journal needs a write workload with --fua (acknowledged = FUA)");
        return -EINVAL;
    }
    *ret_units = units;
    return 0;
}

static int load_journal(const struct perf_job *job, const struct perf_backend *be,
                        struct perf_worker *ws, uint64_t units, char *err, size_t errlen)
{
    uint64_t *gens = NULL, records = 0;
    uint32_t ub = job->bs / be->block_size;
    int r = perf_journal_load(job->journal, job->offset / be->block_size, ub, units * job->workers,
                              &gens, &records, err, errlen);

    if (r < 0)
        return r;
    if (records == 0) {
        free(gens);
        snprintf(err, errlen, "journal \"%s\": no acknowledged writes recorded", job->journal);
        return -ENODATA;
    }
    for (uint32_t i = 0; i < job->workers; i++) {
        ws[i].gens = calloc(units, sizeof(uint64_t));
        if (!ws[i].gens) {
            free(gens);
            return -ENOMEM;
        }
        memcpy(ws[i].gens, gens + i * units, units * sizeof(uint64_t));
    }
    free(gens);
    return 0;
}

static void collect(struct perf_worker *ws, uint32_t n, struct perf_result *res, char *err,
                    size_t errlen)
{
    for (uint32_t i = 0; i < n; i++) {
        struct perf_worker *w = &ws[i];
        perf_hist_merge(&res->lat, &w->res.lat);
        res->ios += w->res.ios;
        res->reads += w->res.reads;
        res->writes += w->res.writes;
        res->bytes += w->res.bytes;
        res->errors += w->res.errors;
        res->mismatches += w->res.mismatches;
        res->verified_blocks += w->res.verified_blocks;
        if (w->err[0] && !err[0])
            snprintf(err, errlen, "%s", w->err);
    }
}

/* Main thread: wait for the workers, calling the tick (keep-alive) meanwhile. */
static int wait_workers(const struct perf_job *job, atomic_bool *done, uint32_t n)
{
    uint64_t last_tick = now_ns();

    for (;;) {
        uint32_t finished = 0;
        for (uint32_t i = 0; i < n; i++)
            finished += atomic_load(&done[i]);
        if (finished == n)
            return 0;
        usleep(10000);
        if (job->tick && now_ns() - last_tick >= (uint64_t)job->tick_ms * 1000000ull) {
            last_tick = now_ns();
            int r = job->tick(job->tick_arg);
            if (r < 0)
                return r;
        }
    }
}

int perf_run(const struct perf_job *job, const struct perf_backend *be, struct perf_result *res,
             char *err, size_t errlen)
{
    uint64_t units = 0;
    int r;

    memset(res, 0, sizeof(*res));
    perf_hist_init(&res->lat);
    err[0] = 0;
    r = check_job(job, be, &units, err, errlen);
    if (r < 0)
        return r;

    _cleanup_free_ struct perf_worker *ws = calloc(job->workers, sizeof(*ws));
    _cleanup_free_ atomic_bool *done = calloc(job->workers, sizeof(*done));
    _cleanup_free_ pthread_t *tids = calloc(job->workers, sizeof(*tids));
    _cleanup_close_ int jfd = -1;
    if (!ws || !done || !tids)
        return -ENOMEM;
    if (job->journal && job->wl != PERF_WL_VERIFY) {
        jfd = open(job->journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (jfd < 0) {
            r = slio_neg_errno();
            snprintf(err, errlen, "journal \"%s\": %s", job->journal, strerror(-r));
            return r;
        }
    }
    if (job->journal && job->wl == PERF_WL_VERIFY) {
        r = load_journal(job, be, ws, units, err, errlen);
        if (r < 0)
            goto out;
    }
    uint32_t started = 0;
    for (uint32_t i = 0; i < job->workers; i++) {
        struct perf_worker *w = &ws[i];
        w->job = job;
        w->be = be;
        w->idx = i;
        w->first_unit = i * units;
        w->nunits = units;
        w->done_flag = &done[i];
        /* generations grow across runs (wall clock), so a rewrite is always "newer" */
        w->gen = (uint64_t)time(NULL) << 20;
        r = worker_setup(w, err, errlen);
        w->journal_fd = jfd;
        if (r < 0) {
            if (!err[0])
                snprintf(err, errlen, "worker %u: setup: %s", i, strerror(-r));
            goto out;
        }
    }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    uint64_t t0 = now_ns();
    for (; started < job->workers; started++) {
        r = -pthread_create(&tids[started], NULL, worker_main, &ws[started]);
        if (r < 0) {
            snprintf(err, errlen, "cannot start worker thread: %s", strerror(-r));
            for (uint32_t i = 0; i < job->workers; i++)
                ws[i].stop = true; /* racy but only a hint: they finish at their deadline */
            break;
        }
    }
    int tr = wait_workers(job, done, started);
    for (uint32_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    res->elapsed = (double)(now_ns() - t0) / 1e9;
    getrusage(RUSAGE_SELF, &ru1);
    res->cpu_user = tv_sec(ru1.ru_utime) - tv_sec(ru0.ru_utime);
    res->cpu_sys = tv_sec(ru1.ru_stime) - tv_sec(ru0.ru_stime);
    collect(ws, job->workers, res, err, errlen);
    if (tr < 0 && !err[0])
        snprintf(err, errlen, "keep-alive failed: %s", strerror(-tr));
    if (r == 0)
        r = tr;
    if (r == 0 && (err[0] || res->errors))
        r = -EIO;
    if (r == 0 && res->mismatches) {
        snprintf(err, errlen, "verification failed: %llu of %llu blocks mismatched",
                 (unsigned long long)res->mismatches, (unsigned long long)res->verified_blocks);
        r = -EIO;
    }
out:
    for (uint32_t i = 0; i < job->workers; i++) {
        worker_teardown(&ws[i]);
        free(ws[i].gens);
    }
    return r;
}

static const char *const wl_names[] = {
    [PERF_WL_READ] = "read",           [PERF_WL_WRITE] = "write",   [PERF_WL_RANDREAD] = "randread",
    [PERF_WL_RANDWRITE] = "randwrite", [PERF_WL_RANDRW] = "randrw", [PERF_WL_VERIFY] = "verify",
};

int perf_workload_parse(const char *s, enum perf_workload *ret)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(wl_names); i++)
        if (strcmp(s, wl_names[i]) == 0) {
            *ret = (enum perf_workload)i;
            return 0;
        }
    return -EINVAL;
}

const char *perf_workload_name(enum perf_workload wl)
{
    return (size_t)wl < SLIO_ARRAY_SIZE(wl_names) ? wl_names[wl] : "?";
}

uint64_t perf_random_seed(void)
{
    uint64_t s = 0;

    if (getrandom(&s, sizeof(s), 0) != sizeof(s))
        s = now_ns();
    return s ? s : 1;
}
