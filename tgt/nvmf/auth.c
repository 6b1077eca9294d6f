/* SPDX-License-Identifier: Apache-2.0 */
/*
 * In-band authentication, DH-HMAC-CHAP (NVMe Base Specification 2.0, 8.13),
 * per queue: when the host's entry in the subsystem names a key, Connect
 * answers with AUTHREQ.ATR and the queue refuses everything but
 * Authentication Send/Receive (Authentication Required) until this
 * transaction succeeds:
 *
 *   Send AUTH_Negotiate      NEGOTIATE -> CHALLENGE   (hash and DH group picked)
 *   Receive Challenge        CHALLENGE -> REPLY       (C1, S1, our DH value)
 *   Send Reply               REPLY     -> SUCCESS1    (host response checked)
 *   Receive Success1         SUCCESS1  -> DONE, or SUCCESS2 with our response
 *   Send Success2/Failure2   SUCCESS2  -> DONE / FAILED
 *
 * A bad message turns the transaction to FAILURE1: the next Receive gets
 * AUTH_Failure1 and the queue is closed shortly after. Each step must come
 * within NVMF_AUTH_STEP_MS, or the queue is closed. An authenticated queue
 * may re-authenticate (the Linux host does when its key is changed); a
 * failed re-authentication tears the association down.
 *
 * Runs on the queue's reactor. Secrets (keys, transformed keys, the DH
 * secret) live on the stack and are wiped; nothing secret is logged.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "nvmf/nvmf_internal.h"
#include "registry/keyring.h"
#include "slio/log.h"
#include "slio/nvme_auth.h"
#include "transport/reactor.h"

#define NVMF_AUTH_STEP_MS  30000u /* slow hosts (a VM doing ffdhe8192 in software) */
#define NVMF_AUTH_GRACE_MS 1000u  /* a failed queue lives this long for its Failure1 */

enum auth_state {
    A_NEGOTIATE,
    A_CHALLENGE,
    A_REPLY,
    A_SUCCESS1,
    A_SUCCESS2,
    A_FAILURE1,
    A_DONE,
    A_FAILED
};

struct nvmf_auth {
    enum auth_state state;
    bool authenticated; /* once true, stays until a re-authentication fails */
    uint8_t rce;        /* failure explanation for Failure1 */
    uint16_t tid;
    int hash, group;
    uint32_t s1;
    uint8_t c1[SLIO_DHCHAP_HASH_MAX];
    bool cvalid;
    uint8_t ctrl_resp[SLIO_DHCHAP_HASH_MAX]; /* our response to the host's challenge */
    struct slio_dhchap_dh *dh;
    uint64_t deadline_us;
};

static _Atomic uint32_t g_seqnum;

static uint32_t next_seqnum(void)
{
    uint32_t s = atomic_load(&g_seqnum);
    if (s == 0) {
        uint32_t seed = 0;
        if (slio_dhchap_random(&seed, sizeof(seed)) == 0)
            atomic_compare_exchange_strong(&g_seqnum, &s, seed);
    }
    s = atomic_fetch_add(&g_seqnum, 1) + 1;
    return s ? s : atomic_fetch_add(&g_seqnum, 1) + 1;
}

static void arm(struct nvmf_auth *a, uint32_t ms)
{
    a->deadline_us = tgt_now_us() + (uint64_t)ms * 1000;
}

int nvmf_auth_prepare(const char *subnqn, const char *hostnqn, struct nvmf_auth **ret)
{
    struct slio_dhchap_key k, ck;
    bool needed = tgt_host_keys_get(subnqn, hostnqn, &k, &ck);
    slio_dhchap_key_wipe(&k);
    slio_dhchap_key_wipe(&ck);
    if (!needed) {
        *ret = NULL;
        return 0;
    }
    struct nvmf_auth *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    arm(a, NVMF_AUTH_STEP_MS);
    *ret = a;
    return 0;
}

