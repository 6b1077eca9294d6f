/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exporter for slio-tgt and SPDK's nvmf_tgt (same JSON-RPC methods,
 * docs/tgt-rpc.md). ensure() compares what the target holds (from discovery)
 * with what the volume needs and sends only the missing calls, so running it
 * again — after a crash between any two calls — finishes the work.
 */
#define SLIO_LOG_COMPONENT "agent"

#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "export/slio_tgt_internal.h"
#include "slio/json.h"
#include "slio/jsonrpc.h"
#include "slio/log.h"
#include "slio/uuid.h"

#define ENOTFOUND_BDEV             (-19) /* SPDK's -ENODEV for an unknown bdev */
#define TGT_JSONRPC_INTERNAL_ERROR (-32603)

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int tgt_call(struct tgt_exporter *t, const char *method, json_t *params, json_t **ret_result,
             int64_t *ret_code, struct slio_err *err)
{
    struct slio_jsonrpc_opts opts = {.timeout_ms = t->timeout_ms, .max_response = TGT_RESPONSE_MAX};
    _cleanup_json_ json_t *p = params;
    _cleanup_free_ char *msg = NULL;
    double start = now_seconds();
    int64_t code = 0;
    int r;

    r = slio_jsonrpc_call_ex(t->socket, method, p, &opts, ret_result, &code, &msg);
    if (t->observe)
        t->observe(method, now_seconds() - start);
    if (r < 0) {
        slio_err_set(err, "%s", msg ? msg : strerror(-r));
        if (ret_code)
            *ret_code = r == -EREMOTEIO ? code : 0;
    }
    return r;
}

int tgt_check_transport(struct tgt_exporter *t, struct slio_err *err)
{
    _cleanup_json_ json_t *res = NULL;
    int r;

    r = tgt_call(t, "nvmf_get_transports", NULL, &res, NULL, err);
    if (r < 0)
        return r;
    pthread_mutex_lock(&t->lock);
    t->transport_ready = json_is_array(res) && json_array_size(res) > 0;
    pthread_mutex_unlock(&t->lock);
    return 0;
}

/* The TCP transport exists once per target; created on first need. */
static int ensure_transport(struct tgt_exporter *t, struct slio_err *err)
{
    _cleanup_json_ json_t *res = NULL;
    int r = 0;

    pthread_mutex_lock(&t->lock);
    if (t->transport_ready)
        goto out;
    r = tgt_call(t, "nvmf_get_transports", NULL, &res, NULL, err);
    if (r < 0)
        goto out;
    if (!json_is_array(res) || json_array_size(res) == 0)
        r = tgt_call(t, "nvmf_create_transport", json_pack("{s:s}", "trtype", "TCP"), NULL, NULL,
                     err);
    if (r == 0)
        t->transport_ready = true;
out:
    pthread_mutex_unlock(&t->lock);
    return r;
}

static json_t *listen_address(const struct tgt_exporter *t)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "trtype", "TCP", "adrfam",
                     t->addr.ipv6 ? "IPv6" : "IPv4", "traddr", t->addr.traddr, "trsvcid",
                     t->addr.trsvcid);
}

/*
 * bdev_aio_create's params. SPDK cannot detect a regular file's block size
 * (the file engine's volumes; -22 "Block size could not be auto-detected"):
 * a file gets 512, slio-tgt's default for files. SPDK before v24.09 has no
 * "uuid" (-32603 "spdk_json_decode_object failed"): there the bdev keeps
 * SPDK's own UUID; the namespace UUID (nvmf_subsystem_add_ns) is still the
 * volume's.
 */
static json_t *aio_params(const struct agent_export_spec *spec, const char *bdev, bool uuid)
{
    json_t *p = json_pack("{s:s, s:s}", "name", bdev, "filename", spec->path);
    char u[SLIO_UUID_STR_LEN];
    struct stat st;

    if (p && uuid)
        json_object_set_new(p, "uuid", json_string(slio_uuid_format(spec->uuid, u)));
    if (p && stat(spec->path, &st) == 0 && S_ISREG(st.st_mode))
        json_object_set_new(p, "block_size", json_integer(512));
    return p;
}

/* Without "uuid" once an SPDK target refused it (learned once per exporter). */
static int create_bdev(struct tgt_exporter *t, const struct agent_export_spec *spec,
                       const char *bdev, struct slio_err *err)
{
    int64_t code = 0;

    if (!atomic_load(&t->aio_no_uuid)) {
        int r = tgt_call(t, "bdev_aio_create", aio_params(spec, bdev, true), NULL, &code, err);
        if (r != -EREMOTEIO || !t->spdk || code != TGT_JSONRPC_INTERNAL_ERROR)
            return r;
        log_info("bdev_aio_create refused \"uuid\" (SPDK before v24.09): creating "
                 "bdevs without it");
        atomic_store(&t->aio_no_uuid, true);
    }
    return tgt_call(t, "bdev_aio_create", aio_params(spec, bdev, false), NULL, NULL, err);
}

