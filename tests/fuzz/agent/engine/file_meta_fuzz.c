/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the file engine's sidecar parser (a file anyone with access to the pool folder can edit). */
#include <stdint.h>
#include <stdlib.h>

#include "file_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct file_meta m;
    struct slio_err err;

    (void)!file_meta_parse("p1", (const char *)data, size, &m, &err);
    return 0;
}
