/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control daemons' HTTP server on libmicrohttpd.
 *
 * Threading: MHD_USE_THREAD_PER_CONNECTION. Handlers block (a store
 * transaction, an agent's long-poll for its desired state held for up to
 * its timeout), and in MHD's thread-pool mode a blocked handler stalls
 * every other connection its polling thread serves — four long-polls would
 * starve /v1/health. With a thread per connection a slow request only ever
 * holds its own connection; the number of threads is bounded by
 * max_connections (and per source address by max_connections_per_ip), which
 * is the bound that matters for memory. opts.threads is therefore unused.
 *
 * Bounds, all enforced before a handler runs: MHD refuses connections
 * beyond the total and per-address limits (closed at accept), closes idle
 * ones after idle_timeout_s, answers 414/431 itself when the request line
 * or headers outgrow the per-connection memory pool; the body is
 * accumulated here into a capped buffer: a Content-Length above max_body is
 * answered 413 before any body byte is read, a chunked body that grows past
 * it closes the connection (MHD cannot queue a response mid-upload).
 *
 * Before routing, a per-peer token bucket (http_server_rate.c) answers 429
 * with Retry-After to a client over its rate. TLS is GnuTLS through MHD with
 * a certificate callback (http_server_tls.c) so that a certificate replaced
 * on disk is served to new connections without a restart.
 *
 * We bind the listening socket ourselves so that bind's errno (EADDRINUSE,
 * EACCES) reaches the caller and the ephemeral port can be read back.
 */
#define SLIO_LOG_COMPONENT "http"

#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "http_server_int.h"
#include "slio/fileio.h"
#include "slio/log.h"
#include "slio/parse.h"

#define DEFAULT_MAX_BODY         (1u << 20)
#define DEFAULT_MAX_CONNS        1024
#define DEFAULT_MAX_CONNS_PER_IP 256
#define DEFAULT_IDLE_TIMEOUT_S   30
/* Request line + headers live in MHD's per-connection pool: this bounds the URL too. */
#define CONNECTION_MEMORY (64u << 10)

struct slio_http_server {
    struct MHD_Daemon *daemon;
    uint16_t port;
    size_t max_body;
    const struct slio_http_route *routes;
    size_t n_routes;
    void *ctx;
    struct http_tls *tls;     /* NULL: plain HTTP */
    struct http_rate *rate;   /* NULL: no rate limit */
    pthread_mutex_t log_lock; /* MHD logs from any connection thread */
    struct slio_ratelimit log_rl;
};

/* --- route matching ------------------------------------------------------------------- */

/*
 * Match a decoded path against "/a/{x}/b": literal segments compare exactly,
 * "{name}" takes one non-empty segment. On a match the parameters are stored
 * in req (values copied); -ENOENT when the path does not fit, -ENOMEM.
 */
static int match_pattern(const char *pattern, const char *path, struct slio_http_request *req)
{
    size_t n = 0;
    int r = -ENOENT;

    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *close = strchr(pattern, '}');
            size_t len = strcspn(path, "/");
            if (!close || len == 0 || n == HTTP_MAX_PARAMS)
                goto out_fail;
            req->params[n].name = pattern + 1;
            req->params[n].name_len = (size_t)(close - pattern - 1);
            req->params[n].value = strndup(path, len);
            if (!req->params[n++].value) {
                r = -ENOMEM;
                goto out_fail;
            }
            pattern = close + 1;
            path += len;
        } else if (*pattern++ != *path++) {
            goto out_fail;
        }
    }
    if (*pattern || *path)
        goto out_fail;
    req->n_params = n;
    return 0;

out_fail:
    while (n > 0)
        free(req->params[--n].value);
    return r;
}

/* 0 with req->route set, -ENOENT (no pattern fits: 404), -EPERM (405, allowed methods in
 * allow), -ENOMEM. */
static int find_route(const struct slio_http_server *s, struct slio_http_request *req,
                      struct slio_strbuf *allow)
{
    bool path_known = false;

