/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's counters and histograms, and the /metrics text built from
 * them plus the cached pool figures (no LVM command runs for a scrape).
 * Names start with sliteio_agent_ / sliteio_pool_ / sliteio_volume_
 * (docs/agent.md lists them).
 */
#ifndef AGENT_METRICS_H
#define AGENT_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "export/export.h"
#include "slio/prom.h"
#include "slio/strbuf.h"

enum agent_engine_op {
    AGENT_OP_CREATE_VOLUME,
    AGENT_OP_EXPAND_VOLUME,
    AGENT_OP_DELETE_VOLUME,
    AGENT_OP_CREATE_SNAPSHOT,
    AGENT_OP_DELETE_SNAPSHOT,
    AGENT_OP_LIST_VOLUMES,
    AGENT_OP_POOL_STATUS,
    AGENT_OP_THIN_AUTOEXTEND,
    AGENT_OP_COUNT,
};

/* The target methods the agent calls, each with its latency histogram; "other" last. */
#define AGENT_TARGET_METHODS 15
/* The external commands the engines run (lvs, lvcreate, losetup, ...); "other" last. */
#define AGENT_COMMANDS 14

struct agent_metrics {
    atomic_uint_fast64_t heartbeats;
    atomic_uint_fast64_t heartbeat_errors;
    atomic_uint_fast64_t desired_fetch_errors;
    atomic_uint_fast64_t status_report_errors;
    atomic_uint_fast64_t reconcile_passes;
    atomic_uint_fast64_t reconcile_errors; /* failed actions */
    atomic_uint_fast64_t thin_extends;
    atomic_uint_fast64_t thin_warnings;
    atomic_uint_fast64_t reconcile_actions;
    struct slio_prom_hist engine_seconds[AGENT_OP_COUNT];
    struct slio_prom_hist target_seconds[AGENT_TARGET_METHODS];
    struct slio_prom_hist apply_seconds;                   /* wall time of a pass's actions */
    struct slio_prom_hist command_seconds[AGENT_COMMANDS]; /* each lvm/losetup/... run */
    atomic_uint_fast64_t command_errors[AGENT_COMMANDS];
};

/* What a scrape shows besides the counters (a copy taken under the agent's lock). */
struct agent_metrics_view {
    const char *pool;
    bool pool_valid;
    struct agent_pool_status ps;
    uint64_t volumes, snapshots, exported, orphans;
    enum agent_thin_level thin_level;
    bool controller_ok;
    const struct agent_volume *local; /* volumes whose path may be a block device */
    size_t n_local;
    const struct agent_iostat_list *remote; /* NULL: target not asked / unreachable */
};

void agent_metrics_init(struct agent_metrics *m);
/* Observers (thread-safe). op: the name agent_apply / the exporter pass. */
void agent_metrics_observe_engine(struct agent_metrics *m, const char *op, double seconds);
void agent_metrics_observe_target(struct agent_metrics *m, const char *method, double seconds);
/* One external command of an engine (argv[0]) and whether it succeeded. */
void agent_metrics_observe_command(struct agent_metrics *m, const char *command, double seconds,
                                   bool ok);

/* The exposition text. -ENOBUFS / -ENOMEM. */
int agent_metrics_render(const struct agent_metrics *m, const struct agent_metrics_view *v,
                         struct slio_strbuf *sb) _must_check_;

/* /sys/block/<dev>/stat of a block device path: 0, -ENOTBLK for a regular file. */
int agent_metrics_blockstat(const char *path, struct agent_iostat *ret) _must_check_;

#endif
