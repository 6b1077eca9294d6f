/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded whole-file reads. The size is not trusted from fstat() (sysfs and
 * /proc report 4096 or 0): we read until EOF and stop one byte past the cap.
 */
#include <fcntl.h>
#include <string.h>

#include "slio/fileio.h"
#include "slio/strbuf.h"

int slio_read_file(const char *path, size_t max_len, char **ret_buf, size_t *ret_len)
{
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(max_len);
    _cleanup_close_ int fd = -1;
    char chunk[16384];
    int r;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return slio_neg_errno();
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return slio_neg_errno();
        if (n == 0)
            break;
        r = slio_strbuf_append(&sb, chunk, (size_t)n);
        if (r == -ENOBUFS)
            return -EFBIG;
        if (r < 0)
            return r;
    }
    size_t len = sb.len;
    char *buf = slio_strbuf_steal(&sb, NULL);
    if (!buf)
        return -ENOMEM;
    *ret_buf = buf;
    if (ret_len)
        *ret_len = len;
    return 0;
}