static int create_subsystem(struct tgt_exporter *t, const uuid_t uuid, const char *nqn,
                            struct slio_err *err)
{
    char serial[21];

    /* 20 printable characters: "SLIO" and the uuid's first 16 hex digits. */
    snprintf(serial, sizeof(serial), "SLIO%02x%02x%02x%02x%02x%02x%02x%02x", uuid[0], uuid[1],
             uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7]);
    return tgt_call(t, "nvmf_create_subsystem",
                    json_pack("{s:s, s:s, s:s, s:b, s:i}", "nqn", nqn, "serial_number", serial,
                              "model_number", "SLiteIO Volume", "allow_any_host", 0,
                              "max_namespaces", 1),
                    NULL, NULL, err);
}

static ssize_t list_index(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return (ssize_t)i;
    return -1;
}

static bool same_name(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The key names host i of spec should be bound to ("" → NULL: no key). */
struct host_keys {
    char key[AGENT_KEY_NAME_MAX], ctrl[AGENT_KEY_NAME_MAX];
    const char *key_name, *ctrl_name; /* NULL or the buffers above */
    const char *key_secret, *ctrl_secret;
};

static void wanted_keys(const struct agent_export_spec *spec, size_t i, struct host_keys *k)
{
    *k = (struct host_keys){0};
    k->key_secret = spec->host_keys ? spec->host_keys[i] : NULL;
    k->ctrl_secret = k->key_secret && spec->ctrl_keys ? spec->ctrl_keys[i] : NULL;
    if (k->key_secret) {
        agent_export_key_name(spec->uuid, spec->hosts[i], false, k->key);
        k->key_name = k->key;
    }
    if (k->ctrl_secret) {
        agent_export_key_name(spec->uuid, spec->hosts[i], true, k->ctrl);
        k->ctrl_name = k->ctrl;
    }
}

static int add_host(struct tgt_exporter *t, const char *nqn, const char *host,
                    const struct host_keys *k, struct slio_err *err)
{
    json_t *p = json_pack("{s:s, s:s}", "nqn", nqn, "host", host);

    if (p && k->key_name)
        json_object_set_new(p, "dhchap_key", json_string(k->key_name));
    if (p && k->ctrl_name)
        json_object_set_new(p, "dhchap_ctrlr_key", json_string(k->ctrl_name));
    return tgt_call(t, "nvmf_subsystem_add_host", p, NULL, NULL, err);
}

static int remove_host(struct tgt_exporter *t, const char *nqn, const char *host,
                       struct slio_err *err)
{
    return tgt_call(t, "nvmf_subsystem_remove_host",
                    json_pack("{s:s, s:s}", "nqn", nqn, "host", host), NULL, NULL, err);
}

/*
 * One wanted host: its key files and keyring names first, then the host. A
 * rotation (same names, new secrets) only rewrites the files: the host stays
 * connected. Keys given to or taken from a host that is there already re-add
 * it, as the target binds keys when a host is added.
 */
static int sync_host(struct tgt_exporter *t, const char *nqn, const struct agent_export_spec *spec,
                     size_t i, const struct agent_export_state *cur, struct slio_err *err)
{
    ssize_t j = cur->n_hosts ? list_index(cur->hosts, cur->n_hosts, spec->hosts[i]) : -1;
    const char *have_key = j >= 0 && cur->key_names ? cur->key_names[j] : NULL;
    const char *have_ctrl = j >= 0 && cur->ctrl_key_names ? cur->ctrl_key_names[j] : NULL;
    bool bound;
    struct host_keys k;
    int r = 0;

    wanted_keys(spec, i, &k);
    bound = j >= 0 && same_name(have_key, k.key_name) && same_name(have_ctrl, k.ctrl_name);
    if (k.key_secret)
        r = tgt_key_ensure(t, spec->uuid, k.key_name, k.key_secret, bound, err);
    if (r == 0 && k.ctrl_secret)
        r = tgt_key_ensure(t, spec->uuid, k.ctrl_name, k.ctrl_secret, bound, err);
    if (r < 0 || bound)
        return r;
    if (j >= 0)
        r = remove_host(t, nqn, spec->hosts[i], err);
    return r < 0 ? r : add_host(t, nqn, spec->hosts[i], &k, err);
}

/* Add the wanted hosts first, then drop the others: a consumer that stays is never cut
 * off. Keys no wanted host uses go last (their hosts are gone by then). */
static int sync_hosts(struct tgt_exporter *t, const char *nqn, const struct agent_export_spec *spec,
                      const struct agent_export_state *cur, struct slio_err *err)
{
    char names[2 * AGENT_EXPORT_HOSTS_MAX][AGENT_KEY_NAME_MAX];
    const char *keep[2 * AGENT_EXPORT_HOSTS_MAX] = {0};
    int r;

    if (cur->allow_any_host) {
        r = tgt_call(t, "nvmf_subsystem_allow_any_host",
                     json_pack("{s:s, s:b}", "nqn", nqn, "allow_any_host", 0), NULL, NULL, err);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < spec->n_hosts; i++) {
        struct host_keys k;

        r = sync_host(t, nqn, spec, i, cur, err);
        if (r < 0)
            return r;
        wanted_keys(spec, i, &k);
        if (k.key_name)
            keep[2 * i] = memcpy(names[2 * i], k.key, sizeof(k.key));
        if (k.ctrl_name)
            keep[2 * i + 1] = memcpy(names[2 * i + 1], k.ctrl, sizeof(k.ctrl));
    }
    for (size_t i = 0; i < cur->n_hosts; i++) {
        if (list_index((char *const *)spec->hosts, spec->n_hosts, cur->hosts[i]) >= 0)
            continue;
        r = remove_host(t, nqn, cur->hosts[i], err);
        if (r < 0)
            return r;
    }
    return tgt_keys_prune(t, spec->uuid, keep, 2 * spec->n_hosts, err);
}

static uint64_t spdk_iops(const struct tgt_exporter *t, uint64_t iops)
{
    /* SPDK accepts IOPS limits in multiples of 1000 only; round up, never tighter. */
    return t->spdk ? SLIO_DIV_ROUND_UP(iops, 1000) * 1000 : iops;
}

static int sync_qos(struct tgt_exporter *t, const char *bdev, const struct agent_export_spec *spec,
                    const struct agent_export_state *cur, struct slio_err *err)
{
    struct agent_qos want = spec->qos;

    want.rw_ios_per_sec = spdk_iops(t, want.rw_ios_per_sec);
    if (memcmp(&want, &cur->qos, sizeof(want)) == 0)
        return 0;
    return tgt_call(t, "bdev_set_qos_limit",
                    json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", bdev, "rw_ios_per_sec",
                              (json_int_t)want.rw_ios_per_sec, "rw_mbytes_per_sec",
                              (json_int_t)want.rw_mbytes_per_sec, "r_mbytes_per_sec",
                              (json_int_t)want.r_mbytes_per_sec, "w_mbytes_per_sec",
                              (json_int_t)want.w_mbytes_per_sec),
                    NULL, NULL, err);
}

