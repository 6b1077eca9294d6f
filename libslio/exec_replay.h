/* SPDX-License-Identifier: Apache-2.0 */
/* Private to libslio: the replay test double behind slio_exec() (exec_replay.c). */
#ifndef SLIO_EXEC_REPLAY_H
#define SLIO_EXEC_REPLAY_H

#include "slio/exec.h"

#define EXEC_REPLAY_OFF 1

/*
 * When replay is on, answer argv from the recording: 0 with *ret filled, or
 * -ENOENT (not recorded). Returns EXEC_REPLAY_OFF when replay is off.
 */
int exec_replay_lookup(const char *const *argv, const struct slio_exec_opts *opts,
                       struct slio_exec_result *ret, struct slio_err *err);

#endif
