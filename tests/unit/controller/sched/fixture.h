/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the scheduler's unit tests: a view with named pools, placing by name. */
#ifndef SCHED_TEST_FIXTURE_H
#define SCHED_TEST_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/sched.h"

#define GiB (1ull << 30)

/* A ready thick pool of 100 GiB, all free, on node/rack/zone. */
struct sched_pool_info fx_pool(const char *id, const char *node, const char *rack,
                               const char *zone);
/* A thick 10 GiB request "v" with no constraints. */
struct sched_request fx_request(const char *uuid);
/* A view with the default config (NULL) or the given JSON config text. */
struct sched_view *fx_view(const char *config_json);
void fx_add_pool(struct sched_view *v, const struct sched_pool_info *p);
void fx_add_volume(struct sched_view *v, const char *uuid, const char *pool_id, uint64_t size,
                   const char *group, const char *consumer);
/* sched_place; returns its result, the chosen pool in ret_pool (SCHED_NAME_MAX + 1 bytes) and the
 * text in err. */
int fx_place(struct sched_view *v, const struct sched_request *req, char *ret_pool,
             struct slio_err *err);

#endif
