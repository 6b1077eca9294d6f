/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AIO bdevs: a regular file or a block device opened O_RDWR, with O_DIRECT
 * when the file system allows it (tmpfs does not), as SPDK's bdev_aio does.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/bdev_malloc.h"
#include "registry/registry_internal.h"
#include "slio/log.h"
#include "slio/uuid.h"

#define BDEV_MAX 4096 /* bdevs per target */

struct bdev_entry {
    struct tgt_bdev *b; /* the registry's reference */
    uint32_t claims;    /* namespaces using it */
};

static struct bdev_entry *g_bdevs;
static size_t g_nr_bdevs, g_cap_bdevs;

static struct bdev_entry *entry_find_locked(const char *name)
{
    for (size_t i = 0; i < g_nr_bdevs; i++)
        if (strcmp(g_bdevs[i].b->name, name) == 0)
            return &g_bdevs[i];
    return NULL;
}

struct tgt_bdev *bdev_find_locked(const char *name)
{
    struct bdev_entry *e = entry_find_locked(name);
    return e ? e->b : NULL;
}

static struct bdev_entry *entry_of_locked(const struct tgt_bdev *b)
{
    for (size_t i = 0; i < g_nr_bdevs; i++)
        if (g_bdevs[i].b == b)
            return &g_bdevs[i];
    return NULL;
}

void bdev_claim_locked(struct tgt_bdev *b)
{
    struct bdev_entry *e = entry_of_locked(b);
    if (e)
        e->claims++;
}

void bdev_unclaim_locked(struct tgt_bdev *b)
{
    struct bdev_entry *e = entry_of_locked(b);
    if (e && e->claims)
        e->claims--;
}

static void bdev_free(struct tgt_bdev *b)
{
    bdev_map_fini(b);
    if (b->fd >= 0)
        close(b->fd);
    qos_free(b->qos);
    free(b);
}

void tgt_bdev_put(struct tgt_bdev *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        log_debug("bdev %s: freed", b->name);
        bdev_free(b);
    }
}

struct tgt_bdev *tgt_bdev_find_get(const char *name)
{
    pthread_mutex_lock(&tgt_registry_lock);
    struct tgt_bdev *b = bdev_find_locked(name);
    if (b)
        atomic_fetch_add(&b->refs, 1);
    pthread_mutex_unlock(&tgt_registry_lock);
    return b;
}

/* Size in bytes and logical block size of an open file or block device. */
static int probe_size(int fd, bool *ret_blockdev, uint64_t *ret_size, uint32_t *ret_lbs)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return slio_neg_errno();
    if (S_ISBLK(st.st_mode)) {
        uint64_t size;
        int lbs;
        if (ioctl(fd, BLKGETSIZE64, &size) < 0 || ioctl(fd, BLKSSZGET, &lbs) < 0)
            return slio_neg_errno();
        *ret_blockdev = true;
        *ret_size = size;
        *ret_lbs = lbs > 0 ? (uint32_t)lbs : 512;
        return 0;
    }
    if (!S_ISREG(st.st_mode))
        return -ENODEV;
    *ret_blockdev = false;
    *ret_size = (uint64_t)st.st_size;
    *ret_lbs = 512;
    return 0;
}

