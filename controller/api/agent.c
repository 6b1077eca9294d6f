/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /v1/agent: register, heartbeat, desired state (long-poll on the node's
 * desired revision). Heartbeats touch memory only (the live table and the
 * view's figures); the monitor thread records status changes.
 *
 * The long-poll waits in store_wait(), holding no lock, on its connection's
 * own thread (the HTTP server runs one per connection); the number of polls
 * parked at once is capped (limits.max_long_polls, default half of
 * max_connections) so agents can never take every connection slot: beyond
 * the cap a poll answers at once with the unchanged state.
 */
#define SLIO_LOG_COMPONENT "api"
#include <string.h>

#include "api.h"
#include "model_agent.h"
#include "slio/log.h"
#include "slio/parse.h"

/* replace: the agent registered, so pools it no longer lists lose their figures */
static void live_update(struct ctl *c, const char *node, const json_t *pools, bool replace)
{
    size_t i;
    json_t *p;
    char now[32];
    model_now(now);
    pthread_mutex_lock(&c->live_lock);
    json_t *entry = json_object_get(c->live, node);
    if (!entry) {
        entry = json_pack("{s:{}}", "pools");
        json_object_set_new(c->live, node, entry);
    }
    if (entry && replace)
        json_object_set_new(entry, "pools", json_object());
    if (entry) {
        json_object_set_new(entry, "seen", json_integer((json_int_t)ctl_now_us()));
        json_object_set_new(entry, "seen_at", json_string(now));
        json_array_foreach (pools, i, p) {
            json_t *fig = json_deep_copy(p);
            json_object_del(fig, "name");
            json_object_del(fig, "labels");
            json_object_del(fig, "max_remote_volumes");
            json_object_set_new(json_object_get(entry, "pools"), model_str(p, "name"), fig);
        }
    }
    pthread_mutex_unlock(&c->live_lock);
}

static int64_t desired_revision(struct ctl *c, const char *node)
{
    char key[MODEL_KEY_MAX];
    struct store_kv kv;
    if (store_get(c->store, model_key(key, K_DESIRED, node, NULL), &kv, NULL) < 0)
        return 0;
    int64_t rev = kv.mod_revision;
    store_kv_clear(&kv);
    return rev;
}

static const json_t *pool_named(const json_t *pools, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach (pools, i, p)
        if (strcmp(model_str(p, "name"), name) == 0)
            return p;
    return NULL;
}

/*
 * A thin pool crossing its agent's warning threshold (pool.lvm.thin.autoextend) becomes
 * one event on the pool per crossing: the level the node document holds is the last one
 * an event was made for; heartbeats repeating it make none.
 */
static void thin_events(struct txb *t, struct ctl *c, const char *node, const json_t *old_pools,
                        const json_t *new_pools)
{
    static const char *const reasons[] = {"ThinPoolRecovered", "ThinPoolWarning",
                                          "ThinPoolCritical"};
    char id[MODEL_KEY_MAX];
    size_t i;
    json_t *p;
    json_array_foreach (new_pools, i, p) {
        const json_t *old = pool_named(old_pools, model_str(p, "name"));
        int was = old ? model_thin_severity(old) : 0, now = model_thin_severity(p);
        if (now == was || !json_object_get(p, "thin_level"))
            continue;
        model_pool_id(id, node, model_str(p, "name"));
        txb_event(t, c, "pool", id, now > 0 ? "warning" : "normal", reasons[now],
                  "pool \"%s\": thin pool %s: data %.1f%%, metadata %.1f%%", id,
                  now == 2   ? "critical, nearly full (auto-extend could not keep up)"
                  : now == 1 ? "above the warning threshold (auto-extend could not keep up)"
                             : "back below the warning threshold",
                  json_number_value(json_object_get(p, "thin_data_percent")),
                  json_number_value(json_object_get(p, "thin_metadata_percent")));
    }
}

struct thin_change {
    const char *node;
    const json_t *pools; /* the heartbeat's */
};

/* Keep each pool's new thin level in the node document, with its event. */
static int set_thin_levels(struct ctl *c, json_t *doc, struct txb *t, void *arg,
                           struct slio_err *err)
{
    const struct thin_change *tc = arg;
    bool changed = false;
    size_t i;
    json_t *p;
    (void)err;
    thin_events(t, c, tc->node, json_object_get(doc, "pools"), tc->pools);
    json_array_foreach (json_object_get(doc, "pools"), i, p) {
        const json_t *hp = pool_named(tc->pools, model_str(p, "name"));
        if (hp && json_object_get(hp, "thin_level") &&
            model_thin_severity(hp) != model_thin_severity(p)) {
            json_object_set(p, "thin_level", json_object_get(hp, "thin_level"));
            changed = true;
        }
    }
    return changed ? 0 : CTL_UNCHANGED;
}

/* Whether a heartbeat's pools cross a thin threshold the node document does not show yet. */
static bool thin_crossed(const json_t *doc, const json_t *pools)
{
    size_t i;
    json_t *p;
    json_array_foreach (pools, i, p) {
        const json_t *old = pool_named(json_object_get(doc, "pools"), model_str(p, "name"));
        if (old && json_object_get(p, "thin_level") &&
            model_thin_severity(old) != model_thin_severity(p))
            return true;
    }
    return false;
}

/*
 * A pool the node had and its agent no longer reports stays in the document, marked
 * "unreported", while the view holds volumes on it: listed (status unreported) so the
 * operator sees where those volumes are, never offered to the scheduler (ctl.c). Once
 * empty it is dropped at the next registration.
 */
static void keep_unreported(struct ctl *c, const struct agent_register *a, const json_t *old,
                            json_t *pools)
{
    char id[MODEL_KEY_MAX];
    size_t i;
    json_t *op;
    json_array_foreach (json_object_get(old, "pools"), i, op) {
        struct sched_pool_usage u;
        if (pool_named(a->pools, model_str(op, "name")) ||
            json_array_size(pools) >= MODEL_MAX_POOLS ||
            sched_view_pool_usage(ctl_view(c), model_pool_id(id, a->node, model_str(op, "name")),
                                  &u) < 0 ||
            u.n_volumes == 0)
            continue;
        json_t *kept = json_deep_copy(op);
        json_object_set_new(kept, "unreported", json_true());
        json_array_append_new(pools, kept);
    }
}

/* The new node document: the agent's facts, our cordon flags and status kept per pool. */
static json_t *node_doc(struct ctl *c, const struct agent_register *a, const json_t *old)
{
    char now[32];
    size_t i;
    json_t *p;
    json_t *pools = json_deep_copy(a->pools);
    model_now(now);
    json_array_foreach (pools, i, p) {
        const json_t *op;
        size_t j;
        json_array_foreach (json_object_get(old, "pools"), j, op)
            if (strcmp(model_str(op, "name"), model_str(p, "name")) == 0 &&
                json_is_true(json_object_get(op, "cordoned")))
                json_object_set_new(p, "cordoned", json_true());
    }
    keep_unreported(c, a, old, pools);
    return json_pack("{s:s,s:s,s:s,s:O?,s:O?,s:O,s:s?,s:s?,s:o,s:s}", "name", a->node, "status",
                     "ready", "host_nqn", a->host_nqn, "labels", a->labels, "topology", a->topology,
                     "export_address", a->export_address, "agent_url", a->agent_url, "version",
                     a->version, "pools", pools, "registered_at", now);
}

/* One warning event naming the pools the node had and its agent no longer reports. */
static void pools_gone_event(struct txb *t, struct ctl *c, const struct agent_register *a,
                             const json_t *old)
{
    char names[512] = "";
    size_t i, j, n_gone = 0, used = 0;
    const json_t *op, *np;
    json_array_foreach (json_object_get(old, "pools"), i, op) {
        bool kept = model_pool_unreported(op); /* told when it was dropped */
        json_array_foreach (a->pools, j, np)
            kept = kept || strcmp(model_str(op, "name"), model_str(np, "name")) == 0;
        if (kept)
            continue;
        n_gone++;
        if (used < sizeof(names) - 1) {
            int w = snprintf(names + used, sizeof(names) - used, "%s\"%s\"", used ? ", " : "",
                             model_str(op, "name"));
            used = w > 0 ? SLIO_MIN(used + (size_t)w, sizeof(names) - 1) : used;
        }
    }
    if (n_gone)
        txb_event(t, c, "node", a->node, "warning", "PoolsUnreported",
                  "node \"%s\": %zu pool(s) no longer reported by its agent (%s): not scheduled "
                  "on, their volumes kept and flagged degraded",
                  a->node, n_gone, names);
}

static int register_commit(struct api_call *call, const struct agent_register *a, json_t **ret_doc,
                           int64_t *ret_rev)
{
    char key[MODEL_KEY_MAX];
    for (int attempt = 0; attempt < 8; attempt++) {
        _cleanup_json_ json_t *old = NULL;
        int64_t mod = 0;
        int r = store_get_json(call->ctl->store, model_key(key, K_NODES, a->node, NULL), &old, &mod,
                               &call->err);
        if (r < 0 && r != -ENOENT)
            return r;
        json_t *doc = node_doc(call->ctl, a, old);
        if (!doc)
            return -ENOMEM;
        struct txb t;
        txb_init(&t);
        txb_compare(&t, key, mod);
        txb_put_json(&t, key, doc);
        txb_touch_desired(&t, a->node);
        thin_events(&t, call->ctl, a->node, json_object_get(old, "pools"), a->pools);
        pools_gone_event(&t, call->ctl, a, old);
        txb_event(&t, call->ctl, "node", a->node, "normal", "Registered",
                  "node \"%s\" registered %zu pools (agent %s)", a->node, json_array_size(a->pools),
                  a->version ? a->version : "unknown");
        r = txb_commit(call->ctl, &t, ret_rev, &call->err);
        txb_free(&t);
        if (r == 0) {
            *ret_doc = doc;
            return 0;
        }
        json_decref(doc);
        if (r != -ECANCELED)
            return r;
    }
    return -EAGAIN;
}

static int agent_register(struct api_call *call)
{
    struct agent_register a;
    _cleanup_json_ json_t *doc = NULL;
    int64_t rev;
    int r = model_agent_register_decode(call->body, &a, &call->err);
    if (r == 0)
        r = register_commit(call, &a, &doc, &rev);
    if (r < 0)
        return r;
    live_update(call->ctl, a.node, a.pools, true);
    ctl_live_set_status(call->ctl, a.node, "ready");
    r = ctl_view_sync_node(call->ctl, doc, &call->err);
    if (r < 0)
        return r;
    log_info("node \"%s\" registered (%zu pools)", a.node, json_array_size(a.pools));
    /* _ms is exact (the config allows 100ms); _s, whole seconds and at least 1, is for
     * agents that read only it: 0 would be no interval at all */
    uint64_t every = call->ctl->cfg.heartbeat_interval_us;
    call->out = json_pack("{s:s,s:I,s:I,s:I}", "node", a.node, "heartbeat_interval_ms",
                          (json_int_t)(every / 1000u), "heartbeat_interval_s",
                          (json_int_t)SLIO_MAX(every / 1000000u, 1u), "revision", (json_int_t)rev);
    return call->out ? 0 : -ENOMEM;
}

static int agent_heartbeat(struct api_call *call)
{
    struct agent_heartbeat h;
    _cleanup_json_ json_t *node = NULL;
    int r = model_agent_heartbeat_decode(call->body, &h, &call->err);
    if (r == 0)
        r = api_get_doc(call, K_NODES, h.node, "node", &node, NULL);
    if (r == -ENOENT)
        slio_err_set(&call->err, "node \"%s\" is not registered: register first", h.node);
    if (r < 0)
        return r;
    live_update(call->ctl, h.node, h.pools, false);
    atomic_fetch_add(&call->ctl->counters[CTR_HEARTBEATS], 1);
    if (h.pools && thin_crossed(node, h.pools)) {
        /* rare (a threshold crossed): the one heartbeat that writes */
        char key[MODEL_KEY_MAX];
        struct thin_change tc = {h.node, h.pools};
        json_t *doc = NULL;
        if (ctl_update(call->ctl, model_key(key, K_NODES, h.node, NULL), set_thin_levels, &tc, &doc,
                       NULL, &call->err) < 0)
            log_warn("node \"%s\": thin pool level: %s", h.node, call->err.text);
        else {
            json_decref(node);
            node = doc;
        }
    }
    if (h.pools && ctl_view_sync_node(call->ctl, node, &call->err) < 0)
        log_warn("%s", call->err.text);
    call->out = json_pack("{s:I}", "revision", (json_int_t)desired_revision(call->ctl, h.node));
    return call->out ? 0 : -ENOMEM;
}

/* ---- desired state ---------------------------------------------------------------------- */

/*
 * A consumer node's DH-HMAC-CHAP secrets, read once per desired-state answer (secrets:
 * node → stored document, or null when it has none). The only place secrets leave the
 * controller: in the desired state of the node that exports a volume to that consumer.
 */
static const json_t *consumer_secrets(struct api_call *call, json_t *secrets, const char *node)
{
    char key[MODEL_KEY_MAX];
    json_t *doc = json_object_get(secrets, node);

    if (doc)
        return json_is_object(doc) ? doc : NULL;
    if (store_get_json(call->ctl->store, model_key(key, K_DHCHAP, node, NULL), &doc, NULL, NULL) <
        0)
        doc = json_null();
    json_object_set_new(secrets, node, doc);
    return json_is_object(doc) ? doc : NULL;
}

static json_t *desired_export(struct api_call *call, json_t *secrets, const json_t *a)
{
    const json_t *keys = consumer_secrets(call, secrets, model_str(a, "node"));
    json_t *e =
        json_pack("{s:s,s:s}", "host_nqn", model_str(a, "host_nqn"), "node", model_str(a, "node"));

    if (e && keys) {
        json_object_set(e, "dhchap_key", json_object_get(keys, "host_key"));
        if (json_is_string(json_object_get(keys, "ctrl_key")))
            json_object_set(e, "dhchap_ctrl_key", json_object_get(keys, "ctrl_key"));
    }
    return e;
}

static json_t *desired_volume(struct api_call *call, const json_t *vol, json_t *secrets)
{
    json_t *exports = json_array();
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get(vol, "attachments"), i, a)
        if (!json_is_true(json_object_get(a, "local")))
            json_array_append_new(exports, desired_export(call, secrets, a));
    const json_t *src = json_object_get(vol, "source");
    bool absent = strcmp(model_str(vol, "phase"), "deleting") == 0;
    /* "phase" and "carved" (set once the volume was first ready, never cleared) tell the
     * agent that the pool held it: missing from the pool it is reported failed, never
     * recreated empty — also once the controller marked it failed for that very reason. */
    return json_pack(
        "{s:s,s:s,s:s,s:I,s:b,s:s,s:s,s:b,s:O?,s:O?,s:o}", "id", model_str(vol, "id"), "name",
        model_str(vol, "name"), "pool", model_str(vol, "pool"), "size",
        (json_int_t)model_u64(vol, "size"), "thin", json_is_true(json_object_get(vol, "thin")),
        "state", absent ? "absent" : "present", "phase", model_str(vol, "phase"), "carved",
        json_is_true(json_object_get(vol, "carved")), "source", json_is_object(src) ? src : NULL,
        "qos", json_object_get(vol, "qos"), "exports", exports);
}

