/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry of bdevs, subsystems, namespaces, allowed hosts and listeners.
 *
 * Written by the management (JSON-RPC) thread, read by reactors.
 * Thread rules:
 *  - every function here is thread-safe unless it says otherwise;
 *  - objects handed out with _get are reference-counted and stay valid
 *    until the matching _put, even if deleted from the registry meanwhile;
 *  - tgt_ns_get_io() is on the I/O path: no allocation, no blocking beyond
 *    a short read lock.
 */
#ifndef TGT_REGISTRY_H
#define TGT_REGISTRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "slio/cleanup.h"

#define TGT_NQN_MAX        223  /* NVMe NQN maximum length, without NUL */
#define TGT_NAME_MAX       128  /* bdev names */
#define TGT_SERIAL_LEN     20   /* Identify Controller SN */
#define TGT_MODEL_LEN      40   /* Identify Controller MN */
#define TGT_MAX_NAMESPACES 1024 /* per subsystem, upper bound of max_namespaces */
#define TGT_TRADDR_MAX     64
#define TGT_TRSVCID_MAX    32

/* The kinds of I/O whose latency bdev_get_iostat reports (sum, max, min). */
enum tgt_bdev_io_kind { TGT_BDEV_IO_READ, TGT_BDEV_IO_WRITE, TGT_BDEV_IO_UNMAP, TGT_BDEV_IO_KINDS };

/*
 * Largest and smallest latency of one kind of I/O, in microseconds. The
 * minimum is kept plus one so that a zeroed bdev (calloc, or a test's static
 * one) reads as "none completed yet" while a real 0 µs completion (tmpfs) is
 * still recorded: tgt_bdev_latency_min() undoes it.
 */
struct tgt_bdev_lat_range {
    _Atomic uint64_t max;
    _Atomic uint64_t min_plus_1; /* 0: no I/O of this kind has completed */
};

/* A backing store: a regular file or a block device. */
struct tgt_bdev {
    char name[TGT_NAME_MAX + 1];
    char filename[4096];
    int fd; /* opened O_RDWR (| O_DIRECT when the backing allows it) */
    bool is_blockdev;
    bool in_memory; /* a file on tmpfs or ramfs: its I/O runs on the reactor (transport/bio.c) */
    bool direct;    /* fd has O_DIRECT: buffers and offsets must be aligned */
    uint32_t block_size;         /* logical block size exposed (512 or 4096) */
    _Atomic uint64_t num_blocks; /* changes on bdev_aio_rescan */
    uint8_t uuid[16];
    bool write_cache; /* false for O_DIRECT block devices without volatile cache */

    /* I/O statistics (bdev_get_iostat); updated with relaxed atomics */
    _Atomic uint64_t bytes_read, num_read_ops, bytes_written, num_write_ops;
    _Atomic uint64_t num_unmap_ops, bytes_unmapped, num_flush_ops, read_latency_ticks,
        write_latency_ticks, unmap_latency_ticks;
    /* extremes, indexed by enum tgt_bdev_io_kind: see tgt_bdev_account_latency() */
    struct tgt_bdev_lat_range lat_range[TGT_BDEV_IO_KINDS];

    _Atomic uint32_t refs;
    /* QoS state is private to registry/qos.c */
    struct tgt_qos *qos;

    /*
     * A file on tmpfs is also mapped read-only for the life of the bdev, and
     * reads are sent from its pages (registry/bdev_map.c). map is NULL for
     * other backings; map_reads says whether reads may use it now.
     */
    const uint8_t *map;
    uint64_t map_len;
    _Atomic bool map_reads;
};

struct tgt_ns {
    uint32_t nsid;
    struct tgt_bdev *bdev; /* holds a reference */
    uint8_t uuid[16];
    uint8_t nguid[16];
    _Atomic uint32_t refs;
};

enum tgt_subsys_type { TGT_SUBSYS_NVME, TGT_SUBSYS_DISCOVERY };

struct tgt_listen_addr {
    char trtype[8]; /* "TCP" */
    char adrfam[8]; /* "IPv4" | "IPv6" */
    char traddr[TGT_TRADDR_MAX + 1];
    char trsvcid[TGT_TRSVCID_MAX + 1];
};

/* Opaque; accessors below. */
struct tgt_subsys;

/* ---- bdevs ---- */
int tgt_bdev_create(const char *name, const char *filename, uint32_t block_size,
                    struct tgt_bdev **ret) _must_check_;
int tgt_bdev_delete(const char *name) _must_check_; /* -EBUSY while a namespace uses it */
int tgt_bdev_rescan(const char *name) _must_check_; /* re-reads size, fires ns-changed AENs */
struct tgt_bdev *tgt_bdev_find_get(const char *name);
void tgt_bdev_put(struct tgt_bdev *b);
static inline uint64_t tgt_bdev_num_blocks(const struct tgt_bdev *b)
{
    return atomic_load_explicit(&b->num_blocks, memory_order_relaxed);
}

