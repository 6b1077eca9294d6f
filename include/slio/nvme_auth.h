/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVMe in-band authentication, DH-HMAC-CHAP (NVMe Base Specification 2.0,
 * section 8.13): the cryptography shared by the target (slio-tgt) and the
 * host side (slio-perf). Wire formats of the authentication messages are
 * here too, because both sides build and parse them.
 *
 * All of it is OpenSSL 3 (libcrypto): HMAC-SHA-256/384/512 and the RFC 7919
 * finite-field DH groups ffdhe2048..8192. Every function is thread-safe and
 * allocation-free except the DH key pair. Secrets are wiped with
 * OPENSSL_cleanse before their memory is released; MACs are compared with
 * CRYPTO_memcmp (slio_dhchap_equal).
 */
#ifndef SLIO_NVME_AUTH_H
#define SLIO_NVME_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slio/error.h"

/* Hash identifiers (also the "hh" of a DHHC-1 secret; 0 = key used untransformed). */
enum {
    SLIO_DHCHAP_HASH_NONE = 0,
    SLIO_DHCHAP_SHA256 = 1,
    SLIO_DHCHAP_SHA384 = 2,
    SLIO_DHCHAP_SHA512 = 3
};
/* DH group identifiers. */
enum {
    SLIO_DHCHAP_DH_NULL = 0,
    SLIO_DHCHAP_FFDHE2048 = 1,
    SLIO_DHCHAP_FFDHE3072 = 2,
    SLIO_DHCHAP_FFDHE4096 = 3,
    SLIO_DHCHAP_FFDHE6144 = 4,
    SLIO_DHCHAP_FFDHE8192 = 5,
};
#define SLIO_DHCHAP_NR_HASHES   4 /* ids 0..3 */
#define SLIO_DHCHAP_NR_DHGROUPS 6 /* ids 0..5 */
#define SLIO_DHCHAP_HASH_MAX    64u
#define SLIO_DHCHAP_DH_MAX      1024u /* ffdhe8192 public value / shared secret */
#define SLIO_DHCHAP_SECRET_MAX  128u  /* characters of a DHHC-1 representation */

/* A parsed DHHC-1 secret. Holds key material: wipe with slio_dhchap_key_wipe. */
struct slio_dhchap_key {
    uint8_t hash; /* SLIO_DHCHAP_HASH_NONE / SHA256 / SHA384 / SHA512 */
    uint8_t len;  /* 32, 48 or 64 */
    uint8_t key[64];
};

/*
 * Parse "DHHC-1:<hh>:<base64 of key || CRC-32 (LE)>:" as `nvme gen-dhchap-key`
 * prints it: hh 00..03, key 32/48/64 bytes, CRC-32 (IEEE) checked. Trailing
 * newline tolerated. The error text never contains key material.
 * Returns 0 or -EINVAL (ret_key untouched).
 */
int slio_dhchap_key_parse(const char *secret, struct slio_dhchap_key *ret_key, struct slio_err *err)
    __attribute__((warn_unused_result));
/* Format a key back to its DHHC-1 representation (tests, key generation). out >= 128 bytes. */
int slio_dhchap_key_format(const struct slio_dhchap_key *k, char *out, size_t size);
void slio_dhchap_key_wipe(struct slio_dhchap_key *k);

/* Hash length in bytes for ids 1..3, else 0. */
size_t slio_dhchap_hash_len(int hash);
/* "sha256"... / "null", "ffdhe2048"...: NULL for an unknown id. */
const char *slio_dhchap_hash_name(int hash);
const char *slio_dhchap_dhgroup_name(int group);
/* Name to id, or -EINVAL. Accepts the names above (dhgroups also "ffdhe2048"...). */
int slio_dhchap_hash_id(const char *name);
int slio_dhchap_dhgroup_id(const char *name);
/* Bytes of a public value / shared secret of the group (0 for null or unknown). */
size_t slio_dhchap_dhgroup_len(int group);

/* true if a and b (n bytes) are equal; constant time in the content. */
bool slio_dhchap_equal(const void *a, const void *b, size_t n);
/* Fill buf with n random bytes (RAND_bytes). 0 or -EIO. */
int slio_dhchap_random(void *buf, size_t n);

/*
 * The response of one side (NVMe 2.0 8.13.5.3):
 *   HMAC_hash(K', Ca || seqnum (LE32) || t_id (LE16) || SC_C (0) || role || nqn1 || 00h || nqn2)
 * K' is the key transformed with nqn1 (HMAC_keyhash(K, nqn1 || "NVMe-over-Fabrics"),
 * or K itself for hh 00). Ca is the challenge, augmented when a DH secret is
 * given: HMAC_hash(H(secret), C).
 * Host response: role "HostHost", nqn1 = host NQN, nqn2 = subsystem NQN, the
 * host key. Controller response: role "Controller", nqn1 = subsystem NQN,
 * nqn2 = host NQN, the controller key.
 */
