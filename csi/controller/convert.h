/* SPDX-License-Identifier: Apache-2.0 */
/* REST objects (api/openapi.yaml Volume, Snapshot) → CSI messages, built in an arena. */
#ifndef CSI_CONTROLLER_CONVERT_H
#define CSI_CONTROLLER_CONVERT_H

#include <jansson.h>

#include "arena.h"
#include "csi.pb-c.h"

/* volume_context carries extra (key, value) pairs (n_extra of them; values may be ""). */
Csi__V1__Volume *csi_volume_from_rest(struct csi_arena *a, const json_t *v,
                                      const char *const *extra_keys,
                                      const char *const *extra_values, size_t n_extra);
Csi__V1__Snapshot *csi_snapshot_from_rest(struct csi_arena *a, const json_t *s);
/* Nodes the volume is attached to (attachments[].node). */
char **csi_published_nodes(struct csi_arena *a, const json_t *v, size_t *ret_n);
/* abnormal when failed or degraded, with the controller's message. */
Csi__V1__VolumeCondition *csi_volume_condition(struct csi_arena *a, const json_t *v);
/* Topology of one node name. */
Csi__V1__Topology *csi_topology_node(struct csi_arena *a, const char *node);

/* The string member of a JSON object, "" when absent or not a string. */
const char *csi_json_str(const json_t *o, const char *key);

/*
 * "limit=N[&continue=T]" for a CSI max_entries/starting_token pair (0 = the
 * REST maximum, 1000); the token is escaped. -EINVAL when it is too long.
 */
int csi_page_query(int32_t max_entries, const char *token, char *buf, size_t len) _must_check_;

#endif
