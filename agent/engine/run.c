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

/* The first non-blank line of a command's stderr, trimmed, at most 160 bytes. */
static void first_line(const char *text, size_t len, char buf[static 161])
{
    size_t start = 0, end, n;

    while (start < len && (text[start] == ' ' || text[start] == '\n' || text[start] == '\t'))
        start++;
    end = start;
    while (end < len && text[end] != '\n' && text[end] != '\0')
        end++;
    n = SLIO_MIN(end - start, (size_t)160);
    memcpy(buf, text + start, n);
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
    first_line(ret->err ? ret->err : "", ret->err_len, line);
    slio_err_set(err, "%s: %s%s%s", argv[0], slio_exec_describe(ret, how, sizeof(how)),
                 line[0] ? ": " : "", line);
    return -EIO;
}
