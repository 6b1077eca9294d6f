/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One host queue = one TCP connection: connect and ICReq/ICResp, the
 * CID-indexed request table, send batching (PDUs are gathered as iovecs and
 * written with one sendmsg per poll), R2T → H2CData, and the poll loop that
 * delivers completions. The receive state machine is in rx.c.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "host_int.h"
#include "slio/nvme_auth.h"

uint64_t host_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void host_queue_set_err(struct slio_host_queue *q, const char *fmt, ...)
{
    char msg[SLIO_HOST_ERR_LEN - 32]; /* room for the "queue N (admin): " prefix */
    va_list ap;

    if (q->dead)
        return; /* keep the first cause */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(q->err, sizeof(q->err), "queue %u%s: %s", q->qid, q->qid ? "" : " (admin)", msg);
}

const char *host_status_str(int status, char *buf, size_t len)
{
    if (status < 0)
        snprintf(buf, len, "transport error: %s", strerror(-status));
    else
        snprintf(buf, len, "NVMe status SCT 0x%x SC 0x%02x%s", (status >> 8) & 0x7, status & 0xff,
                 (status & NVME_STATUS_DNR) ? " DNR" : "");
    return buf;
}

static int tcp_connect(const struct host_queue_cfg *cfg, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int r = getaddrinfo(cfg->traddr, cfg->trsvcid, &hints, &res);

    if (r != 0) {
        snprintf(err, errlen, "queue %u: cannot resolve \"%s\" port \"%s\": %s", cfg->qid,
                 cfg->traddr, cfg->trsvcid, gai_strerror(r));
        return -EINVAL;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        r = slio_neg_errno();
        freeaddrinfo(res);
        snprintf(err, errlen, "queue %u: socket: %s", cfg->qid, strerror(-r));
        return r;
    }
    r = connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (r < 0 && errno == EINPROGRESS) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        r = poll(&pfd, 1, (int)cfg->timeout_ms);
        if (r == 0)
            soerr = ETIMEDOUT;
        else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        errno = soerr;
        r = soerr ? -1 : 0;
    }
    if (r < 0) {
        r = slio_neg_errno();
        snprintf(err, errlen, "queue %u: connect to %s port %s: %s", cfg->qid, cfg->traddr,
                 cfg->trsvcid, strerror(-r));
        close(fd);
        return r;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int queue_alloc(const struct host_queue_cfg *cfg, struct slio_host_queue **ret_q)
{
    struct slio_host_queue *q = calloc(1, sizeof(*q));

    if (!q)
        return -ENOMEM;
    q->fd = -1;
    q->qid = cfg->qid;
    q->qd = cfg->qd;
    q->max_xfer = cfg->max_xfer;
    q->icd = cfg->icd;
    q->timeout_ms = cfg->timeout_ms;
    q->want_hdgst = cfg->hdgst;
    q->want_ddgst = cfg->ddgst;
    q->reqs = calloc(q->qd, sizeof(*q->reqs));
    q->free_cids = calloc(q->qd, sizeof(*q->free_cids));
    q->done.cids = calloc(q->qd, sizeof(uint16_t));
    q->r2t.cids = calloc(q->qd, sizeof(uint16_t));
    q->rbuf = malloc(HOST_RBUF_SIZE);
    if (!q->reqs || !q->free_cids || !q->done.cids || !q->r2t.cids || !q->rbuf) {
        slio_host_queue_free(q);
        return -ENOMEM;
    }
    q->done.size = q->r2t.size = q->qd;
    for (uint32_t i = 0; i < q->qd; i++)
        q->free_cids[i] = (uint16_t)(q->qd - 1 - i);
    q->n_free = q->qd;
    *ret_q = q;
    return 0;
}

void slio_host_queue_free(struct slio_host_queue *q)
{
    if (!q)
        return;
    if (q->fd >= 0)
        close(q->fd);
    free(q->reqs);
    free(q->free_cids);
    free(q->done.cids);
    free(q->r2t.cids);
    free(q->h2c);
    free(q->rbuf);
    free(q);
}

const char *slio_host_queue_error(const struct slio_host_queue *q)
{
    return q->err[0] ? q->err : "no error";
}

uint16_t slio_host_queue_id(const struct slio_host_queue *q)
{
    return q->qid;
}

void slio_host_queue_set_polling(struct slio_host_queue *q, const struct slio_host_poll_opts *o)
{
    q->poll = *o;
}

uint32_t slio_host_queue_inflight(const struct slio_host_queue *q)
{
    return q->qd - q->n_free;
}

static void die(struct slio_host_queue *q, int err, const char *what)
{
    host_queue_set_err(q, "%s: %s", what, strerror(err));
    q->dead = true;
    q->dead_errno = err;
}

/* Wait for the socket; returns >0 ready, 0 timeout, <0 the queue died. */
static int wait_fd_us(struct slio_host_queue *q, short events, uint64_t timeout_us)
{
    struct pollfd pfd = {.fd = q->fd, .events = events};
    struct timespec ts = {.tv_sec = (time_t)(timeout_us / 1000000u),
                          .tv_nsec = (long)(timeout_us % 1000000u) * 1000};
    int r = ppoll(&pfd, 1, &ts, NULL);

    if (r < 0 && errno != EINTR) {
        die(q, errno, "poll");
        return -q->dead_errno;
    }
    return r > 0 ? pfd.revents : 0;
}

/* Write all gathered iovecs, receiving meanwhile so neither side's buffers can deadlock. */
static int flush_send(struct slio_host_queue *q)
{
    uint64_t last_progress = host_now_us();

    while (q->iov_sent < q->n_iov && !q->dead) {
        struct msghdr msg = {.msg_iov = q->iov + q->iov_sent,
                             .msg_iovlen = SLIO_MIN(q->n_iov - q->iov_sent, 1024u)};
        ssize_t n = sendmsg(q->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            die(q, errno, "send");
            break;
        }
        if (n > 0) {
            last_progress = host_now_us();
            while (n > 0) {
                struct iovec *v = &q->iov[q->iov_sent];
                size_t k = SLIO_MIN((size_t)n, v->iov_len);
                v->iov_base = (uint8_t *)v->iov_base + k;
                v->iov_len -= k;
                n -= (ssize_t)k;
                if (v->iov_len == 0)
                    q->iov_sent++;
            }
            continue;
        }
        if (host_now_us() - last_progress > (uint64_t)q->timeout_ms * 1000u) {
            die(q, ETIMEDOUT, "send stalled");
            break;
        }
        int ev = wait_fd_us(q, POLLIN | POLLOUT, 100000);
        if (ev > 0 && (ev & (POLLIN | POLLERR | POLLHUP)))
            (void)host_rx(q);
    }
    if (q->dead)
        return -q->dead_errno;
    q->n_iov = q->iov_sent = 0;
    return 0;
}

static int iov_reserve(struct slio_host_queue *q, uint32_t n)
{
    if (q->n_iov + n > HOST_SEND_IOV_MAX)
        return flush_send(q);
    return 0;
}

static void iov_add(struct slio_host_queue *q, const void *base, size_t len)
{
    q->iov[q->n_iov].iov_base = (void *)base;
    q->iov[q->n_iov].iov_len = len;
    q->n_iov++;
}

int slio_host_queue_submit(struct slio_host_queue *q, const struct nvme_sqe *sqe, void *buf,
                           uint32_t len, enum slio_host_dir dir, slio_host_cb cb, void *cb_arg)
{
    if (q->dead)
        return -EPIPE;
    if (len > q->max_xfer || (len > 0 && dir == SLIO_HOST_DIR_NONE))
        return -EINVAL;
    if (q->n_free == 0)
        return -EBUSY;
    if (iov_reserve(q, 3) < 0)
        return -EPIPE;

    uint16_t cid = q->free_cids[--q->n_free];
    struct host_req *req = &q->reqs[cid];
    bool icd = dir == SLIO_HOST_DIR_H2C && len > 0 && len <= q->icd;
    struct nvme_sqe s = *sqe;

    *req = (struct host_req){
        .cb = cb, .cb_arg = cb_arg, .buf = buf, .len = len, .dir = (uint8_t)dir, .busy = true};
    s.cid = htole16(cid);
    s.flags = 0x40; /* PSDT 01b: SGL */
    memset(&s.sgl, 0, sizeof(s.sgl));
    s.sgl.length = htole32(len);
    s.sgl.type = icd ? NVME_SGL_INCAPSULE : NVME_SGL_TRANSPORT;

    if (q->poll.hybrid) {
        req->submit_us = host_now_us();
        slio_hybrid_submitted(&q->hybrid, req->submit_us);
    }
    uint32_t hdr = host_pdu_cmd(req->hdr, &s, icd ? len : 0, &q->cfg);
    iov_add(q, req->hdr, hdr);
    if (icd) {
        iov_add(q, buf, len);
        req->xfered = len;
        if (q->cfg.ddgst) {
            req->ddgst = htole32(nvme_tcp_digest(buf, len));
            iov_add(q, &req->ddgst, NVME_TCP_DIGEST_LEN);
        }
    }
    return 0;
}

int slio_host_queue_rw(struct slio_host_queue *q, bool write, uint32_t nsid, uint64_t slba,
                       uint32_t nlb, void *buf, uint32_t len, bool fua, slio_host_cb cb,
                       void *cb_arg)
{
    struct nvme_sqe sqe;

    host_sqe_rw(&sqe, write, nsid, slba, nlb, fua);
    return slio_host_queue_submit(q, &sqe, buf, len, write ? SLIO_HOST_DIR_H2C : SLIO_HOST_DIR_C2H,
                                  cb, cb_arg);
}

int slio_host_queue_flush_cmd(struct slio_host_queue *q, uint32_t nsid, slio_host_cb cb,
                              void *cb_arg)
{
    struct nvme_sqe sqe;

    host_sqe_flush(&sqe, nsid);
    return slio_host_queue_submit(q, &sqe, NULL, 0, SLIO_HOST_DIR_NONE, cb, cb_arg);
}

/* Answer one R2T with H2CData PDUs of at most MAXH2CDATA bytes each. */
static int send_r2t_data(struct slio_host_queue *q, struct host_req *req)
{
    uint16_t cid = (uint16_t)(req - q->reqs);
    uint32_t chunks = SLIO_DIV_ROUND_UP(req->r2t_len, q->maxh2cdata);

    if (chunks > q->h2c_per_req)
        return -EPROTO; /* cannot happen: r2t_len <= max_xfer was checked */
    if (iov_reserve(q, 3 * chunks) < 0)
        return -EPIPE;
    for (uint32_t i = 0, off = req->r2t_off; i < chunks; i++) {
        struct host_h2c_slot *slot = &q->h2c[(size_t)cid * q->h2c_per_req + i];
        uint32_t n = SLIO_MIN(q->maxh2cdata, req->r2t_off + req->r2t_len - off);
        uint32_t hdr =
            host_pdu_h2c_data(slot->hdr, cid, req->ttag, off, n, i == chunks - 1, &q->cfg);
        iov_add(q, slot->hdr, hdr);
        iov_add(q, req->buf + off, n);
        if (q->cfg.ddgst) {
            slot->ddgst = htole32(nvme_tcp_digest(req->buf + off, n));
            iov_add(q, &slot->ddgst, NVME_TCP_DIGEST_LEN);
        }
        off += n;
    }
    req->xfered += req->r2t_len;
    req->r2t_pending = false;
    return 0;
}

static void fail_all(struct slio_host_queue *q)
{
    for (uint32_t cid = 0; cid < q->qd; cid++) {
        struct host_req *req = &q->reqs[cid];
        if (req->busy && !req->done) {
            req->done = true;
            req->status = -q->dead_errno;
            q->done.cids[q->done.tail % q->done.size] = (uint16_t)cid;
            q->done.tail++;
        }
    }
}

/* Hand completions to their callbacks; a callback may submit again (its CID is free by then). */
static int deliver(struct slio_host_queue *q)
{
    uint64_t now = q->poll.hybrid && q->done.head != q->done.tail ? host_now_us() : 0;
    int n = 0;

    while (q->done.head != q->done.tail) {
        uint16_t cid = q->done.cids[q->done.head % q->done.size];
        struct host_req *req = &q->reqs[cid];
        slio_host_cb cb = req->cb;
        void *arg = req->cb_arg;
        int status = req->status;
        uint64_t result = req->result;

        q->done.head++;
        if (now)
            slio_hybrid_completed(&q->hybrid, req->submit_us, now);
        req->busy = false;
        q->free_cids[q->n_free++] = cid;
        if (cb)
            cb(arg, status, result);
        n++;
    }
    return n;
}

/* One round: answer R2Ts, send, receive, deliver. Returns completions delivered or -errno. */
static int progress(struct slio_host_queue *q)
{
    int n;

    do {
        while (!q->dead && q->r2t.head != q->r2t.tail) {
            struct host_req *req = &q->reqs[q->r2t.cids[q->r2t.head % q->r2t.size]];
            q->r2t.head++;
            /* the controller may have failed the command after asking for its data */
            if (!req->busy || req->done || !req->r2t_pending)
                continue;
            if (send_r2t_data(q, req) < 0)
                break;
        }
        if (!q->dead)
            (void)flush_send(q);
        if (!q->dead)
            (void)host_rx(q);
        if (q->dead)
            fail_all(q);
        n = deliver(q);
        if (q->dead)
            return -q->dead_errno;
        /* R2Ts that arrived in this round are answered at once, not after the next wait */
    } while (n == 0 && q->r2t.head != q->r2t.tail);
    return n;
}

/* How long the poll loop may block from now (UINT64_MAX: until the socket is readable). */
static uint64_t hybrid_nap_us(const struct slio_host_queue *q, uint64_t now)
{
    if (!q->poll.hybrid || slio_host_queue_inflight(q) == 0)
        return UINT64_MAX;
    return slio_hybrid_sleep_us(&q->hybrid, now);
}

int slio_host_queue_poll(struct slio_host_queue *q, int timeout_ms)
{
    uint64_t start = host_now_us();

    for (;;) {
        int n = progress(q);
        if (n != 0)
            return n;
        uint64_t now = host_now_us(), el = now - start;
        if (timeout_ms == 0 || (timeout_ms > 0 && el >= (uint64_t)timeout_ms * 1000u))
            return 0;
        if (el < q->poll.spin_us)
            continue; /* busy-poll: a blocking wake-up costs tens of µs across cores */
        uint64_t left_us = timeout_ms < 0 ? 1000000u : (uint64_t)timeout_ms * 1000u - el;
        uint64_t nap_us = hybrid_nap_us(q, now);
        if (nap_us == 0)
            continue; /* the completion is due: spin */
        int ev = wait_fd_us(q, POLLIN, SLIO_MIN(left_us, nap_us));
        if (ev < 0)
            return progress(q);
    }
}

struct sync_ctx {
    bool done;
    int status;
    uint64_t result;
};

static void sync_cb(void *arg, int status, uint64_t result)
{
    struct sync_ctx *ctx = arg;

    ctx->done = true;
    ctx->status = status;
    ctx->result = result;
}

int host_queue_exec(struct slio_host_queue *q, const struct nvme_sqe *sqe, void *buf, uint32_t len,
                    enum slio_host_dir dir, int *ret_status, uint64_t *ret_result)
{
    struct sync_ctx ctx = {0};
    uint64_t deadline = host_now_us() + (uint64_t)q->timeout_ms * 1000u;
    int r = slio_host_queue_submit(q, sqe, buf, len, dir, sync_cb, &ctx);

    if (r < 0) {
        if (r == -EPIPE)
            return -q->dead_errno;
        host_queue_set_err(q, "cannot submit opcode 0x%x: %s", sqe->opcode, strerror(-r));
        return r;
    }
    while (!ctx.done) {
        uint64_t now = host_now_us();
        if (now >= deadline) {
            die(q, ETIMEDOUT, "command timed out");
            fail_all(q);
            (void)deliver(q);
            break;
        }
        r = slio_host_queue_poll(q, (int)SLIO_DIV_ROUND_UP(deadline - now, 1000u));
        if (r < 0 && !ctx.done)
            return r;
    }
    if (ctx.status < 0)
        return ctx.status;
    *ret_status = ctx.status;
    if (ret_result)
        *ret_result = ctx.result;
    return 0;
}

static const char *connect_status_name(int status)
{
    if (((status >> 8) & 7) != 1)
        return "";
    switch (status & 0xff) {
    case 0x80:
        return " (Connect Incompatible Format)";
    case 0x81:
        return " (Connect Controller Busy)";
    case 0x82:
        return " (Connect Invalid Parameters)";
    case 0x83:
        return " (Connect Restart Discovery)";
    case 0x84:
        return " (Connect Invalid Host: host refused by the subsystem)";
    default:
        return "";
    }
}

int host_queue_fabrics_connect(struct slio_host_queue *q, const struct slio_host_opts *opts,
                               uint16_t cntlid, uint8_t cattr, uint32_t kato_ms,
                               uint16_t *ret_cntlid)
{
    struct nvmf_connect_data data;
    struct nvme_sqe sqe;
    uint64_t result = 0;
    int status = 0;
    char sbuf[96];

    memset(&data, 0, sizeof(data));
    memcpy(data.hostid, opts->hostid, sizeof(data.hostid));
    data.cntlid = htole16(cntlid);
    snprintf(data.subsysnqn, sizeof(data.subsysnqn), "%s", opts->subnqn);
    snprintf(data.hostnqn, sizeof(data.hostnqn), "%s", opts->hostnqn);
    host_sqe_connect(&sqe, q->qid, (uint16_t)(q->qd - 1), cattr, kato_ms);
    int r = host_queue_exec(q, &sqe, &data, sizeof(data), SLIO_HOST_DIR_H2C, &status, &result);
    if (r < 0)
        return r;
    if (status != 0) {
        host_queue_set_err(q, "Connect to \"%s\" as host \"%s\" failed: %s%s (IATTR/IPO 0x%x)",
                           opts->subnqn, opts->hostnqn, host_status_str(status, sbuf, sizeof(sbuf)),
                           connect_status_name(status), (uint32_t)result);
        return -ECONNREFUSED;
    }
    if (result & SLIO_CONNECT_AUTHREQ_ATR) {
        r = host_queue_authenticate(q, opts);
        if (r < 0)
            return r;
    }
    *ret_cntlid = (uint16_t)(result & 0xffff);
    return 0;
}

int host_queue_open(const struct host_queue_cfg *cfg, struct slio_host_queue **ret_q, char *err,
                    size_t errlen)
{
    struct slio_host_queue *q = NULL;
    int r = queue_alloc(cfg, &q);

    if (r < 0) {
        snprintf(err, errlen, "queue %u: out of memory", cfg->qid);
        return r;
    }
    r = tcp_connect(cfg, err, errlen);
    if (r < 0)
        goto out_free;
    q->fd = r;

    host_pdu_icreq((struct nvme_tcp_icreq *)q->ctl, cfg->hdgst, cfg->ddgst);
    iov_add(q, q->ctl, NVME_TCP_IC_LEN);
    uint64_t deadline = host_now_us() + (uint64_t)cfg->timeout_ms * 1000u;
    while (!q->params.ic_done && !q->dead) {
        if (flush_send(q) < 0 || host_rx(q) < 0 || q->params.ic_done)
            break;
        if (host_now_us() >= deadline) {
            die(q, ETIMEDOUT, "no ICResp");
            break;
        }
        (void)wait_fd_us(q, POLLIN, 100000);
    }
    if (q->dead) {
        snprintf(err, errlen, "%s", q->err);
        r = -q->dead_errno;
        goto out_free;
    }
    q->h2c_per_req = SLIO_MAX(1u, SLIO_DIV_ROUND_UP(q->max_xfer, q->maxh2cdata));
    q->h2c = calloc((size_t)q->qd * q->h2c_per_req, sizeof(*q->h2c));
    if (!q->h2c) {
        snprintf(err, errlen, "queue %u: out of memory", cfg->qid);
        r = -ENOMEM;
        goto out_free;
    }
    *ret_q = q;
    return 0;

out_free:
    slio_host_queue_free(q);
    return r;
}
