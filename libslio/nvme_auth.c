/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DH-HMAC-CHAP cryptography (see slio/nvme_auth.h): DHHC-1 secrets, the key
 * transform, the responses with their augmented challenge, RFC 7919 DH.
 * The computations follow NVMe Base Specification 2.0 section 8.13.5 and
 * were checked against vectors computed independently (Python hashlib/hmac
 * and pow(), tests/unit/libslio/nvme_auth_vectors.py).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "slio/nvme_auth.h"

static const char *const hash_names[SLIO_DHCHAP_NR_HASHES] = {"null", "sha256", "sha384", "sha512"};
static const char *const group_names[SLIO_DHCHAP_NR_DHGROUPS] = {
    "null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"};
static const size_t group_bytes[SLIO_DHCHAP_NR_DHGROUPS] = {0, 256, 384, 512, 768, 1024};

size_t slio_dhchap_hash_len(int hash)
{
    switch (hash) {
    case SLIO_DHCHAP_SHA256:
        return 32;
    case SLIO_DHCHAP_SHA384:
        return 48;
    case SLIO_DHCHAP_SHA512:
        return 64;
    default:
        return 0;
    }
}

const char *slio_dhchap_hash_name(int hash)
{
    return hash >= 0 && hash < SLIO_DHCHAP_NR_HASHES ? hash_names[hash] : NULL;
}

const char *slio_dhchap_dhgroup_name(int group)
{
    return group >= 0 && group < SLIO_DHCHAP_NR_DHGROUPS ? group_names[group] : NULL;
}

int slio_dhchap_hash_id(const char *name)
{
    for (int i = 1; i < SLIO_DHCHAP_NR_HASHES; i++)
        if (name && strcmp(name, hash_names[i]) == 0)
            return i;
    return -EINVAL;
}

int slio_dhchap_dhgroup_id(const char *name)
{
    for (int i = 0; i < SLIO_DHCHAP_NR_DHGROUPS; i++)
        if (name && strcmp(name, group_names[i]) == 0)
            return i;
    return -EINVAL;
}

size_t slio_dhchap_dhgroup_len(int group)
{
    return group > 0 && group < SLIO_DHCHAP_NR_DHGROUPS ? group_bytes[group] : 0;
}

bool slio_dhchap_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int slio_dhchap_random(void *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -EIO;
}

void slio_dhchap_key_wipe(struct slio_dhchap_key *k)
{
    if (k)
        OPENSSL_cleanse(k, sizeof(*k));
}

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()) of the key bytes. */
static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static bool b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Strict base64 of at most 92 characters (68 bytes); returns bytes decoded or -1. */
static int b64_decode(const char *s, size_t n, uint8_t *out /* >= 69 */)
{
    if (n == 0 || n % 4 != 0 || n > 92)
        return -1;
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' && i >= n - 2)
            pad++;
        else if (!b64_char(s[i]) || pad)
            return -1;
    }
    int r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    return r < 0 ? -1 : r - (int)pad;
}

int slio_dhchap_key_parse(const char *secret, struct slio_dhchap_key *ret_key, struct slio_err *err)
{
    size_t n = secret ? strnlen(secret, SLIO_DHCHAP_SECRET_MAX + 1) : 0;
    while (n > 0 && (secret[n - 1] == '\n' || secret[n - 1] == '\r'))
        n--;
    if (n < 12 || n > SLIO_DHCHAP_SECRET_MAX || strncmp(secret, "DHHC-1:", 7) != 0 ||
        secret[9] != ':' || secret[n - 1] != ':') {
        slio_err_set(err, "not a DHHC-1 secret (expected \"DHHC-1:<hh>:<base64>:\")");
        return -EINVAL;
    }
    if (secret[7] != '0' || secret[8] < '0' || secret[8] > '3') {
        slio_err_set(err, "DHHC-1 secret: key transform hash must be 00..03");
        return -EINVAL;
    }
    uint8_t buf[72];
    int len = b64_decode(secret + 10, n - 11, buf);
    int r = -EINVAL;
    if (len != 36 && len != 52 && len != 68) {
        slio_err_set(err, "DHHC-1 secret: key must be 32, 48 or 64 bytes plus a CRC-32");
        goto out;
    }
    size_t klen = (size_t)len - 4;
    uint32_t crc;
    memcpy(&crc, buf + klen, 4);
    if (le32toh(crc) != crc32_ieee(buf, klen)) {
        slio_err_set(err, "DHHC-1 secret: CRC-32 mismatch (key corrupted)");
        goto out;
    }
    struct slio_dhchap_key k = {.hash = (uint8_t)(secret[8] - '0'), .len = (uint8_t)klen};
    memcpy(k.key, buf, klen);
    *ret_key = k;
    OPENSSL_cleanse(&k, sizeof(k));
    r = 0;
out:
    OPENSSL_cleanse(buf, sizeof(buf));
    return r;
}

