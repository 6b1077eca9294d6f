/* SPDX-License-Identifier: Apache-2.0 */
/* The fake target of the exporter tests (fake_tgt.h). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_tgt.h"

static void serve_one(struct fake *f, int fd)
{
    char buf[65536];
    size_t len = 0;
    json_t *req = NULL, *ans, *err, *resp;
    const char *method;

    while (!req && len < sizeof(buf)) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - len);
        if (n <= 0)
            return;
        len += (size_t)n;
        req = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, NULL);
    }
    method = json_string_value(json_object_get(req, "method"));
    pthread_mutex_lock(&f->lock);
    json_array_append_new(f->calls, json_pack("[s, O?]", method, json_object_get(req, "params")));
    char emethod[128];
    snprintf(emethod, sizeof(emethod), "!%s", method);
    err = json_object_get(f->answers, emethod);
    ans = json_object_get(f->answers, method);
    if (f->refuse_member && json_object_get(json_object_get(req, "params"), f->refuse_member))
        err = json_pack("{s:i, s:s}", "code", -32603, "message", "spdk_json_decode_object failed");
    else if (err)
        json_incref(err);
    if (err)
        resp = json_pack("{s:s, s:O, s:O}", "jsonrpc", "2.0", "id", json_object_get(req, "id"),
                         "error", err);
    else
        resp = json_pack("{s:s, s:O, s:O}", "jsonrpc", "2.0", "id", json_object_get(req, "id"),
                         "result", ans ? ans : json_true());
    pthread_mutex_unlock(&f->lock);
    json_decref(err);
    char *text = json_dumps(resp, JSON_COMPACT);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    free(text);
    json_decref(resp);
    json_decref(req);
}

static void *serve(void *arg)
{
    struct fake *f = arg;
    int fd;

    while ((fd = accept(f->lfd, NULL, NULL)) >= 0) {
        serve_one(f, fd);
        close(fd);
    }
    return NULL;
}

struct fake *fake_start(void)
{
    struct fake *f = calloc(1, sizeof(*f));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char dir[] = "/tmp/agent-tgt-XXXXXX";

    assert_non_null(mkdtemp(dir));
    snprintf(f->path, sizeof(f->path), "%s/tgt.sock", dir);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
    f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(f->lfd, 16), 0);
    f->answers = json_object();
    f->calls = json_array();
    pthread_mutex_init(&f->lock, NULL);
    pthread_create(&f->thread, NULL, serve, f);
    return f;
}

void fake_stop(struct fake *f)
{
    char *slash;

    shutdown(f->lfd, SHUT_RDWR);
    close(f->lfd);
    pthread_join(f->thread, NULL);
    unlink(f->path);
    slash = strrchr(f->path, '/');
    *slash = '\0';
    rmdir(f->path);
    json_decref(f->answers);
    json_decref(f->calls);
    free(f);
}

struct agent_exporter *exporter_in(struct fake *f, bool spdk, const char *keys_dir)
{
    struct agent_exporter_opts o = {.socket = f->path,
                                    .keys_dir = keys_dir,
                                    .spdk = spdk,
                                    .timeout_ms = 5000,
                                    .addr = {.traddr = "127.0.0.2", .trsvcid = "4420"}};
    struct agent_exporter *x;

    assert_int_equal(agent_exporter_slio_tgt_new(&o, &x), 0);
    return x;
}

/* The methods called, comma-separated. */
char *methods(struct fake *f)
{
    static char out[2048];
    size_t i;
    json_t *c;

    out[0] = '\0';
    json_array_foreach (f->calls, i, c) {
        size_t n = strlen(out);
        snprintf(out + n, sizeof(out) - n, "%s%s", n ? "," : "",
                 json_string_value(json_array_get(c, 0)));
    }
    return out;
}

json_t *params_of(struct fake *f, const char *method, unsigned nth)
{
    size_t i;
    json_t *c;

    json_array_foreach (f->calls, i, c)
        if (strcmp(json_string_value(json_array_get(c, 0)), method) == 0 && nth-- == 0)
            return json_array_get(c, 1);
    return NULL;
}
