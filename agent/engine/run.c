/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every external command an engine runs (lvm tools, losetup, blkdiscard) goes
 * through agent_run(): libslio's exec seam (replayed in the unit tests), a
 * timeout, capped output, one error sentence, and the latency for /metrics.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "engine_internal.h"
#include "slio/exec.h"

static pthread_mutex_t observer_lock = PTHREAD_MUTEX_INITIALIZER;
static agent_exec_observer_fn observer;
static void *observer_ctx;

void agent_engine_set_exec_observer(agent_exec_observer_fn fn, void *ctx)
{
    pthread_mutex_lock(&observer_lock);
    observer = fn;
    observer_ctx = ctx;
    pthread_mutex_unlock(&observer_lock);
}

static void observe(const char *command, uint64_t usec, bool ok)
{
    agent_exec_observer_fn fn;
    void *ctx;

    pthread_mutex_lock(&observer_lock);
    fn = observer;
    ctx = observer_ctx;
    pthread_mutex_unlock(&observer_lock);
    if (fn)
        fn(ctx, command, usec, ok);
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool starts_with(const char *p, const char *end, const char *prefix)
{
    size_t n = strlen(prefix);

    return (size_t)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

/*
 * The line of a command's stderr that says why it failed, trimmed, at most 160
 * bytes: the first non-blank line that is not one of LVM's warnings (which
 * often come first), else the first non-blank line.
 */
static void reason_line(const char *text, size_t len, char buf[static 161])
{
    const char *end = text + len, *first = NULL, *first_end = NULL;

    for (const char *p = text; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop = eol ? eol : end;

        while (p < stop && (*p == ' ' || *p == '\t'))
            p++;
        if (p < stop && *p != '\0') {
            if (!first) {
                first = p;
                first_end = stop;
            }
            if (!starts_with(p, stop, "WARNING") && !starts_with(p, stop, "File descriptor")) {
                first = p;
                first_end = stop;
                break;
            }
        }
        p = eol ? eol + 1 : end;
    }
    if (!first) {
        buf[0] = '\0';
        return;
    }
    size_t n = strnlen(first, SLIO_MIN((size_t)(first_end - first), (size_t)160));
    memcpy(buf, first, n);
    buf[n] = '\0';
}

int agent_run(const char *const *argv, int timeout_ms, size_t max_output,
              struct slio_exec_result *ret, struct slio_err *err)
{
    struct slio_exec_opts opts = {.timeout_ms = timeout_ms, .max_output = max_output};
    char how[128], line[161];
    uint64_t t0 = now_us();
    bool ok;
    int r;

    r = slio_exec(argv, &opts, ret, err);
    if (r < 0) {
        observe(argv[0], now_us() - t0, false);
        return r;
    }
    ok = slio_exec_succeeded(ret) && !ret->out_truncated;
    observe(argv[0], now_us() - t0, ok);
    if (ok)
        return 0;
    if (ret->out_truncated && slio_exec_succeeded(ret)) {
        slio_err_set(err, "%s: output larger than %zu bytes", argv[0], max_output);
        return -EIO;
    }
    reason_line(ret->err ? ret->err : "", ret->err ? ret->err_len : 0, line);
    slio_err_set(err, "%s: %s%s%s", argv[0], slio_exec_describe(ret, how, sizeof(how)),
                 line[0] ? ": " : "", line);
    return -EIO;
}
