/* SPDX-License-Identifier: Apache-2.0 */
/* agent/reconcile/plan.c: desired × pool × target → actions and statuses, one row per rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "reconcile/plan.h"

#define GiB (1ull << 30)

enum have { NONE, VOLUME, COPYING, SNAPSHOT };
enum exp { NO_EXPORT, EXPORT_FULL, EXPORT_OTHER_HOST, EXPORT_NO_QOS, EXPORT_HALF, EXPORT_SMALL };

struct row {
    const char *name;
    bool snapshot;    /* the desired object is a snapshot */
    bool named;       /* the desired state names the object at all */
    bool absent;      /* desired state "absent" */
    const char *pool; /* desired pool; NULL = "p1" (ours) */
    uint64_t want_size;
    bool clone;    /* desired source: a snapshot */
    bool exported; /* desired exports: host A */
    bool qos;      /* desired QoS: 1000 IOPS */
    bool existed;  /* desired phase: ready (made once) */
    enum have have;
    uint64_t have_size;
    enum exp target;
    enum agent_action_kind actions[3];
    size_t n_actions;
    enum agent_phase first_phase;
    enum agent_obj_state state;
    bool orphan;
};

#define ACTS(...)                                                                                  \
    .actions = {__VA_ARGS__},                                                                      \
    .n_actions = sizeof((enum agent_action_kind[]){__VA_ARGS__}) / sizeof(enum agent_action_kind)

static const struct row rows[] = {
    {"new volume is created", .named = true, .want_size = GiB, .state = AGENT_OBJ_CREATING,
     ACTS(AGENT_ACT_CREATE_VOLUME), .first_phase = AGENT_PHASE_VOLUMES},
    {"ready once, now missing: failed, never recreated empty", .named = true, .want_size = GiB,
     .existed = true, .exported = true, .state = AGENT_OBJ_FAILED},
    {"ready once, still there: nothing", .named = true, .want_size = GiB, .existed = true,
     .have = VOLUME, .have_size = GiB, .state = AGENT_OBJ_READY},
    {"clone waits for the snapshot phase", .named = true, .want_size = GiB, .clone = true,
     .state = AGENT_OBJ_CREATING, ACTS(AGENT_ACT_CREATE_VOLUME), .first_phase = AGENT_PHASE_CLONES},
    {"existing volume: nothing to do", .named = true, .want_size = GiB, .have = VOLUME,
     .have_size = GiB, .state = AGENT_OBJ_READY},
    {"larger than asked: no shrink", .named = true, .want_size = GiB, .have = VOLUME,
     .have_size = 2 * GiB, .state = AGENT_OBJ_READY},
    {"smaller: expand", .named = true, .want_size = 2 * GiB, .have = VOLUME, .have_size = GiB,
     .state = AGENT_OBJ_EXPANDING, ACTS(AGENT_ACT_EXPAND_VOLUME),
     .first_phase = AGENT_PHASE_VOLUMES},
    {"thick clone left copying: create again", .named = true, .want_size = GiB, .have = COPYING,
     .have_size = GiB, .state = AGENT_OBJ_CREATING, ACTS(AGENT_ACT_CREATE_VOLUME)},
    {"new remote volume: create then export", .named = true, .want_size = GiB, .exported = true,
     .state = AGENT_OBJ_CREATING, ACTS(AGENT_ACT_CREATE_VOLUME, AGENT_ACT_EXPORT)},
    {"exported as wanted: nothing", .named = true, .want_size = GiB, .exported = true,
     .have = VOLUME, .have_size = GiB, .target = EXPORT_FULL, .state = AGENT_OBJ_READY},
    {"half-made export (crash): export again", .named = true, .want_size = GiB, .exported = true,
     .have = VOLUME, .have_size = GiB, .target = EXPORT_HALF, .state = AGENT_OBJ_READY,
     ACTS(AGENT_ACT_EXPORT), .first_phase = AGENT_PHASE_EXPORTS},
    {"another host allowed: export fixes hosts", .named = true, .want_size = GiB, .exported = true,
     .have = VOLUME, .have_size = GiB, .target = EXPORT_OTHER_HOST, .state = AGENT_OBJ_READY,
     ACTS(AGENT_ACT_EXPORT), .first_phase = AGENT_PHASE_EXPORTS},
    {"QoS changed: export applies it", .named = true, .want_size = GiB, .exported = true,
     .qos = true, .have = VOLUME, .have_size = GiB, .target = EXPORT_NO_QOS,
     .state = AGENT_OBJ_READY, ACTS(AGENT_ACT_EXPORT), .first_phase = AGENT_PHASE_EXPORTS},
    {"no consumer left: unexport", .named = true, .want_size = GiB, .have = VOLUME,
     .have_size = GiB, .target = EXPORT_FULL, .state = AGENT_OBJ_READY, ACTS(AGENT_ACT_UNEXPORT),
     .first_phase = AGENT_PHASE_EXPORTS},
    {"bdev smaller than the volume (crash after expand): rescan", .named = true, .want_size = GiB,
     .exported = true, .have = VOLUME, .have_size = GiB, .target = EXPORT_SMALL,
     .state = AGENT_OBJ_READY, ACTS(AGENT_ACT_RESCAN)},
    {"exported and smaller: expand (rescans), export kept", .named = true, .want_size = 2 * GiB,
     .exported = true, .have = VOLUME, .have_size = GiB, .target = EXPORT_FULL,
     .state = AGENT_OBJ_EXPANDING, ACTS(AGENT_ACT_EXPAND_VOLUME)},
    {"absent: delete (with its export)", .named = true, .absent = true, .want_size = GiB,
     .have = VOLUME, .have_size = GiB, .target = EXPORT_FULL, .state = AGENT_OBJ_READY,
     ACTS(AGENT_ACT_DELETE_VOLUME), .first_phase = AGENT_PHASE_DELETE_VOLUMES},
    {"absent and gone: deleted", .named = true, .absent = true, .want_size = GiB,
     .state = AGENT_OBJ_DELETED},
    {"absent, only the export left: delete", .named = true, .absent = true, .want_size = GiB,
     .target = EXPORT_HALF, .state = AGENT_OBJ_READY, ACTS(AGENT_ACT_DELETE_VOLUME),
     .first_phase = AGENT_PHASE_DELETE_VOLUMES},
    {"not named: orphan, untouched", .named = false, .have = VOLUME, .have_size = GiB,
     .target = EXPORT_FULL, .orphan = true},
    {"not named snapshot: orphan", .named = false, .have = SNAPSHOT, .have_size = GiB,
     .orphan = true},
    {"another pool: failed, nothing done", .named = true, .pool = "p2", .want_size = GiB,
     .state = AGENT_OBJ_FAILED},
    {"volume uuid held by a snapshot: failed", .named = true, .want_size = GiB, .have = SNAPSHOT,
     .have_size = GiB, .state = AGENT_OBJ_FAILED},
    {"new snapshot", .snapshot = true, .named = true, .state = AGENT_OBJ_CREATING,
     ACTS(AGENT_ACT_CREATE_SNAPSHOT), .first_phase = AGENT_PHASE_SNAPSHOTS},
    {"existing snapshot", .snapshot = true, .named = true, .have = SNAPSHOT, .have_size = GiB,
     .state = AGENT_OBJ_READY},
    {"absent snapshot", .snapshot = true, .named = true, .absent = true, .have = SNAPSHOT,
     .have_size = GiB, .state = AGENT_OBJ_READY, ACTS(AGENT_ACT_DELETE_SNAPSHOT),
     .first_phase = AGENT_PHASE_DELETE_SNAPSHOTS},
    {"absent snapshot gone", .snapshot = true, .named = true, .absent = true,
     .state = AGENT_OBJ_DELETED},
    {"snapshot uuid held by a volume: failed", .snapshot = true, .named = true, .have = VOLUME,
     .have_size = GiB, .state = AGENT_OBJ_FAILED},
};

