/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON-RPC unix socket: one management thread, poll() over the listening
 * socket, the clients and a stop descriptor (the application's signalfd).
 * Sockets are non-blocking; a client's requests are executed in order and
 * its responses queued in a capped buffer. While a client has unsent
 * responses it is not read from, so a client that never reads cannot make
 * the target queue without bound.
 */
#define SLIO_LOG_COMPONENT "rpc"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc/rpc.h"
#include "slio/log.h"

#define MAX_CLIENTS  64
#define MAX_RESPONSE (64u << 20) /* queued response bytes per client */
#define READ_CHUNK   65536

struct client {
    int fd;
    struct tgt_rpc_stream st;
    struct slio_strbuf out;
    size_t out_off;     /* bytes of out already sent */
    bool close_on_idle; /* EOF or a framing error: close once out is sent */
};

struct tgt_rpc_server {
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct client *clients[MAX_CLIENTS];
    unsigned nr_clients;
};

static int make_addr(const char *path, struct sockaddr_un *sa)
{
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
    memcpy(sa->sun_path, path, n + 1);
    return 0;
}

/* Is a live server accepting on path? Removes a stale socket file. */
static int check_existing(const char *path, const struct sockaddr_un *sa, struct slio_err *err)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : slio_neg_errno();
    if (!S_ISSOCK(st.st_mode)) {
        slio_err_set(err, "RPC socket \"%s\" exists and is not a socket", path);
        return -EEXIST;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return slio_neg_errno();
    int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    int e = errno;
    close(fd);
    if (r == 0) {
        slio_err_set(err, "RPC socket \"%s\" is in use by another running target", path);
        return -EADDRINUSE;
    }
    if (e != ECONNREFUSED) {
        slio_err_set(err, "RPC socket \"%s\": cannot probe: %s", path, strerror(e));
        return -e;
    }
    log_info("removing stale RPC socket \"%s\"", path);
    if (unlink(path) < 0 && errno != ENOENT) {
        slio_err_set(err, "RPC socket \"%s\": cannot remove the stale file: %m", path);
        return slio_neg_errno();
    }
    return 0;
}

int tgt_rpc_server_open(const char *path, struct slio_err *err, struct tgt_rpc_server **ret)
{
    struct sockaddr_un sa;
    int r = make_addr(path, &sa);

    if (r < 0) {
        slio_err_set(err, "RPC socket path \"%.200s\" is empty or too long (at most %zu bytes)",
                     path, sizeof(sa.sun_path) - 1);
        return r;
    }
    r = check_existing(path, &sa, err);
    if (r < 0)
        return r;
    struct tgt_rpc_server *s = calloc(1, sizeof(*s));
    if (!s) {
        slio_err_set(err, "out of memory");
        return -ENOMEM;
    }
    memcpy(s->path, sa.sun_path, sizeof(s->path));
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s->fd, 64) < 0) {
        r = slio_neg_errno();
        slio_err_set(err, "RPC socket \"%s\": %s", path, strerror(-r));
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return r;
    }
    log_info("JSON-RPC server listening on \"%s\"", path);
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

static void accept_clients(struct tgt_rpc_server *s)
{
    for (;;) {
        int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log_warn("RPC socket \"%s\": accept: %m", s->path);
            return;
        }
        struct client *c = s->nr_clients < MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
        if (!c) {
            log_warn("RPC socket \"%s\": too many clients, refusing one", s->path);
            close(fd);
            continue;
        }
        c->fd = fd;
        tgt_rpc_stream_init(&c->st);
        slio_strbuf_init(&c->out, MAX_RESPONSE);
        s->clients[s->nr_clients++] = c;
    }
}

/* Returns false when the client must be closed now. */
static bool client_read(struct client *c)
{
    char buf[READ_CHUNK];
    ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    if (n == 0) {
        c->close_on_idle = true; /* answer what arrived, then close */
        return true;
    }
    if (tgt_rpc_stream_feed(&c->st, buf, (size_t)n, &c->out) < 0)
        c->close_on_idle = true;
    return true;
}

static bool client_write(struct client *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR;
        c->out_off += (size_t)n;
    }
    slio_strbuf_reset(&c->out);
    c->out_off = 0;
    return !c->close_on_idle;
}

int tgt_rpc_server_run(struct tgt_rpc_server *s, int stop_fd)
{
    struct pollfd pfd[MAX_CLIENTS + 2];

    for (;;) {
        unsigned n = s->nr_clients;
        pfd[0] = (struct pollfd){.fd = stop_fd, .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = s->fd, .events = POLLIN};
        for (unsigned i = 0; i < n; i++) {
            struct client *c = s->clients[i];
            bool pending = c->out.len > c->out_off;
            pfd[i + 2] = (struct pollfd){
                .fd = c->fd,
                .events = pending ? POLLOUT : (c->close_on_idle ? 0 : POLLIN),
            };
        }
        if (poll(pfd, n + 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return slio_neg_errno();
        }
        if (pfd[0].revents)
            return 0;
        /* backwards, as client_close moves the last client into the freed slot */
        for (unsigned i = n; i-- > 0;) {
            struct client *c = s->clients[i];
            bool ok = true;
            if (pfd[i + 2].revents & POLLIN)
                ok = client_read(c);
            else if (pfd[i + 2].revents & (POLLERR | POLLHUP | POLLNVAL) &&
                     !(pfd[i + 2].revents & POLLOUT))
                ok = false;
            if (ok && (c->out.len > c->out_off || c->close_on_idle))
                ok = client_write(c);
            if (!ok)
                client_close(s, i);
        }
        if (pfd[1].revents & POLLIN)
            accept_clients(s);
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
    free(s);
}
