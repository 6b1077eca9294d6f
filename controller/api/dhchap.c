/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /v1/nodes/{node}/dhchap: a consumer node's DH-HMAC-CHAP secrets (its host
 * key and, for bidirectional authentication, the controller key the target
 * answers with). Set and removed by an admin; kept in the store under
 * /slio/dhchap/<node>, apart from the node document, so no node GET or list
 * can carry them; read back only as "configured" and key ids (the first 16
 * hex digits of the secret's SHA-256). The one way out is the desired state
 * of an agent that exports a volume to that node (api/agent.c), for its
 * target. Events and log lines name the node and the key ids, never a key.
 */
#define SLIO_LOG_COMPONENT "api"
#include <string.h>

#include "api.h"
#include "model.h"
#include "slio/json.h"
#include "slio/log.h"

#define TOUCH_BATCH 32 /* desired markers per transaction (< STORE_TXN_MAX) */

/* ---- which agents must learn of a change ----------------------------------------------- */

struct exporters {
    const char *consumer;
    json_t *nodes; /* set: node name → true */
};

static void note_exporter(struct api_call *call, const struct store_kv *kv, const char *prefix,
                          void *arg)
{
    struct exporters *e = arg;
    _cleanup_json_ json_t *vol = NULL;
    size_t i;
    json_t *a;

    (void)prefix;
    if (slio_json_loadb(kv->value, kv->value_len, SIZE_MAX, &vol, NULL) < 0)
        return;
    json_array_foreach (json_object_get(vol, "attachments"), i, a)
        if (!json_is_true(json_object_get(a, "local")) &&
            strcmp(model_str(a, "node"), e->consumer) == 0 && model_str(vol, "node")[0])
            json_object_set_new(e->nodes, model_str(vol, "node"), json_true());
    (void)call;
}

/* Bump the desired revision of every node that exports a volume to consumer, so its
 * agent fetches the new keys at once (the periodic fetch would find them too). */
static int touch_exporters(struct api_call *call, const char *consumer)
{
    struct exporters e = {consumer, json_object()};
    _cleanup_json_ json_t *nodes = e.nodes;
    const char *node;
    json_t *v;
    size_t n = 0;
    struct txb t;
    int r;

    if (!nodes)
        return -ENOMEM;
    r = api_scan(call, K_VOLUMES, false, note_exporter, &e);
    txb_init(&t);
    json_object_foreach (nodes, node, v) {
        if (r < 0)
            break;
        txb_touch_desired(&t, node);
        if (++n % TOUCH_BATCH == 0) {
            r = txb_commit(call->ctl, &t, NULL, &call->err);
            txb_free(&t);
            txb_init(&t);
        }
    }
    if (r == 0 && n % TOUCH_BATCH)
        r = txb_commit(call->ctl, &t, NULL, &call->err);
    txb_free(&t);
    return r;
}

/* ---- handlers -------------------------------------------------------------------------- */

static int put_dhchap(struct api_call *call)
{
    const char *node;
    char key[MODEL_KEY_MAX];
    _cleanup_json_ json_t *doc = NULL;
    struct txb t;
    int r = api_path_name(call, "node", &node);

    if (r == 0)
        r = model_dhchap_decode(call->body, &doc, &call->err);
    if (r < 0)
        return r;
    txb_init(&t);
    txb_put_json(&t, model_key(key, K_DHCHAP, node, NULL), doc);
    txb_event(&t, call->ctl, "node", node, "normal", "DhchapKeysSet",
              "node \"%s\": DH-HMAC-CHAP secrets set (host key %s%s%s)", node,
              model_str(doc, "host_key_id"),
              json_object_get(doc, "ctrl_key") ? ", controller key " : "",
              json_object_get(doc, "ctrl_key") ? model_str(doc, "ctrl_key_id") : "");
    r = txb_commit(call->ctl, &t, NULL, &call->err);
    txb_free(&t);
    if (r == 0)
        r = touch_exporters(call, node);
    if (r < 0)
        return r;
    log_info("node \"%s\": DH-HMAC-CHAP secrets set (host key %s)", node,
             model_str(doc, "host_key_id"));
    call->out = model_dhchap_public(node, doc);
    return call->out ? 0 : -ENOMEM;
}

static int get_dhchap(struct api_call *call)
{
    const char *node;
    char key[MODEL_KEY_MAX];
    _cleanup_json_ json_t *doc = NULL;
    int r = api_path_name(call, "node", &node);

    if (r == 0)
        r = store_get_json(call->ctl->store, model_key(key, K_DHCHAP, node, NULL), &doc, NULL,
                           &call->err);
    if (r < 0 && r != -ENOENT)
        return r;
    call->out = model_dhchap_public(node, doc);
    return call->out ? 0 : -ENOMEM;
}

static int delete_dhchap(struct api_call *call)
{
    const char *node;
    char key[MODEL_KEY_MAX];
    _cleanup_json_ json_t *doc = NULL;
    struct txb t;
    int64_t mod = 0;
    int r = api_path_name(call, "node", &node);

    if (r == 0)
        r = store_get_json(call->ctl->store, model_key(key, K_DHCHAP, node, NULL), &doc, &mod,
                           &call->err);
    if (r == -ENOENT)
        return 0; /* nothing configured: already so */
    if (r < 0)
        return r;
    txb_init(&t);
    txb_compare(&t, key, mod);
    txb_delete(&t, key);
    txb_event(&t, call->ctl, "node", node, "normal", "DhchapKeysRemoved",
              "node \"%s\": DH-HMAC-CHAP secrets removed (host key %s)", node,
              model_str(doc, "host_key_id"));
    r = txb_commit(call->ctl, &t, NULL, &call->err);
    txb_free(&t);
    if (r == -ECANCELED)
        r = -EAGAIN;
    if (r == 0)
        r = touch_exporters(call, node);
    return r;
}

API_HANDLER(put_dhchap, NEED_ADMIN, API_BODY)
API_HANDLER(get_dhchap, NEED_READ, API_NO_BODY)
API_HANDLER(delete_dhchap, NEED_ADMIN, API_NO_BODY)

static const struct slio_http_route routes[] = {
    {"PUT", "/v1/nodes/{node}/dhchap", put_dhchap_http},
    {"GET", "/v1/nodes/{node}/dhchap", get_dhchap_http},
    {"DELETE", "/v1/nodes/{node}/dhchap", delete_dhchap_http},
};
const struct api_routes api_dhchap_routes = {routes, SLIO_ARRAY_SIZE(routes)};
