/* SPDX-License-Identifier: Apache-2.0 */
/* ControllerGetVolume, ValidateVolumeCapabilities, ListVolumes: reads of /v1/volumes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "controller/convert.h"
#include "controller/params.h"
#include "rest.h"
#include "services.h"
#include "slio/http_client.h"
#include "slio/json.h"

#define LIST_PAGE_MAX 1000 /* the REST limit */
#define TOKEN_MAX     512

/* GET /v1/volumes/{id}: 0 with the volume; NOT_FOUND (or the REST error) in the reply. */
static int get_volume(struct csi_ctx *ctx, struct csi_reply *r, const char *id, json_t **ret)
{
    if (!id[0])
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_id missing"), -EINVAL;
    if (!csi_is_uuid(id))
        return csi_reply_fail(r, GRPC_STATUS_NOT_FOUND, "volume \"%.64s\" not found", id), -ENOENT;
    char path[96], what[80];
    snprintf(path, sizeof(path), "/v1/volumes/%s", id);
    snprintf(what, sizeof(what), "volume %s", id);
    unsigned status;
    json_t *vol = NULL;
    if (csi_rest_call(ctx, r, "GET", path, NULL, &status, &vol) < 0)
        return -EIO;
    if (status != 200) {
        csi_rest_fail(r, status, vol, what);
        json_decref(vol);
        return -EIO;
    }
    *ret = vol;
    return 0;
}

