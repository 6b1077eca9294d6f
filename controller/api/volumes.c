/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /v1/volumes: list, create (placed atomically, idempotent by name), get,
 * delete (waits for the agent), expand, QoS.
 *
 * Create: the name index key is compared absent in the same transaction that
 * writes the volume, so two racing creates of one name never both land; the
 * loser drops its reservation in the view and answers like a retry would.
 */
#define SLIO_LOG_COMPONENT "api"
#include <string.h>

#include "api.h"
#include "slio/log.h"

#define CREATE_ATTEMPTS 3

static json_t *render_attachments(struct api_call *call, const json_t *vol)
{
    json_t *out = json_array();
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get(vol, "attachments"), i, a)
        json_array_append_new(out, api_render_attachment(call, vol, a));
    return out;
}

/* Add the live members to out, the public view of doc (out may be doc itself). */
static json_t *render_live(struct api_call *call, json_t *out, const json_t *doc,
                           int64_t mod_revision)
{
    _cleanup_json_ json_t *node = NULL;
    char key[MODEL_KEY_MAX];
    bool degraded = false;
    char status[16];
    if (ctl_live_status(call->ctl, model_str(doc, "node"), status, sizeof(status)))
        degraded = strcmp(status, "ready") != 0;
    else if (store_get_json(call->ctl->store, model_key(key, K_NODES, model_str(doc, "node"), NULL),
                            &node, NULL, NULL) == 0)
        degraded = strcmp(ctl_node_status(node), "ready") != 0;
    struct sched_pool_usage u;
    if (!degraded &&
        sched_view_pool_usage(ctl_view(call->ctl),
                              model_pool_id(key, model_str(doc, "node"), model_str(doc, "pool")),
                              &u) == 0)
        degraded = u.unreported; /* its agent no longer reports the pool */
    json_object_set_new(out, "degraded", json_boolean(degraded));
    json_object_set_new(out, "revision", json_integer(mod_revision));
    json_object_set_new(out, "attachments", render_attachments(call, doc));
    return out;
}

json_t *api_render_volume(struct api_call *call, const json_t *doc, int64_t mod_revision, void *arg)
{
    json_t *out = model_public(doc);
    return out ? render_live(call, out, doc, mod_revision) : NULL;
}

/* Render a document nobody else holds in place: a deep copy of every member was a tenth of
 * the controller's CPU under bench/api's GET load (docs/performance.md). Takes doc. */
static json_t *render_volume_take(struct api_call *call, json_t *doc, int64_t mod_revision)
{
    model_public_strip(doc);
    return render_live(call, doc, doc, mod_revision);
}

/* ---- list ------------------------------------------------------------------------------ */

struct volume_filter {
    const char *name, *node, *pool;
};

static bool volume_matches(const json_t *doc, void *arg)
{
    const struct volume_filter *f = arg;
    return (!f->name || strcmp(model_str(doc, "name"), f->name) == 0) &&
           (!f->node || strcmp(model_str(doc, "node"), f->node) == 0) &&
           (!f->pool || strcmp(model_str(doc, "pool"), f->pool) == 0);
}

static int list_volumes(struct api_call *call)
{
    struct volume_filter f = {slio_http_query(call->req, "name")};
    int r = api_query_name(call, "node", &f.node);
    if (r == 0)
        r = api_query_name(call, "pool", &f.pool);
    if (r < 0)
        return r;
    if (f.pool && !f.node) {
        slio_err_set(&call->err, "query 'pool': needs 'node' too");
        return -EINVAL;
    }
    bool filtered = f.name || f.node;
    return api_list(call, K_VOLUMES, filtered ? volume_matches : NULL, api_render_volume, &f);
}

/* ---- create ---------------------------------------------------------------------------- */

