/* SPDX-License-Identifier: Apache-2.0 */
/* The controller's state: opening it, the live node table, the view kept in step. */
#define SLIO_LOG_COMPONENT "controller"
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "slio/log.h"

uint64_t ctl_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *ctl_node_status(const json_t *node_doc)
{
    const char *s = model_str(node_doc, "status");
    return *s ? s : "ready";
}

const char *ctl_volume_consumer(const json_t *vol)
{
    const json_t *att = json_array_get(json_object_get(vol, "attachments"), 0);
    if (att)
        return model_str(att, "node");
    const char *spec_consumer =
        json_string_value(json_object_get(json_object_get(vol, "_spec"), "consumer_node"));
    return spec_consumer;
}

json_t *ctl_live_pool(struct ctl *c, const char *node, const char *pool)
{
    pthread_mutex_lock(&c->live_lock);
    json_t *p = json_object_get(json_object_get(json_object_get(c->live, node), "pools"), pool);
    json_t *copy = p ? json_deep_copy(p) : NULL;
    pthread_mutex_unlock(&c->live_lock);
    return copy;
}

bool ctl_live_status(struct ctl *c, const char *node, char *buf, size_t size)
{
    pthread_mutex_lock(&c->live_lock);
    const char *s = json_string_value(json_object_get(json_object_get(c->live, node), "status"));
    if (s)
        snprintf(buf, size, "%s", s);
    pthread_mutex_unlock(&c->live_lock);
    return s != NULL;
}

void ctl_live_set_status(struct ctl *c, const char *node, const char *status)
{
    pthread_mutex_lock(&c->live_lock);
    json_t *entry = json_object_get(c->live, node);
    if (!entry) {
        entry = json_pack("{s:{}}", "pools");
        json_object_set_new(c->live, node, entry);
    }
    if (entry)
        json_object_set_new(entry, "status", json_string(status));
    pthread_mutex_unlock(&c->live_lock);
}

uint64_t ctl_live_seen(struct ctl *c, const char *node)
{
    pthread_mutex_lock(&c->live_lock);
    uint64_t t =
        (uint64_t)json_integer_value(json_object_get(json_object_get(c->live, node), "seen"));
    pthread_mutex_unlock(&c->live_lock);
    return t;
}

bool ctl_live_seen_at(struct ctl *c, const char *node, char buf[static 32])
{
    pthread_mutex_lock(&c->live_lock);
    const char *s = json_string_value(json_object_get(json_object_get(c->live, node), "seen_at"));
    if (s)
        snprintf(buf, 32, "%s", s);
    pthread_mutex_unlock(&c->live_lock);
    return s != NULL;
}

/* Labels of a JSON object as an array (values borrowed from obj); *n set. */
static struct sched_label *labels_of(const json_t *obj, size_t *n)
{
    const char *k;
    json_t *v;
    *n = 0;
    struct sched_label *l = calloc(json_object_size(obj) + 1, sizeof(*l));
    if (!l)
        return NULL;
    json_object_foreach ((json_t *)obj, k, v)
        if (json_is_string(v))
            l[(*n)++] = (struct sched_label){k, json_string_value(v)};
    return l;
}

static uint64_t reserve_of(struct ctl *c, const char *pool_id)
{
    pthread_mutex_lock(&c->live_lock);
    json_int_t r = json_integer_value(json_object_get(c->reserves, pool_id));
    pthread_mutex_unlock(&c->live_lock);
    return r > 0 ? (uint64_t)r : 0;
}

static void reserve_add_locked(struct ctl *c, const char *pool_id, int64_t delta)
{
    json_int_t cur = json_integer_value(json_object_get(c->reserves, pool_id));
    json_object_set_new(c->reserves, pool_id, json_integer(cur + delta > 0 ? cur + delta : 0));
}

