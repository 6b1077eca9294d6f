/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CreateVolume, DeleteVolume, ControllerExpandVolume: POST/DELETE on
 * /v1/volumes, with the CSI specification's codes for each outcome.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SLIO_LOG_COMPONENT "csi"
#include "controller/convert.h"
#include "controller/params.h"
#include "rest.h"
#include "services.h"
#include "slio/json.h"
#include "slio/log.h"

#define GiB               (1LL << 30)
#define DEFAULT_SIZE      GiB
#define SIZE_ALIGN        (4LL << 20) /* LVM's default extent: sizes are whole extents */
#define READY_WAIT_MAX_MS 60000

/*
 * CSI capacity_range → bytes: required rounded up to an extent; none given:
 * 1 GiB, or the limit (rounded down) when it is smaller. 0 with *ret, or the
 * reason (OUT_OF_RANGE / INVALID_ARGUMENT) in the reply.
 */
static int volume_size(const Csi__V1__CapacityRange *cr, struct csi_reply *r, int64_t *ret)
{
    int64_t req = cr ? cr->required_bytes : 0, lim = cr ? cr->limit_bytes : 0;
    if (req < 0 || lim < 0)
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "capacity_range: negative bytes"),
               -EINVAL;
    if (lim && req > lim)
        return csi_reply_fail(r, GRPC_STATUS_OUT_OF_RANGE,
                              "capacity_range: required %lld > limit %lld", (long long)req,
                              (long long)lim),
               -ERANGE;
    int64_t size;
    if (req) {
        if (req > INT64_MAX - SIZE_ALIGN)
            return csi_reply_fail(r, GRPC_STATUS_OUT_OF_RANGE, "capacity_range: too large"),
                   -ERANGE;
        size = (req + SIZE_ALIGN - 1) / SIZE_ALIGN * SIZE_ALIGN;
    } else {
        size = lim && lim < DEFAULT_SIZE ? lim / SIZE_ALIGN * SIZE_ALIGN : DEFAULT_SIZE;
    }
    if (size == 0 || (lim && size > lim))
        return csi_reply_fail(r, GRPC_STATUS_OUT_OF_RANGE,
                              "capacity_range [%lld, %lld]: no multiple of 4 MiB fits",
                              (long long)req, (long long)lim),
               -ERANGE;
    *ret = size;
    return 0;
}

static int check_capabilities(Csi__V1__VolumeCapability *const *caps, size_t n, struct csi_reply *r)
{
    char why[160];
    if (n == 0)
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_capabilities missing"),
               -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (csi_capability_check(caps[i], why, sizeof(why)) < 0)
            return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_capabilities[%zu]: %s",
                                  i, why),
                   -EINVAL;
    return 0;
}

/* The consumer node: the first preferred, else the first requisite, naming a node. */
static const char *consumer_node(const Csi__V1__TopologyRequirement *t)
{
    if (!t)
        return NULL;
    for (int pass = 0; pass < 2; pass++) {
        Csi__V1__Topology **tops = pass == 0 ? t->preferred : t->requisite;
        size_t n = pass == 0 ? t->n_preferred : t->n_requisite;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < tops[i]->n_segments; j++)
                if (strcmp(tops[i]->segments[j]->key, CSI_TOPOLOGY_NODE) == 0)
                    return tops[i]->segments[j]->value;
    }
    return NULL;
}

static int content_source(const Csi__V1__VolumeContentSource *cs, json_t *body, struct csi_reply *r)
{
    if (!cs)
        return 0;
    const char *id = NULL, *key = NULL;
    if (cs->type_case == CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_SNAPSHOT && cs->snapshot) {
        id = cs->snapshot->snapshot_id;
        key = "snapshot";
    } else if (cs->type_case == CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_VOLUME && cs->volume) {
        id = cs->volume->volume_id;
        key = "volume";
    } else {
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_content_source: empty"),
               -EINVAL;
    }
    if (!csi_is_uuid(id))
        return csi_reply_fail(r, GRPC_STATUS_NOT_FOUND, "content source %s \"%.64s\" not found",
                              key, id),
               -ENOENT;
    json_object_set_new(body, "source", json_pack("{s:s}", key, id));
    return 0;
}

