/* SPDX-License-Identifier: Apache-2.0 */
/* The registry: bdevs on temporary files, subsystems, ACLs, discovery, namespace lifetime. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry/registry_mgmt.h"
#include "slio/uuid.h"
#include "tgt_fakes.h"

#define NQN1  "nqn.2016-06.io.spdk:cnode1"
#define NQN2  "nqn.2016-06.io.spdk:cnode2"
#define HOSTA "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-0000-0000-0000-000000000001"
#define HOSTB "nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-0000-0000-0000-000000000002"

static char g_dir[64];
static char g_file[128];

static void make_file(const char *path, off_t size)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), size), 0);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    fakes_reset();
    snprintf(g_dir, sizeof(g_dir), "/tmp/slio-reg-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    snprintf(g_file, sizeof(g_file), "%s/disk0", g_dir);
    make_file(g_file, 1 << 20);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tgt_registry_clear();
    assert_int_equal(fakes.listeners, 0); /* every listener opened was closed */
    unlink(g_file);
    rmdir(g_dir);
    return 0;
}

static struct tgt_bdev *create_bdev(const char *name, uint32_t bs)
{
    struct tgt_bdev_opts o = {.name = name, .filename = g_file, .block_size = bs};
    struct slio_err e = {{0}};
    struct tgt_bdev *b = NULL;
    assert_int_equal(tgt_bdev_create_ex(&o, &e, &b), 0);
    return b; /* the caller holds a reference */
}

static void create_subsys(const char *nqn, bool any, uint32_t max_ns)
{
    struct tgt_subsys_opts o = {.nqn = nqn, .allow_any_host = any, .max_namespaces = max_ns};
    struct slio_err e = {{0}};
    assert_int_equal(tgt_subsys_create(&o, &e), 0);
}

static uint32_t add_ns(const char *nqn, const char *bdev, uint32_t nsid)
{
    struct tgt_ns_opts o = {.bdev_name = bdev, .nsid = nsid};
    struct slio_err e = {{0}};
    uint32_t got = 0;
    assert_int_equal(tgt_subsys_add_ns(nqn, &o, &e, &got), 0);
    return got;
}

