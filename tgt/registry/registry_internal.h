/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the registry's own files; nothing outside tgt/registry includes it. */
#ifndef TGT_REGISTRY_INTERNAL_H
#define TGT_REGISTRY_INTERNAL_H

#include <pthread.h>

#include "registry/registry_mgmt.h"

/*
 * One lock for the lists of bdevs and subsystems and the mutable fields of a
 * subsystem (hosts, listeners, allow_any_host). Reactors take it only on
 * Connect and for the discovery log; the I/O path uses the per-subsystem
 * namespace rwlock instead. Lock order: registry lock, then a namespace lock.
 */
extern pthread_mutex_t tgt_registry_lock;

struct tgt_subsys {
    char nqn[TGT_NQN_MAX + 1];
    enum tgt_subsys_type type;
    char serial[TGT_SERIAL_LEN + 1]; /* immutable after creation */
    char model[TGT_MODEL_LEN + 1];   /* immutable after creation */
    uint32_t max_ns;                 /* immutable after creation */

    /* under tgt_registry_lock */
    bool allow_any_host;
    char (*hosts)[TGT_NQN_MAX + 1];
    unsigned nr_hosts, cap_hosts;
    struct tgt_listen_addr listeners[TGT_MAX_LISTENERS];
    unsigned nr_listeners;
    struct tgt_subsys *next;

    /*
     * ns[nsid - 1]: written under tgt_registry_lock and ns_lock (write),
     * read on the I/O path under ns_lock (read) only.
     */
    pthread_rwlock_t ns_lock;
    struct tgt_ns **ns;

    _Atomic uint32_t refs; /* the registry list holds one */
};

/* subsys.c: find without a reference (registry lock held). */
struct tgt_subsys *subsys_find_locked(const char *nqn);
/* subsys.c: bump the discovery generation; call registry_changed_notify() after unlocking. */
void registry_bump_genctr_locked(void);
void registry_changed_notify(void);

/* access.c: hosts and listeners (registry lock held) */
bool subsys_host_allowed_locked(const struct tgt_subsys *s, const char *hostnqn);
/* access.c: close the discovery subsystem's own listeners (tgt_registry_clear). */
void discovery_clear_listeners(void);

/* bdev.c: claims count the namespaces using a bdev (registry lock held). */
void bdev_claim_locked(struct tgt_bdev *b);
void bdev_unclaim_locked(struct tgt_bdev *b);
/* Find without a reference (registry lock held). */
struct tgt_bdev *bdev_find_locked(const char *name);
/* Drop every bdev (called by tgt_registry_clear() once no namespace is left). */
void bdev_clear_all(void);

/*
 * bdev_map.c: tell whether a bdev's file of `size` bytes is in memory
 * (in_memory) and map it if it is on tmpfs (a failure only means reads copy),
 * re-check after a rescan, unmap.
 */
void bdev_map_init(struct tgt_bdev *b, uint64_t size);
void bdev_map_update(struct tgt_bdev *b, uint64_t size);
void bdev_map_fini(struct tgt_bdev *b);

/* subsys.c: collect (nqn, nsid) of namespaces backed by b and fire ns-changed for each. */
void subsys_notify_bdev_resized(struct tgt_bdev *b);

/* qos.c */
struct tgt_qos *qos_new(void);
void qos_free(struct tgt_qos *q);

#endif