static int ensure_steps(struct tgt_exporter *t, const struct agent_export_spec *spec,
                        const struct agent_export_state *cur, struct slio_err *err)
{
    char nqn[SLIO_NQN_BUF], bdev[AGENT_BDEV_NAME_MAX], u[SLIO_UUID_STR_LEN];
    int r = 0;

    agent_export_nqn(spec->uuid, nqn);
    agent_export_bdev_name(spec->uuid, bdev);
    if (!cur->has_bdev)
        r = create_bdev(t, spec, bdev, err);
    if (r == 0 && !cur->has_subsystem)
        r = create_subsystem(t, spec->uuid, nqn, err);
    if (r == 0)
        r = sync_hosts(t, nqn, spec, cur, err);
    if (r == 0 && !cur->has_namespace)
        r = tgt_call(t, "nvmf_subsystem_add_ns",
                     json_pack("{s:s, s:{s:s, s:i, s:s}}", "nqn", nqn, "namespace", "bdev_name",
                               bdev, "nsid", 1, "uuid", slio_uuid_format(spec->uuid, u)),
                     NULL, NULL, err);
    if (r == 0 && !cur->has_listener)
        r = tgt_call(t, "nvmf_subsystem_add_listener",
                     json_pack("{s:s, s:o}", "nqn", nqn, "listen_address", listen_address(t)), NULL,
                     NULL, err);
    if (r == 0)
        r = sync_qos(t, bdev, spec, cur, err);
    return r;
}

