/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recording fakes of what the registry and the RPC layer call in the other
 * parts of slio-tgt: the transport (options, listeners, reactor statistics,
 * clock) and the nvmf layer (namespace/access/discovery notifications,
 * controller listing). Shared by the registry and RPC tests and the RPC fuzzer.
 */
#ifndef TESTS_TGT_FAKES_H
#define TESTS_TGT_FAKES_H

#include <stdbool.h>
#include <stdint.h>

#include "nvmf/ctrlr.h"
#include "nvmf/req.h"
#include "transport/reactor.h"

#define FAKE_MAX_EVENTS 64

struct fake_event {
    char nqn[TGT_NQN_MAX + 1];
    uint32_t nsid;
};

struct tgt_fakes {
    bool transport_created;
    struct tgt_transport_opts opts;
    int listeners;         /* tgt_listener_add minus tgt_listener_remove */
    int listener_add_fail; /* next tgt_listener_add returns this if nonzero */
    struct tgt_listen_addr last_listener;
    struct fake_event ns_changed[FAKE_MAX_EVENTS];
    unsigned nr_ns_changed;
    struct fake_event access_changed[FAKE_MAX_EVENTS];
    unsigned nr_access_changed;
    unsigned discovery_changed;
    struct tgt_ctrlr_info ctrlrs[4];
    unsigned nr_ctrlrs;
    uint64_t now_us;
};
extern struct tgt_fakes fakes;

/* Forget the transport and every recording (not the registry). */
void fakes_reset(void);

#endif
