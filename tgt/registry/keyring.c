/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file keyring and the per-host DH-HMAC-CHAP keys (see keyring.h).
 *
 * Secrets are read once, when the key is added, and kept parsed in memory:
 * a file changed or removed later does not change a key (rotation is a new
 * key name and nvmf_subsystem_set_keys, as in SPDK). Host entries name
 * keys; the key material is looked up at each authentication, so a changed
 * entry applies to the next Connect or re-authentication without touching
 * connected controllers.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "registry/keyring.h"
#include "registry/registry.h"
#include "slio/cleanup.h"
#include "slio/log.h"

struct tgt_key {
    char name[TGT_KEY_NAME_MAX + 1];
    char *path;
    struct slio_dhchap_key key;
    struct tgt_key *next;
};

struct host_keys {
    char subnqn[TGT_NQN_MAX + 1];
    char hostnqn[TGT_NQN_MAX + 1];
    char key[TGT_KEY_NAME_MAX + 1];
    char ckey[TGT_KEY_NAME_MAX + 1];
    struct host_keys *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tgt_key *g_keys;
static unsigned g_nr_keys;
static struct host_keys *g_hosts;
static _Atomic uint32_t g_digests = TGT_AUTH_ALL_DIGESTS, g_dhgroups = TGT_AUTH_ALL_DHGROUPS;

static struct tgt_key *key_find_locked(const char *name)
{
    for (struct tgt_key *k = g_keys; k; k = k->next)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

static void key_free(struct tgt_key *k)
{
    slio_dhchap_key_wipe(&k->key);
    free(k->path);
    free(k);
}

/* Open and check the key file: owner, mode, type. Returns an fd or -errno. */
static int open_key_file(const char *path, struct slio_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        slio_err_set(err, "key file \"%s\": %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    int r = 0;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        slio_err_set(err, "key file \"%s\": %s", path, strerror(-r));
    } else if (!S_ISREG(st.st_mode)) {
        r = -EINVAL;
        slio_err_set(err, "key file \"%s\": not a regular file", path);
    } else if (st.st_uid != geteuid()) {
        r = -EPERM;
        slio_err_set(err, "key file \"%s\": owned by uid %u, not by the target's user (uid %u)",
                     path, (unsigned)st.st_uid, (unsigned)geteuid());
    } else if (st.st_mode & 077) {
        r = -EACCES;
        slio_err_set(err, "key file \"%s\": mode %04o lets others read it (0600 or stricter)", path,
                     (unsigned)(st.st_mode & 07777));
    }
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}

static int read_key_file(const char *path, struct slio_dhchap_key *ret, struct slio_err *err)
{
    _cleanup_close_ int fd = open_key_file(path, err);
    if (fd < 0)
        return fd;
    char buf[SLIO_DHCHAP_SECRET_MAX + 4];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    int r = -EINVAL;
    if (n < 0) {
        r = -errno;
        slio_err_set(err, "key file \"%s\": %s", path, strerror(-r));
    } else if ((size_t)n == sizeof(buf) - 1) {
        slio_err_set(err, "key file \"%s\": longer than a DHHC-1 secret", path);
    } else {
        buf[n] = '\0';
        r = slio_dhchap_key_parse(buf, ret, err);
        if (r < 0)
            slio_err_prefix(err, "key file \"%s\"", path);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return r;
}

static int check_name(const char *name, struct slio_err *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > TGT_KEY_NAME_MAX) {
        slio_err_set(err, "invalid key name: 1 to %d characters", TGT_KEY_NAME_MAX);
        return -EINVAL;
    }
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            slio_err_set(err, "invalid key name: contains a space or control character");
            return -EINVAL;
        }
    return 0;
}

