/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which RPC runs which handler, decoding which message, serialised on which
 * key (the volume or snapshot the call is about; CSI wants ABORTED for a
 * second call on an object while one is in flight).
 */
#include <string.h>
#include <time.h>

#include "services.h"

#define KEY_FN(fname, type, member)                                                                \
    static const char *fname(const void *req)                                                      \
    {                                                                                              \
        return ((const type *)req)->member;                                                        \
    }

KEY_FN(key_create_volume, Csi__V1__CreateVolumeRequest, name)
KEY_FN(key_delete_volume, Csi__V1__DeleteVolumeRequest, volume_id)
KEY_FN(key_expand, Csi__V1__ControllerExpandVolumeRequest, volume_id)
KEY_FN(key_create_snapshot, Csi__V1__CreateSnapshotRequest, name)
KEY_FN(key_delete_snapshot, Csi__V1__DeleteSnapshotRequest, snapshot_id)
KEY_FN(key_stage, Csi__V1__NodeStageVolumeRequest, volume_id)
KEY_FN(key_unstage, Csi__V1__NodeUnstageVolumeRequest, volume_id)
KEY_FN(key_publish, Csi__V1__NodePublishVolumeRequest, volume_id)
KEY_FN(key_unpublish, Csi__V1__NodeUnpublishVolumeRequest, volume_id)
KEY_FN(key_node_expand, Csi__V1__NodeExpandVolumeRequest, volume_id)

#define M(svc, name, msg, handler, key)                                                            \
    {                                                                                              \
        "/csi.v1." svc "/" name, &csi__v1__##msg##__descriptor, csi_##handler, key                 \
    }

static const struct csi_method identity_methods[] = {
    M("Identity", "GetPluginInfo", get_plugin_info_request, get_plugin_info, NULL),
    M("Identity", "GetPluginCapabilities", get_plugin_capabilities_request, get_plugin_capabilities,
      NULL),
    M("Identity", "Probe", probe_request, probe, NULL),
};

static const struct csi_method controller_methods[] = {
    M("Controller", "CreateVolume", create_volume_request, create_volume, key_create_volume),
    M("Controller", "DeleteVolume", delete_volume_request, delete_volume, key_delete_volume),
    M("Controller", "ControllerExpandVolume", controller_expand_volume_request,
      controller_expand_volume, key_expand),
    M("Controller", "ControllerGetVolume", controller_get_volume_request, controller_get_volume,
      NULL),
    M("Controller", "ValidateVolumeCapabilities", validate_volume_capabilities_request,
      validate_volume_capabilities, NULL),
    M("Controller", "ListVolumes", list_volumes_request, list_volumes, NULL),
    M("Controller", "GetCapacity", get_capacity_request, get_capacity, NULL),
    M("Controller", "ControllerGetCapabilities", controller_get_capabilities_request,
      controller_get_capabilities, NULL),
    M("Controller", "CreateSnapshot", create_snapshot_request, create_snapshot,
      key_create_snapshot),
    M("Controller", "DeleteSnapshot", delete_snapshot_request, delete_snapshot,
      key_delete_snapshot),
    M("Controller", "ListSnapshots", list_snapshots_request, list_snapshots, NULL),
};

static const struct csi_method node_methods[] = {
    M("Node", "NodeStageVolume", node_stage_volume_request, node_stage_volume, key_stage),
    M("Node", "NodeUnstageVolume", node_unstage_volume_request, node_unstage_volume, key_unstage),
    M("Node", "NodePublishVolume", node_publish_volume_request, node_publish_volume, key_publish),
    M("Node", "NodeUnpublishVolume", node_unpublish_volume_request, node_unpublish_volume,
      key_unpublish),
    M("Node", "NodeGetVolumeStats", node_get_volume_stats_request, node_get_volume_stats, NULL),
    M("Node", "NodeExpandVolume", node_expand_volume_request, node_expand_volume, key_node_expand),
    M("Node", "NodeGetCapabilities", node_get_capabilities_request, node_get_capabilities, NULL),
    M("Node", "NodeGetInfo", node_get_info_request, node_get_info, NULL),
};

#define N_ALL                                                                                      \
    (SLIO_ARRAY_SIZE(identity_methods) + SLIO_ARRAY_SIZE(controller_methods) +                     \
     SLIO_ARRAY_SIZE(node_methods))

const struct csi_method *csi_methods(unsigned mode, size_t *ret_n)
{
    /* Built once, before any thread serves (main calls this first). */
    static struct csi_method table[N_ALL];
    size_t n = 0;
    memcpy(table, identity_methods, sizeof(identity_methods));
    n += SLIO_ARRAY_SIZE(identity_methods);
    if (mode & CSI_MODE_CONTROLLER) {
        memcpy(table + n, controller_methods, sizeof(controller_methods));
        n += SLIO_ARRAY_SIZE(controller_methods);
    }
    if (mode & CSI_MODE_NODE) {
        memcpy(table + n, node_methods, sizeof(node_methods));
        n += SLIO_ARRAY_SIZE(node_methods);
    }
    *ret_n = n;
    return table;
}

int csi_capability_check(const Csi__V1__VolumeCapability *c, char *why, size_t why_len)
{
    if (!c->access_mode) {
        snprintf(why, why_len, "volume capability without access_mode");
        return -EINVAL;
    }
    switch (c->access_mode->mode) {
    case CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER:
    case CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_READER_ONLY:
    case CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_SINGLE_WRITER:
        break;
    default:
        snprintf(why, why_len, "access mode %d: only single-node modes are supported",
                 (int)c->access_mode->mode);
        return -EINVAL;
    }
    switch (c->access_type_case) {
    case CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK:
        return 0;
    case CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT: {
        const char *fs = c->mount->fs_type;
        if (fs[0] && strcmp(fs, "ext4") != 0 && strcmp(fs, "xfs") != 0) {
            snprintf(why, why_len, "fs_type \"%.32s\": only ext4 and xfs", fs);
            return -EINVAL;
        }
        return 0;
    }
    default:
        snprintf(why, why_len, "volume capability is neither block nor mount");
        return -EINVAL;
    }
}

bool csi_backoff_wait(struct csi_reply *r, unsigned *step, int64_t until_ms)
{
    uint32_t pause = 5u << (*step < 6 ? *step : 6);
    if (pause > 200)
        pause = 200;
    int64_t end = r->deadline_ms < until_ms ? r->deadline_ms : until_ms;
    if (end - csi_now_ms() <= (int64_t)pause)
        return false;
    (*step)++;
    struct timespec ts = {.tv_sec = pause / 1000, .tv_nsec = (long)(pause % 1000) * 1000000};
    nanosleep(&ts, NULL);
    return true;
}
