/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON-RPC unix socket: one management thread, poll() over the listening
 * socket, the clients and a stop descriptor (the application's signalfd).
 * Sockets are non-blocking; a client's requests are executed in order.
 *
 * No client can hold the thread or the memory for long:
 *  - a client silent for idle_timeout_ms (nothing read from it, nothing
 *    sent to it) is dropped, whatever half a request it left;
 *  - at max_clients a new connection evicts the client silent the longest,
 *    so stalled connections cannot take every slot;
 *  - responses wait in a per-client buffer; once max_queued bytes are
 *    unsent, that client's next requests wait too (and it is not read from)
 *    until it reads: a client that writes requests and never reads costs
 *    max_queued plus one response, not one response per request;
 *  - each wakeup runs at most REQUESTS_PER_TURN requests of a client, so
 *    the stop descriptor (SIGTERM) and other clients are served in between.
 */
#define SLIO_LOG_COMPONENT "rpc"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rpc/rpc.h"
#include "slio/log.h"

#define MAX_CLIENTS_LIMIT 4096
#define REQUESTS_PER_TURN 16
#define READ_CHUNK        65536
#define KEEP_ALLOC        65536 /* a drained response buffer larger than this is freed */
#define ACCEPT_BACKOFF_MS 100   /* out of descriptors: stop accepting this long */

struct client {
    int fd;
    struct tgt_rpc_stream st;
    struct slio_strbuf out;
    size_t out_off;     /* bytes of out already sent */
    uint64_t active_ms; /* last byte read or sent (monotonic) */
    bool backlog;       /* complete requests wait in st (a limit stopped the run) */
    bool close_on_idle; /* EOF or a framing error: close once out is sent */
};

struct tgt_rpc_server {
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct tgt_rpc_server_opts o;
    struct client **clients;
    struct pollfd *pfd;
    unsigned nr_clients;
    uint64_t accept_resume_ms; /* accept() ran out of descriptors: wait until then */
    struct slio_ratelimit rl;
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int tgt_rpc_server_open(const char *path, const struct tgt_rpc_server_opts *o, struct slio_err *err,
                        struct tgt_rpc_server **ret)
{
    struct tgt_rpc_server_opts opts = o ? *o : TGT_RPC_SERVER_OPTS_DEFAULT;

    if (opts.max_clients == 0 || opts.max_clients > MAX_CLIENTS_LIMIT || opts.max_queued == 0 ||
        opts.max_queued > TGT_RPC_MAX_RESPONSE || strlen(path) >= sizeof((*ret)->path)) {
        slio_err_set(err, "RPC socket \"%.200s\": invalid server options", path);
        return -EINVAL;
    }
    struct tgt_rpc_server *s = calloc(1, sizeof(*s));
    if (s) {
        s->clients = calloc(opts.max_clients, sizeof(*s->clients));
        s->pfd = calloc(opts.max_clients + 2, sizeof(*s->pfd));
    }
    if (!s || !s->clients || !s->pfd) {
        if (s) {
            free(s->clients);
            free(s->pfd);
        }
        free(s);
        slio_err_set(err, "out of memory");
        return -ENOMEM;
    }
    int r = tgt_rpc_sock_listen(path, err, &s->fd);
    if (r < 0) {
        free(s->clients);
        free(s->pfd);
        free(s);
        return r;
    }
    memcpy(s->path, path, strlen(path) + 1);
    s->o = opts;
    s->rl = (struct slio_ratelimit)SLIO_RATELIMIT_INIT(1000000, 5);
    log_info("JSON-RPC server listening on \"%s\" (%u clients, idle timeout %u ms, %zu queued "
             "response bytes per client)",
             path, opts.max_clients, opts.idle_timeout_ms, opts.max_queued);
    *ret = s;
    return 0;
}

static void client_close(struct tgt_rpc_server *s, unsigned i)
{
    struct client *c = s->clients[i];

    close(c->fd);
    tgt_rpc_stream_free(&c->st);
    slio_strbuf_free(&c->out);
    free(c);
    s->clients[i] = s->clients[--s->nr_clients];
}

/* The client silent the longest (the slot a new connection takes when all are used). */
static unsigned idlest_client(const struct tgt_rpc_server *s)
{
    unsigned idlest = 0;

    for (unsigned i = 1; i < s->nr_clients; i++)
        if (s->clients[i]->active_ms < s->clients[idlest]->active_ms)
            idlest = i;
    return idlest;
}

static void add_client(struct tgt_rpc_server *s, int fd, uint64_t now)
{
    unsigned uid;

    if (!tgt_rpc_sock_peer_allowed(fd, &uid)) {
        log_ratelimited(&s->rl, SLIO_LOG_WARN,
                        "RPC socket \"%s\": refusing a client of uid %d (only uid %u and root)",
                        s->path, (int)uid, (unsigned)geteuid());
        close(fd);
        return;
    }
    if (s->nr_clients == s->o.max_clients) {
        log_ratelimited(&s->rl, SLIO_LOG_WARN,
                        "RPC socket \"%s\": %u clients, dropping the one silent the longest",
                        s->path, s->nr_clients);
        client_close(s, idlest_client(s));
    }
    struct client *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->active_ms = now;
    tgt_rpc_stream_init(&c->st);
    slio_strbuf_init(&c->out, s->o.max_queued + TGT_RPC_MAX_RESPONSE);
    s->clients[s->nr_clients++] = c;
}

static void accept_clients(struct tgt_rpc_server *s, uint64_t now)
{
    for (;;) {
        int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            add_client(s, fd, now);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* the connection stays queued: retrying at once would spin */
            s->accept_resume_ms = now + ACCEPT_BACKOFF_MS;
            log_ratelimited(&s->rl, SLIO_LOG_WARN, "RPC socket \"%s\": accept: %m", s->path);
        } else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
            log_ratelimited(&s->rl, SLIO_LOG_WARN, "RPC socket \"%s\": accept: %m", s->path);
        }
        return;
    }
}