static void test_bdev_create(void **state)
{
    (void)state;
    struct slio_err e = {{0}};
    struct tgt_bdev *b = create_bdev("aio0", 0);

    assert_string_equal(b->name, "aio0");
    assert_string_equal(b->filename, g_file);
    assert_int_equal(b->block_size, 512);
    assert_int_equal(tgt_bdev_num_blocks(b), 2048);
    assert_false(b->is_blockdev);
    assert_true(b->write_cache);
    assert_true(b->fd >= 0);
    assert_false(slio_uuid_is_null(b->uuid));
    tgt_bdev_put(b);

    b = create_bdev("aio4k", 4096);
    assert_int_equal(tgt_bdev_num_blocks(b), 256);
    tgt_bdev_put(b);

    struct tgt_bdev_opts dup = {.name = "aio0", .filename = g_file};
    assert_int_equal(tgt_bdev_create_ex(&dup, &e, NULL), -EEXIST);
    assert_string_equal(e.text, "bdev aio0 already exists");

    struct tgt_bdev_opts bad_bs = {.name = "x", .filename = g_file, .block_size = 1000};
    assert_int_equal(tgt_bdev_create_ex(&bad_bs, &e, NULL), -EINVAL);
    assert_non_null(strstr(e.text, "block_size 1000"));

    struct tgt_bdev_opts missing = {.name = "y", .filename = "/nonexistent/slio-disk"};
    assert_int_equal(tgt_bdev_create_ex(&missing, &e, NULL), -ENOENT);
    assert_non_null(strstr(e.text, "\"/nonexistent/slio-disk\""));

    uint8_t u[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    struct tgt_bdev_opts with_uuid = {.name = "u", .filename = g_file, .uuid = u};
    assert_int_equal(tgt_bdev_create_ex(&with_uuid, &e, &b), 0);
    assert_memory_equal(b->uuid, u, 16);
    tgt_bdev_put(b);

    assert_int_equal(tgt_bdev_delete_ex("nope", &e), -ENODEV);
    assert_int_equal(tgt_bdev_delete_ex("u", &e), 0);
    assert_null(tgt_bdev_find_get("u"));
}

static void test_bdev_too_small(void **state)
{
    (void)state;
    struct slio_err e = {{0}};
    char small[160];

    snprintf(small, sizeof(small), "%s/small", g_dir);
    make_file(small, 100);
    struct tgt_bdev_opts o = {.name = "s", .filename = small};
    assert_int_equal(tgt_bdev_create_ex(&o, &e, NULL), -EINVAL);
    assert_non_null(strstr(e.text, "smaller than one block"));
    unlink(small);
}

static void test_bdev_rescan(void **state)
{
    (void)state;
    struct slio_err e = {{0}};
    struct tgt_bdev *b = create_bdev("aio0", 0);

    create_subsys(NQN1, true, 0);
    assert_int_equal(add_ns(NQN1, "aio0", 0), 1);
    fakes.nr_ns_changed = 0;

    assert_int_equal(tgt_bdev_rescan_ex("aio0", &e), 0);
    assert_int_equal(fakes.nr_ns_changed, 0); /* same size: no event */

    assert_int_equal(truncate(g_file, 2 << 20), 0);
    assert_int_equal(tgt_bdev_rescan_ex("aio0", &e), 0);
    assert_int_equal(tgt_bdev_num_blocks(b), 4096);
    assert_int_equal(fakes.nr_ns_changed, 1);
    assert_string_equal(fakes.ns_changed[0].nqn, NQN1);
    assert_int_equal(fakes.ns_changed[0].nsid, 1);
    assert_int_equal(tgt_bdev_rescan_ex("missing", &e), -ENODEV);
    tgt_bdev_put(b);
}

static void test_bdev_delete_busy(void **state)
{
    (void)state;
    struct slio_err e = {{0}};

    tgt_bdev_put(create_bdev("aio0", 0));
    create_subsys(NQN1, true, 4);
    add_ns(NQN1, "aio0", 0);
    assert_int_equal(tgt_bdev_delete_ex("aio0", &e), -EBUSY);
    assert_non_null(strstr(e.text, "aio0"));
    assert_int_equal(tgt_subsys_remove_ns(NQN1, 1, &e), 0);
    assert_int_equal(tgt_bdev_delete_ex("aio0", &e), 0);
}

/* Latency sum, max and min of each kind, as bdev_get_iostat reports them. */
static void test_bdev_latency(void **state)
{
    (void)state;
    struct tgt_bdev *b = create_bdev("aio0", 0);
    const uint64_t reads[] = {40, 7, 0, 12, 90, 7};
    uint64_t sum = 0, max = 0, min = UINT64_MAX;

    for (int k = 0; k < TGT_BDEV_IO_KINDS; k++) {
        assert_int_equal(tgt_bdev_latency_max(b, k), 0);
        assert_int_equal(tgt_bdev_latency_min(b, k), 0); /* none completed: 0, as SPDK */
    }
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(reads); i++) {
        tgt_bdev_account_latency(b, TGT_BDEV_IO_READ, reads[i]);
        sum += reads[i];
        max = reads[i] > max ? reads[i] : max;
        min = reads[i] < min ? reads[i] : min;
        assert_int_equal(tgt_bdev_latency_max(b, TGT_BDEV_IO_READ), max);
        assert_int_equal(tgt_bdev_latency_min(b, TGT_BDEV_IO_READ), min);
    }
    assert_int_equal(atomic_load(&b->read_latency_ticks), sum);
    /* a 0 µs read (tmpfs) is a real minimum, not "none yet": larger ones do not replace it */
    assert_int_equal(min, 0);

    /* the kinds are independent; unmap has a sum of its own */
    tgt_bdev_account_latency(b, TGT_BDEV_IO_UNMAP, 25);
    tgt_bdev_account_latency(b, TGT_BDEV_IO_UNMAP, 15);
    assert_int_equal(atomic_load(&b->unmap_latency_ticks), 25 + 15);
    assert_int_equal(tgt_bdev_latency_max(b, TGT_BDEV_IO_UNMAP), 25);
    assert_int_equal(tgt_bdev_latency_min(b, TGT_BDEV_IO_UNMAP), 15);
    assert_int_equal(atomic_load(&b->write_latency_ticks), 0);
    assert_int_equal(tgt_bdev_latency_max(b, TGT_BDEV_IO_WRITE), 0);
    assert_int_equal(tgt_bdev_latency_min(b, TGT_BDEV_IO_WRITE), 0);
    assert_int_equal(atomic_load(&b->read_latency_ticks), sum);
    tgt_bdev_put(b);
}

