/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /v1/nodes and /v1/pools: what agents registered, with the live figures of
 * their last heartbeat and the scheduler's accounting; cordon, uncordon and
 * drain (a plan: where each volume would go now, or why nowhere).
 */
#include <string.h>

#include "api.h"
#include "slio/parse.h"

static json_t *render_pool(struct api_call *call, const json_t *node, const json_t *pool)
{
    const char *node_name = model_str(node, "name"), *name = model_str(pool, "name");
    char id[MODEL_KEY_MAX];
    struct sched_pool_usage u = {0};
    json_t *out = model_public(pool);
    _cleanup_json_ json_t *live = ctl_live_pool(call->ctl, node_name, name);
    if (!out)
        return NULL;
    if (live)
        json_object_update(out, live);
    if (sched_view_pool_usage(ctl_view(call->ctl), model_pool_id(id, node_name, name), &u) < 0)
        u = (struct sched_pool_usage){0};
    json_object_set_new(out, "node", json_string(node_name));
    json_object_set_new(
        out, "status",
        json_string(model_pool_unreported(pool) ? "unreported" : ctl_node_status(node)));
    json_object_del(out, "unreported");
    json_object_set_new(out, "cordoned",
                        json_boolean(json_is_true(json_object_get(pool, "cordoned"))));
    json_object_set_new(out, "reserved", json_integer((json_int_t)u.allocated));
    json_object_set_new(out, "volumes", json_integer(u.n_volumes));
    json_object_set_new(out, "remote_volumes", json_integer(u.n_remote_volumes));
    if (!json_object_get(out, "labels"))
        json_object_set_new(out, "labels", json_object());
    return out;
}

static json_t *render_node(struct api_call *call, const json_t *doc, int64_t mod, void *arg)
{
    json_t *out = model_public(doc), *pools = json_array();
    size_t i;
    json_t *p;
    if (!out || !pools) {
        json_decref(out);
        json_decref(pools);
        return NULL;
    }
    json_array_foreach (json_object_get(doc, "pools"), i, p)
        json_array_append_new(pools, render_pool(call, doc, p));
    json_object_set_new(out, "pools", pools);
    json_object_set_new(out, "status", json_string(ctl_node_status(doc)));
    char seen[32];
    if (ctl_live_seen_at(call->ctl, model_str(doc, "name"), seen))
        json_object_set_new(out, "last_heartbeat", json_string(seen));
    return out;
}

static int list_nodes(struct api_call *call)
{
    return api_list(call, K_NODES, NULL, render_node, NULL);
}

static int get_node(struct api_call *call)
{
    const char *name;
    _cleanup_json_ json_t *doc = NULL;
    int r = api_path_name(call, "node", &name);
    if (r == 0)
        r = api_get_doc(call, K_NODES, name, "node", &doc, NULL);
    if (r < 0)
        return r;
    call->out = render_node(call, doc, 0, NULL);
    return call->out ? 0 : -ENOMEM;
}

/*
 * Pools are pages of (node, pool) pairs. A page that ends inside a node ends
 * with the token "<node key>\x01<index>": it sorts right after the node's key
 * and before the next node's, so the next page lists the node's remaining
 * pools and then resumes the node range after it.
 */
struct pool_page {
    json_t *items;
    size_t limit;
    char *last; /* the token key of the last pool emitted */
};

/* Emit the node's pools from index `from`; false when the page is full. */
static bool emit_pools(struct api_call *call, struct pool_page *pg, const char *key,
                       const json_t *node, size_t from)
{
    const json_t *pools = json_object_get(node, "pools");
    for (size_t i = from; i < json_array_size(pools); i++) {
        if (json_array_size(pg->items) == pg->limit)
            return false;
        json_array_append_new(pg->items, render_pool(call, node, json_array_get(pools, i)));
        free(pg->last);
        if (asprintf(&pg->last, "%s\x01%03zu", key, i) < 0)
            pg->last = NULL;
    }
    return true;
}

/* A resumed page: the rest of the node the token points into. */
static int resume_node(struct api_call *call, struct pool_page *pg, const char *token_key,
                       const char *only)
{
    const char *sep = strchr(token_key, '\x01');
    uint32_t index;
    if (!sep)
        return 0;
    _cleanup_free_ char *key = strndup(token_key, (size_t)(sep - token_key));
    _cleanup_json_ json_t *node = NULL;
    if (!key)
        return -ENOMEM;
    if (slio_parse_u32(sep + 1, 0, MODEL_MAX_POOLS, &index) < 0) {
        slio_err_set(&call->err, "query 'continue': not a token of this list");
        return -EINVAL;
    }
    if (store_get_json(call->ctl->store, key, &node, NULL, NULL) == 0 &&
        (!only || strcmp(model_str(node, "name"), only) == 0))
        emit_pools(call, pg, key, node, index + 1);
    return 0;
}

