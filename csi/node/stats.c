/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NodeGetVolumeStats: bytes and inodes of a published filesystem (statvfs),
 * the size of a published block device, and a condition that is abnormal
 * when the path is no longer a mount or the volume's NVMe controllers are
 * not live (the target died, the network is cut).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "node/node.h"
#include "services.h"
#include "slio/parse.h"

/*
 * Size of a block device through blockdev (the node image has it); a regular
 * file (the file engine's volume, bind-mounted) is its length.
 */
int csi_device_size(const char *dev, int64_t *ret, struct slio_err *err);
int csi_device_size(const char *dev, int64_t *ret, struct slio_err *err)
{
    struct stat st;
    if (stat(dev, &st) == 0 && S_ISREG(st.st_mode)) {
        *ret = (int64_t)st.st_size;
        return 0;
    }
    _cleanup_free_ char *out = NULL;
    const char *argv[] = {"blockdev", "--getsize64", dev, NULL};
    int r = csi_run(argv, 30000, &out, err);
    if (r < 0)
        return r;
    out[strcspn(out, "\n")] = '\0';
    uint64_t v;
    if (slio_parse_u64(out, 0, INT64_MAX, &v) < 0) {
        slio_err_set(err, "blockdev --getsize64 %s: \"%.32s\" is not a size", dev, out);
        return -EINVAL;
    }
    *ret = (int64_t)v;
    return 0;
}

/* Why the volume is unhealthy, or "" when it is not. */
static void condition(struct csi_ctx *ctx, const char *id, const char *path, char *why, size_t len)
{
    char nqn[SLIO_NQN_BUF], names[CSI_NVME_CTRLS_MAX][32], states[CSI_NVME_CTRLS_MAX][32];
    size_t n = 0, live = 0;
    why[0] = '\0';
    if (csi_mount_find(ctx->node.mountinfo, path, NULL) != 0) {
        snprintf(why, len, "%s is not mounted", path);
        return;
    }
    if (csi_volume_nqn(id, nqn) < 0 ||
        csi_nvme_ctrls(ctx->node.sysfs_root, nqn, names, states, CSI_NVME_CTRLS_MAX, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        live += strcmp(states[i], "live") == 0;
    if (n > 0 && live == 0)
        snprintf(why, len, "NVMe controller %s of %s is %s", names[0], nqn, states[0]);
}

static Csi__V1__VolumeUsage usage(Csi__V1__VolumeUsage__Unit unit, int64_t total, int64_t avail,
                                  int64_t used)
{
    Csi__V1__VolumeUsage u = CSI__V1__VOLUME_USAGE__INIT;
    u.unit = unit;
    u.total = total;
    u.available = avail;
    u.used = used;
    return u;
}

CSI_HANDLER(node_get_volume_stats)
{
    const Csi__V1__NodeGetVolumeStatsRequest *q = req;
    struct stat st;
    if (csi_volume_path_args(r, q->volume_id, q->volume_path) < 0)
        return;
    if (stat(q->volume_path, &st) < 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_NOT_FOUND, "volume_path %s: %s", q->volume_path,
                                    strerror(errno));
    Csi__V1__VolumeUsage u[2], *ptrs[2] = {&u[0], &u[1]};
    Csi__V1__NodeGetVolumeStatsResponse resp = CSI__V1__NODE_GET_VOLUME_STATS_RESPONSE__INIT;
    Csi__V1__VolumeCondition cond = CSI__V1__VOLUME_CONDITION__INIT;
    char why[256];
    condition(ctx, q->volume_id, q->volume_path, why, sizeof(why));
    cond.abnormal = why[0] != '\0';
    cond.message = why[0] ? why : (char *)"healthy";
    resp.volume_condition = &cond;
    resp.usage = ptrs;
    if (S_ISDIR(st.st_mode)) {
        struct statvfs vfs;
        if (statvfs(q->volume_path, &vfs) < 0)
            return (void)csi_reply_fail(r, GRPC_STATUS_INTERNAL, "statvfs %s: %s", q->volume_path,
                                        strerror(errno));
        int64_t bs = (int64_t)vfs.f_frsize;
        u[0] = usage(CSI__V1__VOLUME_USAGE__UNIT__BYTES, (int64_t)vfs.f_blocks * bs,
                     (int64_t)vfs.f_bavail * bs, (int64_t)(vfs.f_blocks - vfs.f_bfree) * bs);
        u[1] = usage(CSI__V1__VOLUME_USAGE__UNIT__INODES, (int64_t)vfs.f_files,
                     (int64_t)vfs.f_favail, (int64_t)(vfs.f_files - vfs.f_ffree));
        resp.n_usage = 2;
    } else {
        int64_t size = 0;
        struct slio_err err = {0};
        if (!cond.abnormal && csi_device_size(q->volume_path, &size, &err) < 0)
            return (void)csi_reply_fail(r, GRPC_STATUS_INTERNAL, "%s", err.text);
        u[0] = usage(CSI__V1__VOLUME_USAGE__UNIT__BYTES, size, 0, 0);
        resp.n_usage = 1;
    }
    csi_reply_ok(r, &resp.base);
}
