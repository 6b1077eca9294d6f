/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ephemeral finite-field Diffie-Hellman for DH-HMAC-CHAP: OpenSSL's named
 * RFC 7919 groups (EVP "DH" keys with the "group" parameter), so the primes
 * are OpenSSL's, not ours. Public values and shared secrets travel padded
 * to the group size, as the Linux host and target send them; a peer value
 * shorter than that (SPDK's host strips leading zeros) is accepted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "slio/nvme_auth.h"

struct slio_dhchap_dh {
    int group;
    EVP_PKEY *pkey;
};

static int wrap(int group, EVP_PKEY *pkey, struct slio_dhchap_dh **ret)
{
    struct slio_dhchap_dh *dh = calloc(1, sizeof(*dh));
    if (!dh) {
        EVP_PKEY_free(pkey);
        return -ENOMEM;
    }
    dh->group = group;
    dh->pkey = pkey;
    *ret = dh;
    return 0;
}

int slio_dhchap_dh_new(int group, struct slio_dhchap_dh **ret)
{
    if (!slio_dhchap_dhgroup_len(group))
        return -EINVAL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                         (char *)slio_dhchap_dhgroup_name(group), 0),
        OSSL_PARAM_construct_end(),
    };
    int ok = ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_CTX_set_params(ctx, params) == 1 &&
             EVP_PKEY_generate(ctx, &pkey) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return -EIO;
    }
    return wrap(group, pkey, ret);
}

/* A DH key of `group` from the given parameters (pub, and priv when not NULL). */
static EVP_PKEY *key_from(int group, const BIGNUM *pub, const BIGNUM *priv)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
    EVP_PKEY *pkey = NULL;
    int ok = bld && ctx &&
             OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                             slio_dhchap_dhgroup_name(group), 0) &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, pub) &&
             (!priv || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)) &&
             (params = OSSL_PARAM_BLD_to_param(bld)) && EVP_PKEY_fromdata_init(ctx) == 1;
    if (ok &&
        EVP_PKEY_fromdata(ctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

int slio_dhchap_dh_from_private(int group, const uint8_t *priv, size_t len,
                                struct slio_dhchap_dh **ret)
{
    struct slio_dhchap_dh *tmp = NULL;
    int r = slio_dhchap_dh_new(group, &tmp); /* for the group's prime */
    if (r < 0)
        return r;
    BIGNUM *p = NULL, *x = BN_bin2bn(priv, (int)len, NULL), *g = BN_new(), *y = BN_new();
    BN_CTX *bnctx = BN_CTX_new();
    EVP_PKEY *pkey = NULL;
    if (x && g && y && bnctx && EVP_PKEY_get_bn_param(tmp->pkey, OSSL_PKEY_PARAM_FFC_P, &p) &&
        BN_set_word(g, 2) && BN_mod_exp(y, g, x, p, bnctx))
        pkey = key_from(group, y, x);
    BN_clear_free(x);
    BN_free(g);
    BN_free(y);
    BN_free(p);
    BN_CTX_free(bnctx);
    slio_dhchap_dh_free(tmp);
    return pkey ? wrap(group, pkey, ret) : -EIO;
}

int slio_dhchap_dh_public(const struct slio_dhchap_dh *dh, uint8_t *out, size_t size)
{
    size_t n = slio_dhchap_dhgroup_len(dh->group);
    BIGNUM *pub = NULL;
    int r = -EIO;
    if (size >= n && EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, &pub) &&
        BN_bn2binpad(pub, out, (int)n) == (int)n)
        r = 0;
    BN_free(pub);
    return r;
}

int slio_dhchap_dh_derive(const struct slio_dhchap_dh *dh, const uint8_t *peer, size_t peer_len,
                          uint8_t *out, size_t size)
{
    size_t n = slio_dhchap_dhgroup_len(dh->group), len = n;
    if (size < n)
        return -EIO;
    if (peer_len == 0 || peer_len > n)
        return -EINVAL;
    BIGNUM *y = BN_bin2bn(peer, (int)peer_len, NULL);
    EVP_PKEY *pk = y ? key_from(dh->group, y, NULL) : NULL;
    BN_free(y);
    if (!pk)
        return -EINVAL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(dh->pkey, NULL);
    int r = -EIO;
    if (ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_CTX_set_dh_pad(ctx, 1) == 1) {
        /* validate_peer: 1 < y < p - 1 and y^q = 1, a small-subgroup value is refused */
        if (EVP_PKEY_derive_set_peer_ex(ctx, pk, 1) != 1)
            r = -EINVAL;
        else if (EVP_PKEY_derive(ctx, out, &len) == 1 && len == n)
            r = 0;
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return r;
}

void slio_dhchap_dh_free(struct slio_dhchap_dh *dh)
{
    if (!dh)
        return;
    EVP_PKEY_free(dh->pkey); /* OpenSSL clears the private BIGNUM */
    free(dh);
}
