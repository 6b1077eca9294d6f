/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slio-csi-call: send ONE CSI Node RPC to slio-csi over its unix socket and print the answer, for
 * the VM scenarios (busybox sh, no python or grpcurl in the guest). Uses the same protobuf-c code
 * as slio-csi and the gRPC C core.
 *
 *   slio-csi-call [-t SECONDS] SOCKET METHOD [key=value...]
 *   METHOD  stage | unstage | publish | unpublish | expand | stats
 *   keys    id=VOLUME_ID staging=DIR target=PATH path=PATH mode=fs|block fs=ext4|xfs ro=true
 *           size=BYTES (expand's required_bytes)
 *
 * Prints "ok" and the answer's fields as key=value lines (stats: bytes_total, bytes_used,
 * bytes_available, inodes_total, inodes_used, abnormal, message; expand: capacity_bytes).
 * Exit status: 0 = OK; 1 = the RPC failed ("code=N message" on stderr, N the gRPC status code);
 * 2 = bad usage.
 */
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csi.pb-c.h"

struct args {
    const char *id, *staging, *target, *path, *mode, *fs;
    bool ro;
    long long size;
};

static int usage(const char *why)
{
    fprintf(stderr,
            "slio-csi-call: %s\n"
            "usage: slio-csi-call [-t SECONDS] SOCKET stage|unstage|publish|unpublish|expand|stats"
            " [id=ID staging=DIR target=PATH path=PATH mode=fs|block fs=ext4|xfs ro=true"
            " size=BYTES]\n",
            why);
    return 2;
}

static int parse_size(const char *s, long long *ret)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    long long v = strtoll(s, &end, 10);
    if (*end || v < 0)
        return -1;
    *ret = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq)
            return usage("an argument is not key=value");
        size_t klen = (size_t)(eq - argv[i]);
        const char *v = eq + 1;
#define KEY(k) (klen == strlen(k) && strncmp(argv[i], k, klen) == 0)
        if (KEY("id"))
            a->id = v;
        else if (KEY("staging"))
            a->staging = v;
        else if (KEY("target"))
            a->target = v;
        else if (KEY("path"))
            a->path = v;
        else if (KEY("mode"))
            a->mode = v;
        else if (KEY("fs"))
            a->fs = v;
        else if (KEY("ro"))
            a->ro = strcmp(v, "true") == 0;
        else if (KEY("size")) {
            if (parse_size(v, &a->size) < 0)
                return usage("size= wants a whole number of bytes");
        } else
            return usage("unknown key");
#undef KEY
    }
    if (strcmp(a->mode, "fs") != 0 && strcmp(a->mode, "block") != 0)
        return usage("mode= is fs or block");
    return 0;
}

/* The capability of every request: single-node writer, a mount of fs= or a raw block device. */
static Csi__V1__VolumeCapability cap = CSI__V1__VOLUME_CAPABILITY__INIT;
static Csi__V1__VolumeCapability__AccessMode cap_mode =
    CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__INIT;
static Csi__V1__VolumeCapability__MountVolume cap_mount =
    CSI__V1__VOLUME_CAPABILITY__MOUNT_VOLUME__INIT;
static Csi__V1__VolumeCapability__BlockVolume cap_block =
    CSI__V1__VOLUME_CAPABILITY__BLOCK_VOLUME__INIT;

static void build_capability(const struct args *a)
{
    cap_mode.mode = CSI__V1__VOLUME_CAPABILITY__ACCESS_MODE__MODE__SINGLE_NODE_WRITER;
    cap.access_mode = &cap_mode;
    if (strcmp(a->mode, "block") == 0) {
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK;
        cap.block = &cap_block;
    } else {
        cap_mount.fs_type = (char *)a->fs;
        cap.access_type_case = CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT;
        cap.mount = &cap_mount;
    }
}

union request {
    Csi__V1__NodeStageVolumeRequest stage;
    Csi__V1__NodeUnstageVolumeRequest unstage;
    Csi__V1__NodePublishVolumeRequest publish;
    Csi__V1__NodeUnpublishVolumeRequest unpublish;
    Csi__V1__NodeExpandVolumeRequest expand;
    Csi__V1__NodeGetVolumeStatsRequest stats;
};

struct method {
    const char *name, *path;
    const ProtobufCMessageDescriptor *reply;
};