    for (size_t i = 0; i < s->n_routes; i++) {
        const struct slio_http_route *rt = &s->routes[i];
        int r = match_pattern(rt->pattern, req->path, req);
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            continue;
        if (strcmp(rt->method, req->method) == 0) {
            req->route = rt;
            return 0;
        }
        while (req->n_params > 0)
            free(req->params[--req->n_params].value);
        if ((path_known && slio_strbuf_appends(allow, ", ") < 0) ||
            slio_strbuf_appends(allow, rt->method) < 0)
            return -ENOMEM;
        path_known = true;
    }
    return path_known ? -EPERM : -ENOENT;
}

/* --- request life cycle ------------------------------------------------------------------ */

static enum MHD_Result queue(struct slio_http_request *req, struct slio_http_response *resp)
{
    struct MHD_Response *r;
    enum MHD_Result ok;
    struct timespec now;

    if (resp->status == 0)
        slio_http_respond_error(resp, 500, "internal", "%s %s: the handler gave no response",
                                req->method, req->path);
    else if (resp->status < 200 || resp->status > 599)
        slio_http_respond_error(resp, 500, "internal", "%s %s: the handler answered status %u",
                                req->method, req->path, resp->status);
    r = http_response_build(resp);
    if (!r) {
        http_response_clear(resp);
        return MHD_NO; /* out of memory: MHD closes the connection */
    }
    ok = MHD_queue_response(req->conn, resp->status, r);
    clock_gettime(CLOCK_MONOTONIC, &now);
    log_debug("%s \"%s\" %u %lldus peer=%s", req->method, req->path, resp->status,
              (long long)(now.tv_sec - req->started.tv_sec) * 1000000 +
                  (now.tv_nsec - req->started.tv_nsec) / 1000,
              req->peer);
    MHD_destroy_response(r);
    http_response_clear(resp);
    return ok;
}

