/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/reconcile/apply.c on the real file engine (a temp directory) and a
 * recording exporter: plans made by plan.c are carried out in phase order,
 * results and failures land in the statuses, and a second pass over the
 * result has nothing left to do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "reconcile/apply.h"
#include "slio/uuid.h"

#define MiB (1ull << 20)

struct rec_exporter {
    struct agent_exporter base;
    char log[4096];
    struct agent_export_list held; /* what "the target" holds */
    int fail_ensure;               /* negative errno to return from ensure */
};

static void rec(struct rec_exporter *x, const char *what, const uuid_t u)
{
    char s[SLIO_UUID_STR_LEN];
    size_t n = strlen(x->log);

    snprintf(x->log + n, sizeof(x->log) - n, "%s%s:%.8s", n ? "," : "", what,
             slio_uuid_format(u, s));
}

static void rec_close(struct agent_exporter *x) {}

static int rec_discover(struct agent_exporter *x, struct agent_export_list *ret,
                        struct slio_err *err)
{
    struct rec_exporter *r = (struct rec_exporter *)x;
    struct agent_export_list l = {.items = calloc(r->held.n + 1, sizeof(*l.items)), .n = r->held.n};

    if (r->held.n)
        memcpy(l.items, r->held.items, r->held.n * sizeof(*l.items));
    for (size_t i = 0; i < l.n; i++) /* hosts are not copied: keep them unowned */
        l.items[i].hosts = NULL, l.items[i].n_hosts = 0;
    *ret = l;
    return 0;
}

static int rec_ensure(struct agent_exporter *x, const struct agent_export_spec *spec,
                      const struct agent_export_state *cur, struct slio_err *err)
{
    struct rec_exporter *r = (struct rec_exporter *)x;
    struct stat st;

    rec(r, "ensure", spec->uuid);
    if (r->fail_ensure) {
        slio_err_set(err, "target says no");
        return r->fail_ensure;
    }
    assert_int_equal(stat(spec->path, &st), 0); /* exported after it exists */
    return 0;
}

static int rec_remove(struct agent_exporter *x, const uuid_t uuid,
                      const struct agent_export_state *cur, struct slio_err *err)
{
    rec((struct rec_exporter *)x, "remove", uuid);
    return 0;
}

static int rec_rescan(struct agent_exporter *x, const uuid_t uuid, struct slio_err *err)
{
    rec((struct rec_exporter *)x, "rescan", uuid);
    return 0;
}

static const struct agent_exporter_ops rec_ops = {
    .name = "rec",
    .close = rec_close,
    .discover = rec_discover,
    .ensure = rec_ensure,
    .remove = rec_remove,
    .rescan = rec_rescan,
};

struct fixture {
    char dir[64];
    struct agent_engine *engine;
    struct rec_exporter x;
    struct agent_apply_ctx ctx;
    struct slio_workq *wq;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct agent_pool_config cfg;
    struct slio_err err = {{0}};
    json_t *j;

