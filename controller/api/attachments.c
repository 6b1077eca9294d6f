/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /v1/volumes/{id}/attachments: a consumer node wants a volume. On the
 * volume's own node the answer is local (the device path, ready once the
 * volume is); elsewhere the volume's agent exports it to the consumer's host
 * NQN (it appears in the node's desired state) and the attachment turns ready
 * when the agent reports the export. One node at a time.
 */
#define SLIO_LOG_COMPONENT "api"
#include <string.h>

#include "api.h"
#include "slio/log.h"

static json_t *find_attachment(const json_t *vol, const char *node, size_t *ret_index)
{
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get(vol, "attachments"), i, a)
        if (strcmp(model_str(a, "node"), node) == 0) {
            if (ret_index)
                *ret_index = i;
            return a;
        }
    return NULL;
}

static const char *attachment_phase(const json_t *vol, const json_t *att)
{
    const char *vphase = model_str(vol, "phase");
    if (strcmp(vphase, "failed") == 0)
        return "failed";
    if (!json_is_true(json_object_get(att, "local")))
        return *model_str(att, "phase") ? model_str(att, "phase") : "pending";
    bool usable = strcmp(vphase, "ready") == 0 || strcmp(vphase, "expanding") == 0;
    return usable && *model_str(vol, "device") ? "ready" : "pending";
}

json_t *api_render_attachment(struct api_call *call, const json_t *vol, const json_t *att)
{
    bool local = json_is_true(json_object_get(att, "local"));
    const char *phase = attachment_phase(vol, att);
    json_t *out = json_pack("{s:s,s:s,s:b,s:s,s:s,s:s}", "volume", model_str(vol, "id"), "node",
                            model_str(att, "node"), "local", local, "phase", phase, "host_nqn",
                            model_str(att, "host_nqn"), "namespace_uuid", model_str(vol, "id"));
    if (!out)
        return NULL;
    if (strcmp(phase, "ready") != 0)
        json_object_set_new(out, "message",
                            json_string(strcmp(phase, "failed") == 0
                                            ? model_str(vol, "message")
                                            : (local ? "waiting for the volume to be ready"
                                                     : "waiting for the export")));
    if (local) {
        json_object_set_new(out, "device", json_string(model_str(vol, "device")));
        return out;
    }
    json_object_set_new(out, "nqn", json_string(model_str(vol, "nqn")));
    _cleanup_json_ json_t *node = NULL;
    char key[MODEL_KEY_MAX];
    if (store_get_json(call->ctl->store, model_key(key, K_NODES, model_str(vol, "node"), NULL),
                       &node, NULL, NULL) == 0) {
        json_t *addr = json_object_get(node, "export_address");
        if (addr)
            json_object_set(out, "address", addr);
    }
    return out;
}

struct attach_req {
    const char *node, *host_nqn;
    bool created;
};

static int add_attachment(struct ctl *c, json_t *vol, struct txb *t, void *arg,
                          struct slio_err *err)
{
    struct attach_req *a = arg;
    const char *id = model_str(vol, "id");
    json_t *atts = json_object_get(vol, "attachments");
    json_t *same = find_attachment(vol, a->node, NULL);
    a->created = false;
    if (strcmp(model_str(vol, "phase"), "deleting") == 0) {
        slio_err_set(err, "volume %s is being deleted", id);
        return -EBUSY;
    }
    if (same && strcmp(model_str(same, "host_nqn"), a->host_nqn) == 0)
        return CTL_UNCHANGED;
    if (!same && json_array_size(atts)) {
        slio_err_set(err, "volume %s is attached to node \"%s\" (one node at a time)", id,
                     model_str(json_array_get(atts, 0), "node"));
        return -EBUSY;
    }
    bool local = strcmp(a->node, model_str(vol, "node")) == 0;
    json_t *att = json_pack("{s:s,s:s,s:b,s:s}", "node", a->node, "host_nqn", a->host_nqn, "local",
                            local, "phase", local ? "" : "pending");
    if (!att || !atts)
        return -ENOMEM;
    if (same)
        json_array_clear(atts);
    json_array_append_new(atts, att);
    txb_volume_index(t, vol);
    if (!local)
        txb_touch_desired(t, model_str(vol, "node"));
    txb_event(t, c, "attachment", id, "normal", "Attaching",
              "volume \"%s\": attached to node "
              "\"%s\" (%s)",
              model_str(vol, "name"), a->node, local ? "local" : "NVMe/TCP");
    a->created = true;
    return 0;
}