struct slio_dhchap_resp_in {
    int hash; /* negotiated hash: 1..3 */
    const struct slio_dhchap_key *key;
    const uint8_t *challenge; /* hash_len(hash) bytes */
    uint32_t seqnum;
    uint16_t tid;
    bool controller; /* false: "HostHost" */
    const char *nqn1, *nqn2;
    const uint8_t *dh_secret; /* NULL with the null DH group */
    size_t dh_secret_len;
};
/* out receives hash_len(in->hash) bytes. 0, -EINVAL (bad hash id) or -EIO. */
int slio_dhchap_response(const struct slio_dhchap_resp_in *in, uint8_t *out)
    __attribute__((warn_unused_result));
/* The key transform alone (exposed for tests): out >= 64 bytes, *ret_len its length. */
int slio_dhchap_transform(const struct slio_dhchap_key *k, const char *nqn, uint8_t *out,
                          size_t *ret_len) __attribute__((warn_unused_result));

/* ---- ephemeral DH (RFC 7919 groups) ---- */
struct slio_dhchap_dh;
/* A fresh key pair of `group` (1..5). 0, -EINVAL or -ENOMEM/-EIO. */
int slio_dhchap_dh_new(int group, struct slio_dhchap_dh **ret) __attribute__((warn_unused_result));
/* A key pair from a given private exponent (big endian): test vectors only. */
int slio_dhchap_dh_from_private(int group, const uint8_t *priv, size_t len,
                                struct slio_dhchap_dh **ret) __attribute__((warn_unused_result));
/* Our public value, left-padded to dhgroup_len(group) bytes; out >= that. 0 or -EIO. */
int slio_dhchap_dh_public(const struct slio_dhchap_dh *dh, uint8_t *out, size_t size);
/*
 * The shared secret g^xy mod p, left-padded to the group size, from the
 * peer's public value (untrusted: range-checked by OpenSSL). 0, -EINVAL
 * (bad peer value) or -EIO.
 */
int slio_dhchap_dh_derive(const struct slio_dhchap_dh *dh, const uint8_t *peer, size_t peer_len,
                          uint8_t *out, size_t size) __attribute__((warn_unused_result));
void slio_dhchap_dh_free(struct slio_dhchap_dh *dh);

/* ---- wire format of the authentication messages (all multi-byte fields LE) ---- */
#define SLIO_AUTH_SECP         0xe9 /* Security Protocol: NVMe */
#define SLIO_AUTH_SPSP         0x01 /* SPSP0 and SPSP1 */
#define SLIO_AUTH_TYPE_COMMON  0x00
#define SLIO_AUTH_TYPE_DHCHAP  0x01
#define SLIO_AUTH_ID_NEGOTIATE 0x00
#define SLIO_AUTH_ID_CHALLENGE 0x01
#define SLIO_AUTH_ID_REPLY     0x02
#define SLIO_AUTH_ID_SUCCESS1  0x03
#define SLIO_AUTH_ID_SUCCESS2  0x04
#define SLIO_AUTH_ID_FAILURE2  0xf0
#define SLIO_AUTH_ID_FAILURE1  0xf1
#define SLIO_AUTH_PROTO_DHCHAP 0x01 /* AUTH_ID of a protocol descriptor */
#define SLIO_AUTH_RC_FAILED    0x01 /* failure reason code */
/* failure reason code explanations */
enum {
    SLIO_AUTH_RCE_FAILED = 1,
    SLIO_AUTH_RCE_PROTOCOL_UNUSABLE = 2,
    SLIO_AUTH_RCE_SCC_MISMATCH = 3,
    SLIO_AUTH_RCE_HASH_UNUSABLE = 4,
    SLIO_AUTH_RCE_DHGROUP_UNUSABLE = 5,
    SLIO_AUTH_RCE_INCORRECT_PAYLOAD = 6,
    SLIO_AUTH_RCE_INCORRECT_PROTOCOL = 7,
};
/* Connect response DW0 bit: authentication transaction required (AUTHREQ.ATR) */
#define SLIO_CONNECT_AUTHREQ_ATR (1u << 17)

struct slio_auth_hdr {
    uint8_t auth_type, auth_id;
    uint16_t rsvd;
    uint16_t t_id;
} __attribute__((packed));

struct slio_auth_descriptor {
    uint8_t auth_id, rsvd, halen, dhlen;
    uint8_t idlist[60]; /* hash ids in [0, 30), DH group ids in [30, 60) */
} __attribute__((packed));

struct slio_auth_negotiate {
    struct slio_auth_hdr h;
    uint8_t sc_c, napd;
    struct slio_auth_descriptor d[];
} __attribute__((packed));

struct slio_auth_challenge {
    struct slio_auth_hdr h;
    uint8_t hl, rsvd, hashid, dhgid;
    uint16_t dhvlen;
    uint32_t seqnum;
    uint8_t cval[]; /* hl bytes, then dhvlen bytes of DH value */
} __attribute__((packed));

