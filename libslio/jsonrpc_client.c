/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON-RPC 2.0 client over a unix socket. SPDK's server writes the response
 * and keeps the connection open without a newline, so we re-parse the
 * buffer after each read that ends in '}' (every response is an object)
 * until one complete value parses; jansson's JSON_DISABLE_EOF_CHECK lets
 * trailing bytes pass and its error code tells "incomplete" from "garbage".
 */
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "slio/json.h"
#include "slio/jsonrpc.h"
#include "slio/strbuf.h"

#define CHUNK 65536

static atomic_int_fast64_t next_id = 1;

static char *dup_printf(const char *fmt, ...) _printf_(1, 2);
static char *dup_printf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static int bad(char **ret_message, const char *why)
{
    if (ret_message)
        *ret_message = strdup(why);
    return -EBADMSG;
}

static int check_error_object(const json_t *e, int64_t *ret_code, char **ret_message)
{
    const json_t *code = json_object_get(e, "code");
    const json_t *msg = json_object_get(e, "message");

    if (!json_is_object(e) || !json_is_integer(code) || !json_is_string(msg))
        return bad(ret_message, "\"error\" is not an object with integer \"code\" and string "
                                "\"message\"");
    if (ret_code)
        *ret_code = json_integer_value(code);
    if (ret_message)
        *ret_message = dup_printf("%s (code %" JSON_INTEGER_FORMAT ")", json_string_value(msg),
                                  json_integer_value(code));
    return -EREMOTEIO;
}

