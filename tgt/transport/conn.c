/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One NVMe/TCP connection (= one queue pair): its lifetime, its request
 * pool, and what happens between a received PDU and tgt_nvmf_exec(). The
 * byte-level receive state machine is in conn_recv.c, the send queue in
 * conn_send.c, command capsules and H2C data in conn_cmd.c.
 *
 * Memory: the request pool is allocated once at accept for the largest
 * queue the transport allows (max of max_queue_depth and max_aq_depth); the
 * Connect's SQSIZE is not known yet then. The data buffers of all requests
 * are one mapping made at the same time, a max_io_size slot per request,
 * reserved but not committed (MAP_NORESERVE): the I/O path never allocates,
 * and a slot costs physical memory only once a command has used it, so idle
 * connections do not pin queue depth × max_io_size.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <endian.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

static struct slio_ratelimit g_close_rl = SLIO_RATELIMIT_INIT(1000000, 10);

static void fill_peer(struct tgt_conn *c)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[INET6_ADDRSTRLEN], port[8];

    snprintf(c->qp.peer, sizeof(c->qp.peer), "local");
    if (getpeername(c->fd, (struct sockaddr *)&ss, &sl) < 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return;
    if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(c->qp.peer, sizeof(c->qp.peer), "%s:%s", host, port);
}

