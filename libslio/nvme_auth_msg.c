/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DH-HMAC-CHAP messages (NVMe Base Specification 2.0, 8.13.5.x): built
 * and parsed for both the controller (slio-tgt) and the host (slio-perf).
 * Every message comes from the network: lengths are checked against the
 * buffer before any field past the header is read, and the total length
 * must match exactly what the header declares (as SPDK's target does).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "slio/nvme_auth.h"

#define RCE(x) (-(SLIO_AUTH_RCE_##x))

static bool hdr_is(const struct slio_auth_hdr *h, uint8_t type, uint8_t id)
{
    return h->auth_type == type && h->auth_id == id;
}

/* Strongest id (highest, 5..0 or 3..1) present in list and allowed by mask, or -1. */
static int pick(const uint8_t *list, unsigned n, uint32_t mask, int hi, int lo)
{
    for (int id = hi; id >= lo; id--) {
        if (!(mask & (1u << id)))
            continue;
        for (unsigned i = 0; i < n; i++)
            if (list[i] == id)
                return id;
    }
    return -1;
}

int slio_auth_negotiate_pick(const void *msg, size_t len, uint32_t digests, uint32_t dhgroups,
                             uint16_t *ret_tid, int *ret_hash, int *ret_group)
{
    const struct slio_auth_negotiate *m = msg;
    if (len < sizeof(*m) || !hdr_is(&m->h, SLIO_AUTH_TYPE_COMMON, SLIO_AUTH_ID_NEGOTIATE))
        return RCE(INCORRECT_PROTOCOL);
    if (m->napd == 0 || len != sizeof(*m) + (size_t)m->napd * sizeof(m->d[0]))
        return RCE(INCORRECT_PAYLOAD);
    if (m->sc_c != 0)
        return RCE(SCC_MISMATCH);
    const struct slio_auth_descriptor *d = NULL;
    for (unsigned i = 0; i < m->napd && !d; i++)
        if (m->d[i].auth_id == SLIO_AUTH_PROTO_DHCHAP)
            d = &m->d[i];
    if (!d)
        return RCE(PROTOCOL_UNUSABLE);
    if (d->halen > 30 || d->dhlen > 30)
        return RCE(INCORRECT_PAYLOAD);
    int hash = pick(d->idlist, d->halen, digests, SLIO_DHCHAP_SHA512, SLIO_DHCHAP_SHA256);
    if (hash < 0)
        return RCE(HASH_UNUSABLE);
    int group =
        pick(d->idlist + 30, d->dhlen, dhgroups, SLIO_DHCHAP_FFDHE8192, SLIO_DHCHAP_DH_NULL);
    if (group < 0)
        return RCE(DHGROUP_UNUSABLE);
    *ret_tid = le16toh(m->h.t_id);
    *ret_hash = hash;
    *ret_group = group;
    return 0;
}

int slio_auth_reply_parse(const void *msg, size_t len, int hash, int group, uint16_t tid,
                          struct slio_auth_reply_view *ret)
{
    const struct slio_auth_reply *m = msg;
    size_t hl = slio_dhchap_hash_len(hash);
    if (len < sizeof(*m) || !hdr_is(&m->h, SLIO_AUTH_TYPE_DHCHAP, SLIO_AUTH_ID_REPLY))
        return RCE(INCORRECT_PROTOCOL);
    size_t dhvlen = le16toh(m->dhvlen);
    if (!hl || m->hl != hl || len != sizeof(*m) + 2 * hl + dhvlen || le16toh(m->h.t_id) != tid ||
        m->cvalid > 1)
        return RCE(INCORRECT_PAYLOAD);
    if ((group == SLIO_DHCHAP_DH_NULL) != (dhvlen == 0) || dhvlen > slio_dhchap_dhgroup_len(group))
        return RCE(INCORRECT_PAYLOAD);
    uint32_t seq = le32toh(m->seqnum);
    if (m->cvalid && seq == 0)
        return RCE(INCORRECT_PAYLOAD);
    *ret = (struct slio_auth_reply_view){
        .tid = tid,
        .cvalid = m->cvalid,
        .seqnum = seq,
        .rval = m->rval,
        .c2 = m->cvalid ? m->rval + hl : NULL,
        .dhv = dhvlen ? m->rval + 2 * hl : NULL,
        .dhvlen = dhvlen,
    };
    return 0;
}

int slio_auth_challenge_parse(const void *msg, size_t len, uint16_t tid, uint32_t digests,
                              uint32_t dhgroups, struct slio_auth_challenge_view *ret)
{
    const struct slio_auth_challenge *m = msg;
    if (len < sizeof(*m))
        return RCE(INCORRECT_PROTOCOL);
    if (hdr_is(&m->h, SLIO_AUTH_TYPE_COMMON, SLIO_AUTH_ID_FAILURE1) &&
        len >= sizeof(struct slio_auth_failure))
        return -(int)(((const struct slio_auth_failure *)msg)->rce ?: 1);
    if (!hdr_is(&m->h, SLIO_AUTH_TYPE_DHCHAP, SLIO_AUTH_ID_CHALLENGE))
        return RCE(INCORRECT_PROTOCOL);
    size_t hl = slio_dhchap_hash_len(m->hashid), dhvlen = le16toh(m->dhvlen);
    if (!hl || !(digests & (1u << m->hashid)))
        return RCE(HASH_UNUSABLE);
    if (m->dhgid >= SLIO_DHCHAP_NR_DHGROUPS || !(dhgroups & (1u << m->dhgid)))
        return RCE(DHGROUP_UNUSABLE);
    if (m->hl != hl || len < sizeof(*m) + hl + dhvlen || le16toh(m->h.t_id) != tid ||
        (m->dhgid == SLIO_DHCHAP_DH_NULL) != (dhvlen == 0) ||
        dhvlen > slio_dhchap_dhgroup_len(m->dhgid))
        return RCE(INCORRECT_PAYLOAD);
    *ret = (struct slio_auth_challenge_view){
        .tid = tid,
        .hash = m->hashid,
        .group = m->dhgid,
        .seqnum = le32toh(m->seqnum),
        .cval = m->cval,
        .dhv = dhvlen ? m->cval + hl : NULL,
        .dhvlen = dhvlen,
    };
    return 0;
}

int slio_auth_success1_parse(const void *msg, size_t len, uint16_t tid, size_t hl,
                             const uint8_t **ret_rval)
{
    const struct slio_auth_success1 *m = msg;
    if (len >= sizeof(struct slio_auth_failure) &&
        hdr_is(&m->h, SLIO_AUTH_TYPE_COMMON, SLIO_AUTH_ID_FAILURE1))
        return -(int)(((const struct slio_auth_failure *)msg)->rce ?: 1);
    if (len < sizeof(*m) || !hdr_is(&m->h, SLIO_AUTH_TYPE_DHCHAP, SLIO_AUTH_ID_SUCCESS1))
        return RCE(INCORRECT_PROTOCOL);
    if (le16toh(m->h.t_id) != tid || m->hl != hl || m->rvalid > 1 ||
        len < sizeof(*m) + (m->rvalid ? hl : 0))
        return RCE(INCORRECT_PAYLOAD);
    *ret_rval = m->rvalid ? m->rval : NULL;
    return 0;
}

int slio_auth_step2_parse(const void *msg, size_t len, uint16_t tid)
{
    const struct slio_auth_hdr *h = msg;
    if (len == sizeof(struct slio_auth_success2) &&
        hdr_is(h, SLIO_AUTH_TYPE_DHCHAP, SLIO_AUTH_ID_SUCCESS2))
        return le16toh(h->t_id) == tid ? 0 : RCE(INCORRECT_PAYLOAD);
    if (len == sizeof(struct slio_auth_failure) &&
        hdr_is(h, SLIO_AUTH_TYPE_COMMON, SLIO_AUTH_ID_FAILURE2))
        return -(int)(((const struct slio_auth_failure *)msg)->rce ?: 1);
    return RCE(INCORRECT_PROTOCOL);
}

static void hdr_set(struct slio_auth_hdr *h, uint8_t type, uint8_t id, uint16_t tid)
{
    h->auth_type = type;
    h->auth_id = id;
    h->rsvd = 0;
    h->t_id = htole16(tid);
}

static unsigned ids_of(uint32_t mask, int lo, int hi, uint8_t *out)
{
    unsigned n = 0;
    for (int id = lo; id <= hi; id++)
        if (mask & (1u << id))
            out[n++] = (uint8_t)id;
    return n;
}

int slio_auth_build_negotiate(void *buf, size_t size, uint16_t tid, uint32_t digests,
                              uint32_t dhgroups)
{
    size_t len = sizeof(struct slio_auth_negotiate) + sizeof(struct slio_auth_descriptor);
    if (size < len)
        return -ENOSPC;
    memset(buf, 0, len);
    struct slio_auth_negotiate *m = buf;
    hdr_set(&m->h, SLIO_AUTH_TYPE_COMMON, SLIO_AUTH_ID_NEGOTIATE, tid);
    m->napd = 1;
    m->d[0].auth_id = SLIO_AUTH_PROTO_DHCHAP;
    m->d[0].halen =
        (uint8_t)ids_of(digests, SLIO_DHCHAP_SHA256, SLIO_DHCHAP_SHA512, m->d[0].idlist);
    m->d[0].dhlen =
        (uint8_t)ids_of(dhgroups, SLIO_DHCHAP_DH_NULL, SLIO_DHCHAP_FFDHE8192, m->d[0].idlist + 30);
    return (int)len;
}

int slio_auth_build_challenge(void *buf, size_t size, uint16_t tid, int hash, int group,
                              uint32_t seqnum, const uint8_t *cval, const uint8_t *dhv,
                              size_t dhvlen)
{
    size_t hl = slio_dhchap_hash_len(hash), len = sizeof(struct slio_auth_challenge) + hl + dhvlen;
    if (size < len)
        return -ENOSPC;
    struct slio_auth_challenge *m = buf;
    memset(m, 0, sizeof(*m));
    hdr_set(&m->h, SLIO_AUTH_TYPE_DHCHAP, SLIO_AUTH_ID_CHALLENGE, tid);
    m->hl = (uint8_t)hl;
    m->hashid = (uint8_t)hash;
    m->dhgid = (uint8_t)group;
    m->dhvlen = htole16((uint16_t)dhvlen);
    m->seqnum = htole32(seqnum);
    memcpy(m->cval, cval, hl);
    if (dhvlen)
        memcpy(m->cval + hl, dhv, dhvlen);
    return (int)len;
}

int slio_auth_build_reply(void *buf, size_t size, uint16_t tid, size_t hl, const uint8_t *rval,
                          const uint8_t *c2, uint32_t seqnum, const uint8_t *dhv, size_t dhvlen)
{
    size_t len = sizeof(struct slio_auth_reply) + 2 * hl + dhvlen;
    if (size < len)
        return -ENOSPC;
    struct slio_auth_reply *m = buf;
    memset(m, 0, len);
    hdr_set(&m->h, SLIO_AUTH_TYPE_DHCHAP, SLIO_AUTH_ID_REPLY, tid);
    m->hl = (uint8_t)hl;
    m->cvalid = c2 != NULL;
    m->dhvlen = htole16((uint16_t)dhvlen);
    m->seqnum = htole32(c2 ? seqnum : 0);
    memcpy(m->rval, rval, hl);
    if (c2)
        memcpy(m->rval + hl, c2, hl);
    if (dhvlen)
        memcpy(m->rval + 2 * hl, dhv, dhvlen);
    return (int)len;
}

int slio_auth_build_success1(void *buf, size_t size, uint16_t tid, size_t hl, const uint8_t *rval)
{
    size_t len = sizeof(struct slio_auth_success1) + (rval ? hl : 0);
    if (size < len)
        return -ENOSPC;
    struct slio_auth_success1 *m = buf;
    memset(m, 0, len);
    hdr_set(&m->h, SLIO_AUTH_TYPE_DHCHAP, SLIO_AUTH_ID_SUCCESS1, tid);
    m->hl = (uint8_t)hl; /* set even without rvalid: the Linux host checks it */
    m->rvalid = rval != NULL;
    if (rval)
        memcpy(m->rval, rval, hl);
    return (int)len;
}

int slio_auth_build_success2(void *buf, size_t size, uint16_t tid)
{
    if (size < sizeof(struct slio_auth_success2))
        return -ENOSPC;
    memset(buf, 0, sizeof(struct slio_auth_success2));
    hdr_set(buf, SLIO_AUTH_TYPE_DHCHAP, SLIO_AUTH_ID_SUCCESS2, tid);
    return (int)sizeof(struct slio_auth_success2);
}

int slio_auth_build_failure(void *buf, size_t size, uint16_t tid, bool failure1, uint8_t rce)
{
    if (size < sizeof(struct slio_auth_failure))
        return -ENOSPC;
    struct slio_auth_failure *m = buf;
    hdr_set(&m->h, SLIO_AUTH_TYPE_COMMON, failure1 ? SLIO_AUTH_ID_FAILURE1 : SLIO_AUTH_ID_FAILURE2,
            tid);
    m->rc = SLIO_AUTH_RC_FAILED;
    m->rce = rce;
    return (int)sizeof(*m);
}
