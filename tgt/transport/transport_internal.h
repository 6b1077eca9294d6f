/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to tgt/transport/: the reactor, the NVMe/TCP connection and its
 * request pool, and the backing-I/O engines. Nothing outside transport/
 * (except its unit tests and fuzzer) includes this.
 *
 * Threading: a reactor, its connections and their requests are touched only
 * by the reactor's thread. The mailbox (reactor_post_msg) and the worker pool
 * (bio_pool_submit) are the only ways in from other threads.
 */
#ifndef TGT_TRANSPORT_INTERNAL_H
#define TGT_TRANSPORT_INTERNAL_H

#include <linux/aio_abi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "nvmf/req.h"
#include "slio/hybrid_poll.h"
#include "transport/reactor.h"

struct tgt_conn;

/* ---- a minimal intrusive doubly-linked list ---- */
struct tlist {
    struct tlist *prev, *next;
};
static inline void tlist_init(struct tlist *h)
{
    h->prev = h->next = h;
}
static inline bool tlist_empty(const struct tlist *h)
{
    return h->next == h;
}
static inline void tlist_add_tail(struct tlist *h, struct tlist *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}
/* Unlink and re-initialise, so tlist_empty(n) tells whether n is on a list. */
static inline void tlist_del(struct tlist *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    tlist_init(n);
}
#define tlist_entry(ptr, type, member) SLIO_CONTAINER_OF(ptr, type, member)

/* ---- cross-thread messages ---- */
struct tgt_msg {
    struct tgt_msg *next;
    void (*fn)(void *arg);
    void *arg;
    bool heap; /* allocated by tgt_reactor_post(): freed after fn ran */
};
/* Queue m on r (any thread, never fails); fn(arg) runs on r's thread. */
void reactor_post_msg(struct tgt_reactor *r, struct tgt_msg *m);

/* What a readiness event (epoll, or a poll on the io_uring) points at. */
enum ev_kind { EV_MAILBOX, EV_LISTENER, EV_CONN, EV_AIO };
struct ev_source {
    enum ev_kind kind;
    uint32_t slot; /* io_uring engine: the poll's slot in the ring */
};
/* Watch fd (edge-triggered; EPOLL* bits). On r's thread, or before r runs. */
int reactor_ev_add(struct tgt_reactor *r, int fd, struct ev_source *src, uint32_t events);
void reactor_ev_del(struct tgt_reactor *r, int fd, struct ev_source *src);

/* ---- backing I/O ---- */
struct bio_ctx {
    struct tgt_bio bio;
    tgt_bio_cb cb;
    uint64_t done;    /* bytes already transferred (short read/write retry) */
    uint64_t ring_us; /* submitted to the ring at (reactor's iter_us); 0: not on the ring */
    int res;          /* worker pool: the result handed back */
    struct tgt_reactor *r;
    struct tgt_msg msg;        /* worker pool: completion message */
    struct bio_ctx *next_done; /* reactor's list of inline completions */
    struct iocb iocb;          /* Linux AIO request: memory files, the epoll engine's O_DIRECT */
};

/* ---- requests ---- */
enum treq_state {
    TREQ_FREE,
    TREQ_RX_CAPSULE, /* in-capsule data arriving */
    TREQ_WAIT_H2C,   /* R2T sent, H2CData arriving */
    TREQ_EXEC,       /* in the nvmf layer / backing I/O / deferred */
    TREQ_TX,         /* response (and C2H data) queued on the socket */
};

enum tx_kind { TX_CTRL, TX_R2T, TX_C2H, TX_RSP };

/* One PDU waiting in a connection's send queue. */
struct tx_pdu {
    struct tx_pdu *next;
    struct iovec iov[3]; /* header(+pad), data, data digest */
    uint8_t niov;
    uint8_t kind;
    uint32_t len; /* total bytes of iov[] */
};

#define TREQ_HDR_MAX (NVME_TCP_MAX_HLEN + NVME_TCP_DIGEST_LEN)

