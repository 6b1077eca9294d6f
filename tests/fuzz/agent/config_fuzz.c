/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the agent's config decoding: YAML text → agent_config (with the pool section). */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "slio/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slio_config_limits lim = {.max_bytes = 1 << 16, .max_depth = 16, .max_nodes = 2000};
    struct agent_config cfg;
    struct slio_err err;
    json_t *j = NULL;

    if (slio_config_load_yaml((const char *)data, size, &lim, &j, &err) < 0)
        return 0;
    if (agent_config_decode(j, &cfg, &err) == 0) {
        if (!cfg.node.name || !cfg.export_.traddr || cfg.controller.n_urls == 0)
            abort(); /* required fields are there once decoding succeeded */
        agent_config_release(&cfg);
    }
    json_decref(j);
    return 0;
}
