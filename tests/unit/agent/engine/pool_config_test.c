/* SPDX-License-Identifier: Apache-2.0 */
/* The pool section of the agent config: YAML in, every field decoded, bad input named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "slio/config.h"

static json_t *yaml(const char *text)
{
    json_t *j = NULL;
    struct slio_err err = {{0}};

    if (slio_config_load_yaml(text, strlen(text), NULL, &j, &err) < 0)
        fail_msg("yaml: %s", err.text);
    return j;
}

static void test_full_lvm(void **state)
{
    static const char text[] = "name: node1-ssd\n"
                               "engine: lvm\n"
                               "lvm:\n"
                               "  vg: slio-vg\n"
                               "  devices: [/dev/vdb, /dev/vdc]\n"
                               "  loop_files:\n"
                               "    - {path: /var/lib/slio/d0.img, size: 10Gi}\n"
                               "  stripes: 2\n"
                               "  stripe_size: 64Ki\n"
                               "  command_timeout: 2m\n"
                               "  thin:\n"
                               "    pool: thin0\n"
                               "    size_percent: 80\n"
                               "    metadata_size: 1Gi\n"
                               "    overprovision: 2.5\n"
                               "    autoextend: {threshold_percent: 70, step: 5Gi, ceiling: 1Ti}\n";
    struct agent_pool_config cfg;
    struct slio_err err = {{0}};
    json_t *j = yaml(text);

    if (agent_pool_config_decode(j, &cfg, &err) < 0)
        fail_msg("%s", err.text);
    json_decref(j);
    assert_string_equal(cfg.name, "node1-ssd");
    assert_string_equal(cfg.engine, "lvm");
    assert_string_equal(cfg.lvm.vg, "slio-vg");
    assert_int_equal(cfg.lvm.devices.n, 2);
    assert_string_equal(cfg.lvm.devices.items[1], "/dev/vdc");
    assert_int_equal(cfg.lvm.loop_files.n, 1);
    assert_string_equal(cfg.lvm.loop_files.items[0].path, "/var/lib/slio/d0.img");
    assert_int_equal(cfg.lvm.loop_files.items[0].size, 10ull << 30);
    assert_int_equal(cfg.lvm.stripes, 2);
    assert_int_equal(cfg.lvm.stripe_size, 64 << 10);
    assert_int_equal(cfg.lvm.command_timeout_us, 120000000ull);
    assert_string_equal(cfg.lvm.thin.pool, "thin0");
    assert_int_equal(cfg.lvm.thin.size_percent, 80);
    assert_true(cfg.lvm.thin.overprovision > 2.49 && cfg.lvm.thin.overprovision < 2.51);
    assert_int_equal(cfg.lvm.thin.autoextend.threshold_percent, 70);
    assert_int_equal(cfg.lvm.thin.autoextend.step, 5ull << 30);
    assert_int_equal(cfg.lvm.thin.autoextend.step_percent, 20); /* default kept */
    assert_int_equal(cfg.lvm.thin.autoextend.ceiling, 1ull << 40);
    agent_pool_config_release(&cfg);
    assert_null(cfg.name);
    agent_pool_config_release(NULL);
}

static void test_defaults_and_file(void **state)
{
    struct agent_pool_config cfg;
    struct slio_err err = {{0}};
    json_t *j = yaml("name: dev\nengine: file\nfile: {dir: /var/lib/slio/pool, capacity: 20Gi}\n");

    assert_int_equal(agent_pool_config_decode(j, &cfg, &err), 0);
    json_decref(j);
    assert_string_equal(cfg.file.dir, "/var/lib/slio/pool");
    assert_int_equal(cfg.file.capacity, 20ull << 30);
    assert_int_equal(cfg.lvm.stripes, 1);
    assert_int_equal(cfg.lvm.command_timeout_us, 600000000ull);
    assert_true(cfg.lvm.thin.overprovision == 4.0);
    assert_int_equal(cfg.lvm.thin.autoextend.threshold_percent, 80);
    agent_pool_config_release(&cfg);
}

static void expect_error(const char *text, const char *why)
{
    struct agent_pool_config cfg = {.name = (char *)"untouched"};
    struct slio_err err = {{0}};
    json_t *j = yaml(text);
    int r = agent_pool_config_decode(j, &cfg, &err);

    json_decref(j);
    if (r != -EINVAL || !strstr(err.text, why))
        fail_msg("%s\n=> %d \"%s\", wanted \"%s\"", text, r, err.text, why);
    assert_string_equal(cfg.name, "untouched");
}

