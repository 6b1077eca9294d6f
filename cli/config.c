/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the controller is and which token to send. Each setting is taken from
 * the first place that has it: the flag (--server, --token-file, --ca-file), then the
 * environment (SLIOCTL_SERVER, SLIOCTL_TOKEN_FILE, SLIOCTL_CA_FILE), then the config file
 * (--config, $SLIOCTL_CONFIG, else $XDG_CONFIG_HOME/slioctl/config.yaml or
 * ~/.config/slioctl/config.yaml; a missing default file is fine, a missing
 * named one is an error), then the default server http://127.0.0.1:8360 and
 * no token. The token itself is only ever read from a file, never a flag, so
 * it does not show in `ps`. The agents' /metrics token (--metrics-token-file,
 * SLIOCTL_METRICS_TOKEN_FILE, metrics_token_file:) is a file of its own: the
 * agents' URLs come from the controller, not from the operator, so the
 * controller token is never sent to them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "slio/cleanup.h"
#include "slio/config.h"
#include "slio/fileio.h"
#include "slio/json.h"

#define DEFAULT_SERVER "http://127.0.0.1:8360"
#define TOKEN_MAX      4096
#define MAX_URLS       16

struct file_config {
    json_t *server; /* "URL" or ["URL", ...] or "URL,URL" */
    const char *token_file;
    const char *ca_file;
    const char *metrics_token_file;
};

static const struct slio_json_field file_fields[] = {
    SLIO_JSON_FIELD(struct file_config, server, "server", SLIO_JSON_VALUE),
    SLIO_JSON_FIELD(struct file_config, token_file, "token_file", SLIO_JSON_STRING, .min = 1,
                    .max = 4096),
    SLIO_JSON_FIELD(struct file_config, ca_file, "ca_file", SLIO_JSON_STRING, .min = 1,
                    .max = 4096),
    SLIO_JSON_FIELD(struct file_config, metrics_token_file, "metrics_token_file", SLIO_JSON_STRING,
                    .min = 1, .max = 4096),
};

/* The token files to read once every source has been looked at. */
struct token_files {
    char *token, *metrics;
};

int cli_split_urls(const char *s, char ***ret, size_t *ret_n)
{
    _cleanup_free_ char *copy = strdup(s);
    char **urls = calloc(MAX_URLS + 1, sizeof(char *));
    size_t n = 0;
    if (!copy || !urls) {
        free(urls);
        return -ENOMEM;
    }
    for (char *p = copy, *comma; p; p = comma ? comma + 1 : NULL) {
        comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p || n == MAX_URLS || !(urls[n++] = strdup(p))) {
            for (size_t i = 0; i < n; i++)
                free(urls[i]);
            free(urls);
            return *p ? -ENOMEM : -EINVAL;
        }
    }
    *ret = urls;
    *ret_n = n;
    return 0;
}

/* The config file's "server": a string (maybe a comma list) or an array of strings. */
static int file_servers(const json_t *v, struct cli_conn *c, struct slio_err *err)
{
    if (json_is_string(v))
        return cli_split_urls(json_string_value(v), &c->urls, &c->n_urls);
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_URLS) {
        slio_err_set(err, "field 'server': expected a URL or a list of 1 to %d URLs", MAX_URLS);
        return -EINVAL;
    }
    c->urls = calloc(json_array_size(v) + 1, sizeof(char *));
    if (!c->urls)
        return -ENOMEM;
    for (size_t i = 0; i < json_array_size(v); i++) {
        const char *u = json_string_value(json_array_get(v, i));
        if (!u) {
            slio_err_set(err, "field 'server[%zu]': expected a string", i);
            return -EINVAL;
        }
        if (!(c->urls[c->n_urls++] = strdup(u)))
            return -ENOMEM;
    }
    return 0;
}

static int config_path(const struct cli_opts *o, char *buf, size_t len, bool *ret_named)
{
    const char *named = o->config ?: getenv("SLIOCTL_CONFIG");
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    *ret_named = named != NULL;
    if (named)
        snprintf(buf, len, "%s", named);
    else if (xdg && *xdg)
        snprintf(buf, len, "%s/slioctl/config.yaml", xdg);
    else if (home && *home)
        snprintf(buf, len, "%s/.config/slioctl/config.yaml", home);
    else
        return -ENOENT;
    return 0;
}

