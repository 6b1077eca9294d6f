/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A controller association seen from the host: the admin queue, the
 * Fabrics bring-up sequence the Linux host uses (Connect with KATO, read CAP,
 * CC.EN, wait for CSTS.RDY, Identify Controller), admin helpers, I/O queue
 * creation joining the controller ID, and orderly shutdown (CC.SHN).
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

#include "host_int.h"

#define ADMIN_MAX_XFER   (256u * 1024u)
#define DISC_MAX_RECORDS 1024u
#define MIN_PAGE         4096u

struct slio_host_ctrl {
    char traddr[256], trsvcid[32];
    char subnqn[NVME_NQN_LENGTH], hostnqn[NVME_NQN_LENGTH];
    struct slio_host_opts opts; /* string fields point into the arrays above */
    struct slio_host_ctrl_info info;
    struct slio_host_queue *admin;
    uint32_t cc;
};

void slio_host_default_hostnqn(const uint8_t hostid[16], char *buf, size_t len)
{
    char s[37];

    uuid_unparse_lower(hostid, s);
    snprintf(buf, len, "nqn.2014-08.org.nvmexpress:uuid:%s", s);
}

const struct slio_host_ctrl_info *slio_host_ctrl_get_info(const struct slio_host_ctrl *ctrl)
{
    return &ctrl->info;
}

const char *slio_host_ctrl_error(const struct slio_host_ctrl *ctrl)
{
    return slio_host_queue_error(ctrl->admin);
}

struct slio_host_queue *slio_host_ctrl_admin_queue(struct slio_host_ctrl *ctrl)
{
    return ctrl->admin;
}

/* Run an admin command; a non-zero NVMe status becomes -EIO with the text in the queue error. */
static int admin_cmd(struct slio_host_ctrl *ctrl, const struct nvme_sqe *sqe, void *buf,
                     uint32_t len, enum slio_host_dir dir, uint64_t *ret_result, const char *what)
{
    int status = 0;
    char sbuf[96];
    int r = host_queue_exec(ctrl->admin, sqe, buf, len, dir, &status, ret_result);

    if (r < 0)
        return r;
    if (status != 0) {
        host_queue_set_err(ctrl->admin, "%s failed: %s", what,
                           host_status_str(status, sbuf, sizeof(sbuf)));
        return -EIO;
    }
    return 0;
}

int slio_host_admin_sync(struct slio_host_ctrl *ctrl, const struct nvme_sqe *sqe, void *buf,
                         uint32_t len, enum slio_host_dir dir, int *ret_status,
                         uint64_t *ret_result)
{
    return host_queue_exec(ctrl->admin, sqe, buf, len, dir, ret_status, ret_result);
}

int slio_host_prop_get(struct slio_host_ctrl *ctrl, uint32_t ofst, bool eight, uint64_t *ret_value)
{
    struct nvme_sqe sqe;
    uint64_t v = 0;

    host_sqe_prop_get(&sqe, ofst, eight);
    int r = admin_cmd(ctrl, &sqe, NULL, 0, SLIO_HOST_DIR_NONE, &v, "Property Get");
    if (r < 0)
        return r;
    *ret_value = eight ? v : (uint32_t)v;
    return 0;
}

int slio_host_prop_set(struct slio_host_ctrl *ctrl, uint32_t ofst, bool eight, uint64_t value)
{
    struct nvme_sqe sqe;

    host_sqe_prop_set(&sqe, ofst, eight, value);
    return admin_cmd(ctrl, &sqe, NULL, 0, SLIO_HOST_DIR_NONE, NULL, "Property Set");
}

int slio_host_identify(struct slio_host_ctrl *ctrl, uint8_t cns, uint32_t nsid, void *buf4k)
{
    struct nvme_sqe sqe;

    host_sqe_identify(&sqe, cns, nsid);
    return admin_cmd(ctrl, &sqe, buf4k, 4096, SLIO_HOST_DIR_C2H, NULL, "Identify");
}

int slio_host_identify_ns(struct slio_host_ctrl *ctrl, uint32_t nsid, struct nvme_id_ns *ret_ns)
{
    _Static_assert(sizeof(*ret_ns) == 4096, "id_ns");
    return slio_host_identify(ctrl, NVME_IDENTIFY_CNS_NS, nsid, ret_ns);
}

