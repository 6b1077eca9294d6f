/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /v1/agent/nodes/{node}/status: what the node really holds. Volumes move
 * creating → ready, expanding → ready, anything → failed; a volume or
 * snapshot being deleted disappears (document, name, index, view) once the
 * agent says it is gone — or, in a full report, no longer lists it. Remote
 * attachments turn ready when the export to their host NQN is reported.
 * Orphans are recorded as reported, never acted upon.
 */
#define SLIO_LOG_COMPONENT "api"
#include <string.h>

#include "api.h"
#include "model_agent.h"
#include "slio/log.h"

static void set_str(json_t *doc, const char *key, const char *value)
{
    if (value && strcmp(model_str(doc, key), value) != 0)
        json_object_set_new(doc, key, json_string(value));
}

static bool nqn_listed(const json_t *list, const char *nqn)
{
    size_t i;
    json_t *s;
    json_array_foreach (list, i, s)
        if (strcmp(json_string_value(s), nqn) == 0)
            return true;
    return false;
}

static void apply_exports(struct ctl *c, struct txb *t, json_t *vol, const struct object_status *st)
{
    size_t i;
    json_t *a;
    if (!st->exported_to)
        return;
    json_array_foreach (json_object_get(vol, "attachments"), i, a) {
        if (json_is_true(json_object_get(a, "local")))
            continue;
        const char *old = model_str(a, "phase");
        const char *now =
            nqn_listed(st->exported_to, model_str(a, "host_nqn")) ? "ready" : "pending";
        if (strcmp(old, now) == 0)
            continue;
        set_str(a, "phase", now);
        txb_event(t, c, "attachment", model_str(vol, "id"), "normal",
                  strcmp(now, "ready") == 0 ? "Exported" : "Unexported",
                  "volume \"%s\": export to node \"%s\" (%s) %s", model_str(vol, "name"),
                  model_str(a, "node"), model_str(a, "host_nqn"),
                  strcmp(now, "ready") == 0 ? "ready" : "gone");
    }
}

static const char *next_phase(const char *phase, const struct object_status *st, uint64_t size)
{
    switch (st->state) {
    case OBJ_READY:
        if (strcmp(phase, "expanding") == 0 && st->size && st->size < size)
            return phase; /* not grown yet */
        return strcmp(phase, "deleting") == 0 ? phase : "ready";
    case OBJ_FAILED:
        return strcmp(phase, "deleting") == 0 ? phase : "failed";
    default:
        return phase;
    }
}

static int apply_volume(struct ctl *c, json_t *vol, struct txb *t, void *arg, struct slio_err *err)
{
    const struct object_status *st = arg;
    _cleanup_json_ json_t *before = json_deep_copy(vol);
    const char *old = model_str(vol, "phase");
    const char *phase = next_phase(old, st, model_u64(vol, "size"));
    if (!before)
        return -ENOMEM;
    if (strcmp(phase, old) != 0) {
        bool failed = strcmp(phase, "failed") == 0;
        txb_event(t, c, "volume", model_str(vol, "id"), failed ? "warning" : "normal",
                  failed ? "Failed" : (strcmp(old, "expanding") == 0 ? "Expanded" : "Ready"),
                  "volume \"%s\": %s -> %s%s%s", model_str(vol, "name"), old, phase,
                  st->message ? ": " : "", st->message ? st->message : "");
        json_object_set_new(vol, "phase", json_string(phase));
        json_object_set_new(vol, "message", json_string(failed && st->message ? st->message : ""));
        if (strcmp(phase, "ready") == 0) /* sticky: it holds data from now on */
            json_object_set_new(vol, "carved", json_true());
        /* The phase is part of the node's desired state (a volume once ready is never
         * recreated empty): a new revision so the agent learns it now. */
        txb_touch_desired(t, model_str(vol, "node"));
    }
    if (st->state == OBJ_READY || st->state == OBJ_EXPANDING)
        set_str(vol, "device", st->device);
    apply_exports(c, t, vol, st);
    return json_equal(before, vol) ? CTL_UNCHANGED : 0;
}