static int tgt_ensure(struct agent_exporter *x, const struct agent_export_spec *spec,
                      const struct agent_export_state *cur, struct slio_err *err)
{
    struct tgt_exporter *t = (struct tgt_exporter *)x;
    struct agent_export_list list = {0};
    struct agent_export_state none = {0};
    char u[SLIO_UUID_STR_LEN];
    int r;

    if (spec->n_hosts == 0 || spec->n_hosts > AGENT_EXPORT_HOSTS_MAX || !spec->path) {
        slio_err_set(err, "volume %s: export needs 1..%d hosts and a path",
                     slio_uuid_format(spec->uuid, u), AGENT_EXPORT_HOSTS_MAX);
        return -EINVAL;
    }
    r = 0;
    if (!cur) {
        r = tgt_discover(x, &list, err);
        cur = agent_export_list_find(&list, spec->uuid);
    }
    if (r == 0)
        r = ensure_transport(t, err);
    if (r == 0)
        r = ensure_steps(t, spec, cur ? cur : &none, err);
    agent_export_list_free(&list);
    if (r < 0)
        slio_err_prefix(err, "volume %s: export", slio_uuid_format(spec->uuid, u));
    return r;
}

static int tgt_remove(struct agent_exporter *x, const uuid_t uuid,
                      const struct agent_export_state *cur, struct slio_err *err)
{
    struct tgt_exporter *t = (struct tgt_exporter *)x;
    char nqn[SLIO_NQN_BUF], bdev[AGENT_BDEV_NAME_MAX], u[SLIO_UUID_STR_LEN];
    struct agent_export_list list = {0};
    int64_t code = 0;
    int r = 0;

    if (!cur) {
        r = tgt_discover(x, &list, err);
        cur = agent_export_list_find(&list, uuid);
    }
    agent_export_nqn(uuid, nqn);
    agent_export_bdev_name(uuid, bdev);
    if (r == 0 && cur && cur->has_subsystem)
        r = tgt_call(t, "nvmf_delete_subsystem", json_pack("{s:s}", "nqn", nqn), NULL, NULL, err);
    /* before the bdev: a crash here leaves the bdev, so the next pass comes back */
    if (r == 0)
        r = tgt_keys_prune(t, uuid, NULL, 0, err);
    if (r == 0 && cur && cur->has_bdev) {
        r = tgt_call(t, "bdev_aio_delete", json_pack("{s:s}", "name", bdev), NULL, &code, err);
        if (r == -EREMOTEIO && code == ENOTFOUND_BDEV)
            r = 0;
    }
    agent_export_list_free(&list);
    if (r < 0)
        slio_err_prefix(err, "volume %s: unexport", slio_uuid_format(uuid, u));
    return r;
}

static int tgt_rescan(struct agent_exporter *x, const uuid_t uuid, struct slio_err *err)
{
    struct tgt_exporter *t = (struct tgt_exporter *)x;
    char bdev[AGENT_BDEV_NAME_MAX], u[SLIO_UUID_STR_LEN];
    int r;

    agent_export_bdev_name(uuid, bdev);
    r = tgt_call(t, "bdev_aio_rescan", json_pack("{s:s}", "name", bdev), NULL, NULL, err);
    if (r < 0)
        slio_err_prefix(err, "volume %s: rescan", slio_uuid_format(uuid, u));
    return r;
}

static void tgt_close(struct agent_exporter *x)
{
    struct tgt_exporter *t = (struct tgt_exporter *)x;

    pthread_mutex_destroy(&t->lock);
    free(t);
}

static const struct agent_exporter_ops tgt_ops = {
    .name = "slio-tgt",
    .close = tgt_close,
    .discover = tgt_discover,
    .ensure = tgt_ensure,
    .remove = tgt_remove,
    .rescan = tgt_rescan,
    .iostat = tgt_iostat,
};

int agent_exporter_slio_tgt_new(const struct agent_exporter_opts *opts, struct agent_exporter **ret)
{
    struct tgt_exporter *t;

    if (!opts->socket || strlen(opts->socket) >= TGT_SOCKET_MAX ||
        (opts->keys_dir && (opts->keys_dir[0] != '/' || strlen(opts->keys_dir) >= PATH_MAX / 2)))
        return -EINVAL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->base.ops = &tgt_ops;
    snprintf(t->socket, sizeof(t->socket), "%s", opts->socket);
    t->spdk = opts->spdk;
    t->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 30000;
    t->addr = opts->addr;
    t->observe = opts->observe;
    snprintf(t->keys_dir, sizeof(t->keys_dir), "%s",
             opts->keys_dir ? opts->keys_dir : AGENT_KEYS_DIR_DEFAULT);
    pthread_mutex_init(&t->lock, NULL);
    *ret = &t->base;
    return 0;
}