/* The existing volume of this name: 200 if created with these parameters, 409 otherwise. */
static int create_existing(struct api_call *call, const char *name, const json_t *spec)
{
    char key[MODEL_KEY_MAX];
    struct store_kv kv;
    int r = store_get(call->ctl->store, model_key(key, K_VOLNAMES, name, NULL), &kv, &call->err);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *doc = NULL;
    int64_t mod;
    r = api_get_doc(call, K_VOLUMES, kv.value, "volume", &doc, &mod);
    store_kv_clear(&kv);
    if (r == -ENOENT) {
        slio_err_set(&call->err, "volume \"%s\": name index without a volume", name);
        return -EIO;
    }
    if (r < 0)
        return r;
    if (!json_equal(json_object_get(doc, "_spec"), (json_t *)spec)) {
        slio_err_set(&call->err, "volume \"%s\" exists (%s) with other parameters", name,
                     model_str(doc, "id"));
        return -EEXIST;
    }
    call->status = 200;
    call->out = api_render_volume(call, doc, mod, NULL);
    return call->out ? 0 : -ENOMEM;
}

/* A content source pins the new volume to the source's pool. */
static int source_pool(struct api_call *call, const struct volume_create *vc,
                       char ret[static MODEL_KEY_MAX])
{
    char id[SLIO_UUID_STR_LEN];
    bool snap = !slio_uuid_is_null(vc->source.snapshot);
    _cleanup_json_ json_t *src = NULL;
    ret[0] = '\0';
    if (!snap && slio_uuid_is_null(vc->source.volume))
        return 0;
    slio_uuid_format(snap ? vc->source.snapshot : vc->source.volume, id);
    int r = api_get_doc(call, snap ? K_SNAPSHOTS : K_VOLUMES, id, snap ? "snapshot" : "volume",
                        &src, NULL);
    if (r == -ENOENT) {
        slio_err_prefix(&call->err, "field 'source'");
        return -EINVAL;
    }
    if (r < 0)
        return r;
    if (strcmp(model_str(src, "phase"), "ready") != 0) {
        slio_err_set(&call->err, "field 'source': %s %s is %s, not ready",
                     snap ? "snapshot" : "volume", id, model_str(src, "phase"));
        return -EINVAL;
    }
    if (vc->size < model_u64(src, "size")) {
        slio_err_set(&call->err, "field 'size': %llu is smaller than the source's %llu",
                     (unsigned long long)vc->size, (unsigned long long)model_u64(src, "size"));
        return -EINVAL;
    }
    model_pool_id(ret, model_str(src, "node"), model_str(src, "pool"));
    return 0;
}

static json_t *volume_doc(const json_t *spec, const char *uuid, const struct sched_decision *d)
{
    char now[32], nqn[SLIO_NQN_BUF];
    const char *pool = strchr(d->pool_id, '/');
    model_now(now);
    snprintf(nqn, sizeof(nqn), "%s:vol:%s", SLIO_NQN_PREFIX, uuid);
    json_t *doc = json_deep_copy(spec);
    json_t *extra = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[],s:s,s:O}", "id", uuid, "phase",
                              "creating", "message", "placed; waiting for the node's agent", "node",
                              d->node, "pool", pool ? pool + 1 : "", "device", "", "nqn", nqn,
                              "attachments", "created_at", now, "_spec", spec);
    if (!doc || !extra || json_object_update(doc, extra) < 0) {
        json_decref(doc);
        doc = NULL;
    }
    json_decref(extra);
    return doc;
}

static int commit_volume(struct api_call *call, const json_t *doc, const struct sched_decision *d)
{
    char key[MODEL_KEY_MAX];
    const char *uuid = model_str(doc, "id"), *name = model_str(doc, "name");
    struct txb t;
    txb_init(&t);
    txb_compare(&t, model_key(key, K_VOLNAMES, name, NULL), 0);
    txb_put_json(&t, model_key(key, K_VOLUMES, uuid, NULL), doc);
    txb_put_str(&t, model_key(key, K_VOLNAMES, name, NULL), uuid);
    txb_volume_index(&t, doc);
    txb_touch_desired(&t, d->node);
    txb_event(&t, call->ctl, "volume", uuid, "normal", "Placed",
              "volume \"%s\" (%llu bytes) placed on pool \"%s\"%s (score %lld)", name,
              (unsigned long long)model_u64(doc, "size"), d->pool_id, d->local ? ", local" : "",
              (long long)d->score);
    int r = txb_commit(call->ctl, &t, NULL, &call->err);
    txb_free(&t);
    return r;
}

