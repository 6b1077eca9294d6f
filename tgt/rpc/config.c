/* SPDX-License-Identifier: Apache-2.0 */
/*
 * save_config / load_config in SPDK's layout, and framework_get_subsystems /
 * framework_get_config, from which SPDK's rpc.py assembles the same document:
 *   {"subsystems": [{"subsystem": "bdev", "config": [{"method": ..., "params": ...}]},
 *                   {"subsystem": "nvmf", "config": [...]}]}
 * Loading replays each method through the same handlers the RPC uses, so a
 * configuration file is exactly a recorded sequence of calls. Subsystems and
 * methods we do not implement (SPDK's "sock", "iobuf", bdev_set_options...)
 * are skipped with a warning so that SPDK's own files load.
 */
#define SLIO_LOG_COMPONENT "rpc"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "registry/registry_mgmt.h"
#include "rpc/methods.h"
#include "slio/fileio.h"
#include "slio/log.h"
#include "slio/uuid.h"
#include "transport/reactor.h"

static json_t *call(const char *method, json_t *params)
{
    return json_pack("{s:s, s:o}", "method", method, "params", params);
}

static void bdev_entry(struct tgt_bdev *b, bool claimed, void *ctx)
{
    char uuid[SLIO_UUID_STR_LEN];
    struct tgt_qos_limits l;

    json_array_append_new(
        ctx, call("bdev_aio_create", json_pack("{s:s, s:s, s:i, s:s}", "name", b->name, "filename",
                                               b->filename, "block_size", (int)b->block_size,
                                               "uuid", slio_uuid_format(b->uuid, uuid))));
    tgt_bdev_get_qos(b, &l);
    if (l.rw_ios_per_sec || l.rw_mbytes_per_sec || l.r_mbytes_per_sec || l.w_mbytes_per_sec)
        json_array_append_new(ctx,
                              call("bdev_set_qos_limit",
                                   json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", b->name,
                                             "rw_ios_per_sec", (json_int_t)l.rw_ios_per_sec,
                                             "rw_mbytes_per_sec", (json_int_t)l.rw_mbytes_per_sec,
                                             "r_mbytes_per_sec", (json_int_t)l.r_mbytes_per_sec,
                                             "w_mbytes_per_sec", (json_int_t)l.w_mbytes_per_sec)));
}

static void subsys_entries(const struct tgt_subsys_view *v, void *ctx)
{
    char uuid[SLIO_UUID_STR_LEN], nguid[33];

    if (v->type == TGT_SUBSYS_NVME)
        json_array_append_new(
            ctx, call("nvmf_create_subsystem",
                      json_pack("{s:s, s:s, s:s, s:b, s:i}", "nqn", v->nqn, "serial_number",
                                v->serial, "model_number", v->model, "allow_any_host",
                                v->allow_any_host, "max_namespaces", (int)v->max_namespaces)));
    for (unsigned i = 0; i < v->nr_listeners; i++)
        json_array_append_new(ctx, call("nvmf_subsystem_add_listener",
                                        json_pack("{s:s, s:o}", "nqn", v->nqn, "listen_address",
                                                  tgt_rpc_listen_json(&v->listeners[i]))));
    for (unsigned i = 0; i < v->nr_hosts; i++)
        json_array_append_new(ctx,
                              call("nvmf_subsystem_add_host",
                                   json_pack("{s:s, s:s}", "nqn", v->nqn, "host", v->hosts[i])));
    for (uint32_t i = 0; v->type == TGT_SUBSYS_NVME && i < v->max_namespaces; i++) {
        const struct tgt_ns *ns = v->ns[i];
        if (!ns)
            continue;
        json_array_append_new(
            ctx, call("nvmf_subsystem_add_ns",
                      json_pack("{s:s, s:{s:i, s:s, s:s, s:s}}", "nqn", v->nqn, "namespace", "nsid",
                                (int)ns->nsid, "bdev_name", ns->bdev->name, "uuid",
                                slio_uuid_format(ns->uuid, uuid), "nguid",
                                tgt_rpc_nguid_format(ns->nguid, nguid))));
    }
}

static void bdev_config(json_t *config)
{
    tgt_bdev_for_each(bdev_entry, config);
}

static void nvmf_config(json_t *config)
{
    if (tgt_transport_created())
        json_array_append_new(config, call("nvmf_create_transport", tgt_rpc_transport_json()));
    tgt_subsys_for_each(subsys_entries, config);
}

/*
 * The subsystems save_config writes, each after the one it depends on, since
 * a loader replays them in this order (namespaces need their bdevs). SPDK's
 * rpc.py rebuilds the same document from framework_get_subsystems and
 * framework_get_config, so all three read this table.
 */
static const struct config_subsystem {
    const char *name;
    const char *depends_on; /* NULL: none */
    void (*write)(json_t *config);
} g_subsystems[] = {
    {"bdev", NULL, bdev_config},
    {"nvmf", "bdev", nvmf_config},
};

