/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The etcd v3 store: store.h's model is etcd's, so each call is one etcd
 * request through the JSON gateway (etcd_http.c), decoded and checked by
 * etcd_codec.c.
 *
 * Key space under the configured prefix P (default "/slio/"):
 *   P "kv" <store key>   the store's keys ("/slio/kv/slio/volumes/<uuid>")
 *   P "leader"           the leader key (etcd_election.c), outside the store's keys
 * so no store key can collide with the election and a list never sees it.
 *
 * Revisions are etcd's, shifted by one (etcd_codec.h): the store's "0 =
 * nothing written" is etcd's 1.
 *
 * Transactions: etcd_txn.c.
 *
 * store_wait: a prefix read with min_mod_revision answers at once when keys
 * changed after the cursor (the common case, and without the values a watch
 * from history would stream); otherwise a watch from after_revision + 1
 * blocks on etcd's stream until an event or the deadline — no polling.
 */
#define SLIO_LOG_COMPONENT "store"
#include <string.h>
#include <time.h>

#include "etcd_codec.h"
#include "etcd_int.h"
#include "slio/json.h"
#include "slio/log.h"

#define LIST_ANSWER_MAX (64u << 20) /* a list page answer; past it the page is halved */
#define WATCH_MSG_MAX   (16u << 20) /* one watch message; past it: an early wake-up */

/* ---- keys ----------------------------------------------------------------------------- */

/* base64 of ns + key (+ one NUL byte when past: the first key after key). */
char *etcd_key_b64(const struct etcd_store *s, const char *key, bool past)
{
    size_t nl = strlen(s->ns), kl = strlen(key);
    _cleanup_free_ char *buf = malloc(nl + kl + 1);
    if (!buf)
        return NULL;
    memcpy(buf, s->ns, nl);
    memcpy(buf + nl, key, kl);
    buf[nl + kl] = '\0';
    return etcd_b64_encode(buf, nl + kl + (past ? 1 : 0));
}

/* base64 of the end of the range of keys starting with ns + prefix (ns is printable,
 * so incrementing its last byte always works when the prefix is all 0xff). */
static char *ekey_end_b64(const struct etcd_store *s, const char *prefix)
{
    _cleanup_free_ char *k = NULL;
    if (asprintf(&k, "%s%s", s->ns, prefix) < 0)
        return NULL;
    size_t n = strlen(k);
    while (n > 0 && (unsigned char)k[n - 1] == 0xff)
        n--;
    k[n - 1] = (char)((unsigned char)k[n - 1] + 1);
    return etcd_b64_encode(k, n);
}

int etcd_store_call(struct etcd_store *s, const char *path, json_t *body, size_t max, json_t **ret,
                    struct slio_err *err)
{
    int r = body ? etcd_http_call(s->http, path, body, max, ret, err) : -ENOMEM;
    json_decref(body);
    if (r == -EBADMSG || r == -ENOENT)
        r = -EIO; /* etcd answered something we cannot use */
    return r;
}

/* ---- get, list, revision ----------------------------------------------------------------- */

static int range(struct etcd_store *s, json_t *body, const struct etcd_range_want *w, size_t max,
                 struct store_kv_list *ret, int64_t *ret_rev, struct slio_err *err)
{
    _cleanup_json_ json_t *resp = NULL;
    int r = etcd_store_call(s, "/v3/kv/range", body, max, &resp, err);
    if (r == 0)
        r = etcd_decode_range(resp, w, ret, ret_rev, err);
    return r == -EBADMSG ? -EIO : r;
}

static int etcd_get(void *impl, const char *key, struct store_kv *ret, struct slio_err *err)
{
    struct etcd_store *s = impl;
    _cleanup_free_ char *k = NULL;
    struct store_kv_list l;
    int r = store_key_check(key, err);
    if (r < 0)
        return r;
    if (!(k = etcd_key_b64(s, key, false)))
        return -ENOMEM;
    struct etcd_range_want w = {s->ns, key, NULL, 1};
    r = range(s, json_pack("{s:s}", "key", k), &w, SMALL_ANSWER_MAX, &l, NULL, err);
    if (r < 0)
        return r;
    if (l.n == 0 || strcmp(l.items[0].key, key) != 0) {
        store_kv_list_clear(&l);
        slio_err_set(err, "key \"%s\" not found", key);
        return -ENOENT;
    }
    *ret = l.items[0];
    l.items[0] = (struct store_kv){0};
    store_kv_list_clear(&l);
    return 0;
}

