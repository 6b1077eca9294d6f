/* SPDX-License-Identifier: Apache-2.0 */
/* lvm_report.c: tags, percentages, vgs/pvs/losetup rows, and the bounds on all of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lvm_report.h"
#include "slio/strbuf.h"
#include "slio/uuid.h"

#define U1 "11111111-1111-4111-8111-111111111111"
#define U2 "22222222-2222-4222-8222-222222222222"

static void test_tags(void **state)
{
    struct lvm_tags t;
    uuid_t u;

    lvm_parse_tags("backup,slio.kind=snapshot,slio.origin=" U2 ",slio.pool=p-1.a,slio.uuid=" U1
                   ",slio.state=copying,x=y",
                   &t);
    assert_true(t.has_uuid && t.has_kind && t.has_pool && t.has_origin && t.copying);
    assert_false(t.conflict);
    assert_int_equal(slio_uuid_parse(U1, u), 0);
    assert_int_equal(uuid_compare(t.uuid, u), 0);
    assert_int_equal(t.kind, AGENT_VOL_SNAPSHOT);
    assert_string_equal(t.pool, "p-1.a");

    lvm_parse_tags("", &t);
    assert_false(t.has_uuid || t.has_kind || t.has_pool || t.conflict);
    lvm_parse_tags("slio.uuid=" U1 ",slio.uuid=" U1 ",", &t); /* repeated, same: fine */
    assert_true(t.has_uuid && !t.conflict);

    static const char *const clashes[] = {
        "slio.uuid=" U1 ",slio.uuid=" U2,
        "slio.uuid=not-a-uuid",
        "slio.uuid=" U1 "0",
        "slio.kind=disk",
        "slio.kind=volume,slio.kind=snapshot",
        "slio.pool=-x",
        "slio.pool=a,slio.pool=b",
        "slio.origin=" U1 ",slio.origin=" U2,
        "slio.pool="
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "a",
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(clashes); i++) {
        lvm_parse_tags(clashes[i], &t);
        if (!t.conflict)
            fail_msg("\"%s\" not flagged", clashes[i]);
    }
    lvm_parse_tags("slio.state=done", &t);
    assert_false(t.copying);
}

static void test_percent(void **state)
{
    static const struct {
        const char *s;
        double want;
    } good[] = {{"", -1},        {"0", 0},        {"0.00", 0},
                {"12.50", 12.5}, {"100.00", 100}, {"99.999999", 99.999999}};
    static const char *const bad[] = {"100.01", "101", "-1",         ".5",  "5.",   "1e2",
                                      " 5",     "5 ",  "12.3456789", "nan", "0x10", "12,5"};
    double d;

    for (size_t i = 0; i < SLIO_ARRAY_SIZE(good); i++) {
        assert_int_equal(lvm_parse_percent(good[i].s, &d), 0);
        assert_true(d > good[i].want - 1e-9 && d < good[i].want + 1e-9);
    }
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++)
        if (lvm_parse_percent(bad[i], &d) != -EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
}

#define VG_ROW(size, free, extent)                                                                 \
    "{\"report\":[{\"vg\":[{\"vg_name\":\"vg0\", \"vg_size\":\"" size "\", \"vg_free\":\"" free    \
    "\", \"vg_extent_size\":\"" extent "\", \"pv_count\":\"2\", \"vg_tags\":\"slio.pool=p1\"}]}]}"

