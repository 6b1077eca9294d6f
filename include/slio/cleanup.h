/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cleanup helpers and the error convention shared by every SLiteIO component.
 *
 * Convention: functions returning int return 0 (or a non-negative count) on
 * success and a negative errno on failure. Output parameters are named ret_*,
 * come last and are left untouched on failure. A constructor returning a
 * pointer returns NULL only when memory ran out.
 */
#ifndef SLIO_CLEANUP_H
#define SLIO_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _must_check_   __attribute__((warn_unused_result))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x)    __builtin_expect(!!(x), 1)
#define _unlikely_(x)  __builtin_expect(!!(x), 0)

#define SLIO_ARRAY_SIZE(a)                   (sizeof(a) / sizeof((a)[0]))
#define SLIO_MIN(a, b)                       ((a) < (b) ? (a) : (b))
#define SLIO_MAX(a, b)                       ((a) > (b) ? (a) : (b))
#define SLIO_DIV_ROUND_UP(n, d)              (((n) + (d)-1) / (d))
#define SLIO_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Hand ownership out of a _cleanup_ variable: returns the value and NULLs the variable. */
#define TAKE_PTR(p)                                                                                \
    ({                                                                                             \
        __typeof__(p) _take_tmp = (p);                                                             \
        (p) = NULL;                                                                                \
        _take_tmp;                                                                                 \
    })
#define TAKE_FD(fd)                                                                                \
    ({                                                                                             \
        int _take_fd = (fd);                                                                       \
        (fd) = -1;                                                                                 \
        _take_fd;                                                                                  \
    })

static inline void slio_freep(void *p)
{
    free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(slio_freep)

static inline void slio_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
#define _cleanup_close_ _cleanup_(slio_closep)

static inline void slio_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(slio_fclosep)

/* Declare a cleanup helper for a type with a NULL-accepting free function. */
#define SLIO_DEFINE_CLEANUP(type, func)                                                            \
    static inline void func##p(type *p)                                                            \
    {                                                                                              \
        if (*p)                                                                                    \
            func(*p);                                                                              \
    }

/* errno → negative errno, never 0 (for calls that set errno on failure). */
static inline int slio_neg_errno(void)
{
    return errno > 0 ? -errno : -EIO;
}

#endif