/* Place, then commit; the reservation is undone if the commit does not land. */
static int create_new(struct api_call *call, const struct volume_create *vc, const json_t *spec)
{
    char uuid[SLIO_UUID_STR_LEN], pinned[MODEL_KEY_MAX];
    struct sched_decision d;
    int r = source_pool(call, vc, pinned);
    if (r < 0)
        return r;
    _cleanup_free_ struct model_sched_req *msr = malloc(sizeof(*msr));
    if (!msr)
        return -ENOMEM;
    model_uuid_new(uuid);
    model_sched_request(spec, uuid, pinned[0] ? pinned : NULL, msr);
    r = sched_place(ctl_view(call->ctl), &msr->req, &d, &call->err);
    if (r < 0) {
        if (r == -ENOSPC)
            atomic_fetch_add(&call->ctl->counters[CTR_PLACEMENT_FAILURES], 1);
        slio_err_prefix(&call->err, "volume \"%s\"", vc->name);
        return r == -EEXIST ? -EIO : r;
    }
    _cleanup_json_ json_t *doc = volume_doc(spec, uuid, &d);
    r = doc ? commit_volume(call, doc, &d) : -ENOMEM;
    if (r < 0) {
        if (sched_view_remove_volume(ctl_view(call->ctl), uuid) < 0)
            log_warn("volume %s: reservation already gone", uuid);
        return r;
    }
    atomic_fetch_add(&call->ctl->counters[CTR_VOLUMES_CREATED], 1);
    log_info("volume \"%s\" %s placed on \"%s\"", vc->name, uuid, d.pool_id);
    call->status = 201;
    int64_t mod = 0;
    _cleanup_json_ json_t *stored = NULL;
    if (api_get_doc(call, K_VOLUMES, uuid, "volume", &stored, &mod) < 0)
        return -EIO;
    call->out = api_render_volume(call, stored, mod, NULL);
    return call->out ? 0 : -ENOMEM;
}

static int create_volume(struct api_call *call)
{
    struct volume_create vc;
    int r = model_volume_create_decode(call->body, &vc, &call->err);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *spec = model_volume_spec(&vc);
    if (!spec)
        return -ENOMEM;
    for (int attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
        r = create_existing(call, vc.name, spec);
        if (r != -ENOENT)
            return r;
        call->err.text[0] = '\0';
        r = create_new(call, &vc, spec);
        if (r != -ECANCELED)
            return r;
    }
    slio_err_set(&call->err, "volume \"%s\": too many concurrent creates of this name", vc.name);
    return -EAGAIN;
}

/* ---- get, delete ------------------------------------------------------------------------- */

static int get_volume(struct api_call *call)
{
    char id[SLIO_UUID_STR_LEN];
    json_t *doc = NULL;
    int64_t mod;
    int r = api_path_uuid(call, "id", id);
    if (r == 0)
        r = api_get_doc(call, K_VOLUMES, id, "volume", &doc, &mod);
    if (r < 0)
        return r;
    call->out = render_volume_take(call, doc, mod);
    return call->out ? 0 : -ENOMEM;
}

