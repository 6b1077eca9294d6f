/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's config file, described once as field tables (docs/agent.md is
 * the reference). The table says types, ranges and required fields; the few
 * rules it cannot say (a DNS name, a literal address, a URL scheme) are in
 * validate_*(), each naming its field the way the decoder does.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <sys/un.h>

#include "config.h"
#include "slio/config.h"
#include "slio/fileio.h"
#include "slio/json.h"

#define TOKEN_MAX 4096

static const char *const adrfam_names[] = {"ipv4", "ipv6", NULL};
static const char *const target_kind_names[] = {"slio-tgt", "spdk", NULL};

static void labels_release(void *member)
{
    json_t **labels = member;

    json_decref(*labels);
    *labels = NULL;
}

/* {key: "value"} with at most 64 keys, keys 1..253 and values 0..63 bytes. */
static int decode_labels(const json_t *v, void *member, struct slio_err *err)
{
    const char *key;
    json_t *val;

    if (!json_is_object(v)) {
        slio_err_set(err, "expected object, got %s", slio_json_type_name(v));
        return -EINVAL;
    }
    if (json_object_size(v) > AGENT_LABELS_MAX) {
        slio_err_set(err, "%zu labels, at most %d", json_object_size(v), AGENT_LABELS_MAX);
        return -EINVAL;
    }
    json_object_foreach ((json_t *)v, key, val) {
        if (strlen(key) == 0 || strlen(key) > 253) {
            slio_err_set(err, "label key \"%.64s\": 1..253 bytes", key);
            return -EINVAL;
        }
        if (!json_is_string(val) || json_string_length(val) > AGENT_LABEL_VALUE_MAX) {
            slio_err_set(err, "label \"%s\": expected a string of at most %d bytes", key,
                         AGENT_LABEL_VALUE_MAX);
            return -EINVAL;
        }
    }
    *(json_t **)member = json_incref((json_t *)v);
    return 0;
}

static void urls_release(void *member)
{
    char ***urls = member;

    for (size_t i = 0; *urls && (*urls)[i]; i++)
        free((*urls)[i]);
    free(*urls);
    *urls = NULL;
}

static bool url_ok(const char *s)
{
    size_t len = strlen(s);

    if (len > 512)
        return false;
    if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isgraph((unsigned char)s[i]))
            return false;
    return s[len - 1] != '/';
}

/* A NULL-terminated copy of an array of 1..8 base URLs. */
static int decode_urls(const json_t *v, void *member, struct slio_err *err)
{
    _cleanup_free_ char **urls = NULL;
    size_t i, n;
    json_t *e;

    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > AGENT_URLS_MAX) {
        slio_err_set(err, "expected an array of 1..%d URLs", AGENT_URLS_MAX);
        return -EINVAL;
    }
    n = json_array_size(v);
    urls = calloc(n + 1, sizeof(char *));
    if (!urls)
        return -ENOMEM;
    json_array_foreach (v, i, e) {
        if (!json_is_string(e) || !url_ok(json_string_value(e))) {
            slio_err_set(err,
                         "entry %zu: expected \"http://host:port\" or \"https://...\" "
                         "without a trailing '/'",
                         i);
            urls_release(&urls);
            return -EINVAL;
        }
        urls[i] = strdup(json_string_value(e));
        if (!urls[i]) {
            urls_release(&urls);
            return -ENOMEM;
        }
    }
    *(char ***)member = TAKE_PTR(urls);
    return 0;
}

static const struct slio_json_field node_fields[] = {
    SLIO_JSON_FIELD(struct agent_node_config, name, "name", SLIO_JSON_STRING, .required = true,
                    .min = 1, .max = AGENT_NODE_NAME_MAX),
    SLIO_JSON_FIELD(struct agent_node_config, labels, "labels", SLIO_JSON_CUSTOM,
                    .decode = decode_labels, .release = labels_release),
    SLIO_JSON_FIELD(struct agent_node_config, zone, "zone", SLIO_JSON_STRING, .max = 63),
    SLIO_JSON_FIELD(struct agent_node_config, rack, "rack", SLIO_JSON_STRING, .max = 63),
    SLIO_JSON_FIELD(struct agent_node_config, host_nqn, "host_nqn", SLIO_JSON_STRING, .min = 1,
                    .max = SLIO_NQN_MAX),
    SLIO_JSON_FIELD(struct agent_node_config, hostnqn_dir, "hostnqn_dir", SLIO_JSON_STRING,
                    .min = 1, .max = 256),
    SLIO_JSON_FIELD(struct agent_node_config, max_remote_volumes, "max_remote_volumes",
                    SLIO_JSON_U32),
};

