/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bearer tokens, one per scope, read from files at start. A presented token
 * is hashed (SHA-256) and compared with every scope's hash in constant time,
 * so neither the comparison nor the scope order leaks how much matched.
 */
#ifndef SLIO_CONTROLLER_AUTH_H
#define SLIO_CONTROLLER_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "slio/error.h"

enum auth_scope { AUTH_ADMIN, AUTH_CSI, AUTH_AGENT, AUTH_READONLY, AUTH__SCOPES };

/* What a route needs. */
enum auth_need {
    NEED_PUBLIC, /* no token (health, metrics) */
    NEED_READ,   /* any valid token */
    NEED_CLIENT, /* admin or csi: volumes, snapshots, attachments */
    NEED_AGENT,  /* admin or agent: /v1/agent/... */
    NEED_ADMIN,  /* admin: cordon, uncordon, drain */
};

#define AUTH_TOKEN_MIN 16 /* bytes: shorter tokens are refused at start */
#define AUTH_TOKEN_MAX 4096

struct auth {
    bool set[AUTH__SCOPES];
    unsigned char digest[AUTH__SCOPES][32];
};

/* Read the token files (NULL path = scope unused); trailing whitespace is dropped.
 * -EINVAL (empty or too short a token, two scopes with the same token), -errno of open. */
int auth_load(struct auth *a, const char *const paths[AUTH__SCOPES], struct slio_err *err);
/* For tests: set a scope's token directly. */
int auth_set_token(struct auth *a, enum auth_scope scope, const char *token, struct slio_err *err);

/* 0 when allowed; -EACCES (no or unknown token: 401), -EPERM (known, wrong scope: 403). */
int auth_check(const struct auth *a, const char *bearer, enum auth_need need, struct slio_err *err);

/* Who presented the token, for the audit log: a scope, or one of these. */
#define AUTH_WHO_NONE    (-1) /* no token */
#define AUTH_WHO_UNKNOWN (-2) /* a token that is none of ours */
/* auth_check, and who: *ret_who is the token's scope or AUTH_WHO_* (whatever the result). */
int auth_check_who(const struct auth *a, const char *bearer, enum auth_need need, int *ret_who,
                   struct slio_err *err);
/* "admin", "csi", "agent", "readonly", "none" (no token), "unknown" (a token of no scope). */
const char *auth_who_name(int who);

#endif
