/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Carrying out a plan: each phase's actions go to the worker queue keyed by
 * the object's uuid (so two passes never work on one volume at once), and
 * the phase waits for them before the next starts. Every action is
 * idempotent, so a pass cut by kill -9 is finished by the next one.
 * Results land in each action's status (state and a human message).
 */
#ifndef AGENT_RECONCILE_APPLY_H
#define AGENT_RECONCILE_APPLY_H

#include "engine/engine.h"
#include "export/export.h"
#include "reconcile/plan.h"
#include "slio/workq.h"

/* Observer of each engine call's duration (metrics); may be NULL. Thread-safe. */
typedef void (*agent_engine_observe_fn)(const char *op, double seconds);

struct agent_apply_ctx {
    struct agent_engine *engine;
    struct agent_exporter *exporter;
    struct slio_workq *wq; /* NULL: run inline (tests) */
    bool discard_on_delete;
    agent_engine_observe_fn observe;
};

/* Run every action of the plan, phase by phase. Returns the number of actions that failed. */
size_t agent_apply_plan(const struct agent_apply_ctx *c, struct agent_plan *p);

/* Run one action now on this thread (what a worker does). 0 or a negative errno. */
int agent_apply_action(const struct agent_apply_ctx *c, struct agent_action *a);

#endif
