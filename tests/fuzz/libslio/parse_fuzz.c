/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz slio_parse_{u64,i64,size,duration_us} and check format/parse round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slio/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    free(s);
    return 0;
}
