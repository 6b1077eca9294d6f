/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who may reach a subsystem: allowed hosts, allow_any_host, listeners, and
 * the discovery log built from them. Every change bumps the discovery
 * generation counter; a change that takes access away tells the nvmf layer
 * to drop the controllers that lost it.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nvmf/ctrlr.h"
#include "registry/keyring.h"
#include "registry/registry_internal.h"
#include "slio/log.h"
#include "slio/parse.h"
#include "transport/reactor.h"

bool subsys_host_allowed_locked(const struct tgt_subsys *s, const char *hostnqn)
{
    if (s->allow_any_host)
        return true;
    if (!hostnqn)
        return false;
    for (unsigned i = 0; i < s->nr_hosts; i++)
        if (strcmp(s->hosts[i], hostnqn) == 0)
            return true;
    return false;
}

bool tgt_subsys_host_allowed(struct tgt_subsys *s, const char *hostnqn)
{
    pthread_mutex_lock(&tgt_registry_lock);
    bool ok = subsys_host_allowed_locked(s, hostnqn);
    pthread_mutex_unlock(&tgt_registry_lock);
    return ok;
}

static bool addr_equal(const struct tgt_listen_addr *a, const struct tgt_listen_addr *b)
{
    return strcasecmp(a->trtype, b->trtype) == 0 && strcmp(a->traddr, b->traddr) == 0 &&
           strcmp(a->trsvcid, b->trsvcid) == 0;
}

static int listener_index_locked(const struct tgt_subsys *s, const struct tgt_listen_addr *a)
{
    for (unsigned i = 0; i < s->nr_listeners; i++)
        if (addr_equal(&s->listeners[i], a))
            return (int)i;
    return -1;
}

bool tgt_subsys_listener_allowed(struct tgt_subsys *s, const struct tgt_listen_addr *a)
{
    /* the discovery NQN is answered on every listener */
    if (s->type == TGT_SUBSYS_DISCOVERY)
        return true;
    pthread_mutex_lock(&tgt_registry_lock);
    bool ok = listener_index_locked(s, a) >= 0;
    pthread_mutex_unlock(&tgt_registry_lock);
    return ok;
}

void tgt_registry_for_each_discovery_entry(const char *hostnqn, tgt_discovery_fn fn, void *ctx)
{
    pthread_mutex_lock(&tgt_registry_lock);
    for (struct tgt_subsys *s = subsys_find_locked(TGT_DISCOVERY_NQN); s; s = s->next) {
        if (s->type != TGT_SUBSYS_NVME || !subsys_host_allowed_locked(s, hostnqn))
            continue;
        for (unsigned i = 0; i < s->nr_listeners; i++)
            fn(s->nqn, &s->listeners[i], ctx);
    }
    pthread_mutex_unlock(&tgt_registry_lock);
}

int tgt_listen_addr_check(struct tgt_listen_addr *a, struct slio_err *err)
{
    unsigned char buf[16];
    uint32_t port;

    if (strcasecmp(a->trtype, "TCP") != 0) {
        slio_err_set(err, "invalid parameter 'trtype': \"%s\" is not supported (only TCP)",
                     a->trtype);
        return -EINVAL;
    }
    memcpy(a->trtype, "TCP", 4);
    if (!a->adrfam[0] || strcasecmp(a->adrfam, "IPv4") == 0)
        memcpy(a->adrfam, "IPv4", 5);
    else if (strcasecmp(a->adrfam, "IPv6") == 0)
        memcpy(a->adrfam, "IPv6", 5);
    else {
        slio_err_set(err, "invalid parameter 'adrfam': \"%s\" is not IPv4 or IPv6", a->adrfam);
        return -EINVAL;
    }
    int af = a->adrfam[3] == '4' ? AF_INET : AF_INET6;
    if (inet_pton(af, a->traddr, buf) != 1) {
        slio_err_set(err, "invalid parameter 'traddr': \"%s\" is not an %s address", a->traddr,
                     a->adrfam);
        return -EINVAL;
    }
    if (slio_parse_u32(a->trsvcid, 1, 65535, &port) < 0) {
        slio_err_set(err, "invalid parameter 'trsvcid': \"%s\" is not a port number 1-65535",
                     a->trsvcid);
        return -EINVAL;
    }
    return 0;
}

static struct tgt_subsys *any_subsys_locked(const char *nqn, struct slio_err *err)
{
    struct tgt_subsys *s = subsys_find_locked(nqn);

