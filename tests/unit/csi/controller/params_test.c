/* SPDX-License-Identifier: Apache-2.0 */
/* StorageClass / VolumeSnapshotClass parameters → REST fields (csi/controller/params.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "controller/params.h"
#include "slio/json.h"

static int parse(const char *const *kv, size_t n, json_t **ret_body, struct csi_volume_params *vp,
                 struct slio_err *err)
{
    const char *keys[32], *values[32];
    for (size_t i = 0; i < n; i++) {
        keys[i] = kv[2 * i];
        values[i] = kv[2 * i + 1];
    }
    json_t *body = json_object();
    int r = csi_params_volume(keys, values, n, body, vp, err);
    *ret_body = body;
    return r;
}

static void test_every_key(void **state)
{
    const char *kv[] = {"thin",
                        "true",
                        "fsType",
                        "xfs",
                        "position",
                        "must_local",
                        "spreadGroup",
                        "db-1",
                        "spreadLevel",
                        "zone",
                        "spreadHard",
                        "false",
                        "nodeSelector",
                        "rack=r1|r2,!slow",
                        "poolSelector",
                        "ssd",
                        "rwIopsPerSec",
                        "5000",
                        "rwMBytesPerSec",
                        "100",
                        "rMBytesPerSec",
                        "60",
                        "wMBytesPerSec",
                        "40",
                        "mkfsOptions",
                        "-m 0 -E lazy_itable_init=0",
                        "csi.storage.k8s.io/pvc/name",
                        "anything goes here"};
    json_t *body;
    struct csi_volume_params vp;
    struct slio_err err = {0};
    assert_int_equal(parse(kv, SLIO_ARRAY_SIZE(kv) / 2, &body, &vp, &err), 0);
    _cleanup_free_ char *text = slio_json_dump(body, JSON_SORT_KEYS);
    assert_string_equal(
        text, "{\"fs_type\":\"xfs\",\"node_selector\":[{\"key\":\"rack\",\"operator\":\"In\","
              "\"values\":[\"r1\",\"r2\"]},{\"key\":\"slow\",\"operator\":\"DoesNotExist\","
              "\"values\":[]}],\"pool_selector\":[{\"key\":\"ssd\",\"operator\":\"Exists\","
              "\"values\":[]}],\"position\":\"must_local\",\"qos\":{\"r_mbytes_per_sec\":60,"
              "\"rw_ios_per_sec\":5000,\"rw_mbytes_per_sec\":100,\"w_mbytes_per_sec\":40},"
              "\"spread\":{\"group\":\"db-1\",\"hard\":false,\"level\":\"zone\"},\"thin\":true}");
    assert_string_equal(vp.fs_type, "xfs");
    assert_string_equal(vp.mkfs_options, "-m 0 -E lazy_itable_init=0");
    assert_true(vp.thin);
    json_decref(body);
}

static void test_bad(void **state)
{
    static const struct {
        const char *key, *value, *needle;
    } cases[] = {
        {"thin", "True", "thin"},
        {"thin", "", "thin"},
        {"fsType", "ext3", "fsType"},
        {"csi.storage.k8s.io/fstype", "btrfs", "fstype"},
        {"position", "", "position"},
        {"spreadLevel", "node", "spreadGroup"},
        {"spreadGroup", "has space", "spreadGroup"},
        {"spreadGroup", "", "spreadGroup"},
        {"rwIopsPerSec", "-5", "rwIopsPerSec"},
        {"rwIopsPerSec", "1e3", "rwIopsPerSec"},
        {"rwIopsPerSec", "99999999999999999999", "rwIopsPerSec"},
        {"nodeSelector", "", "selector"},
        {"nodeSelector", "k=", "no value"},
        {"nodeSelector", "=v", "selector key"},
        {"nodeSelector", "k=v w", "selector value"},
        {"nodeSelector", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", "16"},
        {"mkfsOptions", "-E $(reboot)", "mkfsOptions"},
        {"mkfsOptions", "a\nb", "mkfsOptions"},
        {"Thin", "true", "unknown"},
        {"", "x", "unknown"},
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(cases); i++) {
        const char *kv[] = {cases[i].key, cases[i].value};
        json_t *body;
        struct csi_volume_params vp = {.fs_type = "untouched"};
        struct slio_err err = {0};
        assert_int_equal(parse(kv, 1, &body, &vp, &err), -EINVAL);
        if (!strstr(err.text, cases[i].needle))
            fail_msg("case %zu (%s=%s): \"%s\" lacks \"%s\"", i, cases[i].key, cases[i].value,
                     err.text, cases[i].needle);
        assert_string_equal(vp.fs_type, "untouched"); /* untouched on failure */
        assert_int_equal(json_object_size(body), 0);  /* and the body too */
        json_decref(body);
    }
}

static void test_too_many(void **state)
{
    const char *keys[CSI_PARAMS_MAX + 1], *values[CSI_PARAMS_MAX + 1];
    for (size_t i = 0; i <= CSI_PARAMS_MAX; i++) {
        keys[i] = "thin";
        values[i] = "true";
    }
    struct slio_err err = {0};
    struct csi_volume_params vp;
    _cleanup_(slio_json_decrefp) json_t *body = json_object();
    assert_int_equal(csi_params_volume(keys, values, CSI_PARAMS_MAX + 1, body, &vp, &err), -EINVAL);
    assert_non_null(strstr(err.text, "at most"));
}

static void test_long_mkfs_options(void **state)
{
    char opts[CSI_MKFS_OPTIONS_MAX + 2];
    memset(opts, 'a', sizeof(opts) - 1);
    opts[sizeof(opts) - 1] = '\0';
    const char *kv[] = {"mkfsOptions", opts};
    json_t *body;
    struct csi_volume_params vp;
    struct slio_err err = {0};
    assert_int_equal(parse(kv, 1, &body, &vp, &err), -EINVAL);
    json_decref(body);
    opts[CSI_MKFS_OPTIONS_MAX] = '\0';
    assert_int_equal(parse(kv, 1, &body, &vp, &err), 0);
    json_decref(body);
}

static void test_snapshot(void **state)
{
    const char *keys[] = {"cowReserve"}, *ok[] = {"1.5Gi"}, *bad[] = {"1.5GB"};
    struct slio_err err = {0};
    _cleanup_(slio_json_decrefp) json_t *body = json_object();
    assert_int_equal(csi_params_snapshot(keys, ok, 1, body, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(body, "cow_reserve")), 3LL << 29);
    assert_int_equal(csi_params_snapshot(keys, bad, 1, body, &err), -EINVAL);
    const char *other[] = {"thin"};
    assert_int_equal(csi_params_snapshot(other, ok, 1, body, &err), -EINVAL);
    assert_non_null(strstr(err.text, "unknown"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key), cmocka_unit_test(test_bad),
        cmocka_unit_test(test_too_many),  cmocka_unit_test(test_long_mkfs_options),
        cmocka_unit_test(test_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
