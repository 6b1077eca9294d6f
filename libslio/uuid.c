/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thin wrappers over libuuid. uuid_parse() itself already insists on the
 * 36-character hyphenated form; the extra checks here make the contract
 * explicit rather than depending on the libuuid version.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "slio/uuid.h"

void slio_uuid_generate(uuid_t ret)
{
    uuid_generate_random(ret);
}

int slio_uuid_parse(const char *s, uuid_t ret)
{
    uuid_t u;

    if (!s || strnlen(s, SLIO_UUID_STR_LEN) != SLIO_UUID_STR_LEN - 1)
        return -EINVAL;
    for (size_t i = 0; i < SLIO_UUID_STR_LEN - 1; i++) {
        bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
        if (hyphen ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return -EINVAL;
    }
    if (uuid_parse(s, u) < 0)
        return -EINVAL;
    uuid_copy(ret, u);
    return 0;
}

const char *slio_uuid_format(const uuid_t u, char buf[static SLIO_UUID_STR_LEN])
{
    uuid_unparse_lower(u, buf);
    return buf;
}

bool slio_uuid_is_null(const uuid_t u)
{
    return uuid_is_null(u) != 0;
}
