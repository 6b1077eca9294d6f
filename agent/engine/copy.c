/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data copy behind thick clones (lvm) and clones/snapshots on
 * filesystems without reflink (file). Chunked pread/pwrite with progress;
 * zero chunks are skipped when the destination already reads zeroes.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "engine_internal.h"

#define PROGRESS_EVERY (64ull << 20)

static bool all_zero(const unsigned char *p, size_t n)
{
    static const unsigned char zero[4096];

    for (size_t off = 0; off < n; off += sizeof(zero)) {
        size_t k = SLIO_MIN(n - off, sizeof(zero));
        if (memcmp(p + off, zero, k) != 0)
            return false;
    }
    return true;
}

static int read_full(int fd, unsigned char *buf, size_t n, uint64_t off, struct slio_err *err)
{
    size_t got = 0;

    while (got < n) {
        ssize_t k = pread(fd, buf + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int r = slio_neg_errno();
            slio_err_set(err, "copy: read at %llu: %s", (unsigned long long)(off + got),
                         strerror(-r));
            return r;
        }
        if (k == 0) { /* a source shorter than announced reads as zeroes */
            memset(buf + got, 0, n - got);
            return 0;
        }
        got += (size_t)k;
    }
    return 0;
}

static int write_full(int fd, const unsigned char *buf, size_t n, uint64_t off,
                      struct slio_err *err)
{
    size_t put = 0;

    while (put < n) {
        ssize_t k = pwrite(fd, buf + put, n - put, (off_t)(off + put));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int r = k < 0 ? slio_neg_errno() : -EIO;
            slio_err_set(err, "copy: write at %llu: %s", (unsigned long long)(off + put),
                         strerror(-r));
            return r;
        }
        put += (size_t)k;
    }
    return 0;
}

/* Next offset >= off holding data in a regular file (holes need no copy). */
static uint64_t next_data(int fd, uint64_t off, uint64_t total)
{
    off_t d = lseek(fd, (off_t)off, SEEK_DATA);

    if (d < 0)
        return errno == ENXIO ? total : off; /* ENXIO: only a hole is left */
    return (uint64_t)d;
}

int agent_copy_data(int src_fd, int dst_fd, uint64_t total, bool skip_zero,
                    agent_progress_fn progress, void *progress_ctx, struct slio_err *err)
{
    _cleanup_free_ unsigned char *buf = malloc(AGENT_COPY_CHUNK);
    struct stat st;
    bool sparse_src = fstat(src_fd, &st) == 0 && S_ISREG(st.st_mode) && skip_zero;
    uint64_t off = 0, reported = 0;
    int r;

    if (!buf)
        return -ENOMEM;
    while (off < total) {
        size_t n;

        if (sparse_src) {
            off = next_data(src_fd, off, total) / AGENT_COPY_CHUNK * AGENT_COPY_CHUNK;
            if (off >= total)
                break;
        }
        n = (size_t)SLIO_MIN((uint64_t)AGENT_COPY_CHUNK, total - off);
        r = read_full(src_fd, buf, n, off, err);
        if (r == 0 && !(skip_zero && all_zero(buf, n)))
            r = write_full(dst_fd, buf, n, off, err);
        if (r < 0)
            return r;
        off += n;
        if (progress && off - reported >= PROGRESS_EVERY && off < total) {
            progress(progress_ctx, off, total);
            reported = off;
        }
    }
    if (fdatasync(dst_fd) < 0 && errno != EINVAL) {
        r = slio_neg_errno();
        slio_err_set(err, "copy: fdatasync: %s", strerror(-r));
        return r;
    }
    if (progress)
        progress(progress_ctx, total, total);
    return 0;
}