#define LAT_THREADS 4
#define LAT_PER     20000

struct lat_thread {
    struct tgt_bdev *b;
    unsigned seed;
    uint64_t sum, max, min; /* what this thread accounted */
};

static void *lat_loop(void *arg)
{
    struct lat_thread *t = arg;

    t->min = UINT64_MAX;
    for (int i = 0; i < LAT_PER; i++) {
        uint64_t us = 1 + (uint64_t)(rand_r(&t->seed) % 100000);
        tgt_bdev_account_latency(t->b, TGT_BDEV_IO_WRITE, us);
        t->sum += us;
        t->max = us > t->max ? us : t->max;
        t->min = us < t->min ? us : t->min;
    }
    return NULL;
}

/* Reactors account completions concurrently: no update of the extremes is lost. */
static void test_bdev_latency_concurrent(void **state)
{
    (void)state;
    struct tgt_bdev *b = create_bdev("aio0", 0);
    struct lat_thread t[LAT_THREADS];
    pthread_t th[LAT_THREADS];
    uint64_t sum = 0, max = 0, min = UINT64_MAX;

    for (unsigned i = 0; i < LAT_THREADS; i++) {
        t[i] = (struct lat_thread){.b = b, .seed = i + 1};
        assert_int_equal(pthread_create(&th[i], NULL, lat_loop, &t[i]), 0);
    }
    for (unsigned i = 0; i < LAT_THREADS; i++) {
        pthread_join(th[i], NULL);
        sum += t[i].sum;
        max = t[i].max > max ? t[i].max : max;
        min = t[i].min < min ? t[i].min : min;
    }
    assert_int_equal(atomic_load(&b->write_latency_ticks), sum);
    assert_int_equal(tgt_bdev_latency_max(b, TGT_BDEV_IO_WRITE), max);
    assert_int_equal(tgt_bdev_latency_min(b, TGT_BDEV_IO_WRITE), min);
    tgt_bdev_put(b);
}

