/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd's JSON answers → store structs, through the one field-table decoder.
 * Unknown members are allowed (etcd adds fields between versions: cluster_id,
 * version, lease, raft_term...), but every member we use is checked for type
 * and range, so a wrong or hostile etcd answer becomes -EBADMSG, never a crash,
 * an unbounded allocation or a revision that goes backwards.
 */
#include <string.h>

#include "etcd_codec.h"
#include "slio/json.h"
#include "slio/parse.h"

/* ---- custom field decoders ----------------------------------------------------------- */

/* grpc-gateway writes int64 as a decimal string; never negative in what we read. */
static int dec_i64(const json_t *v, void *member, struct slio_err *err)
{
    if (!json_is_string(v) ||
        slio_parse_i64(json_string_value(v), 0, INT64_MAX, (int64_t *)member) < 0) {
        slio_err_set(err, "expected a non-negative decimal string");
        return -EINVAL;
    }
    return 0;
}

struct bytes {
    char *p;
    size_t len;
};

static void bytes_release(void *member)
{
    struct bytes *b = member;
    free(b->p);
    *b = (struct bytes){0};
}

static int dec_b64(const json_t *v, struct bytes *b, size_t max, struct slio_err *err)
{
    int r =
        json_is_string(v) ? etcd_b64_decode(json_string_value(v), max, &b->p, &b->len) : -EBADMSG;
    if (r == -EBADMSG) {
        slio_err_set(err, "expected base64 of at most %zu bytes", max);
        return -EINVAL;
    }
    return r;
}

static int dec_key(const json_t *v, void *member, struct slio_err *err)
{
    return dec_b64(v, member, ETCD_KEY_MAX, err);
}

static int dec_value(const json_t *v, void *member, struct slio_err *err)
{
    return dec_b64(v, member, STORE_VALUE_MAX, err);
}

#define I64(st, m, name) SLIO_JSON_FIELD(st, m, name, SLIO_JSON_CUSTOM, .decode = dec_i64)
#define BYTES(st, m, name, fn)                                                                     \
    SLIO_JSON_FIELD(st, m, name, SLIO_JSON_CUSTOM, .decode = fn, .release = bytes_release)

static int decode(const json_t *j, const struct slio_json_field *fields, size_t n, void *out,
                  size_t size, const char *what, struct slio_err *err)
{
    if (!json_is_object(j)) {
        slio_err_set(err, "etcd %s: expected object, got %s", what, slio_json_type_name(j));
        return -EBADMSG;
    }
    int r = slio_json_decode_object(j, fields, n, out, size, SLIO_JSON_ALLOW_UNKNOWN, err);
    if (r < 0)
        slio_err_prefix(err, "etcd %s", what);
    return r == -EINVAL ? -EBADMSG : r;
}
#define DECODE(j, fields, out, what, err)                                                          \
    decode((j), (fields), SLIO_ARRAY_SIZE(fields), (out), sizeof(*(out)), (what), (err))

/* ---- header ---------------------------------------------------------------------------- */

struct header {
    int64_t revision;
};
static const struct slio_json_field header_fields[] = {
    I64(struct header, revision, "revision"),
};

struct with_header {
    struct header header;
};
static const struct slio_json_field with_header_fields[] = {
    SLIO_JSON_FIELD(struct with_header, header, "header", SLIO_JSON_OBJECT, .required = true,
                    .fields = header_fields, .n_fields = SLIO_ARRAY_SIZE(header_fields)),
};

int etcd_decode_header(const json_t *resp, int64_t *ret_revision, struct slio_err *err)
{
    struct with_header h = {{0}};
    int r = DECODE(resp, with_header_fields, &h, "answer", err);
    if (r < 0)
        return r;
    if (h.header.revision < 1) {
        slio_err_set(err, "etcd answer: header revision %lld", (long long)h.header.revision);
        return -EBADMSG;
    }
    *ret_revision = ETCD_REV_TO_STORE(h.header.revision);
    return 0;
}

