/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for slio-perf's host receive path (perf/host/rx.c and the
 * controller bring-up in ctrl.c): the fuzz input is the whole byte stream a
 * controller sends on the admin queue (ICResp, CapsuleResp, C2HData, R2T,
 * C2HTermReq ...). A fake controller thread on 127.0.0.1 accepts the host's
 * connection, sends the input, closes its sending side and drains what the
 * host sends. The host must fail or succeed cleanly: no crash, leak or hang.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake_ctrl {
    int listen_fd;
    const uint8_t *data;
    size_t size;
};

static void *fake_ctrl_serve(void *arg)
{
    struct fake_ctrl *f = arg;
    int fd = accept(f->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    for (size_t off = 0; off < f->size;) {
        ssize_t n = send(fd, f->data + off, f->size - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    char sink[4096];
    while (recv(fd, sink, sizeof(sink), 0) > 0)
        ;
    close(fd);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int listen_fd = -1;
    static char port[8];
    if (listen_fd < 0) {
        uint16_t p;
        listen_fd = listen_loopback(&p);
        snprintf(port, sizeof(port), "%u", p);
    }

    struct fake_ctrl f = {.listen_fd = listen_fd, .data = data, .size = size};
    pthread_t thr;
    if (pthread_create(&thr, NULL, fake_ctrl_serve, &f) != 0)
        abort();

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
    pthread_join(thr, NULL);
    return 0;
}