int slio_dhchap_key_format(const struct slio_dhchap_key *k, char *out, size_t size)
{
    if (size < SLIO_DHCHAP_SECRET_MAX || (k->len != 32 && k->len != 48 && k->len != 64) ||
        k->hash > SLIO_DHCHAP_SHA512)
        return -EINVAL;
    uint8_t buf[68];
    memcpy(buf, k->key, k->len);
    uint32_t crc = htole32(crc32_ieee(k->key, k->len));
    memcpy(buf + k->len, &crc, 4);
    memcpy(out, "DHHC-1:0", 8);
    out[8] = (char)('0' + k->hash);
    out[9] = ':';
    int n = EVP_EncodeBlock((unsigned char *)out + 10, buf, k->len + 4);
    out[10 + n] = ':';
    out[11 + n] = '\0';
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}

struct chunk {
    const void *p;
    size_t n;
};

/* HMAC_<hash>(key, chunks...) into out (hash length bytes). 0, -EINVAL or -EIO. */
static int hmac(int hash, const uint8_t *key, size_t keylen, const struct chunk *c, size_t nc,
                uint8_t *out)
{
    size_t hl = slio_dhchap_hash_len(hash), len = 0;
    if (!hl)
        return -EINVAL;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)hash_names[hash], 0),
        OSSL_PARAM_construct_end(),
    };
    int ok = ctx && EVP_MAC_init(ctx, key, keylen, params);
    for (size_t i = 0; ok && i < nc; i++)
        ok = EVP_MAC_update(ctx, c[i].p, c[i].n);
    ok = ok && EVP_MAC_final(ctx, out, &len, hl) && len == hl;
    EVP_MAC_CTX_free(ctx); /* cleanses the keyed state */
    EVP_MAC_free(mac);
    return ok ? 0 : -EIO;
}

static int digest(int hash, const uint8_t *p, size_t n, uint8_t *out)
{
    EVP_MD *md = EVP_MD_fetch(NULL, hash_names[hash], NULL);
    unsigned int len = 0;
    int ok = md && EVP_Digest(p, n, out, &len, md, NULL);
    EVP_MD_free(md);
    return ok && len == slio_dhchap_hash_len(hash) ? 0 : -EIO;
}

int slio_dhchap_transform(const struct slio_dhchap_key *k, const char *nqn, uint8_t *out,
                          size_t *ret_len)
{
    if (k->hash == SLIO_DHCHAP_HASH_NONE) {
        memcpy(out, k->key, k->len);
        *ret_len = k->len;
        return 0;
    }
    const struct chunk c[] = {{nqn, strlen(nqn)}, {"NVMe-over-Fabrics", 17}};
    int r = hmac(k->hash, k->key, k->len, c, 2, out);
    if (r < 0)
        return r;
    *ret_len = slio_dhchap_hash_len(k->hash);
    return 0;
}

/* Ca = HMAC_hash(H(secret), C); Ca = C without DH. */
static int augment(const struct slio_dhchap_resp_in *in, size_t hl, uint8_t *ca)
{
    if (!in->dh_secret) {
        memcpy(ca, in->challenge, hl);
        return 0;
    }
    uint8_t hk[SLIO_DHCHAP_HASH_MAX];
    const struct chunk c[] = {{in->challenge, hl}};
    int r = digest(in->hash, in->dh_secret, in->dh_secret_len, hk);
    if (r == 0)
        r = hmac(in->hash, hk, hl, c, 1, ca);
    OPENSSL_cleanse(hk, sizeof(hk));
    return r;
}

int slio_dhchap_response(const struct slio_dhchap_resp_in *in, uint8_t *out)
{
    size_t hl = slio_dhchap_hash_len(in->hash);
    if (!hl || !in->key || !in->nqn1 || !in->nqn2 || !in->challenge)
        return -EINVAL;
    uint8_t kt[SLIO_DHCHAP_HASH_MAX], ca[SLIO_DHCHAP_HASH_MAX];
    size_t ktlen = 0;
    int r = slio_dhchap_transform(in->key, in->nqn1, kt, &ktlen);
    if (r == 0)
        r = augment(in, hl, ca);
    if (r == 0) {
        uint8_t hdr[7];
        uint32_t seq = htole32(in->seqnum);
        uint16_t tid = htole16(in->tid);
        memcpy(hdr, &seq, 4);
        memcpy(hdr + 4, &tid, 2);
        hdr[6] = 0; /* SC_C: no secure channel concatenation */
        const char *role = in->controller ? "Controller" : "HostHost";
        const struct chunk c[] = {
            {ca, hl},
            {hdr, sizeof(hdr)},
            {role, strlen(role)},
            {in->nqn1, strlen(in->nqn1)},
            {"", 1},
            {in->nqn2, strlen(in->nqn2)},
        };
        r = hmac(in->hash, kt, ktlen, c, sizeof(c) / sizeof(c[0]), out);
    }
    OPENSSL_cleanse(kt, sizeof(kt));
    OPENSSL_cleanse(ca, sizeof(ca));
    return r;
}
