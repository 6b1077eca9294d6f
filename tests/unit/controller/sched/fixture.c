/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "slio/json.h"

struct sched_pool_info fx_pool(const char *id, const char *node, const char *rack, const char *zone)
{
    return (struct sched_pool_info){
        .id = id,
        .node = node,
        .rack = rack,
        .zone = zone,
        .ready = true,
        .capacity = 100 * GiB,
        .free = 100 * GiB,
        .overprovision = 1.0,
    };
}

struct sched_request fx_request(const char *uuid)
{
    return (struct sched_request){.uuid = uuid, .size = 10 * GiB};
}

struct sched_view *fx_view(const char *config_json)
{
    struct slio_err err = {{0}};
    json_t *j = NULL;
    if (config_json)
        assert_int_equal(slio_json_loadb(config_json, strlen(config_json), 1 << 16, &j, &err), 0);
    struct sched_config *cfg = NULL;
    int r = sched_config_from_json(j, &cfg, &err);
    if (r < 0)
        fail_msg("config: %s", err.text);
    struct sched_view *v = NULL;
    assert_int_equal(sched_view_new(cfg, &v), 0);
    sched_config_free(cfg);
    json_decref(j);
    return v;
}

void fx_add_pool(struct sched_view *v, const struct sched_pool_info *p)
{
    assert_int_equal(sched_view_upsert_pool(v, p), 0);
}

void fx_add_volume(struct sched_view *v, const char *uuid, const char *pool_id, uint64_t size,
                   const char *group, const char *consumer)
{
    struct sched_volume_info vol = {.uuid = uuid,
                                    .pool_id = pool_id,
                                    .size = size,
                                    .spread_group = group,
                                    .consumer_node = consumer};
    assert_int_equal(sched_view_add_volume(v, &vol), 0);
}

int fx_place(struct sched_view *v, const struct sched_request *req, char *ret_pool,
             struct slio_err *err)
{
    struct sched_decision d = {{0}};
    err->text[0] = '\0';
    int r = sched_place(v, req, &d, err);
    snprintf(ret_pool, SCHED_NAME_MAX + 1, "%s", r == 0 ? d.pool_id : "");
    return r;
}