struct tcp_req {
    struct tgt_req req; /* what the nvmf layer sees */
    struct tgt_conn *conn;
    uint16_t idx; /* index in the pool; the R2T transfer tag */
    uint8_t state;
    bool failed;             /* status already set: respond without executing */
    bool cid_held;           /* req.cmd.cid is marked in flight */
    bool bio_pending;        /* backing I/O in flight: memory must outlive the connection */
    bool deferred;           /* on the reactor's defer list */
    uint8_t *buf;            /* data buffer: this request's slot of the connection's mapping */
    struct tgt_bdev *mapped; /* a reference while req.data points into its mapping (bio_mem.c) */
    uint32_t buf_cap;
    uint32_t h2c_off; /* H2C bytes received so far */
    uint32_t c2h_off; /* C2H bytes queued so far */
    uint64_t defer_until_us;
    struct tlist defer_link;
    struct tcp_req *next_free;
    struct bio_ctx bio;
    struct tx_pdu tx_data, tx_rsp; /* R2T or C2HData; CapsuleResp */
    uint32_t ddgst_out;
    uint8_t hdr[TREQ_HDR_MAX];                                          /* R2T / C2HData + pad */
    uint8_t rsp[sizeof(struct nvme_tcp_rsp_pdu) + NVME_TCP_DIGEST_LEN]; /* CapsuleResp */
};

static inline struct tcp_req *tcp_req_of(struct tgt_req *req)
{
    return SLIO_CONTAINER_OF(req, struct tcp_req, req);
}

/* ---- connections ---- */
enum conn_rx_state {
    RX_IC_REQ, /* waiting for the ICReq (header bytes collected in rhdr) */
    RX_CH,     /* common header, 8 bytes */
    RX_PSH,    /* rest of the header, incl. header digest */
    RX_PAD,    /* bytes between header and data (PDO) */
    RX_DATA,   /* data into rdst (or discarded when rdst is NULL) */
    RX_DDGST,  /* data digest */
    RX_ERROR,  /* TermReq sent: everything else is discarded until close */
};

#define CONN_RBUF_SIZE       (64u * 1024u)
#define CONN_RX_BUDGET       16u            /* PDUs handled per connection per loop iteration */
#define CONN_TX_ROUNDS       4u             /* sendmsg() calls per connection per loop iteration */
#define CONN_IOV_MAX         64u            /* iovecs gathered per sendmsg() */
#define TGT_BIO_INLINE_MAX   (256u * 1024u) /* largest memory-file I/O run on the reactor */
#define BIO_MEM_BATCH        64u            /* memory-file requests per io_submit() */
#define CONN_DIRECT_MIN      8192u /* data this large is received straight into the request buffer */
#define CONN_ADMIN_ICD       8192u /* the Linux host sends up to 8 KiB in-capsule on the admin queue */
#define CONN_TERM_WAIT_US    1000000u /* close a connection whose TermReq cannot be sent */
#define CONN_ADMIN_AER_SLACK 4u       /* nvmf's outstanding AER limit (Identify AERL + 1) */

/*
 * io_uring engine: a socket receive or send in flight on the reactor's ring.
 * Its buffers (rbuf, a request buffer, tx_iov) belong to the kernel until the
 * completion arrives, so a closed connection is freed only after both ops
 * have completed (conn_close shuts the socket down to make them finish).
 */
struct net_op {
    struct tgt_conn *conn;
    bool busy;   /* submitted, completion not yet seen */
    bool direct; /* receive: a readiness poll for large data, taken with recv() into rdst */
};

/* A connection's source address, the key of the per-source connection count. */
struct conn_src {
    uint8_t addr[16]; /* IPv6, or IPv4-mapped */
};

struct tgt_conn {
    struct tgt_qpair qp; /* the nvmf view */
    struct ev_source ev;
    struct tgt_reactor *r;
    int fd;