void ctl_reserve_add(struct ctl *c, const char *node, const char *pool, int64_t delta)
{
    char id[MODEL_KEY_MAX], key[MODEL_KEY_MAX];
    _cleanup_json_ json_t *doc = NULL;
    pthread_mutex_lock(&c->live_lock);
    reserve_add_locked(c, model_pool_id(id, node, pool), delta);
    pthread_mutex_unlock(&c->live_lock);
    if (store_get_json(c->store, model_key(key, K_NODES, node, NULL), &doc, NULL, NULL) == 0 &&
        ctl_view_sync_node(c, doc, NULL) < 0)
        log_warn("node \"%s\": pools not updated in the scheduler's view", node);
}

static double overprovision_of(const json_t *figures)
{
    double o = json_number_value(json_object_get(figures, "overprovision"));
    return o >= 1.0 ? o : 1.0;
}

static int view_upsert_pool(struct ctl *c, struct sched_view *v, const json_t *node,
                            const json_t *pool, struct slio_err *err)
{
    const char *node_name = model_str(node, "name"), *pool_name = model_str(pool, "name");
    const json_t *topo = json_object_get(node, "topology");
    char id[MODEL_KEY_MAX];
    _cleanup_json_ json_t *live = ctl_live_pool(c, node_name, pool_name);
    const json_t *fig = live ? live : pool;
    size_t n_nl, n_pl;
    _cleanup_free_ struct sched_label *nl = labels_of(json_object_get(node, "labels"), &n_nl);
    _cleanup_free_ struct sched_label *pl = labels_of(json_object_get(pool, "labels"), &n_pl);
    if (!nl || !pl)
        return -ENOMEM;
    struct sched_pool_info info = {
        .id = model_pool_id(id, node_name, pool_name),
        .node = node_name,
        .rack = model_str(topo, "rack"),
        .zone = model_str(topo, "zone"),
        .node_labels = nl,
        .n_node_labels = n_nl,
        .pool_labels = pl,
        .n_pool_labels = n_pl,
        .ready = strcmp(ctl_node_status(node), "ready") == 0,
        .cordoned = json_is_true(json_object_get(pool, "cordoned")),
        .thin = json_is_true(json_object_get(pool, "thin")),
        .capacity = model_u64(fig, "capacity"),
        .free = model_u64(fig, "free"),
        .reserved = reserve_of(c, id),
        .overprovision = overprovision_of(fig),
        .max_remote_volumes = (uint32_t)model_u64(pool, "max_remote_volumes"),
    };
    int r = sched_view_upsert_pool(v, &info);
    if (r < 0)
        slio_err_set(err, "pool \"%s\": the scheduler refused it (%s)", id, strerror(-r));
    return r;
}

static int sync_node_into(struct ctl *c, struct sched_view *v, const json_t *node_doc,
                          struct slio_err *err)
{
    size_t i;
    json_t *p;
    json_array_foreach (json_object_get(node_doc, "pools"), i, p) {
        /* a pool its agent dropped is listed for its volumes, never offered (agent.c) */
        int r = model_pool_unreported(p) ? 0 : view_upsert_pool(c, v, node_doc, p, err);
        if (r < 0)
            return r;
    }
    return 0;
}

int ctl_view_sync_node(struct ctl *c, const json_t *node_doc, struct slio_err *err)
{
    struct sched_view *v = ctl_view(c);
    const json_t *pools = json_object_get(node_doc, "pools");
    size_t n = json_array_size(pools), i, n_reported = 0;
    json_t *p;
    int r = sync_node_into(c, v, node_doc, err);
    if (r < 0)
        return r;
    /* the pools the agent stopped reporting leave the scheduler's choices */
    char(*ids)[MODEL_KEY_MAX] = calloc(n ? n : 1, sizeof(*ids));
    const char **idp = calloc(n ? n : 1, sizeof(*idp));
    const char *node = model_str(node_doc, "name");
    if (!ids || !idp)
        r = -ENOMEM;
    json_array_foreach (pools, i, p)
        if (r == 0 && !model_pool_unreported(p)) {
            idp[n_reported] = model_pool_id(ids[n_reported], node, model_str(p, "name"));
            n_reported++;
        }
    if (r == 0)
        r = sched_view_retain_node_pools(v, node, idp, n_reported);
    if (r < 0)
        slio_err_set(err, "node \"%s\": its pools not updated in the scheduler's view (%s)", node,
                     strerror(-r));
    free(idp);
    free(ids);
    return r;
}

