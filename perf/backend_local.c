/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Engine backend for a local file or block device: one io_uring per worker,
 * O_DIRECT when the file system accepts it, FUA as RWF_DSYNC. Submissions are
 * queued as SQEs and handed to the kernel in one io_uring_submit per poll.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"

struct local_ctx {
    int fd;
    char path[256];
};

struct local_chan {
    struct io_uring ring;
    int fd;
    char err[256];
};

static int local_open_chan(void *ctx, unsigned idx, unsigned qd, uint32_t max_io, void **ret_chan,
                           char *err, size_t errlen)
{
    struct local_ctx *c = ctx;
    struct local_chan *ch = calloc(1, sizeof(*ch));

    if (!ch)
        return -ENOMEM;
    int r = io_uring_queue_init(qd, &ch->ring, 0);
    if (r < 0) {
        snprintf(err, errlen, "worker %u: io_uring_queue_init(%u) on \"%s\": %s", idx, qd, c->path,
                 strerror(-r));
        free(ch);
        return r;
    }
    ch->fd = c->fd;
    *ret_chan = ch;
    return 0;
}

static int local_submit(void *chan, struct perf_io *io)
{
    struct local_chan *ch = chan;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ch->ring);

    if (!sqe) {
        int r = io_uring_submit(&ch->ring);
        sqe = r >= 0 ? io_uring_get_sqe(&ch->ring) : NULL;
        if (!sqe) {
            snprintf(ch->err, sizeof(ch->err), "io_uring: no free SQE (%s)",
                     strerror(r < 0 ? -r : EBUSY));
            return r < 0 ? r : -EBUSY;
        }
    }
    if (io->write)
        io_uring_prep_write(sqe, ch->fd, io->buf, io->len, io->offset);
    else
        io_uring_prep_read(sqe, ch->fd, io->buf, io->len, io->offset);
    if (io->fua)
        sqe->rw_flags = RWF_DSYNC;
    io_uring_sqe_set_data(sqe, io);
    return 0;
}

static int local_poll(void *chan, int timeout_ms)
{
    struct local_chan *ch = chan;
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    int r;

    if (timeout_ms != 0) {
        struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000,
                                       .tv_nsec = (long long)(timeout_ms % 1000) * 1000000};
        r = io_uring_submit_and_wait_timeout(&ch->ring, &cqe, 1, timeout_ms > 0 ? &ts : NULL, NULL);
    } else {
        r = io_uring_submit(&ch->ring);
    }
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
        snprintf(ch->err, sizeof(ch->err), "io_uring_submit: %s", strerror(-r));
        return r;
    }
    io_uring_for_each_cqe(&ch->ring, head, cqe)
    {
        struct perf_io *io = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        int status = res < 0 ? res : ((uint32_t)res == io->len ? 0 : -EIO);
        if (status < 0)
            snprintf(ch->err, sizeof(ch->err), "%s at offset %llu: %s",
                     io->write ? "write" : "read", (unsigned long long)io->offset,
                     res < 0 ? strerror(-res) : "short transfer");
        n++;
        perf_io_complete(io, status);
    }
    io_uring_cq_advance(&ch->ring, n);
    return (int)n;
}

static void local_close_chan(void *chan)
{
    struct local_chan *ch = chan;

    io_uring_queue_exit(&ch->ring);
    free(ch);
}

static const char *local_chan_error(void *chan)
{
    struct local_chan *ch = chan;

    return ch->err[0] ? ch->err : "no error";
}

static const struct perf_backend_ops local_ops = {
    .name = "local",
    .open_chan = local_open_chan,
    .submit = local_submit,
    .poll = local_poll,
    .close_chan = local_close_chan,
    .chan_error = local_chan_error,
};

static int device_geometry(int fd, const char *path, uint64_t *ret_size, uint32_t *ret_lbs,
                           char *err, size_t errlen)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "\"%s\": stat: %s", path, strerror(errno));
        return slio_neg_errno();
    }
    if (S_ISBLK(st.st_mode)) {
        uint64_t size = 0;
        int lbs = 0;
        if (ioctl(fd, BLKGETSIZE64, &size) < 0 || ioctl(fd, BLKSSZGET, &lbs) < 0) {
            snprintf(err, errlen, "\"%s\": block device geometry: %s", path, strerror(errno));
            return slio_neg_errno();
        }
        *ret_size = size;
        *ret_lbs = (uint32_t)lbs;
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "\"%s\": not a regular file or block device", path);
        return -EINVAL;
    }
    *ret_size = (uint64_t)st.st_size;
    *ret_lbs = 512;
    return 0;
}

int perf_backend_local_open(const char *path, bool write, struct perf_backend *ret_be,
                            bool *ret_direct, char *err, size_t errlen)
{
    int flags = (write ? O_RDWR : O_RDONLY) | O_CLOEXEC;
    bool direct = true;
    _cleanup_close_ int fd = open(path, flags | O_DIRECT);

    if (fd < 0 && errno == EINVAL) { /* file system without O_DIRECT */
        direct = false;
        fd = open(path, flags);
    }
    if (fd < 0) {
        snprintf(err, errlen, "\"%s\": %s", path, strerror(errno));
        return slio_neg_errno();
    }
    uint64_t size = 0;
    uint32_t lbs = 0;
    int r = device_geometry(fd, path, &size, &lbs, err, errlen);
    if (r < 0)
        return r;
    struct local_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    snprintf(c->path, sizeof(c->path), "%s", path);
    c->fd = TAKE_FD(fd);
    *ret_be = (struct perf_backend){
        .ops = &local_ops,
        .ctx = c,
        .size = size,
        .block_size = lbs,
        .max_io = 1u << 20,
        .max_qd = 4096,
    };
    *ret_direct = direct;
    return 0;
}

void perf_backend_local_close(struct perf_backend *be)
{
    struct local_ctx *c = be->ctx;

    if (c) {
        close(c->fd);
        free(c);
    }
    be->ctx = NULL;
}