    struct nvme_tcp_params params; /* negotiated; feeds nvme_tcp_check_hdr */
    uint32_t c2h_pdo;              /* data offset of our C2HData PDUs (host's HPDA) */
    uint32_t maxh2cdata;

    /* receive side */
    enum conn_rx_state rx_state;
    uint8_t rhdr[NVME_TCP_MAX_RECV_HDR];
    uint32_t rhdr_have, rhdr_need;
    struct tcp_req *rreq; /* request the data belongs to (NULL: none) */
    uint8_t *rdst;        /* where data goes; NULL = discard */
    uint32_t rdata_left;  /* data bytes still to come in this PDU */
    uint32_t rpad_left;   /* pad bytes still to skip */
    uint32_t rdata_len;   /* data bytes of this PDU */
    uint32_t rcrc;        /* running data digest (not yet inverted) */
    uint8_t rddgst[4];
    uint32_t rddgst_have;
    uint8_t *rbuf;
    uint32_t rpos, rend;

    /* requests */
    struct tcp_req *reqs;
    uint32_t nreqs;
    void *bufs; /* all requests' data buffers: one reserved mapping */
    size_t bufs_len;
    struct tcp_req *free_reqs;
    uint32_t nfree;
    uint32_t bio_pending; /* requests whose backing I/O is still running */
    uint64_t *cid_map;    /* 65536 bits: CIDs in flight */

    /* send side */
    struct tx_pdu *tx_head, **tx_tail;
    uint32_t tx_off; /* bytes of tx_head already sent */
    struct tx_pdu tx_ic, tx_term;
    uint8_t ic_buf[NVME_TCP_IC_LEN];
    uint8_t term_buf[NVME_TCP_TERM_HLEN + NVME_TCP_TERM_MAX_DATA];

    /* io_uring engine: socket I/O as ring operations instead of readiness + syscalls */
    bool ring;
    bool rx_arm;         /* a receive is to be armed after this iteration's sends */
    uint8_t net_pending; /* ring operations in flight (rx_op, tx_op) */
    struct net_op rx_op, tx_op;
    struct msghdr tx_msg;
    struct iovec tx_iov[CONN_IOV_MAX];

    bool rx_ready, tx_ready; /* edge-triggered readiness not yet consumed */
    bool rx_blocked;         /* request pool exhausted: stop parsing commands */
    bool closing;            /* closed; memory lingers until backing I/O and ring ops drain */
    bool term_queued;        /* close once the TermReq is out */
    bool counted;            /* qpair counted in the reactor's stats */
    bool src_held;           /* counted in the connection caps (conn_limits.c) */
    bool bufs_dirty;         /* a data slot may hold committed pages */
    bool rx_hup;             /* the peer hung up: read to the end, do not wait for an edge */
    uint64_t term_at_us;
    uint64_t accepted_us;     /* deadlines (tgt_conn_limits): ICReq from here */
    uint64_t ic_done_us;      /* ...Connect from here */
    uint64_t rx_pdu_start_us; /* ...the rest of a begun PDU from here */
    uint64_t idle_since_us;   /* no command outstanding since (0: busy) */
    struct conn_src src;
    struct tlist link;   /* reactor's list of live connections */
    struct tlist active; /* reactor's list of connections with work */
    struct tlist flush;  /* reactor's list of connections with queued PDUs */
    struct tlist gone;   /* reactor's list of closed connections awaiting free */
};

