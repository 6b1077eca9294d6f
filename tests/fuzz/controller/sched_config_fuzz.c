/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz sched_config_from_json (the scheduler's section of the controller's
 * config); an accepted config then drives one view and a few placements, so
 * every chain the decoder lets through is also exercised.
 */
#include <stdint.h>
#include <stdlib.h>

#include "sched/sched.h"
#include "slio/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct sched_config *cfg)
{
    struct sched_view *v;
    if (sched_view_new(cfg, &v) < 0)
        return;
    static const struct sched_label ssd[] = {{"disk", "ssd"}};
    struct sched_pool_info a = {.id = "p1",
                                .node = "n1",
                                .rack = "r1",
                                .zone = "z1",
                                .ready = true,
                                .capacity = 100,
                                .free = 100,
                                .pool_labels = ssd,
                                .n_pool_labels = 1};
    struct sched_pool_info b = {.id = "p2",
                                .node = "n2",
                                .rack = "r2",
                                .ready = true,
                                .capacity = 50,
                                .free = 50,
                                .thin = true,
                                .overprovision = 2.0};
    static const char *const ssd_v[] = {"ssd"};
    static const struct sched_selector_term term = {"disk", SCHED_OP_IN, ssd_v, 1};
    struct sched_request req = {.uuid = "v1",
                                .size = 10,
                                .consumer_node = "n1",
                                .position = SCHED_POS_PREFER_REMOTE,
                                .spread_group = "g",
                                .spread_hard = true,
                                .spread_level = SCHED_SPREAD_RACK,
                                .pool_selector = {&term, 1}};
    struct sched_decision d;
    struct slio_err err;
    if (sched_view_upsert_pool(v, &a) == 0 && sched_view_upsert_pool(v, &b) == 0) {
        (void)!sched_place(v, &req, &d, &err);
        req.uuid = "v2";
        (void)!sched_explain(v, &req, &d, &err);
        req.thin = true;
        req.pool_selector.n_terms = 0;
        (void)!sched_place(v, &req, &d, &err);
    }
    sched_view_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slio_err err;
    json_t *j = NULL;
    if (slio_json_loadb((const char *)data, size, 1 << 20, &j, &err) < 0)
        return 0;
    struct sched_config *cfg = NULL;
    if (sched_config_from_json(j, &cfg, &err) == 0) {
        exercise(cfg);
        sched_config_free(cfg);
    }
    json_decref(j);
    return 0;
}
