/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /metrics text. Everything shown is read from memory — counters, the pool
 * figures the last pass or housekeeping tick cached, /sys block statistics —
 * except the target's bdev_get_iostat, which the caller asks for (bounded
 * by the target timeout) before rendering. Counters are counters (_total),
 * figures are gauges, latencies are histograms in seconds.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "metrics.h"
#include "slio/fileio.h"
#include "slio/parse.h"
#include "slio/uuid.h"

static const char *const op_names[AGENT_OP_COUNT] = {
    [AGENT_OP_CREATE_VOLUME] = "create_volume",     [AGENT_OP_EXPAND_VOLUME] = "expand_volume",
    [AGENT_OP_DELETE_VOLUME] = "delete_volume",     [AGENT_OP_CREATE_SNAPSHOT] = "create_snapshot",
    [AGENT_OP_DELETE_SNAPSHOT] = "delete_snapshot", [AGENT_OP_LIST_VOLUMES] = "list_volumes",
    [AGENT_OP_POOL_STATUS] = "pool_status",         [AGENT_OP_THIN_AUTOEXTEND] = "thin_autoextend",
};

static const char *const target_methods[AGENT_TARGET_METHODS] = {
    "nvmf_get_subsystems",
    "bdev_get_bdevs",
    "bdev_get_iostat",
    "nvmf_get_transports",
    "nvmf_create_transport",
    "bdev_aio_create",
    "bdev_aio_delete",
    "bdev_aio_rescan",
    "bdev_set_qos_limit",
    "nvmf_create_subsystem",
    "nvmf_delete_subsystem",
    "nvmf_subsystem_add_ns",
    "nvmf_subsystem_add_listener",
    "nvmf_subsystem_add_host",
    "other",
};

static const char *const commands[AGENT_COMMANDS] = {
    "lvs",      "vgs",      "pvs",      "lvcreate", "lvextend",   "lvremove", "lvchange",
    "vgcreate", "pvcreate", "vgchange", "losetup",  "blkdiscard", "dd",       "other",
};

void agent_metrics_init(struct agent_metrics *m)
{
    *m = (struct agent_metrics){0};
    for (unsigned i = 0; i < AGENT_OP_COUNT; i++)
        slio_prom_hist_init(&m->engine_seconds[i]);
    for (unsigned i = 0; i < AGENT_TARGET_METHODS; i++)
        slio_prom_hist_init(&m->target_seconds[i]);
    slio_prom_hist_init(&m->apply_seconds);
    for (unsigned i = 0; i < AGENT_COMMANDS; i++)
        slio_prom_hist_init(&m->command_seconds[i]);
}

void agent_metrics_observe_engine(struct agent_metrics *m, const char *op, double seconds)
{
    for (unsigned i = 0; i < AGENT_OP_COUNT; i++)
        if (strcmp(op, op_names[i]) == 0)
            slio_prom_hist_observe(&m->engine_seconds[i], seconds);
}

void agent_metrics_observe_target(struct agent_metrics *m, const char *method, double seconds)
{
    unsigned i = 0;

    while (i < AGENT_TARGET_METHODS - 1 && strcmp(method, target_methods[i]) != 0)
        i++;
    slio_prom_hist_observe(&m->target_seconds[i], seconds);
}

void agent_metrics_observe_command(struct agent_metrics *m, const char *command, double seconds,
                                   bool ok)
{
    unsigned i = 0;

    while (i < AGENT_COMMANDS - 1 && strcmp(command, commands[i]) != 0)
        i++;
    slio_prom_hist_observe(&m->command_seconds[i], seconds);
    if (!ok)
        atomic_fetch_add(&m->command_errors[i], 1);
}

struct counter_def {
    const char *name, *help;
    size_t offset;
};
#define COUNTER(n, member, h)                                                                      \
    {                                                                                              \
        n, h, offsetof(struct agent_metrics, member)                                               \
    }
