/* SPDX-License-Identifier: Apache-2.0 */
/* What the engines share and the agent does not need: names, tags, the data copy. */
#ifndef AGENT_ENGINE_INTERNAL_H
#define AGENT_ENGINE_INTERNAL_H

#include "engine.h"

#define AGENT_LV_NAME_MAX   127           /* LVM's limit for VG and LV names */
#define AGENT_LOOP_FILE_MIN (64ull << 20) /* smallest loop file worth a PV */
#define AGENT_LV_PREFIX     "slio-"       /* volumes: slio-<uuid> */
#define AGENT_SNAP_PREFIX   "slio-snap-"  /* snapshots: slio-snap-<uuid> */
#define AGENT_TAG_MAX       128           /* our tags are far below LVM's 1024 */
#define AGENT_NAME_HINT_MAX 64            /* slio.name=<hint> is cut here */
#define AGENT_COPY_CHUNK    (1u << 20)    /* data copy unit */
#define AGENT_SECTOR        512ull

/* LVM VG/LV name rules: [A-Za-z0-9+_.-], not starting with '-', not "." or "..". */
bool agent_lvm_name_valid(const char *s);
/* Pool names: [A-Za-z0-9][A-Za-z0-9_.-]{0,62} (also valid in LVM tags and file names). */
bool agent_pool_name_valid(const char *s);

/* "slio-<uuid>" or "slio-snap-<uuid>". */
void agent_lv_name(enum agent_vol_kind kind, const uuid_t uuid, char buf[static AGENT_NAME_MAX]);
/* The name hint with every character LVM refuses in tags replaced by '_', cut at
 * AGENT_NAME_HINT_MAX bytes; "" for NULL. */
void agent_name_hint_sanitise(const char *hint, char buf[static AGENT_NAME_HINT_MAX + 1]);

/* Round bytes up to a multiple of unit (unit > 0); UINT64_MAX if that overflows. */
uint64_t agent_round_up(uint64_t bytes, uint64_t unit);

/*
 * Copy total bytes from src_fd to dst_fd (both from offset 0), calling
 * progress every 64 MiB and once at the end. skip_zero: leave all-zero chunks
 * unwritten (the destination already reads zeroes: a fresh thin LV or a
 * sparse file) — holes in a regular source file are skipped with SEEK_DATA.
 * fdatasync at the end. -errno with the side that failed named in err.
 */
int agent_copy_data(int src_fd, int dst_fd, uint64_t total, bool skip_zero,
                    agent_progress_fn progress, void *progress_ctx, struct slio_err *err);

/*
 * Run argv through slio_exec (timeout_ms, output capped at max_output) and
 * report its latency to the observer. Returns 0 when the command ran and
 * exited 0; -EIO with "lvcreate: exited with status 5: <first stderr line>"
 * when it ran and failed — in both cases *ret is filled and the caller frees
 * it (_cleanup_exec_result_, zero-initialised); slio_exec's own error (nothing
 * in *ret) when it could not run. Output truncated at the cap is -EIO too.
 */
struct slio_exec_result;
int agent_run(const char *const *argv, int timeout_ms, size_t max_output,
              struct slio_exec_result *ret, struct slio_err *err);

#endif
