/* SPDX-License-Identifier: Apache-2.0 */
/* agent/config.c: good configs decode with their defaults, bad ones name the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "slio/config.h"

static const char good[] =
    "node:\n"
    "  name: node-1\n"
    "  labels: {tier: fast}\n"
    "  zone: z1\n"
    "  host_nqn: nqn.2014-08.org.nvmexpress:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427\n"
    "export:\n"
    "  traddr: 127.0.0.2\n"
    "controller:\n"
    "  urls: [\"http://127.0.0.1:8360\", \"http://127.0.0.2:8360\"]\n"
    "pool:\n"
    "  name: p1\n"
    "  engine: file\n"
    "  file: {dir: /tmp/slio-p1, capacity: 10Gi}\n";

static int decode(const char *yaml, struct agent_config *cfg, struct slio_err *err)
{
    json_t *j = NULL;
    int r = slio_config_load_yaml(yaml, strlen(yaml), NULL, &j, err);

    if (r == 0)
        r = agent_config_decode(j, cfg, err);
    json_decref(j);
    return r;
}

static void test_good_with_defaults(void **state)
{
    struct agent_config c;
    struct slio_err err = {{0}};

    assert_int_equal(decode(good, &c, &err), 0);
    assert_string_equal(c.node.name, "node-1");
    assert_string_equal(c.node.zone, "z1");
    assert_string_equal(json_string_value(json_object_get(c.node.labels, "tier")), "fast");
    assert_int_equal(c.controller.n_urls, 2);
    assert_string_equal(c.controller.urls[1], "http://127.0.0.2:8360");
    assert_int_equal(c.export_.trsvcid, 4420);
    assert_int_equal(c.export_.adrfam, AGENT_ADRFAM_IPV4);
    assert_string_equal(c.listen.address, "127.0.0.1");
    assert_int_equal(c.listen.port, 9361);
    assert_int_equal(c.target.kind, AGENT_TARGET_SLIO_TGT);
    assert_string_equal(c.target.socket, "/var/tmp/slio-tgt.sock");
    assert_int_equal(c.controller.long_poll_us, 10000000);
    assert_int_equal(c.reconcile.workers, 4);
    assert_string_equal(c.pool.name, "p1");
    assert_string_equal(c.pool.engine, "file");
    assert_int_equal(c.pool.file.capacity, 10ull << 30);
    agent_config_release(&c);
    assert_null(c.root);
    agent_config_release(&c); /* twice is fine */
}

static void test_host_nqn_and_token(void **state)
{
    struct agent_config c;
    struct slio_err err = {{0}};
    char nqn[SLIO_NQN_BUF], path[] = "/tmp/agent-token-XXXXXX", *token = NULL;
    _cleanup_free_ char *yaml = NULL;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cret \nsecond line\n", 20), 20);
    close(fd);
    assert_true(asprintf(&yaml, "%s  token_file: %s\n", good, path) > 0);
    /* token_file belongs to controller: put it under that mapping */
    free(yaml);
    assert_true(asprintf(&yaml,
                         "node: {name: n, host_nqn: \"nqn.2024-01.io.slite:host-a\"}\n"
                         "export: {traddr: \"::1\", adrfam: ipv6, trsvcid: 4421}\n"
                         "controller: {urls: [\"https://c:1\"], token_file: %s}\n"
                         "target: {kind: spdk, socket: /tmp/s.sock, timeout: 5s}\n"
                         "pool: {name: p1, engine: file, file: {dir: /tmp/x, capacity: 1Gi}}\n",
                         path) > 0);
    assert_int_equal(decode(yaml, &c, &err), 0);
    assert_int_equal(c.target.kind, AGENT_TARGET_SPDK);
    assert_int_equal(c.target.timeout_us, 5000000);
    assert_int_equal(agent_config_host_nqn(&c, nqn, &err), 0);
    assert_string_equal(nqn, "nqn.2024-01.io.slite:host-a");
    assert_int_equal(agent_config_read_token(&c, &token, &err), 0);
    assert_string_equal(token, "s3cret");
    free(token);
    agent_config_release(&c);
    unlink(path);
}

