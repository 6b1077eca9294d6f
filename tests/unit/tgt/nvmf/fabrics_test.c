/* SPDX-License-Identifier: Apache-2.0 */
/* Fabrics commands and dispatch: Connect (admin/I/O), properties, sequence rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvmf_fakes.h"
#include "slio/log.h"

#define DNR             NVME_STATUS_DNR
#define ST(sct, sc)     ((uint16_t)(NVME_STATUS(sct, sc) | DNR))
#define CONNECT_INVALID ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAM)
#define IPO_DATA(off)   ((1u << 16) | (off))

static struct tgt_subsys *g_s;

/* A Connect with hand-set CDW10/CDW11 (RECFMT, CATTR). */
static uint16_t raw_connect(struct t_qpair *q, uint32_t cdw10, uint32_t cdw11, uint16_t cntlid)
{
    struct nvme_sqe cmd = {.opcode = NVME_FABRICS_OPCODE, .nsid = htole32(NVMF_FCTYPE_CONNECT)};
    cmd.cdw10 = htole32(cdw10);
    cmd.cdw11 = htole32(cdw11);
    struct nvmf_connect_data *d = (struct nvmf_connect_data *)q->buf;
    memset(d, 0, sizeof(*d));
    memset(d->hostid, 0x42, sizeof(d->hostid));
    d->cntlid = htole16(cntlid);
    snprintf(d->subsysnqn, sizeof(d->subsysnqn), "%s", T_SUBNQN);
    snprintf(d->hostnqn, sizeof(d->hostnqn), "%s", T_HOSTNQN);
    q->req = (struct tgt_req){
        .cmd = cmd, .xfer = TGT_XFER_H2C, .length = sizeof(*d), .data = q->buf, .qpair = &q->qp};
    tgt_nvmf_exec(&q->req);
    return q->req.status;
}

static int setup(void **state)
{
    g_s = fake_fixture_setup();
    return 0;
}

static int teardown(void **state)
{
    assert_true(fake_fixture_reset());
    return 0;
}

static void test_connect_admin_ok(void **state)
{
    struct t_qpair q;
    t_qpair_init(&q);
    assert_int_equal(t_connect(&q, 0, T_SUBNQN, T_HOSTNQN, 0xffff, 31, 5000), 0);
    uint16_t cntlid = (uint16_t)q.req.result;
    assert_in_range(cntlid, 1, 0xffef);
    assert_int_equal(q.req.result >> 16, 0); /* DW0: cntlid in bits 15:0 only */
    assert_non_null(q.qp.ctrlr);
    assert_int_equal(q.qp.qid, 0);
    assert_int_equal(q.qp.sqsize, 32);

    /* A second admin queue gets a different dynamic controller ID. */
    struct t_qpair q2;
    t_qpair_init(&q2);
    assert_int_equal(t_connect(&q2, 0, T_SUBNQN, T_HOSTNQN, 0xffff, 31, 5000), 0);
    assert_int_not_equal((uint16_t)q2.req.result, cntlid);
    /* Connect again on a connected queue: sequence error. */
    assert_int_equal(t_connect(&q2, 0, T_SUBNQN, T_HOSTNQN, 0xffff, 31, 5000),
                     ST(0, NVME_SC_CMD_SEQ_ERROR));
    t_close(&q2);
    t_close(&q);
    assert_null(q.qp.ctrlr);
}

