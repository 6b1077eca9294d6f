/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The heartbeat monitor: a node silent for unknown_after turns unknown, for
 * offline_after offline, and ready again at its next heartbeat. Heartbeats
 * only touch memory; this thread alone writes status changes to the store
 * (one transaction with the event each), then tells the scheduler's view.
 * A node not heard from since this controller started counts from the start
 * (a restart must not declare the whole cluster dead).
 */
#define SLIO_LOG_COMPONENT "controller"
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "slio/log.h"

#define TICK_MAX_US 1000000u

static const char *wanted_status(struct ctl *c, const char *node, uint64_t now)
{
    uint64_t seen = ctl_live_seen(c, node);
    uint64_t since = seen ? seen : c->started_us;
    uint64_t age = now > since ? now - since : 0;
    if (age >= c->cfg.offline_after_us)
        return "offline";
    if (age >= c->cfg.unknown_after_us)
        return "unknown";
    return "ready";
}

/*
 * Judged again on the document being written, with the time of the node's latest
 * heartbeat: the tick decided before reading it, and a registration or heartbeat may
 * have come in between (the document may be the one a registration just wrote). A
 * node is never marked unknown from a heartbeat time older than its last one.
 */
static int set_status(struct ctl *c, json_t *doc, struct txb *t, void *arg, struct slio_err *err)
{
    const char *status = wanted_status(c, model_str(doc, "name"), ctl_now_us());
    const char *old = ctl_node_status(doc);
    if (strcmp(old, status) == 0)
        return CTL_UNCHANGED;
    bool bad = strcmp(status, "ready") != 0;
    txb_event(t, c, "node", model_str(doc, "name"), bad ? "warning" : "normal",
              bad ? (strcmp(status, "offline") == 0 ? "NodeOffline" : "NodeUnknown") : "NodeReady",
              "node \"%s\": %s -> %s (last heartbeat %s)", model_str(doc, "name"), old, status,
              ctl_live_seen(c, model_str(doc, "name")) ? "seen since start" : "none since start");
    json_object_set_new(doc, "status", json_string(status));
    return 0;
}

static void check_node(struct ctl *c, const json_t *doc, uint64_t now)
{
    const char *name = model_str(doc, "name");
    const char *want = wanted_status(c, name, now);
    struct slio_err err = {{0}};
    char key[MODEL_KEY_MAX];
    _cleanup_json_ json_t *updated = NULL;

    if (strcmp(ctl_node_status(doc), want) == 0) {
        ctl_live_set_status(c, name, want);
        return;
    }
    int r =
        ctl_update(c, model_key(key, K_NODES, name, NULL), set_status, NULL, &updated, NULL, &err);
    if (r == 0 && updated) {
        ctl_live_set_status(c, name, ctl_node_status(updated));
        log_info("node \"%s\" is %s", name, ctl_node_status(updated));
        if (ctl_view_sync_node(c, updated, &err) < 0)
            log_warn("%s", err.text);
    } else if (r < 0)
        log_warn("node \"%s\": status %s not recorded: %s", name, want, err.text);
}

static void check_all(struct ctl *c)
{
    _cleanup_free_ char *last = NULL;
    uint64_t now = ctl_now_us();
    for (;;) {
        struct store_kv_list l;
        struct slio_err err = {{0}};
        if (store_list(c->store, K_NODES, last, 500, false, &l, NULL, &err) < 0) {
            log_warn("heartbeat monitor: %s", err.text);
            return;
        }
        for (size_t i = 0; i < l.n; i++) {
            _cleanup_json_ json_t *doc =
                json_loadb(l.items[i].value, l.items[i].value_len, 0, NULL);
            if (doc)
                check_node(c, doc, now);
        }
        bool more = l.more && l.n;
        free(last);
        last = more ? strdup(l.items[l.n - 1].key) : NULL;
        store_kv_list_clear(&l);
        if (!last)
            return;
    }
}

