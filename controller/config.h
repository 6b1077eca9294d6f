/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-controller's configuration file (YAML or JSON), decoded with the one
 * field-table decoder. Every field is described in docs/controller.md.
 */
#ifndef SLIO_CONTROLLER_CONFIG_H
#define SLIO_CONTROLLER_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "slio/error.h"

enum ctl_store_backend { CTL_STORE_SQLITE, CTL_STORE_ETCD };

struct ctl_tokens {
    const char *admin, *csi, *agent, *readonly; /* token file paths; NULL = no such token */
};

struct ctl_etcd {
    json_t *endpoints; /* array of URL strings */
    const char *prefix;
    uint64_t lease_ttl_us;
};

struct ctl_limits {
    uint64_t max_body;        /* bytes */
    uint32_t max_connections; /* total */
    uint32_t max_connections_per_ip;
    uint32_t max_long_polls;   /* concurrent desired-state waits; beyond: answered at once */
    uint64_t long_poll_max_us; /* the longest `wait` honoured */
    uint32_t max_events;       /* events kept (oldest dropped beyond) */
    uint32_t rate_limit;       /* requests a second per peer address; 0 = no limit */
    uint32_t rate_burst;       /* bucket size; 0 = 2 * rate_limit */
};

struct ctl_config {
    json_t *root; /* owns every borrowed string below */
    const char *address;
    uint16_t port;
    const char *tls_cert_file; /* listen.tls_cert_file / tls_key_file: HTTPS when both set */
    const char *tls_key_file;
    const char *audit_file; /* audit.file: one JSON line per mutating call; NULL = the log */
    const char *advertise_url;
    enum ctl_store_backend backend;
    const char *sqlite_path;
    struct ctl_etcd etcd;
    struct ctl_tokens tokens;
    uint64_t heartbeat_interval_us;
    uint64_t unknown_after_us;
    uint64_t offline_after_us;
    json_t *scheduler; /* borrowed; passed to sched_config_from_json (NULL = defaults) */
    struct ctl_limits limits;
};

/*
 * Decode a loaded document (takes a reference on j). -EINVAL with the field
 * named in err: unknown keys, bad values, offline_after <= unknown_after,
 * unknown_after <= heartbeat interval, sqlite without a path.
 */
int ctl_config_decode(json_t *j, struct ctl_config *ret, struct slio_err *err);
/* slio_config_load_file + ctl_config_decode. */
int ctl_config_load(const char *path, struct ctl_config *ret, struct slio_err *err);
void ctl_config_clear(struct ctl_config *c);

#endif