/* conn.c */
struct tgt_conn *conn_create(struct tgt_reactor *r, int fd, const struct tgt_listen_addr *local);
void conn_close(struct tgt_conn *c, const char *why);
void conn_free(struct tgt_conn *c); /* only once closing and no backing I/O is pending */
void conn_on_event(struct tgt_conn *c, uint32_t events);
bool conn_process(struct tgt_conn *c); /* receive within budget; true if it did work */
void conn_req_release(struct tcp_req *t);
void conn_req_exec(struct tcp_req *t);
void conn_req_respond(struct tcp_req *t);
void conn_term(struct tgt_conn *c, uint16_t fes, uint32_t fei);
void conn_handle_ic(struct tgt_conn *c);
void conn_handle_cmd(struct tgt_conn *c);
struct tcp_req *conn_req_get(struct tgt_conn *c); /* caller checked c->free_reqs */
void conn_handle_h2c(struct tgt_conn *c);
void conn_data_done(struct tgt_conn *c, bool digest_ok);
void conn_tick(struct tgt_conn *c, uint64_t now_us);
/* Feed bytes as if received (tests, fuzzer); returns the bytes consumed. */
size_t conn_rx_feed(struct tgt_conn *c, const uint8_t *p, size_t n);

/* Completion of a ring operation (io_uring engine): res as recv()/sendmsg() would return it,
 * or a negative errno. */
void conn_net_done(struct net_op *op, int res);

/* conn_limits.c: connection caps (any thread) */
void conn_src_from_sockaddr(const struct sockaddr *sa, struct conn_src *ret);
/* Count a new connection from s: 0, -EMFILE (total cap), -EUSERS (per-source cap), -ENOMEM. */
int conn_limits_acquire(const struct conn_src *s);
void conn_limits_release(const struct conn_src *s);
uint32_t conn_limits_total(void);
/* The connection's deadlines and idle slot release; false when it was closed. */
bool conn_deadlines(struct tgt_conn *c, uint64_t now_us);

/* conn_recv.c */
/* Between PDUs (nothing of a PDU received yet, or waiting for a free request). */
bool conn_rx_idle(const struct tgt_conn *c);
bool conn_rx(struct tgt_conn *c);
void conn_rx_ring_done(struct tgt_conn *c, int res);
void conn_rx_ring_arm(struct tgt_conn *c);
void conn_rx_start_data(struct tgt_conn *c, struct tcp_req *t, uint8_t *dst, uint32_t len);
size_t conn_rx_consume(struct tgt_conn *c, const uint8_t *p, size_t n, unsigned *pdus);

/* conn_send.c */
void conn_tx_queue(struct tgt_conn *c, struct tx_pdu *p);
void conn_tx_flush(struct tgt_conn *c);
void conn_tx_ring_done(struct tgt_conn *c, int res);
void conn_tx_r2t(struct tcp_req *t);
void conn_tx_c2h(struct tcp_req *t);
void conn_tx_rsp(struct tcp_req *t);
void conn_tx_icresp(struct tgt_conn *c, uint8_t digest);
void conn_tx_term(struct tgt_conn *c, uint16_t fes, uint32_t fei, const void *echo,
                  uint32_t echo_len);

/* ---- the reactor ---- */
struct bio_uring;

/* poll_policy.c: when a reactor spins (see there) */
struct poll_state {
    int64_t poll_us;             /* spin window after useful work; 0: never spin; < 0: always */
    uint64_t last_work_us;       /* end of the last iteration that did something */
    bool inflight;               /* backing I/O in flight */
    bool inflight_on_ring;       /* ...and it completes on the ring (io_uring engine) */
    struct slio_hybrid_poll dev; /* latency of the backing I/O on the ring */
};
/* The policy sets no limit: sleep until an event or a deadline. */
#define POLL_SLEEP_ANY SLIO_HYBRID_SLEEP_ANY
/* Microseconds the reactor may sleep from now: 0 = spin, or POLL_SLEEP_ANY. */
uint64_t poll_sleep_us(const struct poll_state *p, uint64_t now);

struct tgt_reactor {
    unsigned id;
    int cpu;  /* -1: not pinned */
    int epfd; /* epoll engine only */
    int evfd; /* mailbox doorbell */
    struct ev_source mbox_src;
    _Atomic(struct tgt_msg *) mbox;
    pthread_t thread;
    bool has_thread;
    bool stopping;
    struct poll_state poll; /* poll_us, last work, backing I/O on the ring */
    uint64_t iter_us;       /* when this iteration's wait returned */
    uint64_t next_tick_us;

