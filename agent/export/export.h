/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exporters: how a volume is served to another node over NVMe/TCP.
 *
 * One subsystem per volume:
 *   NQN            nqn.2024-01.io.slite:vol:<volume uuid>   (SLIO_NQN_PREFIX ":vol:")
 *   bdev           "slio-<volume uuid>" over the volume's device or file
 *   namespace 1    UUID = the volume uuid (also the bdev's UUID)
 *   hosts          exactly the desired consumers' host NQNs, never allow_any_host
 *   listener       the node's one export address, shared by every subsystem
 *   QoS            bdev_set_qos_limit on the bdev, changed online
 *   DH-HMAC-CHAP   per host a keyring key "slio-<volume uuid>-<host hash>-h" (and "-c"
 *                  for the controller key) from a 0600 file in keys_dir (dhchap.c)
 * Everything the agent creates in the target carries the volume uuid in its
 * name, so discovery after a restart finds it without any local state.
 *
 * The one implementation (slio_tgt.c) drives slio-tgt or SPDK's nvmf_tgt over
 * JSON-RPC (docs/tgt-rpc.md); both speak the same methods.
 *
 * Threads: every call blocks on the target's socket (bounded by the
 * configured timeout): call from workers. Calls on different volumes may run
 * concurrently. Errors: 0 or a negative errno with the reason in err.
 */
#ifndef AGENT_EXPORT_H
#define AGENT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uuid/uuid.h>

#include "slio/cleanup.h"
#include "slio/error.h"
#include "slio/nqn.h"

#define AGENT_EXPORT_NQN_PREFIX  SLIO_NQN_PREFIX ":vol:"
#define AGENT_EXPORT_BDEV_PREFIX "slio-"
#define AGENT_EXPORT_HOSTS_MAX   16
#define AGENT_BDEV_NAME_MAX      64
#define AGENT_KEY_NAME_MAX       64
#define AGENT_KEYS_DIR_DEFAULT   "/var/lib/slio-agent/dhchap"

struct agent_qos {
    uint64_t rw_ios_per_sec;
    uint64_t rw_mbytes_per_sec;
    uint64_t r_mbytes_per_sec;
    uint64_t w_mbytes_per_sec;
};

/* What a volume should look like in the target. */
struct agent_export_spec {
    uuid_t uuid;
    const char *path;         /* device or file backing the bdev */
    const char *const *hosts; /* allowed host NQNs, 1..AGENT_EXPORT_HOSTS_MAX */
    size_t n_hosts;
    /* DH-HMAC-CHAP secrets per host (parallel to hosts; NULL array or entry: none).
     * A controller key counts only with a host key. */
    const char *const *host_keys;
    const char *const *ctrl_keys;
    struct agent_qos qos;
};

/* What the target holds for one volume (found by name). */
struct agent_export_state {
    uuid_t uuid;
    bool has_bdev;
    bool has_subsystem;
    bool has_namespace;   /* namespace on our bdev with UUID = volume uuid */
    bool has_listener;    /* the node's export address */
    bool allow_any_host;  /* never wanted; corrected by ensure */
    uint64_t bdev_size;   /* bytes (block_size * num_blocks) */
    struct agent_qos qos; /* the bdev's assigned rate limits */
    char **hosts;         /* allowed host NQNs (owned) */
    size_t n_hosts;
    char **key_names;      /* parallel to hosts: its dhchap_key name or NULL (owned) */
    char **ctrl_key_names; /* parallel to hosts: its dhchap_ctrlr_key name or NULL (owned) */
    uint64_t auth_digest;  /* agent_export_auth_digest of the hosts and their key files */
};

struct agent_export_list {
    struct agent_export_state *items; /* owned; agent_export_list_free() */
    size_t n;
};
void agent_export_list_free(struct agent_export_list *l); /* NULL-safe, zeroes *l */
const struct agent_export_state *agent_export_list_find(const struct agent_export_list *l,
                                                        const uuid_t uuid);
/* Exported and serving: bdev, subsystem, namespace and listener present. */
bool agent_export_state_complete(const struct agent_export_state *s);

/* Per-bdev I/O counters of exported volumes (bdev_get_iostat). */
struct agent_iostat {
    uuid_t uuid;
    uint64_t read_ops, write_ops, read_bytes, write_bytes;
    double read_seconds, write_seconds;
};
struct agent_iostat_list {
    struct agent_iostat *items;
    size_t n;
};
void agent_iostat_list_free(struct agent_iostat_list *l);

