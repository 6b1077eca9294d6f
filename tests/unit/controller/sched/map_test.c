/* SPDX-License-Identifier: Apache-2.0 */
/* controller/sched/map.c: the hash tables against a plain array, through growth and deletion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sched/map.h"

#define N 5000

static void test_smap(void **state)
{
    static char keys[N][16];
    static bool present[N];
    struct sched_smap m = {0};
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        assert_int_equal(sched_smap_put(&m, keys[i], &keys[i]), 0);
        present[i] = true;
    }
    assert_int_equal(m.len, N);
    /* delete every third, in an order that crosses probe runs, then check all */
    for (int i = 0; i < N; i += 3) {
        int k = (i * 7919) % N;
        assert_ptr_equal(sched_smap_del(&m, keys[k]), present[k] ? &keys[k] : NULL);
        present[k] = false;
    }
    for (int i = 0; i < N; i++)
        assert_ptr_equal(sched_smap_get(&m, keys[i]), present[i] ? &keys[i] : NULL);
    /* replace keeps the count */
    size_t len = m.len;
    assert_int_equal(sched_smap_put(&m, keys[1], &keys[2]), 0);
    assert_int_equal(m.len, len + (present[1] ? 0 : 1));
    assert_ptr_equal(sched_smap_get(&m, keys[1]), &keys[2]);
    assert_null(sched_smap_get(&m, "absent"));
    sched_smap_free(&m);
    assert_null(sched_smap_get(&m, "k1"));
}

static void test_cmap(void **state)
{
    static uint32_t want[N];
    struct sched_cmap m = {0};
    for (uint32_t i = 0; i < 4 * N; i++) {
        uint32_t k = (i * 2654435761u) % N;
        assert_int_equal(sched_cmap_add(&m, k, 1), 0);
        want[k]++;
    }
    for (uint32_t k = 0; k < N; k += 2)
        while (want[k]) {
            sched_cmap_dec(&m, k);
            want[k]--;
        }
    sched_cmap_dec(&m, N + 5); /* absent: nothing */
    assert_int_equal(sched_cmap_add(&m, N + 6, -3), 0);
    size_t nonzero = 0;
    for (uint32_t k = 0; k < N + 10; k++) {
        assert_int_equal(sched_cmap_get(&m, k), k < N ? want[k] : 0);
        nonzero += k < N && want[k];
    }
    assert_int_equal(m.len, nonzero); /* zero counts are removed, not kept */
    sched_cmap_free(&m);
}

static void test_intern(void **state)
{
    struct sched_intern t = {0};
    uint32_t a, b, a2, none;
    assert_int_equal(sched_intern_id(&t, "rack-1", &a), 0);
    assert_int_equal(sched_intern_id(&t, "rack-2", &b), 0);
    assert_int_equal(sched_intern_id(&t, "rack-1", &a2), 0);
    assert_int_equal(a, a2);
    assert_int_not_equal(a, b);
    assert_int_equal(sched_intern_id(&t, "", &none), 0);
    assert_int_equal(none, SCHED_ID_NONE);
    assert_int_equal(sched_intern_id(&t, NULL, &none), 0);
    assert_int_equal(none, SCHED_ID_NONE);
    assert_int_equal(sched_intern_find(&t, "rack-2"), b);
    assert_int_equal(sched_intern_find(&t, "rack-3"), SCHED_ID_NONE);
    assert_string_equal(sched_intern_name(&t, b), "rack-2");
    assert_string_equal(sched_intern_name(&t, 99), "");
    for (int i = 0; i < 1000; i++) {
        char name[16];
        uint32_t id;
        snprintf(name, sizeof(name), "n%d", i);
        assert_int_equal(sched_intern_id(&t, name, &id), 0);
        assert_int_equal(id, (uint32_t)i + 2);
    }
    sched_intern_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smap),
        cmocka_unit_test(test_cmap),
        cmocka_unit_test(test_intern),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