/*
 * A volume whose pool is not in the view: its agent stopped reporting the
 * pool (or its node document is gone). The pool enters the view unreported,
 * holding the volume's space, never a choice, until the agent reports it again.
 */
static int add_volume_or_unreported_pool(struct ctl *c, struct sched_view *v,
                                         const struct sched_volume_info *info, const char *node)
{
    int r = sched_view_add_volume(v, info);
    if (r != -ENOENT)
        return r;
    char key[MODEL_KEY_MAX];
    _cleanup_json_ json_t *doc = NULL;
    if (store_get_json(c->store, model_key(key, K_NODES, node, NULL), &doc, NULL, NULL) < 0)
        doc = NULL;
    const json_t *topo = json_object_get(doc, "topology");
    struct sched_pool_info pool = {.id = info->pool_id,
                                   .node = node,
                                   .rack = model_str(topo, "rack"),
                                   .zone = model_str(topo, "zone"),
                                   .unreported = true,
                                   .thin = info->thin,
                                   .overprovision = 1.0};
    r = sched_view_upsert_pool(v, &pool);
    if (r == 0)
        log_warn("pool \"%s\": holds volume %s but its agent no longer reports it", info->pool_id,
                 info->uuid);
    return r < 0 ? r : sched_view_add_volume(v, info);
}

static int add_volume_into(struct ctl *c, struct sched_view *v, const json_t *vol,
                           struct slio_err *err)
{
    char id[MODEL_KEY_MAX];
    const json_t *spread = json_object_get(json_object_get(vol, "_spec"), "spread");
    struct sched_volume_info info = {
        .uuid = model_str(vol, "id"),
        .pool_id = model_pool_id(id, model_str(vol, "node"), model_str(vol, "pool")),
        .size = model_u64(vol, "size"),
        .thin = json_is_true(json_object_get(vol, "thin")),
        .spread_group = json_string_value(json_object_get(spread, "group")),
        .consumer_node = ctl_volume_consumer(vol),
    };
    int r = add_volume_or_unreported_pool(c, v, &info, model_str(vol, "node"));
    if (r < 0 && r != -EEXIST)
        slio_err_set(err, "volume %s on pool \"%s\": the scheduler refused it (%s)", info.uuid, id,
                     strerror(-r));
    return r == -EEXIST ? 0 : r;
}

/* Call fn for every document under prefix, page by page. */
static int for_each_doc(struct ctl *c, struct sched_view *v, const char *prefix,
                        int (*fn)(struct ctl *c, struct sched_view *v, const json_t *doc,
                                  struct slio_err *err),
                        size_t *ret_n, struct slio_err *err)
{
    _cleanup_free_ char *last = NULL;
    size_t n = 0;
    for (;;) {
        struct store_kv_list l;
        int r = store_list(c->store, prefix, last, 1000, false, &l, NULL, err);
        if (r < 0)
            return r;
        for (size_t i = 0; i < l.n && r == 0; i++) {
            _cleanup_json_ json_t *doc =
                json_loadb(l.items[i].value, l.items[i].value_len, 0, NULL);
            if (!doc) {
                log_warn("store key \"%s\": not JSON, skipped", l.items[i].key);
                continue;
            }
            r = fn(c, v, doc, err);
            n++;
        }
        bool more = l.more && l.n > 0;
        if (more) {
            free(last);
            last = strdup(l.items[l.n - 1].key);
        }
        store_kv_list_clear(&l);
        if (r < 0)
            return r;
        if (!more)
            break;
        if (!last)
            return -ENOMEM;
    }
    *ret_n = n;
    return 0;
}

