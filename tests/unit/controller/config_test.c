/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration file: defaults, every section, cross-field checks, YAML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "slio/config.h"

static int decode_yaml(const char *yaml, struct ctl_config *c, struct slio_err *err)
{
    json_t *j = NULL;
    int r = slio_config_load_yaml(yaml, strlen(yaml), NULL, &j, err);
    if (r == 0)
        r = ctl_config_decode(j, c, err);
    json_decref(j);
    return r;
}

static void test_defaults(void **state)
{
    struct ctl_config c;
    assert_int_equal(decode_yaml("store: {path: /tmp/x.db}\n", &c, NULL), 0);
    assert_string_equal(c.address, "127.0.0.1");
    assert_int_equal(c.port, 8360);
    assert_int_equal(c.backend, CTL_STORE_SQLITE);
    assert_int_equal(c.heartbeat_interval_us, 10000000);
    assert_int_equal(c.unknown_after_us, 30000000);
    assert_int_equal(c.offline_after_us, 300000000);
    assert_int_equal(c.limits.max_body, 1u << 20);
    assert_int_equal(c.limits.max_long_polls, 512);
    assert_null(c.scheduler);
    assert_null(c.tokens.admin);
    ctl_config_clear(&c);
}

static void test_full(void **state)
{
    struct ctl_config c;
    struct slio_err err = {{0}};
    const char *yaml = "listen: {address: 0.0.0.0, port: 9000}\n"
                       "advertise_url: http://10.0.0.1:9000\n"
                       "store:\n  backend: etcd\n  etcd: {endpoints: [http://127.0.0.1:2379], "
                       "prefix: /x/, lease_ttl: 3s}\n"
                       "tokens: {admin: /a, csi: /c, agent: /g, readonly: /r}\n"
                       "heartbeat_interval: 2s\nunknown_after: 10s\noffline_after: 1m\n"
                       "scheduler: {filters: [basic]}\n"
                       "limits: {max_body: 2Mi, max_connections: 100, max_long_polls: 10, "
                       "long_poll_max: 20s, max_events: 1000}\n";
    assert_int_equal(decode_yaml(yaml, &c, &err), 0);
    assert_int_equal(c.port, 9000);
    assert_int_equal(c.backend, CTL_STORE_ETCD);
    assert_int_equal(json_array_size(c.etcd.endpoints), 1);
    assert_string_equal(c.etcd.prefix, "/x/");
    assert_int_equal(c.etcd.lease_ttl_us, 3000000);
    assert_string_equal(c.tokens.readonly, "/r");
    assert_int_equal(c.offline_after_us, 60000000);
    assert_non_null(c.scheduler);
    assert_int_equal(c.limits.max_body, 2u << 20);
    assert_int_equal(c.limits.max_long_polls, 10);
    assert_int_equal(c.limits.long_poll_max_us, 20000000);
    ctl_config_clear(&c);
}

static void expect_bad(const char *yaml, const char *needle)
{
    struct ctl_config c;
    struct slio_err err = {{0}};
    assert_int_equal(decode_yaml(yaml, &c, &err), -EINVAL);
    if (!strstr(err.text, needle))
        fail_msg("%s: \"%s\" lacks \"%s\"", yaml, err.text, needle);
}

static void test_bad(void **state)
{
    expect_bad("store: {backend: sqlite}\n", "store.path");
    expect_bad("store: {backend: mysql, path: /x}\n", "store.backend");
    expect_bad("store: {backend: etcd}\n", "store.etcd");
    expect_bad("store: {backend: etcd, etcd: {endpoints: []}}\n", "endpoints");
    expect_bad("store: {backend: etcd, etcd: {endpoints: [ftp://x]}}\n", "endpoints[0]");
    expect_bad("store: {path: /x}\nlisten: {port: 70000}\n", "listen.port");
    expect_bad("store: {path: /x}\nheartbeat_interval: 10s\nunknown_after: 5s\n", "unknown_after");
    expect_bad("store: {path: /x}\nunknown_after: 1m\noffline_after: 30s\n", "offline_after");
    expect_bad("store: {path: /x}\nheartbeat_interval: 10\n", "heartbeat_interval");
    expect_bad("store: {path: /x}\nscheduler: [basic]\n", "scheduler");
    expect_bad("store: {path: /x}\nlimits: {max_body: 10}\n", "limits.max_body");
    expect_bad("store: {path: /x}\nlimits: {long_poll_max: 5m}\n", "limits.long_poll_max");
    expect_bad("store: {path: /x}\ntokens: {root: /x}\n", "tokens.root");
    expect_bad("store: {path: /x}\nthreads: 4\n", "unknown field 'threads'");
}

#define ETCD_YAML(url) "store: {backend: etcd, etcd: {endpoints: ['http://a:1', '" url "']}}\n"

/* Malformed etcd endpoints are refused here, naming the entry, not later as request errors. */
static void test_bad_endpoints(void **state)
{
    expect_bad(ETCD_YAML("httpx"), "endpoints[1]': not an http(s)");
    expect_bad(ETCD_YAML("http://"), "endpoints[1]': no host");
    expect_bad(ETCD_YAML("http://:2379"), "endpoints[1]': no host");
    expect_bad(ETCD_YAML("http://[::1"), "endpoints[1]': IPv6");
    expect_bad(ETCD_YAML("http://[::1]x"), "endpoints[1]': text after");
    expect_bad(ETCD_YAML("http://h:99999"), "endpoints[1]': port");
    expect_bad(ETCD_YAML("http://h:"), "endpoints[1]': port");
    expect_bad(ETCD_YAML("http://h:0"), "endpoints[1]': port");
    expect_bad(ETCD_YAML("http://h:12ab"), "endpoints[1]': port");
    expect_bad(ETCD_YAML("http://h/v3"), "endpoints[1]': only scheme");
    expect_bad(ETCD_YAML("http://u@h"), "endpoints[1]': only scheme");
    expect_bad(ETCD_YAML("http://h h"), "endpoints[1]': only scheme");
    expect_bad("store: {backend: etcd, etcd: {endpoints: [null]}}\n", "endpoints[0]'");
    expect_bad("store: {backend: etcd, etcd: {endpoints: [{a: 1}]}}\n", "endpoints[0]'");
    struct ctl_config c;
    static const char *const good[] = {ETCD_YAML("http://127.0.0.1:2379"),
                                       ETCD_YAML("https://etcd.example:2379/"),
                                       ETCD_YAML("http://[::1]:2379"), ETCD_YAML("http://etcd")};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(decode_yaml(good[i], &c, NULL), 0);
        ctl_config_clear(&c);
    }
}

/* Durations and counts beyond any sane setting are refused, naming the field. */
static void test_huge_values(void **state)
{
    expect_bad("store: {path: /x}\nunknown_after: 2562047h\noffline_after: 2562048h\n",
               "unknown_after': ");
    expect_bad("store: {path: /x}\noffline_after: 9999h\n", "offline_after': ");
    expect_bad("store: {path: /x}\nlimits: {max_events: 4294967295}\n", "limits.max_events");
    expect_bad("store: {path: /x}\nheartbeat_interval: 99999999999999h\n", "heartbeat_interval");
    expect_bad("store: {path: /x}\nlimits: {max_body: 1Ei}\n", "limits.max_body");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),    cmocka_unit_test(test_full),
        cmocka_unit_test(test_bad),         cmocka_unit_test(test_bad_endpoints),
        cmocka_unit_test(test_huge_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