    if (!s)
        slio_err_set(err, "Subsystem %s not found", nqn);
    return s;
}

int tgt_subsys_add_listener(const char *nqn, const struct tgt_listen_addr *in, struct slio_err *err)
{
    struct tgt_listen_addr a = *in;
    int r = tgt_listen_addr_check(&a, err);

    if (r < 0)
        return r;
    pthread_mutex_lock(&tgt_registry_lock);
    struct tgt_subsys *s = any_subsys_locked(nqn, err);
    if (!s)
        r = -ENOENT;
    else if (listener_index_locked(s, &a) >= 0) {
        slio_err_set(err, "Subsystem %s already listens on %s %s:%s", nqn, a.trtype, a.traddr,
                     a.trsvcid);
        r = -EEXIST;
    } else if (s->nr_listeners >= TGT_MAX_LISTENERS) {
        slio_err_set(err, "Subsystem %s: too many listeners (at most %d)", nqn, TGT_MAX_LISTENERS);
        r = -ENOSPC;
    }
    pthread_mutex_unlock(&tgt_registry_lock);
    if (r < 0)
        return r;
    if (!tgt_transport_created()) {
        slio_err_set(err, "Unable to find transport TCP: call nvmf_create_transport first");
        return -EINVAL;
    }
    /* binding may block briefly; only the management thread adds listeners */
    r = tgt_listener_add(&a);
    if (r < 0) {
        slio_err_set(err, "Subsystem %s: cannot listen on %s:%s: %s", nqn, a.traddr, a.trsvcid,
                     strerror(-r));
        return r;
    }
    pthread_mutex_lock(&tgt_registry_lock);
    s = subsys_find_locked(nqn); /* only this thread deletes subsystems */
    if (s)
        s->listeners[s->nr_listeners++] = a;
    registry_bump_genctr_locked();
    pthread_mutex_unlock(&tgt_registry_lock);
    registry_changed_notify();
    log_info("subsystem %s: listening on %s %s:%s", nqn, a.adrfam, a.traddr, a.trsvcid);
    return 0;
}

int tgt_subsys_remove_listener(const char *nqn, const struct tgt_listen_addr *in,
                               struct slio_err *err)
{
    struct tgt_listen_addr a = *in;
    int r = tgt_listen_addr_check(&a, err), i = -1;

    if (r < 0)
        return r;
    pthread_mutex_lock(&tgt_registry_lock);
    struct tgt_subsys *s = any_subsys_locked(nqn, err);
    if (!s)
        r = -ENOENT;
    else if ((i = listener_index_locked(s, &a)) < 0) {
        slio_err_set(err, "Subsystem %s does not listen on %s %s:%s", nqn, a.trtype, a.traddr,
                     a.trsvcid);
        r = -ENOENT;
    } else {
        a = s->listeners[i];
        s->listeners[i] = s->listeners[--s->nr_listeners];
        registry_bump_genctr_locked();
    }
    pthread_mutex_unlock(&tgt_registry_lock);
    if (r < 0)
        return r;
    if (tgt_listener_remove(&a) < 0)
        log_warn("subsystem %s: transport had no listener on %s:%s", nqn, a.traddr, a.trsvcid);
    tgt_nvmf_subsys_access_changed(nqn);
    registry_changed_notify();
    log_info("subsystem %s: stopped listening on %s:%s", nqn, a.traddr, a.trsvcid);
    return 0;
}

void discovery_clear_listeners(void)
{
    struct tgt_listen_addr a;

    for (;;) {
        bool found = false;
        pthread_mutex_lock(&tgt_registry_lock);
        struct tgt_subsys *d = subsys_find_locked(TGT_DISCOVERY_NQN);
        if (d && d->nr_listeners) {
            a = d->listeners[--d->nr_listeners];
            found = true;
        }
        pthread_mutex_unlock(&tgt_registry_lock);
        if (!found)
            return;
        if (tgt_listener_remove(&a) < 0)
            log_warn("discovery: transport had no listener on %s:%s", a.traddr, a.trsvcid);
    }
}

static int check_hostnqn(const char *hostnqn, struct slio_err *err)
{
    size_t n = hostnqn ? strlen(hostnqn) : 0;

    if (n < 5 || n > TGT_NQN_MAX || strncmp(hostnqn, "nqn.", 4) != 0) {
        slio_err_set(err, "invalid parameter 'host': \"%.230s\" is not an NQN of at most %d bytes",
                     hostnqn ? hostnqn : "", TGT_NQN_MAX);
        return -EINVAL;
    }
    for (const char *p = hostnqn; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            slio_err_set(err, "invalid parameter 'host': contains a control character");
            return -EINVAL;
        }
    return 0;
}

