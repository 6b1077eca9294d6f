/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Management side of the registry: what the JSON-RPC layer (tgt/rpc) needs
 * beyond the contract in registry.h — creating and deleting objects with
 * user-facing error text, and reading the whole state for nvmf_get_subsystems
 * and save_config.
 *
 * Thread rules: the mutating functions are called from the management thread
 * only (they serialise on the registry lock anyway). Every failure returns a
 * negative errno and puts a message naming the object in err
 * ("bdev aio0 already exists").
 */
#ifndef TGT_REGISTRY_MGMT_H
#define TGT_REGISTRY_MGMT_H

#include <pthread.h>

#include "registry/registry.h"
#include "slio/error.h"

#define TGT_MAX_HOSTS      1024 /* allowed hosts per subsystem */
#define TGT_MAX_LISTENERS  64   /* listeners per subsystem */
#define TGT_MODEL_DEFAULT  "SLiteIO Controller"
#define TGT_SERIAL_DEFAULT "00000000000000000000"

/* ---- bdevs ---- */
struct tgt_bdev_opts {
    const char *name;
    const char *filename;
    uint32_t block_size; /* 0: the device's logical block size (files: 512) */
    const uint8_t *uuid; /* NULL: generate one */
};
int tgt_bdev_create_ex(const struct tgt_bdev_opts *o, struct slio_err *err,
                       struct tgt_bdev **ret) _must_check_;
int tgt_bdev_delete_ex(const char *name, struct slio_err *err) _must_check_;
int tgt_bdev_rescan_ex(const char *name, struct slio_err *err) _must_check_;
/* Calls fn for each bdev in creation order under the registry lock (fn must not call back). */
void tgt_bdev_for_each(void (*fn)(struct tgt_bdev *b, bool claimed, void *ctx), void *ctx);
/* QoS limits as set (0 = unlimited): rw_ios_per_sec, rw/r/w_mbytes_per_sec. */
struct tgt_qos_limits {
    uint64_t rw_ios_per_sec, rw_mbytes_per_sec, r_mbytes_per_sec, w_mbytes_per_sec;
};
void tgt_bdev_get_qos(const struct tgt_bdev *b, struct tgt_qos_limits *ret);

/* ---- subsystems ---- */
struct tgt_subsys_opts {
    const char *nqn;
    const char *serial; /* NULL: TGT_SERIAL_DEFAULT */
    const char *model;  /* NULL: TGT_MODEL_DEFAULT */
    bool allow_any_host;
    uint32_t max_namespaces; /* 0: TGT_MAX_NAMESPACES */
};
/*
 * Is nqn a valid subsystem NQN (syntax, at most 223 bytes)? 0 or -EINVAL with
 * the reason in err. tgt_subsys_create() checks it first; the RPC calls it on
 * its own because SPDK reports a bad NQN differently from other bad options.
 */
int tgt_subsys_nqn_check(const char *nqn, struct slio_err *err) _must_check_;
int tgt_subsys_create(const struct tgt_subsys_opts *o, struct slio_err *err) _must_check_;
int tgt_subsys_delete(const char *nqn, struct slio_err *err) _must_check_;

struct tgt_ns_opts {
    const char *bdev_name;
    uint32_t nsid;        /* 0: lowest free */
    const uint8_t *uuid;  /* NULL: the bdev's */
    const uint8_t *nguid; /* NULL: the bdev's uuid */
};
int tgt_subsys_add_ns(const char *nqn, const struct tgt_ns_opts *o, struct slio_err *err,
                      uint32_t *ret_nsid) _must_check_;
int tgt_subsys_remove_ns(const char *nqn, uint32_t nsid, struct slio_err *err) _must_check_;
int tgt_subsys_add_host(const char *nqn, const char *hostnqn, struct slio_err *err) _must_check_;
int tgt_subsys_remove_host(const char *nqn, const char *hostnqn, struct slio_err *err) _must_check_;
int tgt_subsys_set_allow_any_host(const char *nqn, bool allow, struct slio_err *err) _must_check_;
/*
 * Validate and normalise a listen address in place: trtype "TCP", adrfam
 * "IPv4"/"IPv6" (empty: IPv4; any case), a literal address of that family,
 * a port 1-65535. 0 or -EINVAL with the field named in err.
 */
int tgt_listen_addr_check(struct tgt_listen_addr *a, struct slio_err *err) _must_check_;
/* Also opens/closes the transport listener (tgt_listener_add/remove). */
int tgt_subsys_add_listener(const char *nqn, const struct tgt_listen_addr *a,
                            struct slio_err *err) _must_check_;
int tgt_subsys_remove_listener(const char *nqn, const struct tgt_listen_addr *a,
                               struct slio_err *err) _must_check_;

/* A read-only view of one subsystem, valid only inside tgt_subsys_for_each's callback. */
struct tgt_subsys_view {
    const char *nqn;
    enum tgt_subsys_type type;
    const char *serial, *model;
    bool allow_any_host;
    uint32_t max_namespaces;
    const char (*hosts)[TGT_NQN_MAX + 1];
    unsigned nr_hosts;
    const struct tgt_listen_addr *listeners;
    unsigned nr_listeners;
    struct tgt_ns *const *ns; /* ns[i] has nsid i + 1; NULL entries are free */
};
/* Calls fn for each subsystem (the discovery one first) under the registry lock. */
void tgt_subsys_for_each(void (*fn)(const struct tgt_subsys_view *v, void *ctx), void *ctx);
/* Does the subsystem exist? (for error messages before calling out) */
bool tgt_subsys_exists(const char *nqn);

/* Delete every bdev and subsystem (the discovery one stays): shutdown and tests. */
void tgt_registry_clear(void);

#endif