    struct tlist conns, active, flushq, gone, deferred;
    unsigned nconns;
    struct bio_uring *uring; /* NULL: backing I/O goes to the worker pool */
    unsigned bio_inflight;
    struct bio_ctx *inline_done, **inline_tail; /* completed inline, callbacks not yet run */
    aio_context_t aio_ctx;                      /* memory files: 0 = Linux AIO unavailable */
    unsigned aio_n;                             /* requests queued in aio_q */
    struct iocb *aio_q[BIO_MEM_BATCH];
    struct bio_aio *aio_disk; /* epoll engine: O_DIRECT disk I/O; NULL: worker pool */

    /* statistics: written by the reactor, read by the management thread */
    _Atomic uint64_t st_admin, st_io, st_cur_admin, st_cur_io, st_completions, st_requests,
        st_busy_polls, st_idle_sleeps;
};

/* Put c on its reactor's list of connections with receive work (once). */
static inline void conn_mark_active(struct tgt_conn *c)
{
    if (tlist_empty(&c->active))
        tlist_add_tail(&c->r->active, &c->active);
}

/* Put c on its reactor's list of connections to flush at the end of the iteration (once). */
static inline void conn_mark_flush(struct tgt_conn *c)
{
    if (tlist_empty(&c->flush))
        tlist_add_tail(&c->r->flushq, &c->flush);
}

/* Create a reactor without a thread (tests, fuzzer: drive it with reactor_run_once()). */
int reactor_create(unsigned id, bool use_uring, int64_t poll_us, struct tgt_reactor **ret);
void reactor_destroy(struct tgt_reactor *r);
/* Make r the calling thread's current reactor. */
void reactor_enter(struct tgt_reactor *r);
/* One loop iteration; blocks at most max_wait_ms (-1: as the poll policy says). */
void reactor_run_once(struct tgt_reactor *r, int max_wait_ms);
/* Closes every connection of r (on r's thread). */
void reactor_close_all(struct tgt_reactor *r);
struct tgt_reactor *reactor_get(unsigned i); /* running reactors, for the listener */
struct tgt_reactor *reactor_next_rr(void);   /* round-robin pick for a new connection */
void reactor_stat_add(_Atomic uint64_t *ctr, int64_t delta);

/* Hand an accepted/connected socket to reactor r (any thread). 0 or -ENOMEM. */
/* src: counted in the connection caps (released when the connection is freed), or NULL. */
int transport_adopt_fd(struct tgt_reactor *r, int fd, const struct tgt_listen_addr *local,
                       const struct conn_src *src);

/* listener.c: called by reactor start/stop */
void listeners_attach(struct tgt_reactor *r0);
void listeners_detach_all(void);
void listener_on_event(struct ev_source *src);
/* Reactor 0: when listeners paused for want of descriptors are due back (0: none), and
 * watching them again once that time has come. */
uint64_t listeners_resume_at(void);
/* Tests: give up the descriptor kept for refusing connections when none are left. */
void listener_reserve_drop(void);
void listeners_resume(struct tgt_reactor *r0, uint64_t now_us);

/* bio.c */
void bio_complete(struct bio_ctx *c, int res);
int bio_exec_sync(struct bio_ctx *c); /* the whole operation, blocking: worker threads */
/*
 * A Linux AIO result for c: true and *ret_res when final (all bytes, or an
 * error); false when short or interrupted, with c->done set so that
 * bio_exec_sync() continues from there.
 */
bool bio_aio_result(struct bio_ctx *c, int64_t res, int *ret_res);
/* c->iocb for c's read or write (FUA as RWF_DSYNC); resfd >= 0: signal that eventfd. */
void bio_aio_prep(struct bio_ctx *c, int resfd);
/* io_submit(), retried on EINTR: how many of q went in (0 when refused). */
long bio_aio_submit(aio_context_t ctx, long n, struct iocb **q);
/* io_getevents(), retried on EINTR; aborts on any other error (a request must not be lost). */
long bio_aio_getevents(aio_context_t ctx, long min, long max, struct io_event *ev,
                       struct timespec *timeout);
