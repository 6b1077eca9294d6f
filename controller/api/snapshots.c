/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/snapshots: on the source volume's pool, idempotent by name, deleted once the agent says. */
#include <string.h>

#include "api.h"

static json_t *render_snapshot(struct api_call *call, const json_t *doc, int64_t mod, void *arg)
{
    json_t *out = model_public(doc);
    if (out)
        json_object_set_new(out, "ready_to_use",
                            json_boolean(strcmp(model_str(doc, "phase"), "ready") == 0));
    return out;
}

struct snap_filter {
    const char *volume, *name;
};

static bool snapshot_matches(const json_t *doc, void *arg)
{
    const struct snap_filter *f = arg;
    return (!f->volume || strcmp(model_str(doc, "volume"), f->volume) == 0) &&
           (!f->name || strcmp(model_str(doc, "name"), f->name) == 0);
}

static int list_snapshots(struct api_call *call)
{
    char vol[SLIO_UUID_STR_LEN];
    bool has_vol;
    struct snap_filter f = {NULL, slio_http_query(call->req, "name")};
    int r = api_query_uuid(call, "volume", vol, &has_vol);
    if (r < 0)
        return r;
    f.volume = has_vol ? vol : NULL;
    return api_list(call, K_SNAPSHOTS, f.volume || f.name ? snapshot_matches : NULL,
                    render_snapshot, &f);
}

static int snapshot_existing(struct api_call *call, const char *name, const char *volume)
{
    char key[MODEL_KEY_MAX];
    struct store_kv kv;
    _cleanup_json_ json_t *doc = NULL;
    int r = store_get(call->ctl->store, model_key(key, K_SNAPNAMES, name, NULL), &kv, &call->err);
    if (r < 0)
        return r;
    r = api_get_doc(call, K_SNAPSHOTS, kv.value, "snapshot", &doc, NULL);
    store_kv_clear(&kv);
    if (r < 0)
        return r == -ENOENT ? -EIO : r;
    if (strcmp(model_str(doc, "volume"), volume) != 0) {
        slio_err_set(&call->err, "snapshot \"%s\" exists (%s) of another volume", name,
                     model_str(doc, "id"));
        return -EEXIST;
    }
    call->status = 200;
    call->out = render_snapshot(call, doc, 0, NULL);
    return call->out ? 0 : -ENOMEM;
}

/*
 * What a snapshot holds back in its pool: a thick (CoW) snapshot its
 * cow_reserve, against the pool's real room; a thin one its volume's virtual
 * size plus any cow_reserve, against virtual capacity under over-provisioning.
 */
static uint64_t snapshot_cost(const struct snapshot_create *sc, const json_t *vol,
                              bool *ret_virtual_only)
{
    bool thin = json_is_true(json_object_get(vol, "thin"));
    *ret_virtual_only = thin;
    return thin ? model_u64(vol, "size") + sc->cow_reserve : sc->cow_reserve;
}

/* Hold the cost in the scheduler's view (atomic against placements) and in the reserves. */
static int snapshot_reserve(struct api_call *call, const struct snapshot_create *sc,
                            const json_t *vol, uint64_t cost, bool virtual_only)
{
    char pid[MODEL_KEY_MAX];
    const char *node = model_str(vol, "node"), *pool = model_str(vol, "pool");
    int r = sched_view_reserve(ctl_view(call->ctl), model_pool_id(pid, node, pool), cost,
                               virtual_only, &call->err);
    if (r < 0) {
        slio_err_prefix(&call->err, "snapshot \"%s\" of volume \"%s\" (%s reserve of %.2f GiB)",
                        sc->name, model_str(vol, "name"), virtual_only ? "thin" : "copy-on-write",
                        (double)cost / (1u << 30));
        return r == -ENOENT ? -EBUSY : r;
    }
    ctl_reserve_add(call->ctl, node, pool, (int64_t)cost);
    return 0;
}