int slio_host_set_num_queues(struct slio_host_ctrl *ctrl, uint32_t n, uint32_t *ret_granted)
{
    struct nvme_sqe sqe;
    uint64_t res = 0;

    if (n == 0 || n > 0x10000)
        return -EINVAL;
    host_sqe_set_features(&sqe, NVME_FEAT_FID_NUM_QUEUES, (n - 1) | ((n - 1) << 16));
    int r = admin_cmd(ctrl, &sqe, NULL, 0, SLIO_HOST_DIR_NONE, &res, "Set Features (queues)");
    if (r < 0)
        return r;
    uint32_t nsqa = (uint32_t)(res & 0xffff) + 1, ncqa = (uint32_t)((res >> 16) & 0xffff) + 1;
    *ret_granted = SLIO_MIN(n, SLIO_MIN(nsqa, ncqa));
    return 0;
}

int slio_host_keep_alive(struct slio_host_ctrl *ctrl)
{
    struct nvme_sqe sqe;

    host_sqe_keep_alive(&sqe);
    return admin_cmd(ctrl, &sqe, NULL, 0, SLIO_HOST_DIR_NONE, NULL, "Keep Alive");
}

int slio_host_get_log(struct slio_host_ctrl *ctrl, uint8_t lid, uint32_t nsid, uint64_t offset,
                      void *buf, uint32_t len)
{
    struct nvme_sqe sqe;

    if (len == 0 || len % 4 || len > ADMIN_MAX_XFER)
        return -EINVAL;
    host_sqe_get_log(&sqe, lid, nsid, offset, len);
    return admin_cmd(ctrl, &sqe, buf, len, SLIO_HOST_DIR_C2H, NULL, "Get Log Page");
}

int slio_host_get_discovery_log(struct slio_host_ctrl *ctrl, struct nvmf_discovery_log **ret_log)
{
    _Static_assert(sizeof(struct nvmf_discovery_log) == 1024, "disc hdr");
    _Static_assert(sizeof(struct nvmf_disc_log_entry) == 1024, "disc entry");

    for (int attempt = 0; attempt < 3; attempt++) {
        struct nvmf_discovery_log hdr;
        int r = slio_host_get_log(ctrl, NVME_LOG_LID_DISCOVER, 0, 0, &hdr, sizeof(hdr));
        if (r < 0)
            return r;
        uint64_t numrec = le64toh(hdr.numrec);
        if (numrec > DISC_MAX_RECORDS) {
            host_queue_set_err(ctrl->admin, "discovery log: %llu records, more than %u",
                               (unsigned long long)numrec, DISC_MAX_RECORDS);
            return -E2BIG;
        }
        size_t total = sizeof(hdr) + numrec * sizeof(struct nvmf_disc_log_entry);
        _cleanup_free_ struct nvmf_discovery_log *log = calloc(1, total);
        if (!log)
            return -ENOMEM;
        for (size_t off = 0; off < total;) {
            uint32_t n = (uint32_t)SLIO_MIN(total - off, (size_t)ADMIN_MAX_XFER);
            r = slio_host_get_log(ctrl, NVME_LOG_LID_DISCOVER, 0, off, (uint8_t *)log + off, n);
            if (r < 0)
                return r;
            off += n;
        }
        /* the generation counter tells whether the log changed between the reads */
        if (log->genctr == hdr.genctr && le64toh(log->numrec) == numrec) {
            *ret_log = TAKE_PTR(log);
            return 0;
        }
    }
    host_queue_set_err(ctrl->admin, "discovery log kept changing while being read");
    return -EAGAIN;
}

/* Wait (bounded) until (CSTS & mask) == want. */
static int wait_csts(struct slio_host_ctrl *ctrl, uint32_t mask, uint32_t want, uint32_t ms,
                     const char *what)
{
    uint64_t deadline = host_now_us() + (uint64_t)ms * 1000u;

    for (;;) {
        uint64_t csts = 0;
        int r = slio_host_prop_get(ctrl, NVME_REG_CSTS, false, &csts);
        if (r < 0)
            return r;
        if ((csts & mask) == want)
            return 0;
        if (csts & (1u << 1)) { /* CSTS.CFS */
            host_queue_set_err(ctrl->admin, "controller fatal status while waiting for %s", what);
            return -EIO;
        }
        if (host_now_us() >= deadline) {
            host_queue_set_err(ctrl->admin, "timed out after %u ms waiting for %s", ms, what);
            return -ETIMEDOUT;
        }
        (void)poll(NULL, 0, 10);
    }
}

