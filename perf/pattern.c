/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pattern.h"
#include "slio/cleanup.h"

/* xorshift64*: cheap, and good enough to make every block's payload distinct */
static inline uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

static uint64_t stream_seed(uint64_t lba, uint64_t seed, uint64_t gen)
{
    uint64_t s = seed ^ (lba * 0x9e3779b97f4a7c15ull) ^ (gen * 0xbf58476d1ce4e5b9ull);

    return s ? s : 0x853c49e6748fea9bull;
}

static void fill_block(uint8_t *b, uint32_t lbs, uint64_t lba, uint64_t seed, uint64_t gen)
{
    struct perf_block_hdr h = {.magic = PERF_PATTERN_MAGIC, .lba = lba, .seed = seed, .gen = gen};
    uint64_t s = stream_seed(lba, seed, gen);

    memcpy(b, &h, sizeof(h));
    for (uint32_t off = sizeof(h); off + 8 <= lbs; off += 8) {
        uint64_t r = next_rand(&s);
        memcpy(b + off, &r, 8);
    }
}

void perf_pattern_fill(void *buf, uint32_t lbs, uint32_t nblocks, uint64_t lba, uint64_t seed,
                       uint64_t gen)
{
    for (uint32_t i = 0; i < nblocks; i++)
        fill_block((uint8_t *)buf + (size_t)i * lbs, lbs, lba + i, seed, gen);
}

enum perf_check perf_pattern_check(const void *block, uint32_t lbs, uint64_t lba, uint64_t min_gen,
                                   bool exact_gen, struct perf_block_hdr *ret_hdr)
{
    const uint8_t *b = block;
    struct perf_block_hdr h;

    memcpy(&h, b, sizeof(h));
    *ret_hdr = h;
    if (h.magic != PERF_PATTERN_MAGIC)
        return PERF_CHECK_NO_MAGIC;
    if (h.lba != lba)
        return PERF_CHECK_BAD_LBA;
    uint64_t s = stream_seed(h.lba, h.seed, h.gen);
    for (uint32_t off = sizeof(h); off + 8 <= lbs; off += 8) {
        uint64_t r = next_rand(&s);
        if (memcmp(b + off, &r, 8) != 0)
            return PERF_CHECK_CORRUPT;
    }
    if (exact_gen ? h.gen != min_gen : h.gen < min_gen)
        return PERF_CHECK_OLD_GEN;
    return PERF_CHECK_OK;
}

const char *perf_check_str(enum perf_check c)
{
    switch (c) {
    case PERF_CHECK_OK:
        return "ok";
    case PERF_CHECK_NO_MAGIC:
        return "no pattern header (block never written or overwritten)";
    case PERF_CHECK_BAD_LBA:
        return "header names another LBA (misplaced data)";
    case PERF_CHECK_CORRUPT:
        return "payload does not match its header (corrupt data)";
    case PERF_CHECK_OLD_GEN:
        return "stale generation (acknowledged write lost)";
    }
    return "?";
}

int perf_journal_append(int fd, uint64_t lba, uint32_t nblocks, uint64_t gen)
{
    struct perf_journal_rec rec = {
        .magic = PERF_JOURNAL_MAGIC, .lba = lba, .nblocks = nblocks, .gen = gen};
    ssize_t n = write(fd, &rec, sizeof(rec));

    if (n < 0)
        return slio_neg_errno();
    return n == (ssize_t)sizeof(rec) ? 0 : -EIO;
}

int perf_journal_load(const char *path, uint64_t first_lba, uint32_t unit_blocks, uint64_t nunits,
                      uint64_t **ret_gens, uint64_t *ret_records, char *err, size_t errlen)
{
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    struct perf_journal_rec rec;
    uint64_t n = 0;

    if (!f) {
        int r = slio_neg_errno();
        snprintf(err, errlen, "journal \"%s\": %s", path, strerror(-r));
        return r;
    }
    _cleanup_free_ uint64_t *gens = calloc(nunits ? nunits : 1, sizeof(*gens));
    if (!gens)
        return -ENOMEM;
    while (fread(&rec, sizeof(rec), 1, f) == 1) {
        uint64_t unit = (rec.lba - first_lba) / unit_blocks;
        if (rec.magic != PERF_JOURNAL_MAGIC || rec.lba < first_lba ||
            (rec.lba - first_lba) % unit_blocks != 0 || rec.nblocks != unit_blocks ||
            unit >= nunits) {
            snprintf(err, errlen,
                     "journal \"%s\": record %llu (LBA %llu, %u blocks) does not fit this run's "
                     "range/block size",
                     path, (unsigned long long)n, (unsigned long long)rec.lba, rec.nblocks);
            return -EINVAL;
        }
        if (rec.gen > gens[unit])
            gens[unit] = rec.gen;
        n++;
    }
    *ret_gens = TAKE_PTR(gens);
    *ret_records = n;
    return 0;
}