static const struct config_subsystem *subsystem_find(const char *name)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(g_subsystems); i++)
        if (strcmp(g_subsystems[i].name, name) == 0)
            return &g_subsystems[i];
    return NULL;
}

/* The subsystem's "config" array, or NULL when out of memory. */
static json_t *subsystem_config(const struct config_subsystem *s)
{
    json_t *config = json_array();

    if (config)
        s->write(config);
    return config;
}

int tgt_config_subsystem(const char *name, json_t **ret)
{
    const struct config_subsystem *s = subsystem_find(name);

    if (!s)
        return -ENOENT;
    json_t *config = subsystem_config(s);
    if (!config)
        return -ENOMEM;
    *ret = config;
    return 0;
}

json_t *tgt_config_subsystems(void)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < SLIO_ARRAY_SIZE(g_subsystems); i++) {
        const struct config_subsystem *s = &g_subsystems[i];
        json_t *deps = s->depends_on ? json_pack("[s]", s->depends_on) : json_array();
        if (json_array_append_new(
                a, json_pack("{s:s, s:o}", "subsystem", s->name, "depends_on", deps)) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *tgt_config_build(void)
{
    json_t *subsystems = json_array();

    for (size_t i = 0; subsystems && i < SLIO_ARRAY_SIZE(g_subsystems); i++) {
        const struct config_subsystem *s = &g_subsystems[i];
        if (json_array_append_new(subsystems, json_pack("{s:s, s:o}", "subsystem", s->name,
                                                        "config", subsystem_config(s))) < 0) {
            json_decref(subsystems);
            return NULL;
        }
    }
    return json_pack("{s:o}", "subsystems", subsystems);
}

static int apply_one(json_t *entry, const char *where, struct tgt_rpc_err *err)
{
    const char *method = json_string_value(json_object_get(entry, "method"));
    json_t *params = json_object_get(entry, "params"), *result = NULL;

    if (!json_is_object(entry) || !method)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "invalid configuration: %s has no \"method\"", where);
    const struct tgt_rpc_method *m = tgt_rpc_find(method);
    if (!m || !m->mutates || strcmp(method, "load_config") == 0) {
        log_warn("configuration: %s: method %.64s is not supported here, skipped", where, method);
        return 0;
    }
    if (tgt_rpc_call(method, params, &result, err) < 0) {
        char msg[sizeof(err->message)];
        memcpy(msg, err->message, sizeof(msg));
        return tgt_rpc_error(err, err->code, "%s (%s): %s", where, method, msg);
    }
    json_decref(result);
    return 0;
}

int tgt_config_apply(json_t *doc, struct tgt_rpc_err *err)
{
    json_t *subsystems = json_object_get(doc, "subsystems");
    char where[96];
    size_t i, j;
    json_t *s, *entry;

    if (!json_is_object(doc) || !json_is_array(subsystems))
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "invalid parameter 'subsystems': expected an array");
    json_array_foreach (subsystems, i, s) {
        const char *name = json_string_value(json_object_get(s, "subsystem"));
        json_t *config = json_object_get(s, "config");
        if (!name)
            return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                                 "invalid parameter 'subsystems[%zu].subsystem': expected a string",
                                 i);
        if (!subsystem_find(name)) {
            if (json_array_size(config))
                log_warn("configuration: subsystem %.32s is not supported, skipped", name);
            continue;
        }
        if (config && !json_is_null(config) && !json_is_array(config))
            return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                                 "invalid parameter 'subsystems[%zu].config': expected an array",
                                 i);
        json_array_foreach (config, j, entry) {
            snprintf(where, sizeof(where), "subsystems[%zu].config[%zu]", i, j);
            if (apply_one(entry, where, err) < 0)
                return -1;
        }
    }
    return 0;
}

int tgt_config_load_file(const char *path, struct tgt_rpc_err *err)
{
    struct slio_err e = {{0}};
    json_t *doc = NULL;
    int r = slio_json_load_file(path, SLIO_JSON_MAX_DEFAULT, &doc, &e);

    if (r < 0)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS, "cannot load \"%s\": %s", path, e.text);
    r = tgt_config_apply(doc, err);
    json_decref(doc);
    return r;
}

int tgt_config_write_file(const char *path, struct slio_err *err)
{
    json_t *doc = tgt_config_build();
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    int r;

    json_decref(doc);
    if (!text) {
        slio_err_set(err, "configuration \"%s\": out of memory", path);
        return -ENOMEM;
    }
    size_t len = strlen(text);
    char *with_nl = realloc(text, len + 2);
    if (!with_nl) {
        free(text);
        slio_err_set(err, "configuration \"%s\": out of memory", path);
        return -ENOMEM;
    }
    memcpy(with_nl + len, "\n", 2);
    r = slio_write_file_atomic(path, with_nl, len + 1, 0644);
    free(with_nl);
    if (r < 0)
        slio_err_set(err, "cannot write configuration \"%s\": %s", path, strerror(-r));
    return r;
}
