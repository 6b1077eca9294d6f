/* SPDX-License-Identifier: Apache-2.0 */
#include <endian.h>
#include <string.h>

#include "fake_nvmf.h"

struct fake_nvmf fake;
static int g_dummy_ctrlr;

/* the registry's, for a request whose read data pointed into a mapping */
void tgt_bdev_put(struct tgt_bdev *b)
{
    atomic_fetch_sub(&b->refs, 1);
}

void fake_reset(void)
{
    fake.execs = fake.finis = fake.ticks = fake.prechecks = 0;
    fake.tick_ok = true;
    fake.npending = 0;
    fake.abandonable = false;
    fake.abandoned = 0;
}

static void fake_connect(struct tgt_req *req)
{
    const uint8_t *sqe = (const uint8_t *)&req->cmd;
    struct tgt_qpair *qp = req->qpair;
    uint16_t qid, sqsize;

    if (req->xfer != TGT_XFER_H2C || req->length != 1024 || !req->data) {
        req->status = NVME_STATUS(0, 0x02) | NVME_STATUS_DNR;
        return;
    }
    memcpy(&qid, sqe + 42, 2);
    memcpy(&sqsize, sqe + 44, 2);
    qp->qid = le16toh(qid);
    qp->sqsize = (uint16_t)(le16toh(sqsize) + 1);
    qp->sq_flow_control_disabled = sqe[46] & 0x04;
    qp->ctrlr = (struct tgt_ctrlr *)&g_dummy_ctrlr;
}

static void fake_rw(struct tgt_req *req, bool write)
{
    uint64_t off = (uint64_t)le32toh(req->cmd.cdw10) * 512;

    if (off > FAKE_DISK_SIZE || req->length > FAKE_DISK_SIZE - off) {
        req->status = NVME_STATUS(0, 0x80) | NVME_STATUS_DNR;
        return;
    }
    if (!req->length || !req->data)
        return;
    if (write)
        memcpy(fake.disk + off, req->data, req->length);
    else
        memcpy(req->data, fake.disk + off, req->length);
}

/* like the real layer: only Connect before Connect (so no data is solicited for others) */
uint16_t tgt_nvmf_precheck(const struct tgt_req *req)
{
    fake.prechecks++;
    if (req->qpair->ctrlr || (req->cmd.opcode == NVME_FABRICS_OPCODE &&
                              nvme_sqe_fctype(&req->cmd) == NVMF_FCTYPE_CONNECT))
        return 0;
    return NVME_STATUS(0, 0x0c) | NVME_STATUS_DNR;
}

enum tgt_exec_result tgt_nvmf_exec(struct tgt_req *req)
{
    fake.execs++;
    req->status = 0;
    req->result = 0;
    if (req->cmd.opcode == NVME_FABRICS_OPCODE &&
        nvme_sqe_fctype(&req->cmd) == NVMF_FCTYPE_CONNECT) {
        fake_connect(req);
        return TGT_EXEC_DONE;
    }
    if (!req->qpair->ctrlr) {
        req->status = NVME_STATUS(0, 0x0c) | NVME_STATUS_DNR;
        return TGT_EXEC_DONE;
    }
    switch (req->cmd.opcode) {
    case 0x01:
    case 0x02:
        fake_rw(req, req->cmd.opcode == 0x01);
        return TGT_EXEC_DONE;
    case 0x00:
        return TGT_EXEC_DONE;
    case FAKE_PENDING_OPC:
        if (fake.npending < FAKE_MAX_PENDING) {
            fake.pending[fake.npending++] = req;
            return TGT_EXEC_PENDING;
        }
        break;
    default:
        break;
    }
    req->status = NVME_STATUS(0, 0x01) | NVME_STATUS_DNR;
    return TGT_EXEC_DONE;
}

bool fake_complete_one(void)
{
    if (fake.npending == 0)
        return false;
    struct tgt_req *req = fake.pending[0];
    memmove(fake.pending, fake.pending + 1, --fake.npending * sizeof(fake.pending[0]));
    req->result = 0x1234;
    tgt_req_complete(req);
    return true;
}

void tgt_nvmf_qpair_fini(struct tgt_qpair *qp)
{
    fake.finis++;
    /* like the real layer: requests it holds for this qpair are dropped */
    unsigned k = 0;
    for (unsigned i = 0; i < fake.npending; i++)
        if (fake.pending[i]->qpair != qp)
            fake.pending[k++] = fake.pending[i];
    fake.npending = k;
}

struct tgt_req *tgt_nvmf_take_abandoned(struct tgt_qpair *qp, uint16_t cid)
{
    for (unsigned i = 0; fake.abandonable && i < fake.npending; i++) {
        struct tgt_req *req = fake.pending[i];
        if (req->qpair != qp || req->cmd.cid != cid)
            continue;
        memmove(&fake.pending[i], &fake.pending[i + 1],
                (--fake.npending - i) * sizeof(fake.pending[0]));
        fake.abandoned++;
        return req;
    }
    return NULL;
}

bool tgt_nvmf_qpair_tick(struct tgt_qpair *qp, uint64_t now_us)
{
    fake.ticks++;
    return fake.tick_ok;
}
