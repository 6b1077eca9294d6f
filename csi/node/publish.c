/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NodePublishVolume / NodeUnpublishVolume: a bind mount of the staged
 * filesystem (a directory) or of the staged device (a file), read-only when
 * asked. Idempotent: what is mounted where is read from mountinfo.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLIO_LOG_COMPONENT "csi"
#include "node/node.h"
#include "services.h"
#include "slio/log.h"

static int path_arg(struct csi_reply *r, const char *p, const char *name)
{
    if (!p[0])
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "%s missing", name), -EINVAL;
    if (!csi_path_ok(p))
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "%s: not a clean absolute path",
                              name),
               -EINVAL;
    return 0;
}

static int make_target(struct csi_reply *r, const char *target, bool block)
{
    if (block) {
        int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
            return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "create %s: %s", target,
                                  strerror(errno)),
                   -errno;
        close(fd);
    } else if (mkdir(target, 0750) < 0 && errno != EEXIST) {
        return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "mkdir %s: %s", target, strerror(errno)),
               -errno;
    }
    return 0;
}

CSI_HANDLER(node_publish_volume)
{
    const Csi__V1__NodePublishVolumeRequest *q = req;
    Csi__V1__NodePublishVolumeResponse resp = CSI__V1__NODE_PUBLISH_VOLUME_RESPONSE__INIT;
    char why[160], src[CSI_PATH_MAX + 8];
    struct csi_mount m;
    struct slio_err err = {0};
    if (!q->volume_id[0])
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_id missing");
    if (path_arg(r, q->staging_target_path, "staging_target_path") < 0 ||
        path_arg(r, q->target_path, "target_path") < 0)
        return;
    if (!q->volume_capability)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_capability missing");
    if (csi_capability_check(q->volume_capability, why, sizeof(why)) < 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_capability: %s", why);
    bool block =
        q->volume_capability->access_type_case == CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
    bool ro =
        q->readonly || q->volume_capability->access_mode->mode ==
                           CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_READER_ONLY;
    snprintf(src, sizeof(src), "%s%s%s", q->staging_target_path, block ? "/" : "",
             block ? CSI_BLOCK_FILE : "");
    if (csi_mount_find(ctx->node.mountinfo, q->target_path, &m) == 0) {
        if (m.read_only != ro)
            return (void)csi_reply_fail(r, GRPC_STATUS_ALREADY_EXISTS, "%s is published %s already",
                                        q->target_path, m.read_only ? "read-only" : "read-write");
        return csi_reply_ok(r, &resp.base);
    }
    if (csi_mount_find(ctx->node.mountinfo, src, NULL) != 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_FAILED_PRECONDITION,
                                    "volume %s is not staged at %s", q->volume_id, src);
    if (make_target(r, q->target_path, block) < 0)
        return;
    const char *bind[] = {"mount", "--bind", src, q->target_path, NULL};
    const char *remount[] = {"mount", "-o", "remount,bind,ro", q->target_path, NULL};
    if (csi_run(bind, 30000, NULL, &err) < 0 || (ro && csi_run(remount, 30000, NULL, &err) < 0))
        return (void)csi_reply_fail(r, GRPC_STATUS_INTERNAL, "%s", err.text);
    log_info("volume %s: published on %s%s", q->volume_id, q->target_path,
             ro ? " (read-only)" : "");
    csi_reply_ok(r, &resp.base);
}

CSI_HANDLER(node_unpublish_volume)
{
    const Csi__V1__NodeUnpublishVolumeRequest *q = req;
    Csi__V1__NodeUnpublishVolumeResponse resp = CSI__V1__NODE_UNPUBLISH_VOLUME_RESPONSE__INIT;
    struct slio_err err = {0};
    if (!q->volume_id[0])
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_id missing");
    if (path_arg(r, q->target_path, "target_path") < 0)
        return;
    if (csi_mount_find(ctx->node.mountinfo, q->target_path, NULL) == 0) {
        const char *argv[] = {"umount", q->target_path, NULL};
        if (csi_run(argv, 60000, NULL, &err) < 0)
            return (void)csi_reply_fail(r, GRPC_STATUS_INTERNAL, "%s", err.text);
    }
    /* The CO created neither: a directory (filesystem) or a file (block). */
    if (rmdir(q->target_path) < 0 && errno == ENOTDIR)
        (void)unlink(q->target_path);
    csi_reply_ok(r, &resp.base);
}
