/* SPDX-License-Identifier: Apache-2.0 */
/* Admin commands: Identify, Get Log Page, Features, Abort, discovery controller. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvmf_fakes.h"

#define ST(sct, sc) ((uint16_t)(NVME_STATUS(sct, sc) | NVME_STATUS_DNR))

static struct tgt_subsys *g_s;
static struct t_qpair g_a;
static uint16_t g_cntlid;

static int setup(void **state)
{
    g_s = fake_fixture_setup();
    fake_ns_add(g_s, 3, 1000, 4096, true);
    g_cntlid = t_admin_up(&g_a, T_SUBNQN, 5000);
    return 0;
}

static int teardown(void **state)
{
    t_close(&g_a);
    assert_true(fake_fixture_reset());
    return 0;
}

static void test_identify_ctrl(void **state)
{
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_CTRL, 0, 4096), 0);
    assert_int_equal(g_a.req.length, 4096);
    const struct nvme_id_ctrl *id = (const void *)g_a.buf;
    assert_int_equal(le16toh(id->cntlid), g_cntlid);
    assert_int_equal(id->mdts, 5); /* 128 KiB in 4 KiB pages */
    assert_int_equal(le32toh(id->ver), 0x10300);
    assert_int_equal(id->cntrltype, NVME_CTRL_CNTRLTYPE_IO);
    assert_int_equal(le32toh(id->nn), 32);
    assert_int_equal(le32toh(id->ioccsz), (64 + 8192) / 16);
    assert_int_equal(le32toh(id->iorcsz), 1);
    assert_int_equal(id->msdbd, 1);
    assert_int_equal(id->sqes, 0x66);
    assert_int_equal(id->cqes, 0x44);
    assert_int_equal(id->aerl, 3);
    assert_true(le16toh(id->kas) > 0);
    assert_int_equal(le16toh(id->maxcmd), 128);
    uint32_t sgls = le32toh(id->sgls);
    assert_int_equal(sgls & 3, 1);
    assert_true(sgls & NVME_CTRL_SGLS_OFFSET);
    assert_false(sgls & NVME_CTRL_SGLS_KEYED);
    uint16_t oncs = le16toh(id->oncs);
    assert_true(oncs & NVME_CTRL_ONCS_WRITE_ZEROES);
    assert_true(oncs & NVME_CTRL_ONCS_DSM);
    assert_false(oncs & NVME_CTRL_ONCS_COMPARE);
    assert_true(id->vwc & NVME_CTRL_VWC_PRESENT);
    assert_true(le32toh(id->oaes) & NVME_CTRL_OAES_NA);
    assert_true(id->lpa & NVME_CTRL_LPA_EXTENDED);
    assert_string_equal(id->subnqn, T_SUBNQN);
    /* SN/MN/FR are space padded, not NUL terminated. */
    assert_memory_equal(id->sn, "SLIO0000            ", 20);
    assert_memory_equal(id->mn, "SLiteIO volume", 14);
    assert_int_equal(id->mn[39], ' ');
    assert_memory_equal(id->fr, SLIO_VERSION, strlen(SLIO_VERSION));
    assert_int_equal(id->fr[7], ' ');

    /* A short host buffer gets a truncated structure. */
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_CTRL, 0, 1024), 0);
    assert_int_equal(g_a.req.length, 1024);
    assert_int_equal(g_a.buf[1024], 0xee);
}

static void test_identify_ns(void **state)
{
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_NS, 1, 4096), 0);
    const struct nvme_id_ns *id = (const void *)g_a.buf;
    assert_int_equal(le64toh(id->nsze), 2048);
    assert_int_equal(le64toh(id->ncap), 2048);
    assert_int_equal(id->nlbaf, 0);
    assert_int_equal(id->lbaf[0].ds, 9);
    assert_int_equal(id->dlfeat & NVME_NS_DLFEAT_RB, NVME_NS_DLFEAT_RB_ALL_0S);
    assert_int_equal(id->nguid[0], 0x11);

    /* Resize seen on the next Identify. */
    atomic_store(&g_s->ns[1]->bdev->num_blocks, 4096);
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_NS, 1, 4096), 0);
    assert_int_equal(le64toh(id->nsze), 4096);

    /* 4 KiB block device: no zeroes-after-deallocate promise. */
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_NS, 3, 4096), 0);
    assert_int_equal(id->lbaf[0].ds, 12);
    assert_int_equal(id->dlfeat & NVME_NS_DLFEAT_RB, 0);

    /* Inactive but valid NSID: zero-filled; invalid NSIDs: Invalid Namespace. */
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_NS, 2, 4096), 0);
    assert_int_equal(le64toh(id->nsze), 0);
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_NS, 0, 4096), ST(0, NVME_SC_INVALID_NS));
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_NS, 33, 4096), ST(0, NVME_SC_INVALID_NS));
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_NS, NVME_NSID_ALL, 4096),
                     ST(0, NVME_SC_INVALID_NS));
}

