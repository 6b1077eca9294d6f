/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A real etcd for tests: /usr/bin/etcd (or $SLIO_ETCD) on 127.0.0.1 with free
 * client and peer ports and a temporary data directory, started and waited
 * for by polling its /health (bounded), killed at the end. A missing etcd is
 * a failure, never a skip.
 */
#ifndef SLIO_TEST_ETCD_FIXTURE_H
#define SLIO_TEST_ETCD_FIXTURE_H

#include <sys/types.h>

struct etcd_proc {
    pid_t pid;
    char dir[64];        /* the data directory's parent (log, data) */
    char client_url[64]; /* http://127.0.0.1:<port> */
    char peer_url[64];
};

/* Start a fresh single-member etcd; 0 or a negative errno (reason on stderr). */
int etcd_proc_start(struct etcd_proc *e);
/* Stop it with SIGKILL and start it again on the same data and ports. */
int etcd_proc_restart(struct etcd_proc *e);
/* SIGKILL, reap, remove the data directory. */
void etcd_proc_stop(struct etcd_proc *e);

#endif