static const struct counter_def counters[] = {
    COUNTER("sliteio_agent_heartbeats", heartbeats, "Heartbeats the controller accepted."),
    COUNTER("sliteio_agent_heartbeat_errors", heartbeat_errors,
            "Heartbeats or registrations that failed."),
    COUNTER("sliteio_agent_desired_fetch_errors", desired_fetch_errors,
            "Desired-state fetches that failed."),
    COUNTER("sliteio_agent_status_report_errors", status_report_errors,
            "Status reports the controller did not accept."),
    COUNTER("sliteio_agent_reconcile_passes", reconcile_passes, "Reconcile passes run."),
    COUNTER("sliteio_agent_reconcile_actions", reconcile_actions,
            "Reconcile actions (create, expand, export, delete...) carried out."),
    COUNTER("sliteio_agent_reconcile_errors", reconcile_errors,
            "Reconcile actions (create, export, delete...) that failed."),
    COUNTER("sliteio_pool_thin_extends", thin_extends, "Thin pool auto-extensions done."),
    COUNTER("sliteio_pool_thin_warnings", thin_warnings,
            "Thin pool checks above the threshold that could not extend enough."),
};

static int render_counters(const struct agent_metrics *m, struct slio_strbuf *sb)
{
    char total[128];
    int r = 0;

    for (size_t i = 0; i < SLIO_ARRAY_SIZE(counters) && r == 0; i++) {
        const atomic_uint_fast64_t *c = (const void *)((const char *)m + counters[i].offset);
        snprintf(total, sizeof(total), "%s_total", counters[i].name);
        r = slio_prom_family(sb, counters[i].name, SLIO_PROM_COUNTER, counters[i].help);
        if (r == 0)
            r = slio_prom_sample(sb, total, NULL, (double)atomic_load(c));
    }
    return r;
}

static int gauge(struct slio_strbuf *sb, const char *name, const char *help,
                 const char *const *labels, double v)
{
    int r = slio_prom_family(sb, name, SLIO_PROM_GAUGE, help);

    return r ? r : slio_prom_sample(sb, name, labels, v);
}

static int render_pool(const struct agent_metrics_view *v, struct slio_strbuf *sb)
{
    const char *const l[] = {"pool", v->pool, NULL};
    const struct agent_pool_status *ps = &v->ps;
    int r = 0;

    r = r ?: gauge(sb, "sliteio_pool_capacity_bytes", "Size of the pool.", l, (double)ps->capacity);
    r = r
            ?: gauge(sb, "sliteio_pool_free_bytes", "Bytes a new thick volume can take.", l,
                     (double)ps->free);
    r = r
            ?: gauge(sb, "sliteio_pool_allocated_bytes", "Bytes carved for volumes and snapshots.",
                     l, (double)ps->allocated);
    r = r
            ?: gauge(sb, "sliteio_pool_thin_data_ratio", "Thin pool data use (0..1).", l,
                     ps->thin ? ps->thin_data_percent / 100.0 : 0);
    r = r
            ?: gauge(sb, "sliteio_pool_thin_metadata_ratio", "Thin pool metadata use (0..1).", l,
                     ps->thin ? ps->thin_meta_percent / 100.0 : 0);
    r = r
            ?: gauge(sb, "sliteio_pool_overprovision_ratio",
                     "Thin virtual size over thin pool size now.", l, ps->overprovision);
    r = r
            ?: gauge(sb, "sliteio_pool_overprovision_max_ratio",
                     "Configured maximum over-provisioning.", l, ps->overprovision_max);
    r = r
            ?: gauge(sb, "sliteio_pool_thin_full_warning",
                     "1 when the thin pool is above its threshold and could not grow.", l,
                     v->thin_level >= AGENT_THIN_WARNING ? 1 : 0);
    return r;
}

