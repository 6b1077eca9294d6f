/* SPDX-License-Identifier: Apache-2.0 */
/* Where slioctl finds the controller and the token: flag > environment > config file > default. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"

static char dir[] = "/tmp/slioctl-config-XXXXXX";

static void write_file(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *path(const char *name)
{
    static char p[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
    return p[i];
}

static int setup(void **state)
{
    assert_non_null(mkdtemp(dir));
    setenv("HOME", dir, 1);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("SLIOCTL_SERVER");
    unsetenv("SLIOCTL_TOKEN_FILE");
    unsetenv("SLIOCTL_CONFIG");
    unsetenv("SLIOCTL_METRICS_TOKEN_FILE");
    unsetenv("SLIOCTL_CA_FILE");
    write_file("tok", "secret-token\n\n");
    write_file("tok2", "other\n");
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_default_server_no_token(void **state)
{
    struct cli_opts o = {0};
    struct cli_conn c;
    assert_int_equal(cli_conn_resolve(&o, &c, NULL), 0);
    assert_int_equal(c.n_urls, 1);
    assert_string_equal(c.urls[0], "http://127.0.0.1:8360");
    assert_null(c.token);
    cli_conn_clear(&c);
}

static void test_precedence(void **state)
{
    char cfg[512];
    mkdir(path(".config"), 0700);
    mkdir(path(".config/slioctl"), 0700);
    snprintf(cfg, sizeof(cfg), "server: [\"http://f1:1\", \"http://f2:2\"]\ntoken_file: %s\n",
             path("tok2"));
    write_file(".config/slioctl/config.yaml", cfg);
    struct cli_opts o = {0};
    struct cli_conn c;
    /* the file alone */
    assert_int_equal(cli_conn_resolve(&o, &c, NULL), 0);
    assert_int_equal(c.n_urls, 2);
    assert_string_equal(c.urls[1], "http://f2:2");
    assert_string_equal(c.token, "other");
    cli_conn_clear(&c);
    /* the environment beats the file */
    setenv("SLIOCTL_SERVER", "http://e:1", 1);
    setenv("SLIOCTL_TOKEN_FILE", path("tok"), 1);
    assert_int_equal(cli_conn_resolve(&o, &c, NULL), 0);
    assert_int_equal(c.n_urls, 1);
    assert_string_equal(c.urls[0], "http://e:1");
    assert_string_equal(c.token, "secret-token");
    cli_conn_clear(&c);
    /* flags beat both */
    o.server = "http://x:1,http://y:2";
    o.token_file = path("tok2");
    assert_int_equal(cli_conn_resolve(&o, &c, NULL), 0);
    assert_int_equal(c.n_urls, 2);
    assert_string_equal(c.urls[0], "http://x:1");
    assert_string_equal(c.token, "other");
    cli_conn_clear(&c);
    unsetenv("SLIOCTL_SERVER");
    unsetenv("SLIOCTL_TOKEN_FILE");
    unlink(path(".config/slioctl/config.yaml"));
}

/* The agents' token is a setting of its own: never the controller token, same precedence. */
static void test_metrics_token(void **state)
{
    char cfg[512];
    snprintf(cfg, sizeof(cfg), "token_file: %s\nmetrics_token_file: %s\nca_file: /etc/ca.pem\n",
             path("tok"), path("tok2"));
    write_file("m.yaml", cfg);
    struct cli_opts o = {.token_file = path("tok")};
    struct cli_conn c;
    assert_int_equal(cli_conn_resolve(&o, &c, NULL), 0);
    assert_string_equal(c.token, "secret-token");
    assert_null(c.metrics_token); /* not the controller's token */
    cli_conn_clear(&c);
    o.config = path("m.yaml");
    assert_int_equal(cli_conn_resolve(&o, &c, NULL), 0);
    assert_string_equal(c.metrics_token, "other");
    assert_string_equal(c.ca_file, "/etc/ca.pem");
    cli_conn_clear(&c);
    setenv("SLIOCTL_METRICS_TOKEN_FILE", path("tok"), 1);
    assert_int_equal(cli_conn_resolve(&o, &c, NULL), 0);
    assert_string_equal(c.metrics_token, "secret-token");
    cli_conn_clear(&c);
    o.metrics_token_file = path("tok2");
    assert_int_equal(cli_conn_resolve(&o, &c, NULL), 0);
    assert_string_equal(c.metrics_token, "other");
    cli_conn_clear(&c);
    unsetenv("SLIOCTL_METRICS_TOKEN_FILE");
}

static void expect_error(const struct cli_opts *o, const char *want)
{
    struct cli_conn c;
    struct slio_err err = {{0}};
    assert_true(cli_conn_resolve(o, &c, &err) < 0);
    if (!strstr(err.text, want))
        fail_msg("\"%s\" not in \"%s\"", want, err.text);
}

static void test_refusals(void **state)
{
    write_file("empty.tok", "\n \n");
    write_file("bad.yaml", "server: [1]\n");
    write_file("unknown.yaml", "servers: http://a\n");
    expect_error(&(struct cli_opts){.server = "http://a,,http://b"}, "has an empty URL");
    expect_error(&(struct cli_opts){.token_file = path("empty.tok")}, "empty or not text");
    expect_error(&(struct cli_opts){.token_file = path("missing")}, "missing");
    expect_error(&(struct cli_opts){.metrics_token_file = path("empty.tok")}, "empty or not text");
    expect_error(&(struct cli_opts){.config = path("bad.yaml")}, "server[0]");
    expect_error(&(struct cli_opts){.config = path("unknown.yaml")}, "servers");
    expect_error(&(struct cli_opts){.config = path("nope.yaml")}, "nope.yaml");
}

static void test_split_urls(void **state)
{
    char **u;
    size_t n;
    assert_int_equal(cli_split_urls("a,b,c", &u, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(u[2], "c");
    assert_null(u[3]);
    for (size_t i = 0; i < n; i++)
        free(u[i]);
    free(u);
    assert_int_equal(cli_split_urls("a,", &u, &n), -EINVAL);
    assert_int_equal(cli_split_urls("", &u, &n), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_server_no_token),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_metrics_token),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_split_urls),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
