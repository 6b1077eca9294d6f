/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine conformance suite: the same tests against the file engine (for
 * real, in a temp dir) and the lvm engine (replayed lvm2 2.03.16 output from
 * fixtures/conformance_*.json, written by fixtures/gen_fixtures.py). What the
 * agent relies on — idempotency by uuid, refusals, ownership — must hold on
 * both.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

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
#define NO "99999999-9999-4999-8999-999999999999"

static bool is_lvm(void **state)
{
    return strcmp(*state, "lvm") == 0;
}

static void spec_for(struct agent_volume_spec *s, const char *uuid, uint64_t size, bool thin)
{
    *s = (struct agent_volume_spec){.size = size, .thin = thin};
    test_uuid(uuid, s->uuid);
}

static size_t list_count(struct test_env *env)
{
    struct agent_volume_list l = {0};
    struct slio_err err = {{0}};
    size_t n;

    if (agent_engine_list_volumes(env->e, &l, &err) < 0)
        fail_msg("list: %s", err.text);
    n = l.n;
    agent_volume_list_free(&l);
    return n;
}

static void test_volume_lifecycle(void **state)
{
    struct test_env env;
    struct agent_volume_spec spec;
    struct agent_volume v, again;
    struct agent_pool_status st;
    struct agent_volume_list l = {0};
    struct slio_err err = {{0}};
    uuid_t u;

    env_setup_default(&env, *state, "conformance_lifecycle.json");
    assert_int_equal(agent_engine_pool_status(env.e, &st, &err), 0);
    assert_int_equal(st.volumes, 0);
    assert_int_equal(st.allocated, 0);
    assert_string_equal(st.pool, "p1");
    assert_string_equal(st.engine, *state);

    spec_for(&spec, V1, 64 * MI, false);
    spec.name_hint = "pvc-1";
    if (agent_engine_create_volume(env.e, &spec, &v, &err) < 0)
        fail_msg("create: %s", err.text);
    assert_int_equal(v.size, 64 * MI);
    assert_int_equal(v.kind, AGENT_VOL_VOLUME);
    assert_int_equal(v.state, AGENT_VOL_READY);
    assert_false(v.thin);
    assert_false(v.has_origin);
    assert_int_equal(uuid_compare(v.uuid, spec.uuid), 0);
    assert_true(v.path[0] == '/');

    assert_int_equal(agent_engine_pool_status(env.e, &st, &err), 0);
    assert_int_equal(st.volumes, 1);
    assert_int_equal(st.allocated, 64 * MI);
    assert_true(st.free <= st.capacity - 64 * MI);

    /* idempotent by uuid; another shape is refused */
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &again, &err), 0);
    assert_string_equal(again.path, v.path);
    spec.size = 128 * MI;
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &again, &err), -EEXIST);
    assert_non_null(strstr(err.text, V1));

    assert_int_equal(agent_engine_list_volumes(env.e, &l, &err), 0);
    assert_int_equal(l.n, 1);
    assert_non_null(agent_volume_list_find(&l, spec.uuid));
    agent_volume_list_free(&l);

    /* expand online, idempotent; shrinking refused */
    test_uuid(V1, u);
    assert_int_equal(agent_engine_expand_volume(env.e, u, 128 * MI, &v, &err), 0);
    assert_int_equal(v.size, 128 * MI);
    assert_int_equal(agent_engine_expand_volume(env.e, u, 128 * MI, &v, &err), 0);
    assert_int_equal(v.size, 128 * MI);
    assert_int_equal(agent_engine_expand_volume(env.e, u, 64 * MI, &v, &err), -EINVAL);
    assert_non_null(strstr(err.text, "shrink"));

    /* delete is idempotent */
    assert_int_equal(agent_engine_delete_volume(env.e, u, false, &err), 0);
    assert_int_equal(agent_engine_delete_volume(env.e, u, false, &err), 0);
    assert_int_equal(list_count(&env), 0);
    /* the lvm engine did its work through LVM, once per change; the file engine runs nothing */
    assert_int_equal(env_count(&env, "lvcreate"), is_lvm(state) ? 1 : 0);
    assert_int_equal(env_count(&env, "lvextend"), is_lvm(state) ? 1 : 0);
    assert_int_equal(env_count(&env, "lvremove"), is_lvm(state) ? 1 : 0);
    assert_int_equal(env.n_commands == 0, !is_lvm(state));
    env_teardown(&env);
}