int tgt_keyring_add(const char *name, const char *path, struct slio_err *err)
{
    int r = check_name(name, err);
    if (r < 0)
        return r;
    if (!path || path[0] != '/') {
        slio_err_set(err, "key \"%s\": path must be absolute", name);
        return -EINVAL;
    }
    struct tgt_key *k = calloc(1, sizeof(*k));
    if (!k || !(k->path = strdup(path))) {
        free(k);
        slio_err_set(err, "key \"%s\": out of memory", name);
        return -ENOMEM;
    }
    memcpy(k->name, name, strlen(name) + 1);
    r = read_key_file(path, &k->key, err);
    if (r < 0) {
        key_free(k);
        return r;
    }
    pthread_mutex_lock(&g_lock);
    if (key_find_locked(name)) {
        slio_err_set(err, "key \"%s\" already exists", name);
        r = -EEXIST;
    } else if (g_nr_keys >= TGT_MAX_KEYS) {
        slio_err_set(err, "key \"%s\": too many keys (at most %d)", name, TGT_MAX_KEYS);
        r = -ENOSPC;
    } else {
        k->next = g_keys;
        g_keys = k;
        g_nr_keys++;
        k = NULL;
    }
    pthread_mutex_unlock(&g_lock);
    if (k)
        key_free(k);
    else
        log_info("keyring: key \"%s\" added from \"%s\"", name, path);
    return r;
}

static bool key_in_use_locked(const char *name)
{
    for (struct host_keys *h = g_hosts; h; h = h->next)
        if (strcmp(h->key, name) == 0 || strcmp(h->ckey, name) == 0)
            return true;
    return false;
}

int tgt_keyring_remove(const char *name, struct slio_err *err)
{
    struct tgt_key *victim = NULL;
    int r = 0;
    pthread_mutex_lock(&g_lock);
    struct tgt_key **pp = &g_keys;
    while (*pp && strcmp((*pp)->name, name ? name : "") != 0)
        pp = &(*pp)->next;
    if (!*pp) {
        slio_err_set(err, "key \"%.64s\" does not exist", name ? name : "");
        r = -ENOENT;
    } else if (key_in_use_locked(name)) {
        slio_err_set(err, "key \"%s\" is used by a host of a subsystem", name);
        r = -EBUSY;
    } else {
        victim = *pp;
        *pp = victim->next;
        g_nr_keys--;
    }
    pthread_mutex_unlock(&g_lock);
    if (victim) {
        key_free(victim);
        log_info("keyring: key \"%s\" removed", name);
    }
    return r;
}

void tgt_keyring_for_each(void (*fn)(const char *name, const char *path, void *ctx), void *ctx)
{
    pthread_mutex_lock(&g_lock);
    for (struct tgt_key *k = g_keys; k; k = k->next)
        fn(k->name, k->path, ctx);
    pthread_mutex_unlock(&g_lock);
}

static struct host_keys **host_find_locked(const char *subnqn, const char *hostnqn)
{
    struct host_keys **pp = &g_hosts;
    while (*pp && (strcmp((*pp)->subnqn, subnqn) != 0 || strcmp((*pp)->hostnqn, hostnqn) != 0))
        pp = &(*pp)->next;
    return pp;
}

static bool empty(const char *s)
{
    return !s || !s[0];
}

int tgt_host_keys_set(const char *subnqn, const char *hostnqn, const char *key,
                      const char *ctrlr_key, struct slio_err *err)
{
    if (empty(key) && !empty(ctrlr_key)) {
        slio_err_set(err, "host %s: a controller key needs a host key (dhchap_key)", hostnqn);
        return -EINVAL;
    }
    if (strlen(subnqn) > TGT_NQN_MAX || strlen(hostnqn) > TGT_NQN_MAX)
        return -EINVAL;
    struct host_keys *n = NULL;
    if (!empty(key) && !(n = calloc(1, sizeof(*n)))) {
        slio_err_set(err, "host %s: out of memory", hostnqn);
        return -ENOMEM;
    }
    int r = 0;
    pthread_mutex_lock(&g_lock);
    const char *names[2] = {key, ctrlr_key};
    for (int i = 0; i < 2 && r == 0; i++)
        if (!empty(names[i]) && !key_find_locked(names[i])) {
            slio_err_set(err, "host %s: key \"%.64s\" does not exist", hostnqn, names[i]);
            r = -ENOENT;
        }
    if (r == 0) {
        struct host_keys **pp = host_find_locked(subnqn, hostnqn), *old = *pp;
        if (old)
            *pp = old->next;
        free(old);
        if (n) {
            memcpy(n->subnqn, subnqn, strlen(subnqn) + 1);
            memcpy(n->hostnqn, hostnqn, strlen(hostnqn) + 1);
            memcpy(n->key, key, strlen(key) + 1);
            if (!empty(ctrlr_key))
                memcpy(n->ckey, ctrlr_key, strlen(ctrlr_key) + 1);
            n->next = g_hosts;
            g_hosts = n;
            n = NULL;
        }
    }
    pthread_mutex_unlock(&g_lock);
    free(n);
    return r;
}