void nvmf_auth_free(struct nvmf_auth *a)
{
    if (!a)
        return;
    slio_dhchap_dh_free(a->dh);
    OPENSSL_cleanse(a, sizeof(*a));
    free(a);
}

bool nvmf_auth_pending(const struct tgt_qpair *qp)
{
    return qp->auth && !qp->auth->authenticated;
}

bool nvmf_auth_tick(struct tgt_qpair *qp, uint64_t now_us)
{
    struct nvmf_auth *a = qp->auth;
    if (!a || a->state == A_DONE || now_us < a->deadline_us)
        return true;
    if (a->state != A_FAILED)
        log_warn("qpair %s: ctrlr %u qid %u: authentication timed out", qp->peer,
                 qp->ctrlr ? qp->ctrlr->cntlid : 0, qp->qid);
    return false;
}

/* The transaction failed: Failure1 on the next Receive, the queue closes after. */
static void fail1(struct tgt_req *req, struct nvmf_auth *a, uint8_t rce, const char *why)
{
    struct tgt_qpair *qp = req->qpair;
    a->state = A_FAILURE1;
    a->rce = rce;
    arm(a, NVMF_AUTH_STEP_MS);
    log_warn("qpair %s: host \"%s\" qid %u: authentication failed: %s", qp->peer,
             qp->ctrlr->hostnqn, qp->qid, why);
}

/* Over: the queue refuses everything and closes; a failed re-authentication ends the association.
 */
static void finish_failed(struct tgt_qpair *qp, struct nvmf_auth *a)
{
    bool was = a->authenticated;
    a->state = A_FAILED;
    a->authenticated = false;
    arm(a, NVMF_AUTH_GRACE_MS);
    if (was)
        nvmf_ctrlr_kill(qp->ctrlr, "re-authentication failed");
}

static void on_negotiate(struct tgt_req *req, struct nvmf_auth *a)
{
    uint32_t digests, dhgroups;
    tgt_auth_get_allowed(&digests, &dhgroups);
    if (a->state != A_NEGOTIATE && a->state != A_DONE)
        return fail1(req, a, SLIO_AUTH_RCE_INCORRECT_PROTOCOL, "Negotiate out of sequence");
    int r = slio_auth_negotiate_pick(req->data, req->length, digests, dhgroups, &a->tid, &a->hash,
                                     &a->group);
    if (r < 0)
        return fail1(req, a, (uint8_t)-r, "no usable protocol, hash or DH group in Negotiate");
    slio_dhchap_dh_free(a->dh);
    a->dh = NULL;
    a->cvalid = false;
    a->state = A_CHALLENGE;
    arm(a, NVMF_AUTH_STEP_MS);
}

/* Check the host's response; compute ours if it asked for it. 0 or a failure explanation. */
static uint8_t verify_reply(struct tgt_qpair *qp, struct nvmf_auth *a,
                            const struct slio_auth_reply_view *v)
{
    struct tgt_ctrlr *c = qp->ctrlr;
    struct slio_dhchap_key k, ck;
    uint8_t sec[SLIO_DHCHAP_DH_MAX], expect[SLIO_DHCHAP_HASH_MAX];
    size_t hl = slio_dhchap_hash_len(a->hash), seclen = slio_dhchap_dhgroup_len(a->group);
    uint8_t rce = SLIO_AUTH_RCE_FAILED;

    if (!tgt_host_keys_get(c->subnqn, c->hostnqn, &k, &ck))
        return SLIO_AUTH_RCE_FAILED; /* its key was removed meanwhile */
    if (a->group && slio_dhchap_dh_derive(a->dh, v->dhv, v->dhvlen, sec, sizeof(sec)) < 0) {
        rce = SLIO_AUTH_RCE_INCORRECT_PAYLOAD;
        goto out;
    }
    struct slio_dhchap_resp_in in = {
        .hash = a->hash,
        .key = &k,
        .challenge = a->c1,
        .seqnum = a->s1,
        .tid = a->tid,
        .nqn1 = c->hostnqn,
        .nqn2 = c->subnqn,
        .dh_secret = a->group ? sec : NULL,
        .dh_secret_len = seclen,
    };
    if (slio_dhchap_response(&in, expect) < 0 || !slio_dhchap_equal(expect, v->rval, hl))
        goto out;
    if (v->cvalid) {
        if (ck.len == 0) /* the host wants to authenticate us, we have no key */
            goto out;
        in.key = &ck, in.controller = true, in.challenge = v->c2, in.seqnum = v->seqnum;
        in.nqn1 = c->subnqn, in.nqn2 = c->hostnqn;
        if (slio_dhchap_response(&in, a->ctrl_resp) < 0)
            goto out;
        a->cvalid = true;
    }
    rce = 0;
out:
    slio_dhchap_key_wipe(&k);
    slio_dhchap_key_wipe(&ck);
    OPENSSL_cleanse(sec, sizeof(sec));
    OPENSSL_cleanse(expect, sizeof(expect));
    return rce;
}

