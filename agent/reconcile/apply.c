/* SPDX-License-Identifier: Apache-2.0 */
/* Carrying out a plan's actions with the engine and the exporter (see apply.h). */
#define SLIO_LOG_COMPONENT "agent"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "reconcile/apply.h"
#include "slio/log.h"
#include "slio/uuid.h"

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define TIMED(c, op, call)                                                                         \
    ({                                                                                             \
        double _t0 = now_seconds();                                                                \
        int _r = (call);                                                                           \
        if ((c)->observe)                                                                          \
            (c)->observe((op), now_seconds() - _t0);                                               \
        _r;                                                                                        \
    })

static void fail(struct agent_obj_status *st, const struct slio_err *err)
{
    st->state = AGENT_OBJ_FAILED;
    snprintf(st->message, sizeof(st->message), "%s", err->text);
}

static void set_from_volume(struct agent_obj_status *st, const struct agent_volume *v)
{
    st->state = AGENT_OBJ_READY;
    st->message[0] = '\0';
    st->size = v->size;
    snprintf(st->device, sizeof(st->device), "%s", v->path);
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
    struct agent_obj_status *st = ctx;

    st->progress = total ? (double)done / (double)total : 1.0;
}

static int create_volume(const struct agent_apply_ctx *c, struct agent_action *a,
                         struct slio_err *err)
{
    const struct agent_desired_volume *v = a->vol;
    struct agent_volume_spec spec = {
        .name_hint = v->name[0] ? v->name : NULL,
        .size = v->size,
        .thin = v->thin,
        .source = v->source,
        .progress = progress,
        .progress_ctx = a->status,
    };
    struct agent_volume out;
    int r;

    uuid_copy(spec.uuid, v->id);
    uuid_copy(spec.source_uuid, v->source_uuid);
    r = TIMED(c, "create_volume", agent_engine_create_volume(c->engine, &spec, &out, err));
    if (r == 0)
        set_from_volume(a->status, &out);
    return r;
}

static int expand_volume(const struct agent_apply_ctx *c, struct agent_action *a,
                         struct slio_err *err)
{
    struct agent_volume out;
    int r;

    r = TIMED(c, "expand_volume",
              agent_engine_expand_volume(c->engine, a->uuid, a->vol->size, &out, err));
    if (r < 0)
        return r;
    set_from_volume(a->status, &out);
    /* A connected host learns the new size from the bdev rescan (a namespace event). */
    if (a->exp && a->exp->has_bdev)
        r = agent_exporter_rescan(c->exporter, a->uuid, err);
    return r;
}

static int export_volume(const struct agent_apply_ctx *c, struct agent_action *a,
                         struct slio_err *err)
{
    static const struct agent_export_state nothing;
    struct agent_obj_status *st = a->status;
    struct agent_export_spec spec = {
        .path = st->device,
        .hosts = (const char *const *)a->vol->hosts,
        .n_hosts = a->vol->n_hosts,
        .host_keys = (const char *const *)a->vol->host_keys,
        .ctrl_keys = (const char *const *)a->vol->ctrl_keys,
        .qos = a->vol->qos,
    };
    int r;

    if (st->device[0] == '\0')
        return 0; /* the volume is not there: its failure is already reported */
    uuid_copy(spec.uuid, a->uuid);
    /* No state from the pass's discovery means the target holds nothing of this volume:
     * say so, rather than have the exporter ask the target about every volume again. */
    r = agent_exporter_ensure(c->exporter, &spec, a->exp ? a->exp : &nothing, err);
    if (r == 0) {
        st->exported = true;
        st->exported_to = spec.hosts;
        st->n_exported_to = spec.n_hosts;
    }
    return r;
}

static int create_snapshot(const struct agent_apply_ctx *c, struct agent_action *a,
                           struct slio_err *err)
{
    struct agent_snapshot_spec spec = {.cow_reserve = a->snap->cow_reserve};
    struct agent_volume out;
    int r;

