/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-controller's start: a configuration that cannot be loaded or decoded
 * is refused with exit status 1 and nothing freed that was never set (the
 * reported SIGSEGV: the config was cleared uninitialised after a failed load;
 * run under ASan/UBSan in `make sanitize`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app.h"

/* Leave non-zero bytes where ctl_app_main's frame will be, as a real start may find it. */
static __attribute__((noinline)) void dirty_stack(void)
{
    volatile char dirt[8192];
    memset((char *)dirt, 0x6e, sizeof(dirt));
}

static int run_with(const char *path)
{
    char *argv[] = {(char *)"slio-controller", (char *)"-c", (char *)path, NULL};
    optind = 1; /* getopt state: each call parses afresh */
    dirty_stack();
    return ctl_app_main(3, argv);
}

static int run_with_text(const char *text)
{
    char path[] = "/tmp/slio-app-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    int r = run_with(path);
    unlink(path);
    return r;
}

static void test_unloadable_config(void **state)
{
    assert_int_equal(run_with("/nonexistent/slio-controller.yaml"), 1);
    assert_int_equal(run_with("/"), 1);
}

static void test_undecodable_config(void **state)
{
    assert_int_equal(run_with_text(""), 1);
    assert_int_equal(run_with_text("[]\n"), 1);
    assert_int_equal(run_with_text("store: {backend: sqlite}\n"), 1);
    assert_int_equal(run_with_text("store: {path: /x}\nbogus: 1\n"), 1);
    assert_int_equal(run_with_text("key: 'unterminated\n"), 1);
    assert_int_equal(run_with_text("store: {path: /x}\nscheduler: {filters: [nope]}\n"), 1);
}

static void test_bad_arguments(void **state)
{
    char *argv[] = {(char *)"slio-controller", NULL};
    optind = 1;
    assert_int_equal(ctl_app_main(1, argv), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unloadable_config),
        cmocka_unit_test(test_undecodable_config),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
