/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Subsystems and their namespaces. The list and each subsystem's mutable
 * fields are guarded by tgt_registry_lock; the namespace table additionally
 * by a per-subsystem rwlock so that the I/O path (tgt_ns_get_io) never
 * contends with the management thread for longer than a pointer swap.
 * Namespaces and subsystems are reference-counted: a removed namespace and
 * its bdev live until the last in-flight I/O puts them.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf/ctrlr.h"
#include "registry/keyring.h"
#include "registry/registry_internal.h"
#include "transport/reactor.h"
#include "slio/log.h"
#include "slio/nqn.h"

pthread_mutex_t tgt_registry_lock = PTHREAD_MUTEX_INITIALIZER;

/* The discovery subsystem always exists and is never freed. */
static struct tgt_subsys g_discovery = {
    .nqn = TGT_DISCOVERY_NQN,
    .type = TGT_SUBSYS_DISCOVERY,
    .model = "SLiteIO Discovery Controller",
    .allow_any_host = true,
    .ns_lock = PTHREAD_RWLOCK_INITIALIZER,
    .refs = 1,
};
static struct tgt_subsys *g_head = &g_discovery;
static _Atomic uint64_t g_genctr;

void registry_bump_genctr_locked(void)
{
    atomic_fetch_add(&g_genctr, 1);
}

void registry_changed_notify(void)
{
    tgt_nvmf_discovery_changed();
}

uint64_t tgt_registry_discovery_genctr(void)
{
    return atomic_load(&g_genctr);
}

struct tgt_subsys *subsys_find_locked(const char *nqn)
{
    for (struct tgt_subsys *s = g_head; s; s = s->next)
        if (strcmp(s->nqn, nqn) == 0)
            return s;
    return NULL;
}

bool tgt_subsys_exists(const char *nqn)
{
    pthread_mutex_lock(&tgt_registry_lock);
    bool e = subsys_find_locked(nqn) != NULL;
    pthread_mutex_unlock(&tgt_registry_lock);
    return e;
}

struct tgt_subsys *tgt_subsys_find_get(const char *nqn)
{
    if (!nqn)
        return NULL;
    pthread_mutex_lock(&tgt_registry_lock);
    struct tgt_subsys *s = subsys_find_locked(nqn);
    if (s)
        atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&tgt_registry_lock);
    return s;
}

static void subsys_free(struct tgt_subsys *s)
{
    pthread_rwlock_destroy(&s->ns_lock);
    free(s->ns);
    free(s->hosts);
    free(s);
}

void tgt_subsys_put(struct tgt_subsys *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1)
        subsys_free(s);
}

const char *tgt_subsys_nqn(const struct tgt_subsys *s)
{
    return s->nqn;
}

enum tgt_subsys_type tgt_subsys_type(const struct tgt_subsys *s)
{
    return s->type;
}

const char *tgt_subsys_serial(const struct tgt_subsys *s)
{
    return s->serial;
}

const char *tgt_subsys_model(const struct tgt_subsys *s)
{
    return s->model;
}

uint32_t tgt_subsys_max_nsid(const struct tgt_subsys *s)
{
    return s->max_ns;
}

/* ---- namespaces ---- */

struct tgt_ns *tgt_ns_get_io(struct tgt_subsys *s, uint32_t nsid)
{
    struct tgt_ns *ns = NULL;

    if (nsid == 0 || nsid > s->max_ns)
        return NULL;
    pthread_rwlock_rdlock(&s->ns_lock);
    ns = s->ns[nsid - 1];
    if (ns)
        atomic_fetch_add_explicit(&ns->refs, 1, memory_order_relaxed);
    pthread_rwlock_unlock(&s->ns_lock);
    return ns;
}

void tgt_ns_put(struct tgt_ns *ns)
{
    if (ns && atomic_fetch_sub_explicit(&ns->refs, 1, memory_order_acq_rel) == 1) {
        tgt_bdev_put(ns->bdev);
        free(ns);
    }
}

uint32_t tgt_subsys_active_nsids(struct tgt_subsys *s, uint32_t after, uint32_t *out, uint32_t max)
{
    uint32_t n = 0;

    pthread_rwlock_rdlock(&s->ns_lock);
    for (uint32_t i = after; i < s->max_ns && n < max; i++)
        if (s->ns[i])
            out[n++] = i + 1;
    pthread_rwlock_unlock(&s->ns_lock);
    return n;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return false;
    return true;
}

