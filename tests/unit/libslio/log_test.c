/* SPDX-License-Identifier: Apache-2.0 */
/* libslio/log.c: line format, escaping, level and per-component filtering, rate limiting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#define SLIO_LOG_COMPONENT "tgt"
#include "slio/log.h"

static int memfd = -1;

static int setup(void **state)
{
    memfd = memfd_create("log", MFD_CLOEXEC);
    assert_true(memfd >= 0);
    slio_log_set_fd(memfd);
    slio_log_set_level(SLIO_LOG_INFO);
    slio_log_enable_debug("");
    return 0;
}

static int teardown(void **state)
{
    slio_log_set_fd(STDERR_FILENO);
    close(memfd);
    return 0;
}

/* Everything written so far, then the memfd is emptied. */
static char *take_output(void)
{
    static char buf[65536];
    off_t len = lseek(memfd, 0, SEEK_CUR);

    assert_true(len >= 0 && (size_t)len < sizeof(buf));
    assert_int_equal(pread(memfd, buf, (size_t)len, 0), len);
    buf[len] = '\0';
    assert_int_equal(ftruncate(memfd, 0), 0);
    lseek(memfd, 0, SEEK_SET);
    return buf;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_format(void **state)
{
    log_info("pool \"%s\": created, %d LVs", "vg0", 3);
    char *out = take_output();

    /* ts=2026-11-23T21:30:00.123Z */
    assert_memory_equal(out, "ts=", 3);
    assert_true(strlen(out) > 28);
    assert_int_equal(out[7], '-');
    assert_int_equal(out[13], 'T');
    assert_int_equal(out[22], '.');
    assert_int_equal(out[26], 'Z');
    assert_non_null(strstr(
        out, " level=info comp=tgt msg=\"pool \\\"vg0\\\": created, 3 LVs\" src=log_test.c:"));
    assert_int_equal(count_lines(out), 1);
    assert_int_equal(out[strlen(out) - 1], '\n');
}

static void test_escaping_one_line(void **state)
{
    log_error("name \"%s\"", "evil\nts=forged level=error\\\t\x01");
    char *out = take_output();

    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "level=error"));
    assert_non_null(strstr(out, "msg=\"name \\\"evil\\nts=forged level=error\\\\\\t\\x01\\\"\""));
}

static void test_long_message_truncated(void **state)
{
    char big[6000];

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_warn("%s", big);
    char *out = take_output();
    assert_int_equal(count_lines(out), 1);
    assert_true(strlen(out) <= 4096);
    assert_non_null(strstr(out, " truncated=1\n"));

    /* many escapes: the escaped form is what overflows */
    memset(big, '\n', 2000);
    big[2000] = '\0';
    log_warn("%s", big);
    out = take_output();
    assert_int_equal(count_lines(out), 1);
    assert_true(strlen(out) <= 4096);
    assert_non_null(strstr(out, " truncated=1\n"));
}

static int evaluated;
static int side_effect(void)
{
    return ++evaluated;
}

static void test_levels(void **state)
{
    slio_log_set_level(SLIO_LOG_WARN);
    log_info("hidden %d", side_effect());
    log_debug("hidden %d", side_effect());
    assert_int_equal(evaluated, 0); /* arguments not evaluated when off */
    log_warn("shown");
    log_error("shown");
    char *out = take_output();
    assert_int_equal(count_lines(out), 2);
    assert_null(strstr(out, "hidden"));

    slio_log_set_level(SLIO_LOG_DEBUG);
    log_debug("dbg");
    out = take_output();
    assert_non_null(strstr(out, "level=debug"));
}

static void test_level_names(void **state)
{
    enum slio_log_level l = SLIO_LOG_INFO;

    assert_int_equal(slio_log_level_from_string("debug", &l), 0);
    assert_int_equal(l, SLIO_LOG_DEBUG);
    assert_int_equal(slio_log_level_from_string("ERROR", &l), 0);
    assert_int_equal(l, SLIO_LOG_ERR);
    assert_int_equal(slio_log_level_from_string("warning", &l), 0);
    assert_int_equal(l, SLIO_LOG_WARN);
    assert_int_equal(slio_log_level_from_string("verbose", &l), -EINVAL);
    assert_int_equal(slio_log_level_from_string("", &l), -EINVAL);
    assert_int_equal(slio_log_level_from_string(NULL, &l), -EINVAL);
    assert_int_equal(l, SLIO_LOG_WARN);
}

static void test_debug_components(void **state)
{
    slio_log_enable_debug("rpc, tgt");
    assert_true(slio_log_debug_enabled("tgt"));
    assert_true(slio_log_debug_enabled("rpc"));
    assert_false(slio_log_debug_enabled("tg"));
    assert_false(slio_log_debug_enabled("agent"));
    log_debug("per-component");
    assert_non_null(strstr(take_output(), "msg=\"per-component\""));

    slio_log_enable_debug("agent");
    log_debug("off for tgt");
    assert_string_equal(take_output(), "");

    slio_log_enable_debug("all");
    assert_true(slio_log_debug_enabled("anything"));
    slio_log_enable_debug(NULL);
    assert_false(slio_log_debug_enabled("tgt"));
}

static void test_env(void **state)
{
    setenv("SLIO_LOG_LEVEL", "err", 1);
    setenv("SLIO_LOG_DEBUG", "csi,tgt", 1);
    slio_log_init_from_env();
    assert_int_equal(slio_log_get_level(), SLIO_LOG_ERR);
    assert_true(slio_log_debug_enabled("tgt"));
    assert_true(slio_log_debug_enabled("csi"));
    assert_false(slio_log_debug_enabled("rpc"));

    setenv("SLIO_LOG_LEVEL", "bogus", 1); /* ignored */
    unsetenv("SLIO_LOG_DEBUG");
    slio_log_init_from_env();
    assert_int_equal(slio_log_get_level(), SLIO_LOG_ERR);
    assert_false(slio_log_debug_enabled("tgt"));
    unsetenv("SLIO_LOG_LEVEL");
}

static void test_ratelimit(void **state)
{
    struct slio_ratelimit rl = SLIO_RATELIMIT_INIT(60 * 1000000ull, 3);

    for (int i = 0; i < 10; i++)
        log_ratelimited(&rl, SLIO_LOG_ERR, "peer 10.0.0.1: bad PDU %d", i);
    char *out = take_output();
    assert_int_equal(count_lines(out), 3);
    assert_non_null(strstr(out, "bad PDU 2"));
    assert_null(strstr(out, "bad PDU 3"));
    assert_int_equal(rl.suppressed, 7);

    /* the window has passed: the next line reports what was dropped */
    rl.begin_us -= rl.interval_us;
    log_ratelimited(&rl, SLIO_LOG_ERR, "bad PDU again");
    out = take_output();
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "msg=\"bad PDU again\""));
    assert_non_null(strstr(out, " suppressed=7"));
    assert_int_equal(rl.suppressed, 0);
    log_error("next line is clean");
    assert_null(strstr(take_output(), "suppressed"));

    struct slio_ratelimit off = SLIO_RATELIMIT_INIT(0, 0);
    for (int i = 0; i < 100; i++)
        assert_true(slio_ratelimit_ok(&off));
}

static void test_errno_preserved(void **state)
{
    errno = ENOSPC;
    log_error("x");
    assert_int_equal(errno, ENOSPC);
    take_output();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_message_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debug_components, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ratelimit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errno_preserved, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
