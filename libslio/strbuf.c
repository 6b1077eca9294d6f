/* SPDX-License-Identifier: Apache-2.0 */
/* Capped growable buffer; see include/slio/strbuf.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "slio/strbuf.h"

#define MIN_ALLOC 64

void slio_strbuf_init(struct slio_strbuf *sb, size_t max_len)
{
    *sb = (struct slio_strbuf){.max = max_len};
}

void slio_strbuf_free(struct slio_strbuf *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = 0;
    sb->alloc = 0;
}

void slio_strbuf_reset(struct slio_strbuf *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
}

/* Make room for `extra` more content bytes plus the NUL. */
static int reserve(struct slio_strbuf *sb, size_t extra)
{
    size_t need, n;
    char *p;

    if (extra > sb->max || sb->len > sb->max - extra)
        return -ENOBUFS;
    need = sb->len + extra + 1;
    if (need <= sb->alloc)
        return 0;
    /* double, but never beyond what the cap can use */
    n = sb->alloc ? sb->alloc : MIN_ALLOC;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    if (sb->max < SIZE_MAX && n > sb->max + 1)
        n = sb->max + 1;
    p = realloc(sb->buf, n);
    if (!p)
        return -ENOMEM;
    sb->buf = p;
    sb->alloc = n;
    return 0;
}

int slio_strbuf_append(struct slio_strbuf *sb, const void *data, size_t len)
{
    int r = reserve(sb, len);

    if (r < 0)
        return r;
    if (len)
        memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
    return 0;
}

int slio_strbuf_appends(struct slio_strbuf *sb, const char *s)
{
    return slio_strbuf_append(sb, s, strlen(s));
}

int slio_strbuf_vappendf(struct slio_strbuf *sb, const char *fmt, va_list ap)
{
    va_list aq;
    int n, r;

    va_copy(aq, ap);
    n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        return -EINVAL;
    r = reserve(sb, (size_t)n);
    if (r < 0)
        return r;
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
    return 0;
}

int slio_strbuf_appendf(struct slio_strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = slio_strbuf_vappendf(sb, fmt, ap);
    va_end(ap);
    return r;
}

const char *slio_strbuf_str(const struct slio_strbuf *sb)
{
    return sb->buf ? sb->buf : "";
}

char *slio_strbuf_steal(struct slio_strbuf *sb, size_t *ret_len)
{
    char *p = sb->buf;
    size_t len = sb->len;

    if (!p) {
        p = strdup("");
        if (!p)
            return NULL;
        len = 0;
    }
    sb->buf = NULL;
    sb->len = 0;
    sb->alloc = 0;
    if (ret_len)
        *ret_len = len;
    return p;
}
