/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/fixture.h"
#include "slio/exec.h"
#include "slio/fileio.h"

static void mkdir_p(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(path, 0755);
            *p = '/';
        }
    (void)mkdir(path, 0755);
}

const char *node_fixture_path(struct node_fixture *f, const char *rel, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", f->root, rel);
    return buf;
}

void node_fixture_write(struct node_fixture *f, const char *rel, const char *text)
{
    char path[PATH_MAX + 64];
    node_fixture_path(f, rel, path, sizeof(path));
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir_p(path);
    *slash = '/';
    assert_int_equal(slio_write_file_atomic(path, text, strlen(text), 0644), 0);
}

void node_fixture_mounts(struct node_fixture *f, const char *text)
{
    node_fixture_write(f, "mountinfo", text);
}

void node_fixture_replay(struct node_fixture *f, const char *json)
{
    struct slio_err err = {0};
    node_fixture_write(f, "replay.json", json);
    snprintf(f->replay, sizeof(f->replay), "%s/replay.json", f->root);
    if (slio_exec_set_replay(f->replay, &err) < 0)
        fail_msg("replay: %s", err.text);
}

struct node_fixture *node_fixture_new(void)
{
    struct node_fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->root, sizeof(f->root), "/tmp/csi-node-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    struct csi_node_config *n = &f->ctx.node;
    f->ctx.mode = CSI_MODE_NODE;
    snprintf(n->node_id, sizeof(n->node_id), "n1");
    snprintf(n->host_nqn, sizeof(n->host_nqn), "nqn.2024-01.io.slite:node:n1");
    snprintf(n->sysfs_root, sizeof(n->sysfs_root), "%s/sys", f->root);
    snprintf(n->mountinfo, sizeof(n->mountinfo), "%s/mountinfo", f->root);
    snprintf(n->dev_root, sizeof(n->dev_root), "/dev");
    n->attach_timeout_ms = 1000;
    n->namespace_timeout_ms = 200;
    n->ctrl_loss_tmo_s = 60;
    n->reconnect_delay_s = 2;
    node_fixture_write(f, "sys/class/nvme/.keep", "");
    node_fixture_write(f, "sys/block/.keep", "");
    node_fixture_mounts(f, "");
    return f;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void node_fixture_free(struct node_fixture *f)
{
    struct slio_err err = {0};
    assert_int_equal(slio_exec_set_replay(NULL, &err), 0);
    assert_int_equal(nftw(f->root, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
    free(f);
}

int node_fixture_setup(void **state)
{
    *state = node_fixture_new();
    return 0;
}

int node_fixture_teardown(void **state)
{
    node_fixture_free(*state);
    return 0;
}
