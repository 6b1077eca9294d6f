/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log: one JSON line per mutating call (every method but GET),
 * refused ones included, after the answer was decided:
 *
 *   {"time":"2026-12-06T00:10:02.123Z","peer":"10.0.0.7","who":"csi",
 *    "method":"POST","path":"/v1/volumes","name":"pvc-1",
 *    "id":"6f1c...","status":201}
 *
 * who is the scope of the token presented ("none" without one, "unknown"
 * for a token of no scope); name is the body's "name" and id the answer's
 * "id" (the object a create made), when there are such strings. Nothing else
 * of a body is written and the token never is (only its scope), so no secret
 * a request carries reaches the file. The path comes without its query.
 * Requests refused 429 before routing are counted in /metrics, not audited
 * (a flood would flood the file).
 *
 * To a file (audit.file: opened O_APPEND, mode 0600, one write() per line so
 * lines from concurrent requests never interleave; rotate with copytruncate)
 * or, without one, to the log at info level under the component "audit".
 */
#define SLIO_LOG_COMPONENT "audit"
#include <fcntl.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "slio/json.h"
#include "slio/log.h"

#define AUDIT_FIELD_MAX 253 /* a name or id longer than any valid one is cut */

int api_audit_open(struct ctl *c, struct slio_err *err)
{
    int fd, high;

    if (!c->cfg.audit_file)
        return 0;
    fd = open(c->cfg.audit_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        int r = slio_neg_errno();
        slio_err_set(err, "audit file \"%s\": %s", c->cfg.audit_file, strerror(-r));
        return r;
    }
    /* at or above 3, so that 0 in c->audit_fd can mean "no file" */
    high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    if (high < 0) {
        int r = slio_neg_errno();
        slio_err_set(err, "audit file \"%s\": %s", c->cfg.audit_file, strerror(-r));
        return r;
    }
    c->audit_fd = high;
    return 0;
}

static void now_utc(char *buf, size_t size)
{
    struct timeval tv;
    struct tm tm;
    char base[32];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03uZ", base, (unsigned)(tv.tv_usec / 1000) % 1000u);
}

/* A string member of obj (cut to AUDIT_FIELD_MAX bytes), or NULL. */
static json_t *short_string(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));

    return v ? json_stringn(v, strnlen(v, AUDIT_FIELD_MAX)) : NULL;
}

static void audit_write(struct ctl *c, const char *line)
{
    static struct slio_ratelimit rl = SLIO_RATELIMIT_INIT(10000000, 1);
    static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;
    size_t len = strlen(line);
    char *buf;

    if (c->audit_fd <= 0) {
        log_info("%s", line);
        return;
    }
    buf = malloc(len + 1);
    if (buf) {
        memcpy(buf, line, len);
        buf[len] = '\n';
        if (write(c->audit_fd, buf, len + 1) == (ssize_t)(len + 1)) {
            free(buf);
            return;
        }
        free(buf);
    }
    pthread_mutex_lock(&rl_lock);
    log_ratelimited(&rl, SLIO_LOG_ERR, "audit file \"%s\": cannot write (%s); line: %s",
                    c->cfg.audit_file, buf ? strerror(errno) : "out of memory", line);
    pthread_mutex_unlock(&rl_lock);
}

void api_audit(const struct api_call *call, int who, unsigned status)
{
    const struct slio_http_request *req = call->req;
    _cleanup_json_ json_t *j = NULL;
    _cleanup_free_ char *line = NULL;
    char when[48];

    if (strcmp(slio_http_method(req), "GET") == 0 || strcmp(slio_http_method(req), "HEAD") == 0)
        return;
    now_utc(when, sizeof(when));
    j = json_pack("{s:s, s:s, s:s, s:s, s:s%, s:o*, s:o*, s:i}", "time", when, "peer",
                  slio_http_peer(req), "who", auth_who_name(who), "method", slio_http_method(req),
                  "path", slio_http_path(req), strnlen(slio_http_path(req), 1024), "name",
                  short_string(call->body, "name"), "id", short_string(call->out, "id"), "status",
                  (int)status);
    line = j ? slio_json_dump(j, JSON_COMPACT) : NULL;
    if (!line) {
        log_error("audit: out of memory for %s %s status %u", slio_http_method(req),
                  slio_http_path(req), status);
        return;
    }
    audit_write(call->ctl, line);
}
