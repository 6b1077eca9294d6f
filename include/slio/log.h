/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Levelled, structured logging.
 *
 * One line per event: `ts=... level=warn comp=tgt msg="..." key=value ...`.
 * The message is printf-formatted; quote user strings in it (`pool "vg0": ...`).
 * Macros do not evaluate their arguments when the level is off.
 * Components: each daemon registers its name; `SLIO_LOG_DEBUG=tgt,rpc` (or
 * slio_log_enable_debug()) switches debug output per component.
 * Thread-safe: one write(2) per line.
 */
#ifndef SLIO_LOG_H
#define SLIO_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "slio/cleanup.h"

enum slio_log_level {
    SLIO_LOG_ERR = 0,
    SLIO_LOG_WARN = 1,
    SLIO_LOG_INFO = 2,
    SLIO_LOG_DEBUG = 3,
};

/* Global threshold (messages above it are dropped). Default INFO, or $SLIO_LOG_LEVEL. */
void slio_log_set_level(enum slio_log_level level);
enum slio_log_level slio_log_get_level(void);
/* Parse "err|warn|info|debug"; returns 0 or -EINVAL. */
int slio_log_level_from_string(const char *s, enum slio_log_level *ret_level);
/* Enable debug output for a comma-separated list of components ("all" for every one). */
void slio_log_enable_debug(const char *components);
bool slio_log_debug_enabled(const char *component);
/* Where lines go (default stderr); fd is borrowed. */
void slio_log_set_fd(int fd);
/*
 * (Re)read $SLIO_LOG_LEVEL and $SLIO_LOG_DEBUG. Runs once automatically at
 * program start; call it again after changing the environment (tests).
 * Unknown level names are ignored (the level stays as it was).
 */
void slio_log_init_from_env(void);

void slio_log_write(enum slio_log_level level, const char *component, const char *file, int line,
                    const char *fmt, ...) _printf_(5, 6);

/*
 * Rate limiting for per-peer errors: allows `burst` messages per `interval_us`,
 * then counts the suppressed ones and reports them with the next allowed line.
 * When slio_ratelimit_ok() opens a new window after suppressing messages, the
 * next slio_log_write() on the same thread carries ` suppressed=N`.
 * interval_us == 0 or burst == 0 disables the limiter (always true).
 */
struct slio_ratelimit {
    uint64_t interval_us;
    uint32_t burst;
    uint32_t printed;
    uint64_t begin_us;
    uint64_t suppressed;
};
#define SLIO_RATELIMIT_INIT(interval, b)                                                           \
    {                                                                                              \
        .interval_us = (interval), .burst = (b)                                                    \
    }
/* Returns true when a message may be printed now. Not thread-safe: one limiter per owner. */
bool slio_ratelimit_ok(struct slio_ratelimit *rl);

#ifndef SLIO_LOG_COMPONENT
#define SLIO_LOG_COMPONENT "slio"
#endif

#define slio_log(level, ...)                                                                       \
    do {                                                                                           \
        if ((level) <= slio_log_get_level() ||                                                     \
            ((level) == SLIO_LOG_DEBUG && slio_log_debug_enabled(SLIO_LOG_COMPONENT)))             \
            slio_log_write((level), SLIO_LOG_COMPONENT, __FILE__, __LINE__, __VA_ARGS__);          \
    } while (0)

#define log_error(...) slio_log(SLIO_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  slio_log(SLIO_LOG_WARN, __VA_ARGS__)
#define log_info(...)  slio_log(SLIO_LOG_INFO, __VA_ARGS__)
#define log_debug(...) slio_log(SLIO_LOG_DEBUG, __VA_ARGS__)

/* Log at most `burst` lines per second from this call site's limiter. */
#define log_ratelimited(rl, level, ...)                                                            \
    do {                                                                                           \
        if ((level) <= slio_log_get_level() && slio_ratelimit_ok(rl))                              \
            slio_log_write((level), SLIO_LOG_COMPONENT, __FILE__, __LINE__, __VA_ARGS__);          \
    } while (0)

#endif
