/* SPDX-License-Identifier: Apache-2.0 */
/* The controller's configuration: tables for the one decoder, then cross-field checks. */
#include <string.h>

#include "config.h"
#include "slio/config.h"
#include "slio/json.h"
#include "slio/parse.h"

struct listen_doc {
    const char *address;
    uint16_t port;
    const char *tls_cert_file, *tls_key_file;
};
static const struct slio_json_field listen_fields[] = {
    SLIO_JSON_FIELD(struct listen_doc, address, "address", SLIO_JSON_STRING, .min = 1, .max = 255),
    SLIO_JSON_FIELD(struct listen_doc, port, "port", SLIO_JSON_U16),
    SLIO_JSON_FIELD(struct listen_doc, tls_cert_file, "tls_cert_file", SLIO_JSON_STRING, .min = 1,
                    .max = 4096),
    SLIO_JSON_FIELD(struct listen_doc, tls_key_file, "tls_key_file", SLIO_JSON_STRING, .min = 1,
                    .max = 4096),
};

struct audit_doc {
    const char *file;
};
static const struct slio_json_field audit_fields[] = {
    SLIO_JSON_FIELD(struct audit_doc, file, "file", SLIO_JSON_STRING, .min = 1, .max = 4096),
};

static const char *const backend_names[] = {"sqlite", "etcd", NULL};

static const struct slio_json_field etcd_fields[] = {
    SLIO_JSON_FIELD(struct ctl_etcd, endpoints, "endpoints", SLIO_JSON_VALUE, .required = true),
    SLIO_JSON_FIELD(struct ctl_etcd, prefix, "prefix", SLIO_JSON_STRING, .min = 1, .max = 128),
    SLIO_JSON_FIELD(struct ctl_etcd, lease_ttl_us, "lease_ttl", SLIO_JSON_DURATION, .min = 1000000,
                    .max = 60000000),
};

struct store_doc {
    int backend;
    const char *path;
    struct ctl_etcd etcd;
};
static const struct slio_json_field store_fields[] = {
    SLIO_JSON_FIELD(struct store_doc, backend, "backend", SLIO_JSON_ENUM, .names = backend_names),
    SLIO_JSON_FIELD(struct store_doc, path, "path", SLIO_JSON_STRING, .min = 1, .max = 4096),
    SLIO_JSON_FIELD(struct store_doc, etcd, "etcd", SLIO_JSON_OBJECT, .fields = etcd_fields,
                    .n_fields = SLIO_ARRAY_SIZE(etcd_fields)),
};