static size_t unsent(const struct client *c)
{
    return c->out.len - c->out_off;
}

/* Returns false when the client must be closed now. */
static bool client_read(struct client *c, uint64_t now)
{
    char buf[READ_CHUNK];
    ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    c->active_ms = now;
    if (n == 0) {
        c->close_on_idle = true; /* answer what arrived, then close */
        return true;
    }
    if (tgt_rpc_stream_append(&c->st, buf, (size_t)n, &c->out) < 0)
        c->close_on_idle = true;
    c->backlog = !c->close_on_idle;
    return true;
}

/* Run this client's waiting requests while its unsent responses stay under the cap. */
static void client_run(const struct tgt_rpc_server *s, struct client *c)
{
    if (!c->backlog || unsent(c) >= s->o.max_queued)
        return;
    if (c->out_off) { /* keep only the unsent bytes, so out's cap bounds what is queued */
        memmove(c->out.buf, c->out.buf + c->out_off, unsent(c) + 1);
        c->out.len -= c->out_off;
        c->out_off = 0;
    }
    int r = tgt_rpc_stream_run(&c->st, &c->out, s->o.max_queued, REQUESTS_PER_TURN);
    c->backlog = r > 0;
    if (r < 0)
        c->close_on_idle = true;
}

static bool client_write(struct client *c, uint64_t now)
{
    while (unsent(c)) {
        ssize_t n = send(c->fd, c->out.buf + c->out_off, unsent(c), MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR;
        c->out_off += (size_t)n;
        c->active_ms = now;
    }
    if (c->out.alloc > KEEP_ALLOC)
        slio_strbuf_free(&c->out);
    else
        slio_strbuf_reset(&c->out);
    c->out_off = 0;
    return !c->close_on_idle || c->backlog;
}

/* What to wait for: output to drain, or more requests once everything is answered. */
static short client_events(const struct client *c)
{
    if (unsent(c))
        return POLLOUT;
    return c->backlog || c->close_on_idle ? 0 : POLLIN;
}

/* poll()'s timeout: now if a client has requests to run, else the next idle deadline. */
static int poll_timeout(const struct tgt_rpc_server *s, uint64_t now)
{
    uint64_t next = UINT64_MAX;

    for (unsigned i = 0; i < s->nr_clients; i++) {
        const struct client *c = s->clients[i];
        if (c->backlog && !unsent(c))
            return 0;
        if (s->o.idle_timeout_ms)
            next = SLIO_MIN(next, c->active_ms + s->o.idle_timeout_ms);
    }
    if (s->accept_resume_ms)
        next = SLIO_MIN(next, s->accept_resume_ms);
    if (next == UINT64_MAX)
        return -1;
    return next <= now ? 0 : (int)SLIO_MIN(next - now, 60000u);
}

/* One client after poll(): read, run, write, or drop it. False: close it. */
static bool client_step(struct tgt_rpc_server *s, struct client *c, short revents, uint64_t now)
{
    bool ok = true;

    if (revents & POLLIN)
        ok = client_read(c, now);
    else if (revents & (POLLERR | POLLHUP | POLLNVAL) && !(revents & POLLOUT))
        ok = false;
    if (!ok)
        return false;
    client_run(s, c);
    if (unsent(c) || (c->close_on_idle && !c->backlog))
        ok = client_write(c, now);
    if (ok && s->o.idle_timeout_ms && now - c->active_ms >= s->o.idle_timeout_ms) {
        log_ratelimited(&s->rl, SLIO_LOG_INFO,
                        "RPC socket \"%s\": dropping a client silent for %u ms", s->path,
                        s->o.idle_timeout_ms);
        ok = false;
    }
    return ok;
}

int tgt_rpc_server_run(struct tgt_rpc_server *s, int stop_fd)
{
    struct pollfd *pfd = s->pfd;

    for (;;) {
        uint64_t now = now_ms();
        unsigned n = s->nr_clients;
        if (s->accept_resume_ms && now >= s->accept_resume_ms)
            s->accept_resume_ms = 0;
        pfd[0] = (struct pollfd){.fd = stop_fd, .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = s->accept_resume_ms ? -1 : s->fd, .events = POLLIN};
        for (unsigned i = 0; i < n; i++)
            pfd[i + 2] =
                (struct pollfd){.fd = s->clients[i]->fd, .events = client_events(s->clients[i])};
        if (poll(pfd, n + 2, poll_timeout(s, now)) < 0) {
            if (errno == EINTR)
                continue;
            return slio_neg_errno();
        }
        if (pfd[0].revents)
            return 0;
        now = now_ms();
        /* backwards, as client_close moves the last client into the freed slot */
        for (unsigned i = n; i-- > 0;)
            if (!client_step(s, s->clients[i], pfd[i + 2].revents, now))
                client_close(s, i);
        if (pfd[1].revents & POLLIN)
            accept_clients(s, now);
    }
}

void tgt_rpc_server_close(struct tgt_rpc_server *s)
{
    if (!s)
        return;
    while (s->nr_clients)
        client_close(s, s->nr_clients - 1);
    close(s->fd);
    if (unlink(s->path) < 0 && errno != ENOENT)
        log_warn("cannot remove RPC socket \"%s\": %m", s->path);
    free(s->clients);
    free(s->pfd);
    free(s);
}
