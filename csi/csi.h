/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every slio-csi service shares: the command line's settings, the REST
 * client of slio-controller and the paths the node half reads (made
 * configurable so tests can point them at fixture trees).
 */
#ifndef CSI_CSI_H
#define CSI_CSI_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "slio/nqn.h"

#define CSI_PLUGIN_NAME   "csi.sliteio.io"
#define CSI_TOPOLOGY_NODE "topology.sliteio.io/node"
#define CSI_TOPOLOGY_RACK "topology.sliteio.io/rack"
#define CSI_TOPOLOGY_ZONE "topology.sliteio.io/zone"
#define CSI_NAME_MAX      128 /* volume and snapshot names (the REST limit) */
#define CSI_LABEL_MAX     63
#define CSI_PATH_MAX      4096

enum csi_mode {
    CSI_MODE_CONTROLLER = 1u << 0,
    CSI_MODE_NODE = 1u << 1,
    CSI_MODE_ALL = CSI_MODE_CONTROLLER | CSI_MODE_NODE,
};

struct csi_node_config {
    char node_id[64];
    char rack[CSI_LABEL_MAX + 1];
    char zone[CSI_LABEL_MAX + 1];
    int64_t max_volumes;           /* NodeGetInfo; 0 = no limit */
    char host_nqn[SLIO_NQN_BUF];   /* this node's NVMe host NQN */
    char sysfs_root[PATH_MAX];     /* "/sys" */
    char mountinfo[PATH_MAX];      /* "/proc/self/mountinfo" */
    char dev_root[PATH_MAX];       /* "/dev" */
    uint32_t attach_timeout_ms;    /* wait for the attachment to be ready */
    uint32_t namespace_timeout_ms; /* wait for the namespace after nvme connect */
    uint32_t ctrl_loss_tmo_s;      /* nvme connect --ctrl-loss-tmo */
    uint32_t reconnect_delay_s;    /* nvme connect --reconnect-delay */
};

struct slio_http_client;

struct csi_ctx {
    unsigned mode; /* enum csi_mode bits */
    struct slio_http_client *rest;
    struct csi_node_config node;
    char state_dir[PATH_MAX];
};

#endif