static json_t *desired_snapshot(struct api_call *call, const json_t *s, json_t *secrets)
{
    (void)call;
    (void)secrets;
    bool absent = strcmp(model_str(s, "phase"), "deleting") == 0;
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}", "id", model_str(s, "id"), "name",
                     model_str(s, "name"), "volume", model_str(s, "volume"), "pool",
                     model_str(s, "pool"), "cow_reserve", (json_int_t)model_u64(s, "cow_reserve"),
                     "state", absent ? "absent" : "present");
}

typedef json_t *(*desired_render_fn)(struct api_call *call, const json_t *doc, json_t *secrets);

struct desired_kind {
    const char *kind, *docs; /* "v"/K_VOLUMES or "s"/K_SNAPSHOTS */
    desired_render_fn render;
    json_t *arr;
    json_t *secrets; /* consumer node → DH-HMAC-CHAP document or null (consumer_secrets) */
};

static void desired_one(struct api_call *call, const struct store_kv *kv, const char *prefix,
                        void *arg)
{
    struct desired_kind *d = arg;
    _cleanup_json_ json_t *doc = NULL;
    if (api_get_doc(call, d->docs, kv->key + strlen(prefix), d->kind, &doc, NULL) == 0)
        json_array_append_new(d->arr, d->render(call, doc, d->secrets));
}