/* Gone from the node: the document, its name, its index and its place in the view. */
static int remove_object(struct api_call *call, const char *docs, const char *names,
                         const char *kind, const char *id)
{
    char key[MODEL_KEY_MAX];
    _cleanup_json_ json_t *doc = NULL;
    int64_t mod;
    int r = store_get_json(call->ctl->store, model_key(key, docs, id, NULL), &doc, &mod, NULL);
    if (r < 0)
        return r == -ENOENT ? 0 : r;
    if (strcmp(model_str(doc, "phase"), "deleting") != 0)
        return 0; /* not asked for: the agent is wrong or late; keep the record */
    struct txb t;
    txb_init(&t);
    txb_compare(&t, key, mod);
    txb_delete(&t, key);
    txb_delete(&t, model_key(key, names, model_str(doc, "name"), NULL));
    snprintf(key, sizeof(key), "%s%s/%s/%s", K_BYNODE, model_str(doc, "node"),
             strcmp(kind, "volume") == 0 ? "v" : "s", id);
    txb_delete(&t, key);
    txb_touch_desired(&t, model_str(doc, "node"));
    txb_event(&t, call->ctl, kind, id, "normal", "Deleted", "%s \"%s\" deleted by node \"%s\"",
              kind, model_str(doc, "name"), model_str(doc, "node"));
    r = txb_commit(call->ctl, &t, NULL, &call->err);
    txb_free(&t);
    /* what the snapshot held: "_reserved", or its cow_reserve in documents older than that */
    uint64_t held = json_is_integer(json_object_get(doc, "_reserved"))
                        ? model_u64(doc, "_reserved")
                        : model_u64(doc, "cow_reserve");
    if (r == 0 && strcmp(kind, "snapshot") == 0 && held)
        ctl_reserve_add(call->ctl, model_str(doc, "node"), model_str(doc, "pool"), -(int64_t)held);
    if (r == 0 && strcmp(kind, "volume") == 0) {
        atomic_fetch_add(&call->ctl->counters[CTR_VOLUMES_DELETED], 1);
        if (sched_view_remove_volume(ctl_view(call->ctl), id) < 0)
            log_warn("volume %s: not in the scheduler's view", id);
    }
    return r == -ECANCELED ? 0 : r; /* changed meanwhile: the next report settles it */
}

static int apply_snapshot(struct ctl *c, json_t *s, struct txb *t, void *arg, struct slio_err *err)
{
    const struct object_status *st = arg;
    const char *old = model_str(s, "phase");
    const char *phase = next_phase(old, st, 0);
    if (strcmp(old, phase) == 0)
        return CTL_UNCHANGED;
    /* The event first: old points into the phase member replaced below. */
    txb_event(t, c, "snapshot", model_str(s, "id"), strcmp(phase, "failed") ? "normal" : "warning",
              strcmp(phase, "failed") ? "Ready" : "Failed", "snapshot \"%s\": %s -> %s",
              model_str(s, "name"), old, phase);
    json_object_set_new(s, "phase", json_string(phase));
    json_object_set_new(s, "message", json_string(st->message ? st->message : ""));
    return 0;
}

static int apply_object(struct api_call *call, const char *node, const json_t *o, bool volume)
{
    struct object_status st;
    char key[MODEL_KEY_MAX];
    _cleanup_json_ json_t *doc = NULL;
    const char *docs = volume ? K_VOLUMES : K_SNAPSHOTS;
    int r = model_object_status_decode(o, &st, &call->err);
    if (r < 0)
        return r;
    if (store_get_json(call->ctl->store, model_key(key, docs, st.id, NULL), &doc, NULL, NULL) < 0 ||
        strcmp(model_str(doc, "node"), node) != 0)
        return 0; /* unknown here or another node's: not ours to change (orphans say it) */
    if (st.state == OBJ_DELETED)
        return remove_object(call, docs, volume ? K_VOLNAMES : K_SNAPNAMES,
                             volume ? "volume" : "snapshot", st.id);
    r = ctl_update(call->ctl, key, volume ? apply_volume : apply_snapshot, &st, NULL, NULL,
                   &call->err);
    return r == -ENOENT ? 0 : r;
}

