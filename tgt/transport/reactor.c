/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reactors: one event loop per thread, a lock-free mailbox for work from
 * other threads, a 10 ms tick for the nvmf layer while connections exist, and
 * adaptive polling. Two engines:
 *   io_uring  one ring carries the connections' receives and sends, the
 *             readiness of the listener and mailbox (polls) and backing I/O;
 *             the loop sleeps in io_uring_enter() and spins by looking at
 *             the completion queue in memory, without system calls;
 *   epoll     epoll for socket readiness, recv()/sendmsg() for data, worker
 *             threads for backing I/O: kernels or containers (seccomp)
 *             without io_uring.
 *
 * Why adaptive polling: a blocking wake-up across cores costs tens of
 * microseconds (see issue 3: 73 µs ping-pong blocking vs 5.6 µs polling), so
 * while the reactor is busy it spins for poll_us after the last useful work,
 * and around the expected completion of backing I/O on the ring, then blocks
 * (poll_policy.c). Idle, it blocks with a timeout that is the next tick (only
 * while connections exist) or a deferred request; with no connection it
 * blocks indefinitely and uses no CPU. The wait's timeout plays the role of a
 * timerfd without a file descriptor or an extra syscall.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

#define REACTOR_MAX      256u
#define REACTOR_EVENTS   64
#define REACTOR_TICK_US  10000u
#define URING_ENTRIES    1024u
#define POOL_THREADS_MIN 2u

static struct tgt_reactor *g_reactors[REACTOR_MAX];
static unsigned g_count;
static bool g_uring;
static struct slio_ratelimit g_wait_rl = SLIO_RATELIMIT_INIT(5000000, 3);
static _Atomic unsigned g_rr;
static __thread struct tgt_reactor *t_current;

uint64_t tgt_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct tgt_reactor *tgt_reactor_current(void)
{
    return t_current;
}

void reactor_enter(struct tgt_reactor *r)
{
    t_current = r;
}

unsigned tgt_reactor_count(void)
{
    return g_count;
}

const char *tgt_engine_name(void)
{
    return g_uring ? "io_uring" : "epoll";
}

struct tgt_reactor *reactor_get(unsigned i)
{
    return i < g_count ? g_reactors[i] : NULL;
}

struct tgt_reactor *reactor_next_rr(void)
{
    if (g_count == 0)
        return NULL;
    return g_reactors[atomic_fetch_add_explicit(&g_rr, 1, memory_order_relaxed) % g_count];
}

void reactor_stat_add(_Atomic uint64_t *ctr, int64_t delta)
{
    atomic_fetch_add_explicit(ctr, (uint64_t)delta, memory_order_relaxed);
}

/* ---- mailbox: a Treiber stack (MPSC); the consumer takes it whole and reverses it ---- */
void reactor_post_msg(struct tgt_reactor *r, struct tgt_msg *m)
{
    struct tgt_msg *old = atomic_load_explicit(&r->mbox, memory_order_relaxed);

    do {
        m->next = old;
    } while (!atomic_compare_exchange_weak_explicit(&r->mbox, &old, m, memory_order_release,
                                                    memory_order_relaxed));
    /* Only the first message after a drain needs to wake the reactor. */
    if (!old)
        (void)eventfd_write(r->evfd, 1);
}

int tgt_reactor_post(struct tgt_reactor *r, void (*fn)(void *arg), void *arg)
{
    struct tgt_msg *m = malloc(sizeof(*m));

    if (!m)
        return -ENOMEM;
    *m = (struct tgt_msg){.fn = fn, .arg = arg, .heap = true};
    reactor_post_msg(r, m);
    return 0;
}

static bool mailbox_drain(struct tgt_reactor *r)
{
    if (!atomic_load_explicit(&r->mbox, memory_order_relaxed))
        return false;
    struct tgt_msg *m = atomic_exchange_explicit(&r->mbox, NULL, memory_order_acquire);
    struct tgt_msg *fifo = NULL;

    while (m) { /* reverse into posting order */
        struct tgt_msg *next = m->next;
        m->next = fifo;
        fifo = m;
        m = next;
    }
    while (fifo) {
        struct tgt_msg *next = fifo->next;
        bool heap = fifo->heap; /* fn may reuse or free an embedded message */
        fifo->fn(fifo->arg);
        if (heap)
            free(fifo);
        fifo = next;
    }
    return true;
}

