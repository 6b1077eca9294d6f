/* SPDX-License-Identifier: Apache-2.0 */
/* libslio/exec.c + exec_replay.c: real child processes and the replaying test double. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "slio/exec.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_ok(const char *const *argv, const struct slio_exec_opts *o,
                   struct slio_exec_result *r)
{
    struct slio_err err = {{0}};
    int rc = slio_exec(argv, o, r, &err);
    if (rc != 0)
        fail_msg("slio_exec(%s): %d %s", argv[0], rc, err.text);
}

static void test_true_false(void **state)
{
    _cleanup_exec_result_ struct slio_exec_result r = {0};
    char buf[128];

    run_ok((const char *const[]){"/bin/true", NULL}, NULL, &r);
    assert_true(slio_exec_succeeded(&r));
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(r.out_len, 0);
    assert_string_equal(r.out, "");
    slio_exec_result_free(&r);

    run_ok((const char *const[]){"false", NULL}, NULL, &r); /* $PATH lookup */
    assert_false(slio_exec_succeeded(&r));
    assert_int_equal(r.exit_code, 1);
    assert_int_equal(r.signal, 0);
    assert_string_equal(slio_exec_describe(&r, buf, sizeof(buf)), "exited with status 1");
}

static void test_output(void **state)
{
    _cleanup_exec_result_ struct slio_exec_result r = {0};

    /* no shell: the metacharacters reach echo as they are */
    run_ok((const char *const[]){"echo", "hello", "$HOME;", "`x`", NULL}, NULL, &r);
    assert_string_equal(r.out, "hello $HOME; `x`\n");
    assert_int_equal(r.out_len, 17);
    slio_exec_result_free(&r);

    run_ok((const char *const[]){"sh", "-c", "echo out; echo err >&2; exit 3", NULL}, NULL, &r);
    assert_string_equal(r.out, "out\n");
    assert_string_equal(r.err, "err\n");
    assert_int_equal(r.exit_code, 3);
    slio_exec_result_free(&r);

    /* binary output with NULs is kept whole */
    run_ok((const char *const[]){"printf", "a\\000b", NULL}, NULL, &r);
    assert_int_equal(r.out_len, 3);
    assert_memory_equal(r.out, "a\0b", 3);
}

static void test_timeout(void **state)
{
    _cleanup_exec_result_ struct slio_exec_result r = {0};
    struct slio_exec_opts o = {.timeout_ms = 200};
    char buf[128];
    int64_t t0 = mono_ms();

    run_ok((const char *const[]){"sh", "-c", "sleep 5", NULL}, &o, &r);
    int64_t took = mono_ms() - t0;
    assert_true(took >= 200 && took < 2000);
    assert_true(r.timed_out);
    assert_int_equal(r.signal, SIGTERM);
    assert_int_equal(r.exit_code, -1);
    assert_false(slio_exec_succeeded(&r));
    assert_non_null(strstr(slio_exec_describe(&r, buf, sizeof(buf)), "timed out"));
    slio_exec_result_free(&r);

    /* a child that ignores SIGTERM gets SIGKILL after the grace period */
    o.kill_grace_ms = 100;
    t0 = mono_ms();
    run_ok((const char *const[]){"sh", "-c", "trap '' TERM; sleep 5; sleep 5", NULL}, &o, &r);
    took = mono_ms() - t0;
    assert_true(took >= 300 && took < 3000);
    assert_true(r.timed_out);
    assert_int_equal(r.signal, SIGKILL);
}

static void test_output_cap(void **state)
{
    _cleanup_exec_result_ struct slio_exec_result r = {0};
    struct slio_exec_opts o = {.max_output = 1000};

    /* 1 MB of output: the child must not block on a full pipe, we keep 1000 bytes */
    run_ok((const char *const[]){"head", "-c", "1000000", "/dev/zero", NULL}, &o, &r);
    assert_true(slio_exec_succeeded(&r));
    assert_int_equal(r.out_len, 1000);
    assert_true(r.out_truncated);
    assert_false(r.err_truncated);
    slio_exec_result_free(&r);

    o.max_output = 4;
    run_ok((const char *const[]){"echo", "abc", NULL}, &o, &r);
    assert_string_equal(r.out, "abc\n");
    assert_false(r.out_truncated); /* exactly at the cap */
}

