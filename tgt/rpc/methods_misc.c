/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdk_get_version, rpc_get_methods, save_config, load_config,
 * framework_get_subsystems, framework_get_config.
 */
#define SLIO_LOG_COMPONENT "rpc"

#include <errno.h>
#include <string.h>

#include "rpc/rpc.h"

#ifndef SLIO_VERSION
#define SLIO_VERSION "0.0.0"
#endif

static int spdk_get_version(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    unsigned major = 0, minor = 0, patch = 0;
    const char *p = SLIO_VERSION;

    if (tgt_rpc_no_params(params, err) < 0)
        return -1;
    /* "X.Y.Z": digits only, from our own build */
    for (; *p >= '0' && *p <= '9'; p++)
        major = major * 10 + (unsigned)(*p - '0');
    for (p += *p == '.'; *p >= '0' && *p <= '9'; p++)
        minor = minor * 10 + (unsigned)(*p - '0');
    for (p += *p == '.'; *p >= '0' && *p <= '9'; p++)
        patch = patch * 10 + (unsigned)(*p - '0');
    *ret =
        json_pack("{s:s, s:{s:i, s:i, s:i, s:s}}", "version", "slio-tgt v" SLIO_VERSION, "fields",
                  "major", (int)major, "minor", (int)minor, "patch", (int)patch, "suffix", "-slio");
    return 0;
}

struct methods_req {
    bool current, include_aliases;
};
static const struct slio_json_field methods_fields[] = {
    SLIO_JSON_FIELD(struct methods_req, current, "current", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct methods_req, include_aliases, "include_aliases", SLIO_JSON_BOOL),
};

static int rpc_get_methods(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct methods_req req = {0};

    /* every method is available at runtime, so "current" changes nothing */
    if (TGT_RPC_DECODE(params, methods_fields, &req, 0, err) < 0)
        return -1;
    *ret = tgt_rpc_method_names();
    return *ret ? 0 : tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "out of memory");
}

struct save_config_req {
    const char *spdk_version;
};
static const struct slio_json_field save_config_fields[] = {
    SLIO_JSON_FIELD(struct save_config_req, spdk_version, "spdk_version", SLIO_JSON_STRING,
                    .max = 32),
};

/* "spdk_version": the SPDK release that must load the result (default: --spdk-compat). */
static int save_config(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct save_config_req req = {0};
    unsigned yymm = 0;

    if (json_is_array(params) && json_array_size(params) == 0)
        params = NULL;
    if (TGT_RPC_DECODE(params, save_config_fields, &req, 0, err) < 0)
        return -1;
    if (req.spdk_version && tgt_config_parse_spdk_version(req.spdk_version, &yymm) < 0)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "invalid parameter 'spdk_version': \"%s\" is not an SPDK release "
                             "(v23.05, 24.09...)",
                             req.spdk_version);
    *ret = tgt_config_build(yymm);
    return *ret ? 0 : tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "out of memory");
}

/*
 * SPDK has no server-side save_config: rpc.py lists the subsystems with
 * framework_get_subsystems and asks framework_get_config for each one's calls.
 */
static int framework_get_subsystems(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    if (tgt_rpc_no_params(params, err) < 0)
        return -1;
    *ret = tgt_config_subsystems();
    return *ret ? 0 : tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "out of memory");
}

struct get_config_req {
    const char *name;
};
static const struct slio_json_field get_config_fields[] = {
    SLIO_JSON_FIELD(struct get_config_req, name, "name", SLIO_JSON_STRING, .required = true,
                    .min = 1),
};

static int framework_get_config(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    struct get_config_req req = {0};

    if (TGT_RPC_DECODE(params, get_config_fields, &req, 0, err) < 0)
        return -1;
    int r = tgt_config_subsystem(req.name, ret);
    if (r == -ENOENT)
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "Subsystem '%.64s' not found (framework_get_subsystems lists them)",
                             req.name);
    return r < 0 ? tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "out of memory") : 0;
}

static int load_config(json_t *params, json_t **ret, struct tgt_rpc_err *err)
{
    if (tgt_config_apply(params, err) < 0)
        return -1;
    return tgt_rpc_ok(ret);
}

const struct tgt_rpc_method tgt_rpc_misc_methods[] = {
    {"spdk_get_version", spdk_get_version, false},
    {"rpc_get_methods", rpc_get_methods, false},
    {"save_config", save_config, false},
    {"load_config", load_config, true},
    {"framework_get_subsystems", framework_get_subsystems, false},
    {"framework_get_config", framework_get_config, false},
};
const size_t tgt_rpc_misc_methods_count = SLIO_ARRAY_SIZE(tgt_rpc_misc_methods);