static void test_subsys_create(void **state)
{
    (void)state;
    struct slio_err e = {{0}};
    char long_nqn[300];

    create_subsys(NQN1, false, 0);
    struct tgt_subsys *s = tgt_subsys_find_get(NQN1);
    assert_non_null(s);
    assert_string_equal(tgt_subsys_nqn(s), NQN1);
    assert_int_equal(tgt_subsys_type(s), TGT_SUBSYS_NVME);
    assert_string_equal(tgt_subsys_model(s), "SLiteIO Controller");
    assert_string_equal(tgt_subsys_serial(s), "00000000000000000000");
    assert_int_equal(tgt_subsys_max_nsid(s), TGT_MAX_NAMESPACES);
    tgt_subsys_put(s);

    struct tgt_subsys_opts dup = {.nqn = NQN1};
    assert_int_equal(tgt_subsys_create(&dup, &e), -EEXIST);
    assert_string_equal(e.text, "Subsystem " NQN1 " already exists");

    memset(long_nqn, 'a', sizeof(long_nqn));
    memcpy(long_nqn, "nqn.2016-06.io.spdk:", 20);
    long_nqn[260] = '\0';
    struct tgt_subsys_opts lng = {.nqn = long_nqn};
    assert_int_equal(tgt_subsys_create(&lng, &e), -EINVAL);
    assert_non_null(strstr(e.text, "'nqn'"));
    struct tgt_subsys_opts bad = {.nqn = "iqn.2016-06.io.spdk:x"};
    assert_int_equal(tgt_subsys_create(&bad, &e), -EINVAL);
    /* the check the RPC makes on its own gives the same answer and text */
    struct slio_err e2 = {{0}};
    assert_int_equal(tgt_subsys_nqn_check(bad.nqn, &e2), -EINVAL);
    assert_string_equal(e2.text, e.text);
    assert_int_equal(tgt_subsys_nqn_check(long_nqn, &e2), -EINVAL);
    assert_non_null(strstr(e2.text, "longer than 223 bytes"));
    assert_int_equal(tgt_subsys_nqn_check(NQN2, &e2), 0);
    struct tgt_subsys_opts serial = {.nqn = NQN2, .serial = "012345678901234567890"};
    assert_int_equal(tgt_subsys_create(&serial, &e), -EINVAL);
    assert_non_null(strstr(e.text, "serial_number"));
    struct tgt_subsys_opts disc = {.nqn = TGT_DISCOVERY_NQN};
    assert_int_equal(tgt_subsys_create(&disc, &e), -EEXIST);

    s = tgt_subsys_find_get(TGT_DISCOVERY_NQN);
    assert_non_null(s);
    assert_int_equal(tgt_subsys_type(s), TGT_SUBSYS_DISCOVERY);
    assert_true(tgt_subsys_host_allowed(s, HOSTA));
    tgt_subsys_put(s);
    assert_int_equal(tgt_subsys_delete(TGT_DISCOVERY_NQN, &e), -EPERM);
    assert_int_equal(tgt_subsys_delete(NQN2, &e), -ENOENT);
    assert_int_equal(tgt_subsys_delete(NQN1, &e), 0);
    assert_null(tgt_subsys_find_get(NQN1));
}

static void test_namespaces(void **state)
{
    (void)state;
    struct slio_err e = {{0}};
    uint32_t ids[8], nsid;

    tgt_bdev_put(create_bdev("a", 0));
    tgt_bdev_put(create_bdev("b", 0));
    tgt_bdev_put(create_bdev("c", 0));
    create_subsys(NQN1, true, 4);
    fakes.nr_ns_changed = 0;
    assert_int_equal(add_ns(NQN1, "a", 0), 1);
    assert_int_equal(add_ns(NQN1, "b", 0), 2);
    assert_int_equal(fakes.nr_ns_changed, 2);
    assert_int_equal(fakes.ns_changed[1].nsid, 2);

    struct tgt_ns_opts again = {.bdev_name = "a"};
    assert_int_equal(tgt_subsys_add_ns(NQN1, &again, &e, &nsid), -EBUSY);
    struct tgt_ns_opts high = {.bdev_name = "c", .nsid = 5};
    assert_int_equal(tgt_subsys_add_ns(NQN1, &high, &e, &nsid), -EINVAL);
    struct tgt_ns_opts taken = {.bdev_name = "c", .nsid = 2};
    assert_int_equal(tgt_subsys_add_ns(NQN1, &taken, &e, &nsid), -EEXIST);
    struct tgt_ns_opts nobdev = {.bdev_name = "zz"};
    assert_int_equal(tgt_subsys_add_ns(NQN1, &nobdev, &e, &nsid), -ENODEV);
    assert_string_equal(e.text, "bdev zz not found");
    assert_int_equal(tgt_subsys_add_ns(NQN2, &nobdev, &e, &nsid), -ENOENT);
    assert_string_equal(e.text, "Subsystem " NQN2 " not found");

    assert_int_equal(tgt_subsys_remove_ns(NQN1, 1, &e), 0);
    assert_int_equal(tgt_subsys_remove_ns(NQN1, 1, &e), -ENOENT);
    assert_int_equal(add_ns(NQN1, "c", 0), 1); /* lowest free */
    assert_int_equal(add_ns(NQN1, "a", 4), 4);

    struct tgt_subsys *s = tgt_subsys_find_get(NQN1);
    assert_int_equal(tgt_subsys_active_nsids(s, 0, ids, 8), 3);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    assert_int_equal(ids[2], 4);
    assert_int_equal(tgt_subsys_active_nsids(s, 2, ids, 8), 1);
    assert_int_equal(ids[0], 4);
    assert_int_equal(tgt_subsys_active_nsids(s, 0, ids, 1), 1);
    struct tgt_ns *ns = tgt_ns_get_io(s, 1);
    assert_non_null(ns);
    assert_string_equal(ns->bdev->name, "c");
    assert_memory_equal(ns->uuid, ns->bdev->uuid, 16);  /* derived from the bdev */
    assert_memory_equal(ns->nguid, ns->bdev->uuid, 16); /* derived from the bdev */
    tgt_ns_put(ns);
    assert_null(tgt_ns_get_io(s, 3));
    assert_null(tgt_ns_get_io(s, 0));
    assert_null(tgt_ns_get_io(s, 5));
    tgt_subsys_put(s);
}