int reactor_ev_add(struct tgt_reactor *r, int fd, struct ev_source *src, uint32_t events)
{
    if (r->uring)
        return bio_uring_poll_add(r->uring, fd, src, events);

    struct epoll_event ev = {.events = events, .data.ptr = src};

    return epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void reactor_ev_del(struct tgt_reactor *r, int fd, struct ev_source *src)
{
    if (r->uring)
        bio_uring_poll_del(r->uring, src);
    else
        (void)epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int reactor_create(unsigned id, bool use_uring, int64_t poll_us, struct tgt_reactor **ret)
{
    struct tgt_reactor *r = calloc(1, sizeof(*r));
    int err = 0;

    if (!r)
        return -ENOMEM;
    r->id = id;
    r->cpu = -1;
    r->poll.poll_us = poll_us;
    r->inline_tail = &r->inline_done;
    bio_mem_init(r);
    r->mbox_src.kind = EV_MAILBOX;
    tlist_init(&r->conns);
    tlist_init(&r->active);
    tlist_init(&r->flushq);
    tlist_init(&r->gone);
    tlist_init(&r->deferred);
    r->epfd = -1;
    r->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->evfd < 0) {
        err = -errno;
        goto out_close;
    }
    if (use_uring)
        err = bio_uring_create(URING_ENTRIES, &r->uring);
    else if ((r->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        err = -errno;
    if (err < 0)
        goto out_close;
    if (!use_uring && (err = bio_aio_create(r)) < 0)
        log_debug("reactor %u: Linux AIO for disks unavailable (%s): worker threads", id,
                  strerror(-err));
    err = 0;
    err = reactor_ev_add(r, r->evfd, &r->mbox_src, EPOLLIN | EPOLLET);
    if (err < 0)
        goto out_uring;
    *ret = r;
    return 0;

out_uring:
    bio_aio_destroy(r);
    bio_uring_destroy(r->uring);
out_close:
    bio_mem_fini(r);
    if (r->evfd >= 0)
        close(r->evfd);
    if (r->epfd >= 0)
        close(r->epfd);
    free(r);
    return err;
}

void reactor_destroy(struct tgt_reactor *r)
{
    if (!r)
        return;
    mailbox_drain(r);
    if (r->uring)
        bio_uring_destroy(r->uring);
    bio_aio_destroy(r);
    bio_mem_fini(r);
    close(r->evfd);
    if (r->epfd >= 0)
        close(r->epfd);
    free(r);
}

/* Microseconds the loop may block (-1: no limit): 0 while there is work, else as polling allows. */
static int64_t wait_timeout_us(struct tgt_reactor *r, uint64_t now)
{
    if (!tlist_empty(&r->active) || !tlist_empty(&r->flushq) || r->inline_done || r->aio_n)
        return 0;
    /*
     * Messages whose doorbell was already consumed: the io_uring engine also
     * reaps (and so reads the eventfd) after this iteration's mailbox drain.
     */
    if (atomic_load_explicit(&r->mbox, memory_order_acquire))
        return 0;
    /*
     * With the epoll engine, backing I/O runs on worker threads, which a
     * spinning reactor starves of CPU (bench/tgt, disk-backed file, 2 cores:
     * QD1 8.6k IOPS sleeping vs 5.7k spinning). The io_uring engine finds the
     * device's completion in the completion queue instead of paying a
     * cross-core wake-up for it (disk-backed QD1 with the host spinning 50 µs:
     * 9.3k IOPS sleeping, 12.1k spinning).
     */
    r->poll.inflight = r->bio_inflight > 0;
    /* the epoll engine's AIO completions need no worker either: an eventfd tells epoll */
    r->poll.inflight_on_ring =
        r->uring != NULL || (r->bio_inflight > 0 && bio_aio_inflight(r) == r->bio_inflight);
    uint64_t deadline = poll_sleep_us(&r->poll, now);
    if (deadline == 0)
        return 0;
    deadline = deadline == POLL_SLEEP_ANY ? UINT64_MAX : now + deadline;
    if (r->nconns && r->next_tick_us < deadline)
        deadline = r->next_tick_us;
    uint64_t d = reactor_defer_next(r);
    if (d && d < deadline)
        deadline = d;
    uint64_t resume = r->id == 0 ? listeners_resume_at() : 0;
    if (resume && resume < deadline)
        deadline = resume;
    if (deadline == UINT64_MAX)
        return -1;
    if (deadline <= now)
        return 0;
    return (int64_t)SLIO_MIN(deadline - now, 60000000u);
}

static void list_splice(struct tlist *from, struct tlist *to)
{
    tlist_init(to);
    if (tlist_empty(from))
        return;
    to->next = from->next;
    to->prev = from->prev;
    to->next->prev = to;
    to->prev->next = to;
    tlist_init(from);
}

/*
 * The lists below are walked by moving them to a local head first and
 * popping from it, because handling one connection may close another
 * (controller teardown), which unlinks it from wherever it is.
 */
static bool process_active(struct tgt_reactor *r)
{
    struct tlist todo;
    bool work = false;

    list_splice(&r->active, &todo);
    while (!tlist_empty(&todo)) {
        struct tgt_conn *c = tlist_entry(todo.next, struct tgt_conn, active);
        tlist_del(&c->active);
        work |= conn_process(c);
    }
    return work;
}

static void flush_all(struct tgt_reactor *r)
{
    struct tlist todo;

    list_splice(&r->flushq, &todo);
    while (!tlist_empty(&todo)) {
        struct tgt_conn *c = tlist_entry(todo.next, struct tgt_conn, flush);
        tlist_del(&c->flush);
        conn_tx_flush(c);
    }
}

static void run_ticks(struct tgt_reactor *r, uint64_t now)
{
    struct tlist todo;

    if (r->nconns == 0 || now < r->next_tick_us)
        return;
    r->next_tick_us = now + REACTOR_TICK_US;
    list_splice(&r->conns, &todo);
    while (!tlist_empty(&todo)) {
        struct tgt_conn *c = tlist_entry(todo.next, struct tgt_conn, link);
        tlist_del(&c->link);
        tlist_add_tail(&r->conns, &c->link);
        conn_tick(c, now);
    }
}

static void free_gone(struct tgt_reactor *r)
{
    struct tlist *it = r->gone.next;

    while (it != &r->gone) {
        struct tgt_conn *c = tlist_entry(it, struct tgt_conn, link);
        it = it->next;
        if (c->bio_pending == 0 && c->net_pending == 0) {
            tlist_del(&c->link);
            conn_free(c);
        }
    }
}

static void dispatch(struct ev_source *src, uint32_t events, void *arg)
{
    struct tgt_reactor *r = arg;
    eventfd_t v;

    switch (src->kind) {
    case EV_MAILBOX:
        (void)eventfd_read(r->evfd, &v);
        break;
    case EV_LISTENER:
        listener_on_event(src);
        break;
    case EV_CONN:
        conn_on_event(SLIO_CONTAINER_OF(src, struct tgt_conn, ev), events);
        break;
    case EV_AIO:
        bio_aio_reap(r);
        break;
    }
}

/* Sleep or spin as the policy says; events are dispatched, completions handled. True if any. */
static bool wait_events(struct tgt_reactor *r, int64_t timeout_us)
{
    if (r->uring) {
        int err = bio_uring_wait(r->uring, timeout_us);
        if (err < 0)
            log_ratelimited(&g_wait_rl, SLIO_LOG_ERR, "reactor %u: io_uring wait: %s", r->id,
                            strerror(-err));
        r->iter_us = tgt_now_us();
        return bio_uring_reap(r->uring, dispatch, r) > 0;
    }

    struct epoll_event ev[REACTOR_EVENTS];
    bio_aio_flush(r); /* what the last iteration queued goes out before the wait */
    int ms = timeout_us < 0 ? -1 : (int)SLIO_DIV_ROUND_UP((uint64_t)timeout_us, 1000u);
    int n = epoll_wait(r->epfd, ev, REACTOR_EVENTS, ms);
    r->iter_us = tgt_now_us();
    for (int i = 0; i < n; i++)
        dispatch(ev[i].data.ptr, ev[i].events, r);
    return n > 0;
}

void reactor_run_once(struct tgt_reactor *r, int max_wait_ms)
{
    uint64_t now = tgt_now_us();
    int64_t timeout = wait_timeout_us(r, now);

    if (max_wait_ms >= 0 && (timeout < 0 || timeout > (int64_t)max_wait_ms * 1000))
        timeout = (int64_t)max_wait_ms * 1000;
    bool work = wait_events(r, timeout);
    reactor_stat_add(timeout == 0 ? &r->st_busy_polls : &r->st_idle_sleeps, 1);

    work |= mailbox_drain(r);
    work |= process_active(r);
    work |= bio_inline_reap(r) > 0;
    if (r->uring) {
        /* submit what receiving queued; page-cache hits complete right away */
        bio_uring_flush(r->uring);
        work |= bio_uring_reap(r->uring, dispatch, r) > 0;
    } else {
        bio_aio_flush(r); /* to the device now, not after the next wait */
    }
    now = tgt_now_us();
    reactor_defer_run(r, now);
    bio_inline_reap(r);
    run_ticks(r, now);
    if (r->id == 0)
        listeners_resume(r, now);
    flush_all(r);
    free_gone(r);
    if (work)
        r->poll.last_work_us = now;
}

void reactor_close_all(struct tgt_reactor *r)
{
    while (!tlist_empty(&r->conns)) {
        struct tgt_conn *c = tlist_entry(r->conns.next, struct tgt_conn, link);
        conn_close(c, "target shutting down");
    }
}

static void pin_thread(struct tgt_reactor *r)
{
    char name[16];

    snprintf(name, sizeof(name), "reactor_%u", r->id);
    pthread_setname_np(pthread_self(), name);
    if (r->cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((unsigned)r->cpu, &set);
    int err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    if (err)
        log_warn("reactor %u: cannot pin to CPU %d: %s", r->id, r->cpu, strerror(err));
}

static void *reactor_thread(void *arg)
{
    struct tgt_reactor *r = arg;

    reactor_enter(r);
    pin_thread(r);
    while (!r->stopping || r->nconns > 0 || !tlist_empty(&r->gone) || r->bio_inflight > 0)
        reactor_run_once(r, r->stopping ? 10 : -1);
    mailbox_drain(r);
    return NULL;
}

static void stop_msg(void *arg)
{
    struct tgt_reactor *r = arg;

    r->stopping = true;
    if (r->id == 0)
        listeners_detach_all();
    reactor_close_all(r);
}

/* "0x3" / "3": bit i set = CPU i usable. Fills cpus[] in ascending order. */
static int parse_cpumask(const char *s, int *cpus, unsigned max, unsigned *ret_n)
{
    size_t len;
    unsigned n = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    len = strlen(s);
    if (len == 0 || len > 256)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        char ch = s[len - 1 - i];
        unsigned v;
        if (ch >= '0' && ch <= '9')
            v = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            v = (unsigned)(ch - 'A' + 10);
        else
            return -EINVAL;
        for (unsigned b = 0; b < 4; b++)
            if ((v & (1u << b)) && n < max)
                cpus[n++] = (int)(i * 4 + b);
    }
    if (n == 0)
        return -EINVAL;
    *ret_n = n;
    return 0;
}

static bool want_uring(enum tgt_engine_kind kind, int *err)
{
    struct bio_uring *probe = NULL;

    *err = 0;
    if (kind == TGT_ENGINE_EPOLL)
        return false;
    /* io_uring may be compiled out, or refused by the kernel or a seccomp filter */
    *err = bio_uring_create(8, &probe);
    if (*err < 0) {
        if (kind == TGT_ENGINE_URING)
            return false;
        log_info("io_uring unavailable (%s): using the epoll engine with worker threads",
                 strerror(-*err));
        *err = 0;
        return false;
    }
    bio_uring_destroy(probe);
    return true;
}

static int start_threads(void)
{
    for (unsigned i = 0; i < g_count; i++) {
        int err = pthread_create(&g_reactors[i]->thread, NULL, reactor_thread, g_reactors[i]);
        if (err)
            return -err;
        g_reactors[i]->has_thread = true;
    }
    return 0;
}

int tgt_reactors_start(const struct tgt_reactor_opts *o)
{
    int cpus[REACTOR_MAX];
    unsigned ncpus = 0, count = o->count;
    int err;

    if (g_count)
        return -EALREADY;
    if (o->poll_us < -1)
        return -EINVAL;
    if (o->cpumask && o->cpumask[0]) {
        err = parse_cpumask(o->cpumask, cpus, REACTOR_MAX, &ncpus);
        if (err < 0) {
            log_error("reactor cpumask \"%s\": not a hex CPU mask", o->cpumask);
            return err;
        }
        if (count == 0)
            count = ncpus;
    }
    if (count == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        count = n > 0 ? (unsigned)n : 1;
    }
    count = SLIO_MIN(count, REACTOR_MAX);
    g_uring = want_uring(o->engine, &err);
    if (err < 0) {
        log_error("engine io_uring requested but unavailable: %s", strerror(-err));
        return err;
    }
    err = bio_pool_start(g_uring ? POOL_THREADS_MIN : SLIO_MAX(POOL_THREADS_MIN, count * 2));
    if (err < 0)
        return err;
    for (unsigned i = 0; i < count; i++) {
        err = reactor_create(i, g_uring, o->poll_us, &g_reactors[i]);
        if (err < 0)
            goto out_stop;
        g_reactors[i]->cpu = ncpus ? cpus[i % ncpus] : -1;
        if (g_reactors[i]->uring)
            bio_uring_set_batch(g_reactors[i]->uring, o->disk_batch);
        bio_aio_set_batch(g_reactors[i], o->disk_batch);
        g_count = i + 1;
    }
    listeners_attach(g_reactors[0]);
    err = start_threads();
    if (err < 0)
        goto out_stop;
    log_info("started %u reactor(s), engine %s, poll %lld us, disk batch %u", count,
             tgt_engine_name(), (long long)o->poll_us, o->disk_batch);
    return 0;

out_stop:
    log_error("cannot start reactors: %s", strerror(-err));
    tgt_reactors_stop();
    return err;
}

void tgt_reactors_stop(void)
{
    static struct tgt_msg stop[REACTOR_MAX];

    for (unsigned i = 0; i < g_count; i++) {
        stop[i] = (struct tgt_msg){.fn = stop_msg, .arg = g_reactors[i]};
        if (g_reactors[i]->has_thread)
            reactor_post_msg(g_reactors[i], &stop[i]);
    }
    for (unsigned i = 0; i < g_count; i++)
        if (g_reactors[i]->has_thread)
            pthread_join(g_reactors[i]->thread, NULL);
    if (g_count && !g_reactors[0]->has_thread)
        listeners_detach_all();
    for (unsigned i = 0; i < g_count; i++) {
        reactor_destroy(g_reactors[i]);
        g_reactors[i] = NULL;
    }
    g_count = 0;
    bio_pool_stop();
}

unsigned tgt_reactor_get_stats(struct tgt_reactor_stats *out, unsigned max)
{
    unsigned n = SLIO_MIN(max, g_count);

    for (unsigned i = 0; i < n; i++) {
        struct tgt_reactor *r = g_reactors[i];
        struct tgt_reactor_stats *s = &out[i];
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "nvmf_tgt_poll_group_%03u", i);
        s->admin_qpairs = atomic_load_explicit(&r->st_admin, memory_order_relaxed);
        s->io_qpairs = atomic_load_explicit(&r->st_io, memory_order_relaxed);
        s->current_admin_qpairs = atomic_load_explicit(&r->st_cur_admin, memory_order_relaxed);
        s->current_io_qpairs = atomic_load_explicit(&r->st_cur_io, memory_order_relaxed);
        s->pending_bdev_io = __atomic_load_n(&r->bio_inflight, __ATOMIC_RELAXED);
        s->completions = atomic_load_explicit(&r->st_completions, memory_order_relaxed);
        s->requests = atomic_load_explicit(&r->st_requests, memory_order_relaxed);
        s->busy_polls = atomic_load_explicit(&r->st_busy_polls, memory_order_relaxed);
        s->idle_sleeps = atomic_load_explicit(&r->st_idle_sleeps, memory_order_relaxed);
    }
    return n;
}