static int pools_page(struct api_call *call, struct pool_page *pg, const char *start,
                      const char *only, bool *ret_more)
{
    _cleanup_free_ char *after = start ? strdup(start) : NULL;
    for (;;) {
        struct store_kv_list l;
        bool full = false;
        int r = store_list(call->ctl->store, K_NODES, after, 100, false, &l, NULL, &call->err);
        if (r < 0)
            return r;
        for (size_t i = 0; i < l.n && !full; i++) {
            _cleanup_json_ json_t *node =
                json_loadb(l.items[i].value, l.items[i].value_len, 0, NULL);
            if (node && (!only || strcmp(model_str(node, "name"), only) == 0))
                full = !emit_pools(call, pg, l.items[i].key, node, 0);
        }
        bool more = full || l.more;
        free(after);
        after = l.n ? strdup(l.items[l.n - 1].key) : NULL;
        store_kv_list_clear(&l);
        if (full || !more || !after) {
            *ret_more = full;
            return 0;
        }
    }
}

static int list_pools(struct api_call *call)
{
    const char *only;
    struct pool_page pg = {0};
    _cleanup_free_ char *start = NULL;
    bool more = false;
    int r = api_query_name(call, "node", &only);
    if (r == 0)
        r = api_page_params(call, K_NODES, &pg.limit, &start);
    if (r < 0)
        return r;
    pg.items = json_array();
    if (!pg.items)
        return -ENOMEM;
    if (start)
        r = resume_node(call, &pg, start, only);
    if (r == 0 && json_array_size(pg.items) < pg.limit)
        r = pools_page(call, &pg, start, only, &more);
    else if (r == 0)
        more = true;
    if (r == 0) {
        call->out = json_pack("{s:O}", "items", pg.items);
        if (more && pg.last && call->out) {
            _cleanup_free_ char *tok = api_page_token(pg.last);
            json_object_set_new(call->out, "continue", json_string(tok));
        }
        r = call->out ? 0 : -ENOMEM;
    }
    json_decref(pg.items);
    free(pg.last);
    return r;
}

static json_t *find_pool(const json_t *node, const char *pool)
{
    size_t i;
    json_t *p;
    json_array_foreach (json_object_get(node, "pools"), i, p)
        if (strcmp(model_str(p, "name"), pool) == 0)
            return p;
    return NULL;
}

static int pool_params(struct api_call *call, const char **node, const char **pool)
{
    int r = api_path_name(call, "node", node);
    return r < 0 ? r : api_path_name(call, "pool", pool);
}

static int get_pool(struct api_call *call)
{
    const char *node, *pool;
    _cleanup_json_ json_t *doc = NULL;
    int r = pool_params(call, &node, &pool);
    if (r == 0)
        r = api_get_doc(call, K_NODES, node, "node", &doc, NULL);
    if (r < 0)
        return r;
    const json_t *p = find_pool(doc, pool);
    if (!p) {
        slio_err_set(&call->err, "pool \"%s\" of node \"%s\" not found", pool, node);
        return -ENOENT;
    }
    call->out = render_pool(call, doc, p);
    return call->out ? 0 : -ENOMEM;
}

struct cordon_req {
    const char *pool;
    bool cordon;
};

static int set_cordon(struct ctl *c, json_t *doc, struct txb *t, void *arg, struct slio_err *err)
{
    const struct cordon_req *cr = arg;
    json_t *p = find_pool(doc, cr->pool);
    if (!p) {
        slio_err_set(err, "pool \"%s\" of node \"%s\" not found", cr->pool, model_str(doc, "name"));
        return -ENOENT;
    }
    if (json_is_true(json_object_get(p, "cordoned")) == cr->cordon)
        return CTL_UNCHANGED;
    json_object_set_new(p, "cordoned", json_boolean(cr->cordon));
    char id[MODEL_KEY_MAX];
    model_pool_id(id, model_str(doc, "name"), cr->pool);
    txb_event(t, c, "pool", id, "normal", cr->cordon ? "Cordoned" : "Uncordoned", "pool \"%s\": %s",
              id, cr->cordon ? "unschedulable" : "schedulable again");
    return 0;
}

