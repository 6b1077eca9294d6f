/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding etcd v3's JSON gateway answers (grpc-gateway over etcdserverpb):
 * bytes are standard base64, int64 are decimal strings, proto3 defaults
 * (false, 0, "", []) are left out. Everything etcd says is untrusted: sizes,
 * revisions and key ranges are checked here, before the store believes them
 * (tests/fuzz/controller/etcd_codec_fuzz.c feeds this file junk).
 *
 * Revisions: etcd counts its empty key space as revision 1, the store
 * interface as 0 ("nothing was ever written"), so every revision crossing
 * this boundary is shifted by one (ETCD_REV_TO_STORE / ETCD_REV_FROM_STORE).
 * Every decoder below returns store revisions.
 *
 * Errors: -EBADMSG with the field named in err for anything malformed or
 * out of bounds, -ENOMEM. Outputs are written only on success.
 */
#ifndef SLIO_CONTROLLER_ETCD_CODEC_H
#define SLIO_CONTROLLER_ETCD_CODEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define ETCD_REV_TO_STORE(r)   ((r)-1)
#define ETCD_REV_FROM_STORE(r) ((r) + 1)

/* Longest etcd key we send or accept: namespace (<= 128) + "kv" + a store key. */
#define ETCD_NS_MAX  128
#define ETCD_KEY_MAX (ETCD_NS_MAX + 2 + STORE_KEY_MAX)

/* Standard base64 with padding, to free(); NULL when out of memory. */
char *etcd_b64_encode(const void *data, size_t len);
/* Strict: only the standard alphabet, exact padding, no whitespace. The result is
 * NUL-terminated (*ret_len excludes the NUL); -EBADMSG beyond max_len decoded bytes. */
int etcd_b64_decode(const char *s, size_t max_len, char **ret, size_t *ret_len) _must_check_;

/* The header every answer carries: its revision (the store's revision at that moment). */
int etcd_decode_header(const json_t *resp, int64_t *ret_revision,
                       struct slio_err *err) _must_check_;

/*
 * One KeyValue. Its key must be ns followed by 1..STORE_KEY_MAX bytes without NUL
 * (ns is stripped: kv->key is the store key) — or, with ns_exact, exactly ns (the
 * leader key; kv->key is then ns). Revisions: 1 <= create <= mod <= max_rev.
 */
int etcd_decode_kv(const json_t *j, const char *ns, bool ns_exact, int64_t max_rev,
                   struct store_kv *ret, struct slio_err *err) _must_check_;

/*
 * A RangeResponse of the store's key space (ns + the keys): at most limit kvs, in
 * strictly ascending order, each > after (a store key, may be NULL) and starting with
 * ns + prefix. ret->more from etcd's "more".
 */
struct etcd_range_want {
    const char *ns;
    const char *prefix;
    const char *after;
    size_t limit;
};
int etcd_decode_range(const json_t *resp, const struct etcd_range_want *want,
                      struct store_kv_list *ret, int64_t *ret_revision,
                      struct slio_err *err) _must_check_;

/* A TxnResponse: whether it succeeded, the revision, and (borrowed from resp) the
 * responses array, which has exactly n_responses members. */
int etcd_decode_txn(const json_t *resp, size_t n_responses, bool *ret_succeeded,
                    int64_t *ret_revision, const json_t **ret_responses,
                    struct slio_err *err) _must_check_;

/* A failure-branch response_range asking for one key (etcd key, exact): its mod and create
 * revisions as store revisions, both 0 when the key is absent. */
int etcd_decode_txn_range(const json_t *response, const char *etcd_key, int64_t max_rev,
                          int64_t *ret_mod, int64_t *ret_create, struct slio_err *err) _must_check_;

/* The leader key as a failure-branch response_range returns it (etcd_decode_txn_range's
 * shape): absent (create 0), or its create revision (store), lease and value (the
 * leader's advertised URL: 1..url_size-1 printable bytes). */
struct etcd_leader {
    int64_t create_revision;
    int64_t lease;
    char url[512];
};
int etcd_decode_leader(const json_t *response, const char *etcd_key, int64_t max_rev,
                       struct etcd_leader *ret, struct slio_err *err) _must_check_;

/* One message of a watch stream ({"result": WatchResponse} or {"error": ...}). */
struct etcd_watch_msg {
    int64_t revision;         /* header revision (store) */
    bool created;             /* the watch is set up */
    bool canceled;            /* etcd ended it (compaction, error) */
    int64_t compact_revision; /* > 0 when the start revision was compacted (store) */
    size_t n_events;
    size_t n_deletes;
    int64_t last_mod_revision; /* of the newest event (store), 0 without events */
};
/* Every event's key must start with key_prefix (an etcd key). -EREMOTEIO for an error
 * message, its text in err. */
int etcd_decode_watch_msg(const json_t *msg, const char *key_prefix, struct etcd_watch_msg *ret,
                          struct slio_err *err) _must_check_;

/* LeaseGrantResponse (stream false) or a LeaseKeepAlive stream message (stream true):
 * the lease ID and its TTL in seconds (0: the lease is gone). A stream error message:
 * -ENOENT for NotFound (the lease is gone), -EREMOTEIO for others. */
int etcd_decode_lease(const json_t *resp, bool stream, int64_t *ret_id, int64_t *ret_ttl,
                      struct slio_err *err) _must_check_;

/* A gateway error body {"error": "...", "code": N, "message": "..."}: the gRPC code
 * (-1 when the body says nothing usable) and the message into err. */
int etcd_error_code(const json_t *body, struct slio_err *err);

#endif
