/* SPDX-License-Identifier: Apache-2.0 */
/*
 * StorageClass parameters (CreateVolume, GetCapacity, ValidateVolumeCapabilities)
 * and VolumeSnapshotClass parameters (CreateSnapshot) → REST fields.
 * docs/csi.md lists every key. Unknown keys are refused (INVALID_ARGUMENT),
 * except the "csi.storage.k8s.io/" ones the sidecars add.
 */
#ifndef CSI_CONTROLLER_PARAMS_H
#define CSI_CONTROLLER_PARAMS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slio/error.h"

#define CSI_MKFS_OPTIONS_MAX 256

/*
 * What parameters say beyond the REST body: the volume context handed to the
 * node (fsType, mkfsOptions). Strings point into the request.
 */
struct csi_volume_params {
    const char *fs_type;      /* "" when not given */
    const char *mkfs_options; /* "" when not given */
    bool thin;
};

/*
 * Parse n parameter entries (keys[i], values[i]) into the REST VolumeCreate
 * body (fields added to `body`) and *ret. -EINVAL with the key named in err.
 */
int csi_params_volume(const char *const *keys, const char *const *values, size_t n, json_t *body,
                      struct csi_volume_params *ret, struct slio_err *err) _must_check_;

/* VolumeSnapshotClass parameters → SnapshotCreate fields. */
int csi_params_snapshot(const char *const *keys, const char *const *values, size_t n, json_t *body,
                        struct slio_err *err) _must_check_;

/* "rack=r1|r2,ssd,!slow,zone!=z3" → [SelectorTerm]. */
int csi_params_selector(const char *text, json_t **ret, struct slio_err *err) _must_check_;

/*
 * Copy the keys and values of a protobuf-c map (any map<string,string>
 * field) into two arrays of n pointers (borrowed from the entries).
 */
#define CSI_MAP_SPLIT(entries, n, keys, values)                                                    \
    do {                                                                                           \
        for (size_t i_ = 0; i_ < (n); i_++) {                                                      \
            (keys)[i_] = (entries)[i_]->key;                                                       \
            (values)[i_] = (entries)[i_]->value;                                                   \
        }                                                                                          \
    } while (0)

#define CSI_PARAMS_MAX 64 /* more parameters than this are refused */

#endif
