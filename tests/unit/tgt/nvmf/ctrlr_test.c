/* SPDX-License-Identifier: Apache-2.0 */
/* Controllers: keep-alive, teardown, asynchronous events, management notifications. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "nvmf_fakes.h"
#include "registry/keyring.h"
#include "slio/nvme_auth.h"

#define ST(sct, sc) ((uint16_t)(NVME_STATUS(sct, sc) | NVME_STATUS_DNR))

static struct tgt_subsys *g_s;

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

static void keep_alive(struct t_qpair *q)
{
    struct nvme_sqe ka = {.opcode = nvme_admin_keep_alive};
    assert_int_equal(t_exec(q, &ka, TGT_XFER_NONE, 0), TGT_EXEC_DONE);
    assert_int_equal(q->req.status, 0);
}

static void test_keep_alive_expiry(void **state)
{
    struct t_qpair a, io;
    uint16_t cntlid = t_admin_up(&a, T_SUBNQN, 2000);
    t_qpair_init(&io);
    assert_int_equal(t_connect(&io, 1, T_SUBNQN, T_HOSTNQN, cntlid, 31, 0), 0);

    /* Keep Alive every second keeps it alive well past KATO. */
    for (int i = 0; i < 10; i++) {
        fake.now_us += 1000000;
        keep_alive(&a);
        assert_true(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
        assert_true(tgt_nvmf_qpair_tick(&io.qp, fake.now_us));
    }
    /* Any admin command restarts the timer too. */
    fake.now_us += 2500000;
    assert_int_equal(t_identify(&a, NVME_IDENTIFY_CNS_CTRL, 0, 4096), 0);
    fake.now_us += 2500000;
    assert_true(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    /* I/O traffic does not (TBKAS is not advertised). Silent for KATO + slack: torn down. */
    struct nvme_sqe rd = {.opcode = nvme_cmd_read, .nsid = htole32(1)};
    fake.now_us += 600000;
    t_exec(&io, &rd, TGT_XFER_C2H, 512);
    assert_false(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    assert_false(tgt_nvmf_qpair_tick(&io.qp, fake.now_us));
    /* The dead controller is gone from management and from I/O Connect lookups. */
    struct t_qpair io2;
    t_qpair_init(&io2);
    assert_int_equal(t_connect(&io2, 2, T_SUBNQN, T_HOSTNQN, cntlid, 31, 0),
                     ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAM));
    t_close(&io);
    t_close(&a);
}

static void test_kato_zero_discovery_default(void **state)
{
    struct t_qpair d;
    t_qpair_init(&d);
    assert_int_equal(t_connect(&d, 0, TGT_DISCOVERY_NQN, T_HOSTNQN, 0xffff, 31, 0), 0);
    uint64_t v;
    fake.now_us += 60ull * 1000000;
    assert_true(tgt_nvmf_qpair_tick(&d.qp, fake.now_us));
    /* A forgotten discovery session is still reaped (120 s). */
    fake.now_us += 70ull * 1000000;
    assert_false(tgt_nvmf_qpair_tick(&d.qp, fake.now_us));
    assert_int_equal(t_prop_get(&d, NVME_REG_CSTS, false, &v), 0);
    t_close(&d);
}

struct info_ctx {
    unsigned n;
    struct tgt_ctrlr_info last;
};
static void collect(const struct tgt_ctrlr_info *i, void *ctx)
{
    struct info_ctx *c = ctx;
    c->n++;
    c->last = *i;
}

static void test_for_each_and_access_changed(void **state)
{
    struct t_qpair a, io;
    uint16_t cntlid = t_admin_up(&a, T_SUBNQN, 5000);
    t_qpair_init(&io);
    assert_int_equal(t_connect(&io, 1, T_SUBNQN, T_HOSTNQN, cntlid, 31, 0), 0);
    struct info_ctx ic = {0};
    tgt_ctrlr_for_each(T_SUBNQN, collect, &ic);
    assert_int_equal(ic.n, 1);
    assert_int_equal(ic.last.cntlid, cntlid);
    assert_string_equal(ic.last.hostnqn, T_HOSTNQN);
    assert_int_equal(ic.last.hostid[0], 0x42);
    assert_int_equal(ic.last.num_io_qpairs, 1);
    ic.n = 0;
    tgt_ctrlr_for_each("nqn.2024-01.io.slite:other", collect, &ic);
    assert_int_equal(ic.n, 0);

    /* Still allowed: nothing happens. */
    tgt_nvmf_subsys_access_changed(T_SUBNQN);
    assert_true(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    /* Host removed: the admin tick notices, everything closes. */
    fake_host_remove_all(g_s);
    tgt_nvmf_subsys_access_changed(T_SUBNQN);
    assert_false(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    assert_false(tgt_nvmf_qpair_tick(&io.qp, fake.now_us));
    ic.n = 0;
    tgt_ctrlr_for_each(T_SUBNQN, collect, &ic);
    assert_int_equal(ic.n, 0);
    t_close(&a);
    t_close(&io);
}

static void submit_aer(struct t_qpair *q, struct tgt_req *r)
{
    memset(r, 0, sizeof(*r));
    r->cmd.opcode = nvme_admin_async_event;
    r->qpair = &q->qp;
    r->xfer = TGT_XFER_NONE;
    assert_int_equal(tgt_nvmf_exec(r), TGT_EXEC_PENDING);
}

static void test_aer_ns_changed(void **state)
{
    struct t_qpair a;
    t_admin_up(&a, T_SUBNQN, 5000);
    assert_int_equal(t_set_feature(&a, NVME_FEAT_FID_ASYNC_EVENT, 1u << 8, NULL), 0);
    struct tgt_req aer[5];
    for (int i = 0; i < 4; i++)
        submit_aer(&a, &aer[i]);
    /* AERL 3: a fifth is refused. */
    memset(&aer[4], 0, sizeof(aer[4]));
    aer[4].cmd.opcode = nvme_admin_async_event;
    aer[4].qpair = &a.qp;
    assert_int_equal(tgt_nvmf_exec(&aer[4]), TGT_EXEC_DONE);
    assert_int_equal(aer[4].status, ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_ASYNC_LIMIT));

    /* Nothing happened yet: ticks complete nothing. */
    assert_true(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    assert_int_equal(fake.completed, 0);

    /* A resize (from the management thread) is completed by the admin qpair's tick. */
    tgt_nvmf_ns_changed(T_SUBNQN, 1);
    tgt_nvmf_ns_changed(T_SUBNQN, 5);
    tgt_nvmf_ns_changed(T_SUBNQN, 1);
    assert_int_equal(fake.completed, 0);
    assert_true(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    assert_int_equal(fake.completed, 1); /* masked after the first: one AEN for the burst */
    assert_ptr_equal(fake.last_completed, &aer[0]);
    assert_int_equal(aer[0].status, 0);
    assert_int_equal(aer[0].result, 0x040002); /* notice, ns attribute changed, log 04h */

    /* The changed namespace list holds each NSID once; reading it clears it. */
    assert_int_equal(t_get_log(&a, NVME_LOG_LID_CHANGED_NS, NVME_NSID_ALL, 0, 4096, false), 0);
    const uint32_t *list = (const void *)a.buf;
    assert_int_equal(le32toh(list[0]), 1);
    assert_int_equal(le32toh(list[1]), 5);
    assert_int_equal(list[2], 0);
    assert_int_equal(t_get_log(&a, NVME_LOG_LID_CHANGED_NS, NVME_NSID_ALL, 0, 4096, false), 0);
    assert_int_equal(list[0], 0);

    /* Read without RAE re-armed the event: the next change is reported again. */
    tgt_nvmf_ns_changed(T_SUBNQN, 1);
    tgt_nvmf_qpair_tick(&a.qp, fake.now_us);
    assert_int_equal(fake.completed, 2);
    assert_ptr_equal(fake.last_completed, &aer[1]);
    /* Read with RAE keeps it masked. */
    assert_int_equal(t_get_log(&a, NVME_LOG_LID_CHANGED_NS, NVME_NSID_ALL, 0, 4096, true), 0);
    tgt_nvmf_ns_changed(T_SUBNQN, 1);
    tgt_nvmf_qpair_tick(&a.qp, fake.now_us);
    assert_int_equal(fake.completed, 2);

    /* Changes of other subsystems are not ours. */
    assert_int_equal(t_get_log(&a, NVME_LOG_LID_CHANGED_NS, NVME_NSID_ALL, 0, 4096, false), 0);
    tgt_nvmf_ns_changed("nqn.2024-01.io.slite:other", 1);
    tgt_nvmf_qpair_tick(&a.qp, fake.now_us);
    assert_int_equal(fake.completed, 2);

    /* Closing the admin queue drops the two held AERs without completing them. */
    t_close(&a);
    assert_int_equal(fake.completed, 2);
}

/* SPDK's host completes its AERs locally at detach and reuses their CIDs:
 * the transport hands such a CID here and gets the abandoned AER back. */
static void test_aer_abandoned_by_cid(void **state)
{
    struct t_qpair a, io;
    uint16_t cntlid = t_admin_up(&a, T_SUBNQN, 5000);
    struct tgt_req aer[3];
    for (int i = 0; i < 3; i++) {
        submit_aer(&a, &aer[i]);
        aer[i].cmd.cid = (uint16_t)(10 + i);
    }
    assert_null(tgt_nvmf_take_abandoned(&a.qp, 7));
    assert_ptr_equal(tgt_nvmf_take_abandoned(&a.qp, 11), &aer[1]);
    assert_null(tgt_nvmf_take_abandoned(&a.qp, 11));
    /* An I/O queue holds no AERs. */
    t_qpair_init(&io);
    assert_int_equal(t_connect(&io, 1, T_SUBNQN, T_HOSTNQN, cntlid, 31, 0), 0);
    assert_null(tgt_nvmf_take_abandoned(&io.qp, 10));
    /* The two left are the ones an event completes, oldest first. */
    assert_int_equal(t_set_feature(&a, NVME_FEAT_FID_ASYNC_EVENT, 1u << 8, NULL), 0);
    tgt_nvmf_ns_changed(T_SUBNQN, 1);
    assert_true(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    assert_int_equal(fake.completed, 1);
    assert_ptr_equal(fake.last_completed, &aer[0]);
    assert_ptr_equal(tgt_nvmf_take_abandoned(&a.qp, 12), &aer[2]);
    t_close(&io);
    t_close(&a);
    assert_int_equal(fake.completed, 1);
}

static void test_aer_event_before_request(void **state)
{
    struct t_qpair a;
    t_admin_up(&a, T_SUBNQN, 5000);
    /* Not enabled in the AEC feature: no event is queued. */
    tgt_nvmf_ns_changed(T_SUBNQN, 1);
    struct tgt_req r;
    submit_aer(&a, &r);
    tgt_nvmf_qpair_tick(&a.qp, fake.now_us);
    assert_int_equal(fake.completed, 0);
    /* Enabled: an event queued with no AER outstanding... */
    t_set_feature(&a, NVME_FEAT_FID_ASYNC_EVENT, 1u << 8, NULL);
    tgt_nvmf_qpair_fini(&a.qp); /* (drop the held one with the queue) */
    t_admin_up(&a, T_SUBNQN, 5000);
    t_set_feature(&a, NVME_FEAT_FID_ASYNC_EVENT, 1u << 8, NULL);
    tgt_nvmf_ns_changed(T_SUBNQN, 1);
    /* ...completes the next AER at once. */
    memset(&r, 0, sizeof(r));
    r.cmd.opcode = nvme_admin_async_event;
    r.qpair = &a.qp;
    assert_int_equal(tgt_nvmf_exec(&r), TGT_EXEC_DONE);
    assert_int_equal(r.result, 0x040002);
    /* A controller reset aborts held AERs (from the tick). */
    struct tgt_req r2;
    submit_aer(&a, &r2);
    assert_int_equal(t_prop_set_cc(&a, 0), 0);
    tgt_nvmf_qpair_tick(&a.qp, fake.now_us);
    assert_int_equal(fake.completed, 1);
    assert_int_equal(r2.status, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORT_QUEUE));
    t_close(&a);
}

static void test_discovery_changed(void **state)
{
    struct t_qpair d, a;
    t_admin_up(&a, T_SUBNQN, 5000);
    t_set_feature(&a, NVME_FEAT_FID_ASYNC_EVENT, 1u << 8, NULL);
    t_qpair_init(&d);
    assert_int_equal(t_connect(&d, 0, TGT_DISCOVERY_NQN, T_HOSTNQN, 0xffff, 31, 0), 0);
    assert_int_equal(t_prop_set_cc(&d, 1), 0);
    /* I/O controllers cannot enable discovery change notices; discovery ones can. */
    assert_int_equal(t_set_feature(&a, NVME_FEAT_FID_ASYNC_EVENT, 1u << 31, NULL),
                     ST(0, NVME_SC_INVALID_FIELD));
    assert_int_equal(t_set_feature(&d, NVME_FEAT_FID_ASYNC_EVENT, 1u << 31, NULL), 0);
    struct tgt_req ra, rd;
    submit_aer(&a, &ra);
    submit_aer(&d, &rd);
    tgt_nvmf_discovery_changed();
    tgt_nvmf_qpair_tick(&a.qp, fake.now_us);
    tgt_nvmf_qpair_tick(&d.qp, fake.now_us);
    assert_int_equal(fake.completed, 1);
    assert_ptr_equal(fake.last_completed, &rd);
    assert_int_equal(rd.result, 0x70f002); /* notice, discovery log change, log 70h */
    t_close(&d);
    t_close(&a);
}

/* One Fabrics Authentication Send (len bytes of q->buf) or Receive (len bytes into q->buf). */
static uint16_t t_auth(struct t_qpair *q, bool send, uint32_t len)
{
    struct nvme_sqe cmd = {.opcode = NVME_FABRICS_OPCODE,
                           .nsid = htole32(send ? NVMF_FCTYPE_AUTH_SEND : NVMF_FCTYPE_AUTH_RECV)};
    cmd.cdw10 = htole32((uint32_t)SLIO_AUTH_SECP << 24 | (uint32_t)SLIO_AUTH_SPSP << 16 |
                        (uint32_t)SLIO_AUTH_SPSP << 8);
    cmd.cdw11 = htole32(len);
    cmd.flags = 1u << 6; /* PSDT: SGL */
    t_exec(q, &cmd, send ? TGT_XFER_H2C : TGT_XFER_C2H, len);
    return q->req.status;
}

/* The host's side of DH-HMAC-CHAP with SHA-256 and the null group, one-way. */
static void t_authenticate(struct t_qpair *a, const struct slio_dhchap_key *k)
{
    uint8_t rval[32];
    int n = slio_auth_build_negotiate(a->buf, sizeof(a->buf), 7, 1u << 1, 1u << 0);
    assert_true(n > 0);
    assert_int_equal(t_auth(a, true, (uint32_t)n), 0);
    assert_int_equal(t_auth(a, false, 128), 0);
    struct slio_auth_challenge_view ch;
    assert_int_equal(slio_auth_challenge_parse(a->buf, 128, 7, 1u << 1, 1u << 0, &ch), 0);
    struct slio_dhchap_resp_in in = {.hash = ch.hash,
                                     .key = k,
                                     .challenge = ch.cval,
                                     .seqnum = ch.seqnum,
                                     .tid = 7,
                                     .nqn1 = T_HOSTNQN,
                                     .nqn2 = T_SUBNQN};
    assert_int_equal(slio_dhchap_response(&in, rval), 0);
    n = slio_auth_build_reply(a->buf, sizeof(a->buf), 7, sizeof(rval), rval, NULL, 0, NULL, 0);
    assert_true(n > 0);
    assert_int_equal(t_auth(a, true, (uint32_t)n), 0);
    assert_int_equal(t_auth(a, false, 64), 0);
    const uint8_t *crval;
    assert_int_equal(slio_auth_success1_parse(a->buf, 64, 7, sizeof(rval), &crval), 0);
}

/*
 * The keep-alive timer does not run while the admin queue authenticates: the host cannot send
 * Keep Alive before it has authenticated, and the Linux host under QEMU/TCG spent more than KATO
 * on ffdhe8192 between two messages (the controller was torn down under it). The authentication
 * step timeout still bounds a silent host; after success the timer runs as usual.
 */
static void test_keep_alive_waits_for_authentication(void **state)
{
    char dir[] = "/tmp/slio-ka-auth-XXXXXX", path[64], secret[SLIO_DHCHAP_SECRET_MAX];
    struct slio_dhchap_key k = {.hash = 0, .len = 32};
    struct slio_err e = {{0}};
    struct t_qpair a;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/host.key", dir);
    assert_int_equal(slio_dhchap_random(k.key, k.len), 0);
    assert_int_equal(slio_dhchap_key_format(&k, secret, sizeof(secret)), 0);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, secret, strlen(secret)), (ssize_t)strlen(secret));
    close(fd);
    assert_int_equal(tgt_keyring_add("h", path, &e), 0);
    assert_int_equal(tgt_host_keys_set(T_SUBNQN, T_HOSTNQN, "h", NULL, &e), 0);

    /* Connect (KATO 2 s) asks for authentication; the host goes quiet for 20 s: still there. */
    t_qpair_init(&a);
    assert_int_equal(t_connect(&a, 0, T_SUBNQN, T_HOSTNQN, 0xffff, 31, 2000), 0);
    assert_true(a.req.result & SLIO_CONNECT_AUTHREQ_ATR);
    fake.now_us += 20000000;
    assert_true(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    /* It authenticates 20 s later still; from then on KATO counts. */
    fake.now_us += 20000000;
    struct tgt_req ka = {.cmd = {.opcode = nvme_admin_keep_alive}, .qpair = &a.qp};
    assert_int_equal(tgt_nvmf_precheck(&ka), ST(NVME_SCT_CMD_SPECIFIC, 0x91)); /* Auth Required */
    t_authenticate(&a, &k);
    assert_int_equal(tgt_nvmf_precheck(&ka), 0);
    assert_int_equal(t_prop_set_cc(&a, CC_ENABLE_VALUE), 0);
    fake.now_us += 2500000;
    assert_true(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    keep_alive(&a);
    fake.now_us += 3100000;
    assert_false(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    t_close(&a);

    /* A host that never answers is closed by the authentication's step timeout (30 s). */
    t_qpair_init(&a);
    assert_int_equal(t_connect(&a, 0, T_SUBNQN, T_HOSTNQN, 0xffff, 31, 2000), 0);
    fake.now_us += 29000000;
    assert_true(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    fake.now_us += 2000000;
    assert_false(tgt_nvmf_qpair_tick(&a.qp, fake.now_us));
    t_close(&a);

    tgt_host_keys_drop(T_SUBNQN, T_HOSTNQN);
    assert_int_equal(tgt_keyring_remove("h", &e), 0);
    slio_dhchap_key_wipe(&k);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keep_alive_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kato_zero_discovery_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_for_each_and_access_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aer_ns_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aer_abandoned_by_cid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aer_event_before_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_waits_for_authentication, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