CSI_HANDLER(controller_get_volume)
{
    const Csi__V1__ControllerGetVolumeRequest *q = req;
    _cleanup_(slio_json_decrefp) json_t *vol = NULL;
    if (get_volume(ctx, r, q->volume_id, &vol) < 0)
        return;
    _cleanup_arena_ struct csi_arena a = {0};
    Csi__V1__ControllerGetVolumeResponse resp = CSI__V1__CONTROLLER_GET_VOLUME_RESPONSE__INIT;
    Csi__V1__ControllerGetVolumeResponse__VolumeStatus st =
        CSI__V1__CONTROLLER_GET_VOLUME_RESPONSE__VOLUME_STATUS__INIT;
    resp.volume = csi_volume_from_rest(&a, vol, NULL, NULL, 0);
    st.published_node_ids = csi_published_nodes(&a, vol, &st.n_published_node_ids);
    st.volume_condition = csi_volume_condition(&a, vol);
    resp.status = &st;
    if (a.failed)
        return (void)csi_reply_fail(r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    csi_reply_ok(r, &resp.base);
}

/* Why a capability set cannot be confirmed, or "" when it can. */
static void validate(const Csi__V1__ValidateVolumeCapabilitiesRequest *q, char *why, size_t len)
{
    why[0] = '\0';
    for (size_t i = 0; i < q->n_volume_capabilities; i++)
        if (csi_capability_check(q->volume_capabilities[i], why, len) < 0)
            return;
    const char *keys[CSI_PARAMS_MAX], *values[CSI_PARAMS_MAX];
    if (q->n_parameters > CSI_PARAMS_MAX) {
        snprintf(why, len, "more than %d parameters", CSI_PARAMS_MAX);
        return;
    }
    CSI_MAP_SPLIT(q->parameters, q->n_parameters, keys, values);
    struct slio_err err = {0};
    struct csi_volume_params vp;
    _cleanup_(slio_json_decrefp) json_t *scratch = json_object();
    if (csi_params_volume(keys, values, q->n_parameters, scratch, &vp, &err) < 0)
        snprintf(why, len, "%s", err.text);
}

CSI_HANDLER(validate_volume_capabilities)
{
    const Csi__V1__ValidateVolumeCapabilitiesRequest *q = req;
    if (q->n_volume_capabilities == 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_capabilities missing");
    _cleanup_(slio_json_decrefp) json_t *vol = NULL;
    if (get_volume(ctx, r, q->volume_id, &vol) < 0)
        return;
    char why[256];
    validate(q, why, sizeof(why));
    Csi__V1__ValidateVolumeCapabilitiesResponse resp =
        CSI__V1__VALIDATE_VOLUME_CAPABILITIES_RESPONSE__INIT;
    Csi__V1__ValidateVolumeCapabilitiesResponse__Confirmed conf =
        CSI__V1__VALIDATE_VOLUME_CAPABILITIES_RESPONSE__CONFIRMED__INIT;
    if (why[0]) {
        resp.message = why; /* confirmed stays empty: not supported */
    } else {
        /* Echo what was asked: confirmed means exactly these were validated. */
        conf.n_volume_capabilities = q->n_volume_capabilities;
        conf.volume_capabilities = q->volume_capabilities;
        conf.n_volume_context = q->n_volume_context;
        conf.volume_context =
            (Csi__V1__ValidateVolumeCapabilitiesResponse__Confirmed__VolumeContextEntry **)
                q->volume_context;
        conf.n_parameters = q->n_parameters;
        conf.parameters =
            (Csi__V1__ValidateVolumeCapabilitiesResponse__Confirmed__ParametersEntry **)
                q->parameters;
        resp.confirmed = &conf;
    }
    csi_reply_ok(r, &resp.base);
}

/* "?limit=N[&continue=T]" for a CSI max_entries/starting_token pair; -EINVAL on a bad token. */
int csi_page_query(int32_t max_entries, const char *token, char *buf, size_t len)
{
    int limit = max_entries > 0 && max_entries < LIST_PAGE_MAX ? max_entries : LIST_PAGE_MAX;
    if (!token[0]) {
        snprintf(buf, len, "limit=%d", limit);
        return 0;
    }
    if (strlen(token) > TOKEN_MAX)
        return -EINVAL;
    _cleanup_free_ char *esc = slio_http_escape(token);
    if (!esc)
        return -ENOMEM;
    if ((size_t)snprintf(buf, len, "limit=%d&continue=%s", limit, esc) >= len)
        return -EINVAL;
    return 0;
}

static Csi__V1__ListVolumesResponse__Entry *list_entry(struct csi_arena *a, const json_t *v)
{
    Csi__V1__ListVolumesResponse__Entry *e = CSI_ARENA_NEW(a, Csi__V1__ListVolumesResponse__Entry);
    Csi__V1__ListVolumesResponse__VolumeStatus *st =
        CSI_ARENA_NEW(a, Csi__V1__ListVolumesResponse__VolumeStatus);
    if (!e || !st)
        return NULL;
    csi__v1__list_volumes_response__entry__init(e);
    csi__v1__list_volumes_response__volume_status__init(st);
    e->volume = csi_volume_from_rest(a, v, NULL, NULL, 0);
    st->published_node_ids = csi_published_nodes(a, v, &st->n_published_node_ids);
    st->volume_condition = csi_volume_condition(a, v);
    e->status = st;
    return e;
}

CSI_HANDLER(list_volumes)
{
    const Csi__V1__ListVolumesRequest *q = req;
    if (q->max_entries < 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "max_entries is negative");
    char query[TOKEN_MAX * 3 + 64], path[sizeof(query) + 16];
    if (csi_page_query(q->max_entries, q->starting_token, query, sizeof(query)) < 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_ABORTED, "starting_token is not valid");
    snprintf(path, sizeof(path), "/v1/volumes?%s", query);
    unsigned status;
    _cleanup_(slio_json_decrefp) json_t *page = NULL;
    if (csi_rest_call(ctx, r, "GET", path, NULL, &status, &page) < 0)
        return;
    if (status == 400 && q->starting_token[0]) /* the controller refused our token */
        return (void)csi_rest_fail_code(r, GRPC_STATUS_ABORTED, page, "starting_token");
    if (status != 200)
        return (void)csi_rest_fail(r, status, page, "list volumes");
    const json_t *items = json_object_get(page, "items");
    _cleanup_arena_ struct csi_arena a = {0};
    Csi__V1__ListVolumesResponse resp = CSI__V1__LIST_VOLUMES_RESPONSE__INIT;
    size_t n = json_array_size(items);
    resp.entries = CSI_ARENA_ARRAY(&a, Csi__V1__ListVolumesResponse__Entry *, n);
    for (size_t i = 0; resp.entries && i < n; i++)
        if ((resp.entries[resp.n_entries] = list_entry(&a, json_array_get(items, i))))
            resp.n_entries++;
    resp.next_token = csi_arena_strdup(&a, csi_json_str(page, "continue"));
    if (a.failed)
        return (void)csi_reply_fail(r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    csi_reply_ok(r, &resp.base);
}