/* ---- key-values ------------------------------------------------------------------------ */

struct kv_doc {
    struct bytes key, value;
    int64_t create_revision, mod_revision, lease;
};
static const struct slio_json_field kv_fields[] = {
    I64(struct kv_doc, lease, "lease"),
    BYTES(struct kv_doc, key, "key", dec_key),
    BYTES(struct kv_doc, value, "value", dec_value),
    I64(struct kv_doc, create_revision, "create_revision"),
    I64(struct kv_doc, mod_revision, "mod_revision"),
};

static int kv_key_check(const struct kv_doc *d, const char *ns, bool ns_exact, struct slio_err *err)
{
    size_t ns_len = strlen(ns), n = d->key.len;
    bool ok = n >= ns_len && memcmp(d->key.p, ns, ns_len) == 0 && memchr(d->key.p, 0, n) == NULL;
    if (ok)
        ok = ns_exact ? n == ns_len : n > ns_len && n - ns_len <= STORE_KEY_MAX;
    if (!ok)
        slio_err_set(err, "etcd kv: key of %zu bytes outside the namespace \"%s\"", n, ns);
    return ok ? 0 : -EBADMSG;
}

int etcd_decode_kv(const json_t *j, const char *ns, bool ns_exact, int64_t max_rev,
                   struct store_kv *ret, struct slio_err *err)
{
    struct kv_doc d = {{0}};
    int r = DECODE(j, kv_fields, &d, "kv", err);
    if (r < 0)
        return r;
    if (!d.key.p) {
        slio_err_set(err, "etcd kv: no key");
        r = -EBADMSG;
    }
    if (r == 0)
        r = kv_key_check(&d, ns, ns_exact, err);
    /* etcd revision 1 is the empty key space: every key has 2 <= create <= mod */
    int64_t create = ETCD_REV_TO_STORE(d.create_revision), mod = ETCD_REV_TO_STORE(d.mod_revision);
    if (r == 0 && (create < 1 || mod < create || mod > max_rev)) {
        slio_err_set(err, "etcd kv: revisions create %lld mod %lld (store at %lld)",
                     (long long)create, (long long)mod, (long long)max_rev);
        r = -EBADMSG;
    }
    if (r == 0 && !d.value.p && !(d.value.p = strdup("")))
        r = -ENOMEM;
    _cleanup_free_ char *key = NULL;
    if (r == 0 && !(key = strdup(d.key.p + (ns_exact ? 0 : strlen(ns)))))
        r = -ENOMEM;
    if (r < 0) {
        bytes_release(&d.key);
        bytes_release(&d.value);
        return r;
    }
    bytes_release(&d.key);
    *ret = (struct store_kv){TAKE_PTR(key), d.value.p, d.value.len, create, mod};
    return 0;
}

/* ---- range ----------------------------------------------------------------------------- */

struct range_doc {
    struct header header;
    json_t *kvs;
    bool more;
};
static const struct slio_json_field range_fields[] = {
    SLIO_JSON_FIELD(struct range_doc, header, "header", SLIO_JSON_OBJECT, .required = true,
                    .fields = header_fields, .n_fields = SLIO_ARRAY_SIZE(header_fields)),
    SLIO_JSON_FIELD(struct range_doc, kvs, "kvs", SLIO_JSON_VALUE),
    SLIO_JSON_FIELD(struct range_doc, more, "more", SLIO_JSON_BOOL),
};

static int range_item(const json_t *j, const struct etcd_range_want *w, int64_t rev,
                      const char *prev, struct store_kv *kv, struct slio_err *err)
{
    int r = etcd_decode_kv(j, w->ns, false, rev, kv, err);
    if (r < 0)
        return r;
    bool in_range = strncmp(kv->key, w->prefix, strlen(w->prefix)) == 0 &&
                    (!prev || strcmp(kv->key, prev) > 0) &&
                    (!w->after || strcmp(kv->key, w->after) > 0);
    if (!in_range) {
        slio_err_set(err, "etcd range: key \"%.100s\" out of order or outside \"%s\"", kv->key,
                     w->prefix);
        store_kv_clear(kv);
        return -EBADMSG;
    }
    return 0;
}