static void test_connect_refusals(void **state)
{
    struct t_qpair q;
    t_qpair_init(&q);
    assert_int_equal(t_connect(&q, 0, "nqn.2024-01.io.slite:nope", T_HOSTNQN, 0xffff, 31, 0),
                     CONNECT_INVALID);
    assert_int_equal(q.req.result, IPO_DATA(256)); /* subsysnqn */
    assert_null(q.qp.ctrlr);

    assert_int_equal(
        t_connect(&q, 0, T_SUBNQN, "nqn.2014-08.org.nvmexpress:uuid:other", 0xffff, 31, 0),
        ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_CONNECT_INVALID_HOST));
    assert_int_equal(q.req.result, IPO_DATA(512)); /* hostnqn */

    /* Static controller IDs are not supported on the admin queue. */
    assert_int_equal(t_connect(&q, 0, T_SUBNQN, T_HOSTNQN, 5, 31, 0), CONNECT_INVALID);
    assert_int_equal(q.req.result, IPO_DATA(16));

    /* SQSIZE 0 and above the admin queue depth. */
    assert_int_equal(t_connect(&q, 0, T_SUBNQN, T_HOSTNQN, 0xffff, 0, 5000), CONNECT_INVALID);
    assert_int_equal(q.req.result, 44);
    assert_int_equal(t_connect(&q, 0, T_SUBNQN, T_HOSTNQN, 0xffff, 128, 5000), CONNECT_INVALID);
    assert_int_equal(q.req.result, 44);

    /* A listener the subsystem is not exported on. */
    snprintf(q.qp.local.trsvcid, sizeof(q.qp.local.trsvcid), "4421");
    assert_int_equal(t_connect(&q, 0, T_SUBNQN, T_HOSTNQN, 0xffff, 31, 5000), CONNECT_INVALID);
    assert_null(q.qp.ctrlr);

    /* Truncated Connect data. */
    t_qpair_init(&q);
    struct nvme_sqe cmd = {.opcode = NVME_FABRICS_OPCODE, .nsid = htole32(NVMF_FCTYPE_CONNECT)};
    t_exec(&q, &cmd, TGT_XFER_H2C, 512);
    assert_int_equal(q.req.status, ST(0, NVME_SC_SGL_INVALID_DATA));
    /* Non-zero RECFMT. */
    assert_int_equal(raw_connect(&q, 1, 31, 0xffff),
                     ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_CONNECT_FORMAT));
    assert_null(q.qp.ctrlr);
}

static void test_commands_before_connect(void **state)
{
    struct t_qpair q;
    t_qpair_init(&q);
    struct nvme_sqe id = {.opcode = nvme_admin_identify, .cdw10 = htole32(1)};
    assert_int_equal(t_exec(&q, &id, TGT_XFER_C2H, 4096), TGT_EXEC_DONE);
    assert_int_equal(q.req.status, ST(0, NVME_SC_CMD_SEQ_ERROR));
    uint64_t v;
    assert_int_equal(t_prop_get(&q, NVME_REG_CAP, true, &v), ST(0, NVME_SC_CMD_SEQ_ERROR));
    /* Admin command before CC.EN: sequence error too. */
    assert_int_equal(t_connect(&q, 0, T_SUBNQN, T_HOSTNQN, 0xffff, 31, 5000), 0);
    assert_int_equal(t_exec(&q, &id, TGT_XFER_C2H, 4096), TGT_EXEC_DONE);
    assert_int_equal(q.req.status, ST(0, NVME_SC_CMD_SEQ_ERROR));
    t_close(&q);
}

