/* SPDX-License-Identifier: Apache-2.0 */
/* Fixed-size error text; see include/slio/error.h. */
#include <stdio.h>
#include <string.h>

#include "slio/error.h"

void slio_err_setv(struct slio_err *err, const char *fmt, va_list ap)
{
    if (!err)
        return;
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
}

void slio_err_set(struct slio_err *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    slio_err_setv(err, fmt, ap);
    va_end(ap);
}

void slio_err_prefix(struct slio_err *err, const char *fmt, ...)
{
    char prefix[SLIO_ERR_TEXT_MAX];
    char old[SLIO_ERR_TEXT_MAX];
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->text, sizeof(old));
    old[sizeof(old) - 1] = '\0';
    /* pieces copied by hand: snprintf("%s: %s") trips -Wformat-truncation */
    size_t n = 0, cap = sizeof(err->text) - 1;
    const char *parts[] = {prefix, ": ", old};
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(parts); i++) {
        size_t l = SLIO_MIN(strlen(parts[i]), cap - n);
        memcpy(err->text + n, parts[i], l);
        n += l;
    }
    err->text[n] = '\0';
}
