/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP listeners. The management thread creates and binds the socket (so
 * EADDRINUSE reaches the JSON-RPC caller), reactor 0 accepts, and each new
 * connection goes to the next reactor round-robin as a message. Listeners
 * are refcounted per address: several subsystems may listen on one address.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "slio/log.h"
#include "transport/transport_internal.h"

#define LISTEN_BACKLOG     1024
#define ACCEPTS_PER_WAKEUP 32

struct listener {
    struct ev_source ev;
    struct tgt_listen_addr addr;
    int fd;
    unsigned refs;
    bool attached;             /* handed to reactor 0: removal goes through it */
    bool watching;             /* in reactor 0's epoll set or ring */
    bool paused;               /* out of descriptors and no reserve: watched again later */
    struct tgt_msg attach_msg; /* a running reactor 0 adds the watch itself */
    struct tgt_msg msg;        /* removal message to reactor 0: removing never fails */
    struct listener *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct listener *g_list;
/* reactor 0 accepts: its limiters are touched by that thread only */
static struct slio_ratelimit g_accept_rl = SLIO_RATELIMIT_INIT(1000000, 5);
static struct slio_ratelimit g_refuse_rl = SLIO_RATELIMIT_INIT(1000000, 5);
/*
 * A descriptor held in reserve for when accept() fails with EMFILE/ENFILE:
 * the level-triggered listener would otherwise wake the reactor at once,
 * forever (100 % CPU, issue 17 finding 2). Giving it up lets one pending
 * connection be accepted and closed, which drains the backlog instead.
 */
static int g_reserve_fd = -1;
/* Reactor 0 only: when paused listeners are watched again (0: none paused). */
static uint64_t g_resume_at_us;
#define LISTEN_PAUSE_US 100000u

static bool same_addr(const struct tgt_listen_addr *a, const struct tgt_listen_addr *b)
{
    return strcasecmp(a->adrfam, b->adrfam) == 0 && strcmp(a->traddr, b->traddr) == 0 &&
           strcmp(a->trsvcid, b->trsvcid) == 0;
}

static struct listener **find(const struct tgt_listen_addr *a)
{
    for (struct listener **p = &g_list; *p; p = &(*p)->next)
        if (same_addr(&(*p)->addr, a))
            return p;
    return NULL;
}

static int addr_family(const struct tgt_listen_addr *a, int *ret_family)
{
    if (strcasecmp(a->trtype, "TCP") != 0 && a->trtype[0])
        return -EPROTONOSUPPORT;
    if (strcasecmp(a->adrfam, "IPv4") == 0 || a->adrfam[0] == 0)
        *ret_family = AF_INET;
    else if (strcasecmp(a->adrfam, "IPv6") == 0)
        *ret_family = AF_INET6;
    else
        return -EAFNOSUPPORT;
    return 0;
}

static int open_socket(const struct tgt_listen_addr *a, int *ret_fd)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int one = 1, err;

    err = addr_family(a, &hints.ai_family);
    if (err < 0)
        return err;
    err = getaddrinfo(a->traddr, a->trsvcid, &hints, &ai);
    if (err)
        return err == EAI_SYSTEM ? -errno : -EINVAL;
    _cleanup_close_ int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = -errno;
        goto out;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* so that an IPv4 and an IPv6 wildcard listener can share a port */
    if (ai->ai_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        err = -errno;
        goto out;
    }
    *ret_fd = TAKE_FD(fd);
out:
    freeaddrinfo(ai);
    return err;
}

static void reserve_fd_open(void);

static void watch(struct listener *l, struct tgt_reactor *r0)
{
    reserve_fd_open();                                    /* now, while descriptors are plentiful */
    int err = reactor_ev_add(r0, l->fd, &l->ev, EPOLLIN); /* level-triggered */

    if (err < 0)
        log_error("listener %s:%s: cannot watch socket: %s", l->addr.traddr, l->addr.trsvcid,
                  strerror(-err));
    else
        l->watching = true;
}

