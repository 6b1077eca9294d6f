/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gRPC C core server. Each call is a little state machine driven by the
 * completion queue (tag = the call):
 *
 *   REQUESTED  grpc_server_request_call() matched a new call
 *   RECEIVING  initial metadata sent, request message read: decode it, check
 *              deadline and key, hand it to a worker
 *   SENDING    a worker started {message, status, close}; on completion the
 *              call is freed
 *
 * Keys in flight are kept here rather than asked of slio_workq_busy(): the
 * workq holds a key until the work function returns, which is after the
 * reply was sent, so a client that sends its next call on the same volume
 * as soon as it has the answer would be told ABORTED. The worker drops the
 * key just before it sends the reply. Only the CQ thread adds keys, so
 * "in flight? else add" cannot race with another add.
 */
#include <errno.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLIO_LOG_COMPONENT "csi"
#include "grpc/server.h"
#include "slio/log.h"
#include "slio/workq.h"

#define PENDING_REQUESTS 16 /* calls the server may match before we re-arm */

enum call_state { CALL_REQUESTED, CALL_RECEIVING, CALL_SENDING };

struct keyset {
    pthread_mutex_t lock;
    char **keys;
    size_t n, cap;
};

struct csi_server {
    struct keyset inflight;
    grpc_server *server;
    grpc_completion_queue *cq;
    struct slio_workq *wq;
    const struct csi_method *methods;
    size_t n_methods;
    struct csi_ctx *ctx;
    atomic_bool stopping;
    atomic_long live; /* calls allocated and not yet freed */
    bool shut_down;
    char shutdown_tag;
};

struct call {
    enum call_state state;
    struct csi_server *srv;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array request_md;
    grpc_byte_buffer *recv;
    int cancelled;
    const struct csi_method *method;
    ProtobufCMessage *req;
    char *key; /* in s->inflight while the handler runs */
    struct csi_reply reply;
    grpc_slice status_details;
    grpc_byte_buffer *send;
};

/* Add key unless present: 0 added, -EBUSY present, -ENOMEM. */
static int keyset_add(struct keyset *ks, const char *key, char **ret_copy)
{
    int r = 0;
    pthread_mutex_lock(&ks->lock);
    for (size_t i = 0; i < ks->n && r == 0; i++)
        if (strcmp(ks->keys[i], key) == 0)
            r = -EBUSY;
    if (r == 0 && ks->n == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 64;
        char **k = realloc(ks->keys, cap * sizeof(*k));
        if (k) {
            ks->keys = k;
            ks->cap = cap;
        } else {
            r = -ENOMEM;
        }
    }
    char *copy = r == 0 ? strdup(key) : NULL;
    if (r == 0 && !copy)
        r = -ENOMEM;
    if (r == 0) {
        ks->keys[ks->n++] = copy;
        *ret_copy = copy;
    }
    pthread_mutex_unlock(&ks->lock);
    return r;
}

static void keyset_remove(struct keyset *ks, char *key)
{
    pthread_mutex_lock(&ks->lock);
    for (size_t i = 0; i < ks->n; i++)
        if (ks->keys[i] == key) {
            ks->keys[i] = ks->keys[--ks->n];
            break;
        }
    pthread_mutex_unlock(&ks->lock);
    free(key);
}

static void call_free(struct call *c)
{
    if (c->key)
        keyset_remove(&c->srv->inflight, c->key);
    if (c->req)
        protobuf_c_message_free_unpacked(c->req, NULL);
    if (c->recv)
        grpc_byte_buffer_destroy(c->recv);
    if (c->send)
        grpc_byte_buffer_destroy(c->send);
    grpc_slice_unref(c->status_details);
    csi_reply_release(&c->reply);
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->request_md);
    if (c->call)
        grpc_call_unref(c->call);
    atomic_fetch_sub(&c->srv->live, 1);
    free(c);
}

static void request_new(struct csi_server *s)
{
    struct call *c = calloc(1, sizeof(*c));
    if (!c) {
        log_error("out of memory arming a call");
        return;
    }
    c->srv = s;
    c->state = CALL_REQUESTED;
    c->status_details = grpc_empty_slice();
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->request_md);
    atomic_fetch_add(&s->live, 1);
    grpc_call_error e =
        grpc_server_request_call(s->server, &c->call, &c->details, &c->request_md, s->cq, s->cq, c);
    if (e != GRPC_CALL_OK) {
        log_error("grpc_server_request_call: error %d", e);
        call_free(c);
    }
}

