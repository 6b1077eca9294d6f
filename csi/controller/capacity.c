/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GetCapacity (per topology segment, thin-aware) and ControllerGetCapabilities.
 *
 * A volume lives on one pool, so available_capacity is the sum of what each
 * matching pool can still promise and maximum_volume_size the largest of
 * them. A pool can promise capacity - reserved (thick), or capacity x
 * overprovision - reserved (thin volumes on a thin pool).
 */
#include <string.h>

#include "controller/convert.h"
#include "controller/params.h"
#include "rest.h"
#include "services.h"
#include "slio/json.h"

#define PAGES_MAX 100 /* 100 x 1000 pools is far beyond any cluster */

/* The node's value for a topology key ("" when it has none). */
static const char *node_segment(const json_t *nodes, const char *node, const char *key)
{
    size_t i;
    json_t *n;
    json_array_foreach (nodes, i, n) {
        if (strcmp(csi_json_str(n, "name"), node) != 0)
            continue;
        if (strcmp(key, CSI_TOPOLOGY_NODE) == 0)
            return node;
        const json_t *topo = json_object_get(n, "topology");
        if (strcmp(key, CSI_TOPOLOGY_RACK) == 0)
            return csi_json_str(topo, "rack");
        if (strcmp(key, CSI_TOPOLOGY_ZONE) == 0)
            return csi_json_str(topo, "zone");
    }
    return "";
}

static bool pool_in_topology(const json_t *pool, const json_t *nodes, const Csi__V1__Topology *t)
{
    for (size_t i = 0; t && i < t->n_segments; i++) {
        const char *have = node_segment(nodes, csi_json_str(pool, "node"), t->segments[i]->key);
        if (strcmp(have, t->segments[i]->value) != 0)
            return false;
    }
    return true;
}

static int64_t pool_available(const json_t *pool, bool thin)
{
    if (strcmp(csi_json_str(pool, "status"), "ready") != 0 ||
        json_is_true(json_object_get(pool, "cordoned")))
        return 0;
    double cap = (double)json_integer_value(json_object_get(pool, "capacity"));
    int64_t reserved = json_integer_value(json_object_get(pool, "reserved"));
    int64_t allocated = json_integer_value(json_object_get(pool, "allocated"));
    if (thin && json_is_true(json_object_get(pool, "thin"))) {
        double over = json_number_value(json_object_get(pool, "overprovision"));
        cap *= over >= 1.0 ? over : 1.0;
    }
    int64_t used = reserved > allocated ? reserved : allocated;
    int64_t avail = (int64_t)cap - used;
    return avail > 0 ? avail : 0;
}

/* Every item of a paged REST list into one array (the caller decrefs). */
static int get_all(struct csi_ctx *ctx, struct csi_reply *r, const char *base, json_t **ret)
{
    json_t *all = json_array();
    _cleanup_free_ char *token = NULL;
    for (int page_no = 0; all && page_no < PAGES_MAX; page_no++) {
        char query[1200], path[1300];
        if (csi_page_query(0, token ? token : "", query, sizeof(query)) < 0)
            break;
        snprintf(path, sizeof(path), "%s?%s", base, query);
        unsigned status;
        json_t *page = NULL;
        if (csi_rest_call(ctx, r, "GET", path, NULL, &status, &page) < 0) {
            json_decref(all);
            return -EIO;
        }
        if (status != 200) {
            csi_rest_fail(r, status, page, base);
            json_decref(page);
            json_decref(all);
            return -EIO;
        }
        json_array_extend(all, json_object_get(page, "items"));
        free(token);
        token = csi_json_str(page, "continue")[0] ? strdup(csi_json_str(page, "continue")) : NULL;
        json_decref(page);
        if (!token)
            break;
    }
    *ret = all;
    return 0;
}

CSI_HANDLER(get_capacity)
{
    const Csi__V1__GetCapacityRequest *q = req;
    char why[160];
    for (size_t i = 0; i < q->n_volume_capabilities; i++)
        if (csi_capability_check(q->volume_capabilities[i], why, sizeof(why)) < 0) {
            Csi__V1__GetCapacityResponse none = CSI__V1__GET_CAPACITY_RESPONSE__INIT;
            return csi_reply_ok(r, &none.base); /* no capacity for what we cannot serve */
        }
    if (q->n_parameters > CSI_PARAMS_MAX)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "too many parameters");
    const char *keys[CSI_PARAMS_MAX], *values[CSI_PARAMS_MAX];
    CSI_MAP_SPLIT(q->parameters, q->n_parameters, keys, values);
    struct slio_err err = {0};
    struct csi_volume_params vp;
    _cleanup_(slio_json_decrefp) json_t *scratch = json_object();
    if (csi_params_volume(keys, values, q->n_parameters, scratch, &vp, &err) < 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "%s", err.text);
    _cleanup_(slio_json_decrefp) json_t *pools = NULL;
    _cleanup_(slio_json_decrefp) json_t *nodes = NULL;
    if (get_all(ctx, r, "/v1/pools", &pools) < 0 || get_all(ctx, r, "/v1/nodes", &nodes) < 0)
        return;
    int64_t total = 0, largest = 0;
    size_t i;
    json_t *p;
    json_array_foreach (pools, i, p) {
        if (!pool_in_topology(p, nodes, q->accessible_topology))
            continue;
        int64_t avail = pool_available(p, vp.thin);
        total += avail;
        largest = avail > largest ? avail : largest;
    }
    Csi__V1__GetCapacityResponse resp = CSI__V1__GET_CAPACITY_RESPONSE__INIT;
    Google__Protobuf__Int64Value max = GOOGLE__PROTOBUF__INT64_VALUE__INIT;
    resp.available_capacity = total;
    max.value = largest;
    resp.maximum_volume_size = &max;
    csi_reply_ok(r, &resp.base);
}

CSI_HANDLER(controller_get_capabilities)
{
    static const Csi__V1__ControllerServiceCapability__RPC__Type types[] = {
        CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__CREATE_DELETE_VOLUME,
        CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__LIST_VOLUMES,
        CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__GET_CAPACITY,
        CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__CREATE_DELETE_SNAPSHOT,
        CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__LIST_SNAPSHOTS,
        CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__CLONE_VOLUME,
        CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__EXPAND_VOLUME,
        CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__LIST_VOLUMES_PUBLISHED_NODES,
        CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__VOLUME_CONDITION,
        CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__GET_VOLUME,
    };
    enum { N = SLIO_ARRAY_SIZE(types) };
    Csi__V1__ControllerServiceCapability caps[N], *ptrs[N];
    Csi__V1__ControllerServiceCapability__RPC rpcs[N];
    for (size_t i = 0; i < N; i++) {
        csi__v1__controller_service_capability__init(&caps[i]);
        csi__v1__controller_service_capability__rpc__init(&rpcs[i]);
        rpcs[i].type = types[i];
        caps[i].type_case = CSI__V1__CONTROLLER_SERVICE_CAPABILITY__TYPE_RPC;
        caps[i].rpc = &rpcs[i];
        ptrs[i] = &caps[i];
    }
    Csi__V1__ControllerGetCapabilitiesResponse resp =
        CSI__V1__CONTROLLER_GET_CAPABILITIES_RESPONSE__INIT;
    resp.capabilities = ptrs;
    resp.n_capabilities = N;
    (void)ctx;
    (void)req;
    csi_reply_ok(r, &resp.base);
}
