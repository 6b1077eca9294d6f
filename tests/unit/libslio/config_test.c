/* SPDX-License-Identifier: Apache-2.0 */
/* libslio/config.c: YAML → json_t typing, the refusals (aliases, duplicates, limits), file loading.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "slio/config.h"
#include "slio/json.h"

static json_t *yaml(const char *text)
{
    struct slio_err err = {{0}};
    json_t *j = NULL;

    int r = slio_config_load_yaml(text, strlen(text), NULL, &j, &err);
    if (r < 0)
        fail_msg("%s: %d %s", text, r, err.text);
    return j;
}

static void expect_json(const char *text, const char *want)
{
    _cleanup_json_ json_t *j = yaml(text);
    _cleanup_free_ char *s = slio_json_dump(j, JSON_SORT_KEYS);
    if (strcmp(s, want) != 0)
        fail_msg("%s: got %s, want %s", text, s, want);
}

static void test_typing(void **state)
{
    expect_json(
        "name: tgt0\nport: 4420\nratio: 1.5\nenabled: true\nnothing: null\n",
        "{\"enabled\":true,\"name\":\"tgt0\",\"nothing\":null,\"port\":4420,\"ratio\":1.5}");
    expect_json("a: [1, -2, +3, 0x1f, 0o17, 012]", "{\"a\":[1,-2,3,31,15,12]}");
    expect_json("a: [~, null, Null, NULL, \"\", '']", "{\"a\":[null,null,null,null,\"\",\"\"]}");
    expect_json("a: [True, FALSE, yes, no, on, off, y]",
                "{\"a\":[true,false,\"yes\",\"no\",\"on\",\"off\",\"y\"]}");
    /* quoted and block scalars stay strings; so does anything tagged !!str */
    expect_json("a: ['1', \"true\", !!str 5, \"null\"]\nb: |\n  12\n",
                "{\"a\":[\"1\",\"true\",\"5\",\"null\"],\"b\":\"12\\n\"}");
    expect_json(
        "size: 10Gi\ntimeout: 30s\nv: 1.2.3\nx: 0x\nm: a-\n",
        "{\"m\":\"a-\",\"size\":\"10Gi\",\"timeout\":\"30s\",\"v\":\"1.2.3\",\"x\":\"0x\"}");
    expect_json("f: [1e3, .5, -2.5E-1, 1.]", "{\"f\":[1000.0,0.5,-0.25,1.0]}");
    expect_json("nested:\n  list:\n    - {k: v}\n    - [1, [2]]\n  empty: {}\n",
                "{\"nested\":{\"empty\":{},\"list\":[{\"k\":\"v\"},[1,[2]]]}}");
    expect_json("1: one\ntrue: t\n", "{\"1\":\"one\",\"true\":\"t\"}"); /* keys are text */
    expect_json("", "{}");
    expect_json("# only a comment\n", "{}");
    expect_json("---\nk: v\n...\n", "{\"k\":\"v\"}");
    expect_json("[1, 2]", "[1,2]");
    expect_json("\"caf\\u00e9\": \"\\t\"", "{\"café\":\"\\t\"}");
    _cleanup_json_ json_t *n = yaml("~");
    assert_true(json_is_null(n));
}

static void expect_error(const char *text, int want, const char *msg,
                         const struct slio_config_limits *lim)
{
    struct slio_err err = {{0}};
    json_t *j = (json_t *)0x1;

    int r = slio_config_load_yaml(text, strlen(text), lim, &j, &err);
    if (r != want || !strstr(err.text, msg))
        fail_msg("%s: got %d \"%s\", want %d \"%s\"", text, r, err.text, want, msg);
    assert_ptr_equal(j, (json_t *)0x1);
}