static void describe_peer(struct MHD_Connection *conn, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    socklen_t len =
        sa && sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

    if (!sa || getnameinfo(sa, len, buf, size, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(buf, size, "?");
}

static enum MHD_Result route(struct slio_http_server *s, struct slio_http_request *req);

/* 429 with Retry-After, before routing: probing unknown paths and guessing tokens are
 * slowed down as much as any other request. */
static enum MHD_Result refuse_over_rate(struct slio_http_request *req, unsigned wait)
{
    struct slio_http_response resp = {0};
    char secs[16];

    snprintf(secs, sizeof(secs), "%u", wait);
    slio_http_respond_error(&resp, 429, "rate_limited", "too many requests from %s: retry in %u s",
                            req->peer, wait);
    if (slio_http_response_header(&resp, "Retry-After", secs) < 0) {
        http_response_clear(&resp);
        return MHD_NO;
    }
    return queue(req, &resp);
}

/* The first call of a request: the rate limit, routing, and the Content-Length check. */
static enum MHD_Result begin_request(struct slio_http_server *s, struct MHD_Connection *conn,
                                     const char *url, const char *method, void **req_cls)
{
    struct slio_http_request *req = calloc(1, sizeof(*req));
    unsigned wait;

    if (!req)
        return MHD_NO;
    *req_cls = req; /* freed by request_completed, whatever happens next */
    req->conn = conn;
    req->method = method;
    req->path = url;
    clock_gettime(CLOCK_MONOTONIC, &req->started);
    slio_strbuf_init(&req->body, s->max_body);
    describe_peer(conn, req->peer, sizeof(req->peer));

    wait = s->rate ? http_rate_take(s->rate, req->peer) : 0;
    if (wait > 0)
        return refuse_over_rate(req, wait);
    return route(s, req);
}

/* Routing and the Content-Length check; MHD_YES to go on reading the body. */
static enum MHD_Result route(struct slio_http_server *s, struct slio_http_request *req)
{
    struct slio_http_response resp = {0};
    _cleanup_strbuf_ struct slio_strbuf allow = SLIO_STRBUF_INIT(256);
    const char *url = req->path, *method = req->method, *clen;
    uint64_t body_len;
    int r;

    r = find_route(s, req, &allow);
    if (r == -ENOMEM)
        return MHD_NO;
    if (r == -ENOENT) {
        slio_http_respond_error(&resp, 404, "not_found", "no such path: %s", url);
        return queue(req, &resp);
    }
    if (r == -EPERM) {
        slio_http_respond_error(&resp, 405, "invalid_argument", "%s is not allowed on %s", method,
                                url);
        if (slio_http_response_header(&resp, "Allow", slio_strbuf_str(&allow)) < 0) {
            http_response_clear(&resp);
            return MHD_NO;
        }
        return queue(req, &resp);
    }
    clen = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (clen && slio_parse_u64(clen, 0, UINT64_MAX, &body_len) == 0 && body_len > s->max_body) {
        slio_http_respond_error(&resp, 413, "too_large",
                                "request body of %llu bytes is over the limit of %zu",
                                (unsigned long long)body_len, s->max_body);
        return queue(req, &resp);
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct slio_http_server *s = cls;
    struct slio_http_request *req = *req_cls;
    struct slio_http_response resp = {0};

    (void)version;
    if (!req)
        return begin_request(s, conn, url, method, req_cls);
    if (!req->route) {
        *upload_data_size = 0; /* answered at the first call (404, 405, 429): drop the body */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (slio_strbuf_append(&req->body, upload_data, *upload_data_size) < 0) {
            log_debug("%s \"%s\": body over %zu bytes, closing peer=%s", method, url, s->max_body,
                      req->peer);
            return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    req->route->handler(req, &resp, s->ctx);
    return queue(req, &resp);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                              enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)conn;
    (void)why;
    http_request_free(*req_cls);
    *req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) _printf_(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct slio_http_server *s = cls;
    char msg[512];
    bool ok;
    size_t len;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    len = strlen(msg);
    while (len > 0 && msg[len - 1] == '\n')
        msg[--len] = '\0';
    pthread_mutex_lock(&s->log_lock);
    ok = slio_ratelimit_ok(&s->log_rl);
    pthread_mutex_unlock(&s->log_lock);
    if (ok)
        log_info("libmicrohttpd: %s", msg);
}

/* --- start and stop ---------------------------------------------------------------------- */

static int bind_listener(const char *address, uint16_t port, int *ret_fd, uint16_t *ret_port,
                         struct slio_err *err)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    _cleanup_close_ int fd = -1;
    char portstr[8];
    int one = 1, r;

    snprintf(portstr, sizeof(portstr), "%u", port);
    r = getaddrinfo(address, portstr, &hints, &ai);
    if (r != 0) {
        slio_err_set(err, "listen address \"%s\": %s", address, gai_strerror(r));
        return -EINVAL;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&bound, &blen) < 0) {
        r = slio_neg_errno();
        freeaddrinfo(ai);
        slio_err_set(err, "listen on %s port %u: %s", address, port, strerror(-r));
        return r;
    }
    freeaddrinfo(ai);
    *ret_port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    *ret_fd = TAKE_FD(fd);
    return 0;
}

static int check_routes(const struct slio_http_server_opts *o, struct slio_err *err)
{
    if (o->n_routes > 0 && !o->routes) {
        slio_err_set(err, "routes: NULL table of %zu", o->n_routes);
        return -EINVAL;
    }
    for (size_t i = 0; i < o->n_routes; i++) {
        const struct slio_http_route *rt = &o->routes[i];
        size_t braces = 0;
        if (!rt->method || !rt->pattern || rt->pattern[0] != '/' || !rt->handler) {
            slio_err_set(err,
                         "route %zu: needs a method, a pattern starting with '/' and a "
                         "handler",
                         i);
            return -EINVAL;
        }
        for (const char *p = rt->pattern; (p = strchr(p, '{')); p++)
            braces++;
        if (braces > HTTP_MAX_PARAMS) {
            slio_err_set(err, "route \"%s\": more than %d parameters", rt->pattern,
                         HTTP_MAX_PARAMS);
            return -EINVAL;
        }
    }
    return 0;
}

static int load_tls(struct slio_http_server *s, const struct slio_http_server_opts *o,
                    struct slio_err *err)
{
    if (!o->tls_cert_file && !o->tls_key_file)
        return 0;
    if (!o->tls_cert_file || !o->tls_key_file) {
        slio_err_set(err, "TLS needs both a certificate and a key file");
        return -EINVAL;
    }
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
        MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK) != MHD_YES) {
        slio_err_set(err, "this libmicrohttpd was built without TLS or its certificate callback");
        return -EOPNOTSUPP;
    }
    return http_tls_new(o->tls_cert_file, o->tls_key_file, &s->tls, err);
}