/* One more reference, for a caller that already holds one. */
static inline void tgt_bdev_get(struct tgt_bdev *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

/*
 * The bytes [offset, offset + len) of a mapped memory file, to be sent as they
 * are, or NULL when this read must copy them (no mapping, mapping not usable
 * now, range beyond the bdev's size). Only the kernel may read them (sendmsg):
 * see registry/bdev_map.c. The caller keeps a reference on b while it does.
 */
static inline const uint8_t *tgt_bdev_mapped(const struct tgt_bdev *b, uint64_t offset,
                                             uint64_t len)
{
    if (!b->map || !atomic_load_explicit(&b->map_reads, memory_order_relaxed))
        return NULL;
    uint64_t size = tgt_bdev_num_blocks(b) * b->block_size;
    if (offset > size || len > size - offset || offset + len > b->map_len)
        return NULL;
    return b->map + offset;
}

/* The counter bdev_get_iostat reports as <kind>_latency_ticks. */
static inline _Atomic uint64_t *tgt_bdev_latency_sum(struct tgt_bdev *b, enum tgt_bdev_io_kind kind)
{
    switch (kind) {
    case TGT_BDEV_IO_READ:
        return &b->read_latency_ticks;
    case TGT_BDEV_IO_WRITE:
        return &b->write_latency_ticks;
    default:
        return &b->unmap_latency_ticks;
    }
}

/*
 * I/O path, any reactor: one I/O of `kind` completed after `us` microseconds.
 * Adds it to the kind's latency sum and raises its max / lowers its min. No
 * lock and no allocation: relaxed atomics, and a compare-and-swap only when
 * `us` is a new extreme (rare once the first few I/Os have completed).
 */
static inline void tgt_bdev_account_latency(struct tgt_bdev *b, enum tgt_bdev_io_kind kind,
                                            uint64_t us)
{
    struct tgt_bdev_lat_range *r = &b->lat_range[kind];
    uint64_t enc = us < UINT64_MAX ? us + 1 : us; /* min_plus_1's encoding */
    uint64_t cur;

    atomic_fetch_add_explicit(tgt_bdev_latency_sum(b, kind), us, memory_order_relaxed);
    cur = atomic_load_explicit(&r->max, memory_order_relaxed);
    while (us > cur && !atomic_compare_exchange_weak_explicit(
                           &r->max, &cur, us, memory_order_relaxed, memory_order_relaxed))
        ;
    cur = atomic_load_explicit(&r->min_plus_1, memory_order_relaxed);
    while ((cur == 0 || enc < cur) &&
           !atomic_compare_exchange_weak_explicit(&r->min_plus_1, &cur, enc, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

static inline uint64_t tgt_bdev_latency_max(const struct tgt_bdev *b, enum tgt_bdev_io_kind kind)
{
    return atomic_load_explicit(&b->lat_range[kind].max, memory_order_relaxed);
}

/* 0 while no I/O of this kind has completed, as SPDK reports it. */
static inline uint64_t tgt_bdev_latency_min(const struct tgt_bdev *b, enum tgt_bdev_io_kind kind)
{
    uint64_t enc = atomic_load_explicit(&b->lat_range[kind].min_plus_1, memory_order_relaxed);

    return enc ? enc - 1 : 0;
}

/*
 * QoS: limits of 0 mean unlimited. Changeable while I/O runs.
 * tgt_bdev_qos_admit() returns 0 if an I/O of `bytes` may start now, else
 * the number of microseconds after which to try again (it never blocks).
 */
int tgt_bdev_set_qos(struct tgt_bdev *b, uint64_t rw_ios_per_sec, uint64_t rw_mbytes_per_sec,
                     uint64_t r_mbytes_per_sec, uint64_t w_mbytes_per_sec) _must_check_;
uint64_t tgt_bdev_qos_admit(struct tgt_bdev *b, bool is_write, uint64_t bytes, uint64_t now_us);

/* ---- subsystems ---- */
struct tgt_subsys *tgt_subsys_find_get(const char *nqn);
void tgt_subsys_put(struct tgt_subsys *s);
const char *tgt_subsys_nqn(const struct tgt_subsys *s);
enum tgt_subsys_type tgt_subsys_type(const struct tgt_subsys *s);
const char *tgt_subsys_serial(const struct tgt_subsys *s);
const char *tgt_subsys_model(const struct tgt_subsys *s);
uint32_t tgt_subsys_max_nsid(const struct tgt_subsys *s);
bool tgt_subsys_host_allowed(struct tgt_subsys *s, const char *hostnqn);
/* Is this subsystem reachable through the listener the connection came in on? */
bool tgt_subsys_listener_allowed(struct tgt_subsys *s, const struct tgt_listen_addr *a);

/* Namespace lookup with a reference (I/O path); NULL if inactive. */
struct tgt_ns *tgt_ns_get_io(struct tgt_subsys *s, uint32_t nsid);
void tgt_ns_put(struct tgt_ns *ns);
/* Active namespace IDs greater than `after`, ascending, at most `max`; returns the count. */
uint32_t tgt_subsys_active_nsids(struct tgt_subsys *s, uint32_t after, uint32_t *out, uint32_t max);

/*
 * Discovery: calls fn once per (subsystem, listener) pair that `hostnqn` may
 * use, under the registry lock (fn must not call back into the registry).
 */
typedef void (*tgt_discovery_fn)(const char *subnqn, const struct tgt_listen_addr *a, void *ctx);
void tgt_registry_for_each_discovery_entry(const char *hostnqn, tgt_discovery_fn fn, void *ctx);
/* Generation number, bumped on every change that alters any discovery log */
uint64_t tgt_registry_discovery_genctr(void);

/* The well-known discovery NQN always exists. */
#define TGT_DISCOVERY_NQN "nqn.2014-08.org.nvmexpress.discovery"

#endif