static const char host_a[] = "nqn.2024-01.io.slite:host-a";
static const char host_b[] = "nqn.2024-01.io.slite:host-b";

static void make_export(enum exp kind, const uuid_t u, struct agent_export_state *e)
{
    static char *hosts_a[] = {(char *)host_a}, *hosts_b[] = {(char *)host_b};

    *e = (struct agent_export_state){.has_bdev = true,
                                     .has_subsystem = true,
                                     .has_namespace = true,
                                     .has_listener = true,
                                     .bdev_size = GiB,
                                     .hosts = hosts_a,
                                     .n_hosts = 1};
    uuid_copy(e->uuid, u);
    e->qos.rw_ios_per_sec = 1000;
    if (kind == EXPORT_OTHER_HOST)
        e->hosts = hosts_b;
    if (kind == EXPORT_NO_QOS)
        e->qos.rw_ios_per_sec = 0;
    if (kind == EXPORT_HALF)
        e->has_namespace = e->has_listener = false;
    if (kind == EXPORT_SMALL)
        e->bdev_size = GiB / 2;
}

static void run_row(const struct row *row)
{
    char *hosts[] = {(char *)host_a};
    struct agent_desired_volume dv = {.size = row->want_size, .absent = row->absent};
    struct agent_desired_snapshot ds = {.absent = row->absent};
    struct agent_desired d = {.revision = 7};
    struct agent_volume av = {.size = row->have_size, .path = "/dev/vg/x"};
    struct agent_volume_list actual = {0};
    struct agent_export_state es;
    struct agent_export_list exports = {0};
    struct agent_plan p;
    uuid_t u;

    uuid_generate(u);
    uuid_copy(dv.id, u);
    uuid_copy(ds.id, u);
    snprintf(dv.pool, sizeof(dv.pool), "%s", row->pool ? row->pool : "p1");
    snprintf(ds.pool, sizeof(ds.pool), "%s", row->pool ? row->pool : "p1");
    if (row->clone)
        dv.source = AGENT_SOURCE_SNAPSHOT;
    if (row->exported) {
        dv.hosts = hosts;
        dv.n_hosts = 1;
    }
    if (row->qos)
        dv.qos.rw_ios_per_sec = 1000;
    dv.existed = row->existed;
    if (row->named && row->snapshot) {
        d.snapshots = &ds;
        d.n_snapshots = 1;
    } else if (row->named) {
        d.volumes = &dv;
        d.n_volumes = 1;
    }
    if (row->have != NONE) {
        uuid_copy(av.uuid, u);
        av.kind = row->have == SNAPSHOT ? AGENT_VOL_SNAPSHOT : AGENT_VOL_VOLUME;
        av.state = row->have == COPYING ? AGENT_VOL_COPYING : AGENT_VOL_READY;
        actual.items = &av;
        actual.n = 1;
    }
    if (row->target != NO_EXPORT) {
        make_export(row->target, u, &es);
        if (!row->qos && row->target != EXPORT_NO_QOS)
            es.qos.rw_ios_per_sec = 0;
        exports.items = &es;
        exports.n = 1;
    }

    assert_int_equal(agent_plan_make(&d, "p1", &actual, &exports, &p), 0);
    if (p.n_actions != row->n_actions)
        fail_msg("%s: %zu actions, wanted %zu", row->name, p.n_actions, row->n_actions);
    for (size_t i = 0; i < p.n_actions; i++) {
        if (p.actions[i].kind != row->actions[i])
            fail_msg("%s: action %zu is %d, wanted %d", row->name, i, p.actions[i].kind,
                     row->actions[i]);
        assert_int_equal(uuid_compare(p.actions[i].uuid, u), 0);
    }
    if (p.n_actions && p.actions[0].phase != row->first_phase)
        fail_msg("%s: phase %d, wanted %d", row->name, p.actions[0].phase, row->first_phase);
    assert_int_equal(p.n_orphans, row->orphan ? 1 : 0);
    if (row->named) {
        assert_int_equal(p.n_statuses, 1);
        if (p.statuses[0].state != row->state)
            fail_msg("%s: state %s, wanted %s (%s)", row->name,
                     agent_obj_state_name(p.statuses[0].state), agent_obj_state_name(row->state),
                     p.statuses[0].message);
        if (row->state == AGENT_OBJ_FAILED)
            assert_true(p.statuses[0].message[0] != '\0');
    } else {
        assert_int_equal(p.n_statuses, 0);
    }
    agent_plan_free(&p);
}

