/* SPDX-License-Identifier: Apache-2.0 */
/* Tokens: loading, scopes, 401 against 403. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"

static struct auth a;

static int setup(void **state)
{
    memset(&a, 0, sizeof(a));
    assert_int_equal(auth_set_token(&a, AUTH_ADMIN, "admin-0123456789abcdef", NULL), 0);
    assert_int_equal(auth_set_token(&a, AUTH_CSI, "csi-0123456789abcdef", NULL), 0);
    assert_int_equal(auth_set_token(&a, AUTH_AGENT, "agent-0123456789abcdef", NULL), 0);
    assert_int_equal(auth_set_token(&a, AUTH_READONLY, "ro-0123456789abcdef", NULL), 0);
    return 0;
}

static void test_scopes(void **state)
{
    static const struct {
        const char *token;
        int need[5]; /* NEED_PUBLIC, READ, CLIENT, AGENT, ADMIN */
    } rows[] = {
        {"admin-0123456789abcdef", {0, 0, 0, 0, 0}},
        {"csi-0123456789abcdef", {0, 0, 0, -EPERM, -EPERM}},
        {"agent-0123456789abcdef", {0, 0, -EPERM, 0, -EPERM}},
        {"ro-0123456789abcdef", {0, 0, -EPERM, -EPERM, -EPERM}},
        {"nobody-0123456789abcdef", {0, -EACCES, -EACCES, -EACCES, -EACCES}},
        {NULL, {0, -EACCES, -EACCES, -EACCES, -EACCES}},
        {"", {0, -EACCES, -EACCES, -EACCES, -EACCES}},
        {"admin-0123456789abcde", {0, -EACCES, -EACCES, -EACCES, -EACCES}}, /* a prefix */
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(rows); i++)
        for (int n = NEED_PUBLIC; n <= NEED_ADMIN; n++) {
            struct slio_err err = {{0}};
            int r = auth_check(&a, rows[i].token, (enum auth_need)n, &err);
            if (r != rows[i].need[n])
                fail_msg("token %s need %d: %d, want %d", rows[i].token, n, r, rows[i].need[n]);
            if (r == -EPERM)
                assert_non_null(strstr(err.text, "may not do this"));
        }
}

static void test_bad_tokens(void **state)
{
    struct auth b = {0};
    struct slio_err err = {{0}};
    assert_int_equal(auth_set_token(&b, AUTH_ADMIN, "short", &err), -EINVAL);
    assert_non_null(strstr(err.text, "admin"));
    assert_int_equal(auth_set_token(&b, AUTH_ADMIN, "with space 0123456789", &err), -EINVAL);
    assert_int_equal(auth_set_token(&b, AUTH_ADMIN, "same-0123456789abcdef", NULL), 0);
    assert_int_equal(auth_set_token(&b, AUTH_CSI, "same-0123456789abcdef", &err), -EINVAL);
    assert_non_null(strstr(err.text, "share one token"));
    /* An unset scope never matches, not even an empty digest. */
    assert_int_equal(auth_check(&b, "x-0123456789abcdefxx", NEED_READ, NULL), -EACCES);
}

static void test_load_files(void **state)
{
    char dir[] = "/tmp/slio-auth-XXXXXX", p1[64], p2[64];
    assert_non_null(mkdtemp(dir));
    snprintf(p1, sizeof(p1), "%s/admin", dir);
    snprintf(p2, sizeof(p2), "%s/agent", dir);
    FILE *f = fopen(p1, "w");
    fputs("file-admin-0123456789abcdef\n\n", f);
    fclose(f);
    f = fopen(p2, "w");
    fputs("\n", f);
    fclose(f);
    struct auth b;
    struct slio_err err = {{0}};
    const char *paths[AUTH__SCOPES] = {p1, NULL, NULL, NULL};
    assert_int_equal(auth_load(&b, paths, &err), 0);
    assert_int_equal(auth_check(&b, "file-admin-0123456789abcdef", NEED_ADMIN, NULL), 0);
    const char *empty[AUTH__SCOPES] = {p1, NULL, p2, NULL};
    assert_int_equal(auth_load(&b, empty, &err), -EINVAL);
    assert_non_null(strstr(err.text, p2));
    const char *missing[AUTH__SCOPES] = {"/nonexistent/token", NULL, NULL, NULL};
    assert_int_equal(auth_load(&b, missing, &err), -ENOENT);
    unlink(p1);
    unlink(p2);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_scopes, setup),
        cmocka_unit_test(test_bad_tokens),
        cmocka_unit_test(test_load_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