    snprintf(f->dir, sizeof(f->dir), "/tmp/agent-apply-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    j = json_pack("{s:s, s:s, s:{s:s, s:s}}", "name", "p1", "engine", "file", "file", "dir", f->dir,
                  "capacity", "1Gi");
    assert_int_equal(agent_pool_config_decode(j, &cfg, &err), 0);
    json_decref(j);
    if (agent_engine_open(&cfg, &f->engine, &err) < 0)
        fail_msg("open: %s", err.text);
    agent_pool_config_release(&cfg);
    f->x.base.ops = &rec_ops;
    assert_int_equal(slio_workq_new(2, 1000, &f->wq), 0);
    f->ctx = (struct agent_apply_ctx){.engine = f->engine, .exporter = &f->x.base, .wq = f->wq};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    slio_workq_free(f->wq);
    agent_engine_close(&f->engine);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* One pass as the reconciler runs it; returns the failures. */
static size_t pass(struct fixture *f, const struct agent_desired *d, struct agent_plan *ret)
{
    struct agent_volume_list actual = {0};
    struct agent_export_list exports = {0};
    struct slio_err err = {{0}};
    struct agent_plan p;
    size_t failed;

    assert_int_equal(agent_engine_list_volumes(f->engine, &actual, &err), 0);
    assert_int_equal(agent_exporter_discover(&f->x.base, &exports, &err), 0);
    assert_int_equal(agent_plan_make(d, "p1", &actual, &exports, &p), 0);
    f->x.log[0] = '\0';
    failed = agent_apply_plan(&f->ctx, &p);
    if (ret) {
        *ret = p;
        /* statuses borrow nothing from actual once applied, except exported_to (desired) */
        ret->actions = NULL, ret->n_actions = 0;
        free(p.actions);
        free(p.orphans);
        ret->orphans = NULL, ret->n_orphans = 0;
    } else {
        agent_plan_free(&p);
    }
    agent_volume_list_free(&actual);
    agent_export_list_free(&exports);
    return failed;
}

static void test_create_snapshot_clone_export_in_order(void **state)
{
    struct fixture *f = *state;
    char *hosts[] = {"nqn.2024-01.io.slite:h"};
    struct agent_desired_volume vols[2] = {
        {.pool = "p1", .size = 8 * MiB},
        {.pool = "p1",
         .size = 8 * MiB,
         .source = AGENT_SOURCE_SNAPSHOT,
         .hosts = hosts,
         .n_hosts = 1},
    };
    struct agent_desired_snapshot snap = {.pool = "p1"};
    struct agent_desired d = {
        .revision = 1, .volumes = vols, .n_volumes = 2, .snapshots = &snap, .n_snapshots = 1};
    struct agent_plan p;
    char want[256], a[SLIO_UUID_STR_LEN], b[SLIO_UUID_STR_LEN];

    uuid_generate(vols[0].id);
    uuid_generate(vols[1].id);
    uuid_generate(snap.id);
    uuid_copy(snap.volume, vols[0].id);
    uuid_copy(vols[1].source_uuid, snap.id);
    /* the clone comes in the list before its snapshot: phases order them */
    assert_int_equal(pass(f, &d, &p), 0);
    for (size_t i = 0; i < p.n_statuses; i++) {
        if (p.statuses[i].state != AGENT_OBJ_READY)
            fail_msg("status %zu: %s %s", i, agent_obj_state_name(p.statuses[i].state),
                     p.statuses[i].message);
    }
    assert_true(p.statuses[1].exported);
    assert_int_equal(p.statuses[1].size, 8 * MiB);
    snprintf(want, sizeof(want), "ensure:%.8s", slio_uuid_format(vols[1].id, b));
    assert_string_equal(f->x.log, want);
    agent_plan_free(&p);

    /* Nothing left to do but the export (the recording target holds none). */
    assert_int_equal(pass(f, &d, NULL), 0);
    assert_string_equal(f->x.log, want);

    /* Absent: snapshot deletions before volume deletions; the export goes first. */
    vols[0].absent = vols[1].absent = snap.absent = true;
    f->x.held.items = calloc(1, sizeof(*f->x.held.items));
    f->x.held.n = 1;
    uuid_copy(f->x.held.items[0].uuid, vols[1].id);
    f->x.held.items[0].has_subsystem = true;
    assert_int_equal(pass(f, &d, &p), 0);
    for (size_t i = 0; i < p.n_statuses; i++)
        assert_int_equal(p.statuses[i].state, AGENT_OBJ_DELETED);
    snprintf(want, sizeof(want), "remove:%.8s", slio_uuid_format(vols[1].id, b));
    assert_string_equal(f->x.log, want);
    {
        struct agent_volume_list left = {0};
        struct slio_err err = {{0}};
        assert_int_equal(agent_engine_list_volumes(f->engine, &left, &err), 0);
        assert_int_equal(left.n, 0);
        agent_volume_list_free(&left);
    }
    (void)a;
    agent_plan_free(&p);
    free(f->x.held.items);
    f->x.held = (struct agent_export_list){0};
}

static void test_failures_land_in_status(void **state)
{
    struct fixture *f = *state;
    char *hosts[] = {"nqn.2024-01.io.slite:h"};
    struct agent_desired_volume vols[2] = {
        {.pool = "p1", .size = 4ull << 30}, /* more than the pool's 1 GiB */
        {.pool = "p1", .size = 4 * MiB, .hosts = hosts, .n_hosts = 1},
    };
    struct agent_desired d = {.revision = 1, .volumes = vols, .n_volumes = 2};
    struct agent_plan p;

    uuid_generate(vols[0].id);
    uuid_generate(vols[1].id);
    f->x.fail_ensure = -EREMOTEIO;
    assert_int_equal(pass(f, &d, &p), 2);
    assert_int_equal(p.statuses[0].state, AGENT_OBJ_FAILED);
    assert_non_null(strstr(p.statuses[0].message, "free"));
    assert_string_equal(p.statuses[0].device, "");
    assert_int_equal(p.statuses[1].state, AGENT_OBJ_FAILED);
    assert_non_null(strstr(p.statuses[1].message, ": target says no"));
    assert_false(p.statuses[1].exported);
    agent_plan_free(&p);
    f->x.fail_ensure = 0;
}

static void test_expand_rescans_exported(void **state)
{
    struct fixture *f = *state;
    char *hosts[] = {"nqn.2024-01.io.slite:h"};
    struct agent_desired_volume v = {.pool = "p1", .size = 4 * MiB, .hosts = hosts, .n_hosts = 1};
    struct agent_desired d = {.revision = 1, .volumes = &v, .n_volumes = 1};
    struct agent_plan p;
    char want[128], s[SLIO_UUID_STR_LEN];

    uuid_generate(v.id);
    assert_int_equal(pass(f, &d, NULL), 0);
    f->x.held.items = calloc(1, sizeof(*f->x.held.items));
    f->x.held.n = 1;
    f->x.held.items[0] = (struct agent_export_state){.has_bdev = true,
                                                     .has_subsystem = true,
                                                     .has_namespace = true,
                                                     .has_listener = true,
                                                     .bdev_size = 4 * MiB};
    uuid_copy(f->x.held.items[0].uuid, v.id);
    v.size = 12 * MiB;
    assert_int_equal(pass(f, &d, &p), 0);
    assert_int_equal(p.statuses[0].size, 12 * MiB);
    snprintf(want, sizeof(want), "rescan:%.8s,ensure:%.8s", slio_uuid_format(v.id, s), s);
    assert_string_equal(f->x.log, want); /* hosts differ in the recording: ensure too */
    agent_plan_free(&p);
    free(f->x.held.items);
    f->x.held = (struct agent_export_list){0};
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_snapshot_clone_export_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failures_land_in_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand_rescans_exported, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
