/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVMe-oF controllers: created by an admin-queue Connect, joined by I/O-queue
 * Connects (possibly on other reactors), destroyed when the admin queue goes
 * away or keep-alive expires. Reference-counted: every qpair attached holds one.
 */
#ifndef TGT_NVMF_CTRLR_H
#define TGT_NVMF_CTRLR_H

#include <stdbool.h>
#include <stdint.h>

#include "nvmf/req.h"

/* One entry of nvmf_subsystem_get_controllers. */
struct tgt_ctrlr_info {
    uint16_t cntlid;
    char hostnqn[TGT_NQN_MAX + 1];
    uint8_t hostid[16];
    uint32_t num_io_qpairs;
};

/* Calls fn for each live controller of subsystem `nqn` (management thread). */
void tgt_ctrlr_for_each(const char *nqn, void (*fn)(const struct tgt_ctrlr_info *, void *ctx),
                        void *ctx);
/*
 * Namespace `nsid` of subsystem `nqn` changed (added, removed, resized):
 * queue a Namespace Attribute Changed event for each controller (any thread).
 */
void tgt_nvmf_ns_changed(const char *nqn, uint32_t nsid);
/* A host lost access to subsystem `nqn` (host removed / listener removed): drop its controllers. */
void tgt_nvmf_subsys_access_changed(const char *nqn);
/* Discovery log changed: queue a Discovery Log Page Change event for discovery controllers. */
void tgt_nvmf_discovery_changed(void);

#endif
