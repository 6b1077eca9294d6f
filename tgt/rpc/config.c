/* SPDX-License-Identifier: Apache-2.0 */
/*
 * save_config / load_config in SPDK's layout, and framework_get_subsystems /
 * framework_get_config, from which SPDK's rpc.py assembles the same document:
 *   {"subsystems": [{"subsystem": "bdev", "config": [{"method": ..., "params": ...}]},
 *                   {"subsystem": "nvmf", "config": [...]}]}
 * Loading replays each method through the same handlers the RPC uses, so a
 * configuration file is exactly a recorded sequence of calls. SPDK's
 * framework and option methods (iobuf_set_options, bdev_set_options...) are
 * methods here too (methods_options.c) and are written back in their
 * subsystems; methods we do not implement are skipped with a warning so that
 * SPDK's own files load.
 *
 * What is written follows a compatibility level, the SPDK release that must
 * load it (TGT_CONFIG_SPDK_DEFAULT, --spdk-compat, save_config's
 * "spdk_version"): a member a release does not know makes its decoder
 * refuse the whole call. --save-config files are for slio-tgt and always
 * have every member.
 */
#define SLIO_LOG_COMPONENT "rpc"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "registry/bdev_malloc.h"
#include "registry/registry_mgmt.h"
#include "registry/keyring.h"
#include "rpc/methods.h"
#include "slio/fileio.h"
#include "slio/log.h"
#include "slio/parse.h"
#include "slio/uuid.h"
#include "transport/reactor.h"

#define YYMM_NEWEST   9999
#define YYMM_AIO_UUID 2409 /* bdev_aio_create takes "uuid" since SPDK v24.09 */

static unsigned g_default_yymm; /* 0: TGT_CONFIG_SPDK_DEFAULT */

int tgt_config_parse_spdk_version(const char *s, unsigned *ret)
{
    char yy[3] = {0}, mm[3] = {0};
    uint32_t y, m;

    s += *s == 'v';
    /* "YY.MM", then nothing or a ".patch" / "-suffix" */
    if (strlen(s) < 5 || s[2] != '.' || (s[5] && s[5] != '.' && s[5] != '-'))
        return -EINVAL;
    memcpy(yy, s, 2);
    memcpy(mm, s + 3, 2);
    if (slio_parse_u32(yy, 17, 99, &y) < 0 || slio_parse_u32(mm, 1, 12, &m) < 0)
        return -EINVAL;
    *ret = y * 100 + m;
    return 0;
}

int tgt_config_set_spdk_compat(const char *version)
{
    unsigned v;
    int r = tgt_config_parse_spdk_version(version, &v);

    if (r == 0)
        g_default_yymm = v;
    return r;
}

static unsigned default_yymm(void)
{
    unsigned v = 0;

    if (!g_default_yymm && tgt_config_parse_spdk_version(TGT_CONFIG_SPDK_DEFAULT, &v) == 0)
        g_default_yymm = v;
    return g_default_yymm;
}

/* What a subsystem's writer appends to, and for which SPDK release. */
struct writer {
    json_t *config;
    unsigned yymm;
};

static json_t *call(const char *method, json_t *params)
{
    return json_pack("{s:s, s:o}", "method", method, "params", params);
}

static json_t *bdev_create_call(const struct tgt_bdev *b, unsigned yymm)
{
    char uuid[SLIO_UUID_STR_LEN];

    slio_uuid_format(b->uuid, uuid);
    if (tgt_bdev_is_malloc(b))
        return call("bdev_malloc_create",
                    json_pack("{s:s, s:I, s:i, s:s}", "name", b->name, "num_blocks",
                              (json_int_t)tgt_bdev_num_blocks(b), "block_size", (int)b->block_size,
                              "uuid", uuid));
    json_t *p = json_pack("{s:s, s:s, s:i}", "name", b->name, "filename", b->filename, "block_size",
                          (int)b->block_size);
    if (p && yymm >= YYMM_AIO_UUID)
        json_object_set_new(p, "uuid", json_string(uuid));
    return call("bdev_aio_create", p);
}