int etcd_decode_range(const json_t *resp, const struct etcd_range_want *want,
                      struct store_kv_list *ret, int64_t *ret_revision, struct slio_err *err)
{
    struct range_doc d = {{0}};
    struct store_kv_list l = {0};
    int r = DECODE(resp, range_fields, &d, "range", err);
    if (r < 0)
        return r;
    int64_t rev = ETCD_REV_TO_STORE(d.header.revision);
    size_t n = d.kvs ? json_array_size(d.kvs) : 0;
    if (rev < 0 || (d.kvs && !json_is_array(d.kvs)) || n > want->limit) {
        slio_err_set(err, "etcd range: %zu kvs for a limit of %zu (or a bad header)", n,
                     want->limit);
        return -EBADMSG;
    }
    if (n && !(l.items = calloc(n, sizeof(*l.items))))
        return -ENOMEM;
    for (; l.n < n; l.n++) {
        const char *prev = l.n ? l.items[l.n - 1].key : NULL;
        r = range_item(json_array_get(d.kvs, l.n), want, rev, prev, &l.items[l.n], err);
        if (r < 0) {
            store_kv_list_clear(&l);
            return r;
        }
    }
    l.more = d.more;
    *ret = l;
    if (ret_revision)
        *ret_revision = rev;
    return 0;
}

/* ---- txn ------------------------------------------------------------------------------- */

struct txn_doc {
    struct header header;
    bool succeeded;
    json_t *responses;
};
static const struct slio_json_field txn_fields[] = {
    SLIO_JSON_FIELD(struct txn_doc, header, "header", SLIO_JSON_OBJECT, .required = true,
                    .fields = header_fields, .n_fields = SLIO_ARRAY_SIZE(header_fields)),
    SLIO_JSON_FIELD(struct txn_doc, succeeded, "succeeded", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct txn_doc, responses, "responses", SLIO_JSON_VALUE),
};

int etcd_decode_txn(const json_t *resp, size_t n_responses, bool *ret_succeeded,
                    int64_t *ret_revision, const json_t **ret_responses, struct slio_err *err)
{
    struct txn_doc d = {{0}};
    int r = DECODE(resp, txn_fields, &d, "txn", err);
    if (r < 0)
        return r;
    size_t n = d.responses ? json_array_size(d.responses) : 0;
    if (d.header.revision < 1 || (d.responses && !json_is_array(d.responses)) || n != n_responses) {
        slio_err_set(err, "etcd txn: %zu responses, %zu expected (or a bad header)", n,
                     n_responses);
        return -EBADMSG;
    }
    *ret_succeeded = d.succeeded;
    *ret_revision = ETCD_REV_TO_STORE(d.header.revision);
    *ret_responses = d.responses;
    return 0;
}

struct txn_range_doc {
    json_t *response_range;
};
static const struct slio_json_field txn_range_fields[] = {
    SLIO_JSON_FIELD(struct txn_range_doc, response_range, "response_range", SLIO_JSON_VALUE,
                    .required = true),
};

/* The kvs (0 or 1) of a failure-branch range of one key; *ret_kv NULL when absent. */
static int txn_range_kv(const json_t *response, const json_t **ret_kv, struct slio_err *err)
{
    struct txn_range_doc d = {0};
    struct range_doc rd = {{0}};
    int r = DECODE(response, txn_range_fields, &d, "txn response", err);
    if (r == 0)
        r = DECODE(d.response_range, range_fields, &rd, "txn range", err);
    if (r < 0)
        return r;
    size_t n = rd.kvs && json_is_array(rd.kvs) ? json_array_size(rd.kvs) : 0;
    if ((rd.kvs && !json_is_array(rd.kvs)) || n > 1) {
        slio_err_set(err, "etcd txn range: %zu kvs for one key", n);
        return -EBADMSG;
    }
    *ret_kv = n ? json_array_get(rd.kvs, 0) : NULL;
    return 0;
}

