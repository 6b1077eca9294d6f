/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "slio/config.h"
#include "slio/exec.h"
#include "slio/fileio.h"
#include "slio/uuid.h"

#ifndef FIXTURES
#error "FIXTURES must name the fixtures directory"
#endif

static void observer(void *ctx, const char *command, uint64_t usec, bool ok)
{
    struct test_env *env = ctx;

    if (env->n_commands < SLIO_ARRAY_SIZE(env->commands))
        snprintf(env->commands[env->n_commands++], sizeof(env->commands[0]), "%s", command);
}

unsigned env_count(const struct test_env *env, const char *command)
{
    unsigned n = 0;

    for (unsigned i = 0; i < env->n_commands; i++)
        n += strcmp(env->commands[i], command) == 0;
    return n;
}

/* text with every `from` replaced by `to`; caller frees. */
static char *replace_all(const char *text, const char *from, const char *to)
{
    size_t cap = strlen(text) * 2 + 4096, fl = strlen(from), tl = strlen(to), o = 0;
    char *out = malloc(cap);

    assert_non_null(out);
    for (const char *p = text; *p;) {
        if (strncmp(p, from, fl) == 0) {
            assert_true(o + tl < cap);
            memcpy(out + o, to, tl);
            o += tl;
            p += fl;
        } else {
            assert_true(o + 1 < cap);
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return out;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void start_replay(struct test_env *env, const char *fixture)
{
    char src[PATH_MAX], dst[PATH_MAX];
    _cleanup_free_ char *text = NULL, *fixed = NULL, *fixed2 = NULL;
    struct slio_err err = {{0}};
    size_t len;

    snprintf(src, sizeof(src), "%s/%s", FIXTURES, fixture);
    assert_int_equal(slio_read_file(src, 64u << 20, &text, &len), 0);
    fixed = replace_all(text, "@DEV@", env->dev_dir);
    fixed2 = replace_all(fixed, "@TMP@", env->tmp);
    snprintf(dst, sizeof(dst), "%s/replay.json", env->tmp);
    write_text(dst, fixed2);
    if (slio_exec_set_replay(dst, &err) < 0)
        fail_msg("replay %s: %s", fixture, err.text);
}

int env_try_open(struct test_env *env, const char *engine, const char *config_json,
                 const char *fixture, struct slio_err *err)
{
    _cleanup_free_ char *cfg_text = NULL;
    json_t *j;
    int r;

    memset(env, 0, sizeof(*env));
    env->engine = engine;
    snprintf(env->tmp, sizeof(env->tmp), "/tmp/slio-engine-test.XXXXXX");
    assert_non_null(mkdtemp(env->tmp));
    snprintf(env->dev_dir, sizeof(env->dev_dir), "%s/dev", env->tmp);
    assert_int_equal(mkdir(env->dev_dir, 0700), 0);
    cfg_text = replace_all(config_json, "@TMP@", env->tmp);
    assert_int_equal(slio_json_loadb(cfg_text, strlen(cfg_text), 1 << 20, &j, err), 0);
    r = agent_pool_config_decode(j, &env->cfg, err);
    json_decref(j);
    if (r < 0)
        fail_msg("config: %s", err->text);
    if (fixture)
        start_replay(env, fixture);
    agent_engine_set_exec_observer(observer, env);
    return agent_engine_open(&env->cfg, &env->e, err);
}

void env_setup(struct test_env *env, const char *engine, const char *config_json,
               const char *fixture)
{
    struct slio_err err = {{0}};

    if (env_try_open(env, engine, config_json, fixture, &err) < 0)
        fail_msg("open %s: %s", engine, err.text);
}

void env_setup_default(struct test_env *env, const char *engine, const char *fixture)
{
    static const char lvm[] = "{\"name\": \"p1\", \"engine\": \"lvm\", \"lvm\": {\"vg\": \"vg0\","
                              " \"adopt\": true, \"dev_dir\": \"@TMP@/dev\", \"thin\": {\"pool\":"
                              " \"tp\", \"overprovision\": 4}}}";
    static const char file[] = "{\"name\": \"p1\", \"engine\": \"file\", \"file\": {\"dir\":"
                               " \"@TMP@/pool\", \"capacity\": \"1Gi\"}}";

    env_setup(env, engine, strcmp(engine, "lvm") == 0 ? lvm : file,
              strcmp(engine, "lvm") == 0 ? fixture : NULL);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void env_teardown(struct test_env *env)
{
    agent_engine_close(&env->e);
    agent_pool_config_release(&env->cfg);
    agent_engine_set_exec_observer(NULL, NULL);
    assert_int_equal(slio_exec_set_replay(NULL, NULL), 0);
    assert_int_equal(nftw(env->tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

void env_make_device(struct test_env *env, const char *lv_name, uint64_t size)
{
    char path[PATH_MAX * 2];
    int fd;

    snprintf(path, sizeof(path), "%s/vg0", env->dev_dir);
    (void)mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/vg0/%s", env->dev_dir, lv_name);
    fd = open(path, O_RDWR | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    close(fd);
}

void test_uuid(const char *s, uuid_t ret)
{
    assert_int_equal(slio_uuid_parse(s, ret), 0);
}
