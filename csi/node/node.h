/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node half's helpers. Nothing is remembered between calls: what is
 * staged or published is read back from mountinfo, which NVMe controllers
 * serve a volume from sysfs, so a restarted plugin sees what the last one
 * left. Every command runs through slio_exec (replayed in the unit tests);
 * the sysfs root and the mountinfo path are settings (fixtures in tests).
 */
#ifndef CSI_NODE_NODE_H
#define CSI_NODE_NODE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csi.h"
#include "csi.pb-c.h"
#include "slio/error.h"

#define CSI_BLOCK_FILE     "block" /* block mode: the device is bind-mounted on <staging>/block */
#define CSI_NVME_CTRLS_MAX 16

/* ---- mount.c ---- */
struct csi_mount {
    char source[PATH_MAX];
    char fstype[64];
    bool read_only;
};

/*
 * Look up the mount at mountpoint in the mountinfo file (octal escapes
 * decoded). 0 with *ret (may be NULL), -ENOENT when nothing is mounted
 * there, -EINVAL/-errno when the file cannot be read or parsed.
 */
int csi_mount_find(const char *mountinfo, const char *mountpoint,
                   struct csi_mount *ret) _must_check_;
/* Parse one mountinfo line; 0 with the mount point and the mount, -EINVAL if malformed. */
int csi_mountinfo_parse_line(char *line, char *ret_point, size_t point_len,
                             struct csi_mount *ret) _must_check_;

/*
 * Run argv through slio_exec with a timeout; 0 when it exited 0, else -EIO
 * with "argv: exited with status N: <stderr>" in err. out (may be NULL)
 * receives stdout (malloc'd) on success.
 */
int csi_run(const char *const *argv, uint32_t timeout_ms, char **out,
            struct slio_err *err) _must_check_;
/* Exit status of argv (-errno when it could not run); stdout in *out when not NULL. */
int csi_run_status(const char *const *argv, uint32_t timeout_ms, char **out,
                   struct slio_err *err) _must_check_;

/* An absolute, NUL-free, bounded path with no ".." component. */
bool csi_path_ok(const char *p);
/*
 * The volume_id/volume_path pair of NodeExpandVolume and NodeGetVolumeStats:
 * both present, the path clean (csi_path_ok). 0, or -EINVAL after replying
 * INVALID_ARGUMENT on r.
 */
struct csi_reply;
int csi_volume_path_args(struct csi_reply *r, const char *volume_id, const char *volume_path);

/* ---- nvme.c ---- */
/* "nqn.2024-01.io.slite:vol:<id>" for a volume id. -EINVAL if id is not a UUID. */
int csi_volume_nqn(const char *volume_id, char ret[static SLIO_NQN_BUF]) _must_check_;
/* Controllers (names "nvme3") whose subsysnqn is nqn; *ret_n of them, with their state. */
int csi_nvme_ctrls(const char *sysfs, const char *nqn, char names[][32], char states[][32],
                   size_t max, size_t *ret_n) _must_check_;
/* The block device of the namespace whose uuid is ns_uuid: "nvme3n1". -ENOENT when absent. */
int csi_nvme_find_ns(const char *sysfs, const char *ns_uuid, char ret[static 32]) _must_check_;
/* Poll csi_nvme_find_ns until deadline_ms (CLOCK_MONOTONIC). -ETIMEDOUT. */
int csi_nvme_wait_ns(const char *sysfs, const char *ns_uuid, int64_t deadline_ms,
                     char ret[static 32]) _must_check_;
/* nvme connect over TCP with this node's host NQN, the reconnect settings and, when
 * keys->host is set, DH-HMAC-CHAP (keys may be NULL: none). */
struct csi_dhchap;
int csi_nvme_connect(const struct csi_node_config *cfg, const char *nqn, const char *traddr,
                     const char *trsvcid, const struct csi_dhchap *keys,
                     struct slio_err *err) _must_check_;
/* nvme disconnect -d of every controller of this NQN (and only those). */
int csi_nvme_disconnect(const struct csi_node_config *cfg, const char *nqn,
                        struct slio_err *err) _must_check_;

/* ---- dhchap.c ---- */
#define CSI_SECRET_DHCHAP      "dhchapSecret"
#define CSI_SECRET_DHCHAP_CTRL "dhchapCtrlSecret"

/* DH-HMAC-CHAP secrets of one stage; borrowed from the request. NULL: not given. */
struct csi_dhchap {
    const char *host; /* this host's secret */
    const char *ctrl; /* the target's (bidirectional) */
};
/* slio_dhchap_secret_valid (slio/nqn.h). */
bool csi_dhchap_secret_ok(const char *s);
/*
 * The secrets of a NodeStageVolume request (other keys ignored). 0 with *ret,
 * or -EINVAL with the reason in why — naming the key, never quoting its value.
 */
int csi_dhchap_from_secrets(Csi__V1__NodeStageVolumeRequest__SecretsEntry *const *secrets, size_t n,
                            struct csi_dhchap *ret, char *why, size_t why_len) _must_check_;

#endif
