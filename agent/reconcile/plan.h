/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reconcile decision, as a pure function: desired state + what the pool
 * and the target hold → the actions to take and each object's status.
 * No I/O here, so every rule is a row in tests/unit/agent/reconcile/plan_test.c.
 *
 * Rules (docs/agent.md, "Reconcile"):
 *  - the agent acts only on objects the desired state names; a tagged volume
 *    or snapshot it does not name is an orphan: reported, never touched;
 *  - without a desired state (controller never reached) nothing is planned;
 *  - deletion only for objects marked absent;
 *  - phases run in order and each phase's actions may run in parallel
 *    (different uuids): plain volumes and expansions, then snapshots, then
 *    clones, then exports, then snapshot deletions, then volume deletions.
 */
#ifndef AGENT_RECONCILE_PLAN_H
#define AGENT_RECONCILE_PLAN_H

#include "engine/engine.h"
#include "export/export.h"
#include "reconcile/desired.h"

enum agent_action_kind {
    AGENT_ACT_CREATE_VOLUME,   /* also resumes a thick clone left COPYING */
    AGENT_ACT_EXPAND_VOLUME,   /* engine expand, then bdev rescan when exported */
    AGENT_ACT_RESCAN,          /* the bdev is smaller than the volume (crash after expand) */
    AGENT_ACT_CREATE_SNAPSHOT, /* */
    AGENT_ACT_EXPORT,          /* make the target match: bdev, subsystem, hosts, listener, QoS */
    AGENT_ACT_UNEXPORT,        /* no consumer left: subsystem and bdev go */
    AGENT_ACT_DELETE_SNAPSHOT, /* */
    AGENT_ACT_DELETE_VOLUME,   /* unexport, then delete */
};

enum agent_phase {
    AGENT_PHASE_VOLUMES,
    AGENT_PHASE_SNAPSHOTS,
    AGENT_PHASE_CLONES,
    AGENT_PHASE_EXPORTS,
    AGENT_PHASE_DELETE_SNAPSHOTS,
    AGENT_PHASE_DELETE_VOLUMES,
    AGENT_PHASE_COUNT,
};

enum agent_obj_state {
    AGENT_OBJ_CREATING,
    AGENT_OBJ_READY,
    AGENT_OBJ_EXPANDING,
    AGENT_OBJ_FAILED,
    AGENT_OBJ_DELETED,
};
const char *agent_obj_state_name(enum agent_obj_state s); /* the API's ObjectStatus.state */

/* One object's status for the NodeStatusReport. Pointers borrow from the pass's inputs. */
struct agent_obj_status {
    uuid_t id;
    bool snapshot;
    enum agent_obj_state state;
    char message[SLIO_ERR_TEXT_MAX];
    uint64_t size;                  /* 0 = unknown */
    char device[AGENT_PATH_MAX];    /* "" = none */
    bool exported;                  /* nqn + exported_to are meaningful */
    const char *const *exported_to; /* host NQNs allowed now */
    size_t n_exported_to;
    double progress; /* < 0: none */
};

struct agent_action {
    enum agent_action_kind kind;
    enum agent_phase phase;
    uuid_t uuid;
    const struct agent_desired_volume *vol;    /* volume actions */
    const struct agent_desired_snapshot *snap; /* snapshot actions */
    const struct agent_volume *actual;         /* what the pool holds, or NULL */
    const struct agent_export_state *exp;      /* what the target holds, or NULL */
    struct agent_obj_status *status;           /* where the result goes */
};

struct agent_orphan {
    const struct agent_volume *vol; /* borrowed from the actual list */
};

struct agent_plan {
    struct agent_action *actions;
    size_t n_actions;
    struct agent_obj_status *statuses; /* one per desired object of this pool */
    size_t n_statuses;
    struct agent_orphan *orphans;
    size_t n_orphans;
};

/*
 * Decide. desired may be NULL (never fetched: no action, orphans not judged).
 * The plan borrows from every input: keep them alive while it is used.
 * -ENOMEM only.
 */
int agent_plan_make(const struct agent_desired *desired, const char *pool,
                    const struct agent_volume_list *actual, const struct agent_export_list *exports,
                    struct agent_plan *ret) _must_check_;
void agent_plan_free(struct agent_plan *p); /* NULL-safe, zeroes *p */

#endif
