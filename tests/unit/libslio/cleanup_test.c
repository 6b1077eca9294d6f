/* SPDX-License-Identifier: Apache-2.0 */
/* include/slio/cleanup.h: cleanup attributes run at scope exit, TAKE_PTR/TAKE_FD hand out
 * ownership. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slio/cleanup.h"

static int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static char *make_owned(void)
{
    _cleanup_free_ char *p = strdup("owned");
    assert_non_null(p);
    return TAKE_PTR(p); /* not freed at scope exit */
}

static void test_take_ptr(void **state)
{
    char *p = make_owned();
    assert_string_equal(p, "owned");
    free(p);

    _cleanup_free_ char *q = malloc(8);
    char *r = TAKE_PTR(q);
    assert_null(q);
    free(r);
}

static void test_close(void **state)
{
    int kept, dropped;
    {
        _cleanup_close_ int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int b = open("/dev/null", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int none = -1; /* must not close(-1) or clobber errno */
        assert_true(a >= 0 && b >= 0);
        dropped = a;
        kept = TAKE_FD(b);
        assert_int_equal(b, -1);
        errno = EAGAIN;
        (void)none;
    }
    assert_int_equal(errno, EAGAIN);
    assert_false(fd_is_open(dropped));
    assert_true(fd_is_open(kept));
    close(kept);
}

static void test_macros(void **state)
{
    int a[7];
    assert_int_equal(SLIO_ARRAY_SIZE(a), 7);
    assert_int_equal(SLIO_DIV_ROUND_UP(9, 4), 3);
    assert_int_equal(SLIO_DIV_ROUND_UP(8, 4), 2);
    assert_int_equal(SLIO_MIN(3, -1), -1);
    assert_int_equal(SLIO_MAX(3, -1), 3);
    errno = 0;
    assert_int_equal(slio_neg_errno(), -EIO);
    errno = ENOENT;
    assert_int_equal(slio_neg_errno(), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_ptr),
        cmocka_unit_test(test_close),
        cmocka_unit_test(test_macros),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