/* One /slio/bynode/<node>/v/<uuid> entry (see txb_volume_index) into the view; an entry
 * without a value (written before the index carried one) is read from its document. */
static int add_indexed_volume(struct ctl *c, struct sched_view *v, const struct store_kv *kv,
                              struct slio_err *err)
{
    char node[MODEL_KEY_MAX], id[MODEL_KEY_MAX];
    const char *rest = kv->key + strlen(K_BYNODE), *slash = strchr(rest, '/');
    if (!slash)
        return 0;
    snprintf(node, sizeof(node), "%.*s", (int)(slash - rest), rest);
    _cleanup_json_ json_t *e = json_loadb(kv->value, kv->value_len, 0, NULL);
    if (strncmp(slash, "/s/", 3) == 0) { /* a snapshot: ["pool", cow_reserve] */
        if (json_is_array(e)) {
            pthread_mutex_lock(&c->live_lock);
            reserve_add_locked(c, model_pool_id(id, node, json_string_value(json_array_get(e, 0))),
                               json_integer_value(json_array_get(e, 1)));
            pthread_mutex_unlock(&c->live_lock);
        }
        return 0;
    }
    if (strncmp(slash, "/v/", 3) != 0)
        return 0;
    if (!json_is_array(e)) {
        _cleanup_json_ json_t *doc = NULL;
        int r =
            store_get_json(c->store, model_key(id, K_VOLUMES, slash + 3, NULL), &doc, NULL, err);
        return r == -ENOENT ? 0 : r < 0 ? r : add_volume_into(c, v, doc, err);
    }
    struct sched_volume_info info = {
        .uuid = slash + 3,
        .pool_id = model_pool_id(id, node, json_string_value(json_array_get(e, 0))),
        .size = (uint64_t)json_integer_value(json_array_get(e, 1)),
        .thin = json_is_true(json_array_get(e, 2)),
        .spread_group = json_string_value(json_array_get(e, 3)),
        .consumer_node = json_string_value(json_array_get(e, 4)),
    };
    int r = add_volume_or_unreported_pool(c, v, &info, node);
    if (r < 0 && r != -EEXIST)
        slio_err_set(err, "volume %s on pool \"%s\": the scheduler refused it (%s)", info.uuid, id,
                     strerror(-r));
    return r == -EEXIST ? 0 : r;
}

static int for_each_index(struct ctl *c, struct sched_view *v, size_t *ret_n, struct slio_err *err)
{
    _cleanup_free_ char *last = NULL;
    size_t n = 0;
    for (bool more = true; more;) {
        struct store_kv_list l;
        int r = store_list(c->store, K_BYNODE, last, STORE_LIST_MAX, false, &l, NULL, err);
        if (r < 0)
            return r;
        for (size_t i = 0; i < l.n && r == 0; i++, n++)
            r = add_indexed_volume(c, v, &l.items[i], err);
        more = l.more && l.n;
        free(last);
        last = more ? strdup(l.items[l.n - 1].key) : NULL;
        store_kv_list_clear(&l);
        if (r < 0)
            return r;
        if (more && !last)
            return -ENOMEM;
    }
    *ret_n = n;
    return 0;
}

