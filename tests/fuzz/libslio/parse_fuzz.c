/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz slio_parse_{u64,i64,size,duration_us} and check format/parse round
 * trips; and slio_utf8_seq() at every offset against a second, independent
 * reading: Unicode's table of well-formed byte sequences (3-7), range by range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slio/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Well-formed length at p by table 3-7 of the Unicode standard, or 0. */
static size_t table_3_7(const uint8_t *p)
{
    static const struct {
        uint8_t lead_lo, lead_hi, second_lo, second_hi;
        size_t len;
    } rows[] = {
        {0x00, 0x7f, 0, 0, 1},       {0xc2, 0xdf, 0x80, 0xbf, 2}, {0xe0, 0xe0, 0xa0, 0xbf, 3},
        {0xe1, 0xec, 0x80, 0xbf, 3}, {0xed, 0xed, 0x80, 0x9f, 3}, {0xee, 0xef, 0x80, 0xbf, 3},
        {0xf0, 0xf0, 0x90, 0xbf, 4}, {0xf1, 0xf3, 0x80, 0xbf, 4}, {0xf4, 0xf4, 0x80, 0x8f, 4},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        if (p[0] < rows[r].lead_lo || p[0] > rows[r].lead_hi)
            continue;
        if (rows[r].len > 1 && (p[1] < rows[r].second_lo || p[1] > rows[r].second_hi))
            return 0;
        for (size_t i = 2; i < rows[r].len; i++)
            if (p[i] < 0x80 || p[i] > 0xbf)
                return 0;
        return rows[r].len;
    }
    return 0;
}

/* The code point back in UTF-8 must be the very bytes it was read from. */
static void check_utf8(const char *s, size_t size)
{
    for (size_t off = 0; off < size; off++) {
        const uint8_t *p = (const uint8_t *)s + off;
        uint32_t cp;
        size_t n = slio_utf8_seq(s + off, &cp);
        if (n != table_3_7(p))
            abort();
        if (n == 0)
            continue;
        uint8_t enc[4];
        size_t len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (len == 1)
            enc[0] = (uint8_t)cp;
        else {
            for (size_t i = len - 1; i > 0; i--, cp >>= 6)
                enc[i] = (uint8_t)(0x80 | (cp & 0x3f));
            enc[0] = (uint8_t)((0xf00u >> len) | cp);
        }
        if (len != n || memcmp(enc, p, n) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    char buf[SLIO_FORMAT_SIZE_MAX];
    uint64_t u, again;
    int64_t i;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (slio_parse_u64(s, 0, UINT64_MAX, &u) == 0 && strlen(s) > 20 + strspn(s, "0"))
        abort(); /* more digits than fit must not parse */
    (void)slio_parse_i64(s, INT64_MIN, INT64_MAX, &i);
    if (slio_parse_size(s, &u) == 0) {
        slio_format_size(u, buf);
        if (buf[0] != '~' && (slio_parse_size(buf, &again) != 0 || again != u))
            abort(); /* exact forms round-trip */
    }
    (void)slio_parse_duration_us(s, &u);
    check_utf8(s, size);
    free(s);
    return 0;
}
