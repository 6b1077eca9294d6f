/* SPDX-License-Identifier: Apache-2.0 */
/* The reconcile decision (see plan.h for the rules). Pure: no I/O, no clock. */
#include <string.h>

#include "export/export.h"
#include "reconcile/plan.h"

const char *agent_obj_state_name(enum agent_obj_state s)
{
    static const char *const names[] = {"creating", "ready", "expanding", "failed", "deleted"};

    return (unsigned)s < SLIO_ARRAY_SIZE(names) ? names[s] : "failed";
}

static struct agent_action *add_action(struct agent_plan *p, enum agent_action_kind kind,
                                       enum agent_phase phase, const uuid_t uuid,
                                       struct agent_obj_status *st)
{
    struct agent_action *a = &p->actions[p->n_actions++];

    *a = (struct agent_action){.kind = kind, .phase = phase, .status = st};
    uuid_copy(a->uuid, uuid);
    return a;
}

static bool same_hosts(const struct agent_desired_volume *v, const struct agent_export_state *e)
{
    if (v->n_hosts != e->n_hosts)
        return false;
    for (size_t i = 0; i < v->n_hosts; i++) {
        bool found = false;
        for (size_t j = 0; j < e->n_hosts && !found; j++)
            found = strcmp(v->hosts[i], e->hosts[j]) == 0;
        if (!found)
            return false;
    }
    return true;
}

static bool qos_matches(const struct agent_qos *want, const struct agent_qos *have)
{
    /* SPDK rounds IOPS up to a multiple of 1000: accept that as applied. */
    uint64_t iops = want->rw_ios_per_sec;
    bool iops_ok = have->rw_ios_per_sec == iops ||
                   (iops && have->rw_ios_per_sec == SLIO_DIV_ROUND_UP(iops, 1000) * 1000);

    return iops_ok && want->rw_mbytes_per_sec == have->rw_mbytes_per_sec &&
           want->r_mbytes_per_sec == have->r_mbytes_per_sec &&
           want->w_mbytes_per_sec == have->w_mbytes_per_sec;
}

static bool export_in_sync(const struct agent_desired_volume *v, const struct agent_export_state *e)
{
    /* the keys: a digest of each host's secrets against the key files the target uses */
    return agent_export_state_complete(e) && !e->allow_any_host && same_hosts(v, e) &&
           qos_matches(&v->qos, &e->qos) &&
           agent_export_auth_digest(
               (const char *const *)v->hosts, (const char *const *)v->host_keys,
               (const char *const *)v->ctrl_keys, v->n_hosts) == e->auth_digest;
}

static void status_from_actual(struct agent_obj_status *st, const struct agent_volume *a)
{
    st->size = a->size;
    snprintf(st->device, sizeof(st->device), "%s", a->path);
}

static void plan_present_volume(struct agent_plan *p, const struct agent_desired_volume *v,
                                const struct agent_volume *a, const struct agent_export_state *e,
                                struct agent_obj_status *st)
{
    struct agent_action *act;

    if (a && a->kind != AGENT_VOL_VOLUME) {
        st->state = AGENT_OBJ_FAILED;
        snprintf(st->message, sizeof(st->message), "uuid is a snapshot in pool \"%s\"", v->pool);
        return;
    }
    if (!a && v->existed) {
        /* It was made and reported ready once: recreating it would hand the consumer an
         * empty volume in place of its data. Say so and leave the decision to a human. */
        st->state = AGENT_OBJ_FAILED;
        snprintf(st->message, sizeof(st->message),
                 "volume is missing from pool \"%s\" although it was ready; not recreated "
                 "(its data would be lost)",
                 v->pool);
        return;
    }
    if (!a || a->state == AGENT_VOL_COPYING) {
        st->state = AGENT_OBJ_CREATING;
        act = add_action(p, AGENT_ACT_CREATE_VOLUME,
                         v->source == AGENT_SOURCE_NONE ? AGENT_PHASE_VOLUMES : AGENT_PHASE_CLONES,
                         v->id, st);
        act->vol = v;
        act->actual = a;
    } else {
        st->state = AGENT_OBJ_READY;
        status_from_actual(st, a);
        if (a->size < v->size) {
            st->state = AGENT_OBJ_EXPANDING;
            act = add_action(p, AGENT_ACT_EXPAND_VOLUME, AGENT_PHASE_VOLUMES, v->id, st);
            act->vol = v;
            act->actual = a;
            act->exp = e;
        } else if (e && e->has_bdev && e->bdev_size < a->size) {
            act = add_action(p, AGENT_ACT_RESCAN, AGENT_PHASE_VOLUMES, v->id, st);
            act->exp = e;
        }
    }
    if (v->n_hosts > 0 && !(e && export_in_sync(v, e))) {
        act = add_action(p, AGENT_ACT_EXPORT, AGENT_PHASE_EXPORTS, v->id, st);
        act->vol = v;
        act->actual = a;
        act->exp = e;
    } else if (v->n_hosts == 0 && e) {
        act = add_action(p, AGENT_ACT_UNEXPORT, AGENT_PHASE_EXPORTS, v->id, st);
        act->exp = e;
    }
    if (v->n_hosts > 0 && e && export_in_sync(v, e)) {
        st->exported = true;
        st->exported_to = (const char *const *)v->hosts;
        st->n_exported_to = v->n_hosts;
    }
}