static void bdev_entry(struct tgt_bdev *b, bool claimed, void *ctx)
{
    struct writer *w = ctx;
    struct tgt_qos_limits l;

    json_array_append_new(w->config, bdev_create_call(b, w->yymm));
    tgt_bdev_get_qos(b, &l);
    if (l.rw_ios_per_sec || l.rw_mbytes_per_sec || l.r_mbytes_per_sec || l.w_mbytes_per_sec)
        json_array_append_new(w->config,
                              call("bdev_set_qos_limit",
                                   json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", b->name,
                                             "rw_ios_per_sec", (json_int_t)l.rw_ios_per_sec,
                                             "rw_mbytes_per_sec", (json_int_t)l.rw_mbytes_per_sec,
                                             "r_mbytes_per_sec", (json_int_t)l.r_mbytes_per_sec,
                                             "w_mbytes_per_sec", (json_int_t)l.w_mbytes_per_sec)));
}

/* nvmf_create_subsystem; SPDK sets ANA states only with ana_reporting on. */
static json_t *create_subsys_call(const struct tgt_subsys_view *v, bool ana)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:b, s:i}", "nqn", v->nqn, "serial_number", v->serial,
                          "model_number", v->model, "allow_any_host", v->allow_any_host,
                          "max_namespaces", (int)v->max_namespaces);

    if (p && ana)
        json_object_set_new(p, "ana_reporting", json_true());
    return call("nvmf_create_subsystem", p);
}

/* {nqn, host} and the host's key names (never keys: the keyring entries name files). */
static json_t *host_params(const struct tgt_subsys_view *v, unsigned i)
{
    json_t *p = json_pack("{s:s, s:s}", "nqn", v->nqn, "host", v->hosts[i]);
    char key[TGT_KEY_NAME_MAX + 1], ckey[TGT_KEY_NAME_MAX + 1];
    if (p && tgt_host_keys_names(v->nqn, v->hosts[i], key, ckey)) {
        json_object_set_new(p, "dhchap_key", json_string(key));
        if (ckey[0])
            json_object_set_new(p, "dhchap_ctrlr_key", json_string(ckey));
    }
    return p;
}

static void subsys_entries(const struct tgt_subsys_view *v, void *ctx)
{
    struct writer *w = ctx;
    json_t *config = w->config, *ana = json_array();
    char uuid[SLIO_UUID_STR_LEN], nguid[33];

    tgt_rpc_ana_config(v, ana);
    if (v->type == TGT_SUBSYS_NVME)
        json_array_append_new(config, create_subsys_call(v, json_array_size(ana) > 0));
    for (unsigned i = 0; i < v->nr_listeners; i++)
        json_array_append_new(config, call("nvmf_subsystem_add_listener",
                                           json_pack("{s:s, s:o}", "nqn", v->nqn, "listen_address",
                                                     tgt_rpc_listen_json(&v->listeners[i]))));
    json_array_extend(config, ana);
    json_decref(ana);
    for (unsigned i = 0; i < v->nr_hosts; i++)
        json_array_append_new(config, call("nvmf_subsystem_add_host", host_params(v, i)));
    for (uint32_t i = 0; v->type == TGT_SUBSYS_NVME && i < v->max_namespaces; i++) {
        const struct tgt_ns *ns = v->ns[i];
        if (!ns)
            continue;
        json_array_append_new(
            config, call("nvmf_subsystem_add_ns",
                         json_pack("{s:s, s:{s:i, s:s, s:s, s:s}}", "nqn", v->nqn, "namespace",
                                   "nsid", (int)ns->nsid, "bdev_name", ns->bdev->name, "uuid",
                                   slio_uuid_format(ns->uuid, uuid), "nguid",
                                   tgt_rpc_nguid_format(ns->nguid, nguid))));
    }
}

