/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NodeStageVolume / NodeUnstageVolume.
 *
 * Stage: ask slio-controller for an attachment of the volume to this node and
 * wait until it is ready; a local one names the LV's device, a remote one an
 * NVMe/TCP subsystem we connect to, finding the namespace by its UUID. A
 * filesystem volume is formatted only when blank and mounted on the staging
 * path; a block volume's device is bind-mounted on <staging>/block.
 * Unstage undoes that in reverse and disconnects exactly this volume's
 * controllers. Both are idempotent and read the state from the system.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLIO_LOG_COMPONENT "csi"
#include "controller/convert.h"
#include "node/node.h"
#include "rest.h"
#include "services.h"
#include "slio/json.h"
#include "slio/log.h"

#define MKFS_ARGS_MAX 32

/* Common checks of a stage/unstage/publish request. */
static int check_ids(struct csi_reply *r, const char *volume_id, const char *path,
                     const char *path_name)
{
    if (!volume_id[0])
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_id missing"), -EINVAL;
    if (!path[0])
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "%s missing", path_name), -EINVAL;
    if (!csi_path_ok(path))
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT,
                              "%s \"%.128s\": not a clean absolute path", path_name, path),
               -EINVAL;
    return 0;
}

/* POST the attachment, then poll it until ready (the REST API has no watch). */
static int attach(struct csi_ctx *ctx, struct csi_reply *r, const char *id, json_t **ret)
{
    char path[160], what[80];
    snprintf(path, sizeof(path), "/v1/volumes/%s/attachments", id);
    snprintf(what, sizeof(what), "attachment of volume %s", id);
    _cleanup_(slio_json_decrefp) json_t *body = json_pack("{s:s}", "node", ctx->node.node_id);
    if (ctx->node.host_nqn[0])
        json_object_set_new(body, "host_nqn", json_string(ctx->node.host_nqn));
    unsigned status, step = 0;
    json_t *att = NULL;
    if (csi_rest_call(ctx, r, "POST", path, body, &status, &att) < 0)
        return -EIO;
    snprintf(path, sizeof(path), "/v1/volumes/%s/attachments/%s", id, ctx->node.node_id);
    int64_t until = csi_now_ms() + ctx->node.attach_timeout_ms;
    for (;;) {
        if (status == 409) { /* single-node access: attached elsewhere */
            csi_rest_fail_code(r, GRPC_STATUS_FAILED_PRECONDITION, att, what);
            break;
        }
        if (status != 200) {
            csi_rest_fail(r, status, att, what);
            break;
        }
        const char *phase = csi_json_str(att, "phase");
        if (strcmp(phase, "ready") == 0) {
            *ret = att;
            return 0;
        }
        if (strcmp(phase, "failed") == 0) {
            csi_reply_fail(r, GRPC_STATUS_INTERNAL, "%s failed: %s", what,
                           csi_json_str(att, "message"));
            break;
        }
        if (!csi_backoff_wait(r, &step, until)) {
            csi_reply_fail(r, GRPC_STATUS_DEADLINE_EXCEEDED, "%s still %s", what, phase);
            break;
        }
        json_decref(att);
        att = NULL;
        if (csi_rest_call(ctx, r, "GET", path, NULL, &status, &att) < 0)
            return -EIO;
    }
    json_decref(att);
    return -EIO;
}

/* The device of a ready attachment: the LV (local) or the connected namespace. */
static int attachment_device(struct csi_ctx *ctx, struct csi_reply *r, const char *id,
                             const json_t *att, const struct csi_dhchap *keys, char *dev,
                             size_t len)
{
    struct slio_err err = {0};
    if (json_is_true(json_object_get(att, "local"))) {
        const char *d = csi_json_str(att, "device");
        if (!csi_path_ok(d) || strlen(d) >= len)
            return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "volume %s: bad device \"%.128s\"", id,
                                  d),
                   -EINVAL;
        memcpy(dev, d, strlen(d) + 1);
        return 0;
    }
    const json_t *addr = json_object_get(att, "address");
    const char *nqn = csi_json_str(att, "nqn"), *ns = csi_json_str(att, "namespace_uuid");
    if (slio_nqn_validate(nqn) < 0 || !csi_is_uuid(ns[0] ? ns : id))
        return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "volume %s: attachment without a valid NQN",
                              id),
               -EINVAL;
    char names[CSI_NVME_CTRLS_MAX][32], states[CSI_NVME_CTRLS_MAX][32], name[32];
    size_t n = 0;
    if (csi_nvme_ctrls(ctx->node.sysfs_root, nqn, names, states, CSI_NVME_CTRLS_MAX, &n) == 0 &&
        n == 0 &&
        csi_nvme_connect(&ctx->node, nqn, csi_json_str(addr, "traddr"),
                         csi_json_str(addr, "trsvcid"), keys, &err) < 0)
        return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "volume %s: %s", id, err.text), -EIO;
    int64_t deadline = csi_now_ms() + ctx->node.namespace_timeout_ms;
    if (r->deadline_ms < deadline)
        deadline = r->deadline_ms;
    int rc = csi_nvme_wait_ns(ctx->node.sysfs_root, ns[0] ? ns : id, deadline, name);
    if (rc < 0)
        return csi_reply_fail(r, GRPC_STATUS_DEADLINE_EXCEEDED,
                              "volume %s: no namespace %s appeared after nvme connect", id, ns),
               rc;
    snprintf(dev, len, "%s/%s", ctx->node.dev_root, name);
    return 0;
}

