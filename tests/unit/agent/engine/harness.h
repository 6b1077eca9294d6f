/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One engine under test: the file engine for real in a temporary directory,
 * or the lvm engine answering from a replay fixture (fixtures, JSON, with
 * "@DEV@" standing for the temporary directory that plays /dev, so thick
 * clones really copy between files). The conformance tests run against both.
 */
#ifndef TEST_AGENT_ENGINE_HARNESS_H
#define TEST_AGENT_ENGINE_HARNESS_H

#include <limits.h>
#include <stdbool.h>

#include "engine.h"

struct test_env {
    const char *engine; /* "file" or "lvm" */
    char tmp[256];
    char dev_dir[PATH_MAX]; /* lvm: <tmp>/dev (device nodes are plain files) */
    struct agent_pool_config cfg;
    struct agent_engine *e;
    char commands[64][32]; /* names of the external commands run, in order */
    unsigned n_commands;
};

/* Temp dir, config (json text; "@TMP@" replaced), replay (lvm: fixture name or NULL), open.
 * Asserts on failure. */
void env_setup(struct test_env *env, const char *engine, const char *config_json,
               const char *fixture);
/* Same without opening: returns agent_engine_open's result and its error text. */
int env_try_open(struct test_env *env, const char *engine, const char *config_json,
                 const char *fixture, struct slio_err *err);
/* Close the engine, switch replay off, remove the temp dir. */
void env_teardown(struct test_env *env);
/* The default pool of each engine: file capacity 1 GiB; lvm vg0 adopted, thin pool tp (1 GiB,
 * over-provision 4). */
void env_setup_default(struct test_env *env, const char *engine, const char *fixture);

/* lvm: make the "device node" of LV name (a file of size bytes) under dev_dir/vg0. */
void env_make_device(struct test_env *env, const char *lv_name, uint64_t size);
/* How many times a command (argv[0]) ran since setup. */
unsigned env_count(const struct test_env *env, const char *command);

/* Parse a uuid literal (asserts). */
void test_uuid(const char *s, uuid_t ret);

#endif