static const struct method methods[] = {
    {"stage", "/csi.v1.Node/NodeStageVolume", &csi__v1__node_stage_volume_response__descriptor},
    {"unstage", "/csi.v1.Node/NodeUnstageVolume",
     &csi__v1__node_unstage_volume_response__descriptor},
    {"publish", "/csi.v1.Node/NodePublishVolume",
     &csi__v1__node_publish_volume_response__descriptor},
    {"unpublish", "/csi.v1.Node/NodeUnpublishVolume",
     &csi__v1__node_unpublish_volume_response__descriptor},
    {"expand", "/csi.v1.Node/NodeExpandVolume", &csi__v1__node_expand_volume_response__descriptor},
    {"stats", "/csi.v1.Node/NodeGetVolumeStats",
     &csi__v1__node_get_volume_stats_response__descriptor},
};

static Csi__V1__CapacityRange range = CSI__V1__CAPACITY_RANGE__INIT;

/* Fill the request of method m from the arguments; returns the message to send. */
static ProtobufCMessage *build_request(const struct method *m, const struct args *a,
                                       union request *r)
{
    build_capability(a);
    if (strcmp(m->name, "stage") == 0) {
        r->stage = (Csi__V1__NodeStageVolumeRequest)CSI__V1__NODE_STAGE_VOLUME_REQUEST__INIT;
        r->stage.volume_id = (char *)a->id;
        r->stage.staging_target_path = (char *)a->staging;
        r->stage.volume_capability = &cap;
        return &r->stage.base;
    }
    if (strcmp(m->name, "unstage") == 0) {
        r->unstage = (Csi__V1__NodeUnstageVolumeRequest)CSI__V1__NODE_UNSTAGE_VOLUME_REQUEST__INIT;
        r->unstage.volume_id = (char *)a->id;
        r->unstage.staging_target_path = (char *)a->staging;
        return &r->unstage.base;
    }
    if (strcmp(m->name, "publish") == 0) {
        r->publish = (Csi__V1__NodePublishVolumeRequest)CSI__V1__NODE_PUBLISH_VOLUME_REQUEST__INIT;
        r->publish.volume_id = (char *)a->id;
        r->publish.staging_target_path = (char *)a->staging;
        r->publish.target_path = (char *)a->target;
        r->publish.volume_capability = &cap;
        r->publish.readonly = a->ro;
        return &r->publish.base;
    }
    if (strcmp(m->name, "unpublish") == 0) {
        r->unpublish =
            (Csi__V1__NodeUnpublishVolumeRequest)CSI__V1__NODE_UNPUBLISH_VOLUME_REQUEST__INIT;
        r->unpublish.volume_id = (char *)a->id;
        r->unpublish.target_path = (char *)a->target;
        return &r->unpublish.base;
    }
    if (strcmp(m->name, "expand") == 0) {
        r->expand = (Csi__V1__NodeExpandVolumeRequest)CSI__V1__NODE_EXPAND_VOLUME_REQUEST__INIT;
        r->expand.volume_id = (char *)a->id;
        r->expand.volume_path = (char *)a->path;
        r->expand.staging_target_path = (char *)a->staging;
        r->expand.volume_capability = &cap;
        if (a->size > 0) {
            range.required_bytes = a->size;
            r->expand.capacity_range = &range;
        }
        return &r->expand.base;
    }
    r->stats = (Csi__V1__NodeGetVolumeStatsRequest)CSI__V1__NODE_GET_VOLUME_STATS_REQUEST__INIT;
    r->stats.volume_id = (char *)a->id;
    r->stats.volume_path = (char *)a->path;
    r->stats.staging_target_path = (char *)a->staging;
    return &r->stats.base;
}

static void print_reply(const struct method *m, const ProtobufCMessage *msg)
{
    printf("ok\n");
    if (strcmp(m->name, "expand") == 0) {
        const Csi__V1__NodeExpandVolumeResponse *e = (const void *)msg;
        printf("capacity_bytes=%lld\n", (long long)e->capacity_bytes);
    } else if (strcmp(m->name, "stats") == 0) {
        const Csi__V1__NodeGetVolumeStatsResponse *s = (const void *)msg;
        for (size_t i = 0; i < s->n_usage; i++) {
            const Csi__V1__VolumeUsage *u = s->usage[i];
            const char *unit = u->unit == CSI__V1__VOLUME_USAGE__UNIT__INODES ? "inodes" : "bytes";
            printf("%s_total=%lld\n%s_used=%lld\n%s_available=%lld\n", unit, (long long)u->total,
                   unit, (long long)u->used, unit, (long long)u->available);
        }
        if (s->volume_condition)
            printf("abnormal=%s\nmessage=%s\n", s->volume_condition->abnormal ? "true" : "false",
                   s->volume_condition->message);
    }
}