/* Any snapshot of the volume (they live on its node). */
static int has_snapshots(struct api_call *call, const json_t *vol, bool *ret)
{
    char prefix[MODEL_KEY_MAX];
    struct store_kv_list l;
    snprintf(prefix, sizeof(prefix), "%s%s/s/", K_BYNODE, model_str(vol, "node"));
    *ret = false;
    int r = store_list(call->ctl->store, prefix, NULL, STORE_LIST_MAX, true, &l, NULL, &call->err);
    for (size_t i = 0; r == 0 && i < l.n && !*ret; i++) {
        _cleanup_json_ json_t *snap = NULL;
        if (api_get_doc(call, K_SNAPSHOTS, l.items[i].key + strlen(prefix), "snapshot", &snap,
                        NULL) == 0)
            *ret = strcmp(model_str(snap, "volume"), model_str(vol, "id")) == 0;
    }
    if (r == 0)
        store_kv_list_clear(&l);
    return r;
}

static int mark_deleting(struct ctl *c, json_t *doc, struct txb *t, void *arg, struct slio_err *err)
{
    const char *id = model_str(doc, "id");
    if (strcmp(model_str(doc, "phase"), "deleting") == 0)
        return CTL_UNCHANGED;
    if (json_array_size(json_object_get(doc, "attachments"))) {
        slio_err_set(err, "volume %s is attached to node \"%s\": detach it first", id,
                     model_str(json_array_get(json_object_get(doc, "attachments"), 0), "node"));
        return -EBUSY;
    }
    json_object_set_new(doc, "phase", json_string("deleting"));
    json_object_set_new(doc, "message", json_string("waiting for the node's agent to remove it"));
    txb_touch_desired(t, model_str(doc, "node"));
    txb_event(t, c, "volume", id, "normal", "Deleting", "volume \"%s\": deletion requested",
              model_str(doc, "name"));
    return 0;
}

static int delete_volume(struct api_call *call)
{
    char id[SLIO_UUID_STR_LEN], key[MODEL_KEY_MAX];
    _cleanup_json_ json_t *doc = NULL, *updated = NULL;
    bool snaps;
    int r = api_path_uuid(call, "id", id);
    if (r == 0)
        r = api_get_doc(call, K_VOLUMES, id, "volume", &doc, NULL);
    if (r == 0)
        r = has_snapshots(call, doc, &snaps);
    if (r < 0)
        return r;
    if (snaps) {
        slio_err_set(&call->err, "volume %s has snapshots: delete them first", id);
        return -EBUSY;
    }
    int64_t mod = 0;
    r = ctl_update(call->ctl, model_key(key, K_VOLUMES, id, NULL), mark_deleting, NULL, &updated,
                   &mod, &call->err);
    if (r == -ENOENT)
        slio_err_set(&call->err, "volume %s not found", id);
    if (r < 0)
        return r;
    call->status = 202;
    call->out = api_render_volume(call, updated, mod, NULL);
    return call->out ? 0 : -ENOMEM;
}

/* ---- expand, qos ------------------------------------------------------------------------- */

static int set_size(struct ctl *c, json_t *doc, struct txb *t, void *arg, struct slio_err *err)
{
    uint64_t size = *(const uint64_t *)arg;
    const char *phase = model_str(doc, "phase");
    if (strcmp(phase, "ready") != 0 && strcmp(phase, "expanding") != 0) {
        slio_err_set(err, "volume %s is %s: only a ready volume can grow", model_str(doc, "id"),
                     phase);
        return -EBUSY;
    }
    json_object_set_new(doc, "size", json_integer((json_int_t)size));
    json_object_set_new(doc, "phase", json_string("expanding"));
    json_object_set_new(doc, "message", json_string("waiting for the node's agent to grow it"));
    txb_volume_index(t, doc);
    txb_touch_desired(t, model_str(doc, "node"));
    txb_event(t, c, "volume", model_str(doc, "id"), "normal", "Expanding",
              "volume \"%s\": growing to %llu bytes", model_str(doc, "name"),
              (unsigned long long)size);
    return 0;
}

