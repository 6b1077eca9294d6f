/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A raw-socket HTTP peer for the server tests: it sends exactly the bytes a
 * test gives (malformed, oversized, half-finished) and reads what comes
 * back, with deadlines so a broken server fails a test instead of hanging it.
 */
#ifndef SLIO_TEST_HTTP_PEER_H
#define SLIO_TEST_HTTP_PEER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PEER_DEADLINE_MS 10000

static inline int peer_connect(uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static inline bool peer_send(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static inline int64_t peer_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read until the server closes (or the deadline passes). Returns a malloc'd
 * NUL-terminated buffer ("" when the server closed without a byte); *closed
 * says whether it was a close (EOF or reset) rather than the deadline.
 */
static inline char *peer_read_all(int fd, bool *closed)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    int64_t deadline = peer_now_ms() + PEER_DEADLINE_MS;

    *closed = false;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = deadline - peer_now_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n <= 0) {
            *closed = true;
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

/* Send a whole request (which should say "Connection: close") and read the answer. */
static inline char *peer_exchange(uint16_t port, const char *req, size_t len)
{
    int fd = peer_connect(port);
    bool closed;
    char *resp;

    if (fd < 0)
        return NULL;
    peer_send(fd, req, len);
    resp = peer_read_all(fd, &closed);
    close(fd);
    return resp;
}

/* "HTTP/1.1 404 Not Found..." → 404; 0 when the text is no status line. */
static inline unsigned peer_status(const char *resp)
{
    if (!resp || strncmp(resp, "HTTP/1.", 7) != 0 || strlen(resp) < 12)
        return 0;
    return (unsigned)((resp[9] - '0') * 100 + (resp[10] - '0') * 10 + (resp[11] - '0'));
}

/* The body: what follows the blank line. */
static inline const char *peer_body(const char *resp)
{
    const char *p = resp ? strstr(resp, "\r\n\r\n") : NULL;

    return p ? p + 4 : "";
}

#endif