static int pool_create(struct tgt_conn *c)
{
    const struct tgt_transport_opts *o = tgt_transport_get_opts();

    c->nreqs = SLIO_MAX(o->max_queue_depth, o->max_aq_depth);
    c->reqs = calloc(c->nreqs, sizeof(*c->reqs));
    c->cid_map = calloc(65536 / 64, sizeof(uint64_t));
    c->rbuf = malloc(CONN_RBUF_SIZE);
    if (!c->reqs || !c->cid_map || !c->rbuf)
        return -ENOMEM;
    /* in-capsule data on the admin queue may exceed a small max_io_size */
    size_t slot = SLIO_DIV_ROUND_UP(
        (size_t)SLIO_MAX(SLIO_MAX(o->max_io_size, o->in_capsule_data_size), CONN_ADMIN_ICD), 4096);
    slot *= 4096;
    c->bufs_len = slot * c->nreqs;
    c->bufs = mmap(NULL, c->bufs_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (c->bufs == MAP_FAILED) {
        c->bufs = NULL;
        return -ENOMEM;
    }
    for (uint32_t i = c->nreqs; i-- > 0;) {
        struct tcp_req *t = &c->reqs[i];
        t->buf = (uint8_t *)c->bufs + (size_t)i * slot; /* page-aligned: O_DIRECT works */
        t->buf_cap = (uint32_t)slot;
        t->conn = c;
        t->idx = (uint16_t)i;
        t->req.qpair = &c->qp;
        tlist_init(&t->defer_link);
        t->next_free = c->free_reqs;
        c->free_reqs = t;
    }
    c->nfree = c->nreqs;
    return 0;
}

static void pool_free(struct tgt_conn *c)
{
    if (c->bufs)
        munmap(c->bufs, c->bufs_len);
    free(c->reqs);
    free(c->cid_map);
    free(c->rbuf);
}

struct tgt_conn *conn_create(struct tgt_reactor *r, int fd, const struct tgt_listen_addr *local)
{
    struct tgt_conn *c = calloc(1, sizeof(*c));

    if (!c || pool_create(c) < 0)
        goto out_free;
    c->ev.kind = EV_CONN;
    c->r = r;
    c->fd = fd;
    c->qp.reactor = r;
    c->qp.local = *local;
    c->qp.connected_at_us = c->accepted_us = tgt_now_us();
    c->rx_state = RX_IC_REQ;
    c->rhdr_need = sizeof(struct nvme_tcp_hdr);
    c->tx_tail = &c->tx_head;
    c->tx_ready = true;
    tlist_init(&c->active);
    tlist_init(&c->flush);
    fill_peer(c);
    if (r->uring) {
        /* receives and sends are ring operations; the first receive is armed by conn_rx() */
        c->ring = true;
        c->rx_op.conn = c->tx_op.conn = c;
        conn_mark_active(c);
    } else if (reactor_ev_add(r, fd, &c->ev, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
        goto out_free;
    }
    tlist_add_tail(&r->conns, &c->link);
    if (r->nconns++ == 0)
        r->next_tick_us = tgt_now_us() + 10000;
    log_debug("qpair %s: connected", c->qp.peer);
    return c;

out_free:
    if (c)
        pool_free(c);
    free(c);
    log_error("connection from fd %d: out of memory", fd);
    return NULL;
}

static void stats_on_close(struct tgt_conn *c)
{
    if (!c->counted)
        return;
    reactor_stat_add(c->qp.qid == 0 ? &c->r->st_cur_admin : &c->r->st_cur_io, -1);
}

void conn_close(struct tgt_conn *c, const char *why)
{
    if (c->closing)
        return;
    c->closing = true;
    if (why)
        log_ratelimited(&g_close_rl, SLIO_LOG_INFO, "qpair %s (qid %u): closing: %s", c->qp.peer,
                        c->qp.qid, why);
    if (!c->ring) {
        reactor_ev_del(c->r, c->fd, &c->ev);
    } else if (c->net_pending) {
        /*
         * Ring operations in flight end now (a receive returns 0, a send
         * EPIPE). The descriptor stays open until they have completed, so that
         * its number cannot be reused under an operation not yet submitted.
         */
        (void)shutdown(c->fd, SHUT_RDWR);
    }
    if (!c->net_pending) {
        close(c->fd);
        c->fd = -1;
    }
    tgt_nvmf_qpair_fini(&c->qp);
    reactor_defer_cancel_conn(c->r, c);
    stats_on_close(c);
    tlist_del(&c->active);
    tlist_del(&c->flush);
    tlist_del(&c->link);
    tlist_add_tail(&c->r->gone, &c->link);
    c->r->nconns--;
    c->tx_head = NULL;
    c->tx_tail = &c->tx_head;
    /* Requests with backing I/O in flight stay until their completion; the rest are dropped. */
    for (uint32_t i = 0; i < c->nreqs; i++)
        if (c->reqs[i].state != TREQ_FREE && !c->reqs[i].bio_pending)
            c->reqs[i].state = TREQ_FREE;
}

/* The response that pointed into a bdev's mapping is sent (or dropped): let the bdev go. */
static void req_unmap(struct tcp_req *t)
{
    if (t->mapped) {
        tgt_bdev_put(t->mapped);
        t->mapped = NULL;
    }
}

void conn_free(struct tgt_conn *c)
{
    /* the socket's operations are over: the kernel no longer reads from any mapping */
    for (uint32_t i = 0; i < c->nreqs; i++)
        req_unmap(&c->reqs[i]);
    if (c->fd >= 0)
        close(c->fd);
    if (c->src_held)
        conn_limits_release(&c->src);
    pool_free(c);
    free(c);
}

void conn_on_event(struct tgt_conn *c, uint32_t events)
{
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->rx_ready = true;
    /*
     * Edge-triggered: a hang-up reported with the last bytes is not reported
     * again, so remember it (conn_rx reads on to the end of the stream).
     * Gone both ways, or reset: nothing more can be sent either, so close
     * now, even when receiving is paused for want of a free request.
     */
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->rx_hup = true;
    if ((events & (EPOLLHUP | EPOLLERR)) && c->rx_blocked) {
        conn_close(c, "connection closed by the host");
        return;
    }
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
        c->tx_ready = true;
        if (c->tx_head)
            conn_mark_flush(c);
    }
    conn_mark_active(c);
}

void conn_net_done(struct net_op *op, int res)
{
    struct tgt_conn *c = op->conn;

    op->busy = false;
    c->net_pending--;
    if (c->closing)
        return; /* free_gone() frees the connection once nothing is in flight */
    if (op == &c->rx_op)
        conn_rx_ring_done(c, res);
    else
        conn_tx_ring_done(c, res);
}

bool conn_process(struct tgt_conn *c)
{
    if (c->closing || c->rx_blocked)
        return false;
    conn_rx(c);
    /* still readable within budget: come back next iteration (others get their turn first) */
    if (!c->closing && !c->rx_blocked && (c->rx_ready || c->rpos < c->rend))
        conn_mark_active(c);
    return true;
}

void conn_tick(struct tgt_conn *c, uint64_t now_us)
{
    if (c->term_queued) {
        if (now_us - c->term_at_us > CONN_TERM_WAIT_US)
            conn_close(c, "terminated (TermReq not read by the host)");
        return;
    }
    if (!conn_deadlines(c, now_us))
        return;
    if (!tgt_nvmf_qpair_tick(&c->qp, now_us))
        conn_close(c, "closed by the controller (keep-alive or teardown)");
}

/* ---- requests ---- */
struct tcp_req *conn_req_get(struct tgt_conn *c)
{
    struct tcp_req *t = c->free_reqs;

    c->free_reqs = t->next_free;
    c->nfree--;
    t->next_free = NULL;
    return t;
}

void conn_req_release(struct tcp_req *t)
{
    struct tgt_conn *c = t->conn;

    req_unmap(t);
    if (t->cid_held) {
        uint16_t cid = t->req.cmd.cid;
        c->cid_map[cid / 64] &= ~(1ull << (cid % 64));
        t->cid_held = false;
    }
    t->state = TREQ_FREE;
    if (c->closing)
        return; /* the pool goes away with the connection */
    t->next_free = c->free_reqs;
    c->free_reqs = t;
    c->nfree++;
    if (c->rx_blocked) {
        c->rx_blocked = false;
        conn_mark_active(c);
    }
}

static void count_qpair(struct tgt_conn *c)
{
    struct tgt_reactor *r = c->r;

    c->counted = true;
    reactor_stat_add(c->qp.qid == 0 ? &r->st_admin : &r->st_io, 1);
    reactor_stat_add(c->qp.qid == 0 ? &r->st_cur_admin : &r->st_cur_io, 1);
}

void conn_req_exec(struct tcp_req *t)
{
    t->state = TREQ_EXEC;
    reactor_stat_add(&t->conn->r->st_requests, 1);
    if (tgt_nvmf_exec(&t->req) == TGT_EXEC_DONE)
        conn_req_respond(t);
}

void tgt_req_complete(struct tgt_req *req)
{
    struct tcp_req *t = tcp_req_of(req);

    if (t->conn->closing) {
        t->state = TREQ_FREE;
        return;
    }
    conn_req_respond(t);
}

void conn_req_respond(struct tcp_req *t)
{
    struct tgt_conn *c = t->conn;

    if (c->closing) {
        conn_req_release(t);
        return;
    }
    if (!c->counted && c->qp.ctrlr)
        count_qpair(c);
    reactor_stat_add(&c->r->st_completions, 1);
    t->state = TREQ_TX;
    if (t->req.xfer == TGT_XFER_C2H && t->req.status == 0 && t->req.length > 0 && t->req.data) {
        t->c2h_off = 0;
        conn_tx_c2h(t);
    } else {
        conn_tx_rsp(t);
    }
}

/* ---- the ICReq ---- */
void conn_handle_ic(struct tgt_conn *c)
{
    const struct nvme_tcp_icreq *ic = (const void *)c->rhdr;
    const struct tgt_transport_opts *o = tgt_transport_get_opts();

    if (le16toh(ic->pfv) != 0) {
        conn_term(c, NVME_TCP_FES_UNSUPPORTED_PARAM, offsetof(struct nvme_tcp_icreq, pfv));
        return;
    }
    if (ic->hpda > 31) {
        conn_term(c, NVME_TCP_FES_UNSUPPORTED_PARAM, offsetof(struct nvme_tcp_icreq, hpda));
        return;
    }
    c->params.hdgst = ic->digest & NVME_TCP_HDGST_ENABLE;
    c->params.ddgst = ic->digest & NVME_TCP_DDGST_ENABLE;
    c->params.ic_done = true;
    c->ic_done_us = tgt_now_us();
    c->maxh2cdata = o->io_unit_size;
    c->params.max_data =
        SLIO_MAX(o->io_unit_size, SLIO_MAX(o->in_capsule_data_size, CONN_ADMIN_ICD));
    /* our C2HData data must start at a multiple of (HPDA + 1) dwords */
    uint32_t align = ((uint32_t)ic->hpda + 1) * 4;
    uint32_t hdr = NVME_TCP_DATA_HLEN + (c->params.hdgst ? NVME_TCP_DIGEST_LEN : 0);
    c->c2h_pdo = SLIO_DIV_ROUND_UP(hdr, align) * align;
    /* MAXR2T is not limiting: we issue one R2T per command, for its whole transfer */
    conn_tx_icresp(c, ic->digest & (NVME_TCP_HDGST_ENABLE | NVME_TCP_DDGST_ENABLE));
    log_debug("qpair %s: ICReq hpda %u digest %#x maxr2t %u", c->qp.peer, ic->hpda, ic->digest,
              le32toh(ic->maxr2t));
}

void conn_term(struct tgt_conn *c, uint16_t fes, uint32_t fei)
{
    uint32_t echo = SLIO_MIN(c->rhdr_have, NVME_TCP_TERM_MAX_DATA);

    log_ratelimited(&g_close_rl, SLIO_LOG_WARN,
                    "qpair %s: protocol error (PDU type %#x): fatal error status %#x at byte %u",
                    c->qp.peer, c->rhdr[0], fes, fei);
    c->rx_state = RX_ERROR;
    if (c->term_queued)
        return;
    c->term_queued = true;
    c->term_at_us = tgt_now_us();
    conn_tx_term(c, fes, fei, c->rhdr, echo);
}

size_t conn_rx_feed(struct tgt_conn *c, const uint8_t *p, size_t n)
{
    size_t done = 0;

    while (done < n && !c->closing && !c->rx_blocked) {
        unsigned pdus = 0;
        size_t k = conn_rx_consume(c, p + done, n - done, &pdus);
        if (k == 0)
            break;
        done += k;
    }
    return done;
}
