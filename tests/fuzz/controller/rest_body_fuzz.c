/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz every REST body the controller decodes: the first byte picks the
 * endpoint's decoder, the rest is the body as it arrives (bounded JSON load,
 * then the field table). A decoded volume also goes through the canonical
 * parameters and the scheduler request built from them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model_agent.h"
#include "slio/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void volume(const json_t *j)
{
    struct volume_create vc;
    if (model_volume_create_decode(j, &vc, NULL) < 0)
        return;
    json_t *spec = model_volume_spec(&vc);
    if (!spec)
        return;
    struct model_sched_req *msr = malloc(sizeof(*msr));
    if (msr)
        model_sched_request(spec, "0190a8f0-0000-7000-8000-000000000000", NULL, msr);
    free(msr);
    json_decref(spec);
}

static void status(const json_t *j)
{
    struct agent_status s;
    struct object_status o;
    size_t i;
    json_t *v;
    if (model_agent_status_decode(j, &s, NULL) < 0)
        return;
    json_array_foreach (s.volumes, i, v)
        if (model_object_status_decode(v, &o, NULL) < 0)
            abort(); /* validated once: must decode again */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slio_err err;
    json_t *j = NULL;
    if (size < 1)
        return 0;
    if (slio_json_loadb((const char *)data + 1, size - 1, 1u << 20, &j, &err) < 0)
        return 0;
    if (json_is_object(j)) {
        union {
            struct volume_expand e;
            struct attachment_create a;
            struct snapshot_create s;
            struct model_qos q;
            struct agent_register r;
            struct agent_heartbeat h;
        } u;
        switch (data[0] % 8) {
        case 0:
            volume(j);
            break;
        case 1:
            (void)!model_volume_expand_decode(j, &u.e, &err);
            break;
        case 2:
            (void)!model_attachment_decode(j, &u.a, &err);
            break;
        case 3:
            (void)!model_snapshot_create_decode(j, &u.s, &err);
            break;
        case 4:
            (void)!model_qos_decode(j, &u.q, &err);
            break;
        case 5:
            (void)!model_agent_register_decode(j, &u.r, &err);
            break;
        case 6:
            (void)!model_agent_heartbeat_decode(j, &u.h, &err);
            break;
        default:
            status(j);
            break;
        }
    }
    json_decref(j);
    return 0;
}