/* Runs on reactor 0; its removal message, posted later, runs later. */
static void attach_on_reactor(void *arg)
{
    struct listener *l = arg;

    pthread_mutex_lock(&g_lock);
    for (struct listener *it = g_list; it; it = it->next)
        if (it == l && !l->watching) /* not already detached by a shutdown */
            watch(l, tgt_reactor_current());
    pthread_mutex_unlock(&g_lock);
}

/* A running reactor's ring belongs to its thread: it adds the watch itself. */
static void attach_locked(struct listener *l, struct tgt_reactor *r0)
{
    l->attached = true;
    if (r0->has_thread) {
        l->attach_msg = (struct tgt_msg){.fn = attach_on_reactor, .arg = l};
        reactor_post_msg(r0, &l->attach_msg);
    } else {
        watch(l, r0);
    }
}

int tgt_listener_add(const struct tgt_listen_addr *a)
{
    pthread_mutex_lock(&g_lock);
    struct listener **p = find(a);
    if (p) {
        (*p)->refs++;
        pthread_mutex_unlock(&g_lock);
        return 0;
    }
    struct listener *l = calloc(1, sizeof(*l));
    int err = l ? open_socket(a, &l->fd) : -ENOMEM;
    if (err < 0) {
        pthread_mutex_unlock(&g_lock);
        log_error("listener %s %s:%s: %s", a->adrfam, a->traddr, a->trsvcid, strerror(-err));
        free(l);
        return err;
    }
    l->ev.kind = EV_LISTENER;
    l->addr = *a;
    l->refs = 1;
    l->next = g_list;
    g_list = l;
    if (reactor_get(0))
        attach_locked(l, reactor_get(0));
    pthread_mutex_unlock(&g_lock);
    log_info("listening on %s %s:%s", a->adrfam, a->traddr, a->trsvcid);
    return 0;
}

static void listener_free(struct listener *l)
{
    /*
     * Leave the LISTEN state now: the io_uring engine's poll holds a
     * reference to the socket until its cancellation is processed, and until
     * then close() alone would leave it listening, queueing connections that
     * nobody accepts.
     */
    (void)shutdown(l->fd, SHUT_RDWR);
    close(l->fd);
    free(l);
}

/* Runs on reactor 0: nothing else there can still hold the listener afterwards. */
static void detach_on_reactor(void *arg)
{
    struct listener *l = arg;

    if (l->watching)
        reactor_ev_del(tgt_reactor_current(), l->fd, &l->ev);
    listener_free(l);
}

int tgt_listener_remove(const struct tgt_listen_addr *a)
{
    pthread_mutex_lock(&g_lock);
    struct listener **p = find(a);
    if (!p) {
        pthread_mutex_unlock(&g_lock);
        return -ENOENT;
    }
    struct listener *l = *p;
    if (--l->refs > 0) {
        pthread_mutex_unlock(&g_lock);
        return 0;
    }
    *p = l->next;
    struct tgt_reactor *r0 = reactor_get(0);
    if (l->attached && r0) {
        l->msg = (struct tgt_msg){.fn = detach_on_reactor, .arg = l};
        reactor_post_msg(r0, &l->msg);
    } else {
        listener_free(l);
    }
    pthread_mutex_unlock(&g_lock);
    log_info("stopped listening on %s %s:%s", a->adrfam, a->traddr, a->trsvcid);
    return 0;
}

void listeners_attach(struct tgt_reactor *r0)
{
    pthread_mutex_lock(&g_lock);
    for (struct listener *l = g_list; l; l = l->next)
        if (!l->attached)
            attach_locked(l, r0);
    pthread_mutex_unlock(&g_lock);
}

