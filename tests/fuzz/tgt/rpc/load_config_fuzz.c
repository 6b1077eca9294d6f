/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the file slio-tgt loads at start (--json-config, SPDK's save_config
 * layout) through tgt_config_apply over the real registry (fakes of the
 * transport and nvmf layer). Whatever part of the document applied, what
 * save_config then writes must load back on an empty target and save again
 * identically: a target restarted from its own saved config must come up.
 *
 * Like jsonrpc_fuzz, compiled with -Dopen=tgt_fuzz_open: bdev_aio_create can
 * only open the scratch files of fuzz_sandbox.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_sandbox.h"
#include "rpc/methods.h"
#include "rpc/rpc.h"
#include "slio/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What save_config wrote must load on an empty target and save the same again. */
static void saved_loads_back(void)
{
    struct tgt_rpc_err err;
    json_t *saved = tgt_config_build(0);
    if (!saved)
        return; /* out of memory */
    fuzz_sandbox_reset();
    if (tgt_config_apply(saved, &err) < 0) {
        fprintf(stderr, "saved config does not load back: %s\n", err.message);
        abort();
    }
    json_t *again = tgt_config_build(0);
    if (again && !json_equal(saved, again)) {
        fprintf(stderr, "saved config changed after a reload\n");
        abort();
    }
    json_decref(again);
    json_decref(saved);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tgt_rpc_err err;
    struct slio_err e;
    json_t *doc = NULL;

    fuzz_sandbox_reset();
    if (slio_json_loadb((const char *)data, size, SLIO_JSON_MAX_DEFAULT, &doc, &e) == 0) {
        (void)!tgt_config_apply(doc, &err);
        json_decref(doc);
        saved_loads_back();
    }
    fuzz_sandbox_reset();
    return 0;
}
