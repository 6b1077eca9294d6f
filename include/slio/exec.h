/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one seam through which SLiteIO runs external commands (lvm, nvme,
 * mkfs, mount, ...). Commands are argv vectors, never shell strings. Output is
 * captured with a cap per stream, a timeout sends SIGTERM to the child's
 * process group and SIGKILL after a grace period.
 *
 * Test double: slio_exec_set_replay() loads a recording (argv → stdout,
 * stderr, exit status) and from then on slio_exec() answers from it without
 * running anything; an argv that is not recorded fails with -ENOENT and an
 * error naming the argv. Recording file format (JSON):
 *
 *   {"calls": [
 *     {"argv": ["lvs", "--reportformat", "json"],   (required)
 *      "stdin": "...",              (optional: if present the input must match)
 *      "stdout": "...", "stderr": "...",            (default "")
 *      "exit": 0,                   (default 0)
 *      "signal": 0, "timed_out": false}             (default 0 / false)
 *   ]}
 *
 * Entries with the same argv are used in file order; once all were used the
 * last one keeps answering (so "lvs" after "lvcreate" can see the new LV,
 * and repeated polls see the final state).
 *
 * Thread-safe; the replay switch is process-wide.
 */
#ifndef SLIO_EXEC_H
#define SLIO_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "slio/cleanup.h"
#include "slio/error.h"

#define SLIO_EXEC_OUTPUT_MAX_DEFAULT (1u << 20) /* per stream */
#define SLIO_EXEC_KILL_GRACE_MS      2000

struct slio_exec_opts {
    const void *stdin_data; /* NULL: stdin is /dev/null */
    size_t stdin_len;
    int timeout_ms;    /* <= 0: no timeout */
    int kill_grace_ms; /* SIGTERM → SIGKILL delay; 0: SLIO_EXEC_KILL_GRACE_MS */
    size_t max_output; /* cap per stream; 0: SLIO_EXEC_OUTPUT_MAX_DEFAULT */
    char *const *envp; /* NULL: inherit the environment */
};

struct slio_exec_result {
    int exit_code; /* exit status if the child exited, else -1 */
    int signal;    /* signal that killed it, else 0 */
    bool timed_out;
    char *out; /* NUL-terminated (may contain NULs); never NULL on success */
    size_t out_len;
    bool out_truncated; /* more than max_output bytes were written (and dropped) */
    char *err;
    size_t err_len;
    bool err_truncated;
};

/*
 * Run argv[0] (looked up in $PATH when it has no '/') with argv and wait for
 * it. Returns 0 when the command ran, whatever its exit status — check
 * slio_exec_succeeded() — and fills *ret (free with slio_exec_result_free).
 * Returns -ENOENT/-EACCES/... when it could not be started (or the replay
 * has no entry for argv), with the reason in err (may be NULL).
 */
int slio_exec(const char *const *argv, const struct slio_exec_opts *opts,
              struct slio_exec_result *ret, struct slio_err *err) _must_check_;
void slio_exec_result_free(struct slio_exec_result *r);
static inline void slio_exec_result_freep(struct slio_exec_result *r)
{
    slio_exec_result_free(r);
}
#define _cleanup_exec_result_ _cleanup_(slio_exec_result_freep)

/* Exited with status 0, not killed, not timed out. */
bool slio_exec_succeeded(const struct slio_exec_result *r);
/* "exited with status 3", "killed by signal 9 (Killed)", "timed out (killed by signal 15 ...)". */
const char *slio_exec_describe(const struct slio_exec_result *r, char *buf, size_t len);
/* "lvs --reportformat json" (for messages; arguments with spaces are quoted). */
const char *slio_exec_format_argv(const char *const *argv, char *buf, size_t len);

/* Answer every slio_exec() from the recording at path; NULL switches replay off. */
int slio_exec_set_replay(const char *path, struct slio_err *err) _must_check_;

#endif
