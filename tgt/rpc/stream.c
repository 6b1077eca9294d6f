/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Framing of JSON-RPC requests on a stream socket. There is no delimiter
 * (SPDK's clients send bare JSON values, possibly several per write and
 * possibly split across reads), so the end of a request is where its
 * outermost object or array closes. A small scanner tracks brackets and
 * string literals incrementally, so every byte is looked at once however
 * the client slices its writes; jansson then parses exactly that slice.
 */
#define SLIO_LOG_COMPONENT "rpc"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "rpc/rpc.h"
#include "slio/log.h"

void tgt_rpc_stream_init(struct tgt_rpc_stream *s)
{
    *s = (struct tgt_rpc_stream){0};
    slio_strbuf_init(&s->in, TGT_RPC_MAX_REQUEST);
}

void tgt_rpc_stream_free(struct tgt_rpc_stream *s)
{
    slio_strbuf_free(&s->in);
}

static int append_json(struct slio_strbuf *out, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    int r;

    if (!text)
        return v ? -ENOMEM : 0;
    r = slio_strbuf_appends(out, text);
    if (r == 0)
        r = slio_strbuf_appends(out, "\n");
    free(text);
    return r;
}

static int append_error(struct slio_strbuf *out, int code, const char *message)
{
    json_t *v = json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "error", "code", code,
                          "message", message);
    int r = append_json(out, v);

    json_decref(v);
    return r;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Advance the scanner over buf[s->scan..len). Returns the length of the first
 * complete value (from 0), 0 if it is not complete yet, or -EBADMSG if the
 * stream cannot start a request.
 */
static ssize_t scan(struct tgt_rpc_stream *s, const char *buf, size_t len)
{
    for (; s->scan < len; s->scan++) {
        char c = buf[s->scan];
        if (s->in_string) {
            if (s->escape)
                s->escape = false;
            else if (c == '\\')
                s->escape = true;
            else if (c == '"')
                s->in_string = false;
            continue;
        }
        if (s->depth == 0 && c != '{' && c != '[')
            return -EBADMSG; /* leading whitespace was dropped by the caller */
        if (c == '"') {
            s->in_string = true;
        } else if (c == '{' || c == '[') {
            s->depth++;
        } else if (c == '}' || c == ']') {
            if (--s->depth == 0)
                return (ssize_t)++s->scan;
        }
    }
    return 0;
}

static void scanner_reset(struct tgt_rpc_stream *s)
{
    s->scan = s->depth = 0;
    s->in_string = s->escape = false;
}

/* Drop n bytes from the front of the input buffer. */
static void consume(struct tgt_rpc_stream *s, size_t n)
{
    size_t left = s->in.len - n;
    memmove(s->in.buf, s->in.buf + n, left);
    s->in.len = left;
    s->in.buf[left] = '\0';
    scanner_reset(s);
}

static int handle_one(const char *text, size_t len, struct slio_strbuf *out)
{
    json_error_t e;
    json_t *req = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);

    if (!req) {
        log_info("parse error: line %d column %d: %s", e.line, e.column, e.text);
        int r = append_error(out, TGT_RPC_PARSE_ERROR, "Parse error");
        return r < 0 ? r : -EBADMSG;
    }
    json_t *resp = tgt_rpc_handle(req);
    int r = append_json(out, resp);
    json_decref(resp);
    json_decref(req);
    return r;
}

int tgt_rpc_stream_append(struct tgt_rpc_stream *s, const void *data, size_t len,
                          struct slio_strbuf *out)
{
    if (slio_strbuf_append(&s->in, data, len) < 0) {
        log_info("request larger than %u bytes", TGT_RPC_MAX_REQUEST);
        int r = append_error(out, TGT_RPC_INVALID_REQUEST, "Request too large");
        return r < 0 ? r : -EMSGSIZE;
    }
    return 0;
}

int tgt_rpc_stream_run(struct tgt_rpc_stream *s, struct slio_strbuf *out, size_t out_limit,
                       unsigned max_requests)
{
    int r;

    for (unsigned done = 0;; done++) {
        size_t skip = 0;
        if (s->depth == 0 && !s->in_string) {
            while (skip < s->in.len && is_ws(s->in.buf[skip]))
                skip++;
            if (skip)
                consume(s, skip);
        }
        if (s->in.len == 0)
            return 0;
        if (done >= max_requests || out->len >= out_limit)
            return 1; /* maybe more complete requests: the caller comes back */
        ssize_t n = scan(s, s->in.buf, s->in.len);
        if (n == 0)
            return 0;
        if (n < 0) {
            r = append_error(out, TGT_RPC_PARSE_ERROR, "Parse error");
            return r < 0 ? r : -EBADMSG;
        }
        r = handle_one(s->in.buf, (size_t)n, out);
        if (r < 0)
            return r;
        consume(s, (size_t)n);
    }
}

int tgt_rpc_stream_feed(struct tgt_rpc_stream *s, const void *data, size_t len,
                        struct slio_strbuf *out)
{
    int r = tgt_rpc_stream_append(s, data, len, out);

    if (r < 0)
        return r;
    r = tgt_rpc_stream_run(s, out, SIZE_MAX, UINT_MAX);
    return r < 0 ? r : 0;
}
