/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Standard base64 for etcd's JSON gateway (bytes fields). libslio has none,
 * and OpenSSL's EVP_DecodeBlock accepts whitespace and junk and cannot tell
 * the padding; this one accepts only the canonical form.
 */
#include <string.h>

#include "etcd_codec.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64_encode(const void *data, size_t len)
{
    const unsigned char *p = data;
    char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        *o++ = b64_alphabet[v >> 18];
        *o++ = b64_alphabet[(v >> 12) & 63];
        *o++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        *o++ = i + 2 < len ? b64_alphabet[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *at = c ? strchr(b64_alphabet, c) : NULL;
    return at ? (int)(at - b64_alphabet) : -1;
}

int etcd_b64_decode(const char *s, size_t max_len, char **ret, size_t *ret_len)
{
    size_t n = strlen(s);
    if (n % 4 != 0 || n / 4 * 3 > max_len + 2)
        return -EBADMSG;
    size_t pad = n && s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    size_t out_len = n / 4 * 3 - pad;
    if (out_len > max_len)
        return -EBADMSG;
    _cleanup_free_ char *out = malloc(out_len + 1);
    if (!out)
        return -ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        bool last = i + 4 == n;
        int v[4];
        for (int k = 0; k < 4; k++) {
            bool is_pad = last && k >= 4 - (int)pad;
            v[k] = is_pad ? 0 : b64_value(s[i + k]);
            if (v[k] < 0)
                return -EBADMSG;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | v[3];
        unsigned char bytes[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8),
                                  (unsigned char)w};
        size_t take = last ? 3 - pad : 3;
        /* Canonical form only: the bits the padding hides must be zero. */
        if (last && pad && bytes[take] != 0)
            return -EBADMSG;
        memcpy(out + o, bytes, take);
        o += take;
    }
    out[o] = '\0';
    *ret = TAKE_PTR(out);
    *ret_len = o;
    return 0;
}
