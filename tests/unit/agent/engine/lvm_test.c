/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lvm engine beyond the conformance suite, through replayed lvm2 output
 * (the JSON fixtures from gen_fixtures.py): ownership in a VG shared with
 * foreign LVs, malformed reports, building and re-opening a pool, refusals at
 * open, a thick clone resumed after a crash, CoW snapshots, thin auto-extend.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "harness.h"

#define MI (1ull << 20)
#define GI (1ull << 30)

#define V1 "11111111-1111-4111-8111-111111111111"
#define V2 "22222222-2222-4222-8222-222222222222"
#define S1 "33333333-3333-4333-8333-333333333333"
#define C1 "44444444-4444-4444-8444-444444444444"
#define V3 "55555555-5555-4555-8555-555555555555"
#define C3 "66666666-6666-4666-8666-666666666666"
#define P2 "77777777-7777-4777-8777-777777777777"
#define X1 "88888888-8888-4888-8888-888888888888"
#define X2 "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"

static const struct agent_volume *find(const struct agent_volume_list *l, const char *s)
{
    uuid_t u;

    test_uuid(s, u);
    return agent_volume_list_find(l, u);
}

static void test_ownership(void **state)
{
    struct test_env env;
    struct agent_volume_list l = {0};
    struct agent_pool_status st;
    struct agent_volume_spec spec = {.size = 8 * MI};
    struct agent_volume v;
    struct slio_err err = {{0}};
    const struct agent_volume *x;
    uuid_t u;

    env_setup_default(&env, "lvm", "lvm_mixed.json");
    if (agent_engine_list_volumes(env.e, &l, &err) < 0)
        fail_msg("list: %s", err.text);
    /* ours: V1 (two segment rows, once), V2 thin, S1 CoW snapshot, V3 inactive */
    assert_int_equal(l.n, 4);
    x = find(&l, V1);
    assert_non_null(x);
    assert_int_equal(x->size, 64 * MI);
    assert_false(x->thin);
    assert_string_equal(x->name, "slio-" V1);
    assert_non_null(strstr(x->path, "/dev/vg0/slio-" V1));
    x = find(&l, V2);
    assert_true(x->thin);
    assert_int_equal(x->size, 32 * MI);
    x = find(&l, S1);
    assert_int_equal(x->kind, AGENT_VOL_SNAPSHOT);
    assert_int_equal(x->size, 64 * MI);     /* the origin's size ... */
    assert_int_equal(x->reserved, 16 * MI); /* ... and its CoW reserve */
    assert_true(x->used_percent > 3.24 && x->used_percent < 3.26);
    test_uuid(V1, u);
    assert_int_equal(uuid_compare(x->origin, u), 0);
    assert_int_equal(find(&l, V3)->state, AGENT_VOL_INACTIVE);
    assert_null(find(&l, P2)); /* another pool's */
    assert_null(find(&l, X1)); /* clashing tags */
    assert_null(find(&l, C1)); /* our name, no tags */
    agent_volume_list_free(&l);

    assert_int_equal(agent_engine_pool_status(env.e, &st, &err), 0);
    assert_int_equal(st.volumes, 3);
    assert_int_equal(st.snapshots, 1);
    assert_int_equal(st.allocated, (64 + 32 + 16 + 8) * MI);
    assert_int_equal(st.capacity, 10 * GI);
    assert_int_equal(st.free, 3 * GI);
    assert_true(st.thin);
    assert_int_equal(st.thin_size, GI);
    assert_int_equal(st.thin_virtual, 32 * MI);
    assert_int_equal(st.thin_virtual_free, 4 * GI - 32 * MI);
    assert_true(st.thin_meta_percent > 10.1 && st.thin_meta_percent < 10.3);
    assert_string_equal(st.vg, "vg0");

    /* an untagged LV with our naming is never created over nor removed */
    test_uuid(C1, spec.uuid);
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &v, &err), -EEXIST);
    assert_non_null(strstr(err.text, "without our tags"));
    assert_int_equal(agent_engine_delete_volume(env.e, spec.uuid, true, &err), 0);
    test_uuid(P2, u);
    assert_int_equal(agent_engine_delete_volume(env.e, u, false, &err), 0);
    test_uuid(X1, u);
    assert_int_equal(agent_engine_delete_volume(env.e, u, false, &err), 0);
    test_uuid(V1, u);
    assert_int_equal(agent_engine_delete_volume(env.e, u, false, &err), -EBUSY);
    assert_int_equal(env_count(&env, "lvremove") + env_count(&env, "lvcreate") +
                         env_count(&env, "blkdiscard"),
                     0);
    env_teardown(&env);
}