static int cordon_common(struct api_call *call, bool cordon, json_t **ret_node)
{
    const char *node;
    struct cordon_req cr = {NULL, cordon};
    char key[MODEL_KEY_MAX];
    json_t *doc = NULL;
    int r = pool_params(call, &node, &cr.pool);
    if (r == 0)
        r = ctl_update(call->ctl, model_key(key, K_NODES, node, NULL), set_cordon, &cr, &doc, NULL,
                       &call->err);
    if (r == -ENOENT && strncmp(call->err.text, "pool ", 5) != 0)
        slio_err_set(&call->err, "node \"%s\" not found", node);
    if (r < 0)
        return r;
    r = ctl_view_sync_node(call->ctl, doc, &call->err);
    if (r < 0) {
        json_decref(doc);
        return r;
    }
    if (ret_node)
        *ret_node = doc;
    else {
        call->out = render_pool(call, doc, find_pool(doc, cr.pool));
        json_decref(doc);
    }
    return 0;
}

static int cordon(struct api_call *call)
{
    return cordon_common(call, true, NULL);
}

static int uncordon(struct api_call *call)
{
    return cordon_common(call, false, NULL);
}

static json_t *drain_move(struct api_call *call, const json_t *vol)
{
    struct sched_decision d;
    struct slio_err why = {{0}};
    _cleanup_free_ struct model_sched_req *msr = malloc(sizeof(*msr));
    const json_t *att = json_array_get(json_object_get(vol, "attachments"), 0);
    json_t *move =
        json_pack("{s:s,s:s}", "volume", model_str(vol, "id"), "name", model_str(vol, "name"));
    if (!move || !msr)
        return move;
    if (att)
        json_object_set_new(move, "attached_to", json_string(model_str(att, "node")));
    model_sched_request(json_object_get(vol, "_spec"), model_str(vol, "id"), NULL, msr);
    msr->req.size = model_u64(vol, "size");
    if (sched_explain(ctl_view(call->ctl), &msr->req, &d, &why) == 0) {
        json_object_set_new(move, "target_pool", json_string(d.pool_id));
        json_object_set_new(move, "reason", json_string("the scheduler's choice now"));
    } else
        json_object_set_new(move, "reason", json_string(why.text));
    return move;
}

struct pool_moves {
    const char *pool;
    json_t *moves;
};

/* A volume indexed on the node: a move if it lives in the drained pool. */
static void drain_one(struct api_call *call, const struct store_kv *kv, const char *prefix,
                      void *arg)
{
    struct pool_moves *pm = arg;
    _cleanup_json_ json_t *vol = NULL;
    if (api_get_doc(call, K_VOLUMES, kv->key + strlen(prefix), "volume", &vol, NULL) == 0 &&
        strcmp(model_str(vol, "pool"), pm->pool) == 0)
        json_array_append_new(pm->moves, drain_move(call, vol));
}

static int drain(struct api_call *call)
{
    _cleanup_json_ json_t *node = NULL;
    const char *pool = slio_http_path_param(call->req, "pool");
    char prefix[MODEL_KEY_MAX], id[MODEL_KEY_MAX];
    int r = cordon_common(call, true, &node);
    if (r < 0)
        return r;
    json_t *moves = json_array();
    call->out = json_pack("{s:s,s:o}", "pool", model_pool_id(id, model_str(node, "name"), pool),
                          "moves", moves);
    if (!call->out)
        return -ENOMEM;
    snprintf(prefix, sizeof(prefix), "%s%s/v/", K_BYNODE, model_str(node, "name"));
    struct pool_moves pm = {pool, moves};
    return api_scan(call, prefix, true, drain_one, &pm);
}

API_HANDLER(list_nodes, NEED_READ, API_NO_BODY)
API_HANDLER(get_node, NEED_READ, API_NO_BODY)
API_HANDLER(list_pools, NEED_READ, API_NO_BODY)
API_HANDLER(get_pool, NEED_READ, API_NO_BODY)
API_HANDLER(cordon, NEED_ADMIN, API_NO_BODY)
API_HANDLER(uncordon, NEED_ADMIN, API_NO_BODY)
API_HANDLER(drain, NEED_ADMIN, API_NO_BODY)

static const struct slio_http_route routes[] = {
    {"GET", "/v1/nodes", list_nodes_http},
    {"GET", "/v1/nodes/{node}", get_node_http},
    {"GET", "/v1/pools", list_pools_http},
    {"GET", "/v1/nodes/{node}/pools/{pool}", get_pool_http},
    {"POST", "/v1/nodes/{node}/pools/{pool}/cordon", cordon_http},
    {"POST", "/v1/nodes/{node}/pools/{pool}/uncordon", uncordon_http},
    {"POST", "/v1/nodes/{node}/pools/{pool}/drain", drain_http},
};
const struct api_routes api_node_routes = {routes, SLIO_ARRAY_SIZE(routes)};
