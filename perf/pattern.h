/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verification pattern and the journal of acknowledged writes.
 *
 * Every logical block written in verify/journal modes starts with a header
 * (magic, LBA, seed, generation) followed by a pseudo-random stream derived
 * from those three values, so a block read back can be checked on its own:
 * right place (LBA), intact content (stream), new enough (generation).
 *
 * Journal: one 32-byte record per acknowledged write, appended with a single
 * write(2) after the completion (with FUA) arrived. A later
 * `verify --journal` checks each recorded block holds that generation or a
 * newer one (a write still in flight at the crash may legitimately have
 * landed as well).
 */
#ifndef SLIO_PERF_PATTERN_H
#define SLIO_PERF_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PERF_PATTERN_MAGIC 0x4652455050494c53ull /* "SLIPPERF" */

struct perf_block_hdr {
    uint64_t magic;
    uint64_t lba;
    uint64_t seed;
    uint64_t gen;
};

enum perf_check {
    PERF_CHECK_OK = 0,
    PERF_CHECK_NO_MAGIC, /* never written with this tool (or garbage) */
    PERF_CHECK_BAD_LBA,  /* header names another LBA: misplaced write */
    PERF_CHECK_CORRUPT,  /* header fine, payload differs from its stream */
    PERF_CHECK_OLD_GEN,  /* intact, but older than the acknowledged generation */
};

/* Fill nblocks blocks of lbs bytes starting at lba. */
void perf_pattern_fill(void *buf, uint32_t lbs, uint32_t nblocks, uint64_t lba, uint64_t seed,
                       uint64_t gen);
/*
 * Check one block: header for lba, payload, gen >= min_gen (exact when
 * exact_gen). *ret_hdr receives the header found (for the report).
 */
enum perf_check perf_pattern_check(const void *block, uint32_t lbs, uint64_t lba, uint64_t min_gen,
                                   bool exact_gen, struct perf_block_hdr *ret_hdr);
const char *perf_check_str(enum perf_check c);

struct perf_journal_rec {
    uint64_t magic;
    uint64_t lba;
    uint32_t nblocks;
    uint32_t rsvd;
    uint64_t gen;
};

#define PERF_JOURNAL_MAGIC 0x4c4e524a4f494c53ull /* "SLIOJRNL" */

/* Append one record (one write(2) on an O_APPEND fd: atomic between threads). */
int perf_journal_append(int fd, uint64_t lba, uint32_t nblocks, uint64_t gen);
/*
 * Read a journal and return the highest acknowledged generation per I/O unit
 * of unit_blocks blocks: (*ret_gens)[unit] (0: never acknowledged). Records
 * outside nunits units or malformed are an error; a torn final record is
 * ignored. *ret_gens is malloc'ed.
 */
int perf_journal_load(const char *path, uint64_t first_lba, uint32_t unit_blocks, uint64_t nunits,
                      uint64_t **ret_gens, uint64_t *ret_records, char *err, size_t errlen);

#endif
