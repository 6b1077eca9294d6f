/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON-RPC 2.0 request handling: validate the envelope as SPDK does (an
 * object with "jsonrpc": "2.0", "method", optional "id" and "params", nothing
 * else; batches are refused), find the method, run it, build the response.
 * This file is the one place where registry errnos become JSON-RPC codes.
 */
#define SLIO_LOG_COMPONENT "rpc"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rpc/rpc.h"
#include "slio/log.h"

static void (*g_change_hook)(void *ctx);
static void *g_change_ctx;

void tgt_rpc_set_change_hook(void (*fn)(void *ctx), void *ctx)
{
    g_change_hook = fn;
    g_change_ctx = ctx;
}

struct table {
    const struct tgt_rpc_method *m;
    const size_t *n;
};
static const struct table g_tables[] = {
    {tgt_rpc_misc_methods, &tgt_rpc_misc_methods_count},
    {tgt_rpc_bdev_methods, &tgt_rpc_bdev_methods_count},
    {tgt_rpc_nvmf_methods, &tgt_rpc_nvmf_methods_count},
    {tgt_rpc_listener_methods, &tgt_rpc_listener_methods_count},
    {tgt_rpc_option_methods, &tgt_rpc_option_methods_count},
    {tgt_rpc_keyring_methods, &tgt_rpc_keyring_methods_count},
};

const struct tgt_rpc_method *tgt_rpc_find(const char *name)
{
    for (size_t t = 0; t < SLIO_ARRAY_SIZE(g_tables); t++)
        for (size_t i = 0; i < *g_tables[t].n; i++)
            if (strcmp(g_tables[t].m[i].name, name) == 0)
                return &g_tables[t].m[i];
    return NULL;
}

json_t *tgt_rpc_method_names(void)
{
    json_t *a = json_array();

    for (size_t t = 0; a && t < SLIO_ARRAY_SIZE(g_tables); t++)
        for (size_t i = 0; i < *g_tables[t].n; i++)
            json_array_append_new(a, json_string(g_tables[t].m[i].name));
    return a;
}

int tgt_rpc_error(struct tgt_rpc_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

int tgt_rpc_error_from(struct tgt_rpc_err *err, int r, const struct slio_err *e, bool bdev_style)
{
    const char *text = e && e->text[0] ? e->text : strerror(-r);
    int code;

    if (bdev_style)
        code = r; /* SPDK's bdev RPCs answer with the negative errno as code */
    else
        code = r == -ENOMEM || r == -EIO ? TGT_RPC_INTERNAL_ERROR : TGT_RPC_INVALID_PARAMS;
    return tgt_rpc_error(err, code, "%s", text);
}

int tgt_rpc_ok(json_t **ret_result)
{
    *ret_result = json_true();
    return 0;
}

/* libslio's decoder says "field 'a.b': why"; SPDK users read "parameter". */
static void params_message(struct tgt_rpc_err *err, const char *text)
{
    const char *q;

    if (strncmp(text, "field '", 7) == 0)
        tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS, "invalid parameter '%s", text + 7);
    else if (strncmp(text, "unknown field '", 15) == 0 && (q = strchr(text + 15, '\'')))
        tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS, "invalid parameter '%.*s': unknown parameter",
                      (int)(q - (text + 15)), text + 15);
    else
        tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS, "invalid parameters: %s", text);
}

int tgt_rpc_decode(json_t *params, const struct slio_json_field *fields, size_t n, void *out,
                   size_t out_size, unsigned flags, struct tgt_rpc_err *err)
{
    struct slio_err e = {{0}};
    json_t *empty = NULL;
    int r;

    if (!params)
        params = empty = json_object();
    r = slio_json_decode_object(params, fields, n, out, out_size, flags, &e);
    json_decref(empty);
    if (r < 0) {
        if (r == -ENOMEM)
            return tgt_rpc_error(err, TGT_RPC_INTERNAL_ERROR, "out of memory");
        params_message(err, e.text);
        return -1;
    }
    return 0;
}