static int render_counts(const struct agent_metrics_view *v, struct slio_strbuf *sb)
{
    const char *const l[] = {"pool", v->pool, NULL};
    int r = 0;

    r = r
            ?: gauge(sb, "sliteio_pool_local_volumes", "Volumes held by this pool.", l,
                     (double)v->volumes);
    r = r
            ?: gauge(sb, "sliteio_pool_remote_volumes",
                     "Volumes of this pool exported over NVMe/TCP.", l, (double)v->exported);
    r = r
            ?: gauge(sb, "sliteio_pool_snapshots", "Snapshots held by this pool.", l,
                     (double)v->snapshots);
    r = r
            ?: gauge(sb, "sliteio_pool_orphans", "Tagged volumes no controller record explains.", l,
                     (double)v->orphans);
    r = r
            ?: gauge(sb, "sliteio_agent_controller_up",
                     "1 when the last call to the controller succeeded.", NULL,
                     v->controller_ok ? 1 : 0);
    return r;
}

struct io_family {
    const char *name, *help;
    size_t offset;
    bool is_double;
};
static const struct io_family io_families[] = {
    {"sliteio_volume_read_ops", "Read commands completed.",
     offsetof(struct agent_iostat, read_ops)},
    {"sliteio_volume_write_ops", "Write commands completed.",
     offsetof(struct agent_iostat, write_ops)},
    {"sliteio_volume_read_bytes", "Bytes read.", offsetof(struct agent_iostat, read_bytes)},
    {"sliteio_volume_write_bytes", "Bytes written.", offsetof(struct agent_iostat, write_bytes)},
    {"sliteio_volume_read_time_seconds", "Time spent in reads.",
     offsetof(struct agent_iostat, read_seconds), true},
    {"sliteio_volume_write_time_seconds", "Time spent in writes.",
     offsetof(struct agent_iostat, write_seconds), true},
};

static int io_sample(struct slio_strbuf *sb, const struct io_family *f, const char *via,
                     const struct agent_iostat *s)
{
    char u[SLIO_UUID_STR_LEN], name[128];
    const char *const l[] = {"volume", slio_uuid_format(s->uuid, u), "via", via, NULL};
    const void *p = (const char *)s + f->offset;
    double v = f->is_double ? *(const double *)p : (double)*(const uint64_t *)p;

    snprintf(name, sizeof(name), "%s_total", f->name);
    return slio_prom_sample(sb, name, l, v);
}

/* Per-volume I/O: remote volumes from the target, local block devices from /sys. */
static int render_io(const struct agent_metrics_view *v, struct slio_strbuf *sb)
{
    struct agent_iostat *local = calloc(v->n_local + 1, sizeof(*local));
    size_t n_local = 0;
    int r = 0;

    if (!local)
        return -ENOMEM;
    for (size_t i = 0; i < v->n_local; i++)
        if (agent_metrics_blockstat(v->local[i].path, &local[n_local]) == 0)
            uuid_copy(local[n_local++].uuid, v->local[i].uuid);
    for (size_t f = 0; f < SLIO_ARRAY_SIZE(io_families) && r == 0; f++) {
        r = slio_prom_family(sb, io_families[f].name, SLIO_PROM_COUNTER, io_families[f].help);
        for (size_t i = 0; v->remote && i < v->remote->n && r == 0; i++)
            r = io_sample(sb, &io_families[f], "target", &v->remote->items[i]);
        for (size_t i = 0; i < n_local && r == 0; i++)
            r = io_sample(sb, &io_families[f], "block", &local[i]);
    }
    free(local);
    return r;
}

/* The engines' external commands (LVM tools, losetup): latency and failures per command. */
static int render_commands(const struct agent_metrics *m, struct slio_strbuf *sb)
{
    int r = slio_prom_family(sb, "sliteio_agent_command_seconds", SLIO_PROM_HISTOGRAM,
                             "Duration of each external command a pool engine ran (lvs, "
                             "lvcreate, losetup, ...).");

    for (unsigned i = 0; i < AGENT_COMMANDS && r == 0; i++) {
        const char *const l[] = {"command", commands[i], NULL};
        r = slio_prom_hist_write(sb, "sliteio_agent_command_seconds", l, &m->command_seconds[i]);
    }
    if (r == 0)
        r = slio_prom_family(sb, "sliteio_agent_command_errors", SLIO_PROM_COUNTER,
                             "External commands of a pool engine that failed.");
    for (unsigned i = 0; i < AGENT_COMMANDS && r == 0; i++) {
        const char *const l[] = {"command", commands[i], NULL};
        r = slio_prom_sample(sb, "sliteio_agent_command_errors_total", l,
                             (double)atomic_load(&m->command_errors[i]));
    }
    return r;
}