static int open_backing(const char *filename, bool *ret_direct, int *ret_fd)
{
    int fd = open(filename, O_RDWR | O_DIRECT | O_CLOEXEC);

    if (fd >= 0) {
        *ret_direct = true;
        *ret_fd = fd;
        return 0;
    }
    /* tmpfs and some FUSE file systems refuse O_DIRECT with EINVAL */
    if (errno != EINVAL)
        return slio_neg_errno();
    fd = open(filename, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return slio_neg_errno();
    *ret_direct = false;
    *ret_fd = fd;
    return 0;
}

static bool valid_block_size(uint32_t bs)
{
    return bs >= 512 && bs <= 4096 && (bs & (bs - 1)) == 0;
}

/* fd >= 0: a RAM bdev's memory file (bdev_malloc.c), which has no filename. */
static int check_opts(const struct tgt_bdev_opts *o, int fd, struct slio_err *err)
{
    size_t n = o->name ? strlen(o->name) : 0;

    if (n == 0 || n > TGT_NAME_MAX) {
        slio_err_set(err, "bdev name must be 1 to %d characters long", TGT_NAME_MAX);
        return -EINVAL;
    }
    if (fd < 0 && (!o->filename || !o->filename[0] ||
                   strlen(o->filename) >= sizeof(((struct tgt_bdev *)0)->filename))) {
        slio_err_set(err, "bdev %s: filename must be 1 to 4095 characters long", o->name);
        return -EINVAL;
    }
    if (o->block_size && !valid_block_size(o->block_size)) {
        slio_err_set(err, "bdev %s: block_size %u is not a power of two in [512, 4096]", o->name,
                     o->block_size);
        return -EINVAL;
    }
    return 0;
}

/*
 * Open and size the backing of a new bdev (no registry lock: open may be
 * slow). fd >= 0 is an open memory file to adopt instead (consumed).
 */
static int bdev_open(const struct tgt_bdev_opts *o, int fd, struct slio_err *err,
                     struct tgt_bdev **ret)
{
    struct tgt_bdev *b = calloc(1, sizeof(*b));
    uint64_t size;
    uint32_t lbs;
    int r;

    if (!b || !(b->qos = qos_new())) {
        free(b);
        if (fd >= 0)
            close(fd);
        slio_err_set(err, "bdev %s: out of memory", o->name);
        return -ENOMEM;
    }
    b->fd = fd;
    memcpy(b->name, o->name, strlen(o->name) + 1);
    if (fd < 0)
        memcpy(b->filename, o->filename, strlen(o->filename) + 1);
    r = fd >= 0 ? 0 : open_backing(o->filename, &b->direct, &b->fd);
    if (r < 0) {
        slio_err_set(err, "bdev %s: cannot open \"%s\": %s", o->name, o->filename, strerror(-r));
        goto out_free;
    }
    r = probe_size(b->fd, &b->is_blockdev, &size, &lbs);
    if (r < 0) {
        slio_err_set(err, "bdev %s: \"%s\" is not a regular file or block device (%s)", o->name,
                     o->filename, strerror(-r));
        goto out_free;
    }
    b->block_size = o->block_size ? o->block_size : lbs;
    if (b->block_size < lbs || !valid_block_size(b->block_size)) {
        slio_err_set(err,
                     "bdev %s: block_size %u is smaller than the logical block size %u of \"%s\"",
                     o->name, b->block_size, lbs, o->filename);
        r = -EINVAL;
        goto out_free;
    }
    if (size / b->block_size == 0) {
        slio_err_set(err, "bdev %s: \"%s\" is smaller than one block of %u bytes", o->name,
                     o->filename, b->block_size);
        r = -EINVAL;
        goto out_free;
    }
    atomic_init(&b->num_blocks, size / b->block_size);
    if (o->uuid)
        memcpy(b->uuid, o->uuid, 16);
    else
        slio_uuid_generate(b->uuid);
    /* files go through the page cache or the disk's cache: both need Flush */
    b->write_cache = true;
    atomic_init(&b->refs, 1);
    bdev_map_init(b, size);
    *ret = b;
    return 0;

out_free:
    bdev_free(b);
    return r;
}

static int insert_locked(struct tgt_bdev *b, struct slio_err *err)
{
    if (entry_find_locked(b->name)) {
        slio_err_set(err, "bdev %s already exists", b->name);
        return -EEXIST;
    }
    if (g_nr_bdevs >= BDEV_MAX) {
        slio_err_set(err, "bdev %s: too many bdevs (at most %d)", b->name, BDEV_MAX);
        return -ENOSPC;
    }
    if (g_nr_bdevs == g_cap_bdevs) {
        size_t cap = g_cap_bdevs ? g_cap_bdevs * 2 : 16;
        struct bdev_entry *n = realloc(g_bdevs, cap * sizeof(*n));
        if (!n) {
            slio_err_set(err, "bdev %s: out of memory", b->name);
            return -ENOMEM;
        }
        g_bdevs = n;
        g_cap_bdevs = cap;
    }
    g_bdevs[g_nr_bdevs++] = (struct bdev_entry){.b = b};
    return 0;
}

static int bdev_create(const struct tgt_bdev_opts *o, int fd, struct slio_err *err,
                       struct tgt_bdev **ret)
{
    struct tgt_bdev *b;
    int r = check_opts(o, fd, err);

    if (r < 0) {
        if (fd >= 0)
            close(fd);
        return r;
    }
    /* cheap early check so that a duplicate name does not even open the file */
    pthread_mutex_lock(&tgt_registry_lock);
    bool dup = entry_find_locked(o->name) != NULL;
    pthread_mutex_unlock(&tgt_registry_lock);
    if (dup) {
        if (fd >= 0)
            close(fd);
        slio_err_set(err, "bdev %s already exists", o->name);
        return -EEXIST;
    }
    r = bdev_open(o, fd, err, &b);
    if (r < 0)
        return r;
    pthread_mutex_lock(&tgt_registry_lock);
    r = insert_locked(b, err);
    if (r == 0 && ret)
        atomic_fetch_add(&b->refs, 1);
    pthread_mutex_unlock(&tgt_registry_lock);
    if (r < 0) {
        tgt_bdev_put(b);
        return r;
    }
    log_info("bdev %s: \"%s\" %s, %" PRIu64 " blocks of %u bytes%s", b->name, b->filename,
             fd >= 0          ? "memory"
             : b->is_blockdev ? "block device"
                              : "file",
             tgt_bdev_num_blocks(b), b->block_size, b->direct ? ", O_DIRECT" : ", buffered");
    if (ret)
        *ret = b;
    return 0;
}

int tgt_bdev_create_ex(const struct tgt_bdev_opts *o, struct slio_err *err, struct tgt_bdev **ret)
{
    return bdev_create(o, -1, err, ret);
}

int bdev_create_on_fd(const struct tgt_bdev_opts *o, int fd, struct slio_err *err,
                      struct tgt_bdev **ret)
{
    return bdev_create(o, fd, err, ret);
}

int tgt_bdev_create(const char *name, const char *filename, uint32_t block_size,
                    struct tgt_bdev **ret)
{
    struct tgt_bdev_opts o = {.name = name, .filename = filename, .block_size = block_size};
    struct slio_err err = {{0}};
    int r = tgt_bdev_create_ex(&o, &err, ret);

    if (r < 0)
        log_error("%s", err.text);
    return r;
}

int tgt_bdev_delete_ex(const char *name, struct slio_err *err)
{
    struct tgt_bdev *b = NULL;
    int r = 0;

    pthread_mutex_lock(&tgt_registry_lock);
    struct bdev_entry *e = entry_find_locked(name);
    if (!e) {
        slio_err_set(err, "bdev %s not found", name);
        r = -ENODEV;
    } else if (e->claims) {
        slio_err_set(err, "bdev %s is used by %u namespace(s)", name, e->claims);
        r = -EBUSY;
    } else {
        b = e->b;
        g_nr_bdevs--;
        memmove(e, e + 1, (size_t)(&g_bdevs[g_nr_bdevs] - e) * sizeof(*e));
    }
    pthread_mutex_unlock(&tgt_registry_lock);
    if (b) {
        log_info("bdev %s: deleted", name);
        tgt_bdev_put(b);
    }
    return r;
}

int tgt_bdev_delete(const char *name)
{
    struct slio_err err = {{0}};
    int r = tgt_bdev_delete_ex(name, &err);

    if (r < 0)
        log_error("%s", err.text);
    return r;
}

int tgt_bdev_rescan_ex(const char *name, struct slio_err *err)
{
    struct tgt_bdev *b = tgt_bdev_find_get(name);
    uint64_t size;
    uint32_t lbs;
    bool blk;

    if (!b) {
        slio_err_set(err, "bdev %s not found", name);
        return -ENODEV;
    }
    int r = probe_size(b->fd, &blk, &size, &lbs);
    if (r < 0) {
        slio_err_set(err, "bdev %s: cannot read the size of \"%s\": %s", name, b->filename,
                     strerror(-r));
        tgt_bdev_put(b);
        return r;
    }
    uint64_t blocks = size / b->block_size;
    bdev_map_update(b, size);
    uint64_t old = atomic_exchange(&b->num_blocks, blocks);
    if (old != blocks) {
        log_info("bdev %s: resized from %" PRIu64 " to %" PRIu64 " blocks", name, old, blocks);
        subsys_notify_bdev_resized(b);
    }
    tgt_bdev_put(b);
    return 0;
}

int tgt_bdev_rescan(const char *name)
{
    struct slio_err err = {{0}};
    int r = tgt_bdev_rescan_ex(name, &err);

    if (r < 0)
        log_error("%s", err.text);
    return r;
}

void tgt_bdev_for_each(void (*fn)(struct tgt_bdev *b, bool claimed, void *ctx), void *ctx)
{
    pthread_mutex_lock(&tgt_registry_lock);
    for (size_t i = 0; i < g_nr_bdevs; i++)
        fn(g_bdevs[i].b, g_bdevs[i].claims > 0, ctx);
    pthread_mutex_unlock(&tgt_registry_lock);
}

void bdev_clear_all(void)
{
    pthread_mutex_lock(&tgt_registry_lock);
    struct bdev_entry *list = g_bdevs;
    size_t n = g_nr_bdevs;
    g_bdevs = NULL;
    g_nr_bdevs = g_cap_bdevs = 0;
    pthread_mutex_unlock(&tgt_registry_lock);
    for (size_t i = 0; i < n; i++)
        tgt_bdev_put(list[i].b);
    free(list);
}
