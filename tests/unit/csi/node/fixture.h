/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake node for the node-half tests: a temp dir with sys/class/nvme,
 * sys/block, an empty mountinfo file and dirs to stage and publish on; the
 * exec replay double answers every command from a recording the test writes.
 */
#ifndef CSI_TEST_NODE_FIXTURE_H
#define CSI_TEST_NODE_FIXTURE_H

#include <limits.h>

#include "csi.h"

struct node_fixture {
    char root[PATH_MAX];
    char replay[PATH_MAX + 16];
    struct csi_ctx ctx;
};

struct node_fixture *node_fixture_new(void);
void node_fixture_free(struct node_fixture *f);
/* cmocka setup/teardown: *state is a fresh fixture, freed after the test. */
int node_fixture_setup(void **state);
int node_fixture_teardown(void **state);
/* Write root/<rel> (parents made), e.g. "sys/class/nvme/nvme1/state" → "live\n". */
void node_fixture_write(struct node_fixture *f, const char *rel, const char *text);
/* Absolute path of root/<rel> into buf. */
const char *node_fixture_path(struct node_fixture *f, const char *rel, char *buf, size_t len);
/* Replace mountinfo's content. */
void node_fixture_mounts(struct node_fixture *f, const char *text);
/* Activate a recording: JSON text {"calls": [...]} (see slio/exec.h). */
void node_fixture_replay(struct node_fixture *f, const char *json);

#endif
