/* SPDX-License-Identifier: Apache-2.0 */
/* libslio/fileio.c: bounded whole-file reads, atomic durable replacement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "slio/fileio.h"

static char dir[] = "/tmp/slio-fileio-XXXXXX";

static int setup(void **state)
{
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *buf, size_t len, const char *name)
{
    assert_true((size_t)snprintf(buf, len, "%s/%s", dir, name) < len);
}

static void test_write_then_read(void **state)
{
    char p[256], *buf = NULL;
    size_t len = 0;
    static const char text[] = "hello\0world"; /* embedded NUL is kept */

    path_of(p, sizeof(p), "a");
    assert_int_equal(slio_write_file_atomic(p, text, sizeof(text) - 1, 0600), 0);
    assert_int_equal(slio_read_file(p, 1024, &buf, &len), 0);
    assert_int_equal(len, sizeof(text) - 1);
    assert_memory_equal(buf, text, len);
    assert_int_equal(buf[len], '\0');
    free(buf);

    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_replace_keeps_no_temp(void **state)
{
    char p[256], *buf = NULL;
    size_t len;

    path_of(p, sizeof(p), "b");
    assert_int_equal(slio_write_file_atomic(p, "old", 3, 0644), 0);
    assert_int_equal(slio_write_file_atomic(p, "newer", 5, 0644), 0);
    assert_int_equal(slio_read_file(p, 16, &buf, &len), 0);
    assert_string_equal(buf, "newer");
    free(buf);

    /* only "a"/"b"-style final files remain: no *.tmp* left behind */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "ls %s | grep -q tmp", dir);
    assert_int_not_equal(system(cmd), 0);
}

static void test_read_cap_and_errors(void **state)
{
    char p[256], *buf = (char *)0x1;
    size_t len = 77;

    path_of(p, sizeof(p), "big");
    assert_int_equal(slio_write_file_atomic(p, "0123456789", 10, 0644), 0);
    /* over the cap: -EFBIG, outputs untouched */
    assert_int_equal(slio_read_file(p, 9, &buf, &len), -EFBIG);
    assert_ptr_equal(buf, (char *)0x1);
    assert_int_equal(len, 77);
    /* exactly at the cap is fine */
    buf = NULL;
    assert_int_equal(slio_read_file(p, 10, &buf, NULL), 0);
    assert_string_equal(buf, "0123456789");
    free(buf);

    path_of(p, sizeof(p), "missing");
    assert_int_equal(slio_read_file(p, 10, &buf, &len), -ENOENT);
    assert_int_equal(slio_read_file(dir, 10, &buf, &len), -EISDIR);

    path_of(p, sizeof(p), "empty");
    assert_int_equal(slio_write_file_atomic(p, "", 0, 0644), 0);
    buf = NULL;
    assert_int_equal(slio_read_file(p, 10, &buf, &len), 0);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    free(buf);
}

static void test_write_errors(void **state)
{
    char p[256];

    /* the directory does not exist: the temporary file cannot be created */
    path_of(p, sizeof(p), "nodir/x");
    assert_int_equal(slio_write_file_atomic(p, "x", 1, 0644), -ENOENT);

    /* a path too long for the temporary name */
    char longp[5000];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(slio_write_file_atomic(longp, "x", 1, 0644), -ENAMETOOLONG);
}

static void test_proc_file_without_size(void **state)
{
    char *buf = NULL;
    size_t len = 0;

    /* /proc files report st_size 0: the reader must not trust fstat */
    assert_int_equal(slio_read_file("/proc/self/status", 1 << 20, &buf, &len), 0);
    assert_true(len > 0);
    assert_non_null(strstr(buf, "Name:"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_then_read),        cmocka_unit_test(test_replace_keeps_no_temp),
        cmocka_unit_test(test_read_cap_and_errors),    cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_proc_file_without_size),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