static void fill_info(struct slio_host_ctrl *ctrl)
{
    struct slio_host_ctrl_info *in = &ctrl->info;
    uint32_t mps = MIN_PAGE << NVME_CAP_MPSMIN(in->cap);
    uint32_t ioccsz = le32toh(in->id.ioccsz);

    in->mqes = (uint32_t)NVME_CAP_MQES(in->cap) + 1;
    in->max_xfer =
        in->id.mdts ? (uint32_t)SLIO_MIN((uint64_t)mps << in->id.mdts, 1u << 24) : (1u << 20);
    /* we place in-capsule data right after the SQE, so an ICDOFF we would have to honour
     * means no in-capsule data at all */
    in->io_icd = (ioccsz > 4 && le16toh(in->id.icdoff) == 0) ? ioccsz * 16 - 64 : 0;
    in->maxh2cdata = ctrl->admin->maxh2cdata;
    in->hdgst = ctrl->admin->params.hdgst;
    in->ddgst = ctrl->admin->params.ddgst;
}

/* Bring-up after the admin Connect: CAP, VS, CC.EN → CSTS.RDY, Identify Controller. */
static int enable(struct slio_host_ctrl *ctrl)
{
    uint64_t vs = 0;
    int r = slio_host_prop_get(ctrl, NVME_REG_CAP, true, &ctrl->info.cap);

    if (r < 0 || (r = slio_host_prop_get(ctrl, NVME_REG_VS, false, &vs)) < 0)
        return r;
    ctrl->info.vs = (uint32_t)vs;
    ctrl->cc =
        (1u << NVME_CC_EN_SHIFT) | (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT);
    r = slio_host_prop_set(ctrl, NVME_REG_CC, false, ctrl->cc);
    if (r < 0)
        return r;
    uint32_t to_ms = (uint32_t)SLIO_MAX(NVME_CAP_TO(ctrl->info.cap), 1u) * 500u;
    r = wait_csts(ctrl, NVME_CSTS_RDY_MASK, 1, SLIO_MIN(to_ms, ctrl->opts.timeout_ms), "CSTS.RDY");
    if (r < 0)
        return r;
    r = slio_host_identify(ctrl, NVME_IDENTIFY_CNS_CTRL, 0, &ctrl->info.id);
    if (r < 0 && !ctrl->info.discovery)
        return r;
    fill_info(ctrl);
    return 0;
}

static void copy_opts(struct slio_host_ctrl *ctrl, const struct slio_host_opts *opts)
{
    static const uint8_t zero[16];

    ctrl->opts = *opts;
    snprintf(ctrl->traddr, sizeof(ctrl->traddr), "%s", opts->traddr);
    snprintf(ctrl->trsvcid, sizeof(ctrl->trsvcid), "%s", opts->trsvcid);
    snprintf(ctrl->subnqn, sizeof(ctrl->subnqn), "%s", opts->subnqn);
    if (memcmp(opts->hostid, zero, sizeof(zero)) == 0)
        uuid_generate_random(ctrl->opts.hostid);
    if (opts->hostnqn)
        snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn), "%s", opts->hostnqn);
    else
        slio_host_default_hostnqn(ctrl->opts.hostid, ctrl->hostnqn, sizeof(ctrl->hostnqn));
    if (ctrl->opts.timeout_ms == 0)
        ctrl->opts.timeout_ms = SLIO_HOST_DEFAULT_TIMEOUT_MS;
    ctrl->opts.traddr = ctrl->traddr;
    ctrl->opts.trsvcid = ctrl->trsvcid;
    ctrl->opts.subnqn = ctrl->subnqn;
    ctrl->opts.hostnqn = ctrl->hostnqn;
    ctrl->info.discovery = strcmp(ctrl->subnqn, NVME_DISC_SUBSYS_NAME) == 0;
}

