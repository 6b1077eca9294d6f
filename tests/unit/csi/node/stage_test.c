/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stage helpers (csi/node/stage.c, included for its statics): format only
 * a blank device, with the StorageClass's mkfs options; refuse a device that
 * holds another filesystem; mount with the capability's flags; block mode's
 * bind mount; a remote attachment's connect and namespace lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../../../csi/node/stage.c"
#include "node/fixture.h"

#define VOL "0b5e2a1c-8a41-4c36-9d0e-2f4a9e6c7b10"

static struct csi_reply reply(void)
{
    return (struct csi_reply){.deadline_ms = csi_now_ms() + 5000};
}

#define BLKID(dev) "\"blkid\", \"-p\", \"-o\", \"value\", \"-s\", \"TYPE\", \"" dev "\""

static void test_blank_device_formatted(void **state)
{
    struct node_fixture *f = *state;
    node_fixture_replay(f, "{\"calls\": [{\"argv\": [" BLKID(
                               "/dev/nvme1n1") "], \"exit\": 2},"
                                               "{\"argv\": [\"mkfs.ext4\", \"-m\", \"0\", \"-E\", "
                                               "\"lazy_itable_init=0\","
                                               " \"/dev/nvme1n1\"]}]}");
    struct csi_reply r = reply();
    assert_int_equal(ensure_fs(&r, "/dev/nvme1n1", "ext4", "-m 0  -E lazy_itable_init=0"), 0);
    assert_false(r.done);
}

static void test_existing_fs_kept_or_refused(void **state)
{
    struct node_fixture *f = *state;
    node_fixture_replay(
        f, "{\"calls\": [{\"argv\": [" BLKID("/dev/nvme1n1") "],"
                                                             " \"stdout\": \"xfs\\n\"}]}");
    struct csi_reply r = reply();
    assert_int_equal(ensure_fs(&r, "/dev/nvme1n1", "xfs", ""), 0); /* no mkfs: not recorded */
    assert_int_equal(ensure_fs(&r, "/dev/nvme1n1", "ext4", ""), -EEXIST);
    assert_int_equal(r.code, GRPC_STATUS_FAILED_PRECONDITION);
    assert_non_null(strstr(r.message, "refusing to format"));
    node_fixture_replay(
        f, "{\"calls\": [{\"argv\": [" BLKID("/dev/nvme1n1") "], \"exit\": 4,"
                                                             " \"stderr\": \"I/O error\"}]}");
    struct csi_reply r2 = reply();
    assert_int_equal(ensure_fs(&r2, "/dev/nvme1n1", "ext4", ""), -EIO);
    assert_int_equal(r2.code, GRPC_STATUS_INTERNAL);
}

static void test_stage_fs_mount_flags(void **state)
{
    struct node_fixture *f = *state;
    char stage[PATH_MAX], json[2 * PATH_MAX];
    node_fixture_path(f, "stage", stage, sizeof(stage));
    snprintf(json, sizeof(json),
             "{\"calls\": [{\"argv\": [" BLKID(
                 "/dev/vg0/vol") "], \"exit\": 2},"
                                 "{\"argv\": [\"mkfs.xfs\", \"/dev/vg0/vol\"]},"
                                 "{\"argv\": [\"mount\", \"-t\", \"xfs\", \"-o\", "
                                 "\"defaults,noatime,nodiscard\","
                                 " \"/dev/vg0/vol\", \"%s\"]}]}",
             stage);
    node_fixture_replay(f, json);
    Csi__V1__VolumeCapability c = CSI__V1__VOLUME_CAPABILITY__INIT;
    Csi__V1__VolumeCapability__MountVolume m = CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
    char *flags[] = {(char *)"noatime", (char *)"nodiscard"};
    m.mount_flags = flags;
    m.n_mount_flags = 2;
    c.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
    c.mount = &m;
    Csi__V1__NodeStageVolumeRequest__VolumeContextEntry e =
        CSI__V1__NODE_STAGE_VOLUME_REQUEST__VOLUME_CONTEXT_ENTRY__INIT;
    Csi__V1__NodeStageVolumeRequest__VolumeContextEntry *ep = &e;
    e.key = (char *)"fsType";
    e.value = (char *)"xfs";
    Csi__V1__NodeStageVolumeRequest q = CSI__V1__NODE_STAGE_VOLUME_REQUEST__INIT;
    q.volume_id = (char *)VOL;
    q.staging_target_path = stage;
    q.volume_capability = &c;
    q.volume_context = &ep;
    q.n_volume_context = 1;
    struct csi_reply r = reply();
    assert_int_equal(stage_fs(&r, &q, "/dev/vg0/vol"), 0);
    struct stat st;
    assert_int_equal(stat(stage, &st), 0);
}

