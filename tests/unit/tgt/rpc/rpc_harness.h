/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixture and helpers shared by the RPC tests (rpc_test.c,
 * spdk_shape_test.c): a scratch directory with two files to back AIO bdevs,
 * and calls through tgt_rpc_stream_feed, over the real registry and the fakes
 * of tests/unit/tgt/registry.
 */
#ifndef TESTS_TGT_RPC_HARNESS_H
#define TESTS_TGT_RPC_HARNESS_H

#include <jansson.h>

#define NQN1 "nqn.2016-06.io.spdk:cnode1"
#define HOST "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-0000-0000-0000-000000000001"

/* The scratch directory and its two files: disk0 (4 MiB) and disk1 (1 MiB). */
extern char g_dir[64], g_file[128], g_file2[128];

/* cmocka setup: reset the fakes, create g_dir with g_file and g_file2. */
int setup(void **state);
/* cmocka teardown: drop the change hook, clear the registry, remove the files. */
int teardown(void **state);

/* Feed raw text; returns the responses as one JSON array (each response parsed). */
json_t *feed(const char *text, int *ret);
/* One call; returns the whole response object. */
json_t *rpc(const char *method, const char *params);
/* Call expecting success; returns a new reference to the result. */
json_t *ok(const char *method, const char *params);
/* Call expecting the result true. */
void ok_true(const char *method, const char *params);
/* Call expecting an error with this code whose message contains `needle`. */
void fails(const char *method, const char *params, int code, const char *needle);

/* Two AIO bdevs (one with QoS), a TCP transport, NQN1 with two namespaces, a
 * host and a listener, a discovery listener, and a second subsystem. */
void build_state(void);

/* Check supported_io_types against SPDK v23.01's, as an AIO bdev here does them. */
void check_io_types(json_t *types);
/* The integer member `key` of a bdev_get_iostat entry; fails if missing or not an integer. */
json_int_t stat_int(json_t *bdev, const char *key);
/* Check a bdev_get_iostat entry has SPDK v23.01's integer members and an empty io_error. */
void check_iostat_keys(json_t *bdev);

#endif