static int attach(struct api_call *call)
{
    char id[SLIO_UUID_STR_LEN], key[MODEL_KEY_MAX];
    struct attachment_create ac;
    _cleanup_json_ json_t *node = NULL, *vol = NULL;
    int r = api_path_uuid(call, "id", id);
    if (r == 0)
        r = model_attachment_decode(call->body, &ac, &call->err);
    if (r == 0)
        r = api_get_doc(call, K_NODES, ac.node, "node", &node, NULL);
    if (r == -ENOENT) {
        slio_err_set(&call->err, "field 'node': node \"%s\" is not registered", ac.node);
        return -EINVAL;
    }
    if (r < 0)
        return r;
    struct attach_req a = {ac.node, ac.host_nqn ? ac.host_nqn : model_str(node, "host_nqn")};
    r = ctl_update(call->ctl, model_key(key, K_VOLUMES, id, NULL), add_attachment, &a, &vol, NULL,
                   &call->err);
    if (r == -ENOENT)
        slio_err_set(&call->err, "volume %s not found", id);
    if (r < 0)
        return r;
    if (a.created && sched_view_set_consumer(ctl_view(call->ctl), id, ac.node) < 0)
        log_warn("volume %s: not in the scheduler's view", id);
    call->out = api_render_attachment(call, vol, find_attachment(vol, ac.node, NULL));
    return call->out ? 0 : -ENOMEM;
}

static int get_attachment(struct api_call *call)
{
    char id[SLIO_UUID_STR_LEN];
    const char *node;
    _cleanup_json_ json_t *vol = NULL;
    int r = api_path_uuid(call, "id", id);
    if (r == 0)
        r = api_path_name(call, "node", &node);
    if (r == 0)
        r = api_get_doc(call, K_VOLUMES, id, "volume", &vol, NULL);
    if (r < 0)
        return r;
    const json_t *att = find_attachment(vol, node, NULL);
    if (!att) {
        slio_err_set(&call->err, "volume %s has no attachment on node \"%s\"", id, node);
        return -ENOENT;
    }
    call->out = api_render_attachment(call, vol, att);
    return call->out ? 0 : -ENOMEM;
}

static int remove_attachment(struct ctl *c, json_t *vol, struct txb *t, void *arg,
                             struct slio_err *err)
{
    const char *node = arg;
    size_t i;
    if (!find_attachment(vol, node, &i))
        return CTL_UNCHANGED;
    json_array_remove(json_object_get(vol, "attachments"), i);
    txb_volume_index(t, vol);
    txb_touch_desired(t, model_str(vol, "node"));
    txb_event(t, c, "attachment", model_str(vol, "id"), "normal", "Detached",
              "volume \"%s\": detached from node \"%s\"", model_str(vol, "name"), node);
    return 0;
}

static int detach(struct api_call *call)
{
    char id[SLIO_UUID_STR_LEN], key[MODEL_KEY_MAX];
    const char *node;
    _cleanup_json_ json_t *vol = NULL;
    int r = api_path_uuid(call, "id", id);
    if (r == 0)
        r = api_path_name(call, "node", &node);
    if (r == -ENOENT) /* a name that cannot exist is not attached: idempotent */
        r = 0, node = NULL;
    if (r < 0 || !node)
        return r;
    r = ctl_update(call->ctl, model_key(key, K_VOLUMES, id, NULL), remove_attachment, (void *)node,
                   &vol, NULL, &call->err);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r;
    if (sched_view_set_consumer(ctl_view(call->ctl), id, ctl_volume_consumer(vol)) < 0)
        log_warn("volume %s: not in the scheduler's view", id);
    call->status = 204;
    return 0;
}

API_HANDLER(attach, NEED_CLIENT, API_BODY)
API_HANDLER(get_attachment, NEED_READ, API_NO_BODY)
API_HANDLER(detach, NEED_CLIENT, API_NO_BODY)

static const struct slio_http_route routes[] = {
    {"POST", "/v1/volumes/{id}/attachments", attach_http},
    {"GET", "/v1/volumes/{id}/attachments/{node}", get_attachment_http},
    {"DELETE", "/v1/volumes/{id}/attachments/{node}", detach_http},
};
const struct api_routes api_attachment_routes = {routes, SLIO_ARRAY_SIZE(routes)};
