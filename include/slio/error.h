/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error text that travels next to a negative errno.
 *
 * Parsers and loaders return -EINVAL and say *why* in a caller-provided
 * struct slio_err ("line 3 column 7: duplicate key 'name'"). The struct is
 * a fixed buffer so that filling it can never fail; every function that
 * takes one accepts NULL when the caller does not want the text.
 */
#ifndef SLIO_ERROR_H
#define SLIO_ERROR_H

#include <stdarg.h>

#include "slio/cleanup.h"

#define SLIO_ERR_TEXT_MAX 256

struct slio_err {
    char text[SLIO_ERR_TEXT_MAX];
};

/* Replace the text (truncated to fit). err may be NULL. */
void slio_err_set(struct slio_err *err, const char *fmt, ...) _printf_(2, 3);
void slio_err_setv(struct slio_err *err, const char *fmt, va_list ap) _printf_(2, 0);
/* Put "prefix: " in front of the text already there. err may be NULL. */
void slio_err_prefix(struct slio_err *err, const char *fmt, ...) _printf_(2, 3);

#endif