int tgt_subsys_nqn_check(const char *nqn, struct slio_err *err)
{
    int r = nqn ? slio_nqn_validate(nqn) : -EINVAL;

    if (r < 0) {
        /* the reason before the value: a long value is cut to fit, the reason must not be */
        slio_err_set(err, "invalid parameter 'nqn': %s: \"%.200s\"",
                     r == -ENAMETOOLONG ? "longer than 223 bytes" : "not a valid NQN",
                     nqn ? nqn : "");
        return -EINVAL;
    }
    return 0;
}

static int check_subsys_opts(const struct tgt_subsys_opts *o, struct slio_err *err)
{
    int r = tgt_subsys_nqn_check(o->nqn, err);

    if (r < 0)
        return r;
    if (o->serial && (strlen(o->serial) > TGT_SERIAL_LEN || !printable(o->serial))) {
        slio_err_set(err,
                     "invalid parameter 'serial_number': at most %d printable ASCII characters",
                     TGT_SERIAL_LEN);
        return -EINVAL;
    }
    if (o->model && (strlen(o->model) > TGT_MODEL_LEN || !printable(o->model))) {
        slio_err_set(err, "invalid parameter 'model_number': at most %d printable ASCII characters",
                     TGT_MODEL_LEN);
        return -EINVAL;
    }
    if (o->max_namespaces > TGT_MAX_NAMESPACES) {
        slio_err_set(err, "invalid parameter 'max_namespaces': %u is more than %d",
                     o->max_namespaces, TGT_MAX_NAMESPACES);
        return -EINVAL;
    }
    return 0;
}

static struct tgt_subsys *subsys_new(const struct tgt_subsys_opts *o)
{
    struct tgt_subsys *s = calloc(1, sizeof(*s));
    const char *serial = o->serial ? o->serial : TGT_SERIAL_DEFAULT;
    const char *model = o->model ? o->model : TGT_MODEL_DEFAULT;

    if (!s)
        return NULL;
    s->max_ns = o->max_namespaces ? o->max_namespaces : TGT_MAX_NAMESPACES;
    s->ns = calloc(s->max_ns, sizeof(*s->ns));
    if (!s->ns || pthread_rwlock_init(&s->ns_lock, NULL) != 0) {
        free(s->ns);
        free(s);
        return NULL;
    }
    memcpy(s->nqn, o->nqn, strlen(o->nqn) + 1);
    memcpy(s->serial, serial, strlen(serial) + 1);
    memcpy(s->model, model, strlen(model) + 1);
    s->type = TGT_SUBSYS_NVME;
    s->allow_any_host = o->allow_any_host;
    atomic_init(&s->refs, 1);
    return s;
}

int tgt_subsys_create(const struct tgt_subsys_opts *o, struct slio_err *err)
{
    int r = check_subsys_opts(o, err);

    if (r < 0)
        return r;
    struct tgt_subsys *s = subsys_new(o);
    if (!s) {
        slio_err_set(err, "Subsystem %s: out of memory", o->nqn);
        return -ENOMEM;
    }
    pthread_mutex_lock(&tgt_registry_lock);
    if (subsys_find_locked(o->nqn)) {
        pthread_mutex_unlock(&tgt_registry_lock);
        subsys_free(s);
        slio_err_set(err, "Subsystem %s already exists", o->nqn);
        return -EEXIST;
    }
    struct tgt_subsys **tail = &g_head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = s;
    registry_bump_genctr_locked();
    pthread_mutex_unlock(&tgt_registry_lock);
    registry_changed_notify();
    log_info("subsystem %s: created (max %u namespaces)", s->nqn, s->max_ns);
    return 0;
}

static struct tgt_subsys *nvme_subsys_locked(const char *nqn, struct slio_err *err, int *ret)
{
    struct tgt_subsys *s = subsys_find_locked(nqn);

    if (!s) {
        slio_err_set(err, "Subsystem %s not found", nqn);
        *ret = -ENOENT;
    } else if (s->type != TGT_SUBSYS_NVME) {
        slio_err_set(err, "Subsystem %s is the discovery subsystem", nqn);
        *ret = -EPERM;
        s = NULL;
    }
    return s;
}

