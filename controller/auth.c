/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scoped bearer tokens: each scope's token is kept as its SHA-256 only, and a presented
 * token is hashed and compared with every scope's digest with CRYPTO_memcmp.
 */
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

#include "auth.h"
#include "slio/fileio.h"

static const char *const scope_names[AUTH__SCOPES] = {"admin", "csi", "agent", "readonly"};

int auth_set_token(struct auth *a, enum auth_scope scope, const char *token, struct slio_err *err)
{
    size_t n = strlen(token);
    if (n < AUTH_TOKEN_MIN || n > AUTH_TOKEN_MAX) {
        slio_err_set(err, "token of scope %s: %zu bytes (%d..%d)", scope_names[scope], n,
                     AUTH_TOKEN_MIN, AUTH_TOKEN_MAX);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)token[i])) {
            slio_err_set(err, "token of scope %s: byte %zu is not printable", scope_names[scope],
                         i);
            return -EINVAL;
        }
    unsigned char d[32];
    SHA256((const unsigned char *)token, n, d);
    for (int s = 0; s < AUTH__SCOPES; s++)
        if (s != (int)scope && a->set[s] && CRYPTO_memcmp(a->digest[s], d, sizeof(d)) == 0) {
            slio_err_set(err, "scopes %s and %s share one token", scope_names[s],
                         scope_names[scope]);
            return -EINVAL;
        }
    memcpy(a->digest[scope], d, sizeof(d));
    a->set[scope] = true;
    return 0;
}

int auth_load(struct auth *a, const char *const paths[AUTH__SCOPES], struct slio_err *err)
{
    *a = (struct auth){0};
    for (int s = 0; s < AUTH__SCOPES; s++) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        if (!paths[s])
            continue;
        int r = slio_read_file(paths[s], AUTH_TOKEN_MAX + 64, &buf, &len);
        if (r < 0) {
            slio_err_set(err, "token file \"%s\" (%s): %s", paths[s], scope_names[s], strerror(-r));
            return r;
        }
        while (len > 0 && isspace((unsigned char)buf[len - 1]))
            buf[--len] = '\0';
        if (strlen(buf) != len) {
            slio_err_set(err, "token file \"%s\": NUL byte", paths[s]);
            return -EINVAL;
        }
        r = auth_set_token(a, (enum auth_scope)s, buf, err);
        explicit_bzero(buf, len);
        if (r < 0) {
            slio_err_prefix(err, "token file \"%s\"", paths[s]);
            return r;
        }
    }
    return 0;
}

static bool scope_allows(enum auth_scope s, enum auth_need need)
{
    switch (need) {
    case NEED_PUBLIC:
    case NEED_READ:
        return true;
    case NEED_CLIENT:
        return s == AUTH_ADMIN || s == AUTH_CSI;
    case NEED_AGENT:
        return s == AUTH_ADMIN || s == AUTH_AGENT;
    case NEED_ADMIN:
        return s == AUTH_ADMIN;
    }
    return false;
}

/* The scope whose token this is, or AUTH_WHO_*. Constant work: every scope's digest is
 * compared, whatever matched before, so the time does not say which scope (if any) it is. */
static int identify(const struct auth *a, const char *bearer)
{
    unsigned char d[32];
    int found = AUTH_WHO_UNKNOWN;

    if (!bearer || !*bearer)
        return AUTH_WHO_NONE;
    SHA256((const unsigned char *)bearer, strnlen(bearer, AUTH_TOKEN_MAX + 1), d);
    for (int s = 0; s < AUTH__SCOPES; s++) {
        int eq = CRYPTO_memcmp(a->digest[s], d, sizeof(d)) == 0 && a->set[s];
        found = eq ? s : found;
    }
    return found;
}

const char *auth_who_name(int who)
{
    if (who >= 0 && who < AUTH__SCOPES)
        return scope_names[who];
    return who == AUTH_WHO_NONE ? "none" : "unknown";
}

int auth_check_who(const struct auth *a, const char *bearer, enum auth_need need, int *ret_who,
                   struct slio_err *err)
{
    int who = identify(a, bearer);

    *ret_who = who;
    if (need == NEED_PUBLIC)
        return 0;
    if (who == AUTH_WHO_NONE) {
        slio_err_set(err, "missing bearer token");
        return -EACCES;
    }
    if (who == AUTH_WHO_UNKNOWN) {
        slio_err_set(err, "unknown token");
        return -EACCES;
    }
    if (!scope_allows((enum auth_scope)who, need)) {
        slio_err_set(err, "a token of scope %s may not do this", scope_names[who]);
        return -EPERM;
    }
    return 0;
}

int auth_check(const struct auth *a, const char *bearer, enum auth_need need, struct slio_err *err)
{
    int who;

    return auth_check_who(a, bearer, need, &who, err);
}