static const struct slio_json_field listen_fields[] = {
    SLIO_JSON_FIELD(struct agent_listen_config, address, "address", SLIO_JSON_STRING, .min = 1,
                    .max = 64),
    SLIO_JSON_FIELD(struct agent_listen_config, port, "port", SLIO_JSON_U16),
    SLIO_JSON_FIELD(struct agent_listen_config, tls_cert_file, "tls_cert_file", SLIO_JSON_STRING,
                    .min = 1, .max = 4096),
    SLIO_JSON_FIELD(struct agent_listen_config, tls_key_file, "tls_key_file", SLIO_JSON_STRING,
                    .min = 1, .max = 4096),
    SLIO_JSON_FIELD(struct agent_listen_config, token_file, "token_file", SLIO_JSON_STRING,
                    .min = 1, .max = 4096),
};

static const struct slio_json_field export_fields[] = {
    SLIO_JSON_FIELD(struct agent_export_config, adrfam, "adrfam", SLIO_JSON_ENUM,
                    .names = adrfam_names),
    SLIO_JSON_FIELD(struct agent_export_config, traddr, "traddr", SLIO_JSON_STRING,
                    .required = true, .min = 1, .max = 64),
    SLIO_JSON_FIELD(struct agent_export_config, trsvcid, "trsvcid", SLIO_JSON_U16, .min = 1),
};

static const struct slio_json_field controller_fields[] = {
    SLIO_JSON_FIELD(struct agent_controller_config, urls, "urls", SLIO_JSON_CUSTOM,
                    .required = true, .decode = decode_urls, .release = urls_release),
    SLIO_JSON_FIELD(struct agent_controller_config, token_file, "token_file", SLIO_JSON_STRING,
                    .min = 1, .max = 4096),
    SLIO_JSON_FIELD(struct agent_controller_config, ca_file, "ca_file", SLIO_JSON_STRING, .min = 1,
                    .max = 4096),
    SLIO_JSON_FIELD(struct agent_controller_config, timeout_us, "timeout", SLIO_JSON_DURATION,
                    .min = 100000, .max = 600000000),
    SLIO_JSON_FIELD(struct agent_controller_config, long_poll_us, "long_poll", SLIO_JSON_DURATION,
                    .min = 1000000, .max = 60000000),
    SLIO_JSON_FIELD(struct agent_controller_config, retry_us, "retry", SLIO_JSON_DURATION,
                    .min = 10000, .max = 300000000),
};

static const struct slio_json_field target_fields[] = {
    SLIO_JSON_FIELD(struct agent_target_config, kind, "kind", SLIO_JSON_ENUM,
                    .names = target_kind_names),
    SLIO_JSON_FIELD(struct agent_target_config, socket, "socket", SLIO_JSON_STRING, .min = 1,
                    .max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1),
    SLIO_JSON_FIELD(struct agent_target_config, timeout_us, "timeout", SLIO_JSON_DURATION,
                    .min = 100000, .max = 600000000),
    SLIO_JSON_FIELD(struct agent_target_config, keys_dir, "keys_dir", SLIO_JSON_STRING, .min = 2,
                    .max = 2000),
};

static const struct slio_json_field reconcile_fields[] = {
    SLIO_JSON_FIELD(struct agent_reconcile_config, workers, "workers", SLIO_JSON_U32, .min = 1,
                    .max = 64),
    SLIO_JSON_FIELD(struct agent_reconcile_config, resync_us, "resync", SLIO_JSON_DURATION,
                    .min = 1000000, .max = 86400000000ull),
    SLIO_JSON_FIELD(struct agent_reconcile_config, autoextend_interval_us, "autoextend_interval",
                    SLIO_JSON_DURATION, .min = 1000000, .max = 86400000000ull),
    SLIO_JSON_FIELD(struct agent_reconcile_config, discard_on_delete, "discard_on_delete",
                    SLIO_JSON_BOOL),
};

