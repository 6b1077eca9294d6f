/* SPDX-License-Identifier: Apache-2.0 */
/* libslio/json.c: bounded loading with positions, the field-table decoder and its error texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slio/json.h"
#include "slio/uuid.h"

struct qos {
    uint64_t rw_ios_per_sec;
    uint64_t burst_us;
};

struct bdev_req {
    const char *name;
    char *comment;
    uint64_t size;
    uint32_t block_size;
    uint16_t port;
    bool read_only;
    int64_t offset;
    int level;
    int kind;
    uuid_t uuid;
    struct qos qos;
    json_t *extra;
    int custom;
};

static const char *const kinds[] = {"aio", "malloc", "lvol", NULL};

static const struct slio_json_field qos_fields[] = {
    SLIO_JSON_FIELD(struct qos, rw_ios_per_sec, "rw_ios_per_sec", SLIO_JSON_U64, .max = 1000000),
    SLIO_JSON_FIELD(struct qos, burst_us, "burst", SLIO_JSON_DURATION, .max = 10000000),
};

static int decode_even(const json_t *v, void *member, struct slio_err *err)
{
    if (!json_is_integer(v) || json_integer_value(v) % 2 != 0) {
        slio_err_set(err, "expected an even integer");
        return -EINVAL;
    }
    *(int *)member = (int)json_integer_value(v);
    return 0;
}

static const struct slio_json_field bdev_fields[] = {
    SLIO_JSON_FIELD(struct bdev_req, name, "name", SLIO_JSON_STRING, .required = true, .min = 1,
                    .max = 16),
    SLIO_JSON_FIELD(struct bdev_req, comment, "comment", SLIO_JSON_STRDUP),
    SLIO_JSON_FIELD(struct bdev_req, size, "size", SLIO_JSON_SIZE, .required = true, .min = 4096),
    SLIO_JSON_FIELD(struct bdev_req, block_size, "block_size", SLIO_JSON_U32, .min = 512,
                    .max = 4096),
    SLIO_JSON_FIELD(struct bdev_req, port, "port", SLIO_JSON_U16),
    SLIO_JSON_FIELD(struct bdev_req, read_only, "read_only", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct bdev_req, offset, "offset", SLIO_JSON_I64),
    SLIO_JSON_FIELD(struct bdev_req, level, "level", SLIO_JSON_INT, .min = -3, .max = 3),
    SLIO_JSON_FIELD(struct bdev_req, kind, "kind", SLIO_JSON_ENUM, .names = kinds),
    SLIO_JSON_FIELD(struct bdev_req, uuid, "uuid", SLIO_JSON_UUID),
    SLIO_JSON_FIELD(struct bdev_req, qos, "qos", SLIO_JSON_OBJECT, .fields = qos_fields,
                    .n_fields = SLIO_ARRAY_SIZE(qos_fields)),
    SLIO_JSON_FIELD(struct bdev_req, extra, "extra", SLIO_JSON_VALUE),
    SLIO_JSON_FIELD(struct bdev_req, custom, "even", SLIO_JSON_CUSTOM, .decode = decode_even),
};

static json_t *load(const char *text)
{
    json_t *j = NULL;
    struct slio_err err = {{0}};

    int r = slio_json_loadb(text, strlen(text), SLIO_JSON_MAX_DEFAULT, &j, &err);
    if (r < 0)
        fail_msg("load %s: %s", text, err.text);
    return j;
}

static void test_load(void **state)
{
    struct slio_err err = {{0}};
    json_t *j = (json_t *)0x1;

    _cleanup_json_ json_t *ok = load("{\"a\": [1, 2.5, null, true, \"x\"]}");
    assert_true(json_is_object(ok));
    _cleanup_json_ json_t *scalar = load("42");
    assert_true(json_is_integer(scalar));

    assert_int_equal(slio_json_loadb("{\"a\": 1,\n \"b\" 2}", 17, 100, &j, &err), -EINVAL);
    assert_non_null(strstr(err.text, "line 2 column"));
    assert_int_equal(slio_json_loadb("{\"a\":1,\"a\":2}", 13, 100, &j, &err), -EINVAL);
    assert_non_null(strstr(err.text, "duplicate"));
    assert_int_equal(slio_json_loadb("", 0, 100, &j, &err), -EINVAL);
    assert_int_equal(slio_json_loadb("{} x", 4, 100, &j, &err), -EINVAL);
    assert_int_equal(slio_json_loadb("{\"a\": \"\\u0000\"}", 15, 100, &j, &err), -EINVAL);
    assert_int_equal(slio_json_loadb("{\"a\"\0: 1}", 9, 100, &j, &err), -EINVAL);
    assert_int_equal(slio_json_loadb("[1,2,3]", 7, 6, &j, &err), -EMSGSIZE);
    assert_non_null(strstr(err.text, "limit of 6 bytes"));
    assert_int_equal(slio_json_loadb("99999999999999999999", 20, 100, &j, &err), -EINVAL);
    assert_ptr_equal(j, (json_t *)0x1);
    /* deep nesting is refused by jansson's own depth limit, not a crash */
    char deep[5000];
    memset(deep, '[', sizeof(deep));
    assert_int_equal(slio_json_loadb(deep, sizeof(deep), sizeof(deep), &j, &err), -EINVAL);
}

