/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NodePublish/NodeUnpublish/NodeExpand/NodeGetVolumeStats handlers on a fake
 * node: state comes from the fixture's mountinfo, commands from the replay.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "node/fixture.h"
#include "node/node.h"
#include "services.h"

#define VOL "0b5e2a1c-8a41-4c36-9d0e-2f4a9e6c7b10"

static Csi__V1__VolumeCapability *cap(bool block, int mode)
{
    static Csi__V1__VolumeCapability c;
    static Csi__V1__VolumeCapability__MountVolume m;
    static Csi__V1__VolumeCapability__BlockVolume b;
    static Csi__V1__VolumeCapability__AccessMode am;
    csi__v1__volume_capability__init(&c);
    csi__v1__volume_capability__mount_volume__init(&m);
    csi__v1__volume_capability__block_volume__init(&b);
    csi__v1__volume_capability__access_mode__init(&am);
    am.mode = mode;
    c.access_mode = &am;
    if (block) {
        c.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
        c.block = &b;
    } else {
        c.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        c.mount = &m;
    }
    return &c;
}

static struct csi_reply reply(void)
{
    return (struct csi_reply){.deadline_ms = csi_now_ms() + 5000};
}

static void publish(struct node_fixture *f, const char *stage, const char *target, bool block,
                    bool ro, grpc_status_code want)
{
    Csi__V1__NodePublishVolumeRequest q = CSI__V1__NODE_PUBLISH_VOLUME_REQUEST__INIT;
    q.volume_id = (char *)VOL;
    q.staging_target_path = (char *)stage;
    q.target_path = (char *)target;
    q.volume_capability = cap(block, 1);
    q.readonly = ro;
    struct csi_reply r = reply();
    csi_node_publish_volume(&f->ctx, &q, &r);
    if (r.code != want)
        fail_msg("publish: status %d (%s), want %d", r.code, r.message, want);
    csi_reply_release(&r);
}

