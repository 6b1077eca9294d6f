/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The discovery log page (70h): a 1024-byte header (GENCTR, NUMREC) and one
 * 1024-byte entry per (subsystem, listener) pair the connecting host may
 * use. Entries are formatted straight into the host's window of the page,
 * so nothing is allocated however many subsystems exist.
 *
 * GENCTR is read before the entries are walked: if the registry changes in
 * between, the host's re-read of the header sees a newer GENCTR and starts
 * over (the retry loop libnvme and the kernel use).
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <string.h>
#include <strings.h>

#include "nvmf/nvmf_internal.h"

#define DISC_HDR_SIZE   sizeof(struct nvmf_discovery_log)
#define DISC_ENTRY_SIZE sizeof(struct nvmf_disc_log_entry)

_Static_assert(sizeof(struct nvmf_discovery_log) == 1024, "discovery log header");
_Static_assert(sizeof(struct nvmf_disc_log_entry) == 1024, "discovery log entry");

struct disc_ctx {
    uint64_t offset; /* page offset of buf[0] */
    uint8_t *buf;
    uint32_t len;
    uint64_t count;
};

/* Copy the part of [at, at + size) of the page that falls into the window. */
static void window_put(struct disc_ctx *w, uint64_t at, const void *src, uint64_t size)
{
    uint64_t lo = SLIO_MAX(at, w->offset);
    uint64_t hi = SLIO_MIN(at + size, w->offset + w->len);
    if (lo >= hi)
        return;
    memcpy(w->buf + (lo - w->offset), (const uint8_t *)src + (lo - at), hi - lo);
}

/* A stable port ID per listen address (we have no configured port numbers): FNV-1a. */
static uint16_t port_id(const struct tgt_listen_addr *a)
{
    uint32_t h = 2166136261u;
    for (const char *p = a->traddr; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    for (const char *p = a->trsvcid; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return (uint16_t)(h ^ (h >> 16));
}

static void format_entry(struct nvmf_disc_log_entry *e, const char *subnqn,
                         const struct tgt_listen_addr *a)
{
    memset(e, 0, sizeof(*e));
    e->trtype = NVMF_TRTYPE_TCP;
    e->adrfam = strcasecmp(a->adrfam, "IPv6") == 0 ? NVMF_ADDR_FAMILY_IP6 : NVMF_ADDR_FAMILY_IP4;
    e->subtype = strcmp(subnqn, TGT_DISCOVERY_NQN) == 0 ? NVME_NQN_CURR : NVME_NQN_NVME;
    /* No secure channel required; hosts may disable SQ flow control (C2HData SUCCESS). */
    e->treq = NVMF_TREQ_NOT_REQUIRED | NVMF_TREQ_DISABLE_SQFLOW;
    e->portid = htole16(port_id(a));
    e->cntlid = htole16(NVMF_CNTLID_DYNAMIC);
    e->asqsz = htole16((uint16_t)SLIO_MIN(tgt_transport_get_opts()->max_aq_depth, 0xffffu));
    nvmf_strpad(e->trsvcid, sizeof(e->trsvcid), a->trsvcid, '\0');
    nvmf_strpad(e->subnqn, sizeof(e->subnqn), subnqn, '\0');
    nvmf_strpad(e->traddr, sizeof(e->traddr), a->traddr, '\0');
    e->tsas.tcp.sectype = NVMF_TCP_SECTYPE_NONE;
}

static void add_entry(const char *subnqn, const struct tgt_listen_addr *a, void *ctx)
{
    struct disc_ctx *w = ctx;
    uint64_t at = DISC_HDR_SIZE + w->count * DISC_ENTRY_SIZE;
    w->count++;
    if (at >= w->offset + w->len || at + DISC_ENTRY_SIZE <= w->offset)
        return; /* outside the window: only counted */
    struct nvmf_disc_log_entry e;
    format_entry(&e, subnqn, a);
    window_put(w, at, &e, sizeof(e));
}

void nvmf_discovery_log(const char *hostnqn, uint64_t offset, uint8_t *buf, uint32_t len,
                        uint64_t *ret_total)
{
    struct disc_ctx w = {.offset = offset, .buf = buf, .len = len};
    uint64_t genctr = tgt_registry_discovery_genctr();

    tgt_registry_for_each_discovery_entry(hostnqn, add_entry, &w);

    struct nvmf_discovery_log hdr;
    memset(&hdr, 0, sizeof(hdr));
    hdr.genctr = htole64(genctr);
    hdr.numrec = htole64(w.count);
    hdr.recfmt = 0;
    window_put(&w, 0, &hdr, sizeof(hdr));
    *ret_total = DISC_HDR_SIZE + w.count * DISC_ENTRY_SIZE;
}
