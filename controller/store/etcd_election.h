/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leader election on etcd for the controllers of one cluster.
 *
 * Each candidate holds a lease (TTL lease_ttl_s, kept alive every third of
 * it) and campaigns with one txn: if the leader key does not exist
 * (create_revision == 0), put it = the advertised URL, attached to the lease;
 * otherwise read it (who leads). The winner leads while its lease lives; the
 * others watch the leader key and campaign again the moment it is deleted
 * (lease expired or revoked) — so a standby takes over at most TTL plus a
 * few round trips after the leader stopped renewing.
 *
 * Fencing: the leader key's create_revision identifies one term. Every store
 * txn of the leader carries the compare "leader key create_revision == my
 * term" (etcd_election_fence), so a write of a deposed leader — paused,
 * partitioned, its lease expired — fails in etcd instead of landing, even
 * if it still believes it leads. Locally, leadership also ends when the last
 * successful keep-alive is older than the TTL, before etcd can have expired
 * the lease.
 *
 * Threads: one campaign thread per election; every function may be called
 * from any thread.
 */
#ifndef SLIO_CONTROLLER_ETCD_ELECTION_H
#define SLIO_CONTROLLER_ETCD_ELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etcd_http.h"

struct etcd_election;

/* Starts campaigning at once. http is borrowed (outlives the election); leader_key is an
 * etcd key; url the advertised URL (printable, < 512 bytes). */
int etcd_election_start(struct etcd_http *http, const char *leader_key, const char *url,
                        uint32_t lease_ttl_s, struct etcd_election **ret,
                        struct slio_err *err) _must_check_;

/* Stop campaigning; a leader revokes its lease so a standby takes over at once. NULL ok. */
void etcd_election_stop(struct etcd_election *e);

/* Whether this process leads now; the leader's URL ("" when unknown) into ret_leader. */
bool etcd_election_is_leader(struct etcd_election *e, char *ret_leader, size_t leader_size);

/* Changes each time this process gains leadership. */
uint64_t etcd_election_epoch(struct etcd_election *e);

/* The term to fence a txn with (the leader key's create revision, store numbering):
 * false when this process does not lead now. */
bool etcd_election_fence(struct etcd_election *e, int64_t *ret_term);

/* A txn fenced with term found the leader key changed: that term is over. */
void etcd_election_lost(struct etcd_election *e, int64_t term);

#endif
