/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host half of DH-HMAC-CHAP (NVMe Base Specification 2.0, 8.13), run on
 * a queue right after a Connect whose response asked for it (AUTHREQ.ATR),
 * as the Linux host does for the admin and every I/O queue:
 *   Send Negotiate -> Receive Challenge -> Send Reply -> Receive Success1
 *   [-> Send Success2, or Failure2 when the controller's response is wrong].
 * The cryptography and message formats are libslio's (slio/nvme_auth.h).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "host_int.h"
#include "slio/nvme_auth.h"

#define AUTH_BUF 4096u /* as the Linux host: room for an ffdhe8192 challenge */

static void auth_sqe(struct nvme_sqe *sqe, uint8_t fctype, uint32_t len)
{
    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = NVME_FABRICS_OPCODE;
    sqe->nsid = htole32(fctype); /* byte 4 */
    sqe->cdw10 = htole32((uint32_t)SLIO_AUTH_SECP << 24 | (uint32_t)SLIO_AUTH_SPSP << 16 |
                         (uint32_t)SLIO_AUTH_SPSP << 8);
    sqe->cdw11 = htole32(len); /* TL / AL */
}

/* One Send (buf, len) or Receive (into buf, AUTH_BUF): 0, or -errno with the queue's error set. */
static int xfer(struct slio_host_queue *q, bool send, uint8_t *buf, uint32_t len, const char *what)
{
    struct nvme_sqe sqe;
    int status = 0;
    char sbuf[96];
    auth_sqe(&sqe, send ? nvme_fabrics_type_auth_send : nvme_fabrics_type_auth_receive, len);
    int r = host_queue_exec(q, &sqe, buf, len, send ? SLIO_HOST_DIR_H2C : SLIO_HOST_DIR_C2H,
                            &status, NULL);
    if (r < 0)
        return r;
    if (status) {
        host_queue_set_err(q, "authentication: %s failed: %s", what,
                           host_status_str(status, sbuf, sizeof(sbuf)));
        return -EACCES;
    }
    return 0;
}

struct auth_keys {
    struct slio_dhchap_key host, ctrl;
    bool has_ctrl;
};

static int load_keys(struct slio_host_queue *q, const struct slio_host_opts *o, struct auth_keys *k)
{
    struct slio_err err = {{0}};
    if (!o->dhchap_secret) {
        host_queue_set_err(q, "the controller requires authentication and no --dhchap-secret "
                              "was given");
        return -EACCES;
    }
    if (slio_dhchap_key_parse(o->dhchap_secret, &k->host, &err) < 0 ||
        (o->dhchap_ctrl_secret &&
         slio_dhchap_key_parse(o->dhchap_ctrl_secret, &k->ctrl, &err) < 0)) {
        host_queue_set_err(q, "authentication: %s", err.text);
        return -EINVAL;
    }
    k->has_ctrl = o->dhchap_ctrl_secret != NULL;
    return 0;
}

struct exchange {
    struct slio_auth_challenge_view ch;
    uint8_t sec[SLIO_DHCHAP_DH_MAX], pub[SLIO_DHCHAP_DH_MAX];
    size_t seclen;
    uint8_t resp[SLIO_DHCHAP_HASH_MAX], c2[SLIO_DHCHAP_HASH_MAX];
    uint32_t s2;
};

/* Our DH half and response to the challenge; c2/s2 when we authenticate the controller. */
static int answer(struct slio_host_queue *q, const struct slio_host_opts *o,
                  const struct auth_keys *k, struct exchange *x)
{
    struct slio_dhchap_dh *dh = NULL;
    size_t hl = slio_dhchap_hash_len(x->ch.hash);
    int r = 0;
    if (x->ch.group) {
        x->seclen = slio_dhchap_dhgroup_len(x->ch.group);
        r = slio_dhchap_dh_new(x->ch.group, &dh);
        if (r == 0)
            r = slio_dhchap_dh_public(dh, x->pub, sizeof(x->pub));
        if (r == 0)
            r = slio_dhchap_dh_derive(dh, x->ch.dhv, x->ch.dhvlen, x->sec, sizeof(x->sec));
        slio_dhchap_dh_free(dh);
        if (r < 0) {
            host_queue_set_err(q, "authentication: DH exchange failed (%s)", strerror(-r));
            return r;
        }
    }
    struct slio_dhchap_resp_in in = {
        .hash = x->ch.hash,
        .key = &k->host,
        .challenge = x->ch.cval,
        .seqnum = x->ch.seqnum,
        .tid = x->ch.tid,
        .nqn1 = o->hostnqn,
        .nqn2 = o->subnqn,
        .dh_secret = x->ch.group ? x->sec : NULL,
        .dh_secret_len = x->seclen,
    };
    if (slio_dhchap_response(&in, x->resp) < 0)
        return -EIO;
    if (k->has_ctrl) {
        if (slio_dhchap_random(x->c2, hl) < 0 || slio_dhchap_random(&x->s2, sizeof(x->s2)) < 0)
            return -EIO;
        x->s2 |= 1; /* never 0: 0 means "no challenge" */
    }
    return 0;
}

/* Is the controller's response to our challenge c2 right? */
static bool ctrl_response_ok(const struct slio_host_opts *o, const struct auth_keys *k,
                             const struct exchange *x, const uint8_t *rval)
{
    uint8_t expect[SLIO_DHCHAP_HASH_MAX];
    struct slio_dhchap_resp_in in = {
        .hash = x->ch.hash,
        .key = &k->ctrl,
        .challenge = x->c2,
        .seqnum = x->s2,
        .tid = x->ch.tid,
        .controller = true,
        .nqn1 = o->subnqn,
        .nqn2 = o->hostnqn,
        .dh_secret = x->ch.group ? x->sec : NULL,
        .dh_secret_len = x->seclen,
    };
    bool ok = rval && slio_dhchap_response(&in, expect) == 0 &&
              slio_dhchap_equal(expect, rval, slio_dhchap_hash_len(x->ch.hash));
    OPENSSL_cleanse(expect, sizeof(expect));
    return ok;
}

static int run(struct slio_host_queue *q, const struct slio_host_opts *o, struct auth_keys *k,
               struct exchange *x, uint8_t *buf)
{
    uint16_t tid = (uint16_t)(q->qid + 1);
    uint32_t all_h = 0x0e, all_g = 0x3f;
    int len = slio_auth_build_negotiate(buf, AUTH_BUF, tid, all_h, all_g);
    int r = xfer(q, true, buf, (uint32_t)len, "AUTH_Negotiate");
    if (r == 0)
        r = xfer(q, false, buf, AUTH_BUF, "receiving the challenge");
    if (r < 0)
        return r;
    r = slio_auth_challenge_parse(buf, AUTH_BUF, tid, all_h, all_g, &x->ch);
    if (r < 0) {
        host_queue_set_err(q,
                           "authentication refused by the controller (failure reason %d: "
                           "unusable or malformed challenge)",
                           -r);
        return -EACCES;
    }
    r = answer(q, o, k, x);
    if (r < 0)
        return r;
    size_t hl = slio_dhchap_hash_len(x->ch.hash);
    len = slio_auth_build_reply(buf, AUTH_BUF, tid, hl, x->resp, k->has_ctrl ? x->c2 : NULL, x->s2,
                                x->pub, x->ch.group ? x->seclen : 0);
    r = xfer(q, true, buf, (uint32_t)len, "DH-HMAC-CHAP_Reply");
    if (r == 0)
        r = xfer(q, false, buf, AUTH_BUF, "receiving Success1");
    if (r < 0)
        return r;
    const uint8_t *rval = NULL;
    r = slio_auth_success1_parse(buf, AUTH_BUF, tid, hl, &rval);
    if (r < 0) {
        host_queue_set_err(q,
                           "authentication failed: the controller refused our response "
                           "(failure reason %d; wrong --dhchap-secret?)",
                           -r);
        return -EACCES;
    }
    if (!k->has_ctrl)
        return 0;
    if (!ctrl_response_ok(o, k, x, rval)) {
        len = slio_auth_build_failure(buf, AUTH_BUF, tid, false, SLIO_AUTH_RCE_FAILED);
        (void)xfer(q, true, buf, (uint32_t)len, "AUTH_Failure2");
        host_queue_set_err(q, "authentication failed: the controller's response is wrong "
                              "(wrong --dhchap-ctrl-secret, or not the real controller)");
        return -EACCES;
    }
    len = slio_auth_build_success2(buf, AUTH_BUF, tid);
    return xfer(q, true, buf, (uint32_t)len, "DH-HMAC-CHAP_Success2");
}

int host_queue_authenticate(struct slio_host_queue *q, const struct slio_host_opts *o)
{
    struct auth_keys k = {0};
    struct exchange x = {0};
    uint8_t buf[AUTH_BUF];
    int r = load_keys(q, o, &k);
    if (r == 0)
        r = run(q, o, &k, &x, buf);
    OPENSSL_cleanse(&k, sizeof(k));
    OPENSSL_cleanse(&x, sizeof(x));
    return r;
}