/* Append the documents indexed under bynode/<node>/<kind>/ to arr. */
static int desired_list(struct api_call *call, const char *node, const char *kind, const char *docs,
                        desired_render_fn render, json_t *arr)
{
    char prefix[MODEL_KEY_MAX];
    _cleanup_json_ json_t *secrets = json_object();
    struct desired_kind d = {kind, docs, render, arr, secrets};
    if (!secrets)
        return -ENOMEM;
    snprintf(prefix, sizeof(prefix), "%s%s/%s/", K_BYNODE, node, kind);
    return api_scan(call, prefix, true, desired_one, &d);
}

static int poll_params(struct api_call *call, int64_t *ret_after, uint64_t *ret_wait)
{
    const char *rev = slio_http_query(call->req, "revision");
    const char *wait = slio_http_query(call->req, "wait");
    *ret_after = -1;
    *ret_wait = 30000000;
    if (rev && slio_parse_i64(rev, 0, INT64_MAX, ret_after) < 0) {
        slio_err_set(&call->err, "query 'revision': \"%.32s\" is not an integer >= 0", rev);
        return -EINVAL;
    }
    if (wait && slio_parse_duration_us(wait, ret_wait) < 0) {
        slio_err_set(&call->err, "query 'wait': \"%.32s\" is not a duration (\"30s\")", wait);
        return -EINVAL;
    }
    if (*ret_wait > call->ctl->cfg.limits.long_poll_max_us)
        *ret_wait = call->ctl->cfg.limits.long_poll_max_us;
    return 0;
}

