/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identify: controller (CNS 01h), namespace (00h), active namespace list
 * (02h), namespace identification descriptors (03h) and the NVM command
 * set specific controller structure (06h, CSI 0: all limits zero = none),
 * which Linux hosts ask for since 5.17 and whose failure they tolerate.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <string.h>

#include "nvmf/nvmf_internal.h"
#include "slio/log.h"

#define MPS_MIN_SHIFT 12 /* CAP.MPSMIN = 0: 4 KiB memory pages */

/* MDTS: log2 of the largest transfer in units of the minimum page size. */
static uint8_t mdts_from(uint32_t max_io_size)
{
    uint8_t m = 0;
    while (m < 31 && ((uint64_t)1 << (MPS_MIN_SHIFT + m + 1)) <= max_io_size)
        m++;
    return m ? m : 1;
}

static void fill_ctrl_common(struct nvme_id_ctrl *id, const struct tgt_ctrlr *c)
{
    const struct tgt_transport_opts *o = tgt_transport_get_opts();
    const char *sn = c->subs ? tgt_subsys_serial(c->subs) : "";
    const char *mn = c->subs ? tgt_subsys_model(c->subs) : "SLiteIO discovery";

    nvmf_strpad(id->sn, sizeof(id->sn), sn, ' ');
    nvmf_strpad(id->mn, sizeof(id->mn), mn, ' ');
    nvmf_strpad(id->fr, sizeof(id->fr), SLIO_VERSION, ' ');
    id->rab = 6;
    id->cmic = NVME_CTRL_CMIC_MULTI_PORT | NVME_CTRL_CMIC_MULTI_CTRL;
    id->mdts = mdts_from(o->max_io_size);
    id->cntlid = htole16(c->cntlid);
    id->ver = htole32(NVMF_VS);
    id->ctratt = htole32(NVME_CTRL_CTRATT_128_ID);
    id->acl = NVMF_ACL;
    id->aerl = NVMF_AERL;
    id->frmw = 0x3; /* slot 1 read-only, one slot */
    id->lpa = NVME_CTRL_LPA_SMART_PER_NS | NVME_CTRL_LPA_EXTENDED;
    id->elpe = NVMF_ELPE;
    id->kas = htole16(NVMF_KAS);
    id->sqes = (6 << 4) | 6;
    id->cqes = (4 << 4) | 4;
    id->maxcmd = htole16((uint16_t)SLIO_MIN(o->max_queue_depth, 0xffffu));
    /* SGLs supported (no alignment), in-capsule offset addressing, transport data blocks. */
    id->sgls = htole32(1u << 0 | NVME_CTRL_SGLS_OFFSET | NVME_CTRL_SGLS_TPORT);
    nvmf_strpad(id->subnqn, sizeof(id->subnqn), c->subnqn, '\0');
    id->ioccsz = htole32((64 + o->in_capsule_data_size) / 16);
    id->iorcsz = htole32(1);
    id->icdoff = 0;
    id->fcatt = 0; /* dynamic controller model */
    id->msdbd = 1;
}

static void identify_ctrl(struct tgt_req *req, const struct tgt_ctrlr *c)
{
    struct nvme_id_ctrl id;
    memset(&id, 0, sizeof(id));
    fill_ctrl_common(&id, c);
    if (c->discovery) {
        id.cntrltype = NVME_CTRL_CNTRLTYPE_DISCOVERY;
        id.oaes = htole32(NVMF_AEN_DISC_CHNG);
    } else {
        id.cntrltype = NVME_CTRL_CNTRLTYPE_IO;
        id.oaes = htole32(NVMF_AEN_NS_ATTR);
        id.nn = htole32(c->subs ? tgt_subsys_max_nsid(c->subs) : 0);
        id.mnan = 0;
        id.oncs = htole16(NVME_CTRL_ONCS_DSM | NVME_CTRL_ONCS_WRITE_ZEROES);
        /* Present, and Flush to NSID FFFFFFFFh not supported (bits 2:1 = 10b). */
        id.vwc = NVME_CTRL_VWC_PRESENT | (2u << 1);
    }
    nvmf_copy_out(req, &id, sizeof(id));
}

static unsigned ilog2_u32(uint32_t v)
{
    unsigned r = 0;
    while (v >>= 1)
        r++;
    return r;
}