static void test_refusals(void **state)
{
    expect_error("a: 1\nb: 2\na: 3\n", -EINVAL, "line 3 column 1: duplicate key 'a'", NULL);
    expect_error("x:\n  a: 1\n  a: 1\n", -EINVAL, "line 3 column 3: duplicate key 'a'", NULL);
    expect_error("a: &x 1\nb: *x\n", -EINVAL, "line 1 column 4: anchors are not allowed", NULL);
    expect_error("b: *x\n", -EINVAL, "", NULL);
    expect_error("a: &x [1]\n", -EINVAL, "anchors are not allowed", NULL);
    /* billion laughs never gets past the first anchor */
    expect_error("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a]\nc: [*b,*b,*b,*b]\n", -EINVAL,
                 "anchors are not allowed", NULL);
    expect_error("a: !!int 5\n", -EINVAL, "tags other than !!str", NULL);
    expect_error("a: !custom x\n", -EINVAL, "tags other than !!str", NULL);
    expect_error("a: !!map {}\n", -EINVAL, "tags are not supported", NULL);
    expect_error("? [a]\n: 1\n", -EINVAL, "keys must be scalars", NULL);
    expect_error("? {a: 1}\n: 1\n", -EINVAL, "keys must be scalars", NULL);
    expect_error("a: 1\n---\nb: 2\n", -EINVAL, "line 2 column 1: more than one document", NULL);
    expect_error("a: .inf\n", -EINVAL, "infinity and NaN", NULL);
    expect_error("a: -.Inf\n", -EINVAL, "infinity and NaN", NULL);
    expect_error("a: .nan\n", -EINVAL, "infinity and NaN", NULL);
    expect_error("a: 1e999\n", -EINVAL, "number out of range", NULL);
    expect_error("a: 99999999999999999999\n", -EINVAL, "integer out of the 64-bit range", NULL);
    expect_error("a: 18446744073709551616\n", -EINVAL, "64-bit range", NULL);
    expect_error("a: 0xffffffffffffffff\n", -EINVAL, "64-bit range", NULL);
    expect_error("a: \"x\\0y\"\n", -EINVAL, "NUL character", NULL);
    expect_error("\"k\\0\": 1\n", -EINVAL, "NUL character in a key", NULL);
    expect_error("a: [1, 2\n", -EINVAL, "line 2 column 1", NULL);
    expect_error("a: b: c\n", -EINVAL, "line 1 column 5: mapping values are not allowed", NULL);
    expect_error("a:\n\tb: 1\n", -EINVAL, "line 2", NULL);
    expect_error("a: 'unterminated\n", -EINVAL, "line 2", NULL);

    struct slio_config_limits lim = {.max_depth = 3}, lim2 = {.max_depth = 2};
    expect_error("a: {b: {c: 1}}", -EINVAL, "nested too deeply", &lim2);
    expect_error("[[[[1]]]]", -EINVAL, "line 1 column 4: nested too deeply", &lim);
    lim = (struct slio_config_limits){.max_nodes = 5};
    expect_error("[1, 2, 3, 4, 5]", -EINVAL, "too many nodes", &lim);
    lim = (struct slio_config_limits){.max_bytes = 4};
    expect_error("a: 12", -EMSGSIZE, "limit of 4", &lim);

    /* within the limits is fine */
    struct slio_err err = {{0}};
    json_t *j = NULL;
    lim = (struct slio_config_limits){.max_nodes = 5, .max_depth = 1};
    assert_int_equal(slio_config_load_yaml("[1, 2, 3, 4]", 12, &lim, &j, &err), 0);
    json_decref(j);

    /* deep nesting under the default limit is refused, not a stack overflow */
    static char deep[20001];
    memset(deep, '[', sizeof(deep) - 1);
    expect_error(deep, -EINVAL, "nested too deeply", NULL);
    /* embedded NUL in the input buffer */
    assert_int_equal(slio_config_load_yaml("a: 1\0b: 2", 9, NULL, &j, &err), -EINVAL);
}