static void test_malformed_reports(void **state)
{
    static const char *const why[] = {
        "lvs report",   /* truncated */
        "lv_size",      /* a number where lvm2 prints strings */
        "lv_size",      /* 99999999999999999999999 */
        "lv_size",      /* negative */
        "lv_attr",      /* missing */
        "lv_attr",      /* wrong length */
        "data_percent", /* 12.5.0 */
        "lv_name",      /* ../etc */
        "\"lv\"",       /* report is not an array */
        "\"lv\"",       /* rows not an array */
        "row 0",        /* row not an object */
        "duplicate",    /* duplicate key */
        "lvs report",   /* empty output */
        "status 5",     /* lvs failed */
    };
    struct test_env env;
    struct agent_volume_list l = {0};
    struct slio_err err = {{0}};

    env_setup_default(&env, "lvm", "lvm_malformed.json");
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(why); i++) {
        int r = agent_engine_list_volumes(env.e, &l, &err);
        if (r != -EINVAL && r != -EIO)
            fail_msg("case %zu: %d (%s)", i, r, err.text);
        if (!strstr(err.text, why[i]))
            fail_msg("case %zu: \"%s\" does not say %s", i, err.text, why[i]);
        assert_non_null(strstr(err.text, "pool \"p1\""));
        assert_null(l.items);
    }
    assert_int_equal(agent_engine_list_volumes(env.e, &l, &err), 0); /* and it recovers */
    assert_int_equal(l.n, 0);
    agent_volume_list_free(&l);
    env_teardown(&env);
}

static const char loop_config[] =
    "{\"name\": \"p1\", \"engine\": \"lvm\", \"lvm\": {\"vg\": \"vg0\", \"loop_files\": [{\"path\":"
    " \"@TMP@/disk0.img\", \"size\": \"1Gi\"}], \"thin\": {\"pool\": \"tp\"}}}";

static void test_open_builds_pool(void **state)
{
    struct test_env env;
    char path[PATH_MAX];
    struct stat st;

    env_setup(&env, "lvm", loop_config, "open_build.json");
    assert_int_equal(env_count(&env, "losetup"), 3);
    assert_int_equal(env_count(&env, "vgcreate"), 1);
    assert_int_equal(env_count(&env, "lvcreate"), 1);
    snprintf(path, sizeof(path), "%s/disk0.img", env.tmp);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, GI);
    assert_true((uint64_t)st.st_blocks * 512 < MI); /* sparse */
    env_teardown(&env);

    /* a restart finds everything in place and changes nothing */
    env_setup(&env, "lvm", loop_config, "open_again.json");
    assert_int_equal(env_count(&env, "losetup"), 1);
    assert_int_equal(
        env_count(&env, "vgcreate") + env_count(&env, "vgextend") + env_count(&env, "lvcreate"), 0);
    env_teardown(&env);
}

static void expect_open_error(const char *config, const char *fixture, int code, const char *text)
{
    struct test_env env;
    struct slio_err err = {{0}};
    int r = env_try_open(&env, "lvm", config, fixture, &err);

    if (r != code || !strstr(err.text, text))
        fail_msg("%s: %d \"%s\", wanted %d \"%s\"", fixture, r, err.text, code, text);
    assert_null(env.e);
    assert_int_equal(env_count(&env, "vgcreate") + env_count(&env, "lvcreate"), 0);
    env_teardown(&env);
}

static void test_open_refusals(void **state)
{
    static const char devices[] = "{\"name\": \"p1\", \"engine\": \"lvm\", \"lvm\": {\"vg\":"
                                  " \"vg0\", \"devices\": [\"/dev/vdb\"]}}";
    static const char adopt[] = "{\"name\": \"p1\", \"engine\": \"lvm\", \"lvm\": {\"vg\": \"vg0\","
                                " \"adopt\": true, \"thin\": {\"pool\": \"tp\"}}}";

    expect_open_error(devices, "open_foreign_device.json", -EBUSY, "belongs to volume group");
    expect_open_error(devices, "open_other_pool.json", -EBUSY, "belongs to pool \"p2\"");
    expect_open_error(adopt, "open_adopt_missing.json", -ENOENT, "not found");
    expect_open_error(adopt, "open_not_thin_pool.json", -EEXIST, "not a thin pool");
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    *(uint64_t *)ctx = done;
}

static void test_resume_copy(void **state)
{
    struct test_env env;
    struct agent_volume_list l = {0};
    struct agent_volume_spec spec = {.size = 8 * MI, .source = AGENT_SOURCE_VOLUME};
    struct agent_volume v;
    struct slio_err err = {{0}};
    uint64_t done = 0;

    env_setup_default(&env, "lvm", "lvm_resume.json");
    assert_int_equal(agent_engine_list_volumes(env.e, &l, &err), 0);
    assert_int_equal(find(&l, C3)->state, AGENT_VOL_COPYING);
    agent_volume_list_free(&l);
    env_make_device(&env, "slio-" V3, 8 * MI);
    env_make_device(&env, "slio-" C3, 8 * MI);
    test_uuid(C3, spec.uuid);
    test_uuid(V3, spec.source_uuid);
    spec.progress = on_progress;
    spec.progress_ctx = &done;
    if (agent_engine_create_volume(env.e, &spec, &v, &err) < 0)
        fail_msg("resume: %s", err.text);
    assert_int_equal(v.state, AGENT_VOL_READY);
    assert_int_equal(done, 8 * MI);
    assert_int_equal(env_count(&env, "lvcreate"), 0);
    assert_int_equal(env_count(&env, "lvchange"), 1);
    env_teardown(&env);
}

