/* SPDX-License-Identifier: Apache-2.0 */
/* libslio/nqn.c: NQN validation, construction, and the host identity files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "slio/nqn.h"
#include "slio/uuid.h"

static void test_validate(void **state)
{
    static const char *const ok[] = {
        SLIO_NQN_DISCOVERY,
        "nqn.2016-06.io.spdk:cnode1",
        "nqn.2024-01.io.slite:pvc-0b6a7e3c.vol_1",
        "nqn.2014-08.org.nvmexpress:uuid:0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b10",
        "nqn.2014-08.org.nvmexpress:uuid:0B6A7E3C-9C7E-4A43-8D8E-6F1F3C7A2B10",
        "nqn.1999-12.com.example-corp.x1:a:b:c",
        "nqn.2024-01.io.slite:caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", /* UTF-8 */
        "nqn.2024-01.io",
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(ok); i++)
        if (slio_nqn_validate(ok[i]) != 0)
            fail_msg("\"%s\" should be valid", ok[i]);

    static const char *const bad[] = {
        "",
        "nqn.",
        "nqn.2024-01.",
        "nqn.2024-01",
        "NQN.2024-01.io.slite:x",
        "iqn.2024-01.io.slite:x",
        "nqn.2024-13.io.slite:x",
        "nqn.2024-00.io.slite:x",
        "nqn.24-01.io.slite:x",
        "nqn.2024_01.io.slite:x",
        "nqn.2024-01-io.slite:x",
        "nqn.2024-01.1io.slite:x", /* label starts with a digit */
        "nqn.2024-01.io-.slite:x", /* label ends with '-' */
        "nqn.2024-01.io..slite:x", /* empty label */
        "nqn.2024-01.io.slite.:x",
        "nqn.2024-01.io_x.slite:x",
        "nqn.2024-01.io.slite:",     /* empty user string */
        "nqn.2024-01.io.slite:a\nb", /* control character */
        "nqn.2024-01.io.slite:a\x7f",
        "nqn.2024-01.io.slite:\xff",         /* not UTF-8 */
        "nqn.2024-01.io.slite:\xc0\xaf",     /* overlong */
        "nqn.2024-01.io.slite:\xed\xa0\x80", /* surrogate */
        "nqn.2024-01.io.slite:\xe2\x82",     /* truncated sequence */
        "nqn.2014-08.org.nvmexpress:uuid:",
        "nqn.2014-08.org.nvmexpress:uuid:0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b1",
        "nqn.2014-08.org.nvmexpress:uuid:0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b10x",
        "nqn.2014-08.org.nvmexpress:uuid:0b6a7e3c_9c7e-4a43-8d8e-6f1f3c7a2b10",
        " nqn.2024-01.io.slite:x",
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++)
        if (slio_nqn_validate(bad[i]) != -EINVAL)
            fail_msg("\"%s\" should be invalid", bad[i]);
    assert_int_equal(slio_nqn_validate(NULL), -EINVAL);

    /* length: 223 bytes is the maximum */
    char buf[300];
    int n = snprintf(buf, sizeof(buf), "nqn.2024-01.io.slite:");
    memset(buf + n, 'a', sizeof(buf) - (size_t)n - 1);
    buf[SLIO_NQN_MAX] = '\0';
    assert_int_equal(slio_nqn_validate(buf), 0);
    buf[SLIO_NQN_MAX] = 'a';
    buf[SLIO_NQN_MAX + 1] = '\0';
    assert_int_equal(slio_nqn_validate(buf), -ENAMETOOLONG);
    buf[sizeof(buf) - 1] = '\0';
    assert_int_equal(slio_nqn_validate(buf), -ENAMETOOLONG);
    /* a domain label over 63 bytes */
    n = snprintf(buf, sizeof(buf), "nqn.2024-01.");
    memset(buf + n, 'a', 64);
    memcpy(buf + n + 64, ":x", 3);
    assert_int_equal(slio_nqn_validate(buf), -EINVAL);
    memcpy(buf + n + 63, ":x", 3); /* exactly 63 */
    assert_int_equal(slio_nqn_validate(buf), 0);

    assert_true(slio_nqn_is_discovery("nqn.2014-08.org.nvmexpress.discovery"));
    assert_false(slio_nqn_is_discovery("nqn.2014-08.org.nvmexpress.discovery2"));
    assert_false(slio_nqn_is_discovery(NULL));
}

