/* SPDX-License-Identifier: Apache-2.0 */
/* NodeGetInfo and NodeGetCapabilities. */
#include "controller/convert.h"
#include "services.h"

CSI_HANDLER(node_get_info)
{
    Csi__V1__NodeGetInfoResponse resp = CSI__V1__NODE_GET_INFO_RESPONSE__INIT;
    Csi__V1__Topology topo = CSI__V1__TOPOLOGY__INIT;
    Csi__V1__Topology__SegmentsEntry seg[3], *ptrs[3];
    const char *keys[] = {CSI_TOPOLOGY_NODE, CSI_TOPOLOGY_RACK, CSI_TOPOLOGY_ZONE};
    const char *values[] = {ctx->node.node_id, ctx->node.rack, ctx->node.zone};
    for (size_t i = 0; i < 3; i++) {
        if (!values[i][0])
            continue; /* no rack or zone configured: no such segment */
        csi__v1__topology__segments_entry__init(&seg[topo.n_segments]);
        seg[topo.n_segments].key = (char *)keys[i];
        seg[topo.n_segments].value = (char *)values[i];
        ptrs[topo.n_segments] = &seg[topo.n_segments];
        topo.n_segments++;
    }
    topo.segments = ptrs;
    resp.node_id = ctx->node.node_id;
    resp.max_volumes_per_node = ctx->node.max_volumes;
    resp.accessible_topology = &topo;
    (void)req;
    csi_reply_ok(r, &resp.base);
}

CSI_HANDLER(node_get_capabilities)
{
    static const Csi__V1__NodeServiceCapability__RPC__Type types[] = {
        CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__STAGE_UNSTAGE_VOLUME,
        CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__GET_VOLUME_STATS,
        CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__EXPAND_VOLUME,
        CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__VOLUME_CONDITION,
    };
    enum { N = SLIO_ARRAY_SIZE(types) };
    Csi__V1__NodeServiceCapability caps[N], *ptrs[N];
    Csi__V1__NodeServiceCapability__RPC rpcs[N];
    for (size_t i = 0; i < N; i++) {
        csi__v1__node_service_capability__init(&caps[i]);
        csi__v1__node_service_capability__rpc__init(&rpcs[i]);
        rpcs[i].type = types[i];
        caps[i].type_case = CSI__V1__NODE_SERVICE_CAPABILITY__TYPE_RPC;
        caps[i].rpc = &rpcs[i];
        ptrs[i] = &caps[i];
    }
    Csi__V1__NodeGetCapabilitiesResponse resp = CSI__V1__NODE_GET_CAPABILITIES_RESPONSE__INIT;
    resp.capabilities = ptrs;
    resp.n_capabilities = N;
    (void)ctx;
    (void)req;
    csi_reply_ok(r, &resp.base);
}