/* The REST VolumeCreate body from the request; vp gets the volume-context extras. */
static int create_body(const Csi__V1__CreateVolumeRequest *q, struct csi_reply *r, json_t *body,
                       struct csi_volume_params *vp)
{
    if (!q->name[0] || strlen(q->name) > CSI_NAME_MAX)
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "name: 1 to %d bytes", CSI_NAME_MAX),
               -EINVAL;
    int64_t size;
    if (check_capabilities(q->volume_capabilities, q->n_volume_capabilities, r) < 0 ||
        volume_size(q->capacity_range, r, &size) < 0)
        return -EINVAL;
    const char *keys[CSI_PARAMS_MAX], *values[CSI_PARAMS_MAX];
    if (q->n_parameters > CSI_PARAMS_MAX)
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "more than %d parameters",
                              CSI_PARAMS_MAX),
               -EINVAL;
    CSI_MAP_SPLIT(q->parameters, q->n_parameters, keys, values);
    struct slio_err err = {0};
    json_object_set_new(body, "name", json_string(q->name));
    json_object_set_new(body, "size", json_integer(size));
    if (csi_params_volume(keys, values, q->n_parameters, body, vp, &err) < 0)
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "%s", err.text), -EINVAL;
    /* No fsType parameter: the first mount capability's fs_type is the hint. */
    for (size_t i = 0; !vp->fs_type[0] && i < q->n_volume_capabilities; i++) {
        const Csi__V1__VolumeCapability *c = q->volume_capabilities[i];
        /* access_type is a oneof: mount and block share storage. */
        if (c->access_type_case == CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT &&
            c->mount->fs_type[0]) {
            vp->fs_type = c->mount->fs_type;
            json_object_set_new(body, "fs_type", json_string(vp->fs_type));
        }
    }
    const char *consumer = consumer_node(q->accessibility_requirements);
    if (consumer)
        json_object_set_new(body, "consumer_node", json_string(consumer));
    return content_source(q->volume_content_source, body, r);
}

/*
 * Poll GET /v1/volumes/{id} until the agent made it ready (no event to wait
 * for over REST). expanding_done: an "expanding" volume counts as ready (a
 * create need not wait for a concurrent expansion; an expansion does).
 */
static int wait_ready(struct csi_ctx *ctx, struct csi_reply *r, json_t **vol, bool expanding_done)
{
    char path[96];
    unsigned step = 0;
    int64_t until = csi_now_ms() + READY_WAIT_MAX_MS;
    snprintf(path, sizeof(path), "/v1/volumes/%s", csi_json_str(*vol, "id"));
    for (;;) {
        const char *phase = csi_json_str(*vol, "phase");
        if (strcmp(phase, "ready") == 0 || (expanding_done && strcmp(phase, "expanding") == 0))
            return 0;
        if (strcmp(phase, "failed") == 0)
            return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "volume %s failed: %s",
                                  csi_json_str(*vol, "id"), csi_json_str(*vol, "message")),
                   -EIO;
        if (strcmp(phase, "deleting") == 0)
            return csi_reply_fail(r, GRPC_STATUS_ABORTED, "volume %s is being deleted",
                                  csi_json_str(*vol, "id")),
                   -EBUSY;
        if (!csi_backoff_wait(r, &step, until))
            return csi_reply_fail(r, GRPC_STATUS_DEADLINE_EXCEEDED,
                                  "volume %s still %s (its agent has not finished)",
                                  csi_json_str(*vol, "id"), phase),
                   -ETIMEDOUT;
        unsigned status;
        json_t *fresh = NULL;
        if (csi_rest_call(ctx, r, "GET", path, NULL, &status, &fresh) < 0)
            return -EIO;
        if (status != 200) {
            csi_rest_fail(r, status, fresh, "volume");
            json_decref(fresh);
            return -EIO;
        }
        json_decref(*vol);
        *vol = fresh;
    }
}

