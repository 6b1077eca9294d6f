/* SPDX-License-Identifier: Apache-2.0 */
/* mountinfo parsing and lookups, path checks (csi/node/mount.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/node.h"
#include "slio/fileio.h"

static void test_parse_line(void **state)
{
    char line[] = "36 35 98:0 / /var/lib/kubelet/pods/x/vol\\040one rw,noatime master:1 shared:2 - "
                  "ext4 /dev/nvme1n1 rw,errors=continue";
    char point[256];
    struct csi_mount m;
    assert_int_equal(csi_mountinfo_parse_line(line, point, sizeof(point), &m), 0);
    assert_string_equal(point, "/var/lib/kubelet/pods/x/vol one");
    assert_string_equal(m.source, "/dev/nvme1n1");
    assert_string_equal(m.fstype, "ext4");
    assert_false(m.read_only);

    char ro[] = "40 35 0:5 /nvme1n1 /pods/y ro,relatime - devtmpfs udev rw";
    assert_int_equal(csi_mountinfo_parse_line(ro, point, sizeof(point), &m), 0);
    assert_true(m.read_only);
    assert_string_equal(m.source, "udev");
}

static void test_parse_bad(void **state)
{
    const char *bad[] = {
        "",
        "36 35 98:0 / /mnt",
        "36 35 98:0 / /mnt rw master:1", /* no separator */
        "36 35 98:0 / /mnt rw -",        /* no fstype */
        "36 35 98:0 / /mnt rw - ext4",   /* no source */
    };
    for (size_t i = 0; i < SLIO_ARRAY_SIZE(bad); i++) {
        char line[128], point[64];
        struct csi_mount m;
        snprintf(line, sizeof(line), "%s", bad[i]);
        assert_int_equal(csi_mountinfo_parse_line(line, point, sizeof(point), &m), -EINVAL);
    }
    /* a mount point longer than the caller's buffer */
    char line[] = "1 2 3:4 / /a/very/long/mount/point - ext4 /dev/x rw";
    char small[8];
    struct csi_mount m;
    assert_int_equal(csi_mountinfo_parse_line(line, small, sizeof(small), &m), -EINVAL);
}

static void test_find(void **state)
{
    char path[] = "/tmp/csi-mountinfo-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
                       "garbage line\n"
                       "2 1 259:1 / /stage rw - ext4 /dev/nvme0n1 rw\n"
                       "3 1 259:1 / /stage ro - xfs /dev/nvme9n9 rw\n"; /* the later one hides */
    assert_int_equal(slio_write_all(fd, text, strlen(text)), 0);
    close(fd);
    struct csi_mount m;
    assert_int_equal(csi_mount_find(path, "/stage", &m), 0);
    assert_string_equal(m.source, "/dev/nvme9n9");
    assert_true(m.read_only);
    assert_int_equal(csi_mount_find(path, "/stag", NULL), -ENOENT);
    assert_int_equal(csi_mount_find(path, "/", NULL), 0);
    unlink(path);
    assert_int_equal(csi_mount_find(path, "/", NULL), -ENOENT);
}

static void test_path_ok(void **state)
{
    assert_true(csi_path_ok("/var/lib/kubelet/x"));
    assert_true(csi_path_ok("/a/..b/c.."));
    assert_false(csi_path_ok(""));
    assert_false(csi_path_ok("relative"));
    assert_false(csi_path_ok("/a/../b"));
    assert_false(csi_path_ok("/a/.."));
    assert_false(csi_path_ok("/a\nb"));
    char *longp = malloc(CSI_PATH_MAX + 2);
    memset(longp, 'a', CSI_PATH_MAX + 1);
    longp[0] = '/';
    longp[CSI_PATH_MAX + 1] = '\0';
    assert_false(csi_path_ok(longp));
    free(longp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_line),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_path_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
