/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pattern.h"

static uint8_t buf[4 * 4096];

static void test_fill_check_roundtrip(void **state)
{
    struct perf_block_hdr h;

    perf_pattern_fill(buf, 512, 8, 1000, 42, 7);
    for (uint32_t i = 0; i < 8; i++)
        assert_int_equal(perf_pattern_check(buf + i * 512, 512, 1000 + i, 7, true, &h),
                         PERF_CHECK_OK);
    assert_int_equal(h.lba, 1007);
    assert_int_equal(h.gen, 7);
    /* a newer generation satisfies a lower bound but not an exact expectation */
    assert_int_equal(perf_pattern_check(buf, 512, 1000, 5, false, &h), PERF_CHECK_OK);
    assert_int_equal(perf_pattern_check(buf, 512, 1000, 5, true, &h), PERF_CHECK_OLD_GEN);
    assert_int_equal(perf_pattern_check(buf, 512, 1000, 9, false, &h), PERF_CHECK_OLD_GEN);
}

static void test_detects_damage(void **state)
{
    struct perf_block_hdr h;

    perf_pattern_fill(buf, 4096, 2, 0, 1, 1);
    assert_int_equal(perf_pattern_check(buf + 4096, 4096, 0, 1, true, &h), PERF_CHECK_BAD_LBA);
    buf[4000] ^= 1;
    assert_int_equal(perf_pattern_check(buf, 4096, 0, 1, true, &h), PERF_CHECK_CORRUPT);
    memset(buf, 0, 4096);
    assert_int_equal(perf_pattern_check(buf, 4096, 0, 1, true, &h), PERF_CHECK_NO_MAGIC);
    /* different generations of the same block have different payloads */
    uint8_t a[512], b[512];
    perf_pattern_fill(a, 512, 1, 3, 9, 1);
    perf_pattern_fill(b, 512, 1, 3, 9, 2);
    assert_memory_not_equal(a + 32, b + 32, 480);
}

static void test_journal(void **state)
{
    char path[] = "/tmp/slio-journal-XXXXXX";
    int fd = mkstemp(path);
    uint64_t *gens = NULL, n = 0;
    char err[256];

    assert_true(fd >= 0);
    /* units of 8 blocks starting at LBA 64 */
    assert_int_equal(perf_journal_append(fd, 64, 8, 5), 0);
    assert_int_equal(perf_journal_append(fd, 72, 8, 6), 0);
    assert_int_equal(perf_journal_append(fd, 64, 8, 9), 0);
    assert_int_equal(perf_journal_append(fd, 64, 8, 7), 0); /* lower gen later: max wins */
    assert_int_equal(write(fd, "torn", 4), 4);              /* torn tail is ignored */
    assert_int_equal(perf_journal_load(path, 64, 8, 4, &gens, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 4);
    assert_int_equal(gens[0], 9);
    assert_int_equal(gens[1], 6);
    assert_int_equal(gens[2], 0);
    free(gens);
    /* a record outside the range is an error that names the record */
    assert_int_equal(ftruncate(fd, 4 * 32), 0);
    assert_true(lseek(fd, 0, SEEK_END) == 4 * 32);
    assert_int_equal(perf_journal_append(fd, 4096, 8, 1), 0);
    assert_int_equal(perf_journal_load(path, 64, 8, 4, &gens, &n, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "record 4"));
    assert_int_equal(perf_journal_load("/nonexistent/j", 0, 8, 4, &gens, &n, err, sizeof(err)),
                     -ENOENT);
    close(fd);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_check_roundtrip),
        cmocka_unit_test(test_detects_damage),
        cmocka_unit_test(test_journal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
