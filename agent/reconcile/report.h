/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON bodies the agent sends to the controller (api/openapi.yaml):
 * AgentRegister, AgentHeartbeat and NodeStatusReport. Builders only: no I/O.
 * Each returns a new reference, or NULL when out of memory.
 */
#ifndef AGENT_RECONCILE_REPORT_H
#define AGENT_RECONCILE_REPORT_H

#include <jansson.h>

#include "config.h"
#include "engine/engine.h"
#include "reconcile/plan.h"

/* AgentPool: the pool's figures, name, labels. */
json_t *agent_report_pool(const struct agent_config *cfg, const struct agent_pool_status *ps);

/* AgentRegister. agent_url may be NULL. */
json_t *agent_report_register(const struct agent_config *cfg, const char *host_nqn,
                              const char *agent_url, const struct agent_pool_status *ps);

/* AgentHeartbeat; ps may be NULL (figures not measured yet). */
json_t *agent_report_heartbeat(const struct agent_config *cfg, const struct agent_pool_status *ps);

/* The heartbeat interval an AgentRegistered answer gives, in µs: heartbeat_interval_ms
 * when present (100 ms .. 1 h, what the controller's config allows), else the whole
 * seconds of heartbeat_interval_s (1 s .. 1 h, older controllers); current_us when the
 * answer has neither in range. */
uint64_t agent_report_interval_us(const json_t *registered, uint64_t current_us);

/* NodeStatusReport (partial: false) of one reconcile pass: every desired object's
 * status, and every tagged object no record explains as an orphan. */
json_t *agent_report_status(const struct agent_config *cfg, int64_t revision,
                            const struct agent_plan *plan);

#endif
