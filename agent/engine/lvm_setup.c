/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening an lvm pool: loop devices for configured files, the VG (created,
 * extended with new devices, or adopted as it is) and the thin pool. Each
 * step looks first and changes only what is missing, so a restart (or a
 * crash half-way) converges. A device that already belongs to another VG is
 * never touched.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lvm_internal.h"

/* ---- loop files ---- */

static int loop_file_ensure(const struct agent_loop_file *f, struct slio_err *err)
{
    _cleanup_close_ int fd = open(f->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;

    if (fd < 0 || fstat(fd, &st) < 0) {
        int r = slio_neg_errno();
        slio_err_set(err, "loop file \"%s\": %s", f->path, strerror(-r));
        return r;
    }
    if (!S_ISREG(st.st_mode)) {
        slio_err_set(err, "loop file \"%s\": not a regular file", f->path);
        return -EINVAL;
    }
    /* a new file is sized sparse; an existing one only ever grows (never cut a PV) */
    if ((uint64_t)st.st_size < f->size && ftruncate(fd, (off_t)f->size) < 0) {
        int r = slio_neg_errno();
        slio_err_set(err, "loop file \"%s\": %s", f->path, strerror(-r));
        return r;
    }
    return 0;
}

static int loop_list(struct lvm_engine *e, struct lvm_loop **ret, size_t *ret_n,
                     struct slio_err *err)
{
    _cleanup_exec_result_ struct slio_exec_result res = {0};
    struct lvm_argv a = {0};
    int r;

    lvm_argv_add(&a, "losetup");
    lvm_argv_add(&a, "--json");
    lvm_argv_add(&a, "--list");
    lvm_argv_add(&a, "--output");
    lvm_argv_add(&a, "NAME,BACK-FILE");
    r = lvm_run_out(e, &a, &res, err);
    return r < 0 ? r : lvm_parse_losetup(res.out, res.out_len, ret, ret_n, err);
}

/* losetup reports the back file by its canonical path (the file exists by now). */
static const char *loop_of(const struct lvm_loop *loops, size_t n, const char *path)
{
    char real[PATH_MAX];

    if (!realpath(path, real))
        snprintf(real, sizeof(real), "%s", path);
    for (size_t i = 0; i < n; i++)
        if (strcmp(loops[i].back_file, real) == 0)
            return loops[i].name;
    return NULL;
}

/* Attach every loop file that is not attached yet; add the loop devices to *devs. */
static int loop_setup(struct lvm_engine *e, const struct agent_loop_file_list *files,
                      struct agent_str_list *devs, struct slio_err *err)
{
    _cleanup_free_ struct lvm_loop *loops = NULL;
    size_t n = 0;
    bool attached = false;
    int r;

    if (files->n == 0)
        return 0;
    for (size_t i = 0; i < files->n; i++)
        if ((r = loop_file_ensure(&files->items[i], err)) < 0)
            return r;
    if ((r = loop_list(e, &loops, &n, err)) < 0)
        return r;
    for (size_t i = 0; i < files->n; i++) {
        struct lvm_argv a = {0};
        if (loop_of(loops, n, files->items[i].path))
            continue;
        lvm_argv_add(&a, "losetup");
        lvm_argv_add(&a, "--find");
        lvm_argv_add(&a, "--nooverlap");
        lvm_argv_add(&a, files->items[i].path);
        if ((r = lvm_run(e, &a, err)) < 0)
            return r;
        attached = true;
    }
    if (attached) {
        free(TAKE_PTR(loops));
        if ((r = loop_list(e, &loops, &n, err)) < 0)
            return r;
    }
    for (size_t i = 0; i < files->n; i++) {
        const char *dev = loop_of(loops, n, files->items[i].path);
        if (!dev) {
            slio_err_set(err, "loop file \"%s\": no loop device after losetup",
                         files->items[i].path);
            return -EIO;
        }
        devs->items[devs->n] = strdup(dev);
        if (!devs->items[devs->n])
            return -ENOMEM;
        devs->n++;
    }
    return 0;
}

/* ---- the VG ---- */

static int pv_list(struct lvm_engine *e, struct lvm_pv **ret, size_t *ret_n, struct slio_err *err)
{
    _cleanup_exec_result_ struct slio_exec_result res = {0};
    struct lvm_argv a = {0};
    int r;

    lvm_argv_add(&a, "pvs");
    lvm_argv_add(&a, "--reportformat");
    lvm_argv_add(&a, "json");
    lvm_argv_add(&a, "--units");
    lvm_argv_add(&a, "b");
    lvm_argv_add(&a, "--nosuffix");
    lvm_argv_add(&a, "--options");
    lvm_argv_add(&a, LVM_PVS_FIELDS);
    r = lvm_run_out(e, &a, &res, err);
    return r < 0 ? r : lvm_parse_pvs(res.out, res.out_len, ret, ret_n, err);
}

/* The canonical name LVM reports for a configured device path (symlinks resolved). */
static void canonical(const char *path, char buf[static PATH_MAX])
{
    if (!realpath(path, buf))
        snprintf(buf, PATH_MAX, "%s", path);
}

/* Devices of devs not yet in our VG go to *ret_new; one in another VG is an error. */
static int devices_to_add(struct lvm_engine *e, const struct agent_str_list *devs,
                          struct lvm_argv *a, size_t *ret_new, struct slio_err *err)
{
    _cleanup_free_ struct lvm_pv *pvs = NULL;
    size_t n = 0, added = 0;
    int r = pv_list(e, &pvs, &n, err);

    if (r < 0)
        return r;
    for (size_t i = 0; i < devs->n; i++) {
        char dev[PATH_MAX];
        const struct lvm_pv *pv = NULL;

        canonical(devs->items[i], dev);
        for (size_t j = 0; j < n && !pv; j++)
            if (strcmp(pvs[j].name, dev) == 0 || strcmp(pvs[j].name, devs->items[i]) == 0)
                pv = &pvs[j];
        if (pv && pv->vg[0] && strcmp(pv->vg, e->vg) != 0) {
            slio_err_set(err, "pool \"%s\": device \"%s\" belongs to volume group \"%s\"", e->pool,
                         devs->items[i], pv->vg);
            return -EBUSY;
        }
        if (pv && strcmp(pv->vg, e->vg) == 0)
            continue;
        lvm_argv_add(a, devs->items[i]);
        added++;
    }
    *ret_new = added;
    return 0;
}

static int vg_build(struct lvm_engine *e, const struct agent_str_list *devs, bool exists,
                    struct slio_err *err)
{
    struct lvm_argv a = {0};
    size_t added = 0;
    int r;

    lvm_argv_add(&a, exists ? "vgextend" : "vgcreate");
    if (!exists)
        lvm_argv_addf(&a, "--addtag=" AGENT_TAG_POOL "%s", e->pool);
    lvm_argv_add(&a, e->vg);
    r = devices_to_add(e, devs, &a, &added, err);
    if (r < 0 || added == 0)
        return r;
    r = lvm_run(e, &a, err);
    if (r < 0)
        slio_err_prefix(err, "pool \"%s\"", e->pool);
    return r;
}

static int vg_setup(struct lvm_engine *e, const struct agent_lvm_config *l,
                    const struct agent_str_list *devs, struct slio_err *err)
{
    struct lvm_vg vg;
    int r = lvm_get_vg(e, &vg, err);

    if (r < 0 && (r != -ENOENT || l->adopt))
        return r;
    if (r == 0 && vg.tags.has_pool && strcmp(vg.tags.pool, e->pool) != 0) {
        slio_err_set(err, "pool \"%s\": volume group \"%s\" belongs to pool \"%s\"", e->pool, e->vg,
                     vg.tags.pool);
        return -EBUSY;
    }
    if (!l->adopt) {
        r = vg_build(e, devs, r == 0, err);
        if (r < 0 || (r = lvm_get_vg(e, &vg, err)) < 0)
            return r;
    }
    e->extent_size = vg.extent_size;
    return 0;
}

/* ---- the thin pool ---- */

static int thin_pool_setup(struct lvm_engine *e, struct slio_err *err)
{
    _cleanup_free_ struct lvm_lv *lvs = NULL;
    const struct lvm_lv *tp;
    struct lvm_argv a = {0};
    size_t n;
    int r;

    if (!e->thin_pool[0])
        return 0;
    if ((r = lvm_list_all(e, &lvs, &n, err)) < 0)
        return r;
    tp = lvm_find_name(lvs, n, e->thin_pool);
    if (tp && tp->attr[0] != 't') {
        slio_err_set(err, "pool \"%s\": LV \"%s\" exists and is not a thin pool", e->pool,
                     e->thin_pool);
        return -EEXIST;
    }
    if (tp)
        return 0;
    lvm_argv_add(&a, "lvcreate");
    lvm_argv_add(&a, "--yes");
    lvm_argv_add(&a, "--type");
    lvm_argv_add(&a, "thin-pool");
    lvm_argv_add(&a, "--name");
    lvm_argv_add(&a, e->thin_pool);
    if (e->thin_size)
        lvm_argv_addf(&a, "--size=%llub", (unsigned long long)e->thin_size);
    else
        lvm_argv_addf(&a, "--extents=%u%%VG", e->thin_size_percent);
    if (e->thin_meta_size)
        lvm_argv_addf(&a, "--poolmetadatasize=%llub", (unsigned long long)e->thin_meta_size);
    lvm_argv_addf(&a, "--addtag=" AGENT_TAG_POOL "%s", e->pool);
    lvm_argv_add(&a, e->vg);
    r = lvm_run(e, &a, err);
    if (r < 0)
        slio_err_prefix(err, "pool \"%s\": thin pool \"%s\"", e->pool, e->thin_pool);
    return r;
}

int lvm_setup(struct lvm_engine *e, const struct agent_pool_config *cfg, struct slio_err *err)
{
    const struct agent_lvm_config *l = &cfg->lvm;
    struct agent_str_list devs = {0};
    int r;

    devs.items = calloc(l->devices.n + l->loop_files.n + 1, sizeof(char *));
    if (!devs.items)
        return -ENOMEM;
    for (size_t i = 0; i < l->devices.n; i++) {
        devs.items[i] = strdup(l->devices.items[i]);
        if (!devs.items[i]) {
            r = -ENOMEM;
            goto out;
        }
        devs.n++;
    }
    r = loop_setup(e, &l->loop_files, &devs, err);
    if (r == 0)
        r = vg_setup(e, l, &devs, err);
    if (r == 0)
        r = thin_pool_setup(e, err);
out:
    for (size_t i = 0; i < devs.n; i++)
        free(devs.items[i]);
    free(devs.items);
    return r;
}