static void test_rows(void **state)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(rows); i++)
        run_row(&rows[i]);
}

static void test_no_desired_state_no_action(void **state)
{
    struct agent_volume av = {.kind = AGENT_VOL_VOLUME, .size = GiB};
    struct agent_volume_list actual = {.items = &av, .n = 1};
    struct agent_export_list exports = {0};
    struct agent_plan p;

    uuid_generate(av.uuid);
    assert_int_equal(agent_plan_make(NULL, "p1", &actual, &exports, &p), 0);
    assert_int_equal(p.n_actions, 0);
    assert_int_equal(p.n_orphans, 0); /* not judged without a desired state */
    agent_plan_free(&p);
}

static void test_in_sync_export_reports_hosts(void **state)
{
    char *hosts[] = {(char *)host_a};
    struct agent_desired_volume dv = {.size = GiB, .pool = "p1", .hosts = hosts, .n_hosts = 1};
    struct agent_desired d = {.volumes = &dv, .n_volumes = 1};
    struct agent_volume av = {.kind = AGENT_VOL_VOLUME, .size = GiB, .path = "/p/v.img"};
    struct agent_volume_list actual = {.items = &av, .n = 1};
    struct agent_export_state es;
    struct agent_export_list exports = {.items = &es, .n = 1};
    struct agent_plan p;

    uuid_generate(dv.id);
    uuid_copy(av.uuid, dv.id);
    make_export(EXPORT_FULL, dv.id, &es);
    es.qos.rw_ios_per_sec = 0;
    assert_int_equal(agent_plan_make(&d, "p1", &actual, &exports, &p), 0);
    assert_int_equal(p.n_actions, 0);
    assert_true(p.statuses[0].exported);
    assert_int_equal(p.statuses[0].n_exported_to, 1);
    assert_string_equal(p.statuses[0].exported_to[0], host_a);
    assert_string_equal(p.statuses[0].device, "/p/v.img");
    assert_int_equal(p.statuses[0].size, GiB);
    agent_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_no_desired_state_no_action),
        cmocka_unit_test(test_in_sync_export_reports_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