static const struct slio_json_field config_fields[] = {
    SLIO_JSON_FIELD(struct agent_config, node, "node", SLIO_JSON_OBJECT, .required = true,
                    .fields = node_fields, .n_fields = SLIO_ARRAY_SIZE(node_fields)),
    SLIO_JSON_FIELD(struct agent_config, listen, "listen", SLIO_JSON_OBJECT,
                    .fields = listen_fields, .n_fields = SLIO_ARRAY_SIZE(listen_fields)),
    SLIO_JSON_FIELD(struct agent_config, export_, "export", SLIO_JSON_OBJECT, .required = true,
                    .fields = export_fields, .n_fields = SLIO_ARRAY_SIZE(export_fields)),
    SLIO_JSON_FIELD(struct agent_config, controller, "controller", SLIO_JSON_OBJECT,
                    .required = true, .fields = controller_fields,
                    .n_fields = SLIO_ARRAY_SIZE(controller_fields)),
    SLIO_JSON_FIELD(struct agent_config, target, "target", SLIO_JSON_OBJECT,
                    .fields = target_fields, .n_fields = SLIO_ARRAY_SIZE(target_fields)),
    SLIO_JSON_FIELD(struct agent_config, reconcile, "reconcile", SLIO_JSON_OBJECT,
                    .fields = reconcile_fields, .n_fields = SLIO_ARRAY_SIZE(reconcile_fields)),
    SLIO_JSON_FIELD(struct agent_config, pool, "pool", SLIO_JSON_OBJECT, .required = true,
                    .fields = agent_pool_config_fields, .n_fields = AGENT_POOL_CONFIG_N_FIELDS),
};

static void config_defaults(struct agent_config *c)
{
    *c = (struct agent_config){
        .node = {.hostnqn_dir = "/etc/nvme"},
        .listen = {.address = "127.0.0.1", .port = 9361},
        .export_ = {.adrfam = AGENT_ADRFAM_IPV4, .trsvcid = 4420},
        .controller = {.timeout_us = 10000000, .long_poll_us = 10000000, .retry_us = 2000000},
        .target = {.kind = AGENT_TARGET_SLIO_TGT,
                   .socket = "/var/tmp/slio-tgt.sock",
                   .timeout_us = 30000000},
        .reconcile = {.workers = 4, .resync_us = 60000000, .autoextend_interval_us = 30000000},
    };
    agent_pool_config_init(&c->pool);
}

/* A DNS-1123 subdomain: [a-z0-9]([-a-z0-9.]*[a-z0-9])?, as the API's Name. */
static bool dns_name_ok(const char *s)
{
    size_t len = strlen(s);

    if (len == 0 || len > AGENT_NODE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && ((c != '-' && c != '.') || i == 0 || i == len - 1))
            return false;
    }
    return true;
}

static bool address_ok(int family, const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(family, s, buf) == 1;
}

static int validate(const struct agent_config *c, struct slio_err *err)
{
    bool v6 = c->export_.adrfam == AGENT_ADRFAM_IPV6;

    if (!dns_name_ok(c->node.name)) {
        slio_err_set(err,
                     "field 'node.name': \"%s\" is not a DNS-1123 name (lowercase letters, "
                     "digits, '-', '.'; at most 63 bytes)",
                     c->node.name);
        return -EINVAL;
    }
    if (c->node.host_nqn && slio_nqn_validate(c->node.host_nqn) < 0) {
        slio_err_set(err, "field 'node.host_nqn': \"%s\" is not a valid NQN", c->node.host_nqn);
        return -EINVAL;
    }
    if (!address_ok(v6 ? AF_INET6 : AF_INET, c->export_.traddr)) {
        slio_err_set(err, "field 'export.traddr': \"%s\" is not a literal %s address",
                     c->export_.traddr, v6 ? "IPv6" : "IPv4");
        return -EINVAL;
    }
    if (!c->listen.tls_cert_file != !c->listen.tls_key_file) {
        slio_err_set(err, "field 'listen.%s': missing (TLS needs both a certificate and a key)",
                     c->listen.tls_cert_file ? "tls_key_file" : "tls_cert_file");
        return -EINVAL;
    }
    if (!address_ok(AF_INET, c->listen.address) && !address_ok(AF_INET6, c->listen.address)) {
        slio_err_set(err, "field 'listen.address': \"%s\" is not a literal IP address",
                     c->listen.address);
        return -EINVAL;
    }
    return agent_pool_config_validate(&c->pool, err);
}

