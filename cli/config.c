/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the controller is and which token to send. Each setting is taken from
 * the first place that has it: the flag (--server, --token-file, --ca-file), then the
 * environment (SLIOCTL_SERVER, SLIOCTL_TOKEN_FILE, SLIOCTL_CA_FILE), then the config file
 * (--config, $SLIOCTL_CONFIG, else $XDG_CONFIG_HOME/slioctl/config.yaml or
 * ~/.config/slioctl/config.yaml; a missing default file is fine, a missing
 * named one is an error), then the default server http://127.0.0.1:8360 and
 * no token. The token itself is only ever read from a file, never a flag, so
 * it does not show in `ps`.
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
};

static const struct slio_json_field file_fields[] = {
    SLIO_JSON_FIELD(struct file_config, server, "server", SLIO_JSON_VALUE),
    SLIO_JSON_FIELD(struct file_config, token_file, "token_file", SLIO_JSON_STRING, .min = 1,
                    .max = 4096),
    SLIO_JSON_FIELD(struct file_config, ca_file, "ca_file", SLIO_JSON_STRING, .min = 1,
                    .max = 4096),
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
static int apply_file(const struct cli_opts *o, struct cli_conn *c, char **token_file,
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
    if (r == 0 && fc.token_file && !*token_file && !(*token_file = strdup(fc.token_file)))
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

int cli_conn_resolve(const struct cli_opts *o, struct cli_conn *ret, struct slio_err *err)
{
    struct cli_conn c = {0};
    _cleanup_free_ char *token_file = NULL;
    const char *server = o->server ?: getenv("SLIOCTL_SERVER");
    const char *tf = o->token_file ?: getenv("SLIOCTL_TOKEN_FILE");
    const char *ca = o->ca_file ?: getenv("SLIOCTL_CA_FILE");
    int r = 0;

    if (server && *server) {
        snprintf(c.source, sizeof(c.source), o->server ? "--server" : "SLIOCTL_SERVER");
        r = cli_split_urls(server, &c.urls, &c.n_urls);
        if (r == -EINVAL)
            slio_err_set(err, "%s: \"%s\" has an empty URL", c.source, server);
    }
    if (r == 0 && tf && *tf && !(token_file = strdup(tf)))
        r = -ENOMEM;
    if (r == 0 && ca && *ca && !(c.ca_file = strdup(ca)))
        r = -ENOMEM;
    if (r == 0)
        r = apply_file(o, &c, &token_file, err);
    if (r == 0 && !c.urls) {
        snprintf(c.source, sizeof(c.source), "default");
        r = cli_split_urls(DEFAULT_SERVER, &c.urls, &c.n_urls);
    }
    if (r == 0 && token_file)
        r = read_token(token_file, &c.token, err);
    if (r < 0) {
        if (r == -ENOMEM)
            slio_err_set(err, "out of memory");
        cli_conn_clear(&c);
        return r;
    }
    *ret = c;
    return 0;
}

void cli_conn_clear(struct cli_conn *c)
{
    for (size_t i = 0; c->urls && i < c->n_urls; i++)
        free(c->urls[i]);
    free(c->urls);
    if (c->token)
        explicit_bzero(c->token, strlen(c->token));
    free(c->token);
    free(c->ca_file);
    *c = (struct cli_conn){0};
}