static int etcd_revision(void *impl, int64_t *ret, struct slio_err *err)
{
    struct etcd_store *s = impl;
    _cleanup_free_ char *k = etcd_b64_encode(s->leader_key, strlen(s->leader_key));
    _cleanup_json_ json_t *resp = NULL;
    if (!k)
        return -ENOMEM;
    int r = etcd_store_call(s, "/v3/kv/range", json_pack("{s:s,s:b}", "key", k, "count_only", 1),
                            SMALL_ANSWER_MAX, &resp, err);
    if (r == 0)
        r = etcd_decode_header(resp, ret, err) < 0 ? -EIO : 0;
    return r;
}

static int etcd_list(void *impl, const char *prefix, const char *start_after, size_t limit,
                     bool keys_only, struct store_kv_list *ret, int64_t *ret_revision,
                     struct slio_err *err)
{
    struct etcd_store *s = impl;
    if (limit == 0 || limit > STORE_LIST_MAX) {
        slio_err_set(err, "store list limit %zu (1..%d)", limit, STORE_LIST_MAX);
        return -EINVAL;
    }
    size_t pl = strlen(prefix);
    bool resume = start_after && strcmp(start_after, prefix) >= 0;
    if (resume && strncmp(start_after, prefix, pl) != 0) { /* past every key of the prefix */
        int64_t rev;
        int r = etcd_revision(s, &rev, err);
        if (r == 0) {
            *ret = (struct store_kv_list){0};
            if (ret_revision)
                *ret_revision = rev;
        }
        return r;
    }
    _cleanup_free_ char *from = etcd_key_b64(s, resume ? start_after : prefix, resume);
    _cleanup_free_ char *end = ekey_end_b64(s, prefix);
    if (!from || !end)
        return -ENOMEM;
    struct etcd_range_want w = {s->ns, prefix, resume ? start_after : NULL, limit};
    for (;;) {
        json_t *body = json_pack("{s:s,s:s,s:I,s:b}", "key", from, "range_end", end, "limit",
                                 (json_int_t)w.limit, "keys_only", keys_only);
        int r = range(s, body, &w, LIST_ANSWER_MAX, ret, ret_revision, err);
        if (r != -EFBIG || w.limit == 1)
            return r;
        w.limit /= 2; /* big values: a shorter page, "more" says the rest exists */
    }
}

/* ---- wait ------------------------------------------------------------------------------ */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Did a key under prefix that still exists change after the cursor? */
static int changed_since(struct etcd_store *s, const char *prefix, int64_t after, bool *ret,
                         int64_t *ret_rev, struct slio_err *err)
{
    _cleanup_free_ char *from = etcd_key_b64(s, prefix, false), *end = ekey_end_b64(s, prefix);
    struct store_kv_list l;
    if (!from || !end)
        return -ENOMEM;
    struct etcd_range_want w = {s->ns, prefix, NULL, 1};
    json_t *body =
        json_pack("{s:s,s:s,s:i,s:b,s:I}", "key", from, "range_end", end, "limit", 1, "keys_only",
                  1, "min_mod_revision", (json_int_t)ETCD_REV_FROM_STORE(after + 1));
    int r = range(s, body, &w, SMALL_ANSWER_MAX, &l, ret_rev, err);
    if (r < 0)
        return r;
    *ret = l.n > 0;
    store_kv_list_clear(&l);
    return 0;
}

struct waiter {
    char *key_prefix; /* etcd */
    bool created, woke;
    int64_t revision;
};

static int on_watch(const json_t *msg, void *arg)
{
    struct waiter *w = arg;
    struct etcd_watch_msg m;
    int r = etcd_decode_watch_msg(msg, w->key_prefix, &m, NULL);
    if (r < 0)
        return r;
    w->created |= m.created;
    w->revision = SLIO_MAX(w->revision, SLIO_MAX(m.revision, m.last_mod_revision));
    w->woke = m.n_events > 0 || m.canceled; /* canceled: compacted; the caller re-reads */
    return w->woke ? 1 : 0;
}

static int watch_prefix(struct etcd_store *s, const char *prefix, int64_t after,
                        uint64_t timeout_us, int64_t *ret_revision, struct slio_err *err)
{
    _cleanup_free_ char *from = etcd_key_b64(s, prefix, false), *end = ekey_end_b64(s, prefix);
    struct waiter w = {.revision = after};
    if (!from || !end || asprintf(&w.key_prefix, "%s%s", s->ns, prefix) < 0)
        return -ENOMEM;
    _cleanup_json_ json_t *body =
        json_pack("{s:{s:s,s:s,s:I}}", "create_request", "key", from, "range_end", end,
                  "start_revision", (json_int_t)ETCD_REV_FROM_STORE(after + 1));
    uint32_t ms = (uint32_t)SLIO_MAX(timeout_us / 1000u, 1u);
    int r = body
                ? etcd_http_stream(s->http, "/v3/watch", body, WATCH_MSG_MAX, ms, on_watch, &w, err)
                : -ENOMEM;
    free(w.key_prefix);
    if (r > 0 && w.woke) {
        *ret_revision = w.revision;
        return 0;
    }
    /* The deadline with the watch in place, a stream that broke after it was set up (a
     * member went away) or a history too big to read: all are (early) wake-ups. */
    if ((w.created && r != -ENOMEM) || r == -EMSGSIZE)
        return etcd_revision(s, ret_revision, err);
    return r == -ETIMEDOUT || r == -ECONNRESET || r == -EREMOTEIO || r == -EBADMSG ? -EAGAIN : r;
}

