/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test double of the registry and the transport for the tgt/nvmf tests and
 * fuzzer: an in-memory set of subsystems/namespaces/hosts/listeners, a fake
 * clock, and recorders for tgt_req_complete() and tgt_io_cmd_exec().
 */
#ifndef TESTS_NVMF_FAKES_H
#define TESTS_NVMF_FAKES_H

#include <stdbool.h>
#include <stdint.h>

#include <nvme/types.h>

#include "nvmf/ctrlr.h"
#include "nvmf/req.h"

#define FAKE_MAX_NS        8
#define FAKE_MAX_HOSTS     4
#define FAKE_MAX_LISTENERS 4

struct tgt_subsys {
    char nqn[TGT_NQN_MAX + 1];
    enum tgt_subsys_type type;
    char serial[TGT_SERIAL_LEN + 1];
    char model[TGT_MODEL_LEN + 1];
    uint32_t max_nsid;
    bool allow_any_host;
    char hosts[FAKE_MAX_HOSTS][TGT_NQN_MAX + 1];
    unsigned nr_hosts;
    struct tgt_listen_addr listeners[FAKE_MAX_LISTENERS];
    unsigned nr_listeners;
    struct tgt_ns *ns[FAKE_MAX_NS + 1]; /* by nsid */
    int refs;
    bool used;
};

struct fake_state {
    uint64_t now_us;
    uint64_t genctr;
    struct tgt_transport_opts opts;
    unsigned completed; /* tgt_req_complete() calls */
    struct tgt_req *last_completed;
    unsigned io_cmds; /* tgt_io_cmd_exec() calls */
    uint32_t last_io_nsid;
};
extern struct fake_state fake;

/* Forget everything (the nvmf layer must have released its objects first). */
void fake_reset(void);
struct tgt_subsys *fake_subsys_add(const char *nqn, uint32_t max_nsid);
void fake_subsys_remove(struct tgt_subsys *s);
void fake_host_add(struct tgt_subsys *s, const char *hostnqn);
void fake_host_remove_all(struct tgt_subsys *s);
void fake_listener_add(struct tgt_subsys *s, const char *traddr, const char *trsvcid);
struct tgt_ns *fake_ns_add(struct tgt_subsys *s, uint32_t nsid, uint64_t blocks, uint32_t bs,
                           bool blockdev);
void fake_ns_remove(struct tgt_subsys *s, uint32_t nsid);
/* Every subsystem/ns reference handed out was returned. */
bool fake_refs_balanced(void);
/*
 * The standard fixture of the nvmf tests: subsystem T_SUBNQN (32 namespaces)
 * allowing T_HOSTNQN on T_TRADDR:T_TRSVCID with namespace 1 (2048 x 512 B).
 * fake_fixture_reset() resets everything and returns whether every reference
 * taken was given back (tests assert it).
 */
struct tgt_subsys *fake_fixture_setup(void);
bool fake_fixture_reset(void);

/* ---- helpers to drive tgt_nvmf_exec ---- */
#define T_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define T_SUBNQN  "nqn.2024-01.io.slite:vol1"
#define T_TRADDR  "127.0.0.1"
#define T_TRSVCID "4420"

struct t_qpair {
    struct tgt_qpair qp;
    struct tgt_req req; /* last request executed */
    uint8_t buf[65536];
};
void t_qpair_init(struct t_qpair *q);
/* Execute one command; returns the status (TGT_EXEC_PENDING leaves req held). */
enum tgt_exec_result t_exec(struct t_qpair *q, const struct nvme_sqe *cmd, enum tgt_xfer xfer,
                            uint32_t len);
uint16_t t_connect(struct t_qpair *q, uint16_t qid, const char *subnqn, const char *hostnqn,
                   uint16_t cntlid, uint16_t sqsize, uint32_t kato_ms);
uint16_t t_prop_get(struct t_qpair *q, uint32_t off, bool size8, uint64_t *ret);
uint16_t t_prop_set_cc(struct t_qpair *q, uint32_t cc);
/* Connect the admin queue to subnqn as T_HOSTNQN and enable the controller; returns cntlid. */
uint16_t t_admin_up(struct t_qpair *q, const char *subnqn, uint32_t kato_ms);
uint16_t t_identify(struct t_qpair *q, uint8_t cns, uint32_t nsid, uint32_t len);
uint16_t t_get_log(struct t_qpair *q, uint8_t lid, uint32_t nsid, uint64_t offset, uint32_t len,
                   bool rae);
uint16_t t_set_feature(struct t_qpair *q, uint8_t fid, uint32_t cdw11, uint32_t *ret_dw0);
uint16_t t_get_feature(struct t_qpair *q, uint8_t fid, uint32_t sel, uint32_t *ret_dw0);
/* Tear the queue down as the transport would. */
void t_close(struct t_qpair *q);

#define CC_ENABLE_VALUE (1u | (6u << 16) | (4u << 20))

#endif
