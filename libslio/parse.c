/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict number/size/duration parsing; see include/slio/parse.h for the
 * accepted grammar. strtoull() alone accepts leading spaces, a sign (and
 * negates!) and trailing junk, so every string is first checked to be
 * digits only and strtoull() is then used just for the conversion.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slio/parse.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parse exactly s[0..len) as decimal digits (len >= 1). */
static int digits_to_u64(const char *s, size_t len, uint64_t *ret)
{
    uint64_t v = 0;

    if (len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return -EINVAL;
        if (__builtin_mul_overflow(v, 10u, &v) ||
            __builtin_add_overflow(v, (unsigned)(s[i] - '0'), &v))
            return -ERANGE;
    }
    *ret = v;
    return 0;
}

int slio_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
    uint64_t v;
    int r;

    if (!s)
        return -EINVAL;
    r = digits_to_u64(s, strlen(s), &v);
    if (r < 0)
        return r;
    if (v < min || v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

int slio_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
    bool neg;
    uint64_t mag;
    int64_t v;
    int r;

    if (!s)
        return -EINVAL;
    neg = s[0] == '-';
    r = digits_to_u64(s + neg, strlen(s + neg), &mag);
    if (r < 0)
        return r;
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1)
            return -ERANGE;
        v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX)
            return -ERANGE;
        v = (int64_t)mag;
    }
    if (v < min || v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

int slio_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
    uint64_t v;
    int r = slio_parse_u64(s, min, max, &v);

    if (r < 0)
        return r;
    *ret = (uint32_t)v;
    return 0;
}

/*
 * "<int>[.<frac>]" at the start of s: consumes the digits, stores the integer
 * part and the fraction as numerator/10^ndigits. At most 18 fraction digits
 * (10^18 fits in 64 bits) — enough for any real size or duration.
 */
struct decimal {
    uint64_t int_part;
    uint64_t frac;
    uint64_t frac_div;
};

static int parse_decimal(const char **sp, struct decimal *d)
{
    const char *s = *sp;
    size_t n = 0;
    int r;

    while (is_digit(s[n]))
        n++;
    r = digits_to_u64(s, n, &d->int_part);
    if (r < 0)
        return r;
    s += n;
    d->frac = 0;
    d->frac_div = 1;
    if (*s == '.') {
        s++;
        for (n = 0; is_digit(s[n]); n++) {
            if (n == 18)
                return -EINVAL;
            d->frac = d->frac * 10 + (uint64_t)(s[n] - '0');
            d->frac_div *= 10;
        }
        if (n == 0)
            return -EINVAL; /* "1." */
        s += n;
    }
    *sp = s;
    return 0;
}

/* d * mult as a whole number: -ERANGE on overflow, -EINVAL if not whole. */
static int decimal_scale(const struct decimal *d, uint64_t mult, uint64_t *ret)
{
    unsigned __int128 frac = (unsigned __int128)d->frac * mult;
    uint64_t whole;

    if (frac % d->frac_div != 0)
        return -EINVAL;
    if (__builtin_mul_overflow(d->int_part, mult, &whole))
        return -ERANGE;
    frac /= d->frac_div;
    if (frac > UINT64_MAX - whole)
        return -ERANGE;
    *ret = whole + (uint64_t)frac;
    return 0;
}

struct unit {
    const char *name;
    uint64_t mult;
};

static const struct unit size_units[] = {
    {"", 1},
    {"k", 1000ull},
    {"M", 1000000ull},
    {"G", 1000000000ull},
    {"T", 1000000000000ull},
    {"P", 1000000000000000ull},
    {"E", 1000000000000000000ull},
    {"Ki", 1ull << 10},
    {"Mi", 1ull << 20},
    {"Gi", 1ull << 30},
    {"Ti", 1ull << 40},
    {"Pi", 1ull << 50},
    {"Ei", 1ull << 60},
};

static const struct unit *find_unit(const struct unit *units, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(units[i].name) == len && memcmp(units[i].name, s, len) == 0)
            return &units[i];
    return NULL;
}

