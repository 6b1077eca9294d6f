/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UUIDs over libuuid. Parsing is strict: exactly 36 characters
 * "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex digits in either case), nothing
 * before or after. Formatting is lowercase.
 */
#ifndef SLIO_UUID_H
#define SLIO_UUID_H

#include <stdbool.h>
#include <uuid/uuid.h>

#include "slio/cleanup.h"

#define SLIO_UUID_STR_LEN 37 /* 36 characters + NUL */

/* Random (version 4) UUID. */
void slio_uuid_generate(uuid_t ret);
/* 0 or -EINVAL; ret untouched on failure. */
int slio_uuid_parse(const char *s, uuid_t ret) _must_check_;
/* Lowercase text form into buf; returns buf. */
const char *slio_uuid_format(const uuid_t u, char buf[static SLIO_UUID_STR_LEN]);
bool slio_uuid_is_null(const uuid_t u);

#endif