static void identify_ns(struct tgt_req *req, struct tgt_ctrlr *c)
{
    uint32_t nsid = nvmf_nsid(req);
    if (nsid == 0 || nsid == NVME_NSID_ALL || nsid > tgt_subsys_max_nsid(c->subs)) {
        req->status = NVMF_INVALID_NS;
        return;
    }
    struct nvme_id_ns id;
    memset(&id, 0, sizeof(id));
    struct tgt_ns *ns = tgt_ns_get_io(c->subs, nsid);
    if (ns) { /* an inactive NSID gets the zero-filled structure (base spec 5.15.2.1) */
        const struct tgt_bdev *b = ns->bdev;
        uint64_t blocks = tgt_bdev_num_blocks(b);
        id.nsze = id.ncap = id.nuse = htole64(blocks);
        id.nlbaf = 0;
        id.flbas = 0;
        id.lbaf[0].ds = (uint8_t)ilog2_u32(b->block_size);
        id.nmic = 1; /* may be attached to several controllers (multipath) */
        /* Punched holes in a file read back as zeroes; discarded device blocks may not. */
        id.dlfeat = NVME_NS_DLFEAT_WRITE_ZEROES |
                    (b->is_blockdev ? NVME_NS_DLFEAT_RB_NR : NVME_NS_DLFEAT_RB_ALL_0S);
        memcpy(id.nguid, ns->nguid, sizeof(id.nguid));
        tgt_ns_put(ns);
    }
    nvmf_copy_out(req, &id, sizeof(id));
}

static void identify_active_list(struct tgt_req *req, struct tgt_ctrlr *c)
{
    uint32_t nsid = nvmf_nsid(req);
    if (nsid >= 0xfffffffeu) {
        req->status = NVMF_INVALID_NS;
        return;
    }
    uint32_t list[NVME_IDENTIFY_DATA_SIZE / 4];
    memset(list, 0, sizeof(list));
    uint32_t n = tgt_subsys_active_nsids(c->subs, nsid, list, SLIO_ARRAY_SIZE(list));
    for (uint32_t i = 0; i < n; i++)
        list[i] = htole32(list[i]);
    nvmf_copy_out(req, list, sizeof(list));
}

static size_t put_desc(uint8_t *buf, size_t pos, uint8_t nidt, const void *nid, uint8_t len)
{
    static const uint8_t zero[16];
    if (len > 1 && memcmp(nid, zero, len) == 0)
        return pos; /* an all-zero identifier is "not reported" */
    struct nvme_ns_id_desc *d = (struct nvme_ns_id_desc *)(buf + pos);
    d->nidt = nidt;
    d->nidl = len;
    memcpy(buf + pos + sizeof(*d), nid, len);
    return pos + sizeof(*d) + len;
}

static void identify_ns_descs(struct tgt_req *req, struct tgt_ctrlr *c)
{
    struct tgt_ns *ns = tgt_ns_get_io(c->subs, nvmf_nsid(req));
    if (!ns) {
        req->status = NVMF_INVALID_NS;
        return;
    }
    uint8_t buf[NVME_IDENTIFY_DATA_SIZE];
    const uint8_t csi = NVME_CSI_NVM;
    memset(buf, 0, sizeof(buf));
    size_t pos = put_desc(buf, 0, NVME_NIDT_NGUID, ns->nguid, NVME_NIDT_NGUID_LEN);
    pos = put_desc(buf, pos, NVME_NIDT_UUID, ns->uuid, NVME_NIDT_UUID_LEN);
    put_desc(buf, pos, NVME_NIDT_CSI, &csi, NVME_NIDT_CSI_LEN);
    tgt_ns_put(ns);
    nvmf_copy_out(req, buf, sizeof(buf));
}

void nvmf_identify(struct tgt_req *req)
{
    struct tgt_ctrlr *c = req->qpair->ctrlr;
    uint8_t cns = (uint8_t)(nvmf_cdw10(req) & 0xff);
    uint8_t csi = (uint8_t)(nvmf_cdw11(req) >> 24);

    if (cns == NVME_IDENTIFY_CNS_CTRL) {
        identify_ctrl(req, c);
        return;
    }
    if (c->discovery || !c->subs) { /* a discovery controller has no namespaces */
        req->status = NVMF_INVALID_FIELD;
        return;
    }
    switch (cns) {
    case NVME_IDENTIFY_CNS_NS:
        identify_ns(req, c);
        break;
    case NVME_IDENTIFY_CNS_NS_ACTIVE_LIST:
        identify_active_list(req, c);
        break;
    case NVME_IDENTIFY_CNS_NS_DESC_LIST:
        identify_ns_descs(req, c);
        break;
    case NVME_IDENTIFY_CNS_CSI_CTRL:
        if (csi == NVME_CSI_NVM) {
            static const uint8_t zero[NVME_IDENTIFY_DATA_SIZE];
            nvmf_copy_out(req, zero, sizeof(zero));
        } else {
            req->status = NVMF_INVALID_FIELD;
        }
        break;
    default:
        req->status = NVMF_INVALID_FIELD;
    }
}
