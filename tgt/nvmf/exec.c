/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tgt_nvmf_exec(): the one entry point from the transport. Routes a command
 * by queue and opcode:
 *   - fabrics (7Fh) on any queue -> fabrics.c (only Connect before Connect);
 *   - anything else before Connect -> Command Sequence Error;
 *   - admin queue: admin commands (an I/O opcode there is read as an admin
 *     opcode, and unknown ones get Invalid Opcode);
 *   - I/O queue: the NVM command set via io_cmd.c after the namespace
 *     lookup; admin-only opcodes get Invalid Opcode.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <string.h>

#include "nvmf/io_cmd.h"
#include "nvmf/nvmf_internal.h"
#include "slio/log.h"

void nvmf_copy_out(struct tgt_req *req, const void *src, size_t len)
{
    if (req->xfer != TGT_XFER_C2H || !req->data) {
        req->length = 0;
        return;
    }
    uint32_t n = (uint32_t)SLIO_MIN((size_t)req->length, len);
    memcpy(req->data, src, n);
    req->length = n;
}

void nvmf_strpad(char *dst, size_t n, const char *src, char pad)
{
    size_t l = strnlen(src, n);
    memcpy(dst, src, l);
    memset(dst + l, pad, n - l);
}

/* Opcodes a discovery controller serves (NVMe-oF 1.1, 5.1). */
static bool discovery_opcode(uint8_t opc)
{
    switch (opc) {
    case nvme_admin_get_log_page:
    case nvme_admin_identify:
    case nvme_admin_set_features:
    case nvme_admin_get_features:
    case nvme_admin_async_event:
    case nvme_admin_keep_alive:
        return true;
    default:
        return false;
    }
}

static enum tgt_exec_result admin_exec(struct tgt_req *req, struct tgt_ctrlr *c)
{
    uint8_t opc = req->cmd.opcode;

    nvmf_ctrlr_touch(c);
    if (!nvmf_ctrlr_ready(c)) {
        req->status = NVMF_CMD_SEQ_ERROR;
        return TGT_EXEC_DONE;
    }
    if (c->discovery && !discovery_opcode(opc)) {
        req->status = NVMF_INVALID_OPCODE;
        return TGT_EXEC_DONE;
    }
    switch (opc) {
    case nvme_admin_identify:
        nvmf_identify(req);
        break;
    case nvme_admin_get_log_page:
        nvmf_get_log_page(req);
        break;
    case nvme_admin_set_features:
        nvmf_set_features(req);
        break;
    case nvme_admin_get_features:
        nvmf_get_features(req);
        break;
    case nvme_admin_async_event:
        return nvmf_aer_submit(req);
    case nvme_admin_keep_alive:
        break; /* nvmf_ctrlr_touch() above restarted the timer */
    case nvme_admin_abort_cmd:
        req->result = 1; /* DW0 bit 0: command not aborted; allowed by the spec */
        break;
    default:
        req->status = NVMF_INVALID_OPCODE;
    }
    return TGT_EXEC_DONE;
}

static bool io_opcode(uint8_t opc)
{
    switch (opc) {
    case nvme_cmd_flush:
    case nvme_cmd_write:
    case nvme_cmd_read:
    case nvme_cmd_write_zeroes:
    case nvme_cmd_dsm:
        return true;
    default:
        return false;
    }
}

static enum tgt_exec_result io_exec(struct tgt_req *req, struct tgt_ctrlr *c)
{
    struct tgt_qpair *qp = req->qpair;

    if (!io_opcode(req->cmd.opcode)) {
        req->status = NVMF_INVALID_OPCODE;
        return TGT_EXEC_DONE;
    }
    /*
     * Disconnected, reset (CC.EN 0), shut down or torn down: the queue is
     * closed at the next tick, and nothing received meanwhile may run. The
     * host's own doing (its queue gone) is a sequence error; a teardown by the
     * target (below) is an abort the host may retry.
     */
    if (_unlikely_(atomic_load_explicit(&c->io_qps[qp->qid], memory_order_acquire) != qp)) {
        req->status = NVMF_CMD_SEQ_ERROR;
        return TGT_EXEC_DONE;
    }
    /* Torn down by the target (host or listener removed): not the host's doing, so an abort it
     * may retry once reconnected, not a DNR error that fails its write (seen in the VM). */
    if (_unlikely_(atomic_load_explicit(&c->dead, memory_order_relaxed))) {
        req->status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORT_QUEUE);
        return TGT_EXEC_DONE;
    }
    struct tgt_ns *ns = c->subs ? tgt_ns_get_io(c->subs, nvmf_nsid(req)) : NULL;
    if (!ns) {
        req->status = NVMF_INVALID_NS;
        return TGT_EXEC_DONE;
    }
    return tgt_io_cmd_exec(req, ns);
}

uint16_t tgt_nvmf_precheck(const struct tgt_req *req)
{
    const struct tgt_qpair *qp = req->qpair;

    if (req->cmd.opcode == NVME_FABRICS_OPCODE) {
        uint8_t fctype = nvme_sqe_fctype(&req->cmd);
        bool is_connect = fctype == NVMF_FCTYPE_CONNECT;
        if (is_connect == (qp->ctrlr != NULL))
            return NVMF_CMD_SEQ_ERROR;
        bool is_auth =
            fctype == nvme_fabrics_type_auth_send || fctype == nvme_fabrics_type_auth_receive;
        return !is_connect && !is_auth && nvmf_auth_pending(qp) ? NVMF_AUTH_REQUIRED : 0;
    }
    if (!qp->ctrlr)
        return NVMF_CMD_SEQ_ERROR;
    if (nvmf_auth_pending(qp))
        return NVMF_AUTH_REQUIRED;
    if (qp->qid != 0 && !io_opcode(req->cmd.opcode))
        return NVMF_INVALID_OPCODE;
    return 0;
}

enum tgt_exec_result tgt_nvmf_exec(struct tgt_req *req)
{
    struct tgt_qpair *qp = req->qpair;
    struct tgt_ctrlr *c = qp->ctrlr;

    req->status = 0;
    req->result = 0;
    if (req->cmd.opcode == NVME_FABRICS_OPCODE)
        return nvmf_fabrics_exec(req);
    if (_unlikely_(!c)) {
        req->status = NVMF_CMD_SEQ_ERROR;
        return TGT_EXEC_DONE;
    }
    if (_unlikely_(nvmf_auth_pending(qp))) { /* precheck refused it already; belt and braces */
        req->status = NVMF_AUTH_REQUIRED;
        return TGT_EXEC_DONE;
    }
    if (qp->qid == 0)
        return admin_exec(req, c);
    return io_exec(req, c);
}
