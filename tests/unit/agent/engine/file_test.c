/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file engine beyond the conformance suite: what it refuses to call its
 * own, convergence after a crash at each step, thin versus thick allocation,
 * and admission under concurrent creates.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define MI (1ull << 20)

#define V1 "11111111-1111-4111-8111-111111111111"
#define C1 "44444444-4444-4444-8444-444444444444"
#define F1 "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define F2 "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
#define F3 "dddddddd-dddd-4ddd-8ddd-dddddddddddd"

static void put(struct test_env *env, const char *rel, const char *text)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/pool/%s", env->tmp, rel);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void pool_path(struct test_env *env, const char *rel, char buf[static PATH_MAX])
{
    snprintf(buf, PATH_MAX, "%s/pool/%s", env->tmp, rel);
}

static size_t count(struct test_env *env)
{
    struct agent_volume_list l = {0};
    size_t n;

    assert_int_equal(agent_engine_list_volumes(env->e, &l, NULL), 0);
    n = l.n;
    agent_volume_list_free(&l);
    return n;
}

static void test_not_ours(void **state)
{
    struct test_env env;

    env_setup_default(&env, "file", NULL);
    put(&env, "volumes/" F1 ".json",
        "{\"uuid\": \"" F1 "\", \"kind\": \"volume\", \"pool\": \"p2\", \"size\": 1048576,"
        " \"thin\": true, \"state\": \"ready\"}");
    put(&env, "volumes/" F1 ".img", "");
    put(&env, "volumes/" F2 ".json", "{\"uuid\": \"" F2 "\", \"kind\": \"vol"); /* torn */
    put(&env, "volumes/" F3 ".json", /* names another uuid than its file */
        "{\"uuid\": \"" F1 "\", \"kind\": \"volume\", \"pool\": \"p1\", \"size\": 1048576,"
        " \"thin\": true, \"state\": \"ready\"}");
    put(&env, "snapshots/" F3 ".json", /* a volume record in the snapshot folder */
        "{\"uuid\": \"" F3 "\", \"kind\": \"volume\", \"pool\": \"p1\", \"size\": 1048576,"
        " \"thin\": true, \"state\": \"ready\"}");
    put(&env, "volumes/" F2 ".json.tmp", "{}");
    put(&env, "volumes/README", "hello");
    put(&env, "volumes/" F3 ".json.bak", "{}");
    assert_int_equal(count(&env), 0);

    /* and deleting one of those uuids leaves its files alone */
    uuid_t u;
    char path[PATH_MAX];
    struct stat st;
    test_uuid(F1, u);
    assert_int_equal(agent_engine_delete_volume(env.e, u, true, NULL), 0);
    pool_path(&env, "volumes/" F1 ".img", path);
    assert_int_equal(stat(path, &st), 0);

    /* a record edited in place by hand is read again, not served from memory */
    struct agent_volume_spec spec = {.size = MI};
    struct agent_volume v;
    test_uuid(V1, spec.uuid);
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &v, NULL), 0);
    assert_int_equal(count(&env), 1);
    put(&env, "volumes/" V1 ".json",
        "{\"uuid\": \"" V1 "\", \"kind\": \"volume\", \"pool\": \"p2\", \"size\": 1048576,"
        " \"thin\": false, \"state\": \"ready\"}");
    assert_int_equal(count(&env), 0);
    env_teardown(&env);
}

static void write_bytes(const char *path, unsigned char byte, uint64_t n)
{
    unsigned char buf[4096];
    int fd = open(path, O_WRONLY);

    assert_true(fd >= 0);
    memset(buf, byte, sizeof(buf));
    for (uint64_t off = 0; off < n; off += sizeof(buf))
        assert_int_equal(pwrite(fd, buf, sizeof(buf), (off_t)off), sizeof(buf));
    close(fd);
}

static void test_crash_recovery(void **state)
{
    struct test_env env;
    struct agent_volume_spec spec = {.size = 8 * MI, .thin = true};
    struct agent_volume_list l = {0};
    struct agent_volume v, c;
    char path[PATH_MAX];
    unsigned char buf[4096];
    int fd;

    env_setup_default(&env, "file", NULL);
    /* crash after the image, before its sidecar: the retry adopts the image */
    put(&env, "volumes/" V1 ".img", "leftover");
    test_uuid(V1, spec.uuid);
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &v, NULL), 0);
    assert_int_equal(v.size, 8 * MI);
    write_bytes(v.path, 0x5a, 8 * MI);

    /* crash in the middle of a clone's copy: listed as copying, the retry completes it */
    put(&env, "volumes/" C1 ".json",
        "{\"uuid\": \"" C1 "\", \"kind\": \"volume\", \"pool\": \"p1\", \"size\": 8388608,"
        " \"thin\": true, \"state\": \"copying\", \"origin\": \"" V1 "\"}");
    put(&env, "volumes/" C1 ".img", "partial");
    assert_int_equal(agent_engine_list_volumes(env.e, &l, NULL), 0);
    assert_int_equal(l.n, 2);
    test_uuid(C1, spec.uuid);
    assert_int_equal(agent_volume_list_find(&l, spec.uuid)->state, AGENT_VOL_COPYING);
    agent_volume_list_free(&l);
    spec.source = AGENT_SOURCE_VOLUME;
    test_uuid(V1, spec.source_uuid);
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &c, NULL), 0);
    assert_int_equal(c.state, AGENT_VOL_READY);
    fd = open(c.path, O_RDONLY);
    assert_int_equal(pread(fd, buf, sizeof(buf), 8 * MI - sizeof(buf)), sizeof(buf));
    close(fd);
    assert_int_equal(buf[0], 0x5a);
    assert_int_equal(buf[sizeof(buf) - 1], 0x5a);

    /* crash in a delete, after the image went: listed as invalid, the retry finishes */
    assert_int_equal(unlink(c.path), 0);
    assert_int_equal(agent_engine_get_volume(env.e, spec.uuid, &c, NULL), 0);
    assert_int_equal(c.state, AGENT_VOL_INVALID);
    assert_int_equal(agent_engine_delete_volume(env.e, spec.uuid, false, NULL), 0);
    assert_int_equal(count(&env), 1);
    pool_path(&env, "volumes/" C1 ".json", path);
    assert_int_equal(access(path, F_OK), -1);
    env_teardown(&env);
}