/* Another controller may have led meanwhile: the view must come from the store again. */
static void regain_leadership(struct ctl *c)
{
    uint64_t epoch = store_leader_epoch(c->store);
    struct slio_err err = {{0}};
    if (epoch == c->leader_epoch)
        return;
    if (ctl_rebuild_view(c, &err) < 0) {
        log_warn("leadership regained but the view could not be rebuilt: %s", err.text);
        return;
    }
    __atomic_store_n(&c->leader_epoch, epoch, __ATOMIC_RELEASE);
}

/* Delete the oldest events beyond limits.max_events, once a minute at most. */
#define PRUNE_EVERY_US (60u * 1000000u)
#define PRUNE_BATCH    60

static int delete_keys(struct ctl *c, const struct store_kv_list *l, size_t n)
{
    for (size_t i = 0; i < n; i += PRUNE_BATCH) {
        struct txb t;
        txb_init(&t);
        for (size_t j = i; j < n && j < i + PRUNE_BATCH; j++)
            txb_delete(&t, l->items[j].key);
        int r = txb_commit(c, &t, NULL, NULL);
        txb_free(&t);
        if (r < 0)
            return r;
    }
    return 0;
}

static void prune_events(struct ctl *c)
{
    uint64_t now = ctl_now_us();
    size_t total = 0;
    _cleanup_free_ char *after = NULL;
    if (c->events_pruned_us && now - c->events_pruned_us < PRUNE_EVERY_US)
        return;
    c->events_pruned_us = now;
    for (bool more = true; more;) { /* count, keys only */
        struct store_kv_list l;
        if (store_list(c->store, K_EVENTS, after, STORE_LIST_MAX, true, &l, NULL, NULL) < 0)
            return;
        total += l.n;
        more = l.more && l.n;
        free(after);
        after = more ? strdup(l.items[l.n - 1].key) : NULL;
        store_kv_list_clear(&l);
        if (more && !after)
            return;
    }
    while (total > c->cfg.limits.max_events) {
        struct store_kv_list l;
        size_t excess = SLIO_MIN(total - c->cfg.limits.max_events, (size_t)STORE_LIST_MAX);
        if (store_list(c->store, K_EVENTS, NULL, excess, true, &l, NULL, NULL) < 0)
            return;
        int r = delete_keys(c, &l, l.n);
        total -= l.n;
        bool stuck = l.n == 0;
        store_kv_list_clear(&l);
        if (r < 0 || stuck)
            return;
    }
}

static void *monitor_main(void *arg)
{
    struct ctl *c = arg;
    uint64_t tick = SLIO_MIN((uint64_t)TICK_MAX_US, c->cfg.heartbeat_interval_us / 2);
    pthread_mutex_lock(&c->stop_lock);
    while (!c->stopping) {
        pthread_mutex_unlock(&c->stop_lock);
        if (store_is_leader(c->store, NULL, 0)) {
            regain_leadership(c);
            check_all(c);
            prune_events(c);
        }
        pthread_mutex_lock(&c->stop_lock);
        struct timespec d; /* stop_cond waits on the monotonic clock (ctl_open) */
        clock_gettime(CLOCK_MONOTONIC, &d);
        d.tv_sec += (time_t)(tick / 1000000u);
        d.tv_nsec += (long)(tick % 1000000u) * 1000;
        if (d.tv_nsec >= 1000000000L) {
            d.tv_sec++;
            d.tv_nsec -= 1000000000L;
        }
        if (!c->stopping)
            pthread_cond_timedwait(&c->stop_cond, &c->stop_lock, &d);
    }
    pthread_mutex_unlock(&c->stop_lock);
    return NULL;
}

int ctl_monitor_start(struct ctl *c)
{
    int r = -pthread_create(&c->monitor, NULL, monitor_main, c);
    c->monitor_running = r == 0;
    return r;
}

void ctl_monitor_stop(struct ctl *c)
{
    if (!c->monitor_running)
        return;
    pthread_mutex_lock(&c->stop_lock);
    c->stopping = true;
    pthread_cond_broadcast(&c->stop_cond);
    pthread_mutex_unlock(&c->stop_lock);
    pthread_join(c->monitor, NULL);
    c->monitor_running = false;
}
