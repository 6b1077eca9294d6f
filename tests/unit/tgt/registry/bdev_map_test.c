/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Memory files mapped for reads (registry/bdev_map.c): a bdev on tmpfs is
 * mapped and tgt_bdev_mapped() hands out only its valid ranges; a disk file is
 * not; a rescan moves the valid range and re-checks that a sparse file could
 * be allocated whole; the mapping lives as long as the last reference.
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry/registry_mgmt.h"
#include "tgt_fakes.h"

#define SIZE (1u << 20)

static char g_file[64];
static uint8_t g_pat[SIZE];

static bool on_tmpfs(const char *dir)
{
    struct statfs sf;

    return statfs(dir, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

/* A file of SIZE bytes filled with a pattern in dir. */
static int setup_in(const char *dir)
{
    fakes_reset();
    snprintf(g_file, sizeof(g_file), "%s/slio-map-test-XXXXXX", dir);
    int fd = mkstemp(g_file);
    if (fd < 0)
        return -1;
    for (size_t i = 0; i < SIZE; i++)
        g_pat[i] = (uint8_t)(i * 7 + i / 4096);
    ssize_t n = write(fd, g_pat, SIZE);
    close(fd);
    return n == SIZE ? 0 : -1;
}

static int setup_shm(void **state)
{
    return setup_in("/dev/shm");
}

static int setup_disk(void **state)
{
    return setup_in("/var/tmp");
}

static int teardown(void **state)
{
    tgt_registry_clear();
    unlink(g_file);
    return 0;
}

static struct tgt_bdev *create(void)
{
    struct tgt_bdev_opts o = {.name = "mem0", .filename = g_file};
    struct slio_err e = {{0}};
    struct tgt_bdev *b = NULL;

    assert_int_equal(tgt_bdev_create_ex(&o, &e, &b), 0);
    return b;
}

/* Is the file mapped into this process (/proc/self/maps)? */
static bool file_mapped(void)
{
    char line[512];
    bool found = false;
    FILE *f = fopen("/proc/self/maps", "r");

    assert_non_null(f);
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, g_file) != NULL;
    fclose(f);
    return found;
}

static void test_tmpfs_file_is_mapped(void **state)
{
    struct tgt_bdev *b = create();

    assert_true(b->in_memory); /* the transport runs its I/O on the reactor */
    assert_non_null(b->map);
    assert_true(atomic_load(&b->map_reads));
    assert_true(b->map_len >= SIZE);
    const uint8_t *p = tgt_bdev_mapped(b, 8192, 4096);
    assert_ptr_equal(p, b->map + 8192);
    assert_memory_equal(p, g_pat + 8192, 4096);
    assert_ptr_equal(tgt_bdev_mapped(b, 0, SIZE), b->map);
    /* beyond the bdev's size, or ranges that overflow: the read copies (and fails) as before */
    assert_null(tgt_bdev_mapped(b, SIZE - 512, 1024));
    assert_null(tgt_bdev_mapped(b, SIZE + 4096, 4096));
    assert_null(tgt_bdev_mapped(b, 4096, UINT64_MAX - 100));
    /* a write through the descriptor is seen through the mapping at once */
    uint8_t x[512];
    memset(x, 0xa5, sizeof(x));
    assert_int_equal(pwrite(b->fd, x, sizeof(x), 8192), sizeof(x));
    assert_memory_equal(tgt_bdev_mapped(b, 8192, 512), x, sizeof(x));
    tgt_bdev_put(b);
}

static void test_rescan_moves_the_valid_range(void **state)
{
    struct slio_err e = {{0}};
    struct tgt_bdev *b = create();
    const uint8_t *map = b->map;

    assert_int_equal(truncate(g_file, 2 * SIZE), 0);
    assert_null(tgt_bdev_mapped(b, SIZE, 4096)); /* not before the rescan */
    assert_int_equal(tgt_bdev_rescan_ex("mem0", &e), 0);
    assert_ptr_equal(b->map, map); /* never moves: it covers the file system's size */
    static const uint8_t zero[4096];
    assert_ptr_equal(tgt_bdev_mapped(b, SIZE, 4096), map + SIZE);
    assert_memory_equal(map + SIZE, zero, sizeof(zero)); /* the new, sparse part reads as zeroes */
    assert_int_equal(truncate(g_file, SIZE / 2), 0);
    assert_int_equal(tgt_bdev_rescan_ex("mem0", &e), 0);
    assert_null(tgt_bdev_mapped(b, SIZE / 2, 4096));
    assert_non_null(tgt_bdev_mapped(b, 0, SIZE / 2));
    tgt_bdev_put(b);
}

/* A sparse file larger than the free space: mapped reads of holes would allocate them. */
static void test_sparse_file_without_room_copies(void **state)
{
    struct slio_err e = {{0}};
    struct statfs sf;

    assert_int_equal(statfs(g_file, &sf), 0);
    uint64_t too_big = (uint64_t)sf.f_bavail * sf.f_bsize + (64u << 20);
    assert_int_equal(truncate(g_file, (off_t)too_big), 0);
    struct tgt_bdev *b = create();
    assert_non_null(b->map);
    assert_false(atomic_load(&b->map_reads));
    assert_null(tgt_bdev_mapped(b, 0, 4096));
    assert_int_equal(truncate(g_file, SIZE), 0);
    assert_int_equal(tgt_bdev_rescan_ex("mem0", &e), 0);
    assert_true(atomic_load(&b->map_reads));
    assert_memory_equal(tgt_bdev_mapped(b, 0, 4096), g_pat, 4096);
    tgt_bdev_put(b);
}

/* A request holding a reference keeps the pages it sends from, bdev deleted or not. */
static void test_mapping_lives_with_the_last_reference(void **state)
{
    struct tgt_bdev *b = create();
    const uint8_t *p = tgt_bdev_mapped(b, 4096, 4096);

    tgt_bdev_get(b); /* what the transport takes for a response pointing into the mapping */
    tgt_bdev_put(b); /* the creator's */
    assert_int_equal(tgt_bdev_delete("mem0"), 0);
    assert_true(file_mapped());
    assert_memory_equal(p, g_pat + 4096, 4096);
    tgt_bdev_put(b); /* the response was sent */
    assert_false(file_mapped());
}

static void test_disk_file_is_not_mapped(void **state)
{
    struct tgt_bdev *b = create();

    assert_false(b->in_memory);
    assert_null(b->map);
    assert_null(tgt_bdev_mapped(b, 0, 4096));
    assert_false(file_mapped());
    tgt_bdev_put(b);
}

int main(void)
{
    const struct CMUnitTest shm[] = {
        cmocka_unit_test_setup_teardown(test_tmpfs_file_is_mapped, setup_shm, teardown),
        cmocka_unit_test_setup_teardown(test_rescan_moves_the_valid_range, setup_shm, teardown),
        cmocka_unit_test_setup_teardown(test_sparse_file_without_room_copies, setup_shm, teardown),
        cmocka_unit_test_setup_teardown(test_mapping_lives_with_the_last_reference, setup_shm,
                                        teardown),
    };
    const struct CMUnitTest disk[] = {
        cmocka_unit_test_setup_teardown(test_disk_file_is_not_mapped, setup_disk, teardown),
    };
    int rc = 0;

    if (on_tmpfs("/dev/shm"))
        rc |= cmocka_run_group_tests_name("tmpfs", shm, NULL, NULL);
    else
        print_message("/dev/shm is not tmpfs here: the mapping is not tested\n");
    if (!on_tmpfs("/var/tmp"))
        rc |= cmocka_run_group_tests_name("disk file", disk, NULL, NULL);
    return rc;
}