struct agent_export_addr {
    bool ipv6;
    char traddr[64];
    char trsvcid[8];
};

struct agent_exporter;

struct agent_exporter_ops {
    const char *name;
    void (*close)(struct agent_exporter *x);
    int (*discover)(struct agent_exporter *x, struct agent_export_list *ret, struct slio_err *err);
    int (*ensure)(struct agent_exporter *x, const struct agent_export_spec *spec,
                  const struct agent_export_state *cur, struct slio_err *err);
    int (*remove)(struct agent_exporter *x, const uuid_t uuid, const struct agent_export_state *cur,
                  struct slio_err *err);
    int (*rescan)(struct agent_exporter *x, const uuid_t uuid, struct slio_err *err);
    int (*iostat)(struct agent_exporter *x, struct agent_iostat_list *ret, struct slio_err *err);
};

struct agent_exporter {
    const struct agent_exporter_ops *ops;
};

/* Observer of each target call's duration (metrics); may be NULL. Thread-safe. */
typedef void (*agent_export_observe_fn)(const char *method, double seconds);

struct agent_exporter_opts {
    const char *socket; /* JSON-RPC socket */
    bool spdk;          /* SPDK's nvmf_tgt: QoS IOPS rounded up to its multiple of 1000 */
    int timeout_ms;     /* per call */
    struct agent_export_addr addr;
    agent_export_observe_fn observe;
    const char *keys_dir; /* DH-HMAC-CHAP key files; NULL: AGENT_KEYS_DIR_DEFAULT */
};

/* The slio-tgt/SPDK exporter. Copies opts; contacts nothing until the first call. */
int agent_exporter_slio_tgt_new(const struct agent_exporter_opts *opts,
                                struct agent_exporter **ret) _must_check_;

/* "nqn.2024-01.io.slite:vol:<uuid>" */
void agent_export_nqn(const uuid_t uuid, char ret[static SLIO_NQN_BUF]);
/* "slio-<uuid>" */
void agent_export_bdev_name(const uuid_t uuid, char ret[static AGENT_BDEV_NAME_MAX]);
/* The uuid in one of our NQNs or bdev names; -EINVAL for anything else. */
int agent_export_parse_nqn(const char *nqn, uuid_t ret) _must_check_;
int agent_export_parse_bdev_name(const char *name, uuid_t ret) _must_check_;

/* The keyring name of a host's key (ctrl: its controller key) for one volume. */
void agent_export_key_name(const uuid_t uuid, const char *host_nqn, bool ctrl,
                           char ret[static AGENT_KEY_NAME_MAX]);
bool agent_export_key_name_ok(const uuid_t uuid, const char *name);
/*
 * A digest of hosts and their secrets (keys/ctrl_keys parallel, may be NULL),
 * independent of the order: what the plan compares with a discovered
 * state's auth_digest to know whether the keys a target uses are the wanted ones.
 */
uint64_t agent_export_auth_digest(const char *const *hosts, const char *const *keys,
                                  const char *const *ctrl_keys, size_t n);

/* Wrappers. discover: every volume of ours the target holds anything of.
 * ensure: make the target match spec (cur = what discover found, or NULL:
 * then each step tolerates "already exists"); idempotent, restart-safe.
 * remove: subsystem then bdev, each missing one fine.
 * rescan: the bdev re-reads its backing's size (after an expansion). */
static inline void agent_exporter_close(struct agent_exporter **x)
{
    if (*x)
        (*x)->ops->close(*x);
    *x = NULL;
}
static inline int agent_exporter_discover(struct agent_exporter *x, struct agent_export_list *ret,
                                          struct slio_err *err)
{
    return x->ops->discover(x, ret, err);
}
static inline int agent_exporter_ensure(struct agent_exporter *x,
                                        const struct agent_export_spec *spec,
                                        const struct agent_export_state *cur, struct slio_err *err)
{
    return x->ops->ensure(x, spec, cur, err);
}
static inline int agent_exporter_remove(struct agent_exporter *x, const uuid_t uuid,
                                        const struct agent_export_state *cur, struct slio_err *err)
{
    return x->ops->remove(x, uuid, cur, err);
}
static inline int agent_exporter_rescan(struct agent_exporter *x, const uuid_t uuid,
                                        struct slio_err *err)
{
    return x->ops->rescan(x, uuid, err);
}
static inline int agent_exporter_iostat(struct agent_exporter *x, struct agent_iostat_list *ret,
                                        struct slio_err *err)
{
    return x->ops->iostat(x, ret, err);
}

#endif
