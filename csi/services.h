/* SPDX-License-Identifier: Apache-2.0 */
/* The CSI RPC handlers (identity.c, controller/, node/) and the method table. */
#ifndef CSI_SERVICES_H
#define CSI_SERVICES_H

#include "csi.h"
#include "csi.pb-c.h"
#include "grpc/server.h"

#define CSI_HANDLER(name) void csi_##name(struct csi_ctx *ctx, const void *req, struct csi_reply *r)

CSI_HANDLER(get_plugin_info);
CSI_HANDLER(get_plugin_capabilities);
CSI_HANDLER(probe);

CSI_HANDLER(create_volume);
CSI_HANDLER(delete_volume);
CSI_HANDLER(controller_expand_volume);
CSI_HANDLER(controller_get_volume);
CSI_HANDLER(validate_volume_capabilities);
CSI_HANDLER(list_volumes);
CSI_HANDLER(get_capacity);
CSI_HANDLER(controller_get_capabilities);
CSI_HANDLER(create_snapshot);
CSI_HANDLER(delete_snapshot);
CSI_HANDLER(list_snapshots);

CSI_HANDLER(node_stage_volume);
CSI_HANDLER(node_unstage_volume);
CSI_HANDLER(node_publish_volume);
CSI_HANDLER(node_unpublish_volume);
CSI_HANDLER(node_get_volume_stats);
CSI_HANDLER(node_expand_volume);
CSI_HANDLER(node_get_capabilities);
CSI_HANDLER(node_get_info);

/* The methods served in a mode (enum csi_mode bits); *ret_n entries. */
const struct csi_method *csi_methods(unsigned mode, size_t *ret_n);

/*
 * A volume capability we can honour: single-node access modes only, mount
 * with fs_type "", ext4 or xfs, or block. -EINVAL with the reason in why.
 */
int csi_capability_check(const Csi__V1__VolumeCapability *c, char *why, size_t why_len);

/*
 * Pause before the next poll of a state the controller offers no event for
 * (5 ms growing to 200 ms). false, without pausing, when the caller's
 * deadline or until_ms (CLOCK_MONOTONIC ms) would pass first.
 */
bool csi_backoff_wait(struct csi_reply *r, unsigned *step, int64_t until_ms);

#endif
