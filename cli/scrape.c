/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the agents' /metrics for `slioctl top`. Plain libcurl rather than
 * the JSON client: the body is Prometheus text, not JSON, and the URLs come
 * from the controller rather than from the operator (the JSON client only
 * follows configured URLs).
 */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "scrape.h"
#include "slio/cleanup.h"
#include "slio/strbuf.h"
#include "slio/uuid.h"

#define LINE_MAX_LEN 1024
#define BODY_MAX     (16u << 20)
#define PREFIX       "sliteio_volume_"

const char *const scrape_names[SCRAPE_N] = {
    "read_ops", "write_ops", "read_bytes", "write_bytes", "read_time_seconds", "write_time_seconds",
};

/* The family index of "sliteio_volume_<x>_total" (name of length n), or -1. */
static int family_of(const char *name, size_t n)
{
    size_t plen = strlen(PREFIX);
    if (n <= plen + 6 || memcmp(name, PREFIX, plen) != 0 || memcmp(name + n - 6, "_total", 6) != 0)
        return -1;
    for (int i = 0; i < SCRAPE_N; i++)
        if (strlen(scrape_names[i]) == n - plen - 6 &&
            memcmp(name + plen, scrape_names[i], n - plen - 6) == 0)
            return i;
    return -1;
}

/* Labels {a="x",b="y"} at *p; the volume label's value into vol. false when malformed. */
static bool parse_labels(const char **pp, const char *end, char vol[static SLIO_UUID_STR_LEN])
{
    const char *p = *pp;
    vol[0] = '\0';
    if (p >= end || *p != '{')
        return false;
    for (p++; p < end && *p != '}';) {
        const char *k = p;
        while (p < end && (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            p++;
        size_t klen = (size_t)(p - k);
        if (klen == 0 || end - p < 2 || p[0] != '=' || p[1] != '"')
            return false;
        p += 2;
        char val[64];
        size_t vlen = 0;
        for (; p < end && *p != '"'; p++) {
            if (*p == '\\' && ++p == end)
                return false;
            if (vlen + 1 < sizeof(val))
                val[vlen++] = *p;
        }
        if (p == end)
            return false;
        val[vlen] = '\0';
        p++;
        uuid_t u;
        if (klen == 6 && memcmp(k, "volume", 6) == 0 && slio_uuid_parse(val, u) == 0)
            slio_uuid_format(u, vol);
        if (p < end && *p == ',')
            p++;
    }
    if (p >= end)
        return false;
    *pp = p + 1;
    return vol[0] != '\0';
}

static int add_sample(json_t *acc, const char *vol, int fam, double v)
{
    json_t *o = json_object_get(acc, vol);
    if (!o && (json_object_set_new(acc, vol, o = json_object()) < 0 || !o))
        return -ENOMEM;
    double old = json_number_value(json_object_get(o, scrape_names[fam]));
    return json_object_set_new(o, scrape_names[fam], json_real(old + v)) < 0 ? -ENOMEM : 0;
}

static int parse_line(const char *p, const char *end, json_t *acc)
{
    char vol[SLIO_UUID_STR_LEN], num[64];
    const char *name = p;
    while (p < end && *p != '{' && *p != ' ')
        p++;
    int fam = family_of(name, (size_t)(p - name));
    if (fam < 0 || !parse_labels(&p, end, vol) || p >= end || *p != ' ')
        return 0;
    p++;
    size_t n = 0; /* text[0..len) need not be NUL-terminated: no strcspn past end */
    while (p + n < end && p[n] != ' ' && p[n] != '\n')
        n++;
    if (n == 0 || n >= sizeof(num))
        return 0;
    memcpy(num, p, n);
    num[n] = '\0';
    char *e;
    double v = strtod(num, &e);
    if (e != num + n || !isfinite(v) || v < 0)
        return 0;
    return add_sample(acc, vol, fam, v);
}

int scrape_parse(const char *text, size_t len, json_t *acc)
{
    const char *end = text + len;
    for (const char *p = text; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le - p < LINE_MAX_LEN && *p != '#') {
            int r = parse_line(p, le, acc);
            if (r < 0)
                return r;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    return slio_strbuf_append(arg, data, size * n) == 0 ? size * n : 0;
}

/* The handle for one GET of url, with the CA and the bearer token when given. */
static CURL *scrape_handle(const char *url, const struct scrape_auth *auth,
                           struct curl_slist **ret_hdrs, struct slio_strbuf *body)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    if (auth && auth->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, auth->ca_file);
    if (auth && auth->token) {
        _cleanup_free_ char *hdr = NULL;
        if (asprintf(&hdr, "Authorization: Bearer %s", auth->token) < 0 ||
            !(*ret_hdrs = curl_slist_append(NULL, hdr))) {
            curl_easy_cleanup(h);
            return NULL;
        }
        explicit_bzero(hdr, strlen(hdr));
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, *ret_hdrs);
    }
    return h;
}

int scrape_fetch(const char *agent_url, const struct scrape_auth *auth, json_t **ret,
                 struct slio_err *err)
{
    _cleanup_(slio_strbuf_freep) struct slio_strbuf body = SLIO_STRBUF_INIT(BODY_MAX);
    _cleanup_free_ char *url = NULL;
    struct curl_slist *hdrs = NULL;
    long status = 0;
    size_t ul = strlen(agent_url);
    if (asprintf(&url, "%.*s/metrics", (int)(ul && agent_url[ul - 1] == '/' ? ul - 1 : ul),
                 agent_url) < 0)
        return -ENOMEM;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        slio_err_set(err, "agent URL \"%s\" is not http(s)", agent_url);
        return -EINVAL;
    }
    CURL *h = scrape_handle(url, auth, &hdrs, &body);
    if (!h)
        return -ENOMEM;
    CURLcode cr = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    if (cr != CURLE_OK) {
        slio_err_set(err, "%s: %s", url, curl_easy_strerror(cr));
        return -EIO;
    }
    if (status != 200) {
        slio_err_set(err, "%s: HTTP %ld%s", url, status,
                     status == 401 ? " (the agent wants a token: --metrics-token-file)" : "");
        return -EIO;
    }
    json_t *acc = json_object();
    int r = acc ? scrape_parse(slio_strbuf_str(&body), slio_strbuf_len(&body), acc) : -ENOMEM;
    if (r < 0) {
        json_decref(acc);
        return r;
    }
    *ret = acc;
    return 0;
}
