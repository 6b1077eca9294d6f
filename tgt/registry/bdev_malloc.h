/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RAM bdevs, SPDK's bdev_malloc: what every SPDK tutorial and test starts
 * with, and a disk for demos and tests that needs no file. The memory is a
 * memfd of num_blocks × block_size bytes, allocated at creation as SPDK
 * allocates its buffer, which the registry then serves like any memory file
 * (in_memory: I/O on the reactor; reads sent from its pages, bdev_map.c).
 * Its contents go with the bdev. A RAM bdev has an empty filename, which no
 * AIO bdev can have.
 *
 * Thread rules as registry_mgmt.h: management thread, -errno and err text.
 */
#ifndef TGT_REGISTRY_BDEV_MALLOC_H
#define TGT_REGISTRY_BDEV_MALLOC_H

#include "registry/registry_mgmt.h"

#define TGT_MALLOC_NAME_PREFIX "Malloc" /* names given when none is asked, as SPDK: Malloc0... */

struct tgt_malloc_opts {
    const char *name; /* NULL: the first free "MallocN" */
    uint64_t num_blocks;
    uint32_t block_size; /* 512, 1024, 2048 or 4096 */
    const uint8_t *uuid; /* NULL: generate one */
};
/* Create a RAM bdev; its name in ret_name (size TGT_NAME_MAX + 1). -EINVAL, -EEXIST, -ENOMEM. */
int tgt_bdev_malloc_create(const struct tgt_malloc_opts *o, struct slio_err *err,
                           char ret_name[static TGT_NAME_MAX + 1]) _must_check_;
/* Delete a RAM bdev: -ENODEV if there is none of that name (an AIO bdev included), -EBUSY. */
int tgt_bdev_malloc_delete(const char *name, struct slio_err *err) _must_check_;

static inline bool tgt_bdev_is_malloc(const struct tgt_bdev *b)
{
    return b->filename[0] == '\0';
}

/* bdev.c, for bdev_malloc.c only: a bdev over an open memory file, fd consumed. */
int bdev_create_on_fd(const struct tgt_bdev_opts *o, int fd, struct slio_err *err,
                      struct tgt_bdev **ret) _must_check_;

#endif