static void test_ns_refcount(void **state)
{
    (void)state;
    struct slio_err e = {{0}};
    struct tgt_bdev *b = create_bdev("aio0", 0); /* registry + ours */

    create_subsys(NQN1, true, 0);
    add_ns(NQN1, "aio0", 0);
    assert_int_equal(atomic_load(&b->refs), 3); /* + the namespace */
    struct tgt_subsys *s = tgt_subsys_find_get(NQN1);
    struct tgt_ns *ns = tgt_ns_get_io(s, 1);
    assert_non_null(ns);
    assert_int_equal(atomic_load(&ns->refs), 2);

    assert_int_equal(tgt_subsys_remove_ns(NQN1, 1, &e), 0);
    assert_null(tgt_ns_get_io(s, 1));            /* no longer active */
    assert_int_equal(atomic_load(&ns->refs), 1); /* but alive for the I/O in flight */
    assert_string_equal(ns->bdev->name, "aio0");
    assert_int_equal(tgt_bdev_delete_ex("aio0", &e), 0); /* no longer claimed */
    assert_int_equal(atomic_load(&b->refs), 2);
    tgt_ns_put(ns); /* frees the namespace and its bdev reference */
    assert_int_equal(atomic_load(&b->refs), 1);
    tgt_bdev_put(b);
    tgt_subsys_put(s);
}

static void test_host_acl(void **state)
{
    (void)state;
    struct slio_err e = {{0}};

    create_subsys(NQN1, false, 0);
    struct tgt_subsys *s = tgt_subsys_find_get(NQN1);
    assert_false(tgt_subsys_host_allowed(s, HOSTA));
    assert_int_equal(tgt_subsys_add_host(NQN1, HOSTA, &e), 0);
    assert_int_equal(tgt_subsys_add_host(NQN1, HOSTA, &e), 0); /* idempotent */
    assert_true(tgt_subsys_host_allowed(s, HOSTA));
    assert_false(tgt_subsys_host_allowed(s, HOSTB));
    assert_false(tgt_subsys_host_allowed(s, NULL));
    assert_int_equal(tgt_subsys_add_host(NQN1, "not-an-nqn", &e), -EINVAL);
    assert_non_null(strstr(e.text, "'host'"));
    assert_int_equal(tgt_subsys_add_host(NQN2, HOSTA, &e), -ENOENT);
    assert_int_equal(tgt_subsys_add_host(TGT_DISCOVERY_NQN, HOSTA, &e), -EPERM);

    fakes.nr_access_changed = 0;
    assert_int_equal(tgt_subsys_remove_host(NQN1, HOSTA, &e), 0);
    assert_false(tgt_subsys_host_allowed(s, HOSTA));
    assert_int_equal(fakes.nr_access_changed, 1);
    assert_string_equal(fakes.access_changed[0].nqn, NQN1);
    assert_int_equal(tgt_subsys_remove_host(NQN1, HOSTA, &e), -ENOENT);

    assert_int_equal(tgt_subsys_set_allow_any_host(NQN1, true, &e), 0);
    assert_true(tgt_subsys_host_allowed(s, HOSTB));
    assert_int_equal(tgt_subsys_set_allow_any_host(NQN1, false, &e), 0);
    assert_false(tgt_subsys_host_allowed(s, HOSTB));
    assert_int_equal(fakes.nr_access_changed, 2); /* revoking allow_any_host drops access */
    tgt_subsys_put(s);
}