void tgt_host_keys_drop(const char *subnqn, const char *hostnqn)
{
    pthread_mutex_lock(&g_lock);
    for (struct host_keys **pp = &g_hosts; *pp;) {
        struct host_keys *h = *pp;
        if (strcmp(h->subnqn, subnqn) == 0 && (!hostnqn || strcmp(h->hostnqn, hostnqn) == 0)) {
            *pp = h->next;
            free(h);
        } else
            pp = &h->next;
    }
    pthread_mutex_unlock(&g_lock);
}

bool tgt_host_keys_get(const char *subnqn, const char *hostnqn, struct slio_dhchap_key *ret_host,
                       struct slio_dhchap_key *ret_ctrl)
{
    bool found = false;
    pthread_mutex_lock(&g_lock);
    struct host_keys *h = *host_find_locked(subnqn, hostnqn);
    struct tgt_key *k = h ? key_find_locked(h->key) : NULL;
    struct tgt_key *ck = h && h->ckey[0] ? key_find_locked(h->ckey) : NULL;
    if (k) {
        *ret_host = k->key;
        if (ck)
            *ret_ctrl = ck->key;
        else
            memset(ret_ctrl, 0, sizeof(*ret_ctrl));
        found = true;
    }
    pthread_mutex_unlock(&g_lock);
    return found;
}

bool tgt_host_keys_names(const char *subnqn, const char *hostnqn, char key[TGT_KEY_NAME_MAX + 1],
                         char ckey[TGT_KEY_NAME_MAX + 1])
{
    pthread_mutex_lock(&g_lock);
    struct host_keys *h = *host_find_locked(subnqn, hostnqn);
    if (h) {
        memcpy(key, h->key, sizeof(h->key));
        memcpy(ckey, h->ckey, sizeof(h->ckey));
    }
    pthread_mutex_unlock(&g_lock);
    return h != NULL;
}

void tgt_host_keys_for_each(void (*fn)(const char *subnqn, const char *hostnqn, const char *key,
                                       const char *ctrlr_key, void *ctx),
                            void *ctx)
{
    pthread_mutex_lock(&g_lock);
    for (struct host_keys *h = g_hosts; h; h = h->next)
        fn(h->subnqn, h->hostnqn, h->key, h->ckey[0] ? h->ckey : NULL, ctx);
    pthread_mutex_unlock(&g_lock);
}

void tgt_auth_set_allowed(uint32_t digests, uint32_t dhgroups)
{
    atomic_store(&g_digests, digests & TGT_AUTH_ALL_DIGESTS);
    atomic_store(&g_dhgroups, dhgroups & TGT_AUTH_ALL_DHGROUPS);
}

void tgt_auth_get_allowed(uint32_t *ret_digests, uint32_t *ret_dhgroups)
{
    *ret_digests = atomic_load(&g_digests);
    *ret_dhgroups = atomic_load(&g_dhgroups);
}

void tgt_keyring_clear(void)
{
    pthread_mutex_lock(&g_lock);
    while (g_hosts) {
        struct host_keys *h = g_hosts;
        g_hosts = h->next;
        free(h);
    }
    while (g_keys) {
        struct tgt_key *k = g_keys;
        g_keys = k->next;
        key_free(k);
    }
    g_nr_keys = 0;
    pthread_mutex_unlock(&g_lock);
    tgt_auth_set_allowed(TGT_AUTH_ALL_DIGESTS, TGT_AUTH_ALL_DHGROUPS);
}