static void on_reply(struct tgt_req *req, struct nvmf_auth *a)
{
    struct slio_auth_reply_view v;
    if (a->state != A_REPLY)
        return fail1(req, a, SLIO_AUTH_RCE_INCORRECT_PROTOCOL, "Reply out of sequence");
    int r = slio_auth_reply_parse(req->data, req->length, a->hash, a->group, a->tid, &v);
    if (r < 0)
        return fail1(req, a, (uint8_t)-r, "malformed Reply");
    uint8_t rce = verify_reply(req->qpair, a, &v);
    if (rce)
        return fail1(req, a, rce, "wrong response (host key mismatch) or no controller key");
    a->state = A_SUCCESS1;
    arm(a, NVMF_AUTH_STEP_MS);
}

static void on_step2(struct tgt_req *req, struct nvmf_auth *a)
{
    struct tgt_qpair *qp = req->qpair;
    if (a->state != A_SUCCESS2)
        return fail1(req, a, SLIO_AUTH_RCE_INCORRECT_PROTOCOL, "Success2/Failure2 out of sequence");
    int r = slio_auth_step2_parse(req->data, req->length, a->tid);
    if (r < 0) {
        log_warn("qpair %s: host \"%s\" qid %u refused the controller's response (failure %d)",
                 qp->peer, qp->ctrlr->hostnqn, qp->qid, -r);
        return finish_failed(qp, a);
    }
    a->state = A_DONE;
    a->authenticated = true;
    log_info("qpair %s: host \"%s\" qid %u authenticated both ways (%s, %s)", qp->peer,
             qp->ctrlr->hostnqn, qp->qid, slio_dhchap_hash_name(a->hash),
             slio_dhchap_dhgroup_name(a->group));
}

static bool cmd_fields_ok(const struct tgt_req *req, enum tgt_xfer xfer)
{
    uint32_t cdw10 = nvmf_cdw10(req);
    return req->xfer == xfer && req->data && (cdw10 >> 24) == SLIO_AUTH_SECP &&
           ((cdw10 >> 16) & 0xff) == SLIO_AUTH_SPSP && ((cdw10 >> 8) & 0xff) == SLIO_AUTH_SPSP &&
           nvmf_cdw11(req) == req->length;
}

