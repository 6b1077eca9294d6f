/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Structured logging: one `key=value` line per event, written with a single
 * write(2) so that lines from concurrent threads (and processes sharing the
 * fd) never interleave. The message is escaped so that a user string holding
 * a quote or a newline cannot forge a second event.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "slio/log.h"

#define LINE_MAX_BYTES 4096 /* one event, including the newline */
#define MSG_MAX_BYTES  2048 /* formatted message before escaping */
#define TAIL_RESERVE   160  /* room kept for `" src=... suppressed=... truncated=1\n` */
#define DEBUG_LIST_MAX 512

static atomic_int log_level = SLIO_LOG_INFO;
static atomic_int log_fd = STDERR_FILENO;
static atomic_bool debug_any;
static atomic_bool debug_all;
static pthread_mutex_t debug_lock = PTHREAD_MUTEX_INITIALIZER;
static char debug_list[DEBUG_LIST_MAX]; /* ",tgt,rpc," under debug_lock */

/* Suppressed count a rate limiter handed to the next line of this thread. */
static _Thread_local uint64_t pending_suppressed;

static const char *const level_names[] = {
    [SLIO_LOG_ERR] = "error",
    [SLIO_LOG_WARN] = "warn",
    [SLIO_LOG_INFO] = "info",
    [SLIO_LOG_DEBUG] = "debug",
};

void slio_log_set_level(enum slio_log_level level)
{
    if (level > SLIO_LOG_DEBUG)
        level = SLIO_LOG_DEBUG;
    atomic_store(&log_level, (int)level);
}

enum slio_log_level slio_log_get_level(void)
{
    return (enum slio_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

int slio_log_level_from_string(const char *s, enum slio_log_level *ret_level)
{
    static const struct {
        const char *name;
        enum slio_log_level level;
    } names[] = {
        {"err", SLIO_LOG_ERR},      {"error", SLIO_LOG_ERR}, {"warn", SLIO_LOG_WARN},
        {"warning", SLIO_LOG_WARN}, {"info", SLIO_LOG_INFO}, {"debug", SLIO_LOG_DEBUG},
    };

    if (!s)
        return -EINVAL;
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(names); i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *ret_level = names[i].level;
            return 0;
        }
    return -EINVAL;
}

void slio_log_enable_debug(const char *components)
{
    size_t n = 0;

    pthread_mutex_lock(&debug_lock);
    debug_list[n++] = ',';
    for (const char *p = components ? components : ""; *p && n < sizeof(debug_list) - 2; p++)
        if (!isspace((unsigned char)*p))
            debug_list[n++] = *p;
    debug_list[n++] = ',';
    debug_list[n] = '\0';
    atomic_store(&debug_all, strstr(debug_list, ",all,") != NULL);
    atomic_store(&debug_any, n > 2);
    pthread_mutex_unlock(&debug_lock);
}

bool slio_log_debug_enabled(const char *component)
{
    char needle[64];
    bool found;

    if (!atomic_load_explicit(&debug_any, memory_order_relaxed))
        return false;
    if (atomic_load(&debug_all))
        return true;
    if (!component || snprintf(needle, sizeof(needle), ",%s,", component) >= (int)sizeof(needle))
        return false;
    pthread_mutex_lock(&debug_lock);
    found = strstr(debug_list, needle) != NULL;
    pthread_mutex_unlock(&debug_lock);
    return found;
}

void slio_log_set_fd(int fd)
{
    atomic_store(&log_fd, fd);
}

void slio_log_init_from_env(void)
{
    const char *s = getenv("SLIO_LOG_LEVEL");
    enum slio_log_level level;

    if (s && slio_log_level_from_string(s, &level) == 0)
        slio_log_set_level(level);
    s = getenv("SLIO_LOG_DEBUG");
    slio_log_enable_debug(s ? s : "");
}

__attribute__((constructor)) static void log_init(void)
{
    slio_log_init_from_env();
}

/* Append src[0..] escaped to dst at *pos, never past cap; returns false if cut short. */
static bool escape_into(char *dst, size_t *pos, size_t cap, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = *pos;

    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        char esc = 0;
        switch (*p) {
        case '"':
            esc = '"';
            break;
        case '\\':
            esc = '\\';
            break;
        case '\n':
            esc = 'n';
            break;
        case '\r':
            esc = 'r';
            break;
        case '\t':
            esc = 't';
            break;
        default:
            break;
        }
        size_t need = esc ? 2 : (*p < 0x20 || *p == 0x7f) ? 4 : 1;
        if (n + need > cap) {
            *pos = n;
            return false;
        }
        if (esc) {
            dst[n++] = '\\';
            dst[n++] = esc;
        } else if (need == 4) {
            dst[n++] = '\\';
            dst[n++] = 'x';
            dst[n++] = hex[*p >> 4];
            dst[n++] = hex[*p & 0xf];
        } else {
            dst[n++] = (char)*p;
        }
    }
    *pos = n;
    return true;
}

static size_t format_ts(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    int m = snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
    return n + (size_t)SLIO_MAX(m, 0);
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere to report a failing log sink */
        buf += w;
        len -= (size_t)w;
    }
}

void slio_log_write(enum slio_log_level level, const char *component, const char *file, int line,
                    const char *fmt, ...)
{
    char msg[MSG_MAX_BYTES];
    char out[LINE_MAX_BYTES];
    char ts[40];
    int saved_errno = errno; /* so callers may log before returning -errno */
    va_list ap;

    va_start(ap, fmt);
    int mlen = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    bool truncated = mlen < 0 || (size_t)mlen >= sizeof(msg);
    if (mlen < 0)
        msg[0] = '\0';

    format_ts(ts, sizeof(ts));
    if (level > SLIO_LOG_DEBUG)
        level = SLIO_LOG_DEBUG;
    size_t pos = (size_t)snprintf(out, sizeof(out) - TAIL_RESERVE, "ts=%s level=%s comp=%s msg=\"",
                                  ts, level_names[level], component ? component : "?");
    pos = SLIO_MIN(pos, sizeof(out) - TAIL_RESERVE);
    if (!escape_into(out, &pos, sizeof(out) - TAIL_RESERVE, msg))
        truncated = true;

    const char *base = file ? strrchr(file, '/') : NULL;
    base = base ? base + 1 : file ? file : "?";
    int t = snprintf(out + pos, sizeof(out) - pos, "\" src=%.64s:%d", base, line);
    pos += (size_t)SLIO_MAX(t, 0);
    if (pending_suppressed) {
        t = snprintf(out + pos, sizeof(out) - pos, " suppressed=%llu",
                     (unsigned long long)pending_suppressed);
        pos += (size_t)SLIO_MAX(t, 0);
        pending_suppressed = 0;
    }
    if (truncated) {
        t = snprintf(out + pos, sizeof(out) - pos, " truncated=1");
        pos += (size_t)SLIO_MAX(t, 0);
    }
    out[pos++] = '\n';
    write_all(atomic_load(&log_fd), out, pos);
    errno = saved_errno;
}

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

bool slio_ratelimit_ok(struct slio_ratelimit *rl)
{
    uint64_t now = now_us();

    if (rl->interval_us == 0 || rl->burst == 0)
        return true;
    if (rl->begin_us == 0 || now - rl->begin_us >= rl->interval_us) {
        rl->begin_us = now;
        rl->printed = 0;
        if (rl->suppressed) {
            pending_suppressed = rl->suppressed;
            rl->suppressed = 0;
        }
    }
    if (rl->printed < rl->burst) {
        rl->printed++;
        return true;
    }
    rl->suppressed++;
    return false;
}