static struct tgt_subsys *nvme_subsys_locked(const char *nqn, struct slio_err *err, int *ret)
{
    struct tgt_subsys *s = any_subsys_locked(nqn, err);

    if (!s)
        *ret = -ENOENT;
    else if (s->type != TGT_SUBSYS_NVME) {
        slio_err_set(err, "Subsystem %s: the discovery subsystem admits every host", nqn);
        *ret = -EPERM;
        s = NULL;
    }
    return s;
}

static int host_append_locked(struct tgt_subsys *s, const char *hostnqn, struct slio_err *err)
{
    if (s->nr_hosts >= TGT_MAX_HOSTS) {
        slio_err_set(err, "Subsystem %s: too many hosts (at most %d)", s->nqn, TGT_MAX_HOSTS);
        return -ENOSPC;
    }
    if (s->nr_hosts == s->cap_hosts) {
        unsigned cap = s->cap_hosts ? s->cap_hosts * 2 : 4;
        void *p = realloc(s->hosts, cap * sizeof(*s->hosts));
        if (!p) {
            slio_err_set(err, "Subsystem %s: out of memory", s->nqn);
            return -ENOMEM;
        }
        s->hosts = p;
        s->cap_hosts = cap;
    }
    memcpy(s->hosts[s->nr_hosts++], hostnqn, strlen(hostnqn) + 1);
    return 0;
}

int tgt_subsys_add_host(const char *nqn, const char *hostnqn, struct slio_err *err)
{
    int r = check_hostnqn(hostnqn, err);

    if (r < 0)
        return r;
    pthread_mutex_lock(&tgt_registry_lock);
    struct tgt_subsys *s = nvme_subsys_locked(nqn, err, &r);
    bool changed = false;
    if (s) {
        unsigned i = 0;
        while (i < s->nr_hosts && strcmp(s->hosts[i], hostnqn) != 0)
            i++;
        /* adding an allowed host again succeeds, as in SPDK */
        if (i == s->nr_hosts) {
            r = host_append_locked(s, hostnqn, err);
            changed = r == 0;
        }
    }
    if (changed)
        registry_bump_genctr_locked();
    pthread_mutex_unlock(&tgt_registry_lock);
    if (changed) {
        registry_changed_notify();
        log_info("subsystem %s: host %s allowed", nqn, hostnqn);
    }
    return r;
}

int tgt_subsys_remove_host(const char *nqn, const char *hostnqn, struct slio_err *err)
{
    int r = 0;

    pthread_mutex_lock(&tgt_registry_lock);
    struct tgt_subsys *s = nvme_subsys_locked(nqn, err, &r);
    if (s) {
        unsigned i = 0;
        while (i < s->nr_hosts && strcmp(s->hosts[i], hostnqn) != 0)
            i++;
        if (i == s->nr_hosts) {
            slio_err_set(err, "Subsystem %s: host %s is not allowed", nqn, hostnqn);
            r = -ENOENT;
        } else {
            memmove(s->hosts[i], s->hosts[i + 1], (s->nr_hosts - i - 1) * sizeof(*s->hosts));
            s->nr_hosts--;
            registry_bump_genctr_locked();
        }
    }
    pthread_mutex_unlock(&tgt_registry_lock);
    if (r < 0)
        return r;
    tgt_host_keys_drop(nqn, hostnqn);
    tgt_nvmf_subsys_access_changed(nqn);
    registry_changed_notify();
    log_info("subsystem %s: host %s removed", nqn, hostnqn);
    return 0;
}

int tgt_subsys_set_allow_any_host(const char *nqn, bool allow, struct slio_err *err)
{
    int r = 0;
    bool revoked = false;

    pthread_mutex_lock(&tgt_registry_lock);
    struct tgt_subsys *s = nvme_subsys_locked(nqn, err, &r);
    if (s) {
        revoked = s->allow_any_host && !allow;
        s->allow_any_host = allow;
        registry_bump_genctr_locked();
    }
    pthread_mutex_unlock(&tgt_registry_lock);
    if (r < 0)
        return r;
    if (revoked)
        tgt_nvmf_subsys_access_changed(nqn);
    registry_changed_notify();
    log_info("subsystem %s: allow_any_host %s", nqn, allow ? "on" : "off");
    return 0;
}
