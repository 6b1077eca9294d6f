/* SPDX-License-Identifier: Apache-2.0 */
/* The REST edge (csi/rest.c): error table, ids, timestamps; and list paging (inspect.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "controller/convert.h"
#include "rest.h"
#include "slio/json.h"

static void test_codes(void **state)
{
    static const struct {
        unsigned status;
        const char *code;
        grpc_status_code want;
    } cases[] = {
        {400, "invalid_argument", GRPC_STATUS_INVALID_ARGUMENT},
        {404, "not_found", GRPC_STATUS_NOT_FOUND},
        {409, "conflict", GRPC_STATUS_ALREADY_EXISTS},
        {413, "too_large", GRPC_STATUS_OUT_OF_RANGE},
        {422, "unschedulable", GRPC_STATUS_RESOURCE_EXHAUSTED},
        {503, "not_leader", GRPC_STATUS_UNAVAILABLE},
        {503, "unavailable", GRPC_STATUS_UNAVAILABLE},
        {401, "unauthenticated", GRPC_STATUS_UNAUTHENTICATED},
        {403, "forbidden", GRPC_STATUS_PERMISSION_DENIED},
        {500, "internal", GRPC_STATUS_INTERNAL},
        /* no or unknown code: by status */
        {422, NULL, GRPC_STATUS_RESOURCE_EXHAUSTED},
        {404, "weird", GRPC_STATUS_NOT_FOUND},
        {502, NULL, GRPC_STATUS_INTERNAL},
        {418, NULL, GRPC_STATUS_INTERNAL},
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(cases); i++) {
        json_t *body = cases[i].code ? json_pack("{s:{s:s, s:s}}", "error", "code", cases[i].code,
                                                 "message", "why")
                                     : NULL;
        assert_int_equal(csi_rest_code(cases[i].status, body), cases[i].want);
        json_decref(body);
    }
    struct csi_reply r = {0};
    json_t *body = json_pack("{s:{s:s, s:s}}", "error", "code", "conflict", "message",
                             "volume \"pvc-1\" exists with other parameters");
    assert_int_equal(csi_rest_fail(&r, 409, body, "volume \"pvc-1\""), GRPC_STATUS_ALREADY_EXISTS);
    assert_string_equal(r.message,
                        "volume \"pvc-1\": volume \"pvc-1\" exists with other parameters");
    assert_int_equal(csi_rest_fail(&r, 500, NULL, "x"), GRPC_STATUS_INTERNAL);
    assert_string_equal(r.message, "x: controller gave no reason");
    json_decref(body);
}

static void test_uuid(void **state)
{
    assert_true(csi_is_uuid("0b5e2a1c-8a41-4c36-9d0e-2f4a9e6c7b10"));
    assert_false(csi_is_uuid("0b5e2a1c-8a41-4c36-9d0e-2f4a9e6c7b1"));
    assert_false(csi_is_uuid("0b5e2a1c-8a41-4c36-9d0e-2f4a9e6c7b10/../x"));
    assert_false(csi_is_uuid("pvc-1"));
    assert_false(csi_is_uuid(""));
    assert_false(csi_is_uuid(NULL));
}

static void test_rfc3339(void **state)
{
    int64_t s = -1;
    int32_t ns = -1;
    assert_int_equal(csi_parse_rfc3339("2026-12-05T20:00:00Z", &s, &ns), 0);
    assert_int_equal(s, 1796500800);
    assert_int_equal(ns, 0);
    assert_int_equal(csi_parse_rfc3339("1970-01-01T00:00:01.5Z", &s, &ns), 0);
    assert_int_equal(s, 1);
    assert_int_equal(ns, 500000000);
    assert_int_equal(csi_parse_rfc3339("1970-01-01T00:00:00.1234567891Z", &s, &ns), 0);
    assert_int_equal(ns, 123456789);
    const char *bad[] = {"",
                         "2026-12-05",
                         "2026-12-05T20:00:00",
                         "2026-12-05T20:00:00+01:00",
                         "2026-13-05T20:00:00Z",
                         "2026-12-05T24:00:00Z",
                         "2026-12-05T20:00:00.Z",
                         "2026-12-05T20:00:00Zjunk",
                         "2O26-12-05T20:00:00Z",
                         NULL};
    for (size_t i = 0; bad[i]; i++) {
        s = 7;
        assert_int_equal(csi_parse_rfc3339(bad[i], &s, &ns), -EINVAL);
        assert_int_equal(s, 7); /* untouched */
    }
}

static void test_page_query(void **state)
{
    char q[256];
    assert_int_equal(csi_page_query(0, "", q, sizeof(q)), 0);
    assert_string_equal(q, "limit=1000");
    assert_int_equal(csi_page_query(3, "", q, sizeof(q)), 0);
    assert_string_equal(q, "limit=3");
    assert_int_equal(csi_page_query(5000, "", q, sizeof(q)), 0);
    assert_string_equal(q, "limit=1000");
    assert_int_equal(csi_page_query(2, "c2VxOjQ=&x=1 /", q, sizeof(q)), 0);
    assert_string_equal(q, "limit=2&continue=c2VxOjQ%3D%26x%3D1%20%2F"); /* escaped */
    char token[600];
    memset(token, 'a', sizeof(token) - 1);
    token[sizeof(token) - 1] = '\0';
    assert_int_equal(csi_page_query(2, token, q, sizeof(q)), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_page_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
