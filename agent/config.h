/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's configuration: one YAML (or JSON) file, decoded by one field
 * table (config.c) that embeds the pool engine's table (engine/engine.h).
 * Every field is documented in docs/agent.md. A bad file is refused at start
 * with the field and the reason: "field 'export.traddr': not an IPv4 address".
 */
#ifndef AGENT_CONFIG_H
#define AGENT_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "slio/error.h"
#include "slio/nqn.h"

#define AGENT_NODE_NAME_MAX   63
#define AGENT_URLS_MAX        8
#define AGENT_LABELS_MAX      64
#define AGENT_LABEL_VALUE_MAX 63

enum agent_adrfam { AGENT_ADRFAM_IPV4, AGENT_ADRFAM_IPV6 };
enum agent_target_kind { AGENT_TARGET_SLIO_TGT, AGENT_TARGET_SPDK };

struct agent_node_config {
    const char *name;            /* "name": DNS-1123 subdomain, <= 63 (required) */
    json_t *labels;              /* "labels": {key: value}, owned reference or NULL */
    const char *zone;            /* "zone" */
    const char *rack;            /* "rack" */
    const char *host_nqn;        /* "host_nqn": NULL = read from hostnqn_dir */
    const char *hostnqn_dir;     /* "hostnqn_dir": default /etc/nvme */
    uint32_t max_remote_volumes; /* "max_remote_volumes": 0 = unlimited */
};

struct agent_listen_config {
    const char *address;       /* "address": default 127.0.0.1 */
    uint16_t port;             /* "port": default 9361; 0 = ephemeral (tests) */
    const char *tls_cert_file; /* "tls_cert_file" + "tls_key_file": HTTPS (both or neither) */
    const char *tls_key_file;
    const char *token_file; /* "token_file": /metrics needs this bearer token; NULL = open */
};

struct agent_export_config {
    int adrfam;         /* "adrfam": ipv4 | ipv6 (enum agent_adrfam) */
    const char *traddr; /* "traddr": literal address hosts connect to (required) */
    uint16_t trsvcid;   /* "trsvcid": TCP port, default 4420 */
};

struct agent_controller_config {
    char **urls; /* "urls": 1..8 http(s):// base URLs (required), NULL-terminated */
    size_t n_urls;
    const char *token_file; /* "token_file": NULL = no token */
    const char *ca_file;    /* "ca_file": PEM CA bundle for https:// URLs; NULL = system's */
    uint64_t timeout_us;    /* "timeout": per call, default 10s */
    uint64_t long_poll_us;  /* "long_poll": desired-state wait, default 10s, <= 60s */
    uint64_t retry_us;      /* "retry": back-off after a failure, default 2s */
};

struct agent_target_config {
    int kind;            /* "kind": slio-tgt | spdk (enum agent_target_kind) */
    const char *socket;  /* "socket": JSON-RPC unix socket, default /var/tmp/slio-tgt.sock */
    uint64_t timeout_us; /* "timeout": per call, default 30s */
    const char
        *keys_dir; /* "keys_dir": DH-HMAC-CHAP key files, default /var/lib/slio-agent/dhchap */
};

struct agent_reconcile_config {
    uint32_t workers;                /* "workers": 1..64, default 4 */
    uint64_t resync_us;              /* "resync": full pass even without change, default 60s */
    uint64_t autoextend_interval_us; /* "autoextend_interval": thin check, default 30s */
    bool discard_on_delete;          /* "discard_on_delete": default false */
};

struct agent_config {
    json_t *root; /* the loaded document; borrowed strings above point into it */
    struct agent_node_config node;
    struct agent_listen_config listen;
    struct agent_export_config export_;
    struct agent_controller_config controller;
    struct agent_target_config target;
    struct agent_reconcile_config reconcile;
    struct agent_pool_config pool; /* "pool": the engine's section (engine.h) */
};

/* Decode and validate a loaded document (json is borrowed and referenced).
 * -EINVAL with "field 'x.y': why" in err; *ret untouched on failure. */
int agent_config_decode(json_t *json, struct agent_config *ret, struct slio_err *err) _must_check_;
/* slio_config_load_file + agent_config_decode. */
int agent_config_load(const char *path, struct agent_config *ret,
                      struct slio_err *err) _must_check_;
/* Free what decoding took; NULL-safe, leaves *cfg zeroed. */
void agent_config_release(struct agent_config *cfg);

/* The node's host NQN: node.host_nqn, else <hostnqn_dir>/hostnqn. */
int agent_config_host_nqn(const struct agent_config *cfg, char ret[static SLIO_NQN_BUF],
                          struct slio_err *err) _must_check_;
/* The token file's first line (<= 4 KiB, trailing whitespace cut), or NULL without one. */
int agent_config_read_token(const struct agent_config *cfg, char **ret,
                            struct slio_err *err) _must_check_;
/* The same for listen.token_file (the token /metrics asks for), NULL without one. */
int agent_config_read_metrics_token(const struct agent_config *cfg, char **ret,
                                    struct slio_err *err) _must_check_;

#endif