static int snapshot_commit(struct api_call *call, const struct snapshot_create *sc,
                           const json_t *vol)
{
    char id[SLIO_UUID_STR_LEN], now[32], key[MODEL_KEY_MAX];
    const char *node = model_str(vol, "node");
    bool virtual_only;
    uint64_t cost = snapshot_cost(sc, vol, &virtual_only);
    model_uuid_new(id);
    model_now(now);
    _cleanup_json_ json_t *doc =
        json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "id", id, "name", sc->name,
                  "volume", model_str(vol, "id"), "size", (json_int_t)model_u64(vol, "size"),
                  "node", node, "pool", model_str(vol, "pool"), "phase", "creating", "message",
                  "waiting for the node's agent", "created_at", now, "cow_reserve",
                  (json_int_t)sc->cow_reserve, "_reserved", (json_int_t)cost);
    if (!doc)
        return -ENOMEM;
    int r = cost ? snapshot_reserve(call, sc, vol, cost, virtual_only) : 0;
    if (r < 0)
        return r;
    struct txb t;
    txb_init(&t);
    txb_compare(&t, model_key(key, K_SNAPNAMES, sc->name, NULL), 0);
    txb_put_json(&t, model_key(key, K_SNAPSHOTS, id, NULL), doc);
    txb_put_str(&t, model_key(key, K_SNAPNAMES, sc->name, NULL), id);
    snprintf(key, sizeof(key), "%s%s/s/%s", K_BYNODE, node, id);
    json_t *entry = json_pack("[s,I]", model_str(vol, "pool"), (json_int_t)cost);
    txb_put_json(&t, key, entry); /* the start-up rebuild sums the reserves from these */
    json_decref(entry);
    txb_touch_desired(&t, node);
    txb_event(&t, call->ctl, "snapshot", id, "normal", "Creating",
              "snapshot \"%s\" of volume \"%s\" requested (%llu bytes reserved)", sc->name,
              model_str(vol, "name"), (unsigned long long)cost);
    r = txb_commit(call->ctl, &t, NULL, &call->err);
    txb_free(&t);
    if (r < 0) {
        if (cost)
            ctl_reserve_add(call->ctl, node, model_str(vol, "pool"), -(int64_t)cost);
        return r;
    }
    call->status = 201;
    call->out = render_snapshot(call, doc, 0, NULL);
    return call->out ? 0 : -ENOMEM;
}

static int create_snapshot(struct api_call *call)
{
    struct snapshot_create sc;
    char vid[SLIO_UUID_STR_LEN];
    int r = model_snapshot_create_decode(call->body, &sc, &call->err);
    if (r < 0)
        return r;
    slio_uuid_format(sc.volume, vid);
    for (int attempt = 0; attempt < 3; attempt++) {
        _cleanup_json_ json_t *vol = NULL;
        r = snapshot_existing(call, sc.name, vid);
        if (r != -ENOENT)
            return r;
        r = api_get_doc(call, K_VOLUMES, vid, "volume", &vol, NULL);
        if (r == -ENOENT) {
            slio_err_prefix(&call->err, "field 'volume'");
            return -EINVAL;
        }
        if (r < 0)
            return r;
        const char *phase = model_str(vol, "phase");
        if (strcmp(phase, "ready") != 0 && strcmp(phase, "expanding") != 0) {
            slio_err_set(&call->err, "volume %s is %s: only a ready volume can be snapshotted", vid,
                         phase);
            return -EBUSY;
        }
        r = snapshot_commit(call, &sc, vol);
        if (r != -ECANCELED)
            return r;
    }
    return -EAGAIN;
}

static int get_snapshot(struct api_call *call)
{
    char id[SLIO_UUID_STR_LEN];
    _cleanup_json_ json_t *doc = NULL;
    int r = api_path_uuid(call, "id", id);
    if (r == 0)
        r = api_get_doc(call, K_SNAPSHOTS, id, "snapshot", &doc, NULL);
    if (r < 0)
        return r;
    call->out = render_snapshot(call, doc, 0, NULL);
    return call->out ? 0 : -ENOMEM;
}

static int mark_deleting(struct ctl *c, json_t *doc, struct txb *t, void *arg, struct slio_err *err)
{
    if (strcmp(model_str(doc, "phase"), "deleting") == 0)
        return CTL_UNCHANGED;
    json_object_set_new(doc, "phase", json_string("deleting"));
    json_object_set_new(doc, "message", json_string("waiting for the node's agent to remove it"));
    txb_touch_desired(t, model_str(doc, "node"));
    txb_event(t, c, "snapshot", model_str(doc, "id"), "normal", "Deleting",
              "snapshot \"%s\": deletion requested", model_str(doc, "name"));
    return 0;
}

static int delete_snapshot(struct api_call *call)
{
    char id[SLIO_UUID_STR_LEN], key[MODEL_KEY_MAX];
    _cleanup_json_ json_t *doc = NULL;
    int r = api_path_uuid(call, "id", id);
    if (r == 0)
        r = ctl_update(call->ctl, model_key(key, K_SNAPSHOTS, id, NULL), mark_deleting, NULL, &doc,
                       NULL, &call->err);
    if (r == -ENOENT)
        slio_err_set(&call->err, "snapshot %s not found", id);
    if (r < 0)
        return r;
    call->status = 202;
    call->out = render_snapshot(call, doc, 0, NULL);
    return call->out ? 0 : -ENOMEM;
}

API_HANDLER(list_snapshots, NEED_READ, API_NO_BODY)
API_HANDLER(create_snapshot, NEED_CLIENT, API_BODY)
API_HANDLER(get_snapshot, NEED_READ, API_NO_BODY)
API_HANDLER(delete_snapshot, NEED_CLIENT, API_NO_BODY)

static const struct slio_http_route routes[] = {
    {"GET", "/v1/snapshots", list_snapshots_http},
    {"POST", "/v1/snapshots", create_snapshot_http},
    {"GET", "/v1/snapshots/{id}", get_snapshot_http},
    {"DELETE", "/v1/snapshots/{id}", delete_snapshot_http},
};
const struct api_routes api_snapshot_routes = {routes, SLIO_ARRAY_SIZE(routes)};