/* Read the config file (if any) into the settings the flags and environment left open. */
static int apply_file(const struct cli_opts *o, struct cli_conn *c, struct token_files *tf,
                      struct slio_err *err)
{
    char path[4096];
    bool named;
    if (config_path(o, path, sizeof(path), &named) < 0)
        return 0;
    if (!named && access(path, F_OK) < 0)
        return 0;
    _cleanup_json_ json_t *j = NULL;
    int r = slio_config_load_file(path, NULL, &j, err);
    if (r < 0)
        return r;
    struct file_config fc = {0};
    r = SLIO_JSON_DECODE(j, file_fields, &fc, 0, err);
    if (r == 0 && fc.server && !c->urls) {
        r = file_servers(fc.server, c, err);
        snprintf(c->source, sizeof(c->source), "config file");
    }
    if (r == 0 && fc.token_file && !tf->token && !(tf->token = strdup(fc.token_file)))
        r = -ENOMEM;
    if (r == 0 && fc.metrics_token_file && !tf->metrics &&
        !(tf->metrics = strdup(fc.metrics_token_file)))
        r = -ENOMEM;
    if (r == 0 && fc.ca_file && !c->ca_file && !(c->ca_file = strdup(fc.ca_file)))
        r = -ENOMEM;
    if (r < 0)
        slio_err_prefix(err, "config \"%s\"", path);
    return r;
}

static int read_token(const char *path, char **ret, struct slio_err *err)
{
    char *buf;
    size_t len;
    int r = slio_read_file(path, TOKEN_MAX, &buf, &len);
    if (r < 0) {
        slio_err_set(err, "token file \"%s\": %s", path,
                     r == -EFBIG ? "larger than 4 KiB" : strerror(-r));
        return r == -EFBIG ? -EINVAL : r;
    }
    while (len > 0 && isspace((unsigned char)buf[len - 1]))
        buf[--len] = '\0';
    if (len == 0 || strlen(buf) != len) {
        slio_err_set(err, "token file \"%s\": empty or not text", path);
        free(buf);
        return -EINVAL;
    }
    *ret = buf;
    return 0;
}

/* The first set, non-empty value of a flag or an environment variable, copied into *ret. */
static int take_setting(const char *flag, const char *env, char **ret)
{
    const char *v = flag ?: getenv(env);
    if (!v || !*v)
        return 0;
    return (*ret = strdup(v)) ? 0 : -ENOMEM;
}

static void token_files_clear(struct token_files *tf)
{
    free(tf->token);
    free(tf->metrics);
}

int cli_conn_resolve(const struct cli_opts *o, struct cli_conn *ret, struct slio_err *err)
{
    struct cli_conn c = {0};
    _cleanup_(token_files_clear) struct token_files tf = {0};
    const char *server = o->server ?: getenv("SLIOCTL_SERVER");
    int r = 0;

    if (server && *server) {
        snprintf(c.source, sizeof(c.source), o->server ? "--server" : "SLIOCTL_SERVER");
        r = cli_split_urls(server, &c.urls, &c.n_urls);
        if (r == -EINVAL)
            slio_err_set(err, "%s: \"%s\" has an empty URL", c.source, server);
    }
    if (r == 0)
        r = take_setting(o->token_file, "SLIOCTL_TOKEN_FILE", &tf.token);
    if (r == 0)
        r = take_setting(o->metrics_token_file, "SLIOCTL_METRICS_TOKEN_FILE", &tf.metrics);
    if (r == 0)
        r = take_setting(o->ca_file, "SLIOCTL_CA_FILE", &c.ca_file);
    if (r == 0)
        r = apply_file(o, &c, &tf, err);
    if (r == 0 && !c.urls) {
        snprintf(c.source, sizeof(c.source), "default");
        r = cli_split_urls(DEFAULT_SERVER, &c.urls, &c.n_urls);
    }
    if (r == 0 && tf.token)
        r = read_token(tf.token, &c.token, err);
    if (r == 0 && tf.metrics)
        r = read_token(tf.metrics, &c.metrics_token, err);
    if (r < 0) {
        if (r == -ENOMEM)
            slio_err_set(err, "out of memory");
        cli_conn_clear(&c);
        return r;
    }
    *ret = c;
    return 0;
}

static void wipe_free(char *secret)
{
    if (secret)
        explicit_bzero(secret, strlen(secret));
    free(secret);
}

void cli_conn_clear(struct cli_conn *c)
{
    for (size_t i = 0; c->urls && i < c->n_urls; i++)
        free(c->urls[i]);
    free(c->urls);
    wipe_free(c->token);
    wipe_free(c->metrics_token);
    free(c->ca_file);
    *c = (struct cli_conn){0};
}