static void write_pattern(const char *path, uint64_t size, unsigned char seed)
{
    unsigned char buf[4096];
    int fd = open(path, O_WRONLY);

    assert_true(fd >= 0);
    for (uint64_t off = 0; off < size; off += sizeof(buf)) {
        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = (unsigned char)(seed + off / sizeof(buf) + i);
        assert_int_equal(pwrite(fd, buf, sizeof(buf), (off_t)off), sizeof(buf));
    }
    close(fd);
}

static void check_pattern(const char *path, uint64_t size, unsigned char seed)
{
    unsigned char buf[4096];
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    for (uint64_t off = 0; off < size; off += sizeof(buf)) {
        assert_int_equal(pread(fd, buf, sizeof(buf), (off_t)off), sizeof(buf));
        for (size_t i = 0; i < sizeof(buf); i++)
            if (buf[i] != (unsigned char)(seed + off / sizeof(buf) + i))
                fail_msg("%s: byte %llu differs", path, (unsigned long long)(off + i));
    }
    close(fd);
}

static void test_snapshots(void **state)
{
    struct test_env env;
    struct agent_volume_spec spec;
    struct agent_snapshot_spec snap = {0};
    struct agent_volume v, s, c;
    struct agent_volume_list l = {0};
    struct slio_err err = {{0}};
    uuid_t v2, s1, c1;

    env_setup_default(&env, *state, "conformance_snapshots.json");
    test_uuid(V2, v2);
    test_uuid(S1, s1);
    test_uuid(C1, c1);
    spec_for(&spec, V2, 64 * MI, true);
    if (agent_engine_create_volume(env.e, &spec, &v, &err) < 0)
        fail_msg("create thin: %s", err.text);
    assert_true(v.thin);
    if (!is_lvm(state))
        write_pattern(v.path, 1 * MI, 7);

    uuid_copy(snap.volume, v2);
    uuid_copy(snap.snapshot, s1);
    if (agent_engine_create_snapshot(env.e, &snap, &s, &err) < 0)
        fail_msg("snapshot: %s", err.text);
    assert_int_equal(s.kind, AGENT_VOL_SNAPSHOT);
    assert_true(s.has_origin);
    assert_int_equal(uuid_compare(s.origin, v2), 0);
    assert_int_equal(s.size, 64 * MI);
    assert_int_equal(agent_engine_create_snapshot(env.e, &snap, &s, &err), 0);
    test_uuid(NO, snap.volume); /* same snapshot uuid, another origin */
    assert_int_equal(agent_engine_create_snapshot(env.e, &snap, &s, &err), -EEXIST);
    if (!is_lvm(state))
        write_pattern(v.path, 1 * MI, 99); /* the snapshot keeps the old data */

    assert_int_equal(agent_engine_delete_volume(env.e, v2, false, &err), -EBUSY);
    assert_int_equal(agent_engine_delete_volume(env.e, s1, false, &err), -EINVAL);
    assert_int_equal(agent_engine_delete_snapshot(env.e, v2, &err), -EINVAL);

    spec_for(&spec, C1, 0, true);
    spec.source = AGENT_SOURCE_SNAPSHOT;
    uuid_copy(spec.source_uuid, s1);
    if (agent_engine_create_volume(env.e, &spec, &c, &err) < 0)
        fail_msg("clone: %s", err.text);
    assert_int_equal(c.size, 64 * MI);
    assert_true(c.has_origin);
    assert_int_equal(uuid_compare(c.origin, s1), 0);
    assert_int_equal(c.kind, AGENT_VOL_VOLUME);
    if (!is_lvm(state))
        check_pattern(c.path, 1 * MI, 7);

    assert_int_equal(agent_engine_list_volumes(env.e, &l, &err), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(agent_volume_list_find(&l, s1)->kind, AGENT_VOL_SNAPSHOT);
    agent_volume_list_free(&l);

    assert_int_equal(agent_engine_delete_snapshot(env.e, s1, &err), 0);
    assert_int_equal(agent_engine_delete_volume(env.e, v2, true, &err), 0);
    assert_int_equal(agent_engine_delete_volume(env.e, c1, false, &err), 0);
    assert_int_equal(list_count(&env), 0);
    env_teardown(&env);
}

static void test_refusals(void **state)
{
    struct test_env env;
    struct agent_volume_spec spec;
    struct agent_snapshot_spec snap = {0};
    struct agent_volume v;
    struct slio_err err = {{0}};
    uuid_t no, null_uuid = {0};

    env_setup_default(&env, *state, "conformance_errors.json");
    test_uuid(NO, no);
    assert_int_equal(agent_engine_expand_volume(env.e, no, GI, &v, &err), -ENOENT);
    uuid_copy(snap.volume, no);
    test_uuid(S1, snap.snapshot);
    assert_int_equal(agent_engine_create_snapshot(env.e, &snap, &v, &err), -ENOENT);
    spec_for(&spec, C1, 0, true);
    spec.source = AGENT_SOURCE_SNAPSHOT;
    uuid_copy(spec.source_uuid, no);
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &v, &err), -ENOENT);

    spec_for(&spec, V1, 100 * GI, false);
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &v, &err), -ENOSPC);
    assert_non_null(strstr(err.text, "p1"));
    spec_for(&spec, V1, 8 * GI, true);
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &v, &err), -ENOSPC);

    /* checked before any command runs */
    spec_for(&spec, V1, 0, false);
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &v, &err), -EINVAL);
    uuid_clear(spec.uuid);
    spec.size = MI;
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &v, &err), -EINVAL);
    assert_int_equal(agent_engine_delete_volume(env.e, null_uuid, false, &err), -EINVAL);

    assert_int_equal(agent_engine_delete_volume(env.e, no, false, &err), 0);
    assert_int_equal(env_count(&env, "lvcreate") + env_count(&env, "lvremove"), 0);
    env_teardown(&env);
}