static struct tgt_listen_addr addr(const char *ip, const char *port)
{
    struct tgt_listen_addr a = {.trtype = "tcp", .adrfam = "ipv4"};
    snprintf(a.traddr, sizeof(a.traddr), "%s", ip);
    snprintf(a.trsvcid, sizeof(a.trsvcid), "%s", port);
    return a;
}

static void test_listeners(void **state)
{
    (void)state;
    struct slio_err e = {{0}};
    struct tgt_listen_addr a = addr("127.0.0.1", "4420"), other = addr("127.0.0.1", "4421");

    create_subsys(NQN1, true, 0);
    assert_int_equal(tgt_subsys_add_listener(NQN1, &a, &e), -EINVAL);
    assert_non_null(strstr(e.text, "Unable to find transport"));
    fakes.transport_created = true;

    assert_int_equal(tgt_subsys_add_listener(NQN1, &a, &e), 0);
    assert_int_equal(fakes.listeners, 1);
    assert_string_equal(fakes.last_listener.trtype, "TCP"); /* normalised */
    assert_string_equal(fakes.last_listener.adrfam, "IPv4");
    assert_int_equal(tgt_subsys_add_listener(NQN1, &a, &e), -EEXIST);

    struct tgt_subsys *s = tgt_subsys_find_get(NQN1);
    struct tgt_listen_addr conn = fakes.last_listener;
    assert_true(tgt_subsys_listener_allowed(s, &conn));
    assert_false(tgt_subsys_listener_allowed(s, &other));
    struct tgt_subsys *d = tgt_subsys_find_get(TGT_DISCOVERY_NQN);
    assert_true(tgt_subsys_listener_allowed(d, &other)); /* discovery: any listener */
    tgt_subsys_put(d);

    struct tgt_listen_addr bad = addr("300.1.1.1", "4420");
    assert_int_equal(tgt_subsys_add_listener(NQN1, &bad, &e), -EINVAL);
    assert_non_null(strstr(e.text, "'traddr'"));
    bad = addr("127.0.0.1", "99999");
    assert_int_equal(tgt_subsys_add_listener(NQN1, &bad, &e), -EINVAL);
    assert_non_null(strstr(e.text, "'trsvcid'"));
    bad = addr("127.0.0.1", "4420");
    memcpy(bad.trtype, "RDMA", 5);
    assert_int_equal(tgt_subsys_add_listener(NQN1, &bad, &e), -EINVAL);
    assert_non_null(strstr(e.text, "'trtype'"));
    fakes.listener_add_fail = -EADDRINUSE;
    assert_int_equal(tgt_subsys_add_listener(NQN1, &other, &e), -EADDRINUSE);
    assert_non_null(strstr(e.text, "4421"));
    assert_false(tgt_subsys_listener_allowed(s, &other));

    fakes.nr_access_changed = 0;
    assert_int_equal(tgt_subsys_remove_listener(NQN1, &other, &e), -ENOENT);
    assert_int_equal(tgt_subsys_remove_listener(NQN1, &a, &e), 0);
    assert_int_equal(fakes.listeners, 0);
    assert_int_equal(fakes.nr_access_changed, 1);
    assert_false(tgt_subsys_listener_allowed(s, &conn));
    tgt_subsys_put(s);

    /* deleting a subsystem closes its listeners */
    assert_int_equal(tgt_subsys_add_listener(NQN1, &a, &e), 0);
    assert_int_equal(tgt_subsys_delete(NQN1, &e), 0);
    assert_int_equal(fakes.listeners, 0);
}

struct disc_seen {
    char nqn[4][TGT_NQN_MAX + 1];
    unsigned n;
};

static void disc_cb(const char *subnqn, const struct tgt_listen_addr *a, void *ctx)
{
    struct disc_seen *d = ctx;
    (void)a;
    if (d->n < 4)
        snprintf(d->nqn[d->n++], TGT_NQN_MAX + 1, "%s", subnqn);
}

