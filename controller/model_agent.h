/* SPDX-License-Identifier: Apache-2.0 */
/* The agent endpoints' bodies: register, heartbeat, status report (one decoder table each). */
#ifndef SLIO_CONTROLLER_MODEL_AGENT_H
#define SLIO_CONTROLLER_MODEL_AGENT_H

#include <jansson.h>
#include <stdbool.h>

#include "slio/error.h"

struct agent_register {
    const char *node, *host_nqn, *agent_url, *version;
    json_t *labels, *topology, *export_address, *pools; /* validated, borrowed */
};
int model_agent_register_decode(const json_t *body, struct agent_register *ret,
                                struct slio_err *err);

/* AgentPool.thin_level: the agent's last thin pool check (ok extended warning critical). */
extern const char *const model_thin_levels[];
/* 0 below the warning threshold (ok, extended, absent), 1 warning, 2 critical. */
int model_thin_severity(const json_t *pool);

struct agent_heartbeat {
    const char *node;
    json_t *pools; /* validated, borrowed; NULL when absent */
};
int model_agent_heartbeat_decode(const json_t *body, struct agent_heartbeat *ret,
                                 struct slio_err *err);

struct agent_status {
    const char *node;
    bool partial;
    int64_t revision;
    json_t *volumes, *snapshots, *orphans; /* validated arrays, borrowed; NULL when absent */
};
int model_agent_status_decode(const json_t *body, struct agent_status *ret, struct slio_err *err);

/* One ObjectStatus (validated already by model_agent_status_decode). */
struct object_status {
    const char *id;
    int state; /* index in model_object_states */
    const char *message, *device, *nqn;
    uint64_t size;
    json_t *exported_to;
    json_t *progress;
};
extern const char *const model_object_states[]; /* creating ready expanding failed deleted */
enum { OBJ_CREATING, OBJ_READY, OBJ_EXPANDING, OBJ_FAILED, OBJ_DELETED };
int model_object_status_decode(const json_t *o, struct object_status *ret, struct slio_err *err);

#endif
