/* SPDX-License-Identifier: Apache-2.0 */
/* The Identity service: who we are, what we offer, whether we can work now. */
#include <string.h>

#include "rest.h"
#include "services.h"
#include "slio/json.h"

CSI_HANDLER(get_plugin_info)
{
    Csi__V1__GetPluginInfoResponse resp = CSI__V1__GET_PLUGIN_INFO_RESPONSE__INIT;
    resp.name = (char *)CSI_PLUGIN_NAME;
    resp.vendor_version = (char *)SLIO_VERSION;
    csi_reply_ok(r, &resp.base);
}

CSI_HANDLER(get_plugin_capabilities)
{
    Csi__V1__PluginCapability caps[3], *ptrs[3];
    Csi__V1__PluginCapability__Service svc[2];
    Csi__V1__PluginCapability__VolumeExpansion exp =
        CSI__V1__PLUGIN_CAPABILITY__VOLUME_EXPANSION__INIT;
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        csi__v1__plugin_capability__init(&caps[i]);
        ptrs[i] = &caps[i];
    }
    for (size_t i = 0; i < 2; i++)
        csi__v1__plugin_capability__service__init(&svc[i]);
    if (ctx->mode & CSI_MODE_CONTROLLER) {
        svc[0].type = CSI__V1__PLUGIN_CAPABILITY__SERVICE__TYPE__CONTROLLER_SERVICE;
        caps[n].type_case = CSI__V1__PLUGIN_CAPABILITY__TYPE_SERVICE;
        caps[n++].service = &svc[0];
    }
    svc[1].type = CSI__V1__PLUGIN_CAPABILITY__SERVICE__TYPE__VOLUME_ACCESSIBILITY_CONSTRAINTS;
    caps[n].type_case = CSI__V1__PLUGIN_CAPABILITY__TYPE_SERVICE;
    caps[n++].service = &svc[1];
    exp.type = CSI__V1__PLUGIN_CAPABILITY__VOLUME_EXPANSION__TYPE__ONLINE;
    caps[n].type_case = CSI__V1__PLUGIN_CAPABILITY__TYPE_VOLUME_EXPANSION;
    caps[n++].volume_expansion = &exp;
    Csi__V1__GetPluginCapabilitiesResponse resp = CSI__V1__GET_PLUGIN_CAPABILITIES_RESPONSE__INIT;
    resp.capabilities = ptrs;
    resp.n_capabilities = n;
    csi_reply_ok(r, &resp.base);
}

/* Ready when slio-controller answers /v1/health as a serving leader (or single). */
CSI_HANDLER(probe)
{
    Csi__V1__ProbeResponse resp = CSI__V1__PROBE_RESPONSE__INIT;
    Google__Protobuf__BoolValue ready = GOOGLE__PROTOBUF__BOOL_VALUE__INIT;
    resp.ready = &ready;
    unsigned status;
    _cleanup_(slio_json_decrefp) json_t *health = NULL;
    /* Not reachable: not ready (the reply's UNAVAILABLE is replaced by the answer). */
    if (csi_rest_call(ctx, r, "GET", "/v1/health", NULL, &status, &health) == 0) {
        const char *st = json_string_value(json_object_get(health, "status"));
        ready.value = status == 200 && st && strcmp(st, "ok") == 0;
    }
    csi_reply_ok(r, &resp.base);
}