static void test_identify_lists(void **state)
{
    const uint32_t *list = (const void *)g_a.buf;
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, 0, 4096), 0);
    assert_int_equal(le32toh(list[0]), 1);
    assert_int_equal(le32toh(list[1]), 3);
    assert_int_equal(list[2], 0);
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, 1, 4096), 0);
    assert_int_equal(le32toh(list[0]), 3);
    assert_int_equal(list[1], 0);
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, 0xfffffffe, 4096),
                     ST(0, NVME_SC_INVALID_NS));

    /* Descriptors: NGUID, UUID, CSI in the nidt/nidl/rsvd/nid layout the kernel walks. */
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_NS_DESC_LIST, 1, 4096), 0);
    const uint8_t *p = g_a.buf;
    assert_int_equal(p[0], NVME_NIDT_NGUID);
    assert_int_equal(p[1], 16);
    assert_int_equal(p[4], 0x11);
    p += 4 + 16;
    assert_int_equal(p[0], NVME_NIDT_UUID);
    assert_int_equal(p[1], 16);
    assert_int_equal(p[4], 0xa0);
    p += 4 + 16;
    assert_int_equal(p[0], NVME_NIDT_CSI);
    assert_int_equal(p[1], 1);
    assert_int_equal(p[4], NVME_CSI_NVM);
    p += 4 + 4 - 3;            /* CSI descriptor is 5 bytes */
    assert_int_equal(p[0], 0); /* terminated by a zero NIDL/NIDT */
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_NS_DESC_LIST, 2, 4096),
                     ST(0, NVME_SC_INVALID_NS));

    /* CNS 06h (NVM command set controller) is zero-filled; unknown CNS: Invalid Field. */
    assert_int_equal(t_identify(&g_a, NVME_IDENTIFY_CNS_CSI_CTRL, 0, 4096), 0);
    assert_int_equal(g_a.buf[0], 0);
    assert_int_equal(t_identify(&g_a, 0x15, 0, 4096), ST(0, NVME_SC_INVALID_FIELD));
}