static void test_vgs(void **state)
{
    static const char good[] = VG_ROW("10737418240", "1073741824", "4194304");
    static const char *const bad[] = {
        VG_ROW("1073741824", "10737418240", "4194304"), /* more free than size */
        VG_ROW("10737418240", "0", "0"),                /* no extent size */
        VG_ROW("10737418240", "0", "4.0"),
        "{\"report\":[{\"vg\":[{\"vg_name\":\"vg0\"}]}]}",
        "{\"report\":[{\"pv\":[]}]}",
    };
    struct lvm_vg *vgs = NULL;
    size_t n;
    struct slio_err err = {{0}};

    assert_int_equal(lvm_parse_vgs(good, strlen(good), &vgs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(vgs[0].name, "vg0");
    assert_int_equal(vgs[0].size, 10ull << 30);
    assert_int_equal(vgs[0].free, 1ull << 30);
    assert_int_equal(vgs[0].extent_size, 4u << 20);
    assert_int_equal(vgs[0].pv_count, 2);
    assert_string_equal(vgs[0].tags.pool, "p1");
    free(vgs);
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        vgs = NULL;
        if (lvm_parse_vgs(bad[i], strlen(bad[i]), &vgs, &n, &err) != -EINVAL)
            fail_msg("case %zu accepted", i);
        assert_null(vgs);
        assert_non_null(strstr(err.text, "vgs report"));
    }
}

static void test_pvs_and_losetup(void **state)
{
    static const char pvs[] =
        "{\"report\":[{\"pv\":[{\"pv_name\":\"/dev/vdb\", \"vg_name\":\"\", \"pv_size\":\"1024\","
        " \"pv_free\":\"1024\"},{\"pv_name\":\"/dev/vdc\", \"vg_name\":\"vg0\", "
        "\"pv_size\":\"2048\","
        " \"pv_free\":\"0\"}]}]}";
    static const char loops[] = "{\"loopdevices\": [{\"name\": \"/dev/loop0\", \"back-file\": "
                                "\"/a.img\"}, {\"name\": \"/dev/loop1\", \"back-file\": null}]}";
    static const char nameless[] = "{\"loopdevices\": [{\"back-file\": \"/a\"}]}";
    struct lvm_pv *p = NULL;
    struct lvm_loop *l = NULL;
    size_t n;
    struct slio_err err = {{0}};

    assert_int_equal(lvm_parse_pvs(pvs, strlen(pvs), &p, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(p[0].vg, "");
    assert_string_equal(p[1].vg, "vg0");
    assert_int_equal(p[1].size, 2048);
    free(p);

    assert_int_equal(lvm_parse_losetup(loops, strlen(loops), &l, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].back_file, "/a.img");
    assert_string_equal(l[1].back_file, "");
    free(l);
    assert_int_equal(lvm_parse_losetup(" \n", 2, &l, &n, &err), 0); /* nothing set up */
    assert_int_equal(n, 0);
    free(l);
    l = NULL;
    assert_int_equal(lvm_parse_losetup(nameless, strlen(nameless), &l, &n, &err), -EINVAL);
    assert_null(l);
    assert_non_null(strstr(err.text, "'name': missing"));
}

/* More rows than any VG holds: refused before anything is allocated per row. */
static void test_row_cap(void **state)
{
    static const char row[] = "{\"lv_name\":\"a\", \"vg_name\":\"v\", \"lv_size\":\"1\","
                              " \"lv_attr\":\"-wi-a-----\", \"lv_tags\":\"\"}";
    struct slio_strbuf sb;
    struct lvm_lv *lvs = NULL;
    size_t n;
    struct slio_err err = {{0}};

    slio_strbuf_init(&sb, 64u << 20);
    assert_int_equal(slio_strbuf_appends(&sb, "{\"report\":[{\"lv\":["), 0);
    for (int i = 0; i <= LVM_REPORT_ROWS_MAX; i++) {
        assert_int_equal(slio_strbuf_appends(&sb, i ? "," : ""), 0);
        assert_int_equal(slio_strbuf_appends(&sb, row), 0);
    }
    assert_int_equal(slio_strbuf_appends(&sb, "]}]}"), 0);
    assert_int_equal(lvm_parse_lvs(sb.buf, sb.len, &lvs, &n, &err), -EINVAL);
    assert_non_null(strstr(err.text, "rows, at most"));
    assert_null(lvs);
    slio_strbuf_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tags),    cmocka_unit_test(test_percent),
        cmocka_unit_test(test_vgs),     cmocka_unit_test(test_pvs_and_losetup),
        cmocka_unit_test(test_row_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
