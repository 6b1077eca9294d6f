/* SPDX-License-Identifier: Apache-2.0 */
/* libslio/uuid.c: generate, strict parse, lowercase format, null check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slio/uuid.h"

static void test_roundtrip(void **state)
{
    uuid_t a, b;
    char s[SLIO_UUID_STR_LEN];

    slio_uuid_generate(a);
    assert_false(slio_uuid_is_null(a));
    assert_int_equal((a[6] >> 4), 4); /* version 4 */
    assert_int_equal(slio_uuid_parse(slio_uuid_format(a, s), b), 0);
    assert_memory_equal(a, b, sizeof(uuid_t));
    slio_uuid_generate(b);
    assert_memory_not_equal(a, b, sizeof(uuid_t));

    assert_int_equal(slio_uuid_parse("0B6A7E3C-9C7E-4A43-8D8E-6F1F3C7A2B10", a), 0);
    assert_string_equal(slio_uuid_format(a, s), "0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b10");
    assert_int_equal(slio_uuid_parse("00000000-0000-0000-0000-000000000000", a), 0);
    assert_true(slio_uuid_is_null(a));
}

static void test_parse_strict(void **state)
{
    static const char *const bad[] = {
        "",
        "0b6a7e3c9c7e4a438d8e6f1f3c7a2b10",
        "{0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b10}",
        " 0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b10",
        "0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b10 ",
        "0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b1",
        "0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b100",
        "0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b1g",
        "0b6a7e3c-9c7e-4a43-8d8e_6f1f3c7a2b10",
        "0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b10\n",
        "+b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b10",
    };
    uuid_t u;

    memset(u, 0xab, sizeof(u));
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++)
        if (slio_uuid_parse(bad[i], u) != -EINVAL)
            fail_msg("\"%s\" should be rejected", bad[i]);
    assert_int_equal(slio_uuid_parse(NULL, u), -EINVAL);
    /* embedded NUL: the C string ends early, so it is too short */
    static const char nul[] = "0b6a7e3c-9c7e-4a43\0-8d8e-6f1f3c7a2b10";
    assert_int_equal(slio_uuid_parse(nul, u), -EINVAL);
    for (size_t i = 0; i < sizeof(u); i++)
        assert_int_equal(u[i], 0xab);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_parse_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
