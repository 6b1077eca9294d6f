/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for slio-perf's host receive path (perf/host/rx.c and the
 * controller bring-up in ctrl.c): the fuzz input is the whole byte stream a
 * controller sends on the admin queue (ICResp, CapsuleResp, C2HData, R2T,
 * C2HTermReq ...). A fake controller thread on 127.0.0.1 (one for the run) accepts
 * the host's connection, sends the input, closes its sending side once the host has
 * gone quiet and drains what the host sends. The host must fail or succeed cleanly:
 * no crash, leak or hang.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * One fake controller thread for the whole run, handed one input at a time: a thread per
 * input made ASan's thread bookkeeping grow by about 250 bytes per created thread, so an
 * hour-long campaign crossed the 2 GiB RSS limit after 10 M inputs with no leak of ours.
 */
static struct fake_ctrl {
    pthread_mutex_t lock;
    pthread_cond_t work_cv, done_cv;
    bool pending; /* an input is handed over and not yet served */
    int listen_fd;
    const uint8_t *data;
    size_t size;
} fake = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .work_cv = PTHREAD_COND_INITIALIZER,
    .done_cv = PTHREAD_COND_INITIALIZER,
    .listen_fd = -1,
};

/* Serve one input: accept the host (it may have failed before connecting: give up after
 * 2 s), send the input, close the sending side once the host is quiet, drain the rest. */
static void fake_ctrl_serve_one(struct fake_ctrl *f)
{
    struct pollfd pfd = {.fd = f->listen_fd, .events = POLLIN};
    if (poll(&pfd, 1, 2000) != 1)
        return;
    int fd = accept(f->listen_fd, NULL, NULL);
    if (fd < 0)
        return;
    for (size_t off = 0; off < f->size;) {
        ssize_t n = send(fd, f->data + off, f->size - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    /* The end of the stream comes once the host has gone quiet for 2 ms, not with the
     * data: a FIN that arrives with the bytes would end the connection before the host
     * acted on them (sent its Connect, its Identify), and hide every path past ICResp. */
    char sink[4096];
    struct timeval quiet = {.tv_usec = 2000}, linger = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &quiet, sizeof(quiet));
    ssize_t n;
    while ((n = recv(fd, sink, sizeof(sink), 0)) > 0)
        ;
    if (n < 0) {
        shutdown(fd, SHUT_WR);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &linger, sizeof(linger));
        while (recv(fd, sink, sizeof(sink), 0) > 0)
            ;
    }
    close(fd);
}

static void *fake_ctrl_loop(void *arg)
{
    struct fake_ctrl *f = arg;
    for (;;) {
        pthread_mutex_lock(&f->lock);
        while (!f->pending)
            pthread_cond_wait(&f->work_cv, &f->lock);
        pthread_mutex_unlock(&f->lock);

        fake_ctrl_serve_one(f);

        pthread_mutex_lock(&f->lock);
        f->pending = false;
        pthread_cond_signal(&f->done_cv);
        pthread_mutex_unlock(&f->lock);
    }
    return NULL;
}

static int listen_loopback(uint16_t *ret_port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        perror("host_stream_fuzz: listen on 127.0.0.1");
        abort();
    }
    *ret_port = ntohs(sa.sin_port);
    return fd;
}

/* Should the host open more than the one connection served, the others wait in the listen
 * backlog: close them, or the next input's host would be left behind a stale connection
 * and never be served. */
static void fake_ctrl_discard_backlog(int listen_fd)
{
    struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
    while (poll(&pfd, 1, 0) == 1) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0)
            return;
        close(fd);
    }
}

/* The listener and the fake controller thread, once. */
static const char *fake_ctrl_start(void)
{
    static char port[8];
    if (fake.listen_fd >= 0)
        return port;
    uint16_t p;
    fake.listen_fd = listen_loopback(&p);
    snprintf(port, sizeof(port), "%u", p);
    pthread_t thr;
    if (pthread_create(&thr, NULL, fake_ctrl_loop, &fake) != 0)
        abort();
    pthread_detach(thr);
    return port;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *port = fake_ctrl_start();

    pthread_mutex_lock(&fake.lock);
    fake.data = data;
    fake.size = size;
    fake.pending = true;
    pthread_cond_signal(&fake.work_cv);
    pthread_mutex_unlock(&fake.lock);

    struct slio_host_opts opts = {
        .traddr = "127.0.0.1",
        .trsvcid = port,
        .subnqn = "nqn.2024-01.io.slite:fuzz",
        .hostid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
        .hdgst = size > 0 && (data[0] & 1),
        .ddgst = size > 0 && (data[0] & 2),
        .kato_ms = 0,
        .timeout_ms = 200,
    };
    struct slio_host_ctrl *ctrl = NULL;
    char err[SLIO_HOST_ERR_LEN];
    if (slio_host_ctrl_connect(&opts, &ctrl, err, sizeof(err)) == 0) {
        struct nvme_id_ns ns;
        (void)slio_host_identify_ns(ctrl, 1, &ns);
        slio_host_ctrl_disconnect(ctrl); /* also frees */
    }
    /* the input's bytes must outlive the fake controller's use of them */
    pthread_mutex_lock(&fake.lock);
    while (fake.pending)
        pthread_cond_wait(&fake.done_cv, &fake.lock);
    pthread_mutex_unlock(&fake.lock);
    fake_ctrl_discard_backlog(fake.listen_fd);
    return 0;
}