    uuid_copy(spec.volume, a->snap->volume);
    uuid_copy(spec.snapshot, a->snap->id);
    r = TIMED(c, "create_snapshot", agent_engine_create_snapshot(c->engine, &spec, &out, err));
    if (r == 0)
        set_from_volume(a->status, &out);
    return r;
}

static int delete_volume(const struct agent_apply_ctx *c, struct agent_action *a,
                         struct slio_err *err)
{
    int r = 0;

    if (a->exp)
        r = agent_exporter_remove(c->exporter, a->uuid, a->exp, err);
    if (r == 0)
        r = TIMED(c, "delete_volume",
                  agent_engine_delete_volume(c->engine, a->uuid, c->discard_on_delete, err));
    if (r == 0) {
        a->status->state = AGENT_OBJ_DELETED;
        a->status->device[0] = '\0';
    }
    return r;
}

int agent_apply_action(const struct agent_apply_ctx *c, struct agent_action *a)
{
    struct slio_err err = {{0}};
    char u[SLIO_UUID_STR_LEN];
    int r = 0;

    switch (a->kind) {
    case AGENT_ACT_CREATE_VOLUME:
        r = create_volume(c, a, &err);
        break;
    case AGENT_ACT_EXPAND_VOLUME:
        r = expand_volume(c, a, &err);
        break;
    case AGENT_ACT_RESCAN:
        r = agent_exporter_rescan(c->exporter, a->uuid, &err);
        break;
    case AGENT_ACT_CREATE_SNAPSHOT:
        r = create_snapshot(c, a, &err);
        break;
    case AGENT_ACT_EXPORT:
        r = export_volume(c, a, &err);
        break;
    case AGENT_ACT_UNEXPORT:
        r = agent_exporter_remove(c->exporter, a->uuid, a->exp, &err);
        break;
    case AGENT_ACT_DELETE_SNAPSHOT:
        r = TIMED(c, "delete_snapshot", agent_engine_delete_snapshot(c->engine, a->uuid, &err));
        if (r == 0)
            a->status->state = AGENT_OBJ_DELETED;
        break;
    case AGENT_ACT_DELETE_VOLUME:
        r = delete_volume(c, a, &err);
        break;
    }
    if (r < 0) {
        if (!err.text[0])
            slio_err_set(&err, "%s", strerror(-r));
        if (!strstr(err.text, slio_uuid_format(a->uuid, u)))
            slio_err_prefix(&err, "%s %s", a->status->snapshot ? "snapshot" : "volume", u);
        log_warn("%s", err.text);
        fail(a->status, &err);
    }
    return r;
}

struct job {
    const struct agent_apply_ctx *ctx;
    struct agent_action *action;
    atomic_size_t *failures;
};

static void run_job(void *arg)
{
    struct job *j = arg;

    if (agent_apply_action(j->ctx, j->action) < 0)
        atomic_fetch_add(j->failures, 1);
}

static void run_phase(const struct agent_apply_ctx *c, struct agent_plan *p, enum agent_phase ph,
                      struct job *jobs, atomic_size_t *failures)
{
    char key[SLIO_UUID_STR_LEN];
    bool submitted = false;

    for (size_t i = 0; i < p->n_actions; i++) {
        struct agent_action *a = &p->actions[i];
        if (a->phase != ph)
            continue;
        jobs[i] = (struct job){.ctx = c, .action = a, .failures = failures};
        if (c->wq && slio_workq_submit_keyed(c->wq, slio_uuid_format(a->uuid, key), run_job,
                                             &jobs[i]) == 0) {
            submitted = true;
            continue;
        }
        run_job(&jobs[i]); /* no queue (tests) or a full one: do it here */
    }
    if (submitted)
        slio_workq_drain(c->wq);
}

size_t agent_apply_plan(const struct agent_apply_ctx *c, struct agent_plan *p)
{
    _cleanup_free_ struct job *jobs = calloc(p->n_actions + 1, sizeof(*jobs));
    atomic_size_t failures = 0;

    if (!jobs)
        return p->n_actions;
    for (enum agent_phase ph = 0; ph < AGENT_PHASE_COUNT; ph++)
        run_phase(c, p, ph, jobs, &failures);
    return atomic_load(&failures);
}