static void test_load_file_and_dump(void **state)
{
    char path[] = "/tmp/slio-json-test-XXXXXX";
    struct slio_err err = {{0}};
    json_t *j = NULL;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"k\": [1, \"v\"]}\n", 16), 16);
    close(fd);
    assert_int_equal(slio_json_load_file(path, 1024, &j, &err), 0);
    _cleanup_free_ char *s = slio_json_dump(j, 0);
    assert_string_equal(s, "{\"k\":[1,\"v\"]}");
    json_decref(j);
    assert_int_equal(slio_json_load_file(path, 10, &j, &err), -EFBIG);
    assert_non_null(strstr(err.text, path));
    unlink(path);
    assert_int_equal(slio_json_load_file(path, 1024, &j, &err), -ENOENT);
    assert_non_null(strstr(err.text, "No such file"));
    assert_null(slio_json_dump(NULL, 0));
}

static int decode(const char *text, struct bdev_req *req, unsigned flags, struct slio_err *err)
{
    _cleanup_json_ json_t *j = load(text);
    return SLIO_JSON_DECODE(j, bdev_fields, req, flags, err);
}

static void test_decode_ok(void **state)
{
    _cleanup_json_ json_t *j = load(
        "{\"name\": \"aio0\", \"comment\": \"hi\", \"size\": \"10Gi\", \"block_size\": 4096,"
        " \"port\": 4420, \"read_only\": true, \"offset\": -5, \"level\": -3, \"kind\": \"lvol\","
        " \"uuid\": \"0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b10\","
        " \"qos\": {\"rw_ios_per_sec\": 1000, \"burst\": \"1.5s\"}, \"extra\": [1], \"even\": 4}");
    struct bdev_req req = {.block_size = 512};
    struct slio_err err = {{0}};
    char u[SLIO_UUID_STR_LEN];

    assert_int_equal(SLIO_JSON_DECODE(j, bdev_fields, &req, 0, &err), 0);
    assert_string_equal(req.name, "aio0");
    assert_string_equal(req.comment, "hi");
    assert_true(req.size == 10ull << 30);
    assert_int_equal(req.block_size, 4096);
    assert_int_equal(req.port, 4420);
    assert_true(req.read_only);
    assert_int_equal(req.offset, -5);
    assert_int_equal(req.level, -3);
    assert_int_equal(req.kind, 2);
    assert_string_equal(slio_uuid_format(req.uuid, u), "0b6a7e3c-9c7e-4a43-8d8e-6f1f3c7a2b10");
    assert_int_equal(req.qos.rw_ios_per_sec, 1000);
    assert_int_equal(req.qos.burst_us, 1500000);
    assert_true(json_is_array(req.extra));
    assert_int_equal(req.custom, 4);
    slio_json_release_object(bdev_fields, SLIO_ARRAY_SIZE(bdev_fields), &req);
    assert_null(req.comment);

    /* optional fields keep their defaults; size as a plain integer */
    struct bdev_req def = {.block_size = 512, .level = 1};
    assert_int_equal(decode("{\"name\": \"m\", \"size\": 8192}", &def, 0, &err), 0);
    assert_int_equal(def.block_size, 512);
    assert_int_equal(def.level, 1);
    assert_int_equal(def.size, 8192);
}

static void expect_error(const char *text, const char *msg)
{
    struct bdev_req req = {.block_size = 512, .comment = NULL};
    struct bdev_req before = req;
    struct slio_err err = {{0}};

    int r = decode(text, &req, 0, &err);
    if (r != -EINVAL || strcmp(err.text, msg) != 0)
        fail_msg("%s: got %d \"%s\", want \"%s\"", text, r, err.text, msg);
    /* untouched on failure (the STRDUP'd comment was freed again: ASan would see a leak) */
    assert_memory_equal(&req, &before, sizeof(req));
}

