/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the YAML config loader under tight limits; a loaded tree must dump as JSON. */
#include <stdint.h>
#include <stdlib.h>

#include "slio/config.h"
#include "slio/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slio_config_limits lim = {.max_bytes = 1 << 16, .max_depth = 16, .max_nodes = 2000};
    struct slio_err err;
    json_t *j = NULL;

    if (slio_config_load_yaml((const char *)data, size, &lim, &j, &err) < 0)
        return 0;
    char *s = slio_json_dump(j, 0);
    if (!s)
        abort(); /* every tree we build is representable as JSON */
    free(s);
    json_decref(j);
    return 0;
}