static void test_stdin(void **state)
{
    _cleanup_exec_result_ struct slio_exec_result r = {0};
    static char big[300000];
    struct slio_exec_opts o = {.stdin_data = "line1\nline2\n", .stdin_len = 12};

    run_ok((const char *const[]){"cat", NULL}, &o, &r);
    assert_string_equal(r.out, "line1\nline2\n");
    slio_exec_result_free(&r);

    /* more than a pipe holds, both directions at once */
    memset(big, 'z', sizeof(big));
    o = (struct slio_exec_opts){.stdin_data = big, .stdin_len = sizeof(big)};
    run_ok((const char *const[]){"cat", NULL}, &o, &r);
    assert_int_equal(r.out_len, sizeof(big));
    slio_exec_result_free(&r);

    /* a child that never reads its stdin: no SIGPIPE for us */
    run_ok((const char *const[]){"true", NULL}, &o, &r);
    assert_true(slio_exec_succeeded(&r));
    slio_exec_result_free(&r);

    /* no stdin: /dev/null */
    run_ok((const char *const[]){"cat", NULL}, NULL, &r);
    assert_string_equal(r.out, "");
}

static void test_start_failures(void **state)
{
    struct slio_exec_result r = {.exit_code = 77};
    struct slio_err err = {{0}};

    assert_int_equal(slio_exec((const char *const[]){"/nonexistent/cmd", NULL}, NULL, &r, &err),
                     -ENOENT);
    assert_non_null(strstr(err.text, "/nonexistent/cmd"));
    assert_int_equal(slio_exec((const char *const[]){"no-such-command-slio", NULL}, NULL, &r, &err),
                     -ENOENT);
    /* not executable at all, and executable but not a program */
    char path[] = "/tmp/slio-exec-noexec-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\x01\x02garbage", 9), 9);
    close(fd);
    chmod(path, 0644);
    assert_int_equal(slio_exec((const char *const[]){path, NULL}, NULL, &r, &err), -EACCES);
    chmod(path, 0755);
    assert_int_equal(slio_exec((const char *const[]){path, NULL}, NULL, &r, &err), -ENOEXEC);
    unlink(path);
    assert_int_equal(slio_exec((const char *const[]){NULL}, NULL, &r, &err), -EINVAL);
    assert_int_equal(slio_exec((const char *const[]){"", NULL}, NULL, &r, &err), -EINVAL);
    assert_int_equal(r.exit_code, 77);
}

static void test_format_argv(void **state)
{
    char buf[64];

    assert_string_equal(slio_exec_format_argv((const char *const[]){"lvs", "-o", "a b", "", NULL},
                                              buf, sizeof(buf)),
                        "lvs -o 'a b' ''");
    const char *const longv[] = {"aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb",
                                 "cccccccccccccccccccc", "dddddddddddddddddddd", NULL};
    slio_exec_format_argv(longv, buf, sizeof(buf));
    assert_true(strlen(buf) < sizeof(buf));
    assert_non_null(strstr(buf, " ..."));
}

static char recording[] = "/tmp/slio-exec-replay-XXXXXX";