#define TOKEN_FILE(member)                                                                         \
    SLIO_JSON_FIELD(struct ctl_tokens, member, #member, SLIO_JSON_STRING, .min = 1, .max = 4096)
static const struct slio_json_field token_fields[] = {
    TOKEN_FILE(admin),
    TOKEN_FILE(csi),
    TOKEN_FILE(agent),
    TOKEN_FILE(readonly),
};

static const struct slio_json_field limits_fields[] = {
    SLIO_JSON_FIELD(struct ctl_limits, max_body, "max_body", SLIO_JSON_SIZE, .min = 4096,
                    .max = 64u << 20),
    SLIO_JSON_FIELD(struct ctl_limits, max_connections, "max_connections", SLIO_JSON_U32, .min = 1,
                    .max = 100000),
    SLIO_JSON_FIELD(struct ctl_limits, max_connections_per_ip, "max_connections_per_ip",
                    SLIO_JSON_U32, .min = 1, .max = 100000),
    SLIO_JSON_FIELD(struct ctl_limits, max_long_polls, "max_long_polls", SLIO_JSON_U32,
                    .max = 4096),
    SLIO_JSON_FIELD(struct ctl_limits, long_poll_max_us, "long_poll_max", SLIO_JSON_DURATION,
                    .max = 60000000),
    SLIO_JSON_FIELD(struct ctl_limits, max_events, "max_events", SLIO_JSON_U32, .min = 100,
                    .max = 10000000),
    SLIO_JSON_FIELD(struct ctl_limits, rate_limit, "rate_limit", SLIO_JSON_U32, .max = 1000000),
    SLIO_JSON_FIELD(struct ctl_limits, rate_burst, "rate_burst", SLIO_JSON_U32, .max = 1000000),
};

struct config_doc {
    struct listen_doc listen;
    const char *advertise_url;
    struct store_doc store;
    struct ctl_tokens tokens;
    uint64_t heartbeat_interval_us, unknown_after_us, offline_after_us;
    json_t *scheduler;
    struct ctl_limits limits;
    struct audit_doc audit;
};

#define OBJ(member, name, tbl)                                                                     \
    SLIO_JSON_FIELD(struct config_doc, member, name, SLIO_JSON_OBJECT, .fields = tbl,              \
                    .n_fields = SLIO_ARRAY_SIZE(tbl))
static const struct slio_json_field config_fields[] = {
    OBJ(listen, "listen", listen_fields),
    SLIO_JSON_FIELD(struct config_doc, advertise_url, "advertise_url", SLIO_JSON_STRING, .min = 1,
                    .max = 512),
    OBJ(store, "store", store_fields),
    OBJ(tokens, "tokens", token_fields),
    SLIO_JSON_FIELD(struct config_doc, heartbeat_interval_us, "heartbeat_interval",
                    SLIO_JSON_DURATION, .min = 100000, .max = 3600000000ull),
    SLIO_JSON_FIELD(struct config_doc, unknown_after_us, "unknown_after", SLIO_JSON_DURATION,
                    .min = 200000, .max = 86400000000ull),
    SLIO_JSON_FIELD(struct config_doc, offline_after_us, "offline_after", SLIO_JSON_DURATION,
                    .min = 300000, .max = 2592000000000ull),
    SLIO_JSON_FIELD(struct config_doc, scheduler, "scheduler", SLIO_JSON_VALUE),
    OBJ(limits, "limits", limits_fields),
    OBJ(audit, "audit", audit_fields),
};

static void config_defaults(struct config_doc *d)
{
    *d = (struct config_doc){
        .listen = {"127.0.0.1", 8360},
        .store = {.backend = CTL_STORE_SQLITE,
                  .etcd = {.prefix = "/slio/", .lease_ttl_us = 3000000}},
        .heartbeat_interval_us = 10000000,
        .unknown_after_us = 30000000,
        .offline_after_us = 300000000,
        .limits = {.max_body = 1u << 20,
                   .max_connections = 1024,
                   .max_connections_per_ip = 256,
                   .max_long_polls = 0, /* 0: max_connections / 2 */
                   .long_poll_max_us = 60000000,
                   .max_events = 100000},
    };
}

/*
 * The cause an etcd endpoint is unusable, NULL when it is "http(s)://host[:port]"
 * with an optional trailing "/": the store appends "/v3/..." to it, so a path,
 * a query or a port out of range would only fail later, as a request error.
 */
static const char *endpoint_problem(const char *url)
{
    const char *host;
    if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else
        return "not an http(s):// URL";
    size_t len = strlen(host);
    if (len > 255)
        return "longer than 255 bytes";
    if (len && host[len - 1] == '/')
        len--;
    for (size_t i = 0; i < len; i++)
        if (host[i] <= ' ' || host[i] >= 0x7f || strchr("/?#@", host[i]))
            return "only scheme://host[:port] is allowed (no path, query, user or spaces)";
    const char *port = NULL, *end = host + len;
    if (len && host[0] == '[') {
        const char *close = memchr(host, ']', len);
        if (!close || close == host + 1)
            return "IPv6 address without its closing ']'";
        if (close + 1 < end && close[1] != ':')
            return "text after the IPv6 address";
        port = close + 1 < end ? close + 2 : NULL;
    } else {
        const char *colon = memchr(host, ':', len);
        if (colon == host || len == 0)
            return "no host";
        port = colon ? colon + 1 : NULL;
    }
    if (port) {
        char buf[8];
        uint32_t n;
        size_t plen = (size_t)(end - port);
        if (plen == 0 || plen >= sizeof(buf))
            return "port is not a number in 1..65535";
        memcpy(buf, port, plen);
        buf[plen] = '\0';
        if (slio_parse_u32(buf, 1, 65535, &n) < 0)
            return "port is not a number in 1..65535";
    }
    return NULL;
}

static int config_check(const struct config_doc *d, struct slio_err *err)
{
    if (!d->listen.tls_cert_file != !d->listen.tls_key_file) {
        slio_err_set(err, "field 'listen.%s': missing (TLS needs both a certificate and a key)",
                     d->listen.tls_cert_file ? "tls_key_file" : "tls_cert_file");
        return -EINVAL;
    }
    if (d->store.backend == CTL_STORE_SQLITE && !d->store.path) {
        slio_err_set(err, "field 'store.path': missing (the SQLite file)");
        return -EINVAL;
    }
    if (d->store.backend == CTL_STORE_ETCD) {
        const json_t *eps = d->store.etcd.endpoints;
        size_t i;
        json_t *v;
        if (!json_is_array(eps) || json_array_size(eps) == 0 || json_array_size(eps) > 16) {
            slio_err_set(err, "field 'store.etcd.endpoints': expected 1..16 URLs");
            return -EINVAL;
        }
        json_array_foreach (eps, i, v) {
            const char *why = json_is_string(v) ? endpoint_problem(json_string_value(v))
                                                : "not an http(s):// URL string";
            if (why) {
                slio_err_set(err, "field 'store.etcd.endpoints[%zu]': %s", i, why);
                return -EINVAL;
            }
        }
    }
    if (d->unknown_after_us <= d->heartbeat_interval_us) {
        slio_err_set(err, "field 'unknown_after': must exceed heartbeat_interval");
        return -EINVAL;
    }
    if (d->offline_after_us <= d->unknown_after_us) {
        slio_err_set(err, "field 'offline_after': must exceed unknown_after");
        return -EINVAL;
    }
    if (d->scheduler && !json_is_object(d->scheduler)) {
        slio_err_set(err, "field 'scheduler': expected object, got %s",
                     slio_json_type_name(d->scheduler));
        return -EINVAL;
    }
    return 0;
}

int ctl_config_decode(json_t *j, struct ctl_config *ret, struct slio_err *err)
{
    struct config_doc d;
    config_defaults(&d);
    int r = SLIO_JSON_DECODE(j, config_fields, &d, 0, err);
    if (r == 0)
        r = config_check(&d, err);
    if (r < 0)
        return r;
    *ret = (struct ctl_config){
        .root = json_incref(j),
        .address = d.listen.address,
        .port = d.listen.port,
        .tls_cert_file = d.listen.tls_cert_file,
        .tls_key_file = d.listen.tls_key_file,
        .audit_file = d.audit.file,
        .advertise_url = d.advertise_url,
        .backend = (enum ctl_store_backend)d.store.backend,
        .sqlite_path = d.store.path,
        .etcd = d.store.etcd,
        .tokens = d.tokens,
        .heartbeat_interval_us = d.heartbeat_interval_us,
        .unknown_after_us = d.unknown_after_us,
        .offline_after_us = d.offline_after_us,
        .scheduler = d.scheduler,
        .limits = d.limits,
    };
    if (!ret->limits.max_long_polls)
        ret->limits.max_long_polls = SLIO_MAX(1u, d.limits.max_connections / 2);
    return 0;
}

int ctl_config_load(const char *path, struct ctl_config *ret, struct slio_err *err)
{
    _cleanup_json_ json_t *j = NULL;
    int r = slio_config_load_file(path, NULL, &j, err);
    if (r < 0)
        return r;
    r = ctl_config_decode(j, ret, err);
    if (r < 0)
        slio_err_prefix(err, "config \"%s\"", path);
    return r;
}

void ctl_config_clear(struct ctl_config *c)
{
    json_decref(c->root);
    *c = (struct ctl_config){0};
}