static void bdev_config(struct writer *w)
{
    tgt_rpc_options_config("bdev", w->config);
    tgt_bdev_for_each(bdev_entry, w);
}

static void nvmf_config(struct writer *w)
{
    tgt_rpc_options_config("nvmf", w->config);
    if (tgt_transport_created())
        json_array_append_new(w->config, call("nvmf_create_transport", tgt_rpc_transport_json()));
    tgt_subsys_for_each(subsys_entries, w);
}

/*
 * The subsystems save_config writes, each after the ones it depends on, as
 * a loader replays them in this order (namespaces need their bdevs). SPDK's
 * rpc.py rebuilds the same document from framework_get_subsystems and
 * framework_get_config, so all three read this table. Those with a NULL
 * writer hold only recorded SPDK options and appear when they have some.
 */
static void keyring_config(struct writer *w)
{
    tgt_rpc_keyring_config(w->config);
}

static const struct config_subsystem {
    const char *name;
    const char *depends_on[2];
    void (*write)(struct writer *w);
    bool (*present)(void); /* NULL: always when it has a writer */
} g_subsystems[] = {
    {"keyring", {NULL}, keyring_config, tgt_rpc_keyring_present},
    {"iobuf", {NULL}, NULL},
    {"sock", {NULL}, NULL},
    {"accel", {"iobuf"}, NULL},
    {"bdev", {"accel", "iobuf"}, bdev_config},
    {"scheduler", {NULL}, NULL},
    {"nvmf", {"bdev", "sock"}, nvmf_config},
};

static bool subsystem_present(const struct config_subsystem *s)
{
    if (s && s->present)
        return s->present();
    return s && (s->write || tgt_rpc_options_has(s->name));
}

static const struct config_subsystem *subsystem_find(const char *name)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(g_subsystems); i++)
        if (strcmp(g_subsystems[i].name, name) == 0)
            return &g_subsystems[i];
    return NULL;
}

/* The subsystem's "config" array, or NULL when out of memory. */
static json_t *subsystem_config(const struct config_subsystem *s, unsigned yymm)
{
    struct writer w = {.config = json_array(), .yymm = yymm ? yymm : default_yymm()};

    if (w.config && s->write)
        s->write(&w);
    else if (w.config)
        tgt_rpc_options_config(s->name, w.config);
    return w.config;
}

int tgt_config_subsystem(const char *name, json_t **ret)
{
    const struct config_subsystem *s = subsystem_find(name);

    if (!s)
        return -ENOENT;
    json_t *config = subsystem_config(s, 0);
    if (!config)
        return -ENOMEM;
    *ret = config;
    return 0;
}

static json_t *depends_json(const struct config_subsystem *s)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < SLIO_ARRAY_SIZE(s->depends_on) && s->depends_on[i]; i++)
        if (subsystem_present(subsystem_find(s->depends_on[i])))
            json_array_append_new(a, json_string(s->depends_on[i]));
    return a;
}

json_t *tgt_config_subsystems(void)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < SLIO_ARRAY_SIZE(g_subsystems); i++) {
        const struct config_subsystem *s = &g_subsystems[i];
        if (!subsystem_present(s))
            continue;
        if (json_array_append_new(a, json_pack("{s:s, s:o}", "subsystem", s->name, "depends_on",
                                               depends_json(s))) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *tgt_config_build(unsigned yymm)
{
    json_t *subsystems = json_array();

    for (size_t i = 0; subsystems && i < SLIO_ARRAY_SIZE(g_subsystems); i++) {
        const struct config_subsystem *s = &g_subsystems[i];
        if (!subsystem_present(s))
            continue;
        if (json_array_append_new(subsystems, json_pack("{s:s, s:o}", "subsystem", s->name,
                                                        "config", subsystem_config(s, yymm))) < 0) {
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
    /* queries change nothing (bdev_wait_for_examine is the one SPDK writes) */
    if (!m || strcmp(method, "load_config") == 0) {
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
    json_t *doc = tgt_config_build(YYMM_NEWEST);
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