static void write_recording(const char *text)
{
    int fd = mkstemp(recording);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_replay(void **state)
{
    _cleanup_exec_result_ struct slio_exec_result r = {0};
    struct slio_err err = {{0}};
    const char *const lvs[] = {"lvs", "--reportformat", "json", NULL};

    write_recording("{\"calls\": ["
                    " {\"argv\": [\"lvs\", \"--reportformat\", \"json\"], \"stdout\": \"before\"},"
                    " {\"argv\": [\"lvcreate\", \"-n\", \"v1\"], \"stderr\": \"ok\", \"exit\": 0},"
                    " {\"argv\": [\"lvs\", \"--reportformat\", \"json\"], \"stdout\": \"after\"},"
                    " {\"argv\": [\"lvremove\", \"v9\"], \"stderr\": \"not found\", \"exit\": 5},"
                    " {\"argv\": [\"hang\"], \"signal\": 15, \"timed_out\": true},"
                    " {\"argv\": [\"tee\"], \"stdin\": \"data\", \"stdout\": \"data\"}"
                    "]}");
    assert_int_equal(slio_exec_set_replay(recording, &err), 0);
    unlink(recording);

    run_ok(lvs, NULL, &r);
    assert_string_equal(r.out, "before");
    slio_exec_result_free(&r);
    run_ok((const char *const[]){"lvcreate", "-n", "v1", NULL}, NULL, &r);
    assert_string_equal(r.err, "ok");
    assert_true(slio_exec_succeeded(&r));
    slio_exec_result_free(&r);
    for (int i = 0; i < 2; i++) { /* the last match keeps answering */
        run_ok(lvs, NULL, &r);
        assert_string_equal(r.out, "after");
        slio_exec_result_free(&r);
    }
    run_ok((const char *const[]){"lvremove", "v9", NULL}, NULL, &r);
    assert_int_equal(r.exit_code, 5);
    assert_string_equal(r.err, "not found");
    slio_exec_result_free(&r);
    run_ok((const char *const[]){"hang", NULL}, NULL, &r);
    assert_true(r.timed_out);
    assert_int_equal(r.signal, 15);
    assert_int_equal(r.exit_code, -1);
    slio_exec_result_free(&r);
    struct slio_exec_opts o = {.stdin_data = "data", .stdin_len = 4, .max_output = 2};
    run_ok((const char *const[]){"tee", NULL}, &o, &r);
    assert_string_equal(r.out, "da");
    assert_true(r.out_truncated);
    slio_exec_result_free(&r);

    /* misses: other argv, an argv prefix, a longer argv, other stdin */
    r.exit_code = 42;
    assert_int_equal(slio_exec((const char *const[]){"lvs", "-a", NULL}, NULL, &r, &err), -ENOENT);
    assert_string_equal(err.text, "exec replay: no recording for argv [lvs -a]");
    assert_int_equal(
        slio_exec((const char *const[]){"lvs", "--reportformat", NULL}, NULL, &r, &err), -ENOENT);
    assert_int_equal(slio_exec((const char *const[]){"hang", "x", NULL}, NULL, &r, &err), -ENOENT);
    o.stdin_data = "other";
    o.stdin_len = 5;
    assert_int_equal(slio_exec((const char *const[]){"tee", NULL}, &o, &r, &err), -ENOENT);
    /* nothing real runs while replaying */
    assert_int_equal(slio_exec((const char *const[]){"/bin/true", NULL}, NULL, &r, &err), -ENOENT);
    assert_int_equal(r.exit_code, 42);

    assert_int_equal(slio_exec_set_replay(NULL, &err), 0);
    run_ok((const char *const[]){"/bin/true", NULL}, NULL, &r);
}

static void test_replay_bad_recordings(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"[]", "expected {\"calls\": [...]}"},
        {"{\"calls\": [], \"x\": 1}", "expected {\"calls\": [...]}"},
        {"{\"calls\": [{\"stdout\": \"x\"}]}", "calls[0]: field 'argv': missing"},
        {"{\"calls\": [{\"argv\": []}]}", "calls[0]: field 'argv': expected a non-empty array"},
        {"{\"calls\": [{\"argv\": [\"a\", 1]}]}", "calls[0]: field 'argv[1]': expected string"},
        {"{\"calls\": [{\"argv\": [\"a\"], \"exit\": 256}]}", "field 'exit': 256 is out of range"},
        {"{\"calls\": [{\"argv\": [\"a\"], \"exitcode\": 1}]}", "unknown field 'exitcode'"},
        {"{\"calls\": [{\"argv\": [\"a\"]}", "line 1"},
    };
    struct slio_err err = {{0}};

    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        memcpy(recording, "/tmp/slio-exec-replay-XXXXXX", sizeof(recording));
        write_recording(bad[i].text);
        int r = slio_exec_set_replay(recording, &err);
        unlink(recording);
        if (r != -EINVAL || !strstr(err.text, bad[i].msg))
            fail_msg("%s: got %d \"%s\"", bad[i].text, r, err.text);
    }
    assert_int_equal(slio_exec_set_replay("/nonexistent.json", &err), -ENOENT);
    /* replay stayed off */
    _cleanup_exec_result_ struct slio_exec_result r = {0};
    run_ok((const char *const[]){"/bin/true", NULL}, NULL, &r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_true_false),
        cmocka_unit_test(test_output),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_output_cap),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_start_failures),
        cmocka_unit_test(test_format_argv),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_replay_bad_recordings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
