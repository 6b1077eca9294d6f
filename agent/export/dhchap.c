/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DH-HMAC-CHAP keys of exported volumes (docs/agent.md, "DH-HMAC-CHAP").
 *
 * The target reads keys from files through its keyring (SPDK's
 * keyring_file_add_key {name, path}); a host is bound to key NAMES
 * (nvmf_subsystem_add_host {dhchap_key, dhchap_ctrlr_key}). Per volume and
 * allowed host there is one host key and optionally one controller key:
 *   name  slio-<volume uuid>-<FNV-1a 64 of the host NQN, 16 hex>-h   (-c: controller key)
 *   file  <keys_dir>/<name>, mode 0600, owned by the target's user (the owner
 *         of its JSON-RPC socket); keys_dir is 0700, owned the same way.
 * Order makes kill -9 harmless: a file is written before its keyring entry is
 * added and removed after the entry is, so the files of a volume are a
 * superset of what the keyring can hold of it — the cleanup lists the files.
 * A rotation rewrites the file atomically under the same name: the target
 * reads a file key at each authentication (SPDK's keyring_file does), so
 * connected hosts stay and the next association uses the new secret.
 */
#define SLIO_LOG_COMPONENT "agent"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export/slio_tgt_internal.h"
#include "slio/fileio.h"
#include "slio/log.h"
#include "slio/uuid.h"

#define SPDK_EEXIST (-17)  /* keyring_file_add_key: the name is taken */
#define SPDK_ENOENT (-2)   /* keyring_file_remove_key: no such key */
#define SPDK_ENODEV (-19)  /* same, older SPDK */
#define SPDK_ENOKEY (-126) /* same, keyring's own code */

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void agent_export_key_name(const uuid_t uuid, const char *host_nqn, bool ctrl,
                           char ret[static AGENT_KEY_NAME_MAX])
{
    char u[SLIO_UUID_STR_LEN];
    uint64_t h = fnv1a(0xcbf29ce484222325ull, host_nqn, strlen(host_nqn));

    snprintf(ret, AGENT_KEY_NAME_MAX, "%s%s-%016llx-%c", AGENT_EXPORT_BDEV_PREFIX,
             slio_uuid_format(uuid, u), (unsigned long long)h, ctrl ? 'c' : 'h');
}

/* One of ours for this volume: "slio-<uuid>-<16 hex>-h|c" exactly (it becomes a file name). */
bool agent_export_key_name_ok(const uuid_t uuid, const char *name)
{
    char prefix[AGENT_KEY_NAME_MAX], u[SLIO_UUID_STR_LEN];
    size_t n = (size_t)snprintf(prefix, sizeof(prefix), "%s%s-", AGENT_EXPORT_BDEV_PREFIX,
                                slio_uuid_format(uuid, u));
    const char *p = name + n;

    if (!name || strnlen(name, AGENT_KEY_NAME_MAX) != n + 18 || strncmp(name, prefix, n) != 0)
        return false;
    for (int i = 0; i < 16; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return p[16] == '-' && (p[17] == 'h' || p[17] == 'c');
}

static uint64_t host_digest(const char *nqn, const char *key, const char *ctrl)
{
    uint64_t h = 0xcbf29ce484222325ull;

    if (!key && !ctrl)
        return 0; /* a host without keys adds nothing: no keys anywhere is digest 0 */
    h = fnv1a(h, nqn, strlen(nqn) + 1);
    h = fnv1a(h, key ? key : "", strlen(key ? key : "") + 1);
    return fnv1a(h, ctrl ? ctrl : "", strlen(ctrl ? ctrl : "") + 1);
}

uint64_t agent_export_auth_digest(const char *const *hosts, const char *const *keys,
                                  const char *const *ctrl_keys, size_t n)
{
    uint64_t d = 0;

    /* a sum: the order of the hosts does not matter */
    for (size_t i = 0; i < n; i++)
        d += host_digest(hosts[i], keys ? keys[i] : NULL, keys && ctrl_keys ? ctrl_keys[i] : NULL);
    return d;
}

static int key_path(const struct tgt_exporter *t, const char *name, char *buf, size_t len)
{
    return snprintf(buf, len, "%s/%s", t->keys_dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

/* The secret in a key file of ours, or NULL (missing, unreadable, not a secret). */
static char *read_key(const struct tgt_exporter *t, const uuid_t uuid, const char *name)
{
    char path[PATH_MAX];
    char *buf = NULL;
    size_t n;

    if (!agent_export_key_name_ok(uuid, name) || key_path(t, name, path, sizeof(path)) < 0 ||
        slio_read_file(path, SLIO_DHCHAP_SECRET_MAX + 1, &buf, &n) < 0)
        return NULL;
    if (!slio_dhchap_secret_valid(buf)) {
        free(buf);
        return NULL;
    }
    return buf;
}

void tgt_discover_auth(const struct tgt_exporter *t, struct agent_export_state *s)
{
    /* A bound name whose file is gone counts as a key nobody wants: the digest differs
     * and ensure writes the file again. */
    static const char missing[] = "\001missing";

    s->auth_digest = 0;
    for (size_t i = 0; i < s->n_hosts; i++) {
        _cleanup_free_ char *key = s->key_names[i] ? read_key(t, s->uuid, s->key_names[i]) : NULL;
        _cleanup_free_ char *ctrl =
            s->ctrl_key_names[i] ? read_key(t, s->uuid, s->ctrl_key_names[i]) : NULL;
        const char *k = s->key_names[i] ? (key ? key : missing) : NULL;
        const char *c = s->ctrl_key_names[i] ? (ctrl ? ctrl : missing) : NULL;

        s->auth_digest += host_digest(s->hosts[i], k, c);
    }
}

/* The target's user owns its socket: key files and their directory go to it. */
static void give_to_target(const struct tgt_exporter *t, const char *path)
{
    struct stat st;

    if (geteuid() != 0 || stat(t->socket, &st) < 0 || st.st_uid == 0)
        return;
    if (chown(path, st.st_uid, st.st_gid) < 0)
        log_warn("key file \"%s\": chown to the target's user %u: %m", path, (unsigned)st.st_uid);
}

static int ensure_keys_dir(const struct tgt_exporter *t, struct slio_err *err)
{
    struct stat st;

    char parent[PATH_MAX];
    char *slash;

    /* the parent (the agent's state directory) may be new too */
    snprintf(parent, sizeof(parent), "%s", t->keys_dir);
    slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
            slio_err_set(err, "key directory \"%s\": %s", parent, strerror(errno));
            return -errno;
        }
    }
    if (mkdir(t->keys_dir, 0700) < 0 && errno != EEXIST) {
        slio_err_set(err, "key directory \"%s\": %s", t->keys_dir, strerror(errno));
        return -errno;
    }
    if (lstat(t->keys_dir, &st) < 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 077)) {
        slio_err_set(err, "key directory \"%s\": not a private directory (mode 0700 expected)",
                     t->keys_dir);
        return -EPERM;
    }
    give_to_target(t, t->keys_dir);
    return 0;
}

/* Write the file unless it holds the secret already; then make sure the keyring has the name. */
int tgt_key_ensure(struct tgt_exporter *t, const uuid_t uuid, const char *name, const char *secret,
                   bool bound, struct slio_err *err)
{
    _cleanup_free_ char *have = read_key(t, uuid, name);
    char path[PATH_MAX];
    int64_t code = 0;
    int r;

    if (!have || strcmp(have, secret) != 0) {
        r = ensure_keys_dir(t, err);
        if (r == 0)
            r = key_path(t, name, path, sizeof(path));
        if (r == 0)
            r = slio_write_file_atomic(path, secret, strlen(secret), 0600);
        if (r < 0) {
            if (!err->text[0])
                slio_err_set(err, "key file \"%s\": %s", name, strerror(-r));
            return r;
        }
        give_to_target(t, path);
    }
    if (bound)
        return 0; /* a host uses the name: the keyring has it (and reads the new file) */
    if (key_path(t, name, path, sizeof(path)) < 0)
        return -ENAMETOOLONG;
    r = tgt_call(t, "keyring_file_add_key", json_pack("{s:s, s:s}", "name", name, "path", path),
                 NULL, &code, err);
    if (r == -EREMOTEIO && code == SPDK_EEXIST)
        return 0; /* added before a crash: the file is the one written above */
    return r;
}

/* keyring_file_remove_key, then the file: the entry never outlives its file. */
static int key_remove(struct tgt_exporter *t, const char *name, struct slio_err *err)
{
    char path[PATH_MAX];
    int64_t code = 0;
    int r;

    if (!strstr(name, ".tmp")) {
        r = tgt_call(t, "keyring_file_remove_key", json_pack("{s:s}", "name", name), NULL, &code,
                     err);
        if (r == -EREMOTEIO && (code == SPDK_ENOENT || code == SPDK_ENODEV || code == SPDK_ENOKEY))
            r = 0;
        if (r < 0)
            return r;
    }
    if (key_path(t, name, path, sizeof(path)) == 0 && unlink(path) < 0 && errno != ENOENT) {
        slio_err_set(err, "key file \"%s\": %s", name, strerror(errno));
        return -errno;
    }
    return 0;
}

int tgt_keys_prune(struct tgt_exporter *t, const uuid_t uuid, const char *const *keep,
                   size_t n_keep, struct slio_err *err)
{
    char prefix[AGENT_KEY_NAME_MAX], u[SLIO_UUID_STR_LEN];
    DIR *d = opendir(t->keys_dir);
    struct dirent *e;
    int r = 0;

    if (!d)
        return errno == ENOENT
                   ? 0
                   : (slio_err_set(err, "key directory \"%s\": %s", t->keys_dir, strerror(errno)),
                      -errno);
    snprintf(prefix, sizeof(prefix), "%s%s-", AGENT_EXPORT_BDEV_PREFIX, slio_uuid_format(uuid, u));
    while (r == 0 && (e = readdir(d))) {
        bool kept = false;

        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        for (size_t i = 0; i < n_keep && !kept; i++)
            kept = keep[i] && strcmp(keep[i], e->d_name) == 0;
        if (!kept)
            r = key_remove(t, e->d_name, err);
    }
    closedir(d);
    return r;
}
