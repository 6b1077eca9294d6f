/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reactor threads, listeners and accept over real TCP on 127.0.0.1: refcounted
 * listeners, round-robin distribution, messages, stats, and that an idle
 * target does not burn CPU, on both engines (io_uring and epoll); and that no
 * message to a sleeping reactor is ever left waiting for a doorbell.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_nvmf.h"
#include "transport/transport_internal.h"

static struct tgt_listen_addr g_la = {.trtype = "TCP", .adrfam = "IPv4", .traddr = "127.0.0.1"};
static uint16_t g_port;

static uint16_t free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static int tcp_connect(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(g_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 2};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

static void icreq_roundtrip(int fd)
{
    uint8_t ic[128], rsp[128];
    size_t got = 0;

    assert_int_equal(send(fd, ic, host_icreq(ic, 0, 0, 0), 0), 128);
    while (got < sizeof(rsp)) {
        ssize_t n = recv(fd, rsp + got, sizeof(rsp) - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_int_equal(rsp[0], NVME_TCP_ICRESP);
}

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

static _Atomic unsigned g_msgs;
static _Atomic(struct tgt_reactor *) g_ran_on;

static void count_msg(void *arg)
{
    g_ran_on = tgt_reactor_current();
    g_msgs++;
}

/*
 * io_uring may be compiled out or refused (seccomp, old kernel). That fails
 * the io_uring variants, so that CI cannot pass without testing the engine,
 * unless SLIO_ALLOW_NO_IO_URING=1 says this machine is known to lack it.
 */
static void need_engine(enum tgt_engine_kind kind)
{
    struct bio_uring *probe;

    if (kind != TGT_ENGINE_URING)
        return;
    if (bio_uring_create(4, &probe) < 0) {
        if (test_no_io_uring_allowed())
            skip();
        fail_msg("io_uring unavailable");
    }
    bio_uring_destroy(probe);
}

static void test_listen_accept(void **state)
{
    struct tgt_reactor_opts o = {
        .count = 2, .engine = *(enum tgt_engine_kind *)*state, .poll_us = 50};

    need_engine(o.engine);
    g_msgs = 0;
    g_port = free_port();
    snprintf(g_la.trsvcid, sizeof(g_la.trsvcid), "%u", g_port);
    /* a listener added before the reactors start is attached when they do */
    assert_int_equal(tgt_listener_add(&g_la), 0);
    assert_int_equal(tgt_reactors_start(&o), 0);
    assert_int_equal(tgt_reactor_count(), 2);
    assert_int_equal(tgt_listener_add(&g_la), 0); /* refcount 2 */

    /* messages run on the target reactor */
    assert_int_equal(tgt_reactor_post(reactor_get(1), count_msg, NULL), 0);
    for (int i = 0; i < 200 && g_msgs == 0; i++)
        sleep_ms(1);
    assert_int_equal(g_msgs, 1);
    assert_ptr_equal(g_ran_on, reactor_get(1));

    int a = tcp_connect(), b = tcp_connect();
    assert_true(a >= 0 && b >= 0);
    icreq_roundtrip(a);
    icreq_roundtrip(b);
    /* round-robin: one connection per reactor */
    assert_int_equal(reactor_get(0)->nconns + reactor_get(1)->nconns, 2);
    assert_int_equal(reactor_get(0)->nconns, 1);

    /* idle with connections: only the 10 ms tick wakes the reactors */
    sleep_ms(50);
    double c0 = cpu_seconds();
    sleep_ms(500);
    double used = cpu_seconds() - c0;
    print_message("CPU used by an idle target with 2 connections: %.1f ms per s\n",
                  used * 1000 / 0.5);
    assert_true(used < 0.05);

    struct tgt_reactor_stats st[4];
    assert_int_equal(tgt_reactor_get_stats(st, 4), 2);
    assert_true(st[0].idle_sleeps > 0);
    assert_string_equal(st[1].name, "nvmf_tgt_poll_group_001");

    close(a);
    close(b);
    assert_int_equal(tgt_listener_remove(&g_la), 0);
    int c = tcp_connect();
    assert_true(c >= 0); /* still listening: one reference left */
    close(c);
    assert_int_equal(tgt_listener_remove(&g_la), 0);
    assert_int_equal(tgt_listener_remove(&g_la), -ENOENT);
    /*
     * The removal runs on reactor 0 a moment later: until then connections
     * are still accepted, and one racing with the socket leaving the LISTEN
     * state is reset (ECONNRESET, seen under load). Then every one is refused.
     */
    for (int i = 0; i < 200 && (c = tcp_connect()) != -ECONNREFUSED; i++) {
        if (c >= 0)
            close(c);
        sleep_ms(1);
    }
    assert_int_equal(c, -ECONNREFUSED);

    /* no connections at all: reactors block indefinitely */
    for (int i = 0; i < 200 && (reactor_get(0)->nconns || reactor_get(1)->nconns); i++)
        sleep_ms(1);
    c0 = cpu_seconds();
    sleep_ms(300);
    assert_true(cpu_seconds() - c0 < 0.01);
    tgt_reactors_stop();
    assert_int_equal(tgt_reactor_count(), 0);
}

static void test_transport_opts(void **state)
{
    struct tgt_transport_opts o = *tgt_transport_get_opts();

    assert_int_equal(o.max_io_size, 131072);
    o.max_queue_depth = 1;
    assert_int_equal(tgt_transport_create(&o), -EINVAL);
    o.max_queue_depth = 128;
    o.max_io_size = 4096 * 3 + 1;
    assert_int_equal(tgt_transport_create(&o), -EINVAL);
    o.max_io_size = 65536;
    o.in_capsule_data_size = 100;
    assert_int_equal(tgt_transport_create(&o), -EINVAL);
    o.in_capsule_data_size = 4096;
    assert_false(tgt_transport_created());
    assert_int_equal(tgt_transport_create(&o), 0);
    assert_true(tgt_transport_created());
    assert_int_equal(tgt_transport_get_opts()->io_unit_size, 65536); /* clamped */
    assert_int_equal(tgt_transport_create(&o), -EEXIST);
}

static void wait_msgs(unsigned want)
{
    uint64_t deadline = tgt_now_us() + 2000000;

    while (g_msgs < want && tgt_now_us() < deadline)
        ;
    assert_int_equal(g_msgs, want);
}

/*
 * Ping-pong messages with a reactor that never spins (poll_us 0) and has no
 * connection, so it sleeps without a timeout between messages: a doorbell
 * consumed without draining the mailbox would leave a message (and later
 * the stop) waiting forever. The io_uring engine once lost one in ~1 run of
 * 20 this way: it reaps completions, and so reads the doorbell, after the
 * loop's drain. Bursts of messages posted back to back cover the other case
 * (no doorbell rung for all but the first).
 */
static void test_mailbox_never_stalls(void **state)
{
    struct tgt_reactor_opts o = {
        .count = 1, .engine = *(enum tgt_engine_kind *)*state, .poll_us = 0};

    need_engine(o.engine);
    g_msgs = 0;
    assert_int_equal(tgt_reactors_start(&o), 0);
    for (unsigned i = 1; i <= 20000; i++) {
        assert_int_equal(tgt_reactor_post(reactor_get(0), count_msg, NULL), 0);
        if (i % 100 == 0)
            for (unsigned j = 0; j < 5; j++, i++)
                assert_int_equal(tgt_reactor_post(reactor_get(0), count_msg, NULL), 0);
        wait_msgs(i);
    }
    tgt_reactors_stop(); /* hangs if the stop message is not seen */
    assert_int_equal(tgt_reactor_count(), 0);
}

/* A TCP connection to the listener from a chosen loopback source address. */
static int tcp_connect_from(const char *src)
{
    struct sockaddr_in me = {.sin_family = AF_INET};
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(g_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 2};

    assert_true(fd >= 0);
    assert_int_equal(inet_pton(AF_INET, src, &me.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* The target closed fd without a byte (EOF or reset), within SO_RCVTIMEO. */
static void expect_refused(int fd)
{
    uint8_t ic[128], b;

    (void)send(fd, ic, host_icreq(ic, 0, 0, 0), MSG_NOSIGNAL);
    ssize_t n = recv(fd, &b, 1, 0);
    assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
    close(fd);
}

static void wait_total(uint32_t want)
{
    for (int i = 0; i < 2000 && conn_limits_total() != want; i++)
        sleep_ms(1);
    assert_int_equal(conn_limits_total(), want);
}

static void start_one(enum tgt_engine_kind engine)
{
    struct tgt_reactor_opts o = {.count = 1, .engine = engine, .poll_us = 0};

    g_port = free_port();
    snprintf(g_la.trsvcid, sizeof(g_la.trsvcid), "%u", g_port);
    assert_int_equal(tgt_reactors_start(&o), 0);
    assert_int_equal(tgt_listener_add(&g_la), 0);
}

/* Finding 1: total and per-source connection caps, given back when connections go. */
static void test_connection_caps(void **state)
{
    enum tgt_engine_kind engine = *(enum tgt_engine_kind *)*state;
    struct tgt_conn_limits l = TGT_CONN_LIMITS_DEFAULT;

    need_engine(engine);
    l.max_conns = 3;
    l.max_conns_per_host = 2;
    tgt_conn_limits_set(&l);
    start_one(engine);
    int a1 = tcp_connect_from("127.0.0.1"), a2 = tcp_connect_from("127.0.0.1");
    icreq_roundtrip(a1);
    icreq_roundtrip(a2);
    expect_refused(tcp_connect_from("127.0.0.1")); /* a third from one address */
    int b1 = tcp_connect_from("127.0.0.2");
    icreq_roundtrip(b1);
    expect_refused(tcp_connect_from("127.0.0.3")); /* a fourth in total */
    wait_total(3);
    close(a1);
    wait_total(2);
    int a3 = tcp_connect_from("127.0.0.1");
    icreq_roundtrip(a3);
    close(a2);
    close(a3);
    close(b1);
    wait_total(0);
    assert_int_equal(tgt_listener_remove(&g_la), 0);
    tgt_reactors_stop();
    l = (struct tgt_conn_limits)TGT_CONN_LIMITS_DEFAULT;
    tgt_conn_limits_set(&l);
}

static uint64_t loop_iterations(void)
{
    struct tgt_reactor_stats st;

    assert_int_equal(tgt_reactor_get_stats(&st, 1), 1);
    return st.busy_polls + st.idle_sleeps;
}

/*
 * Finding 2: with no file descriptor left, a pending connection is accepted
 * and closed with the reserve descriptor instead of waking the reactor
 * forever (the listener is level-triggered).
 */
static void test_out_of_descriptors(void **state)
{
    enum tgt_engine_kind engine = *(enum tgt_engine_kind *)*state;
    static int fill[4096];
    struct rlimit old, low;
    int nfill = 0;

    need_engine(engine);
    start_one(engine);
    int ok = tcp_connect();
    icreq_roundtrip(ok); /* the listener has been used: its reserve descriptor is open */
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int top = open("/dev/null", O_RDONLY);
    assert_true(top >= 0 && top + 1 < (int)SLIO_ARRAY_SIZE(fill));
    low = old;
    low.rlim_cur = (rlim_t)top + 1;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    fill[nfill++] = top;
    for (int fd; nfill < (int)SLIO_ARRAY_SIZE(fill) && (fd = open("/dev/null", O_RDONLY)) >= 0;)
        fill[nfill++] = fd;
    assert_int_equal(errno, EMFILE);
    close(fill[--nfill]); /* room for the client's socket only */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(g_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 2};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    uint64_t before = loop_iterations();
    assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
    expect_refused(c); /* closed by the target, not left to time out */
    sleep_ms(200);
    uint64_t spins = loop_iterations() - before;
    while (nfill > 0)
        close(fill[--nfill]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    print_message("reactor iterations while out of descriptors: %lu\n", (unsigned long)spins);
    assert_true(spins < 200); /* 10 ms ticks for one connection; spinning makes millions */
    close(ok);
    wait_total(0);
    assert_int_equal(tgt_listener_remove(&g_la), 0);
    tgt_reactors_stop();
}

/*
 * Finding 2, without even the reserve descriptor (it could not be reopened,
 * ENFILE): the listener is not watched for a while instead of waking its
 * reactor at once, forever; it is watched again later, and a connection
 * that waited is served once descriptors are free.
 */
static void test_out_of_descriptors_no_reserve(void **state)
{
    enum tgt_engine_kind engine = *(enum tgt_engine_kind *)*state;
    static int fill[4096];
    struct rlimit old, low;
    int nfill = 0;

    need_engine(engine);
    start_one(engine);
    int ok = tcp_connect();
    icreq_roundtrip(ok);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int top = open("/dev/null", O_RDONLY);
    assert_true(top >= 0 && top + 1 < (int)SLIO_ARRAY_SIZE(fill));
    low = old;
    low.rlim_cur = (rlim_t)top + 1;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    fill[nfill++] = top;
    listener_reserve_drop(); /* the reactor is idle: it does not touch the reserve now */
    for (int fd; nfill < (int)SLIO_ARRAY_SIZE(fill) && (fd = open("/dev/null", O_RDONLY)) >= 0;)
        fill[nfill++] = fd;
    close(fill[--nfill]); /* room for the client's socket only */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(g_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 5};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    uint64_t before = loop_iterations();
    assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
    sleep_ms(300);
    uint64_t spins = loop_iterations() - before;
    while (nfill > 0)
        close(fill[--nfill]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    print_message("reactor iterations while out of descriptors, no reserve: %lu\n",
                  (unsigned long)spins);
    assert_true(spins < 300); /* paused 100 ms at a time; spinning makes millions */
    icreq_roundtrip(c);       /* watched again: the connection that waited is served */
    close(c);
    close(ok);
    wait_total(0);
    assert_int_equal(tgt_listener_remove(&g_la), 0);
    tgt_reactors_stop();
}

int main(void)
{
    static enum tgt_engine_kind uring = TGT_ENGINE_URING, epoll = TGT_ENGINE_EPOLL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transport_opts),
        cmocka_unit_test_prestate(test_listen_accept, &uring),
        cmocka_unit_test_prestate(test_listen_accept, &epoll),
        cmocka_unit_test_prestate(test_mailbox_never_stalls, &uring),
        cmocka_unit_test_prestate(test_mailbox_never_stalls, &epoll),
        cmocka_unit_test_prestate(test_connection_caps, &uring),
        cmocka_unit_test_prestate(test_connection_caps, &epoll),
        cmocka_unit_test_prestate(test_out_of_descriptors, &uring),
        cmocka_unit_test_prestate(test_out_of_descriptors, &epoll),
        cmocka_unit_test_prestate(test_out_of_descriptors_no_reserve, &uring),
        cmocka_unit_test_prestate(test_out_of_descriptors_no_reserve, &epoll),
    };

    fake_reset();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