int etcd_decode_txn_range(const json_t *response, const char *etcd_key, int64_t max_rev,
                          int64_t *ret_mod, int64_t *ret_create, struct slio_err *err)
{
    const json_t *j;
    struct store_kv kv = {0};
    int r = txn_range_kv(response, &j, err);
    if (r == 0 && j)
        r = etcd_decode_kv(j, etcd_key, true, max_rev, &kv, err);
    if (r < 0)
        return r;
    *ret_mod = kv.mod_revision;
    *ret_create = kv.create_revision;
    store_kv_clear(&kv);
    return 0;
}

static bool printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

int etcd_decode_leader(const json_t *response, const char *etcd_key, int64_t max_rev,
                       struct etcd_leader *ret, struct slio_err *err)
{
    const json_t *j;
    struct etcd_leader l = {0};
    int r = txn_range_kv(response, &j, err);
    if (r < 0 || !j) {
        if (r == 0)
            *ret = l;
        return r;
    }
    struct store_kv kv;
    r = etcd_decode_kv(j, etcd_key, true, max_rev, &kv, err);
    if (r < 0)
        return r;
    struct kv_doc d = {{0}};
    r = DECODE(j, kv_fields, &d, "leader kv", err); /* again, for the lease */
    bytes_release(&d.key);
    bytes_release(&d.value);
    if (r == 0 && (kv.value_len == 0 || kv.value_len >= sizeof(l.url) ||
                   !printable(kv.value, kv.value_len) || d.lease == 0)) {
        slio_err_set(err, "etcd leader key: a value of %zu bytes that is no URL, or no lease",
                     kv.value_len);
        r = -EBADMSG;
    }
    if (r == 0) {
        memcpy(l.url, kv.value, kv.value_len + 1);
        l.create_revision = kv.create_revision;
        l.lease = d.lease;
        *ret = l;
    }
    store_kv_clear(&kv);
    return r;
}

/* ---- watch ----------------------------------------------------------------------------- */

struct event_doc {
    const char *type;
    json_t *kv;
};
static const struct slio_json_field event_fields[] = {
    SLIO_JSON_FIELD(struct event_doc, type, "type", SLIO_JSON_STRING, .max = 16),
    SLIO_JSON_FIELD(struct event_doc, kv, "kv", SLIO_JSON_VALUE, .required = true),
};

struct watch_doc {
    struct header header;
    bool created, canceled;
    int64_t compact_revision;
    json_t *events;
};
static const struct slio_json_field watch_fields[] = {
    SLIO_JSON_FIELD(struct watch_doc, header, "header", SLIO_JSON_OBJECT, .required = true,
                    .fields = header_fields, .n_fields = SLIO_ARRAY_SIZE(header_fields)),
    SLIO_JSON_FIELD(struct watch_doc, created, "created", SLIO_JSON_BOOL),
    SLIO_JSON_FIELD(struct watch_doc, canceled, "canceled", SLIO_JSON_BOOL),
    I64(struct watch_doc, compact_revision, "compact_revision"),
    SLIO_JSON_FIELD(struct watch_doc, events, "events", SLIO_JSON_VALUE),
};

/* Events carry whole kvs; only the key range and the revision matter here. */
static int watch_event(const json_t *j, const char *key_prefix, struct etcd_watch_msg *m,
                       struct slio_err *err)
{
    struct event_doc e = {0};
    struct kv_doc kv = {{0}};
    int r = DECODE(j, event_fields, &e, "watch event", err);
    if (r == 0)
        r = DECODE(e.kv, kv_fields, &kv, "watch event kv", err);
    if (r < 0)
        return r;
    size_t pl = strlen(key_prefix);
    bool ok = kv.key.p && kv.key.len >= pl && memcmp(kv.key.p, key_prefix, pl) == 0 &&
              kv.mod_revision >= 2 && ETCD_REV_TO_STORE(kv.mod_revision) >= m->last_mod_revision &&
              (!e.type || strcmp(e.type, "PUT") == 0 || strcmp(e.type, "DELETE") == 0);
    bytes_release(&kv.key);
    bytes_release(&kv.value);
    if (!ok) {
        slio_err_set(err, "etcd watch event: bad type, key or revision");
        return -EBADMSG;
    }
    m->n_events++;
    m->n_deletes += e.type && strcmp(e.type, "DELETE") == 0;
    m->last_mod_revision = ETCD_REV_TO_STORE(kv.mod_revision);
    return 0;
}