struct progress {
    unsigned calls;
    uint64_t done, total;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct progress *p = ctx;

    assert_true(done >= p->done && done <= total);
    p->calls++;
    p->done = done;
    p->total = total;
}

static void test_thick_clone(void **state)
{
    struct test_env env;
    struct agent_volume_spec spec;
    struct agent_volume v, c;
    struct progress prog = {0};
    struct slio_err err = {{0}};
    uuid_t v3, c3;

    env_setup_default(&env, *state, "conformance_clone.json");
    test_uuid(V3, v3);
    test_uuid(C3, c3);
    spec_for(&spec, V3, 8 * MI, false);
    if (agent_engine_create_volume(env.e, &spec, &v, &err) < 0)
        fail_msg("create: %s", err.text);
    if (is_lvm(state)) { /* the "device nodes" lvcreate would make */
        env_make_device(&env, v.name, 8 * MI);
        env_make_device(&env, "slio-" C3, 16 * MI);
    }
    write_pattern(v.path, 8 * MI, 3);

    spec_for(&spec, C3, 16 * MI, false);
    spec.source = AGENT_SOURCE_VOLUME;
    uuid_copy(spec.source_uuid, v3);
    spec.progress = on_progress;
    spec.progress_ctx = &prog;
    if (agent_engine_create_volume(env.e, &spec, &c, &err) < 0)
        fail_msg("thick clone: %s", err.text);
    assert_int_equal(c.state, AGENT_VOL_READY);
    assert_int_equal(c.size, 16 * MI);
    assert_true(c.has_origin);
    assert_int_equal(uuid_compare(c.origin, v3), 0);
    assert_true(prog.calls >= 1);
    assert_int_equal(prog.done, 8 * MI);
    assert_int_equal(prog.total, 8 * MI);
    check_pattern(c.path, 8 * MI, 3);

    /* again: already complete, nothing copied */
    prog = (struct progress){0};
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &c, &err), 0);
    assert_int_equal(prog.calls, 0);

    assert_int_equal(agent_engine_delete_volume(env.e, c3, false, &err), 0);
    assert_int_equal(agent_engine_delete_volume(env.e, v3, false, &err), 0);
    env_teardown(&env);
}

/* Each test twice, named for its engine: "test_snapshots/file", "test_snapshots/lvm". */
#define BOTH(fn)                                                                                   \
    {#fn "/file", fn, NULL, NULL, (void *)"file"},                                                 \
    {                                                                                              \
#fn "/lvm", fn, NULL, NULL, (void *)"lvm"                                                  \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_volume_lifecycle),
        BOTH(test_snapshots),
        BOTH(test_refusals),
        BOTH(test_thick_clone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