struct slio_auth_reply {
    struct slio_auth_hdr h;
    uint8_t hl, rsvd, cvalid, rsvd2;
    uint16_t dhvlen;
    uint32_t seqnum;
    uint8_t rval[]; /* hl response, hl challenge, dhvlen DH value */
} __attribute__((packed));

struct slio_auth_success1 {
    struct slio_auth_hdr h;
    uint8_t hl, rsvd, rvalid, rsvd2[7];
    uint8_t rval[]; /* hl bytes when rvalid */
} __attribute__((packed));

struct slio_auth_success2 {
    struct slio_auth_hdr h;
    uint8_t rsvd[10];
} __attribute__((packed));

struct slio_auth_failure {
    struct slio_auth_hdr h;
    uint8_t rc, rce;
} __attribute__((packed));

_Static_assert(sizeof(struct slio_auth_negotiate) == 8, "negotiate header");
_Static_assert(sizeof(struct slio_auth_descriptor) == 64, "protocol descriptor");
_Static_assert(sizeof(struct slio_auth_challenge) == 16, "challenge header");
_Static_assert(sizeof(struct slio_auth_reply) == 16, "reply header");
_Static_assert(sizeof(struct slio_auth_success1) == 16, "success1 header");
_Static_assert(sizeof(struct slio_auth_success2) == 16, "success2");
_Static_assert(sizeof(struct slio_auth_failure) == 8, "failure");

/* ---- building and parsing the messages (both sides; every input length-checked) ---- */
/* Parsed views point into the caller's buffer. */
struct slio_auth_challenge_view {
    uint16_t tid;
    int hash, group;
    uint32_t seqnum;
    const uint8_t *cval; /* hash_len(hash) bytes */
    const uint8_t *dhv;  /* dhvlen bytes, NULL with the null group */
    size_t dhvlen;
};
struct slio_auth_reply_view {
    uint16_t tid;
    bool cvalid;
    uint32_t seqnum;     /* S2 when cvalid */
    const uint8_t *rval; /* hl bytes: the host's response */
    const uint8_t *c2;   /* hl bytes: the host's challenge when cvalid */
    const uint8_t *dhv;
    size_t dhvlen;
};

/*
 * AUTH_Negotiate as the controller reads it: pick the strongest hash and DH
 * group that both the host offers and the masks allow (bit i = id i).
 * 0, or the negative failure explanation (-SLIO_AUTH_RCE_*).
 */
int slio_auth_negotiate_pick(const void *msg, size_t len, uint32_t digests, uint32_t dhgroups,
                             uint16_t *ret_tid, int *ret_hash, int *ret_group);
/* DH-HMAC-CHAP_Reply for negotiated hash/group and transaction tid: 0 or -SLIO_AUTH_RCE_*. */
int slio_auth_reply_parse(const void *msg, size_t len, int hash, int group, uint16_t tid,
                          struct slio_auth_reply_view *ret);
/* DH-HMAC-CHAP_Challenge as the host reads it (hash/group must be in the masks). */
int slio_auth_challenge_parse(const void *msg, size_t len, uint16_t tid, uint32_t digests,
                              uint32_t dhgroups, struct slio_auth_challenge_view *ret);
/*
 * Success1 (returns 0, *ret_rval the controller's response or NULL when
 * rvalid is 0) or Failure1 (returns -rce, at least -1); anything else
 * -SLIO_AUTH_RCE_INCORRECT_PROTOCOL.
 */
int slio_auth_success1_parse(const void *msg, size_t len, uint16_t tid, size_t hl,
                             const uint8_t **ret_rval);
/* Success2 / Failure2 as the controller reads them: 0 (success2), -rce (failure2) or -7. */
int slio_auth_step2_parse(const void *msg, size_t len, uint16_t tid);

/* Builders: return the message length, or -ENOSPC when size is too small. */
int slio_auth_build_negotiate(void *buf, size_t size, uint16_t tid, uint32_t digests,
                              uint32_t dhgroups);
int slio_auth_build_challenge(void *buf, size_t size, uint16_t tid, int hash, int group,
                              uint32_t seqnum, const uint8_t *cval, const uint8_t *dhv,
                              size_t dhvlen);
int slio_auth_build_reply(void *buf, size_t size, uint16_t tid, size_t hl, const uint8_t *rval,
                          const uint8_t *c2 /* NULL: no controller authentication */,
                          uint32_t seqnum, const uint8_t *dhv, size_t dhvlen);
int slio_auth_build_success1(void *buf, size_t size, uint16_t tid, size_t hl,
                             const uint8_t *rval /* NULL: rvalid 0 */);
int slio_auth_build_success2(void *buf, size_t size, uint16_t tid);
/* Failure1 (controller) or Failure2 (host) with reason "failed" and explanation rce. */
int slio_auth_build_failure(void *buf, size_t size, uint16_t tid, bool failure1, uint8_t rce);

#endif