static void test_build(void **state)
{
    char nqn[SLIO_NQN_BUF] = "untouched";
    uuid_t u;

    assert_int_equal(slio_uuid_parse("0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b10", u), 0);
    slio_nqn_from_uuid(u, nqn);
    assert_string_equal(nqn,
                        "nqn.2014-08.org.nvmexpress:uuid:0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b10");
    assert_int_equal(slio_nqn_validate(nqn), 0);

    assert_int_equal(slio_nqn_for_volume("pvc-1234.a_b", nqn), 0);
    assert_string_equal(nqn, "nqn.2024-01.io.slite:pvc-1234.a_b");
    assert_int_equal(slio_nqn_validate(nqn), 0);

    memcpy(nqn, "untouched", 10);
    assert_int_equal(slio_nqn_for_volume("", nqn), -EINVAL);
    assert_int_equal(slio_nqn_for_volume(NULL, nqn), -EINVAL);
    assert_int_equal(slio_nqn_for_volume("a:b", nqn), -EINVAL);
    assert_int_equal(slio_nqn_for_volume("a b", nqn), -EINVAL);
    assert_int_equal(slio_nqn_for_volume("a/../b", nqn), -EINVAL);
    char name[250];
    memset(name, 'v', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_int_equal(slio_nqn_for_volume(name, nqn), -ENAMETOOLONG);
    name[SLIO_NQN_MAX - strlen(SLIO_NQN_PREFIX) - 1] = '\0';
    assert_string_equal(nqn, "untouched");
    assert_int_equal(slio_nqn_for_volume(name, nqn), 0);
    assert_int_equal(strlen(nqn), SLIO_NQN_MAX);
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rm(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}

static void test_host_identity(void **state)
{
    char dir[] = "/tmp/slio-nqn-XXXXXX";
    char nqn[SLIO_NQN_BUF], s[SLIO_UUID_STR_LEN];
    uuid_t id;

    assert_non_null(mkdtemp(dir));
    assert_int_equal(slio_host_identity_load(dir, nqn, id), -ENOENT);

    put(dir, "hostnqn", "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555\n");
    assert_int_equal(slio_host_identity_load(dir, nqn, id), 0);
    assert_string_equal(nqn,
                        "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555");
    assert_string_equal(slio_uuid_format(id, s), "11111111-2222-3333-4444-555555555555");

    put(dir, "hostid", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\n");
    assert_int_equal(slio_host_identity_load(dir, nqn, id), 0);
    assert_string_equal(slio_uuid_format(id, s), "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");

    rm(dir, "hostnqn");
    assert_int_equal(slio_host_identity_load(dir, nqn, id), 0);
    assert_string_equal(nqn,
                        "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");

    put(dir, "hostid", "not-a-uuid\n");
    assert_int_equal(slio_host_identity_load(dir, nqn, id), -EINVAL);
    rm(dir, "hostid");
    put(dir, "hostnqn", "nqn.2024-01.io.slite:node1\n");
    assert_int_equal(slio_host_identity_load(dir, nqn, id), -ENOENT); /* no hostid derivable */
    put(dir, "hostnqn", "garbage\n");
    assert_int_equal(slio_host_identity_load(dir, nqn, id), -EINVAL);
    rm(dir, "hostnqn");
    rmdir(dir);

    slio_host_identity_generate(nqn, id);
    assert_int_equal(slio_nqn_validate(nqn), 0);
    assert_false(slio_uuid_is_null(id));
    assert_string_equal(nqn + strlen(SLIO_NQN_UUID_PREFIX), slio_uuid_format(id, s));
}

static void test_dhchap_secret(void **state)
{
    (void)state;
    assert_true(
        slio_dhchap_secret_valid("DHHC-1:00:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTCf/nwX:"));
    assert_false(slio_dhchap_secret_valid(NULL));
    assert_false(
        slio_dhchap_secret_valid("DHHC-1:00:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTDJq5Fz"));
    assert_false(
        slio_dhchap_secret_valid("DHHC-1:0a:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTDJq5Fz:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_host_identity),
        cmocka_unit_test(test_dhchap_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