/* One unary call on a fresh channel; 0 with the reply bytes in *ret_reply, or the gRPC status. */
static int unary_call(const char *socket, const char *path, const ProtobufCMessage *req,
                      int timeout_s, grpc_byte_buffer **ret_reply)
{
    char target[256];
    if ((size_t)snprintf(target, sizeof(target), "unix:%s", socket) >= sizeof(target)) {
        fprintf(stderr, "slio-csi-call: socket path too long\n");
        return GRPC_STATUS_INVALID_ARGUMENT;
    }
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(target, creds, NULL);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_seconds(timeout_s, GPR_TIMESPAN));
    grpc_call *call =
        grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                 grpc_slice_from_static_string(path), NULL, deadline, NULL);
    grpc_slice body = grpc_slice_malloc(protobuf_c_message_get_packed_size(req));
    protobuf_c_message_pack(req, GRPC_SLICE_START_PTR(body));
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&body, 1);
    grpc_slice_unref(body);

    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    grpc_byte_buffer *reply = NULL;
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &reply;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;
    if (grpc_call_start_batch(call, ops, 6, (void *)1, NULL) != GRPC_CALL_OK) {
        fprintf(stderr, "slio-csi-call: cannot start the call\n");
        status = GRPC_STATUS_INTERNAL;
    } else {
        grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    }
    if (status != GRPC_STATUS_OK) {
        char *msg = grpc_slice_to_c_string(details);
        fprintf(stderr, "code=%d %s\n", (int)status, msg);
        gpr_free(msg);
        if (reply)
            grpc_byte_buffer_destroy(reply);
        reply = NULL;
    }
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_byte_buffer_destroy(send);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    grpc_channel_destroy(ch);
    grpc_channel_credentials_release(creds);
    *ret_reply = reply;
    return (int)status;
}

static int decode_and_print(const struct method *m, grpc_byte_buffer *reply)
{
    grpc_byte_buffer_reader rd;
    if (!reply || !grpc_byte_buffer_reader_init(&rd, reply)) {
        fprintf(stderr, "code=%d no reply message\n", (int)GRPC_STATUS_INTERNAL);
        return 1;
    }
    grpc_slice all = grpc_byte_buffer_reader_readall(&rd);
    grpc_byte_buffer_reader_destroy(&rd);
    ProtobufCMessage *msg = protobuf_c_message_unpack(m->reply, NULL, GRPC_SLICE_LENGTH(all),
                                                      GRPC_SLICE_START_PTR(all));
    grpc_slice_unref(all);
    if (!msg) {
        fprintf(stderr, "code=%d the reply is not a %s\n", (int)GRPC_STATUS_INTERNAL,
                m->reply->name);
        return 1;
    }
    print_reply(m, msg);
    protobuf_c_message_free_unpacked(msg, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    long long timeout_s = 120;
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "-t") == 0) {
        if (parse_size(argv[2], &timeout_s) < 0 || timeout_s < 1 || timeout_s > 3600)
            return usage("-t wants 1..3600 seconds");
        i = 3;
    }
    if (argc - i < 2)
        return usage("SOCKET and METHOD are required");
    const char *socket = argv[i], *name = argv[i + 1];
    const struct method *m = NULL;
    for (size_t k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
        if (strcmp(methods[k].name, name) == 0)
            m = &methods[k];
    if (!m)
        return usage("unknown METHOD");
    struct args a = {.id = "", .staging = "", .target = "", .path = "", .mode = "fs", .fs = ""};
    int r = parse_args(argc - i - 2, argv + i + 2, &a);
    if (r)
        return r;

    union request req;
    ProtobufCMessage *msg = build_request(m, &a, &req);
    grpc_init();
    grpc_byte_buffer *reply = NULL;
    int status = unary_call(socket, m->path, msg, (int)timeout_s, &reply);
    int rc = status == GRPC_STATUS_OK ? decode_and_print(m, reply) : 1;
    if (reply)
        grpc_byte_buffer_destroy(reply);
    grpc_shutdown();
    return rc;
}