/* Start the final batch: the response (when OK), the status, the close. Any thread. */
static void call_send_reply(struct call *c, bool with_initial_metadata)
{
    grpc_op ops[4] = {0};
    size_t n = 0;
    if (with_initial_metadata)
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (c->reply.code == GRPC_STATUS_OK) {
        grpc_slice sl =
            grpc_slice_from_copied_buffer((const char *)c->reply.payload, c->reply.payload_len);
        c->send = grpc_raw_byte_buffer_create(&sl, 1);
        grpc_slice_unref(sl);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = c->send;
    }
    c->status_details = grpc_slice_from_copied_string(c->reply.message);
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = c->reply.code;
    ops[n++].data.send_status_from_server.status_details =
        c->reply.message[0] ? &c->status_details : NULL;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
    c->state = CALL_SENDING;
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, c, NULL);
    if (e != GRPC_CALL_OK) {
        log_error("%s: sending the reply: grpc_call_start_batch error %d",
                  c->method ? c->method->path : "call", e);
        call_free(c);
    }
}

static void call_fail_now(struct call *c, bool with_initial_metadata, grpc_status_code code,
                          const char *msg)
{
    csi_reply_fail(&c->reply, code, "%s", msg);
    call_send_reply(c, with_initial_metadata);
}

static const struct csi_method *find_method(struct csi_server *s, grpc_slice path)
{
    for (size_t i = 0; i < s->n_methods; i++)
        if (grpc_slice_str_cmp(path, s->methods[i].path) == 0)
            return &s->methods[i];
    return NULL;
}

static void on_requested(struct call *c, bool ok)
{
    struct csi_server *s = c->srv;
    if (!ok) { /* the server is shutting down */
        call_free(c);
        return;
    }
    if (!atomic_load(&s->stopping))
        request_new(s);
    c->method = find_method(s, c->details.method);
    if (!c->method) {
        call_fail_now(c, true, GRPC_STATUS_UNIMPLEMENTED, "method not served by slio-csi");
        return;
    }
    grpc_op ops[2] = {0};
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_RECV_MESSAGE;
    ops[1].data.recv_message.recv_message = &c->recv;
    c->state = CALL_RECEIVING;
    if (grpc_call_start_batch(c->call, ops, 2, c, NULL) != GRPC_CALL_OK)
        call_free(c);
}

/* The caller's deadline on our monotonic clock; INT64_MAX when it set none. */
static int64_t deadline_ms(gpr_timespec deadline)
{
    if (gpr_time_cmp(deadline, gpr_inf_future(deadline.clock_type)) == 0)
        return INT64_MAX;
    gpr_timespec now = gpr_now(deadline.clock_type);
    int64_t left = gpr_time_to_millis(gpr_time_sub(deadline, now));
    return csi_now_ms() + left;
}

static void call_work(void *arg)
{
    struct call *c = arg;
    c->method->handler(c->srv->ctx, c->req, &c->reply);
    if (!c->reply.done)
        csi_reply_fail(&c->reply, GRPC_STATUS_INTERNAL, "%s: no answer", c->method->path);
    if (c->reply.code != GRPC_STATUS_OK)
        log_info("%s: status %d: %s", c->method->path, (int)c->reply.code, c->reply.message);
    call_send_reply(c, false);
}

static ProtobufCMessage *decode_request(struct call *c)
{
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, c->recv))
        return NULL;
    grpc_slice sl = grpc_byte_buffer_reader_readall(&reader);
    ProtobufCMessage *m = protobuf_c_message_unpack(c->method->request, NULL, GRPC_SLICE_LENGTH(sl),
                                                    GRPC_SLICE_START_PTR(sl));
    grpc_slice_unref(sl);
    grpc_byte_buffer_reader_destroy(&reader);
    return m;
}

static void on_received(struct call *c, bool ok)
{
    struct csi_server *s = c->srv;
    if (!ok) {
        call_free(c);
        return;
    }
    if (!c->recv) {
        call_fail_now(c, false, GRPC_STATUS_INVALID_ARGUMENT, "no request message");
        return;
    }
    c->req = decode_request(c);
    if (!c->req) {
        call_fail_now(c, false, GRPC_STATUS_INVALID_ARGUMENT,
                      "malformed request: not a valid protobuf message of this method");
        return;
    }
    c->reply.deadline_ms = deadline_ms(c->details.deadline);
    if (c->reply.deadline_ms <= csi_now_ms()) {
        call_fail_now(c, false, GRPC_STATUS_DEADLINE_EXCEEDED, "deadline passed before work began");
        return;
    }
    const char *key = c->method->key ? c->method->key(c->req) : NULL;
    if (key && key[0]) {
        int r = keyset_add(&s->inflight, key, &c->key);
        if (r < 0) {
            call_fail_now(
                c, false, r == -EBUSY ? GRPC_STATUS_ABORTED : GRPC_STATUS_RESOURCE_EXHAUSTED,
                r == -EBUSY ? "an operation on this object is in progress" : "out of memory");
            return;
        }
    }
    /* Keyed, so that a call admitted right after the previous one's reply
     * still runs after that one's worker has returned. */
    if (slio_workq_submit_keyed(s->wq, c->key, call_work, c) < 0)
        call_fail_now(c, false, GRPC_STATUS_RESOURCE_EXHAUSTED, "too many calls waiting");
}

