/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz NQN validation and the volume NQN builder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slio/nqn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char nqn[SLIO_NQN_BUF];
    char *s = malloc(size + 1);

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (slio_nqn_validate(s) == 0 && strlen(s) > SLIO_NQN_MAX)
        abort();
    if (slio_nqn_for_volume(s, nqn) == 0 && slio_nqn_validate(nqn) != 0)
        abort(); /* what we build must pass our own check */
    (void)slio_nqn_is_discovery(s);
    free(s);
    return 0;
}