int slio_jsonrpc_parse_response(const char *buf, size_t len, json_int_t id, json_t **ret_result,
                                int64_t *ret_code, char **ret_message)
{
    _cleanup_json_ json_t *resp = NULL;
    json_error_t e;

    resp = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &e);
    if (!resp) {
        /* jansson stops at a NUL byte as if the input ended there: waiting won't help */
        if (json_error_code(&e) == json_error_premature_end_of_input && !memchr(buf, '\0', len))
            return -EAGAIN;
        if (json_error_code(&e) == json_error_out_of_memory)
            return -ENOMEM;
        if (ret_message)
            *ret_message =
                dup_printf("response is not JSON: line %d column %d: %s", e.line, e.column, e.text);
        return -EBADMSG;
    }
    if (!json_is_object(resp))
        return bad(ret_message, "response is not a JSON object");

    const json_t *ver = json_object_get(resp, "jsonrpc");
    const json_t *rid = json_object_get(resp, "id");
    json_t *result = json_object_get(resp, "result");
    const json_t *error = json_object_get(resp, "error");

    if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0)
        return bad(ret_message, "response lacks \"jsonrpc\": \"2.0\"");
    if (!!result == !!error)
        return bad(ret_message, "response must have exactly one of \"result\" and \"error\"");
    /* a server that could not parse our request answers with "id": null */
    if (!(json_is_integer(rid) && json_integer_value(rid) == id) && !(error && json_is_null(rid)))
        return bad(ret_message, "response \"id\" does not match the request");
    if (error)
        return check_error_object(error, ret_code, ret_message);
    if (ret_result)
        *ret_result = json_incref(result);
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` on fd until the deadline (0: none); -ETIMEDOUT when it passes. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int wait = deadline ? (int)SLIO_MAX(deadline - now_ms(), 0) : -1;
        int r = poll(&p, 1, wait);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return slio_neg_errno();
        if (r == 0)
            return -ETIMEDOUT;
        return 0;
    }
}

static int connect_unix(const char *path, int64_t deadline, int *ret_fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    _cleanup_close_ int fd = -1;
    int r, soerr = 0;
    socklen_t sl = sizeof(soerr);

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return slio_neg_errno();
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (errno != EAGAIN && errno != EINPROGRESS)
            return slio_neg_errno();
        r = wait_fd(fd, POLLOUT, deadline); /* listen backlog full: wait for room */
        if (r < 0)
            return r;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            return slio_neg_errno();
        if (soerr)
            return -soerr;
    }
    *ret_fd = TAKE_FD(fd);
    return 0;
}

static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            int r = wait_fd(fd, POLLOUT, deadline);
            if (r < 0)
                return r;
            continue;
        }
        if (n < 0)
            return slio_neg_errno();
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* True while only whitespace has arrived, or the first other byte is '{'. */
static bool starts_with_brace(const struct slio_strbuf *sb)
{
    const char *s = slio_strbuf_str(sb);

    for (size_t i = 0; i < sb->len; i++)
        if (!is_ws(s[i]))
            return s[i] == '{';
    return true;
}

static bool ends_with_brace(const struct slio_strbuf *sb)
{
    const char *s = slio_strbuf_str(sb);

    for (size_t i = sb->len; i > 0; i--) {
        if (!is_ws(s[i - 1]))
            return s[i - 1] == '}';
    }
    return false;
}

struct call {
    json_int_t id;
    int64_t deadline;
    size_t max;
    json_t **ret_result;
    int64_t *ret_code;
    char **ret_message; /* our own, always non-NULL */
};

static int receive(int fd, struct call *c)
{
    _cleanup_strbuf_ struct slio_strbuf sb = SLIO_STRBUF_INIT(c->max);
    _cleanup_free_ char *chunk = malloc(CHUNK);

    if (!chunk)
        return -ENOMEM;
    for (;;) {
        ssize_t n = recv(fd, chunk, CHUNK, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            int r = wait_fd(fd, POLLIN, c->deadline);
            if (r < 0)
                return r;
            continue;
        }
        if (n < 0)
            return slio_neg_errno();
        if (n == 0) {
            *c->ret_message =
                dup_printf("connection closed after %zu bytes of an incomplete response", sb.len);
            return -ECONNRESET;
        }
        int r = slio_strbuf_append(&sb, chunk, (size_t)n);
        if (r == -ENOBUFS) {
            *c->ret_message = dup_printf("response larger than %zu bytes", c->max);
            return -EMSGSIZE;
        }
        if (r < 0)
            return r;
        if (!starts_with_brace(&sb)) {
            *c->ret_message = strdup("response is not a JSON object");
            return -EBADMSG; /* no point waiting for the rest of garbage */
        }
        if (!ends_with_brace(&sb))
            continue;
        r = slio_jsonrpc_parse_response(slio_strbuf_str(&sb), sb.len, c->id, c->ret_result,
                                        c->ret_code, c->ret_message);
        if (r != -EAGAIN)
            return r;
    }
}

static int build_request(const char *method, json_t *params, json_int_t id, char **ret)
{
    _cleanup_json_ json_t *req =
        json_pack("{s:s, s:s, s:I}", "jsonrpc", "2.0", "method", method, "id", id);
    char *s;

    if (!req || (params && json_object_set(req, "params", params) < 0))
        return -ENOMEM;
    s = slio_json_dump(req, 0);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

int slio_jsonrpc_call_ex(const char *sock_path, const char *method, json_t *params,
                         const struct slio_jsonrpc_opts *opts, json_t **ret_result,
                         int64_t *ret_error_code, char **ret_error_message)
{
    struct slio_jsonrpc_opts o = opts ? *opts : (struct slio_jsonrpc_opts){0};
    _cleanup_free_ char *req = NULL, *msg = NULL;
    _cleanup_close_ int fd = -1;
    json_t *result = NULL;
    int64_t code = 0;
    struct call c = {
        .id = (json_int_t)atomic_fetch_add(&next_id, 1),
        .deadline = o.timeout_ms > 0 ? now_ms() + o.timeout_ms : 0,
        .max = o.max_response ? o.max_response : SLIO_JSONRPC_MAX_RESPONSE,
        .ret_result = &result,
        .ret_code = &code,
        .ret_message = &msg,
    };
    int r;

    if (!sock_path || !method)
        return -EINVAL;
    r = build_request(method, params, c.id, &req);
    if (r == 0)
        r = connect_unix(sock_path, c.deadline, &fd);
    if (r == 0)
        r = send_all(fd, req, strlen(req), c.deadline);
    if (r == 0)
        r = receive(fd, &c);
    if (r == 0) {
        if (ret_result)
            *ret_result = result;
        else
            json_decref(result);
        return 0;
    }
    if (r == -EREMOTEIO && ret_error_code)
        *ret_error_code = code;
    if (ret_error_message)
        *ret_error_message = dup_printf("JSON-RPC \"%s\" on \"%s\": %s", method, sock_path,
                                        msg ? msg : strerror(-r));
    return r;
}

int slio_jsonrpc_call(const char *sock_path, const char *method, json_t *params, int timeout_ms,
                      json_t **ret_result, char **ret_error_message)
{
    struct slio_jsonrpc_opts o = {.timeout_ms = timeout_ms};

    return slio_jsonrpc_call_ex(sock_path, method, params, &o, ret_result, NULL, ret_error_message);
}
