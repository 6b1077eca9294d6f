/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for tgt_nvmf_exec(): arbitrary 64-byte SQEs plus data fed
 * to an enabled admin queue, a connected I/O queue and an unconnected queue
 * of the same host, interleaved with ticks of a moving clock. Afterwards
 * every queue is torn down and every registry reference must be back.
 *
 * Input: records of [flags:1][len:2 LE][sqe:64][data:len]
 *   flags bits 0-1: queue (0/3 admin, 1 I/O, 2 unconnected)
 *         bits 2-3: transfer (0 none, 1 H2C, 2 C2H)
 *         bit 4:    tick every queue after the command
 *         bits 5-7: clock advance before the command, in seconds
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_fakes.h"

#define MAX_REQS 64
#define BUF_SIZE 65536

static struct tgt_req g_reqs[MAX_REQS];
static uint8_t g_bufs[MAX_REQS][BUF_SIZE];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void setup(struct t_qpair *a, struct t_qpair *io, struct t_qpair *raw)
{
    fake_reset();
    struct tgt_subsys *s = fake_subsys_add(T_SUBNQN, 8);
    fake_host_add(s, T_HOSTNQN);
    fake_listener_add(s, T_TRADDR, T_TRSVCID);
    fake_ns_add(s, 1, 4096, 512, false);
    fake_ns_add(s, 2, 512, 4096, true);
    uint16_t cntlid = t_admin_up(a, T_SUBNQN, 3000);
    t_qpair_init(io);
    if (t_connect(io, 1, T_SUBNQN, T_HOSTNQN, cntlid, 63, 0) != 0)
        abort();
    t_qpair_init(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct t_qpair a, io, raw;
    struct t_qpair *qs[4] = {&a, &io, &raw, &a};
    setup(&a, &io, &raw);

    size_t pos = 0;
    unsigned n = 0;
    while (n < MAX_REQS && size - pos >= 3 + sizeof(struct nvme_sqe)) {
        uint8_t flags = data[pos];
        uint32_t len = (uint32_t)data[pos + 1] | (uint32_t)data[pos + 2] << 8;
        pos += 3;
        struct t_qpair *q = qs[flags & 3];
        struct tgt_req *r = &g_reqs[n++];
        memset(r, 0, sizeof(*r));
        memcpy(&r->cmd, data + pos, sizeof(r->cmd));
        pos += sizeof(r->cmd);
        uint32_t avail = (uint32_t)SLIO_MIN((size_t)len, size - pos);
        r->xfer = (enum tgt_xfer)(((flags >> 2) & 3) % 3);
        r->length = r->xfer == TGT_XFER_NONE ? 0 : len;
        r->data = r->length ? g_bufs[n - 1] : NULL;
        if (r->data) {
            memset(r->data, 0, r->length);
            memcpy(r->data, data + pos, avail);
        }
        pos += avail;
        r->qpair = &q->qp;
        fake.now_us += (uint64_t)(flags >> 5) * 1000000;
        tgt_nvmf_exec(r); /* PENDING requests stay in g_reqs until dropped below */
        if (flags & 0x10) {
            for (int i = 0; i < 3; i++)
                if (!tgt_nvmf_qpair_tick(&qs[i]->qp, fake.now_us))
                    tgt_nvmf_qpair_fini(&qs[i]->qp);
        }
    }
    tgt_nvmf_qpair_fini(&io.qp);
    tgt_nvmf_qpair_fini(&raw.qp);
    tgt_nvmf_qpair_fini(&a.qp);
    if (!fake_refs_balanced())
        abort(); /* a subsystem or namespace reference leaked */
    return 0;
}