/* Detach ns[idx] (registry lock held); the caller puts it after unlocking. */
static struct tgt_ns *ns_detach_locked(struct tgt_subsys *s, uint32_t idx)
{
    pthread_rwlock_wrlock(&s->ns_lock);
    struct tgt_ns *ns = s->ns[idx];
    s->ns[idx] = NULL;
    pthread_rwlock_unlock(&s->ns_lock);
    if (ns)
        bdev_unclaim_locked(ns->bdev);
    return ns;
}

int tgt_subsys_delete(const char *nqn, struct slio_err *err)
{
    struct tgt_listen_addr listeners[TGT_MAX_LISTENERS];
    unsigned nr_listeners;
    int r = 0;

    pthread_mutex_lock(&tgt_registry_lock);
    struct tgt_subsys *s = nvme_subsys_locked(nqn, err, &r);
    if (!s) {
        pthread_mutex_unlock(&tgt_registry_lock);
        return r;
    }
    struct tgt_subsys **pp = &g_head;
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
    s->next = NULL;
    nr_listeners = s->nr_listeners;
    memcpy(listeners, s->listeners, nr_listeners * sizeof(listeners[0]));
    s->nr_listeners = 0;
    /* the table stays allocated: controllers may still hold s and look up */
    for (uint32_t i = 0; i < s->max_ns; i++) {
        struct tgt_ns *ns = ns_detach_locked(s, i);
        if (ns) {
            pthread_mutex_unlock(&tgt_registry_lock);
            tgt_ns_put(ns);
            pthread_mutex_lock(&tgt_registry_lock);
        }
    }
    registry_bump_genctr_locked();
    pthread_mutex_unlock(&tgt_registry_lock);

    for (unsigned i = 0; i < nr_listeners; i++)
        if (tgt_listener_remove(&listeners[i]) < 0)
            log_warn("subsystem %s: listener %s:%s was already gone", nqn, listeners[i].traddr,
                     listeners[i].trsvcid);
    tgt_host_keys_drop(nqn, NULL);
    tgt_nvmf_subsys_access_changed(nqn);
    registry_changed_notify();
    log_info("subsystem %s: deleted", nqn);
    tgt_subsys_put(s);
    return 0;
}

static int pick_nsid_locked(struct tgt_subsys *s, uint32_t want, struct slio_err *err,
                            uint32_t *ret)
{
    if (want) {
        if (want > s->max_ns) {
            slio_err_set(err, "Subsystem %s: nsid %u is above max_namespaces %u", s->nqn, want,
                         s->max_ns);
            return -EINVAL;
        }
        if (s->ns[want - 1]) {
            slio_err_set(err, "Subsystem %s: namespace %u already exists", s->nqn, want);
            return -EEXIST;
        }
        *ret = want;
        return 0;
    }
    for (uint32_t i = 0; i < s->max_ns; i++)
        if (!s->ns[i]) {
            *ret = i + 1;
            return 0;
        }
    slio_err_set(err, "Subsystem %s: no free namespace ID (max_namespaces %u)", s->nqn, s->max_ns);
    return -ENOSPC;
}

static int add_ns_locked(const char *nqn, const struct tgt_ns_opts *o, struct tgt_ns *ns,
                         struct slio_err *err)
{
    struct tgt_bdev *b;
    uint32_t nsid;
    int r = 0;
    struct tgt_subsys *s = nvme_subsys_locked(nqn, err, &r);

    if (!s)
        return r;
    if (!(b = bdev_find_locked(o->bdev_name))) {
        slio_err_set(err, "bdev %s not found", o->bdev_name);
        return -ENODEV;
    }
    /* like SPDK's exclusive write claim: one namespace per bdev */
    for (struct tgt_subsys *t = g_head; t; t = t->next)
        for (uint32_t i = 0; i < t->max_ns; i++)
            if (t->ns[i] && t->ns[i]->bdev == b) {
                slio_err_set(err, "bdev %s is already claimed by %s namespace %u", b->name, t->nqn,
                             i + 1);
                return -EBUSY;
            }
    r = pick_nsid_locked(s, o->nsid, err, &nsid);
    if (r < 0)
        return r;
    atomic_fetch_add(&b->refs, 1);
    ns->bdev = b;
    ns->nsid = nsid;
    memcpy(ns->uuid, o->uuid ? o->uuid : b->uuid, 16);
    memcpy(ns->nguid, o->nguid ? o->nguid : b->uuid, 16);
    atomic_init(&ns->refs, 1);
    bdev_claim_locked(b);
    pthread_rwlock_wrlock(&s->ns_lock);
    s->ns[nsid - 1] = ns;
    pthread_rwlock_unlock(&s->ns_lock);
    return 0;
}