/* Wait (bounded) until the node's desired revision exceeds after; returns the revision. */
static int64_t long_poll(struct api_call *call, const char *node, int64_t after, uint64_t wait_us)
{
    struct ctl *c = call->ctl;
    char prefix[MODEL_KEY_MAX];
    uint64_t deadline = ctl_now_us() + wait_us;
    int64_t drev = desired_revision(c, node);
    if (after < 0 || drev > after || wait_us == 0)
        return drev;
    if (atomic_fetch_add(&c->long_polls, 1) >= c->cfg.limits.max_long_polls) {
        atomic_fetch_sub(&c->long_polls, 1);
        return drev; /* every parked thread is taken: answer unchanged now */
    }
    model_key(prefix, K_DESIRED, node, NULL);
    for (;;) {
        int64_t global = 0, now_rev;
        uint64_t now = ctl_now_us();
        if (store_revision(c->store, &global, NULL) < 0)
            break;
        drev = desired_revision(c, node);
        if (drev > after || now >= deadline)
            break;
        if (store_wait(c->store, prefix, global, deadline - now, &now_rev, NULL) < 0)
            break;
    }
    atomic_fetch_sub(&c->long_polls, 1);
    return drev;
}

static int agent_desired(struct api_call *call)
{
    const char *node;
    int64_t after;
    uint64_t wait_us;
    int r = api_path_name(call, "node", &node);
    if (r == 0)
        r = poll_params(call, &after, &wait_us);
    if (r < 0)
        return r;
    int64_t rev = long_poll(call, node, after, wait_us);
    json_t *vols = json_array(), *snaps = json_array();
    call->out = json_pack("{s:s,s:I,s:o,s:o}", "node", node, "revision", (json_int_t)rev, "volumes",
                          vols, "snapshots", snaps);
    if (!call->out)
        return -ENOMEM;
    /* Read after the revision: the state is at least that new (never older than it claims). */
    r = desired_list(call, node, "v", K_VOLUMES, desired_volume, vols);
    if (r == 0)
        r = desired_list(call, node, "s", K_SNAPSHOTS, desired_snapshot, snaps);
    return r;
}

API_HANDLER(agent_register, NEED_AGENT, API_BODY)
API_HANDLER(agent_heartbeat, NEED_AGENT, API_BODY)
API_HANDLER(agent_desired, NEED_AGENT, API_NO_BODY)

static const struct slio_http_route routes[] = {
    {"POST", "/v1/agent/register", agent_register_http},
    {"POST", "/v1/agent/heartbeat", agent_heartbeat_http},
    {"GET", "/v1/agent/nodes/{node}/desired", agent_desired_http},
};
const struct api_routes api_agent_routes = {routes, SLIO_ARRAY_SIZE(routes)};