int agent_config_decode(json_t *json, struct agent_config *ret, struct slio_err *err)
{
    struct agent_config c;
    int r;

    if (!json_is_object(json)) {
        slio_err_set(err, "expected a mapping at the top, got %s", slio_json_type_name(json));
        return -EINVAL;
    }
    config_defaults(&c);
    r = SLIO_JSON_DECODE(json, config_fields, &c, 0, err);
    if (r < 0) {
        agent_pool_config_release(&c.pool);
        return r;
    }
    for (c.controller.n_urls = 0; c.controller.urls[c.controller.n_urls];)
        c.controller.n_urls++;
    r = validate(&c, err);
    if (r < 0) {
        slio_json_release_object(config_fields, SLIO_ARRAY_SIZE(config_fields), &c);
        agent_pool_config_release(&c.pool);
        return r;
    }
    c.root = json_incref(json);
    *ret = c;
    return 0;
}

int agent_config_load(const char *path, struct agent_config *ret, struct slio_err *err)
{
    _cleanup_json_ json_t *json = NULL;
    int r;

    r = slio_config_load_file(path, NULL, &json, err);
    if (r < 0)
        return r;
    r = agent_config_decode(json, ret, err);
    if (r < 0)
        slio_err_prefix(err, "config \"%s\"", path);
    return r;
}

void agent_config_release(struct agent_config *cfg)
{
    if (!cfg || !cfg->root)
        return;
    slio_json_release_object(config_fields, SLIO_ARRAY_SIZE(config_fields), cfg);
    agent_pool_config_release(&cfg->pool);
    json_decref(cfg->root);
    *cfg = (struct agent_config){0};
}

int agent_config_host_nqn(const struct agent_config *cfg, char ret[static SLIO_NQN_BUF],
                          struct slio_err *err)
{
    uuid_t hostid;
    int r;

    if (cfg->node.host_nqn) {
        snprintf(ret, SLIO_NQN_BUF, "%s", cfg->node.host_nqn);
        return 0;
    }
    r = slio_host_identity_load(cfg->node.hostnqn_dir, ret, hostid);
    if (r < 0)
        slio_err_set(err, "node.host_nqn is not set and \"%s/hostnqn\" cannot be read: %s",
                     cfg->node.hostnqn_dir, strerror(-r));
    return r;
}

/* The first line of a token file (<= 4 KiB, trailing whitespace cut); NULL path: NULL. */
static int read_token_file(const char *path, char **ret, struct slio_err *err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r;

    if (!path) {
        *ret = NULL;
        return 0;
    }
    r = slio_read_file(path, TOKEN_MAX, &buf, &len);
    if (r < 0) {
        slio_err_set(err, "token file \"%s\": %s", path, strerror(-r));
        return r;
    }
    len = strcspn(buf, "\r\n");
    while (len > 0 && isspace((unsigned char)buf[len - 1]))
        len--;
    buf[len] = '\0';
    if (len == 0 || strlen(buf) != len) {
        slio_err_set(err, "token file \"%s\": empty first line", path);
        return -EINVAL;
    }
    *ret = TAKE_PTR(buf);
    return 0;
}

int agent_config_read_token(const struct agent_config *cfg, char **ret, struct slio_err *err)
{
    return read_token_file(cfg->controller.token_file, ret, err);
}

int agent_config_read_metrics_token(const struct agent_config *cfg, char **ret,
                                    struct slio_err *err)
{
    return read_token_file(cfg->listen.token_file, ret, err);
}
