/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-volume I/O counters of an agent's /metrics (Prometheus text 0.0.4):
 * sliteio_volume_{read,write}_{ops,bytes,time_seconds}_total{volume="<uuid>",...}.
 * The text comes from the network: every line is bounded and validated, lines
 * of other families or that do not parse are skipped.
 */
#ifndef SLIO_CLI_SCRAPE_H
#define SLIO_CLI_SCRAPE_H

#include <jansson.h>
#include <stddef.h>

#include "slio/error.h"

enum {
    SCRAPE_READ_OPS,
    SCRAPE_WRITE_OPS,
    SCRAPE_READ_BYTES,
    SCRAPE_WRITE_BYTES,
    SCRAPE_READ_SECONDS,
    SCRAPE_WRITE_SECONDS,
    SCRAPE_N
};
extern const char *const scrape_names[SCRAPE_N]; /* "read_ops", ... */

/*
 * Parse text[0..len) and add each counter into *acc: {"<volume>": {"read_ops": n, ...}}
 * (samples of one volume through several paths are summed). 0 or -ENOMEM.
 */
int scrape_parse(const char *text, size_t len, json_t *acc);

/* How to reach the agents: both NULL = the system's CAs and no Authorization header. */
struct scrape_auth {
    const char *ca_file; /* CA bundle (PEM) for https:// agents */
    const char *token;   /* the agents' listen.token_file token (sent as a bearer token) */
};

/* GET url + "/metrics" (bounded to 16 MiB, 5 s), then scrape_parse into a new object.
 * -EIO (err names the URL and the curl error or the HTTP status), -EINVAL, -ENOMEM. */
int scrape_fetch(const char *agent_url, const struct scrape_auth *auth, json_t **ret,
                 struct slio_err *err);

#endif