struct bad_case {
    const char *yaml;
    const char *expect; /* substring of the error */
};

#define POOL   "pool: {name: p1, engine: file, file: {dir: /tmp/x, capacity: 1Gi}}\n"
#define CTRL   "controller: {urls: [\"http://c:1\"]}\n"
#define EXPORT "export: {traddr: 127.0.0.1}\n"
#define NODE   "node: {name: n1}\n"

static const struct bad_case bad[] = {
    {"", "field 'node': missing"},
    {"- a\n", "mapping at the top"},
    {EXPORT CTRL POOL, "field 'node'"},
    {"node: {name: Node_1}\n" EXPORT CTRL POOL, "field 'node.name'"},
    {"node: {name: n1, colour: red}\n" EXPORT CTRL POOL, "colour"},
    {"node: {name: n1, host_nqn: \"not-an-nqn\"}\n" EXPORT CTRL POOL, "field 'node.host_nqn'"},
    {"node: {name: n1, labels: [a]}\n" EXPORT CTRL POOL, "node.labels"},
    {"node: {name: n1, labels: {a: 7}}\n" EXPORT CTRL POOL, "node.labels"},
    {NODE "export: {traddr: 10.0.0.300}\n" CTRL POOL, "field 'export.traddr'"},
    {NODE "export: {traddr: \"::1\"}\n" CTRL POOL, "field 'export.traddr'"},
    {NODE "export: {traddr: 127.0.0.1, trsvcid: 0}\n" CTRL POOL, "export.trsvcid"},
    {NODE "export: {traddr: 127.0.0.1, trsvcid: 70000}\n" CTRL POOL, "export.trsvcid"},
    {NODE "export: {traddr: 127.0.0.1, adrfam: ib}\n" CTRL POOL, "export.adrfam"},
    {NODE EXPORT "controller: {urls: []}\n" POOL, "controller.urls"},
    {NODE EXPORT "controller: {urls: [\"ftp://c\"]}\n" POOL, "controller.urls"},
    {NODE EXPORT "controller: {urls: [\"http://c/\"]}\n" POOL, "controller.urls"},
    {NODE EXPORT "controller: {urls: [\"http://c\"], long_poll: 2m}\n" POOL,
     "controller.long_poll"},
    {NODE EXPORT "controller: {urls: [\"http://c\"], timeout: 10}\n" POOL, "controller.timeout"},
    {NODE EXPORT CTRL "target: {kind: nvmet}\n" POOL, "target.kind"},
    {NODE EXPORT CTRL
     "target: {socket: "
     "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n" POOL,
     "target.socket"},
    {NODE EXPORT CTRL "reconcile: {workers: 0}\n" POOL, "reconcile.workers"},
    {NODE EXPORT CTRL "listen: {address: localhost}\n" POOL, "field 'listen.address'"},
    {NODE EXPORT CTRL, "field 'pool'"},
    {NODE EXPORT CTRL "pool: {name: p1, engine: zfs}\n", "pool"},
    {NODE EXPORT CTRL "pool: {name: p1, engine: file}\n", "pool"},
};

static void test_bad_configs_name_the_field(void **state)
{
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        struct agent_config c = {0};
        struct slio_err err = {{0}};
        int r = decode(bad[i].yaml, &c, &err);
        if (r != -EINVAL || !strstr(err.text, bad[i].expect))
            fail_msg("case %zu: r=%d err=\"%s\", wanted -EINVAL with \"%s\"", i, r, err.text,
                     bad[i].expect);
        assert_null(c.root); /* untouched */
    }
}

static void test_load_file_prefixes_path(void **state)
{
    struct agent_config c;
    struct slio_err err = {{0}};

    assert_int_equal(agent_config_load("/nonexistent/agent.yaml", &c, &err), -ENOENT);
    assert_non_null(strstr(err.text, "/nonexistent/agent.yaml"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_with_defaults),
        cmocka_unit_test(test_host_nqn_and_token),
        cmocka_unit_test(test_bad_configs_name_the_field),
        cmocka_unit_test(test_load_file_prefixes_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