static void test_snapshots_and_failures(void **state)
{
    struct test_env env;
    struct agent_snapshot_spec snap = {0};
    struct agent_volume_spec spec = {.size = 48 * MI, .thin = true};
    struct agent_volume v;
    struct slio_err err = {{0}};

    env_setup_default(&env, "lvm", "lvm_extras.json");
    test_uuid(V1, snap.volume);
    test_uuid(S1, snap.snapshot);
    if (agent_engine_create_snapshot(env.e, &snap, &v, &err) < 0) /* thick: CoW, 20% reserve */
        fail_msg("snapshot: %s", err.text);
    assert_int_equal(v.reserved, 16 * MI);
    assert_int_equal(v.size, 64 * MI);

    test_uuid(C1, spec.uuid); /* thin clone of a thin snapshot, grown past it */
    spec.source = AGENT_SOURCE_SNAPSHOT;
    test_uuid(X2, spec.source_uuid);
    if (agent_engine_create_volume(env.e, &spec, &v, &err) < 0)
        fail_msg("clone: %s", err.text);
    assert_int_equal(v.size, 48 * MI);
    assert_int_equal(env_count(&env, "lvextend"), 1);

    spec = (struct agent_volume_spec){.size = 16 * MI};
    test_uuid(X1, spec.uuid);
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &v, &err), -EIO);
    assert_non_null(strstr(err.text, "lvcreate: exited with status 5: Volume group"));
    assert_non_null(strstr(err.text, X1));

    spec = (struct agent_volume_spec){.size = 16 * MI, .stripes = 2};
    test_uuid(V3, spec.uuid);
    if (agent_engine_create_volume(env.e, &spec, &v, &err) < 0)
        fail_msg("striped: %s", err.text);
    assert_int_equal(v.stripes, 2);

    uuid_t v2; /* 32 MiB thin in a 1 GiB pool allowed 4x: 5 GiB is over */
    test_uuid(V2, v2);
    assert_int_equal(agent_engine_expand_volume(env.e, v2, 5 * GI, &v, &err), -ENOSPC);
    assert_non_null(strstr(err.text, "over-provision limit"));
    assert_int_equal(env_count(&env, "lvextend"), 1);
    env_teardown(&env);
}

static void test_autoextend(void **state)
{
    struct test_env env;
    struct agent_autoextend_result res;
    struct agent_autoextend_policy ceiling = {.threshold_percent = 80, .step_percent = 20};
    struct slio_err err = {{0}};

    env_setup_default(&env, "lvm", "autoextend.json");
    assert_int_equal(agent_engine_thin_autoextend(env.e, NULL, &res, &err), 0);
    assert_int_equal(res.level, AGENT_THIN_EXTENDED);
    assert_true(res.extended);
    assert_int_equal(res.old_size, GI);
    assert_int_equal(res.new_size, GI + 208 * MI);
    assert_string_equal(agent_thin_level_name(res.level), "extended");

    assert_int_equal(agent_engine_thin_autoextend(env.e, NULL, &res, &err), 0);
    assert_int_equal(res.level, AGENT_THIN_WARNING); /* the VG is full */
    assert_false(res.extended);
    assert_non_null(strstr(res.message, "no room"));

    ceiling.ceiling = GI + 208 * MI;
    assert_int_equal(agent_engine_thin_autoextend(env.e, &ceiling, &res, &err), 0);
    assert_int_equal(res.level, AGENT_THIN_CRITICAL);

    assert_int_equal(agent_engine_thin_autoextend(env.e, NULL, &res, &err), 0);
    assert_int_equal(res.level, AGENT_THIN_EXTENDED); /* metadata grown */
    assert_true(res.meta_percent < 80);

    assert_int_equal(agent_engine_thin_autoextend(env.e, NULL, &res, &err), 0);
    assert_int_equal(res.level, AGENT_THIN_OK);
    assert_false(res.extended);
    assert_int_equal(env_count(&env, "lvextend"), 2);
    env_teardown(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ownership),        cmocka_unit_test(test_malformed_reports),
        cmocka_unit_test(test_open_builds_pool), cmocka_unit_test(test_open_refusals),
        cmocka_unit_test(test_resume_copy),      cmocka_unit_test(test_snapshots_and_failures),
        cmocka_unit_test(test_autoextend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