int tgt_subsys_add_ns(const char *nqn, const struct tgt_ns_opts *o, struct slio_err *err,
                      uint32_t *ret_nsid)
{
    struct tgt_ns *ns = calloc(1, sizeof(*ns));

    if (!ns) {
        slio_err_set(err, "Subsystem %s: out of memory", nqn);
        return -ENOMEM;
    }
    pthread_mutex_lock(&tgt_registry_lock);
    int r = add_ns_locked(nqn, o, ns, err);
    pthread_mutex_unlock(&tgt_registry_lock);
    if (r < 0) {
        free(ns);
        return r;
    }
    log_info("subsystem %s: namespace %u on bdev %s", nqn, ns->nsid, o->bdev_name);
    tgt_nvmf_ns_changed(nqn, ns->nsid);
    if (ret_nsid)
        *ret_nsid = ns->nsid;
    return 0;
}

int tgt_subsys_remove_ns(const char *nqn, uint32_t nsid, struct slio_err *err)
{
    struct tgt_ns *ns = NULL;
    int r = 0;

    pthread_mutex_lock(&tgt_registry_lock);
    struct tgt_subsys *s = nvme_subsys_locked(nqn, err, &r);
    if (s && (nsid == 0 || nsid > s->max_ns || !s->ns[nsid - 1])) {
        slio_err_set(err, "Subsystem %s: namespace %u not found", nqn, nsid);
        r = -ENOENT;
    } else if (s) {
        ns = ns_detach_locked(s, nsid - 1);
    }
    pthread_mutex_unlock(&tgt_registry_lock);
    if (r < 0)
        return r;
    log_info("subsystem %s: namespace %u removed", nqn, nsid);
    tgt_ns_put(ns);
    tgt_nvmf_ns_changed(nqn, nsid);
    return 0;
}

struct ns_ref {
    char nqn[TGT_NQN_MAX + 1];
    uint32_t nsid;
};

void subsys_notify_bdev_resized(struct tgt_bdev *b)
{
    struct ns_ref *refs = NULL;
    size_t n = 0, cap = 0;

    pthread_mutex_lock(&tgt_registry_lock);
    for (struct tgt_subsys *s = g_head; s; s = s->next)
        for (uint32_t i = 0; i < s->max_ns; i++) {
            if (!s->ns[i] || s->ns[i]->bdev != b)
                continue;
            if (n == cap) {
                size_t c = cap ? cap * 2 : 4;
                struct ns_ref *p = realloc(refs, c * sizeof(*p));
                if (!p)
                    break;
                refs = p;
                cap = c;
            }
            memcpy(refs[n].nqn, s->nqn, sizeof(s->nqn));
            refs[n++].nsid = i + 1;
        }
    pthread_mutex_unlock(&tgt_registry_lock);
    for (size_t i = 0; i < n; i++)
        tgt_nvmf_ns_changed(refs[i].nqn, refs[i].nsid);
    free(refs);
}

void tgt_subsys_for_each(void (*fn)(const struct tgt_subsys_view *v, void *ctx), void *ctx)
{
    pthread_mutex_lock(&tgt_registry_lock);
    for (struct tgt_subsys *s = g_head; s; s = s->next) {
        struct tgt_subsys_view v = {
            .nqn = s->nqn,
            .type = s->type,
            .serial = s->serial,
            .model = s->model,
            .allow_any_host = s->allow_any_host,
            .max_namespaces = s->max_ns,
            .hosts = (const char(*)[TGT_NQN_MAX + 1]) s->hosts,
            .nr_hosts = s->nr_hosts,
            .listeners = s->listeners,
            .nr_listeners = s->nr_listeners,
            .ns = s->ns,
        };
        fn(&v, ctx);
    }
    pthread_mutex_unlock(&tgt_registry_lock);
}

void tgt_registry_clear(void)
{
    for (;;) {
        char nqn[TGT_NQN_MAX + 1] = "";
        pthread_mutex_lock(&tgt_registry_lock);
        if (g_discovery.next)
            memcpy(nqn, g_discovery.next->nqn, sizeof(nqn));
        pthread_mutex_unlock(&tgt_registry_lock);
        if (!nqn[0])
            break;
        if (tgt_subsys_delete(nqn, NULL) < 0)
            break;
    }
    discovery_clear_listeners();
    bdev_clear_all();
    tgt_keyring_clear();
}