int etcd_decode_watch_msg(const json_t *msg, const char *key_prefix, struct etcd_watch_msg *ret,
                          struct slio_err *err)
{
    const json_t *result = json_object_get(msg, "result");
    if (!result) {
        int code = etcd_error_code(msg, err);
        return code >= 0 ? -EREMOTEIO : (slio_err_set(err, "etcd watch: no result"), -EBADMSG);
    }
    struct watch_doc d = {{0}};
    struct etcd_watch_msg m = {0};
    int r = DECODE(result, watch_fields, &d, "watch", err);
    if (r < 0)
        return r;
    if (d.header.revision < 1 || (d.events && !json_is_array(d.events))) {
        slio_err_set(err, "etcd watch: bad header or events");
        return -EBADMSG;
    }
    for (size_t i = 0; d.events && i < json_array_size(d.events); i++) {
        r = watch_event(json_array_get(d.events, i), key_prefix, &m, err);
        if (r < 0)
            return r;
    }
    m.revision = ETCD_REV_TO_STORE(d.header.revision);
    m.created = d.created;
    m.canceled = d.canceled;
    m.compact_revision = d.compact_revision ? ETCD_REV_TO_STORE(d.compact_revision) : 0;
    *ret = m;
    return 0;
}

/* ---- leases and errors ----------------------------------------------------------------- */

struct lease_doc {
    int64_t id, ttl;
};
static const struct slio_json_field lease_fields[] = {
    I64(struct lease_doc, id, "ID"),
    I64(struct lease_doc, ttl, "TTL"),
};

int etcd_decode_lease(const json_t *resp, bool stream, int64_t *ret_id, int64_t *ret_ttl,
                      struct slio_err *err)
{
    const json_t *j = stream ? json_object_get(resp, "result") : resp;
    struct lease_doc d = {0};
    if (stream && !j) {
        int code = etcd_error_code(resp, err);
        if (code == 5) /* NotFound: the lease is gone */
            return -ENOENT;
        return code >= 0 ? -EREMOTEIO : (slio_err_set(err, "etcd lease: no result"), -EBADMSG);
    }
    int r = DECODE(j, lease_fields, &d, "lease", err);
    if (r < 0)
        return r;
    if (d.id == 0 || d.ttl > 1000000) {
        slio_err_set(err, "etcd lease: ID %lld TTL %lld", (long long)d.id, (long long)d.ttl);
        return -EBADMSG;
    }
    *ret_id = d.id;
    *ret_ttl = d.ttl;
    return 0;
}

int etcd_error_code(const json_t *body, struct slio_err *err)
{
    /* unary: {"error": "text", "code": N, "message": "text"};
     * streams: {"error": {"grpc_code": N, "message": "text", ...}} */
    const json_t *e = json_object_get(body, "error");
    const json_t *src = json_is_object(e) ? e : body;
    const json_t *code = json_object_get(src, json_is_object(e) ? "grpc_code" : "code");
    const char *msg = json_string_value(json_object_get(src, "message"));
    if (!json_is_integer(code) || json_integer_value(code) < 0 || json_integer_value(code) > 16)
        return -1;
    slio_err_set(err, "etcd: %.200s (gRPC code %d)", msg ? msg : "no message",
                 (int)json_integer_value(code));
    return (int)json_integer_value(code);
}
