/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The campaign thread (see etcd_election.h). One loop, one state:
 *   lease:   grant when we hold none, keep alive every TTL/3;
 *   standby: campaign, then watch the leader key until it is deleted or
 *            TTL/3 passed (the lease needs its keep-alive);
 *   leader:  sleep TTL/3 between keep-alives; step down when a keep-alive
 *            says the lease is gone, when none succeeded for a whole TTL, or
 *            when a fenced txn found the leader key changed.
 */
#define SLIO_LOG_COMPONENT "store"
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "etcd_codec.h"
#include "etcd_election.h"
#include "slio/json.h"
#include "slio/log.h"

#define ELECTION_RETRY_US 200000 /* after an etcd error */
#define WATCH_MSG_MAX     (64u << 10)
#define ANSWER_MAX        (64u << 10)

struct etcd_election {
    struct etcd_http *http;
    char *key, *key_b64, *url, *url_b64;
    uint32_t ttl_s;
    pthread_t thread;
    bool thread_started;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;  /* stop */
    bool stop;
    bool leading;
    int64_t term;         /* our leader key's create revision while leading */
    uint64_t valid_until; /* monotonic us: leadership ends here without a keep-alive */
    uint64_t epoch;
    char leader_url[512];

    /* the campaign thread's own */
    int64_t lease_id;
    uint64_t lease_renewed; /* monotonic us of the last grant or keep-alive sent */
    uint64_t lease_until;
    int64_t seen_revision; /* the store revision of the last campaign answer */
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Sleep up to us, or until stop. Returns whether to stop. */
static bool sleep_or_stop(struct etcd_election *e, uint64_t us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + (us % 1000000u) * 1000u;
    ts.tv_sec += (time_t)(us / 1000000u + ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&e->lock);
    while (!e->stop && pthread_cond_timedwait(&e->wake, &e->lock, &ts) == 0)
        ;
    bool stop = e->stop;
    pthread_mutex_unlock(&e->lock);
    return stop;
}

static void step_down(struct etcd_election *e, const char *why)
{
    pthread_mutex_lock(&e->lock);
    bool was = e->leading;
    e->leading = false;
    e->leader_url[0] = '\0';
    pthread_mutex_unlock(&e->lock);
    if (was)
        log_warn("leadership lost (%s): now a standby", why);
}

/* ---- the lease --------------------------------------------------------------------------- */

static int lease_call(struct etcd_election *e, bool grant, struct slio_err *err)
{
    _cleanup_json_ json_t *resp = NULL;
    char num[24];
    if (grant)
        snprintf(num, sizeof(num), "%u", e->ttl_s);
    else
        snprintf(num, sizeof(num), "%lld", (long long)e->lease_id);
    _cleanup_json_ json_t *body = json_pack("{s:s}", grant ? "TTL" : "ID", num);
    uint64_t sent = now_us();
    int r = body ? etcd_http_call(e->http, grant ? "/v3/lease/grant" : "/v3/lease/keepalive", body,
                                  ANSWER_MAX, &resp, err)
                 : -ENOMEM;
    int64_t id, ttl_got;
    if (r == 0)
        r = etcd_decode_lease(resp, !grant, &id, &ttl_got, err);
    if (r == -ENOENT) /* etcd: lease not found */
        e->lease_id = 0;
    if (r < 0)
        return r;
    if (ttl_got == 0 || (!grant && id != e->lease_id)) { /* expired (or not ours) */
        e->lease_id = 0;
        return -ENOENT;
    }
    e->lease_id = id;
    e->lease_renewed = sent;
    e->lease_until = sent + (uint64_t)ttl_got * 1000000u;
    /* A keep-alive answered after leadership lapsed locally does not revive it: once
     * is_leader() said no, the term is taken up again only through a campaign, as a new
     * epoch, so the controller rebuilds what it holds in memory. */
    pthread_mutex_lock(&e->lock);
    bool lapsed = e->leading && now_us() >= e->valid_until;
    if (e->leading && !lapsed)
        e->valid_until = e->lease_until;
    pthread_mutex_unlock(&e->lock);
    if (lapsed)
        step_down(e, "no keep-alive succeeded for a whole lease");
    return 0;
}

/* Grant a lease when we hold none (or it ran out), renew it when a third of the TTL passed. */
static int lease_ensure(struct etcd_election *e, struct slio_err *err)
{
    uint64_t now = now_us();
    if (e->lease_id && now >= e->lease_until) {
        /* etcd may have expired it (and our key with it): lead no more. But etcd also extends
         * every lease when it elects a new raft leader, so the lease (and our key, our term)
         * may well live on: try it before taking a new one. If it lives, the campaign finds
         * our key and takes the term up again, as a new epoch. */
        step_down(e, "no keep-alive succeeded for a whole lease");
        int r = lease_call(e, false, err);
        return r == -ENOENT ? lease_call(e, true, err) : r;
    }
    if (!e->lease_id)
        return lease_call(e, true, err);
    if (now - e->lease_renewed < (uint64_t)e->ttl_s * 1000000u / 3)
        return 0;
    return lease_call(e, false, err);
}

/* ---- campaign ---------------------------------------------------------------------------- */

static json_t *campaign_body(struct etcd_election *e)
{
    return json_pack("{s:[{s:s,s:s,s:s,s:s}],s:[{s:{s:s,s:s,s:I}}],s:[{s:{s:s}}]}", "compare",
                     "key", e->key_b64, "target", "CREATE", "result", "EQUAL", "create_revision",
                     "0", "success", "request_put", "key", e->key_b64, "value", e->url_b64, "lease",
                     (json_int_t)e->lease_id, "failure", "request_range", "key", e->key_b64);
}

static void become_leader(struct etcd_election *e, int64_t term)
{
    pthread_mutex_lock(&e->lock);
    e->leading = true;
    e->term = term;
    e->valid_until = e->lease_until;
    e->epoch++;
    snprintf(e->leader_url, sizeof(e->leader_url), "%s", e->url);
    pthread_mutex_unlock(&e->lock);
    log_info("leading as \"%s\" (term %lld)", e->url, (long long)term);
}

static int campaign(struct etcd_election *e, struct slio_err *err)
{
    _cleanup_json_ json_t *body = campaign_body(e), *resp = NULL;
    const json_t *responses;
    bool won;
    int64_t rev;
    int r = body ? etcd_http_call(e->http, "/v3/kv/txn", body, ANSWER_MAX, &resp, err) : -ENOMEM;
    if (r == 0)
        r = etcd_decode_txn(resp, 1, &won, &rev, &responses, err);
    if (r < 0)
        return r;
    e->seen_revision = rev;
    if (won) {
        become_leader(e, rev);
        return 0;
    }
    struct etcd_leader l;
    r = etcd_decode_leader(json_array_get(responses, 0), e->key, rev, &l, err);
    if (r < 0)
        return r;
    if (l.lease == e->lease_id && l.create_revision) {
        /* our own key: an earlier campaign applied but its answer was lost */
        become_leader(e, l.create_revision);
        return 0;
    }
    pthread_mutex_lock(&e->lock);
    snprintf(e->leader_url, sizeof(e->leader_url), "%s", l.url);
    pthread_mutex_unlock(&e->lock);
    return 0;
}

/* While leading: is the leader key still the one of our term? (It can go without our lease
 * going: deleted by hand, or replaced after etcd restored from a backup.) -ESTALE if not. */
static int verify_term(struct etcd_election *e, struct slio_err *err)
{
    /* a txn without compares runs "success": a read shaped like the campaign's */
    _cleanup_json_ json_t *body =
        json_pack("{s:[{s:{s:s}}]}", "success", "request_range", "key", e->key_b64);
    _cleanup_json_ json_t *resp = NULL;
    const json_t *responses;
    bool succeeded;
    int64_t rev, term;
    struct etcd_leader l;
    int r = body ? etcd_http_call(e->http, "/v3/kv/txn", body, ANSWER_MAX, &resp, err) : -ENOMEM;
    if (r == 0)
        r = etcd_decode_txn(resp, 1, &succeeded, &rev, &responses, err);
    if (r == 0)
        r = etcd_decode_leader(json_array_get(responses, 0), e->key, rev, &l, err);
    if (r < 0)
        return r;
    pthread_mutex_lock(&e->lock);
    term = e->term;
    pthread_mutex_unlock(&e->lock);
    return l.create_revision == term && l.lease == e->lease_id ? 0 : -ESTALE;
}

/* ---- standby: wait for the leader key to go ------------------------------------------------ */

struct watch_state {
    const char *key;
    bool created;
};

static int on_leader_event(const json_t *msg, void *arg)
{
    struct watch_state *w = arg;
    struct etcd_watch_msg m;
    int r = etcd_decode_watch_msg(msg, w->key, &m, NULL);
    if (r < 0)
        return r;
    w->created |= m.created;
    return m.n_deletes || m.canceled ? 1 : 0;
}

static void watch_leader(struct etcd_election *e, uint64_t timeout_us)
{
    struct watch_state w = {e->key, false};
    _cleanup_json_ json_t *body =
        json_pack("{s:{s:s,s:I}}", "create_request", "key", e->key_b64, "start_revision",
                  (json_int_t)ETCD_REV_FROM_STORE(e->seen_revision + 1));
    struct slio_err err = {{0}};
    int r = body ? etcd_http_stream(e->http, "/v3/watch", body, WATCH_MSG_MAX,
                                    (uint32_t)(timeout_us / 1000u), on_leader_event, &w, &err)
                 : -ENOMEM;
    if (r < 0 && r != -ETIMEDOUT) {
        log_debug("watching the leader key: %s", err.text);
        sleep_or_stop(e, ELECTION_RETRY_US);
    }
}

/* ---- the loop ---------------------------------------------------------------------------- */

static bool leading_now(struct etcd_election *e)
{
    pthread_mutex_lock(&e->lock);
    bool l = e->leading;
    pthread_mutex_unlock(&e->lock);
    return l;
}

static void election_round(struct etcd_election *e)
{
    struct slio_err err = {{0}};
    uint64_t third = (uint64_t)e->ttl_s * 1000000u / 3;
    int r = lease_ensure(e, &err);
    if (r < 0) {
        if (leading_now(e) && (r == -ENOENT || now_us() >= e->lease_until))
            step_down(e, r == -ENOENT ? "lease expired" : "etcd unreachable for a whole lease");
        log_debug("leader lease: %s", err.text);
        sleep_or_stop(e, ELECTION_RETRY_US);
        return;
    }
    if (leading_now(e)) {
        r = verify_term(e, &err);
        if (r == -ESTALE)
            step_down(e, "the leader key changed");
        else if (r < 0)
            log_debug("checking the leader key: %s", err.text);
        if (r != -ESTALE)
            sleep_or_stop(e, third);
        return;
    }
    r = campaign(e, &err);
    if (r < 0) {
        log_debug("campaign: %s", err.text);
        sleep_or_stop(e, ELECTION_RETRY_US);
    } else if (!leading_now(e))
        watch_leader(e, third);
}

static void *election_thread(void *arg)
{
    struct etcd_election *e = arg;
    for (;;) {
        pthread_mutex_lock(&e->lock);
        bool stop = e->stop;
        pthread_mutex_unlock(&e->lock);
        if (stop)
            break;
        election_round(e);
    }
    return NULL;
}

/* ---- the interface ----------------------------------------------------------------------- */

bool etcd_election_is_leader(struct etcd_election *e, char *ret_leader, size_t leader_size)
{
    pthread_mutex_lock(&e->lock);
    bool leading = e->leading && now_us() < e->valid_until;
    if (ret_leader && leader_size)
        snprintf(ret_leader, leader_size, "%s", leading ? e->url : e->leader_url);
    pthread_mutex_unlock(&e->lock);
    return leading;
}

uint64_t etcd_election_epoch(struct etcd_election *e)
{
    pthread_mutex_lock(&e->lock);
    uint64_t epoch = e->epoch;
    pthread_mutex_unlock(&e->lock);
    return epoch;
}

bool etcd_election_fence(struct etcd_election *e, int64_t *ret_term)
{
    pthread_mutex_lock(&e->lock);
    bool leading = e->leading && now_us() < e->valid_until;
    if (leading)
        *ret_term = e->term;
    pthread_mutex_unlock(&e->lock);
    return leading;
}

void etcd_election_lost(struct etcd_election *e, int64_t term)
{
    pthread_mutex_lock(&e->lock);
    bool lost = e->leading && e->term == term;
    if (lost) {
        e->leading = false;
        e->leader_url[0] = '\0';
    }
    pthread_cond_broadcast(&e->wake); /* campaign again now, not after the sleep */
    pthread_mutex_unlock(&e->lock);
    if (lost)
        log_warn("leadership lost: the leader key changed under term %lld", (long long)term);
}

static void election_free(struct etcd_election *e)
{
    pthread_cond_destroy(&e->wake);
    pthread_mutex_destroy(&e->lock);
    free(e->key);
    free(e->key_b64);
    free(e->url);
    free(e->url_b64);
    free(e);
}

void etcd_election_stop(struct etcd_election *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->stop = true;
    pthread_cond_broadcast(&e->wake);
    pthread_mutex_unlock(&e->lock);
    if (e->thread_started)
        pthread_join(e->thread, NULL);
    if (e->lease_id) { /* hand over now rather than after the TTL */
        _cleanup_json_ json_t *resp = NULL;
        _cleanup_json_ json_t *body = json_pack("{s:I}", "ID", (json_int_t)e->lease_id);
        if (body && etcd_http_call(e->http, "/v3/lease/revoke", body, ANSWER_MAX, &resp, NULL) < 0)
            log_debug("revoking the leader lease failed; it expires by itself");
    }
    election_free(e);
}

int etcd_election_start(struct etcd_http *http, const char *leader_key, const char *url,
                        uint32_t lease_ttl_s, struct etcd_election **ret, struct slio_err *err)
{
    struct etcd_election *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    pthread_mutex_init(&e->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->wake, &ca);
    pthread_condattr_destroy(&ca);
    e->http = http;
    e->ttl_s = lease_ttl_s;
    e->key = strdup(leader_key);
    e->url = strdup(url);
    e->key_b64 = etcd_b64_encode(leader_key, strlen(leader_key));
    e->url_b64 = etcd_b64_encode(url, strlen(url));
    if (!e->key || !e->url || !e->key_b64 || !e->url_b64) {
        election_free(e);
        return -ENOMEM;
    }
    int r = -pthread_create(&e->thread, NULL, election_thread, e);
    if (r < 0) {
        slio_err_set(err, "etcd election: cannot start its thread: %s", strerror(-r));
        election_free(e);
        return r;
    }
    e->thread_started = true;
    *ret = e;
    return 0;
}