static int etcd_wait(void *impl, const char *prefix, int64_t after_revision, uint64_t timeout_us,
                     int64_t *ret_revision, struct slio_err *err)
{
    struct etcd_store *s = impl;
    uint64_t start = now_us();
    bool changed;
    int64_t rev;
    int r = changed_since(s, prefix, after_revision, &changed, &rev, err);
    if (r < 0)
        return r;
    uint64_t spent = now_us() - start;
    if (changed || spent >= timeout_us) {
        *ret_revision = rev;
        return 0;
    }
    return watch_prefix(s, prefix, after_revision, timeout_us - spent, ret_revision, err);
}

/* ---- HA and lifetime ------------------------------------------------------------------- */

static bool etcd_is_leader(void *impl, char *ret_leader, size_t leader_size)
{
    struct etcd_store *s = impl;
    return etcd_election_is_leader(s->election, ret_leader, leader_size);
}

static uint64_t etcd_leader_epoch(void *impl)
{
    struct etcd_store *s = impl;
    return etcd_election_epoch(s->election);
}

static void etcd_free(void *impl)
{
    struct etcd_store *s = impl;
    if (!s)
        return;
    etcd_election_stop(s->election);
    etcd_http_free(s->http);
    free(s->ns);
    free(s->leader_key);
    free(s);
}

/* Without an advertised URL there is no election: one controller, always the leader. */
static const struct store_ops etcd_ops = {
    .name = "etcd",
    .get = etcd_get,
    .list = etcd_list,
    .txn = etcd_store_txn,
    .revision = etcd_revision,
    .wait = etcd_wait,
    .free = etcd_free,
};

static const struct store_ops etcd_ha_ops = {
    .name = "etcd",
    .get = etcd_get,
    .list = etcd_list,
    .txn = etcd_store_txn,
    .revision = etcd_revision,
    .wait = etcd_wait,
    .is_leader = etcd_is_leader,
    .leader_epoch = etcd_leader_epoch,
    .free = etcd_free,
};

static int opts_check(const struct store_etcd_opts *o, struct slio_err *err)
{
    const char *p = o->prefix ? o->prefix : "/slio/";
    size_t n = strlen(p);
    bool printable = true;
    for (size_t i = 0; i < n; i++)
        printable &= (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f;
    if (n == 0 || n > ETCD_NS_MAX || !printable) {
        slio_err_set(err, "etcd prefix \"%.140s\": 1..%d printable bytes", p, ETCD_NS_MAX);
        return -EINVAL;
    }
    if (o->advertise_url && (o->lease_ttl_s < 1 || o->lease_ttl_s > 60 ||
                             strlen(o->advertise_url) >= sizeof(((struct etcd_leader *)0)->url) ||
                             strcspn(o->advertise_url, " \t\r\n") != strlen(o->advertise_url))) {
        slio_err_set(err, "etcd election: lease TTL %u s (1..60) or advertise URL invalid",
                     o->lease_ttl_s);
        return -EINVAL;
    }
    return 0;
}

int store_etcd_open(const struct store_etcd_opts *opts, struct store **ret, struct slio_err *err)
{
    int r = opts_check(opts, err);
    if (r < 0)
        return r;
    const char *p = opts->prefix ? opts->prefix : "/slio/";
    struct etcd_store *s = calloc(1, sizeof(*s));
    struct store *st = calloc(1, sizeof(*st));
    int64_t rev;
    r = s && st ? 0 : -ENOMEM;
    if (r == 0 && (asprintf(&s->ns, "%skv", p) < 0 || asprintf(&s->leader_key, "%sleader", p) < 0))
        r = -ENOMEM;
    if (r == 0)
        r = etcd_http_new(opts->endpoints, opts->n_endpoints, opts->timeout_ms, &s->http, err);
    if (r == 0) /* reachable and speaking etcd v3: fail at start, not at the first request */
        r = etcd_revision(s, &rev, err);
    if (r == 0 && opts->advertise_url)
        r = etcd_election_start(s->http, s->leader_key, opts->advertise_url, opts->lease_ttl_s,
                                &s->election, err);
    if (r < 0) {
        slio_err_prefix(err, "etcd store");
        etcd_free(s);
        free(st);
        return r;
    }
    st->ops = s->election ? &etcd_ha_ops : &etcd_ops;
    st->impl = s;
    *ret = st;
    return 0;
}
