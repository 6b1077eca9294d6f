/* SPDX-License-Identifier: Apache-2.0 */
/* slioctl's command line: commands by their words, flags anywhere, refusals that say why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

struct parsed {
    struct cli_opts o;
    const struct cli_command *cmd;
    struct slio_err err;
    int rc;
};

static struct parsed parse(const char *first, ...)
{
    char *argv[32] = {"slioctl"};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    struct parsed p = {0};
    p.rc = cli_parse(argc, argv, &p.o, &p.cmd, &p.err);
    return p;
}

static void done(struct parsed *p)
{
    free(p->o.args_mem);
}

static void test_get_with_flags_anywhere(void **state)
{
    struct parsed p = parse("-o", "wide", "get", "volumes", "--node", "n1", "pvc-1", "--limit", "5",
                            "--chunk-size", "2", "--server", "http://a,http://b", NULL);
    assert_int_equal(p.rc, CLI_OK);
    assert_ptr_equal(p.cmd, &cli_cmd_get);
    assert_int_equal(p.o.n_args, 2);
    assert_string_equal(p.o.args[0], "volumes");
    assert_string_equal(p.o.args[1], "pvc-1");
    assert_int_equal(p.o.output, CLI_OUT_WIDE);
    assert_string_equal(p.o.node, "n1");
    assert_int_equal(p.o.limit, 5);
    assert_int_equal(p.o.chunk_size, 2);
    assert_string_equal(p.o.server, "http://a,http://b");
    done(&p);
}

static void test_two_word_commands(void **state)
{
    struct parsed p =
        parse("create", "volume", "v1", "--size", "1.5Gi", "--thin", "--position", "prefer_local",
              "--spread-group", "g", "--spread-level", "rack", "--qos-iops", "100", NULL);
    assert_int_equal(p.rc, CLI_OK);
    assert_ptr_equal(p.cmd, &cli_cmd_create_volume);
    assert_int_equal(p.o.n_args, 1);
    assert_string_equal(p.o.args[0], "v1");
    assert_int_equal(p.o.size, 1610612736ull);
    assert_true(p.o.thin);
    assert_string_equal(p.o.spread_level, "rack");
    assert_int_equal(p.o.qos_iops, 100);
    done(&p);
    p = parse("snapshot", "create", "s1", "--volume", "v1", NULL);
    assert_ptr_equal(p.cmd, &cli_cmd_snapshot_create);
    assert_string_equal(p.o.volume, "v1");
    done(&p);
    p = parse("drain", "pool", "n1/vg0", NULL);
    assert_ptr_equal(p.cmd, &cli_cmd_drain);
    done(&p);
    p = parse("top", "pools", "--interval", "250ms", NULL);
    assert_int_equal(p.rc, CLI_OK);
    assert_int_equal(p.o.interval_ms, 250);
    done(&p);
}

static void test_version_needs_no_command(void **state)
{
    struct parsed p = parse("--version", NULL);
    assert_true(p.o.version);
    assert_null(p.cmd); /* main prints the version instead of the missing command's error */
    done(&p);
    p = parse("get", "volumes", "--version", NULL);
    assert_int_equal(p.rc, CLI_OK);
    assert_true(p.o.version);
    done(&p);
}

static void test_help_needs_no_arguments(void **state)
{
    struct parsed p = parse("describe", "--help", NULL);
    assert_int_equal(p.rc, CLI_OK);
    assert_true(p.o.help);
    assert_ptr_equal(p.cmd, &cli_cmd_describe);
    done(&p);
    size_t n;
    const struct cli_command *const *cmds = cli_commands(&n);
    assert_int_equal(n, 19);
    for (size_t i = 0; i < n; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cli_print_help(f, "slioctl", cmds[i]);
        fclose(f);
        assert_non_null(strstr(buf, cmds[i]->words));
        assert_non_null(strstr(buf, "--server"));
        free(buf);
    }
}

static void expect_usage(const char *want, struct parsed p)
{
    assert_int_equal(p.rc, CLI_USAGE);
    if (!strstr(p.err.text, want))
        fail_msg("\"%s\" not in \"%s\"", want, p.err.text);
    done(&p);
}

static void test_refusals(void **state)
{
    expect_usage("no command given", parse(NULL));
    expect_usage("unknown command \"frob\"", parse("frob", NULL));
    expect_usage("unknown command \"create\"", parse("create", "snapshot", "x", NULL));
    expect_usage("expected 1 to 2 arguments, got 0", parse("get", NULL));
    expect_usage("expected 2 to 2 arguments, got 1", parse("describe", "volume", NULL));
    expect_usage("--size is not a flag of this command", parse("get", "v", "--size", "1", NULL));
    expect_usage("--thin is not a flag", parse("expand", "volume", "v", "--thin", NULL));
    expect_usage("-o: \"xml\" is not one of", parse("get", "v", "-o", "xml", NULL));
    expect_usage("--size: \"ten\" is not a size",
                 parse("create", "volume", "v", "--size", "ten", NULL));
    expect_usage("--size: \"0\" is not a size",
                 parse("create", "volume", "v", "--size", "0", NULL));
    expect_usage("--chunk-size: \"1001\" is not an integer in [1, 1000]",
                 parse("get", "v", "--chunk-size", "1001", NULL));
    expect_usage("--limit: \"-1\"", parse("get", "v", "--limit", "-1", NULL));
    expect_usage("--qos-iops: \"1k\"", parse("create", "volume", "v", "--qos-iops", "1k", NULL));
    expect_usage("--interval: \"5\" is not a duration",
                 parse("top", "volumes", "--interval", "5", NULL));
    expect_usage("--bogus: unknown flag", parse("get", "v", "--bogus", NULL));
    expect_usage("unknown flag or missing value", parse("get", "v", "-o", NULL));
}

static void test_exit_codes(void **state)
{
    assert_int_equal(cli_exit_for_status(400, "invalid_argument"), CLI_USAGE);
    assert_int_equal(cli_exit_for_status(404, "not_found"), CLI_NOT_FOUND);
    assert_int_equal(cli_exit_for_status(409, "conflict"), CLI_CONFLICT);
    assert_int_equal(cli_exit_for_status(401, "unauthenticated"), CLI_UNAVAILABLE);
    assert_int_equal(cli_exit_for_status(403, "forbidden"), CLI_UNAVAILABLE);
    assert_int_equal(cli_exit_for_status(503, "not_leader"), CLI_UNAVAILABLE);
    assert_int_equal(cli_exit_for_status(422, "unschedulable"), CLI_UNSCHEDULABLE);
    assert_int_equal(cli_exit_for_status(500, "internal"), CLI_FAILED);
    /* no body or an unknown code: the status decides */
    assert_int_equal(cli_exit_for_status(404, NULL), CLI_NOT_FOUND);
    assert_int_equal(cli_exit_for_status(409, "brand_new"), CLI_CONFLICT);
    assert_int_equal(cli_exit_for_status(502, NULL), CLI_UNAVAILABLE);
    assert_int_equal(cli_exit_for_status(500, NULL), CLI_FAILED);
    assert_int_equal(cli_exit_for_status(418, NULL), CLI_FAILED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_with_flags_anywhere),
        cmocka_unit_test(test_two_word_commands),
        cmocka_unit_test(test_version_needs_no_command),
        cmocka_unit_test(test_help_needs_no_arguments),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