/* ext4 or xfs on a blank device (blkid exit 2 = nothing found); a device that has one keeps it. */
static int ensure_fs(struct csi_reply *r, const char *dev, const char *fs, const char *mkfs_opts)
{
    struct slio_err err = {0};
    _cleanup_free_ char *found = NULL;
    const char *blkid[] = {"blkid", "-p", "-o", "value", "-s", "TYPE", dev, NULL};
    int st = csi_run_status(blkid, 30000, &found, &err);
    if (st == 0) {
        found[strcspn(found, "\n")] = '\0';
        if (strcmp(found, fs) == 0)
            return 0;
        return csi_reply_fail(r, GRPC_STATUS_FAILED_PRECONDITION,
                              "device %s holds \"%.32s\", not %s: refusing to format it", dev,
                              found, fs),
               -EEXIST;
    }
    if (st != 2)
        return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "blkid %s: %s", dev,
                              st < 0 ? err.text : "failed"),
               -EIO;
    char prog[16], opts[CSI_PATH_MAX];
    const char *argv[MKFS_ARGS_MAX + 4];
    size_t n = 0;
    snprintf(prog, sizeof(prog), "mkfs.%s", fs);
    snprintf(opts, sizeof(opts), "%s", mkfs_opts ? mkfs_opts : "");
    argv[n++] = prog;
    char *save = NULL;
    for (char *t = strtok_r(opts, " ", &save); t && n < MKFS_ARGS_MAX;
         t = strtok_r(NULL, " ", &save))
        argv[n++] = t;
    argv[n++] = dev;
    argv[n] = NULL;
    if (csi_run(argv, 600000, NULL, &err) < 0)
        return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "%s", err.text), -EIO;
    return 0;
}

/* The value of a volume_context key ("" when absent). */
static const char *context_value(const Csi__V1__NodeStageVolumeRequest *q, const char *key)
{
    for (size_t i = 0; i < q->n_volume_context; i++)
        if (strcmp(q->volume_context[i]->key, key) == 0)
            return q->volume_context[i]->value;
    return "";
}

static int stage_block(struct csi_reply *r, const char *dev, const char *staging)
{
    char file[CSI_PATH_MAX + 8];
    struct slio_err err = {0};
    snprintf(file, sizeof(file), "%s/%s", staging, CSI_BLOCK_FILE);
    if (mkdir(staging, 0750) < 0 && errno != EEXIST)
        return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "mkdir %s: %s", staging, strerror(errno)),
               -errno;
    int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "create %s: %s", file, strerror(errno)),
               -errno;
    close(fd);
    const char *argv[] = {"mount", "--bind", dev, file, NULL};
    if (csi_run(argv, 30000, NULL, &err) < 0)
        return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "%s", err.text), -EIO;
    return 0;
}

static int stage_fs(struct csi_reply *r, const Csi__V1__NodeStageVolumeRequest *q, const char *dev)
{
    const Csi__V1__VolumeCapability__MountVolume *m = q->volume_capability->mount;
    const char *fs = m->fs_type[0] ? m->fs_type : context_value(q, "fsType");
    if (!fs[0])
        fs = "ext4";
    if (ensure_fs(r, dev, fs, context_value(q, "mkfsOptions")) < 0)
        return -EIO;
    if (mkdir(q->staging_target_path, 0750) < 0 && errno != EEXIST)
        return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "mkdir %s: %s", q->staging_target_path,
                              strerror(errno)),
               -errno;
    char opts[1024] = "defaults";
    size_t used = strlen(opts);
    for (size_t i = 0; i < m->n_mount_flags && used < sizeof(opts); i++)
        used += (size_t)snprintf(opts + used, sizeof(opts) - used, ",%s", m->mount_flags[i]);
    if (used >= sizeof(opts))
        return csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "mount_flags too long"), -EINVAL;
    struct slio_err err = {0};
    const char *argv[] = {"mount", "-t", fs, "-o", opts, dev, q->staging_target_path, NULL};
    if (csi_run(argv, 60000, NULL, &err) < 0)
        return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "%s", err.text), -EIO;
    return 0;
}

