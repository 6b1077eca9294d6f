/* SPDX-License-Identifier: Apache-2.0 */
/* Until store/etcd.c exists (another helper's): say so instead of failing to link. */
#include "store.h"

int store_etcd_open(const struct store_etcd_opts *opts, struct store **ret, struct slio_err *err)
{
    slio_err_set(err, "the etcd store backend is not built in this version");
    return -EOPNOTSUPP;
}
