/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DH-HMAC-CHAP secrets of NodeStageVolume: the node-stage secrets the
 * kubelet reads from the Kubernetes secret the StorageClass names
 * (csi.storage.k8s.io/node-stage-secret-name/-namespace). Keys:
 *   dhchapSecret      this host's secret       → nvme connect --dhchap-secret
 *   dhchapCtrlSecret  the target's secret      → nvme connect --dhchap-ctrl-secret
 *                     (bidirectional; needs dhchapSecret)
 * Values are NVMe secret representations as `nvme gen-dhchap-key` prints
 * them: "DHHC-1:<hh>:<base64 of key + CRC-32>:" with hh 00..03 (the hash the
 * key was transformed with) and a 32, 48 or 64-byte key. Nothing here puts a
 * value in a message: errors name the key only.
 */
#include <string.h>

#include "node/node.h"
#include "slio/nqn.h"

bool csi_dhchap_secret_ok(const char *s)
{
    return slio_dhchap_secret_valid(s);
}

int csi_dhchap_from_secrets(Csi__V1__NodeStageVolumeRequest__SecretsEntry *const *secrets, size_t n,
                            struct csi_dhchap *ret, char *why, size_t why_len)
{
    struct csi_dhchap k = {0};

    for (size_t i = 0; i < n; i++) {
        const char *key = secrets[i]->key, *value = secrets[i]->value;
        const char **slot = strcmp(key, CSI_SECRET_DHCHAP) == 0        ? &k.host
                            : strcmp(key, CSI_SECRET_DHCHAP_CTRL) == 0 ? &k.ctrl
                                                                       : NULL;
        if (!slot)
            continue; /* a shared Kubernetes secret may hold other keys */
        if (!csi_dhchap_secret_ok(value)) {
            snprintf(why, why_len,
                     "secret %s: not an NVMe DH-HMAC-CHAP secret (\"DHHC-1:<hh>:<base64>:\", "
                     "as nvme gen-dhchap-key prints)",
                     key);
            return -EINVAL;
        }
        *slot = value;
    }
    if (k.ctrl && !k.host) {
        snprintf(why, why_len, "secret %s needs %s (bidirectional authentication)",
                 CSI_SECRET_DHCHAP_CTRL, CSI_SECRET_DHCHAP);
        return -EINVAL;
    }
    *ret = k;
    return 0;
}