static char *write_tmp(const char *suffix, const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/slio-config-XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void load_file(const char *suffix, const char *text, int want, const char *out)
{
    struct slio_err err = {{0}};
    json_t *j = NULL;
    char *path = write_tmp(suffix, text);

    int r = slio_config_load_file(path, NULL, &j, &err);
    unlink(path);
    if (r != want)
        fail_msg("%s%s: got %d (%s), want %d", text, suffix, r, err.text, want);
    if (r == 0) {
        _cleanup_free_ char *s = slio_json_dump(j, JSON_SORT_KEYS);
        assert_string_equal(s, out);
        json_decref(j);
    } else {
        assert_non_null(strstr(err.text, path)); /* the file is named */
        assert_non_null(strstr(err.text, out));
    }
}

static void test_files(void **state)
{
    load_file(".yaml", "a: 1\n", 0, "{\"a\":1}");
    load_file(".yml", "a: [x]\n", 0, "{\"a\":[\"x\"]}");
    load_file(".json", "{\"a\": 1}", 0, "{\"a\":1}");
    load_file(".conf", "  \n{\"a\": 1}", 0, "{\"a\":1}"); /* sniffed as JSON */
    load_file("", "a: 1", 0, "{\"a\":1}");                /* sniffed as YAML */
    load_file(".json", "a: 1", -EINVAL, "line 1");        /* YAML in a .json file */
    load_file(".json", "{\"a\":1,\"a\":2}", -EINVAL, "duplicate");
    load_file(".yaml", "a: 1\na: 2\n", -EINVAL, "duplicate key 'a'");

    struct slio_err err = {{0}};
    json_t *j = NULL;
    assert_int_equal(slio_config_load_file("/nonexistent.yaml", NULL, &j, &err), -ENOENT);
    assert_non_null(strstr(err.text, "\"/nonexistent.yaml\": No such file"));
    char *path = write_tmp(".yaml", "a: 123456789\n");
    struct slio_config_limits lim = {.max_bytes = 8};
    assert_int_equal(slio_config_load_file(path, &lim, &j, &err), -EFBIG);
    unlink(path);
}

/* The point of the shape: one decoder table validates YAML config and JSON bodies alike. */
struct listener {
    const char *addr;
    uint32_t port;
    uint64_t timeout_us;
};

static void test_shared_schema(void **state)
{
    static const struct slio_json_field fields[] = {
        SLIO_JSON_FIELD(struct listener, addr, "addr", SLIO_JSON_STRING, .required = true),
        SLIO_JSON_FIELD(struct listener, port, "port", SLIO_JSON_U32, .max = 65535),
        SLIO_JSON_FIELD(struct listener, timeout_us, "timeout", SLIO_JSON_DURATION),
    };
    struct listener a = {0}, b = {0};
    struct slio_err err = {{0}};
    _cleanup_json_ json_t *y = yaml("addr: 10.0.0.1\nport: 4420\ntimeout: 30s\n");
    _cleanup_json_ json_t *j = NULL;

    static const char body[] = "{\"addr\":\"10.0.0.1\",\"port\":4420,\"timeout\":\"30s\"}";
    assert_int_equal(slio_json_loadb(body, strlen(body), 1024, &j, &err), 0);
    assert_int_equal(SLIO_JSON_DECODE(y, fields, &a, 0, &err), 0);
    assert_int_equal(SLIO_JSON_DECODE(j, fields, &b, 0, &err), 0);
    assert_string_equal(a.addr, b.addr);
    assert_int_equal(a.port, b.port);
    assert_int_equal(a.timeout_us, 30000000);
    assert_int_equal(b.timeout_us, 30000000);

    _cleanup_json_ json_t *quoted = yaml("addr: x\nport: '4420'\n");
    assert_int_equal(SLIO_JSON_DECODE(quoted, fields, &a, 0, &err), -EINVAL);
    assert_string_equal(err.text, "field 'port': expected integer, got string");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typing),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_shared_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
