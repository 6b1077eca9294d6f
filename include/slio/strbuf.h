/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capped growable buffer (the idea of curl's dynbuf): the maximum content
 * length is fixed at init, so a peer or a child process can never make us
 * grow without bound. The content is always NUL-terminated (the NUL is not
 * counted in len) but may itself contain NUL bytes when filled with
 * slio_strbuf_append().
 *
 * Every append either adds all of its bytes or none: on -ENOBUFS (the cap
 * would be exceeded) and -ENOMEM the content is unchanged.
 * Not thread-safe; one owner at a time.
 */
#ifndef SLIO_STRBUF_H
#define SLIO_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "slio/cleanup.h"

struct slio_strbuf {
    char *buf;    /* NULL until the first append */
    size_t len;   /* content bytes, without the trailing NUL */
    size_t alloc; /* bytes allocated for buf */
    size_t max;   /* content never grows beyond this */
};

#define SLIO_STRBUF_INIT(max_len)                                                                  \
    {                                                                                              \
        .max = (max_len)                                                                           \
    }

void slio_strbuf_init(struct slio_strbuf *sb, size_t max_len);
/* Release the memory; the buffer is empty (and reusable with the same cap). */
void slio_strbuf_free(struct slio_strbuf *sb);
/* Empty the content but keep the allocation. */
void slio_strbuf_reset(struct slio_strbuf *sb);

int slio_strbuf_append(struct slio_strbuf *sb, const void *data, size_t len) _must_check_;
int slio_strbuf_appends(struct slio_strbuf *sb, const char *s) _must_check_;
int slio_strbuf_appendf(struct slio_strbuf *sb, const char *fmt, ...) _printf_(2, 3) _must_check_;
int slio_strbuf_vappendf(struct slio_strbuf *sb, const char *fmt, va_list ap)
    _printf_(2, 0) _must_check_;

/* The content ("" when empty); valid until the next modifying call. */
const char *slio_strbuf_str(const struct slio_strbuf *sb);
static inline size_t slio_strbuf_len(const struct slio_strbuf *sb)
{
    return sb->len;
}

/*
 * Hand the content to the caller (free() it) and leave the buffer empty.
 * Returns NULL only when out of memory (for an empty buffer that was never
 * allocated a fresh "" is returned). ret_len may be NULL.
 */
char *slio_strbuf_steal(struct slio_strbuf *sb, size_t *ret_len);

static inline void slio_strbuf_freep(struct slio_strbuf *sb)
{
    slio_strbuf_free(sb);
}
#define _cleanup_strbuf_ _cleanup_(slio_strbuf_freep)

#endif
