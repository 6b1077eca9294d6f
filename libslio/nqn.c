/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NQN validation and construction; see include/slio/nqn.h for the rules.
 * Every subsystem and host NQN that reaches slio-tgt, the agent or the CSI
 * plugin passes slio_nqn_validate() first.
 */
#include <stdio.h>
#include <string.h>

#define SLIO_LOG_COMPONENT "nqn"
#include "slio/fileio.h"
#include "slio/log.h"
#include "slio/nqn.h"
#include "slio/parse.h"

#include <openssl/crypto.h>

#include "slio/uuid.h"

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool valid_user_string(const char *s)
{
    if (!*s)
        return false;
    for (size_t n; *s; s += n) {
        uint32_t cp;
        n = slio_utf8_seq(s, &cp);
        if (n == 0 || cp < 0x20 || cp == 0x7f)
            return false;
    }
    return true;
}

/* Reverse domain "io.slite" up to ':' or the end; returns the end or NULL. */
static const char *skip_domain(const char *s)
{
    for (;;) {
        size_t n = 0;
        if (!is_alpha(s[0]))
            return NULL;
        while (is_alpha(s[n]) || is_digit(s[n]) || s[n] == '-')
            n++;
        if (n > 63 || s[n - 1] == '-')
            return NULL;
        s += n;
        if (*s != '.')
            return s;
        s++;
    }
}

int slio_nqn_validate(const char *nqn)
{
    uuid_t u;
    size_t len;

    if (!nqn)
        return -EINVAL;
    len = strnlen(nqn, SLIO_NQN_BUF);
    if (len > SLIO_NQN_MAX)
        return -ENAMETOOLONG;
    if (strncmp(nqn, SLIO_NQN_UUID_PREFIX, strlen(SLIO_NQN_UUID_PREFIX)) == 0)
        return slio_uuid_parse(nqn + strlen(SLIO_NQN_UUID_PREFIX), u) < 0 ? -EINVAL : 0;
    /* "nqn.yyyy-mm." */
    if (len < 12 || memcmp(nqn, "nqn.", 4) != 0)
        return -EINVAL;
    const char *d = nqn + 4;
    for (int i = 0; i < 7; i++)
        if (i == 4 ? d[i] != '-' : !is_digit(d[i]))
            return -EINVAL;
    int month = (d[5] - '0') * 10 + (d[6] - '0');
    if (month < 1 || month > 12 || d[7] != '.')
        return -EINVAL;
    const char *end = skip_domain(d + 8);
    if (!end)
        return -EINVAL;
    if (*end == '\0')
        return 0;
    if (*end != ':' || !valid_user_string(end + 1))
        return -EINVAL;
    return 0;
}

bool slio_nqn_is_discovery(const char *nqn)
{
    return nqn && strcmp(nqn, SLIO_NQN_DISCOVERY) == 0;
}

void slio_nqn_from_uuid(const uuid_t u, char ret[static SLIO_NQN_BUF])
{
    char s[SLIO_UUID_STR_LEN];

    snprintf(ret, SLIO_NQN_BUF, "%s%s", SLIO_NQN_UUID_PREFIX, slio_uuid_format(u, s));
}

int slio_nqn_for_volume(const char *name, char ret[static SLIO_NQN_BUF])
{
    if (!name || !*name)
        return -EINVAL;
    for (const char *p = name; *p; p++)
        if (!is_alpha(*p) && !is_digit(*p) && !strchr("._-", *p))
            return -EINVAL;
    if (strlen(SLIO_NQN_PREFIX) + 1 + strlen(name) > SLIO_NQN_MAX)
        return -ENAMETOOLONG;
    snprintf(ret, SLIO_NQN_BUF, "%s:%s", SLIO_NQN_PREFIX, name);
    return 0;
}

/* One line of text from dir/name with trailing whitespace removed; -ENOENT if absent. */
static int read_id_file(const char *dir, const char *name, char **ret)
{
    char path[4096];
    char *buf;
    size_t len;
    int r;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    r = slio_read_file(path, 1024, &buf, &len);
    if (r < 0)
        return r;
    while (len > 0 && strchr(" \t\r\n", buf[len - 1]))
        buf[--len] = '\0';
    *ret = buf;
    return 0;
}

int slio_host_identity_load(const char *dir, char ret_nqn[static SLIO_NQN_BUF], uuid_t ret_hostid)
{
    _cleanup_free_ char *nqn = NULL, *hostid = NULL;
    char derived[SLIO_NQN_BUF];
    uuid_t id;
    int r;

    dir = dir ? dir : "/etc/nvme";
    r = read_id_file(dir, "hostnqn", &nqn);
    if (r < 0 && r != -ENOENT)
        return r;
    r = read_id_file(dir, "hostid", &hostid);
    if (r < 0 && r != -ENOENT)
        return r;
    if (!nqn && !hostid)
        return -ENOENT;
    if (nqn && slio_nqn_validate(nqn) < 0) {
        log_error("\"%s/hostnqn\": \"%.64s\" is not a valid NQN", dir, nqn);
        return -EINVAL;
    }
    if (hostid && slio_uuid_parse(hostid, id) < 0) {
        log_error("\"%s/hostid\": \"%.64s\" is not a UUID", dir, hostid);
        return -EINVAL;
    }
    if (!hostid) {
        /* only a UUID-form NQN tells us the hostid */
        if (strncmp(nqn, SLIO_NQN_UUID_PREFIX, strlen(SLIO_NQN_UUID_PREFIX)) != 0)
            return -ENOENT;
        if (slio_uuid_parse(nqn + strlen(SLIO_NQN_UUID_PREFIX), id) < 0)
            return -EINVAL;
    }
    if (!nqn)
        slio_nqn_from_uuid(id, derived);
    snprintf(ret_nqn, SLIO_NQN_BUF, "%s", nqn ? nqn : derived);
    uuid_copy(ret_hostid, id);
    return 0;
}

void slio_host_identity_generate(char ret_nqn[static SLIO_NQN_BUF], uuid_t ret_hostid)
{
    slio_uuid_generate(ret_hostid);
    slio_nqn_from_uuid(ret_hostid, ret_nqn);
}

bool slio_dhchap_secret_valid(const char *s)
{
    struct slio_dhchap_key key;
    struct slio_err err = {0};
    size_t n = s ? strnlen(s, SLIO_DHCHAP_SECRET_MAX + 1) : 0;

    /* the parser tolerates a trailing newline (key files); a secret given as a value does not */
    if (n == 0 || n > SLIO_DHCHAP_SECRET_MAX || s[n - 1] != ':')
        return false;
    if (slio_dhchap_key_parse(s, &key, &err) < 0)
        return false;
    OPENSSL_cleanse(&key, sizeof(key));
    return true;
}
