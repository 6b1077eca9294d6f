/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DH-HMAC-CHAP configuration methods, with SPDK's names and parameters
 * (SPDK doc/jsonrpc.md): keyring_file_add_key, keyring_file_remove_key,
 * keyring_get_keys, nvmf_subsystem_set_keys, and the DH-HMAC-CHAP part of
 * nvmf_set_config (dhchap_digests, dhchap_dhgroups). nvmf_subsystem_add_host's
 * dhchap_key/dhchap_ctrlr_key are in methods_subsys.c.
 *
 * No answer and no saved configuration ever holds key material: keys are
 * named, and save_config writes keyring_file_add_key {name, path}.
 */
#define SLIO_LOG_COMPONENT "rpc"

#include <errno.h>
#include <string.h>

#include "registry/keyring.h"
#include "rpc/methods.h"
#include "slio/nvme_auth.h"

struct key_req {
    const char *name, *path;
};
static const struct slio_json_field key_add_fields[] = {
    SLIO_JSON_FIELD(struct key_req, name, "name", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = TGT_KEY_NAME_MAX),
    SLIO_JSON_FIELD(struct key_req, path, "path", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = 4095),
};
static const struct slio_json_field key_name_fields[] = {
    SLIO_JSON_FIELD(struct key_req, name, "name", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = TGT_KEY_NAME_MAX),
};

/* SPDK's keyring RPCs answer a failure with the negative errno as the code (-17 for a name
 * taken, -2 for an unknown key): clients such as the agent tell those apart. */
static int finish(int r, const struct slio_err *e, json_t **ret, struct tgt_rpc_err *err)
{
    return r < 0 ? tgt_rpc_error_from(err, r, e, true) : tgt_rpc_ok(ret);
}

static int keyring_file_add_key(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct key_req req = {0};
    struct slio_err e = {{0}};
    if (TGT_RPC_DECODE(params, key_add_fields, &req, 0, err) < 0)
        return -1;
    return finish(tgt_keyring_add(req.name, req.path, &e), &e, ret, err);
}

static int keyring_file_remove_key(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct key_req req = {0};
    struct slio_err e = {{0}};
    if (TGT_RPC_DECODE(params, key_name_fields, &req, 0, err) < 0)
        return -1;
    return finish(tgt_keyring_remove(req.name, &e), &e, ret, err);
}

static void key_json(const char *name, const char *path, void *ctx)
{
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:b}", "name", name, "module",
                                         "keyring_file", "path", path, "removed", 0));
}

static int keyring_get_keys(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    if (tgt_rpc_no_params(params, err) < 0)
        return -1;
    json_t *a = json_array();
    tgt_keyring_for_each(key_json, a);
    *ret = a;
    return 0;
}

static void key_call(const char *name, const char *path, void *ctx)
{
    json_array_append_new(ctx, json_pack("{s:s, s:{s:s, s:s}}", "method", "keyring_file_add_key",
                                         "params", "name", name, "path", path));
}

void tgt_rpc_keyring_config(json_t *config)
{
    tgt_rpc_options_config("keyring", config);
    tgt_keyring_for_each(key_call, config);
}

static void count(const char *name, const char *path, void *ctx)
{
    (*(unsigned *)ctx)++;
}

bool tgt_rpc_keyring_present(void)
{
    unsigned n = 0;
    tgt_keyring_for_each(count, &n);
    return n > 0 || tgt_rpc_options_has("keyring");
}

struct set_keys_req {
    const char *nqn, *tgt_name, *host, *key, *ckey;
};
static const struct slio_json_field set_keys_fields[] = {
    SLIO_JSON_FIELD(struct set_keys_req, nqn, "nqn", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = TGT_NQN_MAX),
    SLIO_JSON_FIELD(struct set_keys_req, tgt_name, "tgt_name", SLIO_JSON_STRING),
    SLIO_JSON_FIELD(struct set_keys_req, host, "host", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = TGT_NQN_MAX),
    SLIO_JSON_FIELD(struct set_keys_req, key, "dhchap_key", SLIO_JSON_STRING,
                    .max = TGT_KEY_NAME_MAX),
    SLIO_JSON_FIELD(struct set_keys_req, ckey, "dhchap_ctrlr_key", SLIO_JSON_STRING,
                    .max = TGT_KEY_NAME_MAX),
};

static bool host_listed(const struct tgt_subsys_view *v, const char *host)
{
    for (unsigned i = 0; i < v->nr_hosts; i++)
        if (strcmp(v->hosts[i], host) == 0)
            return true;
    return false;
}

struct find_host {
    const char *nqn, *host;
    bool found;
};

static void find_host(const struct tgt_subsys_view *v, void *ctx)
{
    struct find_host *f = ctx;
    if (strcmp(v->nqn, f->nqn) == 0 && host_listed(v, f->host))
        f->found = true;
}

/*
 * Key rotation: new key names for a host already allowed. Connected
 * controllers stay; their queues and any re-authentication use the new keys.
 */
static int nvmf_subsystem_set_keys(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct set_keys_req req = {0};
    struct slio_err e = {{0}};
    if (TGT_RPC_DECODE(params, set_keys_fields, &req, 0, err) < 0)
        return -1;
    struct find_host f = {.nqn = req.nqn, .host = req.host};
    tgt_subsys_for_each(find_host, &f);
    if (!f.found)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS, "Subsystem %s: host %s is not allowed",
                             req.nqn, req.host);
    return finish(tgt_host_keys_set(req.nqn, req.host, req.key, req.ckey, &e), &e, ret, err);
}

/* "dhchap_digests": ["sha256", ...] / "dhchap_dhgroups": ["null", "ffdhe2048", ...] */
static int names_mask(json_t *params, const char *field, bool groups, uint32_t *mask,
                      struct tgt_rpc_err *err)
{
    json_t *a = json_object_get(params, field), *v;
    size_t i;
    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) == 0)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "invalid parameter '%s': expected a non-empty array of names", field);
    uint32_t m = 0;
    json_array_foreach (a, i, v) {
        const char *s = json_string_value(v);
        int id = groups ? slio_dhchap_dhgroup_id(s) : slio_dhchap_hash_id(s);
        if (id < 0)
            return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                                 "invalid parameter '%s': unknown %s \"%.32s\"", field,
                                 groups ? "DH group" : "digest", s ? s : "(not a string)");
        m |= 1u << id;
    }
    *mask = m;
    return 0;
}

int tgt_rpc_dhchap_set_config(json_t *params, struct tgt_rpc_err *err)
{
    uint32_t digests, dhgroups;
    tgt_auth_get_allowed(&digests, &dhgroups);
    if (names_mask(params, "dhchap_digests", false, &digests, err) < 0 ||
        names_mask(params, "dhchap_dhgroups", true, &dhgroups, err) < 0)
        return -1;
    tgt_auth_set_allowed(digests, dhgroups);
    return 0;
}

const struct tgt_rpc_method tgt_rpc_keyring_methods[] = {
    {"keyring_file_add_key", keyring_file_add_key, true},
    {"keyring_file_remove_key", keyring_file_remove_key, true},
    {"keyring_get_keys", keyring_get_keys, false},
    {"nvmf_subsystem_set_keys", nvmf_subsystem_set_keys, true},
};
const size_t tgt_rpc_keyring_methods_count = SLIO_ARRAY_SIZE(tgt_rpc_keyring_methods);