static void plan_volume(struct agent_plan *p, const struct agent_desired_volume *v,
                        const struct agent_volume_list *actual,
                        const struct agent_export_list *exports)
{
    const struct agent_volume *a = agent_volume_list_find(actual, v->id);
    const struct agent_export_state *e = agent_export_list_find(exports, v->id);
    struct agent_obj_status *st = &p->statuses[p->n_statuses++];
    struct agent_action *act;

    *st = (struct agent_obj_status){.state = AGENT_OBJ_READY, .progress = -1};
    uuid_copy(st->id, v->id);
    if (!v->absent) {
        plan_present_volume(p, v, a, e, st);
        return;
    }
    if (a && a->kind != AGENT_VOL_VOLUME) {
        st->state = AGENT_OBJ_FAILED;
        snprintf(st->message, sizeof(st->message), "uuid is a snapshot, not a volume");
        return;
    }
    st->state = a || e ? AGENT_OBJ_READY : AGENT_OBJ_DELETED;
    if (a || e) {
        act = add_action(p, AGENT_ACT_DELETE_VOLUME, AGENT_PHASE_DELETE_VOLUMES, v->id, st);
        act->vol = v;
        act->actual = a;
        act->exp = e;
    }
}

static void plan_snapshot(struct agent_plan *p, const struct agent_desired_snapshot *s,
                          const struct agent_volume_list *actual)
{
    const struct agent_volume *a = agent_volume_list_find(actual, s->id);
    struct agent_obj_status *st = &p->statuses[p->n_statuses++];
    struct agent_action *act;

    *st = (struct agent_obj_status){.snapshot = true, .state = AGENT_OBJ_READY, .progress = -1};
    uuid_copy(st->id, s->id);
    if (a && a->kind != AGENT_VOL_SNAPSHOT) {
        st->state = AGENT_OBJ_FAILED;
        snprintf(st->message, sizeof(st->message), "uuid is a volume, not a snapshot");
        return;
    }
    if (s->absent) {
        st->state = a ? AGENT_OBJ_READY : AGENT_OBJ_DELETED;
        if (a) {
            act = add_action(p, AGENT_ACT_DELETE_SNAPSHOT, AGENT_PHASE_DELETE_SNAPSHOTS, s->id, st);
            act->snap = s;
            act->actual = a;
        }
        return;
    }
    if (a) {
        status_from_actual(st, a);
        return;
    }
    st->state = AGENT_OBJ_CREATING;
    act = add_action(p, AGENT_ACT_CREATE_SNAPSHOT, AGENT_PHASE_SNAPSHOTS, s->id, st);
    act->snap = s;
}

static bool other_pool(const char *obj_pool, const char *pool, struct agent_obj_status *st)
{
    if (strcmp(obj_pool, pool) == 0)
        return false;
    st->state = AGENT_OBJ_FAILED;
    st->progress = -1;
    snprintf(st->message, sizeof(st->message),
             "pool \"%s\" is not served by this agent (pool \"%s\")", obj_pool, pool);
    return true;
}

static int find_orphans(struct agent_plan *p, const struct agent_desired *d,
                        const struct agent_volume_list *actual)
{
    p->orphans = calloc(actual->n + 1, sizeof(*p->orphans));
    if (!p->orphans)
        return -ENOMEM;
    for (size_t i = 0; i < actual->n; i++) {
        const struct agent_volume *a = &actual->items[i];
        if (!agent_desired_find_volume(d, a->uuid) && !agent_desired_find_snapshot(d, a->uuid))
            p->orphans[p->n_orphans++].vol = a;
    }
    return 0;
}

static int plan_alloc(struct agent_plan *p, const struct agent_desired *d)
{
    size_t n = d->n_volumes + d->n_snapshots;

    /* At most three actions per volume (expand or create, export, ...), one per snapshot. */
    p->actions = calloc(3 * d->n_volumes + d->n_snapshots + 1, sizeof(*p->actions));
    p->statuses = calloc(n + 1, sizeof(*p->statuses));
    return p->actions && p->statuses ? 0 : -ENOMEM;
}

int agent_plan_make(const struct agent_desired *desired, const char *pool,
                    const struct agent_volume_list *actual, const struct agent_export_list *exports,
                    struct agent_plan *ret)
{
    struct agent_plan p = {0};
    int r;

    if (!desired) {
        *ret = p;
        return 0;
    }
    r = plan_alloc(&p, desired);
    if (r == 0)
        r = find_orphans(&p, desired, actual);
    if (r < 0) {
        agent_plan_free(&p);
        return r;
    }
    for (size_t i = 0; i < desired->n_volumes; i++) {
        const struct agent_desired_volume *v = &desired->volumes[i];
        if (other_pool(v->pool, pool, &p.statuses[p.n_statuses])) {
            uuid_copy(p.statuses[p.n_statuses++].id, v->id);
            continue;
        }
        plan_volume(&p, v, actual, exports);
    }
    for (size_t i = 0; i < desired->n_snapshots; i++) {
        const struct agent_desired_snapshot *s = &desired->snapshots[i];
        if (other_pool(s->pool, pool, &p.statuses[p.n_statuses])) {
            p.statuses[p.n_statuses].snapshot = true;
            uuid_copy(p.statuses[p.n_statuses++].id, s->id);
            continue;
        }
        plan_snapshot(&p, s, actual);
    }
    *ret = p;
    return 0;
}

void agent_plan_free(struct agent_plan *p)
{
    if (!p)
        return;
    free(p->actions);
    free(p->statuses);
    free(p->orphans);
    *p = (struct agent_plan){0};
}