static int expand_volume(struct api_call *call)
{
    char id[SLIO_UUID_STR_LEN], key[MODEL_KEY_MAX];
    struct volume_expand e;
    _cleanup_json_ json_t *doc = NULL, *updated = NULL;
    int64_t mod;
    int r = api_path_uuid(call, "id", id);
    if (r == 0)
        r = model_volume_expand_decode(call->body, &e, &call->err);
    if (r == 0)
        r = api_get_doc(call, K_VOLUMES, id, "volume", &doc, &mod);
    if (r < 0)
        return r;
    uint64_t old = model_u64(doc, "size");
    call->status = 202;
    if (e.size == old) {
        call->out = api_render_volume(call, doc, mod, NULL);
        return call->out ? 0 : -ENOMEM;
    }
    if (e.size < old) {
        slio_err_set(&call->err, "field 'size': volume %s has %llu bytes; volumes never shrink", id,
                     (unsigned long long)old);
        return -EINVAL;
    }
    r = sched_view_resize_volume(ctl_view(call->ctl), id, e.size, &call->err);
    if (r < 0) {
        slio_err_prefix(&call->err, "volume %s", id);
        return r == -ENOENT ? -EIO : r;
    }
    r = ctl_update(call->ctl, model_key(key, K_VOLUMES, id, NULL), set_size, &e.size, &updated,
                   &mod, &call->err);
    if (r < 0) {
        if (sched_view_resize_volume(ctl_view(call->ctl), id, old, NULL) < 0)
            log_warn("volume %s: could not give back the expansion's reservation", id);
        return r;
    }
    call->out = api_render_volume(call, updated, mod, NULL);
    return call->out ? 0 : -ENOMEM;
}

static int set_qos(struct ctl *c, json_t *doc, struct txb *t, void *arg, struct slio_err *err)
{
    json_t *q = model_qos_json(arg);
    if (json_equal(q, json_object_get(doc, "qos"))) {
        json_decref(q);
        return CTL_UNCHANGED;
    }
    json_object_set_new(doc, "qos", q);
    txb_touch_desired(t, model_str(doc, "node"));
    txb_event(t, c, "volume", model_str(doc, "id"), "normal", "QosChanged",
              "volume \"%s\": QoS limits replaced", model_str(doc, "name"));
    return 0;
}

static int put_qos(struct api_call *call)
{
    char id[SLIO_UUID_STR_LEN], key[MODEL_KEY_MAX];
    struct model_qos q;
    _cleanup_json_ json_t *updated = NULL;
    int64_t mod = 0;
    int r = api_path_uuid(call, "id", id);
    if (r == 0)
        r = model_qos_decode(call->body, &q, &call->err);
    if (r == 0)
        r = ctl_update(call->ctl, model_key(key, K_VOLUMES, id, NULL), set_qos, &q, &updated, &mod,
                       &call->err);
    if (r == -ENOENT)
        slio_err_set(&call->err, "volume %s not found", id);
    if (r < 0)
        return r;
    call->out = api_render_volume(call, updated, mod, NULL);
    return call->out ? 0 : -ENOMEM;
}

API_HANDLER(list_volumes, NEED_READ, API_NO_BODY)
API_HANDLER(create_volume, NEED_CLIENT, API_BODY)
API_HANDLER(get_volume, NEED_READ, API_NO_BODY)
API_HANDLER(delete_volume, NEED_CLIENT, API_NO_BODY)
API_HANDLER(expand_volume, NEED_CLIENT, API_BODY)
API_HANDLER(put_qos, NEED_CLIENT, API_BODY)

static const struct slio_http_route routes[] = {
    {"GET", "/v1/volumes", list_volumes_http},
    {"POST", "/v1/volumes", create_volume_http},
    {"GET", "/v1/volumes/{id}", get_volume_http},
    {"DELETE", "/v1/volumes/{id}", delete_volume_http},
    {"POST", "/v1/volumes/{id}/expand", expand_volume_http},
    {"PUT", "/v1/volumes/{id}/qos", put_qos_http},
};
const struct api_routes api_volume_routes = {routes, SLIO_ARRAY_SIZE(routes)};
