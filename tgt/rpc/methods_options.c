/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SPDK's framework and option methods, the ones its save_config writes for
 * a plain nvmf_tgt (iobuf_set_options, sock_impl_set_options,
 * bdev_set_options, nvmf_set_config, accel_set_options, ...). SPDK's rpc.py
 * load_config refuses a whole file if it names one method the target does
 * not list, so each is answered here:
 *  - what has a meaning here is applied: nvmf_set_max_subsystems caps
 *    nvmf_create_subsystem, bdev_wait_for_examine returns at once (bdevs
 *    are ready when created);
 *  - the others are recorded (merged per method, and per impl_name/opname
 *    where SPDK keeps one set per socket layer or opcode) and written back
 *    by save_config in their subsystem, so a configuration crossing from
 *    SPDK to slio-tgt and back keeps them; they change nothing here.
 * docs/tgt-rpc.md ("Framework and option methods") lists them.
 */
#define SLIO_LOG_COMPONENT "rpc"

#include <string.h>

#include "rpc/methods.h"
#include "slio/log.h"

#define DEFAULT_MAX_SUBSYSTEMS 1024 /* SPDK's default */
/* What a client can make us keep: records per method (impl_name, opname), bytes per record */
#define MAX_KEYS_PER_METHOD 16
#define MAX_RECORD_BYTES    16384

struct option_method {
    const char *name;
    const char *subsystem; /* where save_config writes it */
    const char *key;       /* a parameter naming one of several records, or NULL */
};

/* In the order SPDK's save_config writes them within each subsystem. */
static const struct option_method g_options[] = {
    {"iobuf_set_options", "iobuf", NULL},           {"sock_set_default_impl", "sock", NULL},
    {"sock_impl_set_options", "sock", "impl_name"}, {"accel_set_options", "accel", NULL},
    {"accel_assign_opc", "accel", "opname"},        {"accel_set_driver", "accel", NULL},
    {"keyring_linux_set_options", "keyring", NULL}, {"bdev_set_options", "bdev", NULL},
    {"bdev_raid_set_options", "bdev", NULL},        {"bdev_iscsi_set_options", "bdev", NULL},
    {"bdev_nvme_set_options", "bdev", NULL},        {"bdev_nvme_set_hotplug", "bdev", NULL},
    {"framework_set_scheduler", "scheduler", NULL}, {"nvmf_set_config", "nvmf", NULL},
    {"nvmf_set_max_subsystems", "nvmf", NULL},      {"nvmf_set_crdt", "nvmf", NULL},
};

/* {method: {key or "": params}}: management thread only */
static json_t *g_recorded;

static const struct option_method *option_find(const char *name)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(g_options); i++)
        if (strcmp(g_options[i].name, name) == 0)
            return &g_options[i];
    return NULL;
}

/* Merge params into the record of (method, key), as SPDK's setters keep what is not given. */
static int record(const struct option_method *m, json_t *params, struct tgt_rpc_err *err)
{
    const char *key = "";

    if (params && !json_is_object(params))
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS, "invalid parameters: expected an object");
    if (m->key) {
        key = json_string_value(json_object_get(params, m->key));
        if (!key || !key[0] || strlen(key) > 64)
            return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                                 "invalid parameter '%s': expected a string of 1 to 64 bytes",
                                 m->key);
    }
    if (!g_recorded && !(g_recorded = json_object()))
        return tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "out of memory");
    json_t *by_key = json_object_get(g_recorded, m->name);
    if (!by_key && json_object_set_new(g_recorded, m->name, by_key = json_object()) < 0)
        return tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "out of memory");
    json_t *rec = json_object_get(by_key, key);
    if (!rec && json_object_size(by_key) >= MAX_KEYS_PER_METHOD)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "invalid parameter '%s': at most %d different ones are kept", m->key,
                             MAX_KEYS_PER_METHOD);
    json_t *merged = rec ? json_deep_copy(rec) : json_object();
    if (!merged || (params && json_object_update(merged, params) < 0)) {
        json_decref(merged);
        return tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "out of memory");
    }
    if (json_dumpb(merged, NULL, 0, JSON_COMPACT) > MAX_RECORD_BYTES) {
        json_decref(merged);
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "invalid parameters: more than %d bytes of options", MAX_RECORD_BYTES);
    }
    if (json_object_set_new(by_key, key, merged) < 0)
        return tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "out of memory");
    log_debug("%s: recorded (no effect in slio-tgt)", m->name);
    return 0;
}

static int recorded_option(const char *method, json_t *params, json_t **ret,
                           struct tgt_rpc_err *err)
{
    const struct option_method *m = option_find(method);

    return record(m, params, err) < 0 ? -1 : tgt_rpc_ok(ret);
}