int tgt_rpc_no_params(json_t *params, struct tgt_rpc_err *err)
{
    const char *key;
    json_t *v;

    if (!params || (json_is_object(params) && json_object_size(params) == 0) ||
        (json_is_array(params) && json_array_size(params) == 0))
        return 0;
    json_object_foreach (params, key, v) {
        return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                             "invalid parameter '%.64s': this method takes no parameters", key);
    }
    return tgt_rpc_error(err, TGT_RPC_INVALID_PARAMS,
                         "invalid parameters: this method takes no parameters");
}

int tgt_rpc_call(const char *method, json_t *params, json_t **ret_result, struct tgt_rpc_err *err)
{
    const struct tgt_rpc_method *m = tgt_rpc_find(method);
    json_t *result = NULL;

    if (!m) {
        tgt_rpc_error(err, TGT_RPC_METHOD_NOT_FOUND, "Method not found: %.200s", method);
        return -ENOENT;
    }
    if (m->fn(params, &result, err) < 0) {
        json_decref(result);
        return -EINVAL;
    }
    if (!result)
        result = json_null();
    *ret_result = result;
    return 0;
}

static json_t *response(json_t *id, json_t *result, const struct tgt_rpc_err *err)
{
    json_t *r = json_pack("{s:s, s:O}", "jsonrpc", "2.0", "id", id ? id : json_null());

    if (!r) {
        json_decref(result);
        return NULL;
    }
    if (err)
        json_object_set_new(r, "error",
                            json_pack("{s:i, s:s}", "code", err->code, "message", err->message));
    else
        json_object_set_new(r, "result", result);
    return r;
}

static json_t *invalid_request(const char *why)
{
    struct tgt_rpc_err err;

    tgt_rpc_error(&err, TGT_RPC_INVALID_REQUEST, "Invalid request: %s", why);
    return response(NULL, NULL, &err);
}

/* Check the envelope; returns NULL if valid, else the reason. */
static const char *check_envelope(json_t *req)
{
    const char *key;
    json_t *v;

    if (json_is_array(req))
        return "batch requests are not supported";
    if (!json_is_object(req))
        return "not an object";
    json_object_foreach (req, key, v) {
        if (strcmp(key, "jsonrpc") == 0) {
            if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0)
                return "'jsonrpc' must be \"2.0\"";
        } else if (strcmp(key, "method") == 0) {
            if (!json_is_string(v))
                return "'method' must be a string";
        } else if (strcmp(key, "id") == 0) {
            if (!json_is_string(v) && !json_is_number(v) && !json_is_null(v))
                return "'id' must be a string, a number or null";
        } else if (strcmp(key, "params") == 0) {
            if (!json_is_object(v) && !json_is_array(v))
                return "'params' must be an object or an array";
        } else {
            return "unknown member";
        }
    }
    if (!json_object_get(req, "jsonrpc"))
        return "'jsonrpc' is missing";
    if (!json_object_get(req, "method"))
        return "'method' is missing";
    return NULL;
}

json_t *tgt_rpc_handle(json_t *req)
{
    const char *why = check_envelope(req);

    if (why)
        return invalid_request(why);

    const char *method = json_string_value(json_object_get(req, "method"));
    json_t *id = json_object_get(req, "id");
    json_t *params = json_object_get(req, "params");
    const struct tgt_rpc_method *m = tgt_rpc_find(method);
    struct tgt_rpc_err err = {0};
    json_t *result = NULL;
    int r;

    log_debug("method %.200s", method);
    r = tgt_rpc_call(method, params, &result, &err);
    if (r < 0) {
        log_info("method %.200s failed: %s (code %d)", method, err.message, err.code);
    } else if (m && m->mutates && g_change_hook) {
        g_change_hook(g_change_ctx);
    }
    if (!id) {
        json_decref(result);
        return NULL; /* a notification gets no answer */
    }
    return response(id, r < 0 ? NULL : result, r < 0 ? &err : NULL);
}
