/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvme connect/disconnect argv and the sysfs lookups (csi/node/nvme.c) on a
 * fake sysfs tree: controllers by subsystem NQN, namespaces by UUID, the
 * deadline, and that unstage disconnects exactly the volume's controllers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "grpc/call.h"
#include "node/fixture.h"
#include "node/node.h"

#define VOL   "0b5e2a1c-8a41-4c36-9d0e-2f4a9e6c7b10"
#define OTHER "11111111-2222-4333-8444-555555555555"
#define NQN   "nqn.2024-01.io.slite:vol:" VOL

static void test_volume_nqn(void **state)
{
    char nqn[SLIO_NQN_BUF];
    assert_int_equal(csi_volume_nqn(VOL, nqn), 0);
    assert_string_equal(nqn, NQN);
    assert_int_equal(csi_volume_nqn("pvc-1", nqn), -EINVAL);
    assert_string_equal(nqn, NQN); /* untouched */
}

static void test_ctrls_by_nqn(void **state)
{
    struct node_fixture *f = *state;
    node_fixture_write(f, "sys/class/nvme/nvme0/subsysnqn", NQN "\n");
    node_fixture_write(f, "sys/class/nvme/nvme0/state", "live\n");
    node_fixture_write(f, "sys/class/nvme/nvme3/subsysnqn", "nqn.2024-01.io.slite:vol:" OTHER "\n");
    node_fixture_write(f, "sys/class/nvme/nvme3/state", "live\n");
    node_fixture_write(f, "sys/class/nvme/nvme7/subsysnqn", NQN "\n"); /* no state file */
    node_fixture_write(f, "sys/class/nvme/nvme-subsys0/subsysnqn", NQN "\n");
    char names[4][32], states[4][32];
    size_t n;
    assert_int_equal(csi_nvme_ctrls(f->ctx.node.sysfs_root, NQN, names, states, 4, &n), 0);
    assert_int_equal(n, 2);
    bool saw0 = false, saw7 = false;
    for (size_t i = 0; i < n; i++) {
        saw0 |= strcmp(names[i], "nvme0") == 0 && strcmp(states[i], "live") == 0;
        saw7 |= strcmp(names[i], "nvme7") == 0 && strcmp(states[i], "unknown") == 0;
    }
    assert_true(saw0 && saw7);
    /* unstage: nvme disconnect of nvme0 and nvme7, never nvme3 (another volume) */
    node_fixture_replay(f, "{\"calls\": ["
                           "{\"argv\": [\"nvme\", \"disconnect\", \"-d\", \"nvme0\"]},"
                           "{\"argv\": [\"nvme\", \"disconnect\", \"-d\", \"nvme7\"]}]}");
    struct slio_err err = {0};
    assert_int_equal(csi_nvme_disconnect(&f->ctx.node, NQN, &err), 0);
    /* a missing class/nvme (no module): no controllers, not an error */
    char sysfs[PATH_MAX];
    node_fixture_path(f, "nosuch", sysfs, sizeof(sysfs));
    assert_int_equal(csi_nvme_ctrls(sysfs, NQN, names, states, 4, &n), 0);
    assert_int_equal(n, 0);
}

static void test_disconnect_failure_named(void **state)
{
    struct node_fixture *f = *state;
    node_fixture_write(f, "sys/class/nvme/nvme2/subsysnqn", NQN "\n");
    node_fixture_replay(f, "{\"calls\": [{\"argv\": [\"nvme\", \"disconnect\", \"-d\", \"nvme2\"],"
                           "\"stderr\": \"Failed to disconnect\", \"exit\": 1}]}");
    struct slio_err err = {0};
    assert_int_equal(csi_nvme_disconnect(&f->ctx.node, NQN, &err), -EIO);
    assert_non_null(strstr(err.text, "nvme disconnect -d nvme2"));
    assert_non_null(strstr(err.text, "Failed to disconnect"));
}

static void test_find_ns(void **state)
{
    struct node_fixture *f = *state;
    char name[32] = "";
    node_fixture_write(f, "sys/block/nvme0n1/uuid", OTHER "\n");
    node_fixture_write(f, "sys/block/nvme1c1n1/uuid", VOL "\n"); /* a path device: not used */
    node_fixture_write(f, "sys/block/sda/uuid", VOL "\n");
    assert_int_equal(csi_nvme_find_ns(f->ctx.node.sysfs_root, VOL, name), -ENOENT);
    node_fixture_write(f, "sys/block/nvme1n1/uuid", "0B5E2A1C-8A41-4C36-9D0E-2F4A9E6C7B10\n");
    assert_int_equal(csi_nvme_find_ns(f->ctx.node.sysfs_root, VOL, name), 0);
    assert_string_equal(name, "nvme1n1");
}

static void test_wait_ns_deadline(void **state)
{
    struct node_fixture *f = *state;
    char name[32];
    int64_t t0 = csi_now_ms();
    assert_int_equal(csi_nvme_wait_ns(f->ctx.node.sysfs_root, VOL, t0 + 150, name), -ETIMEDOUT);
    int64_t took = csi_now_ms() - t0;
    assert_true(took >= 150 && took < 1000);
    node_fixture_write(f, "sys/block/nvme4n1/uuid", VOL "\n");
    assert_int_equal(csi_nvme_wait_ns(f->ctx.node.sysfs_root, VOL, csi_now_ms() + 150, name), 0);
    assert_string_equal(name, "nvme4n1");
}

static void test_connect_argv(void **state)
{
    struct node_fixture *f = *state;
    node_fixture_replay(f,
                        "{\"calls\": [{\"argv\": [\"nvme\", \"connect\", \"-t\", \"tcp\", \"-a\","
                        " \"10.0.0.5\", \"-s\", \"4420\", \"-n\", \"" NQN "\","
                        " \"--ctrl-loss-tmo\", \"60\", \"--reconnect-delay\", \"2\","
                        " \"--hostnqn\", \"nqn.2024-01.io.slite:node:n1\"]}]}");
    struct slio_err err = {0};
    assert_int_equal(csi_nvme_connect(&f->ctx.node, NQN, "10.0.0.5", "4420", NULL, &err), 0);
    /* another address is not what was recorded: the seam refuses it */
    assert_int_equal(csi_nvme_connect(&f->ctx.node, NQN, "10.0.0.6", "4420", NULL, &err), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_volume_nqn),
        cmocka_unit_test_setup_teardown(test_ctrls_by_nqn, node_fixture_setup,
                                        node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_failure_named, node_fixture_setup,
                                        node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_find_ns, node_fixture_setup, node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_wait_ns_deadline, node_fixture_setup,
                                        node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_connect_argv, node_fixture_setup,
                                        node_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