/* Before the connection's thread starts (so before its TLS handshake): the socket context
 * is how http_tls_retrieve finds the certificates (GnuTLS's callback has no argument). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct slio_http_server *s = cls;

    (void)conn;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        *socket_context = s->tls;
}

static void server_free(struct slio_http_server *s)
{
    http_tls_free(s->tls);
    http_rate_free(s->rate);
    pthread_mutex_destroy(&s->log_lock);
    free(s);
}

static struct MHD_Daemon *start_daemon(struct slio_http_server *s,
                                       const struct slio_http_server_opts *o, int fd)
{
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | MHD_USE_POLL;
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)http_tls_retrieve},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s},
        {MHD_OPTION_END, 0, NULL},
    };

    if (s->tls)
        flags |= MHD_USE_TLS;
    else
        tls[0].option = MHD_OPTION_END;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
        o->max_connections ? o->max_connections : DEFAULT_MAX_CONNS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        o->max_connections_per_ip ? o->max_connections_per_ip : DEFAULT_MAX_CONNS_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT,
        o->idle_timeout_s ? o->idle_timeout_s : DEFAULT_IDLE_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
        request_completed, s, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
}

int slio_http_server_start(const struct slio_http_server_opts *opts, struct slio_http_server **ret,
                           struct slio_err *err)
{
    const char *address = opts->address ? opts->address : "127.0.0.1";
    struct slio_http_server *s;
    bool enomem;
    int fd = -1, r;

    r = check_routes(opts, err);
    if (r < 0)
        return r;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->log_lock, NULL);
    s->log_rl = (struct slio_ratelimit)SLIO_RATELIMIT_INIT(1000000, 10);
    s->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
    s->routes = opts->routes;
    s->n_routes = opts->n_routes;
    s->ctx = opts->ctx;
    r = load_tls(s, opts, err);
    if (r < 0)
        goto out_free;
    s->rate = http_rate_new(opts->rate_per_s, opts->rate_burst, &enomem);
    if (enomem) {
        r = -ENOMEM;
        goto out_free;
    }
    r = bind_listener(address, opts->port, &fd, &s->port, err);
    if (r < 0)
        goto out_free;
    s->daemon = start_daemon(s, opts, fd);
    if (!s->daemon) {
        close(fd);
        slio_err_set(err,
                     "libmicrohttpd could not start on %s port %u (bad TLS key or "
                     "certificate?)",
                     address, s->port);
        r = -EINVAL;
        goto out_free;
    }
    *ret = s;
    return 0;

out_free:
    server_free(s);
    return r;
}

uint16_t slio_http_server_port(const struct slio_http_server *s)
{
    return s->port;
}

void slio_http_server_stats(const struct slio_http_server *s, struct slio_http_server_stats *ret)
{
    *ret = (struct slio_http_server_stats){0};
    if (s->rate)
        ret->rate_limited = http_rate_limited(s->rate);
    if (s->tls)
        http_tls_counts(s->tls, &ret->tls_reloads, &ret->tls_reload_failures);
}

void slio_http_server_stop(struct slio_http_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon); /* closes the listener, joins the connection threads */
    server_free(s);
}
