/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store conformance suite: what every backend of controller/store/store.h
 * must do, as cmocka tests parameterised by a factory. A backend's test
 * program is one call:
 *
 *   static const struct store_factory etcd_factory = {"etcd", etcd_create, etcd_reopen, ...};
 *   return store_conformance_run(&etcd_factory);
 */
#ifndef SLIO_TEST_STORE_CONFORMANCE_H
#define SLIO_TEST_STORE_CONFORMANCE_H

#include "store/store.h"

struct store_factory {
    const char *name;
    /* A new, empty store (each test gets its own). */
    int (*create)(void *ctx, struct store **ret);
    /* The same data opened again, the previous handle already freed (durability). */
    int (*reopen)(void *ctx, struct store **ret);
    /* Remove what create made (after the handle is freed). */
    void (*destroy)(void *ctx);
    void *ctx;
};

/* Runs every conformance test against the factory's backend; cmocka's exit status. */
int store_conformance_run(const struct store_factory *f);

#endif