int slio_parse_size(const char *s, uint64_t *ret_bytes)
{
    struct decimal d;
    const struct unit *u;
    uint64_t v;
    int r;

    if (!s)
        return -EINVAL;
    r = parse_decimal(&s, &d);
    if (r < 0)
        return r;
    u = find_unit(size_units, SLIO_ARRAY_SIZE(size_units), s, strlen(s));
    if (!u)
        return -EINVAL;
    r = decimal_scale(&d, u->mult, &v);
    if (r < 0)
        return r;
    *ret_bytes = v;
    return 0;
}

const char *slio_format_size(uint64_t bytes, char buf[static SLIO_FORMAT_SIZE_MAX])
{
    static const char *const names[] = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};

    for (size_t i = 0; i < SLIO_ARRAY_SIZE(names); i++) {
        uint64_t unit = 1ull << (60 - 10 * i);
        /* exact and short: "1536Mi" reads better than "~1.5Gi" */
        if (bytes >= unit && bytes % unit == 0 && bytes / unit < 10000) {
            snprintf(buf, SLIO_FORMAT_SIZE_MAX, "%llu%s", (unsigned long long)(bytes / unit),
                     names[i]);
            return buf;
        }
    }
    if (bytes < 1024) {
        snprintf(buf, SLIO_FORMAT_SIZE_MAX, "%llu", (unsigned long long)bytes);
        return buf;
    }
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(names); i++) {
        uint64_t unit = 1ull << (60 - 10 * i);
        if (bytes >= unit) {
            uint64_t tenths = (uint64_t)((unsigned __int128)bytes * 10 / unit);
            snprintf(buf, SLIO_FORMAT_SIZE_MAX, "~%llu.%llu%s", (unsigned long long)(tenths / 10),
                     (unsigned long long)(tenths % 10), names[i]);
            return buf;
        }
    }
    return buf; /* not reached: bytes >= 1024 matched Ki */
}

static const struct unit duration_units[] = {
    {"us", 1ull},       {"ms", 1000ull},      {"s", 1000000ull},
    {"m", 60000000ull}, {"h", 3600000000ull}, {"d", 86400000000ull},
};

int slio_parse_duration_us(const char *s, uint64_t *ret_us)
{
    uint64_t total = 0;

    if (!s || !*s)
        return -EINVAL;
    if (strcmp(s, "0") == 0) {
        *ret_us = 0;
        return 0;
    }
    while (*s) {
        struct decimal d;
        const struct unit *u;
        uint64_t v;
        size_t n = 0;
        int r = parse_decimal(&s, &d);

        if (r < 0)
            return r;
        while (s[n] && !is_digit(s[n]) && s[n] != '.')
            n++;
        u = find_unit(duration_units, SLIO_ARRAY_SIZE(duration_units), s, n);
        if (!u)
            return -EINVAL;
        s += n;
        r = decimal_scale(&d, u->mult, &v);
        if (r < 0)
            return r;
        if (__builtin_add_overflow(total, v, &total))
            return -ERANGE;
    }
    *ret_us = total;
    return 0;
}

int slio_parse_duration_unit_us(const char *s, uint64_t bare_unit_us, uint64_t *ret_us)
{
    uint64_t n;
    int r = slio_parse_u64(s, 0, UINT64_MAX, &n);

    if (r == -EINVAL) /* not a bare number: it must carry its units */
        return slio_parse_duration_us(s, ret_us);
    if (r < 0)
        return r;
    if (bare_unit_us == 0 || __builtin_mul_overflow(n, bare_unit_us, &n))
        return bare_unit_us == 0 ? -EINVAL : -ERANGE;
    *ret_us = n;
    return 0;
}

size_t slio_utf8_seq(const char *s, uint32_t *ret_cp)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;
    uint32_t cp;

    if (p[0] < 0x80)
        n = 1, cp = p[0];
    else if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2, cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3, cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4, cp = p[0] & 0x07;
    else
        return 0; /* continuation byte, C0/C1 (always overlong), F5..FF */
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0; /* stops at the NUL of a truncated sequence too */
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0; /* overlong, surrogate, beyond Unicode */
    if (ret_cp)
        *ret_cp = cp;
    return n;
}