static void test_discovery(void **state)
{
    (void)state;
    struct slio_err e = {{0}};
    struct tgt_listen_addr a = addr("127.0.0.1", "4420");

    fakes.transport_created = true;
    uint64_t g0 = tgt_registry_discovery_genctr();
    create_subsys(NQN1, true, 0);  /* open to all */
    create_subsys(NQN2, false, 0); /* host A only */
    assert_int_equal(tgt_subsys_add_host(NQN2, HOSTA, &e), 0);
    assert_int_equal(tgt_subsys_add_listener(NQN1, &a, &e), 0);
    assert_int_equal(tgt_subsys_add_listener(NQN2, &a, &e), 0);
    uint64_t g1 = tgt_registry_discovery_genctr();
    assert_true(g1 >= g0 + 5);
    assert_true(fakes.discovery_changed >= 5);

    struct disc_seen da = {0}, db = {0};
    tgt_registry_for_each_discovery_entry(HOSTA, disc_cb, &da);
    tgt_registry_for_each_discovery_entry(HOSTB, disc_cb, &db);
    assert_int_equal(da.n, 2);
    assert_string_equal(da.nqn[0], NQN1);
    assert_string_equal(da.nqn[1], NQN2);
    assert_int_equal(db.n, 1);
    assert_string_equal(db.nqn[0], NQN1);

    assert_int_equal(tgt_subsys_remove_host(NQN2, HOSTA, &e), 0);
    assert_true(tgt_registry_discovery_genctr() > g1);
    da.n = 0;
    tgt_registry_for_each_discovery_entry(HOSTA, disc_cb, &da);
    assert_int_equal(da.n, 1);
}

struct io_thread {
    struct tgt_subsys *s;
    _Atomic bool stop;
    _Atomic unsigned long hits;
};

static void *io_loop(void *arg)
{
    struct io_thread *t = arg;

    while (!atomic_load(&t->stop)) {
        struct tgt_ns *ns = tgt_ns_get_io(t->s, 1);
        if (ns) {
            /* the namespace and its bdev stay valid until the put */
            assert_int_equal(ns->nsid, 1);
            assert_int_equal(ns->bdev->block_size, 512);
            t->hits++;
            tgt_ns_put(ns);
        }
    }
    return NULL;
}

/* Reactors look namespaces up while the management thread adds and removes them. */
static void test_ns_concurrent_removal(void **state)
{
    (void)state;
    struct slio_err e = {{0}};
    pthread_t th[2];

    tgt_bdev_put(create_bdev("aio0", 0));
    create_subsys(NQN1, true, 0);
    struct io_thread t = {.s = tgt_subsys_find_get(NQN1)};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, io_loop, &t), 0);
    for (int i = 0; i < 2000; i++) {
        add_ns(NQN1, "aio0", 1);
        assert_int_equal(tgt_subsys_remove_ns(NQN1, 1, &e), 0);
    }
    atomic_store(&t.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(tgt_bdev_delete_ex("aio0", &e), 0); /* every claim was released */
    /* the subsystem goes away while we still hold it */
    assert_int_equal(tgt_subsys_delete(NQN1, &e), 0);
    assert_null(tgt_ns_get_io(t.s, 1));
    tgt_subsys_put(t.s);
}

/* tgt_registry_clear() leaves an empty registry behind (the tests rely on it). */
static void count_subsys(const struct tgt_subsys_view *v, void *ctx)
{
    (void)v;
    (*(unsigned *)ctx)++;
}

static void test_clear(void **state)
{
    (void)state;
    unsigned n = 0;

    tgt_bdev_put(create_bdev("aio0", 0));
    create_subsys(NQN1, true, 0);
    add_ns(NQN1, "aio0", 0);
    tgt_registry_clear();
    tgt_subsys_for_each(count_subsys, &n);
    assert_int_equal(n, 1); /* discovery only */
    assert_null(tgt_bdev_find_get("aio0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bdev_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bdev_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bdev_rescan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bdev_delete_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bdev_latency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bdev_latency_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subsys_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ns_refcount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ns_concurrent_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_acl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listeners, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