static bool id_listed(const json_t *objs, const char *id)
{
    size_t i;
    json_t *o;
    json_array_foreach (objs, i, o)
        if (strcmp(model_str(o, "id"), id) == 0)
            return true;
    return false;
}

/* A full report that no longer lists an object being deleted: it is gone. */
static int sweep_absent(struct api_call *call, const char *node, const json_t *objs, bool volume)
{
    char prefix[MODEL_KEY_MAX];
    struct store_kv_list l;
    snprintf(prefix, sizeof(prefix), "%s%s/%s/", K_BYNODE, node, volume ? "v" : "s");
    int r = store_list(call->ctl->store, prefix, NULL, STORE_LIST_MAX, true, &l, NULL, &call->err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < l.n && r == 0; i++) {
        const char *id = l.items[i].key + strlen(prefix);
        if (!id_listed(objs, id))
            r = remove_object(call, volume ? K_VOLUMES : K_SNAPSHOTS,
                              volume ? K_VOLNAMES : K_SNAPNAMES, volume ? "volume" : "snapshot",
                              id);
    }
    store_kv_list_clear(&l);
    return r;
}

static int record_orphans(struct api_call *call, const char *node, const json_t *orphans)
{
    char key[MODEL_KEY_MAX], now[32];
    size_t i;
    json_t *o;
    model_now(now);
    _cleanup_json_ json_t *items = json_deep_copy(orphans);
    json_array_foreach (items, i, o) {
        json_object_set_new(o, "node", json_string(node));
        if (!json_object_get(o, "reported_at"))
            json_object_set_new(o, "reported_at", json_string(now));
    }
    _cleanup_json_ json_t *old = NULL;
    if (store_get_json(call->ctl->store, model_key(key, K_ORPHANS, node, NULL), &old, NULL, NULL) ==
            0 &&
        json_equal(json_object_get(old, "items"), items))
        return 0;
    _cleanup_json_ json_t *doc = json_pack("{s:s,s:O}", "node", node, "items", items);
    struct txb t;
    txb_init(&t);
    txb_put_json(&t, key, doc);
    if (json_array_size(items))
        txb_event(&t, call->ctl, "node", node, "warning", "Orphans",
                  "node \"%s\" reports %zu orphans (never deleted automatically)", node,
                  json_array_size(items));
    int r = txb_commit(call->ctl, &t, NULL, &call->err);
    txb_free(&t);
    return r;
}

static int agent_status(struct api_call *call)
{
    const char *node;
    struct agent_status s;
    size_t i;
    json_t *o;
    int r = api_path_name(call, "node", &node);
    if (r == 0)
        r = model_agent_status_decode(call->body, &s, &call->err);
    if (r == 0 && strcmp(s.node, node) != 0) {
        slio_err_set(&call->err, "field 'node': \"%s\" but the path says \"%s\"", s.node, node);
        r = -EINVAL;
    }
    if (r < 0)
        return r;
    json_array_foreach (s.volumes, i, o)
        if ((r = apply_object(call, node, o, true)) < 0)
            return r;
    json_array_foreach (s.snapshots, i, o)
        if ((r = apply_object(call, node, o, false)) < 0)
            return r;
    if (!s.partial) {
        r = sweep_absent(call, node, s.volumes, true);
        if (r == 0)
            r = sweep_absent(call, node, s.snapshots, false);
        if (r < 0)
            return r;
    }
    _cleanup_json_ json_t *none = json_array();
    if (!s.partial || s.orphans)
        r = record_orphans(call, node, s.orphans ? s.orphans : none);
    call->status = 204;
    return r;
}

API_HANDLER(agent_status, NEED_AGENT, API_BODY)

static const struct slio_http_route routes[] = {
    {"POST", "/v1/agent/nodes/{node}/status", agent_status_http},
};
const struct api_routes api_agent_status_routes = {routes, SLIO_ARRAY_SIZE(routes)};