static int render_hists(const struct agent_metrics *m, struct slio_strbuf *sb)
{
    int r = slio_prom_family(sb, "sliteio_agent_engine_operation_seconds", SLIO_PROM_HISTOGRAM,
                             "Duration of pool engine operations (LVM or file commands).");

    for (unsigned i = 0; i < AGENT_OP_COUNT && r == 0; i++) {
        const char *const l[] = {"op", op_names[i], NULL};
        r = slio_prom_hist_write(sb, "sliteio_agent_engine_operation_seconds", l,
                                 &m->engine_seconds[i]);
    }
    if (r == 0)
        r = slio_prom_family(sb, "sliteio_agent_target_rpc_seconds", SLIO_PROM_HISTOGRAM,
                             "Duration of JSON-RPC calls to the NVMe-oF target.");
    for (unsigned i = 0; i < AGENT_TARGET_METHODS && r == 0; i++) {
        const char *const l[] = {"method", target_methods[i], NULL};
        r = slio_prom_hist_write(sb, "sliteio_agent_target_rpc_seconds", l, &m->target_seconds[i]);
    }
    if (r == 0)
        r = slio_prom_family(sb, "sliteio_agent_apply_seconds", SLIO_PROM_HISTOGRAM,
                             "Wall time of a reconcile pass's actions.");
    if (r == 0)
        r = slio_prom_hist_write(sb, "sliteio_agent_apply_seconds", NULL, &m->apply_seconds);
    return r == 0 ? render_commands(m, sb) : r;
}

int agent_metrics_render(const struct agent_metrics *m, const struct agent_metrics_view *v,
                         struct slio_strbuf *sb)
{
    int r = render_counters(m, sb);

    if (r == 0 && v->pool_valid)
        r = render_pool(v, sb);
    if (r == 0)
        r = render_counts(v, sb);
    if (r == 0)
        r = render_io(v, sb);
    if (r == 0)
        r = render_hists(m, sb);
    return r;
}

/* /sys/class/block/<dev>/stat: reads, merges, sectors, ms, writes, merges, sectors, ms, ... */
int agent_metrics_blockstat(const char *path, struct agent_iostat *ret)
{
    _cleanup_free_ char *real = NULL, *buf = NULL;
    uint64_t f[8];
    char sys[PATH_MAX];
    const char *p;
    struct stat st;
    int r;

    real = realpath(path, NULL);
    if (!real || stat(real, &st) < 0)
        return -ENOENT;
    if (!S_ISBLK(st.st_mode))
        return -ENOTBLK;
    snprintf(sys, sizeof(sys), "/sys/class/block/%s/stat", strrchr(real, '/') + 1);
    r = slio_read_file(sys, 4096, &buf, NULL);
    if (r < 0)
        return r;
    p = buf;
    for (unsigned i = 0; i < SLIO_ARRAY_SIZE(f); i++) {
        char num[24];
        size_t len;
        p += strspn(p, " \t");
        len = strcspn(p, " \t\n");
        if (len == 0 || len >= sizeof(num))
            return -EBADMSG;
        memcpy(num, p, len);
        num[len] = '\0';
        if (slio_parse_u64(num, 0, UINT64_MAX, &f[i]) < 0)
            return -EBADMSG;
        p += len;
    }
    *ret = (struct agent_iostat){
        .read_ops = f[0],
        .read_bytes = f[2] * 512,
        .read_seconds = (double)f[3] / 1000.0,
        .write_ops = f[4],
        .write_bytes = f[6] * 512,
        .write_seconds = (double)f[7] / 1000.0,
    };
    return 0;
}
