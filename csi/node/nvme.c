/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel's NVMe/TCP initiator through nvme-cli, and sysfs to find what it
 * made: controllers by subsystem NQN (/sys/class/nvme/nvmeX/subsysnqn, state)
 * and namespaces by UUID (/sys/block/nvmeXnY/uuid).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grpc/call.h"
#include "node/node.h"
#include "rest.h"
#include "slio/fileio.h"

#define ATTR_MAX 4096

int csi_volume_nqn(const char *volume_id, char ret[static SLIO_NQN_BUF])
{
    if (!csi_is_uuid(volume_id))
        return -EINVAL;
    char nqn[SLIO_NQN_BUF];
    snprintf(nqn, sizeof(nqn), "%s:vol:%s", SLIO_NQN_PREFIX, volume_id);
    if (slio_nqn_validate(nqn) < 0)
        return -EINVAL;
    memcpy(ret, nqn, sizeof(nqn));
    return 0;
}

/* A sysfs attribute, trailing newline removed. */
static int read_attr(const char *path, char *buf, size_t len)
{
    _cleanup_free_ char *data = NULL;
    size_t n;
    int r = slio_read_file(path, ATTR_MAX, &data, &n);
    if (r < 0)
        return r;
    while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == ' '))
        data[--n] = '\0';
    if (n >= len)
        return -ENAMETOOLONG;
    memcpy(buf, data, n + 1);
    return 0;
}

/* "nvme12" (controllers) — not "nvme-subsys0" or "nvme0n1". */
static bool is_ctrl_name(const char *name)
{
    if (strncmp(name, "nvme", 4) != 0 || !name[4])
        return false;
    for (const char *p = name + 4; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return strlen(name) < 32;
}

int csi_nvme_ctrls(const char *sysfs, const char *nqn, char names[][32], char states[][32],
                   size_t max, size_t *ret_n)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/class/nvme", sysfs);
    DIR *d = opendir(dir);
    size_t n = 0;
    if (!d) {
        *ret_n = 0; /* no nvme module loaded: no controllers */
        return errno == ENOENT ? 0 : -errno;
    }
    for (struct dirent *e; (e = readdir(d)) && n < max;) {
        char path[PATH_MAX], sub[SLIO_NQN_BUF + 8];
        if (!is_ctrl_name(e->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s/subsysnqn", dir, e->d_name);
        if (read_attr(path, sub, sizeof(sub)) < 0 || strcmp(sub, nqn) != 0)
            continue;
        snprintf(names[n], 32, "%s", e->d_name);
        snprintf(path, sizeof(path), "%s/%s/state", dir, e->d_name);
        if (read_attr(path, states[n], 32) < 0)
            snprintf(states[n], 32, "unknown");
        n++;
    }
    closedir(d);
    *ret_n = n;
    return 0;
}

/* "nvme3n1" (namespace heads and plain namespaces) — not "nvme3c1n1" or partitions. */
static bool is_ns_name(const char *name)
{
    if (strncmp(name, "nvme", 4) != 0 || strlen(name) >= 32)
        return false;
    const char *p = name + 4;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p++ != 'n' || *p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    return *p == '\0';
}

int csi_nvme_find_ns(const char *sysfs, const char *ns_uuid, char ret[static 32])
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/block", sysfs);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? -ENOENT : -errno;
    int r = -ENOENT;
    for (struct dirent *e; (e = readdir(d));) {
        char path[PATH_MAX], uuid[64];
        if (!is_ns_name(e->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s/uuid", dir, e->d_name);
        if (read_attr(path, uuid, sizeof(uuid)) == 0 && strcasecmp(uuid, ns_uuid) == 0) {
            snprintf(ret, 32, "%s", e->d_name);
            r = 0;
            break;
        }
    }
    closedir(d);
    return r;
}

int csi_nvme_wait_ns(const char *sysfs, const char *ns_uuid, int64_t deadline_ms,
                     char ret[static 32])
{
    /* udev has no socket here to wait on in every deployment; sysfs is polled
     * with a growing pause until the deadline (the kernel adds the namespace
     * a few ms after connect returns). */
    for (unsigned step = 0;; step++) {
        int r = csi_nvme_find_ns(sysfs, ns_uuid, ret);
        if (r != -ENOENT)
            return r;
        int64_t left = deadline_ms - csi_now_ms();
        uint32_t pause = step < 6 ? 2u << step : 100;
        if (left <= 0)
            return -ETIMEDOUT;
        if ((int64_t)pause > left)
            pause = (uint32_t)left;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)pause * 1000000};
        nanosleep(&ts, NULL);
    }
}

int csi_nvme_connect(const struct csi_node_config *cfg, const char *nqn, const char *traddr,
                     const char *trsvcid, const struct csi_dhchap *keys, struct slio_err *err)
{
    char loss[16], delay[16];
    snprintf(loss, sizeof(loss), "%u", cfg->ctrl_loss_tmo_s);
    snprintf(delay, sizeof(delay), "%u", cfg->reconnect_delay_s);
    const char *argv[24] = {"nvme",
                            "connect",
                            "-t",
                            "tcp",
                            "-a",
                            traddr,
                            "-s",
                            trsvcid,
                            "-n",
                            nqn,
                            "--ctrl-loss-tmo",
                            loss,
                            "--reconnect-delay",
                            delay};
    size_t n = 14;
    if (cfg->host_nqn[0]) {
        argv[n++] = "--hostnqn";
        argv[n++] = cfg->host_nqn;
    }
    /* nvme-cli 2.4 takes the secrets on its command line only; slio_exec_format_argv
     * redacts them from every message and log line that quotes an argv. */
    if (keys && keys->host) {
        argv[n++] = "--dhchap-secret";
        argv[n++] = keys->host;
    }
    if (keys && keys->host && keys->ctrl) {
        argv[n++] = "--dhchap-ctrl-secret";
        argv[n++] = keys->ctrl;
    }
    argv[n] = NULL;
    return csi_run(argv, 60000, NULL, err);
}

int csi_nvme_disconnect(const struct csi_node_config *cfg, const char *nqn, struct slio_err *err)
{
    char names[CSI_NVME_CTRLS_MAX][32], states[CSI_NVME_CTRLS_MAX][32];
    size_t n;
    int r = csi_nvme_ctrls(cfg->sysfs_root, nqn, names, states, CSI_NVME_CTRLS_MAX, &n);
    if (r < 0) {
        slio_err_set(err, "listing the NVMe controllers of %s: %s", nqn, strerror(-r));
        return r;
    }
    for (size_t i = 0; i < n; i++) {
        const char *argv[] = {"nvme", "disconnect", "-d", names[i], NULL};
        r = csi_run(argv, 30000, NULL, err);
        if (r < 0)
            return r;
    }
    return 0;
}