static void test_log_pages(void **state)
{
    /* Error log: zeroed, (ELPE+1) entries; offsets and truncation. */
    assert_int_equal(t_get_log(&g_a, NVME_LOG_LID_ERROR, NVME_NSID_ALL, 0, 64, false), 0);
    assert_int_equal(g_a.req.length, 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(g_a.buf[i], 0);
    assert_int_equal(g_a.buf[64], 0xee);
    assert_int_equal(t_get_log(&g_a, NVME_LOG_LID_ERROR, NVME_NSID_ALL, 2, 64, false),
                     ST(0, NVME_SC_INVALID_FIELD)); /* not dword aligned */
    assert_int_equal(t_get_log(&g_a, NVME_LOG_LID_ERROR, NVME_NSID_ALL, 1u << 20, 64, false),
                     ST(0, NVME_SC_INVALID_FIELD)); /* past the end */

    /* SMART: counters from the bdevs; data units in 1000 x 512 bytes, rounded up. */
    atomic_store(&g_s->ns[1]->bdev->bytes_read, 512 * 1500);
    atomic_store(&g_s->ns[1]->bdev->num_read_ops, 7);
    atomic_store(&g_s->ns[3]->bdev->bytes_written, 512 * 1000);
    atomic_store(&g_s->ns[3]->bdev->num_write_ops, 3);
    assert_int_equal(t_get_log(&g_a, NVME_LOG_LID_SMART, NVME_NSID_ALL, 0, 512, false), 0);
    const struct nvme_smart_log *sl = (const void *)g_a.buf;
    assert_int_equal(sl->data_units_read[0], 2);
    assert_int_equal(sl->data_units_written[0], 1);
    assert_int_equal(sl->host_reads[0], 7);
    assert_int_equal(sl->host_writes[0], 3);
    assert_int_equal(t_get_log(&g_a, NVME_LOG_LID_SMART, 3, 0, 512, false), 0);
    assert_int_equal(sl->host_reads[0], 0);
    assert_int_equal(sl->host_writes[0], 3);
    assert_int_equal(t_get_log(&g_a, NVME_LOG_LID_SMART, 2, 0, 512, false),
                     ST(0, NVME_SC_INVALID_NS));
    /* Window in the middle of the page: host_reads is at byte 64. */
    assert_int_equal(t_get_log(&g_a, NVME_LOG_LID_SMART, NVME_NSID_ALL, 64, 16, false), 0);
    assert_int_equal(g_a.buf[0], 7);
    assert_int_equal(g_a.req.length, 16);

    /* Firmware slot: slot 1 active with our version. */
    assert_int_equal(t_get_log(&g_a, NVME_LOG_LID_FW_SLOT, NVME_NSID_ALL, 0, 512, false), 0);
    assert_int_equal(g_a.buf[0], 1);
    assert_memory_equal(&g_a.buf[8], SLIO_VERSION, strlen(SLIO_VERSION));

    /* Supported log pages; unknown pages and the discovery log on an I/O controller. */
    assert_int_equal(t_get_log(&g_a, NVME_LOG_LID_SUPPORTED_LOG_PAGES, 0, 0, 1024, false), 0);
    assert_int_equal(g_a.buf[4 * NVME_LOG_LID_SMART], 1);
    assert_int_equal(g_a.buf[4 * NVME_LOG_LID_CMD_EFFECTS], 0);
    assert_int_equal(t_get_log(&g_a, NVME_LOG_LID_CMD_EFFECTS, 0, 0, 4096, false),
                     ST(0, NVME_SC_INVALID_FIELD));
    assert_int_equal(t_get_log(&g_a, NVME_LOG_LID_DISCOVER, 0, 0, 4096, false),
                     ST(0, NVME_SC_INVALID_FIELD));
}

static void test_features(void **state)
{
    uint32_t v;
    /* Number of Queues: grant min(requested, 127). */
    assert_int_equal(t_set_feature(&g_a, NVME_FEAT_FID_NUM_QUEUES, (1000u << 16) | 1000u, &v), 0);
    assert_int_equal(v, (126u << 16) | 126u);
    assert_int_equal(t_set_feature(&g_a, NVME_FEAT_FID_NUM_QUEUES, (1u << 16) | 1u, &v), 0);
    assert_int_equal(v, (1u << 16) | 1u);
    assert_int_equal(t_get_feature(&g_a, NVME_FEAT_FID_NUM_QUEUES, 0, &v), 0);
    assert_int_equal(v, (1u << 16) | 1u);
    assert_int_equal(t_set_feature(&g_a, NVME_FEAT_FID_NUM_QUEUES, 0xffff, NULL),
                     ST(0, NVME_SC_INVALID_FIELD));

    /* Async event configuration: only namespace attribute notices. */
    assert_int_equal(t_set_feature(&g_a, NVME_FEAT_FID_ASYNC_EVENT, 1u << 8, NULL), 0);
    assert_int_equal(t_get_feature(&g_a, NVME_FEAT_FID_ASYNC_EVENT, 0, &v), 0);
    assert_int_equal(v, 1u << 8);
    assert_int_equal(t_set_feature(&g_a, NVME_FEAT_FID_ASYNC_EVENT, 1u << 9, NULL),
                     ST(0, NVME_SC_INVALID_FIELD));
    /* SPDK's initiator also enables the SMART critical warnings (bits 7:0). */
    assert_int_equal(t_set_feature(&g_a, NVME_FEAT_FID_ASYNC_EVENT, (1u << 8) | 0x1f, NULL), 0);

    /* Keep-alive timer. */
    assert_int_equal(t_set_feature(&g_a, NVME_FEAT_FID_KATO, 15000, NULL), 0);
    assert_int_equal(t_get_feature(&g_a, NVME_FEAT_FID_KATO, 0, &v), 0);
    assert_int_equal(v, 15000);

    /* Volatile write cache: reported enabled; cannot be switched off. */
    assert_int_equal(t_get_feature(&g_a, NVME_FEAT_FID_VOLATILE_WC, 0, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(t_set_feature(&g_a, NVME_FEAT_FID_VOLATILE_WC, 1, NULL), 0);
    assert_int_equal(t_set_feature(&g_a, NVME_FEAT_FID_VOLATILE_WC, 0, NULL),
                     ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_FEATURE_NOT_CHANGEABLE));

    /* Unknown features (Host Behavior, Timestamp) and saving: refused with DNR. */
    assert_int_equal(t_set_feature(&g_a, NVME_FEAT_FID_HOST_BEHAVIOR, 1, NULL),
                     ST(0, NVME_SC_INVALID_FIELD));
    assert_int_equal(t_get_feature(&g_a, NVME_FEAT_FID_TIMESTAMP, 0, NULL),
                     ST(0, NVME_SC_INVALID_FIELD));
    struct nvme_sqe save = {.opcode = nvme_admin_set_features};
    save.cdw10 = htole32(NVME_FEAT_FID_KATO | 1u << 31);
    t_exec(&g_a, &save, TGT_XFER_NONE, 0);
    assert_int_equal(g_a.req.status, ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_FEATURE_NOT_SAVEABLE));
    /* Mandatory-but-meaningless features read as 0; "supported" capabilities. */
    assert_int_equal(t_get_feature(&g_a, NVME_FEAT_FID_ARBITRATION, 0, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(t_get_feature(&g_a, NVME_FEAT_FID_KATO, 3, &v), 0);
    assert_int_equal(v, 4);
}

static void test_misc_admin(void **state)
{
    struct nvme_sqe abort_cmd = {.opcode = nvme_admin_abort_cmd, .cdw10 = htole32(5)};
    t_exec(&g_a, &abort_cmd, TGT_XFER_NONE, 0);
    assert_int_equal(g_a.req.status, 0);
    assert_int_equal(g_a.req.result & 1, 1); /* not aborted */

    struct nvme_sqe fmt = {.opcode = nvme_admin_format_nvm};
    t_exec(&g_a, &fmt, TGT_XFER_NONE, 0);
    assert_int_equal(g_a.req.status, ST(0, NVME_SC_INVALID_OPCODE));
    struct nvme_sqe csq = {.opcode = nvme_admin_create_sq};
    t_exec(&g_a, &csq, TGT_XFER_NONE, 0);
    assert_int_equal(g_a.req.status, ST(0, NVME_SC_INVALID_OPCODE));

    /* Host Identifier (128-bit) reads back the Connect hostid. */
    struct nvme_sqe hid = {.opcode = nvme_admin_get_features};
    hid.cdw10 = htole32(NVME_FEAT_FID_HOST_ID);
    hid.cdw11 = htole32(1);
    t_exec(&g_a, &hid, TGT_XFER_C2H, 16);
    assert_int_equal(g_a.req.status, 0);
    assert_int_equal(g_a.buf[0], 0x42);
    assert_int_equal(g_a.buf[15], 0x42);
}

static void test_discovery_controller(void **state)
{
    /* Three subsystems: ours (host allowed, one listener), one open to all on two
     * listeners, and one that does not admit this host. */
    struct tgt_subsys *open = fake_subsys_add("nqn.2024-01.io.slite:open", 1);
    open->allow_any_host = true;
    fake_listener_add(open, "10.0.0.1", "4420");
    fake_listener_add(open, "10.0.0.2", "4421");
    struct tgt_subsys *closed = fake_subsys_add("nqn.2024-01.io.slite:closed", 1);
    fake_host_add(closed, "nqn.2014-08.org.nvmexpress:uuid:someone-else");
    fake_listener_add(closed, T_TRADDR, T_TRSVCID);

    struct t_qpair d;
    t_qpair_init(&d);
    /* Any listener, any host; KATO 0 is fine for discovery. */
    snprintf(d.qp.local.trsvcid, sizeof(d.qp.local.trsvcid), "8009");
    assert_int_equal(t_connect(&d, 0, TGT_DISCOVERY_NQN, T_HOSTNQN, 0xffff, 31, 0), 0);
    uint16_t disc_cntlid = (uint16_t)d.req.result;
    assert_int_equal(t_prop_set_cc(&d, 1), 0);

    assert_int_equal(t_identify(&d, NVME_IDENTIFY_CNS_CTRL, 0, 4096), 0);
    const struct nvme_id_ctrl *id = (const void *)d.buf;
    assert_int_equal(id->cntrltype, NVME_CTRL_CNTRLTYPE_DISCOVERY);
    assert_string_equal(id->subnqn, TGT_DISCOVERY_NQN);
    assert_int_equal(le32toh(id->nn), 0);
    assert_int_equal(t_identify(&d, NVME_IDENTIFY_CNS_NS, 1, 4096), ST(0, NVME_SC_INVALID_FIELD));

    /* Header first (as the host does), then the whole log. */
    assert_int_equal(t_get_log(&d, NVME_LOG_LID_DISCOVER, 0, 0, 1024, false), 0);
    const struct nvmf_discovery_log *h = (const void *)d.buf;
    assert_int_equal(le64toh(h->numrec), 3);
    uint64_t genctr = le64toh(h->genctr);
    assert_int_equal(genctr, fake.genctr);
    assert_int_equal(t_get_log(&d, NVME_LOG_LID_DISCOVER, 0, 0, 4096, false), 0);
    const struct nvmf_disc_log_entry *e = h->entries;
    assert_string_equal(e[0].subnqn, T_SUBNQN);
    assert_string_equal(e[0].traddr, T_TRADDR);
    assert_string_equal(e[0].trsvcid, T_TRSVCID);
    assert_int_equal(e[0].trtype, NVMF_TRTYPE_TCP);
    assert_int_equal(e[0].adrfam, NVMF_ADDR_FAMILY_IP4);
    assert_int_equal(e[0].subtype, NVME_NQN_NVME);
    assert_int_equal(le16toh(e[0].cntlid), 0xffff);
    assert_int_equal(le16toh(e[0].asqsz), 128);
    assert_true(e[0].treq & NVMF_TREQ_NOT_REQUIRED);
    assert_string_equal(e[1].subnqn, "nqn.2024-01.io.slite:open");
    assert_string_equal(e[2].traddr, "10.0.0.2");
    assert_int_not_equal(e[1].portid, e[2].portid);
    /* The subsystem that refuses this host is not listed. */
    for (int i = 0; i < 3; i++)
        assert_string_not_equal(e[i].subnqn, "nqn.2024-01.io.slite:closed");

    /* A window covering only the third entry. */
    assert_int_equal(t_get_log(&d, NVME_LOG_LID_DISCOVER, 0, 1024 + 2 * 1024, 1024, false), 0);
    assert_string_equal(((const struct nvmf_disc_log_entry *)d.buf)->traddr, "10.0.0.2");
    /* Past the end of the log. */
    assert_int_equal(t_get_log(&d, NVME_LOG_LID_DISCOVER, 0, 8192, 1024, false),
                     ST(0, NVME_SC_INVALID_FIELD));

    /* Only discovery commands are served. */
    struct nvme_sqe abort_cmd = {.opcode = nvme_admin_abort_cmd};
    t_exec(&d, &abort_cmd, TGT_XFER_NONE, 0);
    assert_int_equal(d.req.status, ST(0, NVME_SC_INVALID_OPCODE));
    /* No I/O queues on a discovery controller. */
    struct t_qpair io;
    t_qpair_init(&io);
    assert_int_equal(t_connect(&io, 1, TGT_DISCOVERY_NQN, T_HOSTNQN, disc_cntlid, 31, 0),
                     ST(NVME_SCT_CMD_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAM));

    /* `nvme discover` ends with CC.SHN and waits for SHST complete. */
    assert_int_equal(t_prop_set_cc(&d, 1u | 1u << 14), 0);
    uint64_t csts;
    assert_int_equal(t_prop_get(&d, NVME_REG_CSTS, false, &csts), 0);
    assert_int_equal((csts >> 2) & 3, 2);
    t_close(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identify_ctrl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identify_ns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identify_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misc_admin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discovery_controller, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