void listeners_detach_all(void)
{
    struct tgt_reactor *r0 = reactor_get(0);

    pthread_mutex_lock(&g_lock);
    while (g_list) {
        struct listener *l = g_list;
        g_list = l->next;
        if (l->watching && r0)
            reactor_ev_del(r0, l->fd, &l->ev);
        listener_free(l);
    }
    pthread_mutex_unlock(&g_lock);
}

static void reserve_fd_open(void)
{
    if (g_reserve_fd < 0)
        g_reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void listener_reserve_drop(void)
{
    if (g_reserve_fd >= 0)
        close(g_reserve_fd);
    g_reserve_fd = -1;
}

/* Out of descriptors: refuse one pending connection with the reserve (false: none left). */
static bool accept_refuse(struct listener *l, int err)
{
    log_ratelimited(&g_accept_rl, SLIO_LOG_WARN,
                    "listener %s:%s: accept: %s: refusing connections until descriptors are free",
                    l->addr.traddr, l->addr.trsvcid, strerror(err));
    if (g_reserve_fd < 0)
        return false;
    close(g_reserve_fd);
    g_reserve_fd = -1;
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        close(fd);
    reserve_fd_open();
    return fd >= 0;
}

/* Stop watching l for LISTEN_PAUSE_US (reactor 0); listeners_resume() watches it again. */
static void pause_listener(struct listener *l)
{
    if (!l->watching)
        return;
    reactor_ev_del(tgt_reactor_current(), l->fd, &l->ev);
    l->watching = false;
    l->paused = true;
    g_resume_at_us = tgt_now_us() + LISTEN_PAUSE_US;
}

uint64_t listeners_resume_at(void)
{
    return g_resume_at_us;
}

void listeners_resume(struct tgt_reactor *r0, uint64_t now_us)
{
    if (g_resume_at_us == 0 || now_us < g_resume_at_us)
        return;
    g_resume_at_us = 0;
    pthread_mutex_lock(&g_lock); /* removed listeners are off the list: not watched again */
    for (struct listener *l = g_list; l; l = l->next) {
        if (l->paused) {
            l->paused = false;
            watch(l, r0);
        }
    }
    pthread_mutex_unlock(&g_lock);
}

/* Count the connection in the caps; false (and a log line) when one is full. */
static bool admit(struct listener *l, const struct sockaddr_storage *ss, struct conn_src *ret)
{
    conn_src_from_sockaddr((const struct sockaddr *)ss, ret);
    int err = conn_limits_acquire(ret);
    if (err == 0)
        return true;
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, host, sizeof(host));
    else if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
    log_ratelimited(&g_refuse_rl, SLIO_LOG_WARN, "listener %s:%s: connection from %s refused: %s",
                    l->addr.traddr, l->addr.trsvcid, host,
                    err == -EMFILE ? "too many connections (--max-conns)"
                    : err == -EUSERS
                        ? "too many connections from this address (--max-conns-per-host)"
                        : strerror(-err));
    return false;
}

void listener_on_event(struct ev_source *src)
{
    struct listener *l = SLIO_CONTAINER_OF(src, struct listener, ev);
    int one = 1;

    reserve_fd_open(); /* retried here: it may have failed while descriptors were short */
    for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                if (accept_refuse(l, err))
                    continue;
                pause_listener(l); /* no reserve either: stop the level-triggered wake-ups */
            } else if (err != EAGAIN && err != EINTR && err != ECONNABORTED) {
                log_ratelimited(&g_accept_rl, SLIO_LOG_WARN, "listener %s:%s: accept: %s",
                                l->addr.traddr, l->addr.trsvcid, strerror(err));
            }
            return;
        }
        struct conn_src cs;
        if (!admit(l, &ss, &cs)) {
            close(fd);
            continue;
        }
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct tgt_reactor *r = reactor_next_rr();
        if (!r || transport_adopt_fd(r, fd, &l->addr, &cs) < 0) {
            close(fd);
            conn_limits_release(&cs);
        }
    }
}
