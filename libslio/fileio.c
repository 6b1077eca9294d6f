/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded whole-file reads. The size is not trusted from fstat() (sysfs and
 * /proc report 4096 or 0): we read until EOF and stop one byte past the cap.
 */
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int slio_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return slio_neg_errno();
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync the directory holding path so that a rename into it is durable */
static int sync_parent_dir(const char *path)
{
    char dir[4096];
    size_t n = strlen(path);

    if (n >= sizeof(dir))
        return -ENAMETOOLONG;
    memcpy(dir, path, n + 1);
    _cleanup_close_ int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return slio_neg_errno();
    return fsync(fd) < 0 ? slio_neg_errno() : 0;
}

int slio_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
    char tmp[4096];
    int r;

    if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return slio_neg_errno();
    r = fchmod(fd, mode) < 0 ? slio_neg_errno() : 0;
    if (r == 0)
        r = slio_write_all(fd, buf, len);
    if (r == 0 && fsync(fd) < 0)
        r = slio_neg_errno();
    if (close(fd) < 0 && r == 0)
        r = slio_neg_errno();
    if (r == 0 && rename(tmp, path) < 0)
        r = slio_neg_errno();
    if (r < 0) {
        unlink(tmp);
        return r;
    }
    return sync_parent_dir(path);
}
