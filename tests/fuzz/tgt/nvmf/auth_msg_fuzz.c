/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DH-HMAC-CHAP payload parsers slio-tgt and slio-perf run on network
 * bytes (libslio/nvme_auth_msg.c) and the DHHC-1 secret parser (key files).
 * Byte 0 selects the parser and its negotiated hash/DH group; the rest is
 * the message. Every parser must stay inside the buffer it is given and
 * return views that lie inside it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slio/nvme_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
    if (p && (p < buf || p + n > buf + len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    size_t len = size - 1;
    /* a heap copy of the exact length, so ASan sees any over-read */
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, len);
    int hash = 1 + (sel >> 2) % 3, group = (sel >> 4) % 6;
    uint16_t tid = 0, t = (uint16_t)(sel * 257u);
    int h = 0, g = 0;
    struct slio_auth_reply_view rv;
    struct slio_auth_challenge_view cv;
    const uint8_t *rval = NULL;
    switch (sel & 3) {
    case 0:
        (void)slio_auth_negotiate_pick(buf, len, 0x0e, 0x3f, &tid, &h, &g);
        (void)slio_auth_step2_parse(buf, len, t);
        break;
    case 1:
        if (slio_auth_reply_parse(buf, len, hash, group, t, &rv) == 0) {
            size_t hl = slio_dhchap_hash_len(hash);
            inside(rv.rval, hl, buf, len);
            inside(rv.c2, hl, buf, len);
            inside(rv.dhv, rv.dhvlen, buf, len);
        }
        break;
    case 2:
        if (slio_auth_challenge_parse(buf, len, t, 0x0e, 0x3f, &cv) == 0) {
            inside(cv.cval, slio_dhchap_hash_len(cv.hash), buf, len);
            inside(cv.dhv, cv.dhvlen, buf, len);
        }
        if (slio_auth_success1_parse(buf, len, t, slio_dhchap_hash_len(hash), &rval) == 0)
            inside(rval, slio_dhchap_hash_len(hash), buf, len);
        break;
    default: {
        char *s = malloc(len + 1);
        if (s) {
            memcpy(s, buf, len);
            s[len] = '\0';
            struct slio_dhchap_key k;
            if (slio_dhchap_key_parse(s, &k, NULL) == 0 && k.len != 32 && k.len != 48 &&
                k.len != 64)
                abort();
            free(s);
        }
    }
    }
    free(buf);
    return 0;
}
