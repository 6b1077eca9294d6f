/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NodeExpandVolume: the controller already grew the LV and the target told
 * connected hosts; here the initiator rescans the namespace and the
 * filesystem grows online (resize2fs for ext4, xfs_growfs for xfs).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "node/node.h"
#include "services.h"

int csi_device_size(const char *dev, int64_t *ret, struct slio_err *err);

static int rescan(struct csi_ctx *ctx, const char *id, struct slio_err *err)
{
    char nqn[SLIO_NQN_BUF], names[CSI_NVME_CTRLS_MAX][32], states[CSI_NVME_CTRLS_MAX][32];
    size_t n = 0;
    if (csi_volume_nqn(id, nqn) < 0 ||
        csi_nvme_ctrls(ctx->node.sysfs_root, nqn, names, states, CSI_NVME_CTRLS_MAX, &n) < 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char dev[PATH_MAX];
        snprintf(dev, sizeof(dev), "%s/%s", ctx->node.dev_root, names[i]);
        const char *argv[] = {"nvme", "ns-rescan", dev, NULL};
        int r = csi_run(argv, 30000, NULL, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/*
 * A file-engine volume mounted through a loop device (mount sets one up for
 * a regular file): the loop device learns the file's new size from
 * `losetup -c`, as a namespace does from a rescan.
 */
static int refresh_loop(const struct csi_mount *m, struct slio_err *err)
{
    if (strncmp(m->source, "/dev/loop", 9) != 0)
        return 0;
    const char *argv[] = {"losetup", "-c", m->source, NULL};
    return csi_run(argv, 30000, NULL, err);
}

static int grow_fs(const struct csi_mount *m, const char *path, struct slio_err *err)
{
    if (strcmp(m->fstype, "ext4") == 0) {
        const char *argv[] = {"resize2fs", m->source, NULL};
        return csi_run(argv, 600000, NULL, err);
    }
    if (strcmp(m->fstype, "xfs") == 0) {
        const char *argv[] = {"xfs_growfs", path, NULL};
        return csi_run(argv, 600000, NULL, err);
    }
    return 0; /* a block device's bind mount: nothing to grow */
}

CSI_HANDLER(node_expand_volume)
{
    const Csi__V1__NodeExpandVolumeRequest *q = req;
    struct csi_mount m;
    struct slio_err err = {0};
    if (csi_volume_path_args(r, q->volume_id, q->volume_path) < 0)
        return;
    struct stat st;
    if (stat(q->volume_path, &st) < 0 ||
        csi_mount_find(ctx->node.mountinfo, q->volume_path, &m) != 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_NOT_FOUND, "volume %s: nothing mounted at %s",
                                    q->volume_id, q->volume_path);
    /* A block volume is published on a file or device node: its mount's
     * source and fstype are those of the filesystem the node lives on (a
     * bind mount), never something to grow. Only a directory is our fs. */
    bool fs = S_ISDIR(st.st_mode);
    if (rescan(ctx, q->volume_id, &err) < 0 || (fs && refresh_loop(&m, &err) < 0) ||
        (fs && grow_fs(&m, q->volume_path, &err) < 0))
        return (void)csi_reply_fail(r, GRPC_STATUS_INTERNAL, "volume %s: %s", q->volume_id,
                                    err.text);
    Csi__V1__NodeExpandVolumeResponse resp = CSI__V1__NODE_EXPAND_VOLUME_RESPONSE__INIT;
    if (csi_device_size(fs ? m.source : q->volume_path, &resp.capacity_bytes, &err) < 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_INTERNAL, "volume %s: %s", q->volume_id,
                                    err.text);
    csi_reply_ok(r, &resp.base);
}
