/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the decoders of the target's answers (nvmf_get_subsystems, bdev_get_bdevs, iostat). */
#include <stdint.h>
#include <stdlib.h>

#include "export/slio_tgt_internal.h"
#include "slio/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agent_export_addr addr = {.traddr = "127.0.0.1", .trsvcid = "4420"};
    struct agent_export_list l = {0};
    struct agent_iostat_list io = {0};
    struct slio_err err;
    json_t *j = NULL;

    if (slio_json_loadb((const char *)data, size, 1 << 20, &j, &err) < 0)
        return 0;
    if (tgt_decode_subsystems(j, &addr, &l, &err) == 0)
        (void)tgt_decode_bdevs(json_object_get(j, "bdevs"), &l, &err);
    (void)tgt_decode_bdevs(j, &l, &err);
    agent_export_list_free(&l);
    if (tgt_decode_iostat(j, &io, &err) == 0)
        agent_iostat_list_free(&io);
    json_decref(j);
    return 0;
}