/* One handler per name: the table's fn has no method argument. */
#define RECORDED(fn, name)                                                                         \
    static int fn(json_t *params, json_t **ret, struct tgt_rpc_err *err)                           \
    {                                                                                              \
        return recorded_option(name, params, ret, err);                                            \
    }
RECORDED(iobuf_set_options, "iobuf_set_options")
RECORDED(sock_set_default_impl, "sock_set_default_impl")
RECORDED(sock_impl_set_options, "sock_impl_set_options")
RECORDED(accel_set_options, "accel_set_options")
RECORDED(accel_assign_opc, "accel_assign_opc")
RECORDED(accel_set_driver, "accel_set_driver")
RECORDED(keyring_linux_set_options, "keyring_linux_set_options")
RECORDED(bdev_set_options, "bdev_set_options")
RECORDED(bdev_raid_set_options, "bdev_raid_set_options")
RECORDED(bdev_iscsi_set_options, "bdev_iscsi_set_options")
RECORDED(bdev_nvme_set_options, "bdev_nvme_set_options")
RECORDED(bdev_nvme_set_hotplug, "bdev_nvme_set_hotplug")
RECORDED(framework_set_scheduler, "framework_set_scheduler")
RECORDED(nvmf_set_crdt, "nvmf_set_crdt")

struct max_subsys_req {
    uint32_t max;
};
static const struct slio_json_field max_subsys_fields[] = {
    SLIO_JSON_FIELD(struct max_subsys_req, max, "max_subsystems", SLIO_JSON_U32, .required = true,
                    .min = 1, .max = 65519),
};

/* Recorded, and its DH-HMAC-CHAP digests and DH groups applied (methods_keyring.c). */
static int nvmf_set_config(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    if (tgt_rpc_dhchap_set_config(params, err) < 0)
        return -1;
    return recorded_option("nvmf_set_config", params, ret, err);
}

static int nvmf_set_max_subsystems(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct max_subsys_req req = {0};

    if (TGT_RPC_DECODE(params, max_subsys_fields, &req, 0, err) < 0 ||
        recorded_option("nvmf_set_max_subsystems", params, ret, err) < 0)
        return -1;
    return 0;
}

uint32_t tgt_rpc_max_subsystems(void)
{
    json_t *rec = json_object_get(json_object_get(g_recorded, "nvmf_set_max_subsystems"), "");
    json_int_t v = json_integer_value(json_object_get(rec, "max_subsystems"));

    return v > 0 ? (uint32_t)v : DEFAULT_MAX_SUBSYSTEMS;
}

/* Every bdev exists and is usable when its create method returns: nothing to wait for. */
static int bdev_wait_for_examine(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    if (tgt_rpc_no_params(params, err) < 0)
        return -1;
    return tgt_rpc_ok(ret);
}

bool tgt_rpc_options_has(const char *name)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(g_options); i++)
        if (strcmp(g_options[i].subsystem, name) == 0 &&
            json_object_get(g_recorded, g_options[i].name))
            return true;
    return false;
}

void tgt_rpc_options_config(const char *name, json_t *config)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(g_options); i++) {
        const struct option_method *m = &g_options[i];
        const char *key;
        json_t *rec;
        if (strcmp(m->subsystem, name) != 0)
            continue;
        json_object_foreach (json_object_get(g_recorded, m->name), key, rec)
            json_array_append_new(config,
                                  json_pack("{s:s, s:O}", "method", m->name, "params", rec));
    }
}

void tgt_rpc_options_clear(void)
{
    json_decref(g_recorded);
    g_recorded = NULL;
}

const struct tgt_rpc_method tgt_rpc_option_methods[] = {
    {"iobuf_set_options", iobuf_set_options, true},
    {"sock_set_default_impl", sock_set_default_impl, true},
    {"sock_impl_set_options", sock_impl_set_options, true},
    {"accel_set_options", accel_set_options, true},
    {"accel_assign_opc", accel_assign_opc, true},
    {"accel_set_driver", accel_set_driver, true},
    {"keyring_linux_set_options", keyring_linux_set_options, true},
    {"bdev_set_options", bdev_set_options, true},
    {"bdev_raid_set_options", bdev_raid_set_options, true},
    {"bdev_iscsi_set_options", bdev_iscsi_set_options, true},
    {"bdev_nvme_set_options", bdev_nvme_set_options, true},
    {"bdev_nvme_set_hotplug", bdev_nvme_set_hotplug, true},
    {"bdev_wait_for_examine", bdev_wait_for_examine, false},
    {"framework_set_scheduler", framework_set_scheduler, true},
    {"nvmf_set_config", nvmf_set_config, true},
    {"nvmf_set_max_subsystems", nvmf_set_max_subsystems, true},
    {"nvmf_set_crdt", nvmf_set_crdt, true},
};
const size_t tgt_rpc_option_methods_count = SLIO_ARRAY_SIZE(tgt_rpc_option_methods);