void nvmf_auth_send(struct tgt_req *req)
{
    struct nvmf_auth *a = req->qpair->auth;
    if (!a) { /* this host authenticates with no key: nothing to negotiate */
        req->status = NVMF_INVALID_OPCODE;
        return;
    }
    if (!cmd_fields_ok(req, TGT_XFER_H2C) || req->length < sizeof(struct slio_auth_hdr)) {
        req->status = NVMF_INVALID_FIELD;
        return;
    }
    if (a->state == A_FAILED) {
        req->status = NVMF_CMD_SEQ_ERROR;
        return;
    }
    const struct slio_auth_hdr *h = req->data;
    if (h->auth_type == SLIO_AUTH_TYPE_COMMON && h->auth_id == SLIO_AUTH_ID_NEGOTIATE)
        on_negotiate(req, a);
    else if (h->auth_type == SLIO_AUTH_TYPE_DHCHAP && h->auth_id == SLIO_AUTH_ID_REPLY)
        on_reply(req, a);
    else if ((h->auth_type == SLIO_AUTH_TYPE_DHCHAP && h->auth_id == SLIO_AUTH_ID_SUCCESS2) ||
             (h->auth_type == SLIO_AUTH_TYPE_COMMON && h->auth_id == SLIO_AUTH_ID_FAILURE2))
        on_step2(req, a);
    else
        fail1(req, a, SLIO_AUTH_RCE_INCORRECT_PROTOCOL, "unexpected message");
}

/* Build the Challenge: C1, S1 and (with a DH group) a fresh key pair. */
static int build_challenge(struct nvmf_auth *a, uint8_t *buf, size_t size)
{
    size_t hl = slio_dhchap_hash_len(a->hash), dhlen = slio_dhchap_dhgroup_len(a->group);
    uint8_t pub[SLIO_DHCHAP_DH_MAX];
    if (slio_dhchap_random(a->c1, hl) < 0)
        return -EIO;
    a->s1 = next_seqnum();
    if (a->group && (slio_dhchap_dh_new(a->group, &a->dh) < 0 ||
                     slio_dhchap_dh_public(a->dh, pub, sizeof(pub)) < 0))
        return -EIO;
    return slio_auth_build_challenge(buf, size, a->tid, a->hash, a->group, a->s1, a->c1, pub,
                                     dhlen);
}

void nvmf_auth_receive(struct tgt_req *req)
{
    struct tgt_qpair *qp = req->qpair;
    struct nvmf_auth *a = qp->auth;
    if (!a) {
        req->status = NVMF_INVALID_OPCODE;
        return;
    }
    if (!cmd_fields_ok(req, TGT_XFER_C2H) || a->state == A_FAILED) {
        req->status = a->state == A_FAILED ? NVMF_CMD_SEQ_ERROR : NVMF_INVALID_FIELD;
        return;
    }
    uint8_t *buf = req->data;
    int len;
    switch (a->state) {
    case A_CHALLENGE:
        len = build_challenge(a, buf, req->length);
        if (len >= 0)
            a->state = A_REPLY;
        break;
    case A_SUCCESS1:
        len = slio_auth_build_success1(buf, req->length, a->tid, slio_dhchap_hash_len(a->hash),
                                       a->cvalid ? a->ctrl_resp : NULL);
        if (len >= 0) {
            a->state = a->cvalid ? A_SUCCESS2 : A_DONE;
            a->authenticated = a->authenticated || !a->cvalid;
            if (!a->cvalid)
                log_info("qpair %s: host \"%s\" qid %u authenticated (%s, %s)", qp->peer,
                         qp->ctrlr->hostnqn, qp->qid, slio_dhchap_hash_name(a->hash),
                         slio_dhchap_dhgroup_name(a->group));
        }
        break;
    case A_FAILURE1:
        len = slio_auth_build_failure(buf, req->length, a->tid, true, a->rce);
        finish_failed(qp, a);
        break;
    default: /* a Receive where a Send was due */
        len = slio_auth_build_failure(buf, req->length, a->tid, true,
                                      SLIO_AUTH_RCE_INCORRECT_PROTOCOL);
        finish_failed(qp, a);
    }
    if (len < 0) {
        req->status = len == -ENOSPC ? NVMF_INVALID_FIELD : NVMF_INTERNAL_ERROR;
        finish_failed(qp, a);
        return;
    }
    /* The whole AL is sent, zero-padded, as nvmet does: hosts may expect every byte asked. */
    memset(buf + len, 0, req->length - (uint32_t)len);
    arm(a, a->state == A_FAILED ? NVMF_AUTH_GRACE_MS : NVMF_AUTH_STEP_MS);
}
