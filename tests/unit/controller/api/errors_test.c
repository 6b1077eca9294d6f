/* SPDX-License-Identifier: Apache-2.0 */
/* The one errno → HTTP table, and continue tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"

static void test_table(void **state)
{
    static const struct {
        int err;
        unsigned status;
        const char *code;
    } rows[] = {
        {-EINVAL, 400, "invalid_argument"},
        {-EACCES, 401, "unauthenticated"},
        {-EPERM, 403, "forbidden"},
        {-ENOENT, 404, "not_found"},
        {-EEXIST, 409, "conflict"},
        {-EBUSY, 409, "conflict"},
        {-EMSGSIZE, 413, "too_large"},
        {-ENOSPC, 422, "unschedulable"},
        {-EROFS, 503, "not_leader"},
        {-EAGAIN, 503, "unavailable"},
        {-EIO, 500, "internal"},
        {-ENOMEM, 500, "internal"},
        {-ECANCELED, 500, "internal"},
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(rows); i++) {
        const struct api_error *e = api_error_of(rows[i].err);
        assert_int_equal(e->status, rows[i].status);
        assert_string_equal(e->code, rows[i].code);
    }
}

static void test_error_body(void **state)
{
    json_t *b = api_error_body(api_error_of(-EROFS), "standby", "http://10.0.0.2:8360");
    json_t *e = json_object_get(b, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), "not_leader");
    assert_string_equal(json_string_value(json_object_get(e, "message")), "standby");
    assert_string_equal(json_string_value(json_object_get(e, "leader")), "http://10.0.0.2:8360");
    json_decref(b);
    b = api_error_body(api_error_of(-ENOENT), "volume x not found", NULL);
    assert_null(json_object_get(json_object_get(b, "error"), "leader"));
    assert_int_equal(json_object_size(b), 1);
    json_decref(b);
}

static void test_page_tokens(void **state)
{
    char *key = NULL;
    struct slio_err err = {{0}};
    char *tok = api_page_token("/slio/volumes/0190a8f0-0000");
    assert_non_null(tok);
    assert_int_equal(strspn(tok, "0123456789abcdef"), strlen(tok));
    assert_int_equal(api_page_key(tok, "/slio/volumes/", &key, NULL), 0);
    assert_string_equal(key, "/slio/volumes/0190a8f0-0000");
    free(key);
    /* Another list's token, odd length, non-hex, NUL bytes, empty: refused. */
    assert_int_equal(api_page_key(tok, "/slio/snapshots/", &key, &err), -EINVAL);
    assert_non_null(strstr(err.text, "query 'continue'"));
    assert_int_equal(api_page_key("abc", "/", &key, NULL), -EINVAL);
    assert_int_equal(api_page_key("zz", "", &key, NULL), -EINVAL);
    assert_int_equal(api_page_key("2f00", "/", &key, NULL), -EINVAL);
    assert_int_equal(api_page_key("", "", &key, NULL), -EINVAL);
    free(tok);
    char big[2 * STORE_KEY_MAX + 3];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(api_page_key(big, "", &key, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_page_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
