/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The controller's DesiredState (api/openapi.yaml) for this node, decoded
 * and bounded. Unknown members are ignored (a newer controller may add
 * some); members the agent relies on are type- and range-checked.
 */
#ifndef AGENT_RECONCILE_DESIRED_H
#define AGENT_RECONCILE_DESIRED_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uuid/uuid.h>

#include "engine/engine.h"
#include "export/export.h"
#include "slio/error.h"

#define AGENT_DESIRED_MAX 100000

struct agent_desired_volume {
    uuid_t id;
    char name[AGENT_NAME_MAX];
    char pool[AGENT_POOL_NAME_MAX + 1];
    uint64_t size;
    bool thin;
    bool absent;  /* state "absent": delete it and its exports */
    bool existed; /* "phase" ready/expanding: the agent made it once; never recreate it empty */
    enum agent_source_kind source;
    uuid_t source_uuid;
    struct agent_qos qos;
    char **hosts; /* export host NQNs (owned); n_hosts 0 = not exported */
    size_t n_hosts;
    /* parallel to hosts: the consumer's DH-HMAC-CHAP secrets or NULL (owned; wiped when
     * freed); a controller key only with a host key */
    char **host_keys;
    char **ctrl_keys;
};

struct agent_desired_snapshot {
    uuid_t id;
    uuid_t volume;
    char pool[AGENT_POOL_NAME_MAX + 1];
    uint64_t cow_reserve;
    bool absent;
};

struct agent_desired {
    int64_t revision;
    struct agent_desired_volume *volumes;
    size_t n_volumes;
    struct agent_desired_snapshot *snapshots;
    size_t n_snapshots;
};

/* Decode a DesiredState body; -EINVAL naming the bad member ("volumes[3].size: ..."). */
int agent_desired_decode(const json_t *body, struct agent_desired *ret,
                         struct slio_err *err) _must_check_;
void agent_desired_free(struct agent_desired *d); /* NULL-safe, zeroes *d */

const struct agent_desired_volume *agent_desired_find_volume(const struct agent_desired *d,
                                                             const uuid_t id);
const struct agent_desired_snapshot *agent_desired_find_snapshot(const struct agent_desired *d,
                                                                 const uuid_t id);

#endif
