/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration files, YAML or JSON, loaded into one jansson json_t shape so
 * that the same slio/json.h decoder table validates a config file and an API
 * body.
 *
 * YAML is read with libyaml and typed like the YAML 1.2 core schema: plain
 * scalars null/~/empty → null, true/false → boolean, 12 / 0x1f / 0o17 →
 * integer (64-bit), 1.5 / 1e3 → real; quoted and block scalars are always
 * strings. Refused, with "line L column C: why": anchors and aliases (no
 * billion laughs), tags other than !!str, duplicate keys, non-scalar keys,
 * several documents, .inf/.nan, NUL characters, and anything over the limits.
 */
#ifndef SLIO_CONFIG_H
#define SLIO_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#include "slio/cleanup.h"
#include "slio/error.h"

struct slio_config_limits {
    size_t max_bytes;   /* 0: SLIO_CONFIG_MAX_BYTES */
    unsigned max_depth; /* nesting of mappings/sequences; 0: SLIO_CONFIG_MAX_DEPTH */
    size_t max_nodes;   /* scalars + mappings + sequences; 0: SLIO_CONFIG_MAX_NODES */
};

#define SLIO_CONFIG_MAX_BYTES (4u << 20)
#define SLIO_CONFIG_MAX_DEPTH 64
#define SLIO_CONFIG_MAX_NODES 200000

/*
 * Parse YAML text (lim may be NULL). An empty stream gives an empty object.
 * Returns 0, -EINVAL (err says where and why), -EMSGSIZE (too big) or -ENOMEM.
 */
int slio_config_load_yaml(const char *buf, size_t len, const struct slio_config_limits *lim,
                          json_t **ret, struct slio_err *err) _must_check_;

/*
 * Load a config file: ".json" files with jansson, ".yaml"/".yml" with libyaml,
 * others by content (JSON when the first non-blank byte is '{' or '[').
 * Errors are prefixed with the quoted path; -EFBIG when over max_bytes.
 */
int slio_config_load_file(const char *path, const struct slio_config_limits *lim, json_t **ret,
                          struct slio_err *err) _must_check_;

#endif