int slio_host_ctrl_connect(const struct slio_host_opts *opts, struct slio_host_ctrl **ret_ctrl,
                           char *err, size_t errlen)
{
    struct slio_host_ctrl *ctrl = calloc(1, sizeof(*ctrl));

    if (!ctrl)
        return -ENOMEM;
    copy_opts(ctrl, opts);
    struct host_queue_cfg cfg = {
        .traddr = ctrl->traddr,
        .trsvcid = ctrl->trsvcid,
        .qid = 0,
        .qd = SLIO_HOST_ADMIN_QD,
        .max_xfer = ADMIN_MAX_XFER,
        .icd = SLIO_HOST_ADMIN_CCSZ,
        .hdgst = opts->hdgst,
        .ddgst = opts->ddgst,
        .timeout_ms = ctrl->opts.timeout_ms,
    };
    int r = host_queue_open(&cfg, &ctrl->admin, err, errlen);
    if (r < 0) {
        free(ctrl);
        return r;
    }
    r = host_queue_fabrics_connect(ctrl->admin, &ctrl->opts, 0xffff, 0, opts->kato_ms,
                                   &ctrl->info.cntlid);
    if (r == 0)
        r = enable(ctrl);
    if (r < 0) {
        snprintf(err, errlen, "%s", slio_host_queue_error(ctrl->admin));
        slio_host_ctrl_free(ctrl);
        return r;
    }
    *ret_ctrl = ctrl;
    return 0;
}

void slio_host_ctrl_free(struct slio_host_ctrl *ctrl)
{
    if (!ctrl)
        return;
    slio_host_queue_free(ctrl->admin);
    free(ctrl);
}

void slio_host_ctrl_disconnect(struct slio_host_ctrl *ctrl)
{
    if (!ctrl)
        return;
    if (!ctrl->admin->dead &&
        slio_host_prop_set(ctrl, NVME_REG_CC, false,
                           (ctrl->cc & ~(3u << NVME_CC_SHN_SHIFT)) |
                               (NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT)) == 0)
        (void)wait_csts(ctrl, NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT,
                        NVME_CSTS_SHST_CMPLT << NVME_CSTS_SHST_SHIFT,
                        SLIO_MIN(ctrl->opts.timeout_ms, 5000u), "CSTS.SHST complete");
    slio_host_ctrl_free(ctrl);
}

int slio_host_queue_create(struct slio_host_ctrl *ctrl, uint16_t qid, uint32_t qd,
                           uint32_t max_xfer, struct slio_host_queue **ret_q, char *err,
                           size_t errlen)
{
    const struct slio_host_ctrl_info *in = &ctrl->info;
    struct slio_host_queue *q = NULL;
    uint16_t cntlid = 0;

    if (qid == 0 || qd < 2 || qd > in->mqes || max_xfer > in->max_xfer) {
        snprintf(err, errlen,
                 "queue %u: depth %u / transfer size %u outside what the controller allows "
                 "(depth 2..%u, transfer up to %u bytes)",
                 qid, qd, max_xfer, in->mqes, in->max_xfer);
        return -EINVAL;
    }
    struct host_queue_cfg cfg = {
        .traddr = ctrl->traddr,
        .trsvcid = ctrl->trsvcid,
        .qid = qid,
        .qd = qd,
        .max_xfer = max_xfer,
        .icd = in->io_icd,
        .hdgst = ctrl->opts.hdgst,
        .ddgst = ctrl->opts.ddgst,
        .timeout_ms = ctrl->opts.timeout_ms,
    };
    int r = host_queue_open(&cfg, &q, err, errlen);
    if (r < 0)
        return r;
    uint8_t cattr = ctrl->opts.keep_sqflow ? 0 : HOST_CONNECT_DISABLE_SQFLOW;
    r = host_queue_fabrics_connect(q, &ctrl->opts, in->cntlid, cattr, 0, &cntlid);
    if (r < 0) {
        snprintf(err, errlen, "%s", slio_host_queue_error(q));
        slio_host_queue_free(q);
        return r;
    }
    *ret_q = q;
    return 0;
}
