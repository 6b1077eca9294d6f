/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include <time.h>

#define SLIO_LOG_COMPONENT "csi"
#include "rest.h"
#include "slio/http_client.h"
#include "slio/log.h"
#include "slio/parse.h"
#include "slio/uuid.h"

int csi_rest_call(struct csi_ctx *ctx, struct csi_reply *reply, const char *method,
                  const char *path, const json_t *body, unsigned *ret_status, json_t **ret_body)
{
    struct slio_err err = {0};
    if (!ctx->rest) {
        csi_reply_fail(reply, GRPC_STATUS_FAILED_PRECONDITION,
                       "no controller URL configured (--controller)");
        return -ENOTCONN;
    }
    int r = slio_http_call(ctx->rest, method, path, body, ret_status, ret_body, &err);
    if (r < 0) {
        csi_reply_fail(reply, GRPC_STATUS_UNAVAILABLE, "slio-controller: %s %s: %s", method, path,
                       err.text[0] ? err.text : strerror(-r));
        return r;
    }
    return 0;
}

/* The edge table: REST error codes (api/openapi.yaml, Error.code) → gRPC. */
static const struct {
    const char *rest;
    grpc_status_code grpc;
} rest_codes[] = {
    {"invalid_argument", GRPC_STATUS_INVALID_ARGUMENT},
    {"unauthenticated", GRPC_STATUS_UNAUTHENTICATED},
    {"forbidden", GRPC_STATUS_PERMISSION_DENIED},
    {"not_found", GRPC_STATUS_NOT_FOUND},
    {"conflict", GRPC_STATUS_ALREADY_EXISTS},
    {"too_large", GRPC_STATUS_OUT_OF_RANGE},
    {"unschedulable", GRPC_STATUS_RESOURCE_EXHAUSTED},
    {"not_leader", GRPC_STATUS_UNAVAILABLE},
    {"unavailable", GRPC_STATUS_UNAVAILABLE},
    {"internal", GRPC_STATUS_INTERNAL},
};

grpc_status_code csi_rest_code(unsigned status, const json_t *body)
{
    const char *code = json_string_value(json_object_get(json_object_get(body, "error"), "code"));
    for (size_t i = 0; code && i < SLIO_ARRAY_SIZE(rest_codes); i++)
        if (strcmp(code, rest_codes[i].rest) == 0)
            return rest_codes[i].grpc;
    switch (status) {
    case 400:
        return GRPC_STATUS_INVALID_ARGUMENT;
    case 401:
        return GRPC_STATUS_UNAUTHENTICATED;
    case 403:
        return GRPC_STATUS_PERMISSION_DENIED;
    case 404:
        return GRPC_STATUS_NOT_FOUND;
    case 409:
        return GRPC_STATUS_ALREADY_EXISTS;
    case 413:
        return GRPC_STATUS_OUT_OF_RANGE;
    case 422:
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case 503:
        return GRPC_STATUS_UNAVAILABLE;
    default:
        return GRPC_STATUS_INTERNAL;
    }
}

grpc_status_code csi_rest_fail_code(struct csi_reply *reply, grpc_status_code code,
                                    const json_t *body, const char *what)
{
    const char *msg = json_string_value(json_object_get(json_object_get(body, "error"), "message"));
    return csi_reply_fail(reply, code, "%s: %s", what, msg ? msg : "controller gave no reason");
}

grpc_status_code csi_rest_fail(struct csi_reply *reply, unsigned status, const json_t *body,
                               const char *what)
{
    return csi_rest_fail_code(reply, csi_rest_code(status, body), body, what);
}

bool csi_is_uuid(const char *s)
{
    uuid_t u;
    return s && strlen(s) == 36 && slio_uuid_parse(s, u) == 0;
}

/* Fixed-width digits at s[0..n) → *ret; -EINVAL on anything else. */
static int digits(const char *s, size_t n, int *ret)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *ret = v;
    return 0;
}

int csi_parse_rfc3339(const char *s, int64_t *ret_sec, int32_t *ret_nsec)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac]Z */
    int y, mo, d, h, mi, sec;
    if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':' || digits(s, 4, &y) < 0 || digits(s + 5, 2, &mo) < 0 ||
        digits(s + 8, 2, &d) < 0 || digits(s + 11, 2, &h) < 0 || digits(s + 14, 2, &mi) < 0 ||
        digits(s + 17, 2, &sec) < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60)
        return -EINVAL;
    const char *p = s + 19;
    int32_t nsec = 0;
    if (*p == '.') {
        int scale = 100000000, n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 9) {
                nsec += (*p - '0') * scale;
                scale /= 10;
            }
        if (n == 0)
            return -EINVAL;
    }
    if ((p[0] != 'Z' && p[0] != 'z') || p[1] != '\0')
        return -EINVAL;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    *ret_sec = (int64_t)timegm(&tm);
    *ret_nsec = nsec;
    return 0;
}
