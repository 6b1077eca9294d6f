/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the pool section of the agent config: YAML (or JSON, which YAML reads) through
 * libslio's loader into agent_pool_config_decode() — the custom list and ratio decoders,
 * the cross-field rules, and that a refused config frees what it copied.
 */
#include <stdint.h>
#include <stdlib.h>

#include "engine.h"
#include "slio/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agent_pool_config cfg;
    struct slio_err err;
    json_t *j = NULL;

    if (slio_config_load_yaml((const char *)data, size, NULL, &j, &err) < 0)
        return 0;
    if (agent_pool_config_decode(j, &cfg, &err) == 0)
        agent_pool_config_release(&cfg);
    json_decref(j);
    return 0;
}
