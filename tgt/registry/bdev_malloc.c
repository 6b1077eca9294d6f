/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RAM bdevs (bdev_malloc.h): a memfd, sized and allocated here, handed to
 * bdev.c as the bdev's open backing. Allocating up front (fallocate) makes
 * a RAM bdev fail at creation rather than at a write when memory is short,
 * as SPDK's does, and lets reads be sent from its pages at once (bdev_map.c
 * maps a memory file only while every page can exist).
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "registry/bdev_malloc.h"
#include "registry/registry_internal.h"

#define MALLOC_MAX_BYTES (1ull << 40) /* far beyond any test; fallocate decides below */

static bool valid_block_size(uint32_t bs)
{
    return bs >= 512 && bs <= 4096 && (bs & (bs - 1)) == 0;
}

/* The first MallocN not taken (SPDK counts up from Malloc0). */
static int free_name(char out[static TGT_NAME_MAX + 1])
{
    for (unsigned i = 0; i < 100000; i++) {
        snprintf(out, TGT_NAME_MAX + 1, TGT_MALLOC_NAME_PREFIX "%u", i);
        struct tgt_bdev *b = tgt_bdev_find_get(out);
        if (!b)
            return 0;
        tgt_bdev_put(b);
    }
    return -ENOSPC;
}

static int check(const struct tgt_malloc_opts *o, const char *name, struct slio_err *err)
{
    if (o->num_blocks == 0) {
        slio_err_set(err, "bdev %s: num_blocks must be greater than 0", name);
        return -EINVAL;
    }
    if (!valid_block_size(o->block_size)) {
        slio_err_set(err, "bdev %s: block_size %u is not a power of two in [512, 4096]", name,
                     o->block_size);
        return -EINVAL;
    }
    if (o->num_blocks > MALLOC_MAX_BYTES / o->block_size) {
        slio_err_set(err, "bdev %s: %" PRIu64 " blocks of %u bytes is more than 1 TiB", name,
                     o->num_blocks, o->block_size);
        return -EINVAL;
    }
    return 0;
}

/*
 * A memfd of size bytes, every page allocated; -ENOMEM when memory is short.
 * The kernel's own mount for memfds has no size limit, so fallocate alone
 * would push the node into swap or the OOM killer: ask no more than the
 * memory free now.
 */
static int memory_file(const char *name, uint64_t size, struct slio_err *err, int *ret_fd)
{
    long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t avail = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;

    if (size > avail) {
        slio_err_set(err, "bdev %s: %" PRIu64 " bytes asked, %" PRIu64 " bytes of memory free",
                     name, size, avail);
        return -ENOMEM;
    }
    int fd = memfd_create(name, MFD_CLOEXEC);

    if (fd < 0) {
        int r = slio_neg_errno();
        slio_err_set(err, "bdev %s: memfd_create: %s", name, strerror(-r));
        return r;
    }
    if (ftruncate(fd, (off_t)size) < 0 || fallocate(fd, 0, 0, (off_t)size) < 0) {
        int r = slio_neg_errno();
        close(fd);
        slio_err_set(err, "bdev %s: cannot allocate %" PRIu64 " bytes of memory: %s", name, size,
                     strerror(-r));
        return r == -ENOSPC ? -ENOMEM : r;
    }
    *ret_fd = fd;
    return 0;
}

int tgt_bdev_malloc_create(const struct tgt_malloc_opts *o, struct slio_err *err,
                           char ret_name[static TGT_NAME_MAX + 1])
{
    char name[TGT_NAME_MAX + 1];
    int fd, r;

    if (o->name && (!o->name[0] || strlen(o->name) > TGT_NAME_MAX)) {
        slio_err_set(err, "bdev name must be 1 to %d characters long", TGT_NAME_MAX);
        return -EINVAL;
    }
    if (o->name)
        memcpy(name, o->name, strlen(o->name) + 1);
    else if ((r = free_name(name)) < 0) {
        slio_err_set(err, "no free " TGT_MALLOC_NAME_PREFIX "N name");
        return r;
    }
    r = check(o, name, err);
    if (r == 0)
        r = memory_file(name, o->num_blocks * o->block_size, err, &fd);
    if (r < 0)
        return r;
    struct tgt_bdev_opts bo = {.name = name, .block_size = o->block_size, .uuid = o->uuid};
    r = bdev_create_on_fd(&bo, fd, err, NULL);
    if (r < 0)
        return r;
    memcpy(ret_name, name, strlen(name) + 1);
    return 0;
}

int tgt_bdev_malloc_delete(const char *name, struct slio_err *err)
{
    struct tgt_bdev *b = tgt_bdev_find_get(name);
    bool is_malloc = b && tgt_bdev_is_malloc(b);

    tgt_bdev_put(b);
    if (!is_malloc) {
        slio_err_set(err, "bdev %s: no RAM bdev of that name", name);
        return -ENODEV;
    }
    return tgt_bdev_delete_ex(name, err);
}