CSI_HANDLER(node_stage_volume)
{
    const Csi__V1__NodeStageVolumeRequest *q = req;
    Csi__V1__NodeStageVolumeResponse resp = CSI__V1__NODE_STAGE_VOLUME_RESPONSE__INIT;
    char why[160], point[CSI_PATH_MAX + 8], dev[CSI_PATH_MAX];
    if (check_ids(r, q->volume_id, q->staging_target_path, "staging_target_path") < 0)
        return;
    if (!q->volume_capability)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_capability missing");
    if (csi_capability_check(q->volume_capability, why, sizeof(why)) < 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "volume_capability: %s", why);
    if (!csi_is_uuid(q->volume_id))
        return (void)csi_reply_fail(r, GRPC_STATUS_NOT_FOUND, "volume \"%.64s\" not found",
                                    q->volume_id);
    struct csi_dhchap keys;
    if (csi_dhchap_from_secrets(q->secrets, q->n_secrets, &keys, why, sizeof(why)) < 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_INVALID_ARGUMENT, "%s", why);
    bool block =
        q->volume_capability->access_type_case == CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
    snprintf(point, sizeof(point), "%s%s%s", q->staging_target_path, block ? "/" : "",
             block ? CSI_BLOCK_FILE : "");
    if (csi_mount_find(ctx->node.mountinfo, point, NULL) == 0)
        return csi_reply_ok(r, &resp.base); /* staged already */
    _cleanup_(slio_json_decrefp) json_t *att = NULL;
    if (attach(ctx, r, q->volume_id, &att) < 0 ||
        attachment_device(ctx, r, q->volume_id, att, &keys, dev, sizeof(dev)) < 0)
        return;
    int rc = block ? stage_block(r, dev, q->staging_target_path) : stage_fs(r, q, dev);
    if (rc < 0)
        return;
    log_info("volume %s: staged %s on %s", q->volume_id, dev, point);
    csi_reply_ok(r, &resp.base);
}

static int umount_if_mounted(struct csi_ctx *ctx, struct csi_reply *r, const char *point)
{
    struct slio_err err = {0};
    if (csi_mount_find(ctx->node.mountinfo, point, NULL) != 0)
        return 0;
    const char *argv[] = {"umount", point, NULL};
    if (csi_run(argv, 60000, NULL, &err) < 0)
        return csi_reply_fail(r, GRPC_STATUS_INTERNAL, "%s", err.text), -EIO;
    return 0;
}

CSI_HANDLER(node_unstage_volume)
{
    const Csi__V1__NodeUnstageVolumeRequest *q = req;
    Csi__V1__NodeUnstageVolumeResponse resp = CSI__V1__NODE_UNSTAGE_VOLUME_RESPONSE__INIT;
    char block[CSI_PATH_MAX + 8], nqn[SLIO_NQN_BUF], path[160];
    struct slio_err err = {0};
    if (check_ids(r, q->volume_id, q->staging_target_path, "staging_target_path") < 0)
        return;
    if (!csi_is_uuid(q->volume_id))
        return (void)csi_reply_fail(r, GRPC_STATUS_NOT_FOUND, "volume \"%.64s\" not found",
                                    q->volume_id);
    snprintf(block, sizeof(block), "%s/%s", q->staging_target_path, CSI_BLOCK_FILE);
    if (umount_if_mounted(ctx, r, block) < 0 ||
        umount_if_mounted(ctx, r, q->staging_target_path) < 0)
        return;
    (void)unlink(block);
    if (csi_volume_nqn(q->volume_id, nqn) == 0 && csi_nvme_disconnect(&ctx->node, nqn, &err) < 0)
        return (void)csi_reply_fail(r, GRPC_STATUS_INTERNAL, "volume %s: %s", q->volume_id,
                                    err.text);
    snprintf(path, sizeof(path), "/v1/volumes/%s/attachments/%s", q->volume_id, ctx->node.node_id);
    unsigned status;
    _cleanup_(slio_json_decrefp) json_t *ans = NULL;
    if (csi_rest_call(ctx, r, "DELETE", path, NULL, &status, &ans) < 0)
        return;
    if (status / 100 != 2 && status != 404)
        return (void)csi_rest_fail(r, status, ans, "detach");
    log_info("volume %s: unstaged from %s", q->volume_id, q->staging_target_path);
    csi_reply_ok(r, &resp.base);
}