static void test_properties(void **state)
{
    struct t_qpair q;
    t_qpair_init(&q);
    assert_int_equal(t_connect(&q, 0, T_SUBNQN, T_HOSTNQN, 0xffff, 31, 5000), 0);
    uint64_t cap, v;
    assert_int_equal(t_prop_get(&q, NVME_REG_CAP, true, &cap), 0);
    assert_int_equal(NVME_CAP_MQES(cap), 127);
    assert_int_equal(NVME_CAP_CQR(cap), 1);
    assert_true(NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM);
    assert_int_equal(NVME_CAP_MPSMIN(cap), 0);
    assert_true(NVME_CAP_TO(cap) > 0);
    /* CAP is 8 bytes: a 4-byte read is refused, as nvmet does. */
    assert_int_equal(t_prop_get(&q, NVME_REG_CAP, false, &v), ST(0, NVME_SC_INVALID_FIELD));
    assert_int_equal(t_prop_get(&q, NVME_REG_VS, false, &v), 0);
    assert_int_equal(v, 0x10300);
    assert_int_equal(t_prop_get(&q, NVME_REG_CSTS, false, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(t_prop_get(&q, 0x24 /* AQA */, false, &v), ST(0, NVME_SC_INVALID_FIELD));
    /* Optional capability properties a host may probe: zero, i.e. not supported. */
    const uint32_t absent[] = {NVME_REG_CMBLOC, NVME_REG_CMBSZ, NVME_REG_BPINFO, NVME_REG_PMRCAP};
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        v = 1;
        assert_int_equal(t_prop_get(&q, absent[i], false, &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(t_prop_get(&q, absent[i], true, &v), ST(0, NVME_SC_INVALID_FIELD));
    }

    /* Enable: CSTS.RDY follows; CC reads back. */
    assert_int_equal(t_prop_set_cc(&q, CC_ENABLE_VALUE), 0);
    assert_int_equal(t_prop_get(&q, NVME_REG_CSTS, false, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(t_prop_get(&q, NVME_REG_CC, false, &v), 0);
    assert_int_equal(v, CC_ENABLE_VALUE);

    /* Normal shutdown: SHST complete (10b), as `nvme disconnect` / `nvme discover` wait for. */
    assert_int_equal(t_prop_set_cc(&q, CC_ENABLE_VALUE | 1u << 14), 0);
    assert_int_equal(t_prop_get(&q, NVME_REG_CSTS, false, &v), 0);
    assert_int_equal((v >> 2) & 3, 2);

    /* Reset (EN 1 -> 0) then enable with a bad IOSQES: CSTS.CFS. */
    assert_int_equal(t_prop_set_cc(&q, 0), 0);
    assert_int_equal(t_prop_get(&q, NVME_REG_CSTS, false, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(t_prop_set_cc(&q, 1u | (7u << 16) | (4u << 20)), 0);
    assert_int_equal(t_prop_get(&q, NVME_REG_CSTS, false, &v), 0);
    assert_int_equal(v, 2);
    /* Writes to registers other than CC are refused. */
    struct nvme_sqe cmd = {.opcode = NVME_FABRICS_OPCODE, .nsid = htole32(NVMF_FCTYPE_PROP_SET)};
    cmd.cdw11 = htole32(NVME_REG_CSTS);
    t_exec(&q, &cmd, TGT_XFER_NONE, 0);
    assert_int_equal(q.req.status, ST(0, NVME_SC_INVALID_FIELD));
    t_close(&q);
}

static void test_io_queue_connect(void **state)
{
    struct t_qpair a, io, io2;
    uint16_t cntlid = t_admin_up(&a, T_SUBNQN, 5000);
    uint32_t dw0;
    assert_int_equal(t_set_feature(&a, NVME_FEAT_FID_NUM_QUEUES, (3u << 16) | 3u, &dw0), 0);
    assert_int_equal(dw0, (3u << 16) | 3u);

    t_qpair_init(&io);
    assert_int_equal(t_connect(&io, 1, T_SUBNQN, T_HOSTNQN, cntlid, 127, 0), 0);
    assert_int_equal((uint16_t)io.req.result, cntlid);
    assert_ptr_equal(io.qp.ctrlr, a.qp.ctrlr);
    assert_int_equal(io.qp.qid, 1);
    assert_int_equal(io.qp.sqsize, 128);

    t_qpair_init(&io2);
    /* Same qid twice. */
    assert_int_equal(t_connect(&io2, 1, T_SUBNQN, T_HOSTNQN, cntlid, 127, 0),
                     ST(0, NVME_SC_CMD_SEQ_ERROR));
    /* qid above the 4 granted queues. */
    assert_int_equal(t_connect(&io2, 5, T_SUBNQN, T_HOSTNQN, cntlid, 127, 0), CONNECT_INVALID);
    assert_int_equal(io2.req.result, 42);
    /* SQSIZE above MQES. */
    assert_int_equal(t_connect(&io2, 2, T_SUBNQN, T_HOSTNQN, cntlid, 128, 0), CONNECT_INVALID);
    assert_int_equal(io2.req.result, 44);
    /* Unknown controller, wrong subsystem, wrong host. */
    assert_int_equal(t_connect(&io2, 2, T_SUBNQN, T_HOSTNQN, (uint16_t)(cntlid + 100), 127, 0),
                     CONNECT_INVALID);
    assert_int_equal(io2.req.result, IPO_DATA(16));
    struct tgt_subsys *other = fake_subsys_add("nqn.2024-01.io.slite:other", 1);
    other->allow_any_host = true;
    fake_listener_add(other, T_TRADDR, T_TRSVCID);
    assert_int_equal(t_connect(&io2, 2, "nqn.2024-01.io.slite:other", T_HOSTNQN, cntlid, 127, 0),
                     CONNECT_INVALID);
    assert_int_equal(
        t_connect(&io2, 2, T_SUBNQN, "nqn.2014-08.org.nvmexpress:uuid:x", cntlid, 127, 0),
        ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_CONNECT_INVALID_HOST));
    assert_null(io2.qp.ctrlr);

    /* Number of Queues after an I/O queue exists: Command Sequence Error. */
    assert_int_equal(t_set_feature(&a, NVME_FEAT_FID_NUM_QUEUES, 7, NULL),
                     ST(0, NVME_SC_CMD_SEQ_ERROR));

    /* I/O commands reach io_cmd with the namespace; bad nsid / admin opcode do not. */
    struct nvme_sqe rd = {.opcode = nvme_cmd_read, .nsid = htole32(1)};
    assert_int_equal(t_exec(&io, &rd, TGT_XFER_C2H, 512), TGT_EXEC_DONE);
    assert_int_equal(fake.io_cmds, 1);
    assert_int_equal(fake.last_io_nsid, 1);
    rd.nsid = htole32(2);
    t_exec(&io, &rd, TGT_XFER_C2H, 512);
    assert_int_equal(io.req.status, ST(0, NVME_SC_INVALID_NS));
    struct nvme_sqe ka = {.opcode = nvme_admin_keep_alive};
    t_exec(&io, &ka, TGT_XFER_NONE, 0);
    assert_int_equal(io.req.status, ST(0, NVME_SC_INVALID_OPCODE));
    uint64_t v;
    assert_int_equal(t_prop_get(&io, NVME_REG_CSTS, false, &v), ST(0, NVME_SC_INVALID_OPCODE));
    /* Authentication is not supported, on either queue. */
    struct nvme_sqe auth = {.opcode = NVME_FABRICS_OPCODE, .nsid = htole32(NVMF_FCTYPE_AUTH_SEND)};
    t_exec(&a, &auth, TGT_XFER_NONE, 0);
    assert_int_equal(a.req.status, ST(0, NVME_SC_INVALID_OPCODE));
    auth.nsid = htole32(NVMF_FCTYPE_AUTH_RECV);
    t_exec(&io, &auth, TGT_XFER_NONE, 0);
    assert_int_equal(io.req.status, ST(0, NVME_SC_INVALID_OPCODE));

    /* Admin queue goes away: the association dies, the I/O queue's tick says close. */
    assert_true(tgt_nvmf_qpair_tick(&io.qp, fake.now_us));
    t_close(&a);
    assert_false(tgt_nvmf_qpair_tick(&io.qp, fake.now_us));
    /* ...and its cntlid no longer accepts I/O queues. */
    assert_int_equal(t_connect(&io2, 2, T_SUBNQN, T_HOSTNQN, cntlid, 127, 0), CONNECT_INVALID);
    t_close(&io);
}

static void test_disconnect(void **state)
{
    struct t_qpair a, io;
    uint16_t cntlid = t_admin_up(&a, T_SUBNQN, 5000);
    t_qpair_init(&io);
    assert_int_equal(t_connect(&io, 1, T_SUBNQN, T_HOSTNQN, cntlid, 31, 0), 0);
    struct nvme_sqe dc = {.opcode = NVME_FABRICS_OPCODE, .nsid = htole32(NVMF_FCTYPE_DISCONNECT)};
    t_exec(&a, &dc, TGT_XFER_NONE, 0);
    assert_int_equal(a.req.status, ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_DISCONNECT_INVALID_QTYPE));
    t_exec(&io, &dc, TGT_XFER_NONE, 0);
    assert_int_equal(io.req.status, 0);
    assert_false(tgt_nvmf_qpair_tick(&io.qp, fake.now_us));
    assert_true(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    t_close(&io);
    /* The qid is free again. */
    t_qpair_init(&io);
    assert_int_equal(t_connect(&io, 1, T_SUBNQN, T_HOSTNQN, cntlid, 31, 0), 0);
    /* A controller reset (CC.EN 1 -> 0) drops I/O queues too. */
    assert_int_equal(t_prop_set_cc(&a, 0), 0);
    assert_false(tgt_nvmf_qpair_tick(&io.qp, fake.now_us));
    t_close(&io);
    t_close(&a);
}

static void test_sq_flow_control_attr(void **state)
{
    struct t_qpair a, io;
    uint16_t cntlid = t_admin_up(&a, T_SUBNQN, 5000);
    assert_false(a.qp.sq_flow_control_disabled);
    t_qpair_init(&io);
    /* CATTR bit 2 travels in CDW11 bits 23:16 next to SQSIZE. */
    assert_int_equal(t_connect(&io, 1, T_SUBNQN, T_HOSTNQN, cntlid, 31, 0), 0);
    assert_false(io.qp.sq_flow_control_disabled);
    t_close(&io);
    t_qpair_init(&io);
    assert_int_equal(raw_connect(&io, 1u << 16, 31u | (1u << 2) << 16, cntlid), 0);
    assert_true(io.qp.sq_flow_control_disabled);
    t_close(&io);
    t_close(&a);
}

/* KATO 0 on an I/O controller's admin queue: refused, as Set Features refuses it (finding 9). */
static void test_connect_kato_zero(void **state)
{
    struct t_qpair q;
    t_qpair_init(&q);
    assert_int_equal(t_connect(&q, 0, T_SUBNQN, T_HOSTNQN, 0xffff, 31, 0), CONNECT_INVALID);
    assert_int_equal(q.req.result, 48); /* CDW12 */
    assert_null(q.qp.ctrlr);
    /* a discovery controller may (it gets a default expiry: ctrlr_test) */
    assert_int_equal(t_connect(&q, 0, TGT_DISCOVERY_NQN, T_HOSTNQN, 0xffff, 31, 0), 0);
    t_close(&q);
}

/* NQNs over 223 bytes are refused, never cut (finding 5). */
static void test_connect_long_nqn(void **state)
{
    char nqn[NVME_NQN_LENGTH];
    struct t_qpair q;

    t_qpair_init(&q);
    /* an allowed host NQN with bytes after the 223rd: once cut to the allowed name */
    snprintf(nqn, sizeof(nqn), "%s", T_HOSTNQN);
    memset(nqn + strlen(nqn), 'z', sizeof(nqn) - 1 - strlen(nqn));
    nqn[sizeof(nqn) - 1] = '\0';
    assert_int_equal(t_connect(&q, 0, TGT_DISCOVERY_NQN, nqn, 0xffff, 31, 0), CONNECT_INVALID);
    assert_int_equal(q.req.result, IPO_DATA(512));
    assert_null(q.qp.ctrlr);
    nqn[TGT_NQN_MAX + 1] = '\0'; /* 224 bytes */
    assert_int_equal(t_connect(&q, 0, T_SUBNQN, nqn, 0xffff, 31, 5000), CONNECT_INVALID);
    assert_int_equal(q.req.result, IPO_DATA(512));
    nqn[TGT_NQN_MAX] = '\0'; /* 223 bytes: allowed by the spec (the ACL decides) */
    fake_host_add(g_s, nqn);
    assert_int_equal(t_connect(&q, 0, T_SUBNQN, nqn, 0xffff, 31, 5000), 0);
    t_close(&q);
    /* the subsystem NQN too */
    t_qpair_init(&q);
    memset(nqn, 's', sizeof(nqn) - 1);
    memcpy(nqn, "nqn.2024-01.io.slite:", 21);
    nqn[TGT_NQN_MAX + 1] = '\0';
    assert_int_equal(t_connect(&q, 0, nqn, T_HOSTNQN, 0xffff, 31, 5000), CONNECT_INVALID);
    assert_int_equal(q.req.result, IPO_DATA(256));
}

/* An I/O queue coming in through a listener the subsystem is not exported on (finding 9). */
static void test_io_connect_checks_listener(void **state)
{
    struct t_qpair a, io;
    uint16_t cntlid = t_admin_up(&a, T_SUBNQN, 5000);

    t_qpair_init(&io);
    snprintf(io.qp.local.trsvcid, sizeof(io.qp.local.trsvcid), "4421");
    assert_int_equal(t_connect(&io, 1, T_SUBNQN, T_HOSTNQN, cntlid, 31, 0), CONNECT_INVALID);
    assert_int_equal(io.req.result, IPO_DATA(256));
    assert_null(io.qp.ctrlr);
    t_close(&a);
}

static uint16_t t_read(struct t_qpair *q)
{
    struct nvme_sqe rd = {.opcode = nvme_cmd_read, .nsid = htole32(1)};
    t_exec(q, &rd, TGT_XFER_C2H, 512);
    return q->req.status;
}

/* Nothing received after Disconnect, CC.EN 0 or shutdown runs, not even until the tick. */
static void test_no_io_after_teardown(void **state)
{
    struct t_qpair a, io;
    uint16_t cntlid = t_admin_up(&a, T_SUBNQN, 5000);
    struct nvme_sqe dc = {.opcode = NVME_FABRICS_OPCODE, .nsid = htole32(NVMF_FCTYPE_DISCONNECT)};
    const uint32_t shutdown = CC_ENABLE_VALUE | (1u << 14);

    for (int how = 0; how < 3; how++) {
        t_qpair_init(&io);
        assert_int_equal(t_connect(&io, 1, T_SUBNQN, T_HOSTNQN, cntlid, 31, 0), 0);
        unsigned before = fake.io_cmds;
        assert_int_equal(t_read(&io), 0);
        assert_int_equal(fake.io_cmds, before + 1);
        if (how == 0) {
            t_exec(&io, &dc, TGT_XFER_NONE, 0);
            assert_int_equal(io.req.status, 0);
        } else {
            assert_int_equal(t_prop_set_cc(&a, how == 1 ? 0 : shutdown), 0);
        }
        assert_int_equal(t_read(&io), ST(0, NVME_SC_CMD_SEQ_ERROR));
        assert_int_equal(fake.io_cmds, before + 1);
        t_close(&io);
        assert_int_equal(t_prop_set_cc(&a, 0), 0);
        assert_int_equal(t_prop_set_cc(&a, CC_ENABLE_VALUE), 0);
    }
    t_close(&a);
}

/* What the transport asks before soliciting data (finding 3). */
static void test_precheck(void **state)
{
    struct t_qpair a, io;
    struct nvme_sqe wr = {.opcode = nvme_cmd_write, .nsid = htole32(1)};
    struct nvme_sqe conn = {.opcode = NVME_FABRICS_OPCODE, .nsid = htole32(NVMF_FCTYPE_CONNECT)};
    struct nvme_sqe ka = {.opcode = nvme_admin_keep_alive};

    t_qpair_init(&io);
    io.req = (struct tgt_req){.cmd = wr, .qpair = &io.qp};
    assert_int_equal(tgt_nvmf_precheck(&io.req), ST(0, NVME_SC_CMD_SEQ_ERROR));
    io.req.cmd = conn;
    assert_int_equal(tgt_nvmf_precheck(&io.req), 0);
    uint16_t cntlid = t_admin_up(&a, T_SUBNQN, 5000);
    assert_int_equal(t_connect(&io, 1, T_SUBNQN, T_HOSTNQN, cntlid, 31, 0), 0);
    io.req = (struct tgt_req){.cmd = conn, .qpair = &io.qp};
    assert_int_equal(tgt_nvmf_precheck(&io.req), ST(0, NVME_SC_CMD_SEQ_ERROR));
    io.req.cmd = ka;
    assert_int_equal(tgt_nvmf_precheck(&io.req), ST(0, NVME_SC_INVALID_OPCODE));
    io.req.cmd = wr;
    assert_int_equal(tgt_nvmf_precheck(&io.req), 0);
    t_close(&io);
    t_close(&a);
}

/* A host retrying a refused Connect cannot flood the log (finding 9). */
static void test_connect_refusals_rate_limited(void **state)
{
    FILE *f = tmpfile();
    char text[65536];
    struct t_qpair q;

    assert_non_null(f);
    slio_log_set_fd(fileno(f));
    t_qpair_init(&q);
    for (int i = 0; i < 50; i++)
        assert_int_equal(t_connect(&q, 0, "nqn.2024-01.io.slite:nope", T_HOSTNQN, 0xffff, 31, 5000),
                         CONNECT_INVALID);
    slio_log_set_fd(STDERR_FILENO);
    size_t n = fread(text, 1, sizeof(text) - 1, (rewind(f), f));
    text[n] = '\0';
    fclose(f);
    unsigned lines = 0;
    for (const char *p = text; (p = strstr(p, "refused")) != NULL; p++)
        lines++;
    assert_true(lines <= 6); /* a burst of 5 per second (maybe spent by earlier tests) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_connect_admin_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commands_before_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_properties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_queue_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sq_flow_control_attr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_kato_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_long_nqn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_connect_checks_listener, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_io_after_teardown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precheck, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_refusals_rate_limited, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