static uint64_t allocated_bytes(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_blocks * 512;
}

static void test_thin_and_thick(void **state)
{
    struct test_env env;
    struct agent_volume_spec spec = {.size = 16 * MI};
    struct agent_volume thick, thin;

    env_setup_default(&env, "file", NULL);
    test_uuid(V1, spec.uuid);
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &thick, NULL), 0);
    assert_true(allocated_bytes(thick.path) >= 16 * MI);
    assert_int_equal(agent_engine_expand_volume(env.e, spec.uuid, 32 * MI, &thick, NULL), 0);
    assert_true(allocated_bytes(thick.path) >= 32 * MI);

    spec.thin = true;
    test_uuid(C1, spec.uuid);
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &thin, NULL), 0);
    assert_true(allocated_bytes(thin.path) < MI);
    assert_true(thin.used_percent >= 0 && thin.used_percent < 5);
    assert_int_equal(agent_engine_delete_volume(env.e, spec.uuid, true, NULL), 0);
    assert_int_equal(access(thin.path, F_OK), -1);
    env_teardown(&env);
}

/* Without reflink the snapshot is a copy that keeps holes: 1 MiB of data costs 1 MiB. */
static void test_snapshot_keeps_holes(void **state)
{
    struct test_env env;
    struct agent_volume_spec spec = {.size = 64 * MI, .thin = true};
    struct agent_snapshot_spec snap = {0};
    struct agent_volume v, s;
    unsigned char buf[4096];
    int fd;

    env_setup_default(&env, "file", NULL);
    test_uuid(V1, spec.uuid);
    assert_int_equal(agent_engine_create_volume(env.e, &spec, &v, NULL), 0);
    fd = open(v.path, O_WRONLY);
    memset(buf, 0xa5, sizeof(buf));
    for (uint64_t off = 32 * MI; off < 33 * MI; off += sizeof(buf))
        assert_int_equal(pwrite(fd, buf, sizeof(buf), (off_t)off), sizeof(buf));
    close(fd);
    uuid_copy(snap.volume, spec.uuid);
    test_uuid(C1, snap.snapshot);
    assert_int_equal(agent_engine_create_snapshot(env.e, &snap, &s, NULL), 0);
    assert_true(allocated_bytes(s.path) <= 2 * MI);
    fd = open(s.path, O_RDONLY);
    assert_int_equal(pread(fd, buf, sizeof(buf), (off_t)(33 * MI - sizeof(buf))), sizeof(buf));
    assert_int_equal(buf[0], 0xa5);
    assert_int_equal(pread(fd, buf, sizeof(buf), 0), sizeof(buf));
    assert_int_equal(buf[0], 0);
    close(fd);
    env_teardown(&env);
}

struct racer {
    struct agent_engine *e;
    uuid_t uuid;
    pthread_barrier_t *start;
    int result;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct agent_volume_spec spec = {.size = 600 * MI, .thin = true};
    struct agent_volume v;

    uuid_copy(spec.uuid, r->uuid);
    pthread_barrier_wait(r->start);
    r->result = agent_engine_create_volume(r->e, &spec, &v, NULL);
    return NULL;
}

/* Two creates that each fit alone, but not together: exactly one is admitted. */
static void test_concurrent_admission(void **state)
{
    struct test_env env;
    pthread_barrier_t start;
    struct racer racers[2];
    pthread_t t[2];

    env_setup_default(&env, "file", NULL); /* capacity 1 GiB */
    for (int round = 0; round < 20; round++) {
        pthread_barrier_init(&start, NULL, 2);
        for (int i = 0; i < 2; i++) {
            racers[i] = (struct racer){.e = env.e, .start = &start};
            uuid_generate_random(racers[i].uuid);
            assert_int_equal(pthread_create(&t[i], NULL, race, &racers[i]), 0);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        assert_true((racers[0].result == 0 && racers[1].result == -ENOSPC) ||
                    (racers[1].result == 0 && racers[0].result == -ENOSPC));
        for (int i = 0; i < 2; i++)
            assert_int_equal(agent_engine_delete_volume(env.e, racers[i].uuid, false, NULL), 0);
        assert_int_equal(count(&env), 0);
    }
    env_teardown(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_ours),
        cmocka_unit_test(test_crash_recovery),
        cmocka_unit_test(test_thin_and_thick),
        cmocka_unit_test(test_snapshot_keeps_holes),
        cmocka_unit_test(test_concurrent_admission),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