void reactor_defer_run(struct tgt_reactor *r, uint64_t now_us);
unsigned bio_inline_reap(struct tgt_reactor *r); /* run callbacks of inline completions */
void reactor_defer_cancel_conn(struct tgt_reactor *r, struct tgt_conn *c);
uint64_t reactor_defer_next(struct tgt_reactor *r); /* 0: none */

/* bio_mem.c: memory-backed files, run on the reactor in batches */
void bio_mem_init(struct tgt_reactor *r);
void bio_mem_fini(struct tgt_reactor *r);
void bio_mem_queue(struct tgt_reactor *r, struct bio_ctx *c); /* result lands on inline_done */
void bio_mem_flush(struct tgt_reactor *r);                    /* run what is queued */

/* bio_aio.c: the epoll engine's O_DIRECT reads and writes, Linux AIO on the reactor */
int bio_aio_create(struct tgt_reactor *r); /* needs r's epoll; failure: use the worker pool */
void bio_aio_destroy(struct tgt_reactor *r);
void bio_aio_set_batch(struct tgt_reactor *r, unsigned batch);
bool bio_aio_queue(struct tgt_reactor *r, struct bio_ctx *c); /* false: not for AIO */
void bio_aio_flush(struct tgt_reactor *r);                    /* submit what is queued */
unsigned bio_aio_reap(struct tgt_reactor *r);                 /* completions; returns count */
unsigned bio_aio_inflight(const struct tgt_reactor *r);       /* queued or submitted */

/* bio_thread.c: worker pool (the epoll engine, and blocking ioctls for io_uring too) */
int bio_pool_start(unsigned nthreads);
void bio_pool_stop(void);
void bio_pool_submit(struct bio_ctx *c);

/* bio_uring.c / bio_uring_none.c */
int bio_uring_create(unsigned entries, struct bio_uring **ret);
void bio_uring_destroy(struct bio_uring *u);
bool bio_uring_handles(const struct tgt_bio *b);
int bio_uring_submit(struct bio_uring *u, struct bio_ctx *c); /* -EBUSY when the ring is full */
/* Submit backing I/O every max_batch requests (0: once per loop iteration). */
void bio_uring_set_batch(struct bio_uring *u, unsigned max_batch);
unsigned bio_uring_unsubmitted(const struct bio_uring *u); /* prepared SQEs (for tests) */
void bio_uring_flush(struct bio_uring *u);
/* Submit what is prepared and wait up to timeout_us (-1: forever) for a completion. */
int bio_uring_wait(struct bio_uring *u, int64_t timeout_us);
/* Socket readiness on the ring: a multishot edge-triggered poll per source. */
int bio_uring_poll_add(struct bio_uring *u, int fd, struct ev_source *src, uint32_t events);
void bio_uring_poll_del(struct bio_uring *u, struct ev_source *src);
typedef void (*bio_uring_event_fn)(struct ev_source *src, uint32_t events, void *arg);
/* Socket I/O on the ring (io_uring engine): 0, or -EBUSY when the ring has no free entry. */
int bio_uring_recv(struct bio_uring *u, int fd, void *buf, size_t len, struct net_op *op);
int bio_uring_poll_in(struct bio_uring *u, int fd, struct net_op *op); /* one-shot POLLIN */
int bio_uring_sendmsg(struct bio_uring *u, int fd, const struct msghdr *mh, struct net_op *op);
/* Completes backing I/O and socket operations (conn_net_done) and reports readiness events;
 * returns how many of all three it handled. */
unsigned bio_uring_reap(struct bio_uring *u, bio_uring_event_fn on_event, void *arg);

#endif