static void test_stage_block(void **state)
{
    struct node_fixture *f = *state;
    char stage[PATH_MAX], json[2 * PATH_MAX];
    node_fixture_path(f, "stage", stage, sizeof(stage));
    snprintf(json, sizeof(json),
             "{\"calls\": [{\"argv\": [\"mount\", \"--bind\", \"/dev/nvme2n1\", \"%s/block\"]}]}",
             stage);
    node_fixture_replay(f, json);
    struct csi_reply r = reply();
    assert_int_equal(stage_block(&r, "/dev/nvme2n1", stage), 0);
    char file[PATH_MAX + 8];
    snprintf(file, sizeof(file), "%s/block", stage);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_true(S_ISREG(st.st_mode));
}

static void test_remote_attachment_device(void **state)
{
    struct node_fixture *f = *state;
    node_fixture_replay(f,
                        "{\"calls\": [{\"argv\": [\"nvme\", \"connect\", \"-t\", \"tcp\", \"-a\","
                        " \"10.0.0.5\", \"-s\", \"4420\", \"-n\", \"nqn.2024-01.io.slite:vol:" VOL
                        "\", \"--ctrl-loss-tmo\", \"60\", \"--reconnect-delay\", \"2\","
                        " \"--hostnqn\", \"nqn.2024-01.io.slite:node:n1\"]}]}");
    json_t *att = json_pack("{s:b, s:s, s:s, s:{s:s, s:s}}", "local", 0, "nqn",
                            "nqn.2024-01.io.slite:vol:" VOL, "namespace_uuid", VOL, "address",
                            "traddr", "10.0.0.5", "trsvcid", "4420");
    char dev[PATH_MAX];
    /* the namespace never shows up: DEADLINE_EXCEEDED after namespace_timeout_ms */
    struct csi_reply r = reply();
    assert_int_equal(attachment_device(&f->ctx, &r, VOL, att, NULL, dev, sizeof(dev)), -ETIMEDOUT);
    assert_int_equal(r.code, GRPC_STATUS_DEADLINE_EXCEEDED);
    /* it does: /dev/<name>; and with a controller already connected, no second connect */
    node_fixture_write(f, "sys/block/nvme5n1/uuid", VOL "\n");
    node_fixture_write(f, "sys/class/nvme/nvme5/subsysnqn", "nqn.2024-01.io.slite:vol:" VOL "\n");
    node_fixture_replay(f, "{\"calls\": []}");
    struct csi_reply r2 = reply();
    assert_int_equal(attachment_device(&f->ctx, &r2, VOL, att, NULL, dev, sizeof(dev)), 0);
    assert_string_equal(dev, "/dev/nvme5n1");
    json_decref(att);
    /* local: the LV's path, checked */
    json_t *local = json_pack("{s:b, s:s}", "local", 1, "device", "/dev/vg0/" VOL);
    assert_int_equal(attachment_device(&f->ctx, &r2, VOL, local, NULL, dev, sizeof(dev)), 0);
    assert_string_equal(dev, "/dev/vg0/" VOL);
    json_object_set_new(local, "device", json_string("../etc/passwd"));
    struct csi_reply r3 = reply();
    assert_int_equal(attachment_device(&f->ctx, &r3, VOL, local, NULL, dev, sizeof(dev)), -EINVAL);
    json_decref(local);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blank_device_formatted, node_fixture_setup,
                                        node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_existing_fs_kept_or_refused, node_fixture_setup,
                                        node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stage_fs_mount_flags, node_fixture_setup,
                                        node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stage_block, node_fixture_setup,
                                        node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_remote_attachment_device, node_fixture_setup,
                                        node_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