static void test_publish_fs_read_only(void **state)
{
    struct node_fixture *f = *state;
    char stage[PATH_MAX], target[PATH_MAX], mi[3 * PATH_MAX];
    node_fixture_path(f, "stage", stage, sizeof(stage));
    node_fixture_path(f, "pod-vol", target, sizeof(target));
    /* not staged: FAILED_PRECONDITION, nothing run */
    node_fixture_replay(f, "{\"calls\": []}");
    publish(f, stage, target, false, true, GRPC_STATUS_FAILED_PRECONDITION);
    snprintf(mi, sizeof(mi), "20 1 259:1 / %s rw - ext4 /dev/nvme1n1 rw\n", stage);
    node_fixture_mounts(f, mi);
    char json[4 * PATH_MAX];
    snprintf(json, sizeof(json),
             "{\"calls\": [{\"argv\": [\"mount\", \"--bind\", \"%s\", \"%s\"]},"
             "{\"argv\": [\"mount\", \"-o\", \"remount,bind,ro\", \"%s\"]}]}",
             stage, target, target);
    node_fixture_replay(f, json);
    publish(f, stage, target, false, true, GRPC_STATUS_OK);
    struct stat st;
    assert_int_equal(stat(target, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* published (per mountinfo): no command runs again; rw asked of a ro mount: ALREADY_EXISTS */
    snprintf(
        mi, sizeof(mi),
        "20 1 259:1 / %s rw - ext4 /dev/nvme1n1 rw\n21 1 259:1 / %s ro - ext4 /dev/nvme1n1 rw\n",
        stage, target);
    node_fixture_mounts(f, mi);
    node_fixture_replay(f, "{\"calls\": []}");
    publish(f, stage, target, false, true, GRPC_STATUS_OK);
    publish(f, stage, target, false, false, GRPC_STATUS_ALREADY_EXISTS);
}

static void test_publish_block_and_unpublish(void **state)
{
    struct node_fixture *f = *state;
    char stage[PATH_MAX], target[PATH_MAX], mi[3 * PATH_MAX], json[4 * PATH_MAX];
    node_fixture_path(f, "stage", stage, sizeof(stage));
    node_fixture_path(f, "dev-file", target, sizeof(target));
    snprintf(mi, sizeof(mi), "20 1 0:5 /nvme1n1 %s/block rw - devtmpfs udev rw\n", stage);
    node_fixture_mounts(f, mi);
    snprintf(json, sizeof(json),
             "{\"calls\": [{\"argv\": [\"mount\", \"--bind\", \"%s/block\", \"%s\"]}]}", stage,
             target);
    node_fixture_replay(f, json);
    publish(f, stage, target, true, false, GRPC_STATUS_OK);
    struct stat st;
    assert_int_equal(stat(target, &st), 0);
    assert_true(S_ISREG(st.st_mode)); /* a block volume is published on a file */

    snprintf(mi, sizeof(mi), "20 1 0:5 /nvme1n1 %s rw - devtmpfs udev rw\n", target);
    node_fixture_mounts(f, mi);
    snprintf(json, sizeof(json), "{\"calls\": [{\"argv\": [\"umount\", \"%s\"]}]}", target);
    node_fixture_replay(f, json);
    Csi__V1__NodeUnpublishVolumeRequest q = CSI__V1__NODE_UNPUBLISH_VOLUME_REQUEST__INIT;
    q.volume_id = (char *)VOL;
    q.target_path = target;
    struct csi_reply r = reply();
    csi_node_unpublish_volume(&f->ctx, &q, &r);
    assert_int_equal(r.code, GRPC_STATUS_OK);
    csi_reply_release(&r);
    assert_int_not_equal(stat(target, &st), 0); /* the file is removed */
    /* again, with nothing mounted and nothing there: success, no command */
    node_fixture_mounts(f, "");
    node_fixture_replay(f, "{\"calls\": []}");
    struct csi_reply r2 = reply();
    csi_node_unpublish_volume(&f->ctx, &q, &r2);
    assert_int_equal(r2.code, GRPC_STATUS_OK);
    csi_reply_release(&r2);
}

static void test_publish_bad_arguments(void **state)
{
    struct node_fixture *f = *state;
    node_fixture_replay(f, "{\"calls\": []}");
    publish(f, "", "/t", false, false, GRPC_STATUS_INVALID_ARGUMENT);
    publish(f, "/s", "t", false, false, GRPC_STATUS_INVALID_ARGUMENT);
    publish(f, "/s", "/a/../t", false, false, GRPC_STATUS_INVALID_ARGUMENT);
    Csi__V1__NodePublishVolumeRequest q = CSI__V1__NODE_PUBLISH_VOLUME_REQUEST__INIT;
    q.volume_id = (char *)VOL;
    q.staging_target_path = (char *)"/s";
    q.target_path = (char *)"/t";
    q.volume_capability = cap(false, 5); /* multi-node multi-writer */
    struct csi_reply r = reply();
    csi_node_publish_volume(&f->ctx, &q, &r);
    assert_int_equal(r.code, GRPC_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(r.message, "single-node"));
    csi_reply_release(&r);
}

static void test_expand(void **state)
{
    struct node_fixture *f = *state;
    char target[PATH_MAX], mi[2 * PATH_MAX];
    node_fixture_path(f, "pod-vol", target, sizeof(target));
    assert_int_equal(mkdir(target, 0755), 0);
    node_fixture_write(f, "sys/class/nvme/nvme1/subsysnqn", "nqn.2024-01.io.slite:vol:" VOL "\n");
    snprintf(mi, sizeof(mi), "21 1 259:1 / %s rw - ext4 /dev/nvme1n1 rw\n", target);
    node_fixture_mounts(f, mi);
    node_fixture_replay(f, "{\"calls\": [{\"argv\": [\"nvme\", \"ns-rescan\", \"/dev/nvme1\"]},"
                           "{\"argv\": [\"resize2fs\", \"/dev/nvme1n1\"]},"
                           "{\"argv\": [\"blockdev\", \"--getsize64\", \"/dev/nvme1n1\"],"
                           " \"stdout\": \"2147483648\\n\"}]}");
    Csi__V1__NodeExpandVolumeRequest q = CSI__V1__NODE_EXPAND_VOLUME_REQUEST__INIT;
    q.volume_id = (char *)VOL;
    q.volume_path = target;
    struct csi_reply r = reply();
    csi_node_expand_volume(&f->ctx, &q, &r);
    assert_int_equal(r.code, GRPC_STATUS_OK);
    Csi__V1__NodeExpandVolumeResponse *resp =
        csi__v1__node_expand_volume_response__unpack(NULL, r.payload_len, r.payload);
    assert_non_null(resp);
    assert_int_equal(resp->capacity_bytes, 2147483648LL);
    csi__v1__node_expand_volume_response__free_unpacked(resp, NULL);
    csi_reply_release(&r);
    /* xfs grows through its mount point; a failing tool is INTERNAL naming the argv */
    snprintf(mi, sizeof(mi), "21 1 259:1 / %s rw - xfs /dev/nvme1n1 rw\n", target);
    node_fixture_mounts(f, mi);
    char json[2 * PATH_MAX];
    snprintf(json, sizeof(json),
             "{\"calls\": [{\"argv\": [\"nvme\", \"ns-rescan\", \"/dev/nvme1\"]},"
             "{\"argv\": [\"xfs_growfs\", \"%s\"], \"exit\": 1, \"stderr\": \"not mounted\"}]}",
             target);
    node_fixture_replay(f, json);
    struct csi_reply r2 = reply();
    csi_node_expand_volume(&f->ctx, &q, &r2);
    assert_int_equal(r2.code, GRPC_STATUS_INTERNAL);
    assert_non_null(strstr(r2.message, "xfs_growfs"));
    csi_reply_release(&r2);
    /* the loop device of a file-engine volume learns the new size first */
    snprintf(mi, sizeof(mi), "21 1 7:0 / %s rw - ext4 /dev/loop3 rw\n", target);
    node_fixture_mounts(f, mi);
    node_fixture_replay(f, "{\"calls\": [{\"argv\": [\"nvme\", \"ns-rescan\", \"/dev/nvme1\"]},"
                           "{\"argv\": [\"losetup\", \"-c\", \"/dev/loop3\"]},"
                           "{\"argv\": [\"resize2fs\", \"/dev/loop3\"]},"
                           "{\"argv\": [\"blockdev\", \"--getsize64\", \"/dev/loop3\"],"
                           " \"stdout\": \"134217728\\n\"}]}");
    struct csi_reply r4 = reply();
    csi_node_expand_volume(&f->ctx, &q, &r4);
    assert_int_equal(r4.code, GRPC_STATUS_OK);
    csi_reply_release(&r4);
    /* nothing mounted there: NOT_FOUND */
    node_fixture_mounts(f, "");
    struct csi_reply r3 = reply();
    csi_node_expand_volume(&f->ctx, &q, &r3);
    assert_int_equal(r3.code, GRPC_STATUS_NOT_FOUND);
    csi_reply_release(&r3);
}

/* A block volume published on a file: the bind mount shows the host fs's
 * device and fstype, which must never be resized; the size is the file's. */
static void test_expand_block(void **state)
{
    struct node_fixture *f = *state;
    char target[PATH_MAX], mi[2 * PATH_MAX];
    node_fixture_path(f, "dev-file", target, sizeof(target));
    node_fixture_write(f, "dev-file", "0123456789");
    snprintf(mi, sizeof(mi), "30 1 254:0 /pool/vol.img %s rw - ext4 /dev/vda rw\n", target);
    node_fixture_mounts(f, mi);
    node_fixture_replay(f, "{\"calls\": []}"); /* no resize2fs /dev/vda, no blockdev */
    Csi__V1__NodeExpandVolumeRequest q = CSI__V1__NODE_EXPAND_VOLUME_REQUEST__INIT;
    q.volume_id = (char *)VOL;
    q.volume_path = target;
    struct csi_reply r = reply();
    csi_node_expand_volume(&f->ctx, &q, &r);
    assert_int_equal(r.code, GRPC_STATUS_OK);
    Csi__V1__NodeExpandVolumeResponse *resp =
        csi__v1__node_expand_volume_response__unpack(NULL, r.payload_len, r.payload);
    assert_int_equal(resp->capacity_bytes, 10);
    csi__v1__node_expand_volume_response__free_unpacked(resp, NULL);
    csi_reply_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_publish_fs_read_only, node_fixture_setup,
                                        node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_publish_block_and_unpublish, node_fixture_setup,
                                        node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_publish_bad_arguments, node_fixture_setup,
                                        node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_expand, node_fixture_setup, node_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_expand_block, node_fixture_setup,
                                        node_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
