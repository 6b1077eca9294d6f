/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the controller's DesiredState decoding and the plan made from it. */
#include <stdint.h>
#include <stdlib.h>

#include "reconcile/desired.h"
#include "reconcile/plan.h"
#include "slio/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct agent_volume_list actual = {0};
    struct agent_export_list exports = {0};
    struct agent_desired d;
    struct agent_plan p;
    struct slio_err err;
    json_t *j = NULL;

    if (slio_json_loadb((const char *)data, size, 1 << 20, &j, &err) < 0)
        return 0;
    if (agent_desired_decode(j, &d, &err) == 0) {
        if (agent_plan_make(&d, "p1", &actual, &exports, &p) == 0) {
            if (p.n_statuses != d.n_volumes + d.n_snapshots)
                abort(); /* every object gets a status */
            agent_plan_free(&p);
        }
        agent_desired_free(&d);
    }
    json_decref(j);
    return 0;
}