static void dispatch(struct call *c, bool ok)
{
    switch (c->state) {
    case CALL_REQUESTED:
        on_requested(c, ok);
        break;
    case CALL_RECEIVING:
        on_received(c, ok);
        break;
    case CALL_SENDING:
        call_free(c);
        break;
    }
}

void csi_server_run(struct csi_server *s)
{
    for (;;) {
        grpc_event ev =
            grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        if (ev.tag == &s->shutdown_tag) {
            s->shut_down = true;
            grpc_server_cancel_all_calls(s->server);
        } else {
            dispatch(ev.tag, ev.success);
        }
        /* Once the server is shut down and every call is gone, nothing can start a batch. */
        if (s->shut_down && atomic_load(&s->live) == 0)
            grpc_completion_queue_shutdown(s->cq);
    }
}

void csi_server_stop(struct csi_server *s)
{
    if (atomic_exchange(&s->stopping, true))
        return;
    grpc_server_shutdown_and_notify(s->server, s->cq, &s->shutdown_tag);
}

/* "unix:///p" stays (after removing a stale socket); "tcp://h:p" becomes "h:p". */
static int endpoint_address(const char *endpoint, char **ret, struct slio_err *err)
{
    const char *unix_prefix = "unix://";
    if (strncmp(endpoint, unix_prefix, strlen(unix_prefix)) == 0) {
        const char *path = endpoint + strlen(unix_prefix);
        struct stat st;
        if (path[0] != '/') {
            slio_err_set(err, "endpoint \"%s\": a unix socket path must be absolute", endpoint);
            return -EINVAL;
        }
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            (void)unlink(path);
        *ret = strdup(endpoint);
    } else if (strncmp(endpoint, "tcp://", 6) == 0) {
        *ret = strdup(endpoint + 6);
    } else {
        slio_err_set(err, "endpoint \"%s\": expected unix:///path or tcp://host:port", endpoint);
        return -EINVAL;
    }
    return *ret ? 0 : -ENOMEM;
}

static int server_bind(struct csi_server *s, const struct csi_server_opts *opts,
                       struct slio_err *err)
{
    _cleanup_free_ char *addr = NULL;
    int r = endpoint_address(opts->endpoint, &addr, err);
    if (r < 0)
        return r;
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(s->server, addr, creds);
    grpc_server_credentials_release(creds);
    if (port == 0) {
        slio_err_set(err, "endpoint \"%s\": cannot listen (in use, or a bad address)",
                     opts->endpoint);
        return -EADDRINUSE;
    }
    return 0;
}

int csi_server_start(const struct csi_server_opts *opts, struct csi_server **ret,
                     struct slio_err *err)
{
    struct csi_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->methods = opts->methods;
    s->n_methods = opts->n_methods;
    s->ctx = opts->ctx;
    pthread_mutex_init(&s->inflight.lock, NULL);
    int r = slio_workq_new(opts->workers ? opts->workers : 8,
                           opts->max_queued ? opts->max_queued : 256, &s->wq);
    if (r < 0) {
        free(s);
        return r;
    }
    grpc_init();
    grpc_arg args[] = {
        {.type = GRPC_ARG_INTEGER,
         .key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = (int)(opts->max_message ? opts->max_message : 4u << 20)},
    };
    grpc_channel_args cargs = {.num_args = SLIO_ARRAY_SIZE(args), .args = args};
    s->server = grpc_server_create(&cargs, NULL);
    s->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(s->server, s->cq, NULL);
    r = server_bind(s, opts, err);
    if (r < 0) {
        csi_server_free(s);
        return r;
    }
    grpc_server_start(s->server);
    for (int i = 0; i < PENDING_REQUESTS; i++)
        request_new(s);
    *ret = s;
    return 0;
}

void csi_server_free(struct csi_server *s)
{
    if (!s)
        return;
    if (!s->shut_down) { /* never ran (or run was not called): shut down and drain here */
        csi_server_stop(s);
        csi_server_run(s);
    }
    slio_workq_free(s->wq);
    grpc_server_destroy(s->server);
    grpc_completion_queue_destroy(s->cq);
    grpc_shutdown();
    for (size_t i = 0; i < s->inflight.n; i++)
        free(s->inflight.keys[i]);
    free(s->inflight.keys);
    pthread_mutex_destroy(&s->inflight.lock);
    free(s);
}