CSI_HANDLER(create_volume)
{
    const Csi__V1__CreateVolumeRequest *q = req;
    _cleanup_(slio_json_decrefp) json_t *body = json_object();
    _cleanup_(slio_json_decrefp) json_t *vol = NULL;
    struct csi_volume_params vp;
    unsigned status;
    if (!body || create_body(q, r, body, &vp) < 0)
        return;
    if (csi_rest_call(ctx, r, "POST", "/v1/volumes", body, &status, &vol) < 0)
        return;
    if (status != 200 && status != 201) {
        char what[CSI_NAME_MAX + 16];
        snprintf(what, sizeof(what), "volume \"%s\"", q->name);
        csi_rest_fail(r, status, vol, what);
        return;
    }
    if (wait_ready(ctx, r, &vol, true) < 0)
        return;
    _cleanup_arena_ struct csi_arena a = {0};
    const char *keys[] = {"mkfsOptions"}, *values[] = {vp.mkfs_options};
    Csi__V1__CreateVolumeResponse resp = CSI__V1__CREATE_VOLUME_RESPONSE__INIT;
    resp.volume = csi_volume_from_rest(&a, vol, keys, values, 1);
    if (a.failed || !resp.volume)
        return (void)csi_reply_fail(r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    log_info("volume \"%s\": %s on %s/%s, %lld bytes", q->name, resp.volume->volume_id,
             csi_json_str(vol, "node"), csi_json_str(vol, "pool"),
             (long long)resp.volume->capacity_bytes);
    csi_reply_ok(r, &resp.base);
}

CSI_HANDLER(delete_volume)
{
    const Csi__V1__DeleteVolumeRequest *q = req;
    Csi__V1__DeleteVolumeResponse resp = CSI__V1__DELETE_VOLUME_RESPONSE__INIT;
    if (!q->volume_id[0])
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_id missing");
    if (!csi_is_uuid(q->volume_id)) /* no such volume can exist: deleted already */
        return csi_reply_ok(r, &resp.base);
    char path[96];
    snprintf(path, sizeof(path), "/v1/volumes/%s", q->volume_id);
    unsigned status;
    _cleanup_(slio_json_decrefp) json_t *ans = NULL;
    if (csi_rest_call(ctx, r, "DELETE", path, NULL, &status, &ans) < 0)
        return;
    /* The controller finishes the deletion with the agent (it owns convergence). */
    if (status == 202 || status == 200 || status == 204 || status == 404)
        return csi_reply_ok(r, &resp.base);
    char what[80];
    snprintf(what, sizeof(what), "volume %s", q->volume_id);
    if (status == 409) /* attachments or snapshots exist */
        return (void)csi_rest_fail_code(r, GRPC_STATUS_FAILED_PRECONDITION, ans, what);
    csi_rest_fail(r, status, ans, what);
}

CSI_HANDLER(controller_expand_volume)
{
    const Csi__V1__ControllerExpandVolumeRequest *q = req;
    if (!q->volume_id[0])
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_id missing");
    if (!q->capacity_range)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "capacity_range missing");
    if (!csi_is_uuid(q->volume_id))
        return (void)csi_reply_fail(r, GRPC_STATUS_NOT_FOUND, "volume \"%.64s\" not found",
                                    q->volume_id);
    int64_t size;
    if (volume_size(q->capacity_range, r, &size) < 0)
        return;
    char path[96], what[80];
    snprintf(path, sizeof(path), "/v1/volumes/%s/expand", q->volume_id);
    snprintf(what, sizeof(what), "volume %s", q->volume_id);
    _cleanup_(slio_json_decrefp) json_t *body = json_pack("{s:I}", "size", (json_int_t)size);
    _cleanup_(slio_json_decrefp) json_t *vol = NULL;
    unsigned status;
    if (csi_rest_call(ctx, r, "POST", path, body, &status, &vol) < 0)
        return;
    if (status == 400) /* never shrink: the size asked is below the volume's */
        return (void)csi_rest_fail_code(r, GRPC_STATUS_OUT_OF_RANGE, vol, what);
    if (status != 200 && status != 202)
        return (void)csi_rest_fail(r, status, vol, what);
    /* The resizer calls NodeExpandVolume next: the LV must have grown by then. */
    if (wait_ready(ctx, r, &vol, false) < 0)
        return;
    Csi__V1__ControllerExpandVolumeResponse resp = CSI__V1__CONTROLLER_EXPAND_VOLUME_RESPONSE__INIT;
    int64_t now = json_integer_value(json_object_get(vol, "size"));
    resp.capacity_bytes = now > size ? now : size;
    /* A filesystem must be grown on the node; a raw block device need not. */
    resp.node_expansion_required =
        !(q->volume_capability &&
          q->volume_capability->access_type_case == CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK);
    csi_reply_ok(r, &resp.base);
}
