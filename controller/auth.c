/* SPDX-License-Identifier: Apache-2.0 */
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

int auth_check(const struct auth *a, const char *bearer, enum auth_need need, struct slio_err *err)
{
    if (need == NEED_PUBLIC)
        return 0;
    if (!bearer || !*bearer) {
        slio_err_set(err, "missing bearer token");
        return -EACCES;
    }
    size_t n = strnlen(bearer, AUTH_TOKEN_MAX + 1);
    unsigned char d[32];
    SHA256((const unsigned char *)bearer, n, d);
    int found = -1;
    for (int s = 0; s < AUTH__SCOPES; s++) {
        /* Every scope is compared, whatever matched before: constant work. */
        int eq = CRYPTO_memcmp(a->digest[s], d, sizeof(d)) == 0 && a->set[s];
        found = eq ? s : found;
    }
    if (found < 0) {
        slio_err_set(err, "unknown token");
        return -EACCES;
    }
    if (!scope_allows((enum auth_scope)found, need)) {
        slio_err_set(err, "a token of scope %s may not do this", scope_names[found]);
        return -EPERM;
    }
    return 0;
}
