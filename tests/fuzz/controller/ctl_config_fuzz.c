/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz slio-controller's configuration file as slio-controller reads it: the
 * YAML loader, ctl_config_decode with its cross-field checks, then the
 * scheduler section through sched_config_from_json (as ctl_open does).
 */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "sched/sched.h"
#include "slio/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slio_err err;
    json_t *j = NULL;
    struct ctl_config cfg = {0};
    if (slio_config_load_yaml((const char *)data, size, NULL, &j, &err) < 0)
        return 0;
    if (ctl_config_decode(j, &cfg, &err) == 0) {
        struct sched_config *sc = NULL;
        if (sched_config_from_json(cfg.scheduler, &sc, &err) == 0)
            sched_config_free(sc);
        ctl_config_clear(&cfg);
    }
    json_decref(j);
    return 0;
}