int ctl_rebuild_view(struct ctl *c, struct slio_err *err)
{
    _cleanup_sched_view_ struct sched_view *v = NULL;
    size_t n_nodes = 0, n_vols = 0;
    int r = sched_view_new(c->sched_cfg, &v);
    if (r < 0)
        return r;
    pthread_mutex_lock(&c->live_lock);
    json_object_clear(c->reserves);
    pthread_mutex_unlock(&c->live_lock);
    size_t again;
    /* Pools first (a volume needs its pool), then the index (volumes, snapshot reserves),
     * then the pools again with their reserves. */
    r = for_each_doc(c, v, K_NODES, sync_node_into, &n_nodes, err);
    if (r == 0)
        r = for_each_index(c, v, &n_vols, err);
    if (r == 0)
        r = for_each_doc(c, v, K_NODES, sync_node_into, &again, err);
    if (r < 0)
        return r;
    struct sched_view *old = __atomic_exchange_n(&c->view, TAKE_PTR(v), __ATOMIC_ACQ_REL);
    if (old) {
        if (c->n_retired == SLIO_ARRAY_SIZE(c->retired)) {
            sched_view_free(c->retired[0]);
            memmove(c->retired, c->retired + 1, sizeof(c->retired) - sizeof(c->retired[0]));
            c->n_retired--;
        }
        c->retired[c->n_retired++] = old;
    }
    log_info("view rebuilt from the store: %zu nodes, %zu volume and snapshot entries", n_nodes,
             n_vols);
    return 0;
}

static int open_store(struct ctl_config *cfg, struct store **ret, struct slio_err *err)
{
    if (cfg->backend == CTL_STORE_SQLITE)
        return store_sqlite_open(cfg->sqlite_path, ret, err);
    const char *eps[16];
    size_t n = 0, i;
    json_t *v;
    json_array_foreach (cfg->etcd.endpoints, i, v)
        eps[n++] = json_string_value(v);
    struct store_etcd_opts o = {
        eps, n, cfg->etcd.prefix, cfg->advertise_url, (uint32_t)(cfg->etcd.lease_ttl_us / 1000000u),
        5000};
    return store_etcd_open(&o, ret, err);
}

int ctl_open(struct ctl_config *cfg, struct ctl **ret, struct slio_err *err)
{
    struct ctl *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->cfg = *cfg;
    *cfg = (struct ctl_config){0}; /* owned by c now */
    pthread_mutex_init(&c->live_lock, NULL);
    pthread_mutex_init(&c->stop_lock, NULL);
    /* the monitor's tick: a wall clock set back must not stall it */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->stop_cond, &ca);
    pthread_condattr_destroy(&ca);
    c->live = json_object();
    c->reserves = json_object();
    c->started_us = ctl_now_us();
    slio_prom_hist_init(&c->request_seconds);
    const char *tokens[AUTH__SCOPES] = {c->cfg.tokens.admin, c->cfg.tokens.csi, c->cfg.tokens.agent,
                                        c->cfg.tokens.readonly};
    int r = c->live && c->reserves ? 0 : -ENOMEM;
    if (r == 0)
        r = auth_load(&c->auth, tokens, err);
    if (r == 0) {
        r = sched_config_from_json(c->cfg.scheduler, &c->sched_cfg, err);
        if (r < 0)
            slio_err_prefix(err, "config field 'scheduler'");
    }
    if (r == 0)
        r = open_store(&c->cfg, &c->store, err);
    if (r == 0)
        r = ctl_rebuild_view(c, err);
    c->leader_epoch = c->store ? store_leader_epoch(c->store) : 0;
    if (r < 0) {
        ctl_free(c);
        return r;
    }
    *ret = c;
    return 0;
}

void ctl_free(struct ctl *c)
{
    if (!c)
        return;
    ctl_monitor_stop(c);
    if (c->audit_fd > 0)
        close(c->audit_fd);
    sched_view_free(c->view);
    for (size_t i = 0; i < c->n_retired; i++)
        sched_view_free(c->retired[i]);
    sched_config_free(c->sched_cfg);
    store_free(c->store);
    json_decref(c->live);
    json_decref(c->reserves);
    ctl_config_clear(&c->cfg);
    pthread_cond_destroy(&c->stop_cond);
    pthread_mutex_destroy(&c->stop_lock);
    pthread_mutex_destroy(&c->live_lock);
    free(c);
}
