/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Memory files mapped for reads.
 *
 * A read of a file on tmpfs is a copy from pages already in RAM. Done with
 * read() or Linux AIO it costs a system call, a page-cache lookup per page
 * and a copy into the request buffer, and then sendmsg() copies the buffer
 * once more. Mapped once, the file's pages are sent from where they are: the
 * transport points the response's data at the mapping (tgt_bdev_mapped) and
 * the copy in sendmsg() is the only one (docs/performance.md, "Reads of
 * memory files from their pages").
 *
 * What keeps it safe:
 * - The mapping is read-only and shared: a write through the descriptor is
 *   seen by the next read at once (same pages). It lives as long as the
 *   bdev, and a request whose data points into it holds a bdev reference
 *   until its response has been sent.
 * - It covers the size of the file system, the most the file can grow to,
 *   so it never moves while sends use it; a rescan only changes which
 *   offsets tgt_bdev_mapped() hands out.
 * - Only the kernel reads it. A page that cannot be provided (the file was
 *   truncated behind the target's back, tmpfs is full) makes the copy in
 *   sendmsg() fail with EFAULT, which closes that one connection; the same
 *   read in user space would raise SIGBUS and end the target. So the
 *   transport copies as before when it must compute a data digest.
 * - A read of a hole through a mapping allocates the page (read() returns
 *   zeroes without allocating). Reads use the mapping only while the file
 *   system has room for the whole file, checked at creation and at every
 *   rescan, so that allocating a hole cannot run tmpfs out of space.
 */
#define SLIO_LOG_COMPONENT "tgt"

#include <errno.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "registry/registry_internal.h"
#include "slio/cleanup.h"
#include "slio/log.h"

/* The largest mapping made: only address space (page tables grow with what is read). */
#define BDEV_MAP_MAX (16ull << 40)

/* Could the file system hold the whole file, its holes allocated? */
static bool room_for_whole_file(int fd, const struct statfs *sf, uint64_t size)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return false;
    uint64_t allocated = (uint64_t)st.st_blocks * 512u;
    uint64_t avail = (uint64_t)sf->f_bavail * (uint64_t)sf->f_bsize;
    return size <= allocated || size - allocated <= avail;
}

static void set_map_reads(struct tgt_bdev *b, bool on)
{
    if (atomic_exchange(&b->map_reads, on) == on)
        return;
    if (on)
        log_info("bdev %s: reads are sent from the pages of \"%s\"", b->name, b->filename);
    else
        log_info("bdev %s: reads copy from \"%s\": its file system has no room for all of it "
                 "(a mapped read of a hole would allocate it)",
                 b->name, b->filename);
}

void bdev_map_init(struct tgt_bdev *b, uint64_t size)
{
    struct statfs sf;

    if (b->is_blockdev || fstatfs(b->fd, &sf) < 0)
        return;
    b->in_memory = sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC;
    if (sf.f_type != TMPFS_MAGIC) /* ramfs: no size to map up to, and nothing to check room on */
        return;
    /* a tmpfs mounted without a size limit reports 0 blocks: map the file as it is */
    uint64_t fs_size = (uint64_t)sf.f_blocks * (uint64_t)sf.f_bsize;
    uint64_t len = SLIO_MAX(size, SLIO_MIN(fs_size, BDEV_MAP_MAX));
    void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, b->fd, 0);
    if (p == MAP_FAILED) {
        log_info("bdev %s: reads copy from \"%s\": cannot map it (%s)", b->name, b->filename,
                 strerror(errno));
        return;
    }
    b->map = p;
    b->map_len = len;
    set_map_reads(b, room_for_whole_file(b->fd, &sf, size));
}

void bdev_map_update(struct tgt_bdev *b, uint64_t size)
{
    struct statfs sf;

    if (!b->map)
        return;
    set_map_reads(b, fstatfs(b->fd, &sf) == 0 && room_for_whole_file(b->fd, &sf, size));
}

void bdev_map_fini(struct tgt_bdev *b)
{
    if (!b->map)
        return;
    munmap((void *)b->map, b->map_len);
    b->map = NULL;
    atomic_store(&b->map_reads, false);
}