static void test_errors_name_the_field(void **state)
{
    static const char lvm_head[] = "name: p\nengine: lvm\n";

    expect_error("engine: lvm\n", "field 'pool.name': missing");
    expect_error("name: p\nengine: zfs\n", "'pool.engine': \"zfs\" is not an engine");
    expect_error("name: -p\nengine: file\nfile: {dir: /x, capacity: 1Gi}\n", "'pool.name'");
    expect_error("name: p q\nengine: file\nfile: {dir: /x, capacity: 1Gi}\n", "'pool.name'");
    expect_error("name: p\nengine: file\nfile: {dir: x, capacity: 1Gi}\n", "not an absolute");
    expect_error("name: p\nengine: file\nfile: {dir: /x, capacity: 1G0}\n", "'pool.file.capacity'");
    expect_error("name: p\nengine: file\n", "'pool.file': missing");
    expect_error("name: p\nengine: file\nfile: {dir: /x, capacity: 1Gi, colour: red}\n", "colour");
    expect_error("name: p\nengine: lvm\n", "'pool.lvm': missing");
    struct {
        const char *lvm, *why;
    } cases[] = {
        {"lvm: {devices: [/dev/vdb]}\n", "field 'pool.lvm.vg': missing"},
        {"lvm: {vg: 'a/b', devices: [/dev/vdb]}\n", "not a valid VG name"},
        {"lvm: {vg: v, devices: /dev/vdb}\n", "'pool.lvm.devices': expected array"},
        {"lvm: {vg: v, devices: [vdb]}\n", "not an absolute path"},
        {"lvm: {vg: v, devices: [/dev/a, /dev/a]}\n", "listed twice"},
        {"lvm: {vg: v, devices: [7]}\n", "'pool.lvm.devices': entry 0"},
        {"lvm: {vg: v}\n", "give devices or loop_files"},
        {"lvm: {vg: v, adopt: true, devices: [/dev/a]}\n", "adopted VG takes no devices"},
        {"lvm: {vg: v, loop_files: [{path: /a.img}]}\n", "'pool.lvm.loop_files': entry 0: field "
                                                         "'size': missing"},
        {"lvm: {vg: v, loop_files: [{path: /a.img, size: 1Mi}]}\n", "out of range"},
        {"lvm: {vg: v, adopt: true, stripes: 0}\n", "'pool.lvm.stripes'"},
        {"lvm: {vg: v, adopt: true, command_timeout: 10ms}\n", "'pool.lvm.command_timeout'"},
        {"lvm: {vg: v, adopt: true, thin: {size: 1Gi}}\n", "'pool.lvm.thin.pool': missing"},
        {"lvm: {vg: v, adopt: true, thin: {pool: t, size: 1Gi, size_percent: 5}}\n", "not both"},
        {"lvm: {vg: v, adopt: true, thin: {pool: t, overprovision: 0.5}}\n",
         "field 'pool.lvm.thin.overprovision': 0.5 is out of range"},
        {"lvm: {vg: v, adopt: true, thin: {pool: t, overprovision: '4'}}\n", "expected number"},
        {"lvm: {vg: v, adopt: true, thin: {pool: t, autoextend: {threshold_percent: 30}}}\n",
         "below 50"},
        {"lvm: {vg: v, adopt: true, thin: {pool: t, autoextend: {threshold_percent: 100}}}\n",
         "'pool.lvm.thin.autoextend.threshold_percent'"},
        {"lvm: {vg: v, adopt: true, thin: {pool: t, size: 2Gi, autoextend: {ceiling: 1Gi}}}\n",
         "below the pool's size"},
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(cases); i++) {
        char text[512];
        snprintf(text, sizeof(text), "%s%s", lvm_head, cases[i].lvm);
        expect_error(text, cases[i].why);
    }
}

/* The daemon embeds the table; a failure deep inside still names the full path. */
struct daemon_cfg {
    struct agent_pool_config pool;
    const char *listen;
};

static void test_embedded_table(void **state)
{
    static const struct slio_json_field fields[] = {
        SLIO_JSON_FIELD(struct daemon_cfg, pool, "pool", SLIO_JSON_OBJECT, .required = true,
                        .fields = agent_pool_config_fields, .n_fields = AGENT_POOL_CONFIG_N_FIELDS),
        SLIO_JSON_FIELD(struct daemon_cfg, listen, "listen", SLIO_JSON_STRING),
    };
    struct daemon_cfg cfg = {0};
    struct slio_err err = {{0}};
    json_t *j = yaml("listen: 127.0.0.1:9500\npool:\n  name: p\n  engine: lvm\n"
                     "  lvm: {vg: v, adopt: true, thin: {pool: t, size: x}}\n");

    agent_pool_config_init(&cfg.pool);
    assert_int_equal(SLIO_JSON_DECODE(j, fields, &cfg, 0, &err), -EINVAL);
    assert_non_null(strstr(err.text, "field 'pool.lvm.thin.size'"));
    json_decref(j);

    j = yaml("pool:\n  name: p\n  engine: lvm\n  lvm: {vg: v, devices: [/dev/vdb]}\n");
    assert_int_equal(SLIO_JSON_DECODE(j, fields, &cfg, 0, &err), 0);
    assert_int_equal(agent_pool_config_validate(&cfg.pool, &err), 0);
    assert_string_equal(cfg.pool.lvm.devices.items[0], "/dev/vdb");
    slio_json_release_object(fields, SLIO_ARRAY_SIZE(fields), &cfg);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_lvm),
        cmocka_unit_test(test_defaults_and_file),
        cmocka_unit_test(test_errors_name_the_field),
        cmocka_unit_test(test_embedded_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