static void test_decode_errors(void **state)
{
    expect_error("{\"size\": 4096}", "field 'name': missing");
    expect_error("{\"name\": 5, \"size\": 4096}", "field 'name': expected string, got integer");
    expect_error("{\"name\": \"\", \"size\": 4096}",
                 "field 'name': must be at least 1 characters long");
    expect_error("{\"name\": \"abcdefghijklmnopq\", \"size\": 4096}",
                 "field 'name': longer than 16 characters");
    expect_error("{\"name\": \"a\", \"size\": 4096, \"bogus\": 1}", "unknown field 'bogus'");
    expect_error("{\"name\": \"a\", \"comment\": \"c\", \"size\": \"16Ei\"}",
                 "field 'size': size \"16Ei\" is too large");
    expect_error("{\"name\": \"a\", \"size\": \"10 Gi\"}",
                 "field 'size': size \"10 Gi\" is malformed");
    expect_error("{\"name\": \"a\", \"size\": -1}", "field 'size': -1 must not be negative");
    expect_error("{\"name\": \"a\", \"size\": 1.5}",
                 "field 'size': expected size (integer or \"10Gi\"), got real");
    expect_error("{\"name\": \"a\", \"size\": 100}",
                 "field 'size': 100 is out of range [4096, 18446744073709551615]");
    expect_error("{\"name\": \"a\", \"size\": 4096, \"block_size\": 100}",
                 "field 'block_size': 100 is out of range [512, 4096]");
    expect_error("{\"name\": \"a\", \"size\": 4096, \"block_size\": \"512\"}",
                 "field 'block_size': expected integer, got string");
    expect_error("{\"name\": \"a\", \"size\": 4096, \"port\": 65536}",
                 "field 'port': 65536 is out of range [0, 65535]");
    expect_error("{\"name\": \"a\", \"size\": 4096, \"read_only\": 1}",
                 "field 'read_only': expected boolean, got integer");
    expect_error("{\"name\": \"a\", \"size\": 4096, \"level\": -4}",
                 "field 'level': -4 is out of range [-3, 3]");
    expect_error("{\"name\": \"a\", \"size\": 4096, \"kind\": \"nvme\"}",
                 "field 'kind': unknown value \"nvme\"");
    expect_error("{\"name\": \"a\", \"size\": 4096, \"uuid\": \"0b6a7e3c\"}",
                 "field 'uuid': \"0b6a7e3c\" is not a UUID");
    expect_error(
        "{\"name\": \"a\", \"comment\": \"x\", \"size\": 4096, \"qos\": {\"burst\": \"20s\"}}",
        "field 'qos.burst': 20000000 is out of range [0, 10000000]");
    expect_error("{\"name\": \"a\", \"size\": 4096, \"qos\": {\"x\": 1}}", "unknown field 'qos.x'");
    expect_error("{\"name\": \"a\", \"size\": 4096, \"qos\": []}",
                 "field 'qos': expected object, got array");
    expect_error("{\"name\": \"a\", \"size\": 4096, \"qos\": {\"burst\": 5}}",
                 "field 'qos.burst': expected duration string (\"30s\"), got integer");
    expect_error("{\"name\": \"a\", \"size\": 4096, \"even\": 3}",
                 "field 'even': expected an even integer");

    struct bdev_req req = {0};
    struct slio_err err = {{0}};
    _cleanup_json_ json_t *arr = load("[1]");
    assert_int_equal(SLIO_JSON_DECODE(arr, bdev_fields, &req, 0, &err), -EINVAL);
    assert_string_equal(err.text, "expected object, got array");

    /* a string with an embedded NUL (built in code; the loader refuses \u0000) */
    _cleanup_json_ json_t *nul = json_pack("{s:s%,s:i}", "name", "a\0b", (size_t)3, "size", 4096);
    assert_int_equal(SLIO_JSON_DECODE(nul, bdev_fields, &req, 0, &err), -EINVAL);
    assert_string_equal(err.text, "field 'name': string contains a NUL character");

    assert_int_equal(decode("{\"name\": \"a\", \"size\": 4096, \"bogus\": 1}", &req,
                            SLIO_JSON_ALLOW_UNKNOWN, &err),
                     0);
}

struct wrong {
    uint32_t v;
};

static void test_schema_error(void **state)
{
    static const struct slio_json_field bad[] = {
        SLIO_JSON_FIELD(struct wrong, v, "v", SLIO_JSON_U64),
    };
    struct wrong w = {0};
    struct slio_err err = {{0}};
    _cleanup_json_ json_t *j = load("{\"v\": 1}");

    assert_int_equal(SLIO_JSON_DECODE(j, bad, &w, 0, &err), -EINVAL);
    assert_non_null(strstr(err.text, "schema error"));
}

static void test_unpack(void **state)
{
    _cleanup_json_ json_t *j = load("{\"a\": 1, \"b\": \"x\"}");
    struct slio_err err = {{0}};
    int a = 0;
    const char *b = NULL;

    assert_int_equal(slio_json_unpack(j, &err, "{s:i, s:s}", "a", &a, "b", &b), 0);
    assert_int_equal(a, 1);
    assert_string_equal(b, "x");
    assert_int_equal(slio_json_unpack(j, &err, "{s:i}", "a", &a), -EINVAL); /* strict: b left */
    assert_true(strlen(err.text) > 0);
    assert_int_equal(slio_json_unpack(j, &err, "{s:s, s:s}", "a", &b, "b", &b), -EINVAL);
    assert_true(strlen(err.text) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),         cmocka_unit_test(test_load_file_and_dump),
        cmocka_unit_test(test_decode_ok),    cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_schema_error), cmocka_unit_test(test_unpack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
